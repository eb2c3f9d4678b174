//! Postgres' assignment to an array element, `UPDATE t SET a[i] = x` (`a[i][j]` too),
//! which sqlparser does not read: rewritten as `SET a = pg_array_set(a, x, i)` before
//! parsing (the shard's function writes the element). Slices (`a[1:2] = ...`) are left
//! as they are, for the caller to refuse.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

/// Where a SET list's assignment ends, at the top level: the next assignment, or the
/// clause after the list.
fn ends_assignment(t: &Token) -> bool {
    match t {
        Token::Comma | Token::SemiColon | Token::EOF => true,
        Token::Word(w) => matches!(
            w.keyword,
            Keyword::WHERE | Keyword::RETURNING | Keyword::FROM
        ),
        _ => false,
    }
}

/// `sql` with each subscripted assignment of an UPDATE's SET list rewritten; `None` when
/// it has none the rewrite can take.
pub(crate) fn rewrite(sql: &str) -> Option<String> {
    // Tokens kept as written (`'it''s'`), so that the text they make is the statement's.
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .with_unescape(false)
        .tokenize()
        .ok()?;
    let text = |ts: &[Token]| ts.iter().map(Token::to_string).collect::<String>();
    let (mut out, mut rewrote) = (String::new(), false);
    let (mut in_update, mut in_set, mut depth, mut i) = (false, false, 0i32, 0);
    // Whether the next word is an assignment's target: after SET or a comma of its list.
    let mut at_target = false;
    while i < tokens.len() {
        let t = &tokens[i];
        if in_set
            && at_target
            && matches!(t, Token::Word(_))
            && let Some((assignment, next)) = subscripted(&tokens, i, &text)
        {
            out.push_str(&assignment);
            rewrote = true;
            i = next;
            continue;
        }
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::SemiColon => (in_update, in_set) = (false, false),
            Token::Word(w) if depth == 0 && w.keyword == Keyword::UPDATE => in_update = true,
            Token::Word(w) if depth == 0 && w.keyword == Keyword::SET => in_set = in_update,
            Token::Word(w)
                if depth == 0 && matches!(w.keyword, Keyword::WHERE | Keyword::RETURNING) =>
            {
                in_set = false
            }
            _ => {}
        }
        match t {
            Token::Whitespace(_) => {}
            Token::Comma if depth == 0 => at_target = true,
            Token::Word(w) if w.keyword == Keyword::SET => at_target = true,
            _ => at_target = false,
        }
        out.push_str(&t.to_string());
        i += 1;
    }
    rewrote.then_some(out)
}

/// `a[i][j] = x` starting at `start` as `a = pg_array_set(a, x, i, j)`, and where the
/// assignment ends; `None` when no subscript follows the column or one is a slice.
fn subscripted(
    tokens: &[Token],
    start: usize,
    text: &dyn Fn(&[Token]) -> String,
) -> Option<(String, usize)> {
    let column = &tokens[start];
    let mut at = start + 1;
    let mut subscripts = Vec::new();
    while tokens.get(at) == Some(&Token::LBracket) {
        let from = at + 1;
        let mut depth = 0;
        loop {
            at += 1;
            match tokens.get(at)? {
                Token::LBracket | Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::RBracket if depth == 0 => break,
                Token::RBracket => depth -= 1,
                Token::Colon if depth == 0 => return None,
                _ => {}
            }
        }
        subscripts.push(text(&tokens[from..at]));
        at += 1;
    }
    if subscripts.is_empty() {
        return None;
    }
    while matches!(tokens.get(at), Some(Token::Whitespace(_))) {
        at += 1;
    }
    if tokens.get(at) != Some(&Token::Eq) {
        return None;
    }
    let value_from = at + 1;
    let mut depth = 0;
    at = value_from;
    while let Some(t) = tokens.get(at) {
        match t {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            t if depth == 0 && ends_assignment(t) => break,
            _ => {}
        }
        at += 1;
    }
    let value = text(&tokens[value_from..at]);
    let column = column.to_string();
    Some((
        format!(
            "{column} = pg_array_set({column}, {}, {}) ",
            value.trim(),
            subscripts.join(", ")
        ),
        at,
    ))
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn subscripted_assignments_become_calls_that_write_the_element() {
        assert_eq!(
            rewrite("UPDATE t SET a[2] = f(1, 2), b = 1, c[1][i + 1] = 'x' WHERE id = 1")
                .as_deref(),
            Some(
                "UPDATE t SET a = pg_array_set(a, f(1, 2), 2) , b = 1, \
                 c = pg_array_set(c, 'x', 1, i + 1) WHERE id = 1"
            )
        );
        assert_eq!(
            rewrite("update t set a[1] = 'it''s' returning a").as_deref(),
            Some("update t set a = pg_array_set(a, 'it''s', 1) returning a")
        );
        assert_eq!(rewrite("UPDATE t SET a[1:2] = '{1,2}'"), None);
        // A comparison in the value is no assignment.
        assert_eq!(rewrite("UPDATE t SET ok = a[1] = 2"), None);
        assert_eq!(rewrite("SELECT a[1] FROM t"), None);
    }
}
