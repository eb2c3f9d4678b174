//! The date/time types as Postgres holds them — whole days, microseconds — their stored
//! text forms, and the constructors from numbers (make_date, make_time, to_timestamp of
//! epoch seconds). Infinity is the extreme of the range, as in Postgres, so comparisons
//! and ordering need no special case.

use chrono::{Datelike, NaiveDate};

use super::interval::Interval;
use super::{PgError, Result};

pub(super) use super::interval::{
    USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC, fraction_micros, push_seconds,
};

/// The Julian day (Postgres' date2j) of 1970-01-01.
pub(super) const UNIX_EPOCH_JULIAN: i64 = 2_440_588;

/// chrono's day number (days since 0001-01-01, which is day 1) of 1970-01-01.
const UNIX_EPOCH_CE_DAY: i64 = 719_163;

/// A date: days since 1970-01-01.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(super) struct Date(pub(super) i64);

/// A timestamp, or a timestamptz as its UTC timestamp: microseconds since 1970-01-01 00:00.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(super) struct Timestamp(pub(super) i64);

impl Date {
    pub(super) const NEG_INFINITY: Date = Date(i64::MIN);
    pub(super) const INFINITY: Date = Date(i64::MAX);

    pub(super) fn is_finite(self) -> bool {
        self != Date::NEG_INFINITY && self != Date::INFINITY
    }

    /// The date of a (proleptic Gregorian, astronomical: 0 is 1 BC) year, month and day, if
    /// there is one.
    pub(super) fn from_ymd(year: i64, month: i64, day: i64) -> Option<Date> {
        let d = NaiveDate::from_ymd_opt(
            i32::try_from(year).ok()?,
            u32::try_from(month).ok()?,
            u32::try_from(day).ok()?,
        )?;
        Some(Date::from_naive(d))
    }

    /// A date `days` after 1970-01-01, if it is one of the calendar's (so its timestamps'
    /// microseconds fit).
    pub(super) fn from_days(days: i64) -> Result<Date> {
        let date = Date(days);
        date.naive()?;
        Ok(date)
    }

    pub(super) fn from_naive(d: NaiveDate) -> Date {
        Date(i64::from(d.num_days_from_ce()) - UNIX_EPOCH_CE_DAY)
    }

    /// The calendar date of a finite date.
    pub(super) fn naive(self) -> Result<NaiveDate> {
        i32::try_from(self.0 + UNIX_EPOCH_CE_DAY)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .ok_or_else(|| PgError::out_of_range("date"))
    }

    pub(super) fn at_midnight(self) -> Timestamp {
        match self {
            Date::NEG_INFINITY => Timestamp::NEG_INFINITY,
            Date::INFINITY => Timestamp::INFINITY,
            Date(days) => Timestamp(days * USECS_PER_DAY),
        }
    }

    pub(super) fn format(self) -> Result<String> {
        match self {
            Date::NEG_INFINITY => Ok("-infinity".into()),
            Date::INFINITY => Ok("infinity".into()),
            d => {
                let (date, era) = calendar_text(d.naive()?);
                Ok(format!("{date}{era}"))
            }
        }
    }
}

/// `YYYY-MM-DD` and the era suffix Postgres puts last (` BC`, or nothing).
fn calendar_text(d: NaiveDate) -> (String, &'static str) {
    let (year, era) = if d.year() <= 0 {
        (1 - d.year(), " BC")
    } else {
        (d.year(), "")
    };
    (format!("{year:04}-{:02}-{:02}", d.month(), d.day()), era)
}

impl Timestamp {
    pub(super) const NEG_INFINITY: Timestamp = Timestamp(i64::MIN);
    pub(super) const INFINITY: Timestamp = Timestamp(i64::MAX);

    pub(super) fn is_finite(self) -> bool {
        self != Timestamp::NEG_INFINITY && self != Timestamp::INFINITY
    }

    pub(super) fn new(date: Date, time: i64) -> Timestamp {
        match date {
            Date::NEG_INFINITY | Date::INFINITY => date.at_midnight(),
            Date(days) => Timestamp(days * USECS_PER_DAY + time),
        }
    }

    pub(super) fn date(self) -> Date {
        match self {
            Timestamp::NEG_INFINITY => Date::NEG_INFINITY,
            Timestamp::INFINITY => Date::INFINITY,
            Timestamp(t) => Date(t.div_euclid(USECS_PER_DAY)),
        }
    }

    /// Microseconds since midnight.
    pub(super) fn time(self) -> i64 {
        self.0.rem_euclid(USECS_PER_DAY)
    }

