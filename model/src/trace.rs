//! Paths told in the protocol's terms: who sent what to whom, which timer
//! fired, who locked and who finalized which block.

use crate::actor::McTimer;
use crate::model::{step_name, Action, Info, State, TcModel};
use serde::{Deserialize, Serialize};
use stateright::actor::{ActorModelAction, Id};
use stateright::Path;
use time_consensus::fallback::BlockKind;
use time_consensus::message::Message;
use time_consensus::node::{NodeState, Timer};

/// The name of actor `id` (`mn001`, or `mn001*` when Byzantine).
pub fn actor_name(info: &Info, id: Id) -> String {
    let i = usize::from(id);
    let star = if info.cfg.is_honest(i) { "" } else { "*" };
    format!("mn{i:03}{star}")
}

/// The name of the member `id` as paths print it: `mn001`, `mn001*` when
/// Byzantine, or the id itself for a stranger.
fn member_name(info: &Info, id: &time_consensus::primitives::NodeId) -> String {
    match info.directory.index_of(id) {
        Some(i) => actor_name(info, Id::from(i)),
        None => id.as_str().to_string(),
    }
}

/// A certificate's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateFields {
    /// `approve` (an approve certificate) or `commit` (a finality proof).
    pub step: String,
    /// The block certified, by its label.
    pub block: String,
    /// The attempt of its votes.
    pub attempt: u32,
    /// The voters of its votes, in order.
    pub voters: Vec<String>,
    /// Votes whose signature does not verify (a forgery).
    pub broken_signatures: usize,
}

/// A message's fields, as the JSON report and the ITF traces give them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageFields {
    /// Phase 1.
    Heartbeat {
        /// Its signer.
        sender: String,
        /// The height of the sender's tip.
        tip: u64,
    },
    /// Phase 4.
    Proposal {
        /// Its signer.
        proposer: String,
        /// The block, by its label.
        block: String,
        /// The attempt it is for.
        attempt: u32,
        /// A re-proposal's claimed valid attempt.
        valid_attempt: Option<u32>,
        /// A re-proposal's certificate.
        justification: Option<CertificateFields>,
    },
    /// Phase 5.
    Vote {
        /// Its signer.
        voter: String,
        /// `approve` or `commit`.
        step: String,
        /// The block, by its label.
        block: String,
        /// Its attempt.
        attempt: u32,
        /// False for a vote against.
        approve: bool,
        /// The weight it declares.
        weight: u64,
    },
    /// Phases 6 and 7: a certified block.
    Certificate(CertificateFields),
}

/// A message's fields.
pub fn message_fields(info: &Info, m: &Message) -> MessageFields {
    match m {
        Message::Heartbeat(h) => MessageFields::Heartbeat {
            sender: member_name(info, &h.heartbeat.node_id),
            tip: h.heartbeat.block_height,
        },
        Message::Proposal(p) => {
            let p = &p.proposal;
            MessageFields::Proposal {
                proposer: member_name(info, &p.proposer),
                block: info.label(&p.block.hash()),
                attempt: p.attempt,
                valid_attempt: p.valid_attempt,
                justification: p
                    .justification
                    .as_ref()
                    .map(|c| certificate_fields(info, c)),
            }
        }
        Message::Vote(v) => {
            let v = &v.vote;
            MessageFields::Vote {
                voter: member_name(info, &v.voter),
                step: step_name(v.step).into(),
                block: info.label(&v.block_hash),
                attempt: v.attempt,
                approve: v.approve,
                weight: v.weight,
            }
        }
        Message::Certificate(c) => {
            MessageFields::Certificate(certificate_fields(info, &c.certificate))
        }
    }
}

fn certificate_fields(info: &Info, c: &time_consensus::vote::Certificate) -> CertificateFields {
    CertificateFields {
        step: step_name(c.step).into(),
        block: info.label(&c.block_hash),
        attempt: c.attempt,
        voters: c
            .votes
            .iter()
            .map(|sv| member_name(info, &sv.vote.voter))
            .collect(),
        broken_signatures: c
            .votes
            .iter()
            .filter(|sv| {
                info.directory
                    .position_of(&sv.vote.voter)
                    .is_none_or(|pos| !info.directory.verify_vote(pos, sv))
            })
            .count(),
    }
}

