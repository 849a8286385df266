//! Paths told in the protocol's terms: who sent what to whom, which timer
//! fired, who locked and who finalized which block.

use crate::actor::McTimer;
use crate::model::{step_name, Action, ActorAction, Info, State, TcModel};
use serde::{Deserialize, Serialize};
use stateright::actor::{ActorModelAction, Id};
use stateright::Path;
use time_consensus::message::Message;
use time_consensus::node::{NodeState, Timer};

/// The name of actor `id` (`mn001`, or `mn001*` when Byzantine).
pub fn actor_name(info: &Info, id: Id) -> String {
    let i = usize::from(id);
    let star = if info.cfg.is_honest(i) { "" } else { "*" };
    format!("mn{i:03}{star}")
}

/// A message in words.
pub fn describe_message(info: &Info, m: &Message) -> String {
    match m {
        Message::Heartbeat(h) => format!("heartbeat (tip {})", h.heartbeat.block_height),
        Message::Proposal(p) => {
            let p = &p.proposal;
            let b = info.label(&p.block.hash());
            match (p.valid_attempt, &p.justification) {
                (Some(v), Some(c)) if c.attempt == v => format!(
                    "proposal of {b} for attempt {} (re-proposed, justified by attempt {v}{})",
                    p.attempt,
                    broken(info, c)
                ),
                (Some(v), Some(c)) => format!(
                    "proposal of {b} for attempt {} (re-proposed, claiming attempt {v} with a certificate of attempt {}{})",
                    p.attempt,
                    c.attempt,
                    broken(info, c)
                ),
                (Some(v), None) => format!(
                    "proposal of {b} for attempt {} (re-proposed, claiming attempt {v} without a certificate)",
                    p.attempt
                ),
                (None, _) => format!("proposal of {b} for attempt {}", p.attempt),
            }
        }
        Message::Vote(v) => {
            let v = &v.vote;
            let mut s = format!(
                "{} vote for {} in attempt {}",
                step_name(v.step),
                info.label(&v.block_hash),
                v.attempt
            );
            if !v.approve {
                s.push_str(" (against)");
            }
            if info.cfg.behaviour.inflate_weight
                && v.weight == 1000
                && info
                    .cfg
                    .byzantine
                    .iter()
                    .any(|&i| format!("mn{i:03}") == v.voter.as_str())
            {
                s.push_str(&format!(" declaring weight {}", v.weight));
            }
            s
        }
        Message::Certificate(c) => {
            let cert = &c.certificate;
            let what = match cert.step {
                time_consensus::vote::Step::Approve => "approve certificate",
                time_consensus::vote::Step::Commit => "finality proof",
            };
            format!(
                "{what} for {} in attempt {} ({} votes{})",
                info.label(&cert.block_hash),
                cert.attempt,
                cert.votes.len(),
                broken(info, cert)
            )
        }
    }
}

/// ", one signature broken" (or more) when votes of `c` do not verify: a
/// forgery, which the reader should not take for an honest certificate.
fn broken(info: &Info, c: &time_consensus::vote::Certificate) -> String {
    let bad = c
        .votes
        .iter()
        .filter(|sv| {
            info.registry
                .position_of(&sv.vote.voter)
                .is_none_or(|pos| !info.registry.verify_vote(pos, sv))
        })
        .count();
    match bad {
        0 => String::new(),
        1 => ", one signature broken".into(),
        n => format!(", {n} signatures broken"),
    }
}

fn describe_timer(t: &McTimer) -> String {
    let McTimer::Node(t) = t else {
        return "starts the height".into();
    };
    match t {
        Timer::Heartbeat { .. } => "the heartbeat timeout fires".into(),
        Timer::Leader { attempt, .. } => format!("the leader timeout of attempt {attempt} fires"),
        Timer::VotingWindow { attempt, .. } => {
            format!("the voting window of attempt {attempt} closes")
        }
        Timer::Attempt { attempt, .. } => format!("the timeout of attempt {attempt} fires"),
    }
}

/// An action in words.
pub fn describe_action(info: &Info, a: &Action) -> String {
    match a {
        Action::Actor(a) => describe_actor_action(info, a),
        Action::Votes { dst, votes, then } => {
            let parts: Vec<String> = votes
                .iter()
                .map(|(src, m)| {
                    format!(
                        "{} ({})",
                        actor_name(info, *src),
                        describe_message(info, m.msg())
                    )
                })
                .collect();
            let mut s = format!(
                "{} receives {}",
                actor_name(info, *dst),
                parts.join(", then ")
            );
            if let Some(t) = then {
                s.push_str(&format!("; then {}", describe_timer(&McTimer::Node(*t))));
            }
            s
        }
        Action::Tick(t) => format!("the clock reaches {}.{:03} s", t / 1000, t % 1000),
        Action::LeavesLadder(id) => format!(
            "{}: the timeout of its last explored attempt fires (it leaves the explored ladder)",
            actor_name(info, *id)
        ),
    }
}

