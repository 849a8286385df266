//! The fallback suite: the attempt ladder (S7.x, R7.1-R7.3).

use super::MAX_LIST;
use crate::format::*;
use crate::generate::*;
use serde::{Deserialize, Serialize};
use time_consensus::config::OrchestratorConfig;
use time_consensus::fallback::{plan, seed_needs_emergency_block, seed_next_strategy};
use time_consensus::fallback::{AttemptPlan, FallbackStrategy};
use time_consensus::{Amendment, Rules};

/// The configuration the ladder depends on.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderConfig {
    /// Leader rotations before the reward-only attempt.
    pub max_leader_rotations: u32,
    /// Whether the ladder ends in emergency blocks.
    pub enable_emergency_blocks: bool,
    /// Voting window of normal attempts, seconds.
    pub voting_window_secs: u64,
    /// Voting window of the reward-only attempt, seconds.
    pub reward_only_voting_window_secs: u64,
}

/// Input of [`Op::Plan`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    /// Ladder configuration.
    pub config: LadderConfig,
    /// Number of attempts to plan (attempts `0..attempts`).
    pub attempts: u32,
}

/// Input of [`Op::SeedNextStrategy`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedNextStrategyIn {
    /// Failed attempts so far.
    pub attempt_count: u32,
    /// Whether emergency blocks are enabled.
    pub enable_emergency_blocks: bool,
}

/// Input of [`Op::SeedNeedsEmergencyBlock`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedNeedsEmergencyBlockIn {
    /// Failed attempts so far.
    pub attempt_count: u32,
    /// Leader rotations configured.
    pub max_leader_rotations: u32,
    /// Whether emergency blocks are enabled.
    pub enable_emergency_blocks: bool,
}

/// The plan of each attempt.
#[derive(Clone, Debug, Serialize)]
pub struct PlanOut {
    attempts: Vec<AttemptPlan>,
}

/// The deployed strategy.
#[derive(Clone, Debug, Serialize)]
pub struct StrategyOut {
    strategy: FallbackStrategy,
}

/// The deployed decision.
#[derive(Clone, Debug, Serialize)]
pub struct NeedsEmergencyOut {
    needs_emergency_block: bool,
}

const SEED_ONLY: &[(Amendment, bool)] = &[(Amendment::ChainElection, false)];

impl Operation for PlanIn {
    type Output = PlanOut;
    const SUITE: Suite = Suite::Fallback;
    fn execute(&self, rules: Rules) -> Result<PlanOut, Refusal> {
        if self.attempts > MAX_LIST {
            return bad(format!("attempts: at most {MAX_LIST}"));
        }
        let (c, mut cfg) = (&self.config, OrchestratorConfig::default());
        cfg.fallback_config.max_leader_rotations = c.max_leader_rotations;
        cfg.fallback_config.enable_emergency_blocks = c.enable_emergency_blocks;
        cfg.voting_window_secs = c.voting_window_secs;
        cfg.reward_only_voting_window_secs = c.reward_only_voting_window_secs;
        cfg.validate()
            .map_err(|e| Refusal::BadInput(format!("config: {e}")))?;
        Ok(PlanOut {
            attempts: (0..self.attempts).map(|a| plan(rules, &cfg, a)).collect(),
        })
    }
}

impl Operation for SeedNextStrategyIn {
    type Output = StrategyOut;
    const SUITE: Suite = Suite::Fallback;
    const NEEDS: Needs = SEED_ONLY;
    fn execute(&self, _: Rules) -> Result<StrategyOut, Refusal> {
        Ok(StrategyOut {
            strategy: seed_next_strategy(self.attempt_count, self.enable_emergency_blocks),
        })
    }
}

impl Operation for SeedNeedsEmergencyBlockIn {
    type Output = NeedsEmergencyOut;
    const SUITE: Suite = Suite::Fallback;
    const NEEDS: Needs = SEED_ONLY;
    fn execute(&self, _: Rules) -> Result<NeedsEmergencyOut, Refusal> {
        let (n, r, e) = (
            self.attempt_count,
            self.max_leader_rotations,
            self.enable_emergency_blocks,
        );
        Ok(NeedsEmergencyOut {
            needs_emergency_block: seed_needs_emergency_block(n, r, e),
        })
    }
}

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
        let op = PlanIn {
            config: c,
            attempts: 14,
        };
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
                SeedNextStrategyIn {
                    attempt_count: count,
                    enable_emergency_blocks: enable,
                },
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
            SeedNeedsEmergencyBlockIn {
                attempt_count: count,
                max_leader_rotations: rot,
                enable_emergency_blocks: enable,
            },
        );
    }
}
