//! Runs one operation against this implementation. The generator calls it to
//! fill in the expected outputs; the runner calls it to check them. Each
//! operation is a thin call into `time-consensus`: no protocol rule is
//! re-implemented here.

use crate::format::*;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use time_consensus::block::{merkle_root, BlockContext, Transaction};
use time_consensus::config::{OrchestratorConfig, DEFAULT_MAX_BLOCK_BYTES, MAX_BLOCK_BYTES};
use time_consensus::crypto::{KeyError, Keypair, SignatureScheme};
use time_consensus::election::seed::{self as seed_election, LeaderSelection};
use time_consensus::election::{
    election_seed, quorum_threshold, unbiased_draw, Election, HeightWeights, LeaderSchedule,
    MAX_TOTAL_WEIGHT,
};
use time_consensus::encoding::EncodeError;
use time_consensus::event::{Phase, Rejection};
use time_consensus::fallback::{
    plan, seed_needs_emergency_block, seed_next_strategy, AttemptPlan, FallbackStrategy,
};
use time_consensus::heartbeat::{
    chain_agreement, seed_sync_complete, weighted_sync_complete, ChainAgreement,
};
use time_consensus::message::verify_certificate;
use time_consensus::node::{Context, Decision, Node, Output, Tip};
use time_consensus::primitives::{to_hex, Date, Hash32, NodeId};
use time_consensus::registry::{MasternodeInfo, Registry};
use time_consensus::tally::{
    seed_check_consensus, tally_signed, Insert, SeedConsensus, Tally, Verification,
};
use time_consensus::vote::{Step, Vote};
use time_consensus::weight::{days_active, reference_weight, seed_member_weight, seed_weight};
use time_consensus::{Amendment, Rules};

/// Why an operation produced no output.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// The implementation rejected the input, as the protocol prescribes; a
    /// vector may expect exactly this.
    Rejected(ExpectedRejection),
    /// The input is outside what the operation accepts (the vector is wrong).
    BadInput(String),
}

fn bad<T>(msg: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::BadInput(msg.into()))
}

/// The error code and data of a serde externally tagged error enum: a unit
/// variant is its name, a variant with data is `{name: data}`.
pub fn rejection_of<T: Serialize + std::fmt::Display>(err: &T) -> ExpectedRejection {
    let message = Some(err.to_string());
    match serde_json::to_value(err) {
        Ok(Value::String(s)) => ExpectedRejection {
            error: s,
            detail: None,
            message,
        },
        Ok(Value::Object(m)) if m.len() == 1 => {
            let (k, v) = m.into_iter().next().expect("one entry");
            ExpectedRejection {
                error: k,
                detail: Some(v),
                message,
            }
        }
        _ => ExpectedRejection {
            error: "unclassified".into(),
            detail: None,
            message,
        },
    }
}

fn rejected<T>(r: ExpectedRejection) -> Result<T, Refusal> {
    Err(Refusal::Rejected(r))
}

