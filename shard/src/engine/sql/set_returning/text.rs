//! The functions that answer the parts of a string: regexp_matches,
//! regexp_split_to_table and string_to_table.

use rusqlite::types::Value;

use super::{Rows, no_rows, one_column, text_of};
use crate::engine::sql::arrays::render;
use crate::engine::sql::text::regex::{compile, match_groups, parse_flags, split_parts};

/// The string, the pattern and the flags of a regular-expression call; `None` when the
/// string or pattern is NULL.
fn regex_args(args: &[Value]) -> rusqlite::Result<Option<(String, regex::Regex, bool)>> {
    let (Some(s), Some(pattern)) = (
        args.first().and_then(text_of),
        args.get(1).and_then(text_of),
    ) else {
        return Ok(None);
    };
    let flags = parse_flags(args.get(2).and_then(text_of).as_deref())?;
    Ok(Some((
        s,
        compile(&pattern, flags.insensitive)?,
        flags.global,
    )))
}

/// regexp_matches(s, pattern [, flags]): the groups of the first match, or of every match
/// with `g`, each as text[].
pub(super) fn regexp_matches(args: Vec<Value>) -> rusqlite::Result<Rows> {
    let Some((s, re, global)) = regex_args(&args)? else {
        return Ok(no_rows());
    };
    let matches: Vec<Value> = re
        .captures_iter(&s)
        .take(if global { usize::MAX } else { 1 })
        .map(|caps| Value::Text(render(&match_groups(&caps))))
        .collect();
    Ok(one_column(matches))
}

/// regexp_split_to_table(s, pattern [, flags]).
pub(super) fn regexp_split_to_table(args: Vec<Value>) -> rusqlite::Result<Rows> {
    let Some((s, re, global)) = regex_args(&args)? else {
        return Ok(no_rows());
    };
    if global {
        return Err(crate::engine::sql::typecheck::postgres_error(
            "22023",
            "regexp_split_to_table() does not support the \"global\" option",
        ));
    }
    Ok(one_column(
        split_parts(&re, &s).into_iter().map(Value::Text),
    ))
}

/// string_to_table(s, delimiter [, null_string]): a NULL delimiter splits into
/// characters, an empty one not at all; parts equal to `null_string` are NULL.
pub(super) fn string_to_table(args: Vec<Value>) -> Rows {
    let Some(s) = args.first().and_then(text_of).filter(|s| !s.is_empty()) else {
        return no_rows();
    };
    let null_string = args.get(2).and_then(text_of);
    let parts: Vec<String> = match args.get(1).and_then(text_of) {
        None => s.chars().map(String::from).collect(),
        Some(d) if d.is_empty() => vec![s],
        Some(d) => s.split(d.as_str()).map(str::to_owned).collect(),
    };
    one_column(
        parts
            .into_iter()
            .map(move |p| {
                if Some(&p) == null_string.as_ref() {
                    Value::Null
                } else {
                    Value::Text(p)
                }
            })
            .collect::<Vec<_>>(),
    )
}
