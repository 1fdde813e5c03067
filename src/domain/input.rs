//! Turning client-supplied JSON into checked values: decoding with field paths,
//! JSON merge patch (RFC 7396), and the field rules shared by every resource.

use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, SubsecRound, Timelike, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;
use validator::{ValidateEmail, ValidateUrl};

use super::{DomainError, FieldError};

/// Longest single-line text field (titles, names of things).
pub const SHORT_TEXT: usize = 200;
/// Longest free-text field (descriptions, notes).
pub const LONG_TEXT: usize = 10_000;

/// Checks that a request body is a JSON object and that it does not try to set
/// server-owned fields.
pub fn expect_object<'a>(
    body: &'a Value,
    read_only: &[&str],
) -> Result<&'a Map<String, Value>, DomainError> {
    let object = body.as_object().ok_or_else(|| {
        DomainError::invalid(
            "",
            "not_an_object",
            "the request body must be a JSON object",
        )
    })?;
    let errors: Vec<FieldError> = object
        .keys()
        .filter(|key| read_only.contains(&key.as_str()))
        .map(|key| FieldError::new(key, "read_only", format!("`{key}` is set by the server")))
        .collect();
    if errors.is_empty() {
        Ok(object)
    } else {
        Err(DomainError::Invalid(errors))
    }
}

/// Checks a create body: a JSON object that sets no server-owned field, decoded
/// and checked by `parse`, every bad field named.
pub fn parse_body<I, F>(
    body: &Value,
    read_only: &[&str],
    parse: impl FnOnce(I) -> Result<F, DomainError>,
) -> Result<F, DomainError>
where
    I: DeserializeOwned,
{
    expect_object(body, read_only)?;
    decode_all(body.clone(), parse)
}

/// Applies a merge patch to a record's current editable fields and checks the
/// result as a whole, exactly like a create body.
pub fn parse_patch<I, F>(
    current: &I,
    patch: &Value,
    read_only: &[&str],
    parse: impl FnOnce(I) -> Result<F, DomainError>,
) -> Result<F, DomainError>
where
    I: serde::Serialize + DeserializeOwned,
{
    expect_object(patch, read_only)?;
    let current = serde_json::to_value(current).unwrap_or_default();
    let mut merged = current.clone();
    merge_patch(&mut merged, patch);
    // `null` removes a member, so a `null` for a member the resource does not know
    // would vanish without a word; put it back for decoding to name as unknown.
    if let (Value::Object(merged), Value::Object(patch)) = (&mut merged, patch) {
        for (key, value) in patch {
            if value.is_null() && current.get(key).is_none() {
                merged.insert(key.clone(), Value::Null);
            }
        }
    }
    decode_all(merged, parse)
}

/// Applies a JSON merge patch: members of `patch` replace those of `target`, and an
/// explicit `null` removes one.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Decodes a JSON object into an input struct and checks it with `parse`, reporting
/// every bad field at once: a member that is unknown or of the wrong type is set
/// aside and named, and the rest is still decoded and checked.
pub fn decode_all<I, F>(
    value: Value,
    parse: impl FnOnce(I) -> Result<F, DomainError>,
) -> Result<F, DomainError>
where
    I: DeserializeOwned,
{
    let mut value = value;
    let mut errors: Vec<FieldError> = Vec::new();
    let input = loop {
        match serde_path_to_error::deserialize::<_, I>(value.clone()) {
            Ok(input) => break Some(input),
            Err(err) => {
                let message = err.inner().to_string();
                let (field, code) = match unknown_field(&message) {
                    // The path already ends with the unknown member's name.
                    Some(_) => (err.path().to_string(), "unknown_field"),
                    None if message.starts_with("unknown variant") => {
                        (err.path().to_string(), "invalid_enum")
                    }
                    None => (err.path().to_string(), "invalid_type"),
                };
                let top = field
                    .split(['.', '['])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let removed = value.as_object_mut().and_then(|o| o.remove(&top)).is_some();
                errors.push(FieldError::new(field, code, message));
                if !removed {
                    break None;
                }
            }
        }
    };
    match input.map(parse) {
        Some(Ok(fields)) if errors.is_empty() => Ok(fields),
        Some(Err(DomainError::Invalid(more))) => {
            // A member set aside for its type is not also reported as missing.
            let named: Vec<String> = errors
                .iter()
                .map(|e| top_member(&e.field).to_string())
                .collect();
            errors.extend(
                more.into_iter()
                    .filter(|e| !named.iter().any(|n| n == top_member(&e.field))),
            );
            Err(DomainError::Invalid(errors))
        }
        Some(Err(other)) => Err(other),
        _ => Err(DomainError::Invalid(errors)),
    }
}

/// `participants` of `participants[0].role`.
fn top_member(field: &str) -> &str {
    field.split(['.', '[']).next().unwrap_or_default()
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.find('`').map(|end| rest[..end].to_string())
}

