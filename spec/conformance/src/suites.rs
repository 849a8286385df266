//! The cases of the weights, election, heartbeat, tally and fallback suites.

use crate::format::*;
use crate::generate::*;
use time_consensus::crypto::{Keypair, SignatureScheme};
use time_consensus::election::seed as seed_election;
use time_consensus::encoding::sha256;
use time_consensus::node::Tip;
use time_consensus::primitives::Hash32;
use time_consensus::registry::{MasternodeInfo, Tier};
use time_consensus::sim::genesis_tip;
use time_consensus::vote::{Certificate, SignedVote, Step, Vote};
use time_consensus::weight::seed_weight;

fn days_tag(d: u64) -> String {
    if d == u64::MAX {
        "dmax".into()
    } else {
        format!("d{d}")
    }
}

// ---------------------------------------------------------------- weights

/// Weight formula inputs where the deployed `f32` arithmetic and exact
/// decimal arithmetic round differently, and exact `.5` ties.
/// A weight formula input: tier, days active, reputation in thousandths.
type FormulaInput = (Tier, u64, u32);

fn f32_edges() -> (Vec<FormulaInput>, Vec<FormulaInput>) {
    let (mut differ, mut ties) = (Vec::new(), Vec::new());
    for t in ALL_TIERS {
        let (mut d_t, mut t_t) = (Vec::new(), Vec::new());
        for d in 0..=100u64 {
            for milli in 500..=1500u32 {
                let num = t.weight() * (100 + d) * u64::from(milli);
                let den = 100_000u64;
                let exact = (2 * num + den) / (2 * den);
                let f = seed_weight(t, d * 30, milli as f32 / 1000.0);
                if f != exact {
                    d_t.push((t, d * 30, milli));
                } else if (2 * num) % den == 0 && num % den != 0 {
                    t_t.push((t, d * 30, milli));
                }
            }
        }
        // First, middle and last of each kind, per tier.
        for (src, dst, k) in [(&d_t, &mut differ, 3usize), (&t_t, &mut ties, 2)] {
            if src.is_empty() {
                continue;
            }
            let picks: Vec<usize> = match k {
                3 => vec![0, src.len() / 2, src.len() - 1],
                _ => vec![0, src.len() - 1],
            };
            let mut last = None;
            for i in picks {
                if last != Some(i) {
                    dst.push(src[i]);
                }
                last = Some(i);
            }
        }
    }
    (differ, ties)
}

