//! The seed rules' flaws found by the model checker, each pinned with its
//! exact counterexample, and the tightness of the one-third bound.

use time_consensus_model::check::{run, Options, Report, Status};
use time_consensus_model::config::ModelConfig;
use time_consensus_model::trace::TraceStep;

fn check(name: &str) -> Report {
    let cfg = ModelConfig::preset(name).unwrap();
    let opts = Options {
        stop_on_violation: true,
        ..Options::default()
    };
    run(&cfg, &opts).unwrap()
}

/// The path of `prop`, one line per step: the action, then `⇒` effects.
fn path(r: &Report, prop: &str) -> Vec<String> {
    let v = r.verdict(prop).unwrap();
    v.path
        .as_ref()
        .unwrap()
        .iter()
        .map(TraceStep::one_line)
        .collect()
}

fn assert_violated(r: &Report, expected: &[&str], outcome: &str, unique: usize) {
    let v = r.verdict("agreement").unwrap();
    assert_eq!(v.status, Status::Violated);
    assert_eq!(path(r, "agreement"), expected);
    assert_eq!(v.outcome.as_ref().unwrap().join("; "), outcome);
    assert_eq!(r.unique_states, unique);
}

#[test]
fn seed_rules_break_agreement() {
    assert_violated(
        &check("seed"),
        &[
            "mn000: the leader timeout of attempt 0 fires ⇒ mn000 moves to attempt 1",
            "mn000: the voting window of attempt 1 closes ⇒ mn000 FINALIZES B1·mn000 (Normal block, attempt 1)",
            "mn001: the voting window of attempt 0 closes ⇒ mn001 FINALIZES B0·mn001 (Normal block, attempt 0)",
        ],
        "mn000: B1·mn000 (Normal, attempt 1); mn001: B0·mn001 (Normal, attempt 0); mn002: undecided; mn003: undecided",
        147,
    );
}

#[test]
fn flaw_1_one_approving_vote_is_consensus() {
    // mn001 and mn002 each finalize on their own single vote.
    assert_violated(
        &check("seed-flaw1"),
        &[
            "mn000: the leader timeout of attempt 0 fires ⇒ mn000 moves to attempt 1",
            "mn000: the voting window of attempt 1 closes ⇒ mn000 FINALIZES B1·mn000 (Normal block, attempt 1)",
            "mn001: the voting window of attempt 0 closes ⇒ mn001 FINALIZES B0·mn001 (Normal block, attempt 0)",
        ],
        "mn000: B1·mn000 (Normal, attempt 1); mn001: B0·mn001 (Normal, attempt 0); mn002: undecided; mn003: undecided",
        115,
    );
}

#[test]
fn flaw_2_votes_for_other_blocks_are_pooled() {
    // With A1 a single honest vote no longer suffices (Gold is 8 of the 10
    // needed), but votes pooled across blocks and attempts do: Gold's for B1
    // and Silver's for B0 make 12 for either. The shortest counterexample
    // needs no Byzantine vote; the declared weight (mn003* declaring 1000)
    // is flaw 2's other half, pinned by the vectors
    // `seed_tally_flaw2_declared_weight` and `flaw2_declared_weight_counts`.
    assert_violated(
        &check("seed-flaw2"),
        &[
            "mn000: the leader timeout of attempt 0 fires ⇒ mn000 moves to attempt 1",
            "mn000 receives mn001 (approve vote for B0·mn001 in attempt 0); then the voting window of attempt 1 closes ⇒ mn000 FINALIZES B1·mn000 (Normal block, attempt 1)",
            "mn001 receives mn000 (approve vote for B1·mn000 in attempt 1); then the voting window of attempt 0 closes ⇒ mn001 FINALIZES B0·mn001 (Normal block, attempt 0)",
        ],
        "mn000: B1·mn000 (Normal, attempt 1); mn001: B0·mn001 (Normal, attempt 0); mn002: undecided",
        252,
    );
}

