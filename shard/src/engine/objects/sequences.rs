//! Postgres' sequences on SQLite, which has none. A sequence is a one-row table of its own
//! name holding its state as Postgres shows it, `(last_value, log_cnt, is_called)`, so the
//! `SELECT last_value, is_called FROM s` pg_dump runs reads it; its parameters ride in its
//! definition, in a comment SQLite keeps with the text:
//! `/* litescale:sequence {"type":"integer","start":1,...,"owned_by":["t","id"]} */`. The
//! catalog (sql/catalog) shows such a table as a sequence (relkind S, pg_sequence).
//!
//! SERIAL and IDENTITY columns (router translate/columns.rs) have a sequence the column
//! owns and a DEFAULT calling `nextval`. The sequence functions write the sequence's row in
//! the running transaction: unlike Postgres', a rollback takes their numbers back, so no
//! committed row ever gets a number twice, but a rolled-back transaction's numbers are
//! handed out again. Creating, altering and dropping ask for their schema change
//! (table_definition::request), made when their statement is done.

use crate::engine::privileges::{self, Privileges};
use crate::engine::sql::catalog::marks::relation_name;
use rusqlite::functions::{ConnectionRef, Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::engine::sql::catalog::marks;
use crate::engine::sql::typecheck::postgres_error;
use crate::engine::table_definition::{request, write_definition};

use super::{check_column, marked_json, quoted, read_marked};

/// What currval() and lastval() answer: the numbers nextval handed out in the running
/// transaction block of one session (see [`in_block`]).
#[derive(Debug, Default)]
pub(crate) struct BlockValues {
    /// Each sequence's last number, by the name SQLite keeps it under.
    by_sequence: std::collections::HashMap<String, i64>,
    last: Option<i64>,
}

std::thread_local! {
    /// The running request's block's values; `None` outside a session's block.
    static BLOCK: std::cell::RefCell<Option<BlockValues>> = const { std::cell::RefCell::new(None) };
}

/// Runs `run` (one request on a partition's writer) with `block`'s values for nextval to
/// keep and currval and lastval to read. A writer's connection serves one session's
/// block at a time, so a block's values are that session's; autocommit statements, which
/// several sessions' share a transaction (group commit), have none, and currval and
/// lastval there are refused: what another session's statement handed out must never be
/// answered. The values go with the block, where Postgres keeps them for the session.
pub(crate) fn in_block<R>(block: &mut Option<BlockValues>, run: impl FnOnce() -> R) -> R {
    BLOCK.set(block.take());
    struct Restore<'a>(&'a mut Option<BlockValues>);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            *self.0 = BLOCK.take();
        }
    }
    let _restore = Restore(block);
    run()
}

/// Where a sequence's definition keeps its parameters.
const MARK: &str = "/* litescale:sequence ";

