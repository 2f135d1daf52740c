//! Driver for training / evaluation / throughput runs without building the whole CLI
//! (the numbers in docs/classifier-measurements.md come from it).
//!
//! ```text
//! cargo run -p jobshift-classify --example classify_bench -- train MODEL OUT [HEADS] [--no-alternates]
//!     [--rf-trees N] [--rf-per-class N] [--rf-pca DIMS]
//! cargo run -p jobshift-classify --example classify_bench -- speed CLASSIFIER TITLES_CSV [COLUMN] [LIMIT]
//! cargo run -p jobshift-classify --example classify_bench -- heads CLASSIFIER [ROWS]
//! cargo run -p jobshift-classify --example classify_bench -- knn CLASSIFIER [ROWS] [BATCH]
//! ```
//! `chunks CLASSIFIED_DIR [CHUNK_ROWS]` counts, on a classified dataset, the cleaned titles the
//! head scores when each chunk of postings is scored on its own (the cascade before it kept head
//! scores per run) against the distinct cleaned titles of the whole run (after).
//! `knn` times the kNN head's scan of every training row (the earlier path) against its scan
//! of the distinct training vectors on the same ROWS held-out titles, in calls of BATCH
//! titles, and checks they agree.
//! `speed` times every cascade step on a CSV column of raw titles (e.g. the HN titles);
//! `heads` times each saved head's scoring of ROWS validation titles (embeddings from the
//! persistent cache, so only the head is timed).