impl MessageFields {
    /// The message in words.
    pub fn sentence(&self, info: &Info) -> String {
        match self {
            MessageFields::Heartbeat { tip, .. } => format!("heartbeat (tip {tip})"),
            MessageFields::Proposal {
                block: b,
                attempt,
                valid_attempt,
                justification,
                ..
            } => match (valid_attempt, justification) {
                (Some(v), Some(c)) if c.attempt == *v => format!(
                    "proposal of {b} for attempt {attempt} (re-proposed, justified by attempt {v}{})",
                    broken(c)
                ),
                (Some(v), Some(c)) => format!(
                    "proposal of {b} for attempt {attempt} (re-proposed, claiming attempt {v} with a certificate of attempt {}{})",
                    c.attempt,
                    broken(c)
                ),
                (Some(v), None) => format!(
                    "proposal of {b} for attempt {attempt} (re-proposed, claiming attempt {v} without a certificate)"
                ),
                (None, _) => format!("proposal of {b} for attempt {attempt}"),
            },
            MessageFields::Vote {
                voter,
                step,
                block,
                attempt,
                approve,
                weight,
            } => {
                let mut s = format!("{step} vote for {block} in attempt {attempt}");
                if !approve {
                    s.push_str(" (against)");
                }
                if info.cfg.behaviour.inflate_weight && *weight == 1000 && voter.ends_with('*') {
                    s.push_str(&format!(" declaring weight {weight}"));
                }
                s
            }
            MessageFields::Certificate(c) => {
                let what = if c.step == "approve" {
                    "approve certificate"
                } else {
                    "finality proof"
                };
                format!(
                    "{what} for {} in attempt {} ({} votes{})",
                    c.block,
                    c.attempt,
                    c.voters.len(),
                    broken(c)
                )
            }
        }
    }
}

/// A message in words.
pub fn describe_message(info: &Info, m: &Message) -> String {
    message_fields(info, m).sentence(info)
}

/// ", one signature broken" (or more) when votes of `c` do not verify: a
/// forgery, which the reader should not take for an honest certificate.
fn broken(c: &CertificateFields) -> String {
    match c.broken_signatures {
        0 => String::new(),
        1 => ", one signature broken".into(),
        n => format!(", {n} signatures broken"),
    }
}

/// A node's timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimerFields {
    /// Phase 1's timeout.
    Heartbeat,
    /// The wait for an attempt's proposal.
    Leader {
        /// The attempt.
        attempt: u32,
    },
    /// The seed flow's voting window.
    VotingWindow {
        /// The attempt.
        attempt: u32,
    },
    /// An attempt's timeout (R7.2).
    Attempt {
        /// The attempt.
        attempt: u32,
    },
}

impl From<&Timer> for TimerFields {
    fn from(t: &Timer) -> Self {
        match *t {
            Timer::Heartbeat { .. } => TimerFields::Heartbeat,
            Timer::Leader { attempt, .. } => TimerFields::Leader { attempt },
            Timer::VotingWindow { attempt, .. } => TimerFields::VotingWindow { attempt },
            Timer::Attempt { attempt, .. } => TimerFields::Attempt { attempt },
        }
    }
}

impl TimerFields {
    /// The timer's firing in words.
    pub fn sentence(&self) -> String {
        match self {
            TimerFields::Heartbeat => "the heartbeat timeout fires".into(),
            TimerFields::Leader { attempt } => {
                format!("the leader timeout of attempt {attempt} fires")
            }
            TimerFields::VotingWindow { attempt } => {
                format!("the voting window of attempt {attempt} closes")
            }
            TimerFields::Attempt { attempt } => format!("the timeout of attempt {attempt} fires"),
        }
    }
}

/// A message in a batch of votes: its sender and fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The sender.
    pub src: String,
    /// The message.
    pub message: MessageFields,
}

/// What happened in a step, field by field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A message delivered.
    Deliver {
        /// The sender.
        src: String,
        /// The receiver.
        dst: String,
        /// The message.
        message: MessageFields,
    },
    /// A message lost by the network.
    Lose {
        /// The sender.
        src: String,
        /// The receiver.
        dst: String,
        /// The message.
        message: MessageFields,
    },
    /// An honest node starts the height.
    Start {
        /// The node.
        actor: String,
    },
    /// An honest node starts the height before what its senders sent it in
    /// their current attempt arrives.
    StartAhead {
        /// The node.
        actor: String,
    },
    /// A node's timer fires.
    Timer {
        /// The node.
        actor: String,
        /// The timer.
        timer: TimerFields,
    },
    /// Votes delivered to one node one after the other (batched delivery).
    Votes {
        /// The receiver.
        dst: String,
        /// The votes, in delivery order.
        votes: Vec<Sent>,
        /// The seed flow's voting window, closing right after.
        then: Option<TimerFields>,
    },
    /// The shared clock moves on (clocked timing).
    Tick {
        /// The new time, ms.
        now_ms: u64,
    },
    /// A node's last explored attempt times out (clocked timing).
    LeavesLadder {
        /// The node.
        actor: String,
    },
    /// An actor-system step the model never takes (a crash, a recovery, a
    /// random choice), as Stateright prints it.
    Other {
        /// Its debug form.
        debug: String,
    },
}

