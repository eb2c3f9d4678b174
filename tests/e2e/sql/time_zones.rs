//! A session's TimeZone through the paths the conformance suite (simple queries) does not
//! take: bound parameters in text and binary, COPY both ways, group-committed writes of
//! sessions in different zones, SET LOCAL.

use std::pin::pin;

use futures::{SinkExt, TryStreamExt};

use crate::harness::{RawClient, TestServer, simple_rows};

async fn one_text(c: &tokio_postgres::Client, sql: &str) -> Option<String> {
    let m = c.simple_query(sql).await.unwrap();
    simple_rows(&m)[0][0].clone()
}

/// Row `id`'s instant as the session shows it.
async fn at(c: &tokio_postgres::Client, id: i32) -> Option<String> {
    one_text(c, &format!("SELECT at FROM t WHERE id = {id}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_zone_reads_and_writes_instants_on_every_path() {
    let server = TestServer::start().await;
    let ny = server.client().await;
    let utc = server.client().await;
    ny.batch_execute("CREATE TABLE t (id INT PRIMARY KEY, at TIMESTAMPTZ)")
        .await
        .unwrap();
    ny.batch_execute("SET TIME ZONE 'America/New_York'")
        .await
        .unwrap();

    // Autocommit writes of both sessions, group-committed together: each text without an
    // offset is local time in its own session's zone.
    let (a, b) = tokio::join!(
        ny.execute("INSERT INTO t VALUES (1, '2024-03-15 10:00')", &[]),
        utc.execute("INSERT INTO t VALUES (2, '2024-03-15 10:00')", &[]),
    );
    a.unwrap();
    b.unwrap();
    assert_eq!(at(&ny, 1).await.as_deref(), Some("2024-03-15 10:00:00-04"));
    assert_eq!(at(&utc, 1).await.as_deref(), Some("2024-03-15 14:00:00+00"));
    assert_eq!(at(&ny, 2).await.as_deref(), Some("2024-03-15 06:00:00-04"));

    // Binary results are the instant, whatever the zone.
    let row = ny
        .query_one("SELECT at FROM t WHERE id = 1", &[])
        .await
        .unwrap();
    let instant: chrono::DateTime<chrono::Utc> = row.get(0);
    assert_eq!(instant.to_rfc3339(), "2024-03-15T14:00:00+00:00");

    // A parameter bound as text reads in the zone; results in text show in it.
    let mut raw = RawClient::connect(server.addr).await;
    raw.query("SET TIME ZONE 'Asia/Kolkata'").await;
    raw.parse("ins", "INSERT INTO t VALUES (3, $1)", &[1184])
        .await;
    raw.bind("", "ins", &[Some(b"2024-03-15 10:00".as_slice())], 0, 0)
        .await;
    raw.execute("", 0).await;
    raw.sync().await;
    raw.parse("sel", "SELECT at FROM t WHERE id = $1", &[23])
        .await;
    raw.bind("", "sel", &[Some(b"3".as_slice())], 0, 0).await;
    raw.execute("", 0).await;
    let (messages, _) = raw.sync().await;
    let row = messages.iter().find(|m| m.tag == b'D').expect("a row");
    assert_eq!(
        row.fields()[0].as_deref(),
        Some(b"2024-03-15 10:00:00+05:30".as_slice())
    );
    assert_eq!(at(&utc, 3).await.as_deref(), Some("2024-03-15 04:30:00+00"));

    // COPY FROM reads in the zone, COPY TO writes in it.
    let sink = ny.copy_in("COPY t FROM STDIN").await.unwrap();
    let mut sink = pin!(sink);
    sink.send(bytes::Bytes::from_static(b"4\t2024-07-04 09:30\n"))
        .await
        .unwrap();
    sink.finish().await.unwrap();
    assert_eq!(at(&utc, 4).await.as_deref(), Some("2024-07-04 13:30:00+00"));
    let out: Vec<bytes::Bytes> = ny
        .copy_out("COPY (SELECT at FROM t WHERE id = 4) TO STDOUT")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(out.concat(), b"2024-07-04 09:30:00-04\n");
}

#[tokio::test]
async fn set_local_lasts_until_its_transaction_ends() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("SET TIME ZONE 'Asia/Tokyo'").await.unwrap();
    c.batch_execute("BEGIN; SET LOCAL TIME ZONE 'America/Chicago'")
        .await
        .unwrap();
    assert_eq!(
        one_text(&c, "SHOW TimeZone").await.as_deref(),
        Some("America/Chicago")
    );
    c.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        one_text(&c, "SHOW TimeZone").await.as_deref(),
        Some("Asia/Tokyo")
    );
    // Outside a block it changes nothing (Postgres warns).
    c.batch_execute("SET LOCAL TIME ZONE 'America/Chicago'")
        .await
        .unwrap();
    assert_eq!(
        one_text(&c, "SHOW TimeZone").await.as_deref(),
        Some("Asia/Tokyo")
    );
}
