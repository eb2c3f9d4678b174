//! What the router knows of pg_catalog's shape: which columns of the catalog views are
//! booleans (the views compute them as 0/1; clients such as psql expect `t`/`f`).

use crate::types::PgType;

const BOOLEAN_COLUMNS: &[&str] = &[
    "admin_option",
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

/// The type of a catalog view's column, where the view itself cannot declare it.
pub(crate) fn column_type(table: &str, column: &str) -> Option<PgType> {
    (table.starts_with("pg_") && BOOLEAN_COLUMNS.contains(&column)).then_some(PgType::Bool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_booleans_are_known() {
        assert_eq!(column_type("pg_roles", "rolsuper"), Some(PgType::Bool));
        assert_eq!(column_type("pg_roles", "rolname"), None);
        assert_eq!(column_type("users", "rolsuper"), None);
    }
}
