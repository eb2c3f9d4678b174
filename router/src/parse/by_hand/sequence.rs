//! `ALTER SEQUENCE [IF EXISTS] name clause ...`, which sqlparser does not read. Its clauses
//! but RESTART are CREATE SEQUENCE's, so they are read by sqlparser as those of a CREATE
//! SEQUENCE; RESTART [[WITH] n] is taken out first. Renaming a sequence or moving it to
//! another schema is refused (0A000): the defaults that call it name it.

use sqlparser::ast::{SequenceOptions, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::split::Piece;
use crate::RouterError;

/// An ALTER SEQUENCE as read: RESTART is `Some(None)` without a value.
pub(crate) struct AlterSequence {
    pub name: String,
    pub options: Vec<SequenceOptions>,
    pub restart: Option<Option<i64>>,
    pub if_exists: bool,
}

/// Whether `piece` is an ALTER SEQUENCE.
pub(crate) fn is_alter_sequence(piece: &Piece<'_>) -> bool {
    let mut words = significant(piece).into_iter();
    matches!(words.next(), Some(Token::Word(w)) if w.value.eq_ignore_ascii_case("ALTER"))
        && matches!(words.next(), Some(Token::Word(w)) if w.value.eq_ignore_ascii_case("SEQUENCE"))
}

/// The piece's tokens without whitespace and the final semicolon.
fn significant(piece: &Piece<'_>) -> Vec<Token> {
    piece
        .tokens
        .iter()
        .map(|(t, _)| t.clone())
        .filter(|t| !matches!(t, Token::Whitespace(_) | Token::SemiColon | Token::EOF))
        .collect()
}

fn keyword(token: Option<&Token>, word: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

pub(crate) fn alter_sequence(piece: &Piece<'_>) -> Result<AlterSequence, RouterError> {
    let tokens = significant(piece);
    let mut at = 2;
    let if_exists = keyword(tokens.get(at), "IF") && keyword(tokens.get(at + 1), "EXISTS");
    if if_exists {
        at += 2;
    }
    // The name: words joined by periods.
    let name_start = at;
    if !matches!(tokens.get(at), Some(Token::Word(_))) {
        return Err(RouterError::syntax(
            "syntax error: ALTER SEQUENCE takes a sequence's name".to_owned(),
        ));
    }
    at += 1;
    while matches!(tokens.get(at), Some(Token::Period))
        && matches!(tokens.get(at + 1), Some(Token::Word(_)))
    {
        at += 2;
    }
    let name: String = tokens[name_start..at]
        .iter()
        .map(|t| t.to_string())
        .collect();
    let mut clauses = Vec::new();
    let mut restart = None;
    while at < tokens.len() {
        let token = &tokens[at];
        at += 1;
        for word in ["RENAME", "SCHEMA", "LOGGED", "UNLOGGED"] {
            if keyword(Some(token), word) {
                return Err(RouterError::unsupported(&format!(
                    "ALTER SEQUENCE ... {word} (column defaults name their sequence)"
                )));
            }
        }
        if !keyword(Some(token), "RESTART") {
            clauses.push(token.to_string());
            continue;
        }
        if keyword(tokens.get(at), "WITH") {
            at += 1;
        }
        let negative = matches!(tokens.get(at), Some(Token::Minus));
        let digits = at + usize::from(negative);
        restart = Some(match tokens.get(digits) {
            Some(Token::Number(n, _)) => {
                at = digits + 1;
                let value: i64 = n
                    .parse()
                    .map_err(|_| RouterError::syntax(format!("syntax error: RESTART value {n}")))?;
                Some(if negative { -value } else { value })
            }
            _ => None,
        });
    }
    let create = format!("CREATE SEQUENCE ls_altered {}", clauses.join(" "));
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, &create)
        .map_err(|e| RouterError::syntax(format!("syntax error: {e}")))?;
    let Some(Statement::CreateSequence {
        sequence_options, ..
    }) = parsed.into_iter().next()
    else {
        return Err(RouterError::syntax(
            "syntax error in ALTER SEQUENCE".to_owned(),
        ));
    };
    Ok(AlterSequence {
        name,
        options: sequence_options,
        restart,
        if_exists,
    })
}

#[cfg(test)]
mod tests {
    use crate::test_support::{refused, sql};

    #[test]
    fn alter_sequence_reads_create_sequence_clauses_and_restart() {
        assert_eq!(
            sql("ALTER SEQUENCE IF EXISTS public.s INCREMENT BY 5 RESTART WITH -3 NO CYCLE"),
            "SELECT litescale_alter_sequence('public.s', '{\"cycle\":false,\"increment\":5,\"restart\":-3}', true)"
        );
        assert_eq!(
            sql("alter sequence s restart owned by t.id"),
            "SELECT litescale_alter_sequence('s', '{\"owned_by\":[\"t\",\"id\"],\"restart\":true}', false)"
        );
        assert!(refused("alter sequence s rename to u").contains("RENAME"));
    }
}
