//! Postgres' template patterns (`YYYY-MM-DD HH24:MI:SS`, `FMDay`, `"text"`): to_char of
//! timestamps, dates and intervals, and to_date/to_timestamp, which read by the same template.

use chrono::{Datelike, NaiveDate};

use super::fields::{Unit, year_field};
use super::interval::Interval;
use super::values::{
    DAY_NAMES, Date, MONTH_NAMES, Timestamp, UNIX_EPOCH_JULIAN, USECS_PER_HOUR, USECS_PER_MINUTE,
    USECS_PER_SEC, Value, make_date, make_time,
};
use super::zones;
use super::{PgError, Result};

/// Months in Roman numerals, for RM.
const ROMAN: &str = "I II III IV V VI VII VIII IX X XI XII";

/// The template patterns, longest first so that `HH24` wins over `HH` and `MONTH` over
/// `MON` and `MM`.
const PATTERNS: &str = "Y,YYY SSSSS MONTH A.D. A.M. B.C. P.M. HH24 HH12 IDDD IYYY SSSS YYYY \
    FF1 FF2 FF3 FF4 FF5 FF6 DAY DDD IYY MON TZH TZM YYY AD AM BC CC DD DY HH ID IW IY MI MM \
    MS OF PM RM SS TZ US WW YY D I J Q W Y";

/// How a name pattern was written: `MONTH`, `Month` or `month`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Upper,
    Capital,
    Lower,
}

/// A template pattern as written: its name, the case of its letters, whether FM came
/// before it and TH (or th) after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pattern {
    name: &'static str,
    case: Case,
    fill_mode: bool,
    ordinal: Option<Case>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Pattern(Pattern),
    Literal(char),
}

/// A template split into patterns (with their FM prefix and TH suffix) and literal text.
fn pieces(format: &str) -> Vec<Piece> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let starts = |i: usize, p: &str| {
        p.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k).is_some_and(|x| x.eq_ignore_ascii_case(&c)))
    };
    while i < chars.len() {
        // Prefixes that change nothing here: TM (names are English) and FX (exact reading).
        if starts(i, "TM") || starts(i, "FX") {
            i += 2;
            continue;
        }
        let fill_mode = starts(i, "FM");
        let at = if fill_mode { i + 2 } else { i };
        if let Some(name) = PATTERNS.split_whitespace().find(|p| starts(at, p)) {
            let case = case_of(&chars[at..at + name.len()]);
            i = at + name.len();
            let ordinal = starts(i, "TH").then(|| case_of(&chars[i..i + 2]));
            if ordinal.is_some() {
                i += 2;
            }
            out.push(Piece::Pattern(Pattern {
                name,
                case,
                fill_mode,
                ordinal,
            }));
            continue;
        }
        match chars[i] {
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    out.push(Piece::Literal(chars[i]));
                    i += 1;
                }
            }
            '\\' if i + 1 < chars.len() => {
                i += 1;
                out.push(Piece::Literal(chars[i]));
            }
            c => out.push(Piece::Literal(c)),
        }
        i += 1;
    }
    out
}

fn case_of(text: &[char]) -> Case {
    let mut letters = text.iter().filter(|c| c.is_ascii_alphabetic());
    let first_upper = letters.next().is_some_and(char::is_ascii_uppercase);
    match (first_upper, letters.all(char::is_ascii_uppercase)) {
        (true, true) => Case::Upper,
        (true, false) => Case::Capital,
        _ => Case::Lower,
    }
}

fn cased(word: &str, case: Case) -> String {
    match case {
        Case::Upper => word.to_ascii_uppercase(),
        Case::Lower => word.to_ascii_lowercase(),
        Case::Capital => word.to_string(),
    }
}

fn ordinal_suffix(n: i64, case: Case) -> String {
    let suffix = match (n % 100, n % 10) {
        (11..=13, _) => "th",
        (_, 1) => "st",
        (_, 2) => "nd",
        (_, 3) => "rd",
        _ => "th",
    };
    cased(suffix, case)
}

/// The zone a timestamptz is shown in: TZ's abbreviation and the offset (seconds east)
/// OF, TZH and TZM print.
#[derive(Debug, Clone)]
struct ZoneLabel {
    abbreviation: String,
    offset: i64,
}

/// What to_char formats: a timestamp's fields, or an interval's (hours not wrapped to a
/// day, no calendar names).
struct Moment {
    date: Option<NaiveDate>,
    year: i64,
    month: i64,
    day: i64,
    /// Microseconds: of the day, or of the interval's time.
    time: i64,
    zone: Option<ZoneLabel>,
}

