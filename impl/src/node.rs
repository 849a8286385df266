//! The node: a sans-IO state machine running one height at a time.
//!
//! `handle(input) -> outputs`, where inputs are a start, a message or a timer
//! expiry and outputs are messages to broadcast, timers to set or cancel, and
//! events. No clock, no threads, no I/O. The static part ([`Context`]: keys,
//! registry, rules, configuration) is kept apart from the evolving part
//! ([`NodeState`], `Clone + Eq + Hash`) so that the model checker can run
//! [`Context::handle`] on its own states.
//!
//! Two flows share the code:
//! - without A3 (seed rules), one vote per attempt and a tally when the voting
//!   window closes (S4-S7);
//! - with A3 (reference rules), approve and commit steps with locking, quorums
//!   detected as votes arrive, and finality proofs (R4-R7).

use crate::block::{Block, BlockContext, Transaction};
use crate::config::{ConfigError, OrchestratorConfig};
use crate::crypto::{Keypair, Signature};
use crate::election::{seed as seed_election, Election, HeightWeights, LeaderSchedule};
use crate::event::{Event, Evidence, MessageKind, Phase, Rejection, Unsupported};
use crate::fallback::{plan, AttemptPlan, BlockKind, FallbackReason, LeaderRule};
use crate::heartbeat::{
    chain_agreement, seed_sync_complete, weighted_sync_complete, Heartbeat, SignedHeartbeat,
};
use crate::message::{verify_certificate, CertifiedBlock, Message, Proposal, SignedProposal};
use crate::primitives::{Date, Hash32, NodeId};
use crate::registry::Registry;
use crate::rules::{Amendment, Rules, RulesError};
use crate::tally::{seed_check_consensus, Insert, Tally};
use crate::vote::{Certificate, SignedVote, Step, Vote};
use crate::weight::{days_active, seed_member_weight};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hasher;
use std::sync::Arc;

/// A timer a node asks its host for. Each names the height and attempt it
/// belongs to, so a late expiry is recognised and ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Phase 1 deadline.
    Heartbeat {
        /// Height.
        height: u64,
    },
    /// Seed flow: waiting for the leader's proposal.
    Leader {
        /// Height.
        height: u64,
        /// Attempt.
        attempt: u32,
    },
    /// Seed flow: the voting window.
    VotingWindow {
        /// Height.
        height: u64,
        /// Attempt.
        attempt: u32,
    },
    /// Reference flow: the whole attempt (leader timeout + voting window).
    Attempt {
        /// Height.
        height: u64,
        /// Attempt.
        attempt: u32,
    },
}

impl Timer {
    /// The attempt a timer belongs to (none for the heartbeat timer).
    pub fn attempt(&self) -> Option<u32> {
        match self {
            Timer::Heartbeat { .. } => None,
            Timer::Leader { attempt, .. }
            | Timer::VotingWindow { attempt, .. }
            | Timer::Attempt { attempt, .. } => Some(*attempt),
        }
    }
}

/// Starts the next height (midnight).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartHeight {
    /// The node's local calendar date (the seed election depends on it).
    pub date: Date,
    /// The node's mempool, used if it leads an attempt.
    pub mempool: Vec<Transaction>,
    /// Skip phase 1 because the host knows the network agrees on the tip
    /// (the model uses this to keep small state spaces small).
    #[serde(default)]
    pub presynchronized: bool,
}

/// An input to a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// Start deciding the height above the tip.
    Start(StartHeight),
    /// A message from the network.
    Message(Message),
    /// A timer the node set has expired.
    Timer(Timer),
}

/// An output of a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// Send to every other masternode.
    Broadcast(Message),
    /// Send to one masternode (a finality proof answering a laggard, R7.6).
    Send {
        /// The receiver.
        to: NodeId,
        /// The message.
        message: Message,
    },
    /// Fire `timer` after `after_ms` milliseconds (replacing an equal one).
    SetTimer {
        /// The timer.
        timer: Timer,
        /// Delay.
        after_ms: u64,
    },
    /// Forget `timer`.
    CancelTimer(Timer),
    /// Something to report.
    Event(Event),
}

/// The last finalized block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tip {
    /// Its height.
    pub height: u64,
    /// Its hash.
    pub hash: Hash32,
}

/// How a height was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Decision {
    /// Height.
    pub height: u64,
    /// Block finalized.
    pub hash: Hash32,
    /// Attempt that decided it.
    pub attempt: u32,
    /// Its kind.
    pub kind: BlockKind,
    /// Seed flaw 4: taken without any vote.
    pub unilateral: bool,
}

/// Why a node cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// The node's key is not registered.
    #[error("this node's key is not in the registry")]
    NotAMember,
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Incoherent rules.
    #[error(transparent)]
    Rules(#[from] RulesError),
}

/// What never changes for a node: who it is, the registry, the rules.
#[derive(Clone, Debug)]
pub struct Context {
    keypair: Keypair,
    me: NodeId,
    my_pos: usize,
    registry: Arc<Registry>,
    rules: Rules,
    config: OrchestratorConfig,
}

impl Context {
    /// Checks the configuration and rules and finds this node in the registry.
    pub fn new(
        keypair: Keypair,
        registry: Arc<Registry>,
        rules: Rules,
        config: OrchestratorConfig,
    ) -> Result<Self, NodeError> {
        config.validate()?;
        rules.validate()?;
        let list_index = registry
            .members()
            .iter()
            .position(|m| m.public_key == keypair.public())
            .ok_or(NodeError::NotAMember)?;
        let me = registry.member(list_index).node_id.clone();
        let my_pos = registry.position_of(&me).ok_or(NodeError::NotAMember)?;
        Ok(Context {
            keypair,
            me,
            my_pos,
            registry,
            rules,
            config,
        })
    }

    /// This node's id.
    pub fn id(&self) -> &NodeId {
        &self.me
    }

    /// This node's signing key (a model's Byzantine member signs with it).
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The rules.
    pub fn rules(&self) -> Rules {
        self.rules
    }

    /// The configuration.
    pub fn config(&self) -> &OrchestratorConfig {
        &self.config
    }

    fn two_step(&self) -> bool {
        self.rules.has(Amendment::TwoStepLocking)
    }

