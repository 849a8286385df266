//! The actors: honest masternodes run `time-consensus`'s own node
//! ([`Context::handle`]); Byzantine masternodes run a scripted adversary that
//! signs with its own key only.

use crate::config::Byzantine;
use stateright::actor::{model_timeout, Actor, Id, Out};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;
use time_consensus::block::Transaction;
use time_consensus::crypto::Keypair;
use time_consensus::event::{Event, Rejection};
use time_consensus::forge::{Forged, Forger};
use time_consensus::message::{Message, SignedProposal};
use time_consensus::node::{
    Context, Decision, Input, Joining, NodeState, Output, StartHeight, Timer,
};
use time_consensus::primitives::{Date, Hash32, NodeId};
use time_consensus::registry::Registry;
use time_consensus::verified::{Verified, NONE};
use time_consensus::vote::{Step, Vote};

/// A message on the model's network: one pointer, shared rather than
/// copied, to the message with its hash computed once (states are hashed
/// and cloned millions of times, and every message in flight is an entry of
/// every state's network: 8 bytes here rather than 24).
#[derive(Clone)]
pub struct Packet(Arc<Wrapped>);

/// What a [`Packet`] points to.
struct Wrapped {
    msg: Message,
    hash: u64,
    answer: bool,
    /// The message's signatures verified once against height 1's registry,
    /// for every node that receives it in any state (a host's batch, R0.4:
    /// the node then skips the checks the set covers and does the others,
    /// so what it does is the same; not part of the packet's identity).
    verified: std::sync::OnceLock<Verified>,
}

impl Packet {
    /// Wraps a message.
    pub fn new(msg: Message) -> Self {
        Self::wrap(msg, false)
    }

    /// Wraps an answer of R7.6: a transmission of its own, distinct from an
    /// identical broadcast that may have been lost before its receiver
    /// started (see [`HonestState`]).
    pub fn answer(msg: Message) -> Self {
        Self::wrap(msg, true)
    }

    fn wrap(msg: Message, answer: bool) -> Self {
        use std::hash::{Hash as _, Hasher as _};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        msg.hash(&mut h);
        Packet(Arc::new(Wrapped {
            hash: h.finish(),
            msg,
            answer,
            verified: std::sync::OnceLock::new(),
        }))
    }

    /// The message's signatures by members of `registry` (height 1's, the
    /// same at every honest node), verified the first time it is asked.
    pub fn verified(&self, registry: &time_consensus::registry::Registry) -> &Verified {
        self.0
            .verified
            .get_or_init(|| Verified::batch(registry, [&self.0.msg]))
    }

    /// Whether it is an answer of R7.6.
    pub fn is_answer(&self) -> bool {
        self.0.answer
    }

    /// The message.
    pub fn msg(&self) -> &Message {
        &self.0.msg
    }
}

impl PartialEq for Packet {
    fn eq(&self, o: &Self) -> bool {
        let (a, b) = (&*self.0, &*o.0);
        Arc::ptr_eq(&self.0, &o.0) || (a.answer == b.answer && a.hash == b.hash && a.msg == b.msg)
    }
}
impl Eq for Packet {}
impl std::hash::Hash for Packet {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // Only answers hash differently, so that every other state keeps
        // the fingerprint it had before answers existed (and the paths the
        // vectors pin are the same ones).
        h.write_u64(self.0.hash);
        if self.0.answer {
            h.write_u8(1);
        }
    }
}
impl PartialOrd for Packet {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Packet {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        let (a, b) = (&*self.0, &*o.0);
        a.hash
            .cmp(&b.hash)
            .then_with(|| a.answer.cmp(&b.answer))
            .then_with(|| a.msg.cmp(&b.msg))
    }
}
impl std::fmt::Debug for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.msg.fmt(f)
    }
}

/// A timer of the model: a node's own, or the start of the height
/// ([`crate::config::Timing::Staggered`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum McTimer {
    /// The honest node starts the height (R0.6).
    Start,
    /// A timer the node set.
    Node(Timer),
}

