//! Customs messages of cross-border e-commerce retail import (namespace
//! `http://www.chinaport.gov.cn/ceb`): reading and writing
//!
//! * **CEB621** `Inventory`: import declaration lists (申报清单),
//! * **CEB622** `InventoryReturn`: customs' receipts for them (800 = released),
//! * **CEB625** `InvtRefund`: return applications (退货申请单),
//! * **CEB626** `InvtRefundReturn`: customs' receipts for those.
//!
//! [`parse`] detects the kind from the root element and returns each list or
//! receipt as an [`Item`]: parsed, or rejected with the reasons per field,
//! so that one bad list does not stop the others. Structural problems (not
//! XML, truncated, wrong namespace, a DOCTYPE, too large, too many lists)
//! fail the whole message with a [`CustomsError`].
//!
//! Reading accepts what customs accepts where the meaning is clear: any
//! namespace prefix or a default namespace, extra namespace declarations,
//! non-UUID guids, `version` `1.0` or `v1.0`, stray spaces around values,
//! CRLF, unknown elements and foreign blocks such as signatures (ignored),
//! lower-case letters in codes (upper-cased). It is strict where the data
//! matters: invtNo, gnum, gcode, quantities, times, enterprise codes,
//! required fields and lengths (counted in characters).
//!
//! Writers follow the XSD: `ceb:` prefix, elements in sequence order, optional
//! elements omitted when `None`, `BaseTransfer` last. Every written message is
//! parsed back before it is returned, so a writer never hands out a message
//! that this reader (and so, as far as the checked rules go, customs) would
//! reject.
//!
//! Times in the messages are China time (UTC+08:00); the structs hold
//! `DateTime<Utc>`.
//!
//! Personal data (buyer identity number, name, telephone, address) appears in
//! the structs because the messages carry it; error messages never quote it.
//!
//! This module refers to its own items only through `self::`/`super::`, so it
//! can be moved as a unit.

mod ceb621;
mod ceb622;
mod ceb625;
mod ceb626;
mod envelope;
mod fields;

#[cfg(test)]
mod demo_gen;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use self::ceb621::{write_ceb621, Inventory, InventoryLine};
pub use self::ceb622::{status_meaning, write_ceb622, InventoryReturn, STATUS_RELEASED};
pub use self::ceb625::{write_ceb625, write_ceb625_batches, InvtRefund, InvtRefundLine};
pub use self::ceb626::{write_ceb626, InvtRefundReturn, STATUS_APPROVED, STATUS_REJECTED};
pub use self::envelope::BaseTransfer;
pub use self::fields::{
    china, format_date8, format_time14, format_time17, parse_date8, parse_time14, parse_time17,
    Decimal, Qty, QTY_SCALE,
};

/// The namespace of all CEB messages.
pub const NAMESPACE: &str = "http://www.chinaport.gov.cn/ceb";
/// Largest message accepted by [`parse`], in bytes.
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;
/// Most lists, applications or receipts in one message.
pub const MAX_ITEMS: usize = 100;
/// Most lines in one list or application.
pub const MAX_LINES: usize = 99;

/// Why a whole message was refused.
#[derive(Debug, thiserror::Error)]
pub enum CustomsError {
    /// Not well-formed XML (including truncated input and non-UTF-8 text).
    #[error("malformed XML at line {line}, column {column}: {detail}")]
    Malformed {
        line: usize,
        column: usize,
        detail: String,
    },
    /// The root element is not in the CEB namespace (`found` is empty when it
    /// has no namespace at all).
    #[error("wrong namespace: the root element is in {}, expected {NAMESPACE}", if .found.is_empty() { "no namespace" } else { .found.as_str() })]
    WrongNamespace { found: String },
    /// The root element is in the CEB namespace but is not a message this
    /// module handles.
    #[error("unknown message <{0}>: expected CEB621Message, CEB622Message, CEB625Message or CEB626Message")]
    UnknownRoot(String),
    /// The input exceeds [`MAX_MESSAGE_BYTES`].
    #[error("the message is too large: {size} bytes, at most {limit} bytes are accepted")]
    TooLarge { size: usize, limit: usize },
    /// A DOCTYPE or entity declaration (billion laughs, external entities):
    /// refused without being expanded.
    #[error("refused a potentially hostile message: {0}")]
    Hostile(String),
    /// A message-level field is missing or wrong (root attributes,
    /// `BaseTransfer`), or a writer was given data that would make an invalid
    /// message.
    #[error("{path}: {message}")]
    Field { path: String, message: String },
    /// More lists/applications/receipts than a message may hold.
    #[error("too many {what} in one message: {found}, at most {max}")]
    TooMany {
        what: &'static str,
        found: usize,
        max: usize,
    },
    /// The message holds no list/application/receipt at all.
    #[error("the {root} holds no {item}")]
    Empty {
        root: &'static str,
        item: &'static str,
    },
}

