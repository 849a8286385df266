//! Node traces exported from the model checker: for each path it finds (the
//! seed rules' counterexamples, the reference rules' ways to end a height),
//! the inputs each honest node received, replayed on a fresh node, so that
//! any implementation can replay what the model proved.

use crate::actor::{McState, McTimer, Packet};
use crate::check::find_paths;
use crate::config::ModelConfig;
use crate::model::{Action, State, TcModel};
use crate::trace::{actor_name, describe_action};
use serde_json::Value;
use stateright::actor::{ActorModelAction, Id};
use std::collections::BTreeMap;
use time_consensus::crypto::SignatureScheme;
use time_consensus::encoding::sha256;
use time_consensus::node::{Input, StartHeight};
use time_consensus::sim::genesis_tip;
use time_consensus_vectors::format::{Member, Origin};
use time_consensus_vectors::suites::node_trace::{
    replay, visible_state, NodeTraceIn, TraceSetup, TraceStep,
};
use time_consensus_vectors::Gen;

/// The searches whose paths are exported, with the ids they exercise.
const SEARCHES: &[(&str, &[&str], &[&str])] = &[
    ("seed", &["agreement"], &["S6.1", "S6.2", "S6.3", "S7.1"]),
    ("seed-flaw1", &["agreement"], &["S6.2", "S6.3"]),
    ("seed-flaw2", &["agreement"], &["A1", "S6.1", "S6.2"]),
    ("seed-flaw3", &["agreement"], &["A1", "A2", "S7.1"]),
    ("seed-flaw4", &["agreement"], &["S7.2", "S7.3"]),
    ("reference-A4", &["agreement"], &["R6.2", "R7.1", "S7.3"]),
    ("reference-tight", &["agreement"], &["R5.3", "R5.7", "R7.4"]),
    (
        "reference-gst-one-emergency",
        &["emergency liveness"],
        &["R7.2", "R7.3", "R6.3", "R6.4"],
    ),
];

const ENDINGS: &[&str] = &[
    "finalized in attempt 0",
    "finalized after a rotation",
    "finalized a reward-only block",
    "finalized the emergency block",
];

/// Adds every exported trace to `g`.
pub fn model_traces(g: &mut Gen) {
    for (preset, props, ids) in SEARCHES {
        let cfg = ModelConfig::preset(preset).expect("preset");
        export(g, &cfg, preset, props, ids);
    }
    export(
        g,
        &ModelConfig::preset("reference").expect("preset"),
        "reference",
        ENDINGS,
        &["R7.1", "R7.2", "R7.3", "R7.4", "R6.5"],
    );
    start_ahead(g);
}

/// The shortest path of `reference-staggered` in which a node starts ahead
/// of its senders' current attempt, taking in what they sent in attempts
/// they have left, and every honest node then decides: a start no other
/// vector replays.
fn start_ahead(g: &mut Gen) {
    let preset = "reference-staggered";
    let made = ModelConfig::preset(preset).and_then(|c| TcModel::new(&c).map(|m| (c, m)));
    let (cfg, model) = match made {
        Ok(x) => x,
        Err(e) => return g.error(format!("start-ahead trace: {e}")),
    };
    let Some(path) = shortest_start_ahead(&model) else {
        return g.error("start-ahead trace: no path found".into());
    };
    let of = PathOf {
        command: format!("tcm check --config {preset}"),
        model_config: Value::String(preset.into()),
        stem: "model_reference_staggered_start_ahead".into(),
        property: "emergency liveness".into(),
        what: "a path where a node starts ahead of its senders' current attempt, taking in what they sent in attempts they have left, and every honest node decides,".into(),
    };
    export_path(g, &model, &cfg, &of, &path, &["R0.7", "R7.1", "R7.7"]);
}

