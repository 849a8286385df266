//! Fuzz target `node`: four nodes of one registry (mn000-mn003: Gold,
//! Silver, Bronze, Free; weights 8, 4, 2, 1 of 15, quorum 10) decide height
//! 1 while the fuzzer schedules everything around them.
//!
//! The input is a small language ([`Scenario`]): a setup byte string (rule
//! set, which member is Byzantine, signature scheme, who skips phase 1,
//! mempool) and a list of actions: deliver a message broadcast so far (to one
//! node, to all, or everything pending, with one node cut off), fire a timer
//! (one a node set, or any timer at all, stale ones included), inject a
//! message forged by the Byzantine member and signed with its key by the
//! harness (votes for any block, attempt and step, proposals with any block
//! and justification, certificates assembled from the votes seen with
//! fields altered, heartbeats), or alter a field of a message seen and send
//! it on. The Byzantine member also runs the honest code, so it can take
//! part honestly too; its broadcasts count as Byzantine.
//!
//! Oracles, checked after every node input (a failed one panics, and
//! libFuzzer keeps the input):
//! - no panic;
//! - at most one `BlockFinalized` event per node;
//! - agreement: under the reference rules, with Byzantine weight below a
//!   third (none, Free, Bronze or Silver), honest nodes finalize one block;
//! - honest messages are accepted as authentic: an honest node never refuses
//!   a message an honest node broadcast, unaltered, with a rejection that
//!   says its sender misbehaved ([`blames_sender`]);
//! - memory: what a node holds is bounded by the attempt window
//!   ([`facts_bound`]), however many messages arrive.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use time_consensus::block::{Block, Transaction};
use time_consensus::crypto::Keypair;
use time_consensus::fallback::BlockKind;
use time_consensus::heartbeat::Heartbeat;
use time_consensus::kit::vote_of;
use time_consensus::message::{CertifiedBlock, Message, Proposal};
use time_consensus::node::{Context, Input, Node, Output, StartHeight, Timer};
use time_consensus::primitives::{Date, Hash32, NodeId};
use time_consensus::registry::{Registry, Tier};
use time_consensus::sim::{genesis_tip, test_network};
use time_consensus::vote::{Certificate, SignedVote, Step};
use time_consensus::weight::days_active;
use time_consensus::{Event, OrchestratorConfig, Rejection, Rules, SignatureScheme};

mod node_forge;
mod node_input;
mod node_oracles;

use node_forge::*;
use node_input::*;
use node_oracles::*;

/// Members, in registry list order.
const TIERS: [Tier; 4] = [Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free];
const N: usize = TIERS.len();

/// The rule sets a setup byte picks from: the reference rules most often,
/// the seed rules, and the intermediate sets the model uses to show each
/// amendment is forced.
const RULE_SETS: [&str; 12] = [
    "reference",
    "reference",
    "reference",
    "reference",
    "seed",
    "seed+A1",
    "seed+A1+A2",
    "seed+A1+A2+A3",
    "seed+A1+A2+A3+A4",
    "reference-A4",
    "reference-A5",
    "reference-A6",
];

/// Node inputs per fuzz input: keeps one execution within milliseconds
/// (signatures are most of the cost), so libFuzzer's `-timeout` catches
/// only a node that hangs.
const MAX_STEPS: usize = 2_000;

/// A message on the network.
struct Sent {
    /// Sender (list index), `None` for a message altered in transit.
    from: Option<usize>,
    /// Broadcast by an honest node and unaltered.
    honest: bool,
    msg: Message,
    /// Bit `i`: delivered to node `i` (or sent by it).
    reached: u8,
}

struct Harness {
    rules: Rules,
    registry: Arc<Registry>,
    keys: Vec<Keypair>,
    ids: Vec<NodeId>,
    nodes: Vec<Node>,
    byz: Option<usize>,
    /// Whether agreement is asserted.
    agreement: bool,
    pool: Vec<Sent>,
    /// Valid signed votes seen: (attempt, step, block, voter list index).
    votes: BTreeMap<(u32, Step, Hash32, usize), SignedVote>,
    /// Candidate blocks, then every block seen.
    blocks: Vec<Arc<Block>>,
    known: BTreeSet<Hash32>,
    /// Attempts the Byzantine member leads.
    led: Vec<u32>,
    /// Timers each node has set and not cancelled.
    timers: Vec<BTreeSet<Timer>>,
    finalized: Vec<Option<Hash32>>,
    steps: usize,
    date: Date,
}

