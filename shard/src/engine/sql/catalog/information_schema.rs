//! information_schema and the pg_catalog views built on the catalog (pg_tables, pg_views,
//! pg_indexes, ...), as TEMP views over the catalog's (mod.rs): what ORMs and migration tools read to
//! learn the schema. The router names `information_schema.tables` as the view
//! `"information_schema.tables"`. A relation's schema is ls_relation's `nspname` (public,
//! or a schema of engine/objects/schemas.rs); routines are the database's SQL functions
//! (engine/objects/functions.rs); there are no range types to list.

/// The views, created on every connection after the catalog's.
pub(super) const VIEWS: &str = r#"
CREATE TEMP VIEW ls_column AS
  SELECT r.relname AS table_name, r.nspname AS table_schema, r.type AS relation_type, p.cid + 1 AS ordinal_position,
    p.name AS column_name, p.type AS declared,
    pg_shown_default(p.dflt_value, p.type) AS column_default,
    (p."notnull" OR p.pk > 0) AS not_null, pg_type_oid(p.type) AS type_oid,
    pg_typmod(p.type) AS typmod, t.typname, t.typcategory, t.typtype,
    pg_identity_kind(p.dflt_value) AS identity, pg_default_sequence(p.dflt_value) AS sequence
  FROM ls_relation r, pragma_table_info(r.sqlite_name) p
    LEFT JOIN pg_type t ON t.oid = pg_type_oid(p.type)
  WHERE r.type IN ('table', 'view');

CREATE TEMP VIEW "information_schema.schemata"(catalog_name, schema_name, schema_owner,
    default_character_set_catalog, default_character_set_schema, default_character_set_name,
    sql_path) AS
  SELECT litescale_database(), nspname, 'postgres', NULL, NULL, NULL, NULL FROM pg_namespace;

CREATE TEMP VIEW "information_schema.tables"(table_catalog, table_schema, table_name,
    table_type, self_referencing_column_name, reference_generation, user_defined_type_catalog,
    user_defined_type_schema, user_defined_type_name, is_insertable_into, is_typed,
    commit_action) AS
  SELECT litescale_database(), nspname, relname,
    CASE type WHEN 'table' THEN 'BASE TABLE' ELSE 'VIEW' END, NULL, NULL, NULL, NULL, NULL,
    CASE type WHEN 'table' THEN 'YES' ELSE 'NO' END, 'NO', NULL
  FROM ls_relation WHERE type IN ('table', 'view');

