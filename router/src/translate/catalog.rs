//! pg_catalog as SQLite has it: `pg_catalog.` and `public.` qualifiers dropped,
//! `sqlite_schema` without litescale's tables, regclass shown as a name, and the catalog's
//! lookup views (`ls_*`) that "deparse" functions and regclass casts read.

use std::ops::ControlFlow;

use sqlparser::ast::{
    DataType, Expr, Ident, ObjectName, Statement, Value, Visit, visit_expressions_mut,
};

use super::sql::{call, number, parse_query, string};
use crate::infer::schema::information_schema_view;
use crate::types::catalog_type_name;

/// `pg_catalog.pg_class` and `public.t` name the catalog views and tables of the one SQLite
/// schema; function names lose the `pg_catalog.` prefix too.
pub(super) fn unqualify_catalog_names(ast: &mut Statement) {
    use sqlparser::ast::visit_relations_mut;
    let _ = sqlparser::ast::VisitMut::visit(ast, &mut InformationSchemaAliases);
    let strip = |name: &mut ObjectName| {
        if name.0.len() == 2
            && let Some(first) = name.0[0].as_ident()
            && matches!(first.value.as_str(), "pg_catalog" | "public")
        {
            name.0.remove(0);
        }
    };
    let _ = visit_relations_mut(ast, |name| {
        strip(name);
        name_information_schema_view(name);
        ControlFlow::<()>::Continue(())
    });
    // A foreign key's table (`REFERENCES public.t`, as pg_dump writes it).
    for reference in crate::infer::schema::foreign_key_tables(ast) {
        strip(reference);
    }
    // What a DROP drops (`DROP INDEX "public"."t_idx"`, TypeORM).
    if let Statement::Drop { names, .. } = ast {
        names.iter_mut().for_each(strip);
    }
    let _ = visit_expressions_mut(ast, |e| {
        match e {
            Expr::Function(f) => strip(&mut f.name),
            // pg_catalog.pg_class.relname; information_schema.tables.table_name (Diesel),
            // whose view InformationSchemaAliases calls `tables`.
            Expr::CompoundIdentifier(parts)
                if parts.len() == 3
                    && matches!(
                        parts[0].value.as_str(),
                        "pg_catalog" | "public" | "information_schema"
                    ) =>
            {
                parts.remove(0);
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `FROM information_schema.columns` read without an alias keeps its name `columns` for
/// the query's `columns.*` and `columns.column_name` (TypeORM writes them) once it names
/// the shard's view `"information_schema.columns"`.
struct InformationSchemaAliases;

impl sqlparser::ast::VisitorMut for InformationSchemaAliases {
    type Break = ();

    fn pre_visit_table_factor(
        &mut self,
        factor: &mut sqlparser::ast::TableFactor,
    ) -> ControlFlow<()> {
        if let sqlparser::ast::TableFactor::Table {
            name,
            alias: alias @ None,
            ..
        } = factor
            && name.0.len() == 2
            && information_schema_view(name).is_some()
            && let Some(view) = name.0[1].as_ident()
        {
            *alias = Some(sqlparser::ast::TableAlias {
                explicit: true,
                name: view.clone(),
                columns: Vec::new(),
                at: None,
            });
        }
        ControlFlow::Continue(())
    }
}

/// `information_schema.tables` names the shard's view `"information_schema.tables"`.
fn name_information_schema_view(name: &mut ObjectName) {
    if let Some(view) = information_schema_view(name) {
        *name = ObjectName::from(vec![Ident::with_quote('"', view)]);
    }
}

/// `SELECT conrelid::regclass`, `SELECT atttypid::regtype`: in a select list a regclass is
/// shown as the relation's name and a regtype as the type's, while elsewhere
/// (`WHERE c.oid = 't'::regclass`) each is compared as an OID.
pub(super) struct ObjectIdentifierOutput;

fn is_catalog_type(t: &DataType, wanted: &str) -> bool {
    match t {
        DataType::Regclass => wanted == "regclass",
        DataType::Custom(name, _) => catalog_type_name(name) == wanted,
        _ => false,
    }
}

/// The name of a `x::regclass` or `x::regtype` (also under a further cast to text).
fn object_name(e: &Expr) -> Option<Expr> {
    match e {
        // `'t'::regclass`: the relation's name as the catalog writes it (`app.t`), or a
        // catalog's as written.
        Expr::Cast {
            expr, data_type, ..
        } if is_catalog_type(data_type, "regclass")
            && let Expr::Value(v) = expr.as_ref()
            && let Value::SingleQuotedString(text) = &v.value =>
        {
            Some(call(
                "coalesce",
                vec![lookup(Lookup::NameByOid, e.clone()), string(text)],
            ))
        }
        // The cast itself becomes the relation's OID (expressions/casts.rs), from an OID
        // or a name (`lower('T')::regclass`).
        Expr::Cast {
            expr, data_type, ..
        } if is_catalog_type(data_type, "regclass") && !matches!(expr.as_ref(), Expr::Value(_)) => {
            Some(lookup(Lookup::NameByOid, e.clone()))
        }
        // `proargtypes::regtype[]`: the types' names (the cast makes their OIDs).
        Expr::Cast { data_type, .. }
            if crate::types::array_element(data_type)
                .is_some_and(|element| is_catalog_type(element, "regtype")) =>
        {
            Some(call("pg_regtype_names", vec![e.clone()]))
        }
        // The cast itself becomes the type's OID (expressions/casts.rs).
        Expr::Cast { data_type, .. } if is_catalog_type(data_type, "regtype") => Some(call(
            "format_type",
            vec![e.clone(), Expr::Value(Value::Null.into())],
        )),
        // `COALESCE(proallargtypes::regtype[], proargtypes::regtype[])::text[]` (pgcli).
        Expr::Cast {
            expr, data_type, ..
        } if crate::types::array_element(data_type)
            .is_some_and(|element| matches!(element, DataType::Text | DataType::Varchar(_))) =>
        {
            let regtypes = |e: &Expr| {
                matches!(e, Expr::Cast { data_type, .. }
                    if crate::types::array_element(data_type)
                        .is_some_and(|element| is_catalog_type(element, "regtype")))
            };
            let all_regtypes = match expr.as_ref() {
                Expr::Function(f)
                    if super::sql::function_name(f).as_deref() == Some("coalesce") =>
                {
                    super::sql::args(f).iter().all(regtypes)
                }
                inner => regtypes(inner),
            };
            all_regtypes.then(|| call("pg_regtype_names", vec![(**expr).clone()]))
        }
        Expr::Cast { expr, .. } if as_text(e) => object_name(expr),
        _ => None,
    }
}

/// Whether `e` casts to a text type, or an array of text.
fn as_text(e: &Expr) -> bool {
    let text = |t: &DataType| {
        matches!(
            t,
            DataType::Text | DataType::Varchar(_) | DataType::CharacterVarying(_)
        ) || t.to_string().eq_ignore_ascii_case("name")
    };
    matches!(e, Expr::Cast { data_type, .. }
        if text(data_type) || crate::types::array_element(data_type).is_some_and(text))
}

impl sqlparser::ast::VisitorMut for ObjectIdentifierOutput {
    type Break = ();

    /// `x::regclass::text` is the name as text wherever it is (drizzle-kit:
    /// `pg_get_serial_sequence(c.oid::regclass::text, 'id')`); `::oid` stays the OID.
    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if as_text(e)
            && let Some(name) = object_name(e)
        {
            *e = name;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        use sqlparser::ast::{SelectItem, SetExpr};
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                    && let Some(name) = object_name(e)
                {
                    *e = name;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// The OIDs Postgres gives its catalogs, which a catalog row's `tableoid` holds (pg_dump
/// reads it to name what kind of object a row is).
const CATALOG_OIDS: &[(&str, i64)] = &[
    ("pg_aggregate", 2600),
    ("pg_am", 2601),
    ("pg_attrdef", 2604),
    ("pg_attribute", 1249),
    ("pg_authid", 1260),
    ("pg_cast", 2605),
    ("pg_class", 1259),
    ("pg_collation", 3456),
    ("pg_constraint", 2606),
    ("pg_conversion", 2607),
    ("pg_database", 1262),
    ("pg_default_acl", 826),
    ("pg_depend", 2608),
    ("pg_description", 2609),
    ("pg_enum", 3501),
    ("pg_event_trigger", 3466),
    ("pg_extension", 3079),
    ("pg_foreign_data_wrapper", 2328),
    ("pg_foreign_server", 1417),
    ("pg_index", 2610),
    ("pg_inherits", 2611),
    ("pg_language", 2612),
    ("pg_largeobject_metadata", 2995),
    ("pg_namespace", 2615),
    ("pg_opclass", 2616),
    ("pg_operator", 2617),
    ("pg_opfamily", 2753),
    ("pg_policy", 3256),
    ("pg_proc", 1255),
    ("pg_publication", 6104),
    ("pg_publication_namespace", 6237),
    ("pg_publication_rel", 6106),
    ("pg_rewrite", 2618),
    ("pg_roles", 1260),
    ("pg_sequence", 2224),
    ("pg_statistic_ext", 3381),
    ("pg_subscription", 6100),
    ("pg_tablespace", 1213),
    ("pg_transform", 3576),
    ("pg_trigger", 2620),
    ("pg_ts_config", 3602),
    ("pg_ts_dict", 3600),
    ("pg_ts_parser", 3601),
    ("pg_ts_template", 3764),
    ("pg_type", 1247),
    ("pg_user_mapping", 1418),
];

/// A catalog row's `tableoid` system column (`x.tableoid`, or `tableoid` where one catalog
/// is read): the catalog's OID, which the catalog views do not carry.
pub(super) fn catalog_table_oids(ast: &mut Statement) {
    // Select lists first, each by its own FROM, keeping the column's name.
    let _ = sqlparser::ast::VisitMut::visit(ast, &mut SelectedTableOids);
    let mut named = Vec::new();
    let _ = ast.visit(&mut CatalogAliases(&mut named));
    let mut oids: Vec<i64> = named.iter().map(|(_, oid)| *oid).collect();
    oids.sort_unstable();
    oids.dedup();
    let _ = visit_expressions_mut(ast, |e| {
        if let Some(oid) = table_oid(e, &named, &oids) {
            *e = Expr::value(Value::Number(oid.to_string(), false));
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The catalog OID `e` reads, if it is a `tableoid` of a relation in `named` (bare where
/// the relations are all one catalog, `oids`).
fn table_oid(e: &Expr, named: &[(String, i64)], oids: &[i64]) -> Option<i64> {
    match e {
        Expr::CompoundIdentifier(parts)
            if parts.len() == 2 && parts[1].value.eq_ignore_ascii_case("tableoid") =>
        {
            named
                .iter()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(&parts[0].value))
                .map(|(_, oid)| *oid)
        }
        Expr::Identifier(i) if i.value.eq_ignore_ascii_case("tableoid") && oids.len() == 1 => {
            Some(oids[0])
        }
        _ => None,
    }
}

/// `SELECT tableoid, x.tableoid FROM pg_type x ...`: each select list's tableoid, by the
/// relations of its own FROM, as a number named tableoid.
struct SelectedTableOids;

impl sqlparser::ast::VisitorMut for SelectedTableOids {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        use sqlparser::ast::{SelectItem, SetExpr};
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let mut named = Vec::new();
        for from in &select.from {
            let _ = from.relation.visit(&mut CatalogAliases(&mut named));
            for join in &from.joins {
                let _ = join.relation.visit(&mut CatalogAliases(&mut named));
            }
        }
        let mut oids: Vec<i64> = named.iter().map(|(_, oid)| *oid).collect();
        oids.sort_unstable();
        oids.dedup();
        for item in &mut select.projection {
            if let SelectItem::UnnamedExpr(e) = item
                && let Some(oid) = table_oid(e, &named, &oids)
            {
                *item = SelectItem::ExprWithAlias {
                    expr: Expr::value(Value::Number(oid.to_string(), false)),
                    alias: Ident::new("tableoid"),
                };
            }
        }
        ControlFlow::Continue(())
    }
}

/// Collects each catalog relation's name in what it visits, and its alias, with its OID.
struct CatalogAliases<'a>(&'a mut Vec<(String, i64)>);

impl sqlparser::ast::Visitor for CatalogAliases<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &sqlparser::ast::TableFactor) -> ControlFlow<()> {
        if let sqlparser::ast::TableFactor::Table { name, alias, .. } = factor
            && let Some(table) = name.0.last().and_then(|p| p.as_ident())
            && let Some((_, oid)) = CATALOG_OIDS
                .iter()
                .find(|(catalog, _)| catalog.eq_ignore_ascii_case(&table.value))
        {
            self.0.push((table.value.clone(), *oid));
            if let Some(alias) = alias {
                self.0.push((alias.name.value.clone(), *oid));
            }
        }
        ControlFlow::Continue(())
    }
}

/// `sqlite_master` / `sqlite_schema` read through the catalog's `ls_sqlite_schema` view,
/// which leaves litescale's own tables out; the old name stays as the alias, so
/// `sqlite_master.name` still resolves.
pub(super) struct SchemaWithoutInternals;

impl sqlparser::ast::VisitorMut for SchemaWithoutInternals {
    type Break = ();

    fn pre_visit_table_factor(
        &mut self,
        factor: &mut sqlparser::ast::TableFactor,
    ) -> ControlFlow<()> {
        let sqlparser::ast::TableFactor::Table { name, alias, .. } = factor else {
            return ControlFlow::Continue(());
        };
        let parts: Vec<&str> = name
            .0
            .iter()
            .filter_map(|p| p.as_ident().map(|i| i.value.as_str()))
            .collect();
        let schema_table = match parts.as_slice() {
            [table] | [_, table] if parts.len() == 1 || parts[0].eq_ignore_ascii_case("main") => {
                table
            }
            _ => return ControlFlow::Continue(()),
        };
        if !["sqlite_master", "sqlite_schema"]
            .iter()
            .any(|t| t.eq_ignore_ascii_case(schema_table))
        {
            return ControlFlow::Continue(());
        }
        let original = Ident::new(*schema_table);
        *name = ObjectName::from(vec![Ident::new("ls_sqlite_schema")]);
        alias.get_or_insert(sqlparser::ast::TableAlias {
            explicit: true,
            name: original,
            columns: vec![],
            at: None,
        });
        ControlFlow::Continue(())
    }
}

/// The catalog's lookup views (`ls_key`, `ls_value`); their column names are unlike any
/// catalog column, so a bare `oid` in the argument still names the outer query's column.
pub(super) enum Lookup {
    IndexDef,
    ConstraintDef,
    ViewDef,
    OidByName,
    NameByOid,
}

/// `(SELECT column FROM view WHERE key = arg)`: catalog "deparse" functions read the text
/// the catalog views keep.
pub(super) fn lookup(which: Lookup, arg: Expr) -> Expr {
    let view = match which {
        Lookup::IndexDef => "ls_index_def",
        Lookup::ConstraintDef => "ls_constraint_def",
        Lookup::ViewDef => "ls_view_def",
        Lookup::OidByName => "ls_oid_by_name",
        Lookup::NameByOid => "ls_name_by_oid",
    };
    let Some(mut query) = parse_query(&format!("SELECT ls_value FROM {view} WHERE ls_key = 0"))
    else {
        return arg;
    };
    if let sqlparser::ast::SetExpr::Select(select) = query.body.as_mut()
        && let Some(Expr::BinaryOp { right, .. }) = select.selection.as_mut()
    {
        **right = arg;
    }
    Expr::Subquery(query)
}

/// The name of column `position` (from 1) of index `index`.
pub(super) fn index_column(index: Expr, position: Expr) -> Expr {
    let sql = "SELECT ls_value FROM ls_index_column WHERE ls_key = 0 AND ls_position = 0";
    let Some(mut query) = parse_query(sql) else {
        return Expr::value(Value::Null);
    };
    if let sqlparser::ast::SetExpr::Select(select) = query.body.as_mut()
        && let Some(Expr::BinaryOp { left, right, .. }) = select.selection.as_mut()
    {
        if let Expr::BinaryOp { right: key, .. } = left.as_mut() {
            **key = index;
        }
        if let Expr::BinaryOp { right: pos, .. } = right.as_mut() {
            **pos = position;
        }
    }
    Expr::Subquery(query)
}

/// `(SELECT oid FROM pg_class WHERE relname = <name without schema and quotes>)`.
pub(super) fn regclass_lookup(name: Expr) -> Expr {
    // A catalog's own OID (`'pg_catalog.pg_class'::regclass`, which psql compares
    // pg_depend.classid with).
    if let Expr::Value(v) = &name
        && let Value::SingleQuotedString(text) = &v.value
        && let Some((_, oid)) = CATALOG_OIDS
            .iter()
            .find(|(catalog, _)| text.strip_prefix("pg_catalog.").unwrap_or(text) == *catalog)
    {
        return number(*oid);
    }
    let unqualified = call(
        "replace",
        vec![
            call("replace", vec![name.clone(), string("public."), string("")]),
            string("\""),
            string(""),
        ],
    );
    let found = lookup(Lookup::OidByName, unqualified);
    // A name no relation has: 42P01, as Postgres' regclass input answers.
    match &name {
        Expr::Value(v)
            if let Value::SingleQuotedString(text) = &v.value
                && text.parse::<i64>().is_err() =>
        {
            call(
                "coalesce",
                vec![
                    found,
                    call(
                        "pg_raise",
                        vec![
                            string("42P01"),
                            string(&format!("relation \"{text}\" does not exist")),
                        ],
                    ),
                ],
            )
        }
        _ => found,
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::sql;

    #[test]
    fn information_schema_views_are_the_shards_dotted_views() {
        assert_eq!(
            sql("SELECT c.column_name FROM information_schema.columns c \
                 JOIN INFORMATION_SCHEMA.TABLES t ON t.table_name = c.table_name"),
            "SELECT c.column_name FROM \"information_schema.columns\" c \
             JOIN \"information_schema.tables\" t ON t.table_name = c.table_name"
        );
        assert_eq!(
            sql("SELECT relname FROM pg_catalog.pg_class"),
            "SELECT relname FROM pg_class"
        );
    }
}
