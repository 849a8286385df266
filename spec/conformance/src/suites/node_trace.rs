//! The node_trace suite: a node driven input by input, with every output
//! it must produce and its final state.
//!
//! The cases are scenarios driven on the kit's network of real nodes
//! (`time_consensus::kit`); one node's inputs are recorded and become a
//! trace (its outputs are then obtained by replaying them on a fresh node).
//! The scenarios the node's own tests also assert on are the kit's
//! (`kit::scenarios`), written there once; the rest are written here and in
//! the submodules.
//!
//! The fixtures are fixed (four masternodes `mn000..mn003`, default
//! configuration, local date 2025-11-01), so every `expect` below states a
//! fact about them, checked each time the vectors are generated.

mod one_rule_set;
mod refusals;

use super::infos;
use crate::format::*;
use crate::generate::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time_consensus::config::OrchestratorConfig;
use time_consensus::crypto::{Keypair, SignatureScheme};
use time_consensus::encoding::sha256;
use time_consensus::event::Phase;
use time_consensus::heartbeat::SignedHeartbeat;
use time_consensus::kit::scenarios::{self, Scenario};
use time_consensus::kit::{heartbeat_of, KitError, Net};
use time_consensus::message::{CertifiedBlock, Message, SignedProposal};
use time_consensus::node::{
    Context, Decision, Input, Joining, Node, NodeState, Output, Timer, Tip,
};
use time_consensus::primitives::{Date, Hash32, NodeId};
use time_consensus::registry::{Registry, Tier};
use time_consensus::sim::genesis_tip;
use time_consensus::Rules;

/// The node under test.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSetup {
    /// Signature scheme (`ed25519` unless the trace comes from the model
    /// checker, which may use `symbolic`).
    #[serde(default)]
    pub scheme: SignatureScheme,
    /// The node's 32-byte secret seed (its key is derived from it).
    pub secret_seed: Hash32,
    /// The label the seed was derived from (`SHA-256(label)`); informative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_label: Option<String>,
    /// The registry, in the node's list order.
    pub masternodes: Vec<Member>,
    /// The node's configuration.
    pub config: OrchestratorConfig,
    /// The node's tip before the first step.
    pub tip: Tip,
    /// A node new at the height above `tip`'s successor: it first joins
    /// from that height's finality proof (R7.8), and `masternodes` is the
    /// next height's registry, its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<JoinSetup>,
}

/// What a node that joins at a later height is given (R7.8).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinSetup {
    /// The registry of the height it joins after (above `tip`), in list
    /// order.
    pub masternodes: Vec<Member>,
    /// That height's finality proof.
    pub proof: CertifiedBlock,
    /// The local date that height would have been started with.
    pub date: Date,
}

/// One input and exactly the outputs it must produce, in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceStep {
    /// Start, message or timer.
    pub input: Input,
    /// Broadcasts, timers set or cancelled, and events.
    pub outputs: Vec<Output>,
}

/// Input of [`Op::NodeTrace`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeTraceIn {
    /// The node.
    pub setup: TraceSetup,
    /// The steps.
    pub steps: Vec<TraceStep>,
}

/// A node's state after the last step of a trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FinalState {
    /// Last finalized block.
    tip: Tip,
    /// How the last height was decided.
    last_decision: Option<Decision>,
    /// The height being decided, if any.
    round: Option<RoundState>,
}

/// The visible state of the height being decided: height, attempt, phase,
/// whether the node cast its approve vote of this attempt, its lock and its
/// valid block (the attempt and block of the highest approve certificate).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundState {
    height: u64,
    attempt: u32,
    phase: Phase,
    voted: bool,
    locked: Option<(u32, Hash32)>,
    valid: Option<(u32, Hash32)>,
}

/// A replayed trace: each step's outputs and the final state.
#[derive(Clone, Debug)]
pub struct Replay {
    /// Outputs of each step, in order.
    pub outputs: Vec<Vec<Output>>,
    /// State after the last step.
    pub final_state: FinalState,
}

/// The visible part of a node's state.
pub fn visible_state(s: &NodeState) -> FinalState {
    FinalState {
        tip: s.tip(),
        last_decision: s.last_decision(),
        round: s.round().map(|r| RoundState {
            height: r.height(),
            attempt: r.attempt(),
            phase: r.phase(),
            voted: r.voted(),
            locked: r.locked(),
            valid: r.valid().map(|j| (j.attempt, j.block_hash)),
        }),
    }
}

