//! The block suite: transactions, coinbase, merkle root, block hash,
//! construction and validation (R3.x). The validation cases are in
//! [`validation`].

mod validation;

use super::{config_with_genesis, registry};
use crate::format::*;
use crate::generate::*;
use serde::{Deserialize, Serialize};
use time_consensus::block::{merkle_root, Block, BlockContext, BlockHeader, Transaction};
use time_consensus::block::{TxKind, TxOutput};
use time_consensus::config::{OrchestratorConfig, RewardConfig};
use time_consensus::config::{DEFAULT_MAX_BLOCK_BYTES, MAX_BLOCK_BYTES};
use time_consensus::encoding::{sha256, EncodeError};
use time_consensus::event::Rejection;
use time_consensus::fallback::{plan, BlockKind};
use time_consensus::primitives::{Date, Hash32, NodeId};
use time_consensus::registry::Tier;
use time_consensus::sim::genesis_tip;
use time_consensus::Rules;

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

impl BlockContextIn {
    /// The implementation's context.
    fn context(&self) -> Result<BlockContext, Refusal> {
        let max_bytes = self.max_block_bytes.unwrap_or(DEFAULT_MAX_BLOCK_BYTES);
        if max_bytes > MAX_BLOCK_BYTES {
            return bad("max_block_bytes: at most 2^30 (R3.6)");
        }
        let (h, reg) = (self.height, registry(&self.masternodes)?);
        let timestamp = config_with_genesis(self.genesis_date).block_timestamp(h);
        let (rewards, max) = (&self.rewards, self.max_block_transactions);
        Ok(BlockContext::new(
            h,
            self.previous_hash,
            timestamp,
            &reg,
            rewards,
            max,
            max_bytes,
        ))
    }
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

/// A transaction's canonical encoding and its txid, SHA-256 of it.
#[derive(Clone, Debug, Serialize)]
pub struct TransactionOut {
    encoding: Bytes,
    txid: Hash32,
}

/// A merkle root.
#[derive(Clone, Debug, Serialize)]
pub struct MerkleRootOut {
    root: Hash32,
}

/// A header's canonical encoding and the block hash.
#[derive(Clone, Debug, Serialize)]
pub struct HeaderOut {
    encoding: Bytes,
    hash: Hash32,
}

/// The coinbase, its canonical encoding and its txid.
#[derive(Clone, Debug, Serialize)]
pub struct CoinbaseOut {
    transaction: Transaction,
    encoding: Bytes,
    txid: Hash32,
}

/// A block, its scheduled timestamp and its hash.
#[derive(Clone, Debug, Serialize)]
pub struct BlockOut {
    timestamp: u64,
    block: Block,
    hash: Hash32,
}

/// A valid block's hash.
#[derive(Clone, Debug, Serialize)]
pub struct ValidOut {
    hash: Hash32,
}

impl Operation for TransactionIn {
    type Output = TransactionOut;
    const SUITE: Suite = Suite::Block;
    fn execute(&self, _: Rules) -> Result<TransactionOut, Refusal> {
        let t = &self.transaction;
        match t.encode() {
            Ok(encoding) => Ok(TransactionOut {
                txid: t.txid().map_err(|e| Refusal::BadInput(e.to_string()))?,
                encoding: Bytes(encoding),
            }),
            Err(e) => rejected(&e),
        }
    }
}

impl Operation for MerkleRootIn {
    type Output = MerkleRootOut;
    const SUITE: Suite = Suite::Block;
    fn execute(&self, _: Rules) -> Result<MerkleRootOut, Refusal> {
        Ok(MerkleRootOut {
            root: merkle_root(&self.txids),
        })
    }
}

impl Operation for HeaderIn {
    type Output = HeaderOut;
    const SUITE: Suite = Suite::Block;
    fn execute(&self, _: Rules) -> Result<HeaderOut, Refusal> {
        Ok(HeaderOut {
            encoding: Bytes(self.header.encode().finish()),
            hash: self.header.hash(),
        })
    }
}

impl Operation for CoinbaseIn {
    type Output = CoinbaseOut;
    const SUITE: Suite = Suite::Block;
    fn execute(&self, _: Rules) -> Result<CoinbaseOut, Refusal> {
        let reg = registry(&self.masternodes)?;
        let tx = time_consensus::block::coinbase(self.height, &reg, &self.rewards, self.kind);
        let unencodable = |e: EncodeError| Refusal::BadInput(format!("coinbase: {e}"));
        Ok(CoinbaseOut {
            encoding: Bytes(tx.encode().map_err(unencodable)?),
            txid: tx.txid().map_err(unencodable)?,
            transaction: tx,
        })
    }
}

impl Operation for BuildIn {
    type Output = BlockOut;
    const SUITE: Suite = Suite::Block;
    fn execute(&self, _: Rules) -> Result<BlockOut, Refusal> {
        let ctx = self.context.context()?;
        let b = ctx.build(self.kind, &self.proposer, &self.mempool);
        // R3.1, R3.6: a leader never builds a block its peers refuse.
        if let Err(e) = ctx.validate(&b) {
            return bad(format!("the built block fails validation: {e}"));
        }
        Ok(BlockOut {
            timestamp: ctx.timestamp,
            hash: b.hash(),
            block: b,
        })
    }
}

impl Operation for EmergencyBlockIn {
    type Output = BlockOut;
    const SUITE: Suite = Suite::Block;
    fn execute(&self, _: Rules) -> Result<BlockOut, Refusal> {
        let ctx = self.context.context()?;
        Ok(BlockOut {
            timestamp: ctx.timestamp,
            hash: ctx.emergency.hash(),
            block: (*ctx.emergency).clone(),
        })
    }
}

impl Operation for ValidateIn {
    type Output = ValidOut;
    const SUITE: Suite = Suite::Block;
    fn execute(&self, rules: Rules) -> Result<ValidOut, Refusal> {
        let (b, ctx) = (&self.block, self.context.context()?);
        if let Err(e) = ctx.validate(b) {
            return rejected(&e);
        }
        if let Some(attempt) = self.attempt {
            let expected = plan(rules, &OrchestratorConfig::default(), attempt).kind;
            if b.header.kind != expected {
                let got = b.header.kind;
                return rejected(&Rejection::WrongBlockKind {
                    attempt,
                    expected,
                    got,
                });
            }
        }
        Ok(ValidOut { hash: b.hash() })
    }
}

fn small_rewards() -> RewardConfig {
    RewardConfig {
        treasury_address: "t".parse().expect("short"),
        treasury_reward: 10,
        masternode_reward: 100,
    }
}

pub(super) fn context(
    ms: Vec<Member>,
    height: u64,
    rewards: RewardConfig,
    max: u32,
) -> BlockContextIn {
    BlockContextIn {
        masternodes: ms,
        genesis_date: date("2025-10-24"),
        height,
        previous_hash: genesis_tip().hash,
        rewards,
        max_block_transactions: max,
        max_block_bytes: None,
    }
}

/// The implementation's context for `c` (to build the blocks that the
/// validation cases then alter).
pub(super) fn real_context(c: &BlockContextIn) -> BlockContext {
    c.context().expect("fixture context")
}

pub(super) fn transfers(n: u8) -> Vec<Transaction> {
    (0..n).map(|i| Transaction::transfer(&[b'x', i])).collect()
}

/// The block suite.
pub fn block(g: &mut Gen) {
    let tx = |kind, outputs: Vec<(&str, u64)>, payload: &[u8]| Transaction {
        kind,
        outputs: outputs
            .into_iter()
            .map(|(a, amount)| TxOutput {
                address: a.into(),
                amount,
            })
            .collect(),
        payload: payload.to_vec(),
    };
    for (name, t, note) in [
        (
            "coinbase_h1",
            tx(
                TxKind::Coinbase { height: 1 },
                vec![("treasury", 500_000_000)],
                b"",
            ),
            "a coinbase paying the treasury at height 1",
        ),
        (
            "coinbase_hmax",
            tx(TxKind::Coinbase { height: u64::MAX }, vec![], b""),
            "a coinbase of height 2^64 - 1 with no output",
        ),
        (
            "transfer_empty",
            tx(TxKind::Transfer, vec![], b""),
            "a transfer with nothing in it",
        ),
        (
            "transfer_payload",
            Transaction::transfer(b"hello"),
            "a transfer carrying the payload \"hello\"",
        ),
        (
            "transfer_outputs",
            tx(
                TxKind::Transfer,
                vec![("alice", 1), ("bob", u64::MAX)],
                b"\x00\xff",
            ),
            "a transfer with two outputs",
        ),
        (
            "transfer_utf8_address",
            tx(TxKind::Transfer, vec![("caf\u{e9}", 7)], b""),
            "an address with a non-ASCII character, encoded as its UTF-8 bytes",
        ),
    ] {
        g.case(
            &format!("tx_{name}"),
            BOTH,
            &format!("The canonical encoding of {note}, and its txid = SHA-256(encoding)."),
            &["R0.2", "R0.3", "R3.3"],
            TransactionIn { transaction: t },
        );
    }
    for n in 0..=9u8 {
        let txids: Vec<Hash32> = (0..n).map(|i| sha256(&[i])).collect();
        g.case(
            &format!("merkle_{n}_leaves"),
            BOTH,
            &format!("The merkle root of {n} txids: leaves SHA-256(0x00 || txid), nodes SHA-256(0x01 || left || right), an odd last node promoted unchanged{}.", if n == 0 { "; no txid gives SHA-256 of the empty string" } else { "" }),
            &["R3.4"],
            MerkleRootIn { txids },
        );
    }
    let mut dup: Vec<Hash32> = (0..3u8).map(|i| sha256(&[i])).collect();
    dup.push(dup[2]);
    g.case(
        "merkle_duplicated_last",
        BOTH,
        "merkle_3_leaves with its last txid repeated: a different root (odd nodes are promoted, not duplicated, so no two lists share a root).",
        &["R3.4"],
        MerkleRootIn { txids: dup },
    );
    let header = |height, kind, proposer: Option<&str>| BlockHeader {
        height,
        previous_hash: genesis_tip().hash,
        merkle_root: Hash32([0x42; 32]),
        timestamp: 1_761_350_400,
        kind,
        proposer: proposer.map(id),
    };
    for (name, h, note) in [
        (
            "normal",
            header(1, BlockKind::Normal, Some("mn000")),
            "a normal block's header",
        ),
        (
            "reward_only",
            header(1, BlockKind::RewardOnly, Some("192.168.1.4")),
            "a reward-only block's header",
        ),
        (
            "emergency",
            header(1, BlockKind::Emergency, None),
            "the emergency block's header: no proposer",
        ),
        (
            "height_max",
            header(u64::MAX, BlockKind::Normal, Some("x")),
            "a header at height 2^64 - 1",
        ),
    ] {
        g.case(
            &format!("header_{name}"),
            BOTH,
            &format!("The canonical encoding of {note}, and the block hash = SHA-256(encoding)."),
            &["R0.2", "R0.3", "R3.5"],
            HeaderIn { header: h },
        );
    }
    let cb = |ms: Vec<Member>, rewards, height, kind| CoinbaseIn {
        masternodes: ms,
        rewards,
        height,
        kind,
    };
    let mut scrambled = net(&TIERS4);
    scrambled.swap(0, 3);
    for (name, op, note) in [
        ("net4_default", cb(net(&TIERS4), RewardConfig::default(), 1, BlockKind::Normal), "mn000..mn003 (gold, silver, bronze, free) with the default rewards: 5 coins to the treasury, 95 coins shared 8:4:2:1"),
        ("net4_small", cb(net(&TIERS4), small_rewards(), 7, BlockKind::Normal), "100 units shared 8:4:2:1: 53, 26, 13, 6 = 98, the remainder 2 goes one unit each to the first members in canonical order"),
        ("net4_scrambled", cb(scrambled, small_rewards(), 7, BlockKind::Normal), "net4_small's registry listed in another order: the same coinbase (canonical order)"),
        ("net4_reward_only", cb(net(&TIERS4), small_rewards(), 7, BlockKind::RewardOnly), "a reward-only block pays the same coinbase as a normal one"),
        ("net4_emergency", cb(net(&TIERS4), small_rewards(), 7, BlockKind::Emergency), "the emergency block pays the treasury only"),
        ("seed4_default", cb(seed4(), RewardConfig::default(), 100, BlockKind::Normal), "the deployed tests' four masternodes at height 100"),
        ("single_member", cb(net(&[Tier::Free]), small_rewards(), 1, BlockKind::Normal), "one member takes the whole masternode reward"),
        ("zero_shares", cb(net(&[Tier::Gold, Tier::Free, Tier::Free]), RewardConfig { masternode_reward: 5, ..small_rewards() }, 1, BlockKind::Normal), "5 units over 8:1:1: shares 4, 0, 0 plus a remainder of 1 to the first member; members whose share is 0 get no output"),
        ("no_masternode_reward", cb(net(&TIERS4), RewardConfig { masternode_reward: 0, ..small_rewards() }, 1, BlockKind::Normal), "no masternode reward at all: the treasury output alone"),
        ("random7", cb(random_members(300, 7), small_rewards(), 12, BlockKind::Normal), "seven members of assorted tiers"),
    ] {
        g.case(
            &format!("coinbase_{name}"),
            BOTH,
            &format!("The coinbase: {note}."),
            &["R3.2", "R3.3"],
            op,
        );
    }
    let ctx4 = context(net(&TIERS4), 1, RewardConfig::default(), 3);
    let mut mempool = transfers(5);
    mempool.reverse();
    mempool.push(Transaction::transfer(&[b'x', 2]));
    mempool.push(Transaction {
        kind: TxKind::Coinbase { height: 1 },
        outputs: vec![],
        payload: vec![],
    });
    for (name, kind, pool, note) in [
        ("normal_sorted", BlockKind::Normal, mempool.clone(), "a leader's normal block from an unsorted mempool with a duplicate and a stray coinbase: transfers only, no duplicates, ascending txid, at most max_block_transactions (3)"),
        ("normal_empty_mempool", BlockKind::Normal, vec![], "a normal block from an empty mempool: the coinbase alone"),
        ("reward_only", BlockKind::RewardOnly, mempool.clone(), "a reward-only block ignores the mempool"),
        ("emergency_kind", BlockKind::Emergency, mempool, "asking a leader for an emergency block gives the canonical emergency block"),
    ] {
        g.case(
            &format!("build_{name}"),
            BOTH,
            &format!("Block construction at height 1 on mn000..mn003: {note}. The timestamp is midnight UTC of the chain date."),
            &["R3.1", "R3.2", "R3.3", "R3.4", "R3.5"],
            BuildIn {
                context: ctx4.clone(),
                kind,
                proposer: id("mn001"),
                mempool: pool,
            },
        );
    }
    for (name, c) in [
        ("net4_h1", ctx4.clone()),
        ("seed4_h100", context(seed4(), 100, small_rewards(), 10)),
    ] {
        g.case(
            &format!("emergency_{name}"),
            BOTH,
            "The canonical emergency block: fixed by height, previous hash, scheduled timestamp and the treasury-only coinbase; no proposer.",
            &["R3.1", "R3.2", "R3.6"],
            EmergencyBlockIn { context: c },
        );
    }
    validation::cases(g, &ctx4);
}
