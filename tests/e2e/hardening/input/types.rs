//! Issue 21 item 3 (and item 12's codes): a value Postgres' input refuses for a column's
//! type is refused on every write path (literal, parameter, COPY, UPDATE, ON CONFLICT DO
//! UPDATE, INSERT ... SELECT) with Postgres' SQLSTATE and message, and the table stays
//! readable for every client afterwards. Expected answers are PostgreSQL 15's.

use std::pin::pin;

use futures::SinkExt;
use tokio_postgres::Client;
use tokio_postgres::types::Type;

use crate::harness::{RawClient, TestServer};

const TABLE: &str = "CREATE TABLE p (
    id INT PRIMARY KEY, i INT, b BIGINT, d DATE, u UUID, f BOOLEAN, j JSON, n NUMERIC,
    tz TIMESTAMPTZ, s TEXT)";

/// The SQLSTATE and message of a failed statement.
fn refusal(result: Result<impl std::fmt::Debug, tokio_postgres::Error>) -> (String, String) {
    let e = result.expect_err("refused");
    let db = e
        .as_db_error()
        .unwrap_or_else(|| panic!("a server error: {e}"));
    (db.code().code().to_owned(), db.message().to_owned())
}

/// Another client reads the whole table, in both formats, and finds `rows` rows.
async fn readable(server: &TestServer, rows: usize) {
    let other = server.client().await;
    let text = other.simple_query("SELECT * FROM p").await.unwrap();
    assert_eq!(crate::harness::simple_rows(&text).len(), rows);
    let binary = other.query("SELECT * FROM p", &[]).await.unwrap();
    assert_eq!(binary.len(), rows);
}

async fn table(server: &TestServer) -> Client {
    let c = server.client().await;
    c.batch_execute(TABLE).await.unwrap();
    c.batch_execute(
        "INSERT INTO p VALUES (1, 12, 1, '2024-02-29', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
                              't', '{\"a\": 1}', 1.5, '2024-01-01 00:00:00+15:59', 'x')",
    )
    .await
    .unwrap();
    c
}

#[tokio::test]
async fn literals_postgres_refuses_are_refused_and_the_table_stays_readable() {
    let server = TestServer::start().await;
    let c = table(&server).await;
    let cases = [
        (
            "INSERT INTO p (id, i) VALUES (2, 'abc')",
            "22P02",
            "invalid input syntax for type integer: \"abc\"",
        ),
        (
            "INSERT INTO p (id, i) VALUES (2, 99999999999)",
            "22003",
            "value \"99999999999\" is out of range for type integer",
        ),
        (
            "INSERT INTO p (id, b) VALUES (2, 10000000000000000000)",
            "22003",
            "bigint out of range",
        ),
        (
            "INSERT INTO p (id, d) VALUES (2, '2024-13-45')",
            "22008",
            "date/time field value out of range: \"2024-13-45\"",
        ),
        (
            "INSERT INTO p (id, d) VALUES (2, 'nope')",
            "22007",
            "invalid input syntax for type date: \"nope\"",
        ),
        (
            "INSERT INTO p (id, u) VALUES (2, 'nope')",
            "22P02",
            "invalid input syntax for type uuid: \"nope\"",
        ),
        (
            "INSERT INTO p (id, f) VALUES (2, 'maybe')",
            "22P02",
            "invalid input syntax for type boolean: \"maybe\"",
        ),
        (
            "INSERT INTO p (id, j) VALUES (2, '{nope')",
            "22P02",
            "invalid input syntax for type json",
        ),
        // Postgres' numeric holds 1e400; litescale's (an 8-byte float) cannot, and says so
        // rather than store infinity.
        (
            "INSERT INTO p (id, n) VALUES (2, 1e400)",
            "22003",
            "value overflows numeric format",
        ),
        (
            "INSERT INTO p (id, tz) VALUES (2, '2024-01-01 00:00:00+99:99')",
            "22009",
            "time zone displacement out of range: \"2024-01-01 00:00:00+99:99\"",
        ),
    ];
    for (sql, sqlstate, message) in cases {
        let (code, text) = refusal(c.simple_query(sql).await);
        assert_eq!((code.as_str(), text.as_str()), (sqlstate, message), "{sql}");
        readable(&server, 1).await;
    }
    // What SQLite's affinity turns into a valid value stays valid, as in Postgres.
    c.batch_execute("INSERT INTO p (id, i, f, d) VALUES (2, '12', 'yes', '2024-03-01')")
        .await
        .unwrap();
    // A column added later is checked too.
    c.batch_execute("ALTER TABLE p ADD COLUMN e DATE")
        .await
        .unwrap();
    let (code, _) = refusal(
        c.simple_query("INSERT INTO p (id, e) VALUES (3, '2024-02-30')")
            .await,
    );
    assert_eq!(code, "22008");
    readable(&server, 2).await;
    // The checks are litescale's, not the user's constraints.
    let checks: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'c'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(checks, 0);
}

