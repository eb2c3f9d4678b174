//! SQL functions every connection gets, so the router can ask SQLite for Postgres'
//! behaviour where SQLite's differs (division by zero is an error, not NULL; `±` on values
//! whose type the plan did not know, jsonb's `-` among them; boolean and uuid input), booleq/boolne,
//! num_nulls/num_nonnulls and gen_random_uuid().

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, Error};

/// The message SQLite reports for a failing pg_div / pg_mod; engine/sqlite_errors.rs maps it
/// to 22012.
pub(crate) const DIVISION_BY_ZERO: &str = "division by zero";
pub(crate) const INTEGER_OUT_OF_RANGE: &str = "integer out of range";

enum Number {
    Int(i64),
    Real(f64),
}

fn number(v: ValueRef<'_>) -> Option<Number> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(Number::Int(i)),
        ValueRef::Real(f) => Some(Number::Real(f)),
        // Arithmetic on text reads it as a number, as SQLite's own operators do.
        ValueRef::Text(t) => {
            let s = std::str::from_utf8(t).unwrap_or("").trim();
            Some(match s.parse::<i64>() {
                Ok(i) => Number::Int(i),
                Err(_) => Number::Real(s.parse().unwrap_or(0.0)),
            })
        }
        ValueRef::Blob(_) => Some(Number::Int(0)),
    }
}

fn user_error(message: &str) -> Error {
    Error::UserFunctionError(message.into())
}

fn as_f64(n: &Number) -> f64 {
    match n {
        Number::Int(i) => *i as f64,
        Number::Real(f) => *f,
    }
}

fn arithmetic(
    ctx: &Context<'_>,
    int_op: fn(i64, i64) -> Option<i64>,
    real_op: fn(f64, f64) -> f64,
) -> rusqlite::Result<SqlValue> {
    let (Some(a), Some(b)) = (number(ctx.get_raw(0)), number(ctx.get_raw(1))) else {
        return Ok(SqlValue::Null);
    };
    let divides = int_op(7, 0).is_none();
    match (&a, &b) {
        (Number::Int(_), Number::Int(0)) if divides => Err(user_error(DIVISION_BY_ZERO)),
        (Number::Int(x), Number::Int(y)) => int_op(*x, *y)
            .map(SqlValue::Integer)
            .ok_or_else(|| user_error(INTEGER_OUT_OF_RANGE)),
        _ if divides && as_f64(&b) == 0.0 => Err(user_error(DIVISION_BY_ZERO)),
        _ => Ok(SqlValue::Real(real_op(as_f64(&a), as_f64(&b)))),
    }
}

fn stored_text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Null | ValueRef::Blob(_) => None,
    }
}

fn whole_number(v: ValueRef<'_>) -> Option<i64> {
    match v {
        ValueRef::Integer(i) => Some(i),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// Postgres' boolin: any unique prefix of true, false, yes or no, `on`, `of(f)`, `1`, `0`,
/// in any case, spaces around: for casts (pg_bool) and for the proxy's reading of values
/// a client sends.
pub fn parse_bool(s: &str) -> Option<bool> {
    let word = s.trim().to_ascii_lowercase();
    let prefix_of = |full: &str| full.starts_with(word.as_str());
    Some(match word.as_bytes().first()? {
        b't' if prefix_of("true") => true,
        b'y' if prefix_of("yes") => true,
        b'f' if prefix_of("false") => false,
        b'n' if prefix_of("no") => false,
        // A lone `o` could be either.
        b'o' if word.len() >= 2 && prefix_of("on") => true,
        b'o' if word.len() >= 2 && prefix_of("off") => false,
        _ if word == "1" => true,
        _ if word == "0" => false,
        _ => return None,
    })
}

/// A value as a boolean: integers (what booleans are stored as) are true when non-zero,
/// text is read as Postgres reads boolean input.
fn boolean(v: ValueRef<'_>) -> rusqlite::Result<Option<bool>> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(i) => Ok(Some(i != 0)),
        ValueRef::Real(_) => Err(super::typecheck::postgres_error(
            "42846",
            "cannot cast type numeric to boolean",
        )),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            parse_bool(&s).map(Some).ok_or_else(|| {
                super::typecheck::postgres_error(
                    "22P02",
                    &format!("invalid input syntax for type boolean: \"{s}\""),
                )
            })
        }
    }
}

