//! Property tests: random and adversarial schedules and messages never make a
//! node panic, and never make two honest reference nodes finalize different
//! blocks at one height (nor one node finalize twice) while the Byzantine
//! weight stays below a third. The same harness, run on the seed rules, finds
//! their split: it can see one.

mod common;
use common::*;
use proptest::prelude::*;
use std::sync::Arc;
use time_consensus::block::{Block, Transaction};
use time_consensus::fallback::BlockKind;
use time_consensus::message::{CertifiedBlock, Message, Proposal};
use time_consensus::node::Timer;
use time_consensus::primitives::Hash32;
use time_consensus::vote::{Certificate, SignedVote, Step};
use time_consensus::{Event, Output, Rules, Tier};

/// What the adversary does next.
#[derive(Clone, Debug)]
enum Action {
    /// Deliver pending message `i % len` to node `to`.
    Deliver(usize, usize),
    /// Lose pending message `i % len`.
    Drop(usize),
    /// Fire one of node `to`'s timers of its current attempt (leader,
    /// voting window, attempt).
    Timeout(usize, u8),
    /// The Byzantine node sends a vote (step, attempt, block) to `to`.
    ByzVote(bool, u32, usize, usize),
    /// The Byzantine node proposes block `b` for `attempt` (if it leads it).
    ByzPropose(u32, usize, usize),
    /// The Byzantine node sends a certificate of whatever votes it holds.
    ByzCert(bool, u32, usize, usize),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (any::<usize>(), 0..3usize).prop_map(|(i, t)| Action::Deliver(i, t)),
        1 => any::<usize>().prop_map(Action::Drop),
        2 => (0..3usize, 0..3u8).prop_map(|(t, k)| Action::Timeout(t, k)),
        2 => (any::<bool>(), 0..6u32, 0..8usize, 0..3usize).prop_map(|(s, a, b, t)| Action::ByzVote(s, a, b, t)),
        1 => (0..6u32, 0..8usize, 0..3usize).prop_map(|(a, b, t)| Action::ByzPropose(a, b, t)),
        1 => (any::<bool>(), 0..6u32, 0..8usize, 0..3usize).prop_map(|(s, a, b, t)| Action::ByzCert(s, a, b, t)),
    ]
}

/// Candidate blocks: every member's normal and reward-only block, and the
/// emergency block.
fn candidates(net: &Net) -> Vec<Arc<Block>> {
    let ctx = net
        .nodes
        .iter()
        .find_map(|n| n.state().round())
        .expect("a node deciding the height")
        .height_ctx()
        .block_context()
        .clone();
    let mut v = vec![ctx.emergency.clone()];
    for id in &net.ids {
        v.push(Arc::new(ctx.build(
            BlockKind::Normal,
            id,
            &[Transaction::transfer(id.as_str().as_bytes())],
        )));
        v.push(Arc::new(ctx.build(BlockKind::RewardOnly, id, &[])));
    }
    v
}

/// What a schedule left: each honest node's decision, and how many
/// `block_finalized` events each emitted.
struct Outcome {
    decided: Vec<Option<Hash32>>,
    finalized_events: Vec<usize>,
}

impl Outcome {
    fn agree(&self) -> bool {
        let hashes: Vec<&Hash32> = self.decided.iter().flatten().collect();
        hashes.windows(2).all(|w| w[0] == w[1])
    }
}

