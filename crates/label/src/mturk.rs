//! Mechanical Turk batch files: the batch input CSV (header row of variable names, one row per
//! task) and the HTML question template, which shows one posting through `${variable}`
//! placeholders and carries the whole title picker, searched in the worker's browser by name and
//! alias.
//!
//! **The limit.** Mechanical Turk's `CreateHIT` takes the question as XML (`HTMLQuestion`) of at
//! most 65,535 bytes, including whitespace ([`QUESTION_LIMIT_BYTES`]); a batch template becomes
//! one such question per CSV row, with the row's values substituted. So the template, the
//! `HTMLQuestion` wrapper and the largest row of the batch must fit together: the catalog gets
//! what the largest (HTML-escaped) row and the wrapper leave ([`write_mturk_files`] computes it
//! per batch; descriptions are first cut to `--mturk-description-max-chars`).
//!
//! **The encoding.** The catalog is a small text (first line the family names, then one line per
//! title: `name \t family index \t alias|alias|… [\t id]`, the id left out when it is the slug of
//! the name), zlib-compressed (`flate2`, best level) and written in base 85 with an alphabet free
//! of `" $ & ' < > \ ] backtick`, so it sits in a plain JavaScript string and can never form
//! `${`, `</script` or `]]>`. The page decodes it with the browser's own `DecompressionStream`
//! (Chrome/Edge 80+, Firefox 113+, Safari 16.4+). Every title name is always embedded; aliases go
//! in rounds (every title's first alias before any title's second one, taxonomy order within a
//! round) up to the budget. On the built-in taxonomy that is about 7,600 of 11,678 aliases, against
//! ~1,000 with plain JSON (see docs/labelling.md for the measured figure).
//!
//! The answer comes back as `Answer.title_id` (the template's crowd-form uses
//! `answer-format="flatten-objects"`); `label import` also reads the default
//! `Answer.taskAnswers` JSON column.

use crate::catalog::TitleCatalog;
use crate::error::{LabelError, Result};
use crate::tasks::{MturkInfo, Task};
use std::io::Write;
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

/// Mechanical Turk's limit on a question (the `HTMLQuestion` XML of `CreateHIT`), in bytes.
pub const QUESTION_LIMIT_BYTES: usize = 65_535;

/// The `HTMLQuestion` XML around the template (namespace, CDATA, frame height): 205 bytes,
/// rounded up.
pub const HTML_QUESTION_WRAPPER_BYTES: usize = 512;

/// The 85 characters of the catalog's base-85 text: printable ASCII without
/// `" $ & ' < > \ ] backtick`.
pub const BASE85_ALPHABET: &[u8; 85] =
    b"!#%()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[^_abcdefghijklmnopqrstuvwxyz{|}~";

/// What went into a rendered template.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedTemplate {
    pub html: String,
    pub titles_embedded: usize,
    pub aliases_embedded: usize,
    pub aliases_dropped: usize,
    /// Bytes of the zlib-compressed catalog (before base 85).
    pub compressed_bytes: usize,
}

