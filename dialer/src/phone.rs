//! Phone numbers: E.164 normalisation and the type of each number a record holds.
//!
//! Numbers enter from CSV rows, agents and the DNC API in any common written form; they
//! are stored and compared only in E.164 (`+` and 7 to 15 digits), so the DNC list matches
//! however a number was typed. The rules, in order:
//!
//! 1. Formatting is stripped: spaces, `-`, `.`, `/`, `(` and `)`. A `tel:` prefix is
//!    dropped. Any other character (letters, `*`, `#`, a `+` anywhere but first) is an error.
//! 2. A leading `+` means the digits are already international: `+44 20 7946 0018`.
//! 3. A leading `00` is the international call prefix and is replaced by `+`:
//!    `0044 20 7946 0018`.
//! 4. Anything else is a national number and needs the campaign's default country code;
//!    without one it is an error. A single leading `0` (the trunk prefix of most
//!    countries) is dropped, and for country code `1` (NANP) a leading `1` of an 11-digit
//!    number is the trunk prefix and dropped too: `020 7946 0018` with `44` gives
//!    `+442079460018`; `1 (415) 555-0100` and `415.555.0100` with `1` give `+14155550100`.
//! 5. The result must have 7 to 15 digits (E.164's maximum), must not start with `0`
//!    after the `+`, and numbers under country code `1` must have exactly 11 digits.
//!
//! These rules do not know each country's numbering plan (no per-country lengths beyond
//! NANP): they catch formatting mistakes and impossible lengths, not unassigned ranges.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Shortest E.164 number accepted, in digits (country code included).
pub const MIN_DIGITS: usize = 7;
/// Longest E.164 number (ITU-T E.164 §6), in digits.
pub const MAX_DIGITS: usize = 15;

/// A phone number in E.164 form: `+` then 7 to 15 digits, the first not `0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct E164(String);

impl E164 {
    /// Normalises `raw` (see the module rules); `default_cc` is the country code used for
    /// national numbers, digits only (e.g. `"44"`).
    pub fn parse(raw: &str, default_cc: Option<&CountryCode>) -> Result<E164, PhoneError> {
        normalise(raw, default_cc.map(CountryCode::as_str))
    }

    /// The number with its `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the `+`.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for E164 {
    /// Accepts only numbers already in E.164 (`+...`): stored and API values.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        if !raw.starts_with('+') {
            return Err(serde::de::Error::custom("expected an E.164 number (+...)"));
        }
        normalise(&raw, None).map_err(serde::de::Error::custom)
    }
}

/// A country calling code, 1 to 3 digits, not starting with `0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<CountryCode, PhoneError> {
        let digits = raw.strip_prefix('+').unwrap_or(raw);
        let valid = (1..=3).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(CountryCode(digits.to_string()))
        } else {
            Err(PhoneError::BadCountryCode(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        CountryCode::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Why a number was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    #[error("empty phone number")]
    Empty,
    #[error("phone number \"{0}\" has a character that is not a digit or formatting")]
    BadCharacter(String),
    #[error("phone number \"{0}\" is national and the campaign has no default country code")]
    NoCountryCode(String),
    #[error(
        "phone number \"{number}\" has {digits} digits; E.164 allows {MIN_DIGITS} to {MAX_DIGITS}"
    )]
    BadLength { number: String, digits: usize },
    #[error("phone number \"{0}\" has a country code starting with 0")]
    BadCountry(String),
    #[error("phone number \"{number}\" has {digits} digits; numbers under +1 have 11")]
    BadNanpLength { number: String, digits: usize },
    #[error("\"{0}\" is not a country code (1 to 3 digits, not starting with 0)")]
    BadCountryCode(String),
    #[error("unknown phone type \"{0}\" (expected home, mobile, work or other)")]
    BadType(String),
}

fn normalise(raw: &str, default_cc: Option<&str>) -> Result<E164, PhoneError> {
    let trimmed = raw.trim();
    let body = trimmed.strip_prefix("tel:").unwrap_or(trimmed);
    let mut digits = String::with_capacity(body.len());
    let mut plus = false;
    for (i, c) in body.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' => {}
            _ => return Err(PhoneError::BadCharacter(raw.to_string())),
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::Empty);
    }
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        let cc = default_cc.ok_or_else(|| PhoneError::NoCountryCode(raw.to_string()))?;
        let national = if cc == "1" && digits.len() == 11 && digits.starts_with('1') {
            &digits[1..]
        } else {
            digits.strip_prefix('0').unwrap_or(&digits)
        };
        format!("{cc}{national}")
    };
    let n = international.len();
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&n) {
        return Err(PhoneError::BadLength {
            number: raw.to_string(),
            digits: n,
        });
    }
    if international.starts_with('0') {
        return Err(PhoneError::BadCountry(raw.to_string()));
    }
    if international.starts_with('1') && n != 11 {
        return Err(PhoneError::BadNanpLength {
            number: raw.to_string(),
            digits: n,
        });
    }
    Ok(E164(format!("+{international}")))
}

