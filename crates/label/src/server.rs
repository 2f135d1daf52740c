//! `label serve`: the built-in labelling page.
//!
//! An annotator signs in with a personal token (cookie, or `Authorization: Bearer`), sees one
//! posting at a time, searches the taxonomy by name/alias (`/api/search`), picks a title or
//! "none fits", and can go back to change any earlier answer. Every answer is appended to
//! `answers.jsonl` and fsynced before the page hears "saved" ([`crate::store`]), so a crash or
//! restart loses nothing; on start the server replays the store.
//!
//! Serving rule: a task an annotator has answered is never served to them again as a new task
//! (going back to change it is explicit). Until answered, the task on screen stays the
//! annotator's current task (a reload shows the same posting). New tasks go to the annotator in
//! order of fewest answers so far (plus tasks currently on someone's screen), ties broken by a
//! per-annotator hash order so annotators do not all walk the list in the same order. A task
//! stops being served once `per_task` annotators answered it or have it on screen (assigned
//! under the state's lock, so concurrent annotators never exceed the cap); gold tasks are served
//! to everyone.
//!
//! The page (`page.html`) is one self-contained file: inline CSS/JS, no external assets.

use crate::catalog::{SearchHit, TitleCatalog};
use crate::error::{LabelError, Result};
use crate::store::{AnswerRecord, AnswerStore};
use crate::tasks::{read_manifest, read_tasks, Task, TasksDir};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const PAGE: &str = include_str!("page.html");
const COOKIE: &str = "jobshift_token";

/// One annotator and their sign-in token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotator {
    pub id: String,
    pub token: String,
}

/// Read a tokens file: one `ANNOTATOR_ID TOKEN` per line; `#` starts a comment.
pub fn read_tokens(path: &Path) -> Result<Vec<Annotator>> {
    let text = std::fs::read_to_string(path).map_err(|e| LabelError::io(path, e))?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let (mut ids, mut toks) = (HashSet::new(), HashSet::new());
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() != 2 {
            problems.push(format!("line {}: expected `ANNOTATOR_ID TOKEN`", i + 1));
            continue;
        }
        let (id, token) = (parts[0], parts[1]);
        if token.len() < 8 {
            problems.push(format!(
                "line {}: token of {id} is shorter than 8 characters",
                i + 1
            ));
            continue;
        }
        if !ids.insert(id.to_string()) {
            problems.push(format!("line {}: annotator {id} appears twice", i + 1));
            continue;
        }
        if !toks.insert(token.to_string()) {
            problems.push(format!(
                "line {}: token of {id} is used by another annotator",
                i + 1
            ));
            continue;
        }
        out.push(Annotator {
            id: id.to_string(),
            token: token.to_string(),
        });
    }
    if !problems.is_empty() {
        return Err(LabelError::bad_file(path, problems.join("; ")));
    }
    if out.is_empty() {
        return Err(LabelError::bad_file(
            path,
            "no annotators; add lines `ANNOTATOR_ID TOKEN`",
        ));
    }
    Ok(out)
}

/// Create a tokens file with `n` annotators (`annotator-1` ...) and random 24-character tokens.
pub fn generate_tokens(path: &Path, n: usize) -> Result<Vec<Annotator>> {
    use rand::distr::{Alphanumeric, SampleString};
    let mut rng = rand::rng();
    let anns: Vec<Annotator> = (1..=n)
        .map(|i| Annotator {
            id: format!("annotator-{i}"),
            token: Alphanumeric.sample_string(&mut rng, 24),
        })
        .collect();
    let mut text = String::from("# jobshift label serve: one `ANNOTATOR_ID TOKEN` per line\n");
    for a in &anns {
        text.push_str(&format!("{} {}\n", a.id, a.token));
    }
    jobshift_core::atomic::write_bytes(path, text.as_bytes())
        .map_err(|e| LabelError::io(path, e))?;
    Ok(anns)
}

