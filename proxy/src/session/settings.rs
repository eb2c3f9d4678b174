//! Session settings: what SET changes, SHOW prints and RESET restores.

use std::collections::BTreeMap;

use litescale_shard::SessionZone;

use crate::error::SqlError;

pub use litescale_router::SERVER_VERSION;

/// server_version_num of SERVER_VERSION.
pub const SERVER_VERSION_NUM: &str = "150018";

/// (name, default, name in a ParameterStatus message if Postgres reports it to clients).
const KNOWN: &[(&str, &str, Option<&str>)] = &[
    ("application_name", "", Some("application_name")),
    ("client_encoding", "UTF8", Some("client_encoding")),
    ("datestyle", "ISO, MDY", Some("DateStyle")),
    ("default_transaction_isolation", "read committed", None),
    (
        "default_transaction_read_only",
        "off",
        Some("default_transaction_read_only"),
    ),
    ("extra_float_digits", "1", None),
    ("idle_in_transaction_session_timeout", "0", None),
    ("in_hot_standby", "off", Some("in_hot_standby")),
    ("integer_datetimes", "on", Some("integer_datetimes")),
    ("intervalstyle", "postgres", Some("IntervalStyle")),
    ("is_superuser", "on", Some("is_superuser")),
    ("lock_timeout", "0", None),
    ("max_identifier_length", "63", None),
    ("search_path", "\"$user\", public", None),
    ("server_encoding", "UTF8", Some("server_encoding")),
    ("server_version", SERVER_VERSION, Some("server_version")),
    ("server_version_num", SERVER_VERSION_NUM, None),
    ("session_authorization", "postgres", None),
    (
        "standard_conforming_strings",
        "on",
        Some("standard_conforming_strings"),
    ),
    ("statement_timeout", "0", None),
    ("synchronous_commit", "on", None),
    ("timezone", "UTC", Some("TimeZone")),
    ("transaction_isolation", "read committed", None),
    ("bytea_output", "hex", None),
    ("client_min_messages", "notice", None),
    // What pg_dump sets, and the scripts it writes set before they restore; they change
    // nothing litescale does.
    ("synchronize_seqscans", "on", None),
    ("row_security", "on", None),
    ("check_function_bodies", "on", None),
    ("xmloption", "content", None),
    ("default_tablespace", "", None),
    ("default_table_access_method", "heap", None),
    ("quote_all_identifiers", "off", None),
    ("default_with_oids", "off", None),
];

/// Settings that are durations, in milliseconds unless a unit says otherwise.
const DURATIONS: &[&str] = &[
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "lock_timeout",
];

/// Postgres' duration syntax: `5000`, `5s`, `100ms`, `1min`, `2h`, `1d`; 0 means none.
fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let ms_per_unit = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    let ms = number * ms_per_unit;
    (ms.is_finite() && ms >= 0.0).then(|| std::time::Duration::from_secs_f64(ms / 1_000.0))
}

/// A boolean setting's value is true (Postgres' spellings: on, true, yes, 1).
/// The schemas a `search_path` value lists, in order, as identifiers read (folded unless
/// quoted), without `$user` (no schema is named after a role unless made so) and the
/// catalogs, which names are not looked up in; `public` when none is left.
fn search_path_schemas(value: &str) -> Vec<String> {
    let schemas: Vec<String> = value
        .split(',')
        .map(|entry| {
            let entry = entry.trim();
            match entry.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
                Some(quoted) => quoted.to_owned(),
                None => entry.to_ascii_lowercase(),
            }
        })
        .filter(|schema| {
            !matches!(
                schema.as_str(),
                "" | "$user" | "pg_catalog" | "pg_temp" | "information_schema"
            )
        })
        .collect();
    if schemas.is_empty() {
        vec!["public".to_owned()]
    } else {
        schemas
    }
}

pub(crate) fn is_on(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "on" | "true" | "yes" | "1" | "t" | "y"
    )
}

/// Settings a client may read but not change.
const READ_ONLY: &[&str] = &[
    "integer_datetimes",
    "is_superuser",
    "max_identifier_length",
    "server_encoding",
    "server_version",
    "server_version_num",
    "in_hot_standby",
    "session_authorization",
];

