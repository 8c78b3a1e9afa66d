//! User hooks at the moments of the original tool: `onQuery`, `onDump`, `onSave`, `onLoad` per
//! collection and `snapshot.onLoad`/`onSave`. A hook is a JavaScript function from a `.js`
//! config (run by the node bridge) or, in JSON/YAML configs, a shell command that reads the
//! JSON on stdin and prints the replacement on stdout.

mod command;
pub mod node;

use crate::dump::Dump;
use crate::json::Compact;
use crate::snapshot::Snapshot;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookName {
    OnQuery,
    OnDump,
    OnSave,
    OnLoad,
}

impl HookName {
    pub fn as_str(self) -> &'static str {
        match self {
            HookName::OnQuery => "onQuery",
            HookName::OnDump => "onDump",
            HookName::OnSave => "onSave",
            HookName::OnLoad => "onLoad",
        }
    }

    fn parse(name: &str) -> Option<HookName> {
        [
            HookName::OnQuery,
            HookName::OnDump,
            HookName::OnSave,
            HookName::OnLoad,
        ]
        .into_iter()
        .find(|hook| hook.as_str() == name)
    }
}

#[derive(Debug, Clone)]
enum Hook {
    Function(String),
    Command(String),
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("hooks.{scope}.{name}: {message}")]
    Invalid {
        scope: String,
        name: String,
        message: String,
    },
    #[error("hook {scope}.{name} failed: {message}")]
    Failed {
        scope: String,
        name: &'static str,
        message: String,
    },
}

/// Who a hook talks to: handed to JS hooks as `client`, to commands as environment variables.
#[derive(Debug, Clone, Default)]
pub struct HookClient {
    pub url: String,
    pub token: String,
}

/// The environment a hook runs in: ours without `hidden` (the variables holding the config's
/// tokens and passwords, for every environment), then the instance it works on as
/// `DIRECTUS_URL` and `DIRECTUS_TOKEN`. A hook for staging cannot read prod's token, nor the
/// password the run logged in with, nor hand them to the tools it starts.
#[derive(Debug, Clone, Default)]
pub struct HookEnv {
    hidden: Vec<String>,
    set: Vec<(&'static str, String)>,
}

impl HookEnv {
    fn new(hidden: &[String], client: &HookClient) -> HookEnv {
        HookEnv {
            hidden: hidden.to_vec(),
            set: vec![
                ("DIRECTUS_URL", client.url.clone()),
                ("DIRECTUS_TOKEN", client.token.clone()),
            ],
        }
    }

    /// Gives `command` this environment; it inherits everything else (`PATH`, `HOME`, ...).
    fn apply(&self, command: &mut std::process::Command) {
        for name in &self.hidden {
            command.env_remove(name);
        }
        for (name, value) in &self.set {
            command.env(name, value);
        }
    }

    /// As the node bridge applies it to `process.env` before each call.
    fn to_json(&self) -> Value {
        let set: serde_json::Map<String, Value> = self
            .set
            .iter()
            .map(|(name, value)| (name.to_string(), json!(value)))
            .collect();
        json!({"remove": self.hidden, "set": set})
    }
}

/// The hooks of one run.
#[derive(Debug, Default)]
pub struct Hooks {
    hooks: HashMap<(String, HookName), Hook>,
    /// Folder of the config file: JS hooks resolve `@directus/sdk` from there, commands run there.
    base_dir: PathBuf,
    client: std::sync::Mutex<HookClient>,
    /// The variables hooks never see ([`HookEnv`]).
    hidden: Vec<String>,
}

impl Hooks {
    /// Reads `hooks:` of the effective config. Unknown collections or hook names are errors.
    /// The hooks run without the environment variables named in `hidden`.
    pub fn from_config(
        value: Option<&Value>,
        base_dir: PathBuf,
        hidden: Vec<String>,
    ) -> Result<Hooks, HookError> {
        let mut hooks = HashMap::new();
        let Some(value) = value else {
            return Ok(Hooks {
                base_dir,
                hidden,
                ..Hooks::default()
            });
        };
        let invalid = |scope: &str, name: &str, message: &str| HookError::Invalid {
            scope: scope.into(),
            name: name.into(),
            message: message.into(),
        };
        let scopes = value
            .as_object()
            .ok_or_else(|| invalid("", "", "expected an object of collections"))?;
        for (scope, entries) in scopes {
            let allowed: &[HookName] = if scope == "snapshot" {
                &[HookName::OnLoad, HookName::OnSave]
            } else if crate::collections::spec(scope).is_some() {
                &[
                    HookName::OnQuery,
                    HookName::OnDump,
                    HookName::OnSave,
                    HookName::OnLoad,
                ]
            } else {
                return Err(invalid(
                    scope,
                    "*",
                    "not a tracked collection nor `snapshot`",
                ));
            };
            let entries = entries
                .as_object()
                .ok_or_else(|| invalid(scope, "*", "expected an object of hooks"))?;
            for (name, hook) in entries {
                let parsed = HookName::parse(name)
                    .filter(|h| allowed.contains(h))
                    .ok_or_else(|| {
                        invalid(
                            scope,
                            name,
                            "not a hook here (onQuery, onDump, onSave, onLoad)",
                        )
                    })?;
                let hook = match (node::function_id(hook), hook) {
                    (Some(id), _) => Hook::Function(id.to_string()),
                    (None, Value::String(command)) => Hook::Command(command.clone()),
                    _ => {
                        return Err(invalid(
                            scope,
                            name,
                            "expected a function (JS config) or a shell command",
                        ));
                    }
                };
                hooks.insert((scope.clone(), parsed), hook);
            }
        }
        Ok(Hooks {
            hooks,
            base_dir,
            client: Default::default(),
            hidden,
        })
    }

