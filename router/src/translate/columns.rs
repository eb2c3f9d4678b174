//! Column definitions (CREATE TABLE, ADD COLUMN) as SQLite must have them to keep Postgres'
//! rules: SERIAL/IDENTITY numbered by sequences, a CHECK for each typed column and each declared
//! length, DEFAULT expressions in parentheses.

use sqlparser::ast::{
    ArrayElemTypeDef, ColumnOption, DataType, Expr, GeneratedAs, Ident, ObjectName, Value,
};

use super::sql::call;
use crate::RouterError;

/// Whether an option makes the column an identity (`GENERATED ... AS IDENTITY`), not a
/// column computed from others (`GENERATED ALWAYS AS (expr) STORED`, which SQLite has).
fn is_identity(option: &ColumnOption) -> bool {
    matches!(
        option,
        ColumnOption::Generated {
            generation_expr: None,
            ..
        }
    )
}

/// Whether the column numbers rows itself: SERIAL types and identity columns.
pub(crate) fn generates_ids(column: &sqlparser::ast::ColumnDef) -> bool {
    serial_type(&column.data_type).is_some()
        || column.options.iter().any(|o| is_identity(&o.option))
}

/// SERIAL and GENERATED ... AS IDENTITY columns number their rows from a sequence of
/// their own, `<table>_<column>_seq` (translate/sequences.rs), as in Postgres: the column
/// is NOT NULL with `DEFAULT nextval('<table>_<column>_seq')`. A serial's type is the
/// integer it names, spelled `INT` rather than `INTEGER`: SQLite's `INTEGER PRIMARY KEY`
/// is its rowid, which numbers rows itself and ignores a DEFAULT. Answers the statements
/// that create the sequences, which run after the table's.
pub(super) fn number_from_sequences(
    create: &mut sqlparser::ast::CreateTable,
) -> Result<Vec<String>, RouterError> {
    use super::objects::sequences::{
        create_owned, identity_check, next_value, sequence_type, serial_sequence_name,
    };
    let table = crate::infer::schema::last_part(&create.name);
    let mut sequences = Vec::new();
    for col in &mut create.columns {
        let serial = serial_type(&col.data_type);
        let identity = col.options.iter().find_map(|o| match &o.option {
            ColumnOption::Generated {
                generated_as,
                generation_expr: None,
                sequence_options,
                ..
            } => Some((*generated_as, sequence_options.clone().unwrap_or_default())),
            _ => None,
        });
        let (data_type, options, generated_as) = match (serial, identity) {
            (Some(serial), _) => (serial, Vec::new(), None),
            (None, Some((generated_as, options))) => {
                (sequence_type(&col.data_type)?, options, Some(generated_as))
            }
            (None, None) => continue,
        };
        sequences.push(create_owned(
            &table,
            &col.name.value,
            data_type,
            &options,
            create.if_not_exists,
        )?);
        col.data_type = match data_type {
            "smallint" => DataType::SmallInt(None),
            "integer" => DataType::Int(None),
            _ => DataType::BigInt(None),
        };
        col.options.retain(|o| {
            !is_identity(&o.option)
                && !matches!(o.option, ColumnOption::Default(_) | ColumnOption::NotNull)
        });
        col.options.insert(0, option(ColumnOption::NotNull));
        col.options.insert(
            1,
            option(ColumnOption::Default(next_value(
                &serial_sequence_name(&table, &col.name.value),
                generated_as.as_ref(),
            ))),
        );
        if generated_as == Some(GeneratedAs::Always) {
            col.options.push(identity_check(
                &serial_sequence_name(&table, &col.name.value),
                &col.name.value,
            ));
        }
    }
    Ok(sequences)
}

/// What the router puts at the end of an `INSERT ... OVERRIDING SYSTEM VALUE` (and of the
/// copy of a table made again): the shard (engine/objects/identity.rs) then takes the
/// values it gives GENERATED ALWAYS columns, in the whole statement or batch.
pub(in crate::translate) const OVERRIDING_MARK: &str = " /* litescale:overriding system value */";

/// Takes an INSERT's OVERRIDING clause out (SQLite has none): whether it overrides the
/// system value. OVERRIDING USER VALUE is refused.
pub(super) fn take_overriding(ast: &mut sqlparser::ast::Statement) -> Result<bool, RouterError> {
    use sqlparser::ast::InsertOverriding;
    let sqlparser::ast::Statement::Insert(insert) = ast else {
        return Ok(false);
    };
    match insert.overriding.take() {
        None => Ok(false),
        Some(InsertOverriding::System) => Ok(true),
        Some(InsertOverriding::User) => {
            Err(RouterError::unsupported("INSERT ... OVERRIDING USER VALUE"))
        }
    }
}

