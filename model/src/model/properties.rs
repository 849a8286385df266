//! The properties checked ([`CONDITIONS`]) and the progress measure that
//! proves the state graph acyclic ([`check_progress`]).

use super::*;

/// Where an honest node is: running phase 1 (`false`) or an attempt
/// (`true`), and which attempt; `None` if not running the height.
pub(super) fn where_is(s: &McState) -> Option<(bool, u32)> {
    s.node()
        .and_then(NodeState::round)
        .map(|r| (r.started(), r.attempt()))
}

/// Measure of an actor's progress: strictly increases, in lexicographic
/// order, with every change of its state (see [`check_progress`]).
pub fn actor_progress(s: &McState) -> [u64; 8] {
    match s {
        McState::Honest(n) => {
            let [a, b, c, d] = n.node.progress();
            // Deliveries lost before the start grow only that set; the clock
            // only moves on; a timer that fires to no effect only leaves the
            // deadlines (a node sets timers only as its state changes);
            // leaving the explored ladder changes only that flag.
            let (now, left, out) = n.clock.as_ref().map_or((0, 0, 0), |c| {
                (
                    c.now_ms,
                    u64::MAX - c.deadlines.len() as u64,
                    u64::from(c.out),
                )
            });
            [a, b, c, d, n.lost.len() as u64, now, left, out]
        }
        McState::Byzantine(b) => [0, 0, 0, (b.voted.len() + b.forged.len()) as u64, 0, 0, 0, 0],
    }
}

/// Checks one transition: the actors whose state changed have a strictly
/// larger progress measure, and a transition that changes no actor (a lost
/// message, or a timer that fires to no effect, as a stale heartbeat timer
/// does after phase 1) shrinks the network or the set of pending timers and
/// grows neither. Actor measures never decrease, and only a change of an
/// actor's state sends a message or sets a timer, so no path returns to a
/// state: the graph is acyclic. Returns what went wrong.
pub fn check_progress(before: &State, after: &State) -> Result<(), String> {
    let mut changed = 0;
    for (i, (a, b)) in before
        .actor_states
        .iter()
        .zip(&after.actor_states)
        .enumerate()
    {
        if a != b {
            changed += 1;
            let (pa, pb) = (actor_progress(a), actor_progress(b));
            if pb <= pa {
                return Err(format!(
                    "actor {i} changed but its progress went {pa:?} -> {pb:?}"
                ));
            }
        }
    }
    let timers = |s: &State| s.timers_set.iter().map(|t| t.iter().count()).sum::<usize>();
    let (n0, n1) = (before.network.len(), after.network.len());
    let (t0, t1) = (timers(before), timers(after));
    // An answer of R7.6 is sent by a node that does not change: it only
    // adds to the network, which never loses one (only honest proposals
    // are lost), so each is added once.
    let answered = || {
        let old: std::collections::HashSet<_> = before.network.iter_all().collect();
        n1 > n0
            && t1 <= t0
            && after
                .network
                .iter_all()
                .all(|e| old.contains(&e) || e.msg.is_answer())
    };
    if changed == 0 && !(n1 <= n0 && t1 <= t0 && n1 + t1 < n0 + t0) && !answered() {
        return Err(format!(
            "a transition changed no actor and lost no message or timer \
             (messages {n0} -> {n1}, timers {t0} -> {t1})"
        ));
    }
    Ok(())
}

/// Each `always` and `sometimes` property: its name, whether it is a
/// `sometimes`, its condition, and the condition as a check reads it (the
/// first showing only: [`TcModel::keep_first_paths`]).
pub(super) type Condition = fn(&TcModel, &State) -> bool;

macro_rules! conditions {
    ($(($name:literal, $sometimes:literal, $raw:ident, $first:ident)),* $(,)?) => {
        $(fn $first(m: &TcModel, s: &State) -> bool {
            // An `always` shows by failing, a `sometimes` by holding.
            m.info.first_only($name, $raw(m, s), $sometimes)
        })*
        pub(super) const CONDITIONS: &[(&str, bool, Condition, Condition)] =
            &[$(($name, $sometimes, $raw, $first)),*];
    };
}

conditions![
    ("agreement", false, agreement, first_agreement),
    ("validity", false, validity, first_validity),
    (
        "a locked node approves another block",
        true,
        locked_node_approves_another,
        first_locked
    ),
    (
        "a justified re-proposal is accepted",
        true,
        justified_reproposal_accepted,
        first_reproposal
    ),
    (
        "two blocks approve-certified",
        true,
        two_blocks_certified,
        first_two_certified
    ),
    (
        "entered the last explored attempt",
        true,
        last_attempt,
        first_last_attempt
    ),
    (
        "finalized in attempt 0",
        true,
        in_first_attempt,
        first_in_first_attempt
    ),
    (
        "finalized after a rotation",
        true,
        after_rotation,
        first_after_rotation
    ),
    (
        "finalized a reward-only block",
        true,
        reward_only,
        first_reward_only
    ),
    (
        "finalized the emergency block",
        true,
        emergency,
        first_emergency
    ),
    (
        "height 2 finalized after attempt 0",
        true,
        h2_after_first,
        first_h2_after_first
    ),
    (
        "height 2 finalized after a rotation",
        true,
        h2_after_rotation,
        first_h2_after_rotation
    ),
    (
        "height 2 finalized after a reward-only block",
        true,
        h2_after_reward_only,
        first_h2_after_reward_only
    ),
    (
        "height 2 finalized after the emergency block",
        true,
        h2_after_emergency,
        first_h2_after_emergency
    ),
];

