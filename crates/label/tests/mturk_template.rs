//! The Mechanical Turk question on the built-in taxonomy: every title, as many aliases as fit
//! Mechanical Turk's 65,535-byte question limit next to a full-size posting, and an embedded
//! catalog that decodes back to exactly what the manifest says.

use jobshift_label::catalog::TitleCatalog;
use jobshift_label::mturk::{
    decode_embedded_catalog, render_template, HTML_QUESTION_WRAPPER_BYTES, QUESTION_LIMIT_BYTES,
};

#[test]
fn builtin_taxonomy_picker_carries_every_title_and_most_aliases() {
    let catalog = TitleCatalog::from_taxonomy_source(None).unwrap();
    let total_aliases: usize = catalog.titles.iter().map(|t| t.aliases.len()).sum();
    // room for a 6,000-character description (+ title, company, ...) HTML-escaped
    let largest_row = 7_000;
    let budget = QUESTION_LIMIT_BYTES - HTML_QUESTION_WRAPPER_BYTES - largest_row;
    let r = render_template(&catalog, budget).unwrap();
    eprintln!(
        "built-in taxonomy {}: {} titles, {} of {} aliases ({:.1}%), template {} bytes, catalog {} bytes compressed",
        catalog.version,
        r.titles_embedded,
        r.aliases_embedded,
        total_aliases,
        100.0 * r.aliases_embedded as f64 / total_aliases as f64,
        r.html.len(),
        r.compressed_bytes
    );
    assert!(r.html.len() <= budget);
    assert_eq!(r.titles_embedded, catalog.titles.len());
    assert_eq!(r.aliases_embedded + r.aliases_dropped, total_aliases);
    // far beyond the ~1,000 aliases that plain JSON fitted
    assert!(
        r.aliases_embedded * 2 > total_aliases,
        "{}",
        r.aliases_embedded
    );
    let text = decode_embedded_catalog(&r.html).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), catalog.titles.len() + 1);
    let mut aliases = 0;
    for (t, line) in catalog.titles.iter().zip(&lines[1..]) {
        let parts: Vec<&str> = line.split('\t').collect();
        assert_eq!(parts[0], t.name);
        let got: Vec<&str> = parts[2].split('|').filter(|s| !s.is_empty()).collect();
        assert_eq!(
            got,
            t.aliases[..got.len()]
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
        );
        aliases += got.len();
    }
    assert_eq!(aliases, r.aliases_embedded);
}

/// The template in a real headless Chromium: the browser decodes the catalog and the picker finds
/// a title by one of its embedded aliases. SKIPS (with a note) without node, Chromium or
/// tests/browser/node_modules.
#[test]
fn template_picker_works_in_headless_chromium() {
    let root = jobshift_core::test_support::package_dir(env!("CARGO_MANIFEST_DIR")).join("../..");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let node_ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_ok
        || !std::path::Path::new(&chromium).exists()
        || !root
            .join("tests/browser/node_modules/playwright-core")
            .exists()
    {
        jobshift_core::test_support::skip_missing(&format!(
            "node, {chromium} or tests/browser/node_modules"
        ));
        return;
    }
    let catalog = TitleCatalog::from_taxonomy_source(None).unwrap();
    let budget = QUESTION_LIMIT_BYTES - HTML_QUESTION_WRAPPER_BYTES - 7_000;
    let r = render_template(&catalog, budget).unwrap();
    // an alias of the second round (not the first alias) of some title, to prove depth
    let (id, alias) = catalog
        .titles
        .iter()
        .find(|t| t.aliases.len() > 2 && t.id == "data_engineer")
        .or_else(|| catalog.titles.iter().find(|t| t.aliases.len() > 2))
        .map(|t| (t.id.clone(), t.aliases[1].clone()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mturk-question.html");
    std::fs::write(&file, &r.html).unwrap();
    let out = std::process::Command::new("node")
        .arg(root.join("tests/browser/mturk.test.mjs"))
        .arg(&file)
        .arg(&alias)
        .arg(&id)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.contains("OK"));
    assert!(stdout.contains(&format!("TITLES {}", catalog.titles.len())));
}
