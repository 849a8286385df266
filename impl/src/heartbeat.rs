//! Phase 1: heartbeats and the synchronization decision.
//!
//! Seed rules (S1.1-S1.3): enough responses is `received >= ceil(2*expected/3)`
//! by node count, and agreement is the most common `(height, tip)` held by
//! `>= ceil(2*received/3)` of the heartbeats *received*.
//!
//! Reference rules (A6, R1.1-R1.4): synchronized when members holding the
//! node's own `(height, tip)` weigh a quorum of the registry; a node that is
//! not synchronized when the heartbeat timeout fires still takes part (its
//! votes are what protect safety, and its absence would cost liveness).

use crate::crypto::{Keypair, Signature};
use crate::encoding::{tag, Encoder};
use crate::primitives::{Hash32, NodeId, ShortString};
use crate::registry::Tier;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The deployed `Heartbeat`, with the reputation as an integer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// Sender.
    pub node_id: NodeId,
    /// Scheduled time of the height being started (seconds).
    pub timestamp: u64,
    /// Height of the sender's tip.
    pub block_height: u64,
    /// Hash of the sender's tip.
    pub chain_tip_hash: Hash32,
    /// Sender's tier.
    pub tier: Tier,
    /// Sender's software version (at most 128 bytes, R1.1).
    pub version: ShortString,
    /// Sender's reputation, thousandths.
    pub reputation_milli: u32,
    /// Sender's days since registration.
    pub days_active: u64,
}

impl Heartbeat {
    /// This heartbeat signed with `keypair` (R1.1).
    pub fn sign(self, keypair: &Keypair) -> SignedHeartbeat {
        SignedHeartbeat {
            signature: keypair.sign(&self.signing_bytes()),
            heartbeat: self,
        }
    }

    /// The bytes the sender signs (R1.1).
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::with_tag(tag::HEARTBEAT);
        e.node(&self.node_id)
            .u64(self.timestamp)
            .u64(self.block_height)
            .hash(&self.chain_tip_hash)
            .u8(self.tier.code())
            .text(&self.version)
            .u32(self.reputation_milli)
            .u64(self.days_active);
        e.finish()
    }
}

/// A heartbeat with its signature.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHeartbeat {
    /// The heartbeat.
    pub heartbeat: Heartbeat,
    /// Sender's signature over [`Heartbeat::signing_bytes`].
    pub signature: Signature,
}

impl SignedHeartbeat {
    /// Signs the heartbeat again with `keypair`, as edited (tests, vectors
    /// and fuzzing forge and tamper so).
    pub fn resign(&mut self, keypair: &Keypair) {
        self.signature = keypair.sign(&self.heartbeat.signing_bytes());
    }

    /// Its signer and what its signature covers (R0.5).
    pub fn signed(&self) -> crate::message::Signed<'_> {
        crate::message::Signed {
            kind: crate::message::MessageKind::Heartbeat,
            signer: &self.heartbeat.node_id,
            bytes: self.heartbeat.signing_bytes(),
            signature: &self.signature,
        }
    }
}

/// The deployed `ChainAgreement`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainAgreement {
    /// Height of the most common state.
    pub consensus_height: u64,
    /// Tip of the most common state.
    pub consensus_hash: Hash32,
    /// Heartbeats holding it.
    pub agreement_count: usize,
    /// Heartbeats received.
    pub total_nodes: usize,
}

impl ChainAgreement {
    /// The deployed `get_synchronized_nodes` and `get_desynchronized_nodes`
    /// (monitoring, S1.3): the senders whose heartbeat holds the agreed
    /// state, and the others with the height they hold, in input order.
    pub fn partition<'a, K>(
        &self,
        beats: impl IntoIterator<Item = (K, u64, &'a Hash32)>,
    ) -> (Vec<K>, Vec<(K, u64)>) {
        let mut synced = Vec::new();
        let mut behind = Vec::new();
        for (k, height, tip) in beats {
            if height == self.consensus_height && *tip == self.consensus_hash {
                synced.push(k);
            } else {
                behind.push((k, height));
            }
        }
        (synced, behind)
    }

    /// Agreement in basis points of the heartbeats received (7500 = 75%).
    pub fn agreement_bps(&self) -> u32 {
        // At most 10 000: the agreeing heartbeats are among those received.
        (self.agreement_count * 10_000)
            .checked_div(self.total_nodes)
            .unwrap_or(0) as u32
    }
}

