//! The masternode registry of a height (spec R2.1-R2.3): who may vote, with
//! which key, and with what weight.

use crate::crypto::{
    decode_key, verify_batch_decoded, verify_decoded, KeyError, PublicKey, Signature,
    SignatureScheme,
};
use crate::primitives::{Date, NodeId};
use crate::vote::SignedVote;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A masternode's collateral tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Weight 1.
    Free,
    /// Weight 2.
    Bronze,
    /// Weight 4.
    Silver,
    /// Weight 8.
    Gold,
}

impl Tier {
    /// The tier's base weight (R2.2): Free 1, Bronze 2, Silver 4, Gold 8.
    pub fn weight(self) -> u64 {
        match self {
            Tier::Free => 1,
            Tier::Bronze => 2,
            Tier::Silver => 4,
            Tier::Gold => 8,
        }
    }

    /// The tier's one-byte code in canonical encodings (0..=3).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Parses `free|bronze|silver|gold` (any case).
    pub fn parse(s: &str) -> Option<Tier> {
        match s.to_ascii_lowercase().as_str() {
            "free" => Some(Tier::Free),
            "bronze" => Some(Tier::Bronze),
            "silver" => Some(Tier::Silver),
            "gold" => Some(Tier::Gold),
            _ => None,
        }
    }
}

/// One registered masternode, as the chain records it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MasternodeInfo {
    /// Its id (the deployed code used the IP address).
    pub node_id: NodeId,
    /// The key its heartbeats, proposals and votes are signed with.
    pub public_key: PublicKey,
    /// Collateral tier.
    pub tier: Tier,
    /// Registration date.
    pub registered_at: Date,
    /// Reputation in thousandths (1000 = 1.0). The seed rules read it as the
    /// `f32` `reputation_milli / 1000.0`, which is the nearest `f32` to the
    /// decimal value, exactly as the deployed code's literal would be.
    pub reputation_milli: u32,
}

impl MasternodeInfo {
    /// The seed rules' `f32` reputation score.
    #[allow(clippy::float_arithmetic)] // S2.1 reads the reputation as f32
    pub fn reputation_score(&self) -> f32 {
        self.reputation_milli as f32 / 1000.0
    }
}

/// Why a registry cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No masternodes at all: nobody could ever reach a quorum.
    #[error("the masternode registry is empty")]
    Empty,
    /// More members than the weight arithmetic is proven for.
    #[error("the registry has {0} masternodes; at most {max} are supported", max = Registry::MAX_MEMBERS)]
    TooMany(usize),
    /// Two entries share an id.
    #[error("masternode id {0} is registered twice")]
    DuplicateId(NodeId),
    /// Two entries share a key.
    #[error("public key {key} is registered twice (by {first} and {second})")]
    DuplicateKey {
        /// The key, hex.
        key: String,
        /// First holder.
        first: NodeId,
        /// Second holder.
        second: NodeId,
    },
    /// A key that cannot be used.
    #[error("masternode {node}: {error}")]
    BadKey {
        /// Which member.
        node: NodeId,
        /// What is wrong with its key.
        error: KeyError,
    },
    /// A reputation outside 0..=10.0.
    #[error("masternode {node}: reputation {milli}/1000 is outside 0..={max}/1000", max = Registry::MAX_REPUTATION_MILLI)]
    Reputation {
        /// Which member.
        node: NodeId,
        /// The value given.
        milli: u32,
    },
}

/// The validated masternode set of a height.
///
/// Keeps the list in the order it was given (the seed rules elect over that
/// order) and the canonical order of the reference rules (R2.1: by node id,
/// byte-wise), both as indices into the list.
#[derive(Clone, Debug)]
pub struct Registry {
    scheme: SignatureScheme,
    members: Vec<MasternodeInfo>,
    by_id: HashMap<NodeId, u32>,
    canonical: Vec<u32>,
    position: Vec<u32>,
    /// Under ed25519, every member's key decoded once, in canonical order;
    /// empty under the symbolic scheme.
    keys: Vec<VerifyingKey>,
}

impl Registry {
    /// Largest registry accepted: keeps every weight sum far below `u64::MAX`.
    pub const MAX_MEMBERS: usize = 1 << 24;
    /// Largest reputation accepted (10.0); both rule sets clamp to 0.5..=1.5.
    pub const MAX_REPUTATION_MILLI: u32 = 10_000;

