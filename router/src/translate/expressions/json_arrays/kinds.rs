//! What an expression, already rewritten, is known to hold without the schema: json,
//! jsonb, an array, or something only its values tell. Operators that Postgres resolves by
//! type (`||`, `@>`, `-`) are rewritten by it.

use sqlparser::ast::{DataType, Expr};

use crate::translate::sql::function_name;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Json,
    Jsonb,
    Array,
    /// A column, a parameter, a string literal: the statement alone does not say.
    Unknown,
}

/// Calls whose result is json, jsonb or an array (the names they have once rewritten).
const JSON_CALLS: &[&str] = &[
    "pg_json",
    "pg_json_get",
    "pg_json_path",
    "pg_json_build_object",
    "pg_json_build_array",
    "pg_json_agg",
    "pg_array_to_json",
    "pg_json_object_agg",
    "pg_json_object",
    "pg_json_row",
    "json_strip_nulls",
    "to_json",
];
const JSONB_CALLS: &[&str] = &[
    "pg_jsonb",
    "pg_jsonb_concat",
    "pg_jsonb_delete",
    "pg_jsonb_delete_keys",
    "pg_jsonb_delete_path",
    "pg_jsonb_build_object",
    "pg_jsonb_build_array",
    "pg_jsonb_agg",
    "pg_jsonb_object_agg",
    "pg_jsonb_object",
    "to_jsonb",
    "jsonb_set_lax",
    "jsonb_set",
    "jsonb_insert",
    "jsonb_strip_nulls",
];
const ARRAY_CALLS: &[&str] = &[
    "pg_array",
    "pg_array_of_arrays",
    "pg_array_in",
    "pg_array_agg",
    "pg_array_slice",
    "pg_array_concat",
    "array_append",
    "array_prepend",
    "array_cat",
    "array_remove",
    "array_replace",
    "array_positions",
    "string_to_array",
    "array_fill",
    "trim_array",
];

pub(super) fn kind(expr: &Expr) -> Kind {
    match expr {
        Expr::Nested(inner) => kind(inner),
        Expr::Cast { data_type, .. } => match data_type {
            DataType::JSON => Kind::Json,
            DataType::JSONB => Kind::Jsonb,
            DataType::Array(_) => Kind::Array,
            _ => Kind::Unknown,
        },
        Expr::Array(_) => Kind::Array,
        Expr::Function(f) => match function_name(f).as_deref() {
            Some(n) if JSON_CALLS.contains(&n) => Kind::Json,
            Some(n) if JSONB_CALLS.contains(&n) => Kind::Jsonb,
            Some(n) if ARRAY_CALLS.contains(&n) => Kind::Array,
            _ => Kind::Unknown,
        },
        _ => Kind::Unknown,
    }
}

pub(super) fn is_json(expr: &Expr) -> bool {
    matches!(kind(expr), Kind::Json | Kind::Jsonb)
}
