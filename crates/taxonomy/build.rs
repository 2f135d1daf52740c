//! Embeds the taxonomy data files (repo-root `taxonomy/`) into the library, so `jobshift` works
//! from any directory. Generates `$OUT_DIR/builtin_files.rs`: a sorted list of
//! `(path relative to taxonomy/, include_str!(absolute path))`, and asks Cargo to rebuild when any
//! file under `taxonomy/` changes (Cargo scans a watched directory recursively).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let data_dir = manifest.join("..").join("..").join("taxonomy");
    println!("cargo:rerun-if-changed={}", data_dir.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for top in ["taxonomy.toml", "families.csv", "retired.csv"] {
        let p = data_dir.join(top);
        if p.is_file() {
            files.push((top.to_string(), p));
        }
    }
    for sub in ["titles", "crosswalk"] {
        collect_csv(&data_dir.join(sub), sub, &mut files);
    }
    files.sort();

    let mut out = String::from(
        "/// Every taxonomy data file embedded at build time: (path relative to `taxonomy/`, contents).\n\
         pub(crate) static BUILTIN_FILES: &[(&str, &str)] = &[\n",
    );
    for (rel, abs) in &files {
        println!("cargo:rerun-if-changed={}", abs.display());
        let abs = abs.canonicalize().unwrap_or_else(|_| abs.clone());
        writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .expect("write to String");
    }
    out.push_str("];\n");
    let out_path = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("builtin_files.rs");
    std::fs::write(&out_path, out).expect("write builtin_files.rs into OUT_DIR");
}

fn collect_csv(dir: &Path, prefix: &str, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_csv = path.extension().and_then(|e| e.to_str()) == Some("csv");
        if path.is_file() && is_csv {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                files.push((format!("{prefix}/{name}"), path.clone()));
            }
        }
    }
}
