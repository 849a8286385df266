//! `--trace-out`: the ITF, Mermaid and node-trace files a check writes, as
//! their formats define them, and the node traces replaying on the node.

use super::*;

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
