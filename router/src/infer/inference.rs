//! Type inference from the statement text: the types of `$n` parameters (as Postgres infers
//! them from the columns they meet) and of result columns whose expression fixes a type.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArguments, InTarget, LimitClause, Query, SelectItem, SetExpr, Statement,
    TableObject, Value, visit_expressions,
};

use super::schema::{NoSchema, Schema, is_information_schema_view, last_part, tables};
use super::{catalog, json_arrays, temporal};
use crate::types::{self, PgType};

fn placeholder_index(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Value(v) => match &v.value {
            // Placeholders were rewritten to `?n` when the statement was planned.
            Value::Placeholder(p) => p[1..].parse::<usize>().ok().map(|n| n - 1),
            _ => None,
        },
        Expr::Nested(inner) => placeholder_index(inner),
        _ => None,
    }
}

mod scoped;
mod sources;

pub(crate) use scoped::{Typing, rewrite_typed};

use sources::{FromItem, Source};

#[derive(Clone)]
struct Inference<'a> {
    schema: &'a dyn Schema,
    tables: Vec<String>,
    types: Vec<PgType>,
    /// The CTEs in scope, innermost first.
    ctes: Vec<Source>,
    /// The FROM items of the SELECT being typed, by the names they are referred to by.
    from: Vec<(FromItem, String)>,
    /// The FROM items a correlated or LATERAL subquery reads from the queries around it
    /// (and, for LATERAL, from the items before it), innermost first.
    outer: Vec<(FromItem, String)>,
}

impl<'a> Inference<'a> {
    /// A scope with the schema's tables and the given parameter types, outside any query.
    fn root(schema: &'a dyn Schema, tables: Vec<String>, types: Vec<PgType>) -> Self {
        Inference {
            schema,
            tables,
            types,
            ctes: Vec::new(),
            from: Vec::new(),
            outer: Vec::new(),
        }
    }

    fn column(&self, column: &str) -> Option<PgType> {
        self.tables
            .iter()
            .find_map(|t| self.table_column_type(t, column))
    }

    /// A table's column's type: as the schema declares it, else as the catalog knows it.
    /// An information_schema view's columns have Postgres' domains, which SQLite's view
    /// cannot declare, so the catalog answers for them.
    fn table_column_type(&self, table: &str, column: &str) -> Option<PgType> {
        let from_catalog = || catalog::column_type(table, column);
        let from_schema = || self.schema.column_type(table, column);
        if is_information_schema_view(table) {
            from_catalog()
        } else if table.starts_with("pg_") {
            // A catalog view declares few of its columns' types (SQLite's view of a
            // computed column is untyped, or BLOB): the catalog's own say.
            from_catalog().or_else(from_schema)
        } else {
            from_schema().or_else(from_catalog)
        }
    }

