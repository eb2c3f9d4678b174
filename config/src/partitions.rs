//! The partition map: how many partitions a database has, which tables are split by which
//! key, and which partition owns a key.
//!
//! Hash placement hashes a key to a 64-bit keyspace (XXH3-64, seed 0, over the key's
//! canonical bytes: an integer as its 8 big-endian bytes, text as its UTF-8 bytes) and each
//! partition owns a contiguous range of that space, so a partition can later be split
//! without moving the others. XXH3 is a published, versioned algorithm: the placement of a
//! key never changes between litescale releases (a test pins known keys). Range and list
//! placement work on the raw key value instead.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A shard key's value, as the router extracts it from a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    Int(i64),
    Text(String),
}

impl KeyValue {
    fn canonical_bytes(&self) -> Vec<u8> {
        match self {
            KeyValue::Int(i) => i.to_be_bytes().to_vec(),
            KeyValue::Text(s) => s.as_bytes().to_vec(),
        }
    }

    /// The key's position in the 64-bit keyspace.
    pub fn hash(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&self.canonical_bytes())
    }
}

/// `[partitions]`: the partitions of every database and the keyspace slice each owns.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionsConfig {
    /// Number of partitions (1 means unpartitioned).
    pub count: usize,
    /// Optional explicit hash ranges; by default the keyspace is cut in `count` equal
    /// slices.
    #[serde(default)]
    pub hash_ranges: Vec<HashRange>,
}

/// Partition `partition` owns hashes in `[from, to]` (inclusive; decimal or 0x-hex text).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashRange {
    pub partition: usize,
    pub from: String,
    pub to: String,
}

/// How a table is placed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// The shard key column; absent for reference and unsharded tables.
    pub key: Option<String>,
    /// Place rows with the same key as this table's rows (joins on the key stay local).
    pub colocate_with: Option<String>,
    /// A full copy in every partition: reads from any, writes to all.
    #[serde(default)]
    pub reference: bool,
    /// An unsharded table living in this one partition.
    pub partition: Option<usize>,
    /// `hash` (default), `range` or `list`.
    #[serde(default)]
    pub placement: Placement,
    /// For `range`: `[{ partition, from, to }]`, integer keys, `from` inclusive, `to`
    /// exclusive; a missing bound is open.
    #[serde(default)]
    pub ranges: Vec<KeyRange>,
    /// For `list`: `[{ partition, values }]`.
    #[serde(default)]
    pub lists: Vec<KeyList>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    #[default]
    Hash,
    Range,
    List,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRange {
    pub partition: usize,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyList {
    pub partition: usize,
    pub values: Vec<toml::Value>,
}

/// A value that parses but makes no sense. `field` is its dotted path in the TOML
/// document (`tables.accounts.partition`), so the caller can point at its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Where a table's rows live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TablePlacement<'m> {
    /// Split by this key column.
    Sharded { key: &'m str },
    /// A full copy in every partition.
    Reference,
    /// Unsharded, in this partition.
    In(usize),
}

/// The validated map: every key has exactly one owning partition.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionMap {
    count: usize,
    /// Sorted, contiguous, covering 0..=u64::MAX: (first hash, partition).
    hash_starts: Vec<(u64, usize)>,
    tables: BTreeMap<String, TableConfig>,
}

fn parse_hash(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16).ok(),
        None => text.replace('_', "").parse().ok(),
    }
}

impl PartitionMap {
    /// The map of an unpartitioned database.
    pub fn single() -> PartitionMap {
        PartitionMap {
            count: 1,
            hash_starts: vec![(0, 0)],
            tables: BTreeMap::new(),
        }
    }

    pub fn count(&self) -> usize {
        self.count
    }

    pub fn table(&self, name: &str) -> Option<&TableConfig> {
        self.tables.get(name)
    }

