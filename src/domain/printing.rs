//! Label printers and print jobs (打印任务): what a printer's address may be, the states of a
//! job, how long to wait before trying a failed label again, and when to stop trying and wait
//! for a person. No I/O: the worker in `crate::printing` sends, `flows::printing` records.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The raw TCP port of label printers (Zebra and most others: "raw 9100", JetDirect).
pub const DEFAULT_PORT: u16 = 9100;

/// Label sizes a printer can be loaded with (the return and bin labels print on both).
pub const PRINTER_SIZES: [&str; 2] = ["100x150", "60x40"];

/// Printer resolutions the labels are rendered for (dots per inch).
pub const PRINTER_DPI: [&str; 3] = ["203", "300", "600"];

/// Automatic tries of a job before it waits for a person (`BR_PRINT_ATTEMPTS`).
pub const DEFAULT_ATTEMPTS: u32 = 5;

/// Longest wait between two automatic tries.
const MAX_BACKOFF_SECONDS: i64 = 60;

/// Where a printer listens: a host (IPv4, IPv6 or a name) and its raw TCP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterAddress {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for PrinterAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl PrinterAddress {
    /// Reads `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; the port is
    /// [`DEFAULT_PORT`] when left out. Host names follow RFC 1123 (letters, digits, `-`, dots),
    /// written in lower case. `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.is_empty() || s.len() > 260 {
            return None;
        }
        if let Ok(v6) = s.parse::<Ipv6Addr>() {
            return Some(Self {
                host: v6.to_string(),
                port: DEFAULT_PORT,
            });
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (v6, after) = rest.split_once(']')?;
            let v6: Ipv6Addr = v6.parse().ok()?;
            let port = match after {
                "" => DEFAULT_PORT,
                p => port(p.strip_prefix(':')?)?,
            };
            return Some(Self {
                host: v6.to_string(),
                port,
            });
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) => (h, port(p)?),
                None => (s, DEFAULT_PORT),
            }
        };
        let host = host.to_ascii_lowercase();
        if host.parse::<Ipv4Addr>().is_ok() || is_host_name(&host) {
            Some(Self { host, port })
        } else {
            None
        }
    }
}

fn port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|&n| n > 0)
}

/// An RFC 1123 host name: labels of 1–63 letters, digits and `-` (not at either end), at most
/// 253 characters, not all digits (that would be a mistyped IPv4 address).
fn is_host_name(h: &str) -> bool {
    let h = h.strip_suffix('.').unwrap_or(h);
    !h.is_empty()
        && h.len() <= 253
        && !h.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Where a print job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its first try, or for the next one after a failure (`next_try_at`).
    Queued,
    /// A worker is sending it now.
    Sending,
    /// The printer took every byte of the label.
    Sent,
    /// Not printed, and no longer tried by itself: waits for a person (reprint or cancel).
    Failed,
    /// Dropped by a person (printed otherwise, or not needed).
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Sending,
        JobState::Sent,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Still to be printed: what the print queue shows.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Queued | Self::Sending | Self::Failed)
    }

    /// A person may ask for it again now (reprint) or drop it (cancel).
    pub fn may_reprint(self) -> bool {
        matches!(self, Self::Queued | Self::Failed | Self::Cancelled)
    }
}

/// Which label a job prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    /// A return label (its id as a Code 128 barcode), stuck on the parcel.
    Return,
    /// A bin label (库位).
    Bin,
    /// An item label of a return's line.
    Item,
}

impl LabelKind {
    pub const NAMES: [&'static str; 3] = ["return", "bin", "item"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Return => "return",
            Self::Bin => "bin",
            Self::Item => "item",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "return" => Some(Self::Return),
            "bin" => Some(Self::Bin),
            "item" => Some(Self::Item),
            _ => None,
        }
    }
}