    /// The type an expression has, from columns, parameter types known so far, literals,
    /// casts, operators and well-known functions; `None` when that does not settle it.
    fn type_of(&self, expr: &Expr) -> Option<PgType> {
        use sqlparser::ast::{BinaryOperator as B, UnaryOperator as U};
        match expr {
            Expr::Identifier(i) => self
                .source_column(None, &i.value)
                .unwrap_or_else(|| self.column(&i.value)),
            Expr::CompoundIdentifier(parts) => {
                let column = &parts.last()?.value;
                let qualifier = parts.len().checked_sub(2).map(|i| parts[i].value.as_str());
                self.source_column(qualifier, column)
                    .unwrap_or_else(|| self.column(column))
            }
            Expr::Nested(inner) => self.type_of(inner),
            Expr::Value(_) if placeholder_index(expr).is_some() => {
                let t = self.types.get(placeholder_index(expr)?)?;
                (*t != PgType::Unknown).then_some(*t)
            }
            Expr::Extract { .. } => Some(PgType::Numeric),
            Expr::Interval(_) => Some(PgType::Interval),
            Expr::AtTimeZone { timestamp, .. } => temporal::at_time_zone(self.type_of(timestamp)?),
            Expr::CompoundFieldAccess { root, access_chain } => {
                use sqlparser::ast::{AccessExpr, Subscript};
                match access_chain.last()? {
                    AccessExpr::Subscript(Subscript::Index { .. }) => self.type_of(root)?.element(),
                    AccessExpr::Subscript(Subscript::Slice { .. }) => self.type_of(root),
                    AccessExpr::Dot(_) => None,
                }
            }
            // Each side's type once: asking again per rule made deep chains exponential.
            Expr::BinaryOp { left, op, right } => {
                let (l, r) = (self.type_of(left), self.type_of(right));
                // An untyped literal beside a date or time reads as its type (`date - NULL`
                // is date - date, an integer).
                let (tl, tr) = match (is_untyped_literal(left), is_untyped_literal(right)) {
                    (true, false) => (r, r),
                    (false, true) => (l, l),
                    _ => (l, r),
                };
                temporal::operator(op, tl, tr)
                    .or_else(|| json_arrays::operator(op, l, r))
                    .or_else(|| match op {
                        // An untyped literal (`NULL + 1`, `'1'::int + '2'`) takes the other
                        // side's type.
                        B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => match (l, r) {
                            (_, Some(r)) if is_untyped_literal(left) => Some(r),
                            (Some(l), _) if is_untyped_literal(right) => Some(l),
                            (l, r) => wider_number(l?, r?),
                        },
                        B::StringConcat if l == Some(PgType::Bytea) || r == Some(PgType::Bytea) => {
                            Some(PgType::Bytea)
                        }
                        // With a side untyped it may be an array's `||`.
                        B::StringConcat => l.and(r).map(|_| PgType::Text),
                        // Integers' bits keep the integer type; a shift, the left side's.
                        B::BitwiseAnd | B::BitwiseOr | B::PGBitwiseXor => wider_number(l?, r?),
                        B::PGBitwiseShiftLeft | B::PGBitwiseShiftRight => l,
                        // `^` is double precision, numeric when a side is numeric.
                        B::PGExp => match (l?, r?) {
                            (PgType::Numeric, _) | (_, PgType::Numeric) => Some(PgType::Numeric),
                            _ => Some(PgType::Float8),
                        },
                        B::Eq
                        | B::NotEq
                        | B::Lt
                        | B::LtEq
                        | B::Gt
                        | B::GtEq
                        | B::And
                        | B::Or
                        | B::PGRegexMatch
                        | B::PGRegexIMatch
                        | B::PGRegexNotMatch
                        | B::PGRegexNotIMatch
                        | B::PGLikeMatch
                        | B::PGILikeMatch
                        | B::PGNotLikeMatch
                        | B::PGNotILikeMatch
                        | B::PGStartsWith => Some(PgType::Bool),
                        _ => None,
                    })
            }
            // A negative number is one constant: `-2147483648` is an int4.
            Expr::UnaryOp {
                op: U::Minus,
                expr: negated,
            } if matches!(negated.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..))) =>
            {
                let Expr::Value(v) = negated.as_ref() else {
                    return None;
                };
                let Value::Number(n, long) = &v.value else {
                    return None;
                };
                literal_type(&Expr::value(Value::Number(format!("-{n}"), *long)))
            }
            Expr::UnaryOp {
                op: U::Minus | U::Plus | U::BitwiseNot | U::PGAbs,
                expr,
            } => self.type_of(expr),
            Expr::UnaryOp {
                op: U::PGSquareRoot | U::PGCubeRoot,
                ..
            } => Some(PgType::Float8),
            Expr::UnaryOp { op: U::Not, .. } => Some(PgType::Bool),
            Expr::Position { .. } => Some(PgType::Int4),
            Expr::Ceil { expr, .. } | Expr::Floor { expr, .. } => {
                super::functions::result_type("ceil", self.type_of(expr), 1)
            }
            // A substring of bytea is bytea.
            Expr::Substring { expr, .. } if self.type_of(expr) == Some(PgType::Bytea) => {
                Some(PgType::Bytea)
            }
            Expr::Substring { .. } | Expr::Trim { .. } => Some(PgType::Text),
            Expr::Case {
                conditions,
                else_result,
                ..
            } => conditions
                .iter()
                .map(|c| &c.result)
                .chain(else_result.as_deref())
                .find_map(|e| self.type_of(e)),
            // A scalar subquery has the type of its one column.
            Expr::Subquery(q) => match self.query_columns(q)?.as_slice() {
                [(_, t)] => t.map(known),
                _ => None,
            },
            // ARRAY[[1, 2]] is int4[] as ARRAY[1, 2] is: arrays have no type per dimension.
            Expr::Array(array) => {
                let elements: Vec<&Expr> = array.elem.iter().collect();
                let element = self.common_type_of(&elements, common_type)?;
                if element.element().is_some() {
                    Some(element)
                } else {
                    PgType::array_of(element)
                }
            }
            Expr::Function(f) => {
                let name = last_part(&f.name).to_ascii_lowercase();
                if name == "array"
                    && let FunctionArguments::Subquery(q) = &f.args
                {
                    return PgType::array_of(self.type_of(&Expr::Subquery(q.clone()))?);
                }
                // Each argument's type once: asking again per rule made nested calls
                // exponential.
                let first = first_arg(f).and_then(|a| self.type_of(a));
                let second = nth_arg(f, 1).and_then(|a| self.type_of(a));
                if let Some(t) = json_arrays::function(&name, first, second)
                    .or_else(|| temporal::function(&name, first, second, kind_arg(f)))
                {
                    return Some(t);
                }
                if super::set_returning::output_names(&name, function_arity(f)).is_some() {
                    let args: Vec<Option<PgType>> = (0..function_arity(f))
                        .map(|i| nth_arg(f, i).and_then(|a| self.type_of(a)))
                        .collect();
                    return super::set_returning::column_types(&name, &args)
                        .first()
                        .copied()
                        .flatten();
                }
                // Ordered-set aggregates: one fraction or an array of them.
                let fractions = matches!(first_arg(f), Some(Expr::Array(_)))
                    || first.is_some_and(|t| t.element().is_some());
                match name.as_str() {
                    "percentile_cont" if fractions => Some(PgType::Float8Array),
                    "percentile_cont" => Some(PgType::Float8),
                    "percentile_disc" | "mode" if !f.within_group.is_empty() => {
                        let key = self.type_of(&f.within_group.first()?.expr)?;
                        if fractions {
                            PgType::array_of(key)
                        } else {
                            Some(key)
                        }
                    }
                    "array_agg" => PgType::array_of(first?),
                    "bool_and" | "bool_or" | "every" => Some(PgType::Bool),
                    "array_upper" | "array_length" => Some(PgType::Int4),
                    "count" | "nextval" | "setval" => Some(PgType::Int8),
                    // Postgres has no min/max of varchar or char: they are text's.
                    "min" | "max" => match first? {
                        PgType::Varchar | PgType::Bpchar => Some(PgType::Text),
                        other => Some(other),
                    },
                    // `abs(NULL)` resolves to float8's.
                    "abs" => match first_arg(f) {
                        Some(a) if is_untyped_literal(a) => Some(PgType::Float8),
                        _ => first,
                    },
                    "coalesce" | "greatest" | "least" => {
                        self.common_type_of(&args_of(f), common_datetime_type)
                    }
                    // The first argument's type; the second's when the first is untyped
                    // (`nullif(NULL, 1)` is int4).
                    "nullif" => match first_arg(f) {
                        Some(a) if is_untyped_literal(a) => second.or(first),
                        _ => first,
                    },
                    "string_agg" if first == Some(PgType::Bytea) => Some(PgType::Bytea),
                    // `(VALUES (x))` as a scalar subquery, which sqlparser reads as a call.
                    "values" if function_arity(f) == 1 => first,
                    "sum" => match first? {
                        PgType::Int2 | PgType::Int4 => Some(PgType::Int8),
                        PgType::Int8 | PgType::Numeric => Some(PgType::Numeric),
                        PgType::Float4 | PgType::Float8 => Some(PgType::Float8),
                        _ => None,
                    },
                    "avg" => match first? {
                        PgType::Float4 | PgType::Float8 => Some(PgType::Float8),
                        _ => Some(PgType::Numeric),
                    },
                    "length" | "char_length" | "character_length" | "octet_length" | "strpos"
                    | "pg_backend_pid" => Some(PgType::Int4),
                    "now"
                    | "current_timestamp"
                    | "transaction_timestamp"
                    | "statement_timestamp"
                    | "clock_timestamp" => Some(PgType::Timestamptz),
                    "localtimestamp" => Some(PgType::Timestamp),
                    "current_date" => Some(PgType::Date),
                    "random" => Some(PgType::Float8),
                    "version" | "current_database" | "current_catalog" | "current_user"
                    | "session_user" | "user" | "current_role" | "left" | "right" | "md5" => {
                        Some(PgType::Text)
                    }
                    "current_schema" => Some(PgType::Name),
                    "current_schemas" => Some(PgType::NameArray),
                    "pg_table_is_visible" => Some(PgType::Bool),
                    "lower" | "upper" | "trim" | "substr" | "substring" | "replace" | "concat" => {
                        Some(PgType::Text)
                    }
                    _ => super::functions::result_type(&name, first, function_arity(f)),
                }
            }
            other => literal_type(other),
        }
    }

    /// Whether a select list (or RETURNING list) has an expression (not a plain column)
    /// whose type only the tables' columns settle.
    fn items_need_schema(&self, items: &[SelectItem]) -> bool {
        items.iter().any(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                !matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
                    && self.type_of(e).is_none()
            }
            _ => false,
        })
    }

    /// The common type of expressions, which the typed ones (not NULL or a quoted string)
    /// decide (`coalesce(NULL, 1)` and `ARRAY[NULL, 1]` are int4's): unknown while one of
    /// those is; the first's when none is typed.
    fn common_type_of(
        &self,
        exprs: &[&Expr],
        common: fn(Option<PgType>, Option<PgType>) -> Option<PgType>,
    ) -> Option<PgType> {
        let mut typed = exprs.iter().filter(|e| !is_untyped_literal(e));
        let Some(first) = typed.next() else {
            return self.type_of(exprs.first()?);
        };
        let first = self.type_of(first)?;
        typed.try_fold(first, |t, e| common(Some(t), Some(self.type_of(e)?)))
    }

    /// The type of `column` in a FROM item the statement types (the one named `qualifier`,
    /// or any); `None` when no such item has the column, so the tables' are asked. A
    /// qualified column no FROM item of this select is named for is an enclosing query's.
    fn source_column(&self, qualifier: Option<&str>, column: &str) -> Option<Option<PgType>> {
        let typed = |items: &[(FromItem, String)]| {
            items
                .iter()
                .filter_map(|(item, _)| match item {
                    FromItem::Typed(source) => Some(source),
                    _ => None,
                })
                .filter(|source| qualifier.is_none_or(|q| q == source.name))
                .find_map(|source| source.columns.iter().find(|(name, _)| name == column))
                .map(|(_, t)| *t)
        };
        typed(&self.from).or_else(|| {
            let q = qualifier?;
            let own = self.from.iter().any(|(_, name)| name == q);
            if own { None } else { typed(&self.outer) }
        })
    }

    fn assign(&mut self, index: usize, t: Option<PgType>) {
        if let (Some(slot), Some(t)) = (self.types.get_mut(index), t)
            && *slot == PgType::Unknown
        {
            *slot = t;
        }
    }

    /// `a <op> $n`, `$n <op> a`, `a IN ($1, $2)`: the parameter takes the other side's type.
    fn pair(&mut self, known: &Expr, maybe_param: &Expr) {
        if let Some(i) = placeholder_index(maybe_param) {
            let t = self.type_of(known);
            self.assign(i, t);
        }
    }

    fn visit(&mut self, expr: &Expr) {
        match expr {
            Expr::Cast {
                expr, data_type, ..
            } => {
                if let Some(i) = placeholder_index(expr) {
                    self.assign(i, types::from_data_type(data_type));
                }
            }
            Expr::BinaryOp { left, right, .. } => {
                self.pair(left, right);
                self.pair(right, left);
            }
            Expr::In {
                expr,
                target: InTarget::List(list),
                ..
            } => {
                for item in list {
                    self.pair(expr, item);
                }
            }
            // `a = ANY($n)`: the parameter is an array of `a`'s type (int4[] for an int4).
            Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => {
                if let Some(i) = placeholder_index(right) {
                    let element = self.type_of(left).unwrap_or(PgType::Unknown);
                    self.assign(i, PgType::array_of(element));
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.pair(expr, low);
                self.pair(expr, high);
            }
            Expr::Like { pattern, .. } | Expr::ILike { pattern, .. } => {
                if let Some(i) = placeholder_index(pattern) {
                    self.assign(i, Some(PgType::Text));
                }
            }
            _ => {}
        }
    }

    fn limits(&mut self, query: &Query) {
        if let Some(LimitClause::LimitOffset { limit, offset, .. }) = &query.limit_clause {
            for e in limit.iter().chain(offset.iter().map(|o| &o.value)) {
                if let Some(i) = placeholder_index(e) {
                    self.assign(i, Some(PgType::Int8));
                }
            }
        }
    }
}

