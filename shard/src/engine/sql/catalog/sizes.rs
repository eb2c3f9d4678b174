//! Disk sizes as Postgres' size functions report them (psql's `\dt+`, `\l+`, `\di+`), read
//! from SQLite's `dbstat`: the bytes of the pages a table or index holds in the file of
//! the partition that answers (in a partitioned database, that partition's share).

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::{Connection, OptionalExtension};

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    // A relation alone: its own pages.
    for name in ["pg_relation_size", "pg_table_size"] {
        conn.create_scalar_function(name, 1, flags, |ctx| {
            relation_bytes(ctx, "SELECT sum(pgsize) FROM dbstat WHERE name = ?1")
        })?;
    }
    conn.create_scalar_function("pg_indexes_size", 1, flags, |ctx| {
        relation_bytes(
            ctx,
            "SELECT coalesce(sum(d.pgsize), 0) FROM dbstat d JOIN main.sqlite_schema s \
             ON s.name = d.name WHERE s.type = 'index' AND s.tbl_name = ?1",
        )
    })?;
    conn.create_scalar_function("pg_total_relation_size", 1, flags, |ctx| {
        relation_bytes(
            ctx,
            "SELECT coalesce(sum(d.pgsize), 0) FROM dbstat d JOIN main.sqlite_schema s \
             ON s.name = d.name WHERE s.tbl_name = ?1",
        )
    })?;
    // This database's (by name or OID) only: another's files are not this connection's to
    // read, so its size is NULL.
    conn.create_scalar_function("pg_database_size", 1, flags, |ctx| {
        // SAFETY: the connection is used on this thread, within the call, for a read.
        let conn = unsafe { ctx.get_connection()? };
        let this: bool = conn.query_row(
            "SELECT ?1 IN (SELECT datname FROM pg_database WHERE datname = litescale_database() \
             UNION ALL SELECT oid FROM pg_database WHERE datname = litescale_database())",
            [ctx.get::<rusqlite::types::Value>(0)?],
            |r| r.get(0),
        )?;
        if !this {
            return Ok(None);
        }
        conn.query_row("SELECT sum(pgsize) FROM dbstat", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
    })?;
    conn.create_scalar_function(
        "pg_size_pretty",
        1,
        flags | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(ctx.get::<Option<i64>>(0)?.map(pretty)),
    )
}

/// The bytes `sql` counts for the relation the first argument names (an OID, or a name as
/// a regclass literal reads), NULL for no such relation.
fn relation_bytes(ctx: &Context<'_>, sql: &str) -> rusqlite::Result<Option<i64>> {
    // SAFETY: the connection is used on this thread, within the call, for reads.
    let conn = unsafe { ctx.get_connection()? };
    let named: Option<String> = match ctx.get_raw(0) {
        rusqlite::types::ValueRef::Integer(oid) => conn
            .query_row(
                "SELECT sqlite_name FROM ls_relation WHERE oid = ?1",
                [oid],
                |r| r.get(0),
            )
            .optional()?,
        rusqlite::types::ValueRef::Text(name) => {
            let name = String::from_utf8_lossy(name);
            let name = name.rsplit('.').next().unwrap_or(&name).trim_matches('"');
            conn.query_row(
                "SELECT sqlite_name FROM ls_relation WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?
        }
        _ => None,
    };
    let Some(relation) = named else {
        return Ok(None);
    };
    Ok(Some(
        conn.query_row(sql, [relation], |r| r.get::<_, Option<i64>>(0))?
            .unwrap_or(0),
    ))
}

/// Postgres' pg_size_pretty: bytes below 10 kB, then kB, MB, GB, TB, PB, each unit used
/// below 20 of the next and rounded half away from zero.
fn pretty(bytes: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    if bytes.abs() < LIMIT {
        return format!("{bytes} bytes");
    }
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    // One extra bit kept for rounding.
    let mut size = bytes >> 9;
    for unit in ["kB", "MB", "GB", "TB"] {
        if size.abs() < LIMIT * 2 - 1 {
            return format!("{} {unit}", half_rounded(size));
        }
        size >>= 10;
    }
    format!("{} PB", half_rounded(size))
}

#[cfg(test)]
mod tests {
    use super::pretty;

    #[test]
    fn sizes_read_as_postgres_prints_them() {
        assert_eq!(pretty(8192), "8192 bytes");
        assert_eq!(pretty(10 * 1024), "10 kB");
        assert_eq!(pretty(123_456_789), "118 MB");
        assert_eq!(pretty(10_000_000_000), "9537 MB");
        assert_eq!(pretty(100_000_000_000), "93 GB");
    }
}
