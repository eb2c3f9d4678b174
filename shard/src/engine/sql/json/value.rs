//! JSON values as Postgres reads and writes them: json keeps its input text verbatim (so
//! members are read as borrowed spans of it), jsonb is a tree with its keys ordered by
//! length then bytes, no duplicate keys (the last wins), numbers as numeric writes them,
//! and `{"a": 1, "b": [1, 2]}` spacing.

use std::fmt::Write;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A jsonb value.
#[derive(Clone, Debug, PartialEq)]
pub enum Jsonb {
    Null,
    Bool(bool),
    /// Digits as Postgres' numeric writes them.
    Number(String),
    String(String),
    Array(Vec<Jsonb>),
    /// Keys in jsonb order, unique.
    Object(Vec<(String, Jsonb)>),
}

/// One level of a JSON text: its members still as the text they were written as.
pub enum Level<'a> {
    Scalar,
    Array(Vec<&'a RawValue>),
    /// Members in written order, duplicates kept.
    Object(Vec<(String, &'a RawValue)>),
}

struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// The first level of a JSON text; `None` when it is not JSON.
pub fn level(text: &str) -> Option<Level<'_>> {
    Some(match text.trim_start().as_bytes().first()? {
        b'{' => Level::Object(serde_json::from_str::<Members>(text).ok()?.0),
        b'[' => Level::Array(serde_json::from_str::<Vec<&RawValue>>(text).ok()?),
        _ => {
            serde_json::from_str::<&RawValue>(text).ok()?;
            Level::Scalar
        }
    })
}

/// The member `key` of an object's text (the last of that name, as Postgres reads it).
pub fn member<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    match level(text)? {
        Level::Object(members) => members
            .into_iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.get()),
        _ => None,
    }
}

/// Element `index` of an array's text; negative counts from the end.
pub fn element(text: &str, index: i64) -> Option<&str> {
    let Level::Array(items) = level(text)? else {
        return None;
    };
    let i = if index < 0 {
        items.len() as i64 + index
    } else {
        index
    };
    items.get(usize::try_from(i).ok()?).map(|v| v.get())
}

/// A JSON text as `->>` gives it: strings unquoted, `null` as SQL NULL, the rest as written.
pub fn as_text(raw: &str) -> Option<String> {
    let raw = raw.trim();
    match raw.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(raw).ok(),
        b'n' => None,
        _ => Some(raw.to_owned()),
    }
}

impl Jsonb {
    /// Parses a JSON text; `None` when it is not JSON.
    pub fn parse(text: &str) -> Option<Jsonb> {
        let t = text.trim();
        Some(match t.as_bytes().first()? {
            b'{' => Jsonb::object(
                serde_json::from_str::<Members>(t)
                    .ok()?
                    .0
                    .into_iter()
                    .map(|(k, v)| Some((k, Jsonb::parse(v.get())?)))
                    .collect::<Option<Vec<_>>>()?,
            ),
            b'[' => Jsonb::Array(
                serde_json::from_str::<Vec<&RawValue>>(t)
                    .ok()?
                    .into_iter()
                    .map(|v| Jsonb::parse(v.get()))
                    .collect::<Option<Vec<_>>>()?,
            ),
            b'"' => Jsonb::String(serde_json::from_str(t).ok()?),
            b't' | b'f' => Jsonb::Bool(serde_json::from_str(t).ok()?),
            b'n' => {
                serde_json::from_str::<()>(t).ok()?;
                Jsonb::Null
            }
            _ => {
                serde_json::from_str::<serde_json::Number>(t).ok()?;
                Jsonb::Number(numeric(t))
            }
        })
    }

