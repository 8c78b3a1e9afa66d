//! The plan as text for people and as JSON for programs.

use super::{Action, FieldChange, ItemChange, Plan};
use crate::collections::natural;
use crate::snapshot::SchemaChangeKind;
use crate::values::Masks;
use serde_json::{Value, json};
use std::fmt::Write;

/// Longest value shown inline in text output.
const VALUE_WIDTH: usize = 60;

/// How far item lines are indented under their group's header, and their details under them.
const ITEM: &str = "  ";
const DETAIL: &str = "      ";

struct Style {
    color: bool,
}

impl Style {
    /// `+` green, `~` yellow, `-` red, `#` (headers) bold, `=` and ` ` (bookkeeping) dim,
    /// anything else (`!` problems, the summary) as it is.
    fn paint(&self, sign: char, text: &str) -> String {
        let code = match sign {
            '+' => "32",
            '~' => "33",
            '-' => "31",
            '#' => "1",
            '=' | ' ' => "2",
            _ => "",
        };
        if self.color && !code.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn schema_sign(kind: SchemaChangeKind) -> char {
    match kind {
        SchemaChangeKind::Create => '+',
        SchemaChangeKind::Update => '~',
        SchemaChangeKind::Delete => '-',
    }
}

/// A value cut to [`VALUE_WIDTH`] characters.
pub(super) fn short_text(text: String) -> String {
    match text.char_indices().nth(VALUE_WIDTH) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

pub(super) fn short(value: Option<&Value>) -> String {
    short_text(match value {
        None => "(unset)".to_string(),
        Some(value) => value.to_string(),
    })
}

/// `what old → new`.
fn change_text(what: &str, old: Option<&Value>, new: Option<&Value>) -> String {
    format!("{what} {} → {}", short(old), short(new))
}

/// A change's old and new value as shown: a relation's target by its name when it has one.
pub(super) fn shown_values(change: &FieldChange) -> [String; 2] {
    let [old_name, new_name] = &change.targets;
    let show = |value: Option<&Value>, name: &Option<String>| match name {
        Some(name) => short_text(format!("{name:?}")),
        None => short(value),
    };
    [
        show(change.old.as_ref(), old_name),
        show(Some(&change.new), new_name),
    ]
}

/// ` (1 to create, 2 to update)`: what a group's lines add up to, zeros left out.
fn group_counts(parts: &[(usize, &str)]) -> String {
    let parts: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    match parts.is_empty() {
        true => String::new(),
        false => format!(" ({})", parts.join(", ")),
    }
}

/// The lines of one change: `sign head`, with one change on the same line (`head: change`)
/// and several on lines of their own below it.
fn change_lines(sign: char, head: &str, suffix: &str, changes: &[String]) -> Vec<String> {
    match changes {
        [] => vec![format!("{ITEM}{sign} {head}{suffix}")],
        [one] => vec![format!("{ITEM}{sign} {head}: {one}{suffix}")],
        many => std::iter::once(format!("{ITEM}{sign} {head}{suffix}"))
            .chain(many.iter().map(|change| format!("{DETAIL}{change}")))
            .collect(),
    }
}

/// An untracked live item taken over as it is: bookkeeping, no change of the instance.
pub(super) fn taken_over(action: &Action) -> bool {
    matches!(action, Action::Update { changes, adopt: true, moved_from: None, .. } if changes.is_empty())
}

/// The field changes of an update as they may be shown: secrets as their placeholders, the
/// instance's values at secret paths as `***` (see [`Masks`]).
pub(super) fn shown_changes(
    collection: &str,
    change: &ItemChange,
    masks: &Masks,
) -> Vec<FieldChange> {
    let Action::Update { changes, .. } = &change.action else {
        return Vec::new();
    };
    // The paths choose items by their dump form (`operations[type=request]`).
    let item = masks.covers(collection).then(|| change.item.value());
    let show = |field: &str, value: &Value| masks.show(collection, item.as_ref(), field, value);
    changes
        .iter()
        .map(|c| FieldChange {
            field: c.field.clone(),
            old: c.old.as_ref().map(|old| show(&c.field, old)),
            new: show(&c.field, &c.new),
            targets: c.targets.clone(),
        })
        .collect()
}

/// One item's lines, its sign first.
fn item_lines(collection: &str, change: &ItemChange, masks: &Masks) -> (char, Vec<String>) {
    let label = &change.label;
    if taken_over(&change.action) {
        let line = format!("{ITEM}= {label}: already there, will be tracked");
        return ('=', vec![line]);
    }
    match &change.action {
        Action::Create => {
            let mut lines = vec![format!("{ITEM}+ {label}")];
            lines.extend(change.details.iter().map(|(field, value)| {
                let value = masks.scrub_text(value).into_owned();
                format!("{DETAIL}{field}: {}", short_text(value))
            }));
            ('+', lines)
        }
        Action::Update {
            adopt, moved_from, ..
        } => {
            let changes = shown_changes(collection, change, masks);
            let suffix = match adopt {
                true => " (untracked item, will be tracked)",
                false => "",
            };
            let mut parts = Vec::new();
            if let Some(old) = moved_from {
                parts.push(format!("SyncId {old} → {}", change.sync_id));
            }
            parts.extend(changes.iter().map(|c| {
                let [old, new] = shown_values(c);
                format!("{} {old} → {new}", c.field)
            }));
            ('~', change_lines('~', &label.to_string(), suffix, &parts))
        }
        Action::Delete { .. } => ('-', vec![format!("{ITEM}- {label}")]),
    }
}

impl Plan {
    /// The plan for people: a group per schema part (collections, fields, relations), then
    /// per collection in push order, each under a header with its counts and sorted by name;
    /// then the problems, then the summary line. `color` adds ANSI colors.
    pub fn render_text(&self, color: bool) -> String {
        let style = Style { color };
        let mut out = String::new();
        let mut write = |sign: char, line: &str| {
            let _ = writeln!(out, "{}", style.paint(sign, line));
        };
        if let Some(schema) = &self.schema {
            for (part, list) in schema.changes().parts() {
                if list.is_empty() {
                    continue;
                }
                let count = |kind| list.iter().filter(|c| c.kind == kind).count();
                let counts = group_counts(&[
                    (count(SchemaChangeKind::Create), "to create"),
                    (count(SchemaChangeKind::Update), "to update"),
                    (count(SchemaChangeKind::Delete), "to delete"),
                ]);
                write('#', &format!("schema {part}s{counts}"));
                let mut list: Vec<_> = list.iter().collect();
                list.sort_by(|a, b| natural(&a.name, &b.name));
                for change in list {
                    let sign = schema_sign(change.kind);
                    let edits: Vec<String> = change
                        .edits
                        .iter()
                        .map(|e| change_text(&e.path, e.old.as_ref(), e.new.as_ref()))
                        .collect();
                    for line in change_lines(sign, &change.name, "", &edits) {
                        write(sign, &line);
                    }
                }
            }
        }
        for collection in &self.collections {
            if collection.items.is_empty() && collection.dangling.is_empty() {
                continue;
            }
            let counts = collection.counts();
            let tracked = collection
                .items
                .iter()
                .filter(|c| taken_over(&c.action))
                .count();
            let dangling = collection.dangling.len();
            let counts = group_counts(&[
                (counts.create, "to create"),
                (counts.update, "to update"),
                (counts.delete, "to delete"),
                (tracked, "to track"),
            ]);
            write('#', &format!("{}{counts}", collection.spec.name));
            let mut items: Vec<&ItemChange> = collection.items.iter().collect();
            items.sort_by(|a, b| {
                natural(a.label.as_str(), b.label.as_str()).then_with(|| a.sync_id.cmp(&b.sync_id))
            });
            for change in items {
                let (sign, lines) = item_lines(collection.spec.name, change, &self.masks);
                for line in lines {
                    write(sign, &line);
                }
            }
            if dangling > 0 {
                let (rows, point) = match dangling {
                    1 => ("row points", "item"),
                    _ => ("rows point", "items"),
                };
                write(
                    ' ',
                    &format!("{ITEM}{dangling} id-map {rows} at deleted {point} (removed on push)"),
                );
            }
        }
        for problem in self.unresolved.iter().chain(&self.invalid) {
            write('!', &format!("! {problem}"));
        }
        for loss in &self.data_loss {
            write('-', &format!("! data loss: {}", loss.describe()));
        }
        write('!', &self.totals().to_string());
        // Whatever else could hold a secret value (a label, a problem) names it instead.
        let scrubbed = match self.masks.scrub_text(&out) {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(scrubbed) => Some(scrubbed),
        };
        scrubbed.unwrap_or(out)
    }

    pub fn to_json(&self) -> Value {
        let collections: Vec<Value> = self
            .collections
            .iter()
            .filter(|c| !c.items.is_empty() || !c.dangling.is_empty())
            .map(|c| {
                let mut changes = serde_json::to_value(&c.items).unwrap_or_default();
                for (json, change) in changes.as_array_mut().into_iter().flatten().zip(&c.items) {
                    if matches!(change.action, Action::Update { .. }) {
                        let shown = shown_changes(c.spec.name, change, &self.masks);
                        json["changes"] = serde_json::to_value(shown).unwrap_or_default();
                    }
                }
                json!({
                    "collection": c.spec.name,
                    "changes": changes,
                    "dangling": c.dangling,
                    "summary": c.counts(),
                })
            })
            .collect();
        let totals = self.totals();
        let summary = json!({
            "schema": totals.schema,
            "create": totals.items.create,
            "update": totals.items.update,
            "delete": totals.items.delete,
        });
        let mut plan = json!({
            "schema": self.schema.as_ref().map(|s| s.changes()),
            "collections": collections,
            "unresolved": self.unresolved,
            "invalid": self.invalid,
            "dataLoss": self.data_loss,
            "leftOut": self.left_out,
            "summary": summary,
        });
        self.masks.scrub(&mut plan);
        plan
    }

    /// Says, once per command, which differences are left out because a push cannot make
    /// them here: not changes, but worth knowing (a uuid that SQLite keeps as a string will
    /// compare as one everywhere the dump goes next; settings a rollback leaves as they are).
    pub fn note_left_out(&self) {
        if self.left_out.is_empty() {
            return;
        }
        tracing::info!(
            "note: left out {} differences a push cannot make on this instance:\n  {}",
            self.left_out.len(),
            self.left_out.join("\n  ")
        );
    }
}
