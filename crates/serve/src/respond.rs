//! What every answer of the server is made of: a body with its ETag ([`Body`], sent by [`send`]
//! with `304 Not Modified` when the client has it) and the JSON error body of a 4xx/5xx
//! ([`ApiError`], [`json_error`]). Shared by the API, the dashboard's assets, the guard and the
//! cached tables.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A serialized response body with its ETag.
#[derive(Debug, Clone)]
pub struct Body {
    pub bytes: bytes_like::Bytes,
    pub content_type: &'static str,
    pub etag: String,
}

/// Re-export of the byte buffer type used for bodies.
pub mod bytes_like {
    pub type Bytes = axum::body::Bytes;
}

impl Body {
    pub fn new(bytes: Vec<u8>, content_type: &'static str) -> Body {
        let h = blake3::hash(&bytes);
        Body {
            etag: format!("\"{}\"", &h.to_hex()[..32]),
            bytes: bytes.into(),
            content_type,
        }
    }
}

/// A 4xx/5xx answer with a message.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub(crate) fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_error(self)
    }
}

/// The JSON body of an error.
pub fn json_error(e: ApiError) -> Response {
    let body = json!({"error": e.message, "status": e.status.as_u16()}).to_string();
    let mut r = Response::new(axum::body::Body::from(body));
    *r.status_mut() = e.status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Send a body with its ETag; 304 when the client already has it.
pub fn send(body: &Body, headers: &HeaderMap, cache: &'static str) -> Response {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == body.etag || t.trim() == "*")
        });
    let mut r = if matches {
        let mut r = Response::new(axum::body::Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(axum::body::Body::from(body.bytes.clone()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(body.content_type),
        );
        r
    };
    if let Ok(v) = HeaderValue::from_str(&body.etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}
