//! A statement's normalized text through sqlparser's PostgreSQL dialect, each statement
//! bounded in depth before anything walks it; sqlparser's errors become 42601 (or 54001,
//! or 0A000 for an assignment to an array slice, which it does not read).

use sqlparser::ast::{CreateTableOptions, Ident, ObjectName, SetExpr, SqlOption, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};

use super::{assignments, depth};
use crate::RouterError;

/// The statements of `normalized` (the output of `lexical::normalize`), each checked
/// against [`depth::MAX_EXPR_DEPTH`].
pub(crate) fn parse(normalized: &str) -> Result<Vec<Statement>, RouterError> {
    // A domain's clauses in any order, and its NOT NULL, which sqlparser does not read
    // (translate/objects/domains.rs takes the NOT NULL back out): read as rewritten even
    // where sqlparser reads the statement, as `DEFAULT 5 NOT NULL` it reads as a default
    // of `5 IS NOT NULL`.
    let domain = domain_clauses(normalized);
    let statements = match Parser::parse_sql(
        &PostgreSqlDialect {},
        domain.as_deref().unwrap_or(normalized),
    ) {
        // `UPDATE t SET a[2] = x`: read once its assignments are rewritten.
        Err(e) if subscripted_assignment(&e) => match assignments::rewrite(normalized) {
            Some(sql) => Parser::parse_sql(&PostgreSqlDialect {}, &sql).map_err(syntax_error)?,
            None => return Err(syntax_error(e)),
        },
        // sqlparser does not read CREATE MATERIALIZED VIEW's WITH [NO] DATA.
        Err(e) if matview_data_clause(normalized).is_some() => {
            let (sql, with_data) = matview_data_clause(normalized).unwrap_or_default();
            let mut statements =
                Parser::parse_sql(&PostgreSqlDialect {}, &sql).map_err(|_| syntax_error(e))?;
            if let [Statement::CreateView(view)] = statements.as_mut_slice()
                && !with_data
            {
                view.options =
                    CreateTableOptions::With(vec![SqlOption::Ident(ObjectName::from(vec![
                        Ident::new(MATVIEW_WITH_NO_DATA),
                    ]))]);
            }
            statements
        }
        // sqlparser reads LIKE's INCLUDING / EXCLUDING DEFAULTS only: the others are taken
        // out and carried as options of the table (translate/ddl.rs reads them).
        Err(e) if like_options(normalized) => {
            let Some((sql, included)) = like_clause(normalized) else {
                return Err(syntax_error(e));
            };
            let mut statements =
                Parser::parse_sql(&PostgreSqlDialect {}, &sql).map_err(|_| syntax_error(e))?;
            if let [Statement::CreateTable(create)] = statements.as_mut_slice() {
                create.table_options = CreateTableOptions::With(
                    included
                        .iter()
                        .map(|o| {
                            SqlOption::Ident(ObjectName::from(vec![Ident::new(format!(
                                "{LIKE_INCLUDING}{o}"
                            ))]))
                        })
                        .collect(),
                );
            }
            statements
        }
        // An identity's `SEQUENCE NAME s` (pg_dump writes it): its sequence is named as
        // Postgres names it by default (translate/objects/sequences.rs).
        Err(e) if without_sequence_name(normalized).is_some() => {
            let sql = without_sequence_name(normalized).unwrap_or_default();
            Parser::parse_sql(&PostgreSqlDialect {}, &sql).map_err(|_| syntax_error(e))?
        }
        // Moving an object to another schema renames it and everything named after it
        // (engine/objects/schemas.rs); not made yet.
        Err(_) if moves_to_schema(normalized) => {
            return Err(RouterError::unsupported(
                "ALTER ... SET SCHEMA (make the object in the other schema and copy it)",
            ));
        }
        parsed => parsed.map_err(syntax_error)?,
    };
    for ast in &statements {
        depth::check(ast)?;
    }
    statements.into_iter().map(select_into).collect()
}

/// `SELECT ... INTO [TEMP] t FROM ...` is `CREATE [TEMP] TABLE t AS SELECT ... FROM ...`,
/// as Postgres has it.
fn select_into(ast: Statement) -> Result<Statement, RouterError> {
    let Statement::Query(mut query) = ast else {
        return Ok(ast);
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(Statement::Query(query));
    };
    let Some(into) = select.into.take() else {
        return Ok(Statement::Query(query));
    };
    let [target] = into.targets.as_slice() else {
        return Err(RouterError::syntax(
            "SELECT ... INTO takes one table".to_owned(),
        ));
    };
    let temporary = if into.temporary { " TEMPORARY" } else { "" };
    let sql = format!("CREATE{temporary} TABLE {target} AS {query}");
    Parser::parse_sql(&PostgreSqlDialect {}, &sql)
        .map_err(syntax_error)?
        .pop()
        .ok_or_else(|| RouterError::syntax("SELECT ... INTO".to_owned()))
}

