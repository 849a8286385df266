//! Phase 3: blocks (spec R3.1-R3.6): transactions, the coinbase, the merkle
//! root, the block hash, the builders of the three kinds of block, and block
//! validation.

use crate::config::RewardConfig;
use crate::encoding::{sha256, tag, EncodeError, Encoder};
use crate::fallback::BlockKind;
use crate::primitives::{from_hex_vec, to_hex, Hash32, NodeId};
use crate::registry::Registry;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;

/// A payment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxOutput {
    /// Recipient (a masternode's id for masternode rewards).
    pub address: String,
    /// Amount in base units.
    pub amount: u64,
}

/// What a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TxKind {
    /// Mints the rewards of `height`; exactly one, first in every block.
    Coinbase {
        /// Height it pays for (makes every coinbase's txid unique).
        height: u64,
    },
    /// A mempool transaction. Its semantics (inputs, fees) belong to the
    /// ledger, not to consensus; consensus orders and commits it.
    Transfer,
}

/// A transaction.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// Coinbase or transfer.
    pub kind: TxKind,
    /// Payments.
    pub outputs: Vec<TxOutput>,
    /// Opaque ledger data.
    #[serde(serialize_with = "ser_hex", deserialize_with = "de_hex")]
    pub payload: Vec<u8>,
}

fn ser_hex<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(v))
}

fn de_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s = String::deserialize(d)?;
    from_hex_vec(&s).map_err(serde::de::Error::custom)
}

impl Transaction {
    /// A transfer carrying `payload` (tests and simulations use it as a
    /// stand-in for real ledger transactions).
    pub fn transfer(payload: &[u8]) -> Self {
        Transaction {
            kind: TxKind::Transfer,
            outputs: Vec::new(),
            payload: payload.to_vec(),
        }
    }

    /// Canonical encoding (R3.3); refused if a count or length reaches 2^32
    /// (R0.2), which no transaction of a block within its byte limit can
    /// (R3.6).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut e = Encoder::with_tag(tag::TX);
        match self.kind {
            TxKind::Coinbase { height } => e.u8(0).u64(height),
            TxKind::Transfer => e.u8(1),
        };
        e.length(self.outputs.len())?;
        for o in &self.outputs {
            e.bytes(o.address.as_bytes())?.u64(o.amount);
        }
        e.bytes(&self.payload)?;
        Ok(e.finish())
    }

    /// `SHA-256` of the canonical encoding (R3.3).
    pub fn txid(&self) -> Result<Hash32, EncodeError> {
        Ok(sha256(&self.encode()?))
    }

    /// The length of the canonical encoding in bytes (R3.3), computed without
    /// encoding; it saturates at `u64::MAX`.
    pub fn encoded_len(&self) -> u64 {
        let len = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let kind = match self.kind {
            TxKind::Coinbase { .. } => 9,
            TxKind::Transfer => 1,
        };
        let outputs = self.outputs.iter().fold(0u64, |a, o| {
            a.saturating_add(12).saturating_add(len(o.address.len()))
        });
        (4 + len(tag::TX.len()) + kind + 4 + 4)
            .saturating_add(outputs)
            .saturating_add(len(self.payload.len()))
    }
}

/// The merkle root over `txids` (R3.4): leaves `SHA-256(0x00 || txid)`, inner
/// nodes `SHA-256(0x01 || left || right)`, an odd last node promoted as is (no
/// duplication, so no two transaction lists share a root).
pub fn merkle_root(txids: &[Hash32]) -> Hash32 {
    if txids.is_empty() {
        return sha256(&[]);
    }
    let mut level: Vec<Hash32> = txids
        .iter()
        .map(|t| {
            let mut b = [0u8; 33];
            b[1..].copy_from_slice(&t.0);
            sha256(&b)
        })
        .collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => {
                    let mut b = [0u8; 65];
                    b[0] = 1;
                    b[1..33].copy_from_slice(&l.0);
                    b[33..].copy_from_slice(&r.0);
                    sha256(&b)
                }
                [single] => *single,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    level[0]
}

/// A block header. Its hash is the block hash.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockHeader {
    /// Height of this block.
    pub height: u64,
    /// Hash of the block it extends.
    pub previous_hash: Hash32,
    /// Merkle root of its transactions.
    pub merkle_root: Hash32,
    /// Scheduled time of the height, seconds since 1970 (R3.1).
    pub timestamp: u64,
    /// Normal, reward-only or emergency.
    pub kind: BlockKind,
    /// The leader that built it; none for the emergency block.
    pub proposer: Option<NodeId>,
}

