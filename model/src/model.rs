//! The model: an `ActorModel` of the masternodes, wrapped so that the timer
//! semantics of [`Network::Gst`] can be imposed, with the protocol's
//! properties.

use crate::actor::{Adversary, Honest, McActor, McState, McTimer, Packet};
use crate::config::{ConfigError, ModelConfig, Network, Timing, VoteDelivery};
use crate::forge::Forger;
use stateright::actor::{
    ActorModel, ActorModelAction, ActorModelState, Id, LossyNetwork, Network as SrNetwork,
};
use stateright::{Model, Path, Property};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use time_consensus::block::{Block, Transaction};
use time_consensus::fallback::{plan, BlockKind, LeaderRule};
use time_consensus::message::{Message, Proposal};
use time_consensus::node::{Decision, HeightCtx, NodeState, Timer};
use time_consensus::primitives::Hash32;
use time_consensus::vote::{SignedVote, Step};
use time_consensus::Amendment;

/// (attempt, step, block) of a vote.
type VoteKey = (u32, Step, Hash32);
/// A pending vote: voter's canonical position, sender, message.
type Pending = (usize, Id, Packet);

/// A state of the whole system.
pub type State = ActorModelState<McActor, ()>;
/// A step of the actor system.
pub type ActorAction = ActorModelAction<Packet, McTimer, ()>;

/// A step of the checked model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A step of the actor system: a delivery, a loss, a timer.
    Actor(ActorAction),
    /// Under [`VoteDelivery::Batched`], votes delivered to one honest node
    /// one after the other: under the two-step rules, votes of one step,
    /// attempt and block ending with the one that completes its quorum (or
    /// an equivocator's vote alone); under the seed flow, any votes just
    /// before its voting window closes.
    Votes {
        /// The node.
        dst: Id,
        /// Senders and votes, in delivery order.
        votes: Vec<(Id, Packet)>,
        /// Seed flow: the voting-window timer that fires right after.
        then: Option<Timer>,
    },
    /// Under [`Timing::Clocked`], the clock moves on to this time (ms): the
    /// next start or deadline, once nothing else can happen before it.
    Tick(u64),
    /// Under [`Timing::Clocked`], the last explored attempt's timer of this
    /// honest node fires (the model sets no such timer): it leaves the
    /// explored ladder undecided and takes no further part.
    LeavesLadder(Id),
    /// Under [`Timing::LateStarts`] and [`Timing::Staggered`], an honest
    /// node starts the height before what honest nodes sent it in their
    /// current attempt (or phase) arrives: that arrives after the start, by
    /// deliveries of its own; what is of an attempt they have left arrives
    /// first (timeouts outlast delays), as in a plain start, which takes in
    /// all of it ([`TcModel::taken_in_at_start`]).
    StartsAhead(Id),
}

/// Facts about a configuration that the properties and reports need.
#[derive(Debug)]
pub struct Info {
    /// The configuration.
    pub cfg: ModelConfig,
    /// Indices of the honest masternodes.
    pub honest: Vec<usize>,
    /// Every block an elected leader can propose within the bound, and the
    /// emergency block if the ladder has an emergency attempt: the blocks
    /// validity allows (R3, R4.3, R7.3), each with the first attempt that
    /// proposes it (it may be finalized then or later).
    pub valid_blocks: BTreeMap<Hash32, (Arc<Block>, u32)>,
    /// Readable names of those blocks.
    pub labels: BTreeMap<Hash32, String>,
    /// The emergency block's hash.
    pub emergency: Hash32,
    /// Transitions checked against the progress measure.
    pub edges_checked: AtomicU64,
    /// The registry.
    pub registry: Arc<time_consensus::Registry>,
    /// The first transition on which the progress measure did not rise.
    pub acyclicity_violation: std::sync::Mutex<Option<String>>,
    /// Every masternode's node context (keys, registry, rules), by index.
    pub contexts: Vec<Arc<time_consensus::Context>>,
    /// While a check runs: the properties already shown (violated, or
    /// found), so that Stateright keeps each one's first path (see
    /// [`TcModel::keep_first_paths`]).
    shown: std::sync::Mutex<Option<std::collections::BTreeSet<&'static str>>>,
    /// Whether batched delivery spares the adversary here: under the
    /// two-step rules a Byzantine node has votes for two blocks of one step
    /// (`commit-any`; `vote-any` in an emergency attempt, or for the two
    /// blocks it proposes as an equivocating leader), so its weight is at
    /// hand in every batch ([`VoteDelivery::Batched`]).
    pub kind_batches: bool,
    /// Set to stop a check early (a memory or state limit, an interrupt):
    /// no state lists a successor any more, so the search drains at once.
    /// Every state visited after is then terminal in appearance only, so
    /// `eventually` discoveries made after it are void ([`crate::check`]).
    pub stop: std::sync::atomic::AtomicBool,
    /// Whether the stop left a state with a successor unexpanded: if not,
    /// the search was exhaustive after all.
    pub cut: std::sync::atomic::AtomicBool,
    /// Set `stop` at the first state that violates an `always` property.
    pub stop_at_violation: std::sync::atomic::AtomicBool,
    /// The thread that reports on a check: `stop` never applies there, so
    /// it can rebuild paths (Stateright replays their actions) at any time.
    pub reporter: std::sync::OnceLock<std::thread::ThreadId>,
}

impl Info {
    /// What a checked property's condition reports: `value`, except that
    /// once `name` has shown (`value == shows`) it reports the opposite at
    /// every later state, while a check keeps first paths.
    fn first_only(&self, name: &'static str, value: bool, shows: bool) -> bool {
        if value != shows {
            return value;
        }
        match self.shown.lock().expect("not poisoned").as_mut() {
            Some(seen) => {
                let first = seen.insert(name);
                if first && !shows && self.stop_at_violation.load(Ordering::Relaxed) {
                    // An `always` property violated: stop here, the same
                    // state on every run of one thread.
                    self.stop.store(true, Ordering::Relaxed);
                }
                first == value
            }
            None => value,
        }
    }

    /// A block's readable name.
    pub fn label(&self, h: &Hash32) -> String {
        self.labels
            .get(h)
            .cloned()
            .unwrap_or_else(|| format!("{h:?}"))
    }
}

/// The checked model.
pub struct TcModel {
    /// The actor system.
    pub inner: ActorModel<McActor, (), ()>,
    /// Shared facts.
    pub info: Arc<Info>,
    /// List only actions that change the state (for random walks).
    effective_only: bool,
}

