//! A dump in the original tool's format (fixtures/original-2.2.0) is read and pushed unchanged,
//! and pulling the instance back gives the same items in our canonical formatting.

mod support;

use serde_json::Value;
use std::path::Path;
use support::DirectusInstance;
use support::cli::plan_has;
use support::dump::collection_file;

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn by_sync_id(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by(|a, b| a["_syncId"].as_str().cmp(&b["_syncId"].as_str()));
    items
}

#[test]
fn a_dump_of_the_original_tool_is_pushed_unchanged() {
    let instance = DirectusInstance::start();
    let work = tempfile::tempdir().unwrap();
    let original = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/original-2.2.0");
    copy_tree(&original, &work.path().join("directus-config"));

    let plan = instance.ok(work.path(), &["push"]);
    assert!(
        plan_has(&plan.stdout, "permissions", "+ admin authors.read"),
        "{plan}"
    );
    let diff = instance.run(work.path(), &["diff", "--exit-code"]).exits(0);
    assert_eq!(diff.stdout, "0 to create, 0 to update, 0 to delete\n");

    // Flows and folders keep their ids; settings point at the folder by that id.
    let flow = instance.get("/flows/937b6da6-0bcf-4151-bcfa-949ab380d47c?fields=name,operation");
    let first = instance.get(&format!(
        "/operations/{}?fields=key,resolve.key",
        flow["operation"].as_str().unwrap()
    ));
    assert_eq!(
        first,
        serde_json::json!({"key": "log_start", "resolve": {"key": "log_end"}})
    );
    let settings = instance.get("/settings?fields=storage_default_folder,project_name");
    assert_eq!(
        settings["storage_default_folder"],
        "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c01"
    );

    let pulled = tempfile::tempdir().unwrap();
    instance.ok(pulled.path(), &["pull", "--no-specs"]);
    for name in directus_sync::collections::names() {
        let theirs = by_sync_id(collection_file(work.path(), name));
        let ours = by_sync_id(collection_file(pulled.path(), name));
        assert_eq!(theirs.len(), ours.len(), "{name}");
        for (original, pulled) in theirs.iter().zip(&ours) {
            for (field, value) in original.as_object().unwrap() {
                assert_eq!(&pulled[field], value, "{name} {field}");
            }
        }
    }
    // Our files are the original's format byte for byte: JSON.stringify(value, null, 2).
    let roles =
        std::fs::read_to_string(pulled.path().join("directus-config/collections/roles.json"))
            .unwrap();
    insta::assert_snapshot!(roles, @r#"
    [
      {
        "name": "Reviewer",
        "icon": "rate_review",
        "description": "Reads and comments",
        "ip_access": null,
        "enforce_tfa": false,
        "admin_access": false,
        "app_access": true,
        "_syncId": "5f0e2a8c-3c7b-4d51-9c36-0d8f2b6f6a01"
      }
    ]
    "#);
}
