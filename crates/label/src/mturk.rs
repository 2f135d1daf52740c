//! Mechanical Turk batch files: the batch input CSV (header row of variable names, one row per
//! task) and the HTML question template, which shows one posting through `${variable}`
//! placeholders and carries the whole title picker: the taxonomy is embedded as compact JSON and
//! searched in the worker's browser by name and alias.
//!
//! Mechanical Turk caps a question at 64 KB, and the template plus the substituted posting must
//! fit. The template therefore embeds every title name and as many aliases as fit in
//! [`TEMPLATE_BUDGET_BYTES`] (in taxonomy order, the first alias of every title before any
//! second one), and descriptions in the CSV are cut to a maximum length; both are recorded in
//! the manifest. The answer comes back as `Answer.title_id` (the template's crowd-form uses
//! `answer-format="flatten-objects"`); `label import` also reads the default
//! `Answer.taskAnswers` JSON column.

use crate::catalog::TitleCatalog;
use crate::error::{LabelError, Result};
use crate::tasks::{MturkInfo, Task};
use std::path::Path;

/// Columns of the batch input CSV, in order (each is a `${name}` variable in the template).
pub const INPUT_COLUMNS: [&str; 9] = [
    "task_id",
    "posting_id",
    "title",
    "company",
    "location",
    "country",
    "posted_date",
    "url",
    "description",
];

/// Bytes the template may use, leaving room under the 64 KB limit for the substituted posting.
pub const TEMPLATE_BUDGET_BYTES: usize = 44_000;

/// Write both Mechanical Turk files; returns what was embedded and cut.
pub fn write_mturk_files(
    csv_path: &Path,
    template_path: &Path,
    tasks: &[Task],
    catalog: &TitleCatalog,
    description_max_chars: usize,
) -> Result<MturkInfo> {
    let mut info = MturkInfo {
        description_max_chars,
        ..Default::default()
    };
    let mut truncated = 0usize;
    jobshift_core::atomic::with_writer(csv_path, |w| {
        let mut cw = csv::Writer::from_writer(w);
        cw.write_record(INPUT_COLUMNS)
            .map_err(std::io::Error::other)?;
        for t in tasks {
            let desc = t.description.as_deref().unwrap_or("").replace("\r\n", "\n");
            let desc = if desc.chars().count() > description_max_chars {
                truncated += 1;
                let mut cut: String = desc.chars().take(description_max_chars).collect();
                cut.push_str(" …");
                cut
            } else {
                desc
            };
            let o = |v: &Option<String>| v.clone().unwrap_or_default();
            cw.write_record([
                t.task_id.clone(),
                t.posting_id.clone(),
                t.title.clone(),
                o(&t.company),
                o(&t.location),
                o(&t.country),
                o(&t.posted_date),
                o(&t.url),
                desc,
            ])
            .map_err(std::io::Error::other)?;
        }
        cw.flush()
    })
    .map_err(|e| LabelError::io(csv_path, e))?;
    info.descriptions_truncated = truncated;

    let (html, embedded, dropped) = render_template(catalog, TEMPLATE_BUDGET_BYTES);
    info.template_bytes = html.len();
    info.aliases_embedded = embedded;
    info.aliases_dropped = dropped;
    jobshift_core::atomic::write_bytes(template_path, html.as_bytes())
        .map_err(|e| LabelError::io(template_path, e))?;
    Ok(info)
}

/// The snake_case slug the page derives an id from when the id is not embedded.
fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut pending = false;
    for ch in name.chars().flat_map(|c| c.to_lowercase()) {
        if ch.is_ascii_alphanumeric() {
            if pending && !out.is_empty() {
                out.push('_');
            }
            pending = false;
            out.push(ch);
        } else {
            pending = true;
        }
    }
    out
}

/// Compact catalog JSON: `{"f":[family names],"t":[[name, family index, [aliases], id?], ...]}`
/// with the id left out when it equals the slug of the name (the page's `slug` recomputes it).
fn compact_catalog(catalog: &TitleCatalog, aliases_per_title: &[usize]) -> String {
    let fam_index: std::collections::HashMap<&str, usize> = catalog
        .families
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.as_str(), i))
        .collect();
    let mut fams: Vec<String> = catalog.families.iter().map(|f| f.name.clone()).collect();
    let mut titles = Vec::with_capacity(catalog.titles.len());
    for (t, &k) in catalog.titles.iter().zip(aliases_per_title) {
        let fi = match fam_index.get(t.family.as_str()) {
            Some(&i) => i,
            None => {
                fams.push(t.family.clone());
                fams.len() - 1
            }
        };
        let aliases: Vec<&String> = t.aliases.iter().take(k).collect();
        let mut row = vec![
            serde_json::json!(t.name),
            serde_json::json!(fi),
            serde_json::json!(aliases),
        ];
        if slug(&t.name) != t.id {
            row.push(serde_json::json!(t.id));
        }
        titles.push(serde_json::Value::Array(row));
    }
    let v = serde_json::json!({ "f": fams, "t": titles });
    // Safe inside <script> and free of Mechanical Turk's ${...} syntax.
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('$', "\\u0024")
}

