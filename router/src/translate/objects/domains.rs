//! CREATE DOMAIN and DROP DOMAIN, as calls of the shard's domain registry (shard
//! engine/objects/domains.rs). A domain is kept as the column definition it stands for:
//! its base type as SQLite stores it, its DEFAULT, then its NOT NULL and CHECK constraints
//! (named `litescale_domain:<domain>:<constraint>`),
//! translated as a column's are, with `VALUE` written as the column
//! [`VALUE_PLACEHOLDER`], which the shard replaces with each column's name when a table
//! takes the type.

use std::ops::ControlFlow;

use sqlparser::ast::{
    CheckConstraint, ColumnDef, ColumnOption, CreateDomain, CreateTable, DataType, DropDomain,
    Expr, Ident, ObjectName, Statement, TableConstraint, visit_expressions_mut,
};

use crate::RouterError;
use crate::infer::schema::last_part;
use crate::parse::lexical::string_literal;

/// What `VALUE` is written as in a domain's constraints (shard engine/objects/domains.rs).
const VALUE_PLACEHOLDER: &str = "litescale_domain_value";

/// `SELECT litescale_create_domain(name, base type, options)`; `translate` makes a column
/// definition what SQLite stores (a CREATE TABLE's passes).
pub(crate) fn create(
    domain: &CreateDomain,
    translate: impl FnOnce(&mut Statement) -> Result<(), RouterError>,
) -> Result<String, RouterError> {
    let name = last_part(&domain.name).to_ascii_lowercase();
    if matches!(domain.data_type, DataType::Custom(..) | DataType::Array(_)) {
        return Err(RouterError::unsupported(&format!(
            "CREATE DOMAIN over {} (a domain over a built-in type is made)",
            domain.data_type
        )));
    }
    let mut options = Vec::new();
    if let Some(default) = &domain.default {
        options.push(ColumnOption::Default(default.clone()));
    }
    let has_default = domain.default.is_some();
    let mut unnamed = 0;
    for constraint in &domain.constraints {
        let TableConstraint::Check(check) = constraint else {
            return Err(RouterError::unsupported(&format!(
                "CREATE DOMAIN with {constraint} (a domain takes NOT NULL and CHECK)"
            )));
        };
        if check
            .name
            .as_ref()
            .is_some_and(|n| n.value == crate::parse::postgres::DOMAIN_NOT_NULL)
        {
            options.push(ColumnOption::NotNull);
            continue;
        }
        // Postgres names a domain's unnamed CHECKs `<domain>_check`, `<domain>_check1`, ...;
        // on a column the name says whose it is, and is litescale's own (not the table's
        // constraint: the catalog does not list it), which the shard's errors read.
        let check_name = check.name.as_ref().map_or_else(
            || {
                let suffix = if unnamed == 0 {
                    String::new()
                } else {
                    unnamed.to_string()
                };
                unnamed += 1;
                format!("{name}_check{suffix}")
            },
            |n| n.value.clone(),
        );
        let constraint_name =
            Ident::with_quote('"', format!("litescale_domain:{name}:{check_name}"));
        // The text the client wrote goes beside its translation, as a table's CHECK's
        // does, for the catalog and pg_dump (shard catalog definitions.rs).
        let mut shown = (*check.expr).clone();
        let _ = visit_expressions_mut(&mut shown, |e| {
            if let Expr::Identifier(ident) = e
                && ident.quote_style.is_none()
                && ident.value.eq_ignore_ascii_case("value")
            {
                ident.value = "VALUE".to_owned();
            }
            ControlFlow::<()>::Continue(())
        });
        let written = Expr::value(sqlparser::ast::Value::SingleQuotedString(shown.to_string()));
        let mut expr = (*check.expr).clone();
        let _ = visit_expressions_mut(&mut expr, |e| {
            if let Expr::Identifier(ident) = e
                && ident.quote_style.is_none()
                && ident.value.eq_ignore_ascii_case("value")
            {
                *ident = Ident::with_quote('"', VALUE_PLACEHOLDER);
            }
            ControlFlow::<()>::Continue(())
        });
        options.push(ColumnOption::Check(CheckConstraint {
            name: Some(constraint_name),
            expr: Box::new(crate::translate::sql::call("pg_check", vec![expr, written])),
            no_inherit: false,
            enforced: None,
        }));
    }
    let column = ColumnDef {
        name: Ident::with_quote('"', VALUE_PLACEHOLDER),
        data_type: domain.data_type.clone(),
        options: options
            .into_iter()
            .map(|option| match option {
                ColumnOption::Check(c) => sqlparser::ast::ColumnOptionDef {
                    name: c.name.clone(),
                    option: ColumnOption::Check(CheckConstraint { name: None, ..c }),
                },
                option => sqlparser::ast::ColumnOptionDef { name: None, option },
            })
            .collect(),
    };
    let mut template = Statement::CreateTable(
        sqlparser::ast::helpers::stmt_create_table::CreateTableBuilder::new(ObjectName::from(
            vec![Ident::new(VALUE_PLACEHOLDER)],
        ))
        .columns(vec![column])
        .build(),
    );
    translate(&mut template)?;
    let Statement::CreateTable(CreateTable { columns, .. }) = template else {
        unreachable!("a CREATE TABLE stays one");
    };
    let column = &columns[0];
    // The DEFAULT apart: a column's own goes before it.
    let (default, options): (Vec<_>, Vec<_>) = column
        .options
        .iter()
        .partition(|o| has_default && matches!(o.option, ColumnOption::Default(_)));
    let default = default
        .first()
        .map_or_else(|| "NULL".to_owned(), |d| string_literal(&d.to_string()));
    let options: Vec<String> = options.iter().map(ToString::to_string).collect();
    // `INTEGER PRIMARY KEY` would be SQLite's rowid, which a table's text cannot become
    // in place: an integer is spelled INT, as a SERIAL's is.
    let base = match column.data_type {
        DataType::Integer(_) => "INT".to_owned(),
        ref other => other.to_string(),
    };
    Ok(format!(
        "SELECT litescale_create_domain({}, {}, {default}, {}, {})",
        string_literal(&name),
        string_literal(&base),
        string_literal(&options.join(" ")),
        string_literal(&domain.data_type.to_string().to_ascii_lowercase())
    ))
}

/// `SELECT litescale_drop_domain(name, if_exists)`.
pub(crate) fn drop(drop: &DropDomain) -> String {
    format!(
        "SELECT litescale_drop_domain({}, {})",
        string_literal(&last_part(&drop.name).to_ascii_lowercase()),
        drop.if_exists
    )
}
