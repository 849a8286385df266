//! Protocol configuration: the seed's `OrchestratorConfig` and
//! `FallbackConfig` with their defaults, plus the few parameters the deployed
//! code left implicit (rewards, the reward-only voting window, bounds on what a
//! node buffers).

use crate::primitives::{Date, ShortString};
use serde::{Deserialize, Serialize};

/// One coin in base units.
pub const COIN: u64 = 100_000_000;

/// Most leader rotations a configuration may ask for (R7.1).
pub const MAX_LEADER_ROTATIONS: u32 = 1000;

/// Most attempts ahead a node may buffer (R4.4): 16 times the default. A node
/// precomputes the leaders of attempts `0..=max_leader_rotations + 2 +
/// max_future_attempts` at the start of each height and buffers messages that
/// far ahead, so both stay small (at most 1259 leaders).
pub const MAX_FUTURE_ATTEMPTS: u32 = 256;

/// Default byte limit of a block's mempool transactions (R3.6): 4 MiB.
pub const DEFAULT_MAX_BLOCK_BYTES: u32 = 4 << 20;

/// Largest byte limit a configuration may set (R3.6): 1 GiB. With the
/// largest coinbase (2^24 members, under 1.3 * 10^9 bytes) a block's
/// transactions then stay below 2^32 bytes, so every length they hold fits
/// its `u32` prefix (R0.2).
pub const MAX_BLOCK_BYTES: u32 = 1 << 30;

/// Default growth of the attempt timer per attempt under A7 (R7.2): 10 s,
/// so that a start skew of one default attempt (34 s) is absorbed by
/// attempt 4.
pub const DEFAULT_ATTEMPT_TIMEOUT_GROWTH_SECS: u64 = 10;

fn default_attempt_timeout_growth_secs() -> u64 {
    DEFAULT_ATTEMPT_TIMEOUT_GROWTH_SECS
}

fn is_default_attempt_timeout_growth_secs(v: &u64) -> bool {
    *v == DEFAULT_ATTEMPT_TIMEOUT_GROWTH_SECS
}

fn default_max_block_bytes() -> u32 {
    DEFAULT_MAX_BLOCK_BYTES
}

fn is_default_max_block_bytes(v: &u32) -> bool {
    *v == DEFAULT_MAX_BLOCK_BYTES
}

/// The seed's `FallbackConfig` (phase 7).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackConfig {
    /// Leader rotations before the reward-only attempt (default 2).
    pub max_leader_rotations: u32,
    /// How long a node waits for the leader's proposal (default 30 s).
    pub leader_timeout_secs: u64,
    /// Voting timeout (default 4 s; the deployed code kept it equal to the
    /// orchestrator's voting window).
    pub voting_timeout_secs: u64,
    /// Whether the ladder ends in an emergency block (default true).
    pub enable_emergency_blocks: bool,
}

impl Default for FallbackConfig {
    fn default() -> Self {
        FallbackConfig {
            max_leader_rotations: 2,
            leader_timeout_secs: 30,
            voting_timeout_secs: 4,
            enable_emergency_blocks: true,
        }
    }
}

/// Block rewards paid by every coinbase (R3.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardConfig {
    /// Where the treasury reward goes (at most 128 bytes).
    pub treasury_address: ShortString,
    /// Treasury reward per block (also the whole emergency block's coinbase).
    pub treasury_reward: u64,
    /// Reward shared among all masternodes in proportion to tier weight.
    pub masternode_reward: u64,
}

impl Default for RewardConfig {
    fn default() -> Self {
        RewardConfig {
            treasury_address: ShortString::literal("treasury"),
            treasury_reward: 5 * COIN,
            masternode_reward: 95 * COIN,
        }
    }
}

