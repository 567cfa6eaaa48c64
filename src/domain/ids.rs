//! Identifiers parsed once at the edge and trusted inside.

use chrono::NaiveDate;

use crate::error::AppError;

fn invalid(field: &str, msg: impl Into<String>, rule: &'static str) -> AppError {
    AppError::broke(field, msg, rule, None)
}

/// A customs code: the 10-character registration code (海关注册编码) or the 18-character
/// unified social credit code (统一社会信用代码), upper-case letters and digits.
pub fn enterprise_code(field: &str, s: &str) -> Result<String, AppError> {
    let s = s.trim().to_ascii_uppercase();
    if !(s.len() == 10 || s.len() == 18) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid(
            field,
            "an enterprise code has 10 (customs registration) or 18 (credit code) letters/digits",
            "enterprise_code",
        ));
    }
    Ok(s)
}

/// A short code for warehouses, bins and cameras: letters, digits, `-` and `_`, so that it
/// prints well as a Code 128 barcode and sits in a URL path unescaped.
pub fn place_code(field: &str, s: &str, max: usize) -> Result<String, AppError> {
    let s = s.trim();
    if s.is_empty()
        || s.len() > max
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(AppError::broke(
            field,
            format!("use 1–{max} letters, digits, '-' or '_'"),
            "code",
            Some(max),
        ));
    }
    Ok(s.to_ascii_uppercase())
}

/// Free text with a length limit counted in characters.
pub fn text(field: &str, s: &str, max: usize) -> Result<String, AppError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(invalid(field, "must not be empty", "required"));
    }
    if t.chars().count() > max {
        return Err(AppError::broke(
            field,
            format!("at most {max} characters"),
            "too_long",
            Some(max),
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid(
            field,
            "must not contain control characters",
            "control_characters",
        ));
    }
    Ok(t.to_string())
}

/// invtNo: 18 characters, 4-digit customs code + year + I/E flag + serial.
pub fn invt_no(field: &str, s: &str) -> Result<String, AppError> {
    let s = s.trim().to_ascii_uppercase();
    if s.len() != 18 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid(
            field,
            "an invtNo has exactly 18 letters/digits",
            "invt_no",
        ));
    }
    Ok(s)
}

/// gcode: the 10-digit HS code.
pub fn gcode(field: &str, s: &str) -> Result<String, AppError> {
    let s = s.trim();
    if s.len() != 10 || !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid(
            field,
            "a gcode (HS code) has exactly 10 digits",
            "gcode",
        ));
    }
    Ok(s.to_string())
}

/// A waybill number (logisticsNo), at most 60 characters of printable ASCII.
pub fn waybill(field: &str, s: &str) -> Result<String, AppError> {
    let s = s.trim();
    if s.is_empty() || s.len() > 60 || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(
            field,
            "a waybill number has 1–60 printable ASCII characters",
            "waybill",
        ));
    }
    Ok(s.to_string())
}

/// A return's id: `RT` + date (yyyyMMdd) + 6-digit sequence of that day, e.g. `RT20261122000001`.
/// Short, upper-case and digits only, so it prints compactly as Code 128 (set C for digits).
pub fn return_id(date: NaiveDate, seq: i64) -> String {
    format!("RT{}{:06}", date.format("%Y%m%d"), seq)
}

pub fn is_return_id(s: &str) -> bool {
    s.len() == 16 && s.starts_with("RT") && s[2..].chars().all(|c| c.is_ascii_digit())
}

