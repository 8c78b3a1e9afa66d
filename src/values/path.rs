//! Paths to values inside the items of the tracked collections, as config files name them:
//! `settings.mapbox_key`, `operations[type=request].options.headers[*].value`,
//! `flows[name="Sync all"].options.url`.
//!
//! A path is a collection, an optional choice of its items (`[field=value, …]`; `[*]` or none:
//! every item), then a field and the steps into its JSON value: `.key`, `[*]` (every element of
//! an array, every value of an object), `[2]` (one element), `[field=value]` (the elements
//! that are objects whose field has that value). A value may list alternatives
//! (`[header~=authorization|x-api-key]`); `~=` compares without regard to case, as HTTP
//! header names are. Names and values with other characters than letters, digits, `_`, `-`
//! and `$` are written in double quotes.
//!
//! Items are chosen by the values their dump form holds: relations are SyncIds there.

use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuePath {
    pub collection: String,
    /// The items whose fields hold these values (all of them); none: every item.
    pub items: Vec<Condition>,
    /// The item's field the path goes into.
    pub field: String,
    /// The steps inside the field's value.
    pub steps: Vec<Step>,
}

/// `field=value` (or `field~=value`, case aside), with `|`-separated alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub field: String,
    pub values: Vec<String>,
    pub fold_case: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    /// Every element of an array, every value of an object.
    Each,
    Index(usize),
    /// The elements of an array that are objects meeting every condition.
    Where(Vec<Condition>),
}

/// One step of a place the path reached in one item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A place in an item: its field first.
pub type Location = Vec<Segment>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path:?}: {reason} (at character {at})")]
pub struct PathError {
    pub path: String,
    /// Where the problem starts, counted in characters from 1.
    pub at: usize,
    pub reason: &'static str,
}

impl std::str::FromStr for ValuePath {
    type Err = PathError;

    fn from_str(text: &str) -> Result<ValuePath, PathError> {
        Parser {
            text,
            chars: text.chars().collect(),
            at: 0,
        }
        .path()
    }
}

/// What a `[...]` holds.
enum Bracket {
    Each,
    Index(usize),
    Where(Vec<Condition>),
}

struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    at: usize,
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '$')
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> PathError {
        PathError {
            path: self.text.to_string(),
            at: self.at + 1,
            reason,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, c: char, reason: &'static str) -> Result<(), PathError> {
        match self.eat(c) {
            true => Ok(()),
            false => Err(self.error(reason)),
        }
    }

    fn path(mut self) -> Result<ValuePath, PathError> {
        let collection = self.name()?;
        let mut items = Vec::new();
        if self.eat('[') {
            let inside = self.at;
            match self.bracket()? {
                Bracket::Each => {}
                Bracket::Where(conditions) => items = conditions,
                Bracket::Index(_) => {
                    self.at = inside;
                    return Err(self.error(
                        "items are chosen by their fields ([type=request]) or all ([*]), not by position",
                    ));
                }
            }
        }
        self.expect('.', "expected `.` and a field after the collection")?;
        let field = self.name()?;
        if field == "_syncId" || field == "id" {
            return Err(self.error("SyncIds and ids are no values a path may name"));
        }
        let mut steps = Vec::new();
        while let Some(c) = self.peek() {
            self.at += 1;
            steps.push(match c {
                '.' => Step::Key(self.name()?),
                '[' => match self.bracket()? {
                    Bracket::Each => Step::Each,
                    Bracket::Index(index) => Step::Index(index),
                    Bracket::Where(conditions) => Step::Where(conditions),
                },
                _ => {
                    self.at -= 1;
                    return Err(self.error("expected `.`, `[` or the end of the path"));
                }
            });
        }
        Ok(ValuePath {
            collection,
            items,
            field,
            steps,
        })
    }

    /// A bare name, or one in double quotes.
    fn name(&mut self) -> Result<String, PathError> {
        if self.peek() == Some('"') {
            return self.quoted();
        }
        let start = self.at;
        while self.peek().is_some_and(is_name_char) {
            self.at += 1;
        }
        match start == self.at {
            true => Err(self.error("expected a name")),
            false => Ok(self.chars[start..self.at].iter().collect()),
        }
    }

    fn quoted(&mut self) -> Result<String, PathError> {
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    self.at = start;
                    return Err(self.error("a quote that does not end"));
                }
                Some('"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(c) => out.push(c),
                        None => return Err(self.error("a `\\` at the end")),
                    }
                    self.at += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// A value of a condition: quoted, or bare up to `|`, `,` or `]` (spaces around trimmed).
    fn value(&mut self) -> Result<String, PathError> {
        while self.peek() == Some(' ') {
            self.at += 1;
        }
        if self.peek() == Some('"') {
            let value = self.quoted()?;
            while self.peek() == Some(' ') {
                self.at += 1;
            }
            return Ok(value);
        }
        let start = self.at;
        while self.peek().is_some_and(|c| !matches!(c, '|' | ',' | ']')) {
            self.at += 1;
        }
        let value: String = self.chars[start..self.at].iter().collect();
        match value.trim() {
            "" => Err(self.error("expected a value (\"\" for an empty one)")),
            trimmed => Ok(trimmed.to_string()),
        }
    }

    /// What follows a `[`, up to and with its `]`.
    fn bracket(&mut self) -> Result<Bracket, PathError> {
        if self.eat('*') {
            self.expect(']', "expected `]` after `*`")?;
            return Ok(Bracket::Each);
        }
        if self.peek().is_some_and(|c| c.is_ascii_digit()) {
            let start = self.at;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.at += 1;
            }
            let digits: String = self.chars[start..self.at].iter().collect();
            let index = digits
                .parse()
                .map_err(|_| self.error("an index too large"))?;
            self.expect(']', "expected `]` after an index")?;
            return Ok(Bracket::Index(index));
        }
        let mut conditions = Vec::new();
        loop {
            while self.peek() == Some(' ') {
                self.at += 1;
            }
            let field = self.name()?;
            let fold_case = self.eat('~');
            self.expect('=', "expected `=` (or `~=`) after the field of a condition")?;
            let mut values = vec![self.value()?];
            while self.eat('|') {
                values.push(self.value()?);
            }
            conditions.push(Condition {
                field,
                values,
                fold_case,
            });
            if self.eat(']') {
                return Ok(Bracket::Where(conditions));
            }
            self.expect(',', "expected `,` or `]` after a condition")?;
        }
    }
}

/// A name as a path writes it: bare when it can be (a digit first would read as an index
/// inside brackets).
fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let bare =
        name.chars().all(is_name_char) && name.chars().next().is_some_and(|c| !c.is_ascii_digit());
    match bare {
        true => f.write_str(name),
        false => write_quoted(f, name),
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

fn write_conditions(f: &mut fmt::Formatter<'_>, conditions: &[Condition]) -> fmt::Result {
    f.write_str("[")?;
    for (i, condition) in conditions.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write_name(f, &condition.field)?;
        f.write_str(if condition.fold_case { "~=" } else { "=" })?;
        for (j, value) in condition.values.iter().enumerate() {
            if j > 0 {
                f.write_str("|")?;
            }
            let bare = !value.is_empty()
                && value.trim() == value
                && !value.starts_with('"')
                && !value.contains(['|', ',', ']']);
            match bare {
                true => f.write_str(value)?,
                false => write_quoted(f, value)?,
            }
        }
    }
    f.write_str("]")
}

/// The path as a config file would write it: parsing it gives the same path.
impl fmt::Display for ValuePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_name(f, &self.collection)?;
        if !self.items.is_empty() {
            write_conditions(f, &self.items)?;
        }
        f.write_str(".")?;
        write_name(f, &self.field)?;
        for step in &self.steps {
            match step {
                Step::Key(key) => {
                    f.write_str(".")?;
                    write_name(f, key)?;
                }
                Step::Each => f.write_str("[*]")?,
                Step::Index(index) => write!(f, "[{index}]")?,
                Step::Where(conditions) => write_conditions(f, conditions)?,
            }
        }
        Ok(())
    }
}