impl std::hash::Hash for McTimer {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // A node's timer hashes as itself: lock-step states keep their
        // fingerprints (and the vectors' paths).
        match self {
            McTimer::Start => h.write_u8(0xff),
            McTimer::Node(t) => t.hash(h),
        }
    }
}

/// An honest masternode: the implementation's node, unchanged.
#[derive(Clone, Debug)]
pub struct Honest {
    /// Keys, registry, rules, configuration.
    pub ctx: Arc<Context>,
    /// Its context at height 2, if the model runs it and the node is still
    /// registered there: it starts height 2 as it finalizes height 1.
    pub next_ctx: Option<Arc<Context>>,
    /// Deregistered at height 2: once it has finalized height 1 its host
    /// feeds it nothing of height 2 (the node would only keep it, R0.7,
    /// and never start that height: states that differ in nothing seen).
    pub leaves: bool,
    /// Registered at height 2 only: height 1's registry, against which it
    /// checks a finality proof of height 1 to join from it (R7.8). Until
    /// then it takes in nothing; the network keeps height 2's messages for
    /// it, as for every node still deciding height 1.
    pub joins: Option<Arc<Registry>>,
    /// Every masternode, actor `i` as its `i`th member (to address R7.6's
    /// answers).
    pub directory: Arc<Registry>,
    /// Starting state (on the genesis tip).
    pub init: NodeState,
    /// Local date.
    pub date: Date,
    /// Mempool, if it leads.
    pub mempool: Vec<Transaction>,
    /// Skip phase 1.
    pub presynchronized: bool,
    /// Start by an action of its own rather than at once.
    pub starts_apart: bool,
    /// Keep a clock and deadlines ([`Clock`]).
    pub clocked: bool,
    /// The last attempt explored.
    pub max_attempt: u32,
    /// Everyone else.
    pub peers: Vec<Id>,
    /// Whom height 1's messages other than finality proofs go to: everyone
    /// else where answers are sent (a joiner answers height 1's laggards
    /// once it has joined, R7.6), else everyone else registered at height 1
    /// (to a joiner, which answers none, their deliveries would change
    /// nothing; only their losses would make states).
    pub height1_peers: Vec<Id>,
    /// Send the answers of R7.6 (a finalized node's proof to a laggard).
    /// Where the network keeps every message sent (`async`, `gst`) an answer
    /// is the very envelope the node broadcast when it finalized (same
    /// sender, receiver and proof), so sending it again would change nothing
    /// and is left out; a lossy network may have lost that one, and so may
    /// a node that had not started (timings with starts apart: there answers are
    /// sent as transmissions of their own, [`Packet::answer`]).
    pub answers: bool,
}

/// A Byzantine masternode's script and key.
#[derive(Clone, Debug)]
pub struct Adversary {
    /// Its id.
    pub id: NodeId,
    /// Its key.
    pub keypair: Keypair,
    /// What it does.
    pub behaviour: Byzantine,
    /// Its proposals (sent at start for every attempt it leads).
    pub proposals: Vec<SignedProposal>,
    /// Emergency attempts within the bound: it approves and commits every
    /// block of `any_blocks` in each.
    pub emergency_attempts: Vec<u32>,
    /// Every block a leader could propose, and the emergency block.
    pub any_blocks: Vec<Hash32>,
    /// Whether the rules have a commit step.
    pub two_step: bool,
    /// Its registry weight (what it declares unless it inflates).
    pub weight: u64,
    /// The last attempt explored.
    pub max_attempt: u32,
    /// Everyone else.
    pub peers: Vec<Id>,
    /// Under `forge-justification`: what it forges from.
    pub forger: Option<Forger>,
}

/// Either kind of masternode.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // built once per model; never copied in the search
pub enum McActor {
    /// Runs the node.
    Honest(Honest),
    /// Runs the script.
    Byzantine(Box<Adversary>),
}

/// What a Byzantine masternode remembers: the votes it has sent, and the
/// honest votes it forged from (so that it forges once from each, and only
/// a change of its state sends anything: the progress argument).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdversaryState {
    /// (attempt, step, block) voted for.
    pub voted: BTreeSet<(u32, Step, Hash32)>,
    /// Honest votes forged from.
    pub forged: BTreeSet<Forged>,
}