pub(crate) fn param_types(ast: &Statement, count: usize, schema: &dyn Schema) -> Vec<PgType> {
    let mut inf = Inference::root(schema, tables(ast), vec![PgType::Unknown; count]);
    match ast {
        Statement::Insert(insert) => {
            if let TableObject::TableName(name) = &insert.table {
                let table = last_part(name);
                let columns: Vec<String> = if insert.columns.is_empty() {
                    schema.columns(&table)
                } else {
                    insert.columns.iter().map(last_part).collect()
                };
                if let Some(source) = &insert.source
                    && let SetExpr::Values(values) = source.body.as_ref()
                {
                    for row in &values.rows {
                        for (expr, column) in row.iter().zip(&columns) {
                            if let Some(i) = placeholder_index(expr) {
                                inf.assign(i, schema.column_type(&table, column));
                            }
                        }
                    }
                }
            }
        }
        Statement::Update(update) => {
            for a in &update.assignments {
                if let sqlparser::ast::AssignmentTarget::ColumnName(col) = &a.target
                    && let Some(i) = placeholder_index(&a.value)
                {
                    let t = inf.column(&last_part(col));
                    inf.assign(i, t);
                }
            }
        }
        Statement::Query(q) => inf.limits(q),
        _ => {}
    }
    let _ = visit_expressions(ast, |e| {
        inf.visit(e);
        ControlFlow::<()>::Continue(())
    });
    inf.types
}

