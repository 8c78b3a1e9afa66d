//! Config files: JSON or YAML, with `extends` chains resolved relative to the declaring file.

use super::{ConfigError, Layer};
use crate::dump::normalize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The default file names, tried in this order in the working directory.
const DEFAULT_NAMES: [&str; 5] = [
    "directus-sync.config.js",
    "directus-sync.config.cjs",
    "directus-sync.config.json",
    "directus-sync.config.yaml",
    "directus-sync.config.yml",
];

/// Keys of a config file that are not options: the file's structure.
const EXTENDS: &str = "extends";
const ENVIRONMENTS: &str = "environments";
/// JS-SDK client options of the original tool; meaningless here, accepted so that existing
/// files load.
const DIRECTUS_CONFIG: &str = "directusConfig";

/// One file of an `extends` chain: its options and its `environments:` entries.
#[derive(Debug, Default)]
struct Parsed {
    options: Layer,
    environments: Map<String, Value>,
}

impl Parsed {
    /// `self` wins over `lower`, key by key and environment by environment.
    fn over(self, lower: Parsed) -> Parsed {
        let mut environments = lower.environments;
        environments.extend(self.environments);
        Parsed {
            options: self.options.over(lower.options),
            environments,
        }
    }
}

/// A config file with its `extends` chain already merged.
#[derive(Debug)]
pub struct ConfigFile {
    pub options: Layer,
    /// `environments:`, in the file's order; each entry is checked when it is picked.
    pub environments: Map<String, Value>,
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
        let parsed = loader.load(path, None)?.unwrap_or_default();
        Ok(ConfigFile {
            options: parsed.options,
            environments: parsed.environments,
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
    ) -> Result<Option<Parsed>, ConfigError> {
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
        let (mut options, parents) = parse_file(&path)?;
        let base_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        for parent in parents {
            if let Some(parent_options) = self.load(&base_dir.join(&parent), Some(&path))? {
                options = options.over(parent_options);
            }
        }
        Ok(Some(options))
    }
}

/// A file's options and the parents it extends.
fn parse_file(path: &Path) -> Result<(Parsed, Vec<String>), ConfigError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    if matches!(extension, "js" | "cjs") {
        return split_options(path, evaluate_javascript(path)?);
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
    split_options(path, value)
}

/// Separates a file's structure (`extends`, `environments`) from its options, which must all
/// be known keys.
fn split_options(path: &Path, value: Value) -> Result<(Parsed, Vec<String>), ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let Value::Object(mut object) = value else {
        return Err(invalid(
            "expected an object of options at the top level".into(),
        ));
    };
    object.remove(DIRECTUS_CONFIG);
    let parents = match object.remove(EXTENDS) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(one)) => vec![one],
        Some(Value::Array(list)) => list
            .into_iter()
            .map(|p| match p {
                Value::String(p) => Ok(p),
                other => Err(invalid(format!(
                    "extends: expected file names, got {other}"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(invalid(format!("extends: expected a list, got {other}"))),
    };
    let environments = match object.remove(ENVIRONMENTS) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(invalid(format!(
                "environments: expected an object of named environments, got {other}"
            )));
        }
    };
    let options = super::options::layer_from(Value::Object(object)).map_err(invalid)?;
    Ok((
        Parsed {
            options,
            environments,
        },
        parents,
    ))
}

/// Existing users' `directus-sync.config.js`: evaluated by the system `node`, functions (hooks)
/// kept as markers that the hooks module calls back.
fn evaluate_javascript(path: &Path) -> Result<Value, ConfigError> {
    use crate::hooks::node::{NodeError, evaluate_config};
    let hidden = super::options::secret_variables(&Map::new());
    let value = evaluate_config(path, &hidden).map_err(|error| match error {
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
    Ok(value)
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
        assert_eq!(
            loaded.options.directus_token.flatten().unwrap().expose(),
            "token"
        );
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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Any text in a config file gives options or an error naming the file, never a panic.
        #[test]
        fn any_config_text_loads_or_names_the_file(
            text in prop_oneof![
                any::<String>(),
                "\\{(\"[a-zA-Z]{1,12}\": (true|1|\"x\"|null|\\[\\]|\\{\\}), ){0,4}\"debug\": true\\}",
                "(extends|environments|dumpPath|hooks|preserveIds): (\\[\\]|x|1|\\{\\}|null)\n",
            ],
            yaml in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(if yaml { "c.yaml" } else { "c.json" });
            std::fs::write(&path, &text).unwrap();
            match ConfigFile::load(&path) {
                Ok(_) => {}
                Err(error) => prop_assert!(error.to_string().contains("c."), "{error}"),
            }
        }
    }
}
