//! Named scenarios on the kit's [`Net`], each written once: the node's tests
//! assert on what it leaves (every node's log and state), and the vector
//! generator records one node's inputs as a `node_trace` vector (so a change
//! here changes the vectors, and the regeneration test says so).
//!
//! Four masternodes `mn000..mn003`; [`TIERS4`] unless a scenario says
//! otherwise. Each returns the network and the node it is about.

use super::{
    broadcasts, has_event, leader_timeout, require, started, timeout, window, KitError, Net,
    Started,
};
use crate::block::Transaction;
use crate::event::Event;
use crate::fallback::BlockKind;
use crate::message::{CertifiedBlock, Message};
use crate::node::{Joining, Node, Output};
use crate::primitives::Hash32;
use crate::registry::Registry;
use crate::registry::Tier;
use crate::rules::{Amendment, Rules};
use crate::sim::genesis_tip;
use crate::vote::Step;
use crate::weight::seed_member_weight;
use std::sync::Arc;

/// Gold, Silver, Bronze, Free: weights 8, 4, 2, 1 under the reference rules.
pub const TIERS4: [Tier; 4] = [Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free];

/// Four Silvers: a quorum is 3 of 4.
pub const EQUAL4: [Tier; 4] = [Tier::Silver; 4];

/// A network and the node a scenario is about.
#[derive(Clone)]
pub struct Scenario {
    /// The network, every input and output recorded.
    pub net: Net,
    /// The node whose view the scenario shows.
    pub node: usize,
}

/// [`normal_height`]'s result.
#[derive(Clone)]
pub struct NormalHeight {
    /// The network.
    pub net: Net,
    /// The attempt-0 leader.
    pub leader: usize,
    /// The node after it.
    pub follower: usize,
    /// The leader's block.
    pub block: Hash32,
}

/// A normal height: every node starts presynchronized and every broadcast
/// is delivered; under the seed rules each voting window then closes.
pub fn normal_height(rules: Rules) -> Result<NormalHeight, KitError> {
    let Started {
        mut net,
        leader,
        proposal,
        starts,
    } = started(&TIERS4, rules)?;
    net.pump(starts, |_, _, _| true);
    if !rules.has(Amendment::TwoStepLocking) {
        for i in 0..4 {
            net.fire(i, window(0));
        }
    }
    Ok(NormalHeight {
        net,
        leader,
        follower: (leader + 1) % 4,
        block: proposal.proposal.block.hash(),
    })
}

/// Two heights under the reference rules: a normal height, then every node
/// starts height 2 on the block it finalized, and again every broadcast is
/// delivered. The node is the follower of height 1's leader.
pub fn two_heights() -> Result<Scenario, KitError> {
    let NormalHeight {
        mut net, follower, ..
    } = normal_height(Rules::Reference)?;
    let starts = (0..4).map(|i| (i, net.start(i, true))).collect();
    net.pump(starts, |_, _, _| true);
    Ok(Scenario {
        net,
        node: follower,
    })
}

/// [`join_at_height_2`]'s result.
#[derive(Clone)]
pub struct Joined {
    /// Height 2's network, mn000..mn004, recorded from height 2's start.
    pub net: Net,
    /// The joiner, mn004.
    pub node: usize,
    /// Height 1's registry, mn000..mn003.
    pub previous: Arc<Registry>,
    /// The finality proof of height 1 the joiner took its tip from.
    pub proof: Arc<CertifiedBlock>,
}

/// R7.8: after a normal height of mn000..mn003, mn004 (Gold) is registered
/// at height 2. It joins from mn000's finality proof, checked against
/// height 1's registry; the four resume from their own proofs under height
/// 2's registry; every node starts height 2 and every broadcast is
/// delivered.
pub fn join_at_height_2() -> Result<Joined, KitError> {
    let NormalHeight { net: h1, .. } = normal_height(Rules::Reference)?;
    let tiers = [TIERS4.as_slice(), &[Tier::Gold]].concat();
    let mut net = Net::with_config(&tiers, Rules::Reference, h1.config.clone())?;
    let mut proofs = Vec::new();
    for node in &h1.nodes {
        let proof = node.state().finality_proof().cloned().map(Arc::new);
        proofs.push(require(proof, "every node of height 1 to hold its proof")?);
    }
    for (node, proof) in net.nodes.iter_mut().zip(&proofs) {
        *node = Node::resume((**node.context()).clone(), proof.clone());
    }
    let joining = Joining {
        registry: &h1.registry,
        tip: genesis_tip(),
        date: h1.date,
    };
    let proof = proofs[0].clone();
    net.nodes[4] = Node::join((**net.nodes[4].context()).clone(), joining, &proof)?;
    let starts = (0..5).map(|i| (i, net.start(i, true))).collect();
    net.pump(starts, |_, _, _| true);
    Ok(Joined {
        net,
        node: 4,
        previous: h1.registry.clone(),
        proof,
    })
}

