//! Fuzz target `vectors`: the conformance-vector runner fed arbitrary bytes
//! as the contents of one vector file.
//!
//! The runner promises to read any file, report what it cannot use, and run
//! every case it can against the implementation; so whatever the bytes, it
//! must return: no panic, no abort, no hang, no unbounded allocation
//! (libFuzzer's `-timeout` and `-rss_limit_mb` enforce the last two). The
//! runner catches panics of the implementation to report them as failed
//! cases, but libFuzzer's panic hook aborts first, so a panic anywhere in
//! the implementation on a crafted case is reported here as a crash.
//!
//! The corpus is seeded with the committed vectors (`impl/fuzz/run` copies
//! them in). The envelope check wants the file to be named after its case
//! and to lie in its suite's directory, so the path handed to the runner is
//! made from the `suite` and `case` the text declares, where it parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use time_consensus_vectors::run::run_text;

/// `<suite>/<case>.json` as the text declares them, else a fixed name.
fn path_for(text: &str) -> PathBuf {
    let v: Option<serde_json::Value> = serde_json::from_str(text).ok();
    let field = |k: &str| {
        v.as_ref()
            .and_then(|v| v.get(k))
            .and_then(|s| s.as_str())
            .filter(|s| !s.is_empty() && !s.contains(['/', '\\', '\0']) && *s != "." && *s != "..")
            .map(str::to_owned)
    };
    let suite = field("suite").unwrap_or_else(|| "fuzz".into());
    let case = field("case").unwrap_or_else(|| "fuzz".into());
    PathBuf::from(suite).join(format!("{case}.json"))
}

fuzz_target!(|data: &[u8]| {
    // Vector files are UTF-8 text; the runner reads them as such.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let report = run_text(&path_for(text), text);
    // Exactly one outcome per file: an error, or one case counted.
    assert!(
        report.errors.len() + report.cases() == 1,
        "{}",
        report.render()
    );
});
