//! Phase progression (the seed's "Phase Progression" test category): the
//! exact phase transitions a leader and a follower go through over a height
//! in which every message arrives, under both rule sets.

use time_consensus::event::{Event, Phase};
use time_consensus::kit::*;
use time_consensus::node::Timer;
use time_consensus::{Output, Rules, Tier};

use time_consensus::kit::scenarios::TIERS4 as TIERS;

fn transitions(outs: &[Output]) -> Vec<(Phase, Phase)> {
    events(outs)
        .into_iter()
        .filter_map(|e| match e {
            Event::PhaseTransition { from, to } => Some((from, to)),
            _ => None,
        })
        .collect()
}

/// Runs a height with phase 1 and every message delivered; returns each
/// node's phase transitions and the leader of attempt 0.
fn height(rules: Rules) -> (Vec<Vec<(Phase, Phase)>>, usize) {
    let mut net = Net::new(&TIERS, rules).unwrap();
    let starts: Vec<_> = (0..4).map(|i| (i, net.start(i, false))).collect();
    net.pump(starts, |_, _, _| true);
    if rules == Rules::Seed {
        // The seed flow decides when its voting window closes.
        for i in 0..4 {
            net.fire(i, window(0));
        }
    }
    let all: Vec<Vec<Output>> = (0..4).map(|i| net.outputs(i)).collect();
    for (i, n) in net.nodes.iter().enumerate() {
        assert_eq!(n.state().tip().height, 1, "node {i} finalized");
    }
    let leader = (0..4)
        .find(|&i| proposal_of(&all[i]).is_some())
        .expect("a leader proposed");
    (all.iter().map(|o| transitions(o)).collect(), leader)
}

#[test]
fn phases_of_a_height_under_both_rule_sets() {
    use Phase::*;
    let leader_phases = [
        (Waiting, Synchronization),
        (Synchronization, LeaderElection),
        (LeaderElection, BlockConstruction),
        (BlockConstruction, ProposalDistribution),
        (ProposalDistribution, VotingWindow),
        (VotingWindow, ConsensusCollection),
        (ConsensusCollection, Finalization),
        (Finalization, Complete),
    ];
    let follower_phases = [
        (Waiting, Synchronization),
        (Synchronization, LeaderElection),
        (LeaderElection, ProposalDistribution),
        (ProposalDistribution, VotingWindow),
        (VotingWindow, ConsensusCollection),
        (ConsensusCollection, Finalization),
        (Finalization, Complete),
    ];
    for rules in [Rules::Reference, Rules::Seed] {
        let (t, leader) = height(rules);
        for (i, phases) in t.iter().enumerate() {
            let want: &[(Phase, Phase)] = if i == leader {
                &leader_phases
            } else {
                &follower_phases
            };
            assert_eq!(phases, want, "{rules:?}, node {i} (leader {leader})");
        }
    }
}

#[test]
fn phases_down_the_fallback_ladder_with_nothing_received() {
    use Phase::*;
    // A node that leads none of attempts 0-4 and hears nothing: each
    // attempt's timers fire in turn (leader timeout first under the seed
    // flow); a phase that does not change emits nothing.
    let tiers6 = [&TIERS[..], &[Tier::Free, Tier::Free]].concat();
    for rules in [Rules::Reference, Rules::Seed] {
        let mut net = Net::new(&tiers6, rules).unwrap();
        let mut outs = Vec::new();
        let mut x = None;
        for i in 0..6 {
            let o = net.start(i, true);
            if (0..5).all(|a| net.leader(i, a) != Some(i)) {
                x = Some(i);
                outs = o;
                break;
            }
        }
        let x = x.expect("a node leading no attempt");
        for attempt in 0..5 {
            for t in [
                Timer::Leader { height: 1, attempt },
                Timer::VotingWindow { height: 1, attempt },
                Timer::Attempt { height: 1, attempt },
            ] {
                if timers(&outs).contains(&t) {
                    let more = net.fire(x, t);
                    outs.extend(more);
                }
            }
        }
        let decision = net.nodes[x].state().last_decision();
        if rules == Rules::Seed {
            // Attempts 0-2 wait in ProposalDistribution; at attempt 3 the
            // node takes the emergency block alone (S7.3, flaw 4).
            assert_eq!(
                transitions(&outs),
                [
                    (Waiting, LeaderElection),
                    (LeaderElection, ProposalDistribution),
                    (ProposalDistribution, EmergencyFallback),
                    (EmergencyFallback, Finalization),
                    (Finalization, Complete),
                ]
            );
            assert!(decision.is_some_and(|d| d.unilateral && d.attempt == 3));
        } else {
            // Attempts 0-3 wait in ProposalDistribution; in each emergency
            // attempt (4, 5) the node approves the emergency block and waits
            // for quorums it never gets (R7.3).
            assert_eq!(
                transitions(&outs),
                [
                    (Waiting, LeaderElection),
                    (LeaderElection, ProposalDistribution),
                    (ProposalDistribution, EmergencyFallback),
                    (EmergencyFallback, VotingWindow),
                    (VotingWindow, EmergencyFallback),
                    (EmergencyFallback, VotingWindow),
                ]
            );
            assert_eq!(decision, None);
        }
    }
}