    pub fn has(&self, scope: &str, name: HookName) -> bool {
        self.hooks.contains_key(&(scope.to_string(), name))
    }

    /// The instance hooks talk to, known once connected.
    pub fn set_client(&self, client: HookClient) {
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = client;
    }

    /// Runs a hook on `input`; without a hook the input comes back unchanged.
    pub async fn run(&self, scope: &str, name: HookName, input: Value) -> Result<Value, HookError> {
        let Some(hook) = self.hooks.get(&(scope.to_string(), name)).cloned() else {
            return Ok(input);
        };
        let client = self
            .client
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let env = HookEnv::new(&self.hidden, &client);
        let base_dir = self.base_dir.clone();
        let scope_owned = scope.to_string();
        let failed = |message: String| HookError::Failed {
            scope: scope.to_string(),
            name: name.as_str(),
            message,
        };
        tracing::debug!("running hook {scope}.{}", name.as_str());
        // Hooks block on a child process; keep the async workers free meanwhile.
        let result = tokio::task::spawn_blocking(move || match hook {
            Hook::Function(id) => {
                let client =
                    json!({"url": client.url, "token": client.token, "configDir": base_dir});
                node::call(&id, vec![input], client, &env).map_err(|e| e.to_string())
            }
            Hook::Command(command) => command::run(
                &command,
                &input,
                &env,
                &scope_owned,
                name.as_str(),
                &base_dir,
            ),
        })
        .await
        .map_err(|e| failed(e.to_string()))?
        .map_err(failed)?;
        Ok(result)
    }

    /// Runs a collection hook that must give back a list of items.
    pub async fn run_items(
        &self,
        collection: &str,
        name: HookName,
        items: Vec<Value>,
    ) -> Result<Vec<Value>, HookError> {
        if !self.has(collection, name) {
            return Ok(items);
        }
        match self.run(collection, name, Value::Array(items)).await? {
            Value::Array(items) => Ok(items),
            other => Err(HookError::Failed {
                scope: collection.to_string(),
                name: name.as_str(),
                message: format!("expected a list of items back, got {}", short_json(&other)),
            }),
        }
    }

    /// Runs `onLoad` or `onSave` over a whole dump: the snapshot's hook, then each collection's.
    pub async fn run_on_dump(&self, name: HookName, dump: &mut Dump) -> Result<(), HookError> {
        if let Some(snapshot) = dump.snapshot.take_if(|_| self.has("snapshot", name)) {
            let value = self.run("snapshot", name, snapshot.to_value()).await?;
            dump.snapshot = Some(Snapshot::new(value));
        }
        for (spec, items) in &mut dump.collections {
            if self.has(spec.name, name) {
                let values = Compact::values(&std::mem::take(items));
                *items = Compact::all(self.run_items(spec.name, name, values).await?);
            }
        }
        Ok(())
    }
}

fn short_json(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
