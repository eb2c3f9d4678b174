//! The error every call of this crate answers with: a SQLSTATE and Postgres' wording,
//! ready for the client, and how it travels between processes. (Which SQLSTATE a SQLite
//! error gets is the engine's to say: engine/sqlite_errors.rs.)

/// An error from a worker, ready for the client: a SQLSTATE, a message in Postgres'
/// wording where there is one, and SQLite's own words as detail when they add something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ShardError {
    pub sqlstate: &'static str,
    pub message: String,
    pub detail: Option<String>,
    /// Boxed: most errors are about nothing named, and every `Result` carries the size.
    pub about: Option<Box<ErrorFields>>,
}

/// What a constraint violation is about, as Postgres names it in the ErrorResponse's
/// fields (schema_name, table_name, column_name, constraint_name), which drivers hand
/// their users (Diesel's `constraint_name()`) and ORMs map to their own errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorFields {
    pub schema: Option<String>,
    pub table: Option<String>,
    pub column: Option<String>,
    pub constraint: Option<String>,
}

impl ShardError {
    pub fn new(sqlstate: &'static str, message: impl Into<String>) -> ShardError {
        ShardError {
            sqlstate,
            message: message.into(),
            detail: None,
            about: None,
        }
    }

    pub(crate) fn with_detail(mut self, detail: &str) -> ShardError {
        self.detail = Some(detail.to_owned());
        self
    }

    pub fn is_cancel(&self) -> bool {
        self.sqlstate == "57014"
    }
}

/// Over the worker protocol a SQLSTATE travels as text; each distinct code is kept once
/// for the life of the process (there are a few hundred), so errors stay `&'static str`.
pub(crate) fn intern(code: &str) -> &'static str {
    static CODES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut codes = CODES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = codes.iter().find(|c| **c == code) {
        return known;
    }
    let code: &'static str = Box::leak(code.to_owned().into_boxed_str());
    codes.push(code);
    code
}

impl serde::Serialize for ShardError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.sqlstate, &self.message, &self.detail, &self.about).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for ShardError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ShardError, D::Error> {
        let (sqlstate, message, detail, about): (
            String,
            String,
            Option<String>,
            Option<Box<ErrorFields>>,
        ) = serde::Deserialize::deserialize(d)?;
        if sqlstate.len() != 5 || !sqlstate.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(serde::de::Error::custom(
                "a SQLSTATE is five letters or digits",
            ));
        }
        Ok(ShardError {
            sqlstate: intern(&sqlstate),
            message,
            detail,
            about,
        })
    }
}

impl From<std::io::Error> for ShardError {
    fn from(e: std::io::Error) -> ShardError {
        ShardError::new("58030", format!("storage I/O error: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_crosses_the_worker_protocol_with_what_it_is_about() {
        let e = ShardError {
            about: Some(Box::new(ErrorFields {
                schema: Some("public".to_owned()),
                table: Some("u".to_owned()),
                column: None,
                constraint: Some("u_pkey".to_owned()),
            })),
            ..ShardError::new(
                "23505",
                "duplicate key value violates unique constraint \"u_pkey\"",
            )
        };
        let bytes = postcard::to_allocvec(&e).unwrap();
        assert_eq!(postcard::from_bytes::<ShardError>(&bytes).unwrap(), e);
    }
}