    /// Applies one input to `state`, appending what the node does to `out`.
    /// A refused input leaves `state` as it was and reports why.
    pub fn handle(&self, state: &mut NodeState, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Start(s) => self.start(state, s, out),
            Input::Message(m) => self.message(state, m, out),
            Input::Timer(t) => self.timer(state, t, out),
        }
    }

    /// R0.6: starts the next height (refused while one is running).
    fn start(&self, st: &mut NodeState, s: StartHeight, out: &mut Vec<Output>) {
        if let Some(r) = &st.round {
            out.push(Output::Event(Event::Rejected(Rejection::AlreadyRunning(
                r.hc.height,
            ))));
            return;
        }
        let height = st.tip.height.saturating_add(1);
        let hc = Arc::new(HeightCtx::new(self, height, st.tip.hash, s.date));
        let mut round = Round::new(hc, Arc::from(s.mempool));
        let mut act = Act::new(self, &mut round, out);
        act.emit(Event::ProtocolStarted {
            block_height: height,
        });
        if s.presynchronized {
            act.set_phase(Phase::LeaderElection);
            act.start_attempt(0, None);
        } else {
            act.set_phase(Phase::Synchronization);
            act.r.sync = Some(vec![None; self.registry.len()]);
            let hb = act.own_heartbeat();
            act.out
                .push(Output::Broadcast(Message::Heartbeat(hb.clone())));
            act.out.push(Output::SetTimer {
                timer: Timer::Heartbeat { height },
                after_ms: self.config.heartbeat_timeout_secs * 1000,
            });
            act.heartbeat(hb, self.my_pos);
        }
        let decided = act.decided.take();
        st.round = Some(round);
        st.gave_up = false;
        st.settle(decided);
        // R0.7: what arrived before the start, in key order, until decided.
        for m in std::mem::take(&mut st.early).into_values() {
            if st.round.is_none() {
                break;
            }
            self.message(st, m, out);
        }
    }

    /// R0.6: routes a message to the running height, or refuses it.
    fn message(&self, st: &mut NodeState, m: Message, out: &mut Vec<Output>) {
        let expected = st.tip.height.saturating_add(1);
        let got = m.height();
        if let Some((to, proof)) = self.laggard(st, &m) {
            let proof = proof.clone();
            // R7.6: the height is decided here; its proof ends it there too.
            out.push(Output::Send {
                to,
                message: Message::Certificate(proof),
            });
            return;
        }
        let Some(round) = st.round.as_mut() else {
            let r = if got == expected {
                if self.keep_early(st, &m) {
                    return;
                }
                Rejection::NotRunning { height: got }
            } else {
                Rejection::WrongHeight { expected, got }
            };
            out.push(Output::Event(Event::Rejected(r)));
            return;
        };
        // S1.1: the deployed collection is keyed by sender alone, so under
        // the seed rules a heartbeat counts in phase 1 whatever tip it holds.
        let seed_heartbeat = matches!(m, Message::Heartbeat(_))
            && round.sync.is_some()
            && !self.rules.has(Amendment::WeightedSync);
        if got != expected && !seed_heartbeat {
            out.push(Output::Event(Event::Rejected(Rejection::WrongHeight {
                expected,
                got,
            })));
            return;
        }
        let mut act = Act::new(self, round, out);
        match m {
            Message::Heartbeat(hb) => act.on_heartbeat(hb),
            Message::Proposal(p) => act.on_proposal(p),
            Message::Vote(v) => act.on_vote(v),
            Message::Certificate(c) => act.on_certificate(c),
        }
        if !act.done() {
            act.join_later_attempt();
        }
        let decided = act.decided.take();
        let gave_up = act.gave_up;
        if gave_up {
            st.round = None;
            st.gave_up = true;
        }
        st.settle(decided);
    }

    /// R0.7 (A7): keeps an authenticated heartbeat or vote of the next
    /// height that arrives before it starts (attempts within R4.4's window
    /// of attempt 0; the first per signer, kind, attempt and step): their
    /// signatures cover all they say, so the first copy is the only one.
    /// Proposals are not kept: their signature covers the block's hash and
    /// not its body nor the justification, so any relay could put a copy
    /// that fails in the slot of the leader's. Certificates are not kept
    /// either: a finalized peer answers the node's own messages with its
    /// proof once it runs (R7.6), and its peers' votes bring blocks back in
    /// certificates (R6.4).
    fn keep_early(&self, st: &mut NodeState, m: &Message) -> bool {
        if !self.rules.has(Amendment::AttemptSync) || st.gave_up {
            return false;
        }
        let (kind, attempt, step) = match m {
            Message::Heartbeat(_) => (0u8, 0, 0u8),
            Message::Vote(v) if v.vote.approve => (2, v.vote.attempt, v.vote.step as u8),
            _ => return false,
        };
        if attempt > self.config.max_future_attempts {
            return false;
        }
        let Some(s) = m.signed() else {
            return false;
        };
        let Some(pos) = self.registry.position_of(s.signer) else {
            return false;
        };
        let key = (pos, kind, attempt, step);
        if pos == self.my_pos
            || st.early.contains_key(&key)
            || !self.registry.verify_at(pos, &s.bytes, s.signature)
        {
            return false;
        }
        st.early.insert(key, m.clone());
        true
    }

    /// R7.6: the signer of an authenticated vote, proposal or heartbeat of
    /// the height this node finalized with a proof, which it answers, and
    /// that proof.
    fn laggard<'s>(&self, st: &'s NodeState, m: &Message) -> Option<(NodeId, &'s CertifiedBlock)> {
        let proof = st.proof.as_deref()?;
        if m.height() != proof.certificate.height {
            return None;
        }
        let s = m.signed()?;
        let pos = self.registry.position_of(s.signer)?;
        (pos != self.my_pos && self.registry.verify_at(pos, &s.bytes, s.signature))
            .then(|| (s.signer.clone(), proof))
    }

    fn timer(&self, st: &mut NodeState, t: Timer, out: &mut Vec<Output>) {
        let Some(round) = st.round.as_mut() else {
            return;
        };
        let mut act = Act::new(self, round, out);
        act.on_timer(t);
        if !act.done() {
            // R7.7: the timer that starts attempts (R1.4) may find them due.
            act.join_later_attempt();
        }
        let decided = act.decided.take();
        if act.gave_up {
            st.round = None;
            st.gave_up = true;
        }
        st.settle(decided);
    }
}

/// The weights of `height` under `rules`: from the chain's date for the
/// height (R2.2) or, under the seed rules, from the node's local `date`
/// (S2.1).
pub fn height_weights(
    rules: Rules,
    registry: &Registry,
    config: &OrchestratorConfig,
    height: u64,
    date: Date,
) -> HeightWeights {
    if rules.has(Amendment::ChainElection) {
        HeightWeights::reference(registry, config.chain_date(height))
    } else {
        HeightWeights::seed(registry, date)
    }
}

/// Everything about a height that follows from the inputs that started it;
/// compared and hashed by those inputs alone.
#[derive(Debug)]
pub struct HeightCtx {
    height: u64,
    previous_hash: Hash32,
    date: Date,
    weights: HeightWeights,
    election: Option<Election>,
    leaders: Vec<Option<u32>>,
    block: BlockContext,
    declared_weight: u64,
}

impl PartialEq for HeightCtx {
    fn eq(&self, o: &Self) -> bool {
        (self.height, self.previous_hash, self.date) == (o.height, o.previous_hash, o.date)
    }
}
impl Eq for HeightCtx {}
impl std::hash::Hash for HeightCtx {
    fn hash<H: Hasher>(&self, h: &mut H) {
        std::hash::Hash::hash(&(self.height, self.previous_hash, self.date), h)
    }
}

impl HeightCtx {
    /// The context of `height` above `previous_hash`, started on the local
    /// `date`: weights (R2.2, S2.1), leaders (R2.7, S2.6) and blocks (R3).
    pub fn new(ctx: &Context, height: u64, previous_hash: Hash32, date: Date) -> Self {
        let reg = &ctx.registry;
        let cfg = &ctx.config;
        let chain = ctx.rules.has(Amendment::ChainElection);
        let weights = height_weights(ctx.rules, reg, cfg, height, date);
        let election = chain.then(|| Election::new(&weights));
        let block = BlockContext::new(
            height,
            previous_hash,
            cfg.block_timestamp(height),
            reg,
            &cfg.rewards,
            cfg.max_block_transactions,
            cfg.max_block_bytes,
        );
        let declared_weight = if ctx.rules.has(Amendment::RegistryWeights) {
            weights.weight(ctx.my_pos)
        } else {
            seed_member_weight(reg.at_position(ctx.my_pos), date)
        };
        let mut hc = HeightCtx {
            height,
            previous_hash,
            date,
            weights,
            election,
            leaders: Vec::new(),
            block,
            declared_weight,
        };
        let horizon = cfg.fallback_config.max_leader_rotations + 2 + cfg.max_future_attempts;
        let mut schedule = LeaderSchedule::new();
        hc.leaders = (0..=horizon)
            .map(|a| match (&hc.election, plan(ctx.rules, cfg, a).leader) {
                (Some(e), LeaderRule::Scheduled) => {
                    Some(schedule.leader(e, &previous_hash, height, a))
                }
                _ => hc.compute_leader(ctx, a),
            })
            .collect();
        hc
    }

