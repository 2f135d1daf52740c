//! Driver for training / evaluation / throughput runs without building the whole CLI
//! (the numbers in docs/classifier.md come from it).
//!
//! ```text
//! cargo run -p jobshift-classify --example classify_bench -- train MODEL OUT [HEADS] [--no-alternates]
//! cargo run -p jobshift-classify --example classify_bench -- speed CLASSIFIER TITLES_CSV [COLUMN] [LIMIT]
//! ```
//! `speed` times every cascade step on a CSV column of raw titles (e.g. the HN titles).

use jobshift_classify::classifier::{CascadeOptions, CascadeStats, Classifier, TitleInput};
use jobshift_classify::{train, HeadKind, TrainOptions};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(|s| s.as_str()) {
        Some("train") => {
            let heads: Vec<HeadKind> = match args.get(3).filter(|s| !s.starts_with("--")) {
                Some(h) => h.split(',').map(|x| x.parse()).collect::<Result<_, _>>()?,
                None => HeadKind::ALL.to_vec(),
            };
            let opts = TrainOptions {
                model: args[1].clone(),
                out: PathBuf::from(&args[2]),
                name: "bench".into(),
                heads,
                no_onet_alternates: args.iter().any(|a| a == "--no-alternates"),
                ..Default::default()
            };
            let rep = train(&opts)?;
            println!("{}", serde_json::to_string_pretty(&rep.heads)?);
            print!("{}", jobshift_classify::eval::render_table(&rep.held_out));
            for s in &rep.held_out {
                println!(
                    "{} {}: {:?}",
                    s.set,
                    s.head,
                    s.methods
                        .iter()
                        .map(|(k, v)| (k.clone(), v.share, v.top1))
                        .collect::<Vec<_>>()
                );
            }
        }
        Some("speed") => {
            let c = Classifier::load(&PathBuf::from(&args[1]))?;
            let col = args.get(3).cloned().unwrap_or_else(|| "job_title".into());
            let limit: usize = args
                .get(4)
                .and_then(|s| s.parse().ok())
                .unwrap_or(usize::MAX);
            let mut rdr = csv::Reader::from_path(&args[2])?;
            let hdr = rdr.headers()?.clone();
            let ci = hdr.iter().position(|h| h == col).ok_or("no such column")?;
            let di = hdr.iter().position(|h| h == "text");
            let mut rows: Vec<(String, Option<String>)> = Vec::new();
            for r in rdr.records().take(limit) {
                let r = r?;
                rows.push((
                    r.get(ci).unwrap_or("").to_string(),
                    di.and_then(|d| r.get(d)).map(str::to_string),
                ));
            }
            let inputs: Vec<TitleInput> = rows
                .iter()
                .map(|(t, d)| TitleInput {
                    title: t,
                    description: d.as_deref(),
                })
                .collect();
            for (label, o) in [
                ("alias only (no embedding)", None),
                (
                    "alias + title embedding",
                    Some(CascadeOptions {
                        use_description: false,
                        ..c.default_options()
                    }),
                ),
                (
                    "title embedding, no alias",
                    Some(CascadeOptions {
                        use_alias: false,
                        use_description: false,
                        ..c.default_options()
                    }),
                ),
                (
                    "full cascade (description when ambiguous)",
                    Some(c.default_options()),
                ),
            ] {
                let mut stats = CascadeStats::default();
                let t0 = Instant::now();
                match o {
                    None => {
                        let n = inputs
                            .iter()
                            .filter(|i| {
                                c.taxonomy().match_exact(i.title).is_some()
                                    || c.taxonomy()
                                        .match_exact(&jobshift_classify::seniority::clean_title(
                                            i.title,
                                        ))
                                        .is_some()
                            })
                            .count();
                        let s = t0.elapsed().as_secs_f64();
                        println!(
                            "{label:<45} {:>8} postings, {n} alias hits, {:>10.0} postings/s",
                            inputs.len(),
                            inputs.len() as f64 / s
                        );
                        continue;
                    }
                    Some(o) => {
                        let mut cache = c.new_cache();
                        for chunk in inputs.chunks(8192) {
                            c.classify(chunk, &mut cache, &o, &mut stats)?;
                        }
                    }
                }
                let s = t0.elapsed().as_secs_f64();
                println!(
                    "{label:<45} {:>8} postings in {s:.1}s = {:>8.0} postings/s | alias {} embedded {} cache-hits {} description {} | alias {:.2}s encode {:.2}s head {:.2}s desc {:.2}s",
                    inputs.len(),
                    inputs.len() as f64 / s,
                    stats.alias_hits,
                    stats.title_embedded,
                    stats.title_cache_hits,
                    stats.description_used,
                    stats.alias_time.as_secs_f64(),
                    stats.title_encode_time.as_secs_f64(),
                    stats.title_head_time.as_secs_f64(),
                    stats.description_time.as_secs_f64()
                );
            }
        }
        _ => eprintln!(
            "usage: classify_bench train MODEL OUT [HEADS] | speed CLASSIFIER CSV [COLUMN] [LIMIT]"
        ),
    }
    Ok(())
}