/// Postgres' uuid_in: 32 hex digits in either case, a hyphen allowed after any group of
/// four but the last, the whole optionally in braces; the canonical lower-case form out.
pub(crate) fn canonical_uuid(s: &str) -> Option<String> {
    let inner = match s.strip_prefix('{') {
        Some(rest) => rest.strip_suffix('}')?,
        None => s,
    };
    let mut digits = String::with_capacity(32);
    let mut chars = inner.chars().peekable();
    while digits.len() < 32 {
        let (a, b) = (chars.next()?, chars.next()?);
        if !a.is_ascii_hexdigit() || !b.is_ascii_hexdigit() {
            return None;
        }
        digits.push(a.to_ascii_lowercase());
        digits.push(b.to_ascii_lowercase());
        if digits.len().is_multiple_of(4) && digits.len() < 32 && chars.peek() == Some(&'-') {
            chars.next();
        }
    }
    if chars.next().is_some() {
        return None;
    }
    Some(format!(
        "{}-{}-{}-{}-{}",
        &digits[..8],
        &digits[8..12],
        &digits[12..16],
        &digits[16..20],
        &digits[20..]
    ))
}

/// `a ± b` where the plan did not know a side's type (a column, a parameter): dates,
/// times and intervals in their stored forms as Postgres adds them (`date + 1` is the next
/// day), numbers as numbers, with Postgres' error where a bigint overflows.
fn untyped_sum(ctx: &Context<'_>, subtract: bool) -> rusqlite::Result<SqlValue> {
    let (a, b) = (ctx.get_raw(0), ctx.get_raw(1));
    if let (ValueRef::Text(_), Some(a_text), Some(b_text)) = (a, stored_text(a), stored_text(b))
        && let Some(answer) =
            super::datetime::untyped_arithmetic(&a_text, &b_text, whole_number(b), subtract)
    {
        return answer;
    }
    // `integer + date` and `interval + timestamp` read the other way round.
    if !subtract
        && let (ValueRef::Text(_), Some(a_text), Some(b_text)) = (b, stored_text(a), stored_text(b))
        && let Some(answer) =
            super::datetime::untyped_arithmetic(&b_text, &a_text, whole_number(a), false)
    {
        return answer;
    }
    if subtract
        && let ValueRef::Text(t) = a
        && let Some(answer) = super::json::untyped_delete(&String::from_utf8_lossy(t), b)
    {
        return answer.map(SqlValue::Text);
    }
    if subtract {
        arithmetic(ctx, i64::checked_sub, |a, b| a - b)
    } else {
        arithmetic(ctx, i64::checked_add, |a, b| a + b)
    }
}

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    // Integer division truncates toward zero, as in Postgres.
    conn.create_scalar_function("pg_div", 2, flags, |ctx| {
        arithmetic(ctx, i64::checked_div, |a, b| a / b)
    })?;
    conn.create_scalar_function("pg_mod", 2, flags, |ctx| {
        arithmetic(ctx, i64::checked_rem, |a, b| a % b)
    })?;
    // Settings are the proxy's (router classify/set_config.rs answers a lone call): a call
    // over a query's rows, such as pg_dump's over the pg_settings row of a setting
    // litescale has not, runs only where no row reaches it.
    conn.create_scalar_function("set_config", 3, FunctionFlags::SQLITE_UTF8, |_| {
        Err::<Option<String>, _>(super::typecheck::postgres_error(
            "0A000",
            "set_config() over a query's rows is not supported by litescale; call \
             SELECT set_config('name', 'value', true|false) alone",
        ))
    })?;
    // A client's CHECK, with the text it wrote beside it for the catalog (router
    // translate/columns.rs): the check's value.
    conn.create_scalar_function("pg_check", 2, flags, |ctx| {
        ctx.get::<rusqlite::types::Value>(0)
    })?;
    conn.create_scalar_function("pg_plus", 2, flags, |ctx| untyped_sum(ctx, false))?;
    conn.create_scalar_function("pg_minus", 2, flags, |ctx| untyped_sum(ctx, true))?;
    // The kind a date function is told for an argument whose type the plan did not know.
    conn.create_scalar_function("pg_kind_of", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => None,
            ValueRef::Text(t) => Some(
                super::datetime::stored_kind_name(&String::from_utf8_lossy(t)).ok_or_else(
                    || {
                        super::typecheck::postgres_error(
                            "42883",
                            &format!(
                                "function does not exist for a value that is not a date, time or interval: \"{}\"",
                                String::from_utf8_lossy(t)
                            ),
                        )
                    },
                )?,
            ),
            _ => {
                return Err(super::typecheck::postgres_error(
                    "42883",
                    "a date/time function does not exist for a number",
                ));
            }
        })
    })?;
    // Postgres' `~` family (POSIX regular expressions; the `regex` crate reads the common
    // subset the same way). The compiled pattern is cached per statement.
    conn.create_scalar_function("pg_regex", 3, flags, |ctx| {
        let Some(text) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let insensitive = ctx.get::<i64>(2)? != 0;
        let re = ctx.get_or_create_aux(1, |v| -> Result<regex::Regex, BoxError> {
            Ok(super::text::regex::compile(v.as_str()?, insensitive)?)
        })?;
        Ok(Some(re.is_match(&text)))
    })?;
    // What a cast to boolean or uuid calls where the router could not settle the value.
    conn.create_scalar_function("pg_bool", 1, flags, |ctx| boolean(ctx.get_raw(0)))?;
    conn.create_scalar_function("pg_uuid", 1, flags, |ctx| {
        let Some(s) = super::args::text(ctx, 0) else {
            return Ok(None);
        };
        canonical_uuid(&s).map(Some).ok_or_else(|| {
            super::typecheck::postgres_error(
                "22P02",
                &format!("invalid input syntax for type uuid: \"{s}\""),
            )
        })
    })?;
    for (name, equal) in [("booleq", true), ("boolne", false)] {
        conn.create_scalar_function(name, 2, flags, move |ctx| {
            let (Some(a), Some(b)) = (boolean(ctx.get_raw(0))?, boolean(ctx.get_raw(1))?) else {
                return Ok(None);
            };
            Ok(Some((a == b) == equal))
        })?;
    }
    for (name, nulls) in [("num_nulls", true), ("num_nonnulls", false)] {
        conn.create_scalar_function(name, -1, flags, move |ctx| {
            let counted = (0..ctx.len())
                .filter(|&i| matches!(ctx.get_raw(i), ValueRef::Null) == nulls)
                .count();
            Ok(counted as i64)
        })?;
    }
    // `pg_single_row(count(*) OVER (), x)`: a scalar subquery's value, or Postgres' 21000
    // when it has more than one row (SQLite takes the first).
    conn.create_scalar_function("pg_single_row", 2, flags, |ctx| {
        if ctx.get::<i64>(0)? > 1 {
            return Err(super::typecheck::postgres_error(
                "21000",
                "more than one row returned by a subquery used as an expression",
            ));
        }
        ctx.get::<rusqlite::types::Value>(1)
    })?;
    // `pg_raise(sqlstate, message)`: fails the statement with that Postgres error (a
    // check the router puts in a batch: translate/rebuild.rs).
    conn.create_scalar_function("pg_raise", 2, flags, |ctx| {
        let sqlstate = ctx.get::<String>(0)?;
        if sqlstate.len() != 5 || !sqlstate.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(super::typecheck::postgres_error(
                "22023",
                "invalid SQLSTATE",
            ));
        }
        Err::<i64, _>(super::typecheck::postgres_error(
            &sqlstate,
            &ctx.get::<String>(1)?,
        ))
    })?;
    // `pg_blob(x)`: x's bytes as a blob; SQLite's group_concat of blobs answers text
    // holding the bytes, which would be read back as UTF-8.
    conn.create_scalar_function("pg_blob", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Text(b) | ValueRef::Blob(b) => Some(b.to_vec()),
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(i.to_string().into_bytes()),
            ValueRef::Real(f) => Some(f.to_string().into_bytes()),
        })
    })?;
    // Postgres' gen_random_uuid(): a version 4 UUID in its text form (not deterministic).
    conn.create_scalar_function("gen_random_uuid", 0, FunctionFlags::SQLITE_UTF8, |_| {
        Ok(uuid::Uuid::new_v4().to_string())
    })?;
    rusqlite::vtab::series::load_module(conn)?;
    Ok(())
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_behaves_as_in_postgres() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, SqlValue>(0));
        assert_eq!(q("SELECT pg_div(7, 2)").unwrap(), SqlValue::Integer(3));
        assert_eq!(q("SELECT pg_div(-7, 2)").unwrap(), SqlValue::Integer(-3));
        assert_eq!(q("SELECT pg_div(7.0, 2)").unwrap(), SqlValue::Real(3.5));
        assert_eq!(q("SELECT pg_mod(-7, 3)").unwrap(), SqlValue::Integer(-1));
        assert_eq!(q("SELECT pg_div(1, NULL)").unwrap(), SqlValue::Null);
        let e: crate::ShardError = q("SELECT pg_div(1, 0)").unwrap_err().into();
        assert_eq!(e.sqlstate, "22012");
        let e: crate::ShardError = q("SELECT pg_div(-9223372036854775808, -1)")
            .unwrap_err()
            .into();
        assert_eq!(e.sqlstate, "22003");
        let n: i64 = c
            .query_row("SELECT count(*) FROM generate_series(1, 10)", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 10);
    }

    #[test]
    fn booleans_and_uuids_are_read_as_postgres_reads_them() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, SqlValue>(0));
        let all =
            |sql: &str| c.query_row(sql, [], |r| (0..6).map(|i| r.get::<_, i64>(i)).collect());
        let read: rusqlite::Result<Vec<i64>> = all(
            "SELECT pg_bool('Yes'), pg_bool('n'), pg_bool(' on '), pg_bool('of'), pg_bool('tru'), pg_bool(5)",
        );
        assert_eq!(read.unwrap(), [1, 0, 1, 0, 1, 1]);
        for bad in ["'o'", "'x'", "'2'", "''"] {
            let e: crate::ShardError = q(&format!("SELECT pg_bool({bad})")).unwrap_err().into();
            assert_eq!(e.sqlstate, "22P02");
        }
        let counts: rusqlite::Result<Vec<i64>> = all(
            "SELECT num_nulls(1, NULL, NULL), num_nonnulls(1, NULL, 'a'), booleq(1, 1), boolne(1, 0), booleq(0, 1), 0",
        );
        assert_eq!(counts.unwrap(), [2, 2, 1, 1, 0, 0]);
        let canonical = SqlValue::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".to_owned());
        for form in [
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
        ] {
            assert_eq!(q(&format!("SELECT pg_uuid('{form}')")).unwrap(), canonical);
        }
        for bad in [
            "not-a-uuid",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
        ] {
            let e: crate::ShardError = q(&format!("SELECT pg_uuid('{bad}')")).unwrap_err().into();
            assert_eq!(e.sqlstate, "22P02");
        }
    }

    #[test]
    fn untyped_sums_add_dates_as_dates_and_numbers_as_numbers() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        super::super::datetime::register(&c).unwrap();
        let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, SqlValue>(0));
        let text = |s: &str| SqlValue::Text(s.to_owned());
        assert_eq!(
            q("SELECT pg_plus('2024-02-28', 2)").unwrap(),
            text("2024-03-01")
        );
        assert_eq!(
            q("SELECT pg_plus(1, '2024-01-30')").unwrap(),
            text("2024-01-31")
        );
        assert_eq!(
            q("SELECT pg_minus('2024-03-01', '2024-02-01')").unwrap(),
            SqlValue::Integer(29)
        );
        assert_eq!(
            q("SELECT pg_minus('2024-03-15 10:00:00', '2024-03-14 08:30:00')").unwrap(),
            text("1 day 01:30:00")
        );
        assert_eq!(
            q("SELECT pg_plus('2024-01-31 10:00:00+00:00', '1 mon')").unwrap(),
            text("2024-02-29 10:00:00+00:00")
        );
        assert_eq!(
            q("SELECT pg_minus('2024-02-29 13:45:30', '00:30:00')").unwrap(),
            text("2024-02-29 13:15:30")
        );
        assert_eq!(q("SELECT pg_plus(5, '3')").unwrap(), SqlValue::Integer(8));
        assert_eq!(q("SELECT pg_minus(2.5, 1)").unwrap(), SqlValue::Real(1.5));
        let e: crate::ShardError = q("SELECT pg_plus(9223372036854775807, 1)")
            .unwrap_err()
            .into();
        assert_eq!(e.sqlstate, "22003");
        assert_eq!(
            q("SELECT pg_kind_of('2024-03-15 10:20:30+00:00')").unwrap(),
            text("timestamptz")
        );
        assert_eq!(
            q("SELECT pg_kind_of('1 day 02:00:00')").unwrap(),
            text("interval")
        );
        let e: crate::ShardError = q("SELECT pg_kind_of(42)").unwrap_err().into();
        assert_eq!(e.sqlstate, "42883");
    }

    #[test]
    fn booleans_read_as_postgres_boolin() {
        let read: Vec<_> = ["Yes", " n ", "of", "tru", "o", "2"].map(parse_bool).into();
        assert_eq!(
            read,
            [Some(true), Some(false), Some(false), Some(true), None, None]
        );
    }
}
