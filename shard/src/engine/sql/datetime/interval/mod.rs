//! Postgres' interval: months, days and microseconds kept apart (a month is not a fixed
//! number of days, nor a day of hours, across daylight saving), its output text in
//! IntervalStyle postgres, its arithmetic and the justify functions. `input` reads every
//! interval text form; `units` is the leaf both stand on (and the rest of datetime/ too).

use std::fmt;

mod input;
mod units;

pub(super) use input::{parse, parse_qualified};
pub(super) use units::{
    USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC, Unit, fraction_micros,
    push_seconds,
};

use super::{PgError, Result};

const DAYS_PER_MONTH: i32 = 30;
const SECS_PER_DAY: f64 = 86_400.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Interval {
    pub(super) months: i32,
    pub(super) days: i32,
    pub(super) micros: i64,
}

fn overflow() -> PgError {
    PgError::out_of_range("interval")
}

/// Postgres' TSROUND: a float rounded to whole microseconds, so that a fraction such as
/// 1/3 day times 3 comes back whole.
fn ts_round(x: f64) -> f64 {
    (x * 1e6).round_ties_even() / 1e6
}

impl Interval {
    pub(super) fn new(months: i32, days: i32, micros: i64) -> Interval {
        Interval {
            months,
            days,
            micros,
        }
    }

    /// Postgres' make_interval: weeks are 7 days, and only the seconds have a fraction.
    pub(super) fn make(parts: [i64; 6], seconds: f64) -> Result<Interval> {
        let [years, months, weeks, days, hours, minutes] = parts;
        let months = years
            .checked_mul(12)
            .and_then(|y| y.checked_add(months))
            .and_then(|m| i32::try_from(m).ok());
        let days = weeks
            .checked_mul(7)
            .and_then(|w| w.checked_add(days))
            .and_then(|d| i32::try_from(d).ok());
        let micros = (seconds * 1e6).round_ties_even();
        let micros = hours
            .checked_mul(USECS_PER_HOUR)
            .and_then(|h| h.checked_add(minutes.checked_mul(USECS_PER_MINUTE)?))
            .filter(|_| micros.is_finite() && micros.abs() < 9.2e18)
            .and_then(|m| m.checked_add(micros as i64));
        match (months, days, micros) {
            (Some(months), Some(days), Some(micros)) => Ok(Interval::new(months, days, micros)),
            _ => Err(overflow()),
        }
    }

    /// What intervals compare and sort by: a month counts 30 days and a day 24 hours, so
    /// `1 month` equals `30 days`. Saturates beyond i64's microseconds.
    pub(super) fn key(self) -> i64 {
        let span = (i128::from(self.months) * i128::from(DAYS_PER_MONTH) + i128::from(self.days))
            * i128::from(USECS_PER_DAY)
            + i128::from(self.micros);
        span.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    pub(super) fn checked_add(self, other: Interval) -> Result<Interval> {
        Ok(Interval {
            months: self.months.checked_add(other.months).ok_or_else(overflow)?,
            days: self.days.checked_add(other.days).ok_or_else(overflow)?,
            micros: self.micros.checked_add(other.micros).ok_or_else(overflow)?,
        })
    }

    pub(super) fn checked_neg(self) -> Result<Interval> {
        Ok(Interval {
            months: self.months.checked_neg().ok_or_else(overflow)?,
            days: self.days.checked_neg().ok_or_else(overflow)?,
            micros: self.micros.checked_neg().ok_or_else(overflow)?,
        })
    }

    pub(super) fn checked_sub(self, other: Interval) -> Result<Interval> {
        self.checked_add(other.checked_neg()?)
    }

    pub(super) fn mul(self, factor: f64) -> Result<Interval> {
        self.scale(|x| x * factor)
    }

    pub(super) fn div(self, divisor: f64) -> Result<Interval> {
        if divisor == 0.0 {
            return Err(PgError::new("22012", "division by zero"));
        }
        self.scale(|x| x / divisor)
    }

    /// Postgres' interval_mul and interval_div: whole months and days stay, and their
    /// fractions cascade down (a month to 30 days, a day to 86400 seconds), never up.
    fn scale(self, by: impl Fn(f64) -> f64) -> Result<Interval> {
        let whole = |x: f64| {
            if x.is_nan() || x > f64::from(i32::MAX) || x < f64::from(i32::MIN) {
                Err(overflow())
            } else {
                Ok(x as i32)
            }
        };
        let months_exact = by(f64::from(self.months));
        let days_exact = by(f64::from(self.days));
        let months = whole(months_exact)?;
        let mut days = whole(days_exact)?;
        let month_remainder_days =
            ts_round((months_exact - f64::from(months)) * f64::from(DAYS_PER_MONTH));
        let mut sec_remainder = ts_round(
            (days_exact - f64::from(days) + month_remainder_days - month_remainder_days.trunc())
                * SECS_PER_DAY,
        );
        if sec_remainder.abs() >= SECS_PER_DAY {
            let extra = (sec_remainder / SECS_PER_DAY) as i32;
            days = days.checked_add(extra).ok_or_else(overflow)?;
            sec_remainder -= f64::from(extra) * SECS_PER_DAY;
        }
        days = days
            .checked_add(month_remainder_days as i32)
            .ok_or_else(overflow)?;
        let micros = (by(self.micros as f64) + sec_remainder * 1e6).round_ties_even();
        if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&micros) {
            return Err(overflow());
        }
        Ok(Interval::new(months, days, micros as i64))
    }

