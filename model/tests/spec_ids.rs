//! The spec and the code cite the same rules: every rule id defined in
//! spec/protocol.md and spec/seed-rules.md is cited in impl/src or
//! model/src, every id the code cites is defined, and every id a vector
//! names is defined.
//!
//! A definition is a line that starts with the id in bold, `**R5.3**`. A
//! citation is an id in a source file, `R5.3`, or a range within one
//! section, `R5.2-R5.6` (every id in between is cited). The vectors' code
//! (spec/conformance, model/src/vectors) and the test kit (impl/src/kit)
//! are not counted as citing: their ids are data and prose.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// An id `<letter><major>.<minor>` starting at byte `i` of `s`, if any.
fn id_at(s: &[u8], i: usize, letters: &[u8]) -> Option<(u8, u32, u32, usize)> {
    let letter = *s.get(i)?;
    if !letters.contains(&letter) {
        return None;
    }
    if i > 0 && (s[i - 1].is_ascii_alphanumeric() || s[i - 1] == b'_') {
        return None;
    }
    let digits = |mut j: usize| {
        let start = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        (j > start && j - start <= 3).then_some(j)
    };
    let a = digits(i + 1)?;
    if s.get(a) != Some(&b'.') {
        return None;
    }
    let b = digits(a + 1)?;
    if s.get(b).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let major = std::str::from_utf8(&s[i + 1..a]).ok()?.parse().ok()?;
    let minor = std::str::from_utf8(&s[a + 1..b]).ok()?.parse().ok()?;
    Some((letter, major, minor, b))
}

/// Ids cited in `text`, ranges expanded.
fn citations(text: &str) -> BTreeSet<String> {
    let s = text.as_bytes();
    let mut out = BTreeSet::new();
    let mut i = 0;
    while i < s.len() {
        let Some((l, ma, mi, end)) = id_at(s, i, b"RS") else {
            i += 1;
            continue;
        };
        out.insert(format!("{}{ma}.{mi}", l as char));
        i = end;
        // A range: `-R5.6`, `–R5.6`, `-5.6` within the same section.
        let rest = &text[end..];
        let dash = ["-", "\u{2013}", " to "]
            .iter()
            .find(|d| rest.starts_with(**d));
        if let Some(d) = dash {
            let j = end + d.len();
            let upper = id_at(s, j, &[l]).map(|(_, a, b, e)| (a, b, e)).or_else(|| {
                // `R5.2-5.6`
                let mut t = format!("{}", l as char).into_bytes();
                t.extend_from_slice(&s[j..s.len().min(j + 8)]);
                id_at(&t, 0, &[l]).map(|(_, a, b, e)| (a, b, j + e - 1))
            });
            if let Some((ma2, mi2, e2)) = upper {
                if ma2 == ma && mi2 > mi && mi2 - mi < 20 {
                    for m in mi..=mi2 {
                        out.insert(format!("{}{ma}.{m}", l as char));
                    }
                    i = e2;
                }
            }
        }
    }
    out
}

/// Ids defined in a spec file: lines starting with `**<id>**`.
fn definitions(path: &Path, letters: &[u8]) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let Some(rest) = line.strip_prefix("**") else {
            continue;
        };
        let b = rest.as_bytes();
        let Some((l, ma, mi, end)) = id_at(b, 0, letters).or_else(|| {
            // Amendments have no minor number: `**A3**`.
            (letters.contains(&b'A') && b.first() == Some(&b'A')).then(|| {
                let e = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                (b'A', rest[1..e].parse().unwrap_or(0), u32::MAX, e)
            })
        }) else {
            continue;
        };
        if !rest[end..].starts_with("**") {
            continue;
        }
        let id = if mi == u32::MAX {
            format!("A{ma}")
        } else {
            format!("{}{ma}.{mi}", l as char)
        };
        if let Some(first) = out.insert(id.clone(), n + 1) {
            panic!(
                "{}: {id} is defined twice (lines {first} and {})",
                path.display(),
                n + 1
            );
        }
    }
    out
}

