//! `jobshift train|eval|finetune|classify|classify-titles`: flags and printing only; the work is
//! in jobshift-classify.

use anyhow::{bail, Context};
use jobshift_classify::classifier::{CascadeOptions, CascadeStats, Classifier};
use jobshift_classify::flags::{
    classifier_path, ClassifyArgs, ClassifyTitlesArgs, EvalArgs, FinetuneArgs, TrainArgs,
};
use jobshift_classify::seniority::CleaningRules;
use jobshift_classify::{eval, examples, finetune, title_file, train as tr, HeadKind};
use jobshift_encode::flags::DeviceArgs;
use std::path::{Path, PathBuf};

fn load_classifier(
    arg: &Option<PathBuf>,
    head: Option<HeadKind>,
    device: &DeviceArgs,
) -> anyhow::Result<Classifier> {
    let dir = classifier_path(arg.as_deref())?;
    let options = device.load_options(None)?;
    Classifier::load_on(&dir, head, None, options).with_context(|| {
        format!(
            "loading the classifier at {} (train one with `jobshift train`{})",
            dir.display(),
            if arg.is_some() { " --out DIR" } else { "" }
        )
    })
}

pub fn train(a: TrainArgs) -> anyhow::Result<()> {
    let opts = a.options()?;
    let rep = tr::train(&opts)?;
    for lf in &rep.label_files {
        if !lf.rejected.is_empty() {
            eprintln!(
                "{}: {} accepted, {} rejected:",
                lf.file,
                lf.accepted,
                lf.rejected.len()
            );
            for r in lf.rejected.iter().take(20) {
                eprintln!("  {r}");
            }
        }
    }
    print!("{rep}");
    if let Ok(meta) = jobshift_classify::ClassifierMeta::read(&rep.dir) {
        print!("{}", meta.thresholds());
    }
    println!("took {:.1}s", rep.seconds);
    Ok(())
}

