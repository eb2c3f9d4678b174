//! The storage directory's layout: `<root>/<database>/<i>.db`, one directory per database
//! and one SQLite file per partition, and which names a database may have.

use std::path::{Path, PathBuf};

/// A partition's file is `<database>/<i>.db`.
const PARTITION_FILE_SUFFIX: &str = ".db";

/// Database names become directory names, so only a safe alphabet is accepted: no `/`,
/// no `..`, no NUL, nothing a filesystem could read differently.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Partition `i`'s file in the database directory `dir`.
pub(crate) fn partition_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("{i}{PARTITION_FILE_SUFFIX}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_the_directory_are_refused() {
        for bad in ["", "..", "../x", "a/b", "a\0b", ".hidden", &"x".repeat(64)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        for good in ["postgres", "tenant_1", "a-b"] {
            assert!(valid_name(good), "{good}");
        }
    }
}
