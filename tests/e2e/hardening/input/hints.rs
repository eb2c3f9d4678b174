//! Partition hints narrow where a statement looks; they never put a row in a partition
//! its key does not belong to, and no UPDATE moves a row out of the partition its key
//! names. Otherwise `WHERE k = ...` (routed by the key) would miss the row and the
//! primary key could exist twice.

use litescale_config::{Config, KeyValue};

use crate::harness::{TestServer, sqlstate};

const MAP: &str = r#"
[partitions]
count = 4

[tables.kv]
key = "k"

[tables.colours]
reference = true
"#;

/// Two keys in different partitions, and one more in the first one's partition.
fn keys_apart(config: &Config) -> (i64, i64, i64) {
    let map = config.partition_map().unwrap();
    let part = |k: i64| map.partition_of("kv", &KeyValue::Int(k)).unwrap();
    let a = 1;
    let b = (2..).find(|&k| part(k) != part(a)).unwrap();
    let same = (b + 1..).find(|&k| part(k) == part(a)).unwrap();
    (a, b, same)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hints_and_key_updates_never_misplace_a_row() {
    let config: Config = toml::from_str(MAP).unwrap();
    let map = config.partition_map().unwrap();
    let (a, b, same) = keys_apart(&config);
    let part_of_b = map.partition_of("kv", &KeyValue::Int(b)).unwrap();
    let server = TestServer::start_with(config).await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE kv (k INT PRIMARY KEY, v TEXT); CREATE TABLE colours (name TEXT)",
    )
    .await
    .unwrap();

    // A key hint naming another key's partition: refused, nothing stored.
    let err = c
        .simple_query(&format!("/* key: {a} */ INSERT INTO kv VALUES ({b}, 'x')"))
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23514", "{err:?}");
    // The session setting likewise, in the extended protocol too.
    c.batch_execute(&format!(
        "SET litescale.partition = {}",
        (part_of_b + 1) % 4
    ))
    .await
    .unwrap();
    let err = c
        .execute("INSERT INTO kv VALUES ($1, 'y')", &[&(b as i32)])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23514", "{err:?}");
    // A write to a reference table must reach every copy.
    let err = c
        .simple_query("INSERT INTO colours VALUES ('red')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23514", "{err:?}");
    c.batch_execute("RESET litescale.partition").await.unwrap();
    // A hint that agrees with the key is fine.
    c.batch_execute(&format!("/* key: {b} */ INSERT INTO kv VALUES ({b}, 'z')"))
        .await
        .unwrap();
    let found = c
        .query("SELECT v FROM kv WHERE k = $1", &[&(b as i32)])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].get::<_, String>(0), "z");
    let total: i64 = c
        .query_one("SELECT count(*) FROM kv", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 1, "no copy of the row anywhere else");

    // UPDATE of the key to another partition's key: refused (0A000), the row stays.
    c.batch_execute(&format!("INSERT INTO kv VALUES ({a}, 'a')"))
        .await
        .unwrap();
    for sql in [
        format!("UPDATE kv SET k = {b} + 1000 WHERE k = {a}"),
        format!("UPDATE kv SET k = k + 1 WHERE k = {a}"),
        format!("UPDATE kv AS x SET k = {b} WHERE k = {a}"),
        "UPDATE kv SET k = 7".to_owned(),
        format!("INSERT INTO kv VALUES ({a}, 'n') ON CONFLICT (k) DO UPDATE SET k = {b}"),
    ] {
        let err = c.simple_query(&sql).await.unwrap_err();
        assert_eq!(sqlstate(&err), "0A000", "{sql}: {err:?}");
    }
    // Within its own partition a key may change.
    c.batch_execute(&format!("UPDATE kv SET k = {same} WHERE k = {a}"))
        .await
        .unwrap();
    let v: String = c
        .query_one("SELECT v FROM kv WHERE k = $1", &[&(same as i32)])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, "a");
    // An upsert that keeps the key is fine.
    c.batch_execute(&format!(
        "INSERT INTO kv VALUES ({b}, 'w') ON CONFLICT (k) DO UPDATE SET k = excluded.k, v = excluded.v"
    ))
    .await
    .unwrap();
    // Hints still narrow reads.
    let hinted: i64 = c
        .query_one(
            &format!("/* partition: {part_of_b} */ SELECT count(*) FROM kv"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(hinted, 1);
}
