//! What the conformance test and its recorder share (the recorder,
//! `tests/conformance/record.rs`, includes this file with `#[path]`): the corpus read
//! from `tests/conformance/corpus/`, a blocking simple-protocol client that turns a
//! statement into an [`Answer`], the golden files' format and the statements' ids.
//!
//! A corpus file `<NN>_<topic>.sql` holds setup statements, a line `-- statements`, then
//! the statements. A statement ends with `;` at the end of a line outside `$$` quotes;
//! lines starting with `--` between statements are comments.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The line that separates a corpus file's setup statements from its statements.
pub const MARKER: &str = "-- statements";

/// One topic: a corpus file and what it holds.
pub struct Topic {
    /// The file's stem, `07_json`: the golden file is `expected/<file>.out`.
    pub file: String,
    /// The topic's name, `json`: in statement ids and the report.
    pub name: String,
    pub statements: Vec<Statement>,
}

/// A statement of the corpus, setup or measured.
pub struct Statement {
    /// `s3` for the third setup statement, `12` for the twelfth statement.
    pub label: String,
    pub setup: bool,
    pub sql: String,
    /// A short hash of the text (and of its occurrence, when the text repeats).
    pub hash: String,
}

impl Topic {
    /// The database the topic runs in, on either side.
    pub fn database(&self) -> String {
        format!("conformance_{}", self.name)
    }

    /// `json:12:3fa9c2`: how misses.txt and DIFFERENCES.md name a statement.
    pub fn id(&self, statement: &Statement) -> String {
        format!("{}:{}:{}", self.name, statement.label, statement.hash)
    }
}

/// The repository's `tests/conformance` folder.
pub fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// Every topic of `corpus/`, in file order.
pub fn read_corpus(dir: &Path) -> Vec<Topic> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("corpus"))
        .expect("tests/conformance/corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            parse_topic(path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

fn parse_topic(path: &Path, text: &str) -> Result<Topic, String> {
    let file = path.file_stem().unwrap().to_string_lossy().into_owned();
    let name = file
        .split_once('_')
        .map(|(_, n)| n.to_owned())
        .ok_or("a corpus file is named <NN>_<topic>.sql")?;
    let mut statements = Vec::new();
    let mut setup = true;
    let mut current = String::new();
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for (n, line) in text.lines().enumerate() {
        if current.is_empty() {
            if line.trim() == MARKER {
                if !setup {
                    return Err(format!("line {}: a second `{MARKER}`", n + 1));
                }
                setup = false;
                continue;
            }
            if line.trim().is_empty() || line.trim_start().starts_with("--") {
                continue;
            }
        }
        if line.starts_with("==== ") || line.starts_with("---- ") {
            return Err(format!("line {}: reserved for the golden format", n + 1));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line.trim_end());
        if current.ends_with(';') && current.matches("$$").count().is_multiple_of(2) {
            let sql = std::mem::take(&mut current);
            let occurrence = seen.entry(sql.clone()).or_default();
            *occurrence += 1;
            let mut hashed = sql.clone();
            if *occurrence > 1 {
                hashed.push_str(&format!("\n#{occurrence}"));
            }
            let count = statements
                .iter()
                .filter(|s: &&Statement| s.setup == setup)
                .count()
                + 1;
            statements.push(Statement {
                label: if setup {
                    format!("s{count}")
                } else {
                    count.to_string()
                },
                setup,
                hash: short_hash(&hashed),
                sql,
            });
        }
    }
    if !current.is_empty() {
        return Err(format!("a statement without its `;`: {current}"));
    }
    if setup {
        return Err(format!("no `{MARKER}` line"));
    }
    Ok(Topic {
        file,
        name,
        statements,
    })
}

/// FNV-1a, six hex digits: short, stable across platforms and Rust versions.
fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:06x}", (h ^ (h >> 32)) & 0xff_ffff)
}

/// What a statement answered, as the comparison sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An ErrorResponse: only its SQLSTATE (messages differ between servers).
    Error(String),
    Ok {
        /// The CommandComplete tag (`SELECT 2`, `INSERT 0 1`), or `empty` for an empty query.
        tag: String,
        /// Names and type OIDs, when the statement returned a RowDescription.
        columns: Option<Vec<(String, u32)>>,
        /// Every value in text form, None for NULL.
        rows: Vec<Vec<Option<String>>>,
    },
}

