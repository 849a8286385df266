//! Phase 6: counting votes.
//!
//! [`seed_check_consensus`] is the deployed tally bit for bit (S6.1-S6.3):
//! every received vote, self-declared weights, threshold over the received
//! total, block hashes ignored.
//!
//! [`Tally`] is the reference count of one step of one attempt (R5.3-R5.6),
//! as a node keeps it: one slot per registered voter (canonical position)
//! holding the index of the block it voted for, weights from the registry,
//! running sums per block so that deciding is O(1), duplicates and
//! equivocations told apart. [`tally_signed`] is the whole path from signed
//! votes to a decision, and [`tally_verified`] counts votes already verified
//! and resolved to `(position, block index)`. All three count through one
//! private core, so the benches of the two functions measure the counting a
//! node does: that is why those two, which no node calls, live here (in
//! `sets`), and not in the benches, which cannot reach the core.

use crate::primitives::Hash32;
use crate::vote::Vote;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::{Hash, Hasher};

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

/// The counting core of [`Tally`], [`tally_signed`] and [`tally_verified`]
/// (R5.4-R5.6): one `u32` per voter and a weight per block index.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Count {
    /// Per canonical position: 0, or 1 + the index in `sums` of the block
    /// voted for.
    slots: Vec<u32>,
    /// Blocks with their weights, by block index.
    sums: Vec<(Hash32, u64)>,
}

impl Count {
    fn new(members: usize) -> Self {
        Count {
            slots: vec![0; members],
            sums: Vec::new(),
        }
    }

    /// The index of `block` in `sums`, if it is there.
    fn index_of(&self, block: &Hash32) -> Option<usize> {
        self.sums.iter().position(|(h, _)| h == block)
    }

    /// The index of `block`, added with weight 0 if new.
    fn index_or_add(&mut self, block: &Hash32) -> usize {
        self.index_of(block).unwrap_or_else(|| {
            crate::node::grow_exact(&mut self.sums);
            self.sums.push((*block, 0));
            self.sums.len() - 1
        })
    }

    /// The block index of the vote of the voter at `pos`, if it voted.
    /// Panics if `pos` is not a position.
    fn vote_of(&self, pos: usize) -> Option<usize> {
        self.slots[pos].checked_sub(1).map(|b| b as usize)
    }

    /// Offers the vote of the voter at `pos` for block index `b` with
    /// `weight`: the voter's first vote counts (R5.5) and the block's new
    /// weight is returned; a later one changes nothing and the block index
    /// of the first is returned (R5.6). Panics if `pos` or `b` is out of
    /// range.
    #[inline]
    fn offer(&mut self, pos: usize, b: usize, weight: u64) -> Result<u64, usize> {
        let sum = &mut self.sums[b].1;
        let slot = &mut self.slots[pos];
        if *slot != 0 {
            return Err(*slot as usize - 1);
        }
        // b < sums.len() < u32::MAX (checked by `tally_verified`, else at
        // most one block per voter), so the tag is not 0.
        *slot = b as u32 + 1;
        *sum += weight;
        Ok(*sum)
    }

    /// Offers the vote of the voter at `pos` for `block`, as [`Count::offer`]
    /// does for a block index; a new block gets the next index only if the
    /// vote counts (R5.4).
    #[inline]
    fn offer_hash(&mut self, pos: usize, block: &Hash32, weight: u64) -> Result<u64, usize> {
        if let Some(first) = self.vote_of(pos) {
            return Err(first);
        }
        let b = self.index_or_add(block);
        self.offer(pos, b, weight)
    }

    /// Counts `votes`, `(position, block index)` in arrival order, with the
    /// registry weights: the loop of [`tally_verified`]. A position outside
    /// the registry is refused like a repeated voter. Returns the number
    /// refused.
    fn offer_all(&mut self, weights: &[u64], votes: &[(u32, u32)]) -> usize {
        // As long as `slots`: one bounds check per vote covers both.
        let weights = &weights[..self.slots.len()];
        let mut refused = 0;
        for &(pos, b) in votes {
            let pos = pos as usize;
            match weights.get(pos) {
                Some(&w) if self.offer(pos, b as usize, w).is_ok() => {}
                _ => refused += 1,
            }
        }
        refused
    }

    /// The first block by index with weight `threshold` or more.
    fn quorum_block(&self, threshold: u64) -> Option<Hash32> {
        self.sums
            .iter()
            .find(|(_, w)| *w >= threshold)
            .map(|(h, _)| *h)
    }

