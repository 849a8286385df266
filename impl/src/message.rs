//! The wire: proposals, certified blocks, and the message enum, with the
//! checks every message passes before it can change a node (R0.5, R4.x).

use crate::block::Block;
use crate::crypto::{Keypair, Signature};
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

    /// This proposal signed with `keypair` (R4.2).
    pub fn sign(self, keypair: &Keypair) -> SignedProposal {
        SignedProposal {
            signature: keypair.sign(&self.signing_bytes()),
            proposal: self,
        }
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

impl SignedProposal {
    /// Signs the proposal again with `keypair`, as edited (tests, vectors
    /// and fuzzing forge and tamper so).
    pub fn resign(&mut self, keypair: &Keypair) {
        self.signature = keypair.sign(&self.proposal.signing_bytes());
    }

    /// Its signer and what its signature covers (R0.5).
    pub fn signed(&self) -> Signed<'_> {
        Signed {
            kind: MessageKind::Proposal,
            signer: &self.proposal.proposer,
            bytes: self.proposal.signing_bytes(),
            signature: &self.signature,
        }
    }
}

/// A block with a certificate for it: an approve certificate (relayed when a
/// node forms one, R6.4) or a commit certificate (the finality proof a node
/// broadcasts when it finalizes, R7.5).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertifiedBlock {
    /// The block.
    pub block: Arc<Block>,
    /// The certificate, shared with the node that keeps it (R6.3, R7.5):
    /// states of the model checker hold both.
    pub certificate: Arc<Certificate>,
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

impl From<SignedVote> for Message {
    fn from(v: SignedVote) -> Message {
        Message::Vote(v)
    }
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

/// The kind of a message, as rejections name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A heartbeat (phase 1).
    Heartbeat,
    /// A leader's proposal.
    Proposal,
    /// A vote.
    Vote,
    /// A certified block.
    Certificate,
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MessageKind::Heartbeat => "heartbeat",
            MessageKind::Proposal => "proposal",
            MessageKind::Vote => "vote",
            MessageKind::Certificate => "certificate",
        })
    }
}

/// Who signed a message and what the signature covers (R0.5): a heartbeat,
/// proposal or vote has one signer; a certificate has none of its own.
pub struct Signed<'a> {
    /// The kind of message.
    pub kind: MessageKind,
    /// The claimed signer.
    pub signer: &'a NodeId,
    /// The signing bytes.
    pub bytes: Vec<u8>,
    /// The signature.
    pub signature: &'a Signature,
}