impl TcModel {
    /// Builds the model of `cfg`.
    pub fn new(cfg: &ModelConfig) -> Result<TcModel, ConfigError> {
        let built = cfg.build()?;
        let n = cfg.tiers.len();
        let ids: Vec<Id> = (0..n).map(Id::from).collect();
        let peers = |i: usize| {
            ids.iter()
                .copied()
                .filter(|j| usize::from(*j) != i)
                .collect::<Vec<_>>()
        };
        // Node 0's view of the height gives its leaders and blocks.
        let ctx0 = &built.contexts[0];
        let hc = HeightCtx::new(ctx0, built.tip.height + 1, built.tip.hash, cfg.date());
        let bc = hc.block_context().clone();
        let orch = cfg.orchestrator();
        let leader_of = |a: u32| {
            hc.leader(ctx0, a).map(|p| {
                let id = &built.registry.at_position(p as usize).node_id;
                built.registry.index_of(id).expect("member")
            })
        };
        let mut labels = BTreeMap::new();
        let mut valid_blocks = BTreeMap::new();
        let emergency = bc.emergency.clone();
        labels.insert(emergency.hash(), "E".to_string());
        let mut byz_proposals: BTreeMap<usize, Vec<Proposal>> = BTreeMap::new();
        for a in 0..=cfg.max_attempt + 1 {
            let p = plan(cfg.rules, &orch, a);
            if p.kind == BlockKind::Emergency {
                valid_blocks
                    .entry(emergency.hash())
                    .or_insert_with(|| (emergency.clone(), a));
            }
            let Some(l) = leader_of(a) else { continue };
            let id = built.registry.member(l).node_id.clone();
            let prefix = if p.kind == BlockKind::RewardOnly {
                "R"
            } else {
                "B"
            };
            let mut add = |block: Block, label: String| {
                let h = block.hash();
                labels.entry(h).or_insert(label);
                valid_blocks
                    .entry(h)
                    .or_insert_with(|| (Arc::new(block), a))
                    .0
                    .clone()
            };
            if cfg.is_honest(l) {
                add(
                    bc.build(p.kind, &id, &built.mempool),
                    format!("{prefix}{a}·{id}"),
                );
            } else if a <= cfg.max_attempt && !cfg.behaviour.is_silent() {
                let mut blocks = vec![add(
                    bc.build(p.kind, &id, &built.mempool),
                    format!("{prefix}{a}·{id}"),
                )];
                if cfg.behaviour.equivocate && p.kind == BlockKind::Normal {
                    let alt = [Transaction::transfer(
                        format!("equivocation-{a}").as_bytes(),
                    )];
                    blocks.push(add(
                        bc.build(p.kind, &id, &alt),
                        format!("{prefix}{a}'·{id}"),
                    ));
                }
                for block in blocks {
                    byz_proposals.entry(l).or_default().push(Proposal {
                        height: 1,
                        attempt: a,
                        proposer: id.clone(),
                        block,
                        valid_attempt: None,
                        justification: None,
                    });
                }
            }
        }
        let emergency_attempts: Vec<u32> = (0..=cfg.max_attempt)
            .filter(|a| plan(cfg.rules, &orch, *a).leader == LeaderRule::Leaderless)
            .collect();
        let b = &cfg.behaviour;
        let two_blocks_in_an_attempt = byz_proposals.values().any(|ps| {
            ps.iter()
                .enumerate()
                .any(|(i, p)| ps[..i].iter().any(|q| q.attempt == p.attempt))
        });
        let kind_batches = cfg.votes == VoteDelivery::Batched
            && !cfg.byzantine.is_empty()
            && cfg.rules.has(Amendment::TwoStepLocking)
            && (b.commit_any
                || (b.vote_any && (!emergency_attempts.is_empty() || two_blocks_in_an_attempt)));
        let weights = hc.weights().clone();
        let actors: Vec<McActor> = (0..n)
            .map(|i| {
                let ctx = built.contexts[i].clone();
                if cfg.is_honest(i) {
                    McActor::Honest(Honest {
                        init: NodeState::new(built.tip),
                        ctx,
                        date: cfg.date(),
                        mempool: built.mempool.clone(),
                        presynchronized: !cfg.phase1,
                        starts_apart: cfg.timing.starts_apart(),
                        clocked: cfg.timing == Timing::Clocked,
                        max_attempt: cfg.max_attempt,
                        peers: peers(i),
                        answers: cfg.network == Network::Lossy || cfg.timing.starts_apart(),
                    })
                } else {
                    let keypair = ctx.keypair().clone();
                    let proposals = byz_proposals
                        .remove(&i)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|p| p.sign(&keypair))
                        .collect();
                    let pos = built.registry.position_of(ctx.id()).expect("member");
                    McActor::Byzantine(Box::new(Adversary {
                        id: ctx.id().clone(),
                        keypair,
                        behaviour: cfg.behaviour,
                        proposals,
                        emergency_attempts: emergency_attempts.clone(),
                        any_blocks: valid_blocks.keys().copied().collect(),
                        two_step: cfg.rules.has(Amendment::TwoStepLocking),
                        weight: weights.weight(pos),
                        max_attempt: cfg.max_attempt,
                        peers: peers(i),
                        forger: cfg.behaviour.forge.then(|| Forger {
                            id: ctx.id().clone(),
                            blocks: valid_blocks
                                .iter()
                                .map(|(h, (b, _))| (*h, b.clone()))
                                .collect(),
                            voters: (0..n)
                                .map(|p| {
                                    let id = built.registry.at_position(p).node_id.clone();
                                    (id, (p, weights.weight(p)))
                                })
                                .collect(),
                            quorum: weights.quorum(),
                            leads: (1..=cfg.max_attempt)
                                .filter(|&a| {
                                    plan(cfg.rules, &orch, a).leader != LeaderRule::Leaderless
                                        && leader_of(a) == Some(i)
                                })
                                .collect(),
                        }),
                    }))
                }
            })
            .collect();
        let network = match cfg.network {
            // Under partial synchrony too the network is the set of messages
            // sent so far: a redelivery changes nothing, so "every effective
            // delivery happened" is exactly "every message was delivered".
            Network::Async | Network::Gst(_) => SrNetwork::new_unordered_duplicating([]),
            Network::Lossy => SrNetwork::new_unordered_nonduplicating([]),
        };
        let inner = ActorModel::new((), ())
            .actors(actors)
            .init_network(network)
            .lossy_network(if cfg.network == Network::Lossy {
                LossyNetwork::Yes
            } else {
                LossyNetwork::No
            });
        let info = Arc::new(Info {
            kind_batches,
            cfg: cfg.clone(),
            honest: (0..n).filter(|&i| cfg.is_honest(i)).collect(),
            valid_blocks,
            labels,
            emergency: emergency.hash(),
            edges_checked: AtomicU64::new(0),
            registry: built.registry.clone(),
            acyclicity_violation: std::sync::Mutex::new(None),
            shown: std::sync::Mutex::new(None),
            contexts: built.contexts.clone(),
            stop: std::sync::atomic::AtomicBool::new(false),
            cut: std::sync::atomic::AtomicBool::new(false),
            stop_at_violation: std::sync::atomic::AtomicBool::new(false),
            reporter: std::sync::OnceLock::new(),
        });
        Ok(TcModel {
            inner,
            info,
            effective_only: false,
        })
    }

    /// The model with only state-changing actions listed. Stateright 0.31's
    /// simulation records the index of an action that changed nothing and
    /// then cannot replay its path; with this it never meets one.
    pub fn effective_actions_only(mut self) -> Self {
        self.effective_only = true;
        self
    }

    /// Makes the checker keep the first path that shows each `always` or
    /// `sometimes` property. Stateright records a discovery again at every
    /// state that shows it, so it reports the last one explored; with this
    /// a single-threaded breadth-first search reports a shortest path.
    /// Only for checks: a property then reads as not shown after its first
    /// showing state, which an Explorer user would take for the truth.
    pub fn keep_first_paths(self) -> Self {
        *self.info.shown.lock().expect("not poisoned") = Some(Default::default());
        self
    }

    /// A property's condition as it reads, without the first-path latch
    /// (to find where a reported path first shows it).
    pub fn condition(&self, name: &str) -> Option<Condition> {
        CONDITIONS
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|&(_, _, raw, _)| raw)
    }

    /// Honest decisions in `state`, by masternode index.
    pub fn decisions(&self, state: &State) -> Vec<(usize, Decision)> {
        self.info
            .honest
            .iter()
            .filter_map(|&i| {
                state.actor_states[i]
                    .node()
                    .and_then(NodeState::last_decision)
                    .map(|d| (i, d))
            })
            .collect()
    }

    fn gst(&self) -> Option<u32> {
        match self.info.cfg.network {
            Network::Gst(g) => Some(g),
            _ => None,
        }
    }

    /// Under [`Network::Gst`], whether a timer waits for quiescence (a
    /// start never does: a node may start at any time).
    fn synchronous_timer(&self, t: &McTimer) -> bool {
        match t {
            McTimer::Start => false,
            McTimer::Node(t) => self.gst().is_some_and(|g| t.attempt().unwrap_or(0) >= g),
        }
    }

    fn batched(&self) -> bool {
        self.info.cfg.vote_delivery() != VoteDelivery::Single
    }

    /// A vote to an honest node running the height: delivered in batches.
    /// A node that has not started or has decided does not count votes (it
    /// keeps, loses or answers them one by one).
    fn is_vote_to_running(&self, state: &State, a: &ActorAction) -> bool {
        matches!(a, ActorModelAction::Deliver { dst, msg, .. }
            if matches!(msg.msg(), Message::Vote(_))
                && self.info.cfg.is_honest(usize::from(*dst))
                && state.actor_states[usize::from(*dst)]
                    .node()
                    .and_then(NodeState::round)
                    .is_some())
    }

    /// Applies an action (a batch is its deliveries in order; `None` if
    /// nothing changes).
    pub fn apply(&self, state: &State, action: &Action) -> Option<State> {
        let mut next = self.apply_inner(state, action)?;
        // Stateright's keep-everything network also records the last
        // delivery, which no action and no property reads: it only tells
        // apart states that differ in nothing else (the same votes counted
        // in another order would be as many states).
        if let SrNetwork::UnorderedDuplicating(_, last) = &mut next.network {
            *last = None;
        }
        if self.info.cfg.timing.starts_apart() {
            // An answer (R7.6) helps only an honest node yet to decide; the
            // others would multiply states with envelopes that change nothing.
            let useless = |e: &stateright::actor::Envelope<&Packet>| {
                e.msg.is_answer()
                    && (!self.info.cfg.is_honest(usize::from(e.dst))
                        || next.actor_states[usize::from(e.dst)]
                            .node()
                            .is_some_and(|n| n.last_decision().is_some()))
            };
            if next.network.iter_all().any(|e| useless(&e)) {
                let kept: Vec<_> = next
                    .network
                    .iter_all()
                    .filter(|e| !useless(e))
                    .map(|e| e.to_cloned_msg())
                    .collect();
                next.network = match next.network {
                    SrNetwork::UnorderedNonDuplicating(_) => {
                        SrNetwork::new_unordered_nonduplicating(kept)
                    }
                    _ => SrNetwork::new_unordered_duplicating(kept),
                };
            }
        }
        if next == *state {
            // E.g. a batch of votes already counted, an answer already sent.
            return None;
        }
        Some(if self.info.cfg.timing == Timing::Staggered {
            self.track_entries(state, next)
        } else {
            next
        })
    }

    /// Staggered timing: a node that got somewhere new (phase 1, an
    /// attempt, or out of the height) records who was there before it.
    fn track_entries(&self, before: &State, mut next: State) -> State {
        for &i in &self.info.honest {
            let (was, now) = (
                where_is(&before.actor_states[i]),
                where_is(&next.actor_states[i]),
            );
            if was == now {
                continue;
            }
            let ahead: std::collections::BTreeSet<usize> = match now {
                None => Default::default(),
                Some(_) => self
                    .info
                    .honest
                    .iter()
                    .copied()
                    .filter(|&j| j != i && where_is(&next.actor_states[j]) == now)
                    .collect(),
            };
            if let McState::Honest(h) = Arc::make_mut(&mut next.actor_states[i]) {
                h.ahead = ahead;
            }
        }
        next
    }

    /// What arrives at `x` just before it starts the height: what honest
    /// nodes sent it, in canonical order.
    pub fn early_deliveries(&self, state: &State, x: Id) -> Vec<(Id, Packet)> {
        let mut early: Vec<(Id, Packet)> = state
            .network
            .iter_deliverable()
            .filter(|e| e.dst == x && self.info.cfg.is_honest(usize::from(e.src)))
            .map(|e| (e.src, e.msg.clone()))
            .collect();
        early.sort();
        early
    }

    /// What a start of `x` takes in first: every early delivery, or for a
    /// start ahead those not [`TcModel::recent`].
    pub fn taken_in_at_start(&self, state: &State, x: Id, ahead: bool) -> Vec<(Id, Packet)> {
        let mut early = self.early_deliveries(state, x);
        early.retain(|e| !ahead || !self.recent(state, e));
        early
    }

    /// Of [`TcModel::early_deliveries`], what may still be on its way when
    /// `x` starts: a message of the attempt (or phase 1) its sender is still
    /// in, or was in when it decided. The rest is of an attempt its sender
    /// has left, and arrived
    /// before that attempt's timer fired (a message relayed later, such as
    /// an older certificate, counts as of its attempt too: an
    /// approximation that removes schedules, see spec/properties.md).
    pub fn recent(&self, state: &State, (src, msg): &(Id, Packet)) -> bool {
        let at = match msg.msg() {
            Message::Heartbeat(_) => None,
            Message::Proposal(p) => Some(p.proposal.attempt),
            Message::Vote(v) => Some(v.vote.attempt),
            Message::Certificate(c) => Some(c.certificate.attempt),
        };
        let McState::Honest(h) = &*state.actor_states[usize::from(*src)] else {
            return false;
        };
        match (h.node.round(), h.node.last_decision()) {
            (Some(r), _) => at == r.started().then(|| r.attempt()),
            // A decided node sets no more timers: where it was when it
            // decided (it may decide on an earlier attempt's quorum).
            (None, Some(_)) => at == h.decided_in,
            (None, None) => false,
        }
    }

    fn apply_inner(&self, state: &State, action: &Action) -> Option<State> {
        match action {
            Action::Actor(ActorModelAction::Timeout(x, McTimer::Start))
            | Action::StartsAhead(x) => {
                // A start, like a synchronous timer, comes after what is in
                // flight to the node has arrived: what honest nodes sent it
                // before arrives first, to be refused and lost (R0.6) or kept
                // (R0.7), in canonical order; a start ahead leaves in flight
                // what they sent in their current attempt. What Byzantine
                // nodes sent stays deliverable (losing it would only be their
                // withholding it).
                let ahead = matches!(action, Action::StartsAhead(_));
                let mut cur = state.clone();
                for (src, msg) in self.taken_in_at_start(state, *x, ahead) {
                    let d = ActorModelAction::Deliver { src, dst: *x, msg };
                    if let Some(next) = self.inner.next_state(&cur, d) {
                        cur = next;
                    }
                }
                self.inner
                    .next_state(&cur, ActorModelAction::Timeout(*x, McTimer::Start))
            }
            Action::Actor(a) => self.inner.next_state(state, a.clone()),
            Action::Tick(t) => {
                let mut next = state.clone();
                for &i in &self.info.honest {
                    if let McState::Honest(h) = Arc::make_mut(&mut next.actor_states[i]) {
                        if let Some(c) = &mut h.clock {
                            c.now_ms = *t;
                        }
                    }
                }
                Some(next)
            }
            Action::LeavesLadder(id) => {
                let mut next = state.clone();
                if let McState::Honest(h) = Arc::make_mut(&mut next.actor_states[usize::from(*id)])
                {
                    if let Some(c) = &mut h.clock {
                        c.out = true;
                    }
                }
                Some(next)
            }
            Action::Votes { dst, votes, then } => {
                let mut cur: Option<State> = None;
                for (src, msg) in votes {
                    let base = cur.as_ref().unwrap_or(state);
                    let d = ActorModelAction::Deliver {
                        src: *src,
                        dst: *dst,
                        msg: msg.clone(),
                    };
                    if let Some(next) = self.inner.next_state(base, d) {
                        cur = Some(next);
                    }
                }
                if let Some(t) = then {
                    let base = cur.as_ref().unwrap_or(state);
                    if let Some(next) = self
                        .inner
                        .next_state(base, ActorModelAction::Timeout(*dst, McTimer::Node(*t)))
                    {
                        cur = Some(next);
                    }
                }
                cur
            }
        }
    }

    /// Under [`Network::Gst`], holds back synchronous timers while anything
    /// else could still happen (see [`Network::Gst`]).
    fn gate_synchronous_timers(&self, state: &State, actions: &mut Vec<Action>) {
        if self.info.cfg.timing == Timing::Clocked {
            return self.clock_actions(state, actions);
        }
        let gated = |a: &Action| matches!(a, Action::Actor(ActorModelAction::Timeout(_, t)) if self.synchronous_timer(t));
        if !actions.iter().any(gated) {
            return;
        }
        // A synchronous timer waits while any delivery, or any timer of an
        // attempt before stabilization, would still change something. A
        // Byzantine node configured `late` chooses when to send, so its
        // messages hold no timer back; nor does a node yet to start.
        if self.busy(state, actions) {
            actions.retain(|a| !gated(a));
            return;
        }
        if self.info.cfg.timing == Timing::Staggered {
            // Timers of one attempt (or phase 1) last the same everywhere:
            // a node's fires only once every honest node that got there
            // before it has left.
            actions.retain(|a| match a {
                Action::Actor(ActorModelAction::Timeout(id, t)) if self.synchronous_timer(t) => {
                    let me = &state.actor_states[usize::from(*id)];
                    let here = where_is(me);
                    !matches!(&**me, McState::Honest(h)
                        if h.ahead.iter().any(|&j| where_is(&state.actor_states[j]) == here))
                }
                _ => true,
            });
            return;
        }
        if self.info.cfg.timing == Timing::LateStarts
            && self
                .info
                .honest
                .iter()
                .any(|&i| state.actor_states[i].waiting())
        {
            // Every honest node starts within one timer of the first.
            actions.retain(|a| !gated(a));
            return;
        }
        // Timeouts outlast message delays and start together, so no honest
        // node times out of attempt `a` while another has not reached it.
        let slowest = self
            .info
            .honest
            .iter()
            .filter_map(|&i| state.actor_states[i].node().and_then(NodeState::round))
            .map(|r| {
                if r.started() {
                    i64::from(r.attempt())
                } else {
                    -1
                }
            })
            .min();
        actions.retain(|a| match a {
            Action::Actor(ActorModelAction::Timeout(_, t @ McTimer::Node(n)))
                if self.synchronous_timer(t) =>
            {
                n.attempt().map_or(-1, i64::from) <= slowest.unwrap_or(i64::MAX)
            }
            _ => true,
        });
    }

    /// Whether a delivery, or a timer of an attempt before stabilization,
    /// would still change something. A Byzantine node configured `late`
    /// chooses when to send, so its messages hold no timer back; nor does a
    /// node yet to start, a loss, or the clock.
    fn busy(&self, state: &State, actions: &[Action]) -> bool {
        let late =
            |src: &Id| self.info.cfg.behaviour.late && !self.info.cfg.is_honest(usize::from(*src));
        actions.iter().any(|a| match a {
            Action::Actor(ActorModelAction::Timeout(_, t)) if self.synchronous_timer(t) => false,
            Action::Actor(ActorModelAction::Timeout(_, McTimer::Start)) => false,
            Action::Actor(ActorModelAction::Drop(_)) => false,
            Action::Actor(ActorModelAction::Deliver { src, .. }) if late(src) => false,
            Action::Votes { votes, .. } if votes.iter().any(|(src, _)| late(src)) => false,
            Action::Tick(_) | Action::LeavesLadder(_) | Action::StartsAhead(_) => false,
            _ => self.apply(state, a).is_some(),
        })
    }

    /// Clocked timing: the time now (every honest node holds it).
    fn now_ms(&self, state: &State) -> u64 {
        self.info
            .honest
            .iter()
            .find_map(|&i| match &*state.actor_states[i] {
                McState::Honest(h) => h.clock.as_ref().map(|c| c.now_ms),
                McState::Byzantine(_) => None,
            })
            .unwrap_or(0)
    }

    /// Clocked timing: when a start or a timer of node `id` is due.
    fn due_ms(&self, state: &State, id: Id, t: &McTimer) -> Option<u64> {
        let i = usize::from(id);
        match (t, &*state.actor_states[i]) {
            (McTimer::Start, _) => Some(self.info.cfg.start_ms(i)),
            (McTimer::Node(t), McState::Honest(h)) => {
                h.clock.as_ref().and_then(|c| c.deadlines.get(t).copied())
            }
            (McTimer::Node(_), McState::Byzantine(_)) => None,
        }
    }

    /// Clocked timing: a start or timer fires only when the clock reaches
    /// it, interleaved with what else happens at that instant; the clock
    /// moves on to the next start or deadline only once none is due and no
    /// delivery between honest nodes would change anything (messages arrive
    /// within an instant). A deadline whose timer the model does not set
    /// (the last attempt's, [`ModelConfig::max_attempt`]) stops the clock:
    /// the explored ladder is exhausted there, and its node leaves it at any
    /// point of that instant ([`Action::LeavesLadder`]).
    fn clock_actions(&self, state: &State, actions: &mut Vec<Action>) {
        let now = self.now_ms(state);
        let clock = |i: usize| match &*state.actor_states[i] {
            McState::Honest(h) => h.clock.as_ref(),
            McState::Byzantine(_) => None,
        };
        let out = |id: &Id| clock(usize::from(*id)).is_some_and(|c| c.out);
        actions.retain(|a| match a {
            Action::Actor(ActorModelAction::Timeout(id, t)) => {
                !out(id) && self.due_ms(state, *id, t).is_some_and(|d| d <= now)
            }
            Action::Actor(ActorModelAction::Deliver { dst, .. }) | Action::Votes { dst, .. } => {
                !out(dst)
            }
            Action::Actor(ActorModelAction::Drop(e)) => !out(&e.dst),
            _ => true,
        });
        for &i in &self.info.honest {
            let Some(c) = clock(i).filter(|c| !c.out) else {
                continue;
            };
            let unset_due = c.deadlines.iter().any(|(t, d)| {
                *d <= now && !state.timers_set[i].iter().any(|x| *x == McTimer::Node(*t))
            });
            if unset_due {
                actions.push(Action::LeavesLadder(Id::from(i)));
            }
        }
        let due = actions
            .iter()
            .any(|a| matches!(a, Action::Actor(ActorModelAction::Timeout(..))));
        if due || self.busy(state, actions) {
            return;
        }
        let mut next: Option<u64> = None;
        for &i in &self.info.honest {
            let McState::Honest(h) = &*state.actor_states[i] else {
                continue;
            };
            let times: Vec<u64> = if !h.started {
                vec![self.info.cfg.start_ms(i)]
            } else {
                h.clock
                    .iter()
                    .flat_map(|c| c.deadlines.values().copied())
                    .collect()
            };
            for t in times {
                if t <= now {
                    // An unset deadline that is due: the ladder is exhausted.
                    return;
                }
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        if let Some(t) = next {
            actions.push(Action::Tick(t));
        }
    }

    /// The votes deliverable to honest node `x` from registered voters:
    /// voter position, sender, packet, vote.
    fn votes_in_flight<'s>(
        &'s self,
        state: &'s State,
        x: usize,
    ) -> impl Iterator<Item = (usize, Id, &'s Packet, &'s SignedVote)> + 's {
        state.network.iter_deliverable().filter_map(move |env| {
            if usize::from(env.dst) != x {
                return None;
            }
            let Message::Vote(sv) = env.msg.msg() else {
                return None;
            };
            let pos = self.info.registry.position_of(&sv.vote.voter)?;
            Some((pos, env.src, env.msg, sv))
        })
    }

    /// The vote batches enabled in `state` (see [`VoteDelivery::Batched`]):
    /// for each honest node and each (attempt, step, block) whose step has
    /// no quorum yet and whose block it knows, every set of pending votes
    /// from voters it has not counted that reaches the quorum with the last
    /// vote delivered; and, if sound, alone, each pending vote (one copy per
    /// block) of a voter with pending votes for two blocks of one step; and,
    /// under A7, every set of pending votes and proposals of later
    /// attempts, from senders R7.7 does not yet count there, that makes the
    /// node join with the last one delivered, each needed for the join or
    /// for the attempt joined ([`Self::join_batches`]); before the start,
    /// such votes one by one.
    fn vote_batches(&self, state: &State, actions: &mut Vec<Action>) {
        let a7 = self.info.cfg.rules.has(Amendment::AttemptSync);
        for &x in &self.info.honest {
            let Some(round) = state.actor_states[x].node().and_then(NodeState::round) else {
                continue;
            };
            let weights = round.height_ctx().weights();
            let q = weights.quorum();
            let mut groups: BTreeMap<VoteKey, Vec<Pending>> = BTreeMap::new();
            // Blocks each uncounted voter has a vote in flight for, per step.
            let mut blocks_of: BTreeMap<(u32, Step, usize), Vec<Hash32>> = BTreeMap::new();
            let delivery = self.info.cfg.vote_delivery();
            let sound = matches!(delivery, VoteDelivery::Sound | VoteDelivery::Eager);
            let eager = delivery == VoteDelivery::Eager;
            let ctx = &self.info.contexts[x];
            let mut senders: BTreeMap<u32, BTreeSet<usize>> = BTreeMap::new();
            let mut alone: Vec<(Id, Packet)> = Vec::new();
            // Later-attempt votes and proposals of senders R7.7 does not yet
            // count there.
            let mut joiners: Vec<(Packet, Id, u32, usize)> = Vec::new();
            if a7 && round.started() {
                for env in state.network.iter_deliverable() {
                    let Message::Proposal(sp) = env.msg.msg() else {
                        continue;
                    };
                    let a = sp.proposal.attempt;
                    if usize::from(env.dst) != x
                        || a <= round.attempt()
                        || !round.keeps_proposal(ctx, &sp.proposal)
                    {
                        continue;
                    }
                    let Some(pos) = self.info.registry.position_of(&sp.proposal.proposer) else {
                        continue;
                    };
                    let s = senders
                        .entry(a)
                        .or_insert_with(|| round.senders_from(ctx, a));
                    if !s.contains(&pos) {
                        joiners.push((env.msg.clone(), env.src, a, pos));
                    }
                }
            }
            for (pos, src, msg, sv) in self.votes_in_flight(state, x) {
                let v = &sv.vote;
                if !round.counts_vote(v, pos) {
                    continue;
                }
                if a7 && v.attempt > round.attempt() {
                    let s = senders
                        .entry(v.attempt)
                        .or_insert_with(|| round.senders_from(ctx, v.attempt));
                    if !s.contains(&pos) {
                        if round.started() {
                            joiners.push((msg.clone(), src, v.attempt, pos));
                        } else {
                            // In phase 1 R7.7 waits for the start, which
                            // joins on whatever was counted by then: any
                            // subset, so one by one.
                            alone.push((src, msg.clone()));
                        }
                    }
                }
                // Batched: only for known blocks; a vote for a block not yet
                // known is quiet until it arrives (R6.4's recheck), unless
                // its voter equivocates, which only sound delivery assumes.
                let known = round.blocks().contains_key(&v.block_hash);
                if !(known || sound) {
                    continue;
                }
                if sound {
                    let seen = blocks_of.entry((v.attempt, v.step, pos)).or_default();
                    if !seen.contains(&v.block_hash) {
                        seen.push(v.block_hash);
                    }
                }
                groups
                    .entry((v.attempt, v.step, v.block_hash))
                    .or_default()
                    .push((pos, src, msg.clone()));
            }
            // Per step and voter, the blocks some batch needs its vote for
            // (the vote completes it).
            let mut needed: BTreeMap<(u32, Step, usize), BTreeSet<Hash32>> = BTreeMap::new();
            for (&(attempt, step, block), cands) in &groups {
                // Votes for a block not yet known are quiet until it arrives
                // (R6.4's recheck), in both modes; sound delivery collects
                // them only for an equivocator's votes alone, below.
                if !round.blocks().contains_key(&block) {
                    continue;
                }
                let mut cands = cands.clone();
                // The network's iteration order depends on the path that
                // built it; the batches must depend on the state alone, or
                // what is explored would depend on the search order. One
                // vote per voter: the copies of a vote differ only by sender.
                cands.sort();
                cands.dedup_by_key(|c| c.0);
                let have = round
                    .tally(attempt, step)
                    .map_or(0, |t| t.weight_of(&block));
                let n = cands.len().min(16);
                for mask in 1u32..(1 << n) {
                    let chosen: Vec<&(usize, Id, Packet)> = (0..n)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| &cands[i])
                        .collect();
                    let total: u64 = have + chosen.iter().map(|c| weights.weight(c.0)).sum::<u64>();
                    if total < q {
                        continue;
                    }
                    // The vote that completes the quorum goes last.
                    let Some(last) = chosen.iter().position(|c| total - weights.weight(c.0) < q)
                    else {
                        continue;
                    };
                    if sound {
                        for c in chosen.iter().filter(|c| total - weights.weight(c.0) < q) {
                            needed
                                .entry((attempt, step, c.0))
                                .or_default()
                                .insert(block);
                        }
                    }
                    let mut votes: Vec<(Id, Packet)> = chosen
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != last)
                        .map(|(_, c)| (c.1, c.2.clone()))
                        .collect();
                    votes.push((chosen[last].1, chosen[last].2.clone()));
                    actions.push(Action::Votes {
                        dst: Id::from(x),
                        votes,
                        then: None,
                    });
                }
            }
            // A voter with votes for two blocks of one step in flight (an
            // equivocator) is counted for whichever arrives first, which
            // gives its weight to that block and takes it from the others.
            // That matters only while a batch of another block needs its
            // vote: then its vote for this block is also delivered alone,
            // known block or not (spec/properties.md, "Batched vote
            // delivery").
            for (key @ (attempt, step, pos), blocks) in &blocks_of {
                let need = needed.get(key);
                if blocks.len() < 2 || (need.is_none() && !eager) {
                    continue;
                }
                for block in blocks {
                    if !eager && need.is_some_and(|n| n.iter().all(|b| b == block)) {
                        continue;
                    }
                    // One copy: the copies of a vote differ only by sender.
                    let first = groups[&(*attempt, *step, *block)]
                        .iter()
                        .filter(|c| c.0 == *pos)
                        .min();
                    if let Some((_, src, msg)) = first {
                        alone.push((*src, msg.clone()));
                    }
                }
            }
            self.join_batches(round, ctx, x, joiners, actions);
            // Canonical order (see below), then one action each.
            alone.sort();
            alone.dedup();
            for (src, msg) in alone {
                actions.push(Action::Votes {
                    dst: Id::from(x),
                    votes: vec![(src, msg)],
                    then: None,
                });
            }
        }
    }

    /// R7.7's join batches for honest node `x` from `joiners` (pending votes
    /// and proposals of later attempts whose senders R7.7 does not yet count
    /// there: packet, sender, attempt, sender's position): every set that
    /// makes the node join with its last message and not before
    /// ([`time_consensus::node::Round::join_target`]), each needed for the
    /// join or for the attempt joined. So at most one per sender: two of one
    /// sender add one, and of two attempts the earlier adds nothing.
    fn join_batches(
        &self,
        round: &time_consensus::node::Round,
        ctx: &time_consensus::node::Context,
        x: usize,
        mut joiners: Vec<(Packet, Id, u32, usize)>,
        actions: &mut Vec<Action>,
    ) {
        joiners.sort();
        // One copy: the copies of a vote differ only by sender.
        joiners.dedup_by(|a, b| a.0 == b.0);
        let mut by_voter: BTreeMap<usize, BTreeMap<u32, Vec<(Id, Packet)>>> = BTreeMap::new();
        for (msg, src, attempt, pos) in joiners {
            by_voter
                .entry(pos)
                .or_default()
                .entry(attempt)
                .or_default()
                .push((src, msg));
        }
        // Where batched delivery spares a double voter (`kind_batches`), a
        // join takes its first message of the attempt only, its others
        // staying in flight: the kinder adversary the report names, which
        // sound delivery does not spare.
        if self.info.kind_batches {
            for (pos, by) in &mut by_voter {
                if !self.info.cfg.is_honest(*pos) {
                    by.values_mut().for_each(|ms| ms.truncate(1));
                }
            }
        }
        // Every choice of no attempt or one per voter, as (attempt, voter).
        let per_voter: Vec<Vec<(u32, usize)>> = by_voter
            .iter()
            .map(|(p, by)| by.keys().map(|a| (*a, *p)).collect())
            .collect();
        for chosen in none_or_one(per_voter.iter().map(Vec::as_slice)) {
            let Some(target) = round.join_target(ctx, &chosen) else {
                continue;
            };
            let without: Vec<Option<u32>> = (0..chosen.len())
                .map(|i| {
                    let mut rest = chosen.clone();
                    rest.remove(i);
                    round.join_target(ctx, &rest)
                })
                .collect();
            // A vote the node joins `target` without is quiet until its own
            // batch, after the join.
            if without.contains(&Some(target)) {
                continue;
            }
            let Some(last) = without.iter().position(Option::is_none) else {
                continue;
            };
            // The chosen voters' votes of the chosen attempts, the one the
            // join waits for last: every combination.
            let mut order: Vec<&(u32, usize)> = chosen.iter().collect();
            let l = order.remove(last);
            order.push(l);
            let slots = order.iter().map(|(a, pos)| by_voter[pos][a].as_slice());
            for votes in one_each(slots) {
                actions.push(Action::Votes {
                    dst: Id::from(x),
                    votes,
                    then: None,
                });
            }
        }
    }

    /// Seed flow: votes are read only when a voting window closes, so they
    /// are delivered right before that timer: every choice of at most one
    /// pending, not yet counted vote per voter.
    fn seed_vote_batches(&self, state: &State, actions: &mut Vec<Action>) {
        let timers: Vec<(Id, Timer)> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Actor(ActorModelAction::Timeout(
                    id,
                    McTimer::Node(t @ Timer::VotingWindow { .. }),
                )) => Some((*id, *t)),
                _ => None,
            })
            .collect();
        let pooled = !self
            .info
            .cfg
            .rules
            .has(time_consensus::Amendment::RegistryWeights);
        for (id, timer) in timers {
            let x = usize::from(id);
            let Some(round) = state.actor_states[x].node().and_then(NodeState::round) else {
                continue;
            };
            let mut by_voter: BTreeMap<usize, Vec<(Id, Packet)>> = BTreeMap::new();
            for (pos, src, msg, sv) in self.votes_in_flight(state, x) {
                let v = &sv.vote;
                let counted = if pooled {
                    round.pooled_votes().contains_key(&v.voter)
                } else {
                    round
                        .tally(v.attempt, v.step)
                        .is_some_and(|t| t.get(pos).is_some())
                };
                if !counted {
                    by_voter.entry(pos).or_default().push((src, msg.clone()));
                }
            }
            let choices = none_or_one(by_voter.values().map(Vec::as_slice));
            for votes in choices.into_iter().filter(|c| !c.is_empty()) {
                actions.push(Action::Votes {
                    dst: id,
                    votes,
                    then: Some(timer),
                });
            }
        }
    }

    /// The names of the properties checked, in order.
    pub fn property_names(&self) -> Vec<&'static str> {
        self.properties().iter().map(|p| p.name).collect()
    }
}

