//! A live pg_catalog over each SQLite file: TEMP views on `sqlite_schema` and the
//! `pragma_*` table functions, plus the catalog functions psql and drivers call. Because
//! they are views, they are always in step with the schema. `information_schema` builds
//! its views on these.
//!
//! Postgres type rules are not this crate's to know; the caller hands them in as a
//! [`TypeCatalog`].

mod absent;
pub(crate) mod acl;
pub(crate) mod definitions;
mod information_schema;
pub(crate) mod marks;
mod opclass;
mod sizes;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension};

/// One pg_type row: `(oid, typname, typlen, typcategory)`.
pub type CatalogType = (u32, &'static str, i16, char);

/// Postgres type knowledge the catalog and the type checks need, supplied by whoever
/// opens the storage.
#[derive(Clone, Copy)]
pub struct TypeCatalog {
    /// `(type oid, typmod)` of a declared column type.
    pub of_declared: fn(&str) -> (u32, i32),
    /// `format_type(oid, typmod)`: `character varying(20)`, `integer`, ...
    pub format: fn(u32, i32) -> Option<String>,
    /// Every type.
    pub all: fn() -> Vec<CatalogType>,
    /// Whether a value may be stored in a column of the type with this OID: the
    /// `pg_typecheck` CHECK of typed columns calls it (typecheck.rs). The error is the
    /// client's: Postgres' SQLSTATE and message for that input.
    pub check_stored: fn(&crate::Value, u32) -> Result<(), crate::ShardError>,
    /// The Postgres version litescale answers as, and its number (`15.18`, `150018`).
    pub server_version: (&'static str, &'static str),
}

/// Settings no session can change, for `current_setting()` and pg_settings.
const SERVER_SETTINGS: &[(&str, &str)] = &[
    ("server_encoding", "UTF8"),
    ("max_identifier_length", "63"),
    ("max_index_keys", "32"),
    ("max_function_args", "100"),
    ("block_size", "8192"),
    ("integer_datetimes", "on"),
    ("default_table_access_method", "heap"),
];

/// The router's translation of `now()` (router `translate/expressions/temporal/mod.rs`),
/// which `CURRENT_DATE`, `LOCALTIMESTAMP` and `LOCALTIME` read through a cast.
const NOW: &str = "pg_timestamptz(strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))";

/// `text` with the translations of the clock's functions in a stored expression (a
/// column's DEFAULT) written back as Postgres writes them.
fn postgres_clock_names(text: &str) -> String {
    if !text.contains("strftime(") {
        return text.to_owned();
    }
    text.replace(&format!("pg_date({NOW})"), "CURRENT_DATE")
        .replace(&format!("pg_timestamp({NOW})"), "LOCALTIMESTAMP")
        .replace(&format!("pg_time({NOW})"), "LOCALTIME")
        .replace(NOW, "now()")
}

/// A column's stored DEFAULT as Postgres shows it: a string literal, or a negative number,
/// cast to the column's type (`'x'::character varying`, `'-1'::integer`), as Postgres keeps
/// a constant it has coerced; the clock's functions by their names.
fn postgres_default(text: &str, type_name: &str) -> String {
    let text = postgres_clock_names(text);
    let quoted = |t: &str| {
        t.len() >= 2
            && t.starts_with('\'')
            && t.ends_with('\'')
            && t[1..t.len() - 1]
                .split("''")
                .all(|piece| !piece.contains('\''))
    };
    let negative = |t: &str| {
        let t = t
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(t);
        t.strip_prefix('-').is_some_and(|digits| {
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        })
    };
    if let Some(sequence) = text
        .strip_prefix("nextval(")
        .and_then(|t| t.strip_suffix(')'))
        .filter(|t| quoted(t))
    {
        // The column's sequence, which Postgres keeps as an OID and shows as a regclass.
        format!("nextval({sequence}::regclass)")
    } else if quoted(&text) {
        format!("{text}::{type_name}")
    } else if has_top_level_operator(&text) {
        // SQLite reports `DEFAULT (1 + 2)` without its parentheses; Postgres shows an
        // operator's expression inside them.
        format!("({text})")
    } else if negative(&text) {
        format!("'{}'::{type_name}", text.trim_matches(['(', ')']))
    } else {
        text
    }
}

/// Whether `text` applies an operator outside any parentheses or string (`1 + 2`, not
/// `f(1 + 2)` or `-1`).
fn has_top_level_operator(text: &str) -> bool {
    let (mut depth, mut quoted) = (0i32, false);
    for (at, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            '+' | '-' | '*' | '/' | '|' | '<' | '>' | '=' | '%'
                if !quoted && depth == 0 && at > 0 =>
            {
                return true;
            }
            _ => {}
        }
    }
    false
}

/// The start of the error for current_setting() of a session setting
/// (engine/sqlite_errors.rs: 0A000).
pub(crate) const CURRENT_SETTING_UNSUPPORTED: &str =
    "current_setting() of a session setting is not supported by litescale; use SHOW";

/// Relations get OIDs above Postgres' reserved range, from their sqlite_schema rowid.
pub(crate) const OID_BASE: i64 = 16384;

/// Postgres' pseudo-types, which functions' signatures name (pgcli reads
/// `'trigger'::regtype`): in pg_type, as no column can have them.
const PSEUDO_TYPES: &[(u32, &str)] = &[
    (2249, "record"),
    (2275, "cstring"),
    (2276, "any"),
    (2277, "anyarray"),
    (2279, "trigger"),
    (2280, "language_handler"),
    (2281, "internal"),
    (2283, "anyelement"),
    (2776, "anynonarray"),
    (3500, "anyenum"),
    (3838, "event_trigger"),
];