/// The type a literal, a cast or a predicate fixes by itself.
fn literal_type(expr: &Expr) -> Option<PgType> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => {
                if n.parse::<i32>().is_ok() {
                    Some(PgType::Int4)
                } else if n.parse::<i64>().is_ok() {
                    Some(PgType::Int8)
                } else {
                    // A fraction, an exponent or an integer past bigint is numeric.
                    Some(PgType::Numeric)
                }
            }
            Value::SingleQuotedString(_) => Some(PgType::Text),
            Value::Boolean(_) => Some(PgType::Bool),
            _ => None,
        },
        Expr::TypedString(typed) => types::from_data_type(&typed.data_type),
        Expr::Cast { data_type, .. } => {
            types::from_data_type(data_type).or_else(|| json_arrays::array_cast(data_type))
        }
        Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::Exists { .. }
        | Expr::In { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::SimilarTo { .. }
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::IsNotTrue(_)
        | Expr::IsNotFalse(_)
        | Expr::IsUnknown(_)
        | Expr::IsNotUnknown(_)
        | Expr::AnyOp { .. }
        | Expr::AllOp { .. } => Some(PgType::Bool),
        _ => None,
    }
}

/// A NULL or a quoted string: a literal whose type Postgres takes from what it meets.
fn is_untyped_literal(e: &Expr) -> bool {
    match e {
        Expr::Value(v) => matches!(v.value, Value::Null | Value::SingleQuotedString(_)),
        Expr::Nested(inner) => is_untyped_literal(inner),
        _ => false,
    }
}

