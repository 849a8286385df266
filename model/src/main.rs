//! `tcm`: check the protocol's properties with Stateright, explore its state
//! space in a browser, and generate or run the conformance vectors.

#![forbid(unsafe_code)]

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use time_consensus::Rules;
use time_consensus_model::check::{self, Options, Strategy};
use time_consensus_model::config::{
    parse_starts, parse_tiers, Budget, Byzantine, ConfigError, ModelConfig, Network, Timing,
    VoteDelivery, PRESETS,
};
use time_consensus_model::print_out;

/// jemalloc: under glibc's allocator the timely engine's workers spend
/// half their time in it, and two threads gain nothing over one
/// (`cargo bench --bench dataflow`); Stateright's search runs as fast.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "tcm",
    version,
    about = "Model checker and tools for the seven-phase BFT block production protocol"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check the properties of a configuration.
    Check {
        #[command(flatten)]
        model: ModelArgs,
        /// The search.
        #[arg(long, value_enum, default_value_t = StrategyArg::Bfs)]
        strategy: StrategyArg,
        /// Worker threads (per process under --engine timely).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// The checker: Stateright's, or the breadth-first search as a
        /// timely dataflow over threads, processes and machines.
        #[arg(long, value_enum, default_value_t = EngineArg::Stateright)]
        engine: EngineArg,
        /// --engine timely: how many processes take part (each started
        /// with the same arguments and its own --process).
        #[arg(long, default_value_t = 1)]
        processes: usize,
        /// --engine timely: this process's index, 0 to --processes - 1;
        /// process 0 prints the report, the others nothing.
        #[arg(long, default_value_t = 0)]
        process: usize,
        /// --engine timely: a file with one `host:port` per line, process 0
        /// first (default: localhost:2101, localhost:2102, ...).
        #[arg(long, value_name = "FILE")]
        hosts: Option<std::path::PathBuf>,
        /// Stop after this many seconds.
        #[arg(long)]
        timeout: Option<u64>,
        /// Do not explore deeper than this.
        #[arg(long)]
        max_depth: Option<usize>,
        /// Seed of the random walks.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// No progress line.
        #[arg(long)]
        quiet: bool,
        /// Stop at the first violated property (faster counterexamples; the
        /// search is then not exhaustive).
        #[arg(long)]
        stop_on_violation: bool,
        /// Stop once this many distinct states are seen, with a partial
        /// report (exit status 3).
        #[arg(long)]
        max_states: Option<usize>,
        /// Stop once resident memory passes this size (bytes, or with K, M
        /// or G), with a partial report (exit status 3); default: 80% of
        /// the machine's memory; `none` for no limit.
        #[arg(long)]
        max_memory: Option<String>,
        /// Write each path shown (counterexample or example) into DIR, a
        /// new or empty directory: an ITF trace, a Mermaid sequence diagram,
        /// and every honest node's node-trace vector (`tcm conform DIR/vectors`).
        #[arg(long, value_name = "DIR")]
        trace_out: Option<std::path::PathBuf>,
    },
    /// Serve Stateright's Explorer for a configuration on a loopback port.
    Explore {
        #[command(flatten)]
        model: ModelArgs,
        /// Port on 127.0.0.1 (0: any free one, printed).
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// List the named configurations, or print one as JSON (a start for
    /// `--config-file`).
    Configs {
        /// Print this configuration as JSON.
        #[arg(long, value_name = "NAME")]
        show: Option<String>,
    },
    /// Print a shell completion script (e.g. `tcm completions bash >
    /// ~/.local/share/bash-completion/completions/tcm`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the conformance vectors into DIR/SUITE/CASE.json.
    Vectors {
        /// Output directory (spec/vectors in the repository).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Run the conformance vectors under PATH (a directory, or one file)
    /// against this implementation. Exit status 0: all pass; 1: a case
    /// failed; 2: a file or entry could not be used, or nothing to run.
    Conform {
        /// A directory of vectors, or one vector file.
        path: std::path::PathBuf,
        /// Run only these suites (comma separated: weights, election,
        /// heartbeat, tally, fallback, block, signatures, node_trace).
        #[arg(long)]
        suite: Option<String>,
        /// Run only cases whose name contains this.
        #[arg(long)]
        case: Option<String>,
        /// Print the report as JSON (schema tcm-conform/1).
        #[arg(long)]
        json: bool,
        /// Also write the report as JUnit XML to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<std::path::PathBuf>,
    },
}

/// `--strategy`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StrategyArg {
    /// Breadth-first, exhaustive; on one thread the path shown for an
    /// `always` or `sometimes` property is a shortest one.
    Bfs,
    /// Depth-first, exhaustive, little memory.
    Dfs,
    /// Random walks (not exhaustive; needs --timeout).
    Simulation,
}

