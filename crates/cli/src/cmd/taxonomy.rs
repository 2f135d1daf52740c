//! `jobshift taxonomy`: browse, search and check the taxonomy of standardized titles
//! (list, show, search, stats, crosswalk, validate, export). Owns only flags and printing;
//! everything else is in the jobshift-taxonomy crate.

use anyhow::{bail, Context};
use jobshift_taxonomy::{views, Taxonomy};
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
