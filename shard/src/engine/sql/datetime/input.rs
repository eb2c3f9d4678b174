//! Date, time, timestamp and timestamptz input as Postgres reads it (DateStyle ISO, MDY):
//! ISO dates with `T` or space before the time, `20240315`, `March 15, 2024`,
//! `15 Mar 2024`, fractions rounded to microseconds, `24:00`, AM/PM, BC, zone offsets
//! and names after the time, and the special words (`infinity`, `epoch`, `now`, `today`).

use std::time::{SystemTime, UNIX_EPOCH};

use super::values::{
    DAY_NAMES, Date, Kind, MONTH_NAMES, Timestamp, USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE,
    USECS_PER_SEC, Value, fraction_micros,
};
use super::zones::{self, Sign, Zone};
use super::{PgError, Result};

/// The current instant, to the microsecond.
pub(super) fn now() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
}

/// The clock on the wall in the session's zone.
fn local_now() -> Timestamp {
    let utc = now();
    zones::current().to_local(utc).unwrap_or(utc)
}

/// Today's date in the session's zone.
pub(super) fn today() -> Date {
    local_now().date()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    Infinity,
    NegInfinity,
    Epoch,
    Now,
    Today,
    Tomorrow,
    Yesterday,
    Allballs,
}

/// The fields found in a date/time text.
#[derive(Default)]
struct Parsed {
    special: Option<Special>,
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    bc: bool,
    time: Option<i64>,
    pm: Option<bool>,
    zone: Option<Zone>,
}

/// Why a text is not a value: Postgres' 22007 and 22008 apart.
enum Bad {
    Syntax,
    Range,
}

type Parse<T> = std::result::Result<T, Bad>;

/// Whether `word` (lowercase) is `name` or its three-letter abbreviation, or `sept`,
/// Postgres' one four-letter one.
fn names(word: &str, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let word = word.trim_end_matches('.');
    word == name || (name.starts_with(word) && (word.len() == 3 || word == "sept"))
}

fn month_named(word: &str) -> Option<i64> {
    let index = MONTH_NAMES.iter().position(|m| names(word, m))?;
    Some(index as i64 + 1)
}

fn weekday(word: &str) -> bool {
    DAY_NAMES.iter().any(|d| names(word, d))
}

/// A field of digits only; too many of them is a field out of range.
fn digits(s: &str) -> Parse<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Bad::Syntax);
    }
    s.parse().map_err(|_| Bad::Range)
}

impl Parsed {
    fn read(text: &str) -> Parse<Parsed> {
        let mut p = Parsed::default();
        for piece in text.split(|c: char| c.is_whitespace() || c == ',') {
            if piece.is_empty() {
                continue;
            }
            let lower = piece.to_ascii_lowercase();
            // 2024-03-15T10:20:30: the T only separates the date from the time.
            match lower.find('t') {
                Some(i)
                    if i > 0
                        && lower.as_bytes()[i - 1].is_ascii_digit()
                        && lower.as_bytes().get(i + 1).is_some_and(u8::is_ascii_digit) =>
                {
                    p.token(&lower[..i], &piece[..i])?;
                    p.token(&lower[i + 1..], &piece[i + 1..])?;
                }
                _ => p.token(&lower, piece)?,
            }
        }
        Ok(p)
    }

    fn token(&mut self, lower: &str, original: &str) -> Parse<()> {
        let first = lower.as_bytes()[0];
        if first.is_ascii_digit() {
            if lower.contains(':') {
                self.clock(lower, original)
            } else if lower.contains(['-', '/', '.']) {
                self.date(lower)
            } else {
                self.number(lower)
            }
        } else if matches!(first, b'+' | b'-')
            && lower.as_bytes().get(1).is_some_and(u8::is_ascii_digit)
        {
            self.set_zone(Zone::lookup(original, Sign::Iso).ok_or(Bad::Syntax)?)
        } else {
            self.word(lower, original)
        }
    }

