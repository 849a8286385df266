//! The tally suite: vote counting, quorums and certificates (S6.x, R5.x).

use super::chain_weights;
use crate::format::*;
use crate::generate::*;
use serde::{Deserialize, Serialize};
use time_consensus::crypto::{Keypair, SignatureScheme};
use time_consensus::election::{quorum_threshold, MAX_TOTAL_WEIGHT};
use time_consensus::kit::vote_of;
use time_consensus::message::verify_certificate;
use time_consensus::primitives::{Date, Hash32, NodeId};
use time_consensus::registry::Tier;
use time_consensus::sim::member_id;
use time_consensus::tally::Verification;
use time_consensus::tally::{seed_check_consensus, tally_signed, Insert, SeedConsensus, Tally};
use time_consensus::vote::{Certificate, SignedVote, Step, Vote};
use time_consensus::Amendment::TwoStepLocking;
use time_consensus::Amendment::{ChainElection, QuorumOverRegistry, RegistryWeights};
use time_consensus::Rules;

/// A vote as the deployed tally sees it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedVote {
    /// Voter id.
    pub voter: NodeId,
    /// Block voted on (ignored by the deployed tally).
    pub block_hash: Hash32,
    /// For or against.
    pub approve: bool,
    /// The weight the voter declares.
    pub weight: u64,
}

/// Input of [`Op::SeedTally`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTallyIn {
    /// Votes received, one per voter.
    pub votes: Vec<SeedVote>,
}

/// Input of [`Op::Tally`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyIn {
    /// The registry.
    pub masternodes: Vec<Member>,
    /// Date of block 0.
    pub genesis_date: Date,
    /// Height of the tally.
    pub height: u64,
    /// Attempt of the tally.
    pub attempt: u32,
    /// Step of the tally.
    pub step: Step,
    /// Signed votes, in arrival order.
    pub votes: Vec<SignedVote>,
}

/// Input of [`Op::Certificate`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateIn {
    /// The registry.
    pub masternodes: Vec<Member>,
    /// Date of block 0.
    pub genesis_date: Date,
    /// The certificate.
    pub certificate: Certificate,
}

/// Input of [`Op::Quorum`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuorumIn {
    /// Total registry weight (at most 2^62).
    pub total: u64,
}

/// The reference tally: what happened to each vote, the block with a
/// quorum if any, the heaviest block's weight, votes counted and refused.
#[derive(Clone, Debug, Serialize)]
pub struct TallyOut {
    total_weight: u64,
    quorum: u64,
    votes: Vec<VoteOutcome>,
    decided: Option<Hash32>,
    best_weight: u64,
    counted: usize,
    refused: usize,
}

/// What the reference tally did with one vote.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteOutcome {
    /// Counted.
    Counted {
        /// The voter's registry weight.
        weight: u64,
        /// The block's weight after it.
        block_weight: u64,
    },
    /// Same voter, same block: ignored.
    Duplicate,
    /// Same voter, another block: refused; the first stands.
    Equivocation {
        /// Block of the vote that stands.
        first: Hash32,
    },
    /// Voter not registered.
    UnknownSigner,
    /// Signature does not verify.
    BadSignature,
    /// Another height, attempt or step, or a vote against.
    NotForThisTally,
}

/// A verified certificate's weight and the quorum.
#[derive(Clone, Debug, Serialize)]
pub struct CertificateOut {
    weight: u64,
    quorum: u64,
}

/// The quorum threshold.
#[derive(Clone, Debug, Serialize)]
pub struct QuorumOut {
    quorum: u64,
}

impl Operation for SeedTallyIn {
    type Output = SeedConsensus;
    const SUITE: Suite = Suite::Tally;
    const NEEDS: Needs = &[(QuorumOverRegistry, false), (RegistryWeights, false)];
    fn execute(&self, _: Rules) -> Result<SeedConsensus, Refusal> {
        let votes: Vec<Vote> = (self.votes.iter())
            .map(|v| Vote {
                height: 0,
                attempt: 0,
                step: Step::Approve,
                voter: v.voter.clone(),
                block_hash: v.block_hash,
                approve: v.approve,
                weight: v.weight,
            })
            .collect();
        Ok(seed_check_consensus(&votes))
    }
}

