//! The clocked timing: timers last what the node sets (R7.2) on one clock,
//! and nodes start at offsets of their own. Attempt synchronization (A7)
//! is what makes nodes that start a timer apart meet: with it every start
//! skew tried decides; without it a node that starts one attempt ahead
//! stays ahead for ever (spec/properties.md, "Timing").

use time_consensus::Rules;
use time_consensus_model::check::{run, Options, Report, Status};
use time_consensus_model::config::{ConfigError, ModelConfig, Network, Timing};
use time_consensus_model::trace::TraceStep;

fn clocked(rules: Rules, starts: [u64; 4]) -> ModelConfig {
    let mut cfg = ModelConfig::preset("reference-clocked").unwrap();
    cfg.rules = rules;
    cfg.starts_secs = starts.to_vec();
    cfg
}

fn statuses(r: &Report) -> Vec<(&str, &str)> {
    r.properties
        .iter()
        .map(|v| (v.name.as_str(), v.status.as_str()))
        .collect()
}

/// The path shown for property `name`, a line a step.
fn path(r: &Report, name: &str) -> Vec<String> {
    let steps = r.verdict(name).unwrap().path.as_ref().unwrap();
    steps.iter().map(TraceStep::one_line).collect()
}

fn liveness(r: &Report) -> Status {
    assert!(r.complete);
    assert_eq!(r.acyclicity_violation, None);
    assert_eq!(r.verdict("agreement").unwrap().status, Status::Held);
    assert_eq!(r.verdict("validity").unwrap().status, Status::Held);
    r.verdict("emergency liveness").unwrap().status
}

