//! Options layered as users of the original tool expect: defaults < config file (with `extends`)
//! < environment variables < `--env` section < command line. Every option is declared once, in
//! [`options`].

mod file;
pub mod options;

use std::path::{Path, PathBuf};

pub use crate::collections::PreserveIds;
pub use crate::directus::Credentials;
pub use crate::dump::normalize;
pub use crate::idmap::IdMapMode;
pub use file::{ConfigFile, find_config_file};
pub use options::{Layer, Options};

use crate::collections::{self as tracked, IdPolicy};
use crate::secret::MaskedUrl;

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
    #[error("{option}: unknown collection {name:?}; expected one of {}", tracked::names().join(", "))]
    UnknownCollection { option: &'static str, name: String },
    #[error(
        "preserveIds: {name:?} cannot keep its ids (integer or singleton ids); \
         choose from {} or use \"*\"", preservable().join(", ")
    )]
    NotPreservable { name: String },
    #[error("unknown environment {name:?}; the config file defines: {known}")]
    UnknownEnvironment { name: String, known: String },
    #[error("environments.{name}: {message}")]
    InvalidEnvironment { name: String, message: String },
    #[error("{0}")]
    InvalidFlag(String),
    #[error("{key} {path:?}: {reason}")]
    InvalidPath {
        key: &'static str,
        path: PathBuf,
        reason: &'static str,
    },
    #[error(
        "missing Directus URL: pass --directus-url, set DIRECTUS_URL or directusUrl in the config file"
    )]
    MissingUrl,
    #[error(
        "{origin}: the Directus URL {url} holds credentials (user:password@ before the host), \
         which directus-sync never sends nor writes down; remove them and {instead}"
    )]
    CredentialsInUrl {
        origin: String,
        /// Masked already: this error cannot print what it refuses.
        url: String,
        instead: &'static str,
    },
    #[error(
        "missing credentials: {unset}pass --directus-token (DIRECTUS_TOKEN), or both --directus-email and \
         --directus-password (DIRECTUS_ADMIN_EMAIL, DIRECTUS_ADMIN_PASSWORD)"
    )]
    MissingCredentials {
        /// What an `--env` section named but is not set, ending in "; " (or empty).
        unset: String,
    },
}

/// Collections whose UUIDs may become their SyncIds on request, or always do.
fn preservable() -> Vec<&'static str> {
    let mut names: Vec<&str> = tracked::COLLECTIONS
        .iter()
        .filter(|spec| matches!(spec.id_policy, IdPolicy::Uuid | IdPolicy::AlwaysPreserved))
        .map(|spec| spec.name)
        .collect();
    names.sort_unstable();
    names
}

/// What to do instead of credentials in a URL given by a flag, a variable or the config file.
const INSTEAD_OF_URL_CREDENTIALS: &str = "pass a static token with --directus-token \
    (DIRECTUS_TOKEN), or an admin's email and password with --directus-email and \
    --directus-password (DIRECTUS_ADMIN_EMAIL, DIRECTUS_ADMIN_PASSWORD)";
/// The same, for a URL in an `environments:` entry.
const INSTEAD_OF_ENVIRONMENT_URL_CREDENTIALS: &str = "name the variable holding a static \
    token with tokenEnv, or those holding an admin's email and password with emailEnv and \
    passwordEnv, in that entry";

/// Where the effective URL came from, to name in an error about it.
struct UrlOrigin {
    name: String,
    instead: &'static str,
}

impl UrlOrigin {
    /// Follows the layers: the last one that sets the URL is where it comes from.
    fn update(&mut self, layer: &Layer, name: impl FnOnce() -> String, instead: &'static str) {
        if let Some(Some(url)) = &layer.directus_url
            && !url.expose().trim().is_empty()
        {
            *self = UrlOrigin {
                name: name(),
                instead,
            };
        }
    }
}

/// The layers above the config file, lowest first: environment variables, then the command
/// line. An `--env` section sits between them, so that `--env prod` beats a `DIRECTUS_URL` in
/// `.env` while an explicit `--directus-url` still wins.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub environment: Option<String>,
    pub from_env_vars: Layer,
    pub from_command_line: Layer,
}

