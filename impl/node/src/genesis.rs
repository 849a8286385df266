//! The files a member starts from: the genesis every member shares (the
//! registry, the rules, the protocol configuration, the chain's first tip),
//! its own key file, and its node file (addresses, data folder, interval).
//!
//! Everything is JSON, the form the conformance vectors already use for the
//! same objects (`spec/vectors/FORMAT.md`), so a registry or configuration
//! moves between a vector, the model and a running node unchanged.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time_consensus::node::NodeError;
use time_consensus::primitives::{from_hex, to_hex};
use time_consensus::registry::RegistryError;
use time_consensus::{
    Amendment, Context, Keypair, MasternodeInfo, NodeId, OrchestratorConfig, Registry, Rules,
    SignatureScheme, Tip,
};

/// The genesis file's format tag.
pub const GENESIS_FORMAT: &str = "time-node-genesis/1";

/// What every member of a network shares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Always [`GENESIS_FORMAT`].
    pub format: String,
    /// Signature scheme (a networked node requires ed25519).
    pub scheme: SignatureScheme,
    /// Rule set (a networked node requires A3's finality proofs).
    pub rules: Rules,
    /// The chain's first tip; height 1 is the first block produced.
    pub tip: Tip,
    /// Protocol parameters.
    pub config: OrchestratorConfig,
    /// The masternode registry.
    pub members: Vec<MasternodeInfo>,
}

/// A member's secret: the 32-byte ed25519 seed, in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// The member this key belongs to.
    pub node_id: NodeId,
    /// ed25519 secret seed, 64 hex digits.
    pub secret_seed: String,
}

/// How a member behaves: honest, or one of the model's Byzantine behaviours
/// that a network test can run (the node code is the same; the host alters
/// what leaves it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Sends what the node says.
    #[default]
    Honest,
    /// Sends nothing at all (a crashed or muted member).
    Silent,
    /// As leader, sends a second proposal for another block to half its
    /// peers, signed with its key (the model's `equivocate`).
    Equivocate,
    /// Approves and commits every block it sees proposed, in the attempt it
    /// was proposed for, double votes included (the model's `vote-any`).
    VoteAny,
    /// Builds certificates and re-proposals from the approve votes it
    /// receives, valid, tampered or claiming an unsupported attempt (the
    /// model's `forge-justification`, `time_consensus::forge`).
    ForgeJustification,
}

/// A member's own settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFile {
    /// The genesis file (relative paths are read from this file's folder).
    pub genesis: PathBuf,
    /// The key file.
    pub key_file: PathBuf,
    /// Where the store lives.
    pub data_dir: PathBuf,
    /// Where peers connect to this member.
    pub listen: SocketAddr,
    /// Every other member's address, by node id.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// Wall-clock pause between a finalized height and the start of the next
    /// (the deployed system: a day; the chain date still advances one day
    /// per height, R2.3).
    pub block_interval_ms: u64,
    /// Loopback address of the HTTP endpoint (`/metrics`, `/status`, `/tx`).
    #[serde(default)]
    pub http: Option<SocketAddr>,
    /// Behaviour (tests only).
    #[serde(default)]
    pub behaviour: Behaviour,
}

/// Why a member cannot start from its files.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not the JSON it should be.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A genesis of another format.
    #[error("genesis format is {got:?}, expected {GENESIS_FORMAT:?}")]
    Format {
        /// What the file says.
        got: String,
    },
    /// Symbolic signatures prove nothing on a network.
    #[error("a networked node needs ed25519 signatures, the genesis says {0:?}")]
    Scheme(SignatureScheme),
    /// Catch-up needs every decision to carry a finality proof (A3).
    #[error("rules {0} have no finality proofs (A3); a networked node cannot catch up under them")]
    NoFinalityProofs(Rules),
    /// Bad registry.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The node refuses its context (its key is not registered, bad config).
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A key file's seed is not 32 bytes of hex.
    #[error("{path}: secret_seed is not 64 hex digits")]
    BadSeed {
        /// The key file.
        path: PathBuf,
    },
    /// The key file names another member than the one its key is registered as.
    #[error("key file says {claimed}, the registry has this key as {registered}")]
    KeyMismatch {
        /// The key file's node id.
        claimed: NodeId,
        /// The registry's.
        registered: NodeId,
    },
    /// A peer that is not a member, or the member itself.
    #[error("peer {0} is not another member of the registry")]
    BadPeer(NodeId),
    /// A member without an address cannot be reached.
    #[error("no address for member {0}")]
    MissingPeer(NodeId),
    /// Metrics and the transaction API are for the operator only.
    #[error("http address {0} is not a loopback address")]
    NotLoopback(SocketAddr),
    /// Ports beyond 65535.
    #[error("the ports of this network do not fit below 65536")]
    Ports,
    /// An init plan whose lists disagree in length.
    #[error("init plan: every per-member list must have one entry per member")]
    Plan,
    /// An interval of zero or more than a day.
    #[error("block_interval_ms is {0}; it must be 1 to 86400000")]
    Interval(u64),
}