/// The sequence type of a SERIAL type (`serial` is an integer's).
fn serial_type(t: &DataType) -> Option<&'static str> {
    let DataType::Custom(name, _) = t else {
        return None;
    };
    match name.to_string().to_ascii_lowercase().as_str() {
        "serial" | "serial4" => Some("integer"),
        "bigserial" | "serial8" => Some("bigint"),
        "smallserial" | "serial2" => Some("smallint"),
        _ => None,
    }
}

/// A column option without a name.
pub(super) fn option(option: ColumnOption) -> sqlparser::ast::ColumnOptionDef {
    sqlparser::ast::ColumnOptionDef { name: None, option }
}

/// The prefix of the CHECK constraints that enforce VARCHAR(n)/CHAR(n); the shard reports
/// their violation as Postgres does (22001 value too long).
pub const LENGTH_CHECK_PREFIX: &str = "litescale_length_";

/// SQLite ignores declared lengths; Postgres refuses a longer string. A named CHECK on
/// each VARCHAR(n) / CHAR(n) column keeps Postgres' rule.
pub(super) fn enforce_lengths(create: &mut sqlparser::ast::CreateTable) {
    create.columns.iter_mut().for_each(enforce_length);
}

/// The CHECKs that keep Postgres' rules for a column added or retyped by ALTER TABLE:
/// its type's ([`check_stored_type`]) and its declared length's ([`enforce_lengths`]).
pub(super) fn add_type_rules(column: &mut sqlparser::ast::ColumnDef) {
    check_stored_type(column);
    enforce_length(column);
    quote_modified_array_type(column);
}

/// SQLite's type names take a modifier only at their end, so `varchar(3)[]` is written
/// quoted, as one name; SQLite reports it unquoted and gives it its element's affinity.
pub(super) fn quote_modified_array_type(column: &mut sqlparser::ast::ColumnDef) {
    if let DataType::Array(ArrayElemTypeDef::SquareBracket(element, _)) = &column.data_type
        && element.to_string().contains('(')
    {
        let name = Ident::with_quote('"', column.data_type.to_string());
        column.data_type = DataType::Custom(ObjectName::from(vec![name]), Vec::new());
    }
}

/// Whether a column's CHECK is one of [`add_type_rules`]', which go with its type.
pub(super) fn is_type_rule(option: &sqlparser::ast::ColumnOptionDef) -> bool {
    if let ColumnOption::Collation(name) = &option.option {
        return name
            .to_string()
            .trim_matches('"')
            .starts_with(ENUM_COLLATION_PREFIX);
    }
    let ColumnOption::Check(check) = &option.option else {
        return false;
    };
    option
        .name
        .as_ref()
        .is_some_and(|n| n.value.starts_with(LENGTH_CHECK_PREFIX))
        || matches!(check.expr.as_ref(), Expr::Function(f)
            if ["pg_typecheck", "pg_enum_check"].contains(&f.name.to_string().as_str()))
}

/// [`enforce_lengths`] for one column.
fn enforce_length(col: &mut sqlparser::ast::ColumnDef) {
    use sqlparser::ast::{CharacterLength, CheckConstraint, ColumnOptionDef, Ident};
    let (kind, length) = match &col.data_type {
        DataType::Varchar(Some(CharacterLength::IntegerLength { length, .. }))
        | DataType::CharacterVarying(Some(CharacterLength::IntegerLength { length, .. })) => {
            ("varying", *length)
        }
        DataType::Char(Some(CharacterLength::IntegerLength { length, .. }))
        | DataType::Character(Some(CharacterLength::IntegerLength { length, .. })) => {
            ("char", *length)
        }
        _ => return,
    };
    let check = format!("length({}) <= {length}", col.name);
    let Ok(expr) = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(&check)
        .and_then(|mut p| p.parse_expr())
    else {
        return;
    };
    col.options.push(ColumnOptionDef {
        name: Some(Ident::with_quote(
            '"',
            format!("{LENGTH_CHECK_PREFIX}{kind}_{length}"),
        )),
        option: ColumnOption::Check(CheckConstraint {
            name: None,
            expr: Box::new(expr),
            no_inherit: false,
            enforced: None,
        }),
    });
}