/// What an operation produced. Serialized untagged: each variant is the
/// JSON object the vector's `expected` holds.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// `weight` under the seed rules.
    SeedWeight {
        /// The `f32` reputation used, as IEEE-754 bits.
        reputation_f32_bits: String,
        /// The weight.
        weight: u64,
    },
    /// `weight` (reference) and `seed_weight_f32`.
    Weight {
        /// The weight.
        weight: u64,
    },
    /// `member_weight` under the seed rules.
    SeedMemberWeight {
        /// The date the weight is taken on.
        date: Date,
        /// Whole days since registration on that date.
        days_active: u64,
        /// The `f32` reputation used, as IEEE-754 bits.
        reputation_f32_bits: String,
        /// The weight.
        weight: u64,
    },
    /// `member_weight` under the reference rules.
    MemberWeight {
        /// The date the weight is taken on.
        date: Date,
        /// Whole days since registration on that date.
        days_active: u64,
        /// The weight.
        weight: u64,
    },
    /// `seed_election`.
    SeedElection {
        /// Weights, in list (seed) or canonical (reference) order.
        weights: Vec<u64>,
        /// Total weight.
        total_weight: u64,
        /// The original leader.
        leader: Option<LeaderSelection>,
        /// Each rotation.
        rotations: Vec<RotationOut>,
    },
    /// `seed_rotation`.
    Selection {
        /// The pick, or none.
        selection: Option<LeaderSelection>,
    },
    /// `seed_weighted_selection`.
    WeightedSelection {
        /// Position in the list.
        index: usize,
        /// The weight.
        weight: u64,
    },
    /// `election`.
    Election {
        /// Chain date of the height.
        chain_date: Date,
        /// Members and weights, canonical order.
        canonical: Vec<WeightedMember>,
        /// Total weight.
        total_weight: u64,
        /// The quorum threshold.
        quorum: u64,
        /// Leader of each attempt.
        schedule: Vec<ScheduledAttempt>,
    },
    /// `draw`.
    Draw {
        /// The draw.
        value: u64,
    },
    /// `pick`.
    Pick {
        /// The picked position.
        position: Option<u32>,
    },
    /// `seed_sync`, and `sync` without A6.
    SeedSync {
        /// The most common state.
        agreement: ChainAgreement,
        /// Agreement, basis points of the heartbeats received.
        agreement_bps: u32,
        /// The decision.
        synchronized: bool,
    },
    /// `sync` with A6.
    WeightedSync {
        /// Weights, in list (seed) or canonical (reference) order.
        weights: Vec<WeightedMember>,
        /// Weight holding the node's own tip.
        agreeing_weight: u64,
        /// Total weight.
        total_weight: u64,
        /// The quorum threshold.
        quorum: u64,
        /// The decision.
        synchronized: bool,
    },
    /// `seed_tally`.
    SeedTally(SeedConsensus),
    /// `tally`.
    Tally {
        /// Total weight.
        total_weight: u64,
        /// The quorum threshold.
        quorum: u64,
        /// What happened to each vote.
        votes: Vec<VoteOutcome>,
        /// Block with a quorum, if any.
        decided: Option<Hash32>,
        /// Weight of the heaviest block.
        best_weight: u64,
        /// Votes counted.
        counted: usize,
        /// Votes refused.
        refused: usize,
    },
    /// `certificate`.
    Certificate {
        /// The weight.
        weight: u64,
        /// The quorum threshold.
        quorum: u64,
    },
    /// `quorum`.
    Quorum {
        /// The quorum threshold.
        quorum: u64,
    },
    /// `plan`.
    Plan {
        /// Plan of each attempt.
        attempts: Vec<AttemptPlan>,
    },
    /// `seed_next_strategy`.
    Strategy {
        /// The strategy.
        strategy: FallbackStrategy,
    },
    /// `seed_needs_emergency_block`.
    NeedsEmergency {
        /// The decision.
        needs_emergency_block: bool,
    },
    /// `transaction`.
    Transaction {
        /// The canonical encoding.
        encoding: Bytes,
        /// SHA-256 of the encoding.
        txid: Hash32,
    },
    /// `merkle_root`.
    MerkleRoot {
        /// The merkle root.
        root: Hash32,
    },
    /// `header`.
    Header {
        /// The canonical encoding.
        encoding: Bytes,
        /// The block hash.
        hash: Hash32,
    },
    /// `coinbase`.
    Coinbase {
        /// The coinbase.
        transaction: Transaction,
        /// The canonical encoding.
        encoding: Bytes,
        /// SHA-256 of the encoding.
        txid: Hash32,
    },
    /// `build` and `emergency_block`.
    Block {
        /// Scheduled timestamp.
        timestamp: u64,
        /// The block.
        block: time_consensus::block::Block,
        /// The block hash.
        hash: Hash32,
    },
    /// `validate`.
    Valid {
        /// The block hash.
        hash: Hash32,
    },
    /// `verify`.
    Verified {
        /// Always true (a bad signature is a rejection).
        valid: bool,
    },
    /// `sign`.
    Signed {
        /// The public key.
        public_key: time_consensus::PublicKey,
        /// The signature.
        signature: time_consensus::Signature,
    },
    /// `authenticate`.
    Authenticated {
        /// The signer.
        signer: NodeId,
        /// `heartbeat`, `proposal` or `vote`.
        what: String,
        /// The bytes the signature covers.
        signing_bytes: Bytes,
    },
    /// `register_key`.
    KeyAccepted {
        /// Always true (a refused key is a rejection).
        accepted: bool,
    },
    /// A node trace's final state.
    NodeFinal(FinalState),
}

