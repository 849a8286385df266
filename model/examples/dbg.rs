use stateright::{Checker, Model};
use time_consensus_model::{config::ModelConfig, TcModel};
fn main() {
    let cfg = ModelConfig::preset("seed-flaw1").unwrap();
    let m = TcModel::new(&cfg).unwrap();
    let c = m.checker().spawn_bfs().join();
    let p = c.discovery("agreement").unwrap();
    let m = c.model();
    for (i, (s, a)) in p.into_vec().into_iter().enumerate() {
        let d = m.decisions(&s);
        println!("{i}: {:?} next={:?}", d.iter().map(|(i, d)| (*i, d.hash)).collect::<Vec<_>>(), a.map(|a| m.format_action(&a)));
    }
}
