//! What one partition's part of a cross-partition transaction did, in a form that can be
//! replayed on that partition as it was before the transaction: data changes as SQLite
//! session-extension changesets, schema changes as their SQL, in the order they ran.
//!
//! SQLite cannot keep a prepared transaction across a crash, so the redo is what makes a
//! part durable before the commit decision: recovery replays it on a partition that had
//! not committed its part.

use std::ffi::c_void;

use rusqlite::Connection;
use rusqlite::ffi;

use crate::engine::statements::execute_statements;
use crate::error::ShardError;

/// One step of a partition's part, in the order it ran.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Row changes, as a SQLite changeset.
    Changes(Vec<u8>),
    /// A schema change, as the SQL that made it (SQLite DDL is deterministic).
    Schema(String),
}

/// A partition's part of a transaction, replayable.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Redo {
    pub segments: Vec<Segment>,
}

const CHANGES: u8 = 1;
const SCHEMA: u8 = 2;

impl Redo {
    /// `[kind: u8][length: u64 LE][bytes]` per segment.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for segment in &self.segments {
            let (kind, bytes) = match segment {
                Segment::Changes(c) => (CHANGES, c.as_slice()),
                Segment::Schema(sql) => (SCHEMA, sql.as_bytes()),
            };
            out.push(kind);
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        out
    }

    pub fn decode(mut bytes: &[u8]) -> Result<Redo, ShardError> {
        let corrupt = || ShardError::new("XX001", "corrupt redo record");
        let mut segments = Vec::new();
        while let Some((&kind, rest)) = bytes.split_first() {
            let len_bytes: [u8; 8] = rest.get(..8).ok_or_else(corrupt)?.try_into().unwrap();
            let len = usize::try_from(u64::from_le_bytes(len_bytes)).map_err(|_| corrupt())?;
            let body = rest.get(8..8 + len).ok_or_else(corrupt)?;
            segments.push(match kind {
                CHANGES => Segment::Changes(body.to_vec()),
                SCHEMA => Segment::Schema(String::from_utf8(body.to_vec()).map_err(|_| corrupt())?),
                _ => return Err(corrupt()),
            });
            bytes = &rest[8 + len..];
        }
        Ok(Redo { segments })
    }

    /// Replays the part on `conn`, inside the caller's transaction. Any conflict aborts:
    /// the partition must be exactly as it was when the part ran.
    pub fn apply(&self, conn: &Connection) -> Result<(), ShardError> {
        for segment in &self.segments {
            match segment {
                Segment::Schema(sql) => execute_statements(conn, sql)?,
                Segment::Changes(changes) => apply_changes(conn, changes)?,
            }
        }
        Ok(())
    }
}

/// Any conflict means the partition is not the state the changes were recorded on.
unsafe extern "C" fn abort_on_conflict(
    _: *mut c_void,
    _: std::ffi::c_int,
    _: *mut ffi::sqlite3_changeset_iter,
) -> std::ffi::c_int {
    ffi::SQLITE_CHANGESET_ABORT
}

fn apply_changes(conn: &Connection, changes: &[u8]) -> Result<(), ShardError> {
    let len = i32::try_from(changes.len())
        .map_err(|_| ShardError::new("54000", "a partition's changes exceed 2 GiB"))?;
    // SAFETY: SQLite only reads the changeset (the pointer is not const in its C API);
    // the connection is live and owned by the caller for the duration of the call.
    let rc = unsafe {
        ffi::sqlite3changeset_apply(
            conn.handle(),
            len,
            changes.as_ptr().cast_mut().cast::<c_void>(),
            None,
            Some(abort_on_conflict),
            std::ptr::null_mut(),
        )
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(ShardError::new(
            "XX001",
            format!(
                "replaying recorded changes failed (SQLite code {rc}): the partition is not as they were recorded on"
            ),
        ))
    }
}

/// Records every row change made on a writer connection (SQLite's session extension),
/// including tables without a primary key, which are tracked by rowid.
pub(crate) struct ChangeRecorder(*mut ffi::sqlite3_session);

// The session is used only by the holder of the writer connection it records, one
// thread at a time, as the connection itself is.
unsafe impl Send for ChangeRecorder {}

impl ChangeRecorder {
    pub(crate) fn start(conn: &Connection) -> Result<ChangeRecorder, ShardError> {
        let mut session = std::ptr::null_mut();
        // SAFETY: the handle is a live connection; the recorder is deleted (Drop) before
        // the connection can be used by anyone else (see `partition::Held`).
        let rc =
            unsafe { ffi::sqlite3session_create(conn.handle(), c"main".as_ptr(), &mut session) };
        if rc != ffi::SQLITE_OK {
            return Err(ShardError::new("XX000", "cannot start recording changes"));
        }
        let recorder = ChangeRecorder(session);
        let mut on: i32 = 1;
        // SAFETY: `session` is valid; both calls take plain values.
        let rc = unsafe {
            let rc = ffi::sqlite3session_object_config(
                session,
                ffi::SQLITE_SESSION_OBJCONFIG_ROWID,
                (&mut on as *mut i32).cast::<c_void>(),
            );
            if rc == ffi::SQLITE_OK {
                ffi::sqlite3session_attach(session, std::ptr::null())
            } else {
                rc
            }
        };
        if rc != ffi::SQLITE_OK {
            return Err(ShardError::new(
                "XX000",
                "cannot record changes of every table",
            ));
        }
        Ok(recorder)
    }

