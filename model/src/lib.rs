//! # time-consensus-model
//!
//! A Stateright model of the seven-phase protocol whose honest actors run the
//! `time-consensus` node itself: there is no second copy of any rule here.
//!
//! ## What is modelled
//! - **Actors.** Masternode `i` is `mn00i`. Honest ones hold a
//!   [`time_consensus::node::NodeState`] and apply [`time_consensus::Context::handle`]
//!   to every message and timer. Byzantine ones ([`actor::Adversary`]) sign
//!   only with their own key and, per configuration, equivocate as leader,
//!   approve and commit anything they see, commit without quorums, forge
//!   certificates and re-proposals from what they received
//!   ([`time_consensus::forge`]), declare a false weight, or stay silent. Signatures are the implementation's symbolic scheme (keyed
//!   SHA-256): under the Dolev-Yao assumption nobody forges them.
//! - **One height.** Every node starts height 1 on the same tip, with phase 1
//!   optional. Attempts are bounded: the last attempt sets no timeout.
//! - **Network and timers** ([`config::Network`]), chosen on purpose:
//!   `async` keeps every message deliverable forever, in any order, any number
//!   of times, or never (loss, reordering, duplication) with timers firing at
//!   any moment: the semantics for safety. `gst:<a>` delivers every message
//!   (a redelivery may happen but changes nothing) and lets timers of attempt `a` or later fire only when no
//!   delivery or earlier timer could still change anything (partial synchrony
//!   stabilizing at attempt `a`): the semantics for liveness.
//!
//! ## Properties
//! - `always` **agreement**: honest nodes finalize at most one block.
//! - `always` **validity**: a finalized block is one an elected leader could
//!   propose, or the canonical emergency block, and extends the tip.
//! - `eventually` **emergency liveness** (`gst` only): every honest node
//!   finalizes. Stateright checks `eventually` at terminal states only, so
//!   [`model::check_progress`] checks on every transition that a progress
//!   measure rises: the graph is acyclic and finite, and the verdict sound.
//! - `sometimes` for each way a height can end (attempt 0, after a rotation,
//!   reward-only, emergency), so that no pass is vacuous.
#![forbid(unsafe_code)]

pub mod actor;
pub mod check;
pub mod config;
pub mod explore;
pub mod export;
pub mod model;
pub mod trace;
pub mod vectors;
pub mod view;

pub use config::{ModelConfig, Network};

/// Writes `text` to standard output. A reader that went away (`tcm ... |
/// head`) is no error of ours: what it did not read is dropped, and no
/// panic follows, as `println!` would.
pub fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
pub use model::TcModel;
