//! The runner: reads any directory of vectors, runs every case against this
//! implementation, and says which failed and why. It never panics on bad
//! input: a file it cannot read is reported with its line and column (and the
//! JSON path of the offending key when the file parses but is not a valid
//! case), a case that fails is reported with the first difference.
//!
//! It walks the directory without following symbolic links to directories
//! (each is reported as an error, so a run that skipped vectors never
//! passes), and reports every entry it cannot read, naming its path.

use crate::exec::{applies, execute, replay, Outcome, Refusal};
use crate::format::{Case, ExpectedRejection, Op, Suite, FORMAT_VERSION};
use serde::{Deserialize as _, Serialize};
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
    /// An entry below the directory cannot be used ([`vector_files`] only;
    /// [`run_dir`] reports such entries in [`RunReport::errors`]).
    #[error("{0}")]
    Entry(FileError),
    /// No `.json` file anywhere below the directory.
    #[error("{0}: no vector files (*.json) found")]
    Empty(PathBuf),
    /// Vector files, but the filter admits none of them.
    #[error("{}: no vector matches the filter ({left_out} files left out)", path.display())]
    NoMatch {
        /// The path given.
        path: PathBuf,
        /// Files the filter left out.
        left_out: usize,
    },
}

/// What a walk of a directory found.
#[derive(Clone, Debug, Default)]
pub struct Scan {
    /// Every `.json` file, sorted.
    pub files: Vec<PathBuf>,
    /// Entries that could not be used, sorted by path: unreadable
    /// directories and entries, dangling symbolic links, and symbolic links
    /// to directories, which are not followed.
    pub errors: Vec<FileError>,
}

/// Walks `dir` (which may itself be a symbolic link): every `.json` file
/// below it, skipping hidden entries (names starting with `.`). A symbolic
/// link to a file is read like the file; a symbolic link to a directory is
/// **not followed** and is reported as an error, as is every entry whose
/// type or target cannot be read, so that nothing is skipped silently and a
/// link cycle cannot make the walk repeat or hang. Fails only when `dir`
/// itself cannot be read.
pub fn scan(dir: &Path) -> Result<Scan, RunError> {
    let mut scan = Scan::default();
    let entry_error = |path: PathBuf, message: String| FileError {
        file: path,
        message,
    };
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(error) if d == dir => {
                return Err(RunError::Io {
                    path: d.clone(),
                    error,
                })
            }
            Err(e) => {
                scan.errors
                    .push(entry_error(d, format!("cannot read the directory: {e}")));
                continue;
            }
        };
        for e in entries {
            let e = match e {
                Ok(e) => e,
                Err(e) => {
                    scan.errors.push(entry_error(
                        d.clone(),
                        format!("cannot read an entry of the directory: {e}"),
                    ));
                    continue;
                }
            };
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let p = e.path();
            // The entry's own type: a symbolic link is not followed here.
            let ty = match e.file_type() {
                Ok(t) => t,
                Err(e) => {
                    scan.errors
                        .push(entry_error(p, format!("cannot read the entry's type: {e}")));
                    continue;
                }
            };
            let is_json = p.extension().is_some_and(|x| x == "json");
            if ty.is_dir() {
                stack.push(p);
            } else if ty.is_symlink() {
                match std::fs::metadata(&p) {
                    Err(e) => scan.errors.push(entry_error(
                        p,
                        format!("symbolic link whose target cannot be read: {e}"),
                    )),
                    Ok(m) if m.is_dir() => scan.errors.push(entry_error(
                        p,
                        "symbolic link to a directory: not followed (run the runner on its target instead)"
                            .into(),
                    )),
                    Ok(m) if m.is_file() && is_json => scan.files.push(p),
                    Ok(_) if is_json => scan.errors.push(entry_error(p, NOT_REGULAR.into())),
                    Ok(_) => {}
                }
            } else if ty.is_file() && is_json {
                scan.files.push(p);
            } else if is_json {
                scan.errors.push(entry_error(p, NOT_REGULAR.into()));
            }
        }
    }
    scan.files.sort();
    scan.errors.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(scan)
}

const NOT_REGULAR: &str = "not a regular file (a FIFO, socket or device): not read";

/// The largest vector file the runner reads, bytes: 4 MiB, some sixty times
/// the largest committed vector. A larger file is refused unread.
pub const MAX_VECTOR_BYTES: u64 = 4 << 20;

