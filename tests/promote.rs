//! Promotion between two real Directus instances, staging and prod, each with its own
//! secrets and its own values (issue #14): a pull of staging writes no secret into git, a
//! push that lacks a secret stops before writing anything, `promote staging prod` applies
//! staging's configuration with prod's values, secrets and owned fields, and a diff afterwards
//! finds nothing. No secret value is ever printed.

mod support;

use serde_json::{Value, json};
use support::cli::{Outcome, Transcript};
use support::seed::{activity_count, all_collections};
use support::{DirectusInstance, git};

const STAGING_MAPBOX: &str = "pk.staging-SECRET-mapbox-7f3a9c";
const STAGING_TOKEN: &str = "Bearer staging-SECRET-token-41d2e8";
const PROD_MAPBOX: &str = "pk.prod-SECRET-mapbox-c81b05";
const PROD_TOKEN: &str = "Bearer prod-SECRET-token-9e6f13";
const ROTATED_TOKEN: &str = "Bearer prod-SECRET-rotated-2a7d44";
/// Every secret value of the test: none may reach git, stdout or stderr.
const SECRETS: [&str; 5] = [
    STAGING_MAPBOX,
    STAGING_TOKEN,
    PROD_MAPBOX,
    PROD_TOKEN,
    ROTATED_TOKEN,
];
/// Undeclared, and looking like a key: the pull warns about it (and commits it).
const UNDECLARED: &str = "sk_live_undeclared0123";

struct Promotion {
    dir: tempfile::TempDir,
    staging: DirectusInstance,
    prod: DirectusInstance,
    /// Variables every run gets (the tokens), and the secrets of this step.
    env: std::cell::RefCell<Vec<(String, String)>>,
    /// For the guide: saved to the file named by `PROMOTE_TRANSCRIPT`.
    transcript: Transcript,
}

