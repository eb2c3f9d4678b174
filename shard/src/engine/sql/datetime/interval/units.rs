//! Time units: the microsecond constants, the unit words of interval text, extract and
//! date_trunc, and seconds with their fraction as Postgres reads and writes them. A leaf.

pub(in crate::engine::sql::datetime) const USECS_PER_SEC: i64 = 1_000_000;
pub(in crate::engine::sql::datetime) const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
pub(in crate::engine::sql::datetime) const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
pub(in crate::engine::sql::datetime) const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;

/// A unit word: of interval text, and of extract, date_part and date_trunc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::engine::sql::datetime) enum Unit {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Decade,
    Century,
    Millennium,
    Epoch,
    Julian,
    Dow,
    Isodow,
    Doy,
    Isoyear,
    Timezone,
    TimezoneHour,
    TimezoneMinute,
}

impl Unit {
    /// A unit word of interval text and date_trunc (Postgres' deltatktbl; words compare on
    /// their first 10 letters, so `microseconds` is `microsecon`).
    pub(in crate::engine::sql::datetime) fn of_word(word: &str) -> Option<Unit> {
        let word = word.get(..10).unwrap_or(word);
        Some(match word {
            "us" | "usec" | "usecs" | "usecond" | "useconds" | "microsecon" => Unit::Microsecond,
            "ms" | "msec" | "msecs" | "msecond" | "mseconds" | "millisecon" => Unit::Millisecond,
            "s" | "sec" | "secs" | "second" | "seconds" => Unit::Second,
            "m" | "min" | "mins" | "minute" | "minutes" => Unit::Minute,
            "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Hour,
            "d" | "day" | "days" => Unit::Day,
            "w" | "week" | "weeks" => Unit::Week,
            "mon" | "mons" | "month" | "months" => Unit::Month,
            "qtr" | "quarter" => Unit::Quarter,
            "y" | "yr" | "yrs" | "year" | "years" => Unit::Year,
            "dec" | "decs" | "decade" | "decades" => Unit::Decade,
            "c" | "cent" | "century" | "centuries" => Unit::Century,
            "mil" | "mils" | "millennia" | "millennium" => Unit::Millennium,
            "timezone" => Unit::Timezone,
            "timezone_h" => Unit::TimezoneHour,
            "timezone_m" => Unit::TimezoneMinute,
            _ => return None,
        })
    }

    /// A field name of extract, date_part or date_trunc, lowercased.
    pub(in crate::engine::sql::datetime) fn of_field(word: &str) -> Option<Unit> {
        Unit::of_word(word).or(match word {
            "epoch" => Some(Unit::Epoch),
            "j" | "jd" | "julian" => Some(Unit::Julian),
            "dow" => Some(Unit::Dow),
            "isodow" => Some(Unit::Isodow),
            "doy" => Some(Unit::Doy),
            "isoyear" => Some(Unit::Isoyear),
            _ => None,
        })
    }
}

/// The digits after a decimal point as microseconds, rounded as Postgres rounds input
/// fractions (`.1234567` is 123457); `None` unless all are digits.
pub(in crate::engine::sql::datetime) fn fraction_micros(digits: &str) -> Option<i64> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let f: f64 = format!("0.{digits}").parse().ok()?;
    Some((f * 1e6).round_ties_even() as i64)
}

/// Seconds as `SS[.ffffff]`, the fraction's trailing zeros dropped (Postgres' AppendSeconds).
pub(in crate::engine::sql::datetime) fn push_seconds(out: &mut String, micros: i64) {
    let micros = micros.unsigned_abs();
    out.push_str(&format!("{:02}", micros / USECS_PER_SEC as u64));
    let fraction = micros % USECS_PER_SEC as u64;
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}
