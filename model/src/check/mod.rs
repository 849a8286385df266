//! Running a check and reporting it: a progress line while it runs, then
//! states, depth, time, rate, and each property's verdict with its path.

use crate::config::{ModelConfig, Network, Timing, VoteDelivery};
use crate::model::TcModel;
use crate::trace::{outcome, trace_steps, TraceStep};
use serde::{Deserialize, Serialize};
use stateright::{Checker, Expectation, Model, UniformChooser};
use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub mod dataflow;
pub mod memory;
mod render;

pub use render::render;

/// The version of the report's JSON format, documented in `model/REPORT.md`:
/// a change that removes or retypes a field bumps it.
pub const SCHEMA: &str = "tcm-report/1";

/// How to search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Breadth first: shortest paths for `always` and `sometimes` properties
    /// on one thread, ~0.7 KB per state.
    Bfs,
    /// Depth first: little memory.
    Dfs,
    /// Random walks (not exhaustive).
    Simulation,
}

/// Search options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Strategy.
    pub strategy: Strategy,
    /// Worker threads.
    pub threads: usize,
    /// Stop after this long.
    pub timeout: Option<Duration>,
    /// Do not go deeper.
    pub max_depth: Option<usize>,
    /// Seed of the random walks.
    pub seed: u64,
    /// Print a progress line to stderr every second.
    pub progress: bool,
    /// Stop at the first violated property instead of exploring everything.
    pub stop_on_violation: bool,
    /// Stop once this many distinct states are seen.
    pub max_states: Option<usize>,
    /// Stop once the process's resident memory passes this many bytes.
    pub max_memory: Option<u64>,
    /// Stop once this is set (the CLI sets it on SIGINT).
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Which checker explores.
    pub engine: Engine,
}

/// Which checker explores.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// Stateright's own checkers, on [`Options::threads`] threads.
    #[default]
    Stateright,
    /// The breadth-first search as a timely dataflow ([`dataflow`]): the
    /// same counts, verdicts and paths as Stateright's on one thread.
    Timely(dataflow::Workers),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            strategy: Strategy::Bfs,
            threads: 1,
            timeout: None,
            max_depth: None,
            seed: 0,
            progress: false,
            stop_on_violation: false,
            max_states: None,
            max_memory: None,
            interrupt: None,
            engine: Engine::Stateright,
        }
    }
}

/// What a search established of one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// An `always` or `eventually` property held on the whole state space.
    #[serde(rename = "held")]
    Held,
    /// An `always` or `eventually` property failed: the path shows how.
    #[serde(rename = "violated")]
    Violated,
    /// A `sometimes` property was reached: the path shows how.
    #[serde(rename = "found")]
    Found,
    /// A `sometimes` property is unreachable (a complete search).
    #[serde(rename = "not found")]
    NotFound,
    /// An incomplete search found nothing: no verdict.
    #[serde(rename = "unknown")]
    Unknown,
}

impl Status {
    /// As reports write it: `held`, `violated`, `found`, `not found`,
    /// `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Held => "held",
            Status::Violated => "violated",
            Status::Found => "found",
            Status::NotFound => "not found",
            Status::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A property's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Its name.
    pub name: String,
    /// `always`, `eventually` or `sometimes`.
    pub expectation: String,
    /// What the search established.
    pub status: Status,
    /// The counterexample (or, for `sometimes`, the example), step by step.
    pub path: Option<Vec<TraceStep>>,
    /// Honest nodes' decisions at the end of the path.
    pub outcome: Option<Vec<String>>,
    /// The path as the Explorer's address fragment (`#/steps/0/3/1`):
    /// `tcm explore` with the same options opens it.
    #[serde(default)]
    pub explorer: Option<String>,
}

