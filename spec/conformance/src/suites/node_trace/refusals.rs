//! Node traces under both rule sets: refused messages, invalid proposals,
//! the height's life cycle and the reward-only attempt.

use super::{emit, fresh, started};
use crate::generate::*;
use std::sync::Arc;
use time_consensus::block::{Block, Transaction};
use time_consensus::crypto::{Keypair, SignatureScheme};
use time_consensus::fallback::BlockKind;
use time_consensus::kit::{heartbeat_of, leader_timeout, timeout, window, Net};
use time_consensus::message::{CertifiedBlock, Message, Proposal, SignedProposal};
use time_consensus::node::Timer;
use time_consensus::primitives::{Hash32, NodeId};
use time_consensus::vote::{SignedVote, Step, Vote};
use time_consensus::Rules;

/// The prefix of the rejection traces: started, the proposal delivered to
/// `x`, and a good vote from `y`.
fn rejection_base(rules: Rules) -> (Net, usize, usize, usize, SignedProposal) {
    let (mut net, leader, p, _) = started(&TIERS4, rules);
    let x = (leader + 1) % 4;
    let y = (leader + 2) % 4;
    net.deliver(x, Message::Proposal(p.clone()));
    let h = p.proposal.block.hash();
    let good = net.vote(y, 0, Step::Approve, h, true, 1);
    net.deliver(x, good);
    (net, leader, x, y, p)
}

