//! The columns a query's FROM items offer, where the statement itself types them:
//! subqueries, VALUES, CTEs (a recursive one by its non-recursive branch, as Postgres types
//! it) and table functions; and the result columns of a query, `*` expanded where every
//! FROM item's columns are known (USING and NATURAL joins merge theirs).

use sqlparser::ast::{
    Expr, JoinConstraint, JoinOperator, Query, Select, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, TableAlias, TableFactor, TableWithJoins, Value, With,
};

use super::Inference;
use crate::infer::names::column_name;
use crate::infer::schema::{is_information_schema_view, last_part, relations};
use crate::infer::set_returning;
use crate::types::PgType;

/// A result column: its name, and its type where the statement settles it (`Unknown` for
/// an untyped literal, which the other branches of a set operation decide).
pub(super) type Column = (String, Option<PgType>);

/// A FROM item or CTE whose columns the statement types, by the name queries refer to it.
#[derive(Clone)]
pub(super) struct Source {
    pub(super) name: String,
    pub(super) columns: Vec<Column>,
}

/// A FROM item, as far as inference knows its columns.
#[derive(Clone)]
pub(super) enum FromItem {
    Typed(Source),
    /// A table: its columns are the schema's.
    Table(String),
    /// A function or construct whose columns inference does not know.
    Opaque,
}

