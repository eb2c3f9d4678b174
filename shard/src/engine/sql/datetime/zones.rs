//! Time zones: IANA names (chrono-tz), Postgres' common abbreviations, and numeric offsets,
//! whose sign depends on who reads them — ISO 8601 (east positive) in timestamptz input
//! and make_timestamptz, POSIX (west positive) in AT TIME ZONE and date_trunc, as in
//! Postgres, where `AT TIME ZONE '+05'` is five hours west of Greenwich.

use chrono::{DateTime, LocalResult, Offset, TimeZone};
use chrono_tz::{OffsetName, Tz};

use super::values::{Timestamp, USECS_PER_SEC};
use super::{PgError, Result};

thread_local! {
    static CURRENT: std::cell::Cell<Zone> = const { std::cell::Cell::new(Zone::Fixed(0)) };
}

/// The session's zone for the statement running on this thread (UTC unless a statement
/// names another: datetime/session_zone.rs).
pub(super) fn current() -> Zone {
    CURRENT.get()
}

/// Runs `run` with `zone` current on this thread.
pub(super) fn running_in<R>(zone: Zone, run: impl FnOnce() -> R) -> R {
    let before = CURRENT.replace(zone);
    let answer = run();
    CURRENT.set(before);
    answer
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Zone {
    /// Seconds east of UTC.
    Fixed(i64),
    Named(Tz),
}

/// How a numeric offset's sign reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sign {
    /// `+05` is east of Greenwich.
    Iso,
    /// `+05` is west of Greenwich, as in the TZ environment variable.
    Posix,
}

/// Postgres' default abbreviations, hours east of UTC. They come before IANA names, so
/// `CET` is always UTC+1 as in Postgres, not the IANA zone that keeps summer time.
const ABBREVIATIONS: [(&str, i64); 30] = [
    ("utc", 0),
    ("gmt", 0),
    ("est", -5),
    ("mst", -7),
    ("hst", -10),
    ("cet", 1),
    ("eet", 2),
    ("wet", 0),
    ("z", 0),
    ("zulu", 0),
    ("ut", 0),
    ("edt", -4),
    ("cst", -6),
    ("cdt", -5),
    ("mdt", -6),
    ("pst", -8),
    ("pdt", -7),
    ("akst", -9),
    ("akdt", -8),
    ("cest", 2),
    ("eest", 3),
    ("west", 1),
    ("bst", 1),
    ("jst", 9),
    ("kst", 9),
    ("msk", 3),
    ("aest", 10),
    ("aedt", 11),
    ("nzst", 12),
    ("nzdt", 13),
];

impl Zone {
    /// The zone a name or offset denotes, if any.
    pub(super) fn lookup(name: &str, sign: Sign) -> Option<Zone> {
        let name = name.trim();
        if let Some(seconds) = offset_seconds(name, sign) {
            return Some(Zone::Fixed(seconds));
        }
        let lower = name.to_ascii_lowercase();
        if let Some((_, hours)) = ABBREVIATIONS.iter().find(|(a, _)| *a == lower) {
            return Some(Zone::Fixed(hours * 3600));
        }
        name.parse::<Tz>()
            .ok()
            .or_else(|| {
                chrono_tz::TZ_VARIANTS
                    .iter()
                    .copied()
                    .find(|tz| tz.name().eq_ignore_ascii_case(name))
            })
            .map(Zone::Named)
    }

    /// [`Zone::lookup`], or Postgres' error for a zone it does not know.
    pub(super) fn named(name: &str, sign: Sign) -> Result<Zone> {
        Zone::lookup(name, sign)
            .ok_or_else(|| PgError::new("22023", format!("time zone \"{name}\" not recognized")))
    }

    /// Seconds east of UTC in effect at a UTC instant.
    pub(super) fn offset_at(self, utc: Timestamp) -> Result<i64> {
        match self {
            Zone::Fixed(seconds) => Ok(seconds),
            Zone::Named(tz) => {
                let instant = DateTime::from_timestamp_micros(utc.0)
                    .ok_or_else(|| PgError::out_of_range("timestamp"))?;
                Ok(i64::from(
                    tz.offset_from_utc_datetime(&instant.naive_utc())
                        .fix()
                        .local_minus_utc(),
                ))
            }
        }
    }

    /// The abbreviation of the zone's time at a UTC instant (`EST`, `CEST`), as to_char's
    /// TZ prints it; an offset for a zone that has none.
    pub(super) fn abbreviation_at(self, utc: Timestamp) -> Result<String> {
        match self {
            Zone::Fixed(0) => Ok("UTC".to_owned()),
            Zone::Fixed(seconds) => Ok(format!("{:+03}", seconds / 3600)),
            Zone::Named(tz) => {
                let instant = DateTime::from_timestamp_micros(utc.0)
                    .ok_or_else(|| PgError::out_of_range("timestamp"))?;
                let offset = tz.offset_from_utc_datetime(&instant.naive_utc());
                Ok(match offset.abbreviation() {
                    Some(name) => name.to_owned(),
                    None => format!("{:+03}", offset.fix().local_minus_utc() / 3600),
                })
            }
        }
    }

    /// The local time of a UTC instant.
    pub(super) fn to_local(self, utc: Timestamp) -> Result<Timestamp> {
        if !utc.is_finite() {
            return Ok(utc);
        }
        utc.plus(self.offset_at(utc)? * USECS_PER_SEC, "timestamp")
    }

