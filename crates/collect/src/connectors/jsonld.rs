//! schema.org `JobPosting` markup: `<script type="application/ld+json">` blocks (single objects,
//! arrays and `@graph`) on a company's job pages. The company's `url` is either a sitemap
//! (`<urlset>`, nested `<sitemapindex>` up to three levels, `.xml.gz` included) or a careers page
//! whose same-host links to job pages are followed (links below the careers page's folder, or
//! whose path names a job, career, position, opening or vacancy). Every page and sitemap is
//! checked against robots.txt first; a page robots.txt disallows is skipped and noted.

use super::{Session, MAX_PAGES};
use crate::fetch::{FetchError, Request};
use crate::posting::{join_texts, number_at, text_at, value_text, CollectedPosting};
use crate::report::Status;
use crate::snapshot::RawResponse;
use serde_json::Value;
use std::collections::{HashSet, VecDeque};
use url::Url;

/// Sitemap index nesting followed.
pub const MAX_SITEMAP_DEPTH: usize = 3;

pub async fn fetch(s: &mut Session<'_>) -> Status {
    let start = match &s.company.url {
        Some(u) => u.clone(),
        None if s.company.board.starts_with("http") => s.company.board.clone(),
        None => format!("https://{}/", s.company.board),
    };
    let Ok(start_url) = Url::parse(&start) else {
        s.error(format!("{start}: not a URL"));
        return Status::Failed;
    };
    let mut status = Status::Ok;
    let mut queue: VecDeque<(String, usize, bool)> = VecDeque::from([(start.clone(), 0, true)]);
    let mut queued: HashSet<String> = HashSet::from([start.clone()]);
    let mut fetched = 0usize;
    while let Some((url, depth, is_start)) = queue.pop_front() {
        if fetched >= MAX_PAGES {
            s.error(format!(
                "stopped after {MAX_PAGES} pages and sitemaps ({} left)",
                queue.len() + 1
            ));
            status = Status::Partial;
            break;
        }
        fetched += 1;
        let body = match s.send("page", Request::page(url.clone())).await {
            Ok(b) => b.to_string(),
            Err(FetchError::RobotsDisallowed { url: u }) if !is_start => {
                s.error(format!("{u}: skipped, robots.txt disallows it"));
                continue;
            }
            Err(e) => {
                s.error(e.to_string());
                if is_start {
                    return Status::Failed;
                }
                status = Status::Partial;
                continue;
            }
        };
        let Ok(base) = Url::parse(&url) else { continue };
        match sitemap_kind(&body) {
            Some(kind) => {
                mark_last_role(s, "sitemap");
                let nested = kind == SitemapKind::Index;
                if nested && depth >= MAX_SITEMAP_DEPTH {
                    s.error(format!(
                        "{url}: sitemap index nested deeper than {MAX_SITEMAP_DEPTH}"
                    ));
                    status = Status::Partial;
                    continue;
                }
                for loc in sitemap_locs(&body) {
                    let Ok(u) = base.join(&loc) else { continue };
                    if u.host_str() != start_url.host_str() {
                        continue;
                    }
                    if queued.insert(u.to_string()) {
                        queue.push_back((u.to_string(), depth + 1, false));
                    }
                }
            }
            None if is_start => {
                for link in job_links(&body, &base) {
                    if queued.insert(link.clone()) {
                        queue.push_back((link, depth + 1, false));
                    }
                }
            }
            None => {}
        }
    }
    status
}

fn mark_last_role(s: &mut Session<'_>, role: &str) {
    if let Some(crate::snapshot::SnapshotLine::Response(r)) = s.lines.last_mut() {
        r.role = role.to_string();
    }
}

#[derive(Debug, PartialEq, Eq)]
enum SitemapKind {
    Urls,
    Index,
}

fn sitemap_kind(body: &str) -> Option<SitemapKind> {
    let head: String = body
        .chars()
        .take(2048)
        .collect::<String>()
        .to_ascii_lowercase();
    if head.contains("<sitemapindex") {
        Some(SitemapKind::Index)
    } else if head.contains("<urlset") {
        Some(SitemapKind::Urls)
    } else {
        None
    }
}

