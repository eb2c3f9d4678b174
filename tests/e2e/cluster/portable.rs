//! Export of a tenant's database to one plain SQLite file (opened here by the sqlite3
//! CLI) and import from one, across partition maps.

use std::path::Path;
use std::process::Command;

use super::partitions::{MAP, load};
use crate::harness::{ServerProcess, binary, config_args, connect, connect_to_database};

fn litescale(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new(binary())
        .args(args)
        .output()
        .expect("litescale");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sqlite3(file: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(file)
        .arg(sql)
        .output()
        .expect("sqlite3 must be installed (Debian: sqlite3)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn in_partition(data: &Path, database: &str, p: usize, sql: &str) -> i64 {
    rusqlite::Connection::open(data.join(database).join(format!("{p}.db")))
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_exports_to_a_plain_sqlite_file_and_imports_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("litescale.toml");
    std::fs::write(
        &config,
        format!("{MAP}\n[tables.currencies]\nreference = true\n"),
    )
    .unwrap();
    let server = ServerProcess::start_with(&config_args(&data, &config));
    let c = connect(server.addr).await;
    load(&c).await;
    c.batch_execute(
        "CREATE TABLE currencies (code TEXT PRIMARY KEY); INSERT INTO currencies VALUES ('EUR'), ('USD');
         INSERT INTO audit VALUES (1, 'exported')",
    )
    .await
    .unwrap();

    // Export while the server runs.
    let dump = dir.path().join("dump.db");
    let flags = |command: &str, database: &str, file_flag: &str, file: &Path| {
        vec![
            std::ffi::OsString::from("--config"),
            config.clone().into(),
            "--data".into(),
            data.clone().into(),
            command.into(),
            "--database".into(),
            database.into(),
            file_flag.into(),
            file.into(),
        ]
    };
    let args = flags("export", "postgres", "--out", &dump);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (ok, log) = litescale(&args);
    assert!(ok, "{log}");
    assert_eq!(sqlite3(&dump, "SELECT count(*) FROM accounts"), "200");
    assert_eq!(sqlite3(&dump, "SELECT count(*) FROM history"), "200");
    assert_eq!(
        sqlite3(&dump, "SELECT count(*) FROM currencies"),
        "2",
        "one copy of a reference table"
    );
    assert_eq!(sqlite3(&dump, "SELECT what FROM audit"), "exported");
    assert_eq!(
        sqlite3(
            &dump,
            "SELECT count(*) FROM sqlite_schema WHERE name LIKE '%litescale%'"
        ),
        "0"
    );
    assert_eq!(sqlite3(&dump, "PRAGMA integrity_check"), "ok");
    // litescale's type checks call a function the sqlite3 CLI lacks: the file has none, so
    // it takes writes (and the export copied rows into it with them).
    assert_eq!(
        sqlite3(
            &dump,
            "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%pg_typecheck%'"
        ),
        "0"
    );
    assert_eq!(
        sqlite3(
            &dump,
            "INSERT INTO audit VALUES (2, 'cli'); SELECT count(*) FROM audit"
        ),
        "2"
    );
    assert_eq!(
        sqlite3(
            &dump,
            "DELETE FROM audit WHERE id = 2; SELECT count(*) FROM audit"
        ),
        "1"
    );
    let (ok, log) = litescale(&args);
    assert!(
        !ok && log.contains("exists"),
        "export never overwrites: {log}"
    );

    // Import as a new database of the same server: rows land where the map puts them.
    let args = flags("import", "copy", "--from", &dump);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (ok, log) = litescale(&args);
    assert!(ok, "{log}");
    for p in 0..4 {
        let q = "SELECT count(*) FROM accounts";
        assert_eq!(
            in_partition(&data, "copy", p, q),
            in_partition(&data, "postgres", p, q)
        );
        let q = "SELECT count(*) FROM currencies";
        assert_eq!(
            in_partition(&data, "copy", p, q),
            2,
            "reference copy in partition {p}"
        );
    }
    let copy = connect_to_database(server.addr, "copy").await.unwrap();
    for sql in [
        "SELECT sum(abalance) FROM accounts",
        "SELECT count(*) FROM history WHERE delta = 1",
        "SELECT count(*) FROM audit",
    ] {
        let a: i64 = c.query_one(sql, &[]).await.unwrap().get(0);
        let b: i64 = copy.query_one(sql, &[]).await.unwrap().get(0);
        assert_eq!(a, b, "{sql}");
    }
    let (ok, log) = litescale(&args);
    assert!(!ok && log.contains("already exists"), "{log}");

    // Into an unpartitioned storage directory: one file with everything.
    let single = dir.path().join("single");
    std::fs::create_dir_all(&single).unwrap();
    let (ok, log) = litescale(&[
        "--data".as_ref(),
        single.as_os_str(),
        "import".as_ref(),
        "--database".as_ref(),
        "one".as_ref(),
        "--from".as_ref(),
        dump.as_os_str(),
    ]);
    assert!(ok, "{log}");
    assert_eq!(
        in_partition(&single, "one", 0, "SELECT count(*) FROM accounts"),
        200
    );
}
