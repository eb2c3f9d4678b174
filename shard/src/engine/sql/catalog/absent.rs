//! The catalogs of objects a litescale database has none of, or only Postgres' built-in
//! ones: languages, casts, operators, text search, foreign data, publications, default
//! privileges, ... With Postgres' columns, so that pg_dump and psql, which read them all,
//! find them and find nothing to list. And the statistics views, whose counters litescale
//! keeps none of.

pub(super) const VIEWS: &str = r#"
-- plpgsql is installed in every Postgres database, in pg_catalog; pg_dump skips it.
CREATE TEMP VIEW pg_extension(oid, extname, extowner, extnamespace, extrelocatable,
    extversion, extconfig, extcondition) AS
  SELECT 13000, 'plpgsql', 10, 11, 0, '1.0', NULL, NULL;
CREATE TEMP VIEW pg_language(oid, lanname, lanowner, lanispl, lanpltrusted, lanplcallfoid,
    laninline, lanvalidator, lanacl) AS
  SELECT 12, 'internal', 10, 0, 0, 0, 0, 0, NULL
  UNION ALL SELECT 13, 'c', 10, 0, 0, 0, 0, 0, NULL
  UNION ALL SELECT 14, 'sql', 10, 0, 1, 0, 0, 0, NULL
  UNION ALL SELECT 13001, 'plpgsql', 10, 1, 1, 0, 0, 0, NULL;
CREATE TEMP VIEW pg_init_privs(objoid, classoid, objsubid, privtype, initprivs) AS
  SELECT 2200, 2615, 0, 'i', '{pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}';
CREATE TEMP VIEW pg_cast(oid, castsource, casttarget, castfunc, castcontext, castmethod) AS
  SELECT 0, 0, 0, 0, '', '' WHERE 0;
CREATE TEMP VIEW pg_transform(oid, trftype, trflang, trffromsql, trftosql) AS
  SELECT 0, 0, 0, 0, 0 WHERE 0;
CREATE TEMP VIEW pg_operator(oid, oprname, oprnamespace, oprowner, oprkind, oprcanmerge, oprcanhash, oprleft, oprright, oprresult, oprcom, oprnegate, oprcode, oprrest, oprjoin) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_opfamily(oid, opfmethod, opfname, opfnamespace, opfowner) AS
  SELECT NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_conversion(oid, conname, connamespace, conowner, conforencoding, contoencoding, conproc, condefault) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_ts_parser(oid, prsname, prsnamespace, prsstart, prstoken, prsend, prsheadline, prslextype) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_ts_template(oid, tmplname, tmplnamespace, tmplinit, tmpllexize) AS
  SELECT NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_ts_dict(oid, dictname, dictnamespace, dictowner, dicttemplate, dictinitoption) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_ts_config(oid, cfgname, cfgnamespace, cfgowner, cfgparser) AS
  SELECT NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_ts_config_map(mapcfg, maptokentype, mapseqno, mapdict) AS
  SELECT NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_foreign_data_wrapper(oid, fdwname, fdwowner, fdwhandler, fdwvalidator, fdwacl, fdwoptions) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_foreign_server(oid, srvname, srvowner, srvfdw, srvtype, srvversion, srvacl, srvoptions) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_user_mapping(oid, umuser, umserver, umoptions) AS
  SELECT NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_default_acl(oid, defaclrole, defaclnamespace, defaclobjtype, defaclacl) AS
  SELECT NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_event_trigger(oid, evtname, evtevent, evtowner, evtfoid, evtenabled, evttags) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_largeobject_metadata(oid, lomowner, lomacl) AS
  SELECT NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_subscription(oid, subdbid, subskiplsn, subname, subowner, subenabled, subbinary, substream, subtwophasestate, subdisableonerr, subconninfo, subslotname, subsynccommit, subpublications) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_aggregate(aggfnoid, aggkind, aggnumdirectargs, aggtransfn, aggfinalfn, aggcombinefn, aggserialfn, aggdeserialfn, aggmtransfn, aggminvtransfn, aggmfinalfn, aggfinalextra, aggmfinalextra, aggfinalmodify, aggmfinalmodify, aggsortop, aggtranstype, aggtransspace, aggmtranstype, aggmtransspace, agginitval, aggminitval) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_seclabel(objoid, classoid, objsubid, provider, label) AS
  SELECT NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_shseclabel(objoid, classoid, provider, label) AS
  SELECT NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_amop(oid, amopfamily, amoplefttype, amoprighttype, amopstrategy,
    amoppurpose, amopopr, amopmethod, amopsortfamily) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_amproc(oid, amprocfamily, amproclefttype, amprocrighttype, amprocnum,
    amproc) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_seclabels(objoid, classoid, objsubid, objtype, objnamespace, objname,
    provider, label) AS
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_db_role_setting(setdatabase, setrole, setconfig) AS
  SELECT NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_parameter_acl(oid, parname, paracl) AS SELECT NULL, NULL, NULL WHERE 0;
