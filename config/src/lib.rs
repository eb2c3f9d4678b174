//! Typed, validated litescale configuration, read from TOML.
//!
//! This crate turns a TOML file (or nothing: the embedded default) into a [`Config`].
//! It knows field names, defaults and validation rules; it must not know about sockets,
//! SQLite or SQL. Unknown fields are errors, not ignored, so a typo never silently falls
//! back to a default.

mod auth;
mod partitions;
mod workers;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use auth::{AuthMethod, AuthRule, Secret, UserConfig, default_rules};
pub use partitions::{
    FieldError, HashRange, KeyList, KeyRange, KeyValue, PartitionMap, PartitionsConfig, Placement,
    TableConfig, TablePlacement,
};
pub use workers::{Balance, ExternalWorker, WorkerMode, WorkersConfig};

/// The port litescale listens on by default: next to PostgreSQL's 5432 but not on it (or
/// on 5433, which a second local PostgreSQL cluster often takes).
pub const DEFAULT_PORT: u16 = 5480;

/// Where the embedded default keeps its data, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "litescale-data";

/// The database created on first start, so `psql -U postgres` connects out of the box.
pub const DEFAULT_DATABASE: &str = "postgres";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid config{}: {error}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Invalid {
        error: FieldError,
        /// The 1-based line of the field in the file, when the config came from text.
        line: Option<usize>,
    },
}

/// How hard SQLite works to make a commit durable (SQLite's `PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// No fsync: fast, loses recent commits on power loss *and* can corrupt on OS crash.
    Off,
    /// WAL is fsynced at checkpoints only: survives a process crash, not a power loss.
    Normal,
    /// Every commit is fsynced before it is acknowledged.
    #[default]
    Full,
    /// As `full`, and the directory is fsynced too.
    Extra,
}

impl Synchronous {
    pub fn as_pragma(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }
}

/// The whole configuration. Every field has a default, so an empty file is valid.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the Postgres wire protocol listens on.
    pub listen: SocketAddr,
    /// Address of the Prometheus metrics endpoint (`GET /metrics`); absent: none.
    pub metrics_listen: Option<SocketAddr>,
    /// Storage directory: `<data_dir>/<database>/<partition>.db`.
    pub data_dir: PathBuf,
    pub storage: StorageConfig,
    pub limits: LimitsConfig,
    /// `tracing` filter, e.g. `info` or `litescale_proxy=debug`. `RUST_LOG` wins.
    pub log_level: String,
    /// How databases are split into partitions; absent means one partition.
    pub partitions: Option<PartitionsConfig>,
    /// Placement of tables in a partitioned database, by table name.
    pub tables: BTreeMap<String, TableConfig>,
    /// `[[users]]`: with none, any user name is accepted where a rule trusts it.
    pub users: Vec<UserConfig>,
    /// `[[auth]]`: pg_hba-style rules; with none, [`default_rules`].
    pub auth: Vec<AuthRule>,
    /// `[tls]`: certificate and key; absent means clients asking for TLS are told no.
    pub tls: Option<TlsConfig>,
    /// `[workers]`: in process, or worker processes with replicas.
    pub workers: WorkersConfig,
    /// The file this config was read from, if any (worker processes read it too).
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

