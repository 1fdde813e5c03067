//! The API reference at `/docs`: Swagger UI rendering `/openapi.yaml`, with every file
//! it needs compiled into the binary, so that the page works where nothing outside the
//! server can be reached.
//!
//! Swagger UI's files come from the `swagger-ui-redist` crate, which ships them in its
//! published source (`include_bytes!`, no build script, no download).

use std::sync::OnceLock;

use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag, Header, IfNoneMatch};
use actix_web::{web, HttpRequest, HttpResponse};
use swagger_ui_redist::{SwaggerUi, SwaggerUiStaticFile};

use super::error::ApiError;
use crate::domain::DomainError;

/// The page. Scripts are files of their own so that the policy below needs no
/// `unsafe-inline` for scripts.
const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Liaison API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="stylesheet" href="/docs/index.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>
"#;

/// Starts Swagger UI on the page.
const INIT_JS: &str = include_str!("docs.js");

/// The browser may load nothing from elsewhere: the page keeps working offline, and a
/// stray reference to a CDN fails loudly instead of leaking the reader's visit. Swagger
/// UI sets inline styles and draws its icons from `data:` URLs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Assets are not renamed when they change, so a browser keeps them a day and then
/// asks again with `If-None-Match`.
const ASSET_MAX_AGE: u32 = 24 * 60 * 60;

/// The Swagger UI files the page refers to.
const SWAGGER_FILES: &[SwaggerUiStaticFile] = &[
    SwaggerUiStaticFile::Css,
    SwaggerUiStaticFile::IndexCss,
    SwaggerUiStaticFile::Js,
    SwaggerUiStaticFile::Favicon16,
    SwaggerUiStaticFile::Favicon32,
];

/// A file served under `/docs/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    etag: EntityTag,
}

impl Asset {
    fn new(name: &'static str, bytes: &'static [u8]) -> Self {
        let content_type = match name.rsplit('.').next() {
            Some("css") => "text/css; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("png") => "image/png",
            _ => "application/octet-stream",
        };
        Asset {
            name,
            content_type,
            bytes,
            etag: etag(bytes),
        }
    }
}

fn assets() -> &'static [Asset] {
    static ASSETS: OnceLock<Vec<Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let mut assets: Vec<Asset> = SwaggerUi::static_files()
            .iter()
            .filter(|(file, _)| SWAGGER_FILES.contains(file))
            .map(|(file, bytes)| Asset::new(file.file_name(), bytes))
            .collect();
        assets.push(Asset::new("docs.js", INIT_JS.as_bytes()));
        assets
    })
}

/// The names served under `/docs/`, as `openapi.yaml` must list them.
pub fn asset_names() -> Vec<&'static str> {
    assets().iter().map(|a| a.name).collect()
}

/// A strong validator from the content (64-bit FNV-1a): the same bytes give the same
/// tag in every process, so it holds across servers behind a load balancer.
fn etag(bytes: &[u8]) -> EntityTag {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    EntityTag::new_strong(format!("{hash:016x}"))
}

/// `GET /docs`: the page.
pub async fn page(req: HttpRequest) -> HttpResponse {
    static ETAG: OnceLock<EntityTag> = OnceLock::new();
    let etag = ETAG.get_or_init(|| etag(PAGE.as_bytes()));
    let mut response = respond(
        &req,
        "text/html; charset=utf-8",
        PAGE.as_bytes(),
        etag,
        // Tiny: always revalidated, so a new release shows at once.
        CacheControl(vec![CacheDirective::NoCache]),
    );
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

/// `GET /docs/{file}`: a file the page loads.
pub async fn asset(req: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = file.into_inner();
    let asset = assets()
        .iter()
        .find(|a| a.name == file)
        .ok_or(DomainError::NotFound {
            kind: "documentation file",
            id: file,
        })?;
    Ok(respond(
        &req,
        asset.content_type,
        asset.bytes,
        &asset.etag,
        CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(ASSET_MAX_AGE),
        ]),
    ))
}

/// `200` with the body, or `304` when the client's copy is current.
fn respond(
    req: &HttpRequest,
    content_type: &'static str,
    body: &'static [u8],
    etag: &EntityTag,
    cache: CacheControl,
) -> HttpResponse {
    let current = match IfNoneMatch::parse(req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(etag)),
        Err(_) => false,
    };
    if current {
        return HttpResponse::NotModified()
            .insert_header(header::ETag(etag.clone()))
            .insert_header(cache)
            .finish();
    }
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(header::ETag(etag.clone()))
        .insert_header(cache)
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_loads_is_served() {
        let names = asset_names();
        for reference in PAGE.split("\"/docs/").skip(1) {
            let name = reference.split('"').next().unwrap_or_default();
            assert!(names.contains(&name), "the page loads {name}, not served");
        }
    }

    #[test]
    fn the_tag_follows_the_content() {
        assert_eq!(etag(b"swagger"), etag(b"swagger"));
        assert_ne!(etag(b"swagger"), etag(b"swaggers"));
    }
}
