//! to_char(number, format) and to_number(text, format): Postgres' numeric format patterns `9`, `0`, `.`/`D`, `,`/`G`
//! and `FM`, with the leading sign slot Postgres gives a pattern without `S`, `MI` or `PR`.
//! Other pattern parts are 0A000 rather than a differently formatted answer.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;

use super::super::typecheck::postgres_error;

/// One part of a numeric format pattern.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// `9`: a digit, blank where the number has none.
    Digit,
    /// `0`: a digit, zero where the number has none (and every position after it).
    Zero,
    Point,
    Group,
}

/// The parts of `format` and whether it asks for fill mode (FM).
fn parse(format: &str) -> rusqlite::Result<(Vec<Part>, bool)> {
    let mut parts = Vec::new();
    let mut fill_mode = false;
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case("fm") {
            fill_mode = true;
            rest = &rest[2..];
            continue;
        }
        parts.push(match c {
            '9' => Part::Digit,
            '0' => Part::Zero,
            '.' | 'D' | 'd' => Part::Point,
            ',' | 'G' | 'g' => Part::Group,
            _ => {
                return Err(postgres_error(
                    "0A000",
                    &format!("to_char format \"{format}\" is not supported by litescale"),
                ));
            }
        });
        rest = &rest[c.len_utf8()..];
    }
    Ok((parts, fill_mode))
}