#[test]
fn flaw_3_no_locking_lets_a_later_attempt_replace_a_decided_block() {
    // Real quorums (A1, A2): mn000 (8) and mn002 (2) decide B1 in attempt 1;
    // mn000 (8) and mn001 (4) decide B0 in attempt 0. mn000 voted for both.
    assert_violated(
        &check("seed-flaw3"),
        &[
            "mn001 → mn000: proposal of B0·mn001 for attempt 0 ⇒ mn000 votes in attempt 0",
            "mn000: the voting window of attempt 0 closes ⇒ mn000 moves to attempt 1",
            "mn002: the leader timeout of attempt 0 fires ⇒ mn002 moves to attempt 1",
            "mn000 → mn002: proposal of B1·mn000 for attempt 1 ⇒ mn002 votes in attempt 1",
            "mn000 receives mn002 (approve vote for B1·mn000 in attempt 1); then the voting window of attempt 1 closes ⇒ mn000 FINALIZES B1·mn000 (Normal block, attempt 1)",
            "mn001 receives mn000 (approve vote for B0·mn001 in attempt 0); then the voting window of attempt 0 closes ⇒ mn001 FINALIZES B0·mn001 (Normal block, attempt 0)",
        ],
        "mn000: B1·mn000 (Normal, attempt 1); mn001: B0·mn001 (Normal, attempt 0); mn002: undecided; mn003: undecided",
        18_243,
    );
}

#[test]
fn flaw_4_the_emergency_block_bypasses_voting() {
    assert_violated(
        &check("seed-flaw4"),
        &[
            "mn001 → mn000: proposal of B0·mn001 for attempt 0 ⇒ mn000 votes in attempt 0",
            "mn000: the voting window of attempt 0 closes ⇒ mn000 moves to attempt 1",
            "mn000: the voting window of attempt 1 closes ⇒ mn000 moves to attempt 2",
            "mn000: the leader timeout of attempt 2 fires ⇒ mn000 FINALIZES E (Emergency block, attempt 3, without a single vote)",
            "mn001 receives mn000 (approve vote for B0·mn001 in attempt 0); then the voting window of attempt 0 closes ⇒ mn001 FINALIZES B0·mn001 (Normal block, attempt 0)",
        ],
        "mn000: E (Emergency, attempt 3); mn001: B0·mn001 (Normal, attempt 0); mn002: undecided; mn003: undecided",
        5_824,
    );
}

#[test]
fn without_a4_locking_does_not_save_a_unilateral_emergency_block() {
    assert_violated(
        &check("reference-A4"),
        &[
            "mn001 → mn000: proposal of B0·mn001 for attempt 0 ⇒ mn000 votes in attempt 0",
            "mn001: the timeout of attempt 0 fires ⇒ mn001 moves to attempt 1",
            "mn001: the timeout of attempt 1 fires ⇒ mn001 FINALIZES E (Emergency block, attempt 2, without a single vote)",
            "mn000 receives mn001 (approve vote for B0·mn001 in attempt 0) ⇒ mn000 locks on B0·mn001 (attempt 0)",
            "mn000 → mn002: approve certificate for B0·mn001 in attempt 0 (2 votes) ⇒ mn002 locks on B0·mn001 (attempt 0)",
            "mn000 receives mn002 (commit vote for B0·mn001 in attempt 0) ⇒ mn000 FINALIZES B0·mn001 (Normal block, attempt 0)",
        ],
        "mn000: B0·mn001 (Normal, attempt 0); mn001: E (Emergency, attempt 2); mn002: undecided; mn003: undecided",
        48_082,
    );
}

