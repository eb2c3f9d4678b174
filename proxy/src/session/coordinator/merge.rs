//! Merging the partial results of a read that ran on several partitions, by the steps the
//! router planned (`litescale_router::scatter`).

use std::cmp::Ordering;

use litescale_router::{Aggregate, MergeStep};
use litescale_shard::Value;

/// SQLite's order of values of different kinds (NULL < numbers < text < blobs), which
/// is also Postgres' within one type.
fn compare(a: &Value, b: &Value) -> Ordering {
    use Value::*;
    let rank = |v: &Value| match v {
        Null => 0,
        Integer(_) | Real(_) => 1,
        Text(_) => 2,
        Blob(_) => 3,
    };
    match (a, b) {
        (Integer(x), Integer(y)) => x.cmp(y),
        (Integer(x), Real(y)) => (*x as f64).total_cmp(y),
        (Real(x), Integer(y)) => x.total_cmp(&(*y as f64)),
        (Real(x), Real(y)) => x.total_cmp(y),
        (Text(x), Text(y)) => x.cmp(y),
        (Blob(x), Blob(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn add(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Null, v) | (v, Value::Null) => v.clone(),
        (Value::Integer(x), Value::Integer(y)) => match x.checked_add(*y) {
            Some(s) => Value::Integer(s),
            None => Value::Real(*x as f64 + *y as f64),
        },
        (x, y) => Value::Real(as_f64(x) + as_f64(y)),
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Real(f) => *f,
        _ => 0.0,
    }
}

/// Combines rows that agree on `keys`; AVG columns come as (sum, count) pairs and leave as
/// one average, so the result has the select list's columns.
fn group(
    rows: Vec<Vec<Value>>,
    keys: &[usize],
    aggregates: &[(usize, Aggregate)],
) -> Vec<Vec<Value>> {
    let mut groups: Vec<Vec<Value>> = Vec::new();
    for row in rows {
        let found = groups.iter_mut().find(|g| {
            keys.iter()
                .all(|k| compare(&g[*k], &row[*k]) == Ordering::Equal)
        });
        match found {
            None => groups.push(row),
            Some(g) => {
                for (column, aggregate) in aggregates {
                    let (c, v) = (*column, &row[*column]);
                    g[c] = match aggregate {
                        Aggregate::Sum => add(&g[c], v),
                        Aggregate::Min if matches!(g[c], Value::Null) => v.clone(),
                        Aggregate::Min
                            if !matches!(v, Value::Null) && compare(v, &g[c]) == Ordering::Less =>
                        {
                            v.clone()
                        }
                        Aggregate::Max if compare(v, &g[c]) == Ordering::Greater => v.clone(),
                        Aggregate::Avg => {
                            g[c + 1] = add(&g[c + 1], &row[c + 1]);
                            add(&g[c], v)
                        }
                        _ => g[c].clone(),
                    };
                }
            }
        }
    }
    // AVG = total sum / total count; then drop the count columns, last first.
    for g in &mut groups {
        for (column, aggregate) in aggregates.iter().rev() {
            if *aggregate == Aggregate::Avg {
                let count = as_f64(&g[column + 1]);
                g[*column] = if count == 0.0 {
                    Value::Null
                } else {
                    Value::Real(as_f64(&g[*column]) / count)
                };
                g.remove(column + 1);
            }
        }
    }
    groups
}

/// Applies the merge steps to the concatenated rows of every partition.
pub fn merge(mut rows: Vec<Vec<Value>>, steps: &[MergeStep]) -> Vec<Vec<Value>> {
    for step in steps {
        match step {
            MergeStep::Group { keys, aggregates } => rows = group(rows, keys, aggregates),
            MergeStep::Distinct => {
                let mut unique: Vec<Vec<Value>> = Vec::with_capacity(rows.len());
                for row in rows {
                    let seen = unique.iter().any(|u| {
                        u.iter()
                            .zip(&row)
                            .all(|(a, b)| compare(a, b) == Ordering::Equal)
                    });
                    if !seen {
                        unique.push(row);
                    }
                }
                rows = unique;
            }
            MergeStep::Sort(keys) => rows.sort_by(|a, b| {
                for (column, desc, nulls_first) in keys {
                    let (x, y) = (&a[*column], &b[*column]);
                    let order = match (matches!(x, Value::Null), matches!(y, Value::Null)) {
                        (true, true) => Ordering::Equal,
                        (true, false) if *nulls_first => Ordering::Less,
                        (true, false) => Ordering::Greater,
                        (false, true) if *nulls_first => Ordering::Greater,
                        (false, true) => Ordering::Less,
                        (false, false) if *desc => compare(y, x),
                        (false, false) => compare(x, y),
                    };
                    if order != Ordering::Equal {
                        return order;
                    }
                }
                Ordering::Equal
            }),
            MergeStep::Offset(n) => {
                rows.drain(..(*n as usize).min(rows.len()));
            }
            MergeStep::Limit(n) => rows.truncate(*n as usize),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use Value::{Integer as I, Null, Real as R, Text as T};

    #[test]
    fn sums_counts_minima_and_averages_combine() {
        // Two partitions' partials of: SELECT bid, count(*), min(x), avg(x) ... GROUP BY bid
        // (avg arrives as sum, count).
        let rows = vec![
            vec![I(1), I(2), I(5), I(10), I(2)],
            vec![I(2), I(1), I(7), I(7), I(1)],
            vec![I(1), I(3), I(3), I(30), I(3)],
        ];
        let steps = [
            MergeStep::Group {
                keys: vec![0],
                aggregates: vec![
                    (1, Aggregate::Sum),
                    (2, Aggregate::Min),
                    (3, Aggregate::Avg),
                ],
            },
            MergeStep::Sort(vec![(0, false, false)]),
        ];
        assert_eq!(
            merge(rows, &steps),
            [
                vec![I(1), I(5), I(3), R(8.0)],
                vec![I(2), I(1), I(7), R(7.0)]
            ]
        );
    }

    #[test]
    fn sort_places_nulls_as_postgres_then_offset_and_limit() {
        let rows = vec![vec![I(2)], vec![Null], vec![I(3)], vec![I(1)]];
        let asc = [MergeStep::Sort(vec![(0, false, false)])];
        assert_eq!(
            merge(rows.clone(), &asc),
            [vec![I(1)], vec![I(2)], vec![I(3)], vec![Null]]
        );
        let desc = [
            MergeStep::Sort(vec![(0, true, true)]),
            MergeStep::Offset(1),
            MergeStep::Limit(2),
        ];
        assert_eq!(merge(rows, &desc), [vec![I(3)], vec![I(2)]]);
    }

    #[test]
    fn distinct_across_partitions() {
        let rows = vec![
            vec![T("a".into())],
            vec![T("b".into())],
            vec![T("a".into())],
        ];
        assert_eq!(merge(rows, &[MergeStep::Distinct]).len(), 2);
    }
}