    /// Builds and checks the map; errors name the offending field.
    pub fn new(
        partitions: &PartitionsConfig,
        tables: &BTreeMap<String, TableConfig>,
    ) -> Result<PartitionMap, FieldError> {
        let count = partitions.count;
        if count == 0 {
            return Err(FieldError::new("partitions.count", "must be at least 1"));
        }
        let hash_starts = if partitions.hash_ranges.is_empty() {
            let slice = u64::MAX / count as u64;
            (0..count).map(|p| (slice * p as u64, p)).collect()
        } else {
            hash_ranges(&partitions.hash_ranges, count)?
        };
        for (name, t) in tables {
            let field = |f: &str| format!("tables.{name}.{f}");
            let in_range = |p: usize, f: &str| {
                if p < count {
                    Ok(())
                } else {
                    Err(FieldError::new(
                        field(f),
                        format!("partition {p} does not exist (count is {count})"),
                    ))
                }
            };
            let kinds = [
                t.key.is_some() || t.colocate_with.is_some(),
                t.reference,
                t.partition.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(FieldError::new(
                    format!("tables.{name}"),
                    "give exactly one of key (sharded), reference = true, or partition = N",
                ));
            }
            if let Some(p) = t.partition {
                in_range(p, "partition")?;
            }
            if let Some(other) = &t.colocate_with {
                let Some(target) = tables.get(other) else {
                    return Err(FieldError::new(
                        field("colocate_with"),
                        format!("unknown table \"{other}\""),
                    ));
                };
                if target.key.is_none() {
                    return Err(FieldError::new(
                        field("colocate_with"),
                        format!("\"{other}\" is not sharded"),
                    ));
                }
                if t.key.is_none() {
                    return Err(FieldError::new(
                        field("key"),
                        "a colocated table needs its own key column",
                    ));
                }
            }
            match t.placement {
                Placement::Hash => {
                    if !t.ranges.is_empty() || !t.lists.is_empty() {
                        return Err(FieldError::new(
                            field("placement"),
                            "ranges and lists need placement = \"range\" or \"list\"",
                        ));
                    }
                }
                Placement::Range => {
                    for r in &t.ranges {
                        in_range(r.partition, "ranges")?;
                    }
                    key_ranges(&t.ranges).map_err(|e| FieldError::new(field("ranges"), e))?;
                }
                Placement::List => {
                    if t.lists.is_empty() {
                        return Err(FieldError::new(
                            field("lists"),
                            "list placement needs lists",
                        ));
                    }
                    let mut seen = Vec::new();
                    for l in &t.lists {
                        in_range(l.partition, "lists")?;
                        for v in &l.values {
                            if seen.contains(v) {
                                return Err(FieldError::new(
                                    field("lists"),
                                    format!("value {v} is listed twice"),
                                ));
                            }
                            seen.push(v.clone());
                        }
                    }
                }
            }
        }
        Ok(PartitionMap {
            count,
            hash_starts,
            tables: tables.clone(),
        })
    }

    /// Where `table`'s rows live. Tables the map does not name live, unsharded, in
    /// partition 0.
    pub fn placement(&self, table: &str) -> TablePlacement<'_> {
        match self.tables.get(table) {
            Some(t) if t.reference => TablePlacement::Reference,
            Some(t) => match (&t.key, t.partition) {
                (Some(key), _) => TablePlacement::Sharded { key },
                (None, Some(p)) => TablePlacement::In(p),
                (None, None) => TablePlacement::In(0),
            },
            None => TablePlacement::In(0),
        }
    }

    /// Each sharded table with its key column.
    pub fn shard_keys(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tables
            .iter()
            .filter_map(|(name, t)| Some((name.as_str(), t.key.as_deref()?)))
    }

    /// The partition that owns `key` of a sharded `table`.
    pub fn partition_of(&self, table: &str, key: &KeyValue) -> Result<usize, String> {
        let t = self
            .tables
            .get(table)
            .ok_or_else(|| format!("table \"{table}\" is not sharded"))?;
        let none = || format!("no partition of \"{table}\" holds key {key:?}");
        match t.placement {
            Placement::Hash => Ok(self.partition_of_hash(key)),
            Placement::Range => {
                let KeyValue::Int(k) = key else {
                    return Err(format!(
                        "range placement of \"{table}\" needs an integer key"
                    ));
                };
                t.ranges
                    .iter()
                    .find(|r| r.from.is_none_or(|f| f <= *k) && r.to.is_none_or(|to| *k < to))
                    .map(|r| r.partition)
                    .ok_or_else(none)
            }
            Placement::List => t
                .lists
                .iter()
                .find(|l| {
                    l.values.iter().any(|v| match (v, key) {
                        (toml::Value::Integer(a), KeyValue::Int(b)) => a == b,
                        (toml::Value::String(a), KeyValue::Text(b)) => a == b,
                        _ => false,
                    })
                })
                .map(|l| l.partition)
                .ok_or_else(none),
        }
    }

    /// The partition that owns a hash-placed key.
    pub fn partition_of_hash(&self, key: &KeyValue) -> usize {
        let h = key.hash();
        let i = self.hash_starts.partition_point(|(start, _)| *start <= h);
        self.hash_starts[i.saturating_sub(1)].1
    }
}

/// Checks explicit hash ranges: each partition once, contiguous, covering the keyspace.
fn hash_ranges(ranges: &[HashRange], count: usize) -> Result<Vec<(u64, usize)>, FieldError> {
    hash_range_starts(ranges, count).map_err(|e| FieldError::new("partitions.hash_ranges", e))
}

fn hash_range_starts(ranges: &[HashRange], count: usize) -> Result<Vec<(u64, usize)>, String> {
    let mut parsed = Vec::with_capacity(ranges.len());
    for r in ranges {
        let from = parse_hash(&r.from).ok_or_else(|| format!("bad from \"{}\"", r.from))?;
        let to = parse_hash(&r.to).ok_or_else(|| format!("bad to \"{}\"", r.to))?;
        if from > to {
            return Err(format!("from {} is after to {}", r.from, r.to));
        }
        if r.partition >= count {
            return Err(format!(
                "partition {} does not exist (count is {count})",
                r.partition
            ));
        }
        parsed.push((from, to, r.partition));
    }
    parsed.sort();
    let mut next = 0u64;
    let mut done = false;
    for (from, to, _) in &parsed {
        if done || *from != next {
            return Err(if done || *from < next {
                format!("ranges overlap at {from:#x}")
            } else {
                format!("hashes {next:#x}..{:#x} have no partition", from - 1)
            });
        }
        match to.checked_add(1) {
            Some(n) => next = n,
            None => done = true,
        }
    }
    if !done {
        return Err(format!("hashes from {next:#x} have no partition"));
    }
    Ok(parsed.into_iter().map(|(from, _, p)| (from, p)).collect())
}

