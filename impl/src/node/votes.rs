//! Votes and certificates: casting, counting and quorums (R5, R6.1-R6.3,
//! S5, S6.1), certificates relayed (R6.4) and finality proofs (R7.5).

use super::act::Act;
use super::*;

impl Act<'_> {
    pub(super) fn cast_vote(&mut self, attempt: u32, step: Step, hash: Hash32, approve: bool) {
        let vote = Vote {
            height: self.height(),
            attempt,
            step,
            voter: self.ctx.me.clone(),
            block_hash: hash,
            approve,
            weight: self.r.hc.declared_weight,
        };
        let sv = vote.sign(&self.ctx.keypair);
        match step {
            Step::Approve => self.r.voted = true,
            Step::Commit => self.r.committed = true,
        }
        self.emit(Event::VoteSent {
            attempt,
            step,
            block_hash: hash,
            approve,
        });
        self.out.push(Output::Broadcast(Message::Vote(sv.clone())));
        self.record_vote(sv, self.ctx.my_pos);
    }

    /// R5.1 / S5.1: a vote of a step these rules have, checked and counted.
    pub(super) fn on_vote(&mut self, sv: SignedVote) {
        let v = &sv.vote;
        if self.ctx.two_step() {
            if !v.approve {
                self.reject(Rejection::NotAVote);
                return;
            }
            if !self.attempt_acceptable(v.attempt) {
                return;
            }
        } else if v.step == Step::Commit {
            self.reject(Rejection::NotInRules {
                what: Unsupported::CommitVote,
            });
            return;
        } else if self.ctx.rules.has(Amendment::RegistryWeights) && !self.within_window(v.attempt) {
            // A2 keeps a tally per attempt: the same window as R4.4 bounds
            // how many a stranger to the attempt can make the node keep.
            self.reject(Rejection::WrongAttempt {
                current: self.r.attempt,
                got: v.attempt,
            });
            return;
        }
        let Some(pos) = self.authenticate(sv.signed()) else {
            return;
        };
        self.record_vote(sv, pos);
    }

    /// R5.4-R5.6 (A2) or S6.1 (pooled): counts a vote once, and reacts.
    pub(super) fn record_vote(&mut self, sv: SignedVote, pos: usize) {
        let v = &sv.vote;
        if !self.ctx.rules.has(Amendment::RegistryWeights) {
            // S6.1: one vote per voter id for the whole height.
            if self.r.pooled.contains_key(&v.voter) {
                self.reject(Rejection::Duplicate {
                    what: MessageKind::Vote,
                    from: v.voter.clone(),
                });
                return;
            }
            self.r.pooled.insert(v.voter.clone(), v.clone());
            self.emit(Event::VoteReceived {
                voter: v.voter.clone(),
                attempt: v.attempt,
                step: v.step,
                approve: v.approve,
                weight: v.weight,
            });
            return;
        }
        let weight = self.r.hc.weights.weight(pos);
        let n = self.ctx.registry.len();
        if self.ctx.two_step() && self.r.step_decided(v.attempt, v.step) {
            // R5.8: once a step of an attempt has its quorum, later votes of
            // that step and attempt cannot change what this node does.
            self.emit(Event::VoteIgnored {
                voter: v.voter.clone(),
                attempt: v.attempt,
                step: v.step,
            });
            return;
        }
        let rec = VoteRecord {
            approve: v.approve,
            declared: v.weight,
            signature: sv.signature,
        };
        let tally = self
            .r
            .tallies
            .get_or_insert_with((v.attempt, v.step), || Tally::new(n));
        match tally.insert(pos, v.block_hash, weight, rec) {
            Insert::Counted { .. } => {}
            Insert::Duplicate => {
                self.reject(Rejection::Duplicate {
                    what: MessageKind::Vote,
                    from: v.voter.clone(),
                });
                return;
            }
            Insert::Equivocation { first } => {
                // The tally reports the voter's first vote, so it holds it.
                let Some(r) = tally.get(pos).map(|(_, r)| *r) else {
                    return;
                };
                let first = SignedVote {
                    vote: Vote {
                        block_hash: first,
                        approve: r.approve,
                        weight: r.declared,
                        ..v.clone()
                    },
                    signature: r.signature,
                };
                self.reject(Rejection::Equivocation(Evidence::DoubleVote {
                    first: Box::new(first),
                    second: Box::new(sv),
                }));
                return;
            }
        }
        self.emit(Event::VoteReceived {
            voter: v.voter.clone(),
            attempt: v.attempt,
            step: v.step,
            approve: v.approve,
            weight,
        });
        if self.ctx.two_step() {
            let (attempt, hash) = (v.attempt, v.block_hash);
            match v.step {
                Step::Approve => self.check_approve_quorum(attempt, hash),
                Step::Commit => self.check_commit_quorum(attempt, hash),
            }
        }
    }

    pub(super) fn certificate(&self, attempt: u32, step: Step, hash: Hash32) -> Certificate {
        let t = &self.r.tallies[&(attempt, step)];
        let votes = t
            .votes_for(&hash)
            .map(|(pos, rec)| SignedVote {
                vote: Vote {
                    height: self.height(),
                    attempt,
                    step,
                    voter: self.member_id(pos),
                    block_hash: hash,
                    approve: rec.approve,
                    weight: rec.declared,
                },
                signature: rec.signature,
            })
            .collect();
        Certificate {
            height: self.height(),
            attempt,
            step,
            block_hash: hash,
            votes,
        }
    }

    /// R6.1: an approve quorum counted for a known block.
    pub(super) fn check_approve_quorum(&mut self, attempt: u32, hash: Hash32) {
        self.check_quorum(attempt, Step::Approve, hash);
    }

    /// R7.4: a commit quorum counted for a known block, in any attempt.
    pub(super) fn check_commit_quorum(&mut self, attempt: u32, hash: Hash32) {
        self.check_quorum(attempt, Step::Commit, hash);
    }

    pub(super) fn check_quorum(&mut self, attempt: u32, step: Step, hash: Hash32) {
        let w = self
            .r
            .tallies
            .get(&(attempt, step))
            .map_or(0, |t| t.weight_of(&hash));
        if self.done() || w < self.r.hc.weights.quorum() || !self.r.blocks.contains_key(&hash) {
            return;
        }
        self.on_quorum(attempt, step, hash, w, None);
    }

    /// Acts on a quorum of `step` for known block `hash` in `attempt`, proven
    /// by the votes counted here (`proof` none: the certificate is made of
    /// them) or by a verified certificate (R6.4): the same action either way.
    /// - Approve (R6.1): if it raises the valid block (R6.3), keep and relay
    ///   it (R6.4); then, in the current attempt, lock and commit (R6.2).
    /// - Commit (R7.4): finalize, broadcasting the finality proof (R7.5).
    pub(super) fn on_quorum(
        &mut self,
        attempt: u32,
        step: Step,
        hash: Hash32,
        weight: u64,
        proof: Option<Arc<Certificate>>,
    ) {
        // One copy of the certificate, shared by what the node keeps and
        // what it sends.
        let proof =
            |me: &Self| proof.unwrap_or_else(|| Arc::new(me.certificate(attempt, step, hash)));
        match step {
            Step::Approve => {
                if self.r.valid.as_ref().is_none_or(|j| j.attempt < attempt) {
                    let cert = proof(self);
                    self.r.valid = Some(Justified {
                        attempt,
                        block_hash: hash,
                        certificate: cert.clone(),
                    });
                    self.out
                        .push(Output::Broadcast(Message::Certificate(CertifiedBlock {
                            block: self.r.blocks[&hash].clone(),
                            certificate: cert,
                        })));
                }
                if attempt == self.r.attempt && self.r.started && !self.r.committed {
                    self.r.locked = Some((attempt, hash));
                    self.emit(Event::Locked {
                        attempt,
                        block_hash: hash,
                    });
                    self.set_phase(Phase::ConsensusCollection);
                    self.cast_vote(attempt, Step::Commit, hash, true);
                }
            }
            Step::Commit => {
                if self.done() {
                    return;
                }
                self.emit(Event::ConsensusReached {
                    attempt,
                    approval_weight: weight,
                    total_weight: self.r.hc.weights.total(),
                });
                let proof = CertifiedBlock {
                    block: self.r.blocks[&hash].clone(),
                    certificate: proof(self),
                };
                self.out
                    .push(Output::Broadcast(Message::Certificate(proof.clone())));
                self.finalize(hash, attempt, false, Some(Arc::new(proof)));
            }
        }
    }

    /// After a block becomes known: quorums counted before it arrived.
    pub(super) fn recheck_block(&mut self, hash: Hash32) {
        let keys: Vec<(u32, Step)> = self
            .r
            .tallies
            .iter()
            .filter(|(_, t)| t.weight_of(&hash) > 0)
            .map(|(k, _)| *k)
            .collect();
        for (attempt, step) in keys {
            if self.done() {
                return;
            }
            self.check_quorum(attempt, step, hash);
        }
    }

    // ---- phases 6 and 7: certificates ----

    /// R6.4, R7.5: a certified block is its block plus a bundle of votes that
    /// proves a quorum by itself. Its new votes count as if received; then
    /// the quorum it proves is acted on even where this node's own tally
    /// lacks it (an equivocating voter's other vote counted first, or the
    /// step's votes ignored after a quorum counted before the block was
    /// known); then, if the block is new here, the quorums counted for it
    /// before it arrived (R6.1).
    pub(super) fn on_certificate(&mut self, cb: CertifiedBlock) {
        if !self.ctx.two_step() {
            self.reject(Rejection::NotInRules {
                what: Unsupported::Certificate,
            });
            return;
        }
        let cert = &cb.certificate;
        if !self.attempt_acceptable(cert.attempt) {
            return;
        }
        let hash = cb.block.hash();
        if let Err(e) = self.r.hc.block.validate(&cb.block) {
            self.reject(Rejection::InvalidBlock(e));
            return;
        }
        let weight = match self.check_certificate(cert, cert.step, &hash) {
            Ok(w) => w,
            Err(r) => {
                self.reject(r);
                return;
            }
        };
        let (attempt, step) = (cert.attempt, cert.step);
        let new_block = !self.r.blocks.contains_key(&hash);
        if new_block {
            self.r.blocks.insert(hash, cb.block.clone());
        }
        for sv in &cb.certificate.votes {
            let Some(pos) = self.ctx.registry.position_of(&sv.vote.voter) else {
                continue; // verify_certificate refused strangers
            };
            let counted = self
                .r
                .tallies
                .get(&(attempt, step))
                .is_some_and(|t| t.get(pos).is_some());
            if !counted {
                self.record_vote(sv.clone(), pos);
                if self.done() {
                    return;
                }
            }
        }
        let proof = Arc::new(self.rebuilt(cert));
        self.on_quorum(attempt, step, hash, weight, Some(proof));
        if new_block && !self.done() {
            self.recheck_block(hash);
        }
    }

    // ---- timers ----
}
