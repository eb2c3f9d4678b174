//! Schema statements as SQLite takes them: one object per DROP, TRUNCATE as DELETE, ALTER
//! TABLE one operation at a time (ADD PRIMARY KEY/UNIQUE as a unique index), CREATE TABLE
//! without Postgres' storage options, with its columns from `columns` and its named UNIQUE
//! constraints as unique indexes, CREATE INDEX named as Postgres names it and without how
//! Postgres builds it.

use sqlparser::ast::AlterTableOperation as Op;
use sqlparser::ast::{
    AlterTable, AlterType, AlterTypeAddValuePosition, AlterTypeOperation, CascadeOption,
    ColumnOption, CommentObject, CreateTableLikeDefaults, CreateTableLikeKind, CreateTableOptions,
    Expr, Ident, IndexColumn, ObjectName, ObjectType, RenameTableNameKind, SchemaName, Statement,
    TableConstraint, TruncateIdentityOption, UserDefinedTypeRepresentation,
};

use super::objects::sequences;
use super::sql::fail_if_referenced;
use super::{alter, columns};
use crate::RouterError;
use crate::infer::schema::{Schema, TableDefinition, commented, last_part};
use crate::parse::lexical::leading_words;
use crate::parse::lexical::string_literal;

/// The SQLite statements `ast` becomes, in order: several for a DROP or ALTER TABLE of
/// several objects or operations; any statement but DDL, as rendered. `None` for an ALTER
/// TABLE that makes the table again when `schema` has not the table's definition.
pub(super) fn sqlite_statements(
    ast: Statement,
    schema: &dyn Schema,
    view_query: Option<&ViewQuery>,
) -> Result<Option<Vec<String>>, RouterError> {
    if let Statement::CreateView(view) = &ast
        && view.materialized
        && let Some(query) = view_query
    {
        return materialized_view(view, query).map(Some);
    }
    let enums = columns::enum_types(&ast);
    // A SERIAL or IDENTITY column added to a table: its rows would need numbers as it comes.
    if let Statement::AlterTable(alter) = &ast
        && alter.operations.iter().any(
            |op| matches!(op, Op::AddColumn { column_def, .. } if columns::generates_ids(column_def)),
        )
    {
        return Err(RouterError::unsupported(
            "ALTER TABLE ... ADD COLUMN of a SERIAL or IDENTITY column",
        ));
    }
    let owners = sequences::owners_changed(&ast);
    Ok(statements_of(ast, schema)?.map(|mut out| {
        out.extend(columns::order_enums(&enums));
        out.extend(owners);
        if let Some(query) = view_query {
            keep_postgres_query(&mut out, &query.postgres);
        }
        out
    }))
}

fn statements_of(ast: Statement, schema: &dyn Schema) -> Result<Option<Vec<String>>, RouterError> {
    if let Statement::CreateTable(create) = &ast
        && let Some(CreateTableLikeKind::Parenthesized(like) | CreateTableLikeKind::Plain(like)) =
            &create.like
    {
        let Some(definition) = definition_of(&like.name, schema)? else {
            return Ok(None);
        };
        let mut included = like_included(&create.table_options);
        if matches!(like.defaults, Some(CreateTableLikeDefaults::Including)) {
            included.push("defaults".to_owned());
        }
        let has = |o: &str| included.iter().any(|i| i == o);
        let mut create = create.clone();
        create.like = None;
        let (columns, constraints) = alter::columns_like(
            &last_part(&like.name),
            &definition,
            has("defaults"),
            has("constraints"),
            has("indexes"),
            has("generated"),
        )?;
        create.columns = columns;
        create.constraints = constraints;
        let indexes = if has("indexes") {
            copied_indexes(&definition, &create.name)?
        } else {
            Vec::new()
        };
        let mut out = schema_statements(Statement::CreateTable(create))?;
        out.extend(indexes);
        return Ok(Some(out));
    }
    if let Statement::Comment { comment, .. } = &ast
        && let Some((table, column)) = commented(&ast)
    {
        let name = ObjectName::from(vec![Ident::new(&table)]);
        let Some(definition) = definition_of(&name, schema)? else {
            return Ok(None);
        };
        return alter::comment(&table, column.as_deref(), comment.as_deref(), &definition)
            .map(Some);
    }
    if let Statement::AlterTable(statement) = &ast
        && statement.operations.iter().any(alter::needs_definition)
    {
        let Some(definition) = definition_of(&statement.name, schema)? else {
            return Ok(None);
        };
        let (mut out, settled, definition) = alter::settle(statement, definition)?;
        out.extend(
            if settled.operations.iter().any(alter::changes_definition) {
                alter::alter_table(&settled.name, &settled.operations, &definition)?
            } else {
                schema_statements(Statement::AlterTable(settled.clone()))?
            },
        );
        out.extend(renamed_views(&settled, &definition.views));
        return Ok(Some(out));
    }
    if let Statement::AlterTable(statement) = &ast
        && statement.operations.iter().any(alter::renames)
    {
        let views = match definition_of(&statement.name, schema) {
            Ok(Some(definition)) => definition.views,
            Ok(None) => return Ok(None),
            // A view renamed (no table has the name), or nothing: SQLite's answer decides.
            Err(_) => Vec::new(),
        };
        let mut out = schema_statements(ast.clone())?;
        out.extend(renamed_views(statement, &views));
        return Ok(Some(out));
    }
    schema_statements(ast).map(Some)
}

