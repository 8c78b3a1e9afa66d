//! The plan as text for people and as JSON for programs.

use super::{Action, FieldChange, Plan};
use crate::snapshot::SchemaChangeKind;
use serde_json::{Value, json};
use std::fmt::Write;

/// Longest value shown inline in text output.
const VALUE_WIDTH: usize = 60;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, sign: char, text: &str) -> String {
        let code = match sign {
            '+' => "32",
            '~' => "33",
            '-' => "31",
            _ => "2",
        };
        if self.color {
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

fn short(value: Option<&Value>) -> String {
    let text = match value {
        None => "(unset)".to_string(),
        Some(value) => value.to_string(),
    };
    match text.char_indices().nth(VALUE_WIDTH) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn describe_changes(changes: &[FieldChange]) -> String {
    changes
        .iter()
        .map(|c| {
            format!(
                "{} {} → {}",
                c.field,
                short(c.old.as_ref()),
                short(Some(&c.new))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Plan {
    /// One line per change, then the summary line. `color` adds ANSI colors.
    pub fn render_text(&self, color: bool) -> String {
        let style = Style { color };
        let mut out = String::new();
        if let Some(schema) = &self.schema {
            for (part, list) in schema.changes().parts() {
                for change in list {
                    let sign = schema_sign(change.kind);
                    let mut line = format!("{sign} {part} {}", change.name);
                    if !change.paths.is_empty() {
                        let _ = write!(line, ": {}", change.paths.join(", "));
                    }
                    let _ = writeln!(out, "{}", style.paint(sign, &line));
                }
            }
        }
        for collection in &self.collections {
            let name = collection.spec.name;
            for change in &collection.items {
                let line = match &change.action {
                    Action::Create => format!("+ {name} {}", change.label),
                    Action::Update {
                        changes,
                        adopt: true,
                        ..
                    } if changes.is_empty() => {
                        format!("= {name} {}: already there, will be tracked", change.label)
                    }
                    Action::Update {
                        changes,
                        adopt,
                        moved_from,
                        ..
                    } => {
                        let adopted = if *adopt {
                            " (untracked item, will be tracked)"
                        } else {
                            ""
                        };
                        let mut parts = Vec::new();
                        if let Some(old) = moved_from {
                            parts.push(format!("SyncId {old} → {}", change.sync_id));
                        }
                        if !changes.is_empty() {
                            parts.push(describe_changes(changes));
                        }
                        format!("~ {name} {}: {}{adopted}", change.label, parts.join(", "))
                    }
                    Action::Delete { .. } => format!("- {name} {}", change.label),
                };
                let sign = line.chars().next().unwrap_or(' ');
                let _ = writeln!(out, "{}", style.paint(sign, &line));
            }
            if !collection.dangling.is_empty() {
                let line = format!(
                    "  {name}: {} at deleted items (removed on push)",
                    match collection.dangling.len() {
                        1 => "1 id-map row points".to_string(),
                        n => format!("{n} id-map rows point"),
                    }
                );
                let _ = writeln!(out, "{}", style.paint(' ', &line));
            }
        }
        for problem in self.unresolved.iter().chain(&self.invalid) {
            let _ = writeln!(out, "! {problem}");
        }
        for loss in &self.data_loss {
            let line = format!("! data loss: {}", loss.describe());
            let _ = writeln!(out, "{}", style.paint('-', &line));
        }
        let _ = writeln!(out, "{}", self.totals());
        out
    }

    pub fn to_json(&self) -> Value {
        let collections: Vec<Value> = self
            .collections
            .iter()
            .filter(|c| !c.items.is_empty() || !c.dangling.is_empty())
            .map(|c| {
                json!({
                    "collection": c.spec.name,
                    "changes": c.items,
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
        json!({
            "schema": self.schema.as_ref().map(|s| s.changes()),
            "collections": collections,
            "unresolved": self.unresolved,
            "invalid": self.invalid,
            "dataLoss": self.data_loss,
            "leftOut": self.left_out,
            "summary": summary,
        })
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
