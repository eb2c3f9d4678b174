//! Casts as SQLite has them: `x::type` → `CAST(x AS affinity)`, booleans as 0/1, the
//! catalog's OID types as integers and regclass as a lookup. A cast to a type SQLite has
//! no name for is refused.

use std::ops::ControlFlow;

use sqlparser::ast::{CastKind, DataType, Expr, Statement, Value, visit_expressions_mut};

use super::super::catalog::regclass_lookup;
use super::super::sql::call;
use crate::RouterError;
use crate::types::{PgType, from_data_type, parse_bool};

/// The SQLite type a Postgres cast target converts to. SQLite's CAST follows type
/// affinity, so the target is the affinity's name.
fn sqlite_cast_target(t: &DataType) -> Option<DataType> {
    Some(match from_data_type(t)? {
        PgType::Int2 | PgType::Int4 | PgType::Int8 => DataType::Integer(None),
        PgType::Float4 | PgType::Float8 => DataType::Real,
        PgType::Numeric => DataType::Numeric(sqlparser::ast::ExactNumberInfo::None),
        PgType::Bytea => DataType::Blob(None),
        PgType::Bool => return None,
        _ => DataType::Text,
    })
}

/// `x::type` → `CAST(x AS sqlite_type)`; `'true'::boolean` → `1`.
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
        if let Some(target) = sqlite_cast_target(data_type) {
            *kind = CastKind::Cast;
            *data_type = target;
            return ControlFlow::Continue(());
        }
        if from_data_type(data_type) == Some(PgType::Bool) {
            let replacement = match inner.as_ref() {
                Expr::Value(v) => match &v.value {
                    Value::SingleQuotedString(s) => match parse_bool(s) {
                        Some(b) => Expr::value(Value::Number((b as u8).to_string(), false)),
                        None => {
                            return ControlFlow::Break(RouterError {
                                sqlstate: "22P02",
                                message: format!("invalid input syntax for type boolean: \"{s}\""),
                            });
                        }
                    },
                    _ => bool_of(inner),
                },
                _ => bool_of(inner),
            };
            *expr = replacement;
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

enum CatalogCast {
    Integer,
    Text,
    Regclass,
}

/// Casts to Postgres' object-identifier types, which psql and drivers use on the catalog.
fn catalog_cast(t: &DataType) -> Option<CatalogCast> {
    match t {
        DataType::Regclass => Some(CatalogCast::Regclass),
        // Arrays are kept as Postgres' text form.
        DataType::Array(_) => Some(CatalogCast::Text),
        DataType::Custom(name, _) => match name
            .to_string()
            .to_ascii_lowercase()
            .trim_start_matches("pg_catalog.")
        {
            "regclass" => Some(CatalogCast::Regclass),
            "oid" | "regtype" | "regproc" | "regprocedure" | "regnamespace" | "regrole" | "xid"
            | "cid" | "int2vector" | "oidvector" => Some(CatalogCast::Integer),
            "name" | "char" | "\"char\"" => Some(CatalogCast::Text),
            _ => None,
        },
        _ => None,
    }
}

/// A non-literal cast to boolean: numbers are true when non-zero, as in Postgres.
fn bool_of(inner: &Expr) -> Expr {
    Expr::Nested(Box::new(Expr::BinaryOp {
        left: Box::new(Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(inner.clone()),
            data_type: DataType::Integer(None),
            format: None,
        }),
        op: sqlparser::ast::BinaryOperator::NotEq,
        right: Box::new(Expr::value(Value::Number("0".to_owned(), false))),
    }))
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::test_support::sql;

    #[test]
    fn casts_use_sqlite_affinities() {
        assert_eq!(
            sql("select x::int, '1.5'::float8, 'a'::varchar(3), 't'::boolean"),
            "SELECT CAST(x AS INTEGER) AS \"x\", CAST('1.5' AS REAL) AS \"float8\", \
             CAST('a' AS TEXT) AS \"varchar\", 1 AS \"bool\""
        );
        assert_eq!(
            plan("select 'maybe'::boolean").unwrap_err().sqlstate,
            "22P02"
        );
    }
}
