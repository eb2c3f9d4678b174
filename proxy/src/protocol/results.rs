//! Results as the client gets them: rows encoded whole or streamed as the socket takes
//! them, COPY TO STDOUT's data, the start of COPY FROM STDIN.

use std::fmt::Debug;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Sink, SinkExt, StreamExt, stream};
use litescale_router::{CopyFormat, PgType};
use litescale_shard::{ColumnMeta, RowStream, Rows, SessionZone, Value};
use pgwire::api::results::{CopyResponse, FieldFormat, FieldInfo, QueryResponse, Tag};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::CopyData;
use pgwire::messages::data::RowDescription;

use crate::error::SqlError;
use crate::protocol::handlers::field;
use crate::session::interrupts::timer::StatementTimer;
use crate::values::copy_format::format_row;
use crate::values::encode::{
    as_text, column_type, column_typmod, declared_forms, encode_row, samples, shape_row,
};

/// Encodes every row before anything is sent, so a value that cannot be encoded gives a
/// clean error instead of a half-sent result.
pub(super) fn query_response(
    names: impl Iterator<Item = (String, i32)>,
    types: &[PgType],
    binary: &[bool],
    rows: &[Vec<Value>],
    tag: &str,
    zone: &SessionZone,
) -> Result<QueryResponse, SqlError> {
    let fields: Vec<FieldInfo> = names
        .zip(types.iter().zip(binary))
        .map(|((name, typmod), (t, b))| {
            let format = if *b {
                FieldFormat::Binary
            } else {
                FieldFormat::Text
            };
            field(&name, *t, typmod, format)
        })
        .collect();
    let encoded = rows
        .iter()
        .map(|r| encode_row(r, types, binary, zone).map(Ok))
        .collect::<Result<Vec<_>, SqlError>>()?;
    let mut response = QueryResponse::new(Arc::new(fields), stream::iter(encoded));
    response.set_command_tag(tag);
    Ok(response)
}

/// Rows looked at before the RowDescription, to type columns that have no declared type.
const TYPE_SAMPLE_ROWS: usize = 64;

/// Postgres' CommandComplete of a result: `SHOW` has no row count.
pub(super) fn completion_tag(command: &str, rows: usize) -> Tag {
    match command {
        "SHOW" => Tag::new(command),
        _ => Tag::new(command).with_rows(rows),
    }
}

/// Sends a whole simple-protocol result: its description, rows and [`completion_tag`]
/// (pgwire's sender counts the rows of every tag).
pub(super) async fn send_result<C>(client: &mut C, response: QueryResponse) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let QueryResponse {
        command_tag,
        row_schema,
        mut data_rows,
        ..
    } = response;
    let description = RowDescription::new(row_schema.iter().map(Into::into).collect());
    client
        .feed(PgWireBackendMessage::RowDescription(description))
        .await?;
    let mut rows = 0;
    while let Some(row) = data_rows.next().await {
        client.feed(PgWireBackendMessage::DataRow(row?)).await?;
        rows += 1;
    }
    let tag = completion_tag(&command_tag, rows);
    client
        .feed(PgWireBackendMessage::CommandComplete(tag.into()))
        .await?;
    Ok(())
}

/// A simple-protocol query's rows sent as a reader produces them. The first rows are read
/// ahead to pick the types of undeclared columns (as a materialised result's would be);
/// the rest stream.
pub(super) async fn streamed_query_response(
    mut rows: RowStream,
    inferred: &[Option<PgType>],
    timer: Option<StatementTimer>,
    zone: SessionZone,
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
        .map(|(c, t)| field(&c.name, *t, column_typmod(c), FieldFormat::Text))
        .collect();
    let encoded = encoded_stream(ahead, rows, types, vec![false; width], timer, zone);
    let mut response = QueryResponse::new(Arc::new(fields), encoded);
    response.set_command_tag("SELECT");
    Ok(response)
}

/// A stream's error, told as statement_timeout's when the timer caused it.
fn explained(timer: &Option<StatementTimer>, e: litescale_shard::ShardError) -> SqlError {
    match timer {
        Some(t) => t.explain(SqlError::from(e)),
        None => SqlError::from(e),
    }
}

/// The rows of a stream (after `ahead`, rows already taken from it) encoded as the
/// client takes them: the reader waits while the client does not read, so the result
/// never sits in memory. An error in the middle (a cancel, statement_timeout) ends the
/// rows with it.
pub(super) fn encoded_stream(
    ahead: Vec<Vec<Value>>,
    rows: RowStream,
    types: Vec<PgType>,
    binary: Vec<bool>,
    timer: Option<StatementTimer>,
    zone: SessionZone,
) -> impl futures::Stream<Item = PgWireResult<pgwire::messages::data::DataRow>> + Send + 'static {
    let forms = declared_forms(&rows.columns);
    let encode = move |mut row: Vec<Value>| {
        shape_row(&mut row, &forms);
        encode_row(&row, &types, &binary, &zone).map_err(PgWireError::from)
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
    zone: &SessionZone,
) -> Result<CopyData, SqlError> {
    let mut row = row.to_vec();
    shape_row(&mut row, &declared_forms(columns));
    let fields = row
        .iter()
        .zip(columns)
        .map(|(v, meta)| as_text(v, column_type(meta, None, Some(v)), zone))
        .collect::<Result<Vec<_>, SqlError>>()?;
    Ok(CopyData::new(Bytes::from(format_row(&fields, format))))
}

/// COPY TO STDOUT: one CopyData message per row, rendered as the rows arrive.
fn copy_out_response(
    columns: Vec<ColumnMeta>,
    rows: impl futures::Stream<Item = Result<Vec<Value>, SqlError>> + Send + 'static,
    format: CopyFormat,
    zone: SessionZone,
) -> CopyResponse {
    let width = columns.len();
    let header = format.header.then(|| {
        let names: Vec<Option<String>> = columns.iter().map(|c| Some(c.name.clone())).collect();
        Ok(CopyData::new(Bytes::from(format_row(&names, &format))))
    });
    let lines = rows.map(move |row| {
        row.and_then(|r| copy_line(&r, &columns, &format, &zone))
            .map_err(PgWireError::from)
    });
    CopyResponse::new(0, width, stream::iter(header).chain(lines))
}

pub(super) fn materialized_copy_out(
    rows: Rows,
    format: CopyFormat,
    zone: SessionZone,
) -> CopyResponse {
    copy_out_response(
        rows.columns,
        stream::iter(rows.rows.into_iter().map(Ok)),
        format,
        zone,
    )
}

pub(super) fn streamed_copy_out(
    rows: RowStream,
    format: CopyFormat,
    zone: SessionZone,
) -> CopyResponse {
    let receiver = stream::unfold(rows.rows, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item.map_err(SqlError::from), rx))
    });
    copy_out_response(rows.columns, receiver, format, zone)
}

pub(super) fn copy_in_response(columns: usize) -> CopyResponse {
    CopyResponse::new(0, columns, stream::empty())
}