/// `<loc>` values of a sitemap or sitemap index.
fn sitemap_locs(body: &str) -> Vec<String> {
    let Ok(dom) = tl::parse(body, tl::ParserOptions::default()) else {
        return Vec::new();
    };
    let parser = dom.parser();
    dom.nodes()
        .iter()
        .filter_map(|n| n.as_tag())
        .filter(|t| t.name().as_utf8_str().eq_ignore_ascii_case("loc"))
        .map(|t| html_escape::decode_html_entities(t.inner_text(parser).trim()).into_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Same-host links of a careers page that may lead to job pages.
fn job_links(body: &str, base: &Url) -> Vec<String> {
    let folder = {
        let p = base.path();
        p[..p.rfind('/').map_or(0, |i| i + 1)].to_string()
    };
    let mut out = Vec::new();
    for href in attribute_values(body, &["a"], "href") {
        let Ok(mut u) = base.join(&href) else {
            continue;
        };
        u.set_fragment(None);
        if u.host_str() != base.host_str() || u == *base || !matches!(u.scheme(), "http" | "https")
        {
            continue;
        }
        let path = u.path().to_ascii_lowercase();
        let jobby = [
            "job", "career", "position", "opening", "vacanc", "stelle", "emploi",
        ]
        .iter()
        .any(|w| path.contains(w));
        if (path.starts_with(&folder.to_ascii_lowercase()) && path.len() > folder.len()) || jobby {
            out.push(u.to_string());
        }
    }
    out
}

/// Values of `attr` on the given tags (lower-case names), entity-decoded.
pub(crate) fn attribute_values(body: &str, tags: &[&str], attr: &str) -> Vec<String> {
    let Ok(dom) = tl::parse(body, tl::ParserOptions::default()) else {
        return Vec::new();
    };
    dom.nodes()
        .iter()
        .filter_map(|n| n.as_tag())
        .filter(|t| {
            let name = t.name().as_utf8_str().to_ascii_lowercase();
            tags.contains(&name.as_str())
        })
        .filter_map(|t| attribute(t, attr))
        .map(|v| html_escape::decode_html_entities(v.trim()).into_owned())
        .collect()
}

/// An attribute's raw value, its name matched case-insensitively (HTML attribute names are).
fn attribute(t: &tl::HTMLTag<'_>, name: &str) -> Option<String> {
    t.attributes()
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.map(|v| v.into_owned()))
}

/// Contents of the page's `<script type="application/ld+json">` blocks. Script contents are raw
/// text in HTML (a `<p>` inside is not a tag), so they are cut from the source from the end of
/// the start tag to the next `</script`, not taken from the parser's child nodes.
pub fn ld_json_scripts(body: &str) -> Vec<&str> {
    let Ok(dom) = tl::parse(body, tl::ParserOptions::default()) else {
        return Vec::new();
    };
    let parser = dom.parser();
    let lower = body.to_ascii_lowercase();
    let mut out = Vec::new();
    for t in dom.nodes().iter().filter_map(|n| n.as_tag()) {
        if !t.name().as_utf8_str().eq_ignore_ascii_case("script") {
            continue;
        }
        let is_ld =
            attribute(t, "type").is_some_and(|v| v.to_ascii_lowercase().contains("ld+json"));
        if !is_ld {
            continue;
        }
        let (start, _) = t.boundaries(parser);
        let Some(open_end) = lower[start..].find('>').map(|i| start + i + 1) else {
            continue;
        };
        let close = lower[open_end..]
            .find("</script")
            .map_or(body.len(), |i| open_end + i);
        out.push(&body[open_end..close]);
    }
    out
}

pub fn parse(responses: &[&RawResponse], errors: &mut Vec<String>) -> Vec<CollectedPosting> {
    let mut out = Vec::new();
    for r in responses.iter().filter(|r| r.role == "page") {
        let page_url = if r.final_url.is_empty() {
            &r.url
        } else {
            &r.final_url
        };
        let mut n = 0usize;
        for script in ld_json_scripts(&r.body) {
            let v: Value = match serde_json::from_str(script.trim()) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(format!("{page_url}: malformed JSON-LD ({e})"));
                    continue;
                }
            };
            let mut found = Vec::new();
            job_postings(&v, &mut found);
            for jp in found {
                n += 1;
                out.push(posting(jp, page_url, n));
            }
        }
    }
    out
}

