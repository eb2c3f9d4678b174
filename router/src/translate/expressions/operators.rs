//! Operators SQLite lacks or reads differently: LIKE's escape, ILIKE, `/` and `%` (22012 on
//! zero), `^@`, `^`, `#`, `||` of booleans and numerics, the regular-expression matches,
//! array subscripts, COLLATE, OVERLAY, string literals beside a uuid or bytea (read with
//! that type's input function); SIMILAR TO with a literal pattern (others are refused).

use sqlparser::ast::{BinaryOperator, Expr, InTarget, Value};

use super::super::sql::{call, number, string, strip_nesting};
use crate::RouterError;
use crate::infer::inference::schemaless_type;
use crate::types::PgType;

/// An operator expression rewritten for SQLite; `None` when SQLite reads it as Postgres.
pub(super) fn rewrite(expr: &Expr) -> Result<Option<Expr>, RouterError> {
    Ok(match expr {
        // A row is null when every field is, and not null when none is; SQLite has no
        // IS NULL of a row value.
        Expr::IsNull(row) | Expr::IsNotNull(row) if row_fields(row).is_some() => {
            let Some(fields) = row_fields(row) else {
                return Ok(None);
            };
            let test = |f: &Expr| match expr {
                Expr::IsNull(_) => Expr::IsNull(Box::new(f.clone())),
                _ => Expr::IsNotNull(Box::new(f.clone())),
            };
            fields
                .iter()
                .map(test)
                .reduce(|a, b| Expr::BinaryOp {
                    left: Box::new(a),
                    op: BinaryOperator::And,
                    right: Box::new(b),
                })
                .map(|all| Expr::Nested(Box::new(all)))
        }
        // A row constructor compared is SQLite's row value (`ROW(1, 'a') = ROW(1, 'a')`).
        Expr::BinaryOp { left, op, right }
            if is_comparison(op) && (is_row_call(left) || is_row_call(right)) =>
        {
            let as_row = |e: &Expr| match row_fields(e) {
                Some(fields) => Expr::Tuple(fields),
                None => e.clone(),
            };
            Some(Expr::BinaryOp {
                left: Box::new(as_row(left)),
                op: op.clone(),
                right: Box::new(as_row(right)),
            })
        }
        // SQLite's LIKE is made case-sensitive (as Postgres') on every connection, so
        // ILIKE compares lower-cased sides.
        Expr::ILike {
            negated,
            any: false,
            expr: e,
            pattern,
            escape_char,
        } => Some(Expr::Like {
            negated: *negated,
            any: false,
            expr: Box::new(call("lower", vec![(**e).clone()])),
            pattern: Box::new(call("lower", vec![(**pattern).clone()])),
            escape_char: Some(escape_char.clone().unwrap_or_else(backslash)),
        }),
        // Postgres' LIKE escapes with `\` unless told otherwise; SQLite's has no escape.
        Expr::Like {
            negated,
            any: false,
            expr: e,
            pattern,
            escape_char: None,
        } => Some(Expr::Like {
            negated: *negated,
            any: false,
            expr: e.clone(),
            pattern: pattern.clone(),
            escape_char: Some(backslash()),
        }),
        // Postgres raises 22012 on division by zero where SQLite returns NULL; the
        // shard registers pg_div / pg_mod with Postgres' behaviour.
        Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::Divide | BinaryOperator::Modulo),
            right,
        } => {
            let f = if *op == BinaryOperator::Divide {
                "pg_div"
            } else {
                "pg_mod"
            };
            Some(call(f, vec![(**left).clone(), (**right).clone()]))
        }
        // `||` concatenates output forms: a boolean's `true`, a numeric's digits as kept.
        Expr::BinaryOp {
            left,
            op: BinaryOperator::StringConcat,
            right,
        } if concat_text_form(left).is_some() || concat_text_form(right).is_some() => {
            Some(Expr::BinaryOp {
                left: Box::new(concat_text_form(left).unwrap_or_else(|| (**left).clone())),
                op: BinaryOperator::StringConcat,
                right: Box::new(concat_text_form(right).unwrap_or_else(|| (**right).clone())),
            })
        }
        // `^@` is starts_with, which the shard registers.
        Expr::BinaryOp {
            left,
            op: BinaryOperator::PGStartsWith,
            right,
        } => Some(call(
            "starts_with",
            vec![(**left).clone(), (**right).clone()],
        )),
        // `^` is exponentiation, `#` exclusive or.
        Expr::BinaryOp {
            left,
            op: BinaryOperator::PGExp,
            right,
        } => Some(call("power", vec![(**left).clone(), (**right).clone()])),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::PGBitwiseXor,
            right,
        } => {
            let both = |op| {
                Expr::Nested(Box::new(Expr::BinaryOp {
                    left: left.clone(),
                    op,
                    right: right.clone(),
                }))
            };
            Some(Expr::BinaryOp {
                left: Box::new(both(BinaryOperator::BitwiseOr)),
                op: BinaryOperator::BitwiseAnd,
                right: Box::new(Expr::UnaryOp {
                    op: sqlparser::ast::UnaryOperator::BitwiseNot,
                    expr: Box::new(both(BinaryOperator::BitwiseAnd)),
                }),
            })
        }
        // `|/ x`, `||/ x`, `@ x`.
        Expr::UnaryOp { op, expr: x } => {
            use sqlparser::ast::UnaryOperator as U;
            let function = match op {
                U::PGSquareRoot => "sqrt",
                U::PGCubeRoot => "cbrt",
                U::PGAbs => "abs",
                _ => return Ok(None),
            };
            Some(call(function, vec![(**x).clone()]))
        }
        Expr::Collate { expr: inner, .. } => Some((**inner).clone()),
        // `(keys).x`: the only composites are _pg_expandarray's, which stand for their
        // element (see the set-returning function rewrite).
        Expr::CompoundFieldAccess { root, access_chain }
            if matches!(
                access_chain.as_slice(),
                [sqlparser::ast::AccessExpr::Dot(Expr::Identifier(f))] if f.value == "x"
            ) && !matches!(strip_nesting(root), Expr::Function(_)) =>
        {
            Some((**root).clone())
        }
        // `a[i]` (also `t.a[i]`, `a[i][j]`) on an array kept as text `{x,y}`.
        Expr::CompoundFieldAccess { root, access_chain } => {
            subscripted(root, access_chain).map(|args| call("pg_array_get", args))
        }
        Expr::BinaryOp { left, op, right } if regex_flags(op).is_some() => {
            let (negated, insensitive) = regex_flags(op).unwrap_or_default();
            let test = call(
                "pg_regex",
                vec![
                    (**left).clone(),
                    (**right).clone(),
                    number(insensitive as u8),
                ],
            );
            Some(if negated {
                Expr::UnaryOp {
                    op: sqlparser::ast::UnaryOperator::Not,
                    expr: Box::new(test),
                }
            } else {
                test
            })
        }
        // SQLite has no OVERLAY; the shard's takes text or bytea.
        Expr::Overlay {
            expr: s,
            overlay_what,
            overlay_from,
            overlay_for,
        } => Some(call(
            "pg_overlay",
            [s, overlay_what, overlay_from]
                .into_iter()
                .chain(overlay_for)
                .map(|e| (**e).clone())
                .collect(),
        )),
        // A string beside a uuid or bytea is that type's input, as an untyped literal is in
        // Postgres: any form of a uuid matches the canonical one; `data || '\x21'` appends
        // one byte.
        Expr::BinaryOp { left, op, right } if takes_other_side_type(op) => {
            match (typed_input(left, right), typed_input(right, left)) {
                (None, None) => None,
                (l, r) => Some(Expr::BinaryOp {
                    left: Box::new(l.unwrap_or_else(|| (**left).clone())),
                    op: op.clone(),
                    right: Box::new(r.unwrap_or_else(|| (**right).clone())),
                }),
            }
        }
        Expr::In {
            expr: e,
            target: InTarget::List(list),
            negated,
            global,
        } if list.iter().any(|item| typed_input(item, e).is_some()) => Some(Expr::In {
            expr: e.clone(),
            target: InTarget::List(
                list.iter()
                    .map(|item| typed_input(item, e).unwrap_or_else(|| item.clone()))
                    .collect(),
            ),
            negated: *negated,
            global: *global,
        }),
        // A boolean IS UNKNOWN exactly when it is NULL.
        Expr::IsUnknown(e) => Some(Expr::IsNull(e.clone())),
        Expr::IsNotUnknown(e) => Some(Expr::IsNotNull(e.clone())),
        // SIMILAR TO with a literal pattern is the POSIX expression Postgres turns it into.
        Expr::SimilarTo {
            negated,
            expr: e,
            pattern,
            escape_char: None,
        } if as_string(pattern).is_some() => {
            let posix = similar_to_posix(as_string(pattern).unwrap_or_default());
            let test = call("pg_regex", vec![(**e).clone(), string(&posix), number(0)]);
            Some(if *negated {
                Expr::UnaryOp {
                    op: sqlparser::ast::UnaryOperator::Not,
                    expr: Box::new(test),
                }
            } else {
                test
            })
        }
        Expr::SimilarTo { .. } => {
            return Err(RouterError {
                sqlstate: "0A000",
                message: "SIMILAR TO with a computed pattern or an ESCAPE clause is not supported by litescale".to_owned(),
            });
        }
        _ => None,
    })
}

