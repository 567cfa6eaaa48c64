//! The state machine of one return (one parcel).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Applied for (CEB625), not yet arrived.
    Declared,
    Received,
    Sorted,
    Inspected,
    /// Every returned unit restocked or disposed.
    Closed,
    /// On customs hold; goes back where it was on release.
    Held,
    Cancelled,
}

/// The actions that move a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Receive,
    Sort,
    Inspect,
    /// Restock or dispose of some units (stays inspected until every unit is done).
    Settle,
    Hold,
    Release,
    Cancel,
}

impl State {
    pub const ALL: [State; 7] = [
        Self::Declared,
        Self::Received,
        Self::Sorted,
        Self::Inspected,
        Self::Closed,
        Self::Held,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Declared => "declared",
            Self::Received => "received",
            Self::Sorted => "sorted",
            Self::Inspected => "inspected",
            Self::Closed => "closed",
            Self::Held => "held",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Declared | Self::Received | Self::Sorted | Self::Inspected
        )
    }

    /// Where `action` leads from here, or `None` when it is not allowed.
    pub fn next(self, action: Action) -> Option<State> {
        use Action as A;
        use State as S;
        match (self, action) {
            (S::Declared, A::Receive) => Some(S::Received),
            (S::Received, A::Sort) => Some(S::Sorted),
            (S::Sorted, A::Inspect) => Some(S::Inspected),
            (S::Inspected, A::Settle) => Some(S::Inspected),
            (s, A::Hold) if s.is_open() => Some(S::Held),
            (S::Declared, A::Cancel) => Some(S::Cancelled),
            _ => None,
        }
    }

    /// What a floor worker can sensibly do next. An inspected return offers only what its
    /// units still allow: units that all await a supervisor's disposal approval leave nothing
    /// to restock or dispose of.
    pub fn next_actions(self, late: bool, left: Unsettled) -> Vec<&'static str> {
        match self {
            Self::Declared => vec!["receive"],
            Self::Received => vec!["sort", "print_label"],
            Self::Sorted => vec!["inspect", "print_label"],
            Self::Inspected => {
                let mut next = Vec::with_capacity(3);
                if !late && left.restockable > 0 {
                    next.push("restock");
                }
                if left.disposable > 0 {
                    next.push("dispose");
                }
                next.push("print_label");
                next
            }
            Self::Held => vec!["view", "print_label"],
            Self::Closed | Self::Cancelled => vec!["view"],
        }
    }
}

/// What is left of an inspected return's units for the floor to settle, summed over its lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unsettled {
    /// Intact units that may still go back to bonded stock.
    pub restockable: i64,
    /// Units not yet restocked, disposed of or awaiting a disposal approval.
    pub disposable: i64,
}

impl Unsettled {
    /// Anything a floor worker can still restock or dispose of.
    pub fn any(self) -> bool {
        self.restockable > 0 || self.disposable > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_moves_forward_one_step_at_a_time() {
        assert_eq!(State::Declared.next(Action::Receive), Some(State::Received));
        assert_eq!(State::Received.next(Action::Receive), None);
        assert_eq!(State::Declared.next(Action::Sort), None);
        assert_eq!(State::Sorted.next(Action::Inspect), Some(State::Inspected));
        assert_eq!(State::Received.next(Action::Inspect), None);
    }

    #[test]
    fn any_open_return_can_be_held_but_not_a_closed_one() {
        for s in [
            State::Declared,
            State::Received,
            State::Sorted,
            State::Inspected,
        ] {
            assert_eq!(s.next(Action::Hold), Some(State::Held));
        }
        assert_eq!(State::Closed.next(Action::Hold), None);
        assert_eq!(State::Held.next(Action::Hold), None);
    }

    const SOME: Unsettled = Unsettled {
        restockable: 2,
        disposable: 3,
    };

    #[test]
    fn a_late_parcel_is_never_offered_a_restock() {
        assert!(!State::Inspected
            .next_actions(true, SOME)
            .contains(&"restock"));
        assert!(State::Inspected
            .next_actions(false, SOME)
            .contains(&"restock"));
    }

    #[test]
    fn units_that_all_await_approval_offer_neither_restock_nor_dispose() {
        let waiting = Unsettled::default();
        assert!(!waiting.any());
        assert_eq!(
            State::Inspected.next_actions(false, waiting),
            vec!["print_label"]
        );
    }

    #[test]
    fn only_damaged_units_left_offer_dispose_but_no_restock() {
        let damaged = Unsettled {
            restockable: 0,
            disposable: 1,
        };
        assert_eq!(
            State::Inspected.next_actions(false, damaged),
            vec!["dispose", "print_label"]
        );
    }
}
