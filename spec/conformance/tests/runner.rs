//! The runner of the conformance vectors: every committed vector passes
//! against `time-consensus`, and bad files, failing cases and directories
//! that cannot be run are reported clearly (the generator's own tests, which
//! need the model checker's paths, are `model/tests/vectors.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use time_consensus_vectors::{run, run_dir, RunError, RunReport, Suite};

fn spec_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
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

/// Runs `dir` on another thread, failing the test if it takes over a minute
/// (a runner that follows a link cycle never returns).
fn run_dir_within_a_minute(dir: &Path) -> RunReport {
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
        "update run::DEFINED_RULE_IDS in spec/conformance/src/load.rs to the ids spec/protocol.md and spec/seed-rules.md define"
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
