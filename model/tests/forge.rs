//! The `forge-justification` adversary against one honest node, message by
//! message: what it forges from an honest vote, and what the node does with
//! each forgery after counting the vote the forgery alters.

use time_consensus::event::{Event, Rejection};
use time_consensus::message::CertificateError;
use time_consensus::message::Message;
use time_consensus::node::{Input, NodeState, Output, StartHeight};
use time_consensus::vote::{Step, Vote};
use time_consensus_model::actor::McActor;
use time_consensus_model::config::{Byzantine, ModelConfig};
use time_consensus_model::TcModel;

/// `reference` with the Bronze masternode (leader of attempt 2) forging.
fn model() -> TcModel {
    let cfg = ModelConfig {
        behaviour: Byzantine {
            forge: true,
            ..Byzantine::SILENT
        },
        ..ModelConfig::preset("reference").unwrap()
    };
    TcModel::new(&cfg).unwrap()
}

fn events(outs: &[Output]) -> Vec<Event> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn forgeries_from_one_honest_vote_are_refused_except_the_valid_relay_and_reproposal() {
    let m = model();
    let McActor::Byzantine(byz) = &m.inner.actors[2] else {
        panic!("mn002 is Byzantine")
    };
    let forger = byz.forger.as_ref().expect("forging");
    assert_eq!(forger.leads, vec![2]);
    // Gold's approve vote for attempt 0's block (Silver's).
    let (b0, _) = m
        .info
        .valid_blocks
        .iter()
        .find(|(h, _)| m.info.label(h) == "B0·mn001")
        .map(|(h, v)| (*h, v.clone()))
        .unwrap();
    let gold = &m.info.contexts[0];
    let vote = Vote {
        height: 1,
        attempt: 0,
        step: Step::Approve,
        voter: gold.id().clone(),
        block_hash: b0,
        approve: true,
        weight: 8,
    };
    let sv = vote.sign(gold.keypair());
    let forged = forger.forge(&byz.keypair, &Message::Vote(sv.clone()));
    // Relay, tampered relay, and as attempt 2's leader: justified, tampered,
    // unsupported (valid_attempt 1 backed by attempt 0's certificate).
    assert_eq!(forged.len(), 5);
    // An honest vote that cannot reach the quorum with the forger's: nothing.
    let free = &m.info.contexts[3];
    let weak = Vote {
        voter: free.id().clone(),
        weight: 1,
        ..sv.vote.clone()
    };
    let weak = weak.sign(free.keypair());
    assert!(forger.forge(&byz.keypair, &Message::Vote(weak)).is_empty());

    // The Free node counts Gold's vote first, then meets each forgery alone.
    let McActor::Honest(h) = &m.inner.actors[3] else {
        panic!("mn003 is honest")
    };
    let fresh = || {
        let mut st: NodeState = h.init.clone();
        let mut outs = Vec::new();
        let start = StartHeight {
            date: h.date,
            mempool: h.mempool.clone(),
            presynchronized: true,
        };
        h.ctx.handle(&mut st, Input::Start(start), &mut outs);
        h.ctx.handle(
            &mut st,
            Input::Message(Message::Vote(sv.clone())),
            &mut outs,
        );
        st
    };
    let mut seen = Vec::new();
    for p in &forged {
        let mut st = fresh();
        let before = st.clone();
        let mut outs = Vec::new();
        h.ctx.handle(&mut st, Input::Message(p.clone()), &mut outs);
        let evs = events(&outs);
        let rejected = evs.iter().find_map(|e| match e {
            Event::Rejected(r) => Some(r.clone()),
            _ => None,
        });
        match rejected {
            Some(r) => {
                assert_eq!(st, before, "a refusal changes nothing: {r:?}");
                seen.push(Some(r));
            }
            None => {
                assert_ne!(st, before, "{p:?}");
                seen.push(None);
            }
        }
    }
    let bad_sig = |r: &Option<Rejection>| {
        matches!(
            r,
            Some(Rejection::InvalidCertificate(
                CertificateError::BadSignature { .. }
            ))
        )
    };
    // The relay locks it (the quorum is proven).
    assert_eq!(seen[0], None);
    // The tampered relay is refused although it counted the altered vote.
    assert!(bad_sig(&seen[1]), "{:?}", seen[1]);
    // A re-proposal for attempt 2 is kept for later (R4.4): accepted now.
    assert_eq!(seen[2], None);
    assert!(bad_sig(&seen[3]), "{:?}", seen[3]);
    assert_eq!(seen[4], Some(Rejection::BadJustification { attempt: 2 }));
}
