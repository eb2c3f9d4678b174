//! Casts as SQLite has them: `x::type` → `CAST(x AS affinity)`, the catalog's OID types
//! as integers and regclass as a lookup. Integers, floats, booleans, uuids and bytea go
//! through the shard's input functions (pg_int2/4/8, pg_float4/8, pg_bool, pg_uuid,
//! pg_bytea), which read every form Postgres accepts; booleans and bytea become text in
//! Postgres' output forms. A cast to a type SQLite has no
//! name for is refused.

use std::ops::ControlFlow;

use sqlparser::ast::{BinaryOperator, CastKind, DataType, Expr, Statement, visit_expressions_mut};

use super::super::catalog::regclass_lookup;
use super::super::sql::{call, for_each_answered_item, number, string};
use crate::RouterError;
use crate::infer::inference::schemaless_type;
use crate::types::catalog_type_name;
use crate::types::{PgType, from_data_type};

/// The SQLite type a Postgres cast target converts to. SQLite's CAST follows type
/// affinity, so the target is the affinity's name.
fn sqlite_cast_target(t: &DataType) -> Option<DataType> {
    Some(match from_data_type(t)? {
        PgType::Float4 | PgType::Float8 => DataType::Real,
        PgType::Numeric => DataType::Numeric(sqlparser::ast::ExactNumberInfo::None),
        PgType::Bool | PgType::Uuid | PgType::Bytea => return None,
        _ => DataType::Text,
    })
}

/// What a cast becomes where SQLite's CAST would not answer as Postgres: input functions
/// for integers (rounding, range and input errors), booleans, uuids and bytea, and the
/// text forms of booleans and bytea.
fn postgres_cast(inner: &Expr, target: PgType) -> Option<Expr> {
    let input = |function: &str| Some(call(function, vec![inner.clone()]));
    let integer = |function: &str| {
        Some(match schemaless_type(inner) {
            // A double rounds half to even, as Postgres' float-to-integer casts do.
            Some(PgType::Float4 | PgType::Float8) => {
                call(function, vec![call("pg_rint", vec![inner.clone()])])
            }
            // A numeric may be the shard's numeric text, which integer input refuses:
            // rounded (half away from zero) to a whole number first.
            Some(PgType::Numeric) => call(
                function,
                vec![call(
                    "pg_num_value",
                    vec![call("pg_num_round", vec![inner.clone()])],
                )],
            ),
            _ => call(function, vec![inner.clone()]),
        })
    };
    match (target, schemaless_type(inner)) {
        (PgType::Int2, _) => integer("pg_int2"),
        (PgType::Int4, _) => integer("pg_int4"),
        (PgType::Int8, _) => integer("pg_int8"),
        // Numbers are already SQLite numbers; other values (text, a numeric's text) are
        // read as Postgres reads a float: Infinity spelled out, range errors.
        (
            PgType::Float4 | PgType::Float8,
            Some(PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Float4 | PgType::Float8),
        ) => None,
        // A number as written: float input's range check sees its digits (`1e400` is
        // 22003), which SQLite would have read as Infinity.
        (PgType::Float4 | PgType::Float8, _) if matches!(inner, Expr::Value(v) if matches!(v.value, sqlparser::ast::Value::Number(..))) =>
        {
            let Expr::Value(v) = inner else {
                return None;
            };
            let sqlparser::ast::Value::Number(digits, _) = &v.value else {
                return None;
            };
            let function = if target == PgType::Float4 {
                "pg_float4"
            } else {
                "pg_float8"
            };
            Some(call(function, vec![string(digits)]))
        }
        (PgType::Float4, _) => input("pg_float4"),
        (PgType::Float8, _) => input("pg_float8"),
        (PgType::Bool, _) => input("pg_bool"),
        (PgType::Uuid, _) => input("pg_uuid"),
        (PgType::Bytea, _) => input("pg_bytea"),
        (PgType::Text | PgType::Varchar | PgType::Bpchar, Some(PgType::Bool)) => Some(Expr::Case {
            case_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
            end_token: sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
            operand: None,
            conditions: vec![
                sqlparser::ast::CaseWhen {
                    condition: inner.clone(),
                    result: string("true"),
                },
                sqlparser::ast::CaseWhen {
                    condition: Expr::UnaryOp {
                        op: sqlparser::ast::UnaryOperator::Not,
                        expr: Box::new(Expr::Nested(Box::new(inner.clone()))),
                    },
                    result: string("false"),
                },
            ],
            else_result: None,
        }),
        // An instant's text form is in the session's zone, which the shard knows.
        (PgType::Text | PgType::Varchar | PgType::Bpchar, Some(PgType::Timestamptz)) => {
            input("pg_timestamptz_text")
        }
        // bytea's text form is its hex output.
        (PgType::Text | PgType::Varchar | PgType::Bpchar, Some(PgType::Bytea)) => {
            Some(Expr::Nested(Box::new(Expr::BinaryOp {
                left: Box::new(string("\\x")),
                op: BinaryOperator::StringConcat,
                right: Box::new(call("encode", vec![inner.clone(), string("hex")])),
            })))
        }
        _ => None,
    }
}

