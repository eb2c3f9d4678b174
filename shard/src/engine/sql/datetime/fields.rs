//! extract and date_part as Postgres 15 answers them: extract's numeric with
//! the scale Postgres gives each field (`30.500000` seconds, `30500.000` milliseconds),
//! date_part's double precision, and which fields each type has; and the unit words
//! they share with interval input and date_trunc.

use chrono::Datelike;

use super::interval::Interval;
use super::values::{
    Date, Fields, Timestamp, UNIX_EPOCH_JULIAN, USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE,
    USECS_PER_SEC, Value,
};
use super::zones;
use super::{PgError, Result};

pub(super) use super::interval::Unit;

/// A numeric value as extract returns it: digits and a scale, or an infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Numeric {
    Finite { value: i128, scale: u32 },
    Infinity,
    NegInfinity,
}

impl Numeric {
    fn whole(value: i64) -> Numeric {
        Numeric::scaled(value, 0)
    }

    /// `value / 10^scale`, exactly (Postgres' int64_div_fast_to_numeric): microseconds
    /// are milliseconds at scale 3 and seconds at scale 6.
    fn scaled(value: i64, scale: u32) -> Numeric {
        Numeric::Finite {
            value: i128::from(value),
            scale,
        }
    }

    /// A whole number when the scale is 0, for the caller to answer as an integer.
    pub(super) fn as_integer(self) -> Option<i64> {
        match self {
            Numeric::Finite { value, scale: 0 } => i64::try_from(value).ok(),
            _ => None,
        }
    }

    pub(super) fn to_f64(self) -> f64 {
        match self {
            Numeric::Finite { value, scale } => value as f64 / 10_f64.powi(scale as i32),
            Numeric::Infinity => f64::INFINITY,
            Numeric::NegInfinity => f64::NEG_INFINITY,
        }
    }
}

impl std::fmt::Display for Numeric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Numeric::Infinity => f.write_str("Infinity"),
            Numeric::NegInfinity => f.write_str("-Infinity"),
            Numeric::Finite { value, scale } => {
                let sign = if value < 0 { "-" } else { "" };
                let digits = format!(
                    "{:0>width$}",
                    value.unsigned_abs(),
                    width = scale as usize + 1
                );
                let (int, frac) = digits.split_at(digits.len() - scale as usize);
                if scale == 0 {
                    write!(f, "{sign}{int}")
                } else {
                    write!(f, "{sign}{int}.{frac}")
                }
            }
        }
    }
}

/// `julian + micros / 86400000000` with the scale Postgres' numeric division picks
/// (select_div_scale: at least 16 significant digits, counted in base-10000 digits).
fn julian_with_time(julian: i64, micros: i64) -> Numeric {
    const DAY_WEIGHT: i64 = 2;
    const DAY_FIRST_DIGIT: i64 = 864;
    let (mut weight, mut first) = (0, micros);
    while first >= 10_000 {
        first /= 10_000;
        weight += 1;
    }
    let mut qweight = weight - DAY_WEIGHT;
    if first <= DAY_FIRST_DIGIT {
        qweight -= 1;
    }
    let scale = (16 - qweight * 4).clamp(0, 1000) as u32;
    let numerator = i128::from(micros) * 10_i128.pow(scale);
    let day = i128::from(USECS_PER_DAY);
    let quotient = (numerator + day / 2) / day;
    Numeric::Finite {
        value: i128::from(julian) * 10_i128.pow(scale) + quotient,
        scale,
    }
}

/// Year-based fields of a calendar year (astronomical: 0 is 1 BC), as Postgres counts
/// them: there is no year 0, and the first century is years 1 to 100.
pub(super) fn year_field(unit: Unit, year: i64) -> i64 {
    match unit {
        Unit::Year | Unit::Isoyear => {
            if year > 0 {
                year
            } else {
                year - 1
            }
        }
        Unit::Decade => {
            if year >= 0 {
                year / 10
            } else {
                -((8 - (year - 1)) / 10)
            }
        }
        Unit::Century => {
            if year > 0 {
                (year + 99) / 100
            } else {
                -((99 - (year - 1)) / 100)
            }
        }
        _ => {
            if year > 0 {
                (year + 999) / 1000
            } else {
                -((999 - (year - 1)) / 1000)
            }
        }
    }
}

/// The fields a date and a timestamp share.
fn calendar_field(unit: Unit, f: &Fields) -> Option<i64> {
    let d = f.date;
    Some(match unit {
        Unit::Day => i64::from(d.day()),
        Unit::Month => i64::from(d.month()),
        Unit::Quarter => i64::from(d.month0() / 3 + 1),
        Unit::Week => i64::from(d.iso_week().week()),
        Unit::Dow => i64::from(d.weekday().num_days_from_sunday()),
        Unit::Isodow => i64::from(d.weekday().number_from_monday()),
        Unit::Doy => i64::from(d.ordinal()),
        Unit::Year | Unit::Decade | Unit::Century | Unit::Millennium => {
            year_field(unit, i64::from(d.year()))
        }
        Unit::Isoyear => year_field(unit, i64::from(d.iso_week().year())),
        _ => return None,
    })
}

