//! `jobshift label`: crowd labelling — `sample` tasks from a dataset, `serve` the labelling page,
//! `import` Mechanical Turk results and page answers into training labels.

use anyhow::Context;
use jobshift_label::catalog::TitleCatalog;
use jobshift_label::flags::{ImportArgs, LabelArgs, LabelCommand, SampleArgs, ServeArgs};
use jobshift_label::server::{self, ServeConfig};
use jobshift_label::tasks::TasksDir;

pub fn run(args: LabelArgs) -> anyhow::Result<()> {
    match args.command {
        LabelCommand::Sample(a) => sample(a),
        LabelCommand::Serve(a) => serve(a),
        LabelCommand::Import(a) => import(a),
    }
}

fn sample(a: SampleArgs) -> anyhow::Result<()> {
    let catalog = TitleCatalog::from_taxonomy_source(a.taxonomy.as_deref())?;
    let opts = a.options();
    let outcome = jobshift_label::sample::sample(&opts, &catalog)?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    print!("{}", outcome.text(&a.out));
    Ok(())
}

fn serve(a: ServeArgs) -> anyhow::Result<()> {
    let dir = TasksDir::new(&a.tasks_dir);
    let catalog =
        TitleCatalog::for_results(a.taxonomy.as_deref(), std::slice::from_ref(&a.tasks_dir))?;
    let (annotators, tokens_path, created) =
        server::annotators_for(&dir, a.tokens.as_deref(), a.annotators)?;
    if created {
        println!(
            "created {} with {} annotator tokens",
            tokens_path.display(),
            annotators.len()
        );
    }
    let (state, info) = server::open_app(ServeConfig {
        tasks_dir: a.tasks_dir.clone(),
        annotators: annotators.clone(),
        per_task: a.per_task,
        catalog,
    })?;
    for w in info.warnings(&dir.answers()) {
        eprintln!("warning: {w}");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let addr = format!("{}:{}", a.host, a.port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (port in use? try --port)"))?;
        let banner = server::Banner {
            addr: listener.local_addr()?,
            info: &info,
            answers: &dir.answers(),
            tokens: &tokens_path,
            annotators: &annotators,
        };
        print!("{banner}");
        server::serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server failed")
    })
}

fn import(a: ImportArgs) -> anyhow::Result<()> {
    let catalog = TitleCatalog::for_results(a.taxonomy.as_deref(), &a.results)?;
    let opts = a.options();
    let r = jobshift_label::import::import(&opts, &catalog)?;
    for m in &r.messages {
        eprintln!("note: {m}");
    }
    print!("{r}");
    Ok(())
}