/// The name Postgres gives a setting in SHOW's column (`TimeZone`, `DateStyle`).
pub fn column_name(name: &str) -> &str {
    known(name)
        .and_then(|(_, _, reported)| *reported)
        .unwrap_or(name)
}

fn known(name: &str) -> Option<&'static (&'static str, &'static str, Option<&'static str>)> {
    KNOWN.iter().find(|(n, _, _)| *n == name)
}

#[derive(Debug, Clone)]
pub struct Settings {
    values: BTreeMap<String, String>,
    startup: BTreeMap<String, String>,
    /// TimeZone, read once when set rather than for every statement that needs it.
    zone: SessionZone,
}

fn unrecognized(name: &str) -> SqlError {
    SqlError::new(
        "42704",
        format!("unrecognized configuration parameter \"{name}\""),
    )
}

impl Settings {
    /// Settings as the client's startup packet left them.
    pub fn new(application_name: Option<&str>) -> Settings {
        let mut startup = BTreeMap::new();
        if let Some(a) = application_name {
            startup.insert("application_name".to_owned(), a.to_owned());
        }
        Settings {
            values: startup.clone(),
            startup,
            zone: SessionZone::default(),
        }
    }

    fn default_of(&self, name: &str) -> Option<String> {
        self.startup
            .get(name)
            .cloned()
            .or_else(|| known(name).map(|(_, d, _)| (*d).to_owned()))
    }

    /// The value SHOW prints.
    /// The schemas unqualified names are looked up in (router SessionContext::search_path).
    pub fn search_path(&self) -> Vec<String> {
        self.values
            .get("search_path")
            .map_or_else(|| vec!["public".to_owned()], |v| search_path_schemas(v))
    }

    pub fn show(&self, name: &str) -> Result<String, SqlError> {
        self.values
            .get(name)
            .cloned()
            .or_else(|| self.default_of(name))
            .ok_or_else(|| unrecognized(name))
    }

