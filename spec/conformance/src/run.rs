//! The runner: reads any directory of vectors, runs every case against this
//! implementation, and says which failed and why. It never panics on bad
//! input: a file it cannot read is reported with its line and column (and the
//! JSON path of the offending key when the file parses but is not a valid
//! case), a case that fails is reported with the first difference.
//!
//! It walks the directory without following symbolic links to directories
//! (each is reported as an error, so a run that skipped vectors never
//! passes), and reports every entry it cannot read, naming its path.

use crate::format::{Case, ExpectedRejection, Op, Refusal, Suite};
pub use crate::load::{is_defined_rule_id, load, path_text, scan, vector_files, FileError};
use crate::load::{key, load_text, parse_text, position, unknown_key, NOT_REGULAR};
pub use crate::load::{RunError, Scan, Seg, DEFINED_RULE_IDS, MAX_VECTOR_BYTES};
use crate::suites::node_trace::replay;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use time_consensus::node::{Input, Output};
use time_consensus::Rules;

/// `s` as XML text or attribute: markup escaped, and characters XML 1.0
/// cannot hold (controls) replaced, since a reason may quote a bad file.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A case that ran and did not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The file.
    pub file: PathBuf,
    /// The case's name.
    pub case: String,
    /// The rule set it failed under.
    pub rules: Rules,
    /// The first difference, or what went wrong.
    pub reason: String,
}

/// Counts of one suite.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SuiteCount {
    /// Cases run.
    pub cases: usize,
    /// Cases that passed under every rule set they name.
    pub passed: usize,
    /// Per rule set: (runs, passes).
    pub by_rules: BTreeMap<String, (usize, usize)>,
}

/// The result of running a directory.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// Per suite.
    pub suites: BTreeMap<Suite, SuiteCount>,
    /// Cases that failed.
    pub failures: Vec<Failure>,
    /// Files that could not be used.
    pub errors: Vec<FileError>,
    /// Every case run under each of its rule sets, in order, with why it
    /// failed (JUnit's test cases).
    pub runs: Vec<CaseRun>,
    /// Files a [`Filter`] left out (not read).
    pub left_out: usize,
}

/// One case run under one rule set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRun {
    /// The file.
    pub file: PathBuf,
    /// Its suite.
    pub suite: Suite,
    /// Its case.
    pub case: String,
    /// The rule set.
    pub rules: Rules,
    /// Why it failed, if it did.
    pub failure: Option<String>,
}

/// Which vectors to run: by suite (any of `suites`; all when empty) and by
/// case (names containing `case`), read off each file's path, which the
/// envelope check holds to the suite and case the file declares.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Suites to run; every suite when empty.
    pub suites: Vec<Suite>,
    /// Run only cases whose name contains this.
    pub case: Option<String>,
}

impl Filter {
    /// Whether the file at `path` is to be run.
    pub fn admits(&self, path: &Path) -> bool {
        let suite = path
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|n| Suite::from_name(&n.to_string_lossy()));
        let case = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        (self.suites.is_empty() || suite.is_some_and(|s| self.suites.contains(&s)))
            && self.case.as_ref().is_none_or(|c| case.contains(c.as_str()))
    }

    fn is_empty(&self) -> bool {
        self.suites.is_empty() && self.case.is_none()
    }
}

impl RunReport {
    /// Cases run.
    pub fn cases(&self) -> usize {
        self.suites.values().map(|s| s.cases).sum()
    }

    /// Cases passed.
    pub fn passed(&self) -> usize {
        self.suites.values().map(|s| s.passed).sum()
    }

    /// True when every file was read and every case passed.
    pub fn all_pass(&self) -> bool {
        self.errors.is_empty() && self.failures.is_empty()
    }

