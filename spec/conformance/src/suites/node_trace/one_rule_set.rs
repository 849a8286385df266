//! Node traces of one rule set: the seed's own flaws, the emergency
//! attempt, and the reference rules' locking, buffering and rotation.

use super::{emit, emit_scenario, fresh, setup, started, JoinSetup};
use crate::generate::*;
use crate::suites::Member;
use std::sync::Arc;
use time_consensus::block::Transaction;
use time_consensus::event::Event;
use time_consensus::fallback::BlockKind;
use time_consensus::kit::scenarios::{self, Locks, Scenario};
use time_consensus::kit::{has_event, timeout, window, KitError};
use time_consensus::message::{Message, Proposal};
use time_consensus::primitives::Hash32;
use time_consensus::registry::Tier;
use time_consensus::vote::Step;
use time_consensus::{Amendment, Rules};

pub(super) fn seed_only(g: &mut Gen) {
    // Flaw 4: the emergency block without a vote.
    emit_scenario(
        g,
        scenarios::emergency_without_vote(),
        "flaw4_emergency_without_vote",
        "Seed flaw 4: leader timeouts in attempts 0, 1 (rotation) and 2 (reward-only); at attempt 3 the node accepts the emergency block on its own, with no vote at all.",
        &["S7.1", "S7.2", "S7.3", "S2.6"],
    );
    // An invalid proposal is voted against; the window fails; next attempt.
    let (mut net, leader, p, _) = started(&TIERS4, Rules::Seed);
    let x = (leader + 1) % 4;
    let mut b = (*p.proposal.block).clone();
    b.header.previous_hash = Hash32([1; 32]);
    let bad = Proposal {
        block: Arc::new(b),
        ..p.proposal.clone()
    };
    let m = net.sign_proposal(leader, bad);
    net.deliver(x, m);
    net.fire(x, window(0));
    emit(
        g,
        &net,
        "invalid_proposal_fails_attempt",
        x,
        "The leader's block does not extend the tip: the node votes against it; when the window closes the approval (0) misses the threshold and the node moves to attempt 1 (rotation 1).",
        &["S5.1", "S6.2", "S6.3", "S7.1", "S2.6"],
    );
    // Votes are pooled over the height.
    let (mut net, leader, p, _) = started(&TIERS4, Rules::Seed);
    let x = (0..4)
        .rev()
        .find(|&i| i != leader && Some(i) != net.leader(0, 1))
        .expect("a node leading neither attempt 0 nor 1");
    net.deliver(x, Message::Proposal(p.clone()));
    let h = p.proposal.block.hash();
    let heavy = (0..4).find(|&i| i != x).expect("another node");
    let w = time_consensus::weight::seed_member_weight(&net.registry.members()[heavy], net.date);
    let against = net.vote(heavy, 0, Step::Approve, h, false, w);
    net.deliver(x, against);
    let outs = net.fire(x, window(0));
    let failed = has_event(&outs, |e| matches!(e, Event::ConsensusFailed { .. }));
    let l1 = net.leader(x, 1).expect("rotation 1");
    let ctx = net.block_context(x).expect("a running height");
    let b1 = ctx.build(BlockKind::Normal, &net.ids[l1], &[]);
    let m = net.propose(l1, 1, Arc::new(b1), None, None);
    net.deliver(x, m);
    net.fire(x, window(1));
    if !failed {
        g.error("seed pooled-votes scenario: attempt 0 unexpectedly reached consensus".into());
    }
    emit(
        g,
        &net,
        "votes_pooled_across_attempts",
        x,
        "Attempt 0 fails (a heavier member votes against). In attempt 1 the node's own new vote is refused as a duplicate of its attempt-0 vote, and the attempt-1 tally counts the attempt-0 votes, for another block: votes are pooled per voter over the whole height.",
        &["S6.1", "S6.2", "S6.3", "S7.1"],
    );
}

pub(super) fn emergency(g: &mut Gen) {
    // Reference: the emergency block needs and gets both quorums.
    emit_scenario(
        g,
        scenarios::emergency_with_quorums(),
        "emergency_with_quorums",
        "Every leader is silent: attempts 0 to 3 time out everywhere. Attempt 4 is a leaderless emergency attempt: each node approves the canonical emergency block, and it is finalized only on an approve quorum then a commit quorum.",
        &["R7.1", "R7.2", "R7.3", "R6.1", "R6.2", "R7.4", "R7.5", "R3.6"],
    );
    // Reference without A4: the seed's unilateral emergency block again.
    match scenarios::emergency_without_a4() {
        Ok(s) => g.trace(
            "ref_without_a4_emergency_unilateral",
            s.net.rules,
            "Node mn000 of mn000..mn003 (gold, silver, bronze, free), reference rules without amendment A4: at the emergency attempt the block is taken on the node's own say-so, as seed flaw 4.",
            &["S7.3", "R7.1", "A4"],
            setup(&s.net, s.node),
            s.net.inputs(s.node),
        ),
        Err(e) => g.error(format!("ref_without_a4_emergency_unilateral: {e}")),
    }
}