/// Where an honest node is: running phase 1 (`false`) or an attempt
/// (`true`), and which attempt; `None` if not running the height.
fn where_is(s: &McState) -> Option<(bool, u32)> {
    s.node()
        .and_then(NodeState::round)
        .map(|r| (r.started(), r.attempt()))
}

/// Measure of an actor's progress: strictly increases, in lexicographic
/// order, with every change of its state (see [`check_progress`]).
pub fn actor_progress(s: &McState) -> [u64; 8] {
    match s {
        McState::Honest(n) => {
            let [a, b, c, d] = n.node.progress();
            // Deliveries lost before the start grow only that set; the clock
            // only moves on; a timer that fires to no effect only leaves the
            // deadlines (a node sets timers only as its state changes);
            // leaving the explored ladder changes only that flag.
            let (now, left, out) = n.clock.as_ref().map_or((0, 0, 0), |c| {
                (
                    c.now_ms,
                    u64::MAX - c.deadlines.len() as u64,
                    u64::from(c.out),
                )
            });
            [a, b, c, d, n.lost.len() as u64, now, left, out]
        }
        McState::Byzantine(b) => [0, 0, 0, (b.voted.len() + b.forged.len()) as u64, 0, 0, 0, 0],
    }
}

/// Checks one transition: the actors whose state changed have a strictly
/// larger progress measure, and a transition that changes no actor (a lost
/// message, or a timer that fires to no effect, as a stale heartbeat timer
/// does after phase 1) shrinks the network or the set of pending timers and
/// grows neither. Actor measures never decrease, and only a change of an
/// actor's state sends a message or sets a timer, so no path returns to a
/// state: the graph is acyclic. Returns what went wrong.
pub fn check_progress(before: &State, after: &State) -> Result<(), String> {
    let mut changed = 0;
    for (i, (a, b)) in before
        .actor_states
        .iter()
        .zip(&after.actor_states)
        .enumerate()
    {
        if a != b {
            changed += 1;
            let (pa, pb) = (actor_progress(a), actor_progress(b));
            if pb <= pa {
                return Err(format!(
                    "actor {i} changed but its progress went {pa:?} -> {pb:?}"
                ));
            }
        }
    }
    let timers = |s: &State| s.timers_set.iter().map(|t| t.iter().count()).sum::<usize>();
    let (n0, n1) = (before.network.len(), after.network.len());
    let (t0, t1) = (timers(before), timers(after));
    // An answer of R7.6 is sent by a node that does not change: it only
    // adds to the network, which never loses one (only honest proposals
    // are lost), so each is added once.
    let answered = || {
        let old: std::collections::HashSet<_> = before.network.iter_all().collect();
        n1 > n0
            && t1 <= t0
            && after
                .network
                .iter_all()
                .all(|e| old.contains(&e) || e.msg.is_answer())
    };
    if changed == 0 && !(n1 <= n0 && t1 <= t0 && n1 + t1 < n0 + t0) && !answered() {
        return Err(format!(
            "a transition changed no actor and lost no message or timer \
             (messages {n0} -> {n1}, timers {t0} -> {t1})"
        ));
    }
    Ok(())
}