/// The weights suite.
pub fn weights(g: &mut Gen) {
    let w = |tier, days_active, reputation_milli| {
        Op::Weight(WeightIn {
            tier,
            days_active,
            reputation_milli,
        })
    };
    // The deployed unit test's examples.
    for (tier, d, r, note) in [
        (Tier::Free, 0, 1000, "1 * 1.0 * 1.0 = 1"),
        (Tier::Gold, 60, 1200, "8 * 1.02 * 1.2 = 9.792 rounds to 10"),
        (Tier::Silver, 90, 1500, "4 * 1.03 * 1.5 = 6.18 rounds to 6"),
    ] {
        g.case(
            &format!(
                "seed_deployed_example_{}_{}_r{r}",
                tier_name(tier),
                days_tag(d)
            ),
            SEED,
            &format!("The deployed test's example: {note}, in f32 arithmetic."),
            &["S2.1"],
            w(tier, d, r),
        );
    }
    // Longevity: integer division by 30, capped at 100 (a 100% bonus).
    for tier in ALL_TIERS {
        for d in [
            0u64,
            29,
            30,
            59,
            2999,
            3000,
            3029,
            3030,
            1_000_000,
            u64::MAX,
        ] {
            let name = tier_name(tier);
            let note = format!(
                "{name}, {d} days active: the bonus is min({d} / 30, 100) = {} percent (integer division first, capped at 100)",
                (d / 30).min(100)
            );
            g.case(
                &format!("seed_longevity_{name}_{}", days_tag(d)),
                SEED,
                &format!("{note}; the seed rules compute in f32 and round half away from zero."),
                &["S2.1"],
                w(tier, d, 1000),
            );
            g.case(
                &format!("ref_longevity_{name}_{}", days_tag(d)),
                REF,
                &format!("{note}; the reference weight is tier * (100 + bonus) * reputation_milli, exact in integers."),
                &["R2.2"],
                w(tier, d, 1000),
            );
        }
    }
    // Reputation: clamped to 0.5..=1.5 (500..=1500 thousandths).
    for tier in [Tier::Free, Tier::Gold] {
        for r in [
            0u32,
            1,
            499,
            500,
            501,
            999,
            1499,
            1500,
            1501,
            10_000,
            u32::MAX,
        ] {
            let name = tier_name(tier);
            if r <= 10_000 {
                g.case(
                    &format!("seed_reputation_{name}_r{r}"),
                    SEED,
                    &format!("{name}, reputation {r}/1000 read as the f32 {r} / 1000.0 and clamped to 0.5..=1.5."),
                    &["S2.1"],
                    w(tier, 0, r),
                );
            }
            g.case(
                &format!("ref_reputation_{name}_r{r}"),
                REF,
                &format!("{name}, reputation {r}/1000 clamped to 500..=1500 thousandths."),
                &["R2.2"],
                w(tier, 0, r),
            );
        }
    }
    // Exact .5 values in f32.
    for (tier, d, r, note) in [
        (Tier::Free, 0, 500, "1 * 1.0 * 0.5 = 0.5 rounds up to 1"),
        (Tier::Bronze, 0, 1250, "2 * 1.0 * 1.25 = 2.5 rounds up to 3"),
        (Tier::Silver, 0, 625, "4 * 1.0 * 0.625 = 2.5 rounds up to 3"),
        (
            Tier::Silver,
            0,
            1375,
            "4 * 1.0 * 1.375 = 5.5 rounds up to 6",
        ),
        (Tier::Free, 1500, 1000, "1 * 1.5 * 1.0 = 1.5 rounds up to 2"),
        (
            Tier::Free,
            1500,
            1500,
            "1 * 1.5 * 1.5 = 2.25 rounds down to 2",
        ),
        (
            Tier::Bronze,
            750,
            1000,
            "2 * 1.25 * 1.0 = 2.5 rounds up to 3",
        ),
    ] {
        g.case(
            &format!("seed_half_{}_{}_r{r}", tier_name(tier), days_tag(d)),
            SEED,
            &format!("An exactly representable tie: {note} (f32 round is half away from zero)."),
            &["S2.1"],
            w(tier, d, r),
        );
        g.case(
            &format!("ref_half_{}_{}_r{r}", tier_name(tier), days_tag(d)),
            REF,
            &format!("The seed's tie {note} is exact in the reference weight: no rounding at all."),
            &["R2.2"],
            w(tier, d, r),
        );
    }
    let (differ, ties) = f32_edges();
    for (tier, d, r) in differ {
        let exact = tier.weight() * (100 + d / 30) * u64::from(r);
        g.case(
            &format!("seed_f32_rounding_{}_{}_r{r}", tier_name(tier), days_tag(d)),
            SEED,
            &format!(
                "f32 rounding edge: exact decimal arithmetic gives {}.{:05} and would round the other way; \
                 the deployed f32 evaluation ((tier as f32) * (1.0 + bonus)) * (milli as f32 / 1000.0) decides.",
                exact / 100_000,
                exact % 100_000
            ),
            &["S2.1"],
            w(tier, d, r),
        );
    }
    for (tier, d, r) in ties {
        g.case(
            &format!("seed_decimal_tie_{}_{}_r{r}", tier_name(tier), days_tag(d)),
            SEED,
            "An exact decimal .5 tie that f32 arithmetic also rounds up.",
            &["S2.1"],
            w(tier, d, r),
        );
    }
    // Raw f32 reputations the deployed signature accepts.
    for (bits, tier, d, note) in [
        ("3f800000", Tier::Free, 0, "1.0"),
        ("3f000000", Tier::Free, 0, "0.5: 0.5 rounds to 1"),
        ("3effffff", Tier::Free, 0, "just below 0.5: clamped to 0.5"),
        ("3fc00000", Tier::Gold, 3000, "1.5: 8 * 2.0 * 1.5 = 24"),
        (
            "3fc00001",
            Tier::Gold,
            3000,
            "just above 1.5: clamped to 1.5",
        ),
        (
            "3fbfffff",
            Tier::Gold,
            3000,
            "just below 1.5: 23.999998 rounds to 24",
        ),
        ("3f880000", Tier::Gold, 0, "1.0625: 8.5 rounds up to 9"),
        (
            "3f87ffff",
            Tier::Gold,
            0,
            "the f32 just below 1.0625: 8.499999 rounds down to 8",
        ),
        (
            "3f9fffff",
            Tier::Bronze,
            0,
            "the f32 just below 1.25: 2.4999998 rounds down to 2",
        ),
        (
            "3fa00001",
            Tier::Bronze,
            0,
            "the f32 just above 1.25: 2.5000002 rounds up to 3",
        ),
        (
            "3f1fffff",
            Tier::Silver,
            0,
            "the f32 just below 0.625: 2.4999998 rounds down to 2",
        ),
        (
            "3f99999a",
            Tier::Gold,
            60,
            "the f32 nearest 1.2: 9.792 rounds to 10",
        ),
        (
            "00000001",
            Tier::Silver,
            0,
            "the smallest subnormal: clamped to 0.5",
        ),
        ("80000000", Tier::Silver, 0, "-0.0: clamped to 0.5"),
        ("bf800000", Tier::Silver, 0, "-1.0: clamped to 0.5"),
        ("7f800000", Tier::Bronze, 0, "+infinity: clamped to 1.5"),
        ("ff800000", Tier::Bronze, 0, "-infinity: clamped to 0.5"),
        (
            "7fc00000",
            Tier::Gold,
            0,
            "NaN: clamp keeps NaN and `as u64` casts it to 0",
        ),
    ] {
        g.case(
            &format!("seed_f32_bits_{}_{}_{bits}", tier_name(tier), days_tag(d)),
            SEED,
            &format!("The deployed formula with the raw f32 reputation {bits}: {note}."),
            &["S2.1"],
            Op::SeedWeightF32(SeedWeightF32In {
                tier,
                days_active: d,
                reputation_f32_bits: bits.into(),
            }),
        );
    }
    // A member's weight on the date each rule set uses.
    let seed_members = seed4();
    let dated = [
        (0, "2025-11-01", 8, "the local date equals the chain date"),
        (
            0,
            "2025-11-01",
            1,
            "the local date is a week after the chain date",
        ),
        (
            1,
            "2025-11-02",
            8,
            "a node one day ahead of the chain date (straddling midnight)",
        ),
        (
            2,
            "2025-02-01",
            1,
            "a local date before registration counts 0 days",
        ),
        (
            2,
            "2033-06-01",
            3000,
            "long after registration: longevity capped at 100 percent",
        ),
        (3, "2025-12-31", 68, "the last day of a year"),
        (3, "2026-01-01", 69, "the first day of the next year"),
    ];
    for (n, (who, local, height, note)) in dated.iter().enumerate() {
        let op = Op::MemberWeight(MemberWeightIn {
            member: seed_members[*who].clone(),
            local_date: date(local),
            genesis_date: date("2025-10-24"),
            height: *height,
        });
        g.case(
            &format!("seed_member_{n}"),
            SEED,
            &format!("Seed rules weigh a member on the node's local date ({note})."),
            &["S2.1"],
            op.clone(),
        );
        g.case(
            &format!("ref_member_{n}"),
            REF,
            &format!("Reference rules weigh a member on the chain date genesis + height days, whatever the local date ({note})."),
            &["R2.2", "R2.3"],
            op,
        );
    }
    let leap = member("leap.example", Tier::Silver, "2024-02-29", 1100);
    for (n, (local, height)) in [("2028-02-29", 1224u64), ("2025-02-28", 0)]
        .iter()
        .enumerate()
    {
        let op = Op::MemberWeight(MemberWeightIn {
            member: leap.clone(),
            local_date: date(local),
            genesis_date: date("2024-10-24"),
            height: *height,
        });
        g.case(
            &format!("seed_member_leap_{n}"),
            SEED,
            "Registered on a leap day; whole days counted on the proleptic Gregorian calendar.",
            &["S2.1"],
            op.clone(),
        );
        g.case(
            &format!("ref_member_leap_{n}"),
            REF,
            "Registered on a leap day; whole days counted on the proleptic Gregorian calendar.",
            &["R2.2", "R2.3"],
            op,
        );
    }
}

