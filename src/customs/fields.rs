//! Field value types (quantities, decimals) and the validators shared by the
//! message kinds.
//!
//! Reading rules: every value is trimmed; an empty element counts as absent;
//! lengths are counted in characters, not bytes. Error messages never repeat
//! the value of a free-text field, so that buyer names, identity numbers,
//! telephones and addresses (personal data) cannot leak into logs through an
//! error; codes and numbers are quoted because they help to find the problem.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::envelope::Element;
use super::FieldError;

/// Number of decimals of the `N19,5` type used for quantities and amounts.
pub const DECIMALS: u32 = 5;
/// Scale of [`Qty`]: one unit is `100_000`.
pub const QTY_SCALE: i64 = 100_000;
/// Most digits an `N19,5` value may have (integer and decimal digits together).
const MAX_DIGITS: usize = 19;
/// Most integer digits of an `N19,5` value.
const MAX_INT_DIGITS: usize = 14;

// ---------------------------------------------------------------------------
// Decimal grammar
// ---------------------------------------------------------------------------

/// Splits a strict `N19,5` decimal into integer and fraction digits.
///
/// Grammar: one or more digits, optionally followed by `.` and one to five
/// digits. No sign, no exponent, no grouping, at most 19 significant digits of
/// which at most 14 before the point.
fn split_decimal(s: &str) -> Result<(&str, &str), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    let shown = quote(s);
    if s.starts_with('-') {
        return Err(format!(
            "{shown} is negative; a quantity or amount cannot be negative"
        ));
    }
    if s.starts_with('+') {
        return Err(format!("{shown} has a sign; write the number without `+`"));
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || !all_digits(int)
        || !all_digits(frac)
        || (s.contains('.') && frac.is_empty())
    {
        return Err(format!(
            "{shown} is not a decimal number (digits with an optional `.` and up to 5 decimals, no sign or exponent)"
        ));
    }
    if frac.len() > DECIMALS as usize {
        return Err(format!(
            "{shown} has {} decimals; at most 5 are allowed",
            frac.len()
        ));
    }
    let int_sig = int.trim_start_matches('0');
    if int_sig.len() > MAX_INT_DIGITS || int_sig.len() + frac.len() > MAX_DIGITS {
        return Err(format!(
            "{shown} is too large for N19,5 (at most 14 digits before the point)"
        ));
    }
    Ok((int, frac))
}

/// The value of a strict decimal scaled by 10^5.
fn decimal_to_fixed5(s: &str) -> Result<i128, String> {
    let (int, frac) = split_decimal(s)?;
    let mut v: i128 = 0;
    for b in int.bytes() {
        v = v * 10 + i128::from(b - b'0');
    }
    let mut f: i128 = 0;
    for i in 0..DECIMALS as usize {
        let d = frac.as_bytes().get(i).map_or(0, |b| b - b'0');
        f = f * 10 + i128::from(d);
    }
    Ok(v * i128::from(QTY_SCALE) + f)
}

fn quote(s: &str) -> String {
    let short: String = s.chars().take(40).collect();
    if short.len() < s.len() {
        format!("\"{short}…\"")
    } else {
        format!("\"{short}\"")
    }
}

// ---------------------------------------------------------------------------
// Qty
// ---------------------------------------------------------------------------

/// A quantity of type `N19,5`, held as fixed point: the number of units times
/// 100 000. The project stores whole units only; [`Qty::whole_units`] tells
/// whether a quantity is one.
///
/// Parsing is strict (see [`Qty::from_str`]); display writes no trailing
/// zeros (`2`, `1.5`). Serialises as that string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Qty(i64);

impl Qty {
    /// Zero.
    pub const ZERO: Qty = Qty(0);

    /// `units` whole units. Panics if `units.abs()` exceeds about 9.2·10^13,
    /// far beyond any real quantity; see [`Qty::checked_from_units`].
    pub fn from_units(units: i64) -> Qty {
        Self::checked_from_units(units).expect("quantity out of range")
    }

    /// `units` whole units, or `None` when out of range.
    pub fn checked_from_units(units: i64) -> Option<Qty> {
        units.checked_mul(QTY_SCALE).map(Qty)
    }

    /// From the fixed-point representation (units × 100 000).
    pub const fn from_raw(raw: i64) -> Qty {
        Qty(raw)
    }

    /// The fixed-point representation (units × 100 000).
    pub const fn raw(&self) -> i64 {
        self.0
    }

