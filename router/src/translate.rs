//! PostgreSQL SQL → SQLite SQL, on sqlparser's AST. Each rewrite keeps Postgres' meaning;
//! what cannot be kept is refused with 0A000 rather than run differently.

use std::ops::ControlFlow;

use sqlparser::ast::{
    CastKind, ColumnOption, CreateTableOptions, DataType, Expr, Ident, ObjectName, ObjectType,
    Statement, TableConstraint, Value, VisitMut, visit_expressions_mut,
};

use crate::RouterError;

/// The SQLite text of a statement, and whether it is several SQLite statements (a batch)
/// that must run together, atomically, without parameters.
pub(crate) struct Translated {
    pub sql: String,
    pub batch: bool,
}

fn single(sql: String) -> Translated {
    Translated { sql, batch: false }
}

fn batch(statements: Vec<String>) -> Translated {
    if statements.len() == 1 {
        return single(statements.into_iter().next().unwrap_or_default());
    }
    Translated {
        sql: statements.join(";\n"),
        batch: true,
    }
}

fn unsupported(what: &str) -> RouterError {
    RouterError {
        sqlstate: "0A000",
        message: format!("{what} is not supported by litescale"),
    }
}

pub(crate) fn translate(
    mut ast: Statement,
    ctx: &crate::SessionContext,
) -> Result<Translated, RouterError> {
    name_result_columns(&mut ast);
    unqualify_catalog_names(&mut ast);
    let _ = ast.visit(&mut RegclassOutput);
    let _ = ast.visit(&mut TableFunctionsAsSubqueries);
    let _ = ast.visit(&mut DerivedColumnAliases);
    let _ = ast.visit(&mut PostgresNullOrder);
    let _ = ast.visit(&mut SchemaWithoutInternals);
    let _ = ast.visit(&mut SetReturningFunctions);
    crate::functions::rewrite(&mut ast, ctx)?;
    rewrite_casts(&mut ast)?;
    disambiguate_upsert_select(&mut ast);
    match ast {
        Statement::Drop {
            object_type,
            if_exists,
            names,
            ..
        } => {
            let kind = match object_type {
                ObjectType::Table => "TABLE",
                ObjectType::Index => "INDEX",
                ObjectType::View => "VIEW",
                other => return Err(unsupported(&format!("DROP {other}"))),
            };
            let if_exists = if if_exists { " IF EXISTS" } else { "" };
            // SQLite drops one object per statement; CASCADE has no SQLite meaning
            // beyond what dropping already does (SQLite keeps no dependent objects).
            Ok(batch(
                names
                    .iter()
                    .map(|n| format!("DROP {kind}{if_exists} {n}"))
                    .collect(),
            ))
        }
        Statement::Truncate(t) => Ok(batch(
            t.table_names
                .iter()
                .map(|n| format!("DELETE FROM {}", n.name))
                .collect(),
        )),
        Statement::CreateTable(mut create) => {
            // Storage parameters (fillfactor, ...) tune Postgres' heap; SQLite has none.
            create.table_options = CreateTableOptions::None;
            create.unlogged = false;
            for column in &mut create.columns {
                check_stored_type(column);
            }
            rewrite_identity_columns(&mut create)?;
            parenthesize_defaults(&mut create);
            enforce_lengths(&mut create);
            Ok(single(Statement::CreateTable(create).to_string()))
        }
        Statement::AlterTable(alter) => {
            let table = &alter.name;
            let mut out = Vec::with_capacity(alter.operations.len());
            for op in &alter.operations {
                use sqlparser::ast::AlterTableOperation as Op;
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
                        check_stored_type(&mut column_def);
                        let op = Op::AddColumn {
                            column_keyword: *column_keyword,
                            if_not_exists: *if_not_exists,
                            column_def,
                            column_position: column_position.clone(),
                        };
                        out.push(format!("ALTER TABLE {table} {op}"))
                    }
                    Op::DropColumn { .. } | Op::RenameColumn { .. } | Op::RenameTable { .. } => {
                        out.push(format!("ALTER TABLE {table} {op}"))
                    }
                    other => {
                        let text = other.to_string();
                        let words: Vec<&str> = text.split_whitespace().take(3).collect();
                        return Err(unsupported(&format!("ALTER TABLE {}", words.join(" "))));
                    }
                }
            }
            Ok(batch(out))
        }
        other => Ok(single(other.to_string())),
    }
}

