//! `time-node`: a masternode process running the unchanged sans-IO node of
//! `time-consensus` over TCP, with a store, catch-up, metrics and a cluster
//! command. Every protocol rule stays in `time-consensus`; this crate adds
//! transport, durability and pacing.
//!
//! - [`genesis`]: the files a member starts from;
//! - [`wire`]: the frames between members (spec/protocol.md, "Framing");
//! - [`store`]: finalized blocks and the write-ahead input log (redb);
//! - [`host`]: the node over the store, timers and the chain, without I/O;
//! - [`run`]: the tokio runtime around the host;
//! - [`cluster`]: N members on loopback, watched height by height;
//! - [`bench`]: latency, throughput and CPU of clusters of growing size.

#![deny(clippy::unwrap_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

pub mod bench;
pub mod cluster;
pub mod genesis;
pub mod host;
pub mod metrics;
pub mod run;
pub mod store;
pub mod wire;
