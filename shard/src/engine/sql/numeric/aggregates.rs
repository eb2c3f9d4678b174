//! sum and avg as Postgres computes them for integers and numerics: exactly, with the
//! result scale the inputs' largest scale decides (sum) or select_div_scale picks (avg).
//! Both are window functions too, with an inverse for sliding frames that keeps the
//! scale the values still in the frame have.

use std::collections::BTreeMap;

use rusqlite::functions::{Aggregate, Context, WindowAggregate};
use rusqlite::types::Value;

use super::value::{Numeric, average};
use super::{aggregate_argument, sql_error};

/// What the values seen so far add up to.
#[derive(Default)]
pub(super) struct Running {
    sum: Option<Numeric>,
    count: i64,
    /// How many values of each scale are in the sum, so that removing one (a sliding
    /// window frame) gives back the scale of those that remain.
    scales: BTreeMap<u32, i64>,
    /// Values that were not integers: with none, sum answers an integer, as Postgres'
    /// sum(int) answers bigint.
    fractional: i64,
}

impl Running {
    pub(super) fn add(&mut self, value: Numeric, sign: i64) {
        let scale = value.scale();
        *self.scales.entry(scale).or_default() += sign;
        if self.scales.get(&scale) == Some(&0) {
            self.scales.remove(&scale);
        }
        self.count += sign;
        let value = if sign < 0 { value.negate() } else { value };
        self.sum = Some(match self.sum.take() {
            Some(sum) => sum.add(&value),
            None => value,
        });
    }

    /// The sum at the largest scale among the values it holds.
    pub(super) fn total(&self) -> Option<Numeric> {
        if self.count == 0 {
            return None;
        }
        let scale = self.scales.keys().next_back().copied().unwrap_or(0);
        self.sum.as_ref().map(|s| s.round(i64::from(scale), true))
    }
}

/// Which of the two a [`NumericAggregate`] answers.
#[derive(Clone, Copy)]
pub(super) enum Fold {
    Sum,
    Avg,
}

pub(super) struct NumericAggregate(pub(super) Fold);

impl NumericAggregate {
    fn answer(&self, running: Option<&Running>) -> rusqlite::Result<Value> {
        let Some(running) = running else {
            return Ok(Value::Null);
        };
        let Some(total) = running.total() else {
            return Ok(Value::Null);
        };
        Ok(match self.0 {
            Fold::Sum if running.fractional == 0 => match total.to_sqlite_number() {
                Ok(super::value::SqliteNumber::Integer(i)) => Value::Integer(i),
                _ => Value::Text(total.to_string()),
            },
            Fold::Sum => Value::Text(total.to_string()),
            Fold::Avg => Value::Text(
                average(&total, running.count)
                    .map_err(sql_error)?
                    .to_string(),
            ),
        })
    }

    fn step_by(
        &self,
        ctx: &mut Context<'_>,
        running: &mut Running,
        sign: i64,
    ) -> rusqlite::Result<()> {
        let raw = ctx.get_raw(0);
        let integral = matches!(raw, rusqlite::types::ValueRef::Integer(_));
        let name = match self.0 {
            Fold::Sum => "sum",
            Fold::Avg => "avg",
        };
        if let Some(value) = aggregate_argument(raw, name)? {
            if !integral {
                running.fractional += sign;
            }
            running.add(value, sign);
        }
        Ok(())
    }
}

impl Aggregate<Running, Value> for NumericAggregate {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Running> {
        Ok(Running::default())
    }

    fn step(&self, ctx: &mut Context<'_>, running: &mut Running) -> rusqlite::Result<()> {
        self.step_by(ctx, running, 1)
    }

    fn finalize(&self, _: &mut Context<'_>, running: Option<Running>) -> rusqlite::Result<Value> {
        self.answer(running.as_ref())
    }
}

impl WindowAggregate<Running, Value> for NumericAggregate {
    fn value(&self, running: Option<&mut Running>) -> rusqlite::Result<Value> {
        self.answer(running.map(|r| &*r))
    }

    fn inverse(&self, ctx: &mut Context<'_>, running: &mut Running) -> rusqlite::Result<()> {
        self.step_by(ctx, running, -1)
    }
}
