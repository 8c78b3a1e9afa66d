//! A push judges convergence on what Directus can change. Collections built over REST hold
//! uuid and timestamp fields whose columns the database reads back as another type or column
//! type (`char(36)` uuids read as `string` on SQLite; a re-created uuid column is `varchar`):
//! a push into an empty instance lands everything, exits 0, and diff lists no change.

mod support;

use std::path::Path;
use std::time::Instant;
use support::DirectusInstance;
use support::cli::plan_has;
use support::seed::{roles_with_permissions, uuid_collections};

fn item_count(instance: &DirectusInstance, endpoint: &str) -> usize {
    instance
        .get(&format!("{endpoint}?fields=id&limit=-1"))
        .as_array()
        .map_or(0, Vec::len)
}

fn pushed_into_an_empty_instance(start: fn() -> DirectusInstance) {
    let started = Instant::now();
    let (a, b) = support::start_two(start, start);
    let collections = uuid_collections(&a, 10);
    roles_with_permissions(&a, 5, &collections);
    let work = tempfile::tempdir().unwrap();
    let dir: &Path = work.path();
    a.ok(dir, &["pull"]);

    let push = b.run(dir, &["push"]);
    assert_eq!(push.code, 0, "{push}");
    assert!(!push.stderr.contains("still differs"), "{push}");
    assert!(
        plan_has(&push.stdout, "schema fields", "+ catalog_09.reference"),
        "the whole schema is created: {push}"
    );
    let diff = b.run(dir, &["diff", "--exit-code"]).exits(0);
    assert_eq!(diff.stdout, "0 to create, 0 to update, 0 to delete\n");
    assert!(
        diff.stderr.contains("note: left out")
            && diff.stderr.contains("catalog_00.reference: column type"),
        "the column types Directus cannot set are named once, as a note: {diff}"
    );
    let again = b.ok(dir, &["push"]);
    assert_eq!(again.stdout, "0 to create, 0 to update, 0 to delete\n");
    for endpoint in ["/roles", "/permissions"] {
        assert_eq!(
            item_count(&b, endpoint),
            item_count(&a, endpoint),
            "{endpoint}"
        );
    }
    eprintln!("pushed and checked in {:.2?}", started.elapsed());
}

#[test]
fn a_rest_built_schema_pushed_into_an_empty_instance_with_the_extension() {
    pushed_into_an_empty_instance(DirectusInstance::start);
}

#[test]
fn a_rest_built_schema_pushed_into_an_empty_instance_without_the_extension() {
    pushed_into_an_empty_instance(DirectusInstance::start_without_extension);
}