/// A rotation's result.
#[derive(Clone, Debug, Serialize)]
pub struct RotationOut {
    /// Rotation count.
    pub rotation: u32,
    /// The pick, or none if nobody is left.
    pub selection: Option<LeaderSelection>,
}

/// A member and its weight, in canonical order.
#[derive(Clone, Debug, Serialize)]
pub struct WeightedMember {
    /// Id.
    pub node_id: NodeId,
    /// Weight.
    pub weight: u64,
}

/// One scheduled attempt of the reference election.
#[derive(Clone, Debug, Serialize)]
pub struct ScheduledAttempt {
    /// Attempt.
    pub attempt: u32,
    /// Its election seed.
    pub seed: Hash32,
    /// Its leader.
    pub leader: NodeId,
    /// The leader's canonical position.
    pub position: u32,
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

/// A node's state after the last step of a trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FinalState {
    /// Last finalized block.
    pub tip: Tip,
    /// How the last height was decided.
    pub last_decision: Option<Decision>,
    /// The height being decided, if any.
    pub round: Option<RoundState>,
}

/// The visible state of the height being decided.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundState {
    /// Height.
    pub height: u64,
    /// Current attempt.
    pub attempt: u32,
    /// Current phase.
    pub phase: Phase,
    /// Whether the node has cast its approve vote of this attempt.
    pub voted: bool,
    /// Lock: attempt and block.
    pub locked: Option<(u32, Hash32)>,
    /// Valid block: the attempt and block of the highest approve certificate.
    pub valid: Option<(u32, Hash32)>,
}

/// Whether `op` is defined under `rules`: seed-only operations need the
/// amendment that replaces them absent, reference-only ones need it applied.
pub fn applies(op: &Op, rules: Rules) -> Result<(), String> {
    use Amendment::*;
    let need = |a: Amendment, present: bool| -> Result<(), String> {
        if rules.has(a) == present {
            Ok(())
        } else {
            Err(format!(
                "operation `{}` is defined only {} amendment {} (rules {rules})",
                op.name(),
                if present { "with" } else { "without" },
                a.id()
            ))
        }
    };
    match op {
        Op::SeedWeightF32(_)
        | Op::SeedElection(_)
        | Op::SeedRotation(_)
        | Op::SeedWeightedSelection(_)
        | Op::SeedNextStrategy(_)
        | Op::SeedNeedsEmergencyBlock(_) => need(ChainElection, false),
        Op::Election(_) | Op::Draw(_) | Op::Pick(_) => need(ChainElection, true),
        Op::SeedSync(_) => need(WeightedSync, false),
        Op::Sync(_) if rules.has(WeightedSync) => need(ChainElection, true),
        Op::SeedTally(_) => need(QuorumOverRegistry, false).and(need(RegistryWeights, false)),
        Op::Tally(_) => need(RegistryWeights, true).and(need(ChainElection, true)),
        Op::Quorum(_) => need(QuorumOverRegistry, true),
        Op::Certificate(_) => need(TwoStepLocking, true).and(need(ChainElection, true)),
        _ => Ok(()),
    }
}

fn registry(scheme: SignatureScheme, members: &[Member]) -> Result<Registry, Refusal> {
    let infos: Vec<MasternodeInfo> = members.iter().map(MasternodeInfo::from).collect();
    Registry::new(scheme, infos).map_err(|e| Refusal::BadInput(format!("registry refused: {e}")))
}

fn config_with_genesis(genesis: Date) -> OrchestratorConfig {
    OrchestratorConfig {
        genesis_date: genesis,
        ..OrchestratorConfig::default()
    }
}

fn canonical_weights(reg: &Registry, w: &HeightWeights) -> Vec<WeightedMember> {
    (0..reg.len())
        .map(|pos| WeightedMember {
            node_id: reg.at_position(pos).node_id.clone(),
            weight: w.weight(pos),
        })
        .collect()
}