impl Options {
    /// Builds the effective options: defaults, then the config file, then `overrides`.
    pub fn resolve(
        cwd: &Path,
        config_path: Option<&Path>,
        overrides: Overrides,
    ) -> Result<(Options, Vec<String>), ConfigError> {
        let mut options = Options::default();
        let mut warnings = Vec::new();
        let mut environments = serde_json::Map::new();
        let mut url_origin = UrlOrigin {
            name: "directusUrl".into(),
            instead: INSTEAD_OF_URL_CREDENTIALS,
        };
        if let Some(path) = find_config_file(cwd, config_path)? {
            let loaded = ConfigFile::load(&path)?;
            warnings.extend(loaded.warnings);
            environments = loaded.environments;
            url_origin.update(
                &loaded.options,
                || format!("directusUrl of config file {}", path.display()),
                INSTEAD_OF_URL_CREDENTIALS,
            );
            options.apply(loaded.options);
            options.config_file = Some(path);
        }
        options.environment_names = environments.keys().cloned().collect();
        options.secret_variables = options::secret_variables(&environments);
        url_origin.update(
            &overrides.from_env_vars,
            || "DIRECTUS_URL (environment or .env)".into(),
            INSTEAD_OF_URL_CREDENTIALS,
        );
        options.apply(overrides.from_env_vars);
        if let Some(name) = &overrides.environment {
            let entry = environments
                .get(name)
                .ok_or_else(|| ConfigError::UnknownEnvironment {
                    name: name.clone(),
                    known: match environments.is_empty() {
                        true => "none (add an `environments:` section)".into(),
                        false => options.environment_names.join(", "),
                    },
                })?;
            let invalid = |message: String| ConfigError::InvalidEnvironment {
                name: name.clone(),
                message,
            };
            let entry = entry
                .as_object()
                .ok_or_else(|| invalid("expected an object of options".into()))?;
            let lookup = |variable: &str| std::env::var(variable).ok();
            let (layer, unset) = options::environment_layer(entry, &lookup).map_err(invalid)?;
            options.unset_variables = unset
                .into_iter()
                .map(|unset| format!("environments.{name}.{unset}, which is not set"))
                .collect();
            url_origin.update(
                &layer,
                || match &options.config_file {
                    Some(path) => {
                        format!(
                            "environments.{name}.directusUrl of config file {}",
                            path.display()
                        )
                    }
                    None => format!("environments.{name}.directusUrl"),
                },
                INSTEAD_OF_ENVIRONMENT_URL_CREDENTIALS,
            );
            options.apply(layer);
            options.environment = Some(name.clone());
        }
        url_origin.update(
            &overrides.from_command_line,
            || "--directus-url".into(),
            INSTEAD_OF_URL_CREDENTIALS,
        );
        options.apply(overrides.from_command_line);
        if options.directus_url.is_some() {
            options.url_source = url_origin.name.clone();
        }
        // The variables secrets are read from are secrets too: hooks never see them.
        options
            .secret_variables
            .extend(options.secrets.given_names());
        options.secret_variables.sort();
        options.secret_variables.dedup();
        options.validate_url(url_origin)?;
        options.validate()?;
        Ok((options, warnings))
    }

