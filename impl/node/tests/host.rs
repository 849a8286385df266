//! The host without a network: four members pumped by hand in logical time,
//! crashed at seeded points and reopened from their stores. A reopened
//! member's node state must equal the one it had after its last committed
//! batch (so it can never sign a second, different vote), and what it sends
//! again must be byte for byte what it sent before.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time_consensus::sim::SplitMix64;
use time_consensus::Tier;
use time_node::cluster::fast_config;
use time_node::genesis::{self, InitPlan, Setup};
use time_node::host::{Action, Host, Item};
use time_node::metrics::Metrics;
use time_node::store::Store;
use time_node::wire::Frame;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("time-node-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

struct Members {
    files: Vec<PathBuf>,
    hosts: Vec<Host>,
    /// Every frame each member ever handed to the network, encoded.
    sent: Vec<BTreeSet<Vec<u8>>>,
    t0: Instant,
}

fn open(file: &std::path::Path, now: Instant) -> Host {
    let s = Setup::load(file).unwrap();
    let store = Store::open(&s.node.data_dir).unwrap();
    Host::open(
        s.context,
        s.genesis_tip,
        store,
        Duration::from_millis(s.node.block_interval_ms),
        s.node.behaviour,
        Arc::new(Metrics::new()),
        now,
    )
    .unwrap()
}

impl Members {
    fn new(name: &str, n: usize) -> Members {
        let plan = InitPlan::loopback(
            dir(name),
            n,
            &[Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free],
            1,
            100,
            fast_config(),
        )
        .unwrap();
        let files = genesis::init(&plan).unwrap();
        let t0 = Instant::now();
        let hosts = files.iter().map(|f| open(f, t0)).collect();
        Members {
            files,
            hosts,
            sent: vec![BTreeSet::new(); n],
            t0,
        }
    }

    fn index(&self, id: &time_consensus::NodeId) -> usize {
        self.hosts
            .iter()
            .position(|h| h.node().context().id() == id)
            .unwrap()
    }

    /// Routes `actions` of member `from` into `queue`.
    fn route(
        &mut self,
        from: usize,
        actions: Vec<Action>,
        queue: &mut VecDeque<(usize, usize, Arc<Frame>)>,
    ) {
        for a in actions {
            let (to, f) = match a {
                Action::Broadcast(f) => (None, f),
                Action::Send(p, f) => (Some(self.index(&p)), f),
            };
            self.sent[from].insert(time_node::wire::encode(&f).unwrap());
            for j in 0..self.hosts.len() {
                if j != from && to.is_none_or(|t| t == j) {
                    queue.push_back((from, j, f.clone()));
                }
            }
        }
    }
}

/// Reopens member `i` (after a crash: its host dropped, nothing more
/// committed); checks it is in the state it committed, and returns what it
/// sends again.
fn crash(m: &mut Members, i: usize, now: Instant) -> Vec<Action> {
    let before = m.hosts[i].node().state().clone();
    let timers = m.hosts[i].timers().clone();
    drop(m.hosts.remove(i));
    let file = m.files[i].clone();
    m.hosts.insert(i, open(&file, now));
    assert_eq!(
        m.hosts[i].node().state(),
        &before,
        "member {i} reopened in another state"
    );
    // Its timers keep their deadlines (to the millisecond the store keeps).
    let after = m.hosts[i].timers();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        timers.keys().collect::<Vec<_>>()
    );
    for (t, at) in &timers {
        let d = if after[t] > *at {
            after[t] - *at
        } else {
            *at - after[t]
        };
        assert!(
            d <= Duration::from_millis(2),
            "member {i}'s {t:?} moved by {d:?}"
        );
    }
    m.hosts[i].take_resend()
}

/// The protocol messages among `actions`, encoded.
fn messages(actions: &[Action]) -> Vec<Vec<u8>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Broadcast(f) if matches!(**f, Frame::Message(_)) => {
                Some(time_node::wire::encode(f).unwrap())
            }
            _ => None,
        })
        .collect()
}