fn args_of(f: &sqlparser::ast::Function) -> Vec<&Expr> {
    (0..function_arity(f))
        .filter_map(|i| nth_arg(f, i))
        .collect()
}

fn first_arg(f: &sqlparser::ast::Function) -> Option<&Expr> {
    nth_arg(f, 0)
}

fn nth_arg(f: &sqlparser::ast::Function, n: usize) -> Option<&Expr> {
    use sqlparser::ast::{FunctionArg, FunctionArgExpr};
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    match list.args.get(n)? {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
        _ => None,
    }
}

/// The date or time kind a shard `pg_*` function is told, among its first two arguments.
fn kind_arg(f: &sqlparser::ast::Function) -> Option<&str> {
    (0..2).find_map(|i| match nth_arg(f, i)? {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => temporal::of_kind(s).map(|_| s.as_str()),
            _ => None,
        },
        _ => None,
    })
}

fn function_arity(f: &sqlparser::ast::Function) -> usize {
    match &f.args {
        FunctionArguments::List(list) => list.args.len(),
        _ => 0,
    }
}

/// Postgres' result type of arithmetic between two numeric types.
fn wider_number(a: PgType, b: PgType) -> Option<PgType> {
    let rank = |t| match t {
        PgType::Int2 => Some(0),
        PgType::Int4 => Some(1),
        PgType::Int8 => Some(2),
        PgType::Numeric => Some(3),
        PgType::Float4 => Some(4),
        PgType::Float8 => Some(5),
        _ => None,
    };
    Some(if rank(a)? >= rank(b)? { a } else { b })
}

