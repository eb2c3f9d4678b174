//! COPY FROM STDIN and TO STDOUT, in text and CSV, through tokio-postgres and psql.

use std::pin::pin;

use futures::{SinkExt, TryStreamExt};

use crate::harness::{TestServer, count_t as count, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_round_trips_100k_rows() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE t (id INT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, ok BOOLEAN)",
    )
    .await
    .unwrap();
    let mut data = String::new();
    for i in 0..100_000 {
        let name = if i % 10 == 0 {
            "\\N".to_owned()
        } else {
            format!("n\\t{i}")
        };
        data.push_str(&format!(
            "{i}\t{name}\t{}\t{}\n",
            i as f64 / 4.0,
            if i % 2 == 0 { "t" } else { "f" }
        ));
    }
    let sink = c.copy_in("COPY t FROM STDIN").await.unwrap();
    let mut sink = pin!(sink);
    // Several CopyData messages, cut anywhere (even inside a row).
    for chunk in data.as_bytes().chunks(65_521) {
        sink.send(bytes::Bytes::copy_from_slice(chunk))
            .await
            .unwrap();
    }
    let n = sink.finish().await.unwrap();
    assert_eq!(n, 100_000);
    assert_eq!(count(&c).await, 100_000);
    let row = c
        .query_one("SELECT name, score, ok FROM t WHERE id = 7", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "n\t7");
    assert_eq!(row.get::<_, f64>(1), 1.75);
    assert!(!row.get::<_, bool>(2));

    let stream = c.copy_out("COPY t TO STDOUT").await.unwrap();
    let chunks: Vec<bytes::Bytes> = stream.try_collect().await.unwrap();
    let out: Vec<u8> = chunks.concat();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        data,
        "COPY TO gives back what COPY FROM took"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_row_leaves_the_table_unchanged_and_the_session_usable() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY, n INT); INSERT INTO t VALUES (0, 0)")
        .await
        .unwrap();
    let mut data = String::new();
    for i in 1..5_000 {
        data.push_str(&format!("{i}\t{i}\n"));
    }
    data.push_str("5000\tnot-a-number\n");
    for i in 5_001..6_000 {
        data.push_str(&format!("{i}\t{i}\n"));
    }
    let sink = c.copy_in("COPY t FROM STDIN").await.unwrap();
    let mut sink = pin!(sink);
    let sent = sink.send(bytes::Bytes::from(data)).await;
    let err = match sent {
        Ok(()) => sink.finish().await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(sqlstate(&err), "22P02", "{err}");
    assert_eq!(count(&c).await, 1, "nothing of the failed COPY remains");
    // A duplicate key is caught the same way.
    let sink = c.copy_in("COPY t (id, n) FROM STDIN").await.unwrap();
    let mut sink = pin!(sink);
    sink.send(bytes::Bytes::from_static(b"1\t1\n0\t0\n"))
        .await
        .unwrap();
    let err = sink.finish().await.unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
    assert_eq!(count(&c).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_with_header_quotes_and_nulls() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT, note TEXT)")
        .await
        .unwrap();
    let sink = c
        .copy_in("COPY t FROM STDIN WITH (FORMAT csv, HEADER true)")
        .await
        .unwrap();
    let mut sink = pin!(sink);
    sink.send(bytes::Bytes::from_static(
        b"id,note\n1,\"a, \"\"quoted\"\"\nline\"\n2,\n3,\"\"\n",
    ))
    .await
    .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 3);
    let rows = c
        .query("SELECT note FROM t ORDER BY id", &[])
        .await
        .unwrap();
    let notes: Vec<Option<String>> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        notes,
        [
            Some("a, \"quoted\"\nline".to_owned()),
            None,
            Some(String::new())
        ]
    );
    let stream = c
        .copy_out("COPY (SELECT id, note FROM t ORDER BY id) TO STDOUT (FORMAT csv, HEADER)")
        .await
        .unwrap();
    let chunks: Vec<bytes::Bytes> = stream.try_collect().await.unwrap();
    assert_eq!(
        String::from_utf8(chunks.concat()).unwrap(),
        "id,note\n1,\"a, \"\"quoted\"\"\nline\"\n2,\n3,\"\"\n"
    );
}

/// COPY FROM STDIN of `data` inside a transaction, then commit or roll back.
async fn copy_in_transaction(c: &mut tokio_postgres::Client, data: &'static [u8], commit: bool) {
    let tx = c.transaction().await.unwrap();
    let sink = tx.copy_in("COPY t FROM STDIN").await.unwrap();
    let mut sink = pin!(sink);
    sink.send(bytes::Bytes::from_static(data)).await.unwrap();
    sink.finish().await.unwrap();
    if commit {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_inside_a_transaction_block_commits_with_it() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT)").await.unwrap();
    copy_in_transaction(&mut c, b"1\n2\n", false).await;
    assert_eq!(count(&c).await, 0);
    copy_in_transaction(&mut c, b"1\n2\n", true).await;
    assert_eq!(count(&c).await, 2);
}