impl Moment {
    fn of_timestamp(t: Timestamp, zone: Option<ZoneLabel>) -> Result<Moment> {
        let d = t.date().naive()?;
        let (year, month, day) = (d.year(), d.month(), d.day());
        Ok(Moment {
            date: Some(d),
            year: year.into(),
            month: month.into(),
            day: day.into(),
            time: t.time(),
            zone,
        })
    }

    /// The text of one pattern; numbers zero-padded unless FM.
    fn render(&self, pattern: Pattern) -> String {
        let Pattern {
            name,
            case,
            fill_mode,
            ordinal,
        } = pattern;
        let date = self.date;
        let hour = self.time / USECS_PER_HOUR;
        let minute = self.time / USECS_PER_MINUTE % 60;
        let second = self.time / USECS_PER_SEC % 60;
        let micro = self.time % USECS_PER_SEC;
        // Intervals have no era: their years print as they are.
        let bc = self.year <= 0 && date.is_some();
        let era_year = if bc { 1 - self.year } else { self.year };
        let iso = date.map(|d| d.iso_week());
        let number = |n: i64, width: usize| {
            // A sign takes a place of its own, as in C's %0*d.
            let width = width + usize::from(n < 0);
            let mut s = if fill_mode {
                n.to_string()
            } else {
                format!("{n:0width$}")
            };
            if let Some(case) = ordinal {
                s.push_str(&ordinal_suffix(n, case));
            }
            s
        };
        let name_text = |word: &str, short: bool| {
            let word = cased(if short { &word[..3] } else { word }, case);
            if fill_mode || short {
                word
            } else {
                format!("{word:<9}")
            }
        };
        let pm = hour >= 12;
        let hour12 = (hour + 11) % 12 + 1;
        let dow = date.map_or(0, |d| i64::from(d.weekday().num_days_from_sunday()));
        let isodow = if dow == 0 { 7 } else { dow };
        let doy = date.map_or(0, |d| i64::from(d.ordinal()));
        let iso_year = iso.map_or(self.year, |w| i64::from(w.year()));
        match name {
            "HH24" => number(hour, 2),
            "HH" | "HH12" => number(hour12, 2),
            "MI" => number(minute, 2),
            "SS" => number(second, 2),
            "SSSS" | "SSSSS" => number(hour * 3600 + minute * 60 + second, 0),
            "MS" => number(micro / 1000, 3),
            "US" => number(micro, 6),
            n if n.starts_with("FF") => {
                let digits = n[2..].parse::<u32>().unwrap_or(6);
                number(micro / 10_i64.pow(6 - digits), digits as usize)
            }
            "AM" | "PM" => cased(if pm { "PM" } else { "AM" }, case),
            "A.M." | "P.M." => cased(if pm { "P.M." } else { "A.M." }, case),
            "AD" | "BC" => cased(if bc { "BC" } else { "AD" }, case),
            "A.D." | "B.C." => cased(if bc { "B.C." } else { "A.D." }, case),
            "Y,YYY" => format!("{},{:03}", era_year / 1000, era_year % 1000),
            "YYYY" => number(era_year, 4),
            "YYY" | "YY" | "Y" => number(era_year % 10_i64.pow(name.len() as u32), name.len()),
            "IYYY" => number(iso_year, 4),
            "IYY" | "IY" | "I" => number(iso_year % 10_i64.pow(name.len() as u32), name.len()),
            "MONTH" | "MON" if date.is_some() => {
                name_text(MONTH_NAMES[(self.month - 1) as usize], name == "MON")
            }
            "MM" => number(self.month, 2),
            "RM" if (1..=12).contains(&self.month) => {
                let numeral = ROMAN.split(' ').nth(self.month as usize - 1);
                let r = cased(numeral.unwrap_or_default(), case);
                if fill_mode { r } else { format!("{r:<4}") }
            }
            "DAY" | "DY" if date.is_some() => name_text(DAY_NAMES[dow as usize], name == "DY"),
            "DDD" => number(doy, 3),
            "DD" => number(self.day, 2),
            "D" => number(dow + 1, 1),
            "ID" => number(isodow, 1),
            "IDDD" => number(iso.map_or(0, |w| i64::from(w.week()) - 1) * 7 + isodow, 3),
            "W" => number((self.day - 1) / 7 + 1, 1),
            "WW" => number((doy - 1) / 7 + 1, 2),
            "IW" => number(iso.map_or(0, |w| i64::from(w.week())), 2),
            "CC" if date.is_none() => number(self.year / 100, 2),
            "CC" => number(year_field(Unit::Century, self.year), 2),
            "J" => number(
                date.map_or(0, |d| Date::from_naive(d).0 + UNIX_EPOCH_JULIAN),
                0,
            ),
            "Q" => number((self.month - 1) / 3 + 1, 1),
            "TZ" => self
                .zone
                .as_ref()
                .map_or_else(String::new, |z| cased(&z.abbreviation, case)),
            "OF" => self.zone.as_ref().map_or_else(String::new, |z| {
                let (h, m) = (z.offset / 3600, z.offset.abs() / 60 % 60);
                match m {
                    0 => format!("{h:+03}"),
                    _ => format!("{h:+03}:{m:02}"),
                }
            }),
            "TZH" => format!("{:+03}", self.zone.as_ref().map_or(0, |z| z.offset / 3600)),
            "TZM" => format!(
                "{:02}",
                self.zone.as_ref().map_or(0, |z| z.offset.abs() / 60 % 60)
            ),
            _ => String::new(),
        }
    }
}

