//! `pg_regtype(x)`, Postgres' regtype input, and `to_regtype(x)`, the same reading that
//! answers NULL where the input would refuse: a type's OID from its name as a client
//! writes it (`int4`, `integer`, `character varying`, `"public"."mood"`, `int4[]`), or an
//! OID as is. TypeORM builds such names from information_schema and casts them;
//! drizzle-kit compares a type with `= ANY('{int,int8}'::regtype[])`, which
//! `pg_regtype_array` answers as an array of OIDs (also from an oidvector, pgcli's
//! `proargtypes::regtype[]`), and `pg_regtype_names` shows as their names.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};

use super::arrays;
use super::catalog::TypeCatalog;
use super::typecheck::postgres_error;

pub(crate) fn register(conn: &Connection, types: &TypeCatalog) -> rusqlite::Result<()> {
    let of_declared = types.of_declared;
    conn.create_scalar_function("pg_regtype", 1, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let text = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(None),
            ValueRef::Integer(oid) => return Ok(Some(oid)),
            ValueRef::Text(text) => String::from_utf8_lossy(text).into_owned(),
            _ => return Err(postgres_error("22P02", "invalid input for type regtype")),
        };
        known(ctx, of_declared, &text).map(Some)
    })?;
    // Postgres' to_regtype: the same reading, NULL where no type has the name.
    conn.create_scalar_function("to_regtype", 1, FunctionFlags::SQLITE_UTF8, move |ctx| {
        match ctx.get::<Option<String>>(0)? {
            Some(name) => resolve(ctx, of_declared, &name),
            None => Ok(None),
        }
    })?;
    conn.create_scalar_function(
        "pg_regtype_array",
        1,
        FunctionFlags::SQLITE_UTF8,
        move |ctx| {
            let Some(text) = arrays::array_arg(ctx, 0)? else {
                return Ok(None);
            };
            let oids = arrays::elements(&text)
                .into_iter()
                .map(|name| match name {
                    Some(name) => known(ctx, of_declared, &name).map(|oid| Some(oid.to_string())),
                    None => Ok(None),
                })
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some(arrays::render(&oids)))
        },
    )?;
    conn.create_scalar_function("pg_regtype_names", 1, FunctionFlags::SQLITE_UTF8, |ctx| {
        names(ctx)
    })
}

/// `pg_regtype_names(array)`: an array of type OIDs as their names, as a regtype[] is shown.
fn names(ctx: &Context<'_>) -> rusqlite::Result<Option<String>> {
    let Some(text) = arrays::array_arg(ctx, 0)? else {
        return Ok(None);
    };
    // SAFETY: the connection is used on this thread, within the call, for a read.
    let conn = unsafe { ctx.get_connection()? };
    let names = arrays::elements(&text)
        .into_iter()
        .map(|oid| match oid.and_then(|oid| oid.parse::<i64>().ok()) {
            Some(oid) => conn
                .query_row("SELECT format_type(?1, NULL)", [oid], |r| r.get(0))
                .map(Some),
            None => Ok(None),
        })
        .collect::<rusqlite::Result<Vec<Option<String>>>>()?;
    Ok(Some(arrays::render(&names)))
}

/// The OID of the type `text` names; 42704 when there is none.
fn known(
    ctx: &Context<'_>,
    of_declared: fn(&str) -> (u32, i32),
    text: &str,
) -> rusqlite::Result<i64> {
    resolve(ctx, of_declared, text)?
        .ok_or_else(|| postgres_error("42704", &format!("type \"{text}\" does not exist")))
}

/// The OID of the type `text` names, if there is one.
fn resolve(
    ctx: &Context<'_>,
    of_declared: fn(&str) -> (u32, i32),
    text: &str,
) -> rusqlite::Result<Option<i64>> {
    let text = text.trim();
    // An OID as text (an oidvector's elements).
    if let Ok(oid) = text.parse::<i64>() {
        return Ok(Some(oid));
    }
    let (element, array) = match text.strip_suffix("[]") {
        Some(element) => (element.trim_end(), true),
        None => (text, false),
    };
    let Some((schema, name)) = qualified_name(element) else {
        return Ok(None);
    };
    // SAFETY: the connection is used on this thread, within the call, for a read.
    let conn = unsafe { ctx.get_connection()? };
    let catalog_row: Option<(i64, i64)> = conn
        .query_row(
            "SELECT t.oid, t.typarray FROM pg_type t \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typname = ?1 AND (?2 IS NULL OR n.nspname = ?2) LIMIT 1",
            rusqlite::params![name, schema],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    // The SQL standard's spellings (`integer`, `character varying`) are not typnames.
    let builtin = || {
        let (oid, _) = of_declared(&name);
        // of_declared falls back to text for names it does not know.
        let known = oid != 25 || name == "text";
        let in_catalog = schema.as_deref().is_none_or(|s| s == "pg_catalog");
        (known && in_catalog).then_some(i64::from(oid))
    };
    let Some(oid) = catalog_row.map(|(oid, _)| oid).or_else(builtin) else {
        return Ok(None);
    };
    if !array {
        return Ok(Some(oid));
    }
    conn.query_row(
        "SELECT nullif(typarray, 0) FROM pg_type WHERE oid = ?1",
        [oid],
        |r| r.get(0),
    )
    .optional()
    .map(Option::flatten)
}

/// `"Public".mood` → (Some("Public"), "mood"): each part unquoted, or folded to lower case
/// when written bare. None for more than two parts or an unclosed quote.
fn qualified_name(text: &str) -> Option<(Option<String>, String)> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    loop {
        let (part, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"')?;
            (quoted[..end].to_owned(), &quoted[end + 1..])
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            (rest[..end].trim().to_ascii_lowercase(), &rest[end..])
        };
        parts.push(part);
        match after.trim_start().strip_prefix('.') {
            Some(next) => rest = next.trim_start(),
            None if after.trim().is_empty() => break,
            None => return None,
        }
    }
    let name = parts.pop()?;
    match parts.len() {
        0 => Some((None, name)),
        1 => Some((parts.pop(), name)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::qualified_name;

    #[test]
    fn names_are_unquoted_or_folded() {
        assert_eq!(qualified_name("int4"), Some((None, "int4".into())));
        assert_eq!(
            qualified_name("\"public\".\"Mood\""),
            Some((Some("public".into()), "Mood".into()))
        );
        assert_eq!(
            qualified_name("Pg_Catalog.Character Varying"),
            Some((Some("pg_catalog".into()), "character varying".into()))
        );
        assert_eq!(qualified_name("a.b.c"), None);
        assert_eq!(qualified_name("\"open"), None);
    }
}