/// Every `.json` file below `dir`, sorted, skipping hidden entries (see
/// [`scan`]); the first entry that cannot be used is an error.
pub fn vector_files(dir: &Path) -> Result<Vec<PathBuf>, RunError> {
    let s = scan(dir)?;
    match s.errors.into_iter().next() {
        Some(e) => Err(RunError::Entry(e)),
        None => Ok(s.files),
    }
}

/// The rule ids that spec/protocol.md and spec/seed-rules.md define (lines
/// starting with the id in bold), besides the amendments `A1`-`A6`
/// ([`time_consensus::Amendment::ALL`]). A vector may name only these; the
/// test `model/tests/vectors.rs` keeps this list equal to the spec's.
pub const DEFINED_RULE_IDS: &[&str] = &[
    "R0.1", "R0.2", "R0.3", "R0.4", "R0.5", "R0.6", "R0.7", // foundations
    "R1.1", "R1.2", "R1.3", "R1.4", // synchronization
    "R2.1", "R2.2", "R2.3", "R2.4", "R2.5", "R2.6", "R2.7", // election
    "R3.1", "R3.2", "R3.3", "R3.4", "R3.5", "R3.6", // blocks
    "R4.1", "R4.2", "R4.3", "R4.4", "R4.5", // proposals
    "R5.1", "R5.2", "R5.3", "R5.4", "R5.5", "R5.6", "R5.7", "R5.8", // votes
    "R6.1", "R6.2", "R6.3", "R6.4", "R6.5", // quorums
    "R7.1", "R7.2", "R7.3", "R7.4", "R7.5", "R7.6", "R7.7", // ladder
    "S1.1", "S1.2", "S1.3", "S1.4", // seed rules
    "S2.1", "S2.2", "S2.3", "S2.4", "S2.5", "S2.6", //
    "S4.1", "S5.1", "S6.1", "S6.2", "S6.3", "S7.1", "S7.2", "S7.3",
];

/// Whether `id` is a rule id the spec defines (R, S or an amendment).
pub fn is_defined_rule_id(id: &str) -> bool {
    DEFINED_RULE_IDS.contains(&id) || time_consensus::Amendment::ALL.iter().any(|a| a.id() == id)
}

/// One step of a JSON path: an object key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// `.key`
    Key(String),
    /// `[index]`
    Index(usize),
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// `$.input.node_trace.steps[3]`.
pub fn path_text(path: &[Seg]) -> String {
    let mut s = String::from("$");
    for seg in path {
        match seg {
            Seg::Key(k) => {
                let _ = write!(s, ".{k}");
            }
            Seg::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

/// Finds where `path` starts in the JSON `text` (already known to parse):
/// the byte offset of its last key's opening quote, or of its last array
/// entry; `$` itself is the first non-blank byte. Keys are compared
/// without decoding escapes (the format's keys have none).
fn locate(text: &str, path: &[Seg]) -> Option<usize> {
    struct Scanner<'a> {
        s: &'a [u8],
        i: usize,
    }
    impl Scanner<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }
        /// Skips a string starting at its opening quote; returns its raw content.
        fn string(&mut self) -> Option<&[u8]> {
            if self.s.get(self.i) != Some(&b'"') {
                return None;
            }
            let start = self.i + 1;
            let mut j = start;
            while j < self.s.len() && self.s[j] != b'"' {
                j += if self.s[j] == b'\\' { 2 } else { 1 };
            }
            let content = self.s.get(start..j)?;
            self.i = j + 1;
            Some(content)
        }
        /// Skips one value; if `path` is not empty, looks for it inside.
        fn value(&mut self, path: &[Seg]) -> Option<Option<usize>> {
            self.ws();
            match *self.s.get(self.i)? {
                b'{' => {
                    self.i += 1;
                    let mut found = None;
                    loop {
                        self.ws();
                        if self.s.get(self.i) == Some(&b'}') {
                            self.i += 1;
                            return Some(found);
                        }
                        let at = self.i;
                        let k = self.string()?.to_vec();
                        self.ws();
                        if self.s.get(self.i) != Some(&b':') {
                            return None;
                        }
                        self.i += 1;
                        let hit =
                            matches!(path.first(), Some(Seg::Key(want)) if want.as_bytes() == k);
                        if hit && path.len() == 1 {
                            found = found.or(Some(at));
                        }
                        let inner = self.value(if hit { &path[1..] } else { &[] })?;
                        found = found.or(inner);
                        self.ws();
                        if self.s.get(self.i) == Some(&b',') {
                            self.i += 1;
                        }
                    }
                }
                b'[' => {
                    self.i += 1;
                    let mut found = None;
                    let mut n = 0;
                    loop {
                        self.ws();
                        if self.s.get(self.i) == Some(&b']') {
                            self.i += 1;
                            return Some(found);
                        }
                        let hit = matches!(path.first(), Some(Seg::Index(want)) if *want == n);
                        if hit && path.len() == 1 {
                            found = found.or(Some(self.i));
                        }
                        let inner = self.value(if hit { &path[1..] } else { &[] })?;
                        found = found.or(inner);
                        n += 1;
                        self.ws();
                        if self.s.get(self.i) == Some(&b',') {
                            self.i += 1;
                        }
                    }
                }
                b'"' => self.string().map(|_| None),
                _ => {
                    while self.i < self.s.len()
                        && !matches!(self.s[self.i], b',' | b'}' | b']')
                        && !self.s[self.i].is_ascii_whitespace()
                    {
                        self.i += 1;
                    }
                    Some(None)
                }
            }
        }
    }
    let mut sc = Scanner {
        s: text.as_bytes(),
        i: 0,
    };
    sc.ws();
    if path.is_empty() {
        return (sc.i < text.len()).then_some(sc.i);
    }
    sc.value(path).flatten()
}