/// The four message kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageKind {
    /// Import declaration lists (`CEB621Message` / `Inventory`).
    Ceb621,
    /// Receipts for declaration lists (`CEB622Message` / `InventoryReturn`).
    Ceb622,
    /// Return applications (`CEB625Message` / `InvtRefund`).
    Ceb625,
    /// Receipts for return applications (`CEB626Message` / `InvtRefundReturn`).
    Ceb626,
}

impl MessageKind {
    /// Local name of the root element.
    pub fn root_name(self) -> &'static str {
        match self {
            MessageKind::Ceb621 => "CEB621Message",
            MessageKind::Ceb622 => "CEB622Message",
            MessageKind::Ceb625 => "CEB625Message",
            MessageKind::Ceb626 => "CEB626Message",
        }
    }

    /// Local name of the repeated item element.
    pub fn item_name(self) -> &'static str {
        match self {
            MessageKind::Ceb621 => "Inventory",
            MessageKind::Ceb622 => "InventoryReturn",
            MessageKind::Ceb625 => "InvtRefund",
            MessageKind::Ceb626 => "InvtRefundReturn",
        }
    }

    /// The kind whose root element is called `name`.
    pub fn from_root_name(name: &str) -> Option<MessageKind> {
        [
            MessageKind::Ceb621,
            MessageKind::Ceb622,
            MessageKind::Ceb625,
            MessageKind::Ceb626,
        ]
        .into_iter()
        .find(|k| k.root_name() == name)
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MessageKind::Ceb621 => "CEB621",
            MessageKind::Ceb622 => "CEB622",
            MessageKind::Ceb625 => "CEB625",
            MessageKind::Ceb626 => "CEB626",
        })
    }
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parsed {
    pub kind: MessageKind,
    /// The root's `guid` attribute (not necessarily a UUID).
    pub guid: String,
    /// The root's `version` attribute as written (`1.0` or `v1.0`).
    pub version: String,
    /// Present in CEB621/CEB625 (required there), optional in receipts.
    pub base_transfer: Option<BaseTransfer>,
    pub items: Items,
}

/// The items of a message, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Items {
    Inventory(Vec<Item<Inventory>>),
    InventoryReturn(Vec<Item<InventoryReturn>>),
    InvtRefund(Vec<Item<InvtRefund>>),
    InvtRefundReturn(Vec<Item<InvtRefundReturn>>),
}

impl Items {
    /// Number of items (parsed or rejected).
    pub fn len(&self) -> usize {
        match self {
            Items::Inventory(v) => v.len(),
            Items::InventoryReturn(v) => v.len(),
            Items::InvtRefund(v) => v.len(),
            Items::InvtRefundReturn(v) => v.len(),
        }
    }

    /// True when there are no items (never the case for a parsed message).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rejected items: index, key (invtNo when readable) and errors.
    pub fn errors(&self) -> Vec<(usize, Option<&str>, &[FieldError])> {
        fn collect<T>(v: &[Item<T>]) -> Vec<(usize, Option<&str>, &[FieldError])> {
            v.iter()
                .filter_map(|i| {
                    i.result
                        .as_ref()
                        .err()
                        .map(|e| (i.index, i.key.as_deref(), e.as_slice()))
                })
                .collect()
        }
        match self {
            Items::Inventory(v) => collect(v),
            Items::InventoryReturn(v) => collect(v),
            Items::InvtRefund(v) => collect(v),
            Items::InvtRefundReturn(v) => collect(v),
        }
    }
}

/// One list/application of a message: either parsed, or rejected with reasons; `key` is its invtNo when readable, so an importer can report per list what was created, unchanged or rejected and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item<T> {
    /// 0-based position among the message's items.
    pub index: usize,
    /// The item's invtNo (trimmed, upper-cased) when present, even if invalid.
    pub key: Option<String>,
    pub result: Result<T, Vec<FieldError>>,
    /// Fields the warehouse does not use whose values customs' rules would not take (a
    /// missing `unit1`, a `preNo` of another length…): reported with the item, never a reason
    /// to refuse it.
    pub flags: Vec<FieldError>,
}

/// A problem with one field of one item. `field` is the element name, for
/// lines prefixed with the line element and its 1-based position, e.g.
/// `invtNo` or `InvtRefundList[2]/gcode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

