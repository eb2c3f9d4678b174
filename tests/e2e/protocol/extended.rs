//! The extended query protocol: Parse/Bind/Describe/Execute/Close/Sync/Flush, named and
//! unnamed statements and portals, inferred and client-given parameter types.

use tokio_postgres::types::Type;

use crate::harness::{RawClient, TestServer, tags};

#[tokio::test]
async fn parameter_types_are_inferred_from_the_columns_they_meet() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(20), ok BOOLEAN, score DOUBLE PRECISION)")
        .await
        .unwrap();
    let insert = c
        .prepare("INSERT INTO t (id, name, ok, score) VALUES ($1, $2, $3, $4)")
        .await
        .unwrap();
    assert_eq!(
        insert.params(),
        [Type::INT8, Type::VARCHAR, Type::BOOL, Type::FLOAT8]
    );
    // A named statement, prepared once, executed many times.
    for i in 0..50i64 {
        let n = c
            .execute(
                &insert,
                &[&i, &format!("n{i}"), &(i % 2 == 0), &(i as f64 / 2.0)],
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    let select = c
        .prepare("SELECT id, name, ok, score FROM t WHERE id >= $1 ORDER BY id LIMIT $2")
        .await
        .unwrap();
    assert_eq!(select.params(), [Type::INT8, Type::INT8]);
    let types: Vec<Type> = select.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(types, [Type::INT8, Type::VARCHAR, Type::BOOL, Type::FLOAT8]);
    let rows = c.query(&select, &[&47i64, &10i64]).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].get::<_, i64>(0), 47);
    assert_eq!(rows[0].get::<_, &str>(1), "n47");
    assert!(!rows[0].get::<_, bool>(2));
    assert_eq!(rows[0].get::<_, f64>(3), 23.5);
}

#[tokio::test]
async fn client_given_parameter_types_win() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let stmt = c
        .prepare_typed("SELECT $1 + 1, $2", &[Type::INT4, Type::TEXT])
        .await
        .unwrap();
    assert_eq!(stmt.params(), [Type::INT4, Type::TEXT]);
    let row = c.query_one(&stmt, &[&41i32, &"x"]).await.unwrap();
    // int4 + int4 is int4, as in Postgres.
    assert_eq!(row.get::<_, i32>(0), 42);
    assert_eq!(row.get::<_, &str>(1), "x");
}

#[tokio::test]
async fn dml_with_returning_and_null_parameters() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
        .await
        .unwrap();
    let row = c
        .query_one(
            "INSERT INTO t (id, note) VALUES ($1, $2) RETURNING id, note",
            &[&7i32, &None::<&str>],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 7);
    assert_eq!(row.get::<_, Option<&str>>(1), None);
    let n = c
        .execute("UPDATE t SET note = $1 WHERE id = $2", &[&"hi", &7i32])
        .await
        .unwrap();
    assert_eq!(n, 1);
    let n = c
        .execute("DELETE FROM t WHERE id = $1", &[&7i32])
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn execute_with_a_row_limit_suspends_the_portal() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2), (3), (4), (5)")
        .await
        .unwrap();
    let mut raw = RawClient::connect(server.addr).await;
    raw.parse("s1", "SELECT a FROM t ORDER BY a", &[]).await;
    raw.bind("p1", "s1", &[], 0, 0).await;
    raw.describe(b'P', "p1").await;
    raw.execute("p1", 2).await;
    raw.flush().await;
    // ParseComplete, BindComplete, RowDescription, two DataRows, PortalSuspended.
    let mut got = Vec::new();
    for _ in 0..6 {
        got.push(raw.recv().await);
    }
    assert_eq!(tags(&got), "12TDDs");
    assert_eq!(got[3].fields(), [Some(b"1".to_vec())]);
    raw.execute("p1", 2).await;
    raw.execute("p1", 0).await;
    let (rest, status) = raw.sync().await;
    assert_eq!(tags(&rest), "DDsDC");
    assert_eq!(rest[4].text(), "SELECT 1");
    assert_eq!(status, b'I');
}

#[tokio::test]
async fn text_format_parameters_and_results() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id INT, ok BOOLEAN, b BYTEA, f REAL)")
        .await
        .unwrap();
    let mut raw = RawClient::connect(server.addr).await;
    raw.parse("", "INSERT INTO t VALUES ($1, $2, $3, $4)", &[])
        .await;
    raw.bind(
        "",
        "",
        &[Some(b"12"), Some(b"true"), Some(b"\\x00ff"), Some(b"2.5")],
        0,
        0,
    )
    .await;
    raw.execute("", 0).await;
    let (m, _) = raw.sync().await;
    assert_eq!(tags(&m), "12C");
    assert_eq!(m[2].text(), "INSERT 0 1");

    raw.parse("q", "SELECT id, ok, b, f FROM t WHERE id = $1", &[])
        .await;
    raw.describe(b'S', "q").await;
    raw.bind("", "q", &[Some(b"12")], 0, 0).await;
    raw.execute("", 0).await;
    let (m, _) = raw.sync().await;
    // ParseComplete, ParameterDescription, RowDescription, BindComplete, DataRow, Complete
    assert_eq!(tags(&m), "1tT2DC");
    assert_eq!(
        m[4].fields(),
        [
            Some(b"12".to_vec()),
            Some(b"t".to_vec()),
            Some(b"\\x00ff".to_vec()),
            Some(b"2.5".to_vec())
        ]
    );
    // A bad text parameter is an error, not a silently stored string.
    raw.bind("", "q", &[Some(b"twelve")], 0, 0).await;
    raw.execute("", 0).await;
    let (m, status) = raw.sync().await;
    assert_eq!(m.last().unwrap().sqlstate().as_deref(), Some("22P02"));
    assert_eq!(status, b'I');
}

#[tokio::test]
async fn close_removes_statements_and_errors_skip_to_sync() {
    let server = TestServer::start().await;
    let mut raw = RawClient::connect(server.addr).await;
    raw.parse("s", "SELECT 1", &[]).await;
    raw.close(b'S', "s").await;
    let (m, _) = raw.sync().await;
    assert_eq!(tags(&m), "13");
    raw.bind("", "s", &[], 0, 0).await;
    // Everything after the error up to Sync is skipped.
    raw.execute("", 0).await;
    let (m, status) = raw.sync().await;
    assert_eq!(tags(&m), "E");
    assert_eq!(m[0].sqlstate().as_deref(), Some("26000"));
    assert_eq!(status, b'I');
    // Several statements cannot be prepared as one.
    raw.parse("", "SELECT 1; SELECT 2", &[]).await;
    let (m, _) = raw.sync().await;
    assert_eq!(m[0].sqlstate().as_deref(), Some("42601"));
}