/// Runs until every member has finalized `heights`, crashing a member
/// with chance `crash_permille` before each step (between batches), and
/// with the same chance right after a batch was committed but before its
/// frames left (they are lost: the member must send its own messages
/// again on reopening); returns the crashes.
fn run(m: &mut Members, heights: u64, crash_permille: u64, seed: u64) -> usize {
    let mut rng = SplitMix64::new(seed);
    let mut queue = VecDeque::new();
    let mut now = m.t0;
    let mut crashes = 0;
    let n = m.hosts.len();
    let mut steps = 0u64;
    while m.hosts.iter().any(|h| h.tip().height < heights) {
        steps += 1;
        assert!(
            steps < 200_000,
            "no progress: tips {:?}",
            m.hosts.iter().map(|h| h.tip().height).collect::<Vec<_>>()
        );
        if rng.range(0, 999) < crash_permille {
            let i = rng.range(0, n as u64 - 1) as usize;
            let sent_before = m.sent[i].clone();
            let resend = crash(m, i, now);
            for a in &resend {
                let f = match a {
                    Action::Broadcast(f) | Action::Send(_, f) => f,
                };
                let bytes = time_node::wire::encode(f).unwrap();
                assert!(
                    sent_before.contains(&bytes),
                    "member {i} sent after a restart what it never sent before: {f:?}"
                );
            }
            m.route(i, resend, &mut queue);
            crashes += 1;
            continue;
        }
        if let Some((from, to, f)) = queue.pop_front() {
            let id = m.hosts[from].node().context().id().clone();
            let item = Item::Frame(Some(id), (*f).clone());
            let actions = m.hosts[to].handle(vec![item], now).unwrap();
            if rng.range(0, 999) < crash_permille {
                // Committed, then killed before sending.
                let resend = crash(m, to, now);
                let again = messages(&resend);
                for lost in messages(&actions) {
                    assert!(
                        again.contains(&lost),
                        "member {to} lost a message it committed to: {}",
                        String::from_utf8_lossy(&lost[4..])
                            .chars()
                            .take(200)
                            .collect::<String>()
                    );
                }
                m.route(to, resend, &mut queue);
                crashes += 1;
                continue;
            }
            m.route(to, actions, &mut queue);
            continue;
        }
        // Nothing in flight: advance logical time to the next deadline.
        let next = m
            .hosts
            .iter()
            .filter_map(Host::next_deadline)
            .min()
            .unwrap();
        now = now.max(next);
        for i in 0..n {
            let due = m.hosts[i].due(now);
            if !due.is_empty() {
                let actions = m.hosts[i].handle(due, now).unwrap();
                m.route(i, actions, &mut queue);
            }
        }
    }
    crashes
}

#[test]
fn four_members_decide_five_heights_and_agree() {
    let mut m = Members::new("host-plain", 4);
    assert_eq!(run(&mut m, 5, 0, 1), 0);
    let chains: Vec<Vec<_>> = m
        .hosts
        .iter()
        .map(|h| {
            h.store()
                .blocks(1, 100)
                .unwrap()
                .iter()
                .map(|b| b.block.hash())
                .collect()
        })
        .collect();
    assert!(chains
        .iter()
        .all(|c| c.len() >= 5 && c[..5] == chains[0][..5]));
}

#[test]
fn crashed_members_reopen_in_the_state_they_committed_and_resend_only_what_they_sent() {
    let mut total = 0;
    for seed in 1..=4 {
        let mut m = Members::new(&format!("host-crash-{seed}"), 4);
        total += run(&mut m, 4, 20, seed);
        let tips: BTreeMap<u64, usize> = m.hosts.iter().fold(BTreeMap::new(), |mut a, h| {
            *a.entry(h.tip().height).or_default() += 1;
            a
        });
        assert!(tips.keys().all(|h| *h >= 4), "{tips:?}");
        for h in 1..=4 {
            let hashes: BTreeSet<_> = m
                .hosts
                .iter()
                .map(|x| x.store().blocks(h, 1).unwrap()[0].block.hash())
                .collect();
            assert_eq!(hashes.len(), 1, "members disagree at height {h}");
        }
    }
    // The runs must really have crashed members (and often).
    assert!(total >= 20, "only {total} crashes");
}

