//! The envelope shared by all messages: safe reading of the XML into a small
//! element tree, the root element (`guid`, `version`, namespace), the
//! `BaseTransfer` block, and the writer used by all message writers.
//!
//! Reading is safe by construction: the input size is capped
//! ([`super::MAX_MESSAGE_BYTES`]), any DOCTYPE (and so any entity
//! declaration) is refused before anything is expanded, quick-xml never
//! expands entities other than the five predefined ones and character
//! references, nesting depth, element count, attributes per element and
//! namespace declarations in scope are bounded, and elements of foreign
//! namespaces (signature blocks and the like) are skipped without being
//! stored (but counted against the same bounds).
//!
//! Reading takes time linear in the input. quick-xml's own duplicate-attribute
//! check compares each attribute with every earlier one, and its namespace
//! lookup walks every declaration in scope, so the first is replaced by a hash
//! set and the second is kept short by the bound on declarations.

use std::collections::HashSet;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use serde::{Deserialize, Serialize};

use super::fields::{is_xml_char, parse_enterprise_code, FieldReader};
use super::{CustomsError, MessageKind, MAX_MESSAGE_BYTES, NAMESPACE};

/// Deepest nesting of elements, skipped ones included (real messages use 4, a
/// signature block adds about 6).
const MAX_DEPTH: usize = 32;
/// Most elements in one message, skipped ones included (100 lists of 99 lines
/// need about 200 000).
const MAX_ELEMENTS: usize = 400_000;
/// Most attributes on one element, namespace declarations included (real
/// messages have a handful: the messiest fixture has 7, on the root).
const MAX_ATTRIBUTES: usize = 256;
/// Most namespace declarations in scope at one element, its own and its
/// ancestors' (real messages make 1 to 4).
const MAX_NAMESPACE_DECLARATIONS: usize = 64;

/// Namespace of a stored element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ns {
    /// `http://www.chinaport.gov.cn/ceb`
    Ceb,
    /// No namespace at all.
    Unbound,
    /// Another namespace (only ever the root: foreign elements below the root are skipped).
    Other(String),
}

/// One element of the message: local name, namespace, attributes, element
/// children (only those in the CEB namespace or in none) and its own text.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    pub name: String,
    pub ns: Ns,
    /// Attributes other than namespace declarations, by qualified name.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Direct text content (line ends normalised to `\n`, entities resolved; not trimmed).
    pub text: String,
}

impl Element {
    /// Children with local name `name`.
    pub fn children_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Element> + 'a {
        let name = name.to_string();
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The (trimmed) value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }
}

/// Line and column (1-based, column in characters) of byte `offset` of `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn malformed(text: &str, offset: usize, detail: impl Into<String>) -> CustomsError {
    let (line, column) = line_col(text, offset);
    CustomsError::Malformed {
        line,
        column,
        detail: detail.into(),
    }
}

/// Normalises line ends (`\r\n` and `\r` to `\n`) in raw text, as XML requires.
fn normalize_newlines(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains('\r') {
        raw.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        raw.into()
    }
}

fn describe_xml_error(e: &quick_xml::Error) -> String {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    match e {
        quick_xml::Error::Syntax(SyntaxError::UnclosedTag) => {
            "the document ends inside a tag (truncated?)".into()
        }
        quick_xml::Error::Syntax(s) => format!("{s} (truncated or not XML?)"),
        quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
            format!("closing tag </{found}> does not match the open <{expected}>")
        }
        quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(name)) => {
            format!("closing tag </{name}> has no opening tag")
        }
        quick_xml::Error::Escape(e) => {
            format!("{e} (only the predefined XML entities and character references are allowed)")
        }
        other => other.to_string(),
    }
}

/// Refuses a value that a character reference (`&#1;`) made into something XML cannot carry.
fn xml_chars(text: &str, at: usize, value: &str) -> Result<(), CustomsError> {
    match value.chars().find(|c| !is_xml_char(*c)) {
        Some(c) => Err(malformed(
            text,
            at,
            format!(
                "a character reference to U+{:04X}, which XML does not allow",
                c as u32
            ),
        )),
        None => Ok(()),
    }
}

