//! The host: runs the unchanged sans-IO [`Node`] over a store, timers and a
//! chain of heights, with no I/O of its own (the runtime in `run.rs` feeds
//! it and carries out what it returns), so tests drive it by hand.
//!
//! Per batch of events: hand each to the node, log the inputs that changed
//! it and the blocks it finalized, commit that to the store, and only then
//! return the frames to send. Every protocol rule is the node's; the host
//! adds transport (catch-up requests, answers) and the chain's pacing.

mod behaviour;

use crate::genesis::Behaviour;
use crate::metrics::Metrics;
use crate::store::{Batch, Logged, Store, StoreError};
use crate::wire::{Frame, MAX_BLOCKS_PER_FRAME, MAX_FRAME};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time_consensus::block::Transaction;
use time_consensus::event::Evidence;
use time_consensus::forge::Forged;
use time_consensus::node::Decision;
use time_consensus::verified::Verified;
use time_consensus::vote::Step;
use time_consensus::{
    Context, Event, Input, Message, Node, NodeId, Output, Rejection, StartHeight, Timer, Tip,
};

/// Most transactions waiting in the mempool; more are refused.
pub const MAX_MEMPOOL: usize = 10_000;

/// Least time between two block requests to one peer.
const REQUEST_GAP: Duration = Duration::from_millis(500);

/// Something for the host to handle.
#[derive(Debug)]
pub enum Item {
    /// A frame from a peer (`None`: the peer has not said who it is).
    Frame(Option<NodeId>, Frame),
    /// A timer the node set is due.
    Timer(Timer),
    /// The interval after the last height is over.
    StartDue,
    /// A transaction submitted through the local API.
    Tx(Transaction),
}

/// What the runtime must do after a batch was committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send to every peer.
    Broadcast(Arc<Frame>),
    /// Send to one peer.
    Send(NodeId, Arc<Frame>),
}

/// Why a transaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The mempool is full.
    #[error("mempool full ({MAX_MEMPOOL} transactions)")]
    Full,
    /// Already waiting.
    #[error("transaction already in the mempool")]
    Duplicate,
    /// No canonical encoding (R0.2).
    #[error("transaction has no encoding: {0}")]
    Encoding(String),
}

/// A finalized height, as the host saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finalized {
    /// The decision.
    pub decision: Decision,
    /// From the height's start to its finalization here (none when replayed
    /// or caught up before the height started here).
    pub latency: Option<Duration>,
    /// Whether it came in through catch-up.
    pub caught_up: bool,
}

/// The host.
pub struct Host {
    node: Node,
    store: Store,
    genesis: Tip,
    interval: Duration,
    behaviour: Behaviour,
    timers: BTreeMap<Timer, Instant>,
    start_at: Option<Instant>,
    started_at: Option<Instant>,
    mempool: BTreeMap<time_consensus::Hash32, Transaction>,
    peer_tips: BTreeMap<NodeId, u64>,
    asked: BTreeMap<NodeId, Instant>,
    offered: BTreeMap<NodeId, Instant>,
    served: BTreeMap<NodeId, Instant>,
    answered: BTreeMap<NodeId, Instant>,
    /// `vote-any`: the (height, attempt, step, block) it voted for.
    voted: BTreeSet<(u64, u32, Step, time_consensus::Hash32)>,
    /// The signatures of the batch being handled, verified at once.
    verified: Verified,
    /// `forge-justification`: the votes it forged from, by height.
    forged: BTreeSet<(u64, Forged)>,
    peers: Vec<NodeId>,
    metrics: Arc<Metrics>,
    finalized: Vec<Finalized>,
    resend: Vec<Message>,
}