CREATE TEMP VIEW pg_shdescription(objoid, classoid, description) AS
  SELECT NULL, NULL, NULL WHERE 0;

-- The statistics views: a row for each table and index, with counters litescale keeps
-- none of at zero (as a server that has just started shows them; Sequelize's describe
-- joins pg_statio_all_tables to find comments).
CREATE TEMP VIEW pg_stat_all_tables(relid, schemaname, relname, seq_scan, seq_tup_read,
    idx_scan, idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd, n_live_tup,
    n_dead_tup, n_mod_since_analyze, n_ins_since_vacuum, last_vacuum, last_autovacuum,
    last_analyze, last_autoanalyze, vacuum_count, autovacuum_count, analyze_count,
    autoanalyze_count) AS
  SELECT c.oid, n.nspname, c.relname, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL,
    NULL, 0, 0, 0, 0
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm');
CREATE TEMP VIEW pg_stat_user_tables AS SELECT * FROM pg_stat_all_tables;
CREATE TEMP VIEW pg_statio_all_tables(relid, schemaname, relname, heap_blks_read,
    heap_blks_hit, idx_blks_read, idx_blks_hit, toast_blks_read, toast_blks_hit,
    tidx_blks_read, tidx_blks_hit) AS
  SELECT relid, schemaname, relname, 0, 0, 0, 0, NULL, NULL, NULL, NULL
  FROM pg_stat_all_tables;
CREATE TEMP VIEW pg_statio_user_tables AS SELECT * FROM pg_statio_all_tables;
CREATE TEMP VIEW pg_stat_all_indexes(relid, indexrelid, schemaname, relname, indexrelname,
    idx_scan, idx_tup_read, idx_tup_fetch) AS
  SELECT t.oid, i.oid, n.nspname, t.relname, i.relname, 0, 0, 0
  FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace;
CREATE TEMP VIEW pg_stat_user_indexes AS SELECT * FROM pg_stat_all_indexes;
"#;

/// Functions over what those catalogs would hold: every object's privileges are its
/// owner's defaults (`acldefault`), as Postgres writes them.
pub(super) fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    // Tablespaces are Postgres' two built-in ones, with no directory of their own.
    conn.create_scalar_function("pg_tablespace_location", 1, flags, |_| Ok(""))?;
    // Databases and roles take no comments.
    conn.create_scalar_function("shobj_description", 2, flags, |_| Ok(None::<String>))?;
    conn.create_scalar_function("acldefault", 2, flags, |ctx| {
        let kind = ctx.get::<String>(0)?;
        let owner = "postgres";
        Ok(match kind.as_str() {
            "r" => Some(format!("{{{owner}=arwdDxt/{owner}}}")),
            "s" => Some(format!("{{{owner}=rwU/{owner}}}")),
            "f" => Some(format!("{{=X/{owner},{owner}=X/{owner}}}")),
            "l" => Some(format!("{{=U/{owner},{owner}=U/{owner}}}")),
            "T" => Some(format!("{{=U/{owner},{owner}=U/{owner}}}")),
            "n" => Some(format!("{{{owner}=UC/{owner}}}")),
            "d" => Some(format!("{{=Tc/{owner},{owner}=CTc/{owner}}}")),
            _ => None,
        })
    })
}