    /// The number of whole units, or `None` if the quantity has a fraction.
    pub fn whole_units(&self) -> Option<i64> {
        (self.0 % QTY_SCALE == 0).then_some(self.0 / QTY_SCALE)
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// True for a value greater than zero.
    pub fn is_positive(&self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = QTY_SCALE as u64;
        let (int, frac) = (abs / scale, abs % scale);
        if frac == 0 {
            write!(f, "{sign}{int}")
        } else {
            let digits = format!("{frac:05}");
            write!(f, "{sign}{int}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl FromStr for Qty {
    type Err = String;

    /// Strict `N19,5`: digits, optionally `.` and 1–5 decimals; no sign, no
    /// exponent, at most 19 digits (14 before the point). Surrounding
    /// whitespace is not accepted here (the message reader trims first).
    fn from_str(s: &str) -> Result<Qty, String> {
        let v = decimal_to_fixed5(s)?;
        i64::try_from(v)
            .map(Qty)
            .map_err(|_| format!("{} is too large for a quantity", quote(s)))
    }
}

impl Serialize for Qty {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Qty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Qty, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Decimal
// ---------------------------------------------------------------------------

/// An `N19,5` amount (price, freight, weight) kept as the validated string
/// that was read or given (`"12.50"` stays `"12.50"`). Use
/// [`Decimal::to_fixed5`] to compute with it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal(String);

impl Decimal {
    /// Validates `s` (strict `N19,5`, see [`Qty::from_str`]).
    pub fn new(s: impl Into<String>) -> Result<Decimal, String> {
        let s = s.into();
        split_decimal(&s)?;
        Ok(Decimal(s))
    }

    /// A zero amount (`"0"`).
    pub fn zero() -> Decimal {
        Decimal("0".into())
    }

    /// The amount as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The amount times 100 000.
    pub fn to_fixed5(&self) -> i128 {
        decimal_to_fixed5(&self.0).expect("Decimal is validated on construction")
    }
}

impl Default for Decimal {
    fn default() -> Decimal {
        Decimal::zero()
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Decimal {
    type Err = String;
    fn from_str(s: &str) -> Result<Decimal, String> {
        Decimal::new(s)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let s = String::deserialize(d)?;
        Decimal::new(s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------

/// China Standard Time (UTC+08:00), the zone of every time in the messages.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// `YYYYMMDDhhmmss` in China time.
pub fn format_time14(t: &DateTime<Utc>) -> String {
    t.with_timezone(&china()).format("%Y%m%d%H%M%S").to_string()
}

/// `yyyyMMddHHmmssSSS` in China time.
pub fn format_time17(t: &DateTime<Utc>) -> String {
    t.with_timezone(&china())
        .format("%Y%m%d%H%M%S%3f")
        .to_string()
}

/// `yyyyMMdd`.
pub fn format_date8(d: &NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn digits_only(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `yyyyMMdd`.
pub fn parse_date8(s: &str) -> Result<NaiveDate, String> {
    if s.len() != 8 || !digits_only(s) {
        return Err(format!(
            "{} is not a date written yyyyMMdd (8 digits)",
            quote(s)
        ));
    }
    NaiveDate::parse_from_str(s, "%Y%m%d")
        .map_err(|_| format!("{} is not a valid calendar date", quote(s)))
}

fn china_time(s: &str, naive: NaiveDateTime) -> Result<DateTime<Utc>, String> {
    china()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("{} is not a valid time", quote(s)))
}

fn parse_naive14(s: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S")
        .map_err(|_| format!("{} is not a valid date and time", quote(s)))
}

/// `YYYYMMDDhhmmss` (14 digits), China time.
pub fn parse_time14(s: &str) -> Result<DateTime<Utc>, String> {
    if s.len() != 14 || !digits_only(s) {
        return Err(format!(
            "{} is not a time written YYYYMMDDhhmmss (14 digits, China time)",
            quote(s)
        ));
    }
    china_time(s, parse_naive14(s)?)
}

/// `yyyyMMddHHmmssSSS` (17 digits), China time. A 14-digit time without
/// milliseconds is accepted too (its meaning is clear).
pub fn parse_time17(s: &str) -> Result<DateTime<Utc>, String> {
    if !(s.len() == 17 || s.len() == 14) || !digits_only(s) {
        return Err(format!(
            "{} is not a time written yyyyMMddHHmmssSSS (17 digits, China time)",
            quote(s)
        ));
    }
    let naive = parse_naive14(&s[..14])?;
    let millis: i64 = if s.len() == 17 {
        s[14..].parse().expect("digits")
    } else {
        0
    };
    china_time(s, naive + chrono::Duration::milliseconds(millis))
}

// ---------------------------------------------------------------------------
// Codes
// ---------------------------------------------------------------------------

/// Enterprise code (ebpCode, ebcCode, agentCode, logisticsCode, areaCode,
/// copCode…): 1 to 18 letters A–Z or digits. Real codes are the 10-character
/// customs registration code or the 18-character unified social credit code;
/// other lengths are accepted because the XSD allows them. Lower-case letters
/// are accepted and upper-cased.
pub fn parse_enterprise_code(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    if n == 0 || n > 18 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "{} is not an enterprise code: expected 1 to 18 letters A-Z or digits \
             (a 10-character customs registration code or an 18-character unified social credit code)",
            quote(s)
        ));
    }
    Ok(s.to_ascii_uppercase())
}

/// Declaration list number invtNo: exactly 18 letters or digits (customs
/// code, year, I/E flag, serial). Upper-cased.
pub fn parse_invt_no(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    if n != 18 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "{} is not a declaration list number: expected exactly 18 letters or digits, got {n} characters",
            quote(s)
        ));
    }
    Ok(s.to_ascii_uppercase())
}

/// Pre-entry number preNo: exactly 18 letters or digits. Upper-cased.
pub fn parse_pre_no(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    if n != 18 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "{} is not a pre-entry number: expected exactly 18 letters or digits, got {n} characters",
            quote(s)
        ));
    }
    Ok(s.to_ascii_uppercase())
}

/// Exactly `n` ASCII digits (gcode 10, customsCode 4, unit 3…).
pub fn parse_digits(s: &str, n: usize, what: &str) -> Result<String, String> {
    if s.len() != n || !digits_only(s) {
        return Err(format!(
            "{} is not {what}: expected exactly {n} digits",
            quote(s)
        ));
    }
    Ok(s.to_string())
}

/// Exactly `n` ASCII letters or digits (country, currency codes). Upper-cased.
pub fn parse_alnum(s: &str, n: usize, what: &str) -> Result<String, String> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "{} is not {what}: expected exactly {n} letters or digits",
            quote(s)
        ));
    }
    Ok(s.to_ascii_uppercase())
}

