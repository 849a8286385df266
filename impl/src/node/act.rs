//! One input applied to a round ([`Act`]): authentication, phase 1 (R1,
//! S1), entering an attempt (R7.1) and the leader's proposal (R3, R4.1).

use super::*;

/// One input being applied to a round.
pub(super) struct Act<'a> {
    pub(super) ctx: &'a Context,
    pub(super) r: &'a mut Round,
    pub(super) out: &'a mut Vec<Output>,
    pub(super) decided: Option<(Decision, Option<Arc<CertifiedBlock>>)>,
    pub(super) gave_up: bool,
    /// Signatures the host verified ahead (R0.4).
    pub(super) verified: &'a Verified,
}

impl<'a> Act<'a> {
    pub(super) fn new(
        ctx: &'a Context,
        r: &'a mut Round,
        out: &'a mut Vec<Output>,
        verified: &'a Verified,
    ) -> Self {
        Act {
            ctx,
            r,
            out,
            decided: None,
            gave_up: false,
            verified,
        }
    }

    pub(super) fn done(&self) -> bool {
        self.decided.is_some() || self.gave_up
    }

    pub(super) fn emit(&mut self, e: Event) {
        self.out.push(Output::Event(e));
    }

    pub(super) fn reject(&mut self, r: Rejection) {
        self.out.push(Output::Event(Event::Rejected(r)));
    }

    pub(super) fn set_phase(&mut self, to: Phase) {
        if self.r.phase != to {
            let from = std::mem::replace(&mut self.r.phase, to);
            self.emit(Event::PhaseTransition { from, to });
        }
    }

    pub(super) fn height(&self) -> u64 {
        self.r.hc.height
    }

    pub(super) fn plan(&self, attempt: u32) -> AttemptPlan {
        plan(self.ctx.rules, &self.ctx.config, attempt)
    }

    pub(super) fn member_id(&self, pos: usize) -> NodeId {
        self.ctx.registry.at_position(pos).node_id.clone()
    }

    /// Resolves a signer and checks its signature (R0.5).
    pub(super) fn authenticate(&mut self, s: crate::message::Signed<'_>) -> Option<usize> {
        let Some(pos) = self.ctx.registry.position_of(s.signer) else {
            self.reject(Rejection::UnknownSigner {
                node: s.signer.clone(),
            });
            return None;
        };
        if !self.verified.contains(pos, &s.bytes, s.signature)
            && !self.ctx.registry.verify_at(pos, &s.bytes, s.signature)
        {
            self.reject(Rejection::BadSignature {
                signer: s.signer.clone(),
                what: s.kind,
            });
            return None;
        }
        Some(pos)
    }

    // ---- phase 1 ----

    /// R1.1: this node's signed heartbeat.
    pub(super) fn own_heartbeat(&self) -> SignedHeartbeat {
        let me = self.ctx.registry.at_position(self.ctx.my_pos);
        let hb = Heartbeat {
            node_id: self.ctx.me.clone(),
            timestamp: self.r.hc.block.timestamp,
            block_height: self.height() - 1,
            chain_tip_hash: self.r.hc.previous_hash,
            tier: me.tier,
            version: self.ctx.config.version.clone(),
            reputation_milli: me.reputation_milli,
            days_active: days_active(self.r.hc.date, me.registered_at),
        };
        hb.sign(&self.ctx.keypair)
    }

    pub(super) fn on_heartbeat(&mut self, hb: SignedHeartbeat) {
        if self.r.sync.is_none() {
            self.reject(Rejection::NotCollecting);
            return;
        }
        let Some(pos) = self.authenticate(hb.signed()) else {
            return;
        };
        self.heartbeat(hb, pos);
    }

