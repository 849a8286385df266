//! Unit tests of [`super`].

use super::*;
use crate::crypto::{Keypair, SignatureScheme};
use crate::registry::{MasternodeInfo, Tier};

fn registry() -> Registry {
    let tiers = [Tier::Gold, Tier::Free, Tier::Silver];
    let members = ["c", "a", "b"]
        .iter()
        .zip(tiers)
        .map(|(id, tier)| MasternodeInfo {
            node_id: NodeId::new(id).unwrap(),
            public_key: Keypair::from_label(SignatureScheme::Ed25519, id).public(),
            tier,
            registered_at: "2025-01-01".parse().unwrap(),
            reputation_milli: 1000,
        })
        .collect();
    Registry::new(SignatureScheme::Ed25519, members).unwrap()
}

fn ctx() -> BlockContext {
    let rewards = RewardConfig {
        treasury_address: "t".parse().unwrap(),
        treasury_reward: 10,
        masternode_reward: 100,
    };
    BlockContext::new(7, Hash32([9; 32]), 1000, &registry(), &rewards, 3, 1000)
}

#[test]
fn coinbase_shares_rewards_by_tier_with_deterministic_remainder() {
    let rewards = RewardConfig {
        treasury_address: "t".parse().unwrap(),
        treasury_reward: 10,
        masternode_reward: 100,
    };
    let cb = coinbase(7, &registry(), &rewards, BlockKind::Normal);
    // Canonical order a (Free 1), b (Silver 4), c (Gold 8); 100 * w / 13 =
    // 7, 30, 61 = 98; the remainder 2 goes to a and b.
    let got: Vec<(&str, u64)> = cb
        .outputs
        .iter()
        .map(|o| (o.address.as_str(), o.amount))
        .collect();
    assert_eq!(got, vec![("t", 10), ("a", 8), ("b", 31), ("c", 61)]);
    let em = coinbase(7, &registry(), &rewards, BlockKind::Emergency);
    assert_eq!(em.outputs.len(), 1);
}

#[test]
fn built_blocks_validate_and_sort_the_mempool() {
    let c = ctx();
    let leader = NodeId::new("a").unwrap();
    let mempool: Vec<Transaction> = (0..5u8).map(|i| Transaction::transfer(&[i])).collect();
    let b = c.build(BlockKind::Normal, &leader, &mempool);
    assert_eq!(b.transactions.len(), 4, "coinbase + max 3");
    assert_eq!(c.validate(&b), Ok(()));
    let ids = b.txids().unwrap();
    assert!(ids[1..].windows(2).all(|w| w[0] < w[1]));
    let r = c.build(BlockKind::RewardOnly, &leader, &mempool);
    assert_eq!(r.transactions.len(), 1);
    assert_eq!(c.validate(&r), Ok(()));
    assert_eq!(c.validate(&c.emergency), Ok(()));
    assert_ne!(b.hash(), r.hash());
}

#[test]
fn invalid_blocks_are_rejected_with_the_reason() {
    let c = ctx();
    let leader = NodeId::new("a").unwrap();
    let good = c.build(
        BlockKind::Normal,
        &leader,
        &[Transaction::transfer(b"x"), Transaction::transfer(b"y")],
    );
    let mut b = good.clone();
    b.header.previous_hash = Hash32::ZERO;
    assert!(matches!(
        c.validate(&b),
        Err(BlockError::WrongPreviousHash { .. })
    ));
    let mut b = good.clone();
    b.header.height = 8;
    assert!(matches!(
        c.validate(&b),
        Err(BlockError::WrongHeight {
            expected: 7,
            got: 8
        })
    ));
    let mut b = good.clone();
    b.transactions.pop();
    assert!(matches!(
        c.validate(&b),
        Err(BlockError::WrongMerkleRoot { .. })
    ));
    let mut b = good.clone();
    b.transactions.swap(1, 2);
    b.header.merkle_root = b.compute_merkle_root().unwrap();
    assert_eq!(
        c.validate(&b),
        Err(BlockError::UnsortedTransactions { index: 2 })
    );
    let mut b = good.clone();
    b.transactions[0].outputs[0].amount += 1;
    b.header.merkle_root = b.compute_merkle_root().unwrap();
    assert_eq!(c.validate(&b), Err(BlockError::WrongCoinbase));
    let mut b = (*c.emergency).clone();
    b.header.proposer = Some(leader.clone());
    assert_eq!(c.validate(&b), Err(BlockError::NotCanonicalEmergency));
    let mut b = good.clone();
    b.header.kind = BlockKind::RewardOnly;
    assert_eq!(
        c.validate(&b),
        Err(BlockError::TransactionsInRewardOnlyBlock(2))
    );
    let mut b = good;
    b.header.timestamp += 1;
    assert!(matches!(
        c.validate(&b),
        Err(BlockError::WrongTimestamp { .. })
    ));
}