CREATE TEMP VIEW "information_schema.columns"(table_catalog, table_schema, table_name,
    column_name, ordinal_position, column_default, is_nullable, data_type,
    character_maximum_length, character_octet_length, numeric_precision,
    numeric_precision_radix, numeric_scale, datetime_precision, interval_type,
    interval_precision, character_set_catalog, character_set_schema, character_set_name,
    collation_catalog, collation_schema, collation_name, domain_catalog, domain_schema,
    domain_name, udt_catalog, udt_schema, udt_name, scope_catalog, scope_schema, scope_name,
    maximum_cardinality, dtd_identifier, is_self_referencing, is_identity,
    identity_generation, identity_start, identity_increment, identity_maximum,
    identity_minimum, identity_cycle, is_generated, generation_expression, is_updatable) AS
  SELECT litescale_database(), table_schema, table_name, column_name, ordinal_position,
    pg_get_expr(column_default, 0), CASE WHEN not_null THEN 'NO' ELSE 'YES' END,
    CASE WHEN typcategory = 'A' THEN 'ARRAY' WHEN typtype = 'e' THEN 'USER-DEFINED'
      ELSE format_type(type_oid, NULL) END,
    CASE WHEN typname IN ('varchar', 'bpchar') AND typmod > 4 THEN typmod - 4 END,
    CASE WHEN typname IN ('varchar', 'bpchar') AND typmod > 4 THEN (typmod - 4) * 4
      WHEN typname IN ('varchar', 'bpchar', 'text') THEN 1073741824 END,
    CASE typname WHEN 'int2' THEN 16 WHEN 'int4' THEN 32 WHEN 'int8' THEN 64
      WHEN 'float4' THEN 24 WHEN 'float8' THEN 53
      WHEN 'numeric' THEN CASE WHEN typmod > 4 THEN (typmod - 4) >> 16 END END,
    CASE WHEN typname IN ('int2', 'int4', 'int8', 'float4', 'float8') THEN 2
      WHEN typname = 'numeric' THEN 10 END,
    CASE WHEN typname IN ('int2', 'int4', 'int8') THEN 0
      WHEN typname = 'numeric' AND typmod > 4 THEN (typmod - 4) & 65535 END,
    CASE WHEN typname = 'date' THEN 0
      WHEN typname IN ('time', 'timetz', 'timestamp', 'timestamptz', 'interval') THEN 6 END,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    litescale_database(), CASE typtype WHEN 'e' THEN 'public' ELSE 'pg_catalog' END, typname,
    NULL, NULL, NULL, NULL,
    CAST(ordinal_position AS TEXT), 'NO',
    CASE identity WHEN '' THEN 'NO' ELSE 'YES' END,
    CASE identity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END,
    s.parameters ->> 'start', s.parameters ->> 'increment', s.parameters ->> 'max',
    s.parameters ->> 'min',
    CASE WHEN s.parameters ->> 'cycle' THEN 'YES' ELSE 'NO' END, 'NEVER',
    NULL, CASE relation_type WHEN 'table' THEN 'YES' ELSE 'NO' END
  FROM ls_column c
    LEFT JOIN ls_sequence s ON c.identity <> '' AND lower(s.name) = lower(c.sequence);

CREATE TEMP VIEW "information_schema.views"(table_catalog, table_schema, table_name,
    view_definition, check_option, is_updatable, is_insertable_into, is_trigger_updatable,
    is_trigger_deletable, is_trigger_insertable_into) AS
  SELECT litescale_database(), nspname, relname, pg_view_query(sql), 'NONE', 'NO', 'NO', 'NO', 'NO', 'NO'
  FROM ls_relation WHERE type = 'view';

CREATE TEMP VIEW "information_schema.table_constraints"(constraint_catalog,
    constraint_schema, constraint_name, table_catalog, table_schema, table_name,
    constraint_type, is_deferrable, initially_deferred, enforced, nulls_distinct) AS
  SELECT litescale_database(), n.nspname, c.conname, litescale_database(), n.nspname,
    r.relname, CASE c.contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE'
      WHEN 'f' THEN 'FOREIGN KEY' ELSE 'CHECK' END,
    'NO', 'NO', 'YES', CASE WHEN c.contype IN ('p', 'u') THEN 'YES' END
  FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = r.relnamespace;

-- CHECK constraints, and (as Postgres lists them here) each NOT NULL column's, named
-- <namespace oid>_<table oid>_<column number>_not_null.
CREATE TEMP VIEW "information_schema.check_constraints"(constraint_catalog,
    constraint_schema, constraint_name, check_clause) AS
  SELECT litescale_database(), n.nspname, c.conname, substr(c.ls_condef, 7)
  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'c'
  UNION ALL
  SELECT litescale_database(), n.nspname,
    r.relnamespace || '_' || a.attrelid || '_' || a.attnum || '_not_null',
    a.attname || ' IS NOT NULL'
  FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = r.relnamespace
  WHERE r.relkind = 'r' AND a.attnotnull;

-- A constraint's columns, in order: conkey is a text array of column numbers.
CREATE TEMP VIEW ls_constraint_column AS
  SELECT c.oid, c.conname, c.connamespace, c.contype, c.conrelid, c.confrelid, c.confkey,
    CAST(k.key AS INTEGER) + 1 AS position, CAST(k.value AS INTEGER) AS attnum
  FROM pg_constraint c,
    json_each('[' || substr(c.conkey, 2, length(c.conkey) - 2) || ']') k;

