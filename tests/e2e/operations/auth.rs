//! Users, passwords and rules: SCRAM-SHA-256 against a stored verifier, md5, trust and
//! reject chosen by pg_hba-style rules; per-user databases and the right to create them.

use std::process::Command;

use litescale_config::Config;

use crate::harness::{TestServer, sqlstate};

fn config() -> Config {
    let bob_md5 = format!("md5{:x}", md5::compute("bob-pw".to_owned() + "bob"));
    let text = format!(
        r#"
[[users]]
name = "alice"
password = "{alice}"
databases = ["postgres"]

[[users]]
name = "bob"
password = "{bob_md5}"
create_databases = true

[[users]]
name = "carol"

[[auth]]
user = "carol"
method = "trust"

[[auth]]
user = "bob"
method = "md5"

[[auth]]
user = "mallory"
method = "reject"

[[auth]]
method = "scram-sha-256"
"#,
        alice = litescale_proxy::scram_verifier("alice-pw"),
    );
    Config::from_toml(&text, std::path::Path::new("auth.toml")).unwrap()
}

async fn login(
    server: &TestServer,
    user: &str,
    password: Option<&str>,
    database: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let mut conninfo = format!(
        "host=127.0.0.1 port={} user={user} dbname={database}",
        server.addr.port()
    );
    if let Some(p) = password {
        conninfo.push_str(&format!(" password={p}"));
    }
    let (client, connection) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

async fn refused(
    server: &TestServer,
    user: &str,
    password: Option<&str>,
    database: &str,
) -> String {
    match login(server, user, password, database).await {
        Err(e) => sqlstate(&e),
        Ok(_) => panic!("{user} was let in"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_authenticate_by_the_method_their_rule_names() {
    let server = TestServer::start_with(config()).await;
    // SCRAM-SHA-256.
    let alice = login(&server, "alice", Some("alice-pw"), "postgres")
        .await
        .unwrap();
    alice.simple_query("SELECT 1").await.unwrap();
    assert_eq!(
        refused(&server, "alice", Some("wrong"), "postgres").await,
        "28P01"
    );
    // An unknown user fails exactly as a wrong password does.
    assert_eq!(
        refused(&server, "eve", Some("x"), "postgres").await,
        "28P01"
    );
    // md5.
    let bob = login(&server, "bob", Some("bob-pw"), "postgres")
        .await
        .unwrap();
    assert_eq!(
        refused(&server, "bob", Some("alice-pw"), "postgres").await,
        "28P01"
    );
    // trust and reject.
    login(&server, "carol", None, "postgres").await.unwrap();
    assert_eq!(
        refused(&server, "mallory", Some("x"), "postgres").await,
        "28000"
    );

    // Rights: bob may create databases, alice may not, and alice may use only postgres.
    bob.batch_execute("CREATE DATABASE bobs").await.unwrap();
    let err = alice
        .batch_execute("CREATE DATABASE alices")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    assert_eq!(
        refused(&server, "alice", Some("alice-pw"), "bobs").await,
        "42501"
    );
    login(&server, "bob", Some("bob-pw"), "bobs").await.unwrap();

    // psql (libpq) speaks SCRAM too.
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &server.addr.port().to_string()])
        .args([
            "-U",
            "alice",
            "-d",
            "postgres",
            "-At",
            "-c",
            "SELECT current_user",
        ])
        .env("PGPASSWORD", "alice-pw")
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "alice");
}
