//! Phase 2: weighted leader election.
//!
//! [`seed`] reproduces the deployed `LeaderElector` bit for bit (S2.2-S2.5):
//! date-based seed, list order, modulo pick, rotation excluding only the
//! original leader, and the keyless "VRF proof".
//!
//! [`Election`] is the reference election (R2.4-R2.7): integer weights in
//! canonical order, a seed from chain data, an unbiased pick by rejection
//! sampling over prefix sums with binary search, and exclusion of every
//! earlier leader of the height. The O(n) prefix pass runs once per height;
//! each attempt costs two SHA-256 calls, a binary search and a walk over the
//! (few) excluded leaders.

use crate::encoding::{sha256, tag};
use crate::primitives::{Date, Hash32, NodeId};
use crate::registry::{MasternodeInfo, Registry};
use crate::weight::{reference_member_weight, seed_member_weight};
use serde::{Deserialize, Serialize};

/// The weights of a height, in canonical order (R2.2, R2.3), with the quorum
/// threshold over their total (R5.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HeightWeights {
    weights: Vec<u64>,
    total: u64,
    quorum: u64,
}

/// Largest total weight of a height (R2.1): twice it, plus one, still fits in
/// `u64`. Registry weights stay below 2^46 (R2.2); only weights given
/// directly can come near it.
pub const MAX_TOTAL_WEIGHT: u64 = 1 << 62;

/// Why a list of weights cannot be the weights of a height (R2.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightsError {
    /// More weights than a registry has members.
    #[error("{count} weights; at most {max}, one per registry member")]
    TooMany {
        /// Number of weights given.
        count: u64,
        /// [`Registry::MAX_MEMBERS`].
        max: u64,
    },
    /// The weights sum to more than [`MAX_TOTAL_WEIGHT`].
    #[error("the weights up to canonical position {position} already sum to more than {max}")]
    TotalTooLarge {
        /// First canonical position at which the running sum exceeds `max`.
        position: u64,
        /// [`MAX_TOTAL_WEIGHT`].
        max: u64,
    },
}

/// `ceil(2 * total / 3)`, the quorum threshold over `total` weight (R5.3).
/// Computed as `total - floor(total / 3)`, which is equal and cannot
/// overflow for any `u64`.
pub fn quorum_threshold(total: u64) -> u64 {
    total - total / 3
}

impl HeightWeights {
    /// Reference weights on the chain date of the height (R2.2, R2.3).
    pub fn reference(registry: &Registry, chain_date: Date) -> Self {
        Self::from_fn(registry, |m| reference_member_weight(m, chain_date))
    }

    /// Seed weights on a node's local date (S2.1), for rule sets that take
    /// weights from the registry (A2) but keep the seed election.
    pub fn seed(registry: &Registry, local_date: Date) -> Self {
        Self::from_fn(registry, |m| seed_member_weight(m, local_date))
    }

    /// One pass over the registry in canonical order, summing as it goes.
    /// Infallible: at most 2^24 members (R2.1) of weight at most 2 400 000
    /// (R2.2; a seed weight is at most 24) sum to less than 2^46.
    fn from_fn(registry: &Registry, f: impl Fn(&MasternodeInfo) -> u64) -> Self {
        let mut total = 0u64;
        let weights: Vec<u64> = registry
            .canonical()
            .iter()
            .map(|&i| {
                let w = f(registry.member(i as usize));
                total += w;
                w
            })
            .collect();
        debug_assert!(total < 1 << 46);
        HeightWeights {
            quorum: quorum_threshold(total),
            weights,
            total,
        }
    }

    /// Weights given directly, in canonical order: at most
    /// [`Registry::MAX_MEMBERS`] of them summing to at most
    /// [`MAX_TOTAL_WEIGHT`] (R2.1).
    pub fn from_weights(weights: Vec<u64>) -> Result<Self, WeightsError> {
        if weights.len() > Registry::MAX_MEMBERS {
            return Err(WeightsError::TooMany {
                count: weights.len() as u64,
                max: Registry::MAX_MEMBERS as u64,
            });
        }
        let mut total = 0u64;
        for (pos, &w) in weights.iter().enumerate() {
            total = total
                .checked_add(w)
                .filter(|&t| t <= MAX_TOTAL_WEIGHT)
                .ok_or(WeightsError::TotalTooLarge {
                    position: pos as u64,
                    max: MAX_TOTAL_WEIGHT,
                })?;
        }
        Ok(HeightWeights {
            quorum: quorum_threshold(total),
            weights,
            total,
        })
    }

    /// Weight of the member at canonical position `pos`.
    pub fn weight(&self, pos: usize) -> u64 {
        self.weights[pos]
    }

    /// All weights, canonical order.
    pub fn as_slice(&self) -> &[u64] {
        &self.weights
    }

    /// Sum of all weights.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// `ceil(2 * total / 3)`.
    pub fn quorum(&self) -> u64 {
        self.quorum
    }
}

