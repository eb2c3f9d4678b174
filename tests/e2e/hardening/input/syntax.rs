//! Lexical forms litescale did not take as Postgres does: `U&'...'` strings (with
//! UESCAPE), and identifiers longer than 63 bytes, which Postgres truncates with a NOTICE.

use std::process::Command;

use crate::harness::{TestServer, simple_rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unicode_escape_strings_read_as_postgres_reads_them() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let sql = r"SELECT U&'d\0061t\+000061', U&'d!0061t!!' UESCAPE '!', u&'it''s \00e9'";
    let rows = simple_rows(&c.simple_query(sql).await.unwrap());
    assert_eq!(
        rows,
        vec![vec![
            Some("data".to_owned()),
            Some("dat!".to_owned()),
            Some("it's é".to_owned())
        ]]
    );
    let row = c.query_one(sql, &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "data");
    let err = c
        .simple_query(r"SELECT U&'x' UESCAPE 'a'")
        .await
        .unwrap_err();
    assert_eq!(crate::harness::sqlstate(&err), "42601");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_longer_than_63_bytes_are_truncated_with_a_notice() {
    let server = TestServer::start().await;
    let long = format!("t_{}", "x".repeat(70));
    let truncated = &long[..63];
    let conninfo = format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres",
        server.addr.port()
    );
    let out = Command::new("psql")
        .args([
            conninfo.as_str(),
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("CREATE TABLE {long} (a INT)"),
            "-c",
            // Another name with the same first 63 bytes is the same table.
            &format!("INSERT INTO {truncated}yyy VALUES (1)"),
            "-At",
            "-c",
            "SELECT relname FROM pg_class WHERE relkind = 'r'",
        ])
        .output()
        .expect("psql");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!(
            "NOTICE:  identifier \"{long}\" will be truncated to \"{truncated}\""
        )),
        "{stderr}"
    );
    assert_eq!(stdout.lines().last(), Some(truncated), "{stdout}");
}
