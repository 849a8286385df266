//! `tcm check --trace-out DIR`: each path a check shows (a counterexample,
//! or a `sometimes` property's example) written three ways, for three
//! readers: an ITF trace (the Informal Trace Format that Apalache and Quint
//! emit, for trace tools), a Mermaid sequence diagram (for people), and the
//! node-trace vector of every honest node (for implementations: `tcm conform
//! DIR/vectors` replays them on a fresh node).

use crate::check::{Paths, Report, Status};
use crate::config::ModelConfig;
use crate::model::{Action, State, TcModel};
use crate::trace::{actor_name, event, Change, Event, TraceStep};
use crate::vectors::model_traces::{export_path, slug, PathOf};
use serde_json::{json, Map, Value};
use stateright::actor::Id;
use std::path::{Path, PathBuf};
use time_consensus::node::NodeState;
use time_consensus::Rules;
use time_consensus_vectors::Gen;

/// Why traces could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The directory holds files already: old traces would mix with new.
    #[error("{}: not empty; give a new or empty directory, so that no earlier run's trace is taken for this one's", dir.display())]
    NotEmpty {
        /// The directory.
        dir: PathBuf,
    },
    /// A file or directory could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// The node traces could not be built (a bug, never bad input).
    #[error("the node traces could not be built:\n  {}", .0.join("\n  "))]
    Vectors(Vec<String>),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |error| ExportError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Makes `dir` (if it does not exist) and checks that it is empty: called
/// before the check, so a bad directory costs no search.
pub fn prepare(dir: &Path) -> Result<(), ExportError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
    if entries.next().is_some() {
        return Err(ExportError::NotEmpty {
            dir: dir.to_path_buf(),
        });
    }
    Ok(())
}

/// Writes every path of `report` under `dir`, returning the files written:
/// `<property>.itf.json`, `<property>.mmd`, and
/// `vectors/node_trace/model_<config>_<property>_<node>.json` (of
/// one-height configurations). `command` is the command line, for the
/// files' provenance.
pub fn write(
    dir: &Path,
    cfg: &ModelConfig,
    report: &Report,
    paths: &Paths,
    command: &str,
) -> Result<Vec<PathBuf>, ExportError> {
    let model = TcModel::new(cfg).map_err(|e| ExportError::Vectors(vec![e.to_string()]))?;
    // Everything is built before anything is written: a failure writes
    // nothing.
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut g = Gen::default();
    for (name, path) in paths {
        let Some(verdict) = report.verdict(name) else {
            continue;
        };
        let Some(steps) = &verdict.path else { continue };
        let stem = slug(name);
        let itf = itf(&model, cfg, name, verdict.status, path, command);
        let itf_file = dir.join(format!("{stem}.itf.json"));
        let text = serde_json::to_string_pretty(&itf).map_err(|e| ExportError::Io {
            path: itf_file.clone(),
            error: e.into(),
        })?;
        files.push((itf_file, text + "\n"));
        files.push((
            dir.join(format!("{stem}.mmd")),
            mermaid(&model, name, verdict.status, steps),
        ));
        let what = if verdict.status == Status::Found {
            format!("the example of `{name}`")
        } else {
            format!("the counterexample to `{name}`")
        };
        let of = PathOf {
            command: command.to_string(),
            model_config: serde_json::to_value(cfg).unwrap_or(Value::Null),
            stem: format!("model_{}_{}", slug(&cfg.name), stem),
            property: name.clone(),
            what,
        };
        let ids = exercised_ids(cfg.rules, steps);
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        if cfg.heights == 1 {
            // A node trace replays one height from the genesis tip under
            // one registry: two heights have ITF and Mermaid files only.
            export_path(&mut g, &model, cfg, &of, path, &ids);
        }
    }
    for v in g.finish().map_err(ExportError::Vectors)? {
        let d = dir.join("vectors").join(v.suite.name());
        files.push((d.join(format!("{}.json", v.name)), v.json));
    }
    let mut written = Vec::new();
    for (path, text) in files {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(io(d))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// The rule ids a path exercises at the nodes that live it, for the node
/// traces' `rule_ids`: the ones behind each kind of input and change met.
fn exercised_ids(rules: Rules, steps: &[TraceStep]) -> Vec<String> {
    let reference = rules.has(time_consensus::Amendment::TwoStepLocking);
    let mut ids = std::collections::BTreeSet::new();
    ids.insert(if reference { "R0.6" } else { "S7.1" });
    let mut message = |m: &crate::trace::MessageFields| {
        use crate::trace::MessageFields::*;
        ids.insert(match (m, reference) {
            (Heartbeat { .. }, true) => "R1.2",
            (Heartbeat { .. }, false) => "S1.1",
            (Proposal { .. }, true) => "R4.4",
            (Proposal { .. }, false) => "S4.1",
            (Vote { .. }, true) => "R5.3",
            (Vote { .. }, false) => "S6.1",
            (Certificate(_), _) => "R6.4",
        });
    };
    for s in steps {
        match &s.event {
            Event::Deliver { message: m, .. } => message(m),
            Event::Votes { votes, .. } => votes.iter().for_each(|v| message(&v.message)),
            _ => {}
        }
    }
    for s in steps {
        match &s.event {
            Event::Timer { .. } => {
                ids.insert(if reference { "R7.2" } else { "S6.2" });
            }
            Event::Votes { then: Some(_), .. } => {
                ids.insert("S6.2");
            }
            _ => {}
        }
        for c in &s.changes {
            match c {
                Change::Locks { .. } => {
                    ids.insert("R6.2");
                }
                Change::Finalizes { .. } if reference => {
                    ids.insert("R7.4");
                }
                Change::Joins { .. } => {
                    ids.insert("R7.8");
                }
                _ => {}
            }
        }
    }
    ids.into_iter().map(String::from).collect()
}

// ---- ITF ----

/// An integer as ITF writes it.
fn int(n: u64) -> Value {
    json!({ "#bigint": n.to_string() })
}

/// An optional value as Quint writes it: a `Some`/`None` variant.
fn opt(v: Option<Value>) -> Value {
    match v {
        Some(v) => json!({ "tag": "Some", "value": v }),
        None => json!({ "tag": "None", "value": { "#tup": [] } }),
    }
}

/// A serialized value in ITF: integers as `#bigint`, objects as records
/// whose absent (null) fields are left out.
fn itf_value(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(u) => int(u),
            None => json!({ "#bigint": n.to_string() }),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(itf_value).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, itf_value(v)))
                .collect(),
        ),
        Value::Null => json!({ "#unserializable": "null" }),
        other => other,
    }
}

