//! Authentication at startup: the first `[[auth]]` rule matching the client's address,
//! database and user picks the method; SCRAM-SHA-256 checks the client's proof against a
//! stored verifier (pgwire's SCRAM server), with channel binding (SCRAM-SHA-256-PLUS,
//! tls-server-end-point) over TLS; md5 against a stored hash. A user without a usable
//! secret goes through the same exchange against a mock one, as in Postgres, so a client
//! cannot tell unknown users from wrong passwords. The user's allowed databases are
//! checked before any session starts.

use std::net::IpAddr;
use std::sync::LazyLock;

use litescale_config::{AuthMethod, Config, Secret};
use pgwire::api::auth::sasl::scram::{
    ScramSecret, ScramServerAuth, ScramServerAuthWaitingForClientFinal, gen_salted_password,
    random_nonce,
};

use crate::error::SqlError;

/// PostgreSQL's default iteration count for SCRAM-SHA-256.
const SCRAM_ITERATIONS: usize = 4096;

/// A SCRAM-SHA-256 verifier for `password`, in the form the config's `password` takes.
pub fn scram_verifier(password: &str) -> String {
    let salt = random_nonce().into_bytes();
    let salted = gen_salted_password(password, &salt, SCRAM_ITERATIONS);
    match ScramSecret::verifier_from_salted_password(salt, salted, SCRAM_ITERATIONS) {
        ScramSecret::Verifier {
            salt,
            iterations,
            stored_key,
            server_key,
        } => Secret::scram_text(iterations, &salt, &stored_key, &server_key),
        ScramSecret::SaltedPassword { .. } => unreachable!("a verifier was asked for"),
    }
}

const SCRAM: &str = "SCRAM-SHA-256";
const SCRAM_PLUS: &str = "SCRAM-SHA-256-PLUS";

/// Server-lifetime secret from which mock salts are derived.
static MOCK_NONCE: LazyLock<String> = LazyLock::new(random_nonce);

/// The SCRAM secret a user without one is challenged with: the same salt for the same
/// name every time (as a real user's salt is), keys nobody can match.
fn mock_scram_secret(user: &str) -> ScramSecret {
    // As long as the salts `scram_verifier` makes (a 24-character nonce's bytes).
    let digest = |part: u8| md5::compute(format!("{}{part}{user}", *MOCK_NONCE)).0;
    let mut salt = digest(0).to_vec();
    salt.extend_from_slice(&digest(1)[..8]);
    let random_key = || md5::compute(random_nonce()).0.to_vec();
    ScramSecret::Verifier {
        salt,
        iterations: SCRAM_ITERATIONS,
        stored_key: random_key(),
        server_key: random_key(),
    }
}

/// The SCRAM server for TLS connections: bound to the certificate (tls-server-end-point),
/// so SCRAM-SHA-256-PLUS can be offered. `None`, with a warning, for a certificate whose
/// signature algorithm has no end-point hash (Ed25519): those connections get plain SCRAM.
pub(crate) fn scram_with_channel_binding(cert_pem: &[u8]) -> Option<ScramServerAuth> {
    let mut server = ScramServerAuth::new();
    match server.configure_certificate(cert_pem) {
        Ok(()) => Some(server),
        Err(e) => {
            tracing::warn!(error = %e, "SCRAM channel binding is off: the TLS certificate does not allow tls-server-end-point");
            None
        }
    }
}

/// What the client must still prove, between authentication messages.
pub(crate) enum Pending {
    /// Waiting for SASLInitialResponse: the secret, and the SCRAM server (with the TLS
    /// certificate's signature when channel binding is offered).
    ScramFirst(ScramSecret, ScramServerAuth),
    /// Waiting for the client's final SCRAM message.
    ScramFinal(Box<ScramServerAuthWaitingForClientFinal>),
    /// Waiting for the md5 password message that must equal this (`None`: a user without
    /// an md5 password, whom no answer lets in).
    Md5(Option<String>),
}

/// How a user in a database from an address must authenticate, or why not at all.
pub(crate) fn method_for(
    config: &Config,
    ip: IpAddr,
    database: &str,
    user: &str,
) -> Result<AuthMethod, SqlError> {
    let rules = config.auth_rules();
    let rule = rules.iter().find(|r| r.matches(ip, database, user));
    match rule.map(|r| r.method) {
        Some(AuthMethod::Reject) | None => Err(SqlError::new(
            "28000",
            format!(
                "no authentication rule allows host \"{ip}\", user \"{user}\", database \"{database}\""
            ),
        )),
        Some(method) => Ok(method),
    }
}

fn failed(user: &str) -> SqlError {
    SqlError::new(
        "28P01",
        format!("password authentication failed for user \"{user}\""),
    )
}