// ---------------------------------------------------------------- election

fn infos(ms: &[Member]) -> Vec<MasternodeInfo> {
    ms.iter().map(MasternodeInfo::from).collect()
}

/// The election suite.
pub fn election(g: &mut Gen) {
    let nov1 = date("2025-11-01");
    let el = |height, d: &str, masternodes: Vec<Member>, rotations: Vec<u32>| {
        Op::SeedElection(SeedElectionIn {
            height,
            date: date(d),
            masternodes,
            rotations,
        })
    };
    for h in 1..=12u64 {
        g.case(
            &format!("seed_elect_seed4_h{h}"),
            SEED,
            &format!("The deployed tests' four masternodes at height {h} on 2025-11-01: the date seed, the modulo pick in list order, the keyless proof, and rotations 1 and 2 each excluding only the original leader."),
            &["S2.1", "S2.2", "S2.3", "S2.4", "S2.5", "S2.6"],
            el(h, "2025-11-01", seed4(), vec![1, 2]),
        );
    }
    // Flaw 5: list order.
    let mut reversed = seed4();
    reversed.reverse();
    let l = |h, ms: &[Member]| seed_election::elect_leader(h, nov1, &infos(ms)).map(|s| s.leader);
    let mut shown = 0;
    for h in 1..200u64 {
        if shown == 4 {
            break;
        }
        if l(h, &seed4()) != l(h, &reversed) {
            shown += 1;
            g.case(
                &format!("seed_elect_reversed_h{h}"),
                SEED,
                &format!("Flaw 5: the deployed tests' four masternodes in reverse list order elect, at height {h}, a different leader than in their original order: the seed rules do not sort."),
                &["S2.3", "S2.4"],
                el(h, "2025-11-01", reversed.clone(), vec![1, 2]),
            );
        }
    }
    // Flaw 5: the local date.
    for d in [
        "2025-11-02",
        "2025-12-31",
        "2026-01-01",
        "2024-02-29",
        "2025-03-01",
        "0001-01-01",
        "9999-12-31",
    ] {
        g.case(
            &format!("seed_elect_date_{}", d.replace('-', "")),
            SEED,
            &format!("Height 1 on local date {d}: the seed hashes the date as ASCII YYYY-MM-DD, so nodes on either side of midnight disagree; weights also follow the local date."),
            &["S2.1", "S2.2", "S2.3", "S2.5", "S2.6"],
            el(1, d, seed4(), vec![1, 2]),
        );
    }
    for (h, note) in [(0u64, "0"), (1 << 32, "2^32"), (u64::MAX, "2^64 - 1")] {
        g.case(
            &format!(
                "seed_elect_height_{}",
                if h == u64::MAX {
                    "max".to_string()
                } else {
                    h.to_string()
                }
            ),
            SEED,
            &format!("Height {note}: its 8 little-endian bytes enter the seed."),
            &["S2.2", "S2.3", "S2.5"],
            el(h, "2025-11-01", seed4(), vec![1, 2]),
        );
    }
    for (i, n) in [1usize, 2, 3, 5, 8, 13].iter().enumerate() {
        let ms = random_members(100 + i as u64, *n);
        g.case(
            &format!("seed_elect_random{n}"),
            SEED,
            &format!("{n} masternodes with assorted tiers, dates and reputations (clamped); with one masternode a rotation finds nobody left and returns null."),
            &["S2.1", "S2.2", "S2.3", "S2.4", "S2.5", "S2.6"],
            el(7, "2025-11-01", ms, vec![1, 2]),
        );
    }
    g.case(
        "seed_elect_empty",
        SEED,
        "An empty list elects nobody.",
        &["S2.3"],
        el(1, "2025-11-01", vec![], vec![1]),
    );
    // Rotation 2 may return rotation 1's leader: only the original is excluded.
    let mut shown = 0;
    for h in 1..300u64 {
        if shown == 3 {
            break;
        }
        let list = infos(&seed4());
        let Some(orig) = seed_election::elect_leader(h, nov1, &list) else {
            continue;
        };
        let r = |k| seed_election::rotate_leader(h, nov1, &list, &orig.leader, k).map(|s| s.leader);
        if r(1) == r(2) {
            shown += 1;
            g.case(
                &format!("seed_rotation_repeats_h{h}"),
                SEED,
                &format!("Flaw of S2.6: at height {h} rotations 1 and 2 elect the same leader, because each excludes only the original leader, not earlier rotations."),
                &["S2.6"],
                el(h, "2025-11-01", seed4(), vec![1, 2, 3]),
            );
        }
    }
    let rot = |current: &str, k: u32, ms: Vec<Member>| {
        Op::SeedRotation(SeedRotationIn {
            height: 5,
            date: nov1,
            masternodes: ms,
            current_leader: id(current),
            rotation_count: k,
        })
    };
    for (name, current, k, ms, note) in [
        (
            "seed_rotate_not_listed",
            "10.0.0.99",
            1,
            seed4(),
            "a current leader that is not in the list removes nobody",
        ),
        (
            "seed_rotate_count0",
            "192.168.1.1",
            0,
            seed4(),
            "rotation count 0 still appends four zero bytes to the seed",
        ),
        (
            "seed_rotate_count3",
            "192.168.1.2",
            3,
            seed4(),
            "rotation count 3",
        ),
        (
            "seed_rotate_count_max",
            "192.168.1.3",
            u32::MAX,
            seed4(),
            "rotation count 2^32 - 1",
        ),
        (
            "seed_rotate_only_member",
            "192.168.1.1",
            1,
            seed4()[..1].to_vec(),
            "removing the only member leaves nobody: null",
        ),
        (
            "seed_rotate_two_members",
            "192.168.1.4",
            2,
            seed4()[2..].to_vec(),
            "removing one of two leaves the other, whatever the draw",
        ),
    ] {
        g.case(
            name,
            SEED,
            &format!("The deployed rotate_leader: {note}."),
            &["S2.3", "S2.6"],
            rot(current, k, ms),
        );
    }
    let sel = |seed: Vec<u8>, weights: Vec<u64>| {
        Op::SeedWeightedSelection(SeedWeightedSelectionIn {
            seed: Bytes(seed),
            weights,
        })
    };
    let s32 = seed_election::vrf_seed(1, nov1);
    let mut s36 = s32.clone();
    s36.extend_from_slice(&1u32.to_le_bytes());
    for (name, seed, weights, note) in [
        ("seed_select_zero_total", s32.clone(), vec![0, 0, 0], "a total of 0 picks the first node and reports weight 0"),
        ("seed_select_single", s32.clone(), vec![7], "one node"),
        ("seed_select_with_zero", s32.clone(), vec![5, 0, 7], "a zero weight can never be picked"),
        ("seed_select_wrapping", s32.clone(), vec![u64::MAX, 2], "the total wraps to 1 as in the deployed release build, so point = r % 1 = 0 and the first node wins"),
        ("seed_select_rotation_seed", s36.clone(), vec![10, 6, 2, 1], "a 36-byte rotation seed"),
        ("seed_select_empty_seed", vec![], vec![1, 1, 1, 1], "an empty seed hashes just \"WEIGHTED_SELECTION\""),
        ("seed_select_large", s32.clone(), vec![1 << 40, 3, 1 << 41, 5], "weights far above 2^32"),
        ("seed_select_many", s36, (1..=20).collect(), "twenty weights 1..20"),
    ] {
        g.case(
            name,
            SEED,
            &format!("The deployed weighted pick: r = u64_le(SHA-256(seed || \"WEIGHTED_SELECTION\")[0..8]), point = r % total, first cumulative sum above point; {note}."),
            &["S2.3"],
            sel(seed, weights),
        );
    }

    // Reference election.
    let genesis = date("2025-10-24");
    let prev = genesis_tip().hash;
    let relect = |ms: Vec<Member>, genesis_date, height, previous_hash, attempts| {
        Op::Election(ElectionIn {
            masternodes: ms,
            genesis_date,
            height,
            previous_hash,
            attempts,
        })
    };
    for h in 1..=8u64 {
        g.case(
            &format!("ref_schedule_net4_h{h}"),
            REF,
            &format!("mn000..mn003 (gold, silver, bronze, free) at height {h}: weights on the chain date in canonical order, the quorum, and the leaders of attempts 0..5; attempts 0-3 exclude every earlier leader, attempt 4 starts a fresh cycle."),
            &["R2.1", "R2.2", "R2.3", "R2.4", "R2.5", "R2.6", "R2.7", "R5.3"],
            relect(net(&TIERS4), genesis, h, prev, 6),
        );
    }
    g.case(
        "ref_schedule_equal_weights",
        REF,
        "Four equal weights: every attempt of a cycle elects a different member.",
        &["R2.4", "R2.5", "R2.6", "R2.7"],
        relect(net(&[Tier::Silver; 4]), genesis, 1, prev, 9),
    );
    g.case(
        "ref_schedule_single_member",
        REF,
        "One member leads every attempt: once everyone is excluded a fresh cycle starts.",
        &["R2.6", "R2.7"],
        relect(net(&[Tier::Bronze]), genesis, 1, prev, 3),
    );
    for (i, n) in [2usize, 3, 5, 8, 13, 21].iter().enumerate() {
        g.case(
            &format!("ref_schedule_random{n}"),
            REF,
            &format!("{n} masternodes listed out of byte order, with assorted tiers, dates and reputations: the canonical order sorts them by id bytes."),
            &["R2.1", "R2.2", "R2.3", "R2.4", "R2.5", "R2.6", "R2.7"],
            relect(random_members(200 + i as u64, *n), genesis, 3 + i as u64, prev, (*n as u32).min(8) + 1),
        );
    }
    let reordered = {
        let mut m = random_members(205, 8);
        m.reverse();
        m
    };
    g.case(
        "ref_schedule_random8_reversed",
        REF,
        "The registry of ref_schedule_random8 listed in reverse: the same weights, seeds and leaders (no dependence on list order).",
        &["R2.1", "R2.7"],
        relect(reordered, genesis, 8, prev, 9),
    );
    for (name, ph, note) in [
        (
            "ref_schedule_prev_zero",
            Hash32::ZERO,
            "an all-zero previous hash",
        ),
        (
            "ref_schedule_prev_ff",
            Hash32([0xff; 32]),
            "an all-ff previous hash",
        ),
    ] {
        g.case(
            name,
            REF,
            &format!("The seed binds the previous block hash: {note}."),
            &["R2.4", "R2.7"],
            relect(net(&TIERS4), genesis, 1, ph, 5),
        );
    }
    for (name, gd, h, note) in [
        (
            "ref_schedule_height0",
            "2025-10-24",
            0u64,
            "height 0 on the genesis date",
        ),
        (
            "ref_schedule_height_max",
            "2025-10-24",
            u64::MAX,
            "height 2^64 - 1: the chain date saturates at 9999-12-31",
        ),
        (
            "ref_schedule_other_genesis",
            "2020-02-29",
            1461,
            "another genesis date, four years on",
        ),
    ] {
        g.case(
            name,
            REF,
            &format!("Chain date and seed for {note}."),
            &["R2.3", "R2.4", "R2.7"],
            relect(seed4(), date(gd), h, prev, 4),
        );
    }
    // The unbiased draw.
    let draw = |seed, space| Op::Draw(DrawIn { seed, space });
    let s = |i: u32| sha256(&i.to_le_bytes());
    for (i, space) in [1u64, 2, 3, 7, 10, 1 << 32, 1 << 63, u64::MAX - 1, u64::MAX]
        .iter()
        .enumerate()
    {
        g.case(
            &format!("ref_draw_space{i}"),
            REF,
            &format!("A draw in 0..{space}: u64_le of SHA-256(seed || counter_le32)[0..8], reduced modulo the space once it lies below the largest multiple of the space."),
            &["R2.5"],
            draw(s(i as u32), *space),
        );
    }
    // Find seeds whose first (and first two) draws are rejected.
    let space = (1u64 << 63) + 1;
    let rem = (u64::MAX % space + 1) % space;
    let first = |seed: &Hash32, c: u32| {
        let mut b = [0u8; 36];
        b[..32].copy_from_slice(&seed.0);
        b[32..].copy_from_slice(&c.to_le_bytes());
        u64::from_le_bytes(sha256(&b).0[..8].try_into().expect("8 bytes"))
    };
    let rejected = |seed: &Hash32, c| first(seed, c) > u64::MAX - rem;
    let mut want = [1usize, 2, 3];
    for i in 0..10_000u32 {
        let seed = s(1000 + i);
        let n = (0..4).take_while(|&c| rejected(&seed, c)).count();
        if let Some(slot) = want.iter_mut().find(|w| **w == n) {
            *slot = usize::MAX;
            g.case(
                &format!("ref_draw_rejects{n}"),
                REF,
                &format!("Space 2^63 + 1, where nearly half of all u64 values are rejected: the first {n} counter value(s) give rejected values, so counter {n} decides."),
                &["R2.5"],
                draw(seed, space),
            );
        }
        if want.iter().all(|w| *w == usize::MAX) {
            break;
        }
    }
    let pick = |weights: Vec<u64>, seed, excluded: Vec<u32>| {
        Op::Pick(PickIn {
            weights,
            seed,
            excluded,
        })
    };
    let weights = vec![5u64, 1, 0, 9, 3, 3, 12, 1];
    for (i, ex) in [
        vec![],
        vec![0],
        vec![3, 6],
        vec![0, 1, 3, 7],
        vec![6],
        vec![0, 1, 3, 4, 5, 6],
        vec![0, 1, 3, 4, 5, 6, 7],
        vec![0, 1, 2, 3, 4, 5, 6, 7],
    ]
    .into_iter()
    .enumerate()
    {
        let note = if ex.len() >= 7 {
            "every member with weight is excluded, so nobody can be picked: null"
        } else {
            "the draw over the remaining weight steps over each excluded interval"
        };
        for k in 0..2u32 {
            g.case(
                &format!("ref_pick_{i}_{k}"),
                REF,
                &format!("Weights 5,1,0,9,3,3,12,1 excluding positions {ex:?}: {note}."),
                &["R2.5", "R2.6"],
                pick(weights.clone(), s(50 + 10 * i as u32 + k), ex.clone()),
            );
        }
    }
    g.case(
        "ref_pick_all_zero",
        REF,
        "All weights zero: nothing to pick, null.",
        &["R2.6"],
        pick(vec![0, 0, 0], s(7), vec![]),
    );
    g.case(
        "ref_pick_total_at_bound",
        REF,
        "Weights 2^62-1, 1: the total is exactly R2.1's bound of 2^62, which is accepted.",
        &["R2.1", "R2.6"],
        pick(vec![(1 << 62) - 1, 1], s(7), vec![]),
    );
    for (name, weights, note) in [
        (
            "ref_pick_total_over_bound",
            vec![u64::MAX, 0, 0],
            "Weights 2^64-1, 0, 0: the total fits in u64 but exceeds R2.1's bound of 2^62 (twice it would overflow the quorum's arithmetic), so the weights are refused at position 0",
        ),
        (
            "ref_pick_total_overflows",
            vec![1 << 61, 1 << 62, u64::MAX],
            "Weights 2^61, 2^62, 2^64-1: the running total passes R2.1's bound of 2^62 at position 1 (and would overflow u64 at position 2), so the weights are refused",
        ),
    ] {
        g.case(
            name,
            REF,
            &format!("{note}."),
            &["R2.1", "R2.6", "R5.3"],
            pick(weights, s(7), vec![]),
        );
    }
}

