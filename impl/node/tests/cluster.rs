//! Breaking a real cluster: members are processes of the `time-node` binary
//! on loopback, talking TCP, some behind the project's frame proxy. After
//! every run the stored chains are checked block by block (each block
//! replayed into a fresh node, which verifies its certificate, then all
//! chains compared), and every member's log is searched for equivocation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;
use time_consensus::Tier;
use time_node::cluster::{fast_config, Cluster, ClusterSpec, Replayed};
use time_node::genesis::{member_id, Behaviour};
use time_node::wire::{self, Frame};

const TIERS: [Tier; 4] = [Tier::Gold, Tier::Silver, Tier::Bronze, Tier::Free];

fn spec(name: &str, nodes: usize, tiers: &[Tier], proxy: bool) -> ClusterSpec {
    let dir = std::env::temp_dir().join(format!("time-node-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    ClusterSpec {
        dir,
        nodes,
        tiers: tiers.to_vec(),
        byzantine: 0,
        behaviours: vec![Behaviour::Honest],
        block_interval_ms: 100,
        proxy,
        config: fast_config(),
    }
}

/// [`spec`] with its last `behaviours.len()` members Byzantine, one
/// behaviour each, no proxy.
fn byzantine(name: &str, nodes: usize, tiers: &[Tier], behaviours: &[Behaviour]) -> ClusterSpec {
    ClusterSpec {
        byzantine: behaviours.len(),
        behaviours: behaviours.to_vec(),
        ..spec(name, nodes, tiers, false)
    }
}

fn start(spec: ClusterSpec) -> Cluster {
    Cluster::start(spec, PathBuf::from(env!("CARGO_BIN_EXE_time-node"))).unwrap()
}

/// Equivocations each member's log reports.
fn equivocations(c: &Cluster) -> Vec<usize> {
    (0..c.len())
        .map(|i| {
            std::fs::read_to_string(c.member_dir(i).join("node.log"))
                .unwrap_or_default()
                .matches("equivocation seen")
                .count()
        })
        .collect()
}

/// Every vote and proposal each member logged as signed, across restarts:
/// (member, kind, height, attempt, step) → the blocks signed for it.
fn signed(c: &Cluster) -> BTreeMap<(usize, String, u64, u32, String), BTreeSet<String>> {
    let mut out: BTreeMap<_, BTreeSet<String>> = BTreeMap::new();
    for i in 0..c.len() {
        let log = std::fs::read_to_string(c.member_dir(i).join("node.log")).unwrap_or_default();
        for line in log.lines().filter(|l| l.contains(" signed ")) {
            let field = |k: &str| -> String {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix(&format!("{k}=")))
                    .unwrap_or_default()
                    .trim_matches('"')
                    .to_string()
            };
            let key = (
                i,
                field("kind"),
                field("height").parse().unwrap(),
                field("attempt").parse().unwrap(),
                field("step"),
            );
            out.entry(key).or_default().insert(field("block"));
        }
    }
    out
}

/// Members that signed two blocks for one slot.
fn double_signers(c: &Cluster) -> Vec<(usize, String, u64, u32, String)> {
    signed(c)
        .into_iter()
        .filter(|(_, blocks)| blocks.len() > 1)
        .map(|(k, _)| k)
        .collect()
}

/// No member saw an equivocation or signed two blocks for one slot.
fn assert_honest(c: &Cluster) {
    assert_eq!(equivocations(c), vec![0; c.len()]);
    assert_eq!(double_signers(c), vec![]);
}

/// The slots signed twice ([`double_signers`]), checked to be member
/// `m`'s proposals only.
fn proposals_doubled_by(c: &Cluster, m: usize) -> Vec<(usize, String, u64, u32, String)> {
    let doubles = double_signers(c);
    assert!(
        doubles
            .iter()
            .all(|(i, kind, ..)| *i == m && kind == "proposal"),
        "{doubles:?}"
    );
    doubles
}

/// The highest tip in the cluster.
fn highest(c: &Cluster) -> u64 {
    c.tips().iter().copied().max().unwrap_or(0)
}

/// Stops the cluster, checks every stored chain and that all of `members`
/// hold at least `heights` blocks; returns the longest chain.
fn check(c: &mut Cluster, members: &[usize], heights: usize) -> Vec<Replayed> {
    let chains = c.verify_chains().unwrap();
    for &i in members {
        assert!(
            chains[i].len() >= heights,
            "member {i} stored {} blocks, expected {heights}",
            chains[i].len()
        );
    }
    chains.into_iter().max_by_key(Vec::len).unwrap_or_default()
}