    /// R1.2-R1.3 / S1.1-S1.3: records a heartbeat and checks for
    /// synchronization.
    pub(super) fn heartbeat(&mut self, hb: SignedHeartbeat, pos: usize) {
        let state = (hb.heartbeat.block_height, hb.heartbeat.chain_tip_hash);
        // Only called while phase 1 collects.
        let Some(sync) = self.r.sync.as_mut() else {
            return;
        };
        match sync[pos] {
            // S1.1: the deployed map insert replaces an earlier heartbeat.
            Some(old) if old == state || self.ctx.rules.has(Amendment::WeightedSync) => {
                self.reject(Rejection::Duplicate {
                    what: MessageKind::Heartbeat,
                    from: hb.heartbeat.node_id,
                });
                return;
            }
            _ => sync[pos] = Some(state),
        }
        self.emit(Event::HeartbeatReceived {
            node_id: hb.heartbeat.node_id,
        });
        let Some(sync) = self.r.sync.as_ref() else {
            return;
        };
        let received = sync.iter().flatten().count();
        let complete = if self.ctx.rules.has(Amendment::WeightedSync) {
            let w = &self.r.hc.weights;
            let own = (self.height() - 1, &self.r.hc.previous_hash);
            weighted_sync_complete(
                own,
                sync.iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.as_ref().map(|(h, t)| (*h, t, w.weight(i)))),
                w.quorum(),
            )
        } else {
            let agreement = chain_agreement(sync.iter().flatten().map(|(h, t)| (*h, t)));
            seed_sync_complete(self.ctx.registry.len(), &agreement)
        };
        if complete {
            self.r.sync = None;
            self.out.push(Output::CancelTimer(Timer::Heartbeat {
                height: self.height(),
            }));
            self.emit(Event::Synchronized {
                heartbeats: received,
            });
            self.set_phase(Phase::LeaderElection);
            self.start_attempt(0, None);
        }
    }

    // ---- attempts ----

    pub(super) fn attempt_timers(&self, attempt: u32) -> [Timer; 3] {
        let height = self.height();
        [
            Timer::Leader { height, attempt },
            Timer::VotingWindow { height, attempt },
            Timer::Attempt { height, attempt },
        ]
    }

    /// Enters `attempt` (R7.1-R7.3, S7.1-S7.3).
    pub(super) fn start_attempt(&mut self, attempt: u32, reason: Option<FallbackReason>) {
        if self.r.started {
            for t in self.attempt_timers(self.r.attempt) {
                self.out.push(Output::CancelTimer(t));
            }
        }
        self.r.started = true;
        self.r.attempt = attempt;
        self.r.voted = false;
        self.r.committed = false;
        let p = self.plan(attempt);
        if let Some(reason) = reason {
            self.emit(Event::FallbackInitiated {
                attempt,
                reason,
                strategy: p.strategy,
            });
        }
        let height = self.height();
        if p.leader == LeaderRule::Leaderless {
            self.emit(Event::EmergencyBlock {
                attempt,
                unilateral: p.unilateral_emergency,
            });
            self.set_phase(Phase::EmergencyFallback);
            if p.unilateral_emergency {
                // S7.3, flaw 4: accepted on the node's own say-so.
                let e = self.r.hc.block.emergency.hash();
                self.finalize(e, attempt, true, None);
                return;
            }
        }
        let two_step = self.ctx.two_step();
        if two_step {
            // R7.2; under A7 each attempt waits longer than the one before,
            // so nodes whose starts differ by a fixed skew come to overlap.
            let grows = self.ctx.rules.has(Amendment::AttemptSync);
            let after_ms = self
                .ctx
                .config
                .attempt_timeout_ms(attempt, p.voting_window_secs, grows);
            self.out.push(Output::SetTimer {
                timer: Timer::Attempt { height, attempt },
                after_ms,
            });
        } else {
            self.out.push(Output::SetTimer {
                timer: Timer::Leader { height, attempt },
                after_ms: self.ctx.config.fallback_config.leader_timeout_secs * 1000,
            });
        }
        match self.r.hc.leader(self.ctx, attempt) {
            Some(leader) => {
                let id = self.member_id(leader as usize);
                let weight = self.r.hc.weights.weight(leader as usize);
                self.emit(Event::LeaderElected {
                    attempt,
                    leader: id,
                    weight,
                });
                if leader as usize == self.ctx.my_pos {
                    self.set_phase(Phase::BlockConstruction);
                    self.propose(attempt, p);
                } else {
                    self.set_phase(Phase::ProposalDistribution);
                }
            }
            None => {
                // R7.3: no leader; the node's valid block, else the canonical
                // emergency block, is its proposal.
                let (hash, vr) = match &self.r.valid {
                    Some(j) => (j.block_hash, Some(j.attempt)),
                    None => (self.r.hc.block.emergency.hash(), None),
                };
                self.try_approve(attempt, hash, vr);
            }
        }
        if self.done() {
            return;
        }
        if two_step {
            // Messages buffered for this attempt.
            if let Some(rec) = self.r.proposals.get(&attempt).cloned() {
                self.try_approve(attempt, rec.block_hash, rec.valid_attempt);
            }
            let hashes: Vec<Hash32> = self
                .r
                .tallies
                .get(&(attempt, Step::Approve))
                .map(|t| t.sums().iter().map(|(h, _)| *h).collect())
                .unwrap_or_default();
            for h in hashes {
                if self.done() {
                    return;
                }
                self.check_approve_quorum(attempt, h);
            }
            // R6.2: an approve certificate of this attempt received before
            // it (a node behind, or still in phase 1).
            self.lock_on_held_certificate();
        }
    }

    /// R6.2: a valid block of the current attempt the node did not count
    /// itself (a certificate or justification received ahead) proves its
    /// quorum by itself (R6.4), even where this node's tally lacks it
    /// because it counted an equivocating voter's other vote first: lock
    /// and commit on it, as on a counted quorum.
    pub(super) fn lock_on_held_certificate(&mut self) {
        let Some(j) = self.r.valid.clone().filter(|j| j.attempt == self.r.attempt) else {
            return;
        };
        if !self.done() {
            // The weight is reported for commit quorums only.
            self.on_quorum(
                j.attempt,
                Step::Approve,
                j.block_hash,
                0,
                Some(j.certificate),
            );
        }
    }

    /// Phase 3 and 4 as leader (R3.1, R4.1, R6.5): re-propose the valid
    /// block of an earlier attempt with its justification, else build a
    /// fresh one.
    pub(super) fn propose(&mut self, attempt: u32, p: AttemptPlan) {
        let (block, valid_attempt, justification) = match (&self.r.valid, self.ctx.two_step()) {
            // R6.5: a valid block from this attempt or a later one (counted
            // by a node that lags) is no justification here (R4.1).
            (Some(j), true) if j.attempt < attempt => (
                self.r.blocks[&j.block_hash].clone(),
                Some(j.attempt),
                Some((*j.certificate).clone()),
            ),
            _ => (
                Arc::new(self.r.hc.block.build(p.kind, &self.ctx.me, &self.r.mempool)),
                None,
                None,
            ),
        };
        let proposal = Proposal {
            height: self.height(),
            attempt,
            proposer: self.ctx.me.clone(),
            block,
            valid_attempt,
            justification,
        };
        let sp = proposal.sign(&self.ctx.keypair);
        self.emit(Event::ProposalSent {
            attempt,
            block_hash: sp.proposal.block.hash(),
            valid_attempt,
        });
        self.set_phase(Phase::ProposalDistribution);
        self.out
            .push(Output::Broadcast(Message::Proposal(sp.clone())));
        self.accept_proposal(sp, self.ctx.my_pos);
    }

    // ---- phase 4: proposals ----
}