/// SQLite stores any value in any column; Postgres refuses, at input, a value its type
/// does not hold (`'abc'` for an integer, month 13 in a date). A CHECK calling the shard's
/// `pg_typecheck` with the declared type keeps Postgres' rule on every write path. Text
/// types and bytea hold whatever SQLite stores, and need none.
pub(super) fn check_stored_type(column: &mut sqlparser::ast::ColumnDef) {
    use crate::types::{PgType, from_data_type, user_type_name};
    use sqlparser::ast::{CheckConstraint, ColumnOptionDef};
    if let Some(name) = user_type_name(&column.data_type) {
        return follow_enum(column, &name);
    }
    match from_data_type(&column.data_type) {
        None
        | Some(PgType::Text | PgType::Varchar | PgType::Bpchar | PgType::Name | PgType::Bytea) => {}
        Some(_) => column.options.push(ColumnOptionDef {
            name: None,
            option: ColumnOption::Check(CheckConstraint {
                name: None,
                expr: Box::new(call(
                    "pg_typecheck",
                    vec![
                        Expr::Identifier(column.name.clone()),
                        Expr::value(Value::SingleQuotedString(column.data_type.to_string())),
                    ],
                )),
                no_inherit: false,
                enforced: None,
            }),
        }),
    }
}

/// Where the collation of a column of an enum type begins: the shard writes the type's
/// labels after it, in order, and builds from the name a collation that sorts them so
/// (shard engine/enum_types.rs).
const ENUM_COLLATION_PREFIX: &str = "pg_enum:";

/// A column of the user-defined type `name`, which must be an enum: its labels alone
/// (`pg_enum_check`, 22P02 for another text, 42704 when there is no such type), sorted in
/// their declared order. The statement then calls `litescale_order_enum` ([`order_enums`]),
/// which puts the labels into the collation.
fn follow_enum(column: &mut sqlparser::ast::ColumnDef, name: &str) {
    use sqlparser::ast::{CheckConstraint, Ident, ObjectName};
    // SQLite takes no qualified type name (`public.mood`).
    column.data_type = DataType::Custom(
        ObjectName::from(vec![super::sql::identifier(name)]),
        Vec::new(),
    );
    column
        .options
        .push(option(ColumnOption::Collation(ObjectName::from(vec![
            Ident::with_quote('"', format!("{ENUM_COLLATION_PREFIX}{name}")),
        ]))));
    column
        .options
        .push(option(ColumnOption::Check(CheckConstraint {
            name: None,
            expr: Box::new(call(
                "pg_enum_check",
                vec![
                    Expr::Identifier(column.name.clone()),
                    Expr::value(Value::SingleQuotedString(name.to_owned())),
                ],
            )),
            no_inherit: false,
            enforced: None,
        })));
}

