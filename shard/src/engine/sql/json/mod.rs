//! json and jsonb as SQL functions: the casts (`pg_json`, `pg_jsonb`), the operators the
//! router rewrites into calls (`->`, `->>`, `#>`, `#>>`, `@>`, `?`, `||`, `-`, `#-`), and
//! Postgres' json functions. Values are text; every JSON result carries SQLite's JSON
//! subtype, so a function that embeds it (jsonb_build_object, json_agg) embeds it as JSON
//! rather than as a string. `value` reads and writes the texts; `build` makes new ones.

mod build;
pub mod value;

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;

use super::array_functions::contains_all;
use super::arrays;
use super::typecheck::postgres_error as error;
use value::{Jsonb, as_text, element, level, member};

/// SQLite's subtype for JSON text ('J'), which its own json functions also set and read.
const JSON_SUBTYPE: std::ffi::c_uint = 74;

fn invalid_json() -> rusqlite::Error {
    error("22P02", "invalid input syntax for type json")
}

/// A JSON text result, marked as JSON.
type JsonResult = (Option<String>, Option<std::ffi::c_uint>);

fn json_result(text: Option<String>) -> JsonResult {
    (text, Some(JSON_SUBTYPE))
}

/// Argument `i` as JSON text (a number is its own text); `None` for NULL.
fn text_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    })
}

fn jsonb_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Jsonb>> {
    text_arg(ctx, i)?
        .map(|t| Jsonb::parse(&t).ok_or_else(invalid_json))
        .transpose()
}

/// `j -> key` / `j -> index` as the member's text; `None` when absent.
fn get<'a>(json: &'a str, step: ValueRef<'_>) -> Option<&'a str> {
    match step {
        ValueRef::Integer(i) => element(json, i),
        ValueRef::Text(k) => member(json, std::str::from_utf8(k).ok()?),
        _ => None,
    }
}

/// `j #> '{a,0,b}'`: each step a key of an object or an index of an array.
fn get_path<'a>(json: &'a str, path: &str) -> Option<&'a str> {
    let mut at = json;
    for step in arrays::elements(path) {
        let step = step?;
        at = match level(at)? {
            value::Level::Array(_) => element(at, step.trim().parse().ok()?)?,
            value::Level::Object(_) => member(at, &step)?,
            value::Level::Scalar => return None,
        };
    }
    Some(at)
}

/// `->` / `#>` results: JSON text, or with `as_text` (`->>`, `#>>`) the SQL text.
fn extracted(found: Option<&str>, as_text_flag: bool) -> JsonResult {
    match found {
        Some(raw) if as_text_flag => (as_text(raw), None),
        Some(raw) => json_result(Some(raw.trim().to_owned())),
        None => (None, None),
    }
}

/// A path's steps (`'{a,0}'`); NULL steps are Postgres' 22004.
fn path_steps(path: &str) -> rusqlite::Result<Vec<String>> {
    arrays::elements(path)
        .into_iter()
        .map(|s| s.ok_or_else(|| error("22004", "path element at position 1 is null")))
        .collect()
}

/// The place a path names inside `j`, made by `edit` there (jsonb_set, jsonb_insert, #-).
fn edit_at(
    j: &mut Jsonb,
    steps: &[String],
    edit: &mut dyn FnMut(&mut Jsonb, &str) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let Some((first, rest)) = steps.split_first() else {
        return Ok(());
    };
    if rest.is_empty() {
        return edit(j, first);
    }
    let child = match j {
        Jsonb::Object(o) => o.iter_mut().find(|(k, _)| k == first).map(|(_, v)| v),
        Jsonb::Array(a) => index_in(a.len(), first)?.and_then(|i| a.get_mut(i)),
        _ => None,
    };
    match child {
        Some(c) => edit_at(c, rest, edit),
        None => Ok(()),
    }
}

/// A path step as an index into an array of `len` (negative from the end); 22P02 when it
/// is not an integer.
fn index_in(len: usize, step: &str) -> rusqlite::Result<Option<usize>> {
    let i: i64 = step.trim().parse().map_err(|_| {
        error(
            "22P02",
            &format!("path element at position 1 is not an integer: \"{step}\""),
        )
    })?;
    let i = if i < 0 { len as i64 + i } else { i };
    Ok(usize::try_from(i).ok().filter(|i| *i < len))
}