#[tokio::test]
async fn parameters_postgres_refuses_are_refused() {
    let server = TestServer::start().await;
    let c = table(&server).await;
    // tokio-postgres: text parameters the column's type refuses.
    let insert = "INSERT INTO p (id, d, b, n) VALUES (2, $1, $2, $3)";
    let cases: [(&str, Type, usize, &str); 4] = [
        ("2024-13-45", Type::TEXT, 0, "22008"),
        ("99999999999999999999", Type::TEXT, 1, "22003"),
        ("1e400", Type::TEXT, 2, "22003"),
        ("{nope", Type::TEXT, 2, "22P02"),
    ];
    for (value, ty, position, sqlstate) in cases {
        let null: &(dyn tokio_postgres::types::ToSql + Sync) = &None::<&str>;
        let mut params = vec![(null, Type::TEXT); 3];
        params[position] = (&value, ty);
        let (code, _) = refusal(c.query_typed(insert, &params).await);
        assert_eq!(code, sqlstate, "{value}");
        readable(&server, 1).await;
    }
    let (code, message) = refusal(
        c.execute("INSERT INTO p (id, s) VALUES (2, $1)", &[&"a\0b"])
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("22021", "invalid byte sequence for encoding \"UTF8\": 0x00")
    );
}

/// Parameters the proxy decodes by their declared type, in text and binary format: item
/// 12's bigint overflow (was 22P02) and invalid date (was 22007) among them.
#[tokio::test]
async fn decoded_parameters_get_postgres_codes() {
    let server = TestServer::start().await;
    let _c = table(&server).await;
    let mut raw = RawClient::connect(server.addr).await;
    let decoded = |oid: u32, column: &str, value: &[u8], binary: i16| {
        (oid, column.to_owned(), value.to_vec(), binary)
    };
    // Decimal('1e1000') as asyncpg sends it: one base-10000 digit 1, weight 250.
    let numeric_1e1000 = [0, 1, 0, 250, 0, 0, 0, 0, 0, 1];
    let cases = [
        (
            decoded(20, "b", b"99999999999999999999", 0),
            "22003",
            "value \"99999999999999999999\" is out of range for type bigint",
        ),
        (
            decoded(1082, "d", b"2024-13-45", 0),
            "22008",
            "date/time field value out of range: \"2024-13-45\"",
        ),
        (
            decoded(25, "s", b"a\0b", 0),
            "22021",
            "invalid byte sequence for encoding \"UTF8\": 0x00",
        ),
        (
            decoded(1700, "n", &numeric_1e1000, 1),
            "22003",
            "value overflows numeric format",
        ),
    ];
    for ((oid, column, value, format), sqlstate, message) in cases {
        let sql = format!("INSERT INTO p (id, {column}) VALUES (2, $1)");
        raw.parse("", &sql, &[oid]).await;
        raw.bind("", "", &[Some(&value)], format, 0).await;
        raw.execute("", 0).await;
        let (messages, _) = raw.sync().await;
        let error = messages
            .iter()
            .find(|m| m.tag == b'E')
            .unwrap_or_else(|| panic!("{column}: refused"));
        assert_eq!(error.sqlstate().as_deref(), Some(sqlstate), "{column}");
        assert!(error.text().contains(message), "{column}: {}", error.text());
    }
    readable(&server, 1).await;
}

#[tokio::test]
async fn copy_update_upsert_and_insert_select_are_checked() {
    let server = TestServer::start().await;
    let c = table(&server).await;

    // COPY: the json is not JSON, the date has month 13.
    for (row, sqlstate) in [("2\t{nope\n", "22P02"), ("2\t2024-13-45\n", "22008")] {
        let column = if row.contains('{') { "j" } else { "d" };
        let sink = c
            .copy_in(&format!("COPY p (id, {column}) FROM STDIN"))
            .await
            .unwrap();
        let mut sink = pin!(sink);
        sink.send(bytes::Bytes::from(row)).await.unwrap();
        let (code, _) = refusal(sink.finish().await);
        assert_eq!(code, sqlstate, "COPY {row}");
        readable(&server, 1).await;
    }

    let cases = [
        ("UPDATE p SET i = 'x' || i", "22P02"),
        ("UPDATE p SET d = '2024-02-30'", "22008"),
        ("UPDATE p SET i = i * 1000000000", "22003"),
        (
            "INSERT INTO p (id, d) VALUES (1, '2024-01-01')
             ON CONFLICT (id) DO UPDATE SET d = '2024-13-45'",
            "22008",
        ),
        (
            "INSERT INTO p (id, u) VALUES (1, NULL) ON CONFLICT (id) DO UPDATE SET u = 'nope'",
            "22P02",
        ),
        ("INSERT INTO p (id, i) SELECT 2, 'abc'", "22P02"),
        ("INSERT INTO p (id, f) SELECT id + 1, s FROM p", "22P02"),
    ];
    for (sql, sqlstate) in cases {
        let (code, _) = refusal(c.simple_query(sql).await);
        assert_eq!(code, sqlstate, "{sql}");
        let (code, _) = refusal(c.execute(sql, &[]).await);
        assert_eq!(code, sqlstate, "extended: {sql}");
        readable(&server, 1).await;
    }
}