/// The seed's `OrchestratorConfig`, extended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrchestratorConfig {
    /// Date of block 0. Seed rules: unused by the election. Reference rules:
    /// the chain date of height `h` is `genesis_date + h` days (R2.3).
    pub genesis_date: Date,
    /// Phase 1 deadline (default 30 s).
    pub heartbeat_timeout_secs: u64,
    /// Phase 5 voting window (default 4 s).
    pub voting_window_secs: u64,
    /// Voting window of the reward-only attempt (default 2 s).
    pub reward_only_voting_window_secs: u64,
    /// Phase 7 ladder.
    pub fallback_config: FallbackConfig,
    /// Coinbase amounts.
    pub rewards: RewardConfig,
    /// Most mempool transactions a block may carry.
    pub max_block_transactions: u32,
    /// Most bytes a block's mempool transactions may take, counted as their
    /// canonical encodings (R3.6); at most [`MAX_BLOCK_BYTES`]. Optional in
    /// the JSON form, and left out there when it is the default.
    #[serde(
        default = "default_max_block_bytes",
        skip_serializing_if = "is_default_max_block_bytes"
    )]
    pub max_block_bytes: u32,
    /// How many attempts ahead of its own a node buffers messages for (R4.4);
    /// 1 to [`MAX_FUTURE_ATTEMPTS`].
    pub max_future_attempts: u32,
    /// Under A7, how much longer each attempt's timer is than the previous
    /// one's (R7.2; 0 keeps them equal). Optional in the JSON form, and left
    /// out there when it is the default.
    #[serde(
        default = "default_attempt_timeout_growth_secs",
        skip_serializing_if = "is_default_attempt_timeout_growth_secs"
    )]
    pub attempt_timeout_growth_secs: u64,
    /// Software version announced in heartbeats (at most 128 bytes).
    pub version: ShortString,
}

impl Default for OrchestratorConfig {
    fn default() -> Self {
        OrchestratorConfig {
            genesis_date: Date::GENESIS,
            heartbeat_timeout_secs: 30,
            voting_window_secs: 4,
            reward_only_voting_window_secs: 2,
            fallback_config: FallbackConfig::default(),
            rewards: RewardConfig::default(),
            max_block_transactions: 10_000,
            max_block_bytes: DEFAULT_MAX_BLOCK_BYTES,
            max_future_attempts: 16,
            attempt_timeout_growth_secs: DEFAULT_ATTEMPT_TIMEOUT_GROWTH_SECS,
            version: ShortString::literal("1.0.0"),
        }
    }
}

