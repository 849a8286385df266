//! The generator: builds every case, runs it through its
//! [`Operation::execute`] (or [`replay`] for node traces) to obtain its expected output, and renders it
//! as a vector file. Inputs are fixed or drawn from a seeded SplitMix64, so
//! the files are the same on every run, byte for byte.

use crate::format::*;
use crate::suites::node_trace::{replay, NodeTraceIn, TraceSetup, TraceStep};
use std::collections::BTreeSet;
use time_consensus::crypto::{Keypair, SignatureScheme};
use time_consensus::node::Input;
use time_consensus::primitives::{Date, NodeId};
use time_consensus::registry::Tier;
use time_consensus::sim::SplitMix64;
use time_consensus::Rules;

/// One generated vector file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// Its suite (the directory).
    pub suite: Suite,
    /// Its case name (the file name without `.json`).
    pub name: String,
    /// Its contents.
    pub json: String,
}

/// Collects cases; remembers generator bugs instead of panicking.
#[derive(Default)]
pub struct Gen {
    cases: Vec<Generated>,
    names: BTreeSet<(Suite, String)>,
    errors: Vec<String>,
}

/// The seed rules and the reference rules.
pub const SEED: &[Rules] = &[Rules::Seed];
/// The reference rules.
pub const REF: &[Rules] = &[Rules::Reference];
/// Both rule sets (the case holds under each).
pub const BOTH: &[Rules] = &[Rules::Seed, Rules::Reference];

impl Gen {
    fn claim(&mut self, suite: Suite, name: &str) -> bool {
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            self.errors
                .push(format!("{}/{name}: bad case name", suite.name()));
            return false;
        }
        if !self.names.insert((suite, name.to_string())) {
            self.errors
                .push(format!("{}/{name}: case name used twice", suite.name()));
            return false;
        }
        true
    }

    /// Adds a case whose expected output (or rejection) is whatever the
    /// implementation produces; it must produce the same under every rule
    /// set listed.
    pub fn case<O: Operation>(
        &mut self,
        name: &str,
        rules: &[Rules],
        description: &str,
        ids: &[&str],
        op: O,
    ) {
        let (suite, input): (Suite, Op) = (O::SUITE, op.clone().into());
        let mut results = Vec::new();
        for &r in rules {
            match input
                .applies(r)
                .map_err(Refusal::BadInput)
                .and_then(|()| op.execute(r))
            {
                Ok(o) => results.push(Ok(o)),
                Err(Refusal::Rejected(x)) => results.push(Err(x)),
                Err(Refusal::BadInput(m)) => {
                    self.errors
                        .push(format!("{}/{name} [{r}]: input refused: {m}", suite.name()));
                    return;
                }
            }
        }
        let json = |r: &Result<O::Output, ExpectedRejection>| match r {
            Ok(o) => serde_json::to_string(o).unwrap_or_default(),
            Err(x) => serde_json::to_string(x).unwrap_or_default(),
        };
        if results.windows(2).any(|w| json(&w[0]) != json(&w[1])) {
            return self.errors.push(format!(
                "{}/{name}: outcomes differ between the rule sets listed",
                suite.name()
            ));
        }
        let label = Label {
            suite,
            name,
            rules,
            description,
            ids,
            origin: None,
        };
        match results.into_iter().next() {
            Some(outcome) => self.push(label, input, outcome),
            None => self
                .errors
                .push(format!("{}/{name}: no rule set", suite.name())),
        }
    }

    /// Adds a node trace: the outputs of each input and the final state are
    /// obtained by replaying the inputs on a fresh node.
    pub fn trace(
        &mut self,
        name: &str,
        rules: Rules,
        description: &str,
        ids: &[&str],
        setup: TraceSetup,
        inputs: Vec<Input>,
    ) {
        self.trace_from(name, rules, description, ids, setup, inputs, None)
    }

    /// [`Gen::trace`] with the provenance of a trace exported from another
    /// tool (the model checker).
    #[allow(clippy::too_many_arguments)]
    pub fn trace_from(
        &mut self,
        name: &str,
        rules: Rules,
        description: &str,
        ids: &[&str],
        setup: TraceSetup,
        inputs: Vec<Input>,
        origin: Option<Origin>,
    ) {
        let steps = inputs.into_iter().map(|input| TraceStep {
            input,
            outputs: Vec::new(),
        });
        let mut t = NodeTraceIn {
            setup,
            steps: steps.collect(),
        };
        let r = match replay(rules, &t) {
            Ok(r) => r,
            Err(e) => return self.errors.push(format!("node_trace/{name}: {e}")),
        };
        for (s, o) in t.steps.iter_mut().zip(r.outputs) {
            s.outputs = o;
        }
        let label = Label {
            suite: Suite::NodeTrace,
            name,
            rules: &[rules],
            description,
            ids,
            origin,
        };
        self.push(label, Op::NodeTrace(t), Ok(r.final_state));
    }

    /// Records a generator bug.
    pub fn error(&mut self, e: String) {
        self.errors.push(e);
    }

    /// Renders and keeps a case, if its name is free and well formed.
    fn push<E: serde::Serialize>(
        &mut self,
        l: Label<'_>,
        input: Op,
        outcome: Result<E, ExpectedRejection>,
    ) {
        if !self.claim(l.suite, l.name) {
            return;
        }
        let (expected, expected_rejection) = match outcome {
            Ok(o) => (Some(o), None),
            Err(x) => (None, Some(x)),
        };
        let c = Case {
            format: FORMAT_VERSION.to_string(),
            suite: l.suite,
            case: l.name.to_string(),
            rules: l.rules.to_vec(),
            description: l.description.to_string(),
            rule_ids: l.ids.iter().map(|s| s.to_string()).collect(),
            origin: l.origin,
            input,
            expected,
            expected_rejection,
        };
        match serde_json::to_string_pretty(&c) {
            Ok(json) => self.cases.push(Generated {
                suite: l.suite,
                name: l.name.to_string(),
                json: json + "\n",
            }),
            Err(e) => self
                .errors
                .push(format!("{}: cannot serialize: {e}", l.name)),
        }
    }

    /// The cases, sorted by suite and name, or the generator's bugs.
    pub fn finish(mut self) -> Result<Vec<Generated>, Vec<String>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        self.cases
            .sort_by(|a, b| (a.suite, &a.name).cmp(&(b.suite, &b.name)));
        Ok(self.cases)
    }
}