fn f32_hex(x: f32) -> String {
    format!("{:08x}", x.to_bits())
}

fn parse_f32_bits(s: &str) -> Result<f32, Refusal> {
    if s.len() != 8 {
        return bad(format!("reputation_f32_bits {s:?}: expected 8 hex digits"));
    }
    u32::from_str_radix(s, 16)
        .map(f32::from_bits)
        .or_else(|_| bad(format!("reputation_f32_bits {s:?}: expected 8 hex digits")))
}

const MAX_LIST: u32 = 100_000;

/// Runs `op` under `rules`. Node traces go through [`replay`] instead.
pub fn execute(rules: Rules, op: &Op) -> Result<Outcome, Refusal> {
    applies(op, rules).map_err(Refusal::BadInput)?;
    let chain = rules.has(Amendment::ChainElection);
    match op {
        Op::Weight(i) => {
            if chain {
                Ok(Outcome::Weight {
                    weight: reference_weight(i.tier, i.days_active, i.reputation_milli),
                })
            } else {
                let rep = i.reputation_milli as f32 / 1000.0;
                Ok(Outcome::SeedWeight {
                    reputation_f32_bits: f32_hex(rep),
                    weight: seed_weight(i.tier, i.days_active, rep),
                })
            }
        }
        Op::SeedWeightF32(i) => {
            let rep = parse_f32_bits(&i.reputation_f32_bits)?;
            Ok(Outcome::Weight {
                weight: seed_weight(i.tier, i.days_active, rep),
            })
        }
        Op::MemberWeight(i) => {
            let m = MasternodeInfo::from(&i.member);
            if chain {
                let date = config_with_genesis(i.genesis_date).chain_date(i.height);
                let days = days_active(date, m.registered_at);
                Ok(Outcome::MemberWeight {
                    date,
                    days_active: days,
                    weight: time_consensus::weight::reference_member_weight(&m, date),
                })
            } else {
                Ok(Outcome::SeedMemberWeight {
                    date: i.local_date,
                    days_active: days_active(i.local_date, m.registered_at),
                    reputation_f32_bits: f32_hex(m.reputation_score()),
                    weight: seed_member_weight(&m, i.local_date),
                })
            }
        }
        Op::SeedElection(i) => {
            let list: Vec<MasternodeInfo> =
                i.masternodes.iter().map(MasternodeInfo::from).collect();
            let weights: Vec<u64> = list.iter().map(|m| seed_member_weight(m, i.date)).collect();
            let total_weight = weights.iter().fold(0u64, |a, w| a.wrapping_add(*w));
            let leader = seed_election::elect_leader(i.height, i.date, &list);
            let rotations = i
                .rotations
                .iter()
                .map(|&k| RotationOut {
                    rotation: k,
                    selection: leader.as_ref().and_then(|l| {
                        seed_election::rotate_leader(i.height, i.date, &list, &l.leader, k)
                    }),
                })
                .collect();
            Ok(Outcome::SeedElection {
                weights,
                total_weight,
                leader,
                rotations,
            })
        }
        Op::SeedRotation(i) => {
            let list: Vec<MasternodeInfo> =
                i.masternodes.iter().map(MasternodeInfo::from).collect();
            Ok(Outcome::Selection {
                selection: seed_election::rotate_leader(
                    i.height,
                    i.date,
                    &list,
                    &i.current_leader,
                    i.rotation_count,
                ),
            })
        }
        Op::SeedWeightedSelection(i) => {
            if i.weights.is_empty() {
                return bad("weights: the deployed pick needs at least one node");
            }
            let (index, weight) = seed_election::weighted_selection(&i.seed.0, &i.weights);
            Ok(Outcome::WeightedSelection { index, weight })
        }
        Op::Election(i) => {
            if i.attempts > MAX_LIST {
                return bad(format!("attempts: at most {MAX_LIST}"));
            }
            let reg = registry(SignatureScheme::Ed25519, &i.masternodes)?;
            let chain_date = config_with_genesis(i.genesis_date).chain_date(i.height);
            let w = HeightWeights::reference(&reg, chain_date);
            let e = Election::new(&w);
            let mut schedule = LeaderSchedule::new();
            let schedule = (0..i.attempts)
                .map(|a| {
                    let pos = schedule.leader(&e, &i.previous_hash, i.height, a);
                    ScheduledAttempt {
                        attempt: a,
                        seed: election_seed(&i.previous_hash, i.height, a),
                        leader: reg.at_position(pos as usize).node_id.clone(),
                        position: pos,
                    }
                })
                .collect();
            Ok(Outcome::Election {
                chain_date,
                canonical: canonical_weights(&reg, &w),
                total_weight: w.total(),
                quorum: w.quorum(),
                schedule,
            })
        }
        Op::Draw(i) => {
            if i.space == 0 {
                return bad("space: must be at least 1");
            }
            Ok(Outcome::Draw {
                value: unbiased_draw(&i.seed, i.space),
            })
        }
        Op::Pick(i) => {
            if i.weights.is_empty() || i.weights.len() > MAX_LIST as usize {
                return bad(format!("weights: 1 to {MAX_LIST} entries"));
            }
            let n = i.weights.len() as u32;
            let sorted = i.excluded.windows(2).all(|p| p[0] < p[1]);
            if !sorted || i.excluded.iter().any(|&p| p >= n) {
                return bad(
                    "excluded: positions must ascend strictly and lie below the number of weights",
                );
            }
            // R2.1: weights given directly are bounded where they enter.
            let w = match HeightWeights::from_weights(i.weights.clone()) {
                Ok(w) => w,
                Err(e) => return rejected(rejection_of(&e)),
            };
            let e = Election::new(&w);
            Ok(Outcome::Pick {
                position: e.pick(&i.seed, &i.excluded),
            })
        }
        Op::SeedSync(i) => {
            if i.expected_nodes > 1 << 40 {
                return bad("expected_nodes: at most 2^40");
            }
            let a = chain_agreement(i.received.iter().map(|s| (s.height, &s.tip)));
            Ok(Outcome::SeedSync {
                agreement_bps: a.agreement_bps(),
                synchronized: seed_sync_complete(i.expected_nodes as usize, &a),
                agreement: a,
            })
        }
        Op::Sync(i) => {
            let reg = registry(SignatureScheme::Ed25519, &i.masternodes)?;
            let mut seen = vec![false; reg.len()];
            let mut positions = Vec::with_capacity(i.heartbeats.len());
            for hb in &i.heartbeats {
                let Some(pos) = reg.position_of(&hb.node_id) else {
                    return rejected(rejection_of(&Rejection::UnknownSigner {
                        node: hb.node_id.clone(),
                    }));
                };
                if std::mem::replace(&mut seen[pos], true) {
                    return bad(format!(
                        "heartbeats: {} appears twice; give one heartbeat per member",
                        hb.node_id
                    ));
                }
                positions.push(pos);
            }
            if rules.has(Amendment::WeightedSync) {
                let height = i.own_tip.height.saturating_add(1);
                let w = HeightWeights::reference(
                    &reg,
                    config_with_genesis(i.genesis_date).chain_date(height),
                );
                let own = (i.own_tip.height, &i.own_tip.hash);
                let states: Vec<(u64, &Hash32, u64)> = i
                    .heartbeats
                    .iter()
                    .zip(&positions)
                    .map(|(hb, &pos)| (hb.height, &hb.tip, w.weight(pos)))
                    .collect();
                let agreeing_weight = states
                    .iter()
                    .filter(|(h, t, _)| *h == own.0 && *t == own.1)
                    .map(|(_, _, w)| *w)
                    .sum();
                Ok(Outcome::WeightedSync {
                    weights: canonical_weights(&reg, &w),
                    agreeing_weight,
                    total_weight: w.total(),
                    quorum: w.quorum(),
                    synchronized: weighted_sync_complete(own, states, w.quorum()),
                })
            } else {
                let a = chain_agreement(i.heartbeats.iter().map(|s| (s.height, &s.tip)));
                Ok(Outcome::SeedSync {
                    agreement_bps: a.agreement_bps(),
                    synchronized: seed_sync_complete(reg.len(), &a),
                    agreement: a,
                })
            }
        }
        Op::SeedTally(i) => {
            let votes: Vec<Vote> = i
                .votes
                .iter()
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
            Ok(Outcome::SeedTally(seed_check_consensus(&votes)))
        }
        Op::Tally(i) => tally(i),
        Op::Certificate(i) => {
            let reg = registry(SignatureScheme::Ed25519, &i.masternodes)?;
            let date = config_with_genesis(i.genesis_date).chain_date(i.certificate.height);
            let w = HeightWeights::reference(&reg, date);
            match verify_certificate(&reg, &w, &i.certificate, |_, _| false) {
                Ok(weight) => Ok(Outcome::Certificate {
                    weight,
                    quorum: w.quorum(),
                }),
                Err(e) => rejected(rejection_of(&e)),
            }
        }
        Op::Quorum(i) => {
            if i.total > MAX_TOTAL_WEIGHT {
                return bad("total: at most 2^62 (R2.1)");
            }
            Ok(Outcome::Quorum {
                quorum: quorum_threshold(i.total),
            })
        }
        Op::Plan(i) => {
            if i.attempts > MAX_LIST {
                return bad(format!("attempts: at most {MAX_LIST}"));
            }
            let mut cfg = OrchestratorConfig::default();
            cfg.fallback_config.max_leader_rotations = i.config.max_leader_rotations;
            cfg.fallback_config.enable_emergency_blocks = i.config.enable_emergency_blocks;
            cfg.voting_window_secs = i.config.voting_window_secs;
            cfg.reward_only_voting_window_secs = i.config.reward_only_voting_window_secs;
            cfg.validate()
                .map_err(|e| Refusal::BadInput(format!("config: {e}")))?;
            Ok(Outcome::Plan {
                attempts: (0..i.attempts).map(|a| plan(rules, &cfg, a)).collect(),
            })
        }
        Op::SeedNextStrategy(i) => Ok(Outcome::Strategy {
            strategy: seed_next_strategy(i.attempt_count, i.enable_emergency_blocks),
        }),
        Op::SeedNeedsEmergencyBlock(i) => Ok(Outcome::NeedsEmergency {
            needs_emergency_block: seed_needs_emergency_block(
                i.attempt_count,
                i.max_leader_rotations,
                i.enable_emergency_blocks,
            ),
        }),
        Op::Transaction(i) => match i.transaction.encode() {
            Ok(encoding) => Ok(Outcome::Transaction {
                txid: i
                    .transaction
                    .txid()
                    .map_err(|e| Refusal::BadInput(e.to_string()))?,
                encoding: Bytes(encoding),
            }),
            Err(e) => rejected(rejection_of(&e)),
        },
        Op::MerkleRoot(i) => Ok(Outcome::MerkleRoot {
            root: merkle_root(&i.txids),
        }),
        Op::Header(i) => Ok(Outcome::Header {
            encoding: Bytes(i.header.encode().finish()),
            hash: i.header.hash(),
        }),
        Op::Coinbase(i) => {
            let reg = registry(SignatureScheme::Ed25519, &i.masternodes)?;
            let tx = time_consensus::block::coinbase(i.height, &reg, &i.rewards, i.kind);
            let unencodable = |e: EncodeError| Refusal::BadInput(format!("coinbase: {e}"));
            Ok(Outcome::Coinbase {
                encoding: Bytes(tx.encode().map_err(unencodable)?),
                txid: tx.txid().map_err(unencodable)?,
                transaction: tx,
            })
        }
        Op::Build(i) => {
            let ctx = block_context(&i.context)?;
            let b = ctx.build(i.kind, &i.proposer, &i.mempool);
            // R3.1, R3.6: a leader never builds a block its peers refuse.
            if let Err(e) = ctx.validate(&b) {
                return bad(format!("the built block fails validation: {e}"));
            }
            Ok(Outcome::Block {
                timestamp: ctx.timestamp,
                hash: b.hash(),
                block: b,
            })
        }
        Op::EmergencyBlock(i) => {
            let ctx = block_context(&i.context)?;
            Ok(Outcome::Block {
                timestamp: ctx.timestamp,
                hash: ctx.emergency.hash(),
                block: (*ctx.emergency).clone(),
            })
        }
        Op::Validate(i) => {
            let ctx = block_context(&i.context)?;
            if let Err(e) = ctx.validate(&i.block) {
                return rejected(rejection_of(&e));
            }
            if let Some(attempt) = i.attempt {
                let expected = plan(rules, &OrchestratorConfig::default(), attempt).kind;
                if i.block.header.kind != expected {
                    return rejected(rejection_of(&Rejection::WrongBlockKind {
                        attempt,
                        expected,
                        got: i.block.header.kind,
                    }));
                }
            }
            Ok(Outcome::Valid {
                hash: i.block.hash(),
            })
        }
        Op::Verify(i) => {
            if SignatureScheme::Ed25519.verify(&i.public_key, &i.message.0, &i.signature) {
                Ok(Outcome::Verified { valid: true })
            } else {
                rejected(ExpectedRejection {
                    error: "bad_signature".into(),
                    detail: None,
                    message: Some("the signature does not verify (verify_strict)".into()),
                })
            }
        }
        Op::Sign(i) => {
            let k = Keypair::from_seed(SignatureScheme::Ed25519, i.secret_seed.0);
            Ok(Outcome::Signed {
                public_key: k.public(),
                signature: k.sign(&i.message.0),
            })
        }
        Op::Authenticate(i) => {
            let reg = registry(SignatureScheme::Ed25519, &i.masternodes)?;
            let Some(signed) = i.message.signed() else {
                return bad("message: a certificate has no single signer; use the tally suite's `certificate`");
            };
            let (signer, bytes, sig, what) =
                (signed.signer, signed.bytes, signed.signature, signed.kind);
            let Some(pos) = reg.position_of(signer) else {
                return rejected(rejection_of(&Rejection::UnknownSigner {
                    node: signer.clone(),
                }));
            };
            let key = reg.at_position(pos).public_key;
            if !reg.scheme().verify(&key, &bytes, sig) {
                return rejected(rejection_of(&Rejection::BadSignature {
                    signer: signer.clone(),
                    what,
                }));
            }
            Ok(Outcome::Authenticated {
                signer: signer.clone(),
                what: what.to_string(),
                signing_bytes: Bytes(bytes),
            })
        }
        Op::RegisterKey(i) => match SignatureScheme::Ed25519.check_key(&i.public_key) {
            Ok(()) => Ok(Outcome::KeyAccepted { accepted: true }),
            Err(e) => rejected(ExpectedRejection {
                error: match e {
                    KeyError::NotAPoint(_) => "not_a_point",
                    KeyError::Weak(_) => "weak_key",
                }
                .into(),
                detail: None,
                message: Some(e.to_string()),
            }),
        },
        Op::NodeTrace(_) => bad("node traces are replayed, not executed"),
    }
}

