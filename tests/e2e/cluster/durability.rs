//! A commit acknowledged to the client survives a SIGKILL of the server.

use crate::harness::{ServerProcess, config_args, connect};

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
        let check = crate::harness::integrity_check(&db);
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

const LEDGER_MAP: &str = "[partitions]\ncount = 4\n[tables.ledger]\nkey = \"id\"\n";

/// Every acknowledged id is in some partition's file, every two-row transaction is there
/// whole or not at all, and every file passes integrity_check.
fn verify_ledger(data: &std::path::Path, acked: &[i32], pairs: &[i32]) {
    let mut present = std::collections::HashSet::new();
    for p in 0..4 {
        let db = rusqlite::Connection::open(data.join("postgres").join(format!("{p}.db"))).unwrap();
        let check = crate::harness::integrity_check(&db);
        assert_eq!(check, "ok", "partition {p}");
        let created: bool = db
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'ledger'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if !created {
            continue;
        }
        let mut stmt = db.prepare("SELECT id FROM ledger").unwrap();
        for id in stmt.query_map([], |r| r.get::<_, i32>(0)).unwrap() {
            present.insert(id.unwrap());
        }
    }
    for id in acked {
        assert!(present.contains(id), "acknowledged id {id} is missing");
    }
    for first in pairs {
        assert_eq!(
            present.contains(first),
            present.contains(&(first + 1)),
            "the two-row transaction starting at {first} is half there"
        );
    }
}

/// SIGKILL at 20 moments of a mixed write load over 4 partitions (single-row autocommit
/// inserts, two-row transactions spanning partitions, updates): after each restart every
/// acknowledged commit is there, no transaction is half there, and the files are intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commits_survive_twenty_sigkills_during_a_mixed_load() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("litescale.toml");
    std::fs::write(&config, LEDGER_MAP).unwrap();
    let args = config_args(&data, &config);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let pairs = Arc::new(Mutex::new(Vec::new()));
    let mut seed = 0x2545_f491_u64;
    for round in 0..20i32 {
        let server = ServerProcess::start_with(&args);
        verify_ledger(&data, &acked.lock().unwrap(), &pairs.lock().unwrap());
        let setup = connect(server.addr).await;
        setup
            .batch_execute("CREATE TABLE IF NOT EXISTS ledger (id INT PRIMARY KEY, n INT)")
            .await
            .unwrap();
        let mut load = Vec::new();
        for worker in 0..4i32 {
            let c = connect(server.addr).await;
            let (acked, pairs) = (Arc::clone(&acked), Arc::clone(&pairs));
            load.push(tokio::spawn(async move {
                // Ids are unique per round and worker: 1,000,000 per round, 100,000 per worker.
                let mut next = round * 1_000_000 + worker * 100_000;
                loop {
                    next += 2;
                    let result = match next % 3 {
                        0 => c
                            .execute("INSERT INTO ledger VALUES ($1, 0)", &[&next])
                            .await
                            .map(|_| vec![next]),
                        1 => c
                            .execute(
                                "INSERT INTO ledger VALUES ($1, 0), ($2, 0)",
                                &[&next, &(next + 1)],
                            )
                            .await
                            .map(|_| vec![next, next + 1]),
                        _ => c
                            .batch_execute(&format!(
                                "BEGIN; INSERT INTO ledger VALUES ({next}, 0);
                                 UPDATE ledger SET n = n + 1 WHERE id = {next};
                                 INSERT INTO ledger VALUES ({}, 0); COMMIT",
                                next + 1
                            ))
                            .await
                            .map(|()| vec![next, next + 1]),
                    };
                    match result {
                        Ok(ids) => {
                            if ids.len() == 2 {
                                pairs.lock().unwrap().push(ids[0]);
                            }
                            acked.lock().unwrap().extend(ids);
                        }
                        // The server was killed: an unacknowledged write may or may not
                        // have committed, but a two-row one must be whole either way.
                        Err(_) => {
                            if next % 3 != 0 {
                                pairs.lock().unwrap().push(next);
                            }
                            break;
                        }
                    }
                }
            }));
        }
        // A pseudo-random moment, 50-300 ms into the load.
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let after = 50 + (seed >> 33) % 250;
        tokio::time::sleep(std::time::Duration::from_millis(after)).await;
        server.kill();
        for task in load {
            task.await.unwrap();
        }
    }
    let _last = ServerProcess::start_with(&args);
    verify_ledger(&data, &acked.lock().unwrap(), &pairs.lock().unwrap());
    assert!(acked.lock().unwrap().len() > 100, "the load ran");
}
