//! The adversarial harness of `adversarial.rs`: the adversary's actions
//! and the strategies that draw them ([`action`], [`ext_action`], [`setup`]),
//! the invariants checked after every input (`faults`) and the run of a
//! schedule (`run`).

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use time_consensus::block::{Block, Transaction};
use time_consensus::election::HeightWeights;
use time_consensus::fallback::BlockKind;
use time_consensus::heartbeat::Heartbeat;
use time_consensus::kit::*;
use time_consensus::message::{verify_certificate, CertifiedBlock, Message, SignedProposal};
use time_consensus::node::{height_weights, Timer};
use time_consensus::primitives::Hash32;
use time_consensus::vote::{Certificate, SignedVote, Step};
use time_consensus::weight::days_active;
use time_consensus::{
    Amendment, Event, NodeId, OrchestratorConfig, Output, Rejection, Rules, Tier,
};

mod faults;
mod run;

pub use faults::*;
pub use run::*;

/// What the adversary does next.
#[derive(Clone, Debug)]
pub enum Action {
    /// Deliver pending message `i % len` to node `to`. A message stays
    /// pending when delivered, so it may be delivered again, to anyone, in
    /// any order.
    Deliver(usize, usize),
    /// Deliver to node `to`, in order, every pending message not yet
    /// delivered to it (the messages it sends meanwhile wait).
    Catch(usize),
    /// Lose pending message `i % len`.
    Drop(usize),
    /// Fire one of node `to`'s timers: of its current attempt (0 leader, 1
    /// voting window, 2 attempt) or (3) the phase 1 deadline.
    Timeout(usize, u8),
    /// The Byzantine node sends a vote (step, attempt, block) to `to`.
    ByzVote(bool, u32, usize, usize),
    /// The Byzantine node proposes block `b` for `attempt` (if it leads it).
    ByzPropose(u32, usize, usize),
    /// The Byzantine node sends a certificate of the votes in flight.
    ByzCert(bool, u32, usize, usize),
    /// The Byzantine node, as leader of one of its attempts (the `lead`-th
    /// after the certificate's, else of any), re-proposes the block of the
    /// `key`-th heaviest approve certificate it can assemble, with that
    /// certificate (its own vote added if `own`) as justification.
    ByzRepropose {
        lead: usize,
        key: usize,
        own: bool,
        forge: Forge,
        to: usize,
    },
    /// The Byzantine node relays the `key`-th heaviest certificate (approve
    /// or commit) it can assemble, with its block.
    ByzRelay {
        key: usize,
        own: bool,
        forge: Forge,
        to: usize,
    },
    /// The Byzantine node forwards the `prop`-th honest re-proposal it heard
    /// with its justification replaced (the proposer's signature does not
    /// cover it, R4.2).
    ByzRewrap {
        prop: usize,
        own: bool,
        forge: Forge,
        to: usize,
    },
    /// The Byzantine node's heartbeat, with its true tip or a false one.
    ByzHeartbeat { false_tip: bool, to: usize },
}

/// How the adversary alters a certificate it assembled from signed votes.
/// `v` names the honest member whose vote is altered (the first vote if that
/// member's is not in it).
#[derive(Clone, Debug)]
pub enum Forge {
    /// Nothing: an honest certificate, of whatever weight the votes heard
    /// add up to.
    None,
    /// The signed `weight` of a vote changed, its signature kept. The field
    /// is ignored by the count (R5.4) but signed (R5.2), so the vote is
    /// forged.
    Weight(usize),
    /// Another signed field of a vote changed, its signature kept: 0 height,
    /// 1 attempt, 2 step, 3 block, 4 approve, 5 voter.
    Field(usize, u8),
    /// A bit of a vote's signature flipped.
    Signature(usize),
    /// A vote listed twice.
    Repeat(usize),
    /// The certificate relabelled `d` attempts later: its votes are of
    /// another attempt than the one it claims (and a re-proposal's
    /// `valid_attempt` follows the label).
    OtherAttempt(u32),
    /// Too little weight: votes removed until below the quorum.
    BelowQuorum,
    /// The message around the certificate lies instead. Re-proposals:
    /// 0 `valid_attempt` one above the certificate's, 1 `valid_attempt` = the
    /// proposal's attempt, 2 no `valid_attempt`, 3 no justification. Relays:
    /// 0 another block attached, 1 the other step claimed, 2 another height,
    /// 3 nothing. Rewrapped honest re-proposals: 0-2 the justification
    /// removed, 3 nothing.
    Wrapper(u8),
}

