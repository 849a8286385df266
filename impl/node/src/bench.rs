//! `time-node bench`: clusters of growing size on loopback, each run for a
//! number of heights, reported as finality latency (p50, p99 over every
//! honest member's heights but the first), heights per second and the CPU
//! time each member spends per height (from `/proc`, user + system).

use crate::cluster::{fast_config, Cluster, ClusterError, ClusterSpec};
use crate::genesis::Behaviour;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use time_consensus::Tier;

/// One cluster size's figures.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchRow {
    /// Members.
    pub nodes: usize,
    /// Heights measured (the first is left out: it includes connecting).
    pub heights: u64,
    /// Median start-to-finality latency at a member, ms.
    pub p50_ms: u64,
    /// 99th percentile, ms.
    pub p99_ms: u64,
    /// Heights finalized per second, interval included.
    pub heights_per_s: f64,
    /// Heights decided after attempt 0.
    pub fallbacks: u64,
    /// CPU time per height per member, ms.
    pub cpu_ms_per_height: f64,
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn clock_ticks_per_s() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs one cluster of `nodes` members for `heights` heights.
pub fn run_one(
    exe: PathBuf,
    dir: PathBuf,
    nodes: usize,
    heights: u64,
    interval_ms: u64,
) -> Result<BenchRow, ClusterError> {
    let spec = ClusterSpec {
        dir,
        nodes,
        tiers: vec![Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free],
        byzantine: 0,
        behaviours: vec![Behaviour::Honest],
        block_interval_ms: interval_ms,
        proxy: false,
        config: fast_config(),
    };
    let mut c = Cluster::start(spec, exe)?;
    let all: Vec<usize> = (0..nodes).collect();
    let timeout = Duration::from_secs(60 + heights * (nodes as u64) / 4);
    c.wait_for(&all, 1, timeout)?;
    let t0 = Instant::now();
    let cpu0: Vec<Option<u64>> = c
        .pids()
        .into_iter()
        .map(|p| p.and_then(cpu_ticks))
        .collect();
    c.wait_for(&all, heights + 1, timeout)?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu1: Vec<Option<u64>> = c
        .pids()
        .into_iter()
        .map(|p| p.and_then(cpu_ticks))
        .collect();
    let ticks: u64 = cpu0
        .iter()
        .zip(&cpu1)
        .filter_map(|(a, b)| Some(b.as_ref()? - a.as_ref()?))
        .sum();
    let mut lat: Vec<u64> = Vec::new();
    let mut fallbacks = 0;
    for (h, m) in c.seen().range(2..=heights + 1) {
        let _ = h;
        lat.extend(m.values().filter_map(|l| l.latency_ms));
        if m.values().next().is_some_and(|l| l.attempt > 0) {
            fallbacks += 1;
        }
    }
    lat.sort_unstable();
    c.verify_chains()?;
    Ok(BenchRow {
        nodes,
        heights,
        p50_ms: percentile(&lat, 0.5),
        p99_ms: percentile(&lat, 0.99),
        heights_per_s: heights as f64 / wall,
        fallbacks,
        cpu_ms_per_height: ticks as f64 / clock_ticks_per_s() * 1000.0
            / heights as f64
            / nodes as f64,
    })
}

/// The rows as a markdown table.
pub fn table(rows: &[BenchRow], interval_ms: u64) -> String {
    let mut s = format!(
        "| members | heights | latency p50 | latency p99 | heights/s (interval {interval_ms} ms) | after a fallback | CPU per height per member |\n|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} ms | {} ms | {:.2} | {} | {:.2} ms |\n",
            r.nodes,
            r.heights,
            r.p50_ms,
            r.p99_ms,
            r.heights_per_s,
            r.fallbacks,
            r.cpu_ms_per_height
        ));
    }
    s
}
