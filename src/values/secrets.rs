//! Secrets: values of the configuration that must never reach git (a Mapbox key, the
//! `Authorization` header of a flow's request). A pull writes a placeholder where each was
//! (`${DIRECTUS_SECRET_SETTINGS_MAPBOX_KEY}`); diff and push fill the placeholders from the
//! environment; what they print shows the placeholders, never the values.

use super::path::{Location, Segment, ValuePath, get, get_mut};
use crate::secret::Secret;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The start of every placeholder name the tool derives: placeholders with it are filled
/// wherever they are in a dump, whatever the config declares.
pub const PREFIX: &str = "DIRECTUS_SECRET_";

/// What Directus 10.13 keeps that is a secret: the Mapbox key of the settings, the headers
/// of a flow's "Webhook / Request URL" operation that carry credentials (its options are
/// `{url, method, headers: [{header, value}], body}`), and the secret of its "JSON Web Token"
/// operation (`{operation, payload, secret, …}`). Header names compare without case, as
/// HTTP's do; other headers (`Content-Type`) stay in the dump.
pub const DEFAULT_SECRETS: [&str; 3] = [
    "settings.mapbox_key",
    "operations[type=request].options.headers[header~=authorization|proxy-authorization|\
     x-api-key|api-key|apikey|x-auth-token|x-access-token|cookie].value",
    "operations[type=json-web-token].options.secret",
];

/// One path whose values are secrets, and the variable's name when the config gives one
/// (else each place gets a name derived from where it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRule {
    pub path: ValuePath,
    pub name: Option<String>,
}

/// `secrets:` of a config file: a list of paths, or a map of paths to the variable each is
/// read from (`null`: a derived name; `false`: not a secret, which turns a default off).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretRules {
    declared: Vec<Declared>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Declared {
    rule: SecretRule,
    off: bool,
}

/// Whether `name` can be an environment variable's name, as a placeholder names it.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl SecretRules {
    /// The paths declared in the config file (defaults aside), for checks and messages.
    pub fn paths(&self) -> impl Iterator<Item = &ValuePath> {
        self.declared.iter().map(|d| &d.rule.path)
    }

    /// The rules in effect: the declared ones, then the defaults less those turned off or
    /// declared again. Declared first: where a declared path and a default reach the same
    /// value, the declared one names its placeholder.
    pub fn effective(&self) -> Vec<SecretRule> {
        let declared = |path: &ValuePath| self.declared.iter().any(|d| d.rule.path == *path);
        let defaults = DEFAULT_SECRETS.iter().map(|text| SecretRule {
            path: text.parse().expect("the default secrets are valid paths"),
            name: None,
        });
        let defaults = defaults.filter(|rule| !declared(&rule.path));
        self.declared
            .iter()
            .filter(|d| !d.off)
            .map(|d| d.rule.clone())
            .chain(defaults)
            .collect()
    }

    /// The variable names the config gives.
    pub fn given_names(&self) -> BTreeSet<String> {
        self.declared
            .iter()
            .filter_map(|d| d.rule.name.clone())
            .collect()
    }

    /// `self` (a higher layer) over `lower`: both apply; for the same path, this one's word.
    pub fn over(self, lower: SecretRules) -> SecretRules {
        let mut declared: Vec<Declared> = lower
            .declared
            .into_iter()
            .filter(|low| !self.declared.iter().any(|d| d.rule.path == low.rule.path))
            .collect();
        declared.extend(self.declared);
        SecretRules { declared }
    }

    /// For `--debug`: the paths and names declared (names, never values).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .declared
            .iter()
            .map(|d| match (&d.rule.name, d.off) {
                (_, true) => format!("{} off", d.rule.path),
                (Some(name), _) => format!("{} as {name}", d.rule.path),
                (None, _) => d.rule.path.to_string(),
            })
            .collect();
        format!("{parts:?}")
    }
}

