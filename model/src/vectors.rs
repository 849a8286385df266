//! The conformance vectors' commands (`tcm vectors`, `tcm conform`): the
//! generator and runner live in `time-consensus-vectors` (`spec/conformance`);
//! this adds the vectors only the model checker can make, node traces of its
//! own paths ([`model_traces`]).

pub mod model_traces;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::ExitCode;
use time_consensus_vectors::{run, Generated, WriteError, WriteReport};

/// Every vector the project commits, the model's paths included, sorted by
/// suite and name, or the generator's own errors.
pub fn generate_all() -> Result<Vec<Generated>, Vec<String>> {
    time_consensus_vectors::generate_all(model_traces::model_traces)
}

/// Writes every vector of [`generate_all`] under `dir`
/// ([`time_consensus_vectors::write_all`]).
pub fn write_all(dir: &Path) -> Result<WriteReport, WriteError> {
    time_consensus_vectors::write_all(dir, generate_all())
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