/// `[tls]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// Refuse clients that do not use TLS (FATAL 28000).
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub synchronous: Synchronous,
    /// Milliseconds a SQLite connection waits on a lock held by another process before
    /// failing. Inside one litescale process writers are queued and never see a lock.
    pub busy_timeout_ms: u64,
    /// Reader connections kept open per partition when idle.
    pub idle_readers: usize,
    /// MiB of each partition file that SQLite reads through a memory map (its
    /// `PRAGMA mmap_size`) instead of a read(2) per page: a point select on a table
    /// larger than SQLite's page cache made three of those. 0 turns it off.
    pub mmap_mb: u64,
    /// Where a commit is durable: `local` (the data directory's files, fsynced) or
    /// `jetstream` (a quorum-replicated log per partition in NATS JetStream; the data
    /// directory's files are then a cache of the log).
    pub engine: StorageEngine,
    /// The engine's addresses (`host:port` or `nats://host:port`), for `jetstream`.
    pub servers: Vec<String>,
    /// Copies of each partition's log the engine keeps (1, 3 or 5): a commit is
    /// acknowledged once a majority of them hold it, fsynced.
    pub replicas: usize,
    /// Milliseconds a commit waits for the log (an engine election, a lost quorum)
    /// before it fails with a retryable error.
    pub commit_timeout_ms: u64,
    /// MiB appended to a partition's log after which its primary takes a snapshot of the
    /// partition (a page image at a log position, in the engine's object store) off the
    /// commit path; 0: never (the log is then kept whole).
    pub snapshot_every_mb: u64,
    /// Snapshots kept per partition; the log is purged below the oldest of them, which is
    /// as far back as a point-in-time restore reaches.
    pub snapshots_kept: usize,
    /// With `jetstream`: this process is a read replica. It takes no lease and writes
    /// nothing; its partitions' files follow their logs and serve reads.
    pub replica: bool,
    /// With `jetstream`: `host:port` where this process takes other litescale processes'
    /// writes for the partitions it is primary of (port 0: any). With it, a process that
    /// finds a partition's lease held serves the partition anyway: reads from its file
    /// following the log, writes forwarded to the holder; it takes over when the holder
    /// stops renewing. Without it, such a process waits for the lease (a standby).
    pub peer_listen: Option<String>,
}

/// `[storage] engine`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StorageEngine {
    /// The embedded default: the data directory holds the data.
    #[default]
    Local,
    /// NATS JetStream: each partition's commits on a replicated stream.
    Jetstream,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Prepared SQLite statements cached per SQLite connection.
    pub statement_cache: usize,
    /// Authenticated client connections served at once; the next one is refused with
    /// 53300. Connections still authenticating are bounded separately.
    pub max_connections: usize,
    /// Of `max_connections`, the slots only admin users (`admin = true`) and the admin
    /// console may take, as Postgres' `superuser_reserved_connections`.
    pub superuser_reserved_connections: usize,
    /// Connections that have not authenticated yet; a new one past this closes the one
    /// that has waited longest.
    pub max_unauthenticated_connections: usize,
    /// Milliseconds a connection may take from accept to authenticated (TLS handshake,
    /// startup packet, password exchange), as Postgres' `authentication_timeout`.
    pub authentication_timeout_ms: u64,
    /// Milliseconds a transaction block that holds a partition's writer may wait for its
    /// client before it is rolled back and its connection ended (FATAL 25P03); a session's
    /// `idle_in_transaction_session_timeout` may make it shorter. 0: no limit.
    pub idle_in_transaction_writer_timeout_ms: u64,
    /// Longest query text (a Query or Parse message's SQL) planned; a longer one is
    /// refused with 54000. Bounds the time and the stack one statement's planning takes.
    pub max_query_bytes: usize,
    /// MiB a client's message (a query string, a Bind's parameters, a CopyData) may have;
    /// a longer one is read past and refused with 54000. What a connection holds of its
    /// input is bounded by this (PostgreSQL allows 1 GiB).
    pub max_message_mb: usize,
    /// MiB one statement's result may hold in memory where it is materialised rather than
    /// streamed (reads inside a transaction block that holds the writer, RETURNING,
    /// catalog queries, the merge of a read on several partitions); past it the statement
    /// fails with 54000.
    pub max_result_mb: usize,
}

impl LimitsConfig {
    /// `idle_in_transaction_writer_timeout_ms`, `None` when 0.
    pub fn idle_in_transaction_writer_timeout(&self) -> Option<std::time::Duration> {
        (self.idle_in_transaction_writer_timeout_ms > 0)
            .then(|| std::time::Duration::from_millis(self.idle_in_transaction_writer_timeout_ms))
    }

