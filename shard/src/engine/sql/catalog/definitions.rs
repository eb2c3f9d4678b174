//! What SQLite keeps in a table's CREATE text but does not report: the names given to
//! foreign keys, its CHECK constraints, and the comments COMMENT ON writes there (router
//! translate/alter/comments.rs), each found in the definition (a column's, or the table's
//! own constraints) it belongs to.

use crate::engine::sql::identifiers::quote_ident;

/// The CHECK that holds a comment: `CONSTRAINT "litescale_comment" CHECK ('text' IS NOT NULL)`.
static COMMENT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r#"CONSTRAINT\s+"litescale_comment"\s+CHECK\s*\(\s*'((?:[^']|'')*)'\s+IS\s+NOT\s+NULL\s*\)"#)
        .expect("a valid pattern")
});

/// The comment on `column`, or on the table itself (`None`).
pub(super) fn comment_of(create_sql: &str, column: Option<&str>) -> Option<String> {
    // A view's, index's, sequence's or materialized view's, after `CREATE`.
    if column.is_none()
        && let Some(text) = super::marks::comment_in(create_sql)
    {
        return Some(text);
    }
    COMMENT.captures_iter(create_sql).find_map(|c| {
        let owner = owner_of(create_sql, c.get(0)?.start())?;
        let table_level = owner.eq_ignore_ascii_case("CONSTRAINT");
        let matches = match column {
            None => table_level,
            Some(column) => !table_level && owner.eq_ignore_ascii_case(column),
        };
        matches.then(|| c[1].replace("''", "'"))
    })
}

/// The first word (unquoted) of the definition in the table's body that holds the text at
/// `at`: a column's name, or CONSTRAINT (or PRIMARY, UNIQUE, ...) for a table constraint.
fn owner_of(create_sql: &str, at: usize) -> Option<String> {
    let start = *segment_starts(create_sql, at).last()?;
    let word = create_sql[start..].split_whitespace().next()?;
    Some(word.trim_matches('"').to_owned())
}

/// Where each definition of the table's body starts before `until`: after its '(' or a ','
/// at depth 1.
fn segment_starts(create_sql: &str, until: usize) -> Vec<usize> {
    unquoted(create_sql)
        .take_while(|(i, ..)| *i < until)
        .filter(|(_, c, depth)| (*c == '(' && *depth == 0) || (*c == ',' && *depth == 1))
        .map(|(i, ..)| i + 1)
        .collect()
}

/// The characters of `text` outside quoted strings and identifiers (their quotes left out
/// too), each with its byte offset and the depth of parentheses before it.
fn unquoted(text: &str) -> impl Iterator<Item = (usize, char, i32)> + '_ {
    let (mut depth, mut quoted) = (0, None);
    text.char_indices().filter_map(move |(i, c)| {
        match (c, quoted) {
            ('"' | '\'', None) => quoted = Some(c),
            (q, Some(open)) if q == open => quoted = None,
            (_, Some(_)) => {}
            (c, None) => {
                let before = depth;
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                return Some((i, c, before));
            }
        }
        None
    })
}

/// An index's CREATE INDEX text as pg_get_indexdef answers it: `CREATE [UNIQUE] INDEX name
/// ON schema.table USING btree (columns) [WHERE ...]`, without litescale's marks, and
/// identifiers quoted only where Postgres would quote them. The index's name loses its
/// schema (engine/objects/schemas.rs).
pub(super) fn index_definition(create_sql: &str, table: &str, schema: &str) -> String {
    let sql = super::marks::without_marks(create_sql)
        .replace(" /* litescale: PRIMARY KEY */", "")
        .replace(" /* litescale: UNIQUE */", "")
        .replacen("INDEX IF NOT EXISTS", "INDEX", 1)
        .replacen(&format!("INDEX \"{schema}."), "INDEX \"", 1);
    let sql = plain_identifiers(&sql);
    // ` ON <table>` and the parenthesis of its columns, outside quotes.
    let on = unquoted(&sql).find(|&(i, _, depth)| depth == 0 && sql[i..].starts_with(" ON "));
    let open = on.and_then(|(at, _, _)| {
        unquoted(&sql)
            .find(|&(i, c, depth)| i > at && depth == 0 && c == '(')
            .map(|(i, _, _)| (at, i))
    });
    let Some((at, paren)) = open else {
        return sql;
    };
    let head = format!(
        "{} ON {}.{} USING btree ",
        &sql[..at],
        quote_ident(schema),
        quote_ident(table)
    );
    // Postgres shows a partial index's predicate in parentheses.
    let rest = &sql[paren..];
    let predicate =
        unquoted(rest).find(|&(i, _, depth)| depth == 0 && rest[i..].starts_with(" WHERE "));
    match predicate {
        Some((i, _, _)) => {
            let condition = rest[i + " WHERE ".len()..].trim();
            let wrapped = condition.starts_with('(')
                && unquoted(condition)
                    .find(|&(_, c, depth)| c == ')' && depth == 1)
                    .is_some_and(|(end, _, _)| end == condition.len() - 1);
            if wrapped {
                format!("{head}{rest}")
            } else {
                format!("{head}{} WHERE ({condition})", &rest[..i])
            }
        }
        None => format!("{head}{rest}"),
    }
}