/// Checks range placement: no overlap (gaps are allowed: such keys are refused).
fn key_ranges(ranges: &[KeyRange]) -> Result<(), String> {
    let mut sorted: Vec<(i64, i64)> = ranges
        .iter()
        .map(|r| (r.from.unwrap_or(i64::MIN), r.to.unwrap_or(i64::MAX)))
        .collect();
    sorted.sort();
    for w in sorted.windows(2) {
        if w[1].0 < w[0].1 {
            return Err(format!("ranges overlap at {}", w[1].0));
        }
    }
    if sorted.iter().any(|(from, to)| from >= to) {
        return Err("a range is empty (from must be below to)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(count: usize) -> PartitionMap {
        PartitionMap::new(
            &PartitionsConfig {
                count,
                hash_ranges: vec![],
            },
            &BTreeMap::new(),
        )
        .unwrap()
    }

    #[test]
    fn known_keys_land_on_known_partitions() {
        // Pinned: these must never change, or existing data would be looked for in the
        // wrong partition after an upgrade. The values were checked against Python's
        // `xxhash.xxh3_64_intdigest(struct.pack('>q', k))`, an independent implementation.
        assert_eq!(KeyValue::Int(1).hash(), 0xf36b_4a1a_44f7_8bf3);
        assert_eq!(
            KeyValue::Text("alice".into()).hash(),
            5_593_767_425_381_308_080
        );
        let m = map(4);
        let placed: Vec<usize> = (1..=8)
            .map(|k| m.partition_of_hash(&KeyValue::Int(k)))
            .collect();
        assert_eq!(placed, [3, 0, 3, 2, 3, 1, 3, 1]);
        assert_eq!(map(1).partition_of_hash(&KeyValue::Int(42)), 0);
    }

    #[test]
    fn range_and_list_placement_use_the_raw_key() {
        let text = r#"
            [partitions]
            count = 3
            [tables.events]
            key = "day"
            placement = "range"
            ranges = [{ partition = 0, to = 100 }, { partition = 2, from = 100, to = 200 }]
            [tables.shops]
            key = "country"
            placement = "list"
            lists = [{ partition = 1, values = ["fr", "de"] }, { partition = 0, values = ["us"] }]
        "#;
        let c: crate::Config = toml::from_str(text).unwrap();
        let m = c.partition_map().unwrap();
        assert_eq!(m.partition_of("events", &KeyValue::Int(-5)), Ok(0));
        assert_eq!(m.partition_of("events", &KeyValue::Int(150)), Ok(2));
        assert!(
            m.partition_of("events", &KeyValue::Int(200)).is_err(),
            "a gap is refused"
        );
        assert_eq!(m.partition_of("shops", &KeyValue::Text("de".into())), Ok(1));
        assert!(
            m.partition_of("shops", &KeyValue::Text("it".into()))
                .is_err()
        );
        assert!(m.partition_of("nope", &KeyValue::Int(1)).is_err());
    }

    #[test]
    fn keys_spread_over_partitions() {
        let m = map(4);
        let mut counts = [0usize; 4];
        for k in 0..10_000 {
            counts[m.partition_of_hash(&KeyValue::Int(k))] += 1;
        }
        assert!(
            counts.iter().all(|c| (2_200..2_800).contains(c)),
            "{counts:?}"
        );
    }

    #[test]
    fn explicit_hash_ranges_must_cover_the_keyspace_once() {
        let ranges = |r: &[(usize, &str, &str)]| PartitionsConfig {
            count: 2,
            hash_ranges: r
                .iter()
                .map(|(p, f, t)| HashRange {
                    partition: *p,
                    from: (*f).into(),
                    to: (*t).into(),
                })
                .collect(),
        };
        let ok = ranges(&[
            (0, "0", "0x7fffffffffffffff"),
            (1, "0x8000000000000000", "0xffffffffffffffff"),
        ]);
        assert!(PartitionMap::new(&ok, &BTreeMap::new()).is_ok());
        let gap = ranges(&[(0, "0", "100"), (1, "200", "0xffffffffffffffff")]);
        assert!(
            PartitionMap::new(&gap, &BTreeMap::new())
                .unwrap_err()
                .message
                .contains("no partition")
        );
        let overlap = ranges(&[(0, "0", "300"), (1, "200", "0xffffffffffffffff")]);
        assert!(
            PartitionMap::new(&overlap, &BTreeMap::new())
                .unwrap_err()
                .message
                .contains("overlap")
        );
    }
}