/// The type an expression has without a schema (literals, casts, functions), for the
/// translator's checks.
pub(crate) fn schemaless_type(expr: &Expr) -> Option<PgType> {
    Inference::root(&NoSchema, Vec::new(), Vec::new()).type_of(expr)
}

/// Whether a query's select list has an expression (not a plain column) whose type only
/// the tables' columns settle.
pub(crate) fn projection_needs_schema(ast: &Statement) -> bool {
    let root = Inference::root(&NoSchema, Vec::new(), Vec::new());
    match ast {
        Statement::Query(q) => root.query_needs_schema(q),
        _ => returning(ast).is_some_and(|items| root.items_need_schema(items)),
    }
}

/// The type of each result column where the statement settles it; empty when the columns
/// cannot be counted (a `*` over a table the schema does not describe).
pub(crate) fn projection_types(
    ast: &Statement,
    schema: &dyn Schema,
    params: &[PgType],
) -> Vec<Option<PgType>> {
    let root = Inference::root(schema, tables(ast), params.to_vec());
    let columns = match ast {
        Statement::Query(q) => root.query_columns(q),
        _ => returning(ast).and_then(|items| root.items_columns(items, None)),
    };
    columns
        .unwrap_or_default()
        .into_iter()
        .map(|(_, t)| t.map(known))
        .collect()
}

/// An INSERT's, UPDATE's or DELETE's RETURNING list.
pub(crate) fn returning(ast: &Statement) -> Option<&[SelectItem]> {
    match ast {
        Statement::Insert(insert) => insert.returning.as_deref(),
        Statement::Update(update) => update.returning.as_deref(),
        Statement::Delete(delete) => delete.returning.as_deref(),
        _ => None,
    }
}

/// A column only untyped literals fill is text, as Postgres resolves it.
fn known(t: PgType) -> PgType {
    if t == PgType::Unknown {
        PgType::Text
    } else {
        t
    }
}

/// The type two branches of a UNION (or two VALUES rows) resolve a column to (Postgres'
/// select_common_type, for the types litescale knows).
fn common_type(x: Option<PgType>, y: Option<PgType>) -> Option<PgType> {
    match (x, y) {
        (Some(PgType::Unknown), other) | (other, Some(PgType::Unknown)) => other,
        (Some(x), Some(y)) if x == y => Some(x),
        (Some(PgType::Varchar | PgType::Text), Some(PgType::Varchar | PgType::Text)) => {
            Some(PgType::Text)
        }
        (Some(x), Some(y)) => wider_number(x, y),
        _ => None,
    }
}

