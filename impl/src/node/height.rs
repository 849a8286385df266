//! What follows from the inputs that start a height: its weights, leaders
//! and block context.

use super::*;

/// The weights of `height` under `rules`: from the chain's date for the
/// height (R2.2) or, under the seed rules, from the node's local `date`
/// (S2.1).
pub fn height_weights(
    rules: Rules,
    registry: &Registry,
    config: &OrchestratorConfig,
    height: u64,
    date: Date,
) -> HeightWeights {
    if rules.has(Amendment::ChainElection) {
        HeightWeights::reference(registry, config.chain_date(height))
    } else {
        HeightWeights::seed(registry, date)
    }
}

/// The blocks of `height` above `previous_hash` under `registry` (R3):
/// its timestamp, rewards and bounds from `config`.
pub(super) fn block_context(
    config: &OrchestratorConfig,
    registry: &Registry,
    height: u64,
    previous_hash: Hash32,
) -> BlockContext {
    BlockContext::new(
        height,
        previous_hash,
        config.block_timestamp(height),
        registry,
        &config.rewards,
        config.max_block_transactions,
        config.max_block_bytes,
    )
}

/// Everything about a height that follows from the inputs that started it;
/// compared and hashed by those inputs alone.
#[derive(Debug)]
pub struct HeightCtx {
    pub(super) height: u64,
    pub(super) previous_hash: Hash32,
    pub(super) date: Date,
    pub(super) weights: HeightWeights,
    pub(super) election: Option<Election>,
    pub(super) leaders: Vec<Option<u32>>,
    pub(super) block: BlockContext,
    pub(super) declared_weight: u64,
}

impl PartialEq for HeightCtx {
    fn eq(&self, o: &Self) -> bool {
        (self.height, self.previous_hash, self.date) == (o.height, o.previous_hash, o.date)
    }
}
impl Eq for HeightCtx {}
impl std::hash::Hash for HeightCtx {
    fn hash<H: Hasher>(&self, h: &mut H) {
        std::hash::Hash::hash(&(self.height, self.previous_hash, self.date), h)
    }
}

impl HeightCtx {
    /// The context of `height` above `previous_hash`, started on the local
    /// `date`: weights (R2.2, S2.1), leaders (R2.7, S2.6) and blocks (R3).
    pub fn new(ctx: &Context, height: u64, previous_hash: Hash32, date: Date) -> Self {
        let reg = &ctx.registry;
        let cfg = &ctx.config;
        let chain = ctx.rules.has(Amendment::ChainElection);
        let weights = height_weights(ctx.rules, reg, cfg, height, date);
        let election = chain.then(|| Election::new(&weights));
        let block = block_context(cfg, reg, height, previous_hash);
        let declared_weight = if ctx.rules.has(Amendment::RegistryWeights) {
            weights.weight(ctx.my_pos)
        } else {
            seed_member_weight(reg.at_position(ctx.my_pos), date)
        };
        let mut hc = HeightCtx {
            height,
            previous_hash,
            date,
            weights,
            election,
            leaders: Vec::new(),
            block,
            declared_weight,
        };
        let horizon = cfg.fallback_config.max_leader_rotations + 2 + cfg.max_future_attempts;
        let mut schedule = LeaderSchedule::new();
        hc.leaders = (0..=horizon)
            .map(|a| match (&hc.election, plan(ctx.rules, cfg, a).leader) {
                (Some(e), LeaderRule::Scheduled) => {
                    Some(schedule.leader(e, &previous_hash, height, a))
                }
                _ => hc.compute_leader(ctx, a),
            })
            .collect();
        hc
    }

    /// The elected leader of `attempt` as a canonical position (R2.7, S2.6).
    pub(super) fn compute_leader(&self, ctx: &Context, attempt: u32) -> Option<u32> {
        let reg = &ctx.registry;
        let pos = |id: &NodeId| reg.position_of(id).map(|p| p as u32);
        match plan(ctx.rules, &ctx.config, attempt).leader {
            LeaderRule::Leaderless => None,
            LeaderRule::Scheduled => {
                // Built whenever A5 is applied, which is what schedules.
                let e = self.election.as_ref()?;
                let mut s = LeaderSchedule::new();
                Some(s.leader(e, &self.previous_hash, self.height, attempt))
            }
            LeaderRule::Original => {
                seed_election::elect_leader(self.height, self.date, reg.members())
                    .and_then(|s| pos(&s.leader))
            }
            LeaderRule::SeedRotation(k) => {
                let original = seed_election::elect_leader(self.height, self.date, reg.members())?;
                seed_election::rotate_leader(
                    self.height,
                    self.date,
                    reg.members(),
                    &original.leader,
                    k,
                )
                .or(Some(original))
                .and_then(|s| pos(&s.leader))
            }
        }
    }

    /// The elected leader of `attempt` as a canonical position (none for an
    /// emergency attempt).
    pub fn leader(&self, ctx: &Context, attempt: u32) -> Option<u32> {
        match self.leaders.get(attempt as usize) {
            Some(l) => *l,
            None => self.compute_leader(ctx, attempt),
        }
    }

    /// The height's weights.
    pub fn weights(&self) -> &HeightWeights {
        &self.weights
    }

    /// What blocks of this height must be, and its emergency block.
    pub fn block_context(&self) -> &BlockContext {
        &self.block
    }

    /// The local date the height was started with.
    pub fn date(&self) -> Date {
        self.date
    }
}
