//! `--engine timely`: Stateright 0.31's breadth-first search of any
//! [`stateright::Model`], run as a timely dataflow over worker threads,
//! processes and machines.
//!
//! The search, level by level (round `r` of the dataflow = depth `r + 1`):
//! 1. every successor generated in round `r - 1` is a *claim* (its
//!    fingerprint, its path as action indices from an initial state, the
//!    `eventually` properties still awaited on that path), sent to the
//!    worker that owns its fingerprint (`fp % workers`);
//! 2. once no claim of round `r` can still arrive (timely's frontier), each
//!    owner keeps, per fingerprint it has not seen, the claim with the
//!    least path: the one a one-thread Stateright BFS keeps, whose queue
//!    pops each level in the order of the paths (by induction on depth);
//! 3. the owner checks the properties on the state and expands it, exactly
//!    as Stateright's `BfsChecker::check_block` does (same counts, same
//!    `eventually` bits, same terminal test), and its successors are the
//!    claims of round `r + 1`.
//!
//! So the counts, the verdicts and the paths shown equal those of a
//! one-thread Stateright BFS whatever the number of workers (tested). A
//! state crosses threads as it is; across processes it travels as its path
//! and is rebuilt by replaying the path from its initial state (the model
//! is deterministic: Stateright's own paths rely on it). A path that does
//! not replay is reported, not ignored. Each worker owns its share of the
//! seen set (fingerprints only: a state's path travels with it, as in
//! Stateright's BFS, so no parent links are needed to show a path).
//!
//! When the search is done every worker sends its counts and discoveries
//! to worker 0, whose process reports; the others report nothing.
//!
//! Unlike Stateright's, the search does not stop once every property has
//! been shown: it explores everything. Processes trust each other once
//! past the handshake ([`connect`]), as the processes of any cluster job
//! do: what a peer sends after it is timely's to decode.

use serde::{Deserialize, Serialize};
use stateright::{Checker, Expectation, Model, Path};
use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::{Capability, Concat, ConnectLoop, Feedback, ToStream};

/// Where the workers run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Workers {
    /// Threads of this process.
    Threads(usize),
    /// Threads of this process that exchange states as bytes, as processes
    /// do (every state rebuilt from its path): the cross-process path on
    /// one process, for tests.
    ThreadsAsBytes(usize),
    /// This process is `process` of `addresses.len()`, each with `threads`
    /// workers; `addresses[i]` is process `i`'s `host:port`.
    Cluster {
        /// Worker threads per process.
        threads: usize,
        /// This process's index.
        process: usize,
        /// Every process's address, in index order.
        addresses: Vec<String>,
    },
}

/// How long processes wait for each other to start.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(120);

/// The handshake's first bytes: a stranger's connection is told apart.
const MAGIC: &[u8; 8] = b"tcm-tly1";

/// One side's handshake: magic, process index, key.
fn hello(index: usize, key: u64) -> [u8; 24] {
    let mut b = [0u8; 24];
    b[..8].copy_from_slice(MAGIC);
    b[8..16].copy_from_slice(&(index as u64).to_le_bytes());
    b[16..].copy_from_slice(&key.to_le_bytes());
    b
}

/// The peer's handshake, if it is one: (index, key).
fn read_hello(stream: &mut std::net::TcpStream) -> std::io::Result<Option<(usize, u64)>> {
    use std::io::Read;
    let mut b = [0u8; 24];
    stream.read_exact(&mut b)?;
    if &b[..8] != MAGIC {
        return Ok(None);
    }
    let word = |r: std::ops::Range<usize>| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[r]);
        u64::from_le_bytes(w)
    };
    Ok(usize::try_from(word(8..16)).ok().map(|i| (i, word(16..24))))
}

