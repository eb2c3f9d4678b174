//! The extended query protocol: Parse through the session's plan cache, Describe, Bind's
//! parameters decoded against the described types, and Execute sending a portal's rows as
//! the socket takes them, max_rows at a time.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt, StreamExt};
use litescale_router::PgType;
use pgwire::api::copy::{send_copy_in_response, send_copy_out_response};
use pgwire::api::portal::{Format, Portal, PortalExecutionState};
use pgwire::api::query::{ExtendedQueryHandler, send_describe_response, send_execution_response};
use pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, FieldFormat, FieldInfo, QueryResponse,
    Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, DEFAULT_NAME, PgWireConnectionState, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::extendedquery::{
    Describe, Execute, PortalSuspended, TARGET_TYPE_BYTE_PORTAL,
};
use pgwire::messages::response::EmptyQueryResponse;

use crate::error::SqlError;
use crate::protocol::handlers::{Handlers, field, pg_type, send_preamble, session_of};
use crate::protocol::results::{
    completion_tag, copy_in_response, encoded_stream, materialized_copy_out, query_response,
    streamed_copy_out,
};
use crate::session::execute::reply::Executed;
use crate::session::plans::describe::{Described, Prepared};
use crate::values::decode::decode_param;

/// Parses Parse messages into prepared statements, through the session's plan cache.
pub struct StatementParser;

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = Arc<Prepared>;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let session = session_of(client)?;
        let timeout = session
            .state
            .lock()
            .await
            .settings
            .duration("statement_timeout");
        match session.prepare(sql, timeout).await {
            Ok(prepared) => Ok(Some(Arc::new(prepared))),
            Err(e) => {
                // A statement refused before it runs fails the block as any error does.
                session.state.lock().await.fail_block();
                Err(e.into())
            }
        }
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        let described = stmt.described().ok_or_else(not_described)?;
        Ok(described.params.iter().map(|t| pg_type(*t)).collect())
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        let described = stmt.described().ok_or_else(not_described)?;
        Ok(fields(described, format))
    }
}

fn not_described() -> PgWireError {
    SqlError::new("XX000", "statement used before it was described").into()
}

fn fields(described: &Described, format: Option<&Format>) -> Vec<FieldInfo> {
    described
        .columns
        .iter()
        .enumerate()
        .map(|(i, (name, t))| {
            let f = format.map(|f| f.format_for(i)).unwrap_or(FieldFormat::Text);
            field(name, *t, typmod_of(described, i), f)
        })
        .collect()
}

fn typmod_of(described: &Described, column: usize) -> i32 {
    described.typmods.get(column).copied().unwrap_or(-1)
}

/// Parameter types the client declared in Parse (`None` where it left them open).
fn client_types(stored: &StoredStatement<Arc<Prepared>>) -> Vec<Option<PgType>> {
    stored
        .parameter_types
        .iter()
        .map(|t| t.as_ref().and_then(|t| PgType::from_oid(t.oid())))
        .collect()
}

#[async_trait]
impl ExtendedQueryHandler for Handlers {
    type Statement = Arc<Prepared>;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        Arc::new(StatementParser)
    }

    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let result = self.execute_portal(client, message).await;
        // The session, not pgwire's bookkeeping, knows the transaction block's state.
        let session = session_of(client)?;
        let mut state = session.state.lock().await;
        if result.is_err() {
            state.fail_block();
        }
        client.set_transaction_status(state.transaction_status());
        result
    }

    /// Describe of a portal pgwire does not have may name a cursor DECLARE opened: in
    /// Postgres a cursor is a portal too, and psycopg's named cursors describe it so.
    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        if message.target_type == TARGET_TYPE_BYTE_PORTAL
            && client.portal_store().get_portal(name).is_none()
        {
            let session = session_of(client)?;
            let fields = {
                let state = session.state.lock().await;
                fields(&Described::of_cursor(state.cursors.columns(name)?), None)
            };
            return send_describe_response(client, &DescribePortalResponse::new(fields)).await;
        }
        self._on_describe(client, message).await
    }

    async fn do_describe_statement<C>(
        &self,
        client: &mut C,
        target: &StoredStatement<Self::Statement>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        let described = session
            .describe(&target.statement, &client_types(target))
            .await?;
        let params = described.params.iter().map(|t| pg_type(*t)).collect();
        Ok(DescribeStatementResponse::new(
            params,
            fields(described, None),
        ))
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        let described = session
            .describe(
                &portal.statement.statement,
                &client_types(&portal.statement),
            )
            .await?;
        Ok(DescribePortalResponse::new(fields(
            described,
            Some(&portal.result_column_format),
        )))
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        self.server.wait_unless_paused().await;
        let prepared = &portal.statement.statement;
        let described = session
            .describe(prepared, &client_types(&portal.statement))
            .await?;
        let types = &described.params;
        if portal.parameters.len() != types.len() {
            return Err(SqlError::new(
                "08P01",
                format!(
                    "bind message supplies {} parameters, but prepared statement requires {}",
                    portal.parameters.len(),
                    types.len()
                ),
            )
            .into());
        }
        let (mut reply, zone) = {
            let mut state = session.state.lock().await;
            // Text without an offset for a timestamptz is local time in the session's zone.
            let zone = state.settings.zone().clone();
            let params = portal
                .parameters
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (raw, t))| {
                    let binary = portal.parameter_format.is_binary(i);
                    decode_param(raw.as_deref(), *t, binary, &zone)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let reply = state.execute(&session, prepared.planned(), params).await;
            session.watch_idle(&mut state);
            match (reply, session.termination()) {
                (Ok(reply), _) => (reply, zone),
                (Err(_), Some(reason)) => return Err(reason.fatal()),
                (Err(e), None) => return Err(e.into()),
            }
        };
        send_preamble(client, &mut reply).await?;
        match reply.executed {
            Executed::Command(tag) => Ok(Response::Execution(Tag::new(&tag))),
            Executed::CopyOut { rows, format } => {
                Ok(Response::CopyOut(materialized_copy_out(rows, format, zone)))
            }
            Executed::CopyOutStream { rows, format } => {
                Ok(Response::CopyOut(streamed_copy_out(rows, format, zone)))
            }
            Executed::CopyIn { columns } => Ok(Response::CopyIn(copy_in_response(columns))),
            Executed::RowsStream { rows, timer } => {
                same_columns(rows.columns.len(), described)?;
                let (types, binary) = result_formats(described, portal);
                let fields = fields(described, Some(&portal.result_column_format));
                let encoded = encoded_stream(Vec::new(), rows, types, binary, timer, zone);
                let mut response = QueryResponse::new(Arc::new(fields), encoded);
                response.set_command_tag("SELECT");
                Ok(Response::Query(response))
            }
            Executed::Rows { rows, tag } => {
                same_columns(rows.columns.len(), described)?;
                let (types, binary) = result_formats(described, portal);
                let names = described
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (n, _))| (n.clone(), typmod_of(described, i)));
                let response = query_response(names, &types, &binary, &rows.rows, tag, &zone)?;
                Ok(Response::Query(response))
            }
        }
    }
}