/// The annotators of a tasks directory: read from `tokens` (default `TASKS_DIR/tokens.txt`), or,
/// when no tokens file was named and the default one is missing, `n` new annotators with random
/// tokens written there. Returns them, the tokens file, and whether it was created now.
pub fn annotators_for(
    dir: &TasksDir,
    tokens: Option<&Path>,
    n: usize,
) -> Result<(Vec<Annotator>, PathBuf, bool)> {
    let path = tokens.map_or_else(|| dir.tokens(), Path::to_path_buf);
    if path.exists() {
        Ok((read_tokens(&path)?, path, false))
    } else if tokens.is_some() {
        Err(LabelError::Invalid(format!(
            "tokens file {} does not exist",
            path.display()
        )))
    } else {
        Ok((generate_tokens(&path, n.max(1))?, path, true))
    }
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub tasks_dir: PathBuf,
    pub annotators: Vec<Annotator>,
    /// Stop serving a (non-gold) task once this many annotators answered it; 0 = no limit.
    pub per_task: usize,
    /// Titles to pick from; by default `TASKS_DIR/catalog.json`.
    pub catalog: TitleCatalog,
}

/// What the server found on start.
#[derive(Debug, Clone, Serialize)]
pub struct StartupInfo {
    pub tasks: usize,
    pub gold_tasks: usize,
    pub answers_replayed: usize,
    pub bad_store_lines: Vec<crate::store::BadLine>,
    pub answers_for_unknown_tasks: usize,
}

impl StartupInfo {
    /// What the replay found wrong in the answer store at `answers` (kept as it is).
    pub fn warnings(&self, answers: &Path) -> Vec<String> {
        let mut out: Vec<String> = self
            .bad_store_lines
            .iter()
            .map(|b| {
                format!(
                    "{} line {}: {} (kept in the file as it is)",
                    answers.display(),
                    b.line,
                    b.message
                )
            })
            .collect();
        if self.answers_for_unknown_tasks > 0 {
            out.push(format!(
                "{} stored answers name tasks not in tasks.jsonl",
                self.answers_for_unknown_tasks
            ));
        }
        out
    }
}

/// What `jobshift label serve` prints once it listens at `addr`: the page, what was replayed,
/// and each annotator's sign-in link.
pub struct Banner<'a> {
    pub addr: std::net::SocketAddr,
    pub info: &'a StartupInfo,
    pub answers: &'a Path,
    pub tokens: &'a Path,
    pub annotators: &'a [Annotator],
}

impl std::fmt::Display for Banner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (addr, info) = (self.addr, self.info);
        writeln!(
            f,
            "labelling page on http://{addr}/ — {} tasks ({} gold), {} answers replayed from {}",
            info.tasks,
            info.gold_tasks,
            info.answers_replayed,
            self.answers.display()
        )?;
        writeln!(
            f,
            "annotator sign-in links (tokens in {}):",
            self.tokens.display()
        )?;
        for ann in self.annotators {
            writeln!(f, "  {:<20} http://{addr}/?token={}", ann.id, ann.token)?;
        }
        writeln!(f, "press Ctrl-C to stop; every answer is already on disk")
    }
}

struct Inner {
    tasks: Vec<Task>,
    by_id: HashMap<String, usize>,
    gold: HashSet<usize>,
    store: AnswerStore,
    /// annotator -> task index -> latest answer
    answers: HashMap<String, HashMap<usize, AnswerRecord>>,
    /// annotator -> task indexes in order of first answer
    history: HashMap<String, Vec<usize>>,
    /// annotator -> task on screen, not answered yet
    current: HashMap<String, usize>,
    /// distinct annotators who answered each task
    counts: Vec<usize>,
}

pub struct AppState {
    inner: Mutex<Inner>,
    tokens: HashMap<String, String>,
    catalog: TitleCatalog,
    per_task: usize,
}

