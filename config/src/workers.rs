//! `[workers]`: where each partition's SQLite work runs.

use std::path::PathBuf;

use serde::Deserialize;

use crate::FieldError;

/// Where the SQLite workers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerMode {
    /// Inside the proxy's process: the embedded default, nothing to start.
    #[default]
    InProcess,
    /// One `litescale worker` process per role per partition, started and supervised by
    /// the proxy, reached over TCP.
    Processes,
    /// Workers started elsewhere (containers, `litescale worker --role auto`), listed in
    /// `[[workers.external]]`; the proxy health-checks them and promotes a replica when
    /// the primary stops answering.
    External,
}

/// `[[workers.external]]`: one worker started outside litescale.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalWorker {
    #[serde(default = "default_database")]
    pub database: String,
    #[serde(default)]
    pub partition: usize,
    /// `host:port`, resolved at each connection.
    pub address: String,
}

fn default_database() -> String {
    crate::DEFAULT_DATABASE.to_owned()
}

/// How reads pick a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Balance {
    #[default]
    RoundRobin,
    /// The replica with the fewest reads in flight.
    LeastOutstanding,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkersConfig {
    pub mode: WorkerMode,
    /// Read replicas per partition (`processes` mode), besides its primary.
    pub replicas: usize,
    pub balance: Balance,
    /// Whether the primary takes reads too. It always does when no replica is healthy.
    pub primary_reads: bool,
    /// How often each worker is pinged; a worker that misses a ping leaves the rotation.
    pub health_check_ms: u64,
    /// Scale to zero: a partition whose workers served nothing for this long has them
    /// stopped; the next query starts them again. 0 keeps them running.
    pub idle_stop_ms: u64,
    /// The `litescale` executable workers are started from; absent: this one.
    pub program: Option<PathBuf>,
    /// Workers started elsewhere (`mode = "external"`).
    pub external: Vec<ExternalWorker>,
}

impl Default for WorkersConfig {
    fn default() -> Self {
        WorkersConfig {
            mode: WorkerMode::InProcess,
            replicas: 1,
            balance: Balance::RoundRobin,
            primary_reads: false,
            health_check_ms: 100,
            idle_stop_ms: 0,
            program: None,
            external: Vec::new(),
        }
    }
}

impl WorkersConfig {
    pub(crate) fn check(&self) -> Result<(), FieldError> {
        if self.health_check_ms == 0 {
            return Err(FieldError::new(
                "workers.health_check_ms",
                "must be at least 1",
            ));
        }
        if self.replicas > 64 {
            return Err(FieldError::new("workers.replicas", "must be at most 64"));
        }
        match (self.mode, self.external.is_empty()) {
            (WorkerMode::External, true) => Err(FieldError::new(
                "workers.external",
                "mode = \"external\" needs at least one [[workers.external]] address",
            )),
            (WorkerMode::External, false) | (_, true) => Ok(()),
            (_, false) => Err(FieldError::new(
                "workers.external",
                "is read only with mode = \"external\"",
            )),
        }?;
        Ok(())
    }
}
