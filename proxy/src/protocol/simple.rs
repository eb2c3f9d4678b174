//! The simple query protocol: a query string's statements run in turn (one implicit
//! transaction when there are several), each answered before the next.

use std::fmt::Debug;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use litescale_router::{NoSchema, PgType};
use pgwire::api::copy::{send_copy_in_response, send_copy_out_response};
use pgwire::api::query::{SimpleQueryHandler, send_execution_response, send_ready_for_query};
use pgwire::api::results::{Response, Tag};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::EmptyQueryResponse;
use pgwire::messages::simplequery::Query;

use crate::error::SqlError;
use crate::protocol::handlers::{Handlers, send_error, send_preamble, session_of};
use crate::protocol::results::{
    copy_in_response, materialized_copy_out, query_response, send_result, streamed_copy_out,
    streamed_query_response,
};
use crate::session::execute::reply::Executed;
use crate::session::plans::describe::SchemaSnapshot;
use crate::session::state::{Session, SessionState};
use crate::values::encode::{column_type, column_typmod, samples};

impl Handlers {
    /// Runs one statement of a simple query and sends its result.
    async fn simple_statement<C>(
        &self,
        client: &mut C,
        session: &Session,
        state: &mut SessionState,
        planned: &litescale_router::PlannedStatement,
    ) -> PgWireResult<Result<(), SqlError>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if planned.param_count > 0 {
            return Ok(Err(SqlError::new(
                "42P02",
                format!("there is no parameter ${}", planned.param_count),
            )));
        }
        // EXECUTE and DEALLOCATE name a statement SQL's PREPARE or the extended protocol
        // prepared.
        if let litescale_router::StatementKind::Execute { name, .. }
        | litescale_router::StatementKind::Deallocate(Some(name)) = &planned.kind
            && client.portal_store().get_statement(name).is_none()
            && !state.sql_prepared.contains_key(name)
        {
            return Ok(Err(SqlError::new(
                "26000",
                format!("prepared statement \"{name}\" does not exist"),
            )));
        }
        match &planned.kind {
            litescale_router::StatementKind::Deallocate(Some(name)) => {
                client.portal_store().rm_statement(name);
                state.sql_prepared.remove(name);
            }
            litescale_router::StatementKind::Deallocate(None) => state.sql_prepared.clear(),
            _ => {}
        }
        // The tables' columns, where a result column's type depends on them (`lag(salary)`):
        // read before the statement runs, so no read waits behind its rows. A failure only
        // leaves the types to the values.
        let schema = if planned.returns_rows() && planned.result_types_need_schema() {
            state
                .table_columns(session, planned.tables())
                .await
                .ok()
                .map(SchemaSnapshot)
        } else {
            None
        };
        let inferred = match &schema {
            Some(schema) => planned.projection_types(schema, &[]),
            None => planned.projection_types(&NoSchema, &[]),
        };
        let mut reply = match state.execute(session, planned, Vec::new()).await {
            Ok(reply) => reply,
            Err(e) => return Ok(Err(e)),
        };
        send_preamble(client, &mut reply).await?;
        let zone = state.settings.zone().clone();
        match reply.executed {
            Executed::Command(tag) => send_execution_response(client, Tag::new(&tag)).await?,
            Executed::CopyOut { rows, format } => {
                send_copy_out_response(client, materialized_copy_out(rows, format, zone)).await?
            }
            Executed::CopyOutStream { rows, format } => {
                send_copy_out_response(client, streamed_copy_out(rows, format, zone)).await?
            }
            Executed::CopyIn { columns } => {
                send_copy_in_response(client, copy_in_response(columns)).await?;
                client.set_state(PgWireConnectionState::CopyInProgress(false));
            }
            Executed::RowsStream { rows, timer } => {
                match streamed_query_response(rows, &inferred, timer, zone).await {
                    Ok(response) => send_result(client, response).await?,
                    Err(e) => return Ok(Err(e)),
                }
            }
            Executed::Rows { rows, tag } => {
                let width = rows.columns.len();
                let types: Vec<PgType> = samples(width, &rows.rows)
                    .into_iter()
                    .zip(&rows.columns)
                    .enumerate()
                    .map(|(i, (sample, meta))| {
                        column_type(meta, inferred.get(i).copied().flatten(), sample)
                    })
                    .collect();
                let names = rows
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), column_typmod(c)));
                let binary = vec![false; width];
                match query_response(names, &types, &binary, &rows.rows, tag, &zone) {
                    Ok(response) => send_result(client, response).await?,
                    Err(e) => return Ok(Err(e)),
                }
            }
        }
        Ok(Ok(()))
    }
}

