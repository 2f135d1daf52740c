//! The HTTP fetcher every connector goes through: politeness and safety live here, once.
//!
//! - a User-Agent naming jobshift and the user's contact; `Accept-Encoding: gzip` only;
//! - connect and total timeouts; a streaming size cap on the body and a second cap on the
//!   decompressed size (a gzip bomb stops at the cap, it is never inflated whole);
//! - retries with exponential backoff and jitter on 429, 5xx, timeouts and connection errors,
//!   honouring `Retry-After` (seconds or an HTTP date), at most `max_tries` tries in all;
//! - a per-host rate limit (`governor`, one limiter per host, slowed to a robots.txt
//!   `Crawl-delay` when one is larger) and a global cap on requests in flight;
//! - robots.txt (`texting_robots`) for HTML pages and sitemaps (`Request::robots`);
//! - only http/https, at most `max_redirects` redirects followed by hand so that every hop is
//!   checked against the network guard (`netguard`), which also runs inside DNS resolution;
//! - no cookie store at all (reqwest is built without one), so nothing is carried between
//!   companies; conditional requests (`If-None-Match` / `If-Modified-Since`) when the caller
//!   passes the validators of a previous response.

use crate::netguard;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{self, HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// The product token robots.txt groups are matched against.
pub const ROBOTS_AGENT: &str = "jobshift";

/// Settings of the fetcher (`jobshift collect` flags map onto these).
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub user_agent: String,
    /// Allow loopback, private, link-local... addresses (tests, intranet boards).
    pub allow_private_network: bool,
    /// `host:port` origins exempt from the network guard while it is on (an intranet mirror, a
    /// test server); every other private address, redirect targets included, stays refused.
    pub allow_hosts: Vec<String>,
    /// Requests per second to one host.
    pub per_host_rate: f64,
    /// Requests in flight at once, all hosts together.
    pub concurrency: usize,
    pub connect_timeout: Duration,
    /// Whole request, body included.
    pub timeout: Duration,
    /// Largest body accepted, before and after decompression.
    pub max_body_bytes: usize,
    /// Tries per request, the first one included.
    pub max_tries: u32,
    /// First backoff; doubled each try, with jitter.
    pub backoff_base: Duration,
    /// Longest wait between tries; a `Retry-After` beyond it ends the retries.
    pub max_backoff: Duration,
    pub max_redirects: usize,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            user_agent: default_user_agent(),
            allow_private_network: false,
            allow_hosts: Vec::new(),
            per_host_rate: 1.0,
            concurrency: 8,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_body_bytes: 64 << 20,
            max_tries: 5,
            backoff_base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(120),
            max_redirects: 5,
        }
    }
}

/// `jobshift/VERSION (+project URL)`; users add their contact with `--user-agent`.
pub fn default_user_agent() -> String {
    format!(
        "jobshift/{} (+https://github.com/jobshift/jobshift)",
        env!("CARGO_PKG_VERSION")
    )
}

/// A user-given User-Agent always names jobshift (operators must be able to tell who calls).
pub fn user_agent_from(given: Option<&str>) -> String {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        None => default_user_agent(),
        Some(ua) if ua.to_ascii_lowercase().contains("jobshift") => ua.to_string(),
        Some(ua) => format!("jobshift/{} {ua}", env!("CARGO_PKG_VERSION")),
    }
}

/// Why a request produced no usable response.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum FetchError {
    #[error("{0}")]
    Refused(String),
    #[error("{url}: invalid URL ({message})")]
    BadUrl { url: String, message: String },
    #[error("{url}: only http and https URLs are fetched")]
    Scheme { url: String },
    #[error("{url}: more than {max} redirects")]
    TooManyRedirects { url: String, max: usize },
    #[error("{url}: robots.txt disallows it for the jobshift user agent")]
    RobotsDisallowed { url: String },
    #[error("{url}: robots.txt of the host could not be read ({reason}); nothing is fetched from the host (RFC 9309)")]
    RobotsUnavailable { url: String, reason: String },
    #[error("{url}: HTTP {status} after {tries} tr{}", if *tries == 1 { "y" } else { "ies" })]
    Status {
        url: String,
        status: u16,
        tries: u32,
    },
    #[error("{url}: response body over the {limit}-byte limit{what}")]
    TooLarge {
        url: String,
        limit: usize,
        what: &'static str,
    },
    #[error("{url}: timed out after {tries} tr{}", if *tries == 1 { "y" } else { "ies" })]
    Timeout { url: String, tries: u32 },
    #[error("{url}: {message} (after {tries} tr{})", if *tries == 1 { "y" } else { "ies" })]
    Network {
        url: String,
        message: String,
        tries: u32,
    },
    #[error("{url}: Retry-After of {seconds} s is longer than the collector waits ({max} s)")]
    RetryAfterTooLong { url: String, seconds: u64, max: u64 },
    #[error("{url}: cannot decompress the gzip body ({message})")]
    Decode { url: String, message: String },
}

