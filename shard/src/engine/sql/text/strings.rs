//! Postgres' string functions SQLite lacks or answers differently: split_part, initcap,
//! upper/lower of any letter, lpad/rpad, repeat, reverse, translate, left/right and substr
//! with Postgres' rules for negative numbers (`pg_left`, `pg_right`, `pg_substr`), format,
//! the quote_* family, starts_with, to_hex, chr, ascii, bit_length. Strict: NULL in, NULL
//! out, except where Postgres says otherwise (format, quote_nullable). Regular expressions
//! are regex.rs'; hashes and encodings are bytes.rs'.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value as SqlValue, ValueRef};

use super::super::args::{integer, text};
use super::super::identifiers::quote_ident;
use super::super::typecheck::postgres_error;

/// `quote_literal`: a string literal; with backslashes, the E'' form (backslashes doubled).
pub(crate) fn quote_literal(s: &str) -> String {
    let quoted = s.replace('\'', "''");
    if s.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

fn split_part(s: &str, delimiter: &str, n: i64) -> rusqlite::Result<String> {
    if n == 0 {
        return Err(postgres_error("22023", "field position must not be zero"));
    }
    let fields: Vec<&str> = if delimiter.is_empty() {
        vec![s]
    } else {
        s.split(delimiter).collect()
    };
    let index = if n > 0 {
        usize::try_from(n - 1).ok()
    } else {
        usize::try_from(-n)
            .ok()
            .and_then(|k| fields.len().checked_sub(k))
    };
    Ok(index
        .and_then(|i| fields.get(i))
        .map_or_else(String::new, |f| (*f).to_owned()))
}

/// Upper-cases the first letter of each run of letters and digits, lower-cases the rest.
fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        if in_word {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        in_word = c.is_alphanumeric();
    }
    out
}

/// lpad / rpad: `s` cut or filled with repeats of `fill` to `length` characters.
fn pad(s: &str, length: i64, fill: &str, left: bool) -> String {
    let length = usize::try_from(length).unwrap_or(0);
    let have = s.chars().count();
    if have >= length || fill.is_empty() {
        return s.chars().take(length).collect();
    }
    let filling: String = fill.chars().cycle().take(length - have).collect();
    if left {
        filling + s
    } else {
        s.to_owned() + &filling
    }
}

