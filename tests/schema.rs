//! The schema round trip against real Directus instances: pull writes the split snapshot,
//! diff compares it, push applies it to a fresh instance.

mod support;

use std::path::Path;
use support::DirectusInstance;
use support::cli::plan_has;
use support::dump::files_below;
use support::seed::blog_schema as seed_blog_schema;

fn assert_same_tree(left: &Path, right: &Path) {
    let files = files_below(left);
    assert_eq!(files, files_below(right), "the same files");
    for file in files {
        assert_eq!(
            std::fs::read_to_string(left.join(&file)).unwrap(),
            std::fs::read_to_string(right.join(&file)).unwrap(),
            "{file} differs"
        );
    }
}

#[test]
fn pull_writes_the_split_snapshot_and_diff_sees_no_change() {
    let instance = DirectusInstance::start();
    seed_blog_schema(&instance);
    let work = tempfile::tempdir().unwrap();

    instance.ok(work.path(), &["pull"]);

    let snapshot = work.path().join("directus-config/snapshot");
    let files = files_below(&snapshot);
    let article_fields: Vec<&str> = files
        .iter()
        .filter_map(|f| f.strip_prefix("fields/articles/"))
        .collect();
    assert_eq!(
        article_fields,
        [
            "author.json",
            "body.json",
            "id.json",
            "published.json",
            "published_at.json",
            "rating.json",
            "tags.json",
            "title.json"
        ]
    );
    assert!(files.contains(&"collections/articles.json".to_string()));
    assert!(files.contains(&"collections/authors.json".to_string()));
    assert!(
        !files.iter().any(|f| f.contains("directus_sync_id_map")),
        "the extension's id-map table never reaches the dump: {files:?}"
    );
    insta::assert_snapshot!(std::fs::read_to_string(snapshot.join("info.json")).unwrap(), @r#"
    {
      "version": 1,
      "directus": "10.13.1",
      "vendor": "sqlite"
    }
    "#);
    insta::assert_snapshot!(std::fs::read_to_string(snapshot.join("relations/articles/author.json")).unwrap(), @r#"
    {
      "collection": "articles",
      "field": "author",
      "related_collection": "authors",
      "meta": {
        "junction_field": null,
        "many_collection": "articles",
        "many_field": "author",
        "one_allowed_collections": null,
        "one_collection": "authors",
        "one_collection_field": null,
        "one_deselect_action": "nullify",
        "one_field": null,
        "sort_field": null
      },
      "schema": {
        "table": "articles",
        "column": "author",
        "foreign_key_table": "authors",
        "foreign_key_column": "id",
        "constraint_name": null,
        "on_update": "NO ACTION",
        "on_delete": "SET NULL"
      }
    }
    "#);
    let specs = work.path().join("directus-config/specs");
    assert_eq!(
        files_below(&specs),
        ["item.graphql", "openapi.json", "system.graphql"]
    );
    let item_graphql = std::fs::read_to_string(specs.join("item.graphql")).unwrap();
    assert!(
        item_graphql.contains("articles"),
        "the item schema names the collection"
    );

    assert_eq!(
        instance.ok(work.path(), &["diff", "--exit-code"]).stdout,
        "0 to create, 0 to update, 0 to delete\n"
    );
}

/// Every file of the split snapshot of [`seed_blog_schema`]: two collections, their ten
/// fields and the many-to-one relation (the 13 creates of a push to a fresh instance).
const BLOG_SCHEMA_SPLIT_FILES: [&str; 14] = [
    "collections/articles.json",
    "collections/authors.json",
    "fields/articles/author.json",
    "fields/articles/body.json",
    "fields/articles/id.json",
    "fields/articles/published.json",
    "fields/articles/published_at.json",
    "fields/articles/rating.json",
    "fields/articles/tags.json",
    "fields/articles/title.json",
    "fields/authors/id.json",
    "fields/authors/name.json",
    "info.json",
    "relations/articles/author.json",
];

/// Pull A, push to a fresh B, pull B: the snapshot folder holds exactly `snapshot_files`, and
/// they are identical.
fn round_trip(extra: &[&str], snapshot_files: &[&str]) {
    let (source, target) = support::start_two(DirectusInstance::start, DirectusInstance::start);
    seed_blog_schema(&source);
    let from_a = tempfile::tempdir().unwrap();
    let from_b = tempfile::tempdir().unwrap();
    let with_extra = |args: &[&'static str]| [args, extra].concat();
    source.ok(from_a.path(), &with_extra(&["pull"]));
    let a_snapshot = from_a.path().join("directus-config/snapshot");
    assert_eq!(
        files_below(&a_snapshot),
        snapshot_files,
        "what A's pull wrote"
    );

    let diff = target
        .run(from_a.path(), &with_extra(&["diff", "--exit-code"]))
        .exits(2)
        .stdout;
    assert!(
        plan_has(&diff, "schema collections", "+ articles"),
        "{diff}"
    );
    assert!(
        plan_has(&diff, "schema relations", "+ articles.author"),
        "{diff}"
    );
    assert!(
        diff.ends_with("13 schema changes; 0 to create, 0 to update, 0 to delete\n"),
        "{diff}"
    );

    target.ok(from_a.path(), &with_extra(&["push"]));
    target.ok(from_a.path(), &with_extra(&["diff", "--exit-code"]));

    target.ok(from_b.path(), &with_extra(&["pull"]));
    let b_snapshot = from_b.path().join("directus-config/snapshot");
    assert_eq!(
        files_below(&b_snapshot),
        snapshot_files,
        "what B's pull wrote"
    );
    assert_same_tree(&a_snapshot, &b_snapshot);

    let fields = target.get("/fields/articles");
    assert_eq!(
        fields.as_array().unwrap().len(),
        8,
        "B has every field of A"
    );
}

#[test]
fn push_to_a_fresh_instance_recreates_the_schema() {
    round_trip(&[], &BLOG_SCHEMA_SPLIT_FILES);
}

#[test]
fn no_split_round_trips_through_one_snapshot_file() {
    round_trip(&["--no-split"], &["snapshot.json"]);
}
