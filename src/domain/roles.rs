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