    fn set_zone(&mut self, zone: Zone) -> Parse<()> {
        if self.zone.replace(zone).is_some() {
            return Err(Bad::Syntax);
        }
        Ok(())
    }

    fn word(&mut self, lower: &str, original: &str) -> Parse<()> {
        let special = match lower {
            "infinity" | "+infinity" => Some(Special::Infinity),
            "-infinity" => Some(Special::NegInfinity),
            "epoch" => Some(Special::Epoch),
            "now" => Some(Special::Now),
            "today" => Some(Special::Today),
            "tomorrow" => Some(Special::Tomorrow),
            "yesterday" => Some(Special::Yesterday),
            "allballs" => Some(Special::Allballs),
            _ => None,
        };
        if let Some(s) = special {
            if self.special.replace(s).is_some() {
                return Err(Bad::Syntax);
            }
            return Ok(());
        }
        match lower.trim_end_matches('.') {
            "am" | "a.m" => self.pm = Some(false),
            "pm" | "p.m" => self.pm = Some(true),
            "bc" | "b.c" => self.bc = true,
            "ad" | "a.d" => {}
            w if weekday(w) => {}
            w => match month_named(w) {
                Some(m) if self.month.is_none() => self.month = Some(m),
                Some(_) => return Err(Bad::Syntax),
                None => self.set_zone(Zone::lookup(original, Sign::Iso).ok_or(Bad::Syntax)?)?,
            },
        }
        Ok(())
    }

    /// A bare number: 8 digits are YYYYMMDD; otherwise the year when 3 digits or more,
    /// else the day, then the year.
    fn number(&mut self, digits: &str) -> Parse<()> {
        let value: i64 = digits.parse().map_err(|_| Bad::Range)?;
        if digits.len() == 8 && self.year.is_none() && self.month.is_none() && self.day.is_none() {
            self.year = Some(value / 10000);
            self.month = Some(value / 100 % 100);
            self.day = Some(value % 100);
        } else if digits.len() >= 3 && self.year.is_none() {
            self.year = Some(value);
        } else if self.day.is_none() {
            self.day = Some(value);
        } else if self.year.is_none() {
            // Postgres' two-digit years: 70-99 are 19xx, 00-69 are 20xx.
            self.year = Some(if digits.len() > 2 {
                value
            } else if value < 70 {
                2000 + value
            } else {
                1900 + value
            });
        } else {
            return Err(Bad::Syntax);
        }
        Ok(())
    }

    /// A date with separators: year first when it has 3 digits or more, else month first
    /// (DateStyle MDY); a month may be a name (`15-Mar-2024`).
    fn date(&mut self, lower: &str) -> Parse<()> {
        if self.year.is_some() || self.month.is_some() {
            return Err(Bad::Syntax);
        }
        let parts: Vec<&str> = lower.split(['-', '/', '.']).collect();
        let [a, b, c] = parts.as_slice() else {
            return Err(Bad::Syntax);
        };
        let (y, m, d) = if let Some(m) = month_named(b) {
            (digits(c)?, m, digits(a)?)
        } else if a.len() >= 3 {
            (digits(a)?, digits(b)?, digits(c)?)
        } else {
            (digits(c)?, digits(a)?, digits(b)?)
        };
        self.year = Some(y);
        self.month = Some(m);
        self.day = Some(d);
        Ok(())
    }

    /// `HH:MM[:SS[.f]]`, possibly with a zone stuck on (`10:20:30+02`, `10:20:30Z`).
    fn clock(&mut self, lower: &str, original: &str) -> Parse<()> {
        let (clock, zone) = match lower.find(['+', '-']) {
            Some(i) => (&lower[..i], Some(&original[i..])),
            None => match lower.strip_suffix('z') {
                Some(c) => (c, Some("Z")),
                None => (lower, None),
            },
        };
        if let Some(zone) = zone {
            self.set_zone(Zone::lookup(zone, Sign::Iso).ok_or(Bad::Syntax)?)?;
        }
        if self.time.is_some() {
            return Err(Bad::Syntax);
        }
        let parts: Vec<&str> = clock.split(':').collect();
        let (hour, minute, seconds) = match parts.as_slice() {
            [h, m] => (digits(h)?, digits(m)?, "0"),
            [h, m, s] => (digits(h)?, digits(m)?, *s),
            _ => return Err(Bad::Syntax),
        };
        let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
        let second = digits(whole)?;
        let micros = fraction_micros(fraction).ok_or(Bad::Syntax)?;
        if minute > 59 || second > 60 || hour > 24 {
            return Err(Bad::Range);
        }
        self.time = Some(
            hour * USECS_PER_HOUR + minute * USECS_PER_MINUTE + second * USECS_PER_SEC + micros,
        );
        Ok(())
    }

