//! Date/time arithmetic as Postgres does it: an interval's months first (the day clamped
//! to the month's end), then its days, then its time; differences of timestamps as days
//! and time; age with borrowing from the calendar; date_trunc; OVERLAPS.

use chrono::{Datelike, Weekday};

use super::fields::Unit;
use super::interval::Interval;
use super::values::{
    Date, Timestamp, USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC, Value,
};
use super::zones::{self, Zone};
use super::{PgError, Result};

fn days_in_month(year: i64, month: i64) -> i64 {
    (28..=31)
        .rev()
        .find(|&d| Date::from_ymd(year, month, d).is_some())
        .unwrap_or(28)
}

/// Postgres' timestamp_pl_interval. An infinite timestamp stays infinite.
pub(super) fn timestamp_plus(t: Timestamp, i: Interval, type_name: &str) -> Result<Timestamp> {
    if !t.is_finite() {
        return Ok(t);
    }
    let out_of_range = || PgError::out_of_range(type_name);
    let mut t = t;
    if i.months != 0 {
        let f = t.fields()?;
        let months =
            i64::from(f.date.year()) * 12 + i64::from(f.date.month0()) + i64::from(i.months);
        let (year, month) = (months.div_euclid(12), months.rem_euclid(12) + 1);
        let day = i64::from(f.date.day()).min(days_in_month(year, month));
        let date = Date::from_ymd(year, month, day).ok_or_else(out_of_range)?;
        t = Timestamp::new(date, t.time());
    }
    if i.days != 0 {
        t = Timestamp::new(Date::from_days(t.date().0 + i64::from(i.days))?, t.time());
    }
    t.plus(i.micros, type_name)
}

/// Postgres' timestamptz_pl_interval: months and days move the local date in the
/// session's zone (a day is 23 or 25 hours across a change of clocks), the rest is time.
pub(super) fn timestamptz_plus(t: Timestamp, i: Interval) -> Result<Timestamp> {
    const NAME: &str = "timestamp with time zone";
    let zone = zones::current();
    if !t.is_finite() || zone == Zone::Fixed(0) || (i.months == 0 && i.days == 0) {
        return timestamp_plus(t, i, NAME);
    }
    let local = timestamp_plus(zone.to_local(t)?, Interval::new(i.months, i.days, 0), NAME)?;
    zone.to_utc(local)?.plus(i.micros, NAME)
}

/// Postgres' time_pl_interval: the time part only, around the clock.
pub(super) fn time_plus(t: i64, i: Interval) -> i64 {
    (t + i.micros % USECS_PER_DAY).rem_euclid(USECS_PER_DAY)
}

/// `value + interval`: a date gives a timestamp, the other kinds their own.
pub(super) fn plus_interval(value: Value, i: Interval) -> Result<Value> {
    Ok(match value {
        Value::Date(d) => Value::Timestamp(timestamp_plus(d.at_midnight(), i, "timestamp")?),
        Value::Timestamp(t) => Value::Timestamp(timestamp_plus(t, i, "timestamp")?),
        Value::Timestamptz(t) => Value::Timestamptz(timestamptz_plus(t, i)?),
        Value::Time(t) => Value::Time(time_plus(t, i)),
        Value::Interval(v) => Value::Interval(v.checked_add(i)?),
    })
}

/// `date + integer`.
pub(super) fn date_plus_days(d: Date, days: i64) -> Result<Date> {
    if !d.is_finite() {
        return Ok(d);
    }
    Date::from_days(
        d.0.checked_add(days)
            .ok_or_else(|| PgError::out_of_range("date"))?,
    )
}

/// `date - date`, in days.
pub(super) fn date_diff(a: Date, b: Date) -> Result<i64> {
    if !a.is_finite() || !b.is_finite() {
        return Err(PgError::new("22008", "cannot subtract infinite dates"));
    }
    Ok(a.0 - b.0)
}

/// `timestamp - timestamp`: the time between, whole days split out (Postgres' timestamp_mi,
/// which justifies hours: `1 day 01:30:00`, never `25:30:00`).
pub(super) fn timestamp_diff(a: Timestamp, b: Timestamp) -> Result<Interval> {
    if !a.is_finite() || !b.is_finite() {
        return Err(PgError::new("22008", "cannot subtract infinite timestamps"));
    }
    let micros =
        a.0.checked_sub(b.0)
            .ok_or_else(|| PgError::out_of_range("interval"))?;
    Interval::new(0, 0, micros).justify_hours()
}

