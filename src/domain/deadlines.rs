//! The 30-day application and 45-day arrival limits, counted from the release of the
//! original declaration list (CEB622 status 800).

use chrono::{Duration, NaiveDate, NaiveDateTime};

pub const APPLY_DAYS: i64 = 30;
pub const ARRIVAL_DAYS: i64 = 45;
/// How close to a limit counts as "near" on dashboards.
pub const NEAR_DAYS: i64 = 5;

pub fn apply_deadline(released_at: NaiveDateTime) -> NaiveDateTime {
    released_at + Duration::days(APPLY_DAYS)
}

pub fn arrival_deadline(released_at: NaiveDateTime) -> NaiveDateTime {
    released_at + Duration::days(ARRIVAL_DAYS)
}

/// An application at `at` is in time when made no later than 30 days after release.
pub fn may_apply(released_at: NaiveDateTime, at: NaiveDateTime) -> bool {
    at <= apply_deadline(released_at)
}

/// A parcel arriving at `at` is late when more than 45 days have passed since release.
pub fn is_late(released_at: NaiveDateTime, at: NaiveDateTime) -> bool {
    at > arrival_deadline(released_at)
}

/// Whole days left until `deadline` (negative once passed), rounded down.
pub fn days_left(deadline: NaiveDateTime, now: NaiveDateTime) -> i64 {
    (deadline - now).num_seconds().div_euclid(86_400)
}

/// The calendar day in China (UTC+8) of a UTC time: what a warehouse calls "today".
pub fn china_date(utc: NaiveDateTime) -> NaiveDate {
    (utc + Duration::hours(8)).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 10, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn the_application_limit_is_thirty_days_to_the_second() {
        let released = t(1, 12);
        assert!(may_apply(released, released + Duration::days(30)));
        assert!(!may_apply(
            released,
            released + Duration::days(30) + Duration::seconds(1)
        ));
    }

    #[test]
    fn a_parcel_is_late_after_forty_five_days() {
        let released = t(1, 12);
        assert!(!is_late(released, released + Duration::days(45)));
        assert!(is_late(released, released + Duration::days(46)));
    }

    #[test]
    fn days_left_round_down_and_go_negative() {
        assert_eq!(days_left(t(10, 12), t(5, 0)), 5);
        assert_eq!(days_left(t(10, 0), t(10, 1)), -1);
    }
}