    pub fn authentication_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.authentication_timeout_ms)
    }

    /// `max_result_mb` in bytes.
    pub fn max_result_bytes(&self) -> usize {
        self.max_result_mb.saturating_mul(1024 * 1024)
    }

    /// `max_message_mb` in bytes.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_mb.saturating_mul(1024 * 1024)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            metrics_listen: None,
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            storage: StorageConfig::default(),
            limits: LimitsConfig::default(),
            log_level: "info".to_owned(),
            partitions: None,
            tables: BTreeMap::new(),
            users: Vec::new(),
            auth: Vec::new(),
            tls: None,
            workers: WorkersConfig::default(),
            file: None,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            synchronous: Synchronous::Full,
            busy_timeout_ms: 5_000,
            idle_readers: 8,
            mmap_mb: 1024,
            engine: StorageEngine::Local,
            servers: Vec::new(),
            replicas: 3,
            commit_timeout_ms: 10_000,
            snapshot_every_mb: 64,
            snapshots_kept: 2,
            replica: false,
            peer_listen: None,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            statement_cache: 256,
            max_connections: 100,
            superuser_reserved_connections: 3,
            max_unauthenticated_connections: 100,
            // A password prompt happens between two connections (libpq asks, then
            // reconnects), so authenticating takes round trips, not a person's typing.
            authentication_timeout_ms: 10_000,
            idle_in_transaction_writer_timeout_ms: 60_000,
            max_query_bytes: 1 << 20,
            max_message_mb: 64,
            max_result_mb: 256,
        }
    }
}

impl Config {
    /// Parses TOML text. `origin` names the source in error messages.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        // toml's messages name the line, the column and the offending field.
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_owned(),
            message: e.to_string(),
        })?;
        config.validate().map_err(|e| match e {
            ConfigError::Invalid { error, .. } => ConfigError::Invalid {
                line: line_of_field(text, &error.field),
                error,
            },
            other => other,
        })?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::from_toml(&text, path)?;
        config.file = Some(path.to_owned());
        Ok(config)
    }

    /// The authentication rules in force.
    pub fn auth_rules(&self) -> Vec<AuthRule> {
        if self.auth.is_empty() {
            default_rules()
        } else {
            self.auth.clone()
        }
    }

    pub fn user(&self, name: &str) -> Option<&UserConfig> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The validated partition map.
    pub fn partition_map(&self) -> Result<PartitionMap, ConfigError> {
        match &self.partitions {
            None if self.tables.is_empty() => Ok(PartitionMap::single()),
            None => Err(invalid(FieldError::new(
                "tables",
                "tables are placed but there is no [partitions] section",
            ))),
            Some(p) => PartitionMap::new(p, &self.tables).map_err(invalid),
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid(FieldError::new("data_dir", "must not be empty")));
        }
        self.partition_map()?;
        for (i, user) in self.users.iter().enumerate() {
            if let Some(password) = &user.password {
                Secret::parse(password)
                    .map_err(|e| invalid(FieldError::new(format!("users.{i}.password"), e)))?;
            }
            if self.users[..i].iter().any(|u| u.name == user.name) {
                return Err(invalid(FieldError::new(
                    format!("users.{i}.name"),
                    format!("user \"{}\" is defined twice", user.name),
                )));
            }
        }
        for (i, rule) in self.auth.iter().enumerate() {
            rule.check()
                .map_err(|e| invalid(FieldError::new(format!("auth.{i}.address"), e)))?;
        }
        self.workers.check().map_err(invalid)?;
        self.check_storage_engine().map_err(invalid)?;
        let limits = &self.limits;
        let at_least_one = [
            ("limits.max_connections", limits.max_connections as u64),
            ("limits.max_result_mb", limits.max_result_mb as u64),
            ("limits.max_message_mb", limits.max_message_mb as u64),
            (
                "limits.max_unauthenticated_connections",
                limits.max_unauthenticated_connections as u64,
            ),
            (
                "limits.authentication_timeout_ms",
                limits.authentication_timeout_ms,
            ),
            ("limits.statement_cache", limits.statement_cache as u64),
        ];
        if let Some((field, _)) = at_least_one.iter().find(|(_, value)| *value == 0) {
            return Err(invalid(FieldError::new(*field, "must be at least 1")));
        }
        if limits.superuser_reserved_connections >= limits.max_connections {
            return Err(invalid(FieldError::new(
                "limits.superuser_reserved_connections",
                "must be less than limits.max_connections",
            )));
        }
        Ok(())
    }
}

