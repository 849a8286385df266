//! Leader election of one height plus two rotations (phase 2, R2.2-R2.7),
//! side by side with the seed rules' election (S2.1-S2.6) and with the floor:
//! one prefix-sum pass over the same weights.
//!
//! For 100, 1,000, 10,000 and 100,000 masternodes, one criterion group per
//! bench, `election_<bench>`, with one `BenchmarkId` per n (criterion's HTML
//! report plots each against n):
//!
//! - `reference`: `Election::new` (the O(n) prefix pass of the height) and
//!   the leaders of attempts 0, 1 and 2 from one `LeaderSchedule` (the
//!   rotations exclude every earlier leader and must not redo O(n) work);
//!   weights given, as a node computes them once per height for the tally
//!   and the election alike.
//! - `reference_with_weights`: the same, plus `HeightWeights::reference` from the
//!   registry and the chain date (R2.2, R2.3).
//! - `rotations`: only the three leaders on an election already built, to
//!   show that attempts cost O(log n), not O(n).
//! - `seed`: `seed::elect_leader` and `seed::rotate_leader` for rotations 1
//!   and 2 (f32 weights on the local date, list order, as deployed).
//! - `floor`: one prefix-sum pass over the same weights into a buffer
//!   allocated outside the timing loop.
//!
//! Throughput is declared in elements (masternodes). At the end the bench
//! prints a Markdown table of this run's estimates (see `benches/REPORT.md`).
//!
//! Quick check: `cargo bench --bench election -- --quick`.

#![forbid(unsafe_code)]

mod report;

use criterion::{Bencher, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, SystemTime};
use time_consensus::crypto::SignatureScheme;
use time_consensus::election::{seed, Election, HeightWeights, LeaderSchedule};
use time_consensus::registry::{Registry, Tier};
use time_consensus::sim::test_network;
use time_consensus::{Date, Hash32};

const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];
const HEIGHT: u64 = 1_000;

struct Fixture {
    registry: std::sync::Arc<Registry>,
    chain_date: Date,
    weights: HeightWeights,
    previous_hash: Hash32,
}

fn fixture(n: usize) -> Fixture {
    let registered_at = Date::from_ymd(2025, 1, 1).expect("date");
    let chain_date = Date::from_ymd(2025, 11, 1).expect("date");
    // The election never looks at keys, so the cheap symbolic scheme builds
    // the same registry (same ids, tiers, dates) without 100,000 ed25519
    // key derivations.
    let tiers = [Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free];
    let (registry, _) =
        test_network(n, &tiers, SignatureScheme::Symbolic, registered_at).expect("registry");
    let weights = HeightWeights::reference(&registry, chain_date);
    Fixture {
        registry,
        chain_date,
        weights,
        previous_hash: Hash32([0x42; 32]),
    }
}

/// The reference election of a height plus two rotations.
fn reference(f: &Fixture, weights: &HeightWeights) -> [u32; 3] {
    let election = Election::new(weights);
    let mut schedule = LeaderSchedule::new();
    [0, 1, 2].map(|a| schedule.leader(&election, &f.previous_hash, HEIGHT, a))
}

/// One criterion group `election_<name>` with one `BenchmarkId` per size,
/// so that criterion's report plots time per masternode against n.
fn group(
    c: &mut Criterion,
    fixtures: &[Fixture],
    name: &str,
    mut body: impl FnMut(&mut Bencher<'_>, &Fixture),
) {
    let mut g = c.benchmark_group(format!("election_{name}"));
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    for (n, f) in SIZES.into_iter().zip(fixtures) {
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(if n >= 100_000 { 20 } else { 50 });
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| body(b, f));
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    let fx: Vec<Fixture> = SIZES.into_iter().map(fixture).collect();
    for f in &fx {
        // Sanity: the schedule excludes earlier leaders.
        let leaders = reference(f, &f.weights);
        assert!(leaders[0] != leaders[1] && leaders[1] != leaders[2] && leaders[0] != leaders[2]);
    }
    group(c, &fx, "reference", |b, f| {
        b.iter(|| reference(f, black_box(&f.weights)))
    });
    group(c, &fx, "floor", |b, f| {
        let mut prefix = vec![0u64; f.weights.as_slice().len()];
        b.iter(|| {
            let mut acc = 0u64;
            for (p, w) in prefix.iter_mut().zip(black_box(f.weights.as_slice())) {
                acc += w;
                *p = acc;
            }
            black_box(&prefix);
        })
    });
    group(c, &fx, "reference_with_weights", |b, f| {
        b.iter(|| {
            let w = HeightWeights::reference(black_box(&f.registry), f.chain_date);
            reference(f, &w)
        })
    });
    group(c, &fx, "rotations", |b, f| {
        let election = Election::new(&f.weights);
        b.iter(|| {
            let mut schedule = LeaderSchedule::new();
            [0, 1, 2].map(|a| schedule.leader(black_box(&election), &f.previous_hash, HEIGHT, a))
        })
    });
    group(c, &fx, "seed", |b, f| {
        let members = f.registry.members();
        b.iter(|| {
            let members = black_box(members);
            let first = seed::elect_leader(HEIGHT, f.chain_date, members).expect("leader");
            let r1 = seed::rotate_leader(HEIGHT, f.chain_date, members, &first.leader, 1);
            let r2 = seed::rotate_leader(HEIGHT, f.chain_date, members, &first.leader, 2);
            (first, r1, r2)
        })
    });
}

fn main() {
    let start = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    report::print(
        start,
        "election",
        "masternode",
        &SIZES,
        &[
            ("reference", "floor"),
            ("reference_with_weights", "floor"),
            ("rotations", "floor"),
        ],
        "seed",
    );
}
