//! What Stateright's Explorer shows of the model: a state in the protocol's
//! terms (the Current State pane: [`state_text`]) and a path as a sequence
//! diagram ([`svg`]). The Debug form of a state is some 40,000 characters
//! of nested structs; a reader wants, per masternode, where it is and what
//! it has counted against the quorum, and the messages in flight.

use crate::actor::{McState, Packet};
use crate::model::{step_name, Action, Info, State, TcModel};
use crate::trace::{actor_name, describe_message, trace_steps, Change, Event};
use stateright::actor::Id;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use time_consensus::node::NodeState;
use time_consensus::vote::Step;

/// The state in the protocol's terms: each masternode (an honest node's
/// attempt, phase, lock, valid block, decision and tallies against the
/// quorum; a Byzantine node's votes sent), the clock, then the messages in
/// flight grouped by sender and message.
pub fn state_text(model: &TcModel, state: &State) -> String {
    let info = &model.info;
    let mut out = String::new();
    for (i, s) in state.actor_states.iter().enumerate() {
        let name = actor_name(info, Id::from(i));
        match &**s {
            McState::Honest(h) => {
                let _ = writeln!(out, "{name} {}", node_line(info, h.started, &h.node));
                for line in tally_lines(info, &h.node) {
                    let _ = writeln!(out, "    {line}");
                }
                if !h.lost.is_empty() {
                    let _ = writeln!(
                        out,
                        "    {} message(s) refused before its start (lost to it)",
                        h.lost.len()
                    );
                }
                if let Some(c) = &h.clock {
                    let deadlines: Vec<String> = c
                        .deadlines
                        .iter()
                        .map(|(t, at)| {
                            format!(
                                "{} at {}",
                                crate::trace::TimerFields::from(t).sentence(),
                                seconds(*at)
                            )
                        })
                        .collect();
                    let _ = writeln!(
                        out,
                        "    clock {}{}; timers: {}",
                        seconds(c.now_ms),
                        if c.out {
                            ", left the explored ladder"
                        } else {
                            ""
                        },
                        if deadlines.is_empty() {
                            "none".to_string()
                        } else {
                            deadlines.join(", ")
                        }
                    );
                }
            }
            McState::Byzantine(b) => {
                let voted: Vec<String> = b
                    .voted
                    .iter()
                    .map(|(a, st, h)| format!("{} {a} {}", step_name(*st), info.label(h)))
                    .collect();
                let _ = writeln!(
                    out,
                    "{name} Byzantine ({}); votes sent: {}{}",
                    info.cfg.behaviour,
                    if voted.is_empty() {
                        "none".to_string()
                    } else {
                        voted.join(", ")
                    },
                    if b.forged.is_empty() {
                        String::new()
                    } else {
                        format!("; forged from {} honest vote(s)", b.forged.len())
                    }
                );
            }
        }
    }
    let mut flight: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    for e in state.network.iter_all() {
        let what = describe_message(info, e.msg.msg());
        let what = if e.msg.is_answer() {
            format!("{what} (an answer, R7.6)")
        } else {
            what
        };
        flight
            .entry((usize::from(e.src), what))
            .or_default()
            .push(usize::from(e.dst));
    }
    let _ = writeln!(out, "\nin flight ({} message(s)):", state.network.len());
    if flight.is_empty() {
        let _ = writeln!(out, "    nothing");
    }
    for ((src, what), mut dsts) in flight {
        dsts.sort_unstable();
        dsts.dedup();
        let to: Vec<String> = dsts
            .into_iter()
            .map(|d| actor_name(info, Id::from(d)))
            .collect();
        let _ = writeln!(
            out,
            "    {} → {}: {what}",
            actor_name(info, Id::from(src)),
            to.join(", ")
        );
    }
    out
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

/// Where an honest node is: not started, phase, attempt, vote, lock, valid
/// block, decision.
fn node_line(info: &Info, started: bool, n: &NodeState) -> String {
    let decision = match n.last_decision() {
        // Two heights: a node running height 2 shows its tip's decision.
        Some(d) if n.round().is_some() => {
            format!("height {} on {}", d.height + 1, info.label(&d.hash))
        }
        Some(d) => format!(
            "FINALIZED {} ({:?}, attempt {})",
            info.label(&d.hash),
            d.kind,
            d.attempt
        ),
        None => "undecided".to_string(),
    };
    let Some(r) = n.round() else {
        return match (started, n.last_decision()) {
            (_, Some(_)) => decision,
            (false, None) => "not started".into(),
            (true, None) => "gave the height up (S1.4)".into(),
        };
    };
    let mut parts = vec![if r.started() {
        format!("attempt {}", r.attempt())
    } else {
        "phase 1".to_string()
    }];
    parts.push(format!("{:?}", r.phase()));
    if r.voted() {
        parts.push("voted".into());
    }
    if let Some((a, h)) = r.locked() {
        parts.push(format!("locked on {} (attempt {a})", info.label(&h)));
    }
    if let Some(v) = r.valid() {
        parts.push(format!(
            "valid {} (attempt {})",
            info.label(&v.block_hash),
            v.attempt
        ));
    }
    parts.push(decision);
    parts.join(" · ")
}

/// The node's tallies, one line per attempt and step with a vote: each
/// block's weight against the quorum and its voters.
fn tally_lines(info: &Info, n: &NodeState) -> Vec<String> {
    let Some(r) = n.round() else {
        return Vec::new();
    };
    // A quorum over the registry is A1's; the seed flow without it weighs
    // the approvals against the votes received (S6.3): no fixed quorum.
    let quorum = info
        .cfg
        .rules
        .has(time_consensus::Amendment::QuorumOverRegistry)
        .then(|| r.height_ctx().weights().quorum());
    let mut lines = Vec::new();
    for a in 0..=info.cfg.max_attempt {
        for step in [Step::Approve, Step::Commit] {
            let Some(t) = r.tally(a, step) else {
                continue;
            };
            let blocks: Vec<String> = t
                .sums()
                .iter()
                .map(|(h, w)| {
                    let voters: Vec<String> = t
                        .votes_for(h)
                        .map(|(pos, _)| {
                            let i = info.actor_at(r.height(), pos).unwrap_or(pos);
                            actor_name(info, Id::from(i))
                        })
                        .collect();
                    let against = match quorum {
                        Some(q) if *w >= q => format!("{w}/{q} QUORUM"),
                        Some(q) => format!("{w}/{q}"),
                        None => format!("weight {w}"),
                    };
                    format!("{} {against} ({})", info.label(h), voters.join(" "))
                })
                .collect();
            lines.push(format!(
                "{} votes of attempt {a}: {}",
                step_name(step),
                blocks.join("; ")
            ));
        }
    }
    let pooled = r.pooled_votes();
    if !pooled.is_empty() {
        let votes: Vec<String> = pooled
            .values()
            .map(|v| {
                format!(
                    "{} for {} (attempt {}, weight {})",
                    info.directory.index_of(&v.voter).map_or_else(
                        || v.voter.as_str().to_string(),
                        |p| actor_name(info, Id::from(p))
                    ),
                    info.label(&v.block_hash),
                    v.attempt,
                    v.weight
                )
            })
            .collect();
        lines.push(format!(
            "votes pooled over the height: {}",
            votes.join("; ")
        ));
    }
    lines
}

/// Text as SVG character data.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// Longest step label drawn; the whole sentence is the label's tooltip.
const LABEL_CHARS: usize = 120;

/// The path as a sequence diagram in Stateright's Explorer style (its CSS
/// classes): a timeline per masternode, an arrow per message delivered
/// from the step that sent it, a cross for a message lost, a dot per timer
/// or start, each row labelled with its step and what it changed.
pub fn svg(model: &TcModel, path: &[(State, Option<Action>)]) -> String {
    let info = &model.info;
    let n = info.cfg.tiers.len();
    let steps = trace_steps(model, path);
    let (col, row) = (110u64, 30u64);
    let x = |i: usize| 20 + i as u64 * col;
    let y = |k: usize| 40 + k as u64 * row;
    let label_x = x(n.saturating_sub(1)) + 40;
    let width = label_x + 9 * LABEL_CHARS as u64;
    let height = y(steps.len()) + row;
    let mut s = format!(
        "<svg version='1.1' baseProfile='full' width='{width}' height='{height}' \
         viewBox='0 0 {width} {height}' xmlns='http://www.w3.org/2000/svg'>\
         <defs><marker class='svg-event-shape' id='tcm-arrow' markerWidth='12' markerHeight='10' \
         refX='12' refY='5' orient='auto'><polygon points='0 0, 12 5, 0 10' /></marker></defs>"
    );
    for i in 0..n {
        let _ = write!(
            s,
            "<line x1='{0}' y1='{1}' x2='{0}' y2='{2}' class='svg-actor-timeline' />\
             <text x='{0}' y='20' text-anchor='middle' class='svg-actor-label'>{3}</text>",
            x(i),
            y(0) - 10,
            height - 10,
            esc(&actor_name(info, Id::from(i)))
        );
    }
    // The step at which each envelope first appears on the network: its send.
    let mut sent: HashMap<(Id, Id, Packet), usize> = HashMap::new();
    for (k, (st, _)) in path.iter().enumerate() {
        for e in st.network.iter_all() {
            sent.entry((e.src, e.dst, e.msg.clone())).or_insert(k);
        }
    }
    let index = |name: &str| {
        (0..n)
            .find(|&i| actor_name(info, Id::from(i)) == name)
            .unwrap_or(0)
    };
    for (k0, step) in steps.iter().enumerate() {
        let k = k0 + 1;
        let arrow = |s: &mut String, src: Id, dst: Id, p: &Packet| {
            let from = sent.get(&(src, dst, p.clone())).copied().unwrap_or(k0);
            let _ = write!(
                s,
                "<line x1='{}' y1='{}' x2='{}' y2='{}' marker-end='url(#tcm-arrow)' class='svg-event-line' />",
                x(usize::from(src)),
                y(from),
                x(usize::from(dst)),
                y(k)
            );
        };
        match (&path[k0].1, &step.event) {
            (
                Some(Action::Actor(stateright::actor::ActorModelAction::Deliver { src, dst, msg })),
                _,
            ) => arrow(&mut s, *src, *dst, msg),
            (Some(Action::Votes { dst, votes, .. }), _) => {
                for (src, p) in votes {
                    arrow(&mut s, *src, *dst, p);
                }
            }
            (Some(Action::Actor(stateright::actor::ActorModelAction::Drop(env))), _) => {
                let (x1, x2) = (x(usize::from(env.src)), x(usize::from(env.dst)));
                let mid = (x1 + x2) / 2;
                let _ = write!(
                    s,
                    "<line x1='{x1}' y1='{0}' x2='{mid}' y2='{0}' stroke-dasharray='4' class='svg-event-line' />\
                     <text x='{mid}' y='{1}' text-anchor='middle' class='svg-event-label'>✕</text>",
                    y(k),
                    y(k) + 5
                );
            }
            (_, Event::Tick { .. }) => {
                let _ = write!(
                    s,
                    "<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke-dasharray='2 6' class='svg-event-line' />",
                    x(0),
                    y(k),
                    x(n.saturating_sub(1))
                );
            }
            (
                _,
                Event::Start { actor }
                | Event::StartAhead { actor }
                | Event::Timer { actor, .. }
                | Event::LeavesLadder { actor },
            ) => {
                let _ = write!(
                    s,
                    "<circle cx='{}' cy='{}' r='7' class='svg-event-shape' />",
                    x(index(actor)),
                    y(k)
                );
            }
            _ => {}
        }
        for c in &step.changes {
            if let Change::Finalizes { actor, .. } = c {
                let _ = write!(
                    s,
                    "<rect x='{}' y='{}' width='12' height='12' class='svg-event-shape' />",
                    x(index(actor)) - 6,
                    y(k) - 6
                );
            }
        }
        let full = step.one_line();
        let mut shown: String = full.chars().take(LABEL_CHARS).collect();
        if shown.len() < full.len() {
            shown.push('…');
        }
        let _ = write!(
            s,
            "<text x='{label_x}' y='{}' class='svg-event-label'><title>{}</title>{k}. {}</text>",
            y(k) + 4,
            esc(&format!("{k}. {full}")),
            esc(&shown)
        );
    }
    s.push_str("</svg>");
    s
}
