//! Postgres' enum types (CREATE TYPE ... AS ENUM) on SQLite, which has none. A database's
//! enums live in its partitions' `_litescale_enums` table (name, labels in their order
//! with Postgres' sort-order numbers). A column of an enum type (router
//! translate/columns.rs) keeps text, with a CHECK calling `pg_enum_check`, which answers
//! 22P02 for a label the type does not have, and a collation that orders its labels as
//! declared: `"pg_enum:<type>:<labels as JSON>"`. The collation's name carries the order
//! itself, so every connection, on any process, builds the same comparator from the name
//! alone and none can hold a stale one: adding a label writes the new name into the
//! definitions of the tables that use the type (table_definition.rs) and rebuilds their
//! indexes.
//!
//! The SQL functions that change the registry only ask for their change
//! ([`table_definition::request`]); it is made when their statement is done.

use std::cmp::Ordering;
use std::collections::HashMap;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::{Connection, OptionalExtension};

use crate::engine::sql::typecheck::postgres_error;
use crate::engine::table_definition::{request, write_definition};

const REGISTRY: &str = "_litescale_enums";

/// Where the collation of an enum column begins; the router writes `pg_enum:<type>` and
/// [`order`] the labels after it.
const COLLATION_PREFIX: &str = "pg_enum:";

/// An enum type's OID is this plus its row in the registry; a label's, the type's OID
/// times 1000 plus its place.
pub(crate) const TYPE_OID_BASE: i64 = 90000;

/// The labels of an enum type in order, each with Postgres' `enumsortorder`.
type Labels = Vec<(String, f64)>;

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.collation_needed(build_collation)?;
    let flags = FunctionFlags::SQLITE_UTF8;
    conn.create_scalar_function("pg_enum_check", 2, flags, |ctx| {
        checked_label(ctx).map(|_| true)
    })?;
    conn.create_scalar_function("pg_enum_in", 2, flags, |ctx| checked_label(ctx))?;
    conn.create_scalar_function("litescale_enums", 0, flags, |ctx| {
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        let all = all_enums(&conn)?;
        let rows: Vec<serde_json::Value> = all
            .into_iter()
            .map(|(oid, name, labels)| serde_json::json!([oid, name, labels]))
            .collect();
        Ok(serde_json::Value::Array(rows).to_string())
    })?;
    // (name, label, ...)
    conn.create_scalar_function("litescale_create_enum", -1, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let labels = (1..ctx.len())
            .map(|i| ctx.get::<String>(i))
            .collect::<rusqlite::Result<Vec<String>>>()?;
        request("litescale_create_enum", move |conn| {
            create(conn, &name, &labels)
        })?;
        Ok(rusqlite::types::Null)
    })?;
    conn.create_scalar_function("litescale_add_enum_value", 5, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let label = ctx.get::<String>(1)?;
        let if_not_exists = ctx.get::<bool>(2)?;
        let neighbor = ctx.get::<Option<String>>(3)?;
        let after = ctx.get::<bool>(4)?;
        request("litescale_add_enum_value", move |conn| {
            add_value(
                conn,
                &name,
                &label,
                if_not_exists,
                neighbor.as_deref(),
                after,
            )
        })?;
        Ok(rusqlite::types::Null)
    })?;
    conn.create_scalar_function("litescale_drop_enum", 3, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let if_exists = ctx.get::<bool>(1)?;
        let cascade = ctx.get::<bool>(2)?;
        request("litescale_drop_enum", move |conn| {
            drop_type(conn, &name, if_exists, cascade)
        })?;
        Ok(rusqlite::types::Null)
    })?;
    conn.create_scalar_function("litescale_order_enum", 1, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        request("litescale_order_enum", move |conn| {
            // A user type that is a domain makes its columns the domain's.
            if super::domains::apply(conn, &name)? {
                return Ok(());
            }
            let labels = existing(conn, &name)?;
            order(conn, &name, &labels)
        })?;
        Ok(rusqlite::types::Null)
    })
}

/// `value` if the enum type `name` has it as a label (NULL passes); 22P02 otherwise.
fn checked_label(ctx: &Context<'_>) -> rusqlite::Result<Option<String>> {
    let Some(value) = ctx.get::<Option<String>>(0)? else {
        return Ok(None);
    };
    let name = ctx.get::<String>(1)?;
    // SAFETY: the connection is used on this thread, within the call, for a read.
    let conn = unsafe { ctx.get_connection()? };
    if labels_of(&conn, &name)?.is_none() && super::domains::definition(&conn, &name)?.is_some() {
        return Err(postgres_error(
            "0A000",
            &format!("a cast to the domain {name} is not supported by litescale"),
        ));
    }
    let labels = existing(&conn, &name)?;
    if labels.iter().any(|(l, _)| *l == value) {
        Ok(Some(value))
    } else {
        Err(postgres_error(
            "22P02",
            &format!("invalid input value for enum {name}: \"{value}\""),
        ))
    }
}