/// `"name"` → `name` where Postgres' quote_ident would not quote it, outside string
/// literals.
fn plain_identifiers(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    let mut in_string = false;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            in_string = !in_string;
        }
        if c == '"'
            && !in_string
            && let Some(end) = rest[1..].find('"')
        {
            let name = &rest[1..=end];
            if quote_ident(name) == name {
                out.push_str(name);
            } else {
                out.push_str(&rest[..end + 2]);
            }
            rest = &rest[end + 2..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A domain's CHECK constraints (its definition as objects/domains.rs keeps it: the
/// column it stands for, its value written `"litescale_domain_value"`), as a JSON array of
/// `{name, expr}` with the expression in Postgres' words (`VALUE > 0`).
pub(super) fn domain_checks(options: &str) -> String {
    static CHECK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"CONSTRAINT\s+"litescale_domain:[^:"]*:([^"]+)"\s+CHECK\s*\("#)
            .expect("a valid pattern")
    });
    let mut out = Vec::new();
    for c in CHECK.captures_iter(options) {
        let Some(whole) = c.get(0) else { continue };
        let Some(stored) = parenthesized(&options[whole.end() - 1..]) else {
            continue;
        };
        let expr = client_text(stored)
            .unwrap_or_else(|| stored.to_owned())
            .replace("\"litescale_domain_value\"", "VALUE");
        out.push(serde_json::json!({"name": &c[1], "expr": unparenthesized(&expr)}));
    }
    serde_json::Value::from(out).to_string()
}

/// A CHECK's expression without the parentheses around all of it: `CHECK ((a > 0))`, as a
/// dump writes it, is `a > 0`, as Postgres keeps it.
fn unparenthesized(expr: &str) -> &str {
    let mut expr = expr.trim();
    while let Some(inner) = expr
        .starts_with('(')
        .then(|| parenthesized(expr))
        .flatten()
        .filter(|inner| inner.len() + 2 == expr.len())
    {
        expr = inner.trim();
    }
    expr
}

/// The text a client wrote for a CHECK, which the router keeps beside its translation:
/// `pg_check(<translated>, '<as written>')`.
fn client_text(expr: &str) -> Option<String> {
    let inner = expr.trim().strip_prefix("pg_check(")?.strip_suffix(')')?;
    let comma = unquoted(inner)
        .filter(|&(_, c, depth)| c == ',' && depth == 0)
        .last()?
        .0;
    let literal = inner[comma + 1..].trim();
    let text = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(text.replace("''", "'"))
}

/// Where a view's CREATE text keeps its Postgres query (router translate/ddl.rs).
pub(crate) const POSTGRES_QUERY_MARK: &str = "/* litescale:postgres ";

/// The query of a view's CREATE VIEW text, as pg_get_viewdef answers it: the Postgres
/// query kept with it, or what follows the first `AS` outside quotes and parentheses;
/// ending with `;`.
pub(super) fn view_query(create_sql: &str) -> Option<String> {
    // The query as the client wrote it, which the router keeps in a closing comment
    // (router translate/ddl.rs); else the text SQLite runs.
    if let Some(kept) = create_sql
        .rfind(POSTGRES_QUERY_MARK)
        .map(|at| &create_sql[at + POSTGRES_QUERY_MARK.len()..])
        .and_then(|rest| rest.trim_end().strip_suffix("*/"))
    {
        return Some(format!(" {};", kept.trim()));
    }
    let upper = create_sql.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let boundary = |i: usize| {
        bytes
            .get(i)
            .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
    };
    let at = unquoted(create_sql).find(|&(i, _, depth)| {
        depth == 0 && upper[i..].starts_with("AS") && i > 0 && boundary(i - 1) && boundary(i + 2)
    })?;
    let query = create_sql[at.0 + 2..]
        .trim()
        .trim_end_matches(';')
        .trim_end();
    Some(format!(" {query};"))
}

