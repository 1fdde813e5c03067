//! Request extractors that turn every malformed input into a problem response.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::error::{PayloadError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use serde_json::Value;

use super::error::ApiError;
use crate::domain::{DomainError, FieldError, Precondition};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON request body, checked for media type, size and syntax; its shape is
/// checked by the domain, which names every bad field.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| is_json(&m));
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType(
                    "JSON (Content-Type: application/json)",
                ));
            }
            let bytes = bytes
                .await
                .map_err(|e| match e.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => ApiError::PayloadTooLarge {
                        limit: MAX_BODY_BYTES,
                    },
                    _ => ApiError::MalformedJson(e.to_string()),
                })?;
            serde_json::from_slice(&bytes)
                .map(|Unique(value)| JsonBody(value))
                .map_err(|e| ApiError::MalformedJson(e.to_string()))
        })
    }
}

/// `application/json` or a `+json` type, in UTF-8 (the only encoding JSON has,
/// RFC 8259), but not a JSON Patch (RFC 6902): its operations are not a merge patch,
/// and read as one they would be refused member by member.
fn is_json(media: &mime::Mime) -> bool {
    let json = media.type_() == mime::APPLICATION
        && (media.subtype() == mime::JSON || media.suffix() == Some(mime::JSON))
        && media.subtype() != "json-patch";
    let utf8 = media
        .get_param(mime::CHARSET)
        .is_none_or(|charset| charset == mime::UTF_8);
    json && utf8
}

/// A JSON value whose objects name each member once. serde_json keeps the last of
/// a repeated member, so `{"name": "A", "name": "B"}` would be taken as `B` without a
/// word; which one the client meant cannot be told, so it is refused.
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // As serde_json's own `Value` does: JSON text cannot hold a NaN or infinity.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Unique(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if members.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the member `{key}` is given twice"
                )));
            }
            let Unique(value) = map.next_value()?;
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}

/// The `If-Match` header as a precondition on the record's version (its `ETag`).
#[derive(Debug, Default)]
pub struct IfMatch(pub Precondition);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let values: Vec<&str> = req
            .headers()
            .get_all(header::IF_MATCH)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        let precondition = if values.is_empty() && req.headers().get(header::IF_MATCH).is_none()
            || values.contains(&"*")
        {
            Precondition::Any
        } else {
            // A tag that is not one of our versions can never match: 412, as RFC 9110 says.
            Precondition::Versions(values.iter().filter_map(|tag| parse_etag(tag)).collect())
        };
        std::future::ready(Ok(IfMatch(precondition)))
    }
}

/// The version a tag names. Tags are opaque strings (RFC 9110, 8.8.3), so only the
/// exact text of one of our tags names a version: `"01"` and `"+1"` name none.
fn parse_etag(tag: &str) -> Option<i64> {
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let opaque = tag.strip_prefix('"')?.strip_suffix('"')?;
    let version: i64 = opaque.parse().ok()?;
    (version.to_string() == opaque).then_some(version)
}

/// The `ETag` of a record version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Parses a path id; a malformed one is the client's mistake, not a missing record.
pub fn parse_id<T: FromStr>(raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::Domain(DomainError::BadRequest(vec![FieldError::new(
            "id",
            "invalid_id",
            format!("`{raw}` is not a UUID"),
        )]))
    })
}

/// Query parameters, read as `web::Query` reads them, except that a NUL character
/// in a name or value is a `400` naming the parameter: no stored text holds one,
/// and PostgreSQL refuses it in a query, which would be a `500`.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T> std::ops::Deref for Params<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned> Params<T> {
    /// Reads a query string (without its `?`).
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        let with_nul = url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, value)| name.contains('\0') || value.contains('\0'));
        if let Some((name, _)) = with_nul {
            return Err(ApiError::Domain(DomainError::BadRequest(vec![
                FieldError::new(
                    name.replace('\0', "\\0"),
                    "invalid_character",
                    "must not contain NUL characters",
                ),
            ])));
        }
        web::Query::<T>::from_query(query)
            .map(|q| Params(q.into_inner()))
            .map_err(query_problem)
    }
}

impl<T: serde::de::DeserializeOwned> FromRequest for Params<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::from_query(req.query_string()))
    }
}

/// The query of an operation that takes no parameters: any is a `400`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nothing {}

pub type NoParams = Params<Nothing>;

/// Turns query-string errors (unknown or repeated parameters) into problems.
pub fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    query_problem(error).into()
}

/// The problem for a query string that does not decode.
pub fn query_problem(error: QueryPayloadError) -> ApiError {
    let message = match &error {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    let field = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("duplicate field `"))
        .and_then(|rest| rest.find('`').map(|end| rest[..end].to_string()))
        .unwrap_or_default();
    let code = if message.starts_with("duplicate") {
        "duplicate_parameter"
    } else {
        "unknown_parameter"
    };
    ApiError::Domain(DomainError::BadRequest(vec![FieldError::new(
        field, code, message,
    )]))
}

/// Path segments that fail to decode become problems too.
pub fn path_error(error: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::Domain(DomainError::BadRequest(vec![FieldError::new(
        "id",
        "invalid_path",
        error.to_string(),
    )]))
    .into()
}
