//! Every core type in both formats: binary through tokio-postgres' extended protocol,
//! text through the simple protocol.

use tokio_postgres::types::Type;

use crate::harness::{TestServer, simple_rows};

const TABLE: &str = "CREATE TABLE v (
    i2 SMALLINT, i4 INTEGER, i8 BIGINT, f4 REAL, f8 DOUBLE PRECISION,
    b BOOLEAN, t TEXT, vc VARCHAR(10), by BYTEA)";

#[tokio::test]
async fn binary_format_round_trips_every_core_type() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(TABLE).await.unwrap();
    let insert = "INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    c.execute(
        insert,
        &[
            &-7i16,
            &2_000_000_000i32,
            &9_000_000_000_000i64,
            &1.5f32,
            &0.1f64,
            &true,
            &"héllo ✓",
            &"short",
            &vec![0u8, 1, 255],
        ],
    )
    .await
    .unwrap();
    let none: [&(dyn tokio_postgres::types::ToSql + Sync); 9] = [
        &None::<i16>,
        &None::<i32>,
        &None::<i64>,
        &None::<f32>,
        &None::<f64>,
        &None::<bool>,
        &None::<&str>,
        &None::<&str>,
        &None::<Vec<u8>>,
    ];
    c.execute(insert, &none).await.unwrap();

    let stmt = c
        .prepare("SELECT * FROM v ORDER BY i2 NULLS LAST")
        .await
        .unwrap();
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(
        types,
        [
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::FLOAT4,
            Type::FLOAT8,
            Type::BOOL,
            Type::TEXT,
            Type::VARCHAR,
            Type::BYTEA
        ]
    );
    let rows = c.query(&stmt, &[]).await.unwrap();
    let r = &rows[0];
    assert_eq!(r.get::<_, i16>(0), -7);
    assert_eq!(r.get::<_, i32>(1), 2_000_000_000);
    assert_eq!(r.get::<_, i64>(2), 9_000_000_000_000);
    assert_eq!(r.get::<_, f32>(3), 1.5);
    assert_eq!(r.get::<_, f64>(4), 0.1);
    assert!(r.get::<_, bool>(5));
    assert_eq!(r.get::<_, &str>(6), "héllo ✓");
    assert_eq!(r.get::<_, &str>(7), "short");
    assert_eq!(r.get::<_, Vec<u8>>(8), vec![0u8, 1, 255]);
    let n = &rows[1];
    assert_eq!(n.get::<_, Option<i16>>(0), None);
    assert_eq!(n.get::<_, Option<i32>>(1), None);
    assert_eq!(n.get::<_, Option<i64>>(2), None);
    assert_eq!(n.get::<_, Option<f32>>(3), None);
    assert_eq!(n.get::<_, Option<f64>>(4), None);
    assert_eq!(n.get::<_, Option<bool>>(5), None);
    assert_eq!(n.get::<_, Option<&str>>(6), None);
    assert_eq!(n.get::<_, Option<&str>>(7), None);
    assert_eq!(n.get::<_, Option<Vec<u8>>>(8), None);
}

#[tokio::test]
async fn text_format_renders_values_as_postgres_does() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(TABLE).await.unwrap();
    c.batch_execute(
        "INSERT INTO v VALUES (-7, 2000000000, 9000000000000, 1.5, 1e20, true, 'héllo', 'x', x'00ff');
         INSERT INTO v VALUES (NULL, NULL, NULL, NULL, NULL, false, NULL, NULL, NULL);",
    )
    .await
    .unwrap();
    let messages = c
        .simple_query("SELECT i2, i4, i8, f4, f8, b, t, vc, by FROM v ORDER BY b DESC")
        .await
        .unwrap();
    let rows = simple_rows(&messages);
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        rows[0],
        [
            s("-7"),
            s("2000000000"),
            s("9000000000000"),
            s("1.5"),
            s("1e+20"),
            s("t"),
            s("héllo"),
            s("x"),
            s("\\x00ff")
        ]
    );
    assert_eq!(
        rows[1],
        [None, None, None, None, None, s("f"), None, None, None]
    );
}

#[tokio::test]
async fn expression_columns_get_types_postgres_would_give() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2)")
        .await
        .unwrap();
    let row = c
        .query_one("SELECT count(*), 1, 'x', a = 1 FROM t WHERE a = 1", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
    assert_eq!(row.get::<_, i32>(1), 1);
    assert_eq!(row.get::<_, &str>(2), "x");
    assert!(row.get::<_, bool>(3));
}
