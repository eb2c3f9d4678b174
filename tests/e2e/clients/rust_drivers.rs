//! The Rust drivers of the driver matrix: sqlx (runtime queries, its statement cache, a
//! pool) and tokio-postgres, each through the same realistic program: every common type
//! as a parameter and back, NULL, update and delete, a committed and a rolled-back
//! transaction, a unique violation (23505), a prepared statement reused, 1,000 inserts.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sqlx_core::query::query;
use sqlx_core::query_as::query_as;
use sqlx_core::query_scalar::query_scalar;
use sqlx_core::row::Row;
use sqlx_core::types::Json;

use crate::harness::{TestServer, sqlstate};

const CREATE: &str = "create table drv (id int primary key, big bigint, f float8,
    n numeric(12, 2), t text, b bytea, ok boolean, d date, ts timestamp, tz timestamptz,
    j json, u uuid)";
const INSERT: &str = "insert into drv values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
const TEXT: &str = "héllo ✓ 🐘";

fn at() -> DateTime<Utc> {
    "2024-05-06T07:08:09.123456Z".parse().unwrap()
}

fn local() -> NaiveDateTime {
    at().naive_utc()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, 6).unwrap()
}

fn key() -> uuid::Uuid {
    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".parse().unwrap()
}

fn document() -> serde_json::Value {
    serde_json::json!({"a": [1, 2], "s": TEXT})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlx_runtime_queries_pool_and_transactions() {
    let server = TestServer::start().await;
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        server.addr.port()
    );
    let pool = sqlx_postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .unwrap();
    query(CREATE).execute(&pool).await.unwrap();
    let amount: Decimal = "12345.67".parse().unwrap();
    query(INSERT)
        .bind(1i32)
        .bind(9_007_199_254_740_993i64)
        .bind(1.5f64)
        .bind(amount)
        .bind(TEXT)
        .bind(vec![0u8, 1, 255])
        .bind(true)
        .bind(day())
        .bind(local())
        .bind(at())
        .bind(Json(document()))
        .bind(key())
        .execute(&pool)
        .await
        .unwrap();
    query("insert into drv (id, t) values ($1, $2)")
        .bind(2i32)
        .bind(None::<String>)
        .execute(&pool)
        .await
        .unwrap();
    let row = query("select * from drv where id = $1")
        .bind(1i32)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("big"), 9_007_199_254_740_993);
    assert_eq!(row.get::<f64, _>("f"), 1.5);
    assert_eq!(row.get::<Decimal, _>("n"), amount);
    assert_eq!(row.get::<String, _>("t"), TEXT);
    assert_eq!(row.get::<Vec<u8>, _>("b"), [0, 1, 255]);
    assert!(row.get::<bool, _>("ok"));
    assert_eq!(row.get::<NaiveDate, _>("d"), day());
    assert_eq!(row.get::<NaiveDateTime, _>("ts"), local());
    assert_eq!(row.get::<DateTime<Utc>, _>("tz"), at());
    assert_eq!(row.get::<Json<serde_json::Value>, _>("j").0, document());
    assert_eq!(row.get::<uuid::Uuid, _>("u"), key());
    let nulls = query("select t, big, tz from drv where id = 2")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(nulls.get::<Option<String>, _>("t"), None);
    assert_eq!(nulls.get::<Option<i64>, _>("big"), None);
    assert_eq!(nulls.get::<Option<DateTime<Utc>>, _>("tz"), None);

    let updated = query("update drv set t = $1 where id = $2")
        .bind("x")
        .bind(2i32)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 1);
    let deleted = query("delete from drv where id = $1")
        .bind(2i32)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);

    let mut tx = pool.begin().await.unwrap();
    query("insert into drv (id, t) values (10, 'kept')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    query("insert into drv (id, t) values (11, 'dropped')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let ids: Vec<i32> = query_scalar("select id from drv order by id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(ids, [1, 10]);

    let err = query("insert into drv (id) values ($1)")
        .bind(1i32)
        .execute(&pool)
        .await
        .unwrap_err();
    let code = err
        .as_database_error()
        .and_then(|e| e.code().map(|c| c.into_owned()));
    assert_eq!(code.as_deref(), Some("23505"), "{err}");

    // sqlx prepares each query once per connection and reuses it.
    let mut conn = pool.acquire().await.unwrap();
    for _ in 0..200 {
        let t: String = query_scalar("select t from drv where id = $1")
            .bind(10i32)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(t, "kept");
    }
    let mut tx = pool.begin().await.unwrap();
    for i in 0..1000i64 {
        query("insert into drv (id, big) values ($1, $2)")
            .bind(1000 + i as i32)
            .bind(i)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let (n, s): (i64, i64) =
        query_as("select count(*), sum(big)::bigint from drv where id >= 1000")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((n, s), (1000, 499_500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_types_transactions_and_prepared_statements() {
    let server = TestServer::start().await;
    let mut c = server.client().await;
    c.batch_execute(CREATE).await.unwrap();
    let json = document();
    c.execute(
        "insert into drv (id, big, f, t, b, ok, d, ts, tz, j, u) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &1i32,
            &9_007_199_254_740_993i64,
            &1.5f64,
            &TEXT,
            &vec![0u8, 1, 255],
            &true,
            &day(),
            &local(),
            &at(),
            &json,
            &key(),
        ],
    )
    .await
    .unwrap();
    // tokio-postgres has no numeric type of its own: numeric goes as text.
    c.execute(
        "update drv set n = $1::text::numeric where id = 1",
        &[&"12345.67"],
    )
    .await
    .unwrap();
    c.execute(
        "insert into drv (id, t) values ($1, $2)",
        &[&2i32, &None::<String>],
    )
    .await
    .unwrap();
    let row = c
        .query_one(
            "select *, n::text as n_text from drv where id = $1",
            &[&1i32],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>("big"), 9_007_199_254_740_993);
    assert_eq!(row.get::<_, f64>("f"), 1.5);
    assert_eq!(row.get::<_, String>("n_text"), "12345.67");
    assert_eq!(row.get::<_, String>("t"), TEXT);
    assert_eq!(row.get::<_, Vec<u8>>("b"), [0, 1, 255]);
    assert!(row.get::<_, bool>("ok"));
    assert_eq!(row.get::<_, NaiveDate>("d"), day());
    assert_eq!(row.get::<_, NaiveDateTime>("ts"), local());
    assert_eq!(row.get::<_, DateTime<Utc>>("tz"), at());
    assert_eq!(row.get::<_, serde_json::Value>("j"), json);
    assert_eq!(row.get::<_, uuid::Uuid>("u"), key());
    let nulls = c
        .query_one("select t, tz from drv where id = 2", &[])
        .await
        .unwrap();
    assert_eq!(nulls.get::<_, Option<String>>(0), None);
    assert_eq!(nulls.get::<_, Option<DateTime<Utc>>>(1), None);

    assert_eq!(
        c.execute("update drv set t = $1 where id = $2", &[&"x", &2i32])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        c.execute("delete from drv where id = $1", &[&2i32])
            .await
            .unwrap(),
        1
    );

    let tx = c.transaction().await.unwrap();
    tx.execute("insert into drv (id, t) values (10, 'kept')", &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let tx = c.transaction().await.unwrap();
    tx.execute("insert into drv (id, t) values (11, 'dropped')", &[])
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let ids: Vec<i32> = c
        .query("select id from drv order by id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [1, 10]);

    let err = c
        .execute("insert into drv (id) values ($1)", &[&1i32])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "23505");

    let by_id = c.prepare("select t from drv where id = $1").await.unwrap();
    for _ in 0..200 {
        let t: String = c.query_one(&by_id, &[&10i32]).await.unwrap().get(0);
        assert_eq!(t, "kept");
    }
    let tx = c.transaction().await.unwrap();
    let add = tx
        .prepare("insert into drv (id, big) values ($1, $2)")
        .await
        .unwrap();
    for i in 0..1000i64 {
        tx.execute(&add, &[&(1000 + i as i32), &i]).await.unwrap();
    }
    tx.commit().await.unwrap();
    let row = c
        .query_one(
            "select count(*), sum(big)::bigint from drv where id >= 1000",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, i64>(1)),
        (1000, 499_500)
    );
}