fn run_schedule(tiers: &[Tier], rules: Rules, actions: &[Action]) -> Outcome {
    let byz = tiers.len() - 1;
    let mut net = Net::new(tiers, rules);
    let mut finalized_events = vec![0usize; byz];
    let mut pending: Vec<(usize, Message)> = Vec::new();
    let push = |from: usize, outs: &[Output], pending: &mut Vec<(usize, Message)>| {
        for m in broadcasts(outs) {
            pending.push((from, m));
        }
    };
    for i in 0..byz {
        let outs = net.start(i, true);
        push(i, &outs, &mut pending);
    }
    // The Byzantine node runs too, so its key signs what it wants.
    net.start(byz, true);
    let blocks = candidates(&net);
    let mut byz_votes: Vec<SignedVote> = Vec::new();
    for a in actions {
        let (to, outs) = match a.clone() {
            Action::Deliver(i, to) => {
                if pending.is_empty() {
                    continue;
                }
                let (from, m) = pending[i % pending.len()].clone();
                if from == to {
                    continue;
                }
                (to, net.deliver(to, m))
            }
            Action::Drop(i) => {
                if !pending.is_empty() {
                    let n = pending.len();
                    pending.remove(i % n);
                }
                continue;
            }
            Action::Timeout(to, kind) => {
                let Some(r) = net.nodes[to].state().round() else {
                    continue;
                };
                let (height, attempt) = (1, r.attempt());
                let t = match kind {
                    0 => Timer::Leader { height, attempt },
                    1 => Timer::VotingWindow { height, attempt },
                    _ => Timer::Attempt { height, attempt },
                };
                (to, net.fire(to, t))
            }
            Action::ByzVote(commit, attempt, b, to) => {
                let step = if commit { Step::Commit } else { Step::Approve };
                let m = net.vote(byz, attempt, step, blocks[b % blocks.len()].hash(), true, 1);
                if let Message::Vote(sv) = &m {
                    byz_votes.push(sv.clone());
                }
                (to, net.deliver(to, m))
            }
            Action::ByzPropose(attempt, b, to) => {
                let p = Proposal {
                    height: 1,
                    attempt,
                    proposer: net.ids[byz].clone(),
                    block: blocks[b % blocks.len()].clone(),
                    valid_attempt: None,
                    justification: None,
                };
                let m = net.sign_proposal(byz, p);
                (to, net.deliver(to, m))
            }
            Action::ByzCert(commit, attempt, b, to) => {
                // Bundle every vote seen so far for that block and step: it
                // may or may not reach a quorum.
                let step = if commit { Step::Commit } else { Step::Approve };
                let block = blocks[b % blocks.len()].clone();
                let mut votes: Vec<SignedVote> = pending
                    .iter()
                    .filter_map(|(_, m)| match m {
                        Message::Vote(sv) => Some(sv.clone()),
                        _ => None,
                    })
                    .chain(byz_votes.iter().cloned())
                    .filter(|sv| {
                        sv.vote.step == step
                            && sv.vote.attempt == attempt
                            && sv.vote.block_hash == block.hash()
                    })
                    .collect();
                votes.sort_by(|a, b| a.vote.voter.cmp(&b.vote.voter));
                votes.dedup_by(|a, b| a.vote.voter == b.vote.voter);
                let certificate = Certificate {
                    height: 1,
                    attempt,
                    step,
                    block_hash: block.hash(),
                    votes,
                };
                (
                    to,
                    net.deliver(
                        to,
                        Message::Certificate(CertifiedBlock { block, certificate }),
                    ),
                )
            }
        };
        if to < byz {
            finalized_events[to] += events(&outs)
                .iter()
                .filter(|e| matches!(e, Event::BlockFinalized { .. }))
                .count();
        }
        push(to, &outs, &mut pending);
    }
    Outcome {
        decided: (0..byz)
            .map(|i| net.nodes[i].state().last_decision().map(|d| d.hash))
            .collect(),
        finalized_events,
    }
}

/// `n` schedules drawn deterministically from the proptest strategy.
fn schedules(n: usize) -> Vec<Vec<Action>> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = prop::collection::vec(action(), 1..400);
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

const TIERS4: [Tier; 4] = [Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free];

