//! Temporary objects: a partition's SQLite connections are shared by every session, so a
//! TEMP table or view there would outlive its session and shadow real tables for everyone.
//! litescale refuses them (0A000) at the router, and SQLite's authorizer refuses any that
//! reach it another way (42501); the catalog's own views cannot be dropped.

use crate::harness::{TestServer, simple_rows, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_objects_are_refused_and_never_shadow_another_sessions_tables() {
    let server = TestServer::start().await;
    let first = server.client().await;
    first
        .batch_execute("CREATE TABLE acct (id INT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    for sql in [
        "CREATE TEMP TABLE acct (id INT, v TEXT)",
        "CREATE TEMPORARY TABLE scratch (id INT)",
        "CREATE TEMP TABLE copy_of AS SELECT * FROM acct",
        "CREATE TEMP VIEW acct_view AS SELECT * FROM acct",
        "CREATE TABLE pg_temp.acct (id INT, v TEXT)",
        "CREATE VIEW pg_temp.v AS SELECT 1",
        "SELECT * INTO TEMP t2 FROM acct",
    ] {
        let err = first.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "0A000", "{sql}: {err:?}");
        let message = err.as_db_error().unwrap().message().to_owned();
        assert!(message.contains("TEMP"), "{sql}: {message}");
        first.simple_query("SELECT 1").await.unwrap();
    }
    // SQLite's own spelling of the temp schema does not get past SQLite's authorizer.
    let err = first
        .simple_query("CREATE TABLE temp.acct (id INT, v TEXT)")
        .await
        .unwrap_err();
    assert!(
        ["0A000", "42501"].contains(&sqlstate(&err).as_str()),
        "{err:?}"
    );
    drop(first);

    // Another session writes to the real table, and its row is there to read.
    let second = server.client().await;
    let tag = second
        .execute("INSERT INTO acct VALUES (2, 'x')", &[])
        .await
        .unwrap();
    assert_eq!(tag, 1);
    let rows = simple_rows(&second.simple_query("SELECT id, v FROM acct").await.unwrap());
    assert_eq!(rows, vec![vec![Some("2".to_owned()), Some("x".to_owned())]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_views_every_session_shares_cannot_be_dropped_or_replaced() {
    let server = TestServer::start().await;
    let c = server.client().await;
    for sql in ["DROP VIEW pg_class", "DROP VIEW temp.pg_namespace"] {
        let err = c.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{sql}: {err:?}");
    }
    // Another session still reads the catalog.
    let other = server.client().await;
    let rows = other
        .simple_query("SELECT count(*) FROM pg_class")
        .await
        .unwrap();
    assert_eq!(simple_rows(&rows).len(), 1);
}
