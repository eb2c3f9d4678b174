//! COPY's text and CSV formats: rows in from CopyData bytes, rows out to CopyData lines.

use litescale_router::CopyFormat;

use crate::error::SqlError;

/// Splits CopyData bytes into rows of fields as they arrive. Rows may span CopyData
/// messages, and in CSV a quoted field may span lines.
pub struct RowParser {
    format: CopyFormat,
    pending: Vec<u8>,
    /// Where the search for the end of the record at the start of `pending` goes on: a
    /// row longer than a CopyData message is scanned once, not again with each message
    /// (a 40 MB row took 7.5 s when it was).
    scan: Scan,
    header_pending: bool,
    ended: bool,
    line: u64,
}

/// How far the current record has been scanned, and whether that point is inside a CSV
/// quoted field.
#[derive(Default)]
struct Scan {
    at: usize,
    in_quotes: bool,
}

/// A parsed field: `None` is NULL.
pub type Field = Option<String>;

fn bad(line: u64, what: &str) -> SqlError {
    SqlError::new("22P04", format!("bad COPY data on line {line}: {what}"))
}

impl RowParser {
    pub fn new(format: CopyFormat) -> RowParser {
        RowParser {
            header_pending: format.header,
            format,
            pending: Vec::new(),
            scan: Scan::default(),
            ended: false,
            line: 0,
        }
    }

    /// Adds bytes and returns the complete rows they finish.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<Vec<Field>>, SqlError> {
        self.pending.extend_from_slice(data);
        let mut rows = Vec::new();
        let mut consumed = 0;
        while let Some(end) = self.record_end(consumed) {
            let record = self.pending[consumed..end].to_vec();
            consumed = end + 1;
            if let Some(row) = self.record(&record)? {
                rows.push(row);
            }
        }
        self.pending.drain(..consumed);
        self.scan.at -= consumed;
        Ok(rows)
    }

    /// The last row, if the data did not end with a newline.
    pub fn finish(&mut self) -> Result<Option<Vec<Field>>, SqlError> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        let record = std::mem::take(&mut self.pending);
        self.scan = Scan::default();
        self.record(&record)
    }

    /// Index of the newline that ends the record starting at `from`, the end of the last
    /// record found (or the start of `pending`); scanning goes on where it last stopped.
    fn record_end(&mut self, from: usize) -> Option<usize> {
        let end = self.scan_on(from.max(self.scan.at));
        if let Some(end) = end {
            self.scan = Scan {
                at: end + 1,
                in_quotes: false,
            };
        }
        end
    }

    fn scan_on(&mut self, from: usize) -> Option<usize> {
        let bytes = &self.pending;
        if !self.format.csv {
            let end = bytes[from..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|i| from + i);
            self.scan.at = bytes.len();
            return end;
        }
        let quote = self.format.quote as u8;
        let escape = self.format.escape as u8;
        let mut in_quotes = self.scan.in_quotes;
        let mut i = from;
        while i < bytes.len() {
            let b = bytes[i];
            if in_quotes {
                let next = bytes.get(i + 1);
                let needs_next =
                    (b == escape && escape != quote) || (b == quote && escape == quote);
                if needs_next && next.is_none() {
                    // Whether this byte escapes the next one is known once it arrives.
                    break;
                }
                if b == escape && escape != quote && next == Some(&quote) {
                    i += 1;
                } else if b == quote {
                    // A doubled quote inside quotes stays inside.
                    if next == Some(&quote) && escape == quote {
                        i += 1;
                    } else {
                        in_quotes = false;
                    }
                }
            } else if b == quote {
                in_quotes = true;
            } else if b == b'\n' {
                return Some(i);
            }
            i += 1;
        }
        self.scan = Scan { at: i, in_quotes };
        None
    }

    fn record(&mut self, raw: &[u8]) -> Result<Option<Vec<Field>>, SqlError> {
        self.line += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = std::str::from_utf8(raw)
            .map_err(|_| SqlError::new("22021", "invalid byte sequence for encoding \"UTF8\""))?;
        if self.ended || text == "\\." {
            self.ended = true;
            return Ok(None);
        }
        if self.header_pending {
            self.header_pending = false;
            return Ok(None);
        }
        let fields = if self.format.csv {
            self.csv_fields(text)?
        } else {
            self.text_fields(text)?
        };
        Ok(Some(fields))
    }

    fn text_fields(&self, line: &str) -> Result<Vec<Field>, SqlError> {
        line.split(self.format.delimiter)
            .map(|f| {
                if f == self.format.null {
                    Ok(None)
                } else {
                    unescape_text(f)
                        .map(Some)
                        .ok_or_else(|| bad(self.line, "bad escape"))
                }
            })
            .collect()
    }

    fn csv_fields(&self, record: &str) -> Result<Vec<Field>, SqlError> {
        let (delim, quote, escape) = (self.format.delimiter, self.format.quote, self.format.escape);
        let mut fields = Vec::new();
        let mut chars = record.chars().peekable();
        let mut value = String::new();
        let mut quoted = false;
        let mut in_quotes = false;
        while let Some(c) = chars.next() {
            if in_quotes {
                if c == escape && chars.peek() == Some(&quote) {
                    value.push(quote);
                    chars.next();
                } else if c == quote {
                    in_quotes = false;
                } else {
                    value.push(c);
                }
            } else if c == quote {
                quoted = true;
                in_quotes = true;
            } else if c == delim {
                fields.push(csv_field(
                    std::mem::take(&mut value),
                    quoted,
                    &self.format.null,
                ));
                quoted = false;
            } else {
                value.push(c);
            }
        }
        if in_quotes {
            return Err(bad(self.line, "unterminated CSV quoted field"));
        }
        fields.push(csv_field(value, quoted, &self.format.null));
        Ok(fields)
    }
}

