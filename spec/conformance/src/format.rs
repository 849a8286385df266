//! The vector file format, version 1 (`spec/vectors/FORMAT.md` is its
//! normative description; this is its Rust reading).
//!
//! Every struct refuses unknown fields and every operation is an externally
//! tagged enum variant, so that a typo in a hand-written vector is an error
//! with a line and column rather than a silently ignored field.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time_consensus::block::{Block, BlockHeader, Transaction};
use time_consensus::config::{OrchestratorConfig, RewardConfig};
use time_consensus::crypto::{PublicKey, Signature, SignatureScheme};
use time_consensus::fallback::BlockKind;
use time_consensus::message::Message;
use time_consensus::node::{Input, Output, Tip};
use time_consensus::primitives::{from_hex_vec, to_hex, Date, Hash32, NodeId};
use time_consensus::registry::{MasternodeInfo, Tier};
use time_consensus::vote::{Certificate, SignedVote, Step};
use time_consensus::Rules;

/// The `format` string of every version-1 vector.
pub const FORMAT_VERSION: &str = "time-consensus-vectors/1";

/// A group of cases exercising one part of the protocol; also the name of
/// the directory holding them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suite {
    /// Masternode weights (S2.1, R2.2, R2.3).
    Weights,
    /// Leader election (S2.2-S2.6, R2.4-R2.7).
    Election,
    /// The phase-1 synchronization decision (S1.2, S1.3, R1.3).
    Heartbeat,
    /// Vote counting, quorums and certificates (S6.x, R5.x).
    Tally,
    /// The attempt ladder (S7.x, R7.1-R7.3).
    Fallback,
    /// Transactions, coinbase, merkle root, block hash, validation (R3.x).
    Block,
    /// Signing bytes, ed25519 signing and verification, authentication (R0.x).
    Signatures,
    /// A node driven input by input, with every output it must produce.
    NodeTrace,
}

impl Suite {
    /// Every suite, in directory order.
    pub const ALL: [Suite; 8] = [
        Suite::Weights,
        Suite::Election,
        Suite::Heartbeat,
        Suite::Tally,
        Suite::Fallback,
        Suite::Block,
        Suite::Signatures,
        Suite::NodeTrace,
    ];

    /// The suite's name, which is also its directory's name.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Weights => "weights",
            Suite::Election => "election",
            Suite::Heartbeat => "heartbeat",
            Suite::Tally => "tally",
            Suite::Fallback => "fallback",
            Suite::Block => "block",
            Suite::Signatures => "signatures",
            Suite::NodeTrace => "node_trace",
        }
    }

    /// The suite named `name`, if any.
    pub fn from_name(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// One vector file. `E` is the type of the expected output: the generator
/// writes typed outputs, the runner reads them back as JSON values.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case<E> {
    /// Always [`FORMAT_VERSION`].
    pub format: String,
    /// The suite; equal to the parent directory's name when that is a suite.
    pub suite: Suite,
    /// The case's name; equal to the file name without `.json`.
    pub case: String,
    /// The rule sets the case holds under (`seed`, `reference`, or an
    /// amended set such as `reference-A4`); it is run under each.
    pub rules: Vec<Rules>,
    /// What the case shows, in a sentence or two.
    pub description: String,
    /// The spec's rule ids the case exercises.
    pub rule_ids: Vec<String>,
    /// Where the case came from, when not from `tcm vectors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// The operation and its inputs.
    pub input: Op,
    /// The output the implementation must produce (absent when a rejection
    /// is expected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<E>,
    /// The rejection the implementation must produce instead of an output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_rejection: Option<ExpectedRejection>,
}

/// Provenance of a case produced by another tool, for example a node trace
/// exported from a model-checker path. Every field is informative.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// The tool, e.g. `tcm check`.
    pub tool: String,
    /// The model configuration (a preset name or a whole configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_config: Option<Value>,
    /// The property whose counterexample or example the path is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// The path, one action per entry, as the tool prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<String>>,
    /// Which actor of the path the trace follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// A rejection: a language-neutral code, optionally the error's data, and