/// `time - time`.
pub(super) fn time_diff(a: i64, b: i64) -> Interval {
    Interval::new(0, 0, a - b)
}

/// Postgres' age: field by field differences, negative fields borrowing from the next one
/// up; days borrow the length of the month of the earlier timestamp.
pub(super) fn age(a: Timestamp, b: Timestamp) -> Result<Interval> {
    if !a.is_finite() || !b.is_finite() {
        return Err(PgError::new("22008", "cannot subtract infinite timestamps"));
    }
    let (fa, fb) = (a.fields()?, b.fields()?);
    let flip = if a < b { -1 } else { 1 };
    // micro, second, minute, hour, day: each borrows from the next.
    let mut low = [
        flip * (fa.micro - fb.micro),
        flip * (fa.second - fb.second),
        flip * (fa.minute - fb.minute),
        flip * (fa.hour - fb.hour),
        flip * (i64::from(fa.date.day()) - i64::from(fb.date.day())),
    ];
    for (i, span) in [USECS_PER_SEC, 60, 60, 24].into_iter().enumerate() {
        while low[i] < 0 {
            low[i] += span;
            low[i + 1] -= 1;
        }
    }
    let [micro, second, minute, hour, mut day] = low;
    let mut month = flip * (i64::from(fa.date.month()) - i64::from(fb.date.month()));
    let mut year = flip * (i64::from(fa.date.year()) - i64::from(fb.date.year()));
    let earlier = if a < b { fa.date } else { fb.date };
    let borrow = days_in_month(i64::from(earlier.year()), i64::from(earlier.month()));
    while day < 0 {
        day += borrow;
        month -= 1;
    }
    while month < 0 {
        month += 12;
        year -= 1;
    }
    let overflow = || PgError::out_of_range("interval");
    let months = i32::try_from(flip * (year * 12 + month)).map_err(|_| overflow())?;
    let days = i32::try_from(flip * day).map_err(|_| overflow())?;
    let micros =
        flip * (hour * USECS_PER_HOUR + minute * USECS_PER_MINUTE + second * USECS_PER_SEC + micro);
    Ok(Interval::new(months, days, micros))
}

/// Postgres' OVERLAPS on comparable values: each pair is put in order, a NULL end is the
/// start, and two periods overlap when each starts before the other ends (an instant
/// period overlaps one that holds it). NULL when the answer depends on a NULL.
pub(super) fn overlaps<T: PartialOrd + Copy>(
    s1: Option<T>,
    e1: Option<T>,
    s2: Option<T>,
    e2: Option<T>,
) -> Option<bool> {
    let order = |s: Option<T>, e: Option<T>| match (s, e) {
        (Some(s), Some(e)) if e < s => (Some(e), Some(s)),
        (None, e) => (e, None),
        other => other,
    };
    let (s1, e1) = order(s1, e1);
    let (s2, e2) = order(s2, e2);
    let (s1, s2) = (s1?, s2?);
    if s1 > s2 {
        // s2 < s1: they overlap if s1 is before e2.
        let e2 = e2?;
        if s1 < e2 {
            return Some(true);
        }
        e1?;
        Some(false)
    } else if s1 < s2 {
        let e1 = e1?;
        if s2 < e1 {
            return Some(true);
        }
        e2?;
        Some(false)
    } else {
        // Same start: they overlap, if both periods are known.
        e1?;
        e2?;
        Some(true)
    }
}

/// Postgres' `date_trunc(unit, value [, zone])`. A date truncates as the timestamptz
/// Postgres casts it to, and a time as the interval it casts to.
pub(super) fn date_trunc(unit: &str, value: Value, zone: Option<Zone>) -> Result<Value> {
    let name = unit.trim().to_ascii_lowercase();
    let kind = value.kind();
    let unit = Unit::of_word(&name).ok_or_else(|| PgError::unit_not_recognized(&name, kind))?;
    let unsupported = || PgError::unit_not_supported(&name, kind);
    match value {
        Value::Date(d) => {
            let instant = zones::current().to_utc(d.at_midnight())?;
            date_trunc(&name, Value::Timestamptz(instant), zone)
        }
        Value::Time(t) => date_trunc(&name, Value::Interval(Interval::new(0, 0, t)), zone),
        Value::Timestamp(t) => Ok(Value::Timestamp(
            truncate(unit, t).ok_or_else(unsupported)??,
        )),
        Value::Timestamptz(t) if !t.is_finite() => Ok(value),
        Value::Timestamptz(t) => {
            let zone = zone.unwrap_or_else(zones::current);
            let local = zone.to_local(t)?;
            let truncated = truncate(unit, local).ok_or_else(unsupported)??;
            // Units of a day or more land on a local midnight, whose offset may differ
            // from the original's; smaller units keep the original offset.
            Ok(Value::Timestamptz(if unit >= Unit::Day {
                zone.to_utc(truncated)?
            } else {
                truncated.plus(t.0 - local.0, "timestamp with time zone")?
            }))
        }
        Value::Interval(i) => Ok(Value::Interval(
            truncate_interval(unit, i).ok_or_else(unsupported)?,
        )),
    }
}

