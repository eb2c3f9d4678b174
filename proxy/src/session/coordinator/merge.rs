//! Merging the partial results of a read that ran on several partitions, by the steps the
//! router planned (`litescale_router::scatter`).

use std::cmp::Ordering;

use litescale_router::{Aggregate, MergeStep};
use litescale_shard::{Numeric, Value, numeric_average};

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

/// A partial sum as numeric: integers, and the numeric text the shard's exact sum
/// answers for fractions; `None` for doubles (a float column's sum) and NULL.
fn exact(v: &Value) -> Option<Numeric> {
    match v {
        Value::Integer(i) => Some(Numeric::integer(*i)),
        Value::Text(t) => Numeric::parse(t).ok(),
        _ => None,
    }
}

/// Partial sums added as the shard adds them: integers while they fit, numerics exactly
/// (and past bigint), doubles as doubles.
fn add(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Null, v) | (v, Value::Null) => v.clone(),
        (Value::Integer(x), Value::Integer(y)) if x.checked_add(*y).is_some() => {
            Value::Integer(x + y)
        }
        (x, y) => match (exact(x), exact(y)) {
            (Some(x), Some(y)) => Value::Text(x.add(&y).to_string()),
            _ => Value::Real(as_f64(x) + as_f64(y)),
        },
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Real(f) => *f,
        Value::Text(t) => t.parse().unwrap_or(f64::NAN),
        _ => 0.0,
    }
}

/// AVG from its total sum and count: numeric (Postgres' avg of integers and numerics,
/// with its scale) unless the sum is a double.
fn average(sum: &Value, count: &Value) -> Value {
    let Value::Integer(count @ 1..) = count else {
        return Value::Null;
    };
    match (sum, exact(sum)) {
        (Value::Null, _) => Value::Null,
        (_, Some(sum)) => numeric_average(&sum, *count)
            .map_or(Value::Null, |average| Value::Text(average.to_string())),
        _ => Value::Real(as_f64(sum) / *count as f64),
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
                g[*column] = average(&g[*column], &g[column + 1]);
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
                vec![I(1), I(5), I(3), T("8.0000000000000000".into())],
                vec![I(2), I(1), I(7), T("7.0000000000000000".into())]
            ]
        );
    }

    #[test]
    fn numeric_partial_sums_add_exactly() {
        // The shard's exact sums: numeric text for fractions, integers for integers.
        let rows = vec![
            vec![
                T("0.10".into()),
                I(i64::MAX),
                R(0.5),
                T("0.10".into()),
                I(2),
            ],
            vec![T("0.205".into()), I(1), R(0.25), T("0.20".into()), I(1)],
        ];
        let steps = [MergeStep::Group {
            keys: vec![],
            aggregates: vec![
                (0, Aggregate::Sum),
                (1, Aggregate::Sum),
                (2, Aggregate::Sum),
                (3, Aggregate::Avg),
            ],
        }];
        assert_eq!(
            merge(rows, &steps),
            [vec![
                T("0.305".into()),
                T("9223372036854775808".into()),
                R(0.75),
                T("0.10000000000000000000".into())
            ]]
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
