//! The names Postgres gives result columns (its FigureColname), for the translator to put
//! on SQLite's columns and for inference to find a subquery's columns by.

use sqlparser::ast::{DataType, Expr, SelectItem, SetExpr};

use super::schema::last_part;
use crate::types::{array_element, from_data_type};

/// Postgres' name for a result column (its FigureColname): a column's name, a function's
/// name, a cast's inner name or type name, `case`; `None` for `?column?`.
pub(crate) fn column_name(e: &Expr) -> Option<String> {
    figured_name(e).map(|(name, _)| name)
}

/// How firmly an expression names its column. A cast's type name (or `case`) is only a
/// fallback: a column or function inside it names the column instead, as in Postgres'
/// FigureColnameInternal (`x::int` is `x`, `'1'::date::text` is `text`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strength {
    Fallback,
    Named,
}

fn figured_name(e: &Expr) -> Option<(String, Strength)> {
    use Strength::{Fallback, Named};
    let named = |name: &str| Some((name.to_owned(), Named));
    match e {
        Expr::Identifier(i) => named(&i.value),
        Expr::CompoundIdentifier(parts) => parts.last().and_then(|i| named(&i.value)),
        Expr::Function(f) => named(&last_part(&f.name).to_ascii_lowercase()),
        Expr::Cast {
            expr, data_type, ..
        } => match figured_name(expr) {
            Some(inner @ (_, Named)) => Some(inner),
            inner => match data_type {
                // `'{1}'::int[]` is named after the element type.
                DataType::Array(_) => array_element(data_type)
                    .and_then(from_data_type)
                    .map(|t| t.name().to_owned()),
                // A type litescale has no PgType for (`name`, `regclass`): its last word.
                DataType::Custom(name, _) => name
                    .0
                    .last()
                    .map(|part| part.to_string().trim_matches('"').to_ascii_lowercase()),
                _ => from_data_type(data_type).map(|t| t.name().to_owned()),
            }
            .map(|name| (name, Fallback))
            .or(inner),
        },
        Expr::TypedString(typed) => {
            from_data_type(&typed.data_type).map(|t| (t.name().to_owned(), Fallback))
        }
        Expr::Interval(_) => Some(("interval".to_owned(), Fallback)),
        Expr::Extract { .. } => named("extract"),
        Expr::AtTimeZone { .. } => named("timezone"),
        Expr::Array(_) => named("array"),
        // `a[1]`, `t.a[1]`, `(ARRAY[...])[1:2]`: the array's name.
        Expr::CompoundFieldAccess { root, access_chain } => access_chain
            .iter()
            .rev()
            .find_map(|step| match step {
                sqlparser::ast::AccessExpr::Dot(Expr::Identifier(i)) => named(&i.value),
                _ => None,
            })
            .or_else(|| figured_name(root)),
        Expr::Nested(inner) => figured_name(inner),
        // A CASE is named after its ELSE when that names itself firmly.
        Expr::Case { else_result, .. } => match else_result.as_deref().and_then(figured_name) {
            Some(inner @ (_, Named)) => Some(inner),
            _ => Some(("case".to_owned(), Fallback)),
        },
        Expr::Position { .. } => named("position"),
        Expr::Substring { shorthand, .. } => named(if *shorthand { "substr" } else { "substring" }),
        // TRIM is Postgres' btrim, ltrim or rtrim.
        Expr::Trim { trim_where, .. } => named(match trim_where {
            Some(sqlparser::ast::TrimWhereField::Leading) => "ltrim",
            Some(sqlparser::ast::TrimWhereField::Trailing) => "rtrim",
            _ => "btrim",
        }),
        Expr::Overlay { .. } => named("overlay"),
        Expr::Ceil { .. } => named("ceil"),
        Expr::Floor { .. } => named("floor"),
        Expr::Exists { negated: false, .. } => named("exists"),
        // A scalar subquery is named after its one column.
        Expr::Subquery(q) => match q.body.as_ref() {
            SetExpr::Select(select) => match select.projection.as_slice() {
                [SelectItem::ExprWithAlias { alias, .. }] => named(&alias.value),
                [SelectItem::UnnamedExpr(e)] => column_name(e).map(|name| (name, Named)),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}
