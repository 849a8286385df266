//! Phase 5 messages: weighted votes, their signing bytes, and certificates.

use crate::crypto::{Keypair, Signature};
use crate::encoding::{tag, Encoder};
use crate::primitives::{Hash32, NodeId};
use serde::{Deserialize, Serialize};

/// The step of a vote. The seed rules have only `Approve`; the reference
/// rules vote twice per attempt (R5.1): approve (prevote), then commit
/// (precommit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// First step: "this block is valid and I am not locked on another".
    Approve,
    /// Second step: "I saw an approve quorum for this block and locked on it".
    Commit,
}

impl Step {
    /// One-byte code in the vote encoding.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The deployed `WeightedVote`, with the height, attempt and step the
/// deployed one left implicit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vote {
    /// Height voted on.
    pub height: u64,
    /// Attempt voted in.
    pub attempt: u32,
    /// Approve or commit.
    pub step: Step,
    /// Voter.
    pub voter: NodeId,
    /// Block voted for.
    pub block_hash: Hash32,
    /// Seed rules: whether the voter found the block valid. Reference rules:
    /// always true (an honest node that rejects a block does not vote).
    pub approve: bool,
    /// The weight the voter declares. Seed rules count it (flaw 2); the
    /// reference rules ignore it and use the registry (A2).
    pub weight: u64,
}

impl Vote {
    /// The bytes the voter signs (R5.2).
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::with_tag(tag::VOTE);
        e.u64(self.height)
            .u32(self.attempt)
            .u8(self.step.code())
            .node(&self.voter)
            .hash(&self.block_hash)
            .bool(self.approve)
            .u64(self.weight);
        e.finish()
    }

    /// This vote signed with `keypair` (R5.2): the one way votes are signed.
    pub fn sign(self, keypair: &Keypair) -> SignedVote {
        SignedVote {
            signature: keypair.sign(&self.signing_bytes()),
            vote: self,
        }
    }
}

/// A vote with its signature.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// Voter's signature over [`Vote::signing_bytes`].
    pub signature: Signature,
}

impl SignedVote {
    /// Signs the vote again with `keypair`, as edited (tests, vectors and
    /// fuzzing forge and tamper so).
    pub fn resign(&mut self, keypair: &Keypair) {
        self.signature = keypair.sign(&self.vote.signing_bytes());
    }

    /// Its signer and what its signature covers (R0.5).
    pub fn signed(&self) -> crate::message::Signed<'_> {
        crate::message::Signed {
            kind: crate::message::MessageKind::Vote,
            signer: &self.vote.voter,
            bytes: self.vote.signing_bytes(),
            signature: &self.signature,
        }
    }
}

/// Signed votes of one step of one attempt for one block, from distinct
/// registered voters, whose registry weight reaches the quorum (R5.5).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// Height.
    pub height: u64,
    /// Attempt.
    pub attempt: u32,
    /// Approve (a lock's justification) or commit (a finality proof).
    pub step: Step,
    /// The block.
    pub block_hash: Hash32,
    /// The votes, in canonical voter order.
    pub votes: Vec<SignedVote>,
}
