//! The marks litescale writes into the texts SQLite keeps of what it makes, read back by
//! the catalog here and written by the objects (engine/objects): JSON in a comment
//! (a sequence's parameters, a materialized view's queries, an object's COMMENT ON text
//! after `CREATE`), and the default of an identity column, `nextval('<sequence>', '<kind>')`.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where the text of a view, index, sequence or materialized view keeps its COMMENT ON
/// text, right after `CREATE` (engine/objects/comments.rs).
const COMMENT_MARK: &str = "/* litescale:comment ";

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
    read_marked(&sql[..mark_end(sql)?], COMMENT_MARK)
}

/// `sql` without its comment, as the object's definition is shown.
pub(crate) fn without_comment(sql: &str) -> String {
    with_comment(sql, None)
}

/// `new`, the CREATE text written over `old`'s object, keeping `old`'s comment.
pub(crate) fn carried(old: &str, new: &str) -> String {
    match comment_in(old) {
        Some(text) if comment_in(new).is_none() => with_comment(new, Some(&text)),
        _ => new.to_owned(),
    }
}

/// Where the comment after `CREATE` ends, if the text has one.
fn mark_end(sql: &str) -> Option<usize> {
    let rest = sql.strip_prefix("CREATE ")?;
    if !rest.starts_with(COMMENT_MARK) {
        return None;
    }
    // A JSON string holds no `*/` (marked_json writes `*\/`).
    Some("CREATE ".len() + rest.find(" */")? + " */".len())
}

/// The CREATE text `sql` with `text` as its comment (none for `None`).
pub(crate) fn with_comment(sql: &str, text: Option<&str>) -> String {
    let body = match mark_end(sql) {
        Some(end) => sql[end..].trim_start(),
        None => sql.strip_prefix("CREATE ").unwrap_or(sql),
    };
    match text {
        Some(text) => format!("CREATE {} {body}", marked_json(COMMENT_MARK, &text)),
        None => format!("CREATE {body}"),
    }
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

#[cfg(test)]
mod tests {
    use super::{carried, comment_in, with_comment, without_comment};

    #[test]
    fn a_comment_rides_after_create_and_comes_back() {
        let view = "CREATE VIEW \"v\" AS SELECT 1 /* litescale:postgres SELECT 1 */";
        let commented = with_comment(view, Some("it's a */ view"));
        assert!(commented.starts_with("CREATE /* litescale:comment "));
        assert_eq!(comment_in(&commented).as_deref(), Some("it's a */ view"));
        assert_eq!(without_comment(&commented), view);
        assert_eq!(comment_in(view), None);
        let replaced = with_comment(&commented, Some("other"));
        assert_eq!(comment_in(&replaced).as_deref(), Some("other"));
        assert_eq!(without_comment(&replaced), view);
        // A definition written again (a rename, ALTER SEQUENCE) keeps it.
        let renamed = "CREATE VIEW \"w\" AS SELECT 1";
        assert_eq!(
            comment_in(&carried(&commented, renamed)).as_deref(),
            Some("it's a */ view")
        );
        assert_eq!(carried(view, renamed), renamed);
    }
}
