//! The node_trace suite: scenarios driven on the kit's network of real
//! nodes (`time_consensus::kit`); one node's inputs are recorded and become a
//! trace (its outputs are then obtained by replaying them on a fresh node).
//! The scenarios the node's own tests also assert on are the kit's
//! (`kit::scenarios`), written there once; the rest are written here.
//!
//! The fixtures are fixed (four masternodes `mn000..mn003`, default
//! configuration, local date 2025-11-01), so every `expect` below states a
//! fact about them, checked each time the vectors are generated.

use crate::format::*;
use crate::generate::*;
use std::sync::Arc;
use time_consensus::block::{Block, Transaction};
use time_consensus::crypto::{Keypair, SignatureScheme};
use time_consensus::encoding::sha256;
use time_consensus::event::Event;
use time_consensus::fallback::BlockKind;
use time_consensus::heartbeat::SignedHeartbeat;
use time_consensus::kit::scenarios::{self, Locks, Scenario};
use time_consensus::kit::{
    has_event, heartbeat_of, leader_timeout, timeout, window, KitError, Net,
};
use time_consensus::message::{CertifiedBlock, Message, Proposal, SignedProposal};
use time_consensus::node::{Output, Timer};
use time_consensus::primitives::{Hash32, NodeId};
use time_consensus::registry::Tier;
use time_consensus::sim::genesis_tip;
use time_consensus::vote::{Step, Vote};
use time_consensus::{Amendment, Rules};

/// How node `i` of `net` starts: its key, the registry, the configuration.
fn setup(net: &Net, i: usize) -> TraceSetup {
    let label = format!("mn{i:03}");
    TraceSetup {
        scheme: SignatureScheme::Ed25519,
        secret_seed: sha256(label.as_bytes()),
        key_label: Some(label),
        masternodes: net.registry.members().iter().map(Member::from).collect(),
        config: net.config.clone(),
        tip: genesis_tip(),
    }
}

/// Records node `i`'s inputs as the trace `<prefix>_<name>`.
fn emit(g: &mut Gen, net: &Net, name: &str, i: usize, description: &str, ids: &[&str]) {
    let tiers: Vec<&str> = net
        .registry
        .members()
        .iter()
        .map(|m| tier_name(m.tier))
        .collect();
    g.trace(
        &format!("{}_{name}", prefix(net.rules)),
        net.rules,
        &format!(
            "Node mn{i:03} of mn000..mn003 ({}). {description}",
            tiers.join(", ")
        ),
        ids,
        setup(net, i),
        net.inputs(i),
    );
}

/// [`emit`] of a kit scenario's node, or the generator error saying which
/// fact of the scenario failed.
fn emit_scenario(
    g: &mut Gen,
    s: Result<Scenario, KitError>,
    name: &str,
    description: &str,
    ids: &[&str],
) {
    match s {
        Ok(s) => emit(g, &s.net, name, s.node, description, ids),
        Err(e) => g.error(format!("{name}: {e}")),
    }
}

fn prefix(rules: Rules) -> &'static str {
    if rules.is_seed() {
        "seed"
    } else {
        "ref"
    }
}

/// A fresh fixture network.
fn fresh(tiers: &[Tier], rules: Rules) -> Net {
    Net::new(tiers, rules).expect("the fixture network")
}

/// Starts every node presynchronized; returns the network, the attempt-0
/// leader, its proposal and each node's start outputs.
fn started(
    tiers: &[Tier],
    rules: Rules,
) -> (Net, usize, SignedProposal, Vec<(usize, Vec<Output>)>) {
    let s = time_consensus::kit::started(tiers, rules).expect("the attempt-0 leader proposes");
    (s.net, s.leader, s.proposal, s.starts)
}

/// Every scenario under both rule sets (and the rule-set-specific ones).
pub fn node_traces(g: &mut Gen) {
    for rules in [Rules::Seed, Rules::Reference] {
        normal_height(g, rules);
        phase1(g, rules);
        single_vote(g, rules);
        declared_weight(g, rules);
        rejections(g, rules);
        invalid_proposals(g, rules);
        lifecycle(g, rules);
        reward_only_attempt(g, rules);
    }
    seed_only(g);
    emergency(g);
    reference_only(g);
}

