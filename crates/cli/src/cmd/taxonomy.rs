//! `jobshift taxonomy`: browse, search and check the taxonomy of standardized titles
//! (list, show, search, stats, crosswalk, validate, export). Owns only flags and printing;
//! everything else is in the jobshift-taxonomy crate.

use anyhow::{bail, Context};
use jobshift_taxonomy::{Level, Taxonomy, Title};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Use the taxonomy in this directory (a copy of the repository's taxonomy/) instead of the built-in one
    #[arg(long, global = true, value_name = "DIR", env = "JOBSHIFT_TAXONOMY")]
    taxonomy: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// List titles (optionally of one family or level)
    List {
        /// Only this family id (see `jobshift taxonomy families`)
        #[arg(long)]
        family: Option<String>,
        /// Only this level: individual_contributor, manager, director, vp, c_suite
        #[arg(long)]
        level: Option<String>,
        /// Print a JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// List the job families
    Families {
        #[arg(long)]
        json: bool,
    },
    /// Show one title: definition, codes, aliases and the O*NET occupations crosswalked to it
    Show {
        /// Title id (e.g. machine_learning_engineer) or a title as written ("ML Engineer")
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Find titles by name or alias words, best first
    Search {
        /// Words to search for
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Counts per family and level, aliases, crosswalk coverage
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// The O*NET-SOC 2019 → title crosswalk
    Crosswalk {
        /// Print a JSON array of {onet_soc, onet_title, title_id}
        #[arg(long)]
        json: bool,
    },
    /// Check a taxonomy directory (default: --taxonomy, else the built-in one); lists every problem
    Validate {
        /// Taxonomy directory to check
        dir: Option<PathBuf>,
    },
    /// Write the built-in taxonomy files into DIR so you can edit your own copy
    Export {
        /// Directory to write (created if missing)
        dir: PathBuf,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Validate { dir } => validate(dir.or(args.taxonomy)),
        Command::Export { dir } => {
            jobshift_taxonomy::export_builtin(&dir)?;
            println!(
                "wrote the built-in taxonomy to {}; use it with --taxonomy {}",
                dir.display(),
                dir.display()
            );
            Ok(())
        }
        command => {
            let tax = load(args.taxonomy.as_ref())?;
            match command {
                Command::List {
                    family,
                    level,
                    json,
                } => list(&tax, family, level, json),
                Command::Families { json } => families(&tax, json),
                Command::Show { id, json } => show(&tax, &id, json),
                Command::Search { text, limit, json } => search(&tax, &text.join(" "), limit, json),
                Command::Stats { json } => stats(&tax, json),
                Command::Crosswalk { json } => crosswalk(&tax, json),
                Command::Validate { .. } | Command::Export { .. } => unreachable!("handled above"),
            }
        }
    }
}

fn load(dir: Option<&PathBuf>) -> anyhow::Result<Taxonomy> {
    Ok(match dir {
        Some(d) => Taxonomy::load_dir(d)?,
        None => Taxonomy::builtin()?,
    })
}

fn title_json(t: &Title) -> serde_json::Value {
    json!({
        "id": t.id, "name": t.name, "family": t.family, "sub_family": t.sub_family,
        "level": t.level.as_str(), "tier": t.tier().as_str(), "soc": t.soc, "onet_soc": t.onet_soc,
        "definition": t.definition, "aliases": t.aliases,
    })
}

/// Pretty JSON on stdout; a closed pipe (`| head`) ends quietly instead of panicking.
fn print_json(v: &serde_json::Value) -> anyhow::Result<()> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(v)?;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn list(
    tax: &Taxonomy,
    family: Option<String>,
    level: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    if let Some(f) = &family {
        if tax.family(f).is_none() {
            let ids: Vec<&str> = tax.families().iter().map(|f| f.id.as_str()).collect();
            bail!("unknown family `{f}`; families are: {}", ids.join(", "));
        }
    }
    let level: Option<Level> = match level {
        Some(l) => Some(l.parse().map_err(anyhow::Error::msg)?),
        None => None,
    };
    let titles: Vec<&Title> = tax
        .titles()
        .iter()
        .filter(|t| family.as_ref().is_none_or(|f| &t.family == f))
        .filter(|t| level.is_none_or(|l| t.level == l))
        .collect();
    if json {
        return print_json(&serde_json::Value::Array(
            titles.iter().map(|t| title_json(t)).collect(),
        ));
    }
    println!(
        "{:<40} {:<44} {:<26} {:<22} {:<10}",
        "ID", "NAME", "FAMILY", "LEVEL", "SOC"
    );
    for t in &titles {
        println!(
            "{:<40} {:<44} {:<26} {:<22} {:<10}",
            t.id,
            t.name,
            t.family,
            t.level.as_str(),
            t.soc
        );
    }
    eprintln!(
        "{} title(s); taxonomy {} ({})",
        titles.len(),
        tax.version(),
        tax.origin()
    );
    Ok(())
}

fn families(tax: &Taxonomy, json: bool) -> anyhow::Result<()> {
    let counts = family_counts(tax);
    if json {
        let v: Vec<_> = tax
            .families()
            .iter()
            .map(|f| json!({"id": f.id, "name": f.name, "description": f.description, "titles": counts.get(f.id.as_str()).copied().unwrap_or(0)}))
            .collect();
        return print_json(&serde_json::Value::Array(v));
    }
    for f in tax.families() {
        println!(
            "{:<30} {:>4}  {} — {}",
            f.id,
            counts.get(f.id.as_str()).copied().unwrap_or(0),
            f.name,
            f.description
        );
    }
    Ok(())
}

fn family_counts(tax: &Taxonomy) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for t in tax.titles() {
        *counts.entry(t.family.as_str()).or_insert(0) += 1;
    }
    counts
}

fn show(tax: &Taxonomy, id: &str, json: bool) -> anyhow::Result<()> {
    let title = match tax.get(id).or_else(|| tax.match_exact(id)) {
        Some(t) => t,
        None => {
            let suggestions: Vec<String> = tax
                .search(id, 5)
                .iter()
                .map(|t| format!("{} ({})", t.id, t.name))
                .collect();
            if let Some(r) = tax.retired().iter().find(|r| r.id == id) {
                bail!(
                    "`{id}` was retired in {}: {}{}",
                    r.retired_in_version,
                    r.reason,
                    r.replaced_by
                        .as_ref()
                        .map(|n| format!("; postings now count under `{n}`"))
                        .unwrap_or_default()
                );
            }
            if suggestions.is_empty() {
                bail!("no title `{id}`; try `jobshift taxonomy search WORDS`");
            }
            bail!("no title `{id}`; did you mean: {}", suggestions.join(", "));
        }
    };
    let onet: Vec<_> = tax
        .crosswalk()
        .iter()
        .filter(|e| e.title_id == title.id)
        .collect();
    if json {
        let mut v = title_json(title);
        v["crosswalked_onet"] = json!(onet
            .iter()
            .map(|e| json!({"onet_soc": e.onet_soc, "onet_title": e.onet_title}))
            .collect::<Vec<_>>());
        return print_json(&v);
    }
    let family = tax
        .family(&title.family)
        .map(|f| f.name.as_str())
        .unwrap_or("?");
    println!("{} ({})", title.name, title.id);
    println!("  {}", title.definition);
    println!(
        "  family:   {} ({}){}",
        family,
        title.family,
        title
            .sub_family
            .as_ref()
            .map(|s| format!(" / {s}"))
            .unwrap_or_default()
    );
    println!(
        "  level:    {} → tier {}",
        title.level.as_str(),
        title.tier().as_str()
    );
    println!("  soc:      {}   onet_soc: {}", title.soc, title.onet_soc);
    println!(
        "  aliases ({}): {}",
        title.aliases.len(),
        title.aliases.join("; ")
    );
    println!(
        "  O*NET occupations counted under it by default ({}):",
        onet.len()
    );
    for e in onet {
        println!("    {}  {}", e.onet_soc, e.onet_title);
    }
    Ok(())
}

fn search(tax: &Taxonomy, text: &str, limit: usize, json: bool) -> anyhow::Result<()> {
    let exact = tax.match_exact(text).map(|t| t.id.clone());
    let hits = tax.search(text, limit);
    if json {
        let v: Vec<_> = hits
            .iter()
            .map(|t| {
                let mut o = title_json(t);
                o["exact_match"] = json!(exact.as_deref() == Some(t.id.as_str()));
                o
            })
            .collect();
        return print_json(&serde_json::Value::Array(v));
    }
    if hits.is_empty() {
        println!("no title matches `{text}`");
    }
    for t in hits {
        let mark = if exact.as_deref() == Some(t.id.as_str()) {
            "= "
        } else {
            "  "
        };
        println!(
            "{mark}{:<40} {:<44} {:<26} {}",
            t.id,
            t.name,
            t.family,
            t.level.as_str()
        );
    }
    Ok(())
}

fn stats(tax: &Taxonomy, json: bool) -> anyhow::Result<()> {
    let by_family = family_counts(tax);
    let mut by_level: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_tier: BTreeMap<&str, usize> = BTreeMap::new();
    for t in tax.titles() {
        *by_level.entry(t.level.as_str()).or_insert(0) += 1;
        *by_tier.entry(t.tier().as_str()).or_insert(0) += 1;
    }
    let aliases: usize = tax.titles().iter().map(|t| t.aliases.len()).sum();
    let cw = tax.crosswalk();
    let titles_in_cw: std::collections::BTreeSet<&str> =
        cw.iter().map(|e| e.title_id.as_str()).collect();
    let mut cw_by_major: BTreeMap<&str, usize> = BTreeMap::new();
    for e in cw {
        *cw_by_major.entry(&e.onet_soc[..2]).or_insert(0) += 1;
    }
    if json {
        return print_json(&json!({
            "version": tax.version(), "origin": tax.origin(), "titles": tax.titles().len(),
            "families": tax.families().len(), "aliases": aliases,
            "titles_per_family": by_family, "titles_per_level": by_level, "titles_per_tier": by_tier,
            "crosswalk": {"onet_codes": cw.len(), "titles_targeted": titles_in_cw.len(), "onet_codes_per_soc_major": cw_by_major},
            "retired_ids": tax.retired().len(),
        }));
    }
    println!("taxonomy {} ({})", tax.version(), tax.origin());
    println!(
        "{} titles in {} families, {} aliases, {} retired ids",
        tax.titles().len(),
        tax.families().len(),
        aliases,
        tax.retired().len()
    );
    println!("\ntitles per family:");
    for f in tax.families() {
        println!(
            "  {:<32} {:>4}",
            f.id,
            by_family.get(f.id.as_str()).copied().unwrap_or(0)
        );
    }
    println!("\ntitles per level:");
    for l in Level::ALL {
        println!(
            "  {:<32} {:>4}",
            l.as_str(),
            by_level.get(l.as_str()).copied().unwrap_or(0)
        );
    }
    println!("\ntitles per tier:");
    for (k, v) in &by_tier {
        println!("  {:<32} {:>4}", k, v);
    }
    println!(
        "\ncrosswalk: {} O*NET-SOC 2019 codes → {} distinct titles; per SOC major group: {}",
        cw.len(),
        titles_in_cw.len(),
        cw_by_major
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}

fn crosswalk(tax: &Taxonomy, json: bool) -> anyhow::Result<()> {
    if json {
        let v: Vec<_> = tax
            .crosswalk()
            .iter()
            .map(|e| json!({"onet_soc": e.onet_soc, "onet_title": e.onet_title, "title_id": e.title_id}))
            .collect();
        return print_json(&serde_json::Value::Array(v));
    }
    for e in tax.crosswalk() {
        println!("{}\t{}\t{}", e.onet_soc, e.title_id, e.onet_title);
    }
    Ok(())
}

fn validate(dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (what, problems) = match &dir {
        Some(d) => (
            d.display().to_string(),
            jobshift_taxonomy::validate_dir(d)
                .with_context(|| format!("checking {}", d.display()))?,
        ),
        None => (
            "the built-in taxonomy".to_string(),
            jobshift_taxonomy::validate_builtin(),
        ),
    };
    if problems.is_empty() {
        let tax = load(dir.as_ref())?;
        println!(
            "{what}: OK — version {}, {} titles, {} families, {} O*NET codes crosswalked",
            tax.version(),
            tax.titles().len(),
            tax.families().len(),
            tax.crosswalk().len()
        );
        return Ok(());
    }
    for p in &problems {
        println!("{p}");
    }
    bail!(
        "{what}: {} problem(s); fix them and run `jobshift taxonomy validate` again",
        problems.len()
    )
}