impl Config {
    fn check_storage_engine(&self) -> Result<(), FieldError> {
        let storage = &self.storage;
        if storage.engine == StorageEngine::Local {
            if storage.replica {
                return Err(FieldError::new(
                    "storage.replica",
                    "a replica follows the logs of engine = \"jetstream\"",
                ));
            }
            if storage.peer_listen.is_some() {
                return Err(FieldError::new(
                    "storage.peer_listen",
                    "peers forward writes to the primary of a log of engine = \"jetstream\"",
                ));
            }
            return Ok(());
        }
        if storage.servers.is_empty() {
            return Err(FieldError::new(
                "storage.servers",
                "engine = \"jetstream\" needs the engine's addresses",
            ));
        }
        if ![1, 3, 5].contains(&storage.replicas) {
            return Err(FieldError::new("storage.replicas", "must be 1, 3 or 5"));
        }
        if storage.commit_timeout_ms == 0 {
            return Err(FieldError::new(
                "storage.commit_timeout_ms",
                "must be at least 1",
            ));
        }
        if let Some(address) = &storage.peer_listen {
            if storage.replica {
                return Err(FieldError::new(
                    "storage.peer_listen",
                    "a replica takes no writes: it is never a partition's primary",
                ));
            }
            // The address is what the leases tell the other processes to connect to.
            match address.parse::<std::net::SocketAddr>() {
                Ok(a) if a.ip().is_unspecified() => {
                    return Err(FieldError::new(
                        "storage.peer_listen",
                        "name an address the other litescale processes reach (it is what this one's leases tell them), not 0.0.0.0 or [::]",
                    ));
                }
                Ok(_) => {}
                Err(_) => {
                    return Err(FieldError::new(
                        "storage.peer_listen",
                        "must be an IP address and a port, as 10.0.0.2:7100",
                    ));
                }
            }
        }
        if storage.snapshots_kept == 0 {
            return Err(FieldError::new(
                "storage.snapshots_kept",
                "must be at least 1 (the log is purged below the oldest snapshot kept)",
            ));
        }
        // Worker processes open the partition's files themselves; on the log they would
        // each need the log's fence and catch-up, which only the in-process primary has.
        if self.workers.mode != WorkerMode::InProcess {
            return Err(FieldError::new(
                "workers.mode",
                "engine = \"jetstream\" is served in process for now (worker processes on the log are not built yet)",
            ));
        }
        Ok(())
    }
}

fn invalid(error: FieldError) -> ConfigError {
    ConfigError::Invalid { error, line: None }
}

