//! Each validation rule, broken on purpose in a temporary copy of the built-in taxonomy, gives an
//! error naming the file and the line (and a fix), and the taxonomy refuses to load.

use jobshift_taxonomy::{export_builtin, validate_dir, Problem, Taxonomy, TaxonomyError};
use std::fs;
use std::path::Path;

/// A fresh editable copy of the built-in taxonomy.
fn copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    export_builtin(dir.path()).expect("export builtin");
    dir
}

/// Append one line to `rel` and return its 1-based line number.
fn append(dir: &Path, rel: &str, line: &str) -> u64 {
    let path = dir.join(rel);
    let mut text = fs::read_to_string(&path).expect("read");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    fs::write(&path, &text).expect("write");
    text.lines().count() as u64
}

/// Replace the first occurrence of `from` in `rel` and return the 1-based line it was on.
fn replace(dir: &Path, rel: &str, from: &str, to: &str) -> u64 {
    let path = dir.join(rel);
    let text = fs::read_to_string(&path).expect("read");
    let at = text
        .find(from)
        .unwrap_or_else(|| panic!("`{from}` not in {rel}"));
    let line = text[..at].matches('\n').count() as u64 + 1;
    fs::write(&path, text.replacen(from, to, 1)).expect("write");
    line
}

/// Assert the copy fails validation with a problem at `file:line` whose message contains `needle`.
fn expect_problem(dir: &Path, file: &str, line: Option<u64>, needle: &str) -> Problem {
    let problems = validate_dir(dir).expect("readable");
    // the problem is reported at file:line, or at the other row and names file:line
    let here = format!("{file}:{}", line.unwrap_or(0));
    let found = problems.iter().find(|p| {
        p.message.contains(needle)
            && ((p.file == file && p.line == line) || (line.is_some() && p.message.contains(&here)))
    });
    let Some(p) = found else {
        panic!(
            "expected a problem at {file}:{line:?} containing `{needle}`; got:\n{}",
            problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    assert!(!p.fix.is_empty(), "problem has no fix: {p}");
    match Taxonomy::load_dir(dir) {
        Err(TaxonomyError::Invalid { problems, .. }) => assert!(!problems.is_empty()),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a broken taxonomy loaded"),
    }
    p.clone()
}

const ROW_TAIL: &str = "15-1252,15-1252.00,A test title.,";

#[test]
fn untouched_copy_is_valid() {
    let dir = copy();
    let problems = validate_dir(dir.path()).expect("readable");
    assert!(problems.is_empty(), "{problems:?}");
    let tax = Taxonomy::load_dir(dir.path()).expect("loads");
    assert_eq!(
        tax.titles().len(),
        Taxonomy::builtin().expect("builtin").titles().len()
    );
}

#[test]
fn duplicate_id() {
    let dir = copy();
    let line = append(
        dir.path(),
        "titles/sales.csv",
        &format!("software_engineer,Some New Title,individual_contributor,,{ROW_TAIL}"),
    );
    let p = expect_problem(
        dir.path(),
        "titles/sales.csv",
        Some(line),
        "duplicate title id `software_engineer`",
    );
    assert!(
        p.to_string().contains("titles/software_engineering.csv:"),
        "names both rows: {p}"
    );
}

#[test]
fn duplicate_name() {
    let dir = copy();
    let line = append(
        dir.path(),
        "titles/sales.csv",
        &format!("another_swe,Software  Engineer,individual_contributor,,{ROW_TAIL}"),
    );
    expect_problem(
        dir.path(),
        "titles/sales.csv",
        Some(line),
        "duplicate title name",
    );
}

#[test]
fn alias_shared_by_two_titles() {
    let dir = copy();
    let line = append(
        dir.path(),
        "titles/sales.csv",
        &format!("new_title_a,New Title A,individual_contributor,,{ROW_TAIL}Software-Developer"),
    );
    expect_problem(
        dir.path(),
        "titles/sales.csv",
        Some(line),
        "software developer",
    );
}

#[test]
fn alias_equal_to_another_title_name() {
    let dir = copy();
    let line = append(
        dir.path(),
        "titles/sales.csv",
        &format!("new_title_b,New Title B,individual_contributor,,{ROW_TAIL}data engineer"),
    );
    expect_problem(dir.path(), "titles/sales.csv", Some(line), "data engineer");
}

#[test]
fn invalid_level() {
    let dir = copy();
    let line = append(
        dir.path(),
        "titles/sales.csv",
        &format!("new_title_c,New Title C,senior,,{ROW_TAIL}"),
    );
    let p = expect_problem(dir.path(), "titles/sales.csv", Some(line), "level `senior`");
    assert!(p.fix.contains("individual_contributor"));
}

#[test]
fn unknown_family_file() {
    let dir = copy();
    fs::write(
        dir.path().join("titles/astronauts.csv"),
        format!("id,name,level,sub_family,soc,onet_soc,definition,aliases\nastronaut,Astronaut,individual_contributor,,{ROW_TAIL}\n"),
    )
    .expect("write");
    expect_problem(dir.path(), "titles/astronauts.csv", None, "not a family id");
}

#[test]
fn soc_not_real() {
    let dir = copy();
    let line = append(
        dir.path(),
        "titles/sales.csv",
        "new_title_d,New Title D,individual_contributor,,15-9999,15-9999.00,A test title.,",
    );
    expect_problem(
        dir.path(),
        "titles/sales.csv",
        Some(line),
        "soc `15-9999` is not a SOC 2018 detailed occupation",
    );
    expect_problem(
        dir.path(),
        "titles/sales.csv",
        Some(line),
        "onet_soc `15-9999.00` is not an O*NET-SOC 2019 code in the crosswalk",
    );
}

#[test]
fn soc_malformed_and_onet_outside_soc() {
    let dir = copy();
    let bad = append(
        dir.path(),
        "titles/sales.csv",
        "new_title_e,New Title E,individual_contributor,,151252,15-1252.00,A test title.,",
    );
    expect_problem(
        dir.path(),
        "titles/sales.csv",
        Some(bad),
        "is not a SOC 2018 detailed code",
    );
    let outside = append(
        dir.path(),
        "titles/sales.csv",
        "new_title_f,New Title F,individual_contributor,,15-1252,15-1253.00,A test title.,",
    );
    expect_problem(
        dir.path(),
        "titles/sales.csv",
        Some(outside),
        "is not inside soc `15-1252`",
    );
}

#[test]
fn crosswalk_code_listed_twice() {
    let dir = copy();
    let line = append(
        dir.path(),
        "crosswalk/soc-15.csv",
        "15-1252.00,Software Developers,backend_engineer",
    );
    expect_problem(
        dir.path(),
        "crosswalk/soc-15.csv",
        Some(line),
        "crosswalked twice",
    );
}

#[test]
fn crosswalk_to_unknown_title() {
    let dir = copy();
    let line = replace(
        dir.path(),
        "crosswalk/soc-15.csv",
        "15-1252.00,Software Developers,software_engineer",
        "15-1252.00,Software Developers,software_enginer",
    );
    let p = expect_problem(
        dir.path(),
        "crosswalk/soc-15.csv",
        Some(line),
        "unknown title id `software_enginer`",
    );
    assert!(
        p.fix.contains("software_engineer"),
        "suggests the right id: {p}"
    );
}

#[test]
fn crosswalk_code_in_wrong_major_file() {
    let dir = copy();
    let line = append(
        dir.path(),
        "crosswalk/soc-15.csv",
        "16-0000.00,Nonexistent,software_engineer",
    );
    let p = expect_problem(
        dir.path(),
        "crosswalk/soc-15.csv",
        Some(line),
        "not in SOC major group 15",
    );
    assert!(p.fix.contains("soc-16.csv"));
}

#[test]
fn crosswalk_must_cover_onet_occupations_count() {
    let dir = copy();
    let path = dir.path().join("crosswalk/soc-23.csv");
    let text = fs::read_to_string(&path).expect("read");
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("23-1023.00"))
        .collect();
    fs::write(&path, kept.join("\n") + "\n").expect("write");
    let problems = validate_dir(dir.path()).expect("readable");
    assert!(
        problems.iter().any(|p| p.message.contains("onet_occupations")),
        "dropping an O*NET code must be reported when taxonomy.toml sets onet_occupations: {problems:?}"
    );
}

#[test]
fn retired_id_reappears() {
    let dir = copy();
    append(
        dir.path(),
        "retired.csv",
        "zz_old_title,2026.01.0,software_engineer,merged",
    );
    let line = append(
        dir.path(),
        "titles/sales.csv",
        &format!("zz_old_title,ZZ Old Title,individual_contributor,,{ROW_TAIL}"),
    );
    expect_problem(
        dir.path(),
        "titles/sales.csv",
        Some(line),
        "was retired in 2026.01.0",
    );
}

#[test]
fn retired_replacement_must_exist() {
    let dir = copy();
    let line = append(
        dir.path(),
        "retired.csv",
        "zz_gone,2026.01.0,no_such_title,merged",
    );
    expect_problem(
        dir.path(),
        "retired.csv",
        Some(line),
        "replaced_by unknown title `no_such_title`",
    );
}

#[test]
fn broken_csv_header_and_quoting() {
    let dir = copy();
    replace(
        dir.path(),
        "titles/sales.csv",
        "id,name,level",
        "ident,name,level",
    );
    expect_problem(
        dir.path(),
        "titles/sales.csv",
        Some(1),
        "missing column `id`",
    );
    let dir = copy();
    let line = append(dir.path(), "titles/marketing.csv", "new_title_g,New Title G,individual_contributor,,15-1252,15-1252.00,A definition, with an unquoted comma,");
    expect_problem(
        dir.path(),
        "titles/marketing.csv",
        Some(line),
        "fields but the header has",
    );
}

#[test]
fn missing_version() {
    let dir = copy();
    replace(dir.path(), "taxonomy.toml", "version =", "versio =");
    expect_problem(dir.path(), "taxonomy.toml", None, "no `version`");
}

#[test]
fn not_a_taxonomy_directory() {
    let dir = tempfile::tempdir().expect("temp");
    match validate_dir(dir.path()) {
        Err(TaxonomyError::NotATaxonomy { reason, .. }) => {
            assert!(reason.contains("taxonomy export"))
        }
        other => panic!("expected NotATaxonomy, got {other:?}"),
    }
}

#[test]
fn adding_a_title_and_an_alias_by_editing_one_file_works() {
    let dir = copy();
    append(dir.path(), "titles/data_ai.csv", "prompt_librarian,Prompt Librarian,individual_contributor,machine_learning,15-2051,15-2051.00,A specialist who curates prompts.,prompt curator;prompt archivist");
    let tax = Taxonomy::load_dir(dir.path()).expect("valid after adding a title");
    assert_eq!(
        tax.match_exact("Prompt Curator").map(|t| t.id.as_str()),
        Some("prompt_librarian")
    );
    assert_eq!(
        tax.get("prompt_librarian").map(|t| t.family.as_str()),
        Some("data_ai")
    );
}
