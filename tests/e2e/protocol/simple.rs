//! The simple query protocol with tokio-postgres and raw messages.

use tokio_postgres::SimpleQueryMessage;

use crate::harness::{RawClient, TestServer, simple_rows as rows, sqlstate, tags};

fn counts(messages: &[SimpleQueryMessage]) -> Vec<u64> {
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn crud_round_trip() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE users (id INT PRIMARY KEY, name TEXT NOT NULL)")
        .await
        .unwrap();
    let m = c
        .simple_query("INSERT INTO users VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')")
        .await
        .unwrap();
    assert_eq!(counts(&m), [3]);
    let m = c
        .simple_query("UPDATE users SET name = upper(name) WHERE id >= 2")
        .await
        .unwrap();
    assert_eq!(counts(&m), [2]);
    let m = c
        .simple_query("DELETE FROM users WHERE id = 3")
        .await
        .unwrap();
    assert_eq!(counts(&m), [1]);
    let m = c
        .simple_query("SELECT id, name FROM users ORDER BY id")
        .await
        .unwrap();
    assert_eq!(
        rows(&m),
        [
            [Some("1".to_owned()), Some("ann".to_owned())],
            [Some("2".to_owned()), Some("BOB".to_owned())]
        ]
    );
    assert_eq!(counts(&m), [2]);
}

#[tokio::test]
async fn several_statements_in_one_query_string() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let m = c
        .simple_query("CREATE TABLE t (a INT); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); SELECT sum(a) FROM t")
        .await
        .unwrap();
    assert_eq!(rows(&m), [[Some("3".to_owned())]]);
    assert_eq!(counts(&m), [0, 1, 1, 1]);
}

#[tokio::test]
async fn a_failing_statement_rolls_back_its_whole_query_string() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT PRIMARY KEY)")
        .await
        .unwrap();
    let err = c
        .batch_execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (1)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
    let m = c.simple_query("SELECT count(*) FROM t").await.unwrap();
    assert_eq!(
        rows(&m),
        [[Some("0".to_owned())]],
        "the first insert must be undone"
    );
}

#[tokio::test]
async fn empty_queries_get_empty_query_response() {
    let server = TestServer::start().await;
    let mut raw = RawClient::connect(server.addr).await;
    for q in ["", " ", ";", " ; ;"] {
        let (messages, status) = raw.query(q).await;
        assert_eq!(tags(&messages), "I", "query {q:?}");
        assert_eq!(status, b'I');
    }
}

#[tokio::test]
async fn set_show_and_reset() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let version = c.simple_query("SHOW server_version").await.unwrap();
    assert_eq!(
        rows(&version)[0][0].as_deref(),
        Some(litescale_proxy::SERVER_VERSION)
    );
    c.batch_execute("SET application_name = 'e2e'")
        .await
        .unwrap();
    let m = c.simple_query("SHOW application_name").await.unwrap();
    assert_eq!(rows(&m)[0][0].as_deref(), Some("e2e"));
    c.batch_execute("RESET application_name").await.unwrap();
    let m = c.simple_query("SHOW application_name").await.unwrap();
    assert_eq!(rows(&m)[0][0].as_deref(), Some(""));
    // Through the extended protocol too (Describe announces the one text column).
    let version: String = c
        .query_one("SHOW server_version", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, litescale_proxy::SERVER_VERSION);
    let err = c.simple_query("SHOW no_such_setting").await.unwrap_err();
    assert_eq!(sqlstate(&err), "42704");
    // A SET in a transaction that rolls back is undone; in one that commits, it stays.
    c.batch_execute("BEGIN; SET statement_timeout = '5s'; ROLLBACK")
        .await
        .unwrap();
    let m = c.simple_query("SHOW statement_timeout").await.unwrap();
    assert_eq!(rows(&m)[0][0].as_deref(), Some("0"));
    c.batch_execute("BEGIN; SET statement_timeout = '5s'; COMMIT")
        .await
        .unwrap();
    let m = c.simple_query("SHOW statement_timeout").await.unwrap();
    assert_eq!(rows(&m)[0][0].as_deref(), Some("5s"));
}

#[tokio::test]
async fn startup_reports_parameters_like_postgres() {
    let server = TestServer::start().await;
    let addr = server.addr;
    // RawClient::connect consumes the startup answer; read it by hand instead.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut body = 196608i32.to_be_bytes().to_vec();
    body.extend_from_slice(b"user\0postgres\0application_name\0probe\0\0");
    let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    packet.extend(body);
    stream.write_all(&packet).await.unwrap();
    let mut params = std::collections::HashMap::new();
    let mut got_key_data = false;
    loop {
        let tag = stream.read_u8().await.unwrap();
        let len = stream.read_i32().await.unwrap() as usize;
        let mut b = vec![0; len - 4];
        stream.read_exact(&mut b).await.unwrap();
        match tag {
            b'S' => {
                let parts: Vec<String> = b
                    .split(|x| *x == 0)
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect();
                params.insert(parts[0].clone(), parts[1].clone());
            }
            b'K' => got_key_data = true,
            b'Z' => break,
            b'R' => assert_eq!(&b[..4], &[0, 0, 0, 0], "AuthenticationOk"),
            other => panic!("unexpected message {}", other as char),
        }
    }
    assert!(got_key_data, "BackendKeyData");
    for (k, v) in [
        ("server_encoding", "UTF8"),
        ("client_encoding", "UTF8"),
        ("DateStyle", "ISO, MDY"),
        ("TimeZone", "UTC"),
        ("integer_datetimes", "on"),
        ("standard_conforming_strings", "on"),
        ("application_name", "probe"),
        ("server_version", litescale_proxy::SERVER_VERSION),
    ] {
        assert_eq!(params.get(k).map(String::as_str), Some(v), "{k}");
    }
}

#[tokio::test]
async fn ssl_and_gssenc_requests_are_refused_then_startup_proceeds() {
    let server = TestServer::start().await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    for code in [80877104i32, 80877103] {
        let mut req = 8i32.to_be_bytes().to_vec();
        req.extend(code.to_be_bytes());
        stream.write_all(&req).await.unwrap();
        assert_eq!(stream.read_u8().await.unwrap(), b'N', "request {code}");
    }
    // And the connection then starts up in the clear.
    let c = tokio_postgres::connect(
        &format!("{} sslmode=prefer", server.conninfo()),
        tokio_postgres::NoTls,
    )
    .await;
    assert!(c.is_ok());
}