impl Forge {
    pub fn tampers(&self) -> bool {
        !matches!(self, Forge::None | Forge::Wrapper(3))
    }
}

pub fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (any::<usize>(), 0..3usize).prop_map(|(i, t)| Action::Deliver(i, t)),
        1 => any::<usize>().prop_map(Action::Drop),
        2 => (0..3usize, 0..3u8).prop_map(|(t, k)| Action::Timeout(t, k)),
        2 => (any::<bool>(), 0..6u32, 0..8usize, 0..3usize).prop_map(|(s, a, b, t)| Action::ByzVote(s, a, b, t)),
        1 => (0..6u32, 0..8usize, 0..3usize).prop_map(|(a, b, t)| Action::ByzPropose(a, b, t)),
        1 => (any::<bool>(), 0..6u32, 0..8usize, 0..3usize).prop_map(|(s, a, b, t)| Action::ByzCert(s, a, b, t)),
    ]
}

pub fn forge() -> impl Strategy<Value = Forge> {
    prop_oneof![
        3 => Just(Forge::None),
        3 => (0..4usize).prop_map(Forge::Weight),
        2 => (0..4usize, 0..6u8).prop_map(|(v, f)| Forge::Field(v, f)),
        1 => (0..4usize).prop_map(Forge::Signature),
        1 => (0..4usize).prop_map(Forge::Repeat),
        1 => (1..3u32).prop_map(Forge::OtherAttempt),
        1 => Just(Forge::BelowQuorum),
        1 => (0..4u8).prop_map(Forge::Wrapper),
    ]
}

/// The original actions (receivers drawn from a wider range, taken modulo
/// the honest nodes), heartbeat deadlines, and the certificate-carrying
/// actions of the adversary.
pub fn ext_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => (any::<usize>(), 0..4usize).prop_map(|(i, t)| Action::Deliver(i, t)),
        3 => (0..4usize).prop_map(Action::Catch),
        1 => any::<usize>().prop_map(Action::Drop),
        3 => (0..4usize, 0..4u8).prop_map(|(t, k)| Action::Timeout(t, k)),
        2 => (any::<bool>(), 0..8u32, 0..8usize, 0..4usize).prop_map(|(s, a, b, t)| Action::ByzVote(s, a, b, t)),
        1 => (0..8u32, 0..8usize, 0..4usize).prop_map(|(a, b, t)| Action::ByzPropose(a, b, t)),
        1 => (any::<bool>(), 0..8u32, 0..8usize, 0..4usize).prop_map(|(s, a, b, t)| Action::ByzCert(s, a, b, t)),
        3 => (0..3usize, 0..3usize, any::<bool>(), forge(), 0..4usize)
            .prop_map(|(lead, key, own, forge, to)| Action::ByzRepropose { lead, key, own, forge, to }),
        2 => (0..3usize, any::<bool>(), forge(), 0..4usize)
            .prop_map(|(key, own, forge, to)| Action::ByzRelay { key, own, forge, to }),
        1 => (0..3usize, any::<bool>(), forge(), 0..4usize)
            .prop_map(|(prop, own, forge, to)| Action::ByzRewrap { prop, own, forge, to }),
        1 => (any::<bool>(), 0..4usize).prop_map(|(false_tip, to)| Action::ByzHeartbeat { false_tip, to }),
    ]
}

