//! A bounded fuzzer over the whole server: generated deep and wide expressions, long IN
//! lists, long literals and long COPY rows, sent by one client to the real binary while
//! another client keeps asking `SELECT 1`. Whatever the statement, its client gets an
//! answer or an error with a SQLSTATE, the process stays up, and the other client is
//! answered within a second the whole time. `PROPTEST_CASES` sets a longer hunt.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::SinkExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::harness::{ServerProcess, connect};

/// One hostile input.
#[derive(Debug, Clone)]
enum Hostile {
    /// `SELECT 1 <op> 1 <op> ...`, `terms` terms.
    Chain { op: &'static str, terms: usize },
    /// `SELECT (((...1...)))`.
    Parentheses(usize),
    /// `SELECT abs(abs(...1...))`.
    Calls(usize),
    /// `SELECT CASE WHEN true THEN CASE WHEN ... END END`.
    Cases(usize),
    /// `SELECT - - - 1` and `NOT NOT NOT true`.
    Prefixes { op: &'static str, depth: usize },
    /// `SELECT count(*) FROM t WHERE a IN (0, 1, ...)`.
    InList { values: usize, strings: bool },
    /// `SELECT '<bytes>'`, one literal this long.
    Literal(usize),
    /// One COPY row of two columns, the second this long.
    CopyRow(usize),
}

impl Hostile {
    fn sql(&self) -> String {
        let repeat = |s: &str, n: usize| s.repeat(n);
        match self {
            Hostile::Chain { op, terms } => {
                let mut sql = "SELECT 1".to_owned();
                for _ in 1..*terms {
                    write!(sql, " {op} 1").unwrap();
                }
                sql
            }
            Hostile::Parentheses(n) => format!("SELECT {}1{}", repeat("(", *n), repeat(")", *n)),
            Hostile::Calls(n) => format!("SELECT {}1{}", repeat("abs(", *n), repeat(")", *n)),
            Hostile::Cases(n) => format!(
                "SELECT {}1{}",
                repeat("CASE WHEN true THEN ", *n),
                repeat(" END", *n)
            ),
            Hostile::Prefixes { op, depth } => format!("SELECT {}1", repeat(op, *depth)),
            Hostile::InList { values, strings } => {
                let mut sql = "SELECT count(*) FROM t WHERE a IN (".to_owned();
                for i in 0..*values {
                    let sep = if i == 0 { "" } else { ", " };
                    if *strings {
                        write!(sql, "{sep}'v{i}'").unwrap();
                    } else {
                        write!(sql, "{sep}{i}").unwrap();
                    }
                }
                sql + ")"
            }
            Hostile::Literal(n) => format!("SELECT length('{}')", repeat("x", *n)),
            Hostile::CopyRow(_) => "COPY t (a, b) FROM STDIN".to_owned(),
        }
    }
}

fn hostile() -> impl Strategy<Value = Hostile> {
    let op = prop::sample::select(vec!["+", "||", "OR", "AND", "*", "-", "=", "<"]);
    prop_oneof![
        (op, 1usize..20_000).prop_map(|(op, terms)| Hostile::Chain { op, terms }),
        (1usize..100_000).prop_map(Hostile::Parentheses),
        (1usize..20_000).prop_map(Hostile::Calls),
        (1usize..5_000).prop_map(Hostile::Cases),
        (
            prop::sample::select(vec!["- ", "NOT ", "+"]),
            1usize..50_000
        )
            .prop_map(|(op, depth)| Hostile::Prefixes { op, depth }),
        (1usize..100_000, any::<bool>())
            .prop_map(|(values, strings)| Hostile::InList { values, strings }),
        (1usize..4_000_000).prop_map(Hostile::Literal),
        (1usize..8_000_000).prop_map(Hostile::CopyRow),
    ]
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
}

/// Runs `input` on its own connection, asserting meanwhile that `probe` answers
/// `SELECT 1` within a second, every 100 ms.
async fn attack(server: SocketAddr, input: Hostile) -> Result<(), TestCaseError> {
    let probe = connect(server).await;
    let attacker = connect(server).await;
    let sql = input.sql();
    let work = tokio::spawn(async move {
        let outcome = match &input {
            Hostile::CopyRow(width) => match attacker.copy_in(&sql).await {
                Ok(sink) => {
                    let mut sink = std::pin::pin!(sink);
                    let row = format!("1\t{}\n", "y".repeat(*width));
                    match sink.send(Bytes::from(row)).await {
                        Ok(()) => sink.finish().await.map(|_| ()),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            },
            _ => attacker.simple_query(&sql).await.map(|_| ()),
        };
        (outcome, attacker)
    });
    let started = Instant::now();
    while !work.is_finished() {
        let asked = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(1), probe.simple_query("SELECT 1"))
            .await
            .map_err(|_| {
                TestCaseError::fail(format!(
                    "SELECT 1 waited over a second, {:?} into the statement",
                    asked - started
                ))
            })?;
        answer.map_err(|e| TestCaseError::fail(format!("SELECT 1 failed: {e}")))?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        prop_assert!(
            started.elapsed() < Duration::from_secs(120),
            "the statement ran for two minutes"
        );
    }
    let (outcome, attacker) = work.await.unwrap();
    if let Err(e) = outcome {
        let code = e.as_db_error().map(|d| d.code().code().to_owned());
        prop_assert!(code.is_some(), "answered with no SQLSTATE: {e:?}");
        if !attacker.is_closed() {
            attacker
                .simple_query("SELECT 1")
                .await
                .map_err(|e| TestCaseError::fail(format!("the connection broke: {e}")))?;
        }
    }
    Ok(())
}

#[test]
fn generated_deep_and_wide_statements_never_take_the_server_down() {
    let data = tempfile::tempdir().unwrap();
    let server = std::sync::Mutex::new(ServerProcess::start(data.path()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = server.lock().unwrap().addr;
    runtime.block_on(async {
        connect(addr)
            .await
            .batch_execute("CREATE TABLE t (a TEXT, b TEXT)")
            .await
            .unwrap()
    });
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        // Each case can take seconds; a failure is reported after a short shrink.
        max_shrink_iters: 16,
        ..Config::default()
    });
    let result = runner.run(&hostile(), |input| {
        runtime.block_on(attack(addr, input))?;
        let exited = server.lock().unwrap().child.try_wait().unwrap();
        prop_assert!(exited.is_none(), "the server exited: {exited:?}");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    runtime.block_on(async { connect(addr).await.simple_query("SELECT 1").await.unwrap() });
    assert!(server.lock().unwrap().child.try_wait().unwrap().is_none());
}