pub(super) fn rejections(g: &mut Gen, rules: Rules) {
    let seed = rules.is_seed();
    let one = |g: &mut Gen,
               name: &str,
               desc: &str,
               ids: &[&str],
               f: &dyn Fn(&Net, usize, usize, usize, &SignedProposal) -> Message| {
        let (mut net, leader, x, y, p) = rejection_base(rules);
        let m = f(&net, leader, x, y, &p);
        net.deliver(x, m);
        emit(
            g,
            &net,
            name,
            x,
            &format!("After the proposal and one good vote: {desc}"),
            ids,
        );
    };
    one(
        g,
        "reject_wrong_height",
        "a vote for height 2 is refused (the node decides height 1).",
        &["R0.6"],
        &|net, _, _, y, p| {
            let mut sv =
                net.vote::<SignedVote>(y, 0, Step::Approve, p.proposal.block.hash(), true, 1);
            sv.vote.height = 2;
            sv.resign(&net.keys[y]);
            Message::Vote(sv)
        },
    );
    one(
        g,
        "reject_stranger",
        "a vote signed by mn009, who is not registered, is refused.",
        &["R0.5"],
        &|_, _, _, _, p| {
            let k = Keypair::from_label(SignatureScheme::Ed25519, "mn009");
            let vote = Vote {
                height: 1,
                attempt: 0,
                step: Step::Approve,
                voter: NodeId::new("mn009").expect("id"),
                block_hash: p.proposal.block.hash(),
                approve: true,
                weight: 1,
            };
            Message::Vote(vote.sign(&k))
        },
    );
    one(
        g,
        "reject_bad_signature",
        "a member's vote signed with another key is refused.",
        &["R0.4", "R0.5"],
        &|net, leader, _, _, p| {
            let z = (leader + 3) % 4;
            let mut sv =
                net.vote::<SignedVote>(z, 0, Step::Approve, p.proposal.block.hash(), true, 1);
            sv.resign(&Keypair::from_label(SignatureScheme::Ed25519, "mn009"));
            Message::Vote(sv)
        },
    );
    one(
        g,
        "reject_duplicate_vote",
        "the same vote again is refused as a duplicate.",
        if seed { &["S6.1"] } else { &["R5.6"] },
        &|net, _, _, y, p| net.vote(y, 0, Step::Approve, p.proposal.block.hash(), true, 1),
    );
    one(
        g,
        "reject_second_vote_other_block",
        if seed {
            "a second vote of the same voter for another block: the seed rules keep one vote per voter id for the whole height and refuse it as a duplicate (no evidence kept)."
        } else {
            "a second approve vote of the same voter for another block is equivocation: refused, with both signed votes as evidence."
        },
        if seed { &["S6.1"] } else { &["R5.6"] },
        &|net, _, _, y, _| net.vote(y, 0, Step::Approve, Hash32([7; 32]), true, 1),
    );
    one(
        g,
        "reject_not_leader",
        "a proposal for attempt 0 signed by a member who is not its elected leader is refused.",
        &["R4.3"],
        &|net, _, _, y, p| {
            let mut fake = p.proposal.clone();
            fake.proposer = net.ids[y].clone();
            net.sign_proposal(y, fake)
        },
    );
    one(g, "reject_double_proposal", "the leader's second, different, valid block for the same attempt is equivocation: refused, the first stands, both signatures kept as evidence.", &["R4.5"], &|net, leader, x, _, p| {
        let ctx = net.block_context(x).expect("a running height");
        let b = ctx.build(BlockKind::Normal, &net.ids[leader], &[Transaction::transfer(b"other")]);
        let mut alt = p.proposal.clone();
        alt.block = Arc::new(b);
        net.sign_proposal(leader, alt)
    });
    one(
        g,
        "reject_duplicate_proposal",
        "the same proposal again is refused as a duplicate.",
        &["R4.5"],
        &|_, _, _, _, p| Message::Proposal(p.clone()),
    );
    one(
        g,
        "reject_heartbeat_not_collecting",
        "a heartbeat after phase 1 (here skipped) is refused.",
        &["R1.2"],
        &|_, _, _, y, _| {
            let mut fresh = fresh(&TIERS4, rules);
            Message::Heartbeat(heartbeat_of(&fresh.start(y, false)).expect("a heartbeat at start"))
        },
    );
    if seed {
        one(
            g,
            "reject_commit_vote",
            "a commit vote is not part of the seed rules.",
            &["S5.1"],
            &|net, _, _, y, p| net.vote(y, 0, Step::Commit, p.proposal.block.hash(), true, 1),
        );
        one(
            g,
            "reject_certificate",
            "a certificate message is not part of the seed rules.",
            &["S5.1"],
            &|net, _, _, _, p| {
                Message::Certificate(CertifiedBlock {
                    block: p.proposal.block.clone(),
                    certificate: net
                        .certificate(&[0, 1, 2], 0, Step::Approve, p.proposal.block.hash())
                        .into(),
                })
            },
        );
        one(g, "reject_proposal_other_attempt", "a proposal for attempt 1 while the node is in attempt 0 is refused (S4.1: the current attempt only).", &["S4.1"], &|net, leader, _, _, p| {
            let mut q = p.proposal.clone();
            q.attempt = 1;
            net.sign_proposal(leader, q)
        });
        one(g, "vote_for_any_attempt_is_pooled", "a vote of another member for attempt 5 is accepted and pooled with the height's votes: the seed rules keep one vote per voter for the whole height, whatever its attempt.", &["S6.1"], &|net, leader, _, _, p| {
            net.vote((leader + 3) % 4, 5, Step::Approve, p.proposal.block.hash(), true, 1)
        });
        one(g, "vote_against_is_counted", "another member's vote against (approve = false) is accepted: it adds to the total weight only.", &["S5.1", "S6.2"], &|net, leader, _, _, p| {
            net.vote((leader + 3) % 4, 0, Step::Approve, p.proposal.block.hash(), false, 1)
        });
    } else {
        one(g, "reject_attempt_too_far", "a vote for attempt 17 is refused: the node buffers at most max_future_attempts (16) ahead of its attempt.", &["R4.4"], &|net, _, _, y, p| {
            net.vote(y, 17, Step::Approve, p.proposal.block.hash(), true, 1)
        });
        one(
            g,
            "reject_vote_against",
            "a vote with approve = false is not a vote under the reference rules.",
            &["R5.1"],
            &|net, leader, _, _, p| {
                net.vote(
                    (leader + 3) % 4,
                    0,
                    Step::Commit,
                    p.proposal.block.hash(),
                    false,
                    1,
                )
            },
        );
        let below: &[usize] = &[2, 3];
        one(
            g,
            "reject_certificate_below_quorum",
            "an approve certificate of bronze and free alone (3 of 15 tier units) proves nothing.",
            &["R5.5", "R6.4"],
            &|net, _, _, _, p| {
                Message::Certificate(CertifiedBlock {
                    block: p.proposal.block.clone(),
                    certificate: net
                        .certificate(below, 0, Step::Approve, p.proposal.block.hash())
                        .into(),
                })
            },
        );
        one(
            g,
            "reject_certificate_bad_signature",
            "an approve certificate with a forged vote inside is refused whole.",
            &["R5.5", "R0.4"],
            &|net, _, _, _, p| {
                let mut c = net.certificate(&[0, 1, 2], 0, Step::Approve, p.proposal.block.hash());
                c.votes[1].resign(&Keypair::from_label(SignatureScheme::Ed25519, "mn009"));
                Message::Certificate(CertifiedBlock {
                    block: p.proposal.block.clone(),
                    certificate: c.into(),
                })
            },
        );
        one(g, "reject_certificate_repeated_voter", "an approve certificate listing gold twice (and nobody else) is refused: a voter's weight counts once.", &["R5.5"], &|net, _, _, _, p| {
            let mut c = net.certificate(&[0], 0, Step::Approve, p.proposal.block.hash());
            c.votes.push(c.votes[0].clone());
            Message::Certificate(CertifiedBlock { block: p.proposal.block.clone(), certificate: c.into() })
        });
        one(
            g,
            "reject_certificate_wrong_block",
            "a valid approve certificate attached to another block is refused.",
            &["R5.5", "R6.4"],
            &|net, leader, x, _, p| {
                let ctx = net.block_context(x).expect("a running height");
                let other = ctx.build(
                    BlockKind::Normal,
                    &net.ids[leader],
                    &[Transaction::transfer(b"other")],
                );
                Message::Certificate(CertifiedBlock {
                    block: Arc::new(other),
                    certificate: net
                        .certificate(&[0, 1, 2], 0, Step::Approve, p.proposal.block.hash())
                        .into(),
                })
            },
        );
        one(g, "reject_justification_wrong_step", "a re-proposal for attempt 1 whose justification is a commit certificate, not an approve certificate, is refused.", &["R4.1", "R5.5"], &|net, _, x, _, p| reproposal(net, x, p, 0, Step::Commit));
        one(g, "reject_justification_later_attempt", "a re-proposal for attempt 1 claiming a justification from attempt 1 itself (not an earlier attempt) is refused.", &["R4.1"], &|net, _, x, _, p| reproposal(net, x, p, 1, Step::Approve));
    }
}