pub fn eval(a: EvalArgs) -> anyhow::Result<()> {
    if !a.labels.is_empty() {
        return eval_labels(&a);
    }
    let dir = classifier_path(a.classifier.as_deref())?;
    let shared = a
        .shared_data
        .clone()
        .or_else(|| std::env::current_dir().ok().and_then(|d| jobshift_classify::find_shared_data(&d)))
        .context("the held-out sets live in the shared data directory; pass --shared-data DIR or set JOBSHIFT_SHARED_DATA")?;
    if a.descriptions {
        return eval_descriptions(&a, &dir, &shared);
    }
    let seen = eval::training_titles(&dir)?;
    let sets = examples::load_held_out(&shared, &seen)?;
    if sets.is_empty() {
        bail!("no held-out sets found under {}", shared.display());
    }
    let heads = heads(&a, &dir)?;
    let cleaning = CleaningRules::skipping(&a.skip_cleaning);
    let (rows, confusion) = eval::held_out(&dir, &sets, &heads, !a.no_alias, cleaning, |head| {
        load_classifier(&a.classifier, head, &a.device)
    })?;
    print!("{}", eval::render_table(&rows));
    for r in &rows {
        println!("{}", r.steps_line());
        if a.details {
            print!("{}", r.details());
        }
    }
    // Without --json the evaluation refreshes the classifier's stored one (eval.json and the
    // confusion.json that `report --corrected` reads). With --json it is a side measurement (a
    // benchmark, another head): both files go where the user pointed, and the classifier
    // directory is left as it was.
    let (out, confusion_out) = match &a.json {
        Some(p) => (p.clone(), p.with_extension("confusion.json")),
        None => (dir.join("eval.json"), dir.join("confusion.json")),
    };
    if confusion.is_empty() {
        jobshift_core::atomic::write_json(&out, &rows)
            .with_context(|| format!("writing {}", out.display()))?;
    } else {
        tr::write_eval_to(&out, &confusion_out, &rows, &confusion)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    println!(
        "scores written to {}; confusion matrix in {}",
        out.display(),
        confusion_out.display()
    );
    Ok(())
}

/// `jobshift eval --labels`: the classifier on the user's own labelled postings, with the
/// cascade `jobshift classify` uses; writes scores and the confusion matrix by title.
fn eval_labels(a: &EvalArgs) -> anyhow::Result<()> {
    let mut c = load_classifier(&a.classifier, a.head()?, &a.device)?;
    if a.recalibrate_to.is_some() {
        // fit on the confidences without any earlier re-fit
        c.meta.recalibration = None;
    }
    let opts = CascadeOptions {
        use_alias: !a.no_alias,
        use_description: !a.no_description && c.default_options().use_description,
        ..c.default_options()
    };
    let study = eval::label_study(
        &c,
        &a.labels,
        &opts,
        a.confusion_out.clone(),
        a.json.clone(),
    )?;
    for r in &study.reports {
        if r.none_fits > 0 {
            println!(
                "{}: {} labelled examples, {} none_fits (not scored; remembered by a re-fit)",
                r.file, r.accepted, r.none_fits
            );
        } else {
            println!("{}: {} labelled examples", r.file, r.accepted);
        }
        for line in r.rejected.iter().take(5) {
            eprintln!("  rejected {line}");
        }
        if r.rejected.len() > 5 {
            eprintln!("  ... {} rejected lines in all", r.rejected.len());
        }
    }
    let scores = &study.scores;
    print!("{}", eval::render_table(std::slice::from_ref(scores)));
    println!("{}", scores.labels_line());
    if a.details {
        println!("  most confused (gold → predicted):");
        for p in scores.most_confused.iter().take(15) {
            println!("    {:>5}  {} → {}", p.count, p.gold, p.predicted);
        }
    }
    if let Some(to) = &a.recalibrate_to {
        let population = if a.no_population_head {
            None
        } else {
            // the population head learns from the none_fits labels too
            let labelled: Vec<_> = study
                .items
                .iter()
                .chain(&study.none_fits)
                .cloned()
                .collect();
            eprintln!("fitting the population head on {} labelled postings (their titles, the cascade's answers, and the descriptions where it abstained; descriptions about 40 a second on 2 cores)", labelled.len());
            jobshift_classify::fit_population(&c, &labelled, &opts)?
        };
        let meta = jobshift_classify::write_recalibrated_classifier(
            &classifier_path(a.classifier.as_deref())?,
            to,
            c.meta.head,
            &scores.outcomes,
            a.labels.iter().map(|p| p.display().to_string()).collect(),
            // the population head learns what the remap would move; the remap serves re-fits without one
            !a.no_remap && population.is_none(),
            population.as_ref(),
        )?;
        println!(
            "recalibrated classifier: {} (alias confidence {:.3} → {:.3}, min_confidence {:.3} → {:.3})",
            to.display(),
            c.meta.alias_confidence,
            meta.alias_confidence,
            c.meta.min_confidence,
            meta.min_confidence
        );
        if !a.no_population_head {
            match meta
                .recalibration
                .as_ref()
                .and_then(|r| r.population_head.as_ref())
            {
                Some(p) => {
                    println!(
                        "  population head: {} labelled postings{}, {} titles, {} descriptions read where the cascade abstained; cross-fitted title accuracy {:.3} (the cascade's {:.3}), L2 penalty {} (cross-fitted log-loss {:.3})",
                        p.postings,
                        if p.none_fits > 0 {
                            format!(" ({} none_fits)", p.none_fits)
                        } else {
                            String::new()
                        },
                        p.classes.len(),
                        p.described,
                        p.cross_fit_accuracy,
                        p.cascade_accuracy,
                        p.l2_penalty,
                        p.cross_fit_log_loss
                    );
                    if let Some(floor) = p.described_floor {
                        println!(
                            "  an abstention is read only when its description is as like a labelled abstention's as theirs are to each other (cosine {floor:.3} or more; {} labelled abstentions with a description)",
                            p.described
                        );
                    }
                    println!(
                        "  on the {} the cascade answered: head {:.3}, cascade {:.3} — {}",
                        p.answered,
                        p.answered_cross_fit_accuracy,
                        p.answered_cascade_accuracy,
                        if p.moves_answers {
                            "the head moves answers and fills abstentions"
                        } else {
                            "the head only fills abstentions"
                        }
                    );
                }
                None => println!(
                    "  population head: none (fewer than {} labelled postings)",
                    jobshift_classify::population::MIN_POSTINGS
                ),
            }
        }
        for (from, r) in meta.recalibration.iter().flat_map(|r| &r.remap) {
            println!(
                "  remapped {from} → {}: {} of {} labelled postings predicted {from} were labelled {}, {} {from}",
                r.to, r.labelled_to, r.predicted, r.to, r.labelled_same
            );
        }
    }
    println!(
        "confusion matrix: {} (use: jobshift report DATASET --confusion {0})\nscores: {}",
        study.confusion_path.display(),
        study.scores_path.display()
    );
    Ok(())
}

/// The heads `--head` names in `dir`, with a note for each head `--head all` finds missing.
fn heads(a: &EvalArgs, dir: &Path) -> anyhow::Result<Vec<Option<HeadKind>>> {
    let (have, missing) = a.heads(dir)?;
    for h in missing {
        eprintln!(
            "note: {} has no {} head (not trained); skipped",
            dir.display(),
            h.as_str()
        );
    }
    Ok(have)
}

/// `jobshift eval --descriptions`: the description step on posting sets with descriptions.
fn eval_descriptions(a: &EvalArgs, dir: &Path, shared: &Path) -> anyhow::Result<()> {
    let heads = heads(a, dir)?;
    let first = load_classifier(&a.classifier, heads[0], &a.device)?;
    let (sets, notes) = examples::description_sets(
        first.taxonomy(),
        shared,
        a.generated.as_deref(),
        &a.generic_title,
        a.max_postings,
    )?;
    for n in notes {
        eprintln!("note: {n}");
    }
    if sets.is_empty() {
        bail!("no posting set with descriptions (HN full text not found; pass --generated DIR)");
    }
    for s in &sets {
        println!("{}: {} postings", s.name, s.items.len());
    }
    drop(first);
    let mut load = |head: Option<HeadKind>| {
        load_classifier(&a.classifier, head, &a.device)
            .map_err(|e| jobshift_classify::ClassifyError::Format(format!("{e:#}")))
    };
    let eval::DescriptionStudy { mut rows, sweep } = eval::description_study(
        &mut load,
        &sets,
        &heads,
        &a.generic_title,
        &a.margins,
        &mut |set, head| eprintln!("  {set} / {head}: done"),
    )?;
    println!("description step (exact = predicted title is the gold title; desc% = share decided by the description step):");
    print!("{}", eval::render_posting_table(&rows));
    println!(
        "ambiguity-margin sweep ({} head):",
        sweep.first().map(|r| r.head.as_str()).unwrap_or("-")
    );
    print!("{}", eval::render_posting_table(&sweep));
    let out = a
        .json
        .clone()
        .unwrap_or_else(|| dir.join("eval_descriptions.json"));
    rows.extend(sweep);
    jobshift_core::atomic::write_json(&out, &rows)
        .with_context(|| format!("writing {}", out.display()))?;
    println!("scores written to {}", out.display());
    Ok(())
}

pub fn finetune(a: FinetuneArgs) -> anyhow::Result<()> {
    let opts = a.options()?;
    let rep = finetune::finetune(&opts)?;
    print!("{rep}");
    Ok(())
}

/// `jobshift classify`: the classifier's flags, and `--cluster`.
#[derive(clap::Args)]
pub struct ClassifyCommand {
    #[command(flatten)]
    pub local: ClassifyArgs,
    /// With --cluster: the executors classify the postings (each loads the classifier once,
    /// from the same path, on its CPU) and this machine writes DATASET_DIR/classified
    #[command(flatten)]
    pub cluster: super::cluster::ClusterArgs,
}

/// Postings files a cluster classifies at once (each is one query; a file is one task).
const CLUSTER_FILES_IN_FLIGHT: usize = 8;

/// `jobshift classify --cluster`: the cascade runs on the executors.
fn classify_on_cluster(
    a: &ClassifyArgs,
    url: &jobshift_cluster::ClusterUrl,
    timeout_secs: u64,
) -> anyhow::Result<()> {
    if a.device.is_gpu()? {
        bail!(
            "--device applies to a local run: on a cluster the executors run the encoder on \
             their CPUs; leave --device out, or classify locally on the GPU"
        );
    }
    let dir = classifier_path(a.classifier.as_deref())?;
    let cascade = a
        .cascade_override(&dir)
        .with_context(|| format!("reading the classifier at {}", dir.display()))?;
    let target = super::write_target(&a.dataset_dir, "classify --cluster")?;
    let opts = jobshift_cluster::classify::ClusterClassifyOptions {
        classifier_dir: dir,
        cascade,
        force: a.force,
        files_in_flight: CLUSTER_FILES_IN_FLIGHT,
        progress: true,
        read_from: target.url().map(|u| u.to_string()),
    };
    let dataset = target.dir().to_path_buf();
    let rep = super::cluster::on_cluster(url, timeout_secs, |ctx| async move {
        jobshift_cluster::classify::classify_dataset(&ctx, &dataset, &opts).await
    })?;
    print!("{}", rep.summary(target.dir()));
    println!("  (classified on the cluster {url})");
    target.finish(&mut |m| println!("{m}"))?;
    Ok(())
}

pub fn classify(command: ClassifyCommand) -> anyhow::Result<()> {
    let a = command.local;
    if let Some(url) = &command.cluster.cluster {
        return classify_on_cluster(&a, url, command.cluster.cluster_timeout);
    }
    let c = load_classifier(&a.classifier, None, &a.device)?;
    let opts = a.options(&c)?;
    let target = super::write_target(&a.dataset_dir, "classify")?;
    let rep = jobshift_classify::classify_dataset(target.dir(), &c, &opts)?;
    print!("{}", rep.summary(target.dir()));
    target.finish(&mut |m| println!("{m}"))?;
    Ok(())
}

pub fn classify_titles(a: ClassifyTitlesArgs) -> anyhow::Result<()> {
    let c = load_classifier(&a.classifier, a.head()?, &a.device)?;
    let records = title_file::read_title_file(&a.input)?;
    let mut opts = c.default_options();
    opts.description_alone |= a.description_alone;
    opts.cleaning = CleaningRules::skipping(&a.skip_cleaning);
    if let Some(m) = a.min_confidence {
        opts.min_confidence = m;
    }
    let mut cache = c.new_cache();
    let mut stats = CascadeStats::default();
    let started = std::time::Instant::now();
    let out = title_file::classify_records(&c, &records, &mut cache, &opts, &mut stats)?;
    title_file::write_predictions(&a.output, &c, &records, &out)?;
    eprintln!(
        "{} titles → {} ({} by alias, {} embedded, {} by description, {} unclassified)",
        out.len(),
        a.output.display(),
        stats.alias_hits,
        stats.title_embedded,
        stats.description_used,
        stats.unclassified
    );
    eprintln!(
        "  title field names no role: {}; in a script the encoder cannot read: {}; role read from the description: {}; description alone: {}; several roles: {}; role inside the title field: {}; title before a separator: {} (kept over the embedding's title of another kind: {}); the title a header's later part names: {}; specialty of a lead: {}; title after a technology: {}; best title refused for its head word: {} (then the title it ends with: {})",
        stats.not_a_title, stats.unsupported_script, stats.role_from_description, stats.description_only, stats.several_roles, stats.role_in_title, stats.leading_title, stats.leading_title_kept, stats.header_title, stats.lead_specialty, stats.technology_title, stats.head_word_refused, stats.trailing_title
    );
    if stats.remapped > 0 {
        eprintln!("  moved by the re-fit's remap: {}", stats.remapped);
    }
    eprint!("{}", stats.step_times(started.elapsed().as_secs_f64()));
    Ok(())
}