/// Connects process `me` to every other (it dials the lower indices and
/// accepts the higher), each connection checked by a handshake: a stranger
/// or a duplicate is dropped with a warning, a process of another key is an
/// error, and so is a peer not there within [`CONNECT_TIMEOUT`]. timely's
/// own connector retries forever, prints to stdout and trusts the index a
/// peer sends; this one does none of these.
fn connect(
    addresses: &[String],
    me: usize,
    key: u64,
) -> Result<Vec<Option<std::net::TcpStream>>, String> {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let mine = addresses
        .get(me)
        .ok_or_else(|| format!("process {me} has no address"))?;
    let listener =
        TcpListener::bind(mine.as_str()).map_err(|e| format!("cannot listen on {mine}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("{mine}: {e}"))?;
    let mut sockets: Vec<Option<TcpStream>> = (0..addresses.len()).map(|_| None).collect();
    let refused = |i: usize, theirs: u64| {
        format!(
            "process {i} ({}) checks something else (key {theirs:016x}, here {key:016x}): \
             start every process with the same configuration, --threads and --max-depth",
            addresses[i]
        )
    };
    for (i, address) in addresses.iter().enumerate().take(me) {
        let mut stream = loop {
            let attempt = std::net::ToSocketAddrs::to_socket_addrs(address.as_str())
                .and_then(|mut a| {
                    a.next().ok_or_else(|| {
                        std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
                    })
                })
                .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(5)));
            match attempt {
                Ok(s) => break s,
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!(
                        "process {i} at {address} did not answer within {} s: {e}",
                        CONNECT_TIMEOUT.as_secs()
                    ))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        let io = |e: std::io::Error| format!("{address}: {e}");
        stream.set_nodelay(true).map_err(io)?;
        stream.set_read_timeout(Some(CONNECT_TIMEOUT)).map_err(io)?;
        stream.write_all(&hello(me, key)).map_err(io)?;
        match read_hello(&mut stream).map_err(io)? {
            Some((j, k)) if j == i && k == key => {}
            Some((j, k)) if j == i => return Err(refused(i, k)),
            _ => return Err(format!("{address} is not process {i} of this check")),
        }
        stream.set_read_timeout(None).map_err(io)?;
        sockets[i] = Some(stream);
    }
    while sockets
        .iter()
        .enumerate()
        .any(|(i, s)| i > me && s.is_none())
    {
        let (mut stream, from) = match listener.accept() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    let missing: Vec<usize> = (me + 1..addresses.len())
                        .filter(|&i| sockets[i].is_none())
                        .collect();
                    return Err(format!(
                        "processes {missing:?} did not connect to {mine} within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(format!("{mine}: {e}")),
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        match read_hello(&mut stream) {
            Ok(Some((j, k))) if j > me && j < addresses.len() && sockets[j].is_none() => {
                if k != key {
                    let _ = stream.write_all(&hello(me, key));
                    return Err(refused(j, k));
                }
                let io = |e: std::io::Error| format!("{from}: {e}");
                stream.write_all(&hello(me, key)).map_err(io)?;
                stream.set_nodelay(true).map_err(io)?;
                stream.set_read_timeout(None).map_err(io)?;
                sockets[j] = Some(stream);
            }
            Ok(Some((j, _))) => {
                eprintln!("warning: dropped a connection from {from}: it says it is process {j}, not one expected")
            }
            Ok(None) | Err(_) => {
                eprintln!("warning: dropped a connection from {from}: not a process of this check")
            }
        }
    }
    Ok(sockets)
}

impl Workers {
    /// timely's allocators for these workers (connecting the processes,
    /// which must all have the same `key`).
    fn allocators(
        &self,
        key: u64,
    ) -> Result<
        (
            Vec<timely::communication::AllocatorBuilder>,
            Box<dyn std::any::Any + Send>,
        ),
        String,
    > {
        use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
        use timely::communication::allocator::ProcessBuilder;
        use timely::communication::{AllocatorBuilder, Hooks};
        use timely::CommunicationConfig as C;
        match self {
            Workers::Threads(n) => C::Process(*n).try_build(),
            Workers::ThreadsAsBytes(n) => C::ProcessBinary(*n).try_build(),
            Workers::Cluster {
                threads,
                process,
                addresses,
            } => {
                let sockets = connect(addresses, *process, key)?;
                let hooks = Hooks::default();
                let local = ProcessBuilder::new_typed_vector(
                    *threads,
                    hooks.refill.clone(),
                    hooks.spill.clone(),
                );
                let (builders, guard) =
                    initialize_networking_from_sockets(local, sockets, *process, *threads, hooks)
                        .map_err(|e| format!("timely's networking: {e}"))?;
                Ok((
                    builders.into_iter().map(AllocatorBuilder::Tcp).collect(),
                    Box::new(guard),
                ))
            }
        }
    }

    /// Worker threads per process.
    pub fn threads(&self) -> usize {
        match self {
            Workers::Threads(n) | Workers::ThreadsAsBytes(n) => (*n).max(1),
            Workers::Cluster { threads, .. } => (*threads).max(1),
        }
    }

    /// As reports write it.
    pub fn describe(&self) -> String {
        match self {
            Workers::Threads(n) => format!("timely, {n} worker thread(s)"),
            Workers::ThreadsAsBytes(n) => {
                format!("timely, {n} worker thread(s) exchanging states as bytes")
            }
            Workers::Cluster {
                threads, addresses, ..
            } => format!(
                "timely, {} process(es) of {threads} worker thread(s) (memory: this process's)",
                addresses.len()
            ),
        }
    }

    /// What every process of these workers has alike: the threads and the
    /// addresses (not the process's own index), for the handshake's key.
    pub fn shared(&self) -> (usize, Vec<String>) {
        match self {
            Workers::Cluster {
                threads, addresses, ..
            } => (*threads, addresses.clone()),
            w => (w.threads(), Vec::new()),
        }
    }

    /// Whether this process reports (it holds worker 0).
    pub fn reports(&self) -> bool {
        !matches!(self, Workers::Cluster { process, .. } if *process != 0)
    }
}

/// What a model counts on the side of the search in each process (for
/// this project: the edges checked against the progress measure, and the
/// first that failed), gathered into the reporting process.
pub trait SideCounts: Model {
    /// One process's side counts.
    type Side: timely::ExchangeData + Clone + Default;
    /// This process's.
    fn side(&self) -> Self::Side;
    /// Whether the model was told to stop (a limit, an interrupt); asked
    /// before each state is expanded, which is left unexpanded if so.
    fn stopped(&self) -> bool {
        false
    }
    /// In the reporting process, once the search is done: every process's
    /// side counts, and how many transitions were taken again to rebuild
    /// states that crossed processes (not new transitions).
    fn absorb(&self, sides: Vec<Self::Side>, replayed: u64);
}

/// A successor on its way to the worker that owns its fingerprint.
#[derive(Clone)]
struct Claim<S> {
    fp: u64,
    /// Index of the initial state, then of each action in the listing.
    path: Vec<u32>,
    /// The `eventually` properties not yet seen to hold on the path.
    ebits: u64,
    /// The state itself, when it did not cross processes (boxed: a claim
    /// stays small, and timely's buffers of them few).
    state: Option<Box<S>>,
}

impl<S> Serialize for Claim<S> {
    fn serialize<Z: serde::Serializer>(&self, z: Z) -> Result<Z::Ok, Z::Error> {
        (self.fp, &self.path, self.ebits).serialize(z)
    }
}

impl<'de, S> Deserialize<'de> for Claim<S> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (fp, path, ebits) = <(u64, Vec<u32>, u64)>::deserialize(d)?;
        Ok(Claim {
            fp,
            path,
            ebits,
            state: None,
        })
    }
}

/// A property shown, with the path that shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Shown {
    property: usize,
    path: Vec<u32>,
}

