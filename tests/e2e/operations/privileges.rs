//! GRANT and REVOKE enforced for the config's users who are not admins, through every way a
//! statement reaches the data: queries (whole and streamed), writes, views, sequences,
//! COPY, TRUNCATE, DDL, SQL functions, and statements cached before a REVOKE.

use litescale_config::Config;

use crate::harness::{TestServer, sqlstate};

fn config() -> Config {
    let text = r#"
[[users]]
name = "owner"
admin = true

[[users]]
name = "reader"

[[users]]
name = "writer"

[[auth]]
method = "trust"
"#;
    Config::from_toml(text, std::path::Path::new("privileges.toml")).unwrap()
}

async fn login(server: &TestServer, user: &str) -> tokio_postgres::Client {
    let conninfo = format!(
        "host=127.0.0.1 port={} user={user} dbname=postgres",
        server.addr.port()
    );
    let (client, connection) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// The SQLSTATE and message `sql` fails with.
async fn refusal(client: &tokio_postgres::Client, sql: &str) -> (String, String) {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("{sql} ran"),
        Err(e) => (
            sqlstate(&e),
            e.as_db_error()
                .map(|d| d.message().to_owned())
                .unwrap_or_default(),
        ),
    }
}

async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_does_what_it_was_granted_and_no_more() {
    let server = TestServer::start_with(config()).await;
    let owner = login(&server, "owner").await;
    owner
        .batch_execute(
            "CREATE TABLE accounts (id serial PRIMARY KEY, who text, balance int);
             INSERT INTO accounts (who, balance) SELECT 'n' || g, g FROM generate_series(1, 5000) g;
             CREATE VIEW rich AS SELECT who FROM accounts WHERE balance > 4990;
             CREATE TABLE open_notes (note text);
             CREATE FUNCTION balance_sum() RETURNS bigint LANGUAGE sql AS 'SELECT sum(balance) FROM accounts';
             GRANT SELECT ON rich TO reader;
             GRANT SELECT, INSERT ON accounts TO writer;
             GRANT USAGE ON SEQUENCE accounts_id_seq TO writer;",
        )
        .await
        .unwrap();
    assert_eq!(
        refusal(&owner, "GRANT SELECT ON accounts TO nobody").await,
        (
            "42704".to_owned(),
            "role \"nobody\" does not exist".to_owned()
        )
    );
    let reader = login(&server, "reader").await;
    let writer = login(&server, "writer").await;

    // The view is granted; the table beneath it is not.
    assert_eq!(count(&reader, "SELECT count(*) FROM rich").await, 10);
    assert_eq!(
        refusal(&reader, "SELECT count(*) FROM accounts").await,
        (
            "42501".to_owned(),
            "permission denied for table accounts".to_owned()
        )
    );
    // A read of the whole table streams: refused the same way.
    let streamed = reader
        .query("SELECT * FROM accounts", &[])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&streamed), "42501");
    assert_eq!(refusal(&reader, "COPY accounts TO STDOUT").await.0, "42501");
    // A SQL function runs as its caller, even after another role's call cached its body.
    assert_eq!(
        count(&owner, "SELECT balance_sum()::bigint").await,
        12_502_500
    );
    assert_eq!(
        refusal(&reader, "SELECT balance_sum()").await.1,
        "permission denied for table accounts"
    );
    // A table no GRANT or REVOKE touched is open to every role.
    reader
        .batch_execute("INSERT INTO open_notes VALUES ('hi')")
        .await
        .unwrap();

    // The writer inserts (the serial default needs the sequence's USAGE) and reads, but
    // does not update, delete, empty or change the table.
    let id: i32 = writer
        .query_one(
            "INSERT INTO accounts (who, balance) VALUES ('w', 1) RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(id, 5001);
    for (sql, message) in [
        (
            "UPDATE accounts SET balance = 0",
            "permission denied for table accounts",
        ),
        (
            "DELETE FROM accounts WHERE id = 1",
            "permission denied for table accounts",
        ),
        ("TRUNCATE accounts", "permission denied for table accounts"),
        ("DROP TABLE accounts", "must be owner of table accounts"),
        (
            "ALTER TABLE accounts ADD COLUMN x int",
            "must be owner of table accounts",
        ),
        (
            "ALTER TABLE accounts ALTER COLUMN who SET NOT NULL",
            "must be owner of table accounts",
        ),
        (
            "CREATE INDEX ON accounts (who)",
            "must be owner of table accounts",
        ),
        // Renamed by litescale on the role's behalf: still the owner's to do.
        (
            "ALTER TABLE accounts RENAME TO mine",
            "must be owner of table accounts",
        ),
        (
            "ALTER TABLE accounts RENAME COLUMN who TO whom",
            "must be owner of table accounts",
        ),
        (
            "DROP SEQUENCE accounts_id_seq",
            "must be owner of sequence accounts_id_seq",
        ),
        (
            "COMMENT ON TABLE accounts IS 'mine'",
            "must be owner of table accounts",
        ),
        (
            "GRANT DELETE ON accounts TO writer",
            "must be owner of table accounts",
        ),
        (
            "SELECT setval('accounts_id_seq', 1)",
            "permission denied for sequence accounts_id_seq",
        ),
    ] {
        assert_eq!(
            refusal(&writer, sql).await,
            ("42501".to_owned(), message.to_owned()),
            "{sql}"
        );
    }
    // COPY FROM inserts.
    let sink = writer
        .copy_in::<_, bytes::Bytes>("COPY accounts (who, balance) FROM STDIN")
        .await
        .unwrap();
    {
        use futures::SinkExt;
        let mut sink = Box::pin(sink);
        sink.send(bytes::Bytes::from_static(b"c\t2\n"))
            .await
            .unwrap();
        assert_eq!(sink.as_mut().finish().await.unwrap(), 1);
    }
    // Inside a block too; the block fails at the refusal.
    writer.batch_execute("BEGIN").await.unwrap();
    writer
        .batch_execute("INSERT INTO accounts (who) VALUES ('in block')")
        .await
        .unwrap();
    assert_eq!(refusal(&writer, "DELETE FROM accounts").await.0, "42501");
    writer.batch_execute("ROLLBACK").await.unwrap();

    // TRUNCATE takes its own privilege, not DELETE's.
    owner
        .batch_execute("GRANT TRUNCATE ON accounts TO writer")
        .await
        .unwrap();
    assert_eq!(refusal(&writer, "DELETE FROM accounts").await.0, "42501");
    // A statement prepared before a REVOKE is refused after it.
    let prepared = writer
        .prepare("SELECT count(*) FROM accounts")
        .await
        .unwrap();
    let before: i64 = writer.query_one(&prepared, &[]).await.unwrap().get(0);
    assert_eq!(before, 5002);
    owner
        .batch_execute("REVOKE SELECT ON accounts FROM writer")
        .await
        .unwrap();
    let after = writer.query_one(&prepared, &[]).await.unwrap_err();
    assert_eq!(sqlstate(&after), "42501");
    writer.batch_execute("TRUNCATE accounts").await.unwrap();
    assert_eq!(count(&owner, "SELECT count(*) FROM accounts").await, 0);

    // The admin's statements were never checked; what was refused changed nothing.
    assert_eq!(count(&owner, "SELECT count(*) FROM open_notes").await, 1);
    let granted: String = owner
        .query_one(
            "SELECT relacl::text FROM pg_class WHERE relname = 'accounts'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        granted,
        "{owner=arwdDxt/owner,writer=aD/owner}".replace("owner", "postgres")
    );
}