/// Every enum type: (OID, name, labels).
fn all_enums(conn: &Connection) -> rusqlite::Result<Vec<(i64, String, Labels)>> {
    super::read_registry(conn, REGISTRY, || {
        conn.prepare(&format!(
            "SELECT oid + {TYPE_OID_BASE}, name, labels FROM {REGISTRY} ORDER BY oid"
        ))?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, parse_labels(&r.get::<_, String>(2)?)))
        })?
        .collect()
    })
}

fn parse_labels(json: &str) -> Labels {
    serde_json::from_str(json).unwrap_or_default()
}

fn labels_of(conn: &Connection, name: &str) -> rusqlite::Result<Option<Labels>> {
    super::read_registry(conn, REGISTRY, || {
        conn.query_row(
            &format!("SELECT labels FROM {REGISTRY} WHERE name = ?1"),
            [name],
            |r| r.get::<_, String>(0),
        )
        .optional()
        .map(|labels| labels.as_deref().map(parse_labels))
    })
}

/// The labels of `name`; 42704 when there is no such enum type.
fn existing(conn: &Connection, name: &str) -> rusqlite::Result<Labels> {
    labels_of(conn, name)?
        .ok_or_else(|| postgres_error("42704", &format!("type \"{name}\" does not exist")))
}

/// Postgres' limit on a label (NAMEDATALEN - 1 bytes).
const MAX_LABEL_BYTES: usize = 63;

fn valid_label(label: &str) -> rusqlite::Result<()> {
    if label.len() > MAX_LABEL_BYTES {
        return Err(postgres_error(
            "22023",
            &format!("invalid enum label \"{label}\""),
        ));
    }
    Ok(())
}

fn create(conn: &Connection, name: &str, labels: &[String]) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {REGISTRY} \
         (oid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, labels TEXT NOT NULL)"
    ))?;
    // A table's row type has the table's name.
    let taken: bool = conn.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM {REGISTRY} WHERE name = ?1) \
             OR EXISTS (SELECT 1 FROM main.sqlite_schema WHERE type IN ('table', 'view') \
                        AND name = ?1 COLLATE NOCASE)"
        ),
        [name],
        |r| r.get(0),
    )?;
    if taken {
        return Err(postgres_error(
            "42710",
            &format!("type \"{name}\" already exists"),
        ));
    }
    let mut ordered: Labels = Vec::with_capacity(labels.len());
    for label in labels {
        valid_label(label)?;
        if ordered.iter().any(|(l, _)| l == label) {
            // Postgres finds it as pg_enum's unique index does.
            return Err(postgres_error(
                "23505",
                "duplicate key value violates unique constraint \"pg_enum_typid_label_index\"",
            ));
        }
        ordered.push((label.clone(), (ordered.len() + 1) as f64));
    }
    store(conn, name, &ordered, true)
}

fn store(conn: &Connection, name: &str, labels: &Labels, new: bool) -> rusqlite::Result<()> {
    let json =
        serde_json::to_string(labels).map_err(|e| postgres_error("XX000", &e.to_string()))?;
    let sql = if new {
        format!("INSERT INTO {REGISTRY} (name, labels) VALUES (?1, ?2)")
    } else {
        format!("UPDATE {REGISTRY} SET labels = ?2 WHERE name = ?1")
    };
    conn.execute(&sql, [name, &json])?;
    Ok(())
}

/// ALTER TYPE ... ADD VALUE: the sort order Postgres gives the new label (one past the
/// last, or halfway to its neighbour), then the new order in the tables that use the type.
fn add_value(
    conn: &Connection,
    name: &str,
    label: &str,
    if_not_exists: bool,
    neighbor: Option<&str>,
    after: bool,
) -> rusqlite::Result<()> {
    let mut labels = existing(conn, name)?;
    valid_label(label)?;
    if labels.iter().any(|(l, _)| l == label) {
        if if_not_exists {
            return Ok(());
        }
        return Err(postgres_error(
            "42710",
            &format!("enum label \"{label}\" already exists"),
        ));
    }
    let at = match neighbor {
        None => labels.len(),
        Some(n) => {
            let Some(i) = labels.iter().position(|(l, _)| l == n) else {
                return Err(postgres_error(
                    "22023",
                    &format!("\"{n}\" is not an existing enum label"),
                ));
            };
            if after { i + 1 } else { i }
        }
    };
    let before = at.checked_sub(1).map(|i| labels[i].1);
    let next = labels.get(at).map(|l| l.1);
    let sort_order = match (before, next) {
        (Some(b), Some(n)) => (b + n) / 2.0,
        (Some(b), None) => b + 1.0,
        (None, Some(n)) => n - 1.0,
        (None, None) => 1.0,
    };
    labels.insert(at, (label.to_owned(), sort_order));
    store(conn, name, &labels, false)?;
    order(conn, name, &labels)
}