/// The network, rules and configuration of a schedule, and how its nodes
/// start.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Members' tiers; the last member is Byzantine.
    pub tiers: Vec<Tier>,
    pub rules: Rules,
    pub max_leader_rotations: u32,
    pub max_future_attempts: u32,
    pub emergency_blocks: bool,
    /// Bit `i` set: honest node `i` starts presynchronized; clear: it runs
    /// phase 1.
    pub presynchronized: u8,
}

impl Setup {
    /// Every node presynchronized, the default configuration.
    pub fn classic(tiers: &[Tier], rules: Rules) -> Setup {
        let d = OrchestratorConfig::default();
        Setup {
            tiers: tiers.to_vec(),
            rules,
            max_leader_rotations: d.fallback_config.max_leader_rotations,
            max_future_attempts: d.max_future_attempts,
            emergency_blocks: d.fallback_config.enable_emergency_blocks,
            presynchronized: u8::MAX,
        }
    }

    pub fn config(&self) -> OrchestratorConfig {
        let mut c = OrchestratorConfig::default();
        c.fallback_config.max_leader_rotations = self.max_leader_rotations;
        c.fallback_config.enable_emergency_blocks = self.emergency_blocks;
        c.max_future_attempts = self.max_future_attempts;
        c
    }

    pub fn presynchronized(&self, i: usize) -> bool {
        self.presynchronized & (1 << i) != 0
    }
}

pub use time_consensus::kit::scenarios::TIERS4;

/// Registries whose last (Byzantine) member weighs less than a third: 1 of
/// 15, 4 of 16, 2 of 14.
pub const TIER_SETS: [&[Tier]; 3] = [
    &TIERS4,
    &[Tier::Silver; 4],
    &[
        Tier::Silver,
        Tier::Bronze,
        Tier::Silver,
        Tier::Bronze,
        Tier::Bronze,
    ],
];

pub fn parse_all(names: &[&str]) -> Vec<Rules> {
    names.iter().map(|n| Rules::parse(n).unwrap()).collect()
}

/// Rule sets under which agreement holds while F < T/3: two steps with
/// locking on top of registry quorums and weights (A1-A3) and an emergency
/// block that needs both quorums (A4); the election (A5) and phase 1 (A6)
/// may be the seed's.
pub fn safe_rules() -> Vec<Rules> {
    parse_all(&[
        "reference",
        "reference-A5",
        "reference-A6",
        "reference-A5-A6",
    ])
}

/// Rule sets that can split: one step (no A3), or a unilateral emergency
/// block (no A4).
pub fn unsafe_rules() -> Vec<Rules> {
    parse_all(&[
        "seed",
        "seed+A1+A2",
        "seed+A1+A2+A3",
        "reference-A4",
        "seed+A5+A6",
    ])
}

/// Every rule set: invariants (a) and (b) hold under all of them.
pub fn all_rules() -> Vec<Rules> {
    let mut v = safe_rules();
    v.extend(unsafe_rules());
    v
}

/// Each part shrinks towards the default: the first tier set, the first
/// rule set, the default ladder and window, emergency blocks enabled, every
/// node presynchronized.
pub fn setup(rules: Vec<Rules>) -> impl Strategy<Value = Setup> {
    (
        0..TIER_SETS.len(),
        0..rules.len(),
        prop_oneof![2 => Just(2u32), 1 => 0..=4u32],
        prop_oneof![1 => Just(16u32), 1 => 1..=3u32],
        prop::bool::weighted(0.25),
        prop_oneof![Just(u8::MAX), Just(0u8), any::<u8>()],
    )
        .prop_map(
            move |(tiers, r, rotations, future, no_emergency, presync)| Setup {
                tiers: TIER_SETS[tiers].to_vec(),
                rules: rules[r],
                max_leader_rotations: rotations,
                max_future_attempts: future,
                emergency_blocks: !no_emergency,
                presynchronized: presync,
            },
        )
}

/// `n` values drawn deterministically from a strategy.
pub fn draw<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// `n` schedules drawn deterministically from the original strategy.
pub fn schedules(n: usize) -> Vec<Vec<Action>> {
    draw(prop::collection::vec(action(), 1..400), n)
}