/// What [`read_attributes`] found on one start tag.
struct TagAttributes {
    /// Namespace declarations (`xmlns`, `xmlns:p`).
    declarations: usize,
    /// The other attributes by qualified name, values unescaped (only when kept).
    kept: Vec<(String, String)>,
}

/// Reads the attributes of the start tag `e` (at byte `at`) in one pass:
/// refuses more than [`MAX_ATTRIBUTES`], more than [`MAX_NAMESPACE_DECLARATIONS`]
/// with the `in_scope` ones of its ancestors, and a malformed or repeated
/// attribute; when `keep`, unescapes those that are not declarations.
fn read_attributes(
    text: &str,
    at: usize,
    e: &BytesStart<'_>,
    in_scope: usize,
    keep: bool,
) -> Result<TagAttributes, CustomsError> {
    let name = || String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut found = TagAttributes {
        declarations: 0,
        kept: Vec::new(),
    };
    let mut seen = HashSet::new();
    for (i, a) in e.attributes().with_checks(false).enumerate() {
        if i == MAX_ATTRIBUTES {
            let (line, column) = line_col(text, at);
            return Err(CustomsError::Hostile(format!(
                "<{}> at line {line}, column {column} has more than {MAX_ATTRIBUTES} attributes; \
                 customs messages have a few",
                name()
            )));
        }
        let a =
            a.map_err(|err| malformed(text, at, format!("bad attribute in <{}>: {err}", name())))?;
        let key = a.key.0;
        if !seen.insert(key) {
            return Err(malformed(
                text,
                at,
                format!(
                    "attribute {} appears twice in <{}>",
                    String::from_utf8_lossy(key),
                    name()
                ),
            ));
        }
        if a.key.as_namespace_binding().is_some() {
            found.declarations += 1;
            // quick-xml looks a prefix up by walking every declaration in scope.
            if in_scope + found.declarations > MAX_NAMESPACE_DECLARATIONS {
                let (line, column) = line_col(text, at);
                return Err(CustomsError::Hostile(format!(
                    "more than {MAX_NAMESPACE_DECLARATIONS} namespace declarations are in scope \
                     at <{}> at line {line}, column {column}; customs messages make a few",
                    name()
                )));
            }
            continue;
        }
        if !keep {
            continue;
        }
        let key = String::from_utf8_lossy(key).into_owned();
        let raw = std::str::from_utf8(&a.value).unwrap_or("");
        let normalized = normalize_newlines(raw);
        let value = quick_xml::escape::unescape(&normalized)
            .map_err(|err| malformed(text, at, format!("attribute {key} of <{}>: {err}", name())))?
            .into_owned();
        xml_chars(text, at, &value)?;
        found.kept.push((key, value));
    }
    Ok(found)
}

