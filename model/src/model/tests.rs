//! Unit tests of the model: the panic guard and the listing memo.

use super::*;

#[test]
fn a_panic_in_the_model_stops_the_check_as_cut_short() {
    let m = TcModel::new(&ModelConfig::preset("reference").unwrap()).unwrap();
    assert_eq!(m.guard(1, || 2), 2);
    assert!(!m.info.cut.load(Ordering::Relaxed));
    let got = m.guard(1, || -> i32 { panic!("a node bug") });
    assert_eq!(got, 1);
    assert_eq!(
        m.info.panicked.lock().unwrap().as_deref(),
        Some("a node bug")
    );
    assert!(m.info.cut.load(Ordering::Relaxed) && m.info.stop.load(Ordering::Relaxed));
}

/// Down a path of `reference`: what `next_state` returns is what
/// `apply` computes afresh, for every action, whether the gate kept it
/// while listing or not; a copy of the state elsewhere gets nothing
/// kept.
#[test]
fn successors_kept_while_listing_are_the_ones_next_state_computes() {
    let m = TcModel::new(&ModelConfig::preset("reference").unwrap()).unwrap();
    let mut state = m.init_states().remove(0);
    let mut kept = 0;
    for _ in 0..40 {
        let mut actions = Vec::new();
        m.actions(&state, &mut actions);
        kept += memo::kept();
        let copy = state.clone();
        assert!(actions.iter().all(|a| memo::take(&copy, a).is_none()));
        let mut first = None;
        for a in actions {
            let fresh = m.apply(&state, &a);
            let got = m.next_state(&state, a);
            assert!(got == fresh);
            first = first.or(got);
        }
        match first {
            Some(next) => state = next,
            None => break,
        }
    }
    assert!(kept > 0, "the gate kept no successor on this path");
}