/// an informative message (never compared).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRejection {
    /// The error code, e.g. `wrong_previous_hash` or `unknown_signer`.
    pub error: String,
    /// The error's data; compared when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
    /// Human-readable text; not compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Arbitrary bytes, written as lower-case hex.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        from_hex_vec(&s)
            .map(Bytes)
            .map_err(serde::de::Error::custom)
    }
}

/// A registered masternode as vectors write it (the registry's fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Id.
    pub node_id: NodeId,
    /// Registered ed25519 key.
    pub public_key: PublicKey,
    /// Tier.
    pub tier: Tier,
    /// Registration date.
    pub registered_at: Date,
    /// Reputation, thousandths.
    pub reputation_milli: u32,
}

impl From<&Member> for MasternodeInfo {
    fn from(m: &Member) -> Self {
        MasternodeInfo {
            node_id: m.node_id.clone(),
            public_key: m.public_key,
            tier: m.tier,
            registered_at: m.registered_at,
            reputation_milli: m.reputation_milli,
        }
    }
}

impl From<&MasternodeInfo> for Member {
    fn from(m: &MasternodeInfo) -> Self {
        Member {
            node_id: m.node_id.clone(),
            public_key: m.public_key,
            tier: m.tier,
            registered_at: m.registered_at,
            reputation_milli: m.reputation_milli,
        }
    }
}

/// The operation a case runs, with its inputs. The JSON key names it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// weights: the weight formula of the rule set.
    Weight(WeightIn),
    /// weights: the deployed `f32` formula on a raw `f32` reputation.
    SeedWeightF32(SeedWeightF32In),
    /// weights: a registered member's weight on the date the rule set uses.
    MemberWeight(MemberWeightIn),
    /// election: the deployed `elect_leader`, then `rotate_leader` per rotation.
    SeedElection(SeedElectionIn),
    /// election: the deployed `rotate_leader` with any current leader.
    SeedRotation(SeedRotationIn),
    /// election: the deployed modulo pick over a weight list.
    SeedWeightedSelection(SeedWeightedSelectionIn),
    /// election: the reference weights, seeds and leader schedule.
    Election(ElectionIn),
    /// election: the reference unbiased draw.
    Draw(DrawIn),
    /// election: the reference pick with excluded positions.
    Pick(PickIn),
    /// heartbeat: the deployed `check_chain_agreement` and `check_sync_complete`.
    SeedSync(SeedSyncIn),
    /// heartbeat: the synchronization decision of the rule set.
    Sync(SyncIn),
    /// tally: the deployed `check_consensus`.
    SeedTally(SeedTallyIn),
    /// tally: the reference count of one step of one attempt.
    Tally(TallyIn),
    /// tally: certificate verification.
    Certificate(CertificateIn),
    /// tally: the quorum threshold.
    Quorum(QuorumIn),
    /// fallback: the plan of each attempt.
    Plan(PlanIn),
    /// fallback: the deployed `next_strategy`.
    SeedNextStrategy(SeedNextStrategyIn),
    /// fallback: the deployed `needs_emergency_block`.
    SeedNeedsEmergencyBlock(SeedNeedsEmergencyBlockIn),
    /// block: a transaction's encoding and txid.
    Transaction(TransactionIn),
    /// block: the merkle root of txids.
    MerkleRoot(MerkleRootIn),
    /// block: a header's encoding and hash.
    Header(HeaderIn),
    /// block: the coinbase of a height.
    Coinbase(CoinbaseIn),
    /// block: a leader's block.
    Build(BuildIn),
    /// block: the canonical emergency block.
    EmergencyBlock(EmergencyBlockIn),
    /// block: block validation.
    Validate(ValidateIn),
    /// signatures: ed25519 `verify_strict`.
    Verify(VerifyIn),
    /// signatures: deterministic ed25519 signing from a secret seed.
    Sign(SignIn),
    /// signatures: authentication of a signed message against a registry.
    Authenticate(AuthenticateIn),
    /// signatures: whether a key may be registered.
    RegisterKey(RegisterKeyIn),
    /// node_trace: a node driven step by step.
    NodeTrace(NodeTraceIn),
}

