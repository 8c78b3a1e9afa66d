//! Options layered as users of the original tool expect: defaults < config file (with `extends`)
//! < environment < command line. Environment and command line arrive already merged by clap.

mod file;

use std::path::{Path, PathBuf};

pub use file::{
    ConfigFile, EnvironmentOptions, FileOptions, StringOrList, find_config_file, normalize,
};

/// The ten collections the tool tracks, in the order the original tool lists them.
pub const TRACKED_COLLECTIONS: [&str; 10] = [
    "dashboards",
    "flows",
    "folders",
    "operations",
    "panels",
    "permissions",
    "presets",
    "roles",
    "settings",
    "translations",
];

/// Collections whose UUID may become the SyncId on request (flows and folders always keep theirs).
pub const PRESERVABLE_COLLECTIONS: [&str; 5] = [
    "dashboards",
    "operations",
    "panels",
    "roles",
    "translations",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path} not found")]
    NotFound { path: PathBuf },
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "config file {path} is JavaScript, which needs node to run ({reason}); install Node.js, \
         or write the same options to directus-sync.config.json or directus-sync.config.yaml \
         (hooks become shell commands there)"
    )]
    JavaScript { path: PathBuf, reason: String },
    #[error("{option}: unknown collection {name:?}; expected one of {}", TRACKED_COLLECTIONS.join(", "))]
    UnknownCollection { option: &'static str, name: String },
    #[error(
        "preserveIds: {name:?} cannot keep its ids (integer or singleton ids); \
         choose from {} or use \"*\"", PRESERVABLE_COLLECTIONS.join(", ")
    )]
    NotPreservable { name: String },
    #[error("unknown environment {name:?}; the config file defines: {known}")]
    UnknownEnvironment { name: String, known: String },
    #[error(
        "missing Directus URL: pass --directus-url, set DIRECTUS_URL or directusUrl in the config file"
    )]
    MissingUrl,
    #[error(
        "missing credentials: pass --directus-token (DIRECTUS_TOKEN), or both --directus-email and \
         --directus-password (DIRECTUS_ADMIN_EMAIL, DIRECTUS_ADMIN_PASSWORD)"
    )]
    MissingCredentials,
}

/// Where SyncIds are kept on the instance (`--id-map`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum IdMapMode {
    /// The extension's table when `directus-extension-sync` answers, else our collection.
    #[default]
    Auto,
    /// `directus-extension-sync` must be installed.
    Extension,
    /// A hidden collection the tool creates itself; no server install needed.
    Collection,
}

/// `--preserve-ids`: `*`/`all`, or a list of collections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PreserveIds {
    All,
    #[default]
    None,
    Some(Vec<String>),
}

impl PreserveIds {
    pub fn parse_list(values: &[String]) -> Self {
        match values {
            [] => PreserveIds::None,
            [one] if one == "*" || one == "all" => PreserveIds::All,
            many => PreserveIds::Some(many.to_vec()),
        }
    }

    pub fn includes(&self, collection: &str) -> bool {
        match self {
            PreserveIds::All => true,
            PreserveIds::None => false,
            PreserveIds::Some(list) => list.iter().any(|c| c == collection),
        }
    }
}

/// Credentials to talk to Directus, in the original tool's precedence: a token wins.
#[derive(Clone)]
pub enum Credentials {
    Token(String),
    Password { email: String, password: String },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Token(***)"),
            Credentials::Password { email, .. } => write!(f, "Password({email}, ***)"),
        }
    }
}

/// The effective options of one run.
#[derive(Debug, Clone)]
pub struct Options {
    pub config_file: Option<PathBuf>,
    pub debug: bool,
    pub directus_url: Option<String>,
    pub directus_token: Option<String>,
    pub directus_email: Option<String>,
    pub directus_password: Option<String>,
    pub dump_path: PathBuf,
    pub collections_path: PathBuf,
    pub snapshot_path: PathBuf,
    pub specs_path: PathBuf,
    pub only_collections: Vec<String>,
    pub exclude_collections: Vec<String>,
    pub preserve_ids: PreserveIds,
    pub snapshot: bool,
    pub split: bool,
    pub specs: bool,
    pub max_push_retries: u32,
    /// The `--env` picked, if any.
    pub environment: Option<String>,
    /// The branch this run's dump belongs to (pull commits there).
    pub branch: Option<String>,
    pub commit: bool,
    pub hooks: Option<serde_json::Value>,
    /// The names under `environments:` in the config file.
    pub environment_names: Vec<String>,
    pub id_map: IdMapMode,
    /// `false` (`--no-collections`): the tracked collections are skipped.
    pub sync_collections: bool,
}

