//! Postgres' set-returning functions (generate_series, unnest, jsonb_each, regexp_matches,
//! ...) as one SQLite table-valued function, `pg_srf(spec, args...)`, which the router puts
//! where Postgres SQL calls them: in FROM (also LATERAL, reading earlier tables' columns)
//! and in select lists. `spec` names the functions and their argument counts
//! (`unnest/1;unnest/1`); several run side by side, as Postgres runs the set-returning
//! functions of one select list: row by row, the shorter padded with NULLs. Rows stream:
//! a long series is never held in memory.
//!
//! Knows values only: the router picks each function's variant by its arguments' types
//! (`generate_series_timestamptz`) and names and types the output columns.

mod elements;
mod series;
mod text;
mod vtab;

use rusqlite::types::Value;

use super::typecheck::postgres_error;

/// The most output columns one `pg_srf` call has (its `c0..c7`).
pub(crate) const MAX_COLUMNS: usize = 8;
/// The most arguments one `pg_srf` call takes (its hidden `a0..a15`).
pub(crate) const MAX_ARGUMENTS: usize = 16;

/// A set-returning function's rows, each as many values as it has output columns.
pub(crate) type Rows = Box<dyn Iterator<Item = rusqlite::Result<Vec<Value>>>>;

pub(crate) fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    vtab::register(conn)
}

/// One function's output columns and rows, or 0A000 for a name litescale lacks.
fn call(name: &str, args: Vec<Value>) -> rusqlite::Result<(usize, Rows)> {
    let (width, rows) = match name {
        "generate_series" => (1, series::numbers(args)?),
        "generate_series_timestamp" => (1, series::timestamps(args, false)?),
        "generate_series_timestamptz" => (1, series::timestamps(args, true)?),
        "generate_subscripts" => (1, series::subscripts(args)?),
        "unnest" => (1, elements::unnest(args)),
        // There are no partitioned tables: a relation is its only ancestor.
        "pg_partition_ancestors" => (1, built(vec![args])),
        "_pg_expandarray" => (2, elements::expand_array(args)),
        "pg_options_to_table" => (2, elements::options_to_table(args)),
        "jsonb_each" | "json_each" | "jsonb_each_text" | "json_each_text" => {
            (2, elements::json_each(name, args)?)
        }
        "jsonb_array_elements"
        | "json_array_elements"
        | "jsonb_array_elements_text"
        | "json_array_elements_text" => (1, elements::json_array_elements(name, args)?),
        "jsonb_object_keys" | "json_object_keys" => (1, elements::json_object_keys(name, args)?),
        "regexp_matches" => (1, text::regexp_matches(args)?),
        "regexp_split_to_table" => (1, text::regexp_split_to_table(args)?),
        "string_to_table" => (1, text::string_to_table(args)),
        other => {
            return Err(postgres_error(
                "0A000",
                &format!("set-returning function {other} is not supported by litescale"),
            ));
        }
    };
    Ok((width, rows))
}

/// The rows of the functions `spec` names, side by side: each row has every function's
/// columns, NULL where a function has no more rows; done when all are.
pub(crate) fn rows(spec: &str, mut args: Vec<Value>) -> rusqlite::Result<Rows> {
    let mut functions = Vec::new();
    for part in spec.split(';') {
        let (name, count) = part
            .split_once('/')
            .and_then(|(n, c)| Some((n, c.parse::<usize>().ok()?)))
            .ok_or_else(|| postgres_error("22023", &format!("bad set-returning call {part}")))?;
        if count > args.len() {
            return Err(postgres_error(
                "22023",
                &format!("bad set-returning call {part}"),
            ));
        }
        let rest = args.split_off(count);
        functions.push(call(name, std::mem::replace(&mut args, rest))?);
    }
    if functions.len() == 1 {
        return Ok(functions
            .pop()
            .map(|(_, rows)| rows)
            .unwrap_or_else(no_rows));
    }
    let mut functions: Vec<(usize, std::iter::Fuse<Rows>)> = functions
        .into_iter()
        .map(|(width, rows)| (width, rows.fuse()))
        .collect();
    Ok(Box::new(std::iter::from_fn(move || {
        let mut row = Vec::new();
        let mut any = false;
        for (width, rows) in &mut functions {
            match rows.next() {
                Some(Ok(values)) => {
                    any = true;
                    row.extend(values);
                }
                Some(Err(e)) => return Some(Err(e)),
                None => row.extend(std::iter::repeat_n(Value::Null, *width)),
            }
        }
        any.then_some(Ok(row))
    })))
}

/// No rows: what a strict function answers for a NULL argument.
fn no_rows() -> Rows {
    Box::new(std::iter::empty())
}

/// Rows of one column.
fn one_column<I>(values: I) -> Rows
where
    I: IntoIterator<Item = Value>,
    I::IntoIter: 'static,
{
    Box::new(values.into_iter().map(|v| Ok(vec![v])))
}

/// Rows already built (a function of one value's parts).
fn built(rows: Vec<Vec<Value>>) -> Rows {
    Box::new(rows.into_iter().map(Ok))
}

/// Strict functions answer no rows for a NULL argument.
fn any_null(args: &[Value]) -> bool {
    args.iter().any(|a| matches!(a, Value::Null))
}

