//! Who a statement runs as, and what GRANT and REVOKE let that role do. The proxy begins
//! the statements of a role that is not a superuser with [`statement_as_role`]'s mark; a
//! statement without one runs as a superuser, as litescale's own statements do. While a
//! marked statement runs (prepared, and prepared again inside a step when the schema moved
//! on), the authorizer (engine/guard.rs) asks [`authorize`] about each table, view and
//! sequence it touches: a relation whose privileges no GRANT or REVOKE has set is open to
//! every role of the database (litescale keeps no owner per object); one whose privileges
//! are set answers as Postgres does, 42501 "permission denied for table t" for what the
//! role was not granted, and "must be owner" for DDL on it. SQLite asks the authorizer only
//! at prepare, so a cached statement's text carries its role (the mark, [`keyed`]).
//!
//! It must not know sessions or partitions; the privileges themselves are read from the
//! relations' CREATE texts (sql/catalog/marks.rs) and written by objects/annotations/grants.rs.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

pub(crate) use crate::engine::sql::catalog::acl::{Acl, ObjectKind, Privileges};
use rusqlite::functions::FunctionFlags;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};

use crate::engine::sql::catalog::acl::OWNER;
use crate::engine::sql::catalog::marks::{acl_in, relation_name};
use crate::engine::sql::typecheck::postgres_error;
use crate::error::ShardError;

const ROLE_MARK: &str = "/* litescale:role ";
const MARK_END: &str = " */ ";

/// `sql` marked to run as `role`, which is not a superuser. The mark must come first: only
/// a mark at the start counts, so one a client writes into its own SQL never does.
pub fn statement_as_role(role: &str, sql: &str) -> String {
    format!(
        "{ROLE_MARK}{}{MARK_END}{sql}",
        serde_json::to_string(role)
            .unwrap_or_default()
            .replace("*/", "*\\/")
    )
}

/// The role `sql`'s mark names, and the SQL after the mark.
fn role_of(sql: &str) -> Option<(String, &str)> {
    let rest = sql.strip_prefix(ROLE_MARK)?;
    let (json, after) = rest.split_once(MARK_END)?;
    Some((serde_json::from_str(json).ok()?, after))
}

/// `sql` without its role mark: where the marks that follow it (the TimeZone's) begin.
pub(crate) fn after_role_mark(sql: &str) -> &str {
    role_of(sql).map_or(sql, |(_, after)| after)
}

/// A relation whose privileges are set.
struct Guarded {
    kind: RelationKind,
    acl: Acl,
}

#[derive(Clone, Copy, PartialEq)]
enum RelationKind {
    Table,
    View,
    MaterializedView,
    Sequence,
}

impl RelationKind {
    fn word(self) -> &'static str {
        match self {
            RelationKind::Table => "table",
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized view",
            RelationKind::Sequence => "sequence",
        }
    }
}

/// The role a statement runs as, and the relations whose privileges are set, by SQLite's
/// name in lower case.
struct Running {
    role: String,
    guarded: HashMap<String, Guarded>,
    /// Tables the statement empties as TRUNCATE, by SQLite's name in lower case: their
    /// DELETE takes TRUNCATE's privilege, checked by `litescale_truncating`.
    truncating: Vec<String>,
}

thread_local! {
    static RUNNING: RefCell<Option<Running>> = const { RefCell::new(None) };
    /// Why the authorizer last refused the statement that runs (or ran last) on this
    /// thread, as Postgres words it: SQLite's own error says only "not authorized", and is
    /// read after the statement is over.
    static DENIED: RefCell<Option<ShardError>> = const { RefCell::new(None) };
    /// Set while litescale's own statements inside a role's statement run: a sequence's
    /// row that nextval moves on (checked by [`check`] instead).
    static INTERNAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `run`, a statement (or batch) `sql`, as the role its mark names (as a superuser
/// without one).
pub(crate) fn as_role_of<R>(
    conn: &Connection,
    sql: &str,
    run: impl FnOnce() -> R,
) -> rusqlite::Result<R> {
    DENIED.set(None);
    let running = match role_of(sql) {
        Some((role, _)) => Some(Running {
            role,
            guarded: guarded_relations(conn)?,
            truncating: Vec::new(),
        }),
        None => None,
    };
    struct Restore(Option<Running>);
    impl Drop for Restore {
        fn drop(&mut self) {
            RUNNING.set(self.0.take());
        }
    }
    let _restore = Restore(RUNNING.replace(running));
    Ok(run())
}

/// Runs `job`, litescale's own statements inside a role's, without the role's checks.
pub(crate) fn as_internal<R>(job: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            INTERNAL.set(self.0);
        }
    }
    let _restore = Restore(INTERNAL.replace(true));
    job()
}

