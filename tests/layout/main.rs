//! The layout rules of issue 17, checked on every build: in each folder of each crate
//! (the crate root and every module with children), the sibling modules import each other
//! one way only, and no folder holds more than `MAX_FILES` source files.
//!
//! An edge a → b joins two siblings when code in a (outside `#[cfg(test)]`) names a path
//! that resolves into b: `crate::b::…`, `super::b`, or a name that a parent re-exports from
//! b (`crate::Foo` with `pub use b::Foo` in lib.rs). Items written in a `mod.rs` or `lib.rs`
//! itself belong to the parent, not to a sibling.

mod modules;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use modules::{Crate, ModPath};

/// The most `.rs` files one folder may hold (its `mod.rs` or `lib.rs` included).
const MAX_FILES: usize = 10;

/// The crates of the workspace and its end-to-end test crate, by the root file of each.
const CRATE_ROOTS: &[&str] = &[
    "config/src/lib.rs",
    "router/src/lib.rs",
    "shard/src/lib.rs",
    "proxy/src/lib.rs",
    "src/main.rs",
    "tests/e2e/main.rs",
];

/// For each folder (module path), the edges between its children.
type SiblingGraphs = BTreeMap<ModPath, Edges>;

/// The file a module is written in (an inline module's is its parent's).
fn file_of(krate: &Crate, module: &[String]) -> PathBuf {
    (0..=module.len())
        .rev()
        .find_map(|n| {
            krate
                .modules
                .get(&module[..n])
                .filter(|m| !m.file.as_os_str().is_empty())
        })
        .map(|m| m.file.clone())
        .unwrap_or_default()
}

fn sibling_graphs(krate: &Crate) -> SiblingGraphs {
    let mut graphs: SiblingGraphs = BTreeMap::new();
    for (from, module) in &krate.modules {
        for reference in &module.references {
            let to = krate.resolve(reference);
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common < from.len() && common < to.len() {
                graphs
                    .entry(from[..common].to_vec())
                    .or_default()
                    .entry(from[common].clone())
                    .or_default()
                    .entry(to[common].clone())
                    .or_insert_with(|| file_of(krate, from));
            }
        }
    }
    graphs
}

/// A folder's children → the siblings each imports, with a file that does it.
type Edges = BTreeMap<String, BTreeMap<String, PathBuf>>;

fn reachable(from: &str, edges: &Edges) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(node) = todo.pop() {
        for next in edges.get(&node).into_iter().flat_map(|m| m.keys()) {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

/// The groups of a folder's children that import each other in a circle (the strongly
/// connected components with more than one member).
fn tangles(edges: &Edges) -> Vec<BTreeSet<String>> {
    let reach: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|n| (n, reachable(n, edges))).collect();
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for (node, from_node) in &reach {
        if !from_node.contains(*node) || groups.iter().any(|g| g.contains(*node)) {
            continue;
        }
        let group: BTreeSet<String> = from_node
            .iter()
            .filter(|other| reach.get(other).is_some_and(|r| r.contains(*node)))
            .cloned()
            .collect();
        groups.push(group);
    }
    groups
}

/// A shortest way back from `start` to itself inside `group`, for the message.
fn cycle_through(start: &str, group: &BTreeSet<String>, edges: &Edges) -> Vec<String> {
    let mut came_from: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.to_string()]);
    while let Some(node) = queue.pop_front() {
        for next in edges.get(&node).into_iter().flat_map(|m| m.keys()) {
            if !group.contains(next) || came_from.contains_key(next) {
                continue;
            }
            came_from.insert(next.clone(), node.clone());
            if next == start {
                let mut cycle = vec![start.to_string()];
                let mut at = came_from[start].clone();
                while at != start {
                    cycle.push(at.clone());
                    at = came_from[&at].clone();
                }
                cycle.push(start.to_string());
                cycle.reverse();
                return cycle;
            }
            queue.push_back(next.clone());
        }
    }
    unreachable!("{start} is in a cycle")
}

