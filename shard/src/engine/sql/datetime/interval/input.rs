//! Interval input as Postgres' interval_in reads it: unit words (`1 year 2 mons`, `1y 2mon`,
//! `1.5 days`, `ago`, `@`), clock times (`10:30`, `1 10:30:15`), SQL `1-2` year-months,
//! ISO 8601 (`P1Y2M3DT4H5M6S`, `P0001-02-03T04:05:06`), and the SQL interval qualifier
//! (`interval '1 2' day to hour`).

use super::super::{PgError, Result};
use super::units::{USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC, Unit, fraction_micros};
use super::{Interval, Qualifier};

/// The fields being summed, as Postgres' pg_itm_in: wide enough to see overflow at the end.
#[derive(Default)]
struct Fields {
    years: i64,
    months: i64,
    days: i64,
    hours: i64,
    minutes: i64,
    seconds: i64,
    micros: i64,
    ago: bool,
}

impl Fields {
    /// Postgres' AdjustFractSeconds: a unit's fraction as whole seconds and microseconds.
    fn fraction_seconds(&mut self, fraction: f64, scale: f64) {
        let f = fraction * scale;
        let whole = f.trunc();
        self.seconds += whole as i64;
        self.micros += ((f - whole) * 1e6).round_ties_even() as i64;
    }

    /// Postgres' AdjustFractDays: a unit's fraction as whole days, then seconds.
    fn fraction_days(&mut self, fraction: f64, scale: f64) {
        let f = fraction * scale;
        let whole = f.trunc();
        self.days += whole as i64;
        self.fraction_seconds(f - whole, 86_400.0);
    }

    /// Adds `whole` and `fraction` of `unit`; false for a unit interval text cannot have.
    fn add(&mut self, unit: Unit, whole: i64, fraction: f64) -> bool {
        match unit {
            Unit::Microsecond => self.micros += (whole as f64 + fraction).round_ties_even() as i64,
            Unit::Millisecond => {
                self.seconds += whole / 1000;
                self.micros +=
                    (((whole % 1000) as f64 + fraction) * 1000.0).round_ties_even() as i64;
            }
            Unit::Second => {
                self.seconds += whole;
                self.micros += (fraction * 1e6).round_ties_even() as i64;
            }
            Unit::Minute => {
                self.minutes += whole;
                self.fraction_seconds(fraction, 60.0);
            }
            Unit::Hour => {
                self.hours += whole;
                self.fraction_seconds(fraction, 3600.0);
            }
            Unit::Day => {
                self.days += whole;
                self.fraction_seconds(fraction, 86_400.0);
            }
            Unit::Week => {
                self.days += whole * 7;
                self.fraction_days(fraction, 7.0);
            }
            Unit::Month => {
                self.months += whole;
                self.fraction_days(fraction, 30.0);
            }
            Unit::Year | Unit::Decade | Unit::Century | Unit::Millennium => {
                let scale = match unit {
                    Unit::Year => 1,
                    Unit::Decade => 10,
                    Unit::Century => 100,
                    _ => 1000,
                };
                self.years += whole * scale;
                self.months += (fraction * 12.0 * scale as f64) as i64;
            }
            _ => return false,
        }
        true
    }

    fn interval(&self) -> Option<Interval> {
        let months = self.years.checked_mul(12)?.checked_add(self.months)?;
        let micros = self
            .hours
            .checked_mul(USECS_PER_HOUR)?
            .checked_add(self.minutes.checked_mul(USECS_PER_MINUTE)?)?
            .checked_add(self.seconds.checked_mul(USECS_PER_SEC)?)?
            .checked_add(self.micros)?;
        let interval = Interval::new(
            i32::try_from(months).ok()?,
            i32::try_from(self.days).ok()?,
            micros,
        );
        // `ago` negates everything, after the fields are summed.
        if self.ago {
            interval.checked_neg().ok()
        } else {
            Some(interval)
        }
    }
}

/// Interval text as `interval_in` reads it.
pub(in crate::engine::sql::datetime) fn parse(text: &str) -> Result<Interval> {
    parse_with(text, None)
}

/// Interval text under an SQL interval qualifier (`DAY TO HOUR`), as the qualified literal
/// `interval '1 2' day to hour` reads it.
pub(in crate::engine::sql::datetime) fn parse_qualified(
    text: &str,
    qualifier: &str,
) -> Result<Interval> {
    parse_with(text, Some(Qualifier::parse(qualifier)?))
}

enum Failure {
    Syntax,
    FieldRange,
}

