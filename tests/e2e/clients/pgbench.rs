//! The real pgbench: initialisation (DROP, CREATE ... WITH, TRUNCATE, COPY, VACUUM,
//! ALTER TABLE ADD PRIMARY KEY) and every builtin script in every query mode.

use std::process::Command;

use crate::harness::TestServer;

fn pgbench(server: &TestServer, args: &[&str]) -> String {
    let port = server.addr.port().to_string();
    let out = Command::new("pgbench")
        .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
        .args(args)
        .arg("postgres")
        .output()
        .expect("pgbench must be installed (Debian: postgresql-15)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pgbench {args:?} failed:\n{text}");
    text
}

async fn sums(c: &tokio_postgres::Client) -> (i64, i64) {
    let row = c
        .query_one(
            "SELECT (SELECT sum(abalance) FROM pgbench_accounts),
                    (SELECT coalesce(sum(delta), 0) FROM pgbench_history)",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_initialises_and_runs_every_builtin_in_every_mode() {
    let server = TestServer::start().await;
    let out = pgbench(&server, &["-i", "-s", "1"]);
    assert!(out.contains("done in"), "{out}");
    let c = server.client().await;
    let accounts: i64 = c
        .query_one("SELECT count(*) FROM pgbench_accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(accounts, 100_000);

    for mode in ["simple", "extended", "prepared"] {
        for script in ["tpcb-like", "simple-update", "select-only"] {
            let (before, _) = sums(&c).await;
            let out = pgbench(
                &server,
                &["-c", "4", "-j", "2", "-T", "1", "-M", mode, "-b", script],
            );
            assert!(
                out.contains("number of failed transactions: 0 (0.000%)"),
                "{mode} {script}:\n{out}"
            );
            let processed = out
                .lines()
                .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
                .and_then(|n| n.split('/').next()?.trim().parse::<u64>().ok())
                .unwrap_or(0);
            assert!(processed > 0, "{mode} {script} ran nothing:\n{out}");
            // pgbench empties pgbench_history before each run, so this run's deltas are
            // exactly what it added to the accounts.
            let (after, deltas) = sums(&c).await;
            if script != "select-only" {
                assert_eq!(
                    after - before,
                    deltas,
                    "{mode} {script}: sum(abalance) drifted"
                );
            }
        }
    }
}

/// pgbench against the 4-partition example: a custom script keyed by aid (update and read
/// one account) routes every statement to one partition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_runs_a_keyed_script_on_four_partitions() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/pgbench-4-partitions.toml"
    );
    let config = litescale_config::Config::from_file(std::path::Path::new(example)).unwrap();
    let server = TestServer::start_with(config).await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE pgbench_accounts (aid INT NOT NULL PRIMARY KEY, bid INT, abalance INT, filler CHAR(84))",
    )
    .await
    .unwrap();
    let insert = c
        .prepare("INSERT INTO pgbench_accounts (aid, bid, abalance) VALUES ($1, 1, 0)")
        .await
        .unwrap();
    for aid in 1..=1000i32 {
        c.execute(&insert, &[&aid]).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("keyed.sql");
    std::fs::write(
        &script,
        "\\set aid random(1, 1000)\n\
         UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;\n\
         SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n",
    )
    .unwrap();
    let out = pgbench(
        &server,
        &[
            "-n",
            "-c",
            "4",
            "-j",
            "2",
            "-T",
            "2",
            "-M",
            "prepared",
            "-f",
            script.to_str().unwrap(),
        ],
    );
    assert!(
        out.contains("number of failed transactions: 0 (0.000%)"),
        "{out}"
    );
    let processed: i64 = out
        .lines()
        .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
        .and_then(|n| n.split('/').next()?.trim().parse().ok())
        .unwrap_or(0);
    assert!(processed > 0, "{out}");
    // Every transaction added exactly 1 to one account.
    let total: i64 = c
        .query_one("SELECT sum(abalance) FROM pgbench_accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, processed);
}

/// `pgbench -i` (DROP, CREATE, TRUNCATE + INSERT + COPY in one transaction, VACUUM, ADD
/// PRIMARY KEY) and the builtin tpcb-like script on the 4-partition example, where most
/// transactions write accounts, tellers and branches in different partitions. Deadlocks
/// between partition writers (40P01) are retried by pgbench, as a Postgres application
/// retries them; none may fail, and every balance must add up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_tpcb_like_commits_atomically_across_four_partitions() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/pgbench-4-partitions.toml"
    );
    let config = litescale_config::Config::from_file(std::path::Path::new(example)).unwrap();
    let server = TestServer::start_with(config).await;
    let out = pgbench(&server, &["-i", "-s", "2"]);
    assert!(out.contains("done in"), "{out}");
    let in_files: i64 = (0..4)
        .map(|p| {
            let file = server.data_dir().join("postgres").join(format!("{p}.db"));
            let db = rusqlite::Connection::open(file).unwrap();
            let n: i64 = db
                .query_row("SELECT count(*) FROM pgbench_accounts", [], |r| r.get(0))
                .unwrap();
            assert!(n > 40_000, "partition {p} holds {n} of 200,000 accounts");
            n
        })
        .sum();
    assert_eq!(in_files, 200_000);
    let out = pgbench(
        &server,
        &[
            "-c",
            "8",
            "-j",
            "2",
            "-t",
            "60",
            "-b",
            "tpcb-like",
            "--max-tries",
            "1000",
        ],
    );
    assert!(
        out.contains("number of failed transactions: 0 (0.000%)"),
        "{out}"
    );
    let c = server.client().await;
    let sum = |sql: &'static str| {
        let c = &c;
        async move { c.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let deltas = sum("SELECT sum(delta) FROM pgbench_history").await;
    assert_eq!(sum("SELECT count(*) FROM pgbench_history").await, 480);
    assert_eq!(
        sum("SELECT sum(abalance) FROM pgbench_accounts").await,
        deltas
    );
    assert_eq!(
        sum("SELECT sum(tbalance) FROM pgbench_tellers").await,
        deltas
    );
    assert_eq!(
        sum("SELECT sum(bbalance) FROM pgbench_branches").await,
        deltas
    );
}
