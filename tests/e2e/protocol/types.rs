//! Every core type in both formats: binary through tokio-postgres' extended protocol,
//! text through the simple protocol.

use tokio_postgres::types::Type;

use crate::harness::{RawClient, TestServer, simple_rows, tags};

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
        .query_one(
            "SELECT count(*), 1, 'x', a = 1 FROM t WHERE a = 1 GROUP BY a",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
    assert_eq!(row.get::<_, i32>(1), 1);
    assert_eq!(row.get::<_, &str>(2), "x");
    assert!(row.get::<_, bool>(3));
}

#[tokio::test]
async fn dates_times_uuids_and_json_round_trip_in_both_formats() {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE d (id INT PRIMARY KEY, day DATE, at TIME, ts TIMESTAMP, tz TIMESTAMPTZ,
                         u UUID, j JSON, jb JSONB)",
    )
    .await
    .unwrap();
    let day = NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
    let at = NaiveTime::from_hms_micro_opt(23, 59, 58, 123_456).unwrap();
    let ts: NaiveDateTime = day.and_time(at);
    let tz: DateTime<Utc> = ts.and_utc();
    let u = uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    let j = serde_json::json!({"name": "åsa ✓", "n": [1, 2]});
    c.execute(
        "INSERT INTO d VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[&1i32, &day, &at, &ts, &tz, &u, &j, &j],
    )
    .await
    .unwrap();
    let none: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
        &None::<NaiveDate>,
        &None::<NaiveTime>,
        &None::<NaiveDateTime>,
        &None::<DateTime<Utc>>,
        &None::<uuid::Uuid>,
        &None::<serde_json::Value>,
        &None::<serde_json::Value>,
    ];
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&2i32];
    params.extend(none);
    c.execute(
        "INSERT INTO d VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &params,
    )
    .await
    .unwrap();

    // Binary, through the extended protocol.
    let r = c
        .query_one("SELECT day, at, ts, tz, u, j, jb FROM d WHERE id = 1", &[])
        .await
        .unwrap();
    assert_eq!(r.get::<_, NaiveDate>(0), day);
    assert_eq!(r.get::<_, NaiveTime>(1), at);
    assert_eq!(r.get::<_, NaiveDateTime>(2), ts);
    assert_eq!(r.get::<_, DateTime<Utc>>(3), tz);
    assert_eq!(r.get::<_, uuid::Uuid>(4), u);
    assert_eq!(r.get::<_, serde_json::Value>(5), j);
    assert_eq!(r.get::<_, serde_json::Value>(6), j);
    let r = c
        .query_one("SELECT day, tz, u, jb FROM d WHERE id = 2", &[])
        .await
        .unwrap();
    assert_eq!(r.get::<_, Option<NaiveDate>>(0), None);
    assert_eq!(r.get::<_, Option<DateTime<Utc>>>(1), None);
    assert_eq!(r.get::<_, Option<uuid::Uuid>>(2), None);
    assert_eq!(r.get::<_, Option<serde_json::Value>>(3), None);

    // Text, through the simple protocol, as Postgres prints them.
    let m = c
        .simple_query("SELECT day, at, ts, tz, u FROM d WHERE id = 1")
        .await
        .unwrap();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        simple_rows(&m)[0],
        [
            s("1999-12-31"),
            s("23:59:58.123456"),
            s("1999-12-31 23:59:58.123456"),
            s("1999-12-31 23:59:58.123456+00"),
            s("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        ]
    );
    // A literal with an offset is stored as the UTC instant; comparisons use it.
    c.batch_execute("INSERT INTO d (id, tz) VALUES (3, '2024-06-01 12:00:00+02')")
        .await
        .unwrap();
    let r = c
        .query_one("SELECT tz FROM d WHERE id = 3", &[])
        .await
        .unwrap();
    assert_eq!(
        r.get::<_, DateTime<Utc>>(0).to_rfc3339(),
        "2024-06-01T10:00:00+00:00"
    );
    // A text-format date parameter is checked, not stored as given.
    let mut raw = RawClient::connect(server.addr).await;
    raw.parse("", "INSERT INTO d (id, day) VALUES (4, $1)", &[1082])
        .await;
    raw.bind("", "", &[Some(b"2024-02-30")], 0, 0).await;
    raw.execute("", 0).await;
    let (m, _) = raw.sync().await;
    // Postgres: 22008 date/time field value out of range.
    assert_eq!(m.last().unwrap().sqlstate().as_deref(), Some("22008"));
}

