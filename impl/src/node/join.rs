//! R7.8: a node that took no part in height `h` (a masternode registered
//! from `h + 1` on) starts from `h`'s finality proof, checked against `h`'s
//! own registry, since its context holds `h + 1`'s.

use super::*;
use crate::block::BlockError;
use crate::message::CertificateError;

/// Why a finality proof cannot give a node its tip (R7.8).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// The rules have no finality proofs (they come with A3).
    #[error("the rules have no finality proofs (A3), so no node can join from one")]
    NoProofs,
    /// The proof is not of the height above the tip the host has.
    #[error("the proof is of height {got}, the height above the tip is {expected}")]
    Height {
        /// The height above the host's tip.
        expected: u64,
        /// The certificate's height.
        got: u64,
    },
    /// The block is not a valid block of that height on that tip (R3.6).
    #[error("the proof's block is invalid: {0}")]
    Block(#[from] BlockError),
    /// The certificate does not prove a commit quorum for the block (R5.5).
    #[error("the proof's certificate is invalid: {0}")]
    Certificate(#[from] CertificateError),
}

/// What a host knows of the height it joins after.
#[derive(Clone, Copy, Debug)]
pub struct Joining<'a> {
    /// That height's registry (the node's context holds the next one's).
    pub registry: &'a Registry,
    /// The tip below it, which the host has.
    pub tip: Tip,
    /// The local date the height would have been started with (its weights
    /// follow the chain's date under A5, this one under the seed rules).
    pub date: Date,
}

impl Joining<'_> {
    /// R7.8: checks `proof`, a finality proof (R7.5) of the height above
    /// `tip`, against that height's registry: a commit certificate of that
    /// height for the block, whose distinct registered voters carry valid
    /// signatures and weigh the quorum (R5.5, R2.2), and a block valid on
    /// `tip` (R3.6). The state returned has decided that height with the
    /// proof (so it answers that height's laggards, R7.6) and starts the next
    /// one at `start` (R0.6). A refused proof changes nothing.
    pub fn check(
        &self,
        rules: Rules,
        config: &OrchestratorConfig,
        proof: &Arc<CertifiedBlock>,
    ) -> Result<NodeState, JoinError> {
        if !rules.has(Amendment::TwoStepLocking) {
            return Err(JoinError::NoProofs);
        }
        let height = self.tip.height.saturating_add(1);
        let cert = &proof.certificate;
        if cert.height != height {
            return Err(JoinError::Height {
                expected: height,
                got: cert.height,
            });
        }
        let hash = proof.block.hash();
        if cert.step != Step::Commit {
            return Err(CertificateError::WrongStep {
                expected: Step::Commit,
            }
            .into());
        }
        if cert.block_hash != hash {
            return Err(CertificateError::WrongBlock {
                certified: cert.block_hash,
                block: hash,
            }
            .into());
        }
        height::block_context(config, self.registry, height, self.tip.hash)
            .validate(&proof.block)?;
        let weights = height_weights(rules, self.registry, config, height, self.date);
        verify_certificate(self.registry, &weights, cert, |_, _| false)?;
        // Kept and answered with (R7.6) in canonical voter order (R7.5),
        // whatever order the peer that sent it used.
        let mut votes = cert.votes.clone();
        votes.sort_by_key(|sv| self.registry.position_of(&sv.vote.voter));
        if votes == cert.votes {
            return Ok(NodeState::resumed(proof.clone()));
        }
        let certificate = Arc::new(Certificate {
            votes,
            ..(**cert).clone()
        });
        Ok(NodeState::resumed(Arc::new(CertifiedBlock {
            block: proof.block.clone(),
            certificate,
        })))
    }
}

