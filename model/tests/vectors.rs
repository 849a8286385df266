//! The conformance vectors: the committed files are exactly what the
//! generator writes, every one of them passes against this implementation,
//! and the runner reports bad files and failing cases clearly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use time_consensus_model::vectors::{self, run, run_dir, RunError, Suite};

fn spec_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors")
}

/// A fresh directory under the system temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let p =
            std::env::temp_dir().join(format!("tc-vectors-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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
    let tmp = TempDir::new("regen");
    let report = vectors::write_all(&tmp.0).expect("the generator runs");
    let fresh = json_files(&tmp.0);
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
fn every_committed_vector_passes_and_every_suite_is_covered_under_both_rule_sets() {
    let r = run_dir(&spec_vectors()).expect("spec/vectors is readable");
    assert!(r.all_pass(), "{}", r.render());
    assert!(r.cases() >= 500, "only {} cases", r.cases());
    for s in Suite::ALL {
        let c = r
            .suites
            .get(&s)
            .unwrap_or_else(|| panic!("suite {} has no case", s.name()));
        for rules in ["seed", "reference"] {
            let (ran, passed) = c.by_rules.get(rules).copied().unwrap_or_default();
            assert!(
                ran > 0 && ran == passed,
                "suite {} under {rules}: {passed}/{ran}",
                s.name()
            );
        }
    }
}

/// A committed vector's text, for the tests that corrupt copies of it.
fn committed(rel: &str) -> String {
    std::fs::read_to_string(spec_vectors().join(rel)).unwrap()
}

#[test]
fn unreadable_files_are_named_with_line_and_column_and_do_not_stop_the_run() {
    let tmp = TempDir::new("malformed");
    let dir = tmp.0.join("weights");
    std::fs::create_dir_all(&dir).unwrap();
    let good = committed("weights/ref_half_bronze_d0_r1250.json");
    std::fs::write(dir.join("ref_half_bronze_d0_r1250.json"), &good).unwrap();
    // A syntax error on line 3: a missing comma.
    std::fs::write(
        dir.join("syntax.json"),
        "{\n  \"format\": \"time-consensus-vectors/1\"\n  \"suite\": \"weights\"\n}\n",
    )
    .unwrap();
    // An unknown field on line 4.
    let typo = good.replacen("\"description\"", "\"descripton\"", 1);
    std::fs::write(
        dir.join("ref_half_bronze_d0_r1250_typo.json"),
        typo.replace(
            "\"case\": \"ref_half_bronze_d0_r1250\"",
            "\"case\": \"ref_half_bronze_d0_r1250_typo\"",
        ),
    )
    .unwrap();
    // A string where a number belongs.
    let wrong_type = good
        .replace("\"days_active\": 0", "\"days_active\": \"zero\"")
        .replace(
            "\"case\": \"ref_half_bronze_d0_r1250\"",
            "\"case\": \"wrong_type\"",
        );
    std::fs::write(dir.join("wrong_type.json"), wrong_type).unwrap();
    // Parses, but names another case than its file.
    std::fs::write(dir.join("misnamed.json"), &good).unwrap();
    // An unknown format version.
    std::fs::write(
        dir.join("future.json"),
        good.replace("time-consensus-vectors/1", "time-consensus-vectors/9")
            .replace(
                "\"case\": \"ref_half_bronze_d0_r1250\"",
                "\"case\": \"future\"",
            ),
    )
    .unwrap();

    let r = run_dir(&tmp.0).expect("the directory is readable");
    assert_eq!(r.cases(), 1, "the good case still runs: {}", r.render());
    assert_eq!(r.passed(), 1);
    let errs: BTreeMap<String, String> = r
        .errors
        .iter()
        .map(|e| {
            (
                e.file.file_name().unwrap().to_string_lossy().into_owned(),
                e.to_string(),
            )
        })
        .collect();
    assert_eq!(errs.len(), 5, "{errs:?}");
    let syntax = &errs["syntax.json"];
    assert!(
        syntax.contains("syntax.json") && syntax.contains("line 3, column 3"),
        "{syntax}"
    );
    let typo = &errs["ref_half_bronze_d0_r1250_typo.json"];
    assert!(
        typo.contains("line 8, column") && typo.contains("descripton"),
        "{typo}"
    );
    let wt = &errs["wrong_type.json"];
    assert!(
        wt.contains("line ") && wt.contains("column") && wt.contains("zero"),
        "{wt}"
    );
    assert!(errs["misnamed.json"].contains("does not match the file name"));
    assert!(errs["future.json"].contains("not supported"));
    assert!(r.render().contains("ERROR"));
}

#[test]
fn a_wrong_expectation_fails_with_its_first_difference() {
    let tmp = TempDir::new("wrong");
    let w = tmp.0.join("weights");
    let t = tmp.0.join("node_trace");
    std::fs::create_dir_all(&w).unwrap();
    std::fs::create_dir_all(&t).unwrap();
    let good = committed("weights/ref_half_bronze_d0_r1250.json");
    let bad = good.replace("\"weight\": 250000", "\"weight\": 250001");
    assert_ne!(good, bad);
    std::fs::write(w.join("ref_half_bronze_d0_r1250.json"), bad).unwrap();
    // A trace whose first step claims one output fewer.
    let trace = committed("node_trace/seed_phase1_timeout.json");
    let mut v: serde_json::Value = serde_json::from_str(&trace).unwrap();
    v["input"]["node_trace"]["steps"][1]["outputs"]
        .as_array_mut()
        .unwrap()
        .pop();
    std::fs::write(
        t.join("seed_phase1_timeout.json"),
        serde_json::to_string_pretty(&v).unwrap(),
    )
    .unwrap();
    let r = run_dir(&tmp.0).unwrap();
    assert_eq!(
        (r.cases(), r.passed(), r.failures.len()),
        (2, 0, 2),
        "{}",
        r.render()
    );
    let reasons: Vec<&str> = r.failures.iter().map(|f| f.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|m| m.contains("$.expected.weight") && m.contains("250001")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|m| m.starts_with("step 1 (timer")),
        "{reasons:?}"
    );
}

#[test]
fn directories_that_cannot_be_run_are_refused() {
    let tmp = TempDir::new("empty");
    assert!(matches!(run_dir(&tmp.0), Err(RunError::Empty(_))));
    assert!(matches!(
        run_dir(&tmp.0.join("absent")),
        Err(RunError::Io { .. })
    ));
}

#[test]
fn the_cli_exit_statuses() {
    let tcm = env!("CARGO_BIN_EXE_tcm");
    let status =
        |args: &[&std::ffi::OsStr]| Command::new(tcm).args(args).output().unwrap().status.code();
    let spec = spec_vectors();
    assert_eq!(status(&["conform".as_ref(), spec.as_os_str()]), Some(0));
    let tmp = TempDir::new("cli");
    let out = tmp.0.join("out");
    assert_eq!(
        status(&["vectors".as_ref(), "--out".as_ref(), out.as_os_str()]),
        Some(0)
    );
    let bad = tmp.0.join("bad");
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
        status(&["conform".as_ref(), tmp.0.join("absent").as_os_str()]),
        Some(2)
    );
    assert_eq!(status(&["conform".as_ref()]), Some(2));
}