impl TcModel {
    /// Every action enabled in `state` ([`Model::actions`] without a stop).
    fn listed_actions(&self, state: &State, actions: &mut Vec<Action>) {
        let mut inner = Vec::new();
        self.inner.actions(state, &mut inner);
        let batched = self.batched();
        for a in inner {
            if batched && self.is_vote_to_running(state, &a) {
                continue;
            }
            actions.push(Action::Actor(a));
        }
        if batched
            && self
                .info
                .cfg
                .rules
                .has(time_consensus::Amendment::TwoStepLocking)
        {
            self.vote_batches(state, actions);
        } else if batched {
            self.seed_vote_batches(state, actions);
        }
        if self.info.cfg.timing.starts_apart() {
            // A node that has not started receives nothing one by one: its
            // start takes in all of what is in flight to it (see
            // `apply_inner`), or all but what its senders sent in their
            // current attempt, which then arrives after.
            actions.retain(|a| {
                !matches!(a, Action::Actor(ActorModelAction::Deliver { dst, .. })
                    if state.actor_states[usize::from(*dst)].waiting())
            });
            if self.info.cfg.timing != Timing::Clocked {
                let ahead: Vec<Action> = actions
                    .iter()
                    .filter_map(|a| match a {
                        Action::Actor(ActorModelAction::Timeout(x, McTimer::Start))
                            if self
                                .early_deliveries(state, *x)
                                .iter()
                                .any(|e| self.recent(state, e)) =>
                        {
                            Some(Action::StartsAhead(*x))
                        }
                        _ => None,
                    })
                    .collect();
                actions.extend(ahead);
            }
        }
        if self.gst().is_some() && self.info.cfg.lose_proposals {
            // A leader's proposal may be lost on its way to any node.
            for env in state.network.iter_deliverable() {
                if self.info.cfg.is_honest(usize::from(env.src))
                    && matches!(env.msg.msg(), Message::Proposal(_))
                {
                    actions.push(Action::Actor(ActorModelAction::Drop(env.to_cloned_msg())));
                }
            }
        }
        if self.gst().is_some() {
            self.gate_synchronous_timers(state, actions);
        }
        if self.effective_only {
            actions.retain(|a| self.apply(state, a).is_some());
        }
    }
}