/// A configuration that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A timeout of zero would fire before any message could arrive.
    #[error("{0} must be at least 1 second")]
    ZeroTimeout(&'static str),
    /// Absurdly many rotations: attempts would never reach the emergency block.
    #[error("max_leader_rotations is {0}; at most {MAX_LEADER_ROTATIONS} is supported")]
    TooManyRotations(u32),
    /// Rewards whose sum overflows.
    #[error("treasury_reward + masternode_reward overflows u64")]
    RewardOverflow,
    /// A node that buffers nothing ahead cannot catch up with faster peers.
    #[error("max_future_attempts must be at least 1")]
    NoFutureWindow,
    /// A block byte limit whose blocks could hold lengths beyond `u32`
    /// (R3.6).
    #[error("max_block_bytes is {got}; at most {max} is supported")]
    HugeBlockLimit {
        /// The value given.
        got: u32,
        /// [`MAX_BLOCK_BYTES`].
        max: u32,
    },
    /// A window so far ahead that the leaders precomputed per height and the
    /// messages buffered would be unbounded (R4.4).
    #[error("max_future_attempts is {got}; at most {max} is supported")]
    TooManyFutureAttempts {
        /// The value given.
        got: u32,
        /// [`MAX_FUTURE_ATTEMPTS`].
        max: u32,
    },
    /// Timeouts so long that logical time in milliseconds would overflow.
    #[error("{0} is longer than 10^9 seconds")]
    HugeTimeout(&'static str),
}

impl OrchestratorConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let timeouts = [
            ("heartbeat_timeout_secs", self.heartbeat_timeout_secs),
            ("voting_window_secs", self.voting_window_secs),
            (
                "reward_only_voting_window_secs",
                self.reward_only_voting_window_secs,
            ),
            (
                "fallback_config.leader_timeout_secs",
                self.fallback_config.leader_timeout_secs,
            ),
            (
                "fallback_config.voting_timeout_secs",
                self.fallback_config.voting_timeout_secs,
            ),
        ];
        for (name, v) in timeouts {
            if v == 0 {
                return Err(ConfigError::ZeroTimeout(name));
            }
            if v > 1_000_000_000 {
                return Err(ConfigError::HugeTimeout(name));
            }
        }
        if self.fallback_config.max_leader_rotations > MAX_LEADER_ROTATIONS {
            return Err(ConfigError::TooManyRotations(
                self.fallback_config.max_leader_rotations,
            ));
        }
        if self
            .rewards
            .treasury_reward
            .checked_add(self.rewards.masternode_reward)
            .is_none()
        {
            return Err(ConfigError::RewardOverflow);
        }
        if self.attempt_timeout_growth_secs > 1_000_000_000 {
            return Err(ConfigError::HugeTimeout("attempt_timeout_growth_secs"));
        }
        if self.max_future_attempts == 0 {
            return Err(ConfigError::NoFutureWindow);
        }
        // R4.4. With both caps the leader horizon of a height,
        // `max_leader_rotations + 2 + max_future_attempts`, is at most 1258.
        if self.max_future_attempts > MAX_FUTURE_ATTEMPTS {
            return Err(ConfigError::TooManyFutureAttempts {
                got: self.max_future_attempts,
                max: MAX_FUTURE_ATTEMPTS,
            });
        }
        if self.max_block_bytes > MAX_BLOCK_BYTES {
            return Err(ConfigError::HugeBlockLimit {
                got: self.max_block_bytes,
                max: MAX_BLOCK_BYTES,
            });
        }
        Ok(())
    }

    /// R7.2: the attempt timer of `attempt` under the two-step rules, in ms:
    /// `leader_timeout_secs + window`, plus, with A7, `attempt *
    /// attempt_timeout_growth_secs`; at most 10^9 s.
    pub fn attempt_timeout_ms(&self, attempt: u32, window_secs: u64, grows: bool) -> u64 {
        let growth = if grows {
            u64::from(attempt).saturating_mul(self.attempt_timeout_growth_secs)
        } else {
            0
        };
        self.fallback_config
            .leader_timeout_secs
            .saturating_add(window_secs)
            .saturating_add(growth)
            .min(1_000_000_000)
            * 1000
    }

    /// The chain date of `height` (R2.3), saturating at the calendar's end.
    pub fn chain_date(&self, height: u64) -> Date {
        let days = i64::try_from(height).unwrap_or(i64::MAX);
        self.genesis_date.add_days(days).unwrap_or(Date::LAST)
    }

    /// The scheduled timestamp of `height`: midnight UTC of its chain date, in
    /// seconds since 1970 (R3.1). Blocks carry it so that the emergency block
    /// is canonical.
    pub fn block_timestamp(&self, height: u64) -> u64 {
        let days = self.chain_date(height).days_since_epoch();
        (i64::from(days) * 86_400).max(0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Seed test `test_consensus_orchestrator_creation`, re-expressed.
    #[test]
    fn defaults_are_the_deployed_ones() {
        let c = OrchestratorConfig::default();
        assert_eq!(c.voting_window_secs, 4);
        assert_eq!(c.heartbeat_timeout_secs, 30);
        assert_eq!(c.genesis_date.to_string(), "2025-10-24");
        assert_eq!(c.fallback_config.max_leader_rotations, 2);
        assert_eq!(c.fallback_config.leader_timeout_secs, 30);
        assert_eq!(c.fallback_config.voting_timeout_secs, 4);
        assert!(c.fallback_config.enable_emergency_blocks);
        assert_eq!(c.validate(), Ok(()));
        // The constants built by ShortString::literal and Date's are whole.
        assert_eq!(c.version.as_str(), "1.0.0");
        assert_eq!(c.rewards.treasury_address.as_str(), "treasury");
        assert_eq!(Some(Date::GENESIS), Date::from_ymd(2025, 10, 24));
        assert_eq!(Some(Date::LAST), Date::from_ymd(9999, 12, 31));
        assert_eq!(c.chain_date(u64::MAX), Date::LAST);
        let long = ShortString::literal(
            "ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
        );
        assert_eq!(long.as_str().len(), 128);
    }

    #[test]
    fn attempt_timers_grow_only_under_a7_and_saturate() {
        let mut c = OrchestratorConfig::default();
        assert_eq!(c.attempt_timeout_ms(3, 4, false), 34_000);
        assert_eq!(c.attempt_timeout_ms(3, 4, true), 64_000);
        assert_eq!(c.attempt_timeout_ms(u32::MAX, 4, true), 1_000_000_000_000);
        c.attempt_timeout_growth_secs = 1_000_000_001;
        assert_eq!(
            c.validate(),
            Err(ConfigError::HugeTimeout("attempt_timeout_growth_secs"))
        );
        c.attempt_timeout_growth_secs = 0;
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.attempt_timeout_ms(3, 4, true), 34_000);
        // The JSON form leaves the default out, so older files still read.
        let json = serde_json::to_string(&OrchestratorConfig::default()).unwrap();
        assert!(!json.contains("attempt_timeout_growth_secs"));
    }

    #[test]
    fn nonsense_configurations_are_refused() {
        let c = OrchestratorConfig {
            voting_window_secs: 0,
            ..Default::default()
        };
        assert_eq!(
            c.validate(),
            Err(ConfigError::ZeroTimeout("voting_window_secs"))
        );
        let mut c = OrchestratorConfig::default();
        c.rewards.treasury_reward = u64::MAX;
        assert_eq!(c.validate(), Err(ConfigError::RewardOverflow));
        let mut c = OrchestratorConfig::default();
        c.fallback_config.max_leader_rotations = 5000;
        assert!(c.validate().is_err());
        let c = OrchestratorConfig {
            max_future_attempts: 0,
            ..Default::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::NoFutureWindow));
    }

    #[test]
    fn the_future_window_is_capped() {
        let with = |max_future_attempts| OrchestratorConfig {
            max_future_attempts,
            ..Default::default()
        };
        assert_eq!(with(MAX_FUTURE_ATTEMPTS).validate(), Ok(()));
        for got in [
            MAX_FUTURE_ATTEMPTS + 1,
            100_000_000,
            4_294_967_000,
            u32::MAX,
        ] {
            assert_eq!(
                with(got).validate(),
                Err(ConfigError::TooManyFutureAttempts {
                    got,
                    max: MAX_FUTURE_ATTEMPTS
                })
            );
        }
        // The largest accepted horizon (`node::HeightCtx::new`) is small.
        let mut c = with(MAX_FUTURE_ATTEMPTS);
        c.fallback_config.max_leader_rotations = MAX_LEADER_ROTATIONS;
        assert_eq!(c.validate(), Ok(()));
        let horizon = c.fallback_config.max_leader_rotations + 2 + c.max_future_attempts;
        assert_eq!(horizon, 1258);
    }

    #[test]
    fn the_block_byte_limit_is_capped_and_optional_in_json() {
        let with = |max_block_bytes| OrchestratorConfig {
            max_block_bytes,
            ..Default::default()
        };
        assert_eq!(with(0).validate(), Ok(()));
        assert_eq!(with(MAX_BLOCK_BYTES).validate(), Ok(()));
        for got in [MAX_BLOCK_BYTES + 1, u32::MAX] {
            assert_eq!(
                with(got).validate(),
                Err(ConfigError::HugeBlockLimit {
                    got,
                    max: MAX_BLOCK_BYTES
                })
            );
        }
        // The default is left out of the JSON form, and read back when absent.
        let c = OrchestratorConfig::default();
        let json = serde_json::to_value(&c).unwrap();
        assert!(json.get("max_block_bytes").is_none());
        assert_eq!(
            serde_json::from_value::<OrchestratorConfig>(json).unwrap(),
            c
        );
        let json = serde_json::to_value(with(1000)).unwrap();
        assert_eq!(json["max_block_bytes"], 1000);
        assert_eq!(
            serde_json::from_value::<OrchestratorConfig>(json).unwrap(),
            with(1000)
        );
    }

    #[test]
    fn chain_dates_follow_heights() {
        let c = OrchestratorConfig::default();
        assert_eq!(c.chain_date(0).to_string(), "2025-10-24");
        assert_eq!(c.chain_date(8).to_string(), "2025-11-01");
        assert_eq!(c.block_timestamp(1) - c.block_timestamp(0), 86_400);
    }
}