/// One worker's share of the result.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Share<Side> {
    states: usize,
    unique: usize,
    max_depth: usize,
    shown: Vec<Shown>,
    /// A path that did not replay, or a listing too long for a path index.
    error: Option<String>,
    /// Transitions taken to rebuild states that crossed processes.
    replayed: u64,
    /// States left unexpanded at the deadline or a stop of the model's.
    cut: bool,
    side: Option<Side>,
}

/// Fingerprints are hashes already.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A set or map keyed by fingerprints.
type Fingerprints = BuildHasherDefault<Identity>;

/// One round's claims, by fingerprint.
type Round<S> = HashMap<u64, Claim<S>, Fingerprints>;

/// Claims for one worker, sent as one record: one buffer for many claims
/// (timely's own buffers of single claims cost the allocator dearly).
type Batch<S> = (u64, Vec<Claim<S>>);

/// The worker that owns a fingerprint.
fn owner(fp: u64, peers: usize) -> usize {
    (fp % peers as u64) as usize
}

/// A round being expanded: its capability and the states left.
type Work<S> = (Capability<u32>, VecDeque<Claim<S>>);

/// States expanded per activation of a worker.
const CHUNK: usize = 64;

/// A digest of what the processes must agree on.
pub fn key_of<T: Hash>(value: &T) -> u64 {
    fingerprint(value)
}

