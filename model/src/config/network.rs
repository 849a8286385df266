//! How a run's messages travel and its timers fire: the network, the timer
//! semantics, and the delivery of votes to honest nodes (with the
//! reductions that keep every verdict).

use super::ConfigError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How messages travel and when timers fire. In JSON one shape for every
/// network: `{"kind": "async" | "lossy" | "gst", "stabilizes_at": attempt}`
/// (`stabilizes_at` only for `gst`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "NetworkJson", try_from = "NetworkJson")]
pub enum Network {
    /// Safety semantics. Every message sent stays deliverable forever, to be
    /// delivered any number of times, in any order, or never (so loss,
    /// reordering and duplication are all covered); timers fire at any moment.
    Async,
    /// Explicit loss: each message is delivered at most once or dropped;
    /// timers fire at any moment.
    Lossy,
    /// Partial synchrony with global stabilization at attempt `gst`: every
    /// message is eventually delivered (no loss); timers
    /// of attempts before `gst` fire at any moment; a timer of attempt `gst`
    /// or later fires only when no delivery could change any actor and no
    /// earlier-attempt timer is pending (timeouts outlast message delays).
    Gst(u32),
}

/// [`Network`]'s JSON shape.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkJson {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stabilizes_at: Option<u32>,
}

impl From<Network> for NetworkJson {
    fn from(n: Network) -> Self {
        let (kind, stabilizes_at) = match n {
            Network::Async => ("async", None),
            Network::Lossy => ("lossy", None),
            Network::Gst(a) => ("gst", Some(a)),
        };
        NetworkJson {
            kind: kind.to_string(),
            stabilizes_at,
        }
    }
}

impl TryFrom<NetworkJson> for Network {
    type Error = String;
    fn try_from(j: NetworkJson) -> Result<Self, String> {
        match (j.kind.as_str(), j.stabilizes_at) {
            ("async", None) => Ok(Network::Async),
            ("lossy", None) => Ok(Network::Lossy),
            ("gst", Some(a)) => Ok(Network::Gst(a)),
            (kind, at) => Err(format!(
                "network {kind:?} with stabilizes_at {at:?}: expected async, lossy, or gst with stabilizes_at"
            )),
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Network::Async => f.write_str("async"),
            Network::Lossy => f.write_str("lossy"),
            Network::Gst(0) => f.write_str("sync"),
            Network::Gst(a) => write!(f, "gst:{a}"),
        }
    }
}

impl Network {
    /// Parses `async`, `lossy`, `sync` (= `gst:0`) or `gst:<attempt>`.
    pub fn parse(s: &str) -> Result<Network, ConfigError> {
        match s {
            "async" => Ok(Network::Async),
            "lossy" => Ok(Network::Lossy),
            "sync" => Ok(Network::Gst(0)),
            _ => s
                .strip_prefix("gst:")
                .and_then(|a| a.parse().ok())
                .map(Network::Gst)
                .ok_or_else(|| ConfigError::Network(s.to_string())),
        }
    }

    /// Whether `eventually` properties mean anything under these semantics:
    /// only with eventual delivery and timeouts that eventually outlast
    /// message delays.
    pub fn checks_liveness(self) -> bool {
        matches!(self, Network::Gst(_))
    }
}

/// When nodes start the height and how their timers relate under
/// [`Network::Gst`] (spec/properties.md, "Timing").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// Every node starts at once, and no honest node times out of a
    /// synchronous attempt another honest node has not reached: timers
    /// that start together (what the checks assumed before A7).
    #[default]
    LockStep,
    /// Each honest node starts the height by an action of its own,
    /// interleaved with everything else, taking in first all of what honest
    /// nodes sent it before (refused and lost to it, or kept under R0.7) or
    /// all but what they sent in their current attempt (which arrives after
    /// the start). No synchronous timer
    /// fires before every honest node has started, and then timers are
    /// lock-step: equal timers and a start skew below one of them.
    LateStarts,
    /// As [`Timing::LateStarts`], with no bound on the skew: a synchronous
    /// timer waits only until no delivery could change anything and until
    /// the honest nodes that entered its attempt first have left it (timers
    /// of one attempt last the same); it may fire while others are in
    /// earlier attempts or not started. Nothing relates timers of different
    /// attempts, so a node may run several attempts within one of another's:
    /// schedules real timers exclude ([`Timing::Clocked`] has durations).
    Staggered,
    /// Timers that last what the node sets (R7.2) on a clock shared by all:
    /// node `i` starts at its offset of [`ModelConfig::starts_secs`], a
    /// timer fires when the clock reaches its deadline, and the clock moves
    /// to the next start or deadline only once no delivery between honest
    /// nodes would change anything (every message between honest nodes
    /// arrives within one instant: delays far below the timers). The last
    /// explored attempt's deadline stops the clock: its node leaves the
    /// ladder then, undecided if it has not decided.
    Clocked,
}

impl Timing {
    /// Whether each node starts by an action of its own.
    pub fn starts_apart(self) -> bool {
        self != Timing::LockStep
    }

    /// Parses `lock-step`, `late-starts`, `staggered` or `clocked`.
    pub fn parse(s: &str) -> Result<Timing, ConfigError> {
        match s {
            "lock-step" => Ok(Timing::LockStep),
            "late-starts" => Ok(Timing::LateStarts),
            "staggered" => Ok(Timing::Staggered),
            "clocked" => Ok(Timing::Clocked),
            _ => Err(ConfigError::Timing(s.to_string())),
        }
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Timing::LockStep => "lock-step",
            Timing::LateStarts => "late-starts",
            Timing::Staggered => "staggered",
            Timing::Clocked => "clocked",
        })
    }
}

/// How votes reach honest nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteDelivery {
    /// One vote per step, in any order.
    Single,
    /// A reduction. Counting a vote changes no decision, message or timer of
    /// a node until the vote is read: under the two-step rules when a quorum
    /// completes for a known block, under the seed flow when a voting window
    /// closes. So a vote is delivered only then: with the others that
    /// complete a quorum (the completing one last), or just before the
    /// window closes. It keeps every verdict where no voter
    /// votes twice in a step (spec/properties.md, "Batched vote delivery");
    /// an equivocator's weight, though, is then always there for whichever
    /// of its blocks needs it, which [`VoteDelivery::Sound`] does not assume.
    Batched,
    /// [`VoteDelivery::Batched`], plus the order of a double voter's votes:
    /// a voter with votes for two blocks of one step in flight to a node is
    /// counted for whichever arrives first, which gives its weight to that
    /// block and takes it from the others; so while a batch of one block
    /// needs its vote, its votes for the other blocks are also delivered
    /// alone. Sound by the same argument with no assumption on voters.
    Sound,
    /// [`VoteDelivery::Sound`] without its laziness: every vote of a double
    /// voter is also delivered alone at any time, needed or not, which is
    /// one-by-one delivery for double voters. The yardstick the laziness is
    /// tested against (`model/tests/reduction.rs`).
    Eager,
}
