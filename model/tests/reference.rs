//! The reference rules checked exhaustively: every property holds, every way a
//! height can end is reached, the state graphs are acyclic, and the state
//! counts are pinned. A single emergency attempt is shown not to be enough.

use time_consensus_model::check::{run, Options, Report, Strategy};
use time_consensus_model::config::ModelConfig;
use time_consensus_model::trace::TraceStep;

fn check(name: &str) -> Report {
    run(&ModelConfig::preset(name).unwrap(), &Options::default()).unwrap()
}

fn statuses(r: &Report) -> Vec<(&str, &str)> {
    r.properties
        .iter()
        .map(|v| (v.name.as_str(), v.status.as_str()))
        .collect()
}

#[test]
fn reference_full_ladder_with_a_withholding_byzantine() {
    // 8/4/2/1 with the Bronze node (2 of 15) Byzantine; attempts 0 to 5:
    // attempt 0, two rotations, reward-only, two emergency attempts.
    let r = check("reference");
    assert_eq!(r.config.byzantine_share(), (2, 15));
    assert!(r.complete);
    assert_eq!(
        statuses(&r),
        [
            ("agreement", "held"),
            ("validity", "held"),
            ("emergency liveness", "held"),
            ("finalized in attempt 0", "found"),
            ("finalized after a rotation", "found"),
            ("finalized a reward-only block", "found"),
            ("finalized the emergency block", "found"),
        ]
    );
    assert_eq!(r.unique_states, 361_786);
    assert_eq!(r.max_depth, 31);
    assert_eq!(r.acyclicity_violation, None);
    // Every transition explored was checked (rebuilding the example paths
    // at the end checks a few more).
    assert!(r.acyclic_edges.unwrap() >= r.states as u64);
    // Every example ends where it says, with the path that gets there.
    let ending = |name: &str| r.verdict(name).unwrap().outcome.clone().unwrap().join("; ");
    assert!(ending("finalized in attempt 0").contains("(Normal, attempt 0)"));
    assert!(ending("finalized after a rotation").contains("(Normal, attempt 1)"));
    assert!(ending("finalized a reward-only block").contains("(RewardOnly, attempt 3)"));
    assert!(ending("finalized the emergency block").contains("E (Emergency, attempt 4)"));
}

#[test]
fn reference_with_late_stabilization_and_two_emergency_attempts() {
    let r = check("reference-gst");
    assert_eq!(
        statuses(&r),
        [
            ("agreement", "held"),
            ("validity", "held"),
            ("emergency liveness", "held"),
            // The withholding Byzantine node leads attempt 0.
            ("finalized in attempt 0", "not found"),
            ("finalized a reward-only block", "found"),
            ("finalized the emergency block", "found"),
        ]
    );
    assert_eq!(r.unique_states, 169_700);
    assert_eq!(r.acyclicity_violation, None);
}

#[test]
fn one_emergency_attempt_is_not_enough_when_the_network_stabilizes_late() {
    // mn002 times out of attempt 1 before its quorum there forms, enters the
    // emergency attempt early and approves the emergency block; the others
    // then lock on R1 (its quorum completes after all) and approve it. With
    // no later attempt, neither block can gather 10 of 15.
    let r = check("reference-gst-one-emergency");
    let v = r.verdict("emergency liveness").unwrap();
    assert_eq!(v.status, "violated");
    let path: Vec<String> = v
        .path
        .as_ref()
        .unwrap()
        .iter()
        .map(TraceStep::one_line)
        .collect();
    assert_eq!(
        path,
        [
            "mn000: the timeout of attempt 0 fires ⇒ mn000 moves to attempt 1",
            "mn000 → mn002: proposal of R1·mn000 for attempt 1",
            "mn002: the timeout of attempt 0 fires ⇒ mn002 moves to attempt 1",
            "mn002: the timeout of attempt 1 fires ⇒ mn002 moves to attempt 2",
            "mn003: the timeout of attempt 0 fires ⇒ mn003 moves to attempt 1",
            "mn002 receives mn000 (approve vote for R1·mn000 in attempt 1)",
            "mn002 → mn003: approve certificate for R1·mn000 in attempt 1 (2 votes) ⇒ mn003 locks on R1·mn000 (attempt 1)",
            "mn003: the timeout of attempt 1 fires ⇒ mn003 moves to attempt 2",
            "mn000 → mn003: proposal of R1·mn000 for attempt 1",
            "mn000 receives mn002 (approve vote for R1·mn000 in attempt 1) ⇒ mn000 locks on R1·mn000 (attempt 1)",
            "mn000: the timeout of attempt 1 fires ⇒ mn000 moves to attempt 2",
        ]
    );
    assert_eq!(
        v.outcome.as_ref().unwrap().join("; "),
        "mn000: undecided; mn002: undecided; mn003: undecided"
    );
    assert_eq!(r.unique_states, 154_174);
}

#[test]
fn reference_safety_under_full_asynchrony() {
    let r = check("reference-async");
    assert_eq!(
        statuses(&r),
        [
            ("agreement", "held"),
            ("validity", "held"),
            ("finalized in attempt 0", "not found"),
            ("finalized a reward-only block", "found"),
            ("finalized the emergency block", "found"),
        ]
    );
    assert_eq!(r.unique_states, 154_174);
    let r = check("reference-async-active");
    assert_eq!(
        statuses(&r),
        [
            ("agreement", "held"),
            ("validity", "held"),
            ("finalized in attempt 0", "found")
        ]
    );
    assert_eq!(r.unique_states, 28_948);
}

#[test]
fn breadth_and_depth_first_explore_the_same_states() {
    // The enabled actions depend on the state alone (not on the order in
    // which the search built it), so both searches reach one set of states.
    for (name, unique) in [("reference-async-active", 28_948), ("seed-flaw2", 26_578)] {
        let cfg = ModelConfig::preset(name).unwrap();
        for strategy in [Strategy::Bfs, Strategy::Dfs] {
            let opts = Options {
                strategy,
                ..Options::default()
            };
            let r = run(&cfg, &opts).unwrap();
            assert!(r.complete, "{name} {strategy:?}");
            assert_eq!(r.unique_states, unique, "{name} {strategy:?}");
        }
    }
}
