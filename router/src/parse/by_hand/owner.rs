//! `ALTER <kind> name OWNER TO role`, which pg_dump writes after each object, parsed by hand
//! (sqlparser reads it for few kinds). litescale keeps no owner per object: its catalog
//! shows every object as `postgres`'s, so an owner change to that role, or to the session's
//! own user, changes nothing and is taken once the object is found (42P01/42704 if not);
//! another role is refused (0A000) rather than answered and then shown otherwise.

use sqlparser::tokenizer::Token;

use super::lexical::string_literal;
use super::split::Piece;
use crate::RouterError;
use crate::parse::lexical::is_built_in_schema;
use crate::plan::session::SessionContext;
use crate::plan::statement::PlannedStatement;

/// The words of `piece`, unquoted ones upper-cased, and whether each was quoted.
fn words(piece: &Piece<'_>) -> Vec<(String, bool)> {
    piece
        .tokens
        .iter()
        .filter_map(|(t, _)| match t {
            Token::Word(w) if w.quote_style.is_some() => Some((w.value.clone(), true)),
            Token::Word(w) => Some((w.value.to_ascii_uppercase(), false)),
            _ => None,
        })
        .collect()
}

/// The object's name, unquoted or folded to lower case, and its schema if qualified: the
/// words before OWNER, or for a function before its arguments' parenthesis
/// (`ALTER FUNCTION s.f(int) OWNER TO ...`).
fn qualified_name(piece: &Piece<'_>, function: bool) -> (Option<String>, String) {
    let folded = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_some() => w.value.clone(),
        Token::Word(w) => w.value.to_ascii_lowercase(),
        other => other.to_string(),
    };
    let tokens: Vec<&Token> = piece
        .tokens
        .iter()
        .map(|(t, _)| t)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let owner = || {
        tokens
            .iter()
            .rposition(|t| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case("OWNER")))
            .unwrap_or(0)
    };
    let end = if function {
        tokens
            .iter()
            .position(|t| matches!(t, Token::LParen))
            .unwrap_or_else(owner)
    } else {
        owner()
    };
    let name = end
        .checked_sub(1)
        .map(|at| folded(tokens[at]))
        .unwrap_or_default();
    let schema = match end.checked_sub(3).map(|at| (tokens[at], tokens[at + 1])) {
        Some((schema @ Token::Word(_), Token::Period)) => Some(folded(schema)),
        _ => None,
    };
    (schema, name)
}

/// Whether `piece` is an `ALTER ... OWNER TO role`.
pub(crate) fn is_owner_change(piece: &Piece<'_>) -> bool {
    let w = words(piece);
    w.len() >= 5 && w[0].0 == "ALTER" && w[w.len() - 3].0 == "OWNER" && w[w.len() - 2].0 == "TO"
}

pub(crate) fn owner_change(
    piece: &Piece<'_>,
    ctx: &SessionContext,
) -> Result<PlannedStatement, RouterError> {
    let w = words(piece);
    let (role, quoted) = &w[w.len() - 1];
    let role = if *quoted {
        role.clone()
    } else {
        role.to_ascii_lowercase()
    };
    let own = ["current_user", "session_user", "current_role", "postgres"].contains(&role.as_str())
        || role == ctx.user;
    if !own {
        return Err(RouterError::unsupported(&format!(
            "ALTER ... OWNER TO {role} (objects belong to the database: their owner shows as \
             postgres)"
        )));
    }
    // The object's name: the last word before OWNER. A relation of a schema other than
    // public is SQLite's `s.t` (translate/objects/schemas.rs), which ls_oid_by_name looks up.
    let (schema, name) = qualified_name(piece, w[1].0 == "FUNCTION");
    let name = match schema {
        Some(schema)
            if !is_built_in_schema(&schema) && !matches!(w[1].0.as_str(), "TYPE" | "DOMAIN") =>
        {
            format!("{schema}.{name}")
        }
        _ => name,
    };
    let (tag, missing, catalog) = match w[1].0.as_str() {
        "TABLE" => ("ALTER TABLE", "42P01", "ls_oid_by_name WHERE ls_key"),
        "VIEW" => ("ALTER VIEW", "42P01", "ls_oid_by_name WHERE ls_key"),
        "SEQUENCE" => ("ALTER SEQUENCE", "42P01", "ls_oid_by_name WHERE ls_key"),
        "INDEX" => ("ALTER INDEX", "42P01", "ls_oid_by_name WHERE ls_key"),
        "TYPE" => ("ALTER TYPE", "42704", "pg_type WHERE typname"),
        "DOMAIN" => ("ALTER DOMAIN", "42704", "pg_type WHERE typname"),
        "FUNCTION" => ("ALTER FUNCTION", "42883", "pg_proc WHERE proname"),
        "SCHEMA" => ("ALTER SCHEMA", "3F000", "pg_namespace WHERE nspname"),
        other => {
            return Err(RouterError::unsupported(&format!(
                "ALTER {other} ... OWNER TO"
            )));
        }
    };
    let what = match missing {
        "42704" => format!("type \"{name}\" does not exist"),
        "3F000" => format!("schema \"{name}\" does not exist"),
        "42883" => format!("function {name} does not exist"),
        _ => format!("relation \"{name}\" does not exist"),
    };
    let check = format!(
        "SELECT pg_raise('{missing}', {}) WHERE NOT EXISTS (SELECT 1 FROM {catalog} = {})",
        string_literal(&what),
        string_literal(&name)
    );
    Ok(PlannedStatement::hand_parsed(tag, vec![check], true))
}
