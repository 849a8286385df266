//! Certificates and justifications on the reference node: a quorum proved
//! by a certificate whatever the tally counted (R6.2, R6.4), a relayed vote
//! checked as any other, the canonical order kept, and a lock taken from a
//! certificate or justification that arrives early.

use super::*;

fn cert_of(
    net: &Net,
    voters: &[usize],
    attempt: u32,
    step: Step,
    block: &Arc<time_consensus::block::Block>,
) -> Message {
    let votes = voters
        .iter()
        .map(|&i| signed(net, i, attempt, step, block.hash()))
        .collect();
    Message::Certificate(CertifiedBlock {
        block: block.clone(),
        certificate: Certificate {
            height: 1,
            attempt,
            step,
            block_hash: block.hash(),
            votes,
        }
        .into(),
    })
}

/// Attempt 0's proposal and a non-leader of weight at most 2 (Bronze or
/// Free), so that the other three weigh a quorum without it.
fn light_follower(starts: &[(usize, Vec<time_consensus::Output>)]) -> (usize, Proposal, usize) {
    let (leader, Message::Proposal(p)) = attempt0_proposal(starts) else {
        unreachable!()
    };
    let x = if leader == 2 { 3 } else { 2 };
    (leader, p.proposal, x)
}

#[test]
fn a_commit_quorum_counted_before_its_block_finalizes_when_a_certificate_brings_it() {
    // Issue 9, bug 1: the commit votes arrive while the block is unknown (its
    // proposal lost); the approve certificate brings the block, its votes are
    // new, and nothing used to recheck the commit quorum already counted.
    let (mut net, starts) = started(&TIERS, Rules::Reference);
    let (_, p, x) = light_follower(&starts);
    let h = p.block.hash();
    let others: Vec<usize> = (0..4).filter(|&i| i != x).collect();
    for &i in &others {
        let outs = net.deliver(x, Message::Vote(signed(&net, i, 0, Step::Commit, h)));
        assert!(finalized(&outs).is_none());
    }
    let outs = net.deliver(x, cert_of(&net, &others, 0, Step::Approve, &p.block));
    assert_eq!(finalized(&outs), Some(h), "{outs:#?}");
    assert!(events(&outs)
        .iter()
        .any(|e| matches!(e, Event::Locked { attempt: 0, .. })));
}

#[test]
fn a_valid_certificate_proves_its_quorum_even_past_an_equivocation_counted_first() {
    // Issue 9, bug 1: mn001 (Silver) voted for another block first; its vote
    // in the certificate is then refused by the tally, which stays below the
    // quorum, but the certificate proves the quorum by itself (R6.4).
    for step in [Step::Approve, Step::Commit] {
        let (mut net, starts) = started(&TIERS, Rules::Reference);
        let (_, p, x) = light_follower(&starts);
        let h = p.block.hash();
        let other = Hash32([7; 32]);
        net.deliver(x, Message::Vote(signed(&net, 1, 0, step, other)));
        let outs = net.deliver(x, cert_of(&net, &[0, 1], 0, step, &p.block));
        if let Some(r) = net.nodes[x].state().round() {
            let counted = r.tally(0, step).map_or(0, |t| t.weight_of(&h));
            assert!(
                counted < r.height_ctx().weights().quorum(),
                "the tally alone lacks it"
            );
        }
        let st = net.nodes[x].state();
        match step {
            Step::Approve => {
                let r = st.round().unwrap();
                assert_eq!(r.locked(), Some((0, h)));
                assert_eq!(r.valid().map(|j| (j.attempt, j.block_hash)), Some((0, h)));
                assert!(broadcasts(&outs).iter().any(
                    |m| matches!(m, Message::Vote(v) if v.vote.step == Step::Commit && v.vote.block_hash == h)
                ));
            }
            Step::Commit => assert_eq!(finalized(&outs), Some(h)),
        }
    }
}

