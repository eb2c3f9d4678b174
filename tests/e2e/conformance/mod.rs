//! The conformance suite of issue 18: the corpus of `tests/conformance/corpus/` run against
//! litescale and compared, statement by statement, with PostgreSQL 15's recorded answers
//! (`tests/conformance/expected/`): success or SQLSTATE, command tag, column names, type
//! OIDs and every value in text form. Prints `<topic>: N of M answer as PostgreSQL 15`.
//!
//! (misses, runner <- corpus: corpus is shared with the recorder, `tests/conformance/record.rs`)

mod corpus;
mod misses;
mod runner;