/// Every list made of, for each slot in order, nothing or one of its
/// options (the empty list first).
fn none_or_one<'a, T: Clone + 'a>(slots: impl IntoIterator<Item = &'a [T]>) -> Vec<Vec<T>> {
    let mut lists: Vec<Vec<T>> = vec![Vec::new()];
    for options in slots {
        let mut next = Vec::new();
        for l in &lists {
            next.push(l.clone());
            for o in options {
                let mut m = l.clone();
                m.push(o.clone());
                next.push(m);
            }
        }
        lists = next;
    }
    lists
}

/// Every list made of one option of each slot, in slot order.
fn one_each<'a, T: Clone + 'a>(slots: impl IntoIterator<Item = &'a [T]>) -> Vec<Vec<T>> {
    let mut lists: Vec<Vec<T>> = vec![Vec::new()];
    for options in slots {
        lists = lists
            .iter()
            .flat_map(|l| {
                options.iter().map(move |o| {
                    let mut m = l.clone();
                    m.push(o.clone());
                    m
                })
            })
            .collect();
    }
    lists
}

impl Model for TcModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        self.inner.init_states()
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        if self.info.stop.load(Ordering::Relaxed)
            && self.info.reporter.get() != Some(&std::thread::current().id())
        {
            // Until one state with a successor is left unexpanded, the stop
            // has cut nothing (the search may have been done anyway).
            if !self.info.cut.load(Ordering::Relaxed) {
                let mut probe = Vec::new();
                self.listed_actions(state, &mut probe);
                if probe.iter().any(|a| self.apply(state, a).is_some()) {
                    self.info.cut.store(true, Ordering::Relaxed);
                }
            }
            return;
        }
        self.listed_actions(state, actions);
    }

    fn next_state(&self, state: &State, action: Action) -> Option<State> {
        let next = self.apply(state, &action)?;
        if self.gst().is_some() {
            if let Err(e) = check_progress(state, &next).map_err(|e| {
                format!(
                    "{e}, on `{}`",
                    crate::trace::describe_action(&self.info, &action)
                )
            }) {
                // Reported (and failing the run) rather than panicking, which
                // would silently end a checker thread.
                let mut slot = self.info.acyclicity_violation.lock().expect("not poisoned");
                slot.get_or_insert(e);
            }
            self.info.edges_checked.fetch_add(1, Ordering::Relaxed);
        }
        Some(next)
    }

    fn format_action(&self, action: &Action) -> String {
        crate::trace::describe_action(&self.info, action)
    }

    /// The Explorer's Current State pane: the state reached, in the
    /// protocol's terms (its Debug form stays behind "Complete State?").
    fn format_step(&self, last: &State, action: Action) -> Option<String> {
        let next = self.apply(last, &action)?;
        Some(crate::view::state_text(self, &next))
    }

    fn as_svg(&self, path: Path<State, Action>) -> Option<String> {
        Some(crate::view::svg(self, &path.into_vec()))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let cfg = &self.info.cfg;
        let mut props = vec![checked("agreement"), checked("validity")];
        // Emergency liveness (P3) is a claim about runs that can reach an
        // emergency attempt; without one in the bound there is nothing to check.
        if cfg.network.checks_liveness() && cfg.reaches_emergency() {
            props.push(Property::eventually("emergency liveness", liveness));
        }
        let orch = cfg.orchestrator();
        let plans: Vec<_> = (0..=cfg.max_attempt)
            .map(|a| plan(cfg.rules, &orch, a))
            .collect();
        if cfg.rules.has(Amendment::TwoStepLocking) && cfg.network != Network::Lossy {
            // The mechanisms A3 exists for, so that a pass of agreement is
            // known to have gone through them (spec/properties.md, P1).
            props.push(checked("a locked node approves another block"));
            props.push(checked("a justified re-proposal is accepted"));
            props.push(checked("two blocks approve-certified"));
        }
        if cfg.max_attempt > 0 {
            props.push(checked("entered the last explored attempt"));
        }
        props.push(checked("finalized in attempt 0"));
        if plans
            .iter()
            .any(|p| p.attempt > 0 && p.kind == BlockKind::Normal)
        {
            props.push(checked("finalized after a rotation"));
        }
        if plans.iter().any(|p| p.kind == BlockKind::RewardOnly) {
            props.push(checked("finalized a reward-only block"));
        }
        if plans.iter().any(|p| p.kind == BlockKind::Emergency) {
            props.push(checked("finalized the emergency block"));
        }
        props
    }
}