    /// The report as text: failures, errors, then the counts per suite.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for f in &self.failures {
            let _ = writeln!(
                s,
                "FAIL {} [{}] ({}): {}",
                f.case,
                f.rules,
                f.file.display(),
                f.reason
            );
        }
        for e in &self.errors {
            let _ = writeln!(s, "ERROR {e}");
        }
        let rule_sets: Vec<String> = {
            let mut v: Vec<String> = self
                .suites
                .values()
                .flat_map(|c| c.by_rules.keys().cloned())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let _ = write!(s, "{:<12} {:>6} {:>6}", "suite", "cases", "passed");
        for r in &rule_sets {
            let _ = write!(s, " {r:>14}");
        }
        s.push('\n');
        for (suite, c) in &self.suites {
            let _ = write!(s, "{:<12} {:>6} {:>6}", suite.name(), c.cases, c.passed);
            for r in &rule_sets {
                let cell = c
                    .by_rules
                    .get(r)
                    .map_or("-".to_string(), |(ran, ok)| format!("{ok}/{ran}"));
                let _ = write!(s, " {cell:>14}");
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "{:<12} {:>6} {:>6}   ({} failed, {} files or entries in error)",
            "total",
            self.cases(),
            self.passed(),
            self.failures.len(),
            self.errors.len()
        );
        if self.runs.len() > self.cases() {
            let _ = writeln!(
                s,
                "(a case runs under every rule set it names: the rule-set columns count {} runs of {} cases)",
                self.runs.len(),
                self.cases()
            );
        }
        if self.left_out > 0 {
            let _ = writeln!(
                s,
                "({} files left out by the filter, not read)",
                self.left_out
            );
        }
        s
    }

    /// The report as JSON (schema `tcm-conform/1`, `spec/vectors/FORMAT.md`).
    pub fn to_json(&self) -> Value {
        let suites: serde_json::Map<String, Value> = self
            .suites
            .iter()
            .map(|(suite, c)| {
                let by_rules: serde_json::Map<String, Value> = c
                    .by_rules
                    .iter()
                    .map(|(r, (ran, ok))| {
                        (r.clone(), serde_json::json!({"runs": ran, "passed": ok}))
                    })
                    .collect();
                (
                    suite.name().to_string(),
                    serde_json::json!({"cases": c.cases, "passed": c.passed, "by_rules": by_rules}),
                )
            })
            .collect();
        serde_json::json!({
            "schema": "tcm-conform/1",
            "cases": self.cases(),
            "passed": self.passed(),
            "runs": self.runs.len(),
            "left_out": self.left_out,
            "suites": suites,
            "failures": self.failures.iter().map(|f| serde_json::json!({
                "file": f.file.display().to_string(),
                "case": f.case,
                "rules": f.rules.to_string(),
                "reason": f.reason,
            })).collect::<Vec<_>>(),
            "errors": self.errors.iter().map(|e| serde_json::json!({
                "file": e.file.display().to_string(),
                "message": e.message,
            })).collect::<Vec<_>>(),
        })
    }

    /// The report as JUnit XML: a test suite per vector suite, a test case
    /// per case and rule set (`<case> [<rules>]`), and the files in error
    /// as errors of a suite `files`.
    pub fn to_junit(&self) -> String {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let failed = self.runs.iter().filter(|r| r.failure.is_some()).count();
        let _ = writeln!(
            x,
            "<testsuites name=\"tcm conform\" tests=\"{}\" failures=\"{failed}\" errors=\"{}\">",
            self.runs.len() + self.errors.len(),
            self.errors.len()
        );
        for suite in Suite::ALL {
            let runs: Vec<&CaseRun> = self.runs.iter().filter(|r| r.suite == suite).collect();
            if runs.is_empty() {
                continue;
            }
            let failed = runs.iter().filter(|r| r.failure.is_some()).count();
            let _ = writeln!(
                x,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">",
                suite.name(),
                runs.len()
            );
            for r in runs {
                let _ = write!(
                    x,
                    "    <testcase classname=\"{}\" name=\"{} [{}]\" file=\"{}\"",
                    suite.name(),
                    xml(&r.case),
                    r.rules,
                    xml(&r.file.display().to_string())
                );
                match &r.failure {
                    None => x.push_str("/>\n"),
                    Some(why) => {
                        let _ = writeln!(
                            x,
                            "><failure message=\"{}\">{}</failure></testcase>",
                            xml(why.lines().next().unwrap_or("")),
                            xml(why)
                        );
                    }
                }
            }
            x.push_str("  </testsuite>\n");
        }
        if !self.errors.is_empty() {
            let _ = writeln!(
                x,
                "  <testsuite name=\"files\" tests=\"{0}\" failures=\"0\" errors=\"{0}\">",
                self.errors.len()
            );
            for e in &self.errors {
                let _ = writeln!(
                    x,
                    "    <testcase classname=\"files\" name=\"{0}\"><error message=\"{1}\">{1}</error></testcase>",
                    xml(&e.file.display().to_string()),
                    xml(&e.message)
                );
            }
            x.push_str("  </testsuite>\n");
        }
        x.push_str("</testsuites>\n");
        x
    }
}

/// The first place where `got` differs from `want`, as a JSON path.
pub fn first_difference(want: &Value, got: &Value, path: &str) -> Option<String> {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    None => return Some(format!("{p}: expected {va}, got nothing")),
                    Some(vb) => {
                        if let Some(d) = first_difference(va, vb, &p) {
                            return Some(d);
                        }
                    }
                }
            }
            b.iter()
                .find(|(k, _)| !a.contains_key(*k))
                .map(|(k, v)| format!("{path}.{k}: not expected, got {v}"))
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                if let Some(d) = first_difference(va, vb, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (a.len() != b.len())
                .then(|| format!("{path}: expected {} entries, got {}", a.len(), b.len()))
        }
        _ => (want != got).then(|| format!("{path}: expected {want}, got {got}")),
    }
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| Value::String(format!("<unserializable: {e}>")))
}