impl Operation for TallyIn {
    type Output = TallyOut;
    const SUITE: Suite = Suite::Tally;
    const NEEDS: Needs = &[(RegistryWeights, true), (ChainElection, true)];
    fn execute(&self, _: Rules) -> Result<TallyOut, Refusal> {
        let (reg, w) = chain_weights(&self.masternodes, self.genesis_date, self.height)?;
        let mut t: Tally<()> = Tally::new(reg.len());
        let ours = |v: &Vote| {
            (v.height, v.attempt, v.step, v.approve) == (self.height, self.attempt, self.step, true)
        };
        let outcome = |sv: &SignedVote| {
            let v = &sv.vote;
            let Some(pos) = reg.position_of(&v.voter) else {
                return VoteOutcome::UnknownSigner;
            };
            if !ours(v) {
                return VoteOutcome::NotForThisTally;
            }
            let key = reg.at_position(pos).public_key;
            if !reg.scheme().verify(&key, &v.signing_bytes(), &sv.signature) {
                return VoteOutcome::BadSignature;
            }
            match t.insert(pos, v.block_hash, w.weight(pos), ()) {
                Insert::Counted { block_weight } => VoteOutcome::Counted {
                    weight: w.weight(pos),
                    block_weight,
                },
                Insert::Duplicate => VoteOutcome::Duplicate,
                Insert::Equivocation { first } => VoteOutcome::Equivocation { first },
            }
        };
        let votes: Vec<VoteOutcome> = self.votes.iter().map(outcome).collect();
        let counted = (votes.iter())
            .filter(|o| matches!(o, VoteOutcome::Counted { .. }))
            .count();
        let refused = self.votes.len() - counted;
        let decided = t.quorum_block(w.quorum());
        let best_weight = t.sums().iter().map(|(_, x)| *x).max().unwrap_or(0);
        // The hot path must agree with the vote-by-vote reading, in both modes.
        for mode in [Verification::Each, Verification::Batch] {
            let (h, a, s) = (self.height, self.attempt, self.step);
            let o = tally_signed(&reg, &w, h, a, s, &self.votes, mode);
            if (o.decided, o.best_weight, o.counted, o.refused)
                != (decided, best_weight, counted, refused)
            {
                return bad(format!(
                    "tally_signed ({mode:?}) disagrees with the vote-by-vote count: {o:?}"
                ));
            }
        }
        Ok(TallyOut {
            total_weight: w.total(),
            quorum: w.quorum(),
            votes,
            decided,
            best_weight,
            counted,
            refused,
        })
    }
}

impl Operation for CertificateIn {
    type Output = CertificateOut;
    const SUITE: Suite = Suite::Tally;
    const NEEDS: Needs = &[(TwoStepLocking, true), (ChainElection, true)];
    fn execute(&self, _: Rules) -> Result<CertificateOut, Refusal> {
        let c = &self.certificate;
        let (reg, w) = chain_weights(&self.masternodes, self.genesis_date, c.height)?;
        match verify_certificate(&reg, &w, c, |_, _| false) {
            Ok(weight) => Ok(CertificateOut {
                weight,
                quorum: w.quorum(),
            }),
            Err(e) => rejected(&e),
        }
    }
}

impl Operation for QuorumIn {
    type Output = QuorumOut;
    const SUITE: Suite = Suite::Tally;
    const NEEDS: Needs = &[(QuorumOverRegistry, true)];
    fn execute(&self, _: Rules) -> Result<QuorumOut, Refusal> {
        if self.total > MAX_TOTAL_WEIGHT {
            return bad("total: at most 2^62 (R2.1)");
        }
        Ok(QuorumOut {
            quorum: quorum_threshold(self.total),
        })
    }
}

/// Member `i`'s labelled ed25519 key.
fn key(i: usize) -> Keypair {
    Keypair::from_label(SignatureScheme::Ed25519, member_id(i).as_str())
}

