//! Arrays, kept as Postgres' text form `{a,"b c",NULL}` or `{{1,2},{3,4}}`: `ARRAY[...]`
//! built by `pg_array` (`ARRAY[[...]]` by `pg_array_of_arrays`), `'{...}'::int[]` read
//! and checked by `pg_array_in`, slices `a[1:2]`, and the array operators `@>`, `<@`,
//! `&&`, `||`. Slices together with other subscripts (`a[1][1:2]`) are refused.

use sqlparser::ast::{AccessExpr, BinaryOperator, DataType, Expr, Subscript, Value};

use super::kinds::{Kind, kind};
use crate::RouterError;
use crate::translate::sql::{args, call, function_name, number, string, strip_nesting};
use crate::types::{PgType, array_element, catalog_type_name, from_data_type};

/// `ARRAY[a, b]` → `pg_array(a, b)`. Literals are handed over in the text the array
/// shows them in: `1.50` as written (SQLite would make it the real 1.5), `true` as `t`.
/// Elements that are arrays (`ARRAY[[1, 2], [3, 4]]`) make one more dimension:
/// `pg_array_of_arrays`.
pub(super) fn literal(elements: &[Expr]) -> Result<Expr, RouterError> {
    if elements.is_empty() {
        return Ok(string("{}"));
    }
    if elements.iter().any(|e| kind(e) == Kind::Array) {
        return Ok(call("pg_array_of_arrays", elements.to_vec()));
    }
    let args = elements
        .iter()
        .map(|e| match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) if n.parse::<i64>().is_err() => string(n),
                Value::Boolean(b) => string(if *b { "t" } else { "f" }),
                _ => e.clone(),
            },
            _ => e.clone(),
        })
        .collect();
    Ok(call("pg_array", args))
}

/// `x::elem[]` → `pg_array_in(x, 'elem')`: the text read as Postgres' array input reads it
/// (22P02 on an element the type refuses) and written back in its canonical form.
pub(super) fn cast(inner: &Expr, data_type: &DataType) -> Result<Option<Expr>, RouterError> {
    let Some(element) = array_element(data_type) else {
        return Ok(None);
    };
    // A parameter arrives already in the canonical form of the type it is declared as.
    if matches!(inner, Expr::Value(v) if matches!(v.value, Value::Placeholder(_))) {
        return Ok(None);
    }
    // A list of type names (drizzle-kit: `= ANY('{int,int8}'::regtype[])`): their OIDs.
    if matches!(element, DataType::Custom(name, _) if catalog_type_name(name) == "regtype") {
        return Ok(Some(call("pg_regtype_array", vec![inner.clone()])));
    }
    let class = match from_data_type(element) {
        Some(PgType::Int2) => "int2",
        Some(PgType::Int4) => "int4",
        Some(PgType::Int8 | PgType::Oid) => "int8",
        Some(PgType::Float4 | PgType::Float8) => "float8",
        Some(PgType::Numeric) => "numeric",
        Some(PgType::Bool) => "bool",
        Some(PgType::Text | PgType::Varchar | PgType::Bpchar) => "text",
        _ => return Err(RouterError::unsupported(&format!("cast to {data_type}"))),
    };
    Ok(Some(call(
        "pg_array_in",
        vec![inner.clone(), string(class)],
    )))
}

/// What an array's elements become in JSON (`number`, `bool` or `text`), as far as the
/// expression shows it; `None` when it does not (a column, or `ARRAY['1']` whose string
/// the text form cannot tell from `ARRAY[1]`).
pub(super) fn json_element_class(array: &Expr) -> Option<&'static str> {
    let Expr::Function(f) = strip_nesting(array) else {
        return None;
    };
    let a = args(f);
    match function_name(f)?.as_str() {
        "pg_array_in" => match a.get(1) {
            Some(Expr::Value(v)) => match &v.value {
                Value::SingleQuotedString(c) if c == "bool" => Some("bool"),
                Value::SingleQuotedString(c) if c == "text" => Some("text"),
                Value::SingleQuotedString(_) => Some("number"),
                _ => None,
            },
            _ => None,
        },
        "pg_array" if a.iter().all(|e| matches!(e, Expr::Value(v) if matches!(v.value, Value::Number(..)))) => {
            Some("number")
        }
        // Strings `ARRAY[...]` keeps as written only when they cannot be a number or a
        // boolean handed over as text (see `literal`).
        "pg_array"
            if a.iter().all(|e| {
                matches!(e, Expr::Value(v) if matches!(&v.value,
                    Value::SingleQuotedString(s) if s.parse::<f64>().is_err() && s != "t" && s != "f"))
            }) =>
        {
            Some("text")
        }
        "string_to_array" => Some("text"),
        // The arrays of ARRAY[[...]] all hold what the first does.
        "pg_array_of_arrays" => {
            let class = json_element_class(a.first()?)?;
            a.iter()
                .all(|e| json_element_class(e) == Some(class))
                .then_some(class)
        }
        _ => None,
    }
}

