//! One schedule run against the nodes, with what the adversary has heard
//! and what it achieved.

use super::*;

/// What a schedule left: each honest node's decision, how many
/// `block_finalized` events each emitted, invariant violations, and what
/// the adversary achieved.
pub struct Outcome {
    pub decided: Vec<Option<Hash32>>,
    pub finalized_events: Vec<usize>,
    pub violations: Vec<String>,
    pub stats: Stats,
}

/// Counts of what happened, to show that the strategies reach what they
/// attack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Phase 1 ended on heartbeats (`synchronized`).
    pub synchronized: usize,
    /// Phase 1 timed out (`sync_failed`).
    pub sync_failed: usize,
    /// Honest leaders re-proposed a block with its justification.
    pub honest_reproposals: usize,
    /// Byzantine re-proposals (own or rewrapped) with an untampered
    /// certificate that an honest node accepted.
    pub justified_accepted: usize,
    /// Messages with a tampered certificate refused with
    /// `invalid_certificate` or `bad_justification`.
    pub forged_refused: usize,
    /// Relayed certificates that made an honest node count a vote.
    pub relays_counted: usize,
}

impl Outcome {
    pub fn agree(&self) -> bool {
        let hashes: Vec<&Hash32> = self.decided.iter().flatten().collect();
        hashes.windows(2).all(|w| w[0] == w[1])
    }

    pub fn violations(&self) -> String {
        self.violations.join("\n")
    }
}

/// The original harness: every node presynchronized, default configuration.
pub fn run_schedule(tiers: &[Tier], rules: Rules, actions: &[Action]) -> Outcome {
    run(&Setup::classic(tiers, rules), actions)
}

/// A schedule being run, and what the adversary has heard.
pub struct Run<'a> {
    pub setup: &'a Setup,
    pub net: Net,
    pub byz: usize,
    pub weights: HeightWeights,
    pub pending: Vec<(usize, Message)>,
    /// Which nodes each pending message was delivered to, one bit each.
    pub delivered: Vec<u8>,
    /// The candidate blocks, indexed by the original actions.
    pub blocks: Vec<Arc<Block>>,
    /// Every block the adversary has seen.
    pub known: BTreeMap<Hash32, Arc<Block>>,
    /// Every signed vote it has heard, the first of each voter per
    /// (attempt, step, block).
    pub heard: BTreeMap<(u32, Step, Hash32), BTreeMap<NodeId, SignedVote>>,
    /// Honest re-proposals it has heard.
    pub reproposals: Vec<SignedProposal>,
    /// The Byzantine node's own votes (the original `ByzCert`).
    pub byz_votes: Vec<SignedVote>,
    /// Attempts the Byzantine node leads.
    pub byz_leads: Vec<u32>,
    pub finalized_events: Vec<usize>,
    pub violations: Vec<String>,
    pub stats: Stats,
}

pub fn run(setup: &Setup, actions: &[Action]) -> Outcome {
    let config = setup.config();
    let net = Net::with_config(&setup.tiers, setup.rules, config.clone()).unwrap();
    let byz = setup.tiers.len() - 1;
    let weights = height_weights(setup.rules, &net.registry, &config, 1, net.date);
    let byz_weight = weights.weight(net.registry.position_of(&net.ids[byz]).unwrap());
    assert!(3 * byz_weight < weights.total(), "{setup:?}: F >= T/3");
    let mut run = Run {
        setup,
        net,
        byz,
        weights,
        pending: Vec::new(),
        delivered: Vec::new(),
        blocks: Vec::new(),
        known: BTreeMap::new(),
        heard: BTreeMap::new(),
        reproposals: Vec::new(),
        byz_votes: Vec::new(),
        byz_leads: Vec::new(),
        finalized_events: vec![0; byz],
        violations: Vec::new(),
        stats: Stats::default(),
    };
    for i in 0..byz {
        let outs = run.net.start(i, setup.presynchronized(i));
        run.absorb(i, &outs);
        run.check_memory(i);
    }
    // The Byzantine node runs too, so its key signs what it wants.
    run.net.start(byz, true);
    run.blocks = candidates(&run.net);
    for b in &run.blocks {
        run.known.insert(b.hash(), b.clone());
    }
    let n = &run.net.nodes[byz];
    let round = n.state().round().expect("running");
    run.byz_leads = (0..=setup.max_leader_rotations + 8)
        .filter(|&a| round.leader(n.context(), a).as_ref() == Some(&run.net.ids[byz]))
        .collect();
    for a in actions {
        run.act(a);
    }
    Outcome {
        decided: (0..byz)
            .map(|i| run.net.nodes[i].state().last_decision().map(|d| d.hash))
            .collect(),
        finalized_events: run.finalized_events,
        violations: run.violations,
        stats: run.stats,
    }
}