/// A state's fingerprint: Stateright's own (aHash with its fixed seeds),
/// the same in every process of one build.
fn fingerprint<T: Hash>(value: &T) -> u64 {
    ahash::RandomState::with_seeds(123_456_789_987_654_321, 98_765_432_123_456_789, 0, 0)
        .hash_one(value)
}

/// Which of two paths showing a property is kept: for `always` and
/// `sometimes`, the one a one-thread BFS pops first (shortest, then least);
/// for `eventually`, the last (Stateright records every terminal one).
fn better(e: Expectation, new: &[u32], old: &[u32]) -> bool {
    let key = |p: &[u32]| (p.len(), p.to_vec());
    match e {
        Expectation::Eventually => key(new) > key(old),
        _ => key(new) < key(old),
    }
}

fn keep(shown: &mut Vec<Shown>, e: Expectation, property: usize, path: &[u32]) {
    match shown.iter_mut().find(|s| s.property == property) {
        Some(s) if better(e, path, &s.path) => s.path = path.to_vec(),
        Some(_) => {}
        None => shown.push(Shown {
            property,
            path: path.to_vec(),
        }),
    }
}

/// The state at the end of `path`, replayed from its initial state.
fn replay<M: Model>(model: &M, path: &[u32]) -> Result<M::State, String> {
    let (first, rest) = path.split_first().ok_or("an empty path")?;
    let mut state = model
        .init_states()
        .into_iter()
        .nth(*first as usize)
        .ok_or_else(|| format!("path {path:?}: no initial state {first}"))?;
    let mut actions = Vec::new();
    for (step, &i) in rest.iter().enumerate() {
        actions.clear();
        model.actions(&state, &mut actions);
        let Some(action) = actions.drain(..).nth(i as usize) else {
            return Err(format!(
                "path {path:?} does not replay: step {step} has no action {i} (the model is not deterministic)"
            ));
        };
        state = model.next_state(&state, action).ok_or_else(|| {
            format!("path {path:?} does not replay: step {step}'s action {i} changes nothing")
        })?;
    }
    Ok(state)
}

/// The search's limits.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    /// Stop expanding at this instant (the time spent connecting counts).
    pub deadline: Option<Instant>,
    /// States at this depth or deeper are counted, not checked or expanded
    /// (Stateright's `target_max_depth`).
    pub max_depth: Option<usize>,
}

/// A search's failure, read once it is done: nothing is then proved.
pub struct Failure(Arc<Mutex<Option<Share<()>>>>);

impl Failure {
    /// The failure, if any.
    pub fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|s| s.error.clone())
    }

    /// Whether some worker left states unexpanded (the deadline, or a
    /// stop of the model's in some process).
    pub fn cut(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|s| s.cut)
    }
}

/// Live counts of this process, for the progress line.
#[derive(Default)]
struct Live {
    states: AtomicUsize,
    unique: AtomicUsize,
    max_depth: AtomicUsize,
}

