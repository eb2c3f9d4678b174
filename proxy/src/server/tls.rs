//! TLS for clients that ask for it (or must, with `[tls] required`), with rustls.

use std::sync::Arc;

use litescale_shard::ShardError;
use pgwire::tokio::TlsAcceptor;

/// The rustls acceptor for `[tls]`'s certificate and key.
pub(crate) fn tls_acceptor(tls: &litescale_config::TlsConfig) -> Result<TlsAcceptor, ShardError> {
    use pgwire::tokio::tokio_rustls::rustls;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, path: &std::path::Path, e: &dyn std::fmt::Display| {
        ShardError::new("F0000", format!("tls.{what} {}: {e}", path.display()))
    };
    let cert_pem = std::fs::read(&tls.cert).map_err(|e| bad("cert", &tls.cert, &e))?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("cert", &tls.cert, &e))?;
    let key_pem = std::fs::read(&tls.key).map_err(|e| bad("key", &tls.key, &e))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| bad("key", &tls.key, &e))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("cert", &tls.cert, &e))?;
    // PostgreSQL 17's direct TLS connections name the protocol with ALPN.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
