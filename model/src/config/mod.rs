//! What a model run checks: the masternode set, who is Byzantine and how, the
//! rules, the attempt bound, and the network and timer semantics. Named
//! configurations reproduce the runs the spec cites.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use time_consensus::block::Transaction;
use time_consensus::crypto::{Keypair, SignatureScheme};
use time_consensus::election::HeightWeights;
use time_consensus::fallback::{plan, LeaderRule};
use time_consensus::node::{height_weights, Context, NodeError, Tip};
use time_consensus::primitives::Date;
use time_consensus::registry::{Registry, RegistryError, Tier};
use time_consensus::sim::{genesis_tip, labelled_network};
use time_consensus::{OrchestratorConfig, Rules};

mod error;
mod network;
mod presets;

pub use error::ConfigError;
pub use network::{Network, Timing, VoteDelivery};
pub use presets::{Preset, PRESETS};

/// What the Byzantine masternodes do. They sign only with their own keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Byzantine {
    /// As the leader of an attempt, propose two different valid blocks.
    pub equivocate: bool,
    /// Approve and commit every block it sees proposed, in the attempt it was
    /// proposed for, and the emergency block in emergency attempts: double
    /// votes included.
    pub vote_any: bool,
    /// Declare a weight of 1000 in its votes (counted by the seed rules).
    pub inflate_weight: bool,
    /// Under partial synchrony, send whenever it likes, even after honest
    /// timeouts; otherwise what it sends arrives in time like any message.
    /// (Under `async` every message may arrive at any time anyway.)
    #[serde(default)]
    pub late: bool,
    /// Commit every block a leader could propose and the emergency block, in
    /// every attempt of the bound (future ones included), without any
    /// approve quorum: commit votes no honest node would cast.
    #[serde(default)]
    pub commit_any: bool,
    /// Build certificates and re-proposals from what it receives, valid,
    /// with a counted vote's signed field altered, or claiming a
    /// `valid_attempt` the certificate does not support (see
    /// [`time_consensus::forge`]).
    #[serde(default)]
    pub forge: bool,
}

impl Byzantine {
    /// Equivocate and vote for anything (the weight claim only matters to
    /// the seed rules).
    pub const ACTIVE: Byzantine = Byzantine {
        equivocate: true,
        vote_any: true,
        inflate_weight: false,
        late: false,
        commit_any: false,
        forge: false,
    };
    /// Everything at once.
    pub const ALL: Byzantine = Byzantine {
        equivocate: true,
        vote_any: true,
        inflate_weight: true,
        late: true,
        commit_any: true,
        forge: true,
    };
    /// Sends nothing at all (withholds everything).
    pub const SILENT: Byzantine = Byzantine {
        equivocate: false,
        vote_any: false,
        inflate_weight: false,
        late: false,
        commit_any: false,
        forge: false,
    };

    /// Parses a comma list of `equivocate`, `vote-any`, `commit-any`,
    /// `forge-justification`, `inflate-weight`, `late`, or `all`, or `silent`.
    pub fn parse(s: &str) -> Result<Byzantine, ConfigError> {
        let mut b = Byzantine::SILENT;
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "all" => b = Byzantine::ALL,
                "silent" => {}
                "equivocate" => b.equivocate = true,
                "vote-any" => b.vote_any = true,
                "inflate-weight" => b.inflate_weight = true,
                "late" => b.late = true,
                "commit-any" => b.commit_any = true,
                "forge-justification" => b.forge = true,
                other => return Err(ConfigError::Behaviour(other.to_string())),
            }
        }
        Ok(b)
    }

    /// Whether it sends anything.
    pub fn is_silent(&self) -> bool {
        !self.equivocate && !self.vote_any && !self.commit_any && !self.forge
    }
}

impl fmt::Display for Byzantine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_silent() && !self.inflate_weight {
            return f.write_str("silent");
        }
        let parts: Vec<&str> = [
            (self.equivocate, "equivocate"),
            (self.vote_any, "vote-any"),
            (self.inflate_weight, "inflate-weight"),
            (self.late, "late"),
            (self.commit_any, "commit-any"),
            (self.forge, "forge-justification"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
        f.write_str(&parts.join(","))
    }
}

