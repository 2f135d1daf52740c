//! `jobshift taxonomy`: browse, search and check the taxonomy of standardized titles
//! (list, show, search, stats, crosswalk, validate, export). Owns only flags and printing;
//! everything else is in the jobshift-taxonomy crate.

use anyhow::{bail, Context};
use jobshift_taxonomy::flags::{TaxonomyArgs, TaxonomyCommand};
use jobshift_taxonomy::{views, Taxonomy};
use std::path::PathBuf;

pub fn run(args: TaxonomyArgs) -> anyhow::Result<()> {
    match args.command {
        TaxonomyCommand::Validate { dir } => validate(dir.or(args.taxonomy)),
        TaxonomyCommand::Export { dir } => {
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
                TaxonomyCommand::List {
                    family,
                    level,
                    json,
                } => list(&tax, family, level, json),
                TaxonomyCommand::Families { json } => families(&tax, json),
                TaxonomyCommand::Show { id, json } => show(&tax, &id, json),
                TaxonomyCommand::Search { text, limit, json } => {
                    search(&tax, &text.join(" "), limit, json)
                }
                TaxonomyCommand::Stats { json } => stats(&tax, json),
                TaxonomyCommand::Crosswalk { json } => crosswalk(&tax, json),
                TaxonomyCommand::Validate { .. } | TaxonomyCommand::Export { .. } => {
                    unreachable!("handled above")
                }
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
    let titles = views::titles(tax, family.as_deref(), level.as_deref())?;
    if json {
        let v = titles.iter().map(|t| views::title_json(t)).collect();
        return print_json(&serde_json::Value::Array(v));
    }
    print!("{}", views::TitleTable(&titles));
    eprintln!(
        "{} title(s); taxonomy {} ({})",
        titles.len(),
        tax.version(),
        tax.origin()
    );
    Ok(())
}

fn families(tax: &Taxonomy, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&views::families_json(tax));
    }
    print!("{}", views::FamilyTable(tax));
    Ok(())
}

fn show(tax: &Taxonomy, id: &str, json: bool) -> anyhow::Result<()> {
    let card = views::TitleCard {
        tax,
        title: views::lookup(tax, id)?,
    };
    if json {
        return print_json(&card.json());
    }
    print!("{card}");
    Ok(())
}

fn search(tax: &Taxonomy, text: &str, limit: usize, json: bool) -> anyhow::Result<()> {
    let hits = views::SearchHits::new(tax, text, limit);
    if json {
        return print_json(&hits.json());
    }
    print!("{hits}");
    Ok(())
}

fn stats(tax: &Taxonomy, json: bool) -> anyhow::Result<()> {
    let stats = views::Stats::of(tax);
    if json {
        return print_json(&stats.json());
    }
    print!("{stats}");
    Ok(())
}

fn crosswalk(tax: &Taxonomy, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&views::crosswalk_json(tax));
    }
    print!("{}", views::CrosswalkTable(tax));
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