/// The result of a check.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// The report format's version ([`SCHEMA`]; `model/REPORT.md`).
    #[serde(default)]
    pub schema: String,
    /// The configuration.
    pub config: ModelConfig,
    /// The strategy.
    pub strategy: Strategy,
    /// States generated (with repeats).
    pub states: usize,
    /// Distinct states.
    pub unique_states: usize,
    /// Deepest path.
    pub max_depth: usize,
    /// Wall time, seconds.
    pub seconds: f64,
    /// States generated per second.
    pub states_per_second: f64,
    /// Whether the whole state space was explored.
    pub complete: bool,
    /// Verdicts, in the order the properties are declared.
    pub properties: Vec<Verdict>,
    /// Under partial synchrony: transitions on which the progress measure was
    /// checked to increase (so the graph is acyclic and `eventually` sound).
    pub acyclic_edges: Option<u64>,
    /// A transition on which it did not (the liveness verdict is then void).
    pub acyclicity_violation: Option<String>,
    /// Why the search stopped before it was done, if a limit or an interrupt
    /// stopped it (the timeout and the depth bound are in the options).
    #[serde(default)]
    pub stopped: Option<String>,
    /// The process's peak resident memory, bytes (Linux; 0 elsewhere).
    #[serde(default)]
    pub peak_memory_bytes: u64,
    /// Batched delivery spared a double-voting adversary
    /// ([`crate::model::Info::kind_batches`]): a kinder adversary's verdicts.
    #[serde(default)]
    pub kind_batches: bool,
    /// The engine when not Stateright's: `timely`, and its workers.
    #[serde(default)]
    pub engine: Option<String>,
}

impl Report {
    /// Whether every `always`/`eventually` property held, every `sometimes`
    /// was found, and the graph was shown acyclic where that matters.
    pub fn all_hold(&self) -> bool {
        self.acyclicity_violation.is_none()
            && self
                .properties
                .iter()
                .all(|v| matches!(v.status, Status::Held | Status::Found))
    }

    /// The verdict of `name`.
    pub fn verdict(&self, name: &str) -> Option<&Verdict> {
        self.properties.iter().find(|v| v.name == name)
    }
}

/// Runs the check of `cfg`.
pub fn run(cfg: &ModelConfig, opts: &Options) -> Result<Report, crate::config::ConfigError> {
    run_with_paths(cfg, opts).map(|c| c.report)
}

/// A report with the paths its verdicts show, as states and actions (for
/// [`crate::export`]).
pub struct Checked {
    /// The report.
    pub report: Report,
    /// Each path shown, by property, in declaration order.
    pub paths: Paths,
}

/// Runs the check of `cfg`, keeping the paths.
pub fn run_with_paths(
    cfg: &ModelConfig,
    opts: &Options,
) -> Result<Checked, crate::config::ConfigError> {
    if let Engine::Timely(workers) = &opts.engine {
        return run_dataflow(cfg, opts, workers);
    }
    let mut model = TcModel::new(cfg)?.keep_first_paths();
    if opts.strategy == Strategy::Simulation {
        model = model.effective_actions_only();
    }
    let info = model.info.clone();
    let props = model.properties();
    let mut builder = model.checker().threads(opts.threads.max(1));
    if let Some(t) = opts.timeout {
        builder = builder.timeout(t);
    }
    if let Some(d) = opts.max_depth {
        builder = builder.target_max_depth(d);
    }
    // An exhaustive search's `--stop-on-violation` is a stop of
    // [`finish`]'s, not Stateright's `finish_when`: a search that ends on
    // its own first is then known to be exhaustive, its verdicts settled.
    if opts.stop_on_violation && opts.strategy == Strategy::Simulation {
        builder = builder.finish_when(stateright::HasDiscoveries::AnyFailures);
    } else if opts.stop_on_violation {
        info.stop_at_violation.store(true, Ordering::Relaxed);
    }
    let start = Instant::now();
    Ok(match opts.strategy {
        Strategy::Bfs => finish(builder.spawn_bfs(), cfg, opts, props, info, start),
        Strategy::Dfs => finish(builder.spawn_dfs(), cfg, opts, props, info, start),
        Strategy::Simulation => finish(
            builder.spawn_simulation(opts.seed, UniformChooser),
            cfg,
            opts,
            props,
            info,
            start,
        ),
    })
}

