//! The pages a primary's commits wrote, read from its WAL file after they commit, as
//! Litestream reads them: each frame is a page image; a frame with a database size marks
//! the end of a commit. SQLite starts the WAL over (new salts) after a checkpoint it
//! completed; frames left over from before carry the old salts and are not read.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::ShardError;
use crate::storage::replicated::entry::Pages;

const WAL_HEADER: u64 = 32;
const FRAME_HEADER: u64 = 24;

/// Where the last read stopped in a partition's WAL.
pub(crate) struct WalCursor {
    wal: PathBuf,
    /// The salts of the WAL generation read so far.
    salts: Option<[u8; 8]>,
    /// Frames of that generation already read.
    frames_read: u64,
}

impl WalCursor {
    /// For the partition file at `db` (its WAL is `<db>-wal`), from the WAL's start.
    pub(crate) fn new(db: &Path) -> WalCursor {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        WalCursor {
            wal: PathBuf::from(wal),
            salts: None,
            frames_read: 0,
        }
    }

    /// Frames of the WAL's current generation read so far.
    pub(crate) fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// The pages of the commits made since the last call (the last image of each), or
    /// `None` if nothing was committed.
    pub(crate) fn committed(&mut self) -> Result<Option<Pages>, ShardError> {
        let mut file = match File::open(&self.wal) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut header = [0u8; WAL_HEADER as usize];
        if read_full(&mut file, &mut header)? < header.len() {
            return Ok(None);
        }
        let page_size = match u32::from_be_bytes(header[8..12].try_into().unwrap()) {
            1 => 65536,
            n => n,
        };
        let salts: [u8; 8] = header[16..24].try_into().unwrap();
        if self.salts != Some(salts) {
            self.salts = Some(salts);
            self.frames_read = 0;
        }
        let frame_len = FRAME_HEADER + u64::from(page_size);
        file.seek(SeekFrom::Start(WAL_HEADER + self.frames_read * frame_len))?;
        let mut pages = Pages {
            page_size,
            ..Pages::default()
        };
        let mut pending = Vec::new();
        let mut committed = false;
        let mut frame = vec![0u8; frame_len as usize];
        let mut index = self.frames_read;
        while read_full(&mut file, &mut frame)? == frame.len() && frame[8..16] == salts {
            index += 1;
            let number = u32::from_be_bytes(frame[0..4].try_into().unwrap());
            let db_pages = u32::from_be_bytes(frame[4..8].try_into().unwrap());
            pending.push((number, frame[FRAME_HEADER as usize..].to_vec()));
            if db_pages != 0 {
                pages.images.extend(pending.drain(..));
                pages.db_pages = db_pages;
                committed = true;
                self.frames_read = index;
            }
        }
        Ok(committed.then_some(pages))
    }
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The page size a database file's 100-byte header gives.
pub(crate) fn database_page_size(header: &[u8]) -> u32 {
    match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => u32::from(n),
    }
}

/// Every page of a partition file with nothing in its WAL (the first entry of a log
/// that starts from an existing file).
pub(crate) fn whole_file(db: &Path) -> Result<Pages, ShardError> {
    let bytes = std::fs::read(db)?;
    if bytes.len() < 100 {
        return Ok(Pages::default());
    }
    let page_size = database_page_size(&bytes);
    let images = bytes
        .chunks(page_size as usize)
        .enumerate()
        .map(|(i, page)| (i as u32 + 1, page.to_vec()))
        .collect();
    Ok(Pages {
        page_size,
        db_pages: (bytes.len() / page_size as usize) as u32,
        images,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn each_read_returns_the_pages_committed_since_the_last_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("0.db");
        let c = Connection::open(&db).unwrap();
        c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .unwrap();
        c.execute_batch("PRAGMA wal_autocheckpoint=0; CREATE TABLE t (a)")
            .unwrap();
        let mut cursor = WalCursor::new(&db);
        let first = cursor.committed().unwrap().unwrap();
        assert_eq!((first.page_size, first.db_pages), (4096, 2));
        assert!(cursor.committed().unwrap().is_none());
        c.execute_batch("INSERT INTO t VALUES (1)").unwrap();
        let second = cursor.committed().unwrap().unwrap();
        assert_eq!(second.images.keys().copied().collect::<Vec<_>>(), [2]);
        // A completed checkpoint, then a write: the WAL starts over with new salts.
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        c.execute_batch("INSERT INTO t VALUES (2)").unwrap();
        let third = cursor.committed().unwrap().unwrap();
        assert_eq!(third.images.keys().copied().collect::<Vec<_>>(), [2]);
        // The image read is the page as the database file has it once checkpointed.
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        assert_eq!(third.images[&2], std::fs::read(&db).unwrap()[4096..8192]);
    }
}
