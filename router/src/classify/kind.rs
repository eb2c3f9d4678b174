//! What a parsed statement is: read, write, DDL, transaction control, a session setting;
//! which decides where it runs. Constructs litescale does not run are refused with 0A000.

use sqlparser::ast::{
    AlterType, AlterTypeOperation, CloseCursor, CommentObject, ContextModifier, Expr,
    FetchDirection, LockTableMode, ObjectType, Reset, Set, Statement, TransactionAccessMode,
    TransactionIsolationLevel, TransactionMode, UserDefinedTypeRepresentation, Value,
};

use crate::RouterError;
use crate::infer::schema::last_part;
use crate::parse::lexical::leading_words;
use crate::plan::statement::{Isolation, StatementKind, TextArg, WriteKind};

/// How many rows a FETCH takes (`None`: all that are left). A cursor moves forward only.
fn fetch_count(direction: &FetchDirection) -> Result<Option<u64>, RouterError> {
    let number = |v: &sqlparser::ast::ValueWithSpan| match &v.value {
        Value::Number(n, _) => n.parse::<u64>().ok(),
        _ => None,
    };
    let refused =
        || RouterError::unsupported(&format!("FETCH {direction} (a cursor moves forward only)"));
    match direction {
        FetchDirection::Next | FetchDirection::Forward { limit: None } => Ok(Some(1)),
        FetchDirection::All | FetchDirection::ForwardAll => Ok(None),
        FetchDirection::Count { limit } | FetchDirection::Forward { limit: Some(limit) } => {
            number(limit).map(Some).ok_or_else(refused)
        }
        _ => Err(refused()),
    }
}

