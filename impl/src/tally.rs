//! Phase 6: counting votes.
//!
//! [`seed_check_consensus`] is the deployed tally bit for bit (S6.1-S6.3):
//! every received vote, self-declared weights, threshold over the received
//! total, block hashes ignored.
//!
//! [`Tally`] is the reference count of one step of one attempt (R5.3-R5.6):
//! one slot per registered voter (canonical position), weights from the
//! registry, running sums per block so that deciding is O(1), duplicates and
//! equivocations told apart. [`tally_signed`] is the whole hot path from
//! signed votes to a decision, as the benches measure it.

use crate::crypto::{PublicKey, SignatureScheme};
use crate::election::HeightWeights;
use crate::primitives::{Hash32, NodeId};
use crate::registry::Registry;
use crate::vote::{SignedVote, Step, Vote};
use serde::{Deserialize, Serialize};

/// The deployed `check_consensus` result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedConsensus {
    /// `approval_weight >= ceil(2 * total_weight / 3)`.
    pub has_consensus: bool,
    /// Sum of declared weights of approving votes.
    pub approval_weight: u64,
    /// Sum of declared weights of all votes received.
    pub total_weight: u64,
}

/// The deployed tally (S6.2, S6.3). Sums wrap as in the deployed release
/// build rather than panic.
pub fn seed_check_consensus<'a>(votes: impl IntoIterator<Item = &'a Vote>) -> SeedConsensus {
    let mut total_weight = 0u64;
    let mut approval_weight = 0u64;
    for v in votes {
        total_weight = total_weight.wrapping_add(v.weight);
        if v.approve {
            approval_weight = approval_weight.wrapping_add(v.weight);
        }
    }
    let threshold = total_weight.wrapping_mul(2).div_ceil(3);
    SeedConsensus {
        has_consensus: approval_weight >= threshold,
        approval_weight,
        total_weight,
    }
}

/// What happened to a vote offered to a [`Tally`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    /// Counted; the block's weight is now this.
    Counted {
        /// Weight for the voted block after this vote.
        block_weight: u64,
    },
    /// The voter already voted for this block: nothing changes.
    Duplicate,
    /// The voter already voted for another block: the first vote stands and
    /// the pair is evidence of equivocation (R5.6).
    Equivocation {
        /// The block of the vote that stands.
        first: Hash32,
    },
}

/// The votes of one step of one attempt (R5.4-R5.6).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tally<P> {
    slots: Vec<Option<(Hash32, P)>>,
    sums: Vec<(Hash32, u64)>,
}

impl<P> Tally<P> {
    /// An empty tally for `members` voters.
    pub fn new(members: usize) -> Self {
        Tally {
            slots: (0..members).map(|_| None).collect(),
            sums: Vec::new(),
        }
    }

    /// Offers the vote of the voter at canonical position `pos`.
    pub fn insert(&mut self, pos: usize, block: Hash32, weight: u64, payload: P) -> Insert {
        let slot = &mut self.slots[pos];
        if let Some((first, _)) = slot {
            return if *first == block {
                Insert::Duplicate
            } else {
                Insert::Equivocation { first: *first }
            };
        }
        *slot = Some((block, payload));
        let block_weight = match self.sums.iter_mut().find(|(h, _)| *h == block) {
            Some((_, w)) => {
                *w += weight;
                *w
            }
            None => {
                self.sums.push((block, weight));
                weight
            }
        };
        Insert::Counted { block_weight }
    }

    /// The vote of the voter at `pos`, if any.
    pub fn get(&self, pos: usize) -> Option<&(Hash32, P)> {
        self.slots[pos].as_ref()
    }

    /// Weight counted for `block`.
    pub fn weight_of(&self, block: &Hash32) -> u64 {
        self.sums
            .iter()
            .find(|(h, _)| h == block)
            .map_or(0, |(_, w)| *w)
    }

    /// Weight counted for any block.
    pub fn total_weight(&self) -> u64 {
        self.sums.iter().map(|(_, w)| w).sum()
    }

    /// The block whose weight reaches `threshold`, if any. With a quorum
    /// threshold and honest voters holding more than a third of the weight
    /// there is at most one (R5.3).
    pub fn quorum_block(&self, threshold: u64) -> Option<Hash32> {
        self.sums
            .iter()
            .find(|(_, w)| *w >= threshold)
            .map(|(h, _)| *h)
    }

    /// Blocks with their weights, in first-vote order.
    pub fn sums(&self) -> &[(Hash32, u64)] {
        &self.sums
    }

    /// Canonical positions and payloads of the votes for `block`, in
    /// canonical order.
    pub fn votes_for<'a>(&'a self, block: &'a Hash32) -> impl Iterator<Item = (usize, &'a P)> + 'a {
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, s)| match s {
                Some((h, p)) if h == block => Some((i, p)),
                _ => None,
            })
    }

    /// Number of voters counted.
    pub fn count(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }
}

/// How [`tally_signed`] checks signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// One `verify_strict` per vote.
    Each,
    /// One batch over all votes; on failure, each vote on its own to find the
    /// bad ones.
    Batch,
    /// The votes were verified already (for example on receipt).
    Trusted,
}

/// The outcome of [`tally_signed`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyOutcome {
    /// Block with a quorum, if any.
    pub decided: Option<Hash32>,
    /// Weight counted for the heaviest block.
    pub best_weight: u64,
    /// Votes counted.
    pub counted: usize,
    /// Votes refused (wrong height/attempt/step, stranger, bad signature,
    /// duplicate, equivocation).
    pub refused: usize,
}

