//! Who may read, and the headers every response carries.
//!
//! - With `--token`, every `/api` request must carry `Authorization: Bearer TOKEN` or the session
//!   cookie that `POST /login` (form field `token`) sets: HttpOnly, SameSite=Strict, holding a
//!   hash derived from the token rather than the token itself. Tokens are compared as BLAKE3
//!   hashes (constant-time equality). Anything else gets 401 with a JSON body.
//! - Security headers on every response: a Content-Security-Policy that allows only this origin's
//!   scripts, styles and requests (no inline script, no frames, no plugins), X-Frame-Options
//!   DENY, X-Content-Type-Options nosniff, Referrer-Policy no-referrer.

use crate::respond::{json_error, ApiError};
use crate::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::sync::Arc;

/// The session cookie's name.
pub const COOKIE: &str = "jobshift_session";

/// The page's Content-Security-Policy.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The configured token, kept as hashes.
pub struct Auth {
    token: Option<blake3::Hash>,
    session: Option<String>,
}

impl Auth {
    pub fn new(token: Option<&str>) -> Auth {
        Auth {
            token: token.map(|t| blake3::hash(t.as_bytes())),
            session: token.map(|t| {
                blake3::derive_key("jobshift-serve 2026 session cookie", t.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            }),
        }
    }

    pub fn required(&self) -> bool {
        self.token.is_some()
    }

    fn token_ok(&self, presented: &str) -> bool {
        self.token
            .is_some_and(|want| blake3::hash(presented.as_bytes()) == want)
    }

    fn session_ok(&self, presented: &str) -> bool {
        match &self.session {
            // compare hashes of the hex strings: equality of blake3::Hash is constant-time
            Some(s) => blake3::hash(s.as_bytes()) == blake3::hash(presented.as_bytes()),
            None => false,
        }
    }

    /// Does a request carry a valid token or session cookie?
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        if !self.required() {
            return true;
        }
        if let Some(v) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            if let Some(t) = v.strip_prefix("Bearer ") {
                if self.token_ok(t.trim()) {
                    return true;
                }
            }
        }
        for v in headers.get_all(header::COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            for part in v.split(';') {
                if let Some(s) = part.trim().strip_prefix(&format!("{COOKIE}=")) {
                    if self.session_ok(s) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// Middleware on `/api`: 401 without a valid token.
pub async fn require_token(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if state.auth.allows(req.headers()) {
        return next.run(req).await;
    }
    let mut r = json_error(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "this server needs its token: send `Authorization: Bearer TOKEN`, or sign in on the page",
    ));
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"jobshift\""),
    );
    r
}

/// Middleware on everything: security headers.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    r
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `POST /login` (form field `token`): sets the session cookie and returns to the page.
pub async fn login(
    State(state): State<Arc<AppState>>,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return json_error(ApiError::new(
            StatusCode::BAD_REQUEST,
            "send the token as a form field: token=...",
        ));
    };
    match (&state.auth.session, state.auth.token_ok(form.token.trim())) {
        (Some(session), true) => {
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict"
            )) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        (None, _) => Redirect::to("/").into_response(),
        _ => {
            let mut r = Redirect::to("/#login=failed").into_response();
            *r.status_mut() = StatusCode::SEE_OTHER;
            r
        }
    }
}

/// `POST /logout`: clears the session cookie.
pub async fn logout() -> Response {
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("jobshift_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"),
    );
    r
}

/// A bare 404 for anything that is neither the page, an asset nor the API.
pub async fn not_found() -> Response {
    let mut r = Response::new(Body::from("not found\n"));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    #[test]
    fn bearer_and_cookie_are_checked() {
        let a = Auth::new(Some("0123456789abcdef"));
        let mut h = HeaderMap::new();
        assert!(!a.allows(&h));
        h.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert!(!a.allows(&h));
        h.insert(
            header::AUTHORIZATION,
            "Bearer 0123456789abcdef".parse().unwrap(),
        );
        assert!(a.allows(&h));
        let mut c = HeaderMap::new();
        let session = a.session.clone().unwrap();
        c.insert(
            header::COOKIE,
            format!("x=1; {COOKIE}={session}").parse().unwrap(),
        );
        assert!(a.allows(&c));
        // the cookie does not hold the token itself
        assert_ne!(session, "0123456789abcdef");
        assert!(Auth::new(None).allows(&HeaderMap::new()));
    }

    #[test]
    fn non_loopback_needs_a_token() {
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        let err = crate::check_bind(&public, None).unwrap_err().to_string();
        assert!(err.contains("without --token"), "{err}");
        assert!(crate::check_bind(&public, Some("0123456789abcdef")).is_ok());
        assert!(crate::check_bind(&local, None).is_ok());
        assert!(crate::check_bind(&v6, None).is_ok());
        assert!(crate::check_bind(&public, Some("  ")).is_err());
        assert!(crate::check_bind(&public, Some("short")).is_ok());
        assert!(crate::token_warning(Some("short")).is_some());
        assert!(crate::token_warning(Some("0123456789abcdef")).is_none());
    }
}
