//! Generator of the demo data shipped in `src/demo/` (36 released
//! declaration lists and their receipts), and the test that the shipped files
//! still parse cleanly.
//!
//! Regenerate with (scratch crate or main crate):
//! `cargo test customs::demo_gen::generate_demo_files -- --ignored`.
//! The output is deterministic (fixed seed), so rerunning it changes nothing
//! unless this file changed.

use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use super::fields::china;
use super::{
    parse, write_ceb621, write_ceb622, BaseTransfer, Decimal, Inventory, InventoryLine,
    InventoryReturn, Items, Qty,
};

const LISTS: usize = 36;
const MESSAGE_GUID_621: &str = "5D1E0A7C-2B3F-4C8D-9E6A-1F2B3C4D5E60";
const MESSAGE_GUID_622: &str = "5D1E0A7C-2B3F-4C8D-9E6A-1F2B3C4D5E61";

/// Small deterministic generator (64-bit LCG), so that no extra crate is needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn guid(&mut self) -> String {
        let hex: String = (0..32)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap())
            .collect::<String>()
            .to_uppercase();
        format!(
            "{}-{}-4{}-A{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }
}

/// EAN-13 check digit of 12 digits.
pub(crate) fn ean13_check(first12: &str) -> char {
    let sum: u32 = first12
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    char::from_digit((10 - sum % 10) % 10, 10).unwrap()
}

/// Whether `code` is a valid EAN-13.
pub(crate) fn is_ean13(code: &str) -> bool {
    code.len() == 13
        && code.bytes().all(|b| b.is_ascii_digit())
        && ean13_check(&code[..12]) == code.as_bytes()[12] as char
}