    /// The changes recorded so far, as a changeset.
    pub(crate) fn changes(&self) -> Result<Vec<u8>, ShardError> {
        let mut len = 0;
        let mut buf = std::ptr::null_mut();
        // SAFETY: on success SQLite hands us `len` bytes at `buf`, which we copy and free.
        unsafe {
            let rc = ffi::sqlite3session_changeset(self.0, &mut len, &mut buf);
            if rc != ffi::SQLITE_OK {
                return Err(ShardError::new("XX000", "cannot read recorded changes"));
            }
            let bytes = if buf.is_null() || len <= 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(buf.cast::<u8>(), len as usize).to_vec()
            };
            ffi::sqlite3_free(buf);
            Ok(bytes)
        }
    }
}

impl Drop for ChangeRecorder {
    fn drop(&mut self) {
        // SAFETY: created by sqlite3session_create and deleted once.
        unsafe { ffi::sqlite3session_delete(self.0) }
    }
}

/// A transaction's recording: segments closed so far and the recorder of the current one.
pub(crate) struct Recording {
    done: Vec<Segment>,
    recorder: ChangeRecorder,
}

impl Recording {
    pub(crate) fn start(conn: &Connection) -> Result<Recording, ShardError> {
        Ok(Recording {
            done: Vec::new(),
            recorder: ChangeRecorder::start(conn)?,
        })
    }

    /// Closes the current changeset (a schema change is about to run: the session would
    /// not follow a table whose columns change under it) and records the change's SQL.
    pub(crate) fn schema_change(&mut self, conn: &Connection, sql: &str) -> Result<(), ShardError> {
        self.close_changes(conn)?;
        self.done.push(Segment::Schema(sql.to_owned()));
        Ok(())
    }

    /// The schema change recorded by [`Self::schema_change`] ran: what it wrote (the rows
    /// of litescale's own tables it keeps, a definition written over in sqlite_schema) is
    /// not recorded, as replaying its SQL writes it again.
    pub(crate) fn schema_changed(&mut self, conn: &Connection) -> Result<(), ShardError> {
        self.recorder = ChangeRecorder::start(conn)?;
        Ok(())
    }

    fn close_changes(&mut self, conn: &Connection) -> Result<(), ShardError> {
        let changes = self.recorder.changes()?;
        if !changes.is_empty() {
            self.done.push(Segment::Changes(changes));
        }
        self.recorder = ChangeRecorder::start(conn)?;
        Ok(())
    }

    /// Everything recorded, ending the current segment (a transaction's part is prepared
    /// once).
    pub(crate) fn redo(&mut self, conn: &Connection) -> Result<Redo, ShardError> {
        self.close_changes(conn)?;
        Ok(Redo {
            segments: std::mem::take(&mut self.done),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(c: &Connection, sql: &str) -> Vec<(i64, String)> {
        let mut stmt = c.prepare(sql).unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_recorded_part_replays_on_a_copy_of_the_partition_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let setup = "CREATE TABLE keyed (id INTEGER PRIMARY KEY, v TEXT);
                     CREATE TABLE bare (n INT, v TEXT);
                     INSERT INTO keyed VALUES (1, 'one'), (2, 'two');
                     INSERT INTO bare VALUES (1, 'x'), (2, 'y');";
        let original = Connection::open(dir.path().join("a.db")).unwrap();
        let copy = Connection::open(dir.path().join("b.db")).unwrap();
        original.execute_batch(setup).unwrap();
        copy.execute_batch(setup).unwrap();

        original.execute_batch("BEGIN").unwrap();
        let mut recording = Recording::start(&original).unwrap();
        original
            .execute_batch(
                "UPDATE keyed SET v = 'uno' WHERE id = 1; DELETE FROM bare WHERE n = 2;
                 INSERT INTO bare VALUES (3, 'z'); DELETE FROM keyed;",
            )
            .unwrap();
        let ddl = "ALTER TABLE keyed ADD COLUMN extra INT DEFAULT 7";
        recording.schema_change(&original, ddl).unwrap();
        original.execute_batch(ddl).unwrap();
        original
            .execute_batch("INSERT INTO keyed (id, v) VALUES (5, 'five')")
            .unwrap();
        let redo = recording.redo(&original).unwrap();
        drop(recording);
        original.execute_batch("COMMIT").unwrap();

        let decoded = Redo::decode(&redo.encode()).unwrap();
        assert_eq!(decoded, redo);
        assert_eq!(redo.segments.len(), 3, "{:?}", redo.segments);
        copy.execute_batch("BEGIN").unwrap();
        decoded.apply(&copy).unwrap();
        copy.execute_batch("COMMIT").unwrap();
        for q in [
            "SELECT rowid, v FROM bare ORDER BY rowid",
            "SELECT id, v || extra FROM keyed ORDER BY id",
        ] {
            assert_eq!(rows(&copy, q), rows(&original, q), "{q}");
        }
        assert_eq!(rows(&copy, "SELECT id, v FROM keyed"), [(5, "five".into())]);
    }

    #[test]
    fn a_replay_on_a_partition_that_moved_on_aborts() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 1)",
        )
        .unwrap();
        c.execute_batch("BEGIN").unwrap();
        let mut recording = Recording::start(&c).unwrap();
        c.execute_batch("UPDATE t SET v = 2").unwrap();
        let redo = recording.redo(&c).unwrap();
        drop(recording);
        c.execute_batch("COMMIT").unwrap();
        // Applied a second time, the old value no longer matches: a conflict, not a guess.
        assert!(redo.apply(&c).is_err());
    }

    #[test]
    fn a_truncated_record_is_refused() {
        let redo = Redo {
            segments: vec![Segment::Schema("CREATE TABLE x (a INT)".into())],
        };
        let bytes = redo.encode();
        assert!(Redo::decode(&bytes[..bytes.len() - 1]).is_err());
    }
}
