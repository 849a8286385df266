//! The invariants checked after every input: what an honest node sends
//! verifies everywhere (a), and what it stores is bounded (b).

use super::*;

/// Candidate blocks: every member's normal and reward-only block, and the
/// emergency block.
pub fn candidates(net: &Net) -> Vec<Arc<Block>> {
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

/// Invariant (a) at the sender: `m`, broadcast by honest node `from`, is
/// signed by `from` with a signature that verifies, and every certificate it
/// carries is for its block and proves its quorum at a node that has
/// verified none of its votes before: the check of R5.5 as the node runs it
/// ([`verify_certificate`], [`Registry::verify_at`]) with nothing skipped. A
/// correct node only ever sends such messages; a receiver may skip the
/// signatures of votes it has counted (R5.5), but never needs to.
///
/// [`Registry::verify_at`]: time_consensus::Registry::verify_at
pub fn honest_message_fault(
    net: &Net,
    weights: &HeightWeights,
    from: usize,
    m: &Message,
) -> Option<String> {
    let reg = &net.registry;
    let me = &net.ids[from];
    let signed = |signer: &NodeId, bytes: Vec<u8>, sig| {
        signer == me
            && reg
                .position_of(signer)
                .is_some_and(|p| reg.verify_at(p, &bytes, sig))
    };
    let proves = |cert: &Certificate, block: &Block, step: Option<Step>| {
        if step.is_some_and(|s| s != cert.step) {
            return Err(format!("a {:?} certificate", cert.step));
        }
        if cert.block_hash != block.hash() || cert.height != block.header.height {
            return Err("a certificate of another block".to_string());
        }
        verify_certificate(reg, weights, cert, |_, _| false)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let fault = match m {
        Message::Heartbeat(hb) => (!signed(
            &hb.heartbeat.node_id,
            hb.heartbeat.signing_bytes(),
            &hb.signature,
        ))
        .then(|| "bad signature".to_string()),
        Message::Vote(sv) => (!signed(&sv.vote.voter, sv.vote.signing_bytes(), &sv.signature))
            .then(|| "bad signature".to_string()),
        Message::Proposal(sp) => {
            let p = &sp.proposal;
            if !signed(&p.proposer, p.signing_bytes(), &sp.signature) {
                Some("bad signature".to_string())
            } else {
                p.justification
                    .as_ref()
                    .and_then(|c| proves(c, &p.block, Some(Step::Approve)).err())
                    .map(|e| format!("justification: {e}"))
            }
        }
        Message::Certificate(cb) => proves(&cb.certificate, &cb.block, None).err(),
    };
    fault.map(|f| format!("honest node {from} broadcast {}: {f}", summary(m)))
}

/// One line about a message, for failure reports.
pub fn summary(m: &Message) -> String {
    match m {
        Message::Heartbeat(hb) => format!("a heartbeat of {}", hb.heartbeat.node_id),
        Message::Vote(sv) => {
            let v = &sv.vote;
            format!(
                "a {:?} vote of attempt {} by {}",
                v.step, v.attempt, v.voter
            )
        }
        Message::Proposal(sp) => {
            let p = &sp.proposal;
            format!(
                "a proposal of attempt {} (valid_attempt {:?}, justification {:?})",
                p.attempt,
                p.valid_attempt,
                p.justification
                    .as_ref()
                    .map(|c| (c.attempt, c.step, c.votes.len()))
            )
        }
        Message::Certificate(cb) => {
            let c = &cb.certificate;
            format!(
                "a {:?} certificate of attempt {} with {} votes",
                c.step,
                c.attempt,
                c.votes.len()
            )
        }
    }
}

/// Invariant (b): what honest node `i` stores is bounded by its window of
/// attempts.
///
/// Under two steps (A3) a node at attempt `c` refuses anything of an attempt
/// above `c + F` (R4.4, `F = max_future_attempts`); the one-step flow keeps
/// proposals of its current attempt only (S4.1). `c` never decreases, so all
/// it holds belongs to the `A = last + 1` attempts `0..=last`, `last = c +
/// F` (two steps) or `c` (one step). With `n` members:
/// - votes: at most one per member per step and attempt (R5.6), so at most
///   `n` per tally and `2nA` in all, and no tally above `last`;
/// - proposals: at most one per attempt (R4.5, S4.1), so `A`, none above
///   `last`;
/// - blocks: the emergency block, one per accepted proposal, and one per
///   accepted certificate, of which there is at most one per step of an
///   attempt: two quorums of one step share more than `T/3` of the weight,
///   more than the Byzantine weight, so for two blocks some honest member
///   would have voted twice. So at most `1 + 3A`;
/// - heartbeats (phase 1) and the seed flow's pooled votes (S6.1): one per
///   member, `n` each; two flags (approved, committed in the attempt);
/// - the justification held: one vote per member at most, `n`.
///
/// So the facts of [`NodeState::progress`] (its last component less the
/// lock's and the valid block's attempt marks) are at most
/// `2n + 2 + 4A + 2nA`.
///
/// With A2 but not A3 (`seed+A1+A2`) the one-step flow keeps its votes per
/// attempt; they are bounded by R4.4's window too (seed-rules.md, Count).
///
/// [`NodeState::progress`]: time_consensus::NodeState::progress
pub fn memory_fault(setup: &Setup, net: &Net, i: usize) -> Option<String> {
    let st = net.nodes[i].state();
    let r = st.round()?;
    let n = net.registry.len() as u64;
    let c = u64::from(r.attempt());
    let f = u64::from(setup.max_future_attempts);
    let windowed =
        setup.rules.has(Amendment::TwoStepLocking) || setup.rules.has(Amendment::RegistryWeights);
    let last = if windowed { c + f } else { c };
    let a = last + 1;
    let vote_window = true;
    let mut faults = Vec::new();
    if let Some((&hi, _)) = r.proposals().last_key_value() {
        if u64::from(hi) > last {
            faults.push(format!("a proposal of attempt {hi}"));
        }
    }
    if r.proposals().len() as u64 > a {
        faults.push(format!("{} proposals", r.proposals().len()));
    }
    if r.blocks().len() as u64 > 1 + 3 * a {
        faults.push(format!("{} blocks", r.blocks().len()));
    }
    let mut votes = 0u64;
    for at in 0..=last + f + 4 {
        for step in [Step::Approve, Step::Commit] {
            let Some(t) = r.tally(at as u32, step) else {
                continue;
            };
            let count = t.count() as u64;
            if vote_window && at > last && count > 0 {
                faults.push(format!("{count} {step:?} votes of attempt {at}"));
            }
            if count > n {
                faults.push(format!("{count} {step:?} votes in attempt {at}"));
            }
            votes += count;
        }
    }
    if r.pooled_votes().len() as u64 > n {
        faults.push(format!("{} pooled votes", r.pooled_votes().len()));
    }
    if let Some(j) = r.valid() {
        if j.certificate.votes.len() as u64 > n {
            faults.push(format!("a justification of {}", j.certificate.votes.len()));
        }
    }
    if vote_window {
        if votes > 2 * n * a {
            faults.push(format!("{votes} votes"));
        }
        let marks = r.locked().map_or(0, |(x, _)| u64::from(x) + 1)
            + r.valid().map_or(0, |j| u64::from(j.attempt) + 1);
        let facts = st.progress()[3] - marks;
        let bound = 2 * n + 2 + 4 * a + 2 * n * a;
        if facts > bound {
            faults.push(format!("{facts} facts, bound {bound}"));
        }
    }
    (!faults.is_empty()).then(|| {
        format!(
            "node {i} at attempt {c} (window up to {last}) holds {}",
            faults.join(", ")
        )
    })
}