CREATE TEMP VIEW "information_schema.key_column_usage"(constraint_catalog,
    constraint_schema, constraint_name, table_catalog, table_schema, table_name, column_name,
    ordinal_position, position_in_unique_constraint) AS
  SELECT litescale_database(), n.nspname, k.conname, litescale_database(), n.nspname,
    r.relname, a.attname, k.position, CASE WHEN k.contype = 'f' THEN k.position END
  FROM ls_constraint_column k JOIN pg_class r ON r.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = r.relnamespace
    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.attnum
  WHERE k.contype IN ('p', 'u', 'f');

CREATE TEMP VIEW "information_schema.referential_constraints"(constraint_catalog,
    constraint_schema, constraint_name, unique_constraint_catalog, unique_constraint_schema,
    unique_constraint_name, match_option, update_rule, delete_rule) AS
  SELECT litescale_database(), fn.nspname, f.conname, litescale_database(), un.nspname,
    u.conname, 'NONE',
    CASE f.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
      WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END,
    CASE f.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
      WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END
  FROM pg_constraint f LEFT JOIN pg_constraint u ON u.contype IN ('p', 'u') AND (u.oid = f.conindid
    -- A rowid primary key has no index to point at.
    OR (f.conindid IS NULL AND u.contype = 'p' AND u.conrelid = f.confrelid))
    JOIN pg_namespace fn ON fn.oid = f.connamespace
    LEFT JOIN pg_namespace un ON un.oid = u.connamespace
  WHERE f.contype = 'f';

-- The columns a constraint constrains: a foreign key's are those it references.
CREATE TEMP VIEW "information_schema.constraint_column_usage"(table_catalog, table_schema,
    table_name, column_name, constraint_catalog, constraint_schema, constraint_name) AS
  SELECT DISTINCT litescale_database(), rn.nspname, r.relname, a.attname, litescale_database(),
    cn.nspname, k.conname
  FROM ls_constraint_column k
    JOIN pg_class r ON r.oid = CASE k.contype WHEN 'f' THEN k.confrelid ELSE k.conrelid END
    JOIN pg_namespace rn ON rn.oid = r.relnamespace
    JOIN pg_namespace cn ON cn.oid = k.connamespace
    JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = CASE k.contype
      WHEN 'f' THEN CAST(json_extract('[' || substr(k.confkey, 2, length(k.confkey) - 2) || ']',
        '$[' || (k.position - 1) || ']') AS INTEGER)
      ELSE k.attnum END;

CREATE TEMP VIEW "information_schema.sequences"(sequence_catalog, sequence_schema,
    sequence_name, data_type, numeric_precision, numeric_precision_radix, numeric_scale,
    start_value, minimum_value, maximum_value, increment, cycle_option) AS
  SELECT litescale_database(), nspname, relname, parameters ->> 'type',
    CASE parameters ->> 'type' WHEN 'smallint' THEN 16 WHEN 'integer' THEN 32 ELSE 64 END, 2, 0,
    CAST(parameters ->> 'start' AS TEXT), CAST(parameters ->> 'min' AS TEXT),
    CAST(parameters ->> 'max' AS TEXT), CAST(parameters ->> 'increment' AS TEXT),
    CASE WHEN parameters ->> 'cycle' THEN 'YES' ELSE 'NO' END
  FROM ls_sequence s
  -- An identity column's sequence is part of the column, and not listed.
  WHERE NOT EXISTS (SELECT 1 FROM pragma_table_info(s.parameters ->> '$.owned_by[0]') p
    WHERE p.name = s.parameters ->> '$.owned_by[1]' AND pg_identity_kind(p.dflt_value) <> '');

