//! Operations: the Prometheus endpoint, whose numbers move with what clients do.

use crate::harness::{ServerProcess, connect, http_get, sample, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_endpoint_reports_what_clients_do() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_with_metrics(data.path());
    let addr = server.metrics_addr();
    let c = connect(server.addr).await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)")
        .await
        .unwrap();
    for _ in 0..5 {
        c.query("SELECT * FROM t", &[]).await.unwrap();
    }
    let err = c.query("SELECT * FROM missing", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");

    let first = http_get(&addr, "/metrics").await;
    assert!(first.starts_with("HTTP/1.1 200 OK"), "{first}");
    let reads = r#"litescale_queries_total{database="postgres",kind="read"}"#;
    assert!(sample(&first, reads) >= 5.0);
    assert!(sample(&first, r#"litescale_errors_total{sqlstate="42P01"}"#) >= 1.0);
    assert!(sample(&first, "litescale_client_connections") >= 1.0);
    assert!(sample(&first, r#"litescale_storage_bytes{database="postgres"}"#) > 0.0);
    let returned = r#"litescale_usage_rows_returned_total{database="postgres"}"#;
    assert!(sample(&first, returned) >= 15.0);
    assert!(
        first.contains("litescale_query_duration_seconds_bucket"),
        "latency histogram"
    );
    assert!(first.contains(
        r#"litescale_partition_statements_total{database="postgres",partition="0",role="reader"}"#
    ));

    for _ in 0..3 {
        c.query("SELECT * FROM t", &[]).await.unwrap();
    }
    let second = http_get(&addr, "/metrics").await;
    assert_eq!(sample(&second, reads), sample(&first, reads) + 3.0);
    assert_eq!(sample(&second, returned), sample(&first, returned) + 9.0);
    assert!(http_get(&addr, "/other").await.starts_with("HTTP/1.1 404"));
}

fn rows(messages: &[tokio_postgres::SimpleQueryMessage]) -> Vec<Vec<String>> {
    crate::harness::simple_rows(messages)
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
        .collect()
}

/// psql-style commands on the admin console (database `litescale`): the SHOW family,
/// PAUSE/RESUME holding queries, RELOAD and SIGHUP changing the config in force.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_console_shows_controls_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("litescale.toml");
    std::fs::write(&config, "[limits]\nmax_connections = 10\n").unwrap();
    let server = ServerProcess::start_with(&crate::harness::config_args(&data, &config));
    let tenant = connect(server.addr).await;
    tenant
        .batch_execute("CREATE TABLE t (id INT); INSERT INTO t VALUES (1), (2)")
        .await
        .unwrap();
    tenant.simple_query("SELECT * FROM t").await.unwrap();
    let admin = crate::harness::connect_to_database(server.addr, "litescale")
        .await
        .unwrap();
    let show = |what: &'static str| {
        let admin = &admin;
        async move { rows(&admin.simple_query(what).await.unwrap()) }
    };

    // The tenant's session finishes its bookkeeping just after the client has its answer:
    // it shows as active for that moment.
    let mut clients = Vec::new();
    for _ in 0..40 {
        clients = show("SHOW CLIENTS").await;
        if clients.iter().any(|r| r[2] == "postgres" && r[4] == "idle") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        clients.iter().any(|r| r[2] == "postgres" && r[4] == "idle"),
        "{clients:?}"
    );
    let usage = show("SHOW USAGE").await;
    let row = usage
        .iter()
        .find(|r| r[0] == "postgres")
        .expect("postgres in SHOW USAGE");
    assert!(
        row[2].parse::<u64>().unwrap() >= 2,
        "rows returned: {row:?}"
    );
    assert!(row[3].parse::<u64>().unwrap() >= 2, "rows written: {row:?}");
    assert!(row[5].parse::<u64>().unwrap() > 0, "storage bytes: {row:?}");
    let workers = show("SHOW WORKERS").await;
    assert_eq!(workers[0][6], server.child.id().to_string(), "{workers:?}");
    assert!(show("SHOW PARTITIONS").await[0][2].ends_with("0.db"));
    assert_eq!(show("SHOW STATS").await[0][0], "postgres");
    let setting = |config: Vec<Vec<String>>, name: &str| {
        config
            .into_iter()
            .find(|r| r[0] == name)
            .map(|r| r[1].clone())
    };
    assert_eq!(
        setting(show("SHOW CONFIG").await, "limits.max_connections").as_deref(),
        Some("10")
    );

    // PAUSE holds new queries until RESUME.
    admin.simple_query("PAUSE").await.unwrap();
    let held = tokio::spawn(async move {
        tenant
            .simple_query("SELECT count(*) FROM t")
            .await
            .map(|_| tenant)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!held.is_finished(), "a query ran while paused");
    admin.simple_query("RESUME").await.unwrap();
    held.await.unwrap().unwrap();

    // RELOAD applies a valid file and refuses an invalid one, keeping the old config.
    std::fs::write(
        &config,
        "log_level = \"debug\"\n[limits]\nmax_connections = 5\n",
    )
    .unwrap();
    admin.simple_query("RELOAD").await.unwrap();
    assert_eq!(
        setting(show("SHOW CONFIG").await, "log_level").as_deref(),
        Some("debug")
    );
    assert_eq!(
        setting(show("SHOW CONFIG").await, "limits.max_connections").as_deref(),
        Some("5")
    );
    std::fs::write(&config, "[limits]\nmax_conections = 6\n").unwrap();
    let err = admin.simple_query("RELOAD").await.unwrap_err();
    assert_eq!(sqlstate(&err), "F0000");
    assert_eq!(
        setting(show("SHOW CONFIG").await, "limits.max_connections").as_deref(),
        Some("5")
    );
    // SIGHUP does the same.
    std::fs::write(&config, "[limits]\nmax_connections = 6\n").unwrap();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let mut applied = None;
    for _ in 0..50 {
        applied = setting(show("SHOW CONFIG").await, "limits.max_connections");
        if applied.as_deref() == Some("6") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(applied.as_deref(), Some("6"));

    // In process there are no worker processes to promote or add.
    let err = admin.simple_query("PROMOTE 1").await.unwrap_err();
    assert_eq!(sqlstate(&err), "42704");
    let err = admin.simple_query("ADD REPLICA 0").await.unwrap_err();
    assert_eq!(sqlstate(&err), "0A000");
    let err = admin.simple_query("DROP TABLE t").await.unwrap_err();
    assert_eq!(sqlstate(&err), "42601");
}