/// Write both Mechanical Turk files; returns what was embedded and cut.
pub fn write_mturk_files(
    csv_path: &Path,
    template_path: &Path,
    tasks: &[Task],
    catalog: &TitleCatalog,
    description_max_chars: usize,
) -> Result<MturkInfo> {
    let mut truncated = 0usize;
    let rows: Vec<[String; 9]> = tasks
        .iter()
        .map(|t| {
            let desc = t.description.as_deref().unwrap_or("").replace("\r\n", "\n");
            let desc = if desc.chars().count() > description_max_chars {
                truncated += 1;
                let mut cut: String = desc.chars().take(description_max_chars).collect();
                cut.push_str(" …");
                cut
            } else {
                desc
            };
            // Mechanical Turk substitutes ${column} into the page as is, so every value is
            // HTML-escaped here: a posting's own markup shows as text and runs no script.
            let e = |v: &str| minijinja::HtmlEscape(v).to_string();
            let o = |v: &Option<String>| e(v.as_deref().unwrap_or_default());
            [
                e(&t.task_id),
                e(&t.posting_id),
                e(&t.title),
                o(&t.company),
                o(&t.location),
                o(&t.country),
                o(&t.posted_date),
                o(&t.url),
                e(&desc),
            ]
        })
        .collect();
    jobshift_core::atomic::with_writer(csv_path, |w| {
        let mut cw = csv::Writer::from_writer(w);
        cw.write_record(INPUT_COLUMNS)
            .map_err(std::io::Error::other)?;
        for r in &rows {
            cw.write_record(r).map_err(std::io::Error::other)?;
        }
        cw.flush()
    })
    .map_err(|e| LabelError::io(csv_path, e))?;

    let largest_row_growth = rows
        .iter()
        .map(|r| row_growth(TEMPLATE, r))
        .max()
        .unwrap_or(0);
    let budget = QUESTION_LIMIT_BYTES
        .saturating_sub(HTML_QUESTION_WRAPPER_BYTES)
        .saturating_sub(largest_row_growth);
    let rendered = render_template(catalog, budget).ok_or_else(|| {
        LabelError::Invalid(format!(
            "the Mechanical Turk question would exceed {QUESTION_LIMIT_BYTES} bytes even without \
             aliases: the largest task adds {largest_row_growth} bytes to the template; lower \
             --mturk-description-max-chars (now {description_max_chars})"
        ))
    })?;
    let aliases_total = rendered.aliases_embedded + rendered.aliases_dropped;
    let info = MturkInfo {
        template_bytes: rendered.html.len(),
        aliases_embedded: rendered.aliases_embedded,
        aliases_dropped: rendered.aliases_dropped,
        description_max_chars,
        descriptions_truncated: truncated,
        question_limit_bytes: QUESTION_LIMIT_BYTES,
        largest_question_bytes: rendered.html.len()
            + largest_row_growth
            + HTML_QUESTION_WRAPPER_BYTES,
        titles_embedded: rendered.titles_embedded,
        titles_total: catalog.titles.len(),
        alias_coverage: if aliases_total == 0 {
            1.0
        } else {
            rendered.aliases_embedded as f64 / aliases_total as f64
        },
        catalog_encoding: "zlib+base85".into(),
    };
    jobshift_core::atomic::write_bytes(template_path, rendered.html.as_bytes())
        .map_err(|e| LabelError::io(template_path, e))?;
    Ok(info)
}

/// The inverse of the batch input's escaping (`minijinja::HtmlEscape`, which has no decoder):
/// the six entities it writes, `&amp;` last so nothing is decoded twice.
pub fn unescape_html(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// How many bytes a row adds to `template` once Mechanical Turk substitutes its values (counted
/// HTML-escaped, the larger of escaped and raw) for every `${column}` occurrence.
pub fn row_growth(template: &str, row: &[String; 9]) -> usize {
    let mut grow: isize = 0;
    for (col, value) in INPUT_COLUMNS.iter().zip(row) {
        let placeholder = format!("${{{col}}}");
        let occurrences = template.matches(&placeholder).count() as isize;
        let escaped: usize = value
            .chars()
            .map(|c| match c {
                '&' => 5,
                '<' | '>' => 4,
                '"' | '\'' => 6,
                c => c.len_utf8(),
            })
            .sum();
        grow += occurrences * (escaped as isize - placeholder.len() as isize);
    }
    grow.max(0) as usize
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

/// A field of the catalog text: no tab, newline or `|` (the separators).
fn field(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r' | '|') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The catalog text with the first `aliases_per_title[i]` aliases of title `i`.
fn catalog_text(catalog: &TitleCatalog, aliases_per_title: &[usize]) -> String {
    let mut fam_index: std::collections::HashMap<&str, usize> = catalog
        .families
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.as_str(), i))
        .collect();
    let mut fams: Vec<String> = catalog.families.iter().map(|f| field(&f.name)).collect();
    let mut lines = Vec::with_capacity(catalog.titles.len());
    for (t, &k) in catalog.titles.iter().zip(aliases_per_title) {
        let fi = *fam_index.entry(t.family.as_str()).or_insert_with(|| {
            fams.push(field(&t.family));
            fams.len() - 1
        });
        let aliases: Vec<String> = t.aliases.iter().take(k).map(|a| field(a)).collect();
        let mut line = format!("{}\t{fi}\t{}", field(&t.name), aliases.join("|"));
        if slug(&t.name) != t.id {
            line.push('\t');
            line.push_str(&field(&t.id));
        }
        lines.push(line);
    }
    let mut text = fams.join("\t");
    for l in lines {
        text.push('\n');
        text.push_str(&l);
    }
    text
}

/// zlib at the best level (the browser's `DecompressionStream("deflate")` reads zlib).
fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Base 85 over [`BASE85_ALPHABET`]: every 4 bytes become 5 characters, big-endian; a final
/// group of r < 4 bytes is zero-padded and written as r + 1 characters (Ascii85's rule, without
/// its `z` shortcut). Hand-written because the alphabet must avoid characters that Mechanical
/// Turk, HTML and XML treat specially; the page's `b85` function is its exact inverse.
pub fn base85_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(4) * 5);
    for chunk in bytes.chunks(4) {
        let mut group = [0u8; 4];
        group[..chunk.len()].copy_from_slice(chunk);
        let mut v = u32::from_be_bytes(group);
        let mut digits = [0u8; 5];
        for d in digits.iter_mut().rev() {
            *d = BASE85_ALPHABET[(v % 85) as usize];
            v /= 85;
        }
        for &d in &digits[..chunk.len() + 1] {
            out.push(d as char);
        }
    }
    out
}