/// Seed flaw 1's inputs: the follower after the leader gets the proposal
/// and nothing else, then its attempt ends (the voting window under the
/// seed rules, the attempt timeout under the reference rules).
pub fn single_vote(rules: Rules) -> Result<Scenario, KitError> {
    let Started {
        mut net,
        leader,
        proposal,
        ..
    } = started(&TIERS4, rules)?;
    let x = (leader + 1) % 4;
    net.deliver(x, Message::Proposal(proposal));
    // The voting window closes the seed flow's attempt, the timeout the
    // two-step flow's.
    let end = if rules.has(Amendment::TwoStepLocking) {
        timeout(0)
    } else {
        window(0)
    };
    net.fire(x, end);
    Ok(Scenario { net, node: x })
}

/// Seed flaw 2's inputs: the node (Free, or Bronze when Free leads) gets the
/// proposal; the two heaviest others vote against with their seed weights,
/// the lightest approves declaring `declared`; then the attempt ends.
pub fn declared_weight(rules: Rules, declared: u64) -> Result<Scenario, KitError> {
    let Started {
        mut net,
        leader,
        proposal,
        ..
    } = started(&TIERS4, rules)?;
    let x = if leader == 3 { 2 } else { 3 };
    net.deliver(x, Message::Proposal(proposal.clone()));
    let h = proposal.proposal.block.hash();
    let others: Vec<usize> = (0..4).filter(|&i| i != x).collect();
    let lightest = others[others.len() - 1];
    for &i in &others {
        let m = if i == lightest {
            net.vote(i, 0, Step::Approve, h, true, declared)
        } else {
            let w = seed_member_weight(&net.registry.members()[i], net.date);
            net.vote(i, 0, Step::Approve, h, false, w)
        };
        net.deliver(x, m);
    }
    // The voting window closes the seed flow's attempt, the timeout the
    // two-step flow's.
    let end = if rules.has(Amendment::TwoStepLocking) {
        timeout(0)
    } else {
        window(0)
    };
    net.fire(x, end);
    Ok(Scenario { net, node: x })
}

/// Seed flaw 4's inputs: a node that leads none of attempts 0-2 sees their
/// leader timeouts and nothing else.
pub fn emergency_without_vote() -> Result<Scenario, KitError> {
    let mut net = Net::new(&TIERS4, Rules::Seed)?;
    for i in 0..4 {
        net.start(i, true);
    }
    let leaders: Vec<usize> = (0..3).filter_map(|a| net.leader(0, a)).collect();
    let x = require(
        (0..4).find(|i| !leaders.contains(i)),
        "a node that leads none of attempts 0-2",
    )?;
    for a in 0..3 {
        net.fire(x, leader_timeout(a));
    }
    Ok(Scenario { net, node: x })
}

/// [`locking`]'s result.
#[derive(Clone)]
pub struct Locking {
    /// The network and the node that locks.
    pub scenario: Scenario,
    /// The attempt-0 block B it locks on.
    pub block: Hash32,
    /// The fresh block C attempt 1's leader proposes.
    pub fresh: Hash32,
}