/// The relations whose privileges are set.
fn guarded_relations(conn: &Connection) -> rusqlite::Result<HashMap<String, Guarded>> {
    let mut statement = conn.prepare_cached(
        "SELECT name, type, sql FROM main.sqlite_schema \
         WHERE type IN ('table', 'view') AND sql LIKE '%litescale_acl%'",
    )?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut guarded = HashMap::new();
    for row in rows {
        let (name, sqlite_type, sql) = row?;
        let Some(acl) = acl_in(&sql).and_then(|text| Acl::from_text(&text)) else {
            continue;
        };
        let kind = if sqlite_type == "view" {
            RelationKind::View
        } else if sql.contains("/* litescale:sequence ") {
            RelationKind::Sequence
        } else if sql.contains("/* litescale:matview ") {
            RelationKind::MaterializedView
        } else {
            RelationKind::Table
        };
        guarded.insert(name.to_ascii_lowercase(), Guarded { kind, acl });
    }
    Ok(guarded)
}

/// The role the running statement runs as, if it is not a superuser.
pub(crate) fn running_role() -> Option<String> {
    RUNNING.with_borrow(|r| r.as_ref().map(|r| r.role.clone()))
}

/// `sql` as a statement litescale prepares and caches on behalf of the running role (a SQL
/// function's body): its text names the role, so that another role's call prepares it
/// again, under that role's privileges.
pub(crate) fn keyed(sql: &str) -> Cow<'_, str> {
    match running_role() {
        Some(role) => Cow::Owned(statement_as_role(&role, sql)),
        None => Cow::Borrowed(sql),
    }
}

/// 42501 unless the running role holds one of `wanted` on the relation `name` (SQLite's
/// name), or its privileges are unset.
pub(crate) fn check(name: &str, wanted: &[Privileges]) -> rusqlite::Result<()> {
    RUNNING.with_borrow(|running| {
        let Some(running) = running else {
            return Ok(());
        };
        match running.guarded.get(&name.to_ascii_lowercase()) {
            Some(g)
                if !wanted
                    .iter()
                    .any(|w| g.acl.held_by(&running.role).contains(*w)) =>
            {
                Err(postgres_error("42501", &permission_denied(g.kind, name)))
            }
            _ => Ok(()),
        }
    })
}

/// 42501 "must be owner" when the running role is not a superuser and the relation
/// `name` (SQLite's name) has its privileges set: what may only be done to it by its owner.
pub(crate) fn must_own(name: &str) -> rusqlite::Result<()> {
    RUNNING.with_borrow(|running| match running {
        Some(running) => match running.guarded.get(&name.to_ascii_lowercase()) {
            Some(g) => Err(postgres_error("42501", &not_owner(g.kind.word(), name))),
            None => Ok(()),
        },
        None => Ok(()),
    })
}

/// 42501 "must be owner" when the running role is not a superuser: GRANT and REVOKE.
pub(crate) fn must_be_superuser(kind: &str, name: &str) -> rusqlite::Result<()> {
    match running_role() {
        Some(_) => Err(postgres_error("42501", &not_owner(kind, name))),
        None => Ok(()),
    }
}

/// 42501 when the running role may not write `old`'s definition over: it is not a
/// superuser, and the definition's privileges are set or would be.
pub(crate) fn may_rewrite(kind: &str, name: &str, old: &str, new: &str) -> rusqlite::Result<()> {
    if acl_in(old).is_some() || acl_in(new).is_some() {
        must_be_superuser(kind, name)?;
    }
    Ok(())
}

