//! The model checker's throughput and memory on pinned presets: states per
//! second and resident bytes per unique state, each run in a process of its
//! own (the peak resident memory is the process's), breadth-first on one
//! thread as the README's table measures them.
//!
//! Side by side in one run: each preset under batched delivery (its pinned
//! setting), under sound delivery (the same states where no Byzantine node
//! votes twice in a step: the ratio is the cost of sound's checks) and,
//! where it finishes, one-by-one delivery (the unreduced model: the ratio
//! is what the reduction saves); and `seed-flaw1` (240 states) as the floor
//! of memory: bytes per state are `(peak - floor's peak) / unique states`,
//! the cost of the states alone. Each row is the median of three runs (one
//! with `--quick`). Then the same breadth-first search on two worker
//! threads against one (Stateright's `threads`), on the two largest
//! presets here: the speed-up on this machine's cores.
//!
//! Run: `cargo bench --bench checker` (about 9 minutes).

#![forbid(unsafe_code)]

use std::process::Command;
use time_consensus_model::check::{run, Options};
use time_consensus_model::config::{ModelConfig, VoteDelivery};

/// Presets measured, each with the deliveries it is run under: small
/// enough to run three times each in a few minutes. One-by-one delivery
/// (the unreduced model) finishes on two of them.
const PRESETS: [(&str, &[&str]); 4] = [
    ("reference", &["batched", "sound", "single"]),
    ("reference-gst", &["batched", "sound"]),
    ("reference-async", &["batched", "sound"]),
    ("reference-async-active", &["batched", "sound", "single"]),
];
/// Presets run on one and on two worker threads (batched delivery).
const THREADED: [&str; 2] = ["reference", "reference-gst"];
/// The floor of memory: a model of 240 unique states.
const FLOOR: &str = "seed-flaw1";
const CHILD: &str = "TCM_CHECKER_BENCH";

/// One run: unique states, generated states, seconds, peak resident bytes.
#[derive(Clone, Copy, Debug)]
struct Run {
    unique: usize,
    states: usize,
    seconds: f64,
    peak: u64,
}

fn delivery(name: &str) -> VoteDelivery {
    match name {
        "sound" => VoteDelivery::Sound,
        "single" => VoteDelivery::Single,
        _ => VoteDelivery::Batched,
    }
}

/// In the child: checks one preset and prints its figures.
fn child(spec: &str) {
    let mut parts = spec.split(':');
    let preset = parts.next().expect("preset");
    let votes = parts.next().expect("preset:votes:threads");
    let threads: usize = parts.next().and_then(|t| t.parse().ok()).expect("threads");
    let mut cfg = ModelConfig::preset(preset).expect("a preset");
    cfg.votes = delivery(votes);
    let opts = Options {
        threads,
        ..Options::default()
    };
    let r = run(&cfg, &opts).expect("a valid preset");
    assert!(r.complete, "{preset} did not finish");
    println!(
        "{} {} {} {}",
        r.unique_states, r.states, r.seconds, r.peak_memory_bytes
    );
}

/// In the parent: one run of `preset` under `votes` on `threads` workers,
/// in a fresh process.
fn measure(preset: &str, votes: &str, threads: usize) -> Run {
    let exe = std::env::current_exe().expect("this bench");
    let out = Command::new(exe)
        .env(CHILD, format!("{preset}:{votes}:{threads}"))
        .output()
        .expect("the child runs");
    assert!(out.status.success(), "{preset}: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    Run {
        unique: f[0].parse().expect("unique"),
        states: f[1].parse().expect("states"),
        seconds: f[2].parse().expect("seconds"),
        peak: f[3].parse().expect("peak"),
    }
}

/// The median run of `n` by time; unique states are the same in each.
fn median(preset: &str, votes: &str, n: usize) -> Run {
    median_on(preset, votes, 1, n)
}

/// As [`median`], on `threads` workers.
fn median_on(preset: &str, votes: &str, threads: usize, n: usize) -> Run {
    let mut runs: Vec<Run> = (0..n).map(|_| measure(preset, votes, threads)).collect();
    assert!(runs.windows(2).all(|w| w[0].unique == w[1].unique));
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    runs[n / 2]
}

fn mb(b: u64) -> String {
    format!("{:.0} MB", b as f64 / 1e6)
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not and
    // only checks that the bench builds and starts.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let repeats = if args.iter().any(|a| a == "--quick") {
        1
    } else {
        3
    };
    let floor = median(FLOOR, "batched", repeats);
    println!(
        "\nfloor: `{FLOOR}`, {} states, peak {}\n",
        floor.unique,
        mb(floor.peak)
    );
    println!("| preset | votes | unique states | states/s (generated) | unique/s | peak memory | bytes per state | vs batched: unique states | time | memory |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (p, deliveries) in PRESETS {
        let batched = median(p, "batched", repeats);
        for &votes in deliveries {
            let r = if votes == "batched" {
                batched
            } else {
                median(p, votes, repeats)
            };
            let per_state = r.peak.saturating_sub(floor.peak) as f64 / r.unique as f64;
            println!(
                "| `{p}` | {votes} | {} | {:.0} | {:.0} | {} | {per_state:.0} | {:.2}x | {:.2}x | {:.2}x |",
                r.unique,
                r.states as f64 / r.seconds,
                r.unique as f64 / r.seconds,
                mb(r.peak),
                r.unique as f64 / batched.unique as f64,
                r.seconds / batched.seconds,
                r.peak as f64 / batched.peak as f64,
            );
        }
    }
    println!("\n| preset | threads | unique states | seconds | states/s (generated) | peak memory | vs one thread: time | speed-up | memory |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for p in THREADED {
        let one = median_on(p, "batched", 1, repeats);
        for threads in [1, 2] {
            let r = if threads == 1 {
                one
            } else {
                median_on(p, "batched", threads, repeats)
            };
            // The same state space whatever the threads.
            assert_eq!(r.unique, one.unique, "{p} on {threads} threads");
            println!(
                "| `{p}` | {threads} | {} | {:.1} | {:.0} | {} | {:.2}x | {:.2}x | {:.2}x |",
                r.unique,
                r.seconds,
                r.states as f64 / r.seconds,
                mb(r.peak),
                r.seconds / one.seconds,
                one.seconds / r.seconds,
                r.peak as f64 / one.peak as f64,
            );
        }
    }
}