    /// A finite timestamp's calendar fields.
    pub(super) fn fields(self) -> Result<Fields> {
        let time = self.time();
        Ok(Fields {
            date: self.date().naive()?,
            hour: time / USECS_PER_HOUR,
            minute: time / USECS_PER_MINUTE % 60,
            second: time / USECS_PER_SEC % 60,
            micro: time % USECS_PER_SEC,
        })
    }

    /// Adds microseconds, refusing to leave the range rather than wrapping.
    pub(super) fn plus(self, micros: i64, type_name: &str) -> Result<Timestamp> {
        self.0
            .checked_add(micros)
            .map(Timestamp)
            .filter(|t| t.is_finite())
            .ok_or_else(|| PgError::out_of_range(type_name))
    }

    /// The stored form of a timestamp without time zone.
    pub(super) fn format(self) -> Result<String> {
        self.format_with("")
    }

    /// The stored form of a timestamptz: its UTC timestamp with an explicit `+00:00`.
    pub(super) fn format_tz(self) -> Result<String> {
        self.format_with("+00:00")
    }

    fn format_with(self, offset: &str) -> Result<String> {
        match self {
            Timestamp::NEG_INFINITY => Ok("-infinity".into()),
            Timestamp::INFINITY => Ok("infinity".into()),
            t => {
                let (date, era) = calendar_text(t.date().naive()?);
                Ok(format!("{date} {}{offset}{era}", format_time(t.time())))
            }
        }
    }
}

/// The calendar fields of a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fields {
    pub(super) date: NaiveDate,
    pub(super) hour: i64,
    pub(super) minute: i64,
    pub(super) second: i64,
    pub(super) micro: i64,
}

/// `HH:MM:SS` and the fraction without trailing zeros: Postgres' time output. 24:00:00 is a
/// time of its own.
pub(super) fn format_time(micros: i64) -> String {
    let mut out = format!(
        "{:02}:{:02}:",
        micros / USECS_PER_HOUR,
        micros / USECS_PER_MINUTE % 60
    );
    push_seconds(&mut out, micros % USECS_PER_MINUTE);
    out
}

/// Postgres' make_date: a negative year is BC; a date that does not exist is 22008.
pub(super) fn make_date(year: i64, month: i64, day: i64) -> Result<Date> {
    let astronomical = if year < 0 { year + 1 } else { year };
    (year != 0)
        .then(|| Date::from_ymd(astronomical, month, day))
        .flatten()
        .ok_or_else(|| {
            PgError::new(
                "22008",
                format!("date field value out of range: {year}-{month:02}-{day:02}"),
            )
        })
}

/// Postgres' make_time: seconds may have a fraction; 24:00:00 is the one time past 23:59.
pub(super) fn make_time(hour: i64, minute: i64, second: f64) -> Result<i64> {
    let micros = (second * 1e6).round_ties_even();
    let fields_fit =
        (0..=24).contains(&hour) && (0..=59).contains(&minute) && (0.0..=6e7).contains(&micros);
    if fields_fit {
        let time = hour * USECS_PER_HOUR + minute * USECS_PER_MINUTE + micros as i64;
        if time <= USECS_PER_DAY {
            return Ok(time);
        }
    }
    Err(PgError::new(
        "22008",
        format!("time field value out of range: {hour}:{minute:02}:{second:02}"),
    ))
}

/// Postgres' to_timestamp(double precision): seconds since 1970-01-01 00:00 UTC.
pub(super) fn from_epoch(seconds: f64) -> Result<Timestamp> {
    if seconds.is_nan() {
        return Err(PgError::new("22008", "timestamp cannot be NaN"));
    }
    if seconds.is_infinite() {
        return Ok(if seconds > 0.0 {
            Timestamp::INFINITY
        } else {
            Timestamp::NEG_INFINITY
        });
    }
    let micros = (seconds * 1e6).round_ties_even();
    if micros.abs() >= 9.2e18 {
        return Err(PgError::new(
            "22008",
            format!("timestamp out of range: \"{seconds}\""),
        ));
    }
    Ok(Timestamp(micros as i64))
}

/// Month names as Postgres prints them; input compares them ignoring case.
pub(super) const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Weekday names from Sunday, as Postgres prints them.
pub(super) const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// What a function is told its value argument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
}

impl Kind {
    pub(super) fn named(name: &str) -> Result<Kind> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "date" => Kind::Date,
            "time" => Kind::Time,
            "timestamp" => Kind::Timestamp,
            "timestamptz" => Kind::Timestamptz,
            "interval" => Kind::Interval,
            other => {
                return Err(PgError::new(
                    "22023",
                    format!("unknown date/time kind \"{other}\""),
                ));
            }
        })
    }

    /// The type's name as Postgres' messages spell it.
    pub(super) fn type_name(self) -> &'static str {
        match self {
            Kind::Date => "date",
            Kind::Time => "time without time zone",
            Kind::Timestamp => "timestamp without time zone",
            Kind::Timestamptz => "timestamp with time zone",
            Kind::Interval => "interval",
        }
    }
}