fn normal_height(g: &mut Gen, rules: Rules) {
    let s = match scenarios::normal_height(rules) {
        Ok(s) => s,
        Err(e) => return g.error(format!("normal_height: {e}")),
    };
    let (ids_f, ids_l, how): (&[&str], &[&str], &str) = if rules.is_seed() {
        (
            &[
                "S2.2", "S2.3", "S4.1", "S5.1", "S6.1", "S6.2", "S6.3", "R3.6", "R0.5",
            ],
            &[
                "S2.2", "S2.3", "R3.1", "R3.2", "R4.2", "S5.1", "S6.2", "S6.3",
            ],
            "every node votes once, and each finalizes the block when its voting window closes",
        )
    } else {
        (
            &["R2.7", "R4.3", "R4.4", "R5.7", "R6.1", "R6.2", "R6.4", "R5.8", "R7.4", "R7.5", "R0.5", "R3.6"],
            &["R2.7", "R3.1", "R3.2", "R4.1", "R4.2", "R5.7", "R6.1", "R6.2", "R6.4", "R7.4", "R7.5"],
            "approve votes, an approve quorum (lock, relayed certificate), commit votes and a commit quorum (finality proof)",
        )
    };
    emit(
        g,
        &s.net,
        "normal_height_follower",
        s.follower,
        &format!("A normal height with every message delivered, seen by a follower: {how}."),
        ids_f,
    );
    emit(
        g,
        &s.net,
        "normal_height_leader",
        s.leader,
        &format!("A normal height with every message delivered, seen by the attempt-0 leader, who builds, signs and broadcasts the block: {how}."),
        ids_l,
    );
}