/// Gives unnamed result columns the names Postgres gives them (`count`, `?column?`),
/// where SQLite would name them after the expression's text.
fn name_result_columns(ast: &mut Statement) {
    use sqlparser::ast::{Ident, SelectItem, SetExpr};
    let Statement::Query(q) = ast else {
        return;
    };
    let SetExpr::Select(select) = q.body.as_mut() else {
        return;
    };
    for item in &mut select.projection {
        if let SelectItem::UnnamedExpr(e) = item
            && !matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
        {
            let name = column_name(e).unwrap_or_else(|| "?column?".to_owned());
            *item = SelectItem::ExprWithAlias {
                expr: e.clone(),
                alias: Ident::with_quote('"', name),
            };
        }
    }
}

/// Postgres' name for a result column (its FigureColname): a column's name, a function's
/// name, a cast's inner name or type name, `case`; `None` for `?column?`.
fn column_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        Expr::Function(f) => f
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| i.value.to_ascii_lowercase()),
        Expr::Cast {
            expr, data_type, ..
        } => column_name(expr)
            .or_else(|| crate::types::from_data_type(data_type).map(|t| t.name().to_owned())),
        Expr::Nested(inner) => column_name(inner),
        Expr::Case { .. } => Some("case".to_owned()),
        Expr::Position { .. } => Some("position".to_owned()),
        Expr::Substring { .. } => Some("substring".to_owned()),
        Expr::Exists { .. } => Some("exists".to_owned()),
        Expr::Value(v) if matches!(v.value, Value::Boolean(_)) => Some("bool".to_owned()),
        _ => None,
    }
}

/// `ALTER TABLE t ADD PRIMARY KEY (c)` / `ADD UNIQUE (c)`: SQLite cannot add constraints to
/// a table, but a unique index enforces the same rule (the columns are NOT NULL already
/// where Postgres would require it for a primary key).
fn constraint_as_index(table: &ObjectName, c: &TableConstraint) -> Result<String, RouterError> {
    let (suffix, name, columns) = match c {
        TableConstraint::PrimaryKey(pk) => ("pkey", pk.name.as_ref(), &pk.columns),
        TableConstraint::Unique(u) => ("key", u.name.as_ref(), &u.columns),
        other => {
            let text = other.to_string();
            return Err(unsupported(&format!(
                "ALTER TABLE ADD {}",
                text.split_whitespace().next().unwrap_or("CONSTRAINT")
            )));
        }
    };
    let cols: Vec<String> = columns.iter().map(|c| c.column.expr.to_string()).collect();
    let table_name = table
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())
        .unwrap_or_default();
    let index = match name {
        Some(n) => n.value.clone(),
        None if suffix == "pkey" => format!("{table_name}_pkey"),
        None => format!("{table_name}_{}_key", cols.join("_")),
    };
    Ok(format!(
        "CREATE UNIQUE INDEX \"{index}\" ON {table} ({})",
        cols.join(", ")
    ))
}

fn is_serial(t: &DataType) -> bool {
    match t {
        DataType::Custom(name, _) => {
            let n = name.to_string().to_ascii_lowercase();
            matches!(
                n.as_str(),
                "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
            )
        }
        _ => false,
    }
}

/// SERIAL and GENERATED ... AS IDENTITY primary keys become SQLite's rowid alias
/// (`INTEGER PRIMARY KEY`), which numbers new rows itself.
fn rewrite_identity_columns(create: &mut sqlparser::ast::CreateTable) -> Result<(), RouterError> {
    let table_pk: Vec<String> = create
        .constraints
        .iter()
        .filter_map(|c| match c {
            TableConstraint::PrimaryKey(pk) if pk.columns.len() == 1 => {
                Some(pk.columns[0].column.expr.to_string().to_ascii_lowercase())
            }
            _ => None,
        })
        .collect();
    for col in &mut create.columns {
        let identity = col
            .options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::Generated { .. }));
        if !is_serial(&col.data_type) && !identity {
            continue;
        }
        let inline_pk = col
            .options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)));
        if !inline_pk && !table_pk.contains(&col.name.value.to_ascii_lowercase()) {
            return Err(unsupported(&format!(
                "SERIAL or IDENTITY column \"{}\" that is not the table's single-column primary key",
                col.name.value
            )));
        }
        col.data_type = DataType::Integer(None);
        col.options
            .retain(|o| !matches!(o.option, ColumnOption::Generated { .. }));
    }
    Ok(())
}

