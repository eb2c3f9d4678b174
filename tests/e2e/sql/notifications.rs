//! LISTEN / NOTIFY between sessions: a notification reaches every session of the database
//! listening on its channel, when the sender's transaction commits (never when it rolls
//! back, nor what a rolled-back savepoint sent), once per distinct payload, while the
//! listener waits idle, and not in another database.

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use crate::harness::{TestServer, conninfo};

/// A client whose notifications arrive on the receiver, as (channel, payload, sender pid).
async fn listening_client(
    server: &TestServer,
    database: &str,
) -> (Client, mpsc::UnboundedReceiver<(String, String, i32)>) {
    let info = conninfo(server.addr).replace("dbname=postgres", &format!("dbname={database}"));
    let (client, mut connection) = tokio_postgres::connect(&info, NoTls).await.unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(n) = message {
                let _ = tx.send((
                    n.channel().to_owned(),
                    n.payload().to_owned(),
                    n.process_id(),
                ));
            }
        }
    });
    (client, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, String, i32)>) -> Option<(String, String)> {
    tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .ok()
        .flatten()
        .map(|(channel, payload, _)| (channel, payload))
}

/// Nothing more arrives within a short while.
async fn quiet(rx: &mut mpsc::UnboundedReceiver<(String, String, i32)>) -> bool {
    tokio::time::timeout(Duration::from_millis(300), rx.recv())
        .await
        .is_err()
}

#[tokio::test]
async fn a_committed_notification_reaches_the_channel_s_listeners_while_they_wait() {
    let server = TestServer::start().await;
    let (listener, mut heard) = listening_client(&server, "postgres").await;
    let (sender, _) = listening_client(&server, "postgres").await;
    listener
        .batch_execute("LISTEN jobs; LISTEN \"Mixed\"")
        .await
        .unwrap();
    let sender_pid: i32 = sender
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);

    // Outside a block: at once, to a listener that is only waiting.
    sender.batch_execute("NOTIFY jobs, 'one'").await.unwrap();
    assert_eq!(next(&mut heard).await, Some(("jobs".into(), "one".into())));

    // In a block: at commit, each distinct payload once; a rolled-back savepoint's and a
    // rolled-back block's never.
    sender
        .batch_execute(
            "BEGIN; NOTIFY jobs, 'two'; NOTIFY jobs, 'two'; NOTIFY other, 'x';
             SAVEPOINT s; NOTIFY jobs, 'undone'; ROLLBACK TO s; NOTIFY \"Mixed\"",
        )
        .await
        .unwrap();
    assert!(quiet(&mut heard).await, "nothing before the commit");
    sender.batch_execute("COMMIT").await.unwrap();
    assert_eq!(next(&mut heard).await, Some(("jobs".into(), "two".into())));
    assert_eq!(
        next(&mut heard).await,
        Some(("Mixed".into(), String::new()))
    );
    assert!(quiet(&mut heard).await, "each distinct notification once");
    sender
        .batch_execute("BEGIN; NOTIFY jobs, 'never'; ROLLBACK")
        .await
        .unwrap();
    assert!(
        quiet(&mut heard).await,
        "a rolled-back NOTIFY is never sent"
    );

    // pg_notify, its arguments bound: the channel as given.
    sender
        .execute("SELECT pg_notify($1, $2)", &[&"jobs", &"bound"])
        .await
        .unwrap();
    assert_eq!(
        next(&mut heard).await,
        Some(("jobs".into(), "bound".into()))
    );

    // The sender's pid comes with it.
    sender.batch_execute("NOTIFY jobs, 'who'").await.unwrap();
    let (tx, mut with_pid) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(n) = heard.recv().await {
            let _ = tx.send(n);
        }
    });
    let (_, payload, pid) = tokio::time::timeout(Duration::from_secs(2), with_pid.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((payload.as_str(), pid), ("who", sender_pid));

    // UNLISTEN: no more.
    listener.batch_execute("UNLISTEN *").await.unwrap();
    sender.batch_execute("NOTIFY jobs, 'after'").await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), with_pid.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_notification_stays_in_its_database_and_waits_for_a_listener_s_block_to_end() {
    let server = TestServer::start().await;
    let admin = server.client().await;
    admin.batch_execute("CREATE DATABASE other").await.unwrap();
    let (here, mut heard_here) = listening_client(&server, "postgres").await;
    let (there, mut heard_there) = listening_client(&server, "other").await;
    here.batch_execute("LISTEN jobs").await.unwrap();
    there.batch_execute("LISTEN jobs").await.unwrap();
    admin.batch_execute("NOTIFY jobs, 'local'").await.unwrap();
    assert_eq!(
        next(&mut heard_here).await,
        Some(("jobs".into(), "local".into()))
    );
    assert!(
        quiet(&mut heard_there).await,
        "another database hears nothing"
    );

    // A listener inside a block hears it when its block ends.
    here.batch_execute("BEGIN; SELECT 1").await.unwrap();
    admin.batch_execute("NOTIFY jobs, 'later'").await.unwrap();
    assert!(
        quiet(&mut heard_here).await,
        "not inside the listener's block"
    );
    here.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        next(&mut heard_here).await,
        Some(("jobs".into(), "later".into()))
    );

    let e = admin
        .batch_execute(&format!("NOTIFY jobs, '{}'", "x".repeat(8000)))
        .await
        .unwrap_err();
    assert_eq!(crate::harness::sqlstate(&e), "22023");
}