fn phase1(g: &mut Gen, rules: Rules) {
    let seed = rules.is_seed();
    // Synchronization on heartbeats.
    let mut net = fresh(&TIERS4, rules);
    let beats: Vec<SignedHeartbeat> = (0..4)
        .map(|i| heartbeat_of(&net.start(i, false)).expect("a heartbeat at start"))
        .collect();
    let x = 3;
    for &i in &[2usize, 1, 0] {
        net.deliver(x, Message::Heartbeat(beats[i].clone()));
    }
    emit(
        g,
        &net,
        "phase1_synchronizes",
        x,
        if seed {
            "Phase 1: the node broadcasts its heartbeat and sets the heartbeat timer; with heartbeats from 3 of 4 (its own counted) all agreeing it is synchronized (by node count), cancels the timer and starts attempt 0; a later heartbeat is refused (not collecting)."
        } else {
            "Phase 1: the node broadcasts its heartbeat and sets the heartbeat timer; it is synchronized once members holding its own (height, tip) weigh a quorum of the registry (bronze + silver + its own free weight is not enough, gold completes it); then it cancels the timer and starts attempt 0."
        },
        if seed {
            &["S1.2", "S1.3", "R1.1", "R0.5"]
        } else {
            &["R1.1", "R1.2", "R1.3", "R5.3", "R0.5"]
        },
    );
    // Timeout without synchronization.
    let mut net = fresh(&TIERS4, rules);
    for i in 0..4 {
        net.start(i, false);
    }
    net.fire(x, Timer::Heartbeat { height: 1 });
    net.deliver(x, Message::Heartbeat(beats[0].clone()));
    emit(
        g,
        &net,
        "phase1_timeout",
        x,
        if seed {
            "Phase 1 times out with no heartbeat but its own: the deployed orchestrator gives the height up; a heartbeat arriving afterwards finds no height running."
        } else {
            "Phase 1 times out with no heartbeat but its own: the node takes part anyway and starts attempt 0; a heartbeat arriving afterwards is refused (not collecting)."
        },
        if seed {
            &["S1.4", "R1.1"]
        } else {
            &["R1.4", "R1.1"]
        },
    );
    // Repeated and replaced heartbeats.
    let mut net = fresh(&TIERS4, rules);
    for i in 0..4 {
        net.start(i, false);
    }
    let y = 2;
    net.deliver(x, Message::Heartbeat(beats[y].clone()));
    net.deliver(x, Message::Heartbeat(beats[y].clone()));
    let mut other = beats[y].clone();
    other.heartbeat.chain_tip_hash = Hash32([0x11; 32]);
    other.resign(&net.keys[y]);
    net.deliver(x, Message::Heartbeat(other));
    emit(
        g,
        &net,
        "heartbeat_repeated_and_changed",
        x,
        if seed {
            "mn002's heartbeat twice (the second is a duplicate), then a heartbeat of mn002 with another tip: it replaces the first (the deployed map insert)."
        } else {
            "mn002's heartbeat twice, then a heartbeat of mn002 with another tip: the first heartbeat of a member is the one that counts, later ones are refused."
        },
        if seed {
            &["S1.1", "R0.5"]
        } else {
            &["R1.2", "R0.5"]
        },
    );
    // The majority holds another tip.
    let mut net = fresh(&TIERS4, rules);
    for i in 0..4 {
        net.start(i, false);
    }
    for i in [0usize, 1, 2] {
        let mut h = beats[i].clone();
        h.heartbeat.chain_tip_hash = Hash32([0x22; 32]);
        h.resign(&net.keys[i]);
        net.deliver(x, Message::Heartbeat(h));
    }
    net.fire(x, Timer::Heartbeat { height: 1 });
    emit(
        g,
        &net,
        "phase1_majority_on_other_tip",
        x,
        if seed {
            "The three other members announce another tip at the same height: the most common state is held by 3 of 4 responses, so the seed rules call the node synchronized although nobody shares its tip."
        } else {
            "The three other members announce another tip at the same height: only the node's own weight holds its tip, so it is not synchronized; at the heartbeat timeout it takes part anyway."
        },
        if seed {
            &["S1.2", "S1.3"]
        } else {
            &["R1.3", "R1.4"]
        },
    );
    // Heartbeats from strangers and forgers.
    let mut net = fresh(&TIERS4, rules);
    net.start(x, false);
    let stranger_key = Keypair::from_label(SignatureScheme::Ed25519, "mn009");
    let mut s = beats[0].clone();
    s.heartbeat.node_id = NodeId::new("mn009").expect("id");
    s.resign(&stranger_key);
    net.deliver(x, Message::Heartbeat(s));
    let mut f = beats[0].clone();
    f.resign(&stranger_key);
    net.deliver(x, Message::Heartbeat(f));
    let mut h2 = beats[0].clone();
    h2.heartbeat.block_height = 5;
    h2.resign(&net.keys[0]);
    net.deliver(x, Message::Heartbeat(h2));
    emit(
        g,
        &net,
        "heartbeat_refused",
        x,
        if seed {
            "In phase 1: a heartbeat from mn009 (not registered) and one of mn000 signed with another key are refused; one of mn000 announcing tip height 5 is recorded all the same (the deployed collection is keyed by sender alone, so any tip counts as a response)."
        } else {
            "In phase 1: a heartbeat from mn009 (not registered), one of mn000 signed with another key, and one announcing tip height 5 (it starts height 6, not the height being decided): each refused, nothing recorded."
        },
        if seed {
            &["R0.5", "R0.4", "S1.1"]
        } else {
            &["R0.5", "R0.4", "R0.6"]
        },
    );
}

fn single_vote(g: &mut Gen, rules: Rules) {
    let s = scenarios::single_vote(rules);
    if rules.is_seed() {
        emit_scenario(
            g,
            s,
            "flaw1_single_vote_finalizes",
            "Seed flaw 1: the node receives the proposal, votes, and when its voting window closes with no vote but its own, that one vote is 'consensus' (total taken over votes received): it finalizes.",
            &["S5.1", "S6.2", "S6.3"],
        );
    } else {
        emit_scenario(
            g,
            s,
            "single_vote_does_not_finalize",
            "The inputs of seed flaw 1 under the reference rules: the node approves, but its own vote is far from a quorum of the registry; at the attempt timeout it records the failure and moves to attempt 1.",
            &["R5.3", "R5.7", "R7.2"],
        );
    }
}