    /// Refuses a URL with credentials before anything uses it: they would travel as HTTP basic
    /// auth besides our own, and end up in messages, commit trailers and notes.
    fn validate_url(&self, origin: UrlOrigin) -> Result<(), ConfigError> {
        match &self.directus_url {
            Some(url) if crate::secret::has_userinfo(url.expose()) => {
                Err(ConfigError::CredentialsInUrl {
                    origin: origin.name,
                    url: url.to_string(),
                    instead: origin.instead,
                })
            }
            _ => Ok(()),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_paths()?;
        let known = |name: &str| tracked::spec(name).is_some();
        for (option, list) in [
            ("onlyCollections", &self.only_collections),
            ("excludeCollections", &self.exclude_collections),
        ] {
            if let Some(name) = list.iter().find(|name| !known(name)) {
                return Err(ConfigError::UnknownCollection {
                    option,
                    name: name.clone(),
                });
            }
        }
        let paths = (self.secrets.paths().map(|path| ("secrets", path)))
            .chain(self.owned.0.iter().map(|path| ("owned", path)))
            .chain(self.values.paths().map(|path| ("values", path)));
        for (option, path) in paths {
            if !known(&path.collection) {
                return Err(ConfigError::UnknownCollection {
                    option,
                    name: path.collection.clone(),
                });
            }
        }
        if let PreserveIds::Some(list) = &self.preserve_ids {
            for name in list {
                if !known(name) {
                    return Err(ConfigError::UnknownCollection {
                        option: "preserveIds",
                        name: name.clone(),
                    });
                }
                if !preservable().contains(&name.as_str()) {
                    return Err(ConfigError::NotPreservable { name: name.clone() });
                }
            }
        }
        Ok(())
    }

    /// The dump's sub-paths are relative, non-empty folders inside the dump that do not overlap,
    /// and none is git's own folder: the tool replaces the snapshot folder whole.
    fn validate_paths(&self) -> Result<(), ConfigError> {
        use std::path::Component;
        let invalid = |key, path: &Path, reason| ConfigError::InvalidPath {
            key,
            path: path.to_path_buf(),
            reason,
        };
        if self.dump_path.as_os_str().is_empty() {
            return Err(invalid("dumpPath", &self.dump_path, "must not be empty"));
        }
        let parts = [
            ("collectionsPath", normalize(&self.collections_path)),
            ("snapshotPath", normalize(&self.snapshot_path)),
            ("specsPath", normalize(&self.specs_path)),
        ];
        for ((key, normal), given) in parts.iter().zip([
            &self.collections_path,
            &self.snapshot_path,
            &self.specs_path,
        ]) {
            let reason = if given.as_os_str().is_empty() || normal.as_os_str().is_empty() {
                Some(
                    "must name a folder inside the dump folder, not be empty or the dump folder itself",
                )
            } else if given.is_absolute() || given.has_root() {
                Some("must be relative to the dump folder")
            } else if given.components().any(|c| c == Component::ParentDir) {
                Some("must stay inside the dump folder (no `..`)")
            } else if normal.components().any(|c| c.as_os_str() == ".git") {
                Some("must not be git's own folder")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(invalid(key, given, reason));
            }
        }
        for (i, (key, a)) in parts.iter().enumerate() {
            for (_, b) in &parts[i + 1..] {
                if a.starts_with(b) || b.starts_with(a) {
                    return Err(invalid(
                        key,
                        a,
                        "overlaps another part of the dump (collectionsPath, snapshotPath and specsPath must be separate folders)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The collections this run works on, in the user's order (`onlyCollections`) or the
    /// canonical one, less the excluded ones.
    pub fn collections(&self) -> Vec<&str> {
        if !self.collections {
            return Vec::new();
        }
        let base: Vec<&str> = if self.only_collections.is_empty() {
            tracked::names()
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

    pub fn url(&self) -> Result<&str, ConfigError> {
        self.directus_url
            .as_ref()
            .map(MaskedUrl::expose)
            .filter(|url| !url.trim().is_empty())
            .ok_or(ConfigError::MissingUrl)
    }

    /// In the original tool's precedence: a token wins over email and password.
    pub fn credentials(&self) -> Result<Credentials, ConfigError> {
        if let Some(token) = &self.directus_token {
            return Ok(Credentials::Token(token.clone()));
        }
        match (&self.directus_email, &self.directus_password) {
            (Some(email), Some(password)) => Ok(Credentials::Password {
                email: email.clone(),
                password: password.clone(),
            }),
            _ => Err(ConfigError::MissingCredentials {
                unset: match self.unset_variables.is_empty() {
                    true => String::new(),
                    false => format!("{} (nor in .env); ", self.unset_variables.join(" and ")),
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn cli_lists_replace_file_lists() {
        let mut options = Options::default();
        options.apply(Layer {
            exclude_collections: Some(vec!["settings".into()]),
            ..Default::default()
        });
        options.apply(Layer {
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
        assert_eq!(
            preservable(),
            [
                "dashboards",
                "flows",
                "folders",
                "operations",
                "panels",
                "roles",
                "translations"
            ]
        );
    }

    #[test]
    fn dump_parts_stay_inside_the_dump_and_apart() {
        let with = |snapshot: &str| Options {
            snapshot_path: PathBuf::from(snapshot),
            ..Default::default()
        };
        assert!(with("schema").validate().is_ok());
        assert!(with("./schema/").validate().is_ok());
        for bad in [
            "",
            ".",
            "/tmp/schema",
            "../schema",
            "a/../..",
            ".git",
            "collections",
            "collections/x",
        ] {
            let error = with(bad).validate().unwrap_err().to_string();
            assert!(
                error.starts_with("snapshotPath") || error.starts_with("collectionsPath"),
                "{bad:?}: {error}"
            );
        }
        let empty_dump = Options {
            dump_path: PathBuf::new(),
            ..Default::default()
        };
        assert!(empty_dump.validate().is_err());
    }

    #[test]
    fn credentials_in_the_url_are_refused_naming_where_they_came_from() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("directus-sync.config.yaml"),
            "directusUrl: http://file:hunter2@cms\nenvironments:\n  prod:\n    directusUrl: https://prod:hunter2@cms\n",
        )
        .unwrap();
        let url = |url: &str| Layer {
            directus_url: Some(Some(MaskedUrl::new(url))),
            ..Default::default()
        };
        let resolve = |overrides: Overrides| {
            Options::resolve(dir.path(), None, overrides).map(|(options, _)| options)
        };
        let refusal = |overrides: Overrides| {
            let error = resolve(overrides).unwrap_err();
            assert!(matches!(error, ConfigError::CredentialsInUrl { .. }));
            let message = error.to_string();
            assert!(
                !format!("{message} {error:?}").contains("hunter2"),
                "{message}"
            );
            message
        };
        let message = refusal(Overrides::default());
        assert!(
            message.starts_with("directusUrl of config file ")
                && message.contains("http://***@cms")
                && message.contains("--directus-token (DIRECTUS_TOKEN)"),
            "{message}"
        );
        let from_env = refusal(Overrides {
            from_env_vars: url("http://env:hunter2@localhost:8055/"),
            ..Default::default()
        });
        assert!(
            from_env.starts_with(
                "DIRECTUS_URL (environment or .env): the Directus URL http://***@localhost:8055/ "
            ),
            "{from_env}"
        );
        let prod = refusal(Overrides {
            environment: Some("prod".into()),
            from_env_vars: url("http://localhost:8055"),
            ..Default::default()
        });
        assert!(
            prod.starts_with("environments.prod.directusUrl of config file ")
                && prod.contains("https://***@cms")
                && prod.contains("tokenEnv"),
            "{prod}"
        );
        let flag = refusal(Overrides {
            from_command_line: url("http://user@127.0.0.1:8055"),
            ..Default::default()
        });
        assert!(flag.starts_with("--directus-url: "), "{flag}");
        // A URL without credentials above them wins: the refused ones are never used.
        let options = resolve(Overrides {
            environment: Some("prod".into()),
            from_command_line: url("http://127.0.0.1:8055"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(options.url().unwrap(), "http://127.0.0.1:8055");
    }

    #[test]
    fn paths_of_an_environment_add_to_the_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("directus-sync.config.yaml"),
            "secrets:\n  settings.mapbox_key: MAPBOX\n\
             owned: [settings.project_url]\n\
             environments:\n  prod:\n    owned: [settings.project_color]\n    \
             values:\n      settings.project_name: Prod CMS\n",
        )
        .unwrap();
        let resolve = |environment: Option<&str>| {
            let overrides = Overrides {
                environment: environment.map(str::to_string),
                ..Default::default()
            };
            Options::resolve(dir.path(), None, overrides).map(|(options, _)| options)
        };
        let prod = resolve(Some("prod")).unwrap();
        assert_eq!(prod.owned.0.len(), 2);
        assert_eq!(prod.values.0.len(), 1);
        assert!(
            prod.secret_variables.contains(&"MAPBOX".to_string()),
            "hooks never see it"
        );
        let plain = resolve(None).unwrap();
        assert_eq!(plain.owned.0.len(), 1);
        assert!(plain.values.0.is_empty());
        assert!(!plain.describe().contains("Prod CMS"));

        std::fs::write(
            dir.path().join("directus-sync.config.yaml"),
            "owned: [setting.project_url]\n",
        )
        .unwrap();
        let error = resolve(None).unwrap_err().to_string();
        assert!(
            error.starts_with("owned: unknown collection \"setting\""),
            "{error}"
        );
        std::fs::write(
            dir.path().join("directus-sync.config.yaml"),
            "secrets: [settings]\n",
        )
        .unwrap();
        let error = resolve(None).unwrap_err().to_string();
        assert!(
            error.contains("secrets: \"settings\": expected `.` and a field"),
            "{error}"
        );
    }

    #[test]
    fn empty_token_falls_back_to_password() {
        let mut options = Options::default();
        options.apply(Layer {
            directus_token: Some(Some(Secret::new(""))),
            directus_email: Some(Some("a@b.c".into())),
            directus_password: Some(Some(Secret::new("pw"))),
            ..Default::default()
        });
        assert!(matches!(
            options.credentials(),
            Ok(Credentials::Password { .. })
        ));
    }
}
