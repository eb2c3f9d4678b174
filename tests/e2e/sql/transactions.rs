//! Transaction blocks as Postgres defines them: status bytes, the aborted state, commit,
//! rollback, savepoints, read-only blocks.

use crate::harness::{RawClient, TestServer, sqlstate, tags};

#[tokio::test]
async fn ready_for_query_reports_idle_in_transaction_and_failed() {
    let server = TestServer::start().await;
    let mut raw = RawClient::connect(server.addr).await;
    assert_eq!(raw.query("CREATE TABLE t (a INT)").await.1, b'I');
    assert_eq!(raw.query("BEGIN").await.1, b'T');
    assert_eq!(raw.query("INSERT INTO t VALUES (1)").await.1, b'T');
    let (m, status) = raw.query("SELECT * FROM missing").await;
    assert_eq!((tags(&m).as_str(), status), ("E", b'E'));
    // Every statement is refused with 25P02 until the block ends.
    for sql in [
        "SELECT 1",
        "INSERT INTO t VALUES (2)",
        "SHOW server_version",
    ] {
        let (m, status) = raw.query(sql).await;
        assert_eq!(m[0].sqlstate().as_deref(), Some("25P02"), "{sql}");
        assert_eq!(status, b'E');
    }
    // COMMIT of a failed block rolls it back, and says so.
    let (m, status) = raw.query("COMMIT").await;
    assert_eq!(m[0].text(), "ROLLBACK");
    assert_eq!(status, b'I');
    let (m, _) = raw.query("SELECT count(*) FROM t").await;
    assert_eq!(m[1].fields(), [Some(b"0".to_vec())]);
}

#[tokio::test]
async fn extended_protocol_tracks_the_block_too() {
    let server = TestServer::start().await;
    let mut raw = RawClient::connect(server.addr).await;
    for (sql, status) in [
        ("BEGIN", b'T'),
        ("SELECT * FROM missing", b'E'),
        ("SELECT 1", b'E'),
        ("ROLLBACK", b'I'),
    ] {
        raw.parse("", sql, &[]).await;
        raw.bind("", "", &[], 0, 0).await;
        raw.execute("", 0).await;
        let (_, got) = raw.sync().await;
        assert_eq!(got, status, "after {sql}");
    }
}

#[tokio::test]
async fn commit_keeps_and_rollback_discards() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT)").await.unwrap();
    let tx = c.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (1)", &[]).await.unwrap();
    tx.commit().await.unwrap();
    let tx = c.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (2)", &[]).await.unwrap();
    // Inside the block the transaction sees its own write.
    let n: i64 = tx
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    tx.rollback().await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[tokio::test]
async fn savepoints_undo_part_of_a_block_and_clear_the_failed_state() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE t (a INT PRIMARY KEY);
         BEGIN;
         INSERT INTO t VALUES (1);
         SAVEPOINT s1;
         INSERT INTO t VALUES (2);",
    )
    .await
    .unwrap();
    let err = c
        .batch_execute("INSERT INTO t VALUES (1)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23505");
    c.batch_execute("ROLLBACK TO SAVEPOINT s1").await.unwrap();
    c.batch_execute("INSERT INTO t VALUES (3); RELEASE SAVEPOINT s1; COMMIT")
        .await
        .unwrap();
    let rows = c.query("SELECT a FROM t ORDER BY a", &[]).await.unwrap();
    let got: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(got, [1, 3]);
}

#[tokio::test]
async fn a_read_only_block_refuses_writes() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT); BEGIN READ ONLY")
        .await
        .unwrap();
    c.query("SELECT * FROM t", &[]).await.unwrap();
    let err = c
        .batch_execute("INSERT INTO t VALUES (1)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "25006");
    c.batch_execute("ROLLBACK").await.unwrap();
}

#[tokio::test]
async fn begin_and_commit_outside_a_block_warn_like_postgres() {
    let server = TestServer::start().await;
    let mut raw = RawClient::connect(server.addr).await;
    let (m, status) = raw.query("COMMIT").await;
    assert_eq!(tags(&m), "NC");
    assert_eq!(status, b'I');
    raw.query("BEGIN").await;
    let (m, status) = raw.query("BEGIN").await;
    assert_eq!(tags(&m), "NC");
    assert_eq!(status, b'T');
    let (_, status) = raw.query("ROLLBACK").await;
    assert_eq!(status, b'I');
}

/// SELECT ... FOR UPDATE and LOCK TABLE in a block take the partition's writer: another
/// session's write of the rows waits until the block ends, and then sees what it committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_for_update_and_lock_table_hold_writes_until_the_block_ends() {
    for lock in [
        "SELECT state FROM jobs WHERE id = 1 FOR UPDATE",
        "LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE",
    ] {
        let server = TestServer::start().await;
        let a = server.client().await;
        let b = server.client().await;
        a.batch_execute(
            "CREATE TABLE jobs (id int PRIMARY KEY, state text); INSERT INTO jobs VALUES (1, 'new')",
        )
        .await
        .unwrap();
        a.batch_execute("BEGIN").await.unwrap();
        a.simple_query(lock).await.unwrap();
        let update = tokio::spawn(async move {
            b.execute(
                "UPDATE jobs SET state = state || ', then b' WHERE id = 1",
                &[],
            )
            .await
            .map(|_| b)
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!update.is_finished(), "b wrote past {lock}");
        a.batch_execute("UPDATE jobs SET state = 'a' WHERE id = 1; COMMIT")
            .await
            .unwrap();
        let b = update.await.unwrap().unwrap();
        let row = b
            .query_one("SELECT state FROM jobs WHERE id = 1", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, &str>(0), "a, then b", "{lock}");
    }
}