const LONG: Duration = Duration::from_secs(90);

#[test]
fn four_members_make_twenty_identical_heights() {
    let mut c = start(spec("four", 4, &TIERS, false));
    c.wait_for(&[0, 1, 2, 3], 20, LONG).unwrap();
    let chain = check(&mut c, &[0, 1, 2, 3], 20);
    assert!(chain.len() >= 20);
    assert!(signed(&c).len() >= 4 * 20 * 2, "votes are logged as signed");
    assert_honest(&c);
}

#[test]
fn seven_members_make_twenty_identical_heights() {
    let all: Vec<usize> = (0..7).collect();
    let mut c = start(spec("seven", 7, &TIERS, false));
    c.wait_for(&all, 20, LONG).unwrap();
    check(&mut c, &all, 20);
    assert_honest(&c);
}

#[test]
fn a_member_killed_with_sigkill_restarts_on_its_store_without_equivocating() {
    // Equal weights: any three of four are a quorum, so the others go on.
    let mut c = start(spec("kill", 4, &[Tier::Bronze], false));
    c.wait_for(&[0, 1, 2, 3], 2, LONG).unwrap();
    // Kill member 2 at different points of a height, three times.
    for (round, pause_ms) in [(0u64, 0u64), (1, 40), (2, 130)].iter().copied() {
        let tip = c.tips()[2];
        c.poll(Duration::from_millis(pause_ms), |_, _, _| {})
            .unwrap();
        c.kill(2).unwrap();
        // The others go on without it.
        let others_tip = highest(&c);
        c.wait_for(&[0, 1, 3], others_tip + 3, LONG).unwrap();
        c.restart(2).unwrap();
        // It catches up and then decides with the others again.
        let target = highest(&c) + 2;
        c.wait_for(&[0, 1, 2, 3], target, LONG).unwrap();
        assert!(
            c.tips()[2] > tip,
            "round {round}: member 2 made no progress"
        );
    }
    let caught_up = c
        .seen()
        .values()
        .filter(|m| m.get(&2).is_some_and(|l| l.caught_up))
        .count();
    assert!(caught_up >= 3, "member 2 caught up {caught_up} blocks");
    check(&mut c, &[0, 1, 2, 3], 10);
    // Across its three restarts, member 2 signed one block per slot: its
    // log holds every vote it sent in each of its lives.
    assert_honest(&c);
}

#[test]
fn a_partitioned_member_catches_up_when_healed() {
    let mut c = start(spec("partition", 4, &[Tier::Bronze], true));
    c.wait_for(&[0, 1, 2, 3], 2, LONG).unwrap();
    c.partition(3, true);
    let at_cut = c.tips()[3];
    let tip = highest(&c);
    c.wait_for(&[0, 1, 2], tip + 5, LONG).unwrap();
    // Cut off, member 3 finalized nothing more than what was in flight.
    assert!(c.tips()[3] <= at_cut + 1, "member 3 went on while cut off");
    c.partition(3, false);
    let target = highest(&c) + 2;
    c.wait_for(&[0, 1, 2, 3], target, LONG).unwrap();
    check(&mut c, &[0, 1, 2, 3], target as usize);
    assert_honest(&c);
}

#[test]
fn delay_and_loss_slow_the_chain_but_it_stays_one() {
    let mut c = start(spec("lossy", 4, &[Tier::Bronze], true));
    c.degrade(20, 50);
    c.wait_for(&[0, 1, 2, 3], 8, Duration::from_secs(150))
        .unwrap();
    check(&mut c, &[0, 1, 2, 3], 8);
    assert_honest(&c);
}