/// Parses a CEB621, CEB622, CEB625 or CEB626 message, detecting the kind from
/// the root element.
pub fn parse(xml: &[u8]) -> Result<Parsed, CustomsError> {
    let root = envelope::read_document(xml)?;
    let kind = envelope::root_kind(&root)?;
    let (guid, version) = envelope::root_attributes(&root, kind)?;
    let base_transfer = envelope::read_base_transfer(&root, kind)?;
    let elements: Vec<&envelope::Element> = root.children_named(kind.item_name()).collect();
    if elements.is_empty() {
        return Err(CustomsError::Empty {
            root: kind.root_name(),
            item: kind.item_name(),
        });
    }
    if elements.len() > MAX_ITEMS {
        return Err(CustomsError::TooMany {
            what: kind.item_name(),
            found: elements.len(),
            max: MAX_ITEMS,
        });
    }
    let each = elements.iter().enumerate();
    let items = match kind {
        MessageKind::Ceb621 => Items::Inventory(each.map(|(i, el)| ceb621::read(i, el)).collect()),
        MessageKind::Ceb622 => {
            Items::InventoryReturn(each.map(|(i, el)| ceb622::read(i, el)).collect())
        }
        MessageKind::Ceb625 => Items::InvtRefund(each.map(|(i, el)| ceb625::read(i, el)).collect()),
        MessageKind::Ceb626 => {
            Items::InvtRefundReturn(each.map(|(i, el)| ceb626::read(i, el)).collect())
        }
    };
    Ok(Parsed {
        kind,
        guid,
        version,
        base_transfer,
        items,
    })
}

/// A fresh guid as customs wants it: an upper-case UUID (36 characters).
pub fn new_guid() -> String {
    uuid::Uuid::new_v4()
        .hyphenated()
        .to_string()
        .to_ascii_uppercase()
}

/// Builds an [`Item`] from a reader's outcome.
fn make_item<T>(index: usize, key: Option<String>, value: T, errors: Vec<FieldError>) -> Item<T> {
    Item {
        index,
        key,
        result: if errors.is_empty() {
            Ok(value)
        } else {
            Err(errors)
        },
        flags: Vec::new(),
    }
}

/// Reads the repeated line elements `name` of `parent` with `read_line`,
/// checking their count (`min..=MAX_LINES`) and that gnum values are unique;
/// the lines' flags go to `flags`.
fn read_lines<L>(
    parent: &envelope::Element,
    name: &str,
    min: usize,
    errors: &mut Vec<FieldError>,
    flags: &mut Vec<FieldError>,
    read_line: impl Fn(&envelope::Element, &mut fields::FieldReader<'_>) -> L,
    gnum_of: impl Fn(&L) -> u32,
) -> Vec<L> {
    let els: Vec<&envelope::Element> = parent.children_named(name).collect();
    if els.len() < min {
        errors.push(FieldError {
            field: name.into(),
            message: format!("is required: at least {min} line, none found"),
        });
    }
    if els.len() > MAX_LINES {
        errors.push(FieldError {
            field: name.into(),
            message: format!(
                "{} lines, at most {MAX_LINES} allowed in one list",
                els.len()
            ),
        });
    }
    let mut lines = Vec::with_capacity(els.len());
    let mut seen = std::collections::HashSet::new();
    for (i, el) in els.into_iter().take(MAX_LINES).enumerate() {
        let mut r = fields::FieldReader::new(el, format!("{name}[{}]/", i + 1));
        let before = r.errors.len();
        let line = read_line(el, &mut r);
        let gnum_ok = !r
            .errors
            .iter()
            .skip(before)
            .any(|e| e.field.ends_with("/gnum"));
        if gnum_ok && !seen.insert(gnum_of(&line)) {
            r.error(
                "gnum",
                format!(
                    "{} is used by an earlier line of the same list",
                    gnum_of(&line)
                ),
            );
        }
        let (e, f) = r.finish_with_flags();
        errors.extend(e);
        flags.extend(f);
        lines.push(line);
    }
    lines
}

/// An item's key: the trimmed, upper-cased text of its `invtNo` child when
/// present and not empty (taken before validation, so that a rejected item
/// can still be named).
fn item_key(el: &envelope::Element) -> Option<String> {
    el.children_named("invtNo")
        .next()
        .map(|c| c.text.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_uppercase)
}

/// The single child `name` of an item element (a head); records an error
/// when it is missing or repeated.
fn single_child<'a>(
    el: &'a envelope::Element,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a envelope::Element> {
    let mut found = el.children_named(name);
    let first = found.next();
    match (first, found.count()) {
        (None, _) => errors.push(FieldError {
            field: name.into(),
            message: "is required but missing".into(),
        }),
        (Some(_), 0) => {}
        (Some(_), more) => errors.push(FieldError {
            field: name.into(),
            message: format!("appears {} times; exactly one is allowed", more + 1),
        }),
    }
    first
}
