//! `jobshift serve DATASET_DIR [--bind ADDR] [--token TOKEN] [report options]`: flags, the live
//! classifier's wiring and printing only; the server is jobshift-serve.

use anyhow::Context;
use jobshift_classify::classifier::Classifier;
use jobshift_serve::flags::ServeArgs;
use jobshift_serve::{LiveClassifier, Source};
use std::sync::Arc;

/// The trained classifier behind `/api/classify` (a fresh embedding cache per request, so a
/// stream of distinct hostile titles cannot grow memory).
struct Live {
    classifier: Classifier,
}

impl LiveClassifier for Live {
    fn classify(
        &self,
        title: &str,
        description: Option<&str>,
    ) -> Result<serde_json::Value, String> {
        let c = &self.classifier;
        let p = c
            .classify_one(title, description)
            .map_err(|e| e.to_string())?;
        let name = |id: &str| c.title(id).map(|t| t.name.clone());
        Ok(serde_json::json!({
            "title_id": p.title_id,
            "title_name": name(&p.title_id),
            "confidence": p.confidence,
            "method": p.method,
            "seniority": p.seniority,
            "alternatives": p.alternatives.iter().map(|(id, s)| serde_json::json!({"id": id, "name": name(id), "score": s})).collect::<Vec<_>>(),
        }))
    }
}

pub fn run(a: ServeArgs) -> anyhow::Result<()> {
    jobshift_serve::check_bind(&a.bind, a.token.as_deref())?;
    if let Some(w) = jobshift_serve::token_warning(a.token.as_deref()) {
        eprintln!("{w}");
    }
    let mut config = a.config();
    if matches!(config.source, Source::Dataset { .. }) && a.analysis.memory_limit.0.is_some() {
        jobshift_core::memory::return_freed_memory_to_the_os();
    }
    let classifier_dir = a.classifier.clone().unwrap_or_else(|| {
        jobshift_classify::classifier_dir(jobshift_classify::DEFAULT_CLASSIFIER)
    });
    let loader: jobshift_serve::ClassifierLoader = Arc::new(move || {
        let c = Classifier::load(&classifier_dir).map_err(|e| {
            format!(
                "loading the classifier at {}: {e} (train one with `jobshift train`, or pass --classifier DIR)",
                classifier_dir.display()
            )
        })?;
        Ok(Arc::new(Live { classifier: c }) as Arc<dyn LiveClassifier>)
    });
    config.classifier = Some(loader);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let started = std::time::Instant::now();
        eprintln!("loading {} …", config.source.describe());
        let listener = jobshift_serve::bind(config.bind).await?;
        let state = jobshift_serve::open(config).await?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let t = state.current();
        eprintln!(
            "loaded in {:.1}s: {} titles, {} families, years {:?}",
            started.elapsed().as_secs_f64(),
            t.titles.len(),
            t.families.len(),
            t.years
        );
        println!("serving http://{addr}/ (API: http://{addr}/api/openapi.json)");
        if state.auth.required() {
            println!("token required: Authorization: Bearer … or sign in on the page");
        }
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        jobshift_serve::serve_on(state, listener, shutdown).await?;
        anyhow::Ok(())
    })
}
