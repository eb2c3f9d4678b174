//! Dates, times, timestamps and intervals: typed literals, casts, operators and functions
//! become calls of the shard's `pg_*` date functions (shard `engine/sql/datetime/`), each
//! told the kind of value it reads. Knows expressions only.
//!
//! `literals` (typed literals and casts) and `arithmetic` (operators) stand apart;
//! `functions` (Postgres' date functions by name) uses neither. All ask [`kind`].

mod arithmetic;
mod functions;
mod literals;

use sqlparser::ast::Expr;

use super::super::sql::{call, string};
use crate::infer::inference::schemaless_type;
use crate::types::PgType;

pub(super) use arithmetic::{aggregate, binary, negate};
pub(super) use functions::{at_time_zone, extract, rewrite_call};
pub(super) use literals::{cast, interval, typed_literal};

/// Postgres' `now()`: the instant as a stored timestamptz (SQLite's clock, to the
/// millisecond), through the timestamptz input so that the passes after this one see its
/// type (`now()::text` is written in the session's zone).
pub(super) fn now() -> Expr {
    call(
        "pg_timestamptz",
        vec![call(
            "strftime",
            vec![string("%Y-%m-%d %H:%M:%f+00:00"), string("now")],
        )],
    )
}

/// The kind name the shard's date functions take, for a date or time type.
fn kind_name(t: PgType) -> Option<&'static str> {
    Some(match t {
        PgType::Date => "date",
        PgType::Time => "time",
        PgType::Timestamp => "timestamp",
        PgType::Timestamptz => "timestamptz",
        PgType::Interval => "interval",
        _ => return None,
    })
}

/// The type `e` has when the statement alone settles it and it is a date or time type.
fn temporal_type(e: &Expr) -> Option<PgType> {
    schemaless_type(e).filter(|t| kind_name(*t).is_some())
}

/// The kind argument for `e`: its kind when the statement settles it, else the shard's
/// reading of the stored value (a column's type is not known to a plan).
fn kind(e: &Expr) -> Expr {
    match temporal_type(e).and_then(kind_name) {
        Some(k) => string(k),
        None => call("pg_kind_of", vec![e.clone()]),
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn dates_become_the_shards_date_functions_told_their_kind() {
        assert_eq!(
            sql("select date '2024-03-15' + 1, interval '1' day"),
            "SELECT pg_date_add_days(pg_date('2024-03-15'), 1) AS \"?column?\", \
             pg_interval('1', 'DAY') AS \"interval\""
        );
        assert_eq!(
            sql("select extract(year from d), '2024-03-15 10:00'::timestamp - interval '1 day'"),
            "SELECT pg_extract('year', pg_kind_of(d), d) AS \"extract\", \
             pg_sub_interval('timestamp', pg_timestamp('2024-03-15 10:00'), pg_interval('1 day')) \
             AS \"?column?\""
        );
        assert_eq!(
            sql("select interval '1 day' > interval '23 hours'"),
            "SELECT pg_interval_key(pg_interval('1 day')) > \
             pg_interval_key(pg_interval('23 hours')) AS \"?column?\""
        );
    }

    #[test]
    fn extract_compares_as_a_number_and_answers_its_text() {
        assert_eq!(
            sql(
                "select extract(second from t) as s from t where extract(second from t) = 56 \
                 order by s"
            ),
            "SELECT pg_extract('second', pg_kind_of(t), t) AS s FROM t \
             WHERE pg_num_cmp(pg_extract('second', pg_kind_of(t), t), '56') = 0 \
             ORDER BY pg_num_value(pg_extract('second', pg_kind_of(t), t)) NULLS LAST"
        );
    }
}