/// The first step of a password method: what to ask the client for, and what to expect.
/// `channel_binding` is the SCRAM server bound to the TLS certificate, on a TLS
/// connection whose certificate allows it.
pub(crate) fn challenge(
    config: &Config,
    method: AuthMethod,
    user: &str,
    channel_binding: Option<&ScramServerAuth>,
) -> (pgwire::messages::startup::Authentication, Pending) {
    use pgwire::messages::startup::Authentication;
    let secret = config
        .user(user)
        .and_then(|u| u.password.as_deref())
        .and_then(|p| Secret::parse(p).ok());
    let scram = |secret: ScramSecret| {
        let mut mechanisms = vec![SCRAM.to_owned()];
        if channel_binding.is_some() {
            // Postgres offers the -PLUS mechanism first.
            mechanisms.insert(0, SCRAM_PLUS.to_owned());
        }
        let server = channel_binding.cloned().unwrap_or_default();
        (
            Authentication::SASL(mechanisms),
            Pending::ScramFirst(secret, server),
        )
    };
    match (method, secret) {
        (AuthMethod::Md5, Some(Secret::Md5(hash))) => {
            let (salt, salted_hash) = md5_salted(hash);
            (
                Authentication::MD5Password(salt.to_vec()),
                Pending::Md5(Some(salted_hash)),
            )
        }
        // Postgres, too, answers md5 with SCRAM for a user whose password is a verifier.
        (
            AuthMethod::ScramSha256 | AuthMethod::Md5,
            Some(Secret::Scram {
                iterations,
                salt,
                stored_key,
                server_key,
            }),
        ) => scram(ScramSecret::Verifier {
            salt,
            iterations,
            stored_key,
            server_key,
        }),
        // No user or no password: the method's whole exchange, failing at its end like a
        // wrong password, so a client learns nothing about which users exist.
        (AuthMethod::Md5, _) => {
            let (salt, _) = md5_salted(String::new());
            (
                Authentication::MD5Password(salt.to_vec()),
                Pending::Md5(None),
            )
        }
        _ => scram(mock_scram_secret(user)),
    }
}

/// A fresh salt, and what the client must answer for the stored md5 hash with it.
fn md5_salted(hash: String) -> ([u8; 4], String) {
    let salt: [u8; 4] = random_nonce().as_bytes()[..4]
        .try_into()
        .expect("a nonce is longer than 4 bytes");
    let mut salted = hash.into_bytes();
    salted.extend_from_slice(&salt);
    (salt, format!("md5{:x}", md5::compute(salted)))
}

/// What follows a client's authentication message.
pub(crate) enum Step {
    /// Send these bytes in AuthenticationSASLContinue and wait for the next message.
    Continue(Vec<u8>, Pending),
    /// The client proved who it is; SCRAM's last word goes in AuthenticationSASLFinal.
    Done(Option<Vec<u8>>),
}

pub(crate) fn respond(
    pending: Pending,
    user: &str,
    message: pgwire::messages::startup::PasswordMessageFamily,
) -> Result<Step, SqlError> {
    match pending {
        Pending::ScramFirst(secret, server) => {
            let initial = message
                .into_sasl_initial_response()
                .map_err(|_| failed(user))?;
            let data = initial.data.ok_or_else(|| failed(user))?;
            // The -PLUS mechanism is the one that binds the channel (`p=` in the GS2
            // header), and only where it was offered.
            let binds = data.starts_with(b"p=");
            let offered_plus = server.supports_channel_binding();
            match initial.auth_method.as_str() {
                SCRAM if !binds => {}
                SCRAM_PLUS if binds && offered_plus => {}
                _ => return Err(failed(user)),
            }
            let (server_first, waiting) = server
                .on_client_first_message_with_secret(&data, secret)
                .map_err(|_| failed(user))?;
            Ok(Step::Continue(
                server_first.into_bytes(),
                Pending::ScramFinal(Box::new(waiting)),
            ))
        }
        Pending::ScramFinal(waiting) => {
            let response = message.into_sasl_response().map_err(|_| failed(user))?;
            let server_final = waiting
                .on_client_final_message(&response.data)
                .map_err(|_| failed(user))?;
            Ok(Step::Done(Some(server_final.into_bytes())))
        }
        Pending::Md5(expected) => {
            let password = message.into_password().map_err(|_| failed(user))?;
            if expected.is_some_and(|e| password.password == e) {
                Ok(Step::Done(None))
            } else {
                Err(failed(user))
            }
        }
    }
}

/// May `user` use `database`? Users not in the config exist only where no users are
/// configured (the embedded default).
pub(crate) fn authorize(config: &Config, user: &str, database: &str) -> Result<(), SqlError> {
    if config.users.is_empty() {
        return Ok(());
    }
    let Some(u) = config.user(user) else {
        return Err(SqlError::new(
            "28000",
            format!("role \"{user}\" does not exist"),
        ));
    };
    if !u.databases.is_empty() && !u.databases.iter().any(|d| d == database) {
        return Err(SqlError::new(
            "42501",
            format!("permission denied for database \"{database}\""),
        ));
    }
    Ok(())
}

/// May `user` create and drop databases?
pub(crate) fn may_create_databases(config: &Config, user: &str) -> bool {
    config.users.is_empty() || config.user(user).is_some_and(|u| u.create_databases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_round_trips_through_the_config_format() {
        let text = scram_verifier("secret");
        assert!(text.starts_with("SCRAM-SHA-256$4096:"), "{text}");
        assert!(matches!(
            Secret::parse(&text),
            Ok(Secret::Scram {
                iterations: 4096,
                ..
            })
        ));
        assert_ne!(text, scram_verifier("secret"), "salted afresh each time");
    }
}