/// Why a label was not printed: a stable code the screens say in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// Nothing listens at the address (the printer is off, or its port is wrong).
    Refused,
    /// The printer did not answer in time (off the network, asleep, wrong address).
    Timeout,
    /// No route to it, or its name cannot be found.
    Unreachable,
    /// It took the connection and dropped it without taking the label (busy, out of paper,
    /// in an error state, or another program holds it).
    Reset,
    /// The label cannot be made for this printer (e.g. too long for its label size).
    Label,
    /// The printer has been switched off in the admin screen.
    PrinterDisabled,
    /// The printer is no longer registered.
    PrinterRemoved,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::Reset => "reset",
            Self::Label => "label",
            Self::PrinterDisabled => "printer_disabled",
            Self::PrinterRemoved => "printer_removed",
        }
    }

    pub const ALL: [Failure; 7] = [
        Failure::Refused,
        Failure::Timeout,
        Failure::Unreachable,
        Failure::Reset,
        Failure::Label,
        Failure::PrinterDisabled,
        Failure::PrinterRemoved,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Worth trying again by itself: a printer that is off or busy may be back in a moment;
    /// a label that cannot be made, or a printer taken out of service, will not be.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::Refused | Self::Timeout | Self::Unreachable | Self::Reset
        )
    }
}

/// What happens to a job after a failed try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again after this many seconds.
    RetryIn(i64),
    /// Stop trying: wait for a person.
    WaitForPerson,
}

/// After `failures` failed tries in a row (this one included) with `why`, and `attempts`
/// automatic tries allowed: try again after 1, 2, 4 … at most 60 s, or give up.
pub fn after_failure(failures: u32, attempts: u32, why: Failure) -> AfterFailure {
    if !why.is_transient() || failures >= attempts.max(1) {
        AfterFailure::WaitForPerson
    } else {
        AfterFailure::RetryIn(backoff(failures))
    }
}

/// Seconds to wait after `failures` failed tries in a row.
pub fn backoff(failures: u32) -> i64 {
    let doublings = failures.clamp(1, 10) - 1;
    (1_i64 << doublings).min(MAX_BACKOFF_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Option<String> {
        PrinterAddress::parse(s).map(|a| a.to_string())
    }

    #[test]
    fn an_address_is_a_host_and_a_port_that_defaults_to_9100() {
        assert_eq!(addr("192.168.1.50").as_deref(), Some("192.168.1.50:9100"));
        assert_eq!(
            addr(" 192.168.1.50:6101 ").as_deref(),
            Some("192.168.1.50:6101")
        );
        assert_eq!(
            addr("ZT410-Dock.local:9100").as_deref(),
            Some("zt410-dock.local:9100")
        );
        assert_eq!(addr("fe80::1").as_deref(), Some("[fe80::1]:9100"));
        assert_eq!(addr("[fe80::1]:9101").as_deref(), Some("[fe80::1]:9101"));
        assert_eq!(addr("[::1]").as_deref(), Some("[::1]:9100"));
        for bad in [
            "",
            ":9100",
            "printer:",
            "printer:0",
            "printer:65536",
            "printer:91a0",
            "http://printer",
            "printer/9100",
            "-printer",
            "print er",
            "192.168.1",
            "[fe80::1",
            "[fe80::1]9100",
            "打印机:9100",
            "a..b",
        ] {
            assert_eq!(addr(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_failed_label_is_tried_again_after_growing_waits_then_waits_for_a_person() {
        let waits: Vec<AfterFailure> = (1..=5)
            .map(|n| after_failure(n, 5, Failure::Refused))
            .collect();
        assert_eq!(
            waits,
            vec![
                AfterFailure::RetryIn(1),
                AfterFailure::RetryIn(2),
                AfterFailure::RetryIn(4),
                AfterFailure::RetryIn(8),
                AfterFailure::WaitForPerson,
            ]
        );
        assert_eq!(backoff(9), 60);
        assert_eq!(
            after_failure(1, 5, Failure::Label),
            AfterFailure::WaitForPerson
        );
        assert_eq!(
            after_failure(1, 5, Failure::PrinterDisabled),
            AfterFailure::WaitForPerson
        );
    }

    #[test]
    fn states_and_kinds_read_back_as_written() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        for k in LabelKind::NAMES {
            assert_eq!(LabelKind::parse(k).map(LabelKind::as_str), Some(k));
        }
        for f in Failure::ALL {
            assert_eq!(Failure::parse(f.as_str()), Some(f));
        }
        assert!(JobState::Failed.is_open() && !JobState::Sent.is_open());
    }
}
