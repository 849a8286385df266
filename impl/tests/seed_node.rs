//! The seed rules on the node itself: the deployed flow, and flaws 1, 2 and 4
//! of SEED-RULES.md reproduced through `Node::handle`.

use time_consensus::event::{Event, Rejection};
use time_consensus::fallback::BlockKind;
use time_consensus::kit::*;
use time_consensus::message::Message;
use time_consensus::node::{Input, Timer};
use time_consensus::vote::Step;
use time_consensus::weight::seed_member_weight;
use time_consensus::{Rules, Tier};

use time_consensus::kit::scenarios::TIERS4 as TIERS;

fn seed_weight(net: &Net, i: usize) -> u64 {
    seed_member_weight(&net.registry.members()[i], net.date)
}

/// Starts every node presynchronized; returns the attempt-0 proposal.
fn start_all(net: &mut Net) -> (usize, Message) {
    let mut proposal = None;
    for i in 0..4 {
        let outs = net.start(i, true);
        if let Some(p) = proposal_of(&outs) {
            proposal = Some((i, Message::Proposal(p)));
        }
    }
    proposal.expect("the attempt-0 leader proposed")
}

#[test]
fn flaw_1_one_approving_vote_finalizes() {
    let s = scenarios::single_vote(Rules::Seed).unwrap();
    let (net, x) = (&s.net, s.node);
    // Start, the proposal (which opens the voting window), the window.
    let [_, proposal, closed] = &net.log[x][..] else {
        panic!("three inputs: {}", net.log[x].len())
    };
    assert!(timers(&proposal.outputs).contains(&window(0)));
    // The window closes with nothing but x's own vote.
    let w = seed_weight(net, x);
    assert!(events(&closed.outputs).contains(&Event::ConsensusReached {
        attempt: 0,
        approval_weight: w,
        total_weight: w,
    }));
    let Input::Message(Message::Proposal(p)) = &proposal.input else {
        panic!("the proposal")
    };
    assert_eq!(finalized(&closed.outputs), Some(p.proposal.block.hash()));
    assert_eq!(net.nodes[x].state().tip().height, 1);
}

#[test]
fn flaw_2_a_self_declared_weight_counts() {
    // The node (Free, or Bronze when Free leads) approves; the two heaviest
    // others vote against with their real weights; the lightest approves
    // declaring `declared`. Each vote counts the weight it declares.
    let run = |declared: fn(&Net, usize) -> u64| {
        let s = scenarios::declared_weight(Rules::Seed, 0).unwrap();
        let (x, net0) = (s.node, s.net);
        let others: Vec<usize> = (0..4).filter(|&i| i != x).collect();
        let lightest = others[2];
        let w = declared(&net0, lightest);
        let s = scenarios::declared_weight(Rules::Seed, w).unwrap();
        let ev = events(&s.net.outputs(x));
        for &i in &others {
            let (approve, weight) = if i == lightest {
                (true, w)
            } else {
                (false, seed_weight(&s.net, i))
            };
            assert!(
                ev.iter().any(
                    |e| matches!(e, Event::VoteReceived { voter, approve: a, weight: got, .. }
                    if *voter == s.net.ids[i] && *a == approve && *got == weight)
                ),
                "mn00{i}'s vote, weight {weight}: {ev:#?}"
            );
        }
        finalized(s.net.last(x))
    };
    assert!(
        run(seed_weight).is_none(),
        "with its true weight the vote cannot carry it"
    );
    assert!(run(|_, _| 1000).is_some(), "declaring 1000 carries it");
}

#[test]
fn flaw_4_the_emergency_block_is_accepted_without_a_vote() {
    let s = scenarios::emergency_without_vote().unwrap();
    let all = s.net.outputs(s.node);
    assert!(events(&all).contains(&Event::EmergencyBlock {
        attempt: 3,
        unilateral: true
    }));
    assert!(!events(&all)
        .iter()
        .any(|e| matches!(e, Event::VoteReceived { .. } | Event::VoteSent { .. })));
    let d = s.net.nodes[s.node].state().last_decision().unwrap();
    assert_eq!(
        (d.kind, d.attempt, d.unilateral),
        (BlockKind::Emergency, 3, true)
    );
}

#[test]
fn seed_ladder_reward_only_attempt_is_led_by_the_original_leader() {
    let net = {
        let mut n = Net::new(&TIERS, Rules::Seed).unwrap();
        start_all(&mut n);
        n
    };
    assert_eq!(net.leader(0, 2), net.leader(0, 0));
    assert_ne!(net.leader(0, 1), net.leader(0, 0));
    assert_eq!(net.leader(0, 3), None);
}

