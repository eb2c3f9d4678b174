//! Authentication at startup: the first `[[auth]]` rule matching the client's address,
//! database and user picks the method; SCRAM-SHA-256 checks the client's proof against a
//! stored verifier (pgwire's SCRAM server), md5 against a stored hash; the user's
//! allowed databases are checked before any session starts.

use std::net::IpAddr;

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

/// What the client must still prove, between authentication messages.
pub(crate) enum Pending {
    /// Waiting for SASLInitialResponse.
    ScramFirst(ScramSecret),
    /// Waiting for the client's final SCRAM message.
    ScramFinal(Box<ScramServerAuthWaitingForClientFinal>),
    /// Waiting for the md5 password message that must equal this.
    Md5(String),
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
pub(crate) fn challenge(
    config: &Config,
    method: AuthMethod,
    user: &str,
) -> Result<(pgwire::messages::startup::Authentication, Pending), SqlError> {
    use pgwire::messages::startup::Authentication;
    let secret = config
        .user(user)
        .and_then(|u| u.password.as_deref())
        .and_then(|p| Secret::parse(p).ok());
    match (method, secret) {
        (
            AuthMethod::ScramSha256,
            Some(Secret::Scram {
                iterations,
                salt,
                stored_key,
                server_key,
            }),
        ) => Ok((
            Authentication::SASL(vec!["SCRAM-SHA-256".to_owned()]),
            Pending::ScramFirst(ScramSecret::Verifier {
                salt,
                iterations,
                stored_key,
                server_key,
            }),
        )),
        (AuthMethod::Md5, Some(Secret::Md5(hash))) => {
            let salt: [u8; 4] = random_nonce().as_bytes()[..4]
                .try_into()
                .expect("a nonce is longer than 4 bytes");
            let mut salted = hash.into_bytes();
            salted.extend_from_slice(&salt);
            let expected = format!("md5{:x}", md5::compute(salted));
            Ok((
                Authentication::MD5Password(salt.to_vec()),
                Pending::Md5(expected),
            ))
        }
        // No user, no password, or one stored for the other method: the same answer as a
        // wrong password, so a client learns nothing about which users exist.
        _ => Err(failed(user)),
    }
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
        Pending::ScramFirst(secret) => {
            let initial = message
                .into_sasl_initial_response()
                .map_err(|_| failed(user))?;
            if initial.auth_method != "SCRAM-SHA-256" {
                return Err(failed(user));
            }
            let data = initial.data.ok_or_else(|| failed(user))?;
            let (server_first, waiting) = ScramServerAuth::new()
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
            if password.password == expected {
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