/// `pg_catalog.pg_class` and `public.t` name the catalog views and tables of the one SQLite
/// schema; function names lose the `pg_catalog.` prefix too.
fn unqualify_catalog_names(ast: &mut Statement) {
    use sqlparser::ast::visit_relations_mut;
    let strip = |name: &mut ObjectName| {
        if name.0.len() == 2
            && let Some(first) = name.0[0].as_ident()
            && matches!(first.value.as_str(), "pg_catalog" | "public")
        {
            name.0.remove(0);
        }
    };
    let _ = visit_relations_mut(ast, |name| {
        strip(name);
        ControlFlow::<()>::Continue(())
    });
    let _ = visit_expressions_mut(ast, |e| {
        match e {
            Expr::Function(f) => strip(&mut f.name),
            // pg_catalog.pg_class.relname
            Expr::CompoundIdentifier(parts)
                if parts.len() == 3
                    && matches!(parts[0].value.as_str(), "pg_catalog" | "public") =>
            {
                parts.remove(0);
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

fn strip_nesting(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => strip_nesting(inner),
        other => other,
    }
}

/// `SELECT conrelid::regclass`: a regclass in a select list is shown as the relation's
/// name, while elsewhere (`WHERE c.oid = 't'::regclass`) it is compared as an OID.
struct RegclassOutput;

fn is_regclass(t: &DataType) -> bool {
    match t {
        DataType::Regclass => true,
        DataType::Custom(name, _) => {
            name.to_string()
                .to_ascii_lowercase()
                .trim_start_matches("pg_catalog.")
                == "regclass"
        }
        _ => false,
    }
}

/// The relation name of a non-literal `x::regclass` (also under a further cast to text).
fn regclass_name(e: &Expr) -> Option<Expr> {
    match e {
        Expr::Cast {
            expr, data_type, ..
        } if is_regclass(data_type) && !matches!(expr.as_ref(), Expr::Value(_)) => Some(
            crate::functions::lookup(crate::functions::Lookup::NameByOid, (**expr).clone()),
        ),
        Expr::Cast { expr, .. } => regclass_name(expr),
        _ => None,
    }
}

impl sqlparser::ast::VisitorMut for RegclassOutput {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        use sqlparser::ast::{SelectItem, SetExpr};
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                    && let Some(name) = regclass_name(e)
                {
                    *e = name;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Postgres sorts NULL after every value (NULLS LAST ascending, NULLS FIRST descending);
/// SQLite sorts it first. Every ORDER BY without NULLS FIRST/LAST gets Postgres' order.
struct PostgresNullOrder;

impl sqlparser::ast::VisitorMut for PostgresNullOrder {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        if let Some(order) = query.order_by.as_mut()
            && let sqlparser::ast::OrderByKind::Expressions(exprs) = &mut order.kind
        {
            for o in exprs {
                if o.options.nulls_first.is_none() {
                    let desc = matches!(o.options.sort, Some(sqlparser::ast::OrderBySort::Desc));
                    o.options.nulls_first = Some(desc);
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// `sqlite_master` / `sqlite_schema` read through the catalog's `ls_sqlite_schema` view,
/// which leaves litescale's own tables out; the old name stays as the alias, so
/// `sqlite_master.name` still resolves.
struct SchemaWithoutInternals;

impl sqlparser::ast::VisitorMut for SchemaWithoutInternals {
    type Break = ();

    fn pre_visit_table_factor(
        &mut self,
        factor: &mut sqlparser::ast::TableFactor,
    ) -> ControlFlow<()> {
        let sqlparser::ast::TableFactor::Table { name, alias, .. } = factor else {
            return ControlFlow::Continue(());
        };
        let parts: Vec<&str> = name
            .0
            .iter()
            .filter_map(|p| p.as_ident().map(|i| i.value.as_str()))
            .collect();
        let schema_table = match parts.as_slice() {
            [table] | [_, table] if parts.len() == 1 || parts[0].eq_ignore_ascii_case("main") => {
                table
            }
            _ => return ControlFlow::Continue(()),
        };
        if !["sqlite_master", "sqlite_schema"]
            .iter()
            .any(|t| t.eq_ignore_ascii_case(schema_table))
        {
            return ControlFlow::Continue(());
        }
        let original = Ident::new(*schema_table);
        *name = ObjectName::from(vec![Ident::new("ls_sqlite_schema")]);
        alias.get_or_insert(sqlparser::ast::TableAlias {
            explicit: true,
            name: original,
            columns: vec![],
            at: None,
        });
        ControlFlow::Continue(())
    }
}

/// `(VALUES ...) AS t(a, b)` / `(SELECT ...) AS t(a, b)`: SQLite takes no column list on a
/// table alias, so the subquery's own columns are named instead.
struct DerivedColumnAliases;

impl sqlparser::ast::VisitorMut for DerivedColumnAliases {
    type Break = ();

    fn post_visit_table_factor(
        &mut self,
        factor: &mut sqlparser::ast::TableFactor,
    ) -> ControlFlow<()> {
        use sqlparser::ast::{Ident, SelectItem, SetExpr, TableFactor};
        let TableFactor::Derived {
            subquery,
            alias: Some(alias),
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        if alias.columns.is_empty() {
            return ControlFlow::Continue(());
        }
        let names: Vec<Ident> = alias.columns.iter().map(|c| c.name.clone()).collect();
        match subquery.body.as_mut() {
            SetExpr::Values(_) => {
                let columns: Vec<String> = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| format!("column{} AS {n}", i + 1))
                    .collect();
                // A template whose inner VALUES is then replaced by the original (which may
                // hold parameters the parser would not read back).
                let sql = format!(
                    "SELECT {} FROM (VALUES (0)) AS ls_values",
                    columns.join(", ")
                );
                let Some(mut q) = crate::parse_query(&sql) else {
                    return ControlFlow::Continue(());
                };
                let SetExpr::Select(outer) = q.body.as_mut() else {
                    return ControlFlow::Continue(());
                };
                let Some(TableFactor::Derived {
                    subquery: inner, ..
                }) = outer.from.first_mut().map(|t| &mut t.relation)
                else {
                    return ControlFlow::Continue(());
                };
                *inner = subquery.clone();
                *subquery = q;
            }
            SetExpr::Select(select) => {
                for (item, name) in select.projection.iter_mut().zip(&names) {
                    if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } =
                        item
                    {
                        *item = SelectItem::ExprWithAlias {
                            expr: e.clone(),
                            alias: name.clone(),
                        };
                    }
                }
            }
            _ => return ControlFlow::Continue(()),
        }
        alias.columns.clear();
        ControlFlow::Continue(())
    }
}

/// Table functions in FROM whose Postgres columns SQLite names differently or lacks:
/// `generate_series(a, b) AS s` names its column `s` (SQLite's is `value`), and
/// `pg_partition_ancestors(r)` is just `r` (there are no partitions). Each call becomes a
/// subquery with Postgres' column names; WITH ORDINALITY adds the row number.
struct TableFunctionsAsSubqueries;

impl sqlparser::ast::VisitorMut for TableFunctionsAsSubqueries {
    type Break = ();

    fn post_visit_table_factor(
        &mut self,
        factor: &mut sqlparser::ast::TableFactor,
    ) -> ControlFlow<()> {
        use sqlparser::ast::{TableAlias, TableFactor};
        let TableFactor::Table {
            name,
            alias,
            args: Some(args),
            with_ordinality,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let function = name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| i.value.to_ascii_lowercase())
            .unwrap_or_default();
        // Templates are parsed without the call's arguments, which are then put in as
        // expressions (a rendered `?n` parameter would not parse back).
        let (source, default_column) = match function.as_str() {
            "generate_series" => ("generate_series(0)", None),
            "pg_partition_ancestors" if args.args.len() == 1 => ("(SELECT 1)", Some("relid")),
            _ => return ControlFlow::Continue(()),
        };
        let table = alias
            .as_ref()
            .map_or_else(|| function.clone(), |a| a.name.value.clone());
        let quoted = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
        let columns: Vec<String> = alias
            .as_ref()
            .map(|a| a.columns.iter().map(|c| c.name.value.clone()).collect())
            .unwrap_or_default();
        let first = columns
            .first()
            .cloned()
            .unwrap_or_else(|| default_column.map_or_else(|| table.clone(), str::to_owned));
        let mut select = format!("0 AS {}", quoted(&first));
        if *with_ordinality {
            let ordinal = columns
                .get(1)
                .cloned()
                .unwrap_or_else(|| "ordinality".to_owned());
            select.push_str(&format!(", row_number() OVER () AS {}", quoted(&ordinal)));
        }
        let Some(mut subquery) = crate::parse_query(&format!("SELECT {select} FROM {source}"))
        else {
            return ControlFlow::Continue(());
        };
        if let sqlparser::ast::SetExpr::Select(s) = subquery.body.as_mut() {
            if function == "generate_series" {
                // SQLite's table function reads its column as `value`.
                if let Some(sqlparser::ast::SelectItem::ExprWithAlias { expr, .. }) =
                    s.projection.first_mut()
                {
                    *expr = Expr::Identifier(sqlparser::ast::Ident::new("value"));
                }
                if let Some(TableFactor::Table {
                    args: Some(series_args),
                    ..
                }) = s.from.first_mut().map(|t| &mut t.relation)
                {
                    series_args.args = args.args.clone();
                }
            } else if let (
                Some(sqlparser::ast::SelectItem::ExprWithAlias { expr, .. }),
                Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                    relation,
                ))),
            ) = (s.projection.first_mut(), args.args.first())
            {
                *expr = relation.clone();
            }
        }
        *factor = TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(TableAlias {
                explicit: true,
                name: sqlparser::ast::Ident::new(table),
                columns: vec![],
                at: None,
            }),
            sample: None,
        };
        ControlFlow::Continue(())
    }
}

/// The prefix of the CHECK constraints that enforce VARCHAR(n)/CHAR(n); the shard reports
/// their violation as Postgres does (22001 value too long).
pub const LENGTH_CHECK_PREFIX: &str = "litescale_length_";

/// SQLite ignores declared lengths; Postgres refuses a longer string. A named CHECK on
/// each VARCHAR(n) / CHAR(n) column keeps Postgres' rule.
fn enforce_lengths(create: &mut sqlparser::ast::CreateTable) {
    use sqlparser::ast::{CharacterLength, CheckConstraint, ColumnOptionDef, Ident};
    for col in &mut create.columns {
        let (kind, length) = match &col.data_type {
            DataType::Varchar(Some(CharacterLength::IntegerLength { length, .. }))
            | DataType::CharacterVarying(Some(CharacterLength::IntegerLength { length, .. })) => {
                ("varying", *length)
            }
            DataType::Char(Some(CharacterLength::IntegerLength { length, .. }))
            | DataType::Character(Some(CharacterLength::IntegerLength { length, .. })) => {
                ("char", *length)
            }
            _ => continue,
        };
        let check = format!("length({}) <= {length}", col.name);
        let Ok(expr) = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
            .try_with_sql(&check)
            .and_then(|mut p| p.parse_expr())
        else {
            continue;
        };
        col.options.push(ColumnOptionDef {
            name: Some(Ident::with_quote(
                '"',
                format!("{LENGTH_CHECK_PREFIX}{kind}_{length}"),
            )),
            option: ColumnOption::Check(CheckConstraint {
                name: None,
                expr: Box::new(expr),
                no_inherit: false,
                enforced: None,
            }),
        });
    }
}

/// SQLite stores any value in any column; Postgres refuses, at input, a value its type
/// does not hold (`'abc'` for an integer, month 13 in a date). A CHECK calling the shard's
/// `pg_typecheck` with the declared type keeps Postgres' rule on every write path. Text
/// types and bytea hold whatever SQLite stores, and need none; neither do SERIAL and
/// IDENTITY columns, which become rowid aliases (SQLite numbers them, with integers only).
fn check_stored_type(column: &mut sqlparser::ast::ColumnDef) {
    use crate::types::{PgType, from_data_type};
    use sqlparser::ast::{CheckConstraint, ColumnOptionDef};
    let identity = column
        .options
        .iter()
        .any(|o| matches!(o.option, ColumnOption::Generated { .. }));
    if identity || is_serial(&column.data_type) {
        return;
    }
    match from_data_type(&column.data_type) {
        None | Some(PgType::Text | PgType::Varchar | PgType::Bpchar | PgType::Bytea) => {}
        Some(_) => column.options.push(ColumnOptionDef {
            name: None,
            option: ColumnOption::Check(CheckConstraint {
                name: None,
                expr: Box::new(crate::functions::call(
                    "pg_typecheck",
                    vec![
                        Expr::Identifier(column.name.clone()),
                        Expr::value(Value::SingleQuotedString(column.data_type.to_string())),
                    ],
                )),
                no_inherit: false,
                enforced: None,
            }),
        }),
    }
}

/// `SELECT unnest(a), generate_subscripts(a, 1) FROM t`: set-returning functions in a
/// select list, which SQLite has no notion of. The select joins `json_each` over the
/// array, and each call reads the element (or subscript) of the joined row. Several
/// unnest calls advance together, as in Postgres, for arrays of one length.
struct SetReturningFunctions;

impl sqlparser::ast::VisitorMut for SetReturningFunctions {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        use sqlparser::ast::{SelectItem, SetExpr};
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let mut driver: Option<Expr> = None;
        for item in &mut select.projection {
            let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item
            else {
                continue;
            };
            // information_schema._pg_expandarray(a) yields (x, n): element and ordinal.
            let (call, field) = match e {
                Expr::CompoundFieldAccess { root, access_chain } => {
                    match (strip_nesting(root), access_chain.as_slice()) {
                        (
                            Expr::Function(f),
                            [sqlparser::ast::AccessExpr::Dot(Expr::Identifier(field))],
                        ) => (f.clone(), Some(field.value.clone())),
                        _ => continue,
                    }
                }
                Expr::Function(f) => (f.clone(), None),
                _ => continue,
            };
            let f = &call;
            let name = f
                .name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.to_ascii_lowercase())
                .unwrap_or_default();
            let sqlparser::ast::FunctionArguments::List(list) = &f.args else {
                continue;
            };
            let Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                array,
            ))) = list.args.first()
            else {
                continue;
            };
            let array = array.clone();
            let subscript = Expr::BinaryOp {
                left: Box::new(Expr::CompoundIdentifier(vec![
                    sqlparser::ast::Ident::new("ls_srf"),
                    sqlparser::ast::Ident::new("key"),
                ])),
                op: sqlparser::ast::BinaryOperator::Plus,
                right: Box::new(crate::functions::call(
                    "pg_array_lower",
                    vec![array.clone()],
                )),
            };
            let element =
                crate::functions::call("pg_array_get", vec![array.clone(), subscript.clone()]);
            let ordinal = Expr::BinaryOp {
                left: Box::new(Expr::CompoundIdentifier(vec![
                    sqlparser::ast::Ident::new("ls_srf"),
                    sqlparser::ast::Ident::new("key"),
                ])),
                op: sqlparser::ast::BinaryOperator::Plus,
                right: Box::new(Expr::value(Value::Number("1".into(), false))),
            };
            *e = match (name.as_str(), field.as_deref()) {
                ("unnest", None) => element,
                ("generate_subscripts", None) => Expr::Nested(Box::new(subscript)),
                // The composite stands for its element; `(keys).x` reads it back.
                ("_pg_expandarray", None | Some("x")) => element,
                ("_pg_expandarray", Some("n")) => Expr::Nested(Box::new(ordinal)),
                _ => continue,
            };
            driver.get_or_insert(array);
        }
        if let Some(array) = driver
            && let Some(mut q) =
                crate::parse_query("SELECT 1 FROM json_each(pg_array_json(0)) AS ls_srf")
            && let SetExpr::Select(inner) = q.body.as_mut()
        {
            if let Some(sqlparser::ast::TableFactor::Table {
                args: Some(each_args),
                ..
            }) = inner.from.first_mut().map(|t| &mut t.relation)
            {
                each_args.args = vec![sqlparser::ast::FunctionArg::Unnamed(
                    sqlparser::ast::FunctionArgExpr::Expr(crate::functions::call(
                        "pg_array_json",
                        vec![array],
                    )),
                )];
            }
            select.from.append(&mut inner.from);
        }
        ControlFlow::Continue(())
    }
}