/// Postgres' to_char of a timestamp, timestamptz, date or interval; NULL for infinity. A
/// time formats as the interval Postgres casts it to.
pub(super) fn to_char(value: Value, format: &str) -> Result<Option<String>> {
    let moment = match value {
        _ if !value.is_finite() => return Ok(None),
        Value::Date(d) => Moment::of_timestamp(d.at_midnight(), None)?,
        Value::Timestamp(t) => Moment::of_timestamp(t, None)?,
        Value::Timestamptz(t) => {
            let zone = zones::current();
            let label = ZoneLabel {
                abbreviation: zone.abbreviation_at(t)?,
                offset: zone.offset_at(t)?,
            };
            Moment::of_timestamp(zone.to_local(t)?, Some(label))?
        }
        Value::Time(t) => return to_char(Value::Interval(Interval::new(0, 0, t)), format),
        Value::Interval(i) => Moment {
            date: None,
            year: (i.months / 12).into(),
            month: (i.months % 12).into(),
            day: i.days.into(),
            time: i.micros,
            zone: None,
        },
    };
    let pieces = pieces(format).into_iter().map(|p| match p {
        Piece::Literal(c) => c.to_string(),
        Piece::Pattern(p) => moment.render(p),
    });
    Ok(Some(pieces.collect()))
}

/// The fields to_date and to_timestamp read.
#[derive(Default)]
struct Read {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    doy: Option<i64>,
    julian: Option<i64>,
    hour: i64,
    minute: i64,
    second: i64,
    micro: i64,
    pm: Option<bool>,
    bc: bool,
    offset_seconds: i64,
    /// The template read an offset (TZH, TZM); without one the session's zone applies.
    offset_read: bool,
}

/// Reads `text` by the template, as to_timestamp does when FX is not given: spaces are
/// skipped before fields, and a separator in the template passes any one separator.
fn read(text: &str, format: &str) -> Result<Read> {
    let input: Vec<char> = text.chars().collect();
    let mut at = 0;
    let mut r = Read::default();
    for piece in pieces(format) {
        let separator = match piece {
            Piece::Literal(c) if !c.is_whitespace() => Some(c),
            _ => None,
        };
        if let Some(c) = separator {
            let next = input.get(at);
            at += usize::from(next.is_some_and(|&i| i == c || !i.is_alphanumeric()));
            continue;
        }
        while input.get(at).is_some_and(|c| c.is_whitespace()) {
            at += 1;
        }
        if let Piece::Pattern(p) = piece {
            at = read_field(&input, at, p.name, &mut r)?;
        }
    }
    Ok(r)
}

