//! `litescale`: SQLite with its compute separated from its storage, behind a
//! Postgres-compatible front door. With no arguments it serves the embedded default:
//! 127.0.0.1:5480, data in ./litescale-data, one partition, trust auth on loopback.

mod memory;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use litescale_config::Config;
use litescale_shard::worker::StartAs;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "litescale", version, about, long_about = None)]
struct Args {
    /// TOML configuration file. Flags given on the command line win over it.
    #[arg(long, global = true, value_name = "FILE", env = "LITESCALE_CONFIG")]
    config: Option<PathBuf>,

    /// Address for Postgres clients [default: 127.0.0.1:5480].
    #[arg(long, value_name = "HOST:PORT", env = "LITESCALE_LISTEN")]
    listen: Option<SocketAddr>,

    /// Storage directory, created on first start [default: ./litescale-data].
    #[arg(long, global = true, value_name = "DIR", env = "LITESCALE_DATA")]
    data: Option<PathBuf>,

    /// Address for Prometheus metrics (`GET /metrics`) [default: none].
    #[arg(long, value_name = "HOST:PORT", env = "LITESCALE_METRICS")]
    metrics: Option<SocketAddr>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reads a password on stdin and prints its SCRAM-SHA-256 verifier, for a user's
    /// `password` in the config (the password itself never needs to be stored).
    Verifier,
    /// Writes a database to a new plain SQLite file (all partitions' rows in one file).
    Export {
        #[arg(long)]
        database: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Creates a database from a SQLite file, placing rows by the config's partition map.
    Import {
        #[arg(long)]
        database: String,
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// Makes a new database of another's commits up to a time or log position, from the
    /// storage engine's logs (`[storage] engine = "jetstream"`).
    Restore {
        #[arg(long)]
        database: String,
        /// An RFC 3339 time (`2026-12-04T21:30:00Z`) or a log position (a number).
        #[arg(long, value_name = "TIME|POSITION")]
        at: litescale_shard::RestorePoint,
        /// The new database's name.
        #[arg(long)]
        into: String,
    },
    /// Serves one partition of a database as its primary or a read replica, for a proxy
    /// (normally started by the proxy itself with `[workers] mode = "processes"`).
    Worker {
        #[arg(long, default_value = litescale_config::DEFAULT_DATABASE)]
        database: String,
        #[arg(long, default_value_t = 0)]
        partition: usize,
        #[arg(long, value_enum, default_value = "replica")]
        role: WorkerRole,
        /// Address for the proxy's links; port 0 picks one (printed on stdout).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Exit when stdin closes: the proxy that started this worker is gone.
        #[arg(long)]
        supervised: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum WorkerRole {
    Primary,
    Replica,
    /// The primary if the partition has no live one, else a replica.
    Auto,
}

/// `litescale restore`: a new database from another's logs, up to a point.
fn restore(
    config: &Config,
    database: &str,
    at: litescale_shard::RestorePoint,
    into: &str,
) -> ExitCode {
    match litescale_shard::restore(config, database, at, into) {
        Ok(partitions) => {
            for (i, p) in partitions.iter().enumerate() {
                let base = p.snapshot.map_or("the log's start".to_owned(), |s| {
                    format!("its snapshot through log position {s}")
                });
                println!(
                    "restored \"{database}\" partition {i} into \"{into}\" from {base} and {} commits of the log after it",
                    p.commits
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("litescale restore: {}", e.message);
            ExitCode::FAILURE
        }
    }
}

/// `litescale worker`: serves until killed.
fn worker(config: &Config, command: &Command) -> ExitCode {
    let Command::Worker {
        database,
        partition,
        role,
        listen,
        supervised,
    } = command
    else {
        return ExitCode::FAILURE;
    };
    let listener = match std::net::TcpListener::bind(listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("litescale worker: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let spec = litescale_shard::worker::WorkerSpec {
        database: database.clone(),
        partition: *partition,
        start_as: match role {
            WorkerRole::Primary => StartAs::Primary,
            WorkerRole::Replica => StartAs::Replica,
            WorkerRole::Auto => StartAs::Auto,
        },
    };
    let types = litescale_proxy::type_catalog();
    match litescale_shard::worker::run(config, types, spec, listener, *supervised) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("litescale worker: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Export or import with a progress bar on stderr.
fn portable(config: &Config, command: &Command) -> ExitCode {
    let map = match config.partition_map() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("litescale: {e}");
            return ExitCode::from(2);
        }
    };
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{wide_bar} {pos}/{len} rows ({eta})")
            .expect("a valid template"),
    );
    let mut progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let root = &config.data_dir;
    let (verb, result) = match command {
        Command::Export { database, out } => (
            "exported",
            litescale_shard::portable::export(root, database, &map, out, &mut progress),
        ),
        Command::Import { database, from } => (
            "imported",
            litescale_shard::portable::import(root, database, &map, from, &mut progress),
        ),
        Command::Verifier | Command::Worker { .. } | Command::Restore { .. } => {
            unreachable!("handled before")
        }
    };
    bar.finish_and_clear();
    match result {
        Ok(rows) => {
            eprintln!("litescale: {verb} {rows} rows");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("litescale: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_verifier() -> ExitCode {
    let mut password = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut password) {
        eprintln!("litescale: cannot read the password: {e}");
        return ExitCode::from(2);
    }
    let password = password.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("litescale: an empty password cannot be used");
        return ExitCode::from(2);
    }
    println!("{}", litescale_proxy::scram_verifier(password));
    ExitCode::SUCCESS
}

fn load(args: &Args) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(data) = &args.data {
        config.data_dir = data.clone();
    }
    if let Some(metrics) = args.metrics {
        config.metrics_listen = Some(metrics);
    }
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::Verifier) = args.command {
        return print_verifier();
    }
    let config = match load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("litescale: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    if let Some(command @ Command::Worker { .. }) = &args.command {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
        memory::return_freed_memory();
        return worker(&config, command);
    }
    if let Some(Command::Restore { database, at, into }) = &args.command {
        return restore(&config, database, *at, into);
    }
    if let Some(command) = &args.command {
        return portable(&config, command);
    }
    // Logs go to stderr: stdout carries only the "listening on" line scripts wait for. The
    // filter sits behind a reload layer so RELOAD and SIGHUP can change the level.
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let (filter, filter_handle) = tracing_subscriber::reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();

    let server = match litescale_proxy::Server::open(config.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "litescale: cannot open storage {}: {e}",
                config.data_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    memory::return_freed_memory();
    if let Some(path) = &args.config {
        server.set_config_file(path.clone());
    }
    server.set_log_level_hook(Box::new(move |level| {
        let filter = EnvFilter::try_new(level).map_err(|e| e.to_string())?;
        filter_handle.reload(filter).map_err(|e| e.to_string())
    }));
    // SIGHUP re-reads the config file, as RELOAD on the admin console does.
    let reloading = std::sync::Arc::clone(&server);
    tokio::spawn(async move {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hangups.recv().await.is_some() {
            match reloading.reload() {
                Ok(restart) if restart.is_empty() => {
                    tracing::info!("SIGHUP: configuration reloaded")
                }
                Ok(restart) => tracing::warn!(
                    ?restart,
                    "SIGHUP: configuration reloaded; some changes need a restart"
                ),
                Err(e) => {
                    tracing::error!(error = %e, "SIGHUP: reload refused, the old configuration stays")
                }
            }
        }
    });
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("litescale: cannot listen on {}: {e}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().map_or(config.listen, |a| a);
    tracing::info!(%addr, data = %config.data_dir.display(), "litescale ready");
    // Tests and scripts wait for this line to know the port (it matters with port 0).
    println!("litescale listening on {addr}");
    if let Some(metrics) = config.metrics_listen {
        match tokio::net::TcpListener::bind(metrics).await {
            Ok(l) => {
                let at = l.local_addr().map_or(metrics, |a| a);
                eprintln!("litescale: metrics on http://{at}/metrics");
                tokio::spawn(litescale_proxy::serve_metrics(
                    std::sync::Arc::clone(&server),
                    l,
                ));
            }
            Err(e) => {
                eprintln!("litescale: cannot serve metrics on {metrics}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Err(e) = litescale_proxy::serve(server, listener, shutdown_signal()).await {
        eprintln!("litescale: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
