//! The read-only JSON API (and CSV export of every table with `?format=csv`), the router, and
//! the rules every answer follows: unknown parameters, malformed values, unknown ids and
//! oversized search strings are 4xx with a JSON body `{"error": ..., "status": ...}`; every
//! answer carries an ETag (a hash of its bytes; `If-None-Match` gets 304) and
//! `Cache-Control: private, no-cache` (revalidate, since the data can reload).
//!
//! Entries of `/api/titles`, `/api/families`, `/api/tiers` and the top level of
//! `/api/titles/{id}` are report.json's entries unchanged (same keys and values), plus the
//! monthly series and context documented in `docs/serve.md` and `/api/openapi.json`.

use crate::respond::Body;
pub use crate::respond::{json_error, send, ApiError};
use crate::tables::Tables;
use crate::{assets, guard, AppState, ClassifierLoader, LiveClassifier};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use jobshift_trends::YEAR_COLUMNS;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::{ready, Ready};
use std::sync::{Arc, Mutex};

/// Cache policy of API answers.
pub const API_CACHE: &str = "private, no-cache";
/// Longest accepted search string (characters).
pub const MAX_QUERY_CHARS: usize = 100;
/// Longest accepted title / description for `/api/classify` (characters).
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Request bodies are never needed beyond the login form.
pub const MAX_BODY_BYTES: usize = 4096;

type Params = BTreeMap<String, String>;
type RawQuery = Result<Query<Params>, QueryRejection>;

/// Parse the query string, refusing parameters the endpoint does not know.
fn params(q: RawQuery, allowed: &[&str]) -> Result<Params, ApiError> {
    let Query(p) = q.map_err(|e| ApiError::bad(format!("malformed query string: {e}")))?;
    for k in p.keys() {
        if !allowed.contains(&k.as_str()) {
            let shown: String = k.chars().take(40).collect();
            return Err(ApiError::bad(format!(
                "unknown parameter {shown:?}; this endpoint takes {}",
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            )));
        }
    }
    Ok(p)
}

fn key(path: &str, p: &Params) -> String {
    let mut k = path.to_string();
    for (a, b) in p {
        k.push('\u{1}');
        k.push_str(a);
        k.push('=');
        k.push_str(b);
    }
    k
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Csv,
}

fn format(p: &Params) -> Result<Format, ApiError> {
    match p.get("format").map(String::as_str) {
        None | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(ApiError::bad(format!(
            "format={:?}: use json or csv",
            other.chars().take(20).collect::<String>()
        ))),
    }
}

fn json_body(v: &Value) -> Result<Body, ApiError> {
    serde_json::to_vec(v)
        .map(|b| Body::new(b, "application/json"))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

fn csv_body(header: Vec<String>, rows: Vec<Vec<String>>) -> Result<Body, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: String| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e);
    w.write_record(&header).map_err(|e| fail(e.to_string()))?;
    for r in rows {
        w.write_record(&r).map_err(|e| fail(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| fail(e.to_string()))?;
    Ok(Body::new(bytes, "text/csv; charset=utf-8"))
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One row per entry, yearly figures as columns (`count_2025`, `change_2025`, ...).
fn series_csv(t: &Tables, lead: &[(&str, Vec<String>)], rows: &[&Value]) -> Result<Body, ApiError> {
    let mut header: Vec<String> = lead.iter().map(|(h, _)| h.to_string()).collect();
    header.extend(["id", "name", "family", "level", "tier", "ranked"].map(String::from));
    for y in &t.years {
        for f in YEAR_COLUMNS.into_iter().chain(["excess"]) {
            header.push(format!("{f}_{y}"));
        }
    }
    let body = rows
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut r: Vec<String> = lead.iter().map(|(_, col)| col[i].clone()).collect();
            for k in ["id", "name", "family", "level", "tier", "ranked"] {
                r.push(cell(&v[k]));
            }
            for y in &t.years {
                let y = y.to_string();
                r.push(cell(&v["counts"][&y]));
                r.push(cell(&v["companies"][&y]));
                r.push(cell(&v["share"][&y]));
                r.push(cell(&v["change"][&y]));
                r.push(cell(&v["ci95"][&y][0]));
                r.push(cell(&v["ci95"][&y][1]));
                r.push(cell(&v["excess"][&y]));
            }
            r
        })
        .collect();
    csv_body(header, body)
}