/// `a || b` on jsonb: objects merge (b's keys win), anything else concatenates as arrays.
fn concat(a: Jsonb, b: Jsonb) -> Jsonb {
    match (a, b) {
        (Jsonb::Object(mut x), Jsonb::Object(y)) => {
            x.extend(y);
            Jsonb::object(x)
        }
        (a, b) => {
            let items = |j: Jsonb| match j {
                Jsonb::Array(v) => v,
                other => vec![other],
            };
            let mut v = items(a);
            v.extend(items(b));
            Jsonb::Array(v)
        }
    }
}

/// `j - key`, `j - index`, `j - keys[]`.
fn delete(j: Jsonb, what: ValueRef<'_>, keys_array: bool) -> rusqlite::Result<Jsonb> {
    let keys: Vec<String> = match what {
        ValueRef::Text(t) if keys_array => arrays::elements(&String::from_utf8_lossy(t))
            .into_iter()
            .flatten()
            .collect(),
        ValueRef::Text(t) => vec![String::from_utf8_lossy(t).into_owned()],
        ValueRef::Integer(i) => {
            let Jsonb::Array(mut a) = j else {
                return Err(match j {
                    Jsonb::Object(_) => {
                        error("22023", "cannot delete from object using integer index")
                    }
                    _ => error("22023", "cannot delete from scalar"),
                });
            };
            if let Some(at) = index_in(a.len(), &i.to_string())? {
                a.remove(at);
            }
            return Ok(Jsonb::Array(a));
        }
        _ => return Ok(j),
    };
    Ok(match j {
        Jsonb::Object(o) => {
            Jsonb::Object(o.into_iter().filter(|(k, _)| !keys.contains(k)).collect())
        }
        Jsonb::Array(a) => Jsonb::Array(
            a.into_iter()
                .filter(|v| !matches!(v, Jsonb::String(s) if keys.contains(s)))
                .collect(),
        ),
        _ => return Err(error("22023", "cannot delete from scalar")),
    })
}