#[test]
fn seed_votes_are_pooled_per_height_so_a_second_attempt_vote_is_a_duplicate() {
    let mut net = Net::new(&TIERS, Rules::Seed).unwrap();
    let (leader, proposal) = start_all(&mut net);
    let x = (leader + 1) % 4;
    net.deliver(x, proposal.clone());
    let Message::Proposal(p) = &proposal else {
        unreachable!()
    };
    let h = p.proposal.block.hash();
    let y = (leader + 2) % 4;
    net.deliver(x, net.vote(y, 0, Step::Approve, h, true, 1));
    let before = net.nodes[x].state().clone();
    let outs = net.deliver(x, net.vote(y, 1, Step::Approve, h, true, 1));
    assert!(matches!(
        rejections(&outs)[..],
        [Rejection::Duplicate { .. }]
    ));
    assert_eq!(*net.nodes[x].state(), before);
    // A commit vote is not part of the seed rules.
    let outs = net.deliver(x, net.vote(y, 0, Step::Commit, h, true, 1));
    assert!(matches!(
        rejections(&outs)[..],
        [Rejection::NotInRules { .. }]
    ));
}

#[test]
fn seed_nodes_synchronize_on_heartbeats_and_give_up_the_height_on_timeout() {
    let mut net = Net::new(&TIERS, Rules::Seed).unwrap();
    let beats: Vec<Message> = (0..4)
        .map(|i| broadcasts(&net.start(i, false))[0].clone())
        .collect();
    // Node 0 hears from 1 and 2: 3 of 4 expected >= ceil(8/3) = 3, all agree.
    net.deliver(0, beats[1].clone());
    let outs = net.deliver(0, beats[2].clone());
    assert!(events(&outs).contains(&Event::Synchronized { heartbeats: 3 }));
    // Node 3 hears nobody before its timer fires: the deployed orchestrator
    // gives up the height.
    let outs = net.fire(3, Timer::Heartbeat { height: 1 });
    assert!(events(&outs).contains(&Event::SyncFailed {
        heartbeats: 1,
        continuing: false
    }));
    assert!(net.nodes[3].state().round().is_none());
    let outs = net.deliver(3, beats[0].clone());
    assert!(matches!(
        rejections(&outs)[..],
        [Rejection::NotRunning { height: 1 }]
    ));
}

#[test]
fn seed_network_with_all_messages_finalizes_one_block() {
    // Every message delivered, then each voting window closes.
    let s = scenarios::normal_height(Rules::Seed).unwrap();
    for i in 0..4 {
        assert_eq!(finalized(s.net.last(i)), Some(s.block));
    }
    let tips: Vec<_> = s.net.nodes.iter().map(|n| n.state().tip()).collect();
    assert!(tips.iter().all(|t| *t == tips[0] && t.height == 1));
}

#[test]
fn seed_phase_1_counts_a_heartbeat_whatever_tip_it_holds() {
    // Six members; node 0 hears two peers on its tip and one announcing tip
    // height 5. The deployed collection is keyed by sender alone (S1.1):
    // 4 responses >= ceil(2*6/3) = 4, and the most common state is held by
    // 3 >= ceil(2*4/3) = 3, so it is synchronized. Under the reference rules
    // (A6) that heartbeat belongs to another height and is refused (R0.6).
    let tiers6 = [&TIERS[..], &[Tier::Free, Tier::Free]].concat();
    for rules in [Rules::Seed, Rules::Reference] {
        let mut net = Net::new(&tiers6, rules).unwrap();
        let beats: Vec<Message> = (0..4)
            .map(|i| broadcasts(&net.start(i, false))[0].clone())
            .collect();
        net.deliver(0, beats[1].clone());
        net.deliver(0, beats[2].clone());
        let Message::Heartbeat(mut ahead) = beats[3].clone() else {
            unreachable!()
        };
        ahead.heartbeat.block_height = 5;
        ahead.resign(&net.keys[3]);
        let outs = net.deliver(0, Message::Heartbeat(ahead));
        if rules == Rules::Seed {
            assert!(rejections(&outs).is_empty(), "{outs:?}");
            assert!(events(&outs).contains(&Event::Synchronized { heartbeats: 4 }));
        } else {
            assert_eq!(
                rejections(&outs),
                [Rejection::WrongHeight {
                    expected: 1,
                    got: 6
                }]
            );
        }
    }
}
