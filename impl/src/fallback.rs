//! Phase 7's ladder: what each attempt of a height is (S7.1-S7.3, R7.1-R7.3).
//!
//! Seed rules (the deployed orchestrator): attempt 0 is led by the original
//! leader, attempt 1 by rotation 1, attempt 2 is a reward-only block led by the
//! original leader again, and from attempt `max_leader_rotations + 1` (3) each
//! node accepts the emergency block on its own.
//!
//! Reference rules (A5): attempt 0 and `max_leader_rotations` rotations, then
//! one reward-only attempt, each led by a fresh leader of the schedule; then
//! leaderless emergency attempts, where the canonical emergency block is the
//! default proposal and needs both quorums (A4).

use crate::config::OrchestratorConfig;
use crate::rules::{Amendment, Rules};
use serde::{Deserialize, Serialize};

/// The deployed `FallbackStrategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FallbackStrategy {
    /// A (possibly rotated) leader proposes a full block.
    RotateLeader,
    /// A leader proposes a coinbase-only block.
    RewardOnlyBlock,
    /// The emergency block.
    EmergencyBlock,
}

/// Why an attempt ended without a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FallbackReason {
    /// No valid proposal from the leader in time.
    LeaderTimeout,
    /// The voting window closed without consensus.
    ConsensusNotReached,
    /// Reference rules (R7.7): more than a third of the weight is in a later
    /// attempt.
    LaterAttempt,
}

/// The deployed `next_strategy`, from the number of failed attempts (S7.1).
pub fn seed_next_strategy(attempt_count: u32, enable_emergency_blocks: bool) -> FallbackStrategy {
    match attempt_count {
        0 | 1 => FallbackStrategy::RotateLeader,
        2 => FallbackStrategy::RewardOnlyBlock,
        _ if enable_emergency_blocks => FallbackStrategy::EmergencyBlock,
        _ => FallbackStrategy::RewardOnlyBlock,
    }
}

/// The deployed `needs_emergency_block` (S7.2).
pub fn seed_needs_emergency_block(
    attempt_count: u32,
    max_leader_rotations: u32,
    enable: bool,
) -> bool {
    u64::from(attempt_count) > u64::from(max_leader_rotations) && enable
}

/// Who leads an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LeaderRule {
    /// Seed: the leader elected at attempt 0.
    Original,
    /// Seed: `rotate_leader(original, rotation_count)`.
    SeedRotation(u32),
    /// Reference: the schedule's leader of this attempt (R2.7).
    Scheduled,
    /// Nobody: an emergency attempt.
    Leaderless,
}

/// What a block of this attempt must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BlockKind {
    /// Coinbase and mempool transactions.
    Normal,
    /// Coinbase only.
    RewardOnly,
    /// The canonical treasury-only block of the height.
    Emergency,
}

impl BlockKind {
    /// One-byte code in the header encoding.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The plan of one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AttemptPlan {
    /// Attempt index, from 0.
    pub attempt: u32,
    /// The deployed strategy name of this attempt.
    pub strategy: FallbackStrategy,
    /// Who proposes.
    pub leader: LeaderRule,
    /// What a freshly built block must be.
    pub kind: BlockKind,
    /// Seed flaw 4: the emergency block is accepted without any vote.
    pub unilateral_emergency: bool,
    /// Voting window, seconds.
    pub voting_window_secs: u64,
}

