//! The Markdown diff on plain data: schema and item creates, updates and deletes, data losses
//! of both kinds (a dropped field, a deleted role with users) and a changed flow.

use super::tests::{dump, instance, plan, row};
use super::{DataLoss, FlowItems, Plan};
use crate::json::Compact;
use crate::snapshot::SchemaDiff;
use serde_json::{Value, json};

#[test]
fn markdown_shows_losses_first_a_table_sections_and_changed_flows() {
    let instance = instance(
        vec![
            row("roles", "r-old", "11"),
            row("roles", "r-ed", "12"),
            row("flows", "f-1", "f-1"),
            row("operations", "o-1", "o-1"),
            row("operations", "o-2", "o-2"),
        ],
        vec![
            (
                "roles",
                vec![
                    json!({"id": "11", "name": "Old team", "description": ""}),
                    json!({"id": "12", "name": "Editor", "description": "edits | things"}),
                ],
            ),
            (
                "flows",
                vec![
                    json!({"id": "f-1", "name": "Notify", "trigger": "event", "status": "active", "operation": "o-1"}),
                ],
            ),
            (
                "operations",
                vec![
                    json!({"id": "o-1", "name": "Check", "key": "check", "type": "condition", "flow": "f-1", "resolve": "o-2", "reject": null}),
                    json!({"id": "o-2", "name": "Send mail", "key": "mail", "type": "mail", "flow": "f-1", "resolve": null, "reject": null}),
                ],
            ),
        ],
    );
    let dump = dump(vec![
        (
            "roles",
            vec![
                json!({"name": "Editor", "description": "edits articles and pages; a very long description that is cut", "_syncId": "r-ed"}),
                json!({"name": "Reviewer", "description": "", "admin_access": false, "app_access": true, "_syncId": "r-new"}),
            ],
        ),
        (
            "flows",
            vec![
                json!({"name": "Notify", "trigger": "event", "status": "active", "operation": "o-1", "_syncId": "f-1"}),
            ],
        ),
        (
            "operations",
            vec![
                json!({"name": "Check", "key": "check", "type": "condition", "flow": "f-1", "resolve": "o-2", "reject": "o-3", "_syncId": "o-1"}),
                json!({"name": "Send mail", "key": "mail", "type": "mail", "flow": "f-1", "resolve": null, "reject": null, "_syncId": "o-2"}),
                json!({"name": "Log refusal", "key": "log", "type": "log", "flow": "f-1", "resolve": null, "reject": null, "_syncId": "o-3"}),
            ],
        ),
    ]);
    // A new collection with a field, a field's note changed, and a column dropped (listed
    // first in its section, before the field named before it).
    let schema = json!({
        "collections": [
            {"collection": "reviews", "diff": [{"kind": "N", "rhs": {"collection": "reviews", "schema": {"name": "reviews"}}}]}
        ],
        "fields": [
            {"collection": "reviews", "field": "score", "diff": [{"kind": "N", "rhs": {"field": "score", "type": "integer"}}]},
            {"collection": "articles", "field": "title", "diff": [
                {"kind": "E", "path": ["meta", "note"], "lhs": "Shown in lists", "rhs": "Shown in lists | feeds"}]},
            {"collection": "articles", "field": "views", "diff": [{"kind": "D", "lhs": {"field": "views", "schema": {"name": "views"}}}]}
        ],
        "relations": []
    });
    let mut plan = Plan {
        schema: Some(SchemaDiff::new(Value::Null, schema)),
        ..plan(&["roles", "flows", "operations"], &dump, &instance)
    };
    plan.data_loss.push(DataLoss::DropField {
        collection: "articles".into(),
        field: "views".into(),
        rows: 42,
    });
    plan.data_loss.push(DataLoss::DeleteRole {
        sync_id: "r-old".into(),
        role: "Old team".into(),
        users: vec!["ann@example.com".into()],
    });
    let flows = Compact::values(dump.items("flows"));
    let operations = Compact::values(dump.items("operations"));
    let markdown = plan.render_markdown(FlowItems {
        flows: &flows,
        operations: &operations,
    });
    insta::assert_snapshot!(markdown);
    // The same plan renders the same text: a bot edits its comment instead of adding one.
    assert_eq!(
        markdown,
        plan.render_markdown(FlowItems {
            flows: &flows,
            operations: &operations
        })
    );
}
