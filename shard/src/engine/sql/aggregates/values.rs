//! Postgres aggregates SQLite lacks that take values as they are: bit_and/bit_or/bit_xor,
//! string_agg over distinct values, and the ordered-set aggregates percentile_cont,
//! percentile_disc and mode. The router hands the ordered-set ones their values sorted
//! (`pg_mode(x ORDER BY x)`, the WITHIN GROUP order), so "the n-th value" is the n-th
//! one to arrive; string_agg's distinct values arrive sorted too, so equal ones are
//! neighbours.

use rusqlite::Connection;
use rusqlite::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
use rusqlite::types::{Value, ValueRef};

use super::super::args;
use super::super::arrays::{element_text, elements, render};
use super::super::typecheck::postgres_error;

const FLAGS: FunctionFlags = FunctionFlags::SQLITE_UTF8.union(FunctionFlags::SQLITE_DETERMINISTIC);

/// bit_and, bit_or or bit_xor of integers: NULL for no (non-NULL) values. Also window
/// functions: the state counts the values and, per bit, those that have it set, so a
/// value leaving a sliding frame is taken out again.
#[derive(Clone, Copy)]
enum Bitwise {
    And,
    Or,
    Xor,
}

struct BitCounts {
    values: i64,
    ones: [i64; 64],
}

struct BitAggregate(Bitwise);

impl BitAggregate {
    fn answer(&self, counts: Option<&BitCounts>) -> Option<i64> {
        let counts = counts.filter(|c| c.values > 0)?;
        Some((0..64).fold(0i64, |bits, b| {
            let ones = counts.ones[b];
            let set = match self.0 {
                Bitwise::And => ones == counts.values,
                Bitwise::Or => ones > 0,
                Bitwise::Xor => ones % 2 != 0,
            };
            if set { bits | (1i64 << b) } else { bits }
        }))
    }

    fn count(ctx: &mut Context<'_>, counts: &mut BitCounts, sign: i64) -> rusqlite::Result<()> {
        if let Some(x) = args::integer(ctx, 0)? {
            counts.values += sign;
            for (b, ones) in counts.ones.iter_mut().enumerate() {
                if x & (1i64 << b) != 0 {
                    *ones += sign;
                }
            }
        }
        Ok(())
    }
}

impl Aggregate<BitCounts, Option<i64>> for BitAggregate {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<BitCounts> {
        Ok(BitCounts {
            values: 0,
            ones: [0; 64],
        })
    }

    fn step(&self, ctx: &mut Context<'_>, counts: &mut BitCounts) -> rusqlite::Result<()> {
        Self::count(ctx, counts, 1)
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        counts: Option<BitCounts>,
    ) -> rusqlite::Result<Option<i64>> {
        Ok(self.answer(counts.as_ref()))
    }
}

impl WindowAggregate<BitCounts, Option<i64>> for BitAggregate {
    fn value(&self, counts: Option<&mut BitCounts>) -> rusqlite::Result<Option<i64>> {
        Ok(self.answer(counts.map(|c| &*c)))
    }

    fn inverse(&self, ctx: &mut Context<'_>, counts: &mut BitCounts) -> rusqlite::Result<()> {
        Self::count(ctx, counts, -1)
    }
}

/// `string_agg(DISTINCT x, separator)`, its values arriving sorted: each value once, after
/// the separator that came with it.
struct DistinctStringAgg;

#[derive(Default)]
struct Joined {
    text: Option<String>,
    last: Option<String>,
}

impl Aggregate<Joined, Option<String>> for DistinctStringAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Joined> {
        Ok(Joined::default())
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Joined) -> rusqlite::Result<()> {
        let Some(value) = args::text(ctx, 0) else {
            return Ok(());
        };
        if acc.last.as_ref() == Some(&value) {
            return Ok(());
        }
        match &mut acc.text {
            Some(text) => {
                text.push_str(&args::text(ctx, 1).unwrap_or_default());
                text.push_str(&value);
            }
            None => acc.text = Some(value.clone()),
        }
        acc.last = Some(value);
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Joined>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(acc.and_then(|a| a.text))
    }
}

/// The fraction(s) an ordered-set aggregate was asked for: one, or an array of them
/// (answered as an array).
enum Fractions {
    One(f64),
    Array(Vec<Option<f64>>),
}

/// The values in the WITHIN GROUP order (NULLs left out), and the fractions asked for.
#[derive(Default)]
struct Sorted {
    fractions: Option<Fractions>,
    values: Vec<Value>,
}

