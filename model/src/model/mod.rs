//! The model: an `ActorModel` of the masternodes, wrapped so that the timer
//! semantics of [`Network::Gst`] can be imposed, with the protocol's
//! properties.

use crate::actor::{Adversary, Honest, McActor, McState, McTimer, Packet};
use crate::config::{ConfigError, ModelConfig, Network, Timing, VoteDelivery};
use stateright::actor::{
    ActorModel, ActorModelAction, ActorModelState, Id, LossyNetwork, Network as SrNetwork,
};
use stateright::{Model, Path, Property};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use time_consensus::block::{Block, Transaction};
use time_consensus::fallback::{plan, BlockKind, LeaderRule};
use time_consensus::forge::Forger;
use time_consensus::message::{Message, Proposal};
use time_consensus::node::{Decision, HeightCtx, NodeState, Timer};
use time_consensus::primitives::Hash32;
use time_consensus::vote::{SignedVote, Step};
use time_consensus::Amendment;

mod batches;
mod build;
mod memo;
mod properties;
mod timing;

pub use properties::{actor_progress, check_progress, step_name, valid_decision};
use properties::{checked, liveness, where_is, Condition, CONDITIONS};

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
    /// The registry of height 1.
    pub registry: Arc<time_consensus::Registry>,
    /// Every masternode of either height, actor `i` as its `i`th member.
    pub directory: Arc<time_consensus::Registry>,
    /// The first transition on which the progress measure did not rise.
    pub acyclicity_violation: std::sync::Mutex<Option<String>>,
    /// Every masternode's node context (keys, registry, rules), by index.
    pub contexts: Vec<Arc<time_consensus::Context>>,
    /// Two heights: height 2's registry and contexts (`None` for a member
    /// deregistered there).
    pub later: Vec<crate::config::LaterHeight>,
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
    /// The first panic of a checker thread (a bug): the check stops, and
    /// its report says so rather than taking the search for exhaustive.
    pub panicked: std::sync::Mutex<Option<String>>,
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

    /// Height `height`'s registry and contexts, from height 2 on.
    fn later_at(&self, height: u64) -> Option<&crate::config::LaterHeight> {
        self.later
            .get(usize::try_from(height.checked_sub(2)?).ok()?)
    }

    /// The registry of `height`.
    pub fn registry_at(&self, height: u64) -> &Arc<time_consensus::Registry> {
        self.later_at(height).map_or(&self.registry, |(r, _)| r)
    }

    /// Masternode `i`'s context at `height` (`None` if not registered).
    pub fn context_at(&self, i: usize, height: u64) -> Option<&Arc<time_consensus::Context>> {
        match self.later_at(height) {
            Some((_, c)) => c.get(i)?.as_ref(),
            None if self.cfg.member_at(i, height) => self.contexts.get(i),
            None => None,
        }
    }

    /// The masternode (actor index) at canonical position `pos` of
    /// `height`'s registry: positions shift once a member has left.
    pub fn actor_at(&self, height: u64, pos: usize) -> Option<usize> {
        let registry = self.registry_at(height);
        (pos < registry.len())
            .then(|| registry.at_position(pos))
            .and_then(|m| self.directory.index_of(&m.node_id))
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

    /// Honest decisions in `state`, by masternode index, each node's
    /// lowest height first.
    pub fn decisions(&self, state: &State) -> Vec<(usize, Decision)> {
        self.info
            .honest
            .iter()
            .flat_map(|&i| state.actor_states[i].decisions().map(move |d| (i, d)))
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

    /// A vote to an honest node running its height: delivered in batches.
    /// A node that has not started, has decided, or runs another height
    /// does not count votes (it keeps, loses or answers them one by one).
    fn is_vote_to_running(&self, state: &State, a: &ActorAction) -> bool {
        matches!(a, ActorModelAction::Deliver { dst, msg, .. }
            if matches!(msg.msg(), Message::Vote(sv)
                if self.info.cfg.is_honest(usize::from(*dst))
                    && state.actor_states[usize::from(*dst)]
                        .node()
                        .and_then(NodeState::round)
                        .is_some_and(|r| r.height() == sv.vote.height)))
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

    /// The names of the properties checked, in order.
    pub fn property_names(&self) -> Vec<&'static str> {
        self.properties().iter().map(|p| p.name).collect()
    }
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
            // A leader's proposal may be lost on its way to any node (of
            // height 1 only when two are run, unless `lose_later_proposals`).
            let later = self.info.cfg.lose_later_proposals;
            for env in state.network.iter_deliverable() {
                if self.info.cfg.is_honest(usize::from(env.src))
                    && matches!(env.msg.msg(), Message::Proposal(p) if p.proposal.height == 1 || later)
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
impl TcModel {
    /// Runs `f`, or on a panic records it, stops the check (as cut short)
    /// and returns `default`: a panicking Stateright thread would otherwise
    /// just end, and the search look exhaustive.
    fn guard<T>(&self, default: T, f: impl FnOnce() -> T) -> T {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(v) => v,
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".to_string());
                let mut slot = self.info.panicked.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(msg);
                self.info.cut.store(true, Ordering::Relaxed);
                self.info.stop.store(true, Ordering::Relaxed);
                default
            }
        }
    }
}

impl Model for TcModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        self.inner.init_states()
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        memo::listing(state);
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
        let mut listed = Vec::new();
        if self.guard(false, || {
            self.listed_actions(state, &mut listed);
            true
        }) {
            actions.append(&mut listed);
        }
    }

    fn next_state(&self, state: &State, action: Action) -> Option<State> {
        let next = self.guard(None, || {
            memo::take(state, &action).unwrap_or_else(|| self.apply(state, &action))
        })?;
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
        if cfg.heights == 2 {
            // Liveness of height 2 after each way height 1 can end.
            props.push(checked("height 2 finalized after attempt 0"));
            let kinds = [
                (BlockKind::Normal, "height 2 finalized after a rotation"),
                (
                    BlockKind::RewardOnly,
                    "height 2 finalized after a reward-only block",
                ),
                (
                    BlockKind::Emergency,
                    "height 2 finalized after the emergency block",
                ),
            ];
            for (kind, name) in kinds {
                if plans.iter().any(|p| p.attempt > 0 && p.kind == kind) {
                    props.push(checked(name));
                }
            }
        }
        props
    }
}

#[cfg(test)]
mod tests;
