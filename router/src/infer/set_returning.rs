//! Set-returning functions' columns as Postgres names and types them: generate_series,
//! unnest, the json(b) each/elements/keys functions, regexp_matches, ... A leaf: inference
//! types their columns with it, and translation names them with it.

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, TableAlias, TableFactor};

use super::schema::last_part;
use crate::types::PgType;

/// Functions that answer one value, which Postgres also reads in FROM as a one-row table
/// (`SELECT * FROM current_schema()`, as TypeORM asks).
const SCALARS_IN_FROM: &[&str] = &[
    "current_schema",
    "current_database",
    "current_catalog",
    "current_user",
    "session_user",
    "current_setting",
    "version",
    "now",
    "pg_backend_pid",
];

/// A function of one value called in FROM ([`SCALARS_IN_FROM`]): the call, and the table
/// and the column it answers under (its alias and column alias, else its name).
pub(crate) struct ScalarInFrom {
    pub(crate) call: Expr,
    pub(crate) table: String,
    pub(crate) column: String,
}

/// `current_schema()` (or `current_setting('x') AS s(v)`) in FROM, where it is one.
pub(crate) fn scalar_in_from(factor: &TableFactor) -> Option<ScalarInFrom> {
    let TableFactor::Table {
        name,
        args: Some(args),
        alias,
        with_ordinality: false,
        ..
    } = factor
    else {
        return None;
    };
    let function = last_part(name).to_ascii_lowercase();
    if !SCALARS_IN_FROM.contains(&function.as_str()) {
        return None;
    }
    let args: Vec<String> = args.args.iter().map(ToString::to_string).collect();
    let call = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(&format!("{function}({})", args.join(", ")))
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    let table = alias.as_ref().map_or(function, |a| a.name.value.clone());
    let column = alias
        .as_ref()
        .and_then(|a| a.columns.first())
        .map_or_else(|| table.clone(), |c| c.name.value.clone());
    Some(ScalarInFrom {
        call,
        table,
        column,
    })
}

/// A set-returning call in FROM: `generate_series(1, 3) WITH ORDINALITY AS g(n, i)`.
pub(crate) struct FromCall {
    /// The function's name, lower case.
    pub(crate) name: String,
    pub(crate) args: Vec<Expr>,
    pub(crate) alias: Option<TableAlias>,
    pub(crate) with_ordinality: bool,
}

impl FromCall {
    /// The name the FROM clause knows the call by: its alias, else the function's name.
    pub(crate) fn table(&self) -> String {
        self.alias
            .as_ref()
            .map_or_else(|| self.name.clone(), |a| a.name.value.clone())
    }

    /// The call's column names (see [`column_names`]).
    pub(crate) fn column_names(&self) -> Option<Result<Vec<String>, (usize, usize)>> {
        column_names(
            &self.name,
            self.args.len(),
            self.alias.as_ref(),
            self.with_ordinality,
        )
    }
}

/// The FROM item as a set-returning call, if it is one litescale has.
pub(crate) fn from_call(factor: &TableFactor) -> Option<FromCall> {
    let unnamed = |args: &[FunctionArg]| -> Vec<Expr> {
        args.iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect()
    };
    let (name, args, alias, with_ordinality) = match factor {
        TableFactor::Table {
            name,
            args: Some(args),
            alias,
            with_ordinality,
            ..
        } => (
            last_part(name),
            unnamed(&args.args),
            alias,
            *with_ordinality,
        ),
        TableFactor::Function {
            name,
            args,
            alias,
            with_ordinality,
            ..
        } => (last_part(name), unnamed(args), alias, *with_ordinality),
        TableFactor::UNNEST {
            alias,
            array_exprs,
            with_ordinality,
            ..
        } => (
            "unnest".to_owned(),
            array_exprs.clone(),
            alias,
            *with_ordinality,
        ),
        _ => return None,
    };
    let name = name.to_ascii_lowercase();
    output_names(&name, args.len())?;
    Some(FromCall {
        name,
        args,
        alias: alias.clone(),
        with_ordinality,
    })
}