/// The plan of `attempt` under `rules` (S7.1-S7.3, R7.1-R7.3).
pub fn plan(rules: Rules, cfg: &OrchestratorConfig, attempt: u32) -> AttemptPlan {
    let m = cfg.fallback_config.max_leader_rotations;
    let enable = cfg.fallback_config.enable_emergency_blocks;
    let emergency = AttemptPlan {
        attempt,
        strategy: FallbackStrategy::EmergencyBlock,
        leader: LeaderRule::Leaderless,
        kind: BlockKind::Emergency,
        unilateral_emergency: !rules.has(Amendment::EmergencyQuorum),
        voting_window_secs: cfg.voting_window_secs,
    };
    let reward_only = |leader| AttemptPlan {
        attempt,
        strategy: FallbackStrategy::RewardOnlyBlock,
        leader,
        kind: BlockKind::RewardOnly,
        unilateral_emergency: false,
        voting_window_secs: cfg.reward_only_voting_window_secs,
    };
    if rules.has(Amendment::ChainElection) {
        let a = u64::from(attempt);
        let m = u64::from(m);
        if a <= m {
            AttemptPlan {
                attempt,
                strategy: FallbackStrategy::RotateLeader,
                leader: LeaderRule::Scheduled,
                kind: BlockKind::Normal,
                unilateral_emergency: false,
                voting_window_secs: cfg.voting_window_secs,
            }
        } else if a == m + 1 || !enable {
            reward_only(LeaderRule::Scheduled)
        } else {
            emergency
        }
    } else {
        if seed_needs_emergency_block(attempt, m, enable) {
            return emergency;
        }
        match seed_next_strategy(attempt, enable) {
            FallbackStrategy::RotateLeader => AttemptPlan {
                attempt,
                strategy: FallbackStrategy::RotateLeader,
                leader: if attempt == 0 {
                    LeaderRule::Original
                } else {
                    LeaderRule::SeedRotation(attempt)
                },
                kind: BlockKind::Normal,
                unilateral_emergency: false,
                voting_window_secs: cfg.voting_window_secs,
            },
            FallbackStrategy::RewardOnlyBlock => reward_only(LeaderRule::Original),
            // Attempts 3..=m when m > 2: the deployed loop runs the
            // "EmergencyBlock" strategy through normal voting, led by the
            // original leader, without transactions.
            FallbackStrategy::EmergencyBlock => AttemptPlan {
                strategy: FallbackStrategy::EmergencyBlock,
                ..reward_only(LeaderRule::Original)
            },
        }
    }
}

/// The deployed `FallbackManager`'s record of attempts, kept for the seed's
/// phase-7 tests and for monitoring.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FallbackLog {
    attempts: Vec<FallbackAttemptRecord>,
}

/// One recorded attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FallbackAttemptRecord {
    /// 1-based attempt number.
    pub attempt_number: u32,
    /// Why it failed (or the reason recorded with a success).
    pub reason: FallbackReason,
    /// Strategy applied.
    pub strategy: FallbackStrategy,
    /// Its leader, if any.
    pub leader: Option<crate::primitives::NodeId>,
    /// Whether it produced the block.
    pub succeeded: bool,
}

impl FallbackLog {
    /// Records an attempt.
    pub fn record(
        &mut self,
        reason: FallbackReason,
        strategy: FallbackStrategy,
        leader: Option<crate::primitives::NodeId>,
        succeeded: bool,
    ) {
        let attempt_number = self.attempt_count_u32().saturating_add(1);
        self.attempts.push(FallbackAttemptRecord {
            attempt_number,
            reason,
            strategy,
            leader,
            succeeded,
        });
    }

    /// Strategy for the next attempt (deployed `next_strategy`).
    pub fn next_strategy(&self, enable_emergency_blocks: bool) -> FallbackStrategy {
        seed_next_strategy(self.attempt_count_u32(), enable_emergency_blocks)
    }

    /// Deployed `needs_emergency_block`.
    pub fn needs_emergency_block(&self, cfg: &crate::config::FallbackConfig) -> bool {
        seed_needs_emergency_block(
            self.attempt_count_u32(),
            cfg.max_leader_rotations,
            cfg.enable_emergency_blocks,
        )
    }

    /// Number of attempts recorded.
    pub fn attempt_count(&self) -> usize {
        self.attempts.len()
    }

    /// The count as the `u32` the deployed code used, saturating at
    /// `u32::MAX` instead of truncating.
    fn attempt_count_u32(&self) -> u32 {
        u32::try_from(self.attempts.len()).unwrap_or(u32::MAX)
    }

    /// Whether any attempt succeeded.
    pub fn has_success(&self) -> bool {
        self.attempts.iter().any(|a| a.succeeded)
    }

    /// Forgets all attempts.
    pub fn reset(&mut self) {
        self.attempts.clear();
    }