/// The calls that keep the Postgres queries of `views` (those whose text names the table)
/// in step with what `alter` renames.
fn renamed_views(alter: &AlterTable, views: &[(String, String)]) -> Vec<String> {
    use sqlparser::ast::AlterTableOperation as Op;
    let table = last_part(&alter.name);
    alter
        .operations
        .iter()
        .flat_map(|op| match op {
            Op::RenameTable {
                table_name: RenameTableNameKind::To(to) | RenameTableNameKind::As(to),
            } => alter::views_renamed(
                views,
                &alter::Rename::Table {
                    old: &table,
                    new: &last_part(to),
                },
            ),
            Op::RenameColumn {
                old_column_name,
                new_column_name,
            } => alter::views_renamed(
                views,
                &alter::Rename::Column {
                    table: &table,
                    old: &old_column_name.value,
                    new: &new_column_name.value,
                },
            ),
            _ => Vec::new(),
        })
        .collect()
}

/// The definition of the table `name`: `None` while nobody has read it (the plan is made
/// again with it), 42P01 once the database was read and has no such table.
fn definition_of(
    name: &ObjectName,
    schema: &dyn Schema,
) -> Result<Option<TableDefinition>, RouterError> {
    let table = last_part(name);
    match schema.definition(&table) {
        None if schema.reads_definitions() => Err(RouterError {
            sqlstate: "42P01",
            message: format!("relation \"{table}\" does not exist"),
        }),
        found => Ok(found),
    }
}

/// Appends the view's Postgres query, as a comment SQLite keeps in its text, to the CREATE
/// VIEW among `statements`.
fn keep_postgres_query(statements: &mut [String], query: &str) {
    if let Some(create) = statements.iter_mut().find(|s| s.starts_with("CREATE VIEW")) {
        create.push_str(&format!(
            " {}{} */",
            alter::POSTGRES_QUERY_MARK,
            query.replace("*/", "* /")
        ));
    }
}

/// A view's query as its client wrote it, and the types of its columns where they are
/// known (a materialized view's, whose table keeps them).
pub(super) struct ViewQuery {
    pub postgres: String,
    pub types: Vec<Option<crate::types::PgType>>,
}

