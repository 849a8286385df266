//! How the `node` target's Byzantine member picks and alters what it
//! sends: attempts, hashes and blocks from selectors, votes and
//! certificates built and edited, seen messages corrupted and re-signed.

use super::*;

impl Harness {
    pub(crate) fn attempt(&self, sel: AttemptSel, to: usize) -> u32 {
        match sel {
            AttemptSel::Ladder(n) => u32::from(n % 8),
            AttemptSel::Ahead(n) => self.attempt_of(to).saturating_add(u32::from(n % 20)),
            AttemptSel::Led(n) if !self.led.is_empty() => self.led[n as usize % self.led.len()],
            AttemptSel::Led(n) => u32::from(n % 8),
            AttemptSel::Any(a) => a,
        }
    }

    pub(crate) fn hash(&self, sel: HashSel) -> Hash32 {
        match sel {
            HashSel::Block(b) => self.blocks[b as usize % self.blocks.len()].hash(),
            HashSel::Raw(x) => Hash32([x; 32]),
        }
    }

    pub(crate) fn block(&self, b: u8) -> Arc<Block> {
        self.blocks[b as usize % self.blocks.len()].clone()
    }

    pub(crate) fn id_or_stranger(&self, v: u8) -> NodeId {
        match self.ids.get(v as usize % (N + 1)) {
            Some(id) => id.clone(),
            None => NodeId::new("mn999").expect("valid id"),
        }
    }

    pub(crate) fn edit_vote(&self, sv: &mut SignedVote, e: &VoteEdit, to: usize) {
        let v = &mut sv.vote;
        match e {
            VoteEdit::Weight(w) => v.weight = *w,
            VoteEdit::FlipApprove => v.approve = !v.approve,
            VoteEdit::Attempt(a) => v.attempt = self.attempt(*a, to),
            VoteEdit::FlipStep => v.step = flip(v.step),
            VoteEdit::Height(h) => v.height = u64::from(h % 3),
            VoteEdit::Block(b) => v.block_hash = self.hash(*b),
            VoteEdit::Voter(x) => v.voter = self.id_or_stranger(*x),
            VoteEdit::Signature(at, x) => sv.signature.0[*at as usize % 64] ^= x | 1,
        }
    }

    /// A certificate of the votes seen for (attempt, step, block), shaped.
    pub(crate) fn certificate(
        &mut self,
        attempt: u32,
        step: Step,
        block: Hash32,
        s: &CertShape,
        to: usize,
    ) -> Certificate {
        let mut votes = Vec::new();
        for (i, tier) in TIERS.iter().enumerate() {
            if s.voters & (1 << i) == 0 {
                continue;
            }
            if let Some(sv) = self.votes.get(&(attempt, step, block, i)) {
                votes.push(sv.clone());
            } else if Some(i) == self.byz {
                let sv = vote_of(
                    &self.keys[i],
                    &self.ids[i],
                    attempt,
                    step,
                    block,
                    true,
                    tier.weight(),
                );
                self.learn(&Message::Vote(sv.clone()));
                votes.push(sv);
            }
        }
        let reg = &self.registry;
        votes.sort_by_key(|sv| reg.position_of(&sv.vote.voter));
        if s.bits & 1 != 0 {
            votes.reverse();
        }
        if s.bits & 2 != 0 && !votes.is_empty() {
            votes.push(votes[0].clone());
        }
        if let Some((k, e)) = &s.edit {
            if !votes.is_empty() {
                let k = *k as usize % votes.len();
                self.edit_vote(&mut votes[k], e, to);
            }
        }
        Certificate {
            height: 1,
            attempt: if s.bits & 4 != 0 {
                attempt.wrapping_add(1)
            } else {
                attempt
            },
            step: if s.bits & 8 != 0 { flip(step) } else { step },
            block_hash: block,
            votes,
        }
    }

    pub(crate) fn edit_block(&self, b: &Arc<Block>, e: BlockEdit) -> Arc<Block> {
        let mut blk = (**b).clone();
        let h = &mut blk.header;
        match e {
            BlockEdit::Keep => return b.clone(),
            BlockEdit::PreviousHash(x) => h.previous_hash = Hash32([x; 32]),
            BlockEdit::Kind(k) => {
                h.kind = [
                    BlockKind::Normal,
                    BlockKind::RewardOnly,
                    BlockKind::Emergency,
                ][k as usize % 3]
            }
            BlockEdit::Timestamp(t) => h.timestamp = h.timestamp.wrapping_add(u64::from(t) + 1),
            BlockEdit::Height(x) => h.height = u64::from(x % 3),
            BlockEdit::Proposer(p) => h.proposer = (p % 6 != 5).then(|| self.id_or_stranger(p)),
            BlockEdit::DropTransactions => blk.transactions.clear(),
            BlockEdit::AddTransaction(x) => blk.transactions.push(Transaction::transfer(&[x])),
        }
        Arc::new(blk)
    }