/// A sequence's parameters, as pg_sequence shows them, and the column that owns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Parameters {
    #[serde(rename = "type")]
    data_type: String,
    start: i64,
    increment: i64,
    min: i64,
    max: i64,
    cache: i64,
    cycle: bool,
    owned_by: Option<(String, String)>,
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    // (name, options as JSON, if_not_exists)
    conn.create_scalar_function("litescale_create_sequence", 3, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        let options: Json = parse_options(&ctx.get::<String>(1)?)?;
        let if_not_exists = ctx.get::<bool>(2)?;
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        if relation(&conn, &name)?.is_some() {
            if if_not_exists {
                return Ok(Value::Null);
            }
            return Err(postgres_error(
                "42P07",
                &format!("relation \"{name}\" already exists"),
            ));
        }
        let parameters = resolve(None, &options)?;
        check_owner(&conn, &parameters)?;
        let start = parameters.start;
        request("litescale_create_sequence", move |conn| {
            conn.execute_batch(&definition(&name, &parameters))?;
            conn.execute(
                &format!("INSERT INTO {} VALUES (?1, 0, 0)", quoted(&name)),
                [start],
            )?;
            Ok(())
        })?;
        Ok(Value::Null)
    })?;
    // (name, options as JSON, if_exists)
    conn.create_scalar_function("litescale_alter_sequence", 3, flags, |ctx| {
        let name = relation_name(&ctx.get::<String>(0)?);
        let options = parse_options(&ctx.get::<String>(1)?)?;
        // SAFETY: the connection is used on this thread, within the call.
        let conn = unsafe { ctx.get_connection()? };
        let (name, old) = match relation(&conn, &name)? {
            Some((name, Some(old))) => (name, old),
            Some(_) => return Err(not_a_sequence(&name)),
            None if ctx.get::<bool>(2)? => return Ok(Value::Null),
            None => return Err(missing(&name)),
        };
        let parameters = resolve(Some(&old), &options)?;
        check_owner(&conn, &parameters)?;
        let (last, called) = state(&conn, &name)?;
        let (last, called) = match options.get("restart") {
            Some(Json::Number(n)) => (n.as_i64().unwrap_or(parameters.start), false),
            Some(_) => (parameters.start, false),
            None => (last, called),
        };
        check_in_range("RESTART", last, &parameters)?;
        store(&conn, &name, last, called)?;
        if parameters != old {
            request_redefinition("litescale_alter_sequence", name, parameters)?;
        }
        Ok(Value::Null)
    })?;
    // (name, if_exists, cascade)
    conn.create_scalar_function("litescale_drop_sequence", 3, flags, |ctx| {
        let name = relation_name(&ctx.get::<String>(0)?);
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        let name = match relation(&conn, &name)? {
            Some((name, Some(_))) => name,
            Some(_) => return Err(not_a_sequence(&name)),
            None if ctx.get::<bool>(1)? => return Ok(Value::Null),
            None => {
                return Err(postgres_error(
                    "42P01",
                    &format!("sequence \"{name}\" does not exist"),
                ));
            }
        };
        privileges::must_own(&name)?;
        if let Some((table, column)) = users(&conn, &name)?.into_iter().next() {
            return Err(if ctx.get::<bool>(2)? {
                postgres_error(
                    "0A000",
                    &format!(
                        "DROP SEQUENCE {name} CASCADE while the default of column {column} \
                         of table {table} uses it is not supported by litescale; drop that \
                         default first"
                    ),
                )
            } else {
                postgres_error(
                    "2BP01",
                    &format!("cannot drop sequence {name} because other objects depend on it"),
                )
            });
        }
        request_drop("litescale_drop_sequence", name)?;
        Ok(Value::Null)
    })?;
    // (table [, column]): after the table or the column is dropped.
    for arity in [1, 2] {
        conn.create_scalar_function("litescale_drop_owned_sequences", arity, flags, |ctx| {
            let table = ctx.get::<String>(0)?;
            let column = (ctx.len() > 1).then(|| ctx.get::<String>(1)).transpose()?;
            // SAFETY: the connection is used on this thread, within the call, for reads.
            let conn = unsafe { ctx.get_connection()? };
            for (name, _) in owned(&conn, &table, column.as_deref())? {
                request_drop("litescale_drop_owned_sequences", name)?;
            }
            Ok(Value::Null)
        })?;
    }
    // (table, new table) or (table, column, new column): the owner renamed.
    for arity in [2, 3] {
        conn.create_scalar_function("litescale_rename_sequence_owner", arity, flags, |ctx| {
            let table = ctx.get::<String>(0)?;
            let (column, new_table, new_column) = if ctx.len() == 2 {
                (None, ctx.get::<String>(1)?, None)
            } else {
                (
                    Some(ctx.get::<String>(1)?),
                    table.clone(),
                    Some(ctx.get::<String>(2)?),
                )
            };
            // SAFETY: the connection is used on this thread, within the call, for reads.
            let conn = unsafe { ctx.get_connection()? };
            for (name, mut parameters) in owned(&conn, &table, column.as_deref())? {
                if let Some(owner) = parameters.owned_by.as_mut() {
                    owner.0.clone_from(&new_table);
                    if let Some(new_column) = &new_column {
                        owner.1.clone_from(new_column);
                    }
                }
                request_redefinition("litescale_rename_sequence_owner", name, parameters)?;
            }
            Ok(Value::Null)
        })?;
    }
    // An identity column's default passes its kind second (router translate/columns.rs).
    for arity in [1, 2] {
        conn.create_scalar_function("nextval", arity, flags, |ctx| next_value(ctx))?;
    }
    conn.create_scalar_function("currval", 1, flags, |ctx| {
        let (_, name, _) = sequence_of(ctx)?;
        privileges::check(&name, &[Privileges::SELECT, Privileges::USAGE])?;
        block_value(|block| block.by_sequence.get(&name.to_ascii_lowercase()).copied())?.ok_or_else(
            || {
                postgres_error(
                    "55000",
                    &format!("currval of sequence \"{name}\" is not yet defined in this session"),
                )
            },
        )
    })?;
    conn.create_scalar_function("lastval", 0, flags, |_| {
        block_value(|block| block.last)?
            .ok_or_else(|| postgres_error("55000", "lastval is not yet defined in this session"))
    })?;
    conn.create_scalar_function(
        "pg_identity_kind",
        1,
        flags | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .and_then(|d| marks::identity_kind(&d))
                .unwrap_or_default())
        },
    )?;
    for arity in [2, 3] {
        conn.create_scalar_function("setval", arity, flags, |ctx| {
            if ctx.get_raw(0) == ValueRef::Null || ctx.get_raw(1) == ValueRef::Null {
                return Ok(None);
            }
            let (conn, name, parameters) = sequence_of(ctx)?;
            privileges::check(&name, &[Privileges::UPDATE])?;
            let value = ctx.get::<i64>(1)?;
            let called = ctx.len() < 3 || ctx.get::<bool>(2)?;
            if value < parameters.min || value > parameters.max {
                return Err(postgres_error(
                    "22003",
                    &format!(
                        "setval: value {value} is out of bounds for sequence \"{name}\" ({}..{})",
                        parameters.min, parameters.max
                    ),
                ));
            }
            store(&conn, &name, value, called)?;
            Ok(Some(value))
        })?;
    }
    conn.create_scalar_function("pg_get_serial_sequence", 2, flags, |ctx| {
        let table = relation_name(&ctx.get::<String>(0)?);
        let column = ctx.get::<String>(1)?;
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        let Some((table, _)) = relation(&conn, &table)? else {
            return Err(missing(&table));
        };
        check_column(&conn, &table, &column)?;
        Ok(owned(&conn, &table, Some(&column))?
            .into_iter()
            .next()
            .map(|(name, _)| super::schemas::qualified(&name)))
    })?;
    // TRUNCATE ... RESTART IDENTITY: the sequences the table's columns own start again.
    conn.create_scalar_function("litescale_restart_identity", 1, flags, |ctx| {
        let table = ctx.get::<String>(0)?;
        // SAFETY: the connection is used on this thread, within the call.
        let conn = unsafe { ctx.get_connection()? };
        for (name, parameters) in owned(&conn, &table, None)? {
            store(&conn, &name, parameters.start, false)?;
        }
        Ok(Value::Null)
    })?;
    // The catalog's: a definition's parameters as JSON, NULL for a table.
    conn.create_scalar_function(
        "pg_sequence_parameters",
        1,
        flags | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .and_then(|sql| parameters_in(&sql))
                .map(|p| serde_json::to_string(&p).unwrap_or_default()))
        },
    )?;
    // The catalog's: the sequence a column default calls, NULL for another default.
    conn.create_scalar_function(
        "pg_default_sequence",
        1,
        flags | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .and_then(|d| called_sequence(&d)))
        },
    )?;
    // The catalog's pg_sequences.last_value: NULL until nextval first answers.
    conn.create_scalar_function("pg_sequence_last_value", 1, flags, |ctx| {
        let name = ctx.get::<String>(0)?;
        // SAFETY: the connection is used on this thread, within the call, for reads.
        let conn = unsafe { ctx.get_connection()? };
        let (last, called) = state(&conn, &name)?;
        Ok(called.then_some(last))
    })
}

