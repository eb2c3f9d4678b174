//! Arrays, kept in Postgres' text form: `{a,"b c",NULL}`, or `1 2` for the catalog's
//! int2vector (whose subscripts start at 0). These SQL functions let translated queries
//! read and build them.

use rusqlite::Connection;
use std::collections::VecDeque;

use rusqlite::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
use rusqlite::types::{Value as SqlValue, ValueRef};

/// An array's elements; `None` for NULL elements.
pub fn elements(array: &str) -> Vec<Option<String>> {
    let a = array.trim();
    let Some(inner) = a.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else {
        // int2vector / oidvector: space-separated.
        return a.split_whitespace().map(|e| Some(e.to_owned())).collect();
    };
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    while chars.peek().is_some() {
        let mut value = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        // Unquoted whitespace around an element is not part of it.
        let mut kept = 0;
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    quoted = !quoted;
                    was_quoted = true;
                    kept = value.len();
                }
                '\\' => {
                    if let Some(n) = chars.next() {
                        value.push(n);
                        kept = value.len();
                    }
                }
                ',' if !quoted => break,
                c if c.is_whitespace() && !quoted => {
                    if kept > 0 || was_quoted {
                        value.push(c);
                    }
                }
                c => {
                    value.push(c);
                    kept = value.len();
                }
            }
        }
        value.truncate(kept);
        out.push(if !was_quoted && value.eq_ignore_ascii_case("NULL") {
            None
        } else {
            Some(value)
        });
    }
    out
}

/// The first subscript: 0 for a vector, 1 for an array.
pub(crate) fn lower_bound(array: &str) -> i64 {
    if array.trim_start().starts_with('{') {
        1
    } else {
        0
    }
}

fn quote(element: &str) -> String {
    let plain = !element.is_empty()
        && !element.eq_ignore_ascii_case("NULL")
        && !element
            .chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
    if plain {
        return element.to_owned();
    }
    let mut q = String::with_capacity(element.len() + 2);
    q.push('"');
    for c in element.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

pub(crate) fn element_text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Some(b.iter().map(|x| format!("{x:02x}")).collect()),
    }
}

/// An element as SQL reads it: integers come back as integers, so they compare with
/// integer columns; the rest as text.
pub(crate) fn element_value(element: String) -> SqlValue {
    match element.parse::<i64>() {
        Ok(n) => SqlValue::Integer(n),
        Err(_) => SqlValue::Text(element),
    }
}

/// Builds an array from elements (None for NULL).
pub fn render(elements: &[Option<String>]) -> String {
    let parts: Vec<String> = elements
        .iter()
        .map(|e| e.as_deref().map_or_else(|| "NULL".to_owned(), quote))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// `array_agg(x [ORDER BY y])`, also as a window function (a sliding frame drops its
/// oldest values first).
struct ArrayAgg;

impl Aggregate<VecDeque<Option<String>>, Option<String>> for ArrayAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<VecDeque<Option<String>>> {
        Ok(VecDeque::new())
    }

    fn step(
        &self,
        ctx: &mut Context<'_>,
        acc: &mut VecDeque<Option<String>>,
    ) -> rusqlite::Result<()> {
        acc.push_back(element_text(ctx.get_raw(0)));
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<VecDeque<Option<String>>>,
    ) -> rusqlite::Result<Option<String>> {
        // Postgres' array_agg of no rows is NULL.
        Ok(acc.map(|mut a| render(a.make_contiguous())))
    }
}

impl WindowAggregate<VecDeque<Option<String>>, Option<String>> for ArrayAgg {
    fn value(
        &self,
        acc: Option<&mut VecDeque<Option<String>>>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(acc
            .filter(|a| !a.is_empty())
            .map(|a| render(a.make_contiguous())))
    }

    fn inverse(
        &self,
        _: &mut Context<'_>,
        acc: &mut VecDeque<Option<String>>,
    ) -> rusqlite::Result<()> {
        acc.pop_front();
        Ok(())
    }
}

