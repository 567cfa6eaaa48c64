//! Customs XML shaped to exhaust the CPU (issue 22): hundreds of thousands of attributes or
//! namespace declarations on one element, tens of thousands of sibling elements, a 10 MB text
//! node. Over `POST /api/v1/imports` and through `bonded-returns import`, each is refused
//! with a clear reason and changes nothing, or is imported, in seconds: the quadratic reading
//! these replace took minutes. How the cost grows with size is measured in the unit tests of
//! `src/customs/tests.rs`; here the wall-clock bound only catches that blow-up.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::flowkit::*;
use crate::support::*;

/// Far beyond a linear read of 10 MB even in a debug build on a busy machine, far below the
/// minutes of a quadratic one.
const LOOSE: Duration = Duration::from_secs(10);

/// About the largest message the API takes (its limit is 10 MiB).
const TEN_MB: usize = 10_000_000;

fn sample() -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/customs/ceb621_sample.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the fixture")
}

/// The CEB621 sample (two lists) with `extra` added to the root's start tag.
fn root_with(extra: &str) -> String {
    sample().replacen(
        "<CEB621Message xmlns=",
        &format!("<CEB621Message{extra} xmlns="),
        1,
    )
}

/// What a message must be answered with.
enum Answer {
    /// Refused whole, the reason saying this.
    Refused(&'static str),
    /// Imported: the outcome of each of the two lists, and what the first one's reason says.
    Imported([&'static str; 2], &'static str),
}

/// The shapes of the security review, in the order the tests send them.
fn shapes() -> Vec<(&'static str, String, Answer)> {
    let attributes: String = (0..300_000).map(|i| format!(" a{i:07}=\"\"")).collect();
    let declarations: String = (0..20_000)
        .map(|i| format!(" xmlns:p{i:07}=\"u\""))
        .collect();
    let siblings = sample().replacen(
        "<InventoryHead>",
        &format!("<InventoryHead>{}", "<pad/>".repeat(50_000)),
        1,
    );
    let filler = "退货 &amp; 换货 ";
    let n = (TEN_MB - sample().len()) / filler.len();
    let text = sample().replacen(
        "<ebpName>渝贸通跨境电商平台</ebpName>",
        &format!("<ebpName>{}</ebpName>", filler.repeat(n)),
        1,
    );
    assert!(
        text.len() <= TEN_MB && text.len() > TEN_MB - 100,
        "{}",
        text.len()
    );
    vec![
        (
            "300k attributes on one element",
            root_with(&attributes),
            Answer::Refused("more than 256 attributes"),
        ),
        (
            "20k namespace declarations on one element",
            root_with(&declarations),
            Answer::Refused("more than 64 namespace declarations"),
        ),
        // Unknown elements are ignored.
        (
            "50k sibling elements",
            siblings,
            Answer::Imported(["created", "created"], ""),
        ),
        // Read whole, then the list is refused for a field too long.
        (
            "a 10 MB text node",
            text,
            Answer::Imported(["rejected", "unchanged"], "ebpName"),
        ),
    ]
}

/// Outcome and reason of each item of an import report.
fn outcomes(json: &Value) -> Vec<(String, String)> {
    json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["outcome"].as_str().unwrap_or("").to_string(),
                i["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The summary `import` prints for one file with these two outcomes.
fn summary(outcomes: [&str; 2]) -> String {
    let n = |o: &str| outcomes.iter().filter(|x| **x == o).count();
    format!(
        "1 file(s): {} created, 0 updated, {} unchanged, 0 skipped, {} rejected, 0 file(s) not imported",
        n("created"),
        n("unchanged"),
        n("rejected")
    )
}

both! {
    fn hostile_xml_posted_to_imports_is_refused_with_a_reason_or_imported_within_seconds(app: &TestApp) {
        let k = Kit::new(app);
        for (what, xml, answer) in shapes() {
            let before = k.snapshot(&[]);
            let started = Instant::now();
            let r = k.import(&k.admin, xml);
            let took = started.elapsed();
            assert!(took < LOOSE, "{what}: answered after {took:?}");
            match answer {
                Answer::Refused(says) => {
                    r.assert_problem(400, "validation");
                    assert!(r.text.contains(says), "{what}: {}", clip(&r.text, 300));
                    k.assert_unchanged(&before, &[]);
                }
                Answer::Imported(expected, says) => {
                    r.assert_status(200);
                    let o = outcomes(&r.json);
                    assert_eq!([o[0].0.as_str(), o[1].0.as_str()], expected, "{what}: {o:?}");
                    assert!(o[0].1.contains(says), "{what}: {o:?}");
                }
            }
        }
        assert_eq!(app.count("declarations"), 2);
        assert!(app.verify(None).ok);
    }

    fn hostile_xml_given_to_import_on_the_command_line_is_refused_in_one_line_or_imported_within_seconds(app: &TestApp) {
        let dir = tempfile::tempdir().unwrap();
        let mut shapes = shapes();
        // The command line has no body limit: the parser's own limit answers.
        let huge = format!("{}<!-- {} -->", sample(), "x".repeat(11 * 1024 * 1024));
        shapes.push(("a message over 10 MiB", huge, Answer::Refused("the message is too large")));
        for (i, (what, xml, answer)) in shapes.into_iter().enumerate() {
            let path = dir.path().join(format!("message-{i}.xml"));
            std::fs::write(&path, xml).unwrap();
            let path = path.display().to_string();
            let declarations = app.count("declarations");
            let started = Instant::now();
            let run = cli(&["import", &path, "--database-url", &app.db.url], None);
            let took = started.elapsed();
            assert!(took < LOOSE, "{what}: answered after {took:?}");
            assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
            let last = run.stdout.lines().last().unwrap_or("");
            let lines = run.stderr_lines();
            match answer {
                Answer::Refused(says) => {
                    assert_eq!(run.code, Some(1), "{what}: {run:?}");
                    assert!(last.ends_with(", 1 file(s) not imported"), "{what}: {last}");
                    assert_eq!(lines.len(), 1, "{what}: {lines:?}");
                    let line = lines[0];
                    assert!(line.starts_with(&format!("{path}: not imported: ")), "{what}: {line}");
                    assert!(line.contains(says), "{what}: {line}");
                    assert_eq!(app.count("declarations"), declarations, "{what}");
                }
                Answer::Imported(expected, says) => {
                    assert_eq!(last, summary(expected), "{what}");
                    if expected.contains(&"rejected") {
                        assert_eq!(run.code, Some(1), "{what}: {run:?}");
                        assert_eq!(lines.len(), 1, "{what}: {lines:?}");
                        let line = clip(lines[0], 300);
                        assert!(line.starts_with(&format!("{path}: item 1 (")), "{what}: {line}");
                        assert!(line.contains(says), "{what}: {line}");
                    } else {
                        assert_eq!(run.code, Some(0), "{what}: {run:?}");
                        assert!(lines.is_empty(), "{what}: {lines:?}");
                    }
                }
            }
        }
        assert_eq!(app.count("declarations"), 2);
        assert!(app.verify(None).ok);
    }
}