/// `--engine timely`: the model without the first-path latch (each worker
/// keeps the least path itself, [`dataflow`]), searched breadth first.
fn run_dataflow(
    cfg: &ModelConfig,
    opts: &Options,
    workers: &dataflow::Workers,
) -> Result<Checked, crate::config::ConfigError> {
    use crate::config::ConfigError;
    if opts.strategy != Strategy::Bfs {
        return Err(ConfigError::EngineStrategy);
    }
    if opts.stop_on_violation {
        return Err(ConfigError::EngineStopOnViolation);
    }
    let model = TcModel::new(cfg)?;
    let info = model.info.clone();
    let after = info.clone();
    let props = model.properties();
    // The timeout counts from here, connecting included, in the engine and
    // in `finish` alike.
    let start = Instant::now();
    let limits = dataflow::Limits {
        deadline: opts.timeout.map(|t| start + t),
        max_depth: opts.max_depth,
    };
    // Every process must check the same model to the same depth, with the
    // same processes, built from the same source.
    let key = dataflow::key_of(&(
        serde_json::to_string(cfg).unwrap_or_default(),
        workers.shared(),
        opts.max_depth,
        env!("CARGO_PKG_VERSION"),
    ));
    let checker = dataflow::DataflowChecker::spawn(model, workers.clone(), limits, key)
        .map_err(ConfigError::Engine)?;
    let failure = checker.failure();
    let mut checked = finish(checker, cfg, opts, props, info, start);
    let report = &mut checked.report;
    report.engine = Some(workers.describe());
    // What stops a process other than this one does not reach `finish`.
    let cut = failure.cut() || after.cut.load(Ordering::Relaxed);
    let why = failure
        .get()
        .or_else(|| {
            (!workers.reports()).then(|| "this process's share only: process 0 reports".to_string())
        })
        .or_else(|| {
            (cut && report.stopped.is_none()).then(|| {
                "a timeout or a limit left states unexpanded (in this process or another: see its stderr)"
                    .to_string()
            })
        });
    if let Some(why) = why {
        report.stopped = Some(why);
    }
    if report.stopped.is_some() || cut {
        // Nothing is settled but what was shown, and an `eventually`
        // counterexample may end at a state that was only left unexpanded.
        report.complete = false;
        for v in &mut report.properties {
            let eventually = v.expectation == "eventually";
            if matches!(v.status, Status::Held | Status::NotFound)
                || (eventually && v.status == Status::Violated)
            {
                v.status = Status::Unknown;
            }
            if eventually {
                v.path = None;
                v.outcome = None;
                v.explorer = None;
                checked.paths.retain(|(name, _)| *name != v.name);
            }
        }
    }
    Ok(checked)
}

/// A process's side of the search, gathered into the reporting one: edges
/// checked against the progress measure, the first that failed, a model
/// panic, and whether a limit cut the search.
type Side = (u64, Option<String>, Option<String>, bool);

impl dataflow::SideCounts for TcModel {
    type Side = Side;

    fn stopped(&self) -> bool {
        let stopped = self.info.stop.load(Ordering::Relaxed);
        if stopped {
            // The engine leaves a state unexpanded: the stop cut the search.
            self.info.cut.store(true, Ordering::Relaxed);
        }
        stopped
    }

    fn side(&self) -> Side {
        let i = &self.info;
        (
            i.edges_checked.load(Ordering::Relaxed),
            i.acyclicity_violation.lock().expect("not poisoned").clone(),
            i.panicked.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            i.cut.load(Ordering::Relaxed),
        )
    }

    fn absorb(&self, sides: Vec<Side>, replayed: u64) {
        let i = &self.info;
        // The reporting process's own side is among them: counted once; a
        // transition replayed is one checked before, not a new one.
        let edges: u64 = sides.iter().map(|s| s.0).sum();
        i.edges_checked
            .store(edges.saturating_sub(replayed), Ordering::Relaxed);
        for (_, acyclicity, panicked, cut) in sides {
            let mut slot = i.acyclicity_violation.lock().expect("not poisoned");
            if slot.is_none() {
                *slot = acyclicity;
            }
            let mut slot = i.panicked.lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() {
                *slot = panicked;
            }
            if cut {
                i.cut.store(true, Ordering::Relaxed);
            }
        }
    }
}