/// A member ready to run: its node context, chain start and settings.
#[derive(Debug)]
pub struct Setup {
    /// The node's static context.
    pub context: Context,
    /// The chain's first tip.
    pub genesis_tip: Tip,
    /// Settings, with paths resolved.
    pub node: NodeFile,
}

fn read(path: &Path) -> Result<Vec<u8>, SetupError> {
    std::fs::read(path).map_err(|source| SetupError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Reads a JSON file.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, SetupError> {
    serde_json::from_slice(&read(path)?).map_err(|source| SetupError::Json {
        path: path.to_owned(),
        source,
    })
}

/// Writes a JSON file, pretty-printed.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SetupError> {
    let io = |source| SetupError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| SetupError::Json {
        path: path.to_owned(),
        source,
    })?;
    bytes.push(b'\n');
    std::fs::write(path, bytes).map_err(io)
}

impl Genesis {
    /// Checks the genesis and builds its registry.
    pub fn registry(&self) -> Result<Arc<Registry>, SetupError> {
        if self.format != GENESIS_FORMAT {
            return Err(SetupError::Format {
                got: self.format.clone(),
            });
        }
        if self.scheme != SignatureScheme::Ed25519 {
            return Err(SetupError::Scheme(self.scheme));
        }
        if !self.rules.has(Amendment::TwoStepLocking) {
            return Err(SetupError::NoFinalityProofs(self.rules));
        }
        Ok(Arc::new(Registry::new(self.scheme, self.members.clone())?))
    }
}

impl Setup {
    /// Reads a node file, its genesis and key, and checks that they fit.
    pub fn load(node_file: &Path) -> Result<Setup, SetupError> {
        let mut node: NodeFile = read_json(node_file)?;
        let base = node_file.parent().unwrap_or(Path::new("."));
        for p in [&mut node.genesis, &mut node.key_file, &mut node.data_dir] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        let genesis: Genesis = read_json(&node.genesis)?;
        let registry = genesis.registry()?;
        let key: KeyFile = read_json(&node.key_file)?;
        let seed = from_hex::<32>(&key.secret_seed).map_err(|_| SetupError::BadSeed {
            path: node.key_file.clone(),
        })?;
        let keypair = Keypair::from_seed(genesis.scheme, seed);
        let context = Context::new(keypair, registry.clone(), genesis.rules, genesis.config)?;
        if context.id() != &key.node_id {
            return Err(SetupError::KeyMismatch {
                claimed: key.node_id,
                registered: context.id().clone(),
            });
        }
        for id in node.peers.keys() {
            if id == context.id() || registry.index_of(id).is_none() {
                return Err(SetupError::BadPeer(id.clone()));
            }
        }
        if let Some(m) = registry
            .members()
            .iter()
            .find(|m| &m.node_id != context.id() && !node.peers.contains_key(&m.node_id))
        {
            return Err(SetupError::MissingPeer(m.node_id.clone()));
        }
        if let Some(a) = node.http.filter(|a| !a.ip().is_loopback()) {
            return Err(SetupError::NotLoopback(a));
        }
        if !(1..=86_400_000).contains(&node.block_interval_ms) {
            return Err(SetupError::Interval(node.block_interval_ms));
        }
        Ok(Setup {
            context,
            genesis_tip: genesis.tip,
            node,
        })
    }
}

/// 32 bytes from the operating system's generator (no crate needed on the
/// Unix systems the node runs on).
pub fn random_seed() -> Result<[u8; 32], SetupError> {
    let path = Path::new("/dev/urandom");
    let mut seed = [0u8; 32];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(|source| SetupError::Io {
            path: path.to_owned(),
            source,
        })?;
    Ok(seed)
}

