//! SQL → plan. The router parses what a client sends (PostgreSQL dialect, with
//! `sqlparser`), classifies each statement (read, write, DDL, transaction control, session
//! setting), rewrites it into the SQL the SQLite workers run, and infers the Postgres types
//! of parameters and result columns where the statement determines them.
//!
//! The router is pure: no I/O, no SQLite, no sockets. What it needs to know about the
//! schema is handed to it through [`Schema`]. That keeps every plan testable from text.

mod catalog;
mod copy;
mod depth;
mod functions;
mod infer;
mod lexical;
mod route;
mod scatter;
mod signals;
mod split;
mod temporary;
mod translate;
pub mod types;

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, ObjectType, Reset, Set, Statement, TransactionAccessMode, TransactionIsolationLevel,
    TransactionMode, Value, visit_expressions_mut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};

pub use copy::{CopyDirection, CopyFormat, CopySpec};
pub use depth::{MAX_EXPR_DEPTH, PLAN_STACK_BYTES};
pub use functions::SessionContext;

/// The PostgreSQL version litescale answers as (server_version, version()).
pub const SERVER_VERSION: &str = "16.6";
pub use infer::{NoSchema, Schema};
pub use route::{Hint, InsertPart, Route, route, split_insert};
pub use scatter::{Aggregate, MergeStep, ScatterPlan, scatter};
pub use signals::{BackendPid, Signal};
pub use translate::LENGTH_CHECK_PREFIX;
pub use types::PgType;

/// An error the router reports to the client, with its SQLSTATE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RouterError {
    pub sqlstate: &'static str,
    pub message: String,
}

impl RouterError {
    fn syntax(message: String) -> RouterError {
        RouterError {
            sqlstate: "42601",
            message,
        }
    }

    fn unsupported(construct: &str) -> RouterError {
        RouterError {
            sqlstate: "0A000",
            message: format!("{construct} is not supported by litescale"),
        }
    }

    /// 42501: what would reach past the tenant's own database (other files, the host,
    /// SQLite's or litescale's internals).
    pub(crate) fn forbidden(what: &str) -> RouterError {
        RouterError {
            sqlstate: "42501",
            message: format!("permission denied: {what}"),
        }
    }
}

/// Tables litescale keeps in every database for itself (`_litescale_commits`).
const INTERNAL_TABLE_PREFIX: &str = "_litescale";

/// Whether a table name is one of litescale's own: SQLite's names are case-insensitive,
/// so `"_LITESCALE_FENCE"` names `_litescale_fence`.
fn is_internal_table(name: &str) -> bool {
    name.get(..INTERNAL_TABLE_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(INTERNAL_TABLE_PREFIX))
}

/// The new name of `ALTER TABLE ... RENAME TO`, which names no relation of its own.
fn renamed_to(ast: &Statement) -> Option<String> {
    use sqlparser::ast::{AlterTableOperation, RenameTableNameKind};
    let Statement::AlterTable(alter) = ast else {
        return None;
    };
    alter.operations.iter().find_map(|op| match op {
        AlterTableOperation::RenameTable {
            table_name: RenameTableNameKind::As(new) | RenameTableNameKind::To(new),
        } => Some(infer::last_part(new)),
        _ => None,
    })
}

/// How strongly a transaction is isolated, as the client asked in BEGIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Postgres' default, also used for READ UNCOMMITTED as Postgres does.
    ReadCommitted,
    /// REPEATABLE READ and SERIALIZABLE.
    Serializable,
}

