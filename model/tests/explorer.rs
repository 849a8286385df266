//! The Explorer (`tcm explore`) as users run it: it serves its status and
//! states, opens a counterexample at the address `tcm check` prints, refuses
//! requests from other sites, and shows the protocol view in a browser.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::tcm;

/// One HTTP/1.0 request (no chunked encoding to undo): its status code and
/// body, or `None` when nothing answers.
fn http(port: u16, method: &str, path: &str, headers: &[String]) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let mut req = format!("{method} {path} HTTP/1.0\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    write!(s, "{req}\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    let code = head.split(' ').nth(1)?.parse().ok()?;
    Some((code, body.to_string()))
}

fn http_get(port: u16, path: &str) -> Option<String> {
    match http(port, "GET", path, &[format!("Host: 127.0.0.1:{port}")])? {
        (200, body) => Some(body),
        _ => None,
    }
}

/// Starts `tcm explore --port 0` on a configuration: the process and the
/// port it printed, once the Explorer answers.
fn explorer(config: &str) -> (std::process::Child, u16) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcm"))
        .args(["explore", "--config", config, "--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    assert_ne!(port, 0);
    let start = Instant::now();
    while http_get(port, "/.status").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "Explorer never answered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, port)
}

#[test]
fn explorer_serves_its_status_and_states() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcm"))
        .args([
            "explore",
            "--config",
            "reference-async-active",
            "--port",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(body) = http_get(port, "/.status") {
            break body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "Explorer never answered"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let names: Vec<&str> = status["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"agreement") && names.contains(&"validity"),
        "{status}"
    );
    let init: serde_json::Value =
        serde_json::from_str(&http_get(port, "/.states").unwrap()).unwrap();
    assert_eq!(init.as_array().unwrap().len(), 1);
    let next: serde_json::Value =
        serde_json::from_str(&http_get(port, "/.states/0").unwrap()).unwrap();
    let actions: Vec<&str> = next
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["action"].as_str())
        .collect();
    assert!(
        actions.iter().any(|a| a.contains("proposal of")),
        "{actions:?}"
    );
    // A second Explorer on the same port is refused cleanly.
    let (code, _, err) = tcm(&[
        "explore",
        "--config",
        "reference-async-active",
        "--port",
        &port.to_string(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot listen"), "{err}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_counterexample_opens_in_the_explorer_at_the_address_check_prints() {
    let (code, out, _) = tcm(&["check", "--config", "seed-flaw1", "--json"]);
    assert_eq!(code, 1);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let v = &r["properties"][0];
    assert_eq!(v["name"], "agreement");
    let fragment = v["explorer"].as_str().unwrap();
    let indices: Vec<&str> = fragment
        .strip_prefix("#/steps/")
        .unwrap()
        .split('/')
        .collect();
    let steps = v["path"].as_array().unwrap();
    assert_eq!(
        indices.len(),
        steps.len() + 1,
        "the initial state, then each step"
    );
    let (_, text, _) = tcm(&["check", "--config", "seed-flaw1"]);
    assert!(
        text.contains(&format!("http://127.0.0.1:3000/{fragment}")),
        "{text}"
    );
    // --port 0 takes a free port and says which.
    let (mut child, port) = explorer("seed-flaw1");
    // Each step of the path is the action at its index, in the Explorer.
    let mut prefix = String::from("/.states");
    let mut last = serde_json::Value::Null;
    let mut panes = Vec::new();
    for (k, step) in steps.iter().enumerate() {
        prefix.push('/');
        prefix.push_str(indices[k]);
        let body = http_get(port, &prefix).expect("the Explorer answers");
        let next: serde_json::Value = serde_json::from_str(&body).unwrap();
        let at: usize = indices[k + 1].parse().unwrap();
        let chosen = next
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["actionIndex"] == at)
            .unwrap();
        assert_eq!(chosen["action"], step["action"], "step {}", k + 1);
        panes.push(chosen["outcome"].as_str().unwrap().to_string());
        last = chosen.clone();
    }
    // The Current State pane: the protocol's view of the state reached.
    assert_eq!(panes.len(), 3);
    assert_eq!(panes[1], SEED_FLAW1_AFTER_STEP_2, "{}", panes[1]);
    assert_eq!(panes[2], SEED_FLAW1_END, "{}", panes[2]);
    // The sequence diagram: a timeline per masternode, an arrow per vote
    // or proposal delivered, a square per finalization.
    let svg = last["svg"].as_str().unwrap();
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
    assert_eq!(svg.matches("class='svg-actor-timeline'").count(), 4);
    let delivered = steps
        .iter()
        .map(|s| match s["event"]["kind"].as_str().unwrap() {
            "deliver" => 1,
            "votes" => s["event"]["votes"].as_array().unwrap().len(),
            _ => 0,
        })
        .sum::<usize>();
    assert_eq!(
        svg.matches("marker-end='url(#tcm-arrow)'").count(),
        delivered
    );
    let timers = steps
        .iter()
        .filter(|s| s["event"]["kind"] == "timer")
        .count();
    assert_eq!(
        (delivered, timers),
        (0, 3),
        "three timers, nothing delivered"
    );
    assert_eq!(svg.matches("<circle ").count(), timers);
    let finalized = steps
        .iter()
        .flat_map(|s| s["changes"].as_array().unwrap())
        .filter(|c| c["kind"] == "finalizes")
        .count();
    assert_eq!(finalized, 2, "agreement breaks: two nodes finalize");
    assert_eq!(svg.matches("<rect ").count(), finalized);
    for (k, step) in steps.iter().enumerate() {
        assert!(
            svg.contains(&format!("<title>{}. ", k + 1)),
            "step {} labelled: {}",
            k + 1,
            step["action"]
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// What the Explorer's state pane shows after the second step of
/// `seed-flaw1`'s counterexample, and at its end.
const SEED_FLAW1_AFTER_STEP_2: &str = "mn000 FINALIZED B1·mn000 (Normal, attempt 1)
mn001 attempt 0 · VotingWindow · voted · undecided
    votes pooled over the height: mn001 for B0·mn001 (attempt 0, weight 4)
mn002 attempt 0 · ProposalDistribution · undecided
mn003 attempt 0 · ProposalDistribution · undecided

in flight (12 message(s)):
    mn000 → mn001, mn002, mn003: approve vote for B1·mn000 in attempt 1
    mn000 → mn001, mn002, mn003: proposal of B1·mn000 for attempt 1
    mn001 → mn000, mn002, mn003: approve vote for B0·mn001 in attempt 0
    mn001 → mn000, mn002, mn003: proposal of B0·mn001 for attempt 0
";
const SEED_FLAW1_END: &str = "mn000 FINALIZED B1·mn000 (Normal, attempt 1)
mn001 FINALIZED B0·mn001 (Normal, attempt 0)
mn002 attempt 0 · ProposalDistribution · undecided
mn003 attempt 0 · ProposalDistribution · undecided

in flight (12 message(s)):
    mn000 → mn001, mn002, mn003: approve vote for B1·mn000 in attempt 1
    mn000 → mn001, mn002, mn003: proposal of B1·mn000 for attempt 1
    mn001 → mn000, mn002, mn003: approve vote for B0·mn001 in attempt 0
    mn001 → mn000, mn002, mn003: proposal of B0·mn001 for attempt 0
";

#[test]
fn the_explorer_refuses_requests_from_other_sites() {
    let (mut child, port) = explorer("reference");
    let host = format!("Host: 127.0.0.1:{port}");
    // Another site's page posting to the user's Explorer.
    let (code, body) = http(
        port,
        "POST",
        "/.runtocompletion",
        &[host.clone(), "Origin: https://example.com".into()],
    )
    .unwrap();
    assert_eq!(
        (code, body.trim()),
        (403, "POST from origin `https://example.com` refused")
    );
    // Another site's name resolved to 127.0.0.1 (DNS rebinding).
    let (code, _) = http(port, "GET", "/.status", &["Host: attacker.example".into()]).unwrap();
    assert_eq!(code, 403);
    let (code, _) = http(port, "DELETE", "/", std::slice::from_ref(&host)).unwrap();
    assert_eq!(code, 405);
    // None of it started a search: the checker has visited the initial
    // state only (`reference` has 101,618).
    let status: serde_json::Value =
        serde_json::from_str(&http_get(port, "/.status").unwrap()).unwrap();
    assert_eq!(status["unique_state_count"], 1, "{status}");
    // The Explorer's own page, and its own POST, pass.
    let (code, page) = http(port, "GET", "/", std::slice::from_ref(&host)).unwrap();
    assert_eq!(code, 200);
    assert!(page.contains("app.js"), "{page}");
    let origin = format!("Origin: http://127.0.0.1:{port}");
    let (code, _) = http(port, "POST", "/.runtocompletion", &[host, origin]).unwrap();
    assert_eq!(code, 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The browser `.ci/run` installs, or one named by `CHROMIUM`.
fn chromium() -> Option<String> {
    if let Ok(c) = std::env::var("CHROMIUM") {
        return Some(c);
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(String::from)
}

/// The soft limit on this process's address space (`ulimit -v`), if any:
/// Chromium, which reserves tens of GiB of address space, dies at start
/// under one (SIGTRAP).
fn address_space_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Headless Chromium opens the address `tcm check` prints for a
/// counterexample and renders, after the Explorer's script has run, the
/// sequence diagram and the protocol view of the state reached. `.ci/run`
/// installs Chromium and sets `TCM_REQUIRE_BROWSER`, so that CI cannot skip
/// this; elsewhere, without Chromium, it says so and checks nothing.
#[test]
fn the_explorer_shows_the_protocol_view_in_a_browser() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("TCM_REQUIRE_BROWSER").is_none(),
            "TCM_REQUIRE_BROWSER is set but no Chromium is installed (apt-get install chromium)"
        );
        eprintln!("no Chromium (apt-get install chromium): the browser test checked nothing");
        return;
    };
    let (code, out, _) = tcm(&["check", "--config", "seed-flaw1", "--json"]);
    assert_eq!(code, 1);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fragment = r["properties"][0]["explorer"].as_str().unwrap().to_string();
    let (mut child, port) = explorer("seed-flaw1");
    let profile = std::env::temp_dir().join(format!("tcm-chromium-{}", std::process::id()));
    let dom = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--virtual-time-budget=10000",
            "--dump-dom",
            &format!("http://127.0.0.1:{port}/{fragment}"),
        ])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        dom.status.success(),
        "{browser} failed: {:?}{}",
        dom.status,
        address_space_limit()
            .map(|l| format!(
                " (this process may use at most {l} bytes of address space, \
                 and Chromium reserves more at start: run without `ulimit -v`)"
            ))
            .unwrap_or_default()
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    // The state pane holds the protocol view (the Debug dump is behind
    // "Complete State?"), line for line as the Explorer's JSON has it.
    for line in SEED_FLAW1_END.lines().filter(|l| !l.is_empty()) {
        assert!(dom.contains(line), "state pane lacks {line:?}:\n{dom}");
    }
    assert!(
        !dom.contains("actor_states"),
        "the Debug dump is shown:\n{dom}"
    );
    // The sequence diagram, drawn as SVG in the page.
    assert_eq!(
        dom.matches("class=\"svg-actor-timeline\"").count(),
        4,
        "{dom}"
    );
    assert!(
        dom.contains(
            "<title>3. mn001: the voting window of attempt 0 closes ⇒ mn001 FINALIZES B0·mn001"
        ),
        "{dom}"
    );
    // The path of actions, in words.
    assert!(
        dom.contains("mn000: the leader timeout of attempt 0 fires"),
        "{dom}"
    );
}
