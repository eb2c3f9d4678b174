//! COPY FROM STDIN's messages: CopyData rows into the session's COPY, CopyDone commits
//! (outside a block), CopyFail and oversized messages undo the rows so far.

use std::fmt::Debug;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::ClientInfo;
use pgwire::api::copy::CopyHandler;
use pgwire::api::results::Tag;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};

use crate::error::SqlError;
use crate::protocol::handlers::{Handlers, session_of};

#[async_trait]
impl CopyHandler for Handlers {
    async fn on_copy_data<C>(&self, client: &mut C, data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        let mut state = session.state.lock().await;
        let result = state.copy_data(&session, &data.data).await;
        if result.is_err() {
            let _ = state.close_implicit(&session, false).await;
        }
        client.set_transaction_status(state.transaction_status());
        Ok(result?)
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        let mut state = session.state.lock().await;
        let result = state.copy_done(&session).await;
        let closed = state.close_implicit(&session, result.is_ok()).await;
        client.set_transaction_status(state.transaction_status());
        let rows = result?;
        closed?;
        let tag = Tag::new("COPY").with_rows(rows as usize);
        client
            .feed(PgWireBackendMessage::CommandComplete(tag.into()))
            .await?;
        Ok(())
    }

    async fn on_copy_fail<C>(&self, client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let error = SqlError::new("57014", format!("COPY from stdin failed: {}", fail.message));
        abort_copy_in(client, error).await.into()
    }
}

/// Ends a COPY FROM STDIN with `error` (the client's CopyFail, a message over the size
/// limit): the rows so far are undone.
pub(crate) async fn abort_copy_in<C: ClientInfo>(client: &mut C, error: SqlError) -> SqlError {
    let Ok(session) = session_of(client) else {
        return SqlError::new("08P01", "COPY before startup");
    };
    let mut state = session.state.lock().await;
    let error = state.abort_copy(error);
    let _ = state.close_implicit(&session, false).await;
    client.set_transaction_status(state.transaction_status());
    error
}