/// The reference election of one height (R2.4-R2.7).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Election {
    /// `prefix[i]` = sum of the weights at canonical positions `0..=i`.
    prefix: Vec<u64>,
}

/// The seed of attempt `attempt` at `height` on top of `previous_hash` (R2.4):
/// SHA-256 of the canonical encoding `tag::ELECTION || previous_hash ||
/// height || attempt`, written into a stack buffer, as every attempt of
/// every height computes one.
pub fn election_seed(previous_hash: &Hash32, height: u64, attempt: u32) -> Hash32 {
    const TAG: usize = 4 + tag::ELECTION.len();
    let mut buf = [0u8; TAG + 32 + 8 + 4];
    buf[..4].copy_from_slice(&(tag::ELECTION.len() as u32).to_le_bytes());
    buf[4..TAG].copy_from_slice(tag::ELECTION);
    buf[TAG..TAG + 32].copy_from_slice(&previous_hash.0);
    buf[TAG + 32..TAG + 40].copy_from_slice(&height.to_le_bytes());
    buf[TAG + 40..].copy_from_slice(&attempt.to_le_bytes());
    sha256(&buf)
}

/// An unbiased draw in `0..space` from `seed` (R2.5): the first of
/// `u64_le(SHA-256(seed || c_le32)[0..8])`, c = 0, 1, ..., that lies below the
/// largest multiple of `space` not above 2^64, reduced modulo `space`.
pub fn unbiased_draw(seed: &Hash32, space: u64) -> u64 {
    assert!(space > 0, "draw from an empty range");
    // 2^64 mod space: values at or above 2^64 - rem would bias the modulo.
    let rem = (u64::MAX % space + 1) % space;
    let mut buf = [0u8; 36];
    buf[..32].copy_from_slice(&seed.0);
    for c in 0u32.. {
        buf[32..].copy_from_slice(&c.to_le_bytes());
        let d = sha256(&buf);
        let r = d.first_u64_le();
        if rem == 0 || r <= u64::MAX - rem {
            return r % space;
        }
    }
    unreachable!("2^32 rejections in a row")
}

impl Election {
    /// The one O(n) pass of the height: prefix sums of the weights.
    pub fn new(weights: &HeightWeights) -> Self {
        let mut acc = 0u64;
        let prefix = weights
            .as_slice()
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        Election { prefix }
    }

    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.prefix.len()
    }

    /// True if there are no candidates.
    pub fn is_empty(&self) -> bool {
        self.prefix.is_empty()
    }

    fn weight(&self, pos: usize) -> u64 {
        self.prefix[pos] - if pos == 0 { 0 } else { self.prefix[pos - 1] }
    }

    fn total(&self) -> u64 {
        self.prefix.last().copied().unwrap_or(0)
    }

    /// Picks a canonical position with probability proportional to weight
    /// among those not in `excluded` (sorted ascending, no repeats) (R2.6).
    /// `None` if every remaining weight is zero.
    pub fn pick(&self, seed: &Hash32, excluded: &[u32]) -> Option<u32> {
        let excluded_weight: u64 = excluded.iter().map(|&p| self.weight(p as usize)).sum();
        let space = self.total() - excluded_weight;
        if space == 0 {
            return None;
        }
        // Map the draw from the reduced range onto the full one by stepping
        // over each excluded interval that starts at or before it.
        let mut point = unbiased_draw(seed, space);
        for &p in excluded {
            let start = self.prefix[p as usize] - self.weight(p as usize);
            if start <= point {
                point += self.weight(p as usize);
            } else {
                break;
            }
        }
        // At most 2^24 positions (R2.1, `HeightWeights`): fits in u32.
        Some(self.prefix.partition_point(|&x| x <= point) as u32)
    }
}

/// Leaders of successive attempts of one height (R2.7): attempt `a` excludes
/// every leader of attempts `0..a`, and the exclusion set starts afresh once
/// it holds every member.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct LeaderSchedule {
    leaders: Vec<u32>,
    excluded: Vec<u32>,
}

impl LeaderSchedule {
    /// An empty schedule.
    pub fn new() -> Self {
        Self::default()
    }

    /// Leaders so far, by attempt, as canonical positions.
    pub fn leaders(&self) -> &[u32] {
        &self.leaders
    }

    /// The leader of `attempt`, extending the schedule as needed.
    pub fn leader(
        &mut self,
        election: &Election,
        previous_hash: &Hash32,
        height: u64,
        attempt: u32,
    ) -> u32 {
        while self.leaders.len() <= attempt as usize {
            if self.excluded.len() >= election.len() {
                self.excluded.clear();
            }
            let a = self.leaders.len() as u32;
            let seed = election_seed(previous_hash, height, a);
            let pos = match election.pick(&seed, &self.excluded) {
                Some(p) => p,
                None => {
                    // Only zero-weight members left: start afresh.
                    self.excluded.clear();
                    election.pick(&seed, &[]).unwrap_or(0)
                }
            };
            self.leaders.push(pos);
            let at = self.excluded.partition_point(|&x| x < pos);
            self.excluded.insert(at, pos);
        }
        self.leaders[attempt as usize]
    }
}

