//! Issue 21, items 8 and 9: a session that holds a partition's writer can be found (SHOW
//! CLIENTS) and ended (pg_terminate_backend, KILL, the default idle timeout for writer
//! holders); a READ ONLY serializable block holds no writer; connections that never
//! authenticate do not take client slots, and admin users have slots of their own.

use std::net::SocketAddr;
use std::time::Duration;

use litescale_config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_postgres::{Client, NoTls};

use crate::harness::{TestServer, simple_rows, sqlstate};

/// A client of `user`, with the task that reports how its connection ended.
async fn connect_as(
    addr: SocketAddr,
    user: &str,
    database: &str,
) -> Result<
    (
        Client,
        tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
    ),
    tokio_postgres::Error,
> {
    let conninfo = format!(
        "host={} port={} user={user} dbname={database}",
        addr.ip(),
        addr.port()
    );
    let (client, connection) = tokio_postgres::connect(&conninfo, NoTls).await?;
    Ok((client, tokio::spawn(connection)))
}

/// Through the simple protocol: a prepared statement's Close, which tokio-postgres sends
/// unawaited when the statement drops, could still be in flight when the session is then
/// terminated, and the client would hand the FATAL error to that Close instead.
async fn pid_of(c: &Client) -> i32 {
    let messages = c.simple_query("SELECT pg_backend_pid()").await.unwrap();
    simple_rows(&messages)[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

/// A session inside `BEGIN; INSERT ...`, holding the partition's writer, then idle.
async fn writer_holder(
    server: &TestServer,
) -> (
    Client,
    tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
    i32,
) {
    let (holder, ended) = connect_as(server.addr, "postgres", "postgres")
        .await
        .unwrap();
    holder
        .batch_execute("BEGIN; INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let pid = pid_of(&holder).await;
    (holder, ended, pid)
}

/// An autocommit insert from another session, which waits while the writer is held.
fn blocked_write(server: &TestServer) -> tokio::task::JoinHandle<()> {
    let addr = server.addr;
    tokio::spawn(async move {
        let c = crate::harness::connect(addr).await;
        c.execute("INSERT INTO t VALUES (2)", &[]).await.unwrap();
    })
}

/// The write was waiting, and finishes once the holder is gone.
async fn proceeds(write: tokio::task::JoinHandle<()>) {
    tokio::time::timeout(Duration::from_secs(10), write)
        .await
        .expect("the other session's write proceeds")
        .unwrap();
}

async fn ended_with(ended: tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>) -> String {
    let err = tokio::time::timeout(Duration::from_secs(10), ended)
        .await
        .expect("the connection ends")
        .unwrap()
        .unwrap_err();
    sqlstate(&err)
}

async fn server_with_table(config: Config) -> (TestServer, Client) {
    let server = TestServer::start_with(config).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT)").await.unwrap();
    (server, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_terminate_backend_ends_an_idle_writer_holder_and_writes_proceed() {
    let (server, admin) = server_with_table(Config::default()).await;
    let (holder, ended, pid) = writer_holder(&server).await;
    let write = blocked_write(&server);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!write.is_finished(), "the holder blocks other writers");

    let row = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    proceeds(write).await;
    assert_eq!(ended_with(ended).await, "57P01");
    assert!(holder.simple_query("SELECT 1").await.is_err());
    // The holder's insert was rolled back; the other one committed.
    let rows: Vec<i32> = admin
        .query("SELECT a FROM t", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows, vec![2]);

    // No such session: false (Postgres warns too).
    let messages = admin
        .simple_query("SELECT pg_terminate_backend(12345)")
        .await
        .unwrap();
    assert_eq!(simple_rows(&messages), vec![vec![Some("f".to_owned())]]);
    // Any other use of the function is refused rather than run by SQLite.
    let err = admin
        .simple_query("SELECT pg_terminate_backend(a) FROM t")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "0A000");
    // Ending one's own session ends it at once: the answer is the FATAL error.
    let (me, my_end) = connect_as(server.addr, "postgres", "postgres")
        .await
        .unwrap();
    let err = me
        .simple_query("SELECT pg_terminate_backend(pg_backend_pid())")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "57P01");
    let _closed = tokio::time::timeout(Duration::from_secs(10), my_end)
        .await
        .expect("the connection ends");
}

const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_cancel_backend_interrupts_the_statement_and_the_session_goes_on() {
    let server = TestServer::start().await;
    let busy = server.client().await;
    let other = server.client().await;
    let pid = pid_of(&busy).await;
    let running = tokio::spawn(async move {
        let err = busy.simple_query(ENDLESS).await.unwrap_err();
        (busy, sqlstate(&err))
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let row = other
        .query_one("SELECT pg_cancel_backend($1)", &[&pid])
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    let (busy, state) = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the statement is interrupted")
        .unwrap();
    assert_eq!(state, "57014");
    busy.simple_query("SELECT 1").await.unwrap();
}

fn users_config() -> Config {
    // No passwords: the default rules trust loopback.
    Config::from_toml(
        r#"
[[users]]
name = "alice"

[[users]]
name = "bob"

[[users]]
name = "boss"
admin = true
"#,
        std::path::Path::new("test.toml"),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signalling_another_users_session_needs_that_user_or_an_admin() {
    let server = TestServer::start_with(users_config()).await;
    let addr = server.addr;
    let (alice, _) = connect_as(addr, "alice", "postgres").await.unwrap();
    let (alice_too, alice_too_end) = connect_as(addr, "alice", "postgres").await.unwrap();
    let (bob, bob_end) = connect_as(addr, "bob", "postgres").await.unwrap();
    let (boss, _) = connect_as(addr, "boss", "postgres").await.unwrap();
    let bob_pid = pid_of(&bob).await;
    let boss_pid = pid_of(&boss).await;
    for (function, pid) in [
        ("pg_terminate_backend", bob_pid),
        ("pg_cancel_backend", bob_pid),
        ("pg_terminate_backend", boss_pid),
    ] {
        let err = alice
            .query_one(&format!("SELECT {function}($1)"), &[&pid])
            .await
            .unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{function}({pid}): {err:?}");
    }
    bob.simple_query("SELECT 1").await.unwrap();
    // A user's own other session, and an admin for anyone.
    let alice_too_pid = pid_of(&alice_too).await;
    let own: bool = alice
        .query_one("SELECT pg_terminate_backend($1)", &[&alice_too_pid])
        .await
        .unwrap()
        .get(0);
    assert!(own);
    assert_eq!(ended_with(alice_too_end).await, "57P01");
    let by_admin: bool = boss
        .query_one("SELECT pg_terminate_backend($1)", &[&bob_pid])
        .await
        .unwrap()
        .get(0);
    assert!(by_admin);
    assert_eq!(ended_with(bob_end).await, "57P01");
}

fn rows(messages: &[tokio_postgres::SimpleQueryMessage]) -> Vec<Vec<String>> {
    simple_rows(messages)
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_who_holds_a_writer_and_kills_it() {
    let (server, _) = server_with_table(Config::default()).await;
    let (_holder, ended, pid) = writer_holder(&server).await;
    let write = blocked_write(&server);
    let (console, _) = connect_as(server.addr, "postgres", "litescale")
        .await
        .unwrap();
    let clients = rows(&console.simple_query("SHOW CLIENTS").await.unwrap());
    let row = clients
        .iter()
        .find(|r| r[0] == pid.to_string())
        .unwrap_or_else(|| panic!("pid {pid} in {clients:?}"));
    assert_eq!(row[4], "idle in transaction", "{row:?}");
    assert_eq!(row[6], "0", "the holder's partition: {row:?}");
    assert!(row[7].parse::<u64>().is_ok(), "seconds held: {row:?}");
    // Sessions that hold no writer show none.
    assert!(
        clients
            .iter()
            .filter(|r| r[0] != pid.to_string())
            .all(|r| r[6].is_empty()),
        "{clients:?}"
    );

    console.simple_query(&format!("KILL {pid}")).await.unwrap();
    proceeds(write).await;
    assert_eq!(ended_with(ended).await, "57P01");
    let err = console.simple_query("KILL 12345").await.unwrap_err();
    assert_eq!(sqlstate(&err), "42704");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_holder_left_idle_is_ended_by_the_default_timeout() {
    let mut config = Config::default();
    config.limits.idle_in_transaction_writer_timeout_ms = 500;
    let (server, _) = server_with_table(config).await;
    // A block that holds no writer blocks nobody: the default leaves it alone.
    let (reader, reader_end) = connect_as(server.addr, "postgres", "postgres")
        .await
        .unwrap();
    reader.batch_execute("BEGIN; SELECT 1").await.unwrap();

    // A holder that keeps talking is not idle, however long its block lasts.
    let (busy, busy_end) = connect_as(server.addr, "postgres", "postgres")
        .await
        .unwrap();
    busy.batch_execute("BEGIN; INSERT INTO t VALUES (5)")
        .await
        .unwrap();
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        busy.simple_query("SELECT count(*) FROM t").await.unwrap();
    }
    busy.batch_execute("COMMIT").await.unwrap();
    assert!(!busy_end.is_finished());

    let (_holder, ended, _) = writer_holder(&server).await;
    let write = blocked_write(&server);
    proceeds(write).await;
    assert_eq!(ended_with(ended).await, "25P03");
    assert!(!reader_end.is_finished());
    reader.batch_execute("COMMIT").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serializable_block_that_reads_does_not_block_writers() {
    let (server, _) = server_with_table(Config::default()).await;
    for begin in [
        "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY",
        "BEGIN ISOLATION LEVEL SERIALIZABLE; SET TRANSACTION READ ONLY",
        "SET default_transaction_read_only = on; BEGIN ISOLATION LEVEL REPEATABLE READ",
    ] {
        let reader = server.client().await;
        reader.batch_execute(begin).await.unwrap();
        let before: i64 = reader
            .query_one("SELECT count(*) FROM t", &[])
            .await
            .unwrap()
            .get(0);
        let write = blocked_write(&server);
        proceeds(write).await;
        // The block reads one snapshot: the other session's commit is not in it.
        let again: i64 = reader
            .query_one("SELECT count(*) FROM t", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(again, before, "{begin}");
        let err = reader
            .simple_query("INSERT INTO t VALUES (3)")
            .await
            .unwrap_err();
        assert_eq!(sqlstate(&err), "25006", "{begin}");
        reader.batch_execute("ROLLBACK").await.unwrap();
    }
    // Not declared read only, a SERIALIZABLE block that only reads blocks no writer
    // either; its first write fails with 40001 if something committed since its snapshot.
    let serial = server.client().await;
    serial
        .batch_execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        .await
        .unwrap();
    let before = crate::harness::count_t(&serial).await;
    proceeds(blocked_write(&server)).await;
    assert_eq!(crate::harness::count_t(&serial).await, before);
    let err = serial
        .execute("INSERT INTO t VALUES (4)", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "40001", "{err:?}");
    serial.batch_execute("ROLLBACK").await.unwrap();
    // With no commit in between, the write takes the writer and the block commits.
    serial
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .await
        .unwrap();
    let before = crate::harness::count_t(&serial).await;
    serial
        .execute("INSERT INTO t VALUES (4)", &[])
        .await
        .unwrap();
    serial.batch_execute("COMMIT").await.unwrap();
    let other = server.client().await;
    assert_eq!(crate::harness::count_t(&other).await, before + 1);
    // The isolation level is fixed once the block has run a statement.
    let err = serial
        .batch_execute("BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT 1; SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "25001");
}

/// Sends `bytes` on a new connection and keeps it open without more.
async fn silent_socket(addr: SocketAddr, bytes: &[u8]) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_that_never_authenticate_do_not_keep_clients_out() {
    let mut config = Config::default();
    config.limits.max_connections = 5;
    config.limits.max_unauthenticated_connections = 10;
    config.limits.authentication_timeout_ms = 2_000;
    let server = TestServer::start_with(config).await;
    let ssl_request = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    // A startup packet announcing 100 bytes, of which 9 come.
    let half_startup = [0, 0, 0, 100, 0, 3, 0, 0, b'u'];
    let mut sockets = Vec::new();
    for i in 0..20 {
        let bytes: &[u8] = match i % 3 {
            0 => &[],
            1 => &half_startup,
            _ => &ssl_request,
        };
        sockets.push(silent_socket(server.addr, bytes).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // More than max_connections and max_unauthenticated_connections: a real client still
    // gets in (the longest waiting unauthenticated connection makes room), repeatedly.
    let mut clients = Vec::new();
    for _ in 0..2 {
        let c = crate::harness::connect(server.addr).await;
        c.simple_query("SELECT 1").await.unwrap();
        clients.push(c);
    }
    // A silent connection is closed after authentication_timeout_ms.
    let mut late = silent_socket(server.addr, &[]).await;
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), late.read(&mut buf))
        .await
        .expect("the server closes a connection that does not authenticate");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_users_get_in_when_ordinary_users_fill_every_other_slot() {
    let mut config = users_config();
    config.limits.max_connections = 5;
    config.limits.superuser_reserved_connections = 2;
    let server = TestServer::start_with(config).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_as(server.addr, "alice", "postgres").await.unwrap());
    }
    let Err(err) = connect_as(server.addr, "bob", "postgres").await else {
        panic!("bob took a slot reserved for admin users");
    };
    assert_eq!(sqlstate(&err), "53300", "{err:?}");
    let (boss, _) = connect_as(server.addr, "boss", "postgres").await.unwrap();
    boss.simple_query("SELECT 1").await.unwrap();
    let (console, _) = connect_as(server.addr, "boss", "litescale").await.unwrap();
    console.simple_query("SHOW CLIENTS").await.unwrap();
    // Every slot taken: nobody else, admin or not.
    let Err(err) = connect_as(server.addr, "boss", "postgres").await else {
        panic!("a connection past max_connections was accepted");
    };
    assert_eq!(sqlstate(&err), "53300", "{err:?}");
}