/// Asks for the sequence `name` to be dropped when the statement is done.
fn request_drop(function: &str, name: String) -> rusqlite::Result<()> {
    request(function, move |conn| {
        conn.execute_batch(&format!("DROP TABLE {}", quoted(&name)))
    })
}

/// Asks for the sequence `name`'s definition to carry `parameters` when the statement is
/// done.
fn request_redefinition(
    function: &str,
    name: String,
    parameters: Parameters,
) -> rusqlite::Result<()> {
    request(function, move |conn| {
        write_definition(conn, &name, &definition(&name, &parameters))
    })
}

fn parse_options(text: &str) -> rusqlite::Result<Json> {
    serde_json::from_str(text).map_err(|e| postgres_error("22023", &e.to_string()))
}

/// `CREATE TABLE` of a sequence with `parameters`.
fn definition(name: &str, parameters: &Parameters) -> String {
    format!(
        "CREATE TABLE {} (last_value BIGINT NOT NULL, log_cnt BIGINT NOT NULL, \
         is_called BOOLEAN NOT NULL {})",
        quoted(name),
        marked_json(MARK, parameters)
    )
}

/// The parameters a sequence's definition carries; `None` for any other table's.
fn parameters_in(sql: &str) -> Option<Parameters> {
    read_marked(sql, MARK)
}