/// The enum types the columns a statement defines (CREATE TABLE, ADD COLUMN, ALTER COLUMN
/// TYPE) have, each once: the statement ends by ordering their collations.
pub(super) fn enum_types(ast: &sqlparser::ast::Statement) -> Vec<String> {
    use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, Statement};
    let mut types: Vec<&DataType> = Vec::new();
    match ast {
        Statement::CreateTable(create) => types.extend(create.columns.iter().map(|c| &c.data_type)),
        Statement::AlterTable(alter) => {
            for op in &alter.operations {
                match op {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        types.push(&column_def.data_type)
                    }
                    AlterTableOperation::AlterColumn {
                        op: AlterColumnOperation::SetDataType { data_type, .. },
                        ..
                    } => types.push(data_type),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    let mut names: Vec<String> = Vec::new();
    for name in types.into_iter().filter_map(crate::types::user_type_name) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The statements that end one defining columns of the enum types `names`.
pub(super) fn order_enums(names: &[String]) -> impl Iterator<Item = String> + '_ {
    names.iter().map(|n| {
        format!(
            "SELECT litescale_order_enum({})",
            crate::parse::lexical::string_literal(n)
        )
    })
}

/// `DEFAULT 'x'::text`, `DEFAULT 'ok'::public.mood`, `DEFAULT '-1'::integer`: a literal
/// cast to its column's own type, as pg_dump writes every default, is kept as the bare
/// literal, which the column's type takes the same way; the catalog shows it with the cast
/// again. Kept, the cast would become SQLite's expression for it.
pub(super) fn bare_literal_defaults(ast: &mut sqlparser::ast::Statement) {
    use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, ColumnDef, Statement};
    // Only where the literal is the value the column stores: text of a text type or an
    // enum, an integer of an integer type. Other types' casts canonicalize (a timestamp's
    // text, a boolean's spelling), so they stay.
    let stored_as_written = |literal: &Value, a: &DataType, b: &DataType| {
        use crate::types::{PgType, from_data_type, user_type_name};
        match (from_data_type(a), from_data_type(b)) {
            (Some(x), Some(y)) if x != y => false,
            (Some(PgType::Text | PgType::Varchar | PgType::Bpchar), Some(_)) => {
                matches!(literal, Value::SingleQuotedString(_))
            }
            (Some(PgType::Int2 | PgType::Int4 | PgType::Int8), Some(_)) => match literal {
                Value::SingleQuotedString(s) | Value::Number(s, _) => s.parse::<i64>().is_ok(),
                _ => false,
            },
            (None, None) => {
                matches!(literal, Value::SingleQuotedString(_))
                    && user_type_name(a).is_some()
                    && user_type_name(a) == user_type_name(b)
            }
            _ => false,
        }
    };
    let bare = |default: &mut Expr, column_type: &DataType| {
        if let Expr::Cast {
            expr, data_type, ..
        } = default
            && let Expr::Value(v) = expr.as_ref()
            && stored_as_written(&v.value, data_type, column_type)
        {
            *default = (**expr).clone();
        }
    };
    let column = |c: &mut ColumnDef| {
        let data_type = c.data_type.clone();
        for option in &mut c.options {
            if let ColumnOption::Default(e) = &mut option.option {
                bare(e, &data_type);
            }
        }
    };
    match ast {
        Statement::CreateTable(create) => create.columns.iter_mut().for_each(column),
        Statement::AlterTable(alter) => {
            for op in &mut alter.operations {
                match op {
                    AlterTableOperation::AddColumn { column_def, .. } => column(column_def),
                    // SET DEFAULT of a column whose type the statement does not say: a cast
                    // to any type but the column's would change the value, so only the
                    // text types, whose casts of a string change nothing, are unwrapped.
                    AlterTableOperation::AlterColumn {
                        op: AlterColumnOperation::SetDefault { value },
                        ..
                    } => bare(value, &DataType::Text),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// A client's CHECK expression `e` becomes `pg_check(e, 'e')`: the expression runs as
/// translated, and the catalog shows (and pg_dump writes) the text the client wrote,
/// which the translation would have made SQLite's (shard catalog definitions.rs).
/// litescale's own CHECKs are added after this and stay bare.
pub(super) fn keep_check_texts(ast: &mut sqlparser::ast::Statement) {
    use sqlparser::ast::{AlterTableOperation, ColumnDef, Statement, TableConstraint};
    fn kept(expr: &mut Expr) {
        // A CHECK reads only its own row: `t.v` (drizzle-kit writes it so) is `v`, which
        // also holds when ALTER TABLE makes the table again under another name.
        let _ = sqlparser::ast::visit_expressions_mut(expr, |e| {
            if let Expr::CompoundIdentifier(parts) = e
                && let Some(column) = parts.last()
            {
                *e = Expr::Identifier(column.clone());
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
        let text = Expr::value(Value::SingleQuotedString(expr.to_string()));
        *expr = call("pg_check", vec![expr.clone(), text]);
    }
    // A column's CHECK without a name gets Postgres' (`<table>_<column>_check`), which
    // SQLite then names in the error a row that fails it gets (the catalog gives an
    // unnamed one the same name).
    fn of_column(table: &str, column: &mut ColumnDef) {
        let name = format!("{table}_{}_check", column.name.value);
        for option in &mut column.options {
            if let ColumnOption::Check(check) = &mut option.option {
                kept(&mut check.expr);
                if option.name.is_none() {
                    option.name = Some(sqlparser::ast::Ident::with_quote('"', name.clone()));
                }
            }
        }
    }
    fn of_constraint(constraint: &mut TableConstraint) {
        if let TableConstraint::Check(check) = constraint {
            kept(&mut check.expr);
        }
    }
    match ast {
        Statement::CreateTable(create) => {
            let table = crate::infer::schema::last_part(&create.name);
            create.columns.iter_mut().for_each(|c| of_column(&table, c));
            // A table's CHECK without a name: `<table>_<column>_check` when it reads one
            // column, else `<table>_check`, as Postgres and the catalog name it (SQLite
            // would report it under the name of a named constraint before it).
            let columns: Vec<String> = create
                .columns
                .iter()
                .map(|c| c.name.value.clone())
                .collect();
            for constraint in &mut create.constraints {
                if let TableConstraint::Check(check) = constraint
                    && check.name.is_none()
                {
                    let name = match read_columns(&check.expr, &columns).as_slice() {
                        [one] => format!("{table}_{one}_check"),
                        _ => format!("{table}_check"),
                    };
                    check.name = Some(sqlparser::ast::Ident::with_quote('"', name));
                }
                of_constraint(constraint);
            }
        }
        Statement::AlterTable(alter) => {
            let table = crate::infer::schema::last_part(&alter.name);
            for op in &mut alter.operations {
                match op {
                    AlterTableOperation::AddConstraint { constraint, .. } => {
                        of_constraint(constraint)
                    }
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        of_column(&table, column_def)
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The columns of `columns` an expression reads, once each, in the order of `columns`.
fn read_columns(expr: &Expr, columns: &[String]) -> Vec<String> {
    let mut read = std::collections::BTreeSet::new();
    let _ = sqlparser::ast::visit_expressions(expr, |e| {
        if let Expr::Identifier(i) = e {
            read.insert(i.value.to_lowercase());
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    columns
        .iter()
        .filter(|c| read.contains(&c.to_lowercase()))
        .cloned()
        .collect()
}

/// SQLite takes only literals bare after DEFAULT; an expression (such as what `now()`
/// becomes) must be parenthesised.
pub(super) fn parenthesize_defaults(create: &mut sqlparser::ast::CreateTable) {
    for col in &mut create.columns {
        for opt in &mut col.options {
            if let ColumnOption::Default(e) = &mut opt.option
                && !matches!(e, Expr::Value(_) | Expr::Nested(_))
            {
                *e = Expr::Nested(Box::new(e.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::plan;
    use crate::test_support::sql;

    #[test]
    fn a_literal_default_cast_to_its_column_s_type_is_kept_bare_where_it_is_the_value() {
        let created = sql(
            "create table t (a text default 'x'::text, n int default '-1'::integer, \
             b boolean default 'yes'::boolean, at timestamp default '2020-01-01 10:00'::timestamp)",
        );
        assert!(created.contains("a TEXT DEFAULT 'x'"), "{created}");
        assert!(created.contains("n INT DEFAULT '-1'"), "{created}");
        // A boolean's and a timestamp's casts write their canonical forms: kept.
        assert!(!created.contains("DEFAULT 'yes'"), "{created}");
        assert!(!created.contains("DEFAULT '2020-01-01 10:00'"), "{created}");
    }

    #[test]
    fn a_column_of_a_type_litescale_does_not_know_follows_an_enum() {
        assert_eq!(
            sql("create table t (m Mood not null, c citext)"),
            "CREATE TABLE t (m mood NOT NULL COLLATE \"pg_enum:mood\" CHECK (pg_enum_check(m, 'mood')), c citext);\n\
             SELECT litescale_order_enum('mood')"
        );
        assert!(sql("select 'ok'::\"Mood\"").starts_with("SELECT pg_enum_in('ok', 'Mood')"));
    }

    #[test]
    fn serial_and_identity_columns_number_rows_from_their_sequences() {
        assert_eq!(
            sql("create table t (id serial primary key, n text)"),
            "CREATE TABLE t (id INT NOT NULL DEFAULT (nextval('t_id_seq')) PRIMARY KEY CHECK (pg_typecheck(id, 'INT')), n TEXT);\n\
             SELECT litescale_create_sequence('t_id_seq', '{\"owned_by\":[\"t\",\"id\"],\"type\":\"integer\"}', false)"
        );
        assert_eq!(
            sql(
                "create table if not exists \"T\" (id bigint generated always as identity (start with 5), primary key (id))"
            ),
            "CREATE TABLE IF NOT EXISTS \"T\" (id BIGINT NOT NULL DEFAULT (nextval('\"T_id_seq\"', 'a')) CONSTRAINT \"litescale_identity\" CHECK (pg_identity_given(\"id\", '\"T_id_seq\"', 'id')) CHECK (pg_typecheck(id, 'BIGINT')), PRIMARY KEY (id));\n\
             SELECT litescale_create_sequence('T_id_seq', '{\"owned_by\":[\"T\",\"id\"],\"start\":5,\"type\":\"bigint\"}', true)"
        );
        // A computed column is no identity.
        assert_eq!(
            sql("create table t (a int, b int generated always as (a * 2) stored)"),
            "CREATE TABLE t (a INT CHECK (pg_typecheck(a, 'INT')), b INT GENERATED ALWAYS AS (a * 2) STORED CHECK (pg_typecheck(b, 'INT')))"
        );
        assert_eq!(
            plan("alter table t add column id bigserial")
                .unwrap_err()
                .sqlstate,
            "0A000"
        );
    }
}
