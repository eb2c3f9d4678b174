//! SQL cursors (DECLARE, FETCH, MOVE, CLOSE): a query's rows the session keeps and hands
//! out in order, as Django's `iterator()`, psycopg's named cursors and SQLAlchemy's
//! `yield_per` read large results. A cursor declared in a block reads with the block (its
//! rows come whole, as the block's reads do); one WITH HOLD declared outside a block
//! streams from a reader as FETCH takes its rows. A cursor moves forward only; without
//! HOLD it ends with its block.

use std::collections::HashMap;

use litescale_shard::{ColumnMeta, RowStream, Rows, Value};

use crate::error::SqlError;

/// The session's open cursors, by name.
#[derive(Default)]
pub(crate) struct Cursors(HashMap<String, Cursor>);

struct Cursor {
    columns: Vec<ColumnMeta>,
    source: Source,
    hold: bool,
}

/// What a cursor's query answered: its rows, or a reader's stream of them.
pub(crate) enum Answered {
    Whole(Rows),
    Streamed(RowStream),
}

enum Source {
    Rows(std::vec::IntoIter<Vec<Value>>),
    Stream(RowStream),
}

impl Cursors {
    /// 42P03 when `name` is taken, before its query runs.
    pub(crate) fn check_free(&self, name: &str) -> Result<(), SqlError> {
        if self.0.contains_key(name) {
            return Err(SqlError::new(
                "42P03",
                format!("cursor \"{name}\" already exists"),
            ));
        }
        Ok(())
    }

    /// Keeps the rows the cursor's query answered.
    pub(crate) fn declare(
        &mut self,
        name: &str,
        hold: bool,
        answered: Answered,
    ) -> Result<(), SqlError> {
        self.check_free(name)?;
        let (columns, source) = match answered {
            Answered::Whole(rows) => (rows.columns, Source::Rows(rows.rows.into_iter())),
            Answered::Streamed(rows) => (rows.columns.clone(), Source::Stream(rows)),
        };
        self.0.insert(
            name.to_owned(),
            Cursor {
                columns,
                source,
                hold,
            },
        );
        Ok(())
    }

    /// The cursor's next `count` rows (`None`: all that are left).
    pub(crate) async fn fetch(&mut self, name: &str, count: Option<u64>) -> Result<Rows, SqlError> {
        let cursor = self.0.get_mut(name).ok_or_else(|| missing(name))?;
        let limit = count.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let mut rows = Vec::new();
        while rows.len() < limit {
            let next = match &mut cursor.source {
                Source::Rows(rows) => rows.next(),
                Source::Stream(stream) => stream.rows.recv().await.transpose()?,
            };
            match next {
                Some(row) => rows.push(row),
                None => break,
            }
        }
        Ok(Rows {
            columns: cursor.columns.clone(),
            rows,
        })
    }

    /// The columns of the cursor's rows (34000 when there is no such cursor).
    pub(crate) fn columns(&self, name: &str) -> Result<&[ColumnMeta], SqlError> {
        self.0
            .get(name)
            .map(|c| c.columns.as_slice())
            .ok_or_else(|| missing(name))
    }

    /// CLOSE name, or CLOSE ALL (`None`).
    pub(crate) fn close(&mut self, name: Option<&str>) -> Result<(), SqlError> {
        match name {
            Some(name) => self.0.remove(name).map(drop).ok_or_else(|| missing(name)),
            None => {
                self.0.clear();
                Ok(())
            }
        }
    }

    /// The block ended: its cursors without HOLD end with it.
    pub(crate) fn block_ended(&mut self) {
        self.0.retain(|_, c| c.hold);
    }
}

fn missing(name: &str) -> SqlError {
    SqlError::new("34000", format!("cursor \"{name}\" does not exist"))
}
