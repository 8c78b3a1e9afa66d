//! The guide's three-environment flow (docs/git-workflow.md) against three real Directus
//! instances: dev is pulled into main, main is promoted to staging and prod, a hotfix made in
//! prod's admin app is detected, pulled and merged back into main, prod is rolled back, and
//! `status` tells all the while, even with one instance down.

mod support;

use serde_json::json;
use support::cli::{Outcome, Transcript};
use support::seed::all_collections;
use support::{DirectusInstance, git};

struct Flow {
    dir: tempfile::TempDir,
    /// Each environment's token variable and token.
    tokens: Vec<(&'static str, String)>,
    dev: DirectusInstance,
    staging: Option<DirectusInstance>,
    prod: DirectusInstance,
    /// For the guide: saved to the file named by `GUIDE_TRANSCRIPT`.
    transcript: Transcript,
}

impl Flow {
    /// `directus-sync ARGS` with the environments' tokens in their variables, and no URL or
    /// token of the harness: the config file alone says where each environment is.
    fn run(&self, args: &[&str]) -> Outcome {
        let mut cmd = self.dev.cli(self.dir.path());
        cmd.env_remove("DIRECTUS_URL")
            .env_remove("DIRECTUS_TOKEN")
            .envs(self.tokens.iter().map(|(k, v)| (k, v)));
        let outcome = Outcome::of(cmd.args(args));
        self.transcript.command(args, &outcome);
        outcome
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> Outcome {
        self.run(args).exits(0)
    }

    fn git(&self, args: &[&str]) -> String {
        let out = git(self.dir.path(), args);
        self.transcript.git(args, &out);
        out
    }

    fn tip(&self, branch: &str) -> String {
        self.git(&["rev-parse", branch]).trim().to_string()
    }

    /// The `status` line of one environment.
    fn status_of(&self, status: &Outcome, name: &str) -> String {
        status
            .stdout
            .lines()
            .find(|line| line.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no status line for {name}: {status}"))
            .to_string()
    }

    fn role_description(instance: &DirectusInstance, name: &str) -> serde_json::Value {
        instance.get(&format!(
            "/roles?filter[name][_eq]={name}&fields=description"
        ))[0]["description"]
            .clone()
    }
}

fn config(dev: &DirectusInstance, staging: &DirectusInstance, prod: &DirectusInstance) -> String {
    format!(
        "dumpPath: ./directus-config\n\
         environments:\n  \
           dev:\n    directusUrl: {}\n    tokenEnv: DEV_TOKEN\n  \
           staging:\n    directusUrl: {}\n    branch: env/staging\n    tokenEnv: STAGING_TOKEN\n  \
           prod:\n    directusUrl: {}\n    branch: env/prod\n    tokenEnv: PROD_TOKEN\n",
        dev.url(),
        staging.url(),
        prod.url()
    )
}

#[test]
fn the_three_environment_flow_of_the_guide() {
    let (dev, staging) = support::start_two(DirectusInstance::start, DirectusInstance::start);
    let prod = DirectusInstance::start();
    all_collections(&dev);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("directus-sync.config.yaml"),
        config(&dev, &staging, &prod),
    )
    .unwrap();
    let tokens = vec![
        ("DEV_TOKEN", dev.token().to_string()),
        ("STAGING_TOKEN", staging.token().to_string()),
        ("PROD_TOKEN", prod.token().to_string()),
    ];
    let flow = Flow {
        dir,
        tokens,
        dev,
        staging: Some(staging),
        prod,
        transcript: Transcript::new("GUIDE_TRANSCRIPT"),
    };
    flow.git(&["init", "-q", "-b", "main"]);
    flow.git(&["add", "directus-sync.config.yaml"]);
    flow.git(&["commit", "-q", "-m", "directus-sync config"]);

    // Dev is pulled into main; two pulls with nothing changed make no commit.
    flow.ok(&["pull", "--env", "dev"]);
    let main = flow.tip("main");
    flow.ok(&["pull", "--env", "dev"]);
    assert_eq!(
        flow.tip("main"),
        main,
        "a pull with nothing changed commits nothing"
    );

    // Promotion: after each, status says that environment is in sync.
    for env in ["staging", "prod"] {
        flow.ok(&["push", "--env", env, "main"]);
        let status = flow.run(&["status", "--exit-code"]);
        let line = flow.status_of(&status, env);
        assert!(line.ends_with("in sync"), "{line}\n{status}");
        let log = flow.git(&["log", "-1", "--format=%B", &format!("env/{env}")]);
        assert!(
            log.starts_with(&format!("deploy main@{} to {env}", &main[..10])),
            "the environment's branch records the deployment: {log}"
        );
        assert!(log.contains(&format!("Pushed-From: {main}")), "{log}");
    }
    assert_eq!(flow.ok(&["status", "--exit-code"]).code, 0);
    // A pull right after a deployment finds nothing to commit: the branch is what is live.
    let deployed = flow.tip("env/prod");
    flow.ok(&["pull", "--env", "prod"]);
    assert_eq!(flow.tip("env/prod"), deployed, "no drift, no commit");

    // A change on dev goes the same way.
    let editor = flow.dev.get("/roles?filter[name][_eq]=Editor&fields=id")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    flow.dev.patch(
        &format!("/roles/{editor}"),
        &json!({"description": "Writes and edits articles"}),
    );
    flow.ok(&["pull", "--env", "dev"]);
    let second = flow.tip("main");
    assert_ne!(second, main);
    for env in ["staging", "prod"] {
        flow.ok(&["push", "--env", env, "main"]);
    }
    assert_eq!(flow.ok(&["status", "--exit-code"]).code, 0);

    // A hotfix in prod's admin app: status sees it, the push refuses to undo it.
    let prod_viewer = flow.prod.get("/roles?filter[name][_eq]=Viewer&fields=id")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    flow.prod.patch(
        &format!("/roles/{prod_viewer}"),
        &json!({"description": "Hotfix: reads everything"}),
    );
    let status = flow.run(&["status", "--exit-code"]).exits(2);
    assert!(
        flow.status_of(&status, "prod").contains("differs"),
        "{status}"
    );
    let refused = flow.run(&["push", "--env", "prod", "main"]).exits(1);
    assert!(refused.stderr.contains("changed since"), "{refused}");

    // Recovery: pull prod (onto env/prod), merge into main without conflict, promote.
    flow.ok(&["pull", "--env", "prod"]);
    let hotfix = flow.git(&[
        "diff",
        "--stat",
        "main",
        "env/prod",
        "--",
        "directus-config",
    ]);
    assert!(
        hotfix.contains("collections/roles.json") && hotfix.contains("1 file changed"),
        "env/prod differs from main only in the hotfix: {hotfix}"
    );
    flow.git(&["merge", "-q", "--no-edit", "env/prod"]);
    let merged = std::fs::read_to_string(
        flow.dir
            .path()
            .join("directus-config/collections/roles.json"),
    )
    .unwrap();
    assert!(merged.contains("Hotfix: reads everything"), "{merged}");
    assert!(
        merged.contains("Writes and edits articles"),
        "main's own change is kept: {merged}"
    );
    for env in ["dev", "staging"] {
        flow.ok(&["push", "--env", env, "main"]);
    }
    assert_eq!(
        Flow::role_description(flow.staging.as_ref().unwrap(), "Viewer"),
        json!("Hotfix: reads everything")
    );
    let noop = flow.ok(&["push", "--env", "prod", "main"]);
    assert!(
        noop.stdout
            .ends_with("0 to create, 0 to update, 0 to delete\n"),
        "prod has the hotfix already: {noop}"
    );
    assert_eq!(flow.ok(&["status", "--exit-code"]).code, 0);

    // Rollback: prod goes back to its previous deployment, the second pull of dev.
    let log = flow.ok(&["log", "--env", "prod"]).stdout;
    assert!(log.contains("push"), "{log}");
    let rollback = flow.ok(&["rollback", "--env", "prod"]);
    assert!(
        rollback.stderr.contains(&format!("to {}", &second[..10])),
        "{rollback}"
    );
    assert_eq!(
        Flow::role_description(&flow.prod, "Viewer"),
        serde_json::Value::Null,
        "the hotfix is rolled back"
    );
    assert_eq!(
        Flow::role_description(&flow.prod, "Editor"),
        json!("Writes and edits articles"),
        "what the previous deployment held stays"
    );
    let diff = flow.run(&["diff", "--env", "prod", &second, "--exit-code"]);
    assert_eq!(diff.code, 0, "prod is what {second} holds: {diff}");
    assert!(
        flow.status_of(&flow.run(&["status"]), "prod")
            .ends_with("in sync"),
        "env/prod records the rollback"
    );

    // With staging down, status still lists every environment, and fails.
    let mut flow = flow;
    drop(flow.staging.take());
    let down = flow.run(&["status"]).exits(1);
    let names: Vec<&str> = down
        .stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(names, ["dev", "staging", "prod"], "{down}");
    assert!(
        flow.status_of(&down, "staging")
            .contains("error: cannot reach"),
        "{down}"
    );
    assert!(flow.status_of(&down, "prod").ends_with("in sync"), "{down}");
    flow.transcript.save();
}
