//! A hand-driven network of nodes for the integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use time_consensus::crypto::Keypair;
use time_consensus::event::{Event, Rejection};
use time_consensus::message::{Message, Proposal, SignedProposal};
use time_consensus::node::{Context, Input, Node, Output, StartHeight, Timer};
use time_consensus::primitives::{Date, Hash32, NodeId};
use time_consensus::registry::{Registry, Tier};
use time_consensus::sim::{genesis_tip, test_network};
use time_consensus::vote::{Step, Vote};
use time_consensus::{OrchestratorConfig, Rules, SignatureScheme};

pub struct Net {
    pub registry: Arc<Registry>,
    pub keys: Vec<Keypair>,
    pub ids: Vec<NodeId>,
    pub nodes: Vec<Node>,
    pub rules: Rules,
    pub date: Date,
}

pub fn date() -> Date {
    "2025-11-01".parse().unwrap()
}

impl Net {
    /// `n` nodes `mn000..` with the given tiers, registered long ago.
    pub fn new(tiers: &[Tier], rules: Rules) -> Net {
        Self::with_config(tiers, rules, OrchestratorConfig::default())
    }

    pub fn with_config(tiers: &[Tier], rules: Rules, config: OrchestratorConfig) -> Net {
        let reg_date: Date = "2025-01-01".parse().unwrap();
        let (registry, keys) =
            test_network(tiers.len(), tiers, SignatureScheme::Ed25519, reg_date).unwrap();
        let nodes: Vec<Node> = keys
            .iter()
            .map(|k| {
                Node::new(
                    Context::new(k.clone(), registry.clone(), rules, config.clone()).unwrap(),
                    genesis_tip(),
                )
            })
            .collect();
        let ids = nodes.iter().map(|n| n.context().id().clone()).collect();
        Net {
            registry,
            keys,
            ids,
            nodes,
            rules,
            date: date(),
        }
    }

    pub fn start(&mut self, i: usize, presynchronized: bool) -> Vec<Output> {
        let d = self.date;
        self.nodes[i].handle(Input::Start(StartHeight {
            date: d,
            mempool: vec![],
            presynchronized,
        }))
    }

    pub fn deliver(&mut self, i: usize, m: Message) -> Vec<Output> {
        self.nodes[i].handle(Input::Message(m))
    }

    pub fn fire(&mut self, i: usize, t: Timer) -> Vec<Output> {
        self.nodes[i].handle(Input::Timer(t))
    }

    /// Index of the leader of `attempt`, as node `observer` sees it.
    pub fn leader(&self, observer: usize, attempt: u32) -> Option<usize> {
        let n = &self.nodes[observer];
        let l = n.state().round().unwrap().leader(n.context(), attempt)?;
        Some(self.ids.iter().position(|x| *x == l).unwrap())
    }

    pub fn vote(
        &self,
        i: usize,
        attempt: u32,
        step: Step,
        block: Hash32,
        approve: bool,
        weight: u64,
    ) -> Message {
        let vote = Vote {
            height: 1,
            attempt,
            step,
            voter: self.ids[i].clone(),
            block_hash: block,
            approve,
            weight,
        };
        Message::Vote(vote.sign(&self.keys[i]))
    }

    pub fn sign_proposal(&self, i: usize, proposal: Proposal) -> Message {
        Message::Proposal(proposal.sign(&self.keys[i]))
    }
}

pub fn broadcasts(outs: &[Output]) -> Vec<Message> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Broadcast(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

pub fn events(outs: &[Output]) -> Vec<Event> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

pub fn timers(outs: &[Output]) -> Vec<Timer> {
    outs.iter()
        .filter_map(|o| match o {
            Output::SetTimer { timer, .. } => Some(*timer),
            _ => None,
        })
        .collect()
}

pub fn rejections(outs: &[Output]) -> Vec<Rejection> {
    events(outs)
        .into_iter()
        .filter_map(|e| match e {
            Event::Rejected(r) => Some(r),
            _ => None,
        })
        .collect()
}

pub fn proposal_of(outs: &[Output]) -> Option<SignedProposal> {
    broadcasts(outs).into_iter().find_map(|m| match m {
        Message::Proposal(p) => Some(p),
        _ => None,
    })
}

pub fn finalized(outs: &[Output]) -> Option<Hash32> {
    events(outs).into_iter().find_map(|e| match e {
        Event::BlockFinalized { hash, .. } => Some(hash),
        _ => None,
    })
}

/// Delivers every broadcast to every other node, FIFO, until none is left,
/// skipping deliveries `keep` refuses. Returns all outputs per node.
pub fn pump(
    net: &mut Net,
    initial: Vec<(usize, Vec<Output>)>,
    keep: impl Fn(usize, usize, &Message) -> bool,
) -> Vec<Vec<Output>> {
    let mut all: Vec<Vec<Output>> = vec![Vec::new(); net.nodes.len()];
    let mut queue = std::collections::VecDeque::new();
    for (i, outs) in initial {
        for m in broadcasts(&outs) {
            queue.push_back((i, m));
        }
        all[i].extend(outs);
    }
    while let Some((from, m)) = queue.pop_front() {
        for (to, sink) in all.iter_mut().enumerate() {
            if to == from || !keep(from, to, &m) {
                continue;
            }
            let outs = net.deliver(to, m.clone());
            for b in broadcasts(&outs) {
                queue.push_back((to, b));
            }
            sink.extend(outs);
        }
    }
    all
}

impl Net {
    /// A copy (nodes cloned) for exploring a branch.
    pub fn clone_without(&self, _skip: usize) -> Net {
        Net {
            registry: self.registry.clone(),
            keys: self.keys.clone(),
            ids: self.ids.clone(),
            nodes: self.nodes.clone(),
            rules: self.rules,
            date: self.date,
        }
    }
}
