//! A crate's module tree as its source files declare it, and the paths each module names.
//!
//! Read with syn from `lib.rs`/`main.rs` down through `mod x;` declarations. Test code
//! (`#[cfg(test)]` items) is left out: unit tests may reach anywhere. Knows nothing of
//! cycles or of what the layout rules are.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// A module's place in the crate: `[]` is the crate root, `["session", "execute"]` is
/// `crate::session::execute`.
pub type ModPath = Vec<String>;

#[derive(Default)]
pub struct Module {
    /// The file the module is written in (for messages).
    pub file: PathBuf,
    pub children: Vec<String>,
    /// `use` declarations: the name they bind in this module → the absolute path named.
    pub imports: BTreeMap<String, ModPath>,
    /// Every path the module names, made absolute (crate-relative), without resolving
    /// re-exports yet.
    pub references: Vec<ModPath>,
}

pub struct Crate {
    pub modules: BTreeMap<ModPath, Module>,
}

impl Crate {
    /// Reads the crate whose root file is `root` (a `lib.rs` or `main.rs`).
    pub fn read(root: &Path) -> Result<Crate, String> {
        let mut modules = BTreeMap::new();
        read_module(root, Vec::new(), true, &mut modules)?;
        Ok(Crate { modules })
    }

    /// The module an absolute path ends in: descends through child modules and follows
    /// `use` re-exports; an item defined in a module resolves to that module.
    pub fn resolve(&self, path: &[String]) -> ModPath {
        let mut path: Vec<String> = path.to_vec();
        // Re-exports may chain; a bound keeps a malformed tree from looping.
        for _ in 0..32 {
            let mut at: ModPath = Vec::new();
            let mut followed = false;
            for (i, segment) in path.iter().enumerate() {
                let Some(module) = self.modules.get(&at) else {
                    return at;
                };
                if module.children.contains(segment) {
                    at.push(segment.clone());
                } else if let Some(target) = module.imports.get(segment) {
                    if target.as_slice() == &path[..=i] {
                        return at;
                    }
                    let mut next = target.clone();
                    next.extend_from_slice(&path[i + 1..]);
                    path = next;
                    followed = true;
                    break;
                } else {
                    return at;
                }
            }
            if !followed {
                return at;
            }
        }
        Vec::new()
    }
}