fn finish<C: Checker<TcModel>>(
    checker: C,
    cfg: &ModelConfig,
    opts: &Options,
    props: Vec<stateright::Property<TcModel>>,
    info: std::sync::Arc<crate::model::Info>,
    start: Instant,
) -> Checked {
    let mut last = Instant::now();
    // A terminal gets one line redrawn; a log gets one line per report.
    let (start_of_line, end_of_line) = if std::io::stderr().is_terminal() {
        ("\r", "")
    } else {
        ("", "\n")
    };
    let _ = info.reporter.set(std::thread::current().id());
    let mut stopped: Option<String> = None;
    // The `eventually` discoveries made before a stop: after it, states look
    // terminal that are not, so later ones are void (and may overwrite).
    let mut eventually_before_stop = None;
    let panicked = || {
        info.panicked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .map(|m| format!("a checker thread panicked (a bug; nothing is proved): {m}"))
    };
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(50));
        if stopped.is_none() {
            if let Some(why) = panicked() {
                stopped = Some(why);
                eventually_before_stop = Some(Default::default());
            }
        }
        if stopped.is_none() && info.stop.load(Ordering::Relaxed) {
            // The model stopped at an `always` violation; `eventually`
            // discoveries made by then cannot be told from later, void ones.
            stopped = Some("at the first violation (--stop-on-violation)".to_string());
            eventually_before_stop = Some(Default::default());
        }
        if stopped.is_none() {
            let rss = memory::resident();
            let violated_now = opts.stop_on_violation
                && checker.discoveries().keys().any(|name| {
                    props
                        .iter()
                        .any(|p| p.name == *name && p.expectation != Expectation::Sometimes)
                });
            let why = if opts
                .interrupt
                .as_ref()
                .is_some_and(|i| i.load(Ordering::Relaxed))
            {
                Some("interrupted".to_string())
            } else if violated_now {
                Some("at the first violation (--stop-on-violation)".to_string())
            } else if let Some(m) = opts.max_memory.filter(|&m| rss > m) {
                Some(format!(
                    "memory limit: resident memory passed {}",
                    memory::gb(m)
                ))
            } else {
                opts.max_states
                    .filter(|&n| checker.unique_state_count() >= n)
                    .map(|n| format!("state limit: {n} distinct states"))
            };
            if let Some(why) = why {
                eventually_before_stop = Some(
                    checker
                        .discoveries()
                        .into_iter()
                        .filter(|(name, _)| {
                            props.iter().any(|p| {
                                p.name == *name && p.expectation == Expectation::Eventually
                            })
                        })
                        .collect::<std::collections::HashMap<_, _>>(),
                );
                info.stop.store(true, Ordering::Relaxed);
                stopped = Some(why);
            }
        }
        if opts.progress && last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            eprint!(
                "{start_of_line}  {:>6.1}s  states {:>11}  unique {:>11}  depth {:>3}  {:>9.0} states/s  memory {:>8} {end_of_line}",
                secs,
                checker.state_count(),
                checker.unique_state_count(),
                checker.max_depth(),
                checker.state_count() as f64 / secs,
                memory::gb(memory::resident()),
            );
            let _ = std::io::stderr().flush();
        }
    }
    if opts.progress && end_of_line.is_empty() {
        eprintln!();
    }
    let seconds = start.elapsed().as_secs_f64();
    if let Some(why) = panicked() {
        stopped = Some(why);
        eventually_before_stop = Some(Default::default());
    }
    if stopped.is_none() && info.stop.load(Ordering::Relaxed) {
        stopped = Some("at the first violation (--stop-on-violation)".to_string());
        eventually_before_stop = Some(Default::default());
    }
    if !info.cut.load(Ordering::Relaxed) {
        // The stop came when nothing was left to expand: exhaustive, and
        // every terminal state a real one.
        stopped = None;
        eventually_before_stop = None;
    }
    let mut discoveries = checker.discoveries();
    if let Some(before) = eventually_before_stop {
        for p in props
            .iter()
            .filter(|p| p.expectation == Expectation::Eventually)
        {
            match before.get(p.name) {
                Some(path) => discoveries.insert(p.name, path.clone()),
                None => discoveries.remove(p.name),
            };
        }
    }
    // The BFS and DFS checkers stop early only once every property has a
    // discovery; otherwise a run that was not cut short explored everything.
    let cut_short = opts.timeout.is_some_and(|t| start.elapsed() >= t)
        || opts.max_depth.is_some_and(|d| checker.max_depth() >= d)
        || stopped.is_some();
    let complete =
        opts.strategy != Strategy::Simulation && !cut_short && discoveries.len() < props.len();
    let model = checker.model();
    let mut paths = Paths::new();
    let properties = props
        .iter()
        .map(|p| {
            let found = discoveries.get(p.name);
            let (expectation, status) = match (&p.expectation, found.is_some()) {
                (Expectation::Always, true) | (Expectation::Eventually, true) => {
                    ("always", Status::Violated)
                }
                (Expectation::Always, false) | (Expectation::Eventually, false) if complete => {
                    ("always", Status::Held)
                }
                (Expectation::Sometimes, true) => ("sometimes", Status::Found),
                (Expectation::Sometimes, false) if complete => ("sometimes", Status::NotFound),
                (e, _) => (
                    if *e == Expectation::Sometimes {
                        "sometimes"
                    } else {
                        "always"
                    },
                    Status::Unknown,
                ),
            };
            let expectation = if p.expectation == Expectation::Eventually {
                "eventually"
            } else {
                expectation
            };
            let cut = found.map(|path| first_showing(model, p, path));
            let verdict = Verdict {
                name: p.name.to_string(),
                expectation: expectation.to_string(),
                status,
                path: cut.as_ref().map(|v| trace_steps(model, v)),
                outcome: cut
                    .as_ref()
                    .and_then(|v| v.last())
                    .map(|(s, _)| outcome(model, s)),
                explorer: cut.as_ref().and_then(|v| explorer_path(model, v)),
            };
            if let Some(v) = cut {
                paths.push((p.name.to_string(), v));
            }
            verdict
        })
        .collect();
    let states = checker.state_count();
    let report = Report {
        schema: SCHEMA.to_string(),
        config: cfg.clone(),
        strategy: opts.strategy,
        states,
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        seconds,
        states_per_second: states as f64 / seconds.max(1e-9),
        complete,
        properties,
        acyclic_edges: matches!(cfg.network, Network::Gst(_))
            .then(|| info.edges_checked.load(Ordering::Relaxed)),
        kind_batches: info.kind_batches,
        engine: None,
        stopped,
        peak_memory_bytes: memory::peak(),
        acyclicity_violation: info
            .acyclicity_violation
            .lock()
            .expect("not poisoned")
            .clone(),
    };
    Checked { report, paths }
}

