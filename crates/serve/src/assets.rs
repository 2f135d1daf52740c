//! The web page and its files, compiled into the binary (`include_str!`): nothing is read from
//! disk per request, so no URL can reach a file outside this table (no path traversal).
//!
//! Charting: uPlot 1.6.32 (MIT, `assets/vendor/uplot/LICENSE`), the minified IIFE build from the
//! npm registry (`npm pack uplot@1.6.32`), vendored unchanged; no CDN, no build step.

use crate::respond::{json_error, send, ApiError, Body};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

/// (URL path, content, content type, cache policy).
const FILES: [(&str, &str, &str, &str); 6] = [
    (
        "/",
        include_str!("assets/index.html"),
        "text/html; charset=utf-8",
        "no-cache",
    ),
    (
        "/assets/app.js",
        include_str!("assets/app.js"),
        "text/javascript; charset=utf-8",
        "no-cache",
    ),
    (
        "/assets/app.css",
        include_str!("assets/app.css"),
        "text/css; charset=utf-8",
        "no-cache",
    ),
    (
        "/assets/uPlot.min.js",
        include_str!("assets/vendor/uplot/uPlot.iife.min.js"),
        "text/javascript; charset=utf-8",
        "public, max-age=86400",
    ),
    (
        "/assets/uPlot.min.css",
        include_str!("assets/vendor/uplot/uPlot.min.css"),
        "text/css; charset=utf-8",
        "public, max-age=86400",
    ),
    (
        "/assets/uPlot-LICENSE.txt",
        include_str!("assets/vendor/uplot/LICENSE"),
        "text/plain; charset=utf-8",
        "public, max-age=86400",
    ),
];

fn table() -> &'static Vec<(&'static str, Body, &'static str)> {
    static T: OnceLock<Vec<(&'static str, Body, &'static str)>> = OnceLock::new();
    T.get_or_init(|| {
        FILES
            .iter()
            .map(|(path, text, ct, cache)| (*path, Body::new(text.as_bytes().to_vec(), ct), *cache))
            .collect()
    })
}

/// The embedded file at exactly this URL path.
pub fn lookup(path: &str) -> Option<(&'static Body, &'static str)> {
    let path = if path == "/index.html" { "/" } else { path };
    table()
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, b, c)| (b, *c))
}

/// Serve an embedded file (with ETag revalidation), or 404.
pub fn respond(path: &str, headers: &HeaderMap) -> Response {
    let Some((body, cache)) = lookup(path) else {
        return json_error(ApiError::new(
            StatusCode::NOT_FOUND,
            "no such page; the dashboard is at /",
        ));
    };
    send(body, headers, cache)
}

/// Handler for the page and assets.
pub async fn handler(uri: axum::http::Uri, headers: HeaderMap) -> Response {
    respond(uri.path(), &headers)
}

/// `/favicon.ico`: nothing (browsers ask for it).
pub async fn favicon() -> impl IntoResponse {
    (
        StatusCode::NO_CONTENT,
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        )],
    )
}