/// What a statement does, which decides where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    /// Reads only: may run on any reader.
    Read,
    /// INSERT / UPDATE / DELETE: runs on the partition's single writer.
    Write(WriteKind),
    /// Schema change, with its command tag ("CREATE TABLE"): runs on the writer.
    Ddl(&'static str),
    Begin {
        isolation: Isolation,
        read_only: bool,
    },
    Commit,
    Rollback,
    Savepoint(String),
    Release(String),
    RollbackTo(String),
    /// `SET name = value`; `value` is `None` for `SET name TO DEFAULT`.
    Set {
        name: String,
        value: Option<String>,
    },
    Show(String),
    /// `RESET name`, or `RESET ALL` when `None`.
    Reset(Option<String>),
    /// COPY FROM STDIN / TO STDOUT; for `COPY (query) TO STDOUT` the query is the
    /// statement's SQLite SQL.
    Copy(CopySpec),
    /// `DEALLOCATE name`, or `DEALLOCATE ALL` when `None`.
    Deallocate(Option<String>),
    /// `EXPLAIN statement`: where the statement would run, and what runs there.
    Explain(Box<PlannedStatement>),
    /// `CREATE DATABASE name`: a new tenant, with its own files.
    CreateDatabase {
        name: String,
        if_not_exists: bool,
    },
    /// `DROP DATABASE [IF EXISTS] name`.
    DropDatabase {
        name: String,
        if_exists: bool,
    },
    /// `SET TRANSACTION ...`: what it changes of the open block (`None`: unchanged).
    SetTransaction {
        isolation: Option<Isolation>,
        read_only: Option<bool>,
    },
    /// `SELECT pg_cancel_backend(pid)` / `SELECT pg_terminate_backend(pid)`: the proxy
    /// signals that session and answers one boolean column named `column`.
    SignalBackend {
        signal: Signal,
        pid: BackendPid,
        column: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Insert,
    Update,
    Delete,
}

/// One statement, planned: where it goes, and the SQLite SQL to run there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStatement {
    pub kind: StatementKind,
    /// The statement as SQLite runs it; `$n` parameters are rewritten to `?n`. Empty for a
    /// statement that has nothing to do in SQLite (plain VACUUM).
    pub sqlite_sql: String,
    /// `sqlite_sql` holds several statements that run together, atomically.
    pub batch: bool,
    /// Highest `$n` used.
    pub param_count: usize,
    /// A routing hint from a comment in the statement (`/* partition: 2 */`).
    pub hint: Option<Hint>,
    /// NOTICEs Postgres sends about the statement's text (a truncated identifier).
    pub notices: Vec<String>,
    /// The parsed Postgres statement (before translation), for type inference. `None` for
    /// statements parsed by hand (COPY, VACUUM).
    ast: Option<Statement>,
}

impl PlannedStatement {
    /// A statement with nothing to run in SQLite: the proxy or the storage directory
    /// carries it out (EXPLAIN, CREATE DATABASE, a signal to another session).
    fn outside_sqlite(kind: StatementKind, param_count: usize) -> PlannedStatement {
        PlannedStatement {
            kind,
            sqlite_sql: String::new(),
            batch: false,
            param_count,
            hint: None,
            notices: Vec::new(),
            ast: None,
        }
    }

    /// Types of `$1..$param_count` as far as the statement determines them, else `Unknown`.
    pub fn param_types(&self, schema: &dyn Schema) -> Vec<PgType> {
        match &self.ast {
            Some(ast) => infer::param_types(ast, self.param_count, schema),
            // A signal's only parameter is the pid.
            None if matches!(self.kind, StatementKind::SignalBackend { .. }) => {
                vec![PgType::Int4; self.param_count]
            }
            None => Vec::new(),
        }
    }

    /// For each result column, the type its expression determines (a column, a literal, a
    /// cast, arithmetic, an aggregate), or `None` when only its values can tell. Empty when
    /// the projection cannot be matched to the result columns (e.g. `*`).
    pub fn projection_types(&self, schema: &dyn Schema, params: &[PgType]) -> Vec<Option<PgType>> {
        match &self.ast {
            Some(ast) => infer::projection_types(ast, schema, params),
            None => Vec::new(),
        }
    }

    /// Tables the statement names, so the caller can look their columns up for [`Schema`].
    pub fn tables(&self) -> Vec<String> {
        self.ast.as_ref().map(infer::tables).unwrap_or_default()
    }

    /// Whether the client gets rows back (a query, or DML with RETURNING).
    pub fn returns_rows(&self) -> bool {
        if matches!(
            self.kind,
            StatementKind::Show(_)
                | StatementKind::Explain(_)
                | StatementKind::SignalBackend { .. }
        ) {
            return true;
        }
        match &self.ast {
            Some(Statement::Query(_)) => true,
            Some(Statement::Insert(i)) => i.returning.is_some(),
            Some(Statement::Update(u)) => u.returning.is_some(),
            Some(Statement::Delete(d)) => d.returning.is_some(),
            _ => false,
        }
    }
}

/// Parses a query string, which may hold several statements, into planned statements.
/// An empty string (or only `;`) gives an empty list.
pub fn plan(sql: &str) -> Result<Vec<PlannedStatement>, RouterError> {
    plan_in(sql, &SessionContext::default())
}