/// The line of the deepest key of a dotted `field` path that the document spells out
/// (`tables.t.partition` → the `partition = ...` line, or `[tables.t]` if it is absent).
fn line_of_field(text: &str, field: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let mut offset = None;
    for part in field.split('.') {
        let (key, value) = table.get_key_value(part)?;
        offset = Some(key.span().start);
        match value.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => break,
        }
    }
    offset.map(|o| text[..o].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("test.toml"))
    }

    #[test]
    fn empty_file_is_the_embedded_default() {
        assert_eq!(parse("").unwrap(), Config::default());
        assert_eq!(Config::default().listen.port(), DEFAULT_PORT);
        assert_eq!(Config::default().storage.synchronous, Synchronous::Full);
    }

    #[test]
    fn fields_are_read() {
        let c = parse(
            "listen = \"0.0.0.0:7000\"\ndata_dir = \"/tmp/x\"\n[storage]\nsynchronous = \"normal\"\nmmap_mb = 0\n",
        )
        .unwrap();
        assert_eq!(c.storage.mmap_mb, 0);
        assert_eq!(c.listen.port(), 7000);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.storage.synchronous, Synchronous::Normal);
        assert_eq!(
            c.storage.idle_readers,
            StorageConfig::default().idle_readers
        );
    }

    #[test]
    fn a_peer_address_must_be_one_the_others_reach() {
        let jetstream = "[storage]\nengine = \"jetstream\"\nservers = [\"127.0.0.1:4222\"]\n";
        let with = |extra: &str| parse(&format!("{jetstream}{extra}\n"));
        assert_eq!(
            with("peer_listen = \"10.0.0.2:7100\"")
                .unwrap()
                .storage
                .peer_listen
                .as_deref(),
            Some("10.0.0.2:7100")
        );
        for refused in [
            "peer_listen = \"0.0.0.0:7100\"",
            "peer_listen = \"[::]:7100\"",
            "peer_listen = \"primary:7100\"",
            "peer_listen = \"10.0.0.2:7100\"\nreplica = true",
        ] {
            let err = with(refused).unwrap_err().to_string();
            assert!(err.contains("storage.peer_listen"), "{refused}: {err}");
        }
        let local = parse("[storage]\npeer_listen = \"10.0.0.2:7100\"\n").unwrap_err();
        assert!(local.to_string().contains("storage.peer_listen"), "{local}");
    }

    #[test]
    fn unknown_field_is_refused_with_its_name_and_line() {
        let err = parse("listen = \"127.0.0.1:1\"\n[storage]\nsynchronus = \"full\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("synchronus"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn the_pgbench_example_is_valid() {
        let text = include_str!("../../examples/pgbench-4-partitions.toml");
        let c = parse(text).unwrap();
        let m = c.partition_map().unwrap();
        assert_eq!(m.count(), 4);
        assert_eq!(
            m.table("pgbench_history").unwrap().colocate_with.as_deref(),
            Some("pgbench_accounts")
        );
    }

    #[test]
    fn wrong_partition_maps_are_refused_naming_the_field() {
        let bad = |t: &str| parse(t).unwrap_err().to_string();
        assert!(
            bad("[partitions]\ncount = 2\n[tables.t]\nkey = \"id\"\nkye = 1\n").contains("kye")
        );
        let out_of_range = bad("[partitions]\ncount = 2\n[tables.t]\npartition = 5\n");
        assert!(
            out_of_range.contains("tables.t.partition"),
            "{out_of_range}"
        );
        assert!(out_of_range.contains("line 4"), "{out_of_range}");
        let unknown =
            bad("[partitions]\ncount = 2\n\n[tables.t]\nkey = \"a\"\ncolocate_with = \"u\"\n");
        assert!(unknown.contains("line 6"), "{unknown}");
        assert!(
            bad("[partitions]\ncount = 2\n[tables.t]\nkey = \"a\"\ncolocate_with = \"u\"\n")
                .contains("unknown table")
        );
        assert!(
            bad("[partitions]\ncount = 2\n[tables.t]\nkey = \"a\"\nreference = true\n")
                .contains("exactly one")
        );
        assert!(bad("[tables.t]\nkey = \"a\"\n").contains("[partitions]"));
        let overlap = "[partitions]\ncount = 2\n[tables.t]\nkey = \"a\"\nplacement = \"range\"\nranges = [{ partition = 0, to = 10 }, { partition = 1, from = 5 }]\n";
        assert!(bad(overlap).contains("overlap"));
    }

    #[test]
    fn bad_value_is_refused() {
        let err = parse("[storage]\nsynchronous = \"sometimes\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sometimes"), "{err}");
        assert!(parse("[limits]\nstatement_cache = 0\n").is_err());
    }
}