/// `--engine`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    /// Stateright's checkers.
    Stateright,
    /// Breadth-first search on timely dataflow: the counts, verdicts and
    /// paths of Stateright's on one thread.
    Timely,
}

/// `--votes`.
#[derive(Clone, Copy, ValueEnum)]
enum VotesArg {
    /// One vote per step (the unreduced model).
    Single,
    /// Batches ending in a quorum (a kinder adversary when a Byzantine
    /// node votes twice in a step: the report says so).
    Batched,
    /// Batched, and a double voter's vote alone whenever a batch of another
    /// block needs it: every verdict kept.
    Sound,
    /// Batched, and every vote of a double voter alone (sound's yardstick).
    Eager,
}

/// `--timing`.
#[derive(Clone, Copy, ValueEnum)]
enum TimingArg {
    /// Every node starts at once; no honest node times out of an attempt
    /// another has not reached.
    LockStep,
    /// Each node starts by an action of its own, all before any
    /// synchronous timer fires; then lock-step.
    LateStarts,
    /// No bound on the start skew; timers wait for quiescence and for the
    /// nodes that entered their attempt first.
    Staggered,
    /// Timers last what the node sets, on a shared clock; nodes start at
    /// --starts.
    Clocked,
}

/// `--behaviour`.
#[derive(Clone, Copy, ValueEnum)]
enum BehaviourArg {
    /// As leader, propose two blocks.
    Equivocate,
    /// Approve and commit every block it sees.
    VoteAny,
    /// Commit every block and attempt without an approve quorum.
    CommitAny,
    /// Relay and re-propose certificates built from what it received,
    /// tampered with.
    ForgeJustification,
    /// Declare a false weight in its votes.
    InflateWeight,
    /// Under partial synchrony, send whenever it likes.
    Late,
    /// Every behaviour.
    All,
    /// Nothing (withhold everything).
    Silent,
}

/// A value's name as `--help` lists it.
fn value_name(v: impl ValueEnum) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

/// The largest configuration file read (bytes).
const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

#[derive(Args)]
struct ModelArgs {
    /// A named configuration (see `tcm configs`); the options below override it.
    #[arg(long, default_value = "reference", conflicts_with = "config_file")]
    config: String,
    /// A configuration in JSON (`tcm configs --show NAME` prints one to
    /// start from); the options below override it.
    #[arg(long, value_name = "FILE")]
    config_file: Option<std::path::PathBuf>,
    /// seed, reference, seed+A1+A2..., reference-A4...
    #[arg(long)]
    rules: Option<String>,
    /// Tiers of the masternodes, comma separated (free, bronze, silver, gold).
    #[arg(long)]
    tiers: Option<String>,
    /// Indices of the Byzantine masternodes, comma separated ("" for none).
    #[arg(long)]
    byzantine: Option<String>,
    /// Byzantine behaviours, comma separated.
    #[arg(long, value_enum, value_delimiter = ',')]
    behaviour: Option<Vec<BehaviourArg>>,
    /// Byzantine weight budget: the Byzantine masternodes must weigh less than this fraction of the total (n/d), or none.
    #[arg(long)]
    budget: Option<String>,
    /// The last attempt explored.
    #[arg(long)]
    max_attempt: Option<u32>,
    /// async, lossy, sync, or gst:<attempt>.
    #[arg(long)]
    network: Option<String>,
    /// Start and timer ordering.
    #[arg(long, value_enum)]
    timing: Option<TimingArg>,
    /// Under --timing clocked: when each masternode starts the height,
    /// seconds after the first, comma separated (e.g. 0,40,40,40).
    #[arg(long)]
    starts: Option<String>,
    /// Leader rotations before the reward-only attempt.
    #[arg(long)]
    rotations: Option<u32>,
    /// Reputation of every masternode, thousandths.
    #[arg(long)]
    reputation: Option<u32>,
    /// Run phase 1 (heartbeats) too.
    #[arg(long)]
    phase1: bool,
    /// Disable emergency blocks.
    #[arg(long)]
    no_emergency: bool,
    /// Transactions in each leader's mempool.
    #[arg(long)]
    mempool: Option<usize>,
    /// Vote delivery.
    #[arg(long, value_enum)]
    votes: Option<VotesArg>,
    /// Honest leaders' proposals may be lost.
    #[arg(long)]
    lose_proposals: bool,
    /// Over two heights, height 2's honest proposals may be lost too.
    #[arg(long)]
    lose_later_proposals: bool,
    /// Consecutive heights each honest node decides (1 or 2).
    #[arg(long)]
    heights: Option<u64>,
    /// Masternodes deregistered at height 2, comma separated ("" for none).
    #[arg(long)]
    leaves: Option<String>,
    /// Masternodes registered at height 2 only, comma separated ("" for
    /// none): they join from height 1's finality proof (R7.8).
    #[arg(long)]
    joins: Option<String>,
}

