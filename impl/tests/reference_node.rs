//! The reference rules on the node: the two-step flow, locking, the emergency
//! block with quorums, and a typed rejection (leaving the state untouched)
//! for every kind of bad input.

use std::sync::Arc;
use time_consensus::block::BlockError;
use time_consensus::crypto::Keypair;
use time_consensus::event::{Event, Evidence, Rejection};
use time_consensus::fallback::BlockKind;
use time_consensus::kit::*;
use time_consensus::message::{CertificateError, CertifiedBlock, Message, Proposal};
use time_consensus::node::{Input, Output, Timer};
use time_consensus::primitives::{Hash32, NodeId};
use time_consensus::vote::{Certificate, SignedVote, Step, Vote};
use time_consensus::{Amendment, Rules, SignatureScheme, Tier};

use time_consensus::kit::scenarios::{EQUAL4 as EQUAL, TIERS4 as TIERS};

fn started(tiers: &[Tier], rules: Rules) -> (Net, Vec<(usize, Vec<time_consensus::Output>)>) {
    let mut net = Net::new(tiers, rules).unwrap();
    let starts = (0..tiers.len()).map(|i| (i, net.start(i, true))).collect();
    (net, starts)
}

fn attempt0_proposal(starts: &[(usize, Vec<time_consensus::Output>)]) -> (usize, Message) {
    starts
        .iter()
        .find_map(|(i, o)| proposal_of(o).map(|p| (*i, Message::Proposal(p))))
        .unwrap()
}

#[test]
fn honest_nodes_finalize_the_leaders_block_in_attempt_zero_with_proofs() {
    let s = scenarios::normal_height(Rules::Reference).unwrap();
    for i in 0..4 {
        let d = s.net.nodes[i].state().last_decision().expect("decided");
        assert_eq!(
            (d.hash, d.attempt, d.kind, d.unilateral),
            (s.block, 0, BlockKind::Normal, false)
        );
        let outs = s.net.outputs(i);
        assert!(events(&outs).contains(&Event::Locked {
            attempt: 0,
            block_hash: s.block
        }));
        // Each finalizing node broadcasts its commit certificate.
        assert!(broadcasts(&outs)
            .iter()
            .any(|m| matches!(m, Message::Certificate(c) if c.certificate.step == Step::Commit)));
    }
}

#[test]
fn one_approving_vote_does_not_finalize_and_declared_weight_is_ignored() {
    // Seed flaw 1's inputs: the node's own vote alone.
    let s = scenarios::single_vote(Rules::Reference).unwrap();
    assert_eq!(finalized(&s.net.outputs(s.node)), None);
    assert_eq!(s.net.nodes[s.node].state().round().unwrap().attempt(), 1);
    // Seed flaw 2's inputs: a vote declaring a huge weight counts its
    // registry weight, and votes against are not votes.
    let s = scenarios::declared_weight(Rules::Reference, 1_000_000_000).unwrap();
    let (net, x) = (&s.net, s.node);
    let weights = net.nodes[x]
        .state()
        .round()
        .unwrap()
        .height_ctx()
        .weights()
        .clone();
    let received: Vec<u64> = events(&net.outputs(x))
        .iter()
        .filter_map(|e| match e {
            Event::VoteReceived { weight, .. } => Some(*weight),
            _ => None,
        })
        .collect();
    let lightest = (0..4).rev().find(|&i| i != x).unwrap();
    assert!(received.contains(&weights.weight(lightest)), "{received:?}");
    assert!(!received.contains(&1_000_000_000));
    assert!(!has_event(&net.outputs(x), |e| matches!(
        e,
        Event::Locked { .. }
    )));
    assert_eq!(finalized(&net.outputs(x)), None);
    assert_eq!(net.nodes[x].state().round().unwrap().attempt(), 1);
}

/// Checks that `m` is refused with a rejection `is` accepts, changing nothing.
macro_rules! refused {
    ($net:expr, $x:expr, $m:expr, $is:expr) => {{
        let m = $m;
        refused_fn(&mut $net, $x, m, $is)
    }};
}

