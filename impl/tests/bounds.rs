//! Resource bounds on the node: configurations, weights and blocks that would
//! overflow or exhaust memory get a typed refusal, never a panic.

use time_consensus::config::{ConfigError, MAX_FUTURE_ATTEMPTS};
use time_consensus::node::{Context, NodeError};
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
            .err()
            .expect("refused");
        assert_eq!(
            err,
            NodeError::Config(ConfigError::TooManyFutureAttempts {
                got,
                max: MAX_FUTURE_ATTEMPTS
            })
        );
    }
}
