//! The test: every topic in a fresh database of an in-process server, compared with the
//! goldens; the per-topic table (also in `target/conformance-report.txt`, with each miss);
//! a failure for a new miss, for a listed miss that now answers as PostgreSQL, and for a
//! miss DIFFERENCES.md does not explain. `CONFORMANCE_BLESS=1` rewrites misses.txt.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::corpus::{self, Answer, Topic, Wire};
use super::misses::{self, Miss};
use crate::harness::TestServer;

/// What one topic scored.
struct Score {
    name: String,
    statements: usize,
    statements_ok: usize,
    setup: usize,
    setup_ok: usize,
}

fn open(addr: SocketAddr, database: &str) -> std::io::Result<Wire> {
    let stream = std::net::TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    Wire::start(Box::new(stream), database)
}

/// Runs one topic and compares it with its golden file.
fn compare_topic(addr: SocketAddr, topic: &Topic, dir: &std::path::Path) -> (Score, Vec<Miss>) {
    let golden_path = dir.join(format!("expected/{}.out", topic.file));
    let golden = std::fs::read_to_string(&golden_path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: record it with tests/conformance/record.sh",
            golden_path.display()
        )
    });
    let blocks = corpus::parse_golden(&golden);
    let fresh = blocks.len() == topic.statements.len()
        && blocks
            .iter()
            .zip(&topic.statements)
            .all(|((label, sql, _), s)| *label == s.label && *sql == s.sql);
    assert!(
        fresh,
        "{} does not match corpus/{}.sql: re-record with tests/conformance/record.sh",
        golden_path.display(),
        topic.file
    );
    let mut admin = open(addr, "postgres").expect("connect to litescale");
    let answers = corpus::run_topic(&mut admin, topic, |db| open(addr, db))
        .unwrap_or_else(|e| panic!("{}: {e}", topic.file));
    // litescale's answers in the goldens' format, for a diff against expected/.
    let actual = target_dir().join("conformance");
    let _ = std::fs::create_dir_all(&actual);
    let _ = std::fs::write(
        actual.join(format!("{}.out", topic.file)),
        corpus::render_golden(topic, &answers),
    );
    let mut score = Score {
        name: topic.name.clone(),
        statements: 0,
        statements_ok: 0,
        setup: 0,
        setup_ok: 0,
    };
    let mut missed = Vec::new();
    for ((statement, answer), (_, _, expected)) in topic.statements.iter().zip(answers).zip(blocks)
    {
        let same = answer.render() == expected;
        if statement.setup {
            score.setup += 1;
            score.setup_ok += usize::from(same);
        } else {
            score.statements += 1;
            score.statements_ok += usize::from(same);
        }
        if !same {
            missed.push(Miss {
                id: topic.id(statement),
                key: (topic.name.clone(), statement.hash.clone()),
                sql: statement.sql.clone(),
                expected_answer: parse_answer(&expected),
                expected,
                got: answer,
            });
        }
    }
    (score, missed)
}

