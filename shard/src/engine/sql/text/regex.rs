//! Postgres' regular-expression functions: regexp_replace (flags `g`, `i`), regexp_match,
//! regexp_split_to_array, substring(s from pattern) as `pg_regex_substr`. Patterns are read by the `regex` crate, which reads the common
//! subset of Postgres' (ARE) syntax the same way; a pattern it cannot read (back
//! references, lookaround) is 0A000 rather than a different answer. The compiled pattern
//! is kept per statement, as pg_regex does.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};

use super::super::args::text;
use super::super::arrays::render;
use super::super::typecheck::postgres_error;

/// What the flags argument asks for.
pub(crate) struct Flags {
    pub(crate) global: bool,
    pub(crate) insensitive: bool,
}

/// Reads Postgres' flags text (`g`, `i`, `c`); other flags are 0A000.
pub(crate) fn parse_flags(given: Option<&str>) -> rusqlite::Result<Flags> {
    let mut f = Flags {
        global: false,
        insensitive: false,
    };
    for c in given.unwrap_or_default().chars() {
        match c {
            'g' => f.global = true,
            'i' => f.insensitive = true,
            'c' => f.insensitive = false,
            other => {
                return Err(postgres_error(
                    "0A000",
                    &format!("regular expression option \"{other}\" is not supported by litescale"),
                ));
            }
        }
    }
    Ok(f)
}

fn flags(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Flags> {
    parse_flags(if i < ctx.len() { text(ctx, i) } else { None }.as_deref())
}

/// A Postgres pattern as the `regex` crate reads it: 2201B where Postgres would refuse it
/// too, 0A000 where only the crate cannot read it.
pub(crate) fn compile(source: &str, insensitive: bool) -> rusqlite::Result<regex::Regex> {
    regex::RegexBuilder::new(source)
        .case_insensitive(insensitive)
        .build()
        .map_err(|_| compile_error(source))
}

/// The error for a pattern the `regex` crate did not compile. Its parser names the
/// constructs it lacks; an unrecognized escape may be one of Postgres' own (`\m`, `\y`).
fn compile_error(source: &str) -> rusqlite::Error {
    use regex_syntax::ast::ErrorKind;
    match regex_syntax::ast::parse::Parser::new().parse(source) {
        Err(e)
            if !matches!(
                e.kind(),
                ErrorKind::UnsupportedBackreference
                    | ErrorKind::UnsupportedLookAround
                    | ErrorKind::EscapeUnrecognized
            ) =>
        {
            postgres_error(
                "2201B",
                &format!("invalid regular expression: {}", e.kind()),
            )
        }
        _ => postgres_error(
            "0A000",
            &format!("regular expression \"{source}\" is not supported by litescale"),
        ),
    }
}

/// The pattern of argument `i`, compiled once per statement (the flags are constant
/// in practice; a different case flag per row is read from the first row's).
fn pattern(
    ctx: &Context<'_>,
    i: usize,
    insensitive: bool,
) -> rusqlite::Result<std::sync::Arc<regex::Regex>> {
    ctx.get_or_create_aux(i as i32, |v| -> rusqlite::Result<regex::Regex> {
        compile(
            &String::from_utf8_lossy(v.as_bytes().unwrap_or_default()),
            insensitive,
        )
    })
}

/// A match as regexp_match(es) answers it: its groups, or the whole match when the
/// pattern has none.
pub(crate) fn match_groups(caps: &regex::Captures<'_>) -> Vec<Option<String>> {
    if caps.len() == 1 {
        vec![caps.get(0).map(|m| m.as_str().to_owned())]
    } else {
        caps.iter()
            .skip(1)
            .map(|m| m.map(|m| m.as_str().to_owned()))
            .collect()
    }
}

/// `s` split where `re` matches, as regexp_split_to_array and _to_table split it.
pub(crate) fn split_parts(re: &regex::Regex, s: &str) -> Vec<String> {
    // Postgres ignores empty matches at the start and end of the string, and splits
    // between characters where the pattern matches empty.
    let mut parts = Vec::new();
    let mut last = 0;
    for m in re.find_iter(s) {
        if m.start() == m.end() && (m.start() == 0 || m.start() == s.len()) {
            continue;
        }
        if m.start() == m.end() && m.start() == last && !parts.is_empty() {
            continue;
        }
        parts.push(s[last..m.start()].to_owned());
        last = m.end();
    }
    parts.push(s[last..].to_owned());
    parts
}

/// Appends Postgres' replacement text for one match: `\1`..`\9` a group, `\&` the match,
/// `\\` a backslash; any other backslash stays.
fn substitute(out: &mut String, replacement: &str, caps: &regex::Captures<'_>) {
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(d @ '1'..='9') => {
                chars.next();
                let group = d as usize - '0' as usize;
                out.push_str(caps.get(group).map_or("", |m| m.as_str()));
            }
            Some('&') => {
                chars.next();
                out.push_str(caps.get(0).map_or("", |m| m.as_str()));
            }
            Some('\\') => {
                chars.next();
                out.push('\\');
            }
            _ => out.push('\\'),
        }
    }
}