impl Harness {
    fn new(setup: &Setup) -> Option<Harness> {
        let rules = Rules::parse(RULE_SETS[setup.rules as usize % RULE_SETS.len()]).ok()?;
        let byz = [Some(3), Some(2), Some(1), Some(0), None][setup.byzantine as usize % 5];
        let scheme = if setup.scheme.is_multiple_of(8) {
            SignatureScheme::Ed25519
        } else {
            SignatureScheme::Symbolic
        };
        let registered = Date::from_ymd(2025, 1, 1)?;
        let date = Date::from_ymd(2025, 11, 1)?;
        let (registry, keys) = test_network(N, &TIERS, scheme, registered).ok()?;
        let config = OrchestratorConfig::default();
        let nodes: Vec<Node> = keys
            .iter()
            .map(|k| {
                let ctx = Context::new(k.clone(), registry.clone(), rules, config.clone());
                ctx.map(|c| Node::new(c, genesis_tip()))
            })
            .collect::<Result<_, _>>()
            .ok()?;
        let ids = nodes.iter().map(|n| n.context().id().clone()).collect();
        let mut h = Harness {
            rules,
            registry,
            keys,
            ids,
            nodes,
            byz,
            agreement: false,
            pool: Vec::new(),
            votes: BTreeMap::new(),
            blocks: Vec::new(),
            known: BTreeSet::new(),
            led: Vec::new(),
            timers: vec![BTreeSet::new(); N],
            finalized: vec![None; N],
            steps: 0,
            date,
        };
        let mempool: Vec<Transaction> = (0..setup.mempool % 4)
            .map(|k| Transaction::transfer(format!("tx{k}").as_bytes()))
            .collect();
        for i in 0..N {
            let start = Input::Start(StartHeight {
                date,
                mempool: mempool.clone(),
                presynchronized: setup.presynchronized & (1 << i) != 0,
            });
            h.handle(i, start, None);
        }
        let round = h.nodes.iter().find_map(|n| n.state().round())?;
        let ctx = round.height_ctx().block_context().clone();
        let weights = round.height_ctx().weights().clone();
        let node0 = h.nodes[0].context().clone();
        if let Some(b) = byz {
            h.led = (0..12)
                .filter(|&a| round.leader(&node0, a).as_ref() == Some(&h.ids[b]))
                .collect();
        }
        let byz_weight = byz.map_or(0, |b| {
            weights.weight(h.registry.position_of(&h.ids[b]).expect("member"))
        });
        h.agreement = rules == Rules::Reference && 3 * byz_weight < weights.total();
        let mut candidates = vec![ctx.emergency.clone()];
        for id in h.ids.clone() {
            candidates.push(Arc::new(ctx.build(BlockKind::Normal, &id, &mempool)));
            let other = [Transaction::transfer(id.as_str().as_bytes())];
            candidates.push(Arc::new(ctx.build(BlockKind::Normal, &id, &other)));
            candidates.push(Arc::new(ctx.build(BlockKind::RewardOnly, &id, &[])));
        }
        for b in candidates {
            h.know_block(&b);
        }
        Some(h)
    }

    fn know_block(&mut self, b: &Arc<Block>) {
        if self.known.insert(b.hash()) {
            self.blocks.push(b.clone());
        }
    }

    fn index_of(&self, id: &NodeId) -> Option<usize> {
        self.ids.iter().position(|x| x == id)
    }

    /// Remembers the valid votes and the blocks a genuine message carries.
    fn learn(&mut self, m: &Message) {
        let mut votes: Vec<&SignedVote> = Vec::new();
        match m {
            Message::Vote(sv) => votes.push(sv),
            Message::Certificate(cb) => {
                self.know_block(&cb.block);
                votes.extend(&cb.certificate.votes);
            }
            Message::Proposal(sp) => {
                self.know_block(&sp.proposal.block);
                if let Some(j) = &sp.proposal.justification {
                    votes.extend(&j.votes);
                }
            }
            Message::Heartbeat(_) => {}
        }
        for sv in votes {
            let v = &sv.vote;
            if let Some(i) = self.index_of(&v.voter) {
                self.votes
                    .entry((v.attempt, v.step, v.block_hash, i))
                    .or_insert_with(|| sv.clone());
            }
        }
    }