fn declared_weight(g: &mut Gen, rules: Rules) {
    let s = scenarios::declared_weight(rules, 1000);
    if rules.is_seed() {
        emit_scenario(
            g,
            s,
            "flaw2_declared_weight_counts",
            "Seed flaw 2: the two heaviest members vote against with their true weights, the lightest approves declaring weight 1000; the declared weight is counted and the block is finalized when the window closes.",
            &["S6.1", "S6.2", "S6.3"],
        );
    } else {
        emit_scenario(
            g,
            s,
            "declared_weight_ignored",
            "The inputs of seed flaw 2 under the reference rules: votes against are not votes, and the vote declaring weight 1000 counts its registry weight; no quorum, the attempt times out.",
            &["R5.1", "R5.4", "R5.3", "R7.2"],
        );
    }
}

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

fn rejections(g: &mut Gen, rules: Rules) {
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
            let mut sv = net.signed_vote(y, 0, Step::Approve, p.proposal.block.hash(), true, 1);
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
            let mut sv = net.signed_vote(z, 0, Step::Approve, p.proposal.block.hash(), true, 1);
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
                    certificate: net.certificate(
                        &[0, 1, 2],
                        0,
                        Step::Approve,
                        p.proposal.block.hash(),
                    ),
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
                    certificate: net.certificate(below, 0, Step::Approve, p.proposal.block.hash()),
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
                    certificate: c,
                })
            },
        );
        one(g, "reject_certificate_repeated_voter", "an approve certificate listing gold twice (and nobody else) is refused: a voter's weight counts once.", &["R5.5"], &|net, _, _, _, p| {
            let mut c = net.certificate(&[0], 0, Step::Approve, p.proposal.block.hash());
            c.votes.push(c.votes[0].clone());
            Message::Certificate(CertifiedBlock { block: p.proposal.block.clone(), certificate: c })
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
                    certificate: net.certificate(
                        &[0, 1, 2],
                        0,
                        Step::Approve,
                        p.proposal.block.hash(),
                    ),
                })
            },
        );
        one(g, "reject_justification_wrong_step", "a re-proposal for attempt 1 whose justification is a commit certificate, not an approve certificate, is refused.", &["R4.1", "R5.5"], &|net, _, x, _, p| {
            let l1 = net.leader(x, 1).expect("a leader of attempt 1");
            let q = Proposal {
                height: 1,
                attempt: 1,
                proposer: net.ids[l1].clone(),
                block: p.proposal.block.clone(),
                valid_attempt: Some(0),
                justification: Some(net.certificate(&[0, 1, 2], 0, Step::Commit, p.proposal.block.hash())),
            };
            net.sign_proposal(l1, q)
        });
        one(g, "reject_justification_later_attempt", "a re-proposal for attempt 1 claiming a justification from attempt 1 itself (not an earlier attempt) is refused.", &["R4.1"], &|net, _, x, _, p| {
            let l1 = net.leader(x, 1).expect("a leader of attempt 1");
            let q = Proposal {
                height: 1,
                attempt: 1,
                proposer: net.ids[l1].clone(),
                block: p.proposal.block.clone(),
                valid_attempt: Some(1),
                justification: Some(net.certificate(&[0, 1, 2], 1, Step::Approve, p.proposal.block.hash())),
            };
            net.sign_proposal(l1, q)
        });
    }
}

