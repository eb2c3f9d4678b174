//! Postgres' array functions and operators on arrays kept as text (`arrays` reads and
//! writes the text): ARRAY[...] (`pg_array`), `'{...}'::int[]` (`pg_array_in`), slices,
//! `@>`/`<@`/`&&`/`||`, array_length/upper/lower/dims, cardinality, array_position(s),
//! array_append/prepend/cat/remove/replace, array_to_string, string_to_array.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;

use super::arrays::{array_arg, element_text, elements, lower_bound, render, same};
use super::typecheck::postgres_error as error;

type Elements = Vec<Option<String>>;

fn items(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Elements>> {
    Ok(array_arg(ctx, i)?.map(|a| elements(&a)))
}

fn rendered(items: Option<Elements>) -> Option<String> {
    items.map(|i| render(&i))
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

/// A side of `||` as elements: an array's, or the one element it is.
fn concat_side(ctx: &Context<'_>, value: usize, told: usize) -> rusqlite::Result<Elements> {
    let v = ctx.get_raw(value);
    Ok(if is_array(v, ctx.get_raw(told)) {
        items(ctx, value)?.unwrap_or_default()
    } else {
        vec![element_text(v)]
    })
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
    c.create_scalar_function("pg_array_in", 2, flags, |ctx| {
        let (Some(text), Some(class)) = (array_arg(ctx, 0)?, ctx.get::<Option<String>>(1)?) else {
            return Ok(None);
        };
        let t = text.trim();
        if !(t.starts_with('{') && t.ends_with('}')) || t[1..t.len() - 1].contains('{') {
            return Err(error(
                "22P02",
                &format!("malformed array literal: \"{text}\""),
            ));
        }
        let items = elements(t)
            .into_iter()
            .map(|e| e.map(|e| element_in(&e, &class)).transpose())
            .collect::<rusqlite::Result<Elements>>()?;
        Ok(Some(render(&items)))
    })?;
    c.create_scalar_function("pg_array_slice", 3, flags, |ctx| {
        let Some(a) = items(ctx, 0)? else {
            return Ok(None);
        };
        let lo = ctx.get::<Option<i64>>(1)?.unwrap_or(1).max(1);
        let hi = ctx
            .get::<Option<i64>>(2)?
            .unwrap_or(a.len() as i64)
            .min(a.len() as i64);
        let slice = if lo > hi {
            Vec::new()
        } else {
            a[(lo - 1) as usize..hi as usize].to_vec()
        };
        Ok(Some(render(&slice)))
    })?;
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
        let mut out = concat_side(ctx, 0, 1)?;
        out.extend(concat_side(ctx, 2, 3)?);
        Ok(render(&out))
    })?;
    Ok(())
}

fn register_functions(c: &Connection, flags: FunctionFlags) -> rusqlite::Result<()> {
    // Arrays have one dimension: other dimensions have no length or bounds.
    for name in ["array_length", "array_upper", "array_lower"] {
        c.create_scalar_function(name, 2, flags, move |ctx| {
            let (Some(a), Some(1)) = (array_arg(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
                return Ok(None);
            };
            let n = elements(&a).len() as i64;
            let lower = lower_bound(&a);
            Ok((n > 0).then_some(match name {
                "array_length" => n,
                "array_upper" => n - 1 + lower,
                _ => lower,
            }))
        })?;
    }
    c.create_scalar_function("cardinality", 1, flags, |ctx| {
        Ok(items(ctx, 0)?.map(|a| a.len() as i64))
    })?;
    c.create_scalar_function("array_dims", 1, flags, |ctx| {
        Ok(items(ctx, 0)?
            .filter(|a| !a.is_empty())
            .map(|a| format!("[1:{}]", a.len())))
    })?;
    for arity in [2, 3] {
        c.create_scalar_function("array_position", arity, flags, |ctx| {
            let Some(a) = items(ctx, 0)? else {
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
        Ok(items(ctx, 0)?.map(|a| {
            let p: Elements = positions(&a, ctx, 1)
                .iter()
                .map(|p| Some(p.to_string()))
                .collect();
            render(&p)
        }))
    })?;
    c.create_scalar_function("array_append", 2, flags, |ctx| {
        let mut a = items(ctx, 0)?.unwrap_or_default();
        a.push(element_text(ctx.get_raw(1)));
        Ok(render(&a))
    })?;
    c.create_scalar_function("array_prepend", 2, flags, |ctx| {
        let mut a = vec![element_text(ctx.get_raw(0))];
        a.extend(items(ctx, 1)?.unwrap_or_default());
        Ok(render(&a))
    })?;
    c.create_scalar_function("array_cat", 2, flags, |ctx| {
        let (a, b) = (items(ctx, 0)?, items(ctx, 1)?);
        if a.is_none() && b.is_none() {
            return Ok(None);
        }
        let mut out = a.unwrap_or_default();
        out.extend(b.unwrap_or_default());
        Ok(Some(render(&out)))
    })?;
    c.create_scalar_function("array_remove", 2, flags, |ctx| {
        let found = |a: &Elements| positions(a, ctx, 1);
        Ok(rendered(items(ctx, 0)?.map(|a| {
            let gone = found(&a);
            a.into_iter()
                .enumerate()
                .filter(|(n, _)| !gone.contains(&(n + 1)))
                .map(|(_, e)| e)
                .collect()
        })))
    })?;
    c.create_scalar_function("array_replace", 3, flags, |ctx| {
        let by = element_text(ctx.get_raw(2));
        Ok(rendered(items(ctx, 0)?.map(|mut a| {
            for p in positions(&a, ctx, 1) {
                a[p - 1] = by.clone();
            }
            a
        })))
    })?;
    c.create_scalar_function("trim_array", 2, flags, |ctx| {
        let (Some(mut a), Some(n)) = (items(ctx, 0)?, ctx.get::<Option<i64>>(1)?) else {
            return Ok(None);
        };
        let keep = usize::try_from(n)
            .ok()
            .and_then(|n| a.len().checked_sub(n))
            .ok_or_else(|| {
                error(
                    "2202E",
                    &format!(
                        "number of elements to trim must be between 0 and {}",
                        a.len()
                    ),
                )
            })?;
        a.truncate(keep);
        Ok(Some(render(&a)))
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

/// array_fill(value, dims [, lower_bounds]), of one dimension.
fn array_fill(ctx: &Context<'_>) -> rusqlite::Result<Option<String>> {
    let not_null = |a: Option<Elements>| {
        a.ok_or_else(|| error("22004", "dimension array or low bound array cannot be null"))
    };
    let dims = not_null(items(ctx, 1)?)?;
    let lower = if ctx.len() == 3 {
        not_null(items(ctx, 2)?)?
    } else {
        vec![Some("1".to_owned())]
    };
    let bound = |e: &[Option<String>]| match e {
        [Some(n)] => n.trim().parse::<i64>().map_err(|_| {
            error(
                "22P02",
                &format!("invalid input syntax for type integer: \"{n}\""),
            )
        }),
        [None] => Err(error("22004", "dimension values cannot be null")),
        // Arrays here have one dimension.
        _ => Err(error("0A000", "multidimensional arrays are not supported")),
    };
    let (length, lower) = (bound(&dims)?, bound(&lower)?);
    let fill = element_text(ctx.get_raw(0));
    let array = render(&vec![fill; usize::try_from(length).unwrap_or(0)]);
    Ok(Some(if lower == 1 || length <= 0 {
        array
    } else {
        format!("[{lower}:{}]={array}", lower + length - 1)
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
}
