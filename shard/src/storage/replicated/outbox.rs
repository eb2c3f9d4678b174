//! The commits a partition's primary handed to its appender and the appender has not sent
//! yet, gathered in one group: each page's last image, named by the group's last commit.
//! A group that could go waits, up to `WAIT_FOR_WRITER`, for the transaction open on the
//! writer to commit and join it: the writer serves one transaction at a time, so that is
//! the next commit, and nothing waits for a transaction that is not there (a lone client's
//! commit goes at once). A commit stamps the sequence it will be appended at into its own
//! pages before it commits, so the group a commit joins is decided then (`join`), and the
//! group is not sent until that commit is handed over or withdrawn.
//! It must not know the engine: the appender sends what it takes.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::storage::replicated::entry::{Pages, Part};

/// How long a group that could go waits for the transaction open on the writer.
const WAIT_FOR_WRITER: Duration = Duration::from_millis(2);

/// The commits handed over and not sent yet.
pub(super) struct Outbox {
    /// The sequence the next group's first message will be appended at.
    next: u64,
    open: Option<Group>,
    /// A commit stamped to go in the open group (or to open the next one) is not handed
    /// over yet: the group waits for it.
    joining: bool,
    /// A transaction is open on the writer: its commit would join the open group.
    writing: bool,
}

/// Commits handed over together: the pages they wrote, each page's last image.
pub(super) struct Group {
    /// The last commit's id: it names the group's messages, and its stamp is in the pages.
    pub id: u64,
    /// The last commit's number.
    pub commit: u64,
    pub pages: Pages,
    /// When its first commit was handed over.
    opened: Instant,
}

impl Outbox {
    /// For an appender whose first message follows message `last`.
    pub(super) fn after(last: u64) -> Outbox {
        Outbox {
            next: last + 1,
            open: None,
            joining: false,
            writing: false,
        }
    }

    pub(super) fn lock(outbox: &Mutex<Outbox>) -> MutexGuard<'_, Outbox> {
        outbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A commit about to be made: the sequence it will be appended at.
    pub(super) fn join(&mut self) -> u64 {
        self.joining = true;
        self.next
    }

    /// The writer's commit is over: handed over (`add`) or not made. The open group
    /// waits for it no more, nor for the writer's transaction.
    pub(super) fn commit_ended(&mut self) {
        self.joining = false;
        self.writing = false;
    }

    /// Whether a transaction is open on the writer; answers whether one was.
    pub(super) fn writing(&mut self, writing: bool) -> bool {
        std::mem::replace(&mut self.writing, writing)
    }

    /// The commit that joined, in the open group (or opening it).
    pub(super) fn add(&mut self, id: u64, commit: u64, mut pages: Pages) {
        self.commit_ended();
        match &mut self.open {
            Some(group) => {
                group.pages.images.append(&mut pages.images);
                // A page past the database's end is gone from it.
                group
                    .pages
                    .images
                    .split_off(&pages.db_pages.saturating_add(1));
                group.pages.page_size = pages.page_size;
                group.pages.db_pages = pages.db_pages;
                group.id = id;
                group.commit = commit;
            }
            None => {
                self.open = Some(Group {
                    id,
                    commit,
                    pages,
                    opened: Instant::now(),
                })
            }
        }
    }

    /// The open group, to send at `now`; else when to ask again (`None`: once woken).
    pub(super) fn take(&mut self, now: Instant) -> Result<Group, Option<Instant>> {
        let group = self.open.as_ref().ok_or(None)?;
        if self.joining {
            return Err(None);
        }
        let until = group.opened + WAIT_FOR_WRITER;
        if self.writing && now < until {
            return Err(Some(until));
        }
        let group = self.open.take().ok_or(None)?;
        self.next += Part::count(&group.pages) as u64;
        Ok(group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(db_pages: u32, images: &[(u32, u8)]) -> Pages {
        Pages {
            page_size: 512,
            db_pages,
            images: images.iter().map(|&(n, b)| (n, vec![b; 512])).collect(),
        }
    }

    #[test]
    fn commits_handed_while_a_group_waits_join_it_and_are_stamped_with_its_sequence() {
        let now = Instant::now();
        let mut outbox = Outbox::after(10);
        assert_eq!(outbox.join(), 11);
        outbox.add(1, 1, pages(3, &[(1, 1), (3, 1)]));
        // The first group is not sent yet: the next commit joins it.
        assert_eq!(outbox.join(), 11);
        assert!(outbox.take(now).is_err(), "a commit is joining");
        outbox.add(2, 2, pages(2, &[(1, 2), (2, 2)]));
        let group = outbox.take(now).ok().unwrap();
        assert_eq!((group.id, group.commit), (2, 2), "named by its last commit");
        // Each page's last image; page 3 is past the database's end now.
        assert_eq!(group.pages, pages(2, &[(1, 2), (2, 2)]));
        assert!(matches!(outbox.take(now), Err(None)), "nothing to send");
        assert_eq!(outbox.join(), 12, "the next group starts after it");
        outbox.commit_ended();
        assert_eq!(outbox.join(), 12, "a commit that withdrew took no place");
        // A group of 3 parts takes 3 sequences.
        let big: Vec<(u32, u8)> = (1..=4000).map(|n| (n, 0)).collect();
        outbox.add(3, 3, pages(4000, &big));
        assert_eq!(Part::count(&outbox.open.as_ref().unwrap().pages), 3);
        outbox.take(now).ok().unwrap();
        assert_eq!(outbox.join(), 15);
    }

    #[test]
    fn a_group_waits_a_while_for_the_transaction_open_on_the_writer() {
        let mut outbox = Outbox::after(0);
        outbox.join();
        outbox.add(1, 1, pages(1, &[(1, 1)]));
        let opened = outbox.open.as_ref().unwrap().opened;
        outbox.writing = true;
        let until = opened + WAIT_FOR_WRITER;
        assert_eq!(outbox.take(opened).err(), Some(Some(until)));
        // It commits in time: one group.
        outbox.join();
        outbox.add(2, 2, pages(1, &[(1, 2)]));
        assert_eq!(outbox.take(opened).ok().unwrap().commit, 2);
        // A transaction that does not commit in time is not waited for longer.
        outbox.join();
        outbox.add(3, 3, pages(1, &[(1, 3)]));
        outbox.writing = true;
        let opened = outbox.open.as_ref().unwrap().opened;
        assert!(outbox.take(opened).is_err());
        assert_eq!(
            outbox.take(opened + WAIT_FOR_WRITER).ok().unwrap().commit,
            3
        );
    }
}
