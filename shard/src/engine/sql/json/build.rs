//! JSON built from SQL values: json_build_object / _array (json's `{"a" : 1}` spacing and
//! jsonb's), json_object / jsonb_object from text arrays, to_json / to_jsonb (of arrays
//! too), the json aggregates.

use std::collections::VecDeque;

use rusqlite::Connection;
use rusqlite::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};

use super::super::arrays::{self, array_arg, array_value};
use super::value::{Jsonb, numeric, quote_into};
use super::{JsonResult, error, json_result, text_arg, to_json_text, to_jsonb};

/// An object key: any non-NULL value, as its text.
fn key(ctx: &Context<'_>, i: usize) -> rusqlite::Result<String> {
    text_arg(ctx, i)?.ok_or_else(|| error("22004", "null value not allowed for object key"))
}

fn even_arguments(ctx: &Context<'_>) -> rusqlite::Result<()> {
    if ctx.len() % 2 == 1 {
        return Err(error(
            "22023",
            "argument list must have even number of elements",
        ));
    }
    Ok(())
}

fn jsonb_build_object(ctx: &Context<'_>) -> rusqlite::Result<JsonResult> {
    even_arguments(ctx)?;
    let members = (0..ctx.len())
        .step_by(2)
        .map(|i| Ok((key(ctx, i)?, to_jsonb(ctx, i + 1)?)))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(json_result(Some(Jsonb::object(members).render())))
}

fn json_build_array(ctx: &Context<'_>) -> rusqlite::Result<JsonResult> {
    let items = (0..ctx.len())
        .map(|i| to_json_text(ctx, i))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(json_result(Some(format!("[{}]", items.join(", ")))))
}

fn jsonb_build_array(ctx: &Context<'_>) -> rusqlite::Result<JsonResult> {
    let items = (0..ctx.len())
        .map(|i| to_jsonb(ctx, i))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(json_result(Some(Jsonb::Array(items).render())))
}

/// json's `{"k" : v, ...}` from members already written as JSON; json_object_agg pads
/// the braces (`{ "k" : v }`).
fn json_object_text(members: &[(String, String)], pad: &str) -> String {
    let mut out = format!("{{{pad}");
    for (n, (k, v)) in members.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        quote_into(&mut out, k);
        out.push_str(" : ");
        out.push_str(v);
    }
    out.push_str(pad);
    out.push('}');
    out
}

fn json_build_object(ctx: &Context<'_>) -> rusqlite::Result<JsonResult> {
    even_arguments(ctx)?;
    let members = (0..ctx.len())
        .step_by(2)
        .map(|i| Ok((key(ctx, i)?, to_json_text(ctx, i + 1)?)))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(json_result(Some(json_object_text(&members, ""))))
}

/// row_to_json(row(...)): a row as json writes a record, `{"f1":1,"f2":"x"}`.
fn json_row(ctx: &Context<'_>) -> rusqlite::Result<JsonResult> {
    even_arguments(ctx)?;
    let mut out = String::from("{");
    for i in (0..ctx.len()).step_by(2) {
        if i > 0 {
            out.push(',');
        }
        quote_into(&mut out, &key(ctx, i)?);
        out.push(':');
        out.push_str(&to_json_text(ctx, i + 1)?);
    }
    out.push('}');
    Ok(json_result(Some(out)))
}