/// A value read as its kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Value {
    Date(Date),
    Time(i64),
    Timestamp(Timestamp),
    Timestamptz(Timestamp),
    Interval(Interval),
}

impl Value {
    /// Postgres' isfinite: times and intervals always are.
    pub(super) fn is_finite(self) -> bool {
        match self {
            Value::Date(d) => d.is_finite(),
            Value::Timestamp(t) | Value::Timestamptz(t) => t.is_finite(),
            Value::Time(_) | Value::Interval(_) => true,
        }
    }

    pub(super) fn kind(self) -> Kind {
        match self {
            Value::Date(_) => Kind::Date,
            Value::Time(_) => Kind::Time,
            Value::Timestamp(_) => Kind::Timestamp,
            Value::Timestamptz(_) => Kind::Timestamptz,
            Value::Interval(_) => Kind::Interval,
        }
    }

    /// The stored form of the value.
    pub(super) fn format(self) -> Result<String> {
        match self {
            Value::Date(d) => d.format(),
            Value::Time(t) => Ok(format_time(t)),
            Value::Timestamp(t) => t.format(),
            Value::Timestamptz(t) => t.format_tz(),
            Value::Interval(i) => Ok(i.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_as_iso_with_infinities_and_bc() {
        let d = Date::from_ymd(2024, 3, 15).unwrap();
        assert_eq!(d.format().unwrap(), "2024-03-15");
        assert_eq!(Date(0).format().unwrap(), "1970-01-01");
        assert_eq!(Date::INFINITY.format().unwrap(), "infinity");
        assert_eq!(Date::NEG_INFINITY.format().unwrap(), "-infinity");
        assert_eq!(
            Date::from_ymd(0, 1, 1).unwrap().format().unwrap(),
            "0001-01-01 BC"
        );
        assert!(Date::from_ymd(2023, 2, 29).is_none());
    }

    #[test]
    fn constructors_refuse_fields_out_of_range() {
        assert_eq!(
            make_date(2024, 2, 29).unwrap().format().unwrap(),
            "2024-02-29"
        );
        assert_eq!(
            make_date(-44, 3, 15).unwrap().format().unwrap(),
            "0044-03-15 BC"
        );
        let e = make_date(2023, 2, 29).unwrap_err();
        assert_eq!(
            (e.sqlstate, e.message.as_str()),
            ("22008", "date field value out of range: 2023-02-29")
        );
        assert_eq!(format_time(make_time(8, 15, 23.5).unwrap()), "08:15:23.5");
        assert_eq!(make_time(25, 0, 0.0).unwrap_err().sqlstate, "22008");
        assert_eq!(make_time(24, 0, 0.5).unwrap_err().sqlstate, "22008");
        assert_eq!(make_time(i64::MAX, 0, 0.0).unwrap_err().sqlstate, "22008");
    }

    #[test]
    fn times_keep_only_significant_fraction_digits() {
        assert_eq!(format_time(0), "00:00:00");
        assert_eq!(format_time(84_599_500_000), "23:29:59.5");
        assert_eq!(format_time(USECS_PER_DAY), "24:00:00");
        assert_eq!(format_time(1), "00:00:00.000001");
    }

    #[test]
    fn timestamps_and_timestamptz_stored_forms() {
        let t = Timestamp::new(Date::from_ymd(1999, 12, 31).unwrap(), USECS_PER_DAY - 1);
        assert_eq!(t.format().unwrap(), "1999-12-31 23:59:59.999999");
        assert_eq!(
            Timestamp(0).format_tz().unwrap(),
            "1970-01-01 00:00:00+00:00"
        );
        assert_eq!(Timestamp(-1).date(), Date(-1));
        assert_eq!(Timestamp(-1).time(), USECS_PER_DAY - 1);
        assert_eq!(Timestamp::INFINITY.format_tz().unwrap(), "infinity");
    }

    #[test]
    fn to_timestamp_of_epoch_seconds() {
        let e = |s| from_epoch(s).unwrap().format_tz().unwrap();
        assert_eq!(e(1_700_000_000.0), "2023-11-14 22:13:20+00:00");
        assert_eq!(e(0.0), "1970-01-01 00:00:00+00:00");
        assert_eq!(e(1_700_000_000.5), "2023-11-14 22:13:20.5+00:00");
        assert_eq!(e(f64::INFINITY), "infinity");
        assert_eq!(from_epoch(f64::NAN).unwrap_err().sqlstate, "22008");
    }
}
