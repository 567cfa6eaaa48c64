//! Code 128 symbology: the shortest encoding of printable ASCII with code sets B and C, the
//! module pattern (from the `barcoders` crate), the matching ZPL `^BC` field data, and the
//! choice of module width.

use barcoders::sym::code128::Code128;

use super::LabelError;

/// Quiet zone on each side of the symbol, in modules (ISO/IEC 15417 asks for at least 10).
pub const QUIET_MODULES: u32 = 10;

/// Narrowest module accepted, in millimetres.
pub const MIN_MODULE_MM: f64 = 0.25;

/// Code set of a run of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    /// Code set B: ASCII 32–127, one character per symbol character.
    B,
    /// Code set C: digit pairs, two digits per symbol character.
    C,
}

/// An encoded Code 128 symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The data as given (what a reader returns).
    pub data: String,
    /// Runs of data with their code set, in order.
    pub runs: Vec<(Set, String)>,
    /// Modules from the start character to the termination bar, `true` = bar (dark);
    /// quiet zones not included.
    pub modules: Vec<bool>,
}

impl Symbol {
    /// Encodes already validated data (see [`super::validate_data`]).
    pub fn encode(data: &str) -> Result<Symbol, LabelError> {
        super::validate_data(data)?;
        let runs = plan(data);
        let mut input = String::new();
        for (set, text) in &runs {
            input.push(match set {
                Set::B => 'Ɓ',
                Set::C => 'Ć',
            });
            input.push_str(text);
        }
        let code = Code128::new(&input).map_err(|e| {
            LabelError::Render(format!("Code 128 encoding of {data:?} failed: {e:?}"))
        })?;
        let modules = code.encode().into_iter().map(|b| b == 1).collect();
        Ok(Symbol {
            data: data.to_string(),
            runs,
            modules,
        })
    }

    /// Modules of the symbol itself (without quiet zones).
    pub fn len(&self) -> u32 {
        self.modules.len() as u32
    }

    /// Never true for an encoded symbol.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }

    /// Modules including both quiet zones.
    pub fn total_modules(&self) -> u32 {
        self.len() + 2 * QUIET_MODULES
    }

    /// Field data for ZPL `^BC` in its default mode (no `,A`/`,U`/`,D` mode), which starts in
    /// code set B and follows the invocation codes `>;` (start C), `>5` (to C), `>6` (to B),
    /// `><` (a literal `>` in set B). It yields exactly the same symbol characters as
    /// [`Symbol::modules`], so the printed width is what the layout reserved. Characters that
    /// ZPL itself interprets (`^`, `~`) still need `^FH` escaping, done by the ZPL writer.
    pub fn zpl_data(&self) -> String {
        let mut out = String::new();
        for (i, (set, text)) in self.runs.iter().enumerate() {
            match (i, set) {
                (0, Set::B) => {}
                (0, Set::C) => out.push_str(">;"),
                (_, Set::B) => out.push_str(">6"),
                (_, Set::C) => out.push_str(">5"),
            }
            match set {
                Set::B => out.push_str(&text.replace('>', "><")),
                Set::C => out.push_str(text),
            }
        }
        out
    }
}

/// Splits `data` into runs of code sets B and C with the fewest symbol characters
/// (start + data + switches); ties go to fewer switches, then to set B.
pub fn plan(data: &str) -> Vec<(Set, String)> {
    let b: Vec<u8> = data.bytes().collect();
    let n = b.len();
    const INF: u32 = u32::MAX / 2;
    // cost[i][s]: fewest symbol characters (with start, switches) encoding b[..i], ending in
    // set s; the second number counts switches, for ties.
    let mut cost = vec![[(INF, INF); 2]; n + 1];
    // How we got there: (previous position, previous set).
    let mut from = vec![[(usize::MAX, 0usize); 2]; n + 1];
    cost[0] = [(1, 0), (1, 0)];
    let better = |a: (u32, u32), b: (u32, u32)| a < b;
    for i in 0..=n {
        // Switching code set in place (not at position 0, where the start code chooses).
        if i > 0 {
            for s in 0..2 {
                let o = 1 - s;
                let c = (cost[i][o].0 + 1, cost[i][o].1 + 1);
                if better(c, cost[i][s]) {
                    cost[i][s] = c;
                    from[i][s] = (i, o);
                }
            }
        }
        if i == n {
            break;
        }
        // Set B: one character.
        let c = (cost[i][0].0 + 1, cost[i][0].1);
        if better(c, cost[i + 1][0]) {
            cost[i + 1][0] = c;
            from[i + 1][0] = (i, 0);
        }
        // Set C: two digits.
        if i + 2 <= n && b[i].is_ascii_digit() && b[i + 1].is_ascii_digit() {
            let c = (cost[i][1].0 + 1, cost[i][1].1);
            if better(c, cost[i + 2][1]) {
                cost[i + 2][1] = c;
                from[i + 2][1] = (i, 1);
            }
        }
    }
    // Walk back.
    let mut s = if cost[n][1] < cost[n][0] { 1 } else { 0 };
    let mut i = n;
    let mut steps: Vec<(usize, usize, usize)> = Vec::new(); // (start, end, set)
    while i > 0 {
        let (pi, ps) = from[i][s];
        if pi == i {
            s = ps; // a switch
            continue;
        }
        steps.push((pi, i, s));
        i = pi;
        s = ps;
    }
    steps.reverse();
    let mut runs: Vec<(Set, String)> = Vec::new();
    for (a, e, s) in steps {
        let set = if s == 0 { Set::B } else { Set::C };
        match runs.last_mut() {
            Some((last, text)) if *last == set => text.push_str(&data[a..e]),
            _ => runs.push((set, data[a..e].to_string())),
        }
    }
    runs
}