impl FetchError {
    /// The HTTP status, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
}

/// One logical request (retries and redirects happen inside `Fetcher::fetch`).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: String,
    /// JSON body of a POST.
    pub body: Option<String>,
    /// Check robots.txt first (HTML pages and sitemaps; ATS JSON APIs are not crawled pages).
    pub robots: bool,
    /// ETag and Last-Modified of a previous response to the same request.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::Get,
            url: url.into(),
            body: None,
            robots: false,
            etag: None,
            last_modified: None,
        }
    }
    pub fn post_json(url: impl Into<String>, body: String) -> Self {
        Self {
            method: Method::Post,
            body: Some(body),
            ..Self::get(url)
        }
    }
    pub fn page(url: impl Into<String>) -> Self {
        Self {
            robots: true,
            ..Self::get(url)
        }
    }
}

/// A successful (2xx or 304) response, body decompressed.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub final_url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }
}

/// What one hop returned before retry decisions.
struct HopResponse {
    response: Response,
    retry_after: Option<Duration>,
}

enum RobotsRules {
    AllowAll,
    Unavailable(String),
    Rules(Box<texting_robots::Robot>),
}

type RobotsCell = Arc<tokio::sync::OnceCell<Arc<RobotsRules>>>;

/// Shared by all companies of a run.
pub struct Fetcher {
    client: reqwest::Client,
    opts: FetchOptions,
    limiters: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
    robots: Mutex<HashMap<String, RobotsCell>>,
    in_flight: tokio::sync::Semaphore,
    /// Requests sent by this fetcher (all companies), for progress.
    pub total_requests: AtomicU64,
}

impl Fetcher {
    pub fn new(opts: FetchOptions) -> Result<Self, String> {
        if !(opts.per_host_rate > 0.0 && opts.per_host_rate.is_finite()) {
            return Err(format!(
                "the per-host rate must be a positive number of requests per second, not {}",
                opts.per_host_rate
            ));
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .pool_max_idle_per_host(2);
        if !opts.allow_private_network {
            builder = builder.dns_resolver(Arc::new(netguard::GuardedResolver));
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            client,
            in_flight: tokio::sync::Semaphore::new(opts.concurrency.max(1)),
            opts,
            limiters: Mutex::new(HashMap::new()),
            robots: Mutex::new(HashMap::new()),
            total_requests: AtomicU64::new(0),
        })
    }

    pub fn options(&self) -> &FetchOptions {
        &self.opts
    }

    /// Fetch with retries. `requests` counts every HTTP request sent (retries, redirects and
    /// robots.txt included). Non-2xx answers other than 304 are errors.
    pub async fn fetch(&self, req: &Request, requests: &AtomicU64) -> Result<Response, FetchError> {
        let mut tries = 0u32;
        loop {
            tries += 1;
            let outcome = self.send_following(req, requests).await;
            let wait = match &outcome {
                Ok(h) if h.response.status == 429 || h.response.status >= 500 => {
                    Some(h.retry_after)
                }
                Err(FetchError::Timeout { .. }) | Err(FetchError::Network { .. }) => Some(None),
                _ => None,
            };
            let Some(retry_after) = wait else {
                return match outcome {
                    Ok(h)
                        if (200..300).contains(&h.response.status) || h.response.status == 304 =>
                    {
                        Ok(h.response)
                    }
                    Ok(h) => Err(FetchError::Status {
                        url: req.url.clone(),
                        status: h.response.status,
                        tries,
                    }),
                    Err(e) => Err(e),
                };
            };
            if let Some(ra) = retry_after {
                if ra > self.opts.max_backoff {
                    return Err(FetchError::RetryAfterTooLong {
                        url: req.url.clone(),
                        seconds: ra.as_secs(),
                        max: self.opts.max_backoff.as_secs(),
                    });
                }
            }
            if tries >= self.opts.max_tries {
                return Err(match outcome {
                    Ok(h) => FetchError::Status {
                        url: req.url.clone(),
                        status: h.response.status,
                        tries,
                    },
                    Err(FetchError::Timeout { url, .. }) => FetchError::Timeout { url, tries },
                    Err(FetchError::Network { url, message, .. }) => FetchError::Network {
                        url,
                        message,
                        tries,
                    },
                    Err(e) => e,
                });
            }
            tokio::time::sleep(retry_after.unwrap_or_else(|| self.backoff(tries))).await;
        }
    }

    /// Exponential backoff with "equal jitter": half fixed, half random.
    fn backoff(&self, tries: u32) -> Duration {
        let exp = self
            .opts
            .backoff_base
            .saturating_mul(1u32 << (tries - 1).min(16))
            .min(self.opts.max_backoff);
        let half = exp / 2;
        half + half.mul_f64(rand::random::<f64>())
    }