fn block_context(c: &BlockContextIn) -> Result<BlockContext, Refusal> {
    let max_bytes = c.max_block_bytes.unwrap_or(DEFAULT_MAX_BLOCK_BYTES);
    if max_bytes > MAX_BLOCK_BYTES {
        return bad("max_block_bytes: at most 2^30 (R3.6)");
    }
    let reg = registry(SignatureScheme::Ed25519, &c.masternodes)?;
    let cfg = config_with_genesis(c.genesis_date);
    Ok(BlockContext::new(
        c.height,
        c.previous_hash,
        cfg.block_timestamp(c.height),
        &reg,
        &c.rewards,
        c.max_block_transactions,
        max_bytes,
    ))
}

fn tally(i: &TallyIn) -> Result<Outcome, Refusal> {
    let reg = registry(SignatureScheme::Ed25519, &i.masternodes)?;
    let date = config_with_genesis(i.genesis_date).chain_date(i.height);
    let w = HeightWeights::reference(&reg, date);
    let mut t: Tally<()> = Tally::new(reg.len());
    let mut outcomes = Vec::with_capacity(i.votes.len());
    for sv in &i.votes {
        let v = &sv.vote;
        let o = match reg.position_of(&v.voter) {
            None => VoteOutcome::UnknownSigner,
            Some(_)
                if v.height != i.height
                    || v.attempt != i.attempt
                    || v.step != i.step
                    || !v.approve =>
            {
                VoteOutcome::NotForThisTally
            }
            Some(pos) => {
                let key = reg.at_position(pos).public_key;
                if !reg.scheme().verify(&key, &v.signing_bytes(), &sv.signature) {
                    VoteOutcome::BadSignature
                } else {
                    match t.insert(pos, v.block_hash, w.weight(pos), ()) {
                        Insert::Counted { block_weight } => VoteOutcome::Counted {
                            weight: w.weight(pos),
                            block_weight,
                        },
                        Insert::Duplicate => VoteOutcome::Duplicate,
                        Insert::Equivocation { first } => VoteOutcome::Equivocation { first },
                    }
                }
            }
        };
        outcomes.push(o);
    }
    let counted = outcomes
        .iter()
        .filter(|o| matches!(o, VoteOutcome::Counted { .. }))
        .count();
    let decided = t.quorum_block(w.quorum());
    let best_weight = t.sums().iter().map(|(_, x)| *x).max().unwrap_or(0);
    // The hot path must agree with the vote-by-vote reading, in both modes.
    for mode in [Verification::Each, Verification::Batch] {
        let o = tally_signed(&reg, &w, i.height, i.attempt, i.step, &i.votes, mode);
        if (o.decided, o.best_weight, o.counted, o.refused)
            != (decided, best_weight, counted, i.votes.len() - counted)
        {
            return bad(format!(
                "tally_signed ({mode:?}) disagrees with the vote-by-vote count: {o:?}"
            ));
        }
    }
    Ok(Outcome::Tally {
        total_weight: w.total(),
        quorum: w.quorum(),
        votes: outcomes,
        decided,
        best_weight,
        counted,
        refused: i.votes.len() - counted,
    })
}