/// Runs `dir` on another thread, failing the test if it takes over a minute
/// (a runner that follows a link cycle never returns).
fn run_dir_within_a_minute(dir: &Path) -> vectors::RunReport {
    let dir = dir.to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run_dir(&dir));
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("the runner returns within a minute")
        .expect("the directory is readable")
}

#[cfg(unix)]
#[test]
fn symbolic_links_to_directories_are_not_followed_and_are_reported() {
    use std::os::unix::fs::symlink;
    let tmp = TempDir::new("symlinks");
    let w = tmp.0.join("weights");
    std::fs::create_dir_all(&w).unwrap();
    std::fs::write(
        w.join("ref_half_bronze_d0_r1250.json"),
        committed("weights/ref_half_bronze_d0_r1250.json"),
    )
    .unwrap();
    // Two loops: followed, they would run the case without end (or, with a
    // depth limit, exponentially many times) and report success.
    symlink("..", w.join("up")).unwrap();
    symlink(".", tmp.0.join("here")).unwrap();
    // A link to a file is read like the file; a dangling link is an error.
    let linked = tmp.0.join("linked");
    std::fs::create_dir_all(&linked).unwrap();
    symlink(
        w.join("ref_half_bronze_d0_r1250.json"),
        linked.join("ref_half_bronze_d0_r1250.json"),
    )
    .unwrap();
    symlink(tmp.0.join("absent"), tmp.0.join("dangling.json")).unwrap();

    let r = run_dir_within_a_minute(&tmp.0);
    assert_eq!((r.cases(), r.passed()), (2, 2), "{}", r.render());
    let errs: Vec<String> = r.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(
        errs.iter()
            .any(|e| e.contains(&*w.join("up").to_string_lossy()) && e.contains("not followed")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains(&*tmp.0.join("here").to_string_lossy())
                && e.contains("not followed")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("dangling.json") && e.contains("cannot be read")),
        "{errs:?}"
    );
    assert!(!r.all_pass());
    assert!(matches!(run::vector_files(&tmp.0), Err(RunError::Entry(_))));
    // Exit status 2: a run that skipped something never passes.
    let out = Command::new(env!("CARGO_BIN_EXE_tcm"))
        .arg("conform")
        .arg(&tmp.0)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ERROR") && text.contains("not followed"),
        "{text}"
    );

    // Only a loop, no vector: still exit 2, naming the link.
    let lonely = TempDir::new("loop-only");
    symlink(".", lonely.0.join("again")).unwrap();
    let r = run_dir_within_a_minute(&lonely.0);
    assert_eq!((r.cases(), r.errors.len()), (0, 1), "{}", r.render());
    assert!(r.errors[0].to_string().contains("again"));
}

