//! The batched vote delivery is a reduction: on configurations small enough
//! to explore both ways, it reaches exactly the same decision outcomes as
//! delivering every vote on its own, in fewer states.

use stateright::Model;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use time_consensus::fallback::BlockKind;
use time_consensus::primitives::Hash32;
use time_consensus_model::config::{ModelConfig, Network, VoteDelivery};
use time_consensus_model::TcModel;

type Outcome = Vec<Option<(Hash32, u32, BlockKind)>>;

/// Every combination of honest decisions reachable, and the number of
/// distinct states explored.
fn outcomes(cfg: &ModelConfig) -> (BTreeSet<Outcome>, usize) {
    let m = TcModel::new(cfg).unwrap();
    let mut seen = HashSet::new();
    let mut stack = m.init_states();
    let mut found = BTreeSet::new();
    let mut actions = Vec::new();
    while let Some(s) = stack.pop() {
        let mut h = DefaultHasher::new();
        s.hash(&mut h);
        if !seen.insert(h.finish()) {
            continue;
        }
        let outcome: Outcome = m
            .info
            .honest
            .iter()
            .map(|&i| {
                s.actor_states[i]
                    .node()
                    .and_then(|n| n.last_decision())
                    .map(|d| (d.hash, d.attempt, d.kind))
            })
            .collect();
        found.insert(outcome);
        m.actions(&s, &mut actions);
        for a in actions.drain(..) {
            if let Some(n) = m.next_state(&s, a) {
                stack.push(n);
            }
        }
    }
    (found, seen.len())
}

fn same_outcomes(mut cfg: ModelConfig) {
    cfg.votes = VoteDelivery::Single;
    let (single, single_states) = outcomes(&cfg);
    cfg.votes = VoteDelivery::Batched;
    let (batched, batched_states) = outcomes(&cfg);
    assert_eq!(single, batched, "{}", cfg.name);
    assert!(
        batched_states < single_states,
        "{batched_states} vs {single_states}"
    );
    assert!(single.len() > 1, "a trivial comparison");
}

#[test]
fn batched_votes_reach_the_same_outcomes_under_the_reference_rules() {
    // Asynchrony, an equivocating Byzantine voting for everything.
    same_outcomes(ModelConfig::preset("reference-async-active").unwrap());
    // Asynchrony with timeouts into a second attempt, withholding Byzantine.
    let mut cfg = ModelConfig::preset("reference-async").unwrap();
    cfg.max_attempt = 1;
    same_outcomes(cfg);
    // Synchronous timers, lost proposals, a withholding Byzantine, two
    // attempts.
    let mut cfg = ModelConfig::preset("reference").unwrap();
    cfg.max_attempt = 1;
    assert_eq!(cfg.network, Network::Gst(0));
    same_outcomes(cfg);
}

#[test]
fn batched_votes_reach_the_same_outcomes_under_the_seed_rules() {
    same_outcomes(ModelConfig::preset("seed-flaw1").unwrap());
    let mut cfg = ModelConfig::preset("seed-flaw2").unwrap();
    cfg.max_attempt = 0;
    same_outcomes(cfg);
}
