//! The vote tally of one step of one attempt (phase 6, R5.2-R5.6): verify,
//! deduplicate, tell equivocations apart, weigh, decide. Side by side with
//! the seed rules' tally (S6.2, S6.3) and with floors: the bare cryptography
//! and bare sums of the weights.
//!
//! For 100, 1,000, 10,000 and 100,000 signed votes, one from each member of
//! a masternode set of the same size, all for one block, in a shuffled
//! arrival order, one criterion group per bench, `tally_<bench>`, with one
//! `BenchmarkId` per n (criterion's HTML report plots each against n):
//!
//! - `reference_each`, `reference_batch`: `tally_signed` with one
//!   `verify_strict` per vote, or one batch (`Registry::bad_votes`):
//!   resolving every voter id, checking height/attempt/step, computing the
//!   signing bytes, verifying with the keys the registry decoded once,
//!   counting and deciding.
//! - `certificate`: `verify_certificate` on a certificate of the same n
//!   votes in canonical order, as a node checks every certificate it
//!   receives (one batch through `Registry::bad_votes`, as `reference_batch`).
//! - `registry`: building the registry of the height (validating and
//!   decoding every key), done once per masternode set, not per tally.
//! - `reference_trusted`: `tally_signed` with `Verification::Trusted`
//!   (resolves voter ids and checks the vote fields, no signatures).
//! - `verified`: `tally_verified` on the votes as `(canonical position,
//!   block index)` with a table of blocks, what a node holds after checking
//!   each vote on receipt and looking its block up once.
//! - `verified_split`: the same on the split input: votes alternating
//!   between two blocks, and one vote in a hundred replaced by a repeat of an
//!   earlier voter (half duplicates, half equivocations).
//! - `node_tally`, `node_tally_split`: what `record_vote` does to count each
//!   vote: `Tally::new`, then per vote the registry weight and
//!   `Tally::insert` with the block hash and a `VoteRecord`, on the one-block
//!   and the split input.
//! - `seed`: `seed_check_consensus` on the same votes.
//! - `floor_verify_batch`: `ed25519_dalek::verify_batch` over the same
//!   signing bytes, signatures and decoded keys, built outside the loop.
//! - `floor_sum`: `weights.iter().sum()` over the votes' registry weights,
//!   already in vote order.
//! - `floor_gather`: the same sum with each weight read through the voter's
//!   position (`weights[pos]`) in arrival order, as any count by position
//!   must read it.
//!
//! Throughput is declared in elements (n votes; the split input has n votes
//! too). At the end the bench prints a Markdown table of this run's
//! estimates (see `benches/REPORT.md`).
//!
//! Quick check: `cargo bench --bench tally -- --quick`.

#![forbid(unsafe_code)]

mod report;

use criterion::{Bencher, BenchmarkId, Criterion, Throughput};
use ed25519_dalek::VerifyingKey;
use std::cell::OnceCell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use time_consensus::crypto::SignatureScheme;
use time_consensus::election::HeightWeights;
use time_consensus::message::verify_certificate;
use time_consensus::node::VoteRecord;
use time_consensus::registry::{Registry, Tier};
use time_consensus::sim::{test_network, SplitMix64};
use time_consensus::tally::{
    seed_check_consensus, tally_signed, tally_verified, Insert, Tally, TallyOutcome, Verification,
};
use time_consensus::vote::{Certificate, SignedVote, Step, Vote};
use time_consensus::{Date, Hash32};

const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];
const HEIGHT: u64 = 1_000;
const ATTEMPT: u32 = 1;
const STEP: Step = Step::Commit;

struct Fixture {
    registry: Arc<Registry>,
    weights: HeightWeights,
    votes: Vec<SignedVote>,
    /// The votes as `(canonical position, block index)` into `blocks`.
    resolved: Vec<(u32, u32)>,
    /// The split input, the same way.
    split: Vec<(u32, u32)>,
    blocks: Vec<Hash32>,
    /// The votes as `record_vote` passes them to `Tally::insert` (the
    /// weight aside), one-block and split.
    records: Vec<(usize, Hash32, VoteRecord)>,
    split_records: Vec<(usize, Hash32, VoteRecord)>,
    /// The votes as a certificate, in canonical order.
    certificate: Certificate,
    /// The floors' inputs, in vote order.
    msgs: Vec<Vec<u8>>,
    sigs: Vec<ed25519_dalek::Signature>,
    keys: Vec<VerifyingKey>,
    vote_weights: Vec<u64>,
    block: Hash32,
}

/// The split input from the one-block votes `(position, block index)`:
/// every second vote for block 1, and every hundredth replaced by a repeat of
/// the voter fifty votes earlier, for the same block (a duplicate) or, every
/// other time, the other one (an equivocation).
fn split(votes: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut split: Vec<(u32, u32)> = votes
        .iter()
        .enumerate()
        .map(|(k, &(pos, _))| (pos, k as u32 % 2))
        .collect();
    for (j, k) in (99..votes.len()).step_by(100).enumerate() {
        let (pos, block) = split[k - 50];
        split[k] = (pos, block ^ (j as u32 % 2));
    }
    split
}

