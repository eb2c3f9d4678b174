//! A routing hint: which partition the client says a statement belongs to, read from a
//! comment in the statement; `partitions/route.rs` decides what it may narrow.

/// A routing hint from the client: a comment `/* partition: 2 */` or `/* key: 42 */`, or
/// the session setting `litescale.partition`. It narrows a read or an UPDATE/DELETE to
/// the partition it names; it never puts rows where the partition map does not look for
/// them (an INSERT goes where its keys belong, and must agree with the hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    Partition(usize),
    Key(String),
}

impl Hint {
    /// The hint in a comment, if it holds one.
    pub fn from_comment(comment: &str) -> Option<Hint> {
        let text = comment.trim();
        if let Some(n) = text.strip_prefix("partition:") {
            return n.trim().parse().ok().map(Hint::Partition);
        }
        text.strip_prefix("key:")
            .map(|k| Hint::Key(k.trim().trim_matches('\'').to_owned()))
    }
}
