//! The Mermaid the tool prints parses with Mermaid's own parser (tests/mermaid): the blocks
//! of the `diff --format markdown` snapshot, and flow pictures whose names hold whatever a
//! Directus name may hold. No Directus is needed.

mod support;

use directus_sync::flows::Flow;
use serde_json::{Value, json};
use std::collections::HashSet;
use support::mermaid::{Source, assert_parses, parse};

const MARKDOWN_SNAPSHOT: &str = "src/plan/snapshots/directus_sync__plan__render_markdown_tests__markdown_shows_losses_first_a_table_sections_and_changed_flows.snap";

/// Names that could end a label, open a tag, start a comment or a link, or read as an
/// entity code in Mermaid.
const AWKWARD: &[&str] = &[
    "",
    " ",
    "say \"hi\"",
    "'single'",
    "a < b > c",
    "<b>bold</b><script>alert(1)</script>",
    "left | right",
    "#35; #quot; &amp; &lt;",
    "# not a heading",
    "%% not a comment",
    "a --> b -.-> c",
    "[brackets] (parens) {braces}",
    "semi; colon: comma,",
    "back`tick`",
    "back\\slash",
    "line\nbreak\r\nagain",
    "Grüße · 日本語 · emoji 🚀",
    "end",
    "class",
    "style",
    "A",
];

/// A flow per awkward name: the name on the flow, its trigger and every operation, with a
/// resolve and a reject path and a loop back, so that every kind of edge is drawn.
fn awkward_flows() -> Vec<Flow> {
    AWKWARD
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let flow = format!("f-{i}");
            let flows =
                [json!({"name": name, "trigger": name, "operation": "o-1", "_syncId": flow})];
            let op = |id: &str, resolve: Value, reject: Value| {
                json!({"name": name, "key": name, "type": name, "flow": flow,
                       "resolve": resolve, "reject": reject, "_syncId": id})
            };
            let operations = [
                op("o-1", json!("o-2"), json!("o-3")),
                op("o-2", json!(null), json!(null)),
                op("o-3", json!("o-1"), json!("o-outside")),
            ];
            Flow::from_dump(&flows, &operations, &flow).unwrap()
        })
        .collect()
}

#[test]
fn the_markdown_snapshot_s_mermaid_blocks_parse() {
    let snapshot = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(MARKDOWN_SNAPSHOT),
    )
    .unwrap();
    let blocks = snapshot.matches("```mermaid\n").count();
    assert!(blocks > 0, "the snapshot draws no flow:\n{snapshot}");
    assert_eq!(assert_parses(&[Source::Markdown(&snapshot)]), blocks);
}

#[test]
fn flows_with_awkward_names_parse_highlighted_or_not() {
    let flows = awkward_flows();
    let changed = HashSet::from(["o-1".to_string(), "o-3".to_string()]);
    let diagrams: Vec<String> = flows
        .iter()
        .flat_map(|flow| [flow.mermaid(&HashSet::new()), flow.mermaid(&changed)])
        .collect();
    let sources: Vec<Source<'_>> = diagrams.iter().map(|d| Source::Diagram(d)).collect();
    assert_eq!(assert_parses(&sources), 2 * AWKWARD.len());
}

#[test]
fn a_flow_without_operations_parses() {
    let flows =
        [json!({"name": "Empty", "trigger": "manual", "operation": null, "_syncId": "f-1"})];
    let flow = Flow::from_dump(&flows, &[], "f-1").unwrap();
    assert_eq!(
        assert_parses(&[Source::Diagram(&flow.mermaid(&HashSet::new()))]),
        1
    );
}

/// The check is worth something only if it fails: a label with a raw quote (what the
/// escaping prevents), a misspelt diagram type, a flow's picture with its escaping undone
/// and Markdown without a block are rejected, each with the parser's reason.
#[test]
fn broken_mermaid_is_rejected_with_the_parser_s_message() {
    let raw_quote = "flowchart LR\n  op0[\"say \"hi\" twice\"]\n";
    let report = parse(&[Source::Diagram(raw_quote)]).unwrap_err();
    assert!(report.contains("Parse error on line 2"), "{report}");

    let report = parse(&[Source::Diagram("flowchat LR\n  a --> b\n")]).unwrap_err();
    assert!(report.contains("No diagram type detected"), "{report}");

    let report = parse(&[Source::Markdown("## no picture here\n")]).unwrap_err();
    assert!(report.contains("no ```mermaid block"), "{report}");

    // The escaping is what keeps a flow's picture whole: undone, the parser refuses it.
    let quoted = AWKWARD.iter().position(|name| name.contains('"')).unwrap();
    let unescaped = awkward_flows()[quoted]
        .mermaid(&HashSet::new())
        .replace("#quot;", "\"");
    let report = parse(&[Source::Diagram(&unescaped)]).unwrap_err();
    assert!(report.contains("Parse error"), "{report}");

    // One bad diagram among good ones fails the whole check, naming that one.
    let good = awkward_flows()[0].mermaid(&HashSet::new());
    let report = parse(&[Source::Diagram(&good), Source::Diagram(raw_quote)]).unwrap_err();
    assert!(report.contains("1.mmd:1: Mermaid rejects"), "{report}");
    assert!(!report.contains("0.mmd:1: Mermaid rejects"), "{report}");
}