/// A replayed trace: each step's outputs and the final state.
#[derive(Clone, Debug)]
pub struct Replay {
    /// Outputs of each step, in order.
    pub outputs: Vec<Vec<Output>>,
    /// State after the last step.
    pub final_state: FinalState,
}

/// Builds the node of `setup` under `rules`.
pub fn trace_node(rules: Rules, setup: &TraceSetup) -> Result<Node, String> {
    let infos: Vec<MasternodeInfo> = setup.masternodes.iter().map(MasternodeInfo::from).collect();
    let reg = Registry::new(setup.scheme, infos).map_err(|e| format!("registry refused: {e}"))?;
    let kp = Keypair::from_seed(setup.scheme, setup.secret_seed.0);
    let ctx = Context::new(kp, Arc::new(reg), rules, setup.config.clone())
        .map_err(|e| format!("node refused: {e}"))?;
    Ok(Node::new(ctx, setup.tip))
}

/// The visible state of `node`.
pub fn final_state(node: &Node) -> FinalState {
    visible_state(node.state())
}

/// The visible part of a node's state.
pub fn visible_state(s: &time_consensus::node::NodeState) -> FinalState {
    FinalState {
        tip: s.tip(),
        last_decision: s.last_decision(),
        round: s.round().map(|r| RoundState {
            height: r.height(),
            attempt: r.attempt(),
            phase: r.phase(),
            voted: r.voted(),
            locked: r.locked(),
            valid: r.valid().map(|j| (j.attempt, j.block_hash)),
        }),
    }
}

/// Replays the inputs of `trace` on a fresh node.
pub fn replay(rules: Rules, trace: &NodeTraceIn) -> Result<Replay, String> {
    let mut node = trace_node(rules, &trace.setup)?;
    let outputs = trace
        .steps
        .iter()
        .map(|s| node.handle(s.input.clone()))
        .collect();
    Ok(Replay {
        outputs,
        final_state: final_state(&node),
    })
}

/// Hex of `bytes` (for descriptions).
pub fn hex(bytes: &[u8]) -> String {
    to_hex(bytes)
}