impl Op {
    /// The suite the operation belongs to.
    pub fn suite(&self) -> Suite {
        use Op::*;
        match self {
            Weight(_) | SeedWeightF32(_) | MemberWeight(_) => Suite::Weights,
            SeedElection(_)
            | SeedRotation(_)
            | SeedWeightedSelection(_)
            | Election(_)
            | Draw(_)
            | Pick(_) => Suite::Election,
            SeedSync(_) | Sync(_) => Suite::Heartbeat,
            SeedTally(_) | Tally(_) | Certificate(_) | Quorum(_) => Suite::Tally,
            Plan(_) | SeedNextStrategy(_) | SeedNeedsEmergencyBlock(_) => Suite::Fallback,
            Transaction(_) | MerkleRoot(_) | Header(_) | Coinbase(_) | Build(_)
            | EmergencyBlock(_) | Validate(_) => Suite::Block,
            Verify(_) | Sign(_) | Authenticate(_) | RegisterKey(_) => Suite::Signatures,
            NodeTrace(_) => Suite::NodeTrace,
        }
    }

    /// The operation's JSON key.
    pub fn name(&self) -> &'static str {
        use Op::*;
        match self {
            Weight(_) => "weight",
            SeedWeightF32(_) => "seed_weight_f32",
            MemberWeight(_) => "member_weight",
            SeedElection(_) => "seed_election",
            SeedRotation(_) => "seed_rotation",
            SeedWeightedSelection(_) => "seed_weighted_selection",
            Election(_) => "election",
            Draw(_) => "draw",
            Pick(_) => "pick",
            SeedSync(_) => "seed_sync",
            Sync(_) => "sync",
            SeedTally(_) => "seed_tally",
            Tally(_) => "tally",
            Certificate(_) => "certificate",
            Quorum(_) => "quorum",
            Plan(_) => "plan",
            SeedNextStrategy(_) => "seed_next_strategy",
            SeedNeedsEmergencyBlock(_) => "seed_needs_emergency_block",
            Transaction(_) => "transaction",
            MerkleRoot(_) => "merkle_root",
            Header(_) => "header",
            Coinbase(_) => "coinbase",
            Build(_) => "build",
            EmergencyBlock(_) => "emergency_block",
            Validate(_) => "validate",
            Verify(_) => "verify",
            Sign(_) => "sign",
            Authenticate(_) => "authenticate",
            RegisterKey(_) => "register_key",
            NodeTrace(_) => "node_trace",
        }
    }
}

/// Input of [`Op::Weight`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightIn {
    /// Tier.
    pub tier: Tier,
    /// Whole days since registration.
    pub days_active: u64,
    /// Reputation, thousandths (seed rules read it as `milli as f32 / 1000.0`).
    pub reputation_milli: u32,
}

/// Input of [`Op::SeedWeightF32`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedWeightF32In {
    /// Tier.
    pub tier: Tier,
    /// Whole days since registration.
    pub days_active: u64,
    /// The `f32` reputation score as its 32 IEEE-754 bits, 8 hex digits,
    /// most significant first (`3f800000` is 1.0).
    pub reputation_f32_bits: String,
}

/// Input of [`Op::MemberWeight`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberWeightIn {
    /// The member.
    pub member: Member,
    /// The node's local date (seed rules).
    pub local_date: Date,
    /// Date of block 0 (reference rules: chain date = genesis + height days).
    pub genesis_date: Date,
    /// Height being decided.
    pub height: u64,
}