/// The most mempool transactions a configuration may give each leader: a
/// block's limit under the default configuration (R3.6).
pub const MAX_MEMPOOL: usize = 10_000;

/// The latest start offset a clocked configuration may give: a day, far
/// beyond any ladder explored (attempt timers are tens of seconds).
pub const MAX_START_SECS: u64 = 86_400;

/// Parses comma-separated start offsets in seconds (`0,40,40,40`).
pub fn parse_starts(s: &str) -> Result<Vec<u64>, ConfigError> {
    s.split(',')
        .map(|x| match x.trim().parse::<u64>() {
            Ok(v) if v <= MAX_START_SECS => Ok(v),
            _ => Err(ConfigError::Starts(s.to_string())),
        })
        .collect()
}

/// A bound on the Byzantine masternodes' weight: strictly below `num/den` of
/// the total. The reference rules assume `F < T/3` (spec/properties.md, P1);
/// a configuration that checks them within that assumption says so, and one
/// that goes beyond it on purpose (the tightness checks) has no budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Numerator.
    pub num: u64,
    /// Denominator.
    pub den: u64,
}

impl Budget {
    /// Below a third: the reference rules' assumption.
    pub const THIRD: Budget = Budget { num: 1, den: 3 };

    /// Parses `n/d` (0 < n <= d <= 1000), or `none`.
    pub fn parse(s: &str) -> Result<Option<Budget>, ConfigError> {
        if s.trim() == "none" {
            return Ok(None);
        }
        let bad = || ConfigError::Budget(s.to_string());
        let (n, d) = s.trim().split_once('/').ok_or_else(bad)?;
        let num: u64 = n.trim().parse().map_err(|_| bad())?;
        let den: u64 = d.trim().parse().map_err(|_| bad())?;
        if num == 0 || num > den || den > 1000 {
            return Err(bad());
        }
        Ok(Some(Budget { num, den }))
    }