/// Each `always` and `sometimes` property: its name, whether it is a
/// `sometimes`, its condition, and the condition as a check reads it (the
/// first showing only: [`TcModel::keep_first_paths`]).
type Condition = fn(&TcModel, &State) -> bool;

macro_rules! conditions {
    ($(($name:literal, $sometimes:literal, $raw:ident, $first:ident)),* $(,)?) => {
        $(fn $first(m: &TcModel, s: &State) -> bool {
            // An `always` shows by failing, a `sometimes` by holding.
            m.info.first_only($name, $raw(m, s), $sometimes)
        })*
        const CONDITIONS: &[(&str, bool, Condition, Condition)] =
            &[$(($name, $sometimes, $raw, $first)),*];
    };
}

conditions![
    ("agreement", false, agreement, first_agreement),
    ("validity", false, validity, first_validity),
    (
        "a locked node approves another block",
        true,
        locked_node_approves_another,
        first_locked
    ),
    (
        "a justified re-proposal is accepted",
        true,
        justified_reproposal_accepted,
        first_reproposal
    ),
    (
        "two blocks approve-certified",
        true,
        two_blocks_certified,
        first_two_certified
    ),
    (
        "entered the last explored attempt",
        true,
        last_attempt,
        first_last_attempt
    ),
    (
        "finalized in attempt 0",
        true,
        in_first_attempt,
        first_in_first_attempt
    ),
    (
        "finalized after a rotation",
        true,
        after_rotation,
        first_after_rotation
    ),
    (
        "finalized a reward-only block",
        true,
        reward_only,
        first_reward_only
    ),
    (
        "finalized the emergency block",
        true,
        emergency,
        first_emergency
    ),
];

