//! A deterministic in-process simulator: `n` nodes, a seeded schedule of
//! message deliveries (random delays), drops and timer expiries, run in
//! logical time until every live node has decided the height.
//!
//! It exercises the real node code with real signatures end to end; the model
//! checker explores all schedules, this samples one per seed.

use crate::block::Transaction;
use crate::config::OrchestratorConfig;
use crate::crypto::{Keypair, SignatureScheme};
use crate::encoding::sha256;
use crate::event::{Event, Rejection};
use crate::message::Message;
use crate::monitor::{ConsensusMetrics, Monitor};
use crate::node::{Context, Decision, Input, Node, NodeError, Output, StartHeight, Timer, Tip};
use crate::primitives::{Date, Hash32, NodeId};
use crate::registry::{MasternodeInfo, Registry, RegistryError, Tier};
use crate::rules::Rules;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

/// SplitMix64: a tiny, well-known, seedable generator; enough for schedules.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`, bounds in either order (tiny modulo bias is
    /// irrelevant for schedules).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.next_u64() % span,
            None => self.next_u64(),
        }
    }
}

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Number of masternodes.
    pub nodes: usize,
    /// Tiers, cycled over the nodes.
    pub tiers: Vec<Tier>,
    /// Rules every node runs.
    pub rules: Rules,
    /// Signature scheme (ed25519 unless a test wants speed).
    pub scheme: SignatureScheme,
    /// Schedule seed.
    pub seed: u64,
    /// Message delay bounds, ms.
    pub delay_ms: (u64, u64),
    /// Chance a message to one peer is lost, per mille.
    pub drop_permille: u32,
    /// Nodes that never send a proposal (silent as leaders, honest otherwise).
    pub silent_leaders: Vec<usize>,
    /// Nodes that never run at all.
    pub crashed: Vec<usize>,
    /// Protocol configuration.
    pub config: OrchestratorConfig,
    /// Mempool transactions each node holds.
    pub mempool: usize,
    /// Skip phase 1.
    pub presynchronized: bool,
    /// Local date of every node.
    pub date: Date,
    /// Give up after this much logical time.
    pub max_time_ms: u64,
    /// When each node starts the height, ms (missing entries: 0): nodes
    /// whose clocks or previous decisions differ.
    pub start_ms: Vec<u64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 4,
            tiers: vec![Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free],
            rules: Rules::Reference,
            scheme: SignatureScheme::Ed25519,
            seed: 1,
            delay_ms: (10, 200),
            drop_permille: 0,
            silent_leaders: Vec::new(),
            crashed: Vec::new(),
            config: OrchestratorConfig::default(),
            mempool: 3,
            presynchronized: false,
            date: Date::from_ymd(2025, 11, 1).expect("valid date"),
            max_time_ms: 3_600_000,
            start_ms: Vec::new(),
        }
    }
}

/// Why a simulation could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Bad registry.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Bad node configuration.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// Nonsense parameters.
    #[error("{0}")]
    Config(String),
}

/// What happened.
#[derive(Clone, Debug)]
pub struct SimReport {
    /// Each node's decision (none if it did not decide or was crashed).
    pub decisions: Vec<Option<Decision>>,
    /// Each node's metrics.
    pub metrics: Vec<Option<ConsensusMetrics>>,
    /// Messages handed to the network (one per recipient).
    pub sent: u64,
    /// Of those, lost.
    pub dropped: u64,
    /// Inputs refused by nodes, by reason name.
    pub rejections: BTreeMap<String, u64>,
    /// Logical time when the run ended, ms.
    pub end_ms: u64,
    /// Node ids.
    pub ids: Vec<NodeId>,
}

impl SimReport {
    /// The block every deciding node finalized, if they agree and at least
    /// one decided.
    pub fn agreed(&self) -> Option<Hash32> {
        let mut hashes = self.decisions.iter().flatten().map(|d| d.hash);
        let first = hashes.next()?;
        hashes.all(|h| h == first).then_some(first)
    }

    /// Number of nodes that decided.
    pub fn decided(&self) -> usize {
        self.decisions.iter().flatten().count()
    }
}

/// The registry and keys a simulation (or a test) uses: node `i` is
/// `mn{i:03}` with key `from_label(scheme, "mn{i:03}")`, reputation 1.0.
pub fn test_network(
    n: usize,
    tiers: &[Tier],
    scheme: SignatureScheme,
    registered_at: Date,
) -> Result<(Arc<Registry>, Vec<Keypair>), RegistryError> {
    labelled_network(n, tiers, scheme, registered_at, 1000)
}

/// Member `i`'s id in [`labelled_network`]: `mn{i:03}`.
pub fn member_id(i: usize) -> NodeId {
    NodeId::new(&format!("mn{i:03}")).expect("valid id")
}