fn monthly_csv(points: &Value) -> Result<Body, ApiError> {
    let header = [
        "month",
        "count",
        "ma3",
        "yoy",
        "yoy_ci95_lo",
        "yoy_ci95_hi",
        "sa",
        "corrected",
    ]
    .map(String::from)
    .to_vec();
    let rows = points
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    vec![
                        cell(&p["month"]),
                        cell(&p["count"]),
                        cell(&p["ma3"]),
                        cell(&p["yoy"]),
                        cell(&p["yoy_ci95"][0]),
                        cell(&p["yoy_ci95"][1]),
                        cell(&p["sa"]),
                        cell(&p["corrected"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    csv_body(header, rows)
}

/// Validate a path id: short, and only the characters ids are made of.
fn check_id(kind: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty()
        || id.len() > 100
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(ApiError::bad(format!(
            "{kind} ids are letters, digits, '_', '-' and '.' (at most 100); see /api/{kind}s"
        )));
    }
    Ok(())
}

fn answer(
    st: &AppState,
    headers: &HeaderMap,
    path: &str,
    p: &Params,
    make: impl FnOnce(&Tables, Format) -> Result<Body, ApiError>,
) -> Response {
    let fmt = match format(p) {
        Ok(f) => f,
        Err(e) => return json_error(e),
    };
    let t = st.current();
    match t.cached(&key(path, p), || make(t.as_ref(), fmt)) {
        Ok(b) => send(&b, headers, API_CACHE),
        Err(e) => json_error(e),
    }
}

async fn summary(State(st): State<Arc<AppState>>, headers: HeaderMap, q: RawQuery) -> Response {
    let p = match params(q, &["format"]) {
        Ok(p) => p,
        Err(e) => return json_error(e),
    };
    let status = st.reload.read().map(|s| s.clone()).ok();
    let t = st.current();
    let fmt = match format(&p) {
        Ok(f) => f,
        Err(e) => return json_error(e),
    };
    let body = if fmt == Format::Csv {
        monthly_csv(&t.market_monthly())
    } else {
        let mut s = t.summary();
        s["dataset"] = json!({
            "source": st.config.source.describe(),
            "status": status,
            "token_required": st.auth.required(),
            "classifier": st.classifier.available(),
        });
        json_body(&s)
    };
    match body {
        Ok(b) => send(&b, &headers, API_CACHE),
        Err(e) => json_error(e),
    }
}

fn sort_rows(t: &Tables, rows: &mut [&Value], sort: &str) -> Result<(), ApiError> {
    let latest = t.latest.clone();
    let change = |v: &Value| v["change"][&latest].as_f64();
    let excess = |v: &Value| v["excess"][&latest].as_f64();
    let by_opt = |a: Option<f64>, b: Option<f64>, desc: bool| match (a, b) {
        (Some(x), Some(y)) => {
            if desc {
                y.total_cmp(&x)
            } else {
                x.total_cmp(&y)
            }
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    };
    match sort {
        "volume" => rows.sort_by_key(|v| std::cmp::Reverse(t.latest_count(v))),
        "name" => rows.sort_by(|a, b| cell(&a["name"]).cmp(&cell(&b["name"]))),
        "change" => rows.sort_by(|a, b| by_opt(change(a), change(b), false)),
        "-change" => rows.sort_by(|a, b| by_opt(change(a), change(b), true)),
        "excess" => rows.sort_by(|a, b| by_opt(excess(a), excess(b), false)),
        "-excess" => rows.sort_by(|a, b| by_opt(excess(a), excess(b), true)),
        other => {
            return Err(ApiError::bad(format!(
                "sort={:?}: use volume, name, change, -change, excess or -excess",
                other.chars().take(20).collect::<String>()
            )))
        }
    }
    Ok(())
}

fn parse_num<T>(p: &Params, k: &str, max: T) -> Result<Option<T>, ApiError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match p.get(k) {
        None => Ok(None),
        Some(s) => match s.trim().parse::<T>() {
            Ok(v) if v <= max => Ok(Some(v)),
            _ => Err(ApiError::bad(format!(
                "{k}={:?}: expected a whole number from 0 to {max}",
                s.chars().take(20).collect::<String>()
            ))),
        },
    }
}

async fn titles(State(st): State<Arc<AppState>>, headers: HeaderMap, q: RawQuery) -> Response {
    let p = match params(
        q,
        &[
            "family",
            "tier",
            "min_volume",
            "ranked",
            "sort",
            "limit",
            "format",
        ],
    ) {
        Ok(p) => p,
        Err(e) => return json_error(e),
    };
    answer(&st, &headers, "/api/titles", &p, |t, fmt| {
        if let Some(f) = p.get("family") {
            if !t.family_index.contains_key(f) {
                return Err(ApiError::bad(format!(
                    "family={:?} is not a family of this report; see /api/families",
                    f.chars().take(60).collect::<String>()
                )));
            }
        }
        if let Some(tier) = p.get("tier") {
            if !t.tier_index.contains_key(tier) {
                return Err(ApiError::bad(format!(
                    "tier={:?} is not a tier of this report; see /api/tiers",
                    tier.chars().take(60).collect::<String>()
                )));
            }
        }
        let min = parse_num::<u64>(&p, "min_volume", u64::MAX)?;
        let limit = parse_num::<usize>(&p, "limit", 100_000)?;
        let ranked = match p.get("ranked").map(String::as_str) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(ApiError::bad("ranked: use true or false")),
        };
        let mut rows: Vec<&Value> = t
            .titles
            .iter()
            .filter(|v| p.get("family").is_none_or(|f| v["family"] == f.as_str()))
            .filter(|v| p.get("tier").is_none_or(|x| v["tier"] == x.as_str()))
            .filter(|v| min.is_none_or(|m| t.latest_count(v) >= m))
            .filter(|v| ranked.is_none_or(|r| v["ranked"] == r))
            .collect();
        if let Some(s) = p.get("sort") {
            sort_rows(t, &mut rows, s)?;
        }
        let total = rows.len();
        if let Some(l) = limit {
            rows.truncate(l);
        }
        match fmt {
            Format::Csv => series_csv(t, &[], &rows),
            Format::Json => json_body(&json!({
                "years": t.years, "latest_year": t.years.last(), "total": total, "titles": rows,
            })),
        }
    })
}

async fn title(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    q: RawQuery,
) -> Response {
    let p = match params(q, &["format"]) {
        Ok(p) => p,
        Err(e) => return json_error(e),
    };
    if let Err(e) = check_id("title", &id) {
        return json_error(e);
    }
    answer(&st, &headers, &format!("/api/titles/{id}"), &p, |t, fmt| {
        let i = *t.title_index.get(&id).ok_or_else(|| {
            ApiError::not_found(format!(
                "no title {id:?} in this report (titles without postings in the window are not \
                 listed); search with /api/search?q=..."
            ))
        })?;
        let entry = &t.titles[i];
        let monthly = t.monthly("titles", &id);
        if fmt == Format::Csv {
            return monthly_csv(&monthly);
        }
        let mut out = entry.clone();
        let fam = entry["family"].as_str().unwrap_or_default().to_string();
        let related: Vec<Value> = t
            .titles
            .iter()
            .filter(|v| v["family"] == fam.as_str() && v["id"] != id.as_str())
            .map(|v| t.brief(v))
            .collect();
        let family_series = t
            .family_index
            .get(&fam)
            .map(|&k| {
                let mut b = t.brief(&t.families[k]);
                b["monthly"] = t.monthly("families", &fam);
                b
            })
            .unwrap_or(Value::Null);
        let tier = entry["tier"].as_str().unwrap_or_default().to_string();
        let tier_series = t
            .tier_index
            .get(&tier)
            .map(|&k| t.brief(&t.tiers[k]))
            .unwrap_or(Value::Null);
        out["monthly"] = monthly;
        out["related"] = Value::Array(related);
        out["family_series"] = family_series;
        out["tier_series"] = tier_series;
        out["market"] = json!({
            "counts": t.doc["baseline"]["counts"], "change": t.doc["baseline"]["change"],
            "ci95": t.doc["baseline"]["ci95"], "monthly": t.market_monthly(),
        });
        out["years"] = json!(t.years);
        json_body(&out)
    })
}

fn group_list(kind: &'static str) -> impl Fn(&Tables, Format) -> Result<Body, ApiError> {
    move |t: &Tables, fmt: Format| {
        let list = if kind == "families" {
            &t.families
        } else {
            &t.tiers
        };
        let rows: Vec<&Value> = list.iter().collect();
        match fmt {
            Format::Csv => series_csv(t, &[], &rows),
            Format::Json => {
                json_body(&json!({"years": t.years, "latest_year": t.years.last(), kind: rows}))
            }
        }
    }
}

/// The handler of `/api/{kind}` (`kind`: "families" or "tiers").
fn group_list_handler(
    kind: &'static str,
) -> impl Fn(State<Arc<AppState>>, HeaderMap, RawQuery) -> Ready<Response> + Clone + Send + Sync {
    move |State(st), headers, q| {
        ready(match params(q, &["format"]) {
            Ok(p) => answer(&st, &headers, &format!("/api/{kind}"), &p, group_list(kind)),
            Err(e) => json_error(e),
        })
    }
}

/// The handler of `/api/{kind}/{id}` (`kind`: "families" or "tiers").
fn group_detail_handler(
    kind: &'static str,
) -> impl Fn(State<Arc<AppState>>, HeaderMap, Path<String>, RawQuery) -> Ready<Response>
       + Clone
       + Send
       + Sync {
    move |State(st), headers, Path(id), q| ready(group_detail(&st, &headers, kind, &id, q))
}

fn group_detail(
    st: &AppState,
    headers: &HeaderMap,
    kind: &'static str,
    id: &str,
    q: RawQuery,
) -> Response {
    let p = match params(q, &["format"]) {
        Ok(p) => p,
        Err(e) => return json_error(e),
    };
    let singular = if kind == "families" { "family" } else { "tier" };
    if let Err(e) = check_id(singular, id) {
        return json_error(e);
    }
    answer(st, headers, &format!("/api/{kind}/{id}"), &p, |t, fmt| {
        let (list, index) = if kind == "families" {
            (&t.families, &t.family_index)
        } else {
            (&t.tiers, &t.tier_index)
        };
        let i = *index.get(id).ok_or_else(|| {
            ApiError::not_found(format!(
                "no {singular} {id:?} in this report; see /api/{kind}"
            ))
        })?;
        let monthly = t.monthly(kind, id);
        if fmt == Format::Csv {
            return monthly_csv(&monthly);
        }
        let mut out = list[i].clone();
        let members: Vec<Value> = t
            .titles
            .iter()
            .filter(|v| v[singular] == id)
            .map(|v| t.brief(v))
            .collect();
        out["monthly"] = monthly;
        out["titles"] = Value::Array(members);
        out["market"] = json!({"counts": t.doc["baseline"]["counts"], "change": t.doc["baseline"]["change"], "monthly": t.market_monthly()});
        out["years"] = json!(t.years);
        json_body(&out)
    })
}

async fn movers(State(st): State<Arc<AppState>>, headers: HeaderMap, q: RawQuery) -> Response {
    let p = match params(q, &["format"]) {
        Ok(p) => p,
        Err(e) => return json_error(e),
    };
    answer(&st, &headers, "/api/movers", &p, |t, fmt| {
        let m = &t.doc["movers"];
        let lists = ["decliners", "gainers", "emerging"];
        let entries = |k: &str| -> Vec<&Value> {
            m[k].as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(|id| id.as_str())
                        .filter_map(|id| t.title_index.get(id))
                        .map(|&i| &t.titles[i])
                        .collect()
                })
                .unwrap_or_default()
        };
        match fmt {
            Format::Csv => {
                let mut rows = Vec::new();
                let (mut list_col, mut rank_col) = (Vec::new(), Vec::new());
                for k in lists {
                    for (r, v) in entries(k).into_iter().enumerate() {
                        list_col.push(k.to_string());
                        rank_col.push((r + 1).to_string());
                        rows.push(v);
                    }
                }
                series_csv(t, &[("list", list_col), ("rank", rank_col)], &rows)
            }
            Format::Json => json_body(&json!({
                "metric": m["metric"], "years": t.years, "latest_year": t.years.last(),
                "min_postings": t.doc["min_postings"],
                "decliners": entries("decliners"), "gainers": entries("gainers"),
                "emerging": entries("emerging"),
            })),
        }
    })
}