/// Line number gnum: 1 to 9999.
pub fn parse_gnum(s: &str) -> Result<u32, String> {
    if !digits_only(s) || s.len() > 9 {
        return Err(format!(
            "{} is not a line number: expected a whole number from 1 to 9999",
            quote(s)
        ));
    }
    let v: u32 = s.parse().expect("digits");
    if !(1..=9999).contains(&v) {
        return Err(format!(
            "{} is out of range: line numbers run from 1 to 9999",
            quote(s)
        ));
    }
    Ok(v)
}

/// A whole number that may be negative (returnStatus).
pub fn parse_status(s: &str) -> Result<i32, String> {
    let body = s.strip_prefix('-').unwrap_or(s);
    if !digits_only(body) {
        return Err(format!(
            "{} is not a status code: expected a whole number",
            quote(s)
        ));
    }
    s.parse()
        .map_err(|_| format!("{} is out of range for a status code", quote(s)))
}

/// One of a fixed set of codes.
pub fn parse_one_of(s: &str, allowed: &[&str], meaning: &str) -> Result<String, String> {
    if allowed.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!("{} is not allowed: expected {meaning}", quote(s)))
    }
}

/// A strictly positive quantity.
pub fn parse_positive_qty(s: &str) -> Result<Qty, String> {
    let q: Qty = s.parse()?;
    if !q.is_positive() {
        return Err(format!("{} must be greater than zero", quote(s)));
    }
    Ok(q)
}

/// A whole number of at most 9 digits (packNo).
pub fn parse_n9(s: &str) -> Result<u32, String> {
    if !digits_only(s) || s.len() > 9 {
        return Err(format!(
            "{} is not a whole number of at most 9 digits",
            quote(s)
        ));
    }
    Ok(s.parse().expect("digits"))
}

/// Free text of at most `max` characters; the value is not quoted in the error.
pub fn check_len(s: &str, max: usize) -> Result<String, String> {
    let n = s.chars().count();
    if n > max {
        return Err(format!(
            "is too long: {n} characters, at most {max} allowed"
        ));
    }
    Ok(s.to_string())
}

/// True for characters that XML 1.0 allows in a document.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

