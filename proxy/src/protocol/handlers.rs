//! The protocol handlers of one server, as pgwire asks for them, and what every handler
//! shares: the client's session, field descriptions, errors and notices before a result.

use std::fmt::Debug;
use std::sync::Arc;

use futures::{Sink, SinkExt};
use litescale_router::PgType;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::api::{ClientInfo, PgWireServerHandlers, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::NoticeResponse;
use pgwire::messages::startup::ParameterStatus;

use crate::error::SqlError;
use crate::server::shared::Server;
use crate::session::execute::reply::Reply;
use crate::session::interrupts::cancel::CancelRegistry;
use crate::session::state::Session;

/// All protocol handlers of one server; cheap to share between connections.
pub struct Handlers {
    pub(crate) server: Arc<Server>,
}

pub(crate) fn session_of<C: ClientInfo>(client: &C) -> PgWireResult<Arc<Session>> {
    client
        .session_extensions()
        .get::<Session>()
        .ok_or_else(|| SqlError::new("08P01", "query before startup completed").into())
}

/// A notification as the client is told it.
pub(crate) fn notification_message(
    n: &crate::session::notifications::Notification,
) -> PgWireBackendMessage {
    PgWireBackendMessage::NotificationResponse(
        pgwire::messages::response::NotificationResponse::new(
            n.sender,
            n.channel.clone(),
            n.payload.clone(),
        ),
    )
}

pub(super) fn pg_type(t: PgType) -> Type {
    Type::from_oid(t.oid()).unwrap_or(Type::TEXT)
}

/// A RowDescription field: its name, type, type modifier (`varchar(n)`'s length, as
/// Postgres sends a table column's; -1 where there is none) and format.
pub(super) fn field(name: &str, t: PgType, typmod: i32, format: FieldFormat) -> FieldInfo {
    FieldInfo::new(name.to_owned(), None, None, pg_type(t), format).with_type_modifier(typmod)
}

/// Sends what comes before a result: a WARNING, a changed ParameterStatus.
pub(super) async fn send_preamble<C>(client: &mut C, reply: &mut Reply) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    if let Some((severity, w)) = reply.notice.take() {
        let notice = NoticeResponse::from(w.info(severity));
        client
            .feed(PgWireBackendMessage::NoticeResponse(notice))
            .await?;
    }
    if let Some((name, value)) = reply.parameter_status.take() {
        let status = ParameterStatus::new(name, value);
        client
            .feed(PgWireBackendMessage::ParameterStatus(status))
            .await?;
    }
    Ok(())
}

pub(super) async fn send_error<C>(client: &mut C, e: &SqlError) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let response = e.info("ERROR").into();
    client
        .feed(PgWireBackendMessage::ErrorResponse(response))
        .await?;
    Ok(())
}

pub(crate) struct Factory {
    pub(crate) handlers: Arc<Handlers>,
    pub(crate) cancels: Arc<CancelRegistry>,
}

impl PgWireServerHandlers for Factory {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        Arc::clone(&self.handlers)
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        Arc::clone(&self.handlers)
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        Arc::clone(&self.handlers)
    }

    fn copy_handler(&self) -> Arc<impl pgwire::api::copy::CopyHandler> {
        Arc::clone(&self.handlers)
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        Arc::clone(&self.cancels)
    }
}
