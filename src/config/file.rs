//! Config files: JSON or YAML, with `extends` chains resolved relative to the declaring file.

use super::ConfigError;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The default file names, tried in this order in the working directory.
const DEFAULT_NAMES: [&str; 5] = [
    "directus-sync.config.js",
    "directus-sync.config.cjs",
    "directus-sync.config.json",
    "directus-sync.config.yaml",
    "directus-sync.config.yml",
];

/// One layer of options, as written in a config file (camelCase keys like the original tool's).
/// The command line produces the same type so every layer merges the same way.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileOptions {
    pub debug: Option<bool>,
    pub directus_url: Option<String>,
    pub directus_token: Option<String>,
    pub directus_email: Option<String>,
    pub directus_password: Option<String>,
    pub dump_path: Option<PathBuf>,
    pub collections_path: Option<PathBuf>,
    pub snapshot_path: Option<PathBuf>,
    pub specs_path: Option<PathBuf>,
    pub only_collections: Option<Vec<String>>,
    pub exclude_collections: Option<Vec<String>>,
    pub preserve_ids: Option<StringOrList>,
    pub snapshot: Option<bool>,
    pub split: Option<bool>,
    pub specs: Option<bool>,
    pub max_push_retries: Option<u32>,
    /// Parents, resolved relative to this file; consumed while loading.
    pub extends: Option<Vec<String>>,
    /// JS-SDK client options of the original tool; meaningless here, accepted so that existing
    /// files load.
    pub directus_config: Option<Value>,
    /// Hooks are kept as raw values until the hooks module runs them.
    pub hooks: Option<Value>,
    /// Named target instances (`--env NAME`), each mapped to a branch.
    pub environments: Option<std::collections::BTreeMap<String, EnvironmentOptions>>,
    /// Commit each pull when the dump is in a git work tree (default true).
    pub commit: Option<bool>,
    /// The branch pulls commit to (default: the checked-out branch).
    pub branch: Option<String>,
    /// Where SyncIds are kept on the instance.
    pub id_map: Option<super::IdMapMode>,
    /// `false`: schema and specs only.
    pub collections: Option<bool>,
}

/// One entry of `environments:`. Secrets are named, not written: `tokenEnv: PROD_TOKEN` reads
/// the token from that environment variable, so the config file can live in git.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvironmentOptions {
    pub directus_url: Option<String>,
    pub branch: Option<String>,
    pub token_env: Option<String>,
    pub email_env: Option<String>,
    pub password_env: Option<String>,
    pub directus_token: Option<String>,
    pub directus_email: Option<String>,
    pub directus_password: Option<String>,
    pub dump_path: Option<PathBuf>,
    pub only_collections: Option<Vec<String>>,
    pub exclude_collections: Option<Vec<String>>,
    pub preserve_ids: Option<StringOrList>,
    pub snapshot: Option<bool>,
    pub specs: Option<bool>,
    pub split: Option<bool>,
}

impl EnvironmentOptions {
    /// The environment as an options layer; `lookup` reads environment variables.
    pub fn layer(&self, lookup: &dyn Fn(&str) -> Option<String>) -> FileOptions {
        let secret = |direct: &Option<String>, variable: &Option<String>| {
            direct
                .clone()
                .or_else(|| variable.as_deref().and_then(lookup))
        };
        FileOptions {
            directus_url: self.directus_url.clone(),
            branch: self.branch.clone(),
            directus_token: secret(&self.directus_token, &self.token_env),
            directus_email: secret(&self.directus_email, &self.email_env),
            directus_password: secret(&self.directus_password, &self.password_env),
            dump_path: self.dump_path.clone(),
            only_collections: self.only_collections.clone(),
            exclude_collections: self.exclude_collections.clone(),
            preserve_ids: self.preserve_ids.clone(),
            snapshot: self.snapshot,
            specs: self.specs,
            split: self.split,
            ..FileOptions::default()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            StringOrList::One(one) => vec![one],
            StringOrList::Many(many) => many,
        }
    }
}

impl FileOptions {
    /// `self` wins over `lower` key by key.
    fn over(self, lower: FileOptions) -> FileOptions {
        macro_rules! pick {
            ($($field:ident),*) => { FileOptions { $($field: self.$field.or(lower.$field)),* } };
        }
        pick!(
            debug,
            directus_url,
            directus_token,
            directus_email,
            directus_password,
            dump_path,
            collections_path,
            snapshot_path,
            specs_path,
            only_collections,
            exclude_collections,
            preserve_ids,
            snapshot,
            split,
            specs,
            max_push_retries,
            extends,
            directus_config,
            hooks,
            environments,
            commit,
            branch,
            id_map,
            collections
        )
    }
}

/// A config file with its `extends` chain already merged.
#[derive(Debug)]
pub struct ConfigFile {
    pub options: FileOptions,
    /// Every file that contributed, entry file first.
    pub files: Vec<PathBuf>,
    /// Loops and missing parents: reported, not fatal (the original skipped them silently).
    pub warnings: Vec<String>,
}

/// The config file to use: the explicit one (which must exist), else the first default name
/// present in `cwd`.
pub fn find_config_file(
    cwd: &Path,
    explicit: Option<&Path>,
) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(path) = explicit {
        let path = cwd.join(path);
        return if path.is_file() {
            Ok(Some(path))
        } else {
            Err(ConfigError::NotFound { path })
        };
    }
    Ok(DEFAULT_NAMES
        .iter()
        .map(|name| cwd.join(name))
        .find(|path| path.is_file()))
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let mut loader = Loader::default();
        let options = loader.load(path, None)?.unwrap_or_default();
        Ok(ConfigFile {
            options,
            files: loader.visited,
            warnings: loader.warnings,
        })
    }
}