fn drop_type(
    conn: &Connection,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> rusqlite::Result<()> {
    if labels_of(conn, name)?.is_none() {
        if if_exists {
            return Ok(());
        }
        return Err(postgres_error(
            "42704",
            &format!("type \"{name}\" does not exist"),
        ));
    }
    if let Some(table) = users(conn, name)?.first() {
        return Err(if cascade {
            postgres_error(
                "0A000",
                &format!(
                    "DROP TYPE {name} CASCADE while columns of \"{table}\" have the type is not \
                     supported by litescale; drop or change those columns first"
                ),
            )
        } else {
            postgres_error(
                "2BP01",
                &format!("cannot drop type {name} because other objects depend on it"),
            )
        });
    }
    conn.execute(&format!("DELETE FROM {REGISTRY} WHERE name = ?1"), [name])?;
    super::comments::forget(conn, "TYPE", name)
}

/// The quoted collation name, as a table's text has it, that begins every collation of
/// the enum `name`.
fn quoted_start(name: &str) -> String {
    format!(
        "\"{}",
        format!("{COLLATION_PREFIX}{name}").replace('"', "\"\"")
    )
}

/// The tables with a column of the enum `name` (whose text names its collation).
fn users(conn: &Connection, name: &str) -> rusqlite::Result<Vec<String>> {
    let start = quoted_start(name);
    let tables: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM main.sqlite_schema WHERE type = 'table' AND sql IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(tables
        .into_iter()
        .filter(|(_, sql)| !collations_in(sql, &start).is_empty())
        .map(|(table, _)| table)
        .collect())
}

/// The byte ranges of `sql`'s quoted identifiers that are collations of the enum whose
/// [`quoted_start`] is `start`: those that end right after it or go on with `:`.
fn collations_in(sql: &str, start: &str) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = sql[from..].find(start).map(|i| i + from) {
        let rest = &sql[at + start.len()..];
        let continues =
            rest.starts_with(':') || (rest.starts_with('"') && !rest.starts_with("\"\""));
        // The identifier ends at a quote that is not doubled.
        let mut end = at + 1;
        let bytes = sql.as_bytes();
        while end < bytes.len() {
            if bytes[end] == b'"' {
                if bytes.get(end + 1) == Some(&b'"') {
                    end += 2;
                    continue;
                }
                break;
            }
            end += 1;
        }
        if continues && end < bytes.len() {
            found.push(at..end + 1);
        }
        from = end + 1;
        if from >= sql.len() {
            break;
        }
    }
    found
}

/// Writes the enum's current order into the collation of every column of the type, and
/// rebuilds those tables' indexes, which were sorted by the old one.
fn order(conn: &Connection, name: &str, labels: &Labels) -> rusqlite::Result<()> {
    let names: Vec<&str> = labels.iter().map(|(l, _)| l.as_str()).collect();
    let json =
        serde_json::to_string(&names).map_err(|e| postgres_error("XX000", &e.to_string()))?;
    let collation = format!(
        "\"{}\"",
        format!("{COLLATION_PREFIX}{name}:{json}").replace('"', "\"\"")
    );
    let start = quoted_start(name);
    for table in users(conn, name)? {
        let sql: String = conn.query_row(
            "SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?1",
            [&table],
            |r| r.get(0),
        )?;
        let mut new = sql.clone();
        for range in collations_in(&sql, &start).into_iter().rev() {
            new.replace_range(range, &collation);
        }
        if new != sql {
            write_definition(conn, &table, &new)?;
            conn.execute_batch(&format!("REINDEX main.\"{}\"", table.replace('"', "\"\"")))?;
        }
    }
    Ok(())
}

/// SQLite asks for a collation it has not got: an enum's is made from its name.
fn build_collation(conn: &Connection, name: &str) -> rusqlite::Result<()> {
    let Some(rest) = name.strip_prefix(COLLATION_PREFIX) else {
        return Ok(());
    };
    let labels: Vec<String> = rest
        .find(":[")
        .and_then(|at| serde_json::from_str(&rest[at + 1..]).ok())
        .unwrap_or_default();
    let place: HashMap<String, usize> = labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| (l, i))
        .collect();
    conn.create_collation(name, move |a: &str, b: &str| -> Ordering {
        // A text that is no label (only a comparison with one can bring it) sorts after them.
        let key = |s: &str| (place.get(s).copied().unwrap_or(usize::MAX), s.to_owned());
        key(a).cmp(&key(b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enum_collation_is_found_quoted_in_a_definition() {
        let sql = r#"CREATE TABLE t (a mood COLLATE "pg_enum:mood:[""sad"",""ok""]", b moody COLLATE "pg_enum:moody", c mood COLLATE "pg_enum:mood")"#;
        let start = quoted_start("mood");
        let found: Vec<&str> = collations_in(sql, &start)
            .into_iter()
            .map(|r| &sql[r])
            .collect();
        assert_eq!(
            found,
            [r#""pg_enum:mood:[""sad"",""ok""]""#, r#""pg_enum:mood""#]
        );
    }
}