    /// The UTC instant of a local time. Like Postgres: a time that happens twice (clocks
    /// going back) is the later instant, in standard time; a time skipped (clocks going
    /// forward) reads with the offset in effect before the jump.
    pub(super) fn to_utc(self, local: Timestamp) -> Result<Timestamp> {
        if !local.is_finite() {
            return Ok(local);
        }
        let offset = match self {
            Zone::Fixed(seconds) => seconds,
            Zone::Named(tz) => {
                let naive = DateTime::from_timestamp_micros(local.0)
                    .ok_or_else(|| PgError::out_of_range("timestamp"))?
                    .naive_utc();
                match tz.offset_from_local_datetime(&naive) {
                    LocalResult::Single(o) => i64::from(o.fix().local_minus_utc()),
                    LocalResult::Ambiguous(_, later) => i64::from(later.fix().local_minus_utc()),
                    LocalResult::None => {
                        self.offset_at(local.plus(-24 * 3600 * USECS_PER_SEC, "timestamp")?)?
                    }
                }
            }
        };
        local.plus(-offset * USECS_PER_SEC, "timestamp with time zone")
    }
}

/// A numeric offset (`+05`, `-08:00`, `+0530`, `+05:30:15`) in seconds east of UTC. POSIX
/// offsets may also go without a sign (`5` is five hours west).
fn offset_seconds(text: &str, sign: Sign) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        b'0'..=b'9' if sign == Sign::Posix => (false, text),
        _ => return None,
    };
    let parts: Vec<&str> = if body.contains(':') {
        body.split(':').collect()
    } else if body.len() > 2 {
        let (h, rest) = body.split_at(body.len() - 2);
        vec![h, rest]
    } else {
        vec![body]
    };
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut seconds: i64 = 0;
    for (part, scale) in parts.iter().zip([3600, 60, 1]) {
        seconds = seconds.checked_add(part.parse::<i64>().ok()?.checked_mul(scale)?)?;
    }
    // Postgres' limits: ISO offsets to 15:59:59, POSIX ones (tzparse) to a week.
    let limit = match sign {
        Sign::Iso => 15 * 3600 + 59 * 60 + 59,
        Sign::Posix => 7 * 24 * 3600,
    };
    if seconds > limit {
        return None;
    }
    let east = negative != (sign == Sign::Iso);
    Some(if east { seconds } else { -seconds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sql::datetime::values::{Date, USECS_PER_HOUR};

    fn at(y: i64, m: i64, d: i64, hour: i64) -> Timestamp {
        Timestamp::new(Date::from_ymd(y, m, d).unwrap(), hour * USECS_PER_HOUR)
    }

    #[test]
    fn numeric_offsets_read_by_iso_and_posix_rules() {
        assert_eq!(Zone::lookup("+02", Sign::Iso), Some(Zone::Fixed(7200)));
        assert_eq!(Zone::lookup("-05:30", Sign::Iso), Some(Zone::Fixed(-19800)));
        assert_eq!(Zone::lookup("+05", Sign::Posix), Some(Zone::Fixed(-18000)));
        assert_eq!(Zone::lookup("+0530", Sign::Iso), Some(Zone::Fixed(19800)));
        assert_eq!(Zone::lookup("+16", Sign::Iso), None);
        assert_eq!(Zone::lookup("+99999999999999999", Sign::Posix), None);
        assert_eq!(Zone::lookup("UTC", Sign::Posix), Some(Zone::Fixed(0)));
        assert_eq!(
            Zone::lookup("Etc/UTC", Sign::Posix),
            Some(Zone::Named(Tz::Etc__UTC))
        );
        assert_eq!(Zone::lookup("pst", Sign::Iso), Some(Zone::Fixed(-8 * 3600)));
        assert_eq!(
            Zone::lookup("america/new_york", Sign::Iso),
            Some(Zone::Named(Tz::America__New_York))
        );
        let e = Zone::named("Mars/Base", Sign::Posix).unwrap_err();
        assert_eq!(e.sqlstate, "22023");
        assert_eq!(e.message, "time zone \"Mars/Base\" not recognized");
    }

    #[test]
    fn local_times_follow_daylight_saving_as_postgres_does() {
        let ny = Zone::Named(Tz::America__New_York);
        assert_eq!(
            ny.to_local(at(2024, 3, 15, 10)).unwrap(),
            at(2024, 3, 15, 6)
        );
        assert_eq!(ny.to_utc(at(2024, 3, 15, 10)).unwrap(), at(2024, 3, 15, 14));
        let tokyo = Zone::Named(Tz::Asia__Tokyo);
        assert_eq!(
            tokyo.to_local(at(2024, 3, 15, 10)).unwrap(),
            at(2024, 3, 15, 19)
        );
        // 01:30 happens twice on 2018-11-04: standard time, the later instant.
        let half = USECS_PER_HOUR / 2;
        let ambiguous = Timestamp(at(2018, 11, 4, 1).0 + half);
        assert_eq!(
            ny.to_utc(ambiguous).unwrap(),
            Timestamp(at(2018, 11, 4, 6).0 + half)
        );
        // 02:30 does not happen on 2018-03-11: read at -05, it is 03:30 EDT.
        let skipped = Timestamp(at(2018, 3, 11, 2).0 + half);
        assert_eq!(
            ny.to_utc(skipped).unwrap(),
            Timestamp(at(2018, 3, 11, 7).0 + half)
        );
    }
}
