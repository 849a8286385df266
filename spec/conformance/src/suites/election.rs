//! The election suite: leader election (S2.2-S2.6, R2.4-R2.7).

use super::{canonical_weights, config_with_genesis, infos, registry, WeightedMember, MAX_LIST};
use crate::format::*;
use crate::generate::*;
use serde::{Deserialize, Serialize};
use time_consensus::election::seed::{self as seed_election, LeaderSelection};
use time_consensus::election::LeaderSchedule;
use time_consensus::election::{election_seed, unbiased_draw, Election, HeightWeights};
use time_consensus::encoding::sha256;
use time_consensus::primitives::{Date, Hash32, NodeId};
use time_consensus::registry::Tier;
use time_consensus::sim::genesis_tip;
use time_consensus::weight::seed_member_weight;
use time_consensus::{Amendment, Rules};

/// Input of [`Op::SeedElection`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedElectionIn {
    /// Height.
    pub height: u64,
    /// The node's local date.
    pub date: Date,
    /// The masternode list, in the order the node holds it.
    pub masternodes: Vec<Member>,
    /// Rotation counts to run after the election, each excluding the
    /// original leader.
    pub rotations: Vec<u32>,
}

/// Input of [`Op::SeedRotation`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRotationIn {
    /// Height.
    pub height: u64,
    /// The node's local date.
    pub date: Date,
    /// The masternode list, in the order the node holds it.
    pub masternodes: Vec<Member>,
    /// The id removed from the list.
    pub current_leader: NodeId,
    /// The rotation count appended to the seed.
    pub rotation_count: u32,
}

/// Input of [`Op::SeedWeightedSelection`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedWeightedSelectionIn {
    /// The seed (32 bytes, or 36 for a rotation).
    pub seed: Bytes,
    /// Weights in list order.
    pub weights: Vec<u64>,
}

/// Input of [`Op::Election`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionIn {
    /// The registry (any order: the canonical order is computed).
    pub masternodes: Vec<Member>,
    /// Date of block 0.
    pub genesis_date: Date,
    /// Height being decided.
    pub height: u64,
    /// Hash of the tip it extends.
    pub previous_hash: Hash32,
    /// Number of attempts to schedule (attempts `0..attempts`).
    pub attempts: u32,
}

/// Input of [`Op::Draw`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawIn {
    /// The seed.
    pub seed: Hash32,
    /// Size of the range, at least 1.
    pub space: u64,
}

/// Input of [`Op::Pick`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickIn {
    /// Weights in canonical order.
    pub weights: Vec<u64>,
    /// The seed.
    pub seed: Hash32,
    /// Excluded canonical positions, ascending, no repeats.
    pub excluded: Vec<u32>,
}

/// The deployed election: weights in list order, their wrapping total, the
/// original leader and each rotation.
#[derive(Clone, Debug, Serialize)]
pub struct SeedElectionOut {
    weights: Vec<u64>,
    total_weight: u64,
    leader: Option<LeaderSelection>,
    rotations: Vec<RotationOut>,
}

/// A rotation's result: the pick, or none if nobody is left.
#[derive(Clone, Debug, Serialize)]
pub struct RotationOut {
    rotation: u32,
    selection: Option<LeaderSelection>,
}

/// The deployed rotation's pick, or none.
#[derive(Clone, Debug, Serialize)]
pub struct SelectionOut {
    selection: Option<LeaderSelection>,
}

/// The deployed weighted pick: the position in the list and its weight.
#[derive(Clone, Debug, Serialize)]
pub struct WeightedSelectionOut {
    index: usize,
    weight: u64,
}

/// The reference election of a height.
#[derive(Clone, Debug, Serialize)]
pub struct ElectionOut {
    chain_date: Date,
    /// Members and weights, canonical order.
    canonical: Vec<WeightedMember>,
    total_weight: u64,
    quorum: u64,
    /// Leader of each attempt.
    schedule: Vec<ScheduledAttempt>,
}

/// One scheduled attempt of the reference election: its seed, its leader
/// and the leader's canonical position.
#[derive(Clone, Debug, Serialize)]
pub struct ScheduledAttempt {
    attempt: u32,
    seed: Hash32,
    leader: NodeId,
    position: u32,
}

/// The reference unbiased draw.
#[derive(Clone, Debug, Serialize)]
pub struct DrawOut {
    value: u64,
}

/// The reference pick: a canonical position, or none.
#[derive(Clone, Debug, Serialize)]
pub struct PickOut {
    position: Option<u32>,
}

const SEED_ONLY: &[(Amendment, bool)] = &[(Amendment::ChainElection, false)];
const REFERENCE: &[(Amendment, bool)] = &[(Amendment::ChainElection, true)];

impl Operation for SeedElectionIn {
    type Output = SeedElectionOut;
    const SUITE: Suite = Suite::Election;
    const NEEDS: Needs = SEED_ONLY;
    fn execute(&self, _: Rules) -> Result<SeedElectionOut, Refusal> {
        let (list, h, d) = (infos(&self.masternodes), self.height, self.date);
        let weights: Vec<u64> = list.iter().map(|m| seed_member_weight(m, d)).collect();
        let leader = seed_election::elect_leader(h, d, &list);
        let rotations = self
            .rotations
            .iter()
            .map(|&k| RotationOut {
                rotation: k,
                selection: leader
                    .as_ref()
                    .and_then(|l| seed_election::rotate_leader(h, d, &list, &l.leader, k)),
            })
            .collect();
        Ok(SeedElectionOut {
            total_weight: weights.iter().fold(0u64, |a, w| a.wrapping_add(*w)),
            weights,
            leader,
            rotations,
        })
    }
}