fn node_view(model: &TcModel, started: bool, n: &NodeState) -> Value {
    let info = &model.info;
    let round = n.round();
    let pair = |(a, h): (u32, time_consensus::primitives::Hash32)| json!({ "#tup": [int(a.into()), info.label(&h)] });
    json!({
        "started": started,
        "attempt": opt(round.map(|r| int(r.attempt().into()))),
        "phase": opt(round.map(|r| Value::String(format!("{:?}", r.phase())))),
        "voted": round.is_some_and(|r| r.voted()),
        "locked": opt(round.and_then(|r| r.locked()).map(pair)),
        "valid": opt(round.and_then(|r| r.valid()).map(|j| pair((j.attempt, j.block_hash)))),
        "decision": opt(n.last_decision().map(|d| json!({
            "block": info.label(&d.hash),
            "kind": format!("{:?}", d.kind),
            "attempt": int(d.attempt.into()),
        }))),
    })
}

fn itf_state(model: &TcModel, index: usize, state: &State, by: Option<&Action>) -> Value {
    let info = &model.info;
    let mut nodes = Vec::new();
    let mut now_ms = None;
    for &i in &info.honest {
        if let crate::actor::McState::Honest(h) = &*state.actor_states[i] {
            nodes.push(json!([
                actor_name(info, Id::from(i)),
                node_view(model, h.started, &h.node)
            ]));
            now_ms = now_ms.or(h.clock.as_ref().map(|c| c.now_ms));
        }
    }
    let mut in_flight: Vec<Value> = state
        .network
        .iter_all()
        .map(|e| {
            json!({
                "src": actor_name(info, e.src),
                "dst": actor_name(info, e.dst),
                "message": itf_value(serde_json::to_value(crate::trace::message_fields(info, e.msg.msg())).unwrap_or(Value::Null)),
            })
        })
        .collect();
    in_flight.sort_by_key(|v| v.to_string());
    let (taken, sentence, ev) = match by {
        None => ("init".to_string(), String::new(), json!({ "kind": "init" })),
        Some(a) => {
            let e = event(info, a);
            let v = serde_json::to_value(&e).unwrap_or(Value::Null);
            let kind = v["kind"].as_str().unwrap_or("").to_string();
            (kind, e.sentence(info), itf_value(v))
        }
    };
    let mut s = Map::new();
    s.insert("#meta".into(), json!({ "index": index }));
    s.insert("nodes".into(), json!({ "#map": nodes }));
    s.insert("in_flight".into(), Value::Array(in_flight));
    if let Some(t) = now_ms {
        s.insert("now_ms".into(), int(t));
    }
    s.insert("mbt::actionTaken".into(), Value::String(taken));
    s.insert("action".into(), Value::String(sentence));
    s.insert("event".into(), ev);
    Value::Object(s)
}

