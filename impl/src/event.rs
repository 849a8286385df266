//! What a node reports: the seed's monitoring events, extended with the
//! reference rules' steps and a typed reason for every input it refuses.

use crate::block::BlockError;
use crate::fallback::{BlockKind, FallbackReason, FallbackStrategy};
pub use crate::message::MessageKind;
use crate::message::{CertificateError, SignedProposal};
use crate::primitives::{Hash32, NodeId};
use crate::vote::{SignedVote, Step};
use serde::{Deserialize, Serialize};

/// The deployed `Phase`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Phase {
    /// Before the height starts.
    Waiting,
    /// Phase 1.
    Synchronization,
    /// Phase 2.
    LeaderElection,
    /// Phase 3 (the leader only).
    BlockConstruction,
    /// Phase 4: waiting for (or sending) the proposal.
    ProposalDistribution,
    /// Phase 5: voted, collecting votes.
    VotingWindow,
    /// Phase 6: counting (seed), or committed and collecting commits.
    ConsensusCollection,
    /// Phase 7.
    Finalization,
    /// A leaderless emergency attempt.
    EmergencyFallback,
    /// The height is over.
    Complete,
}

/// Proof that a masternode signed two conflicting messages (R5.6, R4.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// Two votes of one step and attempt for different blocks.
    DoubleVote {
        /// The vote that counts.
        first: Box<SignedVote>,
        /// The one refused.
        second: Box<SignedVote>,
    },
    /// Two proposals of one attempt for different blocks.
    DoubleProposal {
        /// The proposal kept (its block omitted: the hash is signed).
        first_block: Hash32,
        /// Its valid attempt.
        first_valid_attempt: Option<u32>,
        /// Its signature.
        first_signature: crate::crypto::Signature,
        /// The one refused.
        second: Box<SignedProposal>,
    },
}

/// Why an input was refused. The node's state is unchanged by it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// A message for another height than the one being decided.
    #[error("message for height {got}, deciding {expected}")]
    WrongHeight {
        /// Height being decided (tip + 1).
        expected: u64,
        /// Height of the message.
        got: u64,
    },
    /// An attempt the node does not accept now (seed rules: any but the
    /// current one; reference rules: too far ahead).
    #[error("message for attempt {got}, node is at attempt {current}")]
    WrongAttempt {
        /// Node's attempt.
        current: u32,
        /// Message's attempt.
        got: u32,
    },
    /// Signed by a key that is not in the registry.
    #[error("{node} is not a registered masternode")]
    UnknownSigner {
        /// Claimed signer.
        node: NodeId,
    },
    /// A signature that does not verify under the signer's registered key.
    #[error("bad signature on a {what} from {signer}")]
    BadSignature {
        /// Claimed signer.
        signer: NodeId,
        /// Kind of message.
        what: MessageKind,
    },
    /// The same message again: nothing to do.
    #[error("duplicate {what} from {from}")]
    Duplicate {
        /// Kind of message.
        what: MessageKind,
        /// Sender.
        from: NodeId,
    },
    /// A conflicting second message: the first stands.
    #[error("equivocation")]
    Equivocation(Evidence),
    /// A proposal from someone other than the attempt's elected leader.
    #[error("proposal for attempt {attempt} from {got}, elected leader is {expected:?}")]
    NotLeader {
        /// Attempt.
        attempt: u32,
        /// Elected leader (none in an emergency attempt).
        expected: Option<NodeId>,
        /// Proposer.
        got: NodeId,
    },
    /// The proposed block is invalid.
    #[error("invalid block: {0}")]
    InvalidBlock(BlockError),
    /// A fresh block of the wrong kind for the attempt.
    #[error("attempt {attempt} needs a {expected:?} block, got {got:?}")]
    WrongBlockKind {
        /// Attempt.
        attempt: u32,
        /// Kind the ladder requires.
        expected: BlockKind,
        /// Kind proposed.
        got: BlockKind,
    },
    /// A certificate that proves nothing.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(CertificateError),
    /// A re-proposal whose justification is missing, or not from an earlier
    /// attempt.
    #[error("re-proposal in attempt {attempt} lacks a valid justification")]
    BadJustification {
        /// Attempt.
        attempt: u32,
    },
    /// Reference rules: a vote with `approve = false` (honest nodes do not
    /// cast them, R5.1).
    #[error("a vote against (approve = false) is not a vote under these rules")]
    NotAVote,
    /// A heartbeat outside phase 1 (deployed "Not in collecting state").
    #[error("not collecting heartbeats")]
    NotCollecting,
    /// A message for the next height before the node has started it (or
    /// after it gave it up).
    #[error("height {height} is not being decided here")]
    NotRunning {
        /// The message's height.
        height: u64,
    },
    /// A start while a height is being decided.
    #[error("height {0} is already being decided")]
    AlreadyRunning(u64),
    /// A message type these rules do not use.
    #[error("a {what} is not part of these rules")]
    NotInRules {
        /// What was sent.
        what: Unsupported,
    },
}