impl Answer {
    /// The answer as the golden files hold it: a `---- ` line, then the column line and
    /// one line per row.
    pub fn render(&self) -> String {
        match self {
            Answer::Error(code) => format!("---- error {code}\n"),
            Answer::Ok { tag, columns, rows } => {
                let mut out = format!("---- ok {tag}\n");
                if let Some(columns) = columns {
                    let names: Vec<String> = columns
                        .iter()
                        .map(|(name, oid)| format!("{} {oid}", value(Some(name))))
                        .collect();
                    out.push_str(&format!("columns: {}\n", names.join(" | ")));
                }
                for row in rows {
                    let values: Vec<String> = row.iter().map(|v| value(v.as_deref())).collect();
                    out.push_str(&values.join(" | "));
                    out.push('\n');
                }
                out
            }
        }
    }
}

/// A value as written in a golden file: as is when that is unambiguous, else quoted and
/// escaped like a Rust string; NULL is `NULL`, the text 'NULL' is `"NULL"`.
fn value(v: Option<&str>) -> String {
    let Some(s) = v else {
        return "NULL".to_owned();
    };
    let plain = !s.is_empty()
        && s != "NULL"
        && s.trim() == s
        && !s
            .chars()
            .any(|c| c.is_control() || matches!(c, '|' | '"' | '\\'));
    if plain {
        s.to_owned()
    } else {
        format!("{s:?}")
    }
}

/// A golden file: its header, then for each statement a `==== <label>` line, the
/// statement's text and its rendered answer.
pub fn render_golden(topic: &Topic, answers: &[Answer]) -> String {
    let mut out = format!(
        "-- {}.out: answers of PostgreSQL 15 to corpus/{}.sql, recorded by \
         tests/conformance/record.sh. Do not edit.\n",
        topic.file, topic.file
    );
    for (statement, answer) in topic.statements.iter().zip(answers) {
        out.push_str(&format!("==== {}\n{}\n", statement.label, statement.sql));
        out.push_str(&answer.render());
    }
    out
}

/// A golden file's blocks: (label, statement text, rendered answer).
pub fn parse_golden(text: &str) -> Vec<(String, String, String)> {
    let mut blocks = Vec::new();
    for block in text.split("\n==== ").skip(1) {
        let (label, rest) = block.split_once('\n').unwrap_or((block, ""));
        let (sql, answer) = if rest.starts_with("---- ") {
            ("", rest)
        } else {
            match rest.find("\n---- ") {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, ""),
            }
        };
        let mut answer = answer.to_owned();
        if !answer.ends_with('\n') {
            answer.push('\n');
        }
        blocks.push((label.to_owned(), sql.to_owned(), answer));
    }
    blocks
}

/// A byte stream to a server: TCP or a Unix socket.
pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// The most rows one answer may have: far above any golden answer.
const MAX_ROWS: usize = 10_000;

/// A blocking frontend speaking the simple query protocol, trust authentication only.
pub struct Wire {
    stream: Box<dyn Stream>,
}

impl Wire {
    /// Starts a session as `postgres` on `database` over `stream`.
    pub fn start(stream: Box<dyn Stream>, database: &str) -> std::io::Result<Wire> {
        let mut body = 196608i32.to_be_bytes().to_vec();
        for s in ["user", "postgres", "database", database, ""] {
            body.extend_from_slice(s.as_bytes());
            body.push(0);
        }
        let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        packet.extend(body);
        let mut wire = Wire { stream };
        wire.stream.write_all(&packet)?;
        loop {
            let (tag, body) = wire.recv()?;
            match tag {
                b'Z' => return Ok(wire),
                b'R' if body[..4] != [0, 0, 0, 0] => {
                    return Err(std::io::Error::other("only trust authentication"));
                }
                b'E' => {
                    return Err(std::io::Error::other(format!(
                        "startup refused: {}",
                        String::from_utf8_lossy(&body)
                    )));
                }
                _ => {}
            }
        }
    }