/// `(negative, whole digits without leading zeros, fraction digits)` of a number's
/// decimal text, rounded half away from zero to `places` fraction digits.
fn decimal(text: &str, places: usize) -> Option<(bool, String, String)> {
    let text = text.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if !(whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: Vec<u8> = whole
        .bytes()
        .chain(fraction.bytes().chain(std::iter::repeat(b'0')).take(places))
        .collect();
    if fraction.as_bytes().get(places).is_some_and(|&d| d >= b'5') {
        super::super::math::add_one_in_last_place(&mut digits);
    }
    let split = digits.len() - places;
    let whole = String::from_utf8_lossy(&digits[..split])
        .trim_start_matches('0')
        .to_owned();
    let fraction = String::from_utf8_lossy(&digits[split..]).into_owned();
    let zero = whole.is_empty() && fraction.bytes().all(|d| d == b'0');
    Some((negative && !zero, whole, fraction))
}

/// The number (as its decimal text) written by `format`.
fn to_char(number: &str, format: &str) -> rusqlite::Result<String> {
    let (parts, fill_mode) = parse(format)?;
    let point = parts.iter().position(|&p| p == Part::Point);
    let (whole_parts, fraction_parts) = parts.split_at(point.unwrap_or(parts.len()));
    let fraction_parts = fraction_parts.get(1..).unwrap_or_default();
    let places = fraction_parts.iter().filter(|&&p| p != Part::Group).count();
    let (negative, mut whole, fraction) = decimal(number, places).ok_or_else(|| {
        postgres_error(
            "22P02",
            &format!("invalid input syntax for type numeric: \"{number}\""),
        )
    })?;
    if whole.is_empty() && point.is_none() {
        whole = "0".to_owned();
    }
    let positions = whole_parts.iter().filter(|&&p| p != Part::Group).count();
    let overflow = whole.len() > positions;
    let first_zero = whole_parts.iter().position(|&p| p == Part::Zero);
    // The whole part, right to left: digits of the number, then zeros or blanks.
    let mut digits = whole.bytes().rev();
    let mut written: Vec<char> = Vec::new();
    for (i, part) in whole_parts.iter().enumerate().rev() {
        let filled = first_zero.is_some_and(|z| i >= z);
        written.push(match part {
            _ if overflow && *part != Part::Group => '#',
            Part::Group => {
                let more = whole_parts[..i].iter().any(|&p| p != Part::Group)
                    && (digits.len() > 0 || first_zero.is_some_and(|z| i > z));
                if more || overflow { ',' } else { ' ' }
            }
            _ => match digits.next() {
                Some(d) => char::from(d),
                None if filled => '0',
                None => ' ',
            },
        });
    }
    written.push(' ');
    written.reverse();
    if negative {
        let first = written
            .iter()
            .position(|&c| c != ' ')
            .unwrap_or(written.len());
        // The sign slot, or the blank just before the first digit.
        written[first - 1] = '-';
    }
    let mut out: String = written.into_iter().collect();
    if point.is_some() {
        out.push('.');
        let mut fraction_digits = fraction.chars();
        let mut tail = String::new();
        for part in fraction_parts {
            match part {
                Part::Group => tail.push(','),
                _ if overflow => tail.push('#'),
                _ => tail.extend(fraction_digits.next()),
            }
        }
        if fill_mode {
            // Fill mode drops the trailing zeros that `9` positions hold.
            let mut kept = tail.len();
            for (part, c) in fraction_parts.iter().zip(tail.bytes()).rev() {
                if *part == Part::Digit && c == b'0' {
                    kept -= 1;
                } else {
                    break;
                }
            }
            tail.truncate(kept);
        }
        out.push_str(&tail);
    }
    Ok(if fill_mode {
        out.trim_start().to_owned()
    } else {
        out
    })
}

/// to_number(text, format): the digits, sign and decimal point of `text`, group
/// separators and blanks skipped, as a numeric with the format's fraction digits.
fn to_number(text: &str, format: &str) -> rusqlite::Result<String> {
    let (parts, _) = parse(format)?;
    let places = match parts.iter().position(|&p| p == Part::Point) {
        Some(point) => parts[point + 1..]
            .iter()
            .filter(|&&p| p != Part::Group)
            .count(),
        None => 0,
    };
    let invalid = || {
        postgres_error(
            "22P02",
            &format!("invalid input syntax for type numeric: \"{text}\""),
        )
    };
    let mut number = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' | '.' | '-' => number.push(c),
            ',' | ' ' => {}
            _ => return Err(invalid()),
        }
    }
    let (negative, whole, fraction) = decimal(&number, places).ok_or_else(invalid)?;
    let whole = if whole.is_empty() { "0" } else { &whole };
    let sign = if negative { "-" } else { "" };
    Ok(if places == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("to_char", 2, flags, |ctx| {
        let number = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(None),
            ValueRef::Integer(n) => n.to_string(),
            ValueRef::Real(x) => x.to_string(),
            ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
        };
        let Some(format) = super::super::args::text(ctx, 1) else {
            return Ok(None);
        };
        to_char(&number, &format).map(Some)
    })?;
    conn.create_scalar_function("to_number", 2, flags, |ctx| {
        let (Some(text), Some(format)) = (
            super::super::args::text(ctx, 0),
            super::super::args::text(ctx, 1),
        ) else {
            return Ok(None);
        };
        to_number(&text, &format).map(Some)
    })
}

#[cfg(test)]
mod tests {
    use super::to_char;

    #[test]
    fn numbers_format_as_postgres_15() {
        for (number, format, expected) in [
            ("1234.5", "9999.99", " 1234.50"),
            ("1234567.891", "9,999,999.99", " 1,234,567.89"),
            ("0.5", "0.00", " 0.50"),
            ("-12", "999", " -12"),
            ("42", "000000", " 000042"),
            ("12", "FM999", "12"),
            ("5", "FM00", "05"),
            ("12345", "999", " ###"),
            ("0", "999", "   0"),
            ("1.5", "FM9.99", "1.5"),
            ("12", "9,999", "    12"),
            ("-0.004", "0.00", " 0.00"),
        ] {
            assert_eq!(
                to_char(number, format).unwrap(),
                expected,
                "{number} {format}"
            );
        }
        assert!(to_char("1", "S999").is_err());
        assert_eq!(super::to_number("1,234.50", "9,999.99").unwrap(), "1234.50");
        assert_eq!(super::to_number("-12", "999").unwrap(), "-12");
    }
}
