//! Successors computed while listing actions, kept for `next_state`.
//!
//! The lock-step gate holds timers back while a delivery would change
//! something ([`TcModel::busy`]), which it finds by computing successors;
//! Stateright then asks `next_state` for the same ones. Stateright's
//! checkers and path rebuilding call `actions(s)` and then `next_state(s, a)`
//! for the actions listed, on the same state in the same place, before
//! listing any other state's actions: so what `actions` computed is kept
//! per thread, tagged with the state's address, and cleared by the next
//! `actions`. A successor is the same whether computed there or again
//! (`apply` is a function of the state and action), and the pinned state
//! counts and paths show it.

use super::{Action, State};
use std::cell::RefCell;

/// What `actions` computed for the state at `at`.
#[derive(Default)]
struct Memo {
    at: usize,
    kept: Vec<(Action, Option<State>)>,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::default();
}

/// Starts listing `state`'s actions: forgets every other state's successors.
pub(super) fn listing(state: &State) {
    MEMO.with_borrow_mut(|m| {
        m.at = std::ptr::from_ref(state) as usize;
        m.kept.clear();
    });
}

/// Keeps `next`, the successor of `state` under `action` computed while
/// listing, and says whether there is one.
pub(super) fn keep(state: &State, action: &Action, next: Option<State>) -> bool {
    let some = next.is_some();
    MEMO.with_borrow_mut(|m| {
        if m.at == std::ptr::from_ref(state) as usize {
            m.kept.push((action.clone(), next));
        }
    });
    some
}

/// The successor of `state` under `action` if listing computed it.
pub(super) fn take(state: &State, action: &Action) -> Option<Option<State>> {
    MEMO.with_borrow_mut(|m| {
        if m.at != std::ptr::from_ref(state) as usize {
            return None;
        }
        let i = m.kept.iter().position(|(a, _)| a == action)?;
        Some(m.kept.swap_remove(i).1)
    })
}

/// How many successors are kept (tests).
#[cfg(test)]
pub(super) fn kept() -> usize {
    MEMO.with_borrow(|m| m.kept.len())
}
