//! Replicated storage (`[storage] engine = "jetstream"`) tested as a distributed system:
//! hosts made of network namespaces (tests/storage/hosts.sh), three NATS JetStream nodes,
//! two compute hosts running litescale, one host with the load; faults are real (SIGKILL,
//! SIGSTOP, a link taken down). Needs root, iproute2 and `nats-server` (scripts/test
//! installs it).
//! Order inside: `hosts` <- `engine` <- `failures`, `single_node` <- `partitions`,
//! `replica` <- `peers`.

mod engine;
mod failures;
mod hosts;
mod partitions;
mod peers;
mod replica;
mod single_node;

/// A partition file's bytes once its WAL is folded in, after `integrity_check` passed.
fn checkpointed(path: &std::path::Path) -> Vec<u8> {
    let conn = rusqlite::Connection::open(path).unwrap();
    assert_eq!(
        crate::harness::integrity_check(&conn),
        "ok",
        "{}",
        path.display()
    );
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    std::fs::read(path).unwrap()
}
