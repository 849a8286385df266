//! Unit tests of [`super`].

use super::*;
use crate::crypto::{PublicKey, Signature, SignatureScheme};
use crate::election::HeightWeights;
use crate::primitives::NodeId;
use crate::registry::Registry;
use crate::vote::{SignedVote, Step};
use proptest::prelude::*;
use std::collections::hash_map::DefaultHasher;

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
    assert_eq!(t.get(0), Some((&a, &0)));
    assert_eq!(t.count(), 3);
}

#[test]
#[should_panic]
fn tally_panics_on_a_position_outside_the_registry() {
    // As before: callers resolve voters in the registry first.
    Tally::new(3).insert(3, Hash32::ZERO, 1, ());
}

/// `Tally` as first written: one `Option<(block, payload)>` per voter and
/// sums found by linear search. The compact `Tally` must behave, compare,
/// hash and print as this does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct TallyAsWritten<P> {
    slots: Vec<Option<(Hash32, P)>>,
    sums: Vec<(Hash32, u64)>,
}

impl<P> TallyAsWritten<P> {
    fn new(members: usize) -> Self {
        TallyAsWritten {
            slots: (0..members).map(|_| None).collect(),
            sums: Vec::new(),
        }
    }

    fn insert(&mut self, pos: usize, block: Hash32, weight: u64, payload: P) -> Insert {
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

    fn quorum_block(&self, threshold: u64) -> Option<Hash32> {
        self.sums
            .iter()
            .find(|(_, w)| *w >= threshold)
            .map(|(h, _)| *h)
    }
}

type AsWritten<P> = TallyAsWritten<P>;
type Compact<P> = Tally<P>;

fn hash_of(x: &impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    x.hash(&mut h);
    h.finish()
}

/// A vote offered to a tally: position, block (one of a few), weight,
/// payload.
type Offer = (usize, u8, u64, u8);

fn both(members: usize, offers: &[Offer]) -> (AsWritten<u8>, Compact<u8>, Vec<Insert>) {
    let (mut old, mut new) = (AsWritten::new(members), Compact::new(members));
    let mut inserts = Vec::new();
    for &(pos, block, weight, payload) in offers {
        let block = Hash32([block; 32]);
        let want = old.insert(pos, block, weight, payload);
        assert_eq!(new.insert(pos, block, weight, payload), want);
        inserts.push(want);
    }
    (old, new, inserts)
}

fn offers(members: usize) -> impl Strategy<Value = Vec<Offer>> {
    prop::collection::vec((0..members, 0..3u8, 0..4u64, 0..2u8), 0..24)
}

proptest! {
    /// Votes split between blocks, duplicates, equivocations: the same
    /// answers, contents, equality, hash and `Debug` as first written.
    #[test]
    fn tally_behaves_as_first_written(
        first in offers(6),
        second in offers(6),
        order in any::<u64>(),
    ) {
        let (old, new, _) = both(6, &first);
        for pos in 0..6 {
            let want = old.slots[pos].as_ref().map(|(h, p)| (h, p));
            prop_assert_eq!(new.get(pos), want);
        }
        prop_assert_eq!(new.sums(), &old.sums[..]);
        prop_assert_eq!(new.count(), old.slots.iter().flatten().count());
        prop_assert_eq!(new.total_weight(), old.sums.iter().map(|s| s.1).sum::<u64>());
        for block in 0..4u8 {
            let h = Hash32([block; 32]);
            let w = old.sums.iter().find(|s| s.0 == h).map_or(0, |s| s.1);
            prop_assert_eq!(new.weight_of(&h), w);
            let votes: Vec<(usize, u8)> = old.slots.iter().enumerate()
                .filter_map(|(i, s)| s.filter(|s| s.0 == h).map(|s| (i, s.1)))
                .collect();
            prop_assert_eq!(new.votes_for(&h).map(|(i, p)| (i, *p)).collect::<Vec<_>>(), votes);
        }
        for threshold in 0..8 {
            prop_assert_eq!(new.quorum_block(threshold), old.quorum_block(threshold));
        }
        prop_assert_eq!(hash_of(&new), hash_of(&old));
        let renamed = |s: String| s.replacen("TallyAsWritten", "Tally", 1);
        prop_assert_eq!(format!("{new:?}"), renamed(format!("{old:?}")));
        prop_assert_eq!(format!("{new:#?}"), renamed(format!("{old:#?}")));
        // Equality against another tally, a reordering of the same votes
        // (often equal) and a different one (rarely).
        let mut shuffled = first.clone();
        let mut rng = crate::sim::SplitMix64::new(order);
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.range(0, i as u64) as usize);
        }
        for other in [&first, &shuffled, &second] {
            let (old2, new2, _) = both(6, other);
            prop_assert_eq!(new == new2, old == old2);
            prop_assert_eq!(hash_of(&new2), hash_of(&old2));
        }
        let (old3, new3, _) = both(7, &first);
        prop_assert_eq!(hash_of(&new3), hash_of(&old3));
        prop_assert!(new != new3);
    }

    /// `tally_verified` on `(position, block index)` counts what `Tally`
    /// counts, refuses the rest, and decides the same, with any order of
    /// the block table, positions outside the registry, and zero
    /// weights.
    #[test]
    fn verified_tally_agrees_with_tally(
        weights in prop::collection::vec(0..4u64, 1..8),
        votes in prop::collection::vec((0..10u32, 0..3u8), 0..24),
        table_order in any::<u64>(),
    ) {
        let n = weights.len();
        let weights = HeightWeights::from_weights(weights).unwrap();
        let mut blocks: Vec<Hash32> = (0..3).map(|b| Hash32([b; 32])).collect();
        let mut rng = crate::sim::SplitMix64::new(table_order);
        for i in (1..blocks.len()).rev() {
            blocks.swap(i, rng.range(0, i as u64) as usize);
        }
        let hash = |b: u8| Hash32([b; 32]);
        let index = |b: u8| blocks.iter().position(|h| *h == hash(b)).unwrap() as u32;
        let resolved: Vec<(u32, u32)> = votes.iter().map(|&(p, b)| (p, index(b))).collect();
        let got = tally_verified(&weights, &blocks, &resolved);
        let (mut old, mut new) = (AsWritten::new(n), Compact::new(n));
        let mut counted = 0;
        for &(pos, b) in &votes {
            let pos = pos as usize;
            if pos >= n {
                continue;
            }
            let w = weights.weight(pos);
            let want = old.insert(pos, hash(b), w, ());
            prop_assert_eq!(new.insert(pos, hash(b), w, ()), want);
            counted += usize::from(matches!(want, Insert::Counted { .. }));
        }
        let want = TallyOutcome {
            decided: old.quorum_block(weights.quorum()),
            best_weight: old.sums.iter().map(|s| s.1).max().unwrap_or(0),
            counted,
            refused: votes.len() - counted,
        };
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(new.quorum_block(weights.quorum()), want.decided);
    }
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
    let mut tally: AsWritten<()> = AsWritten::new(registry.len());
    let mut refused = 0;
    let mut candidates: Vec<(usize, &SignedVote, Vec<u8>)> = Vec::new();
    for sv in votes {
        let v = &sv.vote;
        match registry.position_of(&v.voter) {
            Some(pos)
                if v.height == height && v.attempt == attempt && v.step == step && v.approve =>
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
        best_weight: tally.sums.iter().map(|(_, w)| *w).max().unwrap_or(0),
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
    let sign = |k: &Keypair, vote: Vote| vote.sign(k);
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
            let mut blocks: Vec<Hash32> = Vec::new();
            let resolved: Vec<(u32, u32)> = votes
                .iter()
                .filter(|sv| {
                    let v = &sv.vote;
                    v.height == 7 && v.attempt == 1 && v.step == Step::Commit && v.approve
                })
                .filter_map(|sv| {
                    let pos = registry.position_of(&sv.vote.voter)?;
                    let h = sv.vote.block_hash;
                    let b = blocks.iter().position(|x| *x == h).unwrap_or_else(|| {
                        blocks.push(h);
                        blocks.len() - 1
                    });
                    Some((pos as u32, b as u32))
                })
                .collect();
            let verified = tally_verified(&weights, &blocks, &resolved);
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
    let weights = HeightWeights::from_weights(vec![5, 1, 4, 2, 3]).unwrap();
    assert_eq!(weights.quorum(), 10);
    let (a, b, c) = (Hash32([1; 32]), Hash32([2; 32]), Hash32([3; 32]));
    let blocks = [a, b, c];
    let votes = [
        (0, 0),
        (1, 1),
        (0, 0),
        (2, 0),
        (1, 0),
        (9, 0),
        (3, 2),
        (4, 1),
    ];
    let o = tally_verified(&weights, &blocks, &votes);
    assert_eq!(o.counted, 5);
    assert_eq!(o.refused, 3); // duplicate, equivocation, stranger
    assert_eq!(o.best_weight, 9);
    assert_eq!(o.decided, None);
    let votes = [(1, 1), (0, 0), (2, 0), (3, 2), (4, 0)];
    let o = tally_verified(&weights, &blocks, &votes);
    assert_eq!(o.decided, Some(a));
    assert_eq!(o.best_weight, 12);
    assert_eq!((o.counted, o.refused), (5, 0));
    assert_eq!(
        tally_verified(&weights, &blocks, &[]),
        TallyOutcome {
            decided: None,
            best_weight: 0,
            counted: 0,
            refused: 0
        }
    );
    // With zero total weight the quorum is 0 and any block decides: the
    // one of the first vote counted, whatever the table order.
    let zero = HeightWeights::from_weights(vec![0, 0]).unwrap();
    assert_eq!(tally_verified(&zero, &blocks, &[(1, 2)]).decided, Some(c));
    assert_eq!(
        tally_verified(&zero, &blocks, &[(5, 0), (1, 2), (0, 1)]).decided,
        Some(c)
    );
}

#[test]
fn verified_tally_of_split_votes_with_repeats() {
    // Votes alternating between two blocks, then repeats: every second
    // one the same block again (duplicate), the others the other block
    // (equivocation), and positions outside the registry.
    let n = 1_000;
    let weights = HeightWeights::from_weights((0..n as u64).map(|i| 1 + i % 8).collect()).unwrap();
    let (a, b) = (Hash32([1; 32]), Hash32([2; 32]));
    let mut votes: Vec<(u32, u32)> = (0..n as u32).map(|p| (p, p % 2)).collect();
    votes.extend((0..100u32).map(|k| (k * 7, (k * 7 + k) % 2)));
    votes.extend([(n as u32, 0), (u32::MAX, 1)]);
    let o = tally_verified(&weights, &[a, b], &votes);
    let mut t: Compact<()> = Compact::new(n);
    for &(pos, blk) in votes.iter().filter(|v| (v.0 as usize) < n) {
        let h = [a, b][blk as usize];
        t.insert(pos as usize, h, weights.weight(pos as usize), ());
    }
    assert_eq!((o.counted, o.refused), (n, 102));
    assert_eq!(o.best_weight, t.sums().iter().map(|s| s.1).max().unwrap());
    assert_eq!(t.sums().len(), 2);
    assert_eq!(o.decided, None);
    // The block table in the other order changes nothing.
    let swapped: Vec<(u32, u32)> = votes.iter().map(|&(p, b)| (p, 1 - b)).collect();
    assert_eq!(tally_verified(&weights, &[b, a], &swapped), o);
}
