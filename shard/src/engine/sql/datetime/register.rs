//! The SQL names of the date/time functions: each reads its arguments (NULL in, NULL out),
//! calls the Rust that knows Postgres' rules, and answers in the stored forms.

use rusqlite::Connection;
use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::Value as SqlValue;

use super::super::args::{float, integer, text};
use super::interval::Interval;
use super::values::{self, Kind, Timestamp, Value, format_time};
use super::zones::{Sign, Zone};
use super::{Result, arithmetic, fields, input, interval_input, to_char};

/// The text arguments, or `None` when one is NULL.
fn texts<const N: usize>(ctx: &Context<'_>) -> Option<[String; N]> {
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = text(ctx, i)?;
    }
    Some(out)
}

/// The integer arguments from `from` on, or `None` when one is NULL.
fn integers<const N: usize>(ctx: &Context<'_>, from: usize) -> rusqlite::Result<Option<[i64; N]>> {
    let mut out = [0; N];
    for (i, slot) in out.iter_mut().enumerate() {
        let Some(v) = integer(ctx, from + i)? else {
            return Ok(None);
        };
        *slot = v;
    }
    Ok(Some(out))
}

/// A `kind`, value pair of arguments read as the value.
fn value_of(kind: &str, text: &str) -> Result<Value> {
    input::read(Kind::named(kind)?, text)
}

fn interval(text: &str) -> Result<Interval> {
    interval_input::parse(text)
}

/// Registers a strict function of `N` text arguments answering text.
fn text_function<const N: usize>(
    c: &Connection,
    name: &str,
    f: impl Fn([String; N]) -> Result<String> + Send + 'static,
) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    c.create_scalar_function(name, N as i32, flags, move |ctx| {
        Ok(texts(ctx).map(&f).transpose()?)
    })
}

pub(crate) fn register(c: &Connection) -> rusqlite::Result<()> {
    register_input(c)?;
    register_arithmetic(c)?;
    register_fields(c)?;
    register_constructors(c)?;
    register_aggregates(c)
}

fn register_input(c: &Connection) -> rusqlite::Result<()> {
    text_function(c, "pg_date", |[t]| input::date(&t)?.format())?;
    text_function(c, "pg_time", |[t]| Ok(format_time(input::time(&t)?)))?;
    text_function(c, "pg_timestamp", |[t]| input::timestamp(&t)?.format())?;
    text_function(c, "pg_timestamptz", |[t]| {
        input::timestamptz(&t)?.format_tz()
    })?;
    text_function(c, "pg_interval", |[t]| Ok(interval(&t)?.to_string()))?;
    text_function(c, "pg_interval", |[t, q]| {
        Ok(interval_input::parse_qualified(&t, &q)?.to_string())
    })?;
    text_function(c, "pg_to_char", |[kind, v, format]| {
        to_char::to_char(value_of(&kind, &v)?, &format)
    })?;
    text_function(c, "pg_to_date", |[t, format]| {
        to_char::to_date(&t, &format)?.format()
    })?;
    text_function(c, "pg_to_timestamp", |[t, format]| {
        to_char::to_timestamp(&t, &format)?.format_tz()
    })?;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    c.create_scalar_function("pg_to_timestamp", 1, flags, |ctx| {
        let Some(seconds) = float(ctx, 0)? else {
            return Ok(None);
        };
        Ok(Some(to_char::from_epoch(seconds)?.format_tz()?))
    })?;
    c.create_scalar_function("pg_isfinite", 2, flags, |ctx| {
        let Some([kind, v]) = texts(ctx) else {
            return Ok(None);
        };
        Ok(Some(match value_of(&kind, &v)? {
            Value::Date(d) => d.is_finite(),
            Value::Timestamp(t) | Value::Timestamptz(t) => t.is_finite(),
            Value::Time(_) | Value::Interval(_) => true,
        }))
    })?;
    c.create_scalar_function("pg_overlaps", 4, flags, |ctx| {
        let raw: Vec<Option<String>> = (0..4).map(|i| text(ctx, i)).collect();
        // Timestamps, dates and timestamptz compare as timestamps; times as times.
        let as_times = raw
            .iter()
            .flatten()
            .next()
            .is_some_and(|t| input::timestamp(t).is_err());
        let read = |t: &Option<String>| -> Result<Option<i64>> {
            t.as_deref()
                .map(|t| {
                    if as_times {
                        input::time(t)
                    } else {
                        Ok(input::timestamp(t)?.0)
                    }
                })
                .transpose()
        };
        let v: Vec<Option<i64>> = raw.iter().map(read).collect::<Result<_>>()?;
        Ok(arithmetic::overlaps(v[0], v[1], v[2], v[3]))
    })?;
    Ok(())
}