/// Bad blocks delivered as the first proposal of the attempt.
pub(super) fn invalid_proposals(g: &mut Gen, rules: Rules) {
    let seed = rules.is_seed();
    let reaction = if seed {
        "refused as invalid, and (S5.1) the node votes against it and opens its voting window"
    } else {
        "refused, and nothing changes"
    };
    // Each alters the leader's proposal, its block edited in place.
    type Alter = fn(&mut Proposal);
    fn remerkle(b: &mut Block) {
        b.header.merkle_root = b.compute_merkle_root().expect("small transactions");
    }
    let cases: Vec<(&str, &str, &[&str], Alter)> = vec![
        (
            "reject_wrong_previous_hash",
            "a block that does not extend the tip",
            &["R3.6"],
            |p| Arc::make_mut(&mut p.block).header.previous_hash = Hash32([1; 32]),
        ),
        (
            "reject_wrong_merkle_root",
            "a block whose header's merkle root is not its transactions'",
            &["R3.4", "R3.6"],
            |p| Arc::make_mut(&mut p.block).header.merkle_root = Hash32([2; 32]),
        ),
        (
            "reject_wrong_block_kind",
            "a reward-only block in attempt 0, which needs a normal block",
            &["R4.1", "R3.6"],
            |p| {
                let b = Arc::make_mut(&mut p.block);
                b.transactions.truncate(1);
                b.header.kind = BlockKind::RewardOnly;
                remerkle(b);
            },
        ),
        (
            "reject_bad_justification",
            "a proposal claiming valid_attempt 0 in attempt 0 without a certificate",
            &["R4.1"],
            |p| p.valid_attempt = Some(0),
        ),
        (
            "reject_wrong_coinbase",
            "a block whose coinbase pays the treasury one unit more",
            &["R3.2", "R3.6"],
            |p| {
                let b = Arc::make_mut(&mut p.block);
                b.transactions[0].outputs[0].amount += 1;
                remerkle(b);
            },
        ),
    ];
    for (name, what, ids, f) in cases {
        let (mut net, leader, p, _) = started(&TIERS4, rules);
        let x = (leader + 1) % 4;
        let mut bad = p.proposal;
        f(&mut bad);
        let m = net.sign_proposal(leader, bad);
        net.deliver(x, m);
        let mut ids = ids.to_vec();
        if seed {
            ids.push("S5.1");
        }
        emit(
            g,
            &net,
            name,
            x,
            &format!("The elected leader proposes {what}: {reaction}."),
            &ids,
        );
    }
}

