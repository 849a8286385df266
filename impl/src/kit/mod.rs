//! A test kit: a hand-driven network of real nodes that records what each
//! node was given and what it answered, and the named [`scenarios`] that the
//! node's tests assert on and the conformance vectors record, each written
//! once.
//!
//! Fixtures: node `i` is `mn{i:03}` of [`crate::sim::test_network`]
//! (registered 2025-01-01, reputation 1.0), on top of
//! [`crate::sim::genesis_tip`], deciding height 1 on local date 2025-11-01
//! with the default configuration unless told otherwise.

pub mod scenarios;

use crate::block::{Block, BlockContext};
use crate::config::OrchestratorConfig;
use crate::crypto::{Keypair, SignatureScheme};
use crate::event::{Event, Rejection};
use crate::heartbeat::SignedHeartbeat;
use crate::message::{Message, Proposal, SignedProposal};
use crate::node::{Context, Input, Node, NodeError, Output, StartHeight, Timer};
use crate::primitives::{Date, Hash32, NodeId};
use crate::registry::{Registry, RegistryError, Tier};
use crate::rules::{Amendment, Rules};
use crate::sim::{genesis_tip, test_network};
use crate::vote::{Certificate, SignedVote, Step, Vote};
use std::collections::VecDeque;
use std::sync::Arc;

