//! From the query string to statements: cut apart, Postgres' lexical rules applied,
//! parsed by sqlparser or by hand (COPY, VACUUM, SET CONSTRAINTS, ALTER ... OWNER TO). Knows
//! no classification or translation.
//!
//! `split` cuts the string into pieces (leaf), which `lexical`, `copy`, `vacuum` and
//! `set_constraints` read; `postgres` parses a normalized piece (with `assignments`' rewrite of what
//! sqlparser does not read, leaf) and bounds it with `depth` (leaf).

mod assignments;
pub(crate) mod copy;
pub(crate) mod depth;
pub(crate) mod lexical;
pub(crate) mod owner;
pub(crate) mod postgres;
pub(crate) mod set_constraints;
pub(crate) mod split;
pub(crate) mod vacuum;