/// The reference tally of one step of one attempt from signed votes: resolve
/// each voter in the registry, check the vote is for this height, attempt and
/// step, verify its signature, count it once with its registry weight, and
/// decide against the quorum of the registry's total weight (R5.2-R5.6).
pub fn tally_signed(
    registry: &Registry,
    weights: &HeightWeights,
    height: u64,
    attempt: u32,
    step: Step,
    votes: &[SignedVote],
    verification: Verification,
) -> TallyOutcome {
    let mut tally: Tally<()> = Tally::new(registry.len());
    let mut refused = 0;
    // Resolve and filter first, so a batch covers only plausible votes.
    let mut candidates: Vec<(usize, &SignedVote, Vec<u8>)> = Vec::with_capacity(votes.len());
    for sv in votes {
        let v = &sv.vote;
        match registry.position_of(&v.voter) {
            Some(pos)
                if v.height == height && v.attempt == attempt && v.step == step && v.approve =>
            {
                let bytes = if verification == Verification::Trusted {
                    Vec::new()
                } else {
                    v.signing_bytes()
                };
                candidates.push((pos, sv, bytes));
            }
            _ => refused += 1,
        }
    }
    let key = |pos: usize| -> &PublicKey { &registry.at_position(pos).public_key };
    let scheme: SignatureScheme = registry.scheme();
    let valid: Vec<bool> = match verification {
        Verification::Trusted => vec![true; candidates.len()],
        Verification::Each => candidates
            .iter()
            .map(|(pos, sv, b)| scheme.verify(key(*pos), b, &sv.signature))
            .collect(),
        Verification::Batch => {
            let items: Vec<(&PublicKey, &[u8], &crate::crypto::Signature)> = candidates
                .iter()
                .map(|(pos, sv, b)| (key(*pos), b.as_slice(), &sv.signature))
                .collect();
            if scheme.verify_batch(&items) {
                vec![true; candidates.len()]
            } else {
                items
                    .iter()
                    .map(|(k, b, s)| scheme.verify(k, b, s))
                    .collect()
            }
        }
    };
    let mut counted = 0;
    for ((pos, sv, _), ok) in candidates.iter().zip(valid) {
        if !ok {
            refused += 1;
            continue;
        }
        match tally.insert(*pos, sv.vote.block_hash, weights.weight(*pos), ()) {
            Insert::Counted { .. } => counted += 1,
            _ => refused += 1,
        }
    }
    TallyOutcome {
        decided: tally.quorum_block(weights.quorum()),
        best_weight: tally.sums().iter().map(|(_, w)| *w).max().unwrap_or(0),
        counted,
        refused,
    }
}

/// The voter named by a vote, resolved to its canonical position.
pub fn voter_position(registry: &Registry, voter: &NodeId) -> Option<usize> {
    registry.position_of(voter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(voter: &str, approve: bool, weight: u64, hash: u8) -> Vote {
        Vote {
            height: 1,
            attempt: 0,
            step: Step::Approve,
            voter: NodeId::new(voter).unwrap(),
            block_hash: Hash32([hash; 32]),
            approve,
            weight,
        }
    }

    // Seed test `test_consensus_calculation`.
    #[test]
    fn seed_consensus_calculation() {
        let votes = [
            vote("node1", true, 8, 1),
            vote("node2", true, 4, 1),
            vote("node3", false, 2, 1),
        ];
        let c = seed_check_consensus(&votes);
        assert_eq!(c.total_weight, 14);
        assert_eq!(c.approval_weight, 12);
        assert!(c.has_consensus); // 12 >= ceil(28 / 3) = 10
    }

    #[test]
    fn seed_flaws_one_and_two_in_the_tally_itself() {
        // Flaw 1: a single approving vote is consensus.
        assert!(seed_check_consensus(&[vote("a", true, 1, 1)]).has_consensus);
        // Flaw 2: a self-declared weight outvotes everyone, and votes for
        // different blocks are pooled.
        let votes = [
            vote("a", false, 8, 1),
            vote("b", false, 8, 1),
            vote("byz", true, 1_000, 2),
        ];
        assert!(seed_check_consensus(&votes).has_consensus);
        // Zero votes: 0 >= 0.
        assert!(seed_check_consensus(&[]).has_consensus);
        // Wrapping like the release build instead of panicking.
        let c = seed_check_consensus(&[vote("a", true, u64::MAX, 1), vote("b", true, 2, 1)]);
        assert_eq!(c.total_weight, 1);
    }

    #[test]
    fn tally_counts_once_and_tells_duplicates_from_equivocations() {
        let mut t: Tally<u8> = Tally::new(3);
        let (a, b) = (Hash32([1; 32]), Hash32([2; 32]));
        assert_eq!(t.insert(0, a, 5, 0), Insert::Counted { block_weight: 5 });
        assert_eq!(t.insert(0, a, 5, 9), Insert::Duplicate);
        assert_eq!(t.insert(0, b, 5, 9), Insert::Equivocation { first: a });
        assert_eq!(t.insert(1, b, 3, 1), Insert::Counted { block_weight: 3 });
        assert_eq!(t.insert(2, a, 4, 2), Insert::Counted { block_weight: 9 });
        assert_eq!(t.weight_of(&a), 9);
        assert_eq!(t.total_weight(), 12);
        assert_eq!(t.quorum_block(8), Some(a));
        assert_eq!(t.quorum_block(10), None);
        assert_eq!(
            t.votes_for(&a).map(|(i, p)| (i, *p)).collect::<Vec<_>>(),
            vec![(0, 0), (2, 2)]
        );
        assert_eq!(t.get(0), Some(&(a, 0)));
        assert_eq!(t.count(), 3);
    }
}