fn describe_input(i: &Input) -> String {
    match i {
        Input::Start(_) => "start".into(),
        Input::Timer(t) => format!("timer {}", json(t)),
        Input::Message(m) => {
            let v = json(m);
            let kind = v
                .as_object()
                .and_then(|o| o.keys().next().cloned())
                .unwrap_or_default();
            format!("{kind} message")
        }
    }
}

fn compare_outputs(
    step: usize,
    input: &Input,
    want: &[Output],
    got: &[Output],
) -> Result<(), String> {
    if want == got {
        return Ok(());
    }
    let (w, g) = (json(&want.to_vec()), json(&got.to_vec()));
    let diff = first_difference(&w, &g, "$").unwrap_or_else(|| "outputs differ".into());
    Err(format!(
        "step {step} ({}): {} outputs expected, {} produced; first difference at {diff}",
        describe_input(input),
        want.len(),
        got.len()
    ))
}

/// Why a case did not pass under one rule set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseError {
    /// The implementation's output differs from the expected one (exit 1).
    Fails(String),
    /// The file is not a valid case, which only running it shows: `expected`
    /// (or a rejection's `detail`) holds a field that the operation's output
    /// does not have (exit 2).
    Malformed {
        /// The JSON path of the field.
        at: Vec<Seg>,
        /// What is wrong.
        message: String,
    },
}

impl From<String> for CaseError {
    fn from(s: String) -> Self {
        CaseError::Fails(s)
    }
}

/// An unknown field of `want` (the vector's expectation, at `base`) that the
/// implementation's output `got` does not have.
fn unknown_expected(
    want: &Value,
    got: &Value,
    base: &[Seg],
    rules: Rules,
) -> Result<(), CaseError> {
    let mut at = base.to_vec();
    if unknown_key(want, got, false, &mut at) {
        let field = match at.last() {
            Some(Seg::Key(k)) => k.clone(),
            _ => String::new(),
        };
        return Err(CaseError::Malformed {
            message: format!(
                "unknown field `{field}`: the output under rules {rules} has no such field (unknown fields are errors everywhere)"
            ),
            at,
        });
    }
    Ok(())
}

fn check_rejection(
    want: &ExpectedRejection,
    got: &ExpectedRejection,
    rules: Rules,
) -> Result<(), CaseError> {
    if want.error != got.error {
        return Err(CaseError::Fails(format!(
            "expected rejection `{}`, got rejection `{}`{}",
            want.error,
            got.error,
            got.message
                .as_ref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        )));
    }
    if let Some(d) = &want.detail {
        let g = got.detail.clone().unwrap_or(Value::Null);
        unknown_expected(d, &g, &[key("expected_rejection"), key("detail")], rules)?;
        if let Some(diff) = first_difference(d, &g, "$.expected_rejection.detail") {
            return Err(CaseError::Fails(format!(
                "rejection `{}`: {diff}",
                want.error
            )));
        }
    }
    Ok(())
}

/// Runs one case under one of its rule sets.
pub fn check_case(c: &Case<Value>, rules: Rules) -> Result<(), CaseError> {
    let expected_at = [key("expected")];
    let run = || -> Result<(), CaseError> {
        if let Op::NodeTrace(t) = &c.input {
            let r = replay(rules, t).map_err(|e| format!("input refused: {e}"))?;
            for (i, (step, got)) in t.steps.iter().zip(&r.outputs).enumerate() {
                compare_outputs(i, &step.input, &step.outputs, got)?;
            }
            let want = c.expected.as_ref().expect("checked by the envelope");
            let got = json(&r.final_state);
            unknown_expected(want, &got, &expected_at, rules)?;
            return match first_difference(want, &got, "$.expected") {
                None => Ok(()),
                Some(d) => Err(CaseError::Fails(format!("final state: {d}"))),
            };
        }
        match (c.input.execute(rules), &c.expected, &c.expected_rejection) {
            (Ok(got), Some(want), _) => {
                unknown_expected(want, &got, &expected_at, rules)?;
                match first_difference(want, &got, "$.expected") {
                    None => Ok(()),
                    Some(d) => Err(CaseError::Fails(d)),
                }
            }
            (Ok(out), None, Some(r)) => Err(CaseError::Fails(format!(
                "expected rejection `{}`, got output {out}",
                r.error,
            ))),
            (Err(Refusal::Rejected(got)), _, Some(want)) => check_rejection(want, &got, rules),
            (Err(Refusal::Rejected(got)), Some(_), None) => Err(CaseError::Fails(format!(
                "expected an output, got rejection `{}`{}",
                got.error,
                got.message.map(|m| format!(" ({m})")).unwrap_or_default()
            ))),
            (Err(Refusal::BadInput(m)), _, _) => {
                Err(CaseError::Fails(format!("input refused: {m}")))
            }
            (_, None, None) => Err(CaseError::Fails("nothing expected".into())),
        }
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(CaseError::Fails(format!(
                "the implementation panicked: {msg}"
            )))
        }
    }
}