/// CREATE MATERIALIZED VIEW: its rows made by SQLite's CREATE TABLE ... AS (none when
/// created WITH NO DATA), then its queries and column types kept in its definition, where
/// REFRESH and the catalog find them (shard engine/objects/materialized_views.rs).
fn materialized_view(
    view: &sqlparser::ast::CreateView,
    view_query: &ViewQuery,
) -> Result<Vec<String>, RouterError> {
    use sqlparser::ast::SqlOption;
    if !view.columns.is_empty() {
        return Err(RouterError::unsupported(
            "CREATE MATERIALIZED VIEW with a column list (name the columns in its query)",
        ));
    }
    let no_data = matches!(&view.options, CreateTableOptions::With(options)
        if options.iter().any(|o| matches!(o, SqlOption::Ident(n)
            if n.to_string() == crate::parse::postgres::MATVIEW_WITH_NO_DATA)));
    let query = view.query.to_string();
    let create = if no_data {
        format!(
            "CREATE TABLE {} AS SELECT * FROM ({query}) LIMIT 0",
            view.name
        )
    } else {
        format!("CREATE TABLE {} AS {query}", view.name)
    };
    let types: Vec<serde_json::Value> = view_query
        .types
        .iter()
        .map(|t| {
            t.and_then(|t| crate::types::format_type(t.oid(), -1))
                .map_or(serde_json::Value::Null, serde_json::Value::from)
        })
        .collect();
    let queries = serde_json::json!({
        "query": query,
        "postgres": view_query.postgres,
        "populated": !no_data,
        "types": types,
    });
    Ok(vec![
        create,
        format!(
            "SELECT litescale_mark_matview({}, {})",
            string_literal(&last_part(&view.name)),
            string_literal(&queries.to_string())
        ),
    ])
}

/// A type's name as Postgres folds it; types live in the one schema, public.
fn type_name(name: &ObjectName) -> Result<String, RouterError> {
    crate::types::public_type_name(name)
        .ok_or_else(|| RouterError::unsupported(&format!("type {name} outside schema public")))
}