/// An honest masternode's state: the node's, and what the network took from
/// it before it started. The model's network keeps every message sent (a
/// redelivery changes nothing), so a message the node refused before its
/// start (R0.6) is remembered as lost to it, as it is on a real network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HonestState {
    /// The node's state.
    pub node: NodeState,
    /// Whether it has started the height.
    pub started: bool,
    /// Sender and message of every delivery refused before the start.
    pub lost: BTreeSet<(Id, Packet)>,
    /// Staggered timing: the honest nodes that were already where this one
    /// is (phase 1 or its attempt) when it got there. Timers of one attempt
    /// last the same at every node, so theirs fire first.
    pub ahead: BTreeSet<usize>,
    /// Clocked timing: the shared clock and this node's deadlines.
    pub clock: Option<Clock>,
    /// Late-starts and staggered timing: the attempt the node was in when it
    /// decided (the node forgets it), which a start ahead of what it sent
    /// reads ([`crate::model::TcModel::recent`]); `None` otherwise, or if it
    /// decided before its attempts began.
    pub decided_in: Option<u32>,
    /// Two heights: its decision of height 1, once it runs height 2 (the
    /// node keeps only its last).
    pub earlier: Option<Decision>,
}

/// Under [`crate::config::Timing::Clocked`], what an honest node knows of
/// time: the shared clock (every honest node holds the same reading) and
/// when each timer it has set fires, the last attempt's too (that deadline
/// ends the run: `Action::LeavesLadder`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Clock {
    /// The time now, ms from the first start.
    pub now_ms: u64,
    /// Each timer set and not cancelled or fired, with its deadline.
    pub deadlines: std::collections::BTreeMap<Timer, u64>,
    /// Its last explored attempt's timer has fired: it has left the
    /// explored ladder and takes no further part.
    pub out: bool,
}

impl Clock {
    /// The clock of `current` after a step with these outputs: a timer that
    /// fired leaves it, a set timer fires `after_ms` from now (the node
    /// says how long, R7.2), a cancelled one not at all.
    fn after(current: &Option<Clock>, fired: Option<Timer>, outs: &[Output]) -> Option<Clock> {
        let mut clock = current.clone()?;
        if let Some(t) = fired {
            clock.deadlines.remove(&t);
        }
        clock.apply(outs);
        Some(clock)
    }

    fn apply(&mut self, outs: &[Output]) {
        for out in outs {
            match out {
                Output::SetTimer { timer, after_ms } => {
                    self.deadlines
                        .insert(*timer, self.now_ms.saturating_add(*after_ms));
                }
                Output::CancelTimer(t) => {
                    self.deadlines.remove(t);
                }
                _ => {}
            }
        }
    }
}

impl std::hash::Hash for HonestState {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // A started node that lost nothing hashes as its node: lock-step
        // states keep their fingerprints (and the vectors' paths).
        self.node.hash(h);
        if !self.started || !self.lost.is_empty() || !self.ahead.is_empty() {
            self.started.hash(h);
            self.lost.hash(h);
            self.ahead.hash(h);
        }
        if let Some(c) = &self.clock {
            c.hash(h);
        }
        if let Some(a) = self.decided_in {
            a.hash(h);
        }
        if let Some(d) = &self.earlier {
            d.hash(h);
        }
    }
}

/// Either kind of state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::large_enum_variant)] // already behind an Arc in every system state
pub enum McState {
    /// An honest node's state.
    Honest(HonestState),
    /// The adversary's memory.
    Byzantine(AdversaryState),
}

impl McState {
    /// The honest node's state, if honest.
    pub fn node(&self) -> Option<&NodeState> {
        match self {
            McState::Honest(s) => Some(&s.node),
            McState::Byzantine(_) => None,
        }
    }

    /// An honest node's decisions, lowest height first.
    pub fn decisions(&self) -> impl Iterator<Item = Decision> + '_ {
        let (earlier, last) = match self {
            McState::Honest(s) => (s.earlier, s.node.last_decision()),
            McState::Byzantine(_) => (None, None),
        };
        // While height 2 runs, the last decision is still height 1's.
        let later = last.filter(|d| earlier.is_none_or(|e| d.height > e.height));
        earlier.into_iter().chain(later)
    }

    /// Whether it is an honest node that has not started the height.
    pub fn waiting(&self) -> bool {
        matches!(self, McState::Honest(s) if !s.started)
    }
}

