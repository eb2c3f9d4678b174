//! What a COPY statement asks for: direction, table or query, columns, and the text/CSV
//! format with Postgres' defaults. The proxy moves the rows; `parse/copy.rs` fills this in.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyDirection {
    /// `FROM STDIN`: the client sends rows.
    In,
    /// `TO STDOUT`: the server sends rows.
    Out,
}

/// The text or CSV format of a COPY, with Postgres' defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFormat {
    pub csv: bool,
    pub delimiter: char,
    pub null: String,
    pub header: bool,
    pub quote: char,
    pub escape: char,
}

impl CopyFormat {
    pub(crate) fn text() -> CopyFormat {
        CopyFormat {
            csv: false,
            delimiter: '\t',
            null: "\\N".to_owned(),
            header: false,
            quote: '"',
            escape: '"',
        }
    }

    pub(crate) fn set_csv(&mut self) {
        self.csv = true;
        if self.delimiter == '\t' {
            self.delimiter = ',';
        }
        if self.null == "\\N" {
            self.null = String::new();
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    pub direction: CopyDirection,
    /// The table, for `COPY table ...`.
    pub table: Option<String>,
    /// The query's text, for `COPY (query) TO STDOUT`.
    pub query: Option<String>,
    pub columns: Vec<String>,
    pub format: CopyFormat,
}

impl CopySpec {
    /// The INSERT that loads one row of `COPY table (columns) FROM STDIN`.
    pub fn insert_sql(table: &str, columns: &[String]) -> String {
        let names: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let params: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(table),
            names.join(", "),
            params.join(", ")
        )
    }
}

/// A double-quoted SQL identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
