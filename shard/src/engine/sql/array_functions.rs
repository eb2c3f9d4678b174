//! Postgres' array functions and operators on arrays kept as text (`arrays` reads and
//! writes the text): ARRAY[...] (`pg_array`, and `pg_array_of_arrays` for ARRAY[[...]]),
//! `'{...}'::int[]` (`pg_array_in`), slices, `@>`/`<@`/`&&`/`||`,
//! array_length/upper/lower/ndims/dims, cardinality, array_position(s),
//! array_append/prepend/cat/remove/replace, array_fill, array_to_string, string_to_array,
//! and `SET a[i] = x` (`pg_array_set`).
//! Arrays of several dimensions are rectangular, as Postgres keeps them.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;

use super::arrays::{
    Array, array_arg, array_value, element_text, elements, lower_bound, parse, render, same,
};
use super::typecheck::postgres_error as error;

type Elements = Vec<Option<String>>;

fn items(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Elements>> {
    Ok(array_arg(ctx, i)?.map(|a| elements(&a)))
}

/// An element as the element type reads it (`pg_array_in`): 22P02 when it refuses it.
fn element_in(element: &str, class: &str) -> rusqlite::Result<String> {
    let invalid = |t: &str| {
        error(
            "22P02",
            &format!("invalid input syntax for type {t}: \"{element}\""),
        )
    };
    let range = |lo: i64, hi: i64, t: &str| match element.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n.to_string()),
        Ok(_) => Err(error(
            "22003",
            &format!("value \"{element}\" is out of range for type {t}"),
        )),
        Err(_) => Err(invalid(t)),
    };
    match class {
        "int2" => range(i16::MIN.into(), i16::MAX.into(), "smallint"),
        "int4" => range(i32::MIN.into(), i32::MAX.into(), "integer"),
        "int8" => range(i64::MIN, i64::MAX, "bigint"),
        "float8" | "numeric" => element
            .parse::<f64>()
            .map(|_| element.to_owned())
            .map_err(|_| {
                invalid(if class == "numeric" {
                    "numeric"
                } else {
                    "double precision"
                })
            }),
        "bool" => match element.to_ascii_lowercase().as_str() {
            "t" | "true" | "yes" | "on" | "1" | "y" => Ok("t".to_owned()),
            "f" | "false" | "no" | "off" | "0" | "n" => Ok("f".to_owned()),
            _ => Err(invalid("boolean")),
        },
        _ => Ok(element.to_owned()),
    }
}

/// Whether `a || b` takes `b` as an array: the router's answer (1/0), else its value's
/// (`{...}` text is an array).
fn is_array(v: ValueRef<'_>, told: ValueRef<'_>) -> bool {
    match told {
        ValueRef::Integer(n) => n != 0,
        _ => matches!(v, ValueRef::Text(t) if t.first() == Some(&b'{')),
    }
}

/// A side of `||`: an array, or (`Err`) the one element it is.
fn concat_side(
    ctx: &Context<'_>,
    value: usize,
    told: usize,
) -> rusqlite::Result<Result<Array, Option<String>>> {
    let v = ctx.get_raw(value);
    Ok(if is_array(v, ctx.get_raw(told)) {
        Ok(array_value(ctx, value)?.unwrap_or_else(|| Array::flat(Vec::new())))
    } else {
        Err(element_text(v))
    })
}

/// array_cat: arrays of the same dimensions after the first are joined along it; an
/// array of one dimension fewer becomes one more subscript of the other.
fn cat(a: Array, b: Array) -> rusqlite::Result<Array> {
    if a.items.is_empty() {
        return Ok(b);
    }
    if b.items.is_empty() {
        return Ok(a);
    }
    let (da, db) = (&a.dims, &b.dims);
    let dims = if da.len() == db.len() && da[1..] == db[1..] {
        [vec![da[0] + db[0]], da[1..].to_vec()].concat()
    } else if da.len() == db.len() + 1 && da[1..] == db[..] {
        [vec![da[0] + 1], db.clone()].concat()
    } else if db.len() == da.len() + 1 && db[1..] == da[..] {
        [vec![db[0] + 1], da.clone()].concat()
    } else {
        return Err(error("2202E", "cannot concatenate incompatible arrays"));
    };
    let mut items = a.items;
    items.extend(b.items);
    Ok(Array { dims, items })
}

