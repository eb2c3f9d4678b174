//! Date/time arithmetic as Postgres does it: an interval's months first (the day clamped
//! to the month's end), then its days, then its time; differences of timestamps as days
//! and time; age with borrowing from the calendar; OVERLAPS.

use chrono::Datelike;

use super::interval::Interval;
use super::values::{
    Date, Timestamp, USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC, Value,
};
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
        t = Timestamp::new(Date(t.date().0 + i64::from(i.days)), t.time());
        t.fields()?;
    }
    t.plus(i.micros, type_name)
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
        Value::Timestamptz(t) => {
            Value::Timestamptz(timestamp_plus(t, i, "timestamp with time zone")?)
        }
        Value::Time(t) => Value::Time(time_plus(t, i)),
        Value::Interval(v) => Value::Interval(v.checked_add(i)?),
    })
}

/// `date + integer`.
pub(super) fn date_plus_days(d: Date, days: i64) -> Result<Date> {
    if !d.is_finite() {
        return Ok(d);
    }
    let out = Date(
        d.0.checked_add(days)
            .ok_or_else(|| PgError::out_of_range("date"))?,
    );
    out.naive()?;
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sql::datetime::{input, interval_input};

    fn ts(text: &str) -> Timestamp {
        input::timestamp(text).unwrap()
    }

    fn iv(text: &str) -> Interval {
        interval_input::parse(text).unwrap()
    }

    fn plus(value: Value, interval: &str) -> String {
        plus_interval(value, iv(interval))
            .unwrap()
            .format()
            .unwrap()
    }

    #[test]
    fn adding_intervals_months_first_clamped_to_month_end() {
        let date = |t| Value::Date(input::date(t).unwrap());
        assert_eq!(plus(date("2024-03-15"), "1 month"), "2024-04-15 00:00:00");
        assert_eq!(plus(date("2024-01-31"), "1 month"), "2024-02-29 00:00:00");
        assert_eq!(plus(date("2024-02-29"), "1 year"), "2025-02-28 00:00:00");
        assert_eq!(plus(date("2024-02-29"), "-1 year"), "2023-02-28 00:00:00");
        assert_eq!(plus(date("2024-03-15"), "-2 weeks"), "2024-03-01 00:00:00");
        assert_eq!(plus(date("2024-01-01"), "1 week"), "2024-01-08 00:00:00");
        let t = |text| Value::Timestamp(ts(text));
        assert_eq!(
            plus(t("2024-03-15 10:00"), "90 minutes"),
            "2024-03-15 11:30:00"
        );
        assert_eq!(
            plus(t("2024-03-15 10:00"), "-1 day -2 hours"),
            "2024-03-14 08:00:00"
        );
        assert_eq!(
            plus(t("2024-01-31 10:00"), "1 month"),
            "2024-02-29 10:00:00"
        );
        assert_eq!(
            plus(t("2024-01-01 00:00"), "1 year 2 mons"),
            "2025-03-01 00:00:00"
        );
        assert_eq!(
            plus(t("1999-12-31 23:59:59.999999"), "1 hour"),
            "2000-01-01 00:59:59.999999"
        );
        assert_eq!(plus(t("infinity"), "1 day"), "infinity");
        let tz = Value::Timestamptz(input::timestamptz("2024-03-09 12:00+00").unwrap());
        assert_eq!(plus(tz, "1 day"), "2024-03-10 12:00:00+00:00");
        let time = |text| Value::Time(input::time(text).unwrap());
        assert_eq!(plus(time("10:00"), "3 hours"), "13:00:00");
        assert_eq!(plus(time("23:00"), "3 hours"), "02:00:00");
        assert_eq!(plus(time("01:00"), "-3 hours"), "22:00:00");
    }

    #[test]
    fn date_and_timestamp_differences() {
        let d = |text| input::date(text).unwrap();
        assert_eq!(date_diff(d("2024-03-01"), d("2024-02-01")).unwrap(), 29);
        assert_eq!(date_diff(d("2025-01-01"), d("2024-01-01")).unwrap(), 366);
        assert_eq!(
            date_plus_days(d("2024-03-15"), 30).unwrap(),
            d("2024-04-14")
        );
        assert_eq!(
            date_plus_days(d("2024-03-15"), -1).unwrap(),
            d("2024-03-14")
        );
        let diff = |a, b| timestamp_diff(ts(a), ts(b)).unwrap().to_string();
        assert_eq!(
            diff("2024-03-15 10:00", "2024-03-14 08:30"),
            "1 day 01:30:00"
        );
        assert_eq!(diff("2024-01-01 00:00", "2023-01-01 00:00"), "365 days");
        assert_eq!(
            diff("2024-03-15 10:00", "2024-03-10 08:00"),
            "5 days 02:00:00"
        );
        assert_eq!(
            diff("2024-03-14 08:30", "2024-03-15 10:00"),
            "-1 days -01:30:00"
        );
        let t = |text| input::time(text).unwrap();
        assert_eq!(time_diff(t("10:00"), t("08:15")).to_string(), "01:45:00");
        assert_eq!(
            timestamp_diff(ts("infinity"), ts("2024-01-01"))
                .unwrap_err()
                .sqlstate,
            "22008"
        );
    }

    #[test]
    fn age_borrows_from_the_calendar() {
        let age_of = |a, b| age(ts(a), ts(b)).unwrap().to_string();
        assert_eq!(
            age_of("2001-04-10", "1957-06-13"),
            "43 years 9 mons 27 days"
        );
        assert_eq!(age_of("2024-03-15", "2023-01-31"), "1 year 1 mon 15 days");
        assert_eq!(age_of("2024-03-15 10:00", "2024-03-15 08:30"), "01:30:00");
        assert_eq!(age_of("2024-03-15", "2023-03-15"), "1 year");
        assert_eq!(
            age_of("1957-06-13", "2001-04-10"),
            "-43 years -9 mons -27 days"
        );
    }

    #[test]
    fn overlaps_follows_postgres() {
        let d = |text| Some(input::date(text).unwrap());
        assert_eq!(
            overlaps(
                d("2024-01-01"),
                d("2024-02-01"),
                d("2024-01-15"),
                d("2024-03-01")
            ),
            Some(true)
        );
        assert_eq!(
            overlaps(
                d("2024-01-01"),
                d("2024-02-01"),
                d("2024-02-01"),
                d("2024-03-01")
            ),
            Some(false)
        );
        assert_eq!(
            overlaps(
                d("2024-02-01"),
                d("2024-01-01"),
                d("2024-01-15"),
                d("2024-01-16")
            ),
            Some(true)
        );
        assert_eq!(
            overlaps(d("2024-01-01"), None, d("2024-01-01"), d("2024-03-01")),
            None
        );
        assert_eq!(
            overlaps(d("2024-01-01"), None, d("2023-12-01"), d("2024-03-01")),
            Some(true)
        );
        assert_eq!(
            overlaps(d("2024-01-01"), None, d("2024-02-01"), d("2024-03-01")),
            None
        );
    }
}
