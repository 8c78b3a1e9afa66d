//! Flows as pictures: a flow's trigger and its operations, linked by their resolve and
//! reject paths, drawn as Mermaid (rendered by GitHub and GitLab) or Graphviz dot.

use serde_json::Value;
use std::collections::{BTreeSet, HashSet};

/// One flow of a dump: its items in dump form (references are SyncIds).
#[derive(Debug, Clone)]
pub struct Flow {
    pub sync_id: String,
    pub name: String,
    pub trigger: String,
    /// The SyncId of the operation the trigger starts.
    pub first: Option<String>,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub sync_id: String,
    pub label: String,
    pub kind: String,
    pub resolve: Option<String>,
    pub reject: Option<String>,
}

fn text(item: &Value, field: &str) -> Option<String> {
    item.get(field).and_then(Value::as_str).map(str::to_string)
}

/// A name to show: a blank one would draw an empty box, which names nothing.
fn shown(item: &Value, field: &str) -> Option<String> {
    text(item, field).filter(|name| !name.trim().is_empty())
}

impl Flow {
    /// The flow with this SyncId among `flows`, with its operations among `operations` in
    /// the order a run meets them (see [`path_order`]).
    pub fn from_dump(flows: &[Value], operations: &[Value], sync_id: &str) -> Option<Flow> {
        let flow = flows
            .iter()
            .find(|f| text(f, "_syncId").as_deref() == Some(sync_id))?;
        let mut operations: Vec<Operation> = operations
            .iter()
            .filter(|o| text(o, "flow").as_deref() == Some(sync_id))
            .map(|o| {
                let sync_id = text(o, "_syncId").unwrap_or_default();
                Operation {
                    label: shown(o, "name")
                        .or_else(|| shown(o, "key"))
                        .unwrap_or_else(|| sync_id.clone()),
                    sync_id,
                    kind: text(o, "type").unwrap_or_default(),
                    resolve: text(o, "resolve"),
                    reject: text(o, "reject"),
                }
            })
            .collect();
        let first = text(flow, "operation");
        path_order(&mut operations, first.as_deref());
        Some(Flow {
            sync_id: sync_id.to_string(),
            name: shown(flow, "name").unwrap_or_else(|| sync_id.to_string()),
            trigger: text(flow, "trigger").unwrap_or_else(|| "manual".to_string()),
            first,
            operations,
        })
    }

    /// The SyncIds of the flows called `name`, or the one whose SyncId is `name`.
    pub fn find(flows: &[Value], name: &str) -> Vec<String> {
        let by_id: Vec<String> = flows
            .iter()
            .filter_map(|f| text(f, "_syncId"))
            .filter(|id| id == name)
            .collect();
        if !by_id.is_empty() {
            return by_id;
        }
        flows
            .iter()
            .filter(|f| text(f, "name").as_deref() == Some(name))
            .filter_map(|f| text(f, "_syncId"))
            .collect()
    }

    /// Node ids by position, never from data: SyncIds and names may hold anything.
    fn node(&self, sync_id: &str) -> Option<String> {
        self.operations
            .iter()
            .position(|o| o.sync_id == sync_id)
            .map(|i| format!("op{i}"))
    }

    /// `(from, to, resolve?)` edges between known nodes, trigger first; a link to an
    /// operation outside the flow is left out (the dump's checks report it).
    fn edges(&self) -> Vec<(String, String, bool)> {
        let mut edges = Vec::new();
        if let Some(first) = self.first.as_deref().and_then(|id| self.node(id)) {
            edges.push(("trigger".to_string(), first, true));
        }
        for (i, operation) in self.operations.iter().enumerate() {
            let from = format!("op{i}");
            let links = [(&operation.resolve, true), (&operation.reject, false)];
            for (target, resolve) in links {
                if let Some(to) = target.as_deref().and_then(|id| self.node(id)) {
                    edges.push((from.clone(), to, resolve));
                }
            }
        }
        edges
    }

    /// A Mermaid flowchart: the trigger as a rounded node, operations as boxes labelled with
    /// their name and type, resolve edges solid, reject edges dotted, the operations whose
    /// SyncId is in `changed` highlighted.
    pub fn mermaid(&self, changed: &HashSet<String>) -> String {
        let mut out = String::from("flowchart LR\n");
        out.push_str(&format!(
            "  trigger([\"{}\"])\n",
            mermaid_text(&format!("{} · {}", self.trigger, self.name))
        ));
        for (i, operation) in self.operations.iter().enumerate() {
            out.push_str(&format!(
                "  op{i}[\"{}<br/><small>{}</small>\"]\n",
                mermaid_text(&operation.label),
                mermaid_text(&operation.kind)
            ));
        }
        for (from, to, resolve) in self.edges() {
            match resolve {
                true => out.push_str(&format!("  {from} -->|resolve| {to}\n")),
                false => out.push_str(&format!("  {from} -.->|reject| {to}\n")),
            }
        }
        let highlighted: BTreeSet<String> = changed.iter().filter_map(|id| self.node(id)).collect();
        if !highlighted.is_empty() {
            out.push_str("  classDef changed fill:#fff3b0,stroke:#d4a000,stroke-width:2px\n");
            let list: Vec<String> = highlighted.into_iter().collect();
            out.push_str(&format!("  class {} changed\n", list.join(",")));
        }
        out
    }

