//! A streamed result as its consumer sees it (`RowStream`: the columns, then rows through
//! a bounded channel), and the forwarding of the engine's stream responses into it, from a
//! reader thread in process or from a worker's link.

use crate::error::ShardError;
use crate::messages::Response;
use crate::value::{ColumnMeta, Value};

/// A query's result, arriving row by row.
#[derive(Debug)]
pub struct RowStream {
    pub columns: Vec<ColumnMeta>,
    pub rows: tokio::sync::mpsc::Receiver<Result<Vec<Value>, ShardError>>,
}

/// Turns a stream's responses (columns, row batches, end) into a [`RowStream`]'s channels.
pub(crate) struct StreamForward {
    pub(crate) columns: Option<tokio::sync::oneshot::Sender<Result<Vec<ColumnMeta>, ShardError>>>,
    pub(crate) rows: tokio::sync::mpsc::Sender<Result<Vec<Value>, ShardError>>,
}

impl StreamForward {
    pub(crate) fn blocking_send(&mut self, response: Response) -> bool {
        match self.route(response) {
            Routed::Columns(ok) => ok,
            Routed::Rows(rows) => rows
                .into_iter()
                .all(|row| self.rows.blocking_send(row).is_ok()),
            Routed::Stop => false,
        }
    }

    /// Passes one response on; false when the receiver is gone or the stream ended.
    pub(crate) async fn send(&mut self, response: Response) -> bool {
        match self.route(response) {
            Routed::Columns(ok) => ok,
            Routed::Rows(rows) => {
                for row in rows {
                    if self.rows.send(row).await.is_err() {
                        return false;
                    }
                }
                true
            }
            Routed::Stop => false,
        }
    }

    fn route(&mut self, response: Response) -> Routed {
        match response {
            Response::Columns(c) => match self.columns.take() {
                Some(tx) => Routed::Columns(tx.send(Ok(c)).is_ok()),
                None => Routed::Stop,
            },
            Response::Rows(rows) => Routed::Rows(rows.into_iter().map(Ok).collect()),
            Response::End => Routed::Stop,
            Response::Error(e) => match self.columns.take() {
                Some(tx) => {
                    let _ = tx.send(Err(e));
                    Routed::Stop
                }
                None => Routed::Rows(vec![Err(e)]),
            },
            other => Routed::Rows(vec![Err(other.unexpected())]),
        }
    }
}

enum Routed {
    Columns(bool),
    Rows(Vec<Result<Vec<Value>, ShardError>>),
    Stop,
}