fn fraction(text: &str) -> rusqlite::Result<f64> {
    let f: f64 = text.trim().parse().map_err(|_| {
        postgres_error(
            "22P02",
            &format!("invalid input syntax for type double precision: \"{text}\""),
        )
    })?;
    if !(0.0..=1.0).contains(&f) {
        return Err(postgres_error(
            "22003",
            &format!("percentile value {f} is not between 0 and 1"),
        ));
    }
    Ok(f)
}

fn fractions(v: ValueRef<'_>) -> rusqlite::Result<Option<Fractions>> {
    Ok(match v {
        ValueRef::Null => None,
        ValueRef::Text(t) if t.starts_with(b"{") => Some(Fractions::Array(
            elements(&String::from_utf8_lossy(t))
                .iter()
                .map(|e| e.as_deref().map(fraction).transpose())
                .collect::<rusqlite::Result<_>>()?,
        )),
        other => Some(Fractions::One(fraction(
            &element_text(other).unwrap_or_default(),
        )?)),
    })
}

/// percentile_cont (interpolating between neighbours, in double precision) or
/// percentile_disc (the first value at or past the fraction, as it is).
struct Percentile {
    continuous: bool,
}

impl Percentile {
    fn pick(&self, values: &[Value], f: f64) -> Value {
        let n = values.len();
        if self.continuous {
            let position = f * (n - 1) as f64;
            let (low, high) = (position.floor(), position.ceil());
            // step() keeps only numbers for percentile_cont.
            let number = |i: f64| match &values[i as usize] {
                Value::Real(r) => *r,
                _ => f64::NAN,
            };
            let lo = number(low);
            Value::Real(if high > low {
                lo + (number(high) - lo) * (position - low)
            } else {
                lo
            })
        } else {
            let row = ((f * n as f64).ceil() as usize).max(1);
            values[row - 1].clone()
        }
    }
}

impl Aggregate<Sorted, Value> for Percentile {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Sorted> {
        Ok(Sorted::default())
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Sorted) -> rusqlite::Result<()> {
        if acc.fractions.is_none() {
            acc.fractions = fractions(ctx.get_raw(0))?;
        }
        let value: Value = match ctx.get(1)? {
            Value::Null => return Ok(()),
            Value::Integer(i) if self.continuous => Value::Real(i as f64),
            // A numeric computed exactly arrives as its text.
            Value::Text(t) if self.continuous => {
                Value::Real(t.trim().parse().map_err(|_| {
                    postgres_error(
                        "0A000",
                        "percentile_cont of values that are not numbers (intervals) is not supported by litescale",
                    )
                })?)
            }
            Value::Blob(_) if self.continuous => {
                return Err(postgres_error(
                    "42883",
                    "function percentile_cont(double precision, bytea) does not exist",
                ));
            }
            value => value,
        };
        acc.values.push(value);
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, acc: Option<Sorted>) -> rusqlite::Result<Value> {
        let Some(Sorted {
            fractions: Some(fractions),
            values,
        }) = acc
        else {
            return Ok(Value::Null);
        };
        if values.is_empty() {
            return Ok(Value::Null);
        }
        Ok(match fractions {
            Fractions::One(f) => self.pick(&values, f),
            Fractions::Array(fs) => {
                let picked: Vec<Option<String>> = fs
                    .iter()
                    .map(|f| f.and_then(|f| element_text((&self.pick(&values, f)).into())))
                    .collect();
                Value::Text(render(&picked))
            }
        })
    }
}

/// mode(): the most frequent value, the first in the WITHIN GROUP order among equals.
struct Mode;

