//! A tenant cannot reach past its own database: other files, the host, SQLite's settings
//! or litescale's own tables. Each attempt gets 42501 and the connection carries on.

use crate::harness::{TestServer, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_that_reach_outside_the_database_are_refused_with_42501() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a TEXT)").await.unwrap();
    let outside = tempfile::tempdir().unwrap();
    let file = |name: &str| outside.path().join(name).display().to_string();
    let attempts = [
        format!("ATTACH DATABASE '{}' AS other", file("other.db")),
        "DETACH DATABASE other".to_owned(),
        format!("SELECT load_extension('{}')", file("ext.so")),
        format!("VACUUM INTO '{}'", file("copy.db")),
        "SELECT pg_read_file('/etc/passwd')".to_owned(),
        "SELECT readfile('/etc/passwd')".to_owned(),
        format!("SELECT writefile('{}', 'x')", file("written")),
        "COPY t FROM '/etc/passwd'".to_owned(),
        format!("COPY t TO '{}'", file("out.txt")),
        "COPY t TO PROGRAM 'touch /tmp/pwned'".to_owned(),
        "PRAGMA writable_schema = ON".to_owned(),
        "PRAGMA journal_mode = DELETE".to_owned(),
        "SELECT * FROM pragma_database_list".to_owned(),
        "SELECT * FROM pragma_compile_options".to_owned(),
        "SELECT * FROM _litescale_commits".to_owned(),
        "DELETE FROM _litescale_commits".to_owned(),
    ];
    for sql in &attempts {
        let err = c.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{sql}: {err:?}");
        // The connection carries on.
        c.simple_query("SELECT 1").await.unwrap();
    }
    // Extended protocol too.
    let err = c
        .query("SELECT * FROM pragma_database_list", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42501");
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "nothing was written outside the storage directory"
    );
    // The catalog, which reads the schema through PRAGMA functions, still works.
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON a.attrelid = c.oid WHERE c.relname = 't'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_names_cannot_escape_the_storage_directory() {
    let server = TestServer::start().await;
    let long = "x".repeat(200);
    for name in ["..", "../escape", "a/b", "/etc", ".hidden", long.as_str()] {
        let conninfo = format!(
            "host=127.0.0.1 port={} user=postgres dbname='{}'",
            server.addr.port(),
            name.replace('\'', "\\'")
        );
        let err = match tokio_postgres::connect(&conninfo, tokio_postgres::NoTls).await {
            Err(e) => e,
            Ok(_) => panic!("connected to database {name:?}"),
        };
        assert_eq!(sqlstate(&err), "3D000", "{name:?}: {err:?}");
    }
    let data = server.data_dir();
    let entries: Vec<String> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        entries,
        ["postgres"],
        "only the default database's directory"
    );
    assert!(!data.parent().unwrap().join("escape").exists());
    // Everyone else is served as before.
    server
        .client()
        .await
        .simple_query("SELECT 1")
        .await
        .unwrap();
}

async fn connect_to(
    server: &TestServer,
    database: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    crate::harness::connect_to_database(server.addr, database).await
}

/// Each database is a tenant with its own files; CREATE and DROP DATABASE make and remove
/// them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_are_tenants_with_their_own_files() {
    let server = TestServer::start().await;
    let admin = server.client().await;
    admin
        .batch_execute("CREATE DATABASE tenant_a; CREATE DATABASE tenant_b")
        .await
        .unwrap_err();
    // Not in a transaction (a multi-statement query is one), as in Postgres.
    admin
        .batch_execute("CREATE DATABASE tenant_a")
        .await
        .unwrap();
    admin
        .batch_execute("CREATE DATABASE tenant_b")
        .await
        .unwrap();
    let err = admin
        .batch_execute("CREATE DATABASE tenant_a")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42P04");
    admin
        .batch_execute("CREATE DATABASE IF NOT EXISTS tenant_a")
        .await
        .unwrap();
    let err = admin
        .batch_execute("CREATE DATABASE \"../escape\"")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42602");

    let a = connect_to(&server, "tenant_a").await.unwrap();
    a.batch_execute("CREATE TABLE secrets (v TEXT); INSERT INTO secrets VALUES ('a only')")
        .await
        .unwrap();
    let b = connect_to(&server, "tenant_b").await.unwrap();
    let err = b.query("SELECT * FROM secrets", &[]).await.unwrap_err();
    assert_eq!(
        sqlstate(&err),
        "42P01",
        "tenant_b cannot see tenant_a's table"
    );
    let file = server.data_dir().join("tenant_a").join("0.db");
    let v: String = rusqlite::Connection::open(&file)
        .unwrap()
        .query_row("SELECT v FROM secrets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, "a only");

    let err = a.batch_execute("DROP DATABASE tenant_a").await.unwrap_err();
    assert_eq!(sqlstate(&err), "55006", "cannot drop the open database");
    let err = admin
        .batch_execute("DROP DATABASE tenant_a")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "55006", "in use by another session");
    let err = admin
        .batch_execute("BEGIN; DROP DATABASE tenant_b")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "25001");
    admin.batch_execute("ROLLBACK").await.unwrap();
    drop(a);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    admin.batch_execute("DROP DATABASE tenant_a").await.unwrap();
    assert!(!server.data_dir().join("tenant_a").exists());
    let err = connect_to(&server, "tenant_a").await.err().unwrap();
    assert_eq!(sqlstate(&err), "3D000");
    admin
        .batch_execute("DROP DATABASE IF EXISTS tenant_a")
        .await
        .unwrap();
    b.simple_query("SELECT 1").await.unwrap();
}