fn schema_statements(ast: Statement) -> Result<Vec<String>, RouterError> {
    match ast {
        Statement::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => {
            // One call of the shard's function per object, its name first.
            let calls = |function: &str, flags: &str| -> Vec<String> {
                names
                    .iter()
                    .map(|n| {
                        format!(
                            "SELECT {function}({}, {flags})",
                            string_literal(&last_part(n))
                        )
                    })
                    .collect()
            };
            let kind = match object_type {
                ObjectType::Table => "TABLE",
                ObjectType::Index => "INDEX",
                ObjectType::View => "VIEW",
                ObjectType::Sequence => return Ok(sequences::drop(&names, if_exists, cascade)),
                ObjectType::MaterializedView => {
                    return Ok(calls("litescale_drop_matview", &if_exists.to_string()));
                }
                ObjectType::Type => {
                    return names
                        .iter()
                        .map(|n| {
                            Ok(format!(
                                "SELECT litescale_drop_enum({}, {if_exists}, {cascade})",
                                string_literal(&type_name(n)?)
                            ))
                        })
                        .collect();
                }
                ObjectType::Schema => {
                    return Ok(calls(
                        "litescale_drop_schema",
                        &format!("{if_exists}, {cascade}"),
                    ));
                }
                other => return Err(RouterError::unsupported(&format!("DROP {other}"))),
            };
            let if_exists = if if_exists { " IF EXISTS" } else { "" };
            // A table other tables' foreign keys reference: Postgres refuses to drop it
            // (2BP01), or with CASCADE drops those foreign keys and keeps their rows. SQLite
            // would delete the rows their ON DELETE CASCADE reaches, so litescale refuses
            // that too, naming it. Tables dropped together may reference each other.
            let dropped: Vec<String> = names.iter().map(last_part).collect();
            let mut out = Vec::new();
            if object_type == ObjectType::Table {
                out.extend(dropped.iter().map(|table| {
                    if cascade {
                        fail_if_referenced(
                            table,
                            &dropped,
                            "0A000",
                            &format!(
                                "DROP TABLE {table} CASCADE while foreign keys of other tables \
                                 reference it is not supported by litescale (their rows would \
                                 go with it); drop those foreign keys first"
                            ),
                        )
                    } else {
                        fail_if_referenced(
                            table,
                            &dropped,
                            "2BP01",
                            &format!(
                                "cannot drop table {table} because other objects depend on it"
                            ),
                        )
                    }
                }));
            }
            // SQLite drops one object per statement.
            out.extend(names.iter().map(|n| format!("DROP {kind}{if_exists} {n}")));
            Ok(out)
        }
        // The lock is the writer the write takes, held by the block until it ends.
        Statement::Lock(lock) => Ok(lock
            .tables
            .iter()
            .map(|t| format!("DELETE FROM {} WHERE 0", t.name))
            .collect()),
        Statement::DropFunction(drop) => Ok(super::objects::functions::drop(&drop)),
        Statement::DropDomain(drop) => Ok(vec![super::objects::domains::drop(&drop)]),
        Statement::Grant(grant) => Ok(vec![super::objects::grants::grant(&grant)?]),
        Statement::Revoke(revoke) => Ok(vec![super::objects::grants::revoke(&revoke)?]),
        // Its functions are built in: nothing for SQLite to do.
        Statement::CreateExtension(_) => Ok(Vec::new()),
        // What is not a table or a column (those: alter::comment) keeps its comment in the
        // shard (engine/objects/comments.rs).
        Statement::Comment {
            object_type,
            object_name,
            comment,
            ..
        } => {
            let name = match object_type {
                CommentObject::Type => type_name(&object_name)?,
                _ => last_part(&object_name),
            };
            Ok(vec![format!(
                "SELECT litescale_comment_on({}, {}, {})",
                string_literal(&object_type.to_string()),
                string_literal(&name),
                comment
                    .as_deref()
                    .map_or_else(|| "NULL".to_owned(), string_literal)
            )])
        }
        Statement::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => {
            let (name, owner) = match schema_name {
                SchemaName::Simple(name) => (last_part(&name), None),
                SchemaName::NamedAuthorization(name, owner) => (last_part(&name), Some(owner)),
                // `CREATE SCHEMA AUTHORIZATION role` names the schema after the role.
                SchemaName::UnnamedAuthorization(owner) => (owner.value.clone(), Some(owner)),
            };
            let owner = owner.map_or_else(|| "postgres".to_owned(), |o| o.value);
            Ok(vec![format!(
                "SELECT litescale_create_schema({}, {if_not_exists}, {})",
                string_literal(&name),
                string_literal(&owner)
            )])
        }
        Statement::CreateType {
            name,
            representation: Some(UserDefinedTypeRepresentation::Enum { labels }),
        } => {
            let arguments: Vec<String> = std::iter::once(type_name(&name)?)
                .chain(labels.iter().map(|l| l.value.clone()))
                .map(|a| string_literal(&a))
                .collect();
            Ok(vec![format!(
                "SELECT litescale_create_enum({})",
                arguments.join(", ")
            )])
        }
        Statement::AlterType(AlterType {
            name,
            operation: AlterTypeOperation::AddValue(add),
        }) => {
            let (neighbor, after) = match &add.position {
                None => ("NULL".to_owned(), false),
                Some(AlterTypeAddValuePosition::Before(n)) => (string_literal(&n.value), false),
                Some(AlterTypeAddValuePosition::After(n)) => (string_literal(&n.value), true),
            };
            Ok(vec![format!(
                "SELECT litescale_add_enum_value({}, {}, {}, {neighbor}, {after})",
                string_literal(&type_name(&name)?),
                string_literal(&add.value.value),
                add.if_not_exists
            )])
        }
        // CONCURRENTLY lets reads go on while Postgres refreshes; SQLite's readers see the
        // old rows until the refresh commits anyway.
        Statement::RefreshMaterializedView(refresh) => Ok(vec![format!(
            "SELECT litescale_refresh_matview({}, {})",
            string_literal(&last_part(&refresh.name)),
            refresh.with_data != Some(false)
        )]),
        // SQLite has no OR REPLACE: the view is dropped and made again, in one batch.
        Statement::CreateView(mut view) if view.or_replace => {
            view.or_replace = false;
            Ok(vec![
                format!("DROP VIEW IF EXISTS {}", view.name),
                Statement::CreateView(view).to_string(),
            ])
        }
        // RESTART IDENTITY starts the SERIAL columns' sequences again.
        Statement::Truncate(t) => {
            let names: Vec<String> = t.table_names.iter().map(|n| last_part(&n.name)).collect();
            let restart = matches!(t.identity, Some(TruncateIdentityOption::Restart));
            // CASCADE empties the tables that reference these too (shard engine/truncate.rs);
            // without it, Postgres refuses a table another's foreign key references (SQLite
            // would delete its rows, and with ON DELETE CASCADE theirs).
            let referencing = names.iter().map(|n| {
                if matches!(t.cascade, Some(CascadeOption::Cascade)) {
                    format!(
                        "SELECT litescale_truncate_referencing({}, {restart})",
                        string_literal(n)
                    )
                } else {
                    fail_if_referenced(
                        n,
                        &names,
                        "0A000",
                        "cannot truncate a table referenced in a foreign key constraint",
                    )
                }
            });
            let emptied = t.table_names.iter().flat_map(|n| {
                let restarted = restart.then(|| {
                    format!(
                        "SELECT litescale_restart_identity({})",
                        string_literal(&last_part(&n.name))
                    )
                });
                std::iter::once(format!("DELETE FROM {}", n.name)).chain(restarted)
            });
            // Tables truncated together may reference each other: their foreign keys hold
            // once all are empty.
            let several = names.len() > 1;
            let defer = |on: &str| several.then(|| format!("PRAGMA defer_foreign_keys = {on}"));
            // TRUNCATE's own privilege, not DELETE's, lets a role empty the tables (shard
            // engine/privileges).
            let truncating = names
                .iter()
                .map(|n| format!("SELECT litescale_truncating({})", string_literal(n)));
            Ok(truncating
                .chain(referencing)
                .collect::<Vec<_>>()
                .into_iter()
                .chain(defer("ON"))
                .chain(emptied)
                .chain(defer("OFF"))
                .collect())
        }
        Statement::CreateTable(mut create) => {
            // Storage parameters (fillfactor, ...) tune Postgres' heap; SQLite has none.
            create.table_options = CreateTableOptions::None;
            create.unlogged = false;
            let sequences = columns::number_from_sequences(&mut create)?;
            for column in &mut create.columns {
                columns::check_stored_type(column);
            }
            columns::parenthesize_defaults(&mut create);
            columns::enforce_lengths(&mut create);
            create
                .columns
                .iter_mut()
                .for_each(columns::quote_modified_array_type);
            let named_unique = named_unique_indexes(&mut create);
            // A sequence's owner must exist; the DEFAULT names the sequence only when used.
            Ok(std::iter::once(Statement::CreateTable(create).to_string())
                .chain(named_unique)
                .chain(sequences)
                .collect())
        }
        Statement::CreateSequence {
            temporary: false,
            if_not_exists,
            name,
            sequence_options,
        } => Ok(vec![sequences::create(
            &name,
            &sequence_options,
            if_not_exists,
        )?]),
        Statement::CreateIndex(mut index) => {
            if index.nulls_distinct == Some(false) {
                return Err(RouterError::unsupported(
                    "CREATE INDEX ... NULLS NOT DISTINCT",
                ));
            }
            // How Postgres builds and stores the index (CONCURRENTLY, USING gin, INCLUDE,
            // WITH, operator classes), not what it finds or enforces: SQLite has one kind.
            index.concurrently = false;
            index.using = None;
            index.include.clear();
            index.with.clear();
            for column in &mut index.columns {
                column.operator_class = None;
            }
            if index.name.is_none() {
                let name = default_index_name(&index.table_name, &index.columns);
                index.name = Some(ObjectName::from(vec![Ident::with_quote('"', name)]));
            }
            Ok(vec![Statement::CreateIndex(index).to_string()])
        }
        Statement::AlterTable(alter) => {
            let table = &alter.name;
            let mut out = Vec::with_capacity(alter.operations.len());
            for op in &alter.operations {
                match op {
                    Op::AddConstraint { constraint, .. } => {
                        out.push(constraint_as_index(table, constraint)?)
                    }
                    Op::AddColumn {
                        column_keyword,
                        if_not_exists,
                        column_def,
                        column_position,
                    } => {
                        let mut column_def = column_def.clone();
                        columns::add_type_rules(&mut column_def);
                        let op = Op::AddColumn {
                            column_keyword: *column_keyword,
                            if_not_exists: *if_not_exists,
                            column_def,
                            column_position: column_position.clone(),
                        };
                        out.push(format!("ALTER TABLE {table} {op}"))
                    }
                    // SQLite drops one column at a time, and knows no CASCADE: what depends
                    // on the column it refuses to leave behind, and its indexes are gone
                    // already (alter::settle).
                    Op::DropColumn { column_names, .. } => out.extend(
                        column_names
                            .iter()
                            .map(|c| format!("ALTER TABLE {table} DROP COLUMN {c}")),
                    ),
                    Op::RenameColumn { .. } => out.push(format!("ALTER TABLE {table} {op}")),
                    // A view too, which SQLite's ALTER TABLE does not rename (shard
                    // engine/objects/views.rs).
                    Op::RenameTable {
                        table_name: RenameTableNameKind::To(to) | RenameTableNameKind::As(to),
                    } => out.push(format!(
                        "SELECT litescale_rename_relation({}, {})",
                        string_literal(&last_part(table)),
                        string_literal(&last_part(to))
                    )),
                    other => {
                        return Err(RouterError::unsupported(&format!(
                            "ALTER TABLE {}",
                            leading_words(&other.to_string(), 3)
                        )));
                    }
                }
            }
            Ok(out)
        }
        other => Ok(vec![other.to_string()]),
    }
}