#[test]
fn encoded_len_is_the_length_of_the_encoding() {
    let c = ctx();
    let mut t = Transaction::transfer(b"hello");
    t.outputs.push(TxOutput {
        address: "addr".into(),
        amount: 5,
    });
    for t in [t, Transaction::transfer(b""), (*c.coinbase).clone()] {
        assert_eq!(t.encoded_len(), t.encode().unwrap().len() as u64);
    }
    // R3.3's example: 28 bytes.
    assert_eq!(Transaction::transfer(b"hello").encoded_len(), 28);
}

// R3.6: a byte limit beside the count limit, checked before hashing.
#[test]
fn blocks_beyond_the_byte_limit_are_refused() {
    let c = ctx();
    assert_eq!(c.byte_limit(), c.coinbase.encoded_len() + 1000);
    let leader = NodeId::new("a").unwrap();
    let big = Transaction::transfer(&[7; 1000]); // 1023 bytes
    let mut b = c.build(BlockKind::Normal, &leader, &[]);
    b.transactions.push(big);
    b.header.merkle_root = b.compute_merkle_root().unwrap();
    let got = c.coinbase.encoded_len() + 1023;
    assert_eq!(
        c.validate(&b),
        Err(BlockError::TooManyBytes {
            max: c.byte_limit(),
            got
        })
    );
    // Exactly at the limit: 977 payload bytes make 1000.
    let fits = Transaction::transfer(&[7; 977]);
    assert_eq!(fits.encoded_len(), 1000);
    let b = c.build(BlockKind::Normal, &leader, &[fits]);
    assert_eq!(b.transactions.len(), 2);
    assert_eq!(c.validate(&b), Ok(()));
}

// A payload of 2^32 bytes (mapped, never touched) has no encoding: the
// block is refused by its size before anything is hashed, and a leader
// leaves it out.
#[test]
fn a_transaction_too_long_to_encode_is_refused_not_truncated() {
    let c = ctx();
    let huge = Transaction::transfer(&[]);
    let huge = Transaction {
        payload: vec![0; 1 << 32],
        ..huge
    };
    assert!(matches!(
        huge.encode(),
        Err(EncodeError::TooLong { len }) if len == 1 << 32
    ));
    assert!(huge.encoded_len() > 1 << 32);
    let leader = NodeId::new("a").unwrap();
    let mut b = c.build(BlockKind::Normal, &leader, &[]);
    b.transactions.push(huge);
    assert!(matches!(
        c.validate(&b),
        Err(BlockError::TooManyBytes { got, .. }) if got > 1 << 32
    ));
    let mempool = [b.transactions.pop().unwrap(), Transaction::transfer(b"x")];
    let built = c.build(BlockKind::Normal, &leader, &mempool);
    assert_eq!(built.transactions.len(), 2);
    assert_eq!(built.transactions[1], Transaction::transfer(b"x"));
}

// R3.1: a leader skips what does not fit and keeps filling, so the block
// it builds is one its peers accept.
#[test]
fn leaders_fill_blocks_within_the_byte_limit() {
    let c = ctx();
    let leader = NodeId::new("a").unwrap();
    let id = |t: &Transaction| t.txid().unwrap();
    // A small transfer (24 bytes) and three big ones (423 bytes each)
    // before it in txid order: two big ones fit in 1000 bytes, the third
    // is skipped, the small one still fits.
    let small = (0..16u8)
        .map(|i| Transaction::transfer(&[i]))
        .max_by_key(id)
        .unwrap();
    let mut big: Vec<Transaction> = (0..=255u8)
        .map(|i| Transaction::transfer(&[i; 400]))
        .filter(|t| id(t) < id(&small))
        .take(3)
        .collect();
    big.sort_by_key(id);
    assert_eq!((small.encoded_len(), big[0].encoded_len()), (24, 423));
    let mut mempool = big.clone();
    mempool.push(small.clone());
    mempool.reverse();
    let b = c.build(BlockKind::Normal, &leader, &mempool);
    assert_eq!(b.transactions[1..], [big[0].clone(), big[1].clone(), small]);
    assert_eq!(c.validate(&b), Ok(()));
    // No mempool transaction fits a zero byte limit.
    let zero = BlockContext { max_bytes: 0, ..c };
    let b = zero.build(BlockKind::Normal, &leader, &mempool);
    assert_eq!(b.transactions.len(), 1);
    assert_eq!(zero.validate(&b), Ok(()));
}

#[test]
fn merkle_root_promotes_odd_nodes_and_separates_levels() {
    let t: Vec<Hash32> = (0..3u8).map(|i| Hash32([i; 32])).collect();
    let leaf = |h: &Hash32| {
        let mut b = vec![0u8];
        b.extend_from_slice(&h.0);
        sha256(&b)
    };
    let node = |l: Hash32, r: Hash32| {
        let mut b = vec![1u8];
        b.extend_from_slice(&l.0);
        b.extend_from_slice(&r.0);
        sha256(&b)
    };
    assert_eq!(merkle_root(&t[..1]), leaf(&t[0]));
    assert_eq!(
        merkle_root(&t),
        node(node(leaf(&t[0]), leaf(&t[1])), leaf(&t[2]))
    );
    // Duplicating the last leaf changes the root (no CVE-2012-2459).
    let mut dup = t.clone();
    dup.push(t[2]);
    assert_ne!(merkle_root(&dup), merkle_root(&t));
}