    /// Applies one input to node `to` and checks the oracles on what it
    /// does. `from` is the honest sender of an unaltered message.
    fn handle(&mut self, to: usize, input: Input, from: Option<usize>) {
        if self.steps >= MAX_STEPS {
            return;
        }
        self.steps += 1;
        let what = match (&input, from) {
            (Input::Message(m), Some(_)) => Some(describe(m)),
            _ => None,
        };
        let outs = self.nodes[to].handle(input);
        let checked = from.is_some() && Some(to) != self.byz;
        for o in outs {
            match o {
                Output::Broadcast(m) => {
                    self.learn(&m);
                    self.pool.push(Sent {
                        from: Some(to),
                        honest: Some(to) != self.byz,
                        msg: m,
                        reached: 1 << to,
                    });
                }
                Output::Send { to: id, message } => {
                    // R7.6: to one node only; the others count as reached.
                    let Some(dst) = self.ids.iter().position(|x| *x == id) else {
                        continue;
                    };
                    let all = (1u64 << self.nodes.len()) - 1;
                    self.learn(&message);
                    self.pool.push(Sent {
                        from: Some(to),
                        honest: Some(to) != self.byz,
                        msg: message,
                        reached: (all & !(1 << dst)) as _,
                    });
                }
                Output::SetTimer { timer, .. } => {
                    self.timers[to].insert(timer);
                }
                Output::CancelTimer(t) => {
                    self.timers[to].remove(&t);
                }
                Output::Event(Event::BlockFinalized { hash, .. }) => {
                    assert!(
                        self.finalized[to].is_none(),
                        "oracle `one finalization`: node {to} finalized twice ({:?}, then {hash:?}) under {}",
                        self.finalized[to],
                        self.rules
                    );
                    self.finalized[to] = Some(hash);
                }
                Output::Event(Event::Rejected(r)) if checked && blames_sender(&r) => {
                    panic!(
                        "oracle `honest messages verify`: honest node {to} refused {} broadcast by honest node {} under {}: {r:?}",
                        what.as_deref().unwrap_or("?"),
                        from.unwrap_or(usize::MAX),
                        self.rules
                    );
                }
                Output::Event(_) => {}
            }
        }
        self.check_memory(to);
        self.check_agreement();
    }

    fn attempt_of(&self, to: usize) -> u32 {
        self.nodes[to % N]
            .state()
            .round()
            .map_or(0, |r| r.attempt())
    }

    /// Sends a message to `to` (4: everyone but its sender) and puts it on
    /// the network, so that later deliveries may carry it on.
    fn inject(&mut self, to: To, from: Option<usize>, m: Message) {
        let targets: Vec<usize> = match to.0 % 5 {
            4 => (0..N).filter(|&i| Some(i) != from).collect(),
            t => vec![t as usize],
        };
        let mut reached = from.map_or(0, |f| 1u8 << f);
        for &t in &targets {
            reached |= 1 << t;
        }
        self.pool.push(Sent {
            from,
            honest: false,
            msg: m.clone(),
            reached,
        });
        for t in targets {
            self.handle(t, Input::Message(m.clone()), None);
        }
    }

    /// Delivers pool message `k` to node `to`, unless it has reached it.
    fn deliver(&mut self, k: usize, to: usize) {
        let s = &mut self.pool[k];
        if s.from == Some(to) {
            return;
        }
        s.reached |= 1 << to;
        let from = if s.honest { s.from } else { None };
        let m = s.msg.clone();
        self.handle(to, Input::Message(m), from);
    }

