//! The CSV layout: which column holds what, and turning one row into a [`NewRecord`].
//!
//! The first line is the header. Column names (trimmed; reserved names compared without
//! case) mean:
//!
//! - `external_id` (required): the record's key in the manager's system; a re-import
//!   updates the record with the same key instead of adding one.
//! - `name`: the contact's name.
//! - `time_zone` (or `timezone`): an IANA zone (`Europe/London`); empty for the
//!   campaign's.
//! - `phone`, or `phone_<type>` / `phone_<type>_<n>` with type `home`, `mobile`, `work`
//!   or `other` (e.g. `phone_mobile`, `phone_work_2`): one number each, empty allowed;
//!   at least one phone column is required and each row needs at least one number.
//!   Numbers are normalised to E.164 with the campaign's default country code.
//! - anything else: a custom field, kept under its header name (empty values dropped).

use std::collections::{BTreeMap, HashSet};

use chrono_tz::Tz;

use crate::phone::{CountryCode, Phone, PhoneType, E164};
use crate::record::NewRecord;

/// Longest external id, name or field value accepted, in bytes.
const MAX_VALUE: usize = 4096;
/// Most numbers per record.
const MAX_PHONES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    ExternalId,
    Name,
    TimeZone,
    Phone(PhoneType),
    Field(String),
}

/// The meaning of each column of a file.
#[derive(Debug, Clone)]
pub struct Columns {
    columns: Vec<(String, Column)>,
}

impl Columns {
    /// Reads the header; `Err` says what is wrong with it.
    pub fn parse<'a>(header: impl IntoIterator<Item = &'a str>) -> Result<Columns, String> {
        let mut columns = Vec::new();
        let mut seen = HashSet::new();
        for (i, raw) in header.into_iter().enumerate() {
            let name = if i == 0 {
                raw.trim_start_matches('\u{feff}').trim()
            } else {
                raw.trim()
            };
            if name.is_empty() {
                return Err(format!("column {} has no name", i + 1));
            }
            if !seen.insert(name.to_ascii_lowercase()) {
                return Err(format!("column \"{name}\" appears twice"));
            }
            columns.push((name.to_string(), classify(name)?));
        }
        if !columns.iter().any(|(_, c)| *c == Column::ExternalId) {
            return Err("the header has no external_id column".into());
        }
        if !columns.iter().any(|(_, c)| matches!(c, Column::Phone(_))) {
            return Err("the header has no phone column (phone, phone_mobile, ...)".into());
        }
        Ok(Columns { columns })
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Turns one row into a record; `Err` is the reason shown for its line.
    pub fn record<'a>(
        &self,
        values: impl ExactSizeIterator<Item = &'a str>,
        country: Option<&CountryCode>,
    ) -> Result<NewRecord, String> {
        if values.len() != self.columns.len() {
            return Err(format!(
                "expected {} fields, found {}",
                self.columns.len(),
                values.len()
            ));
        }
        let mut record = NewRecord {
            external_id: String::new(),
            name: String::new(),
            time_zone: None,
            phones: Vec::new(),
            fields: BTreeMap::new(),
        };
        for ((header, column), value) in self.columns.iter().zip(values) {
            let value = value.trim();
            if value.len() > MAX_VALUE {
                return Err(format!("{header}: longer than {MAX_VALUE} bytes"));
            }
            match column {
                Column::ExternalId => record.external_id = value.to_string(),
                Column::Name => record.name = value.to_string(),
                Column::TimeZone if value.is_empty() => {}
                Column::TimeZone => {
                    let tz = value
                        .parse::<Tz>()
                        .map_err(|_| format!("{header}: unknown time zone \"{value}\""))?;
                    record.time_zone = Some(tz);
                }
                Column::Phone(_) if value.is_empty() => {}
                Column::Phone(kind) => {
                    let number =
                        E164::parse(value, country).map_err(|e| format!("{header}: {e}"))?;
                    if !record.phones.iter().any(|p| p.number == number) {
                        record.phones.push(Phone {
                            number,
                            kind: *kind,
                        });
                    }
                }
                Column::Field(_) if value.is_empty() => {}
                Column::Field(key) => {
                    record.fields.insert(key.clone(), value.to_string());
                }
            }
        }
        if record.external_id.is_empty() {
            return Err("external_id is empty".into());
        }
        if record.phones.is_empty() {
            return Err("no phone number".into());
        }
        if record.phones.len() > MAX_PHONES {
            return Err(format!("more than {MAX_PHONES} phone numbers"));
        }
        Ok(record)
    }
}