/// What `init` lays out.
#[derive(Clone, Debug)]
pub struct InitPlan {
    /// Folder to write into.
    pub dir: PathBuf,
    /// Tiers, one per member.
    pub tiers: Vec<time_consensus::Tier>,
    /// Where each member listens.
    pub listen: Vec<SocketAddr>,
    /// Each member's HTTP endpoint.
    pub http: Vec<Option<SocketAddr>>,
    /// `dial[i][j]`: the address member `i` reaches member `j` at (its
    /// listen address, or a proxy's in front of it).
    pub dial: Vec<Vec<SocketAddr>>,
    /// Interval between heights.
    pub block_interval_ms: u64,
    /// Protocol parameters.
    pub config: OrchestratorConfig,
    /// Each member's behaviour.
    pub behaviours: Vec<Behaviour>,
}

impl InitPlan {
    /// `n` members on loopback: member `i` listens on `base_port + i` and
    /// serves HTTP on `base_port + 1000 + i`; all honest, tiers cycled.
    pub fn loopback(
        dir: PathBuf,
        n: usize,
        tiers: &[time_consensus::Tier],
        base_port: u16,
        block_interval_ms: u64,
        config: OrchestratorConfig,
    ) -> Result<InitPlan, SetupError> {
        let port = |off: usize| -> Result<SocketAddr, SetupError> {
            let p = u16::try_from(usize::from(base_port) + off).map_err(|_| SetupError::Ports)?;
            Ok(SocketAddr::from(([127, 0, 0, 1], p)))
        };
        let listen = (0..n).map(port).collect::<Result<Vec<_>, _>>()?;
        let http = (0..n)
            .map(|i| port(1000 + i).map(Some))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(InitPlan {
            dir,
            tiers: (0..n).map(|i| tiers[i % tiers.len().max(1)]).collect(),
            dial: vec![listen.clone(); n],
            listen,
            http,
            block_interval_ms,
            config,
            behaviours: vec![Behaviour::Honest; n],
        })
    }
}

/// The id of member `i` in a network `init` lays out.
pub fn member_id(i: usize) -> NodeId {
    // Always 5+ printable ASCII bytes, so always a valid id.
    NodeId::new(&format!("mn{i:03}")).unwrap_or_else(|_| unreachable!())
}

/// The node files `init` wrote, one per member, in member order.
pub fn init(plan: &InitPlan) -> Result<Vec<PathBuf>, SetupError> {
    let n = plan.listen.len();
    if n == 0
        || plan.tiers.len() != n
        || plan.http.len() != n
        || plan.dial.len() != n
        || plan.behaviours.len() != n
        || plan.dial.iter().any(|d| d.len() != n)
    {
        return Err(SetupError::Plan);
    }
    let ids: Vec<NodeId> = (0..n).map(member_id).collect();
    let mut members = Vec::with_capacity(n);
    for (i, id) in ids.iter().enumerate() {
        let seed = random_seed()?;
        let key = Keypair::from_seed(SignatureScheme::Ed25519, seed);
        write_json(
            &plan.dir.join(id.as_str()).join("key.json"),
            &KeyFile {
                node_id: id.clone(),
                secret_seed: to_hex(&seed),
            },
        )?;
        members.push(MasternodeInfo {
            node_id: id.clone(),
            public_key: key.public(),
            tier: plan.tiers[i],
            registered_at: plan.config.genesis_date,
            reputation_milli: 1000,
        });
    }
    let genesis = Genesis {
        format: GENESIS_FORMAT.into(),
        scheme: SignatureScheme::Ed25519,
        rules: Rules::Reference,
        tip: time_consensus::sim::genesis_tip(),
        config: plan.config.clone(),
        members,
    };
    genesis.registry()?;
    write_json(&plan.dir.join("genesis.json"), &genesis)?;
    let mut files = Vec::with_capacity(n);
    for (i, id) in ids.iter().enumerate() {
        let node = NodeFile {
            genesis: PathBuf::from("../genesis.json"),
            key_file: PathBuf::from("key.json"),
            data_dir: PathBuf::from("data"),
            listen: plan.listen[i],
            peers: ids
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(j, p)| (p.clone(), plan.dial[i][j]))
                .collect(),
            block_interval_ms: plan.block_interval_ms,
            http: plan.http[i],
            behaviour: plan.behaviours[i],
        };
        let path = plan.dir.join(id.as_str()).join("node.json");
        write_json(&path, &node)?;
        files.push(path);
    }
    Ok(files)
}