fn refused_fn(net: &mut Net, x: usize, m: Message, is: impl Fn(&Rejection) -> bool) {
    let before = net.nodes[x].state().clone();
    let outs = net.deliver(x, m);
    let r = rejections(&outs);
    assert_eq!(r.len(), 1, "{outs:?}");
    assert!(is(&r[0]), "{:?}", r[0]);
    assert_eq!(
        *net.nodes[x].state(),
        before,
        "a refused input changed the state"
    );
    assert!(broadcasts(&outs).is_empty() && timers(&outs).is_empty());
}

#[test]
fn every_bad_input_is_refused_with_its_reason_and_changes_nothing() {
    let (mut net, starts) = started(&TIERS, Rules::Reference);
    let (leader, Message::Proposal(p)) = attempt0_proposal(&starts) else {
        unreachable!()
    };
    let x = (leader + 1) % 4;
    let y = (leader + 2) % 4;
    net.deliver(x, Message::Proposal(p.clone()));
    let h = p.proposal.block.hash();
    let good: Message = net.vote(y, 0, Step::Approve, h, true, 1);
    net.deliver(x, good.clone());

    // Wrong height.
    let mut v = net.vote(y, 0, Step::Approve, h, true, 1);
    if let Message::Vote(sv) = &mut v {
        sv.vote.height = 2;
    }
    refused!(net, x, v, |r| matches!(
        r,
        Rejection::WrongHeight {
            expected: 1,
            got: 2
        }
    ));
    // An attempt too far ahead.
    let far = net.nodes[x].context().config().max_future_attempts + 1;
    refused!(net, x, net.vote(y, far, Step::Approve, h, true, 1), |r| {
        matches!(r, Rejection::WrongAttempt { current: 0, .. })
    });
    // A vote from a stranger.
    let stranger = Keypair::from_label(SignatureScheme::Ed25519, "stranger");
    let vote = Vote {
        height: 1,
        attempt: 0,
        step: Step::Approve,
        voter: NodeId::new("stranger").unwrap(),
        block_hash: h,
        approve: true,
        weight: 1,
    };
    let sv = vote.sign(&stranger);
    refused!(net, x, Message::Vote(sv), |r| matches!(
        r,
        Rejection::UnknownSigner { .. }
    ));
    // A forged signature: a member's vote signed by someone else.
    let mut forged = net.vote((leader + 3) % 4, 0, Step::Approve, h, true, 1);
    if let Message::Vote(sv) = &mut forged {
        sv.resign(&stranger);
    }
    refused!(net, x, forged, |r| matches!(
        r,
        Rejection::BadSignature { .. }
    ));
    // The same vote again.
    refused!(net, x, good.clone(), |r| matches!(
        r,
        Rejection::Duplicate { .. }
    ));
    // A second vote for another block: equivocation, with both votes as evidence.
    let other = Hash32([7; 32]);
    let second: Message = net.vote(y, 0, Step::Approve, other, true, 1);
    refused!(net, x, second.clone(), |r| match r {
        Rejection::Equivocation(Evidence::DoubleVote { first, second: s }) => {
            Message::Vote((**first).clone()) == good && Message::Vote((**s).clone()) == second
        }
        _ => false,
    });
    // A vote against.
    refused!(
        net,
        x,
        net.vote(y, 0, Step::Commit, h, false, 1),
        |r| matches!(r, Rejection::NotAVote)
    );
    // A proposal from someone who is not the elected leader.
    let mut fake = p.proposal.clone();
    fake.proposer = net.ids[y].clone();
    refused!(net, x, net.sign_proposal(y, fake), |r| matches!(
        r,
        Rejection::NotLeader { attempt: 0, .. }
    ));
    // The leader equivocating with a second block.
    let mut b2 = (*p.proposal.block).clone();
    b2.header.timestamp += 1;
    let mut alt = p.proposal.clone();
    alt.block = Arc::new(b2);
    refused!(net, x, net.sign_proposal(leader, alt), |r| {
        matches!(r, Rejection::Equivocation(Evidence::DoubleProposal { .. }))
    });
}

