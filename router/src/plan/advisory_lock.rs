//! An advisory lock call (`pg_advisory_lock(k)`, `pg_try_advisory_xact_lock(a, b)`, ...), as
//! the plan carries it to the proxy, which keeps the server's advisory locks: they belong
//! to sessions, which SQLite does not know.

/// What the call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvisoryAction {
    /// Waits until the lock is free, then takes it.
    Lock,
    /// Takes the lock if it is free; answers whether it did.
    TryLock,
    /// Releases one hold of a session-level lock; answers whether the session held it.
    Unlock,
    /// Releases every session-level lock the session holds.
    UnlockAll,
}

/// A key argument, as far as planning can know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyArg {
    Value(i64),
    /// `NULL`: the function answers NULL, as Postgres' strict functions do.
    Null,
    /// `$n` (1-based), bound at execution.
    Param(usize),
}

/// One advisory lock function call, alone in its SELECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryLockCall {
    pub action: AdvisoryAction,
    /// A shared lock (`_shared`), which other shared holders do not block.
    pub shared: bool,
    /// Held until the transaction ends (`_xact_`), not until unlocked or the session ends.
    pub transaction: bool,
    /// One bigint key, or two integer keys (a separate key space); none for UnlockAll.
    pub key: Vec<KeyArg>,
    /// The result column's name.
    pub column: String,
}

impl AdvisoryLockCall {
    /// The call of function `name`, without its key and column.
    pub(crate) fn of(name: &str) -> Option<(AdvisoryAction, bool, bool)> {
        let (action, rest) = if let Some(rest) = name.strip_prefix("pg_try_advisory_") {
            (AdvisoryAction::TryLock, rest)
        } else if name == "pg_advisory_unlock_all" {
            return Some((AdvisoryAction::UnlockAll, false, false));
        } else if let Some(rest) = name.strip_prefix("pg_advisory_unlock") {
            (
                AdvisoryAction::Unlock,
                rest.strip_prefix('_').unwrap_or(rest),
            )
        } else {
            (AdvisoryAction::Lock, name.strip_prefix("pg_advisory_")?)
        };
        let (transaction, rest) = match rest.strip_prefix("xact_") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let shared = match rest {
            "lock" | "" => false,
            "lock_shared" | "shared" => true,
            _ => return None,
        };
        // pg_advisory_unlock_xact... does not exist: xact locks end with their transaction.
        if action == AdvisoryAction::Unlock && (transaction || rest.starts_with("lock")) {
            return None;
        }
        if action != AdvisoryAction::Unlock && !rest.starts_with("lock") {
            return None;
        }
        Some((action, shared, transaction))
    }

    /// Whether the call answers a boolean (else void).
    pub fn answers_boolean(&self) -> bool {
        matches!(
            self.action,
            AdvisoryAction::TryLock | AdvisoryAction::Unlock
        )
    }
}

#[cfg(test)]
mod tests {
    use super::AdvisoryAction::*;
    use super::AdvisoryLockCall;

    #[test]
    fn every_advisory_function_is_known_by_its_name() {
        for (name, expected) in [
            ("pg_advisory_lock", (Lock, false, false)),
            ("pg_advisory_lock_shared", (Lock, true, false)),
            ("pg_advisory_xact_lock", (Lock, false, true)),
            ("pg_advisory_xact_lock_shared", (Lock, true, true)),
            ("pg_try_advisory_lock", (TryLock, false, false)),
            ("pg_try_advisory_lock_shared", (TryLock, true, false)),
            ("pg_try_advisory_xact_lock", (TryLock, false, true)),
            ("pg_try_advisory_xact_lock_shared", (TryLock, true, true)),
            ("pg_advisory_unlock", (Unlock, false, false)),
            ("pg_advisory_unlock_shared", (Unlock, true, false)),
            ("pg_advisory_unlock_all", (UnlockAll, false, false)),
        ] {
            assert_eq!(AdvisoryLockCall::of(name), Some(expected), "{name}");
        }
        for other in [
            "pg_advisory_locks",
            "pg_advisory_xact_unlock",
            "pg_try_advisory_unlock",
        ] {
            assert_eq!(AdvisoryLockCall::of(other), None, "{other}");
        }
    }
}
