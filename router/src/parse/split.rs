//! Splitting a query string into statements with sqlparser's tokenizer, so that
//! statements sqlparser cannot parse (COPY with Postgres options, VACUUM ANALYZE) can be
//! recognised on their own while the rest of the string still goes to sqlparser.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::RouterError;

/// One statement of a query string: its text and its significant tokens, each with its
/// byte offset in `text`.
pub(crate) struct Piece<'a> {
    pub text: &'a str,
    pub tokens: Vec<(Token, usize)>,
    /// The text of the comments before and inside the statement (routing hints live there).
    pub comments: Vec<String>,
}

impl Piece<'_> {
    /// The first word, upper-cased (`COPY`, `VACUUM`, ...).
    pub fn keyword(&self) -> Option<String> {
        match &self.tokens.first()?.0 {
            Token::Word(w) => Some(w.value.to_ascii_uppercase()),
            _ => None,
        }
    }
}

/// Byte offsets of 1-based (line, column-in-characters) positions. Tokens come in order,
/// so each position is found by walking on from the previous one: the whole string costs
/// one pass (counting from the start of the line for every token made a 290 KB one-line
/// IN list take 12 s).
struct Locator<'a> {
    sql: &'a str,
    line: u64,
    column: u64,
    byte: usize,
}

impl<'a> Locator<'a> {
    fn new(sql: &'a str) -> Locator<'a> {
        Locator {
            sql,
            line: 1,
            column: 1,
            byte: 0,
        }
    }

    fn offset(&mut self, line: u64, column: u64) -> usize {
        if (line, column) < (self.line, self.column) {
            *self = Locator::new(self.sql);
        }
        while self.line < line {
            let Some(newline) = self.sql[self.byte..].find('\n') else {
                self.byte = self.sql.len();
                return self.byte;
            };
            self.byte += newline + 1;
            self.line += 1;
            self.column = 1;
        }
        let rest = &self.sql[self.byte..];
        let ahead = column.saturating_sub(self.column) as usize;
        self.byte += rest
            .char_indices()
            .nth(ahead)
            .map_or(rest.len(), |(i, _)| i);
        self.column = column.max(self.column);
        self.byte
    }
}

pub(crate) fn split(sql: &str) -> Result<Vec<Piece<'_>>, RouterError> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| RouterError {
            sqlstate: "42601",
            message: format!("syntax error: {e}"),
        })?;
    let mut locator = Locator::new(sql);

    let mut pieces = Vec::new();
    let mut start: Option<usize> = None;
    let mut significant: Vec<(Token, usize)> = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    for t in tokens {
        let at = locator.offset(t.span.start.line, t.span.start.column);
        match t.token {
            Token::SemiColon => {
                if let Some(s) = start.take() {
                    let c = std::mem::take(&mut comments);
                    pieces.push(piece(sql, s, at, std::mem::take(&mut significant), c));
                }
            }
            Token::Whitespace(Whitespace::MultiLineComment(c)) => comments.push(c),
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                comments.push(comment)
            }
            Token::Whitespace(_) => {}
            Token::EOF => {}
            other => {
                start.get_or_insert(at);
                significant.push((other, at));
            }
        }
    }
    if let Some(s) = start {
        pieces.push(piece(sql, s, sql.len(), significant, comments));
    }
    Ok(pieces)
}

fn piece(
    sql: &str,
    start: usize,
    end: usize,
    tokens: Vec<(Token, usize)>,
    comments: Vec<String>,
) -> Piece<'_> {
    Piece {
        // ASCII only: the tokenizer takes some Unicode spaces into identifiers (`a\u{2000}`),
        // and a token must not reach past its piece's text.
        text: sql[start..end].trim_end_matches(|c: char| c.is_ascii_whitespace()),
        tokens: tokens.into_iter().map(|(t, at)| (t, at - start)).collect(),
        comments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let sql = "select ';' as x; -- a comment; here\n vacuum analyze t;\n copy t from stdin;";
        let pieces = split(sql).unwrap();
        let texts: Vec<&str> = pieces.iter().map(|p| p.text).collect();
        assert_eq!(
            texts,
            ["select ';' as x", "vacuum analyze t", "copy t from stdin"]
        );
        assert_eq!(pieces[1].keyword().as_deref(), Some("VACUUM"));
        assert!(split(" ; -- nothing\n;").unwrap().is_empty());
    }

    #[test]
    fn a_unicode_space_the_tokenizer_keeps_in_a_word_stays_in_the_text() {
        let pieces = split("select a\u{2000}").unwrap();
        let (word, at) = &pieces[0].tokens[1];
        assert!(pieces[0].text.len() >= at + word.to_string().len());
    }

    #[test]
    fn multi_byte_characters_keep_offsets_right() {
        let pieces = split("select 'é✓'; select 2").unwrap();
        assert_eq!(pieces[0].text, "select 'é✓'");
        assert_eq!(pieces[1].text, "select 2");
    }
}