/// json_object(keys_and_values) / json_object(keys, values): string members; a NULL
/// value is JSON null. One array holds pairs one after another or as rows of two.
fn object_members(ctx: &Context<'_>) -> rusqlite::Result<Option<Vec<(String, Jsonb)>>> {
    let Some(first) = array_value(ctx, 0)? else {
        return Ok(None);
    };
    let pairs: Vec<(Option<String>, Option<String>)> = if ctx.len() == 2 {
        let Some(values) = array_value(ctx, 1)? else {
            return Ok(None);
        };
        if first.dims.len() > 1 || values.dims.len() > 1 {
            return Err(error("2202E", "wrong number of array subscripts"));
        }
        if values.items.len() != first.items.len() {
            return Err(error("2202E", "mismatched array dimensions"));
        }
        first.items.into_iter().zip(values.items).collect()
    } else {
        match first.dims.as_slice() {
            [_, 2] | [] => {}
            [n] if n % 2 == 0 => {}
            [_] => return Err(error("2202E", "array must have even number of elements")),
            [_, _] => return Err(error("2202E", "array must have two columns")),
            _ => return Err(error("2202E", "wrong number of array subscripts")),
        }
        first
            .items
            .chunks(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect()
    };
    pairs
        .into_iter()
        .map(|(k, v)| {
            let k = k.ok_or_else(|| error("22004", "null value not allowed for object key"))?;
            Ok((k, v.map_or(Jsonb::Null, Jsonb::String)))
        })
        .collect::<rusqlite::Result<Vec<_>>>()
        .map(Some)
}

/// to_json / to_jsonb / array_to_json of an array whose element type the router names
/// (`number`, `bool` or `text`): json writes `[1,2]`, jsonb `[1, 2]`.
fn array_to_json(ctx: &Context<'_>) -> rusqlite::Result<JsonResult> {
    let (Some(array), Some(class)) = (array_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
        return Ok(json_result(None));
    };
    let array = arrays::parse(&array)?;
    let items = array
        .items
        .into_iter()
        .map(|e| match (e, class.as_str()) {
            (None, _) => Jsonb::Null,
            (Some(n), "number") => Jsonb::Number(numeric(n.trim())),
            (Some(b), "bool") => Jsonb::Bool(b == "t"),
            (Some(s), _) => Jsonb::String(s),
        })
        .collect::<Vec<_>>();
    let nested = nest(items, &array.dims);
    Ok(json_result(Some(if ctx.get::<bool>(2)? {
        nested.render()
    } else {
        compact(&nested)
    })))
}

/// Elements in row-major order as JSON arrays nested as the dimensions are.
fn nest(items: Vec<Jsonb>, dims: &[usize]) -> Jsonb {
    match dims {
        [_, inner @ ..] if !inner.is_empty() => {
            let width = inner.iter().product::<usize>().max(1);
            let mut items = items.into_iter();
            let rows = std::iter::from_fn(|| {
                let row: Vec<Jsonb> = items.by_ref().take(width).collect();
                (!row.is_empty()).then(|| nest(row, inner))
            });
            Jsonb::Array(rows.collect())
        }
        _ => Jsonb::Array(items),
    }
}

/// json's form of an array: no spaces after commas, `[[1,5],[99,100]]`.
fn compact(value: &Jsonb) -> String {
    match value {
        Jsonb::Array(items) => {
            let items: Vec<String> = items.iter().map(compact).collect();
            format!("[{}]", items.join(","))
        }
        other => other.render(),
    }
}

/// json_agg / jsonb_agg: one element a row, NULL when there are no rows; also as window
/// functions (a sliding frame drops its oldest elements first).
struct ArrayAgg {
    jsonb: bool,
}

fn json_array(items: &mut VecDeque<String>) -> String {
    format!("[{}]", items.make_contiguous().join(", "))
}

impl Aggregate<VecDeque<String>, JsonResult> for ArrayAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<VecDeque<String>> {
        Ok(VecDeque::new())
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut VecDeque<String>) -> rusqlite::Result<()> {
        acc.push_back(if self.jsonb {
            to_jsonb(ctx, 0)?.render()
        } else {
            to_json_text(ctx, 0)?
        });
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<VecDeque<String>>,
    ) -> rusqlite::Result<JsonResult> {
        Ok(json_result(acc.map(|mut items| json_array(&mut items))))
    }
}

impl WindowAggregate<VecDeque<String>, JsonResult> for ArrayAgg {
    fn value(&self, acc: Option<&mut VecDeque<String>>) -> rusqlite::Result<JsonResult> {
        Ok(json_result(
            acc.filter(|items| !items.is_empty()).map(json_array),
        ))
    }