/// Reads `xml` into its root element, refusing oversize, non-UTF-8,
/// malformed and hostile input.
pub(crate) fn read_document(xml: &[u8]) -> Result<Element, CustomsError> {
    if xml.len() > MAX_MESSAGE_BYTES {
        return Err(CustomsError::TooLarge {
            size: xml.len(),
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    let text = match std::str::from_utf8(xml) {
        Ok(t) => t,
        Err(e) => {
            let valid = std::str::from_utf8(&xml[..e.valid_up_to()]).unwrap_or("");
            let (line, column) = line_col(valid, valid.len());
            return Err(CustomsError::Malformed {
                line,
                column,
                detail: "the message is not valid UTF-8 (customs messages must be UTF-8)".into(),
            });
        }
    };
    // XML 1.0 allows no NUL and no control character but tab and line ends, anywhere.
    if let Some((i, c)) = text.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        return Err(malformed(
            text,
            i,
            format!("the character U+{:04X} is not allowed in XML", c as u32),
        ));
    }
    // Refuse DTDs before the parser even looks at them.
    if let Some(i) = find_dtd(text) {
        let (line, column) = line_col(text, i);
        return Err(CustomsError::Hostile(format!(
            "the message contains a DOCTYPE or ENTITY declaration at line {line}, column {column}; \
             customs messages never do, and entities are not expanded"
        )));
    }

    let mut reader = NsReader::from_str(text);
    {
        let cfg = reader.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        cfg.allow_unmatched_ends = false;
    }

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    // > 0 while inside a skipped (foreign namespace) element.
    let mut skip_depth = 0usize;
    let mut count = 0usize;
    // Namespace declarations made by each open element (stored or skipped), and their sum.
    let mut declared: Vec<usize> = Vec::new();
    let mut in_scope = 0usize;
    loop {
        let start = reader.buffer_position() as usize;
        let (res, event) = match reader.read_resolved_event() {
            Ok(v) => v,
            Err(e) => {
                let pos = reader.error_position() as usize;
                return Err(malformed(text, pos, describe_xml_error(&e)));
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                if root.is_some() {
                    return Err(malformed(
                        text,
                        start,
                        "a second element after the end of the root element",
                    ));
                }
                if stack.len() + skip_depth >= MAX_DEPTH {
                    return Err(malformed(
                        text,
                        start,
                        format!("elements are nested more than {MAX_DEPTH} deep"),
                    ));
                }
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(CustomsError::TooMany {
                        what: "XML elements",
                        found: count,
                        max: MAX_ELEMENTS,
                    });
                }
                let ns = if skip_depth > 0 {
                    None
                } else {
                    Some(match res {
                        ResolveResult::Bound(ns) if ns.as_ref() == NAMESPACE.as_bytes() => Ns::Ceb,
                        ResolveResult::Bound(ns) => {
                            Ns::Other(String::from_utf8_lossy(ns.as_ref()).into_owned())
                        }
                        ResolveResult::Unbound => Ns::Unbound,
                        ResolveResult::Unknown(prefix) => {
                            return Err(malformed(
                                text,
                                start,
                                format!(
                                    "namespace prefix `{}` is not declared",
                                    String::from_utf8_lossy(&prefix)
                                ),
                            ));
                        }
                    })
                };
                // Foreign elements below the root (signatures, extensions) are skipped.
                let ns = ns.filter(|ns| stack.is_empty() || !matches!(ns, Ns::Other(_)));
                let attrs = read_attributes(text, start, e, in_scope, ns.is_some())?;
                if !is_empty {
                    in_scope += attrs.declarations;
                    declared.push(attrs.declarations);
                }
                let Some(ns) = ns else {
                    if !is_empty {
                        skip_depth += 1;
                    }
                    continue;
                };
                let el = Element {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ns,
                    attrs: attrs.kept,
                    children: Vec::new(),
                    text: String::new(),
                };
                if is_empty {
                    attach(&mut stack, &mut root, el);
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                in_scope -= declared.pop().unwrap_or(0);
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                let el = stack.pop().expect("quick-xml checks that end tags match");
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                let raw = std::str::from_utf8(t.as_ref()).unwrap_or("");
                if skip_depth > 0 {
                    continue;
                }
                match stack.last_mut() {
                    Some(top) => {
                        let normalized = normalize_newlines(raw);
                        let value = quick_xml::escape::unescape(&normalized)
                            .map_err(|err| malformed(text, start, format!("{err} (only the predefined XML entities and character references are allowed)")))?;
                        xml_chars(text, start, &value)?;
                        top.text.push_str(&value);
                    }
                    None => {
                        if !raw.trim().is_empty() {
                            return Err(malformed(text, start, "text outside the root element"));
                        }
                    }
                }
            }
            Event::CData(c) => {
                if skip_depth > 0 {
                    continue;
                }
                let raw = std::str::from_utf8(c.as_ref()).unwrap_or("");
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&normalize_newlines(raw)),
                    None => return Err(malformed(text, start, "CDATA outside the root element")),
                }
            }
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding() {
                    let enc = String::from_utf8_lossy(&enc).to_ascii_lowercase();
                    if enc != "utf-8" && enc != "utf8" {
                        return Err(malformed(
                            text,
                            start,
                            format!(
                                "the declared encoding is {enc}; customs messages must be UTF-8"
                            ),
                        ));
                    }
                }
            }
            Event::DocType(_) => {
                return Err(CustomsError::Hostile(
                    "the message contains a DOCTYPE declaration; customs messages never do, and entities are not expanded"
                        .into(),
                ));
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(malformed(
                        text,
                        text.len(),
                        format!(
                            "the document ends before <{}> is closed (truncated?)",
                            open.name
                        ),
                    ));
                }
                if skip_depth > 0 {
                    return Err(malformed(
                        text,
                        text.len(),
                        "the document ends inside an element (truncated?)",
                    ));
                }
                return root.ok_or_else(|| {
                    malformed(text, text.len(), "the document has no root element")
                });
            }
        }
    }
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

