//! `/api/v1/reports`: where cooperation stands, for managers. Each report is one
//! aggregate query; the handlers only check parameters.

use actix_web::{web, HttpResponse};

use super::error::ApiError;
use super::extract::Params;
use super::AppState;
use crate::db::reports;
use crate::domain::report::{
    ActivityParams, ExpiringParams, FunnelParams, PipelineParams, StalledParams,
};

/// `GET /reports/pipeline`: counts per stage of each kind of item.
pub async fn pipeline(
    state: web::Data<AppState>,
    params: Params<PipelineParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = params.parse()?;
    let pipeline = state
        .run(move |conn| reports::pipeline(conn, &scope))
        .await?;
    Ok(HttpResponse::Ok().json(pipeline))
}

/// `GET /reports/stalled`: items that have neither moved nor been visited for `days`.
pub async fn stalled(
    state: web::Data<AppState>,
    params: Params<StalledParams>,
) -> Result<HttpResponse, ApiError> {
    let filter = params.parse()?;
    let page = state
        .run(move |conn| reports::stalled(conn, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /reports/expiring`: agreements ending within `within` days, with renewals.
pub async fn expiring(
    state: web::Data<AppState>,
    params: Params<ExpiringParams>,
) -> Result<HttpResponse, ApiError> {
    let filter = params.parse()?;
    let page = state
        .run(move |conn| reports::expiring(conn, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /reports/activity`: visits per month, enterprise or direction.
pub async fn activity(
    state: web::Data<AppState>,
    params: Params<ActivityParams>,
) -> Result<HttpResponse, ApiError> {
    let filter = params.parse(crate::domain::today())?;
    let activity = state
        .run(move |conn| reports::activity(conn, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(activity))
}

/// `GET /reports/funnel`: how the items that entered the pipeline in a period moved.
pub async fn funnel(
    state: web::Data<AppState>,
    params: Params<FunnelParams>,
) -> Result<HttpResponse, ApiError> {
    let filter = params.parse(crate::domain::today())?;
    let funnel = state
        .run(move |conn| reports::funnel(conn, &filter))
        .await?;
    Ok(HttpResponse::Ok().json(funnel))
}
