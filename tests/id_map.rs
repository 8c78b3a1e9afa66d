//! Where SyncIds live: the extension's table or a hidden collection of ours, switchable
//! without losing identities.

mod support;

use serde_json::Value;
use std::path::Path;
use support::DirectusInstance;
use support::seed::all_collections;

fn ok(instance: &DirectusInstance, dir: &Path, args: &[&str]) -> (String, String) {
    let output = instance.cli(dir).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if !path.to_string_lossy().contains("/specs/") {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                out.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn sync_ids(dir: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir.join("directus-config/collections")).unwrap() {
        let items: Vec<Value> =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        ids.extend(
            items
                .iter()
                .map(|i| i["_syncId"].as_str().unwrap().to_string()),
        );
    }
    ids.sort();
    ids
}

#[test]
fn a_dump_moves_between_an_instance_with_the_extension_and_one_without() {
    let (with, without) = std::thread::scope(|s| {
        let a = s.spawn(DirectusInstance::start);
        let b = s.spawn(DirectusInstance::start_without_extension);
        (a.join().unwrap(), b.join().unwrap())
    });
    all_collections(&with);
    let from_a = tempfile::tempdir().unwrap();
    let from_b = tempfile::tempdir().unwrap();
    let (_, stderr) = ok(&with, from_a.path(), &["pull", "--debug"]);
    assert!(
        stderr.contains("SyncIds are kept in the directus-extension-sync table"),
        "{stderr}"
    );

    let (_, stderr) = ok(&without, from_a.path(), &["push", "--debug"]);
    assert!(
        stderr.contains("created the hidden collection sync_id_map"),
        "{stderr}"
    );
    let collection = without.get("/collections/sync_id_map");
    assert_eq!(collection["meta"]["hidden"], true);
    ok(&without, from_b.path(), &["pull"]);
    assert_eq!(
        files(from_a.path()),
        files(from_b.path()),
        "same dump, SyncIds included"
    );
    assert!(
        !files(from_b.path())
            .iter()
            .any(|(name, _)| name.contains("sync_id_map")),
        "the store never reaches the dump"
    );
    let (diff, _) = ok(&without, from_b.path(), &["diff", "--exit-code"]);
    assert_eq!(diff, "0 to create, 0 to update, 0 to delete\n");

    // Asking for the extension where there is none is a clear error.
    let output = without
        .cli(from_b.path())
        .args(["diff", "--id-map", "extension"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: --id-map extension: directus-extension-sync does not answer"),
        "{stderr}"
    );
}

#[test]
fn migrate_id_map_keeps_every_sync_id() {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    ok(&instance, dir, &["pull"]);
    let before = sync_ids(dir);

    ok(
        &instance,
        dir,
        &["helpers", "migrate-id-map", "--to", "collection"],
    );
    let again = tempfile::tempdir().unwrap();
    let (_, stderr) = ok(
        &instance,
        again.path(),
        &["pull", "--id-map", "collection", "--debug"],
    );
    assert!(
        !stderr.contains("tracking"),
        "nothing new to track: {stderr}"
    );
    assert_eq!(sync_ids(again.path()), before);
    let (diff, _) = ok(
        &instance,
        dir,
        &["diff", "--id-map", "collection", "--exit-code"],
    );
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
    ok(
        &instance,
        dir,
        &["helpers", "migrate-id-map", "--to", "extension"],
    );
    let third = tempfile::tempdir().unwrap();
    ok(&instance, third.path(), &["pull", "--id-map", "extension"]);
    assert_eq!(sync_ids(third.path()), before);
}