/// The published form of these rules, for the OpenAPI description (`#[schema(schema_with =
/// …)]`): the same limits as JSON Schema, patterns in its (ECMA-262) dialect. Surrounding
/// spaces, which the parsers trim, are left out of them; letters may be of either case where
/// the parsers upper-case them.
pub mod schema {
    use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};

    use crate::domain::roles::{BIN_AREAS, ENTERPRISE_KINDS};

    /// [`super::enterprise_code`].
    pub const ENTERPRISE_CODE: &str = "^[A-Za-z0-9]{10}([A-Za-z0-9]{8})?$";
    /// [`super::invt_no`].
    pub const INVT_NO: &str = "^[A-Za-z0-9]{18}$";
    /// [`super::gcode`].
    pub const GCODE: &str = "^[0-9]{10}$";
    /// [`super::waybill`].
    pub const WAYBILL: &str = "^[!-~]{1,60}$";
    /// [`super::place_code`] (its length is the caller's).
    pub const PLACE_CODE: &str = "^[A-Za-z0-9_-]+$";
    /// [`super::text`] (its length is the caller's): not only spaces, and no control
    /// characters but line breaks.
    pub const TEXT: &str = "^[^\\s\\x00-\\x1F\\x7F-\\x9F]([^\\x00-\\x09\\x0B-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F])?$";

    fn string() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::String)
    }

    fn string_or_null() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
    }

    pub fn enterprise_code() -> Object {
        string()
            .pattern(Some(ENTERPRISE_CODE))
            .description(Some(
                "an enterprise code: 10 letters/digits (customs registration, 海关注册编码) or 18 (unified social credit code, 统一社会信用代码)",
            ))
            .build()
    }

    pub fn invt_no() -> Object {
        string()
            .pattern(Some(INVT_NO))
            .description(Some("the list's invtNo: 18 letters/digits"))
            .build()
    }

    pub fn gcode() -> Object {
        string()
            .pattern(Some(GCODE))
            .description(Some("the HS code: 10 digits"))
            .build()
    }

    pub fn waybill() -> Object {
        string()
            .pattern(Some(WAYBILL))
            .max_length(Some(60))
            .description(Some(
                "the waybill number (logisticsNo): 1–60 printable ASCII characters",
            ))
            .build()
    }

    fn place_code(max: usize) -> ObjectBuilder {
        string().pattern(Some(PLACE_CODE)).max_length(Some(max))
    }

    /// A warehouse code.
    pub fn warehouse_code() -> Object {
        place_code(20).build()
    }

    /// A bin or camera code.
    pub fn bin_code() -> Object {
        place_code(30).build()
    }

    /// A bin code, or nothing.
    pub fn bin_code_or_null() -> Object {
        string_or_null()
            .pattern(Some(PLACE_CODE))
            .max_length(Some(30))
            .build()
    }

    fn text(max: usize) -> Object {
        string()
            .pattern(Some(TEXT))
            .min_length(Some(1))
            .max_length(Some(max))
            .build()
    }

    pub fn text_30() -> Object {
        text(30)
    }

    pub fn text_60() -> Object {
        text(60)
    }

    pub fn text_100() -> Object {
        text(100)
    }

    pub fn text_200() -> Object {
        text(200)
    }

    pub fn text_250() -> Object {
        text(250)
    }

    pub fn text_500() -> Object {
        text(500)
    }

    pub fn text_1000() -> Object {
        text(1000)
    }

    /// An area of a warehouse ([`BIN_AREAS`]).
    pub fn bin_area() -> Object {
        string().enum_values(Some(BIN_AREAS)).build()
    }

    /// Kinds of an enterprise ([`ENTERPRISE_KINDS`]), at least one.
    pub fn enterprise_kinds() -> utoipa::openapi::schema::Array {
        ArrayBuilder::new()
            .items(string().enum_values(Some(ENTERPRISE_KINDS)))
            .min_items(Some(1))
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_of_enterprise_code_are_accepted() {
        assert_eq!(enterprise_code("c", " 330766k00q ").unwrap(), "330766K00Q");
        assert!(enterprise_code("c", "91500000MA5U123456").is_ok());
        assert!(enterprise_code("c", "12345").is_err());
        assert!(enterprise_code("c", "33076-K00Q").is_err());
    }

    #[test]
    fn return_ids_are_short_and_recognisable() {
        let id = return_id(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), 1);
        assert_eq!(id, "RT20261122000001");
        assert!(is_return_id(&id));
        assert!(!is_return_id("SF123"));
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert!(text("n", &"退".repeat(10), 10).is_ok());
        assert!(text("n", &"退".repeat(11), 10).is_err());
        assert!(text("n", "  ", 10).is_err());
        assert!(text("n", "a\u{7}", 10).is_err());
    }
}
