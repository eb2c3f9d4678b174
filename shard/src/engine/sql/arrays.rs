//! Arrays, kept in Postgres' text form: `{a,"b c",NULL}`, or `1 2` for the catalog's
//! int2vector (whose subscripts start at 0). These SQL functions let translated queries
//! read and build them.

use rusqlite::Connection;
use std::collections::VecDeque;

use rusqlite::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
use rusqlite::types::{Value as SqlValue, ValueRef};

use super::typecheck::postgres_error;

/// A piece of an array's text form: a brace, or an element (`None` for NULL).
#[derive(Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Element(Option<String>),
}

/// The text form read into braces and elements; commas only separate. Unquoted
/// whitespace around an element is not part of it.
fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            '{' | '}' | ',' => {
                chars.next();
                out.extend(match c {
                    '{' => Some(Token::Open),
                    '}' => Some(Token::Close),
                    _ => None,
                });
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            _ => {
                let mut value = String::new();
                let (mut quoted, mut was_quoted, mut kept) = (false, false, 0);
                while let Some(&c) = chars.peek() {
                    if !quoted && matches!(c, ',' | '{' | '}') {
                        break;
                    }
                    chars.next();
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
                        c => {
                            value.push(c);
                            if quoted || !c.is_whitespace() {
                                kept = value.len();
                            }
                        }
                    }
                }
                value.truncate(kept);
                let null = !was_quoted && value.eq_ignore_ascii_case("NULL");
                out.push(Token::Element((!null).then_some(value)));
            }
        }
    }
    out
}

/// An array's elements, of every dimension in order; `None` for NULL elements.
pub fn elements(array: &str) -> Vec<Option<String>> {
    let a = array.trim();
    if !a.starts_with('{') {
        // int2vector / oidvector: space-separated.
        return a.split_whitespace().map(|e| Some(e.to_owned())).collect();
    }
    tokens(a)
        .into_iter()
        .filter_map(|t| match t {
            Token::Element(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// An array with its shape: the length of each dimension (none for `{}`) and the
/// elements in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub dims: Vec<usize>,
    pub items: Vec<Option<String>>,
}

impl Array {
    /// An array of one dimension holding `items` (of none when there are none).
    pub fn flat(items: Vec<Option<String>>) -> Array {
        let dims = if items.is_empty() {
            vec![]
        } else {
            vec![items.len()]
        };
        Array { dims, items }
    }

    /// Reads the text form; `Err` says why it is malformed, as Postgres' detail does.
    /// Vectors (`1 2`) read as one dimension.
    pub fn parse(text: &str) -> Result<Array, &'static str> {
        let t = text.trim();
        if !t.starts_with('{') {
            return Ok(Array::flat(elements(t)));
        }
        let mut tokens = tokens(t).into_iter().peekable();
        let tree = Node::read(&mut tokens)?;
        if tokens.next().is_some() {
            return Err("Junk after closing right brace.");
        }
        let mut dims = Vec::new();
        let mut items = Vec::new();
        tree.shape(0, &mut None, &mut dims, &mut items)?;
        Ok(if items.is_empty() {
            Array::flat(items)
        } else {
            Array { dims, items }
        })
    }

    /// The elements of each subscript of the first dimension: `{{1,2},{3,4}}` has the
    /// rows `{1,2}` and `{3,4}`.
    pub fn rows(&self) -> std::slice::Chunks<'_, Option<String>> {
        let width = self.dims.iter().skip(1).product::<usize>().max(1);
        self.items.chunks(width)
    }

    /// Where the element at these subscripts is in `items`: `None` outside the bounds
    /// or when there are not as many subscripts as dimensions (Postgres' NULL).
    pub fn offset(&self, subscripts: &[i64], lower: i64) -> Option<usize> {
        if subscripts.len() != self.dims.len() {
            return None;
        }
        subscripts
            .iter()
            .zip(&self.dims)
            .try_fold(0, |at, (&s, &dim)| {
                let i = usize::try_from(s - lower).ok().filter(|i| *i < dim)?;
                Some(at * dim + i)
            })
    }

    /// Postgres' text form.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, 0, &mut self.items.iter());
        out
    }

    fn render_into<'a>(
        &self,
        out: &mut String,
        depth: usize,
        items: &mut impl Iterator<Item = &'a Option<String>>,
    ) {
        out.push('{');
        for n in 0..self.dims.get(depth).copied().unwrap_or(0) {
            if n > 0 {
                out.push(',');
            }
            if depth + 1 < self.dims.len() {
                self.render_into(out, depth + 1, items);
            } else if let Some(e) = items.next() {
                out.push_str(&e.as_deref().map_or_else(|| "NULL".to_owned(), quote));
            }
        }
        out.push('}');
    }
}

