//! The block suite's validation cases: blocks built by the implementation,
//! then altered one way each, the byte limit, and the kind the ladder asks
//! of a fresh proposal.

use super::{real_context, transfers, BlockContextIn, BuildIn, ValidateIn};
use crate::generate::*;
use time_consensus::block::{Block, Transaction};
use time_consensus::fallback::BlockKind;
use time_consensus::primitives::Hash32;

/// The validation cases on `ctx4` (height 1, mn000..mn003, at most 3
/// transactions).
pub(super) fn cases(g: &mut Gen, ctx4: &BlockContextIn) {
    // Validation.
    let real = real_context(ctx4);
    let good = real.build(BlockKind::Normal, &id("mn000"), &transfers(2));
    let val = |block, attempt| ValidateIn {
        context: ctx4.clone(),
        block,
        attempt,
    };
    let fix_root =
        |b: &mut Block| b.header.merkle_root = b.compute_merkle_root().expect("small transactions");
    let mut cases: Vec<(&str, Block, &str)> = vec![
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
        BuildIn {
            context: ctx_bytes.clone(),
            kind: BlockKind::Normal,
            proposer: id("mn001"),
            mempool: big_second,
        },
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
            ValidateIn {
                context: ctx_bytes.clone(),
                block,
                attempt: None,
            },
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