    /// The elected leader of `attempt` as a canonical position (R2.7, S2.6).
    fn compute_leader(&self, ctx: &Context, attempt: u32) -> Option<u32> {
        let reg = &ctx.registry;
        let pos = |id: &NodeId| reg.position_of(id).map(|p| p as u32);
        match plan(ctx.rules, &ctx.config, attempt).leader {
            LeaderRule::Leaderless => None,
            LeaderRule::Scheduled => {
                // Built whenever A5 is applied, which is what schedules.
                let e = self.election.as_ref()?;
                let mut s = LeaderSchedule::new();
                Some(s.leader(e, &self.previous_hash, self.height, attempt))
            }
            LeaderRule::Original => {
                seed_election::elect_leader(self.height, self.date, reg.members())
                    .and_then(|s| pos(&s.leader))
            }
            LeaderRule::SeedRotation(k) => {
                let original = seed_election::elect_leader(self.height, self.date, reg.members())?;
                seed_election::rotate_leader(
                    self.height,
                    self.date,
                    reg.members(),
                    &original.leader,
                    k,
                )
                .or(Some(original))
                .and_then(|s| pos(&s.leader))
            }
        }
    }

    /// The elected leader of `attempt` as a canonical position (none for an
    /// emergency attempt).
    pub fn leader(&self, ctx: &Context, attempt: u32) -> Option<u32> {
        match self.leaders.get(attempt as usize) {
            Some(l) => *l,
            None => self.compute_leader(ctx, attempt),
        }
    }

    /// The height's weights.
    pub fn weights(&self) -> &HeightWeights {
        &self.weights
    }

    /// What blocks of this height must be, and its emergency block.
    pub fn block_context(&self) -> &BlockContext {
        &self.block
    }

    /// The local date the height was started with.
    pub fn date(&self) -> Date {
        self.date
    }
}

/// A leader's proposal as remembered: enough to re-check it and to prove
/// equivocation, without keeping the block twice.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProposalRecord {
    /// Block proposed.
    pub block_hash: Hash32,
    /// Its justification attempt.
    pub valid_attempt: Option<u32>,
    /// The leader's signature.
    pub signature: Signature,
    /// Seed flow: whether the block was valid.
    pub valid: bool,
}

/// A counted vote's remembered parts (the rest is the tally's key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VoteRecord {
    /// Approve flag.
    pub approve: bool,
    /// Declared weight (signed, so needed to rebuild the vote).
    pub declared: u64,
    /// Signature.
    pub signature: Signature,
}

/// An approve certificate the node holds for a block (R6.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Justified {
    /// Attempt of the quorum.
    pub attempt: u32,
    /// Block.
    pub block_hash: Hash32,
    /// The proof.
    pub certificate: Arc<Certificate>,
}

/// The state of the height being decided.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Round {
    hc: Arc<HeightCtx>,
    mempool: Arc<[Transaction]>,
    phase: Phase,
    sync: Option<Vec<Option<(u64, Hash32)>>>,
    started: bool,
    attempt: u32,
    voted: bool,
    committed: bool,
    proposals: BTreeMap<u32, ProposalRecord>,
    blocks: BTreeMap<Hash32, Arc<Block>>,
    tallies: BTreeMap<(u32, Step), Tally<VoteRecord>>,
    pooled: BTreeMap<NodeId, Vote>,
    locked: Option<(u32, Hash32)>,
    valid: Option<Justified>,
}

impl Round {
    fn new(hc: Arc<HeightCtx>, mempool: Arc<[Transaction]>) -> Self {
        let mut blocks = BTreeMap::new();
        let e = hc.block.emergency.clone();
        blocks.insert(e.hash(), e);
        Round {
            hc,
            mempool,
            phase: Phase::Waiting,
            sync: None,
            started: false,
            attempt: 0,
            voted: false,
            committed: false,
            proposals: BTreeMap::new(),
            blocks,
            tallies: BTreeMap::new(),
            pooled: BTreeMap::new(),
            locked: None,
            valid: None,
        }
    }

    /// Height being decided.
    pub fn height(&self) -> u64 {
        self.hc.height
    }

    /// Current attempt.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// R7.7's senders of attempt `b` or later: the canonical positions of
    /// the leaders whose proposals are kept and of the voters counted.
    pub fn senders_from(&self, ctx: &Context, b: u32) -> BTreeSet<usize> {
        let leaders = self
            .proposals
            .range(b..)
            .filter_map(|(a, _)| self.hc.leader(ctx, *a))
            .map(|l| l as usize);
        let voters = self.tallies.range((b, Step::Approve)..).flat_map(|(_, t)| {
            t.sums()
                .iter()
                .flat_map(move |(h, _)| t.votes_for(h).map(|(pos, _)| pos))
        });
        leaders.chain(voters).collect()
    }

    /// R4.4's window: past attempts and up to `max_future_attempts` ahead.
    pub fn within_window(&self, ctx: &Context, attempt: u32) -> bool {
        u64::from(attempt) <= u64::from(self.attempt) + u64::from(ctx.config.max_future_attempts)
    }

    /// R7.7 (A7): the attempt this node joins once it also holds a message
    /// of each `(attempt, sender position)` in `extra` (those R4.4 refuses
    /// left out), or `None` if it stays where it is. With no `extra`, what
    /// it does after handling a message or timer; the model checker asks
    /// with pending votes to know which deliveries make a node join.
    pub fn join_target(&self, ctx: &Context, extra: &[(u32, usize)]) -> Option<u32> {
        if !ctx.rules.has(Amendment::AttemptSync) || !self.started {
            return None;
        }
        let current = self.attempt;
        let extra: Vec<(u32, usize)> = extra
            .iter()
            .copied()
            .filter(|(a, _)| self.within_window(ctx, *a))
            .collect();
        let later: BTreeSet<u32> = self
            .tallies
            .keys()
            .map(|(a, _)| *a)
            .chain(self.proposals.keys().copied())
            .chain(extra.iter().map(|(a, _)| *a))
            .filter(|a| *a > current)
            .collect();
        let w = &self.hc.weights;
        let bar = w.total() - w.quorum();
        later.into_iter().rev().find(|&b| {
            let mut senders = self.senders_from(ctx, b);
            senders.extend(extra.iter().filter(|(a, _)| *a >= b).map(|(_, p)| *p));
            let weight = senders
                .into_iter()
                .fold(0u64, |s, pos| s.saturating_add(w.weight(pos)));
            weight > bar
        })
    }

    /// Current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Reference flow: the lock, if any (attempt, block).
    pub fn locked(&self) -> Option<(u32, Hash32)> {
        self.locked
    }

    /// Reference flow: the highest approve certificate held.
    pub fn valid(&self) -> Option<&Justified> {
        self.valid.as_ref()
    }

    /// The tally of one step of one attempt, if any vote arrived.
    pub fn tally(&self, attempt: u32, step: Step) -> Option<&Tally<VoteRecord>> {
        self.tallies.get(&(attempt, step))
    }

    /// Whether a step of an attempt has its quorum, after which its votes
    /// change nothing (R5.8).
    pub fn step_decided(&self, attempt: u32, step: Step) -> bool {
        let quorum = self.hc.weights.quorum();
        self.tally(attempt, step)
            .is_some_and(|t| t.quorum_block(quorum).is_some())
    }

    /// Under the two-step rules, whether an authenticated vote of the voter
    /// at canonical position `pos` would be counted: an approving vote
    /// (R5.1), the voter's first of its step and attempt (R5.6), before that
    /// step's quorum (R5.8).
    pub fn counts_vote(&self, v: &Vote, pos: usize) -> bool {
        v.approve
            && !self.step_decided(v.attempt, v.step)
            && self
                .tally(v.attempt, v.step)
                .is_none_or(|t| t.get(pos).is_none())
    }

    /// Blocks known for this height, by hash.
    pub fn blocks(&self) -> &BTreeMap<Hash32, Arc<Block>> {
        &self.blocks
    }

    /// Proposals accepted, by attempt.
    pub fn proposals(&self) -> &BTreeMap<u32, ProposalRecord> {
        &self.proposals
    }

    /// The height's derived context.
    pub fn height_ctx(&self) -> &HeightCtx {
        &self.hc
    }

    /// The elected leader of `attempt` (none for an emergency attempt).
    pub fn leader(&self, ctx: &Context, attempt: u32) -> Option<NodeId> {
        self.hc
            .leader(ctx, attempt)
            .map(|p| ctx.registry.at_position(p as usize).node_id.clone())
    }