/// The fields of a date (Postgres 15's extract_date): no time of day.
const DATE_UNITS: [Unit; 14] = [
    Unit::Day,
    Unit::Month,
    Unit::Quarter,
    Unit::Week,
    Unit::Dow,
    Unit::Isodow,
    Unit::Doy,
    Unit::Year,
    Unit::Decade,
    Unit::Century,
    Unit::Millennium,
    Unit::Julian,
    Unit::Isoyear,
    Unit::Epoch,
];

/// Fields that grow with time answer ±Infinity for infinite values; the others NULL.
fn infinite(unit: Unit, positive: bool) -> Option<Numeric> {
    matches!(
        unit,
        Unit::Year
            | Unit::Decade
            | Unit::Century
            | Unit::Millennium
            | Unit::Julian
            | Unit::Isoyear
            | Unit::Epoch
    )
    .then_some(if positive {
        Numeric::Infinity
    } else {
        Numeric::NegInfinity
    })
}

/// Postgres 15's `extract(field from value)`; `None` is NULL.
pub(super) fn extract(field: &str, value: Value) -> Result<Option<Numeric>> {
    let name = field.trim().to_ascii_lowercase();
    let kind = value.kind();
    let unit = Unit::of_field(&name).ok_or_else(|| PgError::unit_not_recognized(&name, kind))?;
    let unsupported = || PgError::unit_not_supported(&name, kind);
    match value {
        Value::Date(d) => {
            if !DATE_UNITS.contains(&unit) {
                return Err(unsupported());
            }
            if !d.is_finite() {
                return Ok(infinite(unit, d == Date::INFINITY));
            }
            Ok(Some(Numeric::whole(match unit {
                Unit::Epoch => d.0 * 86_400,
                Unit::Julian => d.0 + UNIX_EPOCH_JULIAN,
                _ => {
                    calendar_field(unit, &Timestamp::new(d, 0).fields()?).ok_or_else(unsupported)?
                }
            })))
        }
        Value::Timestamp(t) | Value::Timestamptz(t) => {
            let with_zone = matches!(value, Value::Timestamptz(_));
            // A timestamptz's fields are those of its local time in the session's zone.
            let offset = match with_zone && t.is_finite() {
                true => zones::current().offset_at(t)?,
                false => 0,
            };
            if matches!(
                unit,
                Unit::Timezone | Unit::TimezoneHour | Unit::TimezoneMinute
            ) {
                return if with_zone {
                    Ok(Some(Numeric::whole(match unit {
                        Unit::Timezone => offset,
                        Unit::TimezoneHour => offset / 3600,
                        _ => offset / 60 % 60,
                    })))
                } else {
                    Err(unsupported())
                };
            }
            if !t.is_finite() {
                return Ok(infinite(unit, t == Timestamp::INFINITY));
            }
            let epoch = t.0;
            let t = t.plus(offset * USECS_PER_SEC, "timestamp")?;
            let f = t.fields()?;
            if let Some(n) = time_field(unit, t.time()) {
                return Ok(Some(n));
            }
            Ok(Some(match unit {
                Unit::Epoch => Numeric::scaled(epoch, 6),
                Unit::Julian => julian_with_time(t.date().0 + UNIX_EPOCH_JULIAN, t.time()),
                _ => Numeric::whole(calendar_field(unit, &f).ok_or_else(unsupported)?),
            }))
        }
        Value::Time(t) => match unit {
            Unit::Epoch => Ok(Some(Numeric::scaled(t, 6))),
            _ => time_field(unit, t).map(Some).ok_or_else(unsupported),
        },
        Value::Interval(i) => interval_field(unit, i).map(Some).ok_or_else(unsupported),
    }
}

/// The fields of a time of day (or a timestamp's time).
fn time_field(unit: Unit, micros: i64) -> Option<Numeric> {
    let of_minute = micros % USECS_PER_MINUTE;
    Some(match unit {
        Unit::Microsecond => Numeric::whole(of_minute),
        Unit::Millisecond => Numeric::scaled(of_minute, 3),
        Unit::Second => Numeric::scaled(of_minute, 6),
        Unit::Minute => Numeric::whole(micros / USECS_PER_MINUTE % 60),
        Unit::Hour => Numeric::whole(micros / USECS_PER_HOUR),
        _ => return None,
    })
}

