//! EXPLAIN: where a statement would run, in which role, the SQL each partition runs, and
//! how partial results are merged. No statement is executed.

use litescale_router::{PlannedStatement, Route, StatementKind, route, scatter, split_insert};
use litescale_shard::{ColumnMeta, Rows, Value};

use crate::session::state::Session;

pub const EXPLAIN_COLUMN: &str = "QUERY PLAN";

fn partitions_text(p: impl IntoIterator<Item = usize>) -> String {
    let list: Vec<String> = p.into_iter().map(|n| n.to_string()).collect();
    list.join(", ")
}

/// The plan as lines of text, one row each.
pub fn explain(session: &Session, planned: &PlannedStatement) -> Rows {
    let role = match planned.kind {
        StatementKind::Read => "reader",
        _ => "writer",
    };
    let count = session.map.count();
    let mut lines = Vec::new();
    // Parameters are not known at EXPLAIN time: a `$n` key routes as unknown.
    let params = vec![None; planned.param_count];
    let planned_route = if count == 1 {
        Route::Partitions([0].into())
    } else {
        route(planned, &session.map, &params, &litescale_router::NoSchema)
    };
    match planned_route {
        Route::Refused(why) | Route::Misplaced(why) => lines.push(format!("refused: {why}")),
        Route::Partitions(p) if p.len() == 1 => {
            lines.push(format!("partitions: {} ({role})", partitions_text(p)));
            lines.push(format!("sql: {}", planned.sqlite_sql));
        }
        other => {
            let targets: Vec<usize> = match other {
                Route::Partitions(p) => p.into_iter().collect(),
                _ => (0..count).collect(),
            };
            lines.push(format!("partitions: {} ({role})", partitions_text(targets)));
            if planned.kind == StatementKind::Read {
                match scatter(planned, &session.context) {
                    Ok(plan) => {
                        lines.push(format!("sql on each: {}", plan.partition_sql));
                        lines.push(format!("merge: {}", plan.merge_description()));
                    }
                    Err(why) => lines.push(format!("refused: {why}")),
                }
            } else {
                let split = split_insert(
                    planned,
                    &session.map,
                    &params,
                    &litescale_router::NoSchema,
                    &session.context,
                );
                match split {
                    Some(Ok(parts)) => lines.extend(
                        parts
                            .into_iter()
                            .map(|part| format!("sql on {}: {}", part.partition, part.sql)),
                    ),
                    Some(Err(why)) => lines.push(format!("refused: {why}")),
                    None => lines.push(format!("sql on each: {}", planned.sqlite_sql)),
                }
                lines.push("commit: all-or-nothing across the partitions".to_owned());
            }
        }
    }
    Rows {
        columns: vec![ColumnMeta {
            name: EXPLAIN_COLUMN.to_owned(),
            decl_type: Some("text".to_owned()),
        }],
        rows: lines.into_iter().map(|l| vec![Value::Text(l)]).collect(),
    }
}
