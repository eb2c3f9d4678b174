//! Temporary objects are refused. A partition's SQLite connections serve every session of
//! the database, so a TEMP table or view made on one would outlive its session and shadow
//! the real table of that name for everyone (their writes would land in it and vanish).
//! Until sessions have connections of their own, the honest answer is 0A000.

use sqlparser::ast::{ObjectName, Statement};

use crate::RouterError;

/// Err(0A000) when `ast` would make a temporary object: `CREATE TEMP TABLE|VIEW` (and
/// `SELECT ... INTO TEMP`, which parsing made one), a name in the `pg_temp` (or SQLite's
/// `temp`) schema.
pub(crate) fn refuse(ast: &Statement) -> Result<(), RouterError> {
    let temporary = match ast {
        Statement::CreateTable(t) => t.temporary || in_temp_schema(&t.name),
        Statement::CreateView(v) => v.temporary || in_temp_schema(&v.name),
        Statement::CreateIndex(i) => in_temp_schema(&i.table_name),
        Statement::CreateSequence {
            temporary, name, ..
        } => *temporary || in_temp_schema(name),
        _ => false,
    };
    if temporary {
        return Err(RouterError {
            sqlstate: "0A000",
            message: "TEMP tables and views are not supported by litescale: a database's \
                      SQLite connections are shared by all its sessions, so a temporary \
                      object would not be private to yours; use a regular table"
                .to_owned(),
        });
    }
    Ok(())
}

fn in_temp_schema(name: &ObjectName) -> bool {
    name.0.len() > 1
        && name.0[0].as_ident().is_some_and(|schema| {
            let schema = schema.value.to_ascii_lowercase();
            schema == "temp" || schema.starts_with("pg_temp")
        })
}

#[cfg(test)]
mod tests {
    use crate::plan;

    #[test]
    fn temporary_objects_are_refused_and_regular_ones_are_not() {
        for sql in [
            "create temp table t (a int)",
            "create temporary table t as select 1",
            "create temp view v as select 1",
            "create table pg_temp.t (a int)",
            "create table TEMP.t (a int)",
            "create index i on pg_temp_2.t (a)",
            "select 1 into temp t",
        ] {
            assert_eq!(plan(sql).unwrap_err().sqlstate, "0A000", "{sql}");
        }
        for sql in [
            "create table t (a int)",
            "create view v as select 1",
            "create table temperature (a int)",
            "create table public.t (a int)",
            "select * from pg_temp_notes",
            "select 1 into t",
        ] {
            assert!(plan(sql).is_ok(), "{sql}");
        }
    }
}