/// What a number is: shown to the agent beside it, and a CSV column suffix (`phone_mobile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhoneType {
    Home,
    Mobile,
    Work,
    Other,
}

impl PhoneType {
    pub fn parse(raw: &str) -> Result<PhoneType, PhoneError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "home" => Ok(PhoneType::Home),
            "mobile" | "cell" => Ok(PhoneType::Mobile),
            "work" | "business" => Ok(PhoneType::Work),
            "other" | "" => Ok(PhoneType::Other),
            _ => Err(PhoneError::BadType(raw.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PhoneType::Home => "home",
            PhoneType::Mobile => "mobile",
            PhoneType::Work => "work",
            PhoneType::Other => "other",
        }
    }
}

/// One number of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    pub number: E164,
    #[serde(rename = "type")]
    pub kind: PhoneType,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cc(s: &str) -> CountryCode {
        CountryCode::parse(s).unwrap()
    }

    fn ok(raw: &str, default_cc: Option<&str>) -> String {
        let cc = default_cc.map(cc);
        match E164::parse(raw, cc.as_ref()) {
            Ok(n) => n.to_string(),
            Err(e) => panic!("{raw}: {e}"),
        }
    }

    #[test]
    fn international_forms() {
        assert_eq!(ok("+44 20 7946 0018", None), "+442079460018");
        assert_eq!(ok("0044 (20) 7946-0018", Some("1")), "+442079460018");
        assert_eq!(ok("tel:+1-415-555-0100", None), "+14155550100");
        assert_eq!(ok(" +49.30.1234567 ", None), "+49301234567");
    }

    #[test]
    fn national_forms_use_the_default_country() {
        assert_eq!(ok("020 7946 0018", Some("44")), "+442079460018");
        assert_eq!(ok("(415) 555-0100", Some("1")), "+14155550100");
        assert_eq!(ok("1 415 555 0100", Some("+1")), "+14155550100");
        assert_eq!(ok("030/1234567", Some("49")), "+49301234567");
    }

    #[test]
    fn rejects_bad_numbers() {
        let uk = cc("44");
        let err = |raw: &str, c: Option<&CountryCode>| E164::parse(raw, c).unwrap_err();
        assert_eq!(err("", None), PhoneError::Empty);
        assert_eq!(err(" - ", None), PhoneError::Empty);
        assert!(matches!(
            err("0800-FLOWERS", Some(&uk)),
            PhoneError::BadCharacter(_)
        ));
        assert!(matches!(
            err("12+34", Some(&uk)),
            PhoneError::BadCharacter(_)
        ));
        assert!(matches!(
            err("020 7946 0018", None),
            PhoneError::NoCountryCode(_)
        ));
        assert!(matches!(
            err("+12345", None),
            PhoneError::BadLength { digits: 5, .. }
        ));
        assert!(matches!(
            err("+4412345678901234", None),
            PhoneError::BadLength { .. }
        ));
        assert!(matches!(
            err("+0441234567", None),
            PhoneError::BadCountry(_)
        ));
        assert!(matches!(
            err("000441234567", None),
            PhoneError::BadCountry(_)
        ));
        assert!(matches!(
            err("+1415555010", None),
            PhoneError::BadNanpLength { .. }
        ));
    }

    #[test]
    fn country_codes() {
        assert_eq!(cc("+358").as_str(), "358");
        assert!(CountryCode::parse("0").is_err());
        assert!(CountryCode::parse("1234").is_err());
        assert!(CountryCode::parse("4a").is_err());
        assert!(CountryCode::parse("").is_err());
    }

    #[test]
    fn serde_accepts_only_e164() {
        let n: E164 = serde_json::from_str("\"+442079460018\"").unwrap();
        assert_eq!(n.digits(), "442079460018");
        assert!(serde_json::from_str::<E164>("\"02079460018\"").is_err());
        let p: Phone =
            serde_json::from_str(r#"{"number":"+442079460018","type":"mobile"}"#).unwrap();
        assert_eq!(p.kind, PhoneType::Mobile);
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_canonical(raw in "\\PC{0,24}") {
            if let Ok(n) = E164::parse(&raw, Some(&cc("44"))) {
                let s = n.as_str();
                prop_assert!(s.starts_with('+'));
                prop_assert!((MIN_DIGITS..=MAX_DIGITS).contains(&n.digits().len()));
                prop_assert!(n.digits().bytes().all(|b| b.is_ascii_digit()));
                // Normalising again is the identity.
                prop_assert_eq!(E164::parse(s, None).unwrap(), n.clone());
            }
        }

        #[test]
        fn formatting_does_not_matter(digits in "[1-9][0-9]{9,11}") {
            let plain = E164::parse(&format!("+{digits}"), None).ok();
            let spaced: String = digits.chars().flat_map(|c| [c, ' ']).collect();
            let formatted = E164::parse(&format!("00{spaced}"), None).ok();
            prop_assert_eq!(plain, formatted);
        }
    }
}
