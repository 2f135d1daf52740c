//! The companies file: a CSV with the header `name,ats,board,url` (`url` optional), one company
//! per row. Bad rows are reported with their line numbers and skipped; the others still run.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The applicant-tracking systems (and the schema.org fallback) a company can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ats {
    Greenhouse,
    Lever,
    Ashby,
    SmartRecruiters,
    Workable,
    Recruitee,
    Workday,
    JsonLd,
}

impl Ats {
    pub const ALL: [Ats; 8] = [
        Ats::Greenhouse,
        Ats::Lever,
        Ats::Ashby,
        Ats::SmartRecruiters,
        Ats::Workable,
        Ats::Recruitee,
        Ats::Workday,
        Ats::JsonLd,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Ats::Greenhouse => "greenhouse",
            Ats::Lever => "lever",
            Ats::Ashby => "ashby",
            Ats::SmartRecruiters => "smartrecruiters",
            Ats::Workable => "workable",
            Ats::Recruitee => "recruitee",
            Ats::Workday => "workday",
            Ats::JsonLd => "jsonld",
        }
    }
}

impl fmt::Display for Ats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Ats {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase().replace(['-', '_', ' '], "");
        let t = if t == "jsonld" || t == "schemaorg" {
            "jsonld".to_string()
        } else {
            t
        };
        Ats::ALL.into_iter().find(|a| a.name() == t).ok_or_else(|| {
            format!(
                "unknown ats {s:?}: expected one of {}",
                Ats::ALL.map(Ats::name).join(", ")
            )
        })
    }
}

/// One company to collect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    pub name: String,
    pub ats: Ats,
    /// Board token / site slug / tenant, as the ATS names it (may be empty when `url` is set).
    pub board: String,
    /// The listing endpoint to call instead of the one derived from `board`.
    pub url: Option<String>,
    /// 1-based line of the row in the companies file.
    pub line: u64,
    /// File-name-safe, unique form of the name (snapshots, state files).
    pub slug: String,
}

/// A row that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowProblem {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The parsed file: the companies to run and the rows that were skipped.
#[derive(Debug, Clone, Default)]
pub struct CompaniesFile {
    pub companies: Vec<Company>,
    pub problems: Vec<RowProblem>,
}

/// `Acme Corp.` → `acme-corp`; empty names become `company`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        // names in other scripts: a short stable hash keeps them apart
        out = format!("company-{}", &blake3::hash(name.as_bytes()).to_hex()[..8]);
    }
    out.truncate(80);
    out
}

/// Read a companies file. Errors that stop the run (unreadable file, no header, a header without
/// `name`/`ats`/`board`) are returned as Err; bad rows land in `problems`.
pub fn read_companies(path: &Path) -> Result<CompaniesFile, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read the companies file {}: {e}", path.display()))?;
    parse_companies(&bytes).map_err(|e| format!("companies file {}: {e}", path.display()))
}

/// Parse a companies CSV from bytes (see `read_companies`).
pub fn parse_companies(bytes: &[u8]) -> Result<CompaniesFile, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("cannot read the header: {e}"))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(c_name), Some(c_ats), Some(c_board)) = (col("name"), col("ats"), col("board")) else {
        return Err(format!(
            "the header must name the columns name,ats,board[,url]; found {:?}",
            header.join(",")
        ));
    };
    let c_url = col("url");
    let mut out = CompaniesFile::default();
    let mut names: HashMap<String, u64> = HashMap::new();
    let mut slugs: HashMap<String, (String, u64)> = HashMap::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                out.problems.push(RowProblem {
                    line,
                    message: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let field = |i: usize| rec.get(i).map(str::trim).unwrap_or("").to_string();
        let name = field(c_name);
        let ats_raw = field(c_ats);
        let board = field(c_board);
        let url = c_url.map(field).filter(|u| !u.is_empty());
        let mut problem = |message: String| out.problems.push(RowProblem { line, message });
        if name.is_empty() {
            problem("missing name".into());
            continue;
        }
        let ats = match ats_raw.parse::<Ats>() {
            Ok(a) => a,
            Err(e) => {
                problem(format!("{name}: {e}"));
                continue;
            }
        };
        if board.is_empty() && url.is_none() {
            problem(format!(
                "{name}: missing board and url (give the {ats} board token, or the listing URL)"
            ));
            continue;
        }
        if let Some(u) = &url {
            match url::Url::parse(u) {
                Ok(p) if matches!(p.scheme(), "http" | "https") => {}
                Ok(_) => {
                    problem(format!("{name}: url {u:?} is not http or https"));
                    continue;
                }
                Err(e) => {
                    problem(format!("{name}: url {u:?} is not a URL ({e})"));
                    continue;
                }
            }
        }
        if let Some(first) = names.get(&name.to_lowercase()) {
            problem(format!(
                "duplicate name {name:?} (first on line {first}); names must be unique"
            ));
            continue;
        }
        let s = slug(&name);
        if let Some((other, first)) = slugs.get(&s) {
            problem(format!(
                "name {name:?} gives the same file name ({s}) as {other:?} on line {first}; rename one"
            ));
            continue;
        }
        names.insert(name.to_lowercase(), line);
        slugs.insert(s.clone(), (name.clone(), line));
        out.companies.push(Company {
            name,
            ats,
            board,
            url,
            line,
            slug: s,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_rows_are_reported_with_their_lines_and_the_rest_kept() {
        let csv = "name,ats,board,url\n\
                   Acme,greenhouse,acme,\n\
                   Bolt,taleo,bolt,\n\
                   Cord,lever,,\n\
                   acme,lever,acme2,\n\
                   Dune,Lever,dune,https://api.eu.lever.co/v0/postings/dune\n\
                   Edge,jsonld,,ftp://edge.example/jobs\n\
                   Fjord,workday,,https://fjord.wd3.myworkdayjobs.com/wday/cxs/fjord/Ext/jobs\n";
        let f = parse_companies(csv.as_bytes()).unwrap();
        let names: Vec<_> = f.companies.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Acme", "Dune", "Fjord"]);
        assert_eq!(f.companies[1].ats, Ats::Lever);
        let lines: Vec<_> = f.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5, 7]);
        assert!(f.problems[0].message.contains("unknown ats \"taleo\""));
        assert!(f.problems[1].message.contains("missing board and url"));
        assert!(f.problems[2].message.contains("duplicate name"));
        assert!(f.problems[2].message.contains("line 2"));
        assert!(f.problems[3].message.contains("not http"));
    }

    #[test]
    fn url_column_is_optional_and_header_is_required() {
        let f = parse_companies(b"name,ats,board\nAcme,ashby,acme\n").unwrap();
        assert_eq!(f.companies.len(), 1);
        assert_eq!(f.companies[0].url, None);
        assert!(parse_companies(b"company,system\nAcme,ashby\n").is_err());
    }

    #[test]
    fn slugs_are_file_safe() {
        assert_eq!(slug("Acme Corp."), "acme-corp");
        assert_eq!(slug("  A/B  Testing "), "a-b-testing");
        assert!(slug("株式会社").starts_with("company-"));
    }
}
