//! Signatures verified ahead of the node, in one batch (R0.4).
//!
//! A host that receives many messages at once verifies all their signatures
//! with one `verify_batch` and hands the node the set; the node then skips
//! each check the set covers: the signer's position, the exact signing
//! bytes and the signature must all match, so a relay that alters a signed
//! field of a verified message is still refused. If the batch fails, the set
//! is empty and every message is verified on its own, as without it.

use crate::crypto::Signature;
use crate::message::Message;
use crate::registry::Registry;
use crate::vote::SignedVote;
use std::collections::BTreeMap;

/// Signatures known valid: (canonical position, signature) → signing bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verified {
    sigs: BTreeMap<(u32, [u8; 64]), Vec<u8>>,
}

/// The empty set (nothing verified ahead).
pub static NONE: Verified = Verified {
    sigs: BTreeMap::new(),
};

/// Every signature a message carries, as (signer, signing bytes,
/// signature): its own and its certificates' votes (a certificate
/// message's, a re-proposal's justification).
pub fn signatures(m: &Message) -> Vec<(&crate::primitives::NodeId, Vec<u8>, &Signature)> {
    let mut out = Vec::new();
    if let Some(s) = m.signed() {
        out.push((s.signer, s.bytes, s.signature));
    }
    let votes: &[SignedVote] = match m {
        Message::Certificate(cb) => &cb.certificate.votes,
        Message::Proposal(p) => p
            .proposal
            .justification
            .as_ref()
            .map_or(&[][..], |c| c.votes.as_slice()),
        _ => &[],
    };
    for sv in votes {
        out.push((&sv.vote.voter, sv.vote.signing_bytes(), &sv.signature));
    }
    out
}

