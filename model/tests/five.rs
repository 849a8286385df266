//! Five masternodes, checked exhaustively: weights 8/4/2/1/1 with the
//! Silver node Byzantine, and five equal weights with one Byzantine node
//! below a third, down the ladder to the emergency block (every property)
//! and, with an equivocating leader voting for everything, under full
//! asynchrony (safety). State counts and the endings' outcomes are pinned.

use time_consensus_model::check::{render, Report, Strategy};
use time_consensus_model::config::ModelConfig;

mod checks;
use checks::*;

fn preset(name: &str) -> ModelConfig {
    ModelConfig::preset(name).unwrap()
}

/// The outcome line of the example of `ending`.
fn ending(r: &Report, name: &str) -> String {
    r.verdict(name).unwrap().outcome.clone().unwrap().join("; ")
}

/// Checks a five-masternode preset with the withholding Byzantine node
/// leading attempt 0: every property holds, only the reward-only and
/// emergency endings can happen and both do, in attempts 1 and 2.
fn down_the_ladder(name: &str, quorum: (u64, u64), share: (u64, u64), unique: usize) {
    let cfg = preset(name);
    assert_eq!(cfg.quorum().unwrap(), quorum);
    assert_eq!(cfg.byzantine_share().unwrap(), share);
    // Depth-first: `reference-five` keeps 26 MB so (about 2 GB
    // breadth-first), the same states either way (`reference.rs`,
    // breadth_and_depth_first_explore_the_same_states, on smaller presets).
    let r = run_with(&cfg, Strategy::Dfs);
    assert_holds(&r, true, NO_LOCKS, Some("not found"), NO_ATTEMPT_0, unique);
    assert!(ending(&r, "finalized a reward-only block").contains("(RewardOnly, attempt 1)"));
    assert!(ending(&r, "finalized the emergency block").contains("E (Emergency, attempt 2)"));
}

#[test]
fn five_weighted_masternodes_down_the_ladder() {
    // Weights in units of 100,000 (R2.2): the quorum is 11 of 16 units.
    down_the_ladder("reference-five", (1_066_667, 1_600_000), (1, 4), 1_013_992);
}

#[test]
fn five_equal_masternodes_down_the_ladder() {
    // A quorum of 10/3 units is four of the five nodes.
    down_the_ladder("reference-five-equal", (333_334, 500_000), (1, 5), 136_560);
}

#[test]
fn five_equal_masternodes_with_an_equivocating_leader_under_asynchrony() {
    let cfg = preset("reference-five-equal-active");
    assert_eq!(cfg.byzantine_share().unwrap(), (1, 5));
    let r = run_with(&cfg, Strategy::Dfs);
    assert_holds(
        &r,
        false,
        NO_LOCKS,
        None,
        &[("finalized in attempt 0", "found")],
        528_577,
    );
    // Batched delivery spares this double voter, and the report says so.
    assert!(r.kind_batches);
    assert!(render(&r).contains("under batched delivery, which spares"));
}