    fn best_weight(&self) -> u64 {
        self.sums.iter().map(|(_, w)| *w).max().unwrap_or(0)
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

/// The votes of one step of one attempt (R5.4-R5.6), each with a payload
/// (what a node keeps to rebuild the signed vote).
///
/// Blocks are indexed in first-vote order. Per voter it holds two `u32`s
/// (its block index and where its payload is), and the payloads of counted
/// votes in arrival order. Equality, hashing and `Debug` are those of the
/// per-position list of `Option<(block, payload)>` followed by the blocks
/// with their weights in first-vote order: two tallies are equal iff they
/// hold the same votes and the same sums, whatever the arrival order of the
/// votes of different blocks.
#[derive(Clone)]
pub struct Tally<P> {
    count: Count,
    /// Per canonical position with a vote: its index in `payloads`.
    payload_at: Vec<u32>,
    payloads: Vec<P>,
}

impl<P> Tally<P> {
    /// An empty tally for `members` voters.
    pub fn new(members: usize) -> Self {
        Tally {
            count: Count::new(members),
            payload_at: vec![0; members],
            payloads: Vec::new(),
        }
    }

    /// Offers the vote of the voter at canonical position `pos`. Panics if
    /// `pos` is not a position.
    pub fn insert(&mut self, pos: usize, block: Hash32, weight: u64, payload: P) -> Insert {
        match self.count.offer_hash(pos, &block, weight) {
            Ok(block_weight) => {
                // One payload per counted voter, and the node's tallies have
                // at most 2^24 voters (R2.1).
                self.payload_at[pos] = self.payloads.len() as u32;
                crate::node::grow_exact(&mut self.payloads);
                self.payloads.push(payload);
                Insert::Counted { block_weight }
            }
            Err(first) => match self.count.sums[first].0 {
                first if first == block => Insert::Duplicate,
                first => Insert::Equivocation { first },
            },
        }
    }

    /// The vote of the voter at `pos`, if any: its block and payload.
    /// Panics if `pos` is not a position.
    pub fn get(&self, pos: usize) -> Option<(&Hash32, &P)> {
        let b = self.count.vote_of(pos)?;
        Some((
            &self.count.sums[b].0,
            &self.payloads[self.payload_at[pos] as usize],
        ))
    }

    /// Weight counted for `block`.
    pub fn weight_of(&self, block: &Hash32) -> u64 {
        self.count
            .index_of(block)
            .map_or(0, |b| self.count.sums[b].1)
    }

    /// Weight counted for any block.
    pub fn total_weight(&self) -> u64 {
        self.count.sums.iter().map(|(_, w)| w).sum()
    }

    /// The block whose weight reaches `threshold`, if any, the first in
    /// first-vote order. With a quorum threshold and honest voters holding
    /// more than a third of the weight there is at most one (R5.3).
    pub fn quorum_block(&self, threshold: u64) -> Option<Hash32> {
        self.count.quorum_block(threshold)
    }

    /// Blocks with their weights, in first-vote order.
    pub fn sums(&self) -> &[(Hash32, u64)] {
        &self.count.sums
    }

    /// Canonical positions and payloads of the votes for `block`, in
    /// canonical order.
    pub fn votes_for<'a>(&'a self, block: &'a Hash32) -> impl Iterator<Item = (usize, &'a P)> + 'a {
        // Tag 0 (no vote) matches no block.
        let tag = self.count.index_of(block).map_or(0, |b| b as u32 + 1);
        self.count
            .slots
            .iter()
            .enumerate()
            .filter(move |(_, s)| tag != 0 && **s == tag)
            .map(|(pos, _)| (pos, &self.payloads[self.payload_at[pos] as usize]))
    }

    /// Number of voters counted.
    pub fn count(&self) -> usize {
        self.payloads.len()
    }

    /// Number of voters (registry size).
    fn members(&self) -> usize {
        self.count.slots.len()
    }
}

impl<P: PartialEq> PartialEq for Tally<P> {
    fn eq(&self, other: &Self) -> bool {
        // Same sums in first-vote order and same slots: the same blocks per
        // position; then the payloads, position by position.
        self.count == other.count
            && (0..self.members()).all(|pos| match (self.get(pos), other.get(pos)) {
                (Some((_, p)), Some((_, q))) => p == q,
                _ => true,
            })
    }
}

impl<P: Eq> Eq for Tally<P> {}

impl<P: Hash> Hash for Tally<P> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As derived for `{ slots: Vec<Option<(Hash32, P)>>, sums }`.
        self.members().hash(state);
        for pos in 0..self.members() {
            self.get(pos).hash(state);
        }
        self.count.sums.hash(state);
    }
}

impl<P: fmt::Debug> fmt::Debug for Tally<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Slots<'a, P>(&'a Tally<P>);
        impl<P: fmt::Debug> fmt::Debug for Slots<'_, P> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries((0..self.0.members()).map(|pos| self.0.get(pos)))
                    .finish()
            }
        }
        f.debug_struct("Tally")
            .field("slots", &Slots(self))
            .field("sums", &self.count.sums)
            .finish()
    }
}

mod sets;
pub use sets::{tally_signed, tally_verified, TallyOutcome, Verification};

#[cfg(test)]
mod tests;
