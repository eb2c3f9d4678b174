//! The functions that answer the parts of one value: unnest, _pg_expandarray and
//! pg_options_to_table of an array, and the json/jsonb members, elements and keys
//! functions.

use rusqlite::types::Value;

use super::{Rows, built, no_rows, one_column, text_of};
use crate::engine::sql::arrays::{element_value, elements};
use crate::engine::sql::json::value::{Jsonb, Level, as_text, level};
use crate::engine::sql::typecheck::postgres_error;

fn nullable(element: Option<String>) -> Value {
    element.map_or(Value::Null, element_value)
}

/// unnest(array): its elements.
pub(super) fn unnest(args: Vec<Value>) -> Rows {
    let Some(array) = args.first().and_then(text_of) else {
        return no_rows();
    };
    one_column(elements(&array).into_iter().map(nullable))
}

/// pg_options_to_table(options): each `name=value` of a reloptions-style array as
/// (option_name, option_value).
pub(super) fn options_to_table(args: Vec<Value>) -> Rows {
    let Some(array) = args.first().and_then(text_of) else {
        return no_rows();
    };
    built(
        elements(&array)
            .into_iter()
            .flatten()
            .map(|option| match option.split_once('=') {
                Some((name, value)) => {
                    vec![Value::Text(name.to_owned()), Value::Text(value.to_owned())]
                }
                None => vec![Value::Text(option), Value::Null],
            })
            .collect(),
    )
}

/// information_schema._pg_expandarray(array): (element, its ordinal from 1).
pub(super) fn expand_array(args: Vec<Value>) -> Rows {
    let Some(array) = args.first().and_then(text_of) else {
        return no_rows();
    };
    built(
        elements(&array)
            .into_iter()
            .zip(1..)
            .map(|(e, n)| vec![nullable(e), Value::Integer(n)])
            .collect(),
    )
}

fn not_json() -> rusqlite::Error {
    postgres_error("22P02", "invalid input syntax for type json")
}

/// A json or jsonb value's parts, as the function that asks for them sees them.
enum Parts {
    /// Members as (key, value): jsonb's in its key order, json's as written.
    Object(Vec<(String, Value)>),
    Array(Vec<Value>),
    Scalar,
}

/// The first level of the function's json argument, each part in the form the function
/// answers it: jsonb's normalised text, json's as written, `_text`'s unquoted (NULL for a
/// JSON null). `None` for a NULL argument.
fn parts(name: &str, args: &[Value]) -> rusqlite::Result<Option<Parts>> {
    let Some(text) = args.first().and_then(text_of) else {
        return Ok(None);
    };
    let unquoted = name.ends_with("_text");
    if name.starts_with("jsonb") {
        let form = |v: &Jsonb| match v {
            Jsonb::Null if unquoted => Value::Null,
            Jsonb::String(s) if unquoted => Value::Text(s.clone()),
            other => Value::Text(other.render()),
        };
        return Ok(Some(match Jsonb::parse(&text).ok_or_else(not_json)? {
            Jsonb::Object(members) => {
                Parts::Object(members.iter().map(|(k, v)| (k.clone(), form(v))).collect())
            }
            Jsonb::Array(items) => Parts::Array(items.iter().map(form).collect()),
            _ => Parts::Scalar,
        }));
    }
    let form = |raw: &str| {
        if unquoted {
            as_text(raw).map_or(Value::Null, Value::Text)
        } else {
            Value::Text(raw.trim().to_owned())
        }
    };
    Ok(Some(match level(&text).ok_or_else(not_json)? {
        Level::Object(members) => Parts::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), form(v.get())))
                .collect(),
        ),
        Level::Array(items) => Parts::Array(items.iter().map(|v| form(v.get())).collect()),
        Level::Scalar => Parts::Scalar,
    }))
}

/// What Postgres says when a json function meets the wrong kind of value.
fn cannot(what: &str, name: &str, found: &Parts) -> rusqlite::Error {
    let kind = match found {
        Parts::Object(_) => "an object",
        Parts::Array(_) => "an array",
        Parts::Scalar => "a scalar",
    };
    postgres_error("22023", &format!("cannot {what} {name} on {kind}"))
}

/// json(b)_each(_text): (key, value) per member of an object.
pub(super) fn json_each(name: &str, args: Vec<Value>) -> rusqlite::Result<Rows> {
    Ok(match parts(name, &args)? {
        None => no_rows(),
        Some(Parts::Object(members)) => built(
            members
                .into_iter()
                .map(|(k, v)| vec![Value::Text(k), v])
                .collect(),
        ),
        Some(other) => return Err(cannot("call", name, &other)),
    })
}

/// json(b)_array_elements(_text): each element of an array.
pub(super) fn json_array_elements(name: &str, args: Vec<Value>) -> rusqlite::Result<Rows> {
    Ok(match parts(name, &args)? {
        None => no_rows(),
        Some(Parts::Array(items)) => one_column(items),
        Some(other) => {
            let kind = if matches!(other, Parts::Object(_)) {
                "an object"
            } else {
                "a scalar"
            };
            return Err(postgres_error(
                "22023",
                &format!("cannot extract elements from {kind}"),
            ));
        }
    })
}

/// json(b)_object_keys: each key of an object.
pub(super) fn json_object_keys(name: &str, args: Vec<Value>) -> rusqlite::Result<Rows> {
    Ok(match parts(name, &args)? {
        None => no_rows(),
        Some(Parts::Object(members)) => {
            one_column(members.into_iter().map(|(k, _)| Value::Text(k)))
        }
        Some(other) => return Err(cannot("call", name, &other)),
    })
}