    /// One try: follow redirects by hand, checking each hop.
    async fn send_following(
        &self,
        req: &Request,
        requests: &AtomicU64,
    ) -> Result<HopResponse, FetchError> {
        let mut url = Url::parse(&req.url).map_err(|e| FetchError::BadUrl {
            url: req.url.clone(),
            message: e.to_string(),
        })?;
        let mut method = req.method;
        let mut body = req.body.clone();
        for _hop in 0..=self.opts.max_redirects {
            self.check_url(&url).await?;
            if req.robots {
                self.check_robots(&url, requests).await?;
            }
            let (status, headers, response) = self
                .send_one(
                    method,
                    &url,
                    body.as_deref(),
                    req.etag.as_deref(),
                    req.last_modified.as_deref(),
                    requests,
                )
                .await?;
            if status.is_redirection() && status.as_u16() != 304 {
                if let Some(loc) = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
                    let next = url.join(loc).map_err(|e| FetchError::BadUrl {
                        url: loc.to_string(),
                        message: format!("redirect from {url}: {e}"),
                    })?;
                    let code = status.as_u16();
                    if code == 303 || (method == Method::Post && (code == 301 || code == 302)) {
                        method = Method::Get;
                        body = None;
                    }
                    url = next;
                    continue;
                }
            }
            let retry_after = headers
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            return Ok(HopResponse {
                response,
                retry_after,
            });
        }
        Err(FetchError::TooManyRedirects {
            url: req.url.clone(),
            max: self.opts.max_redirects,
        })
    }

    /// Scheme and network guard for one hop.
    async fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme {
                url: url.to_string(),
            });
        }
        let host = url.host_str().ok_or_else(|| FetchError::BadUrl {
            url: url.to_string(),
            message: "no host".into(),
        })?;
        let port = url.port_or_known_default().unwrap_or(80);
        if self.opts.allow_private_network
            || self
                .opts
                .allow_hosts
                .iter()
                .any(|h| *h == format!("{host}:{port}"))
        {
            return Ok(());
        }
        netguard::check_host(host, port)
            .await
            .map_err(FetchError::Refused)
    }

    /// Send one HTTP request (no retry, no redirect) once the host's rate limit allows it.
    async fn send_one(
        &self,
        method: Method,
        url: &Url,
        body: Option<&str>,
        etag: Option<&str>,
        last_modified: Option<&str>,
        requests: &AtomicU64,
    ) -> Result<(reqwest::StatusCode, HeaderMap, Response), FetchError> {
        let host = url.host_str().unwrap_or("").to_string();
        let limiter = self.limiter(&host, None);
        limiter.until_ready().await;
        let _permit = self.in_flight.acquire().await.ok();
        requests.fetch_add(1, Ordering::Relaxed);
        self.total_requests.fetch_add(1, Ordering::Relaxed);
        let m = match method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let mut rb = self
            .client
            .request(m, url.clone())
            .header(header::ACCEPT_ENCODING, "gzip")
            .header(
                header::ACCEPT,
                "application/json, text/html;q=0.9, application/xml;q=0.8, */*;q=0.5",
            );
        if let Some(e) = etag {
            rb = rb.header(header::IF_NONE_MATCH, e);
        }
        if let Some(lm) = last_modified {
            rb = rb.header(header::IF_MODIFIED_SINCE, lm);
        }
        if let Some(b) = body {
            rb = rb
                .header(header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        let resp = rb.send().await.map_err(|e| classify_error(e, url))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let final_url = resp.url().to_string();
        let raw = self.read_capped(resp, url).await?;
        let body = self.decode(raw, url)?;
        let text_header = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let response = Response {
            status: status.as_u16(),
            final_url,
            etag: text_header(header::ETAG),
            last_modified: text_header(header::LAST_MODIFIED),
            content_type: text_header(header::CONTENT_TYPE),
            body,
        };
        Ok((status, headers, response))
    }

    /// Read the body chunk by chunk, stopping as soon as it passes the cap.
    async fn read_capped(
        &self,
        mut resp: reqwest::Response,
        url: &Url,
    ) -> Result<Vec<u8>, FetchError> {
        let limit = self.opts.max_body_bytes;
        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit,
            what: "",
        };
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut buf = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if buf.len() + chunk.len() > limit {
                        return Err(too_large());
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(buf),
                Err(e) => return Err(classify_error(e, url)),
            }
        }
    }

    /// Inflate a gzip body (Content-Encoding gzip or a `.gz` file) up to the cap, never further.
    fn decode(&self, raw: Vec<u8>, url: &Url) -> Result<Vec<u8>, FetchError> {
        if !raw.starts_with(&[0x1f, 0x8b]) {
            return Ok(raw);
        }
        let limit = self.opts.max_body_bytes;
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| FetchError::Decode {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        if out.len() > limit {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit,
                what: " once decompressed",
            });
        }
        Ok(out)
    }

    /// The host's limiter; `min_interval` (a robots.txt crawl-delay) slows it down for good.
    fn limiter(&self, host: &str, min_interval: Option<Duration>) -> Arc<DefaultDirectRateLimiter> {
        let base = Duration::from_secs_f64(1.0 / self.opts.per_host_rate);
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        match (map.get(host), min_interval) {
            (Some(l), None) => l.clone(),
            (Some(l), Some(d)) if d <= base => l.clone(),
            (_, d) => {
                let period = d.map_or(base, |d| d.max(base)).max(Duration::from_nanos(1));
                let quota = Quota::with_period(period).expect("period is positive");
                let l = Arc::new(RateLimiter::direct(quota));
                map.insert(host.to_string(), l.clone());
                l
            }
        }
    }

    /// robots.txt for the URL's origin (fetched once per run and origin), then the verdict.
    /// Boxed: robots.txt is fetched through `send_following`, which calls this for pages.
    fn check_robots<'f>(
        &'f self,
        url: &'f Url,
        requests: &'f AtomicU64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), FetchError>> + Send + 'f>>
    {
        Box::pin(async move {
            let origin = url.origin().ascii_serialization();
            let cell = {
                let mut map = self.robots.lock().unwrap_or_else(|p| p.into_inner());
                map.entry(origin.clone()).or_default().clone()
            };
            let rules = cell
                .get_or_init(|| async {
                    let rules = self.load_robots(&origin, requests).await;
                    if let RobotsRules::Rules(r) = &rules {
                        if let Some(delay) = r.delay.filter(|d| *d > 0.0) {
                            let host = url.host_str().unwrap_or("");
                            self.limiter(host, Some(Duration::from_secs_f32(delay.min(3600.0))));
                        }
                    }
                    Arc::new(rules)
                })
                .await
                .clone();
            match &*rules {
                RobotsRules::AllowAll => Ok(()),
                RobotsRules::Unavailable(reason) => Err(FetchError::RobotsUnavailable {
                    url: url.to_string(),
                    reason: reason.clone(),
                }),
                RobotsRules::Rules(r) => {
                    if r.allowed(url.as_str()) {
                        Ok(())
                    } else {
                        Err(FetchError::RobotsDisallowed {
                            url: url.to_string(),
                        })
                    }
                }
            }
        })
    }

    async fn load_robots(&self, origin: &str, requests: &AtomicU64) -> RobotsRules {
        let req = Request::get(format!("{origin}/robots.txt"));
        match self.send_following(&req, requests).await {
            Ok(h) if (200..300).contains(&h.response.status) => {
                match texting_robots::Robot::new(ROBOTS_AGENT, &h.response.body) {
                    Ok(r) => RobotsRules::Rules(Box::new(r)),
                    Err(_) => RobotsRules::AllowAll,
                }
            }
            // RFC 9309: 4xx means there are no rules; 5xx or unreachable means "disallow all"
            Ok(h) if (400..500).contains(&h.response.status) => RobotsRules::AllowAll,
            Ok(h) => RobotsRules::Unavailable(format!("HTTP {}", h.response.status)),
            Err(e) => RobotsRules::Unavailable(e.to_string()),
        }
    }
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
    Some(Duration::from_millis(secs.max(0) as u64))
}

