//! Dates, times, timestamps, intervals and UUIDs: SQLite keeps them as text; Postgres
//! clients get them in Postgres' text output (DateStyle ISO, TimeZone UTC) or binary form.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

/// Postgres' epoch for binary dates and timestamps.
fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid date")
}

const TIME_FORMATS: [&str; 2] = ["%H:%M:%S%.f", "%H:%M"];

/// Why a date or time text is not one: the three errors Postgres tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadDateTime {
    /// Not a date or time at all (22007).
    Syntax,
    /// Shaped like one, with a field out of range: month 13, hour 25 (22008).
    FieldOutOfRange,
    /// A UTC offset beyond ±15:59 (22009).
    ZoneOutOfRange,
}

impl BadDateTime {
    /// Postgres' SQLSTATE and message for `input`, a value of the type named `type_name`.
    pub fn error(self, type_name: &str, input: &str) -> (&'static str, String) {
        match self {
            BadDateTime::Syntax => (
                "22007",
                format!("invalid input syntax for type {type_name}: \"{input}\""),
            ),
            BadDateTime::FieldOutOfRange => (
                "22008",
                format!("date/time field value out of range: \"{input}\""),
            ),
            BadDateTime::ZoneOutOfRange => (
                "22009",
                format!("time zone displacement out of range: \"{input}\""),
            ),
        }
    }
}

impl From<chrono::ParseError> for BadDateTime {
    fn from(e: chrono::ParseError) -> BadDateTime {
        match e.kind() {
            chrono::format::ParseErrorKind::OutOfRange
            | chrono::format::ParseErrorKind::Impossible => BadDateTime::FieldOutOfRange,
            _ => BadDateTime::Syntax,
        }
    }
}

pub fn parse_date(s: &str) -> Result<NaiveDate, BadDateTime> {
    let s = s.trim();
    let head = s.get(..10).unwrap_or(s);
    Ok(NaiveDate::parse_from_str(head, "%Y-%m-%d")?)
}

pub fn parse_time(s: &str) -> Result<NaiveTime, BadDateTime> {
    let s = s.trim();
    let mut failure = BadDateTime::Syntax;
    for format in TIME_FORMATS {
        match NaiveTime::parse_from_str(s, format) {
            Ok(t) => return Ok(t),
            Err(e) if BadDateTime::from(e) == BadDateTime::FieldOutOfRange => {
                failure = BadDateTime::FieldOutOfRange
            }
            Err(_) => {}
        }
    }
    Err(failure)
}

/// The largest UTC offset Postgres accepts, in seconds (15:59:59).
const MAX_OFFSET_SECONDS: i32 = 15 * 3600 + 59 * 60 + 59;

/// Splits a trailing UTC offset (`+02`, `-05:30`, `+0100`, `Z`) off a timestamp text.
fn split_offset(s: &str) -> Result<(&str, Option<i32>), BadDateTime> {
    if let Some(rest) = s.strip_suffix('Z').or_else(|| s.strip_suffix(" UTC")) {
        return Ok((rest, Some(0)));
    }
    // The offset sign comes after the time part, which follows the date's last '-'.
    let time_start = s.find([' ', 'T']).unwrap_or(s.len());
    let Some(pos) = s[time_start..].rfind(['+', '-']).map(|p| p + time_start) else {
        return Ok((s, None));
    };
    let (body, offset) = s.split_at(pos);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(|c| c.is_ascii_digit()).collect();
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok(), Some(0)),
        4 => (digits[..2].parse().ok(), digits[2..].parse().ok()),
        _ => (None, None),
    };
    match (h, m) {
        (Some(h), Some(m)) => {
            let seconds = h * 3600 + m * 60;
            if m > 59 || seconds > MAX_OFFSET_SECONDS {
                return Err(BadDateTime::ZoneOutOfRange);
            }
            Ok((body.trim_end(), Some(sign * seconds)))
        }
        _ => Ok((s, None)),
    }
}

fn parse_naive(s: &str) -> Result<NaiveDateTime, BadDateTime> {
    let s = s.trim();
    for sep in [' ', 'T'] {
        if let Some((d, t)) = s.split_once(sep) {
            return Ok(parse_date(d)?.and_time(parse_time(t)?));
        }
    }
    parse_date(s).map(|d| d.and_time(NaiveTime::MIN))
}

