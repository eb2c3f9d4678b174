//! json/jsonb and array expressions: operators, casts, ARRAY[...], subscripts and slices,
//! and the functions Postgres resolves by these types. Knows nothing of other expressions.
//!
//! `json` rewrites first and hands arrays to `arrays`; both read `kinds` (what an
//! expression is known to hold without the schema).

mod arrays;
mod json;
mod kinds;

pub(super) use json::rewrite;
