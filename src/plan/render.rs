//! The plan as text for people and as JSON for programs.

use super::Plan;
use crate::snapshot::SchemaChangeKind;
use serde_json::{Value, json};
use std::fmt::Write;

fn sign(kind: SchemaChangeKind) -> char {
    match kind {
        SchemaChangeKind::Create => '+',
        SchemaChangeKind::Update => '~',
        SchemaChangeKind::Delete => '-',
    }
}

impl Plan {
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if let Some(schema) = &self.schema {
            let changes = schema.changes();
            out.push_str("schema\n");
            for (part, list) in changes.parts() {
                for change in list {
                    let _ = write!(out, "  {} {part} {}", sign(change.kind), change.name);
                    if !change.paths.is_empty() {
                        let _ = write!(out, ": {}", change.paths.join(", "));
                    }
                    out.push('\n');
                }
            }
        }
        let counts = self.counts();
        let _ = writeln!(
            out,
            "{} to create, {} to update, {} to delete",
            counts.create, counts.update, counts.delete
        );
        out
    }

    pub fn to_json(&self) -> Value {
        json!({
            "schema": self.schema.as_ref().map(|s| s.changes()),
            "summary": self.counts(),
        })
    }
}