/// The tally suite.
pub fn tally(g: &mut Gen) {
    let (x, y) = (Hash32([1; 32]), Hash32([2; 32]));
    let sv = |voter: &str, block, approve, weight| SeedVote {
        voter: id(voter),
        block_hash: block,
        approve,
        weight,
    };
    let seed = |votes| SeedTallyIn { votes };
    for (name, votes, note) in [
        ("seed_tally_deployed_example", vec![sv("node1", x, true, 8), sv("node2", x, true, 4), sv("node3", x, false, 2)], "the deployed test: 12 of 14 >= ceil(28/3) = 10"),
        ("seed_tally_flaw1_single_vote", vec![sv("a", x, true, 1)], "flaw 1: a single approving vote is consensus (1 >= ceil(2/3))"),
        ("seed_tally_flaw2_declared_weight", vec![sv("a", x, false, 8), sv("b", x, false, 8), sv("byz", y, true, 1000)], "flaw 2: one voter declaring weight 1000 outvotes two gold votes against, and its vote for another block is pooled with theirs"),
        ("seed_tally_pooled_blocks", vec![sv("a", x, true, 4), sv("b", y, true, 4), sv("c", x, false, 1)], "votes for two different blocks are pooled: 8 >= ceil(18/3)"),
        ("seed_tally_no_votes", vec![], "no votes: 0 >= ceil(0/3) = 0 is consensus"),
        ("seed_tally_all_against", vec![sv("a", x, false, 8), sv("b", x, false, 4)], "every vote against: 0 < 8"),
        ("seed_tally_exact_threshold", vec![sv("a", x, true, 10), sv("b", x, false, 5)], "10 >= ceil(30/3) = 10"),
        ("seed_tally_one_below", vec![sv("a", x, true, 9), sv("b", x, false, 5)], "9 < ceil(28/3) = 10"),
        ("seed_tally_rounding_up", vec![sv("a", x, true, 3), sv("b", x, false, 1)], "3 >= ceil(8/3) = 3"),
        ("seed_tally_rounding_miss", vec![sv("a", x, true, 2), sv("b", x, false, 2)], "2 < ceil(8/3) = 3"),
        ("seed_tally_zero_weights", vec![sv("a", x, false, 0), sv("b", x, true, 0)], "zero declared weights: 0 >= 0"),
        ("seed_tally_wrapping", vec![sv("a", x, true, u64::MAX), sv("b", x, true, 2)], "declared weights wrap around 2^64 as in the deployed release build: total 1, approval 1"),
        ("seed_tally_four_honest", vec![sv("mn000", x, true, 10), sv("mn001", x, true, 5), sv("mn002", x, true, 2), sv("mn003", x, true, 1)], "four honest approving votes with their seed weights"),
        ("seed_tally_against_heavy", vec![sv("mn000", x, false, 10), sv("mn001", x, true, 5), sv("mn002", x, true, 2), sv("mn003", x, true, 1)], "gold votes against: 8 < ceil(36/3) = 12"),
    ] {
        g.case(
            name,
            SEED,
            &format!("The deployed check_consensus over the votes received: {note}."),
            &["S6.2", "S6.3"],
            seed(votes),
        );
    }
    // Reference tally.
    let genesis = date("2025-10-24");
    let ms = net(&TIERS4);
    // Member i's vote at height 1.
    let v = |i: usize, attempt, step, block, approve, weight| {
        vote_of(
            &key(i),
            &member_id(i),
            attempt,
            step,
            block,
            approve,
            weight,
        )
    };
    let a = Step::Approve;
    let stranger = v(9, 0, a, x, true, 1);
    let mut forged = v(1, 0, a, x, true, 1);
    forged.resign(&key(9));
    let mut tampered = v(2, 0, a, x, true, 1);
    tampered.vote.weight = 1_000_000;
    type TallyCase<'a> = (&'a str, Step, Vec<SignedVote>, &'a str, &'a [&'a str]);
    let cases: Vec<TallyCase> =
        vec![
        (
            "all_four",
            a,
            (0..4).map(|i| v(i, 0, a, x, true, 1)).collect(),
            "all four approve",
            &["R5.3", "R5.4"],
        ),
        (
            "gold_silver",
            a,
            vec![v(0, 0, a, x, true, 1), v(1, 0, a, x, true, 1)],
            "gold and silver weigh 12 of 15 tier units: a quorum",
            &["R5.3", "R5.4"],
        ),
        (
            "light_three",
            a,
            vec![
                v(1, 0, a, x, true, 1),
                v(2, 0, a, x, true, 1),
                v(3, 0, a, x, true, 1),
            ],
            "silver, bronze and free weigh 7 of 15: no quorum",
            &["R5.3", "R5.4"],
        ),
        (
            "single_vote",
            a,
            vec![v(3, 0, a, x, true, 1)],
            "one vote is far from a quorum of the registry (contrast seed flaw 1)",
            &["R5.3"],
        ),
        (
            "declared_weight_ignored",
            a,
            vec![
                v(3, 0, a, x, true, 1_000_000_000),
                v(2, 0, a, x, true, 1_000_000_000),
            ],
            "votes declaring huge weights count their registry weight (contrast seed flaw 2)",
            &["R5.4"],
        ),
        (
            "split_blocks",
            a,
            vec![
                v(0, 0, a, x, true, 1),
                v(1, 0, a, y, true, 1),
                v(2, 0, a, x, true, 1),
                v(3, 0, a, y, true, 1),
            ],
            "votes for two blocks are counted per block, never pooled",
            &["R5.3", "R5.4"],
        ),
        (
            "stranger",
            a,
            vec![
                v(0, 0, a, x, true, 1),
                stranger.clone(),
                v(1, 0, a, x, true, 1),
            ],
            "a vote from mn009, not registered, is refused",
            &["R0.5", "R5.4"],
        ),
        (
            "forged_signature",
            a,
            vec![v(0, 0, a, x, true, 1), forged.clone()],
            "mn001's vote signed with another key is refused",
            &["R0.4", "R0.5", "R5.2"],
        ),
        (
            "tampered_after_signing",
            a,
            vec![tampered, v(0, 0, a, x, true, 1)],
            "a vote whose declared weight was changed after signing no longer verifies",
            &["R0.4", "R5.2"],
        ),
        (
            "duplicate",
            a,
            vec![
                v(0, 0, a, x, true, 1),
                v(0, 0, a, x, true, 1),
                v(1, 0, a, x, true, 1),
            ],
            "the same vote twice counts once",
            &["R5.6"],
        ),
        (
            "equivocation",
            a,
            vec![
                v(0, 0, a, x, true, 1),
                v(0, 0, a, y, true, 1),
                v(1, 0, a, y, true, 1),
            ],
            "gold votes for two blocks: the first stands, the second is refused as equivocation",
            &["R5.6"],
        ),
        (
            "other_attempt",
            a,
            vec![v(0, 1, a, x, true, 1), v(1, 0, a, x, true, 1)],
            "a vote of attempt 1 is not counted in the tally of attempt 0",
            &["R5.6"],
        ),
        (
            "other_step",
            a,
            vec![v(0, 0, Step::Commit, x, true, 1), v(1, 0, a, x, true, 1)],
            "a commit vote is not counted in an approve tally",
            &["R5.1", "R5.6"],
        ),
        (
            "vote_against",
            a,
            vec![v(0, 0, a, x, false, 1), v(1, 0, a, x, true, 1)],
            "a vote with approve = false is not a vote under the reference rules",
            &["R5.1"],
        ),
        (
            "commit_quorum",
            Step::Commit,
            (0..3).map(|i| v(i, 0, Step::Commit, x, true, 1)).collect(),
            "three commit votes weigh 14 of 15: a commit quorum",
            &["R5.1", "R5.3"],
        ),
        (
            "other_height",
            a,
            vec![{
                    let mut other = v(0, 0, a, x, true, 1);
                    other.vote.height = 2;
                    other.resign(&key(0));
                    other
                }, v(1, 0, a, x, true, 1)],
            "a vote of height 2 is not counted at height 1",
            &["R5.6"],
        ),
    ];
    for (name, step, votes, note, ids) in cases {
        let mut ids = ids.to_vec();
        ids.push("R5.2");
        ids.sort();
        ids.dedup();
        g.case(
            &format!("ref_tally_{name}"),
            REF,
            &format!("mn000..mn003 (gold, silver, bronze, free) at height 1, attempt 0: {note}."),
            &ids,
            TallyIn {
                masternodes: ms.clone(),
                genesis_date: genesis,
                height: 1,
                attempt: 0,
                step,
                votes,
            },
        );
    }
    let eq = net(&[Tier::Silver; 4]);
    for k in [2usize, 3] {
        g.case(
            &format!("ref_tally_equal_{k}_of_4"),
            REF,
            &format!("Four equal weights, quorum ceil(8/3) = 3 members: {k} votes."),
            &["R5.3", "R5.4"],
            TallyIn {
                masternodes: eq.clone(),
                genesis_date: genesis,
                height: 1,
                attempt: 0,
                step: a,
                votes: (0..k).map(|i| v(i, 0, a, x, true, 1)).collect(),
            },
        );
    }
    // Certificates.
    let cert = |step: Step, votes: Vec<SignedVote>| Certificate {
        height: 1,
        attempt: 0,
        step,
        block_hash: x,
        votes,
    };
    let c = |name: &str, cert: Certificate, note: &str| (name.to_string(), cert, note.to_string());
    let good: Vec<SignedVote> = (0..3).map(|i| v(i, 0, a, x, true, 1)).collect();
    let mut bad_sig = good.clone();
    bad_sig[1] = forged.clone();
    let certs = vec![
        c(
            "approve_valid",
            cert(a, good.clone()),
            "gold, silver and bronze approve",
        ),
        c(
            "commit_valid",
            cert(
                Step::Commit,
                (0..3).map(|i| v(i, 0, Step::Commit, x, true, 1)).collect(),
            ),
            "a commit certificate: a finality proof",
        ),
        c(
            "below_quorum",
            cert(a, vec![v(2, 0, a, x, true, 1), v(3, 0, a, x, true, 1)]),
            "bronze and free weigh 3 of 15",
        ),
        c(
            "mismatch_block",
            cert(a, vec![v(0, 0, a, x, true, 1), v(1, 0, a, y, true, 1)]),
            "a vote for another block inside",
        ),
        c(
            "mismatch_step",
            cert(
                a,
                vec![v(0, 0, a, x, true, 1), v(1, 0, Step::Commit, x, true, 1)],
            ),
            "a commit vote inside an approve certificate",
        ),
        c(
            "mismatch_against",
            cert(a, vec![v(0, 0, a, x, true, 1), v(1, 0, a, x, false, 1)]),
            "a vote against inside",
        ),
        c(
            "stranger",
            cert(
                a,
                vec![
                    v(0, 0, a, x, true, 1),
                    stranger.clone(),
                    v(1, 0, a, x, true, 1),
                ],
            ),
            "a vote from mn009, not registered",
        ),
        c(
            "repeated_voter",
            cert(a, vec![v(0, 0, a, x, true, 1), v(0, 0, a, x, true, 1)]),
            "gold twice: its weight must not count twice",
        ),
        c(
            "bad_signature",
            cert(a, bad_sig),
            "a forged signature inside",
        ),
        c("empty", cert(a, vec![]), "no votes at all"),
    ];
    for (name, certificate, note) in certs {
        g.case(
            &format!("ref_certificate_{name}"),
            REF,
            &format!(
                "Certificate verification on mn000..mn003 (gold, silver, bronze, free): {note}."
            ),
            &["R5.5", "R5.3"],
            CertificateIn {
                masternodes: ms.clone(),
                genesis_date: genesis,
                certificate,
            },
        );
    }
    for total in [0u64, 1, 2, 3, 4, 5, 6, 14, 15, 100, 1 << 46, 1 << 62] {
        g.case(
            &format!("ref_quorum_{total}"),
            REF,
            &format!("The quorum over a registry weighing {total}: ceil(2 * {total} / 3)."),
            &["R5.3"],
            QuorumIn { total },
        );
    }
}
