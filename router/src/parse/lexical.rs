//! Postgres' lexical rules that sqlparser does not apply, applied to a statement's text
//! before it is parsed: unquoted identifiers fold to lower case, identifiers longer than
//! 63 bytes are truncated (with Postgres' NOTICE), and `U&'...'` strings (with an optional
//! `UESCAPE 'c'`) become plain string literals, since SQLite knows no such form.

use sqlparser::tokenizer::Token;

use super::split::Piece;
use crate::RouterError;

/// Postgres' NAMEDATALEN - 1: the longest identifier, in bytes.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// The statement's text as sqlparser should see it, and the notices Postgres would send
/// about it.
pub(crate) fn normalize(piece: &Piece<'_>) -> Result<(String, Vec<String>), RouterError> {
    let text = piece.text;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut notices = Vec::new();
    let mut tokens = piece.tokens.iter().peekable();
    while let Some((token, at)) = tokens.next() {
        let at = *at;
        match token {
            Token::Word(w) => {
                // Keywords are case-insensitive, so lower-casing every unquoted word is safe.
                let mut name = match w.quote_style {
                    None => w.value.to_ascii_lowercase(),
                    Some(_) => w.value.clone(),
                };
                let long = name.len() > MAX_IDENTIFIER_BYTES;
                if long {
                    let full = std::mem::take(&mut name);
                    name = truncated(&full).to_owned();
                    notices.push(format!(
                        "identifier \"{full}\" will be truncated to \"{name}\""
                    ));
                }
                match w.quote_style {
                    None if name != w.value => edits.push((at, at + w.value.len(), name)),
                    Some(q) if long => {
                        let end = closing_quote(text, at, q).ok_or_else(unterminated)?;
                        let doubled = name.replace(q, &format!("{q}{q}"));
                        edits.push((at, end + 1, format!("{q}{doubled}{q}")));
                    }
                    _ => {}
                }
            }
            Token::UnicodeStringLiteral(_) => {
                // U&'...': the body starts after `U&`.
                let open = at + 2;
                let mut end = closing_quote(text, open, '\'').ok_or_else(unterminated)?;
                let mut escape = '\\';
                if let Some((Token::Word(w), _)) = tokens.peek()
                    && w.quote_style.is_none()
                    && w.value.eq_ignore_ascii_case("UESCAPE")
                {
                    tokens.next();
                    let Some((Token::SingleQuotedString(c), c_at)) = tokens.next() else {
                        return Err(RouterError::syntax(
                            "UESCAPE must be followed by a simple string literal".to_owned(),
                        ));
                    };
                    escape = escape_character(c)?;
                    end = closing_quote(text, *c_at, '\'').ok_or_else(unterminated)?;
                }
                let body_end = closing_quote(text, open, '\'').ok_or_else(unterminated)?;
                let value = unescape(&text[open + 1..body_end], escape)?;
                edits.push((at, end + 1, string_literal(&value)));
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end, replacement) in edits {
        out.push_str(&text[copied..start]);
        out.push_str(&replacement);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Ok((out, notices))
}

/// The longest prefix of `name` of at most 63 bytes that ends on a character boundary.
fn truncated(name: &str) -> &str {
    let mut end = MAX_IDENTIFIER_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

fn unterminated() -> RouterError {
    RouterError::syntax("unterminated quoted string or identifier".to_owned())
}

/// The offset of the quote closing the quoted token that opens at `open` (a doubled quote
/// inside stands for one).
fn closing_quote(text: &str, open: usize, quote: char) -> Option<usize> {
    let mut chars = text.get(open + 1..)?.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if chars.peek().is_some_and(|(_, next)| *next == quote) {
                chars.next();
            } else {
                return Some(open + 1 + i);
            }
        }
    }
    None
}

/// Postgres refuses hex digits, `+`, quotes and white space as the escape character.
fn escape_character(c: &str) -> Result<char, RouterError> {
    let mut chars = c.chars();
    match (chars.next(), chars.next()) {
        (Some(e), None)
            if !e.is_ascii_hexdigit() && !matches!(e, '+' | '\'' | '"') && !e.is_whitespace() =>
        {
            Ok(e)
        }
        _ => Err(RouterError::syntax(format!(
            "invalid Unicode escape character at or near \"'{c}'\""
        ))),
    }
}

/// The value of a `U&'...'` body: `cXXXX`, `c+XXXXXX` (surrogate pairs joined) and `cc`
/// for the escape character `c`, `''` for a quote.
fn unescape(body: &str, escape: char) -> Result<String, RouterError> {
    let invalid = |what: &str| RouterError::syntax(format!("invalid Unicode {what}"));
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    let mut high_surrogate: Option<u32> = None;
    while let Some(c) = chars.next() {
        if c == '\'' {
            // A doubled quote.
            chars.next();
            out.push('\'');
            continue;
        }
        if c != escape {
            if high_surrogate.is_some() {
                return Err(invalid("surrogate pair"));
            }
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&escape) {
            chars.next();
            out.push(escape);
            continue;
        }
        let digits = if chars.peek() == Some(&'+') {
            chars.next();
            6
        } else {
            4
        };
        let hex: String = (0..digits).filter_map(|_| chars.next()).collect();
        if hex.len() != digits || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
            return Err(invalid("escape"));
        }
        let code = u32::from_str_radix(&hex, 16).map_err(|_| invalid("escape"))?;
        let code = match (high_surrogate.take(), code) {
            (None, 0xD800..=0xDBFF) => {
                high_surrogate = Some(code);
                continue;
            }
            (Some(high), 0xDC00..=0xDFFF) => 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00),
            (Some(_), _) | (None, 0xDC00..=0xDFFF) => return Err(invalid("surrogate pair")),
            (None, code) => code,
        };
        match char::from_u32(code) {
            Some(ch) if code != 0 => out.push(ch),
            _ => return Err(invalid("escape value")),
        }
    }
    if high_surrogate.is_some() {
        return Err(invalid("surrogate pair"));
    }
    Ok(out)
}

