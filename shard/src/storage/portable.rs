//! A tenant's database as one plain SQLite file, and back (the edge and offline story):
//! the file holds the tenant's schema and rows as SQLite keeps them, without litescale's
//! own tables, and opens in the sqlite3 CLI or any SQLite application. Export gathers the
//! rows of every partition; import places each row in the partition the map gives it.
//! Both run on the storage directory directly, reading and writing files.
//!
//! The type checks litescale puts on typed columns (`CHECK (pg_typecheck(...))`, see
//! engine/sql/typecheck.rs) and the check of a GENERATED ALWAYS identity
//! (engine/objects/identity.rs) call functions only litescale has: a plain SQLite file
//! could not take a write with them, so both ways the tables are created without them.

use std::collections::BTreeMap;
use std::path::Path;

use litescale_config::{KeyValue, PartitionMap, TablePlacement};
use rusqlite::{Connection, params_from_iter};

use crate::directory::{partition_path, valid_name};
use crate::error::ShardError;

/// Rows copied per step, so progress moves on a large table.
const CHUNK_ROWS: i64 = 10_000;

/// One object of the schema, in the order it can be created.
struct Object {
    kind: String,
    name: String,
    sql: String,
}

/// Tables first (their rows go in before indexes are built), then the rest.
fn schema(conn: &Connection) -> Result<Vec<Object>, ShardError> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM main.sqlite_schema
         WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
           AND tbl_name NOT LIKE '\\_litescale\\_%' ESCAPE '\\'
         ORDER BY type <> 'table', rowid",
    )?;
    let objects = stmt
        .query_map([], |r| {
            Ok(Object {
                kind: r.get(0)?,
                name: r.get(1)?,
                sql: without_litescale_checks(&r.get::<_, String>(2)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(objects)
}

/// A CREATE TABLE's text without litescale's checks that call functions only litescale
/// has, which the router writes in exactly these forms: the type checks,
/// `CHECK (pg_typecheck(column, 'declared type'))`, and a GENERATED ALWAYS identity's,
/// `CONSTRAINT "litescale_identity" CHECK (pg_identity_given(column, 'sequence', 'name'))`
/// (an imported table takes the file's values and numbers later rows as BY DEFAULT does).
fn without_litescale_checks(sql: &str) -> String {
    static OWN_CHECK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(concat!(
            r#" CHECK \(pg_typecheck\((?:"(?:[^"]|"")*"|[^,"()]+), '[^']*'\)\)"#,
            r#"| CONSTRAINT "litescale_identity" CHECK \(pg_identity_given\("#,
            r#"(?:"(?:[^"]|"")*"|[^,"()]+), '(?:[^']|'')*', '(?:[^']|'')*'\)\)"#
        ))
        .expect("a valid pattern")
    });
    OWN_CHECK.replace_all(sql, "").into_owned()
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn count(conn: &Connection, schema_name: &str, table: &str) -> Result<u64, ShardError> {
    let n: i64 = conn.query_row(
        &format!("SELECT count(*) FROM {schema_name}.{}", quoted(table)),
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Whether partition `p` holds rows of `table` that belong in an export (a reference
/// table's copies are the same everywhere: one is enough).
fn holds_rows(map: &PartitionMap, table: &str, p: usize) -> bool {
    match map.placement(table) {
        TablePlacement::Sharded { .. } => true,
        TablePlacement::Reference => p == 0,
        TablePlacement::In(q) => p == q,
    }
}

/// Writes `database` to the new file `out`. Returns the rows written; `progress` hears
/// (rows so far, rows in all) as the copy goes.
pub fn export(
    root: &Path,
    database: &str,
    map: &PartitionMap,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, ShardError> {
    let dir = root.join(database);
    if !valid_name(database) || !dir.is_dir() {
        return Err(ShardError::new(
            "3D000",
            format!("database \"{database}\" does not exist"),
        ));
    }
    if out.exists() {
        return Err(ShardError::new(
            "58P02",
            format!("{} exists already; export writes a new file", out.display()),
        ));
    }
    let target = Connection::open(out)?;
    let first = Connection::open_with_flags(
        partition_path(&dir, 0),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let objects = schema(&first)?;
    let tables: Vec<&Object> = objects.iter().filter(|o| o.kind == "table").collect();
    for table in &tables {
        target.execute_batch(&table.sql)?;
    }
    // Rows to copy, for the progress total.
    let mut total = 0;
    for p in 0..map.count() {
        let source = Connection::open_with_flags(
            partition_path(&dir, p),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        for table in &tables {
            if holds_rows(map, &table.name, p) {
                total += count(&source, "main", &table.name)?;
            }
        }
    }
    let mut done = 0;
    progress(done, total);
    for p in 0..map.count() {
        target.execute(
            "ATTACH DATABASE ?1 AS source",
            [partition_path(&dir, p).to_string_lossy()],
        )?;
        target.execute_batch("BEGIN")?;
        for table in &tables {
            if !holds_rows(map, &table.name, p) {
                continue;
            }
            done += copy_rows(&target, &table.name, &mut |n| progress(done + n, total))?;
        }
        target.execute_batch("COMMIT; DETACH DATABASE source")?;
    }
    for other in objects.iter().filter(|o| o.kind != "table") {
        target.execute_batch(&other.sql)?;
    }
    Ok(done)
}

/// Copies `source.table` into `main.table` in rowid order, a chunk at a time (all at once
/// for a WITHOUT ROWID table). Returns the rows copied.
fn copy_rows(
    target: &Connection,
    table: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ShardError> {
    let t = quoted(table);
    let has_rowid = target
        .prepare(&format!("SELECT rowid FROM source.{t} LIMIT 0"))
        .is_ok();
    if !has_rowid {
        let n = target.execute(
            &format!("INSERT INTO main.{t} SELECT * FROM source.{t}"),
            [],
        )?;
        progress(n as u64);
        return Ok(n as u64);
    }
    let mut copied = 0u64;
    let mut after = i64::MIN;
    loop {
        let last: Option<i64> = target.query_row(
            &format!(
                "SELECT max(rowid) FROM (SELECT rowid FROM source.{t} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2)"
            ),
            [after, CHUNK_ROWS],
            |r| r.get(0),
        )?;
        let Some(last) = last else {
            return Ok(copied);
        };
        let n = target.execute(
            &format!(
                "INSERT INTO main.{t} SELECT * FROM source.{t} WHERE rowid > ?1 AND rowid <= ?2"
            ),
            [after, last],
        )?;
        copied += n as u64;
        progress(copied);
        after = last;
    }
}

/// Creates `database` from the SQLite file `from`, placing each row by the map. The
/// database appears whole or not at all. Returns the rows read.
pub fn import(
    root: &Path,
    database: &str,
    map: &PartitionMap,
    from: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, ShardError> {
    if !valid_name(database) {
        return Err(ShardError::new(
            "42602",
            format!("invalid database name \"{database}\""),
        ));
    }
    let dir = root.join(database);
    if dir.exists() {
        return Err(ShardError::new(
            "42P04",
            format!("database \"{database}\" already exists; import creates a new one"),
        ));
    }
    let source = Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let objects = schema(&source)?;
    // Built under a name no client can use, then renamed into place.
    let staging = root.join(format!(".import-{database}"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    let partitions = (0..map.count())
        .map(|i| {
            let c = Connection::open(partition_path(&staging, i))?;
            c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
            c.execute_batch("BEGIN")?;
            Ok(c)
        })
        .collect::<Result<Vec<_>, ShardError>>()?;
    let tables: Vec<&Object> = objects.iter().filter(|o| o.kind == "table").collect();
    for table in &tables {
        for p in &partitions {
            p.execute_batch(&table.sql)?;
        }
    }
    let mut total = 0;
    for table in &tables {
        total += count(&source, "main", &table.name)?;
    }
    let mut done = 0;
    progress(done, total);
    for table in &tables {
        done += place_rows(&source, &partitions, map, &table.name, &mut |n| {
            progress(done + n, total)
        })?;
    }
    for p in &partitions {
        for other in objects.iter().filter(|o| o.kind != "table") {
            p.execute_batch(&other.sql)?;
        }
        p.execute_batch("COMMIT")?;
    }
    drop(partitions);
    std::fs::rename(&staging, &dir)?;
    Ok(done)
}

/// Inserts each row of `table` into the partitions that hold it.
fn place_rows(
    source: &Connection,
    partitions: &[Connection],
    map: &PartitionMap,
    table: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ShardError> {
    let t = quoted(table);
    let columns: Vec<String> = source
        .prepare(&format!(
            "SELECT name FROM pragma_table_info({})",
            quote_literal(table)
        ))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let placement = map.placement(table);
    let key_column = match placement {
        TablePlacement::Sharded { key } => Some(
            columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(key))
                .ok_or_else(|| {
                    ShardError::new(
                        "F0000",
                        format!(
                            "the map shards \"{table}\" by \"{key}\", which the file's table lacks"
                        ),
                    )
                })?,
        ),
        _ => None,
    };
    let marks = vec!["?"; columns.len()].join(", ");
    let insert = format!("INSERT INTO {t} VALUES ({marks})");
    let mut statements: BTreeMap<usize, rusqlite::CachedStatement<'_>> = BTreeMap::new();
    for (i, p) in partitions.iter().enumerate() {
        statements.insert(i, p.prepare_cached(&insert)?);
    }
    let mut select = source.prepare(&format!("SELECT * FROM {t}"))?;
    let mut rows = select.query([])?;
    let mut placed = 0u64;
    while let Some(row) = rows.next()? {
        let values: Vec<rusqlite::types::Value> = (0..columns.len())
            .map(|i| row.get::<_, rusqlite::types::Value>(i))
            .collect::<Result<_, _>>()?;
        let targets: Vec<usize> = match (placement, key_column) {
            (TablePlacement::Sharded { .. }, Some(k)) => {
                let key = match &values[k] {
                    rusqlite::types::Value::Integer(i) => KeyValue::Int(*i),
                    rusqlite::types::Value::Text(t) => KeyValue::Text(t.clone()),
                    _ => {
                        return Err(ShardError::new(
                            "23502",
                            format!("a row of \"{table}\" has no usable shard key"),
                        ));
                    }
                };
                vec![
                    map.partition_of(table, &key)
                        .map_err(|e| ShardError::new("0A000", e))?,
                ]
            }
            (TablePlacement::Reference, _) => (0..partitions.len()).collect(),
            (TablePlacement::In(q), _) => vec![q],
            (TablePlacement::Sharded { .. }, None) => unreachable!("key column found above"),
        };
        for p in targets {
            statements
                .get_mut(&p)
                .expect("one statement per partition")
                .execute(params_from_iter(values.iter()))?;
        }
        placed += 1;
        if placed.is_multiple_of(CHUNK_ROWS as u64) {
            progress(placed);
        }
    }
    progress(placed);
    Ok(placed)
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn litescales_own_checks_are_left_out_and_other_checks_kept() {
        assert_eq!(
            without_litescale_checks(
                "CREATE TABLE t (i INT CHECK (pg_typecheck(i, 'INT')), \"a b\" DATE CHECK (pg_typecheck(\"a b\", 'DATE')), n INT CHECK (n > 0))"
            ),
            "CREATE TABLE t (i INT, \"a b\" DATE, n INT CHECK (n > 0))"
        );
        assert_eq!(
            without_litescale_checks(
                "CREATE TABLE \"T\" (id BIGINT NOT NULL DEFAULT (nextval('\"T_id_seq\"', 'a')) \
                 CONSTRAINT \"litescale_identity\" CHECK (pg_identity_given(\"id\", '\"T_id_seq\"', 'id')) \
                 CHECK (pg_typecheck(id, 'BIGINT')), v TEXT)"
            ),
            "CREATE TABLE \"T\" (id BIGINT NOT NULL DEFAULT (nextval('\"T_id_seq\"', 'a')), v TEXT)"
        );
    }
}
