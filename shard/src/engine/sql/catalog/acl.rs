//! An object's access privileges as Postgres keeps them (`aclitem[]`): items of a grantee
//! (empty for PUBLIC), the privileges held, those of them held with grant option, and the
//! grantor; read from and written as Postgres' text, `{postgres=arwdDxt/postgres,=r/postgres}`,
//! and changed by GRANT and REVOKE as Postgres' aclupdate changes them.

/// Every privilege: its letter in aclitem's text and its keyword, in the order of Postgres'
/// bits (and of its text, and of information_schema's privilege_type).
const PRIVILEGES: [(char, &str); 12] = [
    ('a', "INSERT"),
    ('r', "SELECT"),
    ('w', "UPDATE"),
    ('d', "DELETE"),
    ('D', "TRUNCATE"),
    ('x', "REFERENCES"),
    ('t', "TRIGGER"),
    ('X', "EXECUTE"),
    ('U', "USAGE"),
    ('C', "CREATE"),
    ('T', "TEMPORARY"),
    ('c', "CONNECT"),
];

/// The owner every object shows (litescale keeps no owner per object).
pub(crate) const OWNER: &str = "postgres";

/// A set of privileges, one bit per entry of [`PRIVILEGES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Privileges(u16);

impl Privileges {
    pub(crate) const NONE: Privileges = Privileges(0);
    pub(crate) const INSERT: Privileges = Privileges(1 << 0);
    pub(crate) const SELECT: Privileges = Privileges(1 << 1);
    pub(crate) const UPDATE: Privileges = Privileges(1 << 2);
    pub(crate) const DELETE: Privileges = Privileges(1 << 3);
    pub(crate) const TRUNCATE: Privileges = Privileges(1 << 4);
    pub(crate) const USAGE: Privileges = Privileges(1 << 8);

    /// The privilege a keyword of GRANT names (`SELECT`, `USAGE`, ...).
    pub(crate) fn named(keyword: &str) -> Option<Privileges> {
        let keyword = keyword.to_ascii_uppercase();
        let keyword = if keyword == "TEMP" {
            "TEMPORARY"
        } else {
            &keyword
        };
        PRIVILEGES
            .iter()
            .position(|(_, k)| *k == keyword)
            .map(|bit| Privileges(1 << bit))
    }

    fn letter(letter: char) -> Privileges {
        Privileges(
            PRIVILEGES
                .iter()
                .position(|(l, _)| *l == letter)
                .map_or(0, |bit| 1 << bit),
        )
    }

    /// Every privilege an object of `kind` takes: `r` a table or view, `s` a sequence.
    pub(crate) fn all_of(kind: ObjectKind) -> Privileges {
        match kind {
            ObjectKind::Relation => Self::of_letters("arwdDxt"),
            ObjectKind::Sequence => Self::of_letters("rwU"),
        }
    }

    fn of_letters(letters: &str) -> Privileges {
        letters
            .chars()
            .fold(Self::NONE, |all, l| all.with(Self::letter(l)))
    }

    pub(crate) fn with(self, other: Privileges) -> Privileges {
        Privileges(self.0 | other.0)
    }

    pub(crate) fn without(self, other: Privileges) -> Privileges {
        Privileges(self.0 & !other.0)
    }

    pub(crate) fn contains(self, other: Privileges) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The keywords of these privileges, in Postgres' order (information_schema's
    /// privilege_type), each with whether it is held with grant option in `options`.
    pub(crate) fn keywords(self, options: Privileges) -> Vec<(&'static str, bool)> {
        (0..PRIVILEGES.len())
            .filter(|bit| self.0 & (1 << bit) != 0)
            .map(|bit| (PRIVILEGES[bit].1, options.0 & (1 << bit) != 0))
            .collect()
    }
}

/// What kind of object privileges are kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    /// A table, view or materialized view.
    Relation,
    Sequence,
}

/// One grantee's privileges from one grantor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AclItem {
    /// Empty for PUBLIC.
    pub(crate) grantee: String,
    pub(crate) privileges: Privileges,
    /// Those of `privileges` the grantee may grant on.
    pub(crate) grant_options: Privileges,
    pub(crate) grantor: String,
}

/// An object's privileges, in the order Postgres keeps its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Acl(pub(crate) Vec<AclItem>);