/// Replays the inputs of `trace` on a fresh node built from its setup.
pub fn replay(rules: Rules, trace: &NodeTraceIn) -> Result<Replay, String> {
    let s = &trace.setup;
    let reg = Registry::new(s.scheme, infos(&s.masternodes))
        .map_err(|e| format!("registry refused: {e}"))?;
    let kp = Keypair::from_seed(s.scheme, s.secret_seed.0);
    let ctx = Context::new(kp, Arc::new(reg), rules, s.config.clone())
        .map_err(|e| format!("node refused: {e}"))?;
    let mut node = match &s.join {
        None => Node::new(ctx, s.tip),
        Some(j) => {
            let previous = Registry::new(s.scheme, infos(&j.masternodes))
                .map_err(|e| format!("the joined height's registry refused: {e}"))?;
            let joining = Joining {
                registry: &previous,
                tip: s.tip,
                date: j.date,
            };
            Node::join(ctx, joining, &Arc::new(j.proof.clone()))
                .map_err(|e| format!("join refused (R7.8): {e}"))?
        }
    };
    let steps = trace.steps.iter();
    let outputs = steps.map(|s| node.handle(s.input.clone())).collect();
    Ok(Replay {
        outputs,
        final_state: visible_state(node.state()),
    })
}

impl Operation for NodeTraceIn {
    type Output = FinalState;
    const SUITE: Suite = Suite::NodeTrace;
    /// The final state of the replay (the runner compares each step's
    /// outputs besides).
    fn execute(&self, rules: Rules) -> Result<FinalState, Refusal> {
        replay(rules, self)
            .map(|r| r.final_state)
            .map_err(Refusal::BadInput)
    }
}

fn setup(net: &Net, i: usize) -> TraceSetup {
    let label = format!("mn{i:03}");
    TraceSetup {
        scheme: SignatureScheme::Ed25519,
        secret_seed: sha256(label.as_bytes()),
        key_label: Some(label),
        masternodes: net.registry.members().iter().map(Member::from).collect(),
        config: net.config.clone(),
        tip: genesis_tip(),
        join: None,
    }
}

/// Records node `i`'s inputs as the trace `<prefix>_<name>`.
fn emit(g: &mut Gen, net: &Net, name: &str, i: usize, description: &str, ids: &[&str]) {
    let tiers: Vec<&str> = net
        .registry
        .members()
        .iter()
        .map(|m| tier_name(m.tier))
        .collect();
    g.trace(
        &format!("{}_{name}", prefix(net.rules)),
        net.rules,
        &format!(
            "Node mn{i:03} of mn000..mn{:03} ({}). {description}",
            tiers.len().saturating_sub(1),
            tiers.join(", ")
        ),
        ids,
        setup(net, i),
        net.inputs(i),
    );
}

/// [`emit`] of a kit scenario's node, or the generator error saying which
/// fact of the scenario failed.
fn emit_scenario(
    g: &mut Gen,
    s: Result<Scenario, KitError>,
    name: &str,
    description: &str,
    ids: &[&str],
) {
    match s {
        Ok(s) => emit(g, &s.net, name, s.node, description, ids),
        Err(e) => g.error(format!("{name}: {e}")),
    }
}

fn prefix(rules: Rules) -> &'static str {
    if rules.is_seed() {
        "seed"
    } else {
        "ref"
    }
}

/// A fresh fixture network.
fn fresh(tiers: &[Tier], rules: Rules) -> Net {
    Net::new(tiers, rules).expect("the fixture network")
}

/// Starts every node presynchronized; returns the network, the attempt-0
/// leader, its proposal and each node's start outputs.
fn started(
    tiers: &[Tier],
    rules: Rules,
) -> (Net, usize, SignedProposal, Vec<(usize, Vec<Output>)>) {
    let s = time_consensus::kit::started(tiers, rules).expect("the attempt-0 leader proposes");
    (s.net, s.leader, s.proposal, s.starts)
}

/// Every scenario under both rule sets (and the rule-set-specific ones).
pub fn node_traces(g: &mut Gen) {
    for rules in [Rules::Seed, Rules::Reference] {
        normal_height(g, rules);
        phase1(g, rules);
        single_vote(g, rules);
        declared_weight(g, rules);
        refusals::rejections(g, rules);
        refusals::invalid_proposals(g, rules);
        refusals::lifecycle(g, rules);
        refusals::reward_only_attempt(g, rules);
    }
    one_rule_set::seed_only(g);
    one_rule_set::emergency(g);
    one_rule_set::reference_only(g);
    one_rule_set::two_heights(g);
}

