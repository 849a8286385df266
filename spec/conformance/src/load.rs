//! Reading vector files: the walk of a directory, the size limit, the
//! parse with line and column, and the envelope check (format, names,
//! suite, rule sets and rule ids).

use crate::format::{Case, Op, Suite, FORMAT_VERSION};
use serde::Deserialize as _;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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

pub(crate) const NOT_REGULAR: &str = "not a regular file (a FIFO, socket or device): not read";

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
/// starting with the id in bold), besides the amendments `A1`-`A7`
/// ([`time_consensus::Amendment::ALL`]). A vector may name only these; the
/// test `the_runner_knows_exactly_the_rule_ids_the_spec_defines` in
/// `spec/conformance/tests/runner.rs` keeps this list equal to the spec's.
pub const DEFINED_RULE_IDS: &[&str] = &[
    "R0.1", "R0.2", "R0.3", "R0.4", "R0.5", "R0.6", "R0.7", // foundations
    "R1.1", "R1.2", "R1.3", "R1.4", // synchronization
    "R2.1", "R2.2", "R2.3", "R2.4", "R2.5", "R2.6", "R2.7", // election
    "R3.1", "R3.2", "R3.3", "R3.4", "R3.5", "R3.6", // blocks
    "R4.1", "R4.2", "R4.3", "R4.4", "R4.5", // proposals
    "R5.1", "R5.2", "R5.3", "R5.4", "R5.5", "R5.6", "R5.7", "R5.8", // votes
    "R6.1", "R6.2", "R6.3", "R6.4", "R6.5", // quorums
    "R7.1", "R7.2", "R7.3", "R7.4", "R7.5", "R7.6", "R7.7", "R7.8", // ladder
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

pub(crate) fn key(k: &str) -> Seg {
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
pub(crate) fn position(text: &str, path: &[Seg]) -> String {
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
pub(crate) fn unknown_key(
    have: &Value,
    known: &Value,
    null_is_absent: bool,
    path: &mut Vec<Seg>,
) -> bool {
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
pub(crate) fn load_text(path: &Path) -> Result<(Case<Value>, String), FileError> {
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
pub(crate) fn parse_text(path: &Path, text: String) -> Result<(Case<Value>, String), FileError> {
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
        let name = c.input.name();
        return at(
            vec![key("input"), key(&name)],
            format!(
                "operation `{name}` belongs to suite {:?}, not {:?}",
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
                "{bad:?} is not a rule id that spec/protocol.md or spec/seed-rules.md defines (R0.1-R7.8, S1.1-S7.3, A1-A7)"
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
        c.input
            .applies(*r)
            .map_err(|m| (vec![key("rules"), Seg::Index(i)], m))?;
    }
    Ok(())
}
