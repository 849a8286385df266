//! What a member must not forget, in one redb file: the finalized blocks
//! with their commit certificates, and the write-ahead log of the inputs
//! that changed its node since its tip.
//!
//! The node is a deterministic state machine and signs deterministically
//! (ed25519), so the inputs since the tip are its state: replayed into a
//! fresh node on top of the stored tip they rebuild the same votes, lock and
//! timers, and every message it signs again is byte for byte one it signed
//! before. That is how a restarted member never equivocates. The host
//! commits a batch of inputs (and any block they finalized) before any
//! output of that batch leaves the process.

use redb::{Database, ReadableTable, TableDefinition};
use std::path::Path;
use time_consensus::message::CertifiedBlock;
use time_consensus::{Input, Tip};

/// Height → JSON of the finalized block with its commit certificate.
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// (tip height when handled, sequence) → JSON of the input.
const LOG: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("log");
/// Small facts: `finalized_at_ms`, the wall-clock time (ms since 1970) the
/// tip was finalized here, which paces the next start across a restart.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const FINALIZED_AT: &str = "finalized_at_ms";
/// The node's pending timers with their wall-clock deadlines (JSON), so a
/// member that restarts, even again and again, still reaches its timeouts.
const TIMERS: TableDefinition<&str, &[u8]> = TableDefinition::new("timers");
const PENDING: &str = "pending";

/// A timer and its deadline, ms since 1970.
pub type Deadline = (time_consensus::Timer, u64);

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("store: {0}")]
    Db(Box<redb::Error>),
    /// A stored record does not decode (the file is not this node's).
    #[error("store: record {what} does not decode: {source}")]
    Corrupt {
        /// Which record.
        what: String,
        /// Why.
        source: serde_json::Error,
    },
    /// A block that does not extend the stored chain.
    #[error("store: block {height} does not extend the chain at {tip}")]
    NotNext {
        /// The block's height.
        height: u64,
        /// The stored tip's height.
        tip: u64,
    },
}

fn db<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Db(Box::new(e.into()))
}

/// A logged input, and whether its signatures were verified in a batch
/// (then its replay takes them as verified, to rebuild exactly the state a
/// batch's verdict led to, R0.4).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logged {
    /// The input.
    pub input: Input,
    /// Handled with its signatures verified ahead, in a batch.
    #[serde(default)]
    pub batch: bool,
}

/// One batch, committed atomically before its outputs are sent.
#[derive(Debug, Default)]
pub struct Batch {
    /// Inputs that changed the node, each with the tip height it was handled on.
    pub inputs: Vec<(u64, Logged)>,
    /// Blocks finalized by those inputs, by increasing height.
    pub blocks: Vec<CertifiedBlock>,
    /// When the last of them was finalized here (ms since 1970).
    pub finalized_at_ms: Option<u64>,
    /// The pending timers after the batch, if they changed.
    pub timers: Option<Vec<Deadline>>,
}

impl Batch {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty() && self.blocks.is_empty() && self.timers.is_none()
    }
}