/// The limits of a sequence's type.
fn type_range(data_type: &str) -> (i64, i64) {
    match data_type {
        "smallint" => (i16::MIN.into(), i16::MAX.into()),
        "integer" => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN, i64::MAX),
    }
}

/// The parameters `options` (the router's JSON of CREATE or ALTER SEQUENCE's clauses)
/// give a sequence that had `old`, checked as Postgres checks them (22023).
fn resolve(old: Option<&Parameters>, options: &Json) -> rusqlite::Result<Parameters> {
    let number = |key: &str| options.get(key).and_then(Json::as_i64);
    let data_type = options
        .get("type")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .or_else(|| old.map(|o| o.data_type.clone()))
        .unwrap_or_else(|| "bigint".to_owned());
    let (type_min, type_max) = type_range(&data_type);
    let increment = number("increment")
        .or(old.map(|o| o.increment))
        .unwrap_or(1);
    if increment == 0 {
        return Err(invalid("INCREMENT must not be zero"));
    }
    // A bound not given keeps its old value, unless that was the old type's default and
    // the type changed; NO MINVALUE / NO MAXVALUE (JSON null) is the default.
    let bound =
        |key: &str, default: i64, old_default: Option<i64>, old_value: Option<i64>| match options
            .get(key)
        {
            Some(Json::Null) => default,
            Some(v) => v.as_i64().unwrap_or(default),
            None => match (old_value, old_default) {
                (Some(value), Some(was_default)) if value != was_default => value,
                _ => default,
            },
        };
    let old_range = old.map(|o| type_range(&o.data_type));
    let min = bound(
        "min",
        if increment > 0 { 1 } else { type_min },
        old.zip(old_range)
            .map(|(o, r)| if o.increment > 0 { 1 } else { r.0 }),
        old.map(|o| o.min),
    );
    let max = bound(
        "max",
        if increment > 0 { type_max } else { -1 },
        old.zip(old_range)
            .map(|(o, r)| if o.increment > 0 { r.1 } else { -1 }),
        old.map(|o| o.max),
    );
    for (word, value) in [("MINVALUE", min), ("MAXVALUE", max)] {
        if value < type_min || value > type_max {
            return Err(invalid(&format!(
                "{word} ({value}) is out of range for sequence data type {data_type}"
            )));
        }
    }
    if min >= max {
        return Err(invalid(&format!(
            "MINVALUE ({min}) must be less than MAXVALUE ({max})"
        )));
    }
    let start = number("start")
        .or(old.map(|o| o.start))
        .unwrap_or(if increment > 0 { min } else { max });
    let cache = number("cache").or(old.map(|o| o.cache)).unwrap_or(1);
    if cache <= 0 {
        return Err(invalid(&format!(
            "CACHE ({cache}) must be greater than zero"
        )));
    }
    let owned_by = match options.get("owned_by") {
        Some(Json::Array(parts)) => match parts.as_slice() {
            [Json::String(table), Json::String(column)] => Some((table.clone(), column.clone())),
            _ => None,
        },
        Some(_) => None,
        None => old.and_then(|o| o.owned_by.clone()),
    };
    let parameters = Parameters {
        data_type,
        start,
        increment,
        min,
        max,
        cache,
        cycle: options
            .get("cycle")
            .and_then(Json::as_bool)
            .or(old.map(|o| o.cycle))
            .unwrap_or(false),
        owned_by,
    };
    check_in_range("START", start, &parameters)?;
    Ok(parameters)
}

/// 22023 for a START or RESTART value outside the sequence's bounds.
fn check_in_range(word: &str, value: i64, parameters: &Parameters) -> rusqlite::Result<()> {
    if value < parameters.min {
        return Err(invalid(&format!(
            "{word} value ({value}) cannot be less than MINVALUE ({})",
            parameters.min
        )));
    }
    if value > parameters.max {
        return Err(invalid(&format!(
            "{word} value ({value}) cannot be greater than MAXVALUE ({})",
            parameters.max
        )));
    }
    Ok(())
}

