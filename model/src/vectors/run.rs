//! The runner: reads any directory of vectors, runs every case against this
//! implementation, and says which failed and why. It never panics on bad
//! input: a file it cannot read is reported with its line and column, a
//! case that fails is reported with the first difference.

use super::exec::{applies, execute, replay, Outcome, Refusal};
use super::format::{Case, ExpectedRejection, Op, Suite, FORMAT_VERSION};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use time_consensus::node::{Input, Output};
use time_consensus::Rules;

/// A file the runner could not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong, with the line and column when it is a parse error.
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
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
            "{:<12} {:>6} {:>6}   ({} failed, {} unreadable files)",
            "total",
            self.cases(),
            self.passed(),
            self.failures.len(),
            self.errors.len()
        );
        s
    }
}

/// Why a directory cannot be run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Not a readable directory.
    #[error("{path}: {error}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// No `.json` file anywhere below the directory.
    #[error("{0}: no vector files (*.json) found")]
    Empty(PathBuf),
}

/// Every `.json` file below `dir`, sorted, skipping hidden entries.
pub fn vector_files(dir: &Path) -> Result<Vec<PathBuf>, RunError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|error| RunError::Io {
            path: d.clone(),
            error,
        })?;
        for e in entries {
            let e = e.map_err(|error| RunError::Io {
                path: d.clone(),
                error,
            })?;
            let p = e.path();
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads and checks the envelope of one vector file.
pub fn load(path: &Path) -> Result<Case<Value>, FileError> {
    let err = |message: String| FileError {
        file: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let case: Case<Value> = serde_json::from_str(&text).map_err(|e| {
        // serde_json ends its message with the position; say it once, first.
        let text = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let msg = text.strip_suffix(&suffix).unwrap_or(&text);
        err(format!("line {}, column {}: {msg}", e.line(), e.column()))
    })?;
    check_envelope(path, &case).map_err(err)?;
    Ok(case)
}

fn valid_rule_id(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() < 2 || !matches!(b[0], b'R' | b'S' | b'A') {
        return false;
    }
    let rest = &id[1..];
    let mut parts = rest.split('.');
    let major = parts.next().unwrap_or("");
    let minor = parts.next();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    parts.next().is_none() && digits(major) && minor.is_none_or(digits)
}

fn check_envelope(path: &Path, c: &Case<Value>) -> Result<(), String> {
    if c.format != FORMAT_VERSION {
        return Err(format!(
            "format {:?} is not supported; this runner reads {FORMAT_VERSION:?}",
            c.format
        ));
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    if stem.as_deref() != Some(c.case.as_str()) {
        return Err(format!(
            "case {:?} does not match the file name (expected the case to be named after the file)",
            c.case
        ));
    }
    if let Some(dir) = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|d| Suite::from_name(&d.to_string_lossy()))
    {
        if dir != c.suite {
            return Err(format!(
                "suite {:?} lies in the directory of suite {:?}",
                c.suite.name(),
                dir.name()
            ));
        }
    }
    if c.input.suite() != c.suite {
        return Err(format!(
            "operation `{}` belongs to suite {:?}, not {:?}",
            c.input.name(),
            c.input.suite().name(),
            c.suite.name()
        ));
    }
    if c.rules.is_empty() {
        return Err("rules: name at least one rule set".into());
    }
    if c.rule_ids.is_empty() {
        return Err("rule_ids: name at least one rule id".into());
    }
    if let Some(bad) = c.rule_ids.iter().find(|id| !valid_rule_id(id)) {
        return Err(format!(
            "rule_ids: {bad:?} is not a rule id (R1.2, S6.1, A3...)"
        ));
    }
    match (&c.expected, &c.expected_rejection, &c.input) {
        (Some(_), Some(_), _) => {
            return Err("give either `expected` or `expected_rejection`, not both".into())
        }
        (None, None, _) => return Err("give `expected` or `expected_rejection`".into()),
        (None, Some(_), Op::NodeTrace(_)) => {
            return Err(
                "a node trace expects outputs per step and a final state in `expected`; rejections are events in the outputs"
                    .into(),
            )
        }
        _ => {}
    }
    for r in &c.rules {
        applies(&c.input, *r)?;
    }
    Ok(())
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

fn check_rejection(want: &ExpectedRejection, got: &ExpectedRejection) -> Result<(), String> {
    if want.error != got.error {
        return Err(format!(
            "expected rejection `{}`, got rejection `{}`{}",
            want.error,
            got.error,
            got.message
                .as_ref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ));
    }
    if let Some(d) = &want.detail {
        let g = got.detail.clone().unwrap_or(Value::Null);
        if let Some(diff) = first_difference(d, &g, "$.detail") {
            return Err(format!("rejection `{}`: {diff}", want.error));
        }
    }
    Ok(())
}

/// Runs one case under one of its rule sets.
pub fn check_case(c: &Case<Value>, rules: Rules) -> Result<(), String> {
    let run = || -> Result<(), String> {
        if let Op::NodeTrace(t) = &c.input {
            let r = replay(rules, t).map_err(|e| format!("input refused: {e}"))?;
            for (i, (step, got)) in t.steps.iter().zip(&r.outputs).enumerate() {
                compare_outputs(i, &step.input, &step.outputs, got)?;
            }
            let want = c.expected.as_ref().expect("checked by the envelope");
            let got = json(&r.final_state);
            return match first_difference(want, &got, "$.expected") {
                None => Ok(()),
                Some(d) => Err(format!("final state: {d}")),
            };
        }
        match (execute(rules, &c.input), &c.expected, &c.expected_rejection) {
            (Ok(out), Some(want), _) => {
                let got = json::<Outcome>(&out);
                match first_difference(want, &got, "$.expected") {
                    None => Ok(()),
                    Some(d) => Err(d),
                }
            }
            (Ok(out), None, Some(r)) => Err(format!(
                "expected rejection `{}`, got output {}",
                r.error,
                json(&out)
            )),
            (Err(Refusal::Rejected(got)), _, Some(want)) => check_rejection(want, &got),
            (Err(Refusal::Rejected(got)), Some(_), None) => Err(format!(
                "expected an output, got rejection `{}`{}",
                got.error,
                got.message.map(|m| format!(" ({m})")).unwrap_or_default()
            )),
            (Err(Refusal::BadInput(m)), _, _) => Err(format!("input refused: {m}")),
            (_, None, None) => Err("nothing expected".into()),
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
            Err(format!("the implementation panicked: {msg}"))
        }
    }
}

/// Runs every vector file below `dir`.
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
    let files = vector_files(dir)?;
    if files.is_empty() {
        return Err(RunError::Empty(dir.to_path_buf()));
    }
    let mut report = RunReport::default();
    for f in files {
        let case = match load(&f) {
            Ok(c) => c,
            Err(e) => {
                report.errors.push(e);
                continue;
            }
        };
        let count = report.suites.entry(case.suite).or_default();
        count.cases += 1;
        let mut all = true;
        for &rules in &case.rules {
            let r = check_case(&case, rules);
            let entry = count.by_rules.entry(rules.to_string()).or_default();
            entry.0 += 1;
            match r {
                Ok(()) => entry.1 += 1,
                Err(reason) => {
                    all = false;
                    report.failures.push(Failure {
                        file: f.clone(),
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
    Ok(report)
}