/// Why the authorizer last refused the statement that runs or ran last on this thread.
pub(crate) fn denied() -> Option<ShardError> {
    DENIED.with_borrow(Clone::clone)
}

fn deny(message: String) -> Option<Authorization> {
    DENIED.set(Some(ShardError::new("42501", message)));
    Some(Authorization::Deny)
}

/// A relation's name as Postgres' messages show it: without its schema.
fn shown(name: &str) -> &str {
    name.split_once('.').map_or(name, |(_, relation)| relation)
}

/// Postgres' words for DDL on a relation by a role that does not own it.
fn not_owner(kind: &str, name: &str) -> String {
    format!("must be owner of {kind} {}", shown(name))
}

fn permission_denied(kind: RelationKind, name: &str) -> String {
    format!("permission denied for {} {}", kind.word(), shown(name))
}

/// What the running role may do: `None` where privileges have nothing to say (the guard
/// decides), `Some(Deny)` for what its grants do not cover. For litescale's own edit on
/// the role's behalf (`edit`), only DDL on a relation whose privileges are set is refused.
pub(crate) fn authorize(ctx: &AuthContext<'_>, edit: bool) -> Option<Authorization> {
    if INTERNAL.get() {
        return None;
    }
    RUNNING.with_borrow(|running| {
        let running = running.as_ref()?;
        let reads_or_writes = matches!(
            ctx.action,
            AuthAction::Read { .. }
                | AuthAction::Insert { .. }
                | AuthAction::Update { .. }
                | AuthAction::Delete { .. }
        );
        if edit && reads_or_writes {
            return None;
        }
        let (table, wanted) = match ctx.action {
            // Read through a view: the view's privilege is what counts (its owner reads the
            // tables beneath); inside a trigger, the trigger's owner's.
            AuthAction::Read { table_name, .. } => {
                (ctx.accessor.unwrap_or(table_name), Privileges::SELECT)
            }
            AuthAction::Insert { table_name } => (table_name, Privileges::INSERT),
            AuthAction::Update { table_name, .. } => (table_name, Privileges::UPDATE),
            AuthAction::Delete { table_name }
                if running
                    .truncating
                    .contains(&table_name.to_ascii_lowercase()) =>
            {
                return None;
            }
            AuthAction::Delete { table_name } => (table_name, Privileges::DELETE),
            AuthAction::DropTable { table_name: name }
            | AuthAction::AlterTable {
                table_name: name, ..
            }
            | AuthAction::CreateIndex {
                table_name: name, ..
            }
            | AuthAction::DropIndex {
                table_name: name, ..
            }
            | AuthAction::CreateTrigger {
                table_name: name, ..
            }
            | AuthAction::DropTrigger {
                table_name: name, ..
            }
            | AuthAction::DropView { view_name: name } => {
                let g = running.guarded.get(&name.to_ascii_lowercase())?;
                return deny(not_owner(g.kind.word(), name));
            }
            _ => return None,
        };
        let g = running.guarded.get(&table.to_ascii_lowercase())?;
        if g.acl.held_by(&running.role).contains(wanted) {
            return None;
        }
        deny(permission_denied(g.kind, table))
    })
}