/// What `CREATE TABLE ... (LIKE t INCLUDING ...)` includes, as parse/postgres.rs carries it
/// in the table's options.
fn like_included(options: &CreateTableOptions) -> Vec<String> {
    let CreateTableOptions::With(options) = options else {
        return Vec::new();
    };
    options
        .iter()
        .filter_map(|o| {
            o.to_string()
                .strip_prefix(crate::parse::postgres::LIKE_INCLUDING)
                .map(str::to_owned)
        })
        .collect()
}

/// The indexes of the table a LIKE copies, made on the new table under the names Postgres
/// gives copies (`<table>_<columns>_idx`, `_key`, `_pkey`); the indexes of its own UNIQUE
/// and PRIMARY KEY columns come with the columns.
fn copied_indexes(
    definition: &TableDefinition,
    table: &ObjectName,
) -> Result<Vec<String>, RouterError> {
    const MARKS: [(&str, &str); 2] = [
        (" /* litescale: PRIMARY KEY */", "pkey"),
        (" /* litescale: UNIQUE */", "key"),
    ];
    let mut out = Vec::new();
    for (_, sql) in &definition.dependents {
        let Ok(mut parsed) =
            sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql)
        else {
            continue;
        };
        let Some(Statement::CreateIndex(mut index)) = parsed.pop() else {
            continue;
        };
        let mark = MARKS.iter().find(|(m, _)| sql.ends_with(m));
        let name = match mark {
            Some((_, "pkey")) => format!("{}_pkey", last_part(table)),
            Some(_) => default_index_name(table, &index.columns).replace("_idx", "_key"),
            None => default_index_name(table, &index.columns),
        };
        index.name = Some(ObjectName::from(vec![Ident::with_quote('"', name)]));
        index.table_name = table.clone();
        index.if_not_exists = false;
        out.push(format!(
            "{}{}",
            Statement::CreateIndex(index),
            mark.map_or("", |(m, _)| m)
        ));
    }
    Ok(out)
}