/// Member 1's id and a message it sent, of `height`, matching `pick`.
fn sent_by(
    m: &Members,
    i: usize,
    pick: impl Fn(&time_consensus::Message) -> bool,
) -> time_consensus::Message {
    m.sent[i]
        .iter()
        .filter_map(|b| match time_node::wire::decode(&b[4..]) {
            Ok(Frame::Message(msg)) if pick(&msg) => Some(msg),
            _ => None,
        })
        .next()
        .expect("such a message was sent")
}

fn sends_to(actions: &[Action], peer: &time_consensus::NodeId) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::Send(p, _) if p == peer))
        .count()
}

#[test]
fn floods_of_replayed_votes_and_block_requests_cost_no_rows_and_one_answer() {
    let mut m = Members::new("host-flood", 4);
    run(&mut m, 2, 0, 7);
    let now = m.t0 + Duration::from_secs(3600);
    let tip = m.hosts[0].tip().height;
    let peer = m.hosts[1].node().context().id().clone();
    // A vote of member 1 of the height member 0 finalized last: the R7.6
    // path answers it with the proof, once per gap however often it comes.
    let vote = sent_by(
        &m,
        1,
        |msg| matches!(msg, time_consensus::Message::Vote(v) if v.vote.height == tip),
    );
    let rows = m.hosts[0].store().log(tip).unwrap().len();
    let items = (0..1000)
        .map(|_| Item::Frame(Some(peer.clone()), Frame::Message(vote.clone())))
        .collect();
    let actions = m.hosts[0].handle(items, now).unwrap();
    assert_eq!(sends_to(&actions, &peer), 1, "{actions:?}");
    assert_eq!(
        m.hosts[0].store().log(tip).unwrap().len(),
        rows,
        "a duplicate was logged"
    );
    // A thousand block requests: one answer.
    let items = (0..1000)
        .map(|_| Item::Frame(Some(peer.clone()), Frame::GetBlocks { from: 1, max: 64 }))
        .collect();
    let actions = m.hosts[0].handle(items, now).unwrap();
    assert_eq!(sends_to(&actions, &peer), 1);
    // A stranger's requests are not answered at all.
    let stranger = time_consensus::NodeId::new("mallory").unwrap();
    let actions = m.hosts[0]
        .handle(
            vec![Item::Frame(
                Some(stranger.clone()),
                Frame::GetBlocks { from: 1, max: 64 },
            )],
            now + Duration::from_secs(1),
        )
        .unwrap();
    assert_eq!(sends_to(&actions, &stranger), 0);
}

#[test]
fn a_block_the_node_refuses_does_not_start_its_height() {
    // A block of height 1 with its certificate, from another network: its
    // voters are strangers here.
    let mut other = Members::new("host-other", 4);
    run(&mut other, 1, 0, 3);
    let foreign = other.hosts[0].store().blocks(1, 1).unwrap();
    assert_eq!(foreign.len(), 1);
    let mut m = Members::new("host-refuse", 4);
    let peer = m.hosts[1].node().context().id().clone();
    let actions = m.hosts[0]
        .handle(vec![Item::Frame(Some(peer), Frame::Blocks(foreign))], m.t0)
        .unwrap();
    assert!(
        m.hosts[0].node().state().round().is_none(),
        "the height was started"
    );
    assert_eq!(m.hosts[0].tip().height, 0);
    assert!(actions.is_empty(), "{actions:?}");
    assert!(m.hosts[0].store().log(0).unwrap().is_empty());
}

#[test]
fn a_member_reopened_later_keeps_its_timer_deadlines() {
    let mut m = Members::new("host-timers", 4);
    // Member 0 starts height 1 alone: its phase 1 timer is pending.
    let due = m.hosts[0].due(m.t0);
    assert!(!due.is_empty());
    m.hosts[0].handle(due, m.t0).unwrap();
    assert!(!m.hosts[0].timers().is_empty());
    // Reopened 700 ms later, the timer has 700 ms less to run, not its
    // full delay again (a member restarting in a loop still times out).
    let later = m.t0 + Duration::from_millis(700);
    crash(&mut m, 0, later);
}
