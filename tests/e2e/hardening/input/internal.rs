//! litescale's own tables (`_litescale_fence`, `_litescale_commits`) are out of a
//! tenant's reach whatever the case of the name: SQLite's names are case-insensitive, so
//! `"_LITESCALE_FENCE"` is the fence table.

use crate::harness::{TestServer, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_tables_are_refused_in_any_case_and_hidden_from_sqlite_master() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT)").await.unwrap();
    let attempts = [
        r#"UPDATE "_LITESCALE_FENCE" SET epoch = 0"#,
        r#"UPDATE "_Litescale_Fence" SET epoch = 9223372036854775807"#,
        r#"SELECT * FROM "_LITESCALE_FENCE""#,
        r#"DROP TABLE "_LITESCALE_FENCE""#,
        r#"INSERT INTO "_LITESCALE_COMMITS" VALUES (1)"#,
        r#"DELETE FROM "_LITESCALE_COMMITS""#,
        r#"CREATE TABLE "_LITESCALE_MINE" (a INT)"#,
        r#"ALTER TABLE t RENAME TO "_LITESCALE_T""#,
        r#"CREATE INDEX i ON "_LITESCALE_FENCE" (epoch)"#,
    ];
    for sql in attempts {
        let err = c.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "{sql}: {err:?}");
        let err = c.query(sql, &[]).await.unwrap_err();
        assert_eq!(sqlstate(&err), "42501", "extended {sql}: {err:?}");
    }
    // Writes still commit: the fence was not touched.
    c.batch_execute("INSERT INTO t VALUES (1)").await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // sqlite_master / sqlite_schema list the tenant's tables only.
    for sql in [
        "SELECT name FROM sqlite_master",
        "SELECT sqlite_schema.name FROM main.sqlite_schema",
        "SELECT m.tbl_name FROM SQLITE_MASTER m",
    ] {
        let names: Vec<String> = c
            .query(sql, &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(names, vec!["t".to_owned()], "{sql}");
    }
}