/// The member's store.
pub struct Store {
    db: Database,
    next_seq: u64,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| db(redb::StorageError::Io(e)))?;
        let db_ = Database::create(dir.join("chain.redb")).map_err(db)?;
        let txn = db_.begin_write().map_err(db)?;
        let next_seq = {
            txn.open_table(BLOCKS).map_err(db)?;
            txn.open_table(META).map_err(db)?;
            txn.open_table(TIMERS).map_err(db)?;
            let log = txn.open_table(LOG).map_err(db)?;
            let last = log.last().map_err(db)?;
            last.map_or(0, |(k, _)| k.value().1 + 1)
        };
        txn.commit().map_err(db)?;
        Ok(Store { db: db_, next_seq })
    }

    /// The last stored block's tip, or `genesis` when none is stored.
    pub fn tip(&self, genesis: Tip) -> Result<Tip, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let t = txn.open_table(BLOCKS).map_err(db)?;
        let last = t.last().map_err(db)?;
        match last {
            None => Ok(genesis),
            Some((k, v)) => {
                let cb: CertifiedBlock = decode(&format!("block {}", k.value()), v.value())?;
                Ok(Tip {
                    height: k.value(),
                    hash: cb.block.hash(),
                })
            }
        }
    }

    /// When the tip was finalized here (ms since 1970), if recorded.
    pub fn finalized_at_ms(&self) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let t = txn.open_table(META).map_err(db)?;
        let v = t.get(FINALIZED_AT).map_err(db)?;
        Ok(v.map(|v| v.value()))
    }

    /// The pending timers last committed.
    pub fn timers(&self) -> Result<Vec<Deadline>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let t = txn.open_table(TIMERS).map_err(db)?;
        let v = t.get(PENDING).map_err(db)?;
        match v {
            Some(v) => decode("timers", v.value()),
            None => Ok(Vec::new()),
        }
    }

    /// Up to `max` finalized blocks from height `from`, by height.
    pub fn blocks(&self, from: u64, max: u32) -> Result<Vec<CertifiedBlock>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let t = txn.open_table(BLOCKS).map_err(db)?;
        let mut out = Vec::new();
        for row in t.range(from..).map_err(db)?.take(max as usize) {
            let (k, v) = row.map_err(db)?;
            out.push(decode(&format!("block {}", k.value()), v.value())?);
        }
        Ok(out)
    }

    /// The inputs logged while the tip was at `tip_height`, in order.
    pub fn log(&self, tip_height: u64) -> Result<Vec<Logged>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let t = txn.open_table(LOG).map_err(db)?;
        let mut out = Vec::new();
        for row in t
            .range((tip_height, 0)..=(tip_height, u64::MAX))
            .map_err(db)?
        {
            let (k, v) = row.map_err(db)?;
            let (h, s) = k.value();
            out.push(decode(&format!("log {h}/{s}"), v.value())?);
        }
        Ok(out)
    }

    /// Writes a batch in one transaction (fsync on commit): its inputs, its
    /// blocks (each the next of the chain), and drops the log of every tip
    /// below the new one.
    pub fn commit(&mut self, batch: &Batch, genesis: Tip) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tip = self.tip(genesis)?.height;
        let txn = self.db.begin_write().map_err(db)?;
        let mut seq = self.next_seq;
        {
            let mut log = txn.open_table(LOG).map_err(db)?;
            for (h, input) in &batch.inputs {
                let bytes = serde_json::to_vec(input).map_err(|source| StoreError::Corrupt {
                    what: "input".into(),
                    source,
                })?;
                log.insert((*h, seq), bytes.as_slice()).map_err(db)?;
                seq += 1;
            }
            let mut blocks = txn.open_table(BLOCKS).map_err(db)?;
            for cb in &batch.blocks {
                let height = cb.block.header.height;
                if height != tip + 1 {
                    return Err(StoreError::NotNext { height, tip });
                }
                let bytes = serde_json::to_vec(cb).map_err(|source| StoreError::Corrupt {
                    what: format!("block {height}"),
                    source,
                })?;
                blocks.insert(height, bytes.as_slice()).map_err(db)?;
                tip = height;
            }
            if let Some(timers) = &batch.timers {
                let bytes = serde_json::to_vec(timers).map_err(|source| StoreError::Corrupt {
                    what: "timers".into(),
                    source,
                })?;
                let mut t = txn.open_table(TIMERS).map_err(db)?;
                t.insert(PENDING, bytes.as_slice()).map_err(db)?;
            }
            if let Some(at) = batch.finalized_at_ms {
                let mut meta = txn.open_table(META).map_err(db)?;
                meta.insert(FINALIZED_AT, at).map_err(db)?;
            }
            loop {
                let first = log.first().map_err(db)?.map(|(k, _)| k.value());
                match first {
                    Some(k) if k.0 < tip => {
                        log.remove(k).map_err(db)?;
                    }
                    _ => break,
                }
            }
        }
        txn.commit().map_err(db)?;
        self.next_seq = seq;
        Ok(())
    }
}

fn decode<T: for<'de> serde::Deserialize<'de>>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        what: what.into(),
        source,
    })
}