/// Byte position of the first `<!DOCTYPE` or `<!ENTITY` (any ASCII case).
fn find_dtd(text: &str) -> Option<usize> {
    text.match_indices("<!").map(|(i, _)| i).find(|&i| {
        let rest = &text.as_bytes()[i + 2..];
        let starts =
            |kw: &[u8]| rest.len() >= kw.len() && rest[..kw.len()].eq_ignore_ascii_case(kw);
        starts(b"DOCTYPE") || starts(b"ENTITY")
    })
}

/// Checks the root's namespace and returns the message kind.
pub(crate) fn root_kind(root: &Element) -> Result<MessageKind, CustomsError> {
    match &root.ns {
        Ns::Ceb => {}
        Ns::Other(uri) => return Err(CustomsError::WrongNamespace { found: uri.clone() }),
        Ns::Unbound => {
            return Err(CustomsError::WrongNamespace {
                found: String::new(),
            })
        }
    }
    MessageKind::from_root_name(&root.name)
        .ok_or_else(|| CustomsError::UnknownRoot(root.name.clone()))
}

/// The root's `guid` and `version` attributes.
pub(crate) fn root_attributes(
    root: &Element,
    kind: MessageKind,
) -> Result<(String, String), CustomsError> {
    let field = |attr: &str, message: String| CustomsError::Field {
        path: format!("{}/@{attr}", kind.root_name()),
        message,
    };
    let guid = root
        .attr("guid")
        .filter(|g| !g.is_empty())
        .ok_or_else(|| field("guid", "is required but missing or empty".into()))?;
    if guid.chars().count() > 36 {
        return Err(field(
            "guid",
            format!(
                "is too long: {} characters, at most 36 allowed",
                guid.chars().count()
            ),
        ));
    }
    let version = root
        .attr("version")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| field("version", "is required but missing or empty".into()))?;
    if !matches!(version, "1.0" | "v1.0" | "V1.0") {
        return Err(field(
            "version",
            format!("\"{version}\" is not supported: expected 1.0"),
        ));
    }
    Ok((guid.to_string(), version.to_string()))
}

// ---------------------------------------------------------------------------
// BaseTransfer
// ---------------------------------------------------------------------------

/// The transfer block that closes every message sent to customs: who sends it
/// and through which exchange channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseTransfer {
    /// Sending enterprise's code (≤18).
    pub cop_code: String,
    /// Sending enterprise's name (≤100).
    pub cop_name: String,
    /// Always `DXP`.
    pub dxp_mode: String,
    /// Sender's exchange id (≤30), e.g. `DXPENT0000012883`.
    pub dxp_id: String,
    /// Optional note (≤1000).
    pub note: Option<String>,
}