/// The columns `name(...)` with `arity` arguments returns, as Postgres names them without
/// an alias; `None` when it is not a set-returning function litescale has.
pub(crate) fn output_names(name: &str, arity: usize) -> Option<Vec<String>> {
    let named = |names: &[&str]| Some(names.iter().map(|n| (*n).to_owned()).collect());
    match (name, arity) {
        (
            "generate_series"
            | "generate_subscripts"
            | "regexp_matches"
            | "regexp_split_to_table"
            | "string_to_table",
            2 | 3,
        )
        | ("jsonb_object_keys" | "json_object_keys", 1) => named(&[name]),
        // unnest(a, b, ...) has a column per array.
        ("unnest", 1..) => Some(vec![name.to_owned(); arity]),
        ("_pg_expandarray", 1) => named(&["x", "n"]),
        ("pg_options_to_table", 1) => named(&["option_name", "option_value"]),
        ("jsonb_each" | "json_each" | "jsonb_each_text" | "json_each_text", 1) => {
            named(&["key", "value"])
        }
        (
            "jsonb_array_elements"
            | "json_array_elements"
            | "jsonb_array_elements_text"
            | "json_array_elements_text",
            1,
        ) => named(&["value"]),
        ("pg_partition_ancestors", 1) => named(&["relid"]),
        _ => None,
    }
}

/// A FROM-clause call's column names: a single column takes the alias's name, a column
/// list renames in order, WITH ORDINALITY adds `ordinality` last. `None` when `name` is no
/// set-returning function, or the alias names more columns than there are (42P10).
pub(crate) fn column_names(
    name: &str,
    arity: usize,
    alias: Option<&TableAlias>,
    with_ordinality: bool,
) -> Option<Result<Vec<String>, (usize, usize)>> {
    let mut names = output_names(name, arity)?;
    if let (Some(alias), [only]) = (alias, names.as_mut_slice()) {
        *only = alias.name.value.clone();
    }
    if with_ordinality {
        names.push("ordinality".to_owned());
    }
    let renames = alias.map_or(&[][..], |a| a.columns.as_slice());
    if renames.len() > names.len() {
        return Some(Err((names.len(), renames.len())));
    }
    for (name, rename) in names.iter_mut().zip(renames) {
        *name = rename.name.value.clone();
    }
    Some(Ok(names))
}

/// The types of `name`'s output columns for arguments of `args`' types (WITH ORDINALITY's
/// bigint is the caller's); `None` where the arguments do not settle one.
pub(crate) fn column_types(name: &str, args: &[Option<PgType>]) -> Vec<Option<PgType>> {
    use PgType::*;
    let json = |text: PgType| {
        if name.ends_with("_text") {
            Text
        } else if name.starts_with("jsonb") {
            Jsonb
        } else {
            text
        }
    };
    match name {
        "generate_series" => {
            let has = |t: PgType| args.contains(&Some(t));
            vec![if has(Timestamp) {
                Some(Timestamp)
            } else if has(Timestamptz) || has(Date) || has(Interval) {
                Some(Timestamptz)
            } else if has(Numeric) {
                Some(Numeric)
            } else if has(Int8) {
                Some(Int8)
            } else if args.iter().all(|t| matches!(t, Some(Int2 | Int4))) {
                Some(Int4)
            } else {
                None
            }]
        }
        "generate_subscripts" => vec![Some(Int4)],
        "unnest" => args.iter().map(|t| t.and_then(PgType::element)).collect(),
        "_pg_expandarray" => vec![
            args.first().copied().flatten().and_then(PgType::element),
            Some(Int4),
        ],
        "jsonb_each" | "json_each" | "jsonb_each_text" | "json_each_text" => {
            vec![Some(Text), Some(json(Json))]
        }
        "jsonb_array_elements"
        | "json_array_elements"
        | "jsonb_array_elements_text"
        | "json_array_elements_text" => vec![Some(json(Json))],
        "jsonb_object_keys" | "json_object_keys" | "regexp_split_to_table" | "string_to_table" => {
            vec![Some(Text)]
        }
        "pg_options_to_table" => vec![Some(Text), Some(Text)],
        "regexp_matches" => vec![Some(TextArray)],
        _ => Vec::new(),
    }
}
