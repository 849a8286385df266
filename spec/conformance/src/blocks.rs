//! The cases of the block and signatures suites.

use crate::format::*;
use crate::generate::*;
use std::sync::Arc;
use time_consensus::block::{BlockContext, BlockHeader, Transaction, TxKind, TxOutput};
use time_consensus::config::{OrchestratorConfig, RewardConfig, DEFAULT_MAX_BLOCK_BYTES};
use time_consensus::crypto::{Keypair, PublicKey, Signature, SignatureScheme};
use time_consensus::encoding::sha256;
use time_consensus::fallback::BlockKind;
use time_consensus::heartbeat::Heartbeat;
use time_consensus::message::{Message, Proposal};
use time_consensus::primitives::{from_hex, Hash32};
use time_consensus::registry::{MasternodeInfo, Registry, Tier};
use time_consensus::sim::genesis_tip;
use time_consensus::vote::{Step, Vote};

fn small_rewards() -> RewardConfig {
    RewardConfig {
        treasury_address: "t".parse().expect("short"),
        treasury_reward: 10,
        masternode_reward: 100,
    }
}

fn context(ms: Vec<Member>, height: u64, rewards: RewardConfig, max: u32) -> BlockContextIn {
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
fn real_context(c: &BlockContextIn) -> BlockContext {
    let infos: Vec<MasternodeInfo> = c.masternodes.iter().map(MasternodeInfo::from).collect();
    let reg = Registry::new(SignatureScheme::Ed25519, infos).expect("fixture registry");
    let cfg = OrchestratorConfig {
        genesis_date: c.genesis_date,
        ..OrchestratorConfig::default()
    };
    BlockContext::new(
        c.height,
        c.previous_hash,
        cfg.block_timestamp(c.height),
        &reg,
        &c.rewards,
        c.max_block_transactions,
        c.max_block_bytes.unwrap_or(DEFAULT_MAX_BLOCK_BYTES),
    )
}

fn transfers(n: u8) -> Vec<Transaction> {
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
            Op::Transaction(TransactionIn { transaction: t }),
        );
    }
    for n in 0..=9u8 {
        let txids: Vec<Hash32> = (0..n).map(|i| sha256(&[i])).collect();
        g.case(
            &format!("merkle_{n}_leaves"),
            BOTH,
            &format!("The merkle root of {n} txids: leaves SHA-256(0x00 || txid), nodes SHA-256(0x01 || left || right), an odd last node promoted unchanged{}.", if n == 0 { "; no txid gives SHA-256 of the empty string" } else { "" }),
            &["R3.4"],
            Op::MerkleRoot(MerkleRootIn { txids }),
        );
    }
    let mut dup: Vec<Hash32> = (0..3u8).map(|i| sha256(&[i])).collect();
    dup.push(dup[2]);
    g.case(
        "merkle_duplicated_last",
        BOTH,
        "merkle_3_leaves with its last txid repeated: a different root (odd nodes are promoted, not duplicated, so no two lists share a root).",
        &["R3.4"],
        Op::MerkleRoot(MerkleRootIn { txids: dup }),
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
            Op::Header(HeaderIn { header: h }),
        );
    }
    let cb = |ms: Vec<Member>, rewards, height, kind| {
        Op::Coinbase(CoinbaseIn {
            masternodes: ms,
            rewards,
            height,
            kind,
        })
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
            Op::Build(BuildIn {
                context: ctx4.clone(),
                kind,
                proposer: id("mn001"),
                mempool: pool,
            }),
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
            Op::EmergencyBlock(EmergencyBlockIn { context: c }),
        );
    }
    // Validation.
    let real = real_context(&ctx4);
    let good = real.build(BlockKind::Normal, &id("mn000"), &transfers(2));
    let val = |block, attempt| {
        Op::Validate(ValidateIn {
            context: ctx4.clone(),
            block,
            attempt,
        })
    };
    let fix_root = |b: &mut time_consensus::block::Block| {
        b.header.merkle_root = b.compute_merkle_root().expect("small transactions")
    };
    let mut cases: Vec<(&str, time_consensus::block::Block, &str)> = vec![
        ("valid_normal", good.clone(), "a valid normal block"),
        (
            "valid_reward_only",
            real.build(BlockKind::RewardOnly, &id("mn002"), &[]),
            "a valid reward-only block",
        ),
        (
            "valid_emergency",
            (*real.emergency).clone(),
            "the canonical emergency block",
        ),
    ];
    let mut b = good.clone();
    b.header.height = 2;
    cases.push(("wrong_height", b, "a block for height 2"));
    let mut b = good.clone();
    b.header.previous_hash = Hash32([1; 32]);
    cases.push((
        "wrong_previous_hash",
        b,
        "a block that does not extend the tip",
    ));
    let mut b = good.clone();
    b.header.merkle_root = Hash32([2; 32]);
    cases.push((
        "wrong_merkle_root",
        b,
        "a header whose merkle root is not that of its transactions",
    ));
    let mut b = good.clone();
    b.transactions.pop();
    cases.push((
        "dropped_transaction",
        b,
        "a transaction removed after the root was computed",
    ));
    let mut b = good.clone();
    b.header.timestamp += 1;
    cases.push((
        "wrong_timestamp",
        b,
        "a timestamp one second off the schedule",
    ));
    let mut b = (*real.emergency).clone();
    b.header.proposer = Some(id("mn000"));
    cases.push((
        "emergency_with_proposer",
        b,
        "an emergency block naming a proposer",
    ));
    let mut b = (*real.emergency).clone();
    b.transactions[0].outputs[0].amount += 1;
    fix_root(&mut b);
    cases.push((
        "emergency_altered",
        b,
        "an emergency block paying the treasury one unit more",
    ));
    let mut b = good.clone();
    b.header.proposer = None;
    cases.push(("missing_proposer", b, "a normal block naming no proposer"));
    let mut b = good.clone();
    b.transactions.clear();
    fix_root(&mut b);
    cases.push(("missing_coinbase", b, "a block with no transaction"));
    let mut b = good.clone();
    b.transactions[0].outputs[1].amount += 1;
    fix_root(&mut b);
    cases.push((
        "wrong_coinbase",
        b,
        "a coinbase paying one member one unit more",
    ));
    let mut b = good.clone();
    b.header.kind = BlockKind::RewardOnly;
    cases.push((
        "reward_only_with_transactions",
        b,
        "a reward-only block carrying two transfers",
    ));
    let mut b = real.build(BlockKind::Normal, &id("mn000"), &transfers(3));
    b.transactions.push(Transaction::transfer(b"zzzz"));
    b.transactions[1..].sort_by_key(|t| t.txid().expect("small"));
    fix_root(&mut b);
    cases.push((
        "too_many_transactions",
        b,
        "four transfers where at most 3 are allowed",
    ));
    let mut b = good.clone();
    b.transactions.push((*real.coinbase).clone());
    fix_root(&mut b);
    cases.push(("extra_coinbase", b, "a second coinbase after the transfers"));
    let mut b = good.clone();
    b.transactions.swap(1, 2);
    fix_root(&mut b);
    cases.push(("unsorted_transactions", b, "transfers out of txid order"));
    let mut b = good.clone();
    b.transactions[2] = b.transactions[1].clone();
    fix_root(&mut b);
    cases.push(("repeated_transaction", b, "the same transfer twice"));
    for (name, block, note) in cases {
        g.case(
            &format!("validate_{name}"),
            BOTH,
            &format!("Block validation at height 1 on mn000..mn003 (max 3 transactions): {note}."),
            &["R3.6", "R3.1", "R3.2", "R3.4", "R3.5"],
            val(block, None),
        );
    }
    // R3.6: the byte limit beside the count limit.
    let ctx_bytes = BlockContextIn {
        max_block_bytes: Some(100),
        ..ctx4.clone()
    };
    let real_bytes = real_context(&ctx_bytes);
    let mut big_second = transfers(4);
    big_second.push(Transaction::transfer(&[b'a'; 60]));
    g.case(
        "build_normal_byte_limit",
        BOTH,
        "Block construction at height 1 on mn000..mn003 with at most 3 mempool transactions and 100 bytes of them: four transfers of 25 bytes and one of 83, second in txid order. In that order the first is taken (25 bytes), the big one is skipped (108 bytes would pass 100), then two more small ones are taken (75 bytes) and the count limit is reached.",
        &["R3.1", "R3.3", "R3.6"],
        Op::Build(BuildIn {
            context: ctx_bytes.clone(),
            kind: BlockKind::Normal,
            proposer: id("mn001"),
            mempool: big_second,
        }),
    );
    let within = real_bytes.build(BlockKind::Normal, &id("mn000"), &transfers(2));
    let mut over = within.clone();
    over.transactions.push(Transaction::transfer(&[b'z'; 60]));
    over.transactions[1..].sort_by_key(|t| t.txid().expect("small"));
    fix_root(&mut over);
    for (name, block, note) in [
        ("valid_within_byte_limit", within, "two transfers of 25 bytes each are within 100 bytes"),
        ("too_many_bytes", over, "transfers of 25, 25 and 83 bytes take 133 bytes, more than 100; the limit is the coinbase's length plus 100"),
    ] {
        g.case(
            &format!("validate_{name}"),
            BOTH,
            &format!("Block validation at height 1 on mn000..mn003 (max 3 transactions, 100 bytes of them): {note}."),
            &["R3.6", "R3.3"],
            Op::Validate(ValidateIn {
                context: ctx_bytes.clone(),
                block,
                attempt: None,
            }),
        );
    }
    // The kind a fresh proposal must have depends on the ladder.
    let reward_only = real.build(BlockKind::RewardOnly, &id("mn002"), &[]);
    for (rules, name, block, attempt, note, ids) in [
        (
            SEED,
            "seed_kind_attempt2_normal",
            good.clone(),
            2,
            "seed attempt 2 is the reward-only attempt: a normal block is refused",
            &["S7.1", "R3.6"][..],
        ),
        (
            SEED,
            "seed_kind_attempt2_reward_only",
            reward_only.clone(),
            2,
            "seed attempt 2 is the reward-only attempt",
            &["S7.1", "R3.6"],
        ),
        (
            SEED,
            "seed_kind_attempt1_normal",
            good.clone(),
            1,
            "seed attempt 1 (rotation 1) takes a normal block",
            &["S7.1", "R3.6"],
        ),
        (
            REF,
            "ref_kind_attempt2_normal",
            good.clone(),
            2,
            "reference attempt 2 is the second rotation: a normal block",
            &["R7.1", "R4.1", "R3.6"],
        ),
        (
            REF,
            "ref_kind_attempt2_reward_only",
            reward_only.clone(),
            2,
            "reference attempt 2 is the second rotation: a reward-only block is refused",
            &["R7.1", "R4.1", "R3.6"],
        ),
        (
            REF,
            "ref_kind_attempt3_reward_only",
            reward_only,
            3,
            "reference attempt 3 is the reward-only attempt",
            &["R7.1", "R4.1", "R3.6"],
        ),
        (
            REF,
            "ref_kind_attempt4_emergency",
            (*real.emergency).clone(),
            4,
            "reference attempt 4 is an emergency attempt: the canonical emergency block",
            &["R7.1", "R7.3", "R3.6"],
        ),
        (
            REF,
            "ref_kind_attempt0_emergency",
            (*real.emergency).clone(),
            0,
            "the emergency block is not a fresh proposal of attempt 0",
            &["R7.1", "R4.1", "R3.6"],
        ),
    ] {
        g.case(
            &format!("validate_{name}"),
            rules,
            &format!("A fresh proposal's block kind against the ladder's (default configuration): {note}."),
            ids,
            val(block, Some(attempt)),
        );
    }
}

