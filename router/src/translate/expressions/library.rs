//! Postgres functions that SQLite has under the same name but answers differently, sent to
//! the shard's Postgres versions (shard/src/engine/sql: strings.rs, bytea.rs, math.rs; SUBSTRING and
//! substr are a special form, functions.rs'), and the ones
//! litescale refuses (0A000) because it cannot answer them as Postgres does. Functions
//! SQLite lacks altogether are registered in the shard under their Postgres names and need
//! no translation.

use sqlparser::ast::Expr;

use sqlparser::ast::Value;

use super::super::sql::{call, string};
use crate::RouterError;
use crate::infer::inference::schemaless_type;
use crate::types::{PgType, format_type};

/// The call `name(a)` becomes; `None` when it needs no translation here.
pub(super) fn rewrite(name: &str, a: &[Expr]) -> Result<Option<Expr>, RouterError> {
    let renamed = |to: &str| Ok(Some(call(to, a.to_vec())));
    match (name, a.len()) {
        ("left", 2) => renamed("pg_left"),
        ("right", 2) => renamed("pg_right"),
        ("btrim", 2) if schemaless_type(&a[0]) == Some(PgType::Bytea) => renamed("pg_bytea_trim"),
        ("btrim", 1 | 2) => renamed("trim"),
        // round(double precision) rounds half to even; round(numeric) half away from zero,
        // which is also what an integer gets.
        ("round", 1) if is_float(&a[0]) => renamed("pg_rint"),
        ("round", 1 | 2) => renamed("pg_round"),
        ("trunc", 1 | 2) => renamed("pg_trunc"),
        ("ceiling", 1) => renamed("ceil"),
        ("mod", 2) => renamed("pg_mod"),
        // SQLite's multi-argument max/min are NULL when any argument is.
        ("greatest", _) => renamed("pg_greatest"),
        ("least", _) => renamed("pg_least"),
        // SQLite's coalesce takes two arguments or more.
        ("coalesce", 1) => Ok(Some(a[0].clone())),
        _ => Ok(None),
    }
}

/// The construct refused where only the tables' columns settle `pg_typeof`'s argument.
pub(crate) const PG_TYPEOF_OF_COLUMNS: &str =
    "pg_typeof of an expression whose type depends on a table's columns";

/// `pg_typeof(x)` as the name of the type the statement settles (`integer`); an untyped
/// literal or NULL is `unknown`. Must see `x` as written, before any rewrite.
pub(super) fn type_name_of(x: &Expr) -> Result<Expr, RouterError> {
    if let Expr::Value(v) = x
        && matches!(v.value, Value::SingleQuotedString(_) | Value::Null)
    {
        return Ok(string("unknown"));
    }
    schemaless_type(x)
        .and_then(|t| format_type(t.oid(), -1))
        .map(|name| string(&name))
        .ok_or_else(|| RouterError::unsupported(PG_TYPEOF_OF_COLUMNS))
}

fn is_float(e: &Expr) -> bool {
    matches!(
        schemaless_type(e),
        Some(PgType::Float4 | PgType::Float8 | PgType::Int2 | PgType::Int4 | PgType::Int8)
    )
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn functions_sqlite_answers_differently_go_to_the_shards_postgres_versions() {
        assert_eq!(
            sql("select substr('hello', -1, 3), left('abc', -1), right(s, 2) from t"),
            "SELECT pg_substr('hello', -1, 3) AS \"substr\", pg_left('abc', -1) AS \"left\", \
             pg_right(s, 2) AS \"right\" FROM t"
        );
        assert_eq!(
            sql("select round(2.5), round(2.5::float8), round(x, 2), trunc(x), mod(7, 2)"),
            "SELECT pg_num_round('2.5') AS \"round\", pg_rint(pg_float8('2.5')) AS \"round\", \
             pg_num_round(x, 2) AS \"round\", pg_trunc(x) AS \"trunc\", pg_mod(7, 2) AS \"mod\""
        );
        assert_eq!(
            sql("select greatest(1, null, 3), least('b', 'a')"),
            "SELECT pg_greatest(1, NULL, 3) AS \"greatest\", pg_least('b', 'a') AS \"least\""
        );
        assert_eq!(
            sql("select substring('hello' from 2 for 3)"),
            "SELECT pg_substr('hello', 2, 3) AS \"substring\""
        );
    }

    #[test]
    fn log_with_a_base_is_numerics_exact_log() {
        assert_eq!(
            sql("select log(2, 8.0)"),
            "SELECT pg_num_log('2', '8.0') AS \"log\""
        );
    }
}