-- litescale has no functions of a schema, and no privileges but the owner's: these list
-- nothing (Postgres lists its built-in functions in routines, under pg_catalog); an array
-- column's element type is in element_types.
CREATE TEMP VIEW "information_schema.routines"(
    specific_catalog, specific_schema, specific_name, routine_catalog, routine_schema,
    routine_name, routine_type, module_catalog, module_schema, module_name, udt_catalog,
    udt_schema, udt_name, data_type, character_maximum_length, character_octet_length,
    character_set_catalog, character_set_schema, character_set_name, collation_catalog,
    collation_schema, collation_name, numeric_precision, numeric_precision_radix,
    numeric_scale, datetime_precision, interval_type, interval_precision, type_udt_catalog,
    type_udt_schema, type_udt_name, scope_catalog, scope_schema, scope_name,
    maximum_cardinality, dtd_identifier, routine_body, routine_definition, external_name,
    external_language, parameter_style, is_deterministic, sql_data_access, is_null_call,
    sql_path, schema_level_routine, max_dynamic_result_sets, is_user_defined_cast,
    is_implicitly_invocable, security_type, to_sql_specific_catalog,
    to_sql_specific_schema, to_sql_specific_name, as_locator, created, last_altered,
    new_savepoint_level, is_udt_dependent, result_cast_from_data_type,
    result_cast_as_locator, result_cast_char_max_length, result_cast_char_octet_length,
    result_cast_char_set_catalog, result_cast_char_set_schema, result_cast_char_set_name,
    result_cast_collation_catalog, result_cast_collation_schema,
    result_cast_collation_name, result_cast_numeric_precision,
    result_cast_numeric_precision_radix, result_cast_numeric_scale,
    result_cast_datetime_precision, result_cast_interval_type,
    result_cast_interval_precision, result_cast_type_udt_catalog,
    result_cast_type_udt_schema, result_cast_type_udt_name, result_cast_scope_catalog,
    result_cast_scope_schema, result_cast_scope_name, result_cast_maximum_cardinality,
    result_cast_dtd_identifier) AS
  -- The database's SQL functions (engine/objects/functions.rs).
  SELECT litescale_database(), 'public', f.proname || '_' || f.oid, litescale_database(),
    'public', f.proname, 'FUNCTION', NULL, NULL, NULL, NULL, NULL, NULL,
    format_type(pg_type_oid(f.shown ->> 'returns'), NULL), NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, litescale_database(), 'pg_catalog',
    (SELECT typname FROM pg_type WHERE oid = pg_type_oid(f.shown ->> 'returns')), NULL, NULL,
    NULL, NULL, '0', 'SQL', f.shown ->> 'body', NULL, 'SQL', 'GENERAL', 'NO', 'MODIFIES',
    'NO', NULL, 'YES', 0, 'NO', 'NO', 'INVOKER', NULL, NULL, NULL, NULL, NULL, NULL, 'NO',
    'NO', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM ls_function f;

CREATE TEMP VIEW "information_schema.parameters"(
    specific_catalog, specific_schema, specific_name, ordinal_position, parameter_mode,
    is_result, as_locator, parameter_name, data_type, character_maximum_length,
    character_octet_length, character_set_catalog, character_set_schema,
    character_set_name, collation_catalog, collation_schema, collation_name,
    numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision,
    interval_type, interval_precision, udt_catalog, udt_schema, udt_name, scope_catalog,
    scope_schema, scope_name, maximum_cardinality, dtd_identifier, parameter_default) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW "information_schema.element_types"(
    object_catalog, object_schema, object_name, object_type, collection_type_identifier,
    data_type, character_maximum_length, character_octet_length, character_set_catalog,
    character_set_schema, character_set_name, collation_catalog, collation_schema,
    collation_name, numeric_precision, numeric_precision_radix, numeric_scale,
    datetime_precision, interval_type, interval_precision, domain_default, udt_catalog,
    udt_schema, udt_name, scope_catalog, scope_schema, scope_name, maximum_cardinality,
    dtd_identifier) AS
  SELECT litescale_database(), c.table_schema, c.table_name, 'TABLE',
    CAST(c.ordinal_position AS TEXT), format_type(e.oid, NULL), NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, litescale_database(),
    'pg_catalog', e.typname, NULL, NULL, NULL, NULL, 'a' || c.ordinal_position
  FROM ls_column c JOIN pg_type a ON a.oid = c.type_oid JOIN pg_type e ON e.oid = a.typelem
  WHERE c.typcategory = 'A';
