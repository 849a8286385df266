//! Which rules a node runs: the deployed seed rules, the amended reference
//! rules, or the seed rules with some amendments applied (the model uses
//! those to show that each amendment is forced by a counterexample).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One amendment of the seed rules (spec, "Amendments").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Amendment {
    /// A1: the quorum is `ceil(2/3)` of the whole registry's weight, not of the
    /// votes received (seed flaw 1).
    QuorumOverRegistry,
    /// A2: a vote weighs what the registry says, counts only for the block and
    /// attempt it names, once per voter per step and attempt (seed flaw 2).
    RegistryWeights,
    /// A3: two signed steps per attempt (approve, commit) with locking (seed
    /// flaw 3).
    TwoStepLocking,
    /// A4: the emergency block is canonical and needs both quorums (seed flaw 4).
    EmergencyQuorum,
    /// A5: the election uses integer weights in canonical order, a seed from
    /// chain data, an unbiased pick, and excludes every earlier leader (seed
    /// flaw 5).
    ChainElection,
    /// A6: phase 1 measures agreement with the node's own tip in registry
    /// weight, and a node that is not synchronized still takes part.
    WeightedSync,
    /// A7: a node that sees more than a third of the weight in later
    /// attempts joins them, and keeps the next height's messages that arrive
    /// before it starts it (nodes that start late catch up).
    AttemptSync,
}

impl Amendment {
    /// All amendments, in id order.
    pub const ALL: [Amendment; 7] = [
        Amendment::QuorumOverRegistry,
        Amendment::RegistryWeights,
        Amendment::TwoStepLocking,
        Amendment::EmergencyQuorum,
        Amendment::ChainElection,
        Amendment::WeightedSync,
        Amendment::AttemptSync,
    ];

    /// The spec id, `A1` to `A7`.
    pub fn id(self) -> &'static str {
        ["A1", "A2", "A3", "A4", "A5", "A6", "A7"][self as usize]
    }

    /// Amendments this one only makes sense on top of.
    pub fn requires(self) -> &'static [Amendment] {
        match self {
            Amendment::TwoStepLocking => {
                &[Amendment::QuorumOverRegistry, Amendment::RegistryWeights]
            }
            Amendment::EmergencyQuorum | Amendment::AttemptSync => &[Amendment::TwoStepLocking],
            _ => &[],
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Why a rule-set name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// Not `seed`, `reference`, or one of those with `+A<n>` / `-A<n>` parts.
    #[error("unknown rule set {0:?}: expected seed, reference, seed+A1+A2..., or reference-A4...")]
    Unknown(String),
    /// An amendment was applied without one it builds on.
    #[error("rule set {rules}: amendment {amendment} requires {requires}")]
    Incoherent {
        /// The rule set as given.
        rules: String,
        /// The amendment applied.
        amendment: &'static str,
        /// The one missing.
        requires: &'static str,
    },
}

/// A rule set: the seed rules plus a set of amendments.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rules {
    bits: u8,
}

#[allow(non_upper_case_globals)]
impl Rules {
    /// The deployed rules (`SEED-RULES.md`), flaws included.
    pub const Seed: Rules = Rules { bits: 0 };
    /// The amended reference rules: A1 to A7. `reference-A7` is the same
    /// without attempt synchronization, for the counterexamples that force it.
    pub const Reference: Rules = Rules { bits: 0b111_1111 };

    /// Whether `a` is applied.
    pub fn has(self, a: Amendment) -> bool {
        self.bits & a.bit() != 0
    }

    /// These rules with `a` applied.
    pub fn with(self, a: Amendment) -> Rules {
        Rules {
            bits: self.bits | a.bit(),
        }
    }

    /// These rules with `a` removed.
    pub fn without(self, a: Amendment) -> Rules {
        Rules {
            bits: self.bits & !a.bit(),
        }
    }

    /// True for exactly the seed rules.
    pub fn is_seed(self) -> bool {
        self.bits == 0
    }