/// Parses a calendar date written exactly `YYYY-MM-DD`. chrono alone would also take
/// `2026-1-5` or a signed five-digit year; the fixed form is what the API documents,
/// and it keeps dates stored as text on SQLite in calendar order.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("`{text}` is not a date in the form YYYY-MM-DD"))
}

/// Serde for optional dates in input structs: `null` is absent, anything but a
/// `YYYY-MM-DD` string is a type error on the field (`#[serde(default, with = …)]`).
pub mod date {
    use chrono::NaiveDate;
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(date: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        date.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => super::parse_date(&text).map(Some).map_err(D::Error::custom),
            None => Ok(None),
        }
    }
}

/// Parses a date-time as chrono reads RFC 3339 and turns it into UTC, to the
/// microsecond, refusing what
/// cannot be stored alike on both backends: a time outside the years 0001–9999 in
/// UTC (which an offset can push a 9999-12-31 to; RFC 3339 cannot write it, and
/// SQLite would compare its text out of order), and a leap second (which SQLite
/// keeps as `:60` and PostgreSQL moves to the next minute).
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    let parsed: DateTime<FixedOffset> = text
        .parse()
        .map_err(|e| format!("`{text}` is not an RFC 3339 date-time: {e}"))?;
    let utc = parsed.with_timezone(&Utc);
    if !(1..=9999).contains(&utc.year()) {
        return Err(format!(
            "`{text}` is outside the years 0001 to 9999 once in UTC"
        ));
    }
    if utc.nanosecond() >= 1_000_000_000 {
        return Err(format!("`{text}` is a leap second, which cannot be stored"));
    }
    // Instants are stored to the microsecond: finer digits are dropped here, so that
    // a bound compares with stored times alike on both backends (SQLite compares
    // the text, PostgreSQL the stored value).
    Ok(utc.trunc_subsecs(6))
}

/// Serde for optional date-times in input structs: `null` is absent, anything
/// [`parse_instant`] refuses is a type error on the field (`#[serde(default, with = …)]`).
pub mod instant {
    use chrono::{DateTime, Utc};
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        time.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => super::parse_instant(&text)
                .map(Some)
                .map_err(D::Error::custom),
            None => Ok(None),
        }
    }
}