/// As [`plan`], for a session: `current_database()` and the like answer from `ctx`.
///
/// Runs on the caller's stack when it has room for what the text may need (see
/// [`PLAN_STACK_BYTES`]), else on a stack of its own.
pub fn plan_in(sql: &str, ctx: &SessionContext) -> Result<Vec<PlannedStatement>, RouterError> {
    depth::protect_callbacks();
    let stack = depth::stack_for(sql.len());
    stacker::maybe_grow(stack, stack, || plan_pieces(sql, ctx))
}

fn plan_pieces(sql: &str, ctx: &SessionContext) -> Result<Vec<PlannedStatement>, RouterError> {
    let mut planned = Vec::new();
    for piece in split::split(sql)? {
        let first = planned.len();
        match piece.keyword().as_deref() {
            Some("COPY") => {
                let (kind, query) = copy::parse(&piece)?;
                let (sqlite_sql, ast) = match query {
                    Some(q) => {
                        let mut inner = plan_in(&q, ctx)?;
                        if inner.len() != 1 || inner[0].kind != StatementKind::Read {
                            return Err(RouterError::syntax(
                                "COPY (query) takes one SELECT".to_owned(),
                            ));
                        }
                        let inner = inner.remove(0);
                        (inner.sqlite_sql, inner.ast)
                    }
                    None => (String::new(), None),
                };
                planned.push(PlannedStatement {
                    kind,
                    sqlite_sql,
                    batch: false,
                    param_count: 0,
                    hint: None,
                    notices: Vec::new(),
                    ast,
                });
            }
            Some("VACUUM") => planned.push(vacuum(&piece)?),
            Some(word @ ("ATTACH" | "DETACH" | "PRAGMA")) => {
                return Err(RouterError::forbidden(&format!(
                    "{word} reaches SQLite files and settings outside your database"
                )));
            }
            _ => {
                let (normalized, notices) = lexical::normalize(&piece)?;
                let statements =
                    Parser::parse_sql(&PostgreSqlDialect {}, &normalized).map_err(syntax_error)?;
                for ast in &statements {
                    depth::check(ast)?;
                }
                for ast in statements {
                    let mut p = plan_statement(ast, ctx)?;
                    p.notices.clone_from(&notices);
                    planned.push(p);
                }
            }
        }
        let hint = piece.comments.iter().find_map(|c| Hint::from_comment(c));
        for p in &mut planned[first..] {
            p.hint = hint.clone();
            if let StatementKind::Explain(inner) = &mut p.kind {
                inner.hint = hint.clone();
            }
        }
    }
    Ok(planned)
}

/// `VACUUM [FULL] [ANALYZE] [t, ...]`. SQLite reuses freed pages by itself, so a plain
/// VACUUM has nothing to do; ANALYZE refreshes planner statistics as Postgres' does; FULL
/// rewrites the file as SQLite's VACUUM does.
fn vacuum(piece: &split::Piece<'_>) -> Result<PlannedStatement, RouterError> {
    use sqlparser::tokenizer::Token;
    let mut full = false;
    let mut analyze = false;
    let mut tables = Vec::new();
    for (t, _) in &piece.tokens[1..] {
        match t {
            Token::Word(w) => match w.value.to_ascii_uppercase().as_str() {
                "FULL" => full = true,
                "ANALYZE" | "ANALYSE" => analyze = true,
                "VERBOSE" | "FREEZE" | "TRUE" | "ON" | "FALSE" | "OFF" => {}
                // SQLite's VACUUM INTO 'file' writes a copy of the database anywhere.
                "INTO" => {
                    return Err(RouterError::forbidden(
                        "VACUUM INTO writes a file outside the storage directory",
                    ));
                }
                _ => tables.push(w.to_string()),
            },
            Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) => {
                return Err(RouterError::forbidden(
                    "VACUUM INTO writes a file outside the storage directory",
                ));
            }
            _ => {}
        }
    }
    let mut statements = Vec::new();
    if full {
        statements.push("VACUUM".to_owned());
    }
    if analyze {
        if tables.is_empty() {
            statements.push("ANALYZE".to_owned());
        }
        statements.extend(tables.iter().map(|t| format!("ANALYZE {t}")));
    }
    Ok(PlannedStatement {
        hint: None,
        notices: Vec::new(),
        kind: StatementKind::Ddl("VACUUM"),
        batch: statements.len() > 1,
        sqlite_sql: statements.join(";\n"),
        param_count: 0,
        ast: None,
    })
}

