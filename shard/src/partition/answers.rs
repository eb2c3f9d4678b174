//! What each kind of call expects back: the one response that answers it, else the error
//! the response carries (or an unexpected-response error).

use crate::error::ShardError;
use crate::messages::Response;
use crate::value::{ColumnMeta, Outcome};

pub(super) fn columns(response: Response) -> Result<Vec<ColumnMeta>, ShardError> {
    match response {
        Response::Columns(c) => Ok(c),
        other => Err(other.unexpected()),
    }
}

pub(super) fn tables_of(response: Response) -> Result<Vec<(String, Vec<ColumnMeta>)>, ShardError> {
    match response {
        Response::Tables(t) => Ok(t),
        other => Err(other.unexpected()),
    }
}

pub(super) fn outcome(response: Response) -> Result<Outcome, ShardError> {
    match response {
        Response::Outcome(o) => Ok(o),
        other => Err(other.unexpected()),
    }
}

pub(super) fn done(response: Response) -> Result<(), ShardError> {
    match response {
        Response::Done => Ok(()),
        other => Err(other.unexpected()),
    }
}