/// The search, as a Stateright [`Checker`] (so the project's report,
/// traces and exports are the single-process checker's).
pub struct DataflowChecker<M: Model> {
    model: Arc<M>,
    live: Arc<Live>,
    total: Arc<Mutex<Option<Share<()>>>>,
    done: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl<M> DataflowChecker<M>
where
    M: SideCounts + Send + Sync + 'static,
    M::State: Clone + Hash + PartialEq + Send + 'static,
    M::Action: Clone + PartialEq,
{
    /// Starts the search of `model` on `workers`. `key` is what every
    /// process must agree on (a digest of the model's configuration and the
    /// search's options): a process of another key is refused. An error
    /// says why the workers could not start (an address, a peer).
    pub fn spawn(model: M, workers: Workers, limits: Limits, key: u64) -> Result<Self, String> {
        let model = Arc::new(model);
        let live = Arc::new(Live::default());
        let total = Arc::new(Mutex::new(None));
        let done = Arc::new(AtomicBool::new(false));
        let props = model.properties();
        if props.len() > 64 {
            return Err(format!("{} properties: at most 64", props.len()));
        }
        let props = Arc::new(props);
        let deadline = limits.deadline;
        let threads = workers.threads();
        let (m, l) = (Arc::clone(&model), Arc::clone(&live));
        let (allocators, others) = workers.allocators(key)?;
        let config = timely::WorkerConfig::default();
        let guards = timely::execute::execute_from(allocators, others, config, move |worker| {
            let run = Run {
                model: &m,
                props: &props,
                live: &l,
                deadline,
                max_depth: limits.max_depth,
                threads,
            };
            search(worker, run)
        })?;
        let (m, t, d) = (Arc::clone(&model), Arc::clone(&total), Arc::clone(&done));
        let handle = std::thread::Builder::new()
            .name("timely-join".into())
            .spawn(move || {
                // A peer that dies makes timely's threads panic, and its
                // guard's drop too: caught, so that the search always ends.
                let joined =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| guards.join()));
                let (mut merged, mut error) = (None, None);
                match joined {
                    Ok(results) => {
                        for r in results {
                            match r {
                                Ok(Some((share, sides))) => {
                                    m.absorb(sides, share.replayed);
                                    merged = Some(share);
                                }
                                Ok(None) => {}
                                Err(e) => {
                                    error.get_or_insert(format!("a timely worker failed: {e}"));
                                }
                            }
                        }
                    }
                    Err(p) => {
                        error = Some(format!(
                            "timely's networking failed (a peer died?): {}",
                            panic_text(&*p)
                        ));
                    }
                }
                let mut total: Share<()> = merged.unwrap_or_default();
                // A path shown must rebuild in this process's model.
                if let Some(s) = total.shown.iter().find(|s| to_path(&*m, &s.path).is_none()) {
                    error
                        .get_or_insert(format!("the path {:?} shown does not replay here", s.path));
                }
                total.error = total.error.or(error);
                *t.lock().unwrap_or_else(|p| p.into_inner()) = Some(total);
                d.store(true, Ordering::Release);
            })
            .map_err(|e| e.to_string())?;
        Ok(DataflowChecker {
            model,
            live,
            total,
            done,
            handle: Some(handle),
        })
    }

    /// Where a worker failure or a path that did not replay is told, once
    /// the search is done.
    pub fn failure(&self) -> Failure {
        Failure(Arc::clone(&self.total))
    }
}

/// What every worker of a process shares.
struct Run<'a, M: Model> {
    model: &'a Arc<M>,
    props: &'a Arc<Vec<stateright::Property<M>>>,
    live: &'a Arc<Live>,
    deadline: Option<Instant>,
    max_depth: Option<usize>,
    /// Worker threads per process.
    threads: usize,
}