/// A timestamp's fields below `unit` reset; `None` for a unit that is no truncation.
fn truncate(unit: Unit, t: Timestamp) -> Option<Result<Timestamp>> {
    if !t.is_finite() {
        return Some(Ok(t));
    }
    if unit > Unit::Millennium {
        return None;
    }
    let f = match t.fields() {
        Ok(f) => f,
        Err(e) => return Some(Err(e)),
    };
    if unit == Unit::Week {
        let monday = f.date.week(Weekday::Mon).first_day();
        return Some(Ok(Timestamp::new(Date::from_naive(monday), 0)));
    }
    let mut time = t.time();
    for (from, span) in [
        (Unit::Millisecond, 1_000),
        (Unit::Second, USECS_PER_SEC),
        (Unit::Minute, USECS_PER_MINUTE),
        (Unit::Hour, USECS_PER_HOUR),
        (Unit::Day, USECS_PER_DAY),
    ] {
        if unit >= from {
            time = time / span * span;
        }
    }
    let mut year = i64::from(f.date.year());
    let mut month = i64::from(f.date.month());
    let day = if unit >= Unit::Month {
        1
    } else {
        i64::from(f.date.day())
    };
    if unit >= Unit::Quarter {
        month = (month - 1) / 3 * 3 + 1;
    }
    if unit >= Unit::Year {
        month = 1;
    }
    year = match unit {
        Unit::Millennium if year > 0 => (year + 999) / 1000 * 1000 - 999,
        Unit::Millennium => -((999 - (year - 1)) / 1000) * 1000 + 1,
        Unit::Century if year > 0 => (year + 99) / 100 * 100 - 99,
        Unit::Century => -((99 - (year - 1)) / 100) * 100 + 1,
        Unit::Decade if year > 0 => year / 10 * 10,
        Unit::Decade => -((8 - (year - 1)) / 10) * 10,
        _ => year,
    };
    Some(
        Date::from_ymd(year, month, day)
            .map(|d| Timestamp::new(d, time))
            .ok_or_else(|| PgError::out_of_range("timestamp")),
    )
}

/// An interval's fields below `unit` reset; weeks are no truncation of an interval.
fn truncate_interval(unit: Unit, i: Interval) -> Option<Interval> {
    if unit == Unit::Week || unit > Unit::Millennium {
        return None;
    }
    let mut years = i.months / 12;
    let mut months = i.months % 12;
    let days = if unit >= Unit::Month { 0 } else { i.days };
    let mut micros = i.micros;
    for (from, span) in [
        (Unit::Millisecond, 1_000),
        (Unit::Second, USECS_PER_SEC),
        (Unit::Minute, USECS_PER_MINUTE),
        (Unit::Hour, USECS_PER_HOUR),
    ] {
        if unit >= from {
            micros = micros / span * span;
        }
    }
    if unit >= Unit::Day {
        micros = 0;
    }
    if unit >= Unit::Quarter {
        months = months / 3 * 3;
    }
    if unit >= Unit::Year {
        months = 0;
    }
    for (from, span) in [
        (Unit::Decade, 10),
        (Unit::Century, 100),
        (Unit::Millennium, 1000),
    ] {
        if unit >= from {
            years = years / span * span;
        }
    }
    Some(Interval::new(years * 12 + months, days, micros))
}