pub(crate) fn array_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    ctx.get::<Option<String>>(i)
}

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_window_function("pg_array_agg", 1, flags, ArrayAgg)?;
    conn.create_scalar_function("pg_array_get", 2, flags, |ctx| {
        let (Some(array), Some(i)) = (array_arg(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
            return Ok(None);
        };
        let index = i - lower_bound(&array);
        let element = usize::try_from(index)
            .ok()
            .and_then(|i| elements(&array).get(i).cloned())
            .flatten();
        Ok(element.map(element_value))
    })?;
    conn.create_scalar_function("pg_array_lower", 1, flags, |ctx| {
        Ok(array_arg(ctx, 0)?.map(|a| lower_bound(&a)))
    })?;
    // The elements as a JSON array, for `json_each` to produce one row per element.
    conn.create_scalar_function("pg_array_json", 1, flags, |ctx| {
        let items = array_arg(ctx, 0)?.map(|a| elements(&a)).unwrap_or_default();
        let json: Vec<String> = items
            .iter()
            .map(|e| match e {
                Some(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
                None => "null".to_owned(),
            })
            .collect();
        Ok(format!("[{}]", json.join(",")))
    })?;
    // `x = ANY(array)`.
    conn.create_scalar_function("pg_array_contains", 2, flags, |ctx| {
        let item = ctx.get_raw(1);
        let Some(array) = array_arg(ctx, 0)? else {
            return Ok(None);
        };
        if item == ValueRef::Null {
            return Ok(None);
        }
        Ok(Some(
            elements(&array).iter().flatten().any(|e| same(e, item)),
        ))
    })?;
    Ok(())
}

/// Whether an element equals a SQL value: numbers compare as numbers (`1 = ANY('{01}')`),
/// the rest as text; NULL equals nothing.
pub(crate) fn same(element: &str, v: ValueRef<'_>) -> bool {
    match v {
        ValueRef::Integer(i) => element.trim().parse::<i64>().is_ok_and(|e| e == i),
        ValueRef::Real(f) => element.trim().parse::<f64>().is_ok_and(|e| e == f),
        ValueRef::Null => false,
        other => element_text(other).is_some_and(|t| t == element),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn arrays_parse_and_render_as_postgres_writes_them() {
        assert_eq!(
            elements("{a,\"b c\",NULL,\"x\\\"y\"}"),
            [s("a"), s("b c"), None, s("x\"y")]
        );
        assert_eq!(elements("{}"), Vec::<Option<String>>::new());
        assert_eq!(elements("{\"NULL\",\"\"}"), [s("NULL"), s("")]);
        assert_eq!(elements("1 2"), [s("1"), s("2")]);
        assert_eq!(
            render(&[s("a"), s("b c"), None, s(""), s("x\"y")]),
            "{a,\"b c\",NULL,\"\",\"x\\\"y\"}"
        );
    }

    #[test]
    fn sql_functions_read_and_build_arrays() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, SqlValue>(0)).unwrap();
        assert_eq!(
            q("SELECT pg_array_get('{a,b}', 2)"),
            SqlValue::Text("b".into())
        );
        assert_eq!(q("SELECT pg_array_get('3 4', 0)"), SqlValue::Integer(3));
        assert_eq!(
            q("SELECT pg_array_agg(v ORDER BY v DESC) FROM (SELECT 'b c' AS v UNION SELECT 'a')"),
            SqlValue::Text("{\"b c\",a}".into())
        );
        assert_eq!(
            q("SELECT group_concat(value) FROM json_each(pg_array_json('{x,y}'))"),
            SqlValue::Text("x,y".into())
        );
        // A sliding window frame drops its oldest values.
        assert_eq!(
            q(
                "SELECT group_concat(a, ' ') FROM (SELECT pg_array_agg(v) OVER (ORDER BY v \
               ROWS 1 PRECEDING) AS a FROM (SELECT 1 AS v UNION SELECT 2 UNION SELECT 3))"
            ),
            SqlValue::Text("{1} {1,2} {2,3}".into())
        );
    }
}
