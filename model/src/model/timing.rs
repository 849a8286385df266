//! When timers may fire: the lock-step and staggered gates of
//! [`Network::Gst`] and the shared clock of [`Timing::Clocked`].

use super::*;

impl TcModel {
    /// Under [`Network::Gst`], holds back synchronous timers while anything
    /// else could still happen (see [`Network::Gst`]).
    pub(super) fn gate_synchronous_timers(&self, state: &State, actions: &mut Vec<Action>) {
        if self.info.cfg.timing == Timing::Clocked {
            return self.clock_actions(state, actions);
        }
        let gated = |a: &Action| matches!(a, Action::Actor(ActorModelAction::Timeout(_, t)) if self.synchronous_timer(t));
        if !actions.iter().any(gated) {
            return;
        }
        // A synchronous timer waits while any delivery, or any timer of an
        // attempt before stabilization, would still change something. A
        // Byzantine node configured `late` chooses when to send, so its
        // messages hold no timer back; nor does a node yet to start.
        if self.busy(state, actions) {
            actions.retain(|a| !gated(a));
            return;
        }
        if self.info.cfg.timing == Timing::Staggered {
            // Timers of one attempt (or phase 1) last the same everywhere:
            // a node's fires only once every honest node that got there
            // before it has left.
            actions.retain(|a| match a {
                Action::Actor(ActorModelAction::Timeout(id, t)) if self.synchronous_timer(t) => {
                    let me = &state.actor_states[usize::from(*id)];
                    let here = where_is(me);
                    !matches!(&**me, McState::Honest(h)
                        if h.ahead.iter().any(|&j| where_is(&state.actor_states[j]) == here))
                }
                _ => true,
            });
            return;
        }
        if self.info.cfg.timing == Timing::LateStarts
            && self
                .info
                .honest
                .iter()
                .any(|&i| state.actor_states[i].waiting())
        {
            // Every honest node starts within one timer of the first.
            actions.retain(|a| !gated(a));
            return;
        }
        // Timeouts outlast message delays and start together, so no honest
        // node times out of attempt `a` while another has not reached it.
        let slowest = self
            .info
            .honest
            .iter()
            .filter_map(|&i| state.actor_states[i].node().and_then(NodeState::round))
            .map(|r| {
                let a = if r.started() {
                    i64::from(r.attempt())
                } else {
                    -1
                };
                (r.height(), a)
            })
            .min();
        // Heights come in order too: height 2's timers wait for the
        // slowest node to get there (it finalizes within a message delay of
        // the first).
        actions.retain(|a| match a {
            Action::Actor(ActorModelAction::Timeout(_, t @ McTimer::Node(n)))
                if self.synchronous_timer(t) =>
            {
                slowest.is_none_or(|s| (n.height(), n.attempt().map_or(-1, i64::from)) <= s)
            }
            _ => true,
        });
    }

    /// Whether a delivery, or a timer of an attempt before stabilization,
    /// would still change something. A Byzantine node configured `late`
    /// chooses when to send, so its messages hold no timer back; nor does a
    /// node yet to start, a loss, or the clock.
    pub(super) fn busy(&self, state: &State, actions: &[Action]) -> bool {
        let late =
            |src: &Id| self.info.cfg.behaviour.late && !self.info.cfg.is_honest(usize::from(*src));
        actions.iter().any(|a| match a {
            Action::Actor(ActorModelAction::Timeout(_, t)) if self.synchronous_timer(t) => false,
            Action::Actor(ActorModelAction::Timeout(_, McTimer::Start)) => false,
            Action::Actor(ActorModelAction::Drop(_)) => false,
            Action::Actor(ActorModelAction::Deliver { src, .. }) if late(src) => false,
            Action::Votes { votes, .. } if votes.iter().any(|(src, _)| late(src)) => false,
            Action::Tick(_) | Action::LeavesLadder(_) | Action::StartsAhead(_) => false,
            _ => memo::keep(state, a, self.apply(state, a)),
        })
    }

    /// Clocked timing: the time now (every honest node holds it).
    pub(super) fn now_ms(&self, state: &State) -> u64 {
        self.info
            .honest
            .iter()
            .find_map(|&i| match &*state.actor_states[i] {
                McState::Honest(h) => h.clock.as_ref().map(|c| c.now_ms),
                McState::Byzantine(_) => None,
            })
            .unwrap_or(0)
    }

    /// Clocked timing: when a start or a timer of node `id` is due.
    pub(super) fn due_ms(&self, state: &State, id: Id, t: &McTimer) -> Option<u64> {
        let i = usize::from(id);
        match (t, &*state.actor_states[i]) {
            (McTimer::Start, _) => Some(self.info.cfg.start_ms(i)),
            (McTimer::Node(t), McState::Honest(h)) => {
                h.clock.as_ref().and_then(|c| c.deadlines.get(t).copied())
            }
            (McTimer::Node(_), McState::Byzantine(_)) => None,
        }
    }

    /// Clocked timing: a start or timer fires only when the clock reaches
    /// it, interleaved with what else happens at that instant; the clock
    /// moves on to the next start or deadline only once none is due and no
    /// delivery between honest nodes would change anything (messages arrive
    /// within an instant). A deadline whose timer the model does not set
    /// (the last attempt's, [`ModelConfig::max_attempt`]) stops the clock:
    /// the explored ladder is exhausted there, and its node leaves it at any
    /// point of that instant ([`Action::LeavesLadder`]).
    pub(super) fn clock_actions(&self, state: &State, actions: &mut Vec<Action>) {
        let now = self.now_ms(state);
        let clock = |i: usize| match &*state.actor_states[i] {
            McState::Honest(h) => h.clock.as_ref(),
            McState::Byzantine(_) => None,
        };
        let out = |id: &Id| clock(usize::from(*id)).is_some_and(|c| c.out);
        actions.retain(|a| match a {
            Action::Actor(ActorModelAction::Timeout(id, t)) => {
                !out(id) && self.due_ms(state, *id, t).is_some_and(|d| d <= now)
            }
            Action::Actor(ActorModelAction::Deliver { dst, .. }) | Action::Votes { dst, .. } => {
                !out(dst)
            }
            Action::Actor(ActorModelAction::Drop(e)) => !out(&e.dst),
            _ => true,
        });
        for &i in &self.info.honest {
            let Some(c) = clock(i).filter(|c| !c.out) else {
                continue;
            };
            let unset_due = c.deadlines.iter().any(|(t, d)| {
                *d <= now && !state.timers_set[i].iter().any(|x| *x == McTimer::Node(*t))
            });
            if unset_due {
                actions.push(Action::LeavesLadder(Id::from(i)));
            }
        }
        let due = actions
            .iter()
            .any(|a| matches!(a, Action::Actor(ActorModelAction::Timeout(..))));
        if due || self.busy(state, actions) {
            return;
        }
        let mut next: Option<u64> = None;
        for &i in &self.info.honest {
            let McState::Honest(h) = &*state.actor_states[i] else {
                continue;
            };
            let times: Vec<u64> = if !h.started {
                vec![self.info.cfg.start_ms(i)]
            } else {
                h.clock
                    .iter()
                    .flat_map(|c| c.deadlines.values().copied())
                    .collect()
            };
            for t in times {
                if t <= now {
                    // An unset deadline that is due: the ladder is exhausted.
                    return;
                }
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        if let Some(t) = next {
            actions.push(Action::Tick(t));
        }
    }
}
