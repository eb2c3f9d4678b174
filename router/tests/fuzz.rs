//! Property tests as a bounded fuzzer: whatever text arrives, planning and routing
//! answer Ok or an error with a SQLSTATE, and never panic. Cases are drawn from SQL's
//! own tokens (so they get past the tokenizer into the parser, translation and routing)
//! and from arbitrary text. The corpus (`tests/fuzz-corpus.sql`: the golden statements
//! and inputs that once broke something or probe an edge) runs first, line by line;
//! failures proptest finds are kept in `tests/fuzz.proptest-regressions` and replayed
//! first on every run.

use litescale_config::{Config, KeyValue};
use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "SELECT",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "JOIN",
    "ON",
    "GROUP",
    "BY",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "HAVING",
    "DISTINCT",
    "COUNT(*)",
    "sum(a)",
    "avg(b)",
    "CREATE",
    "TABLE",
    "DROP",
    "ALTER",
    "ADD",
    "COLUMN",
    "PRIMARY",
    "KEY",
    "INDEX",
    "COPY",
    "STDIN",
    "TO",
    "STDOUT",
    "VACUUM",
    "ANALYZE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "EXPLAIN",
    "WITH",
    "RECURSIVE",
    "AS",
    "CAST",
    "::",
    "int",
    "text",
    "date",
    "interval",
    "'1 day'",
    "now()",
    "$1",
    "$2",
    "?",
    "(",
    ")",
    ",",
    ";",
    "=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    "||",
    "~",
    "ANY",
    "ARRAY[",
    "]",
    "'x'",
    "E'\\n'",
    "$$q$$",
    "1",
    "0",
    "-1",
    "1.5",
    "1e308",
    "9223372036854775808",
    "accounts",
    "history",
    "t",
    "a",
    "b",
    "aid",
    "bid",
    "\"Quoted\"",
    "/* partition: 1 */",
    "/* key: 7 */",
    "--",
    "\n",
    "ATTACH",
    "PRAGMA",
    "generate_series(1, 3)",
    "unnest(a)",
    "pg_catalog.pg_class",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "IN",
    "BETWEEN",
    "LIKE",
    "ILIKE",
    "EXTRACT(year FROM d)",
    "date_trunc('day', d)",
    "RETURNING",
    "CONFLICT",
    "DO",
    "NOTHING",
];

fn sql_like() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.join(" "))
}

const MAP: &str = "[partitions]\ncount = 4\n[tables.accounts]\nkey = \"aid\"\n[tables.history]\nkey = \"aid\"\ncolocate_with = \"accounts\"\n";

fn check(sql: &str) {
    let map = toml::from_str::<Config>(MAP)
        .unwrap()
        .partition_map()
        .unwrap();
    match litescale_router::plan(sql) {
        Err(e) => assert_eq!(e.sqlstate.len(), 5, "{sql:?}: {e:?}"),
        Ok(statements) => {
            for planned in &statements {
                let params = vec![Some(KeyValue::Int(7)); planned.param_count];
                let _ =
                    litescale_router::route(planned, &map, &params, &litescale_router::NoSchema);
                let _ = litescale_router::scatter(planned, &Default::default());
                let _ = litescale_router::split_insert(
                    planned,
                    &map,
                    &params,
                    &litescale_router::NoSchema,
                    &Default::default(),
                );
            }
        }
    }
}

/// Cases per property: `PROPTEST_CASES` for a longer hunt, else a run of a few seconds.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

#[test]
fn the_corpus_plans_without_panicking() {
    let corpus = include_str!("fuzz-corpus.sql");
    assert!(corpus.lines().count() > 50);
    for line in corpus.lines() {
        check(line);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn planning_sql_shaped_text_never_panics(sql in sql_like()) {
        check(&sql);
    }

    #[test]
    fn planning_any_text_never_panics(sql in "\\PC{0,200}") {
        check(&sql);
    }
}
