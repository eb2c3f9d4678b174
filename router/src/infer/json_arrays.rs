//! The result types of Postgres' json/jsonb and array operators and functions, given the
//! types of their operands as far as inference knows them.

use sqlparser::ast::{BinaryOperator as B, DataType};

use crate::types::{PgType, array_element, from_data_type};

fn is_json(t: Option<PgType>) -> bool {
    matches!(t, Some(PgType::Json | PgType::Jsonb))
}

fn is_array(t: Option<PgType>) -> bool {
    t.and_then(PgType::element).is_some()
}

/// `left op right`; `None` when the operator is neither json's nor an array's, or the
/// operands do not settle it.
pub(super) fn operator(op: &B, left: Option<PgType>, right: Option<PgType>) -> Option<PgType> {
    match op {
        // `->` / `#>` keep json as json and jsonb as jsonb.
        B::Arrow | B::HashArrow => left.filter(|_| is_json(left)),
        // sqlparser reads `->-3` as an operator `->-`.
        B::Custom(op) if op == "->-" => left.filter(|_| is_json(left)),
        B::LongArrow | B::HashLongArrow => Some(PgType::Text),
        B::AtArrow | B::ArrowAt | B::Question | B::QuestionAnd | B::QuestionPipe | B::PGOverlap => {
            Some(PgType::Bool)
        }
        B::HashMinus => Some(PgType::Jsonb),
        B::Minus if left == Some(PgType::Jsonb) => left,
        B::StringConcat if is_json(left) || is_json(right) => Some(PgType::Jsonb),
        B::StringConcat if is_array(left) => left,
        B::StringConcat if is_array(right) => right,
        _ => None,
    }
}

/// A json or array function's result, from its first and second arguments' types.
pub(super) fn function(
    name: &str,
    first: Option<PgType>,
    second: Option<PgType>,
) -> Option<PgType> {
    Some(match name {
        "to_json" | "json_build_object" | "json_build_array" | "json_agg" | "json_object_agg"
        | "json_extract_path" | "array_to_json" | "json_object" | "row_to_json" => PgType::Json,
        "to_jsonb" | "jsonb_build_object" | "jsonb_build_array" | "jsonb_agg"
        | "jsonb_object_agg" | "jsonb_set" | "jsonb_set_lax" | "jsonb_insert"
        | "jsonb_strip_nulls" | "jsonb_extract_path" | "jsonb_object" => PgType::Jsonb,
        "json_strip_nulls" => PgType::Json,
        "jsonb_typeof"
        | "json_typeof"
        | "jsonb_pretty"
        | "json_extract_path_text"
        | "jsonb_extract_path_text"
        | "array_to_string"
        | "array_dims" => PgType::Text,
        "jsonb_array_length" | "json_array_length" | "cardinality" | "array_position"
        | "array_lower" | "array_ndims" => PgType::Int4,
        "array_positions" => PgType::Int4Array,
        "string_to_array" => PgType::TextArray,
        "array_append" | "array_cat" | "array_remove" | "array_replace" | "trim_array" => {
            first.filter(|_| is_array(first))?
        }
        "array_prepend" => second.filter(|_| is_array(second))?,
        "array_fill" => PgType::array_of(first?)?,
        _ => return None,
    })
}

/// `x::int[]`: the array of the element type.
pub(super) fn array_cast(data_type: &DataType) -> Option<PgType> {
    PgType::array_of(from_data_type(array_element(data_type)?)?)
}