pub(super) fn lifecycle(g: &mut Gen, rules: Rules) {
    // A message before the height starts, then a second start.
    let (mut net, leader, p, _) = started(&TIERS4, rules);
    let mut fresh = fresh(&TIERS4, rules);
    let x = (leader + 1) % 4;
    // Under A7 an authenticated proposal before the start would be kept
    // (R0.7, its own vector); one whose signature does not cover it is not.
    let mut early = p.clone();
    if rules.has(time_consensus::Amendment::AttemptSync) {
        early.proposal.valid_attempt = Some(0);
    }
    fresh.deliver(x, Message::Proposal(early));
    fresh.start(x, true);
    fresh.start(x, true);
    fresh.deliver(x, Message::Proposal(p));
    let (text, ids): (&str, &[&str]) = if rules.has(time_consensus::Amendment::AttemptSync) {
        ("A proposal before the node starts the height, whose signature does not cover its valid_attempt, is not kept (R0.7) and is refused (not running); after the start, a second start is refused (already running); the leader's proposal is accepted.", &["R0.6", "R0.7"])
    } else {
        ("A proposal before the node starts the height is refused (not running); after the start, a second start is refused (already running); the proposal delivered again is accepted.", &["R0.6"])
    };
    emit(g, &fresh, "not_running_then_already_running", x, text, ids);
    // Stale timers are ignored.
    let t = net.attempt_timer(0);
    net.fire(x, t);
    let stale = net.attempt_timer(0);
    net.fire(x, stale);
    net.fire(x, Timer::Heartbeat { height: 1 });
    let ids: &[&str] = if rules.is_seed() {
        &["S7.1"]
    } else {
        &["R7.2"]
    };
    emit(
        g,
        &net,
        "stale_timers_ignored",
        x,
        "The attempt-0 timeout moves the node to attempt 1; the same timer fired again, and a heartbeat timer after phase 1, are stale: no output.",
        ids,
    );
}

pub(super) fn reward_only_attempt(g: &mut Gen, rules: Rules) {
    let seed = rules.is_seed();
    let mut net = fresh(&TIERS4, rules);
    let mempools: Vec<Vec<Transaction>> = (0..4)
        .map(|i| vec![Transaction::transfer(&[b'm', i as u8])])
        .collect();
    for (i, pool) in mempools.iter().enumerate() {
        net.start_with(i, true, pool.clone());
    }
    let ro = if seed { 2 } else { 3 };
    let leaders: Vec<Option<usize>> = (0..=ro).map(|a| net.leader(0, a)).collect();
    let l = leaders[ro as usize].expect("the reward-only attempt has a leader");
    // Seed leaders who proposed ignore their leader timer, so the seed trace
    // follows a node that leads none of these attempts.
    let x = (0..4)
        .find(|i| !leaders.contains(&Some(*i)) || (!seed && *i != l))
        .expect("a follower");
    if seed {
        // The follower's leader timers fire in attempts 0 and 1; the
        // original leader's reward-only proposal of attempt 2 arrives.
        for a in 0..ro {
            net.fire(x, leader_timeout(a));
        }
        let ctx = net.block_context(x).expect("a running height");
        let b = ctx.build(BlockKind::RewardOnly, &net.ids[l], &mempools[l]);
        let m = net.propose(l, ro, Arc::new(b), None, None);
        net.deliver(x, m);
        net.fire(x, window(ro));
        emit(
            g,
            &net,
            "reward_only_attempt",
            x,
            "Leader timeouts in attempts 0 and 1 (no proposal delivered); attempt 2 is the reward-only attempt, led by the original leader again: the node votes for the coinbase-only block and, alone in its window, finalizes it.",
            &["S7.1", "S2.6", "S4.1", "S5.1", "S6.3", "R3.1"],
        );
        return;
    }
    // Every node times out the attempts before the reward-only one; the
    // proposals they broadcast on the way are not delivered.
    let mut last = Vec::new();
    for i in 0..4 {
        for a in 0..ro {
            let outs = net.fire(i, timeout(a));
            if a + 1 == ro {
                last.push((i, outs));
            }
        }
    }
    net.pump(last, |_, _, _| true);
    emit(
            g,
            &net,
            "reward_only_attempt",
            x,
            "Attempts 0 to 2 time out at every node (no proposal delivered); attempt 3 is the reward-only attempt, led by the schedule's next leader: its coinbase-only block gets both quorums and is finalized.",
            &["R7.1", "R7.2", "R2.7", "R4.1", "R5.7", "R6.2", "R7.4"],
        );
}

/// Attempt 1's leader (as node `x` sees it) re-proposing `p`'s block with
/// valid attempt `from`, justified by a `step` certificate of `from` signed
/// by mn000-mn002.
fn reproposal(net: &Net, x: usize, p: &SignedProposal, from: u32, step: Step) -> Message {
    let l1 = net.leader(x, 1).expect("a leader of attempt 1");
    let block = p.proposal.block.clone();
    let justification = net.certificate(&[0, 1, 2], from, step, block.hash());
    net.propose(l1, 1, block, Some(from), Some(justification))
}