/// OWNED BY names a table and a column of it (42P01, 42703).
fn check_owner(conn: &Connection, parameters: &Parameters) -> rusqlite::Result<()> {
    let Some((table, column)) = &parameters.owned_by else {
        return Ok(());
    };
    match relation(conn, table)? {
        Some((_, None)) => {}
        Some(_) => return Err(not_a_sequence_owner(table)),
        None => return Err(missing(table)),
    }
    check_column(conn, table, column)
}

fn not_a_sequence_owner(table: &str) -> rusqlite::Error {
    postgres_error(
        "42809",
        &format!("referenced relation \"{table}\" is not a table or foreign table"),
    )
}

fn invalid(message: &str) -> rusqlite::Error {
    postgres_error("22023", message)
}

fn missing(name: &str) -> rusqlite::Error {
    postgres_error("42P01", &format!("relation \"{name}\" does not exist"))
}

fn not_a_sequence(name: &str) -> rusqlite::Error {
    postgres_error("42809", &format!("\"{name}\" is not a sequence"))
}

/// The number after `last`, or the first again for a CYCLE sequence (2200H past its end).
fn advanced(name: &str, last: i64, parameters: &Parameters) -> rusqlite::Result<i64> {
    let next = last.checked_add(parameters.increment);
    let ascending = parameters.increment > 0;
    match next {
        Some(n) if n >= parameters.min && n <= parameters.max => Ok(n),
        _ if parameters.cycle => Ok(if ascending {
            parameters.min
        } else {
            parameters.max
        }),
        _ => Err(postgres_error(
            "2200H",
            &format!(
                "nextval: reached {} value of sequence \"{name}\" ({})",
                if ascending { "maximum" } else { "minimum" },
                if ascending {
                    parameters.max
                } else {
                    parameters.min
                }
            ),
        )),
    }
}

/// The sequence a function's first argument names: a name as regclass reads it
/// (`public.s`, `"S"`) or an OID (`'s'::regclass` elsewhere than in the call).
fn sequence_of<'a>(
    ctx: &'a Context<'_>,
) -> rusqlite::Result<(ConnectionRef<'a>, String, Parameters)> {
    // SAFETY: the connection is used on this thread, within the call.
    let conn = unsafe { ctx.get_connection()? };
    let name = match ctx.get_raw(0) {
        ValueRef::Integer(oid) => conn
            .query_row(
                "SELECT name FROM main.sqlite_schema WHERE rowid = ?1",
                [oid - crate::engine::sql::catalog::OID_BASE],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .ok_or_else(|| missing(&oid.to_string()))?,
        _ => relation_name(&ctx.get::<String>(0)?),
    };
    match relation(&conn, &name)? {
        Some((name, Some(parameters))) => Ok((conn, name, parameters)),
        Some(_) => Err(not_a_sequence(&name)),
        None => Err(missing(&name)),
    }
}

/// A table or view named `name` (SQLite's names ignore case), with its parameters if it
/// is a sequence.
fn relation(
    conn: &Connection,
    name: &str,
) -> rusqlite::Result<Option<(String, Option<Parameters>)>> {
    Ok(super::relation(conn, name)?.map(|(name, sql)| (name, parameters_in(&sql))))
}

/// The sequences `table` (and `column`, if given) owns.
fn owned(
    conn: &Connection,
    table: &str,
    column: Option<&str>,
) -> rusqlite::Result<Vec<(String, Parameters)>> {
    let mut statement = conn.prepare_cached(
        "SELECT name, sql FROM main.sqlite_schema WHERE type = 'table' AND sql LIKE ?1",
    )?;
    let rows = statement
        .query_map([format!("%{MARK}%")], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, sql)| Some((name, parameters_in(&sql)?)))
        .filter(|(_, p)| {
            p.owned_by.as_ref().is_some_and(|(t, c)| {
                t.eq_ignore_ascii_case(table) && column.is_none_or(|column| c == column)
            })
        })
        .collect())
}