/// A value as conditions compare it: text as it is, anything else as JSON (`null`, `3`).
fn text_of(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(text) => Cow::Borrowed(text),
        other => Cow::Owned(other.to_string()),
    }
}

impl Condition {
    pub fn holds(&self, object: &Value) -> bool {
        let Some(value) = object.get(&self.field) else {
            return false;
        };
        let text = text_of(value);
        self.values.iter().any(|wanted| match self.fold_case {
            true => wanted.to_lowercase() == text.to_lowercase(),
            false => *wanted == *text,
        })
    }
}

impl ValuePath {
    /// Whether the path is about this item of `collection` (in dump form).
    pub fn selects(&self, collection: &str, item: &Value) -> bool {
        self.collection == collection && self.items.iter().all(|c| c.holds(item))
    }

    /// Every place of `item` the path reaches, in the order of the item's JSON. The item's
    /// choice (`[type=request]`) is not looked at: see [`selects`](Self::selects).
    pub fn locations(&self, item: &Value) -> Vec<Location> {
        let mut out = Vec::new();
        if let Some(value) = item.get(&self.field) {
            let mut here = vec![Segment::Key(self.field.clone())];
            expand(value, &self.steps, &mut here, &mut out);
        }
        out
    }

    /// The places where the path's last key would go: every place its steps but the last
    /// reach (and, for a path of keys only, the objects on the way are made).
    fn parents(&self, item: &mut Value) -> Vec<Location> {
        let Some((Step::Key(_), before)) = self.steps.split_last() else {
            return Vec::new();
        };
        if before.iter().all(|s| matches!(s, Step::Key(_))) {
            let mut location = vec![Segment::Key(self.field.clone())];
            location.extend(before.iter().map(|step| match step {
                Step::Key(key) => Segment::Key(key.clone()),
                _ => unreachable!("only keys"),
            }));
            return make_objects(item, &location)
                .then_some(location)
                .into_iter()
                .collect();
        }
        let parent = ValuePath {
            steps: before.to_vec(),
            ..self.clone()
        };
        parent.locations(item)
    }

    /// Puts `value` everywhere the path reaches in `item`: at every place it reaches, and
    /// where its last key is missing under a place the steps before reach. A path of keys
    /// only makes the objects on its way (`settings.basemaps` needs no basemaps already).
    /// Returns how many places were set.
    pub fn set(&self, item: &mut Value, value: &Value) -> usize {
        let mut places = self.locations(item);
        if let Some(Step::Key(last)) = self.steps.last() {
            for mut parent in self.parents(item) {
                let holds = get(item, &parent)
                    .and_then(Value::as_object)
                    .is_some_and(|o| o.contains_key(last));
                if !holds && get(item, &parent).is_some_and(Value::is_object) {
                    parent.push(Segment::Key(last.clone()));
                    places.push(parent);
                }
            }
        } else if self.steps.is_empty() && item.get(&self.field).is_none() {
            places.push(vec![Segment::Key(self.field.clone())]);
        }
        places
            .iter()
            .filter(|at| put(item, at, value.clone()))
            .count()
    }

    /// Takes the path's values out of `item`: keys are removed from their objects, elements
    /// from their arrays.
    pub fn remove(&self, item: &mut Value) {
        // Last first: removing an element moves the ones after it.
        for location in self.locations(item).iter().rev() {
            remove_at(item, location);
        }
    }

