//! `jobshift collect discover URL...`: fetch a careers page (robots.txt honoured) and find which
//! ATS board it embeds — board links, embed scripts and iframes, or JSON-LD `JobPosting` on the
//! page itself — as companies-file rows.

use crate::companies::Ats;
use crate::connectors::jsonld;
use crate::fetch::{Fetcher, Request};
use serde::Serialize;
use std::sync::atomic::AtomicU64;
use url::Url;

/// A companies-file row found on a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovered {
    pub name: String,
    pub ats: Ats,
    pub board: String,
    pub url: Option<String>,
    /// The page it was found on.
    pub found_on: String,
}

impl Discovered {
    /// The companies-file row (`name,ats,board,url`), CSV-quoted where needed.
    pub fn csv_row(&self) -> String {
        let q = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        format!(
            "{},{},{},{}",
            q(&self.name),
            self.ats,
            q(&self.board),
            q(self.url.as_deref().unwrap_or(""))
        )
    }
}

/// The ATS board a URL points at, if any: (ats, board, listing url override).
pub fn board_of(u: &Url) -> Option<(Ats, String, Option<String>)> {
    let host = u.host_str()?.to_ascii_lowercase();
    let segs: Vec<&str> = u
        .path_segments()
        .map(|s| s.filter(|x| !x.is_empty()).collect())
        .unwrap_or_default();
    let first = segs.first().map(|s| s.to_string());
    let query = |k: &str| {
        u.query_pairs()
            .find(|(q, _)| q == k)
            .map(|(_, v)| v.into_owned())
    };
    match host.as_str() {
        "boards.greenhouse.io"
        | "job-boards.greenhouse.io"
        | "job-boards.eu.greenhouse.io"
        | "boards.eu.greenhouse.io" => {
            if segs.first() == Some(&"embed") {
                return query("for").map(|b| (Ats::Greenhouse, b, None));
            }
            first.map(|b| (Ats::Greenhouse, b, None))
        }
        "boards-api.greenhouse.io" => segs
            .iter()
            .position(|s| *s == "boards")
            .and_then(|i| segs.get(i + 1))
            .map(|b| (Ats::Greenhouse, b.to_string(), None)),
        "jobs.lever.co" => first.map(|b| (Ats::Lever, b, None)),
        "jobs.eu.lever.co" => first.map(|b| {
            let api = format!("https://api.eu.lever.co/v0/postings/{b}");
            (Ats::Lever, b, Some(api))
        }),
        "jobs.ashbyhq.com" => first.map(|b| (Ats::Ashby, b, None)),
        "api.ashbyhq.com" => segs.last().map(|b| (Ats::Ashby, b.to_string(), None)),
        "jobs.smartrecruiters.com" | "careers.smartrecruiters.com" => first
            .filter(|b| !b.eq_ignore_ascii_case("oneclick-ui"))
            .map(|b| (Ats::SmartRecruiters, b, None)),
        "apply.workable.com" => first
            .filter(|b| b != "api" && b != "j")
            .map(|b| (Ats::Workable, b, None)),
        h if h.ends_with(".workable.com") && !h.starts_with("www.") && !h.starts_with("apply.") => {
            Some((
                Ats::Workable,
                h.trim_end_matches(".workable.com").to_string(),
                None,
            ))
        }
        h if h.ends_with(".recruitee.com") && !h.starts_with("www.") => Some((
            Ats::Recruitee,
            h.trim_end_matches(".recruitee.com").to_string(),
            None,
        )),
        h if h.ends_with(".myworkdayjobs.com") => {
            let tenant_host = h.trim_end_matches(".myworkdayjobs.com");
            // skip a locale segment such as en-US
            let site = segs
                .iter()
                .find(|s| !(s.len() == 5 && s.as_bytes().get(2) == Some(&b'-')) && **s != "wday")?;
            Some((Ats::Workday, format!("{tenant_host}/{site}"), None))
        }
        _ => None,
    }
}

/// Candidate URLs on a page: link, script, iframe and form attributes, and absolute URLs in
/// inline scripts (embed snippets).
fn candidate_urls(body: &str, base: &Url) -> Vec<Url> {
    let mut out = Vec::new();
    for (tags, attr) in [
        (&["a", "link", "area"][..], "href"),
        (&["script", "iframe", "embed"][..], "src"),
        (&["form"][..], "action"),
        (&["div", "section"][..], "data-url"),
    ] {
        for v in jsonld::attribute_values(body, tags, attr) {
            if let Ok(u) = base.join(&v) {
                out.push(u);
            }
        }
    }
    let mut rest = body;
    while let Some(i) = rest.find("http") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || "\"'<>\\`()".contains(c))
            .unwrap_or(tail.len());
        if let Ok(u) = Url::parse(&tail[..end]) {
            out.push(u);
        }
        rest = &tail[end.max(4)..];
    }
    out
}

/// A company name from the page's host: `careers.acme.com` → `acme`.
fn name_from_host(u: &Url) -> String {
    let host = u.host_str().unwrap_or("company");
    let labels: Vec<&str> = host
        .split('.')
        .filter(|l| !matches!(*l, "www" | "careers" | "jobs" | "career" | "join" | "work"))
        .collect();
    labels.first().copied().unwrap_or(host).to_string()
}