/// An action's fields.
pub fn event(info: &Info, a: &Action) -> Event {
    match a {
        Action::Actor(ActorModelAction::Deliver { src, dst, msg }) => Event::Deliver {
            src: actor_name(info, *src),
            dst: actor_name(info, *dst),
            message: message_fields(info, msg.msg()),
        },
        Action::Actor(ActorModelAction::Drop(env)) => Event::Lose {
            src: actor_name(info, env.src),
            dst: actor_name(info, env.dst),
            message: message_fields(info, env.msg.msg()),
        },
        Action::Actor(ActorModelAction::Timeout(id, McTimer::Start)) => Event::Start {
            actor: actor_name(info, *id),
        },
        Action::Actor(ActorModelAction::Timeout(id, McTimer::Node(t))) => Event::Timer {
            actor: actor_name(info, *id),
            timer: t.into(),
        },
        // Crashes, recoveries and random choices: the model has none.
        Action::Actor(other) => Event::Other {
            debug: format!("{other:?}"),
        },
        Action::Votes { dst, votes, then } => Event::Votes {
            dst: actor_name(info, *dst),
            votes: votes
                .iter()
                .map(|(src, m)| Sent {
                    src: actor_name(info, *src),
                    message: message_fields(info, m.msg()),
                })
                .collect(),
            then: then.as_ref().map(TimerFields::from),
        },
        Action::StartsAhead(id) => Event::StartAhead {
            actor: actor_name(info, *id),
        },
        Action::Tick(t) => Event::Tick { now_ms: *t },
        Action::LeavesLadder(id) => Event::LeavesLadder {
            actor: actor_name(info, *id),
        },
    }
}

impl Event {
    /// The step in words.
    pub fn sentence(&self, info: &Info) -> String {
        match self {
            Event::Deliver { src, dst, message } => {
                format!("{src} → {dst}: {}", message.sentence(info))
            }
            Event::Lose { src, dst, message } => {
                format!("the network loses {src} → {dst}: {}", message.sentence(info))
            }
            Event::Start { actor } => format!("{actor}: starts the height"),
            Event::StartAhead { actor } => format!(
                "{actor}: starts the height before what was sent to it in the senders' current attempt arrives"
            ),
            Event::Timer { actor, timer } => format!("{actor}: {}", timer.sentence()),
            Event::Votes { dst, votes, then } => {
                let parts: Vec<String> = votes
                    .iter()
                    .map(|v| format!("{} ({})", v.src, v.message.sentence(info)))
                    .collect();
                let mut s = format!("{dst} receives {}", parts.join(", then "));
                if let Some(t) = then {
                    s.push_str(&format!("; then {}", t.sentence()));
                }
                s
            }
            Event::Tick { now_ms } => {
                format!("the clock reaches {}.{:03} s", now_ms / 1000, now_ms % 1000)
            }
            Event::LeavesLadder { actor } => format!(
                "{actor}: the timeout of its last explored attempt fires (it leaves the explored ladder)"
            ),
            Event::Other { debug } => debug.clone(),
        }
    }
}

/// An action in words.
pub fn describe_action(info: &Info, a: &Action) -> String {
    event(info, a).sentence(info)
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
    /// What happened, field by field.
    pub event: Event,
    /// What it led to, field by field (one per entry of `effects`).
    pub changes: Vec<Change>,
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

/// A change a step made to an honest node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The node finalizes a block.
    Finalizes {
        /// The node.
        actor: String,
        /// The block, by its label.
        block: String,
        /// Its kind.
        block_kind: BlockKind,
        /// The attempt that decided it.
        attempt: u32,
        /// Seed flaw 4: taken without a single vote.
        unilateral: bool,
    },
    /// A node registered at height 2 only takes height 1's block from a
    /// finality proof that passes R7.8's checks.
    Joins {
        /// The node.
        actor: String,
        /// Height 1's block, by its label.
        block: String,
        /// The attempt of the proof.
        attempt: u32,
    },
    /// The node starts the next height (two heights: as it finalizes).
    StartsHeight {
        /// The node.
        actor: String,
        /// The height.
        height: u64,
    },
    /// The node leaves the height undecided.
    GivesUp {
        /// The node.
        actor: String,
    },
    /// The node moves to another attempt.
    MovesTo {
        /// The node.
        actor: String,
        /// The attempt.
        attempt: u32,
    },
    /// The node locks on a block.
    Locks {
        /// The node.
        actor: String,
        /// The block, by its label.
        block: String,
        /// The attempt of the certificate it locks on.
        attempt: u32,
    },
    /// The node votes in its attempt.
    Votes {
        /// The node.
        actor: String,
        /// The attempt.
        attempt: u32,
    },
}