/// The string literal `'\'`, LIKE's default escape character in Postgres.
fn backslash() -> Box<Expr> {
    Box::new(Expr::value(Value::SingleQuotedString("\\".to_owned())))
}

/// `-a ^ b`: Postgres' unary minus binds tighter than `^` (`-2 ^ 2` is 4), where the
/// parser made it `-(a ^ b)`: the minus goes to the leftmost operand of the `^` chain.
pub(super) fn minus_before_exponent(expr: &Expr) -> Option<Expr> {
    let Expr::UnaryOp {
        op: sqlparser::ast::UnaryOperator::Minus,
        expr: operand,
    } = expr
    else {
        return None;
    };
    fn negate_leftmost(e: &Expr) -> Expr {
        match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::PGExp,
                right,
            } => Expr::BinaryOp {
                left: Box::new(negate_leftmost(left)),
                op: BinaryOperator::PGExp,
                right: right.clone(),
            },
            leaf => Expr::UnaryOp {
                op: sqlparser::ast::UnaryOperator::Minus,
                expr: Box::new(leaf.clone()),
            },
        }
    }
    matches!(
        operand.as_ref(),
        Expr::BinaryOp {
            op: BinaryOperator::PGExp,
            ..
        }
    )
    .then(|| negate_leftmost(operand))
}