/// The deployed `check_chain_agreement` (S1.3). The deployed code took the
/// maximum over a `HashMap`, so ties went to whichever state the hash map
/// yielded last; here ties go to the higher height, then the smaller hash.
pub fn chain_agreement<'a>(states: impl IntoIterator<Item = (u64, &'a Hash32)>) -> ChainAgreement {
    let mut counts: BTreeMap<(u64, Hash32), usize> = BTreeMap::new();
    let mut total = 0;
    for (h, tip) in states {
        *counts.entry((h, *tip)).or_default() += 1;
        total += 1;
    }
    let best = counts
        .iter()
        .max_by(|(ka, ca), (kb, cb)| ca.cmp(cb).then(ka.0.cmp(&kb.0)).then(kb.1.cmp(&ka.1)));
    match best {
        None => ChainAgreement {
            consensus_height: 0,
            consensus_hash: Hash32::ZERO,
            agreement_count: 0,
            total_nodes: 0,
        },
        Some(((h, tip), c)) => ChainAgreement {
            consensus_height: *h,
            consensus_hash: *tip,
            agreement_count: *c,
            total_nodes: total,
        },
    }
}

/// The deployed `check_sync_complete` (S1.2, S1.3).
pub fn seed_sync_complete(expected_nodes: usize, agreement: &ChainAgreement) -> bool {
    if agreement.total_nodes < (expected_nodes * 2).div_ceil(3) {
        return false;
    }
    agreement.agreement_count >= (agreement.total_nodes * 2).div_ceil(3)
}

/// The reference decision (R1.3): members whose heartbeat holds `own`
/// `(height, tip)` weigh at least `quorum`.
pub fn weighted_sync_complete<'a>(
    own: (u64, &Hash32),
    states: impl IntoIterator<Item = (u64, &'a Hash32, u64)>,
    quorum: u64,
) -> bool {
    let agreeing: u64 = states
        .into_iter()
        .filter(|(h, tip, _)| *h == own.0 && *tip == own.1)
        .map(|(_, _, w)| w)
        .sum();
    agreeing >= quorum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: u8) -> Hash32 {
        Hash32([b; 32])
    }

    // Seed tests `test_chain_agreement_unanimous` and `..._majority`.
    #[test]
    fn seed_chain_agreement() {
        let abc = h(1);
        let a = chain_agreement([(100, &abc), (100, &abc), (100, &abc)]);
        assert_eq!(
            (a.consensus_height, a.consensus_hash, a.agreement_count),
            (100, abc, 3)
        );
        assert_eq!(a.agreement_bps(), 10_000);
        let xyz = h(2);
        let a = chain_agreement([(100, &abc), (100, &abc), (100, &abc), (99, &xyz)]);
        assert_eq!(
            (a.consensus_height, a.agreement_count, a.total_nodes),
            (100, 3, 4)
        );
        assert_eq!(a.agreement_bps(), 7_500);
    }

    // Seed tests `test_sync_complete_with_threshold` and
    // `test_sync_incomplete_below_threshold`.
    #[test]
    fn seed_sync_thresholds() {
        let abc = h(1);
        assert!(seed_sync_complete(4, &chain_agreement([(100, &abc); 3])));
        assert!(!seed_sync_complete(4, &chain_agreement([(100, &abc); 2])));
        // Agreement is measured against the heartbeats received: 3 of 9
        // expected nodes respond... not enough; 6 of 9 respond with 4 agreeing
        // = 4/9 of the network, yet "synchronized".
        let xyz = h(2);
        let six = [
            (100, &abc),
            (100, &abc),
            (100, &abc),
            (100, &abc),
            (99, &xyz),
            (98, &xyz),
        ];
        assert!(seed_sync_complete(9, &chain_agreement(six)));
    }

    // Seed tests `test_get_synchronized_nodes` / `..._desynchronized_nodes`:
    // the nodes holding the agreed state, and the others.
    #[test]
    fn seed_synchronized_and_desynchronized_nodes() {
        let abc = h(1);
        let xyz = h(2);
        let beats = [("node1", 100, abc), ("node2", 100, abc), ("node3", 99, xyz)];
        let a = chain_agreement(beats.iter().map(|(_, ht, t)| (*ht, t)));
        let (synced, desynced) = a.partition(beats.iter().map(|(n, ht, t)| (*n, *ht, t)));
        assert_eq!(synced, vec!["node1", "node2"]);
        assert_eq!(desynced, vec![("node3", 99)]);
    }

    #[test]
    fn ties_are_broken_deterministically() {
        let (a, b) = (h(1), h(2));
        let x = chain_agreement([(5, &b), (5, &a)]);
        let y = chain_agreement([(5, &a), (5, &b)]);
        assert_eq!(x, y);
        assert_eq!(x.consensus_hash, a);
        assert_eq!(chain_agreement([(4, &a), (5, &b)]).consensus_height, 5);
    }

    #[test]
    fn weighted_sync_counts_weight_holding_the_own_tip() {
        let (a, b) = (h(1), h(2));
        let states = [(9, &a, 5), (9, &a, 4), (9, &b, 6)];
        assert!(!weighted_sync_complete((9, &a), states, 10));
        assert!(weighted_sync_complete((9, &a), states, 9));
        assert!(!weighted_sync_complete((8, &a), states, 1));
    }
}