#[derive(Default)]
struct Loader {
    visited: Vec<PathBuf>,
    warnings: Vec<String>,
}

impl Loader {
    /// Loads `path` and, recursively, its parents. For `extends: [A, B]` the priority is
    /// file > A > B, as in the original tool.
    fn load(
        &mut self,
        path: &Path,
        declared_by: Option<&Path>,
    ) -> Result<Option<FileOptions>, ConfigError> {
        let path = normalize(path);
        if self.visited.contains(&path) {
            self.warnings.push(format!(
                "config file {} extends {}, which is already part of the chain; skipping it (loop)",
                declared_by.map_or_else(String::new, |p| p.display().to_string()),
                path.display()
            ));
            return Ok(None);
        }
        if let Some(parent) = declared_by
            && !path.is_file()
        {
            self.warnings.push(format!(
                "config file {} extends {}, which does not exist; skipping it",
                parent.display(),
                path.display()
            ));
            return Ok(None);
        }
        self.visited.push(path.clone());
        let mut options = parse_file(&path)?;
        let base_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        for parent in options.extends.take().unwrap_or_default() {
            if let Some(parent_options) = self.load(&base_dir.join(&parent), Some(&path))? {
                options = options.over(parent_options);
            }
        }
        Ok(Some(options))
    }
}

fn parse_file(path: &Path) -> Result<FileOptions, ConfigError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    if matches!(extension, "js" | "cjs") {
        return evaluate_javascript(path);
    }
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let value: Value = if matches!(extension, "yaml" | "yml") {
        serde_yaml::from_str(&text).map_err(|e| invalid(e.to_string()))?
    } else {
        serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?
    };
    if !value.is_object() {
        return Err(invalid(
            "expected an object of options at the top level".into(),
        ));
    }
    serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
}

/// Existing users' `directus-sync.config.js`: evaluated by the system `node`, functions (hooks)
/// kept as markers that the hooks module calls back.
fn evaluate_javascript(path: &Path) -> Result<FileOptions, ConfigError> {
    use crate::hooks::node::{NodeError, evaluate_config};
    let value = evaluate_config(path).map_err(|error| match error {
        NodeError::Unavailable(reason) => ConfigError::JavaScript {
            path: path.to_path_buf(),
            reason,
        },
        NodeError::Failed(message) => ConfigError::Invalid {
            path: path.to_path_buf(),
            message: format!("evaluating it with node failed: {message}"),
        },
    })?;
    if !value.is_object() {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            message: "module.exports must be an object of options".into(),
        });
    }
    serde_json::from_value(value).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Removes `.` and `..` components so that one file reached by two spellings is seen once,
/// and paths print without `./` noise.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn extends_chain_gives_the_entry_file_priority() {
        let dir = tempfile::tempdir().unwrap();
        let entry = write(
            dir.path(),
            "directus-sync.config.json",
            r#"{"extends": ["./base.yaml"], "debug": true, "split": true}"#,
        );
        write(
            dir.path(),
            "base.yaml",
            "extends: [./sub/base.base.json]\ndebug: false\nsplit: false\ndirectusToken: token\n",
        );
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        write(
            &dir.path().join("sub"),
            "base.base.json",
            r#"{"debug": false, "dumpPath": "./dump", "directusUrl": "http://localhost:8055"}"#,
        );
        let loaded = ConfigFile::load(&entry).unwrap();
        assert_eq!(loaded.options.debug, Some(true));
        assert_eq!(loaded.options.split, Some(true));
        assert_eq!(loaded.options.directus_token.as_deref(), Some("token"));
        assert_eq!(loaded.options.dump_path, Some(PathBuf::from("./dump")));
        assert_eq!(loaded.files.len(), 3);
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn earlier_parents_win_over_later_ones() {
        let dir = tempfile::tempdir().unwrap();
        let entry = write(dir.path(), "c.json", r#"{"extends": ["a.json", "b.json"]}"#);
        write(dir.path(), "a.json", r#"{"dumpPath": "a"}"#);
        write(
            dir.path(),
            "b.json",
            r#"{"dumpPath": "b", "specsPath": "s"}"#,
        );
        let loaded = ConfigFile::load(&entry).unwrap();
        assert_eq!(loaded.options.dump_path, Some(PathBuf::from("a")));
        assert_eq!(loaded.options.specs_path, Some(PathBuf::from("s")));
    }

    #[test]
    fn loops_and_missing_parents_are_warnings_naming_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let entry = write(
            dir.path(),
            "a.json",
            r#"{"extends": ["b.json", "missing.json"], "debug": true}"#,
        );
        write(
            dir.path(),
            "b.json",
            r#"{"extends": ["a.json"], "split": false}"#,
        );
        let loaded = ConfigFile::load(&entry).unwrap();
        assert_eq!(loaded.options.debug, Some(true));
        assert_eq!(loaded.options.split, Some(false));
        assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("b.json") && loaded.warnings[0].contains("loop"));
        assert!(loaded.warnings[1].contains("missing.json"));
    }

    #[test]
    fn unknown_keys_name_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let entry = write(dir.path(), "x.json", r#"{"dumPath": "typo"}"#);
        let error = ConfigFile::load(&entry).unwrap_err().to_string();
        assert!(
            error.contains("x.json") && error.contains("dumPath"),
            "{error}"
        );
    }

    #[test]
    fn explicit_missing_config_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            find_config_file(dir.path(), Some(Path::new("nope.json"))),
            Err(ConfigError::NotFound { .. })
        ));
        assert_eq!(find_config_file(dir.path(), None).unwrap(), None);
    }
}
