//! The statements that miss, known and explained: `tests/conformance/misses.txt` (one id
//! a line, written by the bless step) and the ids `tests/conformance/DIFFERENCES.md` names
//! under its reasons. An id is `topic:label:hash`; topic and hash identify the statement
//! (the label, its ordinal, is for people and is brought up to date by blessing).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::corpus::{Answer, Topic};

/// A statement as the lists match it: (topic, hash).
pub type Key = (String, String);

/// A statement that did not answer as PostgreSQL 15.
pub struct Miss {
    pub id: String,
    pub key: Key,
    pub sql: String,
    pub expected: String,
    pub got: Answer,
    pub expected_answer: Option<Answer>,
}

/// The parts of an id token (`json:12:3fa9c2`), if `token` is one of a known topic.
fn parse_id(token: &str, topics: &BTreeSet<&str>) -> Option<(String, String, String)> {
    let token = token.trim_matches(|c: char| ",.;`()[]".contains(c));
    let mut parts = token.split(':');
    let (topic, label, hash) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = parts.next().is_none()
        && topics.contains(topic)
        && !label.is_empty()
        && hash.len() == 6
        && hash.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| (topic.to_owned(), label.to_owned(), hash.to_owned()))
}

/// The ids a text names (misses.txt, DIFFERENCES.md), by key.
pub fn ids_in(text: &str, topics: &[Topic]) -> BTreeMap<Key, String> {
    let names: BTreeSet<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    text.lines()
        .filter(|l| !l.starts_with('#') || l.starts_with("##"))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|t| parse_id(t, &names))
        .map(|(topic, label, hash)| {
            let id = format!("{topic}:{label}:{hash}");
            ((topic, hash), id)
        })
        .collect()
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// misses.txt for these misses.
pub fn render_misses(misses: &[Miss]) -> String {
    let mut out = String::from(
        "# Conformance statements that do not answer as PostgreSQL 15 (topic:ordinal:hash).\n\
         # Generated: CONFORMANCE_BLESS=1 cargo test --test e2e conformance\n\
         # Each one is explained in DIFFERENCES.md.\n",
    );
    for m in misses {
        out.push_str(&m.id);
        out.push('\n');
    }
    out
}

/// DIFFERENCES.md with each id brought to the statement's current ordinal, and the ids of
/// statements that no longer miss taken out (a line left without ids goes too).
pub fn refresh_differences(text: &str, topics: &[Topic], misses: &[Miss]) -> String {
    let names: BTreeSet<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    let current: BTreeMap<&Key, &str> = misses.iter().map(|m| (&m.key, m.id.as_str())).collect();
    let mut out = String::new();
    for line in text.lines() {
        let mut had_id = false;
        let kept: Vec<String> = line
            .split(' ')
            .filter_map(|t| match parse_id(t, &names) {
                None => Some(t.to_owned()),
                Some((topic, _, hash)) => {
                    had_id = true;
                    current.get(&(topic, hash)).map(|id| (*id).to_owned())
                }
            })
            .collect();
        if had_id && kept.iter().all(|t| t.is_empty()) {
            continue;
        }
        out.push_str(&kept.join(" "));
        out.push('\n');
    }
    out
}

/// The name of a type OID the corpus meets, for the draft's reasons.
fn type_name(oid: u32) -> String {
    let name = match oid {
        16 => "bool",
        17 => "bytea",
        18 => "char",
        19 => "name",
        20 => "int8",
        21 => "int2",
        23 => "int4",
        25 => "text",
        26 => "oid",
        114 => "json",
        700 => "float4",
        701 => "float8",
        1042 => "bpchar",
        1043 => "varchar",
        1082 => "date",
        1083 => "time",
        1114 => "timestamp",
        1184 => "timestamptz",
        1186 => "interval",
        1266 => "timetz",
        1700 => "numeric",
        2249 => "record",
        2950 => "uuid",
        3802 => "jsonb",
        1000 => "bool[]",
        1005 => "int2[]",
        1007 => "int4[]",
        1016 => "int8[]",
        1009 => "text[]",
        1015 => "varchar[]",
        1022 => "float8[]",
        1231 => "numeric[]",
        3807 => "jsonb[]",
        2951 => "uuid[]",
        1182 => "date[]",
        _ => return oid.to_string(),
    };
    format!("{name} ({oid})")
}

