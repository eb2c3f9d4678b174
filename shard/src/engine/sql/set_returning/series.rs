//! generate_series over integers, numerics and timestamps, and generate_subscripts.

use rusqlite::types::{Value, ValueRef};

use super::super::numeric::{Numeric, argument as numeric_argument};
use super::{Rows, any_null, no_rows, one_column, text_of};
use crate::engine::sql::arrays::{lower_bound, parse};
use crate::engine::sql::typecheck::postgres_error;

fn zero_step() -> rusqlite::Error {
    postgres_error("22023", "step size cannot equal zero")
}

/// generate_series(start, stop [, step]): integers while all three are, else numerics
/// (answered as the nearest SQLite number).
pub(super) fn numbers(args: Vec<Value>) -> rusqlite::Result<Rows> {
    if any_null(&args) {
        return Ok(no_rows());
    }
    if let Some(integers) = args
        .iter()
        .map(|a| match a {
            Value::Integer(i) => Some(*i),
            _ => None,
        })
        .collect::<Option<Vec<i64>>>()
    {
        let (start, stop, step) = match integers.as_slice() {
            [start, stop] => (*start, *stop, 1),
            [start, stop, step] => (*start, *stop, *step),
            _ => return Err(arity()),
        };
        if step == 0 {
            return Err(zero_step());
        }
        let mut next = Some(start);
        return Ok(Box::new(std::iter::from_fn(move || {
            let current = next?;
            if (step > 0 && current > stop) || (step < 0 && current < stop) {
                return None;
            }
            next = current.checked_add(step);
            Some(Ok(vec![Value::Integer(current)]))
        })));
    }
    let numerics = args
        .iter()
        .map(|a| numeric_argument(ValueRef::from(a)).map(|n| n.unwrap_or(Numeric::NaN)))
        .collect::<rusqlite::Result<Vec<Numeric>>>()?;
    let (start, stop, step) = match numerics.as_slice() {
        [start, stop] => (start.clone(), stop.clone(), Numeric::integer(1)),
        [start, stop, step] => (start.clone(), stop.clone(), step.clone()),
        _ => return Err(arity()),
    };
    for (value, name) in [(&start, "start"), (&stop, "stop"), (&step, "step size")] {
        if !matches!(value, Numeric::Finite { .. }) {
            return Err(postgres_error(
                "22023",
                &format!("{name} value cannot be NaN or infinity"),
            ));
        }
    }
    let direction = step.compare(&Numeric::integer(0));
    if direction == std::cmp::Ordering::Equal {
        return Err(zero_step());
    }
    let mut next = Some(start);
    Ok(Box::new(std::iter::from_fn(move || {
        let current = next.take()?;
        if current.compare(&stop) == direction {
            return None;
        }
        next = Some(current.add(&step));
        Some(
            current
                .nearest_sqlite_number()
                .map(|n| vec![n.into()])
                .map_err(|(sqlstate, message)| postgres_error(sqlstate, &message)),
        )
    })))
}

/// generate_series(timestamp, timestamp, interval), with or without time zone.
pub(super) fn timestamps(args: Vec<Value>, zoned: bool) -> rusqlite::Result<Rows> {
    let texts: Option<Vec<String>> = args.iter().map(text_of).collect();
    let Some([start, stop, step]) = texts.map(<[String; 3]>::try_from).and_then(Result::ok) else {
        return Ok(no_rows());
    };
    let series = crate::engine::sql::datetime::timestamp_series(&start, &stop, &step, zoned)?;
    Ok(Box::new(series.map(|t| t.map(|t| vec![Value::Text(t)]))))
}

/// generate_subscripts(array, dim [, reverse]): the subscripts of a dimension.
pub(super) fn subscripts(args: Vec<Value>) -> rusqlite::Result<Rows> {
    let (Some(array), Some(Value::Integer(dim))) = (args.first().and_then(text_of), args.get(1))
    else {
        return Ok(no_rows());
    };
    let dims = parse(&array)?.dims;
    let Some(length) = usize::try_from(dim - 1)
        .ok()
        .and_then(|d| dims.get(d).copied())
    else {
        return Ok(no_rows());
    };
    let lower = lower_bound(&array);
    let upper = lower + length as i64 - 1;
    let reverse = matches!(args.get(2), Some(Value::Integer(1)));
    let subscripts: Vec<i64> = if reverse {
        (lower..=upper).rev().collect()
    } else {
        (lower..=upper).collect()
    };
    Ok(one_column(subscripts.into_iter().map(Value::Integer)))
}

fn arity() -> rusqlite::Error {
    postgres_error("42883", "function generate_series takes 2 or 3 arguments")
}
