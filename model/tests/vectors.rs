//! The vector commands of `tcm`: the committed vectors are exactly what
//! `tcm vectors` writes (the model checker's paths included), and `tcm
//! conform` runs files, filters and reports with the exit statuses it
//! documents (the runner itself is tested in `spec/conformance/tests`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use time_consensus_model::vectors;
use time_consensus_vectors::{run, run_dir, Suite};

mod support;
use support::tcm;

fn spec_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors")
}

/// An empty directory of this test's own under Cargo's scratch space
/// (`tag` names it; each test uses its own).
fn scratch(tag: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("vectors-{tag}"));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// A committed vector's text.
fn committed(rel: &str) -> String {
    std::fs::read_to_string(spec_vectors().join(rel)).unwrap()
}

/// Every `.json` file below `dir`, by path relative to it.
fn json_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    run::vector_files(dir)
        .unwrap()
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let bytes = std::fs::read(&p).unwrap();
            (rel, bytes)
        })
        .collect()
}

const REGENERATE: &str =
    "regenerate them with `cargo run -p time-consensus-model --bin tcm -- vectors --out spec/vectors`";

#[test]
fn committed_vectors_are_exactly_what_the_generator_writes() {
    let tmp = scratch("regen");
    let report = vectors::write_all(&tmp).expect("the generator runs");
    let fresh = json_files(&tmp);
    assert_eq!(report.written, fresh.len());
    let committed = json_files(&spec_vectors());
    let missing: Vec<&String> = fresh
        .keys()
        .filter(|k| !committed.contains_key(*k))
        .collect();
    let stale: Vec<&String> = committed
        .keys()
        .filter(|k| !fresh.contains_key(*k))
        .collect();
    let changed: Vec<&String> = fresh
        .iter()
        .filter(|(k, v)| committed.get(*k).is_some_and(|c| c != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty() && changed.is_empty(),
        "spec/vectors is out of date ({REGENERATE}):\n  not committed: {:?}\n  no longer generated: {:?}\n  changed: {:?}",
        &missing[..missing.len().min(10)],
        &stale[..stale.len().min(10)],
        &changed[..changed.len().min(10)],
    );
}

#[test]
fn generating_twice_gives_the_same_bytes() {
    let a = vectors::generate_all().expect("the generator runs");
    let b = vectors::generate_all().expect("the generator runs");
    assert_eq!(a, b);
}

#[test]
fn the_cli_exit_statuses() {
    let tcm = env!("CARGO_BIN_EXE_tcm");
    let status =
        |args: &[&std::ffi::OsStr]| Command::new(tcm).args(args).output().unwrap().status.code();
    let spec = spec_vectors();
    assert_eq!(status(&["conform".as_ref(), spec.as_os_str()]), Some(0));
    let tmp = scratch("cli");
    let out = tmp.join("out");
    assert_eq!(
        status(&["vectors".as_ref(), "--out".as_ref(), out.as_os_str()]),
        Some(0)
    );
    let bad = tmp.join("bad");
    std::fs::create_dir_all(bad.join("weights")).unwrap();
    let good = committed("weights/ref_half_bronze_d0_r1250.json");
    std::fs::write(
        bad.join("weights/ref_half_bronze_d0_r1250.json"),
        good.replace("\"weight\": 250000", "\"weight\": 7"),
    )
    .unwrap();
    assert_eq!(status(&["conform".as_ref(), bad.as_os_str()]), Some(1));
    std::fs::write(bad.join("weights/broken.json"), "{").unwrap();
    assert_eq!(status(&["conform".as_ref(), bad.as_os_str()]), Some(2));
    assert_eq!(
        status(&["conform".as_ref(), tmp.join("absent").as_os_str()]),
        Some(2)
    );
    assert_eq!(status(&["conform".as_ref()]), Some(2));
}

#[cfg(unix)]
#[test]
fn conform_exits_2_when_it_skipped_a_link() {
    // A run that skipped something never passes.
    let dir = scratch("symlink");
    let w = dir.join("weights");
    std::fs::create_dir_all(&w).unwrap();
    std::fs::write(
        w.join("ref_half_bronze_d0_r1250.json"),
        committed("weights/ref_half_bronze_d0_r1250.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink("..", w.join("up")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tcm"))
        .arg("conform")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ERROR") && text.contains("not followed"),
        "{text}"
    );
}

