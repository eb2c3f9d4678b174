//! Planning cannot take the server (issue 21, items 1 and 6): expressions nested too deep
//! get 54001 instead of overflowing a lane's stack, planning is linear in the text, a long
//! text plans off the lane while statement_timeout and cancel still answer, and a text
//! past `[limits] max_query_bytes` gets 54000.

use std::time::{Duration, Instant};

use litescale_config::Config;
use tokio_postgres::Client;

use crate::harness::{TestServer, cancel_after, sqlstate};

fn chains(terms: usize) -> [(&'static str, String); 3] {
    [
        ("+", format!("select 1{}", "+1".repeat(terms - 1))),
        ("||", format!("select 'a'{}", "||'a'".repeat(terms - 1))),
        (
            "OR",
            format!("select 1 where {}", vec!["1=1"; terms].join(" or ")),
        ),
    ]
}

fn in_list(literals: usize) -> String {
    let list: Vec<String> = (0..literals).map(|i| i.to_string()).collect();
    format!(
        "select count(*) from (select 1 as x) s where x in ({})",
        list.join(", ")
    )
}

async fn answers_select_1(c: &Client) {
    let rows = c.simple_query("select 1").await.expect("select 1");
    assert!(!rows.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_expression_chains_get_54001_and_the_server_carries_on() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let other = server.client().await;
    for terms in [2_000, 100_000] {
        for (kind, sql) in chains(terms) {
            let err = c.simple_query(&sql).await.expect_err(kind);
            assert_eq!(sqlstate(&err), "54001", "{kind} x {terms}: {err:?}");
            // The extended protocol's Parse plans the same way.
            let err = c.prepare(&sql).await.expect_err(kind);
            assert_eq!(sqlstate(&err), "54001", "{kind} x {terms} (Parse): {err:?}");
            answers_select_1(&other).await;
            answers_select_1(&c).await;
        }
    }
    // A chain SQLite takes still runs.
    let rows = c
        .query_one(&format!("select 1{}", "+1".repeat(499)), &[])
        .await
        .unwrap();
    assert_eq!(rows.get::<_, i32>(0), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_nested_parentheses_are_refused_quickly() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let n = 100_000;
    let sql = format!("select {}1{}", "(".repeat(n), ")".repeat(n));
    let started = Instant::now();
    let err = c.simple_query(&sql).await.expect_err("refused");
    assert_eq!(sqlstate(&err), "54001", "{err:?}");
    // It took 22 s (an optimised build) when splitting the text was quadratic.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    answers_select_1(&c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_in_list_answers_within_statement_timeout_while_others_are_served() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.simple_query("set statement_timeout = 1000")
        .await
        .unwrap();
    // Several others, so that some share the planning connection's lane.
    let mut others = Vec::new();
    for _ in 0..4 {
        others.push(server.client().await);
    }
    let sql = in_list(50_000);
    let started = Instant::now();
    let big = tokio::spawn(async move {
        let result = c.simple_query(&sql).await;
        (result, started.elapsed())
    });
    let mut slowest = Duration::ZERO;
    while !big.is_finished() {
        for other in &others {
            let asked = Instant::now();
            answers_select_1(other).await;
            slowest = slowest.max(asked.elapsed());
        }
    }
    let (result, took) = big.await.unwrap();
    match result {
        Ok(rows) => assert!(!rows.is_empty()),
        Err(e) => assert_eq!(sqlstate(&e), "57014", "{e:?}"),
    }
    // Planning it took 12 s (optimised) and ignored the timeout.
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    assert!(
        slowest < Duration::from_secs(1),
        "select 1 waited {slowest:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_ends_a_long_planning() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let sql = in_list(100_000);
    let started = Instant::now();
    let cancel = cancel_after(&c, 100);
    let result = c.simple_query(&sql).await;
    cancel.await.unwrap();
    let took = started.elapsed();
    // An unoptimised build plans it in about 3 s; the cancel must not wait for that.
    if let Err(e) = &result {
        assert_eq!(sqlstate(e), "57014", "{e:?}");
        assert!(took < Duration::from_secs(2), "canceled after {took:?}");
    } else {
        assert!(
            took < Duration::from_secs(2),
            "planned in {took:?}, not canceled"
        );
    }
    answers_select_1(&c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_text_past_max_query_bytes_gets_54000() {
    let mut config = Config::default();
    config.limits.max_query_bytes = 1_000;
    let server = TestServer::start_with(config).await;
    let c = server.client().await;
    let long = format!("select '{}'", "x".repeat(1_000));
    let err = c.simple_query(&long).await.expect_err("too long");
    assert_eq!(sqlstate(&err), "54000", "{err:?}");
    let err = c.prepare(&long).await.expect_err("too long");
    assert_eq!(sqlstate(&err), "54000", "{err:?}");
    answers_select_1(&c).await;
}