fn register_arithmetic(c: &Connection) -> rusqlite::Result<()> {
    text_function(c, "pg_add_interval", |[kind, v, i]| {
        arithmetic::plus_interval(value_of(&kind, &v)?, interval(&i)?)?.format()
    })?;
    text_function(c, "pg_sub_interval", |[kind, v, i]| {
        arithmetic::plus_interval(value_of(&kind, &v)?, interval(&i)?.checked_neg()?)?.format()
    })?;
    text_function(c, "pg_timestamp_diff", |[a, b]| {
        Ok(
            arithmetic::timestamp_diff(input::timestamptz(&a)?, input::timestamptz(&b)?)?
                .to_string(),
        )
    })?;
    text_function(c, "pg_time_diff", |[a, b]| {
        Ok(arithmetic::time_diff(input::time(&a)?, input::time(&b)?).to_string())
    })?;
    text_function(c, "pg_date_add_time", |[d, t]| {
        Timestamp::new(input::date(&d)?, input::time(&t)?).format()
    })?;
    text_function(c, "pg_interval_add", |[a, b]| {
        Ok(interval(&a)?.checked_add(interval(&b)?)?.to_string())
    })?;
    text_function(c, "pg_interval_sub", |[a, b]| {
        Ok(interval(&a)?.checked_sub(interval(&b)?)?.to_string())
    })?;
    text_function(c, "pg_interval_neg", |[a]| {
        Ok(interval(&a)?.checked_neg()?.to_string())
    })?;
    text_function(c, "pg_justify_days", |[a]| {
        Ok(interval(&a)?.justify_days()?.to_string())
    })?;
    text_function(c, "pg_justify_hours", |[a]| {
        Ok(interval(&a)?.justify_hours()?.to_string())
    })?;
    text_function(c, "pg_justify_interval", |[a]| {
        Ok(interval(&a)?.justify_interval()?.to_string())
    })?;
    text_function(c, "pg_age", |[kind, a, b]| {
        Ok(arithmetic::age(timestamp_of(&kind, &a)?, timestamp_of(&kind, &b)?)?.to_string())
    })?;
    text_function(c, "pg_age", |[kind, a]| {
        let midnight = input::today().at_midnight();
        Ok(arithmetic::age(midnight, timestamp_of(&kind, &a)?)?.to_string())
    })?;

    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    for (name, divide) in [("pg_interval_mul", false), ("pg_interval_div", true)] {
        c.create_scalar_function(name, 2, flags, move |ctx| {
            let (Some(i), Some(x)) = (text(ctx, 0), float(ctx, 1)?) else {
                return Ok(None);
            };
            let i = interval(&i)?;
            Ok(Some(if divide { i.div(x)? } else { i.mul(x)? }.to_string()))
        })?;
    }
    c.create_scalar_function("pg_interval_key", 1, flags, |ctx| {
        Ok(text(ctx, 0)
            .map(|i| interval(&i).map(Interval::key))
            .transpose()?)
    })?;
    c.create_scalar_function("pg_date_add_days", 2, flags, |ctx| {
        let (Some(d), Some(n)) = (text(ctx, 0), integer(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(
            arithmetic::date_plus_days(input::date(&d)?, n)?.format()?,
        ))
    })?;
    c.create_scalar_function("pg_date_diff", 2, flags, |ctx| {
        let Some([a, b]) = texts(ctx) else {
            return Ok(None);
        };
        Ok(Some(arithmetic::date_diff(
            input::date(&a)?,
            input::date(&b)?,
        )?))
    })?;
    Ok(())
}

/// A date, timestamp or timestamptz argument as the timestamp age works on.
fn timestamp_of(kind: &str, text: &str) -> Result<Timestamp> {
    Ok(match value_of(kind, text)? {
        Value::Date(d) => d.at_midnight(),
        Value::Timestamp(t) | Value::Timestamptz(t) => t,
        Value::Time(_) | Value::Interval(_) => {
            return Err(super::PgError::new(
                "42883",
                format!(
                    "function age({}) does not exist",
                    Kind::named(kind)?.type_name()
                ),
            ));
        }
    })
}

fn register_fields(c: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    c.create_scalar_function("pg_extract", 3, flags, |ctx| {
        let Some([field, kind, v]) = texts(ctx) else {
            return Ok(None);
        };
        Ok(
            fields::extract(&field, value_of(&kind, &v)?)?.map(|n| match n.as_integer() {
                Some(i) => SqlValue::Integer(i),
                None => SqlValue::Text(n.to_string()),
            }),
        )
    })?;
    c.create_scalar_function("pg_date_part", 3, flags, |ctx| {
        let Some([field, kind, v]) = texts(ctx) else {
            return Ok(None);
        };
        Ok(fields::date_part(&field, value_of(&kind, &v)?)?)
    })?;
    text_function(c, "pg_date_trunc", |[unit, kind, v]| {
        fields::date_trunc(&unit, value_of(&kind, &v)?, None)?.format()
    })?;
    text_function(c, "pg_date_trunc", |[unit, kind, v, zone]| {
        let zone = Zone::named(&zone, Sign::Posix)?;
        fields::date_trunc(&unit, value_of(&kind, &v)?, Some(zone))?.format()
    })?;
    text_function(c, "pg_at_time_zone", |[kind, v, zone]| {
        let zone = Zone::named(&zone, Sign::Posix)?;
        match value_of(&kind, &v)? {
            Value::Timestamp(t) => zone.to_utc(t)?.format_tz(),
            Value::Timestamptz(t) => zone.to_local(t)?.format(),
            // Postgres casts a date to timestamptz for AT TIME ZONE.
            Value::Date(d) => zone.to_local(d.at_midnight())?.format(),
            Value::Time(_) | Value::Interval(_) => Err(super::PgError::new(
                "42883",
                format!(
                    "function timezone(unknown, {}) does not exist",
                    Kind::named(&kind)?.type_name()
                ),
            )),
        }
    })?;
    Ok(())
}

fn register_constructors(c: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    c.create_scalar_function("pg_make_date", 3, flags, |ctx| {
        let Some([y, m, d]) = integers(ctx, 0)? else {
            return Ok(None);
        };
        Ok(Some(values::make_date(y, m, d)?.format()?))
    })?;
    c.create_scalar_function("pg_make_time", 3, flags, |ctx| {
        let (Some([h, m]), Some(s)) = (integers(ctx, 0)?, float(ctx, 2)?) else {
            return Ok(None);
        };
        Ok(Some(format_time(values::make_time(h, m, s)?)))
    })?;
    c.create_scalar_function("pg_make_timestamp", 6, flags, |ctx| {
        Ok(make_timestamp(ctx)?.map(|t| t.format()).transpose()?)
    })?;
    for arity in [6, 7] {
        c.create_scalar_function("pg_make_timestamptz", arity, flags, move |ctx| {
            let zone = if arity == 7 {
                match text(ctx, 6) {
                    Some(z) => Zone::named(&z, Sign::Iso)?,
                    None => return Ok(None),
                }
            } else {
                Zone::Fixed(0)
            };
            let Some(local) = make_timestamp(ctx)? else {
                return Ok(None);
            };
            Ok(Some(zone.to_utc(local)?.format_tz()?))
        })?;
    }
    c.create_scalar_function("pg_make_interval", 7, flags, |ctx| {
        let (Some(parts), Some(secs)) = (integers(ctx, 0)?, float(ctx, 6)?) else {
            return Ok(None);
        };
        Ok(Some(Interval::make(parts, secs)?.to_string()))
    })?;
    Ok(())
}

/// make_timestamp's six arguments as the local timestamp they name.
fn make_timestamp(ctx: &Context<'_>) -> rusqlite::Result<Option<Timestamp>> {
    let (Some([y, mo, d, h, mi]), Some(s)) = (integers(ctx, 0)?, float(ctx, 5)?) else {
        return Ok(None);
    };
    Ok(Some(Timestamp::new(
        values::make_date(y, mo, d)?,
        values::make_time(h, mi, s)?,
    )))
}

#[derive(Clone, Copy)]
enum Fold {
    Sum,
    Avg,
    Max,
    Min,
}

/// sum, avg, max and min of intervals; no non-NULL rows is NULL, as in Postgres.
struct IntervalAggregate(Fold);

impl Aggregate<(Option<Interval>, i64), Option<String>> for IntervalAggregate {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<(Option<Interval>, i64)> {
        Ok((None, 0))
    }

    fn step(
        &self,
        ctx: &mut Context<'_>,
        acc: &mut (Option<Interval>, i64),
    ) -> rusqlite::Result<()> {
        let Some(t) = text(ctx, 0) else {
            return Ok(());
        };
        let i = interval(&t)?;
        acc.1 += 1;
        acc.0 = Some(match (self.0, acc.0) {
            (_, None) => i,
            (Fold::Sum | Fold::Avg, Some(sum)) => sum.checked_add(i)?,
            // Postgres' interval_larger and interval_smaller keep the later of equals.
            (Fold::Max, Some(m)) => {
                if i.key() >= m.key() {
                    i
                } else {
                    m
                }
            }
            (Fold::Min, Some(m)) => {
                if i.key() <= m.key() {
                    i
                } else {
                    m
                }
            }
        });
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<(Option<Interval>, i64)>,
    ) -> rusqlite::Result<Option<String>> {
        let Some((Some(i), count)) = acc else {
            return Ok(None);
        };
        let i = match self.0 {
            Fold::Avg => i.div(count as f64)?,
            _ => i,
        };
        Ok(Some(i.to_string()))
    }
}

fn register_aggregates(c: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    for (name, fold) in [
        ("pg_interval_sum", Fold::Sum),
        ("pg_interval_avg", Fold::Avg),
        ("pg_interval_max", Fold::Max),
        ("pg_interval_min", Fold::Min),
    ] {
        c.create_aggregate_function(name, 1, flags, IntervalAggregate(fold))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use rusqlite::types::Value;

    fn connection() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        super::register(&c).unwrap();
        c
    }

    fn answer(c: &Connection, sql: &str) -> Value {
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn text(c: &Connection, sql: &str) -> String {
        match answer(c, sql) {
            Value::Text(t) => t,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn sqlstate(c: &Connection, sql: &str) -> &'static str {
        let e = c.query_row(sql, [], |r| r.get::<_, Value>(0)).unwrap_err();
        crate::engine::sql::typecheck::error_of(&e.to_string())
            .unwrap()
            .sqlstate
    }

    #[test]
    fn input_functions_answer_stored_forms() {
        let c = connection();
        assert_eq!(
            text(&c, "SELECT pg_interval('1.5 months')"),
            "1 mon 15 days"
        );
        assert_eq!(
            text(&c, "SELECT pg_interval('1 2', 'DAY TO HOUR')"),
            "1 day 02:00:00"
        );
        assert_eq!(text(&c, "SELECT pg_date('March 15, 2024')"), "2024-03-15");
        assert_eq!(
            text(&c, "SELECT pg_time('2024-03-15 10:20:30')"),
            "10:20:30"
        );
        assert_eq!(
            text(&c, "SELECT pg_timestamp('2024-03-15')"),
            "2024-03-15 00:00:00"
        );
        assert_eq!(
            text(
                &c,
                "SELECT pg_timestamptz('2024-03-15 10:20:30 America/New_York')"
            ),
            "2024-03-15 14:20:30+00:00"
        );
        assert_eq!(answer(&c, "SELECT pg_date(NULL)"), Value::Null);
        assert_eq!(sqlstate(&c, "SELECT pg_date('2024-02-30')"), "22008");
        assert_eq!(sqlstate(&c, "SELECT pg_interval('nonsense')"), "22007");
    }

    #[test]
    fn arithmetic_through_sqlite() {
        let c = connection();
        assert_eq!(
            text(
                &c,
                "SELECT pg_add_interval('date', '2024-01-31', '1 month')"
            ),
            "2024-02-29 00:00:00"
        );
        assert_eq!(
            text(
                &c,
                "SELECT pg_sub_interval('timestamp', '2024-03-15 10:00', '1 day 2 hours')"
            ),
            "2024-03-14 08:00:00"
        );
        assert_eq!(
            text(&c, "SELECT pg_add_interval('time', '23:00:00', '3 hours')"),
            "02:00:00"
        );
        assert_eq!(
            text(&c, "SELECT pg_date_add_days('2024-03-15', 30)"),
            "2024-04-14"
        );
        assert_eq!(
            answer(&c, "SELECT pg_date_diff('2025-01-01', '2024-01-01')"),
            Value::Integer(366)
        );
        assert_eq!(
            text(
                &c,
                "SELECT pg_timestamp_diff('2024-03-15 10:00', '2024-03-14 08:30')"
            ),
            "1 day 01:30:00"
        );
        assert_eq!(
            text(&c, "SELECT pg_time_diff('10:00', '08:15')"),
            "01:45:00"
        );
        assert_eq!(
            text(&c, "SELECT pg_date_add_time('2024-03-15', '10:30')"),
            "2024-03-15 10:30:00"
        );
        assert_eq!(
            text(&c, "SELECT pg_interval_mul('1 hour', 2.5)"),
            "02:30:00"
        );
        assert_eq!(text(&c, "SELECT pg_interval_div('1 day', 3)"), "08:00:00");
        assert_eq!(sqlstate(&c, "SELECT pg_interval_div('1 day', 0)"), "22012");
        assert_eq!(text(&c, "SELECT pg_interval_neg('1 day')"), "-1 days");
        assert_eq!(
            answer(
                &c,
                "SELECT pg_interval_key('1 day') = pg_interval_key('24 hours')"
            ),
            Value::Integer(1)
        );
        assert_eq!(
            answer(
                &c,
                "SELECT pg_interval_key('1 year') > pg_interval_key('360 days')"
            ),
            Value::Integer(0)
        );
        assert_eq!(
            text(&c, "SELECT pg_age('timestamp', '2001-04-10', '1957-06-13')"),
            "43 years 9 mons 27 days"
        );
        assert_eq!(
            text(&c, "SELECT pg_age('date', '2024-03-15', '2023-01-31')"),
            "1 year 1 mon 15 days"
        );
        assert_eq!(
            text(&c, "SELECT pg_justify_interval('1 mon -1 hour')"),
            "29 days 23:00:00"
        );
    }

    #[test]
    fn fields_zones_and_constructors_through_sqlite() {
        let c = connection();
        assert_eq!(
            answer(
                &c,
                "SELECT pg_extract('year', 'timestamp', '2024-03-15 10:20:30.5')"
            ),
            Value::Integer(2024)
        );
        assert_eq!(
            text(
                &c,
                "SELECT pg_extract('second', 'timestamp', '2024-03-15 10:20:30.5')"
            ),
            "30.500000"
        );
        assert_eq!(
            answer(&c, "SELECT pg_extract('year', 'date', NULL)"),
            Value::Null
        );
        assert_eq!(
            answer(&c, "SELECT pg_date_part('epoch', 'interval', '90 minutes')"),
            Value::Real(5400.0)
        );
        assert_eq!(
            sqlstate(&c, "SELECT pg_extract('hour', 'date', '2024-03-15')"),
            "0A000"
        );
        assert_eq!(
            text(&c, "SELECT pg_date_trunc('quarter', 'date', '2024-05-15')"),
            "2024-04-01 00:00:00+00:00"
        );
        assert_eq!(
            text(
                &c,
                "SELECT pg_date_trunc('day', 'timestamptz', '2024-03-15 10:20:30+00', 'Asia/Tokyo')"
            ),
            "2024-03-14 15:00:00+00:00"
        );
        assert_eq!(
            text(
                &c,
                "SELECT pg_at_time_zone('timestamp', '2024-03-15 10:00', 'Europe/Berlin')"
            ),
            "2024-03-15 09:00:00+00:00"
        );
        assert_eq!(
            text(
                &c,
                "SELECT pg_at_time_zone('timestamptz', '2024-03-15 10:00+00', 'America/New_York')"
            ),
            "2024-03-15 06:00:00"
        );
        assert_eq!(
            text(
                &c,
                "SELECT pg_at_time_zone('timestamptz', '2024-01-01 00:00+00', 'Australia/Sydney')"
            ),
            "2024-01-01 11:00:00"
        );
        assert_eq!(
            text(
                &c,
                "SELECT pg_at_time_zone('timestamptz', '2024-03-15 10:00+00', '+05')"
            ),
            "2024-03-15 05:00:00"
        );
        assert_eq!(
            sqlstate(
                &c,
                "SELECT pg_at_time_zone('timestamptz', '2024-03-15 10:00+00', 'Mars/Base')"
            ),
            "22023"
        );
        assert_eq!(text(&c, "SELECT pg_make_date(2024, 2, 29)"), "2024-02-29");
        assert_eq!(sqlstate(&c, "SELECT pg_make_date(2023, 2, 29)"), "22008");
        assert_eq!(text(&c, "SELECT pg_make_time(8, 15, 23.5)"), "08:15:23.5");
        assert_eq!(
            text(&c, "SELECT pg_make_timestamp(2013, 7, 15, 8, 15, 23.5)"),
            "2013-07-15 08:15:23.5"
        );
        assert_eq!(
            text(
                &c,
                "SELECT pg_make_timestamptz(2013, 7, 15, 8, 15, 23.5, 'America/New_York')"
            ),
            "2013-07-15 12:15:23.5+00:00"
        );
        assert_eq!(
            text(&c, "SELECT pg_make_interval(1, 2, 0, 3, 4, 5, 6.5)"),
            "1 year 2 mons 3 days 04:05:06.5"
        );
        assert_eq!(
            answer(&c, "SELECT pg_isfinite('timestamp', 'infinity')"),
            Value::Integer(0)
        );
        assert_eq!(
            answer(&c, "SELECT pg_isfinite('date', '2024-03-15')"),
            Value::Integer(1)
        );
        assert_eq!(
            answer(
                &c,
                "SELECT pg_overlaps('2024-01-01', '2024-02-01', '2024-01-15', '2024-03-01')"
            ),
            Value::Integer(1)
        );
    }

    #[test]
    fn interval_aggregates_as_postgres() {
        let c = connection();
        c.execute_batch(
            "CREATE TABLE d(v); INSERT INTO d VALUES ('1 day'), ('02:30:00'), ('1 year 2 mons'), ('-3 days'), (NULL), ('36:00:00');",
        )
        .unwrap();
        let agg = |f: &str| text(&c, &format!("SELECT {f}(v) FROM d"));
        assert_eq!(agg("pg_interval_sum"), "1 year 2 mons -2 days +38:30:00");
        assert_eq!(agg("pg_interval_avg"), "2 mons 24 days -01:54:00");
        assert_eq!(agg("pg_interval_max"), "1 year 2 mons");
        assert_eq!(agg("pg_interval_min"), "-3 days");
        assert_eq!(
            answer(&c, "SELECT pg_interval_sum(v) FROM d WHERE v IS NULL"),
            Value::Null
        );
    }
}