/// Bad blocks delivered as the first proposal of the attempt.
fn invalid_proposals(g: &mut Gen, rules: Rules) {
    let seed = rules.is_seed();
    let reaction = if seed {
        "refused as invalid, and (S5.1) the node votes against it and opens its voting window"
    } else {
        "refused, and nothing changes"
    };
    type Alter = Box<dyn Fn(&Net, &Proposal) -> Proposal>;
    let cases: Vec<(&str, &str, &[&str], Alter)> = vec![
        (
            "reject_wrong_previous_hash",
            "a block that does not extend the tip",
            &["R3.6"],
            Box::new(|_, p| {
                let mut b = (*p.block).clone();
                b.header.previous_hash = Hash32([1; 32]);
                Proposal {
                    block: Arc::new(b),
                    ..p.clone()
                }
            }),
        ),
        (
            "reject_wrong_merkle_root",
            "a block whose header's merkle root is not its transactions'",
            &["R3.4", "R3.6"],
            Box::new(|_, p| {
                let mut b = (*p.block).clone();
                b.header.merkle_root = Hash32([2; 32]);
                Proposal {
                    block: Arc::new(b),
                    ..p.clone()
                }
            }),
        ),
        (
            "reject_wrong_block_kind",
            "a reward-only block in attempt 0, which needs a normal block",
            &["R4.1", "R3.6"],
            Box::new(|_, p| {
                let mut b: Block = (*p.block).clone();
                b.transactions.truncate(1);
                b.header.kind = BlockKind::RewardOnly;
                b.header.merkle_root = b.compute_merkle_root().expect("small transactions");
                Proposal {
                    block: Arc::new(b),
                    ..p.clone()
                }
            }),
        ),
        (
            "reject_bad_justification",
            "a proposal claiming valid_attempt 0 in attempt 0 without a certificate",
            &["R4.1"],
            Box::new(|_, p| Proposal {
                valid_attempt: Some(0),
                ..p.clone()
            }),
        ),
        (
            "reject_wrong_coinbase",
            "a block whose coinbase pays the treasury one unit more",
            &["R3.2", "R3.6"],
            Box::new(|_, p| {
                let mut b = (*p.block).clone();
                b.transactions[0].outputs[0].amount += 1;
                b.header.merkle_root = b.compute_merkle_root().expect("small transactions");
                Proposal {
                    block: Arc::new(b),
                    ..p.clone()
                }
            }),
        ),
    ];
    for (name, what, ids, f) in cases {
        let (mut net, leader, p, _) = started(&TIERS4, rules);
        let x = (leader + 1) % 4;
        let bad = f(&net, &p.proposal);
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

fn lifecycle(g: &mut Gen, rules: Rules) {
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

fn reward_only_attempt(g: &mut Gen, rules: Rules) {
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
        let p = Proposal {
            height: 1,
            attempt: ro,
            proposer: net.ids[l].clone(),
            block: Arc::new(b),
            valid_attempt: None,
            justification: None,
        };
        let m = net.sign_proposal(l, p);
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

fn seed_only(g: &mut Gen) {
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
    let p1 = Proposal {
        height: 1,
        attempt: 1,
        proposer: net.ids[l1].clone(),
        block: Arc::new(b1),
        valid_attempt: None,
        justification: None,
    };
    let m = net.sign_proposal(l1, p1);
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

fn emergency(g: &mut Gen) {
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

fn reference_only(g: &mut Gen) {
    let r = Rules::Reference;
    let equal = [Tier::Silver; 4];
    // Locking.
    emit_scenario(
        g,
        scenarios::locking().map(|l| l.scenario),
        "locking",
        "Equal weights (quorum 3 of 4). The node sees an approve quorum for B in attempt 0: it locks on B, relays the certificate and commits. Attempt 1's leader proposes a fresh block C: the locked node does not approve it. Attempt 2's leader re-proposes B justified by the attempt-0 certificate: the node approves it.",
        &["R5.7", "R6.1", "R6.2", "R6.3", "R6.4", "R4.1", "R5.5"],
    );
    // R5.8: votes after a quorum are not counted.
    {
        let (mut net, leader, p, _) = started(&equal, r);
        let x = (leader + 1) % 4;
        net.deliver(x, Message::Proposal(p.clone()));
        let h = p.proposal.block.hash();
        for i in (0..4).filter(|&i| i != x) {
            let m = net.vote(i, 0, Step::Approve, h, true, 1);
            net.deliver(x, m);
        }
        emit(
            g,
            &net,
            "vote_after_quorum_ignored",
            x,
            "Equal weights: after the proposal's own approve vote, the leader's and one more reach the quorum (3 of 4): the node locks and commits; the fourth approve vote is valid but not counted.",
            &["R5.8", "R6.1", "R6.2"],
        );
    }
    finality_proof(g);
    future_attempt(g);
    reproposal(g);
    emergency_valid_block(g);
    late_block(g);
    rotation(g);
    late_start(g);
    join_later_attempt(g);
    held_certificate(g);
}

fn finality_proof(g: &mut Gen) {
    emit_scenario(
        g,
        scenarios::finality_proof_alone(),
        "finality_proof_alone",
        "The node receives no proposal and no vote; a finality proof (a commit certificate with its block) from another node is enough: its votes are counted, the commit quorum is reached, the node finalizes and broadcasts its own proof.",
        &["R7.5", "R5.5", "R7.4", "R6.4"],
    );
}

/// R0.7: a node that starts after the others have sent their attempt-0
/// messages keeps them (one per signer, kind, attempt and step; a repeat is
/// refused) and handles them at its start.
fn late_start(g: &mut Gen) {
    emit_scenario(
        g,
        scenarios::late_start().map(|l| l.scenario),
        "a7_late_start_keeps_early_messages",
        "Before the node starts height 1 it receives the others' attempt-0 proposal and approve votes. It refuses the proposal as not_running (a proposal's signature does not cover its block's body, so it is not kept) and keeps the votes without output (R0.7); a repeat is refused. At its start it counts the kept votes in key order (signer, kind, attempt, step): the first two weigh a quorum for a block it does not know, so the third is not counted (R5.8) and nothing more happens until the block comes (R6.4).",
        &["R0.7", "R0.6", "R5.4", "R5.8", "R6.4"],
    );
}

/// R7.7: a node in attempt 0 joins attempt 2 once the senders of what it
/// holds of attempts 2 and later weigh more than `T - q`.
fn join_later_attempt(g: &mut Gen) {
    emit_scenario(
        g,
        scenarios::join_later_attempt(),
        "a7_join_later_attempt",
        "In attempt 0 the node counts Silver's approve vote of attempt 2 (4 of 15, not more than T - q = 5: it stays) and Bronze's commit vote of attempt 3: their senders weigh 6 in attempts 2 or later, so an honest node is in attempt 2 or later; the node emits consensus_failed for attempt 0 and enters attempt 2 with reason LaterAttempt (not 3: Bronze alone could be Byzantine).",
        &["R7.7", "R4.4", "R7.1", "R7.2"],
    );
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
    let p1 = Proposal {
        height: 1,
        attempt: 1,
        proposer: net.ids[l1].clone(),
        block: b.clone(),
        valid_attempt: None,
        justification: None,
    };
    let m = net.sign_proposal(l1, p1);
    net.deliver(x, m);
    for i in (0..4).filter(|&i| i != x) {
        let v = net.vote(i, 1, Step::Approve, b.hash(), true, 1);
        net.deliver(x, v);
    }
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
    for i in [0usize, 1, 2, 3].into_iter().filter(|&i| i != x && i != l0) {
        let v = net.vote(i, 0, Step::Approve, b, true, 1);
        net.deliver(x, v);
    }
    let v = net.vote(l0, 0, Step::Approve, b, true, 1);
    net.deliver(x, v);
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
    for i in (0..4).filter(|&i| i != x) {
        let v = net.vote(i, 0, Step::Approve, b, true, 1);
        net.deliver(x, v);
    }
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
    for i in (0..4).filter(|&i| i != x) {
        let v = net.vote(i, 0, Step::Approve, b, true, 1);
        net.deliver(x, v);
    }
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