/// Build the app state from a tasks directory, replaying its answer store.
pub fn open_app(config: ServeConfig) -> Result<(Arc<AppState>, StartupInfo)> {
    let dir = TasksDir::new(&config.tasks_dir);
    let tasks = read_tasks(&dir.tasks())?;
    if tasks.is_empty() {
        return Err(LabelError::bad_file(&dir.tasks(), "holds no tasks"));
    }
    let by_id: HashMap<String, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.task_id.clone(), i))
        .collect();
    let gold: HashSet<usize> = if dir.manifest().exists() {
        read_manifest(&dir.manifest())?
            .gold
            .iter()
            .filter_map(|g| by_id.get(&g.task_id).copied())
            .collect()
    } else {
        HashSet::new()
    };
    let (store, records, bad) = AnswerStore::open(&dir.answers())?;
    let mut inner = Inner {
        counts: vec![0; tasks.len()],
        tasks,
        by_id,
        gold,
        store,
        answers: HashMap::new(),
        history: HashMap::new(),
        current: HashMap::new(),
    };
    let mut unknown = 0;
    let n_records = records.len();
    for r in records {
        match inner.by_id.get(&r.task_id).copied() {
            Some(ti) => inner.record(ti, r),
            None => unknown += 1,
        }
    }
    let info = StartupInfo {
        tasks: inner.tasks.len(),
        gold_tasks: inner.gold.len(),
        answers_replayed: n_records,
        bad_store_lines: bad,
        answers_for_unknown_tasks: unknown,
    };
    let tokens = config
        .annotators
        .iter()
        .map(|a| (a.token.clone(), a.id.clone()))
        .collect();
    let state = AppState {
        inner: Mutex::new(inner),
        tokens,
        catalog: config.catalog,
        per_task: config.per_task,
    };
    Ok((Arc::new(state), info))
}

impl Inner {
    fn record(&mut self, ti: usize, r: AnswerRecord) {
        let mine = self.answers.entry(r.annotator.clone()).or_default();
        if !mine.contains_key(&ti) {
            self.counts[ti] += 1;
            self.history
                .entry(r.annotator.clone())
                .or_default()
                .push(ti);
        }
        if self.current.get(&r.annotator) == Some(&ti) {
            self.current.remove(&r.annotator);
        }
        mine.insert(ti, r);
    }

    fn answered(&self, who: &str, ti: usize) -> bool {
        self.answers.get(who).is_some_and(|m| m.contains_key(&ti))
    }

    fn available_to(&self, who: &str, ti: usize, per_task: usize) -> bool {
        self.available_with(who, ti, per_task, 0)
    }

    /// Whether `ti` can go to `who` when `reserved` other annotators have it on screen: the
    /// per-task cap counts answers and tasks on screen, so concurrent annotators can never be
    /// handed more copies of a task than the cap.
    fn available_with(&self, who: &str, ti: usize, per_task: usize, reserved: usize) -> bool {
        !self.answered(who, ti)
            && (per_task == 0 || self.gold.contains(&ti) || self.counts[ti] + reserved < per_task)
    }

    /// The annotator's current task, or the next one to serve (and make it current).
    fn next_for(&mut self, who: &str, per_task: usize) -> Option<usize> {
        if let Some(&ti) = self.current.get(who) {
            if !self.answered(who, ti) {
                return Some(ti);
            }
        }
        let mut on_screen = vec![0usize; self.tasks.len()];
        for (a, &ti) in &self.current {
            if a != who {
                on_screen[ti] += 1;
            }
        }
        // assignment is atomic: picked under the state's lock, counted against the cap at once
        let pick = (0..self.tasks.len())
            .filter(|&ti| self.available_with(who, ti, per_task, on_screen[ti]))
            .min_by_key(|&ti| {
                let order = jobshift_core::normalize::content_hash(&[who, &self.tasks[ti].task_id]);
                (self.counts[ti] + on_screen[ti], order)
            })?;
        self.current.insert(who.to_string(), pick);
        Some(pick)
    }