/// Boards found in one page's HTML.
pub fn discover_in_page(body: &str, page: &Url) -> Vec<Discovered> {
    let name = name_from_host(page);
    let mut out: Vec<Discovered> = Vec::new();
    for u in candidate_urls(body, page) {
        if let Some((ats, board, url)) = board_of(&u) {
            if !out
                .iter()
                .any(|d| d.ats == ats && d.board.eq_ignore_ascii_case(&board))
            {
                out.push(Discovered {
                    name: name.clone(),
                    ats,
                    board,
                    url,
                    found_on: page.to_string(),
                });
            }
        }
    }
    let r = crate::snapshot::RawResponse::from_body("page", page.as_str(), body);
    if out.is_empty() && !jsonld::parse(&[&r], &mut Vec::new()).is_empty() {
        out.push(Discovered {
            name,
            ats: Ats::JsonLd,
            board: page.host_str().unwrap_or("").to_string(),
            url: Some(page.to_string()),
            found_on: page.to_string(),
        });
    }
    // several boards on one page: name them apart
    if out.len() > 1 {
        for d in out.iter_mut() {
            d.name = format!("{} ({})", d.name, d.board);
        }
    }
    out
}

/// Fetch each URL and report what it embeds (a URL that fails is an Err line for it).
pub async fn discover(fetcher: &Fetcher, urls: &[String]) -> Vec<Result<Vec<Discovered>, String>> {
    let mut out = Vec::new();
    for u in urls {
        out.push(discover_one(fetcher, u).await);
    }
    out
}

async fn discover_one(fetcher: &Fetcher, u: &str) -> Result<Vec<Discovered>, String> {
    let page = Url::parse(u).map_err(|e| format!("{u}: not a URL ({e})"))?;
    let direct = |at: &Url| {
        board_of(at).map(|(ats, board, url)| Discovered {
            name: name_from_host(&page),
            ats,
            board,
            url,
            found_on: u.to_string(),
        })
    };
    if let Some(d) = direct(&page) {
        return Ok(vec![d]);
    }
    let requests = AtomicU64::new(0);
    let resp = fetcher
        .fetch(&Request::page(u.to_string()), &requests)
        .await
        .map_err(|e| e.to_string())?;
    let final_url = Url::parse(&resp.final_url).unwrap_or_else(|_| page.clone());
    if let Some(d) = direct(&final_url) {
        return Ok(vec![d]);
    }
    Ok(discover_in_page(
        &String::from_utf8_lossy(&resp.body),
        &final_url,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_embedded_boards() {
        let page = Url::parse("https://www.acme.com/careers").unwrap();
        let html = r#"<html><body>
          <script src="https://boards.greenhouse.io/embed/job_board/js?for=acme"></script>
          <iframe src="https://jobs.eu.lever.co/acme-eu"></iframe>
          <a href="https://acme.wd5.myworkdayjobs.com/en-US/External/job/x">w</a>
          <script>var u = "https://jobs.ashbyhq.com/acme-ashby/embed";</script>
          <a href="https://apply.workable.com/acme-w/">wk</a>
          <a href="https://acmeco.recruitee.com/">r</a>
          <a href="https://jobs.smartrecruiters.com/AcmeSR">sr</a>
        </body></html>"#;
        let found = discover_in_page(html, &page);
        // the order is links first, then scripts and iframes: compare as a set
        let mut got: Vec<(&str, &str)> = found
            .iter()
            .map(|d| (d.ats.name(), d.board.as_str()))
            .collect();
        got.sort();
        let mut want = vec![
            (Ats::Greenhouse.name(), "acme"),
            (Ats::Lever.name(), "acme-eu"),
            (Ats::Workday.name(), "acme.wd5/External"),
            (Ats::Workable.name(), "acme-w"),
            (Ats::Recruitee.name(), "acmeco"),
            (Ats::SmartRecruiters.name(), "AcmeSR"),
            (Ats::Ashby.name(), "acme-ashby"),
        ];
        want.sort();
        assert_eq!(got, want);
        let of = |ats: Ats| found.iter().find(|d| d.ats == ats).unwrap();
        assert_eq!(
            of(Ats::Lever).url.as_deref(),
            Some("https://api.eu.lever.co/v0/postings/acme-eu")
        );
        assert!(of(Ats::Greenhouse)
            .csv_row()
            .starts_with("acme (acme),greenhouse,acme,"));
    }

    #[test]
    fn a_page_with_job_postings_is_a_jsonld_row() {
        let page = Url::parse("https://careers.bolt.example/jobs").unwrap();
        let html =
            r#"<script type="application/ld+json">{"@type":"JobPosting","title":"Cook"}</script>"#;
        let found = discover_in_page(html, &page);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].ats, Ats::JsonLd);
        assert_eq!(
            found[0].csv_row(),
            "bolt,jsonld,careers.bolt.example,https://careers.bolt.example/jobs"
        );
    }
}