/// Collects every rule a request breaks, so that a client learns of all of them at once.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, field: &str, code: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// A required one-line text: trimmed, inner whitespace collapsed, 1..=max characters.
    pub fn required_line(&mut self, field: &str, value: Option<String>, max: usize) -> String {
        match self.optional_line(field, value, max) {
            Some(text) => text,
            None => {
                if !self.errors.iter().any(|e| e.field == field) {
                    self.push(field, "required", format!("`{field}` is required"));
                }
                String::new()
            }
        }
    }

    /// An optional one-line text: as `required_line`, and blank counts as absent.
    pub fn optional_line(
        &mut self,
        field: &str,
        value: Option<String>,
        max: usize,
    ) -> Option<String> {
        let text = super::name::tidy(&value?);
        self.bounded(field, text, max)
    }

    /// An optional free text (line breaks kept): trimmed, blank counts as absent.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<String>,
        max: usize,
    ) -> Option<String> {
        let text = value?.trim().to_string();
        self.bounded(field, text, max)
    }

    fn bounded(&mut self, field: &str, text: String, max: usize) -> Option<String> {
        if text.is_empty() {
            return None;
        }
        if text.contains('\0') {
            self.push(
                field,
                "invalid_character",
                "must not contain NUL characters",
            );
            return None;
        }
        let length = text.chars().count();
        if length > max {
            self.push(
                field,
                "too_long",
                format!("must be at most {max} characters, got {length}"),
            );
            return None;
        }
        Some(text)
    }

    /// An optional whole number within `range`.
    pub fn whole_number(
        &mut self,
        field: &str,
        value: Option<i64>,
        range: RangeInclusive<i32>,
    ) -> Option<i32> {
        let value = value?;
        match i32::try_from(value) {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.push(
                    field,
                    "out_of_range",
                    format!(
                        "must be a whole number from {} to {}, got {value}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    pub fn email(&mut self, field: &str, value: Option<String>) -> Option<String> {
        let email = self.optional_line(field, value, 254)?;
        if email.validate_email() {
            Some(email)
        } else {
            self.push(
                field,
                "invalid_email",
                format!("`{email}` is not an email address"),
            );
            None
        }
    }

    /// A phone number as people write them: digits with `+`, `-`, spaces, parentheses.
    pub fn phone(&mut self, field: &str, value: Option<String>) -> Option<String> {
        let phone: String = self.optional_line(field, value, 32)?.nfkc().collect();
        let allowed = phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if allowed && (5..=20).contains(&digits) && !phone.contains("++") {
            Some(phone)
        } else {
            self.push(
                field,
                "invalid_phone",
                "must be 5 to 20 digits, optionally with `+`, `-`, spaces and parentheses",
            );
            None
        }
    }

    /// An absolute http or https URL.
    pub fn web_url(&mut self, field: &str, value: Option<String>) -> Option<String> {
        let text = self.optional_line(field, value, 2048)?;
        let web = url::Url::parse(&text)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .unwrap_or(false);
        if web && text.validate_url() {
            Some(text)
        } else {
            self.push(field, "invalid_url", "must be an http:// or https:// URL");
            None
        }
    }

    pub fn finish<T>(self, value: T) -> Result<T, DomainError> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(DomainError::Invalid(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn instants_are_read_in_utc_within_the_years_that_can_be_stored() {
        let ok = |text: &str| parse_instant(text).map(|t| t.to_rfc3339());
        assert_eq!(
            ok("2024-11-29T10:00:00+08:00").as_deref(),
            Ok("2024-11-29T02:00:00+00:00")
        );
        assert_eq!(
            ok("0001-01-01T00:00:00Z").as_deref(),
            Ok("0001-01-01T00:00:00+00:00")
        );
        assert_eq!(
            ok("9999-12-31T23:59:59.999999Z").as_deref(),
            Ok("9999-12-31T23:59:59.999999+00:00")
        );
        for (text, why) in [
            ("9999-12-31T23:59:59-23:59", "outside the years"),
            ("0000-01-01T00:00:00+23:59", "outside the years"),
            ("0000-06-01T00:00:00Z", "outside the years"),
            ("2016-12-31T23:59:60Z", "leap second"),
            ("yesterday", "not an RFC 3339 date-time"),
        ] {
            let error = parse_instant(text).expect_err(text);
            assert!(
                error.contains(why) && error.contains(text),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        id: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: Option<String>,
        inner: Option<Vec<Inner>>,
    }

    #[test]
    fn decode_all_names_nested_fields_and_goes_on() {
        let result = decode_all(
            json!({"name": 5, "inner": [{"id": 1, "seat": 2}], "extra": true}),
            |o: Outer| Ok(o),
        );
        let Err(DomainError::Invalid(errors)) = result else {
            panic!("{result:?}")
        };
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("extra", "unknown_field"),
                ("inner[0].seat", "unknown_field"),
                ("name", "invalid_type")
            ]
        );
    }

    #[test]
    fn checker_reports_every_field() {
        let mut c = Checker::new();
        c.required_line("name", Some("   ".into()), 10);
        c.email("email", Some("not-an-email".into()));
        c.phone("phone", Some("call me".into()));
        c.web_url("website", Some("ftp://example.com".into()));
        c.optional_line("title", Some("x".repeat(11)), 10);
        c.optional_line("notes", Some("a\0b".into()), 10);
        let Err(DomainError::Invalid(errors)) = c.finish(()) else {
            panic!("expected errors");
        };
        let codes: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            codes,
            [
                ("name", "required"),
                ("email", "invalid_email"),
                ("phone", "invalid_phone"),
                ("website", "invalid_url"),
                ("title", "too_long"),
                ("notes", "invalid_character"),
            ]
        );
    }

    #[test]
    fn dates_must_be_written_in_full() {
        assert_eq!(
            parse_date("2026-11-29"),
            Ok(NaiveDate::from_ymd_opt(2026, 11, 29).expect("valid"))
        );
        assert!(parse_date("2028-02-29").is_ok());
        for bad in [
            "2026-1-5",
            "2026-11-29T00:00:00",
            " 2026-11-29",
            "+2026-11-29",
            "2026-02-30",
            "2027-02-29",
            "2026-13-01",
            "29/11/2026",
            "２０２６-１１-２９",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn whole_numbers_are_bounded() {
        let mut c = Checker::new();
        assert_eq!(c.whole_number("size", Some(0), 0..=i32::MAX), Some(0));
        assert_eq!(c.whole_number("size", None, 0..=i32::MAX), None);
        assert_eq!(c.whole_number("size", Some(-1), 0..=i32::MAX), None);
        assert_eq!(c.whole_number("year", Some(1899), 1900..=2200), None);
        assert_eq!(c.whole_number("big", Some(i64::MAX), 0..=i32::MAX), None);
        let Err(DomainError::Invalid(errors)) = c.finish(()) else {
            panic!("expected errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [
                ("size", "out_of_range"),
                ("year", "out_of_range"),
                ("big", "out_of_range")
            ]
        );
    }

    #[test]
    fn accepts_common_phone_spellings() {
        for phone in [
            "+86 138 0013 8000",
            "0571-88886666",
            "(0571) 8888 6666",
            "１３８００１３８０００",
        ] {
            let mut c = Checker::new();
            assert!(c.phone("phone", Some(phone.into())).is_some(), "{phone}");
        }
    }
}
