//! Who may do what.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Warehouse floor staff, bound to one warehouse.
    Floor,
    /// Customs supervisor: reads everything, holds, releases, approves, exports.
    Supervisor,
    /// Zone administrator: parties, ratings, warehouses, bins, users.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Floor => "floor",
            Self::Supervisor => "supervisor",
            Self::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "floor" => Some(Self::Floor),
            "supervisor" => Some(Self::Supervisor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// What a session or bearer token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Whatever the user's role may do.
    Full,
    /// Read-only for customs: the audit log, its verification and head, the event feed and
    /// the exports; nothing else. Held by supervisors' and admins' tokens.
    Customs,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Customs => "customs",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(Self::Full),
            "customs" => Some(Self::Customs),
            _ => None,
        }
    }

    /// May a request with this scope call `method path` (a normalised path)?
    pub fn allows(self, method: &str, path: &str) -> bool {
        match self {
            Self::Full => true,
            Self::Customs => {
                let read = matches!(method, "GET" | "HEAD");
                let reads_for_customs = path == "/api/v1/me"
                    || path == "/api/v1/audit"
                    || path.starts_with("/api/v1/audit/")
                    || path == "/api/v1/feed"
                    || path == "/api/v1/feed/status"
                    || path == "/api/v1/customs/folders"
                    || path.starts_with("/api/v1/exports/")
                    || (path.starts_with("/api/v1/returns/") && path.ends_with("/ceb625.xml"));
                // A token may always end itself.
                (read && reads_for_customs) || (method == "DELETE" && path == "/api/v1/session")
            }
        }
    }
}

/// Kinds of enterprise (DOMAIN.md "Parties").
pub const ENTERPRISE_KINDS: [&str; 5] = [
    "platform",
    "ecommerce",
    "agent",
    "logistics",
    "warehouse_operator",
];

/// Areas of a warehouse a bin can belong to.
pub const BIN_AREAS: [&str; 6] = [
    "receiving",
    "pending_inspection",
    "discrepancy",
    "hold",
    "restock",
    "exit",
];

#[cfg(test)]
mod scope_tests {
    use super::Scope;

    #[test]
    fn the_customs_scope_reads_the_audit_log_and_the_exports_only() {
        for (method, path, allowed) in [
            ("GET", "/api/v1/audit", true),
            ("GET", "/api/v1/audit/verify", true),
            ("GET", "/api/v1/audit/export.csv", true),
            ("GET", "/api/v1/exports/ceb625", true),
            ("GET", "/api/v1/returns/RT1/ceb625.xml", true),
            ("GET", "/api/v1/me", true),
            ("GET", "/api/v1/customs/folders", true),
            ("DELETE", "/api/v1/session", true),
            ("GET", "/api/v1/returns", false),
            ("GET", "/api/v1/returns/RT1", false),
            ("GET", "/api/v1/auditx", false),
            ("POST", "/api/v1/audit", false),
            ("POST", "/api/v1/returns/RT1/hold", false),
            ("POST", "/api/v1/tokens", false),
            ("GET", "/api/v1/tokens", false),
            ("GET", "/api/v1/users", false),
        ] {
            assert_eq!(
                Scope::Customs.allows(method, path),
                allowed,
                "{method} {path}"
            );
            assert!(Scope::Full.allows(method, path));
        }
    }
}