    /// Applies `how` to `m`; false if it does not apply to that message.
    pub(crate) fn corrupt(&self, m: &mut Message, how: &Corruption, to: usize) -> bool {
        let flip_byte = |sig: &mut [u8; 64], at: u8, x: u8| sig[at as usize % 64] ^= x | 1;
        match (how, &mut *m) {
            (Corruption::Vote(_, e), Message::Vote(sv)) => self.edit_vote(sv, e, to),
            (Corruption::Signature(at, x), Message::Vote(sv)) => {
                flip_byte(&mut sv.signature.0, *at, *x)
            }
            (Corruption::Signature(at, x), Message::Proposal(sp)) => {
                flip_byte(&mut sp.signature.0, *at, *x)
            }
            (Corruption::Signature(at, x), Message::Heartbeat(hb)) => {
                flip_byte(&mut hb.signature.0, *at, *x)
            }
            (Corruption::HeartbeatHeight(h), Message::Heartbeat(hb)) => {
                hb.heartbeat.block_height = u64::from(h % 3)
            }
            (Corruption::HeartbeatTip(t), Message::Heartbeat(hb)) => {
                hb.heartbeat.chain_tip_hash = self.hash(*t)
            }
            (Corruption::ProposalAttempt(a), Message::Proposal(sp)) => {
                sp.proposal.attempt = self.attempt(*a, to)
            }
            (Corruption::ProposalValid(v), Message::Proposal(sp)) => {
                sp.proposal.valid_attempt = v.map(|v| self.attempt(v, to))
            }
            (Corruption::DropJustification, Message::Proposal(sp)) => {
                if sp.proposal.justification.take().is_none() {
                    return false;
                }
            }
            (Corruption::Block(e), Message::Proposal(sp)) => {
                sp.proposal.block = self.edit_block(&sp.proposal.block, *e)
            }
            (Corruption::Block(e), Message::Certificate(cb)) => {
                cb.block = self.edit_block(&cb.block, *e)
            }
            (Corruption::SwapBlock(b), Message::Proposal(sp)) => sp.proposal.block = self.block(*b),
            (Corruption::SwapBlock(b), Message::Certificate(cb)) => cb.block = self.block(*b),
            _ => return self.corrupt_certificate(m, how, to),
        }
        true
    }

    /// The certificate-level alterations, on a certified block or on a
    /// proposal's justification.
    pub(crate) fn corrupt_certificate(&self, m: &mut Message, how: &Corruption, to: usize) -> bool {
        let c = match m {
            Message::Certificate(cb) => std::sync::Arc::make_mut(&mut cb.certificate),
            Message::Proposal(sp) => match sp.proposal.justification.as_mut() {
                Some(c) => c,
                None => return false,
            },
            _ => return false,
        };
        let len = c.votes.len();
        match how {
            Corruption::Vote(k, e) if len > 0 => {
                self.edit_vote(&mut c.votes[*k as usize % len], e, to)
            }
            Corruption::DropVote(k) if len > 0 => {
                c.votes.remove(*k as usize % len);
            }
            Corruption::RepeatVote(k) if len > 0 => {
                let v = c.votes[*k as usize % len].clone();
                c.votes.push(v);
            }
            Corruption::CertAttempt(a) => c.attempt = self.attempt(*a, to),
            Corruption::CertStep => c.step = flip(c.step),
            Corruption::CertBlock(b) => c.block_hash = self.hash(*b),
            _ => return false,
        }
        true
    }

    /// Signs an altered message of the Byzantine member again.
    pub(crate) fn resign(&self, m: &mut Message, b: usize) {
        let key = &self.keys[b];
        match m {
            Message::Vote(sv) => sv.resign(key),
            Message::Proposal(sp) => sp.resign(key),
            Message::Heartbeat(hb) => hb.resign(key),
            Message::Certificate(_) => {}
        }
    }
}

/// The bit of a message's kind in [`Action::Flush`]'s `kinds`.
pub(crate) fn kind_bit(m: &Message) -> u8 {
    match m {
        Message::Heartbeat(_) => 1,
        Message::Proposal(_) => 2,
        Message::Vote(sv) if sv.vote.step == Step::Approve => 4,
        Message::Vote(_) => 8,
        Message::Certificate(_) => 16,
    }
}

pub(crate) fn flip(s: Step) -> Step {
    match s {
        Step::Approve => Step::Commit,
        Step::Commit => Step::Approve,
    }
}

/// One line naming a message, for an oracle's report.
pub(crate) fn describe(m: &Message) -> String {
    match m {
        Message::Heartbeat(hb) => format!("a heartbeat of {}", hb.heartbeat.node_id),
        Message::Vote(sv) => {
            let v = &sv.vote;
            format!(
                "a {:?} vote of {} for {:?} in attempt {} (declared weight {})",
                v.step, v.voter, v.block_hash, v.attempt, v.weight
            )
        }
        Message::Proposal(sp) => {
            let p = &sp.proposal;
            format!(
                "a proposal of {} for {:?} in attempt {}, valid attempt {:?}, justification {}",
                p.proposer,
                p.block.hash(),
                p.attempt,
                p.valid_attempt,
                p.justification.as_ref().map_or("none".into(), cert_line)
            )
        }
        Message::Certificate(cb) => format!("a certified block {}", cert_line(&cb.certificate)),
    }
}

pub(crate) fn cert_line(c: &Certificate) -> String {
    let votes: Vec<String> = c
        .votes
        .iter()
        .map(|sv| format!("{} (declared {})", sv.vote.voter, sv.vote.weight))
        .collect();
    format!(
        "[{:?} attempt {} for {:?}: {}]",
        c.step,
        c.attempt,
        c.block_hash,
        votes.join(", ")
    )
}