/// An argument as text (numbers as SQLite prints them).
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        Value::Text(t) => Some(t.clone()),
        Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    /// Each answer is PostgreSQL 15's rows (`|` between columns, `;` between rows); a
    /// timestamptz in its stored form. The last case would not finish if the series were
    /// held in memory.
    const CASES: &str = "
        SELECT c0 FROM pg_srf('generate_series/2', 1, 3) | 1;2;3
        SELECT c0 FROM pg_srf('generate_series/3', 5, 1, -2) | 5;3;1
        SELECT c0 FROM pg_srf('generate_series/3', 0, 1, 0.25) | 0;0.25;0.5;0.75;1
        SELECT c0 FROM pg_srf('generate_series/3', 1, 3, 0) | ERROR 22023
        SELECT c0 FROM pg_srf('generate_series/2', 1, NULL) |
        SELECT c0 FROM pg_srf('generate_series_timestamp/3', '2024-01-31', '2024-03-31', '1 mon') | 2024-01-31 00:00:00;2024-02-29 00:00:00;2024-03-29 00:00:00
        SELECT c0 FROM pg_srf('generate_series_timestamptz/3', '2024-01-01', '2024-01-02', '12 hours') | 2024-01-01 00:00:00+00:00;2024-01-01 12:00:00+00:00;2024-01-02 00:00:00+00:00
        SELECT c0, ordinality FROM pg_srf('unnest/1', '{a,NULL,\"b c\"}') | a|1;NULL|2;b c|3
        SELECT c0, c1 FROM pg_srf('unnest/1;unnest/1', '{1,2}', '{x,y,z}') | 1|x;2|y;NULL|z
        SELECT c0, c1 FROM pg_srf('generate_series/2;generate_series/2', 1, 3, 1, 2) | 1|1;2|2;3|NULL
        SELECT c0, c1 FROM pg_srf('jsonb_each/1', '{\"b\": [1,2], \"a\": \"x\"}') | a|\"x\";b|[1, 2]
        SELECT c0, c1 FROM pg_srf('json_each_text/1', '{\"b\": [1,2], \"a\": \"x\", \"n\": null}') | b|[1,2];a|x;n|NULL
        SELECT c0 FROM pg_srf('jsonb_array_elements/1', '[1, true, [2,false]]') | 1;true;[2, false]
        SELECT c0 FROM pg_srf('jsonb_array_elements_text/1', '[\"foo\", null]') | foo;NULL
        SELECT c0 FROM pg_srf('jsonb_object_keys/1', '{\"f1\":\"abc\",\"f2\":{\"f3\":\"a\"}}') | f1;f2
        SELECT c0 FROM pg_srf('jsonb_array_elements/1', '{\"a\": 1}') | ERROR 22023
        SELECT c0 FROM pg_srf('regexp_matches/3', 'foobarbequebazilbarfbonk', '(b[^b]+)(b[^b]+)', 'g') | {bar,beque};{bazil,barf}
        SELECT c0 FROM pg_srf('regexp_matches/2', 'abc', 'x') |
        SELECT c0 FROM pg_srf('regexp_split_to_table/2', 'hello world', '\\s+') | hello;world
        SELECT c0 FROM pg_srf('string_to_table/3', 'a,b,,c', ',', '') | a;b;NULL;c
        SELECT c0 FROM pg_srf('string_to_table/2', 'abc', NULL) | a;b;c
        SELECT c0, c1 FROM pg_srf('_pg_expandarray/1', '{5,7}') | 5|1;7|2
        SELECT c0 FROM pg_srf('generate_subscripts/2', '{a,b,c}', 1) | 1;2;3
        SELECT c0 FROM pg_srf('pg_partition_ancestors/1', 16384) | 16384
        SELECT c0 FROM pg_srf('nonesuch/1', 1) | ERROR 0A000
        SELECT sum(c0) FROM (SELECT c0 FROM pg_srf('generate_series/2', 1, 100000000000) LIMIT 3) | 6
    ";

    #[test]
    fn the_functions_answer_as_postgres_through_sqlite() {
        let c = Connection::open_in_memory().unwrap();
        super::register(&c).unwrap();
        for line in CASES.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (sql, expected) = line.rsplit_once(" |").unwrap();
            let answer = (|| -> rusqlite::Result<String> {
                let mut statement = c.prepare(sql)?;
                let width = statement.column_count();
                let rows: Vec<String> = statement
                    .query_map([], |r| {
                        Ok((0..width)
                            .map(|i| match r.get::<_, rusqlite::types::Value>(i).unwrap() {
                                rusqlite::types::Value::Null => "NULL".to_owned(),
                                rusqlite::types::Value::Integer(n) => n.to_string(),
                                rusqlite::types::Value::Real(f) => f.to_string(),
                                rusqlite::types::Value::Text(t) => t,
                                rusqlite::types::Value::Blob(b) => format!("{b:?}"),
                            })
                            .collect::<Vec<_>>()
                            .join("|"))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(rows.join(";"))
            })()
            .unwrap_or_else(|e| {
                let error = crate::engine::sql::typecheck::error_of(&e.to_string());
                format!(
                    "ERROR {}",
                    error.map_or("?".to_owned(), |e| e.sqlstate.to_owned())
                )
            });
            assert_eq!(answer, expected.trim(), "{sql}");
        }
    }
}