/// Runs every vector file below `dir` (see [`scan`] for which files): a
/// file that cannot be read or is not a valid case, and an entry that
/// cannot be walked, is reported in [`RunReport::errors`] and the run goes
/// on. Fails only when `dir` is not a readable directory, or when it holds
/// no `.json` file and nothing unreadable.
pub fn run_dir(dir: &Path) -> Result<RunReport, RunError> {
    let meta = std::fs::metadata(dir).map_err(|error| RunError::Io {
        path: dir.to_path_buf(),
        error,
    })?;
    if !meta.is_dir() {
        return Err(RunError::Io {
            path: dir.to_path_buf(),
            error: std::io::Error::other("not a directory"),
        });
    }
    run_path(dir, &Filter::default())
}

/// Runs the vectors at `path`, a directory (as [`run_dir`]) or one file,
/// that `filter` admits. Fails when `path` cannot be read, is neither a
/// directory nor a regular file, or when nothing is left to run and nothing
/// is in error ([`RunError::Empty`]).
pub fn run_path(path: &Path, filter: &Filter) -> Result<RunReport, RunError> {
    let meta = std::fs::metadata(path).map_err(|error| RunError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let Scan { files, errors } = if meta.is_dir() {
        scan(path)?
    } else if meta.is_file() {
        Scan {
            files: vec![path.to_path_buf()],
            errors: Vec::new(),
        }
    } else {
        return Err(RunError::Io {
            path: path.to_path_buf(),
            error: std::io::Error::other(NOT_REGULAR),
        });
    };
    let (files, left): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|f| filter.admits(f));
    if files.is_empty() && errors.is_empty() {
        return Err(if filter.is_empty() || left.is_empty() {
            RunError::Empty(path.to_path_buf())
        } else {
            RunError::NoMatch {
                path: path.to_path_buf(),
                left_out: left.len(),
            }
        });
    }
    let mut report = RunReport {
        errors,
        left_out: left.len(),
        ..RunReport::default()
    };
    for f in files {
        run_loaded(&mut report, &f, load_text(&f));
    }
    report.errors.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(report)
}

/// Runs one file's contents as if read from `path` (whose name and
/// directory the envelope checks): what [`run_dir`] does with each file,
/// without touching the file system. The fuzz target `vectors` feeds it.
pub fn run_text(path: &Path, text: &str) -> RunReport {
    let mut report = RunReport::default();
    run_loaded(&mut report, path, parse_text(path, text.to_string()));
    report
}

/// Runs a loaded case under each of its rule sets and adds the outcome to
/// `report`.
fn run_loaded(report: &mut RunReport, f: &Path, loaded: Result<(Case<Value>, String), FileError>) {
    let (case, text) = match loaded {
        Ok(c) => c,
        Err(e) => {
            report.errors.push(e);
            return;
        }
    };
    let results: Vec<(Rules, Result<(), CaseError>)> = case
        .rules
        .iter()
        .map(|&r| (r, check_case(&case, r)))
        .collect();
    if let Some((at, msg)) = results.iter().find_map(|(_, r)| match r {
        Err(CaseError::Malformed { at, message }) => Some((at, message)),
        _ => None,
    }) {
        report.errors.push(FileError {
            file: f.to_path_buf(),
            message: format!("{}: {msg}", position(&text, at)),
        });
        return;
    }
    let count = report.suites.entry(case.suite).or_default();
    count.cases += 1;
    let mut all = true;
    for (rules, r) in results {
        let entry = count.by_rules.entry(rules.to_string()).or_default();
        entry.0 += 1;
        report.runs.push(CaseRun {
            file: f.to_path_buf(),
            suite: case.suite,
            case: case.case.clone(),
            rules,
            failure: match &r {
                Ok(()) => None,
                Err(CaseError::Fails(reason))
                | Err(CaseError::Malformed {
                    message: reason, ..
                }) => Some(reason.clone()),
            },
        });
        match r {
            Ok(()) => entry.1 += 1,
            Err(CaseError::Fails(reason))
            | Err(CaseError::Malformed {
                message: reason, ..
            }) => {
                all = false;
                report.failures.push(Failure {
                    file: f.to_path_buf(),
                    case: case.case.clone(),
                    rules,
                    reason,
                });
            }
        }
    }
    if all {
        count.passed += 1;
    }
}
