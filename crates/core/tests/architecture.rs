//! The house rules of issue 22, checked on the workspace's own source so that they cannot come
//! back unnoticed (an import cycle did, twice): no cycle between the top-level modules of any
//! crate, no function over 150 lines outside tests, and a thin CLI (under 2,000 lines).
//!
//! The source is read as text — the same heuristics as the review that set the rules: a
//! module's dependencies are the `crate::…` paths it names outside comments and its unit-test
//! module (names a crate's `lib.rs` re-exports count as the module they come from); a
//! function's length runs from its `fn` line to the line that closes its braces.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FUNCTION_LINES: usize = 150;
const MAX_CLI_LINES: usize = 2_000;

fn workspace() -> PathBuf {
    jobshift_core::test_support::package_dir(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every crate's `src` directory.
fn crate_sources() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace().join("crates"))
        .expect("crates/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path().join("src")))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The `.rs` files below `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("source directory is readable") {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A file's text before its unit-test module.
fn without_unit_tests(text: &str) -> &str {
    text.find("\nmod tests").map_or(text, |i| &text[..i])
}

/// A file's code without its unit-test module and without comment lines.
fn code_of(text: &str) -> String {
    without_unit_tests(text)
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifiers(s: &str) -> Vec<&str> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The names `lib.rs` re-exports (`pub use module::{A, B};`, `pub use module::A;`) → module.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for stmt in lib.split("pub use ").skip(1) {
        let Some(end) = stmt.find(';') else { continue };
        let path = &stmt[..end];
        let Some((module, rest)) = path.split_once("::") else {
            continue;
        };
        for name in identifiers(rest) {
            names.insert(name.to_string(), module.trim().to_string());
        }
    }
    names
}

/// Each top-level module of the crate at `src` → the crate's top-level modules it names.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    let names = reexports(&lib);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(src) {
        let rel = file.strip_prefix(src).expect("file below its crate");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .expect("a file name");
        if top == "lib" || top == "main" {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).expect("source is readable"));
        let deps = graph.entry(top.clone()).or_default();
        for after in code.split("crate::").skip(1) {
            let named: Vec<&str> = if let Some(group) = after.strip_prefix('{') {
                identifiers(group.split('}').next().unwrap_or(""))
            } else {
                identifiers(after).into_iter().take(1).collect()
            };
            for n in named {
                let module = names.get(n).map(String::as_str).unwrap_or(n);
                if module != top {
                    deps.insert(module.to_string());
                }
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    graph
}

/// A cycle in `graph` (its modules in order), if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // depth-first search; 1 = on the current path, 2 = done
    fn visit(
        v: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(v.to_string(), 1);
        path.push(v.to_string());
        for w in &graph[v] {
            match state.get(w.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|p| p == w).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(w.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(w, graph, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(v.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for v in graph.keys() {
        if !state.contains_key(v.as_str()) {
            if let Some(c) = visit(v, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// The functions of `text` (outside its unit-test module) longer than `max` lines: (name, line
/// of its `fn`, length).
fn long_functions(text: &str, max: usize) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = without_unit_tests(text).lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let words = identifiers(lines[i].split("//").next().unwrap_or(""));
        let fn_at = words.iter().position(|w| *w == "fn");
        let is_item = fn_at.is_some_and(|p| {
            words[..p]
                .iter()
                .all(|w| matches!(*w, "pub" | "crate" | "super" | "async" | "const" | "unsafe"))
                && p + 1 < words.len()
        });
        if !is_item || lines[i].trim_end().ends_with(';') {
            i += 1;
            continue;
        }
        let name = words[fn_at.unwrap_or(0) + 1].to_string();
        let (mut depth, mut started, mut j) = (0i64, false, i);
        while j < lines.len() {
            let code = strip_literals(lines[j]);
            let code = code.split("//").next().unwrap_or("");
            let opens = code.matches('{').count() as i64;
            depth += opens - code.matches('}').count() as i64;
            started |= opens > 0;
            if (started && depth <= 0) || (!started && code.trim_end().ends_with(';')) {
                break;
            }
            j += 1;
        }
        let len = j + 1 - i;
        if len > max {
            out.push((name, i + 1, len));
        }
        i += 1;
    }
    out
}

/// A line with its string and character literals emptied (their braces are not code).
fn strip_literals(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push('"');
            }
            '\'' => {
                // a character literal ('{', '\''), not a lifetime ('a)
                let rest: String = chars.clone().take(3).collect();
                let close = if rest.starts_with('\\') {
                    rest.chars().nth(2) == Some('\'')
                } else {
                    rest.chars().nth(1) == Some('\'')
                };
                if close {
                    let skip = if rest.starts_with('\\') { 3 } else { 2 };
                    for _ in 0..skip {
                        chars.next();
                    }
                    out.push_str("''");
                } else {
                    out.push('\'');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let mut cycles = Vec::new();
    for src in crate_sources() {
        let graph = module_graph(&src);
        if let Some(c) = find_cycle(&graph) {
            cycles.push(format!("{}: {}", src.display(), c.join(" -> ")));
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_check_sees_a_cycle_through_a_reexported_name() {
    let dir = std::env::temp_dir().join(format!("jobshift-arch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("lib.rs"),
        "mod a;\nmod b;\npub use a::{Alpha, Beta};\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("a.rs"),
        "use crate::b::helper;\npub struct Alpha;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.rs"),
        "// crate::a in a comment is not an import\nuse crate::{Alpha};\npub fn helper() {}\n",
    )
    .unwrap();
    let cycle = find_cycle(&module_graph(&dir));
    std::fs::write(dir.join("b.rs"), "pub fn helper() {}\n").unwrap();
    let none = find_cycle(&module_graph(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        cycle,
        Some(vec!["a".to_string(), "b".to_string(), "a".to_string()])
    );
    assert_eq!(none, None);
}

#[test]
fn no_function_outside_tests_is_over_150_lines() {
    let mut long = Vec::new();
    for src in crate_sources() {
        for file in rust_files(&src) {
            let text = std::fs::read_to_string(&file).expect("source is readable");
            for (name, line, len) in long_functions(&text, MAX_FUNCTION_LINES) {
                long.push(format!("{}:{line} {name} ({len} lines)", file.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_length_check_counts_a_function_to_its_closing_brace() {
    let body: String = (0..160)
        .map(|i| format!("    let x{i} = '{{';\n"))
        .collect();
    let text = format!(
        "pub(crate) fn long_one() {{\n{body}}}\n\nfn short() -> &'static str {{\n    \"}}\"\n}}\n"
    );
    assert_eq!(
        long_functions(&text, MAX_FUNCTION_LINES),
        vec![("long_one".to_string(), 1, 162)]
    );
    assert!(long_functions(&text, 200).is_empty());
}

#[test]
fn the_cli_stays_thin() {
    let lines: usize = rust_files(&workspace().join("crates/cli/src"))
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .expect("readable")
                .lines()
                .count()
        })
        .sum();
    assert!(
        lines < MAX_CLI_LINES,
        "crates/cli/src has {lines} lines; move logic a library user would need into the crates"
    );
}
