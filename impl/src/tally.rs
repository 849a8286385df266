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
//! signed votes to a decision, as the benches measure it, and
//! [`tally_verified`] counts votes already verified and resolved to canonical
//! positions. Both share one counting core that gives the outcome a
//! [`Tally`] would.

use crate::crypto::Signature;
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
/// step, verify its signature with the key the registry decoded once, count
/// it once with its registry weight, and decide against the quorum of the
/// registry's total weight (R5.2-R5.6).
pub fn tally_signed<'v>(
    registry: &Registry,
    weights: &HeightWeights,
    height: u64,
    attempt: u32,
    step: Step,
    votes: &'v [SignedVote],
    verification: Verification,
) -> TallyOutcome {
    let mut refused = 0;
    // Resolve and filter first, so a batch covers only plausible votes.
    let mut candidates: Vec<(usize, &'v SignedVote)> = Vec::with_capacity(votes.len());
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
    let valid = match verification {
        Verification::Trusted => None,
        Verification::Each => Some(
            candidates
                .iter()
                .map(|&(pos, sv)| registry.verify_at(pos, &sv.vote.signing_bytes(), &sv.signature))
                .collect(),
        ),
        Verification::Batch => Some(verify_batch(registry, &candidates)),
    };
    let mut count = Count::new(registry.len(), weights);
    let resolved = |&(pos, sv): &(usize, &'v SignedVote)| (pos, &sv.vote.block_hash);
    match valid {
        None => count.offer(candidates.iter().map(resolved)),
        Some(valid) => {
            let ok = candidates.iter().zip(&valid).filter(|(_, ok)| **ok);
            count.offer(ok.map(|(c, _)| resolved(c)));
            refused += valid.iter().filter(|ok| !**ok).count();
        }
    }
    count.refused += refused;
    count.outcome(weights.quorum())
}

/// One batch over the candidates; on failure each on its own to find the bad
/// ones.
fn verify_batch(registry: &Registry, candidates: &[(usize, &SignedVote)]) -> Vec<bool> {
    let msgs: Vec<Vec<u8>> = candidates
        .iter()
        .map(|(_, sv)| sv.vote.signing_bytes())
        .collect();
    let items: Vec<(usize, &[u8], &Signature)> = candidates
        .iter()
        .zip(&msgs)
        .map(|(&(pos, sv), m)| (pos, m.as_slice(), &sv.signature))
        .collect();
    if registry.verify_batch_at(&items) {
        vec![true; items.len()]
    } else {
        items
            .iter()
            .map(|&(pos, m, s)| registry.verify_at(pos, m, s))
            .collect()
    }
}

/// The tally of votes already verified and resolved to canonical positions,
/// as `(position, block)` in arrival order: what a node holds once each vote
/// passed its signature check on receipt (R5.4-R5.6). Each voter counts once
/// with its weight from `weights`; a later vote of the same voter is refused,
/// whether a duplicate or an equivocation, and so is a position outside the
/// registry. The same outcome as [`tally_signed`] on the same votes.
pub fn tally_verified(weights: &HeightWeights, votes: &[(u32, Hash32)]) -> TallyOutcome {
    let mut count = Count::new(weights.as_slice().len(), weights);
    count.offer(votes.iter().map(|(pos, block)| (*pos as usize, block)));
    count.outcome(weights.quorum())
}

/// The counting core of [`tally_signed`] and [`tally_verified`]: a [`Tally`]
/// without payloads, with one `u32` per voter (0, or 1 + the index in `sums`
/// of the block it voted for), so that 100,000 voters clear 400 kB rather
/// than 3.3 MB, and with the running weight of the block voted for last kept
/// in a register, so that a run of votes for one block (the usual case) costs
/// a slot check, one hash comparison and one addition per vote.
struct Count<'w> {
    weights: &'w [u64],
    slots: Vec<u32>,
    /// Blocks in first-vote order with their weights (R5.4).
    sums: Vec<(Hash32, u64)>,
    counted: usize,
    refused: usize,
}

impl<'w> Count<'w> {
    fn new(members: usize, weights: &'w HeightWeights) -> Self {
        Count {
            weights: weights.as_slice(),
            slots: vec![0; members],
            sums: Vec::new(),
            counted: 0,
            refused: 0,
        }
    }

    /// Offers the votes of the voters at canonical positions `pos`, in
    /// order: the first vote of a voter counts with its registry weight
    /// (R5.5), a later one is refused, duplicate or equivocation alike (R5.6),
    /// and so is a position outside the registry.
    fn offer<'v>(&mut self, votes: impl IntoIterator<Item = (usize, &'v Hash32)>) {
        let Count {
            weights,
            slots,
            sums,
            counted,
            refused,
        } = self;
        // `current` is 0 or 1 + the index in `sums` of `current_hash`, whose
        // weight is `current_weight` rather than the one in `sums`.
        let (mut current, mut current_hash, mut current_weight) = (0u32, Hash32::ZERO, 0u64);
        let (mut n_counted, mut n_refused) = (0usize, 0usize);
        let mut votes = votes.into_iter();
        let mut pending = None;
        while let Some((pos, block)) = pending.take().or_else(|| votes.next()) {
            let Some(slot) = slots.get_mut(pos) else {
                n_refused += 1;
                continue;
            };
            if *slot != 0 {
                n_refused += 1;
                continue;
            }
            if current == 0 || *block != current_hash {
                (current, current_weight) = switch_block(sums, current, current_weight, block);
                current_hash = *block;
            }
            *slot = current;
            current_weight += weights[pos];
            n_counted += 1;
            let run = count_run(slots, weights, current, &current_hash, &mut votes);
            current_weight += run.weight;
            n_counted += run.counted;
            n_refused += run.refused;
            pending = run.pending;
        }
        if current > 0 {
            sums[current as usize - 1].1 = current_weight;
        }
        *counted += n_counted;
        *refused += n_refused;
    }

    fn outcome(self, quorum: u64) -> TallyOutcome {
        TallyOutcome {
            // The first block in first-vote order to reach the quorum, as
            // `Tally::quorum_block` (R5.3).
            decided: self
                .sums
                .iter()
                .find(|(_, w)| *w >= quorum)
                .map(|(h, _)| *h),
            best_weight: self.sums.iter().map(|(_, w)| *w).max().unwrap_or(0),
            counted: self.counted,
            refused: self.refused,
        }
    }
}

