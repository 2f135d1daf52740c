//! Connectors: one module per ATS. Each has two halves:
//!
//! - `fetch(&mut Session)`: the requests (paging, detail calls, facet splits), recorded in the
//!   session as raw responses, returning how complete the run was;
//! - `parse(&[RawResponse])`: the postings those responses hold. The postings of a run are always
//!   `parse(snapshot)`, so `--reparse` over a stored snapshot gives what a fetch would have.

pub mod ashby;
pub mod greenhouse;
pub mod jsonld;
pub mod lever;
pub mod recruitee;
pub mod smartrecruiters;
pub mod workable;
pub mod workday;

use crate::companies::{Ats, Company};
use crate::fetch::{FetchError, Fetcher, Method, Request};
use crate::posting::CollectedPosting;
use crate::report::Status;
use crate::snapshot::{RawResponse, SnapshotLine};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Most listing pages (or sitemap/careers pages) one company's run may request; beyond it the
/// run is `partial`.
pub const MAX_PAGES: usize = 2_000;

/// The state of one company's fetch: its requests, responses and errors.
pub struct Session<'a> {
    pub fetcher: &'a Fetcher,
    pub company: &'a Company,
    pub requests: AtomicU64,
    pub lines: Vec<SnapshotLine>,
    pub errors: Vec<String>,
    /// Responses of the company's previous snapshot, for conditional requests.
    previous: HashMap<(Method, String, Option<String>), RawResponse>,
}

impl<'a> Session<'a> {
    pub fn new(fetcher: &'a Fetcher, company: &'a Company, previous: Vec<RawResponse>) -> Self {
        let previous = previous
            .into_iter()
            .filter(|r| r.etag.is_some() || r.last_modified.is_some())
            .map(|r| ((r.method, r.url.clone(), r.request_body.clone()), r))
            .collect();
        Self {
            fetcher,
            company,
            requests: AtomicU64::new(0),
            lines: Vec::new(),
            errors: Vec::new(),
            previous,
        }
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Send a request, record the response (or the error) and return the body text.
    pub async fn send(&mut self, role: &str, mut req: Request) -> Result<&str, FetchError> {
        let key = (req.method, req.url.clone(), req.body.clone());
        if let Some(prev) = self.previous.get(&key) {
            req.etag = prev.etag.clone();
            req.last_modified = prev.last_modified.clone();
        }
        match self.fetcher.fetch(&req, &self.requests).await {
            Ok(resp) => {
                let raw = if resp.not_modified() {
                    match self.previous.remove(&key) {
                        Some(prev) => RawResponse {
                            role: role.into(),
                            status: 304,
                            not_modified: true,
                            final_url: resp.final_url,
                            fetched_utc: chrono::Utc::now().to_rfc3339(),
                            ..prev
                        },
                        None => {
                            let e = FetchError::Network {
                                url: req.url.clone(),
                                message: "HTTP 304 to a request that was not conditional".into(),
                                tries: 1,
                            };
                            self.record_error(role, &req.url, &e);
                            return Err(e);
                        }
                    }
                } else {
                    RawResponse {
                        role: role.into(),
                        method: req.method,
                        url: req.url.clone(),
                        request_body: req.body.clone(),
                        status: resp.status,
                        final_url: resp.final_url,
                        etag: resp.etag,
                        last_modified: resp.last_modified,
                        not_modified: false,
                        fetched_utc: chrono::Utc::now().to_rfc3339(),
                        body: String::from_utf8_lossy(&resp.body).into_owned(),
                    }
                };
                self.lines.push(SnapshotLine::Response(raw));
                match self.lines.last() {
                    Some(SnapshotLine::Response(r)) => Ok(r.body.as_str()),
                    _ => unreachable!("a response was just pushed"),
                }
            }
            Err(e) => {
                self.record_error(role, &req.url, &e);
                Err(e)
            }
        }
    }

    fn record_error(&mut self, role: &str, url: &str, e: &FetchError) {
        self.lines.push(SnapshotLine::Error {
            role: role.into(),
            url: url.into(),
            message: e.to_string(),
        });
    }

    /// Send and parse the body as JSON; a malformed body is an error naming the URL.
    pub async fn json(&mut self, role: &str, req: Request) -> Result<Value, String> {
        let url = req.url.clone();
        let body = self.send(role, req).await.map_err(|e| e.to_string())?;
        serde_json::from_str(body).map_err(|e| format!("{url}: malformed JSON ({e})"))
    }

    /// Note an error (it goes to the report and the snapshot's end line).
    pub fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }
}