fn parse_with(text: &str, qualifier: Option<Qualifier>) -> Result<Interval> {
    let decoded = decode(text, qualifier).or_else(|e| match e {
        Failure::Syntax => decode_iso8601(text.trim()).ok_or(Failure::Syntax),
        other => Err(other),
    });
    let fields = decoded.map_err(|e| match e {
        Failure::Syntax => PgError::syntax("interval", text),
        Failure::FieldRange => PgError::new(
            "22015",
            format!("interval field value out of range: \"{text}\""),
        ),
    })?;
    let interval = fields
        .interval()
        .ok_or_else(|| PgError::out_of_range("interval"))?;
    Ok(match qualifier {
        Some(q) => q.truncate(interval),
        None => interval,
    })
}

/// Splits interval text into Postgres' fields: numbers (with sign, fraction, `-` of
/// year-month), clock times, and lowercased words; `@` and commas only separate.
fn tokens(text: &str) -> std::result::Result<Vec<String>, Failure> {
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    let mut out = Vec::new();
    while let Some(c) = rest.chars().next() {
        let end = if c.is_whitespace() || c == ',' || c == '@' {
            rest = &rest[c.len_utf8()..];
            continue;
        } else if c.is_ascii_alphabetic() {
            rest.find(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
        } else if c.is_ascii_digit() || matches!(c, '.' | '+' | '-') {
            let number = |c: char| c.is_ascii_digit() || matches!(c, '.' | ':' | '-');
            rest[1..].find(|c| !number(c)).map(|i| i + 1)
        } else {
            return Err(Failure::Syntax);
        };
        let (token, after) = rest.split_at(end.unwrap_or(rest.len()));
        out.push(token.to_string());
        rest = after;
    }
    Ok(out)
}

/// Postgres' DecodeInterval: read from the right, so a number takes the unit word after
/// it; a number with no word takes the qualifier's last field (seconds without one).
fn decode(text: &str, qualifier: Option<Qualifier>) -> std::result::Result<Fields, Failure> {
    let tokens = tokens(text)?;
    let default_unit = qualifier.map_or(Unit::Second, |q| q.last);
    let mut fields = Fields::default();
    let mut seen: u32 = 0;
    let mut unit: Option<Unit> = None;
    let mut any = false;
    for token in tokens.iter().rev() {
        let first = token.chars().next().unwrap_or(' ');
        if first.is_ascii_alphabetic() {
            if token == "ago" {
                fields.ago = true;
                unit = None;
            } else {
                unit = Some(Unit::of_word(token).ok_or(Failure::Syntax)?);
            }
            continue;
        }
        let (negative, body) = match first {
            '-' => (true, &token[1..]),
            '+' => (false, &token[1..]),
            _ => (false, token.as_str()),
        };
        let mark = if body.contains(':') {
            let minute_to_second = qualifier.is_some_and(|q| q.minute_to_second);
            let (h, m, s, us) = clock(body, minute_to_second)?;
            let sign = if negative { -1 } else { 1 };
            fields.hours += sign * h;
            fields.minutes += sign * m;
            fields.seconds += sign * s;
            fields.micros += sign * us;
            unit = Some(Unit::Day);
            1 << Unit::Hour as u32 | 1 << Unit::Minute as u32 | 1 << Unit::Second as u32
        } else {
            let this = unit.unwrap_or(default_unit);
            let (this, whole, fraction) = number(body, negative, this)?;
            if !fields.add(this, whole, fraction) {
                return Err(Failure::Syntax);
            }
            unit = (this == Unit::Hour).then_some(Unit::Day);
            1 << this as u32
        };
        if seen & mark != 0 {
            return Err(Failure::Syntax);
        }
        seen |= mark;
        any = true;
    }
    if !any {
        return Err(Failure::Syntax);
    }
    Ok(fields)
}

/// A number field: its whole part, fraction (with the field's sign), and the unit it ends
/// up in (`1-2` is 14 months whatever the unit word).
fn number(
    body: &str,
    negative: bool,
    unit: Unit,
) -> std::result::Result<(Unit, i64, f64), Failure> {
    let sign = if negative { -1 } else { 1 };
    let digits_end = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    let (int_text, rest) = body.split_at(digits_end);
    let whole: i64 = if int_text.is_empty() {
        0
    } else {
        let v: i64 = int_text.parse().map_err(|_| Failure::FieldRange)?;
        if v > i64::from(i32::MAX) {
            return Err(Failure::FieldRange);
        }
        v
    };
    if int_text.is_empty() && !rest.starts_with('.') {
        return Err(Failure::Syntax);
    }
    if let Some(month_text) = rest.strip_prefix('-') {
        let months: i64 = month_text.parse().map_err(|_| Failure::Syntax)?;
        if !(0..12).contains(&months) {
            return Err(Failure::FieldRange);
        }
        return Ok((Unit::Month, sign * (whole * 12 + months), 0.0));
    }
    let fraction = if rest.is_empty() {
        0.0
    } else if rest.starts_with('.') && rest[1..].bytes().all(|b| b.is_ascii_digit()) {
        format!("0{rest}")
            .parse::<f64>()
            .map_err(|_| Failure::Syntax)?
    } else {
        return Err(Failure::Syntax);
    };
    Ok((unit, sign * whole, sign as f64 * fraction))
}

/// Postgres' DecodeTime for intervals: `h:m`, `h:m:s[.f]`, and `m:s.f` (or `m:s` under
/// MINUTE TO SECOND) as hours, minutes, seconds and microseconds.
fn clock(body: &str, minute_to_second: bool) -> std::result::Result<(i64, i64, i64, i64), Failure> {
    let int = |s: &str| -> std::result::Result<i64, Failure> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Failure::Syntax);
        }
        s.parse().map_err(|_| Failure::FieldRange)
    };
    let fraction = |s: &str| fraction_micros(s).ok_or(Failure::Syntax);
    let parts: Vec<&str> = body.split(':').collect();
    let (h, m, s, us) = match parts.as_slice() {
        [a, b] => match b.split_once('.') {
            Some((sec, frac)) => (0, int(a)?, int(sec)?, fraction(frac)?),
            None if minute_to_second => (0, int(a)?, int(b)?, 0),
            None => (int(a)?, int(b)?, 0, 0),
        },
        [a, b, c] => match c.split_once('.') {
            Some((sec, frac)) => (int(a)?, int(b)?, int(sec)?, fraction(frac)?),
            None => (int(a)?, int(b)?, int(c)?, 0),
        },
        _ => return Err(Failure::Syntax),
    };
    if m > 59 || s > 60 || us > USECS_PER_SEC {
        return Err(Failure::FieldRange);
    }
    Ok((h, m, s, us))
}