impl Acl {
    /// What an object no GRANT or REVOKE has changed holds in Postgres (`acldefault`):
    /// everything, for its owner.
    pub(crate) fn default_for(kind: ObjectKind) -> Acl {
        let all = Privileges::all_of(kind);
        Acl(vec![AclItem {
            grantee: OWNER.to_owned(),
            privileges: all,
            grant_options: Privileges::NONE,
            grantor: OWNER.to_owned(),
        }])
    }

    /// Gives `grantee` (empty: PUBLIC) `privileges`, with grant option if `with_option`,
    /// from the owner.
    pub(crate) fn grant(&mut self, grantee: &str, privileges: Privileges, with_option: bool) {
        let options = if with_option {
            privileges
        } else {
            Privileges::NONE
        };
        match self.item_from_owner(grantee) {
            Some(item) => {
                item.privileges = item.privileges.with(privileges);
                item.grant_options = item.grant_options.with(options);
            }
            None => self.0.push(AclItem {
                grantee: grantee.to_owned(),
                privileges,
                grant_options: options,
                grantor: OWNER.to_owned(),
            }),
        }
    }

    /// Takes `privileges` (or only the right to grant them: `option_only`) from `grantee`'s
    /// item from the owner; an item left with nothing goes.
    pub(crate) fn revoke(&mut self, grantee: &str, privileges: Privileges, option_only: bool) {
        if let Some(item) = self.item_from_owner(grantee) {
            item.grant_options = item.grant_options.without(privileges);
            if !option_only {
                item.privileges = item.privileges.without(privileges);
            }
        }
        self.0.retain(|i| !i.privileges.is_empty());
    }

    fn item_from_owner(&mut self, grantee: &str) -> Option<&mut AclItem> {
        self.0
            .iter_mut()
            .find(|i| i.grantee == grantee && i.grantor == OWNER)
    }

    /// What `role` holds: its own items' privileges and PUBLIC's.
    pub(crate) fn held_by(&self, role: &str) -> Privileges {
        self.of_role(role, |i| i.privileges)
    }

    /// What `role` may grant: its own items' grant options and PUBLIC's.
    pub(crate) fn options_held_by(&self, role: &str) -> Privileges {
        self.of_role(role, |i| i.grant_options)
    }

    fn of_role(&self, role: &str, part: impl Fn(&AclItem) -> Privileges) -> Privileges {
        self.0
            .iter()
            .filter(|i| i.grantee.is_empty() || i.grantee == role)
            .fold(Privileges::NONE, |held, i| held.with(part(i)))
    }

    /// Postgres' text of an `aclitem[]`.
    pub(crate) fn to_text(&self) -> String {
        let items: Vec<String> = self.0.iter().map(|i| array_element(&i.to_text())).collect();
        format!("{{{}}}", items.join(","))
    }

    /// Each item's privileges one by one, as information_schema lists them:
    /// `[[grantor, grantee ("PUBLIC" for PUBLIC), privilege_type, grantable], ...]`.
    pub(crate) fn listed(&self) -> serde_json::Value {
        let rows = self.0.iter().flat_map(|item| {
            let grantee = if item.grantee.is_empty() {
                "PUBLIC"
            } else {
                item.grantee.as_str()
            };
            item.privileges
                .keywords(item.grant_options)
                .into_iter()
                .map(move |(keyword, grantable)| {
                    serde_json::json!([item.grantor, grantee, keyword, grantable])
                })
        });
        serde_json::Value::Array(rows.collect())
    }

    /// Reads Postgres' text of an `aclitem[]`; `None` for what is not one.
    pub(crate) fn from_text(text: &str) -> Option<Acl> {
        let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
        array_elements(inner)?
            .iter()
            .map(|e| AclItem::from_text(e))
            .collect::<Option<Vec<_>>>()
            .map(Acl)
    }
}

impl AclItem {
    /// `grantee=privileges/grantor`, a grant option's `*` after its letter.
    fn to_text(&self) -> String {
        let mut letters = String::new();
        for (bit, (letter, _)) in PRIVILEGES.iter().enumerate() {
            if self.privileges.0 & (1 << bit) != 0 {
                letters.push(*letter);
                if self.grant_options.0 & (1 << bit) != 0 {
                    letters.push('*');
                }
            }
        }
        format!(
            "{}={letters}/{}",
            role_text(&self.grantee),
            role_text(&self.grantor)
        )
    }