    fn recv(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        let mut head = [0u8; 5];
        self.stream.read_exact(&mut head)?;
        let len = i32::from_be_bytes(head[1..5].try_into().unwrap()) as usize;
        let mut body = vec![0; len - 4];
        self.stream.read_exact(&mut body)?;
        Ok((head[0], body))
    }

    /// Sends `sql` as one Query message and reads its answer up to ReadyForQuery.
    pub fn query(&mut self, sql: &str) -> std::io::Result<Answer> {
        let mut body = sql.as_bytes().to_vec();
        body.push(0);
        let mut packet = vec![b'Q'];
        packet.extend(((body.len() + 4) as i32).to_be_bytes());
        packet.extend(body);
        self.stream.write_all(&packet)?;
        let mut error = None;
        let mut tag = None;
        let mut columns = None;
        let mut rows = Vec::new();
        loop {
            let (kind, body) = self.recv()?;
            match kind {
                b'Z' => break,
                b'E' => {
                    let code = body
                        .split(|b| *b == 0)
                        .find_map(|f| f.strip_prefix(b"C"))
                        .map(|c| String::from_utf8_lossy(c).into_owned());
                    error.get_or_insert(code.unwrap_or_else(|| "?????".to_owned()));
                }
                b'C' => tag = Some(cstring(&body, &mut 0)),
                b'I' => tag = Some("empty".to_owned()),
                b'T' => columns = Some(row_description(&body)),
                // A runaway answer (a recursive CTE that never ends) fails the topic
                // instead of holding every row in memory until the machine runs out.
                b'D' if rows.len() == MAX_ROWS => {
                    return Err(std::io::Error::other(format!(
                        "more than {MAX_ROWS} rows, no golden answer has as many: {sql}"
                    )));
                }
                b'D' => rows.push(data_row(&body)),
                b'G' | b'H' => {
                    // COPY is not part of the corpus: refuse to go on.
                    let mut fail = vec![b'f'];
                    fail.extend(9i32.to_be_bytes());
                    fail.extend(b"no COPY\0");
                    self.stream.write_all(&fail)?;
                }
                _ => {} // notices, parameter status
            }
        }
        Ok(match error {
            Some(code) => Answer::Error(code),
            None => Answer::Ok {
                tag: tag.unwrap_or_default(),
                columns,
                rows,
            },
        })
    }
}

fn cstring(body: &[u8], at: &mut usize) -> String {
    let end = body[*at..].iter().position(|b| *b == 0).unwrap() + *at;
    let s = String::from_utf8_lossy(&body[*at..end]).into_owned();
    *at = end + 1;
    s
}

fn row_description(body: &[u8]) -> Vec<(String, u32)> {
    let n = i16::from_be_bytes([body[0], body[1]]);
    let mut at = 2;
    (0..n)
        .map(|_| {
            let name = cstring(body, &mut at);
            let oid = u32::from_be_bytes(body[at + 6..at + 10].try_into().unwrap());
            at += 18;
            (name, oid)
        })
        .collect()
}

fn data_row(body: &[u8]) -> Vec<Option<String>> {
    let n = i16::from_be_bytes([body[0], body[1]]);
    let mut at = 2;
    (0..n)
        .map(|_| {
            let len = i32::from_be_bytes(body[at..at + 4].try_into().unwrap());
            at += 4;
            (len >= 0).then(|| {
                let v = String::from_utf8_lossy(&body[at..at + len as usize]).into_owned();
                at += len as usize;
                v
            })
        })
        .collect()
}

/// Runs a topic in a fresh database: drops and creates it through `admin`, opens a
/// session on it with `open`, and answers every statement in order.
pub fn run_topic(
    admin: &mut Wire,
    topic: &Topic,
    open: impl Fn(&str) -> std::io::Result<Wire>,
) -> std::io::Result<Vec<Answer>> {
    let database = topic.database();
    admin.query(&format!("DROP DATABASE IF EXISTS {database}"))?;
    match admin.query(&format!("CREATE DATABASE {database}"))? {
        Answer::Error(code) => {
            return Err(std::io::Error::other(format!(
                "CREATE DATABASE {database}: {code}"
            )));
        }
        Answer::Ok { .. } => {}
    }
    let mut session = open(&database)?;
    topic
        .statements
        .iter()
        .map(|s| session.query(&s.sql))
        .collect()
}