/// The checked property `name` (one of [`CONDITIONS`]).
fn checked(name: &'static str) -> Property<TcModel> {
    let &(name, sometimes, _, first) = CONDITIONS
        .iter()
        .find(|(n, ..)| *n == name)
        .expect("a listed property");
    if sometimes {
        Property::sometimes(name, first)
    } else {
        Property::always(name, first)
    }
}

/// At most one block is finalized at the height across honest nodes.
fn agreement(m: &TcModel, s: &State) -> bool {
    let d = m.decisions(s);
    d.windows(2).all(|w| w[0].1.hash == w[1].1.hash)
}

/// Every honest decision is valid (see [`valid_decision`]).
fn validity(m: &TcModel, s: &State) -> bool {
    m.decisions(s)
        .iter()
        .all(|(_, d)| valid_decision(&m.info, d))
}

/// A finalized block is one the elected leader of an attempt builds for that
/// attempt's kind on the tip (honest or not), or the canonical emergency
/// block of an emergency attempt (R3, R4.3, R7.3); it is finalized in that
/// attempt or a later one, as the kind its header says, at height 1 on the
/// genesis tip.
pub fn valid_decision(info: &Info, d: &Decision) -> bool {
    let Some((b, first)) = info.valid_blocks.get(&d.hash) else {
        return false;
    };
    d.height == 1
        && b.header.height == 1
        && b.header.previous_hash == time_consensus::sim::genesis_tip().hash
        && d.kind == b.header.kind
        && *first <= d.attempt
}