/// Reads `BaseTransfer`; it is required in the messages that enterprises send
/// (CEB621, CEB625) and optional in customs' receipts (CEB622, CEB626).
pub(crate) fn read_base_transfer(
    root: &Element,
    kind: MessageKind,
) -> Result<Option<BaseTransfer>, CustomsError> {
    let mut found = root.children_named("BaseTransfer");
    let Some(el) = found.next() else {
        if matches!(kind, MessageKind::Ceb621 | MessageKind::Ceb625) {
            return Err(CustomsError::Field {
                path: format!("{}/BaseTransfer", kind.root_name()),
                message: "is required but missing".into(),
            });
        }
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(CustomsError::Field {
            path: format!("{}/BaseTransfer", kind.root_name()),
            message: "appears more than once".into(),
        });
    }
    let mut r = FieldReader::new(el, format!("{}/BaseTransfer/", kind.root_name()));
    let base = BaseTransfer {
        cop_code: r.req("copCode", parse_enterprise_code),
        cop_name: r.text("copName", 100),
        dxp_mode: r.text("dxpMode", 3),
        dxp_id: r.text("dxpId", 30),
        note: r.opt_text("note", 1000),
    };
    match r.finish().into_iter().next() {
        None => Ok(Some(base)),
        Some(e) => Err(CustomsError::Field {
            path: e.field,
            message: e.message,
        }),
    }
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

/// Builds a message text: declaration, `ceb:` prefixed root, indented
/// elements, escaped text. The first problem (a character XML cannot carry)
/// is kept and reported by [`XmlWriter::finish`].
pub(crate) struct XmlWriter {
    out: String,
    depth: usize,
    path: Vec<String>,
    error: Option<CustomsError>,
}

impl XmlWriter {
    /// Starts a message of `kind` with root attribute `guid`.
    pub fn new(kind: MessageKind, guid: &str) -> Result<XmlWriter, CustomsError> {
        let root = kind.root_name();
        let n = guid.chars().count();
        if n != 36 || !guid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(CustomsError::Field {
                path: format!("{root}/@guid"),
                message: format!("must be exactly 36 letters, digits or '-' (an upper-case UUID), got {n} characters"),
            });
        }
        let mut out = String::with_capacity(4096);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<ceb:{root} guid=\"{}\" version=\"1.0\" xmlns:ceb=\"{NAMESPACE}\">\n",
            quick_xml::escape::escape(guid)
        ));
        Ok(XmlWriter {
            out,
            depth: 1,
            path: vec![root.to_string()],
            error: None,
        })
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// Opens a container element.
    pub fn open(&mut self, name: &str) {
        self.indent();
        self.out.push_str(&format!("<ceb:{name}>\n"));
        self.depth += 1;
        self.path.push(name.to_string());
    }

    /// Closes the last opened element.
    pub fn close(&mut self) {
        let name = self.path.pop().expect("open before close");
        self.depth -= 1;
        self.indent();
        self.out.push_str(&format!("</ceb:{name}>\n"));
    }

    /// A leaf element with text `value` (trimmed and escaped).
    pub fn leaf(&mut self, name: &str, value: &str) {
        let value = value.trim();
        if let Some(bad) = value.chars().find(|c| !is_xml_char(*c)) {
            if self.error.is_none() {
                self.error = Some(CustomsError::Field {
                    path: format!("{}/{name}", self.path.join("/")),
                    message: format!(
                        "contains the character U+{:04X}, which XML cannot carry",
                        bad as u32
                    ),
                });
            }
        }
        self.indent();
        let escaped = quick_xml::escape::partial_escape(value);
        let escaped = escaped.replace('\r', "&#13;");
        self.out
            .push_str(&format!("<ceb:{name}>{escaped}</ceb:{name}>\n"));
    }

    /// A leaf element, omitted when `value` is `None`.
    pub fn leaf_opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.leaf(name, v);
        }
    }

    /// Writes the `BaseTransfer` block.
    pub fn base_transfer(&mut self, base: &BaseTransfer) {
        if base.dxp_mode.trim() != "DXP" && self.error.is_none() {
            self.error = Some(CustomsError::Field {
                path: format!("{}/BaseTransfer/dxpMode", self.path[0]),
                message: format!("must be DXP, got \"{}\"", base.dxp_mode.trim()),
            });
        }
        self.open("BaseTransfer");
        self.leaf("copCode", &base.cop_code);
        self.leaf("copName", &base.cop_name);
        self.leaf("dxpMode", &base.dxp_mode);
        self.leaf("dxpId", &base.dxp_id);
        self.leaf_opt("note", base.note.as_deref());
        self.close();
    }

    /// Closes the root and returns the text.
    pub fn finish(mut self) -> Result<String, CustomsError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let root = self.path.pop().expect("root");
        self.out.push_str(&format!("</ceb:{root}>\n"));
        Ok(self.out)
    }
}