impl Promotion {
    /// `directus-sync ARGS` with the environments' tokens and the variables set so far, and
    /// nothing of the harness' URL or token: the config file says where each instance is.
    /// Whatever it prints holds no secret.
    #[track_caller]
    fn run(&self, args: &[&str]) -> Outcome {
        let mut cmd = self.staging.cli(self.dir.path());
        cmd.env_remove("DIRECTUS_URL")
            .env_remove("DIRECTUS_TOKEN")
            .env("STAGING_TOKEN", self.staging.token())
            .env("PROD_TOKEN", self.prod.token())
            .envs(self.env.borrow().iter().map(|(k, v)| (k, v)));
        let outcome = Outcome::of(cmd.args(args));
        self.transcript.command(args, &outcome);
        for secret in SECRETS {
            assert!(
                !outcome.stdout.contains(secret) && !outcome.stderr.contains(secret),
                "{args:?} printed a secret value:\n{outcome}"
            );
        }
        outcome
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> Outcome {
        self.run(args).exits(0)
    }

    fn git(&self, args: &[&str]) -> String {
        git(self.dir.path(), args)
    }

    fn set(&self, name: &str, value: &str) {
        let mut env = self.env.borrow_mut();
        env.retain(|(k, _)| k != name);
        env.push((name.to_string(), value.to_string()));
    }

    /// Every byte of every commit, note and ref of the repository.
    #[track_caller]
    fn assert_no_secret_in_git(&self) {
        let history = self.git(&["log", "-p", "--all", "--format=%H%n%B"]);
        assert!(history.contains("directus-config"), "{history}");
        for secret in SECRETS {
            assert!(!history.contains(secret), "git holds {secret:?}");
        }
    }

    /// `.env.NAME` next to the config file: that environment's secrets.
    fn env_file(&self, environment: &str, pairs: &[(&str, &str)]) {
        let text: String = pairs
            .iter()
            .map(|(name, value)| format!("{name}=\"{value}\"\n"))
            .collect();
        std::fs::write(self.dir.path().join(format!(".env.{environment}")), text).unwrap();
    }
}

fn settings(instance: &DirectusInstance) -> Value {
    instance.get("/settings")
}

fn crm_operation(instance: &DirectusInstance) -> Value {
    instance.get("/operations?filter[key][_eq]=call_crm&fields=options")[0]["options"].clone()
}

fn header(options: &Value, name: &str) -> Value {
    options["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["header"] == name)
        .map(|h| h["value"].clone())
        .unwrap_or(Value::Null)
}

/// Staging: the configuration of every tracked collection, its own settings and Mapbox key,
/// and a flow whose request carries a token.
fn seed_staging(staging: &DirectusInstance) {
    all_collections(staging);
    staging.patch(
        "/settings",
        &json!({"project_name": "Staging CMS", "project_color": "#00AA00", "mapbox_key": STAGING_MAPBOX}),
    );
    let flow = staging.post(
        "/flows",
        &json!({"name": "Sync to CRM", "status": "active", "trigger": "manual",
                "accountability": "all", "options": {"collections": ["articles"]}}),
    );
    let operation = staging.post(
        "/operations",
        &json!({"name": "Call CRM", "key": "call_crm", "type": "request", "position_x": 19,
                "position_y": 1, "flow": flow["id"],
                "options": {"url": "https://crm.example.com/staging-hook", "method": "POST",
                            "headers": [{"header": "Authorization", "value": STAGING_TOKEN},
                                        {"header": "Content-Type", "value": "application/json"},
                                        {"header": "X-Custom-Token", "value": UNDECLARED}],
                            "body": "{{ $trigger.body }}"}}),
    );
    staging.patch(
        &format!("/flows/{}", flow["id"].as_str().unwrap()),
        &json!({"operation": operation["id"]}),
    );
}

fn config(staging: &DirectusInstance, prod: &DirectusInstance) -> String {
    format!(
        "dumpPath: ./directus-config\n\
         owned: [settings.public_registration, settings.public_registration_role]\n\
         environments:\n  \
           staging:\n    directusUrl: {}\n    branch: env/staging\n    tokenEnv: STAGING_TOKEN\n  \
           prod:\n    directusUrl: {}\n    branch: env/prod\n    tokenEnv: PROD_TOKEN\n    \
             values:\n      \
               settings.project_name: Prod CMS\n      \
               settings.project_color: \"#AA0000\"\n      \
               \"operations[key=call_crm].options.url\": https://crm.example.com/prod-hook\n",
        staging.url(),
        prod.url()
    )
}

/// The placeholder names in a text: `${NAME}`.
fn placeholders(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .split("${")
        .skip(1)
        .filter_map(|rest| Some(rest.split_once('}')?.0.to_string()))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn staging_is_promoted_to_prod_with_prods_values_and_secrets() {
    let (staging, prod) = support::start_two(DirectusInstance::start, DirectusInstance::start);
    seed_staging(&staging);
    prod.patch(
        "/settings",
        &json!({"project_name": "Prod CMS", "project_color": "#AA0000", "mapbox_key": PROD_MAPBOX,
                "public_registration": false}),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("directus-sync.config.yaml"),
        config(&staging, &prod),
    )
    .unwrap();
    std::fs::write(dir.path().join(".gitignore"), ".env*\n").unwrap();
    let flow = Promotion {
        dir,
        staging,
        prod,
        env: Default::default(),
        transcript: Transcript::new("PROMOTE_TRANSCRIPT"),
    };
    flow.git(&["init", "-q", "-b", "main"]);
    flow.git(&["add", "."]);
    flow.git(&["commit", "-q", "-m", "directus-sync config"]);

    // A pull of staging keeps its secrets out of git, says so by name, and warns about a
    // value that looks like a key.
    let pull = flow.ok(&["pull", "--env", "staging"]);
    assert!(
        pull.stderr.contains("kept 2 secrets out of the dump")
            && pull.stderr.contains("DIRECTUS_SECRET_SETTINGS_MAPBOX_KEY"),
        "{pull}"
    );
    assert!(
        pull.stderr.contains("operations \"Call CRM\"")
            && pull
                .stderr
                .contains("options.headers[2].value: looks like a key"),
        "{pull}"
    );
    assert!(!pull.stderr.contains(UNDECLARED), "{pull}");
    flow.assert_no_secret_in_git();
    let dumped = flow.git(&[
        "show",
        "env/staging:directus-config/collections/operations.json",
    ]) + &flow.git(&[
        "show",
        "env/staging:directus-config/collections/settings.json",
    ]);
    let names = placeholders(&dumped);
    assert_eq!(names.len(), 2, "{names:?}\n{dumped}");
    let (token_name, mapbox_name) = (names[0].as_str(), names[1].as_str());
    assert!(
        token_name.starts_with("DIRECTUS_SECRET_OPERATIONS_")
            && token_name.ends_with("_OPTIONS_HEADERS_AUTHORIZATION_VALUE"),
        "{token_name}"
    );
    assert_eq!(mapbox_name, "DIRECTUS_SECRET_SETTINGS_MAPBOX_KEY");
    assert!(
        dumped.contains("application/json"),
        "other headers stay: {dumped}"
    );
    // The scan names the undeclared key (where, not what), and no secret in plain text.
    let scan = flow
        .run(&["helpers", "scan-secrets", "env/staging"])
        .exits(2);
    assert!(
        scan.stdout
            .contains("options.headers[2].value: looks like a key or a token, undeclared"),
        "{scan}"
    );
    assert!(!scan.stdout.contains("in plain text"), "{scan}");
    assert!(!scan.stdout.contains(UNDECLARED), "{scan}");
    // The same pull again: the same placeholders, no commit.
    let tip = flow.git(&["rev-parse", "env/staging"]);
    flow.ok(&["pull", "--env", "staging"]);
    assert_eq!(flow.git(&["rev-parse", "env/staging"]), tip, "no git noise");

    // Without prod's secrets, the push stops before its first request, naming both.
    flow.set(mapbox_name, PROD_MAPBOX);
    let activity = activity_count(&flow.prod);
    let refused = flow.run(&["push", "--env", "prod", "env/staging"]).exits(1);
    assert!(
        refused.stderr.contains(&format!(
            "error: the dump names 1 secret that is not set: {token_name}; nothing was changed"
        )),
        "{refused}"
    );
    assert!(
        refused.stderr.contains("hint: set each in the environment"),
        "{refused}"
    );
    flow.env.borrow_mut().clear();
    let refused = flow.run(&["promote", "staging", "prod"]).exits(1);
    assert!(
        refused.stderr.contains(&format!(
            "2 secrets that are not set: {token_name}, {mapbox_name}"
        )),
        "{refused}"
    );
    assert_eq!(activity_count(&flow.prod), activity, "nothing was written");
    assert_eq!(flow.prod.get("/flows?fields=id"), json!([]));
    assert!(
        flow.prod
            .get("/roles?filter[name][_eq]=Editor&fields=id")
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(settings(&flow.prod)["mapbox_key"], PROD_MAPBOX);

    // Each environment's secrets in its own file: the diff shows only what really differs.
    flow.env_file(
        "prod",
        &[(mapbox_name, PROD_MAPBOX), (token_name, PROD_TOKEN)],
    );
    flow.env_file(
        "staging",
        &[(mapbox_name, STAGING_MAPBOX), (token_name, STAGING_TOKEN)],
    );
    let diff = flow.ok(&["diff", "--env", "prod", "env/staging"]);
    assert!(diff.stdout.contains("+ \"Call CRM\""), "{diff}");
    for owned_or_valued in [
        "project_name",
        "project_color",
        "public_registration",
        "mapbox_key",
    ] {
        assert!(
            !diff.stdout.contains(owned_or_valued),
            "{owned_or_valued} is prod's own: {diff}"
        );
    }
    let json = flow.ok(&["diff", "--env", "prod", "env/staging", "--format", "json"]);
    assert!(json.stdout.contains("\"summary\""), "{json}");

    // The promotion: everything of staging, with prod's values, secrets and owned fields.
    let promoted = flow.ok(&["promote", "staging", "prod"]);
    assert!(
        promoted
            .stderr
            .contains("promoting staging (env/staging) to prod")
            && promoted
                .stderr
                .contains("recorded the deployment on env/prod"),
        "{promoted}"
    );
    let live = settings(&flow.prod);
    assert_eq!(live["project_name"], "Prod CMS");
    assert_eq!(live["project_color"], "#AA0000");
    assert_eq!(live["mapbox_key"], PROD_MAPBOX);
    assert_eq!(live["public_registration"], false, "owned by prod");
    assert_eq!(
        live["public_registration_role"],
        Value::Null,
        "owned by prod"
    );
    assert!(
        live["storage_default_folder"].is_string(),
        "the rest of staging's settings is applied: {live}"
    );
    let options = crm_operation(&flow.prod);
    assert_eq!(options["url"], "https://crm.example.com/prod-hook");
    assert_eq!(header(&options, "Authorization"), PROD_TOKEN);
    assert_eq!(header(&options, "Content-Type"), "application/json");
    assert_eq!(
        flow.prod
            .get("/roles?filter[name][_eq]=Editor&fields=description")[0]["description"],
        "Writes articles"
    );
    assert_eq!(settings(&flow.staging)["mapbox_key"], STAGING_MAPBOX);

    // After the promotion there is nothing left to do.
    let after = flow.run(&["diff", "--env", "prod", "env/staging", "--exit-code"]);
    assert_eq!(after.code, 0, "{after}");
    // Both environments match their branches, each with its own secrets.
    let status = flow.ok(&["status", "--exit-code"]);
    assert_eq!(status.stdout.matches("in sync").count(), 2, "{status}");

    // A rotated token: the diff says it changes, and shows neither value: the new one by its
    // placeholder, prod's current one as ***.
    flow.env_file(
        "prod",
        &[(mapbox_name, PROD_MAPBOX), (token_name, ROTATED_TOKEN)],
    );
    let rotated = flow.run(&["diff", "--env", "prod", "env/staging", "--exit-code"]);
    assert_eq!(rotated.code, 2, "{rotated}");
    assert!(
        rotated.stdout.contains("~ \"Call CRM\": options"),
        "{rotated}"
    );
    let rotated = flow.ok(&["diff", "--env", "prod", "env/staging", "--format", "json"]);
    assert!(
        rotated.stdout.contains("\"value\": \"***\"")
            && rotated
                .stdout
                .contains(&format!("\"value\": \"${{{token_name}}}\"")),
        "{rotated}"
    );

    // Prod pulled onto its branch: its own secrets stay out of git too.
    flow.env.borrow_mut().clear();
    flow.ok(&["pull", "--env", "prod"]);
    let prod_settings = flow.git(&["show", "env/prod:directus-config/collections/settings.json"]);
    assert!(prod_settings.contains("Prod CMS"), "{prod_settings}");
    assert!(
        prod_settings.contains(&format!("${{{mapbox_name}}}")),
        "{prod_settings}"
    );
    flow.assert_no_secret_in_git();
    flow.transcript.save();
}