fn classify(name: &str) -> Result<Column, String> {
    let lower = name.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "external_id" => Column::ExternalId,
        "name" => Column::Name,
        "time_zone" | "timezone" => Column::TimeZone,
        "phone" => Column::Phone(PhoneType::Other),
        _ => match lower.strip_prefix("phone_") {
            Some(rest) => {
                let kind = match rest.rsplit_once('_') {
                    Some((kind, n)) if n.bytes().all(|b| b.is_ascii_digit()) => kind,
                    _ => rest,
                };
                let kind = PhoneType::parse(kind).map_err(|e| format!("column \"{name}\": {e}"))?;
                Column::Phone(kind)
            }
            None => Column::Field(name.to_string()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(header: &str) -> Result<Columns, String> {
        Columns::parse(header.split(','))
    }

    #[test]
    fn header_rules() {
        let c = columns("\u{feff}External_ID,name,phone_mobile,phone_work_2,Balance").unwrap();
        assert_eq!(c.width(), 5);
        assert!(columns("name,phone").unwrap_err().contains("external_id"));
        assert!(columns("external_id,name").unwrap_err().contains("phone"));
        assert!(columns("external_id,phone,phone")
            .unwrap_err()
            .contains("twice"));
        assert!(columns("external_id,phone_fax")
            .unwrap_err()
            .contains("phone type"));
        assert!(columns("external_id,,phone")
            .unwrap_err()
            .contains("no name"));
    }

    #[test]
    fn rows() {
        let c = columns("external_id,name,time_zone,phone_home,phone_mobile,plan").unwrap();
        let uk = CountryCode::parse("44").unwrap();
        let row = |line: &str| c.record(line.split(',').collect::<Vec<_>>().into_iter(), Some(&uk));
        let r = row("A1, Ada ,Europe/London,020 7946 0018,,gold").unwrap();
        assert_eq!(r.external_id, "A1");
        assert_eq!(r.name, "Ada");
        assert_eq!(r.time_zone, Some(chrono_tz::Europe::London));
        assert_eq!(r.phones.len(), 1);
        assert_eq!(r.phones[0].number.as_str(), "+442079460018");
        assert_eq!(r.fields.get("plan").map(String::as_str), Some("gold"));
        assert_eq!(row("A2,B,,,,").unwrap_err(), "no phone number");
        assert_eq!(
            row(",B,,02079460018,,").unwrap_err(),
            "external_id is empty"
        );
        assert!(row("A3,B,Mars/Base,02079460018,,")
            .unwrap_err()
            .contains("unknown time zone"));
        assert!(row("A4,B,,12,,").unwrap_err().starts_with("phone_home:"));
        assert_eq!(row("A5,B").unwrap_err(), "expected 6 fields, found 2");
    }

    proptest::proptest! {
        #[test]
        fn rows_never_panic(fields in proptest::collection::vec("\\PC{0,30}", 0..8)) {
            let c = columns("external_id,name,time_zone,phone_home,phone_mobile,plan").unwrap();
            let uk = CountryCode::parse("44").unwrap();
            let values: Vec<&str> = fields.iter().map(String::as_str).collect();
            if let Ok(r) = c.record(values.into_iter(), Some(&uk)) {
                proptest::prop_assert!(!r.external_id.is_empty() && !r.phones.is_empty());
            }
        }
    }
}
