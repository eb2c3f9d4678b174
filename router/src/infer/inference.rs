//! Type inference from the statement text: the types of `$n` parameters (as Postgres infers
//! them from the columns they meet) and of result columns whose expression fixes a type.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArguments, InTarget, LimitClause, Query, SelectItem, SetExpr, Statement,
    TableObject, Value, visit_expressions,
};

use super::schema::{NoSchema, Schema, last_part, relations, tables};
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

struct Inference<'a> {
    schema: &'a dyn Schema,
    tables: Vec<String>,
    types: Vec<PgType>,
    /// Subqueries in the FROM clause, by alias: their columns' types come from their own
    /// projections.
    derived: Vec<(String, Query)>,
}

/// The subqueries in a SELECT's FROM clause (and its joins), by alias.
fn derived_tables(select: &sqlparser::ast::Select) -> Vec<(String, Query)> {
    use sqlparser::ast::TableFactor;
    select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
        .filter_map(|f| match f {
            TableFactor::Derived {
                subquery,
                alias: Some(alias),
                ..
            } => Some((alias.name.value.clone(), (**subquery).clone())),
            _ => None,
        })
        .collect()
}

impl Inference<'_> {
    fn column(&self, column: &str) -> Option<PgType> {
        self.tables.iter().find_map(|t| {
            self.schema
                .column_type(t, column)
                .or_else(|| catalog::column_type(t, column))
        })
    }

    /// The type an expression has, from columns, parameter types known so far, literals,
    /// casts, operators and well-known functions; `None` when that does not settle it.
    fn type_of(&self, expr: &Expr) -> Option<PgType> {
        use sqlparser::ast::{BinaryOperator as B, UnaryOperator as U};
        match expr {
            Expr::Identifier(i) => self
                .derived_column(None, &i.value)
                .or_else(|| self.column(&i.value)),
            Expr::CompoundIdentifier(parts) => {
                let column = &parts.last()?.value;
                let qualifier = parts.len().checked_sub(2).map(|i| parts[i].value.as_str());
                self.derived_column(qualifier, column)
                    .or_else(|| self.column(column))
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
                temporal::operator(op, l, r)
                    .or_else(|| json_arrays::operator(op, l, r))
                    .or_else(|| match op {
                        B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => {
                            wider_number(l?, r?)
                        }
                        B::StringConcat => Some(PgType::Text),
                        B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq | B::And | B::Or => {
                            Some(PgType::Bool)
                        }
                        _ => None,
                    })
            }
            Expr::UnaryOp {
                op: U::Minus | U::Plus,
                expr,
            } => self.type_of(expr),
            Expr::UnaryOp { op: U::Not, .. } => Some(PgType::Bool),
            Expr::Position { .. } => Some(PgType::Int4),
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
            Expr::Subquery(q) => {
                let SetExpr::Select(select) = q.body.as_ref() else {
                    return None;
                };
                let [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] =
                    select.projection.as_slice()
                else {
                    return None;
                };
                let inner = Inference {
                    schema: self.schema,
                    tables: relations(q.as_ref()),
                    types: self.types.clone(),
                    derived: derived_tables(select),
                };
                inner.type_of(e)
            }
            Expr::Array(array) => PgType::array_of(self.type_of(array.elem.first()?)?),
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
                    "unnest" => first?.element(),
                    "generate_subscripts" | "array_upper" | "array_length" => Some(PgType::Int4),
                    "count" => Some(PgType::Int8),
                    // Postgres has no min/max of varchar or char: they are text's.
                    "min" | "max" => match first? {
                        PgType::Varchar | PgType::Bpchar => Some(PgType::Text),
                        other => Some(other),
                    },
                    "abs" | "coalesce" => first,
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
                    | "session_user" | "user" | "current_schema" | "current_role" | "left"
                    | "right" | "md5" => Some(PgType::Text),
                    "lower" | "upper" | "trim" | "substr" | "substring" | "replace" | "concat" => {
                        Some(PgType::Text)
                    }
                    _ => super::functions::result_type(&name, first, function_arity(f)),
                }
            }
            other => literal_type(other),
        }
    }

    /// The type of `column` in a FROM-clause subquery (the one named `qualifier`, or any).
    fn derived_column(&self, qualifier: Option<&str>, column: &str) -> Option<PgType> {
        self.derived
            .iter()
            .filter(|(alias, _)| qualifier.is_none_or(|q| q == alias))
            .find_map(|(_, q)| {
                let SetExpr::Select(select) = q.body.as_ref() else {
                    return None;
                };
                let inner = Inference {
                    schema: self.schema,
                    tables: relations(q),
                    types: self.types.clone(),
                    derived: derived_tables(select),
                };
                select.projection.iter().find_map(|item| match item {
                    SelectItem::ExprWithAlias { expr, alias } if alias.value == column => {
                        inner.type_of(expr)
                    }
                    SelectItem::UnnamedExpr(e @ Expr::Identifier(i)) if i.value == column => {
                        inner.type_of(e)
                    }
                    SelectItem::UnnamedExpr(e @ Expr::CompoundIdentifier(parts))
                        if parts.last().is_some_and(|i| i.value == column) =>
                    {
                        inner.type_of(e)
                    }
                    _ => None,
                })
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
    let mut inf = Inference {
        schema,
        tables: tables(ast),
        types: vec![PgType::Unknown; count],
        derived: Vec::new(),
    };
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
    let inf = Inference {
        schema: &NoSchema,
        tables: Vec::new(),
        types: Vec::new(),
        derived: Vec::new(),
    };
    inf.type_of(expr)
}

/// Whether a query's select list has an expression (not a plain column) whose type only
/// the tables' columns settle.
pub(crate) fn projection_needs_schema(ast: &Statement) -> bool {
    let Statement::Query(q) = ast else {
        return false;
    };
    let SetExpr::Select(select) = q.body.as_ref() else {
        return false;
    };
    let inf = Inference {
        schema: &NoSchema,
        tables: Vec::new(),
        types: Vec::new(),
        derived: derived_tables(select),
    };
    select.projection.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            !matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
                && inf.type_of(e).is_none()
        }
        _ => false,
    })
}