/// Why a kit network or scenario could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KitError {
    /// The fixture registry was refused.
    #[error("the fixture registry: {0}")]
    Registry(#[from] RegistryError),
    /// A node could not be built (a configuration the rules refuse).
    #[error("a fixture node: {0}")]
    Node(#[from] NodeError),
    /// A finality proof a scenario joins from was refused (R7.8).
    #[error("a fixture node's join: {0}")]
    Join(#[from] crate::node::JoinError),
    /// A fact a scenario relies on did not hold (a change of behaviour).
    #[error("the scenario expected {expected}")]
    Unexpected {
        /// What the scenario expected.
        expected: &'static str,
    },
}

/// `Some(x)`, or the [`KitError::Unexpected`] naming what was expected.
pub fn require<T>(x: Option<T>, expected: &'static str) -> Result<T, KitError> {
    x.ok_or(KitError::Unexpected { expected })
}

/// One input a node handled and what it answered.
#[derive(Clone, Debug)]
pub struct Handled {
    /// The input.
    pub input: Input,
    /// The node's outputs for it.
    pub outputs: Vec<Output>,
}

/// The local date the fixtures decide height 1 on.
pub const DATE: Date = match Date::from_ymd(2025, 11, 1) {
    Some(d) => d,
    None => unreachable!(),
};

/// The date every fixture member registered.
const REGISTERED: Date = match Date::from_ymd(2025, 1, 1) {
    Some(d) => d,
    None => unreachable!(),
};

/// A hand-driven network whose every input and output is recorded per node.
///
/// # Panics
///
/// The methods taking a node index panic if it is not one of the network's
/// (`0..nodes.len()`): the kit is for tests, which name their nodes.
#[derive(Clone)]
pub struct Net {
    /// The rule set every node runs.
    pub rules: Rules,
    /// The registry every node shares.
    pub registry: Arc<Registry>,
    /// Node `i`'s key.
    pub keys: Vec<Keypair>,
    /// Node `i`'s id.
    pub ids: Vec<NodeId>,
    /// The nodes.
    pub nodes: Vec<Node>,
    /// What node `i` handled, in order.
    pub log: Vec<Vec<Handled>>,
    /// The configuration every node runs.
    pub config: OrchestratorConfig,
    /// The local date each node starts the height on.
    pub date: Date,
}

impl Net {
    /// Nodes `mn000..` with `tiers`, under `rules` and the default
    /// configuration.
    pub fn new(tiers: &[Tier], rules: Rules) -> Result<Net, KitError> {
        Self::with_config(tiers, rules, OrchestratorConfig::default())
    }

    /// [`Net::new`] with `config`.
    pub fn with_config(
        tiers: &[Tier],
        rules: Rules,
        config: OrchestratorConfig,
    ) -> Result<Net, KitError> {
        let (registry, keys) =
            test_network(tiers.len(), tiers, SignatureScheme::Ed25519, REGISTERED)?;
        let nodes = keys
            .iter()
            .map(|k| {
                let ctx = Context::new(k.clone(), registry.clone(), rules, config.clone())?;
                Ok(Node::new(ctx, genesis_tip()))
            })
            .collect::<Result<Vec<Node>, NodeError>>()?;
        Ok(Net {
            rules,
            ids: nodes.iter().map(|n| n.context().id().clone()).collect(),
            log: vec![Vec::new(); tiers.len()],
            registry,
            keys,
            nodes,
            config,
            date: DATE,
        })
    }

    /// Node `i` handles `input`; both are recorded.
    pub fn handle(&mut self, i: usize, input: Input) -> Vec<Output> {
        let outputs = self.nodes[i].handle(input.clone());
        self.log[i].push(Handled {
            input,
            outputs: outputs.clone(),
        });
        outputs
    }

    /// Node `i` starts the height with an empty mempool.
    pub fn start(&mut self, i: usize, presynchronized: bool) -> Vec<Output> {
        self.start_with(i, presynchronized, vec![])
    }

    /// Node `i` starts the height with `mempool`.
    pub fn start_with(
        &mut self,
        i: usize,
        presynchronized: bool,
        mempool: Vec<crate::block::Transaction>,
    ) -> Vec<Output> {
        let date = self.date;
        self.handle(
            i,
            Input::Start(StartHeight {
                date,
                mempool,
                presynchronized,
            }),
        )
    }

    /// Delivers `m` to node `i`.
    pub fn deliver(&mut self, i: usize, m: Message) -> Vec<Output> {
        self.handle(i, Input::Message(m))
    }

    /// Delivers to node `i`, one by one and in order, each of `voters`'
    /// `step` vote for `block` in `attempt` (approving, declared weight 1);
    /// returns every output.
    pub fn deliver_votes(
        &mut self,
        i: usize,
        voters: impl IntoIterator<Item = usize>,
        attempt: u32,
        step: Step,
        block: Hash32,
    ) -> Vec<Output> {
        let mut outs = Vec::new();
        for v in voters {
            let m = self.vote(v, attempt, step, block, true, 1);
            outs.extend(self.deliver(i, m));
        }
        outs
    }

    /// Fires timer `t` at node `i`.
    pub fn fire(&mut self, i: usize, t: Timer) -> Vec<Output> {
        self.handle(i, Input::Timer(t))
    }

    /// Node `i`'s inputs so far, in order.
    pub fn inputs(&self, i: usize) -> Vec<Input> {
        self.log[i].iter().map(|h| h.input.clone()).collect()
    }

    /// Every output node `i` gave so far, in order.
    pub fn outputs(&self, i: usize) -> Vec<Output> {
        self.log[i]
            .iter()
            .flat_map(|h| h.outputs.iter().cloned())
            .collect()
    }

    /// The outputs of node `i`'s last input.
    pub fn last(&self, i: usize) -> &[Output] {
        self.log[i].last().map_or(&[], |h| &h.outputs)
    }

    /// The timer that ends an attempt under these rules: the attempt timeout
    /// (R7.2) or the seed's leader timeout (S7.1).
    pub fn attempt_timer(&self, attempt: u32) -> Timer {
        if self.rules.has(Amendment::TwoStepLocking) {
            timeout(attempt)
        } else {
            leader_timeout(attempt)
        }
    }

    /// Index of the leader of `attempt`, as node `observer` sees it (`None`
    /// before it starts, or in a leaderless attempt).
    pub fn leader(&self, observer: usize, attempt: u32) -> Option<usize> {
        let n = &self.nodes[observer];
        let l = n.state().round()?.leader(n.context(), attempt)?;
        self.ids.iter().position(|x| *x == l)
    }

    /// The block context of node `i`'s running height.
    pub fn block_context(&self, i: usize) -> Option<BlockContext> {
        let r = self.nodes[i].state().round()?;
        Some(r.height_ctx().block_context().clone())
    }

    /// Node `i`'s vote at height 1, signed: as a [`SignedVote`] or as the
    /// [`Message`] carrying it, whichever the caller takes.
    pub fn vote<M: From<SignedVote>>(
        &self,
        i: usize,
        attempt: u32,
        step: Step,
        block: Hash32,
        approve: bool,
        weight: u64,
    ) -> M {
        vote_of(
            &self.keys[i],
            &self.ids[i],
            attempt,
            step,
            block,
            approve,
            weight,
        )
        .into()
    }

    /// `proposal` signed by node `i`.
    pub fn sign_proposal(&self, i: usize, proposal: Proposal) -> Message {
        Message::Proposal(proposal.sign(&self.keys[i]))
    }

    /// Node `leader`'s proposal of `block` in `attempt` at height 1, signed.
    pub fn propose(
        &self,
        leader: usize,
        attempt: u32,
        block: Arc<Block>,
        valid_attempt: Option<u32>,
        justification: Option<Certificate>,
    ) -> Message {
        let proposal = Proposal {
            height: 1,
            attempt,
            proposer: self.ids[leader].clone(),
            block,
            valid_attempt,
            justification,
        };
        self.sign_proposal(leader, proposal)
    }

    /// A certificate of `voters`' approving votes (declared weight 1), in
    /// the canonical order of their ids.
    pub fn certificate(
        &self,
        voters: &[usize],
        attempt: u32,
        step: Step,
        block: Hash32,
    ) -> Certificate {
        let mut v: Vec<usize> = voters.to_vec();
        v.sort_by(|a, b| self.ids[*a].cmp(&self.ids[*b]));
        Certificate {
            height: 1,
            attempt,
            step,
            block_hash: block,
            votes: v
                .iter()
                .map(|&i| self.vote(i, attempt, step, block, true, 1))
                .collect(),
        }
    }

    /// Delivers every broadcast in `initial` and every one it causes to
    /// every other node, first in first out, until none is left (a height's
    /// broadcasts are finite: each node sends each of its messages once), skipping
    /// the deliveries `keep(from, to, message)` refuses. Returns every
    /// broadcast with its sender, in the order they were queued.
    pub fn pump(
        &mut self,
        initial: Vec<(usize, Vec<Output>)>,
        keep: impl Fn(usize, usize, &Message) -> bool,
    ) -> Vec<(usize, Message)> {
        let mut queue: VecDeque<(usize, Message)> = initial
            .iter()
            .flat_map(|(i, outs)| broadcasts(outs).into_iter().map(|m| (*i, m)))
            .collect();
        let mut sent = Vec::new();
        while let Some((from, m)) = queue.pop_front() {
            for to in 0..self.nodes.len() {
                if to == from || !keep(from, to, &m) {
                    continue;
                }
                let outs = self.deliver(to, m.clone());
                queue.extend(broadcasts(&outs).into_iter().map(|b| (to, b)));
            }
            sent.push((from, m));
        }
        sent
    }
}

/// `voter`'s vote at height 1, signed with `key`: what [`Net::signed_vote`]
/// makes for its node `i`, for a harness that keeps its own nodes.
pub fn vote_of(
    key: &Keypair,
    voter: &NodeId,
    attempt: u32,
    step: Step,
    block: Hash32,
    approve: bool,
    weight: u64,
) -> SignedVote {
    let vote = Vote {
        height: 1,
        attempt,
        step,
        voter: voter.clone(),
        block_hash: block,
        approve,
        weight,
    };
    vote.sign(key)
}

/// A network whose every node has started the height presynchronized, with
/// the attempt-0 leader's proposal.
#[derive(Clone)]
pub struct Started {
    /// The network.
    pub net: Net,
    /// The attempt-0 leader.
    pub leader: usize,
    /// Its proposal.
    pub proposal: SignedProposal,
    /// Each node's outputs at its start.
    pub starts: Vec<(usize, Vec<Output>)>,
}

/// Starts every node of a fresh network presynchronized.
pub fn started(tiers: &[Tier], rules: Rules) -> Result<Started, KitError> {
    let mut net = Net::new(tiers, rules)?;
    let starts: Vec<(usize, Vec<Output>)> =
        (0..tiers.len()).map(|i| (i, net.start(i, true))).collect();
    let (leader, proposal) = require(
        starts
            .iter()
            .find_map(|(i, o)| proposal_of(o).map(|p| (*i, p))),
        "the attempt-0 leader to propose",
    )?;
    Ok(Started {
        net,
        leader,
        proposal,
        starts,
    })
}

/// The seed rules' voting window of an attempt at height 1 (S5.1, S6.2).
pub fn window(attempt: u32) -> Timer {
    Timer::VotingWindow { height: 1, attempt }
}

/// The timeout of an attempt at height 1 (R7.2).
pub fn timeout(attempt: u32) -> Timer {
    Timer::Attempt { height: 1, attempt }
}

/// The seed rules' leader timeout of an attempt at height 1 (S7.1).
pub fn leader_timeout(attempt: u32) -> Timer {
    Timer::Leader { height: 1, attempt }
}

/// The messages broadcast in `outs`.
pub fn broadcasts(outs: &[Output]) -> Vec<Message> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Broadcast(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// The events in `outs`.
pub fn events(outs: &[Output]) -> Vec<Event> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Whether an event in `outs` satisfies `f`.
pub fn has_event(outs: &[Output], f: impl Fn(&Event) -> bool) -> bool {
    outs.iter().any(|o| matches!(o, Output::Event(e) if f(e)))
}

/// The timers set in `outs`.
pub fn timers(outs: &[Output]) -> Vec<Timer> {
    outs.iter()
        .filter_map(|o| match o {
            Output::SetTimer { timer, .. } => Some(*timer),
            _ => None,
        })
        .collect()
}

/// The rejections in `outs`.
pub fn rejections(outs: &[Output]) -> Vec<Rejection> {
    events(outs)
        .into_iter()
        .filter_map(|e| match e {
            Event::Rejected(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The first proposal broadcast in `outs`.
pub fn proposal_of(outs: &[Output]) -> Option<SignedProposal> {
    broadcasts(outs).into_iter().find_map(|m| match m {
        Message::Proposal(p) => Some(p),
        _ => None,
    })
}

/// The first heartbeat broadcast in `outs`.
pub fn heartbeat_of(outs: &[Output]) -> Option<SignedHeartbeat> {
    broadcasts(outs).into_iter().find_map(|m| match m {
        Message::Heartbeat(h) => Some(h),
        _ => None,
    })
}

/// The block finalized in `outs`.
pub fn finalized(outs: &[Output]) -> Option<Hash32> {
    events(outs).into_iter().find_map(|e| match e {
        Event::BlockFinalized { hash, .. } => Some(hash),
        _ => None,
    })
}