impl Host {
    /// Opens a member on its store: the stored tip, then the logged inputs
    /// since it replayed into the node (outputs dropped but for its own
    /// messages, which are sent again, byte for byte the same).
    pub fn open(
        context: Context,
        genesis: Tip,
        store: Store,
        interval: Duration,
        behaviour: Behaviour,
        metrics: Arc<Metrics>,
        now: Instant,
    ) -> Result<Host, StoreError> {
        let tip = store.tip(genesis)?;
        let peers = context
            .registry()
            .members()
            .iter()
            .map(|m| m.node_id.clone())
            .filter(|id| id != context.id())
            .collect();
        let node = resume(context, genesis, tip, &store)?;
        let mut host = Host {
            node,
            store,
            genesis,
            interval,
            behaviour,
            timers: BTreeMap::new(),
            start_at: None,
            started_at: None,
            mempool: BTreeMap::new(),
            peer_tips: BTreeMap::new(),
            asked: BTreeMap::new(),
            offered: BTreeMap::new(),
            served: BTreeMap::new(),
            answered: BTreeMap::new(),
            voted: BTreeSet::new(),
            verified: Verified::default(),
            forged: BTreeSet::new(),
            peers,
            metrics,
            finalized: Vec::new(),
            resend: Vec::new(),
        };
        // R7.5: the proof broadcast on finalizing may not have left before
        // the crash; it is sent again (peers past that height ignore it).
        if let Some(proof) = host.node.state().finality_proof() {
            host.resend.push(Message::Certificate(proof.clone()));
        }
        let log = host.store.log(tip.height)?;
        for Logged { input, batch } in log {
            let outs = match &input {
                Input::Message(m) if batch => {
                    let v = Verified::trusting(host.node.context().registry(), m);
                    host.node.handle_verified(input.clone(), &v)
                }
                _ => host.node.handle(input.clone()),
            };
            for o in outs {
                match o {
                    Output::Broadcast(m) => host.resend.push(m),
                    Output::SetTimer { timer, after_ms } => {
                        host.timers
                            .insert(timer, now + Duration::from_millis(after_ms));
                    }
                    Output::CancelTimer(t) => {
                        host.timers.remove(&t);
                    }
                    Output::Send { .. } | Output::Event(_) => {}
                }
            }
            if let Input::Timer(t) = input {
                host.timers.remove(&t);
            }
        }
        // A timer keeps the deadline it had before the restart.
        let wall = wall_ms(now);
        for (t, deadline) in host.store.timers()? {
            if let Some(at) = host.timers.get_mut(&t) {
                // Never later than the replayed full delay (a clock set back).
                *at = (*at).min(now + Duration::from_millis(deadline.saturating_sub(wall)));
            }
        }
        if host.node.state().round().is_none() {
            // The interval runs from the finalization, across the restart.
            let since = host
                .store
                .finalized_at_ms()?
                .map_or(u64::MAX, |at| wall.saturating_sub(at));
            let left = interval.saturating_sub(Duration::from_millis(since));
            host.start_at = Some(now + left);
        } else {
            host.started_at = Some(now);
        }
        tracing::info!(
            tip = tip.height,
            replayed = host.resend.len(),
            "opened store"
        );
        Ok(host)
    }

    /// The node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The chain's tip.
    pub fn tip(&self) -> Tip {
        self.node.state().tip()
    }

    /// The store (read by tests and the status endpoint).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Heights finalized since the last call.
    pub fn take_finalized(&mut self) -> Vec<Finalized> {
        std::mem::take(&mut self.finalized)
    }

    /// The node's pending timers and their deadlines.
    pub fn timers(&self) -> &BTreeMap<Timer, Instant> {
        &self.timers
    }