/// `line L, column C ($.path)` for `path` in `text`, 1-based, columns in
/// characters; just `$.path` when it cannot be found.
fn position(text: &str, path: &[Seg]) -> String {
    let p = path_text(path);
    match locate(text, path) {
        Some(offset) => {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column} ({p})")
        }
        None => p,
    }
}

/// The first key of `have` (in key order, depth first) that `known` lacks
/// at the same place: an object key of `have` with no counterpart in the
/// object `known` holds there. Where the two are not both objects or both
/// arrays nothing is reported (that is a difference, not an unknown field).
/// With `null_is_absent`, a key of `have` whose value is `null` may be
/// missing from `known` (an absent optional field is serialized as nothing).
fn unknown_key(have: &Value, known: &Value, null_is_absent: bool, path: &mut Vec<Seg>) -> bool {
    match (have, known) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                path.push(key(k));
                let unknown = match b.get(k) {
                    None => !(null_is_absent && va.is_null()),
                    Some(vb) => unknown_key(va, vb, null_is_absent, path),
                };
                if unknown {
                    return true;
                }
                path.pop();
            }
            false
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                path.push(Seg::Index(i));
                if unknown_key(va, vb, null_is_absent, path) {
                    return true;
                }
                path.pop();
            }
            false
        }
        _ => false,
    }
}

/// Reads and checks the envelope of one vector file.
pub fn load(path: &Path) -> Result<Case<Value>, FileError> {
    load_text(path).map(|(c, _)| c)
}

/// [`load`], also returning the file's text (to locate later errors in it).
fn load_text(path: &Path) -> Result<(Case<Value>, String), FileError> {
    let err = |message: String| FileError {
        file: path.to_path_buf(),
        message,
    };
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(err(NOT_REGULAR.into()));
    }
    if meta.len() > MAX_VECTOR_BYTES {
        return Err(err(format!(
            "{} bytes, over the limit of {MAX_VECTOR_BYTES}: refused unread",
            meta.len()
        )));
    }
    // Bounded even if the file grows after the check.
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_VECTOR_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| err(format!("cannot read: {e}")))?;
    if text.len() as u64 > MAX_VECTOR_BYTES {
        return Err(err(format!(
            "over the limit of {MAX_VECTOR_BYTES} bytes: refused"
        )));
    }
    parse_text(path, text)
}