/// SQLite takes only literals bare after DEFAULT; an expression (such as what `now()`
/// becomes) must be parenthesised.
fn parenthesize_defaults(create: &mut sqlparser::ast::CreateTable) {
    for col in &mut create.columns {
        for opt in &mut col.options {
            if let ColumnOption::Default(e) = &mut opt.option
                && !matches!(e, Expr::Value(_) | Expr::Nested(_))
            {
                *e = Expr::Nested(Box::new(e.clone()));
            }
        }
    }
}

/// The SQLite type a Postgres cast target converts to. SQLite's CAST follows type
/// affinity, so the target is the affinity's name.
fn sqlite_cast_target(t: &DataType) -> Option<DataType> {
    use crate::types::{PgType, from_data_type};
    Some(match from_data_type(t)? {
        PgType::Int2 | PgType::Int4 | PgType::Int8 => DataType::Integer(None),
        PgType::Float4 | PgType::Float8 => DataType::Real,
        PgType::Numeric => DataType::Numeric(sqlparser::ast::ExactNumberInfo::None),
        PgType::Bytea => DataType::Blob(None),
        PgType::Bool => return None,
        _ => DataType::Text,
    })
}

/// `x::type` → `CAST(x AS sqlite_type)`; `'true'::boolean` → `1`.
fn rewrite_casts(ast: &mut Statement) -> Result<(), RouterError> {
    let flow = visit_expressions_mut(ast, |expr| {
        let Expr::Cast {
            kind,
            expr: inner,
            data_type,
            ..
        } = expr
        else {
            return ControlFlow::Continue(());
        };
        match catalog_cast(data_type) {
            Some(CatalogCast::Integer) => {
                *kind = CastKind::Cast;
                *data_type = DataType::Integer(None);
                return ControlFlow::Continue(());
            }
            Some(CatalogCast::Text) => {
                *kind = CastKind::Cast;
                *data_type = DataType::Text;
                return ControlFlow::Continue(());
            }
            Some(CatalogCast::Regclass) => {
                // A relation name (possibly schema-qualified) → its OID; a number stays.
                let name = (**inner).clone();
                *expr = crate::functions::call(
                    "coalesce",
                    vec![
                        regclass_lookup(name.clone()),
                        Expr::Cast {
                            kind: CastKind::Cast,
                            expr: Box::new(name),
                            data_type: DataType::Integer(None),
                            format: None,
                        },
                    ],
                );
                return ControlFlow::Continue(());
            }
            None => {}
        }
        if let Some(target) = sqlite_cast_target(data_type) {
            *kind = CastKind::Cast;
            *data_type = target;
            return ControlFlow::Continue(());
        }
        if crate::types::from_data_type(data_type) == Some(crate::types::PgType::Bool) {
            let replacement = match inner.as_ref() {
                Expr::Value(v) => match &v.value {
                    Value::SingleQuotedString(s) => match crate::types::parse_bool(s) {
                        Some(b) => Expr::value(Value::Number((b as u8).to_string(), false)),
                        None => {
                            return ControlFlow::Break(RouterError {
                                sqlstate: "22P02",
                                message: format!("invalid input syntax for type boolean: \"{s}\""),
                            });
                        }
                    },
                    _ => bool_of(inner),
                },
                _ => bool_of(inner),
            };
            *expr = replacement;
            return ControlFlow::Continue(());
        }
        // A type SQLite has no name for (an unknown or composite type): refuse.
        ControlFlow::Break(unsupported(&format!("cast to {data_type}")))
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

enum CatalogCast {
    Integer,
    Text,
    Regclass,
}

/// Casts to Postgres' object-identifier types, which psql and drivers use on the catalog.
fn catalog_cast(t: &DataType) -> Option<CatalogCast> {
    match t {
        DataType::Regclass => Some(CatalogCast::Regclass),
        // Arrays are kept as Postgres' text form.
        DataType::Array(_) => Some(CatalogCast::Text),
        DataType::Custom(name, _) => match name
            .to_string()
            .to_ascii_lowercase()
            .trim_start_matches("pg_catalog.")
        {
            "regclass" => Some(CatalogCast::Regclass),
            "oid" | "regtype" | "regproc" | "regprocedure" | "regnamespace" | "regrole" | "xid"
            | "cid" | "int2vector" | "oidvector" => Some(CatalogCast::Integer),
            "name" | "char" | "\"char\"" => Some(CatalogCast::Text),
            _ => None,
        },
        _ => None,
    }
}

/// `(SELECT oid FROM pg_class WHERE relname = <name without schema and quotes>)`.
fn regclass_lookup(name: Expr) -> Expr {
    let text = |v: &str| Expr::value(Value::SingleQuotedString(v.to_owned()));
    let call = crate::functions::call;
    let unqualified = call(
        "replace",
        vec![
            call("replace", vec![name, text("public."), text("")]),
            text("\""),
            text(""),
        ],
    );
    crate::functions::lookup(crate::functions::Lookup::OidByName, unqualified)
}

/// A non-literal cast to boolean: numbers are true when non-zero, as in Postgres.
fn bool_of(inner: &Expr) -> Expr {
    Expr::Nested(Box::new(Expr::BinaryOp {
        left: Box::new(Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(inner.clone()),
            data_type: DataType::Integer(None),
            format: None,
        }),
        op: sqlparser::ast::BinaryOperator::NotEq,
        right: Box::new(Expr::value(Value::Number("0".to_owned(), false))),
    }))
}

/// SQLite reads `INSERT ... SELECT ... FROM t ON CONFLICT ...` as a join's ON clause
/// unless the SELECT has a WHERE (its documented parsing ambiguity); Postgres has no such
/// ambiguity, so the SELECT gets `WHERE true`.
fn disambiguate_upsert_select(ast: &mut Statement) {
    if let Statement::Insert(insert) = ast
        && insert.on.is_some()
        && let Some(source) = &mut insert.source
        && let sqlparser::ast::SetExpr::Select(select) = source.body.as_mut()
        && select.selection.is_none()
        && !select.from.is_empty()
    {
        select.selection = Some(Expr::Value(Value::Boolean(true).into()));
    }
}

#[cfg(test)]
mod tests {
    use crate::plan;

    #[test]
    fn an_upsert_from_a_select_gets_a_where_for_sqlite() {
        assert_eq!(
            sql(
                "insert into kv select i, 'v' from generate_series(1, 3) as g(i) on conflict do nothing"
            ),
            sql(
                "insert into kv select i, 'v' from generate_series(1, 3) as g(i) where true on conflict do nothing"
            )
        );
        assert!(!sql("insert into kv values (1, 'v') on conflict do nothing").contains("WHERE"));
    }

    fn sql(text: &str) -> String {
        plan(text).unwrap().remove(0).sqlite_sql
    }

    #[test]
    fn pgbench_init_statements_translate() {
        assert_eq!(
            sql("drop table if exists a, b"),
            "DROP TABLE IF EXISTS a;\nDROP TABLE IF EXISTS b"
        );
        assert_eq!(sql("truncate table a, b"), "DELETE FROM a;\nDELETE FROM b");
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
            "CREATE UNIQUE INDEX \"pgbench_branches_pkey\" ON pgbench_branches (bid)"
        );
        assert!(plan("drop table a, b").unwrap()[0].batch);
    }

    #[test]
    fn serial_primary_keys_become_rowid_aliases() {
        assert_eq!(
            sql("create table t (id serial primary key, n text)"),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT)"
        );
        assert_eq!(
            sql("create table t (id bigint generated always as identity, primary key (id))"),
            "CREATE TABLE t (id INTEGER, PRIMARY KEY (id))"
        );
        assert_eq!(
            plan("create table t (id serial, n text)")
                .unwrap_err()
                .sqlstate,
            "0A000"
        );
    }

    #[test]
    fn result_columns_get_postgres_names() {
        assert_eq!(
            sql(
                "select a, t.b, count(*), 1, x::int, '1'::int4, a + 1 as s, case when a then 1 end from t"
            ),
            "SELECT a, t.b, count(*) AS \"count\", 1 AS \"?column?\", CAST(x AS INTEGER) AS \"x\", \
             CAST('1' AS INTEGER) AS \"int4\", a + 1 AS s, CASE WHEN a THEN 1 END AS \"case\" FROM t"
        );
    }

    #[test]
    fn generate_series_columns_are_named_as_in_postgres() {
        assert_eq!(
            sql("select s from generate_series(1, 3) s"),
            "SELECT s FROM (SELECT value AS \"s\" FROM generate_series(1, 3)) AS s"
        );
        assert_eq!(
            sql("select * from generate_series(1, 3)"),
            "SELECT * FROM (SELECT value AS \"generate_series\" FROM generate_series(1, 3)) AS generate_series"
        );
    }

    #[test]
    fn set_returning_functions_become_a_json_each_join() {
        assert_eq!(
            sql(
                "select indexrelid, unnest(indkey) as attnum, generate_subscripts(indkey, 1) as ord from pg_index"
            ),
            "SELECT indexrelid, pg_array_get(indkey, ls_srf.key + pg_array_lower(indkey)) AS attnum, \
             (ls_srf.key + pg_array_lower(indkey)) AS ord FROM pg_index, json_each(pg_array_json(indkey)) AS ls_srf"
        );
    }

    #[test]
    fn rewrites_keep_parameters() {
        assert_eq!(
            sql("select g from generate_series(1, $1) g"),
            "SELECT g FROM (SELECT value AS \"g\" FROM generate_series(1, ?1)) AS g"
        );
        assert_eq!(
            sql("select unnest($1::text[]) as e"),
            "SELECT pg_array_get(CAST(?1 AS TEXT), ls_srf.key + pg_array_lower(CAST(?1 AS TEXT))) AS e \
             FROM json_each(pg_array_json(CAST(?1 AS TEXT))) AS ls_srf"
        );
        assert!(sql("select array(select a from t where b = $1)").contains("WHERE b = ?1"));
    }

    #[test]
    fn derived_table_column_lists_name_the_subquery_columns() {
        assert_eq!(
            sql("select p0 from (values (1, 'a'), (2, 'b')) as v(p0, p1)"),
            "SELECT p0 FROM (SELECT column1 AS p0, column2 AS p1 FROM (VALUES (1, 'a'), (2, 'b')) AS ls_values) AS v"
        );
        assert_eq!(
            sql("insert into t select p0 from (values ($1::int, 0)) as v(p0, n) order by n"),
            "INSERT INTO t SELECT p0 FROM (SELECT column1 AS p0, column2 AS n FROM (VALUES (CAST(?1 AS INTEGER), 0)) AS ls_values) AS v ORDER BY n NULLS LAST"
        );
        assert_eq!(
            sql("select x from (select a, b from t) as s(x, y)"),
            "SELECT x FROM (SELECT a AS x, b AS y FROM t) AS s"
        );
    }

    #[test]
    fn casts_use_sqlite_affinities() {
        assert_eq!(
            sql("select x::int, '1.5'::float8, 'a'::varchar(3), 't'::boolean"),
            "SELECT CAST(x AS INTEGER) AS \"x\", CAST('1.5' AS REAL) AS \"float8\", \
             CAST('a' AS TEXT) AS \"varchar\", 1 AS \"bool\""
        );
        assert_eq!(
            plan("select 'maybe'::boolean").unwrap_err().sqlstate,
            "22P02"
        );
    }
}
