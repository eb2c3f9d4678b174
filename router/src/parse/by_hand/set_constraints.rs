//! `SET CONSTRAINTS {ALL | name [, ...]} {DEFERRED | IMMEDIATE}`, parsed by hand (sqlparser
//! does not read it). SQLite's foreign keys are its only deferrable constraints, and SQLite
//! defers them all or none: DEFERRED defers every foreign key until the block ends
//! (`PRAGMA defer_foreign_keys`, which SQLite resets at commit); IMMEDIATE checks, at once,
//! the rows the named foreign keys (or all) leave without a parent, failing with 23503 as
//! Postgres does, then stops deferring. Django sends both around its migrations and after
//! every test.

use sqlparser::tokenizer::Token;

use super::lexical::string_literal;
use super::split::Piece;
use crate::RouterError;
use crate::plan::statement::PlannedStatement;

/// Whether `piece` is a SET CONSTRAINTS.
pub(crate) fn is_set_constraints(piece: &Piece<'_>) -> bool {
    let mut words = piece.tokens.iter().filter_map(|(t, _)| match t {
        Token::Word(w) => Some(w.value.to_ascii_uppercase()),
        _ => None,
    });
    words.next().as_deref() == Some("SET") && words.next().as_deref() == Some("CONSTRAINTS")
}

pub(crate) fn set_constraints(piece: &Piece<'_>) -> Result<PlannedStatement, RouterError> {
    let mut names = Vec::new();
    let mut all = false;
    let mut mode = None;
    for (token, _) in piece.tokens.iter().skip_while(
        |(t, _)| !matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case("CONSTRAINTS")),
    ) {
        match token {
            Token::Word(w) => match w.value.to_ascii_uppercase().as_str() {
                "CONSTRAINTS" => {}
                "ALL" if w.quote_style.is_none() => all = true,
                "DEFERRED" if w.quote_style.is_none() => mode = Some(true),
                "IMMEDIATE" if w.quote_style.is_none() => mode = Some(false),
                _ => names.push(if w.quote_style.is_some() {
                    w.value.clone()
                } else {
                    w.value.to_ascii_lowercase()
                }),
            },
            Token::Comma | Token::Period | Token::Whitespace(_) | Token::SemiColon => {}
            other => {
                return Err(RouterError::syntax(format!(
                    "syntax error in SET CONSTRAINTS at or near \"{other}\""
                )));
            }
        }
    }
    let Some(deferred) = mode else {
        return Err(RouterError::syntax(
            "SET CONSTRAINTS takes DEFERRED or IMMEDIATE".to_owned(),
        ));
    };
    if all != names.is_empty() {
        return Err(RouterError::syntax(
            "SET CONSTRAINTS takes ALL or constraint names".to_owned(),
        ));
    }
    let mut statements: Vec<String> = names
        .iter()
        .map(|name| {
            format!(
                "SELECT pg_raise('42704', {}) WHERE NOT EXISTS \
                 (SELECT 1 FROM pg_constraint WHERE conname = {})",
                string_literal(&format!("constraint \"{name}\" does not exist")),
                string_literal(name)
            )
        })
        .collect();
    if deferred {
        statements.push("PRAGMA defer_foreign_keys = ON".to_owned());
    } else {
        let only = if names.is_empty() {
            String::new()
        } else {
            let listed: Vec<String> = names.iter().map(|n| string_literal(n)).collect();
            format!(" WHERE k.conname IN ({})", listed.join(", "))
        };
        statements.push(format!(
            "SELECT pg_raise('23503', 'insert or update on table \"' || c.\"table\" || \
             '\" violates foreign key constraint \"' || k.conname || '\"') \
             FROM pragma_foreign_key_check c \
             JOIN ls_relation r ON r.sqlite_name = c.\"table\" AND r.type = 'table' \
             JOIN pg_constraint k ON k.oid = r.oid * 100 + c.fkid{only} LIMIT 1"
        ));
        statements.push("PRAGMA defer_foreign_keys = OFF".to_owned());
    }
    let batch = true;
    Ok(PlannedStatement::hand_parsed(
        "SET CONSTRAINTS",
        statements,
        batch,
    ))
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::plan::statement::StatementKind;

    #[test]
    fn deferred_defers_and_immediate_checks_the_named_or_all() {
        let deferred = &plan("SET CONSTRAINTS ALL DEFERRED").unwrap()[0];
        assert_eq!(deferred.kind, StatementKind::Ddl("SET CONSTRAINTS"));
        assert_eq!(deferred.sqlite_sql, "PRAGMA defer_foreign_keys = ON");
        let all = &plan("set constraints all immediate").unwrap()[0].sqlite_sql;
        assert!(all.contains("pragma_foreign_key_check c"), "{all}");
        assert!(!all.contains("IN ("), "{all}");
        assert!(all.ends_with("PRAGMA defer_foreign_keys = OFF"), "{all}");
        let named = &plan("SET CONSTRAINTS a_fk, \"B_fk\" IMMEDIATE").unwrap()[0].sqlite_sql;
        assert!(named.contains("k.conname IN ('a_fk', 'B_fk')"), "{named}");
        assert!(named.starts_with("SELECT pg_raise('42704'"), "{named}");
        for bad in [
            "SET CONSTRAINTS ALL",
            "SET CONSTRAINTS IMMEDIATE",
            "SET CONSTRAINTS ALL x DEFERRED",
        ] {
            assert_eq!(plan(bad).unwrap_err().sqlstate, "42601", "{bad}");
        }
    }
}
