//! The state of the height being decided ([`Round`]) and of the node
//! across heights ([`NodeState`]), with what they remember of proposals,
//! votes and certificates.

use super::*;

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
    pub(super) hc: Arc<HeightCtx>,
    pub(super) mempool: Arc<[Transaction]>,
    pub(super) phase: Phase,
    pub(super) sync: Option<Vec<Option<(u64, Hash32)>>>,
    pub(super) started: bool,
    pub(super) attempt: u32,
    pub(super) voted: bool,
    pub(super) committed: bool,
    pub(super) proposals: SmallMap<u32, ProposalRecord>,
    pub(super) blocks: SmallMap<Hash32, Arc<Block>>,
    pub(super) tallies: SmallMap<(u32, Step), Tally<VoteRecord>>,
    /// One per voter: as large as the registry, so not a [`SmallMap`].
    pub(super) pooled: BTreeMap<NodeId, Vote>,
    pub(super) locked: Option<(u32, Hash32)>,
    pub(super) valid: Option<Justified>,
}

impl Round {
    pub(super) fn new(hc: Arc<HeightCtx>, mempool: Arc<[Transaction]>) -> Self {
        let mut blocks = SmallMap::new();
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
            proposals: SmallMap::new(),
            blocks,
            tallies: SmallMap::new(),
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

    /// Whether an authenticated proposal would be kept, making its leader
    /// one of R7.7's senders of its attempt: from the attempt's elected
    /// leader (R4.3), within R4.4's window, the first of its attempt (R4.5).
    /// The block's own checks are not made here.
    pub fn keeps_proposal(&self, ctx: &Context, p: &Proposal) -> bool {
        self.within_window(ctx, p.attempt)
            && !self.proposals.contains_key(&p.attempt)
            && self.leader(ctx, p.attempt).as_ref() == Some(&p.proposer)
    }

    /// Blocks known for this height, by hash.
    pub fn blocks(&self) -> &SmallMap<Hash32, Arc<Block>> {
        &self.blocks
    }

    /// Proposals accepted, by attempt.
    pub fn proposals(&self) -> &SmallMap<u32, ProposalRecord> {
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
    pub(super) tip: Tip,
    pub(super) round: Option<Round>,
    pub(super) last_decision: Option<Decision>,
    pub(super) proof: Option<Arc<CertifiedBlock>>,
    /// R0.7 (A7): authenticated messages of the next height kept until it
    /// starts, one per signer, kind, attempt and step: as many as the
    /// registry's members times the attempts, so not a [`SmallMap`].
    pub(super) early: BTreeMap<EarlyKey, Message>,
    /// The height was given up (S1.4).
    pub(super) gave_up: bool,
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

    /// The state of a node that decided the proof's block with it (R7.5):
    /// the tip is that block and the proof answers laggards (R7.6).
    pub(super) fn resumed(proof: Arc<CertifiedBlock>) -> Self {
        let block = &proof.block;
        let decision = Decision {
            height: block.header.height,
            hash: block.hash(),
            attempt: proof.certificate.attempt,
            kind: block.header.kind,
            unilateral: false,
        };
        let mut state = NodeState::new(Tip {
            height: decision.height,
            hash: decision.hash,
        });
        state.settle(Some((decision, Some(proof))));
        state
    }

    pub(super) fn settle(&mut self, decided: Option<(Decision, Option<Arc<CertifiedBlock>>)>) {
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