impl Node {
    /// A node of `ctx` (the next height's context) on top of the block
    /// `proof` finalizes, if it passes R7.8's checks under `joining`. A
    /// host that will try other proofs keeps a clone of `ctx` (or calls
    /// [`Joining::check`] first): a refused proof consumes it.
    pub fn join(
        ctx: Context,
        joining: Joining<'_>,
        proof: &Arc<CertifiedBlock>,
    ) -> Result<Self, JoinError> {
        let state = joining.check(ctx.rules, &ctx.config, proof)?;
        Ok(Node {
            ctx: Arc::new(ctx),
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SignatureScheme;
    use crate::kit::scenarios::{normal_height, NormalHeight, TIERS4};
    use crate::kit::{events, Net};
    use crate::registry::Tier;
    use crate::sim::test_network;

    /// A normal height of four, its finality proof, and the context of
    /// mn004, registered from height 2 on with the four.
    fn height_1() -> (Net, Arc<CertifiedBlock>, Context) {
        let NormalHeight { net, .. } = normal_height(Rules::Reference).unwrap();
        let proof = Arc::new(net.nodes[0].state().finality_proof().unwrap().clone());
        let registered = net.registry.member(0).registered_at;
        let tiers = [TIERS4.as_slice(), &[Tier::Bronze]].concat();
        let (registry2, keys) =
            test_network(5, &tiers, SignatureScheme::Ed25519, registered).unwrap();
        let ctx = Context::new(keys[4].clone(), registry2, net.rules, net.config.clone()).unwrap();
        (net, proof, ctx)
    }

    fn joining(net: &Net) -> Joining<'_> {
        Joining {
            registry: &net.registry,
            tip: crate::sim::genesis_tip(),
            date: net.date,
        }
    }

    #[test]
    fn a_member_of_height_2_joins_from_height_1_s_proof_and_starts_height_2() {
        let (net, proof, ctx) = height_1();
        let mut node = Node::join(ctx, joining(&net), &proof).unwrap();
        let d = node.state().last_decision().unwrap();
        assert_eq!(node.state().tip(), net.nodes[0].state().tip());
        assert_eq!(Some(d), net.nodes[0].state().last_decision());
        // It answers height 1's laggards with the proof (R7.6).
        assert_eq!(node.state().finality_proof(), Some(&*proof));
        let outs = node.handle(Input::Start(StartHeight {
            date: net.date,
            mempool: Vec::new(),
            presynchronized: true,
        }));
        assert!(events(&outs).contains(&Event::ProtocolStarted { block_height: 2 }));
    }

    #[test]
    fn a_proof_in_another_voter_order_is_kept_in_canonical_order() {
        let (net, proof, _) = height_1();
        let mut reversed = (*proof).clone();
        let mut c = (*reversed.certificate).clone();
        c.votes.reverse();
        assert_ne!(c.votes, proof.certificate.votes);
        reversed.certificate = Arc::new(c);
        let state = joining(&net)
            .check(net.rules, &net.config, &Arc::new(reversed))
            .unwrap();
        assert_eq!(state.finality_proof(), Some(&*proof));
    }

    #[test]
    fn a_proof_that_fails_a_check_is_refused_with_the_check() {
        let (net, proof, ctx) = height_1();
        let refused = |j: Joining<'_>, rules: Rules, p: &Arc<CertifiedBlock>| {
            j.check(rules, &net.config, p).unwrap_err()
        };
        let j = joining(&net);
        let edit = |f: &dyn Fn(&mut CertifiedBlock)| {
            let mut p = (*proof).clone();
            f(&mut p);
            Arc::new(p)
        };
        let cert = |f: &dyn Fn(&mut Certificate)| {
            edit(&|p| {
                let mut c = (*p.certificate).clone();
                f(&mut c);
                p.certificate = Arc::new(c);
            })
        };
        assert_eq!(refused(j, Rules::Seed, &proof), JoinError::NoProofs);
        let at_1 = Joining {
            tip: net.nodes[0].state().tip(),
            ..j
        };
        assert_eq!(
            refused(at_1, net.rules, &proof),
            JoinError::Height {
                expected: 2,
                got: 1
            }
        );
        let approve = cert(&|c| c.step = Step::Approve);
        assert!(matches!(
            refused(j, net.rules, &approve),
            JoinError::Certificate(CertificateError::WrongStep { .. })
        ));
        let other = edit(&|p| {
            let mut b = (*p.block).clone();
            b.header.timestamp += 1;
            p.block = Arc::new(b);
        });
        assert!(matches!(
            refused(j, net.rules, &other),
            JoinError::Certificate(CertificateError::WrongBlock { .. })
        ));
        let elsewhere = Joining {
            tip: Tip {
                height: 0,
                hash: proof.block.hash(),
            },
            ..j
        };
        assert!(matches!(
            refused(elsewhere, net.rules, &proof),
            JoinError::Block(_)
        ));
        // The quorum is 10 of 15: the votes but the Gold one (8) fall short.
        let gold = &net.ids[0];
        let short = cert(&|c| c.votes.retain(|v| v.vote.voter != *gold));
        assert!(matches!(
            refused(j, net.rules, &short),
            JoinError::Certificate(CertificateError::BelowQuorum { .. })
        ));
        let forged = cert(&|c| c.votes[0].signature = c.votes[1].signature);
        assert!(matches!(
            refused(j, net.rules, &forged),
            JoinError::Certificate(CertificateError::BadSignature { index: 0, .. })
        ));
        // Against height 2's registry the block is not height 1's: its
        // coinbase pays height 1's members (R3.2).
        let r2 = ctx.registry().clone();
        let wrong = Joining { registry: &r2, ..j };
        let e = refused(wrong, net.rules, &proof);
        assert!(matches!(e, JoinError::Block(_)), "{e:?}");
    }
}