fn describe_actor_action(info: &Info, a: &ActorAction) -> String {
    match a {
        ActorModelAction::Deliver { src, dst, msg } => format!(
            "{} → {}: {}",
            actor_name(info, *src),
            actor_name(info, *dst),
            describe_message(info, msg.msg())
        ),
        ActorModelAction::Drop(env) => format!(
            "the network loses {} → {}: {}",
            actor_name(info, env.src),
            actor_name(info, env.dst),
            describe_message(info, env.msg.msg())
        ),
        ActorModelAction::Timeout(id, t) => {
            format!("{}: {}", actor_name(info, *id), describe_timer(t))
        }
        other => format!("{other:?}"),
    }
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    /// 1-based.
    pub step: usize,
    /// What happened.
    pub action: String,
    /// What it led to: locks, attempt changes, finalizations.
    pub effects: Vec<String>,
}

impl TraceStep {
    /// The step on one line, `action ⇒ effect ⇒ ...`, as tests pin it.
    pub fn one_line(&self) -> String {
        let mut line = self.action.clone();
        for e in &self.effects {
            line.push_str(" ⇒ ");
            line.push_str(e);
        }
        line
    }
}

fn effects(info: &Info, before: &State, after: &State) -> Vec<String> {
    let mut out = Vec::new();
    for (i, (a, b)) in before
        .actor_states
        .iter()
        .zip(&after.actor_states)
        .enumerate()
    {
        let (Some(a), Some(b)) = (a.node(), b.node()) else {
            continue;
        };
        let name = actor_name(info, Id::from(i));
        if let Some(d) = b.last_decision().filter(|_| a.last_decision().is_none()) {
            let how = if d.unilateral {
                ", without a single vote"
            } else {
                ""
            };
            out.push(format!(
                "{name} FINALIZES {} ({:?} block, attempt {}{how})",
                info.label(&d.hash),
                d.kind,
                d.attempt
            ));
            continue;
        }
        if b.round().is_none() && a.round().is_some() && b.last_decision().is_none() {
            out.push(format!("{name} gives the height up"));
            continue;
        }
        let (Some(ra), Some(rb)) = (a.round(), b.round()) else {
            continue;
        };
        if rb.attempt() != ra.attempt() {
            out.push(format!("{name} moves to attempt {}", rb.attempt()));
        }
        if rb.locked() != ra.locked() {
            if let Some((at, h)) = rb.locked() {
                out.push(format!("{name} locks on {} (attempt {at})", info.label(&h)));
            }
        }
        if rb.voted() && !ra.voted() && rb.attempt() == ra.attempt() {
            out.push(format!("{name} votes in attempt {}", rb.attempt()));
        }
    }
    out
}

/// A path, step by step.
pub fn trace(model: &TcModel, path: &Path<State, Action>) -> Vec<TraceStep> {
    trace_steps(model, &path.clone().into_vec())
}

/// Steps of a path given as states with the action taken from each.
pub fn trace_steps(model: &TcModel, v: &[(State, Option<Action>)]) -> Vec<TraceStep> {
    let mut steps = Vec::new();
    for (i, w) in v.windows(2).enumerate() {
        let (before, action) = (&w[0].0, &w[0].1);
        let after = &w[1].0;
        let Some(action) = action else { continue };
        steps.push(TraceStep {
            step: i + 1,
            action: describe_action(&model.info, action),
            effects: effects(&model.info, before, after),
        });
    }
    steps
}

/// The honest nodes' decisions at the end of a path, in words.
pub fn outcome(model: &TcModel, state: &State) -> Vec<String> {
    model
        .info
        .honest
        .iter()
        .map(|&i| {
            let name = actor_name(&model.info, Id::from(i));
            match state.actor_states[i]
                .node()
                .and_then(NodeState::last_decision)
            {
                Some(d) => format!(
                    "{name}: {} ({:?}, attempt {})",
                    model.info.label(&d.hash),
                    d.kind,
                    d.attempt
                ),
                None => format!("{name}: undecided"),
            }
        })
        .collect()
}