    /// An object from members in any order: jsonb's key order, the last of a name kept.
    pub fn object(members: Vec<(String, Jsonb)>) -> Jsonb {
        let mut unique: Vec<(String, Jsonb)> = Vec::with_capacity(members.len());
        for (k, v) in members {
            match unique.iter_mut().find(|(u, _)| *u == k) {
                Some(slot) => slot.1 = v,
                None => unique.push((k, v)),
            }
        }
        unique.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        Jsonb::Object(unique)
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Jsonb::Null => "null",
            Jsonb::Bool(_) => "boolean",
            Jsonb::Number(_) => "number",
            Jsonb::String(_) => "string",
            Jsonb::Array(_) => "array",
            Jsonb::Object(_) => "object",
        }
    }

    /// jsonb's text: `{"a": 1, "b": [1, 2]}`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None);
        out
    }

    /// jsonb_pretty's text: four spaces a level.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some(0));
        out
    }

    fn write(&self, out: &mut String, indent: Option<usize>) {
        let (open, close, items): (char, char, Vec<(Option<&str>, &Jsonb)>) = match self {
            Jsonb::Null => return out.push_str("null"),
            Jsonb::Bool(b) => return out.push_str(if *b { "true" } else { "false" }),
            Jsonb::Number(n) => return out.push_str(n),
            Jsonb::String(s) => return quote_into(out, s),
            Jsonb::Array(a) => ('[', ']', a.iter().map(|v| (None, v)).collect()),
            Jsonb::Object(o) => (
                '{',
                '}',
                o.iter().map(|(k, v)| (Some(k.as_str()), v)).collect(),
            ),
        };
        out.push(open);
        let inner = indent.map(|i| i + 1);
        for (n, (key, value)) in items.iter().enumerate() {
            if n > 0 {
                out.push(',');
                if indent.is_none() {
                    out.push(' ');
                }
            }
            if let Some(i) = inner {
                out.push('\n');
                out.push_str(&"    ".repeat(i));
            }
            if let Some(k) = key {
                quote_into(out, k);
                out.push_str(": ");
            }
            value.write(out, inner);
        }
        if let Some(i) = indent {
            out.push('\n');
            out.push_str(&"    ".repeat(i));
        }
        out.push(close);
    }

    /// `a @> b` as jsonb has it.
    pub fn contains(&self, other: &Jsonb, top: bool) -> bool {
        match (self, other) {
            (Jsonb::Object(a), Jsonb::Object(b)) => b.iter().all(|(k, bv)| {
                a.iter()
                    .find(|(ak, _)| ak == k)
                    .is_some_and(|(_, av)| av.contains(bv, false))
            }),
            (Jsonb::Array(a), Jsonb::Array(b)) => b.iter().all(|bv| {
                a.iter().any(|av| match bv {
                    Jsonb::Array(_) | Jsonb::Object(_) => av.contains(bv, false),
                    scalar => av.same_scalar(scalar),
                })
            }),
            // Only at the top does an array contain a bare scalar.
            (Jsonb::Array(a), scalar) if top && !matches!(scalar, Jsonb::Object(_)) => {
                a.iter().any(|av| av.same_scalar(scalar))
            }
            (a, b) => a.same_scalar(b),
        }
    }

    fn same_scalar(&self, other: &Jsonb) -> bool {
        match (self, other) {
            (Jsonb::Number(a), Jsonb::Number(b)) => same_number(a, b),
            (Jsonb::Array(_) | Jsonb::Object(_), _) | (_, Jsonb::Array(_) | Jsonb::Object(_)) => {
                false
            }
            (a, b) => a == b,
        }
    }

    /// `j ? key`: a key of an object, a string element of an array, or the string itself.
    pub fn has_key(&self, key: &str) -> bool {
        match self {
            Jsonb::Object(o) => o.iter().any(|(k, _)| k == key),
            Jsonb::Array(a) => a.iter().any(|v| matches!(v, Jsonb::String(s) if s == key)),
            Jsonb::String(s) => s == key,
            _ => false,
        }
    }

    /// jsonb_strip_nulls: object members whose value is null go, at every depth.
    pub fn strip_nulls(self) -> Jsonb {
        match self {
            Jsonb::Object(o) => Jsonb::Object(
                o.into_iter()
                    .filter(|(_, v)| *v != Jsonb::Null)
                    .map(|(k, v)| (k, v.strip_nulls()))
                    .collect(),
            ),
            Jsonb::Array(a) => Jsonb::Array(a.into_iter().map(Jsonb::strip_nulls).collect()),
            other => other,
        }
    }
}

