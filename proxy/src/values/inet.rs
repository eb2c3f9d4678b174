//! Postgres' `inet`: an IPv4 or IPv6 address with a netmask length, in text
//! (`10.1.2.3/8`, the mask omitted when it covers the whole address) and binary forms.
//! Stored in SQLite as the canonical text.

use std::net::IpAddr;

/// Postgres' address families in the binary form (`PGSQL_AF_INET`, `PGSQL_AF_INET6`).
const FAMILY_V4: u8 = 2;
const FAMILY_V6: u8 = 3;

fn full_mask(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// Parses `address[/bits]`.
pub fn parse(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let bits = bits.unwrap_or(full_mask(addr));
    (bits <= full_mask(addr)).then_some((addr, bits))
}

/// The text Postgres prints.
pub fn format((addr, bits): (IpAddr, u8)) -> String {
    if bits == full_mask(addr) {
        addr.to_string()
    } else {
        format!("{addr}/{bits}")
    }
}

/// family, bits, is_cidr (0: inet), address length, address bytes.
pub fn to_binary((addr, bits): (IpAddr, u8)) -> Vec<u8> {
    let (family, bytes) = match addr {
        IpAddr::V4(a) => (FAMILY_V4, a.octets().to_vec()),
        IpAddr::V6(a) => (FAMILY_V6, a.octets().to_vec()),
    };
    let mut out = vec![family, bits, 0, bytes.len() as u8];
    out.extend(bytes);
    out
}

pub fn from_binary(raw: &[u8]) -> Option<(IpAddr, u8)> {
    let [family, bits, _is_cidr, len, rest @ ..] = raw else {
        return None;
    };
    if rest.len() != *len as usize {
        return None;
    }
    let addr = match (*family, rest.len()) {
        (FAMILY_V4, 4) => IpAddr::from(<[u8; 4]>::try_from(rest).ok()?),
        (FAMILY_V6, 16) => IpAddr::from(<[u8; 16]>::try_from(rest).ok()?),
        _ => return None,
    };
    (*bits <= full_mask(addr)).then_some((addr, *bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary_forms_round_trip() {
        for (input, text) in [
            ("10.1.2.3", "10.1.2.3"),
            ("10.1.2.3/32", "10.1.2.3"),
            ("192.168.0.0/16", "192.168.0.0/16"),
            ("::1", "::1"),
            ("2001:db8::/32", "2001:db8::/32"),
        ] {
            let parsed = parse(input).unwrap();
            assert_eq!(format(parsed), text);
            assert_eq!(from_binary(&to_binary(parsed)), Some(parsed));
        }
        assert_eq!(
            to_binary(parse("10.1.2.3/8").unwrap()),
            [2, 8, 0, 4, 10, 1, 2, 3]
        );
        for bad in ["10.1.2", "10.1.2.3/33", "x", "::1/129"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert!(from_binary(&[2, 8, 0, 4, 10, 1]).is_none());
    }
}
