//! # time-consensus
//!
//! The reference implementation of the seven-phase weighted BFT block
//! production protocol of TIME Coin: heartbeat synchronization, weighted leader
//! election, block construction, proposal, weighted voting, consensus
//! collection, and finalization with a fallback ladder (leader rotations, a
//! reward-only block, the emergency block).
//!
//! One code base runs two rule sets, chosen when a node is built:
//! [`Rules::Seed`] reproduces the deployed code bit for bit, flaws included, so
//! that the model checker can show where it breaks; [`Rules::Reference`] is the
//! amended protocol of `spec/`, whose rule ids (`R1.1`...) the code cites.
//!
//! The node ([`node::Node`]) is a sans-IO state machine: inputs in, outputs
//! out, no clock, no I/O. [`sim`] runs many of them over a seeded simulated
//! network; [`kit`] drives them by hand, recording every input and output,
//! for the tests and the conformance vectors; the `time-consensus-model`
//! crate runs the same code under a model checker.
#![forbid(unsafe_code)]
// A node must not crash on what it is sent: outside tests, no `unwrap` and no
// `panic!`; each `expect` left names an invariant (of the node's state or a
// constant).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]
// No floats outside the seed rules' own formula: nodes must agree bit for bit.
#![deny(clippy::float_arithmetic)]

pub mod block;
pub mod config;
pub mod crypto;
pub mod election;
pub mod encoding;
pub mod event;
pub mod fallback;
pub mod forge;
pub mod heartbeat;
pub mod kit;
pub mod message;
pub mod monitor;
pub mod node;
pub mod primitives;
pub mod registry;
pub mod rules;
pub mod sim;
pub mod tally;
pub mod verified;
pub mod vote;
pub mod weight;

pub use config::OrchestratorConfig;
pub use crypto::{Keypair, PublicKey, Signature, SignatureScheme};
pub use event::{Event, Phase, Rejection};
pub use message::Message;
pub use node::{Context, Input, Node, NodeState, Output, StartHeight, Timer, Tip};
pub use primitives::{Date, Hash32, NodeId};
pub use registry::{MasternodeInfo, Registry, Tier};
pub use rules::{Amendment, Rules};