/// json_strip_nulls: object members whose value is null go, at every depth; json keeps
/// members in written order (duplicates too) and writes them without spaces.
pub fn json_strip_nulls(text: &str) -> Option<String> {
    Some(match level(text)? {
        Level::Scalar => text.trim().to_owned(),
        Level::Array(items) => {
            let items = items
                .iter()
                .map(|v| json_strip_nulls(v.get()))
                .collect::<Option<Vec<_>>>()?;
            format!("[{}]", items.join(","))
        }
        Level::Object(members) => {
            let mut out = String::from("{");
            for (k, v) in members.iter().filter(|(_, v)| v.get().trim() != "null") {
                if out.len() > 1 {
                    out.push(',');
                }
                quote_into(&mut out, k);
                out.push(':');
                out.push_str(&json_strip_nulls(v.get())?);
            }
            out.push('}');
            out
        }
    })
}

/// Numeric equality of two numbers written as numeric writes them (`1.0` = `1`).
fn same_number(a: &str, b: &str) -> bool {
    fn canonical(n: &str) -> &str {
        if n.contains('.') {
            n.trim_end_matches('0').trim_end_matches('.')
        } else {
            n
        }
    }
    canonical(a) == canonical(b)
}

/// A JSON string literal as Postgres escapes it.
pub fn quote_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON number as Postgres' numeric writes it: the exponent applied, the scale kept
/// (`1.50e1` → `15.0`, `1e-2` → `0.01`), no negative zero.
pub fn numeric(raw: &str) -> String {
    let (negative, unsigned) = match raw.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, raw),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (
            &unsigned[..i],
            unsigned[i + 1..].parse::<i64>().unwrap_or(0),
        ),
        None => (unsigned, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = format!("{int}{frac}");
    // Digits after the decimal point once the exponent is applied.
    let scale = frac.len() as i64 - exponent;
    let mut text = if scale <= 0 {
        let mut d = digits;
        d.extend(std::iter::repeat_n('0', (-scale) as usize));
        d
    } else {
        let scale = scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (i, f) = padded.split_at(padded.len() - scale);
        format!("{i}.{f}")
    };
    let int_part_len = text.find('.').unwrap_or(text.len());
    let leading_zeros = text[..int_part_len.saturating_sub(1)]
        .bytes()
        .take_while(|b| *b == b'0')
        .count();
    text.drain(..leading_zeros);
    let zero = text.bytes().all(|b| b == b'0' || b == b'.');
    if negative && !zero {
        text.insert(0, '-');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_numeric_writes_them() {
        for (raw, pg) in [
            ("1.50e1", "15.0"),
            ("1e-2", "0.01"),
            ("1e2", "100"),
            ("-0", "0"),
            ("007", "7"),
            ("0.5", "0.5"),
            ("-12.340", "-12.340"),
            ("1E+2", "100"),
        ] {
            assert_eq!(numeric(raw), pg, "{raw}");
        }
    }

    #[test]
    fn jsonb_orders_keys_by_length_then_bytes_and_keeps_the_last() {
        let j = Jsonb::parse(r#"{"aa":1,"b":[1,{"y":null}],"a":1.50e1,"b":2}"#).unwrap();
        assert_eq!(j.render(), r#"{"a": 15.0, "b": 2, "aa": 1}"#);
        assert_eq!(
            Jsonb::parse(r#"{"a":[1,{"b":2}],"c":{}}"#)
                .unwrap()
                .pretty(),
            "{\n    \"a\": [\n        1,\n        {\n            \"b\": 2\n        }\n    ],\n    \"c\": {\n    }\n}"
        );
    }

    #[test]
    fn json_members_are_read_verbatim() {
        let text = r#"{"a": {"y" :  1, "x":2}, "a": [1,  2]}"#;
        assert_eq!(member(text, "a"), Some("[1,  2]"));
        assert_eq!(element("[1, 2, 3]", -1), Some("3"));
        assert_eq!(element("[1, 2, 3]", 5), None);
        assert_eq!(as_text(r#""x\"y""#).as_deref(), Some("x\"y"));
    }

    #[test]
    fn containment_follows_jsonb() {
        let j = |s: &str| Jsonb::parse(s).unwrap();
        assert!(j(r#"{"a":[1,2],"b":1}"#).contains(&j(r#"{"a":[2]}"#), true));
        assert!(j("[1,2]").contains(&j("1"), true));
        assert!(!j(r#"{"a":1}"#).contains(&j(r#"{"a":2}"#), true));
        assert!(j("[1.0]").contains(&j("[1]"), true));
    }
}