#[test]
fn invalid_blocks_and_justifications_are_refused() {
    let (mut net, starts) = started(&TIERS, Rules::Reference);
    let (leader, Message::Proposal(p)) = attempt0_proposal(&starts) else {
        unreachable!()
    };
    let x = (leader + 1) % 4;
    let with_block = |f: &dyn Fn(&mut time_consensus::block::Block)| {
        let mut b = (*p.proposal.block).clone();
        f(&mut b);
        Proposal {
            block: Arc::new(b),
            ..p.proposal.clone()
        }
    };
    let wrong_prev = with_block(&|b| b.header.previous_hash = Hash32([1; 32]));
    refused!(net, x, net.sign_proposal(leader, wrong_prev), |r| {
        matches!(
            r,
            Rejection::InvalidBlock(BlockError::WrongPreviousHash { .. })
        )
    });
    let wrong_root = with_block(&|b| b.header.merkle_root = Hash32([2; 32]));
    refused!(net, x, net.sign_proposal(leader, wrong_root), |r| {
        matches!(
            r,
            Rejection::InvalidBlock(BlockError::WrongMerkleRoot { .. })
        )
    });
    let reward_only = with_block(&|b| {
        b.transactions.truncate(1);
        b.header.kind = BlockKind::RewardOnly;
        b.header.merkle_root = b.compute_merkle_root().unwrap();
    });
    refused!(net, x, net.sign_proposal(leader, reward_only), |r| {
        matches!(
            r,
            Rejection::WrongBlockKind {
                expected: BlockKind::Normal,
                ..
            }
        )
    });
    let unjustified = Proposal {
        valid_attempt: Some(0),
        ..p.proposal.clone()
    };
    refused!(net, x, net.sign_proposal(leader, unjustified), |r| {
        matches!(r, Rejection::BadJustification { attempt: 0 })
    });
    // A certificate one vote short of the quorum (8 + 4 of 15 < 10? no: 12 >= 10;
    // use the two light members: 2 + 1 = 3 < 10).
    let h = p.proposal.block.hash();
    let votes = [2usize, 3]
        .iter()
        .map(|&i| net.vote(i, 0, Step::Approve, h, true, 1))
        .collect();
    let cert = Certificate {
        height: 1,
        attempt: 0,
        step: Step::Approve,
        block_hash: h,
        votes,
    };
    let cb = Message::Certificate(CertifiedBlock {
        block: p.proposal.block.clone(),
        certificate: cert.into(),
    });
    refused!(net, x, cb, |r| {
        matches!(
            r,
            Rejection::InvalidCertificate(CertificateError::BelowQuorum { .. })
        )
    });
    // Nothing above was accepted, and the real proposal still is.
    let outs = net.deliver(x, Message::Proposal(p.clone()));
    assert!(rejections(&outs).is_empty());
    assert!(events(&outs).iter().any(|e| matches!(
        e,
        Event::VoteSent {
            attempt: 0,
            step: Step::Approve,
            ..
        }
    )));
}

#[test]
fn a_locked_node_refuses_a_fresh_block_but_follows_a_later_justification() {
    // Equal weights: quorum is 3 of 4.
    let l = scenarios::locking().unwrap();
    let (b, c) = (l.block, l.fresh);
    let ev = events(&l.scenario.net.outputs(l.scenario.node));
    let at = |e: &Event| ev.iter().position(|x| x == e);
    // It sees an approve quorum for B and locks; attempt 1's fresh block C
    // is not approved; attempt 2's re-proposal of B, justified, is.
    let locked = at(&Event::Locked {
        attempt: 0,
        block_hash: b,
    });
    let refused = at(&Event::NotApproved {
        attempt: 1,
        block_hash: c,
        locked: (0, b),
    });
    let followed = at(&Event::VoteSent {
        attempt: 2,
        step: Step::Approve,
        block_hash: b,
        approve: true,
    });
    assert!(
        locked.is_some() && locked < refused && refused < followed,
        "{ev:#?}"
    );
}