    /// Validates and indexes `members`.
    pub fn new(
        scheme: SignatureScheme,
        members: Vec<MasternodeInfo>,
    ) -> Result<Self, RegistryError> {
        if members.is_empty() {
            return Err(RegistryError::Empty);
        }
        if members.len() > Self::MAX_MEMBERS {
            return Err(RegistryError::TooMany(members.len()));
        }
        let mut by_id = HashMap::with_capacity(members.len());
        let mut by_key: HashMap<PublicKey, u32> = HashMap::with_capacity(members.len());
        let mut decoded: Vec<VerifyingKey> = Vec::new();
        for (i, m) in members.iter().enumerate() {
            if by_id.insert(m.node_id.clone(), i as u32).is_some() {
                return Err(RegistryError::DuplicateId(m.node_id.clone()));
            }
            if let Some(first) = by_key.insert(m.public_key, i as u32) {
                return Err(RegistryError::DuplicateKey {
                    key: m.public_key.to_hex(),
                    first: members[first as usize].node_id.clone(),
                    second: m.node_id.clone(),
                });
            }
            let bad_key = |error| RegistryError::BadKey {
                node: m.node_id.clone(),
                error,
            };
            match scheme {
                SignatureScheme::Ed25519 => {
                    decoded.push(decode_key(&m.public_key).map_err(bad_key)?)
                }
                SignatureScheme::Symbolic => scheme.check_key(&m.public_key).map_err(bad_key)?,
            }
            if m.reputation_milli > Self::MAX_REPUTATION_MILLI {
                return Err(RegistryError::Reputation {
                    node: m.node_id.clone(),
                    milli: m.reputation_milli,
                });
            }
        }
        let mut canonical: Vec<u32> = (0..members.len() as u32).collect();
        canonical.sort_unstable_by(|&a, &b| {
            members[a as usize]
                .node_id
                .cmp(&members[b as usize].node_id)
        });
        let mut position = vec![0u32; members.len()];
        for (pos, &i) in canonical.iter().enumerate() {
            position[i as usize] = pos as u32;
        }
        let keys = if decoded.is_empty() {
            Vec::new()
        } else {
            canonical.iter().map(|&i| decoded[i as usize]).collect()
        };
        Ok(Registry {
            scheme,
            members,
            by_id,
            canonical,
            position,
            keys,
        })
    }

    /// The signature scheme keys are checked under.
    pub fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    /// The members in the order given.
    pub fn members(&self) -> &[MasternodeInfo] {
        &self.members
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: an empty registry is refused.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The member at list index `i`.
    pub fn member(&self, i: usize) -> &MasternodeInfo {
        &self.members[i]
    }

    /// The list index of `id`, if it is a member.
    pub fn index_of(&self, id: &NodeId) -> Option<usize> {
        self.by_id.get(id).map(|&i| i as usize)
    }

    /// List indices in canonical order (R2.1).
    pub fn canonical(&self) -> &[u32] {
        &self.canonical
    }

    /// The canonical position of `id`, if it is a member. Votes, tallies and
    /// the reference election address members by this position.
    pub fn position_of(&self, id: &NodeId) -> Option<usize> {
        self.by_id
            .get(id)
            .map(|&i| self.position[i as usize] as usize)
    }

    /// The member at canonical position `pos`.
    pub fn at_position(&self, pos: usize) -> &MasternodeInfo {
        &self.members[self.canonical[pos] as usize]
    }

    /// Verifies a signature of the member at canonical position `pos` (R0.4),
    /// with its key as decoded at registration.
    pub fn verify_at(&self, pos: usize, msg: &[u8], sig: &Signature) -> bool {
        match self.keys.get(pos) {
            Some(key) => verify_decoded(key, msg, sig),
            None => self
                .scheme
                .verify(&self.at_position(pos).public_key, msg, sig),
        }
    }

    /// Verifies signatures of members, given as canonical positions, in one
    /// batch; `true` iff all are valid (R0.4: a batch may accept what
    /// `verify_at` refuses only for a signature its own signer crafted).
    pub fn verify_batch_at(&self, items: &[(usize, &[u8], &Signature)]) -> bool {
        if self.keys.is_empty() {
            let items: Vec<(&PublicKey, &[u8], &Signature)> = items
                .iter()
                .map(|&(pos, m, s)| (&self.at_position(pos).public_key, m, s))
                .collect();
            self.scheme.verify_batch(&items)
        } else {
            let items: Vec<(&VerifyingKey, &[u8], &Signature)> = items
                .iter()
                .map(|&(pos, m, s)| (&self.keys[pos], m, s))
                .collect();
            verify_batch_decoded(&items)
        }
    }

    /// Verifies the signature of a vote by the member at canonical position
    /// `pos` on its own (R0.4, R5.2).
    pub fn verify_vote(&self, pos: usize, sv: &SignedVote) -> bool {
        self.verify_at(pos, &sv.vote.signing_bytes(), &sv.signature)
    }

    /// The votes among `votes` (each with its voter's canonical position)
    /// whose signatures do not hold, as indices into `votes`, in order: one
    /// batch over them all, and only if it fails each on its own, lazily, so
    /// that a caller naming the first bad vote stops there (R0.4). The tally
    /// ([`crate::tally::tally_signed`]) and the certificate check
    /// ([`crate::message::verify_certificate`]) both verify through this.
    pub fn bad_votes<'a>(
        &'a self,
        votes: &'a [(usize, &'a SignedVote)],
    ) -> impl Iterator<Item = usize> + 'a {
        let batch_holds = votes.is_empty() || {
            let msgs: Vec<Vec<u8>> = votes
                .iter()
                .map(|(_, sv)| sv.vote.signing_bytes())
                .collect();
            let items: Vec<(usize, &[u8], &Signature)> = votes
                .iter()
                .zip(&msgs)
                .map(|(&(pos, sv), m)| (pos, m.as_slice(), &sv.signature))
                .collect();
            self.verify_batch_at(&items)
        };
        let suspects = if batch_holds { &[][..] } else { votes };
        suspects
            .iter()
            .enumerate()
            .filter(move |(_, &(pos, sv))| !self.verify_vote(pos, sv))
            .map(|(i, _)| i)
    }
}