fn replace(ctx: &Context<'_>) -> rusqlite::Result<Option<String>> {
    let f = flags(ctx, 3)?;
    let (Some(s), Some(replacement)) = (text(ctx, 0), text(ctx, 2)) else {
        return Ok(None);
    };
    if ctx.get_raw(1) == rusqlite::types::ValueRef::Null {
        return Ok(None);
    }
    let re = pattern(ctx, 1, f.insensitive)?;
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in re.captures_iter(&s) {
        let whole = caps.get(0).expect("group 0 is the match");
        out.push_str(&s[last..whole.start()]);
        substitute(&mut out, &replacement, &caps);
        last = whole.end();
        if !f.global {
            break;
        }
    }
    out.push_str(&s[last..]);
    Ok(Some(out))
}

/// regexp_match: the groups of the first match (or the match itself) as text[].
fn first_match(ctx: &Context<'_>) -> rusqlite::Result<Option<String>> {
    let f = flags(ctx, 2)?;
    if f.global {
        return Err(postgres_error(
            "22023",
            "regexp_match() does not support the \"global\" option",
        ));
    }
    let Some(s) = text(ctx, 0) else {
        return Ok(None);
    };
    if ctx.get_raw(1) == rusqlite::types::ValueRef::Null {
        return Ok(None);
    }
    let re = pattern(ctx, 1, f.insensitive)?;
    Ok(re.captures(&s).map(|caps| render(&match_groups(&caps))))
}

/// `substring(s from pattern)`: the part of the first match its first group took (the
/// whole match when the pattern has no group), NULL without a match.
fn matched_part(ctx: &Context<'_>) -> rusqlite::Result<Option<String>> {
    let Some(s) = text(ctx, 0) else {
        return Ok(None);
    };
    if ctx.get_raw(1) == rusqlite::types::ValueRef::Null {
        return Ok(None);
    }
    let re = pattern(ctx, 1, false)?;
    Ok(re
        .captures(&s)
        .and_then(|caps| caps.get(if caps.len() > 1 { 1 } else { 0 }))
        .map(|m| m.as_str().to_owned()))
}

fn split(ctx: &Context<'_>) -> rusqlite::Result<Option<String>> {
    let f = flags(ctx, 2)?;
    if f.global {
        return Err(postgres_error(
            "22023",
            "regexp_split_to_array() does not support the \"global\" option",
        ));
    }
    let Some(s) = text(ctx, 0) else {
        return Ok(None);
    };
    if ctx.get_raw(1) == rusqlite::types::ValueRef::Null {
        return Ok(None);
    }
    let re = pattern(ctx, 1, f.insensitive)?;
    let parts: Vec<Option<String>> = split_parts(&re, &s).into_iter().map(Some).collect();
    Ok(Some(render(&parts)))
}

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    for arity in [3, 4] {
        conn.create_scalar_function("regexp_replace", arity, flags, |ctx| replace(ctx))?;
    }
    conn.create_scalar_function("pg_regex_substr", 2, flags, |ctx| matched_part(ctx))?;
    for arity in [2, 3] {
        conn.create_scalar_function("regexp_match", arity, flags, |ctx| first_match(ctx))?;
        conn.create_scalar_function("regexp_split_to_array", arity, flags, |ctx| split(ctx))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_expressions_answer_as_postgres_15() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let one = |sql: &str| -> Option<String> {
            c.query_row(&format!("SELECT {sql}"), [], |r| r.get(0))
                .unwrap()
        };
        let cases = [
            (
                "regexp_replace('Hello World', 'o', '0', 'g')",
                "Hell0 W0rld",
            ),
            ("regexp_replace('Hello World', 'o', '0')", "Hell0 World"),
            ("regexp_replace('Hello', 'L', 'x', 'i')", "Hexlo"),
            ("regexp_replace('abc', '(b)', '[\\1\\&]')", "a[bb]c"),
            (
                "regexp_match('foo123bar456', '(\\d+)\\D+(\\d+)')",
                "{123,456}",
            ),
            ("regexp_match('abc', 'b')", "{b}"),
            ("regexp_split_to_array('a, b,c', ',\\s*')", "{a,b,c}"),
            ("regexp_split_to_array('abc', '')", "{a,b,c}"),
            ("pg_regex_substr('Thomas', '...$')", "mas"),
            ("pg_regex_substr('Thomas', 'h(o)m')", "o"),
        ];
        for (sql, expected) in cases {
            assert_eq!(one(sql).as_deref(), Some(expected), "{sql}");
        }
        assert_eq!(one("regexp_match('abc', 'z')"), None);
        assert_eq!(one("pg_regex_substr('Thomas', 'x')"), None);
    }

    #[test]
    fn patterns_postgres_refuses_are_2201b_and_those_it_reads_0a000() {
        let sqlstate = |source: &str| {
            let message = compile(source, false).unwrap_err().to_string();
            super::super::super::typecheck::error_of(&message)
                .unwrap()
                .sqlstate
        };
        assert_eq!(sqlstate("("), "2201B");
        assert_eq!(sqlstate("["), "2201B");
        assert_eq!(sqlstate("(a)\\1"), "0A000");
        assert_eq!(sqlstate("a(?=b)"), "0A000");
    }
}