fn display(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_string()
    } else {
        format!("crate::{}", path.join("::"))
    }
}

/// Every cycle found in the crate rooted at `root`, one message each.
fn cycles(root: &Path) -> Vec<String> {
    let krate = Crate::read(root).unwrap_or_else(|e| panic!("reading {}: {e}", root.display()));
    let mut found = Vec::new();
    for (folder, edges) in sibling_graphs(&krate) {
        for group in tangles(&edges) {
            let cycle = cycle_through(group.first().unwrap(), &group, &edges);
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    let by = &edges[&w[0]][&w[1]];
                    format!("{} → {} ({})", w[0], w[1], relative(by))
                })
                .collect();
            let members: Vec<&str> = group.iter().map(String::as_str).collect();
            found.push(format!(
                "{}: {} modules in {} import each other in a circle: {{{}}}; for example {}",
                relative(root),
                group.len(),
                display(&folder),
                members.join(", "),
                steps.join(", ")
            ));
        }
    }
    found
}

/// Folders under `dir` holding more than `MAX_FILES` `.rs` files.
fn crowded_folders(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut files = 0;
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(crowded_folders(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files += 1;
        }
    }
    if files > MAX_FILES {
        found.push(format!(
            "{} holds {files} .rs files (at most {MAX_FILES})",
            relative(dir)
        ));
    }
    found
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn sibling_modules_import_one_way() {
    let found: Vec<String> = CRATE_ROOTS
        .iter()
        .flat_map(|root| cycles(&workspace().join(root)))
        .collect();
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn no_folder_is_crowded() {
    let found: Vec<String> = CRATE_ROOTS
        .iter()
        .flat_map(|root| crowded_folders(workspace().join(root).parent().unwrap()))
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The check itself, on small crates written to a temporary folder: it must see each
/// kind of edge, or the tests above could pass on a tangled tree.
mod checker {
    use super::*;

    fn crate_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let found = cycles(&dir.path().join("lib.rs"));
        (dir, found)
    }

    #[test]
    fn sees_a_cycle_through_crate_paths() {
        let (_dir, found) = crate_with(&[
            ("lib.rs", "mod a; mod b;"),
            ("a.rs", "use crate::b::B; pub struct A;"),
            ("b.rs", "pub struct B; fn f() -> crate::a::A { todo!() }"),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("a → b") && found[0].contains("b → a"));
    }

    #[test]
    fn sees_a_cycle_through_a_re_export() {
        let (_dir, found) = crate_with(&[
            ("lib.rs", "mod a; mod b; pub use a::A;"),
            ("a.rs", "use crate::b::B; pub struct A;"),
            ("b.rs", "pub struct B; fn f(_: crate::A) {}"),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn sees_a_cycle_inside_a_folder_through_super() {
        let (_dir, found) = crate_with(&[
            ("lib.rs", "mod room;"),
            ("room/mod.rs", "mod x; mod y;"),
            ("room/x.rs", "use super::y::{Y}; pub struct X;"),
            ("room/y.rs", "pub struct Y; fn f() { let _ = super::x::X; }"),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("crate::room"), "{found:?}");
    }

    #[test]
    fn sees_a_cycle_named_inside_a_macro() {
        let (_dir, found) = crate_with(&[
            ("lib.rs", "mod a; mod b;"),
            ("a.rs", "use crate::b::B; pub struct A;"),
            (
                "b.rs",
                "pub struct B; fn f(x: u8) -> bool { matches!(x, crate::a::ONE) }",
            ),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn one_way_imports_and_test_code_pass() {
        let (_dir, found) = crate_with(&[
            ("lib.rs", "mod a; mod b; pub use b::B; pub struct Shared;"),
            (
                "a.rs",
                "use crate::{B, Shared}; pub fn f(_: B, _: Shared) {}",
            ),
            (
                "b.rs",
                "pub struct B; #[cfg(test)] mod tests { use crate::a::f; }",
            ),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }
}