impl<'de> serde::Deserialize<'de> for SecretRules {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let path = |text: &str| text.parse::<ValuePath>().map_err(D::Error::custom);
        let declared = match Value::deserialize(deserializer)? {
            Value::Array(list) => list
                .iter()
                .map(|entry| match entry {
                    Value::String(text) => Ok(Declared {
                        rule: SecretRule {
                            path: path(text)?,
                            name: None,
                        },
                        off: false,
                    }),
                    other => Err(D::Error::custom(format!("expected a path, got {other}"))),
                })
                .collect::<Result<_, _>>()?,
            Value::Object(map) => map
                .iter()
                .map(|(text, name)| {
                    let (name, off) = match name {
                        Value::Null | Value::Bool(true) => (None, false),
                        Value::Bool(false) => (None, true),
                        Value::String(name) if is_variable_name(name) => {
                            (Some(name.clone()), false)
                        }
                        other => {
                            return Err(D::Error::custom(format!(
                                "{text}: expected the name of an environment variable \
                                 (letters, digits, `_`), null or false, got {other}"
                            )));
                        }
                    };
                    Ok(Declared {
                        rule: SecretRule {
                            path: path(text)?,
                            name,
                        },
                        off,
                    })
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(D::Error::custom(format!(
                    "expected a list of paths or a map of paths to variable names, got {other}"
                )));
            }
        };
        Ok(SecretRules { declared })
    }
}

/// Whether a text is worth keeping out of the dump: not empty, not a template Directus fills
/// at run time (`{{ $env.API_KEY }}`), not a placeholder already.
fn is_value(text: &str) -> bool {
    let trimmed = text.trim();
    let template = trimmed.starts_with("{{") && trimmed.ends_with("}}");
    !(trimmed.is_empty() || template || text.contains("${"))
}

/// `${NAME}`.
pub fn placeholder(name: &str) -> String {
    format!("${{{name}}}")
}

