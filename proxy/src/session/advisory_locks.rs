//! Advisory locks (`pg_advisory_lock` and its family), kept by the proxy for the whole
//! server: they lock nothing in SQLite, only a key of the database, between its sessions.
//! As in Postgres a lock is exclusive or shared, held by a session until it unlocks it or
//! ends, or by a transaction until it ends, and taken again by its holder it is counted.
//! Knows no statements or sessions beyond their identities; a session's holds are a
//! [`SessionLocks`], which lets them all go when it is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::error::SqlError;
use crate::session::interrupts::cancel::CancelTarget;

/// A lock's key: one bigint, or two integers (Postgres keeps the two forms apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdvisoryKey {
    Big(i64),
    Pair(i32, i32),
}

/// Every advisory lock of the server, by database and key.
#[derive(Default)]
pub struct AdvisoryLocks {
    held: Mutex<HashMap<(String, AdvisoryKey), Holders>>,
    /// Told whenever a lock is released, so that waiters try again.
    released: Notify,
}

/// Who holds one key, and how many times each.
#[derive(Default)]
struct Holders {
    exclusive: HashMap<u64, u32>,
    shared: HashMap<u64, u32>,
}

impl Holders {
    /// Whether `owner` may take the lock: no other session holds it exclusively, and for an
    /// exclusive lock none holds it shared either.
    fn admits(&self, owner: u64, shared: bool) -> bool {
        let others = |m: &HashMap<u64, u32>| m.keys().any(|o| *o != owner);
        !others(&self.exclusive) && (shared || !others(&self.shared))
    }

    fn mode(&mut self, shared: bool) -> &mut HashMap<u64, u32> {
        if shared {
            &mut self.shared
        } else {
            &mut self.exclusive
        }
    }

    fn is_empty(&self) -> bool {
        self.exclusive.is_empty() && self.shared.is_empty()
    }
}

impl AdvisoryLocks {
    fn state(&self) -> std::sync::MutexGuard<'_, HashMap<(String, AdvisoryKey), Holders>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn try_take(&self, owner: u64, lock: &(String, AdvisoryKey), shared: bool) -> bool {
        let mut state = self.state();
        let holders = state.entry(lock.clone()).or_default();
        if !holders.admits(owner, shared) {
            if holders.is_empty() {
                state.remove(lock);
            }
            return false;
        }
        *holders.mode(shared).entry(owner).or_default() += 1;
        true
    }

    /// Gives up one of `owner`'s holds; false when it held none.
    fn release(&self, owner: u64, lock: &(String, AdvisoryKey), shared: bool) -> bool {
        let mut state = self.state();
        let Some(holders) = state.get_mut(lock) else {
            return false;
        };
        let mode = holders.mode(shared);
        let Some(count) = mode.get_mut(&owner) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            mode.remove(&owner);
        }
        if holders.is_empty() {
            state.remove(lock);
        }
        drop(state);
        self.released.notify_waiters();
        true
    }
}

/// One hold a session has: which lock, how, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hold {
    key: AdvisoryKey,
    shared: bool,
    transaction: bool,
}

/// A session's holds on the server's advisory locks; dropping it releases them all, as a
/// session's end does in Postgres.
pub struct SessionLocks {
    locks: Arc<AdvisoryLocks>,
    owner: u64,
    database: String,
    holds: Mutex<Vec<Hold>>,
}

impl SessionLocks {
    pub fn new(locks: Arc<AdvisoryLocks>, owner: u64, database: String) -> SessionLocks {
        SessionLocks {
            locks,
            owner,
            database,
            holds: Mutex::new(Vec::new()),
        }
    }

    fn holds(&self) -> std::sync::MutexGuard<'_, Vec<Hold>> {
        self.holds.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_of(&self, key: AdvisoryKey) -> (String, AdvisoryKey) {
        (self.database.clone(), key)
    }

    /// Takes the lock if it is free; answers whether it did.
    pub fn try_lock(&self, key: AdvisoryKey, shared: bool, transaction: bool) -> bool {
        let taken = self.locks.try_take(self.owner, &self.lock_of(key), shared);
        if taken {
            self.holds().push(Hold {
                key,
                shared,
                transaction,
            });
        }
        taken
    }

    /// Waits until the lock is free and takes it; a cancel (or statement_timeout) ends the
    /// wait with 57014. A deadlock between advisory locks is not detected: the wait lasts
    /// until one of the two is canceled.
    pub async fn lock(
        &self,
        key: AdvisoryKey,
        shared: bool,
        transaction: bool,
        cancel: &CancelTarget,
    ) -> Result<(), SqlError> {
        loop {
            // Listening before trying: a release between the two is not missed.
            let released = self.locks.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if self.try_lock(key, shared, transaction) {
                return Ok(());
            }
            tokio::select! {
                () = &mut released => {}
                () = cancel.canceled() => return Err(SqlError::canceled()),
            }
        }
    }