impl Fixture {
    fn new(n: usize) -> Self {
        let registered_at = Date::from_ymd(2025, 1, 1).expect("date");
        let chain_date = Date::from_ymd(2025, 11, 1).expect("date");
        let tiers = [Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free];
        let (registry, keypairs) =
            test_network(n, &tiers, SignatureScheme::Ed25519, registered_at).expect("registry");
        let weights = HeightWeights::reference(&registry, chain_date);
        let block = Hash32([0xb1; 32]);
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = SplitMix64::new(n as u64);
        for i in (1..n).rev() {
            order.swap(i, rng.range(0, i as u64) as usize);
        }
        let votes: Vec<SignedVote> = order
            .iter()
            .map(|&i| {
                let vote = Vote {
                    height: HEIGHT,
                    attempt: ATTEMPT,
                    step: STEP,
                    voter: registry.member(i).node_id.clone(),
                    block_hash: block,
                    approve: true,
                    weight: 8,
                };
                vote.sign(&keypairs[i])
            })
            .collect();
        let position = |sv: &SignedVote| registry.position_of(&sv.vote.voter).expect("member");
        let resolved: Vec<(u32, u32)> = votes.iter().map(|sv| (position(sv) as u32, 0)).collect();
        let split = split(&resolved);
        let blocks = vec![block, Hash32([0xb2; 32])];
        let mut votes_by_position: Vec<SignedVote> = votes.clone();
        votes_by_position.sort_by_key(position);
        let records = |votes: &[(u32, u32)]| -> Vec<(usize, Hash32, VoteRecord)> {
            votes
                .iter()
                .map(|&(pos, b)| {
                    let sv = &votes_by_position[pos as usize];
                    let rec = VoteRecord {
                        approve: true,
                        declared: sv.vote.weight,
                        signature: sv.signature,
                    };
                    (pos as usize, blocks[b as usize], rec)
                })
                .collect()
        };
        let (records, split_records) = (records(&resolved), records(&split));
        let certificate = Certificate {
            height: HEIGHT,
            attempt: ATTEMPT,
            step: STEP,
            block_hash: block,
            votes: votes_by_position,
        };
        let msgs = votes.iter().map(|sv| sv.vote.signing_bytes()).collect();
        let sigs = votes
            .iter()
            .map(|sv| ed25519_dalek::Signature::from_bytes(&sv.signature.0))
            .collect();
        let keys = votes
            .iter()
            .map(|sv| {
                let key = &registry.at_position(position(sv)).public_key;
                VerifyingKey::from_bytes(&key.0).expect("key")
            })
            .collect();
        let vote_weights = votes
            .iter()
            .map(|sv| weights.weight(position(sv)))
            .collect();
        Fixture {
            registry,
            weights,
            votes,
            resolved,
            split,
            blocks,
            records,
            split_records,
            certificate,
            msgs,
            sigs,
            keys,
            vote_weights,
            block,
        }
    }

    fn check(&self, outcome: &TallyOutcome) {
        assert_eq!(outcome.decided, Some(self.block));
        assert_eq!(outcome.counted, self.votes.len());
        assert_eq!(outcome.refused, 0);
        assert_eq!(outcome.best_weight, self.weights.total());
    }

    fn signed(&self, verification: Verification) -> TallyOutcome {
        tally_signed(
            &self.registry,
            &self.weights,
            HEIGHT,
            ATTEMPT,
            STEP,
            black_box(&self.votes),
            verification,
        )
    }

    fn certificate(&self) -> u64 {
        let cert = black_box(&self.certificate);
        verify_certificate(&self.registry, &self.weights, cert, |_, _| false).expect("valid")
    }

    /// The counting of `record_vote`: per vote the registry weight, then
    /// `Tally::insert`, whose answer it tells apart.
    fn node_tally(&self, records: &[(usize, Hash32, VoteRecord)]) -> (Tally<VoteRecord>, usize) {
        let mut tally = Tally::new(self.registry.len());
        let mut refused = 0;
        for &(pos, block, rec) in records {
            let weight = self.weights.weight(pos);
            match tally.insert(pos, block, weight, rec) {
                Insert::Counted { .. } => {}
                Insert::Duplicate | Insert::Equivocation { .. } => refused += 1,
            }
        }
        (tally, refused)
    }

    /// Checks the split input's outcome on both counting paths.
    fn check_split(&self) {
        let n = self.votes.len();
        let o = tally_verified(&self.weights, &self.blocks, &self.split);
        let (t, refused) = self.node_tally(&self.split_records);
        assert_eq!((o.counted, o.refused), (n - n / 100, n / 100));
        assert_eq!(refused, o.refused);
        assert_eq!(t.count(), o.counted);
        assert_eq!(t.quorum_block(self.weights.quorum()), o.decided);
        assert_eq!(o.decided, None);
        let best = t.sums().iter().map(|s| s.1).max();
        assert_eq!(best, Some(o.best_weight));
    }

    fn floor_verify_batch(&self) -> bool {
        let msgs: Vec<&[u8]> = self.msgs.iter().map(Vec::as_slice).collect();
        ed25519_dalek::verify_batch(black_box(&msgs), &self.sigs, &self.keys).is_ok()
    }
}

