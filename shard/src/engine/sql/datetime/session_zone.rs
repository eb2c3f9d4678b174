//! The session's TimeZone: what `SET TIME ZONE` accepts and `SHOW timezone` prints, how a
//! statement's SQL carries it to the engine, and the zone the date/time functions read
//! while the statement runs.
//!
//! A timestamptz is stored as its UTC instant whatever the session's zone; the zone decides
//! how a text without an offset reads, which local date and clock an instant has (its cast
//! to date, extract, date_trunc, to_char, `+ interval '1 day'`), and how it prints. The
//! proxy puts [`SessionZone::statement`]'s marker before a statement of a session whose
//! zone is not UTC; the engine runs the statement with that zone current on its thread
//! ([`running_in_zone_of`]), since SQLite's functions have no other way to learn it.

use std::borrow::Cow;

use chrono_tz::Tz;

use super::input;
use super::values::{Kind, Timestamp, USECS_PER_SEC, Value};
use super::zones::{self, Zone};

const MARKER_START: &str = "/* TimeZone ";
const MARKER_END: &str = " */ ";

/// Runs `run` with the zone `sql`'s marker names current (UTC without one).
pub(crate) fn running_in_zone_of<R>(sql: &str, run: impl FnOnce() -> R) -> R {
    let zone = sql
        .strip_prefix(MARKER_START)
        .and_then(|rest| rest.split_once(MARKER_END))
        .and_then(|(name, _)| marked_zone(name))
        .unwrap_or(Zone::Fixed(0));
    zones::running_in(zone, run)
}

fn marked_zone(name: &str) -> Option<Zone> {
    match name.as_bytes().first()? {
        b'+' | b'-' => name.parse().ok().map(Zone::Fixed),
        _ => name.parse::<Tz>().ok().map(Zone::Named),
    }
}

/// A session's TimeZone setting.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionZone {
    zone: Zone,
    /// What SHOW prints.
    shown: Cow<'static, str>,
}

impl Default for SessionZone {
    fn default() -> Self {
        SessionZone::UTC
    }
}

impl SessionZone {
    /// Where a session starts, and what the engine assumes of a statement without a marker.
    pub const UTC: SessionZone = SessionZone {
        zone: Zone::Fixed(0),
        shown: Cow::Borrowed("UTC"),
    };

    pub fn is_utc(&self) -> bool {
        self.zone == Zone::Fixed(0)
    }

    /// The zone a TimeZone setting names, read as Postgres' check_timezone reads it: a
    /// number is hours east of Greenwich (`-7` is seven hours west), `INTERVAL '...'` an
    /// offset, anything else an IANA zone name; `None` for what names no zone.
    pub fn from_setting(value: &str) -> Option<SessionZone> {
        let value = value.trim();
        let offset = if value.len() > 8 && value[..8].eq_ignore_ascii_case("interval") {
            let quoted = value[8..].trim_start().strip_prefix('\'')?;
            let text = &quoted[..quoted.find('\'')?];
            let Ok(Value::Interval(i)) = input::read(Kind::Interval, text) else {
                return None;
            };
            if i.months != 0 || i.days != 0 {
                return None;
            }
            Some(i.micros / USECS_PER_SEC)
        } else {
            value
                .parse::<f64>()
                .ok()
                .filter(|h| h.is_finite())
                .map(|hours| (hours * 3600.0).round() as i64)
        };
        if let Some(seconds) = offset {
            // Postgres' limit for a zone given as an offset.
            if seconds.abs() > 15 * 3600 + 59 * 60 + 59 {
                return None;
            }
            return Some(SessionZone {
                zone: Zone::Fixed(seconds),
                shown: fixed_zone_name(seconds).into(),
            });
        }
        let tz = value.parse::<Tz>().ok().or_else(|| {
            chrono_tz::TZ_VARIANTS
                .iter()
                .copied()
                .find(|tz| tz.name().eq_ignore_ascii_case(value))
        })?;
        Some(SessionZone {
            zone: if tz == Tz::UTC {
                Zone::Fixed(0)
            } else {
                Zone::Named(tz)
            },
            shown: tz.name().into(),
        })
    }

    /// What `SHOW timezone` prints and the TimeZone ParameterStatus says.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `sql` as the engine must run it for this session: with a marker naming the zone,
    /// unless the zone is UTC, which the engine assumes.
    pub fn statement(&self, sql: String) -> String {
        match self.zone {
            Zone::Fixed(0) => sql,
            Zone::Fixed(seconds) => format!("{MARKER_START}{seconds:+}{MARKER_END}{sql}"),
            Zone::Named(tz) => format!("{MARKER_START}{}{MARKER_END}{sql}", tz.name()),
        }
    }

    /// A stored timestamptz in Postgres' text output in this zone
    /// (`2024-03-15 06:20:30-04`); `None` for a text that is not one.
    pub fn timestamptz_output(&self, stored: &str) -> Option<String> {
        let Ok(Value::Timestamptz(utc)) = input::read(Kind::Timestamptz, stored) else {
            return None;
        };
        output(self.zone, utc).ok()
    }

    /// A timestamptz input text read in this zone (a text without an offset is local time
    /// here), in the stored form; Postgres' SQLSTATE and message when it is not one.
    pub fn timestamptz_input(&self, text: &str) -> Result<String, (&'static str, String)> {
        zones::running_in(self.zone, || input::timestamptz(text))
            .and_then(Timestamp::format_tz)
            .map_err(|e| (e.sqlstate, e.message))
    }
}