pub(crate) fn projection_types(
    ast: &Statement,
    schema: &dyn Schema,
    params: &[PgType],
) -> Vec<Option<PgType>> {
    let Statement::Query(q) = ast else {
        return Vec::new();
    };
    let branch = |select: &sqlparser::ast::Select| Inference {
        schema,
        tables: tables(ast),
        types: params.to_vec(),
        derived: derived_tables(select),
    };
    result_types(q.body.as_ref(), &branch)
        .unwrap_or_default()
        .into_iter()
        // A column only untyped literals fill is text, as Postgres resolves it.
        .map(|t| {
            t.map(|t| {
                if t == PgType::Unknown {
                    PgType::Text
                } else {
                    t
                }
            })
        })
        .collect()
}

/// The result types of a SELECT, VALUES or set operation; `Unknown` where only untyped
/// literals (`NULL`, `'a'`) stand, so that the other branches decide. `None` when the
/// columns cannot be matched (a wildcard).
fn result_types<'s>(
    body: &SetExpr,
    branch: &dyn Fn(&sqlparser::ast::Select) -> Inference<'s>,
) -> Option<Vec<Option<PgType>>> {
    let untyped = |e: &Expr, inf: &Inference| match e {
        Expr::Value(v) if matches!(v.value, Value::Null | Value::SingleQuotedString(_)) => {
            Some(PgType::Unknown)
        }
        _ => inf.type_of(e),
    };
    match body {
        SetExpr::Select(select) => {
            let inf = branch(select);
            select
                .projection
                .iter()
                .map(|item| match item {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                        Some(untyped(e, &inf))
                    }
                    // A wildcard expands to an unknown number of columns.
                    _ => None,
                })
                .collect()
        }
        SetExpr::Values(values) => {
            let inf = Inference {
                schema: &NoSchema,
                tables: Vec::new(),
                types: Vec::new(),
                derived: Vec::new(),
            };
            let rows: Vec<Vec<Option<PgType>>> = values
                .rows
                .iter()
                .map(|row| row.iter().map(|e| untyped(e, &inf)).collect())
                .collect();
            rows.into_iter().reduce(|a, b| common_types(&a, &b))
        }
        SetExpr::SetOperation { left, right, .. } => {
            let (l, r) = (result_types(left, branch)?, result_types(right, branch)?);
            Some(common_types(&l, &r))
        }
        SetExpr::Query(q) => result_types(q.body.as_ref(), branch),
        _ => None,
    }
}

/// Column by column, the type two branches of a UNION resolve to (Postgres'
/// select_common_type, for the types litescale knows).
fn common_types(a: &[Option<PgType>], b: &[Option<PgType>]) -> Vec<Option<PgType>> {
    a.iter()
        .zip(b)
        .map(|(x, y)| match (x, y) {
            (Some(PgType::Unknown), other) | (other, Some(PgType::Unknown)) => *other,
            (Some(x), Some(y)) if x == y => Some(*x),
            (Some(PgType::Varchar | PgType::Text), Some(PgType::Varchar | PgType::Text)) => {
                Some(PgType::Text)
            }
            (Some(x), Some(y)) => wider_number(*x, *y),
            _ => None,
        })
        .collect()
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
        assert!(star.projection_types(&Fixture, &[]).is_empty());
    }

    #[test]
    fn tables_are_listed_once() {
        let p =
            &plan("select * from a join b on a.x = b.x where a.y in (select y from a)").unwrap()[0];
        assert_eq!(p.tables(), vec!["a".to_string(), "b".to_string()]);
    }
}
