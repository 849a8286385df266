//! Conformance vectors (spec/vectors): their format, the generator that
//! writes them and the runner that checks any directory of them against
//! `time-consensus`.
//!
//! A vector is one self-describing JSON file, `<suite>/<case>.json`, in the
//! format of `spec/vectors/FORMAT.md` ([`mod@format`] is its Rust reading).
//! Expected outputs are never typed in by hand: the generator builds the
//! inputs and asks the implementation (each [`Operation`]), so the committed vectors
//! pin down what this implementation does, byte for byte, and another
//! implementation that passes them agrees with it.

pub mod format;
pub mod generate;
pub mod load;
pub mod run;
pub mod suites;

pub use format::{Case, Operation, Suite, FORMAT_VERSION};
pub use generate::{Gen, Generated};
pub use run::{run_dir, RunError, RunReport};

use std::path::Path;

/// Every case written here, then those `more` adds (the model checker's
/// paths, which this crate cannot run), sorted by suite and name, or the
/// generator's own errors.
pub fn generate_all(more: impl FnOnce(&mut Gen)) -> Result<Vec<Generated>, Vec<String>> {
    let mut g = Gen::default();
    suites::weights::weights(&mut g);
    suites::election::election(&mut g);
    suites::heartbeat::heartbeat(&mut g);
    suites::tally::tally(&mut g);
    suites::fallback::fallback(&mut g);
    suites::block::block(&mut g);
    suites::signatures::signatures(&mut g);
    suites::node_trace::node_traces(&mut g);
    more(&mut g);
    g.finish()
}

/// What [`write_all`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files written.
    pub written: usize,
    /// Stale `.json` files removed from the suite directories.
    pub removed: usize,
}

/// Why the vectors could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The generator failed (a bug in it, never bad input).
    #[error("the generator failed:\n  {}", .0.join("\n  "))]
    Generator(Vec<String>),
    /// A file could not be written or removed.
    #[error("{path}: {error}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The error.
        error: std::io::Error,
    },
}

/// Writes `cases` (from [`generate_all`]) to `dir/<suite>/<case>.json`, removing any other
/// `.json` file in those suite directories (they are the generator's own);
/// other files, such as `FORMAT.md`, are left alone.
pub fn write_all(
    dir: &Path,
    cases: Result<Vec<Generated>, Vec<String>>,
) -> Result<WriteReport, WriteError> {
    let cases = cases.map_err(WriteError::Generator)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| WriteError::Io { path, error }
    };
    let mut report = WriteReport::default();
    for suite in Suite::ALL {
        let sd = dir.join(suite.name());
        std::fs::create_dir_all(&sd).map_err(io(&sd))?;
        let keep: std::collections::BTreeSet<String> = cases
            .iter()
            .filter(|c| c.suite == suite)
            .map(|c| format!("{}.json", c.name))
            .collect();
        for e in std::fs::read_dir(&sd).map_err(io(&sd))? {
            let e = e.map_err(io(&sd))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !keep.contains(&name) {
                std::fs::remove_file(e.path()).map_err(io(&e.path()))?;
                report.removed += 1;
            }
        }
    }
    for c in &cases {
        let p = dir.join(c.suite.name()).join(format!("{}.json", c.name));
        let same = std::fs::read(&p).is_ok_and(|old| old == c.json.as_bytes());
        if !same {
            std::fs::write(&p, &c.json).map_err(io(&p))?;
        }
        report.written += 1;
    }
    Ok(report)
}