    /// The date, if the text has one; out-of-range fields are 22008.
    fn calendar(&self) -> Parse<Option<Date>> {
        match (self.year, self.month, self.day) {
            (None, None, None) => Ok(None),
            (Some(y), Some(m), Some(d)) => {
                // There is no year 0: 1 BC comes before 1 AD.
                if y == 0 || !(1..=12).contains(&m) {
                    return Err(Bad::Range);
                }
                let year = if self.bc { 1 - y } else { y };
                Date::from_ymd(year, m, d).map(Some).ok_or(Bad::Range)
            }
            _ => Err(Bad::Syntax),
        }
    }

    /// The time of day, AM/PM applied; 24:00:00 only exactly.
    fn clock_time(&self) -> Parse<Option<i64>> {
        let Some(mut t) = self.time else {
            // AM or PM with no time of day is no date/time text.
            return if self.pm.is_some() {
                Err(Bad::Syntax)
            } else {
                Ok(None)
            };
        };
        if let Some(pm) = self.pm {
            let hour = t / USECS_PER_HOUR;
            if hour > 12 {
                return Err(Bad::Range);
            }
            if pm && hour < 12 {
                t += 12 * USECS_PER_HOUR;
            } else if !pm && hour == 12 {
                t -= 12 * USECS_PER_HOUR;
            }
        }
        if t > USECS_PER_DAY {
            return Err(Bad::Range);
        }
        Ok(Some(t))
    }

    /// The local timestamp the text names, special words included.
    fn timestamp(&self) -> Parse<Timestamp> {
        let midnight = |days: i64| Timestamp::new(Date(today().0 + days), 0);
        match self.special {
            Some(Special::Infinity) => return Ok(Timestamp::INFINITY),
            Some(Special::NegInfinity) => return Ok(Timestamp::NEG_INFINITY),
            Some(Special::Now) => return Ok(local_now()),
            Some(Special::Epoch) => return Ok(Timestamp(0)),
            Some(Special::Today) => return Ok(midnight(0)),
            Some(Special::Tomorrow) => return Ok(midnight(1)),
            Some(Special::Yesterday) => return Ok(midnight(-1)),
            Some(Special::Allballs) | None => {}
        }
        let date = self.calendar()?.ok_or(Bad::Syntax)?;
        Ok(Timestamp::new(date, self.clock_time()?.unwrap_or(0)))
    }
}

fn read_as<T>(text: &str, type_name: &str, f: impl FnOnce(&Parsed) -> Parse<T>) -> Result<T> {
    Parsed::read(text.trim())
        .and_then(|p| f(&p))
        .map_err(|bad| match bad {
            Bad::Syntax => PgError::syntax(type_name, text),
            Bad::Range => PgError::field_range(text),
        })
}

/// Date input; a timestamp's text gives its date (even at 24:00, which Postgres' date
/// input ignores with the rest of the time).
pub(super) fn date(text: &str) -> Result<Date> {
    if let Some(local) = local_instant(text)? {
        return Ok(local.date());
    }
    read_as(text, "date", |p| match p.special {
        None | Some(Special::Allballs) => {
            p.clock_time()?;
            p.calendar()?.ok_or(Bad::Syntax)
        }
        Some(_) => Ok(p.timestamp()?.date()),
    })
}