fn translate(s: &str, from: &str, to: &str) -> String {
    let to: Vec<char> = to.chars().collect();
    s.chars()
        .filter_map(|c| match from.chars().position(|f| f == c) {
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect()
}

/// `left(s, n)`: the first n characters; with n < 0, all but the last |n|.
fn left(s: &str, n: i64) -> String {
    let count = s.chars().count() as i64;
    let take = if n < 0 { (count + n).max(0) } else { n };
    s.chars().take(take as usize).collect()
}

/// `right(s, n)`: the last n characters; with n < 0, all but the first |n|.
fn right(s: &str, n: i64) -> String {
    let count = s.chars().count() as i64;
    let skip = if n < 0 { -n } else { (count - n).max(0) };
    s.chars().skip(skip.min(count) as usize).collect()
}

/// `substr(s, start [, length])` over characters (text) or bytes (bytea): positions before
/// 1 count but hold nothing.
fn substr<T>(
    items: impl Iterator<Item = T>,
    start: i64,
    length: Option<i64>,
) -> rusqlite::Result<Vec<T>> {
    let end = match length {
        Some(l) if l < 0 => {
            return Err(postgres_error(
                "22011",
                "negative substring length not allowed",
            ));
        }
        Some(l) => start.saturating_add(l),
        None => i64::MAX,
    };
    let from = start.max(1);
    if end <= from {
        return Ok(Vec::new());
    }
    Ok(items
        .skip((from - 1) as usize)
        .take((end - from).min(i64::from(u32::MAX)) as usize)
        .collect())
}

/// `to_hex`: negative numbers in two's complement, 32 bits wide when they fit an integer
/// (Postgres' to_hex(int4)), else 64.
fn to_hex(n: i64) -> String {
    match i32::try_from(n) {
        Ok(small) if n < 0 => format!("{:x}", small as u32),
        _ => format!("{:x}", n as u64),
    }
}

fn chr(code: i64) -> rusqlite::Result<String> {
    if code == 0 {
        return Err(postgres_error("54000", "null character not permitted"));
    }
    u32::try_from(code)
        .ok()
        .and_then(char::from_u32)
        .map(String::from)
        .ok_or_else(|| {
            postgres_error(
                "54000",
                &format!("requested character too large for encoding: {code}"),
            )
        })
}

/// One `%` specification of format(): `%[n$][-][width]type`.
struct Spec {
    position: Option<usize>,
    left_align: bool,
    width: usize,
    kind: char,
}

fn parse_spec(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> rusqlite::Result<Spec> {
    let digits = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let mut n: Option<usize> = None;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            n = Some(n.unwrap_or(0) * 10 + d as usize);
            chars.next();
        }
        n
    };
    let mut position = None;
    let mut left_align = false;
    let mut width = digits(chars);
    if width.is_some() && chars.peek() == Some(&'$') {
        chars.next();
        position = width.take();
    }
    if chars.peek() == Some(&'-') {
        chars.next();
        left_align = true;
        width = digits(chars);
    } else if width.is_none() {
        width = digits(chars);
    }
    let kind = chars
        .next()
        .ok_or_else(|| postgres_error("22023", "unterminated format() type specifier"))?;
    if !matches!(kind, 's' | 'I' | 'L') {
        return Err(postgres_error(
            "22023",
            &format!("unrecognized format() type specifier \"{kind}\""),
        ));
    }
    Ok(Spec {
        position,
        left_align,
        width: width.unwrap_or(0),
        kind,
    })
}

/// format(fmt, args...): `%s`, `%I`, `%L`, `%%`, positions `%n$`, `-` and widths.
fn format(ctx: &Context<'_>) -> rusqlite::Result<Option<String>> {
    let Some(template) = text(ctx, 0) else {
        return Ok(None);
    };
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    let mut next_arg = 1;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let spec = parse_spec(&mut chars)?;
        let arg = spec.position.unwrap_or(next_arg);
        if arg == 0 {
            return Err(postgres_error(
                "22023",
                "format specifies argument 0, but arguments are numbered from 1",
            ));
        }
        if arg >= ctx.len() {
            return Err(postgres_error("22023", "too few arguments for format()"));
        }
        next_arg = arg + 1;
        let value = text(ctx, arg);
        let formatted = match (spec.kind, value) {
            ('I', None) => {
                return Err(postgres_error(
                    "22004",
                    "null values cannot be formatted as an SQL identifier",
                ));
            }
            ('I', Some(v)) => quote_ident(&v),
            ('L', None) => "NULL".to_owned(),
            ('L', Some(v)) => quote_literal(&v),
            (_, v) => v.unwrap_or_default(),
        };
        let fill = spec.width.saturating_sub(formatted.chars().count());
        if spec.left_align {
            out.push_str(&formatted);
            out.extend(std::iter::repeat_n(' ', fill));
        } else {
            out.extend(std::iter::repeat_n(' ', fill));
            out.push_str(&formatted);
        }
    }
    Ok(Some(out))
}

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("split_part", 3, flags, |ctx| {
        let (Some(s), Some(d), Some(n)) = (text(ctx, 0), text(ctx, 1), integer(ctx, 2)?) else {
            return Ok(None);
        };
        split_part(&s, &d, n).map(Some)
    })?;
    conn.create_scalar_function("initcap", 1, flags, |ctx| {
        Ok(text(ctx, 0).map(|s| initcap(&s)))
    })?;
    for (name, left_side) in [("lpad", true), ("rpad", false)] {
        for arity in [2, 3] {
            conn.create_scalar_function(name, arity, flags, move |ctx| {
                let fill = if arity == 3 {
                    text(ctx, 2)
                } else {
                    Some(" ".into())
                };
                let (Some(s), Some(n), Some(fill)) = (text(ctx, 0), integer(ctx, 1)?, fill) else {
                    return Ok(None);
                };
                Ok(Some(pad(&s, n, &fill, left_side)))
            })?;
        }
    }
    // SQLite's own upper and lower change ASCII letters only.
    conn.create_scalar_function("upper", 1, flags, |ctx| {
        Ok(text(ctx, 0).map(|s| s.to_uppercase()))
    })?;
    conn.create_scalar_function("lower", 1, flags, |ctx| {
        Ok(text(ctx, 0).map(|s| s.to_lowercase()))
    })?;
    conn.create_scalar_function("repeat", 2, flags, |ctx| {
        let (Some(s), Some(n)) = (text(ctx, 0), integer(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(s.repeat(usize::try_from(n).unwrap_or(0))))
    })?;
    conn.create_scalar_function("reverse", 1, flags, |ctx| {
        Ok(text(ctx, 0).map(|s| s.chars().rev().collect::<String>()))
    })?;
    conn.create_scalar_function("translate", 3, flags, |ctx| {
        let (Some(s), Some(from), Some(to)) = (text(ctx, 0), text(ctx, 1), text(ctx, 2)) else {
            return Ok(None);
        };
        Ok(Some(translate(&s, &from, &to)))
    })?;
    for (name, cut) in [
        ("pg_left", left as fn(&str, i64) -> String),
        ("pg_right", right),
    ] {
        conn.create_scalar_function(name, 2, flags, move |ctx| {
            let (Some(s), Some(n)) = (text(ctx, 0), integer(ctx, 1)?) else {
                return Ok(None);
            };
            Ok(Some(cut(&s, n)))
        })?;
    }
    for arity in [2, 3] {
        conn.create_scalar_function("pg_substr", arity, flags, move |ctx| {
            let length = if arity == 3 {
                match integer(ctx, 2)? {
                    Some(l) => Some(l),
                    None => return Ok(None),
                }
            } else {
                None
            };
            let Some(start) = integer(ctx, 1)? else {
                return Ok(None);
            };
            Ok(match ctx.get_raw(0) {
                ValueRef::Null => None,
                ValueRef::Blob(b) => {
                    Some(SqlValue::Blob(substr(b.iter().copied(), start, length)?))
                }
                _ => text(ctx, 0)
                    .map(|s| substr(s.chars(), start, length))
                    .transpose()?
                    .map(|c| SqlValue::Text(c.into_iter().collect())),
            })
        })?;
    }
    conn.create_scalar_function("format", -1, flags, |ctx| format(ctx))?;
    conn.create_scalar_function("quote_ident", 1, flags, |ctx| {
        Ok(text(ctx, 0).map(|s| quote_ident(&s)))
    })?;
    conn.create_scalar_function("quote_literal", 1, flags, |ctx| {
        Ok(text(ctx, 0).map(|s| quote_literal(&s)))
    })?;
    conn.create_scalar_function("quote_nullable", 1, flags, |ctx| {
        Ok(text(ctx, 0).map_or_else(|| "NULL".to_owned(), |s| quote_literal(&s)))
    })?;
    conn.create_scalar_function("starts_with", 2, flags, |ctx| {
        let (Some(s), Some(prefix)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(None);
        };
        Ok(Some(s.starts_with(&prefix)))
    })?;
    conn.create_scalar_function("to_hex", 1, flags, |ctx| Ok(integer(ctx, 0)?.map(to_hex)))?;
    conn.create_scalar_function("chr", 1, flags, |ctx| integer(ctx, 0)?.map(chr).transpose())?;
    conn.create_scalar_function("ascii", 1, flags, |ctx| {
        Ok(text(ctx, 0).map(|s| s.chars().next().map_or(0, |c| i64::from(u32::from(c)))))
    })?;
    conn.create_scalar_function("bit_length", 1, flags, |ctx| {
        Ok(super::super::args::bytes(ctx, 0).map(|b| 8 * b.len() as i64))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        c
    }

    fn one(c: &Connection, sql: &str) -> Option<String> {
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn string_functions_answer_as_postgres_15() {
        let c = connection();
        let cases = [
            (
                "initcap('hello wORLD-foo_bar 3rd')",
                "Hello World-Foo_Bar 3rd",
            ),
            ("lpad('hi', 5, 'xy')", "xyxhi"),
            ("lpad('hello', 3)", "hel"),
            ("rpad('hi', 5, 'xy')", "hixyx"),
            ("lpad('hi', 5, '')", "hi"),
            ("split_part('a,b,c', ',', -1)", "c"),
            ("split_part('a,b,c', '', 1)", "a,b,c"),
            ("split_part('abc', '', 2)", ""),
            ("repeat('ab', 3)", "ababab"),
            ("upper('été')", "ÉTÉ"),
            ("lower('ÉTÉ')", "été"),
            ("repeat('ab', -1)", ""),
            ("reverse('abc')", "cba"),
            ("translate('12345', '143', 'ax')", "a2x5"),
            ("pg_left('hello', -2)", "hel"),
            ("pg_right('hello', -2)", "llo"),
            ("pg_right('hello', 9)", "hello"),
            ("pg_substr('hello', -1, 3)", "h"),
            ("pg_substr('hello', 0)", "hello"),
            ("hex(pg_substr(x'1234ff5678', 3, 2))", "FF56"),
            (
                "format('%s|%I|%L|%%|%1$s|%-5s|%5s|', 'a', 'B c', NULL, 'z')",
                "a|\"B c\"|NULL|%|a|B c  |     |",
            ),
            ("quote_ident('Foo')", "\"Foo\""),
            ("quote_ident('foo')", "foo"),
            ("quote_ident('left')", "\"left\""),
            ("quote_literal('it''s')", "'it''s'"),
            ("quote_literal('a\\b')", "E'a\\\\b'"),
            ("quote_nullable(NULL)", "NULL"),
            ("to_hex(255)", "ff"),
            ("to_hex(-1)", "ffffffff"),
            ("to_hex(-9999999999)", "fffffffdabf41c01"),
            ("chr(65)", "A"),
            ("ascii('é')", "233"),
            ("ascii('')", "0"),
            ("bit_length('é')", "16"),
            ("starts_with('hello', 'he')", "1"),
        ];
        for (sql, expected) in cases {
            let got: String = c
                .query_row(&format!("SELECT CAST({sql} AS TEXT)"), [], |r| r.get(0))
                .unwrap();
            assert_eq!(got, expected, "{sql}");
        }
        assert_eq!(one(&c, "SELECT split_part(NULL, ',', 1)"), None);
    }

    #[test]
    fn string_function_errors_carry_postgres_sqlstates() {
        let c = connection();
        for (sql, sqlstate) in [
            ("split_part('a,b', ',', 0)", "22023"),
            ("pg_substr('abc', 1, -1)", "22011"),
            ("chr(0)", "54000"),
            ("format('%s %s', 'a')", "22023"),
            ("format('%x', 1)", "22023"),
            ("format('%I', NULL)", "22004"),
        ] {
            let e: crate::ShardError = c
                .query_row(&format!("SELECT {sql}"), [], |r| r.get::<_, String>(0))
                .unwrap_err()
                .into();
            assert_eq!(e.sqlstate, sqlstate, "{sql}");
        }
    }
}
