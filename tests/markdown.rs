//! `diff --format markdown` and `show flow` against a real Directus: a pulled dump edited by
//! hand (a role and a permission changed, a role created, a translation deleted, an operation
//! added to a flow, a field's file deleted) gives a pull-request comment with the data loss
//! first, a table of counts, a section per collection and a Mermaid picture of the flow that
//! Mermaid's own parser accepts; the same text on every run.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use support::dump::{collection_file, write_collection};
use support::mermaid::{Source, assert_parses};
use support::seed::all_collections;
use support::{DirectusInstance, git};

const REVIEWER: &str = "9b1c7d8e-0000-4000-8000-0000000000a1";
const NOTIFY: &str = "9b1c7d8e-0000-4000-8000-0000000000a2";

fn find<'a>(items: &'a mut [Value], field: &str, value: &str) -> &'a mut Value {
    items
        .iter_mut()
        .find(|item| item[field] == value)
        .unwrap_or_else(|| panic!("no item with {field} = {value}"))
}

/// The seeded instance, with ratings on two articles, pulled into a git repository, then the
/// edit committed on top of the pull.
fn edited() -> (DirectusInstance, tempfile::TempDir) {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    for (title, rating) in [("First", 4.5), ("Second", 3.0)] {
        instance.post(
            "/items/articles",
            &json!({"title": title, "rating": rating}),
        );
    }
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    git(dir, &["init", "-q", "-b", "main"]);
    instance.ok(dir, &["pull"]);

    let mut roles = collection_file(dir, "roles");
    find(&mut roles, "name", "Editor")["description"] = json!("Writes and reviews articles");
    roles.push(
        json!({"name": "Reviewer", "icon": "rate_review", "description": null,
                      "ip_access": null, "enforce_tfa": false, "admin_access": false,
                      "app_access": true, "_syncId": REVIEWER}),
    );
    write_collection(dir, "roles", &roles);

    let mut permissions = collection_file(dir, "permissions");
    let viewer_reads_articles = permissions
        .iter_mut()
        .find(|p| p["collection"] == "articles" && p["fields"] == json!(["title"]))
        .expect("the Viewer's read permission on articles");
    viewer_reads_articles["fields"] = json!(["title", "body"]);
    write_collection(dir, "permissions", &permissions);

    let mut translations = collection_file(dir, "translations");
    translations.retain(|t| t["key"] != "farewell");
    write_collection(dir, "translations", &translations);

    // A notification after the last step of "Notify editors".
    let mut operations = collection_file(dir, "operations");
    let done = find(&mut operations, "key", "log_done");
    done["resolve"] = json!(NOTIFY);
    let flow = done["flow"].clone();
    operations.push(
        json!({"name": "Notify \"editors\" <all>", "key": "notify", "type": "notification",
                           "position_x": 73, "position_y": 1, "options": {"message": "done"},
                           "flow": flow, "resolve": null, "reject": null, "_syncId": NOTIFY}),
    );
    write_collection(dir, "operations", &operations);

    std::fs::remove_file(dir.join("directus-config/snapshot/fields/articles/rating.json")).unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "edit by hand"]);
    (instance, work)
}

/// The lines of `markdown` from the one starting with `start` up to the first empty line.
#[track_caller]
fn block<'a>(markdown: &'a str, start: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = markdown.lines().collect();
    let Some(first) = lines.iter().position(|l| l.starts_with(start)) else {
        panic!("no line starting with {start:?} in:\n{markdown}");
    };
    lines[first..]
        .iter()
        .take_while(|l| !l.is_empty())
        .copied()
        .collect()
}

/// One Directus for both: `show flow` reads the dump only, the one the diff is made of.
#[test]
fn a_hand_edited_dump_as_markdown_and_as_flow_pictures() {
    let (instance, work) = edited();
    diff_as_markdown_flags_the_loss_counts_details_and_draws_the_changed_flow(
        &instance,
        work.path(),
    );
    show_flow_draws_a_real_flow_now_and_at_a_revision(&instance, work.path());
}

