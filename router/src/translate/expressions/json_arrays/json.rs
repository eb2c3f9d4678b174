//! json and jsonb: the casts (`pg_json` keeps the text, `pg_jsonb` normalises it), the
//! operators `->`, `->>`, `#>`, `#>>`, `@>`, `<@`, `?`, `?|`, `?&`, `||`, `-`, `#-` as calls
//! of the shard's functions, and Postgres' json functions under the names the shard gives
//! them. Operators Postgres resolves by type go to `arrays` when a side is an array.

use sqlparser::ast::{
    BinaryOperator as B, DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
    Ident, ObjectName, Value,
};

use super::arrays;
use super::kinds::{Kind, is_json, kind};
use crate::RouterError;
use crate::translate::sql::{args, call, function_name, number, string};

/// What a json or array expression becomes; `None` for the rest.
pub(in crate::translate::expressions) fn rewrite(expr: &Expr) -> Result<Option<Expr>, RouterError> {
    match expr {
        Expr::Function(f) => rewrite_call(f),
        Expr::Cast {
            expr: inner,
            data_type,
            ..
        } => match cast(inner, data_type) {
            Some(e) => Ok(Some(e)),
            None => arrays::cast(inner, data_type),
        },
        Expr::BinaryOp { left, op, right } => operator(left, op, right),
        Expr::Array(a) => arrays::literal(&a.elem).map(Some),
        Expr::CompoundFieldAccess { root, access_chain } => arrays::slice(root, access_chain),
        _ => Ok(None),
    }
}

/// `x::json` / `x::jsonb`.
fn cast(inner: &Expr, data_type: &DataType) -> Option<Expr> {
    match data_type {
        DataType::JSON => Some(call("pg_json", vec![inner.clone()])),
        DataType::JSONB => Some(call("pg_jsonb", vec![inner.clone()])),
        _ => None,
    }
}

/// A JSON or array operator as a call; `None` for operators that are neither here.
fn operator(left: &Expr, op: &B, right: &Expr) -> Result<Option<Expr>, RouterError> {
    if let Some(array_call) = arrays::operator(left, op, right) {
        return Ok(Some(array_call));
    }
    let pair = || vec![left.clone(), right.clone()];
    Ok(Some(match op {
        B::Arrow => call("pg_json_get", pair()),
        B::LongArrow => call("pg_json_get_text", pair()),
        B::HashArrow => call("pg_json_path", pair()),
        B::HashLongArrow => call("pg_json_path_text", pair()),
        B::Question => call("pg_jsonb_exists", pair()),
        B::QuestionPipe => call("pg_jsonb_exists_any", pair()),
        B::QuestionAnd => call("pg_jsonb_exists_all", pair()),
        B::HashMinus => call("pg_jsonb_delete_path", pair()),
        // Neither side known to be an array: jsonb containment; values that are not JSON
        // (an array's `{1,2}`) are told apart by the shard.
        B::AtArrow => call("pg_contains", pair()),
        B::ArrowAt => call("pg_contains", vec![right.clone(), left.clone()]),
        B::StringConcat if is_json(left) || is_json(right) => call("pg_jsonb_concat", pair()),
        B::Minus if is_json(left) => {
            let f = if kind(right) == Kind::Array {
                "pg_jsonb_delete_keys"
            } else {
                "pg_jsonb_delete"
            };
            call(f, pair())
        }
        // `column - 'text'`: jsonb's delete of a key if the column holds jsonb, date
        // arithmetic if a date; the shard tells by the values.
        B::Minus
            if !matches!(left, Expr::Value(_))
                && matches!(right, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_))) =>
        {
            call("pg_minus", pair())
        }
        _ => return Ok(None),
    }))
}