fn rust_files(dir: &Path, skip: &[PathBuf], out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if skip.iter().any(|s| p.starts_with(s)) {
            continue;
        }
        if p.is_dir() {
            rust_files(&p, skip, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Cited id -> files citing it.
fn cited() -> BTreeMap<String, BTreeSet<String>> {
    let root = root();
    // The test kit's scenarios cite the rules they drive: prose, not code.
    let skip = [root.join("model/src/vectors"), root.join("impl/src/kit")];
    let mut files = Vec::new();
    rust_files(&root.join("impl/src"), &skip, &mut files);
    rust_files(&root.join("model/src"), &skip, &mut files);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(&f)
            .to_string_lossy()
            .into_owned();
        for id in citations(&text) {
            out.entry(id).or_default().insert(rel.clone());
        }
    }
    out
}

fn defined() -> BTreeSet<String> {
    let root = root();
    let mut d: BTreeSet<String> = definitions(&root.join("spec/protocol.md"), b"R")
        .into_keys()
        .collect();
    d.extend(definitions(&root.join("spec/seed-rules.md"), b"SA").into_keys());
    d
}

#[test]
fn ranges_and_boundaries_are_read_as_intended() {
    let c = citations("see R6.1-R6.4, S2.2-2.3 and (R0.5); not XR1.1 nor R1.1a; S7.1–S7.2");
    let want: BTreeSet<String> = [
        "R6.1", "R6.2", "R6.3", "R6.4", "S2.2", "S2.3", "R0.5", "S7.1", "S7.2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(c, want);
}

#[test]
fn every_defined_rule_is_cited_in_the_code() {
    let cited = cited();
    let missing: Vec<String> = defined()
        .into_iter()
        .filter(|id| !id.starts_with('A') && !cited.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "rule ids defined in spec/ but cited nowhere in impl/src or model/src: {missing:?}"
    );
}

#[test]
fn every_cited_rule_is_defined_in_the_spec() {
    let defined = defined();
    let unknown: Vec<String> = cited()
        .into_iter()
        .filter(|(id, _)| !defined.contains(id))
        .map(|(id, files)| {
            format!(
                "{id} (in {})",
                files.into_iter().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "rule ids cited in the code but defined in neither spec/protocol.md nor spec/seed-rules.md: {unknown:?}"
    );
}

#[test]
fn the_amendments_of_the_code_are_the_ones_the_spec_defines() {
    let spec: BTreeSet<String> = defined()
        .into_iter()
        .filter(|i| i.starts_with('A'))
        .collect();
    let code: BTreeSet<String> = time_consensus::Amendment::ALL
        .iter()
        .map(|a| a.id().to_string())
        .collect();
    assert_eq!(spec, code);
}

#[test]
fn every_rule_id_named_by_a_vector_is_defined() {
    let defined = defined();
    let dir = root().join("spec/vectors");
    let mut unknown = BTreeSet::new();
    for f in time_consensus_vectors::run::vector_files(&dir).unwrap() {
        let case = time_consensus_vectors::run::load(&f).unwrap_or_else(|e| panic!("{e}"));
        for id in case.rule_ids {
            if !defined.contains(&id) {
                unknown.insert(format!("{id} ({})", case.case));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "vectors name undefined rule ids: {unknown:?}"
    );
}

#[test]
fn every_test_the_seed_test_table_names_exists() {
    // spec/seed-rules.md maps the seed's 26 tests to ours: each row's file
    // must define each test function it names.
    let text = std::fs::read_to_string(root().join("spec/seed-rules.md")).unwrap();
    let table = text
        .split("## The seed's tests, re-expressed")
        .nth(1)
        .expect("the table");
    let mut rows = 0;
    for line in table.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(ours) = cells.get(3) else { continue };
        let names: Vec<&str> = ours.split('`').skip(1).step_by(2).collect();
        let [file, funcs @ ..] = &names[..] else {
            continue;
        };
        if !file.ends_with(".rs") {
            continue;
        }
        let src = std::fs::read_to_string(root().join(file)).unwrap();
        for f in funcs {
            assert!(src.contains(&format!("fn {f}(")), "{file} has no fn {f}");
        }
        rows += 1;
    }
    assert_eq!(rows, 21);
}
