//! A commit acknowledged to the client survives a SIGKILL of the server.

use crate::harness::{ServerProcess, connect};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commits_survive_sigkill() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path());
    let c = connect(server.addr).await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY, note TEXT)")
        .await
        .unwrap();
    // Autocommit writes, each acknowledged.
    for i in 0..200i32 {
        c.execute("INSERT INTO t VALUES ($1, 'autocommit')", &[&i])
            .await
            .unwrap();
    }
    // An explicit transaction, acknowledged by COMMIT.
    c.batch_execute("BEGIN").await.unwrap();
    for i in 200..300i32 {
        c.execute("INSERT INTO t VALUES ($1, 'block')", &[&i])
            .await
            .unwrap();
    }
    c.batch_execute("COMMIT").await.unwrap();
    // A transaction still open when the server dies must vanish.
    let open = connect(server.addr).await;
    open.batch_execute("BEGIN; INSERT INTO t VALUES (1000, 'uncommitted')")
        .await
        .unwrap();

    server.kill();

    let file = data.path().join("postgres").join("0.db");
    {
        let db = rusqlite::Connection::open(&file).unwrap();
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let n: i64 = db
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 300, "every acknowledged row, and nothing else");
    }

    let restarted = ServerProcess::start(data.path());
    let c = connect(restarted.addr).await;
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 300);
    let uncommitted: i64 = c
        .query_one("SELECT count(*) FROM t WHERE note = 'uncommitted'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(uncommitted, 0);
}