/// The columns whose defaults call nextval of `sequence`, as (table, column).
fn users(conn: &Connection, sequence: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement = conn.prepare(
        "SELECT s.name, p.name, p.dflt_value FROM main.sqlite_schema s, \
         pragma_table_info(s.name) p WHERE s.type = 'table' AND p.dflt_value LIKE '%nextval(%'",
    )?;
    let rows = statement
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, default)| {
            called_sequence(default).is_some_and(|s| s.eq_ignore_ascii_case(sequence))
        })
        .map(|(table, column, _)| (table, column))
        .collect())
}

/// The sequence a column default `nextval('<name>' [, '<identity kind>'])` calls.
fn called_sequence(default: &str) -> Option<String> {
    Some(relation_name(&marks::next_value_arguments(default)?.0))
}

/// What `read` finds in the running block's values; refused outside a session's block.
fn block_value(read: impl FnOnce(&BlockValues) -> Option<i64>) -> rusqlite::Result<Option<i64>> {
    BLOCK.with_borrow(|block| match block {
        Some(block) => Ok(read(block)),
        None => Err(postgres_error(
            "0A000",
            "currval() and lastval() outside a transaction block (or a query string of \
             several statements) are not supported by litescale",
        )),
    })
}

/// nextval(sequence [, identity kind]): the sequence's next value, written in the running
/// transaction.
fn next_value(ctx: &Context<'_>) -> rusqlite::Result<i64> {
    let (conn, name, parameters) = sequence_of(ctx)?;
    privileges::check(&name, &[Privileges::USAGE, Privileges::UPDATE])?;
    let always = ctx.len() == 2 && ctx.get::<String>(1)? == "a";
    let (last, called) = state(&conn, &name)?;
    let next = if called {
        advanced(&name, last, &parameters)?
    } else {
        last
    };
    // log_cnt as Postgres shows it: the values its WAL holds ahead, 32 at a time.
    privileges::as_internal(|| {
        conn.prepare_cached(&format!(
            "UPDATE {} SET last_value = ?1, is_called = 1, \
             log_cnt = CASE WHEN ?2 AND log_cnt > 0 THEN log_cnt - 1 ELSE 32 END",
            quoted(&name)
        ))?
        .execute(params![next, called])
    })?;
    if always {
        super::identity::handed_out(&ctx.get::<String>(0)?, next);
    }
    BLOCK.with_borrow_mut(|block| {
        if let Some(block) = block {
            block.by_sequence.insert(name.to_ascii_lowercase(), next);
            block.last = Some(next);
        }
    });
    Ok(next)
}

/// The sequence's row, read by litescale whatever the running role's privileges (those
/// of the function that reads it are checked: `privileges::check`).
fn state(conn: &Connection, name: &str) -> rusqlite::Result<(i64, bool)> {
    privileges::as_internal(|| {
        conn.prepare_cached(&format!(
            "SELECT last_value, is_called FROM {}",
            quoted(name)
        ))?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
    })
}

fn store(conn: &Connection, name: &str, last: i64, called: bool) -> rusqlite::Result<()> {
    privileges::as_internal(|| {
        conn.prepare_cached(&format!(
            "UPDATE {} SET last_value = ?1, is_called = ?2, log_cnt = 0",
            quoted(name)
        ))?
        .execute(params![last, called])
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_regclass_reads_them() {
        assert_eq!(
            called_sequence("nextval('public.\"T_id_seq\"')").as_deref(),
            Some("T_id_seq")
        );
        assert_eq!(called_sequence("'x'"), None);
    }

    #[test]
    fn parameters_follow_postgres_defaults_and_checks() {
        let p = resolve(None, &serde_json::json!({"type": "integer"})).unwrap();
        assert_eq!((p.min, p.max, p.start), (1, i64::from(i32::MAX), 1));
        let down = resolve(None, &serde_json::json!({"increment": -2})).unwrap();
        assert_eq!((down.min, down.max, down.start), (i64::MIN, -1, -1));
        let e = resolve(None, &serde_json::json!({"min": 5, "max": 5})).unwrap_err();
        assert!(
            e.to_string()
                .contains("MINVALUE (5) must be less than MAXVALUE (5)")
        );
        let small = resolve(Some(&p), &serde_json::json!({"type": "smallint"})).unwrap();
        assert_eq!(small.max, 32767);
        let sql = definition("s", &p);
        assert_eq!(parameters_in(&sql), Some(p));
    }
}
