//! The footage of a step: the window of a camera's recording around an audit entry, and the
//! link to it on the NVR (network video recorder) that the camera's playback template gives.
//!
//! A template is the NVR's playback URL with placeholders for the window, in the formats NVRs
//! use: `{start}`/`{end}` (ISO 8601 basic, UTC: `20261207T043900Z`), `{start_iso}`/`{end_iso}`
//! (ISO 8601 extended, in the warehouse's time zone with its offset, percent-encoded for a
//! query: `2026-12-07T12:39:00%2B08:00`) and `{start_epoch}`/`{end_epoch}` (seconds since
//! 1970-01-01 UTC).

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::Serialize;

use crate::error::AppError;

/// The placeholders a template may hold.
pub const PLACEHOLDERS: [&str; 6] = [
    "start",
    "end",
    "start_iso",
    "end_iso",
    "start_epoch",
    "end_epoch",
];

/// Longest template accepted.
pub const MAX_TEMPLATE: usize = 500;

/// The time zone warehouses keep their records in: China Standard Time (UTC+8), the zone of
/// every special customs supervision zone.
pub fn warehouse_zone() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("a valid offset")
}

/// Checks an admin's playback template: `http(s)://…`, printable, at most [`MAX_TEMPLATE`]
/// characters, no placeholder but the known ones. Answers it trimmed.
pub fn check_template(url: &str) -> Result<String, AppError> {
    let url = url.trim();
    let bad = |why: String| AppError::validation("playback_url", why);
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(bad(
            "the NVR's playback link starts with http:// or https://".into(),
        ));
    }
    if url.chars().count() > MAX_TEMPLATE {
        return Err(bad(format!("at most {MAX_TEMPLATE} characters")));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("no spaces or control characters".into()));
    }
    let mut rest = url;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| bad("a { without its }".into()))?;
        let name = &rest[open + 1..open + close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(bad(format!(
                "unknown placeholder {{{name}}}; use {}",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            )));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(url.to_string())
}

/// A window of footage around a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Window {
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
}

/// The seconds of footage shown before and after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub before: i64,
    pub after: i64,
}

impl Default for Span {
    fn default() -> Self {
        Self {
            before: 30,
            after: 90,
        }
    }
}

impl Span {
    /// The window around a step done at `at`, in the warehouse's time zone.
    pub fn around(self, at: DateTime<Utc>) -> Window {
        let zone = warehouse_zone();
        Window {
            from: (at - Duration::seconds(self.before)).with_timezone(&zone),
            to: (at + Duration::seconds(self.after)).with_timezone(&zone),
        }
    }
}

static SPAN: std::sync::OnceLock<Span> = std::sync::OnceLock::new();

/// Sets the footage window of this process (from the settings, at start).
pub fn configure(span: Span) {
    let _ = SPAN.set(span);
}

/// The footage window of this process: 30 s before to 90 s after unless configured.
pub fn span() -> Span {
    SPAN.get().copied().unwrap_or_default()
}

/// A step's footage: the camera, the window around the step in the warehouse's time zone, and
/// the link to it on the NVR when the camera has a playback template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Footage {
    pub camera: String,
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    pub url: Option<String>,
}

/// The playback templates of cameras, by (warehouse, camera).
pub type Templates = std::collections::HashMap<(String, String), Option<String>>;

/// The playback templates of every camera of `warehouses`.
pub fn templates(
    conn: &mut crate::db::DbConn,
    warehouses: impl IntoIterator<Item = String>,
) -> Result<Templates, AppError> {
    let mut warehouses: Vec<String> = warehouses.into_iter().collect();
    warehouses.sort();
    warehouses.dedup();
    Ok(crate::db::parties::cameras_of(conn, &warehouses)?
        .into_iter()
        .map(|c| ((c.warehouse_code, c.code), c.playback_url))
        .collect())
}

/// The footage of a step done at `at` in `warehouse`, whose changes name its camera.
pub fn of_step(
    changes: &serde_json::Value,
    warehouse: Option<&str>,
    at: DateTime<Utc>,
    templates: &Templates,
) -> Option<Footage> {
    let camera = changes.get("camera")?.get("after")?.as_str()?.to_string();
    let warehouse = warehouse?.to_string();
    let window = span().around(at);
    let url = templates
        .get(&(warehouse, camera.clone()))
        .cloned()
        .flatten()
        .map(|t| link(&t, window));
    Some(Footage {
        camera,
        from: window.from,
        to: window.to,
        url,
    })
}

/// The link to `window` of the footage, from the camera's template.
pub fn link(template: &str, window: Window) -> String {
    let basic =
        |t: DateTime<FixedOffset>| t.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ").to_string();
    let iso = |t: DateTime<FixedOffset>| {
        t.format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
            .replace('+', "%2B")
    };
    let epoch = |t: DateTime<FixedOffset>| t.timestamp().to_string();
    // Longest names first, so that `{start}` does not take the front of `{start_iso}`: the
    // braces make every placeholder whole, so the order only matters for speed.
    template
        .replace("{start_iso}", &iso(window.from))
        .replace("{end_iso}", &iso(window.to))
        .replace("{start_epoch}", &epoch(window.from))
        .replace("{end_epoch}", &epoch(window.to))
        .replace("{start}", &basic(window.from))
        .replace("{end}", &basic(window.to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 4, 40, 0).unwrap()
    }

    #[test]
    fn the_window_runs_from_30_s_before_to_90_s_after_in_china_time() {
        let w = Span::default().around(at());
        assert_eq!(w.from.to_rfc3339(), "2026-12-07T12:39:30+08:00");
        assert_eq!(w.to.to_rfc3339(), "2026-12-07T12:41:30+08:00");
    }

    #[test]
    fn each_placeholder_format_carries_the_window() {
        let w = Span::default().around(at());
        assert_eq!(
            link("http://nvr/pb?s={start}&e={end}", w),
            "http://nvr/pb?s=20261207T043930Z&e=20261207T044130Z"
        );
        assert_eq!(
            link("https://nvr/pb?from={start_iso}&to={end_iso}", w),
            "https://nvr/pb?from=2026-12-07T12:39:30%2B08:00&to=2026-12-07T12:41:30%2B08:00"
        );
        assert_eq!(
            link("http://nvr/{start_epoch}/{end_epoch}", w),
            format!(
                "http://nvr/{}/{}",
                at().timestamp() - 30,
                at().timestamp() + 90
            )
        );
    }

    #[test]
    fn a_template_is_a_web_link_with_known_placeholders_only() {
        assert!(check_template(" http://nvr/pb?s={start}&e={end} ").is_ok());
        for bad in [
            "ftp://nvr/{start}",
            "javascript:alert(1)",
            "http://nvr/{begin}",
            "http://nvr/{start",
            "http://nvr/a b",
        ] {
            assert!(check_template(bad).is_err(), "{bad}");
        }
        assert!(check_template(&format!("http://{}", "a".repeat(500))).is_err());
    }
}