/// A statement refused before it runs (a syntax error, a construct litescale refuses, in
/// the simple or the extended protocol) fails the block as any error does: what the block
/// wrote before it is not committed. It was committed before.
#[tokio::test]
async fn a_statement_refused_before_it_runs_fails_the_block() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT)").await.unwrap();
    for refused in ["SELEC 1", "CREATE TYPE pair AS (a int, b text)"] {
        c.batch_execute("BEGIN; INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        assert!(c.batch_execute(refused).await.is_err(), "{refused}");
        let e = c.batch_execute("SELECT 1").await.unwrap_err();
        assert_eq!(sqlstate(&e), "25P02", "{refused}");
        c.batch_execute("COMMIT").await.unwrap();
    }
    // The extended protocol's Parse.
    c.batch_execute("BEGIN; INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    assert!(c.prepare("SELEC $1").await.is_err());
    let e = c.query("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&e), "25P02");
    c.batch_execute("COMMIT").await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn cursors_hand_out_rows_in_order_and_end_with_their_block_unless_held() {
    use crate::harness::simple_rows;
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE n (id INT PRIMARY KEY); INSERT INTO n SELECT g FROM generate_series(1, 9) g",
    )
    .await
    .unwrap();
    let ids = |messages: &[tokio_postgres::SimpleQueryMessage]| -> Vec<String> {
        simple_rows(messages)
            .into_iter()
            .map(|r| r[0].clone().unwrap())
            .collect()
    };
    // Without HOLD a cursor needs a block.
    let outside = c
        .simple_query("DECLARE c CURSOR FOR SELECT id FROM n")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&outside), "25P01");
    c.batch_execute("BEGIN; DECLARE c CURSOR FOR SELECT id FROM n WHERE id > 1 ORDER BY id")
        .await
        .unwrap();
    let taken = c
        .simple_query("DECLARE c CURSOR FOR SELECT 1")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&taken), "42P03");
    c.batch_execute(
        "ROLLBACK; BEGIN; DECLARE c CURSOR FOR SELECT id FROM n WHERE id > 1 ORDER BY id",
    )
    .await
    .unwrap();
    assert_eq!(
        ids(&c.simple_query("FETCH 3 FROM c").await.unwrap()),
        ["2", "3", "4"]
    );
    c.batch_execute("MOVE FORWARD 2 IN c").await.unwrap();
    // Through the extended protocol, with a row count of its own.
    let rows = c.query("FETCH FORWARD 2 FROM c", &[]).await.unwrap();
    let fetched: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(fetched, [7, 8]);
    assert_eq!(
        ids(&c.simple_query("FETCH ALL FROM c").await.unwrap()),
        ["9"]
    );
    assert!(ids(&c.simple_query("FETCH NEXT FROM c").await.unwrap()).is_empty());
    c.batch_execute("COMMIT").await.unwrap();
    // The block's end closed it; a held cursor outlives its block and reads its snapshot.
    let gone = c.simple_query("FETCH 1 FROM c").await.unwrap_err();
    assert_eq!(sqlstate(&gone), "34000");
    c.batch_execute(
        "BEGIN; DECLARE h CURSOR WITH HOLD FOR SELECT id FROM n ORDER BY id; COMMIT; \
         DELETE FROM n",
    )
    .await
    .unwrap();
    assert_eq!(
        ids(&c.simple_query("FETCH 2 FROM h").await.unwrap()),
        ["1", "2"]
    );
    c.batch_execute("DECLARE s CURSOR WITH HOLD FOR SELECT 1 AS one")
        .await
        .unwrap();
    c.batch_execute("CLOSE h").await.unwrap();
    assert_eq!(
        sqlstate(&c.simple_query("CLOSE h").await.unwrap_err()),
        "34000"
    );
    c.batch_execute("CLOSE ALL").await.unwrap();
    assert_eq!(
        sqlstate(&c.simple_query("FETCH 1 FROM s").await.unwrap_err()),
        "34000"
    );
    // A lone name is NEXT.
    c.batch_execute("BEGIN; DECLARE z CURSOR FOR SELECT 7 UNION ALL SELECT 8")
        .await
        .unwrap();
    assert_eq!(ids(&c.simple_query("FETCH z").await.unwrap()), ["7"]);
    c.batch_execute("MOVE z; ROLLBACK").await.unwrap();
    let scroll = c
        .simple_query("BEGIN; DECLARE b SCROLL CURSOR FOR SELECT 1")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&scroll), "0A000");
}
