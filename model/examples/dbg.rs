use time_consensus::node::{Input, NodeState, StartHeight};
use time_consensus_model::config::ModelConfig;
fn main() {
    for rules in ["reference", "seed"] {
        let mut cfg = ModelConfig::preset("reference").unwrap();
        cfg.rules = time_consensus::Rules::parse(rules).unwrap();
        let b = cfg.build().unwrap();
        let mut st = NodeState::new(b.tip);
        let mut out = vec![];
        b.contexts[0].handle(&mut st, Input::Start(StartHeight { date: cfg.date(), mempool: vec![], presynchronized: true }), &mut out);
        let r = st.round().unwrap();
        let l: Vec<_> = (0..6).map(|a| r.leader(&b.contexts[0], a)).collect();
        println!("{rules}: {l:?}");
    }
}
