//! Values of the configuration that are not the same on every instance, named by path
//! ([`ValuePath`]): secrets kept out of git ([`secrets`]), the values an environment must have
//! whatever the dump says ([`PathValues`], `environments.<name>.values:`), and the fields that
//! belong to each instance ([`Owned`], `owned:`), never pushed nor compared.
//!
//! Everything here works on dump items (JSON values) and knows nothing of Directus, git or
//! the command line: `pull` hides, `diff` and `push` fill and put over, `plan` settles owned
//! fields and masks what it prints.

pub mod path;
pub mod secrets;

pub use path::{PathError, ValuePath};
pub use secrets::{Hidden, Masks, Placeholders, SecretRule, SecretRules, Variables};

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error(
        "the dump names {} that {} not set: {}; nothing was changed",
        crate::text::count(names.len(), "secret", "secrets"),
        if names.len() == 1 { "is" } else { "are" },
        names.join(", ")
    )]
    MissingSecrets { names: Vec<String> },
}

impl ValuesError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ValuesError::MissingSecrets { .. } => Some(
                "set each in the environment, in .env.<environment> next to the config file \
                 (for --env <environment>), or in .env; keep those files out of git. A pull \
                 wrote these placeholders where the instance had the values",
            ),
        }
    }
}

/// `values:` (of an environment): the value each path must have there, over what the dump of
/// any branch says. Applied in order: a later path wins where two reach the same place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathValues(pub Vec<(ValuePath, Value)>);

impl PathValues {
    pub fn covers(&self, collection: &str) -> bool {
        self.0.iter().any(|(path, _)| path.collection == collection)
    }

    /// Puts the values over one dump item of `collection`; whether any path chose it.
    pub fn apply(&self, collection: &str, item: &mut Value) -> bool {
        let mut chosen = false;
        for (path, value) in &self.0 {
            if path.selects(collection, item) {
                path.set(item, value);
                chosen = true;
            }
        }
        chosen
    }

    /// `self` (a higher layer) over `lower`: both apply, this one's value where both name a
    /// path.
    pub fn over(self, lower: PathValues) -> PathValues {
        let mut values: Vec<(ValuePath, Value)> = lower
            .0
            .into_iter()
            .filter(|(low, _)| !self.0.iter().any(|(path, _)| path == low))
            .collect();
        values.extend(self.0);
        PathValues(values)
    }

    pub fn paths(&self) -> impl Iterator<Item = &ValuePath> {
        self.0.iter().map(|(path, _)| path)
    }
}

impl<'de> serde::Deserialize<'de> for PathValues {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        map.into_iter()
            .map(|(text, value)| Ok((text.parse().map_err(D::Error::custom)?, value)))
            .collect::<Result<_, _>>()
            .map(PathValues)
    }
}

/// `owned:`: fields (or places inside them) that belong to each instance. A push never
/// writes them and a diff never shows them: before an item is compared, its dump form takes
/// the instance's values there (an item to create goes without them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Owned(pub Vec<ValuePath>);

impl Owned {
    /// Makes the dump item of `collection` hold the live item's values at the owned paths
    /// (`live`: `None` when the item is created). Whether any path chose the item.
    pub fn settle(&self, collection: &str, item: &mut Value, live: Option<&Value>) -> bool {
        let mut chosen = false;
        for path in &self.0 {
            if path.selects(collection, item) {
                path.take_from(item, live);
                chosen = true;
            }
        }
        chosen
    }

    /// Both layers' paths.
    pub fn over(self, lower: Owned) -> Owned {
        let mut paths = lower.0;
        let added: Vec<ValuePath> = self.0.into_iter().filter(|p| !paths.contains(p)).collect();
        paths.extend(added);
        Owned(paths)
    }
}

impl<'de> serde::Deserialize<'de> for Owned {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|text| text.parse().map_err(D::Error::custom))
            .collect::<Result<_, _>>()
            .map(Owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_environments_values_go_over_the_dump() {
        let values: PathValues = serde_yaml::from_str(
            "settings.project_name: Prod CMS\n\
             settings.project_color: '#AA0000'\n\
             'flows[name=Sync].options.url': https://prod.example.com/hook\n",
        )
        .unwrap();
        let mut settings =
            json!({"project_name": "Staging CMS", "project_color": "#00AA00", "_syncId": "s"});
        assert!(values.apply("settings", &mut settings));
        assert_eq!(
            settings,
            json!({"project_name": "Prod CMS", "project_color": "#AA0000", "_syncId": "s"})
        );
        let mut other = json!({"name": "Other", "options": {"url": "x"}});
        assert!(!values.apply("flows", &mut other));
        assert_eq!(other["options"]["url"], "x");
        let mut sync = json!({"name": "Sync", "options": {"url": "x"}});
        values.apply("flows", &mut sync);
        assert_eq!(sync["options"]["url"], "https://prod.example.com/hook");
        assert!(serde_yaml::from_str::<PathValues>("settings: 1").is_err());
    }

    #[test]
    fn owned_fields_keep_the_instances_values() {
        let owned: Owned =
            serde_yaml::from_str("[settings.project_url, 'settings.public_registration']").unwrap();
        let mut dump = json!({"project_name": "S", "public_registration": true});
        let live = json!({"project_name": "P", "public_registration": false, "project_url": "https://prod"});
        assert!(owned.settle("settings", &mut dump, Some(&live)));
        assert_eq!(
            dump,
            json!({"project_name": "S", "public_registration": false, "project_url": "https://prod"})
        );
        let mut created = json!({"project_name": "S", "public_registration": true});
        owned.settle("settings", &mut created, None);
        assert_eq!(created, json!({"project_name": "S"}));
        assert!(!owned.settle("roles", &mut created, None));
    }

    #[test]
    fn layers_add_up() {
        let global: Owned = serde_yaml::from_str("[settings.project_url]").unwrap();
        let prod: Owned =
            serde_yaml::from_str("[settings.project_url, settings.project_color]").unwrap();
        assert_eq!(prod.over(global).0.len(), 2);
        let file: PathValues =
            serde_yaml::from_str("settings.project_name: A\nsettings.x: 1").unwrap();
        let env: PathValues = serde_yaml::from_str("settings.project_name: B").unwrap();
        let both = env.over(file);
        assert_eq!(both.0.len(), 2);
        assert_eq!(both.0[1].1, json!("B"));
        let error = ValuesError::MissingSecrets {
            names: vec!["A".into(), "B".into()],
        };
        assert_eq!(
            error.to_string(),
            "the dump names 2 secrets that are not set: A, B; nothing was changed"
        );
    }
}