/// The POSIX-style name Postgres gives a zone set as an offset: `<-07>+07` for seven hours
/// west of Greenwich (POSIX counts west as positive).
fn fixed_zone_name(seconds_east: i64) -> String {
    let offset = |seconds: i64| {
        let sign = if seconds < 0 { '-' } else { '+' };
        format!("{sign}{}", clock_offset(seconds.abs()))
    };
    format!("<{}>{}", offset(seconds_east), offset(-seconds_east))
}

/// `07`, `05:30` or `04:56:02` for an offset of that many seconds.
fn clock_offset(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (m, s) {
        (0, 0) => format!("{h:02}"),
        (_, 0) => format!("{h:02}:{m:02}"),
        _ => format!("{h:02}:{m:02}:{s:02}"),
    }
}

/// A date/time value as Postgres writes it in JSON (ISO 8601: `2024-03-15T06:20:30-04:00`,
/// an instant in the session's zone).
pub(super) fn json_text(value: Value) -> super::Result<String> {
    let iso = |text: String| text.replacen(' ', "T", 1);
    Ok(match value {
        Value::Timestamptz(utc) if utc.is_finite() => {
            let zone = zones::current();
            let offset = zone.offset_at(utc)?;
            let (sign, abs) = (if offset < 0 { '-' } else { '+' }, offset.abs());
            let seconds = match abs % 60 {
                0 => String::new(),
                s => format!(":{s:02}"),
            };
            let local = iso(zone.to_local(utc)?.format()?);
            format!(
                "{local}{sign}{:02}:{:02}{seconds}",
                abs / 3600,
                abs / 60 % 60
            )
        }
        Value::Timestamp(t) | Value::Timestamptz(t) => iso(t.format()?),
        other => other.format()?,
    })
}

/// A timestamptz as Postgres prints it in `zone`: local time, then the offset in effect.
pub(super) fn output(zone: Zone, utc: Timestamp) -> super::Result<String> {
    if !utc.is_finite() {
        return utc.format();
    }
    let offset = zone.offset_at(utc)?;
    let sign = if offset < 0 { '-' } else { '+' };
    let local = zone.to_local(utc)?.format()?;
    let zone_text = format!("{sign}{}", clock_offset(offset.abs()));
    // The era goes after the zone, as Postgres prints it.
    Ok(match local.strip_suffix(" BC") {
        Some(ad) => format!("{ad}{zone_text} BC"),
        None => format!("{local}{zone_text}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_as_postgres_reads_them() {
        let shown = |v: &str| SessionZone::from_setting(v).map(|z| z.shown.into_owned());
        assert_eq!(
            shown("america/new_york").as_deref(),
            Some("America/New_York")
        );
        assert_eq!(shown("UTC").as_deref(), Some("UTC"));
        assert_eq!(shown("-7").as_deref(), Some("<-07>+07"));
        assert_eq!(shown("5.5").as_deref(), Some("<+05:30>-05:30"));
        assert_eq!(
            shown("INTERVAL '-08:00' HOUR TO MINUTE").as_deref(),
            Some("<-08>+08")
        );
        assert_eq!(shown("Mars/Base"), None);
        assert_eq!(shown("99"), None);
    }

    #[test]
    fn a_statement_runs_in_the_zone_its_marker_names() {
        let ny = SessionZone::from_setting("America/New_York").unwrap();
        let sql = ny.statement("SELECT 1".to_owned());
        assert_eq!(sql, "/* TimeZone America/New_York */ SELECT 1");
        let seen = running_in_zone_of(&sql, zones::current);
        assert_eq!(seen, Zone::Named(Tz::America__New_York));
        assert_eq!(zones::current(), Zone::Fixed(0));
        let west = SessionZone::from_setting("-7").unwrap();
        let seen = running_in_zone_of(&west.statement("SELECT 1".to_owned()), zones::current);
        assert_eq!(seen, Zone::Fixed(-7 * 3600));
        assert_eq!(
            SessionZone::default().statement("SELECT 1".into()),
            "SELECT 1"
        );
    }

    #[test]
    fn instants_print_and_read_in_the_sessions_zone() {
        let ny = SessionZone::from_setting("America/New_York").unwrap();
        assert_eq!(
            ny.timestamptz_output("2024-03-15 10:20:30+00:00")
                .as_deref(),
            Some("2024-03-15 06:20:30-04")
        );
        assert_eq!(
            ny.timestamptz_output("2024-01-15 10:20:30.5+00:00")
                .as_deref(),
            Some("2024-01-15 05:20:30.5-05")
        );
        let india = SessionZone::from_setting("Asia/Kolkata").unwrap();
        assert_eq!(
            india
                .timestamptz_output("2024-01-15 10:00:00+00:00")
                .as_deref(),
            Some("2024-01-15 15:30:00+05:30")
        );
        assert_eq!(
            ny.timestamptz_input("2024-03-15 06:20:30").as_deref(),
            Ok("2024-03-15 10:20:30+00:00")
        );
        assert_eq!(
            ny.timestamptz_input("2024-03-15 06:20:30+00").as_deref(),
            Ok("2024-03-15 06:20:30+00:00")
        );
        assert_eq!(ny.timestamptz_input("soon").unwrap_err().0, "22007");
    }
}