async fn search(State(st): State<Arc<AppState>>, headers: HeaderMap, q: RawQuery) -> Response {
    let p = match params(q, &["q", "limit", "format"]) {
        Ok(p) => p,
        Err(e) => return json_error(e),
    };
    let run = || -> Result<Body, ApiError> {
        let fmt = format(&p)?;
        let query = p
            .get("q")
            .ok_or_else(|| ApiError::bad("give a search string: /api/search?q=nurse"))?;
        let n = query.chars().count();
        if n > MAX_QUERY_CHARS {
            return Err(ApiError::bad(format!(
                "q is {n} characters; at most {MAX_QUERY_CHARS}"
            )));
        }
        let limit = parse_num::<usize>(&p, "limit", 100)?.unwrap_or(20);
        let t = st.current();
        let hits = t.search(query, limit);
        match fmt {
            Format::Csv => series_csv(&t, &[], &hits),
            Format::Json => {
                let results: Vec<Value> = hits.iter().map(|v| t.brief(v)).collect();
                json_body(&json!({"q": query, "years": t.years, "results": results}))
            }
        }
    };
    match run() {
        Ok(b) => send(&b, &headers, API_CACHE),
        Err(e) => json_error(e),
    }
}

/// The live classifier, loaded on first use; a failed load is remembered (503 until restart).
pub struct ClassifierSlot {
    loader: Option<ClassifierLoader>,
    loaded: Mutex<Option<Result<Arc<dyn LiveClassifier>, String>>>,
}