    /// Makes the path's values in `item` those of `other` (an item too): places only `item`
    /// has lose their value, places `other` has get its value (where `item` has room for
    /// them: arrays are not grown). `other: None` removes them all.
    pub fn take_from(&self, item: &mut Value, other: Option<&Value>) {
        let theirs: Vec<(Location, Value)> = other
            .map(|other| {
                self.locations(other)
                    .into_iter()
                    .filter_map(|at| {
                        let value = get(other, &at)?.clone();
                        Some((at, value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for location in self.locations(item).iter().rev() {
            if !theirs.iter().any(|(at, _)| at == location) {
                remove_at(item, location);
            }
        }
        for (location, value) in theirs {
            let parent = &location[..location.len() - 1];
            if make_objects(item, parent) {
                put(item, &location, value);
            }
        }
    }
}

fn expand(value: &Value, steps: &[Step], here: &mut Location, out: &mut Vec<Location>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(here.clone());
        return;
    };
    let mut go = |segment: Segment, child: &Value| {
        here.push(segment);
        expand(child, rest, here, out);
        here.pop();
    };
    match (step, value) {
        (Step::Key(key), Value::Object(object)) => {
            if let Some(child) = object.get(key) {
                go(Segment::Key(key.clone()), child);
            }
        }
        (Step::Each, Value::Array(array)) => {
            for (index, child) in array.iter().enumerate() {
                go(Segment::Index(index), child);
            }
        }
        (Step::Each, Value::Object(object)) => {
            for (key, child) in object {
                go(Segment::Key(key.clone()), child);
            }
        }
        (Step::Index(index), Value::Array(array)) => {
            if let Some(child) = array.get(*index) {
                go(Segment::Index(*index), child);
            }
        }
        (Step::Where(conditions), Value::Array(array)) => {
            for (index, child) in array.iter().enumerate() {
                if conditions.iter().all(|c| c.holds(child)) {
                    go(Segment::Index(index), child);
                }
            }
        }
        _ => {}
    }
}

/// The value at a place.
pub fn get<'a>(value: &'a Value, location: &[Segment]) -> Option<&'a Value> {
    location
        .iter()
        .try_fold(value, |value, segment| match segment {
            Segment::Key(key) => value.get(key),
            Segment::Index(index) => value.get(index),
        })
}

pub fn get_mut<'a>(value: &'a mut Value, location: &[Segment]) -> Option<&'a mut Value> {
    location
        .iter()
        .try_fold(value, |value, segment| match segment {
            Segment::Key(key) => value.get_mut(key),
            Segment::Index(index) => value.get_mut(index),
        })
}

/// Makes the objects on the way to `location` (its keys; a missing or null one becomes an
/// empty object). Whether `location` is an object now.
fn make_objects(item: &mut Value, location: &[Segment]) -> bool {
    let mut value = item;
    for segment in location {
        value = match (segment, value) {
            (Segment::Key(key), Value::Object(object)) => {
                let child = object
                    .entry(key.clone())
                    .or_insert_with(|| Value::Object(Default::default()));
                if child.is_null() {
                    *child = Value::Object(Default::default());
                }
                child
            }
            (Segment::Index(index), Value::Array(array)) => match array.get_mut(*index) {
                Some(child) => child,
                None => return false,
            },
            _ => return false,
        };
    }
    value.is_object()
}

/// Sets the value at `location`, whose parent exists; whether it did.
fn put(item: &mut Value, location: &[Segment], value: Value) -> bool {
    let Some((last, parent)) = location.split_last() else {
        return false;
    };
    match (last, get_mut(item, parent)) {
        (Segment::Key(key), Some(Value::Object(object))) => {
            object.insert(key.clone(), value);
            true
        }
        (Segment::Index(index), Some(Value::Array(array))) if *index < array.len() => {
            array[*index] = value;
            true
        }
        _ => false,
    }
}

fn remove_at(item: &mut Value, location: &[Segment]) {
    let Some((last, parent)) = location.split_last() else {
        return;
    };
    match (last, get_mut(item, parent)) {
        (Segment::Key(key), Some(Value::Object(object))) => {
            object.shift_remove(key);
        }
        (Segment::Index(index), Some(Value::Array(array))) if *index < array.len() => {
            array.remove(*index);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> ValuePath {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_the_documented_forms() {
        let p = path("settings.mapbox_key");
        assert_eq!(
            (p.collection.as_str(), p.items.len(), p.field.as_str()),
            ("settings", 0, "mapbox_key")
        );
        assert!(p.steps.is_empty());
        let p = path("operations[type=request].options.headers[*].value");
        assert_eq!(
            p.items,
            [Condition {
                field: "type".into(),
                values: vec!["request".into()],
                fold_case: false
            }]
        );
        assert_eq!(p.field, "options");
        assert_eq!(
            p.steps,
            [
                Step::Key("headers".into()),
                Step::Each,
                Step::Key("value".into())
            ]
        );
        let p = path(r#"flows[name="Sync all", status=active].options.url"#);
        assert_eq!(p.items[0].values, ["Sync all"]);
        assert_eq!(p.items[1].field, "status");
        let p = path("operations[*].options.headers[header~=Authorization|x-api-key].value");
        assert!(p.items.is_empty());
        let Step::Where(conditions) = &p.steps[1] else {
            panic!("{p:?}")
        };
        assert!(conditions[0].fold_case);
        assert_eq!(conditions[0].values, ["Authorization", "x-api-key"]);
        assert_eq!(path("settings.basemaps[0].url").steps[0], Step::Index(0));
    }

    #[test]
    fn refuses_what_it_cannot_read_and_says_where() {
        for (text, at) in [
            ("settings", 9),
            ("settings.", 10),
            ("settings[0].x", 10),
            ("settings.a..b", 12),
            ("flows[name=].x", 12),
            ("flows[name=\"x].y", 12),
            ("flows[name].x", 11),
            ("flows[name=a.x", 15),
            ("settings.a b", 11),
            ("settings._syncId", 17),
        ] {
            let error = text.parse::<ValuePath>().unwrap_err();
            assert_eq!(error.at, at, "{text}: {error}");
            assert!(error.to_string().starts_with(&format!("{text:?}: ")));
        }
    }

    #[test]
    fn reaches_every_place_its_steps_name() {
        let item = json!({"type": "request", "options": {"url": "u", "headers": [
            {"header": "Authorization", "value": "Bearer a"},
            {"header": "Content-Type", "value": "application/json"},
            {"header": "X-Api-Key"}
        ]}});
        let key = |k: &str| Segment::Key(k.into());
        let all = path("operations[type=request].options.headers[*].value");
        assert!(all.selects("operations", &item));
        assert!(!all.selects("flows", &item));
        assert!(!path("operations[type=log].options").selects("operations", &item));
        assert_eq!(
            all.locations(&item),
            [
                vec![
                    key("options"),
                    key("headers"),
                    Segment::Index(0),
                    key("value")
                ],
                vec![
                    key("options"),
                    key("headers"),
                    Segment::Index(1),
                    key("value")
                ],
            ]
        );
        let auth = path("operations.options.headers[header~=authorization].value");
        assert_eq!(auth.locations(&item).len(), 1);
        assert!(
            path("operations.options.nothing")
                .locations(&item)
                .is_empty()
        );
        assert_eq!(path("operations.options[*]").locations(&item).len(), 2);
    }

    #[test]
    fn sets_where_it_reaches_and_makes_what_keys_need() {
        let mut item =
            json!({"options": {"headers": [{"header": "A"}, {"header": "B", "value": "x"}]}});
        let value = json!("v");
        assert_eq!(
            path("operations.options.headers[*].value").set(&mut item, &value),
            2
        );
        assert_eq!(item["options"]["headers"][0]["value"], "v");
        let mut settings = json!({"project_name": "Staging", "basemaps": null});
        path("settings.project_name").set(&mut settings, &json!("Prod"));
        path("settings.module_bar.deep").set(&mut settings, &json!(1));
        path("settings.basemaps.first.url").set(&mut settings, &json!("u"));
        assert_eq!(
            settings,
            json!({"project_name": "Prod", "basemaps": {"first": {"url": "u"}}, "module_bar": {"deep": 1}})
        );
        // Arrays are not grown.
        let mut short = json!({"list": []});
        assert_eq!(path("x.list[3]").set(&mut short, &json!(1)), 0);
        assert_eq!(short, json!({"list": []}));
    }

    #[test]
    fn removes_and_takes_values_from_another_item() {
        let mut item = json!({"a": 1, "options": {"headers": [{"v": 1}, {"v": 2}, {"v": 3}]}});
        path("x.options.headers[*]").remove(&mut item);
        assert_eq!(item, json!({"a": 1, "options": {"headers": []}}));
        path("x.a").remove(&mut item);
        assert_eq!(item, json!({"options": {"headers": []}}));

        let owned = path("settings.project_url");
        let mut dump = json!({"project_name": "S", "project_url": "https://staging"});
        owned.take_from(&mut dump, Some(&json!({"project_url": "https://prod"})));
        assert_eq!(dump["project_url"], "https://prod");
        owned.take_from(&mut dump, Some(&json!({})));
        assert_eq!(dump, json!({"project_name": "S"}));
        let mut created = json!({"project_url": "x", "b": 1});
        owned.take_from(&mut created, None);
        assert_eq!(created, json!({"b": 1}));
        let nested = path("operations.options.url");
        let mut dump = json!({"options": {"url": "https://staging/hook", "method": "POST"}});
        nested.take_from(
            &mut dump,
            Some(&json!({"options": {"url": "https://prod/hook", "method": "GET"}})),
        );
        assert_eq!(
            dump,
            json!({"options": {"url": "https://prod/hook", "method": "POST"}})
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z_][a-z0-9_]{0,8}", "\\PC{1,8}"]
    }

    fn condition() -> impl Strategy<Value = Condition> {
        (
            name(),
            proptest::collection::vec("\\PC{0,6}", 1..3),
            any::<bool>(),
        )
            .prop_map(|(field, values, fold_case)| Condition {
                field,
                values,
                fold_case,
            })
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            name().prop_map(Step::Key),
            Just(Step::Each),
            (0usize..20).prop_map(Step::Index),
            proptest::collection::vec(condition(), 1..3).prop_map(Step::Where),
        ]
    }

    fn value_path() -> impl Strategy<Value = ValuePath> {
        (
            name(),
            proptest::collection::vec(condition(), 0..3),
            name().prop_filter("not an id", |f| f != "_syncId" && f != "id"),
            proptest::collection::vec(step(), 0..4),
        )
            .prop_map(|(collection, items, field, steps)| ValuePath {
                collection,
                items,
                field,
                steps,
            })
    }

    proptest! {
        /// What a path prints reads back as the same path: config files, messages and
        /// placeholder rules all name a path by its text.
        #[test]
        fn printing_reads_back(path in value_path()) {
            let text = path.to_string();
            let parsed: ValuePath = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(parsed, path);
        }

        /// Any text parses or is refused naming a place inside it; never a panic.
        #[test]
        fn any_text_parses_or_names_a_place(text in "\\PC{0,30}") {
            if let Err(error) = text.parse::<ValuePath>() {
                prop_assert!(error.at >= 1 && error.at <= text.chars().count() + 1, "{}", error);
            }
        }

        /// Every place a path reaches holds a value, and setting a value there is seen there.
        #[test]
        fn places_reached_hold_what_is_set(path in value_path(), seed in any::<u64>()) {
            let mut item = sample(seed);
            let value = serde_json::json!("set");
            let before = path.locations(&item);
            for location in &before {
                prop_assert!(get(&item, location).is_some());
            }
            path.set(&mut item, &value);
            for location in path.locations(&item) {
                if before.contains(&location) {
                    prop_assert_eq!(get(&item, &location), Some(&value));
                }
            }
            // An index reaches the element that moves into its place.
            path.remove(&mut item);
            if !path.steps.iter().any(|s| matches!(s, Step::Index(_))) {
                prop_assert!(path.locations(&item).is_empty());
            }
        }
    }

    /// A small item with nesting, arrays and objects, from a seed.
    fn sample(seed: u64) -> Value {
        let n = (seed % 3) as usize;
        serde_json::json!({
            "a": {"b": [{"c": n, "d": "x"}, {"c": 1, "d": "y"}], "e": null},
            "options": {"headers": vec![serde_json::json!({"header": "H", "value": "v"}); n]},
            "x": [1, 2, 3],
        })
    }
}
