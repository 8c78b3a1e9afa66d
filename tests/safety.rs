//! Nothing lost on bad input: a dump that lost a folder, SyncIds and names shaped like paths,
//! an id map whose extension vanished, a role under a new SyncId, items a hook hid, ignored
//! files in git, pushes that destroy data, paths outside the dump and mangled dump files. Each
//! is refused or handled before anything on the instance or outside the dump goes.

mod support;

in_both_id_map_stores!(a_dangling_id_map_row_whose_sync_id_is_a_path_deletes_nothing_else);

use serde_json::{Map, Value, json};
use std::fs;
use std::path::{Path, PathBuf};
use support::cli::{Outcome, plan_has};
use support::dump::{collection_file, files_below, write_collection};
use support::seed::{activity_count, all_collections, blog_schema, user_with_role};
use support::{DirectusInstance, git};

/// A SyncId that, put raw into a URL, climbs out of the id-map routes onto
/// `/collections/articles`.
const PATH_SYNC_ID: &str = "../../../../collections/articles";
const NO_ROLE: &str = "00000000-0000-0000-0000-000000000000";

/// How many items `path` lists, e.g. `/roles?fields=id&limit=-1`.
#[track_caller]
fn count(instance: &DirectusInstance, path: &str) -> usize {
    match instance.get(path).as_array() {
        Some(items) => items.len(),
        None => panic!("GET {path} answered no list"),
    }
}

#[track_caller]
fn role_id(instance: &DirectusInstance, name: &str) -> String {
    let roles = instance.get(&format!("/roles?filter[name][_eq]={name}&fields=id"));
    match roles[0]["id"].as_str() {
        Some(id) => id.to_string(),
        None => panic!("no role {name}: {roles}"),
    }
}

/// Three articles, each with a title and a body.
#[track_caller]
fn seed_articles(instance: &DirectusInstance) -> usize {
    for n in 1..=3 {
        instance.post(
            "/items/articles",
            &json!({"title": format!("Post {n}"), "body": format!("<p>Body {n}</p>")}),
        );
    }
    3
}

/// The collection `articles` is there with its `rows` rows, and `authors` too.
#[track_caller]
fn assert_blog_intact(instance: &DirectusInstance, rows: usize) {
    for collection in ["articles", "authors"] {
        let (status, body) = instance.request("GET", &format!("/collections/{collection}"), None);
        assert_eq!(status, 200, "the collection {collection} is gone: {body}");
    }
    assert_eq!(
        count(instance, "/items/articles?fields=id&limit=-1"),
        rows,
        "the rows of articles"
    );
}

/// A run that failed as a user error: exit 1, stderr opening with `error:`, and naming each of
/// `needles` somewhere.
#[track_caller]
fn assert_error(outcome: Outcome, needles: &[&str]) -> Outcome {
    let outcome = outcome.exits(1);
    let first = outcome.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error:"),
        "stderr's first line is the error:\n{outcome}"
    );
    for needle in needles {
        assert!(
            outcome.stderr.contains(needle),
            "stderr names {needle:?}:\n{outcome}"
        );
    }
    outcome
}

#[track_caller]
fn init_repo(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
}

/// Every file and folder below `root`, relative to it, sorted (folders end with `/`).
#[track_caller]
fn entries_below(root: &Path) -> Vec<String> {
    let mut entries = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            if path.is_dir() {
                entries.push(format!("{name}/"));
                pending.push(path);
            } else {
                entries.push(name);
            }
        }
    }
    entries.sort();
    entries
}

