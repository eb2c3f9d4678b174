//! The Postgres wire protocol handlers (on the `pgwire` crate): startup, simple query and
//! extended query. They translate between protocol messages and session calls.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{Sink, SinkExt, StreamExt, stream};
use litescale_router::{CopyFormat, NoSchema, PgType};
use litescale_shard::{ColumnMeta, RowStream, Rows, Value};
use pgwire::api::copy::{CopyHandler, send_copy_in_response, send_copy_out_response};
use pgwire::api::portal::{Format, Portal, PortalExecutionState};
use pgwire::api::query::{
    ExtendedQueryHandler, SimpleQueryHandler, send_execution_response, send_query_response,
    send_ready_for_query,
};
use pgwire::api::results::{
    CopyResponse, DescribePortalResponse, DescribeStatementResponse, FieldFormat, FieldInfo,
    QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, DEFAULT_NAME, PgWireConnectionState, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::extendedquery::{Execute, PortalSuspended};
use pgwire::messages::response::{EmptyQueryResponse, NoticeResponse};
use pgwire::messages::simplequery::Query;
use pgwire::messages::startup::ParameterStatus;

use crate::Server;
use crate::values::copy_format::format_row;
use crate::values::decode::decode_param;
use crate::values::encode::{as_text, column_type, encode_row, fixed_width, samples};
use crate::error::SqlError;
use crate::execute::{Executed, Reply};
use crate::session::{Described, Prepared, Session};

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

fn pg_type(t: PgType) -> Type {
    Type::from_oid(t.oid()).unwrap_or(Type::TEXT)
}

fn field(name: &str, t: PgType, format: FieldFormat) -> FieldInfo {
    FieldInfo::new(name.to_owned(), None, None, pg_type(t), format)
}

/// Sends what comes before a result: a WARNING, a changed ParameterStatus.
async fn send_preamble<C>(client: &mut C, reply: &mut Reply) -> PgWireResult<()>
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

async fn send_error<C>(client: &mut C, e: &SqlError) -> PgWireResult<()>
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

/// Encodes every row before anything is sent, so a value that cannot be encoded gives a
/// clean error instead of a half-sent result.
fn query_response(
    names: impl Iterator<Item = String>,
    types: &[PgType],
    binary: &[bool],
    rows: &[Vec<Value>],
    tag: &str,
) -> Result<QueryResponse, SqlError> {
    let fields: Vec<FieldInfo> = names
        .zip(types.iter().zip(binary))
        .map(|(name, (t, b))| {
            let format = if *b {
                FieldFormat::Binary
            } else {
                FieldFormat::Text
            };
            field(&name, *t, format)
        })
        .collect();
    let encoded = rows
        .iter()
        .map(|r| encode_row(r, types, binary).map(Ok))
        .collect::<Result<Vec<_>, SqlError>>()?;
    let mut response = QueryResponse::new(Arc::new(fields), stream::iter(encoded));
    response.set_command_tag(tag);
    Ok(response)
}

/// Rows looked at before the RowDescription, to type columns that have no declared type.
const TYPE_SAMPLE_ROWS: usize = 64;

/// A simple-protocol query's rows sent as a reader produces them. The first rows are read
/// ahead to pick the types of undeclared columns (as a materialised result's would be);
/// the rest stream.
async fn streamed_query_response(
    mut rows: RowStream,
    inferred: &[Option<PgType>],
    timer: Option<crate::execute::StatementTimer>,
) -> Result<QueryResponse, SqlError> {
    let mut ahead = Vec::new();
    while ahead.len() < TYPE_SAMPLE_ROWS {
        match rows.rows.recv().await {
            Some(row) => ahead.push(row.map_err(|e| explained(&timer, e))?),
            None => break,
        }
    }
    let width = rows.columns.len();
    let types: Vec<PgType> = samples(width, &ahead)
        .into_iter()
        .zip(&rows.columns)
        .enumerate()
        .map(|(i, (sample, meta))| column_type(meta, inferred.get(i).copied().flatten(), sample))
        .collect();
    let fields: Vec<FieldInfo> = rows
        .columns
        .iter()
        .zip(&types)
        .map(|(c, t)| field(&c.name, *t, FieldFormat::Text))
        .collect();
    let encoded = encoded_stream(ahead, rows, types, vec![false; width], timer);
    let mut response = QueryResponse::new(Arc::new(fields), encoded);
    response.set_command_tag("SELECT");
    Ok(response)
}

/// A stream's error, told as statement_timeout's when the timer caused it.
fn explained(
    timer: &Option<crate::execute::StatementTimer>,
    e: litescale_shard::ShardError,
) -> SqlError {
    match timer {
        Some(t) => t.explain(SqlError::from(e)),
        None => SqlError::from(e),
    }
}

/// The rows of a stream (after `ahead`, rows already taken from it) encoded as the
/// client takes them: the reader waits while the client does not read, so the result
/// never sits in memory. An error in the middle (a cancel, statement_timeout) ends the
/// rows with it.
fn encoded_stream(
    ahead: Vec<Vec<Value>>,
    rows: RowStream,
    types: Vec<PgType>,
    binary: Vec<bool>,
    timer: Option<crate::execute::StatementTimer>,
) -> impl futures::Stream<Item = PgWireResult<pgwire::messages::data::DataRow>> + Send + 'static {
    let widths = crate::values::encode::fixed_widths(&rows.columns);
    let encode = move |mut row: Vec<Value>| {
        crate::values::encode::pad_row(&mut row, &widths);
        encode_row(&row, &types, &binary).map_err(PgWireError::from)
    };
    let encode_ahead = encode.clone();
    let first = stream::iter(ahead.into_iter().map(encode_ahead));
    let rest = stream::unfold(
        (rows.rows, encode, timer),
        |(mut rx, encode, timer)| async move {
            let item = rx.recv().await?;
            let row = item
                .map_err(|e| PgWireError::from(explained(&timer, e)))
                .and_then(&encode);
            Some((row, (rx, encode, timer)))
        },
    );
    first.chain(rest)
}

