//! The plan as Markdown for a pull-request comment: what would be lost first, a table of
//! counts, then one collapsible section per collection, and a Mermaid picture of every flow
//! the plan creates or changes. Everything is sorted, so that a re-run yields the same text
//! and a bot edits its comment instead of adding one.

use super::render::{short, short_text, shown_changes, shown_values, taken_over};
use super::{Action, DataLoss, ItemChange, Plan};
use crate::collections::natural;
use crate::flows::Flow;
use crate::snapshot::SchemaChangeKind;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

/// The dump's flows and operations (dump form), to draw the flows a plan touches whole:
/// the plan itself holds only the operations that change.
#[derive(Debug, Default, Clone, Copy)]
pub struct FlowItems<'a> {
    pub flows: &'a [Value],
    pub operations: &'a [Value],
}

/// Text shown in a table cell or list item as code: HTML-escaped (`<code>`, not backticks,
/// so that a backtick or a `|` in a value cannot end it).
fn code(text: &str) -> String {
    let mut out = String::from("<code>");
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("&#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push_str("</code>");
    out
}

/// Plain text in Markdown: characters that would start markup are escaped.
fn plain(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn field_change(field: &str, [old, new]: [String; 2]) -> String {
    format!("{} {} → {}", code(field), code(&old), code(&new))
}

/// The plan's data losses, by what the Markdown flags: a schema entry or a role.
#[derive(Default)]
struct Losses {
    collections: HashSet<String>,
    /// `collection.field`.
    fields: HashSet<String>,
    /// (collection, SyncId) of the deleted items that lose data (roles whose users
    /// Directus suspends).
    items: HashSet<(&'static str, String)>,
}

impl Losses {
    fn of(plan: &Plan) -> Losses {
        let mut losses = Losses::default();
        for loss in &plan.data_loss {
            if let Some((collection, sync_id)) = loss.deleted_item() {
                losses.items.insert((collection, sync_id.to_string()));
            }
            match loss {
                DataLoss::DropCollection { collection, .. } => {
                    losses.collections.insert(collection.clone());
                }
                DataLoss::DropField {
                    collection, field, ..
                } => {
                    losses.fields.insert(format!("{collection}.{field}"));
                }
                DataLoss::DeleteRole { .. } => {}
            }
        }
        losses
    }

    /// Whether the schema entry named `name` (`collection` or `collection.field`) loses
    /// data: a dropped column, or a dropped collection and each of its fields.
    fn schema_entry(&self, name: &str) -> bool {
        let collection = name
            .split_once('.')
            .map_or(name, |(collection, _)| collection);
        self.fields.contains(name) || self.collections.contains(collection)
    }

    /// Whether this change deletes an item whose deletion loses data.
    fn item(&self, collection: &str, change: &ItemChange) -> bool {
        matches!(change.action, Action::Delete { .. })
            && self
                .items
                .iter()
                .any(|(c, sync_id)| *c == collection && *sync_id == change.sync_id)
    }
}

fn flag(lossy: bool) -> &'static str {
    match lossy {
        true => " ⚠️ **data loss**",
        false => "",
    }
}

/// `(create, update, delete)` counts of one table row.
type Row = (usize, usize, usize);

impl Plan {
    /// The plan as GitHub/GitLab-flavoured Markdown (see the module's comment).
    pub fn render_markdown(&self, flows: FlowItems<'_>) -> String {
        let mut out = String::from("## directus-sync diff\n\n");
        if self.is_empty() && self.unresolved.is_empty() && self.invalid.is_empty() {
            out.push_str("No changes: the instance matches the dump.\n");
            return self.scrubbed(out);
        }
        self.write_losses(&mut out);
        self.write_table(&mut out);
        for problem in self.unresolved.iter().chain(&self.invalid) {
            let _ = writeln!(out, "- ❗ {}", plain(problem));
        }
        if !self.unresolved.is_empty() || !self.invalid.is_empty() {
            out.push('\n');
        }
        self.write_schema(&mut out);
        self.write_collections(&mut out);
        self.write_flows(&mut out, flows);
        self.scrubbed(out)
    }

    /// Whatever could hold a secret value (a label, a value) names it instead.
    fn scrubbed(&self, out: String) -> String {
        match self.masks.scrub_text(&out) {
            std::borrow::Cow::Borrowed(_) => out,
            std::borrow::Cow::Owned(scrubbed) => scrubbed,
        }
    }

    fn write_losses(&self, out: &mut String) {
        if self.data_loss.is_empty() {
            return;
        }
        out.push_str(
            "> [!CAUTION]\n> **Data loss**: this push destroys what git cannot give back.\n>\n",
        );
        let mut lines: Vec<String> = self.data_loss.iter().map(DataLoss::describe).collect();
        lines.sort();
        for line in lines {
            let _ = writeln!(out, "> - ⚠️ {}", plain(&line));
        }
        out.push('\n');
    }

    fn write_table(&self, out: &mut String) {
        let losses = Losses::of(self);
        let mut rows: Vec<(String, Row, bool)> = Vec::new();
        if let Some(schema) = &self.schema {
            for (part, list) in schema.changes().parts() {
                if list.is_empty() {
                    continue;
                }
                let count = |kind| list.iter().filter(|c| c.kind == kind).count();
                rows.push((
                    format!("schema: {part}s"),
                    (
                        count(SchemaChangeKind::Create),
                        count(SchemaChangeKind::Update),
                        count(SchemaChangeKind::Delete),
                    ),
                    list.iter().any(|c| losses.schema_entry(&c.name)),
                ));
            }
        }
        for collection in &self.collections {
            let counts = collection.counts();
            if counts.total() > 0 {
                let name = collection.spec.name;
                rows.push((
                    name.to_string(),
                    (counts.create, counts.update, counts.delete),
                    collection.items.iter().any(|c| losses.item(name, c)),
                ));
            }
        }
        out.push_str("| | collection | create | update | delete |\n|---|---|--:|--:|--:|\n");
        for (name, (create, update, delete), lossy) in &rows {
            let flag = match lossy {
                true => "⚠️",
                false => "",
            };
            let _ = writeln!(
                out,
                "| {flag} | {} | {create} | {update} | {delete} |",
                plain(name)
            );
        }
        let totals = self.totals();
        let _ = writeln!(out, "\n**{}**\n", plain(&totals.to_string()));
    }

    fn write_schema(&self, out: &mut String) {
        let Some(schema) = &self.schema else {
            return;
        };
        let changes = schema.changes();
        let losses = Losses::of(self);
        for (part, list) in changes.parts() {
            if list.is_empty() {
                continue;
            }
            // What is lost first, where a reviewer looks.
            let mut list: Vec<_> = list.iter().collect();
            list.sort_by(|a, b| {
                (!losses.schema_entry(&a.name))
                    .cmp(&!losses.schema_entry(&b.name))
                    .then_with(|| natural(&a.name, &b.name))
            });
            let lines: Vec<String> = list
                .iter()
                .map(|c| {
                    let flag = flag(losses.schema_entry(&c.name));
                    let edits: Vec<String> = c
                        .edits
                        .iter()
                        .map(|e| {
                            field_change(&e.path, [short(e.old.as_ref()), short(e.new.as_ref())])
                        })
                        .collect();
                    item_line(sign(c.kind), &code(&c.name), flag, &edits)
                })
                .collect();
            details(out, &format!("schema: {part}s"), list.len(), &lines);
        }
    }

    fn write_collections(&self, out: &mut String) {
        let losses = Losses::of(self);
        for collection in &self.collections {
            let counts = collection.counts();
            if counts.total() == 0 {
                continue;
            }
            let name = collection.spec.name;
            let mut items: Vec<&ItemChange> = collection
                .items
                .iter()
                .filter(|c| !taken_over(&c.action))
                .collect();
            items.sort_by(|a, b| {
                (!losses.item(name, a))
                    .cmp(&!losses.item(name, b))
                    .then_with(|| natural(a.label.as_str(), b.label.as_str()))
                    .then_with(|| a.sync_id.cmp(&b.sync_id))
            });
            let lines: Vec<String> = items
                .iter()
                .map(|c| self.item_markdown(name, c, losses.item(name, c)))
                .collect();
            details(out, name, counts.total(), &lines);
        }
    }

    fn item_markdown(&self, collection: &str, change: &ItemChange, lossy: bool) -> String {
        let label = format!("**{}**", plain(change.label.as_str()));
        match &change.action {
            Action::Create => {
                let details: Vec<String> = change
                    .details
                    .iter()
                    .map(|(field, value)| {
                        let value = self.masks.scrub_text(value).into_owned();
                        format!("{} {}", code(field), code(&short_text(value)))
                    })
                    .collect();
                item_line('+', &label, "", &details)
            }
            Action::Update { moved_from, .. } => {
                let mut parts = Vec::new();
                if let Some(old) = moved_from {
                    parts.push(format!("SyncId {} → {}", code(old), code(&change.sync_id)));
                }
                parts.extend(
                    shown_changes(collection, change, &self.masks)
                        .iter()
                        .map(|c| field_change(&c.field, shown_values(c))),
                );
                item_line('~', &label, "", &parts)
            }
            Action::Delete { .. } => item_line('-', &label, flag(lossy), &[]),
        }
    }

    /// The flows to draw: created or updated flows, and the flows whose operations change;
    /// the operations created or updated are highlighted.
    fn touched_flows(&self, items: FlowItems<'_>) -> BTreeMap<String, HashSet<String>> {
        let mut touched: BTreeMap<String, HashSet<String>> = BTreeMap::new();
        for collection in &self.collections {
            for change in &collection.items {
                let changes = match &change.action {
                    Action::Update {
                        changes,
                        moved_from,
                        ..
                    } => !changes.is_empty() || moved_from.is_some(),
                    _ => true,
                };
                if !changes {
                    continue;
                }
                match collection.spec.name {
                    "flows" if !matches!(change.action, Action::Delete { .. }) => {
                        touched.entry(change.sync_id.clone()).or_default();
                    }
                    "operations" => {
                        let Some(Value::String(flow)) = change.item.field("flow") else {
                            continue;
                        };
                        let entry = touched.entry(flow).or_default();
                        if !matches!(change.action, Action::Delete { .. }) {
                            entry.insert(change.sync_id.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        touched.retain(|flow, _| !Flow::find(items.flows, flow).is_empty());
        touched
    }

    fn write_flows(&self, out: &mut String, items: FlowItems<'_>) {
        let touched = self.touched_flows(items);
        let mut drawn: Vec<(Flow, HashSet<String>)> = touched
            .into_iter()
            .filter_map(|(id, changed)| {
                Flow::from_dump(items.flows, items.operations, &id).map(|f| (f, changed))
            })
            .collect();
        if drawn.is_empty() {
            return;
        }
        drawn.sort_by(|(a, _), (b, _)| {
            natural(&a.name, &b.name).then_with(|| a.sync_id.cmp(&b.sync_id))
        });
        let _ = writeln!(out, "### Flows\n");
        for (flow, changed) in drawn {
            let highlight = match changed.len() {
                0 => String::new(),
                1 => " (changed operation highlighted)".to_string(),
                _ => " (changed operations highlighted)".to_string(),
            };
            let _ = writeln!(
                out,
                "#### {}{highlight}\n\n```mermaid\n{}```\n",
                plain(&flow.name),
                flow.mermaid(&changed)
            );
        }
    }
}

fn sign(kind: SchemaChangeKind) -> char {
    match kind {
        SchemaChangeKind::Create => '+',
        SchemaChangeKind::Update => '~',
        SchemaChangeKind::Delete => '-',
    }
}

/// One list item: `➕ label`, its changes after a colon when one, as a nested list when more.
fn item_line(sign: char, label: &str, flag: &str, changes: &[String]) -> String {
    let mark = match sign {
        '+' => "➕",
        '~' => "✏️",
        _ => "➖",
    };
    match changes {
        [] => format!("- {mark} {label}{flag}"),
        [one] => format!("- {mark} {label}{flag}: {one}"),
        many => {
            let mut line = format!("- {mark} {label}{flag}");
            for change in many {
                line.push_str(&format!("\n  - {change}"));
            }
            line
        }
    }
}

/// A collapsible section: `<details>` with the group's name and count in its summary.
fn details(out: &mut String, name: &str, count: usize, lines: &[String]) {
    let changes = match count {
        1 => "1 change".to_string(),
        n => format!("{n} changes"),
    };
    let _ = writeln!(
        out,
        "<details><summary><b>{}</b> ({changes})</summary>\n",
        plain(name)
    );
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    out.push_str("\n</details>\n\n");
}