/// Render the template, embedding as many aliases as fit in `budget` bytes: every title's
/// first alias before any title's second one, and within a round in taxonomy order.
/// Returns (html, aliases embedded, aliases dropped).
pub fn render_template(catalog: &TitleCatalog, budget: usize) -> (String, usize, usize) {
    let n = catalog.titles.len();
    let total_aliases: usize = catalog.titles.iter().map(|t| t.aliases.len()).sum();
    let max_k = catalog
        .titles
        .iter()
        .map(|t| t.aliases.len())
        .max()
        .unwrap_or(0);
    let render =
        |per: &[usize]| TEMPLATE.replace("__CATALOG_JSON__", &compact_catalog(catalog, per));
    let mut per = vec![0usize; n];
    let mut html = render(&per);
    for round in 0..max_k {
        let eligible: Vec<usize> = (0..n)
            .filter(|&i| catalog.titles[i].aliases.len() > round)
            .collect();
        let with_prefix = |m: usize| {
            let mut p = per.clone();
            for &i in &eligible[..m] {
                p[i] = round + 1;
            }
            p
        };
        let full = with_prefix(eligible.len());
        let full_html = render(&full);
        if full_html.len() <= budget {
            per = full;
            html = full_html;
            continue;
        }
        // Largest prefix of this round that still fits (binary search: size grows with m).
        let (mut lo, mut hi) = (0usize, eligible.len());
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if render(&with_prefix(mid)).len() <= budget {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        per = with_prefix(lo);
        html = render(&per);
        break;
    }
    let embedded: usize = per.iter().sum();
    (html, embedded, total_aliases - embedded)
}

const TEMPLATE: &str = r##"<!-- jobshift labelling task for Amazon Mechanical Turk (batch template; ${...} are CSV columns) -->
<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form answer-format="flatten-objects">
<style>
 .js-wrap{font:16px/1.45 system-ui,sans-serif;max-width:60rem;margin:0 auto;color:#111}
 .js-post{border:1px solid #ccc;border-radius:8px;padding:12px;margin-bottom:12px}
 .js-post h2{margin:0 0 4px 0;font-size:1.3rem}
 .js-meta{color:#555;font-size:.9rem;margin-bottom:8px}
 .js-desc{white-space:pre-wrap;max-height:24rem;overflow:auto;font-size:.95rem}
 .js-q{width:100%;font-size:1rem;padding:8px;box-sizing:border-box}
 .js-list{list-style:none;padding:0;margin:6px 0;max-height:20rem;overflow:auto}
 .js-list li{padding:8px;border-bottom:1px solid #eee;cursor:pointer}
 .js-list li:hover,.js-list li.sel{background:#e8f0fe}
 .js-fam{color:#666;font-size:.85rem}
 .js-chosen{margin:8px 0;font-weight:bold}
 .js-none{margin-top:6px}
</style>
<div class="js-wrap">
 <p>Read the job posting, then pick the <b>standardized job title</b> that best describes the job.
 Search by job title words (e.g. "data engineer", "nurse", "copywriter"). If no title fits, choose
 <i>None of these fits</i>.</p>
 <div class="js-post">
  <h2>${title}</h2>
  <div class="js-meta">${company} · ${location} ${country} · ${posted_date}</div>
  <div class="js-desc">${description}</div>
 </div>
 <input type="hidden" name="task_id" value="${task_id}">
 <input type="hidden" name="posting_id" value="${posting_id}">
 <input type="hidden" name="title_id" id="js-title-id" value="">
 <label for="js-q"><b>Search standardized titles</b></label>
 <input class="js-q" id="js-q" type="search" autocomplete="off" placeholder="Type a job title">
 <ul class="js-list" id="js-list"></ul>
 <div class="js-chosen" id="js-chosen">No title chosen yet.</div>
 <button type="button" class="js-none" id="js-none">None of these fits</button>
</div>
<script>
(function(){
 var CAT = __CATALOG_JSON__;
 function norm(s){return (s||"").toLowerCase().replace(/&/g," and ").replace(/[^\p{L}\p{N}+#]+/gu," ").trim();}
 function slug(s){return (s||"").toLowerCase().replace(/[^a-z0-9]+/g,"_").replace(/^_+|_+$/g,"");}
 var titles = CAT.t.map(function(r){
  return {name:r[0], fam:CAT.f[r[1]]||"", aliases:r[2]||[], id:r[3]||slug(r[0]),
          keys:[norm(r[0])].concat((r[2]||[]).map(norm))};
 });
 var input = document.getElementById("js-title-id");
 var list = document.getElementById("js-list");
 var chosen = document.getElementById("js-chosen");
 function choose(id,label){input.value=id;chosen.textContent="Chosen: "+label;}
 function search(q){
  q = norm(q); if(!q) return [];
  var words = q.split(" "), hits = [];
  titles.forEach(function(t,ti){
   var best=null;
   t.keys.forEach(function(k,ki){
    var rank;
    if(k===q) rank=0; else if(k.indexOf(q)===0) rank=1;
    else if(words.every(function(w){return k.split(" ").some(function(kw){return kw.indexOf(w)===0;});})) rank=2;
    else return;
    var s=[rank*2+(ki>0?1:0),k.length];
    if(!best||s[0]<best.s[0]||(s[0]===best.s[0]&&s[1]<best.s[1])) best={s:s,alias:ki>0?t.aliases[ki-1]:null};
   });
   if(best) hits.push({t:t,s:best.s,alias:best.alias,i:ti});
  });
  hits.sort(function(a,b){return a.s[0]-b.s[0]||a.s[1]-b.s[1]||a.i-b.i;});
  return hits.slice(0,25);
 }
 document.getElementById("js-q").addEventListener("input",function(e){
  list.innerHTML="";
  search(e.target.value).forEach(function(h){
   var li=document.createElement("li");
   li.textContent=h.t.name+(h.alias?" (\u201c"+h.alias+"\u201d)":"");
   var f=document.createElement("div"); f.className="js-fam"; f.textContent=h.t.fam; li.appendChild(f);
   li.addEventListener("click",function(){
    Array.prototype.forEach.call(list.children,function(c){c.classList.remove("sel");});
    li.classList.add("sel"); choose(h.t.id,h.t.name);
   });
   list.appendChild(li);
  });
 });
 document.getElementById("js-none").addEventListener("click",function(){choose("none_fits","None of these fits");});
 document.querySelector("crowd-form").addEventListener("submit",function(e){
  if(!input.value){e.preventDefault();alert("Please choose a title, or 'None of these fits'.");}
 });
})();
</script>
</crowd-form>
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{test_catalog, CatalogFamily, CatalogTitle};

    #[test]
    fn template_has_variables_and_catalog() {
        let (html, embedded, dropped) = render_template(&test_catalog(), TEMPLATE_BUDGET_BYTES);
        for c in INPUT_COLUMNS.iter().filter(|c| **c != "url") {
            assert!(html.contains(&format!("${{{c}}}")), "missing ${{{c}}}");
        }
        assert!(html.contains("ETL Developer"));
        assert!(html.contains("name=\"title_id\""));
        assert_eq!(dropped, 0);
        assert_eq!(embedded, 8);
        // no stray ${ from the JSON
        let json_part = html.split("var CAT = ").nth(1).unwrap();
        assert!(!json_part.split(';').next().unwrap().contains("${"));
    }

    #[test]
    fn big_taxonomy_fits_the_budget() {
        let titles: Vec<CatalogTitle> = (0..650)
            .map(|i| CatalogTitle {
                id: format!("title_number_{i}"),
                name: format!("Title Number {i}"),
                family: "fam".into(),
                definition: String::new(),
                aliases: (0..12)
                    .map(|a| format!("Some Longish Alias {i} {a}"))
                    .collect(),
            })
            .collect();
        let c = TitleCatalog::new(
            "v",
            "o",
            vec![CatalogFamily {
                id: "fam".into(),
                name: "Fam".into(),
            }],
            titles,
        );
        let (html, embedded, dropped) = render_template(&c, TEMPLATE_BUDGET_BYTES);
        assert!(html.len() <= TEMPLATE_BUDGET_BYTES, "{}", html.len());
        assert!(embedded > 0 && dropped > 0);
        assert_eq!(embedded + dropped, 650 * 12);
        assert!(html.contains("Title Number 649"));
    }

    #[test]
    fn slug_matches_taxonomy_rule() {
        assert_eq!(slug("VP of Engineering"), "vp_of_engineering");
        assert_eq!(
            slug("Director of Data Engineering"),
            "director_of_data_engineering"
        );
        assert_eq!(slug("Front-End  Engineer"), "front_end_engineer");
    }
}
