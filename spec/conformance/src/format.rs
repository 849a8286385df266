//! The vector file format, version 1 (`spec/vectors/FORMAT.md` is its
//! normative description; this is its Rust reading).
//!
//! Every struct refuses unknown fields and every operation is an externally
//! tagged enum variant, so that a typo in a hand-written vector is an error
//! with a line and column rather than a silently ignored field.
//!
//! Each operation's input is a type of its suite's module (`crate::suites`)
//! implementing [`Operation`]: its output, its suite, the amendments it needs
//! and how it runs. [`Op`] is the one list of them; serde names each.

use crate::suites::{block::*, election::*, fallback::*, heartbeat::*, node_trace::*};
use crate::suites::{signatures::*, tally::*, weights::*};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time_consensus::crypto::PublicKey;
use time_consensus::primitives::{from_hex_vec, to_hex, Date, NodeId};
use time_consensus::registry::{MasternodeInfo, Tier};
use time_consensus::{Amendment, Rules};

/// The `format` string of every version-1 vector.
pub const FORMAT_VERSION: &str = "time-consensus-vectors/1";

/// Writes [`Suite`] from one list: each variant with its name, written once
/// and used by serde, [`Suite::name`] and [`Suite::ALL`] alike.
macro_rules! suites {
    ($($(#[$doc:meta])* $suite:ident = $name:literal,)*) => {
        /// A group of cases exercising one part of the protocol; also the
        /// name of the directory holding them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Suite {
            $($(#[$doc])* #[serde(rename = $name)] $suite,)*
        }

        impl Suite {
            /// Every suite, in directory order.
            pub const ALL: [Suite; [$($name,)*].len()] = [$(Suite::$suite,)*];

            /// The suite's name, which is also its directory's name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Suite::$suite => $name,)*
                }
            }
        }
    };
}

suites! {
    /// Masternode weights (S2.1, R2.2, R2.3).
    Weights = "weights",
    /// Leader election (S2.2-S2.6, R2.4-R2.7).
    Election = "election",
    /// The phase-1 synchronization decision (S1.2, S1.3, R1.3).
    Heartbeat = "heartbeat",
    /// Vote counting, quorums and certificates (S6.x, R5.x).
    Tally = "tally",
    /// The attempt ladder (S7.x, R7.1-R7.3).
    Fallback = "fallback",
    /// Transactions, coinbase, merkle root, block hash, validation (R3.x).
    Block = "block",
    /// Signing bytes, ed25519 signing and verification, authentication (R0.x).
    Signatures = "signatures",
    /// A node driven input by input, with every output it must produce.
    NodeTrace = "node_trace",
}

impl Suite {
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

/// Amendments that must be applied (`true`) or absent (`false`).
pub type Needs = &'static [(Amendment, bool)];

/// One operation: its input (`Self`), its output, its suite, and how it
/// runs. Execution is a thin call into `time-consensus`: no protocol rule
/// is restated here.
pub trait Operation: Clone + Serialize + Into<Op> {
    /// What the vector's `expected` holds.
    type Output: Serialize;
    /// The suite the operation belongs to.
    const SUITE: Suite;
    /// The amendments that must be applied (`true`) or absent (`false`)
    /// for the operation to be defined (seed-only operations need the
    /// amendment that replaces them absent, and so on).
    const NEEDS: Needs = &[];
    /// [`Operation::NEEDS`], or what the operation needs under `rules`.
    fn needs(_rules: Rules) -> Needs {
        Self::NEEDS
    }
    /// Runs the operation under `rules`.
    fn execute(&self, rules: Rules) -> Result<Self::Output, Refusal>;
}

/// What the runner needs of any operation, its output as JSON.
trait Run {
    fn suite(&self) -> Suite;
    fn needs(&self, rules: Rules) -> Needs;
    fn run(&self, rules: Rules) -> Result<Value, Refusal>;
}

impl<O: Operation> Run for O {
    fn suite(&self) -> Suite {
        O::SUITE
    }
    fn needs(&self, rules: Rules) -> Needs {
        O::needs(rules)
    }
    fn run(&self, rules: Rules) -> Result<Value, Refusal> {
        let out = self.execute(rules)?;
        serde_json::to_value(out).map_err(|e| Refusal::BadInput(format!("unserializable: {e}")))
    }
}

macro_rules! ops {
    ($($(#[$doc:meta])* $op:ident($input:ty),)*) => {
        /// The operation a case runs, with its inputs. The JSON key names it.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Op {
            $($(#[$doc])* $op($input),)*
        }
        $(impl From<$input> for Op {
            fn from(i: $input) -> Op {
                Op::$op(i)
            }
        })*
        impl Op {
            fn op(&self) -> &dyn Run {
                match self {
                    $(Op::$op(i) => i,)*
                }
            }
        }
    };
}

ops! {
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
    /// node_trace: a node driven step by step (its final state is the
    /// output; the runner also compares each step's outputs).
    NodeTrace(NodeTraceIn),
}

impl Op {
    /// The suite the operation belongs to.
    pub fn suite(&self) -> Suite {
        self.op().suite()
    }

    /// The operation's JSON key, as serde writes it.
    pub fn name(&self) -> String {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m.keys().next().cloned().unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// Whether the operation is defined under `rules`.
    pub fn applies(&self, rules: Rules) -> Result<(), String> {
        match self
            .op()
            .needs(rules)
            .iter()
            .find(|(a, on)| rules.has(*a) != *on)
        {
            None => Ok(()),
            Some((a, on)) => Err(format!(
                "operation `{}` is defined only {} amendment {} (rules {rules})",
                self.name(),
                if *on { "with" } else { "without" },
                a.id()
            )),
        }
    }

    /// Runs the operation under `rules`; its output as JSON.
    pub fn execute(&self, rules: Rules) -> Result<Value, Refusal> {
        self.applies(rules).map_err(Refusal::BadInput)?;
        self.op().run(rules)
    }
}

/// Why an operation produced no output.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// The implementation rejected the input, as the protocol prescribes; a
    /// vector may expect exactly this.
    Rejected(ExpectedRejection),
    /// The input is outside what the operation accepts (the vector is wrong).
    BadInput(String),
}

/// A refusal of bad input.
pub fn bad<T>(msg: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::BadInput(msg.into()))
}

/// The rejection of `err`, a serde externally tagged error enum: a unit
/// variant is its name, a variant with data is `{name: data}`.
pub fn rejected<T, E: Serialize + std::fmt::Display>(err: &E) -> Result<T, Refusal> {
    Err(Refusal::Rejected(rejection_of(err)))
}

/// The error code and data of a serde externally tagged error enum.
pub fn rejection_of<T: Serialize + std::fmt::Display>(err: &T) -> ExpectedRejection {
    let message = Some(err.to_string());
    let (error, detail) = match serde_json::to_value(err) {
        Ok(Value::String(s)) => (s, None),
        Ok(Value::Object(m)) if m.len() == 1 => {
            let (k, v) = m.into_iter().next().expect("one entry");
            (k, Some(v))
        }
        _ => ("unclassified".into(), None),
    };
    ExpectedRejection {
        error,
        detail,
        message,
    }
}
