//! The runtime: one task owns the [`Host`]; a dialer task per peer writes
//! its frames (its queue survives reconnections, so a healed partition gets
//! what was said meanwhile, up to the queue's bound); a reader task per
//! accepted connection feeds frames in; a loopback HTTP endpoint serves
//! metrics, status and transactions.

use crate::genesis::Setup;
use crate::host::{Action, Host, Item};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use crate::wire::{self, Frame, WIRE_VERSION};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time_consensus::block::Transaction;
use time_consensus::primitives::from_hex_vec;
use time_consensus::{Hash32, Keypair, NodeId, Registry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Frames waiting for one peer; beyond this the newest are dropped (the
/// protocol tolerates loss; memory stays bounded whatever a peer does).
pub const PEER_QUEUE: usize = 8192;
/// Bytes waiting for one peer, at most.
pub const PEER_BYTES: usize = 64 << 20;
/// Items waiting for the host; readers wait when it is full.
const INBOX: usize = 8192;
/// Bytes of frames read but not yet handled, at most (readers wait).
const INBOX_BYTES: usize = 256 << 20;
/// A connection that says nothing for this long after connecting is closed.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// A frame whose body takes longer than this to arrive closes its
/// connection, releasing the inbox bytes it reserved (a member sending
/// slowly cannot hold the inbox).
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// One peer's outgoing queue, bounded in frames and in bytes.
struct PeerQueue {
    tx: mpsc::Sender<Arc<Vec<u8>>>,
    bytes: Arc<AtomicUsize>,
}

/// What readers hand the host: the item and the inbox bytes it holds.
type Inbound = (Item, Option<OwnedSemaphorePermit>);
/// Most items handled in one batch (one store commit).
const BATCH: usize = 1024;

/// Why a member stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed: the member stops rather than act on what it could
    /// not make durable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness for challenges.
    #[error("cannot read random bytes: {0}")]
    Random(String),
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// What `/status` answers.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Status {
    /// This member.
    pub node_id: String,
    /// Last finalized height.
    pub tip_height: u64,
    /// Its hash.
    pub tip_hash: String,
    /// Height running, if any.
    pub running: Option<u64>,
    /// Its attempt.
    pub attempt: Option<u32>,
    /// Transactions waiting.
    pub mempool: usize,
}

/// One finalized height, as printed on stdout (one JSON line each).
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct FinalizedLine {
    /// Member.
    pub node: String,
    /// Height.
    pub height: u64,
    /// Attempt that decided it.
    pub attempt: u32,
    /// Block kind.
    pub kind: String,
    /// Block hash.
    pub hash: String,
    /// Start-to-finality here, ms.
    pub latency_ms: Option<u64>,
    /// Came in through catch-up.
    pub caught_up: bool,
}

/// Runs a member until `shutdown` completes or its store fails.
pub async fn run(
    setup: Setup,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), RunError> {
    let me = setup.context.id().clone();
    let keypair = setup.context.keypair().clone();
    let registry = setup.context.registry().clone();
    let metrics = Arc::new(Metrics::new());
    let store = Store::open(&setup.node.data_dir)?;
    let interval = Duration::from_millis(setup.node.block_interval_ms);
    let mut host = Host::open(
        setup.context,
        setup.genesis_tip,
        store,
        interval,
        setup.node.behaviour,
        metrics.clone(),
        Instant::now().into_std(),
    )?;
    let tip = Arc::new(AtomicU64::new(host.tip().height));
    let status = Arc::new(Mutex::new(Status::default()));
    let (inbox_tx, mut inbox) = mpsc::channel::<Inbound>(INBOX);
    let budget = Arc::new(Semaphore::new(INBOX_BYTES));

    let listener = TcpListener::bind(setup.node.listen)
        .await
        .map_err(|source| RunError::Bind {
            addr: setup.node.listen,
            source,
        })?;
    let shared = Arc::new(Listener {
        inbox: inbox_tx.clone(),
        members: host.peers().iter().cloned().collect(),
        budget,
        registry,
        me: me.clone(),
        live: Mutex::new(BTreeMap::new()),
    });
    tokio::spawn(accept(listener, shared, Nonces::new()?));
    let mut peers: BTreeMap<NodeId, PeerQueue> = BTreeMap::new();
    for (id, addr) in &setup.node.peers {
        let (tx, rx) = mpsc::channel(PEER_QUEUE);
        let bytes = Arc::new(AtomicUsize::new(0));
        let key = keypair.clone();
        let them = id.clone();
        tokio::spawn(dial(
            *addr,
            me.clone(),
            tip.clone(),
            rx,
            bytes.clone(),
            key,
            them,
        ));
        peers.insert(id.clone(), PeerQueue { tx, bytes });
    }
    if let Some(addr) = setup.node.http {
        let l = TcpListener::bind(addr)
            .await
            .map_err(|source| RunError::Bind { addr, source })?;
        tokio::spawn(http(l, metrics.clone(), status.clone(), inbox_tx.clone()));
    }
    let resend = host.take_resend();
    dispatch(resend, &peers, &metrics);

    tokio::pin!(shutdown);
    loop {
        let deadline = host.next_deadline().map(Instant::from_std);
        let mut items = Vec::new();
        // The inbox bytes of this batch, released once it is handled.
        let mut held = Vec::new();
        tokio::select! {
            item = inbox.recv() => {
                let mut next = item;
                while let Some((i, permit)) = next {
                    items.push(i);
                    held.push(permit);
                    if items.len() >= BATCH {
                        break;
                    }
                    next = inbox.try_recv().ok();
                }
            }
            _ = sleep_until(deadline) => {}
            _ = &mut shutdown => break,
        }
        let now = Instant::now().into_std();
        items.extend(host.due(now));
        let actions = host.handle(items, now)?;
        drop(held);
        dispatch(actions, &peers, &metrics);
        for f in host.take_finalized() {
            let line = FinalizedLine {
                node: me.to_string(),
                height: f.decision.height,
                attempt: f.decision.attempt,
                kind: format!("{:?}", f.decision.kind),
                hash: f.decision.hash.to_hex(),
                latency_ms: f.latency.map(|l| l.as_millis() as u64),
                caught_up: f.caught_up,
            };
            if let Ok(s) = serde_json::to_string(&line) {
                println!("{s}");
            }
        }
        tip.store(host.tip().height, Ordering::Relaxed);
        if let Ok(mut s) = status.lock() {
            let round = host.node().state().round();
            *s = Status {
                node_id: me.to_string(),
                tip_height: host.tip().height,
                tip_hash: host.tip().hash.to_hex(),
                running: round.map(|r| r.height()),
                attempt: round.map(|r| r.attempt()),
                mempool: host.mempool_len(),
            };
        }
    }
    Ok(())
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn dispatch(actions: Vec<Action>, peers: &BTreeMap<NodeId, PeerQueue>, metrics: &Metrics) {
    let push = |q: &PeerQueue, b: &Arc<Vec<u8>>| {
        // Counted before it is queued, so the dialer never takes off more
        // than was added.
        let before = q.bytes.fetch_add(b.len(), Ordering::Relaxed);
        if before.saturating_add(b.len()) > PEER_BYTES || q.tx.try_send(b.clone()).is_err() {
            q.bytes.fetch_sub(b.len(), Ordering::Relaxed);
            metrics.dropped();
            return;
        }
        metrics.sent(b.len());
    };
    for a in actions {
        let (to, frame) = match a {
            Action::Broadcast(f) => (None, f),
            Action::Send(p, f) => (Some(p), f),
        };
        let bytes = match wire::encode(&frame) {
            Ok(b) => Arc::new(b),
            Err(e) => {
                tracing::error!(%e, "cannot encode a frame");
                continue;
            }
        };
        match to {
            None => peers.values().for_each(|q| push(q, &bytes)),
            Some(p) => {
                if let Some(q) = peers.get(&p) {
                    push(q, &bytes)
                }
            }
        }
    }
}

/// Keeps one outgoing connection to a peer, reconnecting with backoff.
async fn dial(
    addr: SocketAddr,
    me: NodeId,
    tip: Arc<AtomicU64>,
    mut queue: mpsc::Receiver<Arc<Vec<u8>>>,
    queued: Arc<AtomicUsize>,
    keypair: Keypair,
    them: NodeId,
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let conn = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await;
        let mut stream = match conn {
            Ok(Ok(s)) => s,
            _ => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        let _ = stream.set_nodelay(true);
        let nonce = match tokio::time::timeout(HELLO_TIMEOUT, wire::read_frame(&mut stream)).await {
            Ok(Ok(Frame::Challenge { nonce })) => nonce,
            _ => {
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        let tip_height = tip.load(Ordering::Relaxed);
        let hello = Frame::Hello {
            version: WIRE_VERSION.into(),
            node_id: me.clone(),
            tip_height,
            signature: keypair.sign(&wire::hello_bytes(&nonce, &me, &them, tip_height)),
        };
        let Ok(hello) = wire::encode(&hello) else {
            return;
        };
        if stream.write_all(&hello).await.is_err() {
            continue;
        }
        loop {
            let Some(bytes) = queue.recv().await else {
                return; // the host is gone
            };
            queued.fetch_sub(bytes.len(), Ordering::Relaxed);
            if stream.write_all(&bytes).await.is_err() {
                break; // this frame is lost, as on any network
            }
        }
    }
}

/// Fresh challenge nonces: SHA-256 of a random seed and a counter.
struct Nonces {
    seed: [u8; 32],
    next: u64,
}

impl Nonces {
    fn new() -> Result<Nonces, RunError> {
        Ok(Nonces {
            seed: crate::genesis::random_seed().map_err(|e| RunError::Random(e.to_string()))?,
            next: 0,
        })
    }

    fn fresh(&mut self) -> Hash32 {
        self.next += 1;
        let mut b = self.seed.to_vec();
        b.extend_from_slice(&self.next.to_le_bytes());
        time_consensus::encoding::sha256(&b)
    }
}

async fn accept(listener: TcpListener, l: Arc<Listener>, mut nonces: Nonces) {
    // Connections not yet authenticated: a few per member (they last at most
    // HELLO_TIMEOUT); more are refused. Authenticated ones are one per
    // member, the newest replacing the older (a half-open one is freed
    // when its member dials again).
    let slots = Arc::new(Semaphore::new(l.members.len() + 8));
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::debug!("too many connections: one refused");
                    continue;
                };
                let (l, nonce) = (l.clone(), nonces.fresh());
                tokio::spawn(async move { read_peer(stream, &l, nonce, slot).await });
            }
            Err(e) => {
                tracing::warn!(%e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Challenges a connection, then reads its frames. The first must be a
/// hello, within [`HELLO_TIMEOUT`], from another member, signed over the
/// challenge's nonce: anything else closes the connection (a stranger's
/// messages could be relayed by any member anyway, and an unproven id would
/// let anyone take a member's place in the maps and connection slots). A
/// body is read only once the inbox has room for its bytes.
async fn read_peer(mut stream: TcpStream, l: &Listener, nonce: Hash32, slot: OwnedSemaphorePermit) {
    let _ = stream.set_nodelay(true);
    let Ok(challenge) = wire::encode(&Frame::Challenge { nonce }) else {
        return;
    };
    if stream.write_all(&challenge).await.is_err() {
        return;
    }
    let mut r = tokio::io::BufReader::new(stream);
    let first = async {
        let len = wire::read_len(&mut r).await?;
        if len > wire::MAX_HELLO {
            return Err(wire::FrameError::TooLong { len });
        }
        wire::read_body(&mut r, len).await
    };
    let Ok(first) = tokio::time::timeout(HELLO_TIMEOUT, first).await else {
        return;
    };
    let peer = match first {
        Ok(Frame::Hello {
            version,
            node_id,
            tip_height,
            signature,
        }) if version == WIRE_VERSION
            && l.members.contains(&node_id)
            && l.registry.position_of(&node_id).is_some_and(|pos| {
                l.registry.verify_at(
                    pos,
                    &wire::hello_bytes(&nonce, &node_id, &l.me, tip_height),
                    &signature,
                )
            }) =>
        {
            let hello = Frame::Hello {
                version,
                node_id: node_id.clone(),
                tip_height,
                signature,
            };
            let item = Item::Frame(Some(node_id.clone()), hello);
            if l.inbox.send((item, None)).await.is_err() {
                return;
            }
            node_id
        }
        Ok(other) => {
            tracing::debug!(?other, "connection without a member's hello closed");
            return;
        }
        Err(e) => {
            tracing::debug!(%e, "connection closed before its hello");
            return;
        }
    };
    drop(slot);
    let mine = Arc::new(Notify::new());
    if let Ok(mut live) = l.live.lock() {
        if let Some(older) = live.insert(peer.clone(), mine.clone()) {
            older.notify_one();
        }
    }
    read_frames(&mut r, &peer, &l.inbox, &l.budget, &mine).await;
    let mut live = match l.live.lock() {
        Ok(l) => l,
        Err(poisoned) => poisoned.into_inner(),
    };
    if live.get(&peer).is_some_and(|m| Arc::ptr_eq(m, &mine)) {
        live.remove(&peer);
    }
}

/// What every connection's reader shares.
struct Listener {
    inbox: mpsc::Sender<Inbound>,
    members: BTreeSet<NodeId>,
    budget: Arc<Semaphore>,
    registry: Arc<Registry>,
    me: NodeId,
    live: Live,
}

/// Each member's authenticated connection, by the signal that closes it.
type Live = Mutex<BTreeMap<NodeId, Arc<Notify>>>;

/// Reads an authenticated member's frames until the connection ends or a
/// newer one of the same member replaces it.
async fn read_frames(
    r: &mut tokio::io::BufReader<TcpStream>,
    peer: &NodeId,
    inbox: &mpsc::Sender<Inbound>,
    budget: &Arc<Semaphore>,
    replaced: &Notify,
) {
    loop {
        let len = tokio::select! {
            l = wire::read_len(r) => match l {
                Ok(l) => l,
                Err(e) => {
                    tracing::debug!(%peer, %e, "connection closed");
                    return;
                }
            },
            _ = replaced.notified() => {
                tracing::debug!(%peer, "replaced by a newer connection");
                return;
            }
        };
        let Ok(permit) = budget.clone().acquire_many_owned(len.max(1)).await else {
            return;
        };
        let body = tokio::time::timeout(BODY_TIMEOUT, wire::read_body(r, len)).await;
        let Ok(body) = body else {
            tracing::debug!(%peer, len, "frame body too slow: connection closed");
            return;
        };
        match body {
            Ok(Frame::Hello { .. }) => {
                tracing::debug!(%peer, "second hello: connection closed");
                return;
            }
            Ok(f) => {
                let item = Item::Frame(Some(peer.clone()), f);
                if inbox.send((item, Some(permit))).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::debug!(%peer, %e, "connection closed");
                return;
            }
        }
    }
}

/// Most bytes of an HTTP request read.
const MAX_REQUEST: usize = 1 << 20;

/// `GET /metrics`, `GET /status`, `POST /tx` (body: the payload in hex).
async fn http(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    status: Arc<Mutex<Status>>,
    inbox: mpsc::Sender<Inbound>,
) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            continue;
        };
        let (metrics, status, inbox) = (metrics.clone(), status.clone(), inbox.clone());
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, body_len) = loop {
                let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await
                else {
                    return;
                };
                if n == 0 || buf.len() + n > MAX_REQUEST {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = find(&buf, b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if len > MAX_REQUEST {
                        return;
                    }
                    break (end + 4, len);
                }
            };
            while buf.len() < head_end + body_len {
                let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await
                else {
                    return;
                };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let line = String::from_utf8_lossy(&buf[..head_end])
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            let body = &buf[head_end..head_end + body_len];
            let (code, ctype, text) = route(&line, body, &metrics, &status, &inbox).await;
            let resp = format!(
                "HTTP/1.1 {code}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
        });
    }
}

async fn route(
    line: &str,
    body: &[u8],
    metrics: &Metrics,
    status: &Mutex<Status>,
    inbox: &mpsc::Sender<Inbound>,
) -> (&'static str, &'static str, String) {
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    const TEXT: &str = "text/plain; charset=utf-8";
    const JSON: &str = "application/json";
    match (method, path) {
        ("GET", "/metrics") => (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics.encode(),
        ),
        ("GET", "/status") => {
            let s = status.lock().map(|s| s.clone()).unwrap_or_default();
            (
                "200 OK",
                JSON,
                serde_json::to_string(&s).unwrap_or_default(),
            )
        }
        ("POST", "/tx") => {
            let hex = String::from_utf8_lossy(body);
            match from_hex_vec(hex.trim()) {
                Ok(payload) => {
                    let tx = Transaction::transfer(&payload);
                    match tx.txid() {
                        Ok(id) => match inbox.try_send((Item::Tx(tx), None)) {
                            Ok(()) => ("202 Accepted", TEXT, format!("{id}\n")),
                            Err(_) => ("503 Service Unavailable", TEXT, "busy\n".into()),
                        },
                        Err(e) => ("400 Bad Request", TEXT, format!("{e}\n")),
                    }
                }
                Err(e) => (
                    "400 Bad Request",
                    TEXT,
                    format!("payload is not hex: {e}\n"),
                ),
            }
        }
        _ => ("404 Not Found", TEXT, "not found\n".into()),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