/// Parses a query the router writes itself (a template). Templates hold no parameters:
/// rendered `?n` would not parse back, so callers put expressions in after parsing.
pub(crate) fn parse_query(sql: &str) -> Option<Box<sqlparser::ast::Query>> {
    match Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?.pop()? {
        Statement::Query(q) => Some(q),
        _ => None,
    }
}

fn syntax_error(e: ParserError) -> RouterError {
    let detail = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
        ParserError::RecursionLimitExceeded => return depth::too_deep(),
    };
    RouterError::syntax(format!("syntax error: {detail}"))
}

fn plan_statement(
    mut ast: Statement,
    ctx: &SessionContext,
) -> Result<PlannedStatement, RouterError> {
    if let Statement::Explain {
        statement, analyze, ..
    } = &ast
    {
        if *analyze {
            return Err(RouterError::unsupported("EXPLAIN ANALYZE"));
        }
        let inner = plan_statement(statement.as_ref().clone(), ctx)?;
        return Ok(PlannedStatement::outside_sqlite(
            StatementKind::Explain(Box::new(inner)),
            0,
        ));
    }
    if let Some(signal) = signals::classify(&ast, ctx) {
        // Runs in the proxy, on another session, not in SQLite.
        let kind = signal?;
        let param_count = match &kind {
            StatementKind::SignalBackend {
                pid: BackendPid::Param(n),
                ..
            } => *n,
            _ => 0,
        };
        return Ok(PlannedStatement::outside_sqlite(kind, param_count));
    }
    let kind = classify(&ast)?;
    temporary::refuse(&ast)?;
    if let Some(internal) = infer::tables(&ast)
        .into_iter()
        .chain(renamed_to(&ast))
        .find(|t| is_internal_table(t))
    {
        return Err(RouterError::forbidden(&format!(
            "\"{internal}\" belongs to litescale"
        )));
    }
    if matches!(
        kind,
        StatementKind::CreateDatabase { .. } | StatementKind::DropDatabase { .. }
    ) {
        // Runs on the storage directory, not in SQLite.
        return Ok(PlannedStatement::outside_sqlite(kind, 0));
    }
    let param_count = rewrite_placeholders(&mut ast)?;
    let translated = translate::translate(ast.clone(), ctx)?;
    Ok(PlannedStatement {
        kind,
        sqlite_sql: translated.sql,
        batch: translated.batch,
        param_count,
        hint: None,
        notices: Vec::new(),
        ast: Some(ast),
    })
}