/// Parses and checks the envelope of a file's contents, `path` naming the
/// case and suite it must declare.
fn parse_text(path: &Path, text: String) -> Result<(Case<Value>, String), FileError> {
    let err = |message: String| FileError {
        file: path.to_path_buf(),
        message,
    };
    let located = |e: serde_json::Error| {
        // serde_json ends its message with the position; say it once, first.
        let text = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let msg = text.strip_suffix(&suffix).unwrap_or(&text);
        err(format!("line {}, column {}: {msg}", e.line(), e.column()))
    };
    // The text is parsed once; only a file that is no case is read again,
    // to find the line and column of what is wrong.
    let raw: Value = serde_json::from_str(&text).map_err(located)?;
    let case: Case<Value> = match Case::deserialize(&raw) {
        Ok(c) => c,
        Err(e) => {
            return Err(match serde_json::from_str::<Case<Value>>(&text) {
                Err(e) => located(e),
                Ok(_) => err(format!("{e}")),
            })
        }
    };
    // Types of the implementation (events, rejections, timers, outputs) do
    // not all refuse unknown fields; a field the typed reading dropped is
    // one it does not know.
    let typed = serde_json::to_value(&case).map_err(|e| err(format!("{e}")))?;
    let mut at = Vec::new();
    if unknown_key(&raw, &typed, true, &mut at) {
        return Err(err(format!(
            "{}: unknown field `{}` (unknown fields are errors everywhere)",
            position(&text, &at),
            match at.last() {
                Some(Seg::Key(k)) => k.as_str(),
                _ => "?",
            }
        )));
    }
    check_envelope(path, &case)
        .map_err(|(at, msg)| err(format!("{}: {msg}", position(&text, &at))))?;
    Ok((case, text))
}

fn check_envelope(path: &Path, c: &Case<Value>) -> Result<(), (Vec<Seg>, String)> {
    let at = |p: Vec<Seg>, m: String| Err((p, m));
    if c.format != FORMAT_VERSION {
        return at(
            vec![key("format")],
            format!(
                "format {:?} is not supported; this runner reads {FORMAT_VERSION:?}",
                c.format
            ),
        );
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    if stem.as_deref() != Some(c.case.as_str()) {
        return at(
            vec![key("case")],
            format!(
                "case {:?} does not match the file name (expected the case to be named after the file)",
                c.case
            ),
        );
    }
    if let Some(dir) = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|d| Suite::from_name(&d.to_string_lossy()))
    {
        if dir != c.suite {
            return at(
                vec![key("suite")],
                format!(
                    "suite {:?} lies in the directory of suite {:?}",
                    c.suite.name(),
                    dir.name()
                ),
            );
        }
    }
    if c.input.suite() != c.suite {
        return at(
            vec![key("input"), key(c.input.name())],
            format!(
                "operation `{}` belongs to suite {:?}, not {:?}",
                c.input.name(),
                c.input.suite().name(),
                c.suite.name()
            ),
        );
    }
    if c.rules.is_empty() {
        return at(vec![key("rules")], "name at least one rule set".into());
    }
    if c.rule_ids.is_empty() {
        return at(vec![key("rule_ids")], "name at least one rule id".into());
    }
    if let Some((i, bad)) = c
        .rule_ids
        .iter()
        .enumerate()
        .find(|(_, id)| !is_defined_rule_id(id))
    {
        return at(
            vec![key("rule_ids"), Seg::Index(i)],
            format!(
                "{bad:?} is not a rule id that spec/protocol.md or spec/seed-rules.md defines (R0.1-R7.7, S1.1-S7.3, A1-A7)"
            ),
        );
    }
    match (&c.expected, &c.expected_rejection, &c.input) {
        (Some(_), Some(_), _) => {
            return at(
                vec![key("expected_rejection")],
                "give either `expected` or `expected_rejection`, not both".into(),
            )
        }
        (None, None, _) => {
            return at(
                Vec::new(),
                "give `expected` or `expected_rejection` (neither is present)".into(),
            )
        }
        (None, Some(_), Op::NodeTrace(_)) => {
            return at(
                vec![key("expected_rejection")],
                "a node trace expects outputs per step and a final state in `expected`; rejections are events in the outputs"
                    .into(),
            )
        }
        _ => {}
    }
    for (i, r) in c.rules.iter().enumerate() {
        applies(&c.input, *r).map_err(|m| (vec![key("rules"), Seg::Index(i)], m))?;
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
        match (execute(rules, &c.input), &c.expected, &c.expected_rejection) {
            (Ok(out), Some(want), _) => {
                let got = json::<Outcome>(&out);
                unknown_expected(want, &got, &expected_at, rules)?;
                match first_difference(want, &got, "$.expected") {
                    None => Ok(()),
                    Some(d) => Err(CaseError::Fails(d)),
                }
            }
            (Ok(out), None, Some(r)) => Err(CaseError::Fails(format!(
                "expected rejection `{}`, got output {}",
                r.error,
                json(&out)
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