/// What [`count_run`] counted.
struct Run<'v> {
    weight: u64,
    counted: usize,
    refused: usize,
    /// The vote for another block that ended the run.
    pending: Option<(usize, &'v Hash32)>,
}

/// Counts the votes for `block` (tagged `current` in the slots) up to the
/// first counted-to-be vote for another block, which it leaves pending: the
/// hot loop of [`Count::offer`], on its own so that its state stays in
/// registers.
#[inline(never)]
fn count_run<'v>(
    slots: &mut [u32],
    weights: &[u64],
    current: u32,
    block: &Hash32,
    votes: &mut impl Iterator<Item = (usize, &'v Hash32)>,
) -> Run<'v> {
    let block = *block;
    let (mut weight, mut counted, mut refused) = (0u64, 0usize, 0usize);
    for (pos, b) in votes {
        let Some(slot) = slots.get_mut(pos) else {
            refused += 1;
            continue;
        };
        if *slot != 0 {
            refused += 1;
            continue;
        }
        if *b != block {
            return Run {
                weight,
                counted,
                refused,
                pending: Some((pos, b)),
            };
        }
        *slot = current;
        weight += weights[pos];
        counted += 1;
    }
    Run {
        weight,
        counted,
        refused,
        pending: None,
    }
}

/// Stores the running weight of the current block (1 + index `current`, if
/// not 0) and makes `block` current: its tag and weight so far.
#[cold]
fn switch_block(
    sums: &mut Vec<(Hash32, u64)>,
    current: u32,
    current_weight: u64,
    block: &Hash32,
) -> (u32, u64) {
    if current > 0 {
        sums[current as usize - 1].1 = current_weight;
    }
    let i = match sums.iter().position(|(h, _)| h == block) {
        Some(i) => i,
        None => {
            sums.push((*block, 0));
            sums.len() - 1
        }
    };
    (i as u32 + 1, sums[i].1)
}