/// How long each sample of a bench may take: `Verify` benches check
/// signatures (milliseconds to seconds per iteration), `Count` benches only
/// count (nanoseconds to milliseconds).
#[derive(Clone, Copy)]
enum Kind {
    Verify,
    Count,
}

/// One criterion group `tally_<name>` with one `BenchmarkId` per size, so
/// that criterion's report plots time per vote against n.
fn group(
    c: &mut Criterion,
    fixtures: &[OnceCell<Fixture>],
    name: &str,
    kind: Kind,
    mut body: impl FnMut(&mut Bencher<'_>, &Fixture),
) {
    let mut g = c.benchmark_group(format!("tally_{name}"));
    g.warm_up_time(Duration::from_millis(500));
    for (i, n) in SIZES.into_iter().enumerate() {
        g.throughput(Throughput::Elements(n as u64));
        match kind {
            Kind::Verify => {
                g.sample_size(10);
                g.measurement_time(Duration::from_secs(if n >= 10_000 { 2 } else { 3 }));
            }
            Kind::Count => {
                g.sample_size(if n >= 100_000 { 30 } else { 50 });
                g.measurement_time(Duration::from_secs(2));
            }
        }
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            body(b, fixture(&fixtures[i], n))
        });
    }
    g.finish();
}

/// The fixture of size `n`, built (and checked) on first use, so that a
/// filter skipping a size skips its (for 100,000 members, several seconds
/// of) key derivation.
fn fixture(cell: &OnceCell<Fixture>, n: usize) -> &Fixture {
    cell.get_or_init(|| {
        let f = Fixture::new(n);
        for v in [
            Verification::Each,
            Verification::Batch,
            Verification::Trusted,
        ] {
            f.check(&f.signed(v));
        }
        assert!(f.floor_verify_batch());
        assert_eq!(f.certificate(), f.weights.total());
        let (t, _) = f.node_tally(&f.records);
        assert_eq!(t.count(), n);
        assert_eq!(t.quorum_block(f.weights.quorum()), Some(f.block));
        f.check(&tally_verified(&f.weights, &f.blocks, &f.resolved));
        f.check_split();
        assert!(seed_check_consensus(f.votes.iter().map(|sv| &sv.vote)).has_consensus);
        f
    })
}

fn bench(c: &mut Criterion) {
    let fx: Vec<OnceCell<Fixture>> = SIZES.iter().map(|_| OnceCell::new()).collect();
    let fx = fx.as_slice();
    use Kind::{Count, Verify};
    group(c, fx, "floor_verify_batch", Verify, |b, f| {
        b.iter(|| f.floor_verify_batch())
    });
    group(c, fx, "reference_batch", Verify, |b, f| {
        b.iter(|| f.signed(Verification::Batch))
    });
    group(c, fx, "certificate", Verify, |b, f| {
        b.iter(|| f.certificate())
    });
    group(c, fx, "registry", Verify, |b, f| {
        let members = f.registry.members().to_vec();
        b.iter(|| Registry::new(SignatureScheme::Ed25519, black_box(members.clone())).unwrap())
    });
    group(c, fx, "reference_each", Verify, |b, f| {
        b.iter(|| f.signed(Verification::Each))
    });
    group(c, fx, "verified", Count, |b, f| {
        b.iter(|| tally_verified(&f.weights, &f.blocks, black_box(&f.resolved)))
    });
    group(c, fx, "verified_split", Count, |b, f| {
        b.iter(|| tally_verified(&f.weights, &f.blocks, black_box(&f.split)))
    });
    group(c, fx, "node_tally", Count, |b, f| {
        b.iter(|| f.node_tally(black_box(&f.records)))
    });
    group(c, fx, "node_tally_split", Count, |b, f| {
        b.iter(|| f.node_tally(black_box(&f.split_records)))
    });
    group(c, fx, "floor_sum", Count, |b, f| {
        b.iter(|| black_box(&f.vote_weights).iter().sum::<u64>())
    });
    group(c, fx, "floor_gather", Count, |b, f| {
        let weights = f.weights.as_slice();
        b.iter(|| {
            let votes = black_box(&f.resolved);
            votes
                .iter()
                .map(|&(pos, _)| weights[pos as usize])
                .sum::<u64>()
        })
    });
    group(c, fx, "reference_trusted", Count, |b, f| {
        b.iter(|| f.signed(Verification::Trusted))
    });
    group(c, fx, "seed", Count, |b, f| {
        b.iter(|| seed_check_consensus(black_box(&f.votes).iter().map(|sv| &sv.vote)))
    });
}

fn main() {
    let start = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    let verify = "floor_verify_batch";
    let sum = "floor_sum";
    report::print(
        start,
        "tally",
        "vote",
        &SIZES,
        &[
            ("reference_each", verify),
            ("reference_batch", verify),
            ("certificate", verify),
            ("registry", verify),
            ("reference_trusted", sum),
            ("verified", sum),
            ("verified_split", sum),
            ("node_tally", sum),
            ("node_tally_split", sum),
            ("floor_gather", sum),
        ],
        "seed",
    );
}
