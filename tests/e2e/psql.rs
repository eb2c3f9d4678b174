//! The real psql binary against the real litescale binary.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::ServerProcess;

#[test]
fn a_scripted_psql_session() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path());
    let script = r#"
\set VERBOSITY verbose
CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL, price DOUBLE PRECISION);
INSERT INTO items VALUES (1, 'apple', 0.5), (2, 'pear', 0.75);
BEGIN;
UPDATE items SET price = 0.6 WHERE id = 1;
COMMIT;
BEGIN;
DELETE FROM items WHERE id = 2;
ROLLBACK;
INSERT INTO items VALUES (1, 'again', 1);
SELECT id, name, price FROM items ORDER BY id;
\q
"#;
    let mut psql = Command::new("psql")
        .args([
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            &server.addr.port().to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql must be installed (apt install postgresql-client)");
    psql.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = psql.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "psql failed: {stderr}");
    for expected in [
        "CREATE TABLE",
        "INSERT 0 2",
        "UPDATE 1",
        "COMMIT",
        "DELETE 1",
        "ROLLBACK",
        "  1 | apple |   0.6",
        "  2 | pear  |  0.75",
        "(2 rows)",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(
        stderr.contains("ERROR:  23505: duplicate key value violates unique constraint"),
        "stderr: {stderr}"
    );
}