/// A side of `||` whose text form SQLite would not write as Postgres: a boolean (cast to
/// text, which the casts pass spells `true`/`false`), an exact numeric or an instant.
fn concat_text_form(side: &Expr) -> Option<Expr> {
    match schemaless_type(side) {
        Some(PgType::Bool) => Some(Expr::Cast {
            kind: sqlparser::ast::CastKind::Cast,
            expr: Box::new(side.clone()),
            data_type: sqlparser::ast::DataType::Text,
            format: None,
        }),
        Some(PgType::Numeric) => super::numeric::text_form(side),
        Some(PgType::Timestamptz) => Some(call("pg_timestamptz_text", vec![side.clone()])),
        _ => None,
    }
}

/// The operators whose untyped side takes the other side's type.
fn takes_other_side_type(op: &BinaryOperator) -> bool {
    use BinaryOperator::*;
    matches!(op, Eq | NotEq | Lt | LtEq | Gt | GtEq | StringConcat)
}

fn is_string(e: &Expr) -> bool {
    as_string(e).is_some()
}

fn as_string(e: &Expr) -> Option<&str> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// A SIMILAR TO pattern as the anchored POSIX expression Postgres' similar_escape makes
/// of it: `%` and `_` are `.*` and `.`, `.`, `^` and `$` are literal, `\` escapes the next
/// character, and a bracket expression is copied as written.
fn similar_to_posix(pattern: &str) -> String {
    let mut out = String::from("^(?:");
    let mut chars = pattern.chars();
    let mut in_brackets = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                out.extend(chars.next());
            }
            _ if in_brackets => {
                in_brackets = c != ']';
                out.push(c);
            }
            '[' => {
                in_brackets = true;
                out.push(c);
            }
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '.' | '^' | '$' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out.push_str(")$");
    out
}

/// `pg_uuid('...')` or `pg_bytea('...')` for a string literal `literal` where `other` is a
/// uuid or a bytea.
fn typed_input(literal: &Expr, other: &Expr) -> Option<Expr> {
    let input = match schemaless_type(other)? {
        PgType::Uuid => "pg_uuid",
        PgType::Bytea => "pg_bytea",
        _ => return None,
    };
    is_string(literal).then(|| call(input, vec![literal.clone()]))
}

/// `[array, index, ...]` of `root.field[i][j]`: the array, then a subscript per dimension.
fn subscripted(root: &Expr, chain: &[sqlparser::ast::AccessExpr]) -> Option<Vec<Expr>> {
    use sqlparser::ast::{AccessExpr, Subscript};
    // The subscripts come last, one per dimension: `t.a[2][1]`.
    let first_subscript = chain
        .iter()
        .position(|p| matches!(p, AccessExpr::Subscript(_)))?;
    let (path, subscripts) = chain.split_at(first_subscript);
    let indexes = subscripts
        .iter()
        .map(|s| match s {
            AccessExpr::Subscript(Subscript::Index { index }) => Some(index.clone()),
            _ => None,
        })
        .collect::<Option<Vec<Expr>>>()?;
    let array = if path.is_empty() {
        root.clone()
    } else {
        let Expr::Identifier(first) = root else {
            return None;
        };
        let mut parts = vec![first.clone()];
        for step in path {
            let AccessExpr::Dot(Expr::Identifier(i)) = step else {
                return None;
            };
            parts.push(i.clone());
        }
        Expr::CompoundIdentifier(parts)
    };
    Some([vec![array], indexes].concat())
}