/// A result must have the columns its statement was described with.
fn same_columns(width: usize, described: &Described) -> Result<(), SqlError> {
    if width == described.columns.len() {
        Ok(())
    } else {
        Err(SqlError::new(
            "0A000",
            "cached plan must not change result type",
        ))
    }
}

/// The described type of each result column and whether the portal wants it in binary.
fn result_formats(
    described: &Described,
    portal: &Portal<Arc<Prepared>>,
) -> (Vec<PgType>, Vec<bool>) {
    let types: Vec<PgType> = described.columns.iter().map(|(_, t)| *t).collect();
    let binary = (0..types.len())
        .map(|i| portal.result_column_format.is_binary(i))
        .collect();
    (types, binary)
}

impl Handlers {
    /// Execute: runs the portal's statement at its first Execute, then sends its rows as
    /// the client takes them, up to `max_rows` per Execute (0: all), and keeps the rest
    /// in the portal (PortalSuspended) for the next. pgwire's default gathers each
    /// Execute's rows in memory before it sends any, every row when `max_rows` is 0.
    async fn execute_portal<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Arc<Prepared>>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        let portal = match client.portal_store().get_portal(name) {
            Some(Entry::Value(portal)) => portal,
            Some(Entry::Empty) => {
                let empty = PgWireBackendMessage::EmptyQueryResponse(EmptyQueryResponse::new());
                client.feed(empty).await?;
                client.set_state(PgWireConnectionState::ReadyForQuery);
                return Ok(());
            }
            None => return Err(PgWireError::PortalNotFound(name.to_owned())),
        };
        let state = portal.state();
        let mut state = state.lock().await;
        if matches!(*state, PortalExecutionState::Initial) {
            match ExtendedQueryHandler::do_query(self, client, &portal, 0).await? {
                Response::Query(rows) => *state = PortalExecutionState::Suspended(rows),
                Response::Execution(tag) => send_execution_response(client, tag).await?,
                Response::CopyOut(copy) => send_copy_out_response(client, copy).await?,
                Response::CopyIn(copy) => {
                    client.set_state(PgWireConnectionState::CopyInProgress(true));
                    return send_copy_in_response(client, copy).await;
                }
                _ => {
                    return Err(SqlError::new("XX000", "an answer Execute cannot send").into());
                }
            }
        }
        match &mut *state {
            PortalExecutionState::Suspended(rows) => {
                let max_rows = message.max_rows.max(0) as usize;
                let (sent, more) = send_rows(client, rows, max_rows).await?;
                if more {
                    client
                        .feed(PgWireBackendMessage::PortalSuspended(PortalSuspended::new()))
                        .await?;
                } else {
                    let tag = completion_tag(rows.command_tag(), sent);
                    *state = PortalExecutionState::Finished;
                    send_execution_response(client, tag).await?;
                }
            }
            // Run to its end before: nothing more to send.
            PortalExecutionState::Finished => {
                send_execution_response(client, Tag::new("SELECT").with_rows(0)).await?
            }
            PortalExecutionState::Initial => {}
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        Ok(())
    }
}

/// Sends up to `max_rows` of a portal's rows (0: all), each as the socket takes it: a
/// client that does not read holds the reader, not the rows. Returns how many it sent and
/// whether rows remain.
async fn send_rows<C>(
    client: &mut C,
    rows: &mut QueryResponse,
    max_rows: usize,
) -> PgWireResult<(usize, bool)>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let data_rows = rows.data_rows();
    let mut sent = 0;
    while max_rows == 0 || sent < max_rows {
        let Some(row) = data_rows.next().await else {
            return Ok((sent, false));
        };
        client.feed(PgWireBackendMessage::DataRow(row?)).await?;
        sent += 1;
    }
    Ok((sent, true))
}