    /// Releases one session-level hold; false (Postgres warns) when there is none.
    pub fn unlock(&self, key: AdvisoryKey, shared: bool) -> bool {
        let wanted = Hold {
            key,
            shared,
            transaction: false,
        };
        let mut holds = self.holds();
        let Some(at) = holds.iter().rposition(|h| *h == wanted) else {
            return false;
        };
        holds.remove(at);
        drop(holds);
        self.locks.release(self.owner, &self.lock_of(key), shared)
    }

    /// Releases the session-level holds (`pg_advisory_unlock_all`), or the transaction's
    /// (when a block ends).
    pub fn release_all(&self, transaction: bool) {
        let mut holds = self.holds();
        let (going, kept): (Vec<Hold>, Vec<Hold>) =
            holds.drain(..).partition(|h| h.transaction == transaction);
        *holds = kept;
        drop(holds);
        for hold in going {
            self.locks
                .release(self.owner, &self.lock_of(hold.key), hold.shared);
        }
    }
}

impl Drop for SessionLocks {
    fn drop(&mut self) {
        self.release_all(true);
        self.release_all(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(locks: &Arc<AdvisoryLocks>, owner: u64, database: &str) -> SessionLocks {
        SessionLocks::new(Arc::clone(locks), owner, database.to_owned())
    }

    #[test]
    fn exclusive_and_shared_holds_count_and_conflict_as_postgres_has_them() {
        let locks = Arc::new(AdvisoryLocks::default());
        let (a, b) = (session(&locks, 1, "db"), session(&locks, 2, "db"));
        let key = AdvisoryKey::Big(7);
        assert!(a.try_lock(key, false, false));
        assert!(a.try_lock(key, false, false), "a holder takes it again");
        assert!(!b.try_lock(key, true, false));
        // Another database's key of the same number, or the pair form, is another lock.
        assert!(session(&locks, 3, "other").try_lock(key, false, false));
        assert!(b.try_lock(AdvisoryKey::Pair(0, 7), false, false));
        assert!(a.unlock(key, false));
        assert!(!b.try_lock(key, false, false), "still held once");
        assert!(a.unlock(key, false));
        assert!(!a.unlock(key, false), "held no more");
        assert!(b.try_lock(key, true, false) && a.try_lock(key, true, false));
        assert!(!a.try_lock(key, false, false), "b shares it");
        drop(b);
        assert!(a.try_lock(key, false, false), "b's end released its holds");
    }

    #[test]
    fn transaction_holds_end_with_the_block_and_unlock_all_leaves_them() {
        let locks = Arc::new(AdvisoryLocks::default());
        let (a, b) = (session(&locks, 1, "db"), session(&locks, 2, "db"));
        assert!(a.try_lock(AdvisoryKey::Big(1), false, true));
        assert!(a.try_lock(AdvisoryKey::Big(2), false, false));
        assert!(
            !a.unlock(AdvisoryKey::Big(1), false),
            "not unlocked by hand"
        );
        a.release_all(false);
        assert!(b.try_lock(AdvisoryKey::Big(2), false, false));
        assert!(!b.try_lock(AdvisoryKey::Big(1), false, false));
        a.release_all(true);
        assert!(b.try_lock(AdvisoryKey::Big(1), false, false));
    }

    #[tokio::test]
    async fn a_waiter_takes_the_lock_when_it_is_released_and_a_cancel_ends_the_wait() {
        let locks = Arc::new(AdvisoryLocks::default());
        let a = session(&locks, 1, "db");
        let b = Arc::new(session(&locks, 2, "db"));
        let key = AdvisoryKey::Big(9);
        assert!(a.try_lock(key, false, false));
        let cancel = Arc::new(CancelTarget::default());
        let waiter = {
            let (b, cancel) = (Arc::clone(&b), Arc::clone(&cancel));
            tokio::spawn(async move { b.lock(key, false, false, &cancel).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        a.unlock(key, false);
        waiter.await.unwrap().unwrap();
        let c = session(&locks, 3, "db");
        let cancel = CancelTarget::default();
        let (waited, ()) = tokio::join!(c.lock(key, false, false, &cancel), async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            cancel.cancel();
        });
        assert_eq!(waited.unwrap_err().sqlstate, "57014");
    }
}