#[test]
fn with_every_leader_silent_the_emergency_block_needs_and_gets_both_quorums() {
    let s = scenarios::emergency_with_quorums().unwrap();
    for i in 0..4 {
        // Start, then the timeouts of attempts 0 to 3: the emergency attempt
        // begins, and nothing is decided without votes.
        let upto: Vec<Output> = s.net.log[i][..5]
            .iter()
            .flat_map(|h| h.outputs.clone())
            .collect();
        assert!(
            events(&s.net.log[i][4].outputs).contains(&Event::EmergencyBlock {
                attempt: 4,
                unilateral: false
            })
        );
        assert_eq!(finalized(&upto), None, "no decision without votes");
    }
    let e = s.net.nodes[0].state().last_decision().unwrap();
    assert_eq!(
        (e.kind, e.attempt, e.unilateral),
        (BlockKind::Emergency, 4, false)
    );
    assert!(s
        .net
        .nodes
        .iter()
        .all(|n| n.state().last_decision() == Some(e)));
}

#[test]
fn without_amendment_a4_the_emergency_block_is_taken_unilaterally() {
    let s = scenarios::emergency_without_a4().unwrap();
    assert!(events(s.net.last(s.node)).contains(&Event::EmergencyBlock {
        attempt: 4,
        unilateral: true
    }));
    assert!(
        s.net.nodes[s.node]
            .state()
            .last_decision()
            .unwrap()
            .unilateral
    );
}

#[test]
fn a_finality_proof_finalizes_a_node_that_saw_no_votes() {
    let s = scenarios::finality_proof_alone().unwrap();
    // Its start and the proof: nothing else reached it.
    assert_eq!(s.net.log[s.node].len(), 2);
    assert!(finalized(s.net.last(s.node)).is_some());
}

#[test]
fn every_node_decides_height_2_on_the_block_it_finalized_at_height_1() {
    let s = scenarios::two_heights().unwrap();
    let h2 = s.net.nodes[s.node].state().last_decision().unwrap();
    for (i, node) in s.net.nodes.iter().enumerate() {
        // What it finalized, height by height.
        let finalized: Vec<(u64, Hash32)> = events(&s.net.outputs(i))
            .into_iter()
            .filter_map(|e| match e {
                Event::BlockFinalized {
                    block_height, hash, ..
                } => Some((block_height, hash)),
                _ => None,
            })
            .collect();
        assert_eq!(finalized.len(), 2, "mn{i:03}: {finalized:?}");
        assert_eq!(finalized[1], (2, h2.hash));
        let block = &node.state().finality_proof().unwrap().block;
        assert_eq!(block.header.previous_hash, finalized[0].1);
    }
}

#[test]
fn a_member_registered_at_height_2_joins_and_votes_there() {
    let j = scenarios::join_at_height_2().unwrap();
    let tips: Vec<_> = j.net.nodes.iter().map(|n| n.state().tip()).collect();
    assert!(
        tips.iter().all(|t| t.height == 2 && *t == tips[0]),
        "{tips:?}"
    );
    let block = &j.net.nodes[0].state().finality_proof().unwrap().block;
    assert_eq!(block.header.previous_hash, j.proof.block.hash());
    // The joiner signs at height 2, and the height's proofs count it.
    let joiner = &j.net.ids[j.node];
    let proof = j.net.nodes[0].state().finality_proof().unwrap();
    assert!(proof
        .certificate
        .votes
        .iter()
        .any(|v| v.vote.voter == *joiner));
    assert!(j.previous.index_of(joiner).is_none());
}