#[track_caller]
fn diff_as_markdown_flags_the_loss_counts_details_and_draws_the_changed_flow(
    instance: &DirectusInstance,
    dir: &Path,
) {
    let markdown = instance.ok(dir, &["diff", "--format", "markdown"]).stdout;
    // The whole comment, for review; the asserts below say what must hold in it.
    insta::assert_snapshot!("diff_markdown", markdown);
    // The loss comes first, before the table, naming the field and what it holds.
    assert_eq!(
        block(&markdown, "> [!CAUTION]"),
        [
            "> [!CAUTION]",
            "> **Data loss**: this push destroys what git cannot give back.",
            ">",
            "> - ⚠️ dropping field articles.rating deletes its values in 2 rows",
        ]
    );
    assert!(markdown.find("> [!CAUTION]") < markdown.find("| | collection |"));
    assert_eq!(
        block(&markdown, "| | collection |"),
        [
            "| | collection | create | update | delete |",
            "|---|---|--:|--:|--:|",
            "| ⚠️ | schema: fields | 0 | 0 | 1 |",
            "|  | roles | 1 | 1 | 0 |",
            "|  | translations | 0 | 0 | 1 |",
            "|  | operations | 1 | 1 | 0 |",
            "|  | permissions | 0 | 1 | 0 |",
        ]
    );
    let sections: Vec<&str> = markdown
        .lines()
        .filter(|l| l.starts_with("<details>"))
        .collect();
    assert_eq!(
        sections,
        [
            "<details><summary><b>schema: fields</b> (1 change)</summary>",
            "<details><summary><b>roles</b> (2 changes)</summary>",
            "<details><summary><b>translations</b> (1 change)</summary>",
            "<details><summary><b>operations</b> (2 changes)</summary>",
            "<details><summary><b>permissions</b> (1 change)</summary>",
        ]
    );
    assert_eq!(markdown.matches("</details>").count(), sections.len());
    assert!(
        markdown.contains("- ➖ <code>articles.rating</code> ⚠️ **data loss**"),
        "{markdown}"
    );
    // The flow, with the new step and the one now leading to it highlighted, no other.
    let picture = block(
        &markdown,
        "#### Notify editors (changed operations highlighted)",
    );
    assert_eq!(picture.len(), 1, "the heading stands alone: {picture:?}");
    let diagram = block(&markdown, "```mermaid");
    let nodes = diagram.join("\n");
    for (node, label) in [
        ("op2", "Log done"),
        ("op3", "Notify #quot;editors#quot; #lt;all#gt;"),
    ] {
        assert!(
            nodes.contains(&format!("  {node}[\"{label}<br/>")),
            "{nodes}"
        );
    }
    assert_eq!(diagram[diagram.len() - 2], "  class op2,op3 changed");
    assert_eq!(assert_parses(&[Source::Markdown(&markdown)]), 1);
    // A bot re-running the diff edits its comment instead of adding one.
    let again = instance.ok(dir, &["diff", "--format", "markdown"]).stdout;
    assert!(markdown == again, "a second run differs:\n{again}");
}

#[track_caller]
fn show_flow_draws_a_real_flow_now_and_at_a_revision(instance: &DirectusInstance, dir: &Path) {
    let now = instance.ok(dir, &["show", "flow", "Notify editors"]).stdout;
    insta::assert_snapshot!(now, @r##"
    flowchart LR
      trigger(["manual · Notify editors"])
      op0["Log start<br/><small>log</small>"]
      op1["Log middle<br/><small>log</small>"]
      op2["Log done<br/><small>log</small>"]
      op3["Notify #quot;editors#quot; #lt;all#gt;<br/><small>notification</small>"]
      op4["Log failure<br/><small>log</small>"]
      trigger -->|resolve| op0
      op0 -->|resolve| op1
      op0 -.->|reject| op4
      op1 -->|resolve| op2
      op2 -->|resolve| op3
    "##);
    // The pulled flow, before the edit was committed on top of it.
    let before = instance
        .ok(dir, &["show", "flow", "Notify editors", "HEAD~1"])
        .stdout;
    insta::assert_snapshot!(before, @r##"
    flowchart LR
      trigger(["manual · Notify editors"])
      op0["Log start<br/><small>log</small>"]
      op1["Log middle<br/><small>log</small>"]
      op2["Log done<br/><small>log</small>"]
      op3["Log failure<br/><small>log</small>"]
      trigger -->|resolve| op0
      op0 -->|resolve| op1
      op0 -.->|reject| op3
      op1 -->|resolve| op2
    "##);
    assert_eq!(
        assert_parses(&[Source::Diagram(&now), Source::Diagram(&before)]),
        2
    );
    let dot = instance
        .ok(dir, &["show", "flow", "Notify editors", "--format", "dot"])
        .stdout;
    insta::assert_snapshot!(dot, @r#"
    digraph flow {
      rankdir=LR;
      node [shape=box];
      trigger [shape=oval, label="manual · Notify editors"];
      op0 [label="Log start\nlog"];
      op1 [label="Log middle\nlog"];
      op2 [label="Log done\nlog"];
      op3 [label="Notify \"editors\" <all>\nnotification"];
      op4 [label="Log failure\nlog"];
      trigger -> op0 [label="resolve"];
      op0 -> op1 [label="resolve"];
      op0 -> op4 [label="reject", style=dashed, color=red];
      op1 -> op2 [label="resolve"];
      op2 -> op3 [label="resolve"];
    }
    "#);
    // A typo: the error names what the dump has, so the fix is one look away.
    let typo = instance
        .run(dir, &["show", "flow", "Notify editor"])
        .exits(1);
    assert!(
        typo.stderr
            .contains(r#"no flow called "Notify editor" in the dump"#)
            && typo
                .stderr
                .contains("the dump's flows: Callee, Caller, Notify editors"),
        "{typo}"
    );
}
