//! Resource bounds on the node: configurations and blocks that would
//! overflow or exhaust memory get a typed refusal, never a panic.

use std::sync::Arc;
use time_consensus::block::{BlockError, Transaction};
use time_consensus::config::{ConfigError, MAX_FUTURE_ATTEMPTS};
use time_consensus::event::{Event, Rejection};
use time_consensus::kit::*;
use time_consensus::message::{Message, Proposal};
use time_consensus::node::{Context, Input, NodeError, StartHeight};
use time_consensus::primitives::Date;
use time_consensus::sim::test_network;
use time_consensus::{OrchestratorConfig, Rules, SignatureScheme, Tier};

fn registered() -> Date {
    "2025-01-01".parse().unwrap()
}

// R4.4: a window of 2^32 - 1 attempts once overflowed the leader horizon at
// the start of the height; 4294967000 made the node precompute 34 GB of
// leaders.
#[test]
fn a_node_refuses_a_future_window_beyond_the_cap() {
    let (registry, keys) =
        test_network(4, &[Tier::Gold], SignatureScheme::Ed25519, registered()).unwrap();
    for got in [
        MAX_FUTURE_ATTEMPTS + 1,
        100_000_000,
        4_294_967_000,
        u32::MAX,
    ] {
        let config = OrchestratorConfig {
            max_future_attempts: got,
            ..OrchestratorConfig::default()
        };
        let err = Context::new(keys[0].clone(), registry.clone(), Rules::Reference, config)
            .expect_err("refused");
        assert_eq!(
            err,
            NodeError::Config(ConfigError::TooManyFutureAttempts {
                got,
                max: MAX_FUTURE_ATTEMPTS
            })
        );
    }
}

// R3.1, R3.6: with a mempool far above the byte limit the leader proposes a
// block within it, which its peers accept; a block past it is refused.
#[test]
fn leaders_propose_within_the_byte_limit_and_peers_refuse_more() {
    let config = OrchestratorConfig {
        max_block_bytes: 1000,
        ..OrchestratorConfig::default()
    };
    let mut net = Net::with_config(&[Tier::Gold; 4], Rules::Reference, config).unwrap();
    // 40 transfers of 223 bytes: 8920 bytes, four of which fit.
    let mempool: Vec<Transaction> = (0..40u8)
        .map(|i| Transaction::transfer(&[i; 200]))
        .collect();
    let mut proposal = None;
    for i in 0..4 {
        let outs = net.nodes[i].handle(Input::Start(StartHeight {
            date: net.date,
            mempool: mempool.clone(),
            presynchronized: true,
        }));
        proposal = proposal.or(proposal_of(&outs).map(|p| (i, p)));
    }
    let (leader, p) = proposal.expect("the leader of attempt 0 proposes");
    let block = &p.proposal.block;
    assert_eq!(block.transactions.len(), 1 + 4);
    let ctx = net.nodes[leader]
        .state()
        .round()
        .unwrap()
        .height_ctx()
        .block_context()
        .clone();
    assert!(block.transaction_bytes() <= ctx.byte_limit());
    let x = (leader + 1) % 4;
    let outs = net.deliver(x, Message::Proposal(p.clone()));
    assert!(rejections(&outs).is_empty(), "{:?}", rejections(&outs));
    assert!(events(&outs)
        .iter()
        .any(|e| matches!(e, Event::ProposalAccepted { .. })));

    // One transfer more than the leader took: refused by its size.
    let y = (leader + 2) % 4;
    let mut b = (*p.proposal.block).clone();
    b.transactions.push(Transaction::transfer(&[255; 200]));
    b.header.merkle_root = b.compute_merkle_root().unwrap();
    let over = Proposal {
        block: Arc::new(b),
        ..p.proposal.clone()
    };
    let outs = net.deliver(y, net.sign_proposal(leader, over.clone()));
    let r = rejections(&outs);
    assert_eq!(
        r,
        vec![Rejection::InvalidBlock(BlockError::TooManyBytes {
            max: ctx.byte_limit(),
            got: over.block.transaction_bytes()
        })]
    );
}