/// Checks a written message by parsing it back: any per-item problem becomes
/// a [`CustomsError::Field`] naming the item (1-based) and field.
pub(crate) fn verify_written(kind: MessageKind, xml: String) -> Result<String, CustomsError> {
    let parsed = super::parse(xml.as_bytes())?;
    debug_assert_eq!(parsed.kind, kind);
    let problems = parsed.items.errors();
    if let Some((index, _key, errors)) = problems.first() {
        let total: usize = problems.iter().map(|(_, _, e)| e.len()).sum();
        let first = &errors[0];
        let more = if total > 1 {
            format!(" (and {} more problems)", total - 1)
        } else {
            String::new()
        };
        return Err(CustomsError::Field {
            path: format!("{}[{}]/{}", kind.item_name(), index + 1, first.field),
            message: format!("{}{more}", first.message),
        });
    }
    Ok(xml)
}

/// Rejects an empty batch and more than 100 items for a writer.
pub(crate) fn check_count(kind: MessageKind, n: usize) -> Result<(), CustomsError> {
    if n == 0 {
        return Err(CustomsError::Empty {
            root: kind.root_name(),
            item: kind.item_name(),
        });
    }
    if n > super::MAX_ITEMS {
        return Err(CustomsError::TooMany {
            what: kind.item_name(),
            found: n,
            max: super::MAX_ITEMS,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("申报\nx", 7), (2, 1));
        assert_eq!(line_col("申报", 3), (1, 2));
    }

    #[test]
    fn tree_keeps_ceb_and_unbound_elements_and_skips_foreign_ones() {
        let xml = br#"<?xml version="1.0"?>
<m:Root xmlns:m="http://www.chinaport.gov.cn/ceb" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" guid="g">
  <m:A>  a &amp; b  </m:A>
  <B><![CDATA[<x>]]></B>
  <ds:Signature><ds:SignedInfo><m:A>hidden</m:A></ds:SignedInfo></ds:Signature>
  <m:Empty/>
</m:Root>"#;
        let root = read_document(xml).unwrap();
        assert_eq!(root.ns, Ns::Ceb);
        assert_eq!(root.attr("guid"), Some("g"));
        let names: Vec<_> = root.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "Empty"]);
        assert_eq!(root.children[0].text.trim(), "a & b");
        assert_eq!(root.children[1].text, "<x>");
        assert_eq!(root.children[1].ns, Ns::Unbound);
    }

    #[test]
    fn crlf_in_text_is_normalised_and_escaped_cr_kept() {
        let root = read_document(b"<a xmlns=\"http://www.chinaport.gov.cn/ceb\">x\r\ny&#13;z</a>")
            .unwrap();
        assert_eq!(root.text, "x\ny\rz");
    }

    #[test]
    fn undeclared_prefix_is_malformed() {
        let err = read_document(b"<ceb:CEB625Message guid=\"x\"/>").unwrap_err();
        assert!(matches!(err, CustomsError::Malformed { .. }), "{err}");
    }

    #[test]
    fn second_root_and_stray_text_are_malformed() {
        assert!(matches!(
            read_document(b"<a/><b/>"),
            Err(CustomsError::Malformed { .. })
        ));
        assert!(matches!(
            read_document(b"<a/>junk"),
            Err(CustomsError::Malformed { .. })
        ));
        assert!(matches!(
            read_document(b""),
            Err(CustomsError::Malformed { .. })
        ));
    }

    #[test]
    fn non_utf8_is_malformed() {
        let err = read_document(b"<a>\xB2\xE2</a>").unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
        let err = read_document(b"<?xml version=\"1.0\" encoding=\"GBK\"?><a/>").unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut xml = String::new();
        for _ in 0..100 {
            xml.push_str("<a>");
        }
        for _ in 0..100 {
            xml.push_str("</a>");
        }
        assert!(matches!(
            read_document(xml.as_bytes()),
            Err(CustomsError::Malformed { .. })
        ));
    }
}