/// array_append / array_prepend: only an array of at most one dimension takes an element.
fn push(a: Array, element: Option<String>, front: bool) -> rusqlite::Result<Array> {
    if a.dims.len() > 1 {
        return Err(error(
            "22000",
            "argument must be empty or one-dimensional array",
        ));
    }
    let mut items = a.items;
    if front {
        items.insert(0, element);
    } else {
        items.push(element);
    }
    Ok(Array::flat(items))
}

/// Argument `i`'s elements; 0A000 in Postgres' words for an array of several dimensions,
/// which Postgres does not search or remove from (`doing` says which).
fn one_dimensional(ctx: &Context<'_>, i: usize, doing: &str) -> rusqlite::Result<Option<Elements>> {
    let Some(a) = array_value(ctx, i)? else {
        return Ok(None);
    };
    if a.dims.len() > 1 {
        return Err(error(
            "0A000",
            &format!("{doing} multidimensional arrays is not supported"),
        ));
    }
    Ok(Some(a.items))
}

/// Positions (1-based) of the elements equal to argument `i` (NULL finds NULLs).
fn positions(array: &Elements, ctx: &Context<'_>, i: usize) -> Vec<usize> {
    let v = ctx.get_raw(i);
    array
        .iter()
        .enumerate()
        .filter(|(_, e)| match e {
            Some(e) => same(e, v),
            None => v == ValueRef::Null,
        })
        .map(|(n, _)| n + 1)
        .collect()
}

/// `a @> b`: every element of b is in a (NULLs are in nothing).
pub(crate) fn contains_all(a: &[Option<String>], b: &[Option<String>]) -> bool {
    b.iter().all(|x| x.is_some() && a.contains(x))
}