/// The fields of an interval, each in its own part (`extract(hour from '1 day 5 hours')`
/// is 5); epoch counts a year as 365.25 days and a month as 30.
fn interval_field(unit: Unit, i: Interval) -> Option<Numeric> {
    let (years, months) = (i64::from(i.months / 12), i64::from(i.months % 12));
    Some(match unit {
        Unit::Microsecond | Unit::Millisecond | Unit::Second => {
            return time_field(unit, i.micros % USECS_PER_HOUR % USECS_PER_MINUTE);
        }
        Unit::Minute => Numeric::whole(i.micros % USECS_PER_HOUR / USECS_PER_MINUTE),
        Unit::Hour => Numeric::whole(i.micros / USECS_PER_HOUR),
        Unit::Day => Numeric::whole(i64::from(i.days)),
        Unit::Month => Numeric::whole(months),
        Unit::Quarter => Numeric::whole(months / 3 + 1),
        Unit::Year => Numeric::whole(years),
        Unit::Decade => Numeric::whole(years / 10),
        Unit::Century => Numeric::whole(years / 100),
        Unit::Millennium => Numeric::whole(years / 1000),
        Unit::Epoch => {
            // 365.25 days a year in whole seconds: four times everything, then a quarter.
            let seconds = (1461 * years + 120 * months + 4 * i64::from(i.days)) * (86_400 / 4);
            let micros = i128::from(seconds) * 1_000_000 + i128::from(i.micros);
            Numeric::Finite {
                value: micros,
                scale: 6,
            }
        }
        _ => return None,
    })
}

/// Postgres 15's `date_part(field, value)`: extract's value as double precision. A date
/// reads as a timestamp, as Postgres' date_part(text, date) casts it.
pub(super) fn date_part(field: &str, value: Value) -> Result<Option<f64>> {
    let value = match value {
        Value::Date(d) => Value::Timestamp(d.at_midnight()),
        other => other,
    };
    Ok(extract(field, value)?.map(Numeric::to_f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sql::datetime::golden::{check, text};
    use crate::engine::sql::datetime::input;
    use crate::engine::sql::datetime::values::Kind;

    fn value(kind: &str, text: &str) -> Value {
        input::read(Kind::named(kind).unwrap(), text).unwrap()
    }

    #[test]
    fn extract_as_postgres_15() {
        let cases = "
            year | timestamp | 2024-03-15 10:20:30.5 | 2024
            hour | timestamp | 2024-03-15 10:20:30.5 | 10
            minute | timestamp | 2024-03-15 10:20:30.5 | 20
            second | timestamp | 2024-03-15 10:20:30.5 | 30.500000
            milliseconds | timestamp | 2024-03-15 10:20:30.5 | 30500.000
            microseconds | timestamp | 2024-03-15 10:20:30.5 | 30500000
            month | date | 2024-03-15 | 3
            day | date | 2024-03-15 | 15
            dow | date | 2024-03-17 | 0
            isodow | date | 2024-03-17 | 7
            doy | date | 2024-12-31 | 366
            week | date | 2024-12-30 | 1
            isoyear | date | 2024-12-30 | 2025
            quarter | date | 2024-08-01 | 3
            decade | date | 2024-08-01 | 202
            century | date | 2024-08-01 | 21
            millennium | date | 2024-08-01 | 3
            epoch | timestamp | 2024-03-15 10:20:30 | 1710498030.000000
            epoch | timestamptz | 2024-03-15 10:20:30+02 | 1710490830.000000
            epoch | date | 2024-03-15 | 1710460800
            julian | date | 2024-03-15 | 2460385
            julian | timestamp | 2024-03-15 12:00 | 2460385.50000000000000000000
            timezone | timestamptz | 2024-03-15 10:20:30+02 | 0
            hour | time | 17:12:28.5 | 17
            year | date | infinity | Infinity
            month | date | infinity | NULL
            year | date | 0044-03-15 BC | -44
            century | date | 0044-03-15 BC | -1
            epoch | interval | 1 day 2 hours | 93600.000000
            epoch | interval | 1 month | 2592000.000000
            epoch | interval | 1 year | 31557600.000000
            epoch | interval | 1 year 2 months | 36741600.000000
            epoch | interval | -3 days | -259200.000000
            hour | interval | 1 day 5 hours 30 minutes | 5
            minute | interval | 5 hours 30 minutes | 30
            day | interval | 40 days | 40
            month | interval | 14 months | 2
            year | interval | 14 months | 1
            second | interval | 1 minute 2.5 seconds | 2.500000
            hour | date | 2024-03-15 | ERROR 0A000
            timezone | timestamp | 2024-03-15 | ERROR 0A000
            foo | timestamp | 2024-03-15 | ERROR 22023
        ";
        check(cases, |a| {
            let answer = extract(a[0], value(a[1], a[2]));
            text(answer.map(|n| n.map_or("NULL".into(), |n| n.to_string())))
        });
        let e = extract("foo", value("timestamp", "2024-03-15")).unwrap_err();
        let message = "unit \"foo\" not recognized for type timestamp without time zone";
        assert_eq!(e.message, message);
    }

    #[test]
    fn date_part_is_double_precision() {
        let cases = "
            year | timestamp | 2024-03-15 10:20:30 | 2024
            dow | date | 2024-03-15 | 5
            epoch | timestamp | 1970-01-02 00:00:00 | 86400
            day | interval | 3 days 4 hours | 3
            epoch | interval | 90 minutes | 5400
            hour | date | 2024-03-15 | 0
            second | time | 10:20:30.25 | 30.25
        ";
        check(cases, |a| {
            let answer = date_part(a[0], value(a[1], a[2]));
            text(answer.map(|x| x.map_or("NULL".into(), |x| x.to_string())))
        });
    }
}
