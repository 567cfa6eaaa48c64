//! Inspection grades and where each grade may go (second-sale condition).

use serde::{Deserialize, Serialize};

/// Counts per grade for one returned line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grades {
    /// 完好: fit for resale, may go back to bonded stock.
    pub intact: i64,
    /// 包装破损
    pub damaged_packaging: i64,
    /// 已使用
    pub used: i64,
    /// 功能缺陷
    pub defective: i64,
    /// 非原物: not the item that left the zone.
    pub not_original: i64,
}

impl Grades {
    /// The units graded; saturates instead of overflowing (a client may send any i64).
    pub fn total(&self) -> i64 {
        self.intact
            .saturating_add(self.damaged_packaging)
            .saturating_add(self.used)
            .saturating_add(self.defective)
            .saturating_add(self.not_original)
    }
    pub fn any_negative(&self) -> bool {
        [
            self.intact,
            self.damaged_packaging,
            self.used,
            self.defective,
            self.not_original,
        ]
        .iter()
        .any(|n| *n < 0)
    }
    /// Units that must leave the zone, be re-exported or destroyed.
    pub fn failed(&self) -> i64 {
        self.total().saturating_sub(self.intact)
    }
}

/// Ways out of the warehouse for goods that are not restocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// 出区: leaves the zone as ordinary goods.
    Exit,
    /// 退运出境: re-exported.
    Reexport,
    /// 销毁: destroyed under supervision.
    Destroy,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exit => "exit",
            Self::Reexport => "reexport",
            Self::Destroy => "destroy",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "exit" => Some(Self::Exit),
            "reexport" => Some(Self::Reexport),
            "destroy" => Some(Self::Destroy),
            _ => None,
        }
    }
    /// Re-export and destruction are carried out only with a supervisor's approval.
    pub fn needs_approval(self) -> bool {
        !matches!(self, Self::Exit)
    }
}

/// How many units of a line may still be restocked: intact ones not yet restocked,
/// none at all for a late parcel (it may only leave the zone).
pub fn restockable(grades: &Grades, restocked: i64, late: bool) -> i64 {
    if late {
        0
    } else {
        (grades.intact - restocked).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_intact_units_of_a_timely_parcel_can_be_restocked() {
        let g = Grades {
            intact: 2,
            damaged_packaging: 1,
            ..Default::default()
        };
        assert_eq!(g.total(), 3);
        assert_eq!(g.failed(), 1);
        assert_eq!(restockable(&g, 0, false), 2);
        assert_eq!(restockable(&g, 2, false), 0);
        assert_eq!(restockable(&g, 0, true), 0);
    }

    #[test]
    fn huge_counts_saturate_instead_of_overflowing() {
        let g = Grades {
            intact: 2,
            not_original: i64::MAX - 1,
            ..Default::default()
        };
        assert_eq!(g.total(), i64::MAX);
        assert_eq!(g.failed(), i64::MAX - 2);
    }

    #[test]
    fn only_exit_goes_without_approval() {
        assert!(!Route::Exit.needs_approval());
        assert!(Route::Reexport.needs_approval());
        assert!(Route::Destroy.needs_approval());
    }
}