/// Locking (R6.2) on equal weights: the node sees an approve quorum for B
/// in attempt 0; attempt 1's leader proposes a fresh block C; attempt 2's
/// leader re-proposes B justified by attempt 0's certificate (R6.5).
pub fn locking() -> Result<Locking, KitError> {
    let Started {
        mut net,
        proposal: p0,
        ..
    } = started(&EQUAL4, Rules::Reference)?;
    let b = p0.proposal.block.hash();
    let leaders: Vec<usize> = (0..3).filter_map(|a| net.leader(0, a)).collect();
    let x = require(
        (0..4).find(|i| !leaders.contains(i)),
        "a node leading none of attempts 0-2",
    )?;
    net.deliver(x, Message::Proposal(p0.clone()));
    let others: Vec<usize> = (0..4).filter(|&i| i != x).take(2).collect();
    let outs = net.deliver_votes(x, others, 0, Step::Approve, b);
    let approve_cert = require(
        broadcasts(&outs).into_iter().find_map(|m| match m {
            Message::Certificate(c) if c.certificate.step == Step::Approve => {
                Some((*c.certificate).clone())
            }
            _ => None,
        }),
        "the approve certificate to be relayed",
    )?;
    net.fire(x, timeout(0));
    let l1 = require(net.leader(x, 1), "a leader of attempt 1")?;
    let ctx = require(net.block_context(x), "a running height")?;
    let c = Arc::new(ctx.build(
        BlockKind::Normal,
        &net.ids[l1],
        &[Transaction::transfer(b"c")],
    ));
    let m = net.propose(l1, 1, c.clone(), None, None);
    net.deliver(x, m);
    net.fire(x, timeout(1));
    let l2 = require(net.leader(x, 2), "a leader of attempt 2")?;
    let m = net.propose(
        l2,
        2,
        p0.proposal.block.clone(),
        Some(0),
        Some(approve_cert),
    );
    net.deliver(x, m);
    Ok(Locking {
        scenario: Scenario { net, node: x },
        block: b,
        fresh: c.hash(),
    })
}

/// Every leader silent under the reference rules: attempts 0 to 3 time out
/// at every node, then everything but proposals is delivered (R7.3).
pub fn emergency_with_quorums() -> Result<Scenario, KitError> {
    let mut net = Net::new(&TIERS4, Rules::Reference)?;
    for i in 0..4 {
        net.start(i, true);
    }
    let mut at_emergency = Vec::new();
    for i in 0..4 {
        let mut outs = Vec::new();
        for a in 0..4 {
            outs = net.fire(i, timeout(a));
        }
        at_emergency.push((i, outs));
    }
    net.pump(at_emergency, |_, _, m| !matches!(m, Message::Proposal(_)));
    Ok(Scenario { net, node: 0 })
}

/// The reference rules without A4: mn000 alone, its attempts 0 to 3 timing
/// out, reaches the emergency attempt.
pub fn emergency_without_a4() -> Result<Scenario, KitError> {
    let rules = Rules::Reference.without(Amendment::EmergencyQuorum);
    let mut net = Net::new(&TIERS4, rules)?;
    net.start(0, true);
    for a in 0..4 {
        net.fire(0, timeout(a));
    }
    Ok(Scenario { net, node: 0 })
}

/// Everyone but mn003 runs a normal height; mn003, which received nothing,
/// then gets the first finality proof (R7.5) sent.
pub fn finality_proof_alone() -> Result<Scenario, KitError> {
    let Started {
        mut net, starts, ..
    } = started(&TIERS4, Rules::Reference)?;
    let x = 3;
    let sent = net.pump(starts, |_, to, _| to != x);
    let proof = require(
        sent.into_iter()
            .map(|(_, m)| m)
            .find(|m| matches!(m, Message::Certificate(c) if c.certificate.step == Step::Commit)),
        "a finality proof",
    )?;
    net.deliver(x, proof);
    Ok(Scenario { net, node: x })
}

/// R7.7: mn003 in attempt 0 counts Silver's approve vote of attempt 2 and
/// Bronze's commit vote of attempt 3 (declared weight 1 each).
pub fn join_later_attempt() -> Result<Scenario, KitError> {
    let Started { mut net, .. } = started(&TIERS4, Rules::Reference)?;
    let x = 3;
    let b = Hash32([7; 32]);
    let silver = net.vote(1, 2, Step::Approve, b, true, 1);
    net.deliver(x, silver);
    let bronze = net.vote(2, 3, Step::Commit, b, true, 1);
    net.deliver(x, bronze);
    Ok(Scenario { net, node: x })
}

/// [`late_start`]'s result.
#[derive(Clone)]
pub struct LateStart {
    /// The network and the late node.
    pub scenario: Scenario,
    /// The attempt-0 proposal, which the late node received before it
    /// started.
    pub proposal: Message,
    /// The attempt-0 leader.
    pub leader: usize,
}