    /// Whether attempts have begun (phase 1 is over).
    pub fn started(&self) -> bool {
        self.started
    }

    /// Whether this node has voted (approve step) in the current attempt.
    pub fn voted(&self) -> bool {
        self.voted
    }

    /// Seed flow without A2: the votes received, pooled over the height.
    pub fn pooled_votes(&self) -> &BTreeMap<NodeId, Vote> {
        &self.pooled
    }
}

/// Everything about a node that changes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeState {
    tip: Tip,
    round: Option<Round>,
    last_decision: Option<Decision>,
    proof: Option<Arc<CertifiedBlock>>,
    /// R0.7 (A7): authenticated messages of the next height kept until it
    /// starts, one per signer, kind, attempt and step.
    early: BTreeMap<EarlyKey, Message>,
    /// The height was given up (S1.4).
    gave_up: bool,
}

/// Signer's position, message kind, attempt, step (0 for a proposal or a
/// heartbeat): at most one kept message each (R0.7).
type EarlyKey = (usize, u8, u32, u8);

impl NodeState {
    /// A node whose chain ends at `tip`.
    pub fn new(tip: Tip) -> Self {
        NodeState {
            tip,
            round: None,
            last_decision: None,
            proof: None,
            early: BTreeMap::new(),
            gave_up: false,
        }
    }

    /// The last finalized block.
    pub fn tip(&self) -> Tip {
        self.tip
    }

    /// The height being decided, if any.
    pub fn round(&self) -> Option<&Round> {
        self.round.as_ref()
    }

    /// How the last height was decided.
    pub fn last_decision(&self) -> Option<Decision> {
        self.last_decision
    }

    /// The finality proof of the last height finalized on a commit quorum
    /// (R7.5), which the node answers laggards with (R7.6).
    pub fn finality_proof(&self) -> Option<&CertifiedBlock> {
        self.proof.as_deref()
    }

    /// A measure that strictly increases, in lexicographic order, with every
    /// change of the state: `[tip height, stage, attempt, facts held]`, where
    /// the stage is 0 before the next height starts (the facts: messages
    /// kept for it), 1 in phase 1, 2 once attempts run, 3 after giving the
    /// height up, and the facts are heartbeats, proposals, blocks, votes,
    /// flags, lock and valid block. The model checker checks it on every
    /// transition to show its state graphs are acyclic.
    pub fn progress(&self) -> [u64; 4] {
        let h = self.tip.height;
        match &self.round {
            None if self.gave_up => [h, 3, 0, 0],
            // Decided (or never started): messages of the next height kept.
            None => [h, 0, 0, self.early.len() as u64],
            Some(r) => {
                let facts = r.sync.as_ref().map_or(0, |s| s.iter().flatten().count())
                    + r.proposals.len()
                    + r.blocks.len()
                    + r.tallies.values().map(Tally::count).sum::<usize>()
                    + r.pooled.len()
                    + usize::from(r.voted)
                    + usize::from(r.committed);
                let marks = r.locked.map_or(0, |(a, _)| u64::from(a) + 1)
                    + r.valid.as_ref().map_or(0, |j| u64::from(j.attempt) + 1);
                [
                    h,
                    if r.started { 2 } else { 1 },
                    u64::from(r.attempt),
                    facts as u64 + marks,
                ]
            }
        }
    }

    fn settle(&mut self, decided: Option<(Decision, Option<Arc<CertifiedBlock>>)>) {
        if let Some((d, proof)) = decided {
            self.tip = Tip {
                height: d.height,
                hash: d.hash,
            };
            self.last_decision = Some(d);
            self.proof = proof;
            self.round = None;
            self.early.clear();
        }
    }
}

/// A node: its context and its state.
#[derive(Clone, Debug)]
pub struct Node {
    ctx: Arc<Context>,
    state: NodeState,
}

impl Node {
    /// A node on top of `tip`.
    pub fn new(ctx: Context, tip: Tip) -> Self {
        Node {
            ctx: Arc::new(ctx),
            state: NodeState::new(tip),
        }
    }

    /// Applies one input and returns what the node does.
    pub fn handle(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        self.ctx.handle(&mut self.state, input, &mut out);
        out
    }

    /// The state.
    pub fn state(&self) -> &NodeState {
        &self.state
    }

    /// The context.
    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }
}

/// One input being applied to a round.
struct Act<'a> {
    ctx: &'a Context,
    r: &'a mut Round,
    out: &'a mut Vec<Output>,
    decided: Option<(Decision, Option<Arc<CertifiedBlock>>)>,
    gave_up: bool,
}

impl<'a> Act<'a> {
    fn new(ctx: &'a Context, r: &'a mut Round, out: &'a mut Vec<Output>) -> Self {
        Act {
            ctx,
            r,
            out,
            decided: None,
            gave_up: false,
        }
    }

    fn done(&self) -> bool {
        self.decided.is_some() || self.gave_up
    }

    fn emit(&mut self, e: Event) {
        self.out.push(Output::Event(e));
    }

    fn reject(&mut self, r: Rejection) {
        self.out.push(Output::Event(Event::Rejected(r)));
    }

    fn set_phase(&mut self, to: Phase) {
        if self.r.phase != to {
            let from = std::mem::replace(&mut self.r.phase, to);
            self.emit(Event::PhaseTransition { from, to });
        }
    }

    fn height(&self) -> u64 {
        self.r.hc.height
    }

    fn plan(&self, attempt: u32) -> AttemptPlan {
        plan(self.ctx.rules, &self.ctx.config, attempt)
    }

    fn member_id(&self, pos: usize) -> NodeId {
        self.ctx.registry.at_position(pos).node_id.clone()
    }

    /// Resolves a signer and checks its signature (R0.5).
    fn authenticate(
        &mut self,
        signer: &NodeId,
        bytes: &[u8],
        sig: &Signature,
        what: MessageKind,
    ) -> Option<usize> {
        let Some(pos) = self.ctx.registry.position_of(signer) else {
            self.reject(Rejection::UnknownSigner {
                node: signer.clone(),
            });
            return None;
        };
        if !self.ctx.registry.verify_at(pos, bytes, sig) {
            self.reject(Rejection::BadSignature {
                signer: signer.clone(),
                what,
            });
            return None;
        }
        Some(pos)
    }

    // ---- phase 1 ----

    /// R1.1: this node's signed heartbeat.
    fn own_heartbeat(&self) -> SignedHeartbeat {
        let me = self.ctx.registry.at_position(self.ctx.my_pos);
        let hb = Heartbeat {
            node_id: self.ctx.me.clone(),
            timestamp: self.r.hc.block.timestamp,
            block_height: self.height() - 1,
            chain_tip_hash: self.r.hc.previous_hash,
            tier: me.tier,
            version: self.ctx.config.version.clone(),
            reputation_milli: me.reputation_milli,
            days_active: days_active(self.r.hc.date, me.registered_at),
        };
        hb.sign(&self.ctx.keypair)
    }

    fn on_heartbeat(&mut self, hb: SignedHeartbeat) {
        if self.r.sync.is_none() {
            self.reject(Rejection::NotCollecting);
            return;
        }
        let h = &hb.heartbeat;
        let Some(pos) = self.authenticate(
            &h.node_id,
            &h.signing_bytes(),
            &hb.signature,
            MessageKind::Heartbeat,
        ) else {
            return;
        };
        self.heartbeat(hb, pos);
    }

