//! The `forge-justification` adversary: what a Byzantine masternode can build
//! from what it received, signing only with its own key (issue 9's attack on
//! skipped signatures, and R4.1's unsupported justifications). One behaviour
//! for every adversary of the project: the model checker's Byzantine actor
//! and the networked node's `forge-justification` member both run it.
//!
//! It remembers only which votes it forged from. On each honest approve vote it receives whose weight,
//! added to its own, reaches the quorum, it assembles the approve certificate
//! `c` of that vote and its own, of attempt `a` for block `B`, and sends:
//! - **relay**: `c` itself, as a certificate message;
//! - **tamper**: `c` with the first honest vote's signed `weight` altered
//!   (its signature no longer covers it), as a certificate message;
//! - as the leader of each later attempt `a'` it leads, the re-proposals of
//!   `B` with `valid_attempt = a` and `c` (**justified**), with the tampered
//!   `c` (**tampered justification**), and, where `a' - 1 > a`, with
//!   `valid_attempt = a' - 1` and `c` (**unsupported**: the claim a lock of a
//!   later attempt would yield to, R5.7, backed by an older certificate).
//!
//! Honest nodes must act on the relay and the justified re-proposal as on any
//! valid message, and refuse the rest (R5.5, R4.1) whatever they counted.
//!
//! It does not forge from the certificates honest nodes send: each forgery is
//! a fork of the state space (its envelopes join the network), and the
//! altered vote of the tampered `c` is already an honest vote that its
//! receivers may have counted, the attack on skipped signatures.

use crate::block::Block;
use crate::crypto::Keypair;
use crate::message::{CertifiedBlock, Message, Proposal};
use crate::primitives::{Hash32, NodeId};
use crate::vote::{Certificate, SignedVote, Step, Vote};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A vote forged from: attempt, block, voter's canonical position.
pub type Forged = (u32, Hash32, usize);

/// What the forger knows of the height.
#[derive(Clone, Debug)]
pub struct Forger {
    /// Its id.
    pub id: NodeId,
    /// The height it forges at.
    pub height: u64,
    /// Every block it may meet a vote for (the blocks leaders can propose
    /// within the bound, and the emergency block).
    pub blocks: BTreeMap<Hash32, Arc<Block>>,
    /// Registered voters: canonical position and registry weight.
    pub voters: BTreeMap<NodeId, (usize, u64)>,
    /// The registry quorum.
    pub quorum: u64,
    /// The attempts within the bound it leads with a block to propose.
    pub leads: Vec<u32>,
}

impl Forger {
    /// The vote `msg` is, if it forges from it: (attempt, block, voter's
    /// position).
    pub fn source(&self, msg: &Message) -> Option<Forged> {
        let Message::Vote(sv) = msg else {
            return None;
        };
        let v = &sv.vote;
        if v.height != self.height || v.step != Step::Approve || !v.approve || v.voter == self.id {
            return None;
        }
        let (pos, weight) = *self.voters.get(&v.voter)?;
        let (_, mine) = *self.voters.get(&self.id)?;
        if weight.saturating_add(mine) < self.quorum || !self.blocks.contains_key(&v.block_hash) {
            return None;
        }
        Some((v.attempt, v.block_hash, pos))
    }

    /// Its forgeries in answer to `msg` (none unless [`Forger::source`]).
    pub fn forge(&self, keypair: &Keypair, msg: &Message) -> Vec<Message> {
        let (Some(_), Message::Vote(sv)) = (self.source(msg), msg) else {
            return Vec::new();
        };
        let Some(certificate) = self.assemble(keypair, sv) else {
            return Vec::new();
        };
        let Some(block) = self.blocks.get(&certificate.block_hash) else {
            return Vec::new();
        };
        let tampered = self.tamper(&certificate);
        let cert = |c: &Certificate| {
            Message::Certificate(CertifiedBlock {
                block: block.clone(),
                certificate: Arc::new(c.clone()),
            })
        };
        let mut out = vec![cert(&certificate)];
        if let Some(t) = &tampered {
            out.push(cert(t));
        }
        let a = certificate.attempt;
        let propose = |attempt: u32, valid: u32, c: &Certificate| {
            let p = Proposal {
                height: self.height,
                attempt,
                proposer: self.id.clone(),
                block: block.clone(),
                valid_attempt: Some(valid),
                justification: Some(c.clone()),
            };
            Message::Proposal(p.sign(keypair))
        };
        for &lead in self.leads.iter().filter(|&&l| l > a) {
            out.push(propose(lead, a, &certificate));
            if let Some(t) = &tampered {
                out.push(propose(lead, a, t));
            }
            if lead - 1 > a {
                out.push(propose(lead, lead - 1, &certificate));
            }
        }
        out
    }

    /// The approve certificate of an honest approve vote (checked by
    /// [`Forger::source`]) and its own.
    fn assemble(&self, keypair: &Keypair, sv: &SignedVote) -> Option<Certificate> {
        let v = &sv.vote;
        let (their_pos, _) = *self.voters.get(&v.voter)?;
        let (my_pos, my_weight) = *self.voters.get(&self.id)?;
        let mine = Vote {
            voter: self.id.clone(),
            weight: my_weight,
            ..v.clone()
        };
        let mine = mine.sign(keypair);
        let votes = if my_pos < their_pos {
            vec![mine, sv.clone()]
        } else {
            vec![sv.clone(), mine]
        };
        Some(Certificate {
            height: self.height,
            attempt: v.attempt,
            step: Step::Approve,
            block_hash: v.block_hash,
            votes,
        })
    }

    /// `c` with the first vote not its own declaring one more unit of weight.
    fn tamper(&self, c: &Certificate) -> Option<Certificate> {
        let mut t = c.clone();
        let v = t.votes.iter_mut().find(|v| v.vote.voter != self.id)?;
        v.vote.weight = v.vote.weight.wrapping_add(1);
        Some(t)
    }
}
