//! Masternode weights (spec R2.2, seed rule S2.1).

use crate::primitives::Date;
use crate::registry::{MasternodeInfo, Tier};

/// Whole days a masternode has been registered on `date`, never negative
/// (S2.1, R2.2).
pub fn days_active(date: Date, registered_at: Date) -> u64 {
    date.days_since(registered_at).max(0) as u64
}

/// The seed rules' weight, bit for bit (S2.1): `f32` arithmetic evaluated left
/// to right, rounded half away from zero, cast with Rust's saturating `as`.
#[allow(clippy::float_arithmetic)] // S2.1 is an f32 formula
pub fn seed_weight(tier: Tier, days_active: u64, reputation_score: f32) -> u64 {
    let tier_weight = tier.weight();
    let longevity_bonus = ((days_active / 30).min(100)) as f32 / 100.0;
    let reputation_multiplier = reputation_score.clamp(0.5, 1.5);
    let weight = tier_weight as f32 * (1.0 + longevity_bonus) * reputation_multiplier;
    weight.round() as u64
}

/// The seed weight of a registered masternode on a node's local `date`.
pub fn seed_member_weight(m: &MasternodeInfo, date: Date) -> u64 {
    seed_weight(
        m.tier,
        days_active(date, m.registered_at),
        m.reputation_score(),
    )
}

/// The reference weight (R2.2): the seed formula scaled by 100 000 so that it
/// is exact in integers, `tier * (100 + min(days/30, 100)) * clamp(rep, 500, 1500)`
/// with the reputation in thousandths. Never zero; at most 2 400 000.
pub fn reference_weight(tier: Tier, days_active: u64, reputation_milli: u32) -> u64 {
    let longevity_pct = (days_active / 30).min(100);
    let reputation = u64::from(reputation_milli.clamp(500, 1500));
    tier.weight() * (100 + longevity_pct) * reputation
}

/// The reference weight of a registered masternode on the chain date of the
/// height being decided (R2.3).
pub fn reference_member_weight(m: &MasternodeInfo, chain_date: Date) -> u64 {
    reference_weight(
        m.tier,
        days_active(chain_date, m.registered_at),
        m.reputation_milli,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Seed test `test_node_weight_calculation`, re-expressed.
    #[test]
    fn seed_weight_matches_the_deployed_examples() {
        assert_eq!(seed_weight(Tier::Free, 0, 1.0), 1);
        assert_eq!(seed_weight(Tier::Gold, 60, 1.2), 10); // 8 * 1.02 * 1.2 = 9.79
        assert_eq!(seed_weight(Tier::Silver, 90, 1.5), 6); // 4 * 1.03 * 1.5 = 6.18
    }

    #[test]
    fn seed_weight_rounds_in_f32_half_away_from_zero() {
        // 1 * 1.0 * 0.5 = 0.5 rounds up to 1; 2 * 1.25 would need a 0.25 bonus.
        assert_eq!(seed_weight(Tier::Free, 0, 0.5), 1);
        assert_eq!(seed_weight(Tier::Bronze, 0, 1.25), 3); // 2.5 -> 3
        assert_eq!(seed_weight(Tier::Free, 0, 0.1), 1); // clamped to 0.5
        assert_eq!(seed_weight(Tier::Gold, 1_000_000, 9.0), 24); // 8 * 2 * 1.5
        assert_eq!(seed_weight(Tier::Free, 0, f32::NAN), 0); // NaN casts to 0
    }

    #[test]
    fn reference_weight_is_the_seed_formula_scaled_and_exact() {
        assert_eq!(reference_weight(Tier::Free, 0, 1000), 100_000);
        assert_eq!(reference_weight(Tier::Gold, 60, 1200), 8 * 102 * 1200);
        assert_eq!(reference_weight(Tier::Gold, 99_999, 9_999), 2_400_000);
        assert_eq!(reference_weight(Tier::Free, 0, 0), 50_000);
    }
}