/// `a ± b` on stored values whose types the plan did not know, read by their forms
/// ([`super::input::stored_kind`]); `b_days` is `b` when it is a whole number. `None`
/// when the pair is no date/time arithmetic Postgres has.
pub(super) fn untyped(
    a: &str,
    b: &str,
    b_days: Option<i64>,
    subtract: bool,
) -> Option<Result<UntypedAnswer>> {
    use super::input::{read, stored_kind};
    use super::values::Kind;
    let ka = stored_kind(a)?;
    // A short interval is kept as `01:30:00`, the form of a time: beside a date or a
    // timestamp it can only be an interval.
    let kb = match (ka, stored_kind(b)) {
        (Kind::Date | Kind::Timestamp | Kind::Timestamptz, Some(Kind::Time)) => {
            Some(Kind::Interval)
        }
        (_, kb) => kb,
    };
    let answer = move || -> Result<Option<UntypedAnswer>> {
        let value = |k, t| read(k, t);
        Ok(Some(match (ka, kb, b_days) {
            (Kind::Date, _, Some(n)) => {
                let n = if subtract {
                    n.checked_neg()
                        .ok_or_else(|| PgError::out_of_range("date"))?
                } else {
                    n
                };
                UntypedAnswer::Text(date_plus_days(super::input::date(a)?, n)?.format()?)
            }
            (Kind::Date, Some(Kind::Date), _) if subtract => {
                UntypedAnswer::Integer(date_diff(super::input::date(a)?, super::input::date(b)?)?)
            }
            (_, Some(Kind::Interval), _) => {
                let i = super::interval::parse(b)?;
                let i = if subtract { i.checked_neg()? } else { i };
                UntypedAnswer::Text(plus_interval(value(ka, a)?, i)?.format()?)
            }
            (Kind::Interval, Some(kb), _) if !subtract => {
                let i = super::interval::parse(a)?;
                UntypedAnswer::Text(plus_interval(value(kb, b)?, i)?.format()?)
            }
            (Kind::Time, Some(Kind::Time), _) if subtract => UntypedAnswer::Text(
                time_diff(super::input::time(a)?, super::input::time(b)?).to_string(),
            ),
            (
                Kind::Date | Kind::Timestamp | Kind::Timestamptz,
                Some(Kind::Date | Kind::Timestamp | Kind::Timestamptz),
                _,
            ) if subtract => UntypedAnswer::Text(
                timestamp_diff(super::input::timestamptz(a)?, super::input::timestamptz(b)?)?
                    .to_string(),
            ),
            _ => return Ok(None),
        }))
    };
    answer().transpose()
}