// ---- fixtures ----

/// A date from its text (fixtures only).
pub fn date(s: &str) -> Date {
    s.parse().expect("fixture date")
}

/// A node id (fixtures only).
pub fn id(s: &str) -> NodeId {
    NodeId::new(s).expect("fixture id")
}

/// A member whose key is `Keypair::from_label(Ed25519, node_id)`.
pub fn member(node_id: &str, tier: Tier, registered_at: &str, reputation_milli: u32) -> Member {
    Member {
        node_id: id(node_id),
        public_key: Keypair::from_label(SignatureScheme::Ed25519, node_id).public(),
        tier,
        registered_at: date(registered_at),
        reputation_milli,
    }
}

/// The deployed tests' four masternodes.
pub fn seed4() -> Vec<Member> {
    vec![
        member("192.168.1.1", Tier::Gold, "2025-01-01", 1200),
        member("192.168.1.2", Tier::Silver, "2025-02-01", 1000),
        member("192.168.1.3", Tier::Bronze, "2025-03-01", 800),
        member("192.168.1.4", Tier::Free, "2025-04-01", 1000),
    ]
}

/// `mn000..` with the given tiers, registered 2025-01-01, reputation 1.0:
/// the network the node traces run on (`sim::test_network`).
pub fn net(tiers: &[Tier]) -> Vec<Member> {
    tiers
        .iter()
        .enumerate()
        .map(|(i, t)| member(&format!("mn{i:03}"), *t, "2025-01-01", 1000))
        .collect()
}

/// Gold, Silver, Bronze, Free: the kit's four.
pub use time_consensus::kit::scenarios::TIERS4;

/// All four tiers, in weight order.
pub const ALL_TIERS: [Tier; 4] = [Tier::Free, Tier::Bronze, Tier::Silver, Tier::Gold];

/// `n` members with tiers, dates and reputations drawn from `seed`; ids are
/// IPv4-like so that list order and byte order differ.
pub fn random_members(seed: u64, n: usize) -> Vec<Member> {
    let mut rng = SplitMix64::new(seed);
    let base = date("2023-01-01");
    (0..n)
        .map(|_| {
            let ip = format!(
                "10.{}.{}.{}",
                rng.range(0, 255),
                rng.range(0, 255),
                rng.range(1, 254)
            );
            let tier = ALL_TIERS[rng.range(0, 3) as usize];
            let reg = base
                .add_days(rng.range(0, 1000) as i64)
                .expect("in range")
                .to_string();
            let rep = rng.range(0, 2000) as u32;
            member(&ip, tier, &reg, rep)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .fold(Vec::new(), |mut acc: Vec<Member>, m| {
            // Ids must be distinct for a registry.
            if !acc.iter().any(|x| x.node_id == m.node_id) {
                acc.push(m);
            }
            acc
        })
}

/// A tier's name as vectors write it.
pub fn tier_name(t: Tier) -> &'static str {
    match t {
        Tier::Free => "free",
        Tier::Bronze => "bronze",
        Tier::Silver => "silver",
        Tier::Gold => "gold",
    }
}

/// What names and describes a case, beside its input and outcome.
struct Label<'a> {
    suite: Suite,
    name: &'a str,
    rules: &'a [Rules],
    description: &'a str,
    ids: &'a [&'a str],
    origin: Option<Origin>,
}