/// [`test_network`] with every member's reputation set to
/// `reputation_milli` (the model checker's configurations vary it).
pub fn labelled_network(
    n: usize,
    tiers: &[Tier],
    scheme: SignatureScheme,
    registered_at: Date,
    reputation_milli: u32,
) -> Result<(Arc<Registry>, Vec<Keypair>), RegistryError> {
    let keys: Vec<Keypair> = (0..n)
        .map(|i| Keypair::from_label(scheme, &format!("mn{i:03}")))
        .collect();
    let members = keys
        .iter()
        .enumerate()
        .map(|(i, k)| MasternodeInfo {
            node_id: member_id(i),
            public_key: k.public(),
            tier: tiers[i % tiers.len().max(1)],
            registered_at,
            reputation_milli,
        })
        .collect();
    Ok((Arc::new(Registry::new(scheme, members)?), keys))
}

/// The genesis tip simulations start from.
pub fn genesis_tip() -> Tip {
    Tip {
        height: 0,
        hash: sha256(b"TIME genesis"),
    }
}

enum Pending {
    Deliver {
        to: usize,
        msg: Message,
    },
    Fire {
        node: usize,
        timer: Timer,
        generation: u64,
    },
    Start {
        node: usize,
    },
}

/// Runs one height.
pub fn run(cfg: &SimConfig) -> Result<SimReport, SimError> {
    if cfg.nodes == 0 {
        return Err(SimError::Config(
            "a simulation needs at least one node".into(),
        ));
    }
    if cfg.tiers.is_empty() {
        return Err(SimError::Config("no tiers given".into()));
    }
    if cfg.delay_ms.0 > cfg.delay_ms.1 {
        return Err(SimError::Config("minimum delay above maximum delay".into()));
    }
    if cfg.start_ms.len() > cfg.nodes {
        return Err(SimError::Config(format!(
            "{} start times for {} nodes",
            cfg.start_ms.len(),
            cfg.nodes
        )));
    }
    if cfg.drop_permille > 1000 {
        return Err(SimError::Config("drop rate above 1000 per mille".into()));
    }
    let registered = cfg
        .config
        .genesis_date
        .add_days(-100)
        .unwrap_or(cfg.config.genesis_date);
    let (registry, keys) = test_network(cfg.nodes, &cfg.tiers, cfg.scheme, registered)?;
    let mut nodes = Vec::with_capacity(cfg.nodes);
    for k in keys {
        let ctx = Context::new(k, registry.clone(), cfg.rules, cfg.config.clone())?;
        nodes.push(Node::new(ctx, genesis_tip()));
    }
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.context().id().clone()).collect();
    let mempool: Vec<Transaction> = (0..cfg.mempool)
        .map(|i| Transaction::transfer(format!("tx{i}").as_bytes()))
        .collect();
    let live: Vec<bool> = (0..cfg.nodes).map(|i| !cfg.crashed.contains(&i)).collect();

    let mut s = Schedule {
        rng: SplitMix64::new(cfg.seed),
        queue: BinaryHeap::new(),
        pending: BTreeMap::new(),
        generations: BTreeMap::new(),
        monitors: (0..cfg.nodes).map(|_| Monitor::new()).collect(),
        report: SimReport {
            decisions: vec![None; cfg.nodes],
            metrics: vec![None; cfg.nodes],
            sent: 0,
            dropped: 0,
            rejections: BTreeMap::new(),
            end_ms: 0,
            ids,
        },
        seq: 0,
        gave_up: vec![false; cfg.nodes],
    };

    // Late starts, as events of the schedule.
    for (i, &at) in cfg.start_ms.iter().enumerate() {
        if at > 0 && live[i] {
            s.at(at, Pending::Start { node: i });
        }
    }
    // Schedules what node `i` output at `now`.
    let apply = |i: usize, now: u64, outs: Vec<Output>, s: &mut Schedule| {
        for o in outs {
            // A broadcast goes to every live peer, a send (R7.6) to one.
            let o = match o {
                Output::Broadcast(msg) => Ok((msg, None)),
                Output::Send { to, message } => {
                    let to = s.report.ids.iter().position(|x| *x == to);
                    Ok((message, Some(to.unwrap_or(usize::MAX))))
                }
                other => Err(other),
            };
            let o = match o {
                Ok((msg, only)) => {
                    if matches!(msg, Message::Proposal(_)) && cfg.silent_leaders.contains(&i) {
                        continue;
                    }
                    let peers = live
                        .iter()
                        .enumerate()
                        .filter(|(to, l)| **l && *to != i && only.is_none_or(|o| o == *to));
                    for (to, _) in peers {
                        s.report.sent += 1;
                        if s.rng.range(1, 1000) <= u64::from(cfg.drop_permille) {
                            s.report.dropped += 1;
                            continue;
                        }
                        let at = now + s.rng.range(cfg.delay_ms.0, cfg.delay_ms.1);
                        let msg = msg.clone();
                        s.at(at, Pending::Deliver { to, msg });
                    }
                    continue;
                }
                Err(o) => o,
            };
            match o {
                Output::Broadcast(_) | Output::Send { .. } => {}
                Output::SetTimer { timer, after_ms } => {
                    let generation = s.seq + 1;
                    s.generations.insert((i, timer), generation);
                    s.at(
                        now + after_ms,
                        Pending::Fire {
                            node: i,
                            timer,
                            generation,
                        },
                    );
                }
                Output::CancelTimer(t) => {
                    s.generations.remove(&(i, t));
                }
                Output::Event(e) => {
                    s.monitors[i].record(now, &e);
                    match &e {
                        Event::Rejected(r) => {
                            *s.report.rejections.entry(rejection_name(r)).or_default() += 1
                        }
                        Event::SyncFailed {
                            continuing: false, ..
                        } => s.gave_up[i] = true,
                        _ => {}
                    }
                }
            }
        }
    };

    let start = || {
        Input::Start(StartHeight {
            date: cfg.date,
            mempool: mempool.clone(),
            presynchronized: cfg.presynchronized,
        })
    };
    for i in 0..cfg.nodes {
        if !live[i] {
            continue;
        }
        if cfg.start_ms.get(i).copied().unwrap_or(0) > 0 {
            continue; // scheduled above
        }
        let outs = nodes[i].handle(start());
        apply(i, 0, outs, &mut s);
    }
    let all_done = |nodes: &[Node], gave_up: &[bool]| {
        (0..cfg.nodes).all(|i| !live[i] || gave_up[i] || nodes[i].state().last_decision().is_some())
    };
    let mut now = 0;
    while let Some(Reverse((at, id))) = s.queue.pop() {
        if all_done(&nodes, &s.gave_up) || at > cfg.max_time_ms {
            break;
        }
        now = at;
        let Some(p) = s.pending.remove(&id) else {
            continue;
        };
        let (i, input) = match p {
            Pending::Deliver { to, msg } => (to, Input::Message(msg)),
            Pending::Fire {
                node,
                timer,
                generation,
            } => {
                if s.generations.get(&(node, timer)) != Some(&generation) {
                    continue;
                }
                s.generations.remove(&(node, timer));
                (node, Input::Timer(timer))
            }
            Pending::Start { node } => (node, start()),
        };
        let outs = nodes[i].handle(input);
        apply(i, now, outs, &mut s);
    }
    s.report.end_ms = now;
    for (i, n) in nodes.iter().enumerate() {
        s.report.decisions[i] = n.state().last_decision();
        s.report.metrics[i] = s.monitors[i].metrics().cloned();
    }
    Ok(s.report)
}

