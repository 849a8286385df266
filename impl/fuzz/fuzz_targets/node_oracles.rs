//! The `node` target's oracles beyond "no panic": what a rejection says of
//! its sender, the memory bound of a deciding node, and agreement among
//! honest nodes. A failed oracle panics, so libFuzzer keeps the input.

use super::*;

/// Rejections that say the sender misbehaved (forged, not a member, an
/// invalid certificate, block or justification, a proposal out of turn, a
/// vote against, a double vote or proposal). Those an honest sender may
/// get for timing (wrong attempt or height, duplicate, not collecting, not
/// running) are not in it.
pub(crate) fn blames_sender(r: &Rejection) -> bool {
    matches!(
        r,
        Rejection::BadSignature { .. }
            | Rejection::UnknownSigner { .. }
            | Rejection::InvalidCertificate(_)
            | Rejection::InvalidBlock(_)
            | Rejection::WrongBlockKind { .. }
            | Rejection::NotLeader { .. }
            | Rejection::BadJustification { .. }
            | Rejection::NotAVote
            | Rejection::Equivocation(_)
    )
}

/// What a node may hold while deciding a height, with `a` its attempt and
/// `f` the window of attempts it buffers ahead (`max_future_attempts`), so
/// `w = a + f + 1` attempts it may hold anything for (every attempt it
/// accepts is at most `a + f` at receipt, and `a` only grows), among `n`
/// members, counted as [`time_consensus::NodeState::progress`] does:
/// heartbeats (n), proposals (one per attempt: w), blocks (the emergency
/// block, one per proposal, and one per certificate, which needs an honest
/// vote and so a distinct (attempt, step, voter): 1 + w + 2wn), tallied
/// votes (one per attempt, step and voter: 2wn), pooled seed votes (one per
/// voter: n), the two voted flags, and the lock's and valid block's
/// attempts + 1 (2w).
pub(crate) fn facts_bound(a: u64, f: u64, n: u64) -> u64 {
    let w = a + f + 1;
    n + w + (1 + w + 2 * w * n) + 2 * w * n + n + 2 + 2 * w
}

impl Harness {
    pub(crate) fn check_memory(&self, i: usize) {
        let node = &self.nodes[i];
        let Some(r) = node.state().round() else {
            return;
        };
        let a = u64::from(r.attempt());
        let f = u64::from(node.context().config().max_future_attempts);
        let n = self.registry.len() as u64;
        let facts = node.state().progress()[3];
        let bound = facts_bound(a, f, n);
        assert!(
            facts <= bound,
            "oracle `memory`: node {i} holds {facts} facts at attempt {a} under {}, bound {bound} ({} proposals, {} blocks)",
            self.rules,
            r.proposals().len(),
            r.blocks().len()
        );
        assert!(
            r.proposals().keys().all(|&p| u64::from(p) <= a + f),
            "oracle `memory`: node {i} at attempt {a} keeps a proposal beyond its window: {:?}",
            r.proposals().keys().collect::<Vec<_>>()
        );
    }

    pub(crate) fn check_agreement(&self) {
        if !self.agreement {
            return;
        }
        let honest: Vec<(usize, Hash32)> = (0..N)
            .filter(|&i| Some(i) != self.byz)
            .filter_map(|i| self.finalized[i].map(|h| (i, h)))
            .collect();
        if let Some((i, h)) = honest.first() {
            for (j, g) in &honest {
                assert_eq!(
                    h, g,
                    "oracle `agreement`: honest nodes {i} and {j} finalized different blocks (Byzantine {:?})",
                    self.byz
                );
            }
        }
    }
}
