//! What a member sends as its [`Behaviour`] makes it: an honest member
//! broadcasts what its node says; the Byzantine behaviours of a test
//! network (silent, equivocate, vote-any, forge-justification) withhold,
//! split or add to it. Every signed vote and proposal is logged here, so a
//! test can check across restarts that no member signed two blocks for
//! one slot.

use super::{Action, Host};
use crate::genesis::Behaviour;
use crate::wire::Frame;
use std::sync::Arc;
use time_consensus::block::Transaction;
use time_consensus::fallback::BlockKind;
use time_consensus::forge::Forger;
use time_consensus::message::{Proposal, SignedProposal};
use time_consensus::vote::{Step, Vote};
use time_consensus::Message;

impl Host {
    /// A broadcast the node asked for, as this member's behaviour sends it.
    pub(super) fn outgoing(&mut self, m: Message, actions: &mut Vec<Action>) {
        log_signed(&m);
        match self.behaviour {
            Behaviour::Silent => {}
            Behaviour::Equivocate => {
                if let Message::Proposal(p) = &m {
                    if let Some(other) = self.conflicting(p) {
                        // Half the peers get one block, half the other;
                        // the first gets both, so it holds the evidence.
                        let half = self.peers.len() / 2;
                        for (i, peer) in self.peers.iter().enumerate() {
                            let msg = if i < half { &m } else { &other };
                            actions.push(Action::Send(
                                peer.clone(),
                                Arc::new(Frame::Message(msg.clone())),
                            ));
                        }
                        if let Some(first) = self.peers.first() {
                            actions
                                .push(Action::Send(first.clone(), Arc::new(Frame::Message(other))));
                        }
                        return;
                    }
                }
                actions.push(Action::Broadcast(Arc::new(Frame::Message(m))));
            }
            Behaviour::Honest | Behaviour::VoteAny | Behaviour::ForgeJustification => {
                actions.push(Action::Broadcast(Arc::new(Frame::Message(m))))
            }
        }
    }

    /// What a `vote-any` or `forge-justification` member sends on
    /// receiving `m`, beside what its node says.
    pub(super) fn misbehave(&mut self, m: &Message, actions: &mut Vec<Action>) {
        let Some(round) = self.node.state().round() else {
            return;
        };
        let ctx = self.node.context().clone();
        let height = round.height();
        let reg = ctx.registry();
        let Some(me) = reg.position_of(ctx.id()) else {
            return;
        };
        let weights = round.height_ctx().weights();
        let mut out = Vec::new();
        match (self.behaviour, m) {
            (Behaviour::VoteAny, Message::Proposal(p)) if p.proposal.height == height => {
                let block = p.proposal.block.hash();
                for step in [Step::Approve, Step::Commit] {
                    if self.voted.insert((height, p.proposal.attempt, step, block)) {
                        let v = Vote {
                            height,
                            attempt: p.proposal.attempt,
                            step,
                            voter: ctx.id().clone(),
                            block_hash: block,
                            approve: true,
                            weight: weights.weight(me),
                        };
                        out.push(Message::Vote(v.sign(ctx.keypair())));
                    }
                }
                tracing::info!(height, attempt = p.proposal.attempt, "voted for any");
            }
            (Behaviour::ForgeJustification, Message::Vote(_)) => {
                let forger = Forger {
                    id: ctx.id().clone(),
                    height,
                    blocks: round
                        .blocks()
                        .iter()
                        .map(|(h, b)| (*h, b.clone()))
                        .collect(),
                    voters: (0..reg.len())
                        .map(|p| (reg.at_position(p).node_id.clone(), (p, weights.weight(p))))
                        .collect(),
                    quorum: weights.quorum(),
                    leads: (round.attempt() + 1
                        ..=round.attempt() + ctx.config().max_future_attempts)
                        .filter(|a| round.leader(&ctx, *a).as_ref() == Some(ctx.id()))
                        .collect(),
                };
                if let Some(key) = forger.source(m) {
                    if self.forged.insert((height, key)) {
                        out = forger.forge(ctx.keypair(), m);
                        tracing::info!(height, made = out.len(), "forged");
                    }
                }
            }
            _ => {}
        }
        self.voted.retain(|k| k.0 >= height);
        self.forged.retain(|k| k.0 >= height);
        for m in out {
            log_signed(&m);
            actions.push(Action::Broadcast(Arc::new(Frame::Message(m))));
        }
    }

    /// A second proposal of the same attempt for another block, signed by
    /// this member: the block built by the crate's own builder with one more
    /// transaction.
    fn conflicting(&self, p: &SignedProposal) -> Option<Message> {
        let round = self.node.state().round()?;
        let ctx = self.node.context();
        let mut mempool: Vec<Transaction> = self.mempool.values().cloned().collect();
        mempool.push(Transaction::transfer(
            format!("equivocation {}", p.proposal.attempt).as_bytes(),
        ));
        let block = round
            .height_ctx()
            .block_context()
            .build(BlockKind::Normal, ctx.id(), &mempool);
        let other = Proposal {
            block: Arc::new(block),
            valid_attempt: None,
            justification: None,
            ..p.proposal.clone()
        };
        let other = Message::Proposal(other.sign(ctx.keypair()));
        tracing::info!(attempt = p.proposal.attempt, "equivocating");
        log_signed(&other);
        Some(other)
    }
}

/// Logs a vote or proposal this member sends, as `signed kind=.. height=..
/// attempt=.. step=.. block=..` (a proposal's block as `hash/valid_attempt`
/// when it has one): a test reads every member's log, across
/// restarts, to check that no member ever signed two blocks for one slot.
pub(super) fn log_signed(m: &Message) {
    let (kind, height, attempt, step, block) = match m {
        Message::Vote(v) => (
            "vote",
            v.vote.height,
            v.vote.attempt,
            format!("{:?}", v.vote.step),
            v.vote.block_hash,
        ),
        Message::Proposal(p) => (
            "proposal",
            p.proposal.height,
            p.proposal.attempt,
            "-".into(),
            p.proposal.block.hash(),
        ),
        _ => return,
    };
    // What the signature covers beyond the slot: the block, and for a
    // proposal its justification attempt (R4.2).
    let signed = match m {
        Message::Proposal(p) => match p.proposal.valid_attempt {
            Some(a) => format!("{}/{a}", block.to_hex()),
            None => block.to_hex(),
        },
        _ => block.to_hex(),
    };
    tracing::info!(kind, height, attempt, step = %step, block = %signed, "signed");
}