/// RFC 8032 section 7.1 tests 1 to 3: (secret, public, message, signature).
const RFC8032: [(&str, &str, &str, &str); 3] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

fn hex_bytes(s: &str) -> Vec<u8> {
    time_consensus::primitives::from_hex_vec(s).expect("fixture hex")
}

/// The signatures suite.
pub fn signatures(g: &mut Gen) {
    for (i, (sk, pk, msg, sig)) in RFC8032.iter().enumerate() {
        let k = Keypair::from_seed(SignatureScheme::Ed25519, from_hex::<32>(sk).expect("hex"));
        let matches = k.public().to_hex() == *pk && k.sign(&hex_bytes(msg)).to_hex() == *sig;
        if !matches {
            g.error(format!("RFC 8032 test {} does not reproduce", i + 1));
        }
        g.case(
            &format!("sign_rfc8032_test{}", i + 1),
            BOTH,
            &format!("RFC 8032 section 7.1 TEST {}: the public key and the deterministic signature from the 32-byte secret seed.", i + 1),
            &["R0.4"],
            Op::Sign(SignIn {
                secret_seed: Hash32(from_hex::<32>(sk).expect("hex")),
                message: Bytes(hex_bytes(msg)),
            }),
        );
        g.case(
            &format!("verify_rfc8032_test{}", i + 1),
            BOTH,
            &format!("RFC 8032 section 7.1 TEST {} verifies.", i + 1),
            &["R0.4"],
            Op::Verify(VerifyIn {
                public_key: PublicKey(from_hex::<32>(pk).expect("hex")),
                message: Bytes(hex_bytes(msg)),
                signature: Signature(from_hex::<64>(sig).expect("hex")),
            }),
        );
    }
    for label in ["mn000", "mn003", "192.168.1.1"] {
        g.case(
            &format!("sign_label_{}", label.replace('.', "_")),
            BOTH,
            &format!("The key the vectors give {label:?}: secret seed = SHA-256({label:?}); signing the empty message."),
            &["R0.4"],
            Op::Sign(SignIn {
                secret_seed: sha256(label.as_bytes()),
                message: Bytes(vec![]),
            }),
        );
    }
    // Invalid signatures.
    let (_, pk, msg, sig) = RFC8032[2];
    let pk = PublicKey(from_hex::<32>(pk).expect("hex"));
    let sig = Signature(from_hex::<64>(sig).expect("hex"));
    let msg = hex_bytes(msg);
    let flip = |i: usize| {
        let mut s = sig;
        s.0[i] ^= 1;
        s
    };
    // s + L: the same signature with a non-canonical scalar.
    let l: [u8; 32] =
        from_hex::<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .expect("hex");
    let mut s_plus_l = sig;
    let mut carry = 0u16;
    for (byte, add) in s_plus_l.0[32..].iter_mut().zip(l) {
        let v = u16::from(*byte) + u16::from(add) + carry;
        *byte = v as u8;
        carry = v >> 8;
    }
    let other = Keypair::from_label(SignatureScheme::Ed25519, "mn000").public();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut zero_sig = [0u8; 64];
    zero_sig[0] = 1;
    for (name, key, m, s, note) in [
        ("flipped_r", pk, msg.clone(), flip(3), "one bit of R flipped"),
        ("flipped_s", pk, msg.clone(), flip(40), "one bit of s flipped"),
        ("other_message", pk, vec![0xaf, 0x83], sig, "a different message"),
        ("other_key", other, msg.clone(), sig, "another key"),
        ("s_plus_l", pk, msg.clone(), s_plus_l, "s replaced by s + L (non-canonical scalar; verify_strict refuses malleated signatures)"),
        ("all_zero", pk, msg.clone(), Signature([0; 64]), "an all-zero signature"),
        ("identity_key", PublicKey(identity), msg.clone(), Signature(zero_sig), "the identity point as key with R = identity and s = 0 (accepted by a lax verifier for every message; verify_strict refuses small-order keys)"),
    ] {
        g.case(
            &format!("verify_bad_{name}"),
            BOTH,
            &format!("RFC 8032 TEST 3 altered: {note}. Refused."),
            &["R0.4"],
            Op::Verify(VerifyIn {
                public_key: key,
                message: Bytes(m),
                signature: s,
            }),
        );
    }
    // Keys.
    let small_order = [
        (
            "identity",
            "0100000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            "order2",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ),
        (
            "order4",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            "order8",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        ),
        (
            "not_a_point",
            "0202020202020202020202020202020202020202020202020202020202020202",
        ),
    ];
    for (name, hex) in small_order {
        g.case(
            &format!("register_key_{name}"),
            BOTH,
            &format!("Registering the key {hex}: small-order keys (under which signatures prove nothing) and non-points are refused."),
            &["R0.4", "R0.5"],
            Op::RegisterKey(RegisterKeyIn {
                public_key: PublicKey(from_hex::<32>(hex).expect("hex")),
            }),
        );
    }
    for label in ["mn000", "192.168.1.2"] {
        g.case(
            &format!("register_key_good_{}", label.replace('.', "_")),
            BOTH,
            &format!("The key of {label:?} can be registered."),
            &["R0.4", "R0.5"],
            Op::RegisterKey(RegisterKeyIn {
                public_key: Keypair::from_label(SignatureScheme::Ed25519, label).public(),
            }),
        );
    }
    // Authentication of each signed message kind.
    let ms = net(&TIERS4);
    let key = |l: &str| Keypair::from_label(SignatureScheme::Ed25519, l);
    let hb = |who: &str| {
        let h = Heartbeat {
            node_id: id(who),
            timestamp: 1_761_350_400,
            block_height: 0,
            chain_tip_hash: genesis_tip().hash,
            tier: Tier::Gold,
            version: "1.0.0".parse().expect("short"),
            reputation_milli: 1000,
            days_active: 297,
        };
        h.sign(&key(who))
    };
    let real = real_context(&context(net(&TIERS4), 1, RewardConfig::default(), 10));
    let block = Arc::new(real.build(BlockKind::Normal, &id("mn001"), &transfers(1)));
    let prop = |who: &str, valid_attempt| {
        let p = Proposal {
            height: 1,
            attempt: 0,
            proposer: id(who),
            block: block.clone(),
            valid_attempt,
            justification: None,
        };
        p.sign(&key(who))
    };
    let vote = |who: &str, step, approve, weight| {
        let v = Vote {
            height: 1,
            attempt: 2,
            step,
            voter: id(who),
            block_hash: block.hash(),
            approve,
            weight,
        };
        v.sign(&key(who))
    };
    let mut hb_forged = hb("mn001");
    hb_forged.resign(&key("mn002"));
    let mut hb_tampered = hb("mn001");
    hb_tampered.heartbeat.block_height = 1;
    let mut prop_forged = prop("mn001", None);
    prop_forged.resign(&key("mn009"));
    let mut prop_tampered = prop("mn001", None);
    prop_tampered.proposal.valid_attempt = Some(0);
    let mut vote_forged = vote("mn003", Step::Approve, true, 1);
    vote_forged.resign(&key("mn000"));
    let mut vote_tampered = vote("mn003", Step::Approve, true, 1);
    vote_tampered.vote.step = Step::Commit;
    for (name, m, note, ids) in [
        (
            "heartbeat",
            Message::Heartbeat(hb("mn000")),
            "a heartbeat signed by its sender",
            &["R0.5", "R1.1"][..],
        ),
        (
            "heartbeat_stranger",
            Message::Heartbeat(hb("mn009")),
            "a heartbeat from mn009, not registered",
            &["R0.5", "R1.1"],
        ),
        (
            "heartbeat_forged",
            Message::Heartbeat(hb_forged),
            "mn001's heartbeat signed with mn002's key",
            &["R0.5", "R1.1"],
        ),
        (
            "heartbeat_tampered",
            Message::Heartbeat(hb_tampered),
            "a heartbeat whose height changed after signing",
            &["R0.5", "R1.1"],
        ),
        (
            "proposal",
            Message::Proposal(prop("mn001", None)),
            "a proposal of a fresh block",
            &["R0.5", "R4.2"],
        ),
        (
            "proposal_reproposal",
            Message::Proposal(prop("mn001", Some(0))),
            "a re-proposal: valid_attempt 0 is signed (the justification signs itself)",
            &["R0.5", "R4.2"],
        ),
        (
            "proposal_stranger",
            Message::Proposal(prop("mn009", None)),
            "a proposal from mn009, not registered",
            &["R0.5", "R4.2"],
        ),
        (
            "proposal_forged",
            Message::Proposal(prop_forged),
            "mn001's proposal signed by mn009",
            &["R0.5", "R4.2"],
        ),
        (
            "proposal_tampered",
            Message::Proposal(prop_tampered),
            "a proposal whose valid_attempt was added after signing",
            &["R0.5", "R4.2"],
        ),
        (
            "vote_approve",
            Message::Vote(vote("mn003", Step::Approve, true, 1)),
            "an approve vote",
            &["R0.5", "R5.2"],
        ),
        (
            "vote_commit",
            Message::Vote(vote("mn002", Step::Commit, true, 200_000)),
            "a commit vote",
            &["R0.5", "R5.2"],
        ),
        (
            "vote_against",
            Message::Vote(vote("mn002", Step::Approve, false, 2)),
            "a seed-style vote against (approve = false)",
            &["R0.5", "R5.2"],
        ),
        (
            "vote_stranger",
            Message::Vote(vote("mn009", Step::Approve, true, 1)),
            "a vote from mn009, not registered",
            &["R0.5", "R5.2"],
        ),
        (
            "vote_forged",
            Message::Vote(vote_forged),
            "mn003's vote signed with mn000's key",
            &["R0.5", "R5.2"],
        ),
        (
            "vote_tampered",
            Message::Vote(vote_tampered),
            "an approve vote relabelled as a commit vote after signing",
            &["R0.5", "R5.2"],
        ),
    ] {
        g.case(
            &format!("authenticate_{name}"),
            BOTH,
            &format!("Authentication against mn000..mn003: {note}. The output gives the exact signing bytes."),
            ids,
            Op::Authenticate(AuthenticateIn {
                masternodes: ms.clone(),
                message: m,
            }),
        );
    }
}
