//! Answers fixed bytes with actix-web's defaults, as `liaison serve` would with no
//! work to do: `GET /healthz` a 15-byte JSON body, `GET /page` the file given (a page
//! of visits saved from the real server).
//!
//! `floor-server PAGE_FILE [ADDRESS (127.0.0.1:18080)]`

use actix_web::{web, App, HttpResponse, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .expect("usage: floor-server PAGE_FILE [ADDRESS]");
    let address = args.next().unwrap_or_else(|| "127.0.0.1:18080".into());
    let page = web::Bytes::from(std::fs::read(file)?);
    HttpServer::new(move || {
        let page = page.clone();
        App::new()
            .route(
                "/healthz",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(r#"{"status":"ok"}"#)
                }),
            )
            .route(
                "/page",
                web::get().to(move || {
                    let page = page.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(page)
                    }
                }),
            )
    })
    .bind(address)?
    .run()
    .await
}