    fn act(&mut self, a: &Action) {
        match a {
            Action::Deliver { msg, to } => {
                if !self.pool.is_empty() {
                    let k = *msg as usize % self.pool.len();
                    self.deliver(k, *to as usize % N);
                }
            }
            Action::Broadcast { msg } => {
                if !self.pool.is_empty() {
                    let k = *msg as usize % self.pool.len();
                    for to in 0..N {
                        if self.pool[k].reached & (1 << to) == 0 {
                            self.deliver(k, to);
                        }
                    }
                }
            }
            Action::Flush { cut, kinds } => {
                let cut = *cut as usize % 8;
                let mask = if kinds & 0x20 != 0 {
                    kinds & 0x1f
                } else {
                    0x1f
                };
                let mut k = 0;
                while k < self.pool.len() && self.steps < MAX_STEPS {
                    if self.pool[k].from != Some(cut) && mask & kind_bit(&self.pool[k].msg) != 0 {
                        for to in (0..N).filter(|&t| t != cut) {
                            if self.pool[k].reached & (1 << to) == 0 {
                                self.deliver(k, to);
                            }
                        }
                    }
                    k += 1;
                }
            }
            Action::Advance { to } => {
                let targets = match to.0 % 5 {
                    4 => 0..N,
                    t => t as usize..t as usize + 1,
                };
                for to in targets {
                    let Some(r) = self.nodes[to].state().round() else {
                        continue;
                    };
                    let (height, attempt) = (r.height(), r.attempt());
                    let timers = if r.started() {
                        vec![
                            Timer::Leader { height, attempt },
                            Timer::VotingWindow { height, attempt },
                            Timer::Attempt { height, attempt },
                        ]
                    } else {
                        vec![Timer::Heartbeat { height }]
                    };
                    for t in timers {
                        let moved_on = self.nodes[to]
                            .state()
                            .round()
                            .is_none_or(|r| r.attempt() != attempt);
                        if moved_on {
                            break;
                        }
                        self.timers[to].remove(&t);
                        self.handle(to, Input::Timer(t), None);
                    }
                }
            }
            Action::FireSet { to, which } => {
                let to = *to as usize % N;
                let set = &self.timers[to];
                if let Some(t) = set.iter().nth(*which as usize % set.len().max(1)).copied() {
                    self.timers[to].remove(&t);
                    self.handle(to, Input::Timer(t), None);
                }
            }
            Action::Fire {
                to,
                kind,
                attempt,
                height,
            } => {
                let to = *to as usize % N;
                let attempt = self.attempt(*attempt, to);
                let height = [1, 1, 0, 2][*height as usize % 4];
                let t = match kind % 4 {
                    0 => Timer::Heartbeat { height },
                    1 => Timer::Leader { height, attempt },
                    2 => Timer::VotingWindow { height, attempt },
                    _ => Timer::Attempt { height, attempt },
                };
                self.timers[to].remove(&t);
                self.handle(to, Input::Timer(t), None);
            }
            Action::Vote {
                to,
                commit,
                attempt,
                block,
                approve,
                weight,
            } => {
                let Some(b) = self.byz else { return };
                let step = if *commit { Step::Commit } else { Step::Approve };
                let attempt = self.attempt(*attempt, to.0 as usize);
                let w = if *weight == u8::MAX {
                    u64::MAX
                } else {
                    u64::from(*weight)
                };
                let sv = vote_of(
                    &self.keys[b],
                    &self.ids[b],
                    attempt,
                    step,
                    self.hash(*block),
                    *approve,
                    w,
                );
                let m = Message::Vote(sv);
                self.learn(&m);
                self.inject(*to, Some(b), m);
            }
            Action::Propose {
                to,
                attempt,
                block,
                edit,
                valid,
                justification,
            } => {
                let Some(b) = self.byz else { return };
                let attempt = self.attempt(*attempt, to.0 as usize);
                let blk = self.edit_block(&self.block(*block), *edit);
                let valid_attempt = valid.map(|v| self.attempt(v, to.0 as usize));
                let justification = justification.as_ref().map(|s| {
                    let va = valid_attempt.unwrap_or(0);
                    self.certificate(va, Step::Approve, blk.hash(), s, to.0 as usize)
                });
                let proposal = Proposal {
                    height: 1,
                    attempt,
                    proposer: self.ids[b].clone(),
                    block: blk,
                    valid_attempt,
                    justification,
                };
                let m = Message::Proposal(proposal.sign(&self.keys[b]));
                self.learn(&m);
                self.inject(*to, Some(b), m);
            }
            Action::Repropose {
                to,
                attempt,
                cert,
                edit,
            } => {
                let Some(b) = self.byz else { return };
                let certs: Vec<&CertifiedBlock> = self
                    .pool
                    .iter()
                    .filter_map(|s| match &s.msg {
                        Message::Certificate(cb) if cb.certificate.step == Step::Approve => {
                            Some(cb)
                        }
                        _ => None,
                    })
                    .collect();
                if certs.is_empty() {
                    return;
                }
                let cb = certs[*cert as usize % certs.len()].clone();
                let mut justification = (*cb.certificate).clone();
                if let (Some((k, e)), false) = (edit, justification.votes.is_empty()) {
                    let k = *k as usize % justification.votes.len();
                    self.edit_vote(&mut justification.votes[k], e, to.0 as usize);
                }
                let proposal = Proposal {
                    height: 1,
                    attempt: self.attempt(*attempt, to.0 as usize),
                    proposer: self.ids[b].clone(),
                    block: cb.block,
                    valid_attempt: Some(justification.attempt),
                    justification: Some(justification),
                };
                let m = Message::Proposal(proposal.sign(&self.keys[b]));
                self.inject(*to, Some(b), m);
            }
            Action::Certify {
                to,
                commit,
                attempt,
                block,
                shape,
            } => {
                let Some(b) = self.byz else { return };
                let step = if *commit { Step::Commit } else { Step::Approve };
                let attempt = self.attempt(*attempt, to.0 as usize);
                let block = self.block(*block);
                let certificate =
                    self.certificate(attempt, step, block.hash(), shape, to.0 as usize);
                let m = Message::Certificate(CertifiedBlock {
                    block,
                    certificate: certificate.into(),
                });
                self.inject(*to, Some(b), m);
            }
            Action::Heartbeat { to, height, tip } => {
                let Some(b) = self.byz else { return };
                let me = self.registry.member(b);
                let heartbeat = Heartbeat {
                    node_id: self.ids[b].clone(),
                    timestamp: self.blocks[0].header.timestamp,
                    block_height: u64::from(height % 3),
                    chain_tip_hash: match tip {
                        HashSel::Block(0) => genesis_tip().hash,
                        t => self.hash(*t),
                    },
                    tier: me.tier,
                    version: "1.0.0".parse().expect("short"),
                    reputation_milli: me.reputation_milli,
                    days_active: days_active(self.date, me.registered_at),
                };
                let m = Message::Heartbeat(heartbeat.sign(&self.keys[b]));
                self.inject(*to, Some(b), m);
            }
            Action::Corrupt {
                msg,
                to,
                how,
                resign,
            } => {
                if self.pool.is_empty() {
                    return;
                }
                let k = *msg as usize % self.pool.len();
                let from = self.pool[k].from;
                let mut m = self.pool[k].msg.clone();
                if !self.corrupt(&mut m, how, to.0 as usize) {
                    return;
                }
                if let (true, Some(f)) = (*resign, from) {
                    if Some(f) == self.byz {
                        self.resign(&mut m, f);
                    }
                }
                self.inject(*to, None, m);
            }
        }
    }
}

