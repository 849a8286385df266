//! The `tcm` command as users run it: bad configurations exit 2 with a clear
//! error, reports come as text or JSON, and the Explorer answers.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tcm(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tcm"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn nonsense_configurations_exit_2_naming_the_problem() {
    let cases: &[(&[&str], &str)] = &[
        (&["check", "--tiers", ""], "at least one masternode"),
        (
            &["check", "--tiers", "gold,platinum"],
            "unknown tier \"platinum\"",
        ),
        (
            &["check", "--reputation", "99999999"],
            "reputation 99999999",
        ),
        (&["check", "--reputation", "-5"], "-5"),
        (
            &["check", "--rules", "tendermint"],
            "unknown rule set \"tendermint\"",
        ),
        (&["check", "--rules", "seed+A3"], "A3 requires A1"),
        (
            &["check", "--byzantine", "7"],
            "Byzantine masternode 7 does not exist",
        ),
        (
            &["check", "--byzantine", "0,1,2,3"],
            "at least one must be honest",
        ),
        (&["check", "--network", "warp"], "unknown network \"warp\""),
        (
            &["check", "--byzantine", "1,1"],
            "Byzantine masternode 1 is listed twice",
        ),
        (
            &["check", "--byzantine", "0"],
            "the Byzantine masternodes weigh 8 of 15, not below the budget of 1/3",
        ),
        (
            &["check", "--config", "reference-tight", "--budget", "1/3"],
            "weigh 8 of 15, not below the budget of 1/3",
        ),
        (&["check", "--budget", "3/2"], "Byzantine budget \"3/2\""),
        (&["check", "--budget", "a third"], "Byzantine budget"),
        (&["check", "--max-attempt", "99"], "max attempt 99"),
        (
            &["check", "--config", "nope"],
            "unknown configuration \"nope\"",
        ),
        (
            &[
                "check",
                "--tiers",
                "gold,gold,gold,gold,gold,gold,gold,gold",
            ],
            "8 masternodes",
        ),
        (
            &["check", "--strategy", "guess"],
            "[possible values: bfs, dfs, simulation]",
        ),
        (
            &["check", "--votes", "some"],
            "[possible values: single, batched, sound, eager]",
        ),
        (
            &["check", "--behaviour", "vote-any,lurk"],
            "invalid value 'lurk'",
        ),
        (
            &["check", "--timing", "soon"],
            "possible values: lock-step, late-starts, staggered, clocked",
        ),
        (
            &["check", "--config-file", "/nonexistent/tcm.json"],
            "--config-file /nonexistent/tcm.json",
        ),
        (
            &["configs", "--show", "nope"],
            "unknown configuration \"nope\"",
        ),
        (
            &["check", "--max-depth", "0"],
            "--max-depth 0 explores nothing",
        ),
        (
            &["check", "--network", "gst:99"],
            "gst:99 stabilizes after the last explored attempt 5",
        ),
        (
            &["check", "--mempool", "99999999999999"],
            "mempool of 99999999999999 transactions",
        ),
        // The budget is measured in the weights the nodes use: under the
        // seed formula at reputation 0.5, Bronze and Free both weigh 1.
        (
            &[
                "check",
                "--rules",
                "seed",
                "--tiers",
                "bronze,free,free",
                "--byzantine",
                "1",
                "--reputation",
                "500",
            ],
            "weigh 1 of 3, not below the budget of 1/3",
        ),
        (
            &["check", "--strategy", "simulation"],
            "give --timeout SECONDS",
        ),
        (
            &["check", "--max-states", "0"],
            "--max-states 0 explores nothing",
        ),
        (
            &["check", "--max-memory", "lots"],
            "--max-memory \"lots\": expected a size",
        ),
        (&["check", "--max-memory", "0G"], "--max-memory \"0G\""),
    ];
    for (args, needle) in cases {
        let (code, out, err) = tcm(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_check_reports_in_text_and_json() {
    let (code, out, _) = tcm(&[
        "check",
        "--config",
        "seed-flaw1",
        "--quiet",
        "--stop-on-violation",
    ]);
    assert_eq!(code, 1, "a violated property exits 1");
    assert!(
        out.contains("agreement                          VIOLATED"),
        "{out}"
    );
    assert!(
        out.contains("counterexample to `agreement` (3 steps)"),
        "{out}"
    );
    let (code, out, _) = tcm(&["check", "--config", "reference-async-active", "--json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["complete"], true);
    assert!(v["unique_states"].as_u64().unwrap() > 1000);
    let statuses: Vec<&str> = v["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    // Agreement, validity; the three locking paths (not reached in one
    // attempt); finalized in attempt 0.
    assert_eq!(
        statuses,
        [
            "held",
            "held",
            "not found",
            "not found",
            "not found",
            "found"
        ]
    );
}

#[test]
fn random_walks_find_and_replay_a_counterexample() {
    // Stateright's simulation replays a path by action indices; a listed
    // action that changes nothing used to break that replay.
    for config in ["seed-flaw1", "seed-flaw4", "reference"] {
        let (code, out, err) = tcm(&[
            "check",
            "--config",
            config,
            "--strategy",
            "simulation",
            "--timeout",
            "3",
            "--quiet",
            "--stop-on-violation",
        ]);
        assert!(!err.contains("panicked"), "{config}: {err}");
        assert!(out.contains("(not exhaustive)"), "{config}: {out}");
        if config == "reference" {
            // Nothing violated, nothing proven.
            assert_eq!(code, 3, "{out}");
            assert!(!out.contains("VIOLATED"), "{out}");
            assert!(out.contains("example of `finalized in attempt 0`"), "{out}");
        } else {
            assert_eq!(code, 1, "{config}: {out}");
            assert!(out.contains("counterexample to `agreement`"), "{out}");
        }
    }
}

#[test]
fn a_masternode_that_is_a_quorum_alone_decides_at_once() {
    for tiers in ["gold", "gold,free,free"] {
        let (code, out, err) = tcm(&["check", "--tiers", tiers, "--byzantine", "", "--quiet"]);
        assert_eq!(code, 0, "{tiers}: {out}{err}");
        assert!(
            out.contains("agreement                          HELD"),
            "{out}"
        );
        assert!(out.contains("mn000: B0·mn000 (Normal, attempt 0)"), "{out}");
    }
}

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
fn a_depth_bound_the_search_never_meets_cuts_nothing_and_no_byzantine_is_said_plainly() {
    // seed explores to depth 10: a bound of 50 is never met, 5 is.
    let (code, out, err) = tcm(&["check", "--config", "seed", "--max-depth", "50", "--quiet"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("depth 10") && out.contains("(exhaustive)"),
        "{out}"
    );
    let (_, out, _) = tcm(&["check", "--config", "seed", "--max-depth", "5", "--quiet"]);
    assert!(out.contains("(not exhaustive)"), "{out}");
    let (_, out, _) = tcm(&["check", "--config", "seed", "--byzantine", "", "--quiet"]);
    assert!(
        out.contains("(all honest)") && out.contains("byzantine    none"),
        "{out}"
    );
    assert!(!out.contains("weight 0 of"), "{out}");
}

/// A run that proves nothing violated but does not settle every property
/// exits 3 with the report of what it did settle: a timeout, a state or
/// memory limit, Ctrl-C. A limit never turns into a liveness violation
/// (the states it leaves unexpanded are not terminal).
#[test]
fn inconclusive_runs_exit_3_with_what_they_settled() {
    let (code, out, _) = tcm(&[
        "check",
        "--config",
        "reference",
        "--timeout",
        "1",
        "--quiet",
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("(not exhaustive)"), "{out}");
    for (limit, value, why) in [
        (
            "--max-states",
            "5000",
            "stopped, state limit: 5000 distinct states",
        ),
        (
            "--max-memory",
            "60M",
            "stopped, memory limit: resident memory passed 60 MB",
        ),
    ] {
        let (code, out, err) = tcm(&["check", "--config", "reference", limit, value, "--quiet"]);
        assert_eq!(code, 3, "{limit}: {out}{err}");
        assert!(out.contains(why), "{out}");
        assert!(
            out.contains("emergency liveness                 UNKNOWN"),
            "{out}"
        );
        assert!(!out.contains("VIOLATED"), "{out}");
        assert!(out.contains("example of `finalized in attempt 0`"), "{out}");
    }
    // Ctrl-C: the partial report, then exit 3.
    let child = Command::new(env!("CARGO_BIN_EXE_tcm"))
        .args(["check", "--config", "reference-active-ladder", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("(not exhaustive: stopped, interrupted)"),
        "{text}"
    );
    assert!(
        text.contains("agreement                          UNKNOWN"),
        "{text}"
    );
    // A settled run exits 0 and says how much memory it took.
    let (code, out, _) = tcm(&["check", "--config", "reference-async-active", "--json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stopped"], serde_json::Value::Null);
    assert!(
        v["peak_memory_bytes"].as_u64().unwrap() > 1_000_000,
        "{out}"
    );
    let (_, out, _) = tcm(&["check", "--config", "reference-async-active", "--quiet"]);
    assert!(out.contains("memory         peak "), "{out}");
}

/// `--stop-on-violation` stops at the state of the first violation (the
/// same on every breadth-first run) and says so; a search that meets none
/// is exhaustive, its verdicts settled.
#[test]
fn stopping_at_a_violation_reports_what_was_settled() {
    let states = |t: &str| -> u64 {
        let l = t.lines().find(|l| l.starts_with("search")).unwrap();
        l.split(", ")
            .nth(1)
            .unwrap()
            .trim_end_matches(" unique")
            .parse()
            .unwrap()
    };
    let (_, full, _) = tcm(&["check", "--config", "seed-flaw1", "--quiet"]);
    for _ in 0..2 {
        let (code, out, _) = tcm(&[
            "check",
            "--config",
            "seed-flaw1",
            "--quiet",
            "--stop-on-violation",
        ]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("(not exhaustive: stopped, at the first violation (--stop-on-violation))"),
            "{out}"
        );
        assert!(
            out.contains("validity                           UNKNOWN"),
            "{out}"
        );
        assert_eq!((states(&out), states(&full)), (115, 240), "{out}");
    }
    let (code, out, _) = tcm(&[
        "check",
        "--config",
        "reference-async-active",
        "--quiet",
        "--stop-on-violation",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(exhaustive)"), "{out}");
    assert!(
        out.contains("validity                           HELD"),
        "{out}"
    );
}

/// `--json` is the versioned format `model/REPORT.md` documents: every field
/// written is listed there, every top-level field listed is written, and the
/// network has one shape.
#[test]
fn the_json_report_is_the_documented_schema() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/REPORT.md")).unwrap();
    let listed = |key: &str| doc.contains(&format!("| `{key}` |"));
    let (_, clocked, _) = tcm(&["check", "--config", "reference-clocked", "--json"]);
    let (_, flaw, _) = tcm(&["check", "--config", "seed-flaw1", "--json"]);
    for out in [clocked, flaw] {
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["schema"], time_consensus_model::check::SCHEMA);
        assert_eq!(v["schema"], "tcm-report/1");
        let top = v.as_object().unwrap();
        let mut keys: Vec<&String> = top.keys().collect();
        keys.extend(v["config"].as_object().unwrap().keys());
        for p in v["properties"].as_array().unwrap() {
            keys.extend(p.as_object().unwrap().keys());
            // Every key of every step, its event, messages and changes.
            let mut stack: Vec<&serde_json::Value> =
                p["path"].as_array().into_iter().flatten().collect();
            while let Some(x) = stack.pop() {
                match x {
                    serde_json::Value::Object(o) => {
                        keys.extend(o.keys());
                        stack.extend(o.values());
                    }
                    serde_json::Value::Array(a) => stack.extend(a),
                    _ => {}
                }
            }
        }
        for k in keys {
            assert!(listed(k), "`{k}` is not in REPORT.md");
        }
        let section = doc.split("## Top level").nth(1).unwrap();
        let section = section.split("\n## ").next().unwrap();
        for line in section.lines().filter(|l| l.starts_with("| `")) {
            let key = line.split('`').nth(1).unwrap();
            assert!(
                top.contains_key(key),
                "REPORT.md lists `{key}`, not written"
            );
        }
    }
    let (_, out, _) = tcm(&["check", "--config", "reference-clocked", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["config"]["network"],
        serde_json::json!({"kind": "gst", "stabilizes_at": 0})
    );
    let (_, out, _) = tcm(&["check", "--config", "seed-flaw1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["config"]["network"], serde_json::json!({"kind": "async"}));
    // And it reads back.
    let r: time_consensus_model::check::Report = serde_json::from_str(&out).unwrap();
    assert_eq!(
        r.config.network,
        time_consensus_model::config::Network::Async
    );
}

fn fresh_dir(tag: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!("tcm-{tag}-{}-{nanos}", std::process::id()))
}

/// An ITF value as ADR-015 defines it: no null, integers as `#bigint`,
/// `#`-objects only of the kinds it names.
fn assert_itf_value(v: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match v {
        Value::Null => panic!("{at}: null is no ITF value"),
        Value::Number(_) => panic!("{at}: a bare number (ITF integers are #bigint)"),
        Value::Bool(_) | Value::String(_) => {}
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| assert_itf_value(x, &format!("{at}[{i}]"))),
        Value::Object(o) => {
            if let Some(k) = o.keys().find(|k| k.starts_with('#')) {
                assert_eq!(o.len(), 1, "{at}: {k} with other fields");
                match (k.as_str(), &o[k]) {
                    ("#bigint", Value::String(s)) => assert!(s.parse::<u64>().is_ok(), "{at}"),
                    ("#tup" | "#set", Value::Array(a)) => a
                        .iter()
                        .for_each(|x| assert_itf_value(x, &format!("{at}.{k}"))),
                    ("#map", Value::Array(a)) => a.iter().for_each(|kv| {
                        let kv = kv.as_array().expect("a #map entry is a pair");
                        assert_eq!(kv.len(), 2, "{at}: a #map entry is a pair");
                        kv.iter()
                            .for_each(|x| assert_itf_value(x, &format!("{at}.#map")));
                    }),
                    ("#unserializable", Value::String(_)) => {}
                    _ => panic!("{at}: {k} is no ITF form"),
                }
            } else {
                for (k, x) in o {
                    assert_itf_value(x, &format!("{at}.{k}"));
                }
            }
        }
    }
}

#[test]
fn trace_out_writes_itf_mermaid_and_node_traces_that_replay() {
    use serde_json::Value;
    // reference-clocked: a node starts after messages were sent to it (its
    // node trace once missed them; the replay now must end where the
    // model's node did, or nothing is written). seed-flaw4: a violation,
    // the seed flow's batches.
    for (config, files) in [("reference-clocked", 5), ("seed-flaw4", 30)] {
        let dir = fresh_dir("trace-out");
        let d = dir.to_str().unwrap();
        // seed-flaw4 explored whole takes minutes: up to its violation.
        let stop: &[&str] = if config == "seed-flaw4" {
            &["--stop-on-violation"]
        } else {
            &[]
        };
        let args = |more: &[&'static str]| {
            let mut a = vec!["check", "--config", config];
            a.extend_from_slice(stop);
            a.extend_from_slice(more);
            a
        };
        let mut out_args = args(&["--quiet", "--trace-out"]);
        out_args.push(d);
        let (code, _, err) = tcm(&out_args);
        assert!(code == 0 || code == 1, "{config}: {err}");
        assert!(
            err.contains(&format!("wrote {files} files")),
            "{config}: {err}"
        );
        let (_, json, _) = tcm(&args(&["--json"]));
        let report: Value = serde_json::from_str(&json).unwrap();
        let shown: Vec<&Value> = report["properties"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["path"].is_array())
            .collect();
        assert!(!shown.is_empty());
        let honest = report["config"]["tiers"].as_array().unwrap().len()
            - report["config"]["byzantine"].as_array().unwrap().len();
        for p in &shown {
            let name = p["name"].as_str().unwrap().replace([' ', '-'], "_");
            let steps = p["path"].as_array().unwrap();
            // ITF: one state per state of the path, each the action's.
            let itf: Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join(format!("{name}.itf.json"))).unwrap(),
            )
            .unwrap();
            assert_eq!(itf["#meta"]["format"], "ITF");
            assert_eq!(itf["#meta"]["status"], p["status"]);
            let states = itf["states"].as_array().unwrap();
            assert_eq!(states.len(), steps.len() + 1, "{config} {name}");
            let vars: Vec<&str> = itf["vars"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(vars.contains(&"now_ms"), config == "reference-clocked");
            for (i, s) in states.iter().enumerate() {
                assert_eq!(s["#meta"]["index"], i);
                let o = s.as_object().unwrap();
                assert_eq!(o.len(), vars.len() + 1, "{config} {name} state {i}");
                for v in &vars {
                    assert_itf_value(&s[*v], &format!("{config} {name} state {i} {v}"));
                }
                assert_eq!(s["nodes"]["#map"].as_array().unwrap().len(), honest);
                if i == 0 {
                    assert_eq!(s["mbt::actionTaken"], "init");
                } else {
                    assert_eq!(s["mbt::actionTaken"], steps[i - 1]["event"]["kind"]);
                    assert_eq!(s["action"], steps[i - 1]["action"]);
                }
            }
            // The last state's decisions are the report's outcome.
            let last = states.last().unwrap()["nodes"]["#map"].as_array().unwrap();
            let decided = last
                .iter()
                .filter(|kv| kv[1]["decision"]["tag"] == "Some")
                .count();
            let undecided = p["outcome"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|o| o.as_str().unwrap().ends_with("undecided"))
                .count();
            assert_eq!(decided + undecided, honest);
            // Mermaid: a participant per masternode, an arrow per message.
            let mmd = std::fs::read_to_string(dir.join(format!("{name}.mmd"))).unwrap();
            assert!(mmd.starts_with("sequenceDiagram\n"));
            let participants = mmd
                .lines()
                .filter(|l| l.trim().starts_with("participant "))
                .count();
            assert_eq!(
                participants,
                report["config"]["tiers"].as_array().unwrap().len()
            );
            let messages: usize = steps
                .iter()
                .map(|s| match s["event"]["kind"].as_str().unwrap() {
                    "deliver" | "lose" => 1,
                    "votes" => s["event"]["votes"].as_array().unwrap().len(),
                    _ => 0,
                })
                .sum();
            let arrows = mmd
                .lines()
                .filter(|l| l.contains("->>") || l.contains("-x"))
                .count();
            assert_eq!(arrows, messages, "{config} {name}");
            assert!(
                !mmd.lines().skip(1).any(|l| l.contains(';')),
                "';' ends a Mermaid statement"
            );
        }
        // Every honest node's node trace, and they replay.
        let traces = std::fs::read_dir(dir.join("vectors/node_trace"))
            .unwrap()
            .count();
        assert_eq!(traces, shown.len() * honest, "{config}");
        assert_eq!(files, shown.len() * (2 + honest));
        let (code, out, err) = tcm(&["conform", dir.join("vectors").to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        let total = out.lines().find(|l| l.starts_with("total")).unwrap();
        let counts: Vec<&str> = total.split_whitespace().take(3).collect();
        assert_eq!(
            counts,
            ["total", &traces.to_string(), &traces.to_string()],
            "{out}"
        );
        // A directory that is not empty is refused before any search.
        let (code, out, err) = tcm(&["check", "--config", config, "--trace-out", d]);
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty() && err.contains("not empty"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn the_typed_command_line_lists_its_values_reads_configuration_files_and_completes() {
    // --help names every value, with what it means.
    let (code, help, _) = tcm(&["check", "--help"]);
    assert_eq!(code, 0);
    for v in [
        "late:",
        "commit-any:",
        "forge-justification:",
        "silent:",
        "sound:",
        "eager:",
        "clocked:",
        "lock-step:",
        "simulation:",
    ] {
        assert!(help.contains(v), "--help does not list {v}\n{help}");
    }
    // A preset written out and read back is the same configuration.
    let dir = fresh_dir("config-file");
    std::fs::create_dir_all(&dir).unwrap();
    let (code, json, _) = tcm(&["configs", "--show", "reference-staggered"]);
    assert_eq!(code, 0);
    let file = dir.join("c.json");
    std::fs::write(&file, &json).unwrap();
    let f = file.to_str().unwrap();
    let (_, from_file, _) = tcm(&["check", "--config-file", f, "--json"]);
    let (_, from_preset, _) = tcm(&["check", "--config", "reference-staggered", "--json"]);
    let a: serde_json::Value = serde_json::from_str(&from_file).unwrap();
    let b: serde_json::Value = serde_json::from_str(&from_preset).unwrap();
    assert_eq!(a["config"], b["config"]);
    assert_eq!(a["unique_states"], b["unique_states"]);
    assert_eq!(a["properties"], b["properties"]);
    // Flags override the file; the result is validated as any configuration.
    let (code, _, err) = tcm(&["check", "--config-file", f, "--max-attempt", "99"]);
    assert_eq!(code, 2);
    assert!(err.contains("max attempt 99"), "{err}");
    // --config and --config-file are one or the other.
    let (code, _, err) = tcm(&["check", "--config", "reference", "--config-file", f]);
    assert_eq!(code, 2, "{err}");
    // A misspelt field is refused, with its place, not ignored.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["max_atempt"] = 1.into();
    std::fs::write(&file, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let (code, _, err) = tcm(&["check", "--config-file", f]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown field `max_atempt`") && err.contains("line"),
        "{err}"
    );
    v.as_object_mut().unwrap().remove("max_atempt");
    v["behaviour"]["bribe"] = true.into();
    std::fs::write(&file, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let (code, _, err) = tcm(&["check", "--config-file", f]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown field `bribe`"), "{err}");
    // Too large a file is refused unread; so is a directory.
    std::fs::write(&file, " ".repeat((1 << 20) + 1)).unwrap();
    let (code, _, err) = tcm(&["check", "--config-file", f]);
    assert_eq!(code, 2);
    assert!(err.contains("over the limit"), "{err}");
    let (code, _, err) = tcm(&["check", "--config-file", dir.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("not a regular file"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    // Completions for the usual shells, naming the subcommands and options.
    for shell in ["bash", "zsh", "fish"] {
        let (code, script, _) = tcm(&["completions", shell]);
        assert_eq!(code, 0);
        assert!(
            script.contains("conform") && script.contains("trace-out"),
            "{shell}"
        );
    }
    let (code, _, _) = tcm(&["completions", "tcsh"]);
    assert_eq!(code, 2);
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
