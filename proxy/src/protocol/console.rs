//! The admin console's commands on the wire: a table or a command tag, always outside a
//! transaction.

use std::fmt::Debug;

use futures::{Sink, SinkExt};
use litescale_router::PgType;
use litescale_shard::{SessionZone, Value};
use pgwire::api::query::{send_execution_response, send_query_response, send_ready_for_query};
use pgwire::api::results::Tag;
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::NoticeResponse;

use crate::error::SqlError;
use crate::protocol::handlers::{Handlers, send_error};
use crate::protocol::results::query_response;

impl Handlers {
    /// A command on the admin console, answered as a text table or a command tag.
    pub(super) async fn admin_query<C>(&self, client: &mut C, text: &str) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        client.set_state(PgWireConnectionState::QueryInProgress);
        match crate::admin::console::run(&self.server, text).await {
            Err(e) => send_error(client, &e).await?,
            Ok(crate::admin::console::Answer::Done { tag, notice }) => {
                if let Some(n) = notice {
                    let notice = NoticeResponse::from(SqlError::new("00000", n).info("NOTICE"));
                    client
                        .feed(PgWireBackendMessage::NoticeResponse(notice))
                        .await?;
                }
                send_execution_response(client, Tag::new(tag)).await?;
            }
            Ok(crate::admin::console::Answer::Table { columns, rows }) => {
                let types = vec![PgType::Text; columns.len()];
                let values: Vec<Vec<Value>> = rows
                    .into_iter()
                    .map(|r| {
                        r.into_iter()
                            .map(|v| v.map_or(Value::Null, Value::Text))
                            .collect()
                    })
                    .collect();
                let names = columns.into_iter().map(|c| (c.to_owned(), -1));
                let binary = vec![false; types.len()];
                let response =
                    query_response(names, &types, &binary, &values, "SHOW", &SessionZone::UTC)?;
                send_query_response(client, response, true).await?;
            }
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        send_ready_for_query(client, pgwire::messages::response::TransactionStatus::Idle).await
    }
}