// ---------------------------------------------------------------------------
// FieldReader
// ---------------------------------------------------------------------------

/// Reads the child elements of one element (a head, a line, a receipt) as
/// fields, collecting every problem as a [`FieldError`] instead of stopping at
/// the first. Failed fields yield a placeholder value; the caller turns the
/// collected errors into the item's `Err`.
pub(crate) struct FieldReader<'a> {
    el: &'a Element,
    prefix: String,
    pub errors: Vec<FieldError>,
    /// Problems of fields the warehouse does not use: reported, never a reason to refuse.
    pub flags: Vec<FieldError>,
}

impl<'a> FieldReader<'a> {
    /// `prefix` is put before each field name in errors, e.g.
    /// `"InvtRefundList[2]/"`.
    pub fn new(el: &'a Element, prefix: impl Into<String>) -> FieldReader<'a> {
        FieldReader {
            el,
            prefix: prefix.into(),
            errors: Vec::new(),
            flags: Vec::new(),
        }
    }

    /// Records a flag for `name`: an odd value of a field the warehouse does not use.
    pub fn flag(&mut self, name: &str, message: impl Into<String>) {
        self.flags.push(FieldError {
            field: format!("{}{}", self.prefix, name),
            message: message.into(),
        });
    }

    /// Records an error for `name`.
    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: format!("{}{}", self.prefix, name),
            message: message.into(),
        });
    }

    /// Trimmed text of child `name`, `None` when absent or empty. A repeated
    /// field is an error (its first occurrence is used).
    pub fn raw(&mut self, name: &str) -> Option<&'a str> {
        self.lookup(name, false)
    }

    /// [`Self::raw`], a repetition being a flag instead of an error when `unused`.
    fn lookup(&mut self, name: &str, unused: bool) -> Option<&'a str> {
        let el = self.el;
        let mut found = el.children_named(name);
        let first = found.next();
        let more = found.count();
        if more > 0 {
            let m = format!("appears {} times; a field may appear only once", more + 1);
            if unused {
                self.flag(name, m);
            } else {
                self.error(name, m);
            }
        }
        first.map(|c| c.text.trim()).filter(|s| !s.is_empty())
    }

    /// A text field the warehouse does not use, read as customs keeps it: the value `check`
    /// gives, or the text as given when `check` refuses it; `None` when absent. A refused
    /// value, or a `required` one that is absent, is flagged, never an error: a list customs
    /// released is not refused for a field nobody here reads.
    pub fn unused_text(
        &mut self,
        name: &str,
        required: bool,
        check: impl FnOnce(&str) -> Result<String, String>,
    ) -> Option<String> {
        let Some(raw) = self.lookup(name, true) else {
            if required {
                self.flag(name, "is missing");
            }
            return None;
        };
        Some(check(raw).unwrap_or_else(|m| {
            self.flag(name, m);
            raw.to_string()
        }))
    }

    /// A typed field the warehouse does not use (a date, an amount): its value, or `None`
    /// with a flag when `f` refuses it or when a `required` one is absent.
    pub fn unused<T>(
        &mut self,
        name: &str,
        required: bool,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let Some(raw) = self.lookup(name, true) else {
            if required {
                self.flag(name, "is missing");
            }
            return None;
        };
        f(raw).map_err(|m| self.flag(name, m)).ok()
    }

    /// Optional field, converted by `f`.
    pub fn opt<T>(&mut self, name: &str, f: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let raw = self.raw(name)?;
        match f(raw) {
            Ok(v) => Some(v),
            Err(m) => {
                self.error(name, m);
                None
            }
        }
    }

    /// Required field, converted by `f`; a placeholder when missing or wrong.
    pub fn req<T: Default>(&mut self, name: &str, f: impl FnOnce(&str) -> Result<T, String>) -> T {
        match self.raw(name) {
            None => {
                self.error(name, "is required but missing or empty");
                T::default()
            }
            Some(raw) => match f(raw) {
                Ok(v) => v,
                Err(m) => {
                    self.error(name, m);
                    T::default()
                }
            },
        }
    }

    /// Required free text of at most `max` characters.
    pub fn text(&mut self, name: &str, max: usize) -> String {
        self.req(name, |s| check_len(s, max))
    }

    /// Optional free text of at most `max` characters.
    pub fn opt_text(&mut self, name: &str, max: usize) -> Option<String> {
        self.opt(name, |s| check_len(s, max))
    }

    /// Required enterprise code.
    pub fn code(&mut self, name: &str) -> String {
        self.req(name, parse_enterprise_code)
    }

    /// Takes the collected errors.
    pub fn finish(self) -> Vec<FieldError> {
        self.errors
    }

    /// Takes the collected errors and flags.
    pub fn finish_with_flags(self) -> (Vec<FieldError>, Vec<FieldError>) {
        (self.errors, self.flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qty_parses_strictly() {
        assert_eq!("2".parse::<Qty>().unwrap(), Qty::from_units(2));
        assert_eq!("1.5".parse::<Qty>().unwrap().raw(), 150_000);
        assert_eq!("0.00001".parse::<Qty>().unwrap().raw(), 1);
        assert_eq!("007".parse::<Qty>().unwrap(), Qty::from_units(7));
        assert_eq!("2.00000".parse::<Qty>().unwrap().whole_units(), Some(2));
        assert_eq!(
            "92233720368547.75807".parse::<Qty>().unwrap().raw(),
            i64::MAX
        );
        for bad in [
            "",
            "-1",
            "+1",
            "1e3",
            "1.",
            ".5",
            "1.234567",
            "1,5",
            "abc",
            " 1",
            "1 ",
            "0x10",
            "1.2.3",
            "100000000000000",
            "NaN",
        ] {
            assert!(bad.parse::<Qty>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn qty_overflow_is_an_error_not_a_panic() {
        // 14 integer digits fit N19,5 but not i64 fixed point.
        assert!("99999999999999".parse::<Qty>().is_err());
        assert!("92233720368547".parse::<Qty>().is_ok());
        assert!(Qty::checked_from_units(i64::MAX).is_none());
    }

    #[test]
    fn qty_displays_without_trailing_zeros() {
        assert_eq!(Qty::from_units(2).to_string(), "2");
        assert_eq!(Qty::from_raw(150_000).to_string(), "1.5");
        assert_eq!(Qty::from_raw(1).to_string(), "0.00001");
        assert_eq!(Qty::from_raw(-250_000).to_string(), "-2.5");
        assert_eq!(Qty::ZERO.to_string(), "0");
        assert_eq!(Qty::from_raw(150_000).whole_units(), None);
    }

    #[test]
    fn decimal_keeps_text_and_computes() {
        let d = Decimal::new("12.50").unwrap();
        assert_eq!(d.as_str(), "12.50");
        assert_eq!(d.to_fixed5(), 1_250_000);
        assert!(Decimal::new("-1").is_err());
        assert!(Decimal::new("1.000001").is_err());
    }

    #[test]
    fn times_are_china_time() {
        let t = parse_time17("20261020153045123").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-10-20T07:30:45.123+00:00");
        assert_eq!(format_time17(&t), "20261020153045123");
        assert_eq!(
            parse_time17("20261020153045").unwrap().to_rfc3339(),
            "2026-10-20T07:30:45+00:00"
        );
        let t = parse_time14("20260101000000").unwrap();
        assert_eq!(t.to_rfc3339(), "2025-12-31T16:00:00+00:00");
        assert_eq!(format_time14(&t), "20260101000000");
        for bad in [
            "2026102015304512",
            "20261320153045123",
            "2026-10-20 15:30",
            "20261020253045123",
        ] {
            assert!(parse_time17(bad).is_err(), "{bad}");
        }
        assert!(parse_time14("20260230120000").is_err());
        assert!(parse_date8("20260230").is_err());
        assert_eq!(
            parse_date8("20261001").unwrap(),
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
        );
    }

    #[test]
    fn codes() {
        assert_eq!(parse_enterprise_code("5001960ebp").unwrap(), "5001960EBP");
        assert!(parse_enterprise_code("91500000MA5U123456").is_ok());
        assert!(parse_enterprise_code("91500000MA5U1234567").is_err());
        assert!(parse_enterprise_code("5001-960").is_err());
        assert!(parse_invt_no("80142026I000000101").is_ok());
        assert!(parse_invt_no("80142026I00000010").is_err());
        assert!(parse_digits("3304990099", 10, "an HS code").is_ok());
        assert!(parse_digits("330499009", 10, "an HS code").is_err());
        assert!(parse_gnum("0").is_err());
        assert!(parse_gnum("10000").is_err());
        assert_eq!(parse_gnum("0001").unwrap(), 1);
        assert_eq!(parse_status("-301010").unwrap(), -301010);
        assert!(parse_status("8O0").is_err());
    }
}