/// Postgres' DecodeISO8601Interval: `P[nY][nM][nW][nD][T[nH][nM][nS]]` with fractions in
/// any field, or the alternative `P0001-02-03T04:05:06` / `P00010203T040506`.
fn decode_iso8601(text: &str) -> Option<Fields> {
    let mut rest = text.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let mut f = Fields::default();
    let mut date_part = true;
    let mut have_field = false;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('T') {
            date_part = false;
            have_field = false;
            rest = r;
            continue;
        }
        let (whole, fraction, width, r) = iso_number(rest)?;
        rest = r;
        let unit = rest.chars().next();
        rest = rest.get(unit.map_or(0, char::len_utf8)..)?;
        match (date_part, unit) {
            (true, Some('Y')) => f.add(Unit::Year, whole, fraction),
            (true, Some('M')) => f.add(Unit::Month, whole, fraction),
            (true, Some('W')) => f.add(Unit::Week, whole, fraction),
            (true, Some('D')) => f.add(Unit::Day, whole, fraction),
            (false, Some('H')) => f.add(Unit::Hour, whole, fraction),
            (false, Some('M')) => f.add(Unit::Minute, whole, fraction),
            (false, Some('S')) => f.add(Unit::Second, whole, fraction),
            (true, None | Some('T')) if width == 8 && !have_field => {
                f.add(Unit::Year, whole / 10000, 0.0);
                f.add(Unit::Month, whole / 100 % 100, 0.0);
                f.add(Unit::Day, whole % 100, fraction);
                if unit == Some('T') {
                    date_part = false;
                }
                continue;
            }
            (false, None) if width == 6 && !have_field => {
                f.add(Unit::Hour, whole / 10000, 0.0);
                f.add(Unit::Minute, whole / 100 % 100, 0.0);
                f.add(Unit::Second, whole % 100, fraction);
                return Some(f);
            }
            (true, None | Some('T') | Some('-')) if !have_field => {
                // Alternative format, extended: Y-M-D, each part optional after the first.
                f.add(Unit::Year, whole, fraction);
                let separator;
                (separator, rest) = alternative(&mut f, unit, rest, [Unit::Month, Unit::Day], '-')?;
                match separator {
                    None => return Some(f),
                    Some('T') => date_part = false,
                    _ => return None,
                }
                have_field = false;
                continue;
            }
            (false, None | Some(':')) if !have_field => {
                f.add(Unit::Hour, whole, fraction);
                let (separator, _) =
                    alternative(&mut f, unit, rest, [Unit::Minute, Unit::Second], ':')?;
                return separator.is_none().then_some(f);
            }
            _ => return None,
        };
        have_field = true;
    }
    Some(f)
}