impl BlockHeader {
    /// Canonical encoding (R3.5).
    pub fn encode(&self) -> Encoder {
        let mut e = Encoder::with_tag(tag::HEADER);
        e.u64(self.height)
            .hash(&self.previous_hash)
            .hash(&self.merkle_root)
            .u64(self.timestamp)
            .u8(self.kind.code());
        match &self.proposer {
            None => e.u8(0),
            Some(p) => e.u8(1).node(p),
        };
        e
    }

    /// The block hash: SHA-256 of the header's encoding (R3.5).
    pub fn hash(&self) -> Hash32 {
        self.encode().sha256()
    }
}

/// A block.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// Header.
    pub header: BlockHeader,
    /// Coinbase first, then mempool transactions in ascending txid order.
    pub transactions: Vec<Transaction>,
}

impl Block {
    /// The block hash.
    pub fn hash(&self) -> Hash32 {
        self.header.hash()
    }

    /// The txids of the transactions, in block order (R3.3).
    pub fn txids(&self) -> Result<Vec<Hash32>, EncodeError> {
        self.transactions.iter().map(Transaction::txid).collect()
    }

    /// Merkle root recomputed from the transactions (R3.4).
    pub fn compute_merkle_root(&self) -> Result<Hash32, EncodeError> {
        Ok(merkle_root(&self.txids()?))
    }

    /// The length of the encodings of all its transactions (R3.6),
    /// saturating at `u64::MAX`.
    pub fn transaction_bytes(&self) -> u64 {
        self.transactions
            .iter()
            .fold(0u64, |a, t| a.saturating_add(t.encoded_len()))
    }
}

/// The coinbase of `height` (R3.2): the treasury reward, then (unless the
/// block is the emergency block) the masternode reward shared in proportion
/// to tier weight, in canonical order, each share rounded down and the
/// remainder paid one unit each to the first members in canonical order.
/// Members whose share is zero get no output.
pub fn coinbase(
    height: u64,
    registry: &Registry,
    rewards: &RewardConfig,
    kind: BlockKind,
) -> Transaction {
    let mut outputs = vec![TxOutput {
        address: rewards.treasury_address.as_str().to_string(),
        amount: rewards.treasury_reward,
    }];
    if kind != BlockKind::Emergency {
        let tiers: Vec<u64> = registry
            .canonical()
            .iter()
            .map(|&i| registry.member(i as usize).tier.weight())
            .collect();
        let sum: u128 = tiers.iter().map(|&t| u128::from(t)).sum();
        let pool = u128::from(rewards.masternode_reward);
        let mut shares: Vec<u64> = tiers
            .iter()
            .map(|&t| (pool * u128::from(t) / sum) as u64)
            .collect();
        let paid: u128 = shares.iter().map(|&s| u128::from(s)).sum();
        let remainder = (pool - paid) as usize; // < number of members
        for s in shares.iter_mut().take(remainder) {
            *s += 1;
        }
        for (pos, &i) in registry.canonical().iter().enumerate() {
            if shares[pos] > 0 {
                outputs.push(TxOutput {
                    address: registry.member(i as usize).node_id.as_str().to_string(),
                    amount: shares[pos],
                });
            }
        }
    }
    Transaction {
        kind: TxKind::Coinbase { height },
        outputs,
        payload: Vec::new(),
    }
}

/// What a block must extend and contain; fixed per height.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlockContext {
    /// Height being decided.
    pub height: u64,
    /// Hash of the tip it must extend.
    pub previous_hash: Hash32,
    /// Scheduled timestamp of the height.
    pub timestamp: u64,
    /// Coinbase of normal and reward-only blocks.
    pub coinbase: Arc<Transaction>,
    /// The canonical emergency block of the height (R3.6).
    pub emergency: Arc<Block>,
    /// Most mempool transactions allowed.
    pub max_transactions: u32,
    /// Most bytes of mempool transactions allowed (R3.6).
    pub max_bytes: u32,
}