impl Honest {
    /// Runs `input` at `node`: under height 1's context until the node has
    /// finalized height 1, then under height 2's if it is registered there
    /// (the host switches registries with the height, so no round of
    /// height 2 meets height 1's registry; height 1's laggards are then
    /// answered, R7.6, if they are members of height 2).
    /// `packet` is the message input's packet, whose signatures height 1's
    /// context takes as verified.
    pub fn handle(
        &self,
        node: &mut NodeState,
        input: Input,
        packet: Option<&Packet>,
        outs: &mut Vec<Output>,
    ) {
        match &self.next_ctx {
            Some(next) if node.tip().height >= 1 => next.handle(node, input, outs),
            // A joiner's context is height 2's: packets' sets are height 1's.
            _ if self.joins.is_some() => self.ctx.handle(node, input, outs),
            _ => {
                let v = packet.map_or(&NONE, |p| p.verified(self.ctx.registry()));
                self.ctx.handle_verified(node, input, v, outs)
            }
        }
    }

    /// The model's bound: no timer leads out of the last attempt.
    fn keeps(&self, t: &Timer) -> bool {
        match t {
            Timer::Heartbeat { .. } => true,
            Timer::VotingWindow { attempt, .. } => *attempt <= self.max_attempt,
            Timer::Leader { attempt, .. } | Timer::Attempt { attempt, .. } => {
                *attempt < self.max_attempt
            }
        }
    }

    fn emit(&self, outs: Vec<Output>, o: &mut Out<McActor>) {
        for out in outs {
            match out {
                Output::Broadcast(m) => {
                    let proof =
                        matches!(&m, Message::Certificate(c) if c.certificate.step == Step::Commit);
                    let to = if m.height() == 1 && !proof {
                        &self.height1_peers
                    } else {
                        &self.peers
                    };
                    o.broadcast(to, &Packet::new(m))
                }
                Output::Send { to, message } if self.answers => {
                    if let Some(i) = self.directory.index_of(&to) {
                        let p = if self.starts_apart {
                            Packet::answer(message)
                        } else {
                            Packet::new(message)
                        };
                        o.send(Id::from(i), p);
                    }
                }
                Output::Send { .. } => {}
                Output::SetTimer { timer, .. } if self.keeps(&timer) => {
                    o.set_timer(McTimer::Node(timer), model_timeout())
                }
                Output::SetTimer { .. } => {}
                Output::CancelTimer(t) => o.cancel_timer(McTimer::Node(t)),
                Output::Event(_) => {}
            }
        }
    }

    fn step(
        &self,
        state: &mut Cow<McState>,
        input: Input,
        packet: Option<&Packet>,
        o: &mut Out<McActor>,
    ) {
        let McState::Honest(current) = &**state else {
            return;
        };
        let mut next = current.node.clone();
        let mut outs = Vec::new();
        let fired = match &input {
            Input::Timer(t) => Some(*t),
            _ => None,
        };
        self.handle(&mut next, input, packet, &mut outs);
        let mut earlier = current.earlier;
        if let (Some(ctx), Some(d)) = (&self.next_ctx, next.last_decision()) {
            if d.height == 1 && next.round().is_none() && earlier.is_none() {
                // Height 1 finalized: the next starts (R0.6) from the new
                // tip, the block just finalized (R7.4).
                earlier = Some(d);
                ctx.handle(&mut next, Input::Start(self.start_input()), &mut outs);
            }
        }
        let clock = Clock::after(&current.clock, fired, &outs);
        let decides = next.last_decision().is_some() && next.round().is_none();
        let decided_in =
            if self.starts_apart && !self.clocked && decides && current.node.round().is_some() {
                current
                    .node
                    .round()
                    .filter(|r| r.started())
                    .map(|r| r.attempt())
            } else {
                current.decided_in
            };
        if next != current.node || clock != current.clock {
            *state = Cow::Owned(McState::Honest(HonestState {
                node: next,
                started: current.started,
                lost: current.lost.clone(),
                ahead: current.ahead.clone(),
                clock,
                decided_in,
                earlier,
            }));
        }
        self.emit(outs, o);
    }