#[test]
fn a_byzantine_third_or_more_breaks_the_reference_rules() {
    // Gold (8 of 15) is Byzantine: it proposes two blocks in attempt 1,
    // which draws Silver and Bronze there (8 > T - q = 5, R7.7), and makes a
    // quorum with each of them for its own block.
    let r = check("reference-tight");
    assert_violated(
        &r,
        &[
            "mn000* → mn001: proposal of B1·mn000 for attempt 1 ⇒ mn001 moves to attempt 1",
            "mn000* → mn002: proposal of B1'·mn000 for attempt 1 ⇒ mn002 moves to attempt 1",
            "mn001 receives mn000* (approve vote for B1·mn000 in attempt 1) ⇒ mn001 locks on B1·mn000 (attempt 1)",
            "mn001 receives mn000* (commit vote for B1·mn000 in attempt 1) ⇒ mn001 FINALIZES B1·mn000 (Normal block, attempt 1)",
            "mn002 receives mn000* (approve vote for B1'·mn000 in attempt 1) ⇒ mn002 locks on B1'·mn000 (attempt 1)",
            "mn002 receives mn000* (commit vote for B1'·mn000 in attempt 1) ⇒ mn002 FINALIZES B1'·mn000 (Normal block, attempt 1)",
        ],
        "mn001: B1·mn000 (Normal, attempt 1); mn002: B1'·mn000 (Normal, attempt 1); mn003: undecided",
        34_965,
    );
    assert_eq!(r.config.byzantine_share().unwrap(), (8, 15));
}

#[test]
fn a_byzantine_third_exactly_breaks_the_reference_rules() {
    // Weights 2/2/1/1, quorum 4 of 6: the Byzantine Bronze (exactly a third)
    // completes a quorum with the honest Bronze for B0 and another with the
    // two Free masternodes for B1; the honest parts do not intersect. Its
    // commit vote of attempt 1 with the proposal's sender weighs 3 > T - q =
    // 2, so the honest Bronze nodes join attempt 1 on it (R7.7).
    let r = check("reference-third");
    assert_eq!(r.config.byzantine_share().unwrap(), (1, 3));
    assert_violated(
        &r,
        &[
            "mn001 → mn000*: proposal of B0·mn001 for attempt 0",
            "mn001 → mn002: proposal of B0·mn001 for attempt 0 ⇒ mn002 votes in attempt 0",
            "mn003: the timeout of attempt 0 fires ⇒ mn003 moves to attempt 1",
            "mn003 → mn000*: proposal of B1·mn003 for attempt 1",
            "mn001 receives mn000* (approve vote for B0·mn001 in attempt 0) ⇒ mn001 locks on B0·mn001 (attempt 0)",
            "mn001 receives mn003 (proposal of B1·mn003 for attempt 1), then mn000* (commit vote for B1·mn003 in attempt 1) ⇒ mn001 moves to attempt 1",
            "mn002 receives mn003 (proposal of B1·mn003 for attempt 1), then mn000* (commit vote for B1·mn003 in attempt 1) ⇒ mn002 moves to attempt 1",
            "mn001 receives mn002 (approve vote for B1·mn003 in attempt 1), then mn003 (approve vote for B1·mn003 in attempt 1), then mn000* (approve vote for B1·mn003 in attempt 1) ⇒ mn001 FINALIZES B1·mn003 (Normal block, attempt 1)",
            "mn002 receives mn001 (commit vote for B0·mn001 in attempt 0), then mn000* (commit vote for B0·mn001 in attempt 0) ⇒ mn002 FINALIZES B0·mn001 (Normal block, attempt 0)",
        ],
        "mn001: B1·mn003 (Normal, attempt 1); mn002: B0·mn001 (Normal, attempt 0); mn003: undecided",
        319_739,
    );
}

#[test]
fn the_amendments_text_shows_the_counterexamples_the_checker_finds() {
    // spec/amendments.md quotes each forcing counterexample by hand; each
    // step's action must read there as the checker prints it, in its place.
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/amendments.md"),
    )
    .unwrap();
    let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    for (section, config) in [
        ("## A1", "seed-flaw1"),
        ("## A2", "seed-flaw2"),
        ("## A3", "seed-flaw3"),
        ("## A4", "seed-flaw4"),
        ("## A4", "reference-A4"),
    ] {
        let start = doc.find(section).unwrap();
        let end = doc[start + 4..]
            .find("## A")
            .map_or(doc.len(), |e| start + 4 + e);
        let text = &doc[start..end];
        let r = check(config);
        let steps = r.verdict("agreement").unwrap().path.clone().unwrap();
        for s in &steps {
            let line = format!("{}. {}", s.step, s.action);
            let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(text.contains(&line), "{section} ({config}) lacks `{line}`");
        }
    }
}