pub(super) fn reference_only(g: &mut Gen) {
    let r = Rules::Reference;
    let equal = [Tier::Silver; 4];
    // The kit's scenarios.
    type Kit<'a> = (Result<Scenario, KitError>, &'a str, &'a str, &'a [&'a str]);
    let kit: [Kit; 4] = [
        // Locking.
        (scenarios::locking().map(|l| l.scenario), "locking", "Equal weights (quorum 3 of 4). The node sees an approve quorum for B in attempt 0: it locks on B, relays the certificate and commits. Attempt 1's leader proposes a fresh block C: the locked node does not approve it. Attempt 2's leader re-proposes B justified by the attempt-0 certificate: the node approves it.", &["R5.7", "R6.1", "R6.2", "R6.3", "R6.4", "R4.1", "R5.5"]),
        (scenarios::finality_proof_alone(), "finality_proof_alone", "The node receives no proposal and no vote; a finality proof (a commit certificate with its block) from another node is enough: its votes are counted, the commit quorum is reached, the node finalizes and broadcasts its own proof.", &["R7.5", "R5.5", "R7.4", "R6.4"]),
        // R0.7: a node that starts after the others have sent their attempt-0
        // messages keeps them (one per signer, kind, attempt and step; a repeat is
        // refused) and handles them at its start.
        (scenarios::late_start().map(|l| l.scenario), "a7_late_start_keeps_early_messages", "Before the node starts height 1 it receives the others' attempt-0 proposal and approve votes. It refuses the proposal as not_running (a proposal's signature does not cover its block's body, so it is not kept) and keeps the votes without output (R0.7); a repeat is refused. At its start it counts the kept votes in key order (signer, kind, attempt, step): the first two weigh a quorum for a block it does not know, so the third is not counted (R5.8) and nothing more happens until the block comes (R6.4).", &["R0.7", "R0.6", "R5.4", "R5.8", "R6.4"]),
        // R7.7: a node in attempt 0 joins attempt 2 once the senders of what it
        // holds of attempts 2 and later weigh more than `T - q`.
        (scenarios::join_later_attempt(), "a7_join_later_attempt", "In attempt 0 the node counts Silver's approve vote of attempt 2 (4 of 15, not more than T - q = 5: it stays) and Bronze's commit vote of attempt 3: their senders weigh 6 in attempts 2 or later, so an honest node is in attempt 2 or later; the node emits consensus_failed for attempt 0 and enters attempt 2 with reason LaterAttempt (not 3: Bronze alone could be Byzantine).", &["R7.7", "R4.4", "R7.1", "R7.2"]),
    ];
    for (s, name, description, ids) in kit {
        emit_scenario(g, s, name, description, ids);
    }
    // R5.8: votes after a quorum are not counted.
    {
        let (mut net, leader, p, _) = started(&equal, r);
        let x = (leader + 1) % 4;
        net.deliver(x, Message::Proposal(p.clone()));
        let h = p.proposal.block.hash();
        net.deliver_votes(x, (0..4).filter(|&i| i != x), 0, Step::Approve, h);
        emit(
            g,
            &net,
            "vote_after_quorum_ignored",
            x,
            "Equal weights: after the proposal's own approve vote, the leader's and one more reach the quorum (3 of 4): the node locks and commits; the fourth approve vote is valid but not counted.",
            &["R5.8", "R6.1", "R6.2"],
        );
    }
    future_attempt(g);
    reproposal(g);
    emergency_valid_block(g);
    late_block(g);
    rotation(g);
    held_certificate(g);
}

fn future_attempt(g: &mut Gen) {
    let (mut net, leader, _, _) = started(&TIERS4, Rules::Reference);
    let l1 = net.leader(0, 1).expect("leader 1");
    let x = (0..4)
        .find(|&i| i != leader && i != l1)
        .expect("a third node");
    let ctx = net.block_context(x).expect("a running height");
    let b = Arc::new(ctx.build(
        BlockKind::Normal,
        &net.ids[l1],
        &[Transaction::transfer(b"future")],
    ));
    let m = net.propose(l1, 1, b.clone(), None, None);
    net.deliver(x, m);
    net.deliver_votes(x, (0..4).filter(|&i| i != x), 1, Step::Approve, b.hash());
    net.fire(x, timeout(0));
    emit(
        g,
        &net,
        "future_attempt_buffered",
        x,
        "While in attempt 0 the node receives attempt 1's proposal and approve votes (within max_future_attempts): they are kept, and once they weigh a quorum for the known block the node raises its valid block and relays the certificate at once (later votes of that step and attempt are not counted). When attempt 0 times out the node enters attempt 1, approves the buffered proposal (its vote comes after the quorum and is not counted), locks and commits.",
        &["R4.4", "R5.7", "R6.1", "R6.2", "R7.2"],
    );
}

fn reproposal(g: &mut Gen) {
    let (mut net, l0, p0, _) = started(&TIERS4, Rules::Reference);
    let x = net.leader(0, 1).expect("leader 1");
    if x == l0 {
        g.error("reproposal scenario: leaders 0 and 1 coincide".into());
        return;
    }
    net.deliver(x, Message::Proposal(p0.clone()));
    let b = p0.proposal.block.hash();
    // Gold and silver approve: a quorum (with or without the node's own vote).
    let voters = (0..4).filter(|&i| i != x && i != l0).chain([l0]);
    net.deliver_votes(x, voters, 0, Step::Approve, b);
    net.fire(x, timeout(0));
    emit(
        g,
        &net,
        "leader_reproposes_valid_block",
        x,
        "The node holds an approve certificate for the attempt-0 block B but no commit quorum forms. It leads attempt 1: instead of a fresh block it re-proposes B with valid_attempt 0 and the certificate as justification.",
        &["R6.3", "R6.5", "R4.1", "R4.2"],
    );
}

fn emergency_valid_block(g: &mut Gen) {
    let (mut net, l0, p0, _) = started(&TIERS4, Rules::Reference);
    let x = (0..4)
        .find(|&i| i != l0 && (1..4).all(|a| net.leader(0, a) != Some(i)))
        .or_else(|| (0..4).find(|&i| i != l0))
        .expect("a follower");
    net.deliver(x, Message::Proposal(p0.clone()));
    let b = p0.proposal.block.hash();
    net.deliver_votes(x, (0..4).filter(|&i| i != x), 0, Step::Approve, b);
    for a in 0..4 {
        net.fire(x, timeout(a));
    }
    emit(
        g,
        &net,
        "emergency_approves_valid_block",
        x,
        "The node holds an approve certificate for B from attempt 0 and no commit quorum forms; attempts 0 to 3 time out (when the node leads one of them it re-proposes B). In the leaderless emergency attempt it approves its valid block B, not the emergency block.",
        &["R7.3", "R6.3", "R5.7", "R7.2"],
    );
}

fn late_block(g: &mut Gen) {
    let (mut net, leader, p, _) = started(&TIERS4, Rules::Reference);
    let x = (leader + 1) % 4;
    let b = p.proposal.block.hash();
    net.deliver_votes(x, (0..4).filter(|&i| i != x), 0, Step::Approve, b);
    net.deliver(x, Message::Proposal(p));
    emit(
        g,
        &net,
        "votes_before_block",
        x,
        "The other members' approve votes arrive before the proposal and reach a quorum (a vote after the quorum is not counted), but a quorum locks only a known block. When the block arrives the quorum already counted makes the node relay the certificate, lock and commit; its own approve vote comes after the quorum and is not counted.",
        &["R6.1", "R6.2", "R5.8", "R4.4"],
    );
}

fn rotation(g: &mut Gen) {
    let mut net = fresh(&TIERS4, Rules::Reference);
    for i in 0..4 {
        net.start(i, true);
    }
    let l0 = net.leader(0, 0).expect("leader 0");
    let mut after = Vec::new();
    for i in 0..4 {
        let outs = net.fire(i, timeout(0));
        after.push((i, outs));
    }
    net.pump(after, |_, _, _| true);
    let x = (0..4)
        .find(|&i| i != l0 && Some(i) != net.leader(0, 1))
        .unwrap_or(l0);
    emit(
        g,
        &net,
        "rotation_finalizes",
        x,
        "The attempt-0 leader's proposal never arrives; at the attempt timeout every node enters attempt 1, whose leader (the schedule excludes the attempt-0 leader) proposes; the block is finalized in attempt 1.",
        &["R7.1", "R7.2", "R2.7", "R4.3", "R6.2", "R7.4"],
    );
}

/// R6.2: an approve certificate of the node's current attempt that its own
/// tally cannot confirm still locks it, when the node enters that attempt
/// holding it and when a justification brings it.
fn held_certificate(g: &mut Gen) {
    // Ahead of the attempt: Gold and Silver weigh 12 of 15, a quorum, but
    // the node counted Silver's vote for another block of attempt 1 first.
    // Without A7 the node enters attempt 1 when its timer fires; under A7
    // the certificate's signers weigh more than `T - q` and it joins at once.
    let without = scenarios::held_certificate(Rules::Reference.without(Amendment::AttemptSync))
        .and_then(|l| {
            let log = &l.scenario.net.log[l.scenario.node];
            let early = &log[log.len() - 2].outputs;
            let entered = &log[log.len() - 1].outputs;
            let ok =
                !has_event(early, |e| matches!(e, Event::Locked { .. })) && l.locked_in(entered);
            ok.then_some(l.scenario).ok_or(KitError::Unexpected {
                expected: "the node to lock on entering attempt 1, not before",
            })
        });
    emit_scenario(
        g,
        without,
        "held_certificate_locks_on_entry",
        "Without A7. In attempt 0 the node counts Silver's approve vote of attempt 1 for a block it does not know, then receives an approve certificate of attempt 1 (Gold and Silver, 12 of 15) with its block: the certificate verifies, but Silver's vote in it is a second vote and is not counted, so the node's own tally for the block stays at 8. Nothing locks while the node is in attempt 0. When attempt 0 times out and the node enters attempt 1, the certificate it holds proves the quorum by itself: the node locks on the block and commits it.",
        &["R6.2", "R6.1", "R5.4", "R4.4", "R7.1"],
    );
    emit_scenario(
        g,
        locked_at_last(scenarios::held_certificate(Rules::Reference)),
        "a7_held_certificate_joins_and_locks",
        "In attempt 0 the node counts Silver's approve vote of attempt 1 for a block it does not know, then receives an approve certificate of attempt 1 (Gold and Silver, 12 of 15) with its block: the certificate verifies, but Silver's vote in it is a second vote and is not counted, so the node's own tally for the block stays at 8. The certificate's signers weigh more than T - q = 5 in attempt 1, so the node joins attempt 1 at once, and there the certificate it holds proves the quorum by itself: the node locks on the block and commits it.",
        &["R7.7", "R6.2", "R6.1", "R5.4", "R4.4", "R7.1"],
    );
    // In a justification: attempt 1's leader re-proposes attempt 0's block
    // with its certificate; the node, still in attempt 0 with no vote
    // counted, locks on attempt 0's block and commits it there.
    emit_scenario(
        g,
        locked_at_last(scenarios::justification_locks_current_attempt()),
        "justification_locks_current_attempt",
        "In attempt 0, before attempt 0's proposal, the node receives attempt 1's proposal re-proposing attempt 0's block with valid_attempt 0 and an approve certificate of attempt 0 (Gold and Silver) as justification. The proposal is kept for attempt 1; the justification proves attempt 0's quorum for the node's current attempt: the node takes the block as valid, locks on it and commits it in attempt 0.",
        &["R6.2", "R6.5", "R6.3", "R4.4"],
    );
}

/// The scenario, if its last input locked the node as it should.
fn locked_at_last(l: Result<Locks, KitError>) -> Result<Scenario, KitError> {
    l.and_then(|l| {
        let ok = l.locked_in(l.scenario.net.last(l.scenario.node));
        ok.then_some(l.scenario).ok_or(KitError::Unexpected {
            expected: "the node to lock at the scenario's last input",
        })
    })
}

/// Two heights: a node deciding height 2 on the block it finalized, and a
/// member registered at height 2 joining from height 1's proof (R7.8).
pub(super) fn two_heights(g: &mut Gen) {
    emit_scenario(
        g,
        scenarios::two_heights(),
        "two_heights",
        "A normal height, then the node starts height 2 on the block it finalized (R0.6: the height above its tip; leaders, blocks and the emergency block of height 2 are of that tip) and decides it too; height 1's timers, still set, are never fired here.",
        &["R0.6", "R2.7", "R3.1", "R7.4", "R7.5"],
    );
    let j = match scenarios::join_at_height_2() {
        Ok(j) => j,
        Err(e) => return g.error(format!("join_at_height_2: {e}")),
    };
    let mut s = setup(&j.net, j.node);
    s.join = Some(JoinSetup {
        masternodes: j.previous.members().iter().map(Member::from).collect(),
        proof: (*j.proof).clone(),
        date: j.net.date,
    });
    g.trace(
        "ref_join_at_height_2",
        Rules::Reference,
        "Node mn004 (Gold), registered at height 2 only, of mn000..mn004 (Gold, Silver, Bronze, Free, Gold): it joins from height 1's finality proof, checked against height 1's registry mn000..mn003 (`setup.join`, R7.8), then starts height 2 and decides it with the others; its votes count there.",
        &["R7.8", "R7.5", "R0.6", "R5.5", "R7.4"],
        s,
        j.net.inputs(j.node),
    );
}
