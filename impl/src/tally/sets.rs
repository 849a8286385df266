//! Tallies of a whole set of votes at once, through [`Tally`](super::Tally)'s private
//! counting core: the benches' measure of what a node's count costs, from
//! signed votes ([`tally_signed`], with each signature checking strategy) or
//! from votes already verified ([`tally_verified`]).

use super::Count;
use crate::election::HeightWeights;
use crate::primitives::Hash32;
use crate::registry::Registry;
use crate::vote::{SignedVote, Step};

/// How [`tally_signed`] checks signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// One `verify_strict` per vote.
    Each,
    /// One batch over all votes; on failure, each vote on its own to find the
    /// bad ones ([`Registry::bad_votes`]).
    Batch,
    /// The votes were verified already (for example on receipt).
    Trusted,
}

/// The outcome of [`tally_signed`] and [`tally_verified`].
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
/// step, verify its signature with the key the registry decoded once, count
/// it once with its registry weight, and decide against the quorum of the
/// registry's total weight (R5.2-R5.6).
pub fn tally_signed(
    registry: &Registry,
    weights: &HeightWeights,
    height: u64,
    attempt: u32,
    step: Step,
    votes: &[SignedVote],
    verification: Verification,
) -> TallyOutcome {
    let mut refused = 0;
    // Resolve and filter first, so a batch covers only plausible votes.
    let mut candidates: Vec<(usize, &SignedVote)> = Vec::with_capacity(votes.len());
    for sv in votes {
        let v = &sv.vote;
        match registry.position_of(&v.voter) {
            Some(pos)
                if v.height == height && v.attempt == attempt && v.step == step && v.approve =>
            {
                candidates.push((pos, sv));
            }
            _ => refused += 1,
        }
    }
    let mut valid = vec![true; candidates.len()];
    let bad: Vec<usize> = match verification {
        Verification::Trusted => Vec::new(),
        Verification::Each => (0..candidates.len())
            .filter(|&i| !registry.verify_vote(candidates[i].0, candidates[i].1))
            .collect(),
        Verification::Batch => registry.bad_votes(&candidates).collect(),
    };
    for i in bad {
        valid[i] = false;
    }
    // Counted as `Tally::insert` counts: a voter that already voted costs no
    // hash comparison, and blocks are indexed in first-vote order.
    let mut count = Count::new(registry.len());
    for (&(pos, sv), ok) in candidates.iter().zip(valid) {
        if !ok
            || count
                .offer_hash(pos, &sv.vote.block_hash, weights.weight(pos))
                .is_err()
        {
            refused += 1;
        }
    }
    let quorum = weights.quorum();
    TallyOutcome {
        // The first block in first-vote order to reach it, as in `Tally`
        // (R5.3).
        decided: count.quorum_block(quorum),
        best_weight: count.best_weight(),
        counted: votes.len() - refused,
        refused,
    }
}

/// The tally of votes already verified and resolved: `votes` are
/// `(canonical position, index in blocks)` in arrival order, what a node
/// holds once each vote passed its signature check on receipt and its block
/// hash was looked up once (R5.4-R5.6). Each voter counts once with its
/// weight from `weights`; a later vote of the same voter is refused, whether
/// a duplicate or an equivocation, and so is a position outside the
/// registry. `blocks` must not repeat a hash. The same outcome as
/// [`tally_signed`] on the same votes. Panics if a block index is not an
/// index of `blocks`.
pub fn tally_verified(
    weights: &HeightWeights,
    blocks: &[Hash32],
    votes: &[(u32, u32)],
) -> TallyOutcome {
    assert!(blocks.len() < u32::MAX as usize, "too many blocks");
    debug_assert!(
        blocks
            .iter()
            .enumerate()
            .all(|(i, h)| !blocks[..i].contains(h)),
        "a block hash is repeated"
    );
    let mut count = Count::new(weights.as_slice().len());
    count.sums = blocks.iter().map(|h| (*h, 0)).collect();
    let refused = count.offer_all(weights.as_slice(), votes);
    let quorum = weights.quorum();
    // The sums are of disjoint voters, so with a total weight T > 0 at most
    // one block reaches ceil(2T/3) > T/2, whatever the order of `blocks`.
    // With T = 0 every voted block does and the first vote counted decides,
    // as in `Tally` (R5.3).
    let n = count.slots.len();
    let decided = match quorum {
        0 => votes
            .iter()
            .find(|(pos, _)| (*pos as usize) < n)
            .map(|(_, b)| blocks[*b as usize]),
        _ => count.quorum_block(quorum),
    };
    TallyOutcome {
        decided,
        best_weight: count.best_weight(),
        counted: votes.len() - refused,
        refused,
    }
}