pub fn signed_vote(net: &Net, i: usize, attempt: u32, step: Step, block: Hash32) -> SignedVote {
    net.vote(i, attempt, step, block, true, 1)
}

impl Run<'_> {
    /// Takes in what honest node `from` output: checks and queues its
    /// broadcasts (the adversary hears them all), and counts its events.
    pub fn absorb(&mut self, from: usize, outs: &[Output]) {
        for m in broadcasts(outs) {
            if let Some(v) = honest_message_fault(&self.net, &self.weights, from, &m) {
                self.violations.push(v);
            }
            self.hear(&m);
            if let Message::Proposal(sp) = &m {
                if sp.proposal.justification.is_some() {
                    self.reproposals.push(sp.clone());
                }
            }
            self.pending.push((from, m));
            self.delivered.push(0);
        }
        for e in events(outs) {
            match e {
                Event::BlockFinalized { .. } => self.finalized_events[from] += 1,
                Event::Synchronized { .. } => self.stats.synchronized += 1,
                Event::SyncFailed { .. } => self.stats.sync_failed += 1,
                Event::ProposalSent {
                    valid_attempt: Some(_),
                    ..
                } => self.stats.honest_reproposals += 1,
                _ => {}
            }
        }
    }

    /// What the adversary learns from a message: its block and its votes.
    pub fn hear(&mut self, m: &Message) {
        let (block, votes): (Option<&Arc<Block>>, Vec<&SignedVote>) = match m {
            Message::Vote(sv) => (None, vec![sv]),
            Message::Proposal(sp) => (
                Some(&sp.proposal.block),
                sp.proposal
                    .justification
                    .iter()
                    .flat_map(|c| &c.votes)
                    .collect(),
            ),
            Message::Certificate(cb) => (Some(&cb.block), cb.certificate.votes.iter().collect()),
            Message::Heartbeat(_) => (None, vec![]),
        };
        if let Some(b) = block {
            self.known.entry(b.hash()).or_insert_with(|| b.clone());
        }
        for sv in votes {
            let v = &sv.vote;
            self.heard
                .entry((v.attempt, v.step, v.block_hash))
                .or_default()
                .entry(v.voter.clone())
                .or_insert_with(|| sv.clone());
        }
    }

    pub fn check_memory(&mut self, i: usize) {
        if let Some(v) = memory_fault(self.setup, &self.net, i) {
            self.violations.push(v);
        }
    }

    /// Weight of the votes heard for a key (the Byzantine vote included).
    pub fn heard_weight(&self, key: &(u32, Step, Hash32)) -> u64 {
        self.heard[key]
            .keys()
            .filter_map(|id| self.net.registry.position_of(id))
            .map(|p| self.weights.weight(p))
            .sum()
    }

    /// The certificate `pick` selects (modulo their number) among those
    /// [`Run::keys`] lists, if there is any.
    pub fn pick_key(&self, pick: usize, approve_only: bool) -> Option<(u32, Step, Hash32)> {
        let keys = self.keys(approve_only);
        (!keys.is_empty()).then(|| keys[pick % keys.len()])
    }

    /// The certificates the adversary can assemble, heaviest first, of
    /// blocks it knows; approve ones only if `approve_only`.
    pub fn keys(&self, approve_only: bool) -> Vec<(u32, Step, Hash32)> {
        let mut keys: Vec<(u64, (u32, Step, Hash32))> = self
            .heard
            .keys()
            .filter(|k| (!approve_only || k.1 == Step::Approve) && self.known.contains_key(&k.2))
            .map(|k| (self.heard_weight(k), *k))
            .collect();
        keys.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        keys.into_iter().map(|(_, k)| k).collect()
    }

    /// The certificate of the votes heard for `key`, in canonical order,
    /// with the Byzantine node's own vote if `own`, altered by `forge`.
    pub fn certificate(&self, key: (u32, Step, Hash32), own: bool, forge: &Forge) -> Certificate {
        let (attempt, step, block_hash) = key;
        let byz_id = &self.net.ids[self.byz];
        let mut votes: Vec<SignedVote> = self
            .heard
            .get(&key)
            .into_iter()
            .flat_map(|m| m.values())
            .filter(|sv| own || sv.vote.voter != *byz_id)
            .cloned()
            .collect();
        if own && !votes.iter().any(|sv| sv.vote.voter == *byz_id) {
            votes.push(signed_vote(&self.net, self.byz, attempt, step, block_hash));
        }
        votes.sort_by(|a, b| a.vote.voter.cmp(&b.vote.voter));
        let mut cert = Certificate {
            height: 1,
            attempt,
            step,
            block_hash,
            votes,
        };
        let pick = |cert: &Certificate, v: usize| {
            let id = &self.net.ids[v % self.byz];
            cert.votes
                .iter()
                .position(|sv| sv.vote.voter == *id)
                .unwrap_or(0)
        };
        let n = self.net.ids.len();
        match *forge {
            Forge::None | Forge::Wrapper(_) => {}
            Forge::OtherAttempt(d) => cert.attempt += d,
            Forge::BelowQuorum => {
                let weight = |c: &Certificate| {
                    c.votes
                        .iter()
                        .filter_map(|sv| self.net.registry.position_of(&sv.vote.voter))
                        .map(|p| self.weights.weight(p))
                        .sum::<u64>()
                };
                while weight(&cert) >= self.weights.quorum() {
                    cert.votes.pop();
                }
            }
            _ if cert.votes.is_empty() => {}
            Forge::Weight(v) => {
                let i = pick(&cert, v);
                cert.votes[i].vote.weight = cert.votes[i].vote.weight.wrapping_add(1);
            }
            Forge::Field(v, field) => {
                let i = pick(&cert, v);
                let vote = &mut cert.votes[i].vote;
                match field {
                    0 => vote.height += 1,
                    1 => vote.attempt += 1,
                    2 => {
                        vote.step = match vote.step {
                            Step::Approve => Step::Commit,
                            Step::Commit => Step::Approve,
                        }
                    }
                    3 => vote.block_hash.0[0] ^= 1,
                    4 => vote.approve = false,
                    _ => {
                        let at = self.net.ids.iter().position(|x| *x == vote.voter).unwrap();
                        vote.voter = self.net.ids[(at + 1) % n].clone();
                    }
                }
            }
            Forge::Signature(v) => {
                let i = pick(&cert, v);
                cert.votes[i].signature.0[0] ^= 1;
            }
            Forge::Repeat(v) => {
                let i = pick(&cert, v);
                let sv = cert.votes[i].clone();
                cert.votes.insert(i + 1, sv);
            }
        }
        cert
    }

    /// Delivers a message of the Byzantine node to honest node `to`.
    pub fn byz_send(
        &mut self,
        to: usize,
        m: Message,
        forged: bool,
        justified: bool,
    ) -> Vec<Output> {
        let outs = self.net.deliver(to, m);
        let refused = rejections(&outs).iter().any(|r| {
            matches!(
                r,
                Rejection::InvalidCertificate(_) | Rejection::BadJustification { .. }
            )
        });
        if forged && refused {
            self.stats.forged_refused += 1;
        }
        let accepted = events(&outs)
            .iter()
            .any(|e| matches!(e, Event::ProposalAccepted { .. }));
        if justified && !forged && accepted {
            self.stats.justified_accepted += 1;
        }
        outs
    }

    /// Delivers pending message `i` to honest node `to` (unless it sent it)
    /// and checks that it is not refused as forged if an honest node sent
    /// it.
    pub fn deliver_pending(&mut self, i: usize, to: usize) -> Option<Vec<Output>> {
        let (from, m) = self.pending[i].clone();
        if from == to {
            return None;
        }
        self.delivered[i] |= 1 << to;
        let what = summary(&m);
        let outs = self.net.deliver(to, m);
        for r in rejections(&outs) {
            if matches!(
                r,
                Rejection::BadSignature { .. } | Rejection::InvalidCertificate(_)
            ) {
                self.violations.push(format!(
                    "honest node {to} refused {what} of honest node {from}: {r}"
                ));
            }
        }
        Some(outs)
    }

    pub fn act(&mut self, a: &Action) {
        let byz = self.byz;
        let (to, outs) = match a.clone() {
            Action::Deliver(i, to) => {
                let to = to % byz;
                if self.pending.is_empty() {
                    return;
                }
                match self.deliver_pending(i % self.pending.len(), to) {
                    Some(outs) => (to, outs),
                    None => return,
                }
            }
            Action::Catch(to) => {
                let to = to % byz;
                for i in 0..self.pending.len() {
                    if self.delivered[i] & (1 << to) == 0 {
                        if let Some(outs) = self.deliver_pending(i, to) {
                            self.absorb(to, &outs);
                            self.check_memory(to);
                        }
                    }
                }
                return;
            }
            Action::Drop(i) => {
                if !self.pending.is_empty() {
                    let n = self.pending.len();
                    self.pending.remove(i % n);
                    self.delivered.remove(i % n);
                }
                return;
            }
            Action::Timeout(to, kind) => {
                let to = to % byz;
                let Some(r) = self.net.nodes[to].state().round() else {
                    return;
                };
                let (height, attempt) = (1, r.attempt());
                let t = match kind {
                    0 => Timer::Leader { height, attempt },
                    1 => Timer::VotingWindow { height, attempt },
                    2 => Timer::Attempt { height, attempt },
                    _ => Timer::Heartbeat { height },
                };
                (to, self.net.fire(to, t))
            }
            Action::ByzVote(commit, attempt, b, to) => {
                let to = to % byz;
                let step = if commit { Step::Commit } else { Step::Approve };
                let m = self.net.vote(
                    byz,
                    attempt,
                    step,
                    self.blocks[b % self.blocks.len()].hash(),
                    true,
                    1,
                );
                self.hear(&m);
                if let Message::Vote(sv) = &m {
                    self.byz_votes.push(sv.clone());
                }
                (to, self.net.deliver(to, m))
            }
            Action::ByzPropose(attempt, b, to) => {
                let to = to % byz;
                let m = self.net.propose(
                    byz,
                    attempt,
                    self.blocks[b % self.blocks.len()].clone(),
                    None,
                    None,
                );
                (to, self.net.deliver(to, m))
            }
            Action::ByzCert(commit, attempt, b, to) => {
                // Bundle every vote in flight for that block and step: it
                // may or may not reach a quorum.
                let to = to % byz;
                let step = if commit { Step::Commit } else { Step::Approve };
                let block = self.blocks[b % self.blocks.len()].clone();
                let mut votes: Vec<SignedVote> = self
                    .pending
                    .iter()
                    .filter_map(|(_, m)| match m {
                        Message::Vote(sv) => Some(sv.clone()),
                        _ => None,
                    })
                    .chain(self.byz_votes.iter().cloned())
                    .filter(|sv| {
                        sv.vote.step == step
                            && sv.vote.attempt == attempt
                            && sv.vote.block_hash == block.hash()
                    })
                    .collect();
                votes.sort_by(|a, b| a.vote.voter.cmp(&b.vote.voter));
                votes.dedup_by(|a, b| a.vote.voter == b.vote.voter);
                let certificate = Certificate {
                    height: 1,
                    attempt,
                    step,
                    block_hash: block.hash(),
                    votes,
                };
                let m = Message::Certificate(CertifiedBlock {
                    block,
                    certificate: certificate.into(),
                });
                (to, self.net.deliver(to, m))
            }
            Action::ByzRepropose {
                lead,
                key,
                own,
                forge,
                to,
            } => {
                let to = to % byz;
                let Some(k) = self.pick_key(key, true) else {
                    return;
                };
                if self.byz_leads.is_empty() {
                    return;
                }
                let later: Vec<u32> = self
                    .byz_leads
                    .iter()
                    .copied()
                    .filter(|&a| a > k.0)
                    .collect();
                let attempts = if later.is_empty() {
                    &self.byz_leads
                } else {
                    &later
                };
                let attempt = attempts[lead % attempts.len()];
                let cert = self.certificate(k, own, &forge);
                let (valid_attempt, justification) = match forge {
                    Forge::Wrapper(0) => (Some(cert.attempt + 1), Some(cert)),
                    Forge::Wrapper(1) => (Some(attempt), Some(cert)),
                    Forge::Wrapper(2) => (None, Some(cert)),
                    Forge::Wrapper(_) => (Some(cert.attempt), None),
                    _ => (Some(cert.attempt), Some(cert)),
                };
                let m = self.net.propose(
                    byz,
                    attempt,
                    self.known[&k.2].clone(),
                    valid_attempt,
                    justification,
                );
                let forged = !matches!(forge, Forge::None);
                (to, self.byz_send(to, m, forged, true))
            }
            Action::ByzRelay {
                key,
                own,
                forge,
                to,
            } => {
                let to = to % byz;
                let Some(k) = self.pick_key(key, false) else {
                    return;
                };
                let mut certificate = self.certificate(k, own, &forge);
                let mut block = self.known[&k.2].clone();
                match forge {
                    Forge::Wrapper(0) => {
                        block =
                            self.blocks[usize::from(block.hash() == self.blocks[0].hash())].clone()
                    }
                    Forge::Wrapper(1) => {
                        certificate.step = match certificate.step {
                            Step::Approve => Step::Commit,
                            Step::Commit => Step::Approve,
                        }
                    }
                    Forge::Wrapper(2) => certificate.height = 2,
                    _ => {}
                }
                let m = Message::Certificate(CertifiedBlock {
                    block,
                    certificate: certificate.into(),
                });
                let outs = self.byz_send(to, m, forge.tampers(), false);
                if events(&outs)
                    .iter()
                    .any(|e| matches!(e, Event::VoteReceived { .. }))
                {
                    self.stats.relays_counted += 1;
                }
                (to, outs)
            }
            Action::ByzRewrap {
                prop,
                own,
                forge,
                to,
            } => {
                let to = to % byz;
                if self.reproposals.is_empty() {
                    return;
                }
                let mut sp = self.reproposals[prop % self.reproposals.len()].clone();
                let p = &mut sp.proposal;
                let Some(valid_attempt) = p.valid_attempt else {
                    return;
                };
                let key = (valid_attempt, Step::Approve, p.block.hash());
                p.justification = match forge {
                    Forge::Wrapper(3) => Some(self.certificate(key, own, &Forge::None)),
                    Forge::Wrapper(_) => None,
                    _ => Some(self.certificate(key, own, &forge)),
                };
                let forged = forge.tampers();
                (to, self.byz_send(to, Message::Proposal(sp), forged, true))
            }
            Action::ByzHeartbeat { false_tip, to } => {
                let to = to % byz;
                let member = self.net.registry.member(byz).clone();
                let config = self.setup.config();
                let tip = time_consensus::sim::genesis_tip();
                let heartbeat = Heartbeat {
                    node_id: member.node_id,
                    timestamp: config.block_timestamp(1),
                    block_height: 0,
                    chain_tip_hash: if false_tip {
                        Hash32([0xAB; 32])
                    } else {
                        tip.hash
                    },
                    tier: member.tier,
                    version: config.version.clone(),
                    reputation_milli: member.reputation_milli,
                    days_active: days_active(self.net.date, member.registered_at),
                };
                let m = Message::Heartbeat(heartbeat.sign(&self.net.keys[byz]));
                (to, self.net.deliver(to, m))
            }
        };
        self.absorb(to, &outs);
        self.check_memory(to);
    }
}
