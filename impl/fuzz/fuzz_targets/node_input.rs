//! The `node` target's input language: what the fuzzer's bytes decode to.

use super::*;

/// One fuzz input.
#[derive(Arbitrary, Debug)]
pub struct Scenario {
    pub setup: Setup,
    pub actions: Vec<Action>,
}

#[derive(Arbitrary, Debug)]
pub struct Setup {
    /// Index into [`RULE_SETS`].
    pub rules: u8,
    /// Byzantine member: Free, Bronze, Silver, Gold, or none.
    pub byzantine: u8,
    /// ed25519 when `% 8 == 0`, else the cheap symbolic scheme (the node
    /// code is the same; ed25519 adds batch verification).
    pub scheme: u8,
    /// Bit `i`: node `i` skips phase 1.
    pub presynchronized: u8,
    /// Transactions in every mempool (`% 4`).
    pub mempool: u8,
}

/// An attempt number, mostly relative to what matters.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum AttemptSel {
    /// `n % 8`: the ladder (rotations 0-2, reward-only 3, emergency 4+, under
    /// the reference rules).
    Ladder(u8),
    /// `n % 20` attempts ahead of the receiver's (the window is 16).
    Ahead(u8),
    /// The `n`-th attempt the Byzantine member leads.
    Led(u8),
    /// Any attempt.
    Any(u32),
}

/// A block hash: a known block's, or one of no block.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum HashSel {
    Block(u8),
    Raw(u8),
}

/// Where a message goes: `% 5`, node 0-3, or 4 for every node but its
/// sender.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct To(pub u8);

/// An alteration of one vote.
#[derive(Arbitrary, Debug, Clone)]
pub enum VoteEdit {
    Weight(u64),
    FlipApprove,
    Attempt(AttemptSel),
    FlipStep,
    Height(u8),
    Block(HashSel),
    Voter(u8),
    Signature(u8, u8),
}

/// Which votes a certificate carries and how it is bent.
#[derive(Arbitrary, Debug, Clone)]
pub struct CertShape {
    /// Bit `i`: member `i`'s vote (a vote seen, or signed afresh for the
    /// Byzantine member).
    pub voters: u8,
    /// Vote `k % len` altered.
    pub edit: Option<(u8, VoteEdit)>,
    /// Bit 0: reverse order; 1: repeat the first vote; 2: header attempt
    /// + 1; 3: header step flipped.
    pub bits: u8,
}

/// An alteration of a proposed block.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum BlockEdit {
    Keep,
    PreviousHash(u8),
    Kind(u8),
    Timestamp(u8),
    Height(u8),
    Proposer(u8),
    DropTransactions,
    AddTransaction(u8),
}

/// An alteration of a message seen.
#[derive(Arbitrary, Debug, Clone)]
pub enum Corruption {
    /// The vote, or vote `k` of a certificate or justification.
    Vote(u8, VoteEdit),
    DropVote(u8),
    RepeatVote(u8),
    CertAttempt(AttemptSel),
    CertStep,
    CertBlock(HashSel),
    /// The block of a certificate or proposal replaced by a known one.
    SwapBlock(u8),
    ProposalAttempt(AttemptSel),
    ProposalValid(Option<AttemptSel>),
    DropJustification,
    Block(BlockEdit),
    HeartbeatHeight(u8),
    HeartbeatTip(HashSel),
    Signature(u8, u8),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Action {
    /// Message `msg % len` of the pool to node `to % 4`.
    Deliver { msg: u16, to: u8 },
    /// Message `msg % len` to every node it has not reached.
    Broadcast { msg: u16 },
    /// Every message to every node it has not reached, until nothing is
    /// pending; node `cut % 8` (if below 4) neither sends nor receives.
    /// When bit 5 of `kinds` is set, only the kinds of bits 0-4 move
    /// (heartbeats, proposals, approve votes, commit votes, certificates):
    /// withholding commits, say, makes nodes lock and re-propose.
    Flush { cut: u8, kinds: u8 },
    /// Node `to` (4: every node) gives up what it waits for: its phase 1
    /// deadline fires, or else the timers of its attempt.
    Advance { to: To },
    /// One of the timers node `to` has set.
    FireSet { to: u8, which: u8 },
    /// Any timer, stale or not yet set.
    Fire {
        to: u8,
        kind: u8,
        attempt: AttemptSel,
        height: u8,
    },
    /// A Byzantine vote.
    Vote {
        to: To,
        commit: bool,
        attempt: AttemptSel,
        block: HashSel,
        approve: bool,
        weight: u8,
    },
    /// A Byzantine proposal (refused unless it leads the attempt).
    Propose {
        to: To,
        attempt: AttemptSel,
        block: u8,
        edit: BlockEdit,
        valid: Option<AttemptSel>,
        justification: Option<CertShape>,
    },
    /// The Byzantine member, as leader of `attempt`, re-proposes the block
    /// of an approve certificate broadcast so far (`cert % count`) with that
    /// certificate as its justification, one vote altered if `edit`.
    Repropose {
        to: To,
        attempt: AttemptSel,
        cert: u8,
        edit: Option<(u8, VoteEdit)>,
    },
    /// A Byzantine certified block.
    Certify {
        to: To,
        commit: bool,
        attempt: AttemptSel,
        block: u8,
        shape: CertShape,
    },
    /// A Byzantine heartbeat.
    Heartbeat { to: To, height: u8, tip: HashSel },
    /// A message of the pool altered, re-signed when its sender is the
    /// Byzantine member and `resign`.
    Corrupt {
        msg: u16,
        to: To,
        how: Corruption,
        resign: bool,
    },
}
