//! Where SyncIds live: the extension's table or a hidden collection of ours, switchable
//! without losing identities.

mod support;

use serde_json::Value;
use std::path::Path;
use support::DirectusInstance;
use support::dump::{collection_file, files_below, seeded_and_pulled};
use support::seed::all_collections;

/// Every file of the dump with its text, the specs included: they name neither the instance nor
/// its id-map store.
fn files(dir: &Path) -> Vec<(String, String)> {
    files_below(dir)
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            (name, text)
        })
        .collect()
}

fn sync_ids(dir: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir.join("directus-config/collections")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap();
        ids.extend(
            collection_file(dir, name)
                .iter()
                .map(|i| i["_syncId"].as_str().unwrap().to_string()),
        );
    }
    ids.sort();
    ids
}

#[test]
fn a_dump_moves_between_an_instance_with_the_extension_and_one_without() {
    let (with, without) = support::start_two(
        DirectusInstance::start,
        DirectusInstance::start_without_extension,
    );
    all_collections(&with);
    let from_a = tempfile::tempdir().unwrap();
    let from_b = tempfile::tempdir().unwrap();
    let stderr = with.ok(from_a.path(), &["pull", "--debug"]).stderr;
    assert!(
        stderr.contains("SyncIds are kept in the directus-extension-sync table"),
        "{stderr}"
    );

    let stderr = without.ok(from_a.path(), &["push", "--debug"]).stderr;
    assert!(
        stderr.contains("created the hidden collection sync_id_map"),
        "{stderr}"
    );
    let collection = without.get("/collections/sync_id_map");
    assert_eq!(collection["meta"]["hidden"], true);
    without.ok(from_b.path(), &["pull"]);
    assert_eq!(
        files(from_a.path()),
        files(from_b.path()),
        "same dump, SyncIds included"
    );
    assert!(
        !files(from_b.path())
            .iter()
            .any(|(name, text)| name.contains("sync_id_map") || text.contains("sync_id_map")),
        "the store never reaches the dump"
    );
    let diff = without.ok(from_b.path(), &["diff", "--exit-code"]).stdout;
    assert_eq!(diff, "0 to create, 0 to update, 0 to delete\n");

    // Asking for the extension where there is none is a clear error.
    let stderr = without
        .run(from_b.path(), &["diff", "--id-map", "extension"])
        .exits(1)
        .stderr;
    assert!(
        stderr.starts_with("error: --id-map extension: directus-extension-sync does not answer"),
        "{stderr}"
    );
}

#[test]
fn migrate_id_map_keeps_every_sync_id() {
    let (instance, work) = seeded_and_pulled(DirectusInstance::start);
    let dir = work.path();
    let before = sync_ids(dir);

    instance.ok(dir, &["helpers", "migrate-id-map", "--to", "collection"]);
    let again = tempfile::tempdir().unwrap();
    let stderr = instance
        .ok(again.path(), &["pull", "--id-map", "collection", "--debug"])
        .stderr;
    assert!(
        !stderr.contains("tracking"),
        "nothing new to track: {stderr}"
    );
    assert_eq!(sync_ids(again.path()), before);
    let diff = instance
        .ok(dir, &["diff", "--id-map", "collection", "--exit-code"])
        .stdout;
    assert_eq!(diff, "0 to create, 0 to update, 0 to delete\n");

    // And back: an extension table emptied of its rows is refilled from the collection.
    let rows = instance.get("/items/directus_sync_id_map?fields=id&limit=-1");
    let ids: Vec<Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    instance.call(
        "DELETE",
        "/items/directus_sync_id_map",
        Some(&Value::Array(ids)),
    );
    instance.ok(dir, &["helpers", "migrate-id-map", "--to", "extension"]);
    let third = tempfile::tempdir().unwrap();
    instance.ok(third.path(), &["pull", "--id-map", "extension"]);
    assert_eq!(sync_ids(third.path()), before);
}

#[test]
fn two_instances_pulled_on_their_own_take_each_others_dump_settings_included() {
    // Each instance gave its settings row a SyncId of its own. A push of one's dump to the
    // other moves the other's row to the dump's SyncId: the extension's table holds one row
    // per local id, so recording a second one for the same row was refused (409).
    let (a, b) = support::start_two(DirectusInstance::start, DirectusInstance::start);
    a.patch("/settings", &serde_json::json!({"project_name": "From A"}));
    b.patch("/settings", &serde_json::json!({"project_name": "From B"}));
    let (dump_a, dump_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    a.ok(dump_a.path(), &["pull"]);
    b.ok(dump_b.path(), &["pull"]);
    let sync_id = |dir: &Path| collection_file(dir, "settings")[0]["_syncId"].clone();
    assert_ne!(sync_id(dump_a.path()), sync_id(dump_b.path()));

    b.ok(dump_a.path(), &["push"]);
    assert_eq!(b.get("/settings")["project_name"], "From A");
    b.ok(dump_a.path(), &["diff", "--exit-code"]);
    b.ok(dump_b.path(), &["pull"]);
    assert_eq!(sync_id(dump_b.path()), sync_id(dump_a.path()));
}
