//! What the router knows of pg_catalog's and information_schema's shape: the types of the
//! catalog views' columns that SQLite cannot declare (booleans the views compute as 0/1,
//! which clients such as psql expect as `t`/`f`; names; OIDs; information_schema's
//! domains).

use crate::infer::schema::is_information_schema_view;
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
    "proretset",
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
    "opcdefault",
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
    "relispopulated",
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
    "cycle",
    "set_option",
    "hasindexes",
    "hasrules",
    "hastriggers",
    "rowsecurity",
    "ispopulated",
    "tgisinternal",
    "typnotnull",
    "usebypassrls",
    "usecreatedb",
    "userepl",
    "usesuper",
];

const OID_COLUMNS: &[&str] = &[
    "adrelid",
    "relid",
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
    "rngtypid",
    "rngsubtype",
    "rngmultitypid",
    "rngcollation",
    "rngsubopc",
    "enumtypid",
    "seqrelid",
    "seqtypid",
    "objid",
    "refobjid",
    "refclassid",
    "opcmethod",
    "opcnamespace",
    "opcowner",
    "opcfamily",
    "opcintype",
    "opckeytype",
];

/// Columns of type `name`.
const NAME_COLUMNS: &[&str] = &[
    "relname",
    "indexrelname",
    "typname",
    "nspname",
    "attname",
    "conname",
    "proname",
    "rolname",
    "usename",
    "datname",
    "extname",
    "spcname",
    "amname",
    "collname",
    "schemaname",
    "tablename",
    "viewname",
    "indexname",
    "matviewname",
    "sequencename",
    "tableowner",
    "viewowner",
    "matviewowner",
    "sequenceowner",
    "enumlabel",
    "opcname",
    "policyname",
];

/// information_schema's columns of its domain `cardinal_number` (an int4); the others are
/// `sql_identifier` (a name) or `character_data` / `yes_or_no` (varchar).
const CARDINAL_NUMBER_COLUMNS: &[&str] = &[
    "ordinal_position",
    "character_maximum_length",
    "character_octet_length",
    "numeric_precision",
    "numeric_precision_radix",
    "numeric_scale",
    "datetime_precision",
    "interval_precision",
    "maximum_cardinality",
    "position_in_unique_constraint",
    "max_dynamic_result_sets",
    "result_cast_char_max_length",
    "result_cast_char_octet_length",
    "result_cast_numeric_precision",
    "result_cast_numeric_precision_radix",
    "result_cast_numeric_scale",
    "result_cast_datetime_precision",
    "result_cast_interval_precision",
    "result_cast_maximum_cardinality",
];

/// The type of an information_schema view's column, by Postgres' domains.
fn information_schema_type(column: &str) -> PgType {
    if CARDINAL_NUMBER_COLUMNS.contains(&column) {
        PgType::Int4
    } else if column.ends_with("_catalog")
        || column.ends_with("_schema")
        || column.ends_with("_name")
        || matches!(
            column,
            "schema_owner"
                | "dtd_identifier"
                | "grantor"
                | "grantee"
                | "collection_type_identifier"
                | "result_cast_dtd_identifier"
        )
    {
        PgType::Name
    } else {
        PgType::Varchar
    }
}

const INT2_COLUMNS: &[&str] = &[
    "adnum",
    "pronargs",
    "relchecks",
    "attnum",
    "indnatts",
    "indnkeyatts",
    "relnatts",
    "typlen",
];

const INT4_COLUMNS: &[&str] = &[
    "atttypmod",
    "encoding",
    "typtypmod",
    "attndims",
    "objsubid",
    "refobjsubid",
];

/// Columns of Postgres' one-byte "char" type: kinds and flags.
const CHAR_COLUMNS: &[&str] = &[
    "contype",
    "confupdtype",
    "confdeltype",
    "confmatchtype",
    "relkind",
    "relpersistence",
    "relreplident",
    "typtype",
    "typcategory",
    "typalign",
    "typstorage",
    "typdelim",
    "attidentity",
    "attgenerated",
    "attalign",
    "attstorage",
    "prokind",
    "provolatile",
    "proparallel",
    "amtype",
    "deptype",
];

/// The type of a catalog view's column, where the view itself cannot declare it.
pub(crate) fn column_type(table: &str, column: &str) -> Option<PgType> {
    if is_information_schema_view(table) {
        return Some(information_schema_type(column));
    }
    if !table.starts_with("pg_") {
        return None;
    }
    [
        (BOOLEAN_COLUMNS, PgType::Bool),
        (OID_COLUMNS, PgType::Oid),
        (NAME_COLUMNS, PgType::Name),
        (INT2_COLUMNS, PgType::Int2),
        (INT4_COLUMNS, PgType::Int4),
        (CHAR_COLUMNS, PgType::Char),
        (&["indkey", "indoption"], PgType::Int2Vector),
        (&["conkey", "confkey"], PgType::Int2Array),
        (&["proargnames"], PgType::TextArray),
        (&["enumsortorder"], PgType::Float4),
        (&["roles"], PgType::NameArray),
        (&["data_type"], PgType::Regtype),
    ]
    .iter()
    .find(|(names, _)| names.contains(&column))
    .map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_column_types_are_known() {
        assert_eq!(column_type("pg_roles", "rolsuper"), Some(PgType::Bool));
        assert_eq!(column_type("pg_roles", "rolname"), Some(PgType::Name));
        assert_eq!(column_type("pg_roles", "rolpassword"), None);
        assert_eq!(column_type("pg_class", "oid"), Some(PgType::Oid));
        assert_eq!(column_type("users", "rolsuper"), None);
        let columns = "information_schema.columns";
        assert_eq!(column_type(columns, "table_name"), Some(PgType::Name));
        assert_eq!(column_type(columns, "ordinal_position"), Some(PgType::Int4));
        assert_eq!(column_type(columns, "is_nullable"), Some(PgType::Varchar));
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
            [Some(PgType::Name), Some(PgType::Oid), Some(PgType::Oid)]
        );
    }
}