    /// Whether `weight` of `total` is below the budget.
    pub fn admits(self, weight: u64, total: u64) -> bool {
        u128::from(weight) * u128::from(self.den) < u128::from(self.num) * u128::from(total)
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// A model configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Name, for reports.
    pub name: String,
    /// Rules every honest masternode runs.
    pub rules: Rules,
    /// One tier per masternode; masternode `i` is `mn00i`.
    pub tiers: Vec<Tier>,
    /// Reputation of every masternode, thousandths.
    pub reputation_milli: u32,
    /// Which masternodes are Byzantine.
    pub byzantine: Vec<usize>,
    /// What they do.
    pub behaviour: Byzantine,
    /// The Byzantine weight budget the configuration must respect, if any.
    pub budget: Option<Budget>,
    /// The last attempt explored: its timers are not set, so the model is
    /// finite (and the last attempt waits for messages forever).
    pub max_attempt: u32,
    /// Network and timer semantics.
    pub network: Network,
    /// Start and timer ordering.
    #[serde(default)]
    pub timing: Timing,
    /// Under [`Timing::Clocked`]: when each masternode starts the height,
    /// seconds after the first (empty: all at 0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub starts_secs: Vec<u64>,
    /// Run phase 1 (heartbeats) too.
    pub phase1: bool,
    /// Whether the ladder ends in emergency blocks.
    pub emergency: bool,
    /// Leader rotations before the reward-only attempt.
    pub max_leader_rotations: u32,
    /// Transactions in each leader's mempool.
    pub mempool: usize,
    /// Vote delivery.
    pub votes: VoteDelivery,
    /// Honest leaders' proposals may be lost (a leader cut off from some or
    /// all nodes): with synchronous timers this is how leaders fail. Over
    /// two heights, at height 1 only unless
    /// [`ModelConfig::lose_later_proposals`]: each way height 1 can end is
    /// reached so, and height 2 must then finish (losing its proposals as
    /// well multiplies the states: the full ladder is beyond one machine).
    pub lose_proposals: bool,
    /// Over two heights, height 2's honest proposals may be lost too
    /// (with [`ModelConfig::lose_proposals`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lose_later_proposals: bool,
    /// Consecutive heights each honest node decides: 1, or 2 (each node
    /// starts height 2 as it finalizes height 1, from its new tip).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub heights: u64,
    /// Masternodes deregistered at height 2 (the registry is daily): they
    /// decide height 1 only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leaves: Vec<usize>,
    /// Masternodes registered at height 2 only: honest, they take height
    /// 1's block from its finality proof (R7.8) and then decide height 2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joins: Vec<usize>,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

impl ModelConfig {
    /// The named configuration `name`.
    pub fn preset(name: &str) -> Result<ModelConfig, ConfigError> {
        PRESETS
            .iter()
            .find(|p| p.name == name)
            .map(|p| (p.build)())
            .ok_or_else(|| ConfigError::UnknownPreset(name.to_string()))
    }

    fn named(mut self, name: &str) -> ModelConfig {
        self.name = name.to_string();
        self
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tiers.is_empty() {
            return Err(ConfigError::NoMasternodes);
        }
        if self.tiers.len() > 7 {
            return Err(ConfigError::TooManyMasternodes(self.tiers.len()));
        }
        for &b in &self.byzantine {
            if b >= self.tiers.len() {
                return Err(ConfigError::ByzantineIndex {
                    index: b,
                    count: self.tiers.len(),
                });
            }
        }
        for (k, &b) in self.byzantine.iter().enumerate() {
            if self.byzantine[..k].contains(&b) {
                return Err(ConfigError::ByzantineTwice(b));
            }
        }
        if (0..self.tiers.len()).all(|i| self.byzantine.contains(&i)) {
            return Err(ConfigError::NoHonest);
        }
        if self.max_attempt > 8 {
            return Err(ConfigError::MaxAttempt(self.max_attempt));
        }
        self.validate_heights()?;
        if self.reputation_milli > Registry::MAX_REPUTATION_MILLI {
            return Err(ConfigError::Reputation(self.reputation_milli));
        }
        if self.mempool > MAX_MEMPOOL {
            return Err(ConfigError::Mempool(self.mempool));
        }
        if !self.starts_secs.is_empty() {
            if self.timing != Timing::Clocked {
                return Err(ConfigError::StartsWithoutClock {
                    timing: self.timing,
                });
            }
            if self.starts_secs.len() != self.tiers.len() {
                return Err(ConfigError::StartsCount {
                    given: self.starts_secs.len(),
                    masternodes: self.tiers.len(),
                });
            }
            if self.starts_secs.iter().any(|&s| s > MAX_START_SECS) {
                return Err(ConfigError::Starts(format!("{:?}", self.starts_secs)));
            }
        }
        if let Network::Gst(g) = self.network {
            if g > self.max_attempt {
                return Err(ConfigError::GstBeyondBound {
                    gst: g,
                    max_attempt: self.max_attempt,
                });
            }
        }
        if self.timing == Timing::Clocked {
            if self.network != Network::Gst(0) {
                return Err(ConfigError::ClockedNetwork {
                    network: self.network,
                });
            }
            if self.phase1 {
                return Err(ConfigError::ClockedPhase1);
            }
        }
        if let Some(budget) = self.budget {
            for height in 1..=self.heights {
                let (weight, total) = self.byzantine_share_at(height)?;
                if !budget.admits(weight, total) {
                    return Err(ConfigError::OverBudget {
                        height,
                        weight,
                        total,
                        budget,
                    });
                }
            }
        }
        self.rules
            .validate()
            .map_err(|e| ConfigError::Node(NodeError::Rules(e)))?;
        self.orchestrator()
            .validate()
            .map_err(|e| ConfigError::Node(e.into()))?;
        Ok(())
    }

    /// Two heights: at most two; leavers and joiners exist, are named once
    /// and leave an honest member at each height; joiners are honest and
    /// the rules have finality proofs (R7.8); the adversary is silent (its
    /// scripts are of one height); timers run in lock step.
    fn validate_heights(&self) -> Result<(), ConfigError> {
        if !(1..=2).contains(&self.heights) {
            return Err(ConfigError::Heights(self.heights));
        }
        if (!self.leaves.is_empty() || !self.joins.is_empty()) && self.heights == 1 {
            return Err(ConfigError::LeavesOneHeight);
        }
        let changes = self.leaves.iter().chain(&self.joins);
        for (k, &i) in changes.clone().enumerate() {
            if i >= self.tiers.len() || changes.clone().take(k).any(|&j| j == i) {
                return Err(ConfigError::Leaver {
                    index: i,
                    count: self.tiers.len(),
                });
            }
        }
        if let Some(&j) = self.joins.iter().find(|&&j| !self.is_honest(j)) {
            return Err(ConfigError::ByzantineJoiner(j));
        }
        if !self.joins.is_empty() && !self.rules.has(time_consensus::Amendment::TwoStepLocking) {
            return Err(ConfigError::JoinWithoutProofs);
        }
        if self.lose_later_proposals && !(self.lose_proposals && self.heights == 2) {
            return Err(ConfigError::LoseLaterProposals);
        }
        if self.heights == 2 {
            for height in 1..=2 {
                if !(0..self.tiers.len()).any(|i| self.member_at(i, height) && self.is_honest(i)) {
                    return Err(ConfigError::NoHonestAt(height));
                }
            }
            if !self.behaviour.is_silent() {
                return Err(ConfigError::TwoHeightsAdversary);
            }
            if self.timing != Timing::LockStep {
                return Err(ConfigError::TwoHeightsTiming {
                    timing: self.timing,
                });
            }
        }
        Ok(())
    }

    /// Whether masternode `i` is registered at `height`.
    pub fn member_at(&self, i: usize, height: u64) -> bool {
        let changed = if height < 2 {
            &self.joins
        } else {
            &self.leaves
        };
        i < self.tiers.len() && !changed.contains(&i)
    }

    /// The protocol configuration every node runs.
    pub fn orchestrator(&self) -> OrchestratorConfig {
        let mut c = OrchestratorConfig::default();
        c.fallback_config.max_leader_rotations = self.max_leader_rotations;
        c.fallback_config.enable_emergency_blocks = self.emergency;
        c.max_future_attempts = self.max_attempt + 1;
        c
    }

    /// The date every node starts the height with (also every masternode's
    /// registration date, so weights are exactly the tier weights).
    pub fn date(&self) -> Date {
        self.orchestrator().chain_date(1)
    }

    /// The vote delivery in force. The seed flow's batches end with a
    /// voting-window timer, which under partial synchrony must wait for every
    /// delivery; there it falls back to single votes.
    pub fn vote_delivery(&self) -> VoteDelivery {
        let two_step = self.rules.has(time_consensus::Amendment::TwoStepLocking);
        if !two_step && matches!(self.network, Network::Gst(_)) {
            VoteDelivery::Single
        } else {
            self.votes
        }
    }

    /// Under [`Timing::Clocked`]: when masternode `i` starts, in ms.
    pub fn start_ms(&self, i: usize) -> u64 {
        self.starts_secs.get(i).copied().unwrap_or(0) * 1000
    }

    /// Whether masternode `i` is honest.
    pub fn is_honest(&self, i: usize) -> bool {
        !self.byzantine.contains(&i)
    }

    /// Built registries and node contexts.
    pub fn build(&self) -> Result<Built, ConfigError> {
        self.validate()?;
        let (directory, _) = self.network()?;
        let (registry, keys) = self.network_at(1)?;
        let mut later = Vec::new();
        if self.heights == 2 {
            let (registry2, keys) = self.network_at(2)?;
            let contexts2 = keys
                .into_iter()
                .enumerate()
                .map(|(i, k)| {
                    self.member_at(i, 2)
                        .then(|| {
                            Context::new(k, registry2.clone(), self.rules, self.orchestrator())
                                .map(Arc::new)
                        })
                        .transpose()
                })
                .collect::<Result<Vec<_>, _>>()?;
            later.push((registry2, contexts2));
        }
        // A joiner's first context is its height 2's.
        let contexts =
            keys.into_iter()
                .enumerate()
                .map(|(i, k)| match later.first() {
                    Some((_, c)) if !self.member_at(i, 1) => {
                        Ok(c[i].clone().expect("a joiner is a member at height 2"))
                    }
                    _ => Context::new(k, registry.clone(), self.rules, self.orchestrator())
                        .map(Arc::new),
                })
                .collect::<Result<Vec<_>, _>>()?;
        let mempool = (0..self.mempool)
            .map(|i| Transaction::transfer(format!("tx{i}").as_bytes()))
            .collect();
        Ok(Built {
            directory,
            registry,
            contexts,
            later,
            tip: genesis_tip(),
            mempool,
        })
    }

    /// Whether the ladder has a leaderless emergency attempt within the bound.
    pub fn reaches_emergency(&self) -> bool {
        (0..=self.max_attempt)
            .any(|a| plan(self.rules, &self.orchestrator(), a).leader == LeaderRule::Leaderless)
    }

    /// Every masternode, registered at either height (actor `i` is its
    /// `i`th member), and every masternode's key.
    fn network(&self) -> Result<(Arc<Registry>, Vec<Keypair>), ConfigError> {
        Ok(labelled_network(
            self.tiers.len(),
            &self.tiers,
            SignatureScheme::Symbolic,
            self.date(),
            self.reputation_milli,
        )?)
    }

    /// The registry of `height` (every masternode less those
    /// [`ModelConfig::member_at`] leaves out there), and every key.
    fn network_at(&self, height: u64) -> Result<(Arc<Registry>, Vec<Keypair>), ConfigError> {
        let (registry, keys) = self.network()?;
        if (0..self.tiers.len()).all(|i| self.member_at(i, height)) {
            return Ok((registry, keys));
        }
        let members = registry
            .members()
            .iter()
            .enumerate()
            .filter(|(i, _)| self.member_at(*i, height))
            .map(|(_, m)| m.clone())
            .collect();
        Ok((Arc::new(Registry::new(registry.scheme(), members)?), keys))
    }

    /// The quorum and the total weight, in the weights the nodes use for
    /// the height (R2.2 or S2.1).
    pub fn quorum(&self) -> Result<(u64, u64), ConfigError> {
        self.quorum_at(1)
    }

    /// [`ModelConfig::quorum`] at `height`, of its members.
    pub fn quorum_at(&self, height: u64) -> Result<(u64, u64), ConfigError> {
        let (_, weights) = self.weights_at(height)?;
        Ok((weights.quorum(), weights.total()))
    }

    /// The registry and the weights of `height`.
    fn weights_at(&self, height: u64) -> Result<(Arc<Registry>, HeightWeights), ConfigError> {
        let (registry, _) = self.network_at(height)?;
        let weights = height_weights(
            self.rules,
            &registry,
            &self.orchestrator(),
            height,
            self.date(),
        );
        Ok((registry, weights))
    }

    /// Byzantine weight over total weight, in the weights the nodes use for
    /// the height (R2.2 or S2.1), as a fraction in lowest terms.
    pub fn byzantine_share(&self) -> Result<(u64, u64), ConfigError> {
        self.byzantine_share_at(1)
    }

    /// [`ModelConfig::byzantine_share`] at `height`, of its members.
    pub fn byzantine_share_at(&self, height: u64) -> Result<(u64, u64), ConfigError> {
        let (registry, weights) = self.weights_at(height)?;
        let byz = self
            .byzantine
            .iter()
            .filter(|&&i| self.member_at(i, height))
            .filter_map(|&i| registry.position_of(&time_consensus::sim::member_id(i)))
            .map(|pos| weights.weight(pos))
            .sum();
        let total = weights.total();
        let (mut a, mut b) = (byz, total);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        let g = a.max(1);
        Ok((byz / g, total / g))
    }
}

/// A later height's registry and each masternode's context there (`None`
/// for one deregistered).
pub type LaterHeight = (Arc<Registry>, Vec<Option<Arc<Context>>>);

/// What a configuration builds.
#[derive(Clone, Debug)]
pub struct Built {
    /// Every masternode of either height, actor `i` as its `i`th member:
    /// what maps a node id to its actor.
    pub directory: Arc<Registry>,
    /// The registry of height 1.
    pub registry: Arc<Registry>,
    /// Each masternode's context (keys, rules, configuration) at the first
    /// height it is registered at.
    pub contexts: Vec<Arc<Context>>,
    /// For height 2 if run: its registry and each masternode's context
    /// there (`None` for one deregistered).
    pub later: Vec<LaterHeight>,
    /// The tip every node starts on.
    pub tip: Tip,
    /// The mempool every leader uses.
    pub mempool: Vec<Transaction>,
}

/// Parses a comma list of tiers.
pub fn parse_tiers(s: &str) -> Result<Vec<Tier>, ConfigError> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Tier::parse(p).ok_or_else(|| ConfigError::Tier(p.to_string())))
        .collect()
}