/// The layers above the config file, lowest first: environment variables, then the command
/// line. An `--env` section sits between them, so that `--env prod` beats a `DIRECTUS_URL` in
/// `.env` while an explicit `--directus-url` still wins.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub environment: Option<String>,
    pub from_env_vars: FileOptions,
    pub from_command_line: FileOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config_file: None,
            debug: false,
            directus_url: None,
            directus_token: None,
            directus_email: None,
            directus_password: None,
            dump_path: PathBuf::from("./directus-config"),
            collections_path: PathBuf::from("collections"),
            snapshot_path: PathBuf::from("snapshot"),
            specs_path: PathBuf::from("specs"),
            only_collections: Vec::new(),
            exclude_collections: Vec::new(),
            preserve_ids: PreserveIds::None,
            snapshot: true,
            split: true,
            specs: true,
            max_push_retries: 20,
            environment: None,
            branch: None,
            commit: true,
            hooks: None,
            environment_names: Vec::new(),
            id_map: IdMapMode::Auto,
            sync_collections: true,
        }
    }
}

impl Options {
    /// Builds the effective options: defaults, then the config file, then `overrides`
    /// (command line and environment, already merged by clap).
    pub fn resolve(
        cwd: &Path,
        config_path: Option<&Path>,
        overrides: Overrides,
    ) -> Result<(Options, Vec<String>), ConfigError> {
        let mut options = Options::default();
        let mut warnings = Vec::new();
        let mut environments = Default::default();
        if let Some(path) = find_config_file(cwd, config_path)? {
            let mut loaded = ConfigFile::load(&path)?;
            warnings.extend(loaded.warnings);
            environments = loaded.options.environments.take().unwrap_or_default();
            options.apply(loaded.options);
            options.config_file = Some(path);
        }
        options.environment_names = environments.keys().cloned().collect();
        options.apply(overrides.from_env_vars);
        if let Some(name) = &overrides.environment {
            let environment: &EnvironmentOptions =
                environments
                    .get(name)
                    .ok_or_else(|| ConfigError::UnknownEnvironment {
                        name: name.clone(),
                        known: match environments.is_empty() {
                            true => "none (add an `environments:` section)".into(),
                            false => environments.keys().cloned().collect::<Vec<_>>().join(", "),
                        },
                    })?;
            options.apply(environment.layer(&|variable| std::env::var(variable).ok()));
            options.environment = Some(name.clone());
        }
        options.apply(overrides.from_command_line);
        options.validate()?;
        Ok((options, warnings))
    }