#[test]
fn the_harness_sees_the_seed_rules_split_and_reference_runs_decide() {
    // The seed rules on the same schedules: one vote is a quorum (flaw 1),
    // so some schedule finalizes two blocks. A harness that cannot see a
    // split would pass anything.
    let runs = schedules(200);
    let seed_splits = runs
        .iter()
        .filter(|a| !run_schedule(&[Tier::Silver; 4], Rules::Seed, a).agree())
        .count();
    assert!(seed_splits >= 20, "{seed_splits} splits in 200 seed runs");
    // Under the reference rules the same schedules do decide, so the
    // agreement checks below are not vacuous.
    let decided = runs
        .iter()
        .filter(|a| {
            let o = run_schedule(&TIERS4, Rules::Reference, a);
            assert!(o.agree());
            o.decided.iter().any(Option::is_some)
        })
        .count();
    assert!(decided >= 50, "only {decided} of 200 schedules decided");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn honest_nodes_never_finalize_different_blocks(actions in prop::collection::vec(action(), 1..400)) {
        // Gold, Silver, Bronze honest (weights 8, 4, 2); the Byzantine Free
        // node holds 1 of 15.
        let o = run_schedule(&TIERS4, Rules::Reference, &actions);
        prop_assert!(o.agree(), "{:?}", o.decided);
        prop_assert!(o.finalized_events.iter().all(|&n| n <= 1), "{:?}", o.finalized_events);
    }

    #[test]
    fn equal_weights_with_one_byzantine_never_split(actions in prop::collection::vec(action(), 1..400)) {
        let o = run_schedule(&[Tier::Silver; 4], Rules::Reference, &actions);
        prop_assert!(o.agree(), "{:?}", o.decided);
        prop_assert!(o.finalized_events.iter().all(|&n| n <= 1), "{:?}", o.finalized_events);
    }

    #[test]
    fn arbitrary_messages_never_panic_a_node(
        seed_rules in any::<bool>(),
        msgs in prop::collection::vec(
            (0u8..4, 0u64..3, 0u32..40, any::<bool>(), any::<u64>(), any::<[u8; 32]>(), 0usize..6),
            1..60,
        ),
    ) {
        // Votes, proposals, certificates and heartbeats with arbitrary
        // fields, from members, a stranger, or with a broken signature; after
        // each, every timer of the attempt fires.
        let rules = if seed_rules { Rules::Seed } else { Rules::Reference };
        let mut net = Net::new(&[Tier::Gold, Tier::Free, Tier::Free], rules);
        net.start(0, true);
        let mut stranger = Net::new(&[Tier::Gold, Tier::Free, Tier::Free, Tier::Silver], rules);
        // Each signer's heartbeat, from nodes that have not started yet.
        let beat_of = |net: &mut Net, i: usize| {
            broadcasts(&net.start(i, false))
                .into_iter()
                .find_map(|m| match m {
                    Message::Heartbeat(hb) => Some(hb),
                    _ => None,
                })
                .expect("a heartbeat")
        };
        let mut fresh = Net::new(&[Tier::Gold, Tier::Free, Tier::Free], rules);
        let mut beats: Vec<_> = (0..3).map(|i| beat_of(&mut fresh, i)).collect();
        beats.push(beat_of(&mut stranger, 3));
        let blocks = candidates(&fresh);
        for (kind, height, attempt, commit, word, hash, who) in msgs {
            let step = if commit { Step::Commit } else { Step::Approve };
            // who: 0-2 members, 3 a wrong height, 4 a broken signature, 5 a
            // stranger (mn003 of another registry).
            let (signer_net, signer) = if who == 5 { (&stranger, 3) } else { (&net, who % 3) };
            let mut m = match kind {
                0 => signer_net.vote(signer, attempt, step, Hash32(hash), word % 2 == 0, word),
                1 => {
                    let mut block = (*blocks[word as usize % blocks.len()]).clone();
                    if word % 3 == 0 {
                        block.header.previous_hash = Hash32(hash);
                    }
                    let p = Proposal {
                        height: 1,
                        attempt,
                        proposer: signer_net.ids[signer].clone(),
                        block: Arc::new(block),
                        valid_attempt: (word % 5 == 0).then_some(attempt / 2),
                        justification: None,
                    };
                    signer_net.sign_proposal(signer, p)
                }
                2 => {
                    let block = blocks[word as usize % blocks.len()].clone();
                    // Votes of every member, some repeated, for this block or
                    // another.
                    let votes = (0..(word % 6) as usize)
                        .filter_map(|i| {
                            let target = if i % 4 == 3 { Hash32(hash) } else { block.hash() };
                            match net.vote(i % 3, attempt, step, target, true, 1) {
                                Message::Vote(sv) => Some(sv),
                                _ => None,
                            }
                        })
                        .collect();
                    Message::Certificate(CertifiedBlock {
                        block,
                        certificate: Certificate { height: 1, attempt, step, block_hash: Hash32(hash), votes },
                    })
                }
                _ => {
                    let mut hb = beats[if who == 5 { 3 } else { signer }].clone();
                    hb.heartbeat.block_height = word % 3;
                    hb.heartbeat.chain_tip_hash = Hash32(hash);
                    hb.signature = signer_net.keys[signer].sign(&hb.heartbeat.signing_bytes());
                    Message::Heartbeat(hb)
                }
            };
            match (&mut m, who) {
                (Message::Vote(sv), 3) => sv.vote.height = height,
                (Message::Proposal(sp), 3) => sp.proposal.height = height,
                (Message::Vote(sv), 4) => sv.signature.0[0] ^= 1,
                (Message::Proposal(sp), 4) => sp.signature.0[0] ^= 1,
                (Message::Heartbeat(hb), 4) => hb.signature.0[0] ^= 1,
                _ => {}
            }
            // A refused input changes nothing, except that the seed rules
            // also vote against an invalid proposal (S5.1).
            let exempt = seed_rules && matches!(m, Message::Proposal(_));
            let before = net.nodes[0].state().clone();
            let outs = net.deliver(0, m);
            if !rejections(&outs).is_empty() && !exempt {
                prop_assert_eq!(net.nodes[0].state(), &before);
            }
            net.fire(0, Timer::Attempt { height: 1, attempt });
            net.fire(0, Timer::VotingWindow { height: 1, attempt });
            net.fire(0, Timer::Leader { height: 1, attempt });
            net.fire(0, Timer::Heartbeat { height: 1 });
        }
    }
}
