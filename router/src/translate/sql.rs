//! Building blocks for the AST the translation writes: literals, function calls, query
//! templates, and reading names and arguments off what the client wrote. A leaf.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
    ObjectName, Query, Statement, Value, ValueWithSpan, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::parse::lexical::string_literal;

/// `name` as an identifier that reads back as itself: bare when it is a lower-case word,
/// else double-quoted.
pub(crate) fn identifier(name: &str) -> Ident {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ident::new(name)
    } else {
        Ident::with_quote('"', name)
    }
}

/// A string literal.
pub(crate) fn string(s: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(s.to_owned()))
}

/// Makes every string literal of `ast` render as SQLite must read it. sqlparser renders a
/// lone quote doubled but leaves two quotes in a row, and quotes after a backslash, as they
/// stand (it cannot tell whether they are escaped already), so `'a''''b'` (a''b) would reach
/// SQLite as a'b. With every quote doubled beforehand, each is in a pair or after a
/// backslash, and is rendered as it stands: doubled, as SQLite reads a quote. The last
/// step before an AST is rendered.
pub(crate) fn render_strings_as_written(ast: &mut impl VisitMut) {
    struct DoubledQuotes;
    impl VisitorMut for DoubledQuotes {
        type Break = ();
        fn pre_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<()> {
            if let Value::SingleQuotedString(s) = &mut value.value
                && s.contains('\'')
            {
                *s = s.replace('\'', "''");
            }
            ControlFlow::Continue(())
        }
    }
    let _ = ast.visit(&mut DoubledQuotes);
}

/// A statement that fails with `sqlstate` and `message` while a table other than those in
/// `tables` has a foreign key referencing `table`. It runs in the batch, under the writer,
/// so no reference made meanwhile escapes it.
pub(crate) fn fail_if_referenced(
    table: &str,
    tables: &[String],
    sqlstate: &str,
    message: &str,
) -> String {
    let others: Vec<String> = tables.iter().map(|t| string_literal(t)).collect();
    format!(
        "SELECT pg_raise('{sqlstate}', {}) FROM main.sqlite_schema s, \
         pragma_foreign_key_list(s.name) f WHERE s.type = 'table' \
         AND s.name COLLATE NOCASE NOT IN ({}) AND f.\"table\" = {} COLLATE NOCASE LIMIT 1",
        string_literal(message),
        others.join(", "),
        string_literal(table)
    )
}

/// A number literal.
pub(crate) fn number(n: impl ToString) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

/// A call of a SQLite function.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// `f` under another name with other arguments, keeping what the client gave the call
/// besides them: DISTINCT, ORDER BY, FILTER and OVER.
pub(crate) fn renamed_call(f: &Function, name: &str, args: Vec<Expr>) -> Expr {
    let mut renamed = f.clone();
    renamed.name = ObjectName::from(vec![Ident::new(name)]);
    if let FunctionArguments::List(list) = &mut renamed.args {
        list.args = args
            .into_iter()
            .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
            .collect();
    }
    Expr::Function(renamed)
}

/// Postgres' (and SQLite's) aggregate functions (and grouping(), which only a grouped
/// query has).
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "string_agg",
    "array_agg",
    "bool_and",
    "bool_or",
    "every",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "group_concat",
    "total",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "bit_and",
    "bit_or",
    "bit_xor",
    "corr",
    "covar_pop",
    "covar_samp",
    "regr_slope",
    "regr_intercept",
    "regr_r2",
    "regr_avgx",
    "regr_avgy",
    "regr_sxx",
    "regr_syy",
    "regr_sxy",
    "regr_count",
    "percentile_cont",
    "percentile_disc",
    "mode",
    "grouping",
];

/// Whether a call is an aggregate (not a window function's): by name, or by a WITHIN GROUP
/// or FILTER only aggregates take.
pub(crate) fn is_aggregate(f: &Function) -> bool {
    f.over.is_none()
        && (!f.within_group.is_empty()
            || f.filter.is_some()
            || function_name(f).is_some_and(|n| AGGREGATES.contains(&n.as_str())))
}

/// The unnamed arguments of a call, in order.
pub(crate) fn args(f: &Function) -> Vec<Expr> {
    match &f.args {
        FunctionArguments::List(list) => args_of(&list.args),
        _ => Vec::new(),
    }
}

/// The unnamed expressions of an argument list (a call's or a table function's), in order.
pub(crate) fn args_of(list: &[FunctionArg]) -> Vec<Expr> {
    list.iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Parses a query the router writes itself (a template). Templates hold no parameters:
/// rendered `?n` would not parse back, so callers put expressions in after parsing.
pub(crate) fn parse_query(sql: &str) -> Option<Box<Query>> {
    match Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?.pop()? {
        Statement::Query(q) => Some(q),
        _ => None,
    }
}

/// The expression inside any parentheses.
pub(crate) fn strip_nesting(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => strip_nesting(inner),
        other => other,
    }
}

/// A function's name without its schema, lower-cased.
pub(crate) fn function_name(f: &Function) -> Option<String> {
    Some(f.name.0.last()?.as_ident()?.value.to_ascii_lowercase())
}

/// Each select-list item of `query` that is answered as computed: nothing reads it after
/// (not under DISTINCT or a set operation, not named by position or alias in ORDER BY or
/// GROUP BY, which compare the values). There a value may take its output form.
pub(crate) fn for_each_answered_item(query: &mut Query, answer: &mut dyn FnMut(&mut Expr)) {
    use sqlparser::ast::{GroupByExpr, OrderByKind, SelectItem, SetExpr};
    let mut referenced: Vec<Expr> = match &query.order_by {
        Some(order) => match &order.kind {
            OrderByKind::Expressions(items) => items.iter().map(|o| o.expr.clone()).collect(),
            OrderByKind::All(_) => return,
        },
        None => Vec::new(),
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    if select.distinct.is_some() {
        return;
    }
    if let GroupByExpr::Expressions(items, _) = &select.group_by {
        referenced.extend(items.iter().cloned());
    }
    let names_item = |position: usize, alias: Option<&Ident>| {
        referenced.iter().any(|r| match strip_nesting(r) {
            Expr::Value(v) => {
                matches!(&v.value, Value::Number(n, _) if n.parse::<usize>() == Ok(position + 1))
            }
            Expr::Identifier(i) => alias.is_some_and(|a| a.value == i.value),
            _ => false,
        })
    };
    for (position, item) in select.projection.iter_mut().enumerate() {
        let (expr, alias) = match item {
            SelectItem::UnnamedExpr(e) => (e, None),
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(&*alias)),
            _ => continue,
        };
        if !names_item(position, alias) {
            answer(expr);
        }
    }
}