/// Writes `text` as `dir/<suite>/<case>.json`, renaming the case to `case`.
fn write_case(dir: &Path, suite: &str, from_case: &str, case: &str, text: &str) -> PathBuf {
    let d = dir.join(suite);
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(format!("{case}.json"));
    std::fs::write(
        &p,
        text.replace(
            &format!("\"case\": \"{from_case}\""),
            &format!("\"case\": \"{case}\""),
        ),
    )
    .unwrap();
    p
}

#[test]
fn envelope_errors_name_the_key_path_and_its_line() {
    let tmp = TempDir::new("envelope");
    let name = "ref_half_bronze_d0_r1250";
    let good = committed("weights/ref_half_bronze_d0_r1250.json");
    let w = |case: &str, text: String| write_case(&tmp.0, "weights", name, case, &text);
    w(
        "future",
        good.replace("time-consensus-vectors/1", "time-consensus-vectors/2"),
    );
    w(
        "no_rules",
        good.replace("\"rules\": [\n    \"reference\"\n  ]", "\"rules\": []"),
    );
    w(
        "undefined_id",
        good.replace("\"R2.2\"", "\"R2.2\", \"R99.1\""),
    );
    w(
        "both",
        good.replace(
            "\"expected\": {",
            "\"expected_rejection\": {\"error\": \"x\"},\n  \"expected\": {",
        ),
    );
    let neither = good.split("  \"expected\"").next().unwrap().trim_end();
    w(
        "neither",
        format!("{}\n}}\n", neither.trim_end_matches(',')),
    );
    w(
        "other_suite",
        good.replace("\"suite\": \"weights\"", "\"suite\": \"tally\""),
    );
    w(
        "seed_only_op",
        good.replace(
            "\"weight\": {\n      \"tier\"",
            "\"seed_weight_f32\": {\n      \"tier\"",
        )
        .replace(
            "\"reputation_milli\": 1250",
            "\"reputation_f32_bits\": \"3fa00000\"",
        ),
    );
    // A field that no output of `weight` has: a malformed file, not a failure.
    w(
        "extra_expected",
        good.replace(
            "\"weight\": 250000",
            "\"weight\": 250000,\n    \"bonus\": 1",
        ),
    );
    // A field inside an event of a node trace, which the event's type would
    // silently drop.
    let trace = committed("node_trace/ref_phase1_timeout.json");
    let mut v: serde_json::Value = serde_json::from_str(&trace).unwrap();
    v["case"] = "extra_event_field".into();
    let ev = &mut v["input"]["node_trace"]["steps"][0]["outputs"][0]["event"];
    let (_, body) = ev.as_object_mut().unwrap().iter_mut().next().unwrap();
    body.as_object_mut()
        .unwrap()
        .insert("colour".into(), "red".into());
    std::fs::create_dir_all(tmp.0.join("node_trace")).unwrap();
    std::fs::write(
        tmp.0.join("node_trace/extra_event_field.json"),
        serde_json::to_string_pretty(&v).unwrap(),
    )
    .unwrap();

    let r = run_dir(&tmp.0).unwrap();
    assert_eq!(r.cases(), 0, "{}", r.render());
    let errs: BTreeMap<String, String> = r
        .errors
        .iter()
        .map(|e| {
            (
                e.file.file_stem().unwrap().to_string_lossy().into_owned(),
                e.message.clone(),
            )
        })
        .collect();
    let expect = [
        ("future", "line 2, column 3 ($.format): format"),
        ("no_rules", "line 5, column 3 ($.rules): name at least one rule set"),
        ("undefined_id", "($.rule_ids[1]): \"R99.1\" is not a rule id"),
        (
            "both",
            "($.expected_rejection): give either `expected` or `expected_rejection`, not both",
        ),
        ("neither", "line 1, column 1 ($): give `expected` or `expected_rejection`"),
        ("other_suite", "($.suite): suite \"tally\" lies in the directory of suite \"weights\""),
        (
            "seed_only_op",
            "($.rules[0]): operation `seed_weight_f32` is defined only without amendment A5",
        ),
        (
            "extra_expected",
            "line 21, column 5 ($.expected.bonus): unknown field `bonus`",
        ),
        (
            "extra_event_field",
            "($.input.node_trace.steps[0].outputs[0].event.protocol_started.colour): unknown field `colour`",
        ),
    ];
    for (file, needle) in expect {
        let e = errs
            .get(file)
            .unwrap_or_else(|| panic!("no error for {file}: {errs:?}"));
        assert!(e.contains(needle), "{file}: {e:?} lacks {needle:?}");
    }
    assert_eq!(errs.len(), expect.len(), "{errs:?}");

    // An operation of another suite, in a directory that is no suite's.
    let loose = TempDir::new("loose");
    let p = loose.0.join(format!("{name}.json"));
    std::fs::write(
        &p,
        good.replace("\"suite\": \"weights\"", "\"suite\": \"tally\""),
    )
    .unwrap();
    let e = run::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("line 13, column 5 ($.input.weight): operation `weight` belongs to suite \"weights\", not \"tally\""),
        "{e}"
    );
}