#[test]
fn conform_runs_one_file_or_a_filtered_set_and_reports_json_and_junit() {
    let dir = spec_vectors();
    let os = |s: &str| std::ffi::OsString::from(s);
    let run = |more: &[&str]| {
        let mut a = vec![os("conform"), dir.clone().into_os_string()];
        a.extend(more.iter().map(|s| os(s)));
        let refs: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
        tcm(&refs)
    };
    // One file.
    let file = dir.join("tally/ref_quorum_15.json");
    assert!(file.is_file(), "the case this test names exists");
    let (code, out, _) = tcm(&[os("conform").as_os_str(), file.as_os_str()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("total             1      1"), "{out}");
    // Filters: by suite and by case, read off the path.
    let r = run::run_path(
        &dir,
        &run::Filter {
            suites: vec![Suite::Tally, Suite::Weights],
            case: Some("ref_".into()),
        },
    )
    .unwrap();
    let all = run_dir(&dir).unwrap();
    let want = all
        .runs
        .iter()
        .filter(|c| matches!(c.suite, Suite::Tally | Suite::Weights) && c.case.contains("ref_"))
        .count();
    assert_eq!(r.runs.len(), want);
    assert!(r.runs.iter().all(|c| c.case.contains("ref_")));
    assert_eq!(r.left_out + r.cases(), all.cases());
    let (code, out, _) = run(&["--suite", "tally,weights", "--case", "ref_", "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["schema"], "tcm-conform/1");
    assert_eq!(j["runs"], want);
    assert_eq!(j["left_out"], r.left_out);
    assert_eq!(j["suites"].as_object().unwrap().len(), 2);
    // The columns add up to more than the cases, and the report says why.
    let text = all.render();
    assert!(all.runs.len() > all.cases());
    assert!(
        text.contains(&format!(
            "count {} runs of {} cases",
            all.runs.len(),
            all.cases()
        )),
        "{text}"
    );
    // Nonsense filters are refused.
    let (code, _, err) = run(&["--suite", "talley"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no such suite") && err.contains("node_trace"),
        "{err}"
    );
    let (code, _, err) = run(&["--case", "no_case_is_named_like_this"]);
    assert_eq!(code, 2);
    assert!(err.contains("no vector matches the filter"), "{err}");
    // JUnit: a test case per case and rule set, failures and errors kept.
    let tmp = scratch("junit");
    let d = tmp.join("tally");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(&file, d.join("ref_quorum_15.json")).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&committed("tally/ref_quorum_15.json")).unwrap();
    let mut failing = v.clone();
    failing["case"] = "failing".into();
    failing["expected"]["quorum"] = 11.into();
    let text = serde_json::to_string_pretty(&failing).unwrap();
    std::fs::write(d.join("failing.json"), text).unwrap();
    std::fs::write(d.join("bad <&>.json"), "{").unwrap();
    let xml_path = tmp.join("report.xml");
    let (code, out, _) = tcm(&[
        os("conform").as_os_str(),
        tmp.as_os_str(),
        os("--junit").as_os_str(),
        xml_path.as_os_str(),
    ]);
    assert_eq!(code, 2, "{out}");
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    let testcases = xml.matches("<testcase ").count();
    assert_eq!(
        testcases,
        2 * v["rules"].as_array().unwrap().len() + 1,
        "{xml}"
    );
    assert_eq!(
        xml.matches("<failure ").count(),
        v["rules"].as_array().unwrap().len(),
        "{xml}"
    );
    assert_eq!(xml.matches("<error ").count(), 1, "{xml}");
    assert!(xml.contains("bad &lt;&amp;&gt;.json"), "{xml}");
    assert!(!xml.contains("bad <&>"), "{xml}");
}