/// The name Postgres gives an index created without one: `<table>_<column>..._idx`, an
/// expression named by its function (`lower`) or `expr`, cut to 63 bytes.
fn default_index_name(table: &ObjectName, columns: &[IndexColumn]) -> String {
    let mut parts = vec![last_part(table)];
    parts.extend(columns.iter().map(|c| match &c.column.expr {
        Expr::Identifier(i) => i.value.clone(),
        Expr::CompoundIdentifier(parts) => {
            parts.last().map(|i| i.value.clone()).unwrap_or_default()
        }
        Expr::Function(f) => last_part(&f.name),
        _ => "expr".to_owned(),
    }));
    parts.push("idx".to_owned());
    let mut name = parts.join("_");
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// `ALTER TABLE t ADD PRIMARY KEY (c)` / `ADD UNIQUE (c)`: SQLite cannot add constraints to
/// a table, but a unique index enforces the same rule (the columns are NOT NULL already
/// where Postgres would require it for a primary key).
fn constraint_as_index(table: &ObjectName, c: &TableConstraint) -> Result<String, RouterError> {
    let (primary, name, columns) = match c {
        TableConstraint::PrimaryKey(pk) => (true, pk.name.as_ref(), &pk.columns),
        TableConstraint::Unique(u) => (false, u.name.as_ref(), &u.columns),
        other => {
            let text = other.to_string();
            return Err(RouterError::unsupported(&format!(
                "ALTER TABLE ADD {}",
                text.split_whitespace().next().unwrap_or("CONSTRAINT")
            )));
        }
    };
    let columns: Vec<String> = columns.iter().map(|c| c.column.expr.to_string()).collect();
    Ok(unique_index(table, primary, name, &columns, false))
}

/// The named UNIQUE constraints of a CREATE TABLE, the table's and its columns', taken out
/// of it as the unique indexes ADD CONSTRAINT makes: SQLite keeps no name for the index of
/// a UNIQUE in the table's text, so the catalog, and the errors that name the constraint,
/// would know it by Postgres' default name only. One NULLS NOT DISTINCT or DEFERRABLE
/// stays, for SQLite to refuse as before.
fn named_unique_indexes(create: &mut sqlparser::ast::CreateTable) -> Vec<String> {
    let plain = |u: &sqlparser::ast::UniqueConstraint| {
        u.characteristics.is_none()
            && !matches!(
                u.nulls_distinct,
                sqlparser::ast::NullsDistinctOption::NotDistinct
            )
    };
    let mut out = Vec::new();
    for column in &mut create.columns {
        column.options.retain(|o| match (&o.name, &o.option) {
            (Some(name), ColumnOption::Unique(u)) if plain(u) => {
                out.push(unique_index(
                    &create.name,
                    false,
                    Some(name),
                    &[column.name.to_string()],
                    create.if_not_exists,
                ));
                false
            }
            _ => true,
        });
    }
    create.constraints.retain(|c| match c {
        TableConstraint::Unique(u) if u.name.is_some() && plain(u) => {
            let columns: Vec<String> = u
                .columns
                .iter()
                .map(|c| c.column.expr.to_string())
                .collect();
            out.push(unique_index(
                &create.name,
                false,
                u.name.as_ref(),
                &columns,
                create.if_not_exists,
            ));
            false
        }
        _ => true,
    });
    out
}

/// The unique index that stands for a PRIMARY KEY or UNIQUE constraint: named as given or
/// as Postgres names one without a name.
fn unique_index(
    table: &ObjectName,
    primary: bool,
    name: Option<&Ident>,
    columns: &[String],
    if_not_exists: bool,
) -> String {
    let table_name = last_part(table);
    let index = match name {
        Some(n) => n.value.clone(),
        None if primary => format!("{table_name}_pkey"),
        None => format!("{table_name}_{}_key", columns.join("_")),
    };
    // The comment, which SQLite keeps in the index's text, tells the catalog the index is
    // this constraint's (shard catalog: pg_constraint, pg_index.indisprimary).
    let kind = if primary { "PRIMARY KEY" } else { "UNIQUE" };
    format!(
        "CREATE UNIQUE INDEX {}{} ON {table} ({}) /* litescale: {kind} */",
        if if_not_exists { "IF NOT EXISTS " } else { "" },
        Ident::with_quote('"', index),
        columns.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::test_support::{refused, sql};

    #[test]
    fn indexes_are_named_as_postgres_names_them_and_built_as_sqlite_builds_them() {
        assert_eq!(
            sql("create index on public.t (a, b)"),
            "CREATE INDEX \"t_a_b_idx\" ON t(a, b)"
        );
        assert_eq!(
            sql("create unique index on t (lower(s)) where s is not null"),
            "CREATE UNIQUE INDEX \"t_lower_idx\" ON t(lower(s)) WHERE s IS NOT NULL"
        );
        assert_eq!(
            sql(
                "create index concurrently if not exists i on t using gin (j jsonb_path_ops) include (k)"
            ),
            "CREATE INDEX IF NOT EXISTS i ON t(j)"
        );
        assert!(refused("create unique index on t (a) nulls not distinct").contains("NULLS"));
    }

    #[test]
    fn named_unique_constraints_are_unique_indexes_of_their_names() {
        assert_eq!(
            sql(
                "create table if not exists t (a text constraint t_a_unique unique, b text unique, \
                 c text, constraint t_bc unique (b, c), unique (c))"
            ),
            "CREATE TABLE IF NOT EXISTS t (a TEXT, b TEXT UNIQUE, c TEXT, UNIQUE (c));\n\
             CREATE UNIQUE INDEX IF NOT EXISTS \"t_a_unique\" ON t (a) /* litescale: UNIQUE */;\n\
             CREATE UNIQUE INDEX IF NOT EXISTS \"t_bc\" ON t (b, c) /* litescale: UNIQUE */"
        );
    }

    #[test]
    fn pgbench_init_statements_translate() {
        // Each table is first checked for other tables' foreign keys (2BP01), then dropped.
        let dropped = sql("drop table if exists a, b");
        assert!(
            dropped.starts_with("SELECT pg_raise('2BP01', 'cannot drop table a because")
                && dropped.ends_with(
                    "DROP TABLE IF EXISTS a;\nDROP TABLE IF EXISTS b;\n\
                     SELECT litescale_drop_owned_sequences('a');\n\
                     SELECT litescale_drop_owned_sequences('b')"
                ),
            "{dropped}"
        );
        assert!(
            sql("drop table a cascade")
                .starts_with("SELECT pg_raise('0A000', 'DROP TABLE a CASCADE")
        );
        // An unnamed CHECK gets Postgres' name, which SQLite's errors then carry.
        let checked =
            sql("create table ck (a int check (a > 0), b int, check (a < b), check (b > 1))");
        for name in ["\"ck_a_check\"", "\"ck_check\"", "\"ck_b_check\""] {
            assert!(
                checked.contains(&format!("CONSTRAINT {name} CHECK")),
                "{checked}"
            );
        }
        // Refused while another table references one of them; emptied together.
        let truncated = sql("truncate table a, b");
        assert!(
            truncated.starts_with(
                "SELECT litescale_truncating('a');\nSELECT litescale_truncating('b');\n\
                 SELECT pg_raise('0A000', 'cannot truncate a table referenced"
            ) && truncated.ends_with(
                "PRAGMA defer_foreign_keys = ON;\nDELETE FROM a;\nDELETE FROM b;\n\
                     PRAGMA defer_foreign_keys = OFF"
            ),
            "{truncated}"
        );
        assert!(sql("truncate a cascade").starts_with(
            "SELECT litescale_truncating('a');\n\
                 SELECT litescale_truncate_referencing('a', false)"
        ));
        assert_eq!(
            sql("create table t (a int not null, b char(84)) with (fillfactor=100)"),
            "CREATE TABLE t (a INT NOT NULL CHECK (pg_typecheck(a, 'INT')), b CHAR(84) CONSTRAINT \"litescale_length_char_84\" CHECK (length(b) <= 84))"
        );
        assert_eq!(
            sql("alter table t add column d date"),
            "ALTER TABLE t ADD COLUMN d DATE CHECK (pg_typecheck(d, 'DATE'))"
        );
        assert_eq!(
            sql("create table t (s text, b bytea)"),
            "CREATE TABLE t (s TEXT, b BYTEA)"
        );
        assert_eq!(
            sql("alter table pgbench_branches add primary key (bid)"),
            "CREATE UNIQUE INDEX \"pgbench_branches_pkey\" ON pgbench_branches (bid) /* litescale: PRIMARY KEY */"
        );
        assert!(plan("drop table a, b").unwrap()[0].batch);
    }
}