impl ClassifierSlot {
    pub fn new(loader: Option<ClassifierLoader>) -> ClassifierSlot {
        ClassifierSlot {
            loader,
            loaded: Mutex::new(None),
        }
    }

    /// "not configured", "not loaded yet", "loaded" or "failed".
    pub fn available(&self) -> &'static str {
        if self.loader.is_none() {
            return "not configured";
        }
        match self.loaded.lock().ok().as_deref() {
            Some(Some(Ok(_))) => "loaded",
            Some(Some(Err(_))) => "failed",
            _ => "not loaded yet",
        }
    }

    /// Blocking: loads on first call.
    fn get(&self) -> Result<Arc<dyn LiveClassifier>, String> {
        let Some(loader) = &self.loader else {
            return Err(
                "this server was started without a classifier (jobshift serve \
                        --classifier DIR, or the default classifier once trained)"
                    .into(),
            );
        };
        let mut slot = self
            .loaded
            .lock()
            .map_err(|_| "the classifier failed while loading; restart the server".to_string())?;
        if slot.is_none() {
            *slot = Some(loader());
        }
        match slot.as_ref() {
            Some(Ok(c)) => Ok(c.clone()),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no classifier".into()),
        }
    }
}

async fn classify(State(st): State<Arc<AppState>>, q: RawQuery) -> Response {
    let p = match params(q, &["title", "description"]) {
        Ok(p) => p,
        Err(e) => return json_error(e),
    };
    let Some(title) = p
        .get("title")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    else {
        return json_error(ApiError::bad(
            "give a job title: /api/classify?title=Registered%20Nurse (description optional)",
        ));
    };
    if title.chars().count() > MAX_TITLE_CHARS {
        return json_error(ApiError::bad(format!(
            "title is longer than {MAX_TITLE_CHARS} characters"
        )));
    }
    let description = p
        .get("description")
        .cloned()
        .filter(|d| !d.trim().is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
    {
        return json_error(ApiError::bad(format!(
            "description is longer than {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    let st2 = st.clone();
    let t2 = title.clone();
    let result = tokio::task::spawn_blocking(move || {
        let c = st2.classifier.get().map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("no classifier available: {e}"),
            )
        })?;
        c.classify(&t2, description.as_deref())
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e))
    })
    .await;
    match result {
        Ok(Ok(prediction)) => {
            let mut r =
                axum::Json(json!({"title": title, "prediction": prediction})).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Ok(Err(e)) => json_error(e),
        Err(_) => json_error(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the classifier failed on this input",
        )),
    }
}