/// One COPY line for a row; each value is rendered as its column's declared type, or as
/// what it is when the column has none.
fn copy_line(
    row: &[Value],
    columns: &[ColumnMeta],
    format: &CopyFormat,
) -> Result<CopyData, SqlError> {
    let fields = row
        .iter()
        .zip(columns)
        .map(|(v, meta)| {
            let text = as_text(v, column_type(meta, None, Some(v)))?;
            Ok(match (text, fixed_width(meta)) {
                (Some(t), Some(n)) => Some(format!("{t:<n$}")),
                (t, _) => t,
            })
        })
        .collect::<Result<Vec<_>, SqlError>>()?;
    Ok(CopyData::new(Bytes::from(format_row(&fields, format))))
}

/// COPY TO STDOUT: one CopyData message per row, rendered as the rows arrive.
fn copy_out_response(
    columns: Vec<ColumnMeta>,
    rows: impl futures::Stream<Item = Result<Vec<Value>, SqlError>> + Send + 'static,
    format: CopyFormat,
) -> CopyResponse {
    let width = columns.len();
    let header = format.header.then(|| {
        let names: Vec<Option<String>> = columns.iter().map(|c| Some(c.name.clone())).collect();
        Ok(CopyData::new(Bytes::from(format_row(&names, &format))))
    });
    let lines = rows.map(move |row| {
        row.and_then(|r| copy_line(&r, &columns, &format))
            .map_err(PgWireError::from)
    });
    CopyResponse::new(0, width, stream::iter(header).chain(lines))
}

fn materialized_copy_out(rows: Rows, format: CopyFormat) -> CopyResponse {
    copy_out_response(
        rows.columns,
        stream::iter(rows.rows.into_iter().map(Ok)),
        format,
    )
}

fn streamed_copy_out(rows: RowStream, format: CopyFormat) -> CopyResponse {
    let receiver = stream::unfold(rows.rows, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item.map_err(SqlError::from), rx))
    });
    copy_out_response(rows.columns, receiver, format)
}

fn copy_in_response(columns: usize) -> CopyResponse {
    CopyResponse::new(0, columns, stream::empty())
}

impl Handlers {
    /// Runs one statement of a simple query and sends its result.
    async fn simple_statement<C>(
        &self,
        client: &mut C,
        session: &Session,
        state: &mut crate::session::SessionState,
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
        if let litescale_router::StatementKind::Deallocate(Some(name)) = &planned.kind {
            client.portal_store().rm_statement(name);
        }
        let mut reply = match state.execute(session, planned, Vec::new()).await {
            Ok(reply) => reply,
            Err(e) => return Ok(Err(e)),
        };
        send_preamble(client, &mut reply).await?;
        match reply.executed {
            Executed::Command(tag) => send_execution_response(client, Tag::new(&tag)).await?,
            Executed::CopyOut { rows, format } => {
                send_copy_out_response(client, materialized_copy_out(rows, format)).await?
            }
            Executed::CopyOutStream { rows, format } => {
                send_copy_out_response(client, streamed_copy_out(rows, format)).await?
            }
            Executed::CopyIn { columns } => {
                send_copy_in_response(client, copy_in_response(columns)).await?;
                client.set_state(PgWireConnectionState::CopyInProgress(false));
            }
            Executed::RowsStream { rows, timer } => {
                let inferred = planned.projection_types(&NoSchema, &[]);
                match streamed_query_response(rows, &inferred, timer).await {
                    Ok(response) => send_query_response(client, response, true).await?,
                    Err(e) => return Ok(Err(e)),
                }
            }
            Executed::Rows { rows, tag } => {
                let inferred = planned.projection_types(&NoSchema, &[]);
                let width = rows.columns.len();
                let types: Vec<PgType> = samples(width, &rows.rows)
                    .into_iter()
                    .zip(&rows.columns)
                    .enumerate()
                    .map(|(i, (sample, meta))| {
                        column_type(meta, inferred.get(i).copied().flatten(), sample)
                    })
                    .collect();
                let names = rows.columns.iter().map(|c| c.name.clone());
                match query_response(names, &types, &vec![false; width], &rows.rows, tag) {
                    Ok(response) => send_query_response(client, response, true).await?,
                    Err(e) => return Ok(Err(e)),
                }
            }
        }
        Ok(Ok(()))
    }
}