/// The option a materialized view created `WITH NO DATA` carries after parsing.
pub(crate) const MATVIEW_WITH_NO_DATA: &str = "litescale.with_no_data";

/// A CREATE MATERIALIZED VIEW without its closing `WITH [NO] DATA`, and whether the
/// clause asks for data.
fn matview_data_clause(sql: &str) -> Option<(String, bool)> {
    let trimmed = sql.trim_end().trim_end_matches(';').trim_end();
    let upper = trimmed.to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    if words.get(..3) != Some(&["CREATE", "MATERIALIZED", "VIEW"][..]) {
        return None;
    }
    let (cut, with_data) = if upper.ends_with(" WITH NO DATA") {
        (" WITH NO DATA".len(), false)
    } else if upper.ends_with(" WITH DATA") {
        (" WITH DATA".len(), true)
    } else {
        return None;
    };
    Some((trimmed[..trimmed.len() - cut].to_owned(), with_data))
}

/// Whether `sql` is a CREATE TABLE whose LIKE clause has options.
/// The prefix of the table options that carry what `CREATE TABLE ... (LIKE t INCLUDING x)`
/// includes (`litescale.like_including_indexes`).
pub(crate) const LIKE_INCLUDING: &str = "litescale.like_including_";

/// What LIKE's INCLUDING and EXCLUDING name, applied in order.
const LIKE_OPTIONS: &[&str] = &[
    "comments",
    "compression",
    "constraints",
    "defaults",
    "generated",
    "identity",
    "indexes",
    "statistics",
    "storage",
];

/// `CREATE TABLE x (LIKE t INCLUDING ALL EXCLUDING INDEXES)` as sqlparser reads it (`(LIKE
/// t INCLUDING DEFAULTS)` or `(LIKE t)`), and the options it includes; `None` where the
/// options are not LIKE's.
fn like_clause(sql: &str) -> Option<(String, Vec<&'static str>)> {
    let at = sql.to_ascii_lowercase().find("(like ")?;
    let rest = &sql[at + "(like ".len()..];
    let close = rest.find(')')?;
    let mut words = rest[..close].split_whitespace();
    let table = words.next()?;
    let mut included = std::collections::BTreeSet::new();
    let words: Vec<&str> = words.collect();
    for pair in words.chunks(2) {
        let [verb, what] = pair else {
            return None;
        };
        let what = what.to_ascii_lowercase();
        let named: Vec<&'static str> = match what.as_str() {
            "all" => LIKE_OPTIONS.to_vec(),
            other => vec![*LIKE_OPTIONS.iter().find(|o| **o == other)?],
        };
        match verb.to_ascii_lowercase().as_str() {
            "including" => included.extend(named),
            "excluding" => named.iter().for_each(|o| {
                included.remove(o);
            }),
            _ => return None,
        }
    }
    let defaults = if included.contains("defaults") {
        " INCLUDING DEFAULTS"
    } else {
        ""
    };
    let sql = format!(
        "{}(LIKE {table}{defaults}){}",
        &sql[..at],
        &rest[close + 1..]
    );
    Some((sql, included.into_iter().collect()))
}

/// `sql` without the `SEQUENCE NAME <name>` of an identity's options, which sqlparser does
/// not read; `None` where it has none.
fn without_sequence_name(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    let identity = lower.find("as identity")?;
    let at = identity + lower[identity..].find("sequence name")?;
    let rest = &sql[at + "sequence name".len()..];
    let name_start = rest.len() - rest.trim_start().len();
    let mut quoted = false;
    let name_end = rest[name_start..]
        .char_indices()
        .find(|&(_, c)| {
            if c == '"' {
                quoted = !quoted;
            }
            !quoted && (c.is_whitespace() || c == ')')
        })
        .map_or(rest.len(), |(i, _)| name_start + i);
    Some(format!("{}{}", &sql[..at], &rest[name_end..]))
}

/// The name the CHECK that stands for a domain's NOT NULL takes (translate/objects/domains.rs
/// makes the NOT NULL of it again).
pub(crate) const DOMAIN_NOT_NULL: &str = "litescale_domain_not_null";

