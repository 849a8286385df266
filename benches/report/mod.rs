//! Reads a run's criterion estimates back and prints the report table that
//! `benches/REPORT.md` quotes; shared by both benches.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

fn criterion_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(d);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("criterion")
}

fn estimate(prefix: &str, function: &str, n: usize, since: SystemTime) -> Option<f64> {
    estimate_in(&criterion_dir(), prefix, function, n, since)
}

/// Criterion's estimate of the time of one iteration of `function` at size
/// `n`, in ns, if it was written at or after `since` (by this run): the
/// slope if criterion sampled linearly, else the mean, as criterion prints
/// it. Read from the `estimates.json` criterion writes under
/// `dir/<prefix>_<function>/<n>/new/`; `None` if it is missing, older or
/// not criterion's shape.
pub fn estimate_in(
    dir: &Path,
    prefix: &str,
    function: &str,
    n: usize,
    since: SystemTime,
) -> Option<f64> {
    let path = dir
        .join(format!("{prefix}_{function}"))
        .join(n.to_string())
        .join("new")
        .join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let point = |key: &str| v.get(key)?.get("point_estimate")?.as_f64();
    point("slope").or_else(|| point("mean"))
}

fn time(ns: f64) -> String {
    match ns {
        ns if ns >= 1e9 => format!("{:.2} s", ns / 1e9),
        ns if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
        ns => format!("{ns:.2} ns"),
    }
}

/// One row per size and bench in `rows` (bench, its floor), with the
/// time of one iteration, the time per element and the ratios of the
/// iteration times to `seed` and to the floor.
pub fn print(
    since: SystemTime,
    prefix: &str,
    element: &str,
    sizes: &[usize],
    rows: &[(&str, &str)],
    seed: &str,
) {
    let mut lines = Vec::new();
    for &n in sizes {
        for (row, floor) in rows {
            let Some(t) = estimate(prefix, row, n, since) else {
                continue;
            };
            let ratio = |other: &str| {
                estimate(prefix, other, n, since).map_or("-".into(), |o| format!("{:.2}x", t / o))
            };
            lines.push(format!(
                "| {n} | `{row}` | {} | {} | {} | {} | `{floor}` |",
                time(t),
                time(t / n as f64),
                ratio(seed),
                ratio(floor),
            ));
        }
    }
    if lines.is_empty() {
        return;
    }
    println!();
    println!("| {element}s | bench | time | per {element} | vs `{seed}` | vs floor | floor |");
    println!("|---:|---|---:|---:|---:|---:|---|");
    for line in lines {
        println!("{line}");
    }
}