#[test]
fn each_flow_ignores_the_timers_of_the_other() {
    // A reference node holding an approve quorum must not run the seed tally
    // on a stray voting-window timer (it would finalize without commits).
    let (mut net, starts) = started(&EQUAL, Rules::Reference);
    let (leader, Message::Proposal(p)) = attempt0_proposal(&starts) else {
        unreachable!()
    };
    let x = (leader + 1) % 4;
    net.deliver(x, Message::Proposal(p.clone()));
    let h = p.proposal.block.hash();
    let others: Vec<usize> = (0..4).filter(|&i| i != x).take(2).collect();
    for &i in &others {
        net.deliver(x, net.vote(i, 0, Step::Approve, h, true, 1));
    }
    let before = net.nodes[x].state().clone();
    for t in [
        Timer::VotingWindow {
            height: 1,
            attempt: 0,
        },
        Timer::Leader {
            height: 1,
            attempt: 0,
        },
    ] {
        let outs = net.fire(x, t);
        assert!(outs.is_empty(), "{t:?} -> {outs:?}");
    }
    assert_eq!(*net.nodes[x].state(), before);
    // And a seed node ignores the reference attempt timer.
    let mut seed = Net::new(&EQUAL, Rules::Seed).unwrap();
    seed.start(0, true);
    let before = seed.nodes[0].state().clone();
    assert!(seed
        .fire(
            0,
            Timer::Attempt {
                height: 1,
                attempt: 0
            }
        )
        .is_empty());
    assert_eq!(*seed.nodes[0].state(), before);
}

#[test]
fn a_finalized_node_answers_a_laggard_with_its_finality_proof() {
    // R7.6: x finalized; y, cut off, still votes in the height.
    let (mut net, starts) = started(&TIERS, Rules::Reference);
    let y = 3;
    let mut rest = net.clone();
    rest.pump(starts.clone(), |_, to, _| to != y);
    let x = 0;
    let proof = rest.nodes[x]
        .state()
        .finality_proof()
        .cloned()
        .expect("a proof");
    let Message::Proposal(sp) = attempt0_proposal(&starts).1 else {
        unreachable!()
    };
    let h = sp.proposal.block.hash();
    let outs = rest.deliver(x, Message::Vote(signed(&net, y, 1, Step::Approve, h)));
    assert_eq!(
        outs,
        vec![time_consensus::Output::Send {
            to: net.ids[y].clone(),
            message: Message::Certificate(proof.clone()),
        }]
    );
    // A forged or stranger's message gets no answer, nor does a certificate.
    let mut forged = signed(&net, y, 1, Step::Approve, h);
    forged.vote.attempt = 2;
    let outs = rest.deliver(x, Message::Vote(forged));
    assert!(matches!(
        rejections(&outs)[..],
        [Rejection::WrongHeight { .. }]
    ));
    let outs = rest.deliver(x, Message::Certificate(proof.clone()));
    assert!(matches!(
        rejections(&outs)[..],
        [Rejection::WrongHeight { .. }]
    ));
    // The laggard finalizes from it.
    let outs = net.deliver(y, Message::Certificate(proof));
    assert_eq!(finalized(&outs), Some(h));
}

fn attempt_of(net: &Net, i: usize) -> u32 {
    net.nodes[i].state().round().unwrap().attempt()
}

#[test]
fn a_node_joins_the_latest_attempt_more_than_a_third_of_the_weight_is_in() {
    // R7.7: T = 15, q = 10, so more than 5 must be ahead.
    let s = scenarios::join_later_attempt().unwrap();
    let (mut net, x) = (s.net, s.node); // Free, in attempt 0
    let b = Hash32([7; 32]);
    // Silver (4) in attempt 2: not enough; the vote is kept for later (R4.4).
    let silver = &net.log[x][1].outputs;
    assert!(rejections(silver).is_empty(), "{silver:?}");
    assert!(!has_event(silver, |e| matches!(
        e,
        Event::ConsensusFailed { .. }
    )));
    // Bronze (2) in attempt 3: 6 of 15 in attempts 2 or later; the latest
    // attempt they prove an honest node reached is 2 (Bronze alone, in 3,
    // could be Byzantine).
    assert_eq!(attempt_of(&net, x), 2);
    let ev = events(net.last(x));
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::ConsensusFailed { attempt: 0, .. })));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::FallbackInitiated {
            attempt: 2,
            reason: time_consensus::fallback::FallbackReason::LaterAttempt,
            ..
        }
    )));
    // Gold (8) in attempt 3: joins 3.
    net.deliver(x, net.vote(0, 3, Step::Approve, b, true, 8));
    assert_eq!(attempt_of(&net, x), 3);
    // A repeat adds no weight: Silver's vote twice is still 4.
    let mut again = started(&TIERS, Rules::Reference).0;
    for _ in 0..2 {
        again.deliver(x, again.vote(1, 2, Step::Approve, b, true, 4));
    }
    assert_eq!(attempt_of(&again, x), 0);
    // Without A7 the node stays where its timers put it.
    let (mut net, _) = started(&TIERS, Rules::Reference.without(Amendment::AttemptSync));
    net.deliver(x, net.vote(0, 3, Step::Approve, b, true, 8));
    net.deliver(x, net.vote(1, 3, Step::Approve, b, true, 4));
    assert_eq!(attempt_of(&net, x), 0);
}