#[test]
fn a_node_that_starts_an_attempt_early_is_followed_under_a7() {
    let r = run(
        &ModelConfig::preset("reference-clocked").unwrap(),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(
        statuses(&r),
        [
            ("agreement", "held"),
            ("validity", "held"),
            ("emergency liveness", "held"),
            ("a locked node approves another block", "not found"),
            ("a justified re-proposal is accepted", "not found"),
            ("two blocks approve-certified", "not found"),
            // With A7 the second emergency attempt is never needed.
            ("entered the last explored attempt", "not found"),
            ("finalized in attempt 0", "not found"),
            ("finalized a reward-only block", "not found"),
            ("finalized the emergency block", "found"),
        ]
    );
    assert_eq!(r.unique_states, 718);
    assert_eq!(r.acyclicity_violation, None);
    // Gold's approve vote of attempt 2 carries more than T - q (8 of 15
    // against 5): Silver joins it there (R7.7).
    let steps = path(&r, "finalized the emergency block");
    assert_eq!(
        steps[9..],
        vec![
            "mn001 receives mn000 (approve vote for E in attempt 2) ⇒ mn001 moves to attempt 2 ⇒ mn001 locks on E (attempt 2)",
            "mn001 → mn000: approve certificate for E in attempt 2 (2 votes) ⇒ mn000 locks on E (attempt 2)",
            "mn000 receives mn001 (commit vote for E in attempt 2) ⇒ mn000 FINALIZES E (Emergency block, attempt 2)",
        ]
    );
}

#[test]
fn without_a7_a_node_that_starts_an_attempt_early_stays_ahead_for_ever() {
    // Gold starts 40 s before the others, more than one attempt timer (34
    // s). It enters each attempt alone and leaves it before the others'
    // votes of that attempt arrive; they count its kept future votes but
    // never its commit vote, without which nobody has a quorum. The
    // emergency attempts repeat this unchanged (same block, same timer), so
    // the run the model stops at the ladder's end goes on for ever: a
    // counterexample to P3, not an artefact of the bound. More emergency
    // attempts do not change the verdict.
    let r = run(&clocked(without_a7(), [0, 40, 40, 40]), &Options::default()).unwrap();
    assert_eq!(liveness(&r), Status::Violated);
    assert_eq!(r.unique_states, 136);
    let steps = path(&r, "emergency liveness");
    assert_eq!(
        steps,
        vec![
            "mn000: starts the height",
            "the clock reaches 34.000 s",
            "mn000: the timeout of attempt 0 fires ⇒ mn000 moves to attempt 1",
            "the clock reaches 40.000 s",
            "mn003: starts the height",
            "mn001: starts the height",
            "mn001 → mn000: proposal of B0·mn001 for attempt 0",
            "mn001 → mn003: proposal of B0·mn001 for attempt 0 ⇒ mn003 votes in attempt 0",
            "the clock reaches 66.000 s",
            "mn000: the timeout of attempt 1 fires ⇒ mn000 moves to attempt 2",
            "the clock reaches 74.000 s",
            "mn001: the timeout of attempt 0 fires ⇒ mn001 moves to attempt 1",
            "mn003: the timeout of attempt 0 fires ⇒ mn003 moves to attempt 1",
            "the clock reaches 100.000 s",
            "mn000: the timeout of attempt 2 fires ⇒ mn000 moves to attempt 3",
            "the clock reaches 106.000 s",
            "mn001: the timeout of attempt 1 fires ⇒ mn001 moves to attempt 2",
            "mn003 receives mn001 (approve vote for E in attempt 2), then mn000 (approve vote for E in attempt 2)",
            "mn003: the timeout of attempt 1 fires ⇒ mn003 moves to attempt 2 ⇒ mn003 locks on E (attempt 2)",
            "mn000 receives mn003 (approve vote for E in attempt 2), then mn001 (approve vote for E in attempt 2)",
            "mn001 receives mn003 (approve vote for E in attempt 2), then mn000 (approve vote for E in attempt 2) ⇒ mn001 locks on E (attempt 2)",
            "the clock reaches 134.000 s",
            "mn000: the timeout of its last explored attempt fires (it leaves the explored ladder)",
        ]
    );
    for (max_attempt, unique) in [(4, 984), (5, 7768)] {
        let mut cfg = clocked(without_a7(), [0, 40, 40, 40]);
        cfg.max_attempt = max_attempt;
        let r = run(&cfg, &Options::default()).unwrap();
        assert_eq!(liveness(&r), Status::Violated);
        assert_eq!(r.unique_states, unique);
        assert_eq!(
            r.verdict("emergency liveness").unwrap().outcome.as_deref(),
            Some(
                &[
                    "mn000: undecided".to_string(),
                    "mn001: undecided".into(),
                    "mn003: undecided".into()
                ][..]
            )
        );
    }
}

#[test]
fn every_start_skew_up_to_a_minute_decides_under_a7_and_not_without() {
    // Gold, Silver and Free start at 0, 20, 40 or 60 s (the first at 0).
    let mut a7_states = 0;
    let mut plain_states = 0;
    let mut stuck = Vec::new();
    for g in [0, 20, 40, 60] {
        for s in [0, 20, 40, 60] {
            for f in [0, 20, 40, 60] {
                if g.min(s).min(f) != 0 {
                    continue;
                }
                let starts = [g, s, 0, f];
                let r = run(&clocked(a7(), starts), &Options::default()).unwrap();
                assert_eq!(liveness(&r), Status::Held, "{starts:?}");
                a7_states += r.unique_states;
                let r = run(&clocked(without_a7(), starts), &Options::default()).unwrap();
                if liveness(&r) == Status::Violated {
                    stuck.push((g, s, f));
                }
                plain_states += r.unique_states;
            }
        }
    }
    assert_eq!((a7_states, plain_states), (38251, 11208));
    assert_eq!(
        stuck,
        vec![
            (0, 40, 0),
            (0, 40, 20),
            (0, 40, 40),
            (0, 40, 60),
            (0, 60, 0),
            (0, 60, 20),
            (0, 60, 40),
            (0, 60, 60),
            (20, 60, 0),
            (40, 0, 0),
            (40, 0, 20),
            (40, 0, 40),
            (40, 0, 60),
            (60, 0, 0),
            (60, 0, 20),
            (60, 0, 40),
            (60, 0, 60),
            (60, 20, 0)
        ]
    );
}

#[test]
fn an_active_byzantine_changes_no_verdict_under_a7() {
    let mut cfg = ModelConfig::preset("reference-clocked").unwrap();
    cfg.behaviour = time_consensus_model::config::Byzantine::parse("equivocate,vote-any").unwrap();
    let r = run(&cfg, &Options::default()).unwrap();
    assert_eq!(liveness(&r), Status::Held);
    assert_eq!(r.unique_states, 45);
}

#[test]
fn clocked_configurations_that_make_no_sense_are_refused() {
    let base = ModelConfig::preset("reference-clocked").unwrap();
    let mut c = base.clone();
    c.starts_secs = vec![0, 40];
    assert!(matches!(
        c.validate(),
        Err(ConfigError::StartsCount {
            given: 2,
            masternodes: 4
        })
    ));
    let mut c = base.clone();
    c.timing = Timing::Staggered;
    assert!(matches!(
        c.validate(),
        Err(ConfigError::StartsWithoutClock {
            timing: Timing::Staggered
        })
    ));
    let mut c = base.clone();
    c.network = Network::Gst(2);
    assert!(matches!(
        c.validate(),
        Err(ConfigError::ClockedNetwork {
            network: Network::Gst(2)
        })
    ));
    let mut c = base.clone();
    c.phase1 = true;
    assert!(matches!(c.validate(), Err(ConfigError::ClockedPhase1)));
    let mut c = base;
    c.starts_secs = vec![0, 40, 40, 86_401];
    assert!(matches!(c.validate(), Err(ConfigError::Starts(_))));
    assert!(time_consensus_model::config::parse_starts("0,x").is_err());
    assert_eq!(
        time_consensus_model::config::parse_starts("0, 40").unwrap(),
        [0, 40]
    );
}

/// Checks preset `name` under `rules` and the clocked timing, Gold
/// starting 40 s before the others as in `reference-clocked`.
fn clocked_run(name: &str, rules: Rules) -> Report {
    let mut cfg = ModelConfig::preset(name).unwrap();
    cfg.rules = rules;
    cfg.network = Network::Gst(0);
    cfg.timing = Timing::Clocked;
    cfg.starts_secs = vec![0, 40, 40, 40];
    run(&cfg, &Options::default()).unwrap()
}

/// The shortest way to fail without A7 when Gold starts 40 s early and the
/// Byzantine Silver node sends nothing: Gold is one attempt ahead for ever.
const GOLD_AHEAD: [&str; 21] = [
    "mn000: starts the height",
    "the clock reaches 34.000 s",
    "mn000: the timeout of attempt 0 fires ⇒ mn000 moves to attempt 1",
    "the clock reaches 40.000 s",
    "mn002: starts the height",
    "mn003: starts the height",
    "the clock reaches 66.000 s",
    "mn000: the timeout of attempt 1 fires ⇒ mn000 moves to attempt 2",
    "the clock reaches 74.000 s",
    "mn002: the timeout of attempt 0 fires ⇒ mn002 moves to attempt 1",
    "mn003: the timeout of attempt 0 fires ⇒ mn003 moves to attempt 1",
    "the clock reaches 100.000 s",
    "mn000: the timeout of attempt 2 fires ⇒ mn000 moves to attempt 3",
    "the clock reaches 106.000 s",
    "mn002: the timeout of attempt 1 fires ⇒ mn002 moves to attempt 2",
    "mn003 receives mn002 (approve vote for E in attempt 2), then mn000 (approve vote for E in attempt 2)",
    "mn003: the timeout of attempt 1 fires ⇒ mn003 moves to attempt 2 ⇒ mn003 locks on E (attempt 2)",
    "mn000 receives mn003 (approve vote for E in attempt 2), then mn002 (approve vote for E in attempt 2)",
    "mn002 receives mn003 (approve vote for E in attempt 2), then mn000 (approve vote for E in attempt 2) ⇒ mn002 locks on E (attempt 2)",
    "the clock reaches 134.000 s",
    "mn000: the timeout of its last explored attempt fires (it leaves the explored ladder)",
];

fn a7() -> Rules {
    Rules::Reference
}

/// The reference rules without A7, whose counterexamples force it.
fn without_a7() -> Rules {
    Rules::Reference.without(time_consensus::Amendment::AttemptSync)
}

/// The outcome `eventually`'s counterexample ends in, a line a node.
fn outcome(r: &Report) -> Vec<String> {
    let v = r.verdict("emergency liveness").unwrap();
    v.outcome.clone().unwrap_or_default()
}

#[test]
fn a_leader_that_times_its_proposals_changes_no_verdict_under_a7() {
    // `reference-late-leader`'s Silver leader of attempt 0 sends each of
    // its two blocks to whom and when it likes, on the clock too.
    let r = clocked_run("reference-late-leader", a7());
    assert_eq!(liveness(&r), Status::Held);
    assert_eq!(r.unique_states, 89_781);
    assert_eq!(
        r.verdict("finalized the emergency block").unwrap().status,
        Status::Found
    );
    // A7 is what holds it: without it Gold stays ahead here too.
    let r = clocked_run("reference-late-leader", without_a7());
    assert_eq!(liveness(&r), Status::Violated);
    assert_eq!(r.unique_states, 324_243);
    assert_eq!(
        outcome(&r),
        ["mn000: undecided", "mn002: undecided", "mn003: undecided"]
    );
    // The leader's block B0' is approve-certified in attempt 0 while Gold is
    // already in attempt 1; the two others lock on it and carry it into the
    // emergency attempt (R7.3), where Gold, one attempt ahead, is never
    // there to commit with them.
    assert_eq!(
        path(&r, "emergency liveness"),
        vec![
            "mn000: starts the height",
            "mn001* → mn000: proposal of B0'·mn001 for attempt 0 ⇒ mn000 votes in attempt 0",
            "the clock reaches 34.000 s",
            "mn000: the timeout of attempt 0 fires ⇒ mn000 moves to attempt 1",
            "the network loses mn000 → mn001*: proposal of R1·mn000 for attempt 1",
            "the clock reaches 40.000 s",
            "mn002: starts the height",
            "mn003: starts the height",
            "mn001* → mn002: proposal of B0'·mn001 for attempt 0 ⇒ mn002 votes in attempt 0",
            "mn000 receives mn002 (approve vote for B0'·mn001 in attempt 0)",
            "mn000 → mn003: approve certificate for B0'·mn001 in attempt 0 (2 votes) ⇒ mn003 locks on B0'·mn001 (attempt 0)",
            "mn001* → mn003: proposal of B0'·mn001 for attempt 0 ⇒ mn003 votes in attempt 0",
            "mn002 receives mn003 (approve vote for B0'·mn001 in attempt 0), then mn000 (approve vote for B0'·mn001 in attempt 0)",
            "mn000 → mn002: approve certificate for B0'·mn001 in attempt 0 (2 votes) ⇒ mn002 locks on B0'·mn001 (attempt 0)",
            "the network loses mn000 → mn002: proposal of R1·mn000 for attempt 1",
            "the network loses mn000 → mn003: proposal of R1·mn000 for attempt 1",
            "the clock reaches 66.000 s",
            "mn000: the timeout of attempt 1 fires ⇒ mn000 moves to attempt 2",
            "the clock reaches 74.000 s",
            "mn002: the timeout of attempt 0 fires ⇒ mn002 moves to attempt 1",
            "mn003: the timeout of attempt 0 fires ⇒ mn003 moves to attempt 1",
            "the clock reaches 100.000 s",
            "mn000: the timeout of attempt 2 fires ⇒ mn000 moves to attempt 3",
            "the clock reaches 106.000 s",
            "mn002: the timeout of attempt 1 fires ⇒ mn002 moves to attempt 2",
            "mn003 receives mn002 (approve vote for B0'·mn001 in attempt 2), then mn000 (approve vote for B0'·mn001 in attempt 2)",
            "mn003: the timeout of attempt 1 fires ⇒ mn003 moves to attempt 2 ⇒ mn003 locks on B0'·mn001 (attempt 2)",
            "mn000 receives mn003 (approve vote for B0'·mn001 in attempt 2), then mn002 (approve vote for B0'·mn001 in attempt 2)",
            "mn002 receives mn003 (approve vote for B0'·mn001 in attempt 2), then mn000 (approve vote for B0'·mn001 in attempt 2) ⇒ mn002 locks on B0'·mn001 (attempt 2)",
            "the clock reaches 134.000 s",
            "mn000: the timeout of its last explored attempt fires (it leaves the explored ladder)",
        ]
    );
}

#[test]
fn commit_votes_without_a_quorum_change_no_verdict_under_a7() {
    // `reference-commit-any`'s Silver node commits every block in every
    // attempt, future ones too, without an approve quorum.
    let r = clocked_run("reference-commit-any", a7());
    assert_eq!(liveness(&r), Status::Held);
    assert_eq!(r.unique_states, 2_476);
    let r = clocked_run("reference-commit-any", without_a7());
    assert_eq!(liveness(&r), Status::Violated);
    assert_eq!(r.unique_states, 69);
    assert_eq!(path(&r, "emergency liveness"), GOLD_AHEAD);
}

/// Without A7, Silver (4 of 14, not more than `T - q`) 40 s ahead of Gold
/// on 8/4/2 with the Bronze node silent: Silver is always an attempt ahead
/// and leaves the ladder undecided.
const SILVER_AHEAD_ON_THE_CLOCK: [&str; 18] = [
    "mn001: starts the height",
    "the clock reaches 34.000 s",
    "mn001: the timeout of attempt 0 fires ⇒ mn001 moves to attempt 1",
    "the clock reaches 40.000 s",
    "mn000: starts the height",
    "mn000 → mn001: proposal of B0·mn000 for attempt 0",
    "the clock reaches 66.000 s",
    "mn001: the timeout of attempt 1 fires ⇒ mn001 moves to attempt 2",
    "the clock reaches 74.000 s",
    "mn000: the timeout of attempt 0 fires ⇒ mn000 moves to attempt 1",
    "the clock reaches 100.000 s",
    "mn001: the timeout of attempt 2 fires ⇒ mn001 moves to attempt 3",
    "the clock reaches 106.000 s",
    "mn000: the timeout of attempt 1 fires ⇒ mn000 moves to attempt 2",
    "mn000 receives mn001 (approve vote for E in attempt 2) ⇒ mn000 locks on E (attempt 2)",
    "mn000 → mn001: approve certificate for E in attempt 2 (2 votes)",
    "the clock reaches 134.000 s",
    "mn001: the timeout of its last explored attempt fires (it leaves the explored ladder)",
];

#[test]
fn a_light_node_that_starts_first_is_caught_up_by_growing_timers() {
    // `reference-staggered`'s nodes and the schedule of its counterexample
    // (Silver first), on the clock: there R7.7 cannot follow Silver, and
    // A7's growing timers (R7.2) let Gold catch up; the staggered timing,
    // which lets Silver run two attempts within one of Gold's, fails both.
    let on_clock = |rules: Rules| {
        let mut cfg = ModelConfig::preset("reference-staggered").unwrap();
        cfg.rules = rules;
        cfg.timing = Timing::Clocked;
        cfg.starts_secs = vec![40, 0, 0];
        run(&cfg, &Options::default()).unwrap()
    };
    let r = on_clock(a7());
    assert_eq!(liveness(&r), Status::Held);
    assert_eq!(r.unique_states, 21);
    let r = on_clock(without_a7());
    assert_eq!(liveness(&r), Status::Violated);
    assert_eq!(r.unique_states, 20);
    assert_eq!(path(&r, "emergency liveness"), SILVER_AHEAD_ON_THE_CLOCK);
    assert_eq!(outcome(&r), ["mn000: undecided", "mn001: undecided"]);
}
