//! Lanes: a connection runs on the lane of the core its packets arrive on, and follows
//! its client to another core, with its session (prepared statements, settings, an open
//! transaction) intact.

use crate::harness::{ServerProcess, connect, sample, scrape};

#[test]
fn a_connection_follows_its_client_to_another_core_with_its_session() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_with_metrics(data.path());
    let metrics = server.metrics_addr();
    let cores = core_affinity::get_core_ids().unwrap();
    let addr = server.addr;
    let client_cores = cores.clone();
    // The client runs on a thread of its own, pinned to the first core and then to the
    // second: its packets arrive on that core.
    std::thread::spawn(move || {
        core_affinity::set_for_current(client_cores[0]);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let c = connect(addr).await;
            c.batch_execute(
                "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); SET application_name = 'mover'",
            )
            .await
            .unwrap();
            let insert = c.prepare("INSERT INTO t VALUES ($1, 'x')").await.unwrap();
            let count = c.prepare("SELECT count(*) FROM t").await.unwrap();
            c.batch_execute("BEGIN").await.unwrap();
            for id in 0..300i32 {
                if id == 100
                    && let Some(&other) = client_cores.get(1)
                {
                    core_affinity::set_for_current(other);
                }
                c.execute(&insert, &[&id]).await.unwrap();
                let seen: i64 = c.query_one(&count, &[]).await.unwrap().get(0);
                assert_eq!(seen, i64::from(id) + 1);
            }
            c.batch_execute("COMMIT").await.unwrap();
            let name = c.query_one("SHOW application_name", &[]).await.unwrap();
            assert_eq!(name.get::<_, &str>(0), "mover");
            let seen: i64 = c.query_one(&count, &[]).await.unwrap().get(0);
            assert_eq!(seen, 300);
        });
    })
    .join()
    .expect("the client's thread");
    if cores.len() > 1 {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let moves = sample(
            &runtime.block_on(scrape(&metrics)),
            "litescale_connection_lane_moves_total",
        );
        assert!(moves >= 1.0, "the connection never moved: {moves}");
    }
}
