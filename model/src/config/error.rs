//! Why a configuration is refused: one variant per kind of nonsense, each
//! naming the flag or field to change.

use super::*;

/// A configuration that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `--engine timely` with a strategy other than breadth first.
    #[error("--engine timely searches breadth first only: give --strategy bfs (or leave it out)")]
    EngineStrategy,
    /// `--engine timely` with `--stop-on-violation`.
    #[error("--engine timely explores everything: leave out --stop-on-violation")]
    EngineStopOnViolation,
    /// timely could not start (an address it cannot bind or reach).
    #[error("--engine timely could not start: {0}")]
    Engine(String),
    /// No masternodes.
    #[error("the model needs at least one masternode (got --tiers with none)")]
    NoMasternodes,
    /// More than the checker can explore.
    #[error("{0} masternodes is beyond what can be checked exhaustively; at most 7")]
    TooManyMasternodes(usize),
    /// An unknown tier name.
    #[error("unknown tier {0:?}: expected free, bronze, silver or gold")]
    Tier(String),
    /// A Byzantine index outside the set.
    #[error("Byzantine masternode {index} does not exist (there are {count})")]
    ByzantineIndex {
        /// Index given.
        index: usize,
        /// Masternodes.
        count: usize,
    },
    /// A Byzantine index given twice.
    #[error("Byzantine masternode {0} is listed twice")]
    ByzantineTwice(usize),
    /// A budget that is not a fraction in (0, 1].
    #[error("Byzantine budget {0:?} is not a fraction n/d with 0 < n <= d (or none)")]
    Budget(String),
    /// The Byzantine masternodes weigh more than the budget allows.
    #[error("the Byzantine masternodes weigh {weight} of {total}{}, not below the budget of {budget} of the weight (give --budget none to go beyond it)", if *height > 1 { format!(" at height {height}") } else { String::new() })]
    OverBudget {
        /// The height (2 once members have left).
        height: u64,
        /// Their weight.
        weight: u64,
        /// The total weight.
        total: u64,
        /// The budget.
        budget: Budget,
    },
    /// Everybody Byzantine: no property is about anyone.
    #[error("every masternode is Byzantine; at least one must be honest")]
    NoHonest,
    /// An unknown behaviour.
    #[error("unknown Byzantine behaviour {0:?}: expected equivocate, vote-any, commit-any, forge-justification, inflate-weight, late, all or silent")]
    Behaviour(String),
    /// An unknown network.
    #[error("unknown network {0:?}: expected async, lossy, sync or gst:<attempt>")]
    Network(String),
    /// An unknown timing.
    #[error("unknown timing {0:?}: expected lock-step, late-starts, staggered or clocked")]
    Timing(String),
    /// Start offsets that are not numbers of seconds.
    #[error(
        "start offsets {0:?} are not comma-separated whole seconds (at most {MAX_START_SECS} each)"
    )]
    Starts(String),
    /// Start offsets for another number of masternodes.
    #[error("{given} start offsets for {masternodes} masternodes: give one per masternode")]
    StartsCount {
        /// Offsets given.
        given: usize,
        /// Masternodes.
        masternodes: usize,
    },
    /// Start offsets under a timing without a clock.
    #[error("start offsets need --timing clocked (timing {timing} has no clock)")]
    StartsWithoutClock {
        /// The timing in force.
        timing: Timing,
    },
    /// The clocked timing under a network it does not model.
    #[error("--timing clocked needs --network gst:0 (every timer on the clock), not {network}")]
    ClockedNetwork {
        /// The network in force.
        network: Network,
    },
    /// A stabilization attempt the bound never reaches.
    #[error("--network gst:{gst} stabilizes after the last explored attempt {max_attempt}: no explored run is synchronous, so use --network async, or raise --max-attempt")]
    GstBeyondBound {
        /// The stabilization attempt.
        gst: u32,
        /// The last explored attempt.
        max_attempt: u32,
    },
    /// The clocked timing with phase 1.
    #[error("--timing clocked does not model phase 1 (its heartbeat timers repeat for ever)")]
    ClockedPhase1,
    /// An absurd attempt bound.
    #[error("max attempt {0} is too large to explore; at most 8")]
    MaxAttempt(u32),
    /// A reputation outside the registry's range.
    #[error("reputation {0} is outside 0..=10000 thousandths")]
    Reputation(u32),
    /// More mempool transactions than a block may hold.
    #[error("mempool of {0} transactions is more than a block may hold ({MAX_MEMPOOL})")]
    Mempool(usize),
    /// Heights beyond what the model runs.
    #[error("--heights {0}: the model runs 1 or 2 consecutive heights")]
    Heights(u64),
    /// Leavers or joiners with one height.
    #[error(
        "--leaves and --joins name masternodes deregistered or registered at height 2; give --heights 2 (or --leaves \"\" --joins \"\")"
    )]
    LeavesOneHeight,
    /// A leaver or joiner that does not exist or is named twice.
    #[error("--leaves, --joins: masternode {index} does not exist (there are {count}) or is named twice")]
    Leaver {
        /// The index given.
        index: usize,
        /// Masternodes.
        count: usize,
    },
    /// No honest member at a height.
    #[error("no honest masternode is registered at height {0} (--leaves, --joins); keep one")]
    NoHonestAt(u64),
    /// Height 2's proposals lost without height 1's, or with one height.
    #[error("--lose-later-proposals loses height 2's proposals as well as height 1's: give --heights 2 --lose-proposals")]
    LoseLaterProposals,
    /// A Byzantine joiner.
    #[error("--joins {0}: a masternode registered at height 2 is honest here (a Byzantine one's scripts are of height 1)")]
    ByzantineJoiner(usize),
    /// Joiners under rules without finality proofs.
    #[error("--joins needs rules with finality proofs (A3): a joiner starts from one (R7.8)")]
    JoinWithoutProofs,
    /// A scripted adversary over two heights.
    #[error("--heights 2 needs --behaviour silent: the adversary's scripts are of height 1")]
    TwoHeightsAdversary,
    /// Two heights with starts apart or a clock.
    #[error("--heights 2 needs --timing lock-step, not {timing}")]
    TwoHeightsTiming {
        /// The timing given.
        timing: Timing,
    },
    /// An unknown named configuration.
    #[error("unknown configuration {0:?}; `tcm configs` lists them")]
    UnknownPreset(String),
    /// Registry refused.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Node refused.
    #[error(transparent)]
    Node(#[from] NodeError),
}