/// Smallest module width in dots that is at least [`MIN_MODULE_MM`] at `dpi`
/// (2 at 203 dpi, 3 at 300, 6 at 600).
pub fn min_module_dots(dpi: u32) -> u32 {
    let exact = MIN_MODULE_MM * dpi as f64 / 25.4;
    ((exact - 1e-6).ceil() as u32).max(1)
}

/// Largest module width in dots, between `min` and `max`, such that `total_modules` fit in
/// `available` dots; `None` when even `min` does not fit.
pub fn fit_module(total_modules: u32, available: u32, min: u32, max: u32) -> Option<u32> {
    let m = (available / total_modules.max(1)).min(max);
    (m >= min).then_some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_shortest_code_sets() {
        assert_eq!(
            plan("RT20261122000001"),
            vec![(Set::B, "RT".into()), (Set::C, "20261122000001".into())]
        );
        assert_eq!(plan("XY01-R-01-02"), vec![(Set::B, "XY01-R-01-02".into())]);
        assert_eq!(plan("12345678"), vec![(Set::C, "12345678".into())]);
        // Odd number of digits: one goes in set B.
        let p = plan("1234567");
        assert_eq!(p.len(), 2);
        assert!(p.iter().any(|(s, t)| *s == Set::C && t.len() == 6));
        assert_eq!(plan("AB12"), vec![(Set::B, "AB12".into())]);
        assert_eq!(plan("A"), vec![(Set::B, "A".into())]);
        let p = plan("HK0000E001-3304990099-RT20261122000001-1");
        let joined: String = p.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(joined, "HK0000E001-3304990099-RT20261122000001-1");
        assert!(p.contains(&(Set::C, "3304990099".into())));
        assert!(p.contains(&(Set::C, "20261122000001".into())));
    }

    #[test]
    fn encodes_with_barcoders() {
        let s = Symbol::encode("RT20261122000001").unwrap();
        // start, R, T, code C, 7 digit pairs, checksum = 12 symbol characters; stop = 13 modules.
        assert_eq!(s.len(), 12 * 11 + 13);
        assert_eq!(s.total_modules(), s.len() + 20);
        assert!(s.modules[0] && *s.modules.last().unwrap());
        assert_eq!(s.zpl_data(), "RT>520261122000001");
        let s = Symbol::encode("XY01-R-01-02").unwrap();
        assert_eq!(s.len(), 14 * 11 + 13);
        assert_eq!(s.zpl_data(), "XY01-R-01-02");
        assert_eq!(Symbol::encode("1234").unwrap().zpl_data(), ">;1234");
        assert_eq!(
            Symbol::encode("A>B123456C").unwrap().zpl_data(),
            "A><B>5123456>6C"
        );
        // Every printable ASCII character encodes.
        let all: String = (0x21u8..=0x7e).map(|b| b as char).collect();
        Symbol::encode(&all[..60]).unwrap();
        Symbol::encode(&all[60..]).unwrap();
        assert!(Symbol::encode("退货").is_err());
    }

    #[test]
    fn module_widths() {
        assert_eq!(min_module_dots(203), 2);
        assert_eq!(min_module_dots(300), 3);
        assert_eq!(min_module_dots(600), 6);
        assert_eq!(fit_module(165, 775, 2, 10), Some(4));
        assert_eq!(fit_module(165, 3000, 2, 10), Some(10));
        assert_eq!(fit_module(407, 464, 2, 10), None);
    }
}