/// Fetch one company with its connector. Errors are in `session.errors`.
pub async fn fetch(session: &mut Session<'_>) -> Status {
    match session.company.ats {
        Ats::Greenhouse => greenhouse::fetch(session).await,
        Ats::Lever => lever::fetch(session).await,
        Ats::Ashby => ashby::fetch(session).await,
        Ats::SmartRecruiters => smartrecruiters::fetch(session).await,
        Ats::Workable => workable::fetch(session).await,
        Ats::Recruitee => recruitee::fetch(session).await,
        Ats::Workday => workday::fetch(session).await,
        Ats::JsonLd => jsonld::fetch(session).await,
    }
}

/// The first URL a company's run requests (what `--dry-run` shows).
pub fn first_url(c: &Company) -> Result<String, String> {
    let gh = |b: &str| api_url("https://boards-api.greenhouse.io/v1/boards", &[b, "jobs"]);
    Ok(match c.ats {
        Ats::Greenhouse => with_default_query(&listing_url(c, gh), &[("content", "true")]),
        Ats::Lever => with_query(
            &listing_url(c, |b| api_url("https://api.lever.co/v0/postings", &[b])),
            &[("mode", "json"), ("skip", "0"), ("limit", "100")],
        ),
        Ats::Ashby => with_default_query(
            &listing_url(c, |b| {
                api_url("https://api.ashbyhq.com/posting-api/job-board", &[b])
            }),
            &[("includeCompensation", "true")],
        ),
        Ats::SmartRecruiters => with_query(
            &listing_url(c, |b| {
                api_url(
                    "https://api.smartrecruiters.com/v1/companies",
                    &[b, "postings"],
                )
            }),
            &[("limit", "100"), ("offset", "0")],
        ),
        Ats::Workable => with_default_query(
            &listing_url(c, |b| {
                api_url("https://apply.workable.com/api/v1/widget/accounts", &[b])
            }),
            &[("details", "true")],
        ),
        Ats::Recruitee => listing_url(c, |b| format!("https://{b}.recruitee.com/api/offers/")),
        Ats::Workday => format!(
            "POST {}",
            workday::jobs_endpoint(&c.board, c.url.as_deref())?
        ),
        Ats::JsonLd => listing_url(c, |b| {
            if b.starts_with("http") {
                b.to_string()
            } else {
                format!("https://{b}/")
            }
        }),
    })
}

/// The postings held by a company's responses (in response order; a key seen twice is kept
/// once, the later copies counted in `repeated`). Parse problems are appended to `errors`.
pub fn parse(ats: Ats, responses: &[&RawResponse], errors: &mut Vec<String>) -> Parsed {
    let mut postings = match ats {
        Ats::Greenhouse => greenhouse::parse(responses, errors),
        Ats::Lever => lever::parse(responses, errors),
        Ats::Ashby => ashby::parse(responses, errors),
        Ats::SmartRecruiters => smartrecruiters::parse(responses, errors),
        Ats::Workable => workable::parse(responses, errors),
        Ats::Recruitee => recruitee::parse(responses, errors),
        Ats::Workday => workday::parse(responses, errors),
        Ats::JsonLd => jsonld::parse(responses, errors),
    };
    let mut seen = std::collections::HashSet::new();
    let before = postings.len();
    postings.retain(|p| seen.insert(p.key.clone()));
    Parsed {
        repeated: (before - postings.len()) as u64,
        postings,
    }
}