    fn apply(&mut self, layer: FileOptions) {
        fn set<T>(target: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *target = value;
            }
        }
        set(&mut self.debug, layer.debug);
        self.directus_url = layer.directus_url.or(self.directus_url.take());
        self.directus_token = non_empty(layer.directus_token).or(self.directus_token.take());
        self.directus_email = non_empty(layer.directus_email).or(self.directus_email.take());
        self.directus_password =
            non_empty(layer.directus_password).or(self.directus_password.take());
        set(&mut self.dump_path, layer.dump_path);
        set(&mut self.collections_path, layer.collections_path);
        set(&mut self.snapshot_path, layer.snapshot_path);
        set(&mut self.specs_path, layer.specs_path);
        set(&mut self.only_collections, layer.only_collections);
        set(&mut self.exclude_collections, layer.exclude_collections);
        if let Some(list) = layer.preserve_ids {
            self.preserve_ids = PreserveIds::parse_list(&list.into_vec());
        }
        set(&mut self.snapshot, layer.snapshot);
        set(&mut self.split, layer.split);
        set(&mut self.specs, layer.specs);
        set(&mut self.max_push_retries, layer.max_push_retries);
        set(&mut self.commit, layer.commit);
        set(&mut self.id_map, layer.id_map);
        set(&mut self.sync_collections, layer.collections);
        self.branch = layer.branch.or(self.branch.take());
        self.hooks = layer.hooks.or(self.hooks.take());
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (option, list) in [
            ("onlyCollections", &self.only_collections),
            ("excludeCollections", &self.exclude_collections),
        ] {
            if let Some(name) = list
                .iter()
                .find(|name| !TRACKED_COLLECTIONS.contains(&name.as_str()))
            {
                return Err(ConfigError::UnknownCollection {
                    option,
                    name: name.clone(),
                });
            }
        }
        if let PreserveIds::Some(list) = &self.preserve_ids {
            for name in list {
                if !TRACKED_COLLECTIONS.contains(&name.as_str()) {
                    return Err(ConfigError::UnknownCollection {
                        option: "preserveIds",
                        name: name.clone(),
                    });
                }
                let always_preserved = name == "flows" || name == "folders";
                if !always_preserved && !PRESERVABLE_COLLECTIONS.contains(&name.as_str()) {
                    return Err(ConfigError::NotPreservable { name: name.clone() });
                }
            }
        }
        Ok(())
    }

    /// The collections this run works on, in the user's order (`onlyCollections`) or the
    /// canonical one, less the excluded ones.
    pub fn collections(&self) -> Vec<&str> {
        if !self.sync_collections {
            return Vec::new();
        }
        let base: Vec<&str> = if self.only_collections.is_empty() {
            TRACKED_COLLECTIONS.to_vec()
        } else {
            let mut seen = Vec::new();
            for name in &self.only_collections {
                if !seen.contains(&name.as_str()) {
                    seen.push(name.as_str());
                }
            }
            seen
        };
        base.into_iter()
            .filter(|name| !self.exclude_collections.iter().any(|x| x == name))
            .collect()
    }

    /// The options for `--debug`, secrets masked.
    pub fn describe(&self) -> String {
        let mask = |secret: &Option<String>| secret.as_ref().map(|_| "***");
        format!(
            "url {:?}, token {:?}, email {:?}, password {:?}, environment {:?}, branch {:?}, \
             dump {}, collections {:?}, excluded {:?}, preserve ids {:?}, snapshot {}, split {}, \
             specs {}, commit {}, id map {:?}, max push retries {}",
            self.directus_url,
            mask(&self.directus_token),
            self.directus_email,
            mask(&self.directus_password),
            self.environment,
            self.branch,
            self.dump_path.display(),
            self.collections(),
            self.exclude_collections,
            self.preserve_ids,
            self.snapshot,
            self.split,
            self.specs,
            self.commit,
            self.id_map,
            self.max_push_retries
        )
    }

    pub fn url(&self) -> Result<&str, ConfigError> {
        self.directus_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .ok_or(ConfigError::MissingUrl)
    }

    pub fn credentials(&self) -> Result<Credentials, ConfigError> {
        if let Some(token) = &self.directus_token {
            return Ok(Credentials::Token(token.clone()));
        }
        match (&self.directus_email, &self.directus_password) {
            (Some(email), Some(password)) => Ok(Credentials::Password {
                email: email.clone(),
                password: password.clone(),
            }),
            _ => Err(ConfigError::MissingCredentials),
        }
    }
}

/// An empty `DIRECTUS_TOKEN=""` means "no token", as in the original tool.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_lists_replace_file_lists() {
        let mut options = Options::default();
        options.apply(FileOptions {
            exclude_collections: Some(vec!["settings".into()]),
            ..Default::default()
        });
        options.apply(FileOptions {
            exclude_collections: Some(vec!["roles".into()]),
            ..Default::default()
        });
        assert_eq!(options.exclude_collections, vec!["roles"]);
    }

    #[test]
    fn collections_follow_only_then_exclude() {
        let options = Options {
            only_collections: vec!["roles".into(), "flows".into(), "roles".into()],
            exclude_collections: vec!["flows".into()],
            ..Default::default()
        };
        assert_eq!(options.collections(), vec!["roles"]);
        assert_eq!(Options::default().collections().len(), 10);
    }

    #[test]
    fn rejects_unknown_and_unpreservable_collections() {
        let options = Options {
            exclude_collections: vec!["foo".into()],
            ..Default::default()
        };
        assert!(matches!(
            options.validate(),
            Err(ConfigError::UnknownCollection { .. })
        ));
        let options = Options {
            preserve_ids: PreserveIds::Some(vec!["permissions".into()]),
            ..Default::default()
        };
        assert!(matches!(
            options.validate(),
            Err(ConfigError::NotPreservable { .. })
        ));
        let options = Options {
            preserve_ids: PreserveIds::Some(vec!["flows".into(), "roles".into()]),
            ..Default::default()
        };
        assert!(options.validate().is_ok());
    }

    #[test]
    fn empty_token_falls_back_to_password() {
        let mut options = Options::default();
        options.apply(FileOptions {
            directus_token: Some(String::new()),
            directus_email: Some("a@b.c".into()),
            directus_password: Some("pw".into()),
            ..Default::default()
        });
        assert!(matches!(
            options.credentials(),
            Ok(Credentials::Password { .. })
        ));
    }
}