/// Every honest node has finalized the height.
fn liveness(m: &TcModel, s: &State) -> bool {
    m.decisions(s).len() == m.info.honest.len()
}

/// The honest votes and certificates sent so far. Under `async` and `gst`
/// the network keeps every message sent, so this is the whole history.
fn honest_sent<'s>(m: &'s TcModel, s: &'s State) -> impl Iterator<Item = &'s Message> + 's {
    s.network
        .iter_deliverable()
        .filter(|env| m.info.cfg.is_honest(usize::from(env.src)))
        .map(|env| env.msg.msg())
}

/// R5.7, R6.2: an honest node committed `L` in attempt `la` (so it locked on
/// it) and later approved another block in an attempt after `la`, which
/// only a justification from `la` or later allows.
fn locked_node_approves_another(m: &TcModel, s: &State) -> bool {
    let mut commits: BTreeMap<&time_consensus::NodeId, Vec<(u32, Hash32)>> = BTreeMap::new();
    let mut approves = Vec::new();
    for msg in honest_sent(m, s) {
        if let Message::Vote(sv) = msg {
            let v = &sv.vote;
            match v.step {
                Step::Commit => commits
                    .entry(&v.voter)
                    .or_default()
                    .push((v.attempt, v.block_hash)),
                Step::Approve => approves.push((&v.voter, v.attempt, v.block_hash)),
            }
        }
    }
    approves.iter().any(|(voter, a, b)| {
        commits
            .get(voter)
            .is_some_and(|c| c.iter().any(|(la, l)| la < a && l != b))
    })
}

/// R6.5, R4.1, R5.7: an honest leader re-proposed its valid block with its
/// justification, and another honest node accepted it and approved it (a
/// proposal only kept for an attempt the node has not reached is not yet
/// acted on).
fn justified_reproposal_accepted(m: &TcModel, s: &State) -> bool {
    let approved: BTreeSet<(&time_consensus::NodeId, u32, Hash32)> = honest_sent(m, s)
        .filter_map(|msg| match msg {
            Message::Vote(sv) if sv.vote.step == Step::Approve => {
                Some((&sv.vote.voter, sv.vote.attempt, sv.vote.block_hash))
            }
            _ => None,
        })
        .collect();
    m.info.honest.iter().any(|&i| {
        let Some(r) = s.actor_states[i].node().and_then(NodeState::round) else {
            return false;
        };
        let me = &m.info.registry.member(i).node_id;
        r.proposals().iter().any(|(a, p)| {
            p.valid_attempt.is_some()
                && approved.contains(&(me, *a, p.block_hash))
                && r.leader(&m.info.contexts[i], *a)
                    .and_then(|id| m.info.registry.index_of(&id))
                    .is_some_and(|j| j != i && m.info.cfg.is_honest(j))
        })
    })
}

/// R6.3-R6.4: approve certificates for two different blocks were sent by
/// honest nodes (in different attempts: one step has at most one quorum).
fn two_blocks_certified(m: &TcModel, s: &State) -> bool {
    let mut first = None;
    for msg in honest_sent(m, s) {
        if let Message::Certificate(c) = msg {
            if c.certificate.step == Step::Approve {
                match first {
                    None => first = Some(c.certificate.block_hash),
                    Some(h) if h != c.certificate.block_hash => return true,
                    Some(_) => {}
                }
            }
        }
    }
    false
}

/// An honest node runs, or decided in, the last attempt explored
/// ([`ModelConfig::max_attempt`]): whether the bound is exercised at all.
fn last_attempt(m: &TcModel, s: &State) -> bool {
    let last = m.info.cfg.max_attempt;
    m.info.honest.iter().any(|&i| {
        s.actor_states[i].node().is_some_and(|n| {
            n.round()
                .is_some_and(|r| r.started() && r.attempt() == last)
                || n.last_decision().is_some_and(|d| d.attempt == last)
        })
    })
}

fn in_first_attempt(m: &TcModel, s: &State) -> bool {
    m.decisions(s).iter().any(|(_, d)| d.attempt == 0)
}

fn after_rotation(m: &TcModel, s: &State) -> bool {
    m.decisions(s)
        .iter()
        .any(|(_, d)| d.attempt > 0 && d.kind == BlockKind::Normal)
}

fn reward_only(m: &TcModel, s: &State) -> bool {
    m.decisions(s)
        .iter()
        .any(|(_, d)| d.kind == BlockKind::RewardOnly)
}

fn emergency(m: &TcModel, s: &State) -> bool {
    m.decisions(s)
        .iter()
        .any(|(_, d)| d.kind == BlockKind::Emergency)
}

/// The step kinds, for readable traces.
pub fn step_name(s: Step) -> &'static str {
    match s {
        Step::Approve => "approve",
        Step::Commit => "commit",
    }
}