/// R0.7: mn003 receives the others' attempt-0 proposal and approve votes
/// (then the first vote again) before it starts height 1, then starts.
pub fn late_start() -> Result<LateStart, KitError> {
    let mut net = Net::new(&TIERS4, Rules::Reference)?;
    let x = 3;
    let starts: Vec<(usize, Vec<Output>)> = (0..4)
        .filter(|&i| i != x)
        .map(|i| (i, net.start(i, true)))
        .collect();
    let mut early = Vec::new();
    for (i, outs) in &starts {
        early.extend(broadcasts(outs).into_iter().map(|m| (*i, m)));
    }
    let (leader, p) = require(
        early
            .iter()
            .find(|(_, m)| matches!(m, Message::Proposal(_)))
            .cloned(),
        "the attempt-0 leader to propose",
    )?;
    for i in (0..4).filter(|&i| i != x) {
        let outs = net.deliver(i, p.clone());
        early.extend(
            broadcasts(&outs)
                .into_iter()
                .filter(|m| matches!(m, Message::Vote(_)))
                .map(|m| (i, m)),
        );
    }
    for (_, m) in &early {
        net.deliver(x, m.clone());
    }
    if let Some((_, m)) = early.iter().find(|(_, m)| matches!(m, Message::Vote(_))) {
        net.deliver(x, m.clone());
    }
    net.start(x, true);
    Ok(LateStart {
        scenario: Scenario { net, node: x },
        proposal: p,
        leader,
    })
}

/// A scenario whose node should end locked on `block` in `attempt` (R6.2).
#[derive(Clone)]
pub struct Locks {
    /// The network and the node.
    pub scenario: Scenario,
    /// The attempt it should lock in.
    pub attempt: u32,
    /// The block it should lock on.
    pub block: Hash32,
}

/// R6.2 on a held certificate: the node (Bronze, or Free when Bronze leads)
/// counts Silver's approve vote of attempt 1 for an unknown block, then gets
/// an approve certificate of attempt 1 (Gold and Silver) for the attempt-0
/// leader's block. Under `rules` without A7, attempt 0 then times out.
pub fn held_certificate(rules: Rules) -> Result<Locks, KitError> {
    let Started {
        mut net,
        leader,
        proposal,
        ..
    } = started(&TIERS4, rules)?;
    let x = if leader == 2 { 3 } else { 2 };
    let b = proposal.proposal.block.clone();
    let other = net.vote(1, 1, Step::Approve, Hash32([7; 32]), true, 1);
    net.deliver(x, other);
    let block = b.hash();
    let certificate = net.certificate(&[0, 1], 1, Step::Approve, block);
    net.deliver(
        x,
        Message::Certificate(CertifiedBlock {
            block: b,
            certificate: certificate.into(),
        }),
    );
    if !rules.has(Amendment::AttemptSync) {
        net.fire(x, timeout(0));
    }
    Ok(Locks {
        scenario: Scenario { net, node: x },
        attempt: 1,
        block,
    })
}

/// R6.2 from a justification: in attempt 0, before attempt 0's proposal,
/// the node (Bronze, or Free when Bronze leads) gets attempt 1's proposal
/// re-proposing attempt 0's block with Gold's and Silver's approve
/// certificate of attempt 0.
pub fn justification_locks_current_attempt() -> Result<Locks, KitError> {
    let Started {
        mut net,
        leader,
        proposal,
        ..
    } = started(&TIERS4, Rules::Reference)?;
    let x = if leader == 2 { 3 } else { 2 };
    let b = proposal.proposal.block.clone();
    let l1 = require(net.leader(x, 1), "a leader of attempt 1")?;
    let m = net.propose(
        l1,
        1,
        b.clone(),
        Some(0),
        Some(net.certificate(&[0, 1], 0, Step::Approve, b.hash())),
    );
    net.deliver(x, m);
    Ok(Locks {
        scenario: Scenario { net, node: x },
        attempt: 0,
        block: b.hash(),
    })
}

impl Locks {
    /// Whether `outs` lock the node on the block in the attempt and send its
    /// commit vote for it.
    pub fn locked_in(&self, outs: &[Output]) -> bool {
        has_event(outs, |e| {
            *e == Event::Locked {
                attempt: self.attempt,
                block_hash: self.block,
            }
        }) && broadcasts(outs).iter().any(|m| {
            matches!(m, Message::Vote(v) if v.vote.step == Step::Commit
                && v.vote.attempt == self.attempt && v.vote.block_hash == self.block)
        })
    }
}