/// A timestamp without time zone: an offset, if written, is ignored, as Postgres does.
pub fn parse_timestamp(s: &str) -> Result<NaiveDateTime, BadDateTime> {
    parse_naive(split_offset(s.trim())?.0)
}

/// A timestamp with time zone, as a UTC instant; no offset means the session's UTC.
pub fn parse_timestamptz(s: &str) -> Result<DateTime<Utc>, BadDateTime> {
    let (body, offset) = split_offset(s.trim())?;
    let naive = parse_naive(body)?;
    let utc = naive - chrono::Duration::seconds(offset.unwrap_or(0) as i64);
    Ok(utc.and_utc())
}

/// Seconds with the fraction Postgres prints: trailing zeros dropped, none if whole.
fn seconds(t: &NaiveTime) -> String {
    let micros = t.nanosecond() / 1_000;
    if micros == 0 {
        format!("{:02}", t.second())
    } else {
        let frac = format!("{micros:06}");
        format!("{:02}.{}", t.second(), frac.trim_end_matches('0'))
    }
}

pub fn format_date(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

pub fn format_time(t: NaiveTime) -> String {
    format!("{:02}:{:02}:{}", t.hour(), t.minute(), seconds(&t))
}

pub fn format_timestamp(ts: NaiveDateTime) -> String {
    format!("{} {}", format_date(ts.date()), format_time(ts.time()))
}

pub fn format_timestamptz(ts: DateTime<Utc>) -> String {
    format!("{}+00", format_timestamp(ts.naive_utc()))
}

/// How a timestamptz is stored: UTC with a `+00:00` offset, a form SQLite's own date
/// functions read (they do not read Postgres' `+00`) and that sorts as it compares.
pub fn store_timestamptz(ts: DateTime<Utc>) -> String {
    format!("{}+00:00", format_timestamp(ts.naive_utc()))
}

pub fn date_to_binary(d: NaiveDate) -> i32 {
    (d - pg_epoch().date()).num_days() as i32
}

pub fn date_from_binary(days: i32) -> Option<NaiveDate> {
    pg_epoch()
        .date()
        .checked_add_signed(chrono::Duration::days(days as i64))
}

pub fn timestamp_to_binary(ts: NaiveDateTime) -> Option<i64> {
    (ts - pg_epoch()).num_microseconds()
}

pub fn timestamp_from_binary(micros: i64) -> Option<NaiveDateTime> {
    pg_epoch().checked_add_signed(chrono::Duration::microseconds(micros))
}

pub fn time_to_binary(t: NaiveTime) -> i64 {
    t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() / 1_000) as i64
}

pub fn time_from_binary(micros: i64) -> Option<NaiveTime> {
    NaiveTime::from_num_seconds_from_midnight_opt(
        (micros / 1_000_000) as u32,
        ((micros % 1_000_000) * 1_000) as u32,
    )
}

pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hex: String = s
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .chars()
        .filter(|c| *c != '-')
        .collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

pub fn format_uuid(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// An interval as Postgres' binary triple (microseconds, days, months), from Postgres'
/// text output (`1 year 2 mons 3 days 04:05:06.5`) or simple input (`90 minutes`).
pub fn parse_interval(s: &str) -> Option<(i64, i32, i32)> {
    let (mut micros, mut days, mut months) = (0i64, 0i32, 0i32);
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if w.contains(':') {
            let negative = w.starts_with('-');
            let m = clock_micros(w.trim_start_matches(['-', '+']))?;
            micros += if negative { -m } else { m };
            i += 1;
            continue;
        }
        let n: f64 = w.parse().ok()?;
        let unit = words.get(i + 1)?.to_ascii_lowercase();
        let unit = unit.trim_end_matches('s');
        // A fraction of a year, month, week or day spills into the smaller units by
        // Postgres' rules, which the shard's interval reader keeps: not read here.
        if n.fract() != 0.0 && matches!(unit, "year" | "mon" | "month" | "week" | "day") {
            return None;
        }
        match unit {
            "year" => months += (n * 12.0) as i32,
            "mon" | "month" => months += n as i32,
            "week" => days += (n * 7.0) as i32,
            "day" => days += n as i32,
            "hour" => micros += (n * 3_600_000_000.0) as i64,
            "minute" | "min" => micros += (n * 60_000_000.0) as i64,
            "second" | "sec" => micros += (n * 1_000_000.0) as i64,
            _ => return None,
        }
        i += 2;
    }
    Some((micros, days, months))
}

