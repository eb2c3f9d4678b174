//! Postgres' statistical aggregates of double precision: the variance family of floats
//! (pg_float_var_samp, ...) and the two-variable ones (corr, covar_pop/samp, regr_*), as
//! float.c computes them: the Youngs-Cramer running sums, so the answers agree with
//! Postgres' to the last digit. Pairs with a NULL are skipped, as the strict transition
//! functions skip them.

use rusqlite::Connection;
use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::Value;

use super::super::args::float;

const FLAGS: FunctionFlags = FunctionFlags::SQLITE_UTF8.union(FunctionFlags::SQLITE_DETERMINISTIC);

/// float8_regr_accum's transition state: N, Σx, Σy and the sums of squared and crossed
/// deviations.
#[derive(Default)]
struct CoMoments {
    n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

impl CoMoments {
    fn add(&mut self, y: f64, x: f64) {
        let previous = self.n;
        self.n += 1.0;
        self.sx += x;
        self.sy += y;
        if previous > 0.0 {
            let dx = x * self.n - self.sx;
            let dy = y * self.n - self.sy;
            let scale = 1.0 / (self.n * previous);
            self.sxx += dx * dx * scale;
            self.syy += dy * dy * scale;
            self.sxy += dx * dy * scale;
        } else if !(x.is_finite() && y.is_finite()) {
            // float.c: an infinite or NaN first value leaves the deviations undefined.
            self.sxx = f64::NAN;
            self.syy = f64::NAN;
            self.sxy = f64::NAN;
        }
    }
}

/// What an aggregate answers from the running sums (the finals of float.c).
#[derive(Clone, Copy)]
enum Statistic {
    VarSamp,
    VarPop,
    StddevSamp,
    StddevPop,
    Corr,
    CovarPop,
    CovarSamp,
    RegrSlope,
    RegrIntercept,
    RegrR2,
    RegrAvgX,
    RegrAvgY,
    RegrSxx,
    RegrSyy,
    RegrSxy,
    RegrCount,
}

impl Statistic {
    /// The answer; `None` is SQL NULL.
    fn of(self, m: &CoMoments) -> Option<Value> {
        use Statistic::*;
        let n = m.n;
        let real = |f: f64| Some(Value::Real(f));
        match self {
            RegrCount => Some(Value::Integer(n as i64)),
            _ if n < 1.0 => None,
            VarSamp | StddevSamp | CovarSamp if n < 2.0 => None,
            VarSamp => real(m.sxx / (n - 1.0)),
            VarPop => real(m.sxx / n),
            StddevSamp => real((m.sxx / (n - 1.0)).sqrt()),
            StddevPop => real((m.sxx / n).sqrt()),
            CovarSamp => real(m.sxy / (n - 1.0)),
            CovarPop => real(m.sxy / n),
            RegrAvgX => real(m.sx / n),
            RegrAvgY => real(m.sy / n),
            RegrSxx => real(m.sxx),
            RegrSyy => real(m.syy),
            RegrSxy => real(m.sxy),
            // Per the SQL standard, vertical and horizontal lines have none of these.
            Corr if m.sxx == 0.0 || m.syy == 0.0 => None,
            Corr => real(m.sxy / (m.sxx * m.syy).sqrt()),
            RegrSlope | RegrIntercept | RegrR2 if m.sxx == 0.0 => None,
            RegrR2 if m.syy == 0.0 => real(1.0),
            RegrR2 => real((m.sxy * m.sxy) / (m.sxx * m.syy)),
            RegrSlope => real(m.sxy / m.sxx),
            RegrIntercept => real((m.sy - m.sx * m.sxy / m.sxx) / n),
        }
    }
}

struct StatisticAggregate(Statistic);

impl Aggregate<CoMoments, Value> for StatisticAggregate {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<CoMoments> {
        Ok(CoMoments::default())
    }

    fn step(&self, ctx: &mut Context<'_>, moments: &mut CoMoments) -> rusqlite::Result<()> {
        // One argument (the variance family) is its own second variable.
        let second = if ctx.len() > 1 { 1 } else { 0 };
        if let (Some(y), Some(x)) = (float(ctx, 0)?, float(ctx, second)?) {
            moments.add(y, x);
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, moments: Option<CoMoments>) -> rusqlite::Result<Value> {
        let moments = moments.unwrap_or_default();
        Ok(self.0.of(&moments).unwrap_or(Value::Null))
    }
}

pub(crate) fn register(c: &Connection) -> rusqlite::Result<()> {
    use Statistic::*;
    let functions = [
        ("pg_float_var_samp", 1, VarSamp),
        ("pg_float_var_pop", 1, VarPop),
        ("pg_float_stddev_samp", 1, StddevSamp),
        ("pg_float_stddev_pop", 1, StddevPop),
        ("corr", 2, Corr),
        ("covar_pop", 2, CovarPop),
        ("covar_samp", 2, CovarSamp),
        ("regr_slope", 2, RegrSlope),
        ("regr_intercept", 2, RegrIntercept),
        ("regr_r2", 2, RegrR2),
        ("regr_avgx", 2, RegrAvgX),
        ("regr_avgy", 2, RegrAvgY),
        ("regr_sxx", 2, RegrSxx),
        ("regr_syy", 2, RegrSyy),
        ("regr_sxy", 2, RegrSxy),
        ("regr_count", 2, RegrCount),
    ];
    for (name, arity, statistic) in functions {
        c.create_aggregate_function(name, arity, FLAGS, StatisticAggregate(statistic))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use rusqlite::types::Value;

    /// Each answer is PostgreSQL 15's over the same rows.
    const CASES: &[(&str, Value)] = &[
        (
            "SELECT corr(qty, price) FROM t",
            Value::Real(-0.7543117125344683),
        ),
        (
            "SELECT covar_pop(qty, price) FROM t",
            Value::Real(-0.8720000000000001),
        ),
        ("SELECT regr_slope(y, x) FROM p", Value::Real(2.0)),
        ("SELECT regr_intercept(y, x) FROM p", Value::Real(0.0)),
        ("SELECT regr_count(y, x) FROM p", Value::Integer(3)),
        (
            "SELECT regr_count(y, x) FROM p WHERE x > 9",
            Value::Integer(0),
        ),
        ("SELECT regr_r2(y, x) FROM p", Value::Real(1.0)),
        ("SELECT covar_samp(y, x) FROM p WHERE x = 1", Value::Null),
        ("SELECT corr(y, x) FROM p WHERE x = 1", Value::Null),
        ("SELECT pg_float_var_samp(x) FROM p", Value::Real(1.0)),
        (
            "SELECT pg_float_stddev_pop(y) FROM p",
            Value::Real(1.632993161855452),
        ),
        (
            "SELECT pg_float_var_samp(x) FROM p WHERE x = 1",
            Value::Null,
        ),
    ];

    #[test]
    fn statistics_answer_as_postgres() {
        let c = Connection::open_in_memory().unwrap();
        super::register(&c).unwrap();
        c.execute_batch(
            "CREATE TABLE t(qty, price); INSERT INTO t VALUES (10, 1.5), (5, 2.0), (7, 1.4), \
             (3, 1.6), (12, 0.9), (NULL, 1.55), (4, NULL);
             CREATE TABLE p(x, y); INSERT INTO p VALUES (1, 2), (2, 4), (3, 6);",
        )
        .unwrap();
        for (sql, expected) in CASES {
            let answer: Value = c.query_row(sql, [], |r| r.get(0)).unwrap();
            assert_eq!(&answer, expected, "{sql}");
        }
    }
}