/// Rule ids defined in a spec file: lines starting with `**<id>**`.
fn spec_definitions(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(spec_vectors().join("..").join(file)).unwrap();
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("**")?;
            let id = &rest[..rest.find("**")?];
            let b = id.as_bytes();
            let ok = matches!(b.first(), Some(b'R' | b'S'))
                && id[1..].split_once('.').is_some_and(|(a, b)| {
                    [a, b]
                        .iter()
                        .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
                });
            ok.then(|| id.to_string())
        })
        .collect()
}

#[test]
fn the_runner_knows_exactly_the_rule_ids_the_spec_defines() {
    let mut spec = spec_definitions("protocol.md");
    spec.extend(spec_definitions("seed-rules.md"));
    spec.sort();
    let mut code: Vec<String> = run::DEFINED_RULE_IDS
        .iter()
        .map(|s| s.to_string())
        .collect();
    code.sort();
    assert_eq!(
        spec, code,
        "update run::DEFINED_RULE_IDS in model/src/vectors/run.rs to the ids spec/protocol.md and spec/seed-rules.md define"
    );
    assert!(run::is_defined_rule_id("A4") && run::is_defined_rule_id("S6.1"));
    assert!(!run::is_defined_rule_id("R99.1") && !run::is_defined_rule_id("A8"));
}

#[test]
fn a_file_run_from_its_text_is_what_the_directory_run_does_with_it() {
    // `run_text` is what the fuzz target `vectors` calls: the per-file work
    // of `run_dir`, without the file system.
    for suite in Suite::ALL {
        let dir = spec_vectors().join(suite.name());
        let file = run::vector_files(&dir).unwrap().remove(0);
        let text = std::fs::read_to_string(&file).unwrap();
        let r = run::run_text(&file, &text);
        assert!(r.all_pass() && r.cases() == 1, "{}", r.render());
        // The path still names the case, as a file's name does.
        let r = run::run_text(&dir.join("renamed.json"), &text);
        assert_eq!((r.cases(), r.errors.len()), (0, 1), "{}", r.render());
    }
}

fn tcm(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tcm"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
    let tmp = TempDir::new("junit");
    let d = tmp.0.join("tally");
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
    let xml_path = tmp.0.join("report.xml");
    let (code, out, _) = tcm(&[
        os("conform").as_os_str(),
        tmp.0.as_os_str(),
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

#[test]
fn a_fifo_or_an_oversized_file_is_an_error_and_is_not_read() {
    let tmp = TempDir::new("fifo");
    let d = tmp.0.join("tally");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("ref_quorum_15.json"),
        committed("tally/ref_quorum_15.json"),
    )
    .unwrap();
    // A FIFO nobody writes to: reading it would wait for ever.
    let made = Command::new("mkfifo")
        .arg(d.join("waiting.json"))
        .status()
        .unwrap();
    assert!(made.success());
    // A file one byte over the limit: refused before it is read.
    let mut big = committed("tally/ref_quorum_15.json");
    let pad = run::MAX_VECTOR_BYTES as usize + 1 - big.len();
    big.push_str(&" ".repeat(pad));
    std::fs::write(d.join("big.json"), &big).unwrap();
    let r = run_dir_within_a_minute(&tmp.0);
    assert_eq!((r.cases(), r.passed()), (1, 1), "{}", r.render());
    let errs: Vec<String> = r.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs.iter()
            .any(|e| e.contains("waiting.json") && e.contains("not a regular file")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("big.json")
            && e.contains(&format!("{} bytes, over the limit", big.len()))),
        "{errs:?}"
    );
    // At the limit exactly, it is read (and is the same case).
    big.pop();
    std::fs::write(d.join("big.json"), &big).unwrap();
    std::fs::remove_file(d.join("waiting.json")).unwrap();
    let r = run_dir_within_a_minute(&tmp.0);
    assert_eq!((r.cases(), r.errors.len()), (1, 1), "{}", r.render());
    assert!(
        r.errors[0].to_string().contains("big.json")
            && r.errors[0]
                .to_string()
                .contains("does not match the file name"),
        "{}",
        r.render()
    );
}