#[test]
fn an_equivocating_member_below_a_third_cannot_split_the_chain() {
    let s = byzantine("equivocate", 4, &[Tier::Bronze], &[Behaviour::Equivocate]);
    let mut c = start(s);
    // 30 heights: the equivocator (1/4 of the weight) leads attempt 0 of
    // none of them with chance (3/4)^30, under 2 in 10,000.
    c.wait_for(&[0, 1, 2], 30, LONG).unwrap();
    let chain = check(&mut c, &[0, 1, 2], 30);
    let byzantine = member_id(3);
    let led = chain
        .iter()
        .filter(|r| r.leaders.first() == Some(&Some(byzantine.clone())))
        .count();
    let seen: usize = equivocations(&c)[..3].iter().sum();
    // Each time it led attempt 0 it signed two blocks for it, and one honest
    // peer got both and logged the evidence; honest members never did.
    let doubles = proposals_doubled_by(&c, 3);
    let led_attempt0 = chain
        .iter()
        .enumerate()
        .filter(|(_, r)| r.leaders.first() == Some(&Some(byzantine.clone())));
    for (h, _) in led_attempt0 {
        let slot = (3, "proposal".to_string(), h as u64 + 1, 0, "-".to_string());
        assert!(
            doubles.contains(&slot),
            "it led attempt 0 of height {} without equivocating",
            h + 1
        );
    }
    assert!(led >= 1, "the equivocator never led attempt 0");
    assert!(
        seen >= doubles.len(),
        "{} double proposals, honest members saw {seen}",
        doubles.len()
    );
    eprintln!("the equivocator led attempt 0 at {led} of {} heights; honest members logged {seen} equivocations", chain.len());
}

#[test]
fn half_the_weight_silent_halts_the_chain_without_forking() {
    // Two of four equal members silent: 1/2 of the weight, above the 1/3
    // the protocol tolerates. No quorum can form, so nothing is finalized;
    // what the test shows is that the chain stops rather than forks.
    let s = byzantine("halt", 4, &[Tier::Bronze], &[Behaviour::Silent; 2]);
    let mut c = start(s);
    c.poll(Duration::from_secs(8), |_, _, _| {}).unwrap();
    assert_eq!(c.tips(), &[0, 0, 0, 0]);
    let chains = c.verify_chains().unwrap();
    assert!(chains.iter().all(Vec::is_empty));
}

/// One HTTP/1.1 request on loopback; returns the status line and body.
fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

#[test]
fn a_submitted_transaction_is_finalized_and_the_metrics_say_what_happened() {
    let mut c = start(spec("tx", 4, &TIERS, false));
    c.wait_for(&[0, 1, 2, 3], 1, LONG).unwrap();
    let payload = "74696d652d6e6f6465"; // "time-node"
    for i in 0..4 {
        let (status, body) = http(c.http(i), "POST", "/tx", payload);
        assert!(status.contains("202"), "{status} {body}");
    }
    let (status, _) = http(c.http(0), "POST", "/tx", "not hex");
    assert!(status.contains("400"), "{status}");
    let (status, _) = http(c.http(0), "GET", "/nowhere", "");
    assert!(status.contains("404"), "{status}");
    let tip = highest(&c);
    c.wait_for(&[0, 1, 2, 3], tip + 3, LONG).unwrap();
    let (_, status) = http(c.http(1), "GET", "/status", "");
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert!(
        status["tip_height"].as_u64().unwrap() >= tip + 3,
        "{status}"
    );
    assert_eq!(
        status["mempool"], 0,
        "the transaction is still waiting: {status}"
    );
    let (_, metrics) = http(c.http(2), "GET", "/metrics", "");
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
    };
    assert!(value("time_node_tip_height") >= (tip + 3) as f64);
    assert!(value("time_node_finality_latency_seconds_count") >= (tip + 3) as f64);
    assert!(value("time_node_votes_counted_total") > 0.0);
    assert!(value("time_node_messages_sent_total") > 0.0);
    assert_eq!(value("time_node_equivocations_seen_total"), 0.0);
    // The transaction is in exactly one block of the chain.
    let dir = c.member_dir(0);
    c.verify_chains().unwrap();
    let store = time_node::store::Store::open(&dir.join("data")).unwrap();
    let with_tx = store
        .blocks(1, u32::MAX)
        .unwrap()
        .iter()
        .filter(|b| {
            b.block
                .transactions
                .iter()
                .any(|t| t.payload.as_slice() == b"time-node")
        })
        .count();
    assert_eq!(with_tx, 1);
}

/// Tiers whose last member, a Bronze (2/15 of the weight), reaches the
/// quorum with the Gold's vote alone: what the forger needs to forge.
const FORGER_TIERS: [Tier; 4] = [Tier::Gold, Tier::Silver, Tier::Free, Tier::Bronze];