use jobshift_classify::classifier::{CascadeOptions, CascadeStats, Classifier, TitleInput};
use jobshift_classify::heads::Head;
use jobshift_classify::{train, HeadKind, HeadParams, TrainOptions};
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
            let flag = |name: &str| -> Option<usize> {
                args.iter()
                    .position(|a| a == name)
                    .and_then(|i| args.get(i + 1))
                    .and_then(|v| v.parse().ok())
            };
            let d = HeadParams::default();
            let params = HeadParams {
                rf_trees: flag("--rf-trees").map(|v| v as u16).unwrap_or(d.rf_trees),
                rf_max_per_class: flag("--rf-per-class").unwrap_or(d.rf_max_per_class),
                rf_pca_dims: flag("--rf-pca").unwrap_or(d.rf_pca_dims),
                ..d
            };
            let opts = TrainOptions {
                model: args[1].clone(),
                out: PathBuf::from(&args[2]),
                name: "bench".into(),
                heads,
                no_onet_alternates: args.iter().any(|a| a == "--no-alternates"),
                params,
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
        Some("alias") => {
            // re-measure the alias step's precision for an existing classifier and store it
            // as its alias confidence (what `train` now does itself)
            let dir = PathBuf::from(&args[1]);
            let path = dir.join("classifier.json");
            let mut meta: jobshift_classify::ClassifierMeta =
                serde_json::from_slice(&std::fs::read(&path)?)?;
            let tax = jobshift_taxonomy::Taxonomy::builtin()?;
            let (hits, right) = train::alias_precision_jobbert_validation(&tax)?;
            meta.alias_confidence = (right as f32 + 1.0) / (hits as f32 + 2.0);
            meta.scores["alias_validation"] = serde_json::json!({
                "hits": hits, "right": right, "confidence": meta.alias_confidence,
                "jobbert_validation_hits": hits, "jobbert_validation_right": right,
            });
            meta.write(&dir)?;
            println!(
                "alias step on JobBERT validation titles: {hits} hits, {right} right → alias confidence {:.3}",
                meta.alias_confidence
            );
        }
        Some("heads") => {
            let dir = PathBuf::from(&args[1]);
            let rows: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
            let c = Classifier::load(&dir)?;
            let key = format!("{}|{}", c.meta.model_id, c.meta.model);
            let mut cache =
                jobshift_classify::embed_cache::EmbedCache::persistent(&key, c.meta.dim)?;
            let text = std::fs::read_to_string(dir.join("validation.jsonl"))?;
            let titles: Vec<String> = text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v["title"].as_str().map(jobshift_classify::seniority::clean_title))
                .take(rows)
                .collect();
            let refs: Vec<&str> = titles.iter().map(|s| s.as_str()).collect();
            train::embed_all(&mut cache, c.encoder(), &refs, "embedding", true)?;
            cache.save(&key)?;
            let x = cache.matrix(&refs)?;
            for kind in HeadKind::ALL {
                let hd = dir.join("heads").join(kind.as_str());
                if !hd.join("head.json").is_file() {
                    println!("{kind:<9} not trained in {}", dir.display());
                    continue;
                }
                let h = Head::load(&hd)?;
                let _ = h.predict_proba(&x[..c.meta.dim.min(x.len())])?; // warm-up
                let t0 = Instant::now();
                let c0 = process_cpu_seconds();
                let p = h.predict_proba(&x)?;
                let s = t0.elapsed().as_secs_f64();
                let cpu = process_cpu_seconds() - c0;
                println!(
                    "{kind:<9} {} titles in {s:.3}s = {:>8.0} titles/s ({} threads); {cpu:.2} CPU-s = {:.0} titles per CPU-second{}",
                    refs.len(),
                    refs.len() as f64 / s,
                    rayon::current_num_threads(),
                    refs.len() as f64 / cpu.max(1e-9),
                    if p.is_empty() { " (empty)" } else { "" }
                );
                if let Head::Knn(k) = &h {
                    // the similarity product alone, for GFLOP/s
                    let q = &x[..(256 * c.meta.dim).min(x.len())];
                    let t0 = Instant::now();
                    let c0 = process_cpu_seconds();
                    let _ = jobshift_classify::heads::matmul_transposed(q, &k.vectors, c.meta.dim)?;
                    let s = t0.elapsed().as_secs_f64();
                    let cpu = process_cpu_seconds() - c0;
                    let flop = 2.0 * (q.len() as f64) * (k.vectors.len() / c.meta.dim) as f64;
                    println!(
                        "          similarity product {} × {}: {s:.3}s = {:.1} GFLOP/s wall, {:.1} GFLOP per CPU-second",
                        q.len() / c.meta.dim,
                        k.vectors.len() / c.meta.dim,
                        flop / s / 1e9,
                        flop / cpu.max(1e-9) / 1e9
                    );
                }
            }
        }
        Some("knn") => {
            let dir = PathBuf::from(&args[1]);
            let rows: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4000);
            let batch: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1024);
            let c = Classifier::load(&dir)?;
            let key = format!("{}|{}", c.meta.model_id, c.meta.model);
            let mut cache =
                jobshift_classify::embed_cache::EmbedCache::persistent(&key, c.meta.dim)?;
            let mut titles: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for set in ["validation.jsonl", "heldout_jobbert.jsonl"] {
                let text = std::fs::read_to_string(dir.join(set))?;
                for l in text.lines() {
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else {
                        continue;
                    };
                    if let Some(t) = v["title"].as_str() {
                        let t = jobshift_classify::seniority::clean_title(t);
                        if titles.len() < rows && seen.insert(t.clone()) {
                            titles.push(t);
                        }
                    }
                }
            }
            let refs: Vec<&str> = titles.iter().map(|s| s.as_str()).collect();
            train::embed_all(&mut cache, c.encoder(), &refs, "embedding", true)?;
            cache.save(&key)?;
            let x = cache.matrix(&refs)?;
            let hd = if c.meta.head == HeadKind::Knn {
                dir.join("head")
            } else {
                dir.join("heads").join("knn")
            };
            let Head::Knn(h) = Head::load(&hd)? else {
                return Err(format!("{} is not a kNN head", hd.display()).into());
            };
            let dim = c.meta.dim;
            let t0 = Instant::now();
            let distinct = h.index().len();
            println!(
                "{} training rows, {distinct} distinct vectors (index built in {:.3}s); {} titles in calls of {batch}, {} threads",
                h.labels.len(),
                t0.elapsed().as_secs_f64(),
                refs.len(),
                rayon::current_num_threads()
            );
            let time = |f: &dyn Fn(&[f32]) -> Vec<f32>| -> (Vec<f32>, f64, f64) {
                let t0 = Instant::now();
                let c0 = process_cpu_seconds();
                let mut p = Vec::new();
                for q in x.chunks(batch.max(1) * dim) {
                    p.extend(f(q));
                }
                (p, t0.elapsed().as_secs_f64(), process_cpu_seconds() - c0)
            };
            let every = |q: &[f32]| h.predict_proba_every_row(q).unwrap_or_default();
            let distinct_path = |q: &[f32]| h.predict_proba(q).unwrap_or_default();
            let _ = distinct_path(&x[..dim.min(x.len())]); // warm-up
            let (pa, sa, ca) = time(&every);
            let (pb, sb, cb) = time(&distinct_path);
            let n = refs.len() as f64;
            for (label, s, cpu) in [
                ("every training row (before)", sa, ca),
                ("distinct vectors (after)", sb, cb),
            ] {
                println!(
                    "{label:<28} {s:>8.3}s = {:>7.0} titles/s wall; {cpu:>7.2} CPU-s = {:>6.0} titles per CPU-second",
                    n / s,
                    n / cpu.max(1e-9)
                );
            }
            let k = h.k;
            let mut max_diff = 0f32;
            let mut argmax_diff = 0usize;
            for (ra, rb) in pa.chunks(k).zip(pb.chunks(k)) {
                for (a, b) in ra.iter().zip(rb) {
                    max_diff = max_diff.max((a - b).abs());
                }
                if jobshift_classify::heads::top_k(ra, 1) != jobshift_classify::heads::top_k(rb, 1)
                {
                    argmax_diff += 1;
                }
            }
            println!(
                "speed-up {:.2}x wall, {:.2}x CPU; agreement: {} rows each, max |Δp| {max_diff:.2e}, {argmax_diff} rows with another best class",
                sa / sb.max(1e-9),
                ca / cb.max(1e-9),
                pa.len() / k.max(1),
            );
        }
        Some("chunks") => {
            use arrow::array::{Array, StringArray};
            let root = PathBuf::from(&args[1]);
            let chunk: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(8192);
            let mut files: Vec<PathBuf> = std::fs::read_dir(&root)?
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .flat_map(|d| {
                    std::fs::read_dir(d)
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.ok())
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
                        .collect::<Vec<_>>()
                })
                .collect();
            files.sort();
            let mut per_chunk_sum = 0usize;
            let mut global = std::collections::HashSet::new();
            let (mut rows, mut title_rows) = (0usize, 0usize);
            for f in &files {
                let b = jobshift_classify::dataset::read_parquet(f)?;
                let col = |name: &str| {
                    b.column_by_name(name)
                        .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
                        .ok_or(format!("{}: no string column {name}", f.display()))
                };
                let (titles, methods) = (col("title")?, col("method")?);
                let n = b.num_rows();
                rows += n;
                let mut lo = 0;
                while lo < n {
                    let hi = (lo + chunk).min(n);
                    let mut distinct = std::collections::HashSet::new();
                    for i in lo..hi {
                        if methods.value(i) == "alias" {
                            continue;
                        }
                        title_rows += 1;
                        let t = if titles.is_null(i) { "" } else { titles.value(i) };
                        let c = jobshift_classify::seniority::clean_title(t);
                        if distinct.insert(c.clone()) {
                            global.insert(c);
                        }
                    }
                    per_chunk_sum += distinct.len();
                    lo = hi;
                }
            }
            println!(
                "{} files, {rows} postings, {title_rows} reach the title step; head rows scored per chunk of {chunk}: {per_chunk_sum}; distinct cleaned titles of the run: {} ({:.2}x fewer)",
                files.len(),
                global.len(),
                per_chunk_sum as f64 / global.len().max(1) as f64
            );
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
            "usage: classify_bench train MODEL OUT [HEADS] [--rf-trees N] [--rf-per-class N] [--rf-pca D] | speed CLASSIFIER CSV [COLUMN] [LIMIT] | heads CLASSIFIER [ROWS]"
        ),
    }
    Ok(())
}

/// CPU time (user + system) of this process so far, from /proc/self/stat (Linux; 0 elsewhere):
/// on a shared machine, work per CPU-second is what a busy neighbour does not distort.
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // fields after the parenthesized command name; utime and stime are the 12th and 13th
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}
