//! Receiving a proposal: who may propose and in which attempts, one per
//! attempt, the block and its justification (R4.2-R4.5, R3, R6.5, S4), and
//! approving it (R5.7).

use super::act::Act;
use super::*;

impl Act<'_> {
    pub(super) fn on_proposal(&mut self, sp: SignedProposal) {
        let p = &sp.proposal;
        if !self.r.started {
            // Still in phase 1: seed nodes drop it; reference nodes keep it
            // for when they start (R4.4).
            if !self.ctx.two_step() {
                self.reject(Rejection::WrongAttempt {
                    current: 0,
                    got: p.attempt,
                });
                return;
            }
        }
        if !self.attempt_acceptable(p.attempt) {
            return;
        }
        let Some(pos) = self.authenticate(sp.signed()) else {
            return;
        };
        self.accept_proposal(sp, pos);
    }

    /// S4.1: the current attempt only. R4.4: past attempts (their blocks may
    /// still be decided) and up to `max_future_attempts` ahead.
    pub(super) fn attempt_acceptable(&mut self, attempt: u32) -> bool {
        let current = self.r.attempt;
        let ok = if self.ctx.two_step() {
            self.within_window(attempt)
        } else {
            attempt == current && self.r.started
        };
        if !ok {
            self.reject(Rejection::WrongAttempt {
                current,
                got: attempt,
            });
        }
        ok
    }

    /// R4.4's window ([`Round::within_window`]).
    pub(super) fn within_window(&self, attempt: u32) -> bool {
        self.r.within_window(self.ctx, attempt)
    }

    pub(super) fn accept_proposal(&mut self, sp: SignedProposal, pos: usize) {
        let attempt = sp.proposal.attempt;
        let hash = sp.proposal.block.hash();
        // R4.3: only the elected leader of the attempt proposes.
        let leader = self.r.hc.leader(self.ctx, attempt);
        if leader != Some(pos as u32) {
            let expected = leader.map(|l| self.member_id(l as usize));
            self.reject(Rejection::NotLeader {
                attempt,
                expected,
                got: sp.proposal.proposer.clone(),
            });
            return;
        }
        // R4.5: one proposal per attempt; a second different one is evidence.
        if let Some(first) = self.r.proposals.get(&attempt) {
            if first.block_hash == hash && first.valid_attempt == sp.proposal.valid_attempt {
                self.reject(Rejection::Duplicate {
                    what: MessageKind::Proposal,
                    from: sp.proposal.proposer.clone(),
                });
            } else {
                self.reject(Rejection::Equivocation(Evidence::DoubleProposal {
                    first_block: first.block_hash,
                    first_valid_attempt: first.valid_attempt,
                    first_signature: first.signature,
                    second: Box::new(sp),
                }));
            }
            return;
        }
        let validity = self.check_proposed_block(&sp.proposal);
        if self.ctx.two_step() {
            if let Err(r) = validity {
                self.reject(r);
                return;
            }
            let learned = match &sp.proposal.justification {
                Some(cert) => self.learn_justification(cert),
                None => false,
            };
            self.r.proposals.insert(
                attempt,
                ProposalRecord {
                    block_hash: hash,
                    valid_attempt: sp.proposal.valid_attempt,
                    signature: sp.signature,
                    valid: true,
                },
            );
            self.r.blocks.insert(hash, sp.proposal.block.clone());
            self.emit(Event::ProposalAccepted {
                attempt,
                proposer: sp.proposal.proposer.clone(),
                block_hash: hash,
            });
            if attempt == self.r.attempt && self.r.started {
                self.try_approve(attempt, hash, sp.proposal.valid_attempt);
            }
            // A block that arrives late may complete quorums already counted.
            self.recheck_block(hash);
            // R6.2: a justification of this node's current attempt (in a
            // proposal for a later one), as a certificate message would.
            if learned {
                self.lock_on_held_certificate();
            }
        } else {
            // S5.1: validate, then vote; an invalid block gets a vote against.
            let valid = validity.is_ok();
            if let Err(r) = validity {
                self.reject(r);
            } else {
                self.r.blocks.insert(hash, sp.proposal.block.clone());
                self.emit(Event::ProposalAccepted {
                    attempt,
                    proposer: sp.proposal.proposer.clone(),
                    block_hash: hash,
                });
            }
            self.r.proposals.insert(
                attempt,
                ProposalRecord {
                    block_hash: hash,
                    valid_attempt: None,
                    signature: sp.signature,
                    valid,
                },
            );
            let height = self.height();
            self.out
                .push(Output::CancelTimer(Timer::Leader { height, attempt }));
            self.cast_vote(attempt, Step::Approve, hash, valid);
            let secs = self.plan(attempt).voting_window_secs;
            self.out.push(Output::SetTimer {
                timer: Timer::VotingWindow { height, attempt },
                after_ms: secs * 1000,
            });
            self.set_phase(Phase::VotingWindow);
        }
    }

    /// R3.6, R4.1: the block is valid for the height; a fresh block has
    /// the attempt's kind; a re-proposal carries an approve certificate of an
    /// earlier attempt for exactly this block.
    pub(super) fn check_proposed_block(&self, p: &Proposal) -> Result<(), Rejection> {
        self.r
            .hc
            .block
            .validate(&p.block)
            .map_err(Rejection::InvalidBlock)?;
        match (p.valid_attempt, &p.justification) {
            (None, None) => {
                let expected = self.plan(p.attempt).kind;
                if p.block.header.kind != expected {
                    return Err(Rejection::WrongBlockKind {
                        attempt: p.attempt,
                        expected,
                        got: p.block.header.kind,
                    });
                }
                Ok(())
            }
            (Some(vr), Some(cert))
                if self.ctx.two_step() && vr < p.attempt && cert.attempt == vr =>
            {
                self.check_certificate(cert, Step::Approve, &p.block.hash())
                    .map(|_| ())
            }
            _ => Err(Rejection::BadJustification { attempt: p.attempt }),
        }
    }

    /// R5.5: whether `cert` proves a quorum of `step` for `block` at this
    /// height; its weight if so.
    pub(super) fn check_certificate(
        &self,
        cert: &Certificate,
        step: Step,
        block: &Hash32,
    ) -> Result<u64, Rejection> {
        use crate::message::CertificateError as E;
        if cert.step != step {
            return Err(Rejection::InvalidCertificate(E::WrongStep {
                expected: step,
            }));
        }
        if cert.block_hash != *block {
            return Err(Rejection::InvalidCertificate(E::WrongBlock {
                certified: cert.block_hash,
                block: *block,
            }));
        }
        if cert.height != self.height() {
            return Err(Rejection::WrongHeight {
                expected: self.height(),
                got: cert.height,
            });
        }
        // R5.5: a vote verified and counted here may skip its signature, but
        // only if every signed field is the one counted (the tally's key
        // fixes height, attempt, step and voter; verify_certificate checks
        // them against the certificate). A relay cannot alter a counted vote.
        let known = |pos: usize, sv: &SignedVote| {
            self.r
                .tallies
                .get(&(cert.attempt, cert.step))
                .and_then(|t| t.get(pos))
                .is_some_and(|(h, rec)| {
                    *h == sv.vote.block_hash
                        && rec.signature == sv.signature
                        && rec.declared == sv.vote.weight
                        && rec.approve == sv.vote.approve
                })
                || self
                    .verified
                    .contains(pos, &sv.vote.signing_bytes(), &sv.signature)
        };
        verify_certificate(&self.ctx.registry, &self.r.hc.weights, cert, known)
            .map_err(Rejection::InvalidCertificate)
    }

    /// A verified certificate as this node keeps and relays it: its votes in
    /// canonical voter order (R5.5), never the received copy's order.
    pub(super) fn rebuilt(&self, cert: &Certificate) -> Certificate {
        let mut votes = cert.votes.clone();
        votes.sort_by_key(|sv| self.ctx.registry.position_of(&sv.vote.voter));
        Certificate {
            votes,
            ..cert.clone()
        }
    }

    /// R6.3: keep the highest approve certificate seen.
    pub(super) fn learn_justification(&mut self, cert: &Certificate) -> bool {
        if self
            .r
            .valid
            .as_ref()
            .is_some_and(|j| j.attempt >= cert.attempt)
        {
            return false;
        }
        self.r.valid = Some(Justified {
            attempt: cert.attempt,
            block_hash: cert.block_hash,
            certificate: Arc::new(self.rebuilt(cert)),
        });
        true
    }

    // ---- phase 5: voting ----

    /// R5.7: approve unless locked on another block, or the proposal carries
    /// a justification from at least the lock's attempt.
    pub(super) fn try_approve(&mut self, attempt: u32, hash: Hash32, valid_attempt: Option<u32>) {
        if self.r.voted || !self.r.blocks.contains_key(&hash) {
            return;
        }
        if let Some((la, lh)) = self.r.locked {
            if lh != hash && valid_attempt.is_none_or(|v| v < la) {
                self.emit(Event::NotApproved {
                    attempt,
                    block_hash: hash,
                    locked: (la, lh),
                });
                return;
            }
        }
        self.set_phase(Phase::VotingWindow);
        self.cast_vote(attempt, Step::Approve, hash, true);
    }
}