/// Time input; a timestamp's text gives its time of day (a zone is ignored, as Postgres'
/// time type does).
pub(super) fn time(text: &str) -> Result<i64> {
    if let Some(local) = local_instant(text)? {
        return Ok(local.time());
    }
    read_as(text, "time", |p| match p.special {
        Some(Special::Allballs) => Ok(0),
        Some(Special::Now) => Ok(local_now().time()),
        Some(_) => Err(Bad::Syntax),
        None => {
            p.calendar()?;
            p.clock_time()?.ok_or(Bad::Syntax)
        }
    })
}

/// Timestamp input: a zone in the text is ignored, as Postgres' timestamp type does.
pub(super) fn timestamp(text: &str) -> Result<Timestamp> {
    if let Some(local) = local_instant(text)? {
        return Ok(local);
    }
    read_as(text, "timestamp", Parsed::timestamp)
}

/// A timestamptz in its stored form (`...+00:00`), as a cast of it to a type without a zone
/// reads it: in the session's zone, when that is not UTC. Input text's own zone is ignored
/// by those types, so only the stored form, which a timestamptz value has, is converted.
fn local_instant(text: &str) -> Result<Option<Timestamp>> {
    let zone = zones::current();
    if zone == Zone::Fixed(0)
        || !text.ends_with("+00:00")
        || stored_kind(text) != Some(Kind::Timestamptz)
    {
        return Ok(None);
    }
    zone.to_local(timestamptz(text)?).map(Some)
}

/// Timestamptz input: the local time in the text's zone, or in the session's.
pub(super) fn timestamptz(text: &str) -> Result<Timestamp> {
    let (local, zone, special) = read_as(text, "timestamp with time zone", |p| {
        Ok((p.timestamp()?, p.zone, p.special))
    })?;
    match special {
        // Instants, not local times.
        Some(Special::Now) => Ok(now()),
        Some(Special::Epoch) => Ok(Timestamp(0)),
        _ => zone.unwrap_or_else(zones::current).to_utc(local),
    }
}

/// A function's value argument, read as its kind.
pub(super) fn read(kind: Kind, text: &str) -> Result<Value> {
    Ok(match kind {
        Kind::Date => Value::Date(date(text)?),
        Kind::Time => Value::Time(time(text)?),
        Kind::Timestamp => Value::Timestamp(timestamp(text)?),
        Kind::Timestamptz => Value::Timestamptz(timestamptz(text)?),
        Kind::Interval => Value::Interval(super::interval::parse(text)?),
    })
}

