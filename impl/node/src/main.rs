//! `time-node`: run a member, lay out a network, or run a cluster.

use clap::{Parser, Subcommand};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time_consensus::Tier;
use time_node::cluster::{fast_config, Cluster, ClusterSpec};
use time_node::genesis::{self, Behaviour, InitPlan, Setup};
use time_node::store::Store;

#[derive(Parser)]
#[command(
    name = "time-node",
    version,
    about = "A masternode of the seven-phase BFT protocol (reference rules) on a real network"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one member from its node file.
    Run {
        /// The member's node file (node.json).
        #[arg(long)]
        config: PathBuf,
    },
    /// Lay out a network on loopback: genesis, keys and node files.
    Init {
        /// Folder to write into.
        #[arg(long)]
        dir: PathBuf,
        /// Members.
        #[arg(long, default_value_t = 4)]
        nodes: usize,
        /// First member's port (HTTP endpoints from base + 1000).
        #[arg(long, default_value_t = 17000)]
        base_port: u16,
        /// Pause between heights, ms.
        #[arg(long, default_value_t = 500)]
        interval_ms: u64,
    },
    /// Start N members on loopback and show a line per height.
    Cluster(ClusterArgs),
    /// Latency, heights per second and CPU per height of clusters.
    Bench {
        /// Cluster sizes.
        #[arg(long, value_delimiter = ',', default_value = "4,16,64")]
        nodes: Vec<usize>,
        /// Heights measured per size.
        #[arg(long, default_value_t = 30)]
        heights: u64,
        /// Pause between heights, ms.
        #[arg(long, default_value_t = 50)]
        interval_ms: u64,
    },
    /// Print a member's stored chain.
    Chain {
        /// The member's node file.
        #[arg(long)]
        config: PathBuf,
    },
}