/// The voter named by a vote, resolved to its canonical position.
pub fn voter_position(registry: &Registry, voter: &NodeId) -> Option<usize> {
    registry.position_of(voter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{PublicKey, SignatureScheme};

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
    /// `tally_signed` as first written: a `Tally` per call, every vote's
    /// signing bytes, keys decoded by the scheme. The fast paths must agree
    /// with it on every input.
    fn tally_signed_as_written(
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
        let mut candidates: Vec<(usize, &SignedVote, Vec<u8>)> = Vec::new();
        for sv in votes {
            let v = &sv.vote;
            match registry.position_of(&v.voter) {
                Some(pos)
                    if v.height == height
                        && v.attempt == attempt
                        && v.step == step
                        && v.approve =>
                {
                    candidates.push((pos, sv, v.signing_bytes()));
                }
                _ => refused += 1,
            }
        }
        let key = |pos: usize| -> &PublicKey { &registry.at_position(pos).public_key };
        let scheme = registry.scheme();
        let valid: Vec<bool> = match verification {
            Verification::Trusted => vec![true; candidates.len()],
            Verification::Each => candidates
                .iter()
                .map(|(pos, sv, b)| scheme.verify(key(*pos), b, &sv.signature))
                .collect(),
            Verification::Batch => {
                let items: Vec<(&PublicKey, &[u8], &Signature)> = candidates
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

    /// Signed votes of a 12-member network: honest votes for two blocks in
    /// varying proportions, plus duplicates, equivocations, strangers, wrong
    /// height/attempt/step, votes against, and (if `bad_sig`) a forged one.
    fn mixed_votes(
        scheme: SignatureScheme,
        seed: u64,
        bad_sig: bool,
    ) -> (std::sync::Arc<Registry>, HeightWeights, Vec<SignedVote>) {
        use crate::crypto::Keypair;
        use crate::registry::Tier;
        let date = crate::primitives::Date::from_ymd(2025, 6, 1).unwrap();
        let tiers = [
            Tier::Gold,
            Tier::Free,
            Tier::Silver,
            Tier::Bronze,
            Tier::Free,
        ];
        let (registry, keys) = crate::sim::test_network(12, &tiers, scheme, date).unwrap();
        let weights = HeightWeights::reference(&registry, date.add_days(400).unwrap());
        let mut rng = crate::sim::SplitMix64::new(seed);
        let (a, b) = (Hash32([0xa; 32]), Hash32([0xb; 32]));
        let sign = |k: &Keypair, vote: Vote| SignedVote {
            signature: k.sign(&vote.signing_bytes()),
            vote,
        };
        let mut votes = Vec::new();
        for _ in 0..30 {
            let i = rng.range(0, 11) as usize;
            let mut vote = Vote {
                height: 7,
                attempt: 1,
                step: Step::Commit,
                voter: registry.member(i).node_id.clone(),
                block_hash: if rng.range(0, 9) < seed % 10 { b } else { a },
                approve: true,
                weight: 1,
            };
            match rng.range(0, 19) {
                0 => vote.height = 8,
                1 => vote.attempt = 0,
                2 => vote.step = Step::Approve,
                3 => vote.approve = false,
                4 => vote.voter = NodeId::new("stranger").unwrap(),
                _ => {}
            }
            votes.push(sign(&keys[i], vote));
        }
        if bad_sig {
            let i = rng.range(0, votes.len() as u64 - 1) as usize;
            votes[i].signature.0[5] ^= 1;
        }
        (registry, weights, votes)
    }

    #[test]
    fn fast_paths_agree_with_the_tally_as_first_written() {
        let (mut decided, mut undecided, mut forged) = (0, 0, 0);
        for scheme in [SignatureScheme::Ed25519, SignatureScheme::Symbolic] {
            for seed in 0..40 {
                let (registry, weights, votes) = mixed_votes(scheme, seed, seed % 3 == 0);
                let tally = |verification| {
                    tally_signed(
                        &registry,
                        &weights,
                        7,
                        1,
                        Step::Commit,
                        &votes,
                        verification,
                    )
                };
                let trusted = tally(Verification::Trusted);
                for verification in [
                    Verification::Each,
                    Verification::Batch,
                    Verification::Trusted,
                ] {
                    let want = tally_signed_as_written(
                        &registry,
                        &weights,
                        7,
                        1,
                        Step::Commit,
                        &votes,
                        verification,
                    );
                    let got = tally(verification);
                    assert_eq!(got, want, "{scheme:?} seed {seed} {verification:?}");
                    match want.decided {
                        Some(_) => decided += 1,
                        None => undecided += 1,
                    }
                    if want.counted < trusted.counted {
                        forged += 1;
                    }
                }
                // The pre-resolved path on the votes that pass the checks
                // before verification counts what the trusted tally counts,
                // and refuses the rest of them the same way.
                let resolved: Vec<(u32, Hash32)> = votes
                    .iter()
                    .filter(|sv| {
                        let v = &sv.vote;
                        v.height == 7 && v.attempt == 1 && v.step == Step::Commit && v.approve
                    })
                    .filter_map(|sv| {
                        registry
                            .position_of(&sv.vote.voter)
                            .map(|p| (p as u32, sv.vote.block_hash))
                    })
                    .collect();
                let verified = tally_verified(&weights, &resolved);
                assert_eq!(verified.decided, trusted.decided);
                assert_eq!(verified.best_weight, trusted.best_weight);
                assert_eq!(verified.counted, trusted.counted);
                assert_eq!(
                    verified.refused,
                    trusted.refused - (votes.len() - resolved.len())
                );
            }
        }
        // The inputs exercise both outcomes and the batch's fallback.
        assert!(
            decided > 0 && undecided > 0 && forged > 0,
            "{decided} {undecided} {forged}"
        );
    }

    #[test]
    fn verified_tally_weighs_blocks_apart_and_refuses_repeats_and_strangers() {
        let weights = HeightWeights::from_weights(vec![5, 1, 4, 2, 3]);
        assert_eq!(weights.quorum(), 10);
        let (a, b, c) = (Hash32([1; 32]), Hash32([2; 32]), Hash32([3; 32]));
        let votes = [
            (0, a),
            (1, b),
            (0, a),
            (2, a),
            (1, a),
            (9, a),
            (3, c),
            (4, b),
        ];
        let o = tally_verified(&weights, &votes);
        assert_eq!(o.counted, 5);
        assert_eq!(o.refused, 3); // duplicate, equivocation, stranger
        assert_eq!(o.best_weight, 9);
        assert_eq!(o.decided, None);
        let votes = [(1, b), (0, a), (2, a), (3, c), (4, a)];
        let o = tally_verified(&weights, &votes);
        assert_eq!(o.decided, Some(a));
        assert_eq!(o.best_weight, 12);
        assert_eq!((o.counted, o.refused), (5, 0));
        assert_eq!(
            tally_verified(&weights, &[]),
            TallyOutcome {
                decided: None,
                best_weight: 0,
                counted: 0,
                refused: 0
            }
        );
        // With zero total weight the quorum is 0 and any block decides.
        let zero = HeightWeights::from_weights(vec![0, 0]);
        assert_eq!(tally_verified(&zero, &[(1, c)]).decided, Some(c));
    }
}
