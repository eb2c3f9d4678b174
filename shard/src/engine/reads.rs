//! Serving the requests that only read, on any connection: a reader's, or the writer's
//! for a read inside a transaction.

use rusqlite::Connection;

use crate::engine::long_running::{note_long, stop_noting_long};
use crate::engine::statements::{describe, run, table_columns};
use crate::error::ShardError;
use crate::interrupt::Interrupter;
use crate::messages::Request;
use crate::messages::Response;

/// Serves a request that only reads.
pub(crate) fn serve_reader(
    c: &Connection,
    request: &Request,
    interrupter: &Interrupter,
    max_result_bytes: usize,
) -> Response {
    serve_read(c, request, interrupter, max_result_bytes).unwrap_or_else(Response::Error)
}

/// Serves a read, with `long` called once if it passes `INLINE_STEPS` steps.
pub(crate) fn serve_reader_noting_long(
    c: &mut Connection,
    request: &Request,
    interrupter: &Interrupter,
    max_result_bytes: usize,
    long: fn(),
) -> Response {
    if let Err(e) = note_long(c, long) {
        return Response::Error(e);
    }
    let response = serve_reader(c, request, interrupter, max_result_bytes);
    stop_noting_long(c);
    response
}

pub(crate) fn serve_read(
    c: &Connection,
    request: &Request,
    interrupter: &Interrupter,
    max_result_bytes: usize,
) -> Result<Response, ShardError> {
    Ok(match request {
        Request::Read {
            sql,
            params,
            budget,
        } => {
            let max_result_bytes = budget
                .and_then(|b| usize::try_from(b).ok())
                .map_or(max_result_bytes, |b| b.min(max_result_bytes));
            Response::MaybeOutcome(run(c, sql, params, interrupter, true, max_result_bytes)?)
        }
        Request::Describe { sql } => Response::Columns(describe(c, sql)?),
        Request::TableColumns { tables } => Response::Tables(table_columns(c, tables)?),
        other => {
            return Err(ShardError::new(
                "25006",
                format!("a reader cannot serve {}", request_name(other)),
            ));
        }
    })
}

fn request_name(request: &Request) -> String {
    let debug = format!("{request:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Outcome, Value};

    fn read(sql: &str) -> Request {
        Request::Read {
            sql: sql.to_owned(),
            params: Vec::new(),
            budget: None,
        }
    }

    thread_local! {
        static LONG_CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    fn count_long() {
        LONG_CALLS.with(|n| n.set(n.get() + 1));
    }

    fn long_calls_during(job: impl FnOnce()) -> u32 {
        LONG_CALLS.with(|n| n.set(0));
        job();
        LONG_CALLS.with(|n| n.get())
    }

    #[test]
    fn a_short_read_run_again_and_again_on_its_cached_statement_is_never_taken_for_long() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one')",
        )
        .unwrap();
        let interrupter = Interrupter::default();
        let point = read("SELECT v FROM t WHERE id = 1");
        let calls = long_calls_during(|| {
            for _ in 0..5_000 {
                let r =
                    serve_reader_noting_long(&mut c, &point, &interrupter, usize::MAX, count_long);
                assert!(matches!(r, Response::MaybeOutcome(Some(Outcome::Rows(_)))));
            }
        });
        assert_eq!(calls, 0);
    }

    #[test]
    fn a_long_read_is_noted_once_and_runs_to_its_end() {
        let mut c = Connection::open_in_memory().unwrap();
        let interrupter = Interrupter::default();
        let long = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) \
                    SELECT count(*) FROM n";
        let calls = long_calls_during(|| {
            match serve_reader_noting_long(
                &mut c,
                &read(long),
                &interrupter,
                usize::MAX,
                count_long,
            ) {
                Response::MaybeOutcome(Some(Outcome::Rows(r))) => {
                    assert_eq!(r.rows, vec![vec![Value::Integer(1_000_000)]]);
                }
                other => panic!("{other:?}"),
            }
        });
        assert_eq!(calls, 1);
        // The handler is gone afterwards.
        let calls = long_calls_during(|| {
            serve_reader(&c, &read(long), &interrupter, usize::MAX);
        });
        assert_eq!(calls, 0);
    }
}