fn views(types: &TypeCatalog) -> String {
    let all = (types.all)();
    // An array type `_x` and its element type `x` name each other (typelem, typarray).
    let oid_of = |name: &str| {
        all.iter()
            .find(|(_, n, _, _)| *n == name)
            .map_or(0, |(oid, ..)| *oid)
    };
    let type_rows: Vec<String> = all
        .iter()
        .map(|(oid, name, len, cat)| {
            let element = name.strip_prefix('_').map_or(0, oid_of);
            let array = oid_of(&format!("_{name}"));
            format!(
                "({oid}, '{name}', 11, {len}, 'b', '{cat}', {element}, {array}, 0, -1, 0, 'f', 10)"
            )
        })
        .collect();
    format!(
        r#"
-- public belongs to pg_database_owner and grants it to everyone, as in Postgres 15.
CREATE TEMP VIEW pg_namespace AS
  SELECT CAST(column1 AS INTEGER) AS oid, column2 AS nspname, column3 AS nspowner,
    column4 AS nspacl
  FROM (VALUES (11, 'pg_catalog', 10, NULL),
    (2200, 'public', 6171, '{{pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}}'),
    (13000, 'information_schema', 10, NULL))
  UNION ALL SELECT oid, nspname, 10, NULL FROM ls_schema;

-- The schemas CREATE SCHEMA made (engine/objects/schemas.rs).
CREATE TEMP VIEW ls_schema(oid, nspname) AS
  SELECT CAST(value ->> 0 AS INTEGER), value ->> 1 FROM json_each(litescale_schemas());

-- What a tenant's `sqlite_master` reads (the router renames it): the schema without
-- litescale's own tables, whatever the case of their names.
CREATE TEMP VIEW ls_sqlite_schema AS
  SELECT * FROM main.sqlite_schema WHERE lower(tbl_name) NOT LIKE '\_litescale%' ESCAPE '\';

-- Each relation with its schema: an object of a schema other than public is named
-- `<schema>.<name>` in SQLite (engine/objects/schemas.rs). `name` is SQLite's (for an
-- index SQLite made, Postgres' name for it), `relname` without the schema.
-- Only a name with a dot asks the registry (litescale_schema_of: the schema's OID and
-- name), so a database with no schema but public pays nothing for them.
CREATE TEMP VIEW ls_relation AS
  SELECT r.oid, r.type, r.tbl_name, r.sql, r.sqlite_name, r.name,
    coalesce(r.schema_of ->> 0, 2200) AS namespace,
    coalesce(r.schema_of ->> 1, 'public') AS nspname,
    CASE WHEN r.schema_of IS NULL THEN r.name
      ELSE substr(r.name, length(r.schema_of ->> 1) + 2) END AS relname
  FROM (SELECT n.*, CASE WHEN instr(n.name, '.') > 0 THEN litescale_schema_of(n.name) END
          AS schema_of
        FROM ls_relation_named n) r;

CREATE TEMP VIEW ls_relation_named AS
  SELECT CAST(s.rowid + {OID_BASE} AS INTEGER) AS oid,
    -- A sequence is a table of SQLite's (shard engine/sequences.rs).
    CASE WHEN s.type = 'table' AND s.sql LIKE '%/* litescale:sequence %' THEN 'sequence'
      WHEN s.type = 'table' AND s.sql LIKE '%/* litescale:matview %' THEN 'matview'
      ELSE s.type END AS type,
    s.tbl_name, s.sql, s.name AS sqlite_name,
    CASE
      WHEN s.name LIKE 'sqlite\_autoindex\_%' ESCAPE '\' THEN s.tbl_name ||
        CASE (SELECT il.origin FROM pragma_index_list(s.tbl_name) il WHERE il.name = s.name)
          WHEN 'pk' THEN '_pkey'
          ELSE '_' || (SELECT group_concat(ii.name, '_') FROM pragma_index_info(s.name) ii) || '_key'
        END
      ELSE s.name
    END AS name
  FROM main.sqlite_schema s
  WHERE s.type IN ('table', 'view', 'index')
    AND s.name NOT IN ('sqlite_sequence', 'sqlite_stat1', 'sqlite_stat4')
    AND s.tbl_name NOT LIKE '\_litescale\_%' ESCAPE '\'
  UNION ALL
  -- A primary key that is SQLite's rowid is no index of SQLite's; Postgres has its _pkey
  -- index, which this row stands for (no sqlite_name: SQLite knows no such index).
  SELECT CAST((s.rowid + {OID_BASE}) * 100 + 99 AS INTEGER), 'index', s.tbl_name, NULL, NULL,
    s.tbl_name || '_pkey'
  FROM main.sqlite_schema s, pragma_table_info(s.name) p
  WHERE s.type = 'table' AND p.pk = 1
    AND s.tbl_name NOT LIKE '\_litescale\_%' ESCAPE '\'
    AND s.name NOT IN ('sqlite_sequence', 'sqlite_stat1', 'sqlite_stat4')
    AND NOT EXISTS (SELECT 1 FROM pragma_index_list(s.name) il WHERE il.origin = 'pk');

-- The rowid primary keys' indexes of ls_relation, with their table and column.
CREATE TEMP VIEW ls_rowid_key AS
  SELECT i.oid AS indexrelid, t.oid AS indrelid, t.sqlite_name AS table_name,
    i.relname AS index_name, t.relname AS table_relname, t.namespace, t.nspname,
    p.name AS column_name, p.cid AS cid
  FROM ls_relation i JOIN ls_relation t ON t.type = 'table' AND t.tbl_name = i.tbl_name,
    pragma_table_info(t.sqlite_name) p
  WHERE i.type = 'index' AND i.sqlite_name IS NULL AND p.pk = 1;

CREATE TEMP VIEW pg_class AS
  SELECT r.oid, r.relname, r.namespace AS relnamespace,
    CASE r.type WHEN 'table' THEN 'r' WHEN 'view' THEN 'v' WHEN 'sequence' THEN 'S'
      WHEN 'matview' THEN 'm' ELSE 'i' END AS relkind,
    10 AS relowner,
    CASE r.type WHEN 'table' THEN 2 WHEN 'matview' THEN 2 WHEN 'index' THEN 403 ELSE 0 END
      AS relam,
    0 AS reltablespace, 0 AS reltoastrelid, 0 AS reloftype, 0 AS reltype,
    'p' AS relpersistence, 'd' AS relreplident,
    (r.type IN ('table', 'matview') AND EXISTS (SELECT 1 FROM ls_relation i
                                  WHERE i.type = 'index' AND i.tbl_name = r.tbl_name)) AS relhasindex,
    0 AS relhasrules,
    -- Postgres implements foreign keys with triggers; psql looks for them only then.
    (r.type = 'table' AND (EXISTS (SELECT 1 FROM pragma_foreign_key_list(r.sqlite_name))
      OR EXISTS (SELECT 1 FROM main.sqlite_schema o, pragma_foreign_key_list(o.name) f
                 WHERE o.type = 'table' AND f."table" = r.sqlite_name))) AS relhastriggers,
    0 AS relrowsecurity, 0 AS relforcerowsecurity,
    0 AS relhassubclass, 0 AS relispartition, 0 AS relisshared,
    CASE r.type WHEN 'table' THEN json_array_length(pg_check_constraints(r.sql, r.name))
      ELSE 0 END AS relchecks,
    NULL AS reloptions, pg_relation_acl(r.sql) AS relacl, NULL AS relpartbound, 0 AS relpages, -1 AS reltuples,
    CASE WHEN r.type = 'index' AND r.sqlite_name IS NULL THEN 1
      WHEN r.type = 'index' THEN (SELECT count(*) FROM pragma_index_info(r.sqlite_name))
      ELSE (SELECT count(*) FROM pragma_table_info(r.sqlite_name)) END AS relnatts,
    0 AS relfrozenxid, 0 AS relminmxid,
    coalesce(pg_matview_populated(r.sql), 1) AS relispopulated
  FROM ls_relation r;

CREATE TEMP VIEW pg_attribute AS
  SELECT r.oid AS attrelid, p.name AS attname, pg_type_oid(p.type) AS atttypid,
    pg_typmod(p.type) AS atttypmod, CAST(p.cid + 1 AS INTEGER) AS attnum, (p."notnull" OR p.pk > 0) AS attnotnull,
    (p.dflt_value IS NOT NULL AND pg_identity_kind(p.dflt_value) = '') AS atthasdef,
    0 AS atthasmissing, 0 AS attisdropped,
    pg_identity_kind(p.dflt_value) AS attidentity, '' AS attgenerated, -1 AS attlen, 0 AS attcollation, -1 AS attstattarget,
    'p' AS attstorage, '' AS attcompression, NULL AS attfdwoptions, NULL AS attoptions,
    1 AS attislocal, 0 AS attinhcount, 0 AS attndims, NULL AS attacl, 'i' AS attalign,
    NULL AS attmissingval
  FROM ls_relation r, pragma_table_info(r.sqlite_name) p
  WHERE r.type IN ('table', 'view', 'sequence', 'matview')
  UNION ALL
  SELECT r.oid, ii.name, 0, -1, ii.seqno + 1, 0, 0, 0, 0, '', '', -1, 0, -1, 'p', '', NULL, NULL,
    1, 0, 0, NULL, 'i', NULL
  FROM ls_relation r, pragma_index_info(r.sqlite_name) ii
  WHERE r.type = 'index'
  UNION ALL
  SELECT k.indexrelid, k.column_name, 0, -1, 1, 0, 0, 0, 0, '', '', -1, 0, -1, 'p', '', NULL,
    NULL, 1, 0, 0, NULL, 'i', NULL
  FROM ls_rowid_key k;

CREATE TEMP VIEW pg_attrdef AS
  SELECT CAST(r.oid * 1000 + p.cid AS INTEGER) AS oid, r.oid AS adrelid,
    CAST(p.cid + 1 AS INTEGER) AS adnum, pg_shown_default(p.dflt_value, p.type) AS adbin
  FROM ls_relation r, pragma_table_info(r.sqlite_name) p
  WHERE r.type = 'table' AND p.dflt_value IS NOT NULL AND pg_identity_kind(p.dflt_value) = '';

CREATE TEMP VIEW pg_index AS
  SELECT i.oid AS indexrelid, t.oid AS indrelid, il."unique" AS indisunique,
    -- SQLite's own indexes have no text: false, not NULL, for theirs.
    (il.origin = 'pk' OR ifnull(i.sql, '') LIKE '%/* litescale: PRIMARY KEY */') AS indisprimary, 0 AS indisexclusion, 1 AS indimmediate,
    0 AS indisclustered, 1 AS indisvalid, 1 AS indcheckxmin, 1 AS indisready, 1 AS indislive,
    0 AS indisreplident, 0 AS indnullsnotdistinct,
    (SELECT group_concat(ii.cid + 1, ' ') FROM pragma_index_info(i.sqlite_name) ii) AS indkey,
    (SELECT count(*) FROM pragma_index_info(i.sqlite_name)) AS indnatts,
    (SELECT count(*) FROM pragma_index_info(i.sqlite_name)) AS indnkeyatts,
    (SELECT group_concat('0', ' ') FROM pragma_index_info(i.sqlite_name) ii) AS indcollation,
    -- Each key's type's default class (opclass.rs); 0 for an expression's, whose type
    -- SQLite does not know.
    (SELECT group_concat(pg_btree_opclass((SELECT pg_type_oid(p.type)
       FROM pragma_table_info(t.sqlite_name) p WHERE p.cid = ii.cid)), ' ')
     FROM pragma_index_info(i.sqlite_name) ii) AS indclass,
    (SELECT group_concat('0', ' ') FROM pragma_index_info(i.sqlite_name) ii) AS indoption,
    NULL AS indexprs,
    CASE il.partial WHEN 1 THEN 'partial' END AS indpred,
    CASE
      WHEN i.sql IS NOT NULL THEN pg_index_definition(i.sql, t.relname, t.nspname)
      ELSE 'CREATE UNIQUE INDEX ' || i.relname || ' ON ' || t.nspname || '.' || t.relname || ' USING btree (' ||
        (SELECT group_concat(ii.name, ', ') FROM pragma_index_info(i.sqlite_name) ii) || ')'
    END AS ls_indexdef
  FROM ls_relation t, pragma_index_list(t.sqlite_name) il, ls_relation i
  WHERE t.type IN ('table', 'matview') AND i.type = 'index' AND i.sqlite_name = il.name
  UNION ALL
  SELECT k.indexrelid, k.indrelid, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, CAST(k.cid + 1 AS TEXT), 1,
    1, '0', CAST(pg_btree_opclass((SELECT pg_type_oid(p.type) FROM pragma_table_info(k.table_name) p
      WHERE p.cid = k.cid)) AS TEXT), '0', NULL, NULL,
    'CREATE UNIQUE INDEX ' || k.index_name || ' ON ' || k.nspname || '.' || k.table_relname ||
      ' USING btree (' || k.column_name || ')'
  FROM ls_rowid_key k;

CREATE TEMP VIEW pg_constraint AS
  SELECT x.indexrelid AS oid, r.relname AS conname, r.namespace AS connamespace,
    CASE WHEN x.indisprimary THEN 'p' ELSE 'u' END AS contype, 0 AS condeferrable,
    0 AS condeferred, 1 AS convalidated, x.indrelid AS conrelid, 0 AS contypid,
    x.indexrelid AS conindid, 0 AS conparentid, 0 AS confrelid, ' ' AS confupdtype,
    ' ' AS confdeltype, ' ' AS confmatchtype, 1 AS conislocal, 0 AS coninhcount,
    0 AS connoinherit, '{{' || replace(x.indkey, ' ', ',') || '}}' AS conkey, NULL AS confkey,
    NULL AS conbin,
    CASE WHEN x.indisprimary THEN 'PRIMARY KEY' ELSE 'UNIQUE' END || ' (' ||
      (SELECT group_concat(a.attname, ', ') FROM pg_attribute a WHERE a.attrelid = x.indexrelid)
      || ')' AS ls_condef
  FROM pg_index x JOIN ls_relation r ON r.oid = x.indexrelid
  -- The indexes of UNIQUE and PRIMARY KEY constraints: SQLite's own, and those an ALTER
  -- TABLE ADD CONSTRAINT made, which say so in a comment (router translate/ddl.rs).
  WHERE r.sqlite_name LIKE 'sqlite\_autoindex\_%' ESCAPE '\'
    OR r.sql LIKE '%/* litescale: PRIMARY KEY */' OR r.sql LIKE '%/* litescale: UNIQUE */'
  UNION ALL
  -- A primary key that is SQLite's rowid: a constraint, with the index ls_relation stands in for.
  SELECT k.indexrelid, k.index_name, k.namespace, 'p', 0, 0, 1, k.indrelid, 0,
    k.indexrelid, 0, 0, ' ', ' ', ' ', 1, 0, 0, '{{' || (k.cid + 1) || '}}', NULL, NULL,
    'PRIMARY KEY (' || k.column_name || ')'
  FROM ls_rowid_key k
  UNION ALL
  -- CHECK constraints, read from the table's CREATE text (definitions.rs).
  SELECT CAST(r.oid * 100 + 60 + c.key AS INTEGER),
    pg_unprefixed(json_extract(c.value, '$.name'), r.nspname), r.namespace,
    'c', 0, 0, 1, r.oid, 0, 0, 0, 0, ' ', ' ', ' ', 1, 0, 0,
    json_extract(c.value, '$.conkey'), NULL, NULL,
    'CHECK ((' || json_extract(c.value, '$.expr') || '))'
  FROM ls_relation r, json_each(pg_check_constraints(r.sql, r.name)) c
  WHERE r.type = 'table'
  UNION ALL
  -- A domain's CHECKs, read from its definition (objects/domains.rs).
  SELECT CAST(d.oid * 100 + 80 + c.key AS INTEGER), json_extract(c.value, '$.name'), 2200,
    'c', 0, 0, 1, 0, d.oid, 0, 0, 0, ' ', ' ', ' ', 1, 0, 0, NULL, NULL, NULL,
    'CHECK ((' || json_extract(c.value, '$.expr') || '))'
  FROM ls_domain d, json_each(pg_domain_checks(d.options)) c
  UNION ALL
  SELECT f.oid, pg_unprefixed(f.conname, f.nspname), f.namespace, 'f', 0, 0, 1, f.conrelid, 0,
    -- The unique index on the referenced columns, which the foreign key relies on.
    (SELECT x.indexrelid FROM pg_index x
     WHERE x.indrelid = f.confrelid AND x.indisunique AND x.indkey = f.ls_refkey),
    0, f.confrelid, f.confupdtype, f.confdeltype, 's', 1, 0, 0, f.conkey, f.confkey, NULL,
    f.ls_condef
  FROM (
    SELECT CAST(r.oid * 100 + fk.id AS INTEGER) AS oid,
      pg_foreign_key_name(r.sql, group_concat(fk."from", ','),
        r.name || '_' || group_concat(fk."from", '_') || '_fkey') AS conname,
      r.oid AS conrelid, t.oid AS confrelid, r.namespace, r.nspname,
      CASE min(fk.on_update) WHEN 'CASCADE' THEN 'c' WHEN 'SET NULL' THEN 'n'
        WHEN 'SET DEFAULT' THEN 'd' WHEN 'RESTRICT' THEN 'r' ELSE 'a' END AS confupdtype,
      CASE min(fk.on_delete) WHEN 'CASCADE' THEN 'c' WHEN 'SET NULL' THEN 'n'
        WHEN 'SET DEFAULT' THEN 'd' WHEN 'RESTRICT' THEN 'r' ELSE 'a' END AS confdeltype,
      '{{' || group_concat((SELECT p.cid + 1 FROM pragma_table_info(r.sqlite_name) p
                            WHERE p.name = fk."from"), ',') || '}}' AS conkey,
      '{{' || group_concat((SELECT p.cid + 1 FROM pragma_table_info(t.sqlite_name) p
                          WHERE p.name = coalesce(fk."to", (SELECT q.name FROM pragma_table_info(t.sqlite_name) q WHERE q.pk = fk.seq + 1))), ',') || '}}' AS confkey,
      group_concat((SELECT p.cid + 1 FROM pragma_table_info(t.sqlite_name) p
                          WHERE p.name = coalesce(fk."to", (SELECT q.name FROM pragma_table_info(t.sqlite_name) q WHERE q.pk = fk.seq + 1))), ' ') AS ls_refkey,
      'FOREIGN KEY (' || group_concat(fk."from", ', ') || ') REFERENCES ' || t.name || '(' ||
        group_concat(coalesce(fk."to", (SELECT q.name FROM pragma_table_info(t.sqlite_name) q WHERE q.pk = fk.seq + 1)), ', ') || ')'
        || CASE WHEN min(fk.on_update) <> 'NO ACTION' THEN ' ON UPDATE ' || min(fk.on_update) ELSE '' END
        || CASE WHEN min(fk.on_delete) <> 'NO ACTION' THEN ' ON DELETE ' || min(fk.on_delete) ELSE '' END
        AS ls_condef
    FROM ls_relation r, pragma_foreign_key_list(r.sqlite_name) fk
      JOIN ls_relation t ON t.sqlite_name = fk."table" AND t.type = 'table'
    WHERE r.type = 'table'
    GROUP BY r.oid, fk.id) f;

CREATE TEMP VIEW ls_index_def(ls_key, ls_value) AS SELECT indexrelid, ls_indexdef FROM pg_index;
CREATE TEMP VIEW ls_index_column(ls_key, ls_position, ls_value) AS
  SELECT a.attrelid, a.attnum, a.attname FROM pg_attribute a JOIN ls_relation r ON r.oid = a.attrelid
  WHERE r.type = 'index';
CREATE TEMP VIEW ls_constraint_def(ls_key, ls_value) AS SELECT oid, ls_condef FROM pg_constraint;
CREATE TEMP VIEW ls_view_def(ls_key, ls_value) AS
  SELECT oid, coalesce(pg_matview_query(sql), pg_view_query(sql)) FROM ls_relation;
-- A regclass: `t`, or `s.t` of a schema other than public, which is SQLite's name.
CREATE TEMP VIEW ls_oid_by_name(ls_key, ls_value) AS SELECT name, oid FROM ls_relation;
CREATE TEMP VIEW ls_name_by_oid(ls_key, ls_value) AS SELECT oid, name FROM ls_relation;

CREATE TEMP VIEW pg_type AS
  SELECT CAST(column1 AS INTEGER) AS oid, column2 AS typname, column3 AS typnamespace,
    column4 AS typlen, column5 AS typtype, column6 AS typcategory, column7 AS typelem,
    column8 AS typarray, column9 AS typrelid, column10 AS typtypmod, column11 AS typbasetype,
    column12 AS typnotnull, column13 AS typowner, 0 AS typcollation, ',' AS typdelim,
    1 AS typisdefined, 0 AS typbyval, 'i' AS typalign, 'p' AS typstorage, 0 AS typndims,
    CASE column5 WHEN 'd' THEN (SELECT substr(d.default_clause, length('DEFAULT ') + 1)
      FROM ls_domain d WHERE d.oid = column1) END AS typdefault,
    -- Set where typdefault is: pg_dump then writes the default as the expression it is.
    CASE column5 WHEN 'd' THEN (SELECT substr(d.default_clause, length('DEFAULT ') + 1)
      FROM ls_domain d WHERE d.oid = column1) END AS typdefaultbin, NULL AS typacl,
    CASE column6 WHEN 'A' THEN 'array_in' WHEN 'E' THEN 'enum_in' ELSE column2 || 'in' END AS typinput,
    CASE column6 WHEN 'A' THEN 'array_out' WHEN 'E' THEN 'enum_out' ELSE column2 || 'out' END AS typoutput,
    CASE column6 WHEN 'A' THEN 'array_recv' WHEN 'E' THEN 'enum_recv' ELSE column2 || 'recv' END AS typreceive,
    CASE column6 WHEN 'A' THEN 'array_send' WHEN 'E' THEN 'enum_send' ELSE column2 || 'send' END AS typsend,
    0 AS typsubscript
  FROM (VALUES {types}
        UNION ALL VALUES {pseudo_types}
        UNION ALL SELECT oid, typname, 2200, 4, 'e', 'E', 0, 0, 0, -1, 0, 'f', 10 FROM ls_enum
        UNION ALL SELECT oid, typname, 2200, -1, 'd', 'U', 0, 0, 0, -1, pg_type_oid(base),
          not_null, 10 FROM ls_domain);

-- Domains (shard engine/objects/domains.rs): (oid, name, base type, NOT NULL).
CREATE TEMP VIEW ls_domain(oid, typname, base, not_null, options, default_clause) AS
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5
  FROM json_each(litescale_domains());

-- Enum types (shard engine/enum_types.rs): (oid, name, [[label, sort order], ...]).
CREATE TEMP VIEW ls_enum(oid, typname, labels) AS
  SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')
  FROM json_each(litescale_enums());

CREATE TEMP VIEW pg_enum(oid, enumtypid, enumsortorder, enumlabel) AS
  SELECT CAST(e.oid * 1000 + l.key AS INTEGER), e.oid, json_extract(l.value, '$[1]'),
    json_extract(l.value, '$[0]')
  FROM ls_enum e, json_each(e.labels) l;

CREATE TEMP VIEW pg_database(oid, datname, datdba, encoding, datlocprovider, datistemplate,
    datallowconn, datconnlimit, datcollate, datctype, daticulocale, daticurules, datacl,
    dattablespace, datfrozenxid, datminmxid, datcollversion) AS
  SELECT CAST(16384 + d.key AS INTEGER), d.value, 10, 6, 'c', 0, 1, -1, 'C', 'C', NULL, NULL,
    NULL, 1663, 0, 1, NULL
  FROM json_each(litescale_databases()) d;

CREATE TEMP VIEW pg_roles(oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb,
    rolcanlogin, rolreplication, rolconnlimit, rolpassword, rolvaliduntil, rolbypassrls,
    rolconfig) AS
  VALUES (10, 'postgres', 1, 1, 1, 1, 1, 1, -1, '********', NULL, 1, NULL),
    (6171, 'pg_database_owner', 0, 1, 0, 0, 0, 0, -1, NULL, NULL, 0, NULL);
-- The passwords' verifiers are the config's: a dump of the roles carries none.
CREATE TEMP VIEW pg_authid AS
  SELECT oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
    rolreplication, rolconnlimit, NULL AS rolpassword, rolvaliduntil, rolbypassrls, rolconfig
  FROM pg_roles;
CREATE TEMP VIEW pg_user(usename, usesysid, usecreatedb, usesuper, userepl, usebypassrls,
    passwd, valuntil, useconfig) AS
  VALUES ('postgres', 10, 1, 1, 1, 1, '********', NULL, NULL);
CREATE TEMP VIEW pg_am(oid, amname, amhandler, amtype, amcanorder) AS
  VALUES (2, 'heap', 0, 't', 0), (403, 'btree', 0, 'i', 1);
CREATE TEMP VIEW pg_tablespace(oid, spcname, spcowner, spcacl, spcoptions) AS
  VALUES (1663, 'pg_default', 10, NULL, NULL);
CREATE TEMP VIEW pg_collation(oid, collname, collnamespace, collprovider, collowner,
    collencoding, collisdeterministic, collcollate, collctype, colliculocale, collversion) AS
  VALUES (100, 'default', 11, 'd', 10, -1, 1, NULL, NULL, NULL, NULL),
    (950, 'C', 11, 'c', 10, -1, 1, 'C', 'C', NULL, NULL);

CREATE TEMP VIEW pg_settings AS
  SELECT column1 AS name, column2 AS setting, NULL AS unit, 'Preset Options' AS category,
    'internal' AS context, 'string' AS vartype, 'default' AS source
  FROM (VALUES {settings});
CREATE TEMP VIEW pg_auth_members(oid, roleid, member, grantor, admin_option, inherit_option,
    set_option) AS SELECT 0, 0, 0, 0, 0, 0, 0 WHERE 0;
-- Comments on schemas and types (engine/objects/comments.rs): (kind, name, text).
CREATE TEMP VIEW ls_registered_comment(kind, name, description) AS
  SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(litescale_registered_comments());
CREATE TEMP VIEW pg_description(objoid, classoid, objsubid, description) AS
  SELECT * FROM (
    SELECT r.oid, 1259, 0, pg_definition_comment(r.sql, NULL) AS description
    FROM ls_relation r WHERE r.sql IS NOT NULL
    UNION ALL
    SELECT n.oid, 2615, 0, c.description
    FROM ls_registered_comment c JOIN ls_schema n ON c.kind = 'SCHEMA' AND n.nspname = c.name
    UNION ALL
    SELECT e.oid, 1247, 0, c.description
    FROM ls_registered_comment c JOIN ls_enum e ON c.kind = 'TYPE' AND e.typname = c.name
    UNION ALL
    SELECT r.oid, 1259, p.cid + 1, pg_definition_comment(r.sql, p.name)
    FROM ls_relation r, pragma_table_info(r.sqlite_name) p WHERE r.type = 'table'
    UNION ALL
    SELECT 2200, 2615, 0, 'standard public schema')
  WHERE description IS NOT NULL;
CREATE TEMP VIEW pg_inherits(inhrelid, inhparent, inhseqno, inhdetachpending) AS
  SELECT 0, 0, 0, 0 WHERE 0;
CREATE TEMP VIEW pg_trigger(oid, tgrelid, tgname, tgfoid, tgtype, tgenabled, tgisinternal,
    tgconstraint, tgparentid) AS SELECT 0, 0, '', 0, 0, 'O', 0, 0, 0 WHERE 0;
CREATE TEMP VIEW pg_policy(oid, polname, polrelid, polcmd, polpermissive, polroles, polqual,
    polwithcheck) AS SELECT 0, '', 0, '', 1, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_policies(schemaname, tablename, policyname, permissive, roles, cmd, qual,
    with_check) AS SELECT '', '', '', '', NULL, '', NULL, NULL WHERE 0;
-- A view is its _RETURN rule, which depends on the relations its query names (pg_depend):
-- what pg_dump orders a view after.
CREATE TEMP VIEW pg_rewrite(oid, rulename, ev_class, ev_type, ev_enabled, is_instead) AS
  SELECT CAST(r.oid * 100 + 98 AS INTEGER), '_RETURN', r.oid, '1', 'O', 1
  FROM ls_relation r WHERE r.type IN ('view', 'matview');
CREATE TEMP VIEW pg_statistic_ext(oid, stxrelid, stxname, stxnamespace, stxowner, stxkeys,
    stxkind, stxstattarget) AS SELECT 0, 0, '', 0, 0, '', '', -1 WHERE 0;
CREATE TEMP VIEW pg_publication(oid, pubname, pubowner, puballtables, pubinsert, pubupdate,
    pubdelete, pubtruncate, pubviaroot) AS SELECT 0, '', 0, 0, 0, 0, 0, 0, 0 WHERE 0;
CREATE TEMP VIEW pg_publication_rel(oid, prpubid, prrelid, prqual, prattrs) AS
  SELECT 0, 0, 0, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_publication_namespace(oid, pnpubid, pnnspid) AS SELECT 0, 0, 0 WHERE 0;
CREATE TEMP VIEW pg_partitioned_table(partrelid, partstrat, partnatts, partdefid, partattrs,
    partclass, partcollation, partexprs) AS
  SELECT 0, '', 0, 0, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_foreign_table(ftrelid, ftserver, ftoptions) AS SELECT 0, 0, NULL WHERE 0;
CREATE TEMP VIEW ls_sequence AS
  SELECT oid, name, relname, nspname, pg_sequence_parameters(sql) AS parameters FROM ls_relation
  WHERE type = 'sequence';
CREATE TEMP VIEW pg_sequence(seqrelid, seqtypid, seqstart, seqincrement, seqmax, seqmin,
    seqcache, seqcycle) AS
  SELECT oid, pg_type_oid(parameters ->> 'type'), parameters ->> 'start',
    parameters ->> 'increment', parameters ->> 'max', parameters ->> 'min',
    parameters ->> 'cache', parameters ->> 'cycle'
  FROM ls_sequence;
-- The types' input functions only. Postgres prints a regproc such as pg_type.typinput as
-- the function's name, and drivers both read that name (Rails) and join it to pg_proc.oid
-- (the pg gem's type registry): here a function's oid is its name, so both work.
CREATE TEMP VIEW pg_proc(oid, proname, pronamespace, proowner, prokind, prorettype, prolang,
    pronargs, proargtypes, proacl, proretset, provolatile, proparallel, proisstrict,
    prosecdef, proleakproof, procost, prorows, provariadic, prosupport, proargmodes,
    proargnames, proallargtypes, proargdefaults, prosrc, probin, proconfig, protrftypes,
    prosqlbody) AS
  SELECT typinput, typinput, 11, 10, 'f', min(oid), 12, 1, '2275', NULL, 0, 'i', 's', 1, 0,
    0, 1, 0, 0, 0, NULL, NULL, NULL, NULL, typinput, NULL, NULL, NULL, NULL
  FROM pg_type GROUP BY typinput
  UNION ALL
  SELECT f.oid, f.proname, 2200, 10, 'f', pg_type_oid(f.shown ->> 'returns'), 14, f.pronargs,
    (SELECT coalesce(group_concat(pg_type_oid(a.value), ' '), '')
     FROM json_each(f.shown -> 'argument_types') a), NULL, 0,
    coalesce(f.shown ->> 'volatility', 'v'), 'u', 0, 0, 0, 100, 0, 0, '-', NULL,
    (SELECT '{{' || group_concat(coalesce(n.value, ''), ',') || '}}'
     FROM json_each(f.shown -> 'argument_names') n
     HAVING count(n.value) > 0),
    NULL, NULL, f.shown ->> 'body', NULL, NULL, NULL, NULL
  FROM ls_function f;
-- The database's SQL functions (engine/objects/functions.rs): their Postgres definitions.
CREATE TEMP VIEW ls_function(oid, proname, pronargs, shown) AS
  SELECT CAST(value ->> 0 AS INTEGER), value ->> 1, value ->> 2, value -> 3
  FROM json_each(litescale_functions());
CREATE TEMP VIEW pg_depend(classid, objid, objsubid, refclassid, refobjid, refobjsubid,
    deptype) AS
  SELECT 2618, CAST(v.oid * 100 + 98 AS INTEGER), 0, 1259, v.oid, 0, 'i'
  FROM ls_relation v WHERE v.type IN ('view', 'matview')
  UNION ALL
  SELECT DISTINCT 2618, CAST(v.oid * 100 + 98 AS INTEGER), 0, 1259, t.oid, 0, 'n'
  FROM ls_relation v,
    json_each(coalesce(pg_query_words(pg_matview_query(v.sql)), pg_view_words(v.sql))) w
    JOIN ls_relation t ON t.type IN ('table', 'view') AND t.oid <> v.oid
      AND lower(t.name) = lower(w.value)
  WHERE v.type IN ('view', 'matview')
  UNION ALL
  -- A sequence a column owns goes with the column (OWNED BY, SERIAL; an identity's is
  -- part of it).
  SELECT 1259, s.oid, 0, 1259, t.oid, CAST(p.cid + 1 AS INTEGER),
    CASE pg_identity_kind(p.dflt_value) WHEN '' THEN 'a' ELSE 'i' END
  FROM ls_sequence s JOIN ls_relation t ON t.type = 'table'
      AND lower(t.name) = lower(s.parameters ->> '$.owned_by[0]'),
    pragma_table_info(t.sqlite_name) p
  WHERE p.name = s.parameters ->> '$.owned_by[1]'
  UNION ALL
  -- A column's default calls its sequence; pg_dump then sets the default after both exist.
  SELECT 2604, CAST(t.oid * 1000 + p.cid AS INTEGER), 0, 1259, s.oid, 0, 'n'
  FROM ls_relation t, pragma_table_info(t.sqlite_name) p
    JOIN ls_sequence s ON lower(s.name) = lower(pg_default_sequence(p.dflt_value))
  WHERE t.type = 'table' AND p.dflt_value LIKE '%nextval(%'
    AND pg_identity_kind(p.dflt_value) = '';
"#,
        types = type_rows.join(",\n         "),
        pseudo_types = PSEUDO_TYPES
            .iter()
            .map(|(oid, name)| format!(
                "({oid}, '{name}', 11, 4, 'p', 'P', 0, 0, 0, -1, 0, 'f', 10)"
            ))
            .collect::<Vec<_>>()
            .join(", "),
        settings = SERVER_SETTINGS
            .iter()
            .chain(
                [
                    ("server_version", types.server_version.0),
                    ("server_version_num", types.server_version.1),
                ]
                .iter()
            )
            .map(|(n, v)| format!("('{n}', '{v}')"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The enum type (OID, name) a column's declared type names, when the type catalog does
/// not know the name (it takes such a name for text).
fn enum_declared(
    ctx: &rusqlite::functions::Context<'_>,
    of_declared: fn(&str) -> (u32, i32),
    declared: &str,
) -> rusqlite::Result<Option<(i64, String)>> {
    let known = of_declared(declared).0 != 25
        || ["text", "clob", "string"].contains(&declared.to_ascii_lowercase().as_str());
    if known {
        return Ok(None);
    }
    // SAFETY: the connection is used on this thread, within the call, for a read.
    let conn = unsafe { ctx.get_connection()? };
    conn.query_row(
        "SELECT oid, typname FROM ls_enum WHERE typname = trim(?1, '\"')",
        [declared],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Creates the catalog views and functions on a connection.
pub(crate) fn register(
    conn: &Connection,
    database: &str,
    root: &std::path::Path,
    types: &TypeCatalog,
) -> rusqlite::Result<()> {
    sizes::register(conn)?;
    absent::register(conn)?;
    opclass::register(conn, types)?;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    // Every tenant's database, for pg_database (psql's \l): the storage directory's
    // database directories, as a JSON array of names.
    let root = root.to_owned();
    conn.create_scalar_function(
        "litescale_databases",
        0,
        FunctionFlags::SQLITE_UTF8,
        move |_| {
            let mut names: Vec<String> = std::fs::read_dir(&root)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter(|e| e.path().is_dir())
                        .filter_map(|e| e.file_name().into_string().ok())
                        .filter(|n| crate::directory::valid_name(n))
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            Ok(format!("[{}]", quoted.join(",")))
        },
    )?;
    let database = database.to_owned();
    conn.create_scalar_function(
        "litescale_database",
        0,
        flags,
        move |_| Ok(database.clone()),
    )?;
    let of_declared = types.of_declared;
    conn.create_scalar_function("pg_type_oid", 1, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let declared = ctx.get::<String>(0).unwrap_or_default();
        Ok(match enum_declared(ctx, of_declared, &declared)? {
            Some((oid, _)) => oid,
            None => i64::from(of_declared(&declared).0),
        })
    })?;
    conn.create_scalar_function("pg_typmod", 1, flags, move |ctx| {
        Ok(of_declared(&ctx.get::<String>(0).unwrap_or_default()).1)
    })?;
    let format = types.format;
    conn.create_scalar_function(
        "pg_shown_default",
        2,
        FunctionFlags::SQLITE_UTF8,
        move |ctx| {
            let Some(text) = ctx.get::<Option<String>>(0)? else {
                return Ok(None);
            };
            // An identity column has no default of its own to show.
            if marks::identity_kind(&text).is_some() {
                return Ok(None);
            }
            let declared = ctx.get::<Option<String>>(1)?.unwrap_or_default();
            let type_name = enum_declared(ctx, of_declared, &declared)?
                .map(|(_, name)| name)
                .or_else(|| format(of_declared(&declared).0, -1))
                .unwrap_or(declared);
            Ok(Some(postgres_default(&text, &type_name)))
        },
    )?;
    conn.create_scalar_function("format_type", 2, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let oid = ctx.get::<Option<i64>>(0)?.unwrap_or(0) as u32;
        let typmod = ctx.get::<Option<i64>>(1)?.unwrap_or(-1) as i32;
        if let Some(name) = format(oid, typmod) {
            return Ok(Some(name));
        }
        // SAFETY: the connection is used on this thread, within the call, for a read.
        let conn = unsafe { ctx.get_connection()? };
        conn.query_row("SELECT typname FROM pg_type WHERE oid = ?1", [oid], |r| {
            r.get(0)
        })
        .optional()
    })?;
    conn.create_scalar_function("pg_get_userbyid", 1, flags, |ctx| {
        Ok(match ctx.get::<Option<i64>>(0)? {
            Some(6171) => "pg_database_owner",
            _ => "postgres",
        })
    })?;
    // Visible: a relation of a schema of the search path (the router passes it as a
    // comma-separated list where it is not public alone), or a catalog's.
    conn.create_scalar_function(
        "pg_table_is_visible",
        -1,
        FunctionFlags::SQLITE_UTF8,
        |ctx| {
            let Some(oid) = ctx.get::<Option<i64>>(0)? else {
                return Ok(None);
            };
            let path = match ctx.len() {
                2 => ctx.get::<String>(1)?,
                _ => "public".to_owned(),
            };
            // SAFETY: the connection is used on this thread, within the call, for a read.
            let conn = unsafe { ctx.get_connection()? };
            let schema: Option<String> = conn
                .query_row(
                    "SELECT nspname FROM ls_relation WHERE oid = ?1",
                    [oid],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(Some(
                schema.is_none_or(|s| path.split(',').any(|listed| listed == s)),
            ))
        },
    )?;
    for name in [
        "pg_type_is_visible",
        "pg_collation_is_visible",
        "pg_function_is_visible",
        "pg_opclass_is_visible",
    ] {
        conn.create_scalar_function(name, 1, flags, |_| Ok(true))?;
    }
    conn.create_scalar_function("pg_encoding_to_char", 1, flags, |_| Ok("UTF8"))?;
    // Comments live in the tables' definitions (router translate/alter/comments.rs).
    conn.create_scalar_function("pg_constraintdef_pretty", 2, flags, |ctx| {
        let def = ctx.get::<Option<String>>(0)?;
        let pretty = ctx.get::<Option<bool>>(1)?.unwrap_or(false);
        Ok(def.map(|d| {
            match d
                .strip_prefix("CHECK ((")
                .and_then(|e| e.strip_suffix("))"))
            {
                Some(expr) if pretty => format!("CHECK ({expr})"),
                _ => d,
            }
        }))
    })?;
    conn.create_scalar_function("pg_view_words", 1, flags, |ctx| {
        Ok(definitions::view_words(
            &ctx.get::<Option<String>>(0)?.unwrap_or_default(),
        ))
    })?;
    conn.create_scalar_function("pg_index_definition", 3, flags, |ctx| {
        Ok(definitions::index_definition(
            &ctx.get::<String>(0)?,
            &ctx.get::<String>(1)?,
            &ctx.get::<String>(2)?,
        ))
    })?;
    // A name SQLite keeps as `<schema>.<name>`, without its schema.
    conn.create_scalar_function("pg_unprefixed", 2, flags, |ctx| {
        let name = ctx.get::<Option<String>>(0)?;
        let schema = ctx.get::<String>(1)?;
        Ok(name.map(|n| match n.strip_prefix(&format!("{schema}.")) {
            Some(rest) => rest.to_owned(),
            None => n,
        }))
    })?;
    conn.create_scalar_function("pg_query_words", 1, flags, |ctx| {
        Ok(ctx
            .get::<Option<String>>(0)?
            .map(|q| definitions::query_words(&q)))
    })?;
    conn.create_scalar_function("pg_view_query", 1, flags, |ctx| {
        Ok(ctx
            .get::<Option<String>>(0)?
            .and_then(|sql| definitions::view_query(&sql)))
    })?;
    conn.create_scalar_function("pg_check_constraints", 2, flags, |ctx| {
        let sql = ctx.get::<Option<String>>(0)?.unwrap_or_default();
        Ok(definitions::check_constraints(&sql, &ctx.get::<String>(1)?))
    })?;
    conn.create_scalar_function("pg_domain_checks", 1, flags, |ctx| {
        Ok(definitions::domain_checks(
            &ctx.get::<Option<String>>(0)?.unwrap_or_default(),
        ))
    })?;
    conn.create_scalar_function("pg_definition_comment", 2, flags, |ctx| {
        let Some(sql) = ctx.get::<Option<String>>(0)? else {
            return Ok(None);
        };
        let column = ctx.get::<Option<String>>(1)?;
        Ok(definitions::comment_of(&sql, column.as_deref()))
    })?;
    // A relation's privileges (`aclitem[]` text), NULL where no GRANT or REVOKE set them.
    conn.create_scalar_function("pg_relation_acl", 1, flags, |ctx| {
        Ok(ctx
            .get::<Option<String>>(0)?
            .and_then(|sql| marks::acl_in(&sql)))
    })?;
    // Privileges' text → [[grantor, grantee, privilege_type, grantable], ...].
    conn.create_scalar_function("ls_acl_items", 1, flags, |ctx| {
        Ok(ctx
            .get::<Option<String>>(0)?
            .and_then(|text| acl::Acl::from_text(&text))
            .map(|acl| acl.listed().to_string()))
    })?;
    conn.create_scalar_function("obj_description", 2, flags, |ctx| {
        let Some(oid) = ctx.get::<Option<i64>>(0)? else {
            return Ok(None);
        };
        // SAFETY: the connection is used on this thread, within the call, for a read.
        let conn = unsafe { ctx.get_connection()? };
        let query = match ctx.get::<Option<String>>(1)?.as_deref() {
            Some("pg_namespace") => {
                "SELECT c.description FROM ls_registered_comment c JOIN ls_schema n \
                 ON c.kind = 'SCHEMA' AND n.nspname = c.name WHERE n.oid = ?1 \
                 UNION ALL SELECT 'standard public schema' WHERE ?1 = 2200"
            }
            Some("pg_type") => {
                "SELECT c.description FROM ls_registered_comment c JOIN ls_enum e \
                 ON c.kind = 'TYPE' AND e.typname = c.name WHERE e.oid = ?1"
            }
            _ => {
                let sql: Option<String> = conn
                    .query_row("SELECT sql FROM ls_relation WHERE oid = ?1", [oid], |r| {
                        r.get(0)
                    })
                    .optional()?
                    .flatten();
                return Ok(sql.and_then(|sql| definitions::comment_of(&sql, None)));
            }
        };
        conn.query_row(query, [oid], |r| r.get(0)).optional()
    })?;
    conn.create_scalar_function("col_description", 2, flags, |ctx| {
        let (Some(oid), Some(number)) = (ctx.get::<Option<i64>>(0)?, ctx.get::<Option<i64>>(1)?)
        else {
            return Ok(None);
        };
        // SAFETY: the connection is used on this thread, within the call, for a read.
        let conn = unsafe { ctx.get_connection()? };
        let found: Option<(Option<String>, String)> = conn
            .query_row(
                "SELECT r.sql, p.name FROM ls_relation r, pragma_table_info(r.sqlite_name) p \
                 WHERE r.oid = ?1 AND p.cid + 1 = ?2",
                [oid, number],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(found.and_then(|(sql, column)| definitions::comment_of(&sql?, Some(&column))))
    })?;
    conn.create_scalar_function("shobj_description", 2, flags, |_| Ok(None::<String>))?;
    // Definitions of objects SQLite does not have (statistics objects, partitions,
    // triggers, rules): there are none, so there is nothing to print.
    for name in [
        "pg_get_statisticsobjdef_columns",
        "pg_get_partkeydef",
        "pg_get_partition_constraintdef",
        "pg_get_triggerdef",
        "pg_get_ruledef",
        // A SQL function's body is its text (prosrc), never a parsed standard body.
        "pg_get_function_sqlbody",
        "pg_get_serial_sequence",
    ] {
        conn.create_scalar_function(name, -1, flags, |_| Ok(None::<String>))?;
    }
    // A SQL function's arguments and result type as CREATE FUNCTION wrote them.
    let arguments = "SELECT (SELECT coalesce(group_concat(coalesce(n.value || ' ', '') \
               || format_type(pg_type_oid(a.value), NULL), ', '), '') \
             FROM json_each(shown -> 'argument_types') a \
               JOIN json_each(shown -> 'argument_names') n ON n.key = a.key) \
             FROM ls_function WHERE oid = ?1";
    for (name, query) in [
        ("pg_get_function_identity_arguments", arguments),
        ("pg_get_function_arguments", arguments),
        (
            "pg_get_function_result",
            "SELECT format_type(pg_type_oid(shown ->> 'returns'), NULL) FROM ls_function \
             WHERE oid = ?1",
        ),
    ] {
        conn.create_scalar_function(name, 1, flags, move |ctx| {
            let Some(oid) = ctx.get::<Option<i64>>(0).ok().flatten() else {
                return Ok(None);
            };
            // SAFETY: the connection is used on this thread, within the call, for a read.
            let conn = unsafe { ctx.get_connection()? };
            conn.query_row(query, [oid], |r| r.get::<_, Option<String>>(0))
                .optional()
                .map(Option::flatten)
        })?;
    }
    for name in [
        "has_schema_privilege",
        "has_database_privilege",
        "pg_has_role",
    ] {
        conn.create_scalar_function(name, -1, flags, |_| Ok(true))?;
    }
    conn.create_scalar_function("pg_foreign_key_name", 3, flags, |ctx| {
        let sql = ctx.get::<Option<String>>(0)?.unwrap_or_default();
        let columns = ctx.get::<String>(1)?;
        Ok(definitions::foreign_key_name(&sql, &columns).unwrap_or(ctx.get::<String>(2)?))
    })?;
    // Expressions are stored as their text, so "deparsing" one is that text, with the
    // clock's translations spelled as Postgres spells them.
    for arity in [2, 3] {
        conn.create_scalar_function("pg_get_expr", arity, flags, |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .map(|text| postgres_clock_names(&text)))
        })?;
    }
    conn.create_scalar_function("pg_relation_is_publishable", 1, flags, |_| Ok(false))?;
    // Server-wide settings only: a session's SET lives in the proxy, out of SQLite's sight.
    let (version, version_num) = types.server_version;
    for arity in [1, 2] {
        conn.create_scalar_function("current_setting", arity, flags, move |ctx| {
            let name = ctx.get::<String>(0)?;
            let versions = [
                ("server_version", version),
                ("server_version_num", version_num),
            ];
            SERVER_SETTINGS
                .iter()
                .chain(versions.iter())
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    rusqlite::Error::UserFunctionError(
                        format!("{CURRENT_SETTING_UNSUPPORTED}: {name}").into(),
                    )
                })
        })?;
    }
    conn.execute_batch(&views(types))?;
    conn.execute_batch(absent::VIEWS)?;
    conn.execute_batch(&opclass::view())?;
    conn.execute_batch(information_schema::VIEWS)
}

#[cfg(test)]
mod tests {

    #[test]
    fn constants_in_defaults_carry_the_column_type_as_postgres_shows_them() {
        use super::postgres_default;
        assert_eq!(postgres_default("'a''b'", "text"), "'a''b'::text");
        assert_eq!(postgres_default("-1", "integer"), "'-1'::integer");
        assert_eq!(postgres_default("(-1.5)", "numeric"), "'-1.5'::numeric");
        assert_eq!(postgres_default("0", "integer"), "0");
        assert_eq!(postgres_default("'a' || 'b'", "text"), "('a' || 'b')");
        assert_eq!(postgres_default("1 + 2", "integer"), "(1 + 2)");
        assert_eq!(postgres_default("abs(1 - 2)", "integer"), "abs(1 - 2)");
        assert_eq!(postgres_default("true", "boolean"), "true");
    }
}