/// One worker's search; worker 0 returns the merged shares and the other
/// processes' side counts.
fn search<M>(
    worker: &mut timely::worker::Worker,
    run: Run<'_, M>,
) -> Option<(Share<()>, Vec<M::Side>)>
where
    M: SideCounts + Send + Sync + 'static,
    M::State: Clone + Hash + PartialEq + Send + 'static,
    M::Action: Clone + PartialEq,
{
    let Run {
        model,
        props,
        live,
        deadline,
        max_depth,
        threads,
    } = run;
    let index = worker.index();
    let share: Rc<RefCell<Share<M::Side>>> = Rc::default();
    let all_ebits = props
        .iter()
        .enumerate()
        .filter(|(_, p)| p.expectation == Expectation::Eventually)
        .fold(0u64, |b, (i, _)| b | 1 << i);
    let init: Vec<Claim<M::State>> = if index == 0 {
        model
            .init_states()
            .into_iter()
            .filter(|s| model.within_boundary(s))
            .enumerate()
            .map(|(i, s)| Claim {
                fp: fingerprint(&s),
                path: vec![i as u32],
                ebits: all_ebits,
                state: Some(Box::new(s)),
            })
            .collect()
    } else {
        Vec::new()
    };
    // Stateright counts the initial states as generated.
    share.borrow_mut().states = init.len();
    live.states.fetch_add(init.len(), Ordering::Relaxed);
    let peers = worker.peers();
    let init: Vec<Batch<M::State>> = init
        .into_iter()
        .map(|c| (owner(c.fp, peers) as u64, vec![c]))
        .collect();
    let (m, l, e, s) = (
        Arc::clone(model),
        Arc::clone(live),
        Arc::clone(props),
        Rc::clone(&share),
    );
    worker.dataflow::<u32, _, _>(move |scope| {
        let (handle, cycle) = scope.feedback(1u32);
        let mut seen: HashSet<u64, Fingerprints> = HashSet::default();
        let mut pending: BTreeMap<u32, (Capability<u32>, Round<M::State>)> = BTreeMap::new();
        // The round being expanded, a chunk per activation: between chunks
        // the claims sent so far are received and deduplicated, so that
        // what waits is the next level's new states, not every successor.
        let mut work: Option<Work<M::State>> = None;
        init.to_stream(scope)
            .container::<Vec<_>>()
            .concat(cycle)
            .unary_frontier(
                Exchange::new(|b: &Batch<M::State>| b.0),
                "Expand",
                move |_, info| {
                    let activator = scope.activator_for(info.address);
                    move |(input, frontier), output| {
                        input.for_each(|cap, data| {
                            let Some(cap) = cap.retain_least(0) else {
                                return;
                            };
                            let round = pending
                                .entry(*cap.time())
                                .or_insert_with(|| (cap, Round::default()));
                            // A state seen in an earlier round is dropped at
                            // once; of one round's claims of a state, the
                            // least path is kept.
                            let claims = data.drain(..).flat_map(|(_, b)| b);
                            for c in claims.filter(|c| !seen.contains(&c.fp)) {
                                match round.1.entry(c.fp) {
                                    Entry::Vacant(v) => {
                                        v.insert(c);
                                    }
                                    Entry::Occupied(mut o) => {
                                        if c.path < o.get().path {
                                            o.insert(c);
                                        }
                                    }
                                }
                            }
                        });
                        if work.is_none() {
                            if let Some(time) = pending.keys().next().copied() {
                                if !frontier.less_equal(&time) {
                                    if let Some((cap, claims)) = pending.remove(&time) {
                                        let mut fresh: Vec<_> = claims
                                            .into_values()
                                            .filter(|c| seen.insert(c.fp))
                                            .collect();
                                        // In a one-thread BFS's order: the
                                        // states then die in the order they
                                        // were made (kind to the allocator).
                                        fresh.sort_unstable_by(|a, b| a.path.cmp(&b.path));
                                        let fresh = VecDeque::from(fresh);
                                        let mut share = s.borrow_mut();
                                        share.unique += fresh.len();
                                        l.unique.fetch_add(fresh.len(), Ordering::Relaxed);
                                        work = Some((cap, fresh));
                                    }
                                }
                            }
                        }
                        let Some((cap, fresh)) = &mut work else {
                            return;
                        };
                        let mut session = output.session(&*cap);
                        let mut share = s.borrow_mut();
                        let mut out: Vec<Vec<Claim<M::State>>> =
                            (0..peers).map(|_| Vec::new()).collect();
                        let chunk = fresh.len().min(CHUNK);
                        for claim in fresh.drain(..chunk) {
                            if share.error.is_some() {
                                continue;
                            }
                            // Past the deadline or a stop (a limit, an
                            // interrupt), a state is left unexpanded: not
                            // taken for terminal, not replayed.
                            if deadline.is_some_and(|d| Instant::now() >= d) || m.stopped() {
                                share.cut = true;
                                continue;
                            }
                            let state = match claim.state {
                                Some(st) => *st,
                                None => match replay(&*m, &claim.path) {
                                    Ok(st) => {
                                        share.replayed += claim.path.len() as u64 - 1;
                                        st
                                    }
                                    Err(err) => {
                                        share.error = Some(err);
                                        continue;
                                    }
                                },
                            };
                            let next = expand(
                                &*m,
                                &e,
                                &mut share,
                                &l,
                                state,
                                claim.path,
                                claim.ebits,
                                max_depth,
                            );
                            for c in next {
                                let to = owner(c.fp, peers);
                                // A state this worker has seen is dropped at
                                // once, as it would be on arrival: freed
                                // right after it was made (kind to the
                                // allocator).
                                if to == index && seen.contains(&c.fp) {
                                    continue;
                                }
                                out[to].push(c);
                            }
                        }
                        for (dest, batch) in out.into_iter().enumerate() {
                            if !batch.is_empty() {
                                session.give((dest as u64, batch));
                            }
                        }
                        drop(session);
                        if fresh.is_empty() {
                            work = None;
                        }
                        // Another chunk, or the next round if it is ready.
                        activator.activate();
                    }
                },
            )
            .connect_loop(handle);
    });
    while worker.has_dataflows() {
        worker.step_or_park(None);
    }
    // Every share to worker 0; each process's side counts from its first.
    let mut mine = share.borrow().clone();
    if index % threads == 0 {
        mine.side = Some(model.side());
    }
    let gathered: Rc<RefCell<Vec<Share<M::Side>>>> = Rc::default();
    let sink = Rc::clone(&gathered);
    worker.dataflow::<u32, _, _>(move |scope| {
        vec![mine].to_stream(scope).container::<Vec<_>>().sink(
            Exchange::new(|_: &Share<M::Side>| 0),
            "Gather",
            move |(input, _)| {
                input.for_each(|_, data| sink.borrow_mut().append(data));
            },
        );
    });
    while worker.has_dataflows() {
        worker.step_or_park(None);
    }
    if index != 0 {
        return None;
    }
    let shares = gathered.take();
    let mut total = Share::<()>::default();
    let mut sides = Vec::new();
    for sh in shares {
        total.states += sh.states;
        total.unique += sh.unique;
        total.max_depth = total.max_depth.max(sh.max_depth);
        total.replayed += sh.replayed;
        total.cut |= sh.cut;
        total.error = total.error.or(sh.error);
        for shown in sh.shown {
            keep(
                &mut total.shown,
                props[shown.property].expectation.clone(),
                shown.property,
                &shown.path,
            );
        }
        sides.extend(sh.side);
    }
    Some((total, sides))
}

