//! Calling windows: the local hours (in the contact's time zone) when a number may be
//! dialled, e.g. 09:00-21:00 on weekdays.
//!
//! A window is `[start, end)` in local wall-clock time, `start < end` (no window across
//! midnight; `"24:00"` ends at midnight), on the listed weekdays (none listed: every
//! day). Local times come from the IANA zone (`chrono-tz`), so daylight saving moves the
//! window with the clock. A start that falls in a spring-forward gap opens at the first
//! valid instant after it; a start in an autumn overlap opens at the earlier instant.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDateTime, NaiveTime, TimeZone as _};
use chrono::{Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Local hours when calls are allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallingWindow {
    /// First allowed local time, `"HH:MM"`.
    #[serde(with = "hhmm")]
    pub start: NaiveTime,
    /// First local time no longer allowed, `"HH:MM"`.
    #[serde(with = "hhmm")]
    pub end: NaiveTime,
    /// Allowed weekdays (`"mon"` .. `"sun"`); empty means every day.
    #[serde(default, with = "weekdays")]
    pub days: Vec<Weekday>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WindowError {
    #[error("calling window start {start} must be before its end {end}")]
    Empty { start: NaiveTime, end: NaiveTime },
}

impl Default for CallingWindow {
    /// 09:00 to 21:00 every day.
    fn default() -> Self {
        CallingWindow {
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or_default(),
            days: Vec::new(),
        }
    }
}

impl CallingWindow {
    pub fn validate(&self) -> Result<(), WindowError> {
        if self.start >= self.end {
            return Err(WindowError::Empty {
                start: self.start,
                end: self.end,
            });
        }
        Ok(())
    }

    fn allows_day(&self, day: Weekday) -> bool {
        self.days.is_empty() || self.days.contains(&day)
    }

    /// Whether a call may start at `at` for a contact in `tz`.
    pub fn is_open(&self, at: DateTime<Utc>, tz: Tz) -> bool {
        let local = at.with_timezone(&tz);
        let time = local.time();
        self.allows_day(local.weekday()) && self.start <= time && time < self.end
    }

    /// `at` when the window is open, else the next instant it opens.
    pub fn next_open(&self, at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        if self.is_open(at, tz) {
            return at;
        }
        let local = at.with_timezone(&tz).naive_local();
        for offset in 0..=7 {
            let date = local.date() + Duration::days(offset);
            if !self.allows_day(date.weekday()) {
                continue;
            }
            let opening = date.and_time(self.start);
            if opening <= local {
                continue;
            }
            if let Some(t) = resolve(tz, opening) {
                if t > at {
                    return t;
                }
            }
        }
        // Unreachable for a validated window (some weekday is always within 7 days); a
        // day later keeps callers moving instead of spinning.
        at + Duration::days(1)
    }
}

/// The instant of a local time: the earlier one in an overlap, the first valid instant
/// after a gap.
fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(early, _) => Some(early.with_timezone(&Utc)),
        LocalResult::None => (1..=24)
            .map(|quarter| local + Duration::minutes(15 * quarter))
            .find_map(|l| tz.from_local_datetime(&l).earliest())
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// `"HH:MM"`; `"24:00"` is the end of the day (the last instant of it).
mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    fn end_of_day() -> NaiveTime {
        NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap_or(NaiveTime::MIN)
    }

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        if *t == end_of_day() {
            return s.serialize_str("24:00");
        }
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let raw = String::deserialize(d)?;
        if raw == "24:00" {
            return Ok(end_of_day());
        }
        NaiveTime::parse_from_str(&raw, "%H:%M")
            .map_err(|_| serde::de::Error::custom(format!("\"{raw}\" is not a time HH:MM")))
    }
}

mod weekdays {
    use chrono::Weekday;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(days.iter().map(|d| d.to_string().to_ascii_lowercase()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|raw| {
                raw.parse::<Weekday>().map_err(|_| {
                    serde::de::Error::custom(format!("\"{raw}\" is not a weekday (mon..sun)"))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::London};

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn weekdays_9_to_21() -> CallingWindow {
        serde_json::from_str(
            r#"{"start":"09:00","end":"21:00","days":["mon","tue","wed","thu","fri"]}"#,
        )
        .unwrap()
    }

    #[test]
    fn open_in_local_time() {
        let w = weekdays_9_to_21();
        // Wednesday 2024-01-10: 13:59 UTC is 08:59 in New York, 14:00 is 09:00.
        assert!(!w.is_open(utc("2024-01-10T13:59:00Z"), New_York));
        assert!(w.is_open(utc("2024-01-10T14:00:00Z"), New_York));
        // 21:00 local is closed (end exclusive); London is already closed at 21:00 UTC.
        assert!(!w.is_open(utc("2024-01-11T02:00:00Z"), New_York));
        assert!(w.is_open(utc("2024-01-11T01:59:00Z"), New_York));
        assert!(!w.is_open(utc("2024-01-10T21:00:00Z"), London));
    }

    #[test]
    fn next_open_skips_to_the_next_allowed_day() {
        let w = weekdays_9_to_21();
        // Friday 2024-01-12 22:00 New York -> Monday 2024-01-15 09:00 (14:00 UTC).
        assert_eq!(
            w.next_open(utc("2024-01-13T03:00:00Z"), New_York),
            utc("2024-01-15T14:00:00Z")
        );
        // Early morning -> same day.
        assert_eq!(
            w.next_open(utc("2024-01-10T06:00:00Z"), London),
            utc("2024-01-10T09:00:00Z")
        );
        // Already open -> now.
        let now = utc("2024-01-10T12:00:00Z");
        assert_eq!(w.next_open(now, London), now);
    }

    #[test]
    fn daylight_saving_moves_the_window() {
        let w = CallingWindow::default();
        // London is UTC+1 in July: 09:00 local is 08:00 UTC.
        assert!(w.is_open(utc("2024-07-01T08:00:00Z"), London));
        assert!(!w.is_open(utc("2024-01-01T08:00:00Z"), London));
        // A window opening at 02:30 on the spring-forward night opens at 03:00 local.
        let night = CallingWindow {
            start: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            end: NaiveTime::from_hms_opt(5, 0, 0).unwrap(),
            days: vec![],
        };
        // 2024-03-10 is the US change: 02:00 -> 03:00 EDT (07:00 UTC).
        assert_eq!(
            night.next_open(utc("2024-03-10T06:00:00Z"), New_York),
            utc("2024-03-10T07:00:00Z")
        );
    }

    #[test]
    fn validation_and_serde() {
        let mut w = CallingWindow::default();
        assert!(w.validate().is_ok());
        w.end = w.start;
        assert!(w.validate().is_err());
        let json = serde_json::to_string(&weekdays_9_to_21()).unwrap();
        assert_eq!(
            json,
            r#"{"start":"09:00","end":"21:00","days":["mon","tue","wed","thu","fri"]}"#
        );
        assert!(serde_json::from_str::<CallingWindow>(r#"{"start":"9h","end":"21:00"}"#).is_err());
        let all_day: CallingWindow =
            serde_json::from_str(r#"{"start":"00:00","end":"24:00"}"#).unwrap();
        assert!(all_day.is_open(utc("2024-01-10T23:59:59Z"), London));
        assert!(serde_json::to_string(&all_day)
            .unwrap()
            .contains("\"24:00\""));
        assert!(serde_json::from_str::<CallingWindow>(
            r#"{"start":"09:00","end":"21:00","days":["xx"]}"#
        )
        .is_err());
    }
}