impl ModelArgs {
    fn build(&self) -> Result<ModelConfig, String> {
        let mut c = match &self.config_file {
            Some(f) => read_config_file(f)?,
            None => ModelConfig::preset(&self.config).map_err(|e| e.to_string())?,
        };
        if let Some(r) = &self.rules {
            c.rules = Rules::parse(r).map_err(|e| e.to_string())?;
        }
        if let Some(t) = &self.tiers {
            c.tiers = parse_tiers(t).map_err(|e| e.to_string())?;
        }
        if let Some(b) = &self.byzantine {
            c.byzantine = parse_indices(b, "Byzantine")?;
        }
        if let Some(h) = self.heights {
            c.heights = h;
        }
        if let Some(l) = &self.leaves {
            c.leaves = parse_indices(l, "--leaves")?;
        }
        if let Some(j) = &self.joins {
            c.joins = parse_indices(j, "--joins")?;
        }
        if let Some(b) = &self.behaviour {
            let names: Vec<String> = b.iter().map(|&v| value_name(v)).collect();
            c.behaviour = Byzantine::parse(&names.join(",")).map_err(|e| e.to_string())?;
        }
        if let Some(b) = &self.budget {
            c.budget = Budget::parse(b).map_err(|e| e.to_string())?;
        }
        if let Some(a) = self.max_attempt {
            c.max_attempt = a;
        }
        if let Some(n) = &self.network {
            c.network = Network::parse(n).map_err(|e| e.to_string())?;
        }
        if let Some(t) = self.timing {
            c.timing = Timing::parse(&value_name(t)).map_err(|e| e.to_string())?;
            if c.timing != Timing::Clocked {
                // A preset's start offsets belong to its clock.
                c.starts_secs.clear();
            }
        }
        if let Some(s) = &self.starts {
            c.starts_secs = parse_starts(s).map_err(|e| e.to_string())?;
        }
        if let Some(r) = self.rotations {
            c.max_leader_rotations = r;
        }
        if let Some(r) = self.reputation {
            c.reputation_milli = r;
        }
        if let Some(m) = self.mempool {
            c.mempool = m;
        }
        if let Some(v) = self.votes {
            c.votes = match v {
                VotesArg::Single => VoteDelivery::Single,
                VotesArg::Batched => VoteDelivery::Batched,
                VotesArg::Sound => VoteDelivery::Sound,
                VotesArg::Eager => VoteDelivery::Eager,
            };
        }
        c.phase1 |= self.phase1;
        c.lose_proposals |= self.lose_proposals;
        c.lose_later_proposals |= self.lose_later_proposals;
        c.emergency &= !self.no_emergency;
        c.validate().map_err(|e: ConfigError| e.to_string())?;
        Ok(c)
    }
}

/// A comma list of masternode indices ("" for none).
fn parse_indices(list: &str, what: &str) -> Result<Vec<usize>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("{what} index {s:?} is not a number"))
        })
        .collect()
}