/// Checks the properties on `state` and lists its successors' claims:
/// Stateright 0.31's `BfsChecker::check_block`, one state.
#[allow(clippy::too_many_arguments)]
fn expand<M: Model, Side>(
    model: &M,
    props: &[stateright::Property<M>],
    share: &mut Share<Side>,
    live: &Live,
    state: M::State,
    path: Vec<u32>,
    mut ebits: u64,
    max_depth: Option<usize>,
) -> Vec<Claim<M::State>>
where
    M::State: Hash,
{
    let depth = path.len();
    if depth > share.max_depth {
        share.max_depth = depth;
        live.max_depth.fetch_max(depth, Ordering::Relaxed);
    }
    if max_depth.is_some_and(|d| depth >= d) {
        return Vec::new();
    }
    for (i, p) in props.iter().enumerate() {
        let shows = match p.expectation {
            Expectation::Always => !(p.condition)(model, &state),
            Expectation::Sometimes => (p.condition)(model, &state),
            Expectation::Eventually => {
                if ebits & (1 << i) != 0 && (p.condition)(model, &state) {
                    ebits &= !(1 << i);
                }
                false
            }
        };
        if shows {
            keep(&mut share.shown, p.expectation.clone(), i, &path);
        }
    }
    let mut actions = Vec::new();
    model.actions(&state, &mut actions);
    let mut next = Vec::new();
    for (i, action) in actions.into_iter().enumerate() {
        let Some(s) = model.next_state(&state, action) else {
            continue;
        };
        if !model.within_boundary(&s) {
            continue;
        }
        let Ok(i) = u32::try_from(i) else {
            share.error = Some(format!("a state lists over {} actions", u32::MAX));
            break;
        };
        let mut p = path.clone();
        p.push(i);
        next.push(Claim {
            fp: fingerprint(&s),
            path: p,
            ebits,
            state: Some(Box::new(s)),
        });
    }
    share.states += next.len();
    live.states.fetch_add(next.len(), Ordering::Relaxed);
    if next.is_empty() {
        for (i, p) in props.iter().enumerate() {
            if ebits & (1 << i) != 0 {
                keep(&mut share.shown, p.expectation.clone(), i, &path);
            }
        }
    }
    next
}

