//! pg_dump, pg_restore and pg_dumpall (PostgreSQL 15's) against litescale: a database's
//! dump, plain or custom, restores into an empty litescale database and dumps again the
//! same; it restores into a real PostgreSQL 15 with the same rows; and PostgreSQL's own
//! dump of it goes through litescale and back into PostgreSQL unchanged.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::harness::ServerProcess;

/// A schema with what dumps carry: an enum, a SERIAL key, a sequence of its own with a
/// default that calls it, a materialized view, a foreign key, CHECK and UNIQUE constraints,
/// defaults, comments (on a table, a column, a view, an index, a sequence, a materialized
/// view, a schema and a type),
/// an index, a view that reads a table named after it, values of most types (a tab, a
/// quote, bytes, JSON, NULLs), and a schema of its own with a table, an index and a view,
/// referenced from public and referencing it.
const SCHEMA: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE cust (id serial PRIMARY KEY, name varchar(20) NOT NULL UNIQUE,
  m mood DEFAULT 'ok', note text DEFAULT 'x', born date, at timestamptz,
  score numeric(10,2) CHECK (score >= 0), data jsonb, u uuid, b bytea, flag boolean);
COMMENT ON TABLE cust IS 'customers';
COMMENT ON COLUMN cust.name IS 'display name';
CREATE TABLE ord (id bigint PRIMARY KEY, cust int REFERENCES cust(id) ON DELETE CASCADE,
  total numeric(10,2), qty int NOT NULL DEFAULT 1);