impl Verified {
    /// Verifies every signature of `msgs` by registered signers in one batch;
    /// all of them if it passes, none if it fails.
    pub fn batch<'m>(registry: &Registry, msgs: impl IntoIterator<Item = &'m Message>) -> Verified {
        let mut sigs = BTreeMap::new();
        for m in msgs {
            for (signer, bytes, sig) in signatures(m) {
                if let Some(pos) = registry.position_of(signer) {
                    sigs.insert((pos as u32, sig.0), bytes);
                }
            }
        }
        let items: Vec<(usize, &[u8], Signature)> = sigs
            .iter()
            .map(|((pos, sig), bytes)| (*pos as usize, bytes.as_slice(), Signature(*sig)))
            .collect();
        let refs: Vec<(usize, &[u8], &Signature)> =
            items.iter().map(|(p, b, s)| (*p, *b, s)).collect();
        if refs.is_empty() || !registry.verify_batch_at(&refs) {
            return Verified::default();
        }
        Verified { sigs }
    }

    /// Every signature of `m` by a registered signer, taken as verified
    /// without a check: for a host replaying its own log of messages it
    /// verified in a batch before, so that it rebuilds exactly what it had.
    pub fn trusting(registry: &Registry, m: &Message) -> Verified {
        let mut sigs = BTreeMap::new();
        for (signer, bytes, sig) in signatures(m) {
            if let Some(pos) = registry.position_of(signer) {
                sigs.insert((pos as u32, sig.0), bytes);
            }
        }
        Verified { sigs }
    }

    /// Whether the signature `sig` of `pos` over `bytes` is in the set.
    pub fn contains(&self, pos: usize, bytes: &[u8], sig: &Signature) -> bool {
        u32::try_from(pos)
            .ok()
            .and_then(|p| self.sigs.get(&(p, sig.0)))
            .is_some_and(|b| b.as_slice() == bytes)
    }

    /// Whether any signature of `m` is in the set.
    pub fn covers(&self, registry: &Registry, m: &Message) -> bool {
        signatures(m).iter().any(|(signer, bytes, sig)| {
            registry
                .position_of(signer)
                .is_some_and(|p| self.contains(p, bytes, sig))
        })
    }

    /// Signatures in the set.
    pub fn len(&self) -> usize {
        self.sigs.len()
    }

    /// Nothing verified.
    pub fn is_empty(&self) -> bool {
        self.sigs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::scenarios::TIERS4;
    use crate::kit::Net;
    use crate::node::{Input, Node};
    use crate::rules::Rules;
    use crate::sim::genesis_tip;

    /// Node 0's inputs for a whole height of four nodes.
    fn height() -> (Net, Vec<Input>) {
        let mut net = Net::new(&TIERS4, Rules::Reference).unwrap();
        let starts: Vec<_> = (0..4).map(|i| (i, net.start(i, false))).collect();
        net.pump(starts, |_, _, _| true);
        let inputs = net.inputs(0);
        (net, inputs)
    }

    fn messages(inputs: &[Input]) -> Vec<&Message> {
        inputs
            .iter()
            .filter_map(|i| match i {
                Input::Message(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_node_given_a_verified_batch_does_exactly_what_it_does_without() {
        let (net, inputs) = height();
        let reg = net.registry.clone();
        let v = Verified::batch(&reg, messages(&inputs));
        assert!(v.len() >= 10, "{} signatures", v.len());
        let ctx = (**net.nodes[0].context()).clone();
        let (mut plain, mut fast) = (
            Node::new(ctx.clone(), genesis_tip()),
            Node::new(ctx, genesis_tip()),
        );
        for i in inputs {
            assert_eq!(plain.handle(i.clone()), fast.handle_verified(i, &v));
            assert_eq!(plain.state(), fast.state());
        }
        assert_eq!(fast.state().tip().height, 1);
    }

    #[test]
    fn an_altered_field_is_refused_even_when_the_original_was_verified() {
        let (net, inputs) = height();
        let reg = net.registry.clone();
        let vote = messages(&inputs)
            .into_iter()
            .find_map(|m| match m {
                Message::Vote(sv) if sv.vote.voter != net.ids[1] => None,
                Message::Vote(sv) => Some(sv.clone()),
                _ => None,
            })
            .unwrap();
        let v = Verified::batch(&reg, [&Message::Vote(vote.clone())]);
        assert_eq!(v.len(), 1);
        let mut tampered = vote.clone();
        tampered.vote.weight += 1;
        let pos = reg.position_of(&vote.vote.voter).unwrap();
        assert!(v.contains(pos, &vote.vote.signing_bytes(), &vote.signature));
        assert!(!v.contains(pos, &tampered.vote.signing_bytes(), &tampered.signature));
        // The node, started, refuses the tampered copy whatever the set says.
        let ctx = (**net.nodes[0].context()).clone();
        let mut node = Node::new(ctx, genesis_tip());
        node.handle(inputs[0].clone());
        let outs = node.handle_verified(Input::Message(Message::Vote(tampered)), &v);
        assert!(
            outs.iter().any(|o| matches!(
                o,
                crate::node::Output::Event(crate::event::Event::Rejected(
                    crate::event::Rejection::BadSignature { .. }
                ))
            )),
            "{outs:?}"
        );
    }

    #[test]
    fn the_node_really_skips_what_the_set_covers() {
        // A vote with a broken signature: refused on its own, counted when
        // the set says it was verified (only a host's own replay may say so).
        let (net, inputs) = height();
        let reg = net.registry.clone();
        let mut vote = messages(&inputs)
            .into_iter()
            .find_map(|m| match m {
                Message::Vote(sv) if sv.vote.voter == net.ids[1] => Some(sv.clone()),
                _ => None,
            })
            .unwrap();
        vote.signature.0[0] ^= 1;
        let m = Message::Vote(vote);
        let ctx = (**net.nodes[0].context()).clone();
        let counted = |v: &Verified| {
            let mut node = Node::new(ctx.clone(), genesis_tip());
            node.handle(inputs[0].clone());
            let outs = node.handle_verified(Input::Message(m.clone()), v);
            !outs.iter().any(|o| {
                matches!(
                    o,
                    crate::node::Output::Event(crate::event::Event::Rejected(_))
                )
            })
        };
        assert!(!counted(&NONE));
        assert!(counted(&Verified::trusting(&reg, &m)));
    }

    #[test]
    fn one_bad_signature_empties_the_batch() {
        let (net, inputs) = height();
        let reg = net.registry.clone();
        let mut msgs: Vec<Message> = messages(&inputs).into_iter().cloned().collect();
        let Some(Message::Vote(sv)) = msgs.iter_mut().find(|m| matches!(m, Message::Vote(_)))
        else {
            panic!("a vote")
        };
        sv.signature.0[0] ^= 1;
        assert!(Verified::batch(&reg, msgs.iter()).is_empty());
        assert!(Verified::batch(&reg, std::iter::empty()).is_empty());
    }
}
