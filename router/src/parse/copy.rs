//! COPY ... FROM STDIN / TO STDOUT, parsed by hand: sqlparser does not take Postgres'
//! option list (`WITH (FREEZE ON)`, `FORMAT csv`, ...), and pgbench sends exactly that.

use sqlparser::tokenizer::Token;

use super::split::Piece;
use crate::RouterError;
use crate::plan::copy::{CopyDirection, CopyFormat, CopySpec, quote};
use crate::plan::statement::StatementKind;

fn syntax(near: &Token) -> RouterError {
    RouterError {
        sqlstate: "42601",
        message: format!("syntax error at or near \"{near}\""),
    }
}

struct Cursor<'a> {
    tokens: &'a [(Token, usize)],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.at).map(|(t, _)| t);
        self.at += 1;
        t
    }

    fn word(&self) -> Option<String> {
        match self.peek()? {
            Token::Word(w) => Some(w.value.to_ascii_uppercase()),
            _ => None,
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.word().as_deref() == Some(w) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// An identifier: unquoted ones fold to lower case, as Postgres folds them.
    fn ident(&mut self) -> Result<String, RouterError> {
        match self.next() {
            Some(Token::Word(w)) => Ok(match w.quote_style {
                Some(_) => w.value.clone(),
                None => w.value.to_ascii_lowercase(),
            }),
            Some(other) => Err(syntax(&other.clone())),
            None => Err(syntax(&Token::EOF)),
        }
    }

    /// A one-character string option (DELIMITER, QUOTE, ESCAPE).
    fn string(&mut self) -> Result<String, RouterError> {
        match self.next() {
            Some(Token::SingleQuotedString(s) | Token::EscapedStringLiteral(s)) => Ok(s.clone()),
            Some(other) => Err(syntax(&other.clone())),
            None => Err(syntax(&Token::EOF)),
        }
    }

    fn char_option(&mut self, name: &str) -> Result<char, RouterError> {
        let s = self.string()?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(RouterError {
                sqlstate: "22023",
                message: format!("COPY {name} must be a single one-byte character"),
            }),
        }
    }

    /// An optional boolean after an option name: `HEADER`, `HEADER true`, `FREEZE ON`.
    fn optional_bool(&mut self) -> bool {
        match self.peek() {
            Some(Token::Word(w)) => match w.value.to_ascii_lowercase().as_str() {
                "true" | "on" => {
                    self.at += 1;
                    true
                }
                "false" | "off" => {
                    self.at += 1;
                    false
                }
                _ => true,
            },
            Some(Token::Number(n, _)) => {
                let v = n != "0";
                self.at += 1;
                v
            }
            _ => true,
        }
    }
}

