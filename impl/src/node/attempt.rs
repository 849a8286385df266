//! Timers and the end of an attempt: timeouts (R7.2, S7.1), joining a later
//! attempt (R7.7), the seed flow's window close (S6.2-S6.3), finalization
//! (R7.4, S7.3).

use super::act::Act;
use super::*;

impl Act<'_> {
    pub(super) fn on_timer(&mut self, t: Timer) {
        if let Timer::Heartbeat { height } = t {
            if height == self.height() && self.r.sync.is_some() {
                let heartbeats = self
                    .r
                    .sync
                    .as_ref()
                    .map_or(0, |s| s.iter().flatten().count());
                let continuing = self.ctx.rules.has(Amendment::WeightedSync);
                self.emit(Event::SyncFailed {
                    heartbeats,
                    continuing,
                });
                self.r.sync = None;
                if continuing {
                    // R1.4: take part anyway.
                    self.set_phase(Phase::LeaderElection);
                    self.start_attempt(0, None);
                } else {
                    // S1.4: the deployed orchestrator gives up the height.
                    self.set_phase(Phase::Complete);
                    self.emit(Event::ProtocolCompleted { success: false });
                    self.gave_up = true;
                }
            }
            return;
        }
        let (height, attempt) = match t {
            Timer::Leader { height, attempt }
            | Timer::VotingWindow { height, attempt }
            | Timer::Attempt { height, attempt } => (height, attempt),
            Timer::Heartbeat { .. } => unreachable!(),
        };
        if height != self.height() || attempt != self.r.attempt || !self.r.started {
            return; // stale
        }
        // R7.2, S7.1: each flow reacts only to the timers it sets.
        let two_step = self.ctx.two_step();
        match t {
            Timer::Attempt { .. } if two_step => {
                // R7.2: no decision in time; move on.
                let reason = if self.r.voted {
                    FallbackReason::ConsensusNotReached
                } else {
                    FallbackReason::LeaderTimeout
                };
                self.emit_failure(attempt);
                self.start_attempt(attempt + 1, Some(reason));
            }
            Timer::Leader { .. } if !two_step && !self.r.voted => {
                self.start_attempt(attempt + 1, Some(FallbackReason::LeaderTimeout));
            }
            Timer::VotingWindow { .. } if !two_step && self.r.voted => {
                self.seed_window_closed(attempt)
            }
            _ => {}
        }
    }

    /// R7.7 (A7): once the senders of what this node holds of attempt `b`
    /// or later ([`Round::senders_from`]) weigh more than `T - q` (more than
    /// any Byzantine set), an honest node is there, and this node joins the
    /// latest such `b` rather than wait out its timers
    /// ([`Round::join_target`]).
    pub(super) fn join_later_attempt(&mut self) {
        if let Some(b) = self.r.join_target(self.ctx, &[]) {
            self.emit_failure(self.r.attempt);
            self.start_attempt(b, Some(FallbackReason::LaterAttempt));
        }
    }

    pub(super) fn emit_failure(&mut self, attempt: u32) {
        let t = self.r.tallies.get(&(attempt, Step::Commit));
        let best = t
            .and_then(|t| t.sums().iter().map(|(_, w)| *w).max())
            .unwrap_or(0);
        self.emit(Event::ConsensusFailed {
            attempt,
            approval_weight: best,
            total_weight: self.r.hc.weights.total(),
        });
    }

    /// S6.2-S6.3 (with A1/A2 where applied): count at the window's close.
    pub(super) fn seed_window_closed(&mut self, attempt: u32) {
        self.set_phase(Phase::ConsensusCollection);
        let Some(rec) = self.r.proposals.get(&attempt).cloned() else {
            return;
        };
        let (approval, total) = if self.ctx.rules.has(Amendment::RegistryWeights) {
            let w = &self.r.hc.weights;
            match self.r.tallies.get(&(attempt, Step::Approve)) {
                None => (0, 0),
                Some(t) => {
                    let approval: u64 = t
                        .votes_for(&rec.block_hash)
                        .filter(|(_, r)| r.approve)
                        .map(|(pos, _)| w.weight(pos))
                        .sum();
                    (approval, t.total_weight())
                }
            }
        } else {
            let c = seed_check_consensus(self.r.pooled.values());
            (c.approval_weight, c.total_weight)
        };
        let total = if self.ctx.rules.has(Amendment::QuorumOverRegistry) {
            self.r.hc.weights.total()
        } else {
            total
        };
        let consensus = approval >= total.wrapping_mul(2).div_ceil(3);
        if consensus && rec.valid {
            self.emit(Event::ConsensusReached {
                attempt,
                approval_weight: approval,
                total_weight: total,
            });
            self.finalize(rec.block_hash, attempt, false, None);
        } else {
            self.emit(Event::ConsensusFailed {
                attempt,
                approval_weight: approval,
                total_weight: total,
            });
            self.start_attempt(attempt + 1, Some(FallbackReason::ConsensusNotReached));
        }
    }

    pub(super) fn finalize(
        &mut self,
        hash: Hash32,
        attempt: u32,
        unilateral: bool,
        proof: Option<Arc<CertifiedBlock>>,
    ) {
        let kind = self.r.blocks[&hash].header.kind;
        for t in self.attempt_timers(self.r.attempt) {
            self.out.push(Output::CancelTimer(t));
        }
        self.set_phase(Phase::Finalization);
        let height = self.height();
        self.emit(Event::BlockFinalized {
            block_height: height,
            hash,
            attempt,
            kind,
        });
        self.set_phase(Phase::Complete);
        self.emit(Event::ProtocolCompleted { success: true });
        self.decided = Some((
            Decision {
                height,
                hash,
                attempt,
                kind,
                unilateral,
            },
            proof,
        ));
    }
}
