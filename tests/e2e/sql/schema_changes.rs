//! ALTER TABLE changes SQLite makes by writing a table's definition over in place or by
//! building the table again: what they refuse leaves table and rows as they were, they
//! never touch the rows of other tables, and every session sees the change at once.

use crate::harness::{TestServer, simple_rows, sqlstate};

async fn rows(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    simple_rows(&c.simple_query(sql).await.unwrap())
}

#[tokio::test]
async fn a_refused_alter_leaves_table_and_rows_as_they_were() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE parent (id int PRIMARY KEY, name text);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id)
             ON DELETE CASCADE, note varchar(10));
         CREATE INDEX child_note_idx ON child (note);
         INSERT INTO parent VALUES (1, 'a'), (2, 'b');
         INSERT INTO child VALUES (1, 1, 'first'), (2, 2, NULL);",
    )
    .await
    .unwrap();
    let before = rows(&c, "SELECT id, parent_id, note FROM child ORDER BY id").await;

    // The parent is referenced: setting it aside to convert its rows would take the
    // children's rows with it.
    let err = c
        .batch_execute("ALTER TABLE parent ALTER COLUMN name TYPE int USING length(name)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "0A000");
    // Rows the new definition refuses fail the ALTER with Postgres' SQLSTATE.
    for (alter, state) in [
        ("ALTER TABLE child ALTER COLUMN note SET NOT NULL", "23502"),
        (
            "ALTER TABLE child ALTER COLUMN note TYPE varchar(2)",
            "22001",
        ),
        (
            "ALTER TABLE child ADD CONSTRAINT c CHECK (parent_id > 1)",
            "23514",
        ),
    ] {
        let err = c.batch_execute(alter).await.unwrap_err();
        assert_eq!(sqlstate(&err), state, "{alter}");
    }
    assert_eq!(
        rows(&c, "SELECT id, parent_id, note FROM child ORDER BY id").await,
        before
    );
    assert_eq!(
        rows(&c, "SELECT count(*) FROM parent").await[0][0].as_deref(),
        Some("2")
    );
    // The definition too: NULLs still go in, the index is still there, the cascade works.
    c.batch_execute("INSERT INTO child VALUES (3, 1, NULL)")
        .await
        .unwrap();
    assert_eq!(
        rows(
            &c,
            "SELECT indexname FROM pg_indexes WHERE tablename = 'child' ORDER BY 1"
        )
        .await,
        [
            [Some("child_note_idx".to_owned())],
            [Some("child_pkey".to_owned())]
        ]
    );
    c.batch_execute("DELETE FROM parent WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(
        rows(&c, "SELECT count(*) FROM child").await[0][0].as_deref(),
        Some("1")
    );

    // A change in a block that rolls back is undone with it.
    c.batch_execute(
        "BEGIN; ALTER TABLE child ALTER COLUMN note SET DEFAULT 'x'; ROLLBACK;
         INSERT INTO child (id, parent_id) VALUES (4, 2)",
    )
    .await
    .unwrap();
    assert_eq!(
        rows(&c, "SELECT note FROM child WHERE id = 4").await[0][0],
        None
    );
}

#[tokio::test]
async fn other_sessions_see_the_changed_columns_at_once() {
    let server = TestServer::start().await;
    let a = server.client().await;
    let b = server.client().await;
    a.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, n int);
         INSERT INTO t VALUES (1, 7);",
    )
    .await
    .unwrap();
    // b's statements are prepared, and cached, under the old definition.
    for sql in ["SELECT * FROM t", "SELECT n FROM t WHERE id = 1"] {
        b.simple_query(sql).await.unwrap();
    }
    a.batch_execute(
        "ALTER TABLE t ALTER COLUMN n TYPE text USING n::text || ' units';
         ALTER TABLE t ADD COLUMN extra boolean DEFAULT true;",
    )
    .await
    .unwrap();
    assert_eq!(
        rows(&b, "SELECT * FROM t").await,
        [[
            Some("1".to_owned()),
            Some("7 units".to_owned()),
            Some("t".to_owned())
        ]]
    );
    let row = b
        .query_one("SELECT n FROM t WHERE id = 1", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "7 units");
}

#[tokio::test]
async fn a_referenced_table_changes_in_place_inside_a_block_as_django_migrates() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let other = server.client().await;
    c.batch_execute(
        "CREATE TABLE parent (id int PRIMARY KEY, name varchar(5), login timestamptz NOT NULL);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id)
             ON DELETE CASCADE, owner_id int);
         INSERT INTO parent VALUES (1, 'a', now()), (2, 'bb', now());
         INSERT INTO child VALUES (1, 1, 1), (2, 2, 2), (3, 2, 9);",
    )
    .await
    .unwrap();
    // A foreign key the rows break is refused, naming it; nothing changes.
    let err = c
        .batch_execute(
            "ALTER TABLE child ADD CONSTRAINT child_owner_fk FOREIGN KEY (owner_id) \
             REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED",
        )
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23503");
    assert!(
        err.as_db_error()
            .unwrap()
            .message()
            .contains("\"child_owner_fk\""),
        "{err:?}"
    );
    c.batch_execute(
        "BEGIN;
         ALTER TABLE parent ALTER COLUMN login DROP NOT NULL;
         ALTER TABLE parent ALTER COLUMN name TYPE varchar(150);
         ALTER TABLE parent ALTER COLUMN name SET NOT NULL;
         ALTER TABLE parent ADD CONSTRAINT parent_name_check CHECK (name <> '');
         UPDATE child SET owner_id = 2 WHERE id = 3;
         ALTER TABLE child ADD CONSTRAINT child_owner_fk FOREIGN KEY (owner_id)
             REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED;
         COMMIT;",
    )
    .await
    .unwrap();
    // Every child row is still there and still refers to its parent.
    assert_eq!(
        rows(
            &c,
            "SELECT count(*) FROM child JOIN parent ON parent.id = child.parent_id"
        )
        .await[0][0]
            .as_deref(),
        Some("3")
    );
    // The new rules hold, for every session.
    for (sql, state) in [
        ("INSERT INTO parent VALUES (3, NULL, now())", "23502"),
        ("INSERT INTO parent VALUES (3, '', now())", "23514"),
        ("INSERT INTO child VALUES (4, 1, 99)", "23503"),
        ("INSERT INTO child VALUES (4, 99, 1)", "23503"),
    ] {
        let err = other.batch_execute(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), state, "{sql}");
    }
    other
        .batch_execute(&format!(
            "INSERT INTO parent VALUES (3, '{}', NULL)",
            "x".repeat(150)
        ))
        .await
        .unwrap();
    assert_eq!(
        rows(
            &other,
            "SELECT column_name, is_nullable, character_maximum_length \
             FROM information_schema.columns WHERE table_name = 'parent' ORDER BY ordinal_position"
        )
        .await,
        [
            [Some("id".to_owned()), Some("NO".to_owned()), None],
            [
                Some("name".to_owned()),
                Some("NO".to_owned()),
                Some("150".to_owned())
            ],
            [Some("login".to_owned()), Some("YES".to_owned()), None],
        ]
    );
    // The cascade still follows the parent.
    c.batch_execute("DELETE FROM child WHERE owner_id = 1; DELETE FROM parent WHERE id = 2")
        .await
        .unwrap();
    assert_eq!(
        rows(&c, "SELECT count(*) FROM child").await[0][0].as_deref(),
        Some("0")
    );
}