    fn from_text(text: &str) -> Option<AclItem> {
        let (grantee, rest) = read_role(text)?;
        let rest = rest.strip_prefix('=')?;
        let (letters, grantor) = rest.split_once('/')?;
        let (grantor, _) = read_role(grantor)?;
        let mut privileges = Privileges::NONE;
        let mut grant_options = Privileges::NONE;
        let mut last = Privileges::NONE;
        for c in letters.chars() {
            if c == '*' {
                grant_options = grant_options.with(last);
                continue;
            }
            last = Privileges::letter(c);
            if last.is_empty() {
                return None;
            }
            privileges = privileges.with(last);
        }
        Some(AclItem {
            grantee,
            privileges,
            grant_options,
            grantor,
        })
    }
}

/// A role's name as aclitem's text writes it: double-quoted unless only letters, digits
/// and underscores (Postgres' putid).
fn role_text(name: &str) -> String {
    if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The role name `text` begins with (as [`role_text`] writes it) and what follows.
fn read_role(text: &str) -> Option<(String, &str)> {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(['=', '/']).unwrap_or(text.len());
        return Some((text[..end].to_owned(), &text[end..]));
    };
    let mut name = String::new();
    let mut chars = quoted.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == '"' {
            if quoted[at + 1..].starts_with('"') {
                name.push('"');
                chars.next();
                continue;
            }
            return Some((name, &quoted[at + 1..]));
        }
        name.push(c);
    }
    None
}

/// An array element as Postgres' array text writes it: quoted, with `"` and `\` escaped,
/// when it holds what would end it.
fn array_element(element: &str) -> String {
    if element.is_empty() || element.contains(['"', '\\', ',', '{', '}', ' ']) {
        format!("\"{}\"", element.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        element.to_owned()
    }
}

/// The elements of an array's text between its braces.
fn array_elements(inner: &str) -> Option<Vec<String>> {
    let mut elements = Vec::new();
    if inner.is_empty() {
        return Some(elements);
    }
    let mut chars = inner.chars().peekable();
    loop {
        let mut element = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => element.push(chars.next()?),
                    '"' => break,
                    c => element.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                element.push(c);
                chars.next();
            }
        }
        elements.push(element);
        match chars.next() {
            None => return Some(elements),
            Some(',') => continue,
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(keyword: &str) -> Privileges {
        Privileges::named(keyword).unwrap()
    }

    #[test]
    fn grants_and_revokes_change_items_as_postgres_does() {
        let mut acl = Acl::default_for(ObjectKind::Relation);
        assert_eq!(acl.to_text(), "{postgres=arwdDxt/postgres}");
        acl.grant("reader", p("SELECT"), false);
        acl.grant("", p("INSERT").with(p("SELECT")), false);
        acl.grant("reader", p("UPDATE"), true);
        assert_eq!(
            acl.to_text(),
            "{postgres=arwdDxt/postgres,reader=rw*/postgres,=ar/postgres}"
        );
        assert!(acl.held_by("reader").contains(p("INSERT")));
        assert!(!acl.held_by("other").contains(p("UPDATE")));
        acl.revoke("reader", p("UPDATE"), true);
        assert_eq!(
            acl.to_text(),
            "{postgres=arwdDxt/postgres,reader=rw/postgres,=ar/postgres}"
        );
        acl.revoke("", Privileges::all_of(ObjectKind::Relation), false);
        acl.revoke("reader", p("SELECT").with(p("UPDATE")), false);
        assert_eq!(acl.to_text(), "{postgres=arwdDxt/postgres}");
        acl.revoke(OWNER, Privileges::all_of(ObjectKind::Relation), false);
        assert_eq!(acl.to_text(), "{}");
    }

    #[test]
    fn the_text_reads_back() {
        for text in [
            "{postgres=arwdDxt/postgres,reader=r*w/postgres,=ar/postgres}",
            "{postgres=rwU/postgres,\"\\\"my role\\\"=U/postgres\",\"\\\"a\\\"\\\"b\\\"=r/postgres\"}",
            "{}",
        ] {
            let acl = Acl::from_text(text).unwrap();
            assert_eq!(acl.to_text(), text);
        }
        let quoted = Acl::from_text("{\"\\\"my role\\\"=U/postgres\"}").unwrap();
        assert_eq!(quoted.0[0].grantee, "my role");
        assert_eq!(Acl::from_text("{reader=q/postgres}"), None);
        assert_eq!(Acl::from_text("reader=r/postgres"), None);
    }
}