/// The checked property `name` (one of [`CONDITIONS`]).
pub(super) fn checked(name: &'static str) -> Property<TcModel> {
    let &(name, sometimes, _, first) = CONDITIONS
        .iter()
        .find(|(n, ..)| *n == name)
        .expect("a listed property");
    if sometimes {
        Property::sometimes(name, first)
    } else {
        Property::always(name, first)
    }
}

/// At most one block is finalized at each height across honest nodes.
pub(super) fn agreement(m: &TcModel, s: &State) -> bool {
    let d = m.decisions(s);
    d.iter().all(|(_, a)| {
        d.iter()
            .all(|(_, b)| a.height != b.height || a.hash == b.hash)
    })
}

/// Every honest decision is valid (see [`valid_decision`]), and a node's
/// block of height 2 extends the block it finalized at height 1.
pub(super) fn validity(m: &TcModel, s: &State) -> bool {
    m.decisions(s)
        .iter()
        .all(|(_, d)| valid_decision(&m.info, d))
        && m.info.honest.iter().all(|&i| {
            let McState::Honest(h) = &*s.actor_states[i] else {
                return true;
            };
            match (h.earlier, h.node.last_decision()) {
                (Some(d1), Some(d2)) if d2.height == 2 => m
                    .info
                    .valid_blocks
                    .get(&d2.hash)
                    .is_some_and(|(b, _)| b.header.previous_hash == d1.hash),
                _ => true,
            }
        })
}

/// A finalized block is one the elected leader of an attempt builds for that
/// attempt's kind on the tip (honest or not), or the canonical emergency
/// block of an emergency attempt (R3, R4.3, R7.3); it is finalized in that
/// attempt or a later one, as the kind its header says, at its height: at
/// height 1 on the genesis tip, at height 2 on a block valid at height 1
/// (the one its node finalized there is agreement's concern).
pub fn valid_decision(info: &Info, d: &Decision) -> bool {
    let Some((b, first)) = info.valid_blocks.get(&d.hash) else {
        return false;
    };
    let parent_valid = if d.height == 1 {
        b.header.previous_hash == time_consensus::sim::genesis_tip().hash
    } else {
        info.valid_blocks
            .get(&b.header.previous_hash)
            .is_some_and(|(p, _)| p.header.height + 1 == d.height)
    };
    (1..=info.cfg.heights).contains(&d.height)
        && b.header.height == d.height
        && parent_valid
        && d.kind == b.header.kind
        && *first <= d.attempt
}

/// Every honest node has finalized the last height it is registered at.
pub(super) fn liveness(m: &TcModel, s: &State) -> bool {
    m.info.honest.iter().all(|&i| {
        let last = (1..=m.info.cfg.heights)
            .rev()
            .find(|&h| m.info.cfg.member_at(i, h))
            .unwrap_or(1);
        s.actor_states[i].decisions().any(|d| d.height == last)
    })
}

/// Two heights: an honest node finalized height 2 after finalizing height
/// 1 in a way `ended` accepts.
fn height2_after(s: &State, ended: impl Fn(&Decision) -> bool) -> bool {
    s.actor_states.iter().any(|a| match &**a {
        McState::Honest(h) => {
            h.earlier.as_ref().is_some_and(&ended)
                && h.node.last_decision().is_some_and(|d| d.height == 2)
        }
        McState::Byzantine(_) => false,
    })
}

pub(super) fn h2_after_first(_: &TcModel, s: &State) -> bool {
    height2_after(s, |d| d.attempt == 0)
}

pub(super) fn h2_after_rotation(_: &TcModel, s: &State) -> bool {
    height2_after(s, |d| d.attempt > 0 && d.kind == BlockKind::Normal)
}

pub(super) fn h2_after_reward_only(_: &TcModel, s: &State) -> bool {
    height2_after(s, |d| d.kind == BlockKind::RewardOnly)
}

pub(super) fn h2_after_emergency(_: &TcModel, s: &State) -> bool {
    height2_after(s, |d| d.kind == BlockKind::Emergency)
}

