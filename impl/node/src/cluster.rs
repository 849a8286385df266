//! N members on loopback, as processes of this binary, optionally behind a
//! proxy of ours that can cut, delay or lose frames on every directed link;
//! what each member finalizes is read from its stdout, and its stored chain
//! is checked block by block when the cluster stops.

use crate::genesis::{self, Behaviour, InitPlan, SetupError};
use crate::run::FinalizedLine;
use crate::store::{Store, StoreError};
use crate::wire::MAX_FRAME;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time_consensus::message::CertifiedBlock;
use time_consensus::sim::SplitMix64;
use time_consensus::{
    Hash32, Input, Message, Node, NodeId, OrchestratorConfig, StartHeight, Tier, Tip,
};

/// What a cluster is.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// Where members' files and stores go.
    pub dir: PathBuf,
    /// Members.
    pub nodes: usize,
    /// Tiers, cycled over the members.
    pub tiers: Vec<Tier>,
    /// How many of the last members misbehave, and how.
    pub byzantine: usize,
    /// Their behaviours, in turn (the first misbehaving member takes the
    /// first, and so on, cycling).
    pub behaviours: Vec<Behaviour>,
    /// Pause between heights.
    pub block_interval_ms: u64,
    /// Put a proxy on every directed link (for partitions, delay and loss).
    pub proxy: bool,
    /// Protocol parameters.
    pub config: OrchestratorConfig,
}

/// Timeouts for a cluster on loopback: a second where the deployed default
/// is tens (the heartbeat and leader timeouts), the rest as deployed.
pub fn fast_config() -> OrchestratorConfig {
    let mut c = OrchestratorConfig {
        heartbeat_timeout_secs: 2,
        voting_window_secs: 1,
        reward_only_voting_window_secs: 1,
        attempt_timeout_growth_secs: 1,
        ..OrchestratorConfig::default()
    };
    c.fallback_config.leader_timeout_secs = 1;
    c.fallback_config.voting_timeout_secs = 1;
    c
}