/// In CSV an unquoted value equal to the NULL string is NULL; a quoted one never is.
fn csv_field(value: String, quoted: bool, null: &str) -> Field {
    if !quoted && value == null {
        None
    } else {
        Some(value)
    }
}

/// Text format escapes: `\t`, `\n`, `\\`, octal `\101`, hex `\x41`, ...
fn unescape_text(field: &str) -> Option<String> {
    if !field.contains('\\') {
        return Some(field.to_owned());
    }
    let mut out = Vec::with_capacity(field.len());
    let bytes = field.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        i += 1;
        let c = *bytes.get(i)?;
        i += 1;
        match c {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = (c - b'0') as u32;
                for _ in 0..2 {
                    match bytes.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut digits = 0;
                while digits < 2 {
                    match bytes.get(i).and_then(|d| (*d as char).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            i += 1;
                            digits += 1;
                        }
                        None => break,
                    }
                }
                if digits == 0 {
                    out.push(b'x');
                } else {
                    out.push(v as u8);
                }
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).ok()
}

/// Formats one row (values already in Postgres text form) as a COPY line, with newline.
pub fn format_row(fields: &[Field], format: &CopyFormat) -> String {
    let mut line = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(format.delimiter);
        }
        match f {
            None => line.push_str(&format.null),
            Some(v) if format.csv => {
                let needs_quotes = v.is_empty() && format.null.is_empty()
                    || *v == format.null
                    || v.contains([format.delimiter, format.quote, '\n', '\r']);
                if needs_quotes {
                    line.push(format.quote);
                    for c in v.chars() {
                        if c == format.quote || c == format.escape {
                            line.push(format.escape);
                        }
                        line.push(c);
                    }
                    line.push(format.quote);
                } else {
                    line.push_str(v);
                }
            }
            Some(v) => {
                for c in v.chars() {
                    match c {
                        '\\' => line.push_str("\\\\"),
                        '\n' => line.push_str("\\n"),
                        '\r' => line.push_str("\\r"),
                        '\t' => line.push_str("\\t"),
                        c if c == format.delimiter => {
                            line.push('\\');
                            line.push(c);
                        }
                        c => line.push(c),
                    }
                }
            }
        }
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> CopyFormat {
        match litescale_router::plan("copy t from stdin")
            .unwrap()
            .remove(0)
            .kind
        {
            litescale_router::StatementKind::Copy(spec) => spec.format,
            _ => unreachable!(),
        }
    }

    fn csv() -> CopyFormat {
        match litescale_router::plan("copy t from stdin csv header")
            .unwrap()
            .remove(0)
            .kind
        {
            litescale_router::StatementKind::Copy(spec) => spec.format,
            _ => unreachable!(),
        }
    }

    fn s(v: &str) -> Field {
        Some(v.to_owned())
    }

    #[test]
    fn text_rows_across_chunks_with_escapes_and_nulls() {
        let mut p = RowParser::new(text());
        assert!(p.push(b"1\ta\\tb\t\\N\n2\tx").unwrap().len() == 1);
        let rows = p.push(b"y\t\\\\\n\\.\n").unwrap();
        assert_eq!(rows, [vec![s("2"), s("xy"), s("\\")]]);
        assert_eq!(p.finish().unwrap(), None);
    }

    #[test]
    fn csv_quotes_header_and_null() {
        let mut p = RowParser::new(csv());
        let rows = p
            .push(b"a,b,c\n1,\"x,\"\"y\"\"\nz\",\n2,\"\",plain\n")
            .unwrap();
        assert_eq!(
            rows,
            [
                vec![s("1"), s("x,\"y\"\nz"), None],
                vec![s("2"), s(""), s("plain")]
            ]
        );
    }

    #[test]
    fn csv_rows_split_at_every_byte_parse_as_whole() {
        let data = b"a,b,c\n1,\"x,\"\"y\"\"\nz\",\n2,\"\",plain\n";
        let mut whole = RowParser::new(csv());
        let expected = whole.push(data).unwrap();
        let mut bytewise = RowParser::new(csv());
        let mut rows = Vec::new();
        for b in data {
            rows.extend(bytewise.push(std::slice::from_ref(b)).unwrap());
        }
        assert_eq!(rows, expected);
        // An escape other than the quote, split from the quote it escapes.
        let mut p = RowParser::new(CopyFormat {
            escape: '\\',
            ..csv()
        });
        let mut rows = p.push(b"a,b,c\n1,\"x\\").unwrap();
        rows.extend(p.push(b"\"y\",2\n").unwrap());
        assert_eq!(rows, [vec![s("1"), s("x\"y"), s("2")]]);
    }

    #[test]
    fn formatting_round_trips() {
        let row = vec![s("a\tb\\c"), None, s("x,y")];
        let line = format_row(&row, &text());
        assert_eq!(line, "a\\tb\\\\c\t\\N\tx,y\n");
        let mut p = RowParser::new(text());
        assert_eq!(p.push(line.as_bytes()).unwrap(), std::slice::from_ref(&row));
        let mut c = csv();
        c.header = false;
        let line = format_row(&row, &c);
        assert_eq!(line, "a\tb\\c,,\"x,y\"\n");
        let mut p = RowParser::new(c);
        assert_eq!(p.push(line.as_bytes()).unwrap(), [row]);
    }
}