/// JobPosting objects in a JSON-LD value: itself, array elements, `@graph` members.
fn job_postings<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| job_postings(x, out)),
        Value::Object(o) => {
            if let Some(g) = o.get("@graph") {
                job_postings(g, out);
            }
            let is_job = |t: &Value| t.as_str().is_some_and(|s| s.ends_with("JobPosting"));
            let typed = match o.get("@type") {
                Some(Value::Array(ts)) => ts.iter().any(is_job),
                Some(t) => is_job(t),
                None => false,
            };
            if typed {
                out.push(v);
            }
        }
        _ => {}
    }
}

fn place_text(place: &Value) -> (Option<String>, Option<String>) {
    let addr = place.get("address").unwrap_or(place);
    if let Some(s) = addr.as_str() {
        return (Some(s.to_string()), None);
    }
    let country =
        text_at(addr, &["addressCountry"]).or_else(|| text_at(addr, &["addressCountry", "name"]));
    let parts: Vec<String> = ["addressLocality", "addressRegion"]
        .iter()
        .filter_map(|k| text_at(addr, &[k]))
        .chain(country.clone())
        .collect();
    ((!parts.is_empty()).then(|| parts.join(", ")), country)
}

fn posting(jp: &Value, page_url: &str, n: usize) -> CollectedPosting {
    let places: Vec<&Value> = match jp.get("jobLocation") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    };
    let (location, country) = places
        .first()
        .map(|p| place_text(p))
        .unwrap_or((None, None));
    let identifier = text_at(jp, &["identifier", "value"]).or_else(|| text_at(jp, &["identifier"]));
    let own_url = text_at(jp, &["url"]);
    let url = own_url.clone().unwrap_or_else(|| page_url.to_string());
    // the identifier, else the posting's own URL, else the page (and its position on the page)
    let key = identifier.clone().or(own_url).unwrap_or_else(|| {
        if n == 1 {
            page_url.to_string()
        } else {
            format!("{page_url}#{n}")
        }
    });
    let remote =
        text_at(jp, &["jobLocationType"]).filter(|t| t.eq_ignore_ascii_case("TELECOMMUTE"));
    let salary = jp.get("baseSalary");
    let sv = salary.and_then(|s| s.get("value"));
    let mut extra = std::collections::BTreeMap::new();
    if places.len() > 1 {
        let all: Vec<String> = places.iter().filter_map(|p| place_text(p).0).collect();
        extra.insert("all_locations".to_string(), all.join("; "));
    }
    for k in [
        "validThrough",
        "industry",
        "experienceRequirements",
        "educationRequirements",
        "skills",
        "qualifications",
        "directApply",
    ] {
        if let Some(v) = join_texts(jp.get(k), "name") {
            extra.insert(k.to_string(), v);
        }
    }
    if let Some(v) = join_texts(jp.get("applicantLocationRequirements"), "name") {
        extra.insert("applicant_location".into(), v);
    }
    if let Some(v) = text_at(jp, &["hiringOrganization", "name"])
        .or_else(|| text_at(jp, &["hiringOrganization"]))
    {
        extra.insert("hiring_organization".into(), v);
    }
    extra.insert("page_url".into(), page_url.to_string());
    let occupational = match jp.get("occupationalCategory") {
        Some(Value::Object(_)) => jp
            .get("occupationalCategory")
            .and_then(|o| text_at(o, &["codeValue"]).or_else(|| text_at(o, &["name"]))),
        other => join_texts(other, "codeValue"),
    };
    CollectedPosting {
        key,
        title: text_at(jp, &["title"]).or_else(|| text_at(jp, &["name"])),
        description: text_at(jp, &["description"]),
        location: location.or_else(|| remote.as_ref().map(|_| "Remote".to_string())),
        country,
        department: None,
        employment_type: join_texts(jp.get("employmentType"), "name"),
        workplace: remote.map(|_| "remote".to_string()),
        salary_min: sv
            .and_then(|v| number_at(v, &["minValue"]).or_else(|| number_at(v, &["value"])))
            .or_else(|| sv.and_then(value_text).and_then(|t| t.parse().ok())),
        salary_max: sv
            .and_then(|v| number_at(v, &["maxValue"]).or_else(|| number_at(v, &["value"]))),
        salary_currency: salary.and_then(|s| text_at(s, &["currency"])),
        salary_period: sv.and_then(|v| text_at(v, &["unitText"])),
        requisition_id: identifier,
        published: text_at(jp, &["datePosted"]),
        updated: None,
        url: Some(url),
        occupational_category: occupational,
        extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> RawResponse {
        RawResponse::from_body("page", "https://acme.example/jobs/1", body)
    }

    #[test]
    fn reads_objects_arrays_and_graphs_with_raw_html_inside_scripts() {
        let html = r#"<html><head>
        <script type="application/ld+json">{"@context":"https://schema.org","@type":"JobPosting",
          "title":"Nurse","description":"<p>Care for <b>patients</b></p>","datePosted":"2024-03-01",
          "identifier":{"@type":"PropertyValue","name":"Acme","value":"R-1"},
          "hiringOrganization":{"@type":"Organization","name":"Acme Health"},
          "jobLocation":{"@type":"Place","address":{"addressLocality":"Austin","addressRegion":"TX","addressCountry":"US"}},
          "occupationalCategory":"29-1141.00","employmentType":["FULL_TIME","TEMPORARY"],
          "baseSalary":{"@type":"MonetaryAmount","currency":"USD","value":{"@type":"QuantitativeValue","minValue":30,"maxValue":45,"unitText":"HOUR"}}}</script>
        <SCRIPT TYPE="application/ld+json">[{"@type":"Organization","name":"x"},{"@type":"JobPosting","title":"Cook","datePosted":"2024-03-02","url":"https://acme.example/jobs/cook"}]</SCRIPT>
        <script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},{"@type":["JobPosting"],"title":"Driver","jobLocationType":"TELECOMMUTE"}]}</script>
        <script type="application/ld+json">{ broken</script>
        </head><body></body></html>"#;
        let r = page(html);
        let mut errors = Vec::new();
        let ps = parse(&[&r], &mut errors);
        let titles: Vec<_> = ps.iter().map(|p| p.title.clone().unwrap()).collect();
        assert_eq!(titles, ["Nurse", "Cook", "Driver"]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let n = &ps[0];
        assert_eq!(n.key, "R-1");
        assert_eq!(
            n.description.as_deref(),
            Some("<p>Care for <b>patients</b></p>")
        );
        assert_eq!(n.location.as_deref(), Some("Austin, TX, US"));
        assert_eq!(n.occupational_category.as_deref(), Some("29-1141.00"));
        assert_eq!(n.employment_type.as_deref(), Some("FULL_TIME; TEMPORARY"));
        assert_eq!((n.salary_min, n.salary_max), (Some(30.0), Some(45.0)));
        assert_eq!(n.extra["hiring_organization"], "Acme Health");
        assert_eq!(ps[1].key, "https://acme.example/jobs/cook");
        assert_eq!(ps[2].workplace.as_deref(), Some("remote"));
        assert_ne!(ps[2].key, ps[1].key);
    }

    #[test]
    fn sitemaps_and_links() {
        let idx = r#"<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
          <sitemap><loc>https://a.example/s1.xml.gz</loc></sitemap></sitemapindex>"#;
        assert_eq!(sitemap_kind(idx), Some(SitemapKind::Index));
        assert_eq!(sitemap_locs(idx), ["https://a.example/s1.xml.gz"]);
        let set = "<urlset><url><loc>https://a.example/jobs?id=1&amp;x=2</loc></url></urlset>";
        assert_eq!(sitemap_locs(set), ["https://a.example/jobs?id=1&x=2"]);
        let base = Url::parse("https://a.example/careers/").unwrap();
        let links = job_links(
            r##"<a href="/careers/42">a</a><a href="https://other.example/jobs/1">b</a>
                <a href="/about">c</a><a href="/open-positions/7#apply">d</a><a href="#top">e</a>"##,
            &base,
        );
        assert_eq!(
            links,
            [
                "https://a.example/careers/42",
                "https://a.example/open-positions/7"
            ]
        );
    }
}
