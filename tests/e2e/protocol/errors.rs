//! Errors carry Postgres' SQLSTATE, and the connection carries on after each.

use crate::harness::{TestServer, sqlstate};

#[tokio::test]
async fn errors_carry_the_right_sqlstate_and_the_session_survives() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE child (
             id INT PRIMARY KEY,
             name TEXT NOT NULL,
             qty INT CHECK (qty > 0),
             parent INT REFERENCES parent(id));
         INSERT INTO parent VALUES (1);
         INSERT INTO child VALUES (1, 'a', 1, 1);",
    )
    .await
    .unwrap();
    let cases = [
        ("SELEC 1", "42601"),
        ("SELECT * FROM missing", "42P01"),
        ("SELECT nope FROM child", "42703"),
        ("INSERT INTO child VALUES (1, 'dup', 1, 1)", "23505"),
        ("INSERT INTO child VALUES (2, NULL, 1, 1)", "23502"),
        ("INSERT INTO child VALUES (3, 'c', 1, 99)", "23503"),
        ("INSERT INTO child VALUES (4, 'd', 0, 1)", "23514"),
        ("CREATE SEQUENCE child", "42P07"),
        ("SELECT currval('child')", "42809"),
        ("CREATE TABLE child (x INT)", "42P07"),
        ("SELECT $1", "42P02"),
    ];
    for (sql, expected) in cases {
        let err = c.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), expected, "{sql}: {err}");
        // The same through the extended protocol, where the statement is prepared first.
        if !sql.contains("$1") {
            let err = c.query(sql, &[]).await.unwrap_err();
            assert_eq!(sqlstate(&err), expected, "extended {sql}: {err}");
        }
        let one: i32 = c.query_one("SELECT 1", &[]).await.unwrap().get(0);
        assert_eq!(one, 1, "session still usable after {sql}");
    }
}

#[tokio::test]
async fn an_unknown_database_is_refused_at_startup() {
    let server = TestServer::start().await;
    let info = format!(
        "host=127.0.0.1 port={} user=postgres dbname=nosuchdb",
        server.addr.port()
    );
    let err = tokio_postgres::connect(&info, tokio_postgres::NoTls)
        .await
        .err()
        .expect("refused");
    assert_eq!(sqlstate(&err), "3D000");
}
