//! Hashes and binary encodings: md5 (hex text), sha224/256/384/512 (bytea), and
//! encode/decode between bytea and text as `base64`, `hex` or `escape`, in Postgres' forms
//! (base64 lines of 76 characters; escape with octal for NUL and high bytes).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::Digest;
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use super::super::args::{bytes, text};
use super::super::typecheck::postgres_error;

fn encode(data: &[u8], format: &str) -> rusqlite::Result<String> {
    Ok(match format.to_ascii_lowercase().as_str() {
        "hex" => hex::encode(data),
        "base64" => {
            let flat = STANDARD.encode(data);
            let lines: Vec<&str> = flat
                .as_bytes()
                .chunks(76)
                .map(|l| std::str::from_utf8(l).unwrap_or_default())
                .collect();
            lines.join("\n")
        }
        "escape" => {
            let mut out = String::with_capacity(data.len());
            for &b in data {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    0 | 0x80..=0xff => out.push_str(&format!("\\{b:03o}")),
                    _ => out.push(b as char),
                }
            }
            out
        }
        other => return Err(unrecognized(other)),
    })
}

pub(super) fn decode(data: &str, format: &str) -> rusqlite::Result<Vec<u8>> {
    let invalid = |message: &str| postgres_error("22023", message);
    match format.to_ascii_lowercase().as_str() {
        "hex" => {
            let digits: String = data.chars().filter(|c| !c.is_whitespace()).collect();
            if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
                return Err(invalid(&format!("invalid hexadecimal digit: \"{bad}\"")));
            }
            hex::decode(&digits)
                .map_err(|_| invalid("invalid hexadecimal data: odd number of digits"))
        }
        "base64" => {
            let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
            STANDARD
                .decode(compact)
                .map_err(|_| invalid("invalid base64 end sequence"))
        }
        "escape" => {
            let raw = data.as_bytes();
            let mut out = Vec::with_capacity(raw.len());
            let mut i = 0;
            while i < raw.len() {
                if raw[i] != b'\\' {
                    out.push(raw[i]);
                    i += 1;
                } else if raw.get(i + 1) == Some(&b'\\') {
                    out.push(b'\\');
                    i += 2;
                } else if let Some(octal) = raw
                    .get(i + 1..i + 4)
                    .filter(|d| d[0] <= b'3' && d.iter().all(|c| (b'0'..=b'7').contains(c)))
                {
                    out.push(octal.iter().fold(0u8, |n, d| n * 8 + (d - b'0')));
                    i += 4;
                } else {
                    return Err(postgres_error(
                        "22P02",
                        "invalid input syntax for type bytea",
                    ));
                }
            }
            Ok(out)
        }
        other => Err(unrecognized(other)),
    }
}

fn unrecognized(format: &str) -> rusqlite::Error {
    postgres_error("22023", &format!("unrecognized encoding: \"{format}\""))
}

pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("md5", 1, flags, |ctx| {
        Ok(bytes(ctx, 0).map(|b| hex::encode(md5::Md5::digest(b))))
    })?;
    for algorithm in ["sha224", "sha256", "sha384", "sha512"] {
        conn.create_scalar_function(algorithm, 1, flags, move |ctx| {
            Ok(bytes(ctx, 0).map(|b| hash(algorithm, &b)))
        })?;
    }
    // pgcrypto's digest(data, algorithm), which CREATE EXTENSION pgcrypto promises.
    conn.create_scalar_function("digest", 2, flags, |ctx| {
        let (Some(data), Some(algorithm)) = (bytes(ctx, 0), text(ctx, 1)) else {
            return Ok(None);
        };
        hash(&algorithm.to_ascii_lowercase(), &data)
            .map(Some)
            .ok_or_else(|| {
                postgres_error(
                    "22023",
                    &format!("Cannot use \"{algorithm}\": No such hash algorithm"),
                )
            })
    })?;
    conn.create_scalar_function("encode", 2, flags, |ctx| {
        let (Some(data), Some(format)) = (bytes(ctx, 0), text(ctx, 1)) else {
            return Ok(None);
        };
        encode(&data, &format).map(Some)
    })?;
    conn.create_scalar_function("decode", 2, flags, |ctx| {
        let (Some(data), Some(format)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(None);
        };
        decode(&data, &format).map(Some)
    })?;
    Ok(())
}

/// The digest of `data` by a hash pgcrypto names, if litescale has it.
fn hash(algorithm: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match algorithm {
        "md5" => md5::Md5::digest(data).to_vec(),
        "sha224" => sha2::Sha224::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_encodings_answer_as_postgres_15() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let text_of = |sql: &str| -> String {
            c.query_row(&format!("SELECT {sql}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(text_of("md5('abc')"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            text_of("hex(sha256('abc'))"),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        );
        assert_eq!(text_of("encode('hello', 'base64')"), "aGVsbG8=");
        assert_eq!(text_of("encode(x'00ff5c', 'escape')"), "\\000\\377\\\\");
        assert_eq!(
            text_of("encode(decode(' aGVs bG8= ', 'base64'), 'hex')"),
            "68656c6c6f"
        );
        assert_eq!(
            text_of("encode(decode('a\\\\b\\001', 'escape'), 'hex')"),
            "615c6201"
        );
        let wrapped = text_of("encode(printf('%.60c', 'x'), 'base64')");
        assert_eq!(wrapped.lines().map(str::len).collect::<Vec<_>>(), [76, 4]);
        let e: crate::ShardError = c
            .query_row("SELECT decode('abc', 'hex')", [], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .unwrap_err()
            .into();
        assert_eq!(e.sqlstate, "22023");
    }
}