fn classify(ast: &Statement) -> Result<StatementKind, RouterError> {
    Ok(match ast {
        Statement::Query(_) => StatementKind::Read,
        Statement::Insert(_) => StatementKind::Write(WriteKind::Insert),
        Statement::Update(_) => StatementKind::Write(WriteKind::Update),
        Statement::Delete(_) => StatementKind::Write(WriteKind::Delete),
        Statement::CreateTable(_) => StatementKind::Ddl("CREATE TABLE"),
        Statement::CreateIndex(_) => StatementKind::Ddl("CREATE INDEX"),
        Statement::CreateView(_) => StatementKind::Ddl("CREATE VIEW"),
        Statement::AlterTable(_) => StatementKind::Ddl("ALTER TABLE"),
        Statement::Truncate(_) => StatementKind::Ddl("TRUNCATE TABLE"),
        Statement::Analyze(_) => StatementKind::Ddl("ANALYZE"),
        Statement::CreateDatabase {
            db_name,
            if_not_exists,
            ..
        } => StatementKind::CreateDatabase {
            name: infer::last_part(db_name),
            if_not_exists: *if_not_exists,
        },
        Statement::Drop {
            object_type: ObjectType::Database,
            if_exists,
            names,
            ..
        } if names.len() == 1 => StatementKind::DropDatabase {
            name: infer::last_part(&names[0]),
            if_exists: *if_exists,
        },
        Statement::Drop { object_type, .. } => {
            let tag = match object_type {
                ObjectType::Table => "DROP TABLE",
                ObjectType::Index => "DROP INDEX",
                ObjectType::View => "DROP VIEW",
                other => return Err(RouterError::unsupported(&format!("DROP {other}"))),
            };
            StatementKind::Ddl(tag)
        }
        Statement::StartTransaction { modes, .. } => begin(modes),
        Statement::Commit { chain: false, .. } => StatementKind::Commit,
        Statement::Rollback {
            chain: false,
            savepoint: None,
        } => StatementKind::Rollback,
        Statement::Rollback {
            chain: false,
            savepoint: Some(name),
        } => StatementKind::RollbackTo(name.value.clone()),
        Statement::Savepoint { name } => StatementKind::Savepoint(name.value.clone()),
        Statement::ReleaseSavepoint { name } => StatementKind::Release(name.value.clone()),
        Statement::Set(set) => classify_set(set)?,
        Statement::Deallocate { name, .. } => StatementKind::Deallocate(
            (!name.value.eq_ignore_ascii_case("all")).then(|| name.value.clone()),
        ),
        Statement::ShowVariable { variable } => {
            let name = variable
                .iter()
                .map(|i| i.value.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            // SHOW's multi-word spellings of settings.
            StatementKind::Show(match name.as_str() {
                "transaction isolation level" => "transaction_isolation".to_owned(),
                "time zone" => "timezone".to_owned(),
                "session authorization" => "session_authorization".to_owned(),
                _ => name,
            })
        }
        Statement::Reset(reset) => match &reset.reset {
            Reset::ALL => StatementKind::Reset(None),
            Reset::ConfigurationParameter(name) => {
                StatementKind::Reset(Some(name.to_string().to_ascii_lowercase()))
            }
            Reset::SessionAuthorization => {
                return Err(RouterError::unsupported("RESET SESSION AUTHORIZATION"));
            }
        },
        other => {
            let construct = leading_words(&other.to_string(), 2).to_ascii_uppercase();
            return Err(RouterError::unsupported(&construct));
        }
    })
}

/// The first words of a statement, to name an unsupported construct in an error.
fn leading_words(sql: &str, n: usize) -> String {
    sql.split_whitespace().take(n).collect::<Vec<_>>().join(" ")
}

fn begin(modes: &[TransactionMode]) -> StatementKind {
    let (isolation, read_only) = transaction_modes(modes);
    StatementKind::Begin {
        isolation: isolation.unwrap_or(Isolation::ReadCommitted),
        read_only: read_only.unwrap_or(false),
    }
}

/// The isolation and access mode that BEGIN or SET TRANSACTION names, if any.
fn transaction_modes(modes: &[TransactionMode]) -> (Option<Isolation>, Option<bool>) {
    let mut isolation = None;
    let mut read_only = None;
    for mode in modes {
        match mode {
            TransactionMode::IsolationLevel(
                TransactionIsolationLevel::RepeatableRead
                | TransactionIsolationLevel::Serializable
                | TransactionIsolationLevel::Snapshot,
            ) => isolation = Some(Isolation::Serializable),
            TransactionMode::IsolationLevel(_) => isolation = Some(Isolation::ReadCommitted),
            TransactionMode::AccessMode(TransactionAccessMode::ReadOnly) => read_only = Some(true),
            TransactionMode::AccessMode(TransactionAccessMode::ReadWrite) => {
                read_only = Some(false)
            }
        }
    }
    (isolation, read_only)
}

fn classify_set(set: &Set) -> Result<StatementKind, RouterError> {
    match set {
        Set::SingleAssignment {
            variable, values, ..
        } => {
            let name = variable.to_string().to_ascii_lowercase();
            let value = setting_value(values);
            Ok(StatementKind::Set { name, value })
        }
        Set::SetTransaction {
            modes,
            snapshot: None,
            session: false,
        } => {
            let (isolation, read_only) = transaction_modes(modes);
            Ok(StatementKind::SetTransaction {
                isolation,
                read_only,
            })
        }
        Set::SetTimeZone { value, .. } => Ok(StatementKind::Set {
            name: "timezone".to_owned(),
            value: setting_value(std::slice::from_ref(value)),
        }),
        other => Err(RouterError::unsupported(&leading_words(
            &other.to_string(),
            3,
        ))),
    }
}

/// The text a SET gives a setting, as SHOW later prints it; `None` means DEFAULT.
fn setting_value(values: &[Expr]) -> Option<String> {
    let parts: Vec<String> = values
        .iter()
        .map(|v| match v {
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(s) => s.clone(),
                other => other.to_string(),
            },
            Expr::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect();
    if parts.len() == 1 && parts[0].eq_ignore_ascii_case("default") {
        None
    } else {
        Some(parts.join(", "))
    }
}

/// Rewrites `$n` to SQLite's `?n`, which binds by number whatever the order of appearance
/// (SQLite numbers `$name` parameters by first appearance instead). Returns the highest n.
fn rewrite_placeholders(ast: &mut Statement) -> Result<usize, RouterError> {
    let mut highest = 0usize;
    let flow = visit_expressions_mut(ast, |expr| {
        if let Expr::Value(v) = expr
            && let Value::Placeholder(p) = &mut v.value
        {
            let Some(n) = p.strip_prefix('$').and_then(|d| d.parse::<usize>().ok()) else {
                return ControlFlow::Break(RouterError::syntax(format!(
                    "syntax error at or near \"{p}\""
                )));
            };
            if n == 0 || n > 65_535 {
                return ControlFlow::Break(RouterError {
                    sqlstate: "42P02",
                    message: format!("there is no parameter ${n}"),
                });
            }
            highest = highest.max(n);
            *p = format!("?{n}");
        }
        ControlFlow::Continue(())
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(highest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> PlannedStatement {
        let mut v = plan(sql).unwrap();
        assert_eq!(v.len(), 1, "{sql}");
        v.remove(0)
    }

    #[test]
    fn classifies_statements() {
        assert_eq!(one("SELECT 1").kind, StatementKind::Read);
        assert_eq!(
            one("insert into t values (1)").kind,
            StatementKind::Write(WriteKind::Insert)
        );
        assert_eq!(
            one("create table t (a int)").kind,
            StatementKind::Ddl("CREATE TABLE")
        );
        assert_eq!(one("drop table t").kind, StatementKind::Ddl("DROP TABLE"));
        assert_eq!(one("commit").kind, StatementKind::Commit);
        assert_eq!(one("end").kind, StatementKind::Commit);
        assert_eq!(one("rollback").kind, StatementKind::Rollback);
        assert_eq!(
            one("rollback to savepoint s1").kind,
            StatementKind::RollbackTo("s1".into())
        );
        assert_eq!(
            one("begin isolation level serializable").kind,
            StatementKind::Begin {
                isolation: Isolation::Serializable,
                read_only: false
            }
        );
        assert_eq!(
            one("start transaction read only").kind,
            StatementKind::Begin {
                isolation: Isolation::ReadCommitted,
                read_only: true
            }
        );
        assert_eq!(
            one("set application_name = 'x'").kind,
            StatementKind::Set {
                name: "application_name".into(),
                value: Some("x".into())
            }
        );
        assert_eq!(
            one("show server_version").kind,
            StatementKind::Show("server_version".into())
        );
    }

    #[test]
    fn splits_several_statements_and_empty_input() {
        assert_eq!(plan("select 1; select 2;").unwrap().len(), 2);
        assert!(plan("").unwrap().is_empty());
        assert!(plan(" ; ").unwrap().is_empty());
    }

    #[test]
    fn syntax_errors_carry_42601() {
        let e = plan("SELEC 1").unwrap_err();
        assert_eq!(e.sqlstate, "42601");
    }

    #[test]
    fn unsupported_statements_carry_0a000() {
        let e = plan("CREATE SEQUENCE s").unwrap_err();
        assert_eq!(e.sqlstate, "0A000");
        assert!(e.message.contains("CREATE SEQUENCE"), "{}", e.message);
        assert_eq!(plan("drop sequence s").unwrap_err().sqlstate, "0A000");
    }

    #[test]
    fn unquoted_identifiers_fold_to_lower_case() {
        assert_eq!(
            one("SELECT ID, \"Name\" FROM Users WHERE X = 'ABC'").sqlite_sql,
            "SELECT id, \"Name\" FROM users WHERE x = 'ABC'"
        );
    }

    #[test]
    fn vacuum_is_analyze_or_nothing() {
        let v = one("vacuum analyze pgbench_branches");
        assert_eq!(v.kind, StatementKind::Ddl("VACUUM"));
        assert_eq!(v.sqlite_sql, "ANALYZE pgbench_branches");
        assert_eq!(one("vacuum pgbench_branches").sqlite_sql, "");
        assert_eq!(one("vacuum full").sqlite_sql, "VACUUM");
    }

    #[test]
    fn placeholders_become_numbered_sqlite_parameters() {
        let p = one("select * from t where b = $2 and a = $1");
        assert_eq!(p.param_count, 2);
        assert_eq!(p.sqlite_sql, "SELECT * FROM t WHERE b = ?2 AND a = ?1");
    }

    #[test]
    fn knows_which_statements_return_rows() {
        assert!(one("select 1").returns_rows());
        assert!(one("insert into t values (1) returning a").returns_rows());
        assert!(!one("insert into t values (1)").returns_rows());
        assert!(!one("create table t (a int)").returns_rows());
    }
}