/// The words of a view's query (outside string literals), as a JSON array: the names
/// among them of tables and views are what the view depends on.
pub(super) fn view_words(create_sql: &str) -> String {
    query_words(&view_query(create_sql).unwrap_or_default())
}

/// The words of a query (a materialized view's), as [`view_words`] lists them.
pub(super) fn query_words(query: &str) -> String {
    let mut names = words(query);
    names.sort_unstable();
    names.dedup();
    serde_json::Value::from(names).to_string()
}

/// The table's CHECK constraints as Postgres lists them, as a JSON array of `{name, expr,
/// conkey}`: a name given, or Postgres' (`<table>_<column>_check` when the expression
/// names one column, else `<table>_check`); the expression as written; the columns it names
/// (`{2,3}`). litescale's own CHECKs (a type's rules, comments) are not listed.
pub(super) fn check_constraints(create_sql: &str, table: &str) -> String {
    static CHECK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?i)(?:CONSTRAINT\s+("[^"]+"|\S+)\s+)?\bCHECK\s*\("#)
            .expect("a valid pattern")
    });
    let columns = column_names(create_sql);
    let mut out = Vec::new();
    for c in CHECK.captures_iter(create_sql) {
        let Some(whole) = c.get(0) else { continue };
        if in_quotes(create_sql, whole.start()) {
            continue;
        }
        let given = c.get(1).map(|n| n.as_str().trim_matches('"').to_owned());
        let Some(stored) = parenthesized(&create_sql[whole.end() - 1..]) else {
            continue;
        };
        let written = client_text(stored);
        let expr = unparenthesized(written.as_deref().unwrap_or(stored));
        let ours = given
            .as_deref()
            .is_some_and(|n| n.starts_with("litescale_"))
            || ["pg_typecheck(", "pg_enum_check("]
                .iter()
                .any(|f| expr.trim_start().starts_with(f));
        if ours {
            continue;
        }
        let mut named: Vec<usize> = Vec::new();
        for word in words(expr) {
            if let Some(at) = columns.iter().position(|c| c.eq_ignore_ascii_case(&word))
                && !named.contains(&at)
            {
                named.push(at);
            }
        }
        let name = given.unwrap_or_else(|| match named.as_slice() {
            [one] => format!("{table}_{}_check", columns[*one]),
            _ => format!("{table}_check"),
        });
        let conkey: Vec<String> = named.iter().map(|at| (at + 1).to_string()).collect();
        out.push(serde_json::json!({
            "name": name,
            "expr": expr.trim(),
            "conkey": format!("{{{}}}", conkey.join(",")),
        }));
    }
    serde_json::Value::Array(out).to_string()
}

/// The columns the table's body defines, in order.
fn column_names(create_sql: &str) -> Vec<String> {
    const NOT_COLUMNS: [&str; 5] = ["CONSTRAINT", "CHECK", "PRIMARY", "UNIQUE", "FOREIGN"];
    segment_starts(create_sql, create_sql.len())
        .into_iter()
        .filter_map(|start| {
            let word = create_sql[start..].split_whitespace().next()?;
            let word = word.trim_end_matches([',', ')']).trim_matches('"');
            (!NOT_COLUMNS.iter().any(|n| n.eq_ignore_ascii_case(word))).then(|| word.to_owned())
        })
        .collect()
}

/// The text inside the parentheses `text` starts with.
fn parenthesized(text: &str) -> Option<&str> {
    unquoted(text)
        .find(|(_, c, depth)| *c == ')' && *depth == 1)
        .map(|(i, ..)| &text[1..i])
}

