//! Malformed protocol from one client gets that client an error and, where the stream
//! can no longer be trusted, a closed connection; everyone else is served as before.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{RawClient, TestServer};

/// What the server did after the bad input: the SQLSTATEs of the ErrorResponses it sent
/// before ReadyForQuery or the end of the connection, and whether it closed it.
#[derive(Debug)]
struct Outcome {
    errors: Vec<String>,
    closed: bool,
}

async fn outcome(stream: &mut TcpStream) -> Outcome {
    let mut errors = Vec::new();
    let read = async {
        loop {
            let Ok(tag) = stream.read_u8().await else {
                return true;
            };
            let Ok(len) = stream.read_i32().await else {
                return true;
            };
            let mut body = vec![0; (len as usize).saturating_sub(4)];
            if stream.read_exact(&mut body).await.is_err() {
                return true;
            }
            match tag {
                b'E' => errors.push(
                    body.split(|b| *b == 0)
                        .find_map(|f| f.strip_prefix(b"C"))
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .unwrap_or_default(),
                ),
                b'Z' => return false,
                _ => {}
            }
        }
    };
    let closed = tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the server answered or closed within 20 s");
    Outcome { errors, closed }
}

/// A connection that has completed startup, as raw bytes.
async fn started(server: &TestServer) -> TcpStream {
    let client = RawClient::connect(server.addr).await;
    client.into_stream()
}

async fn still_serving(server: &TestServer) {
    let c = server.client().await;
    let n: i32 = c.query_one("SELECT 41 + 1", &[]).await.unwrap().get(0);
    assert_eq!(n, 42);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_end_only_their_connection() {
    let server = TestServer::start().await;
    let bystander = server.client().await;
    bystander.batch_execute("BEGIN; SELECT 1").await.unwrap();

    // A length prefix announcing ~2 GiB: refused before anything is allocated for it.
    let mut s = started(&server).await;
    s.write_all(&[b'Q', 0x7f, 0xff, 0xff, 0xf0]).await.unwrap();
    let o = outcome(&mut s).await;
    assert!(o.closed, "{o:?}");

    // An unknown message type.
    let mut s = started(&server).await;
    s.write_all(&[b'!', 0, 0, 0, 8, 1, 2, 3, 4]).await.unwrap();
    let o = outcome(&mut s).await;
    assert!(o.closed || !o.errors.is_empty(), "{o:?}");

    // Invalid UTF-8 in a query: an error, and the connection goes on.
    let mut s = started(&server).await;
    let mut body = b"SELECT '\xff\xfe'".to_vec();
    body.push(0);
    let mut packet = vec![b'Q'];
    packet.extend(((body.len() + 4) as i32).to_be_bytes());
    packet.extend(body);
    s.write_all(&packet).await.unwrap();
    let o = outcome(&mut s).await;
    assert!(!o.closed && o.errors == ["22021"], "{o:?}");

    // Execute of a portal that was never bound, then Sync: an error, then ready again.
    let mut s = started(&server).await;
    s.write_all(&[b'E', 0, 0, 0, 10, b'n', b'o', 0, 0, 0, 0, 0])
        .await
        .unwrap();
    s.write_all(&[b'S', 0, 0, 0, 4]).await.unwrap();
    let o = outcome(&mut s).await;
    assert!(!o.closed && !o.errors.is_empty(), "{o:?}");

    // A Parse message with an empty body: found by fuzzing to panic pgwire's decoder.
    // The panic ends this connection only, with a FATAL error.
    let mut s = started(&server).await;
    s.write_all(&[b'P', 0, 0, 0, 4]).await.unwrap();
    let o = outcome(&mut s).await;
    assert!(o.closed && o.errors == ["XX000"], "{o:?}");

    // Random bytes instead of a startup packet.
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let noise: Vec<u8> = (0..512u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let _ = s.write_all(&noise).await;
    assert!(outcome(&mut s).await.closed);

    // A client that disconnects in the middle of a message.
    let mut s = started(&server).await;
    s.write_all(&[b'Q', 0, 0, 0, 100, b'S', b'E', b'L'])
        .await
        .unwrap();
    drop(s);

    tokio::time::sleep(Duration::from_millis(100)).await;
    still_serving(&server).await;
    // The bystander's open transaction is untouched.
    bystander.batch_execute("SELECT 2; COMMIT").await.unwrap();
}