/// Breadth-first: the shortest path to a state where every honest node has
/// decided, through a start ahead that took in at least one message.
fn shortest_start_ahead(model: &TcModel) -> Option<Vec<(State, Option<Action>)>> {
    use stateright::Model;
    use std::collections::{HashMap, VecDeque};
    use std::hash::{BuildHasher, BuildHasherDefault};
    type Key = (u64, bool);
    let key = |s: &State, took: bool| -> Key {
        (
            BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(s),
            took,
        )
    };
    let mut parent: HashMap<Key, Option<(Key, Action)>> = HashMap::new();
    let mut states: HashMap<Key, State> = HashMap::new();
    let mut queue = VecDeque::new();
    for s in model.init_states() {
        let k = key(&s, false);
        if parent.insert(k, None).is_none() {
            states.insert(k, s);
            queue.push_back(k);
        }
    }
    let mut actions = Vec::new();
    while let Some(k) = queue.pop_front() {
        let s = states[&k].clone();
        let done = model.info.honest.iter().all(|&i| {
            s.actor_states[i]
                .node()
                .and_then(|n| n.last_decision())
                .is_some()
        });
        if k.1 && done {
            let mut path = vec![(s, None)];
            let mut at = k;
            while let Some(Some((p, a))) = parent.get(&at) {
                path.push((states[p].clone(), Some(a.clone())));
                at = *p;
            }
            path.reverse();
            return Some(path);
        }
        model.actions(&s, &mut actions);
        for a in actions.drain(..) {
            let took = k.1
                || matches!(&a, Action::StartsAhead(x)
                    if !model.taken_in_at_start(&s, *x, true).is_empty());
            let Some(next) = model.next_state(&s, a.clone()) else {
                continue;
            };
            let nk = key(&next, took);
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(nk) {
                e.insert(Some((k, a)));
                states.insert(nk, next);
                queue.push_back(nk);
            }
        }
    }
    None
}

