//! The heartbeat suite: the phase-1 synchronization decision (S1.2, S1.3,
//! R1.3).

use super::{canonical_weights, chain_weights, WeightedMember};
use crate::format::*;
use crate::generate::*;
use serde::{Deserialize, Serialize};
use time_consensus::event::Rejection;
use time_consensus::heartbeat::ChainAgreement;
use time_consensus::heartbeat::{chain_agreement, seed_sync_complete, weighted_sync_complete};
use time_consensus::node::Tip;
use time_consensus::primitives::{Date, Hash32, NodeId};
use time_consensus::sim::genesis_tip;
use time_consensus::{Amendment, Rules};

/// A chain state announced by a heartbeat.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainState {
    /// Tip height.
    pub height: u64,
    /// Tip hash.
    pub tip: Hash32,
}

/// Input of [`Op::SeedSync`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSyncIn {
    /// Masternodes expected.
    pub expected_nodes: u64,
    /// States of the heartbeats received, one per sender.
    pub received: Vec<ChainState>,
}

/// One member's heartbeat state.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatState {
    /// Sender.
    pub node_id: NodeId,
    /// Tip height.
    pub height: u64,
    /// Tip hash.
    pub tip: Hash32,
}

/// Input of [`Op::Sync`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncIn {
    /// The registry.
    pub masternodes: Vec<Member>,
    /// Date of block 0.
    pub genesis_date: Date,
    /// The deciding node's own tip (the height decided is one above).
    pub own_tip: Tip,
    /// Heartbeats recorded, one per member (the node's own included).
    pub heartbeats: Vec<HeartbeatState>,
}

/// The deployed decision: the most common state, its share of the
/// heartbeats received (basis points), and whether the node is synchronized.
#[derive(Clone, Debug, Serialize)]
pub struct SeedSyncOut {
    agreement: ChainAgreement,
    agreement_bps: u32,
    synchronized: bool,
}

impl SeedSyncOut {
    fn of<'a>(expected: usize, states: impl IntoIterator<Item = (u64, &'a Hash32)>) -> Self {
        let a = chain_agreement(states);
        SeedSyncOut {
            agreement_bps: a.agreement_bps(),
            synchronized: seed_sync_complete(expected, &a),
            agreement: a,
        }
    }
}

/// The decision of the rule set: the seed's without A6, else by weight.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum SyncOut {
    /// Without A6.
    Seed(SeedSyncOut),
    /// With A6: the weights in canonical order, the weight holding the
    /// node's own tip, the total, the quorum and the decision.
    Weighted {
        /// Canonical order.
        weights: Vec<WeightedMember>,
        /// Weight holding the node's own tip.
        agreeing_weight: u64,
        /// Total weight.
        total_weight: u64,
        /// The quorum threshold.
        quorum: u64,
        /// The decision.
        synchronized: bool,
    },
}

impl Operation for SeedSyncIn {
    type Output = SeedSyncOut;
    const SUITE: Suite = Suite::Heartbeat;
    const NEEDS: Needs = &[(Amendment::WeightedSync, false)];
    fn execute(&self, _: Rules) -> Result<SeedSyncOut, Refusal> {
        if self.expected_nodes > 1 << 40 {
            return bad("expected_nodes: at most 2^40");
        }
        let states = self.received.iter().map(|s| (s.height, &s.tip));
        Ok(SeedSyncOut::of(self.expected_nodes as usize, states))
    }
}

impl Operation for SyncIn {
    type Output = SyncOut;
    const SUITE: Suite = Suite::Heartbeat;
    fn needs(rules: Rules) -> Needs {
        if rules.has(Amendment::WeightedSync) {
            &[(Amendment::ChainElection, true)]
        } else {
            &[]
        }
    }
    fn execute(&self, rules: Rules) -> Result<SyncOut, Refusal> {
        let height = self.own_tip.height.saturating_add(1);
        let (reg, w) = chain_weights(&self.masternodes, self.genesis_date, height)?;
        let mut seen = vec![false; reg.len()];
        let mut states = Vec::with_capacity(self.heartbeats.len());
        for hb in &self.heartbeats {
            let Some(pos) = reg.position_of(&hb.node_id) else {
                let node = hb.node_id.clone();
                return rejected(&Rejection::UnknownSigner { node });
            };
            if std::mem::replace(&mut seen[pos], true) {
                return bad(format!(
                    "heartbeats: {} appears twice; give one heartbeat per member",
                    hb.node_id
                ));
            }
            states.push((hb.height, &hb.tip, w.weight(pos)));
        }
        if !rules.has(Amendment::WeightedSync) {
            let states = states.iter().map(|(h, t, _)| (*h, *t));
            return Ok(SyncOut::Seed(SeedSyncOut::of(reg.len(), states)));
        }
        let own = (self.own_tip.height, &self.own_tip.hash);
        let agreeing_weight = states
            .iter()
            .filter(|(h, t, _)| (*h, *t) == own)
            .map(|(_, _, w)| *w)
            .sum();
        Ok(SyncOut::Weighted {
            weights: canonical_weights(&reg, &w),
            agreeing_weight,
            total_weight: w.total(),
            quorum: w.quorum(),
            synchronized: weighted_sync_complete(own, states, w.quorum()),
        })
    }
}