/// `time-node cluster`'s options.
#[derive(clap::Args)]
struct ClusterArgs {
    /// Members.
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// How many of the last members misbehave.
    #[arg(long, default_value_t = 0)]
    byzantine: usize,
    /// Their behaviours, a comma list taken in turn.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "silent")]
    behaviour: Vec<Behaviour>,
    /// Stop after this many heights (0: run until interrupted).
    #[arg(long, default_value_t = 20)]
    heights: u64,
    /// Pause between heights, ms.
    #[arg(long, default_value_t = 200)]
    interval_ms: u64,
    /// Folder for the members' files and stores (default: a new one
    /// under the system's temporary folder).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Every member of equal weight (default: tiers Gold, Silver, Bronze, Free, cycled).
    #[arg(long)]
    equal: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Run { config } => run(config),
        Cmd::Init {
            dir,
            nodes,
            base_port,
            interval_ms,
        } => {
            let plan = InitPlan::loopback(
                dir,
                nodes,
                &[Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free],
                base_port,
                interval_ms,
                fast_config(),
            );
            match plan.and_then(|p| genesis::init(&p)) {
                Ok(files) => {
                    for f in files {
                        println!("{}", f.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Cmd::Cluster(args) => cluster(args),
        Cmd::Chain { config } => chain(config),
        Cmd::Bench {
            nodes,
            heights,
            interval_ms,
        } => bench(&nodes, heights, interval_ms),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("time-node: {e}");
    ExitCode::from(2)
}

fn run(config: PathBuf) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let setup = match Setup::load(&config) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&e),
    };
    let shutdown = async {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    };
    match rt.block_on(time_node::run::run(setup, shutdown)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn chain(config: PathBuf) -> ExitCode {
    let setup = match Setup::load(&config) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let blocks = Store::open(&setup.node.data_dir).and_then(|s| s.blocks(1, u32::MAX));
    match blocks {
        Ok(blocks) => {
            for cb in blocks {
                let c = &cb.certificate;
                println!(
                    "{} {} {:?} attempt {} votes {}",
                    cb.block.header.height,
                    cb.block.hash(),
                    cb.block.header.kind,
                    c.attempt,
                    c.votes.len()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn cluster(args: ClusterArgs) -> ExitCode {
    let ClusterArgs {
        nodes,
        byzantine,
        behaviour,
        heights,
        interval_ms,
        dir,
        equal,
    } = args;
    if nodes == 0 || byzantine >= nodes {
        return fail(&"--nodes must be at least 1 and --byzantine below it");
    }
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("time-node-cluster-{}", std::process::id()))
    });
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let tiers = if equal {
        vec![Tier::Bronze]
    } else {
        vec![Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free]
    };
    let spec = ClusterSpec {
        dir: dir.clone(),
        nodes,
        tiers,
        byzantine,
        behaviours: behaviour.clone(),
        block_interval_ms: interval_ms,
        proxy: false,
        config: fast_config(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let _ = ctrlc::set_handler(move || s.store(true, Ordering::Relaxed));
    let mut c = match Cluster::start(spec, exe) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let who = if byzantine == 0 {
        "all honest".to_string()
    } else {
        format!("the last {byzantine} {behaviour:?}")
    };
    println!(
        "cluster: {nodes} members ({who}) in {}; each member's log is its node.log",
        dir.display()
    );
    println!("height  attempt  kind        latency p50/max ms  behind");
    let honest: Vec<usize> = (0..nodes).filter(|&i| c.honest(i)).collect();
    let mut printed: BTreeSet<u64> = BTreeSet::new();
    let began = Instant::now();
    let f = (nodes - 1) / 3;
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = c.poll(Duration::from_millis(100), |_, _, _| {}) {
            return fail(&e);
        }
        let ready: Vec<u64> = c
            .seen()
            .iter()
            .filter(|(h, m)| {
                !printed.contains(h) && m.len() >= honest.len().saturating_sub(f).max(1)
            })
            .map(|(h, _)| *h)
            .collect();
        for h in ready {
            let m = &c.seen()[&h];
            let Some(any) = m.values().next() else {
                continue;
            };
            let mut lat: Vec<u64> = m.values().filter_map(|l| l.latency_ms).collect();
            lat.sort_unstable();
            let p50 = lat.get(lat.len() / 2).copied().unwrap_or(0);
            let max = lat.last().copied().unwrap_or(0);
            let behind: Vec<String> = honest
                .iter()
                .filter(|i| !m.contains_key(i))
                .map(|&i| genesis::member_id(i).to_string())
                .collect();
            println!(
                "{h:>6}  {:>7}  {:<10}  {:>8}/{:<8}  {}",
                any.attempt,
                any.kind,
                p50,
                max,
                if behind.is_empty() {
                    "-".into()
                } else {
                    behind.join(",")
                }
            );
            printed.insert(h);
        }
        if heights > 0 && honest.iter().all(|&i| c.tips()[i] >= heights) {
            break;
        }
    }
    let secs = began.elapsed().as_secs_f64();
    match c.verify_chains() {
        Ok(chains) => {
            let shortest = chains.iter().map(Vec::len).min().unwrap_or(0);
            println!(
                "stopped after {secs:.1} s: {} stored chains agree block by block (shortest {shortest}, longest {}); every certificate re-verified by a fresh node",
                chains.len(),
                chains.iter().map(Vec::len).max().unwrap_or(0)
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn bench(nodes: &[usize], heights: u64, interval_ms: u64) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let mut rows = Vec::new();
    for &n in nodes {
        let dir = std::env::temp_dir().join(format!("time-node-bench-{n}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        match time_node::bench::run_one(exe.clone(), dir.clone(), n, heights, interval_ms) {
            Ok(r) => {
                eprintln!("{n} members: {r:?}");
                rows.push(r);
                let _ = std::fs::remove_dir_all(&dir);
            }
            Err(e) => return fail(&e),
        }
    }
    print!("{}", time_node::bench::table(&rows, interval_ms));
    ExitCode::SUCCESS
}