impl Handlers {
    /// A command on the admin console, answered as a text table or a command tag.
    async fn admin_query<C>(&self, client: &mut C, text: &str) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        client.set_state(PgWireConnectionState::QueryInProgress);
        match crate::admin::run(&self.server, text).await {
            Err(e) => send_error(client, &e).await?,
            Ok(crate::admin::Answer::Done { tag, notice }) => {
                if let Some(n) = notice {
                    let notice = NoticeResponse::from(SqlError::new("00000", n).info("NOTICE"));
                    client
                        .feed(PgWireBackendMessage::NoticeResponse(notice))
                        .await?;
                }
                send_execution_response(client, Tag::new(tag)).await?;
            }
            Ok(crate::admin::Answer::Table { columns, rows }) => {
                let types = vec![PgType::Text; columns.len()];
                let values: Vec<Vec<Value>> = rows
                    .into_iter()
                    .map(|r| {
                        r.into_iter()
                            .map(|v| v.map_or(Value::Null, Value::Text))
                            .collect()
                    })
                    .collect();
                let names = columns.into_iter().map(str::to_owned);
                let binary = vec![false; types.len()];
                let response = query_response(names, &types, &binary, &values, "SHOW")?;
                send_query_response(client, response, true).await?;
            }
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        send_ready_for_query(client, pgwire::messages::response::TransactionStatus::Idle).await
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
            .get::<crate::admin::AdminSession>()
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
            Err(e) => send_error(client, &e).await?,
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
        Ok(Some(Arc::new(session.prepare(sql, timeout).await?)))
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
            field(name, *t, f)
        })
        .collect()
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
        let params = portal
            .parameters
            .iter()
            .zip(types)
            .enumerate()
            .map(|(i, (raw, t))| {
                decode_param(raw.as_deref(), *t, portal.parameter_format.is_binary(i))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let mut reply = {
            let mut state = session.state.lock().await;
            let reply = state.execute(&session, prepared.planned(), params).await;
            session.watch_idle(&mut state);
            match (reply, session.termination()) {
                (Ok(reply), _) => reply,
                (Err(_), Some(reason)) => return Err(reason.fatal()),
                (Err(e), None) => return Err(e.into()),
            }
        };
        send_preamble(client, &mut reply).await?;
        match reply.executed {
            Executed::Command(tag) => Ok(Response::Execution(Tag::new(&tag))),
            Executed::CopyOut { rows, format } => {
                Ok(Response::CopyOut(materialized_copy_out(rows, format)))
            }
            Executed::CopyOutStream { rows, format } => {
                Ok(Response::CopyOut(streamed_copy_out(rows, format)))
            }
            Executed::CopyIn { columns } => Ok(Response::CopyIn(copy_in_response(columns))),
            Executed::RowsStream { rows, timer } => {
                same_columns(rows.columns.len(), described)?;
                let (types, binary) = result_formats(described, portal);
                let fields = fields(described, Some(&portal.result_column_format));
                let encoded = encoded_stream(Vec::new(), rows, types, binary, timer);
                let mut response = QueryResponse::new(Arc::new(fields), encoded);
                response.set_command_tag("SELECT");
                Ok(Response::Query(response))
            }
            Executed::Rows { rows, tag } => {
                same_columns(rows.columns.len(), described)?;
                let (types, binary) = result_formats(described, portal);
                let names = described.columns.iter().map(|(n, _)| n.clone());
                let response = query_response(names, &types, &binary, &rows.rows, tag)?;
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
                    let tag = Tag::new(rows.command_tag()).with_rows(sent);
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