impl Aggregate<Sorted, Value> for Mode {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Sorted> {
        Ok(Sorted::default())
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Sorted) -> rusqlite::Result<()> {
        let value: Value = ctx.get(0)?;
        if value != Value::Null {
            acc.values.push(value);
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, acc: Option<Sorted>) -> rusqlite::Result<Value> {
        let values = acc.map(|a| a.values).unwrap_or_default();
        let mut best: Option<(&Value, usize)> = None;
        let mut start = 0;
        while start < values.len() {
            let run = values[start..]
                .iter()
                .take_while(|v| **v == values[start])
                .count();
            if best.is_none_or(|(_, count)| run > count) {
                best = Some((&values[start], run));
            }
            start += run;
        }
        Ok(best.map_or(Value::Null, |(v, _)| v.clone()))
    }
}

pub(crate) fn register(c: &Connection) -> rusqlite::Result<()> {
    for (name, operation) in [
        ("bit_and", Bitwise::And),
        ("bit_or", Bitwise::Or),
        ("bit_xor", Bitwise::Xor),
    ] {
        c.create_window_function(name, 1, FLAGS, BitAggregate(operation))?;
    }
    c.create_aggregate_function("pg_string_agg_distinct", 2, FLAGS, DistinctStringAgg)?;
    c.create_aggregate_function(
        "pg_percentile_cont",
        2,
        FLAGS,
        Percentile { continuous: true },
    )?;
    c.create_aggregate_function(
        "pg_percentile_disc",
        2,
        FLAGS,
        Percentile { continuous: false },
    )?;
    c.create_aggregate_function("pg_mode", 1, FLAGS, Mode)
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use rusqlite::types::Value;

    /// Each answer is PostgreSQL 15's over the same rows (the WITHIN GROUP order written
    /// as the aggregate's ORDER BY, as the router writes it).
    fn cases() -> Vec<(&'static str, Value)> {
        let text = |s: &str| Value::Text(s.to_owned());
        vec![
            (
                "SELECT bit_and(column1) FROM (VALUES (12), (10))",
                Value::Integer(8),
            ),
            (
                "SELECT bit_or(column1) FROM (VALUES (12), (10), (NULL))",
                Value::Integer(14),
            ),
            (
                "SELECT bit_xor(column1) FROM (VALUES (12), (10))",
                Value::Integer(6),
            ),
            ("SELECT bit_and(column1) FROM (VALUES (NULL))", Value::Null),
            (
                "SELECT bit_and(column1) FROM (VALUES (-1), (-2))",
                Value::Integer(-2),
            ),
            (
                "SELECT group_concat(b, ' ') FROM (SELECT bit_or(column1) OVER (ORDER BY column1 \
                 ROWS 1 PRECEDING) AS b FROM (VALUES (1), (2), (4)))",
                text("1 3 6"),
            ),
            (
                "SELECT pg_string_agg_distinct(p, ',' ORDER BY p) FROM t",
                text("apple,pear,plum"),
            ),
            (
                "SELECT pg_string_agg_distinct(p, '/' ORDER BY p DESC) FROM t",
                text("plum/pear/apple"),
            ),
            (
                "SELECT pg_percentile_cont(0.5, q ORDER BY q) FROM t",
                Value::Real(6.0),
            ),
            (
                "SELECT pg_percentile_cont('{0.25,0.75}', q ORDER BY q) FROM t",
                text("{4.25,9.25}"),
            ),
            (
                "SELECT pg_percentile_cont(0.25, q ORDER BY q DESC) FROM t",
                Value::Real(9.25),
            ),
            (
                "SELECT pg_percentile_disc(0.5, q ORDER BY q) FROM t",
                Value::Integer(5),
            ),
            (
                "SELECT pg_percentile_disc(0, q ORDER BY q) FROM t",
                Value::Integer(3),
            ),
            (
                "SELECT pg_percentile_disc('{0.5,NULL}', p ORDER BY p) FROM t",
                text("{apple,NULL}"),
            ),
            (
                "SELECT pg_percentile_cont(0.5, q ORDER BY q) FROM t WHERE false",
                Value::Null,
            ),
            ("SELECT pg_mode(p ORDER BY p) FROM t", text("apple")),
            ("SELECT pg_mode(q ORDER BY q) FROM t", Value::Integer(3)),
            (
                "SELECT pg_mode(q ORDER BY q DESC) FROM t",
                Value::Integer(12),
            ),
        ]
    }

    #[test]
    fn the_aggregates_answer_as_postgres() {
        let c = Connection::open_in_memory().unwrap();
        super::register(&c).unwrap();
        c.execute_batch(
            "CREATE TABLE t(p, q); INSERT INTO t VALUES ('apple', 10), ('pear', 5), \
             ('apple', 7), ('apple', 3), ('plum', 12), ('apple', NULL), (NULL, 4);",
        )
        .unwrap();
        for (sql, expected) in cases() {
            let answer: Value = c.query_row(sql, [], |r| r.get(0)).unwrap();
            assert_eq!(answer, expected, "{sql}");
        }
    }

    #[test]
    fn a_percentile_outside_zero_to_one_or_of_intervals_is_refused() {
        let c = Connection::open_in_memory().unwrap();
        super::register(&c).unwrap();
        let e = c
            .query_row("SELECT pg_percentile_cont(1.5, 1)", [], |r| {
                r.get::<_, Value>(0)
            })
            .unwrap_err();
        let error = crate::engine::sql::typecheck::error_of(&e.to_string()).unwrap();
        assert_eq!(error.sqlstate, "22003");
    }
}