/// What [`untyped`] answers: a date/time value's stored text, or a number of days.
#[derive(Debug, PartialEq)]
pub(super) enum UntypedAnswer {
    Text(String),
    Integer(i64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sql::datetime::golden::{check, text};
    use crate::engine::sql::datetime::values::Kind;
    use crate::engine::sql::datetime::zones::Sign;
    use crate::engine::sql::datetime::{input, interval};

    fn value(kind: &str, text: &str) -> Value {
        input::read(Kind::named(kind).unwrap(), text).unwrap()
    }

    fn ts(text: &str) -> Timestamp {
        input::timestamp(text).unwrap()
    }

    #[test]
    fn adding_intervals_months_first_clamped_to_month_end() {
        let cases = "
            date | 2024-03-15 | 1 month | 2024-04-15 00:00:00
            date | 2024-01-31 | 1 month | 2024-02-29 00:00:00
            date | 2024-02-29 | 1 year | 2025-02-28 00:00:00
            date | 2024-02-29 | -1 year | 2023-02-28 00:00:00
            date | 2024-03-15 | -2 weeks | 2024-03-01 00:00:00
            date | 2024-01-01 | 1 week | 2024-01-08 00:00:00
            timestamp | 2024-03-15 10:00 | 90 minutes | 2024-03-15 11:30:00
            timestamp | 2024-03-15 10:00 | -1 day -2 hours | 2024-03-14 08:00:00
            timestamp | 2024-01-31 10:00 | 1 month | 2024-02-29 10:00:00
            timestamp | 2024-01-01 00:00 | 1 year 2 mons | 2025-03-01 00:00:00
            timestamp | 1999-12-31 23:59:59.999999 | 1 hour | 2000-01-01 00:59:59.999999
            timestamp | infinity | 1 day | infinity
            timestamp | 2024-01-01 | 2147483647 days | ERROR 22008
            timestamptz | 2024-03-09 12:00+00 | 1 day | 2024-03-10 12:00:00+00:00
            time | 10:00 | 3 hours | 13:00:00
            time | 23:00 | 3 hours | 02:00:00
            time | 01:00 | -3 hours | 22:00:00
        ";
        check(cases, |a| {
            let i = interval::parse(a[2]).unwrap();
            text(plus_interval(value(a[0], a[1]), i).and_then(Value::format))
        });
    }

    #[test]
    fn date_and_timestamp_differences() {
        let d = |text| input::date(text).unwrap();
        assert_eq!(date_diff(d("2024-03-01"), d("2024-02-01")), Ok(29));
        assert_eq!(date_diff(d("2025-01-01"), d("2024-01-01")), Ok(366));
        assert_eq!(date_plus_days(d("2024-03-15"), 30), Ok(d("2024-04-14")));
        assert_eq!(date_plus_days(d("2024-03-15"), -1), Ok(d("2024-03-14")));
        let cases = "
            2024-03-15 10:00 | 2024-03-14 08:30 | 1 day 01:30:00
            2024-01-01 00:00 | 2023-01-01 00:00 | 365 days
            2024-03-15 10:00 | 2024-03-10 08:00 | 5 days 02:00:00
            2024-03-14 08:30 | 2024-03-15 10:00 | -1 days -01:30:00
            infinity | 2024-01-01 | ERROR 22008
        ";
        check(cases, |a| text(timestamp_diff(ts(a[0]), ts(a[1]))));
        let t = |text| input::time(text).unwrap();
        assert_eq!(time_diff(t("10:00"), t("08:15")).to_string(), "01:45:00");
    }

    #[test]
    fn age_borrows_from_the_calendar() {
        let cases = "
            2001-04-10 | 1957-06-13 | 43 years 9 mons 27 days
            2024-03-15 | 2023-01-31 | 1 year 1 mon 15 days
            2024-03-15 10:00 | 2024-03-15 08:30 | 01:30:00
            2024-03-15 | 2023-03-15 | 1 year
            1957-06-13 | 2001-04-10 | -43 years -9 mons -27 days
        ";
        check(cases, |a| text(age(ts(a[0]), ts(a[1]))));
    }

    #[test]
    fn date_trunc_of_each_kind() {
        let cases = "
            month | timestamp | 2024-03-15 10:20:30 | 2024-03-01 00:00:00
            year | timestamp | 2024-03-15 10:20:30 | 2024-01-01 00:00:00
            hour | timestamp | 2024-03-15 10:20:30 | 2024-03-15 10:00:00
            week | timestamp | 2024-03-15 10:20:30 | 2024-03-11 00:00:00
            decade | timestamp | 2024-03-15 10:20:30 | 2020-01-01 00:00:00
            century | timestamp | 2024-03-15 10:20:30 | 2001-01-01 00:00:00
            millisecond | timestamp | 2024-03-15 10:20:30.123456 | 2024-03-15 10:20:30.123
            quarter | date | 2024-05-15 | 2024-04-01 00:00:00+00:00
            day | timestamptz | 2024-03-15 10:20:30+00 | 2024-03-15 00:00:00+00:00
            hour | interval | 3 days 4 hours 5 minutes | 3 days 04:00:00
            hour | time | 10:20:30 | 10:00:00
            epoch | timestamp | 2024-03-15 10:20:30 | ERROR 22023
            dow | timestamp | 2024-03-15 10:20:30 | ERROR 22023
            week | interval | 1 day | ERROR 0A000
        ";
        check(cases, |a| {
            text(date_trunc(a[0], value(a[1], a[2]), None).and_then(Value::format))
        });
        let tokyo = Zone::lookup("Asia/Tokyo", Sign::Posix);
        let day = date_trunc("day", value("timestamptz", "2024-03-15 10:20:30+00"), tokyo);
        assert_eq!(
            text(day.and_then(Value::format)),
            "2024-03-14 15:00:00+00:00"
        );
    }

    #[test]
    fn overlaps_follows_postgres() {
        let cases = "
            2024-01-01 | 2024-02-01 | 2024-01-15 | 2024-03-01 | Some(true)
            2024-01-01 | 2024-02-01 | 2024-02-01 | 2024-03-01 | Some(false)
            2024-02-01 | 2024-01-01 | 2024-01-15 | 2024-01-16 | Some(true)
            2024-01-01 | NULL | 2024-01-01 | 2024-03-01 | None
            2024-01-01 | NULL | 2023-12-01 | 2024-03-01 | Some(true)
            2024-01-01 | NULL | 2024-02-01 | 2024-03-01 | None
        ";
        check(cases, |a| {
            let d = |i: usize| (a[i] != "NULL").then(|| input::date(a[i]).unwrap());
            format!("{:?}", overlaps(d(0), d(1), d(2), d(3)))
        });
    }
}