/// A CREATE DOMAIN as sqlparser reads one: its COLLATE and DEFAULT first, then its
/// constraints, NOT NULL written as a CHECK named [`DOMAIN_NOT_NULL`] (a bare `NULL`
/// changes nothing); Postgres takes them in any order. `None` for other statements.
fn domain_clauses(sql: &str) -> Option<String> {
    let upper = sql.to_ascii_uppercase();
    if !upper.trim_start().starts_with("CREATE DOMAIN ") {
        return None;
    }
    const STARTS: [&str; 6] = [
        " COLLATE ",
        " DEFAULT ",
        " CONSTRAINT ",
        " CHECK",
        " NOT NULL",
        " NULL",
    ];
    // Where each clause starts, outside quotes and parentheses.
    let (mut depth, mut quoted, mut cuts) = (0i32, false, Vec::new());
    for (at, c) in sql.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ' ' if !quoted && depth == 0 => {
                let rest = &upper[at..];
                // CONSTRAINT n CHECK (...) is one clause.
                let after_constraint = cuts.last().is_some_and(|&(_, kind)| kind == " CONSTRAINT ")
                    && rest.starts_with(" CHECK");
                if let Some(kind) = STARTS.iter().find(|k| rest.starts_with(**k))
                    && !after_constraint
                {
                    cuts.push((at, *kind));
                }
            }
            _ => {}
        }
    }
    let head_end = cuts.first()?.0;
    let mut collate = String::new();
    let mut default = String::new();
    let mut constraints = Vec::new();
    for (i, &(at, kind)) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).map_or(sql.len(), |&(next, _)| next);
        let clause = sql[at..end].trim_end_matches(';');
        match kind {
            " COLLATE " => collate = clause.to_owned(),
            " DEFAULT " => default = clause.to_owned(),
            " NOT NULL" => constraints.push(format!(
                " CONSTRAINT {DOMAIN_NOT_NULL} CHECK (VALUE IS NOT NULL)"
            )),
            " NULL" => {}
            _ => constraints.push(clause.to_owned()),
        }
    }
    Some(format!(
        "{}{collate}{default}{}",
        &sql[..head_end],
        constraints.concat()
    ))
}

/// `ALTER TABLE | VIEW | SEQUENCE ... SET SCHEMA s`, which sqlparser does not read.
fn moves_to_schema(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    words.first() == Some(&"ALTER") && words.windows(2).any(|w| w == ["SET", "SCHEMA"])
}

fn like_options(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase().replace('(', " ( ");
    let words: Vec<&str> = upper.split_whitespace().collect();
    words.first() == Some(&"CREATE")
        && words
            .windows(4)
            .any(|w| w[0] == "(" && w[1] == "LIKE" && matches!(w[3], "INCLUDING" | "EXCLUDING"))
}

fn subscripted_assignment(e: &ParserError) -> bool {
    matches!(e, ParserError::ParserError(m) if m.starts_with("Expected: =, found: ["))
}

fn syntax_error(e: ParserError) -> RouterError {
    let detail = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
        ParserError::RecursionLimitExceeded => return depth::too_deep(),
    };
    // What `assignments` does not rewrite: a slice, `SET a[1:2] = x`.
    if detail.starts_with("Expected: =, found: [") {
        return RouterError::unsupported("assignment to an array slice (SET a[i:j] = ...)");
    }
    RouterError::syntax(format!("syntax error: {detail}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_domains_clauses_come_in_the_order_sqlparser_reads() {
        assert_eq!(
            super::domain_clauses(
                "CREATE DOMAIN e AS varchar(50) NOT NULL CHECK (VALUE ~ '@') DEFAULT 'x' NULL"
            )
            .as_deref(),
            Some(
                "CREATE DOMAIN e AS varchar(50) DEFAULT 'x' CONSTRAINT litescale_domain_not_null \
                 CHECK (VALUE IS NOT NULL) CHECK (VALUE ~ '@')"
            )
        );
        assert_eq!(
            super::domain_clauses("CREATE TABLE t (a int NOT NULL)"),
            None
        );
    }

    use crate::plan;

    #[test]
    fn select_into_creates_the_table() {
        let p = &plan("SELECT id, name INTO archive FROM src WHERE n > 1").unwrap()[0];
        assert_eq!(p.kind, crate::StatementKind::Ddl("CREATE TABLE"));
        assert!(
            p.sqlite_sql
                .starts_with("CREATE TABLE archive AS SELECT id, name FROM src"),
            "{}",
            p.sqlite_sql
        );
        assert_eq!(plan("SELECT 1 INTO TEMP x").unwrap_err().sqlstate, "0A000");
    }

    #[test]
    fn syntax_errors_carry_42601() {
        let e = plan("SELEC 1").unwrap_err();
        assert_eq!(e.sqlstate, "42601");
        let e = plan("UPDATE t SET a[1:2] = '{1,2}'").unwrap_err();
        assert_eq!(e.sqlstate, "0A000");
        let e = plan("ALTER TABLE s.t SET SCHEMA u").unwrap_err();
        assert_eq!(e.sqlstate, "0A000", "{}", e.message);
        let e = plan("CREATE TABLE t (LIKE s INCLUDING EVERYTHING)").unwrap_err();
        assert_eq!(e.sqlstate, "42601", "{}", e.message);
    }

    #[test]
    fn like_options_are_applied_in_order() {
        let (sql, included) =
            super::like_clause("create table t (like s including all excluding indexes)").unwrap();
        assert_eq!(sql, "create table t (LIKE s INCLUDING DEFAULTS)");
        assert!(included.contains(&"constraints") && !included.contains(&"indexes"));
        let (sql, included) = super::like_clause("create table t (like s excluding all)").unwrap();
        assert_eq!(
            (sql.as_str(), included.len()),
            ("create table t (LIKE s)", 0)
        );
    }
}