    fn inverse(&self, _: &mut Context<'_>, acc: &mut VecDeque<String>) -> rusqlite::Result<()> {
        acc.pop_front();
        Ok(())
    }
}

/// json_object_agg / jsonb_object_agg.
struct ObjectAgg {
    jsonb: bool,
}

impl Aggregate<Vec<(String, String)>, JsonResult> for ObjectAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Vec<(String, String)>> {
        Ok(Vec::new())
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Vec<(String, String)>) -> rusqlite::Result<()> {
        let k = text_arg(ctx, 0)?.ok_or_else(|| error("22023", "field name must not be null"))?;
        let v = if self.jsonb {
            to_jsonb(ctx, 1)?.render()
        } else {
            to_json_text(ctx, 1)?
        };
        acc.push((k, v));
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Vec<(String, String)>>,
    ) -> rusqlite::Result<JsonResult> {
        let Some(members) = acc else {
            return Ok(json_result(None));
        };
        if self.jsonb {
            let parsed = members
                .into_iter()
                .map(|(k, v)| (k, Jsonb::parse(&v).unwrap_or(Jsonb::Null)))
                .collect();
            return Ok(json_result(Some(Jsonb::object(parsed).render())));
        }
        Ok(json_result(Some(json_object_text(&members, " "))))
    }
}

pub(super) fn register(c: &Connection, flags: FunctionFlags) -> rusqlite::Result<()> {
    let out = flags | FunctionFlags::SQLITE_RESULT_SUBTYPE;
    c.create_scalar_function("pg_json_build_object", -1, out, |ctx| {
        json_build_object(ctx)
    })?;
    c.create_scalar_function("pg_jsonb_build_object", -1, out, |ctx| {
        jsonb_build_object(ctx)
    })?;
    c.create_scalar_function("pg_json_build_array", -1, out, |ctx| json_build_array(ctx))?;
    c.create_scalar_function("pg_jsonb_build_array", -1, out, |ctx| {
        jsonb_build_array(ctx)
    })?;
    // Both are strict: NULL in, NULL out.
    c.create_scalar_function("to_json", 1, out, |ctx| {
        Ok(json_result(match ctx.get_raw(0) {
            rusqlite::types::ValueRef::Null => None,
            _ => Some(to_json_text(ctx, 0)?),
        }))
    })?;
    c.create_scalar_function("to_jsonb", 1, out, |ctx| {
        Ok(json_result(match ctx.get_raw(0) {
            rusqlite::types::ValueRef::Null => None,
            _ => Some(to_jsonb(ctx, 0)?.render()),
        }))
    })?;
    c.create_scalar_function("pg_json_row", -1, out, |ctx| json_row(ctx))?;
    c.create_scalar_function("pg_array_to_json", 3, out, |ctx| array_to_json(ctx))?;
    for arity in [1, 2] {
        c.create_scalar_function("pg_json_object", arity, out, |ctx| {
            Ok(json_result(object_members(ctx)?.map(|members| {
                let written: Vec<(String, String)> =
                    members.into_iter().map(|(k, v)| (k, v.render())).collect();
                json_object_text(&written, "")
            })))
        })?;
        c.create_scalar_function("pg_jsonb_object", arity, out, |ctx| {
            Ok(json_result(
                object_members(ctx)?.map(|members| Jsonb::object(members).render()),
            ))
        })?;
    }
    for (name, jsonb) in [("pg_json_agg", false), ("pg_jsonb_agg", true)] {
        c.create_window_function(name, 1, out, ArrayAgg { jsonb })?;
    }
    for (name, jsonb) in [("pg_json_object_agg", false), ("pg_jsonb_object_agg", true)] {
        c.create_aggregate_function(name, 2, out, ObjectAgg { jsonb })?;
    }
    Ok(())
}