#[test]
fn a_counted_vote_altered_inside_a_certificate_is_refused() {
    // Issue 9, bug 2: a vote counted here used to skip its signature check
    // when relayed inside a certificate, whatever its other signed fields.
    let (mut net, starts) = started(&TIERS, Rules::Reference);
    let (_, p, x) = light_follower(&starts);
    let h = p.block.hash();
    for i in [0, 1] {
        net.deliver(x, Message::Vote(signed(&net, i, 0, Step::Approve, h)));
    }
    let Message::Certificate(mut cb) = cert_of(&net, &[0, 1], 0, Step::Approve, &p.block) else {
        unreachable!()
    };
    Arc::make_mut(&mut cb.certificate).votes[0].vote.weight += 1;
    refused!(net, x, Message::Certificate(cb), |r| matches!(
        r,
        Rejection::InvalidCertificate(CertificateError::BadSignature { index: 0, .. })
    ));
}

#[test]
fn a_justification_is_kept_in_canonical_order_whatever_order_it_came_in() {
    let (mut net, starts) = started(&TIERS, Rules::Reference);
    let (_, p, x) = light_follower(&starts);
    let outs = net.deliver(x, cert_of(&net, &[1, 0], 0, Step::Approve, &p.block));
    let kept = &net.nodes[x]
        .state()
        .round()
        .unwrap()
        .valid()
        .unwrap()
        .certificate;
    let voters: Vec<&NodeId> = kept.votes.iter().map(|v| &v.vote.voter).collect();
    assert_eq!(voters, [&net.ids[0], &net.ids[1]]);
    // And what it relays is what it keeps.
    assert!(broadcasts(&outs)
        .iter()
        .any(|m| matches!(m, Message::Certificate(c) if *c.certificate == **kept)));
}

#[test]
fn a_certificate_received_ahead_of_its_attempt_locks_the_node_when_it_enters() {
    // Found by an adversarial review of the model's sound delivery: mn001
    // (Silver) votes for another block of attempt 1 first, then a
    // certificate of attempt 1 (mn000, mn001) arrives while x is still in
    // attempt 0. Its tally for the block stays below the quorum (mn001's
    // vote in it is refused), but the certificate proves the quorum: on
    // entering attempt 1, x locks and commits (R6.2). Under A7 it enters at
    // once, the certificate's signers weighing more than `T - q` (R7.7);
    // without A7, when its timer fires.
    for a7 in [true, false] {
        let rules = if a7 {
            Rules::Reference
        } else {
            Rules::Reference.without(Amendment::AttemptSync)
        };
        let l = scenarios::held_certificate(rules).unwrap();
        let (net, x, h) = (&l.scenario.net, l.scenario.node, l.block);
        let log = &net.log[x];
        let at_certificate = if a7 { 1 } else { 2 };
        let before = &log[log.len() - at_certificate].outputs;
        assert_eq!(has_event(before, |e| matches!(e, Event::Locked { .. })), a7);
        let r = net.nodes[x].state().round().unwrap();
        assert_eq!(r.attempt(), 1);
        assert!(
            r.tally(1, Step::Approve).map_or(0, |t| t.weight_of(&h))
                < r.height_ctx().weights().quorum()
        );
        assert_eq!(r.locked(), Some((1, h)));
        assert!(l.locked_in(net.last(x)));
    }
}

#[test]
fn a_justification_of_the_current_attempt_locks_the_node() {
    // A proposal for attempt 1 justified by an approve certificate of
    // attempt 0 reaches x while it is in attempt 0: the justification
    // proves attempt 0's quorum, as a certificate message would (R6.2).
    let l = scenarios::justification_locks_current_attempt().unwrap();
    let (net, x) = (&l.scenario.net, l.scenario.node);
    let r = net.nodes[x].state().round().unwrap();
    assert_eq!((r.attempt(), r.locked()), (0, Some((0, l.block))));
    assert!(l.locked_in(net.last(x)));
}