CREATE INDEX ord_cust ON ord (cust);
CREATE UNIQUE INDEX ord_total ON ord (total, qty);
CREATE VIEW big AS SELECT * FROM ord WHERE total > 10;
INSERT INTO cust (name, m, born, at, score, data, u, b, flag) VALUES
  ('a', 'happy', '2020-01-02', '2021-03-04 05:06:07+00', 12.5, '{"k": [1, 2]}',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x0102', true),
  ('b', NULL, NULL, NULL, NULL, NULL, NULL, NULL, false),
  (E'tab\tquote''s', 'sad', NULL, NULL, 0, '[]', NULL, '\x', NULL);
INSERT INTO ord VALUES (1, 1, 20.00, 2), (2, 2, 5.50, 1);
CREATE SEQUENCE ticket AS integer START 100 INCREMENT 5 MAXVALUE 1000 CYCLE;
CREATE TABLE tick (n int DEFAULT nextval('ticket'), label text);
INSERT INTO tick (label) VALUES ('x'), ('y');
SELECT setval('cust_id_seq', 10);
CREATE MATERIALIZED VIEW cust_totals AS SELECT cust, sum(total) AS total FROM ord GROUP BY cust;
CREATE SCHEMA app;
CREATE TABLE app.item (id serial PRIMARY KEY, sku text UNIQUE NOT NULL, cust int REFERENCES cust(id));
CREATE INDEX ON app.item (cust);
CREATE VIEW app.skus AS SELECT sku FROM app.item;
INSERT INTO app.item (sku, cust) VALUES ('s-1', 1), ('s-2', NULL);
CREATE TABLE item_link (item int REFERENCES app.item (id));
INSERT INTO item_link VALUES (2);
COMMENT ON VIEW big IS 'big orders';
COMMENT ON INDEX ord_cust IS 'by customer';
COMMENT ON SEQUENCE ticket IS 'tickets';
COMMENT ON MATERIALIZED VIEW cust_totals IS 'per customer';
COMMENT ON SCHEMA app IS 'the app''s';
COMMENT ON TYPE mood IS 'how it went';
"#;

/// Runs a PostgreSQL client program; its stdout, or a panic with its stderr.
fn run(program: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} must be installed: {e}"));
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn connection(addr: SocketAddr, database: &str) -> Vec<String> {
    [
        "-h",
        &addr.ip().to_string(),
        "-p",
        &addr.port().to_string(),
        "-U",
        "postgres",
        "-d",
        database,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn with<'a>(connection: &'a [String], rest: &[&'a str]) -> Vec<&'a str> {
    connection
        .iter()
        .map(String::as_str)
        .chain(rest.iter().copied())
        .collect()
}

/// Runs a script with psql, stopping at its first error.
fn psql_script(addr: SocketAddr, database: &str, script: &str) {
    let c = connection(addr, database);
    run(
        "psql",
        &with(&c, &["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"]),
        Some(script),
    );
}

fn pg_dump(addr: SocketAddr, database: &str, extra: &[&str]) -> String {
    let c = connection(addr, database);
    run("pg_dump", &with(&c, extra), None)
}

/// A dump without what differs between two runs or servers of the same contents: the
/// server's version line and the \restrict keys.
fn comparable(dump: &str) -> String {
    dump.lines()
        .filter(|l| {
            !l.starts_with("\\restrict")
                && !l.starts_with("\\unrestrict")
                && !l.starts_with("-- Dumped from database version")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rows a dump carries: its COPY blocks and its sequences' values, in order.
fn data(dump: &str) -> String {
    let mut out = Vec::new();
    let mut copying = false;
    for line in dump.lines() {
        if line.starts_with("COPY ") {
            copying = true;
        }
        if copying || line.starts_with("SELECT pg_catalog.setval(") {
            out.push(line);
        }
        if line == "\\." {
            copying = false;
        }
    }
    out.join("\n")
}

#[test]
fn a_dump_restores_into_litescale_and_dumps_again_the_same() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data_dir.path());
    let addr = server.addr;
    psql_script(addr, "postgres", SCHEMA);
    let plain = pg_dump(addr, "postgres", &[]);
    assert!(plain.contains("CREATE TYPE public.mood AS ENUM"), "{plain}");
    assert!(
        plain.contains("ADD CONSTRAINT cust_pkey PRIMARY KEY (id)"),
        "{plain}"
    );
    // Sequences as Postgres dumps them: a SERIAL's owned by its column, whose default is
    // set once both exist; each sequence's value.
    for sequence in [
        "CREATE SEQUENCE public.ticket\n    AS integer\n    START WITH 100\n    INCREMENT BY 5\n",
        "ALTER SEQUENCE public.cust_id_seq OWNED BY public.cust.id;",
        "ALTER TABLE ONLY public.cust ALTER COLUMN id SET DEFAULT nextval('cust_id_seq'::regclass);",
        "SELECT pg_catalog.setval('public.cust_id_seq', 10, true);",
        "SELECT pg_catalog.setval('public.ticket', 105, true);",
        "REFRESH MATERIALIZED VIEW public.cust_totals;",
        "CREATE SCHEMA app;",
        "CREATE TABLE app.item (",
        "ALTER SEQUENCE app.item_id_seq OWNED BY app.item.id;",
        "COPY app.item (id, sku, cust) FROM stdin;",
        "CREATE INDEX item_cust_idx ON app.item USING btree (cust);",
        "REFERENCES app.item(id);",
        "COMMENT ON VIEW public.big IS 'big orders';",
        "COMMENT ON INDEX public.ord_cust IS 'by customer';",
        "COMMENT ON SEQUENCE public.ticket IS 'tickets';",
        "COMMENT ON MATERIALIZED VIEW public.cust_totals IS 'per customer';",
        "COMMENT ON SCHEMA app IS 'the app''s';",
        "COMMENT ON TYPE public.mood IS 'how it went';",
    ] {
        assert!(plain.contains(sequence), "{sequence} in {plain}");
    }
    // The view comes after the table it reads.
    assert!(
        plain.find("CREATE TABLE public.ord").unwrap()
            < plain.find("CREATE VIEW public.big").unwrap()
    );

    psql_script(
        addr,
        "postgres",
        "CREATE DATABASE restored; CREATE DATABASE restored_custom;",
    );
    psql_script(addr, "restored", &plain);
    assert_eq!(
        comparable(&pg_dump(addr, "restored", &[])),
        comparable(&plain)
    );
    // The restored sequences go on where the dumped ones were; the materialized view was
    // refreshed.
    let next = run(
        "psql",
        &with(
            &connection(addr, "restored"),
            &[
                "-X",
                "-q",
                "-At",
                "-c",
                "INSERT INTO cust (name) VALUES ('d') RETURNING id",
                "-c",
                "SELECT nextval('ticket')",
                "-c",
                "SELECT cust FROM cust_totals ORDER BY cust",
                "-c",
                "INSERT INTO app.item (sku) VALUES ('s-3') RETURNING id",
                "-c",
                "SELECT string_agg(sku, ',' ORDER BY sku) FROM app.skus",
                "-c",
                "\\dn",
            ],
        ),
        None,
    );
    assert_eq!(
        next.lines().collect::<Vec<_>>(),
        [
            "11",
            "110",
            "1",
            "2",
            "3",
            "s-1,s-2,s-3",
            "app|postgres",
            "public|pg_database_owner"
        ]
    );

    // The custom format, through pg_restore.
    let archive = data_dir.path().join("dump.custom");
    let archive_path = archive.to_str().unwrap();
    pg_dump(addr, "postgres", &["-Fc", "-f", archive_path]);
    let listed = run("pg_restore", &["--list", archive_path], None);
    assert!(listed.contains("TABLE public cust"), "{listed}");
    let c = connection(addr, "restored_custom");
    run(
        "pg_restore",
        &with(&c, &["--exit-on-error", archive_path]),
        None,
    );
    assert_eq!(
        comparable(&pg_dump(addr, "restored_custom", &[])),
        comparable(&plain)
    );

    // pg_dumpall's -d is a connection string: host, port and user alone.
    let all = run(
        "pg_dumpall",
        &with(&connection(addr, "postgres")[..6], &["--schema-only"]),
        None,
    );
    assert!(all.contains("CREATE TABLE public.cust"), "{all}");
    assert!(
        !all.contains("PASSWORD"),
        "no password leaves litescale: {all}"
    );
}

/// A throwaway PostgreSQL 15 server on a Unix socket and a port, as the conformance
/// recorder starts one; stopped when dropped.
struct Postgres {
    dir: tempfile::TempDir,
    addr: SocketAddr,
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Whether the tests run as root, where initdb must run as the postgres user.
fn root() -> bool {
    run("id", &["-u"], None).trim() == "0"
}

fn as_postgres(program: &str, args: &[&str]) {
    let status = if root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--", program])
            .args(args)
            .stdout(Stdio::null())
            .status()
    } else {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .status()
    }
    .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(status.success(), "{program} {args:?}");
}

impl Postgres {
    fn start() -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        let pgdata = dir.path().join("data");
        if root() {
            run("chown", &["postgres", dir.path().to_str().unwrap()], None);
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        as_postgres(
            &format!("{PG_BIN}/initdb"),
            &[
                "-D",
                pgdata.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--locale=C.UTF-8",
                "--encoding=UTF8",
            ],
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC",
            dir.path().display()
        );
        as_postgres(
            &format!("{PG_BIN}/pg_ctl"),
            &[
                "-D",
                pgdata.to_str().unwrap(),
                "-l",
                dir.path().join("log").to_str().unwrap(),
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
        Postgres {
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data_dir();
        if Path::new(&data).exists() {
            as_postgres(
                &format!("{PG_BIN}/pg_ctl"),
                &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
            );
        }
    }
}

#[test]
fn dumps_travel_between_litescale_and_postgresql_15() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data_dir.path());
    let litescale = server.addr;
    let postgres = Postgres::start();
    psql_script(litescale, "postgres", SCHEMA);
    let ours = pg_dump(litescale, "postgres", &[]);

    // litescale's dump restores into PostgreSQL 15, rows and all.
    psql_script(postgres.addr, "postgres", &ours);
    let theirs = pg_dump(postgres.addr, "postgres", &[]);
    assert_eq!(data(&theirs), data(&ours));

    // PostgreSQL's dump of it restores into litescale, and litescale's dump of that into
    // PostgreSQL again, which then dumps exactly what it dumped before.
    psql_script(litescale, "postgres", "CREATE DATABASE from_postgres");
    psql_script(litescale, "from_postgres", &theirs);
    let through = pg_dump(litescale, "from_postgres", &[]);
    assert_eq!(data(&through), data(&theirs));
    psql_script(postgres.addr, "postgres", "CREATE DATABASE back");
    psql_script(postgres.addr, "back", &through);
    assert_eq!(
        comparable(&pg_dump(postgres.addr, "back", &[])),
        comparable(&theirs)
    );
}