/// `a[lo:hi]` (either bound may be left out) → `pg_array_slice(a, lo, hi)`. Subscripts
/// without slices (`a[2][1]`) are elements (see `pg_array_get`).
pub(super) fn slice(root: &Expr, chain: &[AccessExpr]) -> Result<Option<Expr>, RouterError> {
    let subscripts: Vec<&Subscript> = chain
        .iter()
        .filter_map(|p| match p {
            AccessExpr::Subscript(s) => Some(s),
            AccessExpr::Dot(_) => None,
        })
        .collect();
    let slices = subscripts
        .iter()
        .filter(|s| matches!(s, Subscript::Slice { .. }))
        .count();
    if slices > 0 && subscripts.len() > 1 {
        return Err(RouterError::unsupported(
            "array slices together with other subscripts",
        ));
    }
    let Some((
        AccessExpr::Subscript(Subscript::Slice {
            lower_bound,
            upper_bound,
            stride,
        }),
        path,
    )) = chain.split_last()
    else {
        return Ok(None);
    };
    if stride.is_some() || !path.is_empty() {
        return Err(RouterError::unsupported(
            "array slices with a stride or of a field",
        ));
    }
    let bound = |b: &Option<Expr>| b.clone().unwrap_or(Expr::value(Value::Null));
    Ok(Some(call(
        "pg_array_slice",
        vec![root.clone(), bound(lower_bound), bound(upper_bound)],
    )))
}

/// `@>`, `<@`, `||` where one side is known to be an array, and `&&` (of the types kept
/// here only arrays overlap); `None` otherwise.
pub(super) fn operator(left: &Expr, op: &BinaryOperator, right: &Expr) -> Option<Expr> {
    let (l, r) = (kind(left), kind(right));
    if l != Kind::Array && r != Kind::Array && *op != BinaryOperator::PGOverlap {
        return None;
    }
    let pair = vec![left.clone(), right.clone()];
    Some(match op {
        BinaryOperator::AtArrow => call("pg_array_contains_all", pair),
        BinaryOperator::ArrowAt => call("pg_array_contains_all", vec![right.clone(), left.clone()]),
        BinaryOperator::PGOverlap => call("pg_array_overlap", pair),
        // An untyped string literal beside an array is an array, as Postgres resolves it;
        // a number is an element; a column or parameter is told apart by its value.
        BinaryOperator::StringConcat => {
            let side = |e: &Expr, k: Kind| match (k, e) {
                (Kind::Array, _) => number(1),
                (_, Expr::Value(v)) if matches!(v.value, Value::SingleQuotedString(_)) => number(1),
                (_, Expr::Value(v)) if matches!(v.value, Value::Number(..)) => number(0),
                _ => Expr::value(Value::Null),
            };
            call(
                "pg_array_concat",
                vec![left.clone(), side(left, l), right.clone(), side(right, r)],
            )
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::test_support::sql;

    #[test]
    fn arrays_become_the_shards_functions() {
        assert_eq!(
            sql(
                "select ARRAY[1.50, 2], '{1}'::int[], a[2:3], a || ARRAY['x'], a && b::text[] from t"
            ),
            "SELECT pg_array('1.50', 2) AS \"array\", pg_array_in('{1}', 'int4') AS \"int4\", \
             pg_array_slice(a, 2, 3) AS \"a\", pg_array_concat(a, NULL, pg_array('x'), 1) AS \"?column?\", \
             pg_array_overlap(a, pg_array_in(b, 'text')) AS \"?column?\" FROM t"
        );
        assert_eq!(
            sql("select 1 from t where tags && '{a,b}'"),
            "SELECT 1 AS \"?column?\" FROM t WHERE pg_array_overlap(tags, '{a,b}')"
        );
        assert_eq!(
            sql("select 1 from t where x = ANY(ARRAY[1, 2])"),
            "SELECT 1 AS \"?column?\" FROM t WHERE (x = 1 OR x = 2)"
        );
        assert_eq!(
            sql(
                "select ARRAY[[1, 2], ARRAY[3, 4]], '{{1}}'::int[][], (ARRAY[[1]])[1][1], t.a[2][1] from t"
            ),
            "SELECT pg_array_of_arrays(pg_array(1, 2), pg_array(3, 4)) AS \"array\", \
             pg_array_in('{{1}}', 'int4') AS \"int4\", \
             pg_array_get((pg_array_of_arrays(pg_array(1))), 1, 1) AS \"array\", \
             pg_array_get(t.a, 2, 1) AS \"a\" FROM t"
        );
        for refused in [
            "select a[1][1:2] from t",
            "select array_agg(ARRAY[1]) from t",
        ] {
            assert_eq!(plan(refused).unwrap_err().sqlstate, "0A000", "{refused}");
        }
    }
}