impl Message {
    /// The message's own signature, if it has one (R0.5).
    pub fn signed(&self) -> Option<Signed<'_>> {
        match self {
            Message::Heartbeat(h) => Some(h.signed()),
            Message::Proposal(p) => Some(p.signed()),
            Message::Vote(v) => Some(v.signed()),
            Message::Certificate(_) => None,
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
///
/// The signatures are checked in one batch ([`Registry::bad_votes`], R0.4),
/// each on its own only to name the bad one. The error is the one a check
/// vote by vote, in order, would meet first.
pub fn verify_certificate(
    registry: &Registry,
    weights: &HeightWeights,
    cert: &Certificate,
    already_verified: impl Fn(usize, &SignedVote) -> bool,
) -> Result<u64, CertificateError> {
    let mut seen = vec![false; registry.len()];
    let mut weight = 0u64;
    // The votes before the first one that fails a check other than its
    // signature, with their positions, and that failure.
    let mut unverified: Vec<(usize, &SignedVote)> = Vec::with_capacity(cert.votes.len());
    let mut index_of = Vec::with_capacity(cert.votes.len());
    let mut failure = None;
    for (index, sv) in cert.votes.iter().enumerate() {
        let v = &sv.vote;
        if v.height != cert.height
            || v.attempt != cert.attempt
            || v.step != cert.step
            || v.block_hash != cert.block_hash
            || !v.approve
        {
            failure = Some(CertificateError::Mismatch { index });
            break;
        }
        let Some(pos) = registry.position_of(&v.voter) else {
            failure = Some(CertificateError::Stranger {
                index,
                voter: v.voter.clone(),
            });
            break;
        };
        if std::mem::replace(&mut seen[pos], true) {
            failure = Some(CertificateError::RepeatedVoter {
                voter: v.voter.clone(),
            });
            break;
        }
        if !already_verified(pos, sv) {
            unverified.push((pos, sv));
            index_of.push(index);
        }
        weight += weights.weight(pos);
    }
    // A bad signature before the failure is met first (R0.4).
    if let Some(bad) = registry.bad_votes(&unverified).next() {
        return Err(CertificateError::BadSignature {
            index: index_of[bad],
            voter: unverified[bad].1.vote.voter.clone(),
        });
    }
    if let Some(failure) = failure {
        return Err(failure);
    }
    if weight < weights.quorum() {
        return Err(CertificateError::BelowQuorum {
            weight,
            quorum: weights.quorum(),
        });
    }
    Ok(weight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SignatureScheme;
    use crate::registry::Tier;
    use crate::sim::{test_network, SplitMix64};
    use crate::vote::Vote;

    /// `verify_certificate` as first written: vote by vote, each signature
    /// on its own.
    fn as_written(
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
            if !already_verified(pos, sv)
                && !registry.verify_at(pos, &v.signing_bytes(), &sv.signature)
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

    #[test]
    fn batch_verified_certificates_fail_as_vote_by_vote_checks_do() {
        let mut seen = std::collections::BTreeSet::new();
        for scheme in [SignatureScheme::Ed25519, SignatureScheme::Symbolic] {
            let date = crate::primitives::Date::from_ymd(2025, 6, 1).unwrap();
            let tiers = [Tier::Gold, Tier::Free, Tier::Silver, Tier::Bronze];
            let (registry, keys) = test_network(9, &tiers, scheme, date).unwrap();
            let weights = HeightWeights::reference(&registry, date.add_days(400).unwrap());
            let block = Hash32([7; 32]);
            let signed = |i: usize, vote: Vote| vote.sign(&keys[i]);
            let vote = |i: usize| Vote {
                height: 3,
                attempt: 1,
                step: Step::Approve,
                voter: registry.member(i).node_id.clone(),
                block_hash: block,
                approve: true,
                weight: 1,
            };
            for seed in 0..60 {
                let mut rng = SplitMix64::new(seed);
                let mut members: Vec<usize> = (0..9).collect();
                for i in (1..9).rev() {
                    members.swap(i, rng.range(0, i as u64) as usize);
                }
                members.truncate(rng.range(0, 9) as usize);
                let mut votes: Vec<SignedVote> =
                    members.iter().map(|&i| signed(i, vote(i))).collect();
                // Up to three faults anywhere: a forged signature, a
                // mismatch, a stranger, a repeated voter.
                for _ in 0..rng.range(0, 3) {
                    if votes.is_empty() {
                        break;
                    }
                    let at = rng.range(0, votes.len() as u64 - 1) as usize;
                    match rng.range(0, 3) {
                        0 => votes[at].signature.0[9] ^= 1,
                        1 => votes[at].vote.attempt = 2,
                        2 => votes[at].vote.voter = NodeId::new("stranger").unwrap(),
                        _ => votes.insert(at, votes[rng.range(0, at as u64) as usize].clone()),
                    }
                }
                let cert = Certificate {
                    height: 3,
                    attempt: 1,
                    step: Step::Approve,
                    block_hash: block,
                    votes,
                };
                // Some votes known to be verified already: skipped, even
                // when forged.
                for use_known in [false, true] {
                    let skip =
                        |pos: usize, _: &SignedVote| use_known && pos % 4 == seed as usize % 4;
                    let want = as_written(&registry, &weights, &cert, skip);
                    assert_eq!(
                        verify_certificate(&registry, &weights, &cert, skip),
                        want,
                        "{scheme:?} seed {seed}"
                    );
                    seen.insert(match want {
                        Ok(_) => "ok".to_string(),
                        Err(e) => format!("{e:?}")
                            .split([' ', '{'])
                            .next()
                            .unwrap()
                            .to_string(),
                    });
                }
            }
        }
        // Every outcome occurred.
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            [
                "BadSignature",
                "BelowQuorum",
                "Mismatch",
                "RepeatedVoter",
                "Stranger",
                "ok"
            ]
        );
    }
}
