//! Who may connect: users, whose passwords are kept only as SCRAM-SHA-256 verifiers (as
//! `litescale verifier` prints them) or md5 hashes, and pg_hba-style rules that choose
//! the method by client address, database and user; the first rule that matches wins.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// `[[users]]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64), or
    /// `md5<md5 of password + user name>`; absent for a user that only trust admits.
    #[serde(default)]
    pub password: Option<String>,
    /// Databases the user may connect to; empty means every database.
    #[serde(default)]
    pub databases: Vec<String>,
    /// May run CREATE DATABASE and DROP DATABASE.
    #[serde(default)]
    pub create_databases: bool,
    /// May use the admin console (database `litescale`).
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
    Md5,
    Trust,
    Reject,
}

/// `[[auth]]`: like a pg_hba.conf line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthRule {
    /// `all`, an address (`10.0.0.5`) or a network (`10.0.0.0/8`, `::1/128`).
    #[serde(default = "all")]
    pub address: String,
    /// `all` or a database name.
    #[serde(default = "all")]
    pub database: String,
    /// `all` or a user name.
    #[serde(default = "all")]
    pub user: String,
    pub method: AuthMethod,
}

fn all() -> String {
    "all".to_owned()
}

/// A stored password, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    Scram {
        iterations: usize,
        salt: Vec<u8>,
        stored_key: Vec<u8>,
        server_key: Vec<u8>,
    },
    /// The 32 hex digits after `md5`.
    Md5(String),
}

impl Secret {
    pub fn parse(text: &str) -> Result<Secret, String> {
        if let Some(hex) = text.strip_prefix("md5") {
            return if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(Secret::Md5(hex.to_ascii_lowercase()))
            } else {
                Err("an md5 password is md5 followed by 32 hex digits".into())
            };
        }
        let bad = || {
            "expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (see `litescale verifier`) or md5<hash>".to_owned()
        };
        let rest = text.strip_prefix("SCRAM-SHA-256$").ok_or_else(bad)?;
        let (params, keys) = rest.split_once('$').ok_or_else(bad)?;
        let (iterations, salt) = params.split_once(':').ok_or_else(bad)?;
        let (stored, server) = keys.split_once(':').ok_or_else(bad)?;
        let decode = |s: &str| STANDARD.decode(s).map_err(|_| bad());
        Ok(Secret::Scram {
            iterations: iterations.parse().map_err(|_| bad())?,
            salt: decode(salt)?,
            stored_key: decode(stored)?,
            server_key: decode(server)?,
        })
    }

    /// The text form of a SCRAM verifier, as Postgres stores it.
    pub fn scram_text(
        iterations: usize,
        salt: &[u8],
        stored_key: &[u8],
        server_key: &[u8],
    ) -> String {
        format!(
            "SCRAM-SHA-256${iterations}:{}${}:{}",
            STANDARD.encode(salt),
            STANDARD.encode(stored_key),
            STANDARD.encode(server_key)
        )
    }
}

fn parse_network(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match text.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let full = if addr.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(full);
    (bits <= full).then_some((addr, bits))
}

fn in_network(ip: IpAddr, (network, bits): (IpAddr, u8)) -> bool {
    // An IPv4 client may arrive as an IPv4-mapped IPv6 address.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl AuthRule {
    pub fn check(&self) -> Result<(), String> {
        if self.address != "all" && parse_network(&self.address).is_none() {
            return Err(format!("bad address \"{}\"", self.address));
        }
        Ok(())
    }

    pub fn matches(&self, ip: IpAddr, database: &str, user: &str) -> bool {
        (self.address == "all" || parse_network(&self.address).is_some_and(|n| in_network(ip, n)))
            && (self.database == "all" || self.database == database)
            && (self.user == "all" || self.user == user)
    }
}

/// The rules when the config has none: trust on this machine, SCRAM from anywhere else.
pub fn default_rules() -> Vec<AuthRule> {
    let rule = |address: &str, method| AuthRule {
        address: address.to_owned(),
        database: all(),
        user: all(),
        method,
    };
    vec![
        rule("127.0.0.0/8", AuthMethod::Trust),
        rule("::1/128", AuthMethod::Trust),
        rule("all", AuthMethod::ScramSha256),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_addresses_databases_and_users() {
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let remote: IpAddr = "10.1.2.3".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        let rules = default_rules();
        let first = |ip| {
            rules
                .iter()
                .find(|r| r.matches(ip, "db", "u"))
                .unwrap()
                .method
        };
        assert_eq!(first(local), AuthMethod::Trust);
        assert_eq!(first(remote), AuthMethod::ScramSha256);
        let net = AuthRule {
            address: "10.0.0.0/8".into(),
            database: "app".into(),
            user: all(),
            method: AuthMethod::Md5,
        };
        assert!(net.matches(remote, "app", "u") && net.matches(mapped, "app", "u"));
        assert!(!net.matches(remote, "other", "u") && !net.matches(local, "app", "u"));
        assert!(
            AuthRule {
                address: "10.0.0.0/33".into(),
                ..net.clone()
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn secrets_parse() {
        let text = Secret::scram_text(4096, b"salt", &[1; 32], &[2; 32]);
        assert_eq!(
            Secret::parse(&text).unwrap(),
            Secret::Scram {
                iterations: 4096,
                salt: b"salt".to_vec(),
                stored_key: vec![1; 32],
                server_key: vec![2; 32]
            }
        );
        assert!(matches!(
            Secret::parse("md5d41d8cd98f00b204e9800998ecf8427e"),
            Ok(Secret::Md5(_))
        ));
        assert!(
            Secret::parse("hunter2").is_err(),
            "a plain password is refused"
        );
    }
}
