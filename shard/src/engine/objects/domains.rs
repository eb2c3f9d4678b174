//! Postgres' domains (CREATE DOMAIN) on SQLite, which has none. A database's domains live
//! in its partitions' `_litescale_domains` table: each as the column definition it stands
//! for, its base type as SQLite stores it and its NOT NULL, DEFAULT and CHECK constraints
//! with `VALUE` written `"litescale_domain_value"` (router translate/objects/domains.rs).
//!
//! A column declared with a user type first gets an enum's rules (router
//! translate/columns.rs: a collation and `CHECK (pg_enum_check(column, 'type'))`); when
//! the type turns out to be a domain, [`apply`] writes the column over in its table's
//! definition as the domain's: the base type (so SQLite stores values as the base type
//! does), the domain's DEFAULT where the column has none of its own, its NOT NULL, and its
//! CHECKs on the column. The column keeps no trace of the domain: the catalog shows the
//! base type, and dropping the domain leaves the column's constraints.

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension};

use crate::engine::sql::typecheck::postgres_error;
use crate::engine::table_definition::{replace_retyped, request};

const REGISTRY: &str = "_litescale_domains";

/// How the router writes `VALUE` in a domain's constraints.
const VALUE_PLACEHOLDER: &str = "\"litescale_domain_value\"";

/// A domain's OID is this plus its row in the registry.
const OID_BASE: i64 = 95000;

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    // (name, base type as SQLite stores it, DEFAULT clause or NULL, constraints, base type
    // as Postgres names it)
    conn.create_scalar_function("litescale_create_domain", 5, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let default = ctx.get::<Option<String>>(2)?;
        let (base, options, shown) = (
            ctx.get::<String>(1)?,
            ctx.get::<String>(3)?,
            ctx.get::<String>(4)?,
        );
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        let taken: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM pg_type WHERE typname = ?1) \
             OR EXISTS (SELECT 1 FROM main.sqlite_schema WHERE type IN ('table', 'view') \
                        AND name = ?1 COLLATE NOCASE)",
            [&name],
            |r| r.get(0),
        )?;
        if taken {
            return Err(postgres_error(
                "42710",
                &format!("type \"{name}\" already exists"),
            ));
        }
        request("litescale_create_domain", move |conn| {
            conn.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {REGISTRY} (oid INTEGER PRIMARY KEY, \
                 name TEXT NOT NULL UNIQUE, base TEXT NOT NULL, default_clause TEXT, \
                 options TEXT NOT NULL, shown TEXT NOT NULL)"
            ))?;
            conn.execute(
                &format!(
                    "INSERT INTO {REGISTRY} (name, base, default_clause, options, shown) \
                     VALUES (?1, ?2, ?3, ?4, ?5)"
                ),
                rusqlite::params![name, base, default, options, shown],
            )
            .map(drop)
        })?;
        Ok(rusqlite::types::Null)
    })?;
    // (name, if_exists)
    conn.create_scalar_function("litescale_drop_domain", 2, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let if_exists = ctx.get::<bool>(1)?;
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        if definition(&conn, &name)?.is_none() {
            if if_exists {
                return Ok(rusqlite::types::Null);
            }
            return Err(postgres_error(
                "42704",
                &format!("type \"{name}\" does not exist"),
            ));
        }
        request("litescale_drop_domain", move |conn| {
            conn.execute(&format!("DELETE FROM {REGISTRY} WHERE name = ?1"), [&name])
                .map(drop)
        })?;
        Ok(rusqlite::types::Null)
    })?;
    // The catalog's list (sql/catalog): [[oid, name, base type, NOT NULL, constraints,
    // DEFAULT clause], ...] as JSON.
    conn.create_scalar_function("litescale_domains", 0, flags, |ctx| {
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        super::registry_json(
            &conn,
            REGISTRY,
            &format!(
                "SELECT oid + {OID_BASE}, name, shown, options, default_clause FROM {REGISTRY} \
                 ORDER BY oid"
            ),
            |r| {
                let (oid, name, shown, options): (i64, String, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                let default: Option<String> = r.get(4)?;
                Ok(serde_json::json!([
                    oid,
                    name,
                    shown,
                    options.contains("NOT NULL"),
                    options,
                    default
                ]))
            },
        )
    })
}