#[track_caller]
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The `_syncId` of the item of `collection` in the dump below `dir` whose `field` is `value`.
#[track_caller]
fn sync_id_of(dir: &Path, collection: &str, field: &str, value: &str) -> String {
    let items = collection_file(dir, collection);
    match items
        .iter()
        .find(|item| item[field] == value)
        .and_then(|item| item["_syncId"].as_str())
    {
        Some(sync_id) => sync_id.to_string(),
        None => panic!("no {collection} item with {field} = {value:?} in the dump"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. A split snapshot that lost a folder.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_split_snapshot_missing_a_folder_is_an_error_that_drops_nothing() {
    let instance = DirectusInstance::start();
    blog_schema(&instance);
    let rows = seed_articles(&instance);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    instance.ok(dir, &["pull"]);

    for folder in ["collections", "fields"] {
        let path = dir.join("directus-config/snapshot").join(folder);
        fs::remove_dir_all(&path).unwrap();
        let before = activity_count(&instance);
        let named = format!("snapshot/{folder}/");
        for command in ["push", "diff"] {
            let outcome = assert_error(instance.run(dir, &[command]), &[]);
            let first = outcome.stderr.lines().next().unwrap_or_default();
            assert!(
                first.contains(&named),
                "{command}: the error names {named}:\n{outcome}"
            );
        }
        assert_eq!(
            activity_count(&instance),
            before,
            "without {named}: nothing written"
        );
        assert_blog_intact(&instance, rows);
        // The next case starts from a whole dump again.
        instance.ok(dir, &["pull"]);
        assert!(path.is_dir(), "pull wrote {} again", path.display());
    }
}

// ---------------------------------------------------------------------------------------------
// 2. A SyncId is never put raw into a URL.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_sync_id_shaped_like_a_path_in_the_dump_is_refused() {
    let instance = DirectusInstance::start();
    blog_schema(&instance);
    let rows = seed_articles(&instance);
    instance.post("/roles", &json!({"name": "Editor", "icon": "edit"}));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    instance.ok(dir, &["pull"]);

    let mut roles = collection_file(dir, "roles");
    let mut intruder = roles[0].clone();
    intruder["name"] = json!("Intruder");
    intruder["_syncId"] = json!(PATH_SYNC_ID);
    roles.push(intruder);
    write_collection(dir, "roles", &roles);
    let before = activity_count(&instance);
    for command in ["push", "diff"] {
        assert_error(instance.run(dir, &[command]), &["roles.json", "_syncId"]);
    }
    assert_blog_intact(&instance, rows);
    assert_eq!(activity_count(&instance), before, "nothing written");
    assert_eq!(count(&instance, "/roles?filter[name][_eq]=Intruder"), 0);
}

/// Writes an id-map row straight into the instance's store, bypassing the tool.
#[track_caller]
fn insert_id_map_row(instance: &DirectusInstance, table: &str, sync_id: &str, local_id: &str) {
    match instance.with_extension() {
        true => instance.post(
            &format!("/directus-extension-sync/table/{table}"),
            &json!({"sync_id": sync_id, "local_id": local_id}),
        ),
        false => instance.post(
            "/items/sync_id_map",
            &json!({"table": table, "sync_id": sync_id, "local_id": local_id}),
        ),
    };
}

/// The SyncIds of `table` in the instance's id-map store.
#[track_caller]
fn id_map_sync_ids(instance: &DirectusInstance, table: &str) -> Vec<String> {
    let rows = match instance.with_extension() {
        true => instance.get(&format!("/directus-extension-sync/table/{table}")),
        false => instance.get(&format!(
            "/items/sync_id_map?filter[table][_eq]={table}&limit=-1"
        )),
    };
    match rows.as_array() {
        Some(rows) => rows
            .iter()
            .filter_map(|row| row["sync_id"].as_str().map(str::to_string))
            .collect(),
        None => panic!("the id map of {table} is no list: {rows}"),
    }
}

fn a_dangling_id_map_row_whose_sync_id_is_a_path_deletes_nothing_else(
    start: fn() -> DirectusInstance,
) {
    let instance = start();
    blog_schema(&instance);
    let rows = seed_articles(&instance);
    instance.post("/roles", &json!({"name": "Editor", "icon": "edit"}));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    // Tracks Editor: the store exists (without the extension, pull creates the collection).
    instance.ok(dir, &["pull"]);
    insert_id_map_row(&instance, "roles", PATH_SYNC_ID, NO_ROLE);
    assert!(
        id_map_sync_ids(&instance, "roles").contains(&PATH_SYNC_ID.to_string()),
        "the row is in the store"
    );

    // The row points at no role: push removes it with a DELETE.
    let push = instance.run(dir, &["push"]);
    assert_blog_intact(&instance, rows);
    push.exits(0);
    assert!(
        !id_map_sync_ids(&instance, "roles").contains(&PATH_SYNC_ID.to_string()),
        "push removed the dangling row"
    );
    assert_eq!(
        count(&instance, "/roles?filter[name][_eq]=Editor&fields=id"),
        1
    );

    // Untracking that SyncId sends a DELETE for it too.
    insert_id_map_row(&instance, "roles", PATH_SYNC_ID, NO_ROLE);
    let untrack = instance.run(
        dir,
        &[
            "helpers",
            "untrack",
            "--collection",
            "roles",
            "--sync-id",
            PATH_SYNC_ID,
        ],
    );
    assert_blog_intact(&instance, rows);
    assert!(matches!(untrack.code, 0 | 1), "{untrack}");
    if untrack.code == 1 {
        assert_error(untrack, &[]);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. A field named like a path.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_field_named_like_a_path_is_written_inside_the_dump_and_pushes_back() {
    let (source, target) = support::start_two(DirectusInstance::start, DirectusInstance::start);
    blog_schema(&source);
    const FIELD: &str = "../../../../pwned";
    source.post(
        "/fields/articles",
        &json!({"field": FIELD, "type": "alias",
                "meta": {"special": ["alias", "no-data"], "interface": "presentation-divider"}}),
    );
    // Nested, so that a file written 4 folders above the field's folder is still ours to see.
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("a/b/c/work");
    fs::create_dir_all(&dir).unwrap();
    source.ok(&dir, &["pull"]);

    let files = files_below(outer.path());
    let fields_folder = "a/b/c/work/directus-config/snapshot/fields/articles/";
    let pwned: Vec<&String> = files.iter().filter(|f| f.contains("pwned")).collect();
    assert_eq!(pwned.len(), 1, "one file for the field: {files:#?}");
    let name = pwned[0]
        .strip_prefix(fields_folder)
        .unwrap_or_else(|| panic!("{} is outside {fields_folder}", pwned[0]));
    assert!(
        name.ends_with(".json") && name != "pwned.json" && !name.contains('/'),
        "an encoded file name: {name}"
    );
    assert!(
        files
            .iter()
            .all(|f| !f.ends_with("/pwned.json") && f != "pwned.json"),
        "{files:#?}"
    );
    let text = fs::read_to_string(outer.path().join(pwned[0])).unwrap();
    let field: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(field["field"], FIELD, "the file keeps the real name");

    let diff = source.run(&dir, &["diff", "--exit-code"]);
    assert_eq!(diff.code, 0, "{diff}");

    target.ok(&dir, &["push"]);
    let fields = target.get("/fields/articles");
    assert!(
        fields
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == FIELD),
        "the field was created: {fields}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. The extension vanished.
// ---------------------------------------------------------------------------------------------

#[test]
fn an_instance_whose_extension_vanished_gets_an_error_not_duplicates() {
    let mut instance = DirectusInstance::start();
    all_collections(&instance);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    instance.ok(dir, &["pull"]);
    let roles = count(&instance, "/roles?fields=id&limit=-1");

    instance.restart(false);
    let (status, body) = instance.request("GET", "/directus-extension-sync/table/roles", None);
    assert_ne!(status, 200, "the extension is gone: {body}");
    assert_eq!(
        count(&instance, "/roles?fields=id&limit=-1"),
        roles,
        "same database"
    );

    for command in ["push", "diff"] {
        assert_error(instance.run(dir, &[command]), &["does not answer"]);
        assert_eq!(
            count(&instance, "/roles?fields=id&limit=-1"),
            roles,
            "{command} created no roles"
        );
    }
    let (status, _) = instance.request("GET", "/collections/sync_id_map", None);
    assert_ne!(status, 200, "no second id-map store was created");
}

// ---------------------------------------------------------------------------------------------
// 5. A role under a new SyncId.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_role_with_a_user_under_a_new_sync_id_keeps_its_id_and_its_user() {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let editor = role_id(&instance, "Editor");
    let user = user_with_role(&instance, "ed@example.com", &json!(editor));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    instance.ok(dir, &["pull"]);

    let old = sync_id_of(dir, "roles", "name", "Editor");
    let new = "3f0e2b9c-5d1a-4c7e-9b2f-6a8d4e1c7b05";
    let mut replaced = 0;
    for name in ["roles", "permissions", "presets", "settings"] {
        let path = dir.join(format!("directus-config/collections/{name}.json"));
        let text = fs::read_to_string(&path).unwrap();
        replaced += text.matches(&old).count();
        fs::write(&path, text.replace(&old, new)).unwrap();
    }
    assert!(replaced >= 3, "Editor, its permissions and its preset");

    let diff = instance.ok(dir, &["diff"]).stdout;
    assert!(
        plan_has(&diff, "roles", "~ \"Editor\""),
        "an update of Editor:\n{diff}"
    );
    assert!(
        !plan_has(&diff, "roles", "- ") && !plan_has(&diff, "roles", "+ "),
        "no delete and create of a role:\n{diff}"
    );

    instance.ok(dir, &["push"]);
    assert_eq!(
        count(&instance, "/roles?filter[name][_eq]=Editor&fields=id"),
        1
    );
    assert_eq!(role_id(&instance, "Editor"), editor, "the role kept its id");
    let user = instance.get(&format!("/users/{user}?fields=role,status"));
    assert_eq!(user["role"], editor.as_str(), "the user kept its role");
    assert_eq!(user["status"], "active", "the user is not suspended");
    let diff = instance.run(dir, &["diff", "--exit-code"]);
    assert_eq!(diff.code, 0, "{diff}");

    let again = tempfile::tempdir().unwrap();
    instance.ok(again.path(), &["pull"]);
    assert_eq!(sync_id_of(again.path(), "roles", "name", "Editor"), new);
}

// ---------------------------------------------------------------------------------------------
// 6. Tracked items an onQuery hook hides.
// ---------------------------------------------------------------------------------------------

#[test]
fn tracked_flows_an_on_query_hook_filters_out_survive_a_push() {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let flow = instance.post(
        "/flows",
        &json!({"name": "Test: scratch", "status": "active", "trigger": "manual", "accountability": "all", "options": {}}),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    instance.post(
        "/operations",
        &json!({"name": "Scratch log", "key": "scratch", "type": "log", "position_x": 1, "position_y": 1,
                "options": {}, "flow": flow}),
    );
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    instance.ok(dir, &["pull"]);
    let flow_sync_id = sync_id_of(dir, "flows", "name", "Test: scratch");
    let operation_sync_id = sync_id_of(dir, "operations", "key", "scratch");

    let config = dir.join("directus-sync.config.yaml");
    fs::write(
        &config,
        r#"
hooks:
  flows:
    onQuery: >-
      jq '.filter = {"name": {"_nstarts_with": "Test:"}}'
"#,
    )
    .unwrap();
    instance.ok(dir, &["pull"]);
    assert!(
        collection_file(dir, "flows")
            .iter()
            .all(|f| f["name"] != "Test: scratch"),
        "the hook hides the flow from the dump"
    );

    instance.ok(dir, &["push"]);
    let (status, body) = instance.request("GET", &format!("/flows/{flow}?fields=id,name"), None);
    assert_eq!(status, 200, "the flow is still there: {body}");
    assert_eq!(
        count(
            &instance,
            &format!("/operations?filter[flow][_eq]={flow}&fields=id")
        ),
        1,
        "its operation is still there"
    );

    fs::remove_file(&config).unwrap();
    let again = tempfile::tempdir().unwrap();
    instance.ok(again.path(), &["pull"]);
    assert_eq!(
        sync_id_of(again.path(), "flows", "name", "Test: scratch"),
        flow_sync_id,
        "the flow's id-map row survived"
    );
    assert_eq!(
        sync_id_of(again.path(), "operations", "key", "scratch"),
        operation_sync_id,
        "the operation's id-map row survived"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Ignored and untracked files of the dump in git.
// ---------------------------------------------------------------------------------------------

#[test]
fn ignored_and_untracked_files_of_the_dump_are_never_committed() {
    let instance = DirectusInstance::start();
    let editor = instance.post("/roles", &json!({"name": "Editor", "icon": "edit"}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    init_repo(dir);
    fs::write(dir.join(".gitignore"), "directus-config/specs/\n").unwrap();
    git(dir, &["add", ".gitignore"]);
    git(dir, &["commit", "-q", "-m", "ignore the specs"]);

    instance.ok(dir, &["pull"]);
    assert!(
        dir.join("directus-config/specs").is_dir(),
        "the specs are written"
    );
    let tree = git(dir, &["ls-tree", "-r", "HEAD", "--name-only"]);
    assert!(
        tree.contains("directus-config/collections/roles.json"),
        "{tree}"
    );
    assert!(
        !tree
            .lines()
            .any(|f| f.starts_with("directus-config/specs/")),
        "ignored files are not committed:\n{tree}"
    );
    assert_eq!(git(dir, &["status", "--porcelain"]), "");
    instance.ok(dir, &["pull"]);

    fs::write(dir.join("directus-config/notes.md"), "# my notes\n").unwrap();
    instance.patch(
        &format!("/roles/{editor}"),
        &json!({"description": "changed on the instance"}),
    );
    let head = git(dir, &["rev-parse", "HEAD"]);
    instance.ok(dir, &["pull", "--force"]);
    assert_ne!(
        git(dir, &["rev-parse", "HEAD"]),
        head,
        "the change is committed"
    );
    assert_eq!(
        git(dir, &["diff", "--cached", "--name-only"]),
        "",
        "nothing staged"
    );
    assert_eq!(
        git(dir, &["status", "--porcelain"]),
        "?? directus-config/notes.md\n"
    );
    let tree = git(dir, &["ls-tree", "-r", "HEAD", "--name-only"]);
    assert!(!tree.contains("notes.md"), "{tree}");
    let changed = git(dir, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(changed.trim(), "directus-config/collections/roles.json");
}

// ---------------------------------------------------------------------------------------------
// 8. The data-loss guard.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_push_that_destroys_data_needs_allow_data_loss() {
    let instance = DirectusInstance::start();
    blog_schema(&instance);
    let rows = seed_articles(&instance);
    let doomed = instance.post("/roles", &json!({"name": "Doomed", "icon": "warning"}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    instance.post(
        "/permissions",
        &json!({"role": doomed, "collection": "articles", "action": "read", "fields": ["*"], "permissions": {}}),
    );
    let user = user_with_role(&instance, "doomed@example.com", &json!(doomed));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    instance.ok(dir, &["pull"]);

    // A field with values.
    fs::remove_file(dir.join("directus-config/snapshot/fields/articles/body.json")).unwrap();
    let diff = instance.ok(dir, &["diff"]).stdout;
    let line =
        format!("! data loss: dropping field articles.body deletes its values in {rows} rows");
    assert!(diff.lines().any(|l| l.starts_with(&line)), "{line}\n{diff}");
    let json: Value =
        serde_json::from_str(&instance.ok(dir, &["diff", "--format", "json"]).stdout).unwrap();
    let losses = json["dataLoss"].as_array().cloned().unwrap_or_default();
    assert!(
        losses.iter().any(|l| l["kind"] == "dropField"
            && l["collection"] == "articles"
            && l["field"] == "body"
            && l["rows"] == rows),
        "{json:#}"
    );
    let has_body = |instance: &DirectusInstance| {
        instance
            .get("/fields/articles")
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "body")
    };
    assert_error(instance.run(dir, &["push"]), &["--allow-data-loss"]);
    assert!(has_body(&instance), "the field is still there");
    assert_eq!(
        count(
            &instance,
            "/items/articles?filter[body][_nnull]=true&fields=id"
        ),
        rows,
        "with its values"
    );
    instance.ok(dir, &["push", "--allow-data-loss"]);
    assert!(!has_body(&instance), "the field is gone");

    // A role that still has a user.
    instance.ok(dir, &["pull"]);
    let sync_id = sync_id_of(dir, "roles", "name", "Doomed");
    let mut roles = collection_file(dir, "roles");
    roles.retain(|r| r["_syncId"] != sync_id.as_str());
    write_collection(dir, "roles", &roles);
    let mut permissions = collection_file(dir, "permissions");
    permissions.retain(|p| p["role"] != sync_id.as_str());
    write_collection(dir, "permissions", &permissions);
    assert_error(
        instance.run(dir, &["push"]),
        &["doomed@example.com", "--allow-data-loss"],
    );
    assert_eq!(
        count(
            &instance,
            &format!("/roles?filter[id][_eq]={doomed}&fields=id")
        ),
        1,
        "the role is still there"
    );
    assert_eq!(
        instance.get(&format!("/users/{user}?fields=role"))["role"],
        doomed.as_str()
    );
    instance.ok(dir, &["push", "--allow-data-loss"]);
    assert_eq!(
        count(
            &instance,
            &format!("/roles?filter[id][_eq]={doomed}&fields=id")
        ),
        0,
        "the role is gone"
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Paths outside the dump, over .git, and branches of other worktrees.
// ---------------------------------------------------------------------------------------------

#[test]
fn dump_paths_outside_the_dump_over_git_or_in_another_worktree_are_refused() {
    let instance = DirectusInstance::start();
    let outer = tempfile::tempdir().unwrap();
    let work = outer.path().join("work");
    fs::create_dir(&work).unwrap();
    let absolute = outer.path().join("absolute-snapshot");
    let absolute = absolute.to_str().unwrap();
    for (args, key) in [
        (["pull", "--snapshot-path", absolute], "snapshotPath"),
        (["pull", "--snapshot-path", "../x"], "snapshotPath"),
        (["pull", "--collections-path", ""], "collectionsPath"),
    ] {
        assert_error(instance.run(&work, &args), &[key]);
        assert_eq!(
            entries_below(outer.path()),
            ["work/"],
            "{args:?} wrote nothing"
        );
    }

    // The dump folder would hold .git.
    let repo = outer.path().join("repo");
    fs::create_dir(&repo).unwrap();
    init_repo(&repo);
    fs::write(repo.join("README.md"), "config\n").unwrap();
    git(&repo, &["add", "README.md"]);
    git(&repo, &["commit", "-q", "-m", "start"]);
    let head = git(&repo, &["rev-parse", "HEAD"]);
    assert_error(
        instance.run(&repo, &["pull", "--dump-path", "."]),
        &[".git"],
    );
    assert_eq!(git(&repo, &["rev-parse", "HEAD"]), head);
    assert_eq!(git(&repo, &["status", "--porcelain", "--ignored"]), "");

    // A branch another worktree has checked out.
    git(&repo, &["branch", "B"]);
    git(&repo, &["worktree", "add", "-q", "../wt-of-b", "B"]);
    let b = git(&repo, &["rev-parse", "B"]);
    assert_error(
        instance.run(&repo, &["pull", "--branch", "B"]),
        &["worktree", "wt-of-b"],
    );
    assert_eq!(git(&repo, &["rev-parse", "B"]), b, "B did not move");
    assert_eq!(git(&repo, &["rev-parse", "HEAD"]), head);
    let worktree = outer.path().join("wt-of-b");
    assert_eq!(git(&worktree, &["status", "--porcelain", "--ignored"]), "");
    assert_eq!(git(&repo, &["status", "--porcelain", "--ignored"]), "");
}

// ---------------------------------------------------------------------------------------------
// 10. Mangled dumps.
// ---------------------------------------------------------------------------------------------

/// xorshift64*: deterministic, no crate needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const MUTATIONS: [&str; 10] = [
    "wrong type",
    "null",
    "duplicated item",
    "duplicate key",
    "truncated",
    "1 MB string",
    "invalid UTF-8",
    "unknown key",
    "removed _syncId",
    "added id",
];

/// The object a mutation edits: an item of a collection file, or a snapshot file (sometimes
/// its `meta` or `schema`).
fn target_object<'a>(rng: &mut Rng, value: &'a mut Value) -> &'a mut Map<String, Value> {
    let value = match value {
        Value::Array(items) => {
            let n = rng.below(items.len());
            &mut items[n]
        }
        other => {
            let nested = *rng.pick(&["", "", "meta", "schema"]);
            match other.get(nested).is_some_and(Value::is_object) {
                true => &mut other[nested],
                false => other,
            }
        }
    };
    value.as_object_mut().expect("dump items are objects")
}

fn random_key(rng: &mut Rng, object: &Map<String, Value>) -> String {
    let keys: Vec<&String> = object.keys().collect();
    rng.pick(&keys).to_string()
}

/// A value of another type than `value`.
fn other_type(rng: &mut Rng, value: &Value) -> Value {
    let choices = [
        json!(42),
        json!(-1.5),
        json!("not the right type"),
        json!(true),
        json!(["x", 1]),
        json!({"unexpected": {"nested": true}}),
    ];
    loop {
        let candidate = rng.pick(&choices).clone();
        let same = std::mem::discriminant(&candidate) == std::mem::discriminant(value);
        if !same {
            return candidate;
        }
    }
}

/// Mutates the dump file `path` (a collection file when `collection`), and says how.
#[track_caller]
fn mutate(rng: &mut Rng, kind: &str, path: &Path, collection: bool) -> String {
    let bytes = fs::read(path).unwrap();
    let text = String::from_utf8(bytes.clone()).expect("pull writes UTF-8");
    let mut value: Value = serde_json::from_str(&text).unwrap();
    let (written, how): (Vec<u8>, String) = match kind {
        "truncated" => {
            let at = rng.below(bytes.len() - 1);
            (bytes[..at].to_vec(), format!("cut at byte {at}"))
        }
        "invalid UTF-8" => {
            // Inside a string: right after one of its quotes.
            let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i + 1).collect();
            let at = *rng.pick(&quotes);
            let mut mangled = bytes[..at].to_vec();
            mangled.extend_from_slice(&[0xff, 0xfe, 0xc3]);
            mangled.extend_from_slice(&bytes[at..]);
            (mangled, format!("bytes FF FE C3 at {at}"))
        }
        "duplicate key" => {
            // Repeats a key of the first object, as raw text: a parser that keeps the last
            // one would see another value.
            let first = match &value {
                Value::Array(items) => items[0].clone(),
                other => other.clone(),
            };
            let object = first.as_object().unwrap();
            let key = random_key(rng, object);
            let repeated = match rng.below(2) {
                0 => object[&key].clone(),
                _ => other_type(rng, &object[&key]),
            };
            let at = text.find('{').unwrap() + 1;
            let mangled = format!("{}\"{key}\": {repeated}, {}", &text[..at], &text[at..]);
            (mangled.into_bytes(), format!("{key:?} twice"))
        }
        "duplicated item" if !collection => {
            // The same field, collection or relation in a second file.
            let copy = path.with_file_name(format!(
                "{}_copy.json",
                path.file_stem().unwrap().to_string_lossy()
            ));
            fs::write(&copy, &bytes).unwrap();
            (bytes, format!("copied to {}", copy.display()))
        }
        "duplicated item" => {
            let items = value.as_array_mut().unwrap();
            let n = rng.below(items.len());
            let copy = items[n].clone();
            items.push(copy);
            (
                serde_json::to_vec_pretty(&value).unwrap(),
                format!("item {n} twice"),
            )
        }
        _ => {
            let object = target_object(rng, &mut value);
            let mut key = random_key(rng, object);
            match kind {
                "wrong type" => {
                    let new = other_type(rng, &object[&key]);
                    object.insert(key.clone(), new);
                }
                "null" => {
                    object.insert(key.clone(), Value::Null);
                }
                "1 MB string" => {
                    let strings: Vec<String> = object
                        .iter()
                        .filter(|(_, v)| v.is_string())
                        .map(|(k, _)| k.clone())
                        .collect();
                    if !strings.is_empty() {
                        key = rng.pick(&strings).clone();
                    }
                    object.insert(key.clone(), json!("x".repeat(1 << 20)));
                }
                "unknown key" => {
                    key = format!("zz_unknown_{}", rng.below(1000));
                    object.insert(key.clone(), other_type(rng, &Value::Null));
                }
                "removed _syncId" => {
                    // A snapshot file has no SyncId: it loses any key instead.
                    if collection {
                        key = "_syncId".to_string();
                    }
                    object.remove(&key);
                }
                "added id" => {
                    key = "id".to_string();
                    let id = match rng.below(2) {
                        0 => json!(rng.below(100)),
                        _ => json!("4c1d6e0f-0000-4000-8000-000000000001"),
                    };
                    object.insert(key.clone(), id);
                }
                other => unreachable!("{other}"),
            }
            (
                serde_json::to_vec_pretty(&value).unwrap(),
                format!("{key:?}"),
            )
        }
    };
    fs::write(path, written).unwrap();
    how
}

/// The SyncIds of each tracked collection in the dump below `dir`.
#[track_caller]
fn dump_sync_ids(dir: &Path) -> Vec<(String, String)> {
    let mut ids = Vec::new();
    for name in directus_sync::collections::names() {
        for item in collection_file(dir, name) {
            if let Some(sync_id) = item["_syncId"].as_str() {
                ids.push((name.to_string(), sync_id.to_string()));
            }
        }
    }
    ids
}

/// The schema files (collections, fields, relations) of the dump below `dir`.
#[track_caller]
fn schema_files(dir: &Path) -> Vec<String> {
    files_below(&dir.join("directus-config/snapshot"))
        .into_iter()
        .filter(|f| f != "info.json")
        .collect()
}

const ROUNDS: usize = 30;

/// Authors and articles with a value in every column; returns them as read back.
#[track_caller]
fn blog_rows(instance: &DirectusInstance) -> Value {
    for name in ["Ada", "Grace"] {
        instance.post("/items/authors", &json!({"name": name}));
    }
    for n in 1..=3 {
        instance.post(
            "/items/articles",
            &json!({"title": format!("Post {n}"), "body": format!("<p>Body {n}</p>"),
                    "published": n % 2 == 1, "rating": n as f64 + 0.5,
                    "published_at": format!("2024-0{n}-01T10:00:00"), "tags": ["a", n.to_string()],
                    "author": 1 + n % 2}),
        );
    }
    read_blog_rows(instance)
}

#[track_caller]
fn read_blog_rows(instance: &DirectusInstance) -> Value {
    json!({
        "authors": instance.get("/items/authors?fields=*&sort=id&limit=-1"),
        "articles": instance.get("/items/articles?fields=*&sort=title&limit=-1"),
    })
}

#[test]
fn no_mangled_dump_makes_push_panic_or_delete_what_it_still_holds() {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let mut rows = blog_rows(&instance);
    let base = tempfile::tempdir().unwrap();
    instance.ok(base.path(), &["pull", "--no-specs"]);
    let base_dump = base.path().join("directus-config");
    let before = dump_sync_ids(base.path());
    let before_schema = schema_files(base.path());
    let files: Vec<(PathBuf, bool)> = files_below(&base_dump)
        .into_iter()
        .filter(|f| f.starts_with("collections/") || f.starts_with("snapshot/"))
        .map(|f| (PathBuf::from(&f), f.starts_with("collections/")))
        .collect();
    let collection_files: Vec<&(PathBuf, bool)> = files.iter().filter(|f| f.1).collect();
    let schema_only: Vec<&(PathBuf, bool)> = files.iter().filter(|f| !f.1).collect();

    let mut rng = Rng(0x5eed_0000_d1ec_7001);
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let kind = MUTATIONS[round % MUTATIONS.len()];
        let (file, collection) = match rng.below(4) {
            0 => *rng.pick(&schema_only),
            _ => *rng.pick(&collection_files),
        };
        let work = tempfile::tempdir().unwrap();
        let dump = work.path().join("directus-config");
        copy_dir(&base_dump, &dump);
        let how = mutate(&mut rng, kind, &dump.join(file), *collection);
        let case = format!("round {round}: {} {kind}: {how}", file.display());

        let push = instance.run(work.path(), &["push"]);
        let first = push.stderr.lines().next().unwrap_or_default();
        eprintln!("{case} → exit {}: {}", push.code, cut(first, 200));
        let mut problems = Vec::new();
        if !matches!(push.code, 0 | 1) {
            problems.push("exit code neither 0 nor 1".to_string());
        }
        if push.stderr.contains("panicked") {
            problems.push("panicked".to_string());
        }
        if push.code == 1 && !first.starts_with("error:") {
            problems.push("stderr's first line is not the error".to_string());
        }

        // What the instance holds now, read by a fresh pull.
        let scratch = tempfile::tempdir().unwrap();
        instance.ok(scratch.path(), &["pull", "--no-specs"]);
        let after = dump_sync_ids(scratch.path());
        for (name, sync_id) in &before {
            let mutated = fs::read(dump.join(format!("collections/{name}.json"))).unwrap();
            let quoted = format!("\"{sync_id}\"");
            let still_in_dump = mutated
                .windows(quoted.len())
                .any(|w| w == quoted.as_bytes());
            if still_in_dump && !after.iter().any(|(n, s)| n == name && s == sync_id) {
                problems.push(format!(
                    "{name} {sync_id} is in the dump but no longer on the instance"
                ));
            }
        }
        let schema_after = schema_files(scratch.path());
        let lost: Vec<&String> = before_schema
            .iter()
            .filter(|f| !schema_after.contains(f))
            .collect();
        if !lost.is_empty() {
            problems.push(format!("schema gone from the instance: {lost:?}"));
        }
        let rows_now = read_blog_rows(&instance);
        if rows_now != rows {
            problems.push(format!(
                "the rows of articles and authors changed:\n  before: {}\n  after:  {}",
                cut(&rows.to_string(), 2000),
                cut(&rows_now.to_string(), 2000)
            ));
        }
        // The next round compares with what this one left.
        rows = rows_now;
        if !problems.is_empty() {
            failures.push(format!(
                "{case}:\n  {}\n{}",
                problems.join("\n  "),
                shorten(&push)
            ));
        }
    }
    eprintln!("{ROUNDS} mangled pushes in {:?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "{} of {ROUNDS} rounds failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// An outcome for an assertion message, its streams cut to a few KB (a 1 MB string may be
/// echoed).
fn shorten(outcome: &Outcome) -> String {
    format!(
        "exit code {}\nstdout:\n{}\nstderr:\n{}",
        outcome.code,
        cut(&outcome.stdout, 4000),
        cut(&outcome.stderr, 4000)
    )
}

/// `text`'s first `chars` characters.
fn cut(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}… ({} bytes)", &text[..at], text.len()),
        None => text.to_string(),
    }
}