    fn progress(&self, who: &str, per_task: usize) -> Progress {
        Progress {
            answered: self.history.get(who).map_or(0, |h| h.len()),
            remaining: (0..self.tasks.len())
                .filter(|&ti| self.available_to(who, ti, per_task))
                .count(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Progress {
    pub answered: usize,
    pub remaining: usize,
}

/// What the page sees of a task (no prediction, no gold flag).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicTask {
    pub task_id: String,
    pub title: String,
    pub company: Option<String>,
    pub location: Option<String>,
    pub country: Option<String>,
    pub posted_date: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
}

impl From<&Task> for PublicTask {
    fn from(t: &Task) -> Self {
        PublicTask {
            task_id: t.task_id.clone(),
            title: t.title.clone(),
            company: t.company.clone(),
            location: t.location.clone(),
            country: t.country.clone(),
            posted_date: t.posted_date.clone(),
            url: t.url.clone(),
            description: t.description.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GivenAnswer {
    pub answer: String,
    pub answer_name: String,
    pub seq: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskView {
    pub task: Option<PublicTask>,
    /// This annotator's saved answer, when going back to an answered task.
    pub answer: Option<GivenAnswer>,
    pub done: bool,
    pub progress: Progress,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryItem {
    pub task_id: String,
    pub title: String,
    pub answer: String,
    pub answer_name: String,
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct AnswerBody {
    pub task_id: String,
    pub answer: String,
    #[serde(default)]
    pub elapsed_ms: Option<u64>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    q: String,
    #[serde(default)]
    limit: Option<usize>,
}

/// The axum router of the labelling page.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/next", get(next))
        .route("/api/task/{task_id}", get(task))
        .route("/api/history", get(history))
        .route("/api/answer", post(answer))
        .route("/api/search", get(search))
        .with_state(state)
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

type ApiError = (StatusCode, Json<serde_json::Value>);

fn err(status: StatusCode, msg: impl Into<String>) -> ApiError {
    (status, Json(serde_json::json!({ "error": msg.into() })))
}

fn lock(state: &AppState) -> std::sync::MutexGuard<'_, Inner> {
    // A panic while holding the lock cannot leave a half-written record (the store appends
    // in one call); keep serving with the data as it is.
    state.inner.lock().unwrap_or_else(|p| p.into_inner())
}

fn token_from(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = v.strip_prefix("Bearer ") {
            return Some(t.trim().to_string());
        }
    }
    for v in headers.get_all(header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for part in v.split(';') {
            if let Some((k, val)) = part.trim().split_once('=') {
                if k == COOKIE {
                    return Some(val.to_string());
                }
            }
        }
    }
    None
}

fn who(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    token_from(headers)
        .and_then(|t| state.tokens.get(&t).cloned())
        .ok_or_else(|| {
            err(
                StatusCode::UNAUTHORIZED,
                "sign in with your annotator token",
            )
        })
}

fn answer_name(state: &AppState, answer: &str) -> String {
    if answer == crate::NONE_FITS {
        "None of these fits".to_string()
    } else {
        state
            .catalog
            .get(answer)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| answer.to_string())
    }
}

/// The page's security headers: only its own inline script and style and same-origin requests
/// run (a posting's text can never load or run anything else), and no other site may frame it.
const PAGE_CSP: &str =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(PAGE),
    )
}

async fn login(State(state): State<Arc<AppState>>, Json(body): Json<LoginBody>) -> Response {
    let token = body.token.trim().to_string();
    match state.tokens.get(&token) {
        Some(id) => {
            let cookie =
                format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000");
            (
                [(header::SET_COOKIE, cookie)],
                Json(serde_json::json!({ "annotator": id })),
            )
                .into_response()
        }
        None => err(
            StatusCode::UNAUTHORIZED,
            "unknown token; ask for your annotator token",
        )
        .into_response(),
    }
}

async fn logout() -> Response {
    (
        [(header::SET_COOKIE, format!("{COOKIE}=; Path=/; Max-Age=0"))],
        Json(serde_json::json!({ "ok": true })),
    )
        .into_response()
}

async fn me(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let who = who(&state, &headers)?;
    let g = lock(&state);
    let p = g.progress(&who, state.per_task);
    Ok(Json(serde_json::json!({ "annotator": who, "progress": p })).into_response())
}

async fn next(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<TaskView>, ApiError> {
    let who = who(&state, &headers)?;
    let mut g = lock(&state);
    let ti = g.next_for(&who, state.per_task);
    let progress = g.progress(&who, state.per_task);
    Ok(Json(TaskView {
        task: ti.map(|ti| PublicTask::from(&g.tasks[ti])),
        answer: None,
        done: ti.is_none(),
        progress,
    }))
}

async fn task(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    UrlPath(task_id): UrlPath<String>,
) -> Result<Json<TaskView>, ApiError> {
    let who = who(&state, &headers)?;
    let g = lock(&state);
    let ti = *g
        .by_id
        .get(&task_id)
        .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("no task {task_id}")))?;
    let given = g.answers.get(&who).and_then(|m| m.get(&ti));
    if given.is_none() && g.current.get(&who) != Some(&ti) {
        return Err(err(
            StatusCode::FORBIDDEN,
            "you can open only tasks you answered or the one you are on",
        ));
    }
    Ok(Json(TaskView {
        task: Some(PublicTask::from(&g.tasks[ti])),
        answer: given.map(|r| GivenAnswer {
            answer: r.answer.clone(),
            answer_name: answer_name(&state, &r.answer),
            seq: r.seq,
        }),
        done: false,
        progress: g.progress(&who, state.per_task),
    }))
}

async fn history(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Vec<HistoryItem>>, ApiError> {
    let who = who(&state, &headers)?;
    let g = lock(&state);
    let items = g
        .history
        .get(&who)
        .map(|h| {
            h.iter()
                .filter_map(|&ti| {
                    let r = g.answers.get(&who)?.get(&ti)?;
                    Some(HistoryItem {
                        task_id: g.tasks[ti].task_id.clone(),
                        title: g.tasks[ti].title.clone(),
                        answer: r.answer.clone(),
                        answer_name: answer_name(&state, &r.answer),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(items))
}

async fn answer(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(body): Json<AnswerBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = who(&state, &headers)?;
    if !state.catalog.is_valid_answer(&body.answer) {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{:?} is not a title of taxonomy {}",
                body.answer, state.catalog.version
            ),
        ));
    }
    let comment = body
        .comment
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.chars().take(2000).collect());
    // The fsync happens on a blocking thread, under the lock, so answers are ordered and the
    // reply goes out only after the record is on disk.
    let st = state.clone();
    let saved = tokio::task::spawn_blocking(move || -> Result<AnswerRecord, ApiError> {
        let mut g = lock(&st);
        let ti = *g
            .by_id
            .get(&body.task_id)
            .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("no task {}", body.task_id)))?;
        if !g.answered(&who, ti) && g.current.get(&who) != Some(&ti) {
            return Err(err(
                StatusCode::CONFLICT,
                "this task was not served to you; reload the page to get your current task",
            ));
        }
        let rec = g
            .store
            .append(&body.task_id, &who, &body.answer, body.elapsed_ms, comment)
            .map_err(|e| {
                err(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("answer NOT saved: {e}"),
                )
            })?;
        g.record(ti, rec.clone());
        Ok(rec)
    })
    .await
    .map_err(|e| {
        err(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("answer NOT saved: {e}"),
        )
    })??;
    Ok(Json(
        serde_json::json!({ "saved": saved.seq, "task_id": saved.task_id, "answer": saved.answer }),
    ))
}

async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(p): Query<SearchParams>,
) -> Result<Json<Vec<SearchHit>>, ApiError> {
    who(&state, &headers)?;
    Ok(Json(
        state.catalog.search(&p.q, p.limit.unwrap_or(20).min(100)),
    ))
}
