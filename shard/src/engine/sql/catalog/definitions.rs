//! What SQLite keeps in a table's CREATE text but does not report: the names given to
//! foreign keys, and the comments COMMENT ON writes there (router
//! translate/alter/comments.rs), each found in the definition (a column's, or the table's
//! own constraints) it belongs to.

/// The CHECK that holds a comment: `CONSTRAINT "litescale_comment" CHECK ('text' IS NOT NULL)`.
static COMMENT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r#"CONSTRAINT\s+"litescale_comment"\s+CHECK\s*\(\s*'((?:[^']|'')*)'\s+IS\s+NOT\s+NULL\s*\)"#)
        .expect("a valid pattern")
});

/// The comment on `column`, or on the table itself (`None`).
pub(super) fn comment_of(create_sql: &str, column: Option<&str>) -> Option<String> {
    COMMENT.captures_iter(create_sql).find_map(|c| {
        let owner = owner_of(create_sql, c.get(0)?.start())?;
        let table_level = owner.eq_ignore_ascii_case("CONSTRAINT");
        let matches = match column {
            None => table_level,
            Some(column) => !table_level && owner.eq_ignore_ascii_case(column),
        };
        matches.then(|| c[1].replace("''", "'"))
    })
}

/// The first word (unquoted) of the definition in the table's body that holds the text at
/// `at`: a column's name, or CONSTRAINT (or PRIMARY, UNIQUE, ...) for a table constraint.
fn owner_of(create_sql: &str, at: usize) -> Option<String> {
    // Where each definition of the table's body starts: after its '(' or a ',' at depth 1.
    let mut start = None;
    let (mut depth, mut quoted) = (0, None);
    for (i, c) in create_sql.char_indices() {
        if i >= at {
            break;
        }
        match (c, quoted) {
            ('"' | '\'', None) => quoted = Some(c),
            (q, Some(open)) if q == open => quoted = None,
            (_, Some(_)) => {}
            ('(', None) => {
                depth += 1;
                if depth == 1 {
                    start = Some(i + 1);
                }
            }
            (')', None) => depth -= 1,
            (',', None) if depth == 1 => start = Some(i + 1),
            _ => {}
        }
    }
    let word = create_sql[start?..].split_whitespace().next()?;
    Some(word.trim_matches('"').to_owned())
}

/// The name a foreign key on `columns` (comma-separated) was given in its table's CREATE
/// TABLE text (`CONSTRAINT name FOREIGN KEY (a, b)`), which SQLite keeps but does not
/// report; `None` when it was given none.
pub(super) fn foreign_key_name(create_sql: &str, columns: &str) -> Option<String> {
    static NAMED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?i)CONSTRAINT\s+("[^"]+"|\S+)\s+FOREIGN\s+KEY\s*\(([^)]*)\)"#)
            .expect("a valid pattern")
    });
    let normalize = |list: &str| {
        list.split(',')
            .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    let wanted = normalize(columns);
    NAMED
        .captures_iter(create_sql)
        .find(|c| normalize(&c[2]) == wanted)
        .map(|c| c[1].trim_matches('"').to_owned())
        .or_else(|| column_foreign_key_name(create_sql, &wanted))
}

/// The name of a column's own foreign key (`parent_id int CONSTRAINT name REFERENCES ...`).
fn column_foreign_key_name(create_sql: &str, wanted: &[String]) -> Option<String> {
    static NAMED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?i)CONSTRAINT\s+("[^"]+"|\S+)\s+REFERENCES\b"#)
            .expect("a valid pattern")
    });
    let [column] = wanted else {
        return None;
    };
    NAMED.captures_iter(create_sql).find_map(|c| {
        let defined = owner_of(create_sql, c.get(0)?.start())?;
        (defined.to_ascii_lowercase() == *column).then(|| c[1].trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::{comment_of, foreign_key_name};

    #[test]
    fn a_foreign_key_keeps_the_name_it_was_given() {
        let sql = "CREATE TABLE pets (id INT, owner_id INT, vet INT, \
                   CONSTRAINT \"pets_owner_fk\" FOREIGN KEY (owner_id) REFERENCES owners(id), \
                   FOREIGN KEY (vet) REFERENCES vets(id))";
        assert_eq!(
            foreign_key_name(sql, "owner_id").as_deref(),
            Some("pets_owner_fk")
        );
        assert_eq!(foreign_key_name(sql, "vet"), None);
        let sql = "CREATE TABLE c (id INT, note VARCHAR(3) CHECK (note <> ','), \
                   \"Parent\" INT CONSTRAINT \"c_parent_fk\" REFERENCES p(id), other INT REFERENCES p(id))";
        assert_eq!(
            foreign_key_name(sql, "parent").as_deref(),
            Some("c_parent_fk")
        );
        assert_eq!(foreign_key_name(sql, "other"), None);
        assert_eq!(foreign_key_name(sql, "note"), None);
    }

    #[test]
    fn comments_belong_to_the_table_or_their_column() {
        let sql = "CREATE TABLE t (id INT CONSTRAINT \"litescale_comment\" CHECK ('the id' IS NOT NULL), \
                   \"Name\" TEXT CHECK (length(\"Name\") > 0) CONSTRAINT \"litescale_comment\" \
                   CHECK ('it''s, (a) name' IS NOT NULL), n INT, \
                   CONSTRAINT \"litescale_comment\" CHECK ('a table' IS NOT NULL))";
        assert_eq!(comment_of(sql, None).as_deref(), Some("a table"));
        assert_eq!(comment_of(sql, Some("id")).as_deref(), Some("the id"));
        assert_eq!(
            comment_of(sql, Some("name")).as_deref(),
            Some("it's, (a) name")
        );
        assert_eq!(comment_of(sql, Some("n")), None);
    }
}