/// Inverse of [`base85_encode`] (what the page does); `None` on a character outside the alphabet.
pub fn base85_decode(text: &str) -> Option<Vec<u8>> {
    let mut value_of = [u8::MAX; 128];
    for (i, &c) in BASE85_ALPHABET.iter().enumerate() {
        value_of[c as usize] = i as u8;
    }
    let chars = text.as_bytes();
    let mut out = Vec::with_capacity(chars.len() / 5 * 4 + 4);
    for chunk in chars.chunks(5) {
        if chunk.len() < 2 {
            return None;
        }
        let mut v: u64 = 0;
        for i in 0..5 {
            let digit = match chunk.get(i) {
                Some(&c) => *value_of.get(c as usize).filter(|&&d| d != u8::MAX)? as u64,
                None => 84,
            };
            v = v * 85 + digit;
        }
        let bytes = (v as u32).to_be_bytes();
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

/// Decode an embedded catalog back to its text (for tests and checks): base 85, then zlib.
pub fn decode_embedded_catalog(html: &str) -> Option<String> {
    let start = html.find("var CAT = \"")? + "var CAT = \"".len();
    let end = start + html[start..].find('"')?;
    let compressed = base85_decode(&html[start..end])?;
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::ZlibDecoder::new(&compressed[..]),
        &mut text,
    )
    .ok()?;
    Some(text)
}

/// Render the template with every title name and as many aliases as keep the HTML within
/// `budget` bytes: every title's first alias before any title's second one, and within a round
/// in taxonomy order. `None` when even the names alone do not fit.
pub fn render_template(catalog: &TitleCatalog, budget: usize) -> Option<RenderedTemplate> {
    let n = catalog.titles.len();
    let max_k = catalog
        .titles
        .iter()
        .map(|t| t.aliases.len())
        .max()
        .unwrap_or(0);
    // (title, alias index) in the order aliases are added
    let order: Vec<usize> = (0..max_k)
        .flat_map(|round| {
            catalog
                .titles
                .iter()
                .enumerate()
                .filter(move |(_, t)| t.aliases.len() > round)
                .map(|(i, _)| i)
        })
        .collect();
    let per_title = |m: usize| {
        let mut per = vec![0usize; n];
        for &i in &order[..m] {
            per[i] += 1;
        }
        per
    };
    let render = |m: usize| {
        let compressed = zlib(catalog_text(catalog, &per_title(m)).as_bytes());
        let html = TEMPLATE.replace("__CATALOG_B85__", &base85_encode(&compressed));
        (html, compressed.len())
    };
    let fits = |m: usize| {
        let r = render(m);
        (r.0.len() <= budget).then_some(r)
    };
    let (mut html, mut compressed_bytes) = fits(0)?;
    let mut embedded = 0;
    if let Some(all) = fits(order.len()) {
        (html, compressed_bytes) = all;
        embedded = order.len();
    } else {
        // Largest m that fits (the compressed size grows with m, up to small wobbles; the
        // result is checked, so a wobble can only cost a few aliases, never break the limit).
        let (mut lo, mut hi) = (0usize, order.len());
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match fits(mid) {
                Some(r) => {
                    lo = mid;
                    (html, compressed_bytes) = r;
                    embedded = mid;
                }
                None => hi = mid,
            }
        }
        if embedded != lo {
            (html, compressed_bytes) = fits(lo)?;
            embedded = lo;
        }
    }
    Some(RenderedTemplate {
        html,
        titles_embedded: n,
        aliases_embedded: embedded,
        aliases_dropped: order.len() - embedded,
        compressed_bytes,
    })
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
 <input class="js-q" id="js-q" type="search" autocomplete="off" placeholder="Loading titles…" disabled>
 <ul class="js-list" id="js-list"></ul>
 <div class="js-chosen" id="js-chosen">No title chosen yet.</div>
 <button type="button" class="js-none" id="js-none">None of these fits</button>
</div>
<script>
(function(){
 // The taxonomy: zlib-compressed text in base 85 (see jobshift's crates/label/src/mturk.rs).
 var CAT = "__CATALOG_B85__";
 var A85 = "!#%()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[^_abcdefghijklmnopqrstuvwxyz{|}~";
 function b85(s){
  var m={},i,j,out=[];
  for(i=0;i<85;i++) m[A85.charAt(i)]=i;
  for(i=0;i<s.length;i+=5){
   var r=Math.min(5,s.length-i),v=0;
   for(j=0;j<5;j++) v=v*85+(j<r?m[s.charAt(i+j)]:84);
   var b=[Math.floor(v/16777216)%256,Math.floor(v/65536)%256,Math.floor(v/256)%256,v%256];
   for(j=0;j<r-1;j++) out.push(b[j]);
  }
  return new Uint8Array(out);
 }
 function norm(s){return (s||"").toLowerCase().replace(/&/g," and ").replace(/[^\p{L}\p{N}+#]+/gu," ").trim();}
 function slug(s){return (s||"").toLowerCase().replace(/[^a-z0-9]+/g,"_").replace(/^_+|_+$/g,"");}
 var titles = [];
 var q = document.getElementById("js-q");
 var input = document.getElementById("js-title-id");
 var list = document.getElementById("js-list");
 var chosen = document.getElementById("js-chosen");
 function parse(text){
  var lines=text.split("\n"), fams=lines[0].split("\t");
  titles = lines.slice(1).filter(function(l){return l.length>0;}).map(function(l){
   var p=l.split("\t"), al=p[2]?p[2].split("|"):[];
   return {name:p[0], fam:fams[+p[1]]||"", aliases:al, id:p[3]||slug(p[0]),
           keys:[norm(p[0])].concat(al.map(norm))};
  });
  document.documentElement.setAttribute("data-titles", String(titles.length));
  q.disabled=false; q.placeholder="Type a job title";
 }
 try {
  new Response(new Blob([b85(CAT)]).stream().pipeThrough(new DecompressionStream("deflate")))
   .text().then(parse, function(e){ chosen.textContent="Could not load the titles: "+e; });
 } catch(e) {
  chosen.textContent="This browser cannot load the list of titles; please use a current Chrome, Edge, Firefox or Safari.";
 }
 function choose(id,label){input.value=id;chosen.textContent="Chosen: "+label;}
 function search(qs){
  qs = norm(qs); if(!qs) return [];
  var words = qs.split(" "), hits = [];
  titles.forEach(function(t,ti){
   var best=null;
   t.keys.forEach(function(k,ki){
    var rank;
    if(k===qs) rank=0; else if(k.indexOf(qs)===0) rank=1;
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
 q.addEventListener("input",function(e){
  list.innerHTML="";
  search(e.target.value).forEach(function(h){
   var li=document.createElement("li");
   li.setAttribute("data-id",h.t.id);
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
        let r = render_template(&test_catalog(), 60_000).unwrap();
        for c in INPUT_COLUMNS.iter().filter(|c| **c != "url") {
            assert!(r.html.contains(&format!("${{{c}}}")), "missing ${{{c}}}");
        }
        assert!(r.html.contains("name=\"title_id\""));
        assert_eq!(r.aliases_dropped, 0);
        // every alias of the six-title test catalog
        assert_eq!(r.aliases_embedded, 10);
        let text = decode_embedded_catalog(&r.html).unwrap();
        assert!(text.contains("ETL Developer"), "{text}");
        assert!(text
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("Data Engineer\t0\t"));
        // the only ${ are the CSV columns
        assert_eq!(r.html.matches("${").count(), 9, "{}", r.html);
    }

    #[test]
    fn base85_roundtrips_and_stays_in_the_alphabet() {
        for len in 0..40usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 97 + len * 31) as u8).collect();
            let mut edge = bytes.clone();
            edge.iter_mut().for_each(|b| *b = 0xFF);
            for b in [bytes, edge] {
                let s = base85_encode(&b);
                assert!(s.bytes().all(|c| BASE85_ALPHABET.contains(&c)));
                assert!(!s.contains("${") && !s.contains("]]>") && !s.contains('<'));
                assert_eq!(base85_decode(&s).unwrap(), b, "len {len}");
            }
        }
        assert!(base85_decode("ab\"cd").is_none());
    }

    fn big_catalog(titles: usize, aliases: usize) -> TitleCatalog {
        let titles: Vec<CatalogTitle> = (0..titles)
            .map(|i| CatalogTitle {
                id: format!("title_number_{i}"),
                name: format!("Title Number {i}"),
                family: "fam".into(),
                definition: String::new(),
                aliases: (0..aliases)
                    .map(|a| {
                        // incompressible-ish words, like real aliases' variety
                        let h = jobshift_core::normalize::content_hash(&[
                            &i.to_string(),
                            &a.to_string(),
                        ]);
                        format!("{} {}", &h[..7], &h[7..12])
                    })
                    .collect(),
                level: None,
            })
            .collect();
        TitleCatalog::new("v", "o", vec![CatalogFamily::new("fam", "Fam")], titles)
    }

    #[test]
    fn big_taxonomy_fits_the_budget_with_every_name() {
        let c = big_catalog(650, 18);
        let budget = 50_000;
        let r = render_template(&c, budget).unwrap();
        assert!(r.html.len() <= budget, "{}", r.html.len());
        assert!(r.aliases_embedded > 0 && r.aliases_dropped > 0);
        assert_eq!(r.aliases_embedded + r.aliases_dropped, 650 * 18);
        let text = decode_embedded_catalog(&r.html).unwrap();
        assert_eq!(text.lines().count(), 651);
        assert!(text.contains("Title Number 649"));
        // one more alias would not fit: the budget is used
        let r2 = render_template(&c, r.html.len() - 200).unwrap();
        assert!(r2.aliases_embedded < r.aliases_embedded);
        // names alone too big for a tiny budget
        assert!(render_template(&c, 2_000).is_none());
    }

    #[test]
    fn row_growth_counts_escaped_values() {
        let row: [String; 9] =
            std::array::from_fn(|i| if i == 8 { "a<b".into() } else { String::new() });
        // "a&lt;b" is 6 bytes replacing "${description}" (14 bytes), once
        assert_eq!(row_growth("x ${description} y", &row), 0);
        let long: [String; 9] = std::array::from_fn(|i| {
            if i == 2 {
                "é".repeat(20)
            } else {
                String::new()
            }
        });
        // ${title} (8 bytes) -> 40 bytes, twice
        assert_eq!(row_growth("${title}${title}", &long), 64);
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