/// The alternative format's later parts (`-MM-DD` after the years, `:MM:SS` after the
/// hours), each there only after its separator; answers what follows them.
fn alternative<'a>(
    f: &mut Fields,
    mut separator: Option<char>,
    mut rest: &'a str,
    parts: [Unit; 2],
    between: char,
) -> Option<(Option<char>, &'a str)> {
    for unit in parts {
        if separator != Some(between) {
            break;
        }
        let (whole, fraction, _, r) = iso_number(rest)?;
        f.add(unit, whole, fraction);
        separator = r.chars().next();
        rest = r.get(separator.map_or(0, char::len_utf8)..)?;
    }
    Some((separator, rest))
}

/// A decimal number at the start of ISO 8601 text: whole part (toward zero), fraction,
/// the width of its integer digits, and the rest of the text.
fn iso_number(text: &str) -> Option<(i64, f64, usize, &str)> {
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
        .map_or(text.len(), |(i, _)| i);
    let number = &text[..end];
    let value: f64 = number.parse().ok()?;
    if value.abs() > f64::from(i32::MAX) {
        return None;
    }
    let width = number
        .trim_start_matches('-')
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let whole = value.trunc();
    Some((whole as i64, value - whole, width, &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sql::datetime::golden::{check, text};

    #[test]
    fn the_forms_of_05_intervals() {
        let cases = "
            1 day | 1 day
            1 day 2 hours 3 minutes 4 seconds | 1 day 02:03:04
            1 year 2 months 3 days | 1 year 2 mons 3 days
            2 weeks | 14 days
            1 decade | 10 years
            1 century | 100 years
            1 millennium | 1000 years
            1.5 days | 1 day 12:00:00
            1.5 months | 1 mon 15 days
            1.5 years | 1 year 6 mons
            90 minutes | 01:30:00
            3600 seconds | 01:00:00
            1 ms | 00:00:00.001
            1 microsecond | 00:00:00.000001
            0.5 seconds | 00:00:00.5
            -1 day | -1 days
            1 day ago | -1 days
            1 day -1 hour | 1 day -01:00:00
            @ 1 day 2 hours | 1 day 02:00:00
            1 d 2 h 3 m 4 s | 1 day 02:03:04
            1y 2mon 3d | 1 year 2 mons 3 days
            36 hours | 36:00:00
            0 seconds | 00:00:00
            1000000 hours | 1000000:00:00
            2147483647 days | 2147483647 days
            10:30 | 10:30:00
            10:30:15 | 10:30:15
            10:30:15.5 | 10:30:15.5
            1 10:30:15 | 1 day 10:30:15
            -10:30 | -10:30:00
            1-2 | 1 year 2 mons
            1-2 3 4:05:06 | 1 year 2 mons 3 days 04:05:06
            1 day 00:00:00 | 1 day
            1:02:03 | 01:02:03
            5 | 00:00:05
            1 year 2 mons -2 days +38:30:00 | 1 year 2 mons -2 days +38:30:00
            P1Y2M3DT4H5M6S | 1 year 2 mons 3 days 04:05:06
            P1W | 7 days
            PT36H | 36:00:00
            P2D | 2 days
            P0001-02-03T04:05:06 | 1 year 2 mons 3 days 04:05:06
            PT1.5M | 00:01:30
            nonsense | ERROR 22007
            soon | ERROR 22007
            1 day 2 days | ERROR 22007
            2147483648 days | ERROR 22015
            10:75 | ERROR 22015
        ";
        check(cases, |a| text(parse(a[0])));
        assert_eq!(
            parse("nonsense").unwrap_err().message,
            "invalid input syntax for type interval: \"nonsense\""
        );
        assert_eq!(text(parse("")), "ERROR 22007");
    }

    #[test]
    fn qualified_literals_take_the_qualifiers_fields() {
        let cases = "
            1 | DAY | 1 day
            1 | HOUR | 01:00:00
            1 2 | DAY TO HOUR | 1 day 02:00:00
            1:30 | MINUTE TO SECOND | 00:01:30
            1 year 6 months | YEAR | 1 year
            1.2345678 | SECOND(3) | 00:00:01.235
            1 2:03:04.5678 | DAY (2) TO SECOND (1) | 1 day 02:03:04.6
            1 | FORTNIGHT | ERROR 22023
        ";
        check(cases, |a| text(parse_qualified(a[0], a[1])));
    }
}