/// `j #- path`: the member or element the path names removed.
fn delete_path(mut j: Jsonb, path: &str) -> rusqlite::Result<Jsonb> {
    if !matches!(j, Jsonb::Array(_) | Jsonb::Object(_)) {
        return Err(error("22023", "cannot delete path in scalar"));
    }
    edit_at(&mut j, &path_steps(path)?, &mut |parent, last| {
        match parent {
            Jsonb::Object(o) => o.retain(|(k, _)| k != last),
            Jsonb::Array(a) => {
                if let Some(i) = index_in(a.len(), last)? {
                    a.remove(i);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(j)
}

/// `a - b` where the plan did not know `a`'s type: jsonb's delete (of a key, a string
/// element or an index) when `a` is the text of a JSON object or array, as no other
/// type's `-` takes such text; `None` otherwise.
pub(crate) fn untyped_delete(a: &str, b: ValueRef<'_>) -> Option<rusqlite::Result<String>> {
    if !a.trim_start().starts_with(['{', '['])
        || !matches!(b, ValueRef::Text(_) | ValueRef::Integer(_))
    {
        return None;
    }
    let j = Jsonb::parse(a)?;
    Some(delete(j, b, false).map(|j| j.render()))
}

fn register_operators(c: &Connection, flags: FunctionFlags) -> rusqlite::Result<()> {
    let out = flags | FunctionFlags::SQLITE_RESULT_SUBTYPE;
    // `x::json`: checked, kept as written.
    c.create_scalar_function("pg_json", 1, out, |ctx| {
        let text = text_arg(ctx, 0)?;
        if let Some(t) = &text {
            level(t).ok_or_else(invalid_json)?;
        }
        Ok(json_result(text))
    })?;
    // A value the statement shows to be a boolean (SQLite's 0/1) as JSON's true/false.
    c.create_scalar_function("pg_json_bool", 1, out, |ctx| {
        Ok(json_result(
            ctx.get::<Option<bool>>(0)?.map(|b| b.to_string()),
        ))
    })?;
    // `x::jsonb`: normalised.
    c.create_scalar_function("pg_jsonb", 1, out, |ctx| {
        Ok(json_result(jsonb_arg(ctx, 0)?.map(|j| j.render())))
    })?;
    for (name, as_text_flag) in [("pg_json_get", false), ("pg_json_get_text", true)] {
        c.create_scalar_function(name, 2, out, move |ctx| {
            let json = text_arg(ctx, 0)?;
            Ok(extracted(
                json.as_deref().and_then(|j| get(j, ctx.get_raw(1))),
                as_text_flag,
            ))
        })?;
    }
    for (name, as_text_flag) in [("pg_json_path", false), ("pg_json_path_text", true)] {
        c.create_scalar_function(name, 2, out, move |ctx| {
            let (json, path) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?);
            Ok(extracted(
                json.as_deref()
                    .zip(path.as_deref())
                    .and_then(|(j, p)| get_path(j, p)),
                as_text_flag,
            ))
        })?;
    }
    c.create_scalar_function("pg_jsonb_contains", 2, flags, |ctx| {
        Ok(match (jsonb_arg(ctx, 0)?, jsonb_arg(ctx, 1)?) {
            (Some(a), Some(b)) => Some(a.contains(&b, true)),
            _ => None,
        })
    })?;
    // `a @> b` where the statement does not say whether a and b are jsonb or arrays: JSON
    // texts are jsonb (`{}` is both, and contains or is contained alike either way).
    c.create_scalar_function("pg_contains", 2, flags, |ctx| {
        let (Some(a), Some(b)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(match (Jsonb::parse(&a), Jsonb::parse(&b)) {
            (Some(x), Some(y)) => x.contains(&y, true),
            _ => contains_all(&arrays::elements(&a), &arrays::elements(&b)),
        }))
    })?;
    // `j ? k`, `j ?| keys`, `j ?& keys`.
    for (name, any) in [
        ("pg_jsonb_exists_any", true),
        ("pg_jsonb_exists_all", false),
    ] {
        c.create_scalar_function(name, 2, flags, move |ctx| {
            let (Some(j), Some(keys)) = (jsonb_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
                return Ok(None);
            };
            let mut present = arrays::elements(&keys)
                .into_iter()
                .flatten()
                .map(|k| j.has_key(&k));
            Ok(Some(if any {
                present.any(|p| p)
            } else {
                present.all(|p| p)
            }))
        })?;
    }
    c.create_scalar_function("pg_jsonb_exists", 2, flags, |ctx| {
        let (Some(j), Some(key)) = (jsonb_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(j.has_key(&key)))
    })?;
    c.create_scalar_function("pg_jsonb_concat", 2, out, |ctx| {
        Ok(json_result(
            match (jsonb_arg(ctx, 0)?, jsonb_arg(ctx, 1)?) {
                (Some(a), Some(b)) => Some(concat(a, b).render()),
                _ => None,
            },
        ))
    })?;
    for (name, keys_array) in [("pg_jsonb_delete", false), ("pg_jsonb_delete_keys", true)] {
        c.create_scalar_function(name, 2, out, move |ctx| {
            let Some(j) = jsonb_arg(ctx, 0)? else {
                return Ok(json_result(None));
            };
            if ctx.get_raw(1) == ValueRef::Null {
                return Ok(json_result(None));
            }
            Ok(json_result(Some(
                delete(j, ctx.get_raw(1), keys_array)?.render(),
            )))
        })?;
    }
    c.create_scalar_function("pg_jsonb_delete_path", 2, out, |ctx| {
        let (Some(j), Some(path)) = (jsonb_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(json_result(None));
        };
        Ok(json_result(Some(delete_path(j, &path)?.render())))
    })?;
    Ok(())
}

fn register_functions(c: &Connection, flags: FunctionFlags) -> rusqlite::Result<()> {
    let out = flags | FunctionFlags::SQLITE_RESULT_SUBTYPE;
    for name in ["jsonb_typeof", "json_typeof"] {
        c.create_scalar_function(name, 1, flags, |ctx| {
            Ok(jsonb_arg(ctx, 0)?.map(|j| j.type_name()))
        })?;
    }
    for name in ["jsonb_array_length", "json_array_length"] {
        c.create_scalar_function(name, 1, flags, |ctx| match jsonb_arg(ctx, 0)? {
            None => Ok(None),
            Some(Jsonb::Array(a)) => Ok(Some(a.len() as i64)),
            Some(Jsonb::Object(_)) => Err(error("22023", "cannot get array length of a non-array")),
            Some(_) => Err(error("22023", "cannot get array length of a scalar")),
        })?;
    }
    c.create_scalar_function("jsonb_strip_nulls", 1, out, |ctx| {
        Ok(json_result(
            jsonb_arg(ctx, 0)?.map(|j| j.strip_nulls().render()),
        ))
    })?;
    c.create_scalar_function("json_strip_nulls", 1, out, |ctx| {
        let Some(text) = text_arg(ctx, 0)? else {
            return Ok(json_result(None));
        };
        Ok(json_result(Some(
            value::json_strip_nulls(&text).ok_or_else(invalid_json)?,
        )))
    })?;
    c.create_scalar_function("jsonb_pretty", 1, flags, |ctx| {
        Ok(jsonb_arg(ctx, 0)?.map(|j| j.pretty()))
    })?;
    // jsonb_set(target, path, new [, create_if_missing]).
    for arity in [3, 4] {
        c.create_scalar_function("jsonb_set", arity, out, |ctx| edit_path(ctx, Edit::Set))?;
        c.create_scalar_function("jsonb_insert", arity, out, |ctx| {
            edit_path(ctx, Edit::Insert)
        })?;
    }
    for arity in [3, 4, 5] {
        c.create_scalar_function("jsonb_set_lax", arity, out, |ctx| jsonb_set_lax(ctx))?;
    }
    Ok(())
}

const NULL_TREATMENTS: &str = r#"null_value_treatment must be "delete_key", "return_target", "use_json_null", or "raise_exception""#;

/// jsonb_set_lax(target, path, new [, create_if_missing [, null_value_treatment]]): as
/// jsonb_set, but a SQL NULL `new` is handled as the treatment says (default: JSON null).
fn jsonb_set_lax(ctx: &Context<'_>) -> rusqlite::Result<JsonResult> {
    if ctx.get_raw(2) != ValueRef::Null {
        return edit_path(ctx, Edit::Set);
    }
    let treatment = if ctx.len() > 4 {
        text_arg(ctx, 4)?.ok_or_else(|| error("22004", NULL_TREATMENTS))?
    } else {
        "use_json_null".to_owned()
    };
    let (Some(j), Some(path)) = (jsonb_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
        return Ok(json_result(None));
    };
    let create = create_if_missing(ctx)?;
    let result = match treatment.as_str() {
        "use_json_null" => set_path(j, &path, Jsonb::Null, create, Edit::Set)?,
        "delete_key" => delete_path(j, &path)?,
        "return_target" => j,
        "raise_exception" => return Err(error("22004", "JSON value must not be null")),
        _ => {
            return Err(error("22023", NULL_TREATMENTS));
        }
    };
    Ok(json_result(Some(result.render())))
}

enum Edit {
    Set,
    Insert,
}

/// jsonb_set's fourth argument, true when left out.
fn create_if_missing(ctx: &Context<'_>) -> rusqlite::Result<bool> {
    Ok(ctx.len() == 3 || ctx.get::<Option<bool>>(3)?.unwrap_or(false))
}

/// jsonb_set / jsonb_insert: the new value placed at the path.
fn edit_path(ctx: &Context<'_>, how: Edit) -> rusqlite::Result<JsonResult> {
    let (Some(j), Some(path), Some(new)) =
        (jsonb_arg(ctx, 0)?, text_arg(ctx, 1)?, jsonb_arg(ctx, 2)?)
    else {
        return Ok(json_result(None));
    };
    // create_if_missing (jsonb_set) / insert_after (jsonb_insert).
    let flag = match how {
        Edit::Set => create_if_missing(ctx)?,
        Edit::Insert => ctx.len() > 3 && ctx.get::<Option<bool>>(3)?.unwrap_or(false),
    };
    Ok(json_result(Some(
        set_path(j, &path, new, flag, how)?.render(),
    )))
}

/// `new` placed at `path` in `j`; `flag` is create_if_missing (Set) or insert_after (Insert).
fn set_path(
    mut j: Jsonb,
    path: &str,
    new: Jsonb,
    flag: bool,
    how: Edit,
) -> rusqlite::Result<Jsonb> {
    let create = matches!(how, Edit::Set) && flag;
    if !matches!(j, Jsonb::Array(_) | Jsonb::Object(_)) {
        return Err(error("22023", "cannot set path in scalar"));
    }
    edit_at(&mut j, &path_steps(path)?, &mut |parent, last| {
        let new = new.clone();
        match parent {
            Jsonb::Object(o) => match (o.iter_mut().find(|(k, _)| k == last), &how) {
                (Some(_), Edit::Insert) => {
                    return Err(error("22023", "cannot replace existing key"));
                }
                (Some(slot), Edit::Set) => slot.1 = new,
                (None, _) if create || matches!(how, Edit::Insert) => {
                    let mut members = std::mem::take(o);
                    members.push((last.to_owned(), new));
                    *parent = Jsonb::object(members);
                }
                (None, _) => {}
            },
            Jsonb::Array(a) => {
                let i: i64 = last.trim().parse().map_err(|_| {
                    error(
                        "22P02",
                        &format!("path element at position 1 is not an integer: \"{last}\""),
                    )
                })?;
                let len = a.len() as i64;
                let at = if i < 0 { len + i } else { i };
                match how {
                    Edit::Set if (0..len).contains(&at) => a[at as usize] = new,
                    Edit::Set if create => {
                        if at < 0 {
                            a.insert(0, new)
                        } else {
                            a.push(new)
                        }
                    }
                    Edit::Set => {}
                    Edit::Insert => {
                        let at = (at + flag as i64).clamp(0, len) as usize;
                        a.insert(at, new);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(j)
}

pub(crate) fn register(c: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_SUBTYPE;
    register_operators(c, flags)?;
    register_functions(c, flags)?;
    build::register(c, flags)
}

/// A SQLite value as the JSON it stands for: JSON-marked text as JSON, numbers as numbers,
/// other text as a string.
fn to_jsonb(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Jsonb> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => Jsonb::Null,
        ValueRef::Integer(n) => Jsonb::Number(n.to_string()),
        ValueRef::Real(f) => Jsonb::Number(f.to_string()),
        ValueRef::Text(t) if ctx.get_subtype(i) == JSON_SUBTYPE => {
            Jsonb::parse(&String::from_utf8_lossy(t)).ok_or_else(invalid_json)?
        }
        ValueRef::Text(t) => Jsonb::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Jsonb::String(format!(
            "\\x{}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        )),
    })
}

/// A SQLite value as json (not jsonb) writes it: JSON-marked text verbatim.
fn to_json_text(ctx: &Context<'_>, i: usize) -> rusqlite::Result<String> {
    match ctx.get_raw(i) {
        ValueRef::Text(t) if ctx.get_subtype(i) == JSON_SUBTYPE => {
            Ok(String::from_utf8_lossy(t).into_owned())
        }
        _ => Ok(to_jsonb(ctx, i)?.render()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value as SqlValue;

    fn q(sql: &str) -> SqlValue {
        let c = Connection::open_in_memory().unwrap();
        arrays::register(&c).unwrap();
        register(&c).unwrap();
        c.query_row(sql, [], |r| r.get::<_, SqlValue>(0)).unwrap()
    }

    fn t(s: &str) -> SqlValue {
        SqlValue::Text(s.to_owned())
    }

    #[test]
    fn operators_answer_as_postgres() {
        assert_eq!(
            q(r#"SELECT pg_json_get(pg_json('{"a": {"y" :  1}}'), 'a')"#),
            t(r#"{"y" :  1}"#)
        );
        assert_eq!(q("SELECT pg_json_get_text('[1,2,3]', -1)"), t("3"));
        assert_eq!(q("SELECT pg_json_get('[1,2,3]', 5)"), SqlValue::Null);
        assert_eq!(
            q(r#"SELECT pg_json_path_text('{"a":[1,{"b":"x"}]}', '{a,1,b}')"#),
            t("x")
        );
        assert_eq!(
            q(r#"SELECT pg_jsonb_concat('{"a":1}', '{"b":2}')"#),
            t(r#"{"a": 1, "b": 2}"#)
        );
        assert_eq!(q("SELECT pg_jsonb_delete('[1,2,3]', 1)"), t("[1, 3]"));
        assert_eq!(
            q(r#"SELECT pg_jsonb_delete_keys('{"a":1,"b":2}', '{a,b}')"#),
            t("{}")
        );
        assert_eq!(
            q(r#"SELECT pg_jsonb_delete_path('{"a":{"b":1,"c":2}}', '{a,b}')"#),
            t(r#"{"a": {"c": 2}}"#)
        );
        assert_eq!(
            untyped_delete(r#"{"a": 1, "b": 2}"#, ValueRef::Text(b"a")).map(Result::unwrap),
            Some(r#"{"b": 2}"#.to_owned())
        );
        assert!(untyped_delete("{1,2}", ValueRef::Integer(1)).is_none());
        assert_eq!(
            q(r#"SELECT pg_jsonb_exists_any('{"a":1}', '{b,a}')"#),
            SqlValue::Integer(1)
        );
    }

    #[test]
    fn functions_answer_as_postgres() {
        // As a window function, a sliding frame drops its oldest elements.
        assert_eq!(
            q(
                "SELECT group_concat(a, ' ') FROM (SELECT pg_jsonb_agg(v) OVER (ORDER BY v \
               ROWS 1 PRECEDING) AS a FROM (SELECT 1 AS v UNION SELECT 2 UNION SELECT 3))"
            ),
            t("[1] [1, 2] [2, 3]")
        );
        assert_eq!(
            q(r#"SELECT jsonb_set('{"a":1}', '{b}', '2')"#),
            t(r#"{"a": 1, "b": 2}"#)
        );
        assert_eq!(
            q("SELECT jsonb_insert('[1,2]', '{1}', '9')"),
            t("[1, 9, 2]")
        );
        assert_eq!(
            q(r#"SELECT jsonb_strip_nulls('{"a":null,"b":[null]}')"#),
            t(r#"{"b": [null]}"#)
        );
        assert_eq!(q("SELECT jsonb_typeof('1')"), t("number"));
        assert_eq!(
            q(r#"SELECT json_strip_nulls('{"a": null, "b": {"c": null, "d": 1}, "b": [null]}')"#),
            t(r#"{"b":{"d":1},"b":[null]}"#)
        );
        assert_eq!(
            q(r#"SELECT jsonb_set_lax('{"a": 1}', '{a}', NULL, true, 'delete_key')"#),
            t("{}")
        );
        assert_eq!(
            q(r#"SELECT jsonb_set_lax('{"a": 1}', '{a}', NULL)"#),
            t(r#"{"a": null}"#)
        );
        assert_eq!(
            q(r#"SELECT jsonb_set_lax('{"a": 1}', '{a}', '2')"#),
            t(r#"{"a": 2}"#)
        );
    }

    #[test]
    fn json_is_built_from_text_arrays() {
        assert_eq!(
            q("SELECT pg_array_to_json('{1,2.50,NULL}', 'number', 0)"),
            t("[1,2.50,null]")
        );
        assert_eq!(
            q(r#"SELECT pg_array_to_json('{t,"a b"}', 'text', 1)"#),
            t(r#"["t", "a b"]"#)
        );
        assert_eq!(
            q("SELECT pg_json_row('f1', 1, 'f2', pg_json_row('f1', 'x'))"),
            t(r#"{"f1":1,"f2":{"f1":"x"}}"#)
        );
        assert_eq!(
            q("SELECT pg_json_object('{a, 1, b, NULL}')"),
            t(r#"{"a" : "1", "b" : null}"#)
        );
        assert_eq!(
            q("SELECT pg_jsonb_object('{b, a}', '{1,2}')"),
            t(r#"{"a": "2", "b": "1"}"#)
        );
        // Arrays of two dimensions: nested JSON arrays, pairs as rows of two.
        assert_eq!(
            q("SELECT pg_array_to_json('{{1,5},{99,100}}', 'number', 0)"),
            t("[[1,5],[99,100]]")
        );
        assert_eq!(
            q("SELECT pg_array_to_json('{{{1}},{{2}}}', 'number', 1)"),
            t("[[[1]], [[2]]]")
        );
        assert_eq!(
            q("SELECT pg_jsonb_object('{{a, 1}, {b, 2}}')"),
            t(r#"{"a": "1", "b": "2"}"#)
        );
    }
}