#[test]
fn a_member_forging_justifications_below_a_third_changes_nothing() {
    let s = byzantine("forge", 4, &FORGER_TIERS, &[Behaviour::ForgeJustification]);
    let mut c = start(s);
    c.wait_for(&[0, 1, 2], 12, LONG).unwrap();
    check(&mut c, &[0, 1, 2], 12);
    let log = std::fs::read_to_string(c.member_dir(3).join("node.log")).unwrap();
    let forged = log.matches("forged").count();
    assert!(forged >= 1, "the forger never forged");
    // As leader it sends several re-proposals for one attempt (justified,
    // tampered, unsupported): honest members see those double proposals,
    // and only those.
    let doubles = proposals_doubled_by(&c, 3);
    let seen: usize = equivocations(&c)[..3].iter().sum();
    assert!(seen == 0 || !doubles.is_empty());
    eprintln!("forged from {forged} honest votes");
}

#[test]
fn a_member_voting_for_anything_below_a_third_changes_nothing() {
    let s = byzantine(
        "vote-any",
        7,
        &[Tier::Bronze],
        &[Behaviour::Equivocate, Behaviour::VoteAny],
    );
    let mut c = start(s);
    let honest: Vec<usize> = (0..5).collect();
    c.wait_for(&honest, 12, LONG).unwrap();
    check(&mut c, &honest, 12);
    let doubles = double_signers(&c);
    assert!(doubles.iter().all(|(i, ..)| *i >= 5), "{doubles:?}");
    let log = std::fs::read_to_string(c.member_dir(6).join("node.log")).unwrap();
    assert!(
        log.contains("voted for any"),
        "the vote-any member never voted"
    );
}

/// Reads one frame from a blocking socket.
fn read_frame(s: &mut std::net::TcpStream) -> std::io::Result<Frame> {
    use std::io::Read;
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
    s.read_exact(&mut body)?;
    wire::decode(&body).map_err(|e| std::io::Error::other(e.to_string()))
}

/// Whether the member closes the connection within `wait`.
fn closed_within(s: &mut std::net::TcpStream, wait: Duration) -> bool {
    use std::io::Read;
    s.set_read_timeout(Some(wait)).unwrap();
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0))
        || matches!(s.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset)
}

#[test]
fn a_hello_must_be_signed_by_the_member_it_names() {
    use std::io::Write;
    let mut c = start(spec("hello", 4, &TIERS, false));
    c.wait_for(&[0, 1, 2, 3], 1, LONG).unwrap();
    let setup = time_node::genesis::Setup::load(&c.member_dir(1).join("node.json")).unwrap();
    let listen = time_node::genesis::Setup::load(&c.member_dir(0).join("node.json"))
        .unwrap()
        .node
        .listen;
    let hello = |sign: &dyn Fn(&time_consensus::Hash32) -> time_consensus::Signature| {
        let mut s = std::net::TcpStream::connect(listen).unwrap();
        let Frame::Challenge { nonce } = read_frame(&mut s).unwrap() else {
            panic!("no challenge first")
        };
        let f = Frame::Hello {
            version: wire::WIRE_VERSION.into(),
            node_id: member_id(1),
            tip_height: 0,
            signature: sign(&nonce),
        };
        s.write_all(&wire::encode(&f).unwrap()).unwrap();
        s
    };
    // Claiming member 1 without its key: closed.
    let mut forged = hello(&|_| time_consensus::Signature([7; 64]));
    assert!(closed_within(&mut forged, Duration::from_secs(3)));
    // Member 1's signature over another nonce: closed (no replay).
    let other = time_consensus::Hash32([9; 32]);
    let stale =
        setup
            .context
            .keypair()
            .sign(&wire::hello_bytes(&other, &member_id(1), &member_id(0), 0));
    let mut replayed = hello(&|_| stale);
    assert!(closed_within(&mut replayed, Duration::from_secs(3)));
    let key = setup.context.keypair().clone();
    // Signed for another acceptor (a hello relayed from a dial to member
    // 2): closed.
    let mut relayed = hello(&|n| key.sign(&wire::hello_bytes(n, &member_id(1), &member_id(2), 0)));
    assert!(closed_within(&mut relayed, Duration::from_secs(3)));
    // Signed by member 1 for member 0 over this nonce: kept open (member 1
    // itself is stopped first, so that its own dial does not replace it).
    c.kill(1).unwrap();
    let sign = |n: &time_consensus::Hash32| {
        key.sign(&wire::hello_bytes(n, &member_id(1), &member_id(0), 0))
    };
    let mut real = hello(&sign);
    assert!(!closed_within(&mut real, Duration::from_secs(1)));
    // A newer connection of the same member replaces it: one each.
    let mut newer = hello(&sign);
    assert!(closed_within(&mut real, Duration::from_secs(3)));
    assert!(!closed_within(&mut newer, Duration::from_secs(1)));
}