/// Reads one field at `at`, answering where the text goes on.
fn read_field(input: &[char], at: usize, name: &'static str, r: &mut Read) -> Result<usize> {
    let rest: String = input[at..].iter().collect();
    let bad = || {
        let found: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
        PgError::new("22007", format!("invalid value \"{found}\" for \"{name}\""))
    };
    // Words: the index of the one found (of a name list, or of its abbreviations) and
    // its length.
    let words: &[&str] = match name {
        "MONTH" | "MON" => &MONTH_NAMES,
        "DAY" | "DY" => &DAY_NAMES,
        "AM" | "PM" | "A.M." | "P.M." => &["AM", "PM", "A.M.", "P.M."],
        "AD" | "BC" | "A.D." | "B.C." => &["AD", "BC", "A.D.", "B.C."],
        "TZ" | "OF" => {
            let message = format!("formatting field \"{name}\" is only supported in to_char");
            return Err(PgError::new("0A000", message));
        }
        _ => &[],
    };
    if !words.is_empty() {
        let short = matches!(name, "MON" | "DY");
        let (i, len) = (words.iter().enumerate())
            .map(|(i, w)| (i, if short { &w[..3] } else { w }))
            .find(|(_, w)| {
                rest.get(..w.len())
                    .is_some_and(|r| r.eq_ignore_ascii_case(w))
            })
            .map(|(i, w)| (i as i64, w.len()))
            .ok_or_else(bad)?;
        match name {
            "MONTH" | "MON" => r.month = Some(i + 1),
            "DAY" | "DY" => {}
            "AM" | "PM" | "A.M." | "P.M." => r.pm = Some(i % 2 == 1),
            _ => r.bc = i % 2 == 1,
        }
        return Ok(at + len);
    }
    let negative = name == "TZH" && matches!(rest.chars().next(), Some('-' | '+'));
    let start = if negative { 1 } else { 0 };
    let width = match name {
        "YYYY" | "IYYY" => 4,
        "YYY" | "IYY" | "DDD" | "MS" | "IDDD" => 3,
        "US" => 6,
        "SSSS" | "SSSSS" => 5,
        "J" => 10,
        "Y,YYY" => 5,
        n if n.starts_with("FF") => n[2..].parse().unwrap_or(6),
        n if n.len() == 1 => 1,
        _ => 2,
    };
    let field: String = rest
        .chars()
        .skip(start)
        .take_while(|c| c.is_ascii_digit() || (name == "Y,YYY" && *c == ','))
        .take(width)
        .collect();
    let used = start + field.chars().count();
    let digits: String = field.chars().filter(char::is_ascii_digit).collect();
    let n: i64 = digits.parse().map_err(|_| bad())?;
    match name {
        "YYYY" | "Y,YYY" | "IYYY" => r.year = Some(n),
        // Two- and three-digit years land nearest 2020, as Postgres' to_date does.
        "YY" | "IY" => r.year = Some(if n < 70 { 2000 + n } else { 1900 + n }),
        "YYY" | "IYY" => r.year = Some(if n < 520 { 2000 + n } else { 1000 + n }),
        "Y" | "I" => r.year = Some(2000 + n),
        "MM" => r.month = Some(n),
        "DD" => r.day = Some(n),
        "DDD" => r.doy = Some(n),
        "J" => r.julian = Some(n),
        "HH" | "HH12" | "HH24" => r.hour = n,
        "MI" => r.minute = n,
        "SS" => r.second = n,
        "SSSS" | "SSSSS" => {
            (r.hour, r.minute, r.second) = (n / 3600, n / 60 % 60, n % 60);
        }
        "MS" => r.micro = n * 10_i64.pow(3 - digits.len() as u32) * 1000,
        "US" => r.micro = n * 10_i64.pow(6 - digits.len() as u32),
        n2 if n2.starts_with("FF") => r.micro = n * 10_i64.pow(6 - digits.len() as u32),
        "TZH" if rest.starts_with('-') => (r.offset_seconds, r.offset_read) = (-n * 3600, true),
        "TZH" => (r.offset_seconds, r.offset_read) = (n * 3600, true),
        // Minutes have the sign of the hours before them.
        "TZM" if r.offset_seconds < 0 => {
            (r.offset_seconds, r.offset_read) = (r.offset_seconds - n * 60, true)
        }
        "TZM" => (r.offset_seconds, r.offset_read) = (r.offset_seconds + n * 60, true),
        _ => {}
    }
    Ok(at + used)
}

impl Read {
    fn timestamp(&self, text: &str) -> Result<Timestamp> {
        let year = self.year.unwrap_or(1);
        let year = if self.bc { 1 - year } else { year };
        let date = match (self.julian, self.doy) {
            (Some(j), _) => Date::from_days(j - UNIX_EPOCH_JULIAN)?,
            (None, Some(doy)) => NaiveDate::from_yo_opt(year as i32, doy as u32)
                .map(Date::from_naive)
                .ok_or_else(|| PgError::field_range(text))?,
            (None, None) => make_date(year, self.month.unwrap_or(1), self.day.unwrap_or(1))?,
        };
        let hour = match self.pm {
            Some(_) if !(1..=12).contains(&self.hour) => return Err(PgError::field_range(text)),
            Some(pm) => self.hour % 12 + if pm { 12 } else { 0 },
            None => self.hour,
        };
        let seconds = self.second as f64 + self.micro as f64 / 1e6;
        let time = make_time(hour, self.minute, seconds)?;
        Timestamp::new(date, time).plus(-self.offset_seconds * USECS_PER_SEC, "timestamp")
    }
}

