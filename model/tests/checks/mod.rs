//! What the model-checking tests share: running a preset and asserting
//! the verdicts and state counts of an exhaustive check.
#![allow(dead_code)] // each test file uses its own part

use time_consensus_model::check::{run, Options, Report, Strategy};
use time_consensus_model::config::ModelConfig;

pub fn check(name: &str) -> Report {
    run(&ModelConfig::preset(name).unwrap(), &Options::default()).unwrap()
}

pub fn statuses(r: &Report) -> Vec<(&str, &str)> {
    r.properties
        .iter()
        .map(|v| (v.name.as_str(), v.status.as_str()))
        .collect()
}

/// Asserts an exhaustive check in which agreement, validity and (when
/// `liveness`) emergency liveness held, the locking paths (a locked node
/// approving another block, a justified re-proposal accepted, two blocks
/// approve-certified), the last explored attempt's entry (`last`, when it is
/// not attempt 0) and the endings had the given statuses, no transition
/// failed the progress measure, and `unique` states were seen.
pub fn assert_holds(
    r: &Report,
    liveness: bool,
    locking: [&str; 3],
    last: Option<&str>,
    endings: &[(&str, &str)],
    unique: usize,
) {
    assert!(r.complete);
    let mut want = vec![("agreement", "held"), ("validity", "held")];
    if liveness {
        want.push(("emergency liveness", "held"));
    }
    let names = [
        "a locked node approves another block",
        "a justified re-proposal is accepted",
        "two blocks approve-certified",
    ];
    want.extend(names.into_iter().zip(locking));
    assert_eq!(last.is_some(), r.config.max_attempt > 0);
    want.extend(last.map(|l| ("entered the last explored attempt", l)));
    want.extend_from_slice(endings);
    assert_eq!(statuses(r), want);
    assert_eq!(r.unique_states, unique);
    assert_eq!(r.acyclicity_violation, None);
}

/// Checks `cfg` with `strategy`, every other option the default.
pub fn run_with(cfg: &ModelConfig, strategy: Strategy) -> Report {
    let opts = Options {
        strategy,
        ..Options::default()
    };
    run(cfg, &opts).unwrap()
}

/// Reward-only and emergency endings reached, attempt 0 never decided.
pub const NO_ATTEMPT_0: &[(&str, &str)] = &[
    ("finalized in attempt 0", "not found"),
    ("finalized a reward-only block", "found"),
    ("finalized the emergency block", "found"),
];

/// Attempt 0, reward-only and emergency endings all reached.
pub const ENDINGS: &[(&str, &str)] = &[
    ("finalized in attempt 0", "found"),
    ("finalized a reward-only block", "found"),
    ("finalized the emergency block", "found"),
];

/// Attempt 0, rotation, reward-only and emergency endings all reached.
pub const ALL_ENDINGS: &[(&str, &str)] = &[
    ("finalized in attempt 0", "found"),
    ("finalized after a rotation", "found"),
    ("finalized a reward-only block", "found"),
    ("finalized the emergency block", "found"),
];

/// None of the three locking paths reached.
pub const NO_LOCKS: [&str; 3] = ["not found"; 3];

/// All three locking paths reached.
pub const ALL_LOCKS: [&str; 3] = ["found"; 3];