/// Input of [`Op::SeedElection`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedElectionIn {
    /// Height.
    pub height: u64,
    /// The node's local date.
    pub date: Date,
    /// The masternode list, in the order the node holds it.
    pub masternodes: Vec<Member>,
    /// Rotation counts to run after the election, each excluding the
    /// original leader.
    pub rotations: Vec<u32>,
}

/// Input of [`Op::SeedRotation`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRotationIn {
    /// Height.
    pub height: u64,
    /// The node's local date.
    pub date: Date,
    /// The masternode list, in the order the node holds it.
    pub masternodes: Vec<Member>,
    /// The id removed from the list.
    pub current_leader: NodeId,
    /// The rotation count appended to the seed.
    pub rotation_count: u32,
}

/// Input of [`Op::SeedWeightedSelection`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedWeightedSelectionIn {
    /// The seed (32 bytes, or 36 for a rotation).
    pub seed: Bytes,
    /// Weights in list order.
    pub weights: Vec<u64>,
}

/// Input of [`Op::Election`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionIn {
    /// The registry (any order: the canonical order is computed).
    pub masternodes: Vec<Member>,
    /// Date of block 0.
    pub genesis_date: Date,
    /// Height being decided.
    pub height: u64,
    /// Hash of the tip it extends.
    pub previous_hash: Hash32,
    /// Number of attempts to schedule (attempts `0..attempts`).
    pub attempts: u32,
}

/// Input of [`Op::Draw`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawIn {
    /// The seed.
    pub seed: Hash32,
    /// Size of the range, at least 1.
    pub space: u64,
}

/// Input of [`Op::Pick`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickIn {
    /// Weights in canonical order.
    pub weights: Vec<u64>,
    /// The seed.
    pub seed: Hash32,
    /// Excluded canonical positions, ascending, no repeats.
    pub excluded: Vec<u32>,
}

/// A chain state announced by a heartbeat.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainState {
    /// Tip height.
    pub height: u64,
    /// Tip hash.
    pub tip: Hash32,
}

/// Input of [`Op::SeedSync`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSyncIn {
    /// Masternodes expected.
    pub expected_nodes: u64,
    /// States of the heartbeats received, one per sender.
    pub received: Vec<ChainState>,
}

/// One member's heartbeat state.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatState {
    /// Sender.
    pub node_id: NodeId,
    /// Tip height.
    pub height: u64,
    /// Tip hash.
    pub tip: Hash32,
}

/// Input of [`Op::Sync`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncIn {
    /// The registry.
    pub masternodes: Vec<Member>,
    /// Date of block 0.
    pub genesis_date: Date,
    /// The deciding node's own tip (the height decided is one above).
    pub own_tip: Tip,
    /// Heartbeats recorded, one per member (the node's own included).
    pub heartbeats: Vec<HeartbeatState>,
}

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

/// The configuration the ladder depends on.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderConfig {
    /// Leader rotations before the reward-only attempt.
    pub max_leader_rotations: u32,
    /// Whether the ladder ends in emergency blocks.
    pub enable_emergency_blocks: bool,
    /// Voting window of normal attempts, seconds.
    pub voting_window_secs: u64,
    /// Voting window of the reward-only attempt, seconds.
    pub reward_only_voting_window_secs: u64,
}

/// Input of [`Op::Plan`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    /// Ladder configuration.
    pub config: LadderConfig,
    /// Number of attempts to plan (attempts `0..attempts`).
    pub attempts: u32,
}

/// Input of [`Op::SeedNextStrategy`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedNextStrategyIn {
    /// Failed attempts so far.
    pub attempt_count: u32,
    /// Whether emergency blocks are enabled.
    pub enable_emergency_blocks: bool,
}

/// Input of [`Op::SeedNeedsEmergencyBlock`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedNeedsEmergencyBlockIn {
    /// Failed attempts so far.
    pub attempt_count: u32,
    /// Leader rotations configured.
    pub max_leader_rotations: u32,
    /// Whether emergency blocks are enabled.
    pub enable_emergency_blocks: bool,
}