/// A json function under the shard's name; `None` for other functions.
fn rewrite_call(f: &Function) -> Result<Option<Expr>, RouterError> {
    let Some(name) = function_name(f) else {
        return Ok(None);
    };
    let with_rows;
    let f = if ROW_TAKERS.contains(&name.as_str()) {
        let mut g = f.clone();
        rows_as_json(&mut g, name.starts_with("jsonb") || name == "to_jsonb");
        with_rows = g;
        &with_rows
    } else {
        f
    };
    let renamed = |to: &str| {
        // The call keeps its arguments, DISTINCT, ORDER BY and FILTER.
        let mut g = f.clone();
        g.name = ObjectName::from(vec![Ident::new(to)]);
        Ok(Some(Expr::Function(g)))
    };
    match name.as_str() {
        "row_to_json" if args(f).len() == 1 && kind(&args(f)[0]) == Kind::Json => {
            Ok(Some(args(f).remove(0)))
        }
        "json_build_object" | "jsonb_build_object" | "json_build_array" | "jsonb_build_array"
        | "json_agg" | "jsonb_agg" | "json_object_agg" | "jsonb_object_agg" => {
            let mut call = renamed(&format!("pg_{name}"))?;
            if let Some(Expr::Function(g)) = &mut call {
                booleans_as_json(g);
            }
            Ok(call)
        }
        "to_json" | "to_jsonb" | "array_to_json" => to_json(f, &name),
        "json_extract_path"
        | "jsonb_extract_path"
        | "json_extract_path_text"
        | "jsonb_extract_path_text" => {
            let mut a = args(f);
            if a.is_empty() {
                return Ok(None);
            }
            let json = a.remove(0);
            let path = arrays::literal(&a)?;
            let f = if name.ends_with("_text") {
                "pg_json_path_text"
            } else {
                "pg_json_path"
            };
            Ok(Some(call(f, vec![json, path])))
        }
        "json_object" | "jsonb_object" => renamed(&format!("pg_{name}")),
        // Postgres stacks arrays into one of more dimensions, with rules of its own.
        "array_agg" if args(f).first().is_some_and(|a| kind(a) == Kind::Array) => {
            Err(RouterError::unsupported("array_agg() of arrays"))
        }
        "row_to_json" => Err(RouterError::unsupported(ROW_TO_JSON_OF_COLUMNS)),
        "json_populate_record"
        | "jsonb_populate_record"
        | "json_to_record"
        | "jsonb_to_record"
        | "jsonb_path_query"
        | "jsonb_path_exists"
        | "jsonb_path_match" => Err(RouterError::unsupported(&format!("{name}()"))),
        _ => Ok(None),
    }
}

/// to_json / to_jsonb / array_to_json. An array, kept as its text form, is built into a
/// JSON array of the element type the statement shows (0A000 when it does not); a numeric
/// literal keeps its scale (`1.50`).
fn to_json(f: &Function, name: &str) -> Result<Option<Expr>, RouterError> {
    let jsonb = name == "to_jsonb";
    if let [value] = args(f).as_slice() {
        if kind(value) == Kind::Array || name == "array_to_json" {
            let class = arrays::json_element_class(value).ok_or_else(|| {
                RouterError::unsupported(&format!(
                    "{name}() of an array whose element type the statement does not show"
                ))
            })?;
            return Ok(Some(call(
                "pg_array_to_json",
                vec![value.clone(), string(class), number(i32::from(jsonb))],
            )));
        }
        let cast = if jsonb { "pg_jsonb" } else { "pg_json" };
        if let Expr::Value(v) = value
            && let Value::Number(n, _) = &v.value
            && n.parse::<i64>().is_err()
        {
            return Ok(Some(call(cast, vec![string(n)])));
        }
        // A numeric's digits as kept (`1.50`), not the SQLite number they read as.
        if let Expr::Function(g) = value
            && function_name(g).as_deref() == Some("pg_num_value")
            && let [digits] = args(g).as_slice()
        {
            return Ok(Some(call(cast, vec![digits.clone()])));
        }
    }
    if name == "array_to_json" {
        return Err(RouterError::unsupported("array_to_json(array, pretty)"));
    }
    let mut g = f.clone();
    booleans_as_json(&mut g);
    Ok(Some(Expr::Function(g)))
}

/// The construct refused where `row_to_json`'s argument is neither a row nor a FROM item
/// whose columns the typed pass could write (translate/typed.rs).
pub(crate) const ROW_TO_JSON_OF_COLUMNS: &str =
    "row_to_json() of a table or subquery whose columns are not all integers, texts or uuids";

/// The json functions a `row(...)` argument is built into an object for.
const ROW_TAKERS: &[&str] = &[
    "row_to_json",
    "to_json",
    "to_jsonb",
    "json_build_object",
    "jsonb_build_object",
    "json_build_array",
    "jsonb_build_array",
];

/// `row(a, b)` handed to a json function: the object of its fields `f1`, `f2`, ... (json
/// writes it `{"f1":1,"f2":"x"}`, jsonb as an object). Rows elsewhere stay as they are.
fn rows_as_json(f: &mut Function, jsonb: bool) {
    let FunctionArguments::List(list) = &mut f.args else {
        return;
    };
    for arg in &mut list.args {
        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Function(row))) = arg
            && function_name(row).as_deref() == Some("row")
        {
            let members = args(row)
                .into_iter()
                .enumerate()
                .flat_map(|(i, e)| [string(&format!("f{}", i + 1)), e])
                .collect();
            let builder = if jsonb {
                "pg_jsonb_build_object"
            } else {
                "pg_json_row"
            };
            let mut built = call(builder, members);
            if let Expr::Function(g) = &mut built {
                booleans_as_json(g);
            }
            *arg = FunctionArg::Unnamed(FunctionArgExpr::Expr(built));
        }
    }
}