#[test]
fn each_path_shown_is_a_shortest_one() {
    // Stateright records a discovery again at every state that shows it;
    // the model keeps the first, so breadth-first paths are shortest: one
    // step finalizes attempt 0 (flaw 1: the leader's own vote), two steps
    // a later attempt, three break agreement.
    let cfg = ModelConfig::preset("seed-flaw1").unwrap();
    let r = run(&cfg, &Options::default()).unwrap();
    assert!(r.complete);
    assert_eq!(
        path(&r, "finalized in attempt 0"),
        ["mn001: the voting window of attempt 0 closes ⇒ mn001 FINALIZES B0·mn001 (Normal block, attempt 0)"]
    );
    assert_eq!(path(&r, "finalized after a rotation").len(), 2);
    assert_eq!(path(&r, "agreement").len(), 3);
}

#[test]
fn the_explorer_draws_a_counterexample_and_shows_what_each_node_counted() {
    use time_consensus_model::check::run_with_paths;
    use time_consensus_model::trace::{trace_steps, Event};
    use time_consensus_model::{view, TcModel};
    let cfg = ModelConfig::preset("reference-A4").unwrap();
    let opts = Options {
        stop_on_violation: true,
        ..Options::default()
    };
    let checked = run_with_paths(&cfg, &opts).unwrap();
    let (_, path) = checked
        .paths
        .iter()
        .find(|(p, _)| p == "agreement")
        .unwrap();
    let model = TcModel::new(&cfg).unwrap();
    let steps = trace_steps(&model, path);
    let svg = view::svg(&model, path);
    let delivered: usize = steps
        .iter()
        .map(|s| match &s.event {
            Event::Deliver { .. } => 1,
            Event::Votes { votes, .. } => votes.len(),
            _ => 0,
        })
        .sum();
    let timers = steps
        .iter()
        .filter(|s| matches!(s.event, Event::Timer { .. } | Event::Start { .. }))
        .count();
    assert!(delivered > 0 && timers > 0, "{delivered} {timers}");
    assert_eq!(
        svg.matches("marker-end='url(#tcm-arrow)'").count(),
        delivered
    );
    assert_eq!(svg.matches("<circle ").count(), timers);
    assert_eq!(svg.matches("class='svg-actor-timeline'").count(), 4);
    assert_eq!(svg.matches("<rect ").count(), 2, "two nodes finalize");
    // The Explorer's state pane one step before the end: mn001 took the
    // emergency block alone (no A4) while two nodes hold B0's quorum.
    let pane = view::state_text(&model, &path[path.len() - 2].0);
    assert_eq!(pane, REFERENCE_A4_BEFORE_THE_END, "{pane}");
}

const REFERENCE_A4_BEFORE_THE_END: &str = "mn000 attempt 0 · ConsensusCollection · voted · locked on B0·mn001 (attempt 0) · valid B0·mn001 (attempt 0) · undecided
    approve votes of attempt 0: B0·mn001 1200000/1000000 QUORUM (mn000 mn001)
    commit votes of attempt 0: B0·mn001 800000/1000000 (mn000)
mn001 FINALIZED E (Emergency, attempt 2)
mn002 attempt 0 · ConsensusCollection · locked on B0·mn001 (attempt 0) · valid B0·mn001 (attempt 0) · undecided
    approve votes of attempt 0: B0·mn001 1200000/1000000 QUORUM (mn000 mn001)
    commit votes of attempt 0: B0·mn001 200000/1000000 (mn002)
mn003 attempt 0 · ProposalDistribution · undecided

in flight (21 message(s)):
    mn000 → mn001, mn002, mn003: approve certificate for B0·mn001 in attempt 0 (2 votes)
    mn000 → mn001, mn002, mn003: approve vote for B0·mn001 in attempt 0
    mn000 → mn001, mn002, mn003: commit vote for B0·mn001 in attempt 0
    mn001 → mn000, mn002, mn003: approve vote for B0·mn001 in attempt 0
    mn001 → mn000, mn002, mn003: proposal of B0·mn001 for attempt 0
    mn002 → mn000, mn001, mn003: approve certificate for B0·mn001 in attempt 0 (2 votes)
    mn002 → mn000, mn001, mn003: commit vote for B0·mn001 in attempt 0
";