/// The honest votes and certificates sent so far. Under `async` and `gst`
/// the network keeps every message sent, so this is the whole history.
pub(super) fn honest_sent<'s>(
    m: &'s TcModel,
    s: &'s State,
) -> impl Iterator<Item = &'s Message> + 's {
    s.network
        .iter_deliverable()
        .filter(|env| m.info.cfg.is_honest(usize::from(env.src)))
        .map(|env| env.msg.msg())
}

/// R5.7, R6.2: an honest node committed `L` in attempt `la` (so it locked on
/// it) and later approved another block of that height in an attempt
/// after `la`, which only a justification from `la` or later allows.
pub(super) fn locked_node_approves_another(m: &TcModel, s: &State) -> bool {
    // By voter and height: a lock is of its height.
    type Key<'a> = (&'a time_consensus::NodeId, u64);
    let mut commits: BTreeMap<Key, Vec<(u32, Hash32)>> = BTreeMap::new();
    let mut approves = Vec::new();
    for msg in honest_sent(m, s) {
        if let Message::Vote(sv) = msg {
            let v = &sv.vote;
            match v.step {
                Step::Commit => commits
                    .entry((&v.voter, v.height))
                    .or_default()
                    .push((v.attempt, v.block_hash)),
                Step::Approve => approves.push(((&v.voter, v.height), v.attempt, v.block_hash)),
            }
        }
    }
    approves.iter().any(|(key, a, b)| {
        commits
            .get(key)
            .is_some_and(|c| c.iter().any(|(la, l)| la < a && l != b))
    })
}

/// R6.5, R4.1, R5.7: an honest leader re-proposed its valid block with its
/// justification, and another honest node accepted it and approved it (a
/// proposal only kept for an attempt the node has not reached is not yet
/// acted on).
pub(super) fn justified_reproposal_accepted(m: &TcModel, s: &State) -> bool {
    let approved: BTreeSet<(&time_consensus::NodeId, u32, Hash32)> = honest_sent(m, s)
        .filter_map(|msg| match msg {
            Message::Vote(sv) if sv.vote.step == Step::Approve => {
                Some((&sv.vote.voter, sv.vote.attempt, sv.vote.block_hash))
            }
            _ => None,
        })
        .collect();
    m.info.honest.iter().any(|&i| {
        let Some(r) = s.actor_states[i].node().and_then(NodeState::round) else {
            return false;
        };
        let me = &m.info.directory.member(i).node_id;
        let Some(ctx) = m.info.context_at(i, r.height()) else {
            return false;
        };
        r.proposals().iter().any(|(a, p)| {
            p.valid_attempt.is_some()
                && approved.contains(&(me, *a, p.block_hash))
                && r.leader(ctx, *a)
                    .and_then(|id| m.info.directory.index_of(&id))
                    .is_some_and(|j| j != i && m.info.cfg.is_honest(j))
        })
    })
}

/// R6.3-R6.4: approve certificates for two different blocks of one height
/// were sent by honest nodes (in different attempts: one step has at most
/// one quorum).
pub(super) fn two_blocks_certified(m: &TcModel, s: &State) -> bool {
    let mut first: BTreeMap<u64, Hash32> = BTreeMap::new();
    for msg in honest_sent(m, s) {
        if let Message::Certificate(c) = msg {
            let c = &c.certificate;
            if c.step == Step::Approve
                && *first.entry(c.height).or_insert(c.block_hash) != c.block_hash
            {
                return true;
            }
        }
    }
    false
}

/// An honest node runs, or decided in, the last attempt explored
/// ([`ModelConfig::max_attempt`]): whether the bound is exercised at all.
pub(super) fn last_attempt(m: &TcModel, s: &State) -> bool {
    let last = m.info.cfg.max_attempt;
    m.info.honest.iter().any(|&i| {
        s.actor_states[i].node().is_some_and(|n| {
            n.round()
                .is_some_and(|r| r.started() && r.attempt() == last)
                || n.last_decision().is_some_and(|d| d.attempt == last)
        })
    })
}

pub(super) fn in_first_attempt(m: &TcModel, s: &State) -> bool {
    m.decisions(s).iter().any(|(_, d)| d.attempt == 0)
}

pub(super) fn after_rotation(m: &TcModel, s: &State) -> bool {
    m.decisions(s)
        .iter()
        .any(|(_, d)| d.attempt > 0 && d.kind == BlockKind::Normal)
}

pub(super) fn reward_only(m: &TcModel, s: &State) -> bool {
    m.decisions(s)
        .iter()
        .any(|(_, d)| d.kind == BlockKind::RewardOnly)
}

pub(super) fn emergency(m: &TcModel, s: &State) -> bool {
    m.decisions(s)
        .iter()
        .any(|(_, d)| d.kind == BlockKind::Emergency)
}

/// The step kinds, for readable traces.
pub fn step_name(s: Step) -> &'static str {
    match s {
        Step::Approve => "approve",
        Step::Commit => "commit",
    }
}