impl Harness {
    /// One line on how far an input got (`NODE_FUZZ_SUMMARY=1`, or `=pool`
    /// to list the messages too), to see that a corpus reaches decisions,
    /// fallbacks and Byzantine paths, and to read a crashing input.
    fn summary(&self, actions: usize) -> String {
        let attempts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| match n.state().round() {
                Some(r) => r.attempt().to_string(),
                None => "-".into(),
            })
            .collect();
        let finalized: Vec<String> = self
            .finalized
            .iter()
            .zip(self.nodes.iter())
            .map(|(f, n)| match (f, n.state().last_decision()) {
                (Some(_), Some(d)) => format!("{}@{:?}", d.attempt, d.kind),
                _ => "-".into(),
            })
            .collect();
        format!(
            "summary rules={} byz={:?} byz_leads={:?} actions={actions} steps={} pool={} attempts=[{}] finalized=[{}]",
            self.rules,
            self.byz,
            self.led,
            self.steps,
            self.pool.len(),
            attempts.join(","),
            finalized.join(",")
        )
    }
}

fuzz_target!(|s: Scenario| {
    static SUMMARY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let Some(mut h) = Harness::new(&s.setup) else {
        return;
    };
    for a in &s.actions {
        if h.steps >= MAX_STEPS {
            break;
        }
        h.act(a);
    }
    match SUMMARY.get_or_init(|| std::env::var("NODE_FUZZ_SUMMARY").ok()) {
        None => {}
        Some(v) => {
            eprintln!("{}", h.summary(s.actions.len()));
            // `NODE_FUZZ_SUMMARY=pool`: every message sent, in order.
            if v == "pool" {
                for (k, m) in h.pool.iter().enumerate() {
                    let from = m.from.map_or("altered".into(), |f| f.to_string());
                    eprintln!("  pool[{k}] from {from}: {}", describe(&m.msg));
                }
            }
        }
    }
});