// ---------------------------------------------------------------- heartbeat

/// The heartbeat suite.
pub fn heartbeat(g: &mut Gen) {
    let (a, b, c) = (Hash32([0xab; 32]), Hash32([0xcd; 32]), Hash32([0xef; 32]));
    let st = |height, tip| ChainState { height, tip };
    let seed_sync = |expected_nodes, received| {
        Op::SeedSync(SeedSyncIn {
            expected_nodes,
            received,
        })
    };
    for (name, expected, recv, note) in [
        ("seed_sync_unanimous", 3u64, vec![st(100, a), st(100, a), st(100, a)], "the deployed test: three of three agree"),
        ("seed_sync_majority", 4, vec![st(100, a), st(100, a), st(100, a), st(99, b)], "the deployed test: three of four agree, 75 percent"),
        ("seed_sync_threshold_met", 4, vec![st(100, a); 3], "3 responses of 4 expected >= ceil(8/3) = 3"),
        ("seed_sync_threshold_missed", 4, vec![st(100, a); 2], "2 responses of 4 expected < 3"),
        ("seed_sync_received_not_expected", 9, vec![st(100, a), st(100, a), st(100, a), st(100, a), st(99, b), st(98, c)], "6 of 9 respond and 4 agree: 4 >= ceil(12/3), synchronized although only 4 of 9 masternodes agree (agreement is measured against the heartbeats received)"),
        ("seed_sync_no_agreement", 4, vec![st(100, a), st(100, a), st(100, b), st(100, c)], "4 respond but the most common state has 2 < ceil(8/3)"),
        ("seed_sync_nothing", 4, vec![], "no heartbeat at all"),
        ("seed_sync_tie_height", 2, vec![st(5, b), st(4, a)], "a tie between states: the higher height wins (the deployed HashMap left it to iteration order)"),
        ("seed_sync_tie_hash", 2, vec![st(5, b), st(5, a)], "a tie at the same height: the smaller hash wins"),
        ("seed_sync_one_expected", 1, vec![st(0, a)], "a single masternode agrees with itself"),
        ("seed_sync_zero_expected", 0, vec![], "zero expected, zero received: 0 >= 0 twice"),
        ("seed_sync_exact_two_thirds", 6, vec![st(7, a), st(7, a), st(7, a), st(7, b)], "4 of 6 respond (= ceil(12/3)), 3 of 4 agree (>= ceil(8/3))"),
    ] {
        g.case(
            name,
            SEED,
            &format!("The deployed check_chain_agreement and check_sync_complete: {note}."),
            &["S1.2", "S1.3"],
            seed_sync(expected, recv),
        );
    }
    // The same decision under both rule sets, on a registry.
    let genesis = date("2025-10-24");
    let own = Tip {
        height: 0,
        hash: genesis_tip().hash,
    };
    let other = Hash32([0x11; 32]);
    let hb = |i: usize, height, tip| HeartbeatState {
        node_id: id(&format!("mn{i:03}")),
        height,
        tip,
    };
    let t = own.hash;
    let scenarios: Vec<(&str, Vec<HeartbeatState>, &str)> = vec![
        ("all_agree", (0..4).map(|i| hb(i, 0, t)).collect(), "all four hold the node's tip"),
        ("heavy_three", vec![hb(0, 0, t), hb(1, 0, t), hb(2, 0, t)], "gold, silver and bronze hold the tip; free is silent"),
        ("gold_and_silver", vec![hb(0, 0, t), hb(1, 0, t)], "only gold and silver (12 of 15 tier units) respond"),
        ("light_three", vec![hb(1, 0, t), hb(2, 0, t), hb(3, 0, t)], "silver, bronze and free (7 of 15 tier units) hold the tip"),
        ("own_tip_minority", vec![hb(0, 0, t), hb(1, 0, other), hb(2, 0, other), hb(3, 0, other)], "three of four hold another tip at the same height; the node's own tip is held by gold alone"),
        ("split_heights", vec![hb(0, 0, t), hb(1, 0, t), hb(2, 1, other), hb(3, 1, other)], "two announce height 0 with the node's tip, two a different height"),
        ("single", vec![hb(3, 0, t)], "only the node itself (free)"),
    ];
    for (name, beats, note) in scenarios {
        let op = Op::Sync(SyncIn {
            masternodes: net(&TIERS4),
            genesis_date: genesis,
            own_tip: own,
            heartbeats: beats,
        });
        g.case(
            &format!("seed_sync_net4_{name}"),
            SEED,
            &format!("mn000..mn003 (gold, silver, bronze, free), node at height 0: {note}. Seed rules count heartbeats: enough responses of the expected, and the most common state held by two thirds of those received, whatever the node's own tip."),
            &["S1.2", "S1.3"],
            op.clone(),
        );
        g.case(
            &format!("ref_sync_net4_{name}"),
            REF,
            &format!("mn000..mn003 (gold, silver, bronze, free), node at height 0: {note}. Reference rules: synchronized when members holding the node's own (height, tip) weigh a quorum of the registry."),
            &["R1.3", "R5.3"],
            op,
        );
    }
    let op = Op::Sync(SyncIn {
        masternodes: net(&TIERS4),
        genesis_date: genesis,
        own_tip: own,
        heartbeats: vec![hb(0, 0, t), hb(9, 0, t)],
    });
    g.case(
        "seed_sync_stranger",
        SEED,
        "A heartbeat from mn009, who is not registered: refused as an unknown signer.",
        &["R0.5"],
        op.clone(),
    );
    g.case(
        "ref_sync_stranger",
        REF,
        "A heartbeat from mn009, who is not registered: refused as an unknown signer.",
        &["R0.5", "R1.3"],
        op,
    );
}

