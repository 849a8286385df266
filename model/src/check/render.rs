//! A report as the text `tcm check` prints.

use super::*;

/// The report as text.
pub fn render(r: &Report) -> String {
    let c = &r.config;
    let mut s = String::new();
    let share = match c.byzantine_share() {
        Ok((byz, total)) => format!("{byz} of {total}"),
        Err(e) => format!("unknown ({e})"),
    };
    let tiers: Vec<String> = c
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| format!("mn{i:03}{}={:?}", if c.is_honest(i) { "" } else { "*" }, t))
        .collect();
    s += &format!("configuration  {}\n", c.name);
    s += &format!("  rules        {}\n", c.rules);
    if c.byzantine.is_empty() {
        s += &format!("  masternodes  {} (all honest)\n", tiers.join(" "));
        s += "  byzantine    none\n";
    } else {
        s += &format!(
            "  masternodes  {} (* Byzantine: {})\n",
            tiers.join(" "),
            c.behaviour
        );
        let budget = match c.budget {
            Some(b) => format!("within the budget: below {b}"),
            None => "no budget".to_string(),
        };
        s += &format!("  byzantine    weight {share} ({budget})\n");
    }
    s += &format!(
        "  attempts     0..={} ({} emergency blocks{}), phase 1 {}\n",
        c.max_attempt,
        if c.emergency { "with" } else { "without" },
        if c.reaches_emergency() {
            ", emergency attempt in bound"
        } else {
            ""
        },
        if c.phase1 { "on" } else { "off" }
    );
    if c.heights > 1 {
        let names = |l: &[usize]| {
            let v: Vec<String> = l.iter().map(|i| format!("mn{i:03}")).collect();
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(" ")
            }
        };
        let share2 = match c.byzantine_share_at(2) {
            Ok((byz, total)) => format!("{byz} of {total}"),
            Err(e) => format!("unknown ({e})"),
        };
        let joined = if c.joins.is_empty() {
            String::new()
        } else {
            format!(
                "; registered at height 2: {}, joining from height 1's finality proof (R7.8)",
                names(&c.joins)
            )
        };
        s += &format!(
            "  heights      1 and 2, each node starting height 2 as it finalizes height 1; deregistered at height 2: {}{joined}; Byzantine weight there {share2}{}\n",
            names(&c.leaves),
            if c.lose_later_proposals {
                "; honest proposals may be lost at both heights"
            } else {
                ""
            }
        );
    }
    s += &format!("  network      {}\n", network_words(c.network));
    if r.kind_batches {
        s += "  votes        batched, a KINDER ADVERSARY here: a Byzantine node votes for two blocks in one step, and batches always have its weight at hand for whichever needs it, and a join of a later attempt (A7) takes only its first vote there; --votes sound keeps every verdict (spec/properties.md)\n";
    } else if c.votes == VoteDelivery::Sound {
        s += "  votes        sound: batches, and a double voter's other votes alone while a batch needs its vote\n";
    } else if c.votes == VoteDelivery::Eager {
        s += "  votes        eager: batches, and every vote of a double voter alone\n";
    } else if c.votes == VoteDelivery::Single {
        s += "  votes        one by one\n";
    }
    match c.timing {
        Timing::LockStep => {}
        Timing::LateStarts => {
            s += "  timing       late-starts: each node starts by an action of its own, all before any timer fires; then lock-step\n"
        }
        Timing::Staggered => {
            s += "  timing       staggered: each node starts by an action of its own; timers wait for quiescence and for the nodes that entered their attempt first\n"
        }
        Timing::Clocked => {
            let starts: Vec<String> = (0..c.tiers.len())
                .filter(|&i| c.is_honest(i))
                .map(|i| format!("mn{i:03} at {} s", c.starts_secs.get(i).unwrap_or(&0)))
                .collect();
            s += &format!(
                "  timing       clocked: timers last what R7.2 sets, on one clock that moves only when no delivery is pending; starts {}\n",
                starts.join(", ")
            );
        }
    }
    s += &format!(
        "search         {:?}: {} states, {} unique, depth {}, {:.2} s, {:.0} states/s{}\n",
        r.strategy,
        r.states,
        r.unique_states,
        r.max_depth,
        r.seconds,
        r.states_per_second,
        match (&r.stopped, r.complete) {
            (_, true) => " (exhaustive)".to_string(),
            (Some(why), false) => format!(" (not exhaustive: stopped, {why})"),
            (None, false) => " (not exhaustive)".to_string(),
        }
    );
    if let Some(engine) = &r.engine {
        s += &format!("engine         {engine}\n");
    }
    if r.peak_memory_bytes > 0 {
        s += &format!(
            "memory         peak {} resident\n",
            memory::gb(r.peak_memory_bytes)
        );
    }
    if let Some(e) = &r.acyclicity_violation {
        s += &format!("state graph    NOT SHOWN ACYCLIC: {e}; the `eventually` verdict is void\n");
    } else if let Some(e) = r.acyclic_edges {
        if r.complete {
            s += &format!(
                "state graph    finite and acyclic: the progress measure rose on all {e} transitions, so `eventually` is checked soundly at terminal states\n"
            );
        } else {
            s += &format!(
                "state graph    the progress measure rose on all {e} transitions explored (the search was not exhaustive, so the whole graph is not shown acyclic)\n"
            );
        }
    }
    s += "properties\n";
    for v in &r.properties {
        s += &format!(
            "  {:<10} {:<34} {}\n",
            v.expectation,
            v.name,
            v.status.as_str().to_uppercase()
        );
    }
    let unreached = |n: &str| {
        r.properties
            .iter()
            .any(|v| v.name == n && v.status == Status::NotFound)
    };
    if unreached("entered the last explored attempt") {
        s +=
            &format!(
            "  (no honest node enters attempt {}, the last explored: no run meets the bound{})\n",
            r.config.max_attempt,
            if r.kind_batches { " under batched delivery" } else { "" }
        );
    }
    if r.properties.iter().any(|v| v.status == Status::NotFound) {
        if r.kind_batches {
            s += "  (a property NOT FOUND is not reached under batched delivery, which spares\n   this adversary: --votes sound may reach it)\n";
        } else {
            s += "  (an ending NOT FOUND cannot happen in this configuration: the properties\n   that held say nothing about heights ending that way here)\n";
        }
    }
    for v in &r.properties {
        let Some(path) = &v.path else { continue };
        let title = if v.status == Status::Violated {
            "counterexample to"
        } else {
            "example of"
        };
        let n = path.len();
        let steps = if n == 1 { "step" } else { "steps" };
        s += &format!("\n{title} `{}` ({n} {steps}):\n", v.name);
        for st in path {
            s += &format!("  {:>3}. {}\n", st.step, st.action);
            for e in &st.effects {
                s += &format!("         ⇒ {e}\n");
            }
        }
        if let Some(o) = &v.outcome {
            s += &format!("  end: {}\n", o.join("; "));
        }
        if let Some(e) = &v.explorer {
            s += &format!(
                "  explore: `tcm explore` with the same options, then http://127.0.0.1:3000/{e}\n"
            );
        }
    }
    s
}

fn network_words(n: Network) -> String {
    match n {
        Network::Async => "async: loss, reordering and duplication; timers fire at any moment".into(),
        Network::Lossy => "lossy: each message delivered at most once or lost; timers fire at any moment".into(),
        Network::Gst(0) => "sync: every message delivered (redeliveries change nothing); timers wait until no delivery is pending".into(),
        Network::Gst(g) => format!(
            "gst:{g}: every message delivered (redeliveries change nothing); timers fire at any moment before attempt {g}, and from attempt {g} on only when no delivery or earlier timer is pending"
        ),
    }
}