    /// justify_hours: whole days out of the time, the time's sign made the days'.
    pub(super) fn justify_hours(self) -> Result<Interval> {
        let mut days = self
            .days
            .checked_add(i32::try_from(self.micros / USECS_PER_DAY).map_err(|_| overflow())?)
            .ok_or_else(overflow)?;
        let mut micros = self.micros % USECS_PER_DAY;
        if days > 0 && micros < 0 {
            micros += USECS_PER_DAY;
            days -= 1;
        } else if days < 0 && micros > 0 {
            micros -= USECS_PER_DAY;
            days += 1;
        }
        Ok(Interval::new(self.months, days, micros))
    }

    /// justify_days: whole 30-day months out of the days, the days' sign made the months'.
    pub(super) fn justify_days(self) -> Result<Interval> {
        let (mut months, mut days) = self.months_out_of_days()?;
        if months > 0 && days < 0 {
            days += DAYS_PER_MONTH;
            months -= 1;
        } else if months < 0 && days > 0 {
            days -= DAYS_PER_MONTH;
            months += 1;
        }
        Ok(Interval::new(months, days, self.micros))
    }

    fn months_out_of_days(self) -> Result<(i32, i32)> {
        let months = self
            .months
            .checked_add(self.days / DAYS_PER_MONTH)
            .ok_or_else(overflow)?;
        Ok((months, self.days % DAYS_PER_MONTH))
    }

    /// justify_interval: Postgres' order — days to months first when that cannot change a
    /// sign, then hours to days, then days to months, then one sign for all three.
    pub(super) fn justify_interval(self) -> Result<Interval> {
        let mut i = self;
        if (i.days > 0 && i.micros > 0) || (i.days < 0 && i.micros < 0) {
            (i.months, i.days) = i.months_out_of_days()?;
        }
        i.days = i
            .days
            .checked_add(i32::try_from(i.micros / USECS_PER_DAY).map_err(|_| overflow())?)
            .ok_or_else(overflow)?;
        i.micros %= USECS_PER_DAY;
        (i.months, i.days) = i.months_out_of_days()?;
        if i.months > 0 && (i.days < 0 || (i.days == 0 && i.micros < 0)) {
            i.days += DAYS_PER_MONTH;
            i.months -= 1;
        } else if i.months < 0 && (i.days > 0 || (i.days == 0 && i.micros > 0)) {
            i.days -= DAYS_PER_MONTH;
            i.months += 1;
        }
        if i.days > 0 && i.micros < 0 {
            i.micros += USECS_PER_DAY;
            i.days -= 1;
        } else if i.days < 0 && i.micros > 0 {
            i.micros -= USECS_PER_DAY;
            i.days += 1;
        }
        Ok(i)
    }
}

/// The fields an SQL interval qualifier allows (`DAY TO HOUR`), and the precision of its
/// seconds (`SECOND(3)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Qualifier {
    pub(super) last: Unit,
    pub(super) minute_to_second: bool,
    precision: Option<u32>,
}

