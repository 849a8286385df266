//! Five masternodes, checked exhaustively: weights 8/4/2/1/1 with the
//! Silver node Byzantine, and five equal weights with one Byzantine node
//! below a third, down the ladder to the emergency block (every property)
//! and, with an equivocating leader voting for everything, under full
//! asynchrony (safety). State counts and the endings' paths are pinned.

use time_consensus_model::check::{run, Options, Strategy};
use time_consensus_model::config::ModelConfig;

mod checks;
use checks::*;

fn preset(name: &str) -> ModelConfig {
    ModelConfig::preset(name).unwrap()
}

/// The outcome line of the example of `ending`.
fn ending(r: &time_consensus_model::check::Report, name: &str) -> String {
    r.verdict(name).unwrap().outcome.clone().unwrap().join("; ")
}

#[test]
fn five_weighted_masternodes_down_the_ladder() {
    // Depth-first: a million states in 26 MB (breadth-first keeps about
    // 2 GB); the same states either way (`reduction.rs`,
    // breadth_and_depth_first_explore_the_same_states, on smaller presets).
    let cfg = preset("reference-five");
    // Weights in units of 100,000 (R2.2): the quorum is 11 of 16 units.
    assert_eq!(cfg.quorum().unwrap(), (1_066_667, 1_600_000));
    assert_eq!(cfg.byzantine_share().unwrap(), (1, 4));
    let r = run_with(&cfg, Strategy::Dfs);
    // The withholding Byzantine node leads attempt 0: only the reward-only
    // and emergency endings can happen, and both do.
    assert_holds(
        &r,
        true,
        ["not found", "not found", "not found"],
        Some("not found"),
        NO_ATTEMPT_0,
        1_013_992,
    );
    assert!(ending(&r, "finalized a reward-only block").contains("(RewardOnly, attempt 1)"));
    assert!(ending(&r, "finalized the emergency block").contains("E (Emergency, attempt 2)"));
}

#[test]
fn five_equal_masternodes_down_the_ladder() {
    let cfg = preset("reference-five-equal");
    // A quorum of 10/3 units is four of the five nodes.
    assert_eq!(cfg.quorum().unwrap(), (333_334, 500_000));
    assert_eq!(cfg.byzantine_share().unwrap(), (1, 5));
    let r = check("reference-five-equal");
    assert_holds(
        &r,
        true,
        ["not found", "not found", "not found"],
        Some("not found"),
        NO_ATTEMPT_0,
        136_560,
    );
    assert!(ending(&r, "finalized a reward-only block").contains("(RewardOnly, attempt 1)"));
    assert!(ending(&r, "finalized the emergency block").contains("E (Emergency, attempt 2)"));
}

#[test]
fn five_equal_masternodes_with_an_equivocating_leader_under_asynchrony() {
    let cfg = preset("reference-five-equal-active");
    assert_eq!(cfg.byzantine_share().unwrap(), (1, 5));
    let opts = Options {
        strategy: Strategy::Dfs,
        ..Options::default()
    };
    let r = run(&cfg, &opts).unwrap();
    assert_holds(
        &r,
        false,
        ["not found", "not found", "not found"],
        None,
        &[("finalized in attempt 0", "found")],
        528_577,
    );
    // Batched delivery spares this double voter, and the report says so.
    assert!(r.kind_batches);
}