/// The heartbeat suite.
pub fn heartbeat(g: &mut Gen) {
    let (a, b, c) = (Hash32([0xab; 32]), Hash32([0xcd; 32]), Hash32([0xef; 32]));
    let st = |height, tip| ChainState { height, tip };
    let seed_sync = |expected_nodes, received| SeedSyncIn {
        expected_nodes,
        received,
    };
    for (name, expected, recv, note) in [
        ("seed_sync_unanimous", 3u64, vec![st(100, a), st(100, a), st(100, a)], "the deployed test: three of three agree"),
        ("seed_sync_majority", 4, vec![st(100, a), st(100, a), st(100, a), st(99, b)], "the deployed test: three of four agree, 75 percent"),
        ("seed_sync_threshold_met", 4, vec![st(100, a); 3], "3 responses of 4 expected >= ceil(8/3) = 3"),
        ("seed_sync_threshold_missed", 4, vec![st(100, a); 2], "2 responses of 4 expected < 3"),
        ("seed_sync_received_not_expected", 9, vec![st(100, a), st(100, a), st(100, a), st(100, a), st(99, b), st(98, c)], "6 of 9 respond and 4 agree: 4 >= ceil(12/3), synchronized although only 4 of 9 masternodes agree (agreement is measured against the heartbeats received)"),
        ("seed_sync_no_agreement", 4, vec![st(100, a), st(100, a), st(100, b), st(100, c)], "4 respond but the most common state has 2 < ceil(8/3)"),
        ("seed_sync_nothing", 4, vec![], "no heartbeat at all"),
        ("seed_sync_tie_height", 2, vec![st(5, b), st(4, a)], "a tie between states: the higher height wins (the deployed HashMap left it to iteration order)"),
        ("seed_sync_tie_hash", 2, vec![st(5, b), st(5, a)], "a tie at the same height: the smaller hash wins"),
        ("seed_sync_one_expected", 1, vec![st(0, a)], "a single masternode agrees with itself"),
        ("seed_sync_zero_expected", 0, vec![], "zero expected, zero received: 0 >= 0 twice"),
        ("seed_sync_exact_two_thirds", 6, vec![st(7, a), st(7, a), st(7, a), st(7, b)], "4 of 6 respond (= ceil(12/3)), 3 of 4 agree (>= ceil(8/3))"),
    ] {
        g.case(
            name,
            SEED,
            &format!("The deployed check_chain_agreement and check_sync_complete: {note}."),
            &["S1.2", "S1.3"],
            seed_sync(expected, recv),
        );
    }
    // The same decision under both rule sets, on a registry.
    let genesis = date("2025-10-24");
    let own = Tip {
        height: 0,
        hash: genesis_tip().hash,
    };
    let other = Hash32([0x11; 32]);
    let hb = |i: usize, height, tip| HeartbeatState {
        node_id: id(&format!("mn{i:03}")),
        height,
        tip,
    };
    let t = own.hash;
    let scenarios: Vec<(&str, Vec<HeartbeatState>, &str)> = vec![
        ("all_agree", (0..4).map(|i| hb(i, 0, t)).collect(), "all four hold the node's tip"),
        ("heavy_three", vec![hb(0, 0, t), hb(1, 0, t), hb(2, 0, t)], "gold, silver and bronze hold the tip; free is silent"),
        ("gold_and_silver", vec![hb(0, 0, t), hb(1, 0, t)], "only gold and silver (12 of 15 tier units) respond"),
        ("light_three", vec![hb(1, 0, t), hb(2, 0, t), hb(3, 0, t)], "silver, bronze and free (7 of 15 tier units) hold the tip"),
        ("own_tip_minority", vec![hb(0, 0, t), hb(1, 0, other), hb(2, 0, other), hb(3, 0, other)], "three of four hold another tip at the same height; the node's own tip is held by gold alone"),
        ("split_heights", vec![hb(0, 0, t), hb(1, 0, t), hb(2, 1, other), hb(3, 1, other)], "two announce height 0 with the node's tip, two a different height"),
        ("single", vec![hb(3, 0, t)], "only the node itself (free)"),
    ];
    for (name, beats, note) in scenarios {
        let op = SyncIn {
            masternodes: net(&TIERS4),
            genesis_date: genesis,
            own_tip: own,
            heartbeats: beats,
        };
        g.case(
            &format!("seed_sync_net4_{name}"),
            SEED,
            &format!("mn000..mn003 (gold, silver, bronze, free), node at height 0: {note}. Seed rules count heartbeats: enough responses of the expected, and the most common state held by two thirds of those received, whatever the node's own tip."),
            &["S1.2", "S1.3"],
            op.clone(),
        );
        g.case(
            &format!("ref_sync_net4_{name}"),
            REF,
            &format!("mn000..mn003 (gold, silver, bronze, free), node at height 0: {note}. Reference rules: synchronized when members holding the node's own (height, tip) weigh a quorum of the registry."),
            &["R1.3", "R5.3"],
            op,
        );
    }
    let op = SyncIn {
        masternodes: net(&TIERS4),
        genesis_date: genesis,
        own_tip: own,
        heartbeats: vec![hb(0, 0, t), hb(9, 0, t)],
    };
    g.case(
        "seed_sync_stranger",
        SEED,
        "A heartbeat from mn009, who is not registered: refused as an unknown signer.",
        &["R0.5"],
        op.clone(),
    );
    g.case(
        "ref_sync_stranger",
        REF,
        "A heartbeat from mn009, who is not registered: refused as an unknown signer.",
        &["R0.5", "R1.3"],
        op,
    );
}
