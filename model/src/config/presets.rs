//! The named configurations (`tcm configs`): each builds on the reference
//! or seed base, or on another preset by name.

use super::*;

/// One named configuration.
pub struct Preset {
    /// Name.
    pub name: &'static str,
    /// What it shows.
    pub about: &'static str,
    /// Builds it.
    pub build: fn() -> ModelConfig,
}

/// The preset `name`, for another preset to build on (every preset is
/// built by a test, so a wrong name fails there).
fn like(name: &str) -> ModelConfig {
    ModelConfig::preset(name).expect("a preset's name")
}

fn base(name: &str, rules: Rules) -> ModelConfig {
    ModelConfig {
        name: name.to_string(),
        rules,
        tiers: vec![Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free],
        reputation_milli: 1000,
        byzantine: vec![],
        behaviour: Byzantine::SILENT,
        budget: Some(Budget::THIRD),
        max_attempt: 0,
        network: Network::Async,
        timing: Timing::LockStep,
        starts_secs: vec![],
        phase1: false,
        emergency: true,
        max_leader_rotations: 2,
        mempool: 0,
        votes: VoteDelivery::Batched,
        lose_proposals: false,
        lose_later_proposals: false,
        heights: 1,
        leaves: vec![],
        joins: vec![],
    }
}

/// The named configurations.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "reference",
        about: "reference rules; masternodes weighing 8/4/2/1, the Bronze one (2 of 15) Byzantine and withholding everything; the full ladder (attempt 0, two rotations, reward-only, two emergency attempts); synchronous timers, honest leaders' proposals may be lost: every property",
        build: || ModelConfig {
            byzantine: vec![2],
            behaviour: Byzantine::SILENT,
            max_attempt: 5,
            network: Network::Gst(0),
            lose_proposals: true,
            ..base("reference", Rules::Reference)
        },
    },
    Preset {
        name: "reference-active",
        about: "as `reference`, but the Byzantine node equivocates as leader and approves and commits every block it sees (what it sends arrives in time)",
        build: || ModelConfig {
            behaviour: Byzantine::ACTIVE,
            ..like("reference")
        }
        .named("reference-active"),
    },
    Preset {
        name: "reference-gst",
        about: "reference rules, the Silver masternode (4 of 15) Byzantine and withholding; ladder attempt 0, reward-only, two emergency attempts; timers fire at any moment until the first emergency attempt (the network stabilizes late): every property",
        build: || ModelConfig {
            byzantine: vec![1],
            max_leader_rotations: 0,
            max_attempt: 3,
            network: Network::Gst(2),
            ..base("reference-gst", Rules::Reference)
        },
    },
    Preset {
        name: "reference-gst-one-emergency",
        about: "as `reference-gst` with a single emergency attempt: liveness fails, a node having entered it before the network stabilized",
        build: || ModelConfig {
            max_attempt: 2,
            ..like("reference-gst")
        }
        .named("reference-gst-one-emergency"),
    },
    Preset {
        name: "reference-async",
        about: "reference rules under full asynchrony (loss, reordering, duplication, timers at any moment), the Silver masternode Byzantine and withholding, ladder attempt 0, reward-only, emergency: safety",
        build: || ModelConfig {
            byzantine: vec![1],
            max_leader_rotations: 0,
            max_attempt: 2,
            network: Network::Async,
            ..base("reference-async", Rules::Reference)
        },
    },
    Preset {
        name: "reference-async-active",
        about: "reference rules under full asynchrony, the Bronze masternode Byzantine, equivocating and voting for everything, attempt 0: safety",
        build: || ModelConfig {
            byzantine: vec![2],
            behaviour: Byzantine::ACTIVE,
            max_attempt: 0,
            network: Network::Async,
            ..base("reference-async-active", Rules::Reference)
        },
    },
    Preset {
        name: "reference-five",
        about: "reference rules, five masternodes weighing 8/4/2/1/1 (quorum 11 of 16), the Silver one (4 of 16) Byzantine, withholding as leader of attempt 0; ladder attempt 0, reward-only, two emergency attempts; synchronous timers, honest leaders' proposals may be lost: every property",
        build: || ModelConfig {
            tiers: vec![Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free, Tier::Free],
            byzantine: vec![1],
            max_leader_rotations: 0,
            max_attempt: 3,
            network: Network::Gst(0),
            lose_proposals: true,
            ..base("reference-five", Rules::Reference)
        },
    },
    Preset {
        name: "reference-five-equal",
        about: "as `reference-five` with five masternodes of equal weight (quorum 4 of 5), the second (1 of 5) Byzantine, withholding as leader of attempt 0: every property",
        build: || ModelConfig {
            tiers: vec![Tier::Free; 5],
            ..like("reference-five")
        }
        .named("reference-five-equal"),
    },
    Preset {
        name: "reference-two-heights",
        about: "reference rules over two consecutive heights, masternodes weighing 8/4/2/1, the Bronze one Byzantine and withholding everything, the Free one deregistered at height 2 (quorum 10 of 15, then 28/3 of 14); at each height attempt 0, two rotations, reward-only, two emergency attempts; synchronous timers, honest leaders' proposals of height 1 may be lost: every property at both heights, height 2 live after each ending of height 1",
        build: || ModelConfig {
            byzantine: vec![2],
            max_attempt: 5,
            network: Network::Gst(0),
            lose_proposals: true,
            heights: 2,
            leaves: vec![3],
            ..base("reference-two-heights", Rules::Reference)
        },
    },
    Preset {
        name: "reference-two-heights-join",
        about: "as `reference-two-heights` with the registry changing more: the Silver and Free masternodes deregistered at height 2 and a second Gold one registered there, which joins from height 1's finality proof (R7.8); height 2's quorum (12 of 18) needs its vote: every property at both heights, height 2 live after each ending of height 1",
        build: || ModelConfig {
            tiers: vec![Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free, Tier::Gold],
            leaves: vec![1, 3],
            joins: vec![4],
            ..like("reference-two-heights")
        }
        .named("reference-two-heights-join"),
    },
    Preset {
        name: "reference-two-heights-lossy",
        about: "as `reference-two-heights` with honest leaders' proposals lost at both heights, down a ladder without rotations (attempt 0, reward-only, two emergency attempts): every property at both heights, height 2 live after each ending of height 1",
        build: || ModelConfig {
            max_leader_rotations: 0,
            max_attempt: 3,
            lose_later_proposals: true,
            ..like("reference-two-heights")
        }
        .named("reference-two-heights-lossy"),
    },
    Preset {
        name: "reference-five-equal-active",
        about: "reference rules under full asynchrony, five masternodes of equal weight, the second (1 of 5, leader of attempt 0) Byzantine, equivocating and voting for everything, attempt 0: safety",
        build: || ModelConfig {
            tiers: vec![Tier::Free; 5],
            byzantine: vec![1],
            behaviour: Byzantine::ACTIVE,
            max_attempt: 0,
            network: Network::Async,
            ..base("reference-five-equal-active", Rules::Reference)
        },
    },
    Preset {
        name: "reference-tight",
        about: "reference rules under full asynchrony with the Gold masternode (8 of 15, above a third) Byzantine and active: agreement breaks",
        build: || ModelConfig {
            byzantine: vec![0],
            budget: None,
            behaviour: Byzantine::ACTIVE,
            max_attempt: 1,
            network: Network::Async,
            ..base("reference-tight", Rules::Reference)
        },
    },
    Preset {
        name: "reference-third",
        about: "reference rules under full asynchrony, masternodes weighing 2/2/1/1, the first Bronze one (exactly a third) Byzantine and active: agreement breaks at the bound itself",
        build: || ModelConfig {
            tiers: vec![Tier::Bronze, Tier::Bronze, Tier::Free, Tier::Free],
            byzantine: vec![0],
            budget: None,
            behaviour: Byzantine::ACTIVE,
            max_attempt: 1,
            network: Network::Async,
            ..base("reference-third", Rules::Reference)
        },
    },
    Preset {
        name: "seed",
        about: "the deployed rules, 4 honest masternodes, ladder to the emergency block: agreement breaks",
        build: || ModelConfig {
            max_attempt: 3,
            ..base("seed", Rules::Seed)
        },
    },
    Preset {
        name: "seed-flaw1",
        about: "seed rules, emergency blocks off: one approving vote is consensus (flaw 1)",
        build: || ModelConfig {
            emergency: false,
            max_attempt: 1,
            ..base("seed-flaw1", Rules::Seed)
        },
    },
    Preset {
        name: "seed-flaw2",
        about: "seed rules with A1 (quorum over the registry), the Free masternode Byzantine declaring weight 1000: votes for other blocks and attempts are pooled and a declared weight counts (flaw 2; the shortest counterexample needs only the pooling)",
        build: || ModelConfig {
            byzantine: vec![3],
            behaviour: Byzantine {
                equivocate: false,
                vote_any: true,
                inflate_weight: true,
                late: false,
                commit_any: false,
                forge: false,
            },
            emergency: false,
            max_attempt: 1,
            ..base("seed-flaw2", Rules::parse("seed+A1").expect("valid rules"))
        },
    },
    Preset {
        name: "seed-flaw3",
        about: "seed rules with A1 and A2 (real quorums), emergency blocks off: no locking lets attempt 1 replace attempt 0's block (flaw 3)",
        build: || ModelConfig {
            emergency: false,
            max_attempt: 1,
            ..base("seed-flaw3", Rules::parse("seed+A1+A2").expect("valid rules"))
        },
    },
    Preset {
        name: "seed-flaw4",
        about: "seed rules with A1 and A2, ladder to the emergency block: a node takes the emergency block on its own while others finalized a real one (flaw 4)",
        build: || ModelConfig {
            max_attempt: 3,
            ..base("seed-flaw4", Rules::parse("seed+A1+A2").expect("valid rules"))
        },
    },
    Preset {
        name: "reference-A4",
        about: "the reference rules without A4, ladder shortened to attempt 0, reward-only, emergency: locking does not save a unilateral emergency block (forces A4)",
        build: || ModelConfig {
            max_leader_rotations: 0,
            max_attempt: 2,
            ..base("reference-A4", Rules::Reference.without(time_consensus::Amendment::EmergencyQuorum))
        },
    },
    Preset {
        name: "reference-active-leader",
        about: "as `reference-active`, but the Byzantine node is the Silver masternode (4 of 15), leader of attempt 0: it proposes two blocks there and approves and commits every block it sees; ladder attempt 0, reward-only, two emergency attempts: safety and liveness with an equivocating leader",
        build: || ModelConfig {
            byzantine: vec![1],
            max_leader_rotations: 0,
            max_attempt: 3,
            ..like("reference-active")
        }
        .named("reference-active-leader"),
    },
    Preset {
        name: "reference-active-ladder",
        about: "as `reference-active` (the Bronze masternode approving and committing every block it sees) down a ladder without rotations: attempt 0, reward-only, two emergency attempts; every ending reached",
        build: || ModelConfig {
            max_leader_rotations: 0,
            max_attempt: 3,
            ..like("reference-active")
        }
        .named("reference-active-ladder"),
    },
    Preset {
        name: "reference-phase1",
        about: "as `reference` with phase 1 (heartbeats, R1) before the attempts, to attempt 4 (the first emergency attempt): every property, the graph shown acyclic",
        build: || ModelConfig {
            byzantine: vec![2],
            behaviour: Byzantine::SILENT,
            max_attempt: 4,
            network: Network::Gst(0),
            lose_proposals: true,
            phase1: true,
            ..base("reference-phase1", Rules::Reference)
        },
    },
    Preset {
        name: "reference-commit-any",
        about: "as `reference-gst`, but the Silver masternode (4 of 15) sends commit votes for every block a leader could propose and the emergency block, in every attempt, with no approve quorum: every property",
        build: || ModelConfig {
            behaviour: Byzantine {
                commit_any: true,
                ..Byzantine::SILENT
            },
            ..like("reference-gst").named("reference-commit-any")
        },
    },
    Preset {
        name: "reference-locking",
        about: "reference rules, the Bronze masternode (2 of 15) Byzantine and withholding; attempt 0, one rotation, reward-only, emergency; timers fire at any moment in attempt 0 (the network stabilizes at attempt 1): every property, and the paths the locking rules (A3) exist for: a lock without a decision, a justified re-proposal accepted, a locked node approving another block, two blocks approve-certified",
        build: || ModelConfig {
            byzantine: vec![2],
            max_leader_rotations: 1,
            max_attempt: 3,
            network: Network::Gst(1),
            ..base("reference-locking", Rules::Reference)
        },
    },
    Preset {
        name: "reference-forge",
        about: "as `reference` to attempt 3 with one rotation, the Bronze masternode (2 of 15, leader of attempt 2) forging from every honest approve vote it can: the approve certificate of that vote and its own, the same with the vote's signed weight altered, and as leader re-proposals justified by it, by the altered one, or claiming a later valid attempt than it proves: every property",
        build: || ModelConfig {
            byzantine: vec![2],
            behaviour: Byzantine {
                forge: true,
                ..Byzantine::SILENT
            },
            max_leader_rotations: 1,
            max_attempt: 3,
            network: Network::Gst(0),
            lose_proposals: true,
            ..base("reference-forge", Rules::Reference)
        },
    },
    Preset {
        name: "reference-staggered",
        about: "reference rules, masternodes weighing 8/4/2 (the Bronze one silent), ladder attempt 0, reward-only, two emergency attempts, synchronous timers under staggered timing (each node starts when it likes and takes in what was sent to it before, lost or kept, or all but what its senders sent in their current attempt; timers of one attempt fire in the order nodes entered it, nothing relating timers of different attempts): agreement and validity; emergency liveness fails, with A7 and without, on a schedule real timers exclude (Silver starts first and runs two attempts within one of Gold's); on the clock the same start holds with A7",
        build: || ModelConfig {
            tiers: vec![Tier::Gold, Tier::Silver, Tier::Bronze],
            byzantine: vec![2],
            max_leader_rotations: 0,
            max_attempt: 3,
            network: Network::Gst(0),
            timing: Timing::Staggered,
            ..base("reference-staggered", Rules::Reference)
        },
    },
    Preset {
        name: "reference-clocked",
        about: "reference rules, masternodes weighing 8/4/2/1 (the Bronze one silent), ladder attempt 0, reward-only, two emergency attempts; timers last what R7.2 sets, on one clock, and the Gold masternode starts 40 s before the others: every property (under `reference-A7`, emergency liveness fails: Gold stays one attempt ahead for ever)",
        build: || ModelConfig {
            byzantine: vec![2],
            max_leader_rotations: 0,
            max_attempt: 3,
            network: Network::Gst(0),
            timing: Timing::Clocked,
            starts_secs: vec![0, 40, 40, 40],
            ..base("reference-clocked", Rules::Reference)
        },
    },
    Preset {
        name: "reference-async-rotations",
        about: "reference rules under full asynchrony, the Bronze masternode (2 of 15) Byzantine and withholding, three leader-driven attempts (attempt 0 and two rotations; Silver and Gold lead the first two, Bronze the third): safety, and every path the locking rules exist for",
        build: || ModelConfig {
            byzantine: vec![2],
            max_leader_rotations: 2,
            max_attempt: 2,
            network: Network::Async,
            ..base("reference-async-rotations", Rules::Reference)
        },
    },
    Preset {
        name: "reference-late-leader",
        about: "as `reference-active-leader`, but the Silver leader of attempt 0 (4 of 15) only equivocates, and sends each of its two blocks to whom it likes when it likes, after honest timeouts too (`late`): every property",
        build: || ModelConfig {
            behaviour: Byzantine {
                equivocate: true,
                late: true,
                ..Byzantine::SILENT
            },
            ..like("reference-active-leader")
        }
        .named("reference-late-leader"),
    },
];
