//! A session's planned statements by query text, so a repeated statement is not parsed
//! again; the one statement the extended protocol's Parse takes.

use std::sync::Arc;

use litescale_router::PlannedStatement;
use lru::LruCache;
use tokio::sync::OnceCell;

use crate::error::SqlError;
use crate::session::plans::describe::Prepared;
use crate::session::plans::off_lane::{ON_LANE_BYTES, plan_off_lane};
use crate::session::state::Session;

impl Session {
    /// The planned statements of a query string, from the cache when seen before. A long
    /// text plans off the lane, and `timeout` (statement_timeout) or a cancel ends the wait
    /// for it with 57014.
    pub async fn plan(
        &self,
        sql: &str,
        timeout: Option<std::time::Duration>,
    ) -> Result<Arc<Vec<PlannedStatement>>, SqlError> {
        if sql.len() > self.max_query_bytes {
            return Err(SqlError::new(
                "54000",
                format!(
                    "statement is too long: {} bytes, more than [limits] max_query_bytes ({})",
                    sql.len(),
                    self.max_query_bytes
                ),
            ));
        }
        // pgwire decodes query text lossily: bytes that are not UTF-8 arrive as U+FFFD.
        // Running such a query would store or match something the client never sent.
        if sql.contains(char::REPLACEMENT_CHARACTER) {
            return Err(SqlError::new(
                "22021",
                "invalid byte sequence for encoding \"UTF8\" in the query text (a U+FFFD character in query text is refused too: it cannot be told apart; send it as a parameter)",
            ));
        }
        if let Some(p) = self.lock_plans().get(sql) {
            return Ok(Arc::clone(p));
        }
        let planned = Arc::new(if sql.len() <= ON_LANE_BYTES {
            litescale_router::plan_in(sql, &self.context)?
        } else {
            plan_off_lane(self, sql, timeout).await?
        });
        let mut cache = self.lock_plans();
        if cache.len() >= self.plan_cache {
            cache.pop_lru();
        }
        cache.put(sql.to_owned(), Arc::clone(&planned));
        Ok(planned)
    }

    fn lock_plans(
        &self,
    ) -> std::sync::MutexGuard<'_, LruCache<String, Arc<Vec<PlannedStatement>>>> {
        self.plans.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Plans a statement for the extended protocol, which takes exactly one.
    pub async fn prepare(
        &self,
        sql: &str,
        timeout: Option<std::time::Duration>,
    ) -> Result<Prepared, SqlError> {
        let plans = self.plan(sql, timeout).await?;
        if plans.len() != 1 {
            return Err(SqlError::new(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        Ok(Prepared {
            plans,
            described: OnceCell::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use litescale_config::PartitionMap;
    use litescale_router::SessionContext;

    use crate::session::interrupts::cancel::CancelTarget;
    use crate::session::settings::Settings;
    use crate::session::state::Session;
    use litescale_config::Config;

    fn session(dir: &std::path::Path) -> Session {
        let config = Config {
            data_dir: dir.to_owned(),
            ..Config::default()
        };
        let storage =
            litescale_shard::Storage::open(&config, &["db"], crate::server::shared::type_catalog())
                .unwrap();
        Session::new(
            storage.database("db").unwrap(),
            Arc::new(PartitionMap::single()),
            Arc::default(),
            SessionContext::default(),
            Arc::new(CancelTarget::default()),
            Settings::new(None),
            &litescale_config::LimitsConfig {
                statement_cache: 2,
                ..Default::default()
            },
        )
    }

    #[tokio::test]
    async fn a_repeated_statement_is_parsed_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path());
        let first = s.plan("SELECT 1", None).await.unwrap();
        let again = s.plan("SELECT 1", None).await.unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "second plan came from the cache"
        );
        // The cache is bounded: older entries make room for newer ones.
        s.plan("SELECT 2", None).await.unwrap();
        s.plan("SELECT 3", None).await.unwrap();
        assert!(!Arc::ptr_eq(
            &first,
            &s.plan("SELECT 1", None).await.unwrap()
        ));
    }

    #[tokio::test]
    async fn prepare_takes_exactly_one_statement() {
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path());
        assert!(s.prepare("SELECT 1", None).await.is_ok());
        assert_eq!(
            s.prepare("SELECT 1; SELECT 2", None)
                .await
                .err()
                .unwrap()
                .sqlstate,
            "42601"
        );
    }
}