    /// When the host next needs waking: the earliest timer or the start.
    pub fn next_deadline(&self) -> Option<Instant> {
        let t = self.timers.values().min().copied();
        match (t, self.start_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The events due at `now`: expired timers and the start.
    pub fn due(&self, now: Instant) -> Vec<Item> {
        let mut items: Vec<Item> = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(t, _)| Item::Timer(*t))
            .collect();
        if self.start_at.is_some_and(|at| at <= now) {
            items.push(Item::StartDue);
        }
        items
    }

    /// What the node said before a restart, to send again at start-up.
    pub fn take_resend(&mut self) -> Vec<Action> {
        let msgs = std::mem::take(&mut self.resend);
        let mut actions = Vec::new();
        for m in msgs {
            self.outgoing(m, &mut actions);
        }
        actions
    }

    /// Adds a transaction to the mempool.
    pub fn submit(&mut self, tx: Transaction) -> Result<time_consensus::Hash32, TxError> {
        let id = tx.txid().map_err(|e| TxError::Encoding(e.to_string()))?;
        if self.mempool.contains_key(&id) {
            return Err(TxError::Duplicate);
        }
        if self.mempool.len() >= MAX_MEMPOOL {
            return Err(TxError::Full);
        }
        self.mempool.insert(id, tx);
        Ok(id)
    }

    /// Handles a batch, commits what must not be forgotten, and returns what
    /// to send. On a store error nothing of the batch is sent.
    pub fn handle(&mut self, items: Vec<Item>, now: Instant) -> Result<Vec<Action>, StoreError> {
        let mut batch = Batch::default();
        let mut actions = Vec::new();
        let timers = self.timers.clone();
        // R0.4: the batch's message signatures in one verification.
        // Only messages of the next height, and certificates no larger than
        // the registry: what the node refuses without a signature check
        // (another height, a repeated voter) is not checked in the batch.
        let next = self.tip().height + 1;
        let members = self.node.context().registry().len();
        self.verified = Verified::batch(
            self.node.context().registry(),
            items.iter().filter_map(|i| match i {
                Item::Frame(_, Frame::Message(m)) if m.height() == next => match m {
                    Message::Certificate(cb) if cb.certificate.votes.len() > members => None,
                    _ => Some(m),
                },
                _ => None,
            }),
        );
        for item in items {
            self.item(item, now, &mut batch, &mut actions);
        }
        if self.timers != timers {
            let wall = wall_ms(now);
            batch.timers = Some(
                self.timers
                    .iter()
                    .map(|(t, at)| {
                        (
                            *t,
                            wall + at.saturating_duration_since(now).as_millis() as u64,
                        )
                    })
                    .collect(),
            );
        }
        self.verified = Verified::default();
        self.store.commit(&batch, self.genesis)?;
        Ok(actions)
    }

    fn item(&mut self, item: Item, now: Instant, batch: &mut Batch, actions: &mut Vec<Action>) {
        match item {
            Item::Frame(from, frame) => self.frame(from, frame, now, batch, actions),
            Item::Timer(t) => {
                if self.timers.remove(&t).is_some() {
                    self.apply(Input::Timer(t), now, false, batch, actions);
                }
            }
            Item::StartDue => {
                self.start_at = None;
                self.start(now, batch, actions);
            }
            Item::Tx(tx) => {
                if let Err(e) = self.submit(tx) {
                    tracing::debug!(%e, "transaction refused");
                }
            }
        }
    }

    /// The input that starts the next height.
    fn start_input(&self) -> Input {
        let height = self.tip().height + 1;
        let config = self.node.context().config();
        let cap = config.max_block_transactions as usize;
        Input::Start(StartHeight {
            date: config.chain_date(height),
            mempool: self.mempool.values().take(cap).cloned().collect(),
            presynchronized: false,
        })
    }

    fn start(&mut self, now: Instant, batch: &mut Batch, actions: &mut Vec<Action>) {
        if self.node.state().round().is_some() {
            return;
        }
        self.started_at = Some(now);
        let input = self.start_input();
        self.apply(input, now, false, batch, actions);
        if self.node.state().round().is_none() && self.start_at.is_none() {
            // Given up at once (S1.4): try the height again later.
            self.start_at = Some(now + self.interval);
        }
    }

    fn frame(
        &mut self,
        from: Option<NodeId>,
        frame: Frame,
        now: Instant,
        batch: &mut Batch,
        actions: &mut Vec<Action>,
    ) {
        match frame {
            Frame::Challenge { .. } => {}
            Frame::Hello {
                node_id,
                tip_height,
                ..
            } => {
                // Only members are remembered: the map stays bounded.
                if !self.peers.contains(&node_id) {
                    return;
                }
                self.peer_tips.insert(node_id.clone(), tip_height);
                if tip_height > self.tip().height {
                    self.ask(&node_id, now, actions);
                }
            }
            Frame::Message(m) => {
                self.metrics.received(&m);
                self.misbehave(&m, actions);
                let rejected = self.apply(Input::Message(m), now, false, batch, actions);
                if let (Some(Rejection::WrongHeight { expected, got }), Some(p)) = (rejected, from)
                {
                    if got > expected {
                        self.ask(&p, now, actions);
                    } else {
                        self.offer(&p, got, now, actions);
                    }
                }
            }
            Frame::GetBlocks { from: h, max } => {
                let Some(p) = from.filter(|p| self.peers.contains(p)) else {
                    return;
                };
                if !ready(&self.served, &p, now) {
                    return;
                }
                let max = max.min(MAX_BLOCKS_PER_FRAME);
                match self.store.blocks(h, max) {
                    Ok(mut blocks) if !blocks.is_empty() => {
                        // The gap counts answers sent, not requests: an
                        // empty one costs nothing and delays no real one.
                        self.served.insert(p.clone(), now);
                        // Keep the answer within a frame.
                        let mut size = 0usize;
                        let keep = blocks
                            .iter()
                            .take_while(|b| {
                                size += serde_json::to_vec(b).map_or(usize::MAX / 2, |v| v.len());
                                size <= MAX_FRAME as usize / 2
                            })
                            .count()
                            .max(1);
                        blocks.truncate(keep);
                        actions.push(Action::Send(p, Arc::new(Frame::Blocks(blocks))));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(%e, "cannot read blocks for a peer"),
                }
            }
            Frame::Blocks(mut blocks) => {
                let first = self.tip().height;
                blocks.sort_by_key(|b| b.block.header.height);
                for cb in blocks {
                    let tip = self.tip().height;
                    if cb.block.header.height != tip + 1 {
                        continue;
                    }
                    let proof = Input::Message(Message::Certificate(cb));
                    if self.node.state().round().is_none() {
                        // A certificate counts only in a running height. Try
                        // it on a copy first, so that a block the node's
                        // rules refuse does not start the height early.
                        let mut trial = self.node.clone();
                        trial.handle(self.start_input());
                        trial.handle(proof.clone());
                        if trial.state().tip().height == tip {
                            break;
                        }
                        self.start_at = None;
                        self.start(now, batch, actions);
                    }
                    self.apply(proof, now, true, batch, actions);
                    if self.tip().height == tip {
                        break; // refused: the rest cannot extend the chain
                    }
                }
                // Blocks applied: the peer may have more.
                if let Some(p) = from.filter(|_| self.tip().height > first) {
                    self.asked.remove(&p);
                    self.ask(&p, now, actions);
                }
            }
        }
    }

    /// Asks `peer` for the blocks above the tip, at most every
    /// [`REQUEST_GAP`].
    fn ask(&mut self, peer: &NodeId, now: Instant, actions: &mut Vec<Action>) {
        if !gap(&mut self.asked, peer, now) {
            return;
        }
        actions.push(Action::Send(
            peer.clone(),
            Arc::new(Frame::GetBlocks {
                from: self.tip().height + 1,
                max: MAX_BLOCKS_PER_FRAME,
            }),
        ));
    }

    /// Sends `peer`, which runs a height this member has finalized, the
    /// blocks from that height, at most every [`REQUEST_GAP`]: it may have
    /// no other way to learn that the network moved on (R7.6 answers only
    /// for the last height).
    fn offer(&mut self, peer: &NodeId, from: u64, now: Instant, actions: &mut Vec<Action>) {
        if !gap(&mut self.offered, peer, now) {
            return;
        }
        self.frame(
            Some(peer.clone()),
            Frame::GetBlocks {
                from,
                max: MAX_BLOCKS_PER_FRAME,
            },
            now,
            &mut Batch::default(),
            actions,
        );
    }

    /// Hands one input to the node; returns its rejection, if refused.
    fn apply(
        &mut self,
        input: Input,
        now: Instant,
        caught_up: bool,
        batch: &mut Batch,
        actions: &mut Vec<Action>,
    ) -> Option<Rejection> {
        // Logged iff the node's state changed (compared whole): replaying
        // the log rebuilds it exactly, and a replayed duplicate costs no row.
        let before = self.node.state().clone();
        let tip = self.tip();
        let reg = self.node.context().registry().clone();
        let batched = matches!(&input, Input::Message(m) if self.verified.covers(&reg, m));
        let outs = self.node.handle_verified(input.clone(), &self.verified);
        let mut rejected = None;
        if *self.node.state() != before {
            batch.inputs.push((
                tip.height,
                Logged {
                    input,
                    batch: batched,
                },
            ));
        }
        for o in outs {
            match o {
                Output::Broadcast(m) => self.outgoing(m, actions),
                Output::Send { to, message } => {
                    // A proof answers a laggard (R7.6); any relay of the
                    // laggard's vote asks again, so answer each peer at
                    // most every REQUEST_GAP.
                    if self.behaviour != Behaviour::Silent && gap(&mut self.answered, &to, now) {
                        actions.push(Action::Send(to, Arc::new(Frame::Message(message))));
                    }
                }
                Output::SetTimer { timer, after_ms } => {
                    self.timers
                        .insert(timer, now + Duration::from_millis(after_ms));
                }
                Output::CancelTimer(t) => {
                    self.timers.remove(&t);
                }
                Output::Event(e) => {
                    if let Event::Rejected(r) = &e {
                        if let Rejection::Equivocation(ev) = r {
                            self.metrics.equivocation();
                            tracing::warn!(evidence = ?kind(ev), "equivocation seen");
                        }
                        self.metrics.rejected(r);
                        rejected = Some(r.clone());
                    }
                    self.metrics.event(&e);
                }
            }
        }
        if self.tip() != tip {
            self.finalized_here(now, caught_up, batch);
        }
        rejected
    }

    fn finalized_here(&mut self, now: Instant, caught_up: bool, batch: &mut Batch) {
        let state = self.node.state();
        let Some(decision) = state.last_decision() else {
            return;
        };
        // Under rules with A3 every decision carries its proof (R7.5).
        let Some(proof) = state.finality_proof().cloned() else {
            tracing::error!(
                height = decision.height,
                "decision without a finality proof"
            );
            return;
        };
        if let Ok(ids) = proof.block.txids() {
            for id in ids {
                self.mempool.remove(&id);
            }
        }
        let latency = self.started_at.take().map(|s| now.duration_since(s));
        self.metrics.finalized(&decision, latency);
        tracing::info!(
            height = decision.height,
            attempt = decision.attempt,
            kind = ?decision.kind,
            hash = %decision.hash,
            latency_ms = latency.map(|l| l.as_millis() as u64),
            caught_up,
            "finalized"
        );
        batch.blocks.push(proof);
        batch.finalized_at_ms = Some(wall_ms(now));
        self.finalized.push(Finalized {
            decision,
            latency,
            caught_up,
        });
        self.start_at = Some(now + self.interval);
    }

    /// The other members.
    pub fn peers(&self) -> &[NodeId] {
        &self.peers
    }

    /// Transactions waiting.
    pub fn mempool_len(&self) -> usize {
        self.mempool.len()
    }
}

/// A node on top of the stored tip, holding its decision and finality
/// proof as it did when it finalized it.
fn resume(context: Context, genesis: Tip, tip: Tip, store: &Store) -> Result<Node, StoreError> {
    if tip.height <= genesis.height {
        return Ok(Node::new(context, tip));
    }
    Ok(match store.blocks(tip.height, 1)?.pop() {
        Some(last) => Node::resume(context, Arc::new(last)),
        None => Node::new(context, tip),
    })
}

/// The wall-clock time of `now`, ms since 1970 (pacing only; no rule reads
/// it): the process's first reading of both clocks, moved by `now`'s
/// distance from it, so a host driven in logical time (the tests) keeps
/// the two in step.
fn wall_ms(now: Instant) -> u64 {
    static ANCHOR: std::sync::OnceLock<(Instant, u64)> = std::sync::OnceLock::new();
    let (at, wall) = *ANCHOR.get_or_init(|| {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        (Instant::now(), wall)
    });
    if now >= at {
        wall.saturating_add(now.duration_since(at).as_millis() as u64)
    } else {
        wall.saturating_sub(at.duration_since(now).as_millis() as u64)
    }
}

/// Whether `peer` may be served again at `now`, without recording it.
fn ready(last: &BTreeMap<NodeId, Instant>, peer: &NodeId, now: Instant) -> bool {
    last.get(peer)
        .is_none_or(|at| now.duration_since(*at) >= REQUEST_GAP)
}

/// Whether `peer` may be served again at `now` (at most every
/// [`REQUEST_GAP`]); if so, records it. Keys are members only.
fn gap(last: &mut BTreeMap<NodeId, Instant>, peer: &NodeId, now: Instant) -> bool {
    if last
        .get(peer)
        .is_some_and(|at| now.duration_since(*at) < REQUEST_GAP)
    {
        return false;
    }
    last.insert(peer.clone(), now);
    true
}

fn kind(e: &Evidence) -> &'static str {
    match e {
        Evidence::DoubleVote { .. } => "double_vote",
        Evidence::DoubleProposal { .. } => "double_proposal",
    }
}
