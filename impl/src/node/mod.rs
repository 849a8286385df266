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
use crate::verified::{Verified, NONE};
use crate::vote::{Certificate, SignedVote, Step, Vote};
use crate::weight::{days_active, seed_member_weight};
use serde::{Deserialize, Serialize};
pub(crate) use small_map::grow_exact;
pub use small_map::SmallMap;
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

    /// The height a timer belongs to.
    pub fn height(&self) -> u64 {
        match self {
            Timer::Heartbeat { height }
            | Timer::Leader { height, .. }
            | Timer::VotingWindow { height, .. }
            | Timer::Attempt { height, .. } => *height,
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
        self.handle_verified(state, input, &NONE, out)
    }

    /// [`Context::handle`], skipping the signature checks `verified` covers
    /// (a host that verified a batch of messages at once, R0.4).
    pub fn handle_verified(
        &self,
        state: &mut NodeState,
        input: Input,
        verified: &Verified,
        out: &mut Vec<Output>,
    ) {
        match input {
            Input::Start(s) => self.start(state, s, out),
            Input::Message(m) => self.message(state, m, verified, out),
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
        let mut act = Act::new(self, &mut round, out, &NONE);
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
            self.message(st, m, &NONE, out);
        }
    }

    /// R0.6: routes a message to the running height, or refuses it.
    fn message(&self, st: &mut NodeState, m: Message, v: &Verified, out: &mut Vec<Output>) {
        let expected = st.tip.height.saturating_add(1);
        let got = m.height();
        if let Some((to, proof)) = self.laggard(st, &m, v) {
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
                if self.keep_early(st, &m, v) {
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
        let mut act = Act::new(self, round, out, v);
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
    fn keep_early(&self, st: &mut NodeState, m: &Message, v: &Verified) -> bool {
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
            || !(v.contains(pos, &s.bytes, s.signature)
                || self.registry.verify_at(pos, &s.bytes, s.signature))
        {
            return false;
        }
        st.early.insert(key, m.clone());
        true
    }

    /// R7.6: the signer of an authenticated vote, proposal or heartbeat of
    /// the height this node finalized with a proof, which it answers, and
    /// that proof.
    fn laggard<'s>(
        &self,
        st: &'s NodeState,
        m: &Message,
        v: &Verified,
    ) -> Option<(NodeId, &'s CertifiedBlock)> {
        let proof = st.proof.as_deref()?;
        if m.height() != proof.certificate.height {
            return None;
        }
        let s = m.signed()?;
        let pos = self.registry.position_of(s.signer)?;
        (pos != self.my_pos
            && (v.contains(pos, &s.bytes, s.signature)
                || self.registry.verify_at(pos, &s.bytes, s.signature)))
        .then(|| (s.signer.clone(), proof))
    }

    fn timer(&self, st: &mut NodeState, t: Timer, out: &mut Vec<Output>) {
        let Some(round) = st.round.as_mut() else {
            return;
        };
        let mut act = Act::new(self, round, out, &NONE);
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

mod act;
mod attempt;
mod height;
mod join;
mod proposal;
mod round;
mod small_map;
mod votes;

use act::Act;
pub use height::{height_weights, HeightCtx};
pub use join::{JoinError, Joining};
pub use round::{Justified, NodeState, ProposalRecord, Round, VoteRecord};

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

    /// A node restarted on top of the block it finalized with `proof`
    /// (R7.5), in the state it had once that height was decided, so that it
    /// answers laggards with the proof again (R7.6). The proof is the host's
    /// own record of what this node finalized; it is not checked here.
    pub fn resume(ctx: Context, proof: Arc<CertifiedBlock>) -> Self {
        Node {
            ctx: Arc::new(ctx),
            state: NodeState::resumed(proof),
        }
    }

    /// Applies one input and returns what the node does.
    pub fn handle(&mut self, input: Input) -> Vec<Output> {
        self.handle_verified(input, &NONE)
    }

    /// [`Node::handle`], skipping the signature checks `verified` covers.
    pub fn handle_verified(&mut self, input: Input, verified: &Verified) -> Vec<Output> {
        let mut out = Vec::new();
        self.ctx
            .handle_verified(&mut self.state, input, verified, &mut out);
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
