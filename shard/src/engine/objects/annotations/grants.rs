//! GRANT and REVOKE on tables, views, materialized views and sequences: the object's
//! privileges (Postgres' `aclitem[]` text) are changed as Postgres changes them and written
//! into its CREATE text (a table's in a CHECK, another's after `CREATE`:
//! sql/catalog/marks.rs), so they go with the object through renames, rebuilds and drops,
//! and the schema version moves on, which makes every connection's cached statements
//! authorize again (engine/privileges). Only a superuser changes them.

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;

use crate::engine::privileges::{Acl, ObjectKind, Privileges, must_be_superuser};
use crate::engine::sql::catalog::marks::{acl_in, table_with_acl, with_acl};
use crate::engine::sql::typecheck::postgres_error;
use crate::engine::table_definition::{replace_retyped, request, write_schema_text};

/// What the router makes of a GRANT or REVOKE (router translate/objects/grants.rs).
#[derive(Deserialize)]
struct Change {
    grant: bool,
    /// WITH GRANT OPTION, or REVOKE GRANT OPTION FOR.
    option: bool,
    /// The privileges' keywords; none for ALL.
    privileges: Option<Vec<String>>,
    /// `TABLE` or `SEQUENCE`.
    kind: String,
    /// The objects named, by SQLite's names (`s.t` in a schema other than public).
    #[serde(default)]
    names: Vec<String>,
    /// ALL TABLES | SEQUENCES IN SCHEMA these.
    #[serde(default)]
    schemas: Vec<String>,
    /// Role names; empty for PUBLIC.
    grantees: Vec<String>,
}

/// A relation the change reaches.
struct Target {
    sqlite_type: String,
    sqlite_name: String,
    kind: String,
    sql: String,
}

pub(in crate::engine::objects) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "litescale_privileges",
        1,
        FunctionFlags::SQLITE_UTF8,
        |ctx| {
            let change: Change = serde_json::from_str(&ctx.get::<String>(0)?)
                .map_err(|e| postgres_error("XX000", &format!("litescale_privileges: {e}")))?;
            // SAFETY: the connection is used on this thread, within the call, for reads.
            let conn = unsafe { ctx.get_connection()? };
            let targets = targets(&conn, &change)?;
            for target in targets {
                let edited = edited(&change, &target)?;
                request("litescale_privileges", move |conn| {
                    if target.sqlite_type == "table" && target.kind == "table" {
                        replace_retyped(conn, &target.sqlite_name, &edited, &[])
                    } else {
                        write_schema_text(conn, &target.sqlite_type, &target.sqlite_name, &edited)
                    }
                })?;
            }
            Ok(rusqlite::types::Null)
        },
    )
}

/// The relations `change` names, as they are now: 42P01 for a name that is none, 42809
/// for one of another kind than SEQUENCE asks for.
fn targets(conn: &Connection, change: &Change) -> rusqlite::Result<Vec<Target>> {
    let read = |r: &rusqlite::Row<'_>| {
        Ok(Target {
            sqlite_type: if r.get::<_, String>(0)? == "view" {
                "view".to_owned()
            } else {
                "table".to_owned()
            },
            kind: r.get(0)?,
            sqlite_name: r.get(1)?,
            sql: r.get(2)?,
        })
    };
    let sequences = change.kind == "SEQUENCE";
    let mut targets = Vec::new();
    for schema in &change.schemas {
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?1)",
            [schema],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(postgres_error(
                "3F000",
                &format!("schema \"{schema}\" does not exist"),
            ));
        }
        let mut statement = conn.prepare(
            "SELECT type, sqlite_name, sql FROM ls_relation WHERE nspname = ?1 \
             AND CASE WHEN ?2 THEN type = 'sequence' \
               ELSE type IN ('table', 'view', 'matview') END ORDER BY oid",
        )?;
        let rows = statement.query_map(rusqlite::params![schema, sequences], read)?;
        for target in rows {
            targets.push(target?);
        }
    }
    for name in &change.names {
        let found = conn
            .query_row(
                "SELECT type, sqlite_name, sql FROM ls_relation \
                 WHERE name = ?1 COLLATE NOCASE AND type <> 'index'",
                [name],
                read,
            )
            .optional()?;
        let shown = name.split_once('.').map_or(name.as_str(), |(_, n)| n);
        let Some(target) = found else {
            return Err(postgres_error(
                "42P01",
                &format!("relation \"{shown}\" does not exist"),
            ));
        };
        if sequences && target.kind != "sequence" {
            return Err(postgres_error(
                "42809",
                &format!("\"{shown}\" is not a sequence"),
            ));
        }
        targets.push(target);
    }
    Ok(targets)
}

/// `target`'s CREATE text with its privileges changed as `change` asks.
fn edited(change: &Change, target: &Target) -> rusqlite::Result<String> {
    must_be_superuser(
        if target.kind == "sequence" {
            "sequence"
        } else {
            "table"
        },
        &target.sqlite_name,
    )?;
    let kind = if target.kind == "sequence" {
        ObjectKind::Sequence
    } else {
        ObjectKind::Relation
    };
    let all = Privileges::all_of(kind);
    let privileges = match &change.privileges {
        None => all,
        Some(keywords) => {
            let mut privileges = Privileges::NONE;
            for keyword in keywords {
                let privilege = Privileges::named(keyword).filter(|p| all.contains(*p));
                match privilege {
                    Some(p) => privileges = privileges.with(p),
                    // GRANT ... ON TABLE naming a sequence takes what a sequence has.
                    None if change.kind == "TABLE" && kind == ObjectKind::Sequence => {}
                    None => {
                        return Err(postgres_error(
                            "0LP01",
                            &format!(
                                "invalid privilege type {} for {}",
                                keyword.to_ascii_uppercase(),
                                change.kind.to_ascii_lowercase()
                            ),
                        ));
                    }
                }
            }
            privileges
        }
    };
    let mut acl = acl_in(&target.sql)
        .and_then(|text| Acl::from_text(&text))
        .unwrap_or_else(|| Acl::default_for(kind));
    for grantee in &change.grantees {
        if change.grant && change.option && grantee.is_empty() {
            return Err(postgres_error(
                "0LP01",
                "grant options can only be granted to roles",
            ));
        }
        if change.grant {
            acl.grant(grantee, privileges, change.option);
        } else {
            acl.revoke(grantee, privileges, change.option);
        }
    }
    let text = acl.to_text();
    if target.kind == "table" {
        table_with_acl(&target.sql, &text).ok_or_else(|| {
            postgres_error(
                "XX000",
                &format!("the definition of \"{}\" is no table's", target.sqlite_name),
            )
        })
    } else {
        Ok(with_acl(&target.sql, &text))
    }
}
