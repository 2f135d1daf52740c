//! Parity with Python sentence-transformers: every fixture text's embedding must have cosine
//! ≥ 0.9999 with the reference vector (tests/fixtures/reference_<model>.npy, written by
//! benches/encode/make_reference.py), and tokenization (token count and ids, hence truncation)
//! must match exactly. Skips (with a note) when the model is not installed; never needs Python.

use jobshift_encode::{
    cosine, io::read_npy, resolve_model, Encoder, LoadOptions, SentenceTransformer,
};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

const MIN_COSINE: f32 = 0.9999;

fn fixtures() -> PathBuf {
    jobshift_core::test_support::package_dir(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture_texts() -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("parity_texts.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect()
}

fn check_model(name: &str, options: LoadOptions, min_cos: f32) {
    let dir = match resolve_model(name) {
        Ok(d) => d,
        Err(e) => {
            jobshift_core::test_support::skip_missing(&format!(
                "the {name} model for the parity test ({e})"
            ));
            return;
        }
    };
    let texts = fixture_texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("reference_meta.json")).unwrap(),
    )
    .unwrap();
    let m = &meta["models"][name];
    let ((rows, dim), reference) =
        read_npy(&fixtures().join(format!("reference_{name}.npy"))).unwrap();
    assert_eq!(rows, texts.len());

    let model = SentenceTransformer::load(&dir, name, options).unwrap();
    assert_eq!(model.dim(), dim);
    assert_eq!(
        model.max_seq_length() as u64,
        m["max_seq_length"].as_u64().unwrap()
    );

    // tokenization, including truncation at max_seq_length, matches exactly
    let ids = model.tokenize(&refs).unwrap();
    for (i, ids) in ids.iter().enumerate() {
        assert_eq!(
            ids.len() as u64,
            m["token_counts"][i].as_u64().unwrap(),
            "token count of text {i}"
        );
        let bytes: Vec<u8> = ids.iter().flat_map(|x| x.to_le_bytes()).collect();
        let digest = hex::encode(Sha256::digest(&bytes));
        assert_eq!(
            digest,
            m["token_id_sha256"][i].as_str().unwrap(),
            "token ids of text {i}: {:?}",
            texts[i]
        );
    }

    let emb = model.encode(&refs).unwrap();
    let mut worst = (1.0f32, 0usize);
    for i in 0..rows {
        let c = cosine(emb.row(i), &reference[i * dim..(i + 1) * dim]);
        if c < worst.0 {
            worst = (c, i);
        }
    }
    eprintln!(
        "{name}: min cosine {:.7} (text {}) over {rows} texts",
        worst.0, worst.1
    );
    assert!(
        worst.0 >= min_cos,
        "{name}: text {} {:?} has cosine {} < {min_cos}",
        worst.1,
        texts[worst.1],
        worst.0
    );
}

#[test]
fn minilm_matches_sentence_transformers() {
    check_model("minilm", LoadOptions::default(), MIN_COSINE);
}

#[test]
fn mpnet_matches_sentence_transformers() {
    check_model("mpnet", LoadOptions::default(), MIN_COSINE);
}