/// `(negated, case-insensitive)` of a regular-expression match operator.
fn regex_flags(op: &BinaryOperator) -> Option<(bool, bool)> {
    Some(match op {
        BinaryOperator::PGRegexMatch => (false, false),
        BinaryOperator::PGRegexIMatch => (false, true),
        BinaryOperator::PGRegexNotMatch => (true, false),
        BinaryOperator::PGRegexNotIMatch => (true, true),
        BinaryOperator::PGCustomBinaryOperator(parts) => match parts.last()?.as_str() {
            "~" => (false, false),
            "~*" => (false, true),
            "!~" => (true, false),
            "!~*" => (true, true),
            _ => return None,
        },
        _ => return None,
    })
}

/// The fields of a row: `(a, b)` or `ROW(a, b)`.
fn row_fields(e: &Expr) -> Option<Vec<Expr>> {
    match e {
        Expr::Tuple(fields) => Some(fields.clone()),
        Expr::Function(f) if is_row_call(e) => Some(super::super::sql::args(f)),
        _ => None,
    }
}

fn is_row_call(e: &Expr) -> bool {
    matches!(e, Expr::Function(f) if super::super::sql::function_name(f).as_deref() == Some("row"))
}

fn is_comparison(op: &BinaryOperator) -> bool {
    use BinaryOperator as B;
    matches!(op, B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq)
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn strings_beside_uuids_and_bytea_are_their_input() {
        assert_eq!(
            sql("select b::bytea || '\\x21' from t"),
            "SELECT pg_bytea(b) || pg_bytea('\\x21') AS \"?column?\" FROM t"
        );
        assert_eq!(
            sql(
                "select 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' = u::uuid, u::uuid in ('a', b) from t"
            ),
            "SELECT pg_uuid('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11') = pg_uuid(u) AS \"?column?\", \
             pg_uuid(u) IN (pg_uuid('a'), b) AS \"?column?\" FROM t"
        );
    }

    #[test]
    fn string_functions_and_operators() {
        assert_eq!(
            sql("select position('b' in s), substring(s from 2 for 3) from t where s ilike 'A%'"),
            "SELECT instr(s, 'b') AS \"position\", pg_substr(s, 2, 3) AS \"substring\" FROM t \
             WHERE lower(s) LIKE lower('A%') ESCAPE '\\'"
        );
        assert_eq!(
            sql("select a / b, a % 2 from t"),
            "SELECT pg_div(a, b) AS \"?column?\", pg_mod(a, 2) AS \"?column?\" FROM t"
        );
        assert_eq!(
            sql("select overlay(s placing 'x' from 2), overlay(s placing 'x' from 2 for 3) from t"),
            "SELECT pg_overlay(s, 'x', 2) AS \"overlay\", pg_overlay(s, 'x', 2, 3) AS \"overlay\" \
             FROM t"
        );
    }

    #[test]
    fn substring_from_text_is_a_regular_expression() {
        assert_eq!(
            sql("select substring(s from '...$'), substring(s from 2) from t"),
            "SELECT pg_regex_substr(s, '...$') AS \"substring\", pg_substr(s, 2) AS \"substring\" \
             FROM t"
        );
    }

    #[test]
    fn concatenation_writes_booleans_and_numerics_as_postgres_prints_them() {
        assert_eq!(
            sql("select 'a' || true, 'a' || 1.50, s || (1.5 * 2) from t"),
            "SELECT 'a' || CASE WHEN true THEN 'true' WHEN NOT (true) THEN 'false' END AS \"?column?\", \
             'a' || '1.50' AS \"?column?\", s || pg_num_mul('1.5', '2') AS \"?column?\" FROM t"
        );
    }

    #[test]
    fn like_escapes_with_backslash_and_starts_with_is_a_call() {
        assert_eq!(
            sql("select s like 'a\\_c', s not like 'a#_c' escape '#', s ^@ 'al' from t"),
            "SELECT s LIKE 'a\\_c' ESCAPE '\\' AS \"?column?\", s NOT LIKE 'a#_c' ESCAPE '#' \
             AS \"?column?\", starts_with(s, 'al') AS \"?column?\" FROM t"
        );
    }

    #[test]
    fn similar_to_is_an_anchored_regular_expression() {
        assert_eq!(
            sql("select s similar to 'a(b|d)%.c_' from t"),
            "SELECT pg_regex(s, '^(?:a(b|d).*\\.c.)$', 0) AS \"?column?\" FROM t"
        );
    }

    #[test]
    fn exponentiation_and_exclusive_or() {
        assert_eq!(
            sql("select 2 ^ 10, 5 # 3, |/ 25, @ -2, -2 ^ 2"),
            "SELECT power(2, 10) AS \"?column?\", (5 | 3) & ~ (5 & 3) AS \"?column?\", \
             sqrt(25) AS \"?column?\", abs(-2) AS \"?column?\", power(-2, 2) AS \"?column?\""
        );
    }
}