/// The kind of a value in its stored form (the forms litescale keeps dates in), for
/// operators whose plan does not know the type; `None` for text of no such form.
pub(super) fn stored_kind(text: &str) -> Option<Kind> {
    // A number is a number, not an interval of seconds.
    if text.trim().parse::<f64>().is_ok() {
        return None;
    }
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let is_date = b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10);
    let is_clock =
        |at: usize| digits(at..at + 2) && b.get(at + 2) == Some(&b':') && digits(at + 3..at + 5);
    if is_date {
        return Some(match b.len() {
            10 => Kind::Date,
            _ if b.get(10) == Some(&b' ') && is_clock(11) => {
                let zone = &text[19.min(text.len())..];
                if zone.contains(['+', '-']) {
                    Kind::Timestamptz
                } else {
                    Kind::Timestamp
                }
            }
            _ => return None,
        });
    }
    match text {
        "infinity" | "-infinity" => Some(Kind::Timestamp),
        _ if b.len() >= 8 && is_clock(0) && b[5] == b':' && digits(6..8) => Some(Kind::Time),
        _ => super::interval::parse(text).ok().map(|_| Kind::Interval),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sql::datetime::golden::{check, text};

    #[test]
    fn the_forms_of_04_datetime() {
        let cases = "
            date | 2024-03-15 | 2024-03-15
            date | 20240315 | 2024-03-15
            date | March 15, 2024 | 2024-03-15
            date | 15 Mar 2024 | 2024-03-15
            date | Sept 1 2024 | 2024-09-01
            date | Friday 2024-03-15 | 2024-03-15
            date | 03/15/2024 | 2024-03-15
            date | 2024-03-15 10:20:30 | 2024-03-15
            date | 2024-03-15 10:20:30+00:00 | 2024-03-15
            date | 2024-03-15 24:00 | 2024-03-15
            date | infinity | infinity
            date | -infinity | -infinity
            date | epoch | 1970-01-01
            date | 0044-03-15 BC | 0044-03-15 BC
            date | 2024-02-30 | ERROR 22008
            date | 2024-13-01 | ERROR 22008
            date | 0000-01-01 | ERROR 22008
            date | soon | ERROR 22007
            date | 10:20 | ERROR 22007
            timestamp | 2024-03-15T10:20:30 | 2024-03-15 10:20:30
            timestamp | 2024-03-15 10:20:30.123456 | 2024-03-15 10:20:30.123456
            timestamp | 2024-03-15 10:20:30.1234567 | 2024-03-15 10:20:30.123457
            timestamp | 2024-03-15 24:00 | 2024-03-16 00:00:00
            timestamp | 2024-03-15 | 2024-03-15 00:00:00
            timestamp | 2024-03-15 10:20:30+02 | 2024-03-15 10:20:30
            timestamp | 2024-03-05 02:07 PM | 2024-03-05 14:07:00
            timestamp | 2024-03-05 12:07 AM | 2024-03-05 00:07:00
            timestamp | infinity | infinity
            timestamp | epoch | 1970-01-01 00:00:00
            timestamp | 2024-03-15 25:00 | ERROR 22008
            timestamp | 2024-03-15 10:60 | ERROR 22008
            timestamp | 2024-03-15 13:00 PM | ERROR 22008
            timestamptz | 2024-03-15 10:20:30+02 | 2024-03-15 08:20:30+00:00
            timestamptz | 2024-03-15 10:20:30 America/New_York | 2024-03-15 14:20:30+00:00
            timestamptz | 2024-07-15 10:20:30 Europe/Paris | 2024-07-15 08:20:30+00:00
            timestamptz | 2024-03-15 10:20:30 | 2024-03-15 10:20:30+00:00
            timestamptz | 2024-12-31 23:00:00-05 | 2025-01-01 04:00:00+00:00
            timestamptz | 2024-03-15 10:20:30+05:30 | 2024-03-15 04:50:30+00:00
            timestamptz | 2024-03-15 10:20:30+00:00 | 2024-03-15 10:20:30+00:00
            timestamptz | 2024-03-15T10:20:30Z | 2024-03-15 10:20:30+00:00
            timestamptz | 2028-02-29 12:00+01 | 2028-02-29 11:00:00+00:00
            timestamptz | 2024-03-15 10:20:30 Mars/Base | ERROR 22007
            time | 10:30 | 10:30:00
            time | 23:59:59.5 | 23:59:59.5
            time | 2024-03-15 10:20:30 | 10:20:30
            time | 2024-03-15 10:20:30+00:00 | 10:20:30
            time | 24:00 | 24:00:00
            time | allballs | 00:00:00
            time | 25:00 | ERROR 22008
            time | 2024-03-15 | ERROR 22007
            interval | 1 day 2 hours | 1 day 02:00:00
        ";
        check(cases, |a| {
            let kind = Kind::named(a[0]).unwrap();
            text(read(kind, a[1]).and_then(Value::format))
        });
        let e = date("soon").unwrap_err();
        assert_eq!(e.message, "invalid input syntax for type date: \"soon\"");
        let e = date("2024-02-30").unwrap_err();
        assert_eq!(
            e.message,
            "date/time field value out of range: \"2024-02-30\""
        );
    }

    #[test]
    fn special_words_read_the_clock() {
        assert_eq!(date("today").unwrap(), today());
        assert_eq!(date("tomorrow").unwrap(), Date(today().0 + 1));
        assert_eq!(
            timestamp("yesterday").unwrap(),
            Timestamp::new(Date(today().0 - 1), 0)
        );
        assert!(timestamptz("now").unwrap() <= now());
    }
}