/// [`common_type`], and a date, timestamp and timestamptz resolve to the latest of those
/// kinds (`coalesce(timestamptz, timestamp)` is timestamptz), where the translator casts
/// the others to it (translate/typed.rs); a set operation's branches are not cast, so
/// they keep [`common_type`].
fn common_datetime_type(x: Option<PgType>, y: Option<PgType>) -> Option<PgType> {
    let rank = |t: Option<PgType>| match t? {
        PgType::Date => Some(1),
        PgType::Timestamp => Some(2),
        PgType::Timestamptz => Some(3),
        _ => None,
    };
    match (rank(x), rank(y)) {
        (Some(a), Some(b)) => {
            if a >= b {
                x
            } else {
                y
            }
        }
        _ => common_type(x, y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan;

    struct Fixture;
    impl Schema for Fixture {
        fn column_type(&self, table: &str, column: &str) -> Option<PgType> {
            match (table, column) {
                ("t", "id") => Some(PgType::Int8),
                ("t", "name") => Some(PgType::Text),
                ("t", "ok") => Some(PgType::Bool),
                _ => None,
            }
        }
        fn columns(&self, table: &str) -> Vec<String> {
            if table == "t" {
                vec!["id".into(), "name".into(), "ok".into()]
            } else {
                vec![]
            }
        }
    }

    fn params(sql: &str) -> Vec<PgType> {
        plan(sql).unwrap()[0].param_types(&Fixture)
    }

    #[test]
    fn parameters_take_the_type_of_the_column_they_meet() {
        use PgType::*;
        assert_eq!(
            params("insert into t values ($1, $2, $3)"),
            [Int8, Text, Bool]
        );
        assert_eq!(
            params("insert into t (name, id) values ($1, $2)"),
            [Text, Int8]
        );
        assert_eq!(params("update t set name = $2 where id = $1"), [Int8, Text]);
        assert_eq!(params("select * from t where $1 = id"), [Int8]);
        assert_eq!(params("select * from t where id in ($1, $2)"), [Int8, Int8]);
        assert_eq!(params("select * from t limit $1 offset $2"), [Int8, Int8]);
        assert_eq!(params("select $1::int4, $2"), [Int4, Unknown]);
        assert_eq!(params("select * from t x where x.name like $1"), [Text]);
        let p = &plan(
            "select x.n, y.k from (select name as n from t) x, (select id = 1 as k from t) y",
        )
        .unwrap()[0];
        assert_eq!(p.projection_types(&Fixture, &[]), [Some(Text), Some(Bool)]);
        let p =
            &plan("select array_agg(name order by id), array(select id from t) from t").unwrap()[0];
        assert_eq!(
            p.projection_types(&Fixture, &[]),
            [Some(TextArray), Some(Int8Array)]
        );
        // Django's introspection reads the columns of constraints and indexes as name[].
        let p = &plan(
            "select array(select attname from pg_attribute), array_agg(relname) from pg_class",
        )
        .unwrap()[0];
        assert_eq!(
            p.projection_types(&Fixture, &[]),
            [Some(NameArray), Some(NameArray)]
        );
        let p = &plan("select (select sum(id) from t), (select name from t limit 1)").unwrap()[0];
        assert_eq!(
            p.projection_types(&Fixture, &[]),
            [Some(Numeric), Some(Text)]
        );
    }

    #[test]
    fn projection_types_come_from_columns_literals_casts_and_aggregates() {
        use PgType::*;
        let sql = "select 1, 'a', count(*), x::bigint, y, id + 1, $1 * 2, sum(id), max(name) from t group by x, y, id";
        let p = &plan(sql).unwrap()[0];
        assert_eq!(
            p.projection_types(&Fixture, &[Int2]),
            vec![
                Some(Int4),
                Some(Text),
                Some(Int8),
                Some(Int8),
                None,
                Some(Int8),
                Some(Int4),
                Some(Numeric),
                Some(Text)
            ]
        );
        let union =
            &plan("select 1, null union select 2.5, 'a' union select 3, name from t").unwrap()[0];
        assert_eq!(
            union.projection_types(&Fixture, &[]),
            [Some(Numeric), Some(Text)]
        );
        let values = &plan("values (1, 'x'), (2, null)").unwrap()[0];
        assert_eq!(
            values.projection_types(&Fixture, &[]),
            [Some(Int4), Some(Text)]
        );
        let star = &plan("select * from t").unwrap()[0];
        assert_eq!(
            star.projection_types(&Fixture, &[]),
            [Some(Int8), Some(Text), Some(Bool)]
        );
        assert!(star.projection_types(&NoSchema, &[]).is_empty());
    }

    #[test]
    fn columns_reached_through_subqueries_ctes_values_and_table_functions_keep_their_types() {
        use PgType::*;
        let types = |sql: &str| plan(sql).unwrap()[0].projection_types(&NoSchema, &[]);
        assert_eq!(
            types("select * from (select 1 as a, 'x' as b) s, (values (true, 2.5)) v(c, d)"),
            [Some(Int4), Some(Text), Some(Bool), Some(Numeric)]
        );
        assert_eq!(
            types("with t(a, b) as (values (1, 2)) select a + b, x.v from t, (select 1 v) x"),
            [Some(Int4), Some(Int4)]
        );
        assert_eq!(
            types(
                "with recursive r(n) as (select 1 union all select n * 2 from r) select n from r"
            ),
            [Some(Int4)]
        );
        assert_eq!(
            types("select * from generate_series(1, 3) with ordinality, generate_series(1, 2) g"),
            [Some(Int4), Some(Int8), Some(Int4)]
        );
        assert_eq!(
            types("select * from jsonb_each('{}') with ordinality, json_each_text('{}') e(k, v)"),
            [Some(Text), Some(Jsonb), Some(Int8), Some(Text), Some(Text)]
        );
        // USING merges the joined column, which comes first.
        assert_eq!(
            types(
                "select * from (values ('a', 1)) v(s, id) join (values (2, true)) w(id, t) using (id)"
            ),
            [Some(Int4), Some(Text), Some(Bool)]
        );
        assert_eq!(
            types("select (values (true)), (select null)"),
            [Some(Bool), Some(Text)]
        );
        // A LATERAL or correlated subquery reads the typed items before it or around it.
        assert_eq!(
            types(
                "select s.sq, (select t.n + 1.5) from generate_series(1, 3) t(n), \
                 lateral (select t.n * t.n as sq) s"
            ),
            [Some(Int4), Some(Numeric)]
        );
    }

    #[test]
    fn untyped_literals_take_the_type_they_meet() {
        use PgType::*;
        let types = |sql: &str| plan(sql).unwrap()[0].projection_types(&NoSchema, &[]);
        assert_eq!(
            types(
                "select null + 1, '1'::int + '2', nullif(null, 1), nullif('a', 'b'), coalesce(null, 2.5), greatest(null, 1), array[null, 1]"
            ),
            [
                Some(Int4),
                Some(Int4),
                Some(Int4),
                Some(Text),
                Some(Numeric),
                Some(Int4),
                Some(Int4Array)
            ]
        );
        // A column the schema alone types leaves coalesce untyped, not typed by its default.
        assert_eq!(types("select coalesce((select x from t), 0)"), [None]);
        assert_eq!(
            types("select 'ab'::name, '[1]'::jsonb->-1"),
            [Some(Name), Some(Jsonb)]
        );
        // An array of arrays has its innermost elements' array type.
        assert_eq!(
            types(
                "select array[[1, 2], [3, 4]], '{{1}}'::int[][], array_ndims(array[[1]]), (array[[1]])[1][1]"
            ),
            [Some(Int4Array), Some(Int4Array), Some(Int4), Some(Int4)]
        );
        // `scores || 9` appends to an array when `scores` is one.
        assert_eq!(
            types("select abs(null), scores || 9 from t"),
            [Some(Float8), None]
        );
        let needs = |sql: &str| plan(sql).unwrap()[0].result_types_need_schema();
        assert!(needs(
            "select * from (select customer, sum(total) as spent from orders) o"
        ));
        assert!(needs(
            "with s as (select a || b as ab from t) select ab from s"
        ));
        assert!(!needs("select * from (select id, name from t) s"));
        assert_eq!(
            types(
                "select 'a' ~ 'b', '\\x12'::bytea || '\\x34'::bytea, substring('\\x12'::bytea from 1)"
            ),
            [Some(Bool), Some(Bytea), Some(Bytea)]
        );
    }

    #[test]
    fn tables_are_listed_once() {
        let p =
            &plan("select * from a join b on a.x = b.x where a.y in (select y from a)").unwrap()[0];
        assert_eq!(p.tables(), vec!["a".to_string(), "b".to_string()]);
    }
}