/// The domain `name`'s base type, DEFAULT clause and constraints, if there is one.
pub(super) fn definition(
    conn: &Connection,
    name: &str,
) -> rusqlite::Result<Option<(String, Option<String>, String)>> {
    super::read_registry(conn, REGISTRY, || {
        conn.query_row(
            &format!("SELECT base, default_clause, options FROM {REGISTRY} WHERE name = ?1"),
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
    })
}

/// Writes the columns declared with the domain `name` over as the domain's (see the
/// module's doc); false when there is no such domain.
pub(super) fn apply(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    let Some((base, default, options)) = definition(conn, name)? else {
        return Ok(false);
    };
    let tables: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM main.sqlite_schema WHERE type = 'table' AND sql LIKE ?1")?
        .query_map(
            [format!("%pg_enum_check(%'{}'))%", name.replace('\'', "''"))],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    for (table, sql) in tables {
        let domain = Domain {
            name,
            base: &base,
            default: default.as_deref(),
            options: &options,
        };
        let (written, columns) = with_domain_columns(&sql, &domain);
        if !columns.is_empty() {
            replace_retyped(conn, &table, &written, &columns)?;
        }
    }
    Ok(true)
}

/// `sql`, a CREATE TABLE, with each column that has the domain `name`'s enum rules written
/// as the domain's column, and those columns' names.
fn with_domain_columns(sql: &str, domain: &Domain<'_>) -> (String, Vec<String>) {
    let Domain {
        name,
        base,
        default,
        options,
    } = *domain;
    let Some(open) = sql.find('(') else {
        return (sql.to_owned(), Vec::new());
    };
    let mut retyped = Vec::new();
    let body_end = sql.rfind(')').unwrap_or(sql.len());
    let collation = format!(" COLLATE \"pg_enum:{}\"", name.replace('"', "\"\""));
    let check_tail = format!(", '{}'))", name.replace('\'', "''"));
    let segments = top_level_segments(&sql[open + 1..body_end]);
    let written: Vec<String> = segments
        .iter()
        .map(|segment| {
            let trimmed = segment.trim();
            let Some(check_at) = trimmed.rfind(" CHECK (pg_enum_check(") else {
                return segment.to_string();
            };
            let check = &trimmed[check_at..];
            let Some(column) = check
                .strip_prefix(" CHECK (pg_enum_check(")
                .and_then(|rest| rest.strip_suffix(check_tail.as_str()))
            else {
                return segment.to_string();
            };
            let Some(head) = trimmed[..check_at].strip_suffix(collation.as_str()) else {
                return segment.to_string();
            };
            // `<column> <type> <the column's own options>`
            let Some(own) = head
                .strip_prefix(column)
                .map(str::trim_start)
                .and_then(|rest| rest.split_once(' ').map(|(_, own)| own).or(Some("")))
            else {
                return segment.to_string();
            };
            let constraints = options.replace(VALUE_PLACEHOLDER, column);
            let default = match default {
                Some(d) if !own.contains("DEFAULT ") => format!("{d} "),
                _ => String::new(),
            };
            let lead = &segment[..segment.len() - segment.trim_start().len()];
            retyped.push(
                column
                    .strip_prefix('"')
                    .and_then(|c| c.strip_suffix('"'))
                    .map_or_else(|| column.to_owned(), |c| c.replace("\"\"", "\"")),
            );
            format!("{lead}{column} {base} {own} {default}{constraints}")
                .trim_end()
                .replace("  ", " ")
        })
        .collect();
    let written = format!("{}{}{}", &sql[..=open], written.join(","), &sql[body_end..]);
    (written, retyped)
}

/// A domain as a table's columns take it.
#[derive(Clone, Copy)]
struct Domain<'a> {
    name: &'a str,
    base: &'a str,
    default: Option<&'a str>,
    options: &'a str,
}

/// The comma-separated parts of a CREATE TABLE's body, outside quotes and parentheses.
fn top_level_segments(body: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::{Domain, with_domain_columns};

    #[test]
    fn a_domain_column_takes_the_base_type_and_the_domains_constraints() {
        let sql = "CREATE TABLE t (id INT PRIMARY KEY, a posint NOT NULL DEFAULT (7) \
                   COLLATE \"pg_enum:posint\" CHECK (pg_enum_check(a, 'posint')), \
                   \"B b\" posint COLLATE \"pg_enum:posint\" CHECK (pg_enum_check(\"B b\", 'posint')), \
                   c mood COLLATE \"pg_enum:mood\" CHECK (pg_enum_check(c, 'mood')))";
        let domain = Domain {
            name: "posint",
            base: "INT",
            default: Some("DEFAULT (1)"),
            options: "CONSTRAINT posint_check CHECK (\"litescale_domain_value\" > 0)",
        };
        let (written, columns) = with_domain_columns(sql, &domain);
        assert_eq!(columns, ["a", "B b"]);
        assert_eq!(
            written,
            "CREATE TABLE t (id INT PRIMARY KEY, a INT NOT NULL DEFAULT (7) CONSTRAINT \
             posint_check CHECK (a > 0), \"B b\" INT DEFAULT (1) CONSTRAINT posint_check \
             CHECK (\"B b\" > 0), c mood COLLATE \"pg_enum:mood\" CHECK (pg_enum_check(c, 'mood')))"
        );
    }
}