impl<'a> Inference<'a> {
    /// The scope inside a query: its WITH clause's CTEs added to those already visible.
    pub(super) fn with_ctes(&self, with: Option<&With>) -> Inference<'a> {
        let mut scope = self.clone();
        for cte in with.iter().flat_map(|w| &w.cte_tables) {
            let body = cte.query.body.as_ref();
            // A recursive CTE's columns are its non-recursive branch's.
            let columns = match body {
                SetExpr::SetOperation { left, .. } if with.is_some_and(|w| w.recursive) => {
                    scope.with_ctes(cte.query.with.as_ref()).body_columns(left)
                }
                _ => scope.query_columns(&cte.query),
            };
            // A CTE whose columns cannot be counted is left to be read as a table.
            if let Some(columns) = columns {
                let source = aliased(cte.alias.name.value.clone(), columns, Some(&cte.alias));
                scope.ctes.insert(0, source);
            }
        }
        scope
    }

    /// The inference inside a SELECT: the columns of its FROM items known.
    pub(super) fn for_select(&self, select: &Select) -> Inference<'a> {
        let mut inner = self.clone();
        inner.from = self.items_of_from(select);
        inner.outer = [self.from.as_slice(), self.outer.as_slice()].concat();
        inner
    }

    /// A query's result columns; `None` where they cannot be counted (a `*` over a table
    /// whose columns the schema does not give).
    pub(super) fn query_columns(&self, query: &Query) -> Option<Vec<Column>> {
        let mut scope = self.with_ctes(query.with.as_ref());
        // Its own tables answer for a column before the enclosing query's.
        let mut tables = relations(query);
        for table in &self.tables {
            if !tables.contains(table) {
                tables.push(table.clone());
            }
        }
        scope.tables = tables;
        scope.body_columns(query.body.as_ref())
    }

    /// Whether a query's result types need the tables' columns: an expression the
    /// statement alone does not type, in its select list, a FROM subquery's or a CTE's, or
    /// a `*` over tables and typed FROM items together.
    pub(super) fn query_needs_schema(&self, query: &Query) -> bool {
        let scope = self.with_ctes(query.with.as_ref());
        let ctes = query.with.iter().flat_map(|w| &w.cte_tables);
        ctes.into_iter()
            .any(|cte| scope.query_needs_schema(&cte.query))
            || scope.body_needs_schema(query.body.as_ref())
    }

    fn body_needs_schema(&self, body: &SetExpr) -> bool {
        match body {
            SetExpr::Select(select) => {
                let inner = self.for_select(select);
                let has = |f: fn(&FromItem) -> bool| inner.from.iter().any(|(item, _)| f(item));
                let wildcard = select.projection.iter().any(|item| {
                    matches!(
                        item,
                        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
                    )
                });
                // The catalog views' columns are typed by their names (a pg_catalog view's
                // booleans are SQLite integers), which only the view's columns spell out.
                let catalog_view = |item: &FromItem| {
                    matches!(item, FromItem::Table(t)
                        if is_information_schema_view(t) || t.starts_with("pg_"))
                };
                inner.items_need_schema(&select.projection)
                    || (wildcard
                        && has(|item| matches!(item, FromItem::Table(_)))
                        && has(|item| matches!(item, FromItem::Typed(_))))
                    || (wildcard && has(catalog_view))
                    || derived_queries(select).any(|q| self.query_needs_schema(q))
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.body_needs_schema(left) || self.body_needs_schema(right)
            }
            SetExpr::Query(q) => self.query_needs_schema(q),
            // RETURNING's columns are its table's.
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) => true,
            _ => false,
        }
    }

    fn body_columns(&self, body: &SetExpr) -> Option<Vec<Column>> {
        match body {
            SetExpr::Select(select) => self.select_columns(select),
            SetExpr::Values(values) => {
                let rows: Vec<Vec<Column>> = values
                    .rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .enumerate()
                            .map(|(i, e)| (format!("column{}", i + 1), self.untyped(e)))
                            .collect()
                    })
                    .collect();
                rows.into_iter().reduce(|a, b| common_columns(&a, &b))
            }
            SetExpr::SetOperation { left, right, .. } => Some(common_columns(
                &self.body_columns(left)?,
                &self.body_columns(right)?,
            )),
            SetExpr::Query(q) => self.query_columns(q),
            // A data-modifying CTE's columns are its RETURNING list's.
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) => {
                self.items_columns(super::returning(s)?, None)
            }
            _ => None,
        }
    }

    fn select_columns(&self, select: &Select) -> Option<Vec<Column>> {
        self.for_select(select)
            .items_columns(&select.projection, Some(select))
    }

    /// The columns of a select list (or RETURNING list) typed in this scope; a `*` is
    /// expanded over `from`'s items, or the schema's columns of the statement's table.
    pub(super) fn items_columns(
        &self,
        items: &[SelectItem],
        from: Option<&Select>,
    ) -> Option<Vec<Column>> {
        let mut columns = Vec::new();
        for item in items {
            match item {
                SelectItem::UnnamedExpr(e) => columns.push((
                    column_name(e).unwrap_or_else(|| "?column?".to_owned()),
                    self.untyped(e),
                )),
                SelectItem::ExprWithAlias { expr, alias } => {
                    columns.push((alias.value.clone(), self.untyped(expr)))
                }
                SelectItem::Wildcard(_) => match from {
                    Some(select) => columns.extend(self.wildcard(select)?),
                    None => columns
                        .extend(self.item_columns(FromItem::Table(self.tables.first()?.clone()))?),
                },
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => {
                    let qualifier = last_part(n);
                    let (item, _) = self.from.iter().find(|(_, name)| *name == qualifier)?;
                    columns.extend(self.item_columns(item.clone())?)
                }
                _ => return None,
            }
        }
        Some(columns)
    }

    /// The type of a result column's expression, `Unknown` for an untyped literal.
    fn untyped(&self, e: &Expr) -> Option<PgType> {
        match e {
            Expr::Value(v) if matches!(v.value, Value::Null | Value::SingleQuotedString(_)) => {
                Some(PgType::Unknown)
            }
            _ => self.type_of(e),
        }
    }

    /// The columns `*` stands for in a SELECT whose FROM items this scope holds.
    fn wildcard(&self, select: &Select) -> Option<Vec<Column>> {
        // A nested join's own USING or NATURAL is not followed here.
        let nested = |factor: &TableFactor| matches!(factor, TableFactor::NestedJoin { .. });
        if select
            .from
            .iter()
            .any(|t| nested(&t.relation) || t.joins.iter().any(|j| nested(&j.relation)))
        {
            return None;
        }
        let mut columns: Vec<Column> = Vec::new();
        let mut joins = select.from.iter().flat_map(|t| {
            std::iter::once(None).chain(t.joins.iter().map(|j| Some(&j.join_operator)))
        });
        for (item, _) in &self.from {
            let right = self.item_columns(item.clone())?;
            let merged: Vec<String> = match joins.next().flatten().and_then(constraint) {
                Some(JoinConstraint::Using(names)) => names.iter().map(last_part).collect(),
                Some(JoinConstraint::Natural) => right
                    .iter()
                    .filter(|(n, _)| columns.iter().any(|(c, _)| c == n))
                    .map(|(n, _)| n.clone())
                    .collect(),
                _ => Vec::new(),
            };
            // The merged columns come first, then the rest of each side.
            let (mut shared, rest): (Vec<Column>, Vec<Column>) =
                columns.into_iter().partition(|(n, _)| merged.contains(n));
            shared.sort_by_key(|(n, _)| merged.iter().position(|m| m == n));
            shared.extend(rest);
            shared.extend(right.into_iter().filter(|(n, _)| !merged.contains(n)));
            columns = shared;
        }
        Some(columns)
    }

    fn item_columns(&self, item: FromItem) -> Option<Vec<Column>> {
        match item {
            FromItem::Typed(source) => Some(source.columns),
            FromItem::Table(table) => {
                let names = self.schema.columns(&table);
                (!names.is_empty()).then(|| {
                    names
                        .into_iter()
                        .map(|c| {
                            let t = self.table_column_type(&table, &c);
                            (c, t)
                        })
                        .collect()
                })
            }
            FromItem::Opaque => None,
        }
    }

    /// Each FROM item (joins flattened) with the name queries refer to it by.
    fn items_of_from(&self, select: &Select) -> Vec<(FromItem, String)> {
        let mut items = Vec::new();
        for factor in factors(select) {
            let item = match factor {
                // It reads the items before it as an enclosing query's.
                TableFactor::Derived { lateral: true, .. } => {
                    let mut scope = self.clone();
                    scope.outer = [self.from.as_slice(), self.outer.as_slice()].concat();
                    scope.from.clone_from(&items);
                    scope.item_of_factor(factor)
                }
                _ => self.item_of_factor(factor),
            };
            items.push(item);
        }
        items
    }

    fn item_of_factor(&self, factor: &TableFactor) -> (FromItem, String) {
        let item = match factor {
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let name = alias
                    .as_ref()
                    .map(|a| a.name.value.clone())
                    .unwrap_or_default();
                match self.query_columns(subquery) {
                    Some(columns) => FromItem::Typed(aliased(name, columns, alias.as_ref())),
                    None => FromItem::Opaque,
                }
            }
            // A set-returning call: its columns as Postgres names them, typed by its
            // arguments.
            factor if let Some(call) = set_returning::from_call(factor) => {
                let args: Vec<Option<PgType>> = call.args.iter().map(|a| self.type_of(a)).collect();
                let mut types = set_returning::column_types(&call.name, &args);
                match call.column_names() {
                    Some(Ok(names)) => {
                        types.resize(names.len(), None);
                        if call.with_ordinality
                            && let Some(last) = types.last_mut()
                        {
                            *last = Some(PgType::Int8);
                        }
                        FromItem::Typed(Source {
                            name: call.table(),
                            columns: names.into_iter().zip(types).collect(),
                        })
                    }
                    _ => FromItem::Opaque,
                }
            }
            // A function of one value in FROM: one column of its type, named after the
            // function or its alias (translate/set_returning.rs makes it a one-row table).
            factor if let Some(scalar) = set_returning::scalar_in_from(factor) => {
                FromItem::Typed(Source {
                    columns: vec![(scalar.column, self.type_of(&scalar.call))],
                    name: scalar.table,
                })
            }
            TableFactor::Table { name, alias, .. } => {
                let table = last_part(name);
                let called = alias
                    .as_ref()
                    .map_or(table.clone(), |a| a.name.value.clone());
                match self.ctes.iter().find(|cte| cte.name == table) {
                    Some(cte) => {
                        FromItem::Typed(aliased(called, cte.columns.clone(), alias.as_ref()))
                    }
                    None => FromItem::Table(table),
                }
            }
            _ => FromItem::Opaque,
        };
        let name = match &item {
            FromItem::Typed(source) => source.name.clone(),
            _ => factor_alias(factor),
        };
        (item, name)
    }
}

