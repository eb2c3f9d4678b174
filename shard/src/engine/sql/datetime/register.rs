//! The SQL names of the date/time functions: each reads its arguments (NULL in, NULL out),
//! calls the Rust that knows Postgres' rules, and answers in the stored forms.

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};

use super::super::args::text;
use super::{input, interval_input};

/// The text arguments, or `None` when one is NULL.
fn texts<const N: usize>(ctx: &Context<'_>) -> Option<[String; N]> {
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = text(ctx, i)?;
    }
    Some(out)
}

pub(crate) fn register(c: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    c.create_scalar_function("pg_date", 1, flags, |ctx| {
        texts(ctx)
            .map(|[t]| Ok(input::date(&t)?.format()?))
            .transpose()
    })?;
    c.create_scalar_function("pg_time", 1, flags, |ctx| {
        texts(ctx)
            .map(|[t]| Ok(super::values::format_time(input::time(&t)?)))
            .transpose()
    })?;
    c.create_scalar_function("pg_timestamp", 1, flags, |ctx| {
        texts(ctx)
            .map(|[t]| Ok(input::timestamp(&t)?.format()?))
            .transpose()
    })?;
    c.create_scalar_function("pg_timestamptz", 1, flags, |ctx| {
        texts(ctx)
            .map(|[t]| Ok(input::timestamptz(&t)?.format_tz()?))
            .transpose()
    })?;
    c.create_scalar_function("pg_interval", 1, flags, |ctx| {
        texts(ctx)
            .map(|[t]| Ok(interval_input::parse(&t)?.to_string()))
            .transpose()
    })?;
    c.create_scalar_function("pg_interval", 2, flags, |ctx| {
        texts(ctx)
            .map(|[t, q]| Ok(interval_input::parse_qualified(&t, &q)?.to_string()))
            .transpose()
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    fn connection() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        super::register(&c).unwrap();
        c
    }

    fn answer(c: &Connection, sql: &str) -> Option<String> {
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn input_functions_answer_stored_forms_through_sqlite() {
        let c = connection();
        assert_eq!(
            answer(&c, "SELECT pg_interval('1.5 months')").as_deref(),
            Some("1 mon 15 days")
        );
        assert_eq!(
            answer(&c, "SELECT pg_interval('1 2', 'DAY TO HOUR')").as_deref(),
            Some("1 day 02:00:00")
        );
        assert_eq!(
            answer(&c, "SELECT pg_date('March 15, 2024')").as_deref(),
            Some("2024-03-15")
        );
        assert_eq!(
            answer(&c, "SELECT pg_time('2024-03-15 10:20:30')").as_deref(),
            Some("10:20:30")
        );
        assert_eq!(
            answer(&c, "SELECT pg_timestamp('2024-03-15')").as_deref(),
            Some("2024-03-15 00:00:00")
        );
        assert_eq!(
            answer(
                &c,
                "SELECT pg_timestamptz('2024-03-15 10:20:30 America/New_York')"
            )
            .as_deref(),
            Some("2024-03-15 14:20:30+00:00")
        );
        assert_eq!(answer(&c, "SELECT pg_date(NULL)"), None);
    }

    #[test]
    fn errors_carry_the_sqlstate() {
        let c = connection();
        let e = c
            .query_row("SELECT pg_date('2024-02-30')", [], |r| {
                r.get::<_, String>(0)
            })
            .unwrap_err();
        let shard = crate::engine::sql::typecheck::error_of(&e.to_string()).unwrap();
        assert_eq!(shard.sqlstate, "22008");
    }
}
