//! Customs credit ratings (海关信用等级) and the exclusion of dishonest enterprises.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// A rating on the scale in force when it was given. Order 282 (since 2026-04-01) uses the
/// first five; the two `general_*` values come from older data under Order 237.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CreditRating {
    /// 高级认证企业 (AEO)
    AdvancedCertified,
    /// 认证企业
    Certified,
    /// 常规 / 其他
    Regular,
    /// 失信企业
    Dishonest,
    /// 严重失信企业
    SeriouslyDishonest,
    /// 一般认证企业 (Order 237)
    GeneralCertified,
    /// 一般信用企业 (Order 237)
    GeneralCredit,
}

impl CreditRating {
    pub const ALL: [CreditRating; 7] = [
        Self::AdvancedCertified,
        Self::Certified,
        Self::Regular,
        Self::Dishonest,
        Self::SeriouslyDishonest,
        Self::GeneralCertified,
        Self::GeneralCredit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AdvancedCertified => "advanced_certified",
            Self::Certified => "certified",
            Self::Regular => "regular",
            Self::Dishonest => "dishonest",
            Self::SeriouslyDishonest => "seriously_dishonest",
            Self::GeneralCertified => "general_certified",
            Self::GeneralCredit => "general_credit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Self::AdvancedCertified => "高级认证企业",
            Self::Certified => "认证企业",
            Self::Regular => "常规企业",
            Self::Dishonest => "失信企业",
            Self::SeriouslyDishonest => "严重失信企业",
            Self::GeneralCertified => "一般认证企业",
            Self::GeneralCredit => "一般信用企业",
        }
    }

    /// Both dishonest levels exclude an enterprise from the return flow.
    pub fn excludes(self) -> bool {
        matches!(self, Self::Dishonest | Self::SeriouslyDishonest)
    }
}

/// One entry of an enterprise's rating history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRecord {
    pub id: i64,
    pub rating: CreditRating,
    pub effective_from: NaiveDateTime,
    pub reference: String,
}

/// The rating in force at `at`: the latest one effective at or before it (later records
/// win a tie). `None` means never rated, which does not exclude.
pub fn rating_at(history: &[RatingRecord], at: NaiveDateTime) -> Option<&RatingRecord> {
    history
        .iter()
        .filter(|r| r.effective_from <= at)
        .max_by_key(|r| (r.effective_from, r.id))
}

/// Is the enterprise excluded at `at`? The one answer every check uses.
pub fn excluded_at(history: &[RatingRecord], at: NaiveDateTime) -> Option<&RatingRecord> {
    rating_at(history, at).filter(|r| r.rating.excludes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    fn rec(id: i64, rating: CreditRating, d: u32) -> RatingRecord {
        RatingRecord {
            id,
            rating,
            effective_from: t(d),
            reference: format!("doc{id}"),
        }
    }

    #[test]
    fn a_dishonest_rating_excludes_from_its_date_on_and_not_before() {
        let h = vec![
            rec(1, CreditRating::Regular, 1),
            rec(2, CreditRating::Dishonest, 10),
        ];
        assert!(excluded_at(&h, t(9)).is_none());
        assert_eq!(excluded_at(&h, t(10)).map(|r| r.id), Some(2));
        assert!(excluded_at(&h, t(20)).is_some());
    }

    #[test]
    fn a_later_rating_lifts_the_exclusion() {
        let h = vec![
            rec(1, CreditRating::SeriouslyDishonest, 1),
            rec(2, CreditRating::Certified, 15),
        ];
        assert!(excluded_at(&h, t(14)).is_some());
        assert!(excluded_at(&h, t(15)).is_none());
    }

    #[test]
    fn never_rated_is_not_excluded_and_every_level_round_trips() {
        assert!(excluded_at(&[], t(1)).is_none());
        for r in CreditRating::ALL {
            assert_eq!(CreditRating::parse(r.as_str()), Some(r));
        }
        assert_eq!(CreditRating::ALL.iter().filter(|r| r.excludes()).count(), 2);
    }
}
