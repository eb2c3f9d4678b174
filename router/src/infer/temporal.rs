//! The result types of date, time and interval operators and functions: Postgres' own
//! names, and the shard's `pg_*` date functions the translator turns them into (so an
//! expression keeps its type after its parts are rewritten). A leaf: inference asks it.

use sqlparser::ast::BinaryOperator as B;

use crate::types::PgType::{self, *};

fn is_integer(t: PgType) -> bool {
    matches!(t, Int2 | Int4 | Int8)
}

/// Postgres' numeric category: the types an interval is scaled by.
pub(crate) fn is_number(t: PgType) -> bool {
    matches!(t, Int2 | Int4 | Int8 | Numeric | Float4 | Float8)
}

/// The type of a date or time kind named as the translator names it (`'timestamptz'`).
pub(crate) fn of_kind(kind: &str) -> Option<PgType> {
    Some(match kind {
        "date" => Date,
        "time" => Time,
        "timestamp" => Timestamp,
        "timestamptz" => Timestamptz,
        "interval" => Interval,
        _ => return None,
    })
}

/// `left op right` where a side is a date, time or interval; `None` otherwise.
pub(super) fn operator(op: &B, left: Option<PgType>, right: Option<PgType>) -> Option<PgType> {
    let (l, r) = (left?, right?);
    Some(match (op, l, r) {
        (B::Plus, Date, n) | (B::Plus, n, Date) | (B::Minus, Date, n) if is_integer(n) => Date,
        (B::Minus, Date, Date) => Int4,
        (B::Plus, Date | Timestamp, Interval) | (B::Plus, Interval, Date | Timestamp) => Timestamp,
        (B::Minus, Date | Timestamp, Interval) => Timestamp,
        (B::Plus, Date, Time) | (B::Plus, Time, Date) => Timestamp,
        (B::Plus, Timestamptz, Interval)
        | (B::Plus, Interval, Timestamptz)
        | (B::Minus, Timestamptz, Interval) => Timestamptz,
        (B::Plus, Time, Interval) | (B::Plus, Interval, Time) | (B::Minus, Time, Interval) => Time,
        (B::Minus, Timestamp | Timestamptz | Time, Timestamp | Timestamptz | Time) => Interval,
        (B::Plus | B::Minus, Interval, Interval) => Interval,
        // A time scales as the interval it casts to.
        (B::Multiply, Interval | Time, n)
        | (B::Multiply, n, Interval | Time)
        | (B::Divide, Interval | Time, n)
            if is_number(n) =>
        {
            Interval
        }
        _ => return None,
    })
}

/// The result of a date or time function, given its arguments' types and, for the shard's
/// functions told a kind, that kind (`kind_arg`: the call's first string argument).
pub(super) fn function(
    name: &str,
    first: Option<PgType>,
    second: Option<PgType>,
    kind_arg: Option<&str>,
) -> Option<PgType> {
    let kind = kind_arg.and_then(of_kind);
    Some(match name {
        "pg_date" | "make_date" | "pg_make_date" | "to_date" | "pg_to_date"
        | "pg_date_add_days" => Date,
        "pg_time" | "make_time" | "pg_make_time" => Time,
        "pg_timestamp" | "make_timestamp" | "pg_make_timestamp" | "pg_date_add_time" => Timestamp,
        "pg_timestamptz"
        | "make_timestamptz"
        | "pg_make_timestamptz"
        | "to_timestamp"
        | "pg_to_timestamp" => Timestamptz,
        "pg_interval"
        | "pg_interval_add"
        | "pg_interval_sub"
        | "pg_interval_mul"
        | "pg_interval_div"
        | "pg_interval_neg"
        | "pg_interval_sum"
        | "pg_interval_avg"
        | "pg_interval_max"
        | "pg_interval_min"
        | "pg_timestamp_diff"
        | "pg_time_diff"
        | "age"
        | "pg_age"
        | "justify_days"
        | "justify_hours"
        | "justify_interval"
        | "pg_justify_days"
        | "pg_justify_hours"
        | "pg_justify_interval"
        | "make_interval"
        | "pg_make_interval" => Interval,
        "pg_date_diff" => Int4,
        "pg_interval_key" => Int8,
        "extract" | "pg_extract" => Numeric,
        "date_part" | "pg_date_part" => Float8,
        "to_char" | "pg_to_char" => Text,
        "isfinite" | "pg_isfinite" | "pg_overlaps" => Bool,
        // A date is truncated as the timestamptz it casts to.
        "date_trunc" => match second? {
            Date => Timestamptz,
            other => other,
        },
        "pg_date_trunc" => kind?,
        "pg_add_interval" | "pg_sub_interval" => match kind? {
            Date => Timestamp,
            other => other,
        },
        "pg_at_time_zone" => at_time_zone(kind?)?,
        "timezone" => at_time_zone(second?)?,
        "sum" | "avg" if first? == Interval => Interval,
        _ => return None,
    })
}

/// `x AT TIME ZONE z`: a local timestamp becomes an instant, an instant a local timestamp.
pub(super) fn at_time_zone(t: PgType) -> Option<PgType> {
    match t {
        Timestamp | Date => Some(Timestamptz),
        Timestamptz => Some(Timestamp),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_arithmetic_has_postgres_result_types() {
        assert_eq!(operator(&B::Plus, Some(Date), Some(Int4)), Some(Date));
        assert_eq!(operator(&B::Minus, Some(Date), Some(Date)), Some(Int4));
        assert_eq!(
            operator(&B::Plus, Some(Date), Some(Interval)),
            Some(Timestamp)
        );
        assert_eq!(
            operator(&B::Minus, Some(Timestamp), Some(Timestamp)),
            Some(Interval)
        );
        assert_eq!(
            operator(&B::Multiply, Some(Int4), Some(Interval)),
            Some(Interval)
        );
        assert_eq!(operator(&B::Plus, Some(Int4), Some(Int4)), None);
        assert_eq!(
            function("date_trunc", None, Some(Date), None),
            Some(Timestamptz)
        );
        assert_eq!(
            function("pg_add_interval", None, None, Some("date")),
            Some(Timestamp)
        );
    }
}