/// SQLite has no booleans: a value the statement shows to be one (a literal, a comparison,
/// a test) goes into JSON as `true`/`false` rather than as 1/0.
fn booleans_as_json(f: &mut Function) {
    let FunctionArguments::List(list) = &mut f.args else {
        return;
    };
    for arg in &mut list.args {
        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg
            && is_boolean(e)
        {
            *e = call("pg_json_bool", vec![e.clone()]);
        }
    }
}

fn is_boolean(e: &Expr) -> bool {
    match e {
        Expr::Nested(inner) => is_boolean(inner),
        Expr::Value(v) => matches!(v.value, Value::Boolean(_)),
        Expr::BinaryOp { op, .. } => matches!(
            op,
            B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq | B::And | B::Or
        ),
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Not,
            ..
        }
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::In { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::Exists { .. } => true,
        Expr::Cast { data_type, .. } => matches!(data_type, DataType::Bool | DataType::Boolean),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::test_support::sql;

    #[test]
    fn json_operators_become_the_shards_functions() {
        assert_eq!(
            sql("select doc -> 'a', doc ->> 0, doc #> '{a,b}', doc #>> '{a}' from t"),
            "SELECT pg_json_get(doc, 'a') AS \"?column?\", pg_json_get_text(doc, 0) AS \"?column?\", \
             pg_json_path(doc, '{a,b}') AS \"?column?\", pg_json_path_text(doc, '{a}') AS \"?column?\" FROM t"
        );
        assert_eq!(
            sql(
                "select '{\"a\":1}'::jsonb || '{\"b\":2}', '[1]'::jsonb - 0, '{}'::jsonb - '{a}'::text[] \
                 from t where doc @> '{\"a\":1}' and doc ? 'a'"
            ),
            "SELECT pg_jsonb_concat(pg_jsonb('{\"a\":1}'), pg_jsonb('{\"b\":2}')) AS \"?column?\", \
             pg_jsonb_delete(pg_jsonb('[1]'), 0) AS \"?column?\", \
             pg_jsonb_delete_keys(pg_jsonb('{}'), pg_array_in('{a}', 'text')) AS \"?column?\" FROM t \
             WHERE pg_contains(doc, '{\"a\":1}') AND pg_jsonb_exists(doc, 'a')"
        );
        assert_eq!(
            sql("select doc - 'a' from t"),
            "SELECT pg_minus(doc, 'a') AS \"?column?\" FROM t"
        );
    }

    #[test]
    fn json_functions_keep_their_clauses() {
        assert_eq!(
            sql(
                "select jsonb_agg(x order by y), jsonb_extract_path_text(d, 'a', 'b') from t group by d"
            ),
            "SELECT pg_jsonb_agg(x ORDER BY y NULLS LAST) AS \"jsonb_agg\", \
             pg_json_path_text(d, pg_array('a', 'b')) AS \"jsonb_extract_path_text\" FROM t GROUP BY d"
        );
        // A table's row waits for its columns; without them it stays refused.
        let table_row = plan("select row_to_json(t) from t").unwrap().remove(0);
        assert!(table_row.needs_schema);
        let refused = crate::plan_with_schema(
            &table_row,
            &crate::NoSchema,
            &crate::SessionContext::default(),
        );
        assert_eq!(refused.unwrap_err().sqlstate, "0A000");
        assert_eq!(
            sql("select row_to_json(s) from (select 1 as a, 'x' as b) s"),
            "SELECT pg_json_row('a', s.\"a\", 'b', s.\"b\") AS \"row_to_json\" \
             FROM (SELECT 1 AS a, 'x' AS b) s"
        );
    }

    #[test]
    fn arrays_become_json_arrays_of_their_element_type() {
        assert_eq!(
            sql(
                "select to_jsonb(ARRAY[1, 2]), array_to_json('{a}'::text[]), to_json(1.50), to_jsonb(x::numeric)"
            ),
            "SELECT pg_array_to_json(pg_array(1, 2), 'number', 1) AS \"to_jsonb\", \
             pg_array_to_json(pg_array_in('{a}', 'text'), 'text', 0) AS \"array_to_json\", \
             pg_json('1.50') AS \"to_json\", pg_jsonb(pg_numeric(x)) AS \"to_jsonb\""
        );
        // A column's element type is not in the statement.
        assert_eq!(
            plan("select array_to_json(tags) from t")
                .unwrap_err()
                .sqlstate,
            "0A000"
        );
    }
}