/// Turn a reqwest error into a retryable (timeout, network) or final (refused) error.
fn classify_error(e: reqwest::Error, url: &Url) -> FetchError {
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    let mut chain = Vec::new();
    while let Some(s) = source {
        let msg = s.to_string();
        if msg.contains("--allow-private-network") {
            return FetchError::Refused(msg);
        }
        chain.push(msg);
        source = s.source();
    }
    if e.is_timeout() {
        return FetchError::Timeout {
            url: url.to_string(),
            tries: 1,
        };
    }
    chain.dedup();
    FetchError::Network {
        url: url.to_string(),
        message: chain.join(": "),
        tries: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn user_agent_always_names_jobshift() {
        assert!(user_agent_from(None).starts_with("jobshift/"));
        assert_eq!(
            user_agent_from(Some("jobshift-study (mailto:a@b.org)")),
            "jobshift-study (mailto:a@b.org)"
        );
        assert!(user_agent_from(Some("Acme research (mailto:a@b.org)")).starts_with("jobshift/"));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let f = Fetcher::new(FetchOptions {
            backoff_base: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..FetchOptions::default()
        })
        .unwrap();
        for tries in 1..=8 {
            let b = f.backoff(tries);
            let exp = Duration::from_millis((100u64 << (tries - 1)).min(1000));
            assert!(b >= exp / 2 && b <= exp, "try {tries}: {b:?} vs {exp:?}");
        }
    }
}
