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

/// Runs psql with `-c` commands against a server process; returns stdout.
fn psql(server: &ServerProcess, commands: &[&str]) -> String {
    let port = server.addr.port().to_string();
    let mut cmd = Command::new("psql");
    cmd.args([
        "-X",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-U",
        "postgres",
        "-d",
        "postgres",
    ]);
    for c in commands {
        cmd.args(["-c", c]);
    }
    let out = cmd.output().expect("psql must be installed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "psql {commands:?}: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn psql_describe_commands_list_the_schema() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path());
    psql(
        &server,
        &[
            "CREATE TABLE customers (id SERIAL PRIMARY KEY, email VARCHAR(80) NOT NULL UNIQUE, joined DATE DEFAULT CURRENT_DATE)",
            "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer INT NOT NULL REFERENCES customers(id), total NUMERIC(10,2), placed TIMESTAMPTZ)",
            "CREATE INDEX orders_by_customer ON orders (customer, placed)",
            "CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100",
        ],
    );
    let has_row = |out: &str, row: &[&str]| {
        out.lines().any(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            cells == row
        })
    };
    let dt = psql(&server, &["\\dt"]);
    assert!(
        has_row(&dt, &["public", "customers", "table", "postgres"]),
        "{dt}"
    );
    assert!(
        has_row(&dt, &["public", "orders", "table", "postgres"]),
        "{dt}"
    );
    assert!(dt.contains("(2 rows)"), "{dt}");

    let d = psql(&server, &["\\d orders"]);
    for line in [
        "Table \"public.orders\"",
        " id       | bigint                   |           | not null | ",
        " customer | integer                  |           | not null | ",
        " total    | numeric(10,2)            |           |          | ",
        " placed   | timestamp with time zone |           |          | ",
        "\"orders_pkey\" PRIMARY KEY, btree (id)",
        "\"orders_by_customer\" btree (customer, placed)",
        "Foreign-key constraints:",
        "\"orders_customer_fkey\" FOREIGN KEY (customer) REFERENCES customers(id)",
    ] {
        assert!(d.contains(line), "missing {line:?} in:\n{d}");
    }
    let d = psql(&server, &["\\d customers"]);
    for line in [
        " email  | character varying(80) |           | not null | ",
        " joined | date                  |           |          | CURRENT_DATE",
        "\"customers_email_key\" UNIQUE CONSTRAINT, btree (email)",
        "Referenced by:",
        "TABLE \"orders\" CONSTRAINT \"orders_customer_fkey\" FOREIGN KEY (customer) REFERENCES customers(id)",
    ] {
        assert!(d.contains(line), "missing {line:?} in:\n{d}");
    }

    let di = psql(&server, &["\\di"]);
    for name in ["customers_email_key", "orders_by_customer", "orders_pkey"] {
        let table = if name.starts_with("orders") {
            "orders"
        } else {
            "customers"
        };
        assert!(
            has_row(&di, &["public", name, "index", "postgres", table]),
            "{di}"
        );
    }
    let dv = psql(&server, &["\\dv"]);
    assert!(
        has_row(&dv, &["public", "big_orders", "view", "postgres"]),
        "{dv}"
    );
    let dn = psql(&server, &["\\dn"]);
    // As in Postgres 15, the public schema belongs to pg_database_owner.
    assert!(has_row(&dn, &["public", "pg_database_owner"]), "{dn}");
    psql(&server, &["CREATE DATABASE tenant_b"]);
    let l = psql(&server, &["\\l"]);
    for database in ["postgres", "tenant_b"] {
        assert!(
            has_row(
                &l,
                &[database, "postgres", "UTF8", "C", "C", "", "libc", ""]
            ),
            "{l}"
        );
    }
    // Sizes: the pages of the partition's file.
    let dt_plus = psql(&server, &["\\dt+ orders"]);
    let size = dt_plus
        .lines()
        .find(|l| l.contains("| orders "))
        .and_then(|l| l.split('|').nth(6))
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    assert!(size.ends_with("bytes") || size.ends_with("kB"), "{dt_plus}");
    let l_plus = psql(&server, &["\\l+"]);
    assert!(l_plus.contains("kB"), "{l_plus}");
    // Enum types.
    psql(&server, &["CREATE TYPE mood AS ENUM ('sad', 'happy')"]);
    let dt_types = psql(&server, &["\\dT"]);
    assert!(has_row(&dt_types, &["public", "mood", ""]), "{dt_types}");
    let du = psql(&server, &["\\du"]);
    assert!(
        du.contains("postgres  | Superuser, Create role, Create DB"),
        "{du}"
    );
}

#[test]
fn psql_copy_round_trips_through_a_file() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path());
    let csv = data.path().join("in.csv");
    std::fs::write(&csv, "id,name\n1,\"a, b\"\n2,\n").unwrap();
    let out_file = data.path().join("out.csv");
    let out = psql(
        &server,
        &[
            "CREATE TABLE t (id INT, name TEXT)",
            &format!(
                "\\copy t FROM '{}' WITH (FORMAT csv, HEADER)",
                csv.display()
            ),
            &format!(
                "\\copy t TO '{}' WITH (FORMAT csv, HEADER)",
                out_file.display()
            ),
        ],
    );
    assert!(out.contains("COPY 2"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        "id,name\n1,\"a, b\"\n2,\n"
    );
}