pub(crate) fn classify(ast: &Statement, called: &[String]) -> Result<StatementKind, RouterError> {
    Ok(match ast {
        Statement::Query(q) if !q.locks.is_empty() => {
            if q.locks
                .iter()
                .any(|l| l.nonblock == Some(sqlparser::ast::NonBlock::Nowait))
            {
                return Err(RouterError::unsupported("SELECT ... FOR UPDATE NOWAIT"));
            }
            StatementKind::Write(WriteKind::LockRows)
        }
        // setval() and nextval() move a sequence: the writer runs them. currval() and
        // lastval() read what the writer's block was handed (shard engine/objects/sequences.rs).
        Statement::Query(_) if calls_any(called, &["setval", "nextval", "currval", "lastval"]) => {
            StatementKind::Write(WriteKind::LockRows)
        }
        Statement::Query(_) => StatementKind::Read,
        Statement::Lock(lock) if lock.nowait => {
            return Err(RouterError::unsupported("LOCK TABLE ... NOWAIT"));
        }
        Statement::Lock(lock) if lock.lock_mode == Some(LockTableMode::AccessShare) => {
            StatementKind::ShareLock(lock.tables.iter().map(|t| last_part(&t.name)).collect())
        }
        Statement::Lock(_) => StatementKind::Write(WriteKind::LockTable),
        Statement::Insert(_) => StatementKind::Write(WriteKind::Insert),
        Statement::Update(_) => StatementKind::Write(WriteKind::Update),
        Statement::Delete(_) => StatementKind::Write(WriteKind::Delete),
        Statement::CreateTable(_) => StatementKind::Ddl("CREATE TABLE"),
        Statement::CreateIndex(_) => StatementKind::Ddl("CREATE INDEX"),
        Statement::CreateSequence { .. } => StatementKind::Ddl("CREATE SEQUENCE"),
        Statement::CreateView(v) if v.materialized && v.if_not_exists => {
            return Err(RouterError::unsupported(
                "CREATE MATERIALIZED VIEW IF NOT EXISTS",
            ));
        }
        Statement::CreateView(v) if v.materialized => {
            StatementKind::Ddl("CREATE MATERIALIZED VIEW")
        }
        Statement::RefreshMaterializedView(_) => StatementKind::Ddl("REFRESH MATERIALIZED VIEW"),
        Statement::CreateView(_) => StatementKind::Ddl("CREATE VIEW"),
        // LANGUAGE sql only (translate/objects/functions.rs refuses the rest, naming it).
        Statement::CreateFunction(_) => StatementKind::Ddl("CREATE FUNCTION"),
        Statement::DropFunction(_) => StatementKind::Ddl("DROP FUNCTION"),
        Statement::CreateDomain(_) => StatementKind::Ddl("CREATE DOMAIN"),
        // Privileges on tables, views and sequences (translate/objects/grants.rs).
        Statement::Grant(_) => StatementKind::Ddl("GRANT"),
        Statement::Revoke(_) => StatementKind::Ddl("REVOKE"),
        Statement::DropDomain(_) => StatementKind::Ddl("DROP DOMAIN"),
        Statement::AlterTable(_) => StatementKind::Ddl("ALTER TABLE"),
        Statement::Truncate(_) => StatementKind::Ddl("TRUNCATE TABLE"),
        Statement::Analyze(_) => StatementKind::Ddl("ANALYZE"),
        Statement::Comment {
            object_type:
                CommentObject::Table
                | CommentObject::Column
                | CommentObject::View
                | CommentObject::MaterializedView
                | CommentObject::Index
                | CommentObject::Sequence
                | CommentObject::Schema
                | CommentObject::Type,
            ..
        } => StatementKind::Ddl("COMMENT"),
        // Schemas (shard engine/objects/schemas.rs); one with its objects in the statement
        // (`CREATE SCHEMA s CREATE TABLE ...`) is not read by sqlparser.
        Statement::CreateSchema { .. } => StatementKind::Ddl("CREATE SCHEMA"),
        Statement::Comment { object_type, .. } => {
            return Err(RouterError::unsupported(&format!(
                "COMMENT ON {object_type} (tables, columns, views, materialized views, indexes, \
                 sequences, schemas and types take comments)"
            )));
        }
        Statement::CreateType {
            representation: Some(UserDefinedTypeRepresentation::Enum { .. }),
            ..
        } => StatementKind::Ddl("CREATE TYPE"),
        Statement::CreateType { .. } => {
            return Err(RouterError::unsupported(
                "CREATE TYPE but AS ENUM (composite, range and base types)",
            ));
        }
        Statement::AlterType(AlterType {
            operation: AlterTypeOperation::AddValue(_),
            ..
        }) => StatementKind::Ddl("ALTER TYPE"),
        Statement::AlterType(AlterType { operation, .. }) => {
            return Err(RouterError::unsupported(&format!(
                "ALTER TYPE ... {} (an enum type takes ADD VALUE)",
                leading_words(&operation.to_string(), 2).to_ascii_uppercase()
            )));
        }
        Statement::CreateDatabase {
            db_name,
            if_not_exists,
            ..
        } => StatementKind::CreateDatabase {
            name: last_part(db_name),
            if_not_exists: *if_not_exists,
        },
        Statement::Drop {
            object_type: ObjectType::Database,
            if_exists,
            names,
            ..
        } if names.len() == 1 => StatementKind::DropDatabase {
            name: last_part(&names[0]),
            if_exists: *if_exists,
        },
        Statement::Drop { object_type, .. } => {
            let tag = match object_type {
                ObjectType::Table => "DROP TABLE",
                ObjectType::Index => "DROP INDEX",
                ObjectType::View => "DROP VIEW",
                ObjectType::Type => "DROP TYPE",
                ObjectType::Sequence => "DROP SEQUENCE",
                ObjectType::MaterializedView => "DROP MATERIALIZED VIEW",
                ObjectType::Schema => "DROP SCHEMA",
                other => return Err(RouterError::unsupported(&format!("DROP {other}"))),
            };
            StatementKind::Ddl(tag)
        }
        // What these extensions add is built in (gen_random_uuid, digest, uuid_generate_v4).
        Statement::CreateExtension(e) if BUILT_IN_EXTENSIONS.contains(&e.name.value.as_str()) => {
            StatementKind::Ddl("CREATE EXTENSION")
        }
        Statement::CreateExtension(e) => {
            return Err(RouterError::unsupported(&format!(
                "CREATE EXTENSION \"{}\" (built in: {})",
                e.name.value,
                BUILT_IN_EXTENSIONS.join(", ")
            )));
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
        Statement::Execute {
            name: Some(name),
            immediate: false,
            parameters,
            ..
        } => StatementKind::Execute {
            name: last_part(name),
            arguments: parameters.iter().map(ToString::to_string).collect(),
        },
        Statement::Fetch {
            name,
            direction,
            into: None,
            ..
        } => StatementKind::Fetch {
            name: name.value.clone(),
            count: fetch_count(direction)?,
            rows: true,
        },
        Statement::Close { cursor } => StatementKind::CloseCursor(match cursor {
            CloseCursor::All => None,
            CloseCursor::Specific { name } => Some(name.value.clone()),
        }),
        Statement::LISTEN { channel } => StatementKind::Listen(channel.value.clone()),
        Statement::UNLISTEN { channel } if channel.value == "*" => StatementKind::Unlisten(None),
        Statement::UNLISTEN { channel } => StatementKind::Unlisten(Some(channel.value.clone())),
        Statement::NOTIFY { channel, payload } => StatementKind::Notify {
            channel: TextArg::Text(channel.value.clone()),
            payload: TextArg::Text(payload.clone().unwrap_or_default()),
            answer: None,
        },
        Statement::Prepare {
            name,
            data_types,
            statement,
        } => StatementKind::Prepare {
            name: name.value.clone(),
            statement: statement.to_string(),
            parameter_types: data_types.iter().map(ToString::to_string).collect(),
        },
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
                // Any other name of several parts is a custom setting's, `prefix.name`.
                _ => name.replace(' ', "."),
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

/// Extensions whose functions litescale has built in: CREATE EXTENSION of one succeeds.
const BUILT_IN_EXTENSIONS: [&str; 3] = ["pgcrypto", "uuid-ossp", "plpgsql"];

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
            scope,
            variable,
            values,
            ..
        } => {
            let name = variable.to_string().to_ascii_lowercase();
            let value = setting_value(values).map(TextArg::Text);
            let local = matches!(scope, Some(ContextModifier::Local));
            Ok(StatementKind::Set {
                name,
                value,
                local,
                answer: None,
            })
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
        Set::SetTimeZone { local, value } => Ok(StatementKind::Set {
            name: "timezone".to_owned(),
            // `SET TIME ZONE LOCAL` is the default zone, as DEFAULT is.
            value: match value {
                Expr::Identifier(i) if i.value.eq_ignore_ascii_case("local") => None,
                _ => setting_value(std::slice::from_ref(value)).map(TextArg::Text),
            },
            local: *local,
            answer: None,
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

/// Whether one of the `called` functions is one of `functions` (lowercase, unqualified).
fn calls_any(called: &[String], functions: &[&str]) -> bool {
    called
        .iter()
        .any(|name| functions.contains(&name.rsplit('.').next().unwrap_or(name).trim_matches('"')))
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::plan::statement::{Isolation, StatementKind, WriteKind};
    use crate::test_support::one;

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
                value: Some(crate::plan::statement::TextArg::Text("x".into())),
                local: false,
                answer: None,
            }
        );
        assert_eq!(
            one("show server_version").kind,
            StatementKind::Show("server_version".into())
        );
        assert_eq!(
            one("show myapp.tenant").kind,
            StatementKind::Show("myapp.tenant".into())
        );
        assert_eq!(
            one("show time zone").kind,
            StatementKind::Show("timezone".into())
        );
    }

    #[test]
    fn unsupported_statements_carry_0a000() {
        assert_eq!(
            plan("create temp sequence s").unwrap_err().sqlstate,
            "0A000"
        );
        // setval and nextval write, and currval and lastval read what the writer's block
        // was handed: they run on the writer.
        for on_the_writer in [
            "select setval('t_id_seq', 5)",
            "select currval('t_id_seq')",
            "select lastval()",
        ] {
            assert_eq!(
                one(on_the_writer).kind,
                StatementKind::Write(WriteKind::LockRows)
            );
        }
    }
}