    /// Every known setting with its value, for `SHOW ALL`.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut names: Vec<&str> = KNOWN.iter().map(|(n, _, _)| *n).collect();
        names.extend(self.values.keys().map(String::as_str));
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .map(|n| (n.to_owned(), self.show(n).unwrap_or_default()))
            .collect()
    }

    /// Sets (or, with `None`, resets) a setting. Returns the ParameterStatus to send, if
    /// Postgres reports this setting to clients.
    pub fn set(
        &mut self,
        name: &str,
        value: Option<&str>,
    ) -> Result<Option<(String, String)>, SqlError> {
        let custom = name.contains('.');
        let entry = known(name);
        if entry.is_none() && !custom {
            return Err(unrecognized(name));
        }
        if READ_ONLY.contains(&name) {
            return Err(SqlError::new(
                "55P02",
                format!("parameter \"{name}\" cannot be changed"),
            ));
        }
        if name == "client_encoding"
            && let Some(v) = value
            && !matches!(
                v.to_ascii_uppercase().as_str(),
                "UTF8" | "UTF-8" | "UNICODE"
            )
        {
            return Err(SqlError::new(
                "0A000",
                format!("client_encoding \"{v}\" is not supported; litescale speaks UTF8 only"),
            ));
        }
        if DURATIONS.contains(&name)
            && let Some(v) = value
            && parse_duration(v).is_none()
        {
            return Err(SqlError::new(
                "22023",
                format!("invalid value for parameter \"{name}\": \"{v}\""),
            ));
        }
        if name == "timezone" {
            self.zone = match value {
                Some(v) => SessionZone::from_setting(v).ok_or_else(|| {
                    SqlError::new(
                        "22023",
                        format!("invalid value for parameter \"TimeZone\": \"{v}\""),
                    )
                })?,
                None => SessionZone::default(),
            };
        }
        let value = match name {
            "timezone" => value.map(|_| self.zone.shown()),
            _ => value,
        };
        match value {
            Some(v) => {
                self.values.insert(name.to_owned(), v.to_owned());
            }
            None => {
                self.values.remove(name);
            }
        }
        let reported = entry.and_then(|(_, _, r)| *r);
        Ok(reported.map(|r| (r.to_owned(), self.show(name).unwrap_or_default())))
    }

    /// The settings Postgres reports in ParameterStatus messages after startup.
    pub fn reported(&self) -> Vec<(String, String)> {
        KNOWN
            .iter()
            .filter_map(|(name, _, reported)| {
                reported.map(|r| (r.to_owned(), self.show(name).unwrap_or_default()))
            })
            .collect()
    }

    /// A duration setting, `None` when it is 0 (no limit).
    pub fn duration(&self, name: &str) -> Option<std::time::Duration> {
        self.show(name)
            .ok()
            .and_then(|v| parse_duration(&v))
            .filter(|d| !d.is_zero())
    }

    /// Setting `name` as it is in `other` (the end of a SET LOCAL).
    pub fn restore(&mut self, name: &str, other: &Settings) {
        match other.values.get(name) {
            Some(v) => self.values.insert(name.to_owned(), v.clone()),
            None => self.values.remove(name),
        };
        if name == "timezone" {
            self.zone = other.zone.clone();
        }
    }

    pub fn reset_all(&mut self) {
        self.values = self.startup.clone();
        self.zone = SessionZone::default();
    }

    /// The session's TimeZone.
    pub fn zone(&self) -> &SessionZone {
        &self.zone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_show_reset() {
        let mut s = Settings::new(Some("app"));
        assert_eq!(s.show("application_name").unwrap(), "app");
        assert_eq!(
            s.set("application_name", Some("other")).unwrap(),
            Some(("application_name".into(), "other".into()))
        );
        assert_eq!(s.show("application_name").unwrap(), "other");
        s.set("application_name", None).unwrap();
        assert_eq!(s.show("application_name").unwrap(), "app");
        assert_eq!(s.show("server_version").unwrap(), SERVER_VERSION);
        assert_eq!(s.show("nope").unwrap_err().sqlstate, "42704");
        assert_eq!(s.set("nope", Some("1")).unwrap_err().sqlstate, "42704");
        assert_eq!(
            s.set("server_version", Some("1")).unwrap_err().sqlstate,
            "55P02"
        );
        assert_eq!(
            s.set("statement_timeout", Some("soon"))
                .unwrap_err()
                .sqlstate,
            "22023"
        );
        assert_eq!(s.duration("statement_timeout"), None);
        assert_eq!(s.search_path(), ["public"]);
        s.set("search_path", Some("Tenant, \"$user\", \"Mixed\", public"))
            .unwrap();
        assert_eq!(s.search_path(), ["tenant", "Mixed", "public"]);
        s.set("search_path", Some("")).unwrap();
        assert_eq!(s.search_path(), ["public"]);
        s.set("statement_timeout", Some("1.5s")).unwrap();
        assert_eq!(
            s.duration("statement_timeout"),
            Some(std::time::Duration::from_millis(1500))
        );
        s.set("statement_timeout", Some("250")).unwrap();
        assert_eq!(
            s.duration("statement_timeout"),
            Some(std::time::Duration::from_millis(250))
        );
        assert_eq!(
            s.set("timezone", Some("america/new_york")).unwrap(),
            Some(("TimeZone".into(), "America/New_York".into()))
        );
        assert_eq!(s.show("timezone").unwrap(), "America/New_York");
        assert_eq!(s.zone().shown(), "America/New_York");
        assert_eq!(
            s.set("timezone", Some("Mars/Base")).unwrap_err().message,
            "invalid value for parameter \"TimeZone\": \"Mars/Base\""
        );
        assert_eq!(s.show("timezone").unwrap(), "America/New_York");
        s.set("timezone", None).unwrap();
        assert_eq!(s.zone(), &SessionZone::default());
        s.set("my.custom", Some("x")).unwrap();
        assert_eq!(s.show("my.custom").unwrap(), "x");
        s.reset_all();
        assert!(s.show("my.custom").is_err());
    }
}
