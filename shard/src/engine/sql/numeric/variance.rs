//! var_samp, var_pop, stddev_samp and stddev_pop of integers and numerics as Postgres
//! computes them (numeric.c's numeric_stddev_internal): exactly from N, Σx and Σx², the
//! quotient at select_div_scale's scale and the root at the same scale. Window functions
//! too: removing a value subtracts it from both sums.

use rusqlite::functions::{Aggregate, Context, WindowAggregate};
use rusqlite::types::Value;

use super::aggregates::Running;
use super::value::Numeric;
use super::{aggregate_argument, sql_error};

/// Which of the four a [`VarianceAggregate`] answers.
#[derive(Clone, Copy)]
pub(super) struct Spread {
    /// Divides by N - 1 (a sample's) rather than N (a population's).
    pub(super) sample: bool,
    /// The square root of the variance.
    pub(super) root: bool,
}

/// Σx and Σx², each at the largest scale among its terms (as numeric.c's sums keep it).
#[derive(Default)]
pub(super) struct Moments {
    values: Running,
    squares: Running,
    count: i64,
}

pub(super) struct VarianceAggregate(pub(super) Spread);

impl VarianceAggregate {
    fn answer(&self, moments: Option<&Moments>) -> rusqlite::Result<Value> {
        let Some(moments) = moments else {
            return Ok(Value::Null);
        };
        let n = moments.count;
        if n == 0 || (self.0.sample && n == 1) {
            return Ok(Value::Null);
        }
        let (Some(sum), Some(squares)) = (moments.values.total(), moments.squares.total()) else {
            return Ok(Value::Null);
        };
        let count = Numeric::integer(n);
        let numerator = count.mul(&squares).sub(&sum.mul(&sum));
        let variance = match numerator {
            Numeric::NaN | Numeric::Infinity { .. } => Numeric::NaN,
            // Rounding can leave a tiny negative numerator; numeric.c answers zero.
            _ if numerator.compare(&Numeric::integer(0)).is_le() => Numeric::integer(0),
            _ => {
                let others = if self.0.sample { n - 1 } else { n };
                numerator
                    .div(&count.mul(&Numeric::integer(others)))
                    .map_err(sql_error)?
            }
        };
        let answer = if self.0.root && matches!(variance, Numeric::Finite { .. }) {
            variance.sqrt(variance.scale())
        } else {
            variance
        };
        Ok(Value::Text(answer.to_string()))
    }

    fn step_by(
        &self,
        ctx: &mut Context<'_>,
        moments: &mut Moments,
        sign: i64,
    ) -> rusqlite::Result<()> {
        let name = match (self.0.sample, self.0.root) {
            (true, true) => "stddev_samp",
            (false, true) => "stddev_pop",
            (true, false) => "var_samp",
            (false, false) => "var_pop",
        };
        if let Some(value) = aggregate_argument(ctx.get_raw(0), name)? {
            moments.squares.add(value.mul(&value), sign);
            moments.values.add(value, sign);
            moments.count += sign;
        }
        Ok(())
    }
}

impl Aggregate<Moments, Value> for VarianceAggregate {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Moments> {
        Ok(Moments::default())
    }

    fn step(&self, ctx: &mut Context<'_>, moments: &mut Moments) -> rusqlite::Result<()> {
        self.step_by(ctx, moments, 1)
    }

    fn finalize(&self, _: &mut Context<'_>, moments: Option<Moments>) -> rusqlite::Result<Value> {
        self.answer(moments.as_ref())
    }
}

impl WindowAggregate<Moments, Value> for VarianceAggregate {
    fn value(&self, moments: Option<&mut Moments>) -> rusqlite::Result<Value> {
        self.answer(moments.map(|m| &*m))
    }

    fn inverse(&self, ctx: &mut Context<'_>, moments: &mut Moments) -> rusqlite::Result<()> {
        self.step_by(ctx, moments, -1)
    }
}
