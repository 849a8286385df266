//! `--engine timely` against Stateright's breadth-first search, side by
//! side in one run: states per second and peak resident memory per
//! process, for Stateright on 1 and 2 threads, timely on 1, 2 and 4 worker
//! threads, and timely as 2 and 4 processes of one worker on loopback TCP
//! (every state that crosses processes rebuilt from its path). Each run is
//! a process of its own (each process of a cluster too), so each peak is
//! that process's. Every run must find the same unique states.
//!
//! Run: `cargo bench --bench dataflow` (about 8 minutes; `-- --quick`
//! measures `reference-gst` only).

#![forbid(unsafe_code)]

use std::process::{Child, Command, Stdio};
use time_consensus_model::check::dataflow::Workers;
use time_consensus_model::check::{run, Engine, Options};
use time_consensus_model::config::ModelConfig;

const CHILD: &str = "TCM_DATAFLOW_BENCH";

/// `tcm`'s allocator, so that both engines run as `tcm check` runs them.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// One process's figures.
#[derive(Clone, Copy, Debug)]
struct Figures {
    unique: usize,
    states: usize,
    seconds: f64,
    peak: u64,
}

/// In a child: `preset:engine:threads[:process:addresses]`, checked; prints
/// unique states, generated states, seconds and peak resident bytes.
fn child(spec: &str) {
    let f: Vec<&str> = spec.split(':').collect();
    let (preset, engine, threads) = (f[0], f[1], f[2].parse().expect("threads"));
    let engine = match engine {
        "stateright" => Engine::Stateright,
        "threads" => Engine::Timely(Workers::Threads(threads)),
        _ => Engine::Timely(Workers::Cluster {
            threads,
            process: f[3].parse().expect("process"),
            addresses: f[4].split(',').map(|a| a.replace('/', ":")).collect(),
        }),
    };
    let opts = Options {
        engine,
        threads,
        ..Options::default()
    };
    let r = run(&ModelConfig::preset(preset).expect("a preset"), &opts).expect("runs");
    println!(
        "{} {} {} {}",
        r.unique_states, r.states, r.seconds, r.peak_memory_bytes
    );
}

fn spawn(spec: String) -> Child {
    Command::new(std::env::current_exe().expect("this bench"))
        .env(CHILD, spec)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the child runs")
}

fn figures(c: Child) -> Figures {
    let out = c.wait_with_output().expect("the child ends");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    Figures {
        unique: f[0].parse().expect("unique"),
        states: f[1].parse().expect("states"),
        seconds: f[2].parse().expect("seconds"),
        peak: f[3].parse().expect("peak"),
    }
}

/// A run: process 0's figures and every process's peak.
fn measure(preset: &str, engine: &str, threads: usize, processes: usize) -> (Figures, Vec<u64>) {
    if processes == 1 {
        let f = figures(spawn(format!("{preset}:{engine}:{threads}")));
        return (f, vec![f.peak]);
    }
    let addresses: Vec<String> = (0..processes)
        .map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
            l.local_addr().expect("bound").to_string().replace(':', "/")
        })
        .collect();
    let all = addresses.join(",");
    let children: Vec<Child> = (0..processes)
        .rev()
        .map(|i| spawn(format!("{preset}:cluster:{threads}:{i}:{all}")))
        .collect();
    let mut runs: Vec<Figures> = children.into_iter().map(figures).collect();
    runs.reverse();
    (runs[0], runs.iter().map(|r| r.peak).collect())
}

fn mb(b: u64) -> String {
    format!("{:.0} MB", b as f64 / 1e6)
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let args: Vec<String> = std::env::args().collect();
    // `cargo test --benches` only checks that the bench builds and starts.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let presets: &[&str] = if args.iter().any(|a| a == "--quick") {
        &["reference-gst"]
    } else {
        &["reference-gst", "reference"]
    };
    let runs = [
        ("Stateright BFS", "stateright", 1, 1),
        ("Stateright BFS", "stateright", 2, 1),
        ("timely, threads", "threads", 1, 1),
        ("timely, threads", "threads", 2, 1),
        ("timely, threads", "threads", 4, 1),
        ("timely, processes", "cluster", 1, 2),
        ("timely, processes", "cluster", 1, 4),
    ];
    println!("| preset | engine | threads × processes | unique states | seconds | states/s (generated) | peak memory per process | vs Stateright on 1 thread: states/s | peak memory, all processes |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for p in presets {
        let mut base = None;
        for (label, engine, threads, processes) in runs {
            let (f, peaks) = measure(p, engine, threads, processes);
            let (b, _) = *base.get_or_insert((f, peaks.clone()));
            assert_eq!(f.unique, b.unique, "{p}: {label} {threads}x{processes}");
            let rate = f.states as f64 / f.seconds;
            let total: u64 = peaks.iter().sum();
            println!(
                "| `{p}` | {label} | {threads} × {processes} | {} | {:.1} | {rate:.0} | {} | {:.2}x | {:.2}x |",
                f.unique,
                f.seconds,
                peaks.iter().map(|&b| mb(b)).collect::<Vec<_>>().join(", "),
                rate / (b.states as f64 / b.seconds),
                total as f64 / b.peak as f64,
            );
        }
    }
}