/// What the seed flow refuses as not part of its rules (S5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unsupported {
    /// A vote of the commit step.
    CommitVote,
    /// A certified block.
    Certificate,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unsupported::CommitVote => "commit vote",
            Unsupported::Certificate => "certificate",
        })
    }
}

/// What a node reports to its host, in the order things happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Deployed `ProtocolStarted`.
    ProtocolStarted {
        /// Height being decided.
        block_height: u64,
    },
    /// Deployed `PhaseTransition`.
    PhaseTransition {
        /// Previous phase.
        from: Phase,
        /// New phase.
        to: Phase,
    },
    /// Deployed `HeartbeatReceived`.
    HeartbeatReceived {
        /// Sender.
        node_id: NodeId,
    },
    /// Phase 1 ended with agreement.
    Synchronized {
        /// Heartbeats counted.
        heartbeats: usize,
    },
    /// Phase 1 timed out without agreement.
    SyncFailed {
        /// Heartbeats counted.
        heartbeats: usize,
        /// Whether the node goes on anyway (reference rules) or gives up the
        /// height (seed rules).
        continuing: bool,
    },
    /// Deployed `LeaderElected`, per attempt.
    LeaderElected {
        /// Attempt.
        attempt: u32,
        /// Leader.
        leader: NodeId,
        /// Leader's weight.
        weight: u64,
    },
    /// This node proposed.
    ProposalSent {
        /// Attempt.
        attempt: u32,
        /// Block.
        block_hash: Hash32,
        /// Justification attempt of a re-proposal.
        valid_attempt: Option<u32>,
    },
    /// A valid proposal was accepted.
    ProposalAccepted {
        /// Attempt.
        attempt: u32,
        /// Proposer.
        proposer: NodeId,
        /// Block.
        block_hash: Hash32,
    },
    /// This node voted.
    VoteSent {
        /// Attempt.
        attempt: u32,
        /// Step.
        step: Step,
        /// Block.
        block_hash: Hash32,
        /// Approve flag (seed rules may vote against).
        approve: bool,
    },
    /// Deployed `VoteReceived`.
    VoteReceived {
        /// Voter.
        voter: NodeId,
        /// Attempt.
        attempt: u32,
        /// Step.
        step: Step,
        /// Approve flag.
        approve: bool,
        /// Weight counted for it.
        weight: u64,
    },
    /// Reference rules: a valid vote not counted because its step of its
    /// attempt already has a quorum (R5.8).
    VoteIgnored {
        /// Voter.
        voter: NodeId,
        /// Attempt.
        attempt: u32,
        /// Step.
        step: Step,
    },
    /// Reference rules: a valid proposal not approved because of a lock.
    NotApproved {
        /// Attempt.
        attempt: u32,
        /// Block proposed.
        block_hash: Hash32,
        /// The lock: attempt and block.
        locked: (u32, Hash32),
    },
    /// Reference rules: locked on a block after an approve quorum.
    Locked {
        /// Attempt.
        attempt: u32,
        /// Block.
        block_hash: Hash32,
    },
    /// Deployed `ConsensusReached`.
    ConsensusReached {
        /// Attempt.
        attempt: u32,
        /// Weight for the block.
        approval_weight: u64,
        /// Weight the threshold was taken over.
        total_weight: u64,
    },
    /// Deployed `ConsensusFailed`.
    ConsensusFailed {
        /// Attempt.
        attempt: u32,
        /// Weight for the block.
        approval_weight: u64,
        /// Weight the threshold was taken over.
        total_weight: u64,
    },
    /// Deployed `FallbackInitiated`.
    FallbackInitiated {
        /// The attempt being entered.
        attempt: u32,
        /// Why the previous one ended.
        reason: FallbackReason,
        /// What this one is.
        strategy: FallbackStrategy,
    },
    /// Deployed `EmergencyBlock`.
    EmergencyBlock {
        /// Attempt.
        attempt: u32,
        /// Seed flaw 4: accepted without any vote.
        unilateral: bool,
    },
    /// Deployed `BlockFinalized`.
    BlockFinalized {
        /// Height.
        block_height: u64,
        /// Block hash.
        hash: Hash32,
        /// Attempt that decided it.
        attempt: u32,
        /// Its kind.
        kind: BlockKind,
    },
    /// Deployed `ProtocolCompleted` (durations are the monitor's business).
    ProtocolCompleted {
        /// Whether a block was finalized.
        success: bool,
    },
    /// An input was refused.
    Rejected(Rejection),
}
