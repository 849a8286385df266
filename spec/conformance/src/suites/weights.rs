//! The weights suite: masternode weights (S2.1, R2.2, R2.3).

use super::config_with_genesis;
use crate::format::*;
use crate::generate::*;
use serde::{Deserialize, Serialize};
use time_consensus::primitives::Date;
use time_consensus::registry::{MasternodeInfo, Tier};
use time_consensus::weight::{days_active, reference_weight, seed_member_weight, seed_weight};
use time_consensus::{Amendment, Rules};

/// Input of [`Op::Weight`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightIn {
    /// Tier.
    pub tier: Tier,
    /// Whole days since registration.
    pub days_active: u64,
    /// Reputation, thousandths (seed rules read it as `milli as f32 / 1000.0`).
    pub reputation_milli: u32,
}

/// Input of [`Op::SeedWeightF32`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedWeightF32In {
    /// Tier.
    pub tier: Tier,
    /// Whole days since registration.
    pub days_active: u64,
    /// The `f32` reputation score as its 32 IEEE-754 bits, 8 hex digits,
    /// most significant first (`3f800000` is 1.0).
    pub reputation_f32_bits: String,
}

/// Input of [`Op::MemberWeight`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberWeightIn {
    /// The member.
    pub member: Member,
    /// The node's local date (seed rules).
    pub local_date: Date,
    /// Date of block 0 (reference rules: chain date = genesis + height days).
    pub genesis_date: Date,
    /// Height being decided.
    pub height: u64,
}

/// A weight, with the `f32` reputation (IEEE-754 bits) when the seed
/// formula used one.
#[derive(Clone, Debug, Serialize)]
pub struct WeightOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    reputation_f32_bits: Option<String>,
    weight: u64,
}

/// A member's weight on a date (the local or the chain date).
#[derive(Clone, Debug, Serialize)]
pub struct MemberWeightOut {
    date: Date,
    /// Whole days since registration on that date.
    days_active: u64,
    /// The `f32` reputation the seed formula used, as IEEE-754 bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    reputation_f32_bits: Option<String>,
    weight: u64,
}

fn f32_hex(x: f32) -> Option<String> {
    Some(format!("{:08x}", x.to_bits()))
}

impl Operation for WeightIn {
    type Output = WeightOut;
    const SUITE: Suite = Suite::Weights;
    fn execute(&self, rules: Rules) -> Result<WeightOut, Refusal> {
        let (tier, days) = (self.tier, self.days_active);
        Ok(if rules.has(Amendment::ChainElection) {
            WeightOut {
                reputation_f32_bits: None,
                weight: reference_weight(tier, days, self.reputation_milli),
            }
        } else {
            let rep = self.reputation_milli as f32 / 1000.0;
            WeightOut {
                reputation_f32_bits: f32_hex(rep),
                weight: seed_weight(tier, days, rep),
            }
        })
    }
}

impl Operation for SeedWeightF32In {
    type Output = WeightOut;
    const SUITE: Suite = Suite::Weights;
    const NEEDS: Needs = &[(Amendment::ChainElection, false)];
    fn execute(&self, _: Rules) -> Result<WeightOut, Refusal> {
        let s = &self.reputation_f32_bits;
        let rep = match u32::from_str_radix(s, 16) {
            Ok(bits) if s.len() == 8 => f32::from_bits(bits),
            _ => return bad(format!("reputation_f32_bits {s:?}: expected 8 hex digits")),
        };
        Ok(WeightOut {
            reputation_f32_bits: None,
            weight: seed_weight(self.tier, self.days_active, rep),
        })
    }
}

impl Operation for MemberWeightIn {
    type Output = MemberWeightOut;
    const SUITE: Suite = Suite::Weights;
    fn execute(&self, rules: Rules) -> Result<MemberWeightOut, Refusal> {
        let m = MasternodeInfo::from(&self.member);
        Ok(if rules.has(Amendment::ChainElection) {
            let date = config_with_genesis(self.genesis_date).chain_date(self.height);
            MemberWeightOut {
                date,
                days_active: days_active(date, m.registered_at),
                reputation_f32_bits: None,
                weight: time_consensus::weight::reference_member_weight(&m, date),
            }
        } else {
            MemberWeightOut {
                date: self.local_date,
                days_active: days_active(self.local_date, m.registered_at),
                reputation_f32_bits: f32_hex(m.reputation_score()),
                weight: seed_member_weight(&m, self.local_date),
            }
        })
    }
}

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
    let w = |tier, days_active, reputation_milli| WeightIn {
        tier,
        days_active,
        reputation_milli,
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
            SeedWeightF32In {
                tier,
                days_active: d,
                reputation_f32_bits: bits.into(),
            },
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
        let op = MemberWeightIn {
            member: seed_members[*who].clone(),
            local_date: date(local),
            genesis_date: date("2025-10-24"),
            height: *height,
        };
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
        let op = MemberWeightIn {
            member: leap.clone(),
            local_date: date(local),
            genesis_date: date("2024-10-24"),
            height: *height,
        };
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
