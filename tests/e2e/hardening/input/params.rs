//! `x = ANY($1)` with an array parameter: described as an array of `x`'s type (int4[]
//! for an int4 column, as Postgres does), decoded from text or binary, and compared by
//! value whatever the column's storage class.

use tokio_postgres::types::Type;

use crate::harness::{TestServer, simple_rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_of_an_array_parameter_matches_by_the_column_type() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
         INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    )
    .await
    .unwrap();
    let by_id = c
        .prepare("SELECT name FROM t WHERE id = ANY($1) ORDER BY id")
        .await
        .unwrap();
    assert_eq!(by_id.params(), &[Type::INT4_ARRAY]);
    let names =
        |rows: Vec<tokio_postgres::Row>| -> Vec<String> { rows.iter().map(|r| r.get(0)).collect() };
    // tokio-postgres sends arrays in binary.
    let rows = c.query(&by_id, &[&vec![1i32, 3]]).await.unwrap();
    assert_eq!(names(rows), ["a", "c"]);
    let rows = c.query(&by_id, &[&Vec::<i32>::new()]).await.unwrap();
    assert!(rows.is_empty());
    let by_name = c
        .prepare("SELECT id FROM t WHERE name = ANY($1) ORDER BY id")
        .await
        .unwrap();
    assert_eq!(by_name.params(), &[Type::TEXT_ARRAY]);
    let rows = c
        .query(&by_name, &[&vec!["b".to_owned(), "c".to_owned()]])
        .await
        .unwrap();
    assert_eq!(rows.iter().map(|r| r.get(0)).collect::<Vec<i32>>(), [2, 3]);
    // A text-form array, as psycopg sends a list: compared as numbers.
    let rows = simple_rows(
        &c.simple_query("SELECT name FROM t WHERE id = ANY('{01,3}') ORDER BY id")
            .await
            .unwrap(),
    );
    assert_eq!(
        rows,
        vec![vec![Some("a".to_owned())], vec![Some("c".to_owned())]]
    );
}
