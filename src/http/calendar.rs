//! `GET /api/v1/visits.ics`: visits as a calendar feed, with the visit list's filters.

use actix_web::{web, HttpRequest, HttpResponse};

use super::error::ApiError;
use super::extract::Params;
use super::AppState;
use crate::db::visits;
use crate::domain::calendar;
use crate::domain::page::MAX_LIMIT;
use crate::domain::visit::{VisitFilter, VisitListParams};
use crate::domain::{DomainError, FieldError};

/// Most events in one feed: a calendar client wants the recent past and the future,
/// not the whole archive.
pub const MAX_EVENTS: usize = 2000;

pub async fn feed(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    // `token` authenticated the request already; the rest are the list's filters.
    let query: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("token="))
        .collect();
    let mut params = Params::<VisitListParams>::from_query(&query.join("&"))?.0;
    if params.sort.is_some() || params.limit.is_some() || params.cursor.is_some() {
        return Err(DomainError::BadRequest(vec![FieldError::new(
            "sort",
            "unknown_parameter",
            "the feed is every matching visit by start time: `sort`, `limit` and `cursor` do not apply",
        )])
        .into());
    }
    params.limit = Some(MAX_LIMIT.to_string());
    let mut filter = VisitFilter::parse(&params)?;
    let visits = state
        .run(move |conn| {
            let mut all = Vec::new();
            loop {
                let page = visits::list(conn, &filter)?;
                all.extend(page.items);
                match page.next_cursor {
                    Some(cursor) if all.len() < MAX_EVENTS => filter.page.continue_from(&cursor)?,
                    _ => break,
                }
            }
            all.truncate(MAX_EVENTS);
            Ok(all)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(calendar::render(&visits)))
}
