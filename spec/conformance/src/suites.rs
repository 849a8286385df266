//! The suites, one module each: every operation's input, output and
//! execution (an [`Operation`](crate::format::Operation)) beside the cases
//! that exercise it. What several suites share is here.

pub mod block;
pub mod election;
pub mod fallback;
pub mod heartbeat;
pub mod node_trace;
pub mod signatures;
pub mod tally;
pub mod weights;

use crate::format::{Member, Refusal};
use serde::Serialize;
use time_consensus::config::OrchestratorConfig;
use time_consensus::crypto::SignatureScheme;
use time_consensus::election::HeightWeights;
use time_consensus::primitives::{Date, NodeId};
use time_consensus::registry::{MasternodeInfo, Registry};

/// The longest list an operation builds (attempts, weights).
const MAX_LIST: u32 = 100_000;

/// The ed25519 registry of `members`, or bad input.
fn registry(members: &[Member]) -> Result<Registry, Refusal> {
    Registry::new(SignatureScheme::Ed25519, infos(members))
        .map_err(|e| Refusal::BadInput(format!("registry refused: {e}")))
}

/// The implementation's view of `members`, in their order.
fn infos(members: &[Member]) -> Vec<MasternodeInfo> {
    members.iter().map(MasternodeInfo::from).collect()
}

/// The default configuration with block 0 on `genesis`.
fn config_with_genesis(genesis: Date) -> OrchestratorConfig {
    OrchestratorConfig {
        genesis_date: genesis,
        ..OrchestratorConfig::default()
    }
}

/// The reference weights of `members` on the chain date of `height`.
fn chain_weights(
    members: &[Member],
    genesis: Date,
    height: u64,
) -> Result<(Registry, HeightWeights), Refusal> {
    let reg = registry(members)?;
    let w = HeightWeights::reference(&reg, config_with_genesis(genesis).chain_date(height));
    Ok((reg, w))
}

/// A member and its weight, in canonical order.
#[derive(Clone, Debug, Serialize)]
pub struct WeightedMember {
    node_id: NodeId,
    weight: u64,
}

fn canonical_weights(reg: &Registry, w: &HeightWeights) -> Vec<WeightedMember> {
    (0..reg.len())
        .map(|pos| WeightedMember {
            node_id: reg.at_position(pos).node_id.clone(),
            weight: w.weight(pos),
        })
        .collect()
}