impl Qualifier {
    pub(super) fn parse(text: &str) -> Result<Qualifier> {
        let bad = || PgError::new("22023", format!("invalid interval qualifier \"{text}\""));
        // sqlparser prints precisions as `SECOND (3)`; only the seconds' one counts, as in
        // Postgres, which keeps no leading field precision.
        let spaced = text
            .to_ascii_lowercase()
            .replace('(', " ( ")
            .replace(')', " ) ");
        let mut words: Vec<&str> = Vec::new();
        let mut precision = None;
        let mut tokens = spaced.split_whitespace();
        while let Some(token) = tokens.next() {
            if token != "(" {
                words.push(token);
                continue;
            }
            let digits: u32 = tokens.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
            if tokens.next() != Some(")") {
                return Err(bad());
            }
            if words.last() == Some(&"second") {
                precision = Some(digits.min(6));
            }
        }
        let unit = |w: &str| match w {
            "year" => Some(Unit::Year),
            "month" => Some(Unit::Month),
            "day" => Some(Unit::Day),
            "hour" => Some(Unit::Hour),
            "minute" => Some(Unit::Minute),
            "second" => Some(Unit::Second),
            _ => None,
        };
        let (first, last) = match words.as_slice() {
            [one] => (unit(one).ok_or_else(bad)?, unit(one).ok_or_else(bad)?),
            [from, "to", to] => (unit(from).ok_or_else(bad)?, unit(to).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        Ok(Qualifier {
            last,
            minute_to_second: first == Unit::Minute && last == Unit::Second,
            precision,
        })
    }

    /// Postgres' AdjustIntervalForTypmod: fields after the qualifier's last one are dropped.
    pub(super) fn truncate(self, i: Interval) -> Interval {
        let keep = |unit: i64| i.micros / unit * unit;
        let mut i = match self.last {
            Unit::Year => Interval::new(i.months / 12 * 12, 0, 0),
            Unit::Month => Interval::new(i.months, 0, 0),
            Unit::Day => Interval::new(i.months, i.days, 0),
            Unit::Hour => Interval::new(i.months, i.days, keep(USECS_PER_HOUR)),
            Unit::Minute => Interval::new(i.months, i.days, keep(USECS_PER_MINUTE)),
            _ => i,
        };
        if let Some(p) = self.precision {
            let scale = 10_i64.pow(6 - p);
            let round = |m: i64| (m + scale / 2) / scale * scale;
            i.micros = if i.micros >= 0 {
                round(i.micros)
            } else {
                -round(-i.micros)
            };
        }
        i
    }
}

/// IntervalStyle postgres: `1 year 2 mons -3 days +04:05:06.5`. After a negative part, a
/// positive one carries an explicit `+`, so the text reads back as the same interval.
impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let mut is_before = false;
        let mut is_zero = true;
        for (value, unit) in [
            (self.months / 12, "year"),
            (self.months % 12, "mon"),
            (self.days, "day"),
        ] {
            if value == 0 {
                continue;
            }
            let space = if is_zero { "" } else { " " };
            let plus = if is_before && value > 0 { "+" } else { "" };
            let plural = if value != 1 { "s" } else { "" };
            out.push_str(&format!("{space}{plus}{value} {unit}{plural}"));
            is_before = value < 0;
            is_zero = false;
        }
        if is_zero || self.micros != 0 {
            let space = if is_zero { "" } else { " " };
            let sign = if self.micros < 0 {
                "-"
            } else if is_before {
                "+"
            } else {
                ""
            };
            let m = self.micros.unsigned_abs();
            out.push_str(&format!(
                "{space}{sign}{:02}:{:02}:",
                m / USECS_PER_HOUR as u64,
                m / USECS_PER_MINUTE as u64 % 60
            ));
            push_seconds(&mut out, (m % USECS_PER_MINUTE as u64) as i64);
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = USECS_PER_HOUR;

    #[test]
    fn output_matches_intervalstyle_postgres() {
        let cases = [
            (Interval::new(0, 1, 0), "1 day"),
            (Interval::new(0, -1, 0), "-1 days"),
            (
                Interval::new(14, 3, 4 * HOUR + 5 * 60_000_000 + 6_500_000),
                "1 year 2 mons 3 days 04:05:06.5",
            ),
            (Interval::new(0, 1, -HOUR), "1 day -01:00:00"),
            (Interval::new(0, 0, 0), "00:00:00"),
            (Interval::new(0, 0, 1_000_000 * HOUR), "1000000:00:00"),
            (Interval::new(0, 0, 1_000), "00:00:00.001"),
            (
                Interval::new(14, -2, 38 * HOUR + 30 * 60_000_000),
                "1 year 2 mons -2 days +38:30:00",
            ),
            (
                Interval::new(2, 24, -(HOUR + 54 * 60_000_000)),
                "2 mons 24 days -01:54:00",
            ),
            (Interval::new(-1, -5, 0), "-1 mons -5 days"),
            (Interval::new(0, i32::MAX, 0), "2147483647 days"),
        ];
        for (interval, text) in cases {
            assert_eq!(interval.to_string(), text);
        }
    }

    #[test]
    fn multiplication_and_division_cascade_fractions_down() {
        let hour = Interval::new(0, 0, HOUR);
        assert_eq!(hour.mul(2.5).unwrap().to_string(), "02:30:00");
        assert_eq!(hour.div(4.0).unwrap().to_string(), "00:15:00");
        assert_eq!(
            Interval::new(0, 1, 0).div(3.0).unwrap().to_string(),
            "08:00:00"
        );
        assert_eq!(
            Interval::new(0, 1, 0).mul(0.0).unwrap().to_string(),
            "00:00:00"
        );
        assert_eq!(
            Interval::new(14, 0, 0).mul(2.0).unwrap().to_string(),
            "2 years 4 mons"
        );
        // avg of the goldens' durations: their sum over 5.
        let sum = Interval::new(14, -2, 38 * HOUR + 30 * 60_000_000);
        assert_eq!(
            sum.div(5.0).unwrap().to_string(),
            "2 mons 24 days -01:54:00"
        );
        assert_eq!(hour.div(0.0).unwrap_err().sqlstate, "22012");
    }

    #[test]
    fn addition_subtraction_and_negation() {
        let day = Interval::new(0, 1, 0);
        let two_hours = Interval::new(0, 0, 2 * HOUR);
        assert_eq!(
            day.checked_add(two_hours).unwrap().to_string(),
            "1 day 02:00:00"
        );
        assert_eq!(
            day.checked_sub(two_hours).unwrap().to_string(),
            "1 day -02:00:00"
        );
        assert_eq!(day.checked_neg().unwrap().to_string(), "-1 days");
        assert!(Interval::new(0, i32::MAX, 0).checked_add(day).is_err());
    }

    #[test]
    fn keys_equate_a_month_with_30_days_and_a_day_with_24_hours() {
        assert_eq!(
            Interval::new(0, 1, 0).key(),
            Interval::new(0, 0, 24 * HOUR).key()
        );
        assert_eq!(Interval::new(1, 0, 0).key(), Interval::new(0, 30, 0).key());
        assert!(Interval::new(0, 1, 0).key() > Interval::new(0, 0, 23 * HOUR).key());
        // A year is 360 days to the key: `interval '1 year' > interval '360 days'` is false.
        assert_eq!(
            Interval::new(12, 0, 0).key(),
            Interval::new(0, 360, 0).key()
        );
        assert_eq!(Interval::new(i32::MAX, i32::MAX, i64::MAX).key(), i64::MAX);
    }

    #[test]
    fn make_interval_from_parts() {
        let make = |parts, secs| Interval::make(parts, secs).unwrap().to_string();
        assert_eq!(make([0, 0, 0, 10, 0, 0], 0.0), "10 days");
        assert_eq!(
            make([1, 2, 0, 3, 4, 5], 6.5),
            "1 year 2 mons 3 days 04:05:06.5"
        );
        assert_eq!(make([0, 0, 2, 0, 0, 0], 0.0), "14 days");
        assert_eq!(make([0, 0, 0, 0, 36, 0], 0.0), "36:00:00");
        assert!(Interval::make([i64::MAX, 0, 0, 0, 0, 0], 0.0).is_err());
    }

    #[test]
    fn justify_functions() {
        assert_eq!(
            Interval::new(0, 35, 0).justify_days().unwrap().to_string(),
            "1 mon 5 days"
        );
        assert_eq!(
            Interval::new(0, -35, 0).justify_days().unwrap().to_string(),
            "-1 mons -5 days"
        );
        assert_eq!(
            Interval::new(0, 0, 27 * HOUR)
                .justify_hours()
                .unwrap()
                .to_string(),
            "1 day 03:00:00"
        );
        assert_eq!(
            Interval::new(1, 0, -HOUR)
                .justify_interval()
                .unwrap()
                .to_string(),
            "29 days 23:00:00"
        );
        assert_eq!(
            Interval::new(0, 40, 50 * HOUR)
                .justify_interval()
                .unwrap()
                .to_string(),
            "1 mon 12 days 02:00:00"
        );
    }
}
