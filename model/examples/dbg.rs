use stateright::Model;
use time_consensus_model::config::{Byzantine, ModelConfig, Network};
use time_consensus_model::TcModel;
fn main() {
    let mut cfg = ModelConfig::preset("reference").unwrap();
    cfg.network = Network::Gst(0);
    cfg.lose_proposals = true;
    cfg.behaviour = Byzantine { equivocate: true, vote_any: true, inflate_weight: false };
    let m = TcModel::new(&cfg).unwrap();
    let mut s = m.init_states().remove(0);
    // Greedy: prefer drops, then timeouts, then anything.
    for step in 0..40 {
        let mut acts = vec![];
        m.actions(&s, &mut acts);
        let pick = acts.iter().position(|a| m.format_action(a).contains("loses"))
            .or_else(|| acts.iter().position(|a| m.format_action(a).contains("timeout")))
            .or(if acts.is_empty() { None } else { Some(0) });
        let Some(i) = pick else { println!("terminal at {step}"); break };
        println!("{step}: {} (of {})", m.format_action(&acts[i]), acts.len());
        if step > 0 && acts.len() < 12 { for a in &acts { println!("      alt: {}", m.format_action(a)); } }
        s = match m.next_state(&s, acts[i].clone()) { Some(n) => n, None => { println!("none"); break } };
    }
    println!("{:?}", m.decisions(&s));
}
