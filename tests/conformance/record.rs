//! The conformance recorder (run by `tests/conformance/record.sh`, which starts the
//! PostgreSQL 15 it talks to): runs every topic of `tests/conformance/corpus/` in a fresh
//! database of its own and writes PostgreSQL's answers to `tests/conformance/expected/`.
//!
//!   cargo run --example conformance_record -- <unix socket path | host:port> [topic...]
//!
//! It shares the corpus reader, the client and the golden format with the test
//! (`tests/e2e/conformance/corpus.rs`), so both sides send and render alike.

#[allow(dead_code)]
#[path = "../e2e/conformance/corpus.rs"]
mod corpus;

use corpus::{Stream, Wire};

fn open(server: &str, database: &str) -> std::io::Result<Wire> {
    let stream: Box<dyn Stream> = if server.starts_with('/') {
        Box::new(std::os::unix::net::UnixStream::connect(server)?)
    } else {
        Box::new(std::net::TcpStream::connect(server)?)
    };
    Wire::start(stream, database)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(server) = args.first() else {
        eprintln!("usage: conformance_record <unix socket path | host:port> [topic...]");
        std::process::exit(2);
    };
    let only = &args[1..];
    let dir = corpus::conformance_dir();
    let expected = dir.join("expected");
    std::fs::create_dir_all(&expected).unwrap();
    let mut admin = open(server, "postgres").expect("connect to PostgreSQL");
    let mut total = 0;
    for topic in corpus::read_corpus(&dir) {
        if !only.is_empty() && !only.contains(&topic.name) {
            continue;
        }
        let answers = corpus::run_topic(&mut admin, &topic, |db| open(server, db))
            .unwrap_or_else(|e| panic!("{}: {e}", topic.file));
        let errors = answers
            .iter()
            .filter(|a| matches!(a, corpus::Answer::Error(_)))
            .count();
        let path = expected.join(format!("{}.out", topic.file));
        std::fs::write(&path, corpus::render_golden(&topic, &answers)).unwrap();
        admin
            .query(&format!("DROP DATABASE IF EXISTS {}", topic.database()))
            .unwrap();
        total += answers.len();
        println!(
            "{:<28} {:>4} statements, {:>3} errors",
            topic.file,
            answers.len(),
            errors
        );
    }
    println!("{total} answers recorded in {}", expected.display());
}