/// The identifiers of an expression, outside its string literals.
fn words(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = None;
    for c in expr.chars() {
        match (c, quoted) {
            ('\'', None) => quoted = Some(c),
            ('\'', Some(_)) => quoted = None,
            (_, Some(_)) => {}
            (c, None) if c.is_alphanumeric() || c == '_' => current.push(c),
            _ => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether the text at `at` is inside a quoted string or identifier.
fn in_quotes(text: &str, at: usize) -> bool {
    !unquoted(text).any(|(i, ..)| i == at)
}

/// The name a foreign key on `columns` (comma-separated) was given in its table's CREATE
/// TABLE text (`CONSTRAINT name FOREIGN KEY (a, b)`), which SQLite keeps but does not
/// report; `None` when it was given none.
pub(super) fn foreign_key_name(create_sql: &str, columns: &str) -> Option<String> {
    static NAMED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?i)CONSTRAINT\s+("[^"]+"|\S+)\s+FOREIGN\s+KEY\s*\(([^)]*)\)"#)
            .expect("a valid pattern")
    });
    let normalize = |list: &str| {
        list.split(',')
            .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    let wanted = normalize(columns);
    NAMED
        .captures_iter(create_sql)
        .find(|c| normalize(&c[2]) == wanted)
        .map(|c| c[1].trim_matches('"').to_owned())
        .or_else(|| column_foreign_key_name(create_sql, &wanted))
}

/// The name of a column's own foreign key (`parent_id int CONSTRAINT name REFERENCES ...`).
fn column_foreign_key_name(create_sql: &str, wanted: &[String]) -> Option<String> {
    static NAMED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?i)CONSTRAINT\s+("[^"]+"|\S+)\s+REFERENCES\b"#)
            .expect("a valid pattern")
    });
    let [column] = wanted else {
        return None;
    };
    NAMED.captures_iter(create_sql).find_map(|c| {
        let defined = owner_of(create_sql, c.get(0)?.start())?;
        (defined.to_ascii_lowercase() == *column).then(|| c[1].trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::{check_constraints, comment_of, foreign_key_name};

    #[test]
    fn check_constraints_are_named_as_postgres_names_them_and_ours_are_left_out() {
        let sql = "CREATE TABLE t (id INT CHECK (pg_typecheck(id, 'INT')), n INT CHECK (n > 0), \
                   code VARCHAR(3) CONSTRAINT \"litescale_length_varying_3\" CHECK (length(code) <= 3) \
                   CONSTRAINT \"litescale_comment\" CHECK ('a ''CHECK (x)'' note' IS NOT NULL), \
                   CHECK (n < id), CONSTRAINT positive CHECK (abs(n) >= 0), \
                   CHECK (pg_check(pg_num_value(id) >= 1, 'id >= (1)::numeric AND ''a'' <> ''b''')))";
        let listed: serde_json::Value = serde_json::from_str(&check_constraints(sql, "t")).unwrap();
        assert_eq!(
            listed,
            serde_json::json!([
                {"name": "t_n_check", "expr": "n > 0", "conkey": "{2}"},
                {"name": "t_check", "expr": "n < id", "conkey": "{2,1}"},
                {"name": "positive", "expr": "abs(n) >= 0", "conkey": "{2}"},
                {"name": "t_id_check", "expr": "id >= (1)::numeric AND 'a' <> 'b'", "conkey": "{1}"},
            ])
        );
    }

    #[test]
    fn a_foreign_key_keeps_the_name_it_was_given() {
        let sql = "CREATE TABLE pets (id INT, owner_id INT, vet INT, \
                   CONSTRAINT \"pets_owner_fk\" FOREIGN KEY (owner_id) REFERENCES owners(id), \
                   FOREIGN KEY (vet) REFERENCES vets(id))";
        assert_eq!(
            foreign_key_name(sql, "owner_id").as_deref(),
            Some("pets_owner_fk")
        );
        assert_eq!(foreign_key_name(sql, "vet"), None);
        let sql = "CREATE TABLE c (id INT, note VARCHAR(3) CHECK (note <> ','), \
                   \"Parent\" INT CONSTRAINT \"c_parent_fk\" REFERENCES p(id), other INT REFERENCES p(id))";
        assert_eq!(
            foreign_key_name(sql, "parent").as_deref(),
            Some("c_parent_fk")
        );
        assert_eq!(foreign_key_name(sql, "other"), None);
        assert_eq!(foreign_key_name(sql, "note"), None);
    }

    #[test]
    fn comments_belong_to_the_table_or_their_column() {
        let sql = "CREATE TABLE t (id INT CONSTRAINT \"litescale_comment\" CHECK ('the id' IS NOT NULL), \
                   \"Name\" TEXT CHECK (length(\"Name\") > 0) CONSTRAINT \"litescale_comment\" \
                   CHECK ('it''s, (a) name' IS NOT NULL), n INT, \
                   CONSTRAINT \"litescale_comment\" CHECK ('a table' IS NOT NULL))";
        assert_eq!(comment_of(sql, None).as_deref(), Some("a table"));
        assert_eq!(comment_of(sql, Some("id")).as_deref(), Some("the id"));
        assert_eq!(
            comment_of(sql, Some("name")).as_deref(),
            Some("it's, (a) name")
        );
        assert_eq!(comment_of(sql, Some("n")), None);
    }
}