impl Operation for SeedRotationIn {
    type Output = SelectionOut;
    const SUITE: Suite = Suite::Election;
    const NEEDS: Needs = SEED_ONLY;
    fn execute(&self, _: Rules) -> Result<SelectionOut, Refusal> {
        let list = infos(&self.masternodes);
        let (h, d, current) = (self.height, self.date, &self.current_leader);
        Ok(SelectionOut {
            selection: seed_election::rotate_leader(h, d, &list, current, self.rotation_count),
        })
    }
}

impl Operation for SeedWeightedSelectionIn {
    type Output = WeightedSelectionOut;
    const SUITE: Suite = Suite::Election;
    const NEEDS: Needs = SEED_ONLY;
    fn execute(&self, _: Rules) -> Result<WeightedSelectionOut, Refusal> {
        if self.weights.is_empty() {
            return bad("weights: the deployed pick needs at least one node");
        }
        let (index, weight) = seed_election::weighted_selection(&self.seed.0, &self.weights);
        Ok(WeightedSelectionOut { index, weight })
    }
}

impl Operation for ElectionIn {
    type Output = ElectionOut;
    const SUITE: Suite = Suite::Election;
    const NEEDS: Needs = REFERENCE;
    fn execute(&self, _: Rules) -> Result<ElectionOut, Refusal> {
        if self.attempts > MAX_LIST {
            return bad(format!("attempts: at most {MAX_LIST}"));
        }
        let (prev, height) = (&self.previous_hash, self.height);
        let reg = registry(&self.masternodes)?;
        let chain_date = config_with_genesis(self.genesis_date).chain_date(height);
        let w = HeightWeights::reference(&reg, chain_date);
        let e = Election::new(&w);
        let mut schedule = LeaderSchedule::new();
        let schedule = (0..self.attempts)
            .map(|a| {
                let pos = schedule.leader(&e, prev, height, a);
                ScheduledAttempt {
                    attempt: a,
                    seed: election_seed(prev, height, a),
                    leader: reg.at_position(pos as usize).node_id.clone(),
                    position: pos,
                }
            })
            .collect();
        Ok(ElectionOut {
            chain_date,
            canonical: canonical_weights(&reg, &w),
            total_weight: w.total(),
            quorum: w.quorum(),
            schedule,
        })
    }
}

impl Operation for DrawIn {
    type Output = DrawOut;
    const SUITE: Suite = Suite::Election;
    const NEEDS: Needs = REFERENCE;
    fn execute(&self, _: Rules) -> Result<DrawOut, Refusal> {
        if self.space == 0 {
            return bad("space: must be at least 1");
        }
        Ok(DrawOut {
            value: unbiased_draw(&self.seed, self.space),
        })
    }
}

impl Operation for PickIn {
    type Output = PickOut;
    const SUITE: Suite = Suite::Election;
    const NEEDS: Needs = REFERENCE;
    fn execute(&self, _: Rules) -> Result<PickOut, Refusal> {
        if self.weights.is_empty() || self.weights.len() > MAX_LIST as usize {
            return bad(format!("weights: 1 to {MAX_LIST} entries"));
        }
        let n = self.weights.len() as u32;
        let sorted = self.excluded.windows(2).all(|p| p[0] < p[1]);
        if !sorted || self.excluded.iter().any(|&p| p >= n) {
            return bad(
                "excluded: positions must ascend strictly and lie below the number of weights",
            );
        }
        // R2.1: weights given directly are bounded where they enter.
        let w = match HeightWeights::from_weights(self.weights.clone()) {
            Ok(w) => w,
            Err(e) => return rejected(&e),
        };
        Ok(PickOut {
            position: Election::new(&w).pick(&self.seed, &self.excluded),
        })
    }
}

/// The election suite.
pub fn election(g: &mut Gen) {
    let nov1 = date("2025-11-01");
    let el = |height, d: &str, masternodes: Vec<Member>, rotations: Vec<u32>| SeedElectionIn {
        height,
        date: date(d),
        masternodes,
        rotations,
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
    let rot = |current: &str, k: u32, ms: Vec<Member>| SeedRotationIn {
        height: 5,
        date: nov1,
        masternodes: ms,
        current_leader: id(current),
        rotation_count: k,
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
    let sel = |seed: Vec<u8>, weights: Vec<u64>| SeedWeightedSelectionIn {
        seed: Bytes(seed),
        weights,
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
    let relect = |ms: Vec<Member>, genesis_date, height, previous_hash, attempts| ElectionIn {
        masternodes: ms,
        genesis_date,
        height,
        previous_hash,
        attempts,
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
    let draw = |seed, space| DrawIn { seed, space };
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
    let pick = |weights: Vec<u64>, seed, excluded: Vec<u32>| PickIn {
        weights,
        seed,
        excluded,
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