/// The names of the `${NAME}` placeholders in a text, with where each starts and ends.
fn placeholders_in(text: &str) -> Vec<(usize, usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("${").map(|i| from + i) {
        let rest = &text[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        if is_variable_name(name) {
            found.push((start, start + 2 + end + 1, name));
        }
        from = start + 2;
    }
    found
}

/// The name of an environment variable made of words: capitals, digits and single `_`.
fn variable_name(words: &[String]) -> String {
    let mut name = String::new();
    for c in words.join("_").chars() {
        match c.is_ascii_alphanumeric() {
            true => name.push(c.to_ascii_uppercase()),
            false if !name.ends_with('_') => name.push('_'),
            false => {}
        }
    }
    name.trim_matches('_').to_string()
}

/// The word an array element stands under in a derived name: its `header`, `name` or `key`
/// when it has one (`AUTHORIZATION`), else its position.
fn element_word(element: Option<&Value>, index: usize) -> String {
    ["header", "name", "key"]
        .iter()
        .find_map(|field| element?.get(*field)?.as_str().map(str::to_string))
        .filter(|word| !word.trim().is_empty())
        .unwrap_or_else(|| index.to_string())
}

/// The placeholder name of a place in an item: the prefix, the collection, the start of the
/// item's SyncId (none for the settings singleton: there is one), then the place's keys.
/// SyncIds never change, so neither does the name when an item is renamed.
fn derived_name(collection: &str, item: &Value, location: &[Segment]) -> String {
    let mut words = vec![collection.to_string()];
    let singleton = crate::collections::spec(collection)
        .is_some_and(|spec| spec.id_policy == crate::collections::IdPolicy::Singleton);
    if !singleton && let Some(sync_id) = item.get("_syncId").and_then(Value::as_str) {
        words.push(
            sync_id
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(8)
                .collect(),
        );
    }
    for (depth, segment) in location.iter().enumerate() {
        words.push(match segment {
            Segment::Key(key) => key.clone(),
            Segment::Index(index) => element_word(get(item, &location[..=depth]), *index),
        });
    }
    format!("{PREFIX}{}", variable_name(&words))
}

/// The texts at and below a place: a secret path to an object makes all its texts secret.
fn texts_below(value: &Value, here: &mut Location, out: &mut Vec<Location>) {
    match value {
        Value::String(_) => out.push(here.clone()),
        Value::Array(array) => {
            for (index, child) in array.iter().enumerate() {
                here.push(Segment::Index(index));
                texts_below(child, here, out);
                here.pop();
            }
        }
        Value::Object(object) => {
            for (key, child) in object {
                here.push(Segment::Key(key.clone()));
                texts_below(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

/// A pull's side: the values at secret paths become placeholders, item by item.
pub struct Placeholders {
    rules: Vec<SecretRule>,
    /// Each name written, and the place it stands for (`operations <SyncId> options.…`).
    written: BTreeMap<String, String>,
    /// The value each given name stood for, to tell when one name holds different values.
    given: BTreeMap<String, Secret>,
    warnings: Vec<String>,
}

/// What a pull kept out of the dump.
#[derive(Debug, Default)]
pub struct Hidden {
    /// The placeholders written, sorted.
    pub names: Vec<String>,
    /// Things to say about them (one given name for different values; two places whose
    /// derived names would be one).
    pub warnings: Vec<String>,
}

impl Placeholders {
    pub fn new(rules: Vec<SecretRule>) -> Placeholders {
        Placeholders {
            rules,
            written: BTreeMap::new(),
            given: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    /// Puts placeholders where the secret values of one dump item of `collection` are.
    pub fn hide(&mut self, collection: &str, item: &mut Value) {
        // Taken while the names are recorded, and given back.
        let rules = std::mem::take(&mut self.rules);
        for SecretRule { path, name: given } in &rules {
            if !path.selects(collection, item) {
                continue;
            }
            let mut texts = Vec::new();
            for mut location in path.locations(item) {
                let value = get(item, &location).cloned().unwrap_or_default();
                texts_below(&value, &mut location, &mut texts);
            }
            for location in texts {
                let Some(Value::String(text)) = get(item, &location) else {
                    continue;
                };
                if !is_value(text) {
                    continue;
                }
                let text = Secret::new(text.clone());
                let name = match given {
                    Some(given) => self.given_name(given, text, collection, path),
                    None => self.derived(collection, item, &location),
                };
                if let Some(slot) = get_mut(item, &location) {
                    *slot = Value::String(placeholder(&name));
                }
            }
        }
        self.rules = rules;
    }

    fn given_name(
        &mut self,
        name: &str,
        value: Secret,
        collection: &str,
        path: &ValuePath,
    ) -> String {
        self.written
            .entry(name.to_string())
            .or_insert_with(|| format!("{collection} {path}"));
        match self.given.get(name) {
            Some(earlier) if *earlier != value => self.warnings.push(format!(
                "secrets: {path} holds different values at different places, all written as \
                 ${{{name}}}: a push gives them all the value of {name}; give the path a \
                 narrower choice of items, or no name (each place then gets its own)"
            )),
            Some(_) => {}
            None => {
                self.given.insert(name.to_string(), value);
            }
        }
        name.to_string()
    }

    fn derived(&mut self, collection: &str, item: &Value, location: &[Segment]) -> String {
        let sync_id = item.get("_syncId").and_then(Value::as_str).unwrap_or("");
        let place = format!("{collection} {sync_id} {location:?}");
        let base = derived_name(collection, item, location);
        let mut name = base.clone();
        let mut n = 1;
        while let Some(other) = self.written.get(&name) {
            if *other == place {
                return name;
            }
            n += 1;
            name = format!("{base}_{n}");
        }
        self.written.insert(name.clone(), place);
        name
    }

    pub fn finish(self) -> Hidden {
        let mut warnings = self.warnings;
        warnings.dedup();
        Hidden {
            names: self.written.into_keys().collect(),
            warnings,
        }
    }
}

/// Where placeholders get their values: the variables of this run's environment (and of a
/// `.env` file next to the config) that placeholders may name, read once.
#[derive(Clone, Default)]
pub struct Variables {
    values: BTreeMap<String, Secret>,
    /// Names the config gives: filled wherever they are, as derived names are.
    given: BTreeSet<String>,
}

impl fmt::Debug for Variables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&String> = self.values.keys().collect();
        write!(f, "Variables {{ set: {names:?}, given: {:?} }}", self.given)
    }
}

impl Variables {
    /// From `(name, value)` pairs, the first of a name winning (the environment before the
    /// `.env` file), keeping those a placeholder may name: derived names and `given` ones.
    pub fn new(
        pairs: impl IntoIterator<Item = (String, String)>,
        given: BTreeSet<String>,
    ) -> Variables {
        let mut values = BTreeMap::new();
        for (name, value) in pairs {
            if name.starts_with(PREFIX) || given.contains(&name) {
                values.entry(name).or_insert_with(|| Secret::new(value));
            }
        }
        Variables { values, given }
    }

    /// Every variable a placeholder may name that is set, and every given name: hooks never
    /// see them.
    pub fn names(&self) -> BTreeSet<String> {
        self.values.keys().chain(&self.given).cloned().collect()
    }

    fn is_ours(&self, name: &str) -> bool {
        name.starts_with(PREFIX) || self.given.contains(name)
    }

    /// Fills the placeholders in the texts of `value` (a dump item); the names of unset
    /// variables go to `missing`. Whether anything changed.
    pub fn fill(&self, value: &mut Value, missing: &mut BTreeSet<String>) -> bool {
        match value {
            Value::String(text) => {
                let found = placeholders_in(text);
                let mut filled = String::new();
                let mut from = 0;
                let mut changed = false;
                for (start, end, name) in found {
                    if !self.is_ours(name) {
                        continue;
                    }
                    match self.values.get(name) {
                        Some(secret) => {
                            filled.push_str(&text[from..start]);
                            filled.push_str(secret.expose());
                            from = end;
                            changed = true;
                        }
                        None => {
                            missing.insert(name.to_string());
                        }
                    }
                }
                if changed {
                    filled.push_str(&text[from..]);
                    *text = filled;
                }
                changed
            }
            Value::Array(array) => array
                .iter_mut()
                .fold(false, |changed, v| self.fill(v, missing) | changed),
            Value::Object(object) => object
                .values_mut()
                .fold(false, |changed, v| self.fill(v, missing) | changed),
            _ => false,
        }
    }

    /// What diff and push show instead of these values, at these rules' paths.
    pub fn masks(&self, rules: &[SecretRule]) -> Masks {
        let mut secrets: Vec<(String, Secret)> = self
            .values
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (placeholder(name), value.clone()))
            .collect();
        // The longest first: a value inside another is replaced after it.
        secrets.sort_by_key(|(_, value)| std::cmp::Reverse(value.expose().len()));
        Masks {
            secrets,
            paths: rules.iter().map(|rule| rule.path.clone()).collect(),
        }
    }
}

/// Texts shorter than this are replaced only where they are a whole value: inside other
/// texts they are too likely to be something else (`1` inside `10`).
const SHORTEST_INSIDE: usize = 4;

/// What diff and push print instead of secrets: the placeholder of each secret value, and
/// `***` for any other value at a secret path (the instance's own key, which the run has
/// no name for).
#[derive(Clone, Default)]
pub struct Masks {
    /// `${NAME}` and its value.
    secrets: Vec<(String, Secret)>,
    paths: Vec<ValuePath>,
}

impl fmt::Debug for Masks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&String> = self.secrets.iter().map(|(name, _)| name).collect();
        write!(
            f,
            "Masks {{ secrets: {names:?}, paths: {} }}",
            self.paths.len()
        )
    }
}

/// The mark of a value at a secret path that no placeholder names.
pub const HIDDEN: &str = "***";

impl Masks {
    /// Whether `collection` has secret paths (its changes need their items to be masked).
    pub fn covers(&self, collection: &str) -> bool {
        self.paths.iter().any(|p| p.collection == collection)
    }

    /// `value` of `field` of an item (the dump item, to choose the paths by) as it may be
    /// shown.
    pub fn show(
        &self,
        collection: &str,
        item: Option<&Value>,
        field: &str,
        value: &Value,
    ) -> Value {
        let mut shown = value.clone();
        self.scrub(&mut shown);
        let paths = self.paths.iter().filter(|path| {
            path.collection == collection
                && path.field == field
                && item.is_none_or(|item| path.selects(collection, item))
        });
        let mut wrapped = serde_json::Map::new();
        wrapped.insert(field.to_string(), shown);
        let mut wrapped = Value::Object(wrapped);
        for path in paths {
            let mut texts = Vec::new();
            for mut location in path.locations(&wrapped) {
                let below = get(&wrapped, &location).cloned().unwrap_or_default();
                texts_below(&below, &mut location, &mut texts);
            }
            for location in texts {
                if let Some(slot) = get_mut(&mut wrapped, &location)
                    && slot.as_str().is_some_and(is_value)
                {
                    *slot = Value::String(HIDDEN.into());
                }
            }
        }
        match wrapped {
            Value::Object(mut map) => map.shift_remove(field).unwrap_or_default(),
            _ => Value::Null,
        }
    }

    /// Every secret value in the texts of `value` replaced by its placeholder.
    pub fn scrub(&self, value: &mut Value) {
        if self.secrets.is_empty() {
            return;
        }
        match value {
            Value::String(text) => {
                let scrubbed = match self.scrub_str(text, false) {
                    std::borrow::Cow::Borrowed(_) => None,
                    std::borrow::Cow::Owned(scrubbed) => Some(scrubbed),
                };
                if let Some(scrubbed) = scrubbed {
                    *text = scrubbed;
                }
            }
            Value::Array(array) => array.iter_mut().for_each(|v| self.scrub(v)),
            Value::Object(object) => object.values_mut().for_each(|v| self.scrub(v)),
            _ => {}
        }
    }

    /// Every secret value in a text replaced by its placeholder: in printed JSON too
    /// (`escaped`), where a value with quotes or backslashes appears escaped.
    pub fn scrub_text<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        self.scrub_str(text, true)
    }

    fn scrub_str<'a>(&self, text: &'a str, escaped: bool) -> std::borrow::Cow<'a, str> {
        use std::borrow::Cow;
        let mut out = Cow::Borrowed(text);
        for (name, secret) in &self.secrets {
            let value = secret.expose();
            if out == value {
                return Cow::Owned(name.clone());
            }
            if value.len() < SHORTEST_INSIDE {
                if escaped {
                    let quoted = serde_json::to_string(value).unwrap_or_default();
                    if out.contains(&quoted) {
                        out = Cow::Owned(out.replace(&quoted, &format!("\"{name}\"")));
                    }
                }
                continue;
            }
            if out.contains(value) {
                out = Cow::Owned(out.replace(value, name));
            }
            if escaped {
                let json = serde_json::to_string(value).unwrap_or_default();
                let inner = json
                    .get(1..json.len().saturating_sub(1))
                    .unwrap_or_default();
                if inner != value && !inner.is_empty() && out.contains(inner) {
                    out = Cow::Owned(out.replace(inner, name));
                }
            }
        }
        out
    }
}

