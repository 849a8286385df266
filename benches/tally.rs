//! The vote tally of one step of one attempt (phase 6, R5.2-R5.6): verify,
//! deduplicate, tell equivocations apart, weigh, decide. Side by side with
//! the seed rules' tally (S6.2, S6.3) and with two floors, the bare
//! cryptography and a bare sum of the weights.
//!
//! For 100, 1,000, 10,000 and 100,000 signed votes, one from each member of
//! a masternode set of the same size, all for one block, in a shuffled
//! arrival order, one criterion group `tally_<n>` with:
//!
//! - `reference_each`, `reference_batch`: `tally_signed` with one
//!   `verify_strict` per vote, or one batch: resolving every voter id,
//!   checking height/attempt/step, computing the signing bytes, verifying
//!   with the keys the registry decoded once, counting and deciding.
//! - `registry`: building the registry of the height (validating and
//!   decoding every key), done once per masternode set, not per tally.
//! - `reference_trusted`: `tally_signed` with `Verification::Trusted`
//!   (resolves voter ids and checks the vote fields, no signatures).
//! - `verified`: `tally_verified` on the votes as `(canonical position,
//!   block hash)`, what a node holds after checking each vote on receipt.
//! - `seed`: `seed_check_consensus` on the same votes.
//! - `floor_verify_batch`: `ed25519_dalek::verify_batch` over the same
//!   signing bytes, signatures and decoded keys, built outside the loop.
//! - `floor_sum`: `weights.iter().sum()` over the votes' registry weights.
//!
//! Throughput is declared in elements (votes). At the end the bench prints a
//! Markdown table of this run's estimates (see `benches/REPORT.md`).
//!
//! Quick check: `cargo bench --bench tally -- --quick --noplot`.

#![forbid(unsafe_code)]

mod report;

use criterion::{Criterion, Throughput};
use ed25519_dalek::VerifyingKey;
use std::cell::OnceCell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use time_consensus::crypto::SignatureScheme;
use time_consensus::election::HeightWeights;
use time_consensus::registry::{Registry, Tier};
use time_consensus::sim::{test_network, SplitMix64};
use time_consensus::tally::{
    seed_check_consensus, tally_signed, tally_verified, TallyOutcome, Verification,
};
use time_consensus::vote::{SignedVote, Step, Vote};
use time_consensus::{Date, Hash32};

const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];
const HEIGHT: u64 = 1_000;
const ATTEMPT: u32 = 1;
const STEP: Step = Step::Commit;

struct Fixture {
    registry: Arc<Registry>,
    weights: HeightWeights,
    votes: Vec<SignedVote>,
    /// The votes as `(canonical position, block)`.
    resolved: Vec<(u32, Hash32)>,
    /// The floors' inputs, in vote order.
    msgs: Vec<Vec<u8>>,
    sigs: Vec<ed25519_dalek::Signature>,
    keys: Vec<VerifyingKey>,
    vote_weights: Vec<u64>,
    block: Hash32,
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
                SignedVote {
                    signature: keypairs[i].sign(&vote.signing_bytes()),
                    vote,
                }
            })
            .collect();
        let position = |sv: &SignedVote| registry.position_of(&sv.vote.voter).expect("member");
        let resolved = votes
            .iter()
            .map(|sv| (position(sv) as u32, sv.vote.block_hash))
            .collect();
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

    fn floor_verify_batch(&self) -> bool {
        let msgs: Vec<&[u8]> = self.msgs.iter().map(Vec::as_slice).collect();
        ed25519_dalek::verify_batch(black_box(&msgs), &self.sigs, &self.keys).is_ok()
    }
}

fn bench(c: &mut Criterion) {
    for n in SIZES {
        // Built on first use, so that a filter skipping a size skips its
        // (for 100,000 members, several seconds of) key derivation.
        let cell = OnceCell::new();
        let fixture = || {
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
                f
            })
        };
        let mut g = c.benchmark_group(format!("tally_{n}"));
        g.throughput(Throughput::Elements(n as u64));

        // Signature verification: milliseconds to seconds per iteration.
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(if n >= 10_000 { 2 } else { 3 }));
        g.bench_function("floor_verify_batch", |b| {
            let f = fixture();
            b.iter(|| f.floor_verify_batch())
        });

        g.bench_function("reference_batch", |b| {
            let f = fixture();
            b.iter(|| f.signed(Verification::Batch))
        });
        g.bench_function("registry", |b| {
            let f = fixture();
            let members = f.registry.members().to_vec();
            b.iter(|| Registry::new(SignatureScheme::Ed25519, black_box(members.clone())).unwrap())
        });
        g.bench_function("reference_each", |b| {
            let f = fixture();
            b.iter(|| f.signed(Verification::Each))
        });
        // Counting only: nanoseconds to milliseconds per iteration.
        g.sample_size(if n >= 100_000 { 30 } else { 50 });
        g.measurement_time(Duration::from_secs(2));
        g.bench_function("verified", |b| {
            let f = fixture();
            f.check(&tally_verified(&f.weights, &f.resolved));
            b.iter(|| tally_verified(&f.weights, black_box(&f.resolved)))
        });
        g.bench_function("floor_sum", |b| {
            let f = fixture();
            b.iter(|| black_box(&f.vote_weights).iter().sum::<u64>())
        });
        g.bench_function("reference_trusted", |b| {
            let f = fixture();
            b.iter(|| f.signed(Verification::Trusted))
        });
        g.bench_function("seed", |b| {
            let f = fixture();
            assert!(seed_check_consensus(f.votes.iter().map(|sv| &sv.vote)).has_consensus);
            b.iter(|| seed_check_consensus(black_box(&f.votes).iter().map(|sv| &sv.vote)))
        });
        g.finish();
    }
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
            ("registry", verify),
            ("reference_trusted", sum),
            ("verified", sum),
        ],
        "seed",
    );
}