/// The seed rules' election, bit for bit.
pub mod seed {
    use super::*;

    /// The deployed `LeaderSelection`.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct LeaderSelection {
        /// Elected node.
        pub leader: NodeId,
        /// The seed used (32 bytes; 36 for a rotation).
        #[serde(with = "hex_vec")]
        pub vrf_seed: Vec<u8>,
        /// `SHA-256(seed || "VRF_PROOF" || leader)`: no key, so it proves nothing.
        pub vrf_proof: Hash32,
        /// The leader's weight.
        pub weight: u64,
        /// How many candidates took part.
        pub candidates: usize,
    }

    mod hex_vec {
        use serde::{Deserialize, Deserializer, Serializer};
        pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&crate::primitives::to_hex(v))
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            let s = String::deserialize(d)?;
            crate::primitives::from_hex_vec(&s).map_err(serde::de::Error::custom)
        }
    }

    /// S2.2: `SHA-256("TIME_COIN_VRF_SEED" || height_le64 || date "YYYY-MM-DD")`.
    pub fn vrf_seed(height: u64, date: Date) -> Vec<u8> {
        let mut buf = Vec::with_capacity(36);
        buf.extend_from_slice(b"TIME_COIN_VRF_SEED");
        buf.extend_from_slice(&height.to_le_bytes());
        buf.extend_from_slice(date.to_string().as_bytes());
        sha256(&buf).0.to_vec()
    }

    /// S2.5: `SHA-256(seed || "VRF_PROOF" || leader)`.
    pub fn vrf_proof(seed: &[u8], leader: &NodeId) -> Hash32 {
        let mut buf = Vec::with_capacity(seed.len() + 9 + leader.as_str().len());
        buf.extend_from_slice(seed);
        buf.extend_from_slice(b"VRF_PROOF");
        buf.extend_from_slice(leader.as_str().as_bytes());
        sha256(&buf)
    }

    /// S2.3: the modulo pick over the list, in list order. Returns the index
    /// and the weight reported (0 when the total is 0, as deployed). Sums wrap
    /// like the deployed release build.
    pub fn weighted_selection(seed: &[u8], weights: &[u64]) -> (usize, u64) {
        let total = weights.iter().fold(0u64, |a, w| a.wrapping_add(*w));
        if total == 0 {
            return (0, 0);
        }
        let mut buf = Vec::with_capacity(seed.len() + 18);
        buf.extend_from_slice(seed);
        buf.extend_from_slice(b"WEIGHTED_SELECTION");
        let h = sha256(&buf);
        let r = h.first_u64_le();
        let point = r % total;
        let mut cumulative = 0u64;
        for (i, w) in weights.iter().enumerate() {
            cumulative = cumulative.wrapping_add(*w);
            if point < cumulative {
                return (i, *w);
            }
        }
        (weights.len() - 1, weights[weights.len() - 1])
    }

    fn select(seed: Vec<u8>, date: Date, candidates: &[&MasternodeInfo]) -> LeaderSelection {
        let weights: Vec<u64> = candidates
            .iter()
            .map(|m| seed_member_weight(m, date))
            .collect();
        let (i, weight) = weighted_selection(&seed, &weights);
        let leader = candidates[i].node_id.clone();
        LeaderSelection {
            vrf_proof: vrf_proof(&seed, &leader),
            vrf_seed: seed,
            leader,
            weight,
            candidates: candidates.len(),
        }
    }

    /// `elect_leader` (S2.2-S2.5); `None` for an empty list.
    pub fn elect_leader(
        height: u64,
        date: Date,
        masternodes: &[MasternodeInfo],
    ) -> Option<LeaderSelection> {
        if masternodes.is_empty() {
            return None;
        }
        let all: Vec<&MasternodeInfo> = masternodes.iter().collect();
        Some(select(vrf_seed(height, date), date, &all))
    }

    /// `rotate_leader` (S2.6): seed `|| rotation_count_le32`, only
    /// `current_leader` removed. `None` if nobody is left.
    pub fn rotate_leader(
        height: u64,
        date: Date,
        masternodes: &[MasternodeInfo],
        current_leader: &NodeId,
        rotation_count: u32,
    ) -> Option<LeaderSelection> {
        if masternodes.is_empty() {
            return None;
        }
        let mut seed = vrf_seed(height, date);
        seed.extend_from_slice(&rotation_count.to_le_bytes());
        let rest: Vec<&MasternodeInfo> = masternodes
            .iter()
            .filter(|m| m.node_id != *current_leader)
            .collect();
        if rest.is_empty() {
            return None;
        }
        Some(select(seed, date, &rest))
    }

    /// `verify_proof`: recomputes the public hash.
    pub fn verify_proof(height: u64, date: Date, leader: &NodeId, proof: &[u8]) -> bool {
        vrf_proof(&vrf_seed(height, date), leader).0 == proof
    }
}

#[cfg(test)]
mod tests;
