//! Config files and hooks as users of the original tool write them: a `.js` config with
//! function hooks (run by node), and the same effects with shell-command hooks from YAML.

mod support;

use serde_json::json;
use std::path::Path;
use support::DirectusInstance;
use support::cli::{Outcome, plan_has};
use support::dump::collection_file;
use support::seed::all_collections;

/// The seeded instance, plus what the README's examples act on: a flow and an operation whose
/// names start with `Test:`, and a `my_model` collection with audit fields.
fn seeded() -> DirectusInstance {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let flow = instance.post(
        "/flows",
        &json!({"name": "Test: scratch", "status": "active", "trigger": "manual", "accountability": "all", "options": {}}),
    )["id"]
        .clone();
    instance.post(
        "/operations",
        &json!({"name": "Scratch log", "key": "scratch", "type": "log", "position_x": 1, "position_y": 1,
                "options": {}, "flow": flow}),
    );
    instance.post(
        "/collections",
        &json!({"collection": "my_model", "schema": {}, "meta": {},
                "fields": [{"field": "id", "type": "integer", "schema": {"is_primary_key": true, "has_auto_increment": true}},
                           {"field": "date_created", "type": "timestamp", "meta": {"special": ["date-created"]}},
                           {"field": "user_created", "type": "uuid", "meta": {"special": ["user-created"]}}]}),
    );
    instance.post(
        "/relations",
        &json!({"collection": "my_model", "field": "user_created", "related_collection": "directus_users"}),
    );
    instance
}

fn names(dir: &Path, collection: &str) -> Vec<String> {
    let mut names: Vec<String> = collection_file(dir, collection)
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The README's effects, whichever kind of hooks produced them.
fn assert_readme_effects(instance: &DirectusInstance, dir: &Path) {
    instance.ok(dir, &["pull", "--no-specs"]);
    assert_eq!(
        names(dir, "flows"),
        ["🔥 🧊 Callee", "🔥 🧊 Caller", "🔥 🧊 Notify editors"],
        "onQuery left out Test: flows; onDump then onSave prefixed the rest"
    );
    let operations = names(dir, "operations");
    assert!(
        !operations.iter().any(|n| n.contains("Scratch")),
        "{operations:?}"
    );
    assert!(
        operations.contains(&"Notify editors: Log start".to_string()),
        "onDump asked the instance for each operation's flow: {operations:?}"
    );

    // onLoad strips the 🔥 again: the instance lacks only the 🧊.
    let diff = instance.ok(dir, &["diff", "-o", "flows"]).stdout;
    assert!(
        plan_has(
            &diff,
            "flows",
            "~ \"🧊 Notify editors\": name \"Notify editors\" → \"🧊 Notify editors\""
        ),
        "{diff}"
    );

    // snapshot.onLoad drops my_model's audit fields: their absence on the instance is no diff.
    let snapshot = dir.join("directus-config/snapshot");
    assert!(
        snapshot.join("fields/my_model/date_created.json").exists(),
        "onSave keeps them"
    );
    instance.delete("/fields/my_model/user_created");
    instance.delete("/fields/my_model/date_created");
    let diff = instance.ok(dir, &["diff", "-o", "roles"]).stdout;
    assert!(!diff.contains("my_model"), "{diff}");
}

#[test]
fn the_readme_hooks_run_unchanged_from_a_js_config() {
    let instance = seeded();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(
        dir.join("directus-sync.config.js"),
        r#"
const { readFlow } = require('@directus/sdk');
const testPrefix = 'Test:';

module.exports = {
  extends: ['./directus-sync.base.yaml'],
  hooks: {
    flows: {
      onQuery: (query, client) => {
        query.filter = {
          name: { _nstarts_with: testPrefix },
        };
        return query;
      },
      onDump: (flows) => {
        return flows.map((flow) => {
          flow.name = `🧊 ${flow.name}`;
          return flow;
        });
      },
      onSave: (flows) => {
        return flows.map((flow) => {
          flow.name = `🔥 ${flow.name}`;
          return flow;
        });
      },
      onLoad: (flows) => {
        return flows.map((flow) => {
          flow.name = flow.name.replace('🔥 ', '');
          return flow;
        });
      },
    },
    operations: {
      onQuery: (query, client) => {
        query.filter = {
          flow: { name: { _nstarts_with: testPrefix } },
        };
        return query;
      },
      onDump: async (operations, client) => {
        for (const operation of operations) {
          const flow = await client.request(readFlow(operation.flow));
          if (flow) {
            operation.name = `${flow.name}: ${operation.name}`;
          }
        }
        return operations;
      },
    },
    snapshot: {
      /**
       * @param {Snapshot} snapshot
       * @param {DirectusClient} client
       */
      onLoad: async (snapshot, client) => {
        // Remove some fields from the snapshot
        const fieldsToExclude = {
          my_model: ['date_created', 'user_created'],
        };
        const collections = Object.keys(fieldsToExclude);
        const nodeFilter = (node) => {
          const { collection } = node;
          return !(collections.includes(collection) && fieldsToExclude[collection].includes(node.field));
        };
        snapshot.fields = snapshot.fields.filter(nodeFilter);
        snapshot.relations = snapshot.relations.filter(nodeFilter);

        return snapshot;
      },
    },
  },
};
"#,
    )
    .unwrap();
    std::fs::write(dir.join("directus-sync.base.yaml"), "split: true\n").unwrap();
    assert_readme_effects(&instance, dir);
}

#[test]
fn the_same_effects_with_command_hooks_from_yaml() {
    let instance = seeded();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(
        dir.join("flow-name.sh"),
        r#"#!/bin/sh
# Prefixes each operation's name with its flow's, asking the instance like the JS client does.
jq -c '.[]' | while read -r operation; do
  flow=$(printf '%s' "$operation" | jq -r .flow)
  name=$(curl -sf -H "Authorization: Bearer $DIRECTUS_TOKEN" "$DIRECTUS_URL/flows/$flow?fields=name" | jq -r .data.name)
  printf '%s' "$operation" | jq --arg flow "$name" '.name = $flow + ": " + .name'
done | jq -s .
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("directus-sync.config.yaml"),
        r#"
hooks:
  flows:
    onQuery: >-
      jq '.filter = {"name": {"_nstarts_with": "Test:"}}'
    onDump: >-
      jq 'map(.name = "🧊 " + .name)'
    onSave: >-
      jq 'map(.name = "🔥 " + .name)'
    onLoad: >-
      jq 'map(.name |= sub("🔥 "; ""))'
  operations:
    onQuery: >-
      jq '.filter = {"flow": {"name": {"_nstarts_with": "Test:"}}}'
    onDump: sh flow-name.sh
  snapshot:
    onLoad: >-
      jq '(.fields, .relations) |= map(select(.collection != "my_model"
      or (.field != "date_created" and .field != "user_created")))'
"#,
    )
    .unwrap();
    assert_readme_effects(&instance, dir);
}