fn normal_height(g: &mut Gen, rules: Rules) {
    let s = match scenarios::normal_height(rules) {
        Ok(s) => s,
        Err(e) => return g.error(format!("normal_height: {e}")),
    };
    let (ids_f, ids_l, how): (&[&str], &[&str], &str) = if rules.is_seed() {
        (
            &[
                "S2.2", "S2.3", "S4.1", "S5.1", "S6.1", "S6.2", "S6.3", "R3.6", "R0.5",
            ],
            &[
                "S2.2", "S2.3", "R3.1", "R3.2", "R4.2", "S5.1", "S6.2", "S6.3",
            ],
            "every node votes once, and each finalizes the block when its voting window closes",
        )
    } else {
        (
            &["R2.7", "R4.3", "R4.4", "R5.7", "R6.1", "R6.2", "R6.4", "R5.8", "R7.4", "R7.5", "R0.5", "R3.6"],
            &["R2.7", "R3.1", "R3.2", "R4.1", "R4.2", "R5.7", "R6.1", "R6.2", "R6.4", "R7.4", "R7.5"],
            "approve votes, an approve quorum (lock, relayed certificate), commit votes and a commit quorum (finality proof)",
        )
    };
    emit(
        g,
        &s.net,
        "normal_height_follower",
        s.follower,
        &format!("A normal height with every message delivered, seen by a follower: {how}."),
        ids_f,
    );
    emit(
        g,
        &s.net,
        "normal_height_leader",
        s.leader,
        &format!("A normal height with every message delivered, seen by the attempt-0 leader, who builds, signs and broadcasts the block: {how}."),
        ids_l,
    );
}