    /// The same picture in Graphviz dot.
    pub fn dot(&self, changed: &HashSet<String>) -> String {
        let mut out = String::from("digraph flow {\n  rankdir=LR;\n  node [shape=box];\n");
        out.push_str(&format!(
            "  trigger [shape=oval, label=\"{}\"];\n",
            dot_text(&format!("{} · {}", self.trigger, self.name))
        ));
        for (i, operation) in self.operations.iter().enumerate() {
            let style = match changed.contains(&operation.sync_id) {
                true => ", style=filled, fillcolor=\"#fff3b0\"",
                false => "",
            };
            out.push_str(&format!(
                "  op{i} [label=\"{}\\n{}\"{style}];\n",
                dot_text(&operation.label),
                dot_text(&operation.kind)
            ));
        }
        for (from, to, resolve) in self.edges() {
            match resolve {
                true => out.push_str(&format!("  {from} -> {to} [label=\"resolve\"];\n")),
                false => out.push_str(&format!(
                    "  {from} -> {to} [label=\"reject\", style=dashed, color=red];\n"
                )),
            }
        }
        out.push_str("}\n");
        out
    }
}

/// Sorts `operations` the way a run meets them from `first`, resolve path before reject
/// path, then those no path reaches by label. Neither the dump's order nor SyncIds (new on
/// every instance a flow is pulled from) decide, so the same flow is drawn the same way.
fn path_order(operations: &mut Vec<Operation>, first: Option<&str>) {
    operations.sort_by(|a, b| {
        a.label
            .cmp(&b.label)
            .then_with(|| a.sync_id.cmp(&b.sync_id))
    });
    let mut ordered = Vec::with_capacity(operations.len());
    let mut pending: Vec<String> = first.into_iter().map(str::to_string).collect();
    while let Some(id) = pending.pop() {
        let Some(at) = operations.iter().position(|o| o.sync_id == id) else {
            continue; // met before, or outside the flow
        };
        let operation = operations.remove(at);
        pending.extend(operation.reject.clone());
        pending.extend(operation.resolve.clone());
        ordered.push(operation);
    }
    ordered.append(operations);
    *operations = ordered;
}

/// Text inside a quoted Mermaid label: quotes and markup as entity codes, which Mermaid
/// decodes (`#quot;`), so that no name can end the label or open a tag.
fn mermaid_text(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn dot_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flow() -> Flow {
        let flows = [
            json!({"name": "Notify \"editors\"", "trigger": "event", "operation": "o-1", "_syncId": "f-1"}),
        ];
        let operations = [
            json!({"name": "Check <status>", "key": "check", "type": "condition", "flow": "f-1", "resolve": "o-2", "reject": "o-3", "_syncId": "o-1"}),
            json!({"name": "Send mail", "key": "mail", "type": "mail", "flow": "f-1", "resolve": null, "reject": null, "_syncId": "o-2"}),
            json!({"name": " ", "key": "log", "type": "log", "flow": "f-1", "resolve": null, "reject": null, "_syncId": "o-3"}),
            json!({"name": "Elsewhere", "key": "x", "type": "log", "flow": "f-2", "_syncId": "o-9"}),
        ];
        Flow::from_dump(&flows, &operations, "f-1").unwrap()
    }

    #[test]
    fn mermaid_draws_trigger_operations_edges_and_highlights() {
        let changed = HashSet::from(["o-2".to_string()]);
        insta::assert_snapshot!(flow().mermaid(&changed), @r##"
        flowchart LR
          trigger(["event · Notify #quot;editors#quot;"])
          op0["Check #lt;status#gt;<br/><small>condition</small>"]
          op1["Send mail<br/><small>mail</small>"]
          op2["log<br/><small>log</small>"]
          trigger -->|resolve| op0
          op0 -->|resolve| op1
          op0 -.->|reject| op2
          classDef changed fill:#fff3b0,stroke:#d4a000,stroke-width:2px
          class op1 changed
        "##);
    }

    #[test]
    fn dot_draws_the_same_graph() {
        insta::assert_snapshot!(flow().dot(&HashSet::new()), @r#"
        digraph flow {
          rankdir=LR;
          node [shape=box];
          trigger [shape=oval, label="event · Notify \"editors\""];
          op0 [label="Check <status>\ncondition"];
          op1 [label="Send mail\nmail"];
          op2 [label="log\nlog"];
          trigger -> op0 [label="resolve"];
          op0 -> op1 [label="resolve"];
          op0 -> op2 [label="reject", style=dashed, color=red];
        }
        "#);
    }

    #[test]
    fn operations_come_in_path_order_whatever_their_sync_ids() {
        let flows = [json!({"name": "F", "trigger": "manual", "operation": "z", "_syncId": "f"})];
        let operations = [
            json!({"name": "Second", "flow": "f", "resolve": "y", "reject": null, "_syncId": "a"}),
            json!({"name": "Unreached", "flow": "f", "_syncId": "0"}),
            json!({"name": "On failure", "flow": "f", "resolve": null, "reject": null, "_syncId": "b"}),
            json!({"name": "First", "flow": "f", "resolve": "a", "reject": "b", "_syncId": "z"}),
            json!({"name": "Third, loops back", "flow": "f", "resolve": "z", "_syncId": "y"}),
        ];
        let flow = Flow::from_dump(&flows, &operations, "f").unwrap();
        let labels: Vec<&str> = flow.operations.iter().map(|o| o.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "First",
                "Second",
                "Third, loops back",
                "On failure",
                "Unreached"
            ]
        );
    }

    #[test]
    fn flows_are_found_by_sync_id_or_name() {
        let flows = [
            json!({"name": "A", "_syncId": "f-1"}),
            json!({"name": "f-1x", "_syncId": "f-2"}),
        ];
        assert_eq!(Flow::find(&flows, "f-1"), ["f-1"]);
        assert_eq!(Flow::find(&flows, "f-1x"), ["f-2"]);
        assert!(Flow::find(&flows, "none").is_empty());
    }
}