/// The Explorer's address of a path: the index of its initial state, then
/// of each action among those the model lists (what Stateright's
/// `Path::encode` computes, without its panics).
pub fn explorer_path(
    model: &TcModel,
    v: &[(crate::model::State, Option<crate::model::Action>)],
) -> Option<String> {
    let first = &v.first()?.0;
    let mut parts = vec![model.init_states().iter().position(|s| s == first)?];
    let mut actions = Vec::new();
    for (state, action) in v {
        let Some(action) = action else { continue };
        actions.clear();
        model.actions(state, &mut actions);
        parts.push(actions.iter().position(|a| a == action)?);
    }
    let parts: Vec<String> = parts.iter().map(usize::to_string).collect();
    Some(format!("#/steps/{}", parts.join("/")))
}

/// A discovery's path as states with the action taken from each, cut at the
/// first state that shows the property: Stateright keeps the last state it
/// found, not the first.
pub fn first_showing(
    model: &TcModel,
    p: &stateright::Property<TcModel>,
    path: &stateright::Path<crate::model::State, crate::model::Action>,
) -> Vec<(crate::model::State, Option<crate::model::Action>)> {
    let mut v = path.clone().into_vec();
    if p.expectation != Expectation::Eventually {
        let want_true = p.expectation == Expectation::Sometimes;
        let shows = model.condition(p.name).unwrap_or(p.condition);
        if let Some(i) = v.iter().position(|(s, _)| shows(model, s) == want_true) {
            v.truncate(i + 1);
            v[i].1 = None;
        }
    }
    v
}

/// Paths of the properties named `wanted`, found by a single-threaded
/// breadth-first search that stops once each has one (deterministic).
pub type Paths = Vec<(
    String,
    Vec<(crate::model::State, Option<crate::model::Action>)>,
)>;

/// Runs a search for `wanted` and returns the model and the paths found.
pub fn find_paths(
    cfg: &ModelConfig,
    wanted: &[&'static str],
) -> Result<(TcModel, Paths), crate::config::ConfigError> {
    let model = TcModel::new(cfg)?.keep_first_paths();
    let props = model.properties();
    let checker = model
        .checker()
        .finish_when(stateright::HasDiscoveries::AllOf(
            wanted.iter().copied().collect(),
        ))
        .spawn_bfs()
        .join();
    let discoveries = checker.discoveries();
    let model = checker.model();
    let mut paths = Vec::new();
    for name in wanted {
        let (Some(p), Some(path)) = (
            props.iter().find(|p| p.name == *name),
            discoveries.get(name),
        ) else {
            continue;
        };
        paths.push((name.to_string(), first_showing(model, p, path)));
    }
    Ok((TcModel::new(cfg)?, paths))
}
