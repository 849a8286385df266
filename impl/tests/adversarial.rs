//! Property tests: random and adversarial schedules and messages never make a
//! node panic, and never make two honest reference nodes finalize different
//! blocks at one height while the Byzantine weight stays below a third.

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
use time_consensus::{Output, Rules, Tier};

/// What the adversary does next.
#[derive(Clone, Debug)]
enum Action {
    /// Deliver pending message `i % len` to node `to`.
    Deliver(usize, usize),
    /// Lose pending message `i % len`.
    Drop(usize),
    /// Fire node `to`'s current attempt timer.
    Timeout(usize),
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
        2 => (0..3usize).prop_map(Action::Timeout),
        2 => (any::<bool>(), 0..6u32, 0..8usize, 0..3usize).prop_map(|(s, a, b, t)| Action::ByzVote(s, a, b, t)),
        1 => (0..6u32, 0..8usize, 0..3usize).prop_map(|(a, b, t)| Action::ByzPropose(a, b, t)),
        1 => (any::<bool>(), 0..6u32, 0..8usize, 0..3usize).prop_map(|(s, a, b, t)| Action::ByzCert(s, a, b, t)),
    ]
}

/// Candidate blocks: every member's normal and reward-only block, and the
/// emergency block.
fn candidates(net: &Net) -> Vec<Arc<Block>> {
    let ctx = net.nodes[0]
        .state()
        .round()
        .unwrap()
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

fn run_schedule(tiers: &[Tier], actions: &[Action]) -> Vec<Option<Hash32>> {
    let byz = tiers.len() - 1;
    let mut net = Net::new(tiers, Rules::Reference);
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
            Action::Timeout(to) => {
                let Some(r) = net.nodes[to].state().round() else {
                    continue;
                };
                let t = Timer::Attempt {
                    height: 1,
                    attempt: r.attempt(),
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
        push(to, &outs, &mut pending);
    }
    (0..byz)
        .map(|i| net.nodes[i].state().last_decision().map(|d| d.hash))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn honest_nodes_never_finalize_different_blocks(actions in prop::collection::vec(action(), 1..400)) {
        // Gold, Silver, Bronze honest (14 of 15... weights 8, 4, 2); the
        // Byzantine Free node holds 1 of 15.
        let decided = run_schedule(&[Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free], &actions);
        let hashes: Vec<Hash32> = decided.into_iter().flatten().collect();
        prop_assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
    }

    #[test]
    fn equal_weights_with_one_byzantine_never_split(actions in prop::collection::vec(action(), 1..400)) {
        let decided = run_schedule(&[Tier::Silver; 4], &actions);
        let hashes: Vec<Hash32> = decided.into_iter().flatten().collect();
        prop_assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
    }

    #[test]
    fn arbitrary_messages_never_panic_a_node(
        seed_rules in any::<bool>(),
        msgs in prop::collection::vec((0u64..3, 0u32..40, any::<bool>(), any::<u64>(), any::<[u8; 32]>(), 0usize..5), 1..60),
    ) {
        let rules = if seed_rules { Rules::Seed } else { Rules::Reference };
        let mut net = Net::new(&[Tier::Gold, Tier::Free, Tier::Free], rules);
        net.start(0, true);
        for (height, attempt, commit, weight, hash, voter) in msgs {
            let step = if commit { Step::Commit } else { Step::Approve };
            let m = net.vote(voter % 3, attempt, step, Hash32(hash), weight % 2 == 0, weight);
            let m = match (m, voter) {
                (Message::Vote(mut sv), 3) => { sv.vote.height = height; Message::Vote(sv) }
                (Message::Vote(mut sv), 4) => { sv.signature.0[0] ^= 1; Message::Vote(sv) }
                (m, _) => m,
            };
            let before = net.nodes[0].state().clone();
            let outs = net.deliver(0, m);
            if !rejections(&outs).is_empty() {
                prop_assert_eq!(net.nodes[0].state(), &before);
            }
            net.fire(0, Timer::Attempt { height: 1, attempt });
            net.fire(0, Timer::VotingWindow { height: 1, attempt });
            net.fire(0, Timer::Leader { height: 1, attempt });
        }
    }
}