/// The first words of a statement, to name an unsupported construct in an error.
pub(crate) fn leading_words(sql: &str, n: usize) -> String {
    sql.split_whitespace().take(n).collect::<Vec<_>>().join(" ")
}

/// `text` as a SQL string literal, its quotes doubled. (sqlparser's rendering of a string
/// value leaves quotes that are already two in a row, or follow a backslash, as they are.)
pub(crate) fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The schemas a database has without CREATE SCHEMA, and SQLite's own (`main`, `temp`),
/// whose objects keep their names; another schema's `s.t` is SQLite's `"s.t"`
/// (translate/objects/schemas.rs).
pub(crate) fn is_built_in_schema(schema: &str) -> bool {
    matches!(schema, "public" | "information_schema" | "main" | "temp") || schema.starts_with("pg_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(sql: &str) -> (String, Vec<String>) {
        let pieces = crate::parse::split::split(sql).unwrap();
        normalize(&pieces[0]).unwrap()
    }

    #[test]
    fn unicode_strings_become_plain_literals() {
        assert_eq!(
            normalized(r"SELECT U&'d\0061t\+000061', u&'a''b'").0,
            "select 'data', 'a''b'"
        );
        assert_eq!(
            normalized(r"SELECT U&'d!0061t!!' UESCAPE '!' AS x").0,
            "select 'dat!' as x"
        );
    }

    #[test]
    fn long_identifiers_are_truncated_at_a_character_boundary() {
        let long = format!("t{}", "é".repeat(40));
        let (text, notices) = normalized(&format!("SELECT 1 AS \"{long}\", 2 AS {long}"));
        let short = truncated(&long);
        assert_eq!(short.len(), 63);
        assert_eq!(text, format!("select 1 as \"{short}\", 2 as {short}"));
        assert_eq!(notices.len(), 2);
        assert_eq!(
            notices[0],
            format!("identifier \"{long}\" will be truncated to \"{short}\"")
        );
    }
}