/// A brace's contents, before its shape is checked.
enum Node {
    Element(Option<String>),
    List(Vec<Node>),
}

impl Node {
    fn read(
        tokens: &mut std::iter::Peekable<impl Iterator<Item = Token>>,
    ) -> Result<Node, &'static str> {
        match tokens.next() {
            Some(Token::Element(e)) => Ok(Node::Element(e)),
            Some(Token::Open) => {
                let mut children = Vec::new();
                loop {
                    match tokens.peek() {
                        Some(Token::Close) => {
                            tokens.next();
                            return Ok(Node::List(children));
                        }
                        None => return Err("Unexpected end of input."),
                        _ => children.push(Node::read(tokens)?),
                    }
                }
            }
            _ => Err("Unexpected \"}\" character."),
        }
    }

    /// Records the length of each dimension (the first list met at a depth sets it, the
    /// others must match) and collects the elements; every innermost list must be at
    /// the depth `leaf` the first one was.
    fn shape(
        self,
        depth: usize,
        leaf: &mut Option<usize>,
        dims: &mut Vec<usize>,
        items: &mut Vec<Option<String>>,
    ) -> Result<(), &'static str> {
        let ragged = "Multidimensional arrays must have sub-arrays with matching dimensions.";
        let Node::List(children) = self else {
            return Err(ragged);
        };
        match dims.get(depth) {
            Some(&n) if n != children.len() => return Err(ragged),
            Some(_) => {}
            None => dims.push(children.len()),
        }
        let nested = matches!(children.first(), Some(Node::List(_)));
        if !nested && *leaf.get_or_insert(depth) != depth {
            return Err(ragged);
        }
        for child in children {
            match child {
                Node::Element(e) if !nested => items.push(e),
                Node::List(_) if nested => child.shape(depth + 1, leaf, dims, items)?,
                _ => return Err(ragged),
            }
        }
        Ok(())
    }
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

/// Builds a one-dimensional array from elements (None for NULL).
pub fn render(elements: &[Option<String>]) -> String {
    Array::flat(elements.to_vec()).render()
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

/// The text form read with its shape; 22P02 as Postgres' array input when malformed.
pub(crate) fn parse(text: &str) -> rusqlite::Result<Array> {
    Array::parse(text).map_err(|detail| {
        postgres_error(
            "22P02",
            &format!("malformed array literal: \"{text}\" ({detail})"),
        )
    })
}

/// Argument `i` read as an array with its shape.
pub(crate) fn array_value(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Array>> {
    array_arg(ctx, i)?.map(|a| parse(&a)).transpose()
}

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_window_function("pg_array_agg", 1, flags, ArrayAgg)?;
    // pg_array_get(a, i [, j ...]): `a[i][j]`.
    conn.create_scalar_function("pg_array_get", -1, flags, |ctx| {
        let Some(text) = array_arg(ctx, 0)? else {
            return Ok(None);
        };
        let subscripts = (1..ctx.len())
            .map(|i| ctx.get::<Option<i64>>(i))
            .collect::<rusqlite::Result<Option<Vec<i64>>>>()?;
        let Some(subscripts) = subscripts else {
            return Ok(None);
        };
        let mut array = parse(&text)?;
        let element = array
            .offset(&subscripts, lower_bound(&text))
            .and_then(|i| array.items.swap_remove(i));
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
    fn arrays_of_several_dimensions_keep_their_shape_and_must_be_rectangular() {
        let a = Array::parse(" { {1, \"b c\"} , {NULL,4} } ").unwrap();
        assert_eq!(a.dims, [2, 2]);
        assert_eq!(a.items, [s("1"), s("b c"), None, s("4")]);
        assert_eq!(a.render(), "{{1,\"b c\"},{NULL,4}}");
        assert_eq!(a.offset(&[2, 1], 1), Some(2));
        assert_eq!(a.offset(&[2], 1), None);
        assert_eq!(a.offset(&[3, 1], 1), None);
        let cube = Array::parse("{{{1},{2}},{{3},{4}}}").unwrap();
        assert_eq!(
            (cube.render(), cube.dims),
            ("{{{1},{2}},{{3},{4}}}".into(), vec![2, 2, 1])
        );
        assert_eq!(Array::parse("{{},{}}").unwrap().render(), "{}");
        for ragged in [
            "{{1,2},{3}}",
            "{{1},2}",
            "{1,{2}}",
            "{{1,2},{{3},{4}}}",
            "{1,2",
            "{1}}",
        ] {
            assert!(Array::parse(ragged).is_err(), "{ragged}");
        }
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
            q("SELECT pg_array_get('{{1,2},{3,4}}', 2, 1)"),
            SqlValue::Integer(3)
        );
        assert_eq!(q("SELECT pg_array_get('{{1,2},{3,4}}', 2)"), SqlValue::Null);
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