    fn start_input(&self) -> StartHeight {
        StartHeight {
            date: self.date,
            mempool: self.mempool.clone(),
            presynchronized: self.presynchronized,
        }
    }

    /// R0.6: starts the height.
    fn start(&self, state: &mut Cow<McState>, o: &mut Out<McActor>) {
        let start = self.start_input();
        if let McState::Honest(s) = state.to_mut() {
            s.started = true;
        }
        self.step(state, Input::Start(start), None, o);
    }

    /// R7.8: a joiner not yet started takes a finality proof of height 1
    /// that passes the checks as its tip and starts height 2; it ignores
    /// anything else (a refused proof included: it changes nothing).
    fn join(
        &self,
        state: &mut Cow<McState>,
        registry: &Registry,
        msg: &Packet,
        o: &mut Out<McActor>,
    ) {
        let (McState::Honest(current), Message::Certificate(cb)) = (&**state, msg.msg()) else {
            return;
        };
        let joining = Joining {
            registry,
            tip: current.node.tip(),
            date: self.date,
        };
        let ctx = &self.ctx;
        let Ok(node) = joining.check(ctx.rules(), ctx.config(), &Arc::new(cb.clone())) else {
            return;
        };
        *state = Cow::Owned(McState::Honest(HonestState {
            earlier: node.last_decision(),
            node,
            started: true,
            lost: current.lost.clone(),
            ahead: current.ahead.clone(),
            clock: current.clock.clone(),
            decided_in: current.decided_in,
        }));
        self.step(state, Input::Start(self.start_input()), None, o);
    }

    /// A delivery: ignored if it was lost before the start; remembered as
    /// lost if the node refuses it because it has not started.
    fn receive(&self, state: &mut Cow<McState>, src: Id, msg: Packet, o: &mut Out<McActor>) {
        let McState::Honest(current) = &**state else {
            return;
        };
        if self.leaves && current.node.tip().height >= 1 && msg.msg().height() >= 2 {
            return;
        }
        if let (Some(registry), false) = (&self.joins, current.started) {
            return self.join(state, registry, &msg, o);
        }
        if current.started {
            if !current.lost.contains(&(src, msg.clone())) {
                self.step(state, Input::Message(msg.msg().clone()), Some(&msg), o);
            }
            return;
        }
        let mut next = current.node.clone();
        let mut outs = Vec::new();
        self.handle(
            &mut next,
            Input::Message(msg.msg().clone()),
            Some(&msg),
            &mut outs,
        );
        let refused = outs.iter().any(|out| {
            matches!(
                out,
                Output::Event(Event::Rejected(Rejection::NotRunning { .. }))
            )
        });
        let mut lost = current.lost.clone();
        if refused {
            lost.insert((src, msg));
        }
        let clock = Clock::after(&current.clock, None, &outs);
        if next != current.node || lost != current.lost || clock != current.clock {
            *state = Cow::Owned(McState::Honest(HonestState {
                node: next,
                started: false,
                lost,
                ahead: current.ahead.clone(),
                clock,
                decided_in: current.decided_in,
                earlier: current.earlier,
            }));
        }
        self.emit(outs, o);
    }
}

impl Adversary {
    fn vote(&self, attempt: u32, step: Step, block_hash: Hash32) -> Packet {
        let vote = Vote {
            height: 1,
            attempt,
            step,
            voter: self.id.clone(),
            block_hash,
            approve: true,
            weight: if self.behaviour.inflate_weight {
                1000
            } else {
                self.weight
            },
        };
        Packet::new(Message::Vote(vote.sign(&self.keypair)))
    }

