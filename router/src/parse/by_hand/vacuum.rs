//! VACUUM, parsed by hand (sqlparser does not take Postgres' options): what SQLite runs
//! for it, if anything. `VACUUM INTO` would write a file anywhere, and is refused.

use super::split::Piece;
use crate::RouterError;
use crate::plan::statement::PlannedStatement;

/// `VACUUM [FULL] [ANALYZE] [t, ...]`. SQLite reuses freed pages by itself, so a plain
/// VACUUM has nothing to do; ANALYZE refreshes planner statistics as Postgres' does; FULL
/// rewrites the file as SQLite's VACUUM does.
pub(crate) fn vacuum(piece: &Piece<'_>) -> Result<PlannedStatement, RouterError> {
    use sqlparser::tokenizer::Token;
    let mut full = false;
    let mut analyze = false;
    let mut tables = Vec::new();
    for (t, _) in &piece.tokens[1..] {
        match t {
            Token::Word(w) => match w.value.to_ascii_uppercase().as_str() {
                "FULL" => full = true,
                "ANALYZE" | "ANALYSE" => analyze = true,
                "VERBOSE" | "FREEZE" | "TRUE" | "ON" | "FALSE" | "OFF" => {}
                // SQLite's VACUUM INTO 'file' writes a copy of the database anywhere.
                "INTO" => {
                    return Err(RouterError::forbidden(
                        "VACUUM INTO writes a file outside the storage directory",
                    ));
                }
                _ => tables.push(w.to_string()),
            },
            Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) => {
                return Err(RouterError::forbidden(
                    "VACUUM INTO writes a file outside the storage directory",
                ));
            }
            _ => {}
        }
    }
    let mut statements = Vec::new();
    if full {
        statements.push("VACUUM".to_owned());
    }
    if analyze {
        if tables.is_empty() {
            statements.push("ANALYZE".to_owned());
        }
        statements.extend(tables.iter().map(|t| format!("ANALYZE {t}")));
    }
    let batch = statements.len() > 1;
    Ok(PlannedStatement::hand_parsed("VACUUM", statements, batch))
}

#[cfg(test)]
mod tests {
    use crate::test_support::one;

    use crate::plan::statement::StatementKind;

    #[test]
    fn vacuum_is_analyze_or_nothing() {
        let v = one("vacuum analyze pgbench_branches");
        assert_eq!(v.kind, StatementKind::Ddl("VACUUM"));
        assert_eq!(v.sqlite_sql, "ANALYZE pgbench_branches");
        assert_eq!(one("vacuum pgbench_branches").sqlite_sql, "");
        assert_eq!(one("vacuum full").sqlite_sql, "VACUUM");
    }
}