fn phase1(g: &mut Gen, rules: Rules) {
    let seed = rules.is_seed();
    // Synchronization on heartbeats.
    let mut net = fresh(&TIERS4, rules);
    let beats: Vec<SignedHeartbeat> = (0..4)
        .map(|i| heartbeat_of(&net.start(i, false)).expect("a heartbeat at start"))
        .collect();
    let x = 3;
    for &i in &[2usize, 1, 0] {
        net.deliver(x, Message::Heartbeat(beats[i].clone()));
    }
    emit(
        g,
        &net,
        "phase1_synchronizes",
        x,
        if seed {
            "Phase 1: the node broadcasts its heartbeat and sets the heartbeat timer; with heartbeats from 3 of 4 (its own counted) all agreeing it is synchronized (by node count), cancels the timer and starts attempt 0; a later heartbeat is refused (not collecting)."
        } else {
            "Phase 1: the node broadcasts its heartbeat and sets the heartbeat timer; it is synchronized once members holding its own (height, tip) weigh a quorum of the registry (bronze + silver + its own free weight is not enough, gold completes it); then it cancels the timer and starts attempt 0."
        },
        if seed {
            &["S1.2", "S1.3", "R1.1", "R0.5"]
        } else {
            &["R1.1", "R1.2", "R1.3", "R5.3", "R0.5"]
        },
    );
    // Timeout without synchronization.
    let mut net = fresh(&TIERS4, rules);
    for i in 0..4 {
        net.start(i, false);
    }
    net.fire(x, Timer::Heartbeat { height: 1 });
    net.deliver(x, Message::Heartbeat(beats[0].clone()));
    emit(
        g,
        &net,
        "phase1_timeout",
        x,
        if seed {
            "Phase 1 times out with no heartbeat but its own: the deployed orchestrator gives the height up; a heartbeat arriving afterwards finds no height running."
        } else {
            "Phase 1 times out with no heartbeat but its own: the node takes part anyway and starts attempt 0; a heartbeat arriving afterwards is refused (not collecting)."
        },
        if seed {
            &["S1.4", "R1.1"]
        } else {
            &["R1.4", "R1.1"]
        },
    );
    // Repeated and replaced heartbeats.
    let mut net = fresh(&TIERS4, rules);
    for i in 0..4 {
        net.start(i, false);
    }
    let y = 2;
    net.deliver(x, Message::Heartbeat(beats[y].clone()));
    net.deliver(x, Message::Heartbeat(beats[y].clone()));
    let mut other = beats[y].clone();
    other.heartbeat.chain_tip_hash = Hash32([0x11; 32]);
    other.resign(&net.keys[y]);
    net.deliver(x, Message::Heartbeat(other));
    emit(
        g,
        &net,
        "heartbeat_repeated_and_changed",
        x,
        if seed {
            "mn002's heartbeat twice (the second is a duplicate), then a heartbeat of mn002 with another tip: it replaces the first (the deployed map insert)."
        } else {
            "mn002's heartbeat twice, then a heartbeat of mn002 with another tip: the first heartbeat of a member is the one that counts, later ones are refused."
        },
        if seed {
            &["S1.1", "R0.5"]
        } else {
            &["R1.2", "R0.5"]
        },
    );
    // The majority holds another tip.
    let mut net = fresh(&TIERS4, rules);
    for i in 0..4 {
        net.start(i, false);
    }
    for i in [0usize, 1, 2] {
        let mut h = beats[i].clone();
        h.heartbeat.chain_tip_hash = Hash32([0x22; 32]);
        h.resign(&net.keys[i]);
        net.deliver(x, Message::Heartbeat(h));
    }
    net.fire(x, Timer::Heartbeat { height: 1 });
    emit(
        g,
        &net,
        "phase1_majority_on_other_tip",
        x,
        if seed {
            "The three other members announce another tip at the same height: the most common state is held by 3 of 4 responses, so the seed rules call the node synchronized although nobody shares its tip."
        } else {
            "The three other members announce another tip at the same height: only the node's own weight holds its tip, so it is not synchronized; at the heartbeat timeout it takes part anyway."
        },
        if seed {
            &["S1.2", "S1.3"]
        } else {
            &["R1.3", "R1.4"]
        },
    );
    // Heartbeats from strangers and forgers.
    let mut net = fresh(&TIERS4, rules);
    net.start(x, false);
    let stranger_key = Keypair::from_label(SignatureScheme::Ed25519, "mn009");
    let mut s = beats[0].clone();
    s.heartbeat.node_id = NodeId::new("mn009").expect("id");
    s.resign(&stranger_key);
    net.deliver(x, Message::Heartbeat(s));
    let mut f = beats[0].clone();
    f.resign(&stranger_key);
    net.deliver(x, Message::Heartbeat(f));
    let mut h2 = beats[0].clone();
    h2.heartbeat.block_height = 5;
    h2.resign(&net.keys[0]);
    net.deliver(x, Message::Heartbeat(h2));
    emit(
        g,
        &net,
        "heartbeat_refused",
        x,
        if seed {
            "In phase 1: a heartbeat from mn009 (not registered) and one of mn000 signed with another key are refused; one of mn000 announcing tip height 5 is recorded all the same (the deployed collection is keyed by sender alone, so any tip counts as a response)."
        } else {
            "In phase 1: a heartbeat from mn009 (not registered), one of mn000 signed with another key, and one announcing tip height 5 (it starts height 6, not the height being decided): each refused, nothing recorded."
        },
        if seed {
            &["R0.5", "R0.4", "S1.1"]
        } else {
            &["R0.5", "R0.4", "R0.6"]
        },
    );
}

fn single_vote(g: &mut Gen, rules: Rules) {
    let s = scenarios::single_vote(rules);
    if rules.is_seed() {
        emit_scenario(
            g,
            s,
            "flaw1_single_vote_finalizes",
            "Seed flaw 1: the node receives the proposal, votes, and when its voting window closes with no vote but its own, that one vote is 'consensus' (total taken over votes received): it finalizes.",
            &["S5.1", "S6.2", "S6.3"],
        );
    } else {
        emit_scenario(
            g,
            s,
            "single_vote_does_not_finalize",
            "The inputs of seed flaw 1 under the reference rules: the node approves, but its own vote is far from a quorum of the registry; at the attempt timeout it records the failure and moves to attempt 1.",
            &["R5.3", "R5.7", "R7.2"],
        );
    }
}

fn declared_weight(g: &mut Gen, rules: Rules) {
    let s = scenarios::declared_weight(rules, 1000);
    if rules.is_seed() {
        emit_scenario(
            g,
            s,
            "flaw2_declared_weight_counts",
            "Seed flaw 2: the two heaviest members vote against with their true weights, the lightest approves declaring weight 1000; the declared weight is counted and the block is finalized when the window closes.",
            &["S6.1", "S6.2", "S6.3"],
        );
    } else {
        emit_scenario(
            g,
            s,
            "declared_weight_ignored",
            "The inputs of seed flaw 2 under the reference rules: votes against are not votes, and the vote declaring weight 1000 counts its registry weight; no quorum, the attempt times out.",
            &["R5.1", "R5.4", "R5.3", "R7.2"],
        );
    }
}
