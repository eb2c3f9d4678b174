//! A client cannot tell an unknown user from a wrong password: both go through the whole
//! SCRAM exchange (a mock one for the unknown user, as in Postgres) and fail at its end
//! with the same error, in about the same time.

use std::time::{Duration, Instant};

use litescale_config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{TestServer, sqlstate};

fn config() -> Config {
    let text = format!(
        r#"
[[users]]
name = "alice"
password = "{alice}"

[[auth]]
user = "md5user"
method = "md5"

[[auth]]
method = "scram-sha-256"
"#,
        alice = litescale_proxy::scram_verifier("alice-pw"),
    );
    Config::from_toml(&text, std::path::Path::new("auth.toml")).unwrap()
}

/// One backend message: type byte and body.
async fn recv(stream: &mut tokio::net::TcpStream) -> (u8, Vec<u8>) {
    let tag = stream.read_u8().await.unwrap();
    let len = stream.read_i32().await.unwrap() as usize;
    let mut body = vec![0; len - 4];
    stream.read_exact(&mut body).await.unwrap();
    (tag, body)
}

async fn send(stream: &mut tokio::net::TcpStream, tag: Option<u8>, body: &[u8]) {
    let mut packet: Vec<u8> = tag.into_iter().collect();
    packet.extend(((body.len() + 4) as i32).to_be_bytes());
    packet.extend_from_slice(body);
    stream.write_all(&packet).await.unwrap();
}

/// Starts up as `user` and answers a SASL request with a client-first message: returns
/// the authentication request's code and body, and the server-first message if any.
async fn first_round(server: &TestServer, user: &str) -> (i32, Vec<u8>, Option<String>) {
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut startup = 196608i32.to_be_bytes().to_vec();
    for s in ["user", user, "database", "postgres", ""] {
        startup.extend_from_slice(s.as_bytes());
        startup.push(0);
    }
    send(&mut stream, None, &startup).await;
    let (tag, body) = recv(&mut stream).await;
    assert_eq!(
        tag, b'R',
        "{user}: an authentication request, not {:?}",
        body
    );
    let code = i32::from_be_bytes(body[..4].try_into().unwrap());
    if code != 10 {
        return (code, body[4..].to_vec(), None);
    }
    let client_first = b"n,,n=,r=abcdefghijklmnop";
    let mut initial = b"SCRAM-SHA-256\0".to_vec();
    initial.extend((client_first.len() as i32).to_be_bytes());
    initial.extend_from_slice(client_first);
    send(&mut stream, Some(b'p'), &initial).await;
    let (tag, reply) = recv(&mut stream).await;
    assert_eq!(
        tag,
        b'R',
        "{user}: SASLContinue, not {:?}",
        String::from_utf8_lossy(&reply)
    );
    assert_eq!(i32::from_be_bytes(reply[..4].try_into().unwrap()), 11);
    (
        code,
        body[4..].to_vec(),
        Some(String::from_utf8(reply[4..].to_vec()).unwrap()),
    )
}

/// The salt of a server-first message `r=...,s=...,i=...`.
fn salt(server_first: &str) -> &str {
    server_first
        .split(',')
        .find_map(|f| f.strip_prefix("s="))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_go_through_the_same_scram_exchange_as_known_ones() {
    let server = TestServer::start_with(config()).await;
    let (code, mechanisms, known) = first_round(&server, "alice").await;
    assert_eq!(code, 10);
    let (unknown_code, unknown_mechanisms, unknown) = first_round(&server, "nobody").await;
    assert_eq!(unknown_code, 10, "an unknown user is asked for SASL too");
    assert_eq!(unknown_mechanisms, mechanisms);
    let (known, unknown) = (known.unwrap(), unknown.unwrap());
    assert!(unknown.contains(",i=4096"), "{unknown}");
    assert_eq!(salt(&known).len(), salt(&unknown).len());
    // The mock salt is the same for the same name, as a real user's is.
    let (_, _, again) = first_round(&server, "nobody").await;
    assert_eq!(salt(&again.unwrap()), salt(&unknown));
    let (_, _, other) = first_round(&server, "nobody-else").await;
    assert_ne!(salt(&other.unwrap()), salt(&unknown));
    // md5: an unknown user is asked for an md5 password too.
    let (code, salt_bytes, _) = first_round(&server, "md5user").await;
    assert_eq!((code, salt_bytes.len()), (5, 4));

    // The whole exchange fails alike, in about the same time.
    let attempt = |user: &'static str, password: &'static str| {
        let conninfo = format!(
            "host=127.0.0.1 port={} user={user} password={password} dbname=postgres",
            server.addr.port()
        );
        async move {
            let started = Instant::now();
            let err = match tokio_postgres::connect(&conninfo, tokio_postgres::NoTls).await {
                Err(e) => e,
                Ok(_) => panic!("{user} was let in"),
            };
            let took = started.elapsed();
            assert_eq!(sqlstate(&err), "28P01", "{user}: {err:?}");
            assert_eq!(
                err.as_db_error().map(|e| e.message().to_owned()),
                Some(format!(
                    "password authentication failed for user \"{user}\""
                ))
            );
            took
        }
    };
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        wrong.push(attempt("alice", "wrong").await);
        unknown.push(attempt("nobody", "wrong").await);
    }
    let (wrong, unknown) = (median(wrong), median(unknown));
    eprintln!("median failure times: wrong password {wrong:?}, unknown user {unknown:?}");
    assert!(
        unknown * 2 > wrong && wrong * 2 > unknown,
        "median failure times: wrong password {wrong:?}, unknown user {unknown:?}"
    );
}
