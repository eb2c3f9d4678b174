//! pg_opclass: the default btree operator classes of the types a litescale column can
//! have, with PostgreSQL 15's OIDs, and each index key's class for pg_index.indclass
//! (`pg_btree_opclass`). drizzle-kit joins `pg_opclass ON oid = ANY(indclass)` to list a
//! table's indexes, so an index whose keys have no class is an index it never sees.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use super::TypeCatalog;

/// `(oid, opcname, opcfamily, opcintype, opckeytype)` as PostgreSQL 15 has them
/// (`SELECT oid, opcname, opcfamily, opcintype, opckeytype FROM pg_opclass WHERE
/// opcmethod = 403 AND opcdefault`), for the types of types.rs' catalog, arrays and enums.
const BTREE_DEFAULTS: &[(u32, &str, u32, u32, u32)] = &[
    (10003, "bool_ops", 424, 16, 0),
    (10006, "bytea_ops", 428, 17, 0),
    (10007, "char_ops", 429, 18, 0),
    (10028, "name_ops", 1994, 19, 2275),
    (3124, "int8_ops", 1976, 20, 0),
    (1979, "int2_ops", 1976, 21, 0),
    (1978, "int4_ops", 1976, 23, 0),
    (3126, "text_ops", 1994, 25, 0),
    (1981, "oid_ops", 1989, 26, 0),
    (10012, "float4_ops", 1970, 700, 0),
    (3123, "float8_ops", 1970, 701, 0),
    (10015, "inet_ops", 1974, 869, 0),
    (10004, "bpchar_ops", 426, 1042, 0),
    (3122, "date_ops", 434, 1082, 0),
    (10038, "time_ops", 1996, 1083, 0),
    (3128, "timestamp_ops", 434, 1114, 0),
    (3127, "timestamptz_ops", 434, 1184, 0),
    (10022, "interval_ops", 1982, 1186, 0),
    (3125, "numeric_ops", 1988, 1700, 0),
    (10000, "array_ops", 397, ANYARRAY, 0),
    (10065, "uuid_ops", 2968, 2950, 0),
    (10069, "enum_ops", 3522, ANYENUM, 0),
    (10088, "jsonb_ops", 4033, 3802, 0),
];

const ANYARRAY: u32 = 2277;
const ANYENUM: u32 = 3500;

/// The pg_opclass view.
pub(super) fn view() -> String {
    let rows: Vec<String> = BTREE_DEFAULTS
        .iter()
        .map(|(oid, name, family, input, key)| {
            format!("({oid}, 403, '{name}', 11, 10, {family}, {input}, 1, {key})")
        })
        .collect();
    format!(
        "CREATE TEMP VIEW pg_opclass(oid, opcmethod, opcname, opcnamespace, opcowner, \
         opcfamily, opcintype, opcdefault, opckeytype) AS VALUES {};",
        rows.join(", ")
    )
}

/// `pg_btree_opclass(type oid)`: the default btree class of a column of that type, 0 for
/// a type that has none (json). The class a type is indexed by is that of the type it is
/// binary-coercible to where it has none of its own (varchar: text_ops; regtype: oid_ops),
/// of any array for an array type, of any enum for an enum's: pg_type_oid answers OIDs
/// outside the type catalog for enums alone.
pub(super) fn register(conn: &Connection, types: &TypeCatalog) -> rusqlite::Result<()> {
    let class_of = |input: u32| BTREE_DEFAULTS.iter().find(|c| c.3 == input).map(|c| c.0);
    let classes: Vec<(u32, Option<u32>)> = (types.all)()
        .into_iter()
        .map(|(oid, name, _, category)| {
            let input = match (name, category) {
                ("varchar", _) => 25,
                ("regtype", _) => 26,
                (_, 'A') => ANYARRAY,
                _ => oid,
            };
            (oid, class_of(input))
        })
        .collect();
    let enum_class = class_of(ANYENUM);
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("pg_btree_opclass", 1, flags, move |ctx| {
        let Some(oid) = ctx.get::<Option<i64>>(0)? else {
            return Ok(0);
        };
        let class = match classes.iter().find(|(t, _)| i64::from(*t) == oid) {
            Some((_, class)) => *class,
            None => enum_class,
        };
        Ok(class.unwrap_or(0))
    })
}