    /// The records.
    pub fn attempts(&self) -> &[FallbackAttemptRecord] {
        &self.attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FallbackConfig;

    fn id(s: &str) -> Option<crate::primitives::NodeId> {
        Some(crate::primitives::NodeId::new(s).unwrap())
    }

    // Seed test `test_fallback_strategy_progression`.
    #[test]
    fn seed_strategy_progression() {
        let mut log = FallbackLog::default();
        assert_eq!(log.next_strategy(true), FallbackStrategy::RotateLeader);
        log.record(
            FallbackReason::LeaderTimeout,
            FallbackStrategy::RotateLeader,
            id("node1"),
            false,
        );
        assert_eq!(log.next_strategy(true), FallbackStrategy::RotateLeader);
        log.record(
            FallbackReason::ConsensusNotReached,
            FallbackStrategy::RotateLeader,
            id("node2"),
            false,
        );
        assert_eq!(log.next_strategy(true), FallbackStrategy::RewardOnlyBlock);
        log.record(
            FallbackReason::ConsensusNotReached,
            FallbackStrategy::RewardOnlyBlock,
            id("node3"),
            false,
        );
        assert_eq!(log.next_strategy(true), FallbackStrategy::EmergencyBlock);
        assert_eq!(log.next_strategy(false), FallbackStrategy::RewardOnlyBlock);
    }

    // Seed test `test_emergency_block_detection`.
    #[test]
    fn seed_emergency_detection_after_three_failures() {
        let mut log = FallbackLog::default();
        let cfg = FallbackConfig::default();
        assert!(!log.needs_emergency_block(&cfg));
        for i in 0..3 {
            assert!(!log.needs_emergency_block(&cfg));
            log.record(
                FallbackReason::LeaderTimeout,
                FallbackStrategy::RotateLeader,
                id(&format!("node{i}")),
                false,
            );
        }
        assert!(log.needs_emergency_block(&cfg));
        let disabled = FallbackConfig {
            enable_emergency_blocks: false,
            ..cfg
        };
        assert!(!log.needs_emergency_block(&disabled));
    }

    // Seed tests `test_success_tracking`, `test_attempt_count`, `test_reset`.
    #[test]
    fn seed_log_tracks_success_count_and_reset() {
        let mut log = FallbackLog::default();
        assert!(!log.has_success());
        assert_eq!(log.attempt_count(), 0);
        log.record(
            FallbackReason::LeaderTimeout,
            FallbackStrategy::RotateLeader,
            id("node1"),
            false,
        );
        assert!(!log.has_success());
        assert_eq!(log.attempt_count(), 1);
        log.record(
            FallbackReason::ConsensusNotReached,
            FallbackStrategy::RotateLeader,
            id("node2"),
            true,
        );
        assert!(log.has_success());
        assert_eq!(log.attempt_count(), 2);
        assert_eq!(log.attempts()[1].attempt_number, 2);
        log.reset();
        assert_eq!(log.attempt_count(), 0);
    }

    #[test]
    fn seed_ladder_is_original_rotation_reward_only_by_original_then_emergency() {
        let cfg = OrchestratorConfig::default();
        let p: Vec<AttemptPlan> = (0..5).map(|a| plan(Rules::Seed, &cfg, a)).collect();
        assert_eq!(p[0].leader, LeaderRule::Original);
        assert_eq!(p[1].leader, LeaderRule::SeedRotation(1));
        assert_eq!(
            (p[2].leader, p[2].kind),
            (LeaderRule::Original, BlockKind::RewardOnly)
        );
        assert_eq!(p[2].voting_window_secs, 2);
        assert!(p[3].unilateral_emergency && p[4].unilateral_emergency);
        assert_eq!(p[3].leader, LeaderRule::Leaderless);
    }

    #[test]
    fn seed_ladder_with_more_rotations_runs_emergency_strategy_through_voting() {
        let mut cfg = OrchestratorConfig::default();
        cfg.fallback_config.max_leader_rotations = 4;
        let p3 = plan(Rules::Seed, &cfg, 3);
        assert_eq!(p3.strategy, FallbackStrategy::EmergencyBlock);
        assert_eq!(
            (p3.leader, p3.kind),
            (LeaderRule::Original, BlockKind::RewardOnly)
        );
        assert!(plan(Rules::Seed, &cfg, 5).unilateral_emergency);
        cfg.fallback_config.enable_emergency_blocks = false;
        assert_eq!(plan(Rules::Seed, &cfg, 9).kind, BlockKind::RewardOnly);
    }

    #[test]
    fn reference_ladder_is_rotate_rotate_reward_only_emergency() {
        let cfg = OrchestratorConfig::default();
        let kinds: Vec<(LeaderRule, BlockKind, bool)> = (0..6)
            .map(|a| plan(Rules::Reference, &cfg, a))
            .map(|p| (p.leader, p.kind, p.unilateral_emergency))
            .collect();
        use BlockKind::*;
        use LeaderRule::*;
        assert_eq!(
            kinds,
            vec![
                (Scheduled, Normal, false),
                (Scheduled, Normal, false),
                (Scheduled, Normal, false),
                (Scheduled, RewardOnly, false),
                (Leaderless, Emergency, false),
                (Leaderless, Emergency, false),
            ]
        );
        let ablated = Rules::Reference.without(crate::rules::Amendment::EmergencyQuorum);
        assert!(plan(ablated, &cfg, 4).unilateral_emergency);
    }
}