/// Words of a key that say it holds a credential, when they end it (`api_key`,
/// `client_secret`, `X-Auth-Token`); `key` alone is a name in Directus (an operation's key).
const SECRET_WORDS: [&str; 8] = [
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "authorization",
    "credential",
    "credentials",
];

/// Beginnings of well-known keys and tokens.
const SECRET_PREFIXES: [&str; 16] = [
    "Bearer ",
    "Basic ",
    "Token ",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "pk.eyJ",
    "sk.eyJ",
    "ghp_",
    "gho_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "AKIA",
    "AIza",
];

/// Names of URL query parameters that carry credentials.
const SECRET_PARAMETERS: [&str; 9] = [
    "access_token",
    "api_key",
    "apikey",
    "key",
    "token",
    "secret",
    "signature",
    "sig",
    "auth",
];

fn words_of(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether a key (a field's, or a header's name) says its value is a credential.
fn names_a_secret(key: &str) -> bool {
    let words = words_of(key);
    match words.as_slice() {
        [] => false,
        [.., before, last] if last == "key" => {
            // `api_key`, `access_key`, `mapbox_key`, `private_key`; not `sort_key`.
            !matches!(
                before.as_str(),
                "sort" | "primary" | "foreign" | "group" | "unique"
            )
        }
        [.., last] => SECRET_WORDS.contains(&last.as_str()),
    }
}

/// Whether a text looks like a key or a token by itself.
fn looks_like_a_key(text: &str) -> bool {
    if SECRET_PREFIXES.iter().any(|prefix| {
        text.starts_with(prefix) && text.len() > prefix.len() + 4 && !text.contains("{{")
    }) {
        return true;
    }
    let jwt = text.split('.').collect::<Vec<_>>();
    if jwt.len() == 3
        && jwt[0].starts_with("eyJ")
        && jwt.iter().all(|part| {
            part.len() > 4
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
    {
        return true;
    }
    match url::Url::parse(text) {
        Ok(url) if url.scheme().starts_with("http") => url.query_pairs().any(|(name, value)| {
            SECRET_PARAMETERS.contains(&name.to_lowercase().as_str())
                && value.len() >= 8
                && !value.contains("{{")
        }),
        _ => false,
    }
}

/// The places of a dump item whose texts look like keys or tokens (`options.headers[1].value`):
/// where they are, never what they are. Placeholders, templates and empty texts are none.
pub fn suspicious(item: &Value) -> Vec<String> {
    let mut texts = Vec::new();
    if let Value::Object(object) = item {
        for (key, value) in object {
            if key != "_syncId" {
                texts_below(value, &mut vec![Segment::Key(key.clone())], &mut texts);
            }
        }
    }
    texts
        .into_iter()
        .filter(|location| {
            let Some(Value::String(text)) = get(item, location) else {
                return false;
            };
            if !is_value(text) {
                return false;
            }
            // The key above, or for `{header, value}` pairs the header's name.
            let named = match location.as_slice() {
                [.., _, Segment::Key(key)] => {
                    let sibling = get(item, &location[..location.len() - 1]).and_then(|o| {
                        ["header", "name", "key"]
                            .iter()
                            .find_map(|field| o.get(*field)?.as_str())
                    });
                    names_a_secret(key) || (key == "value" && sibling.is_some_and(names_a_secret))
                }
                [Segment::Key(key)] => names_a_secret(key),
                _ => false,
            };
            (named && text.len() >= 6) || looks_like_a_key(text)
        })
        .map(|location| describe(&location))
        .collect()
}

/// The places of a dump item where a secret path reaches a value that is no placeholder: a
/// dump pulled before the path was declared, or by the original tool. Where, never what.
pub fn exposed(rules: &[SecretRule], collection: &str, item: &Value) -> Vec<String> {
    let mut places = Vec::new();
    for rule in rules.iter().filter(|r| r.path.selects(collection, item)) {
        for mut location in rule.path.locations(item) {
            let mut texts = Vec::new();
            let value = get(item, &location).cloned().unwrap_or_default();
            texts_below(&value, &mut location, &mut texts);
            let holding = texts
                .into_iter()
                .filter(|at| get(item, at).and_then(Value::as_str).is_some_and(is_value));
            places.extend(holding.map(|at| describe(&at)));
        }
    }
    places.sort();
    places.dedup();
    places
}

/// `options.headers[1].value`.
pub fn describe(location: &[Segment]) -> String {
    let mut out = String::new();
    for segment in location {
        match segment {
            Segment::Key(key) if out.is_empty() => out.push_str(key),
            Segment::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Segment::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(yaml: &str) -> SecretRules {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn request() -> Value {
        json!({"name": "Call CRM", "key": "call_crm", "type": "request",
               "options": {"url": "https://crm.example.com/hook", "method": "POST",
                           "headers": [{"header": "Authorization", "value": "Bearer s3cr3t-staging"},
                                       {"header": "Content-Type", "value": "application/json"},
                                       {"header": "X-Api-Key", "value": "{{ $env.CRM_KEY }}"}]},
               "flow": "f", "_syncId": "5b0c7a1e-0000-4000-8000-000000000001"})
    }

    #[test]
    fn the_defaults_name_what_directus_keeps_secret() {
        let effective = SecretRules::default().effective();
        assert_eq!(effective.len(), DEFAULT_SECRETS.len());
        let mut item = request();
        let mut placeholders = Placeholders::new(effective);
        placeholders.hide("operations", &mut item);
        let headers = &item["options"]["headers"];
        assert_eq!(
            headers[0]["value"],
            "${DIRECTUS_SECRET_OPERATIONS_5B0C7A1E_OPTIONS_HEADERS_AUTHORIZATION_VALUE}"
        );
        assert_eq!(headers[1]["value"], "application/json", "not a credential");
        assert_eq!(
            headers[2]["value"], "{{ $env.CRM_KEY }}",
            "a template stays"
        );
        let mut settings = json!({"mapbox_key": "pk.eyJ1Ijoic3RhZ2luZyJ9.abc", "project_name": "S", "_syncId": "x"});
        placeholders.hide("settings", &mut settings);
        assert_eq!(
            settings["mapbox_key"],
            "${DIRECTUS_SECRET_SETTINGS_MAPBOX_KEY}"
        );
        let mut unset = json!({"mapbox_key": null, "_syncId": "x"});
        placeholders.hide("settings", &mut unset);
        assert_eq!(unset["mapbox_key"], Value::Null);
        let hidden = placeholders.finish();
        assert_eq!(hidden.names.len(), 2, "{:?}", hidden.names);
        assert!(hidden.warnings.is_empty());
    }

    #[test]
    fn pulling_twice_writes_the_same_placeholders() {
        let mut first = request();
        let mut again = request();
        Placeholders::new(SecretRules::default().effective()).hide("operations", &mut first);
        let mut placeholders = Placeholders::new(SecretRules::default().effective());
        placeholders.hide("operations", &mut again);
        assert_eq!(first, again);
        // A placeholder pulled again (a push wrote the value, a pull reads it back) stays.
        placeholders.hide("operations", &mut again);
        assert_eq!(first, again);
    }

    #[test]
    fn config_files_give_names_and_turn_defaults_off() {
        let declared = rules(
            "settings.mapbox_key: false\n\
             'operations[type=request].options.url': CRM_URL\n\
             'flows[name=Sync].options': null\n",
        );
        let effective = declared.effective();
        assert_eq!(effective.len(), 4, "{effective:?}");
        assert!(!effective.iter().any(|r| r.path.field == "mapbox_key"));
        assert_eq!(
            declared.given_names(),
            BTreeSet::from(["CRM_URL".to_string()])
        );
        let mut item = request();
        let mut placeholders = Placeholders::new(effective);
        placeholders.hide("operations", &mut item);
        assert_eq!(item["options"]["url"], "${CRM_URL}");
        let mut flow = json!({"name": "Sync", "options": {"a": "x1", "b": {"c": "y2"}}, "_syncId": "abcdef12-9"});
        placeholders.hide("flows", &mut flow);
        assert_eq!(
            flow["options"],
            json!({"a": "${DIRECTUS_SECRET_FLOWS_ABCDEF12_OPTIONS_A}",
                   "b": {"c": "${DIRECTUS_SECRET_FLOWS_ABCDEF12_OPTIONS_B_C}"}})
        );
        let list = rules("- settings.mapbox_key\n- 'flows[name=Sync].options.url'\n");
        assert_eq!(list.effective().len(), 4);
        for bad in [
            "settings: [1]",
            "settings.mapbox_key: 'not a name'",
            "'settings': x",
            "3",
        ] {
            assert!(serde_yaml::from_str::<SecretRules>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_given_name_for_different_values_is_said() {
        let declared = rules("'operations[type=request].options.headers[*].value': ONE\n");
        let mut placeholders = Placeholders::new(declared.effective());
        let mut item = request();
        placeholders.hide("operations", &mut item);
        let hidden = placeholders.finish();
        assert_eq!(hidden.names, ["ONE"]);
        assert_eq!(hidden.warnings.len(), 1, "{:?}", hidden.warnings);
        assert!(!hidden.warnings[0].contains("s3cr3t"));
    }

    #[test]
    fn layers_add_up_and_the_higher_one_decides_a_path() {
        let file = rules("settings.mapbox_key: MAPBOX\n'flows[name=A].options.x': null\n");
        let environment = rules("settings.mapbox_key: PROD_MAPBOX\n");
        let both = environment.over(file);
        let effective = both.effective();
        assert!(
            effective
                .iter()
                .any(|r| r.name.as_deref() == Some("PROD_MAPBOX"))
        );
        assert!(
            !effective
                .iter()
                .any(|r| r.name.as_deref() == Some("MAPBOX"))
        );
        assert!(effective.iter().any(|r| r.path.collection == "flows"));
    }

    #[test]
    fn filling_names_every_unset_variable() {
        let variables = Variables::new(
            [
                ("DIRECTUS_SECRET_A".to_string(), "alpha-value".to_string()),
                ("CRM_URL".to_string(), "https://crm".to_string()),
                (
                    "DIRECTUS_SECRET_A".to_string(),
                    "from .env, loses".to_string(),
                ),
                ("UNRELATED".to_string(), "x".to_string()),
            ],
            BTreeSet::from(["CRM_URL".to_string()]),
        );
        let mut item = json!({"a": "${DIRECTUS_SECRET_A}", "b": ["Bearer ${DIRECTUS_SECRET_A}", "${CRM_URL}/x"],
                              "c": "${DIRECTUS_SECRET_B} ${DIRECTUS_SECRET_C}", "code": "`${UNRELATED}` ${x}"});
        let mut missing = BTreeSet::new();
        assert!(variables.fill(&mut item, &mut missing));
        assert_eq!(item["a"], "alpha-value");
        assert_eq!(item["b"], json!(["Bearer alpha-value", "https://crm/x"]));
        assert_eq!(item["code"], "`${UNRELATED}` ${x}", "not ours: code stays");
        assert_eq!(
            missing,
            BTreeSet::from([
                "DIRECTUS_SECRET_B".to_string(),
                "DIRECTUS_SECRET_C".to_string()
            ])
        );
        assert!(!format!("{variables:?}").contains("alpha"));
        assert_eq!(variables.names().len(), 2);
    }

    #[test]
    fn masks_show_names_and_hide_what_they_cannot_name() {
        let variables = Variables::new(
            [(
                "DIRECTUS_SECRET_OPERATIONS_5B0C7A1E_OPTIONS_HEADERS_AUTHORIZATION_VALUE"
                    .to_string(),
                "Bearer s3cr3t-prod".to_string(),
            )],
            BTreeSet::new(),
        );
        let masks = variables.masks(&SecretRules::default().effective());
        assert!(masks.covers("operations") && masks.covers("settings") && !masks.covers("roles"));
        let item = request();
        let new = json!({"url": "u", "headers": [{"header": "Authorization", "value": "Bearer s3cr3t-prod"}]});
        let old = json!({"url": "u", "headers": [{"header": "Authorization", "value": "Bearer old-prod-key"}]});
        let shown_new = masks.show("operations", Some(&item), "options", &new);
        let shown_old = masks.show("operations", Some(&item), "options", &old);
        assert_eq!(
            shown_new["headers"][0]["value"],
            "${DIRECTUS_SECRET_OPERATIONS_5B0C7A1E_OPTIONS_HEADERS_AUTHORIZATION_VALUE}"
        );
        assert_eq!(shown_old["headers"][0]["value"], HIDDEN);
        assert_eq!(shown_old["url"], "u");
        let key = masks.show("settings", None, "mapbox_key", &json!("pk.prod-key"));
        assert_eq!(key, json!(HIDDEN));
        let text = format!(
            "x {} y {}",
            "Bearer s3cr3t-prod",
            json!("Bearer s3cr3t-prod")
        );
        assert!(
            !masks.scrub_text(&text).contains("s3cr3t"),
            "{}",
            masks.scrub_text(&text)
        );
        assert!(!format!("{masks:?}").contains("s3cr3t"));
    }

    #[test]
    fn the_scan_finds_keys_by_their_name_or_their_look() {
        let item = json!({
            "name": "Webhook", "key": "send_it", "type": "request",
            "options": {"url": "https://maps.example.com/tiles?access_token=abcdef123456&x=1",
                        "headers": [{"header": "X-Custom-Token", "value": "t0k3n-value"},
                                    {"header": "Accept", "value": "Bearer-less text"},
                                    {"header": "X", "value": "${DIRECTUS_SECRET_X}"}],
                        "body": "{\"client_secret\": \"{{ $env.S }}\"}",
                        "api_key": "sk_live_0123456789", "sort_key": "position",
                        "jwt": "eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl"},
            "auth_password_policy": "/^.{8,}$/",
            "_syncId": "Bearer 0123456789"
        });
        assert_eq!(
            suspicious(&item),
            [
                "options.url",
                "options.headers[0].value",
                "options.api_key",
                "options.jwt"
            ]
        );
        assert!(names_a_secret("X-Api-Key") && names_a_secret("clientSecret"));
        let rules = SecretRules::default().effective();
        assert_eq!(
            exposed(&rules, "operations", &request()),
            ["options.headers[0].value"]
        );
        let mut hidden = request();
        Placeholders::new(rules.clone()).hide("operations", &mut hidden);
        assert!(exposed(&rules, "operations", &hidden).is_empty());
        assert!(!names_a_secret("key") && !names_a_secret("sort_key"));
    }
}