/// The answer a golden block renders, for the draft reasons (the comparison itself is
/// on the rendered text).
fn parse_answer(rendered: &str) -> Option<Answer> {
    let mut lines = rendered.lines();
    let head = lines.next()?.strip_prefix("---- ")?;
    if let Some(code) = head.strip_prefix("error ") {
        return Some(Answer::Error(code.to_owned()));
    }
    let tag = head.strip_prefix("ok ")?.to_owned();
    let mut columns = None;
    let mut rows = Vec::new();
    for line in lines {
        if let Some(cols) = line.strip_prefix("columns: ") {
            let parsed = cols
                .split(" | ")
                .map(|c| {
                    let (name, oid) = c.rsplit_once(' ').unwrap_or((c, "0"));
                    (name.to_owned(), oid.parse().unwrap_or(0))
                })
                .collect();
            columns = Some(parsed);
        } else {
            // Values only count and compare here; their exact text is not needed.
            rows.push(line.split(" | ").map(|v| Some(v.to_owned())).collect());
        }
    }
    Some(Answer::Ok { tag, columns, rows })
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn table(scores: &[Score]) -> String {
    let mut out = String::from("conformance with PostgreSQL 15 (tests/conformance):\n");
    let (mut n, mut m) = (0, 0);
    for s in scores {
        let _ = write!(
            out,
            "  {:<17} {:>4} of {:>4} answer as PostgreSQL 15",
            format!("{}:", s.name),
            s.statements_ok,
            s.statements
        );
        if s.setup_ok < s.setup {
            let _ = write!(out, "  (setup: {} of {})", s.setup_ok, s.setup);
        }
        out.push('\n');
        n += s.statements_ok;
        m += s.statements;
    }
    let percent = if m == 0 {
        0.0
    } else {
        100.0 * n as f64 / m as f64
    };
    let _ = writeln!(
        out,
        "  {:<17} {n:>4} of {m:>4} answer as PostgreSQL 15 ({percent:.1}%)",
        "total:"
    );
    out
}

fn report(scores: &[Score], misses: &[Miss]) -> String {
    let mut out = table(scores);
    for m in misses {
        let _ = write!(
            out,
            "\n==== {}\n{}\nexpected (PostgreSQL 15):\n{}got (litescale):\n{}",
            m.id,
            m.sql,
            m.expected,
            m.got.render()
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_with_postgresql_15() {
    let server = TestServer::start().await;
    let addr = server.addr;
    let started = std::time::Instant::now();
    let (topics, scores, misses) = tokio::task::spawn_blocking(move || {
        let dir = corpus::conformance_dir();
        let topics = corpus::read_corpus(&dir);
        let mut scores = Vec::new();
        let mut misses = Vec::new();
        for topic in &topics {
            let (score, missed) = compare_topic(addr, topic, &dir);
            scores.push(score);
            misses.extend(missed);
        }
        (topics, scores, misses)
    })
    .await
    .unwrap();
    let table = table(&scores);
    eprintln!("{table}  ({:.1} s)", started.elapsed().as_secs_f64());
    let report_path = target_dir().join("conformance-report.txt");
    let _ = std::fs::create_dir_all(target_dir());
    let _ = std::fs::write(&report_path, report(&scores, &misses));
    check_lists(&topics, &misses);
}

/// The failures: misses not listed, listed statements that no longer miss, misses
/// DIFFERENCES.md does not name. With CONFORMANCE_BLESS set, misses.txt is rewritten
/// (and DIFFERENCES.md's ids brought up to date) first.
fn check_lists(topics: &[Topic], misses: &[Miss]) {
    let dir = corpus::conformance_dir();
    let misses_path = dir.join("misses.txt");
    let differences_path = dir.join("DIFFERENCES.md");
    if std::env::var_os("CONFORMANCE_BLESS").is_some() {
        std::fs::write(&misses_path, misses::render_misses(misses)).unwrap();
        let refreshed =
            misses::refresh_differences(&misses::read(&differences_path), topics, misses);
        std::fs::write(&differences_path, refreshed).unwrap();
        eprintln!(
            "blessed: {} misses in {}",
            misses.len(),
            misses_path.display()
        );
    }
    let listed = misses::ids_in(&misses::read(&misses_path), topics);
    let explained = misses::ids_in(&misses::read(&differences_path), topics);
    let current: BTreeMap<_, _> = misses.iter().map(|m| (m.key.clone(), m)).collect();
    let mut problems = String::new();
    let regressions: Vec<&str> = misses
        .iter()
        .filter(|m| !listed.contains_key(&m.key))
        .map(|m| m.id.as_str())
        .collect();
    if !regressions.is_empty() {
        let _ = writeln!(
            problems,
            "{} statements no longer answer as PostgreSQL 15 (not in misses.txt; see \
             target/conformance-report.txt; if intended, bless with CONFORMANCE_BLESS=1):\n{}",
            regressions.len(),
            misses::wrap_ids(&regressions)
        );
    }
    let fixed: Vec<&str> = listed
        .iter()
        .filter(|(key, _)| !current.contains_key(*key))
        .map(|(_, id)| id.as_str())
        .collect();
    if !fixed.is_empty() {
        let _ = writeln!(
            problems,
            "{} statements in misses.txt now answer as PostgreSQL 15: bless with \
             CONFORMANCE_BLESS=1 cargo test --test e2e conformance\n{}",
            fixed.len(),
            misses::wrap_ids(&fixed)
        );
    }
    let unexplained: Vec<&Miss> = misses
        .iter()
        .filter(|m| !explained.contains_key(&m.key))
        .collect();
    if !unexplained.is_empty() {
        let draft_path = target_dir().join("conformance-draft.md");
        let _ = std::fs::write(&draft_path, misses::draft(&unexplained));
        let _ = writeln!(
            problems,
            "{} misses are not explained in tests/conformance/DIFFERENCES.md: add their ids \
             under the reason (a draft grouping is in {})",
            unexplained.len(),
            draft_path.display()
        );
    }
    assert!(problems.is_empty(), "{problems}");
}