    /// R1.2-R1.3 / S1.1-S1.3: records a heartbeat and checks for
    /// synchronization.
    fn heartbeat(&mut self, hb: SignedHeartbeat, pos: usize) {
        let state = (hb.heartbeat.block_height, hb.heartbeat.chain_tip_hash);
        // Only called while phase 1 collects.
        let Some(sync) = self.r.sync.as_mut() else {
            return;
        };
        match sync[pos] {
            // S1.1: the deployed map insert replaces an earlier heartbeat.
            Some(old) if old == state || self.ctx.rules.has(Amendment::WeightedSync) => {
                self.reject(Rejection::Duplicate {
                    what: MessageKind::Heartbeat,
                    from: hb.heartbeat.node_id,
                });
                return;
            }
            _ => sync[pos] = Some(state),
        }
        self.emit(Event::HeartbeatReceived {
            node_id: hb.heartbeat.node_id,
        });
        let Some(sync) = self.r.sync.as_ref() else {
            return;
        };
        let received = sync.iter().flatten().count();
        let complete = if self.ctx.rules.has(Amendment::WeightedSync) {
            let w = &self.r.hc.weights;
            let own = (self.height() - 1, &self.r.hc.previous_hash);
            weighted_sync_complete(
                own,
                sync.iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.as_ref().map(|(h, t)| (*h, t, w.weight(i)))),
                w.quorum(),
            )
        } else {
            let agreement = chain_agreement(sync.iter().flatten().map(|(h, t)| (*h, t)));
            seed_sync_complete(self.ctx.registry.len(), &agreement)
        };
        if complete {
            self.r.sync = None;
            self.out.push(Output::CancelTimer(Timer::Heartbeat {
                height: self.height(),
            }));
            self.emit(Event::Synchronized {
                heartbeats: received,
            });
            self.set_phase(Phase::LeaderElection);
            self.start_attempt(0, None);
        }
    }

    // ---- attempts ----

    fn attempt_timers(&self, attempt: u32) -> [Timer; 3] {
        let height = self.height();
        [
            Timer::Leader { height, attempt },
            Timer::VotingWindow { height, attempt },
            Timer::Attempt { height, attempt },
        ]
    }

    /// Enters `attempt` (R7.1-R7.3, S7.1-S7.3).
    fn start_attempt(&mut self, attempt: u32, reason: Option<FallbackReason>) {
        if self.r.started {
            for t in self.attempt_timers(self.r.attempt) {
                self.out.push(Output::CancelTimer(t));
            }
        }
        self.r.started = true;
        self.r.attempt = attempt;
        self.r.voted = false;
        self.r.committed = false;
        let p = self.plan(attempt);
        if let Some(reason) = reason {
            self.emit(Event::FallbackInitiated {
                attempt,
                reason,
                strategy: p.strategy,
            });
        }
        let height = self.height();
        if p.leader == LeaderRule::Leaderless {
            self.emit(Event::EmergencyBlock {
                attempt,
                unilateral: p.unilateral_emergency,
            });
            self.set_phase(Phase::EmergencyFallback);
            if p.unilateral_emergency {
                // S7.3, flaw 4: accepted on the node's own say-so.
                let e = self.r.hc.block.emergency.hash();
                self.finalize(e, attempt, true, None);
                return;
            }
        }
        let two_step = self.ctx.two_step();
        if two_step {
            // R7.2; under A7 each attempt waits longer than the one before,
            // so nodes whose starts differ by a fixed skew come to overlap.
            let grows = self.ctx.rules.has(Amendment::AttemptSync);
            let after_ms = self
                .ctx
                .config
                .attempt_timeout_ms(attempt, p.voting_window_secs, grows);
            self.out.push(Output::SetTimer {
                timer: Timer::Attempt { height, attempt },
                after_ms,
            });
        } else {
            self.out.push(Output::SetTimer {
                timer: Timer::Leader { height, attempt },
                after_ms: self.ctx.config.fallback_config.leader_timeout_secs * 1000,
            });
        }
        match self.r.hc.leader(self.ctx, attempt) {
            Some(leader) => {
                let id = self.member_id(leader as usize);
                let weight = self.r.hc.weights.weight(leader as usize);
                self.emit(Event::LeaderElected {
                    attempt,
                    leader: id,
                    weight,
                });
                if leader as usize == self.ctx.my_pos {
                    self.set_phase(Phase::BlockConstruction);
                    self.propose(attempt, p);
                } else {
                    self.set_phase(Phase::ProposalDistribution);
                }
            }
            None => {
                // R7.3: no leader; the node's valid block, else the canonical
                // emergency block, is its proposal.
                let (hash, vr) = match &self.r.valid {
                    Some(j) => (j.block_hash, Some(j.attempt)),
                    None => (self.r.hc.block.emergency.hash(), None),
                };
                self.try_approve(attempt, hash, vr);
            }
        }
        if self.done() {
            return;
        }
        if two_step {
            // Messages buffered for this attempt.
            if let Some(rec) = self.r.proposals.get(&attempt).cloned() {
                self.try_approve(attempt, rec.block_hash, rec.valid_attempt);
            }
            let hashes: Vec<Hash32> = self
                .r
                .tallies
                .get(&(attempt, Step::Approve))
                .map(|t| t.sums().iter().map(|(h, _)| *h).collect())
                .unwrap_or_default();
            for h in hashes {
                if self.done() {
                    return;
                }
                self.check_approve_quorum(attempt, h);
            }
            // R6.2: an approve certificate of this attempt received before
            // it (a node behind, or still in phase 1).
            self.lock_on_held_certificate();
        }
    }

    /// R6.2: a valid block of the current attempt the node did not count
    /// itself (a certificate or justification received ahead) proves its
    /// quorum by itself (R6.4), even where this node's tally lacks it
    /// because it counted an equivocating voter's other vote first: lock
    /// and commit on it, as on a counted quorum.
    fn lock_on_held_certificate(&mut self) {
        let Some(j) = self.r.valid.clone().filter(|j| j.attempt == self.r.attempt) else {
            return;
        };
        if !self.done() {
            // The weight is reported for commit quorums only.
            let proof = (*j.certificate).clone();
            self.on_quorum(j.attempt, Step::Approve, j.block_hash, 0, Some(proof));
        }
    }

    /// Phase 3 and 4 as leader (R3.1, R4.1, R6.5): re-propose the valid
    /// block of an earlier attempt with its justification, else build a
    /// fresh one.
    fn propose(&mut self, attempt: u32, p: AttemptPlan) {
        let (block, valid_attempt, justification) = match (&self.r.valid, self.ctx.two_step()) {
            // R6.5: a valid block from this attempt or a later one (counted
            // by a node that lags) is no justification here (R4.1).
            (Some(j), true) if j.attempt < attempt => (
                self.r.blocks[&j.block_hash].clone(),
                Some(j.attempt),
                Some((*j.certificate).clone()),
            ),
            _ => (
                Arc::new(self.r.hc.block.build(p.kind, &self.ctx.me, &self.r.mempool)),
                None,
                None,
            ),
        };
        let proposal = Proposal {
            height: self.height(),
            attempt,
            proposer: self.ctx.me.clone(),
            block,
            valid_attempt,
            justification,
        };
        let sp = proposal.sign(&self.ctx.keypair);
        self.emit(Event::ProposalSent {
            attempt,
            block_hash: sp.proposal.block.hash(),
            valid_attempt,
        });
        self.set_phase(Phase::ProposalDistribution);
        self.out
            .push(Output::Broadcast(Message::Proposal(sp.clone())));
        self.accept_proposal(sp, self.ctx.my_pos);
    }

    // ---- phase 4: proposals ----

    fn on_proposal(&mut self, sp: SignedProposal) {
        let p = &sp.proposal;
        if !self.r.started {
            // Still in phase 1: seed nodes drop it; reference nodes keep it
            // for when they start (R4.4).
            if !self.ctx.two_step() {
                self.reject(Rejection::WrongAttempt {
                    current: 0,
                    got: p.attempt,
                });
                return;
            }
        }
        if !self.attempt_acceptable(p.attempt) {
            return;
        }
        let Some(pos) = self.authenticate(
            &p.proposer,
            &p.signing_bytes(),
            &sp.signature,
            MessageKind::Proposal,
        ) else {
            return;
        };
        self.accept_proposal(sp, pos);
    }

    /// S4.1: the current attempt only. R4.4: past attempts (their blocks may
    /// still be decided) and up to `max_future_attempts` ahead.
    fn attempt_acceptable(&mut self, attempt: u32) -> bool {
        let current = self.r.attempt;
        let ok = if self.ctx.two_step() {
            self.within_window(attempt)
        } else {
            attempt == current && self.r.started
        };
        if !ok {
            self.reject(Rejection::WrongAttempt {
                current,
                got: attempt,
            });
        }
        ok
    }

    /// R4.4's window ([`Round::within_window`]).
    fn within_window(&self, attempt: u32) -> bool {
        self.r.within_window(self.ctx, attempt)
    }

    fn accept_proposal(&mut self, sp: SignedProposal, pos: usize) {
        let attempt = sp.proposal.attempt;
        let hash = sp.proposal.block.hash();
        // R4.3: only the elected leader of the attempt proposes.
        let leader = self.r.hc.leader(self.ctx, attempt);
        if leader != Some(pos as u32) {
            let expected = leader.map(|l| self.member_id(l as usize));
            self.reject(Rejection::NotLeader {
                attempt,
                expected,
                got: sp.proposal.proposer.clone(),
            });
            return;
        }
        // R4.5: one proposal per attempt; a second different one is evidence.
        if let Some(first) = self.r.proposals.get(&attempt) {
            if first.block_hash == hash && first.valid_attempt == sp.proposal.valid_attempt {
                self.reject(Rejection::Duplicate {
                    what: MessageKind::Proposal,
                    from: sp.proposal.proposer.clone(),
                });
            } else {
                self.reject(Rejection::Equivocation(Evidence::DoubleProposal {
                    first_block: first.block_hash,
                    first_valid_attempt: first.valid_attempt,
                    first_signature: first.signature,
                    second: Box::new(sp),
                }));
            }
            return;
        }
        let validity = self.check_proposed_block(&sp.proposal);
        if self.ctx.two_step() {
            if let Err(r) = validity {
                self.reject(r);
                return;
            }
            let learned = match &sp.proposal.justification {
                Some(cert) => self.learn_justification(cert),
                None => false,
            };
            self.r.proposals.insert(
                attempt,
                ProposalRecord {
                    block_hash: hash,
                    valid_attempt: sp.proposal.valid_attempt,
                    signature: sp.signature,
                    valid: true,
                },
            );
            self.r.blocks.insert(hash, sp.proposal.block.clone());
            self.emit(Event::ProposalAccepted {
                attempt,
                proposer: sp.proposal.proposer.clone(),
                block_hash: hash,
            });
            if attempt == self.r.attempt && self.r.started {
                self.try_approve(attempt, hash, sp.proposal.valid_attempt);
            }
            // A block that arrives late may complete quorums already counted.
            self.recheck_block(hash);
            // R6.2: a justification of this node's current attempt (in a
            // proposal for a later one), as a certificate message would.
            if learned {
                self.lock_on_held_certificate();
            }
        } else {
            // S5.1: validate, then vote; an invalid block gets a vote against.
            let valid = validity.is_ok();
            if let Err(r) = validity {
                self.reject(r);
            } else {
                self.r.blocks.insert(hash, sp.proposal.block.clone());
                self.emit(Event::ProposalAccepted {
                    attempt,
                    proposer: sp.proposal.proposer.clone(),
                    block_hash: hash,
                });
            }
            self.r.proposals.insert(
                attempt,
                ProposalRecord {
                    block_hash: hash,
                    valid_attempt: None,
                    signature: sp.signature,
                    valid,
                },
            );
            let height = self.height();
            self.out
                .push(Output::CancelTimer(Timer::Leader { height, attempt }));
            self.cast_vote(attempt, Step::Approve, hash, valid);
            let secs = self.plan(attempt).voting_window_secs;
            self.out.push(Output::SetTimer {
                timer: Timer::VotingWindow { height, attempt },
                after_ms: secs * 1000,
            });
            self.set_phase(Phase::VotingWindow);
        }
    }

    /// R3.6, R4.1: the block is valid for the height; a fresh block has
    /// the attempt's kind; a re-proposal carries an approve certificate of an
    /// earlier attempt for exactly this block.
    fn check_proposed_block(&self, p: &Proposal) -> Result<(), Rejection> {
        self.r
            .hc
            .block
            .validate(&p.block)
            .map_err(Rejection::InvalidBlock)?;
        match (p.valid_attempt, &p.justification) {
            (None, None) => {
                let expected = self.plan(p.attempt).kind;
                if p.block.header.kind != expected {
                    return Err(Rejection::WrongBlockKind {
                        attempt: p.attempt,
                        expected,
                        got: p.block.header.kind,
                    });
                }
                Ok(())
            }
            (Some(vr), Some(cert))
                if self.ctx.two_step() && vr < p.attempt && cert.attempt == vr =>
            {
                self.check_certificate(cert, Step::Approve, &p.block.hash())
                    .map(|_| ())
            }
            _ => Err(Rejection::BadJustification { attempt: p.attempt }),
        }
    }

    /// R5.5: whether `cert` proves a quorum of `step` for `block` at this
    /// height; its weight if so.
    fn check_certificate(
        &self,
        cert: &Certificate,
        step: Step,
        block: &Hash32,
    ) -> Result<u64, Rejection> {
        use crate::message::CertificateError as E;
        if cert.step != step {
            return Err(Rejection::InvalidCertificate(E::WrongStep {
                expected: step,
            }));
        }
        if cert.block_hash != *block {
            return Err(Rejection::InvalidCertificate(E::WrongBlock {
                certified: cert.block_hash,
                block: *block,
            }));
        }
        if cert.height != self.height() {
            return Err(Rejection::WrongHeight {
                expected: self.height(),
                got: cert.height,
            });
        }
        // R5.5: a vote verified and counted here may skip its signature, but
        // only if every signed field is the one counted (the tally's key
        // fixes height, attempt, step and voter; verify_certificate checks
        // them against the certificate). A relay cannot alter a counted vote.
        let known = |pos: usize, sv: &SignedVote| {
            self.r
                .tallies
                .get(&(cert.attempt, cert.step))
                .and_then(|t| t.get(pos))
                .is_some_and(|(h, rec)| {
                    *h == sv.vote.block_hash
                        && rec.signature == sv.signature
                        && rec.declared == sv.vote.weight
                        && rec.approve == sv.vote.approve
                })
        };
        verify_certificate(&self.ctx.registry, &self.r.hc.weights, cert, known)
            .map_err(Rejection::InvalidCertificate)
    }

    /// A verified certificate as this node keeps and relays it: its votes in
    /// canonical voter order (R5.5), never the received copy's order.
    fn rebuilt(&self, cert: &Certificate) -> Certificate {
        let mut votes = cert.votes.clone();
        votes.sort_by_key(|sv| self.ctx.registry.position_of(&sv.vote.voter));
        Certificate {
            votes,
            ..cert.clone()
        }
    }

    /// R6.3: keep the highest approve certificate seen.
    fn learn_justification(&mut self, cert: &Certificate) -> bool {
        if self
            .r
            .valid
            .as_ref()
            .is_some_and(|j| j.attempt >= cert.attempt)
        {
            return false;
        }
        self.r.valid = Some(Justified {
            attempt: cert.attempt,
            block_hash: cert.block_hash,
            certificate: Arc::new(self.rebuilt(cert)),
        });
        true
    }

    // ---- phase 5: voting ----

    /// R5.7: approve unless locked on another block, or the proposal carries
    /// a justification from at least the lock's attempt.
    fn try_approve(&mut self, attempt: u32, hash: Hash32, valid_attempt: Option<u32>) {
        if self.r.voted || !self.r.blocks.contains_key(&hash) {
            return;
        }
        if let Some((la, lh)) = self.r.locked {
            if lh != hash && valid_attempt.is_none_or(|v| v < la) {
                self.emit(Event::NotApproved {
                    attempt,
                    block_hash: hash,
                    locked: (la, lh),
                });
                return;
            }
        }
        self.set_phase(Phase::VotingWindow);
        self.cast_vote(attempt, Step::Approve, hash, true);
    }

    fn cast_vote(&mut self, attempt: u32, step: Step, hash: Hash32, approve: bool) {
        let vote = Vote {
            height: self.height(),
            attempt,
            step,
            voter: self.ctx.me.clone(),
            block_hash: hash,
            approve,
            weight: self.r.hc.declared_weight,
        };
        let sv = vote.sign(&self.ctx.keypair);
        match step {
            Step::Approve => self.r.voted = true,
            Step::Commit => self.r.committed = true,
        }
        self.emit(Event::VoteSent {
            attempt,
            step,
            block_hash: hash,
            approve,
        });
        self.out.push(Output::Broadcast(Message::Vote(sv.clone())));
        self.record_vote(sv, self.ctx.my_pos);
    }

    /// R5.1 / S5.1: a vote of a step these rules have, checked and counted.
    fn on_vote(&mut self, sv: SignedVote) {
        let v = &sv.vote;
        if self.ctx.two_step() {
            if !v.approve {
                self.reject(Rejection::NotAVote);
                return;
            }
            if !self.attempt_acceptable(v.attempt) {
                return;
            }
        } else if v.step == Step::Commit {
            self.reject(Rejection::NotInRules {
                what: Unsupported::CommitVote,
            });
            return;
        } else if self.ctx.rules.has(Amendment::RegistryWeights) && !self.within_window(v.attempt) {
            // A2 keeps a tally per attempt: the same window as R4.4 bounds
            // how many a stranger to the attempt can make the node keep.
            self.reject(Rejection::WrongAttempt {
                current: self.r.attempt,
                got: v.attempt,
            });
            return;
        }
        let Some(pos) = self.authenticate(
            &v.voter,
            &v.signing_bytes(),
            &sv.signature,
            MessageKind::Vote,
        ) else {
            return;
        };
        self.record_vote(sv, pos);
    }

    /// R5.4-R5.6 (A2) or S6.1 (pooled): counts a vote once, and reacts.
    fn record_vote(&mut self, sv: SignedVote, pos: usize) {
        let v = &sv.vote;
        if !self.ctx.rules.has(Amendment::RegistryWeights) {
            // S6.1: one vote per voter id for the whole height.
            if self.r.pooled.contains_key(&v.voter) {
                self.reject(Rejection::Duplicate {
                    what: MessageKind::Vote,
                    from: v.voter.clone(),
                });
                return;
            }
            self.r.pooled.insert(v.voter.clone(), v.clone());
            self.emit(Event::VoteReceived {
                voter: v.voter.clone(),
                attempt: v.attempt,
                step: v.step,
                approve: v.approve,
                weight: v.weight,
            });
            return;
        }
        let weight = self.r.hc.weights.weight(pos);
        let n = self.ctx.registry.len();
        if self.ctx.two_step() && self.r.step_decided(v.attempt, v.step) {
            // R5.8: once a step of an attempt has its quorum, later votes of
            // that step and attempt cannot change what this node does.
            self.emit(Event::VoteIgnored {
                voter: v.voter.clone(),
                attempt: v.attempt,
                step: v.step,
            });
            return;
        }
        let rec = VoteRecord {
            approve: v.approve,
            declared: v.weight,
            signature: sv.signature,
        };
        let tally = self
            .r
            .tallies
            .entry((v.attempt, v.step))
            .or_insert_with(|| Tally::new(n));
        match tally.insert(pos, v.block_hash, weight, rec) {
            Insert::Counted { .. } => {}
            Insert::Duplicate => {
                self.reject(Rejection::Duplicate {
                    what: MessageKind::Vote,
                    from: v.voter.clone(),
                });
                return;
            }
            Insert::Equivocation { first } => {
                // The tally reports the voter's first vote, so it holds it.
                let Some(r) = tally.get(pos).map(|(_, r)| *r) else {
                    return;
                };
                let first = SignedVote {
                    vote: Vote {
                        block_hash: first,
                        approve: r.approve,
                        weight: r.declared,
                        ..v.clone()
                    },
                    signature: r.signature,
                };
                self.reject(Rejection::Equivocation(Evidence::DoubleVote {
                    first: Box::new(first),
                    second: Box::new(sv),
                }));
                return;
            }
        }
        self.emit(Event::VoteReceived {
            voter: v.voter.clone(),
            attempt: v.attempt,
            step: v.step,
            approve: v.approve,
            weight,
        });
        if self.ctx.two_step() {
            let (attempt, hash) = (v.attempt, v.block_hash);
            match v.step {
                Step::Approve => self.check_approve_quorum(attempt, hash),
                Step::Commit => self.check_commit_quorum(attempt, hash),
            }
        }
    }

    fn certificate(&self, attempt: u32, step: Step, hash: Hash32) -> Certificate {
        let t = &self.r.tallies[&(attempt, step)];
        let votes = t
            .votes_for(&hash)
            .map(|(pos, rec)| SignedVote {
                vote: Vote {
                    height: self.height(),
                    attempt,
                    step,
                    voter: self.member_id(pos),
                    block_hash: hash,
                    approve: rec.approve,
                    weight: rec.declared,
                },
                signature: rec.signature,
            })
            .collect();
        Certificate {
            height: self.height(),
            attempt,
            step,
            block_hash: hash,
            votes,
        }
    }

    /// R6.1: an approve quorum counted for a known block.
    fn check_approve_quorum(&mut self, attempt: u32, hash: Hash32) {
        self.check_quorum(attempt, Step::Approve, hash);
    }

    /// R7.4: a commit quorum counted for a known block, in any attempt.
    fn check_commit_quorum(&mut self, attempt: u32, hash: Hash32) {
        self.check_quorum(attempt, Step::Commit, hash);
    }

    fn check_quorum(&mut self, attempt: u32, step: Step, hash: Hash32) {
        let w = self
            .r
            .tallies
            .get(&(attempt, step))
            .map_or(0, |t| t.weight_of(&hash));
        if self.done() || w < self.r.hc.weights.quorum() || !self.r.blocks.contains_key(&hash) {
            return;
        }
        self.on_quorum(attempt, step, hash, w, None);
    }

    /// Acts on a quorum of `step` for known block `hash` in `attempt`, proven
    /// by the votes counted here (`proof` none: the certificate is made of
    /// them) or by a verified certificate (R6.4): the same action either way.
    /// - Approve (R6.1): if it raises the valid block (R6.3), keep and relay
    ///   it (R6.4); then, in the current attempt, lock and commit (R6.2).
    /// - Commit (R7.4): finalize, broadcasting the finality proof (R7.5).
    fn on_quorum(
        &mut self,
        attempt: u32,
        step: Step,
        hash: Hash32,
        weight: u64,
        proof: Option<Certificate>,
    ) {
        let proof = |me: &Self| proof.unwrap_or_else(|| me.certificate(attempt, step, hash));
        match step {
            Step::Approve => {
                if self.r.valid.as_ref().is_none_or(|j| j.attempt < attempt) {
                    let cert = Arc::new(proof(self));
                    self.r.valid = Some(Justified {
                        attempt,
                        block_hash: hash,
                        certificate: cert.clone(),
                    });
                    self.out
                        .push(Output::Broadcast(Message::Certificate(CertifiedBlock {
                            block: self.r.blocks[&hash].clone(),
                            certificate: (*cert).clone(),
                        })));
                }
                if attempt == self.r.attempt && self.r.started && !self.r.committed {
                    self.r.locked = Some((attempt, hash));
                    self.emit(Event::Locked {
                        attempt,
                        block_hash: hash,
                    });
                    self.set_phase(Phase::ConsensusCollection);
                    self.cast_vote(attempt, Step::Commit, hash, true);
                }
            }
            Step::Commit => {
                if self.done() {
                    return;
                }
                self.emit(Event::ConsensusReached {
                    attempt,
                    approval_weight: weight,
                    total_weight: self.r.hc.weights.total(),
                });
                let proof = CertifiedBlock {
                    block: self.r.blocks[&hash].clone(),
                    certificate: proof(self),
                };
                self.out
                    .push(Output::Broadcast(Message::Certificate(proof.clone())));
                self.finalize(hash, attempt, false, Some(Arc::new(proof)));
            }
        }
    }

    /// After a block becomes known: quorums counted before it arrived.
    fn recheck_block(&mut self, hash: Hash32) {
        let keys: Vec<(u32, Step)> = self
            .r
            .tallies
            .iter()
            .filter(|(_, t)| t.weight_of(&hash) > 0)
            .map(|(k, _)| *k)
            .collect();
        for (attempt, step) in keys {
            if self.done() {
                return;
            }
            self.check_quorum(attempt, step, hash);
        }
    }

    // ---- phases 6 and 7: certificates ----

    /// R6.4, R7.5: a certified block is its block plus a bundle of votes that
    /// proves a quorum by itself. Its new votes count as if received; then
    /// the quorum it proves is acted on even where this node's own tally
    /// lacks it (an equivocating voter's other vote counted first, or the
    /// step's votes ignored after a quorum counted before the block was
    /// known); then, if the block is new here, the quorums counted for it
    /// before it arrived (R6.1).
    fn on_certificate(&mut self, cb: CertifiedBlock) {
        if !self.ctx.two_step() {
            self.reject(Rejection::NotInRules {
                what: Unsupported::Certificate,
            });
            return;
        }
        let cert = &cb.certificate;
        if !self.attempt_acceptable(cert.attempt) {
            return;
        }
        let hash = cb.block.hash();
        if let Err(e) = self.r.hc.block.validate(&cb.block) {
            self.reject(Rejection::InvalidBlock(e));
            return;
        }
        let weight = match self.check_certificate(cert, cert.step, &hash) {
            Ok(w) => w,
            Err(r) => {
                self.reject(r);
                return;
            }
        };
        let (attempt, step) = (cert.attempt, cert.step);
        let new_block = !self.r.blocks.contains_key(&hash);
        if new_block {
            self.r.blocks.insert(hash, cb.block.clone());
        }
        for sv in &cb.certificate.votes {
            let Some(pos) = self.ctx.registry.position_of(&sv.vote.voter) else {
                continue; // verify_certificate refused strangers
            };
            let counted = self
                .r
                .tallies
                .get(&(attempt, step))
                .is_some_and(|t| t.get(pos).is_some());
            if !counted {
                self.record_vote(sv.clone(), pos);
                if self.done() {
                    return;
                }
            }
        }
        let proof = self.rebuilt(cert);
        self.on_quorum(attempt, step, hash, weight, Some(proof));
        if new_block && !self.done() {
            self.recheck_block(hash);
        }
    }

    // ---- timers ----

    fn on_timer(&mut self, t: Timer) {
        if let Timer::Heartbeat { height } = t {
            if height == self.height() && self.r.sync.is_some() {
                let heartbeats = self
                    .r
                    .sync
                    .as_ref()
                    .map_or(0, |s| s.iter().flatten().count());
                let continuing = self.ctx.rules.has(Amendment::WeightedSync);
                self.emit(Event::SyncFailed {
                    heartbeats,
                    continuing,
                });
                self.r.sync = None;
                if continuing {
                    // R1.4: take part anyway.
                    self.set_phase(Phase::LeaderElection);
                    self.start_attempt(0, None);
                } else {
                    // S1.4: the deployed orchestrator gives up the height.
                    self.set_phase(Phase::Complete);
                    self.emit(Event::ProtocolCompleted { success: false });
                    self.gave_up = true;
                }
            }
            return;
        }
        let (height, attempt) = match t {
            Timer::Leader { height, attempt }
            | Timer::VotingWindow { height, attempt }
            | Timer::Attempt { height, attempt } => (height, attempt),
            Timer::Heartbeat { .. } => unreachable!(),
        };
        if height != self.height() || attempt != self.r.attempt || !self.r.started {
            return; // stale
        }
        // R7.2, S7.1: each flow reacts only to the timers it sets.
        let two_step = self.ctx.two_step();
        match t {
            Timer::Attempt { .. } if two_step => {
                // R7.2: no decision in time; move on.
                let reason = if self.r.voted {
                    FallbackReason::ConsensusNotReached
                } else {
                    FallbackReason::LeaderTimeout
                };
                self.emit_failure(attempt);
                self.start_attempt(attempt + 1, Some(reason));
            }
            Timer::Leader { .. } if !two_step && !self.r.voted => {
                self.start_attempt(attempt + 1, Some(FallbackReason::LeaderTimeout));
            }
            Timer::VotingWindow { .. } if !two_step && self.r.voted => {
                self.seed_window_closed(attempt)
            }
            _ => {}
        }
    }

    /// R7.7 (A7): once the senders of what this node holds of attempt `b`
    /// or later ([`Round::senders_from`]) weigh more than `T - q` (more than
    /// any Byzantine set), an honest node is there, and this node joins the
    /// latest such `b` rather than wait out its timers
    /// ([`Round::join_target`]).
    fn join_later_attempt(&mut self) {
        if let Some(b) = self.r.join_target(self.ctx, &[]) {
            self.emit_failure(self.r.attempt);
            self.start_attempt(b, Some(FallbackReason::LaterAttempt));
        }
    }

    fn emit_failure(&mut self, attempt: u32) {
        let t = self.r.tallies.get(&(attempt, Step::Commit));
        let best = t
            .and_then(|t| t.sums().iter().map(|(_, w)| *w).max())
            .unwrap_or(0);
        self.emit(Event::ConsensusFailed {
            attempt,
            approval_weight: best,
            total_weight: self.r.hc.weights.total(),
        });
    }

    /// S6.2-S6.3 (with A1/A2 where applied): count at the window's close.
    fn seed_window_closed(&mut self, attempt: u32) {
        self.set_phase(Phase::ConsensusCollection);
        let Some(rec) = self.r.proposals.get(&attempt).cloned() else {
            return;
        };
        let (approval, total) = if self.ctx.rules.has(Amendment::RegistryWeights) {
            let w = &self.r.hc.weights;
            match self.r.tallies.get(&(attempt, Step::Approve)) {
                None => (0, 0),
                Some(t) => {
                    let approval: u64 = t
                        .votes_for(&rec.block_hash)
                        .filter(|(_, r)| r.approve)
                        .map(|(pos, _)| w.weight(pos))
                        .sum();
                    (approval, t.total_weight())
                }
            }
        } else {
            let c = seed_check_consensus(self.r.pooled.values());
            (c.approval_weight, c.total_weight)
        };
        let total = if self.ctx.rules.has(Amendment::QuorumOverRegistry) {
            self.r.hc.weights.total()
        } else {
            total
        };
        let consensus = approval >= total.wrapping_mul(2).div_ceil(3);
        if consensus && rec.valid {
            self.emit(Event::ConsensusReached {
                attempt,
                approval_weight: approval,
                total_weight: total,
            });
            self.finalize(rec.block_hash, attempt, false, None);
        } else {
            self.emit(Event::ConsensusFailed {
                attempt,
                approval_weight: approval,
                total_weight: total,
            });
            self.start_attempt(attempt + 1, Some(FallbackReason::ConsensusNotReached));
        }
    }

    fn finalize(
        &mut self,
        hash: Hash32,
        attempt: u32,
        unilateral: bool,
        proof: Option<Arc<CertifiedBlock>>,
    ) {
        let kind = self.r.blocks[&hash].header.kind;
        for t in self.attempt_timers(self.r.attempt) {
            self.out.push(Output::CancelTimer(t));
        }
        self.set_phase(Phase::Finalization);
        let height = self.height();
        self.emit(Event::BlockFinalized {
            block_height: height,
            hash,
            attempt,
            kind,
        });
        self.set_phase(Phase::Complete);
        self.emit(Event::ProtocolCompleted { success: true });
        self.decided = Some((
            Decision {
                height,
                hash,
                attempt,
                kind,
                unilateral,
            },
            proof,
        ));
    }
}