/// A run's schedule: inputs keyed by (time, sequence number), each timer's
/// current generation (a re-set or cancelled timer's earlier firing is
/// stale), and what is recorded on the way.
struct Schedule {
    rng: SplitMix64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    pending: BTreeMap<u64, Pending>,
    generations: BTreeMap<(usize, Timer), u64>,
    monitors: Vec<Monitor>,
    report: SimReport,
    seq: u64,
    gave_up: Vec<bool>,
}

impl Schedule {
    /// Schedules `p` at time `at`, after everything scheduled before it for
    /// the same time.
    fn at(&mut self, at: u64, p: Pending) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq)));
        self.pending.insert(self.seq, p);
    }
}

/// The variant name of a rejection, for counting.
pub fn rejection_name(r: &Rejection) -> String {
    let s = format!("{r:?}");
    s.split([' ', '(', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fallback::BlockKind;

    #[test]
    fn bad_parameters_are_refused() {
        let zero = SimConfig {
            nodes: 0,
            ..Default::default()
        };
        assert!(matches!(run(&zero), Err(SimError::Config(_))));
        let delays = SimConfig {
            delay_ms: (5, 1),
            ..Default::default()
        };
        assert!(matches!(run(&delays), Err(SimError::Config(_))));
    }

    #[test]
    fn four_reference_nodes_finalize_one_normal_block_in_attempt_zero() {
        let r = run(&SimConfig::default()).unwrap();
        assert_eq!(r.decided(), 4);
        let h = r.agreed().expect("agreement");
        for d in r.decisions.iter().flatten() {
            assert_eq!((d.hash, d.attempt, d.kind), (h, 0, BlockKind::Normal));
        }
        let m = r.metrics[0].as_ref().unwrap();
        // Gold and Silver already weigh 12 of 15 >= the quorum 10.
        assert!(
            m.success && m.heartbeat_count >= 2 && m.vote_count >= 4,
            "{m:?}"
        );
        assert!(m.approval_bps >= 6_667, "{m:?}");
    }
}
