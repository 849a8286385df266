//! Conformance vectors (spec/vectors): the generator that writes them and
//! the runner that checks any directory of them against this
//! implementation.
//!
//! A vector is one self-describing JSON file, `<suite>/<case>.json`, in the
//! format of `spec/vectors/FORMAT.md` ([`mod@format`] is its Rust reading).
//! Expected outputs are never typed in by hand: the generator builds the
//! inputs and asks the implementation ([`exec`]), so the committed vectors
//! pin down what this implementation does, byte for byte, and another
//! implementation that passes them agrees with it.

pub mod blocks;
pub mod exec;
pub mod format;
pub mod generate;
pub mod model_traces;
pub mod run;
pub mod suites;
pub mod traces;

pub use format::{Case, Suite, FORMAT_VERSION};
pub use generate::Generated;
pub use run::{run_dir, RunError, RunReport};

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::ExitCode;

/// Every case, sorted by suite and name, or the generator's own errors.
pub fn generate_all() -> Result<Vec<Generated>, Vec<String>> {
    let mut g = generate::Gen::default();
    suites::weights(&mut g);
    suites::election(&mut g);
    suites::heartbeat(&mut g);
    suites::tally(&mut g);
    suites::fallback(&mut g);
    blocks::block(&mut g);
    blocks::signatures(&mut g);
    traces::node_traces(&mut g);
    model_traces::model_traces(&mut g);
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

/// Writes every case to `dir/<suite>/<case>.json`, removing any other
/// `.json` file in those suite directories (they are the generator's own);
/// other files, such as `FORMAT.md`, are left alone.
pub fn write_all(dir: &Path) -> Result<WriteReport, WriteError> {
    let cases = generate_all().map_err(WriteError::Generator)?;
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

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

/// `tcm vectors --out DIR`: 0 on success, 2 when nothing could be written.
pub fn cli_vectors(out: &Path) -> ExitCode {
    match catch_unwind(AssertUnwindSafe(|| write_all(out))) {
        Ok(Ok(r)) => {
            crate::print_out(&format!(
                "wrote {} vector files under {} ({} stale files removed)\n",
                r.written,
                out.display(),
                r.removed
            ));
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(p) => {
            eprintln!("error: the generator panicked: {}", panic_text(p));
            ExitCode::from(2)
        }
    }
}

/// `tcm conform DIR`: 0 when every case passes, 1 when a case fails, 2 when
/// the directory or a file in it cannot be read.
pub fn cli_conform(
    path: &Path,
    filter: &run::Filter,
    json: bool,
    junit: Option<&Path>,
) -> ExitCode {
    match run::run_path(path, filter) {
        Ok(r) => {
            if json {
                crate::print_out(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&r.to_json()).unwrap_or_default()
                ));
            } else {
                crate::print_out(&r.render());
            }
            if let Some(j) = junit {
                if let Err(e) = std::fs::write(j, r.to_junit()) {
                    eprintln!("error: --junit {}: {e}", j.display());
                    return ExitCode::from(2);
                }
            }
            if !r.errors.is_empty() {
                ExitCode::from(2)
            } else if !r.failures.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
