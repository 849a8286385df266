//! What one member of a network of n spends on one height, without the
//! network and the store: the inputs member 0 of a kit network of n real
//! nodes (tiers cycled, reference rules, every message delivered once)
//! handled in one whole height, replayed into a fresh node.
//!
//! - `member_handle`: `Node::handle` over those inputs, in order;
//! - `member_handle_batched`: the same, the height's message signatures
//!   first verified in one batch (`Verified::batch`, R0.4) and the node
//!   told so (`handle_verified`), as `time-node` does for each batch of
//!   frames it reads (here the whole height is one batch: the bound);
//! - `member_decode_handle`: the same from the JSON frames `time-node`
//!   receives (decode, then handle), the member's CPU but for I/O;
//! - `verify_each`: one `verify_at` per distinct signature those inputs
//!   carry (each message's own, and every vote in a certificate or a
//!   justification): what a node that trusts nothing twice must check;
//! - `floor_verify_batch`: one `verify_batch_at` over the same signatures.
//!
//! `member_handle` against `verify_each` shows how much of a height is
//! signature checking; `verify_each` against the floor, what batching
//! incoming votes could save.

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};
use time_consensus::kit::Net;
use time_consensus::message::Message;
use time_consensus::sim::genesis_tip;
use time_consensus::verified::{signatures, Verified};
use time_consensus::{Context, Input, Node, Rules, Signature, Tier};
use time_node::wire::{self, Frame};

mod report;

const SIZES: [usize; 3] = [4, 16, 64];

struct Fixture {
    ctx: Context,
    inputs: Vec<Input>,
    frames: Vec<Vec<u8>>,
    /// (canonical position, signing bytes, signature), distinct.
    sigs: Vec<(usize, Vec<u8>, Signature)>,
}

impl Fixture {
    fn new(n: usize) -> Fixture {
        let tiers: Vec<Tier> = [Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free]
            .into_iter()
            .cycle()
            .take(n)
            .collect();
        let mut net = Net::new(&tiers, Rules::Reference).expect("a valid network");
        let starts: Vec<_> = (0..n).map(|i| (i, net.start(i, false))).collect();
        net.pump(starts, |_, _, _| true);
        assert!(
            net.nodes.iter().all(|x| x.state().tip().height == 1),
            "every node decides height 1"
        );
        let inputs = net.inputs(0);
        let ctx = (**net.nodes[0].context()).clone();
        let frames = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Message(m) => {
                    Some(wire::encode(&Frame::Message(m.clone())).expect("encodes"))
                }
                _ => None,
            })
            .map(|b| b[4..].to_vec())
            .collect();
        let reg = ctx.registry().clone();
        let mut seen = BTreeSet::new();
        let mut sigs = Vec::new();
        let mut add = |signer: &time_consensus::NodeId, bytes: Vec<u8>, sig: &Signature| {
            let pos = reg.position_of(signer).expect("a member");
            if seen.insert((pos, sig.0)) {
                sigs.push((pos, bytes, *sig));
            }
        };
        for i in &inputs {
            let Input::Message(m) = i else { continue };
            for (signer, bytes, sig) in signatures(m) {
                add(signer, bytes, sig);
            }
        }
        let f = Fixture {
            ctx,
            inputs,
            frames,
            sigs,
        };
        assert_eq!(f.handle(f.inputs.clone()), 1);
        assert_eq!(f.decode_handle(), 1);
        assert_eq!(f.handle_batched(f.inputs.clone()), 1);
        assert!(f.verify_each() && f.verify_batch());
        eprintln!(
            "{n} members: member 0 handles {} inputs carrying {} distinct signatures",
            f.inputs.len(),
            f.sigs.len()
        );
        f
    }

    fn handle(&self, inputs: Vec<Input>) -> u64 {
        let mut node = Node::new(self.ctx.clone(), genesis_tip());
        for i in inputs {
            node.handle(i);
        }
        node.state().tip().height
    }

    fn handle_batched(&self, inputs: Vec<Input>) -> u64 {
        let msgs: Vec<&Message> = self
            .inputs
            .iter()
            .filter_map(|i| match i {
                Input::Message(m) => Some(m),
                _ => None,
            })
            .collect();
        let v = Verified::batch(self.ctx.registry(), msgs);
        assert!(!v.is_empty());
        let mut node = Node::new(self.ctx.clone(), genesis_tip());
        for i in inputs {
            node.handle_verified(i, &v);
        }
        node.state().tip().height
    }

    fn decode_handle(&self) -> u64 {
        let mut node = Node::new(self.ctx.clone(), genesis_tip());
        node.handle(self.inputs[0].clone());
        for b in &self.frames {
            if let Ok(Frame::Message(m)) = wire::decode(b) {
                node.handle(Input::Message(m));
            }
        }
        node.state().tip().height
    }

    fn verify_each(&self) -> bool {
        let reg = self.ctx.registry();
        self.sigs.iter().all(|(p, b, s)| reg.verify_at(*p, b, s))
    }

    fn verify_batch(&self) -> bool {
        let items: Vec<(usize, &[u8], &Signature)> = self
            .sigs
            .iter()
            .map(|(p, b, s)| (*p, b.as_slice(), s))
            .collect();
        self.ctx.registry().verify_batch_at(&items)
    }
}

fn main() {
    let start = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let fixtures: Vec<Fixture> = SIZES.iter().map(|&n| Fixture::new(n)).collect();
    type Body = fn(&mut criterion::Bencher<'_>, &Fixture);
    let benches: [(&str, Body); 5] = [
        ("member_handle", |b, f| {
            b.iter_batched(|| f.inputs.clone(), |i| f.handle(i), BatchSize::SmallInput)
        }),
        ("member_handle_batched", |b, f| {
            b.iter_batched(
                || f.inputs.clone(),
                |i| f.handle_batched(i),
                BatchSize::SmallInput,
            )
        }),
        ("member_decode_handle", |b, f| b.iter(|| f.decode_handle())),
        ("verify_each", |b, f| b.iter(|| f.verify_each())),
        ("floor_verify_batch", |b, f| b.iter(|| f.verify_batch())),
    ];
    for (name, body) in benches {
        let mut g = c.benchmark_group(format!("height_{name}"));
        g.warm_up_time(Duration::from_millis(500));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(3));
        for (f, n) in fixtures.iter().zip(SIZES) {
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::from_parameter(n), f, body);
        }
        g.finish();
    }
    c.final_summary();
    let floor = "floor_verify_batch";
    report::print(
        start,
        "height",
        "member",
        &SIZES,
        &[
            ("member_decode_handle", floor),
            ("member_handle", floor),
            ("member_handle_batched", floor),
            ("verify_each", floor),
        ],
        "verify_each",
    );
}