/// What `parse` found.
#[derive(Debug, Default)]
pub struct Parsed {
    pub postings: Vec<CollectedPosting>,
    /// Copies of a key already listed (paging overlap, facet splits).
    pub repeated: u64,
}

/// Fetch a board that comes whole in one JSON response holding the array `key` (Greenhouse,
/// Ashby, Workable, Recruitee). Returns the status and the response, when it parsed.
pub(crate) async fn fetch_single(
    s: &mut Session<'_>,
    url: String,
    key: &str,
) -> (Status, Option<Value>) {
    match s.json("list", Request::get(url.clone())).await {
        Err(e) => {
            s.error(e);
            (Status::Failed, None)
        }
        Ok(v) if v.get(key).and_then(Value::as_array).is_some() => (Status::Ok, Some(v)),
        Ok(_) => {
            s.error(format!("{url}: no \"{key}\" array in the response"));
            (Status::Failed, None)
        }
    }
}

/// The elements of the array `key` in every "list" response, mapped by `posting` (None skips
/// an element, e.g. an unlisted job).
pub(crate) fn parse_list(
    responses: &[&RawResponse],
    errors: &mut Vec<String>,
    key: &str,
    posting: impl Fn(&Value) -> Option<CollectedPosting>,
) -> Vec<CollectedPosting> {
    let mut out = Vec::new();
    for (_, v) in json_bodies(responses, "list", errors) {
        let items = v.get(key).and_then(Value::as_array);
        out.extend(items.into_iter().flatten().filter_map(&posting));
    }
    out
}

/// Responses of one role, parsed as JSON; malformed ones are noted and skipped.
pub(crate) fn json_bodies<'r>(
    responses: &'r [&'r RawResponse],
    role: &str,
    errors: &mut Vec<String>,
) -> Vec<(&'r RawResponse, Value)> {
    responses
        .iter()
        .filter(|r| r.role == role)
        .filter_map(|r| match serde_json::from_str::<Value>(&r.body) {
            Ok(v) => Some((*r, v)),
            Err(e) => {
                errors.push(format!("{}: malformed JSON ({e})", r.url));
                None
            }
        })
        .collect()
}

/// `base` with path segments appended (each percent-encoded).
pub(crate) fn api_url(base: &str, segments: &[&str]) -> String {
    match url::Url::parse(base) {
        Ok(mut u) => {
            if let Ok(mut p) = u.path_segments_mut() {
                p.pop_if_empty().extend(segments);
            }
            u.to_string()
        }
        Err(_) => format!("{base}/{}", segments.join("/")),
    }
}

/// `url` with query parameters set (replacing any of the same name).
pub(crate) fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return url.to_string();
    };
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !params.iter().any(|(p, _)| p == k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

/// `url` with query parameters added only where absent.
pub(crate) fn with_default_query(url: &str, params: &[(&str, &str)]) -> String {
    let Ok(u) = url::Url::parse(url) else {
        return url.to_string();
    };
    let missing: Vec<(&str, &str)> = params
        .iter()
        .filter(|(p, _)| !u.query_pairs().any(|(k, _)| k == *p))
        .copied()
        .collect();
    with_query(url, &missing)
}

/// The listing URL: the company's `url` when given, else `default(board)`.
pub(crate) fn listing_url(company: &Company, default: impl FnOnce(&str) -> String) -> String {
    company
        .url
        .clone()
        .unwrap_or_else(|| default(&company.board))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_built_with_encoding_and_query_rules() {
        assert_eq!(
            api_url("https://api.lever.co/v0/postings", &["a b"]),
            "https://api.lever.co/v0/postings/a%20b"
        );
        assert_eq!(
            with_query(
                "http://h/x?mode=json&skip=5",
                &[("skip", "10"), ("limit", "100")]
            ),
            "http://h/x?mode=json&skip=10&limit=100"
        );
        assert_eq!(
            with_default_query("http://h/x?content=false", &[("content", "true")]),
            "http://h/x?content=false"
        );
    }
}