impl Change {
    /// The change in words.
    pub fn sentence(&self) -> String {
        match self {
            Change::Finalizes {
                actor,
                block,
                block_kind,
                attempt,
                unilateral,
            } => {
                let how = if *unilateral {
                    ", without a single vote"
                } else {
                    ""
                };
                format!("{actor} FINALIZES {block} ({block_kind:?} block, attempt {attempt}{how})")
            }
            Change::Joins {
                actor,
                block,
                attempt,
            } => format!(
                "{actor} JOINS on {block}, from its finality proof of attempt {attempt} (R7.8)"
            ),
            Change::StartsHeight { actor, height } => format!("{actor} starts height {height}"),
            Change::GivesUp { actor } => format!("{actor} gives the height up"),
            Change::MovesTo { actor, attempt } => format!("{actor} moves to attempt {attempt}"),
            Change::Locks {
                actor,
                block,
                attempt,
            } => format!("{actor} locks on {block} (attempt {attempt})"),
            Change::Votes { actor, attempt } => format!("{actor} votes in attempt {attempt}"),
        }
    }
}

/// What a step changed at the honest nodes.
pub fn changes(info: &Info, before: &State, after: &State) -> Vec<Change> {
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
        let actor = || actor_name(info, Id::from(i));
        if let Some(d) = b.last_decision().filter(|d| a.last_decision() != Some(*d)) {
            let change = if !info.cfg.member_at(i, d.height) {
                Change::Joins {
                    actor: actor(),
                    block: info.label(&d.hash),
                    attempt: d.attempt,
                }
            } else {
                Change::Finalizes {
                    actor: actor(),
                    block: info.label(&d.hash),
                    block_kind: d.kind,
                    attempt: d.attempt,
                    unilateral: d.unilateral,
                }
            };
            out.push(change);
            if let Some(r) = b.round() {
                out.push(Change::StartsHeight {
                    actor: actor(),
                    height: r.height(),
                });
            }
            continue;
        }
        if b.round().is_none() && a.round().is_some() && b.last_decision() == a.last_decision() {
            out.push(Change::GivesUp { actor: actor() });
            continue;
        }
        let (Some(ra), Some(rb)) = (a.round(), b.round()) else {
            continue;
        };
        if rb.attempt() != ra.attempt() {
            out.push(Change::MovesTo {
                actor: actor(),
                attempt: rb.attempt(),
            });
        }
        if rb.locked() != ra.locked() {
            if let Some((at, h)) = rb.locked() {
                out.push(Change::Locks {
                    actor: actor(),
                    block: info.label(&h),
                    attempt: at,
                });
            }
        }
        if rb.voted() && !ra.voted() && rb.attempt() == ra.attempt() {
            out.push(Change::Votes {
                actor: actor(),
                attempt: rb.attempt(),
            });
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
        let event = event(&model.info, action);
        let changes = changes(&model.info, before, after);
        steps.push(TraceStep {
            step: i + 1,
            action: event.sentence(&model.info),
            effects: changes.iter().map(Change::sentence).collect(),
            event,
            changes,
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
            let s = &state.actor_states[i];
            let mut parts: Vec<String> = s
                .decisions()
                .map(|d| {
                    format!(
                        "{} ({:?}, attempt {})",
                        model.info.label(&d.hash),
                        d.kind,
                        d.attempt
                    )
                })
                .collect();
            // Two heights: a node running height 2 is undecided there.
            let running = s.node().and_then(NodeState::round);
            if parts.is_empty() || running.is_some_and(|r| r.height() > 1) {
                parts.push("undecided".to_string());
            }
            format!("{name}: {}", parts.join(", then "))
        })
        .collect()
}