/// The path as an ITF trace: one state per state of the path, each with the
/// honest nodes' views (`nodes`), the messages in flight, the clock (clocked
/// timing), and the action that led to it (`mbt::actionTaken`, its kind, as
/// Quint names it; `action`, in words; `event`, field by field).
pub fn itf(
    model: &TcModel,
    cfg: &ModelConfig,
    property: &str,
    status: Status,
    path: &[(State, Option<Action>)],
    command: &str,
) -> Value {
    let clocked = path.first().is_some_and(|(s, _)| {
        s.actor_states
            .iter()
            .any(|a| matches!(&**a, crate::actor::McState::Honest(h) if h.clock.is_some()))
    });
    let mut vars = vec!["nodes", "in_flight"];
    if clocked {
        vars.push("now_ms");
    }
    vars.extend(["mbt::actionTaken", "action", "event"]);
    let states: Vec<Value> = path
        .iter()
        .enumerate()
        .map(|(i, (s, _))| {
            let by = i.checked_sub(1).and_then(|j| path[j].1.as_ref());
            itf_state(model, i, s, by)
        })
        .collect();
    json!({
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": command,
            "description": format!("{} of `{property}` in configuration `{}` ({} rules): {status}",
                if status == Status::Found { "An example" } else { "A counterexample" }, cfg.name, cfg.rules),
            "property": property,
            "status": status.as_str(),
        },
        "vars": vars,
        "states": states,
    })
}

// ---- Mermaid ----

/// Text as a Mermaid message label: `;` and `#` are Mermaid's own.
fn label(s: &str) -> String {
    s.replace('#', "#35;").replace(';', "#59;")
}

/// The path as a Mermaid sequence diagram: a participant per masternode
/// (`*` marks Byzantine ones), an arrow per message delivered (crossed when
/// lost), a note per timer, start and change, each headed by its step.
pub fn mermaid(model: &TcModel, property: &str, status: Status, steps: &[TraceStep]) -> String {
    let info = &model.info;
    let n = info.cfg.tiers.len();
    let id = |name: &str| name.trim_end_matches('*').to_string();
    let mut out = format!(
        "sequenceDiagram\n    title {}\n",
        label(&format!("{property}: {status} ({})", info.cfg.name))
    );
    for i in 0..n {
        let name = actor_name(info, Id::from(i));
        out.push_str(&format!(
            "    participant {} as {}\n",
            id(&name),
            label(&name)
        ));
    }
    let (first, last) = (
        id(&actor_name(info, Id::from(0))),
        id(&actor_name(info, Id::from(n.saturating_sub(1)))),
    );
    let note = |out: &mut String, over: &str, text: &str| {
        out.push_str(&format!("    Note over {over}: {}\n", label(text)));
    };
    for s in steps {
        let k = s.step;
        match &s.event {
            Event::Deliver { src, dst, message } => out.push_str(&format!(
                "    {}->>{}: {k}. {}\n",
                id(src),
                id(dst),
                label(&message.sentence(info))
            )),
            Event::Lose { src, dst, message } => out.push_str(&format!(
                "    {}-x{}: {k}. lost: {}\n",
                id(src),
                id(dst),
                label(&message.sentence(info))
            )),
            Event::Votes { dst, votes, then } => {
                for v in votes {
                    out.push_str(&format!(
                        "    {}->>{}: {k}. {}\n",
                        id(&v.src),
                        id(dst),
                        label(&v.message.sentence(info))
                    ));
                }
                if let Some(t) = then {
                    note(&mut out, &id(dst), &format!("{k}. {}", t.sentence()));
                }
            }
            Event::Start { actor }
            | Event::StartAhead { actor }
            | Event::Timer { actor, .. }
            | Event::LeavesLadder { actor } => {
                let text = s
                    .action
                    .strip_prefix(&format!("{actor}: "))
                    .unwrap_or(&s.action);
                note(&mut out, &id(actor), &format!("{k}. {text}"))
            }
            Event::Tick { .. } | Event::Other { .. } => note(
                &mut out,
                &format!("{first},{last}"),
                &format!("{k}. {}", s.action),
            ),
        }
        for (c, text) in s.changes.iter().zip(&s.effects) {
            let actor = match c {
                Change::Finalizes { actor, .. }
                | Change::Joins { actor, .. }
                | Change::StartsHeight { actor, .. }
                | Change::GivesUp { actor }
                | Change::MovesTo { actor, .. }
                | Change::Locks { actor, .. }
                | Change::Votes { actor, .. } => actor,
            };
            note(&mut out, &id(actor), text);
        }
    }
    out
}
