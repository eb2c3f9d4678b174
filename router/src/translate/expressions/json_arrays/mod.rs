//! json/jsonb and array expressions: operators, casts, ARRAY[...], subscripts and slices,
//! and the functions Postgres resolves by these types. Knows nothing of other expressions.
//!
//! `json` rewrites first and hands arrays to `arrays`; both read `kinds` (what an
//! expression is known to hold without the schema).

mod arrays;
mod json;
mod kinds;

pub(crate) use json::ROW_TO_JSON_OF_COLUMNS;
pub(super) use json::rewrite;
