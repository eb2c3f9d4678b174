//! What the router knows of pg_catalog's shape: which columns of the catalog views are
//! booleans (the views compute them as 0/1; clients such as psql expect `t`/`f`).

use crate::types::PgType;

const BOOLEAN_COLUMNS: &[&str] = &[
    "admin_option",
    "amcanorder",
    "atthasdef",
    "atthasmissing",
    "attisdropped",
    "attislocal",
    "attnotnull",
    "condeferrable",
    "condeferred",
    "conislocal",
    "connoinherit",
    "convalidated",
    "datallowconn",
    "datistemplate",
    "indcheckxmin",
    "indimmediate",
    "indisclustered",
    "indisexclusion",
    "indislive",
    "indisprimary",
    "indisready",
    "indisreplident",
    "indisunique",
    "indisvalid",
    "indnullsnotdistinct",
    "inherit_option",
    "inhdetachpending",
    "is_instead",
    "polpermissive",
    "puballtables",
    "pubdelete",
    "pubinsert",
    "pubtruncate",
    "pubupdate",
    "pubviaroot",
    "relforcerowsecurity",
    "relhasindex",
    "relhasrules",
    "relhassubclass",
    "relhastriggers",
    "relispartition",
    "relisshared",
    "relrowsecurity",
    "rolbypassrls",
    "rolcanlogin",
    "rolcreatedb",
    "rolcreaterole",
    "rolinherit",
    "rolreplication",
    "rolsuper",
    "seqcycle",
    "set_option",
    "tgisinternal",
    "typnotnull",
    "usebypassrls",
    "usecreatedb",
    "userepl",
    "usesuper",
];

const OID_COLUMNS: &[&str] = &[
    "adrelid",
    "attcollation",
    "attrelid",
    "atttypid",
    "classoid",
    "conindid",
    "conrelid",
    "confrelid",
    "contypid",
    "datdba",
    "indexrelid",
    "indrelid",
    "inhparent",
    "inhrelid",
    "member",
    "nspowner",
    "objoid",
    "oid",
    "polrelid",
    "prrelid",
    "relam",
    "relnamespace",
    "relowner",
    "reltype",
    "roleid",
    "stxrelid",
    "tgrelid",
    "typarray",
    "typbasetype",
    "typcollation",
    "typelem",
    "typnamespace",
    "typowner",
    "typrelid",
];

const INT2_COLUMNS: &[&str] = &[
    "adnum",
    "attnum",
    "indnatts",
    "indnkeyatts",
    "relnatts",
    "typlen",
];

const INT4_COLUMNS: &[&str] = &["atttypmod", "encoding", "typtypmod", "attndims"];

/// The type of a catalog view's column, where the view itself cannot declare it.
pub(crate) fn column_type(table: &str, column: &str) -> Option<PgType> {
    if !table.starts_with("pg_") {
        return None;
    }
    [
        (BOOLEAN_COLUMNS, PgType::Bool),
        (OID_COLUMNS, PgType::Oid),
        (INT2_COLUMNS, PgType::Int2),
        (INT4_COLUMNS, PgType::Int4),
        (&["indkey", "indoption"], PgType::Int2Vector),
        (&["conkey", "confkey"], PgType::Int2Array),
    ]
    .iter()
    .find(|(names, _)| names.contains(&column))
    .map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_booleans_are_known() {
        assert_eq!(column_type("pg_roles", "rolsuper"), Some(PgType::Bool));
        assert_eq!(column_type("pg_roles", "rolname"), None);
        assert_eq!(column_type("pg_class", "oid"), Some(PgType::Oid));
        assert_eq!(column_type("users", "rolsuper"), None);
    }
}

#[cfg(test)]
mod inference_tests {
    use crate::{NoSchema, PgType, plan};

    #[test]
    fn catalog_queries_get_catalog_types() {
        let p = &plan(
            "SELECT typname AS name, oid, typarray FROM pg_type t WHERE t.oid = to_regtype($1)",
        )
        .unwrap()[0];
        assert_eq!(
            p.projection_types(&NoSchema, &[PgType::Text]),
            [None, Some(PgType::Oid), Some(PgType::Oid)]
        );
    }
}