/// A first guess at why a statement misses, from the two answers: (the kind of
/// difference, the detail). The bless step groups the unexplained misses by it, a draft
/// for DIFFERENCES.md's sections.
pub fn draft_reason(expected: Option<&Answer>, got: &Answer) -> (String, String) {
    let Some(expected) = expected else {
        return ("no recorded answer".to_owned(), String::new());
    };
    let kind = |k: &str, d: String| (k.to_owned(), d);
    match (expected, got) {
        (Answer::Ok { .. }, Answer::Error(code)) => match code.as_str() {
            "0A000" => kind(REFUSED, "0A000 feature not supported".to_owned()),
            "22003" => kind(
                BY_DESIGN,
                "22003 for a number SQLite cannot hold exactly".to_owned(),
            ),
            "42883" => kind(
                NOT_TRANSLATED,
                "42883: function or operator unknown".to_owned(),
            ),
            "42601" => kind(NOT_TRANSLATED, "42601: syntax not parsed".to_owned()),
            "XX000" => kind(NOT_TRANSLATED, "XX000: SQLite's own error".to_owned()),
            _ => kind(NOT_TRANSLATED, format!("{code} where PostgreSQL runs it")),
        },
        (Answer::Error(a), Answer::Error(b)) => kind(OTHER_SQLSTATE, format!("{b} instead of {a}")),
        (Answer::Error(a), Answer::Ok { .. }) => {
            kind(ACCEPTS, format!("runs what PostgreSQL refuses with {a}"))
        }
        (
            Answer::Ok {
                tag: t1,
                columns: c1,
                rows: r1,
            },
            Answer::Ok {
                tag: t2,
                columns: c2,
                rows: r2,
            },
        ) => {
            let (c1, c2) = (
                c1.clone().unwrap_or_default(),
                c2.clone().unwrap_or_default(),
            );
            if c1.len() != c2.len() {
                return kind(VALUES, "a different number of columns".to_owned());
            }
            if let Some(((_, a), (_, b))) = c1.iter().zip(&c2).find(|(x, y)| x.1 != y.1) {
                return kind(
                    TYPE_OID,
                    format!("{} answered as {}", type_name(*a), type_name(*b)),
                );
            }
            if c1.iter().zip(&c2).any(|(x, y)| x.0 != y.0) {
                return kind(NAMES, "column names".to_owned());
            }
            if r1.len() != r2.len() {
                return kind(VALUES, "a different number of rows".to_owned());
            }
            if r1 != r2 {
                return kind(VALUES, "values".to_owned());
            }
            if t1 != t2 {
                return kind(VALUES, "command tag".to_owned());
            }
            kind(VALUES, "same answer".to_owned())
        }
    }
}

/// The kinds of difference, the sections of DIFFERENCES.md.
const NOT_TRANSLATED: &str = "Not translated yet: fails where PostgreSQL runs it";
const REFUSED: &str = "Refused on purpose (0A000) where PostgreSQL runs it";
const BY_DESIGN: &str = "Refused by design: numbers SQLite cannot hold exactly";
const TYPE_OID: &str = "Wrong type OID";
const NAMES: &str = "Different column names";
const VALUES: &str = "Different text form, value, row count or command tag";
const ACCEPTS: &str = "Accepts what PostgreSQL refuses (a missing check)";
const OTHER_SQLSTATE: &str = "Fails as PostgreSQL does, with another SQLSTATE";

/// The draft: unexplained misses grouped by kind and detail, ids wrapped.
pub fn draft(misses: &[&Miss]) -> String {
    let mut groups: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for m in misses {
        groups
            .entry(draft_reason(m.expected_answer.as_ref(), &m.got))
            .or_default()
            .push(&m.id);
    }
    let mut out = String::new();
    let mut section = String::new();
    for ((kind, detail), ids) in groups {
        if kind != section {
            out.push_str(&format!("## {kind}\n\n"));
            section = kind;
        }
        out.push_str(&format!("### {detail}\n\n"));
        out.push_str(&wrap_ids(&ids));
        out.push('\n');
    }
    out
}

/// Ids on lines of at most about 90 characters.
pub fn wrap_ids(ids: &[&str]) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for id in ids {
        if !line.is_empty() && line.len() + id.len() + 1 > 90 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(id);
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}