/// has_table_privilege and has_sequence_privilege: ([role,] relation, privileges), the
/// relation by OID or name, the privileges a comma-separated list of which any will do.
/// The running role, or a role named, holds what its items and PUBLIC's grant (postgres,
/// the owner, everything); a relation whose privileges are unset is open to every role.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    // (table): the statement empties it as TRUNCATE (router translate/ddl.rs).
    conn.create_scalar_function(
        "litescale_truncating",
        1,
        FunctionFlags::SQLITE_UTF8,
        |ctx| {
            let table = ctx.get::<String>(0)?;
            check(&table, &[Privileges::TRUNCATE])?;
            RUNNING.with_borrow_mut(|running| {
                if let Some(running) = running {
                    running.truncating.push(table.to_ascii_lowercase());
                }
            });
            Ok(rusqlite::types::Null)
        },
    )?;
    for name in ["has_table_privilege", "has_sequence_privilege"] {
        conn.create_scalar_function(name, -1, FunctionFlags::SQLITE_UTF8, move |ctx| {
            let arity = ctx.len();
            if !(2..=3).contains(&arity) {
                return Err(postgres_error(
                    "42883",
                    &format!("function {name} with {arity} arguments does not exist"),
                ));
            }
            let role = if arity == 3 {
                Some(match ctx.get_raw(0) {
                    ValueRef::Integer(10) => OWNER.to_owned(),
                    ValueRef::Integer(oid) => {
                        return Err(postgres_error(
                            "42704",
                            &format!("role with OID {oid} does not exist"),
                        ));
                    }
                    _ => ctx.get::<String>(0)?,
                })
            } else {
                running_role()
            };
            // SAFETY: the connection is used on this thread, within the call, for reads.
            let conn = unsafe { ctx.get_connection()? };
            // An OID that names nothing answers NULL; a name that names nothing is 42P01.
            let found: Option<(String, String)> = match ctx.get_raw(arity - 2) {
                ValueRef::Integer(oid) => conn
                    .query_row(
                        "SELECT type, coalesce(sql, '') FROM ls_relation WHERE oid = ?1",
                        [oid],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?,
                _ => {
                    let text = ctx.get::<String>(arity - 2)?;
                    let found = conn
                        .query_row(
                            "SELECT type, coalesce(sql, '') FROM ls_relation \
                             WHERE name = ?1 COLLATE NOCASE",
                            [relation_name(&text)],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .optional()?;
                    if found.is_none() {
                        return Err(postgres_error(
                            "42P01",
                            &format!("relation \"{text}\" does not exist"),
                        ));
                    }
                    found
                }
            };
            let Some((kind, sql)) = found else {
                return Ok(None);
            };
            let wanted = wanted_privileges(&ctx.get::<String>(arity - 1)?, &kind)?;
            let Some(role) = role.filter(|r| r != OWNER) else {
                return Ok(Some(true));
            };
            let Some(acl) = acl_in(&sql).and_then(|text| Acl::from_text(&text)) else {
                return Ok(Some(true));
            };
            let held = acl.held_by(&role);
            let options = acl.options_held_by(&role);
            Ok(Some(wanted.iter().any(|(privilege, with_option)| {
                held.contains(*privilege) && (!with_option || options.contains(*privilege))
            })))
        })?;
    }
    Ok(())
}

/// The privileges `text` lists (`SELECT, UPDATE WITH GRANT OPTION`), each with whether
/// the grant option is asked for; 22023 for a word that is none of `kind`'s.
fn wanted_privileges(text: &str, kind: &str) -> rusqlite::Result<Vec<(Privileges, bool)>> {
    let all = Privileges::all_of(if kind == "sequence" {
        ObjectKind::Sequence
    } else {
        ObjectKind::Relation
    });
    text.split(',')
        .map(|word| {
            let word = word.trim();
            let upper = word.to_ascii_uppercase();
            let (keyword, with_option) = match upper.strip_suffix("WITH GRANT OPTION") {
                Some(keyword) => (keyword.trim_end(), true),
                None => (upper.as_str(), false),
            };
            Privileges::named(keyword)
                .filter(|p| all.contains(*p))
                .map(|p| (p, with_option))
                .ok_or_else(|| {
                    postgres_error("22023", &format!("unrecognized privilege type: \"{word}\""))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_mark_at_the_start_names_the_role() {
        let sql = statement_as_role("ann */ x", "SELECT 1");
        assert_eq!(
            role_of(&sql).map(|(r, s)| (r, s.to_owned())),
            Some(("ann */ x".to_owned(), "SELECT 1".to_owned()))
        );
        assert_eq!(after_role_mark(&sql), "SELECT 1");
        let forged = format!("SELECT 1 {}", statement_as_role("postgres", ""));
        assert_eq!(role_of(&forged), None);
        assert_eq!(after_role_mark("SELECT 1"), "SELECT 1");
    }
}