fn read_module(
    file: &Path,
    at: ModPath,
    owns_folder: bool,
    modules: &mut BTreeMap<ModPath, Module>,
) -> Result<(), String> {
    let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let syntax = syn::parse_file(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    // `lib.rs`, `main.rs` and `mod.rs` keep their children beside them; `x.rs` in `x/`.
    let folder = if owns_folder {
        file.parent().unwrap().to_path_buf()
    } else {
        file.with_extension("")
    };
    let mut collector = Collector {
        stack: vec![at.clone()],
        modules: BTreeMap::new(),
        declared: Vec::new(),
    };
    collector.modules.insert(
        at.clone(),
        Module {
            file: file.to_path_buf(),
            ..Module::default()
        },
    );
    collector.declare_children(&syntax.items);
    collector.visit_file(&syntax);
    for (path, module) in collector.modules {
        modules.insert(path, module);
    }
    for name in collector.declared {
        let flat = folder.join(format!("{name}.rs"));
        let nested = folder.join(&name).join("mod.rs");
        let mut child = at.clone();
        child.push(name.clone());
        if flat.exists() {
            read_module(&flat, child, false, modules)?;
        } else if nested.exists() {
            read_module(&nested, child, true, modules)?;
        } else {
            return Err(format!("{}: mod {name} has no file", file.display()));
        }
    }
    Ok(())
}

struct Collector {
    /// The module being read: the file's module, then any inline `mod x { }` inside it.
    stack: Vec<ModPath>,
    modules: BTreeMap<ModPath, Module>,
    /// `mod x;` declarations of the file's own module, to read from their files.
    declared: Vec<String>,
}

impl Collector {
    fn here(&self) -> &ModPath {
        self.stack.last().unwrap()
    }

    fn module(&mut self) -> &mut Module {
        let here = self.here().clone();
        self.modules.entry(here).or_default()
    }

    /// Makes a path absolute: `crate::a` → `[a]`, `super::b` → parent + `[b]`,
    /// `self::c` → here + `[c]`; a path through a child module is here + path. Paths to
    /// other crates, the prelude or local names give None.
    fn absolute(&self, segments: &[String]) -> Option<ModPath> {
        let mut at = self.here().clone();
        let mut rest = segments;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                at.clear();
                rest = &rest[1..];
            }
            Some("self") => rest = &rest[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    at.pop()?;
                    rest = &rest[1..];
                }
            }
            Some(first) => {
                let module = self.modules.get(self.here())?;
                if !module.children.iter().any(|c| c == first) {
                    return None;
                }
            }
            None => return None,
        }
        at.extend(rest.iter().cloned());
        Some(at)
    }

    /// Children are known before any path is read, so `use child::X` resolves whether the
    /// `mod child;` comes before it or after.
    fn declare_children(&mut self, items: &[syn::Item]) {
        for item in items {
            if let syn::Item::Mod(m) = item
                && !is_test_only(&m.attrs)
            {
                let name = m.ident.to_string();
                self.module().children.push(name.clone());
                if m.content.is_none() && self.stack.len() == 1 {
                    self.declared.push(name);
                }
            }
        }
    }

    fn add_use(&mut self, tree: &syn::UseTree, prefix: Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut next = prefix;
                next.push(p.ident.to_string());
                self.add_use(&p.tree, next);
            }
            syn::UseTree::Name(n) => self.bind(prefix, n.ident.to_string(), None),
            syn::UseTree::Rename(r) => {
                self.bind(prefix, r.ident.to_string(), Some(r.rename.to_string()))
            }
            syn::UseTree::Glob(_) => {
                if let Some(path) = self.absolute(&prefix) {
                    self.module().references.push(path);
                }
            }
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.add_use(item, prefix.clone());
                }
            }
        }
    }

    fn bind(&mut self, mut prefix: Vec<String>, name: String, alias: Option<String>) {
        let bound = alias.unwrap_or_else(|| name.clone());
        // `use a::b::{self}` names the module b itself.
        if name != "self" {
            prefix.push(name);
        }
        if let Some(path) = self.absolute(&prefix) {
            let bound = if bound == "self" {
                prefix.last().cloned().unwrap_or_default()
            } else {
                bound
            };
            let module = self.module();
            module.references.push(path.clone());
            module.imports.insert(bound, path);
        }
    }

    fn add_tokens(&mut self, tokens: TokenStream) {
        // Macro bodies are not parsed: take `crate::a::b` / `super::a` runs from the tokens.
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => self.add_tokens(g.stream()),
                TokenTree::Ident(id) if *id == "crate" || *id == "super" => {
                    let mut segments = vec![id.to_string()];
                    let mut j = i + 1;
                    while j + 2 < trees.len() + 1 {
                        let colons = matches!(&trees[j..], [TokenTree::Punct(a), TokenTree::Punct(b), ..]
                            if a.as_char() == ':' && b.as_char() == ':');
                        if !colons {
                            break;
                        }
                        match trees.get(j + 2) {
                            Some(TokenTree::Ident(next)) => segments.push(next.to_string()),
                            _ => break,
                        }
                        j += 3;
                    }
                    if let Some(path) = self.absolute(&segments) {
                        self.module().references.push(path);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Trait(t) => &t.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if let Some((_, items)) = &item.content {
            let mut inner = self.here().clone();
            inner.push(item.ident.to_string());
            self.stack.push(inner);
            self.declare_children(items);
            for item in items {
                self.visit_item(item);
            }
            self.stack.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.add_use(&item.tree, Vec::new());
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1
            && let Some(absolute) = self.absolute(&segments)
        {
            self.module().references.push(absolute);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.add_tokens(mac.tokens.clone());
    }
}
