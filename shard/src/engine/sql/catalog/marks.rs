//! The marks litescale writes into the texts SQLite keeps of what it makes, read back by
//! the catalog here and written by the objects (engine/objects): JSON in a comment
//! (a sequence's parameters, a materialized view's queries, an object's COMMENT ON text
//! and privileges after `CREATE`), a table's privileges in a CHECK, a relation's name as
//! regclass input writes it, and the default of an identity column, `nextval('<sequence>', '<kind>')`.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where the text of a view, index, sequence or materialized view keeps its COMMENT ON
/// text, right after `CREATE` (engine/objects/comments.rs).
const COMMENT_MARK: &str = "/* litescale:comment ";

/// Where the text of a view, sequence or materialized view keeps its privileges (Postgres'
/// `aclitem[]` text), after `CREATE` too (engine/objects/annotations/grants.rs).
const ACL_MARK: &str = "/* litescale:acl ";

/// The CHECK that keeps a table's privileges in its definition, as its comment is kept
/// (router translate/alter/comments.rs), so that a table made again keeps them:
/// `CONSTRAINT "litescale_acl" CHECK ('{...}' IS NOT NULL)`.
pub(crate) const ACL_CHECK: &str = "litescale_acl";

static ACL_CHECK_TEXT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r#",?\s*CONSTRAINT\s+"litescale_acl"\s+CHECK\s*\(\s*'((?:[^']|'')*)'\s+IS\s+NOT\s+NULL\s*\)"#,
    )
    .expect("a valid pattern")
});

/// `value` as JSON in a comment that begins with `mark`, which SQLite keeps in a
/// definition's text. A name in the JSON cannot end the comment: `\/` is JSON's own escape
/// of `/`.
pub(crate) fn marked_json(mark: &str, value: &impl Serialize) -> String {
    let json = serde_json::to_string(value)
        .unwrap_or_default()
        .replace("*/", "*\\/");
    format!("{mark}{json} */")
}

/// What [`marked_json`] wrote after `mark` in `sql`; `None` where there is no such mark.
pub(crate) fn read_marked<T: DeserializeOwned>(sql: &str, mark: &str) -> Option<T> {
    let json = &sql[sql.find(mark)? + mark.len()..];
    serde_json::from_str(&json[..json.find(" */")?]).ok()
}

/// The comment a view's, index's, sequence's or materialized view's CREATE text keeps.
pub(crate) fn comment_in(sql: &str) -> Option<String> {
    read_marked(&sql[..marks_end(sql)?], COMMENT_MARK)
}

/// The privileges (`aclitem[]` text) a relation's CREATE text keeps: a table's in its
/// CHECK, another's after `CREATE`; `None` where no GRANT or REVOKE has set them.
pub(crate) fn acl_in(sql: &str) -> Option<String> {
    if let Some(acl) = acl_mark_in(sql) {
        return Some(acl);
    }
    ACL_CHECK_TEXT
        .captures(sql)
        .map(|c| c[1].replace("''", "'"))
}

/// A table's CREATE text with `acl` as its privileges, in the CHECK [`ACL_CHECK`] as the
/// last of its constraints.
pub(crate) fn table_with_acl(sql: &str, acl: &str) -> Option<String> {
    let sql = ACL_CHECK_TEXT.replace(sql, "");
    let close = sql.rfind(')')?;
    Some(format!(
        "{}, CONSTRAINT \"{ACL_CHECK}\" CHECK ('{}' IS NOT NULL){}",
        &sql[..close],
        acl.replace('\'', "''"),
        &sql[close..]
    ))
}

/// `sql` without what litescale keeps after `CREATE`, as the object's definition is shown.
pub(crate) fn without_marks(sql: &str) -> String {
    with_marks(sql, None, None)
}

/// `new`, the CREATE text written over `old`'s object, keeping `old`'s comment and
/// privileges.
pub(crate) fn carried(old: &str, new: &str) -> String {
    let comment = comment_in(new).or_else(|| comment_in(old));
    let acl = acl_mark_in(new).or_else(|| acl_mark_in(old));
    with_marks(new, comment.as_deref(), acl.as_deref())
}

/// The privileges kept after `CREATE`.
fn acl_mark_in(sql: &str) -> Option<String> {
    read_marked(&sql[..marks_end(sql)?], ACL_MARK)
}

/// Where the marks after `CREATE` end, if the text has any.
fn marks_end(sql: &str) -> Option<usize> {
    let rest = sql.strip_prefix("CREATE ")?;
    let mut end = "CREATE ".len();
    let mut rest = rest;
    while rest.starts_with(COMMENT_MARK) || rest.starts_with(ACL_MARK) {
        // A JSON string holds no `*/` (marked_json writes `*\/`).
        let close = rest.find(" */")? + " */".len();
        let spaces = rest[close..].len() - rest[close..].trim_start().len();
        end += close + spaces;
        rest = &rest[close + spaces..];
    }
    (end > "CREATE ".len()).then_some(end)
}

/// The CREATE text `sql` with `comment` and `acl` after `CREATE` (none for `None`).
fn with_marks(sql: &str, comment: Option<&str>, acl: Option<&str>) -> String {
    let body = match marks_end(sql) {
        Some(end) => sql[end..].trim_start(),
        None => sql.strip_prefix("CREATE ").unwrap_or(sql),
    };
    let mut out = "CREATE ".to_owned();
    if let Some(text) = comment {
        out.push_str(&marked_json(COMMENT_MARK, &text));
        out.push(' ');
    }
    if let Some(acl) = acl {
        out.push_str(&marked_json(ACL_MARK, &acl));
        out.push(' ');
    }
    out.push_str(body);
    out
}