fn register_operators(c: &Connection, flags: FunctionFlags) -> rusqlite::Result<()> {
    c.create_scalar_function("pg_array", -1, flags, |ctx| {
        let items: Elements = (0..ctx.len())
            .map(|i| element_text(ctx.get_raw(i)))
            .collect();
        Ok(render(&items))
    })?;
    // pg_array_of_arrays(a, b, ...): ARRAY[[...], [...]]. NULL and empty arrays count
    // only when all are.
    c.create_scalar_function("pg_array_of_arrays", -1, flags, |ctx| {
        let (mut inner, mut rows, mut items, mut empty) = (None, 0, Vec::new(), false);
        for i in 0..ctx.len() {
            match array_value(ctx, i)? {
                Some(a) if !a.items.is_empty() => {
                    if *inner.get_or_insert_with(|| a.dims.clone()) != a.dims {
                        empty = true;
                    }
                    rows += 1;
                    items.extend(a.items);
                }
                _ => empty = true,
            }
        }
        let Some(inner) = inner else {
            return Ok(render(&[]));
        };
        if empty {
            return Err(error(
                "2202E",
                "multidimensional arrays must have array expressions with matching dimensions",
            ));
        }
        let dims = [vec![rows], inner].concat();
        Ok(Array { dims, items }.render())
    })?;
    c.create_scalar_function("pg_array_in", 2, flags, |ctx| {
        let (Some(text), Some(class)) = (array_arg(ctx, 0)?, ctx.get::<Option<String>>(1)?) else {
            return Ok(None);
        };
        if !text.trim_start().starts_with('{') {
            return Err(error(
                "22P02",
                &format!("malformed array literal: \"{text}\""),
            ));
        }
        let array = parse(&text)?;
        let items = array
            .items
            .into_iter()
            .map(|e| e.map(|e| element_in(&e, &class)).transpose())
            .collect::<rusqlite::Result<Elements>>()?;
        Ok(Some(Array { items, ..array }.render()))
    })?;
    // `a[lo:hi]`: a slice of the first dimension, whole in the others.
    c.create_scalar_function("pg_array_slice", 3, flags, |ctx| {
        let Some(a) = array_value(ctx, 0)? else {
            return Ok(None);
        };
        let n = a.dims.first().copied().unwrap_or(0) as i64;
        let lo = ctx.get::<Option<i64>>(1)?.unwrap_or(1).max(1);
        let hi = ctx.get::<Option<i64>>(2)?.unwrap_or(n).min(n);
        if lo > hi {
            return Ok(Some(render(&[])));
        }
        let items: Elements = a
            .rows()
            .skip((lo - 1) as usize)
            .take((hi - lo + 1) as usize)
            .flatten()
            .cloned()
            .collect();
        let dims = [vec![(hi - lo + 1) as usize], a.dims[1..].to_vec()].concat();
        Ok(Some(Array { dims, items }.render()))
    })?;
    c.create_scalar_function("pg_array_set", -1, flags, |ctx| array_set(ctx))?;
    c.create_scalar_function("pg_array_contains_all", 2, flags, |ctx| {
        let (Some(a), Some(b)) = (items(ctx, 0)?, items(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(contains_all(&a, &b)))
    })?;
    c.create_scalar_function("pg_array_overlap", 2, flags, |ctx| {
        let (Some(a), Some(b)) = (items(ctx, 0)?, items(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(b.iter().any(|x| x.is_some() && a.contains(x))))
    })?;
    // pg_array_concat(a, a_is_array, b, b_is_array).
    c.create_scalar_function("pg_array_concat", 4, flags, |ctx| {
        let joined = match (concat_side(ctx, 0, 1)?, concat_side(ctx, 2, 3)?) {
            (Ok(a), Ok(b)) => cat(a, b)?,
            (Ok(a), Err(e)) => push(a, e, false)?,
            (Err(e), Ok(b)) => push(b, e, true)?,
            (Err(x), Err(y)) => Array::flat(vec![x, y]),
        };
        Ok(joined.render())
    })?;
    Ok(())
}

fn register_functions(c: &Connection, flags: FunctionFlags) -> rusqlite::Result<()> {
    for name in ["array_length", "array_upper", "array_lower"] {
        c.create_scalar_function(name, 2, flags, move |ctx| {
            let (Some(text), Some(d)) = (array_arg(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
                return Ok(None);
            };
            let lower = lower_bound(&text);
            let dims = parse(&text)?.dims;
            let n = usize::try_from(d - 1)
                .ok()
                .and_then(|d| dims.get(d).copied());
            Ok(n.map(|n| match name {
                "array_length" => n as i64,
                "array_upper" => n as i64 - 1 + lower,
                _ => lower,
            }))
        })?;
    }
    c.create_scalar_function("cardinality", 1, flags, |ctx| {
        Ok(items(ctx, 0)?.map(|a| a.len() as i64))
    })?;
    c.create_scalar_function("array_ndims", 1, flags, |ctx| {
        Ok(array_value(ctx, 0)?
            .filter(|a| !a.dims.is_empty())
            .map(|a| a.dims.len() as i64))
    })?;
    c.create_scalar_function("array_dims", 1, flags, |ctx| {
        let Some(text) = array_arg(ctx, 0)? else {
            return Ok(None);
        };
        let lower = lower_bound(&text);
        let dims = parse(&text)?.dims;
        Ok((!dims.is_empty()).then(|| {
            dims.iter()
                .map(|n| format!("[{lower}:{}]", *n as i64 - 1 + lower))
                .collect::<String>()
        }))
    })?;
    const SEARCHING: &str = "searching for elements in";
    for arity in [2, 3] {
        c.create_scalar_function("array_position", arity, flags, |ctx| {
            let Some(a) = one_dimensional(ctx, 0, SEARCHING)? else {
                return Ok(None);
            };
            let start = if ctx.len() == 3 {
                ctx.get::<Option<i64>>(2)?.unwrap_or(1)
            } else {
                1
            };
            Ok(positions(&a, ctx, 1)
                .into_iter()
                .find(|p| *p as i64 >= start)
                .map(|p| p as i64))
        })?;
    }
    c.create_scalar_function("array_positions", 2, flags, |ctx| {
        Ok(one_dimensional(ctx, 0, SEARCHING)?.map(|a| {
            let p: Elements = positions(&a, ctx, 1)
                .iter()
                .map(|p| Some(p.to_string()))
                .collect();
            render(&p)
        }))
    })?;
    let empty = || Array::flat(Vec::new());
    c.create_scalar_function("array_append", 2, flags, move |ctx| {
        let a = array_value(ctx, 0)?.unwrap_or_else(empty);
        Ok(push(a, element_text(ctx.get_raw(1)), false)?.render())
    })?;
    c.create_scalar_function("array_prepend", 2, flags, move |ctx| {
        let a = array_value(ctx, 1)?.unwrap_or_else(empty);
        Ok(push(a, element_text(ctx.get_raw(0)), true)?.render())
    })?;
    c.create_scalar_function("array_cat", 2, flags, move |ctx| {
        let (a, b) = (array_value(ctx, 0)?, array_value(ctx, 1)?);
        if a.is_none() && b.is_none() {
            return Ok(None);
        }
        let joined = cat(a.unwrap_or_else(empty), b.unwrap_or_else(empty))?;
        Ok(Some(joined.render()))
    })?;
    c.create_scalar_function("array_remove", 2, flags, |ctx| {
        let Some(a) = one_dimensional(ctx, 0, "removing elements from")? else {
            return Ok(None);
        };
        let gone = positions(&a, ctx, 1);
        let kept: Elements = a
            .into_iter()
            .enumerate()
            .filter(|(n, _)| !gone.contains(&(n + 1)))
            .map(|(_, e)| e)
            .collect();
        Ok(Some(render(&kept)))
    })?;
    // Replacing keeps the array's shape.
    c.create_scalar_function("array_replace", 3, flags, |ctx| {
        let by = element_text(ctx.get_raw(2));
        Ok(array_value(ctx, 0)?.map(|mut a| {
            for p in positions(&a.items, ctx, 1) {
                a.items[p - 1] = by.clone();
            }
            a.render()
        }))
    })?;
    // Trims subscripts of the first dimension.
    c.create_scalar_function("trim_array", 2, flags, |ctx| {
        let (Some(a), Some(n)) = (array_value(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
            return Ok(None);
        };
        let rows = a.dims.first().copied().unwrap_or(0);
        let keep = usize::try_from(n)
            .ok()
            .and_then(|n| rows.checked_sub(n))
            .ok_or_else(|| {
                error(
                    "2202E",
                    &format!("number of elements to trim must be between 0 and {rows}"),
                )
            })?;
        let items: Elements = a.rows().take(keep).flatten().cloned().collect();
        let dims = [vec![keep], a.dims.get(1..).unwrap_or_default().to_vec()].concat();
        Ok(Some(Array { dims, items }.render()))
    })?;
    for arity in [2, 3] {
        c.create_scalar_function("array_fill", arity, flags, |ctx| array_fill(ctx))?;
        c.create_scalar_function("array_to_string", arity, flags, |ctx| {
            let (Some(a), Some(sep)) = (items(ctx, 0)?, ctx.get::<Option<String>>(1)?) else {
                return Ok(None);
            };
            let null = if ctx.len() == 3 {
                ctx.get::<Option<String>>(2)?
            } else {
                None
            };
            let parts: Vec<String> = a
                .into_iter()
                .filter_map(|e| e.or_else(|| null.clone()))
                .collect();
            Ok(Some(parts.join(&sep)))
        })?;
        // string_to_array(s, sep [, null_str]): a NULL separator splits into characters,
        // an empty one keeps the string whole.
        c.create_scalar_function("string_to_array", arity, flags, |ctx| {
            let Some(s) = ctx.get::<Option<String>>(0)? else {
                return Ok(None);
            };
            let null = if ctx.len() == 3 {
                ctx.get::<Option<String>>(2)?
            } else {
                None
            };
            let parts: Vec<String> = match ctx.get::<Option<String>>(1)? {
                _ if s.is_empty() => Vec::new(),
                None => s.chars().map(String::from).collect(),
                Some(sep) if sep.is_empty() => vec![s],
                Some(sep) => s.split(sep.as_str()).map(str::to_owned).collect(),
            };
            let items: Elements = parts
                .into_iter()
                .map(|p| (Some(&p) != null.as_ref()).then_some(p))
                .collect();
            Ok(Some(render(&items)))
        })?;
    }
    Ok(())
}

/// The most elements an assignment may grow an array to: Postgres allows 134 million,
/// more than a shard's memory should give one value.
const MAX_GROWN: usize = 1_000_000;

/// pg_array_set(a, x, i [, j ...]): `UPDATE ... SET a[i] = x`. An array of one dimension
/// grows to take a subscript past its end (NULLs fill the gap); an empty one would start
/// at the subscript, a lower bound the text form here does not keep (0A000 unless 1).
fn array_set(ctx: &Context<'_>) -> rusqlite::Result<String> {
    let a = array_value(ctx, 0)?.unwrap_or_else(|| Array::flat(Vec::new()));
    let value = element_text(ctx.get_raw(1));
    let subscripts = (2..ctx.len())
        .map(|i| ctx.get::<Option<i64>>(i))
        .collect::<rusqlite::Result<Option<Vec<i64>>>>()?
        .ok_or_else(|| error("22004", "array subscript in assignment must not be null"))?;
    let lower_bound = || {
        error(
            "0A000",
            "arrays with lower bounds other than 1 are not supported by litescale",
        )
    };
    match (a.dims.len(), subscripts.as_slice()) {
        (0, [1]) => Ok(render(&[value])),
        (1, [i]) => {
            let i = usize::try_from(*i)
                .ok()
                .filter(|i| *i >= 1)
                .ok_or_else(lower_bound)?;
            if i > MAX_GROWN {
                return Err(error(
                    "54000",
                    &format!("array size exceeds the maximum allowed ({MAX_GROWN})"),
                ));
            }
            let mut items = a.items;
            if i > items.len() {
                items.resize(i, None);
            }
            items[i - 1] = value;
            Ok(render(&items))
        }
        (0, _) => Err(lower_bound()),
        (n, s) if n == s.len() => {
            let at = a
                .offset(s, 1)
                .ok_or_else(|| error("2202E", "array subscript out of range"))?;
            let mut a = a;
            a.items[at] = value;
            Ok(a.render())
        }
        _ => Err(error("2202E", "wrong number of array subscripts")),
    }
}

/// array_fill(value, dims [, lower_bounds]): lower bounds other than 1 are written
/// before the array (`[3:4]={x,x}`).
fn array_fill(ctx: &Context<'_>) -> rusqlite::Result<Option<String>> {
    let not_null = |a: Option<Elements>| {
        a.ok_or_else(|| error("22004", "dimension array or low bound array cannot be null"))
    };
    let bounds = |e: Elements| {
        e.into_iter()
            .map(|n| {
                let n = n.ok_or_else(|| error("22004", "dimension values cannot be null"))?;
                n.trim().parse::<i64>().map_err(|_| {
                    error(
                        "22P02",
                        &format!("invalid input syntax for type integer: \"{n}\""),
                    )
                })
            })
            .collect::<rusqlite::Result<Vec<i64>>>()
    };
    let lengths = bounds(not_null(items(ctx, 1)?)?)?;
    let lower = if ctx.len() == 3 {
        bounds(not_null(items(ctx, 2)?)?)?
    } else {
        vec![1; lengths.len()]
    };
    if lower.len() != lengths.len() {
        return Err(error("2202E", "wrong number of array subscripts"));
    }
    let dims: Vec<usize> = lengths
        .iter()
        .map(|n| usize::try_from(*n).unwrap_or(0))
        .collect();
    if dims.is_empty() || dims.contains(&0) {
        return Ok(Some(render(&[])));
    }
    let fill = element_text(ctx.get_raw(0));
    let items = vec![fill; dims.iter().product()];
    let array = Array { dims, items }.render();
    Ok(Some(if lower.iter().all(|l| *l == 1) {
        array
    } else {
        let prefix: String = lower
            .iter()
            .zip(&lengths)
            .map(|(l, n)| format!("[{l}:{}]", l + n - 1))
            .collect();
        format!("{prefix}={array}")
    }))
}

pub(crate) fn register(c: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    register_operators(c, flags)?;
    register_functions(c, flags)
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value as SqlValue;

    use super::*;

    fn q(sql: &str) -> SqlValue {
        let c = Connection::open_in_memory().unwrap();
        super::super::arrays::register(&c).unwrap();
        register(&c).unwrap();
        c.query_row(sql, [], |r| r.get::<_, SqlValue>(0)).unwrap()
    }

    fn t(s: &str) -> SqlValue {
        SqlValue::Text(s.to_owned())
    }

    #[test]
    fn arrays_are_built_and_read_as_postgres_does() {
        assert_eq!(
            q("SELECT pg_array('a b', 'c', NULL, '\"q\"')"),
            t(r#"{"a b",c,NULL,"\"q\""}"#)
        );
        assert_eq!(q("SELECT pg_array_in('{ 1 , 2 }', 'int4')"), t("{1,2}"));
        assert_eq!(q("SELECT pg_array_slice('{1,2,3}', 2, NULL)"), t("{2,3}"));
        assert_eq!(q("SELECT pg_array_concat('{1,2}', 1, 3, 0)"), t("{1,2,3}"));
        assert_eq!(q("SELECT array_length('{1,2}', 2)"), SqlValue::Null);
        assert_eq!(q("SELECT array_upper('3 4', 1)"), SqlValue::Integer(1));
        assert_eq!(
            q("SELECT array_position('{1,NULL,3}', NULL)"),
            SqlValue::Integer(2)
        );
        assert_eq!(q("SELECT array_remove('{1,2,1}', 1)"), t("{2}"));
        assert_eq!(
            q("SELECT array_to_string('{a,NULL,b}', ',', '*')"),
            t("a,*,b")
        );
        assert_eq!(
            q("SELECT string_to_array('a,b,,c', ',', '')"),
            t("{a,b,NULL,c}")
        );
        assert_eq!(
            q("SELECT pg_array_contains_all('{1,2,3}', '{3,1}')"),
            SqlValue::Integer(1)
        );
        assert_eq!(q("SELECT array_fill(7, '{3}')"), t("{7,7,7}"));
        assert_eq!(q("SELECT array_fill('x', '{2}', '{3}')"), t("[3:4]={x,x}"));
        assert_eq!(q("SELECT trim_array('{1,2,3}', 2)"), t("{1}"));
    }

    fn refused(sql: &str) -> String {
        let c = Connection::open_in_memory().unwrap();
        super::super::arrays::register(&c).unwrap();
        register(&c).unwrap();
        let e = c
            .query_row(sql, [], |r| r.get::<_, SqlValue>(0))
            .unwrap_err();
        let e: crate::ShardError = e.into();
        e.sqlstate.to_owned()
    }

    #[test]
    fn arrays_of_several_dimensions_answer_as_postgres_does() {
        let square = "'{{1,2},{3,4}}'";
        assert_eq!(
            q("SELECT pg_array_of_arrays(pg_array(1, 2), '{3,4}')"),
            t("{{1,2},{3,4}}")
        );
        assert_eq!(q("SELECT pg_array_of_arrays(NULL, '{}')"), t("{}"));
        assert_eq!(
            refused("SELECT pg_array_of_arrays('{1,2}', '{3}')"),
            "2202E"
        );
        assert_eq!(refused("SELECT pg_array_of_arrays('{1,2}', NULL)"), "2202E");
        assert_eq!(
            q(&format!("SELECT pg_array_in({square}, 'int4')")),
            t("{{1,2},{3,4}}")
        );
        assert_eq!(
            refused("SELECT pg_array_in('{{1,2},{3}}', 'int4')"),
            "22P02"
        );
        assert_eq!(refused("SELECT pg_array_in('{{1,x}}', 'int4')"), "22P02");
        assert_eq!(
            q(&format!("SELECT array_length({square}, 2)")),
            SqlValue::Integer(2)
        );
        assert_eq!(
            q(&format!("SELECT array_upper({square}, 3)")),
            SqlValue::Null
        );
        assert_eq!(
            q(&format!("SELECT cardinality({square})")),
            SqlValue::Integer(4)
        );
        assert_eq!(
            q(&format!("SELECT array_ndims({square})")),
            SqlValue::Integer(2)
        );
        assert_eq!(q("SELECT array_ndims('{}')"), SqlValue::Null);
        assert_eq!(q("SELECT array_dims('{{1,2,3},{4,5,6}}')"), t("[1:2][1:3]"));
        assert_eq!(
            q("SELECT pg_array_concat('{1,2}', 1, '{{3,4}}', 1)"),
            t("{{1,2},{3,4}}")
        );
        assert_eq!(
            q(&format!("SELECT array_cat({square}, {square})")),
            t("{{1,2},{3,4},{1,2},{3,4}}")
        );
        assert_eq!(refused("SELECT array_cat('{1,2}', '{{3}}')"), "2202E");
        assert_eq!(
            refused(&format!("SELECT array_append({square}, 5)")),
            "22000"
        );
        assert_eq!(
            q(&format!("SELECT pg_array_slice({square}, 2, NULL)")),
            t("{{3,4}}")
        );
        assert_eq!(q(&format!("SELECT trim_array({square}, 1)")), t("{{1,2}}"));
        assert_eq!(
            q(&format!("SELECT array_replace({square}, 4, 9)")),
            t("{{1,2},{3,9}}")
        );
        assert_eq!(
            refused(&format!("SELECT array_position({square}, 1)")),
            "0A000"
        );
        assert_eq!(
            refused(&format!("SELECT array_remove({square}, 1)")),
            "0A000"
        );
        assert_eq!(q("SELECT array_fill(7, '{2,2}')"), t("{{7,7},{7,7}}"));
        assert_eq!(
            q("SELECT array_fill(7, '{1,2}', '{2,1}')"),
            t("[2:2][1:2]={{7,7}}")
        );
        assert_eq!(refused("SELECT array_fill(7, '{1,2}', '{2}')"), "2202E");
        assert_eq!(
            q(&format!("SELECT pg_array_set({square}, 9, 2, 1)")),
            t("{{1,2},{9,4}}")
        );
        assert_eq!(
            refused(&format!("SELECT pg_array_set({square}, 9, 3, 1)")),
            "2202E"
        );
        assert_eq!(
            refused(&format!("SELECT pg_array_set({square}, 9, 1)")),
            "2202E"
        );
    }

    #[test]
    fn assigning_an_element_writes_it_or_grows_the_array() {
        assert_eq!(q("SELECT pg_array_set('{5,3,4}', 10, 2)"), t("{5,10,4}"));
        assert_eq!(q("SELECT pg_array_set('{1}', 'x', 3)"), t("{1,NULL,x}"));
        assert_eq!(q("SELECT pg_array_set(NULL, 7, 1)"), t("{7}"));
        assert_eq!(refused("SELECT pg_array_set(NULL, 7, 2)"), "0A000");
        assert_eq!(refused("SELECT pg_array_set('{1}', 7, 0)"), "0A000");
        assert_eq!(refused("SELECT pg_array_set('{1}', 7, NULL)"), "22004");
        assert_eq!(refused("SELECT pg_array_set('{1}', 7, 2000000)"), "54000");
    }
}
