//! A statement's expressions rewritten with the types of their own scope in view: each
//! expression, after its parts, is offered to the caller together with a [`Typing`] of
//! the innermost query and SELECT around it (its CTEs, its FROM items, the tables the
//! statement names), so the caller can make Postgres' implicit typing explicit.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Query, Select, Statement, VisitMut, VisitorMut};

use super::Inference;
use super::sources::FromItem;
use crate::infer::schema::{Schema, relations, tables};
use crate::types::PgType;

/// The types an expression's scope gives it.
pub(crate) struct Typing<'s, 'a> {
    scope: &'s Inference<'a>,
    order_key: bool,
}

impl Typing<'_, '_> {
    /// The expression is a key of its query's ORDER BY.
    pub(crate) fn is_order_key(&self) -> bool {
        self.order_key
    }

    /// The expression's Postgres type, where its scope settles it.
    pub(crate) fn type_of(&self, expr: &Expr) -> Option<PgType> {
        self.scope.type_of(expr)
    }

    /// The columns (name, type) of the FROM item `name` refers to in this SELECT: a
    /// subquery's, a CTE's or a table's; `None` when they are not known.
    pub(crate) fn columns_of(&self, name: &str) -> Option<Vec<(String, Option<PgType>)>> {
        let (item, _) = self.scope.from.iter().find(|(_, n)| n == name)?;
        match item {
            FromItem::Typed(source) => Some(source.columns.clone()),
            FromItem::Table(table) => {
                let columns = self.scope.schema.columns(table);
                (!columns.is_empty()).then(|| {
                    columns
                        .into_iter()
                        .map(|c| {
                            let t = self.scope.schema.column_type(table, &c);
                            (c, t)
                        })
                        .collect()
                })
            }
            FromItem::Opaque => None,
        }
    }

    /// A column's type as its table declares it (`numeric(12,4)`), for a reference to a
    /// table's column; `None` for anything else, or a column of a subquery or CTE.
    pub(crate) fn declaration(&self, expr: &Expr) -> Option<String> {
        let (qualifier, column) = match expr {
            Expr::Identifier(i) => (None, &i.value),
            Expr::CompoundIdentifier(parts) => (
                parts.len().checked_sub(2).map(|i| parts[i].value.as_str()),
                &parts.last()?.value,
            ),
            Expr::Nested(inner) => return self.declaration(inner),
            _ => return None,
        };
        if self.scope.source_column(qualifier, column).is_some() {
            return None;
        }
        let named = self.scope.from.iter().find_map(|(item, name)| match item {
            FromItem::Table(table) if qualifier == Some(name.as_str()) => Some(table),
            _ => None,
        });
        match named {
            Some(table) => self.scope.schema.declared_type(table, column),
            None => self
                .scope
                .tables
                .iter()
                .find_map(|t| self.scope.schema.declared_type(t, column)),
        }
    }
}

/// Offers each expression of `ast`, bottom-up, to `rewrite` with its scope's typing, and
/// puts what `rewrite` answers in its place.
pub(crate) fn rewrite_typed(
    ast: &mut Statement,
    schema: &dyn Schema,
    rewrite: impl FnMut(&Expr, &Typing) -> Option<Expr>,
) {
    let root = Inference::root(schema, tables(ast), Vec::new());
    let mut visitor = Scoped {
        scopes: vec![root],
        order_keys: Vec::new(),
        rewrite,
    };
    let _ = ast.visit(&mut visitor);
}

struct Scoped<'a, F> {
    /// The scopes the walk is inside, innermost last.
    scopes: Vec<Inference<'a>>,
    /// The ORDER BY keys of the queries the walk is inside (where they are in the tree).
    order_keys: Vec<*const Expr>,
    rewrite: F,
}

impl<'a, F> Scoped<'a, F> {
    fn innermost(&self) -> &Inference<'a> {
        // The root scope is never popped.
        &self.scopes[self.scopes.len() - 1]
    }
}

impl<F: FnMut(&Expr, &Typing) -> Option<Expr>> VisitorMut for Scoped<'_, F> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let outer = self.innermost();
        let mut scope = outer.with_ctes(query.with.as_ref());
        // Its own tables answer for a column before the enclosing query's.
        let mut own = relations(&*query);
        let enclosing: Vec<String> = outer
            .tables
            .iter()
            .filter(|t| !own.contains(t))
            .cloned()
            .collect();
        own.extend(enclosing);
        scope.tables = own;
        self.scopes.push(scope);
        if let Some(sqlparser::ast::OrderByKind::Expressions(keys)) =
            query.order_by.as_ref().map(|o| &o.kind)
        {
            self.order_keys
                .extend(keys.iter().map(|k| &k.expr as *const Expr));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        let scope = self.innermost().for_select(select);
        self.scopes.push(scope);
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, _: &mut Select) -> ControlFlow<()> {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let typing = Typing {
            // The root scope is never popped.
            scope: &self.scopes[self.scopes.len() - 1],
            order_key: self.order_keys.contains(&(expr as *const Expr)),
        };
        if let Some(replacement) = (self.rewrite)(expr, &typing) {
            *expr = replacement;
        }
        ControlFlow::Continue(())
    }
}