#[async_trait]
impl SimpleQueryHandler for Handlers {
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if client
            .session_extensions()
            .get::<crate::admin::console::AdminSession>()
            .is_some()
        {
            return self.admin_query(client, &query.query).await;
        }
        let session = session_of(client)?;
        self.server.wait_unless_paused().await;
        client.set_state(PgWireConnectionState::QueryInProgress);
        let mut state = session.state.lock().await;
        let timeout = state.settings.duration("statement_timeout");
        match session.plan(&query.query, timeout).await {
            Err(e) => {
                // A statement refused before it runs fails the block as any error does.
                state.fail_block();
                send_error(client, &e).await?
            }
            Ok(plans) if plans.is_empty() => {
                let empty = PgWireBackendMessage::EmptyQueryResponse(EmptyQueryResponse::new());
                client.feed(empty).await?;
            }
            Ok(plans) => {
                // Postgres runs the statements of one query string as one transaction
                // unless the string itself controls transactions.
                if plans.len() > 1 && state.is_idle() {
                    state.open_implicit();
                }
                let mut succeeded = true;
                for planned in plans.iter() {
                    // EXECUTE of a statement SQL's PREPARE made runs that statement.
                    let bound = match state.bound_sql_prepared(planned) {
                        None => Ok(None),
                        Some(Ok(text)) => session
                            .plan(&text, timeout)
                            .await
                            .map(|plans| plans.first().cloned()),
                        Some(Err(e)) => Err(e),
                    };
                    let bound = match bound {
                        Ok(bound) => bound,
                        Err(e) => {
                            state.fail_block();
                            send_error(client, &e).await?;
                            succeeded = false;
                            break;
                        }
                    };
                    let planned = bound.as_ref().unwrap_or(planned);
                    for n in &planned.notices {
                        let notice = SqlError::new("42622", n.as_str()).info("NOTICE");
                        client
                            .feed(PgWireBackendMessage::NoticeResponse(notice.into()))
                            .await?;
                    }
                    let result = self
                        .simple_statement(client, &session, &mut state, planned)
                        .await?;
                    if let Err(e) = result {
                        if let Some(reason) = session.termination() {
                            return Err(reason.fatal());
                        }
                        send_error(client, &e).await?;
                        succeeded = false;
                        break;
                    }
                    if matches!(client.state(), PgWireConnectionState::CopyInProgress(_)) {
                        // The client now streams rows; CopyDone ends the query. Statements
                        // after a COPY FROM STDIN in the same string are not run.
                        return Ok(());
                    }
                }
                if let Err(e) = state.close_implicit(&session, succeeded).await {
                    send_error(client, &e).await?;
                }
            }
        }
        // Between transactions, the session hears the notifications that have arrived.
        if state.is_idle() {
            for heard in session.listener.lock().await.arrived() {
                client
                    .feed(crate::protocol::handlers::notification_message(&heard))
                    .await?;
            }
        }
        session.watch_idle(&mut state);
        let status = state.transaction_status();
        client.set_transaction_status(status);
        client.set_state(PgWireConnectionState::ReadyForQuery);
        send_ready_for_query(client, status).await
    }

    async fn do_query<C>(&self, _client: &mut C, _query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // `on_query` above handles simple queries whole; pgwire never calls this.
        Err(SqlError::new("XX000", "simple query dispatched past on_query").into())
    }
}
