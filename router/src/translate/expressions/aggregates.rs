//! Aggregates SQLite lacks, as the shard's: the variance family (exact for integers and
//! numerics, in double precision for floats), string_agg over DISTINCT values, and the
//! ordered-set aggregates written WITHIN GROUP, whose order becomes the call's own ORDER BY
//! (percentile_cont/disc, mode) or, for the hypothetical-set ones (rank, percent_rank,
//! cume_dist), counts of the rows that sort before the hypothetical row.

use sqlparser::ast::{
    BinaryOperator, DuplicateTreatment, Expr, Function, FunctionArgumentClause, FunctionArguments,
    OrderByExpr, OrderBySort, Value,
};

use super::super::sql::{call, number, renamed_call};
use super::numeric;
use crate::RouterError;
use crate::infer::inference::schemaless_type;
use crate::types::PgType;

/// The shard's name stem of a variance-family aggregate.
fn spread(name: &str) -> Option<&'static str> {
    Some(match name {
        "stddev" | "stddev_samp" => "stddev_samp",
        "stddev_pop" => "stddev_pop",
        "variance" | "var_samp" => "var_samp",
        "var_pop" => "var_pop",
        _ => return None,
    })
}

/// A call rewritten to the shard's aggregates; `None` when it is none of these.
pub(super) fn rewrite(
    name: &str,
    f: &Function,
    args: &[Expr],
) -> Result<Option<Expr>, RouterError> {
    if !f.within_group.is_empty() {
        return ordered_set(name, f, args).map(Some);
    }
    // Postgres has these for several number types and cannot choose one for a literal of
    // unknown type.
    if (name == "sum" || name == "avg" || spread(name).is_some())
        && let [Expr::Value(v)] = args
        && matches!(v.value, Value::SingleQuotedString(_))
    {
        return Err(RouterError {
            sqlstate: "42725",
            message: format!("function {name}(unknown) is not unique"),
        });
    }
    if let (Some(stem), [x]) = (spread(name), args) {
        // Postgres answers floats' in double precision, the rest in numeric.
        return Ok(Some(
            if matches!(schemaless_type(x), Some(PgType::Float4 | PgType::Float8)) {
                renamed_call(f, &format!("pg_float_{stem}"), args.to_vec())
            } else {
                numeric::value(renamed_call(
                    f,
                    &format!("pg_num_{stem}"),
                    vec![numeric::numeric_text(x)],
                ))
            },
        ));
    }
    if name == "string_agg"
        && let FunctionArguments::List(list) = &f.args
        && list.duplicate_treatment == Some(DuplicateTreatment::Distinct)
    {
        return Ok(Some(distinct_string_agg(f, args)));
    }
    Ok(None)
}

/// `string_agg(DISTINCT x, sep)` → `pg_string_agg_distinct(x, sep ORDER BY x)`: SQLite's
/// DISTINCT takes one argument, and sorted values put equal ones side by side (Postgres
/// answers them in that order too).
fn distinct_string_agg(f: &Function, args: &[Expr]) -> Expr {
    let mut call = renamed_call(f, "pg_string_agg_distinct", args.to_vec());
    if let Expr::Function(g) = &mut call
        && let FunctionArguments::List(list) = &mut g.args
    {
        list.duplicate_treatment = None;
        let ordered = list
            .clauses
            .iter()
            .any(|c| matches!(c, FunctionArgumentClause::OrderBy(_)));
        if !ordered && let Some(x) = args.first() {
            list.clauses
                .push(FunctionArgumentClause::OrderBy(vec![ordered_by(x.clone())]));
        }
    }
    call
}

fn ordered_by(expr: Expr) -> OrderByExpr {
    OrderByExpr {
        expr,
        options: sqlparser::ast::OrderByOptions {
            sort: None,
            nulls_first: Some(false),
        },
        with_fill: None,
    }
}

/// `agg(args) WITHIN GROUP (ORDER BY ...)` as the shard computes it.
fn ordered_set(name: &str, f: &Function, args: &[Expr]) -> Result<Expr, RouterError> {
    if f.over.is_some() {
        return Err(RouterError::unsupported(&format!(
            "OVER for the ordered-set aggregate {name}"
        )));
    }
    let mut order = f.within_group.clone();
    for o in &mut order {
        // Postgres sorts NULLs last ascending, first descending.
        let desc = matches!(o.options.sort, Some(OrderBySort::Desc));
        o.options.nulls_first.get_or_insert(desc);
    }
    let sorted_call = |shard: &str, arguments: Vec<Expr>| {
        let mut c = renamed_call(f, shard, arguments);
        if let Expr::Function(g) = &mut c {
            g.within_group.clear();
            if let FunctionArguments::List(list) = &mut g.args {
                list.clauses
                    .push(FunctionArgumentClause::OrderBy(order.clone()));
            }
        }
        c
    };
    let only_key = || match order.as_slice() {
        [key] => Ok(key.expr.clone()),
        _ => Err(RouterError::unsupported(&format!(
            "{name} WITHIN GROUP with several ORDER BY keys"
        ))),
    };
    match (name, args) {
        ("percentile_cont" | "percentile_disc", [fraction]) => Ok(sorted_call(
            &format!("pg_{name}"),
            vec![fraction.clone(), only_key()?],
        )),
        ("mode", []) => Ok(sorted_call("pg_mode", vec![only_key()?])),
        ("rank" | "percent_rank" | "cume_dist", [row]) => {
            let [key] = order.as_slice() else {
                return Err(RouterError::unsupported(&format!(
                    "{name} WITHIN GROUP with several ORDER BY keys"
                )));
            };
            Ok(hypothetical(name, f, row, key))
        }
        _ => Err(RouterError::unsupported(&format!(
            "the ordered-set aggregate {name}(...) WITHIN GROUP"
        ))),
    }
}

fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::Nested(Box::new(Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }))
}

fn is_null(e: &Expr, null: bool) -> Expr {
    if null {
        Expr::IsNull(Box::new(e.clone()))
    } else {
        Expr::IsNotNull(Box::new(e.clone()))
    }
}

/// `count(<when>)`, under the call's FILTER.
fn count_when(f: &Function, when: Expr) -> Expr {
    let counted = Expr::Case {
        case_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
        end_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![sqlparser::ast::CaseWhen {
            condition: when,
            result: number(1),
        }],
        else_result: None,
    };
    let mut count = call("count", vec![counted]);
    if let Expr::Function(c) = &mut count {
        c.filter = f.filter.clone();
    }
    count
}

/// A hypothetical-set aggregate: where `row` would rank among the group's values of the
/// ORDER BY key, counted from the rows that sort before it (and its peers, for cume_dist).
fn hypothetical(name: &str, f: &Function, row: &Expr, key: &OrderByExpr) -> Expr {
    let x = &key.expr;
    let desc = matches!(key.options.sort, Some(OrderBySort::Desc));
    let nulls_first = key.options.nulls_first.unwrap_or(desc);
    let less = if desc {
        BinaryOperator::Gt
    } else {
        BinaryOperator::Lt
    };
    // x sorts before row: by value, or a NULL on the side the NULLs sort to.
    let before = binary(
        binary(x.clone(), less, row.clone()),
        BinaryOperator::Or,
        binary(
            is_null(x, nulls_first),
            BinaryOperator::And,
            is_null(row, !nulls_first),
        ),
    );
    let real = |e: Expr| Expr::Cast {
        kind: sqlparser::ast::CastKind::Cast,
        expr: Box::new(e),
        data_type: sqlparser::ast::DataType::Real,
        format: None,
    };
    let all_rows = {
        let mut count = call("count", vec![]);
        if let Expr::Function(c) = &mut count {
            c.args = FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
                duplicate_treatment: None,
                args: vec![sqlparser::ast::FunctionArg::Unnamed(
                    sqlparser::ast::FunctionArgExpr::Wildcard,
                )],
                clauses: vec![],
            });
            c.filter = f.filter.clone();
        }
        count
    };
    let plus_one = |e: Expr| binary(e, BinaryOperator::Plus, number(1));
    match name {
        "rank" => plus_one(count_when(f, before)),
        // (rank - 1) / (rows + 1 - 1); zero when there are no rows.
        "percent_rank" => binary(
            real(count_when(f, before)),
            BinaryOperator::Divide,
            call("max", vec![all_rows, number(1)]),
        ),
        // The rows up to and with the hypothetical row's peers, of rows + 1.
        _ => {
            let peer = Expr::IsNotDistinctFrom(Box::new(x.clone()), Box::new(row.clone()));
            binary(
                real(plus_one(count_when(
                    f,
                    binary(before, BinaryOperator::Or, peer),
                ))),
                BinaryOperator::Divide,
                plus_one(all_rows),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn the_variance_family_is_exact_for_numbers_and_double_for_floats() {
        assert_eq!(
            sql("select stddev(a), var_pop(b::float8) from t"),
            "SELECT pg_num_stddev_samp(a) AS \"stddev\", \
             pg_float_var_pop(pg_float8(b)) AS \"var_pop\" FROM t"
        );
    }

    #[test]
    fn within_group_becomes_the_calls_own_order() {
        assert_eq!(
            sql(
                "select percentile_disc(0.5) within group (order by a desc), mode() within group (order by b) from t"
            ),
            "SELECT pg_percentile_disc(0.5, a ORDER BY a DESC NULLS FIRST) AS \"percentile_disc\", \
             pg_mode(b ORDER BY b NULLS LAST) AS \"mode\" FROM t"
        );
        assert_eq!(
            sql("select rank(5) within group (order by a) from t"),
            "SELECT (count(CASE WHEN ((a < 5) OR (a IS NOT NULL AND 5 IS NULL)) THEN 1 END) + 1) AS \"rank\" FROM t"
        );
        let e = crate::plan("select dense_rank(5) within group (order by a) from t").unwrap_err();
        assert_eq!(e.sqlstate, "0A000");
        let e = crate::plan("select avg('a')").unwrap_err();
        assert_eq!(e.sqlstate, "42725");
    }

    #[test]
    fn string_agg_of_distinct_values_sorts_them() {
        assert_eq!(
            sql("select string_agg(distinct a, ',') from t"),
            "SELECT pg_string_agg_distinct(a, ',' ORDER BY a NULLS LAST) AS \"string_agg\" FROM t"
        );
    }
}
