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

/// A violation names what it violates in the ErrorResponse's fields, as Postgres does
/// (Diesel's `constraint_name()`, ORMs' unique-violation errors read them): a UNIQUE or
/// PRIMARY KEY constraint by the name the catalog shows, given in CREATE TABLE or
/// Postgres' default; a NOT NULL column.
#[tokio::test]
async fn a_violation_names_its_constraint_table_and_schema() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE SCHEMA app;
         CREATE TABLE u (id SERIAL PRIMARY KEY, email VARCHAR NOT NULL UNIQUE);
         CREATE TABLE app.users (id int, email text, CONSTRAINT \"users_email_unique\" UNIQUE(\"email\"));
         INSERT INTO u (email) VALUES ('a');
         INSERT INTO app.users VALUES (1, 'a');",
    )
    .await
    .unwrap();
    let cases = [
        (
            "INSERT INTO u (email) VALUES ($1)",
            "public",
            "u",
            "u_email_key",
        ),
        (
            "INSERT INTO u (id, email) VALUES (1, $1 || 'b')",
            "public",
            "u",
            "u_pkey",
        ),
        (
            "INSERT INTO app.users VALUES (2, $1)",
            "app",
            "users",
            "users_email_unique",
        ),
    ];
    for (sql, schema, table, constraint) in cases {
        let err = c.execute(sql, &[&"a"]).await.unwrap_err();
        let db = err.as_db_error().expect("an ErrorResponse");
        assert_eq!(
            (db.code().code(), db.message()),
            (
                "23505",
                format!("duplicate key value violates unique constraint \"{constraint}\"").as_str()
            ),
            "{sql}"
        );
        assert_eq!(
            (db.schema(), db.table(), db.constraint()),
            (Some(schema), Some(table), Some(constraint)),
            "{sql}"
        );
    }
    let err = c
        .simple_query("INSERT INTO u (email) VALUES (NULL)")
        .await
        .unwrap_err();
    let db = err.as_db_error().expect("an ErrorResponse");
    assert_eq!(
        (db.code().code(), db.schema(), db.table(), db.column()),
        ("23502", Some("public"), Some("u"), Some("email"))
    );
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