CREATE TEMP VIEW "information_schema.column_privileges"(
    grantor, grantee, table_catalog, table_schema, table_name, column_name, privilege_type,
    is_grantable) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW "information_schema.usage_privileges"(
    grantor, grantee, object_catalog, object_schema, object_name, object_type,
    privilege_type, is_grantable) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;

-- Each table's and view's privileges: the owner's all (one owner, postgres) where no
-- GRANT or REVOKE changed them, as Postgres lists them; else its items (privileges/).
CREATE TEMP VIEW "information_schema.table_privileges"(grantor, grantee, table_catalog,
    table_schema, table_name, privilege_type, is_grantable, with_hierarchy) AS
  SELECT 'postgres', 'postgres', litescale_database(), r.nspname, r.relname, p.column1, 'YES',
    CASE p.column1 WHEN 'SELECT' THEN 'YES' ELSE 'NO' END
  FROM ls_relation r, (VALUES ('INSERT'), ('SELECT'), ('UPDATE'), ('DELETE'), ('TRUNCATE'),
    ('REFERENCES'), ('TRIGGER')) p
  WHERE r.type IN ('table', 'view', 'matview') AND pg_relation_acl(r.sql) IS NULL
  UNION ALL
  SELECT a.value ->> 0, a.value ->> 1, litescale_database(), r.nspname, r.relname,
    a.value ->> 2,
    CASE WHEN a.value ->> 3 OR a.value ->> 1 = 'postgres' THEN 'YES' ELSE 'NO' END,
    CASE a.value ->> 2 WHEN 'SELECT' THEN 'YES' ELSE 'NO' END
  FROM ls_relation r, json_each(ls_acl_items(pg_relation_acl(r.sql))) a
  WHERE r.type IN ('table', 'view', 'matview');
CREATE TEMP VIEW "information_schema.role_table_grants" AS
  SELECT * FROM "information_schema.table_privileges";

CREATE TEMP VIEW pg_tables(schemaname, tablename, tableowner, tablespace, hasindexes,
    hasrules, hastriggers, rowsecurity) AS
  SELECT n.nspname, c.relname, 'postgres', NULL, c.relhasindex, 0, c.relhastriggers, 0
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r';

CREATE TEMP VIEW pg_views(schemaname, viewname, viewowner, definition) AS
  SELECT nspname, relname, 'postgres', pg_view_query(sql) FROM ls_relation WHERE type = 'view';

CREATE TEMP VIEW pg_indexes(schemaname, tablename, indexname, tablespace, indexdef) AS
  SELECT n.nspname, t.relname, i.relname, NULL, x.ls_indexdef
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace;

CREATE TEMP VIEW pg_matviews(schemaname, matviewname, matviewowner, tablespace, hasindexes,
    ispopulated, definition) AS
  SELECT n.nspname, c.relname, 'postgres', NULL, c.relhasindex, c.relispopulated,
    (SELECT ls_value FROM ls_view_def WHERE ls_key = c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm';
CREATE TEMP VIEW pg_sequences(schemaname, sequencename, sequenceowner, data_type,
    start_value, min_value, max_value, increment_by, cycle, cache_size, last_value) AS
  SELECT nspname, relname, 'postgres', parameters ->> 'type', parameters ->> 'start',
    parameters ->> 'min', parameters ->> 'max', parameters ->> 'increment',
    parameters ->> 'cycle', parameters ->> 'cache', pg_sequence_last_value(name)
  FROM ls_sequence;
CREATE TEMP VIEW pg_range(rngtypid, rngsubtype, rngmultitypid, rngcollation, rngsubopc,
    rngcanonical, rngsubdiff) AS SELECT 0, 0, 0, 0, 0, NULL, NULL WHERE 0;
"#;