/// Why a cluster failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Files could not be laid out.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// A store could not be read.
    #[error("{member}: {source}")]
    Store {
        /// Member.
        member: String,
        /// Why.
        source: StoreError,
    },
    /// Processes or sockets.
    #[error("{what}: {source}")]
    Io {
        /// What failed.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// Two members finalized different blocks at one height.
    #[error("fork at height {height}: {a} has {ha}, {b} has {hb}")]
    Fork {
        /// Height.
        height: u64,
        /// One member.
        a: String,
        /// Its block.
        ha: String,
        /// Another.
        b: String,
        /// Its block.
        hb: String,
    },
    /// A stored block the member's own rules refuse on replay.
    #[error("{member}: stored block {height} does not verify: {why}")]
    BadChain {
        /// Member.
        member: String,
        /// Height.
        height: u64,
        /// What the node said.
        why: String,
    },
    /// Members did not reach a height in time.
    #[error("timed out waiting for height {height}: tips {tips:?}")]
    Timeout {
        /// Height waited for.
        height: u64,
        /// Each member's last finalized height seen.
        tips: Vec<u64>,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// A directed link's state, shared with the proxy's threads.
#[derive(Debug, Default)]
pub struct Link {
    /// Frames are dropped (a partition).
    pub cut: AtomicBool,
    /// Each frame is held this long.
    pub delay_ms: AtomicU64,
    /// Chance per mille that a frame is lost.
    pub loss_permille: AtomicU32,
}

/// Frame-aware forwarding on every directed link `i -> j`.
pub struct Proxy {
    links: Vec<Vec<Arc<Link>>>,
}

impl Proxy {
    /// Listens for member `i`'s connections to `j` on `listeners[i][j]` and
    /// forwards them to `targets[j]`.
    fn start(listeners: Vec<Vec<Option<TcpListener>>>, targets: Vec<SocketAddr>) -> Proxy {
        let n = targets.len();
        let links: Vec<Vec<Arc<Link>>> = (0..n)
            .map(|_| (0..n).map(|_| Arc::new(Link::default())).collect())
            .collect();
        for (i, row) in listeners.into_iter().enumerate() {
            for (j, l) in row.into_iter().enumerate() {
                let Some(l) = l else { continue };
                let link = links[i][j].clone();
                let target = targets[j];
                let seed = (i * n + j) as u64;
                std::thread::spawn(move || {
                    for conn in l.incoming().flatten() {
                        let link = link.clone();
                        std::thread::spawn(move || forward(conn, target, &link, seed));
                    }
                });
            }
        }
        Proxy { links }
    }

    /// The link from `i` to `j`.
    pub fn link(&self, i: usize, j: usize) -> &Link {
        &self.links[i][j]
    }
}

/// Copies frames from `from` to `target` under `link`'s state.
fn forward(mut from: TcpStream, target: SocketAddr, link: &Link, seed: u64) {
    let Ok(mut to) = TcpStream::connect(target) else {
        return;
    };
    let _ = to.set_nodelay(true);
    // The accepting member's challenge goes back untouched.
    if let (Ok(mut back), Ok(mut client)) = (to.try_clone(), from.try_clone()) {
        std::thread::spawn(move || std::io::copy(&mut back, &mut client));
    }
    let mut rng = SplitMix64::new(seed);
    loop {
        let mut len = [0u8; 4];
        if from.read_exact(&mut len).is_err() {
            return;
        }
        let n = u32::from_le_bytes(len);
        if n > MAX_FRAME {
            return;
        }
        let mut body = vec![0u8; n as usize];
        if from.read_exact(&mut body).is_err() {
            return;
        }
        // The hello always passes, so that the connection is a member's.
        let hello = body.starts_with(br#"{"hello""#);
        if !hello {
            if link.cut.load(Ordering::Relaxed) {
                continue;
            }
            let loss = u64::from(link.loss_permille.load(Ordering::Relaxed));
            if loss > 0 && rng.range(0, 999) < loss {
                continue;
            }
            let d = link.delay_ms.load(Ordering::Relaxed);
            if d > 0 {
                std::thread::sleep(Duration::from_millis(d));
            }
        }
        if to
            .write_all(&len)
            .and_then(|_| to.write_all(&body))
            .is_err()
        {
            return;
        }
    }
}

/// Free loopback ports, found by binding to port 0 (released before use).
fn free_addrs(k: usize) -> Result<Vec<SocketAddr>, ClusterError> {
    let ls: Vec<TcpListener> = (0..k)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(io("bind a free port"))?;
    ls.iter()
        .map(|l| l.local_addr())
        .collect::<Result<_, _>>()
        .map_err(io("read a free port"))
}

/// A running cluster.
pub struct Cluster {
    spec: ClusterSpec,
    exe: PathBuf,
    files: Vec<PathBuf>,
    children: Vec<Option<Child>>,
    lines_tx: Sender<(usize, FinalizedLine)>,
    lines: Receiver<(usize, FinalizedLine)>,
    proxy: Option<Proxy>,
    /// Height → member → what it finalized.
    seen: BTreeMap<u64, BTreeMap<usize, FinalizedLine>>,
    tips: Vec<u64>,
    http: Vec<SocketAddr>,
}

impl Cluster {
    /// Lays out the files and starts every member, as `exe run`; returns
    /// once every member listens (its peer port and its HTTP port).
    pub fn start(spec: ClusterSpec, exe: PathBuf) -> Result<Cluster, ClusterError> {
        // Ports are found free, released, then bound by the members: two
        // clusters starting at once in one process could be handed the same
        // ones, so starts take turns until their members have bound them.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        let n = spec.nodes;
        // One call: ports released by one call could come back in the next.
        let mut ports = free_addrs(2 * n)?;
        let http: Vec<Option<SocketAddr>> = ports.split_off(n).into_iter().map(Some).collect();
        let listen = ports;
        let mut proxy_listeners: Vec<Vec<Option<TcpListener>>> = Vec::new();
        let dial = if spec.proxy {
            let mut dial = vec![listen.clone(); n];
            for (i, row) in dial.iter_mut().enumerate() {
                let mut ls = Vec::with_capacity(n);
                for (j, addr) in row.iter_mut().enumerate() {
                    if i == j {
                        ls.push(None);
                        continue;
                    }
                    let l = TcpListener::bind("127.0.0.1:0").map_err(io("bind a proxy port"))?;
                    *addr = l.local_addr().map_err(io("read a proxy port"))?;
                    ls.push(Some(l));
                }
                proxy_listeners.push(ls);
            }
            dial
        } else {
            vec![listen.clone(); n]
        };
        let behaviours = (0..n)
            .map(|i| {
                if i + spec.byzantine >= n && !spec.behaviours.is_empty() {
                    let k = i + spec.byzantine - n;
                    spec.behaviours[k % spec.behaviours.len()]
                } else {
                    Behaviour::Honest
                }
            })
            .collect();
        let plan = InitPlan {
            dir: spec.dir.clone(),
            tiers: (0..n)
                .map(|i| spec.tiers[i % spec.tiers.len().max(1)])
                .collect(),
            listen: listen.clone(),
            http: http.clone(),
            dial,
            block_interval_ms: spec.block_interval_ms,
            config: spec.config.clone(),
            behaviours,
        };
        let files = genesis::init(&plan)?;
        let proxy = spec
            .proxy
            .then(|| Proxy::start(proxy_listeners, listen.clone()));
        let (lines_tx, lines) = channel();
        let mut c = Cluster {
            spec,
            exe,
            files,
            children: (0..n).map(|_| None).collect(),
            lines_tx,
            lines,
            proxy,
            seen: BTreeMap::new(),
            tips: vec![0; n],
            http: http.into_iter().flatten().collect(),
        };
        for i in 0..n {
            c.spawn(i)?;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for addr in listen.iter().chain(&c.http) {
            while TcpStream::connect(addr).is_err() {
                if Instant::now() > deadline {
                    return Err(ClusterError::Io {
                        what: format!("a member never listened on {addr}"),
                        source: std::io::ErrorKind::TimedOut.into(),
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Ok(c)
    }

    fn spawn(&mut self, i: usize) -> Result<(), ClusterError> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.member_dir(i).join("node.log"))
            .map_err(io("create a member's log"))?;
        let mut child = Command::new(&self.exe)
            .arg("run")
            .arg("--config")
            .arg(&self.files[i])
            .stdout(Stdio::piped())
            .stderr(log)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .spawn()
            .map_err(io(format!("start member {i}")))?;
        if let Some(out) = child.stdout.take() {
            let tx = self.lines_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if let Ok(f) = serde_json::from_str::<FinalizedLine>(&line) {
                        if tx.send((i, f)).is_err() {
                            return;
                        }
                    }
                }
            });
        }
        self.children[i] = Some(child);
        Ok(())
    }

    /// Member `i`'s HTTP endpoint.
    pub fn http(&self, i: usize) -> SocketAddr {
        self.http[i]
    }

    /// Each running member's process id.
    pub fn pids(&self) -> Vec<Option<u32>> {
        self.children
            .iter()
            .map(|c| c.as_ref().map(Child::id))
            .collect()
    }

    /// Member `i`'s folder.
    pub fn member_dir(&self, i: usize) -> PathBuf {
        self.files[i]
            .parent()
            .map_or_else(|| self.spec.dir.clone(), Path::to_path_buf)
    }

    /// Members.
    pub fn len(&self) -> usize {
        self.spec.nodes
    }

    /// Never empty.
    pub fn is_empty(&self) -> bool {
        self.spec.nodes == 0
    }

    /// Whether member `i` is honest.
    pub fn honest(&self, i: usize) -> bool {
        i + self.spec.byzantine < self.spec.nodes
            || self.spec.behaviours.iter().all(|b| *b == Behaviour::Honest)
    }

    /// SIGKILL member `i` (no chance to flush anything).
    pub fn kill(&mut self, i: usize) -> Result<(), ClusterError> {
        if let Some(mut c) = self.children[i].take() {
            c.kill().map_err(io(format!("kill member {i}")))?;
            c.wait().map_err(io(format!("reap member {i}")))?;
        }
        Ok(())
    }

    /// Starts member `i` again on its store.
    pub fn restart(&mut self, i: usize) -> Result<(), ClusterError> {
        self.kill(i)?;
        self.spawn(i)
    }

    /// Cuts (or heals) every link to and from member `i`.
    pub fn partition(&self, i: usize, cut: bool) {
        if let Some(p) = &self.proxy {
            for j in 0..self.len() {
                if j != i {
                    p.link(i, j).cut.store(cut, Ordering::Relaxed);
                    p.link(j, i).cut.store(cut, Ordering::Relaxed);
                }
            }
        }
    }

    /// Delay and loss on every link.
    pub fn degrade(&self, delay_ms: u64, loss_permille: u32) {
        if let Some(p) = &self.proxy {
            for row in &p.links {
                for l in row {
                    l.delay_ms.store(delay_ms, Ordering::Relaxed);
                    l.loss_permille.store(loss_permille, Ordering::Relaxed);
                }
            }
        }
    }

    /// Each member's last finalized height reported.
    pub fn tips(&self) -> &[u64] {
        &self.tips
    }

    /// What members reported, by height.
    pub fn seen(&self) -> &BTreeMap<u64, BTreeMap<usize, FinalizedLine>> {
        &self.seen
    }

    /// Takes the members' reports for up to `wait`, checking that no two
    /// disagree; calls `on_line` for each.
    pub fn poll(
        &mut self,
        wait: Duration,
        mut on_line: impl FnMut(&Cluster, usize, &FinalizedLine),
    ) -> Result<(), ClusterError> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((i, f)) => {
                    let at = self.seen.entry(f.height).or_default();
                    if let Some((j, g)) = at.iter().find(|(_, g)| g.hash != f.hash) {
                        return Err(ClusterError::Fork {
                            height: f.height,
                            a: g.node.clone(),
                            ha: g.hash.clone(),
                            b: f.node.clone(),
                            hb: format!("{} (member {j} before)", f.hash),
                        });
                    }
                    at.insert(i, f.clone());
                    self.tips[i] = self.tips[i].max(f.height);
                    on_line(self, i, &f);
                }
                Err(RecvTimeoutError::Timeout) => return Ok(()),
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
    }

    /// Waits until every member in `members` has finalized `height`.
    pub fn wait_for(
        &mut self,
        members: &[usize],
        height: u64,
        timeout: Duration,
    ) -> Result<(), ClusterError> {
        let deadline = Instant::now() + timeout;
        while members.iter().any(|&i| self.tips[i] < height) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ClusterError::Timeout {
                    height,
                    tips: self.tips.clone(),
                });
            }
            self.poll(left.min(Duration::from_millis(100)), |_, _, _| {})?;
        }
        Ok(())
    }

    /// Stops every member (SIGKILL: the stores must survive it anyway).
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        for i in 0..self.len() {
            self.kill(i)?;
        }
        Ok(())
    }

    /// Stops the cluster and checks every member's stored chain block by
    /// block: each block replayed into a fresh node through its own
    /// catch-up path (start the height, hand it the finality proof), so
    /// the node's rules verify every certificate; then all chains are
    /// compared. Returns the chains, by height.
    pub fn verify_chains(&mut self) -> Result<Vec<Vec<Replayed>>, ClusterError> {
        self.stop()?;
        let mut chains = Vec::with_capacity(self.len());
        for i in 0..self.len() {
            let setup = genesis::Setup::load(&self.files[i])?;
            let member = setup.context.id().to_string();
            let store =
                Store::open(&setup.node.data_dir).map_err(|source| ClusterError::Store {
                    member: member.clone(),
                    source,
                })?;
            let tip = store
                .tip(setup.genesis_tip)
                .map_err(|source| ClusterError::Store {
                    member: member.clone(),
                    source,
                })?;
            let blocks = store
                .blocks(1, u32::MAX)
                .map_err(|source| ClusterError::Store {
                    member: member.clone(),
                    source,
                })?;
            if blocks.len() as u64 != tip.height {
                return Err(ClusterError::BadChain {
                    member,
                    height: blocks.len() as u64 + 1,
                    why: "a gap in the stored heights".into(),
                });
            }
            chains.push(replay_chain(&member, setup, &blocks)?);
        }
        let longest = chains.iter().map(Vec::len).max().unwrap_or(0);
        for h in 0..longest {
            let mut first: Option<(usize, Hash32)> = None;
            for (i, c) in chains.iter().enumerate() {
                let Some(hash) = c.get(h).map(|r| &r.hash) else {
                    continue;
                };
                match first {
                    None => first = Some((i, *hash)),
                    Some((j, f)) if f != *hash => {
                        return Err(ClusterError::Fork {
                            height: h as u64 + 1,
                            a: genesis::member_id(j).to_string(),
                            ha: f.to_hex(),
                            b: genesis::member_id(i).to_string(),
                            hb: hash.to_hex(),
                        })
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(chains)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A stored block, as a fresh node replayed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// Its hash.
    pub hash: Hash32,
    /// The attempt its certificate is of.
    pub attempt: u32,
    /// The elected leaders of attempts 0 to that attempt (none: emergency).
    pub leaders: Vec<Option<NodeId>>,
}

/// Replays `blocks` into a fresh node of `setup` from genesis.
fn replay_chain(
    member: &str,
    setup: genesis::Setup,
    blocks: &[CertifiedBlock],
) -> Result<Vec<Replayed>, ClusterError> {
    let config = setup.context.config().clone();
    let mut node = Node::new(setup.context, setup.genesis_tip);
    let mut hashes = Vec::with_capacity(blocks.len());
    for cb in blocks {
        let height = cb.block.header.height;
        node.handle(Input::Start(StartHeight {
            date: config.chain_date(height),
            mempool: Vec::new(),
            presynchronized: false,
        }));
        let attempt = cb.certificate.attempt;
        let leaders = match node.state().round() {
            Some(r) => (0..=attempt).map(|a| r.leader(node.context(), a)).collect(),
            None => Vec::new(),
        };
        let outs = node.handle(Input::Message(Message::Certificate(cb.clone())));
        let want = Tip {
            height,
            hash: cb.block.hash(),
        };
        if node.state().tip() != want {
            return Err(ClusterError::BadChain {
                member: member.into(),
                height,
                why: format!("{outs:?}"),
            });
        }
        hashes.push(Replayed {
            hash: want.hash,
            attempt,
            leaders,
        });
    }
    Ok(hashes)
}