    /// Checks that every amendment's prerequisites are applied.
    pub fn validate(self) -> Result<Rules, RulesError> {
        for a in Amendment::ALL {
            if self.has(a) {
                if let Some(r) = a.requires().iter().find(|r| !self.has(**r)) {
                    return Err(RulesError::Incoherent {
                        rules: self.to_string(),
                        amendment: a.id(),
                        requires: r.id(),
                    });
                }
            }
        }
        Ok(self)
    }

    /// Parses `seed`, `reference`, `seed+A1+A2`, `reference-A4`, and validates.
    pub fn parse(s: &str) -> Result<Rules, RulesError> {
        let unknown = || RulesError::Unknown(s.to_string());
        let lower = s.trim().to_ascii_lowercase();
        let (base, rest) = if let Some(r) = lower.strip_prefix("seed") {
            (Rules::Seed, r)
        } else if let Some(r) = lower.strip_prefix("reference") {
            (Rules::Reference, r)
        } else {
            return Err(unknown());
        };
        let mut rules = base;
        let mut rest = rest;
        while !rest.is_empty() {
            let add = match rest.as_bytes()[0] {
                b'+' => true,
                b'-' => false,
                _ => return Err(unknown()),
            };
            let body = &rest[1..];
            let end = body.find(['+', '-']).unwrap_or(body.len());
            let a = Amendment::ALL
                .into_iter()
                .find(|a| a.id().eq_ignore_ascii_case(&body[..end]))
                .ok_or_else(unknown)?;
            rules = if add { rules.with(a) } else { rules.without(a) };
            rest = &body[end..];
        }
        rules.validate().map_err(|e| match e {
            RulesError::Incoherent {
                amendment,
                requires,
                ..
            } => RulesError::Incoherent {
                rules: s.to_string(),
                amendment,
                requires,
            },
            other => other,
        })
    }
}

impl fmt::Display for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Name it from the nearer base: the fewer amendments to list.
        let r = Rules::Reference;
        let from_seed = self.bits.count_ones();
        let from_reference = (self.bits ^ r.bits).count_ones();
        if from_seed <= from_reference {
            f.write_str("seed")?;
            for a in Amendment::ALL.iter().filter(|a| self.has(**a)) {
                write!(f, "+{}", a.id())?;
            }
        } else {
            f.write_str("reference")?;
            for a in Amendment::ALL
                .iter()
                .filter(|a| r.has(**a) && !self.has(**a))
            {
                write!(f, "-{}", a.id())?;
            }
            for a in Amendment::ALL
                .iter()
                .filter(|a| !r.has(**a) && self.has(**a))
            {
                write!(f, "+{}", a.id())?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Rules {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rules {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Rules::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in [
            "seed",
            "reference",
            "seed+A1+A2",
            "reference-A4",
            "seed+A1",
            "reference-A7",
            "reference-A4-A7",
        ] {
            assert_eq!(Rules::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(Rules::parse("Reference").unwrap(), Rules::Reference);
        // A name that applies what is already applied means the same rules.
        assert_eq!(Rules::parse("reference+A7").unwrap(), Rules::Reference);
        assert!(Rules::Reference.has(Amendment::AttemptSync));
        assert!(Rules::Reference.has(Amendment::EmergencyQuorum));
        assert!(!Rules::Seed.has(Amendment::QuorumOverRegistry));
    }

    #[test]
    fn unknown_and_incoherent_rule_sets_are_refused() {
        assert!(matches!(
            Rules::parse("tendermint"),
            Err(RulesError::Unknown(_))
        ));
        assert!(matches!(
            Rules::parse("seed+A9"),
            Err(RulesError::Unknown(_))
        ));
        assert!(matches!(
            Rules::parse("seed*A1"),
            Err(RulesError::Unknown(_))
        ));
        let e = Rules::parse("seed+A3").unwrap_err();
        assert_eq!(
            e,
            RulesError::Incoherent {
                rules: "seed+A3".into(),
                amendment: "A3",
                requires: "A1"
            }
        );
        assert!(Rules::parse("reference-A1").is_err());
    }
}
