//! Vote delivery reduced to batches (`--votes batched|sound|eager`):
//! which votes in flight may be delivered together, and the join batches of
//! A7.

use super::*;

impl TcModel {
    /// The votes deliverable to honest node `x` from voters registered at
    /// `height`: voter position, sender, packet, vote.
    pub(super) fn votes_in_flight<'s>(
        &'s self,
        state: &'s State,
        x: usize,
        height: u64,
    ) -> impl Iterator<Item = (usize, Id, &'s Packet, &'s SignedVote)> + 's {
        let registry = self.info.registry_at(height);
        state.network.iter_deliverable().filter_map(move |env| {
            if usize::from(env.dst) != x {
                return None;
            }
            let Message::Vote(sv) = env.msg.msg() else {
                return None;
            };
            if sv.vote.height != height {
                return None;
            }
            let pos = registry.position_of(&sv.vote.voter)?;
            Some((pos, env.src, env.msg, sv))
        })
    }

    /// The vote batches enabled in `state` (see [`VoteDelivery::Batched`]):
    /// for each honest node and each (attempt, step, block) whose step has
    /// no quorum yet and whose block it knows, every set of pending votes
    /// from voters it has not counted that reaches the quorum with the last
    /// vote delivered; and, if sound, alone, each pending vote (one copy per
    /// block) of a voter with pending votes for two blocks of one step; and,
    /// under A7, every set of pending votes and proposals of later
    /// attempts, from senders R7.7 does not yet count there, that makes the
    /// node join with the last one delivered, each needed for the join or
    /// for the attempt joined ([`Self::join_batches`]); before the start,
    /// such votes one by one.
    pub(super) fn vote_batches(&self, state: &State, actions: &mut Vec<Action>) {
        let a7 = self.info.cfg.rules.has(Amendment::AttemptSync);
        for &x in &self.info.honest {
            let Some(round) = state.actor_states[x].node().and_then(NodeState::round) else {
                continue;
            };
            let weights = round.height_ctx().weights();
            let q = weights.quorum();
            let mut groups: BTreeMap<VoteKey, Vec<Pending>> = BTreeMap::new();
            // Blocks each uncounted voter has a vote in flight for, per step.
            let mut blocks_of: BTreeMap<(u32, Step, usize), Vec<Hash32>> = BTreeMap::new();
            let delivery = self.info.cfg.vote_delivery();
            let sound = matches!(delivery, VoteDelivery::Sound | VoteDelivery::Eager);
            let eager = delivery == VoteDelivery::Eager;
            let Some(ctx) = self.info.context_at(x, round.height()) else {
                continue;
            };
            let mut senders: BTreeMap<u32, BTreeSet<usize>> = BTreeMap::new();
            let mut alone: Vec<(Id, Packet)> = Vec::new();
            // Later-attempt votes and proposals of senders R7.7 does not yet
            // count there.
            let mut joiners: Vec<(Packet, Id, u32, usize)> = Vec::new();
            if a7 && round.started() {
                for env in state.network.iter_deliverable() {
                    let Message::Proposal(sp) = env.msg.msg() else {
                        continue;
                    };
                    let a = sp.proposal.attempt;
                    if usize::from(env.dst) != x
                        || sp.proposal.height != round.height()
                        || a <= round.attempt()
                        || !round.keeps_proposal(ctx, &sp.proposal)
                    {
                        continue;
                    }
                    let Some(pos) = self
                        .info
                        .registry_at(round.height())
                        .position_of(&sp.proposal.proposer)
                    else {
                        continue;
                    };
                    let s = senders
                        .entry(a)
                        .or_insert_with(|| round.senders_from(ctx, a));
                    if !s.contains(&pos) {
                        joiners.push((env.msg.clone(), env.src, a, pos));
                    }
                }
            }
            for (pos, src, msg, sv) in self.votes_in_flight(state, x, round.height()) {
                let v = &sv.vote;
                if !round.counts_vote(v, pos) {
                    continue;
                }
                if a7 && v.attempt > round.attempt() {
                    let s = senders
                        .entry(v.attempt)
                        .or_insert_with(|| round.senders_from(ctx, v.attempt));
                    if !s.contains(&pos) {
                        if round.started() {
                            joiners.push((msg.clone(), src, v.attempt, pos));
                        } else {
                            // In phase 1 R7.7 waits for the start, which
                            // joins on whatever was counted by then: any
                            // subset, so one by one.
                            alone.push((src, msg.clone()));
                        }
                    }
                }
                // Batched: only for known blocks; a vote for a block not yet
                // known is quiet until it arrives (R6.4's recheck), unless
                // its voter equivocates, which only sound delivery assumes.
                let known = round.blocks().contains_key(&v.block_hash);
                if !(known || sound) {
                    continue;
                }
                if sound {
                    let seen = blocks_of.entry((v.attempt, v.step, pos)).or_default();
                    if !seen.contains(&v.block_hash) {
                        seen.push(v.block_hash);
                    }
                }
                groups
                    .entry((v.attempt, v.step, v.block_hash))
                    .or_default()
                    .push((pos, src, msg.clone()));
            }
            // Per step and voter, the blocks some batch needs its vote for
            // (the vote completes it).
            let mut needed: BTreeMap<(u32, Step, usize), BTreeSet<Hash32>> = BTreeMap::new();
            for (&(attempt, step, block), cands) in &groups {
                // Votes for a block not yet known are quiet until it arrives
                // (R6.4's recheck), in both modes; sound delivery collects
                // them only for an equivocator's votes alone, below.
                if !round.blocks().contains_key(&block) {
                    continue;
                }
                let mut cands = cands.clone();
                // The network's iteration order depends on the path that
                // built it; the batches must depend on the state alone, or
                // what is explored would depend on the search order. One
                // vote per voter: the copies of a vote differ only by sender.
                cands.sort();
                cands.dedup_by_key(|c| c.0);
                let have = round
                    .tally(attempt, step)
                    .map_or(0, |t| t.weight_of(&block));
                let n = cands.len().min(16);
                for mask in 1u32..(1 << n) {
                    let chosen: Vec<&(usize, Id, Packet)> = (0..n)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| &cands[i])
                        .collect();
                    let total: u64 = have + chosen.iter().map(|c| weights.weight(c.0)).sum::<u64>();
                    if total < q {
                        continue;
                    }
                    // The vote that completes the quorum goes last.
                    let Some(last) = chosen.iter().position(|c| total - weights.weight(c.0) < q)
                    else {
                        continue;
                    };
                    if sound {
                        for c in chosen.iter().filter(|c| total - weights.weight(c.0) < q) {
                            needed
                                .entry((attempt, step, c.0))
                                .or_default()
                                .insert(block);
                        }
                    }
                    let mut votes: Vec<(Id, Packet)> = chosen
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != last)
                        .map(|(_, c)| (c.1, c.2.clone()))
                        .collect();
                    votes.push((chosen[last].1, chosen[last].2.clone()));
                    actions.push(Action::Votes {
                        dst: Id::from(x),
                        votes,
                        then: None,
                    });
                }
            }
            // A voter with votes for two blocks of one step in flight (an
            // equivocator) is counted for whichever arrives first, which
            // gives its weight to that block and takes it from the others.
            // That matters only while a batch of another block needs its
            // vote: then its vote for this block is also delivered alone,
            // known block or not (spec/properties.md, "Batched vote
            // delivery").
            for (key @ (attempt, step, pos), blocks) in &blocks_of {
                let need = needed.get(key);
                if blocks.len() < 2 || (need.is_none() && !eager) {
                    continue;
                }
                for block in blocks {
                    if !eager && need.is_some_and(|n| n.iter().all(|b| b == block)) {
                        continue;
                    }
                    // One copy: the copies of a vote differ only by sender.
                    let first = groups[&(*attempt, *step, *block)]
                        .iter()
                        .filter(|c| c.0 == *pos)
                        .min();
                    if let Some((_, src, msg)) = first {
                        alone.push((*src, msg.clone()));
                    }
                }
            }
            self.join_batches(round, ctx, x, joiners, actions);
            // Canonical order (see below), then one action each.
            alone.sort();
            alone.dedup();
            for (src, msg) in alone {
                actions.push(Action::Votes {
                    dst: Id::from(x),
                    votes: vec![(src, msg)],
                    then: None,
                });
            }
        }
    }

    /// R7.7's join batches for honest node `x` from `joiners` (pending votes
    /// and proposals of later attempts whose senders R7.7 does not yet count
    /// there: packet, sender, attempt, sender's position): every set that
    /// makes the node join with its last message and not before
    /// ([`time_consensus::node::Round::join_target`]), each needed for the
    /// join or for the attempt joined. So at most one per sender: two of one
    /// sender add one, and of two attempts the earlier adds nothing.
    pub(super) fn join_batches(
        &self,
        round: &time_consensus::node::Round,
        ctx: &time_consensus::node::Context,
        x: usize,
        mut joiners: Vec<(Packet, Id, u32, usize)>,
        actions: &mut Vec<Action>,
    ) {
        joiners.sort();
        // One copy: the copies of a vote differ only by sender.
        joiners.dedup_by(|a, b| a.0 == b.0);
        let mut by_voter: BTreeMap<usize, BTreeMap<u32, Vec<(Id, Packet)>>> = BTreeMap::new();
        for (msg, src, attempt, pos) in joiners {
            by_voter
                .entry(pos)
                .or_default()
                .entry(attempt)
                .or_default()
                .push((src, msg));
        }
        // Where batched delivery spares a double voter (`kind_batches`), a
        // join takes its first message of the attempt only, its others
        // staying in flight: the kinder adversary the report names, which
        // sound delivery does not spare.
        if self.info.kind_batches {
            for (pos, by) in &mut by_voter {
                let actor = self.info.actor_at(round.height(), *pos);
                if actor.is_some_and(|i| !self.info.cfg.is_honest(i)) {
                    by.values_mut().for_each(|ms| ms.truncate(1));
                }
            }
        }
        // Every choice of no attempt or one per voter, as (attempt, voter).
        let per_voter: Vec<Vec<(u32, usize)>> = by_voter
            .iter()
            .map(|(p, by)| by.keys().map(|a| (*a, *p)).collect())
            .collect();
        for chosen in none_or_one(per_voter.iter().map(Vec::as_slice)) {
            let Some(target) = round.join_target(ctx, &chosen) else {
                continue;
            };
            let without: Vec<Option<u32>> = (0..chosen.len())
                .map(|i| {
                    let mut rest = chosen.clone();
                    rest.remove(i);
                    round.join_target(ctx, &rest)
                })
                .collect();
            // A vote the node joins `target` without is quiet until its own
            // batch, after the join.
            if without.contains(&Some(target)) {
                continue;
            }
            let Some(last) = without.iter().position(Option::is_none) else {
                continue;
            };
            // The chosen voters' votes of the chosen attempts, the one the
            // join waits for last: every combination.
            let mut order: Vec<&(u32, usize)> = chosen.iter().collect();
            let l = order.remove(last);
            order.push(l);
            let slots = order.iter().map(|(a, pos)| by_voter[pos][a].as_slice());
            for votes in one_each(slots) {
                actions.push(Action::Votes {
                    dst: Id::from(x),
                    votes,
                    then: None,
                });
            }
        }
    }

    /// Seed flow: votes are read only when a voting window closes, so they
    /// are delivered right before that timer: every choice of at most one
    /// pending, not yet counted vote per voter.
    pub(super) fn seed_vote_batches(&self, state: &State, actions: &mut Vec<Action>) {
        let timers: Vec<(Id, Timer)> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Actor(ActorModelAction::Timeout(
                    id,
                    McTimer::Node(t @ Timer::VotingWindow { .. }),
                )) => Some((*id, *t)),
                _ => None,
            })
            .collect();
        let pooled = !self
            .info
            .cfg
            .rules
            .has(time_consensus::Amendment::RegistryWeights);
        for (id, timer) in timers {
            let x = usize::from(id);
            let Some(round) = state.actor_states[x].node().and_then(NodeState::round) else {
                continue;
            };
            let mut by_voter: BTreeMap<usize, Vec<(Id, Packet)>> = BTreeMap::new();
            for (pos, src, msg, sv) in self.votes_in_flight(state, x, round.height()) {
                let v = &sv.vote;
                let counted = if pooled {
                    round.pooled_votes().contains_key(&v.voter)
                } else {
                    round
                        .tally(v.attempt, v.step)
                        .is_some_and(|t| t.get(pos).is_some())
                };
                if !counted {
                    by_voter.entry(pos).or_default().push((src, msg.clone()));
                }
            }
            let choices = none_or_one(by_voter.values().map(Vec::as_slice));
            for votes in choices.into_iter().filter(|c| !c.is_empty()) {
                actions.push(Action::Votes {
                    dst: id,
                    votes,
                    then: Some(timer),
                });
            }
        }
    }
}

/// Every list made of, for each slot in order, nothing or one of its
/// options (the empty list first).
pub(super) fn none_or_one<'a, T: Clone + 'a>(
    slots: impl IntoIterator<Item = &'a [T]>,
) -> Vec<Vec<T>> {
    let mut lists: Vec<Vec<T>> = vec![Vec::new()];
    for options in slots {
        let mut next = Vec::new();
        for l in &lists {
            next.push(l.clone());
            for o in options {
                let mut m = l.clone();
                m.push(o.clone());
                next.push(m);
            }
        }
        lists = next;
    }
    lists
}

/// Every list made of one option of each slot, in slot order.
pub(super) fn one_each<'a, T: Clone + 'a>(slots: impl IntoIterator<Item = &'a [T]>) -> Vec<Vec<T>> {
    let mut lists: Vec<Vec<T>> = vec![Vec::new()];
    for options in slots {
        lists = lists
            .iter()
            .flat_map(|l| {
                options.iter().map(move |o| {
                    let mut m = l.clone();
                    m.push(o.clone());
                    m
                })
            })
            .collect();
    }
    lists
}