/// The CREATE text `sql` with `text` as its comment (none for `None`).
pub(crate) fn with_comment(sql: &str, text: Option<&str>) -> String {
    with_marks(sql, text, acl_mark_in(sql).as_deref())
}

/// The CREATE text of a view, sequence or materialized view with `acl` as its privileges.
pub(crate) fn with_acl(sql: &str, acl: &str) -> String {
    with_marks(sql, comment_in(sql).as_deref(), Some(acl))
}

/// The identity kind (`a` GENERATED ALWAYS, `d` BY DEFAULT) an identity column's default
/// `nextval('<name>', '<kind>')` passes.
pub(crate) fn identity_kind(default: &str) -> Option<String> {
    next_value_arguments(default)?.1
}

/// The string arguments of a column default that calls nextval.
pub(crate) fn next_value_arguments(default: &str) -> Option<(String, Option<String>)> {
    let inner = default
        .trim()
        .trim_start_matches('(')
        .strip_prefix("nextval(")?;
    let (first, rest) = string_literal_at(inner)?;
    let rest = rest.trim_start();
    let second = match rest.strip_prefix(',') {
        Some(rest) => Some(string_literal_at(rest.trim_start())?.0),
        None => None,
    };
    Some((first, second))
}

/// The SQL string literal `text` begins with, and what follows it.
fn string_literal_at(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('\'')?;
    let mut at = 0;
    loop {
        let quote = at + body[at..].find('\'')?;
        if body[quote + 1..].starts_with('\'') {
            at = quote + 2;
            continue;
        }
        return Some((body[..quote].replace("''", "'"), &body[quote + 1..]));
    }
}

/// A relation's name as regclass input reads it, each part unquoted or folded to lower
/// case: `t` or `public.t` is `t`, `s.t` of another schema SQLite's `s.t`
/// (objects/schemas.rs).
pub(crate) fn relation_name(text: &str) -> String {
    let (mut parts, mut part, mut quoted_part, mut in_quotes) =
        (Vec::new(), String::new(), false, false);
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                part.push('"');
                chars.next();
            }
            '"' => {
                in_quotes = !in_quotes;
                quoted_part = true;
            }
            '.' if !in_quotes => {
                parts.push(std::mem::take(&mut part));
                quoted_part = false;
            }
            c if in_quotes || quoted_part => part.push(c),
            c => part.push(c.to_ascii_lowercase()),
        }
    }
    parts.push(part);
    match parts.as_slice() {
        [schema, name] if schema != "public" && schema != "pg_catalog" => {
            format!("{schema}.{name}")
        }
        _ => parts.pop().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_rides_after_create_and_comes_back() {
        let view = "CREATE VIEW \"v\" AS SELECT 1 /* litescale:postgres SELECT 1 */";
        let commented = with_comment(view, Some("it's a */ view"));
        assert!(commented.starts_with("CREATE /* litescale:comment "));
        assert_eq!(comment_in(&commented).as_deref(), Some("it's a */ view"));
        assert_eq!(without_marks(&commented), view);
        assert_eq!(comment_in(view), None);
        let replaced = with_comment(&commented, Some("other"));
        assert_eq!(comment_in(&replaced).as_deref(), Some("other"));
        assert_eq!(without_marks(&replaced), view);
        // A definition written again (a rename, ALTER SEQUENCE) keeps it.
        let renamed = "CREATE VIEW \"w\" AS SELECT 1";
        assert_eq!(
            comment_in(&carried(&commented, renamed)).as_deref(),
            Some("it's a */ view")
        );
        assert_eq!(carried(view, renamed), renamed);
    }

    #[test]
    fn names_read_as_regclass_reads_them() {
        assert_eq!(relation_name("public.T_id_seq"), "t_id_seq");
        assert_eq!(relation_name("\"My\"\"Seq\""), "My\"Seq");
        assert_eq!(relation_name("S.t_id_seq"), "s.t_id_seq");
        assert_eq!(relation_name("\"s.t_id_seq\""), "s.t_id_seq");
    }

    #[test]
    fn privileges_ride_beside_the_comment_or_in_a_table_s_check() {
        let view = "CREATE VIEW \"v\" AS SELECT 1";
        let granted = with_acl(
            &with_comment(view, Some("c")),
            "{postgres=arwdDxt/postgres}",
        );
        assert_eq!(
            acl_in(&granted).as_deref(),
            Some("{postgres=arwdDxt/postgres}")
        );
        assert_eq!(comment_in(&granted).as_deref(), Some("c"));
        let uncommented = with_comment(&granted, None);
        assert_eq!(
            acl_in(&uncommented).as_deref(),
            Some("{postgres=arwdDxt/postgres}")
        );
        assert_eq!(without_marks(&granted), view);
        let renamed = carried(&granted, "CREATE VIEW \"w\" AS SELECT 1");
        assert_eq!(acl_in(&renamed), acl_in(&granted));
        assert_eq!(comment_in(&renamed).as_deref(), Some("c"));

        let table = "CREATE TABLE \"t\" (a INT, CHECK (a > 0)) STRICT";
        assert_eq!(acl_in(table), None);
        let once = table_with_acl(table, "{=r/postgres,o'k=r/postgres}").unwrap();
        assert_eq!(
            once,
            "CREATE TABLE \"t\" (a INT, CHECK (a > 0), CONSTRAINT \"litescale_acl\" \
             CHECK ('{=r/postgres,o''k=r/postgres}' IS NOT NULL)) STRICT"
        );
        let twice = table_with_acl(&once, "{}").unwrap();
        assert_eq!(acl_in(&twice).as_deref(), Some("{}"));
        assert_eq!(twice.matches("litescale_acl").count(), 1);
    }
}