impl BlockContext {
    /// The context of `height` on top of `previous_hash`.
    pub fn new(
        height: u64,
        previous_hash: Hash32,
        timestamp: u64,
        registry: &Registry,
        rewards: &RewardConfig,
        max_transactions: u32,
        max_bytes: u32,
    ) -> Self {
        let emergency_tx = coinbase(height, registry, rewards, BlockKind::Emergency);
        let emergency = assemble(
            height,
            previous_hash,
            timestamp,
            BlockKind::Emergency,
            None,
            emergency_tx,
            Vec::new(),
        );
        BlockContext {
            height,
            previous_hash,
            timestamp,
            coinbase: Arc::new(coinbase(height, registry, rewards, BlockKind::Normal)),
            emergency: Arc::new(emergency),
            max_transactions,
            max_bytes,
        }
    }

    /// Most bytes the encodings of a block's transactions may take (R3.6):
    /// those of the coinbase plus `max_bytes`. It is below 2^32 for every
    /// valid configuration; capping it there whatever `max_bytes` says keeps
    /// every count and length in a block within it encodable (R0.2).
    pub fn byte_limit(&self) -> u64 {
        self.coinbase
            .encoded_len()
            .saturating_add(u64::from(self.max_bytes))
            .min(u64::from(u32::MAX))
    }

    /// Builds a leader's block (R3.1-R3.5): a reward-only block ignores the
    /// mempool; a normal block takes transfers in ascending txid order,
    /// dropping duplicates and any non-transfer, skipping any that would take
    /// it past its byte limit, up to `max_transactions`. So it is never a
    /// block that [`BlockContext::validate`] refuses.
    pub fn build(&self, kind: BlockKind, proposer: &NodeId, mempool: &[Transaction]) -> Block {
        if kind == BlockKind::Emergency {
            return (*self.emergency).clone();
        }
        let mut rest = Vec::new();
        if kind == BlockKind::Normal {
            // R3.1, R3.6: what the coinbase leaves of the byte limit. A
            // transfer that alone exceeds it is never hashed.
            let budget = self
                .byte_limit()
                .saturating_sub(self.coinbase.encoded_len());
            let mut txs: Vec<(Hash32, &Transaction)> = mempool
                .iter()
                .filter(|t| t.kind == TxKind::Transfer && t.encoded_len() <= budget)
                .filter_map(|t| Some((t.txid().ok()?, t)))
                .collect();
            txs.sort_by_key(|t| t.0);
            txs.dedup_by(|a, b| a.0 == b.0);
            let mut used = 0u64;
            for (id, t) in txs {
                if rest.len() >= self.max_transactions as usize {
                    break;
                }
                let n = t.encoded_len();
                if used + n <= budget {
                    used += n;
                    rest.push((id, t.clone()));
                }
            }
        }
        assemble(
            self.height,
            self.previous_hash,
            self.timestamp,
            kind,
            Some(proposer.clone()),
            (*self.coinbase).clone(),
            rest,
        )
    }

    /// Checks a block against this height (R3.1-R3.6). Its kind is checked
    /// against the attempt by the caller, since re-proposed blocks keep theirs.
    pub fn validate(&self, block: &Block) -> Result<(), BlockError> {
        let h = &block.header;
        if h.height != self.height {
            return Err(BlockError::WrongHeight {
                expected: self.height,
                got: h.height,
            });
        }
        if h.previous_hash != self.previous_hash {
            return Err(BlockError::WrongPreviousHash {
                expected: self.previous_hash,
                got: h.previous_hash,
            });
        }
        // R3.6: the size before any hashing. Within the limit (below 2^32)
        // every count and length of every transaction has its encoding.
        let max = self.byte_limit();
        let got = block.transaction_bytes();
        if got > max {
            return Err(BlockError::TooManyBytes { max, got });
        }
        let ids = block
            .txids()
            .map_err(|_| BlockError::TooManyBytes { max, got })?;
        let computed = merkle_root(&ids);
        if h.merkle_root != computed {
            return Err(BlockError::WrongMerkleRoot {
                expected: computed,
                got: h.merkle_root,
            });
        }
        if h.timestamp != self.timestamp {
            return Err(BlockError::WrongTimestamp {
                expected: self.timestamp,
                got: h.timestamp,
            });
        }
        if h.kind == BlockKind::Emergency {
            return if *block == *self.emergency {
                Ok(())
            } else {
                Err(BlockError::NotCanonicalEmergency)
            };
        }
        if h.proposer.is_none() {
            return Err(BlockError::MissingProposer);
        }
        let Some(first) = block.transactions.first() else {
            return Err(BlockError::MissingCoinbase);
        };
        if *first != *self.coinbase {
            return Err(BlockError::WrongCoinbase);
        }
        let rest = &block.transactions[1..];
        if h.kind == BlockKind::RewardOnly && !rest.is_empty() {
            return Err(BlockError::TransactionsInRewardOnlyBlock(rest.len()));
        }
        if rest.len() > self.max_transactions as usize {
            return Err(BlockError::TooManyTransactions {
                max: self.max_transactions,
                got: rest.len(),
            });
        }
        let mut last: Option<Hash32> = None;
        for (i, (t, &id)) in rest.iter().zip(&ids[1..]).enumerate() {
            if t.kind != TxKind::Transfer {
                return Err(BlockError::ExtraCoinbase { index: i + 1 });
            }
            if last.is_some_and(|l| l >= id) {
                return Err(BlockError::UnsortedTransactions { index: i + 1 });
            }
            last = Some(id);
        }
        Ok(())
    }
}

