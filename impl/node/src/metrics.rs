//! Prometheus metrics (`/metrics` on the loopback HTTP endpoint).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;
use time_consensus::node::Decision;
use time_consensus::{Event, Message, Rejection};

/// A block or message kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    /// The kind.
    pub kind: String,
}

/// A fallback strategy.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Strategy {
    /// The strategy.
    pub strategy: String,
}

/// Why an input was refused.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// The rejection's name.
    pub reason: String,
}

/// A member's metrics.
pub struct Metrics {
    registry: Registry,
    tip: Gauge,
    latency: Histogram,
    attempts: Histogram,
    kinds: Family<Kind, Counter>,
    fallbacks: Family<Strategy, Counter>,
    received: Family<Kind, Counter>,
    votes_counted: Counter,
    rejected: Family<Reason, Counter>,
    equivocations: Counter,
    sent: Counter,
    bytes_sent: Counter,
    send_drops: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("time_node");
        let m = Metrics {
            tip: Gauge::default(),
            latency: Histogram::new(exponential_buckets(0.005, 2.0, 16)),
            attempts: Histogram::new([1.0, 2.0, 3.0, 4.0, 5.0, 8.0, 16.0]),
            kinds: Family::default(),
            fallbacks: Family::default(),
            received: Family::default(),
            votes_counted: Counter::default(),
            rejected: Family::default(),
            equivocations: Counter::default(),
            sent: Counter::default(),
            bytes_sent: Counter::default(),
            send_drops: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "tip_height",
            "Height of the last finalized block",
            m.tip.clone(),
        );
        registry.register(
            "finality_latency_seconds",
            "From a height's start here to its finalization here",
            m.latency.clone(),
        );
        registry.register(
            "attempts_per_height",
            "Attempts a finalized height took (1 = decided in attempt 0)",
            m.attempts.clone(),
        );
        registry.register(
            "finalized_blocks",
            "Finalized blocks by kind",
            m.kinds.clone(),
        );
        registry.register(
            "fallbacks",
            "Fallbacks entered, by strategy",
            m.fallbacks.clone(),
        );
        registry.register(
            "messages_received",
            "Protocol messages received, by kind",
            m.received.clone(),
        );
        registry.register(
            "votes_counted",
            "Votes counted by the node",
            m.votes_counted.clone(),
        );
        registry.register(
            "rejected",
            "Inputs the node refused, by reason",
            m.rejected.clone(),
        );
        registry.register(
            "equivocations_seen",
            "Double votes and double proposals seen",
            m.equivocations.clone(),
        );
        registry.register(
            "messages_sent",
            "Frames sent (one per peer)",
            m.sent.clone(),
        );
        registry.register("bytes_sent", "Bytes of frames sent", m.bytes_sent.clone());
        registry.register(
            "send_drops",
            "Frames dropped because a peer's queue was full",
            m.send_drops.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }

    /// A protocol message arrived.
    pub fn received(&self, m: &Message) {
        let k = match m {
            Message::Heartbeat(_) => "heartbeat",
            Message::Proposal(_) => "proposal",
            Message::Vote(_) => "vote",
            Message::Certificate(_) => "certificate",
        };
        self.received.get_or_create(&Kind { kind: k.into() }).inc();
    }

    /// The node refused an input.
    pub fn rejected(&self, r: &Rejection) {
        self.rejected
            .get_or_create(&Reason {
                reason: time_consensus::sim::rejection_name(r),
            })
            .inc();
    }

    /// An equivocation was seen.
    pub fn equivocation(&self) {
        self.equivocations.inc();
    }

    /// An event of the node.
    pub fn event(&self, e: &Event) {
        match e {
            Event::VoteReceived { .. } => {
                self.votes_counted.inc();
            }
            Event::FallbackInitiated { strategy, .. } => {
                self.fallbacks
                    .get_or_create(&Strategy {
                        strategy: format!("{strategy:?}"),
                    })
                    .inc();
            }
            _ => {}
        }
    }

    /// A height was finalized.
    pub fn finalized(&self, d: &Decision, latency: Option<Duration>) {
        self.tip.set(i64::try_from(d.height).unwrap_or(i64::MAX));
        self.kinds
            .get_or_create(&Kind {
                kind: format!("{:?}", d.kind),
            })
            .inc();
        self.attempts.observe(f64::from(d.attempt) + 1.0);
        if let Some(l) = latency {
            self.latency.observe(l.as_secs_f64());
        }
    }

    /// A frame of `bytes` bytes was queued for a peer.
    pub fn sent(&self, bytes: usize) {
        self.sent.inc();
        self.bytes_sent.inc_by(bytes as u64);
    }

    /// A frame was dropped at a full queue.
    pub fn dropped(&self) {
        self.send_drops.inc();
    }
}
