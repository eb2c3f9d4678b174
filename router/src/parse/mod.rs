//! From the query string to statements: cut apart, Postgres' lexical rules applied,
//! parsed by sqlparser or by hand (COPY; `by_hand`: VACUUM, SET CONSTRAINTS, ALTER ...
//! OWNER TO, ALTER SEQUENCE). Knows no classification or translation.
//!
//! `split` cuts the string into pieces (leaf), which `lexical`, `copy` and `by_hand` read; `postgres` parses a normalized piece (with `assignments`' rewrite of what
//! sqlparser does not read, leaf) and bounds it with `depth` (leaf).

mod assignments;
pub(crate) mod by_hand;
pub(crate) mod copy;
pub(crate) mod depth;
pub(crate) mod lexical;
pub(crate) mod postgres;
pub(crate) mod split;
