//! A query string through the rooms in turn: cut into statements (`parse/`), each
//! parsed, classified and checked (`classify/`), then translated (`translate/`).

use std::ops::ControlFlow;
use std::sync::OnceLock;

use sqlparser::ast::{
    CastKind, DataType, Expr, ObjectName, SetExpr, Statement, TableObject, Value,
    visit_expressions_mut,
};

use crate::classify::{
    advisory_locks, functions_called, internal, kind, notify, parameters, set_config, signals,
    sleep, temporary,
};
use crate::infer::schema::{NoSchema, Schema, last_part};
use crate::parse::by_hand::owner::{is_owner_change, owner_change};
use crate::parse::by_hand::sequence::{alter_sequence, is_alter_sequence};
use crate::parse::by_hand::set_constraints::{is_set_constraints, set_constraints};
use crate::parse::{by_hand::vacuum::vacuum, copy, lexical, postgres, split};
use crate::plan::hint::Hint;
use crate::plan::session::SessionContext;
use crate::plan::statement::{PlannedStatement, StatementKind};
use crate::translate::modifying_with::{self, Returned};
use crate::{RouterError, plan_in, translate};

pub(crate) fn plan_pieces(
    sql: &str,
    ctx: &SessionContext,
) -> Result<Vec<PlannedStatement>, RouterError> {
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
                    needs_schema: false,
                    modifying_ctes: Vec::new(),
                    param_count: 0,
                    hint: None,
                    notices: Vec::new(),
                    ast,
                    ast_text: OnceLock::new(),
                });
            }
            Some("VACUUM") => planned.push(vacuum(&piece)?),
            // MOVE is FETCH without the rows.
            Some(word @ ("FETCH" | "MOVE")) => {
                let (normalized, _) = lexical::normalize(&piece)?;
                let rest = normalized
                    .trim_start()
                    .get(word.len()..)
                    .unwrap_or_default();
                for ast in postgres::parse(&format!("FETCH {}", with_direction(rest)))? {
                    let mut p = plan_statement(ast, ctx)?;
                    if let StatementKind::Fetch { rows, .. } = &mut p.kind {
                        *rows = word == "FETCH";
                    }
                    planned.push(p);
                }
            }
            Some("SET") if is_set_constraints(&piece) => planned.push(set_constraints(&piece)?),
            Some("ALTER") if is_owner_change(&piece) => planned.push(owner_change(&piece, ctx)?),
            Some("ALTER") if is_alter_sequence(&piece) => {
                let alter = alter_sequence(&piece)?;
                planned.push(PlannedStatement::hand_parsed(
                    "ALTER SEQUENCE",
                    vec![translate::objects::sequences::alter(
                        &alter.name,
                        &alter.options,
                        alter.restart,
                        alter.if_exists,
                    )?],
                    true,
                ));
            }
            Some(word @ ("ATTACH" | "DETACH" | "PRAGMA")) => {
                return Err(RouterError::forbidden(&format!(
                    "{word} reaches SQLite files and settings outside your database"
                )));
            }
            _ => {
                let (normalized, notices) = lexical::normalize(&piece)?;
                for ast in postgres::parse(&normalized)? {
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

fn plan_statement(
    mut ast: Statement,
    ctx: &SessionContext,
) -> Result<PlannedStatement, RouterError> {
    translate::objects::schemas::qualify(&mut ast);
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
    if let Statement::Declare { stmts, .. } = &ast {
        return declare_cursor(stmts, ctx);
    }
    // Lone calls the proxy answers itself, not SQLite: a signal to another session, an
    // advisory lock (locks belong to sessions), pg_sleep (a wait a cancel can end).
    let called = functions_called(&ast);
    let answered_by_proxy = signals::classify(&ast, &called, ctx)
        .or_else(|| advisory_locks::classify(&ast, &called))
        .or_else(|| sleep::classify(&ast, &called))
        .or_else(|| notify::classify(&ast, &called));
    if let Some(kind) = answered_by_proxy {
        let kind = kind?;
        let param_count = kind.highest_param();
        return Ok(PlannedStatement::outside_sqlite(kind, param_count));
    }
    if let Some(setting) = set_config::classify(&ast) {
        // A session setting: the proxy keeps it.
        let setting = setting?;
        let param_count = setting.highest_param();
        return Ok(PlannedStatement::outside_sqlite(setting, param_count));
    }
    let kind = kind::classify(&ast, &called)?;
    temporary::refuse(&ast)?;
    internal::refuse(&ast)?;
    if matches!(
        kind,
        StatementKind::CreateDatabase { .. }
            | StatementKind::DropDatabase { .. }
            | StatementKind::Prepare { .. }
            | StatementKind::Listen(_)
            | StatementKind::Unlisten(_)
            | StatementKind::Notify { .. }
            | StatementKind::Execute { .. }
    ) {
        // Runs on the storage directory, or in the proxy, not in SQLite.
        return Ok(PlannedStatement::outside_sqlite(kind, 0));
    }
    if let Statement::CreateFunction(create) = &ast {
        let parse_body = |text: &str| -> Result<Vec<Statement>, RouterError> {
            let mut statements = Vec::new();
            for piece in split::split(text)? {
                statements.extend(postgres::parse(&lexical::normalize(&piece)?.0)?);
            }
            Ok(statements)
        };
        let sqlite_sql = translate::objects::functions::create(create, parse_body, |body| {
            let planned = plan_statement(body, ctx)?;
            if planned.kind != StatementKind::Read || planned.sqlite_sql.is_empty() {
                return Err(RouterError::unsupported(
                    "a SQL function whose body is planned with its tables' columns",
                ));
            }
            Ok(planned.sqlite_sql)
        })?;
        return Ok(PlannedStatement {
            sqlite_sql,
            batch: true,
            ast: Some(ast),
            ..PlannedStatement::outside_sqlite(kind, 0)
        });
    }
    let param_count = parameters::rewrite_placeholders(&mut ast)?;
    let modifying = modifying_with::modifying_ctes(&ast);
    if !modifying.is_empty() {
        modifying_with::check(&ast, param_count)?;
        return Ok(PlannedStatement {
            modifying_ctes: modifying
                .into_iter()
                .map(|statement| plan_statement(statement, ctx))
                .collect::<Result<_, _>>()?,
            ast: Some(ast),
            ..PlannedStatement::outside_sqlite(kind, 0)
        });
    }
    let translated = match translate::translate(ast.clone(), ctx, &NoSchema) {
        Ok(translated) => translated,
        // `pg_typeof(x)` is refused until x's type is known: the plan made with the
        // columns' types before the statement runs answers or refuses it.
        Err(e) if translate::awaits_column_types(&e) => translate::Translated::deferred(),
        Err(e) => return Err(e),
    };
    Ok(PlannedStatement {
        kind,
        sqlite_sql: translated.sql,
        batch: translated.batch,
        needs_schema: translated.needs_schema,
        modifying_ctes: Vec::new(),
        param_count,
        hint: None,
        notices: Vec::new(),
        ast: Some(ast),
        ast_text: OnceLock::new(),
    })
}

/// What follows FETCH or MOVE, with the direction Postgres takes for a lone cursor name
/// (`FETCH c`: NEXT), which sqlparser needs spelled out.
fn with_direction(rest: &str) -> String {
    let name = rest.trim().trim_end_matches(';').trim();
    if !name.is_empty() && !name.contains(char::is_whitespace) {
        format!("NEXT FROM {name}")
    } else {
        rest.trim().to_owned()
    }
}

/// `DECLARE name CURSOR [WITH HOLD] FOR query`: the query planned as a statement of its
/// own, whose rows the proxy keeps for FETCH. SCROLL, BINARY and cursors that lock rows
/// are refused (0A000).
fn declare_cursor(
    stmts: &[sqlparser::ast::Declare],
    ctx: &SessionContext,
) -> Result<PlannedStatement, RouterError> {
    let [declare] = stmts else {
        return Err(RouterError::syntax(
            "syntax error: DECLARE takes one cursor".to_owned(),
        ));
    };
    let (Some(query), Some(sqlparser::ast::DeclareType::Cursor)) =
        (&declare.for_query, &declare.declare_type)
    else {
        return Err(RouterError::syntax(
            "syntax error: DECLARE name CURSOR FOR query".to_owned(),
        ));
    };
    if declare.scroll == Some(true) {
        return Err(RouterError::unsupported(
            "DECLARE ... SCROLL CURSOR (a cursor moves forward only)",
        ));
    }
    if declare.binary == Some(true) {
        return Err(RouterError::unsupported("DECLARE ... BINARY CURSOR"));
    }
    let inner = plan_statement(Statement::Query(query.clone()), ctx)?;
    if inner.kind != StatementKind::Read {
        return Err(RouterError::unsupported(
            "DECLARE CURSOR of a query that locks or writes rows",
        ));
    }
    let param_count = inner.param_count;
    Ok(PlannedStatement::outside_sqlite(
        StatementKind::DeclareCursor {
            name: declare
                .names
                .first()
                .map(|n| n.value.clone())
                .unwrap_or_default(),
            hold: declare.hold == Some(true),
            query: Box::new(inner),
        },
        param_count,
    ))
}

/// An INSERT without a column list whose VALUES rows give fewer values than its table has
/// columns, planned again with the first columns named. Postgres fills the others with
/// their defaults, as SQLite does for the columns an INSERT leaves out; SQLite refuses the
/// short rows themselves, so the caller asks here once it has, with the table's columns.
/// `None` for any other statement (and where the schema does not know the table).
pub fn insert_naming_columns(
    planned: &PlannedStatement,
    schema: &dyn Schema,
    ctx: &SessionContext,
) -> Option<Result<PlannedStatement, RouterError>> {
    let Some(Statement::Insert(insert)) = &planned.ast else {
        return None;
    };
    let TableObject::TableName(table) = &insert.table else {
        return None;
    };
    let Some(SetExpr::Values(values)) = insert.source.as_ref().map(|q| q.body.as_ref()) else {
        return None;
    };
    let columns = schema.columns(&last_part(table));
    let width = values.rows.iter().map(|row| row.len()).max()?;
    if !insert.columns.is_empty() || width >= columns.len() {
        return None;
    }
    let mut named = insert.clone();
    named.columns = columns[..width]
        .iter()
        .map(|c| ObjectName::from(vec![sqlparser::ast::Ident::with_quote('"', c)]))
        .collect();
    let ast = Statement::Insert(named);
    Some(translated_again(planned, ast, schema, ctx))
}

/// A statement whose translation depends on its columns' types
/// ([`PlannedStatement::needs_schema`]) planned again with them. The caller asks before
/// running it, with the columns of [`PlannedStatement::tables`].
pub fn plan_with_schema(
    planned: &PlannedStatement,
    schema: &dyn Schema,
    ctx: &SessionContext,
) -> Result<PlannedStatement, RouterError> {
    let resolves_names = ctx.searches_other_schemas();
    let Some(ast) = planned
        .ast
        .as_ref()
        .filter(|_| planned.needs_schema || resolves_names)
    else {
        return Ok(planned.clone());
    };
    // The translation walks the statement as deeply as planning did: the same stack.
    crate::parse::depth::protect_callbacks();
    let stack = crate::parse::depth::stack_for(ast.to_string().len());
    stacker::maybe_grow(stack, stack, || {
        translated_again(planned, ast.clone(), schema, ctx)
    })
}

/// A statement with data-modifying CTEs ([`PlannedStatement::modifying_ctes`]), once they
/// have run: it reads the rows each returned from the parameters `?1`, `?2`, ..., bound in
/// order, row by row.
pub fn plan_reading_returned(
    planned: &PlannedStatement,
    returned: &[Returned],
    ctx: &SessionContext,
) -> Result<PlannedStatement, RouterError> {
    let Some(ast) = &planned.ast else {
        return Ok(planned.clone());
    };
    let reading = modifying_with::reading_returned(ast, returned);
    Ok(PlannedStatement {
        param_count: returned.iter().map(|r| r.rows * r.columns.len()).sum(),
        modifying_ctes: Vec::new(),
        ..translated_again(planned, reading, &NoSchema, ctx)?
    })
}

fn translated_again(
    planned: &PlannedStatement,
    ast: Statement,
    schema: &dyn Schema,
    ctx: &SessionContext,
) -> Result<PlannedStatement, RouterError> {
    let mut ast = ast;
    if ctx.searches_other_schemas() {
        translate::objects::schemas::resolve(&mut ast, &ctx.search_path, schema);
    }
    translate::translate(ast.clone(), ctx, schema).map(|translated| PlannedStatement {
        sqlite_sql: translated.sql,
        batch: translated.batch,
        needs_schema: false,
        ast: Some(ast),
        ast_text: OnceLock::new(),
        ..planned.clone()
    })
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::test_support::one;

    #[test]
    fn splits_several_statements_and_empty_input() {
        assert_eq!(plan("select 1; select 2;").unwrap().len(), 2);
        assert!(plan("").unwrap().is_empty());
        assert!(plan(" ; ").unwrap().is_empty());
    }

    #[test]
    fn unquoted_identifiers_fold_to_lower_case() {
        assert_eq!(
            one("SELECT ID, \"Name\" FROM Users WHERE X = 'ABC'").sqlite_sql,
            "SELECT id, \"Name\" FROM users WHERE x = 'ABC'"
        );
    }

    #[test]
    fn a_short_insert_names_the_columns_its_values_fill() {
        struct Deliveries;
        impl crate::Schema for Deliveries {
            fn column_type(&self, _: &str, _: &str) -> Option<crate::PgType> {
                None
            }
            fn columns(&self, table: &str) -> Vec<String> {
                match table {
                    "deliveries" => vec!["sku".into(), "qty".into()],
                    _ => vec![],
                }
            }
        }
        let ctx = crate::SessionContext::default();
        let named = |sql: &str| {
            super::insert_naming_columns(&one(sql), &Deliveries, &ctx)
                .map(|p| p.unwrap().sqlite_sql)
        };
        assert_eq!(
            named("insert into deliveries values ('u'), ('v') returning *").as_deref(),
            Some(
                "INSERT INTO deliveries (\"sku\") VALUES (pg_assign('deliveries', 'sku', 'u')), (pg_assign('deliveries', 'sku', 'v')) RETURNING *"
            )
        );
        for whole in [
            "insert into deliveries values ('u', 1)",
            "insert into deliveries (qty) values (1)",
            "insert into other values (1)",
            "insert into deliveries select 'u'",
        ] {
            assert_eq!(named(whole), None, "{whole}");
        }
    }
}

// SQL's PREPARE and EXECUTE: the text of a prepared statement with an EXECUTE's arguments
// in place of its parameters, each cast to the type PREPARE declared for it, which then
// plans as any statement does.

/// `statement` (a PREPARE's, `$1`...) with `arguments` (EXECUTE's, as SQL) in its
/// parameters' places, as SQL; 42601 when their numbers differ.
pub fn bind_prepared(
    name: &str,
    statement: &str,
    parameter_types: &[String],
    arguments: &[String],
) -> Result<String, RouterError> {
    let mut parsed = postgres::parse(statement)?;
    let [ast] = parsed.as_mut_slice() else {
        return Err(RouterError {
            sqlstate: "42601",
            message: format!("prepared statement \"{name}\" is not one statement"),
        });
    };
    let expected = parameter_types.len().max(highest_parameter(ast));
    if expected != arguments.len() {
        return Err(RouterError {
            sqlstate: "42601",
            message: format!(
                "wrong number of parameters for prepared statement \"{name}\" (expected {expected}, got {})",
                arguments.len()
            ),
        });
    }
    let mut values = Vec::with_capacity(arguments.len());
    for (i, argument) in arguments.iter().enumerate() {
        let value = expression(argument)?;
        values.push(match parameter_types.get(i).map(|t| data_type(t)) {
            Some(data_type) => Expr::Cast {
                kind: CastKind::DoubleColon,
                expr: Box::new(Expr::Nested(Box::new(value))),
                data_type: data_type?,
                format: None,
            },
            None => value,
        });
    }
    let _ = visit_expressions_mut(ast, |e| {
        if let Expr::Value(v) = e
            && let Value::Placeholder(p) = &v.value
            && let Some(value) = p
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| values.get(n.wrapping_sub(1)))
        {
            *e = value.clone();
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(ast.to_string())
}

fn highest_parameter(ast: &sqlparser::ast::Statement) -> usize {
    let mut highest = 0;
    let _ = sqlparser::ast::visit_expressions(ast, |e| {
        if let Expr::Value(v) = e
            && let Value::Placeholder(p) = &v.value
            && let Some(n) = p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok())
        {
            highest = highest.max(n);
        }
        ControlFlow::<()>::Continue(())
    });
    highest
}

fn parser(text: &str) -> Result<sqlparser::parser::Parser<'static>, RouterError> {
    sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(text)
        .map_err(|e| RouterError {
            sqlstate: "42601",
            message: e.to_string(),
        })
}

fn expression(text: &str) -> Result<Expr, RouterError> {
    parser(text)?.parse_expr().map_err(|e| RouterError {
        sqlstate: "42601",
        message: e.to_string(),
    })
}

fn data_type(text: &str) -> Result<DataType, RouterError> {
    parser(text)?.parse_data_type().map_err(|e| RouterError {
        sqlstate: "42601",
        message: e.to_string(),
    })
}

#[cfg(test)]
mod prepared_tests {
    use super::bind_prepared;

    #[test]
    fn arguments_take_their_parameters_places_cast_as_declared() {
        assert_eq!(
            bind_prepared(
                "p",
                "SELECT oid FROM pg_enum WHERE enumtypid = $1 AND enumlabel <> $2",
                &["oid".into()],
                &["'16390'".into(), "'x'".into()],
            )
            .unwrap(),
            "SELECT oid FROM pg_enum WHERE enumtypid = ('16390')::oid AND enumlabel <> 'x'"
        );
        assert_eq!(
            bind_prepared("p", "SELECT $1", &[], &[])
                .unwrap_err()
                .sqlstate,
            "42601"
        );
    }
}