/// `x::type` → `CAST(x AS sqlite_type)`; `'yes'::boolean` → `pg_bool('yes')`.
pub(super) fn rewrite_casts(ast: &mut Statement) -> Result<(), RouterError> {
    let flow = visit_expressions_mut(ast, |expr| {
        let Expr::Cast {
            kind,
            expr: inner,
            data_type,
            ..
        } = expr
        else {
            return ControlFlow::Continue(());
        };
        match catalog_cast(data_type) {
            // A type's name (`'jsonb'`, Rails; `'"public"."mood"'`, TypeORM) or an OID.
            Some(CatalogCast::Regtype) => {
                *expr = call("pg_regtype", vec![(**inner).clone()]);
                return ControlFlow::Continue(());
            }
            Some(CatalogCast::Integer) => {
                *kind = CastKind::Cast;
                *data_type = DataType::Integer(None);
                return ControlFlow::Continue(());
            }
            Some(CatalogCast::Text) => {
                *kind = CastKind::Cast;
                *data_type = DataType::Text;
                return ControlFlow::Continue(());
            }
            Some(CatalogCast::Regclass) => {
                // A relation name (possibly schema-qualified) → its OID; a number stays.
                let name = (**inner).clone();
                *expr = call(
                    "coalesce",
                    vec![
                        regclass_lookup(name.clone()),
                        Expr::Cast {
                            kind: CastKind::Cast,
                            expr: Box::new(name),
                            data_type: DataType::Integer(None),
                            format: None,
                        },
                    ],
                );
                return ControlFlow::Continue(());
            }
            None => {}
        }
        if let Some(replacement) = declared_length_cast(inner, data_type) {
            *expr = replacement;
            return ControlFlow::Continue(());
        }
        if let Some(replacement) =
            from_data_type(data_type).and_then(|target| postgres_cast(inner, target))
        {
            *expr = replacement;
            return ControlFlow::Continue(());
        }
        if let Some(target) = sqlite_cast_target(data_type) {
            *kind = CastKind::Cast;
            *data_type = target;
            return ControlFlow::Continue(());
        }
        // A type litescale does not know by name may be an enum: its labels alone pass.
        if let Some(name) = crate::types::user_type_name(data_type) {
            *expr = call("pg_enum_in", vec![(**inner).clone(), string(&name)]);
            return ControlFlow::Continue(());
        }
        // A type SQLite has no name for (an unknown or composite type): refuse.
        ControlFlow::Break(RouterError::unsupported(&format!("cast to {data_type}")))
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// An explicit cast to varchar(n) or character(n) cuts the text to n characters
/// (`character` alone is character(1)). character(n)'s blank padding is not added: Postgres
/// ignores it in comparisons and concatenation, where SQLite would not.
fn declared_length_cast(inner: &Expr, t: &DataType) -> Option<Expr> {
    use sqlparser::ast::CharacterLength;
    let length = match t {
        DataType::Varchar(n)
        | DataType::CharacterVarying(n)
        | DataType::CharVarying(n)
        | DataType::Char(n)
        | DataType::Character(n) => match n {
            Some(CharacterLength::IntegerLength { length, .. }) => *length,
            None if matches!(t, DataType::Char(_) | DataType::Character(_)) => 1,
            _ => return None,
        },
        _ => return None,
    };
    let text = postgres_cast(inner, PgType::Text).unwrap_or_else(|| inner.clone());
    Some(call("substr", vec![text, number(1), number(length)]))
}

enum CatalogCast {
    Integer,
    Regtype,
    Text,
    Regclass,
}

/// Casts to Postgres' object-identifier types, which psql and drivers use on the catalog.
fn catalog_cast(t: &DataType) -> Option<CatalogCast> {
    match t {
        DataType::Regclass => Some(CatalogCast::Regclass),
        // Arrays are kept as Postgres' text form.
        DataType::Array(_) => Some(CatalogCast::Text),
        DataType::Custom(name, _) => match catalog_type_name(name).as_str() {
            "regclass" => Some(CatalogCast::Regclass),
            "regtype" => Some(CatalogCast::Regtype),
            "oid" | "regproc" | "regprocedure" | "regnamespace" | "regrole" | "xid" | "cid"
            | "int2vector" | "oidvector" => Some(CatalogCast::Integer),
            "name" | "char" | "\"char\"" => Some(CatalogCast::Text),
            _ => None,
        },
        _ => None,
    }
}

/// A character(n) cast the outermost select list answers, with its blank padding
/// (`'abc'::char(5)` is `abc  `). Only there: Postgres ignores the padding where it
/// compares or concatenates, and SQLite would not.
pub(super) fn pad_answered_characters(ast: &mut Statement) {
    let Statement::Query(query) = ast else {
        return;
    };
    for_each_answered_item(query, &mut |expr| {
        let length = match expr {
            Expr::Cast {
                data_type: DataType::Char(Some(n)) | DataType::Character(Some(n)),
                ..
            } => match n {
                sqlparser::ast::CharacterLength::IntegerLength { length, .. } => *length,
                sqlparser::ast::CharacterLength::Max => return,
            },
            _ => return,
        };
        *expr = call("rpad", vec![expr.clone(), number(length)]);
    });
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn casts_use_sqlite_affinities() {
        assert_eq!(
            sql("select x::int, '1.5'::float8, 2::float8, 'a'::varchar, 't'::boolean"),
            "SELECT pg_int4(x) AS \"x\", pg_float8('1.5') AS \"float8\", \
             CAST(2 AS REAL) AS \"float8\", \
             CAST('a' AS TEXT) AS \"varchar\", pg_bool('t') AS \"bool\""
        );
    }

    #[test]
    fn declared_lengths_cut() {
        assert_eq!(
            sql("select 'abc'::varchar(2), 'abc'::char(5), 'abc'::char, length('ab '::char(5))"),
            "SELECT substr('abc', 1, 2) AS \"varchar\", rpad(substr('abc', 1, 5), 5) AS \"bpchar\", \
             substr('abc', 1, 1) AS \"bpchar\", length(rtrim(substr('ab ', 1, 5), ' ')) AS \"length\""
        );
    }

    #[test]
    fn booleans_and_bytea_cast_to_text_in_postgres_output_forms() {
        assert_eq!(
            sql(
                "select (1 < 2)::text, 'ab'::bytea::text, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid"
            ),
            "SELECT CASE WHEN (1 < 2) THEN 'true' WHEN NOT ((1 < 2)) THEN 'false' END AS \"text\", \
             ('\\x' || encode(pg_bytea('ab'), 'hex')) AS \"text\", \
             pg_uuid('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11') AS \"uuid\""
        );
    }
}