#[test]
fn messages_of_the_next_height_that_arrive_before_the_start_are_kept_and_replayed() {
    // R0.7: the others' attempt-0 messages reach mn003 before it starts.
    // Its proposal is refused: a proposal's signature does not cover its
    // block's body, so it is not kept (a relay could fill the slot with a
    // copy that fails); the votes are kept, a repeat refused.
    let l = scenarios::late_start().unwrap();
    let (mut net, x) = (l.scenario.net, l.scenario.node);
    let not_running = |outs: &[Output]| rejections(outs) == [Rejection::NotRunning { height: 1 }];
    let log = &net.log[x];
    let (start, early) = log.split_last().unwrap();
    let (repeat, early) = early.split_last().unwrap();
    let mut votes = 0;
    for h in early {
        match &h.input {
            Input::Message(Message::Proposal(_)) => assert!(not_running(&h.outputs)),
            Input::Message(Message::Vote(_)) => {
                assert!(h.outputs.is_empty(), "{:?}", h.outputs);
                votes += 1;
            }
            other => panic!("an early input of another kind: {other:?}"),
        }
    }
    assert_eq!(votes, 3);
    assert!(matches!(repeat.input, Input::Message(Message::Vote(_))));
    assert!(not_running(&repeat.outputs));
    // At the start the kept votes are counted; the proposal, sent again, is
    // approved.
    assert!(matches!(start.input, Input::Start(_)));
    let kept: Vec<&NodeId> = early
        .iter()
        .filter_map(|h| match &h.input {
            Input::Message(Message::Vote(v)) => Some(&v.vote.voter),
            _ => None,
        })
        .collect();
    assert!(has_event(&start.outputs, |e| matches!(
        e,
        Event::VoteReceived { voter, attempt: 0, .. } if kept.contains(&voter)
    )));
    let Message::Proposal(sp) = &l.proposal else {
        unreachable!()
    };
    let h = sp.proposal.block.hash();
    let outs = net.deliver(x, l.proposal.clone());
    assert!(broadcasts(&outs).iter().any(|m| matches!(
        m,
        Message::Vote(v) if v.vote.block_hash == h && v.vote.voter == net.ids[x]
    )));
    // A forged vote is refused before the start, as after it.
    let mut fresh = Net::new(&TIERS, Rules::Reference).unwrap();
    let mut forged: SignedVote = fresh.vote(1, 0, Step::Approve, h, true, 0);
    forged.vote.block_hash = Hash32([9; 32]);
    assert!(not_running(&fresh.deliver(x, Message::Vote(forged))));
    // The reference rules without A7 refuse the vote.
    let mut net = Net::new(&TIERS, Rules::Reference.without(Amendment::AttemptSync)).unwrap();
    let vote = net.vote(l.leader, 0, Step::Approve, h, true, 0);
    assert!(not_running(&net.deliver(x, vote)));
}

fn signed(net: &Net, i: usize, attempt: u32, step: Step, block: Hash32) -> SignedVote {
    let w = net.registry.member(i).tier.weight();
    net.vote(i, attempt, step, block, true, w)
}

#[path = "reference_node/certificates.rs"]
mod certificates;