/// Input of [`Op::Transaction`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionIn {
    /// The transaction.
    pub transaction: Transaction,
}

/// Input of [`Op::MerkleRoot`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerkleRootIn {
    /// Transaction ids in block order.
    pub txids: Vec<Hash32>,
}

/// Input of [`Op::Header`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderIn {
    /// The header.
    pub header: BlockHeader,
}

/// Input of [`Op::Coinbase`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoinbaseIn {
    /// The registry.
    pub masternodes: Vec<Member>,
    /// Rewards.
    pub rewards: RewardConfig,
    /// Height paid for.
    pub height: u64,
    /// Kind of block it is for.
    pub kind: BlockKind,
}

/// What a block of a height must extend and contain.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockContextIn {
    /// The registry.
    pub masternodes: Vec<Member>,
    /// Date of block 0 (fixes the scheduled timestamp).
    pub genesis_date: Date,
    /// Height being decided.
    pub height: u64,
    /// Hash of the tip.
    pub previous_hash: Hash32,
    /// Rewards.
    pub rewards: RewardConfig,
    /// Most mempool transactions a block may carry.
    pub max_block_transactions: u32,
    /// Most bytes its mempool transactions may take (R3.6); absent means
    /// the default, 4 MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_block_bytes: Option<u32>,
}

/// Input of [`Op::Build`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildIn {
    /// The height's context.
    pub context: BlockContextIn,
    /// Normal or reward-only.
    pub kind: BlockKind,
    /// The leader.
    pub proposer: NodeId,
    /// The leader's mempool, in any order.
    pub mempool: Vec<Transaction>,
}

/// Input of [`Op::EmergencyBlock`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyBlockIn {
    /// The height's context.
    pub context: BlockContextIn,
}

/// Input of [`Op::Validate`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateIn {
    /// The height's context.
    pub context: BlockContextIn,
    /// The block.
    pub block: Block,
    /// When present, the block is a fresh proposal of this attempt and its
    /// kind must be the one the ladder (default configuration) requires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
}

/// Input of [`Op::Verify`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    /// The key.
    pub public_key: PublicKey,
    /// The signed bytes.
    pub message: Bytes,
    /// The signature.
    pub signature: Signature,
}

/// Input of [`Op::Sign`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The 32-byte ed25519 secret seed.
    pub secret_seed: Hash32,
    /// The bytes to sign.
    pub message: Bytes,
}

/// Input of [`Op::Authenticate`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthenticateIn {
    /// The registry.
    pub masternodes: Vec<Member>,
    /// A heartbeat, proposal or vote.
    pub message: Message,
}

/// Input of [`Op::RegisterKey`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterKeyIn {
    /// The key.
    pub public_key: PublicKey,
}

/// The node under test.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSetup {
    /// Signature scheme (`ed25519` unless the trace comes from the model
    /// checker, which may use `symbolic`).
    #[serde(default)]
    pub scheme: SignatureScheme,
    /// The node's 32-byte secret seed (its key is derived from it).
    pub secret_seed: Hash32,
    /// The label the seed was derived from (`SHA-256(label)`); informative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_label: Option<String>,
    /// The registry, in the node's list order.
    pub masternodes: Vec<Member>,
    /// The node's configuration.
    pub config: OrchestratorConfig,
    /// The node's tip before the first step.
    pub tip: Tip,
}

/// One input and exactly the outputs it must produce, in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceStep {
    /// Start, message or timer.
    pub input: Input,
    /// Broadcasts, timers set or cancelled, and events.
    pub outputs: Vec<Output>,
}

/// Input of [`Op::NodeTrace`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeTraceIn {
    /// The node.
    pub setup: TraceSetup,
    /// The steps.
    pub steps: Vec<TraceStep>,
}
