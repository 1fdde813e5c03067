//! `POST /api/v1/imports/{kind}`: `liaison import` for frontends, a CSV or xlsx file
//! as the body and the report as JSON.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use clap::ValueEnum;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::Params;
use super::AppState;
use crate::cli::RecordKind;
use crate::domain::access::Actor;
use crate::domain::{page, DomainError, FieldError};
use crate::import::{self, ImportError, Mode, OnDuplicate, Options, Table};

/// Largest file accepted: about 200 000 enterprise rows of CSV. Larger files go
/// through `liaison import`, which streams them.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The query as received: values are parsed in `options`, so that a bad one is a
/// problem that names its parameter (unknown and repeated parameters are refused
/// as the query is read).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    mode: Option<String>,
    on_duplicate: Option<String>,
    utc_offset: Option<String>,
}

impl ImportParams {
    fn options(&self) -> Result<Options, DomainError> {
        let mut errors = Vec::new();
        let mode = page::parse_param("mode", self.mode.as_deref(), "invalid_enum", &mut errors);
        let on_duplicate = page::parse_param(
            "on_duplicate",
            self.on_duplicate.as_deref(),
            "invalid_enum",
            &mut errors,
        );
        let utc_offset = import::parse_offset(
            self.utc_offset
                .as_deref()
                .unwrap_or(import::DEFAULT_UTC_OFFSET),
        )
        .map_err(|message| errors.push(FieldError::new("utc_offset", "invalid", message)));
        match utc_offset {
            Ok(utc_offset) if errors.is_empty() => Ok(Options {
                mode: mode.unwrap_or(Mode::SkipBad),
                on_duplicate: on_duplicate.unwrap_or(OnDuplicate::Skip),
                utc_offset,
            }),
            _ => Err(DomainError::BadRequest(errors)),
        }
    }
}

pub async fn create(
    state: web::Data<AppState>,
    kind: web::Path<String>,
    params: Params<ImportParams>,
    actor: Actor,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let kind = RecordKind::from_str(&kind, false).map_err(|_| DomainError::NotFound {
        kind: "import kind",
        id: kind.to_string(),
    })?;
    let options = params.options()?;
    let xlsx = match media_type(&req).as_deref() {
        Some("text/csv") => false,
        Some(XLSX) => true,
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "a CSV file (Content-Type: text/csv) or an xlsx workbook (Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet)",
            ))
        }
    };
    let body = payload
        .to_bytes_limited(MAX_IMPORT_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge {
            limit: MAX_IMPORT_BYTES,
        })?
        .map_err(|e| unreadable(format!("the upload was cut short: {e}")))?;
    // Reading the file is work too (an xlsx is a zip of XML): off the async workers,
    // with the import.
    let report = state
        .run(move |conn| {
            let size = body.len() as u64;
            let table = if xlsx {
                Table::xlsx(std::io::Cursor::new(body))
            } else {
                Table::csv(Box::new(std::io::Cursor::new(body)), size)
            };
            Ok(table
                .map_err(ImportError::from)
                .and_then(|table| import::run(conn, kind, table, options, &actor, |_, _| {})))
        })
        .await?
        .map_err(|e| match e {
            ImportError::Db(e) => ApiError::from(e),
            other => unreadable(other.to_string()),
        })?;
    Ok(HttpResponse::Ok().json(report))
}

/// The body's media type without parameters, lower case.
fn media_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    Some(essence)
}

/// A file that cannot be read as a table of this kind: nothing was imported.
fn unreadable(message: String) -> ApiError {
    DomainError::Invalid(vec![FieldError::new("file", "unreadable_file", message)]).into()
}
