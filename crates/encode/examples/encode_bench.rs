//! Development benchmark without the CLI: `cargo run -p jobshift-encode --example encode_bench
//! -- MODEL FILE BATCH [LIMIT] [REPEAT]` prints texts/s and GFLOP/s (the same measurement as
//! `jobshift model bench`). `JOBSHIFT_ENCODER_ENGINE=candle` selects the candle path.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let model = args.get(1).map(String::as_str).unwrap_or("minilm");
    let file = args
        .get(2)
        .ok_or("usage: MODEL FILE BATCH [LIMIT] [REPEAT]")?;
    let batch: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(32);
    let limit: usize = args
        .get(4)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(usize::MAX);
    let repeat: usize = args.get(5).map(|s| s.parse()).transpose()?.unwrap_or(1);
    let text = std::fs::read_to_string(file)?;
    let texts: Vec<&str> = text.lines().take(limit).collect();
    let options = jobshift_encode::LoadOptions {
        batch_size: batch,
        max_batch_tokens: usize::MAX,
        ..Default::default()
    };
    let st = jobshift_encode::load_sentence_transformer(model, options)?;
    let r = jobshift_encode::bench::run(&st, &texts, repeat)?;
    println!(
        "{model} {file} batch {batch}: {} texts in {:.2}s = {:.1} texts/s, {:.1} GFLOP/s, tokens {} real / {} computed",
        r.texts, r.seconds, r.texts_per_s, r.gflops_per_s, r.tokens_real, r.tokens_padded
    );
    Ok(())
}