impl<M> Checker<M> for DataflowChecker<M>
where
    M: Model,
    M::State: Hash,
{
    fn model(&self) -> &M {
        &self.model
    }

    fn state_count(&self) -> usize {
        self.final_count_of(|s| s.states, &self.live.states)
    }

    fn unique_state_count(&self) -> usize {
        self.final_count_of(|s| s.unique, &self.live.unique)
    }

    fn max_depth(&self) -> usize {
        self.final_count_of(|s| s.max_depth, &self.live.max_depth)
    }

    fn discoveries(&self) -> HashMap<&'static str, Path<M::State, M::Action>>
    where
        M::State: Clone + PartialEq,
        M::Action: Clone + PartialEq,
    {
        let props = self.model.properties();
        let total = self.total.lock().unwrap_or_else(|p| p.into_inner());
        let Some(total) = total.as_ref() else {
            return HashMap::new();
        };
        total
            .shown
            .iter()
            .filter_map(|s| {
                let path = to_path(&*self.model, &s.path)?;
                Some((props.get(s.property)?.name, path))
            })
            .collect()
    }

    fn handles(&mut self) -> Vec<std::thread::JoinHandle<()>> {
        self.handle.take().into_iter().collect()
    }

    fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

impl<M: Model> DataflowChecker<M> {
    fn final_count_of(&self, f: impl Fn(&Share<()>) -> usize, live: &AtomicUsize) -> usize {
        match &*self.total.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(s) => f(s),
            None => live.load(Ordering::Relaxed),
        }
    }
}

/// A panic's message.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
}

/// A path of action indices as a Stateright [`Path`].
fn to_path<M: Model>(model: &M, path: &[u32]) -> Option<Path<M::State, M::Action>>
where
    M::State: Clone + PartialEq,
    M::Action: Clone + PartialEq,
{
    let (first, rest) = path.split_first()?;
    let init = model.init_states().into_iter().nth(*first as usize)?;
    let mut state = init.clone();
    let mut taken = Vec::new();
    let mut actions = Vec::new();
    for &i in rest {
        actions.clear();
        model.actions(&state, &mut actions);
        let action = actions.get(i as usize)?.clone();
        state = model.next_state(&state, action.clone())?;
        taken.push(action);
    }
    Path::from_actions(model, init, taken.iter())
}