/// Postgres' to_timestamp(text, template), whose date is to_date's: the fields are local
/// time in the session's zone unless the template reads an offset (TZH, TZM).
pub(super) fn to_timestamp(text: &str, format: &str) -> Result<Timestamp> {
    let read = read(text, format)?;
    let t = read.timestamp(text)?;
    match read.offset_read {
        true => Ok(t),
        false => zones::current().to_utc(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sql::datetime::golden::{check, text};
    use crate::engine::sql::datetime::input;
    use crate::engine::sql::datetime::values::Kind;

    #[test]
    fn to_char_patterns_as_postgres() {
        let cases = r#"
            timestamp | 2024-03-05 14:07:09 | YYYY-MM-DD HH24:MI:SS | 2024-03-05 14:07:09
            timestamp | 2024-03-05 14:07:09 | DD/MM/YYYY HH12:MI AM | 05/03/2024 02:07 PM
            date | 2024-03-05 | Day, DD Month YYYY | Tuesday  , 05 March     2024
            date | 2024-03-05 | FMDay, FMDD FMMonth YYYY | Tuesday, 5 March 2024
            date | 2024-03-05 | Mon DD YY | Mar 05 24
            date | 2024-03-05 | DY dy | TUE tue
            timestamp | 2024-03-05 14:07:09.123 | HH24:MI:SS.MS | 14:07:09.123
            date | 2024-03-05 | Q WW IW J | 1 10 10 2460375
            timestamptz | 2024-03-05 14:07:09+00 | YYYY-MM-DD"T"HH24:MI:SSOF | 2024-03-05T14:07:09+00
            date | 2024-02-29 | YYYY-MM | 2024-02
            date | 2024-02-29 | TMMonth FXYYYY | February  2024
            interval | 15 hours 2 minutes 12 seconds | HH24:MI:SS | 15:02:12
            date | 2024-03-01 | DDth FMDDTH \Y RM. | 01st 1ST Y III .
            timestamptz | 2024-03-05 14:07:09+00 | TZ tz US FF2 | UTC utc 000000 00
            date | 0044-03-15 BC | YYYY BC CC | 0044 BC -01
            timestamp | infinity | YYYY | NULL
            interval | 30 hours | HH12 AM | 06 PM
            time | 13:05 | HH12:MI | 01:05
        "#;
        check(cases, |a| {
            let value = input::read(Kind::named(a[0]).unwrap(), a[1]).unwrap();
            text(to_char(value, a[2]).map(|t| t.unwrap_or("NULL".into())))
        });
    }

    #[test]
    fn to_date_and_to_timestamp_read_by_the_template() {
        let cases = "
            05 Dec 2000 | DD Mon YYYY | 2000-12-05 00:00:00+00:00
            2024-03-15 | YYYY-MM-DD | 2024-03-15 00:00:00+00:00
            20240315 | YYYYMMDD | 2024-03-15 00:00:00+00:00
            March 5, 2024 | Month DD, YYYY | 2024-03-05 00:00:00+00:00
            2024-03-15 10:20:30 | YYYY-MM-DD HH24:MI:SS | 2024-03-15 10:20:30+00:00
            2024-03-15 02:20 PM | YYYY-MM-DD HH12:MI AM | 2024-03-15 14:20:00+00:00
            2024-03-15 10:20 -02:30 | YYYY-MM-DD HH24:MI TZH:TZM | 2024-03-15 12:50:00+00:00
            2024-02-30 | YYYY-MM-DD | ERROR 22008
            xx | YYYY | ERROR 22007
            2024 +02 | YYYY TZ | ERROR 0A000
            2460385 | J | 2024-03-15 00:00:00+00:00
            9999999999 | J | ERROR 22008
        ";
        check(cases, |a| {
            text(to_timestamp(a[0], a[1]).and_then(Timestamp::format_tz))
        });
        assert_eq!(
            text(to_timestamp("05 Dec 2000", "DD Mon YYYY").and_then(|t| t.date().format())),
            "2000-12-05"
        );
    }
}