/// `s` in lower case, with runs of anything but letters and digits as one `_`.
pub fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn export(g: &mut Gen, cfg: &ModelConfig, preset: &str, props: &[&'static str], ids: &[&str]) {
    let (model, paths) = match find_paths(cfg, props) {
        Ok(x) => x,
        Err(e) => return g.error(format!("model traces of {preset}: {e}")),
    };
    for (prop, path) in paths {
        let what = if ENDINGS.contains(&prop.as_str()) {
            format!("the example of `{prop}`")
        } else {
            format!("the counterexample to `{prop}`")
        };
        let of = PathOf {
            command: format!("tcm check --config {preset}"),
            model_config: Value::String(preset.into()),
            stem: format!("model_{}_{}", slug(preset), slug(&prop)),
            property: prop.clone(),
            what,
        };
        export_path(g, &model, cfg, &of, &path, ids);
    }
}

/// Where a path comes from, as its vectors tell it.
pub struct PathOf {
    /// The command that finds it (`tcm check --config reference`).
    pub command: String,
    /// The configuration: a preset's name, or the whole configuration.
    pub model_config: Value,
    /// The vectors' name stem; each adds `_<actor>`.
    pub stem: String,
    /// The property.
    pub property: String,
    /// "the counterexample to `agreement`", "the example of `...`".
    pub what: String,
}

/// Adds one node trace per honest node of `path`: its inputs along the
/// path, replayed on a fresh node. A replay that ends anywhere but where the
/// model's node ended is a generator error: the model and a node fed the
/// same inputs must agree.
pub fn export_path(
    g: &mut Gen,
    model: &TcModel,
    cfg: &ModelConfig,
    of: &PathOf,
    path: &[(State, Option<Action>)],
    ids: &[&str],
) {
    let words: Vec<String> = path
        .iter()
        .filter_map(|(_, a)| a.as_ref().map(|a| describe_action(&model.info, a)))
        .collect();
    let last = path.last().map(|(s, _)| s);
    for (actor, inputs) in inputs_per_actor(model, cfg, path) {
        let name = actor_name(&model.info, Id::from(actor));
        let label = format!("mn{actor:03}");
        let setup = TraceSetup {
            scheme: SignatureScheme::Symbolic,
            secret_seed: sha256(label.as_bytes()),
            key_label: Some(label),
            masternodes: model
                .info
                .registry
                .members()
                .iter()
                .map(Member::from)
                .collect(),
            config: cfg.orchestrator(),
            tip: genesis_tip(),
            join: None,
        };
        let vector = format!("{}_{}", of.stem, slug(&name));
        let trace = NodeTraceIn {
            setup: setup.clone(),
            steps: inputs
                .iter()
                .map(|input| TraceStep {
                    input: input.clone(),
                    outputs: Vec::new(),
                })
                .collect(),
        };
        let modelled = last.and_then(|s| s.actor_states[actor].node());
        match (replay(cfg.rules, &trace), modelled) {
            (Ok(r), Some(n)) if r.final_state == visible_state(n) => {}
            (Ok(r), n) => {
                return g.error(format!(
                    "node_trace/{vector}: the replay ends in {:?}, the model's node in {:?}",
                    r.final_state,
                    n.map(visible_state)
                ))
            }
            (Err(e), _) => return g.error(format!("node_trace/{vector}: {e}")),
        }
        let description = format!(
            "Exported from the model checker (`{}`): {} as {name} lived it. The node's inputs along the path, replayed on a fresh node.",
            of.command, of.what
        );
        let origin = Origin {
            tool: "tcm check".into(),
            model_config: Some(of.model_config.clone()),
            property: Some(of.property.clone()),
            path: Some(words.clone()),
            actor: Some(name.clone()),
        };
        g.trace_from(
            &vector,
            cfg.rules,
            &description,
            ids,
            setup,
            inputs,
            Some(origin),
        );
    }
}

/// What each honest node received along `path`: its start, then every
/// message delivered to it and every timer it fired, in order.
fn inputs_per_actor(
    model: &TcModel,
    cfg: &ModelConfig,
    path: &[(State, Option<Action>)],
) -> BTreeMap<usize, Vec<Input>> {
    let start = || {
        Input::Start(StartHeight {
            date: cfg.date(),
            mempool: Vec::new(),
            presynchronized: !cfg.phase1,
        })
    };
    let staggered = cfg.timing.starts_apart();
    let mut inputs: BTreeMap<usize, Vec<Input>> = model
        .info
        .honest
        .iter()
        .map(|&i| (i, if staggered { vec![] } else { vec![start()] }))
        .collect();
    let mut push = |id: Id, input: Input| {
        if let Some(v) = inputs.get_mut(&usize::from(id)) {
            v.push(input);
        }
    };
    // A delivery the model ignores (lost before the node started) is no
    // input of the node.
    let lost = |state: &State, dst: &Id, src: &Id, msg: &Packet| {
        matches!(&*state.actor_states[usize::from(*dst)],
            McState::Honest(h) if h.started && h.lost.contains(&(*src, msg.clone())))
    };
    for (state, action) in path {
        match action {
            Some(Action::Actor(ActorModelAction::Deliver { src, dst, msg }))
                if !lost(state, dst, src, msg) =>
            {
                push(*dst, Input::Message(msg.msg().clone()))
            }
            Some(
                a @ (Action::Actor(ActorModelAction::Timeout(id, McTimer::Start))
                | Action::StartsAhead(id)),
            ) => {
                // What the start takes in arrives first (kept or refused);
                // after a start ahead the rest comes by deliveries of its own.
                let ahead = matches!(a, Action::StartsAhead(_));
                for (_, m) in model.taken_in_at_start(state, *id, ahead) {
                    push(*id, Input::Message(m.msg().clone()));
                }
                push(*id, start())
            }
            Some(Action::Actor(ActorModelAction::Timeout(id, McTimer::Node(t)))) => {
                push(*id, Input::Timer(*t))
            }
            Some(Action::Votes { dst, votes, then }) => {
                for (src, m) in votes {
                    if !lost(state, dst, src, m) {
                        push(*dst, Input::Message(m.msg().clone()));
                    }
                }
                if let Some(t) = then {
                    push(*dst, Input::Timer(*t));
                }
            }
            _ => {}
        }
    }
    inputs
}