/// A SELECT's FROM items in order, joins and nested joins flattened.
fn factors(select: &Select) -> Vec<&TableFactor> {
    fn walk<'q>(table: &'q TableWithJoins, out: &mut Vec<&'q TableFactor>) {
        for factor in
            std::iter::once(&table.relation).chain(table.joins.iter().map(|j| &j.relation))
        {
            match factor {
                TableFactor::NestedJoin {
                    table_with_joins, ..
                } => walk(table_with_joins, out),
                _ => out.push(factor),
            }
        }
    }
    let mut out = Vec::new();
    for table in &select.from {
        walk(table, &mut out);
    }
    out
}

/// The subqueries among a SELECT's FROM items.
fn derived_queries(select: &Select) -> impl Iterator<Item = &Query> {
    factors(select)
        .into_iter()
        .filter_map(|factor| match factor {
            TableFactor::Derived { subquery, .. } => Some(subquery.as_ref()),
            _ => None,
        })
}

/// A FROM item's or CTE's columns under its name, renamed by the alias' column list; an
/// untyped literal's column is text there, as Postgres resolves it.
fn aliased(name: String, columns: Vec<Column>, alias: Option<&TableAlias>) -> Source {
    let renames = alias.map(|a| a.columns.as_slice()).unwrap_or_default();
    let columns = columns
        .into_iter()
        .enumerate()
        .map(|(i, (column, t))| {
            let column = renames.get(i).map_or(column, |r| r.name.value.clone());
            let t = t.map(|t| {
                if t == PgType::Unknown {
                    PgType::Text
                } else {
                    t
                }
            });
            (column, t)
        })
        .collect();
    Source { name, columns }
}

/// The name a table (or other FROM item) is referred to by: its alias, else its name.
fn factor_alias(factor: &TableFactor) -> String {
    match factor {
        TableFactor::Table {
            alias: Some(alias), ..
        }
        | TableFactor::Derived {
            alias: Some(alias), ..
        } => alias.name.value.clone(),
        // Postgres knows `information_schema.columns` as `columns`.
        TableFactor::Table { name, .. } => name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| i.value.clone())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    use JoinOperator as J;
    match op {
        J::Join(c)
        | J::Inner(c)
        | J::Left(c)
        | J::LeftOuter(c)
        | J::Right(c)
        | J::RightOuter(c)
        | J::FullOuter(c)
        | J::CrossJoin(c) => Some(c),
        _ => None,
    }
}

/// Column by column, the type two branches of a set operation (or two VALUES rows) resolve
/// to, named after the first.
fn common_columns(a: &[Column], b: &[Column]) -> Vec<Column> {
    a.iter()
        .zip(b)
        .map(|((name, x), (_, y))| (name.clone(), super::common_type(*x, *y)))
        .collect()
}