// ---------------------------------------------------------------- tally

fn signed_vote(
    voter: &str,
    height: u64,
    attempt: u32,
    step: Step,
    block: Hash32,
    approve: bool,
    weight: u64,
) -> SignedVote {
    let vote = Vote {
        height,
        attempt,
        step,
        voter: id(voter),
        block_hash: block,
        approve,
        weight,
    };
    vote.sign(&Keypair::from_label(SignatureScheme::Ed25519, voter))
}

/// The tally suite.
pub fn tally(g: &mut Gen) {
    let (x, y) = (Hash32([1; 32]), Hash32([2; 32]));
    let sv = |voter: &str, block, approve, weight| SeedVote {
        voter: id(voter),
        block_hash: block,
        approve,
        weight,
    };
    let seed = |votes| Op::SeedTally(SeedTallyIn { votes });
    for (name, votes, note) in [
        ("seed_tally_deployed_example", vec![sv("node1", x, true, 8), sv("node2", x, true, 4), sv("node3", x, false, 2)], "the deployed test: 12 of 14 >= ceil(28/3) = 10"),
        ("seed_tally_flaw1_single_vote", vec![sv("a", x, true, 1)], "flaw 1: a single approving vote is consensus (1 >= ceil(2/3))"),
        ("seed_tally_flaw2_declared_weight", vec![sv("a", x, false, 8), sv("b", x, false, 8), sv("byz", y, true, 1000)], "flaw 2: one voter declaring weight 1000 outvotes two gold votes against, and its vote for another block is pooled with theirs"),
        ("seed_tally_pooled_blocks", vec![sv("a", x, true, 4), sv("b", y, true, 4), sv("c", x, false, 1)], "votes for two different blocks are pooled: 8 >= ceil(18/3)"),
        ("seed_tally_no_votes", vec![], "no votes: 0 >= ceil(0/3) = 0 is consensus"),
        ("seed_tally_all_against", vec![sv("a", x, false, 8), sv("b", x, false, 4)], "every vote against: 0 < 8"),
        ("seed_tally_exact_threshold", vec![sv("a", x, true, 10), sv("b", x, false, 5)], "10 >= ceil(30/3) = 10"),
        ("seed_tally_one_below", vec![sv("a", x, true, 9), sv("b", x, false, 5)], "9 < ceil(28/3) = 10"),
        ("seed_tally_rounding_up", vec![sv("a", x, true, 3), sv("b", x, false, 1)], "3 >= ceil(8/3) = 3"),
        ("seed_tally_rounding_miss", vec![sv("a", x, true, 2), sv("b", x, false, 2)], "2 < ceil(8/3) = 3"),
        ("seed_tally_zero_weights", vec![sv("a", x, false, 0), sv("b", x, true, 0)], "zero declared weights: 0 >= 0"),
        ("seed_tally_wrapping", vec![sv("a", x, true, u64::MAX), sv("b", x, true, 2)], "declared weights wrap around 2^64 as in the deployed release build: total 1, approval 1"),
        ("seed_tally_four_honest", vec![sv("mn000", x, true, 10), sv("mn001", x, true, 5), sv("mn002", x, true, 2), sv("mn003", x, true, 1)], "four honest approving votes with their seed weights"),
        ("seed_tally_against_heavy", vec![sv("mn000", x, false, 10), sv("mn001", x, true, 5), sv("mn002", x, true, 2), sv("mn003", x, true, 1)], "gold votes against: 8 < ceil(36/3) = 12"),
    ] {
        g.case(
            name,
            SEED,
            &format!("The deployed check_consensus over the votes received: {note}."),
            &["S6.2", "S6.3"],
            seed(votes),
        );
    }
    // Reference tally.
    let genesis = date("2025-10-24");
    let ms = net(&TIERS4);
    let v = |i: usize, attempt, step, block, approve, weight| {
        signed_vote(
            &format!("mn{i:03}"),
            1,
            attempt,
            step,
            block,
            approve,
            weight,
        )
    };
    let a = Step::Approve;
    let stranger = signed_vote("mn009", 1, 0, a, x, true, 1);
    let mut forged = v(1, 0, a, x, true, 1);
    forged.resign(&Keypair::from_label(SignatureScheme::Ed25519, "mn009"));
    let mut tampered = v(2, 0, a, x, true, 1);
    tampered.vote.weight = 1_000_000;
    type TallyCase<'a> = (&'a str, Step, Vec<SignedVote>, &'a str, &'a [&'a str]);
    let cases: Vec<TallyCase> = vec![
        (
            "all_four",
            a,
            (0..4).map(|i| v(i, 0, a, x, true, 1)).collect(),
            "all four approve",
            &["R5.3", "R5.4"],
        ),
        (
            "gold_silver",
            a,
            vec![v(0, 0, a, x, true, 1), v(1, 0, a, x, true, 1)],
            "gold and silver weigh 12 of 15 tier units: a quorum",
            &["R5.3", "R5.4"],
        ),
        (
            "light_three",
            a,
            vec![
                v(1, 0, a, x, true, 1),
                v(2, 0, a, x, true, 1),
                v(3, 0, a, x, true, 1),
            ],
            "silver, bronze and free weigh 7 of 15: no quorum",
            &["R5.3", "R5.4"],
        ),
        (
            "single_vote",
            a,
            vec![v(3, 0, a, x, true, 1)],
            "one vote is far from a quorum of the registry (contrast seed flaw 1)",
            &["R5.3"],
        ),
        (
            "declared_weight_ignored",
            a,
            vec![
                v(3, 0, a, x, true, 1_000_000_000),
                v(2, 0, a, x, true, 1_000_000_000),
            ],
            "votes declaring huge weights count their registry weight (contrast seed flaw 2)",
            &["R5.4"],
        ),
        (
            "split_blocks",
            a,
            vec![
                v(0, 0, a, x, true, 1),
                v(1, 0, a, y, true, 1),
                v(2, 0, a, x, true, 1),
                v(3, 0, a, y, true, 1),
            ],
            "votes for two blocks are counted per block, never pooled",
            &["R5.3", "R5.4"],
        ),
        (
            "stranger",
            a,
            vec![
                v(0, 0, a, x, true, 1),
                stranger.clone(),
                v(1, 0, a, x, true, 1),
            ],
            "a vote from mn009, not registered, is refused",
            &["R0.5", "R5.4"],
        ),
        (
            "forged_signature",
            a,
            vec![v(0, 0, a, x, true, 1), forged.clone()],
            "mn001's vote signed with another key is refused",
            &["R0.4", "R0.5", "R5.2"],
        ),
        (
            "tampered_after_signing",
            a,
            vec![tampered, v(0, 0, a, x, true, 1)],
            "a vote whose declared weight was changed after signing no longer verifies",
            &["R0.4", "R5.2"],
        ),
        (
            "duplicate",
            a,
            vec![
                v(0, 0, a, x, true, 1),
                v(0, 0, a, x, true, 1),
                v(1, 0, a, x, true, 1),
            ],
            "the same vote twice counts once",
            &["R5.6"],
        ),
        (
            "equivocation",
            a,
            vec![
                v(0, 0, a, x, true, 1),
                v(0, 0, a, y, true, 1),
                v(1, 0, a, y, true, 1),
            ],
            "gold votes for two blocks: the first stands, the second is refused as equivocation",
            &["R5.6"],
        ),
        (
            "other_attempt",
            a,
            vec![v(0, 1, a, x, true, 1), v(1, 0, a, x, true, 1)],
            "a vote of attempt 1 is not counted in the tally of attempt 0",
            &["R5.6"],
        ),
        (
            "other_step",
            a,
            vec![v(0, 0, Step::Commit, x, true, 1), v(1, 0, a, x, true, 1)],
            "a commit vote is not counted in an approve tally",
            &["R5.1", "R5.6"],
        ),
        (
            "vote_against",
            a,
            vec![v(0, 0, a, x, false, 1), v(1, 0, a, x, true, 1)],
            "a vote with approve = false is not a vote under the reference rules",
            &["R5.1"],
        ),
        (
            "commit_quorum",
            Step::Commit,
            (0..3).map(|i| v(i, 0, Step::Commit, x, true, 1)).collect(),
            "three commit votes weigh 14 of 15: a commit quorum",
            &["R5.1", "R5.3"],
        ),
        (
            "other_height",
            a,
            vec![
                signed_vote("mn000", 2, 0, a, x, true, 1),
                v(1, 0, a, x, true, 1),
            ],
            "a vote of height 2 is not counted at height 1",
            &["R5.6"],
        ),
    ];
    for (name, step, votes, note, ids) in cases {
        let mut ids = ids.to_vec();
        ids.push("R5.2");
        ids.sort();
        ids.dedup();
        g.case(
            &format!("ref_tally_{name}"),
            REF,
            &format!("mn000..mn003 (gold, silver, bronze, free) at height 1, attempt 0: {note}."),
            &ids,
            Op::Tally(TallyIn {
                masternodes: ms.clone(),
                genesis_date: genesis,
                height: 1,
                attempt: 0,
                step,
                votes,
            }),
        );
    }
    let eq = net(&[Tier::Silver; 4]);
    for k in [2usize, 3] {
        g.case(
            &format!("ref_tally_equal_{k}_of_4"),
            REF,
            &format!("Four equal weights, quorum ceil(8/3) = 3 members: {k} votes."),
            &["R5.3", "R5.4"],
            Op::Tally(TallyIn {
                masternodes: eq.clone(),
                genesis_date: genesis,
                height: 1,
                attempt: 0,
                step: a,
                votes: (0..k).map(|i| v(i, 0, a, x, true, 1)).collect(),
            }),
        );
    }
    // Certificates.
    let cert = |step: Step, votes: Vec<SignedVote>| Certificate {
        height: 1,
        attempt: 0,
        step,
        block_hash: x,
        votes,
    };
    let c = |name: &str, cert: Certificate, note: &str| (name.to_string(), cert, note.to_string());
    let good: Vec<SignedVote> = (0..3).map(|i| v(i, 0, a, x, true, 1)).collect();
    let mut bad_sig = good.clone();
    bad_sig[1] = forged.clone();
    let certs = vec![
        c(
            "approve_valid",
            cert(a, good.clone()),
            "gold, silver and bronze approve",
        ),
        c(
            "commit_valid",
            cert(
                Step::Commit,
                (0..3).map(|i| v(i, 0, Step::Commit, x, true, 1)).collect(),
            ),
            "a commit certificate: a finality proof",
        ),
        c(
            "below_quorum",
            cert(a, vec![v(2, 0, a, x, true, 1), v(3, 0, a, x, true, 1)]),
            "bronze and free weigh 3 of 15",
        ),
        c(
            "mismatch_block",
            cert(a, vec![v(0, 0, a, x, true, 1), v(1, 0, a, y, true, 1)]),
            "a vote for another block inside",
        ),
        c(
            "mismatch_step",
            cert(
                a,
                vec![v(0, 0, a, x, true, 1), v(1, 0, Step::Commit, x, true, 1)],
            ),
            "a commit vote inside an approve certificate",
        ),
        c(
            "mismatch_against",
            cert(a, vec![v(0, 0, a, x, true, 1), v(1, 0, a, x, false, 1)]),
            "a vote against inside",
        ),
        c(
            "stranger",
            cert(
                a,
                vec![
                    v(0, 0, a, x, true, 1),
                    stranger.clone(),
                    v(1, 0, a, x, true, 1),
                ],
            ),
            "a vote from mn009, not registered",
        ),
        c(
            "repeated_voter",
            cert(a, vec![v(0, 0, a, x, true, 1), v(0, 0, a, x, true, 1)]),
            "gold twice: its weight must not count twice",
        ),
        c(
            "bad_signature",
            cert(a, bad_sig),
            "a forged signature inside",
        ),
        c("empty", cert(a, vec![]), "no votes at all"),
    ];
    for (name, certificate, note) in certs {
        g.case(
            &format!("ref_certificate_{name}"),
            REF,
            &format!(
                "Certificate verification on mn000..mn003 (gold, silver, bronze, free): {note}."
            ),
            &["R5.5", "R5.3"],
            Op::Certificate(CertificateIn {
                masternodes: ms.clone(),
                genesis_date: genesis,
                certificate,
            }),
        );
    }
    for total in [0u64, 1, 2, 3, 4, 5, 6, 14, 15, 100, 1 << 46, 1 << 62] {
        g.case(
            &format!("ref_quorum_{total}"),
            REF,
            &format!("The quorum over a registry weighing {total}: ceil(2 * {total} / 3)."),
            &["R5.3"],
            Op::Quorum(QuorumIn { total }),
        );
    }
}

// ---------------------------------------------------------------- fallback

/// The fallback suite.
pub fn fallback(g: &mut Gen) {
    let cfg = |r, e, w, ro| LadderConfig {
        max_leader_rotations: r,
        enable_emergency_blocks: e,
        voting_window_secs: w,
        reward_only_voting_window_secs: ro,
    };
    for (name, c, note) in [
        (
            "default",
            cfg(2, true, 4, 2),
            "the deployed defaults: 2 rotations, emergency blocks enabled, windows 4 s and 2 s",
        ),
        ("rotations0", cfg(0, true, 4, 2), "no rotation"),
        ("rotations1", cfg(1, true, 4, 2), "one rotation"),
        ("rotations3", cfg(3, true, 4, 2), "three rotations"),
        ("rotations4", cfg(4, true, 4, 2), "four rotations"),
        ("rotations10", cfg(10, true, 4, 2), "ten rotations"),
        (
            "no_emergency",
            cfg(2, false, 4, 2),
            "emergency blocks disabled",
        ),
        (
            "no_emergency_rotations4",
            cfg(4, false, 4, 2),
            "four rotations, emergency blocks disabled",
        ),
        (
            "windows",
            cfg(2, true, 10, 7),
            "voting windows of 10 s and 7 s",
        ),
    ] {
        let op = Op::Plan(PlanIn {
            config: c,
            attempts: 14,
        });
        g.case(
            &format!("seed_plan_{name}"),
            SEED,
            &format!("The seed ladder, attempts 0..13, {note}: the original leader, rotations, a reward-only attempt led by the original leader, then the emergency block accepted without a vote."),
            &["S7.1", "S7.2", "S7.3", "S2.6"],
            op.clone(),
        );
        g.case(
            &format!("ref_plan_{name}"),
            REF,
            &format!("The reference ladder, attempts 0..13, {note}: attempt 0 and the rotations led by the schedule, one reward-only attempt, then leaderless emergency attempts that need both quorums."),
            &["R7.1", "R7.3"],
            op,
        );
    }
    for count in 0..=5u32 {
        for enable in [true, false] {
            g.case(
                &format!("seed_next_strategy_{count}_{}", if enable { "enabled" } else { "disabled" }),
                SEED,
                &format!("The deployed next_strategy after {count} failed attempts, emergency blocks {}.", if enable { "enabled" } else { "disabled" }),
                &["S7.1"],
                Op::SeedNextStrategy(SeedNextStrategyIn {
                    attempt_count: count,
                    enable_emergency_blocks: enable,
                }),
            );
        }
    }
    for (count, rot, enable) in [
        (0u32, 2u32, true),
        (2, 2, true),
        (3, 2, true),
        (4, 2, true),
        (3, 2, false),
        (0, 0, true),
        (1, 0, true),
        (5, 4, true),
        (u32::MAX, u32::MAX, true),
        (u32::MAX, 2, true),
    ] {
        g.case(
            &format!("seed_needs_emergency_{count}_{rot}_{}", if enable { "enabled" } else { "disabled" }),
            SEED,
            &format!("The deployed needs_emergency_block: {count} failed attempts > {rot} rotations and enabled = {enable}."),
            &["S7.2"],
            Op::SeedNeedsEmergencyBlock(SeedNeedsEmergencyBlockIn {
                attempt_count: count,
                max_leader_rotations: rot,
                enable_emergency_blocks: enable,
            }),
        );
    }
}
