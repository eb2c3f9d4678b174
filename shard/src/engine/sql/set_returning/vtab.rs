//! `pg_srf`: an eponymous SQLite virtual table whose hidden columns are the call's spec and
//! arguments (`FROM pg_srf('unnest/1', a)` sets them), and whose rows are the functions'
//! rows: `c0..c7` and `ordinality` (the row's number from 1, for WITH ORDINALITY).

use std::borrow::Cow;
use std::ffi::{CStr, c_int};
use std::marker::PhantomData;

use rusqlite::types::Value;
use rusqlite::vtab::{
    Context, Filters, IndexConstraintOp, IndexInfo, Module, VTab, VTabConfig, VTabConnection,
    VTabCursor,
};
use rusqlite::{Connection, ffi};

use super::{MAX_ARGUMENTS, MAX_COLUMNS, Rows, rows};

const NAME: &CStr = c"pg_srf";
const SCHEMA: &CStr = c"CREATE TABLE x(c0, c1, c2, c3, c4, c5, c6, c7, ordinality, \
    spec HIDDEN, a0 HIDDEN, a1 HIDDEN, a2 HIDDEN, a3 HIDDEN, a4 HIDDEN, a5 HIDDEN, \
    a6 HIDDEN, a7 HIDDEN, a8 HIDDEN, a9 HIDDEN, a10 HIDDEN, a11 HIDDEN, a12 HIDDEN, \
    a13 HIDDEN, a14 HIDDEN, a15 HIDDEN)";
const ORDINALITY: c_int = MAX_COLUMNS as c_int;
/// The first hidden column (spec); the arguments follow it.
const SPEC: c_int = ORDINALITY + 1;

pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    const MODULE: Module<SetReturning> = Module::eponymous_only_module();
    conn.create_module(NAME, &MODULE, None)
}

#[repr(C)]
struct SetReturning {
    base: ffi::sqlite3_vtab,
}

unsafe impl<'vtab> VTab<'vtab> for SetReturning {
    type Aux = ();
    type Cursor = Cursor<'vtab>;

    fn connect(
        db: &mut VTabConnection,
        _aux: Option<&()>,
        _module_name: &[u8],
        _database_name: &[u8],
        _table_name: &[u8],
        _args: &[&[u8]],
    ) -> rusqlite::Result<(Cow<'static, CStr>, Self)> {
        db.config(VTabConfig::Innocuous)?;
        Ok((
            Cow::Borrowed(SCHEMA),
            SetReturning {
                base: ffi::sqlite3_vtab::default(),
            },
        ))
    }

    /// The plan passes every given hidden column (spec, arguments) to `filter`, in column
    /// order; `idx_num` has a bit per given column. A plan that cannot give them all yet
    /// (an argument from a table joined later) is refused, so SQLite orders the join.
    fn best_index(&self, info: &mut IndexInfo) -> rusqlite::Result<bool> {
        let mut given: Vec<(c_int, usize)> = Vec::new();
        let mut unusable = false;
        for (i, constraint) in info.constraints().enumerate() {
            if constraint.column() < SPEC {
                continue;
            }
            if !constraint.is_usable()
                || constraint.operator() != IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ
            {
                unusable = true;
                continue;
            }
            given.push((constraint.column(), i));
        }
        given.sort();
        given.dedup_by_key(|(column, _)| *column);
        let mut idx_num = 0;
        for (n, (column, constraint)) in given.iter().enumerate() {
            idx_num |= 1 << (column - SPEC);
            let mut usage = info.constraint_usage(*constraint);
            usage.set_argv_index(n as c_int + 1);
            usage.set_omit(true);
        }
        if unusable {
            return Ok(false);
        }
        info.set_idx_num(idx_num);
        if idx_num & 1 == 1 {
            info.set_estimated_cost(1.0);
            info.set_estimated_rows(100);
        } else {
            info.set_estimated_cost(f64::MAX);
        }
        Ok(true)
    }

    fn open(&mut self) -> rusqlite::Result<Cursor<'_>> {
        Ok(Cursor {
            base: ffi::sqlite3_vtab_cursor::default(),
            rows: super::no_rows(),
            row: None,
            ordinality: 0,
            phantom: PhantomData,
        })
    }
}

#[repr(C)]
struct Cursor<'vtab> {
    base: ffi::sqlite3_vtab_cursor,
    rows: Rows,
    row: Option<Vec<Value>>,
    ordinality: i64,
    phantom: PhantomData<&'vtab SetReturning>,
}

unsafe impl VTabCursor for Cursor<'_> {
    fn filter(
        &mut self,
        idx_num: c_int,
        _idx_str: Option<&str>,
        args: &Filters<'_>,
    ) -> rusqlite::Result<()> {
        if idx_num & 1 == 0 {
            return Err(super::postgres_error(
                "42883",
                "pg_srf needs the function it runs",
            ));
        }
        let values: Vec<Value> = (0..args.len())
            .map(|i| args.get::<Value>(i))
            .collect::<rusqlite::Result<_>>()?;
        let (spec, arguments) = values.split_first().expect("the spec is given");
        let spec = super::text_of(spec).unwrap_or_default();
        if arguments.len() > MAX_ARGUMENTS {
            return Err(super::postgres_error("54023", "too many arguments"));
        }
        self.rows = rows(&spec, arguments.to_vec())?;
        self.ordinality = 0;
        self.next()
    }

    fn next(&mut self) -> rusqlite::Result<()> {
        self.row = self.rows.next().transpose()?;
        self.ordinality += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.row.is_none()
    }

    fn column(&self, ctx: &mut Context, i: c_int) -> rusqlite::Result<()> {
        if i == ORDINALITY {
            return ctx.set_result(self.ordinality);
        }
        let value = usize::try_from(i)
            .ok()
            .and_then(|i| self.row.as_ref()?.get(i))
            .unwrap_or(&Value::Null);
        ctx.set_result(value)
    }

    fn rowid(&self) -> rusqlite::Result<i64> {
        Ok(self.ordinality)
    }
}