/// Chinese resident identity number check character (ISO 7064 MOD 11-2).
fn id_check(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

struct Product {
    gcode: &'static str,
    gname: &'static str,
    gmodel: &'static str,
    unit: &'static str,
    /// Legal quantity per unit (kg for 035, pieces for 011).
    qty1: &'static str,
    unit1: &'static str,
    /// Second legal quantity per unit (kg), for clothes.
    qty2: Option<&'static str>,
    price: &'static str,
    origin: &'static str,
    /// First 12 digits of the EAN-13.
    ean: &'static str,
}

#[allow(clippy::too_many_arguments)]
const fn p(
    gcode: &'static str,
    gname: &'static str,
    gmodel: &'static str,
    unit: &'static str,
    qty1: &'static str,
    unit1: &'static str,
    qty2: Option<&'static str>,
    price: &'static str,
    origin: &'static str,
    ean: &'static str,
) -> Product {
    Product {
        gcode,
        gname,
        gmodel,
        unit,
        qty1,
        unit1,
        qty2,
        price,
        origin,
        ean,
    }
}

struct Seller {
    code: &'static str,
    name: &'static str,
    /// Country of departure.
    country: &'static str,
    products: &'static [Product],
}

const SELLERS: [Seller; 3] = [
    Seller {
        code: "HK0000E001",
        name: "香港美妆优选有限公司",
        country: "110",
        products: &[
            p(
                "3304990099",
                "保湿面霜",
                "50g/瓶 滋润型",
                "142",
                "0.05",
                "035",
                None,
                "268.00",
                "305",
                "376001234501",
            ),
            p(
                "3304990099",
                "玻尿酸精华液",
                "30ml/瓶",
                "142",
                "0.03",
                "035",
                None,
                "459.00",
                "305",
                "376001234502",
            ),
            p(
                "3304990099",
                "清爽防晒乳 SPF50+",
                "60ml/瓶",
                "142",
                "0.06",
                "035",
                None,
                "198.00",
                "116",
                "490155201003",
            ),
            p(
                "3305100090",
                "氨基酸洗发水",
                "500ml/瓶",
                "142",
                "0.52",
                "035",
                None,
                "89.00",
                "116",
                "490155201017",
            ),
            p(
                "3304990099",
                "舒缓保湿面膜",
                "5片/盒",
                "011",
                "0.13",
                "035",
                None,
                "129.00",
                "133",
                "880912345601",
            ),
        ],
    },
    Seller {
        code: "JP0000E002",
        name: "日本生活良品株式会社",
        country: "116",
        products: &[
            p(
                "1901101000",
                "婴儿配方奶粉 1段",
                "800g/罐 0-6个月",
                "122",
                "0.8",
                "035",
                None,
                "238.00",
                "116",
                "498717601452",
            ),
            p(
                "1901101000",
                "较大婴儿配方奶粉 3段",
                "800g/罐 1-3岁",
                "122",
                "0.8",
                "035",
                None,
                "218.00",
                "116",
                "498717601453",
            ),
            p(
                "3401110000",
                "天然植物香皂",
                "100g/块 3块装",
                "011",
                "0.3",
                "035",
                None,
                "39.50",
                "116",
                "490120345678",
            ),
            p(
                "9603210000",
                "软毛护龈牙刷",
                "4支装",
                "011",
                "0.06",
                "035",
                None,
                "45.00",
                "116",
                "490120345679",
            ),
            p(
                "2106909090",
                "复合维生素软糖",
                "60粒/瓶",
                "142",
                "0.15",
                "035",
                None,
                "128.00",
                "116",
                "490120345680",
            ),
        ],
    },
    Seller {
        code: "KR0000E003",
        name: "韩国首尔时尚有限公司",
        country: "133",
        products: &[
            p(
                "6109100022",
                "纯棉短袖T恤 男款",
                "L码 白色 100%棉",
                "011",
                "1",
                "011",
                Some("0.2"),
                "99.00",
                "133",
                "880987650101",
            ),
            p(
                "6109100022",
                "纯棉短袖T恤 女款",
                "M码 黑色 100%棉",
                "011",
                "1",
                "011",
                Some("0.18"),
                "89.00",
                "133",
                "880987650102",
            ),
            p(
                "3304990099",
                "气垫BB霜",
                "15g/盒 21号",
                "011",
                "0.015",
                "035",
                None,
                "168.00",
                "133",
                "880987650103",
            ),
            p(
                "3305900000",
                "修护护发精油",
                "100ml/瓶",
                "142",
                "0.1",
                "035",
                None,
                "75.00",
                "133",
                "880987650104",
            ),
            p(
                "3401110000",
                "绿茶洁面皂",
                "120g/块",
                "011",
                "0.12",
                "035",
                None,
                "32.00",
                "133",
                "880987650105",
            ),
        ],
    },
];

/// (name, male)
const BUYERS: [(&str, bool); 18] = [
    ("张伟", true),
    ("王芳", false),
    ("李娜", false),
    ("刘洋", true),
    ("陈静", false),
    ("杨帆", true),
    ("赵敏", false),
    ("黄磊", true),
    ("周婷", false),
    ("吴强", true),
    ("徐丽", false),
    ("孙浩", true),
    ("马雪", false),
    ("朱军", true),
    ("胡月", false),
    ("郭斌", true),
    ("何静怡", false),
    ("林峰", true),
];

/// (region code of the ID, address prefix)
const PLACES: [(&str, &str); 8] = [
    ("500103", "重庆市渝中区解放碑街道民族路"),
    ("500105", "重庆市江北区观音桥街道建新北路"),
    ("500106", "重庆市沙坪坝区三峡广场街道小龙坎正街"),
    ("500107", "重庆市九龙坡区杨家坪街道西郊路"),
    ("500108", "重庆市南岸区南坪街道江南大道"),
    ("500112", "重庆市渝北区龙溪街道新牌坊一路"),
    ("510104", "四川省成都市锦江区春熙路街道红星路三段"),
    ("510107", "四川省成都市武侯区玉林街道玉林南路"),
];

fn fmt2(fixed5: i128) -> String {
    // fixed5 is a multiple of 1000 here (two decimals)
    let cents = fixed5 / 1000;
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn fmt_kg(fixed5: i128) -> String {
    Qty::from_raw(fixed5 as i64).to_string()
}

/// The demo lists and their receipts.
pub(crate) fn demo_data() -> (Vec<Inventory>, Vec<InventoryReturn>) {
    let mut rng = Rng(20260920);
    let start = china()
        .with_ymd_and_hms(2026, 9, 20, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let span_days = 61; // to 2026-11-20
    let mut lists = Vec::new();
    let mut receipts = Vec::new();
    for i in 0..LISTS {
        let serial = 101 + i as u32;
        let invt_no = format!("80142026I{serial:09}");
        // Release time: spread over the span, between 08:00 and 21:59 China time.
        let day = (i as i64 * span_days) / LISTS as i64 + rng.below(2) as i64;
        let day = day.min(span_days - 1);
        let released: DateTime<Utc> = start
            + Duration::days(day)
            + Duration::hours(8 + rng.below(14) as i64)
            + Duration::minutes(rng.below(60) as i64)
            + Duration::seconds(rng.below(60) as i64)
            + Duration::milliseconds(rng.below(1000) as i64);
        let released_local = released.with_timezone(&china());
        let ie_date: NaiveDate = released_local.date_naive();
        let decl_time = if rng.below(3) == 0 {
            ie_date - Duration::days(1)
        } else {
            ie_date
        };
        let app_time = china()
            .from_local_datetime(
                &decl_time
                    .and_hms_opt(
                        7 + rng.below(3) as u32,
                        rng.below(60) as u32,
                        rng.below(60) as u32,
                    )
                    .unwrap(),
            )
            .unwrap()
            .with_timezone(&Utc);
        let app_time = app_time.min(released - Duration::hours(1));

        let seller = &SELLERS[rng.below(3) as usize];
        let (area_code, area_name, ems_no) = if i % 3 == 2 {
            ("5001960W02", "重庆果园港供应链有限公司", "T8014W000002")
        } else {
            ("5001960W01", "重庆西永保税仓储有限公司", "T8014W000001")
        };
        let (buyer, male) = BUYERS[(i * 7) % BUYERS.len()];
        let (region, street) = PLACES[rng.below(PLACES.len() as u64) as usize];
        let birth = NaiveDate::from_ymd_opt(
            1975 + rng.below(26) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        )
        .unwrap();
        let seq = rng.below(50) * 2 * 10 + if male { 1 } else { 0 } + rng.below(5) * 2;
        let id17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
        let id_number = format!("{id17}{}", id_check(&id17));
        let phone = format!(
            "{}{}",
            ["138", "139", "136", "158", "159", "186", "187", "177"][rng.below(8) as usize],
            rng.digits(8)
        );
        let address = format!(
            "{street}{}号{}栋{}单元{}",
            1 + rng.below(200),
            1 + rng.below(12),
            1 + rng.below(4),
            101 + rng.below(30) * 100 + rng.below(6)
        );

        let n_lines = 1 + rng.below(3) as usize;
        let mut picked: Vec<usize> = Vec::new();
        while picked.len() < n_lines {
            let k = rng.below(seller.products.len() as u64) as usize;
            if !picked.contains(&k) {
                picked.push(k);
            }
        }
        let mut lines = Vec::new();
        let mut net: i128 = 0;
        for (g, &k) in picked.iter().enumerate() {
            let pr = &seller.products[k];
            let qty = 1 + rng.below(4) as i64;
            let price = Decimal::new(pr.price).unwrap();
            let total = price.to_fixed5() * i128::from(qty);
            let per_unit1: Qty = pr.qty1.parse().unwrap();
            let qty1 = Qty::from_raw(per_unit1.raw() * qty);
            let qty2 = pr
                .qty2
                .map(|q| Qty::from_raw(q.parse::<Qty>().unwrap().raw() * qty));
            net += i128::from(if pr.unit1 == "035" {
                qty1.raw()
            } else {
                qty2.map_or(0, |q| q.raw())
            });
            // Two lines in the whole file carry no bar code (`无`).
            let bar_code = if (i == 5 || i == 23) && g == 0 {
                None
            } else {
                Some(format!("{}{}", pr.ean, ean13_check(pr.ean)))
            };
            lines.push(InventoryLine {
                gnum: g as u32 + 1,
                item_record_no: format!("{}{:02}", &seller.code[..2], k + 1),
                item_no: format!("{}-{:03}", seller.code, k + 1),
                item_name: Some(pr.gname.to_string()),
                gcode: pr.gcode.into(),
                gname: pr.gname.into(),
                gmodel: pr.gmodel.into(),
                bar_code,
                country: pr.origin.into(),
                currency: "142".into(),
                qty: Qty::from_units(qty),
                unit: pr.unit.into(),
                qty1,
                unit1: pr.unit1.into(),
                qty2,
                unit2: pr.qty2.map(|_| "035".to_string()),
                price,
                total_price: Decimal::new(fmt2(total)).unwrap(),
                note: None,
            });
        }
        let gross = net * 12 / 10 + 5_000; // packaging
        let guid = rng.guid();
        let cop_no = format!("YMTC2026{serial:010}");
        let pre_no = format!("B{}{serial:09}", decl_time.format("%Y%m%d"));
        let order_no = format!("YMT{}{serial:06}", decl_time.format("%Y%m%d"));
        let freight = if rng.below(4) == 0 { "10.00" } else { "0" };
        lists.push(Inventory {
            guid: guid.clone(),
            app_type: Some("1".into()),
            app_time: Some(app_time),
            app_status: Some("2".into()),
            order_no,
            ebp_code: "5001960EBP".into(),
            ebp_name: "渝贸通跨境电商平台".into(),
            ebc_code: seller.code.into(),
            ebc_name: seller.name.into(),
            logistics_no: format!("SF{}", 100_000_000_000 + rng.below(900_000_000_000)),
            logistics_code: "5001980L01".into(),
            logistics_name: "重庆顺达速运有限公司".into(),
            cop_no: cop_no.clone(),
            pre_no: pre_no.clone(),
            assure_code: Some(seller.code.into()),
            ems_no: ems_no.into(),
            invt_no: invt_no.clone(),
            ie_flag: "I".into(),
            decl_time,
            customs_code: "8014".into(),
            port_code: "8014".into(),
            ie_date,
            buyer_id_type: "1".into(),
            buyer_id_number: id_number,
            buyer_name: buyer.into(),
            buyer_telephone: phone,
            consignee_address: address,
            agent_code: "5001960AG1".into(),
            agent_name: "重庆跨境代理服务有限公司".into(),
            area_code: area_code.into(),
            area_name: area_name.into(),
            trade_mode: "1210".into(),
            traf_mode: Some("Y".into()),
            traf_no: None,
            voyage_no: None,
            bill_no: None,
            loct_no: None,
            license_no: None,
            country: seller.country.into(),
            freight: Decimal::new(freight).unwrap(),
            insured_fee: Decimal::zero(),
            currency: "142".into(),
            wrap_type: Some("2".into()),
            pack_no: Some(1),
            gross_weight: Decimal::new(fmt_kg(gross)).unwrap(),
            net_weight: Decimal::new(fmt_kg(net)).unwrap(),
            note: None,
            lines,
        });
        receipts.push(InventoryReturn {
            guid,
            customs_code: "8014".into(),
            ebp_code: "5001960EBP".into(),
            ebc_code: seller.code.into(),
            agent_code: "5001960AG1".into(),
            cop_no,
            pre_no,
            invt_no: Some(invt_no),
            return_status: 800,
            return_time: released,
            return_info: "[Code:2600;Desc:放行]".into(),
        });
    }
    (lists, receipts)
}

fn agent_base() -> BaseTransfer {
    BaseTransfer {
        cop_code: "5001960AG1".into(),
        cop_name: "重庆跨境代理服务有限公司".into(),
        dxp_mode: "DXP".into(),
        dxp_id: "DXPENT0000019601".into(),
        note: None,
    }
}

/// `src/demo/` of the crate that holds this module.
fn demo_dir() -> PathBuf {
    let here = PathBuf::from(file!());
    let here = if here.is_absolute() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(here)
    };
    here.parent().unwrap().join("../demo")
}

#[test]
#[ignore = "writes src/demo/ceb621.xml and ceb622.xml; run on purpose"]
fn generate_demo_files() {
    let (lists, receipts) = demo_data();
    let xml621 = write_ceb621(&lists, &agent_base(), MESSAGE_GUID_621).unwrap();
    let xml622 = write_ceb622(&receipts, None, MESSAGE_GUID_622).unwrap();
    let dir = demo_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ceb621.xml"), xml621).unwrap();
    std::fs::write(dir.join("ceb622.xml"), xml622).unwrap();
}

#[test]
fn generator_is_deterministic_and_matches_the_shipped_files() {
    let (lists, receipts) = demo_data();
    assert_eq!(demo_data().0, lists);
    let xml621 = write_ceb621(&lists, &agent_base(), MESSAGE_GUID_621).unwrap();
    let xml622 = write_ceb622(&receipts, None, MESSAGE_GUID_622).unwrap();
    assert!(
        xml621 == include_str!("../demo/ceb621.xml"),
        "src/demo/ceb621.xml is stale: rerun generate_demo_files"
    );
    assert!(
        xml622 == include_str!("../demo/ceb622.xml"),
        "src/demo/ceb622.xml is stale: rerun generate_demo_files"
    );
}

#[test]
fn shipped_demo_files_parse_without_item_errors() {
    let p621 = parse(include_str!("../demo/ceb621.xml").as_bytes()).unwrap();
    let p622 = parse(include_str!("../demo/ceb622.xml").as_bytes()).unwrap();
    assert!(p621.items.errors().is_empty(), "{:?}", p621.items.errors());
    assert!(p622.items.errors().is_empty(), "{:?}", p622.items.errors());
    let Items::Inventory(lists) = p621.items else {
        panic!()
    };
    let Items::InventoryReturn(receipts) = p622.items else {
        panic!()
    };
    assert_eq!(lists.len(), 36);
    assert_eq!(receipts.len(), 36);
    let lists: Vec<Inventory> = lists.into_iter().map(|i| i.result.unwrap()).collect();
    let receipts: Vec<InventoryReturn> = receipts.into_iter().map(|i| i.result.unwrap()).collect();

    let from = china().with_ymd_and_hms(2026, 9, 20, 0, 0, 0).unwrap();
    let to = china().with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap();
    let mut w01 = 0;
    let mut no_barcode = 0;
    for (n, (l, r)) in lists.iter().zip(&receipts).enumerate() {
        assert_eq!(l.invt_no, format!("80142026I{:09}", 101 + n));
        assert_eq!(
            (r.invt_no.as_ref(), &r.guid, &r.cop_no, &r.ebc_code),
            (Some(&l.invt_no), &l.guid, &l.cop_no, &l.ebc_code)
        );
        assert_eq!(r.return_status, 800);
        assert!(
            r.return_time >= from && r.return_time < to,
            "{}",
            r.return_time
        );
        assert!(l.decl_time <= r.return_time.with_timezone(&china()).date_naive());
        assert!(["HK0000E001", "JP0000E002", "KR0000E003"].contains(&l.ebc_code.as_str()));
        assert_eq!(
            (
                l.ebp_code.as_str(),
                l.agent_code.as_str(),
                l.logistics_code.as_str()
            ),
            ("5001960EBP", "5001960AG1", "5001980L01")
        );
        assert_eq!(l.customs_code, "8014");
        assert_eq!(l.trade_mode, "1210");
        assert!(l.logistics_no.starts_with("SF") && l.logistics_no.len() == 14);
        assert!(l.order_no.starts_with("YMT2026"));
        assert_eq!(l.buyer_id_number.len(), 18);
        assert_eq!(
            id_check(&l.buyer_id_number[..17]),
            l.buyer_id_number.as_bytes()[17] as char
        );
        assert_eq!(l.buyer_telephone.len(), 11);
        if l.area_code == "5001960W01" {
            w01 += 1;
        } else {
            assert_eq!(l.area_code, "5001960W02");
        }
        assert!((1..=3).contains(&l.lines.len()));
        for line in &l.lines {
            let units = line.qty.whole_units().unwrap();
            assert!((1..=4).contains(&units));
            assert!(["011", "122", "142"].contains(&line.unit.as_str()));
            match &line.bar_code {
                Some(b) => assert!(is_ean13(b), "{b}"),
                None => no_barcode += 1,
            }
            assert_eq!(
                line.price.to_fixed5() * i128::from(units),
                line.total_price.to_fixed5()
            );
        }
    }
    assert_eq!(w01, 24);
    assert_eq!(no_barcode, 2);
    // Release times are spread over the whole period.
    let first = receipts.iter().map(|r| r.return_time).min().unwrap();
    let last = receipts.iter().map(|r| r.return_time).max().unwrap();
    assert!(
        first < from + Duration::days(3) && last > to - Duration::days(4),
        "{first} .. {last}"
    );
}

#[test]
fn ean13_check_digits() {
    assert!(is_ean13("4901234567894"));
    assert!(!is_ean13("4901234567895"));
    assert_eq!(id_check("11010519491231002"), 'X');
}