/// Parses a COPY statement; also returns the query whose rows COPY TO sends (Postgres
/// SQL, planned by the caller).
pub(crate) fn parse(piece: &Piece<'_>) -> Result<(StatementKind, Option<String>), RouterError> {
    let mut c = Cursor {
        tokens: &piece.tokens,
        at: 1,
    };
    let mut spec = CopySpec {
        direction: CopyDirection::In,
        table: None,
        query: None,
        columns: Vec::new(),
        format: CopyFormat::text(),
    };
    if c.peek() == Some(&Token::LParen) {
        // COPY (query) TO STDOUT: find the matching parenthesis.
        let open = c.at;
        let mut depth = 0;
        let close = loop {
            match c.next() {
                Some(Token::LParen) => depth += 1,
                Some(Token::RParen) => {
                    depth -= 1;
                    if depth == 0 {
                        break c.at - 1;
                    }
                }
                Some(_) => {}
                None => return Err(syntax(&Token::EOF)),
            }
        };
        let from = piece.tokens[open].1 + 1;
        let to = piece.tokens[close].1;
        spec.query = Some(piece.text[from..to].to_owned());
    } else {
        // `public.t` is `t`; `s.t` of another schema SQLite's `s.t` (translate/objects/schemas.rs).
        let mut name = c.ident()?;
        while c.peek() == Some(&Token::Period) {
            c.next();
            let object = c.ident()?;
            name = if crate::parse::lexical::is_built_in_schema(&name) {
                object
            } else {
                format!("{name}.{object}")
            };
        }
        spec.table = Some(name);
        if c.peek() == Some(&Token::LParen) {
            c.next();
            loop {
                spec.columns.push(c.ident()?);
                match c.next() {
                    Some(Token::Comma) => continue,
                    Some(Token::RParen) => break,
                    Some(other) => return Err(syntax(&other.clone())),
                    None => return Err(syntax(&Token::EOF)),
                }
            }
        }
    }
    spec.direction = if c.eat_word("FROM") {
        if !c.eat_word("STDIN") {
            // As Postgres answers a user without pg_read_server_files.
            return Err(RouterError::forbidden(
                "COPY from a file or program reads the server's files (use FROM STDIN, or psql's \\copy)",
            ));
        }
        CopyDirection::In
    } else if c.eat_word("TO") {
        if !c.eat_word("STDOUT") {
            return Err(RouterError::forbidden(
                "COPY to a file or program writes the server's files (use TO STDOUT, or psql's \\copy)",
            ));
        }
        CopyDirection::Out
    } else {
        return Err(syntax(c.peek().unwrap_or(&Token::EOF)));
    };
    if spec.query.is_some() && spec.direction == CopyDirection::In {
        return Err(syntax(&Token::make_keyword("FROM")));
    }
    c.eat_word("WITH");
    if c.peek() == Some(&Token::LParen) {
        c.next();
        loop {
            option(&mut c, &mut spec.format)?;
            match c.next() {
                Some(Token::Comma) => continue,
                Some(Token::RParen) => break,
                Some(other) => return Err(syntax(&other.clone())),
                None => return Err(syntax(&Token::EOF)),
            }
        }
    } else {
        // The pre-9.0 syntax psql and old tools still send: CSV HEADER DELIMITER ','.
        while c.peek().is_some() {
            option(&mut c, &mut spec.format)?;
        }
    }
    if let Some(extra) = c.peek() {
        return Err(syntax(&extra.clone()));
    }
    let select = match (&spec.table, spec.direction == CopyDirection::Out) {
        (Some(table), true) => {
            let cols = if spec.columns.is_empty() {
                "*".to_owned()
            } else {
                spec.columns
                    .iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Some(format!("SELECT {cols} FROM {}", quote(table)))
        }
        _ => spec.query.clone(),
    };
    Ok((StatementKind::Copy(spec), select))
}

fn option(c: &mut Cursor<'_>, f: &mut CopyFormat) -> Result<(), RouterError> {
    let Some(name) = c.word() else {
        return Err(syntax(c.peek().unwrap_or(&Token::EOF)));
    };
    c.next();
    let with_as = |c: &mut Cursor<'_>| {
        c.eat_word("AS");
    };
    match name.as_str() {
        "FORMAT" => match c.ident()?.as_str() {
            "text" => f.csv = false,
            "csv" => f.set_csv(),
            "binary" => return Err(RouterError::unsupported("COPY in binary format")),
            other => {
                return Err(RouterError {
                    sqlstate: "22023",
                    message: format!("COPY format \"{other}\" not recognized"),
                });
            }
        },
        "CSV" => f.set_csv(),
        "BINARY" => return Err(RouterError::unsupported("COPY in binary format")),
        "DELIMITER" => {
            with_as(c);
            f.delimiter = c.char_option("delimiter")?;
        }
        "NULL" => {
            with_as(c);
            f.null = c.string()?;
        }
        "HEADER" => f.header = c.optional_bool(),
        "QUOTE" => {
            with_as(c);
            f.quote = c.char_option("quote")?;
        }
        "ESCAPE" => {
            with_as(c);
            f.escape = c.char_option("escape")?;
        }
        // FREEZE only changes how Postgres writes pages; every COPY here is one
        // transaction anyway.
        "FREEZE" => {
            c.optional_bool();
        }
        "ENCODING" => {
            let e = c.string()?;
            if !matches!(e.to_ascii_uppercase().as_str(), "UTF8" | "UTF-8") {
                return Err(RouterError::unsupported(&format!(
                    "COPY ENCODING '{e}' (UTF8 only)"
                )));
            }
        }
        other => return Err(RouterError::unsupported(&format!("COPY option {other}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan;

    fn spec(sql: &str) -> CopySpec {
        match plan(sql).unwrap().remove(0).kind {
            StatementKind::Copy(spec) => spec,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pgbench_copy_parses() {
        let s = spec("copy pgbench_accounts from stdin with (freeze on)");
        assert_eq!(s.direction, CopyDirection::In);
        assert_eq!(s.table.as_deref(), Some("pgbench_accounts"));
        assert_eq!(s.format, CopyFormat::text());
    }

    #[test]
    fn options_and_legacy_syntax() {
        let s = spec(
            "COPY t (a, \"B\") TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'nil')",
        );
        assert_eq!(s.columns, ["a", "B"]);
        assert!(s.format.csv && s.format.header);
        assert_eq!((s.format.delimiter, s.format.null.as_str()), (';', "nil"));
        let legacy = spec("copy t from stdin csv header");
        assert!(legacy.format.csv && legacy.format.header);
        assert_eq!(legacy.format.delimiter, ',');
        let q = plan("copy (select a from t where b = 'x)') to stdout")
            .unwrap()
            .remove(0);
        assert_eq!(q.sqlite_sql, "SELECT a FROM t WHERE b = 'x)'");
    }

    #[test]
    fn files_and_binary_are_refused() {
        assert_eq!(
            plan("copy t from '/etc/passwd'").unwrap_err().sqlstate,
            "42501"
        );
        assert_eq!(
            plan("copy t to program 'rm -rf /'").unwrap_err().sqlstate,
            "42501"
        );
        assert_eq!(
            plan("copy t to stdout (format binary)")
                .unwrap_err()
                .sqlstate,
            "0A000"
        );
        assert_eq!(
            plan("copy t from stdin (bogus 1)").unwrap_err().sqlstate,
            "0A000"
        );
    }
}
