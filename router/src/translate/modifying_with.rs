//! Data-modifying statements in WITH (`WITH gone AS (DELETE ... RETURNING *) SELECT ...
//! FROM gone`), which SQLite has no counterpart for: each such CTE runs first, as the
//! statement it is, and the main statement then reads the rows it returned from a VALUES
//! list whose values are bound as parameters (the caller runs them all in one
//! transaction, so a failure undoes every part).

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    CastKind, Cte, DataType, ExactNumberInfo, Expr, Parens, Query, SetExpr, Statement,
    TableAliasColumnDef, Value, Values,
};

use super::sql::parse_query;
use super::typed::numeric_type;
use crate::RouterError;

/// What a data-modifying CTE returned: its columns (name, declared type) and how many
/// rows.
#[derive(Debug, Clone)]
pub struct Returned {
    pub columns: Vec<(String, Option<String>)>,
    pub rows: usize,
}

/// The data-modifying CTEs of a query, in order, as the statements they are; empty for any
/// other statement.
pub(crate) fn modifying_ctes(ast: &Statement) -> Vec<Statement> {
    let Statement::Query(query) = ast else {
        return Vec::new();
    };
    query
        .with
        .iter()
        .flat_map(|w| &w.cte_tables)
        .filter_map(|cte| modifying(cte).cloned())
        .collect()
}

fn modifying(cte: &Cte) -> Option<&Statement> {
    match cte.query.body.as_ref() {
        SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) => Some(s),
        _ => None,
    }
}

/// Refuses what this translation cannot keep: parameters (the returned rows are bound as
/// the main statement's), and a data-modifying statement anywhere but a top-level WITH.
pub(crate) fn check(ast: &Statement, param_count: usize) -> Result<(), RouterError> {
    if param_count > 0 {
        return Err(RouterError::unsupported(
            "parameters in a statement with a data-modifying WITH",
        ));
    }
    let Statement::Query(query) = ast else {
        return Ok(());
    };
    if !matches!(
        query.body.as_ref(),
        SetExpr::Select(_) | SetExpr::SetOperation { .. }
    ) {
        return Err(RouterError::unsupported(
            "a data-modifying WITH before anything but a query",
        ));
    }
    Ok(())
}

/// `ast` with each data-modifying CTE replaced by the rows it returned: a VALUES list of
/// parameters `?1`, `?2`, ... in order (a numeric(p,s) column's cast to its type, so it
/// keeps its scale), or no row at all.
pub(crate) fn reading_returned(ast: &Statement, returned: &[Returned]) -> Statement {
    let mut ast = ast.clone();
    let Statement::Query(query) = &mut ast else {
        return ast;
    };
    let mut next = 0usize;
    let mut results = returned.iter();
    for cte in query.with.iter_mut().flat_map(|w| &mut w.cte_tables) {
        if modifying(cte).is_none() {
            continue;
        }
        let Some(result) = results.next() else {
            break;
        };
        if cte.alias.columns.is_empty() {
            cte.alias.columns = result
                .columns
                .iter()
                .map(|(name, _)| TableAliasColumnDef::from_name(name))
                .collect();
        }
        *cte.query = rows_query(result, &mut next);
    }
    ast
}

fn rows_query(result: &Returned, next: &mut usize) -> Query {
    if result.rows == 0 {
        // No row, with the columns' number: `SELECT NULL, NULL WHERE false`.
        let nulls = vec!["NULL"; result.columns.len().max(1)].join(", ");
        return *parse_query(&format!("SELECT {nulls} WHERE false")).expect("a valid query");
    }
    let rows = (0..result.rows)
        .map(|_| {
            let content = result
                .columns
                .iter()
                .map(|(_, declared)| {
                    *next += 1;
                    let parameter = Expr::value(Value::Placeholder(format!("?{next}")));
                    match declared.as_deref().and_then(numeric_type) {
                        Some(DataType::Numeric(ExactNumberInfo::None)) | None => parameter,
                        Some(data_type) => Expr::Cast {
                            kind: CastKind::Cast,
                            expr: Box::new(parameter),
                            data_type,
                            format: None,
                        },
                    }
                })
                .collect();
            Parens {
                opening_token: AttachedToken::empty(),
                content,
                closing_token: AttachedToken::empty(),
            }
        })
        .collect();
    let mut query = *parse_query("SELECT 1").expect("a valid query");
    query.body = Box::new(SetExpr::Values(Values {
        explicit_row: false,
        value_keyword: false,
        rows,
    }));
    query
}

#[cfg(test)]
mod tests {
    use super::Returned;
    use crate::plan::session::SessionContext;
    use crate::{plan, plan_reading_returned};

    #[test]
    fn modifying_ctes_run_first_and_the_query_reads_their_rows_from_parameters() {
        let planned = plan(
            "WITH gone AS (DELETE FROM t WHERE id > 1 RETURNING id, price), \
             kept AS (SELECT 1 AS one) SELECT sum(price) FROM gone, kept",
        )
        .unwrap()
        .remove(0);
        assert_eq!(planned.modifying_ctes.len(), 1);
        assert_eq!(
            planned.modifying_ctes[0].sqlite_sql,
            "DELETE FROM t WHERE id > 1 RETURNING id, price"
        );
        let returned = Returned {
            columns: vec![
                ("id".into(), Some("int".into())),
                ("price".into(), Some("numeric(8,2)".into())),
            ],
            rows: 2,
        };
        let reading = plan_reading_returned(
            &planned,
            std::slice::from_ref(&returned),
            &SessionContext::default(),
        )
        .unwrap();
        assert_eq!(reading.param_count, 4);
        assert!(
            reading.sqlite_sql.starts_with(
                "WITH gone (id, price) AS (VALUES (?1, pg_num_value(pg_numeric(?2, 8, 2))), \
                 (?3, pg_num_value(pg_numeric(?4, 8, 2))))"
            ),
            "{}",
            reading.sqlite_sql
        );
        let empty = Returned {
            rows: 0,
            ..returned
        };
        let reading =
            plan_reading_returned(&planned, &[empty], &SessionContext::default()).unwrap();
        assert!(
            reading
                .sqlite_sql
                .starts_with("WITH gone (id, price) AS (SELECT NULL, NULL WHERE false)"),
            "{}",
            reading.sqlite_sql
        );
    }

    #[test]
    fn parameters_and_modifying_with_before_a_write_are_refused() {
        for text in [
            "WITH d AS (DELETE FROM t WHERE id = $1 RETURNING id) SELECT * FROM d",
            "WITH d AS (DELETE FROM t RETURNING id) INSERT INTO u SELECT id FROM d",
        ] {
            assert_eq!(plan(text).unwrap_err().sqlstate, "0A000", "{text}");
        }
    }
}
