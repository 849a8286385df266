//! The wire: proposals, certified blocks, and the message enum, with the
//! checks every message passes before it can change a node (R0.5, R4.x).

use crate::block::Block;
use crate::crypto::Signature;
use crate::election::HeightWeights;
use crate::encoding::{tag, Encoder};
use crate::heartbeat::SignedHeartbeat;
use crate::primitives::{Hash32, NodeId};
use crate::registry::Registry;
use crate::vote::{Certificate, SignedVote, Step};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The deployed `BlockProposal`, carrying the block itself and, under the
/// reference rules, the justification of a re-proposed block (R4.1).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// Height.
    pub height: u64,
    /// Attempt.
    pub attempt: u32,
    /// The leader proposing (the elected leader of `attempt`).
    pub proposer: NodeId,
    /// The block.
    pub block: Arc<Block>,
    /// Reference rules: the attempt of the approve quorum that justifies a
    /// re-proposed block; none for a fresh block.
    pub valid_attempt: Option<u32>,
    /// The approve certificate of `valid_attempt`.
    pub justification: Option<Certificate>,
}

impl Proposal {
    /// The bytes the proposer signs (R4.2). The justification signs itself.
    pub fn signing_bytes(&self) -> Vec<u8> {
        proposal_signing_bytes(
            self.height,
            self.attempt,
            &self.proposer,
            &self.block.hash(),
            self.valid_attempt,
        )
    }
}

/// Signing bytes of a proposal from its parts (also used to rebuild the
/// evidence of an equivocating leader).
pub fn proposal_signing_bytes(
    height: u64,
    attempt: u32,
    proposer: &NodeId,
    block_hash: &Hash32,
    valid_attempt: Option<u32>,
) -> Vec<u8> {
    let mut e = Encoder::with_tag(tag::PROPOSAL);
    e.u64(height)
        .u32(attempt)
        .node(proposer)
        .hash(block_hash)
        .opt_u32(valid_attempt);
    e.finish()
}

/// A proposal with the proposer's signature.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedProposal {
    /// The proposal.
    pub proposal: Proposal,
    /// Signature over [`Proposal::signing_bytes`].
    pub signature: Signature,
}

/// A block with a certificate for it: an approve certificate (relayed when a
/// node forms one, R6.4) or a commit certificate (the finality proof a node
/// broadcasts when it finalizes, R7.5).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertifiedBlock {
    /// The block.
    pub block: Arc<Block>,
    /// The certificate.
    pub certificate: Certificate,
}

/// Everything a node sends.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message {
    /// Phase 1.
    Heartbeat(SignedHeartbeat),
    /// Phase 4.
    Proposal(SignedProposal),
    /// Phase 5.
    Vote(SignedVote),
    /// Phases 6 and 7 (reference rules only).
    Certificate(CertifiedBlock),
}

impl Message {
    /// The height the message is about: a node refuses messages of any height
    /// but the one above its tip (R0.6).
    pub fn height(&self) -> u64 {
        match self {
            // A heartbeat announces the tip; it starts the height above it.
            Message::Heartbeat(h) => h.heartbeat.block_height.saturating_add(1),
            Message::Proposal(p) => p.proposal.height,
            Message::Vote(v) => v.vote.height,
            Message::Certificate(c) => c.certificate.height,
        }
    }
}

/// Why a certificate is not a proof of a quorum (R5.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateError {
    /// A vote of another height, attempt, step or block, or a negative one.
    #[error("vote {index} does not match the certificate")]
    Mismatch {
        /// Position in the certificate.
        index: usize,
    },
    /// A voter outside the registry.
    #[error("vote {index} is from {voter}, not a registered masternode")]
    Stranger {
        /// Position.
        index: usize,
        /// Who.
        voter: NodeId,
    },
    /// The same voter twice.
    #[error("voter {voter} appears twice")]
    RepeatedVoter {
        /// Who.
        voter: NodeId,
    },
    /// A signature that does not verify.
    #[error("vote {index} by {voter} has a bad signature")]
    BadSignature {
        /// Position.
        index: usize,
        /// Who.
        voter: NodeId,
    },
    /// Not enough weight.
    #[error("certificate weighs {weight}, below the quorum {quorum}")]
    BelowQuorum {
        /// Registry weight of its voters.
        weight: u64,
        /// Quorum.
        quorum: u64,
    },
    /// The certificate is for another block than the one it came with.
    #[error("certificate is for block {certified}, not {block}")]
    WrongBlock {
        /// Block certified.
        certified: Hash32,
        /// Block attached.
        block: Hash32,
    },
    /// Wrong step (an approve certificate where a commit one is needed, or
    /// the converse).
    #[error("expected a {expected:?} certificate")]
    WrongStep {
        /// Step required.
        expected: Step,
    },
}

/// Verifies that `cert` proves a quorum (R5.5): every vote matches it, comes
/// from a distinct registered voter, carries a valid signature (unless
/// `already_verified` says this exact vote was checked before), and the
/// voters' registry weight reaches the quorum. Returns that weight.
pub fn verify_certificate(
    registry: &Registry,
    weights: &HeightWeights,
    cert: &Certificate,
    already_verified: impl Fn(usize, &SignedVote) -> bool,
) -> Result<u64, CertificateError> {
    let mut seen = vec![false; registry.len()];
    let mut weight = 0u64;
    for (index, sv) in cert.votes.iter().enumerate() {
        let v = &sv.vote;
        if v.height != cert.height
            || v.attempt != cert.attempt
            || v.step != cert.step
            || v.block_hash != cert.block_hash
            || !v.approve
        {
            return Err(CertificateError::Mismatch { index });
        }
        let pos = registry
            .position_of(&v.voter)
            .ok_or_else(|| CertificateError::Stranger {
                index,
                voter: v.voter.clone(),
            })?;
        if std::mem::replace(&mut seen[pos], true) {
            return Err(CertificateError::RepeatedVoter {
                voter: v.voter.clone(),
            });
        }
        if !already_verified(pos, sv) && !registry.verify_at(pos, &v.signing_bytes(), &sv.signature)
        {
            return Err(CertificateError::BadSignature {
                index,
                voter: v.voter.clone(),
            });
        }
        weight += weights.weight(pos);
    }
    if weight < weights.quorum() {
        return Err(CertificateError::BelowQuorum {
            weight,
            quorum: weights.quorum(),
        });
    }
    Ok(weight)
}
