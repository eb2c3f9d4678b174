//! Functions that return rows, which SQLite has only in FROM and names differently: table
//! functions in FROM become subqueries with Postgres' column names; set-returning functions
//! in a select list (`unnest`, `generate_subscripts`, `_pg_expandarray`) a `json_each` join.

use std::ops::ControlFlow;

use sqlparser::ast::{BinaryOperator, Expr, Value};

use super::sql::{call, function_name, number, parse_query, strip_nesting};

/// Table functions in FROM whose Postgres columns SQLite names differently or lacks:
/// `generate_series(a, b) AS s` names its column `s` (SQLite's is `value`), and
/// `pg_partition_ancestors(r)` is just `r` (there are no partitions). Each call becomes a
/// subquery with Postgres' column names; WITH ORDINALITY adds the row number.
pub(super) struct TableFunctionsAsSubqueries;

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
        if let Some(subquery) = json_rows(&function, &args.args, alias.as_ref(), *with_ordinality) {
            let name = alias.as_ref().map_or(function, |a| a.name.value.clone());
            *factor = TableFactor::Derived {
                lateral: false,
                subquery,
                alias: Some(TableAlias {
                    explicit: true,
                    name: sqlparser::ast::Ident::new(name),
                    columns: vec![],
                    at: None,
                }),
                sample: None,
            };
            return ControlFlow::Continue(());
        }
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
        let Some(mut subquery) = parse_query(&format!("SELECT {select} FROM {source}")) else {
            return ControlFlow::Continue(());
        };
        if let sqlparser::ast::SetExpr::Select(s) = subquery.body.as_mut() {
            if function == "generate_series" {
                // SQLite's table function reads its column as `value`.
                let value = Expr::Identifier(sqlparser::ast::Ident::new("value"));
                let mut series = args.args.clone();
                let mut column = value.clone();
                if let [start, stop, step] = super::sql::args_of(&args.args).as_slice() {
                    // SQLite counts a negative step from the other end; Postgres counts
                    // start, start + step, ... while within stop either way. The series
                    // counts the steps instead, guarded where the count truncates.
                    column = binary(
                        start.clone(),
                        BinaryOperator::Plus,
                        binary(value, BinaryOperator::Multiply, step.clone()),
                    );
                    let steps = binary(
                        Expr::Nested(Box::new(binary(
                            stop.clone(),
                            BinaryOperator::Minus,
                            start.clone(),
                        ))),
                        BinaryOperator::Divide,
                        step.clone(),
                    );
                    series = [number(0), steps]
                        .into_iter()
                        .map(|e| {
                            sqlparser::ast::FunctionArg::Unnamed(
                                sqlparser::ast::FunctionArgExpr::Expr(e),
                            )
                        })
                        .collect();
                    let within = |direction, bound| {
                        binary(
                            binary(step.clone(), direction, number(0)),
                            BinaryOperator::And,
                            binary(column.clone(), bound, stop.clone()),
                        )
                    };
                    s.selection = Some(binary(
                        Expr::Nested(Box::new(within(BinaryOperator::Gt, BinaryOperator::LtEq))),
                        BinaryOperator::Or,
                        Expr::Nested(Box::new(within(BinaryOperator::Lt, BinaryOperator::GtEq))),
                    ));
                }
                if let Some(sqlparser::ast::SelectItem::ExprWithAlias { expr, .. }) =
                    s.projection.first_mut()
                {
                    *expr = column;
                }
                if let Some(TableFactor::Table {
                    args: Some(series_args),
                    ..
                }) = s.from.first_mut().map(|t| &mut t.relation)
                {
                    series_args.args = series;
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

/// `json_each(j)`, `json_array_elements(j)` and their jsonb and `_text` forms as Postgres
/// has them: a key and a value column, or the value alone (the element's JSON, or its
/// text), where SQLite's json_each has eight columns and the element's SQL value. An alias'
/// column list names them (and the ordinality); an alias alone names a lone value column.
fn json_rows(
    function: &str,
    args: &[sqlparser::ast::FunctionArg],
    alias: Option<&sqlparser::ast::TableAlias>,
    with_ordinality: bool,
) -> Option<Box<sqlparser::ast::Query>> {
    let (with_key, element) = match function {
        "json_each" | "jsonb_each" => (true, "pg_json_get"),
        "json_each_text" | "jsonb_each_text" => (true, "pg_json_get_text"),
        "json_array_elements" | "jsonb_array_elements" => (false, "pg_json_get"),
        "json_array_elements_text" | "jsonb_array_elements_text" => (false, "pg_json_get_text"),
        _ => return None,
    };
    let [json] = super::sql::args_of(args).try_into().ok()?;
    let mut names: Vec<String> = alias
        .map(|a| a.columns.iter().map(|c| c.name.value.clone()).collect())
        .unwrap_or_default();
    if with_key {
        names.extend(
            ["key", "value"]
                .into_iter()
                .skip(names.len())
                .map(str::to_owned),
        );
    } else if names.is_empty() {
        names.push(alias.map_or("value".to_owned(), |a| a.name.value.clone()));
    }
    if with_ordinality && names.len() == usize::from(with_key) + 1 {
        names.push("ordinality".to_owned());
    }
    let quoted = |i: usize| {
        let name = names.get(i).map_or("", String::as_str);
        format!("\"{}\"", name.replace('"', "\"\""))
    };
    let mut columns = Vec::new();
    if with_key {
        columns.push(format!("ls_each.key AS {}", quoted(0)));
    }
    let value = usize::from(with_key);
    columns.push(format!(
        "{element}(ls_each.json, ls_each.key) AS {}",
        quoted(value)
    ));
    if with_ordinality {
        columns.push(format!("row_number() OVER () AS {}", quoted(value + 1)));
    }
    let mut query = parse_query(&format!(
        "SELECT {} FROM json_each(0) AS ls_each",
        columns.join(", ")
    ))?;
    if let sqlparser::ast::SetExpr::Select(select) = query.body.as_mut()
        && let Some(sqlparser::ast::TableFactor::Table {
            args: Some(each_args),
            ..
        }) = select.from.first_mut().map(|t| &mut t.relation)
    {
        each_args.args = vec![sqlparser::ast::FunctionArg::Unnamed(
            sqlparser::ast::FunctionArgExpr::Expr(json),
        )];
    }
    Some(query)
}

fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

/// `SELECT unnest(a), generate_subscripts(a, 1) FROM t`: set-returning functions in a
/// select list, which SQLite has no notion of. The select joins `json_each` over the
/// array, and each call reads the element (or subscript) of the joined row. Several
/// unnest calls advance together, as in Postgres, for arrays of one length.
pub(super) struct SetReturningFunctions;

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
            let (srf_call, field) = match e {
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
            let f = &srf_call;
            let name = function_name(f).unwrap_or_default();
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
                right: Box::new(call("pg_array_lower", vec![array.clone()])),
            };
            let element = call("pg_array_get", vec![array.clone(), subscript.clone()]);
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
            && let Some(mut q) = parse_query("SELECT 1 FROM json_each(pg_array_json(0)) AS ls_srf")
            && let SetExpr::Select(inner) = q.body.as_mut()
        {
            if let Some(sqlparser::ast::TableFactor::Table {
                args: Some(each_args),
                ..
            }) = inner.from.first_mut().map(|t| &mut t.relation)
            {
                each_args.args = vec![sqlparser::ast::FunctionArg::Unnamed(
                    sqlparser::ast::FunctionArgExpr::Expr(call("pg_array_json", vec![array])),
                )];
            }
            select.from.append(&mut inner.from);
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn json_each_answers_key_and_value() {
        assert_eq!(
            sql("select * from jsonb_each_text($1) with ordinality as e(k, v, n)"),
            "SELECT * FROM (SELECT ls_each.key AS \"k\", pg_json_get_text(ls_each.json, ls_each.key) AS \"v\", \
             row_number() OVER () AS \"n\" FROM json_each(?1) AS ls_each) AS e"
        );
        assert_eq!(
            sql("select * from jsonb_array_elements('[1]') as tag"),
            "SELECT * FROM (SELECT pg_json_get(ls_each.json, ls_each.key) AS \"tag\" \
             FROM json_each('[1]') AS ls_each) AS tag"
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
    fn generate_series_with_a_step_counts_the_steps() {
        assert_eq!(
            sql("select * from generate_series(5, 1, -2) as g"),
            "SELECT * FROM (SELECT pg_plus(5, value * -2) AS \"g\" FROM generate_series(0, pg_div((1 - 5), -2)) \
             WHERE (-2 > 0 AND pg_plus(5, value * -2) <= 1) OR (-2 < 0 AND pg_plus(5, value * -2) >= 1)) AS g"
        );
    }

    #[test]
    fn set_returning_functions_become_a_json_each_join() {
        assert_eq!(
            sql(
                "select indexrelid, unnest(indkey) as attnum, generate_subscripts(indkey, 1) as ord from pg_index"
            ),
            "SELECT indexrelid, pg_array_get(indkey, pg_plus(ls_srf.key, pg_array_lower(indkey))) AS attnum, \
             (pg_plus(ls_srf.key, pg_array_lower(indkey))) AS ord FROM pg_index, json_each(pg_array_json(indkey)) AS ls_srf"
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
            "SELECT pg_array_get(CAST(?1 AS TEXT), pg_plus(ls_srf.key, pg_array_lower(CAST(?1 AS TEXT)))) AS e \
             FROM json_each(pg_array_json(CAST(?1 AS TEXT))) AS ls_srf"
        );
        assert!(sql("select array(select a from t where b = $1)").contains("WHERE b = ?1"));
    }
}
