//! The types of a planned statement's parameters and result columns, as the proxy asks
//! for them when it describes a prepared statement, and the table whose rows its command
//! tag counts (the rest of [`PlannedStatement`] is in `plan/statement.rs`).

use sqlparser::ast::Statement;

use super::inference;
use super::schema::{Schema, foreign_key_tables, last_part, tables};
use crate::plan::session::SessionContext;
use crate::plan::statement::{PlannedStatement, StatementKind};
use crate::types::PgType;

impl PlannedStatement {
    /// The table a CREATE TABLE ... AS, SELECT INTO or CREATE MATERIALIZED VIEW fills with
    /// its query's rows, whose count Postgres' command tag reports (`SELECT n`); not one
    /// made WITH NO DATA, nor an IF NOT EXISTS that may have found it made.
    pub fn filled_table(&self) -> Option<String> {
        use super::schema::last_part;
        match &self.ast {
            Some(Statement::CreateTable(create))
                if create.query.is_some() && !create.if_not_exists =>
            {
                Some(last_part(&create.name))
            }
            Some(Statement::CreateView(view))
                if view.materialized
                    && !matches!(&view.options, sqlparser::ast::CreateTableOptions::With(o)
                        if o.iter().any(|o| o.to_string() == crate::parse::postgres::MATVIEW_WITH_NO_DATA)) =>
            {
                Some(last_part(&view.name))
            }
            _ => None,
        }
    }

    /// Types of `$1..$param_count` as far as the statement determines them, else `Unknown`.
    pub fn param_types(&self, schema: &dyn Schema) -> Vec<PgType> {
        match &self.ast {
            Some(ast) => inference::param_types(ast, self.param_count, schema),
            // A signal's only parameter is the pid.
            None if matches!(self.kind, StatementKind::SignalBackend { .. }) => {
                vec![PgType::Int4; self.param_count]
            }
            // One bigint key, or two integer keys.
            None => match &self.kind {
                StatementKind::AdvisoryLock(call) => {
                    let key = if call.key.len() == 1 {
                        PgType::Int8
                    } else {
                        PgType::Int4
                    };
                    vec![key; self.param_count]
                }
                StatementKind::Sleep { .. } => vec![PgType::Float8; self.param_count],
                StatementKind::Notify { .. } | StatementKind::Set { .. } => {
                    vec![PgType::Text; self.param_count]
                }
                _ => Vec::new(),
            },
        }
    }

    /// For each result column, the type its expression determines (a column, a literal, a
    /// cast, arithmetic, an aggregate), or `None` when only its values can tell. Empty when
    /// the projection cannot be matched to the result columns (e.g. `*`).
    pub fn projection_types(&self, schema: &dyn Schema, params: &[PgType]) -> Vec<Option<PgType>> {
        match &self.ast {
            Some(ast) => inference::projection_types(ast, schema, params),
            None => Vec::new(),
        }
    }

    /// Whether the result columns' types need the tables' columns: an expression over
    /// columns (`lag(salary)`, `a + b`) whose type the statement alone does not settle. A
    /// plain column is typed by SQLite's declaration of it.
    pub fn result_types_need_schema(&self) -> bool {
        self.ast
            .as_ref()
            .is_some_and(|ast| !tables(ast).is_empty() && inference::projection_needs_schema(ast))
    }

    /// Whether the result column `name` of an INSERT's, UPDATE's or DELETE's RETURNING list
    /// is its table's column of that name (`RETURNING *` or `RETURNING name`), whose
    /// declared type it then has.
    pub fn returns_table_column(&self, name: &str) -> bool {
        use sqlparser::ast::{Expr, SelectItem};
        self.ast
            .as_ref()
            .and_then(inference::returning)
            .is_some_and(|items| {
                items.iter().any(|item| match item {
                    SelectItem::Wildcard(_) => true,
                    SelectItem::UnnamedExpr(Expr::Identifier(i)) => i.value == name,
                    _ => false,
                })
            })
    }

    /// The parsed statement as text: what identifies it to a cache of plans made from it.
    pub fn ast_text(&self) -> &str {
        self.ast_text.get_or_init(|| {
            self.ast
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        })
    }

    /// Tables the statement names, so the caller can look their columns up for [`Schema`].
    pub fn tables(&self) -> Vec<String> {
        self.ast.as_ref().map(tables).unwrap_or_default()
    }

    /// [`Self::tables`] and, where the search path names schemas other than public, each
    /// unqualified one as it would be in each of them (`app.t`): whichever has columns is
    /// the one the name means ([`crate::plan_with_schema`]).
    pub fn tables_in(&self, ctx: &SessionContext) -> Vec<String> {
        let mut named = self.tables();
        if !ctx.searches_other_schemas() {
            return named;
        }
        // The tables a foreign key references, and those a DROP drops, are looked up too.
        if let Some(ast) = &self.ast {
            let mut ast = ast.clone();
            named.extend(foreign_key_tables(&mut ast).iter().map(|t| last_part(t)));
            if let Statement::Drop { names, .. } = &ast {
                named.extend(names.iter().map(last_part));
            }
        }
        let candidates: Vec<String> = named
            .iter()
            .filter(|t| !t.contains('.'))
            .flat_map(|t| {
                ctx.search_path
                    .iter()
                    .filter(|s| *s != "public")
                    .map(move |s| format!("{s}.{t}"))
            })
            .collect();
        named.into_iter().chain(candidates).collect()
    }
}
