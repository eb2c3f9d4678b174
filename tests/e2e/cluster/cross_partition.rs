//! Transactions that write several partitions: all partitions or none, crash included
//! (the process is SIGKILLed at each step of the commit), and deadlocks between
//! partition writers broken with 40P01.

use std::path::Path;

use litescale_config::{Config, KeyValue};

use super::partitions::{MAP, load};
use crate::harness::{ServerProcess, TestServer, config_args, connect, sqlstate};

/// The one value `sql` reads from partition `p`'s file, opened directly.
fn in_file(data: &Path, p: usize, sql: &str) -> i64 {
    let db = rusqlite::Connection::open(data.join("postgres").join(format!("{p}.db"))).unwrap();
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn partition_of(aid: i64) -> usize {
    let map = toml::from_str::<Config>(MAP)
        .unwrap()
        .partition_map()
        .unwrap();
    map.partition_of("accounts", &KeyValue::Int(aid)).unwrap()
}

/// Two account ids in different partitions.
fn two_partitions() -> (i32, i32) {
    let other = (2..200)
        .find(|a| partition_of(*a) != partition_of(1))
        .unwrap();
    (1, other as i32)
}

async fn balance(c: &tokio_postgres::Client, aid: i32) -> i32 {
    c.query_one("SELECT abalance FROM accounts WHERE aid = $1", &[&aid])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_several_partitions_commit_on_all_or_none() {
    let split = TestServer::start_with(toml::from_str(MAP).unwrap()).await;
    let data = split.data_dir();
    let mut c = split.client().await;
    load(&c).await;
    let (a, b) = two_partitions();
    let (pa, pb) = (partition_of(a.into()), partition_of(b.into()));

    // A transaction block writing two partitions: committed on both.
    let tx = c.transaction().await.unwrap();
    for aid in [a, b] {
        tx.execute(
            "UPDATE accounts SET abalance = 1000 WHERE aid = $1",
            &[&aid],
        )
        .await
        .unwrap();
    }
    // It reads its own writes on both.
    let seen: i64 = tx
        .query_one("SELECT count(*) FROM accounts WHERE abalance = 1000", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(seen, 2);
    tx.commit().await.unwrap();
    let q = "SELECT count(*) FROM accounts WHERE abalance = 1000";
    assert_eq!((in_file(data, pa, q), in_file(data, pb, q)), (1, 1));
    let log = data.join("postgres").join("txlog");
    assert_eq!(std::fs::read_dir(&log).unwrap().count(), 0, "log forgotten");

    // Rolled back: on neither.
    let tx = c.transaction().await.unwrap();
    for aid in [a, b] {
        tx.execute(
            "UPDATE accounts SET abalance = 2000 WHERE aid = $1",
            &[&aid],
        )
        .await
        .unwrap();
    }
    tx.rollback().await.unwrap();
    assert_eq!((balance(&c, a).await, balance(&c, b).await), (1000, 1000));

    // A failure on the second partition fails the block: COMMIT rolls back both.
    c.batch_execute(&format!(
        "BEGIN; UPDATE accounts SET abalance = 3000 WHERE aid = {a}"
    ))
    .await
    .unwrap();
    let err = c
        .batch_execute(&format!("INSERT INTO accounts VALUES ({b}, 0, 0, 'dup')"))
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
    c.batch_execute("COMMIT").await.unwrap();
    assert_eq!(balance(&c, a).await, 1000);

    // ROLLBACK TO undoes the part of a partition first written after the savepoint.
    c.batch_execute(&format!(
        "BEGIN; UPDATE accounts SET abalance = 4000 WHERE aid = {a}; SAVEPOINT s;
         UPDATE accounts SET abalance = 4000 WHERE aid = {b}; ROLLBACK TO s; COMMIT"
    ))
    .await
    .unwrap();
    assert_eq!((balance(&c, a).await, balance(&c, b).await), (4000, 1000));

    // Single statements spanning partitions are one transaction each.
    let n = c
        .execute("UPDATE accounts SET note = 'all' WHERE note IS NULL", &[])
        .await
        .unwrap();
    assert_eq!(n, 28, "every seventh of 200 accounts");
    let returned: Vec<i32> = c
        .query(
            "INSERT INTO history VALUES ($1, 1), ($2, 2), ($3, 3) RETURNING aid",
            &[&b, &a, &(b + 1000)],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        returned,
        [b, a, b + 1000],
        "RETURNING in the client's order"
    );
    // A reference table is written in every partition's copy.
    let split = TestServer::start_with(
        toml::from_str(&format!(
            "{MAP}\n[tables.currencies]\nreference = true\n\
             [tables.currencies_seen]\nreference = true\n"
        ))
        .unwrap(),
    )
    .await;
    let r = split.client().await;
    r.batch_execute("CREATE TABLE currencies (code TEXT PRIMARY KEY); INSERT INTO currencies VALUES ('EUR'), ('USD')")
        .await
        .unwrap();
    let copies: Vec<i64> = (0..4)
        .map(|p| in_file(split.data_dir(), p, "SELECT count(*) FROM currencies"))
        .collect();
    assert_eq!(copies, [2, 2, 2, 2]);
    // A duplicate in any copy rolls back every copy.
    let err = r
        .batch_execute("INSERT INTO currencies VALUES ('GBP'), ('EUR')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
    let total: i64 = (0..4)
        .map(|p| in_file(split.data_dir(), p, "SELECT count(*) FROM currencies"))
        .sum();
    assert_eq!(total, 8);
    // The client hears one copy's answer: its count, its RETURNING rows; a SERIAL column's
    // sequence moves alike in every copy.
    let inserted = r
        .execute("INSERT INTO currencies VALUES ('GBP'), ('CHF')", &[])
        .await
        .unwrap();
    assert_eq!(inserted, 2);
    let renamed: Vec<String> = r
        .query(
            "UPDATE currencies SET code = lower(code) WHERE code IN ('GBP', 'CHF') RETURNING code",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(renamed.len(), 2, "{renamed:?}");
    r.batch_execute(
        "CREATE TABLE currencies_seen (id SERIAL PRIMARY KEY, code TEXT); \
         INSERT INTO currencies_seen (code) VALUES ('a'), ('b')",
    )
    .await
    .unwrap();
    let ids: Vec<i32> = r
        .query(
            "INSERT INTO currencies_seen (code) VALUES ('c') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(ids, [3]);
    let last: Vec<i64> = (0..4)
        .map(|p| in_file(split.data_dir(), p, "SELECT max(id) FROM currencies_seen"))
        .collect();
    assert_eq!(last, [3, 3, 3, 3]);

    // Schema changes inside a block go with it.
    c.batch_execute(
        "BEGIN; CREATE TABLE scratch (id INT); INSERT INTO audit VALUES (1, 'x'); ROLLBACK",
    )
    .await
    .unwrap();
    for p in 0..4 {
        assert_eq!(
            in_file(
                data,
                p,
                "SELECT count(*) FROM sqlite_schema WHERE name = 'scratch'"
            ),
            0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_splits_rows_by_partition_in_one_transaction() {
    let split = TestServer::start_with(toml::from_str(MAP).unwrap()).await;
    let c = split.client().await;
    load(&c).await;
    let rows: String = (1000..1100)
        .map(|aid| format!("{aid}\t{}\n", aid % 3))
        .collect();
    let sink = c
        .copy_in("COPY history (aid, delta) FROM STDIN")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    use futures::SinkExt;
    sink.send(bytes::Bytes::from(rows)).await.unwrap();
    assert_eq!(sink.finish().await.unwrap(), 100);
    for p in 0..4 {
        let expected = (1000..1100).filter(|a| partition_of(*a) == p).count() as i64;
        let q = "SELECT count(*) FROM history WHERE aid >= 1000";
        assert_eq!(in_file(split.data_dir(), p, q), expected, "partition {p}");
    }
    // A bad row anywhere leaves nothing in any partition.
    let sink = c
        .copy_in("COPY history (aid, delta) FROM STDIN")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from("2000\t1\n2001\t1\n2002\tnot-a-number\n"))
        .await
        .unwrap();
    let err = sink.finish().await.unwrap_err();
    assert_eq!(sqlstate(&err), "22P02");
    let n: i64 = c
        .query_one("SELECT count(*) FROM history WHERE aid >= 2000", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

/// Two blocks each holding one partition and waiting for the other's: the younger one
/// (begun later) gets 40P01, whichever wait closed the cycle, and the older one goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_between_partition_writers_fails_the_younger_transaction_with_40p01() {
    use std::sync::Arc;
    let split = TestServer::start_with(toml::from_str(MAP).unwrap()).await;
    let older = Arc::new(split.client().await);
    load(&older).await;
    let younger = Arc::new(split.client().await);
    let (a, b) = two_partitions();
    let update =
        |aid: i32| format!("UPDATE accounts SET abalance = abalance + 1 WHERE aid = {aid}");
    let in_background = |c: &Arc<tokio_postgres::Client>, sql: String| {
        let c = Arc::clone(c);
        tokio::spawn(async move { c.batch_execute(&sql).await })
    };
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(200));
    for (round, older_closes_the_cycle) in [(1, false), (2, true)] {
        older
            .batch_execute(&format!("BEGIN; {}", update(a)))
            .await
            .unwrap();
        younger
            .batch_execute(&format!("BEGIN; {}", update(b)))
            .await
            .unwrap();
        let (older_wait, younger_result) = if older_closes_the_cycle {
            // The younger waits first; the older's wait closes the cycle, and the
            // younger, already waiting, is told to give way.
            let younger_wait = in_background(&younger, update(a));
            pause().await;
            let older_wait = in_background(&older, update(b));
            (older_wait, younger_wait.await.unwrap())
        } else {
            let older_wait = in_background(&older, update(b));
            pause().await;
            (older_wait, younger.batch_execute(&update(a)).await)
        };
        let err = younger_result.unwrap_err();
        assert_eq!(sqlstate(&err), "40P01", "round {round}: {err:?}");
        younger.batch_execute("ROLLBACK").await.unwrap();
        older_wait.await.unwrap().unwrap();
        older.batch_execute("COMMIT").await.unwrap();
        let before = |aid: i32| (aid * 37) % 101 - 50;
        assert_eq!(balance(&older, a).await, before(a) + round);
        assert_eq!(balance(&older, b).await, before(b) + round);
    }
}

fn config_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("litescale.toml");
    std::fs::write(&path, MAP).unwrap();
    path
}

/// The steps of a commit across partitions where a process can be killed, and whether
/// the transaction is committed once it is: steps before the decision undo it; from the
/// decision on, recovery finishes it on the partitions that had not applied it.
pub(crate) const COMMIT_STEPS: [(&str, bool); 4] = [
    ("before-prepare", false),
    ("after-prepare", false),
    ("after-decision", true),
    ("after-commit", true),
];

/// One transaction adding 1 to the balances of accounts `a` and `b`.
pub(crate) fn add_one_to_both(a: i32, b: i32) -> String {
    format!(
        "BEGIN; UPDATE accounts SET abalance = abalance + 1 WHERE aid = {a};
         UPDATE accounts SET abalance = abalance + 1 WHERE aid = {b}; COMMIT"
    )
}

/// litescale on `data`, paused at commit step `pause_at` (see `LITESCALE_FAULT_PAUSE`).
pub(crate) fn start(data: &Path, config: &Path, pause_at: Option<&str>) -> ServerProcess {
    let args = config_args(data, config);
    let env: Vec<(&str, &str)> = pause_at
        .map(|step| ("LITESCALE_FAULT_PAUSE", step))
        .into_iter()
        .collect();
    ServerProcess::start_watching_stderr(&args, &env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_at_any_commit_step_leaves_a_transaction_on_all_partitions_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = config_file(dir.path());
    let (a, b) = two_partitions();
    {
        let server = start(&data, &config, None);
        let c = connect(server.addr).await;
        c.batch_execute(
            "CREATE TABLE accounts (aid INT PRIMARY KEY, bid INT, abalance INT, note TEXT)",
        )
        .await
        .unwrap();
        c.execute(
            "INSERT INTO accounts VALUES ($1, 1, 0, ''), ($2, 1, 0, '')",
            &[&a, &b],
        )
        .await
        .unwrap();
        server.kill();
    }
    let mut expected = 0;
    for (step, committed) in COMMIT_STEPS {
        let server = start(&data, &config, Some(step));
        let c = connect(server.addr).await;
        let sql = add_one_to_both(a, b);
        let commit = tokio::spawn(async move { c.batch_execute(&sql).await });
        server.wait_for_stderr(&format!("fault point {step} reached"));
        server.kill();
        assert!(commit.await.unwrap().is_err(), "{step}: never acknowledged");
        let on_disk = |aid: i32| {
            let q = format!("SELECT abalance FROM accounts WHERE aid = {aid}");
            in_file(&data, partition_of(aid.into()), &q)
        };
        if step == "after-commit" {
            // The crash split the transaction: one part committed, the other not yet.
            let (x, y) = (on_disk(a), on_disk(b));
            assert_eq!(x.min(y) + 1, x.max(y), "half-committed before recovery");
        }
        if committed {
            expected += 1;
        }
        let restarted = start(&data, &config, None);
        let c = connect(restarted.addr).await;
        let balances = (balance(&c, a).await, balance(&c, b).await);
        assert_eq!(balances, (expected, expected), "after a kill at {step}");
        let log = data.join("postgres").join("txlog");
        assert_eq!(
            std::fs::read_dir(&log).unwrap().count(),
            0,
            "{step}: log cleared"
        );
        restarted.kill();
    }
}