/// A block of `coinbase` then `rest`, each of those with its txid.
fn assemble(
    height: u64,
    previous_hash: Hash32,
    timestamp: u64,
    kind: BlockKind,
    proposer: Option<NodeId>,
    coinbase: Transaction,
    rest: Vec<(Hash32, Transaction)>,
) -> Block {
    // R3.2: at most 2^24 + 1 outputs (R2.1) paying node ids or the treasury
    // address (both short strings), no payload: a coinbase always encodes.
    let coinbase_id = coinbase.txid().expect("a coinbase has an encoding");
    let mut ids = Vec::with_capacity(rest.len() + 1);
    let mut transactions = Vec::with_capacity(rest.len() + 1);
    ids.push(coinbase_id);
    transactions.push(coinbase);
    for (id, t) in rest {
        ids.push(id);
        transactions.push(t);
    }
    Block {
        header: BlockHeader {
            height,
            previous_hash,
            merkle_root: merkle_root(&ids),
            timestamp,
            kind,
            proposer,
        },
        transactions,
    }
}

/// Why a block is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockError {
    /// Not the height being decided.
    #[error("block height {got}, expected {expected}")]
    WrongHeight {
        /// Height being decided.
        expected: u64,
        /// Height in the header.
        got: u64,
    },
    /// Does not extend the tip.
    #[error("previous hash {got}, expected the tip {expected}")]
    WrongPreviousHash {
        /// The tip.
        expected: Hash32,
        /// Header's previous hash.
        got: Hash32,
    },
    /// Header's merkle root is not that of the transactions.
    #[error("merkle root {got}, the transactions give {expected}")]
    WrongMerkleRoot {
        /// Recomputed.
        expected: Hash32,
        /// In the header.
        got: Hash32,
    },
    /// Not the height's scheduled timestamp.
    #[error("timestamp {got}, expected {expected}")]
    WrongTimestamp {
        /// Scheduled.
        expected: u64,
        /// In the header.
        got: u64,
    },
    /// An emergency block that differs from the canonical one.
    #[error("emergency block differs from the canonical emergency block of the height")]
    NotCanonicalEmergency,
    /// A leader's block without its proposer.
    #[error("block names no proposer")]
    MissingProposer,
    /// No transactions at all.
    #[error("block has no coinbase")]
    MissingCoinbase,
    /// First transaction is not the height's coinbase.
    #[error("coinbase does not pay the rewards of the height")]
    WrongCoinbase,
    /// A reward-only block with mempool transactions.
    #[error("reward-only block carries {0} mempool transactions")]
    TransactionsInRewardOnlyBlock(usize),
    /// Too many transactions.
    #[error("block carries {got} mempool transactions, at most {max}")]
    TooManyTransactions {
        /// Limit.
        max: u32,
        /// Count.
        got: usize,
    },
    /// Transactions whose encodings take more bytes than the height allows.
    #[error("block transactions take {got} bytes, at most {max}")]
    TooManyBytes {
        /// [`BlockContext::byte_limit`].
        max: u64,
        /// Total length of the transactions' encodings.
        got: u64,
    },
    /// A second coinbase.
    #[error("transaction {index} is a second coinbase")]
    ExtraCoinbase {
        /// Position in the block.
        index: usize,
    },
    /// Mempool transactions not in strictly ascending txid order.
    #[error("transaction {index} is out of txid order or repeated")]
    UnsortedTransactions {
        /// Position in the block.
        index: usize,
    },
}

#[cfg(test)]
mod tests;