/// An interval's clock part `h:mm[:ss[.ffffff]]` in microseconds; the hours are not bound
/// to a day (`36:00:00`).
fn clock_micros(clock: &str) -> Option<i64> {
    let mut parts = clock.split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds: f64 = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0.0,
    };
    if parts.next().is_some() || !(0..60).contains(&minutes) || !(0.0..60.0).contains(&seconds) {
        return None;
    }
    Some(hours * 3_600_000_000 + minutes * 60_000_000 + (seconds * 1_000_000.0).round() as i64)
}

/// Postgres' interval output style `postgres`, as the shard writes intervals.
pub fn format_interval(micros: i64, days: i32, months: i32) -> String {
    litescale_shard::interval_output(months, days, micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_and_print_as_postgres() {
        let ts = parse_timestamp("2024-02-29 13:45:01.250").unwrap();
        assert_eq!(format_timestamp(ts), "2024-02-29 13:45:01.25");
        let tz = parse_timestamptz("2024-02-29 13:45:01+02").unwrap();
        assert_eq!(format_timestamptz(tz), "2024-02-29 11:45:01+00");
        let tz = parse_timestamptz("2024-02-29T13:45:01.5-05:30").unwrap();
        assert_eq!(format_timestamptz(tz), "2024-02-29 19:15:01.5+00");
        assert_eq!(store_timestamptz(tz), "2024-02-29 19:15:01.5+00:00");
        assert_eq!(parse_timestamptz(&store_timestamptz(tz)), Ok(tz));
        assert_eq!(format_date(parse_date("1999-12-31").unwrap()), "1999-12-31");
        assert_eq!(parse_date("2024-13-01"), Err(BadDateTime::FieldOutOfRange));
        assert_eq!(parse_date("2024-02-30"), Err(BadDateTime::FieldOutOfRange));
        assert_eq!(parse_date("nope"), Err(BadDateTime::Syntax));
        assert_eq!(parse_time("25:00"), Err(BadDateTime::FieldOutOfRange));
        assert_eq!(
            parse_timestamptz("2024-01-01 00:00:00+99:99"),
            Err(BadDateTime::ZoneOutOfRange)
        );
        assert!(parse_timestamptz("2024-01-01 00:00:00+15:59").is_ok());
    }

    #[test]
    fn binary_forms_count_from_2000() {
        assert_eq!(date_to_binary(parse_date("2000-01-02").unwrap()), 1);
        assert_eq!(date_to_binary(parse_date("1999-12-31").unwrap()), -1);
        let ts = parse_timestamp("2000-01-01 00:00:01").unwrap();
        assert_eq!(timestamp_to_binary(ts), Some(1_000_000));
        assert_eq!(timestamp_from_binary(1_000_000), Some(ts));
        assert_eq!(time_to_binary(parse_time("00:00:01.5").unwrap()), 1_500_000);
    }

    #[test]
    fn uuids_and_intervals() {
        let u = parse_uuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11").unwrap();
        assert_eq!(format_uuid(&u), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        assert!(parse_uuid("xyz").is_none());
        let (us, d, m) = parse_interval("1 year 2 mons 3 days 04:05:06.5").unwrap();
        assert_eq!((us, d, m), (14_706_500_000, 3, 14));
        assert_eq!(format_interval(us, d, m), "1 year 2 mons 3 days 04:05:06.5");
        assert_eq!(parse_interval("90 minutes"), Some((5_400_000_000, 0, 0)));
        assert_eq!(parse_interval("36:00:00"), Some((129_600_000_000, 0, 0)));
        assert_eq!(
            parse_interval("-1 days -00:30:00.5"),
            Some((-1_800_500_000, -1, 0))
        );
        assert_eq!(format_interval(0, 0, 0), "00:00:00");
        // Only exactly one is singular, as Postgres writes it.
        assert_eq!(format_interval(0, -1, -1), "-1 mons -1 days");
        // A fraction of a day is the shard's to spread over the clock, not truncated here.
        assert_eq!(parse_interval("1.5 days"), None);
        assert_eq!(parse_interval("1.5 hours"), Some((5_400_000_000, 0, 0)));
    }
}