    /// Votes for `block` in `attempt` (both steps under two-step rules),
    /// unless already done.
    fn vote_for(
        &self,
        voted: &mut BTreeSet<(u32, Step, Hash32)>,
        attempt: u32,
        block: Hash32,
        o: &mut Out<McActor>,
    ) {
        if !self.behaviour.vote_any || attempt > self.max_attempt {
            return;
        }
        let steps: &[Step] = if self.two_step {
            &[Step::Approve, Step::Commit]
        } else {
            &[Step::Approve]
        };
        for &step in steps {
            if voted.insert((attempt, step, block)) {
                o.broadcast(&self.peers, &self.vote(attempt, step, block));
            }
        }
    }
}

impl Actor for McActor {
    type Msg = Packet;
    type State = McState;
    type Timer = McTimer;
    type Random = ();
    type Storage = ();

    fn on_start(&self, _id: Id, _storage: &Option<()>, o: &mut Out<Self>) -> McState {
        match self {
            McActor::Honest(h) => {
                let mut st = Cow::Owned(McState::Honest(HonestState {
                    node: h.init.clone(),
                    started: false,
                    lost: BTreeSet::new(),
                    ahead: BTreeSet::new(),
                    clock: h.clocked.then(Clock::default),
                    decided_in: None,
                    earlier: None,
                }));
                if h.joins.is_some() {
                    // It starts height 2 once it joins (R7.8).
                } else if h.starts_apart {
                    o.set_timer(McTimer::Start, model_timeout());
                } else {
                    h.start(&mut st, o);
                }
                st.into_owned()
            }
            McActor::Byzantine(b) => {
                let mut voted = BTreeSet::new();
                if b.behaviour.equivocate || b.behaviour.vote_any {
                    for p in &b.proposals {
                        o.broadcast(&b.peers, &Packet::new(Message::Proposal(p.clone())));
                    }
                }
                for p in &b.proposals {
                    b.vote_for(&mut voted, p.proposal.attempt, p.proposal.block.hash(), o);
                }
                for &a in &b.emergency_attempts {
                    for h in &b.any_blocks {
                        b.vote_for(&mut voted, a, *h, o);
                    }
                }
                if b.behaviour.commit_any && b.two_step {
                    for a in 0..=b.max_attempt {
                        for h in &b.any_blocks {
                            if voted.insert((a, Step::Commit, *h)) {
                                o.broadcast(&b.peers, &b.vote(a, Step::Commit, *h));
                            }
                        }
                    }
                }
                McState::Byzantine(AdversaryState {
                    voted,
                    forged: BTreeSet::new(),
                })
            }
        }
    }

    fn on_msg(&self, _id: Id, state: &mut Cow<McState>, src: Id, msg: Packet, o: &mut Out<Self>) {
        match self {
            McActor::Honest(h) => h.receive(state, src, msg, o),
            McActor::Byzantine(b) => {
                let McState::Byzantine(s) = &**state else {
                    return;
                };
                if let Some(f) = &b.forger {
                    if let Some(key) = f.source(msg.msg()).filter(|k| !s.forged.contains(k)) {
                        for m in f.forge(&b.keypair, msg.msg()) {
                            o.broadcast(&b.peers, &Packet::new(m));
                        }
                        let mut next = s.clone();
                        next.forged.insert(key);
                        *state = Cow::Owned(McState::Byzantine(next));
                        return;
                    }
                }
                let (attempt, block) = match msg.msg() {
                    Message::Proposal(p) => (p.proposal.attempt, p.proposal.block.hash()),
                    _ => return,
                };
                let mut voted = s.voted.clone();
                b.vote_for(&mut voted, attempt, block, o);
                if voted != s.voted {
                    *state = Cow::Owned(McState::Byzantine(AdversaryState {
                        voted,
                        forged: s.forged.clone(),
                    }));
                }
            }
        }
    }

    fn on_timeout(&self, _id: Id, state: &mut Cow<McState>, timer: &McTimer, o: &mut Out<Self>) {
        if let McActor::Honest(h) = self {
            match timer {
                McTimer::Start => h.start(state, o),
                McTimer::Node(t) => h.step(state, Input::Timer(*t), None, o),
            }
        }
    }

    fn name(&self) -> String {
        match self {
            McActor::Honest(h) => h.ctx.id().to_string(),
            McActor::Byzantine(b) => format!("{} (Byzantine)", b.id),
        }
    }
}
