//! A log entry: one part of a commit's pages. A commit whose pages exceed what one
//! message may carry is split into parts appended one after another; a reader applies a
//! commit only once it has read its last part, so a primary that died between parts
//! leaves nothing half-applied. Page images travel LZ4-compressed: every byte of the log
//! is written, fsynced and replicated by each of the engine's nodes.

use std::collections::BTreeMap;

use crate::error::ShardError;

const MAGIC: &[u8; 4] = b"LSL2";
/// The first format, its images uncompressed: still read, in logs written before LSL2.
const MAGIC_UNCOMPRESSED: &[u8; 4] = b"LSL1";
/// Room for the header inside the engine's default 1 MiB message limit.
const PART_BYTES: usize = 900 * 1024;

/// The pages one commit (or several commits shipped together) left in the database:
/// each page's last image, and the database's size after it, in pages.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Pages {
    pub page_size: u32,
    pub db_pages: u32,
    pub images: BTreeMap<u32, Vec<u8>>,
}

/// One message of the log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Part {
    /// Names the commit (also the `_litescale_log` row the commit itself wrote).
    pub commit_id: u64,
    /// The commit's last part: the reader may apply the commit now.
    pub last: bool,
    pub page_size: u32,
    pub db_pages: u32,
    pub images: Vec<(u32, Vec<u8>)>,
}

impl Part {
    /// A new primary's first message: no pages. Appended after the last message it
    /// caught up with, it fences off any primary before it, and it changes nothing.
    pub(crate) fn mark(id: u64) -> Part {
        Part {
            commit_id: id,
            last: true,
            page_size: 0,
            db_pages: 0,
            images: Vec::new(),
        }
    }

    pub(crate) fn is_mark(&self) -> bool {
        self.page_size == 0
    }

    /// The parts of a commit, in order.
    pub(crate) fn split(commit_id: u64, pages: Pages) -> Vec<Part> {
        let per_part = per_part(pages.page_size);
        let mut parts: Vec<Part> = Vec::new();
        let mut images = pages.images.into_iter().peekable();
        loop {
            let chunk: Vec<(u32, Vec<u8>)> = images.by_ref().take(per_part).collect();
            let last = images.peek().is_none();
            parts.push(Part {
                commit_id,
                last,
                page_size: pages.page_size,
                db_pages: pages.db_pages,
                images: chunk,
            });
            if last {
                return parts;
            }
        }
    }

    /// How many parts `pages` split into.
    pub(crate) fn count(pages: &Pages) -> usize {
        pages
            .images
            .len()
            .div_ceil(per_part(pages.page_size))
            .max(1)
    }

    /// `LSL2`, commit id, last flag, page size, database pages, count, then
    /// `[page number][image]` per page, LZ4-compressed (`LSL1`: not compressed);
    /// integers little-endian.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.body_len());
        for (number, image) in &self.images {
            body.extend_from_slice(&number.to_le_bytes());
            body.extend_from_slice(image);
        }
        let body = lz4_flex::block::compress(&body);
        let mut out = Vec::with_capacity(25 + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.commit_id.to_le_bytes());
        out.push(u8::from(self.last));
        out.extend_from_slice(&self.page_size.to_le_bytes());
        out.extend_from_slice(&self.db_pages.to_le_bytes());
        out.extend_from_slice(&(self.images.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// The length of the images' section, uncompressed.
    fn body_len(&self) -> usize {
        self.images.len() * (4 + self.page_size as usize)
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Part, ShardError> {
        let corrupt = || ShardError::new("XX001", "corrupt entry in a partition's log");
        let compressed = match bytes.get(..4) {
            Some(magic) if magic == MAGIC => true,
            Some(magic) if magic == MAGIC_UNCOMPRESSED => false,
            _ => return Err(corrupt()),
        };
        let header = bytes.get(4..25).ok_or_else(corrupt)?;
        let u32_at = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().unwrap());
        let mut part = Part {
            commit_id: u64::from_le_bytes(header[..8].try_into().unwrap()),
            last: header[8] == 1,
            page_size: u32_at(9),
            db_pages: u32_at(13),
            images: Vec::new(),
        };
        let count = u32_at(17) as usize;
        let entry = 4 + part.page_size as usize;
        let decompressed;
        let body = if compressed {
            // More than a part holds is a corrupt header, not an allocation to make.
            if count.saturating_mul(entry) > PART_BYTES + entry {
                return Err(corrupt());
            }
            decompressed =
                lz4_flex::block::decompress(&bytes[25..], count * entry).map_err(|_| corrupt())?;
            &decompressed[..]
        } else {
            &bytes[25..]
        };
        if body.len() != count * entry {
            return Err(corrupt());
        }
        part.images = body
            .chunks_exact(entry)
            .map(|chunk| {
                let number = u32::from_le_bytes(chunk[..4].try_into().unwrap());
                (number, chunk[4..].to_vec())
            })
            .collect();
        Ok(part)
    }
}

/// Page images one part carries.
fn per_part(page_size: u32) -> usize {
    (PART_BYTES / page_size.max(512) as usize).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_commit_splits_into_parts_that_read_back_in_order() {
        let images = (1..=600u32).map(|n| (n, vec![n as u8; 4096])).collect();
        let pages = Pages {
            page_size: 4096,
            db_pages: 600,
            images,
        };
        let parts = Part::split(7, pages.clone());
        assert_eq!(parts.len(), 3, "900 KiB of 4 KiB pages per part");
        assert_eq!(Part::count(&pages), 3);
        assert_eq!(
            parts.iter().map(|p| p.last).collect::<Vec<_>>(),
            [false, false, true]
        );
        let read: Vec<Part> = parts
            .iter()
            .map(|p| Part::decode(&p.encode()).unwrap())
            .collect();
        assert_eq!(read, parts);
        let back: BTreeMap<u32, Vec<u8>> = read.into_iter().flat_map(|p| p.images).collect();
        assert_eq!(back, pages.images);
        assert!(Part::decode(&parts[0].encode()[..100]).is_err());
        // Pages of repeated bytes (as SQLite's free space is) take a fraction of their size.
        assert!(parts[0].encode().len() < 900 * 1024 / 10);
        // A log written before images were compressed reads back the same.
        let mut uncompressed = Vec::from(&MAGIC_UNCOMPRESSED[..]);
        let encoded = parts[2].encode();
        uncompressed.extend_from_slice(&encoded[4..25]);
        for (number, image) in &parts[2].images {
            uncompressed.extend_from_slice(&number.to_le_bytes());
            uncompressed.extend_from_slice(image);
        }
        assert_eq!(Part::decode(&uncompressed).unwrap(), parts[2]);
        let mark = Part::decode(&Part::mark(9).encode()).unwrap();
        assert!(mark.is_mark() && mark.last && !parts[2].is_mark());
    }
}