async fn openapi(headers: HeaderMap, q: RawQuery) -> Response {
    if let Err(e) = params(q, &[]) {
        return json_error(e);
    }
    static DOC: std::sync::OnceLock<Body> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| {
        Body::new(
            include_str!("assets/openapi.json").as_bytes().to_vec(),
            "application/json",
        )
    });
    send(body, &headers, "no-cache")
}

async fn api_not_found(uri: axum::http::Uri) -> Response {
    let path: String = uri.path().chars().take(80).collect();
    if path.starts_with("/api") {
        json_error(ApiError::not_found(format!(
            "no endpoint {path:?}; see /api/openapi.json"
        )))
    } else {
        assets::respond(uri.path(), &HeaderMap::new())
    }
}

async fn method_not_allowed() -> Response {
    json_error(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this server is read-only: use GET",
    ))
}

/// Marks API answers with the data version and a failed reload.
async fn data_headers(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let version = st.current().version.clone();
    let failed = st
        .reload
        .read()
        .ok()
        .filter(|s| s.state == "failed")
        .and_then(|s| s.error.clone());
    let mut r = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&version) {
        r.headers_mut().insert("x-jobshift-data", v);
    }
    if let Some(e) = failed {
        let ascii: String = e
            .chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .take(300)
            .collect();
        if let Ok(v) = HeaderValue::from_str(&ascii) {
            r.headers_mut().insert("x-jobshift-reload", v);
        }
    }
    r
}

/// The whole application: page, assets, login, API, limits and headers.
pub fn router(state: Arc<AppState>) -> Router {
    let timeout = state.config.request_timeout;
    let api = Router::new()
        .route("/api/summary", get(summary))
        .route("/api/titles", get(titles))
        .route("/api/titles/{id}", get(title))
        .route("/api/families", get(group_list_handler("families")))
        .route("/api/families/{id}", get(group_detail_handler("families")))
        .route("/api/tiers", get(group_list_handler("tiers")))
        .route("/api/tiers/{id}", get(group_detail_handler("tiers")))
        .route("/api/movers", get(movers))
        .route("/api/search", get(search))
        .route("/api/classify", get(classify))
        .route("/api/openapi.json", get(openapi))
        .route_layer(middleware::from_fn_with_state(state.clone(), data_headers))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            guard::require_token,
        ));
    Router::new()
        .route("/", get(assets::handler))
        .route("/index.html", get(assets::handler))
        .route("/assets/{file}", get(assets::handler))
        .route("/favicon.ico", get(assets::favicon))
        .route("/login", post(guard::login))
        .route("/logout", post(guard::logout))
        .merge(api)
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::from_fn(guard::security_headers))
}
