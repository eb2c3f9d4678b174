//! TLS with rustls: psql with sslmode=require and verify-full (against a CA made here),
//! and a client without TLS refused where TLS is required.

use std::path::Path;
use std::process::Command;

use litescale_config::{Config, TlsConfig};

use crate::harness::TestServer;

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl must be installed");
    assert!(status.success(), "openssl {args:?}");
}

/// A self-signed CA: `<name>.key` and `<name>.pem`.
fn make_ca(dir: &Path, name: &str, subject: &str) {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &pem,
            "-days", "1", "-subj", subject,
        ],
    );
}

/// A CA, a certificate for localhost / 127.0.0.1 signed by it, and another CA that did
/// not sign it.
fn make_certificates(dir: &Path) {
    make_ca(dir, "ca", "/CN=litescale test CA");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
    make_ca(dir, "other", "/CN=someone else");
}

fn psql(server: &TestServer, options: &str) -> (bool, String) {
    let conninfo = format!(
        "host=localhost hostaddr=127.0.0.1 port={} user=postgres dbname=postgres {options}",
        server.addr.port()
    );
    let out = Command::new("psql")
        .args([
            conninfo.as_str(),
            "-X",
            "-c",
            "\\conninfo",
            "-c",
            "SELECT 41 + 1",
        ])
        .output()
        .expect("psql");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_connects_over_tls_and_plain_clients_are_refused_where_it_is_required() {
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    let tls = |required| TlsConfig {
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server.key"),
        required,
    };
    let server = TestServer::start_with(Config {
        tls: Some(tls(true)),
        ..Config::default()
    })
    .await;
    let (ok, text) = psql(&server, "sslmode=require");
    assert!(
        ok && text.contains("SSL connection") && text.contains("42"),
        "{text}"
    );
    let ca = dir.path().join("ca.pem");
    let (ok, text) = psql(
        &server,
        &format!("sslmode=verify-full sslrootcert={}", ca.display()),
    );
    assert!(ok && text.contains("SSL connection"), "{text}");
    let other = dir.path().join("other.pem");
    let (ok, text) = psql(
        &server,
        &format!("sslmode=verify-full sslrootcert={}", other.display()),
    );
    assert!(!ok && text.contains("certificate verify failed"), "{text}");
    let (ok, text) = psql(&server, "sslmode=disable");
    assert!(!ok && text.contains("TLS is required"), "{text}");

    // Optional TLS: both kinds of client get in.
    let optional = TestServer::start_with(Config {
        tls: Some(tls(false)),
        ..Config::default()
    })
    .await;
    let (ok, text) = psql(&optional, "sslmode=require");
    assert!(ok && text.contains("SSL connection"), "{text}");
    let (ok, text) = psql(&optional, "sslmode=disable");
    assert!(ok && !text.contains("SSL connection"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_binds_the_channel_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    let text = format!(
        r#"
[[users]]
name = "alice"
password = "{alice}"

[[auth]]
method = "scram-sha-256"

[tls]
cert = "{cert}"
key = "{key}"
"#,
        alice = litescale_proxy::scram_verifier("alice-pw"),
        cert = dir.path().join("server.pem").display(),
        key = dir.path().join("server.key").display(),
    );
    let config = Config::from_toml(&text, Path::new("tls.toml")).unwrap();
    let server = TestServer::start_with(config).await;
    let alice = "user=alice password=alice-pw";
    // SCRAM-SHA-256-PLUS, bound to the server's certificate.
    let (ok, text) = psql(
        &server,
        &format!("{alice} sslmode=require channel_binding=require"),
    );
    assert!(
        ok && text.contains("SSL connection") && text.contains("42"),
        "{text}"
    );
    // The binding still checks the password.
    let (ok, text) = psql(
        &server,
        "user=alice password=wrong sslmode=require channel_binding=require",
    );
    assert!(
        !ok && text.contains("password authentication failed"),
        "{text}"
    );
    // Without channel binding over TLS, and plain SCRAM without TLS, as before.
    let (ok, text) = psql(
        &server,
        &format!("{alice} sslmode=require channel_binding=disable"),
    );
    assert!(ok && text.contains("SSL connection"), "{text}");
    let (ok, text) = psql(&server, &format!("{alice} sslmode=disable"));
    assert!(ok && !text.contains("SSL connection"), "{text}");
}
