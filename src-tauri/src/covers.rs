//! Serves cover art to the window under its own URI scheme, `cover://localhost/<id>` (on
//! Windows `http://cover.localhost/<id>`), so album grids load thumbnails the way a browser
//! loads images — cached, lazily, off the IPC channel. `?size=original` gives the full image.

use std::sync::Arc;

use loft_core::Loft;
use loft_core::library_types::CoverSize;
use tauri::http::{Request, Response, StatusCode, header};
use tauri::{Manager, UriSchemeContext, UriSchemeResponder, Wry};

pub const SCHEME: &str = "cover";

pub fn handle(ctx: UriSchemeContext<'_, Wry>, request: Request<Vec<u8>>, responder: UriSchemeResponder) {
    let app = ctx.app_handle().clone();
    let uri = request.uri().clone();
    // Reading the image touches the database: keep it off the webview's thread.
    tauri::async_runtime::spawn_blocking(move || {
        let id = uri.path().trim_start_matches('/').parse::<i64>();
        let size = match uri.query() {
            Some(q) if q.contains("size=original") => CoverSize::Original,
            _ => CoverSize::Thumbnail,
        };
        let response = match id {
            Err(_) => plain(StatusCode::BAD_REQUEST, "cover ids are numbers"),
            Ok(id) => match app.state::<Arc<Loft>>().cover(id, size) {
                Ok(Some(image)) => Response::builder()
                    .header(header::CONTENT_TYPE, image.mime)
                    .header(header::CACHE_CONTROL, "max-age=31536000, immutable")
                    .body(image.bytes)
                    .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "bad response")),
                Ok(None) => plain(StatusCode::NOT_FOUND, "no such cover"),
                Err(error) => {
                    tracing::warn!(%error, id, "cover could not be read");
                    plain(StatusCode::INTERNAL_SERVER_ERROR, "cover could not be read")
                }
            },
        };
        responder.respond(response);
    });
}

fn plain(status: StatusCode, text: &str) -> Response<Vec<u8>> {
    let mut response = Response::new(text.as_bytes().to_vec());
    *response.status_mut() = status;
    response
}