#[test]
fn a_failing_hook_stops_the_command_and_nothing_is_written() {
    let instance = DirectusInstance::start();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    for (hook, expected) in [
        (
            "echo 'no such flow' >&2; exit 3",
            "exited with exit status: 3: no such flow",
        ),
        ("echo not-json", "printed no valid JSON"),
        ("jq '{}'", "expected a list of items back"),
    ] {
        std::fs::write(
            dir.join("directus-sync.config.yaml"),
            format!("hooks:\n  roles:\n    onDump: \"{hook}\"\n"),
        )
        .unwrap();
        let stderr = instance.run(dir, &["pull"]).exits(1).stderr;
        assert!(
            stderr.starts_with("error: hook roles.onDump failed: "),
            "{stderr}"
        );
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!dir.join("directus-config").exists(), "nothing written");
    }
    std::fs::remove_file(dir.join("directus-sync.config.yaml")).unwrap();
    std::fs::write(
        dir.join("directus-sync.config.cjs"),
        "module.exports = { hooks: { roles: { onDump: () => { throw new Error('refusing roles'); } } } };\n",
    )
    .unwrap();
    let stderr = instance.run(dir, &["pull"]).exits(1).stderr;
    assert!(stderr.contains("refusing roles"), "{stderr}");
    assert!(!dir.join("directus-config").exists());

    std::fs::write(
        dir.join("directus-sync.config.cjs"),
        "module.exports = { hooks: { role: { onDump: () => [] } } };\n",
    )
    .unwrap();
    let stderr = instance.run(dir, &["pull"]).exits(1).stderr;
    assert!(
        stderr.contains("hooks.role.*: not a tracked collection"),
        "{stderr}"
    );
}

#[test]
fn extends_chains_mix_formats_and_report_problems() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::create_dir(dir.join("shared")).unwrap();
    std::fs::write(
        dir.join("directus-sync.config.js"),
        "module.exports = { extends: ['./shared/team.yaml', './missing.json'], dumpPath: './from-js', debug: true };\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("shared/team.yaml"),
        "extends: [../base.json]\ndumpPath: ./from-yaml\nspecsPath: yaml-specs\nsplit: false\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("base.json"),
        r#"{"extends": ["./directus-sync.config.js"], "specsPath": "json-specs", "collectionsPath": "from-json", "excludeCollections": ["settings"]}"#,
    )
    .unwrap();
    let diff = || {
        let mut cmd = support::bin();
        cmd.current_dir(dir)
            .args(["diff", "-u", "http://127.0.0.1:1", "-t", "x"]);
        cmd
    };
    let stderr = Outcome::of(&mut diff()).stderr;
    assert!(
        stderr.contains("warning: config file")
            && stderr.contains("missing.json, which does not exist"),
        "{stderr}"
    );
    assert!(
        stderr.contains("base.json extends") && stderr.contains("(loop)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("dumpPath \"./from-js\""),
        "the entry file wins: {stderr}"
    );
    assert!(
        stderr.contains("split false"),
        "the YAML parent's value: {stderr}"
    );
    assert!(
        stderr.contains("directusToken Some(***)"),
        "secrets are masked: {stderr}"
    );
    assert!(!stderr.contains("Some(\"x\")"));

    // Without node, a JS config is a clear error that names the alternative.
    let stderr = Outcome::of(diff().env("PATH", "/nonexistent"))
        .exits(1)
        .stderr;
    assert!(
        stderr.contains("needs node") && stderr.contains("directus-sync.config.yaml"),
        "{stderr}"
    );
}
