//! The Postgres result types of scalar functions, by name and the types of their
//! arguments (as `pg_typeof` shows them in Postgres 15), for the functions the shard
//! registers (strings, regular expressions, hashes, bytea, math, and the input functions
//! casts call). A leaf: inference asks it.

use crate::types::PgType;

/// The result type of `name(...)`, given the type of its first argument when known and its
/// number of arguments; `None` when this table does not settle it.
pub(super) fn result_type(name: &str, first: Option<PgType>, arity: usize) -> Option<PgType> {
    use PgType::*;
    // Math on integers and floats is done in double precision; on numeric, in numeric.
    let float_or_numeric = || match first? {
        Numeric => Some(Numeric),
        Int2 | Int4 | Int8 | Float4 | Float8 => Some(Float8),
        _ => None,
    };
    Some(match name {
        "btrim" if first == Some(Bytea) => Bytea,
        "split_part" | "initcap" | "lpad" | "rpad" | "repeat" | "reverse" | "translate"
        | "regexp_replace" | "format" | "quote_ident" | "quote_literal" | "quote_nullable"
        | "to_hex" | "chr" | "btrim" | "ltrim" | "rtrim" | "concat" | "concat_ws" | "encode"
        | "convert_from" => Text,
        "regexp_match" | "regexp_split_to_array" => TextArray,
        "starts_with"
        | "booleq"
        | "boolne"
        | "pg_bool"
        | "pg_is_in_recovery"
        | "has_table_privilege"
        | "has_sequence_privilege"
        | "has_schema_privilege"
        | "has_database_privilege"
        | "pg_has_role" => Bool,
        "ascii" | "bit_length" | "position" | "width_bucket" | "get_byte" | "get_bit"
        | "num_nulls" | "num_nonnulls" => Int4,
        "sha224" | "sha256" | "sha384" | "sha512" | "decode" | "set_byte" | "set_bit"
        | "convert_to" | "pg_bytea" => Bytea,
        "gen_random_uuid" | "uuid_generate_v4" | "pg_uuid" => Uuid,
        "pg_int2" => Int2,
        "pg_int4" => Int4,
        "pg_int8" => Int8,
        "pg_typeof" => Regtype,
        // Window functions.
        "row_number" | "rank" | "dense_rank" => Int8,
        "ntile" => Int4,
        "percent_rank" | "cume_dist" => Float8,
        "lag" | "lead" | "first_value" | "last_value" | "nth_value" => first?,
        "round" | "trunc" | "log" if arity == 2 => Numeric,
        "to_number" => Numeric,
        "round" | "trunc" | "ceil" | "ceiling" | "floor" | "sign" | "sqrt" | "exp" | "ln"
        | "log" | "log10" | "power" | "pow" => float_or_numeric()?,
        "cbrt" | "pi" | "degrees" | "radians" | "sin" | "cos" | "tan" | "cot" | "asin" | "acos"
        | "atan" | "atan2" | "sinh" | "cosh" | "tanh" => Float8,
        "div" | "pg_numeric" | "pg_num_exact" | "pg_num_add" | "pg_num_sub" | "pg_num_mul"
        | "pg_num_div" | "pg_num_mod" | "pg_num_neg" | "pg_num_round" | "pg_num_trunc"
        | "pg_num_avg" | "pg_num_var_samp" | "pg_num_var_pop" | "pg_num_stddev_samp"
        | "pg_num_stddev_pop" | "pg_num_trim_scale" | "pg_num_factorial" | "pg_num_log"
        | "trim_scale" | "factorial" => Numeric,
        "scale" | "min_scale" | "pg_num_scale" | "pg_num_min_scale" => Int4,
        // Aggregates: the variance family answers floats' in double precision, the rest
        // in numeric; the two-variable statistics are double precision.
        "stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" => {
            match first? {
                Float4 | Float8 => Float8,
                _ => Numeric,
            }
        }
        "corr"
        | "covar_pop"
        | "covar_samp"
        | "regr_slope"
        | "regr_intercept"
        | "regr_r2"
        | "regr_avgx"
        | "regr_avgy"
        | "regr_sxx"
        | "regr_syy"
        | "regr_sxy"
        | "pg_float_var_samp"
        | "pg_float_var_pop"
        | "pg_float_stddev_samp"
        | "pg_float_stddev_pop" => Float8,
        "regr_count" => Int8,
        "bit_and" | "bit_or" | "bit_xor" => first?,
        "grouping" => Int4,
        // sum(int) is bigint, sum(bigint) and sum(numeric) numeric; of a column whose
        // type only the table knows, unknown (so `x / sum(x)` stays integer division).
        "pg_num_sum" => match first? {
            Int2 | Int4 => Int8,
            Int8 | Numeric => Numeric,
            _ => return None,
        },
        // The number of the numeric expression it holds.
        "pg_num_value" => first?,
        "mod" | "gcd" | "lcm" => first?,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::types::PgType::*;

    fn types(sql: &str) -> Vec<Option<crate::types::PgType>> {
        crate::test_support::one(sql).projection_types(&crate::infer::schema::NoSchema, &[])
    }

    #[test]
    fn function_results_have_postgres_types() {
        assert_eq!(
            types(
                "select split_part('a,b', ',', 1), regexp_match('a', 'a'), sha256('a'), starts_with('a', 'a'), btrim('\\x12'::bytea, '\\x12'::bytea), get_byte('\\x12'::bytea, 0), num_nulls(1, null)"
            ),
            [
                Some(Text),
                Some(TextArray),
                Some(Bytea),
                Some(Bool),
                Some(Bytea),
                Some(Int4),
                Some(Int4)
            ]
        );
        assert_eq!(
            types(
                "select round(5), round(1.5::numeric), round(2.5, 1), sqrt(4), pi(), mod(7, 2), div(7, 2), width_bucket(5, 0, 10, 5)"
            ),
            [
                Some(Float8),
                Some(Numeric),
                Some(Numeric),
                Some(Float8),
                Some(Float8),
                Some(Int4),
                Some(Numeric),
                Some(Int4)
            ]
        );
    }
}
