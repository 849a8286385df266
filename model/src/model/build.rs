//! Building the model of a configuration: the actors, the height's facts
//! every state shares ([`Info`]) and the network.

use super::*;

impl TcModel {
    /// Builds the model of `cfg`.
    pub fn new(cfg: &ModelConfig) -> Result<TcModel, ConfigError> {
        let built = cfg.build()?;
        let n = cfg.tiers.len();
        let ids: Vec<Id> = (0..n).map(Id::from).collect();
        let peers = |i: usize| {
            ids.iter()
                .copied()
                .filter(|j| usize::from(*j) != i)
                .collect::<Vec<_>>()
        };
        // The first member's view of the height gives its leaders and blocks.
        let first = (0..n).find(|&i| cfg.member_at(i, 1)).unwrap_or(0);
        let ctx0 = &built.contexts[first];
        let hc = HeightCtx::new(ctx0, built.tip.height + 1, built.tip.hash, cfg.date());
        let bc = hc.block_context().clone();
        let orch = cfg.orchestrator();
        let leader_of = |a: u32| {
            hc.leader(ctx0, a).map(|p| {
                let id = &built.registry.at_position(p as usize).node_id;
                built.directory.index_of(id).expect("member")
            })
        };
        let mut labels = BTreeMap::new();
        let mut valid_blocks = BTreeMap::new();
        let emergency = bc.emergency.clone();
        labels.insert(emergency.hash(), "E".to_string());
        let mut byz_proposals: BTreeMap<usize, Vec<Proposal>> = BTreeMap::new();
        for a in 0..=cfg.max_attempt + 1 {
            let p = plan(cfg.rules, &orch, a);
            if p.kind == BlockKind::Emergency {
                valid_blocks
                    .entry(emergency.hash())
                    .or_insert_with(|| (emergency.clone(), a));
            }
            let Some(l) = leader_of(a) else { continue };
            let id = built.directory.member(l).node_id.clone();
            let prefix = if p.kind == BlockKind::RewardOnly {
                "R"
            } else {
                "B"
            };
            let mut add = |block: Block, label: String| {
                let h = block.hash();
                labels.entry(h).or_insert(label);
                valid_blocks
                    .entry(h)
                    .or_insert_with(|| (Arc::new(block), a))
                    .0
                    .clone()
            };
            if cfg.is_honest(l) {
                add(
                    bc.build(p.kind, &id, &built.mempool),
                    format!("{prefix}{a}·{id}"),
                );
            } else if a <= cfg.max_attempt && !cfg.behaviour.is_silent() {
                let mut blocks = vec![add(
                    bc.build(p.kind, &id, &built.mempool),
                    format!("{prefix}{a}·{id}"),
                )];
                if cfg.behaviour.equivocate && p.kind == BlockKind::Normal {
                    let alt = [Transaction::transfer(
                        format!("equivocation-{a}").as_bytes(),
                    )];
                    blocks.push(add(
                        bc.build(p.kind, &id, &alt),
                        format!("{prefix}{a}'·{id}"),
                    ));
                }
                for block in blocks {
                    byz_proposals.entry(l).or_default().push(Proposal {
                        height: 1,
                        attempt: a,
                        proposer: id.clone(),
                        block,
                        valid_attempt: None,
                        justification: None,
                    });
                }
            }
        }
        if let Some((registry2, contexts2)) = built.later.first() {
            Self::add_height2_blocks(
                cfg,
                registry2,
                contexts2,
                &built,
                &mut valid_blocks,
                &mut labels,
            );
        }
        let emergency_attempts: Vec<u32> = (0..=cfg.max_attempt)
            .filter(|a| plan(cfg.rules, &orch, *a).leader == LeaderRule::Leaderless)
            .collect();
        let b = &cfg.behaviour;
        let two_blocks_in_an_attempt = byz_proposals.values().any(|ps| {
            ps.iter()
                .enumerate()
                .any(|(i, p)| ps[..i].iter().any(|q| q.attempt == p.attempt))
        });
        let kind_batches = cfg.votes == VoteDelivery::Batched
            && !cfg.byzantine.is_empty()
            && cfg.rules.has(Amendment::TwoStepLocking)
            && (b.commit_any
                || (b.vote_any && (!emergency_attempts.is_empty() || two_blocks_in_an_attempt)));
        let weights = hc.weights().clone();
        let answers = cfg.network == Network::Lossy || cfg.timing.starts_apart();
        let actors: Vec<McActor> = (0..n)
            .map(|i| {
                let ctx = built.contexts[i].clone();
                if cfg.is_honest(i) {
                    McActor::Honest(Honest {
                        init: NodeState::new(built.tip),
                        ctx,
                        next_ctx: built
                            .later
                            .first()
                            .filter(|_| cfg.member_at(i, 1))
                            .and_then(|(_, c)| c[i].clone()),
                        leaves: cfg.heights == 2 && !cfg.member_at(i, 2),
                        joins: (!cfg.member_at(i, 1)).then(|| built.registry.clone()),
                        directory: built.directory.clone(),
                        date: cfg.date(),
                        mempool: built.mempool.clone(),
                        presynchronized: !cfg.phase1,
                        starts_apart: cfg.timing.starts_apart(),
                        clocked: cfg.timing == Timing::Clocked,
                        max_attempt: cfg.max_attempt,
                        peers: peers(i),
                        height1_peers: peers(i)
                            .into_iter()
                            .filter(|&j| answers || cfg.member_at(usize::from(j), 1))
                            .collect(),
                        answers,
                    })
                } else {
                    let keypair = ctx.keypair().clone();
                    let proposals = byz_proposals
                        .remove(&i)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|p| p.sign(&keypair))
                        .collect();
                    let pos = built.registry.position_of(ctx.id()).expect("member");
                    McActor::Byzantine(Box::new(Adversary {
                        id: ctx.id().clone(),
                        keypair,
                        behaviour: cfg.behaviour,
                        proposals,
                        emergency_attempts: emergency_attempts.clone(),
                        any_blocks: valid_blocks.keys().copied().collect(),
                        two_step: cfg.rules.has(Amendment::TwoStepLocking),
                        weight: weights.weight(pos),
                        max_attempt: cfg.max_attempt,
                        peers: peers(i),
                        forger: cfg.behaviour.forge.then(|| Forger {
                            id: ctx.id().clone(),
                            height: 1,
                            blocks: valid_blocks
                                .iter()
                                .map(|(h, (b, _))| (*h, b.clone()))
                                .collect(),
                            voters: (0..built.registry.len())
                                .map(|p| {
                                    let id = built.registry.at_position(p).node_id.clone();
                                    (id, (p, weights.weight(p)))
                                })
                                .collect(),
                            quorum: weights.quorum(),
                            leads: (1..=cfg.max_attempt)
                                .filter(|&a| {
                                    plan(cfg.rules, &orch, a).leader != LeaderRule::Leaderless
                                        && leader_of(a) == Some(i)
                                })
                                .collect(),
                        }),
                    }))
                }
            })
            .collect();
        let network = match cfg.network {
            // Under partial synchrony too the network is the set of messages
            // sent so far: a redelivery changes nothing, so "every effective
            // delivery happened" is exactly "every message was delivered".
            Network::Async | Network::Gst(_) => SrNetwork::new_unordered_duplicating([]),
            Network::Lossy => SrNetwork::new_unordered_nonduplicating([]),
        };
        let inner = ActorModel::new((), ())
            .actors(actors)
            .init_network(network)
            .lossy_network(if cfg.network == Network::Lossy {
                LossyNetwork::Yes
            } else {
                LossyNetwork::No
            });
        let info = Arc::new(Info {
            kind_batches,
            cfg: cfg.clone(),
            honest: (0..n).filter(|&i| cfg.is_honest(i)).collect(),
            valid_blocks,
            labels,
            emergency: emergency.hash(),
            edges_checked: AtomicU64::new(0),
            registry: built.registry.clone(),
            directory: built.directory.clone(),
            acyclicity_violation: std::sync::Mutex::new(None),
            shown: std::sync::Mutex::new(None),
            contexts: built.contexts.clone(),
            later: built.later.clone(),
            panicked: std::sync::Mutex::new(None),
            stop: std::sync::atomic::AtomicBool::new(false),
            cut: std::sync::atomic::AtomicBool::new(false),
            stop_at_violation: std::sync::atomic::AtomicBool::new(false),
            reporter: std::sync::OnceLock::new(),
        });
        Ok(TcModel {
            inner,
            info,
            effective_only: false,
        })
    }

    /// Two heights: the blocks valid at height 2 on each block valid at
    /// height 1 (R3, R4.3, R7.3 as there, under height 2's registry), each
    /// with the first attempt that proposes it. The adversary is silent, so
    /// only honest leaders' blocks and the emergency block.
    fn add_height2_blocks(
        cfg: &ModelConfig,
        registry2: &Arc<time_consensus::Registry>,
        contexts2: &[Option<Arc<time_consensus::Context>>],
        built: &crate::config::Built,
        valid: &mut BTreeMap<Hash32, (Arc<Block>, u32)>,
        labels: &mut BTreeMap<Hash32, String>,
    ) {
        let Some(ctx) = contexts2.iter().flatten().next() else {
            return;
        };
        let orch = cfg.orchestrator();
        let tips: Vec<(Hash32, String)> = valid
            .keys()
            .map(|h| (*h, labels.get(h).cloned().unwrap_or_default()))
            .collect();
        for (tip, l1) in tips {
            let hc = HeightCtx::new(ctx, 2, tip, cfg.date());
            let bc = hc.block_context();
            for a in 0..=cfg.max_attempt + 1 {
                let p = plan(cfg.rules, &orch, a);
                let (block, label) = if p.kind == BlockKind::Emergency {
                    ((*bc.emergency).clone(), format!("{l1}/E"))
                } else {
                    let Some(pos) = hc.leader(ctx, a) else {
                        continue;
                    };
                    let id = registry2.at_position(pos as usize).node_id.clone();
                    let Some(i) = built.directory.index_of(&id) else {
                        continue;
                    };
                    if !cfg.is_honest(i) {
                        continue;
                    }
                    let prefix = if p.kind == BlockKind::RewardOnly {
                        "R"
                    } else {
                        "B"
                    };
                    (
                        bc.build(p.kind, &id, &built.mempool),
                        format!("{l1}/{prefix}{a}·{id}"),
                    )
                };
                let h = block.hash();
                labels.entry(h).or_insert(label);
                valid.entry(h).or_insert_with(|| (Arc::new(block), a));
            }
        }
    }
}