#[tokio::test]
async fn extremes_and_unicode_round_trip() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE x (i2 SMALLINT, i4 INT, i8 BIGINT, f8 DOUBLE PRECISION, t TEXT)")
        .await
        .unwrap();
    let text = "😀 ünïcødé 中文 \u{0} ";
    let text = text.replace('\u{0}', "");
    for (i2, i4, i8, f8) in [
        (i16::MIN, i32::MIN, i64::MIN, f64::MIN_POSITIVE),
        (i16::MAX, i32::MAX, i64::MAX, f64::MAX),
    ] {
        c.execute(
            "INSERT INTO x VALUES ($1, $2, $3, $4, $5)",
            &[&i2, &i4, &i8, &f8, &text],
        )
        .await
        .unwrap();
        let r = c
            .query_one("SELECT * FROM x WHERE i2 = $1", &[&i2])
            .await
            .unwrap();
        assert_eq!(r.get::<_, i16>(0), i2);
        assert_eq!(r.get::<_, i32>(1), i4);
        assert_eq!(r.get::<_, i64>(2), i8);
        assert_eq!(r.get::<_, f64>(3), f8);
        assert_eq!(r.get::<_, String>(4), text);
    }
    let m = c
        .simple_query("SELECT i8, f8 FROM x ORDER BY i2")
        .await
        .unwrap();
    let rows = simple_rows(&m);
    assert_eq!(rows[0][0].as_deref(), Some("-9223372036854775808"));
    assert_eq!(rows[1][1].as_deref(), Some("1.7976931348623157e+308"));
}

/// tokio-postgres has no numeric or interval types of its own: these go through raw
/// protocol frames, in both formats, parameters and results.
#[tokio::test]
async fn numeric_and_interval_in_both_formats() {
    let server = TestServer::start().await;
    let mut raw = RawClient::connect(server.addr).await;
    raw.query("CREATE TABLE n (id INT, amount NUMERIC(12,3), span INTERVAL)")
        .await;
    // Text parameters.
    raw.parse(
        "ins",
        "INSERT INTO n VALUES ($1, $2, $3)",
        &[23, 1700, 1186],
    )
    .await;
    raw.bind(
        "",
        "ins",
        &[Some(b"1"), Some(b"-12345.678"), Some(b"1 day 02:00:00")],
        0,
        0,
    )
    .await;
    raw.execute("", 0).await;
    // Binary parameters: numeric 0.05 and interval 90 minutes.
    let numeric = [0u8, 1, 255, 255, 0, 0, 0, 2, 1, 244];
    let mut interval = 5_400_000_000i64.to_be_bytes().to_vec();
    interval.extend([0, 0, 0, 0, 0, 0, 0, 0]);
    let id = 2i32.to_be_bytes();
    raw.bind(
        "",
        "ins",
        &[Some(&id), Some(&numeric), Some(&interval)],
        1,
        0,
    )
    .await;
    raw.execute("", 0).await;
    raw.bind("", "ins", &[Some(&3i32.to_be_bytes()), None, None], 1, 0)
        .await;
    raw.execute("", 0).await;
    let (m, _) = raw.sync().await;
    assert_eq!(tags(&m), "12C2C2C", "{m:?}");

    raw.parse("sel", "SELECT amount, span FROM n ORDER BY id", &[])
        .await;
    raw.bind("", "sel", &[], 0, 0).await;
    raw.execute("", 0).await;
    let (m, _) = raw.sync().await;
    let rows: Vec<_> = m
        .iter()
        .filter(|m| m.tag == b'D')
        .map(|m| m.fields())
        .collect();
    assert_eq!(
        rows[0],
        [
            Some(b"-12345.678".to_vec()),
            Some(b"1 day 02:00:00".to_vec())
        ]
    );
    assert_eq!(
        rows[1],
        // NUMERIC(12,3) keeps three places, as Postgres prints it.
        [Some(b"0.050".to_vec()), Some(b"01:30:00".to_vec())]
    );
    assert_eq!(rows[2], [None, None]);

    raw.bind("", "sel", &[], 0, 1).await;
    raw.execute("", 0).await;
    let (m, _) = raw.sync().await;
    let rows: Vec<_> = m
        .iter()
        .filter(|m| m.tag == b'D')
        .map(|m| m.fields())
        .collect();
    // 0.050: one base-10000 digit (500), weight -1, positive, display scale 3 (the
    // column's NUMERIC(12,3)).
    let stored = [0u8, 1, 255, 255, 0, 0, 0, 3, 1, 244];
    assert_eq!(rows[1][0].as_deref(), Some(&stored[..]));
    assert_eq!(rows[1][1].as_deref(), Some(&interval[..]));
    let mut day = 7_200_000_000i64.to_be_bytes().to_vec();
    day.extend([0, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(rows[0][1].as_deref(), Some(&day[..]));
}