/// A configuration file: JSON in `ModelConfig`'s shape (unknown fields
/// refused), at most [`MAX_CONFIG_FILE_BYTES`], errors with line and column.
fn read_config_file(f: &std::path::Path) -> Result<ModelConfig, String> {
    use std::io::Read as _;
    let shown = f.display();
    let meta = std::fs::metadata(f).map_err(|e| format!("--config-file {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("--config-file {shown}: not a regular file"));
    }
    if meta.len() > MAX_CONFIG_FILE_BYTES {
        return Err(format!(
            "--config-file {shown}: {} bytes, over the limit of {MAX_CONFIG_FILE_BYTES}",
            meta.len()
        ));
    }
    let mut text = String::new();
    std::fs::File::open(f)
        .and_then(|h| h.take(MAX_CONFIG_FILE_BYTES).read_to_string(&mut text))
        .map_err(|e| format!("--config-file {shown}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("--config-file {shown}: {e}"))
}

/// The engine the flags name, or why they make no sense.
fn engine_of(
    engine: EngineArg,
    threads: usize,
    processes: usize,
    process: usize,
    hosts: Option<&std::path::Path>,
) -> Result<check::Engine, String> {
    use check::dataflow::Workers;
    if engine == EngineArg::Stateright {
        if processes != 1 || process != 0 || hosts.is_some() {
            return Err("--processes, --process and --hosts are for --engine timely".into());
        }
        return Ok(check::Engine::Stateright);
    }
    if processes == 0 || processes > 1024 {
        return Err("--processes must be 1 to 1024".into());
    }
    if process >= processes {
        return Err(format!(
            "--process {process}: expected 0 to {} (--processes {processes})",
            processes - 1
        ));
    }
    let addresses: Vec<String> = match hosts {
        None => (0..processes)
            .map(|i| format!("localhost:{}", 2101 + i))
            .collect(),
        Some(f) => {
            let text =
                std::fs::read_to_string(f).map_err(|e| format!("--hosts {}: {e}", f.display()))?;
            let lines: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from)
                .collect();
            if let Some(bad) = lines.iter().find(|l| {
                l.rsplit_once(':')
                    .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
            }) {
                return Err(format!("--hosts {}: {bad:?} is not host:port", f.display()));
            }
            if lines.len() != processes {
                return Err(format!(
                    "--hosts {} lists {} address(es) for --processes {processes}",
                    f.display(),
                    lines.len()
                ));
            }
            lines
        }
    };
    Ok(check::Engine::Timely(if processes == 1 {
        Workers::Threads(threads)
    } else {
        Workers::Cluster {
            threads,
            process,
            addresses,
        }
    }))
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.cmd {
        Cmd::Vectors { out } => time_consensus_model::vectors::cli_vectors(&out),
        Cmd::Conform {
            path,
            suite,
            case,
            json,
            junit,
        } => {
            let mut filter = time_consensus_vectors::run::Filter {
                case,
                ..Default::default()
            };
            for name in suite.iter().flat_map(|s| s.split(',')) {
                match time_consensus_vectors::Suite::from_name(name.trim()) {
                    Some(s) => filter.suites.push(s),
                    None => {
                        let all: Vec<&str> = time_consensus_vectors::Suite::ALL
                            .iter()
                            .map(|s| s.name())
                            .collect();
                        return usage_error(&format!(
                            "--suite {name:?}: no such suite; the suites are {}",
                            all.join(", ")
                        ));
                    }
                }
            }
            if filter.case.as_deref() == Some("") {
                return usage_error("--case \"\": give part of a case name");
            }
            time_consensus_model::vectors::cli_conform(&path, &filter, json, junit.as_deref())
        }
        Cmd::Configs { show: None } => {
            let list: String = PRESETS
                .iter()
                .map(|p| format!("{:<16} {}\n", p.name, p.about))
                .collect();
            print_out(&list);
            ExitCode::SUCCESS
        }
        Cmd::Configs { show: Some(name) } => match ModelConfig::preset(&name) {
            Ok(c) => {
                print_out(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&c).expect("serializable")
                ));
                ExitCode::SUCCESS
            }
            Err(e) => usage_error(&e.to_string()),
        },
        Cmd::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "tcm", &mut script);
            print_out(&String::from_utf8_lossy(&script));
            ExitCode::SUCCESS
        }
        Cmd::Check {
            model,
            strategy,
            threads,
            engine,
            processes,
            process,
            hosts,
            timeout,
            max_depth,
            seed,
            json,
            quiet,
            stop_on_violation,
            max_states,
            max_memory,
            trace_out,
        } => {
            let cfg = match model.build() {
                Ok(c) => c,
                Err(e) => return usage_error(&e),
            };
            if max_depth == Some(0) {
                return usage_error(
                    "--max-depth 0 explores nothing: give a depth of at least 1, or leave it out for no limit",
                );
            }
            let strategy = match strategy {
                StrategyArg::Bfs => Strategy::Bfs,
                StrategyArg::Dfs => Strategy::Dfs,
                StrategyArg::Simulation => Strategy::Simulation,
            };
            if threads == 0 || threads > 256 {
                return usage_error("--threads must be 1 to 256");
            }
            let engine = match engine_of(engine, threads, processes, process, hosts.as_deref()) {
                Ok(e) => e,
                Err(e) => return usage_error(&e),
            };
            let reports = match &engine {
                check::Engine::Timely(w) => w.reports(),
                check::Engine::Stateright => true,
            };
            if strategy == Strategy::Simulation && timeout.is_none() {
                return usage_error("simulation never ends on its own: give --timeout SECONDS");
            }
            if max_states == Some(0) {
                return usage_error("--max-states 0 explores nothing: give at least 1");
            }
            let max_memory = match max_memory.as_deref() {
                None => check::memory::total().map(|t| t / 5 * 4),
                Some("none") => None,
                Some(m) => match check::memory::parse_size(m) {
                    Some(b) => Some(b),
                    None => {
                        return usage_error(&format!(
                        "--max-memory {m:?}: expected a size such as 8G, 500M or 1000000, or none"
                    ))
                    }
                },
            };
            if let Some(dir) = &trace_out {
                if let Err(e) = time_consensus_model::export::prepare(dir) {
                    return usage_error(&format!("--trace-out: {e}"));
                }
            }
            // Ctrl-C stops the search and prints what it settled; a second
            // one ends the process at once.
            let interrupt = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&interrupt);
            let _ = ctrlc::set_handler(move || {
                if flag.swap(true, Ordering::Relaxed) {
                    std::process::exit(130);
                }
            });
            let opts = Options {
                strategy,
                threads,
                timeout: timeout.map(Duration::from_secs),
                max_depth,
                seed,
                progress: !quiet && !json,
                stop_on_violation,
                max_states,
                max_memory,
                interrupt: Some(interrupt),
                engine,
            };
            let checked = match check::run_with_paths(&cfg, &opts) {
                Ok(r) => r,
                Err(e) => return usage_error(&e.to_string()),
            };
            let report = &checked.report;
            if !reports {
                // Process 0 holds the whole result and reports it.
                eprintln!(
                    "process {process} of {processes}: done (peak {} resident)",
                    check::memory::gb(report.peak_memory_bytes)
                );
                return ExitCode::SUCCESS;
            }
            if json {
                print_out(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(report).expect("serializable")
                ));
            } else {
                print_out(&check::render(report));
            }
            if let Some(dir) = &trace_out {
                let command: Vec<String> = std::env::args().collect();
                match time_consensus_model::export::write(
                    dir,
                    &cfg,
                    report,
                    &checked.paths,
                    &command.join(" "),
                ) {
                    Ok(files) if files.is_empty() => {
                        eprintln!("--trace-out: no path to write (nothing violated or found)")
                    }
                    Ok(files) if cfg.heights > 1 => eprintln!(
                        "--trace-out: wrote {} files under {} (ITF and Mermaid; no node traces: \
                         they replay one height)",
                        files.len(),
                        dir.display()
                    ),
                    Ok(files) => eprintln!(
                        "--trace-out: wrote {} files under {} (tcm conform {} replays the node traces)",
                        files.len(),
                        dir.display(),
                        dir.join("vectors").display()
                    ),
                    Err(e) => {
                        eprintln!("error: --trace-out: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            if report
                .properties
                .iter()
                .any(|v| v.status == check::Status::Violated)
                || report.acyclicity_violation.is_some()
            {
                ExitCode::from(1)
            } else if report
                .properties
                .iter()
                .any(|v| v.status == check::Status::Unknown)
            {
                // Nothing violated, but not everything settled.
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
        Cmd::Explore { model, port } => {
            let cfg = match model.build() {
                Ok(c) => c,
                Err(e) => return usage_error(&e),
            };
            // The user's port, bound here: a busy one is refused, and port
            // 0's choice is known and printed.
            let (listener, addr) = match std::net::TcpListener::bind(("127.0.0.1", port))
                .and_then(|l| l.local_addr().map(|a| (l, a)))
            {
                Ok(la) => la,
                Err(e) => return usage_error(&format!("cannot listen on 127.0.0.1:{port}: {e}")),
            };
            let model = match time_consensus_model::TcModel::new(&cfg) {
                Ok(m) => m,
                Err(e) => return usage_error(&e.to_string()),
            };
            // Stateright's server, on a private port, behind the guard on
            // the user's (time_consensus_model::explore).
            let backend =
                match std::net::TcpListener::bind(("127.0.0.1", 0)).and_then(|l| l.local_addr()) {
                    Ok(a) => a,
                    Err(e) => return usage_error(&format!("cannot listen on 127.0.0.1: {e}")),
                };
            std::thread::spawn(move || {
                use stateright::Model;
                model.checker().serve(backend);
            });
            let ready = (0..200).any(|_| {
                std::thread::sleep(std::time::Duration::from_millis(25));
                std::net::TcpStream::connect(backend).is_ok()
            });
            if !ready {
                eprintln!("tcm explore: the Explorer did not start on {backend}");
                return ExitCode::FAILURE;
            }
            eprintln!(
                "Explorer for `{}` on http://{addr}/ (Ctrl-C to stop)",
                cfg.name
            );
            if let Err(e) = time_consensus_model::explore::guard(listener, backend) {
                eprintln!("tcm explore: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
    }
}
