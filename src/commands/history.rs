//! `history <collection> <name|SyncId>`: one item's versions across the commits of a branch,
//! newest first: the commit, its time, the people its pull attributed the item to, and the
//! fields that changed, old → new. Schema items too: `history field articles.title`,
//! `history collection articles`, `history relation articles.author`.

use super::{CommandError, Context, ExitCode, diff::OutputFormat};
use crate::audit::{Attribution, Entry};
use crate::collections::CollectionSpec;
use crate::git::DumpRepo;
use crate::ui;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A tracked collection (`permissions`, `roles`, `flows`…), or a schema part: `collection`,
    /// `field`, `relation`
    #[arg(value_name = "COLLECTION")]
    pub collection: String,
    /// The item: its SyncId (or its first 8+ characters), or its name as `diff` labels it
    /// (`Editor articles.read`, `articles.title`)
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// At most this many versions
    #[arg(short = 'n', long, value_name = "N")]
    pub limit: Option<usize>,
}

/// One version of the item: what a commit changed in it.
#[derive(Debug, Serialize)]
struct Version {
    commit: String,
    time: String,
    summary: String,
    /// `created`, `updated` or `deleted`.
    change: &'static str,
    /// The activity the pull commit recorded for the item (empty: none recorded, or a
    /// commit that is not an attributed pull).
    attributed: Vec<Entry>,
    changes: Vec<FieldChange>,
}

#[derive(Debug, Serialize)]
struct FieldChange {
    field: String,
    old: Option<Value>,
    new: Option<Value>,
}

pub async fn run(context: &Context, args: &Args) -> Result<ExitCode, CommandError> {
    let repo = DumpRepo::require(&context.dump_root())?;
    let subject = Subject::parse(context, &args.collection)?;
    let tip = context.options.branch.as_deref().unwrap_or("HEAD");
    let versions = versions(&repo, &subject, tip, &args.name, args.limit)?;
    ui::print(&render(args, &versions)?)?;
    Ok(ExitCode::Success)
}

/// What is followed: a tracked collection's item (by SyncId, once found), or a schema file.
enum Subject {
    Tracked {
        spec: &'static CollectionSpec,
        file: PathBuf,
    },
    Schema {
        part: &'static str,
        dir: PathBuf,
    },
}

impl Subject {
    fn parse(context: &Context, collection: &str) -> Result<Subject, CommandError> {
        let layout = context.layout();
        if let Some(spec) = crate::collections::spec(collection) {
            return Ok(Subject::Tracked {
                spec,
                file: layout.collection_file(spec.name),
            });
        }
        let part = match collection {
            "collection" | "collections" => "collections",
            "field" | "fields" => "fields",
            "relation" | "relations" => "relations",
            other => {
                return Err(CommandError::user(format!(
                    "{other:?} is neither a tracked collection nor a schema part"
                ))
                .hint(format!(
                    "use one of {}, or collection, field, relation",
                    crate::collections::names().join(", ")
                )));
            }
        };
        if !layout.split {
            return Err(CommandError::user(
                "history of schema items reads the split schema (one file per item); this dump keeps one snapshot.json",
            ));
        }
        Ok(Subject::Schema {
            part,
            dir: layout.snapshot.join(part),
        })
    }
}

/// Walks the first parents from `tip`, newest first, and keeps the commits where the item's
/// content differs from the parent's.
fn versions(
    repo: &DumpRepo,
    subject: &Subject,
    tip: &str,
    name: &str,
    limit: Option<usize>,
) -> Result<Vec<Version>, CommandError> {
    let mut commit = Some(repo.commit(tip)?);
    // A tracked item is found by name once, then followed by SyncId (its name may change).
    let mut sync_id: Option<String> = None;
    let mut found = false;
    let mut versions = Vec::new();
    while let Some(current) = commit {
        let parent = current.parent(0).ok();
        let mut at = |c: &git2::Commit| item_at(repo, subject, c, name, &mut sync_id);
        let new = at(&current);
        let old = parent.as_ref().and_then(&mut at);
        found |= new.is_some() || old.is_some();
        if new != old {
            let message = current.message().ok().unwrap_or_default().to_string();
            let attributed = match &sync_id {
                Some(id) => Attribution::parse(&message)
                    .into_iter()
                    .filter(|item| &item.sync_id == id)
                    .flat_map(|item| item.entries)
                    .collect(),
                None => Vec::new(),
            };
            versions.push(Version {
                commit: current.id().to_string(),
                time: chrono::DateTime::from_timestamp(current.time().seconds(), 0)
                    .unwrap_or_default()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                summary: current
                    .summary()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .to_string(),
                change: match (&old, &new) {
                    (None, _) => "created",
                    (_, None) => "deleted",
                    _ => "updated",
                },
                attributed,
                changes: field_changes(old.as_ref(), new.as_ref()),
            });
            if limit.is_some_and(|limit| versions.len() >= limit) {
                break;
            }
        }
        commit = parent;
    }
    if !found {
        return Err(
            CommandError::user(format!("no item {name:?} in the history of {tip}"))
                .hint("name it by SyncId, or by its label as `diff` prints it"),
        );
    }
    Ok(versions)
}

/// The item as the commit holds it.
fn item_at(
    repo: &DumpRepo,
    subject: &Subject,
    commit: &git2::Commit,
    name: &str,
    sync_id: &mut Option<String>,
) -> Option<Value> {
    let tree = commit.tree().ok()?;
    let read = |path: &std::path::Path| -> Option<Value> {
        let entry = tree.get_path(&repo.dump_path.join(path)).ok()?;
        let blob = repo.repo.find_blob(entry.id()).ok()?;
        serde_json::from_slice(blob.content()).ok()
    };
    match subject {
        Subject::Schema { part, dir } => {
            let (collection, field) = match (*part, name.split_once('.')) {
                ("collections", _) | (_, None) => (name, None),
                (_, Some((collection, field))) => (collection, Some(field)),
            };
            let stem = crate::dump::snapshot::file_stem(collection);
            let path = match field {
                Some(field) => dir
                    .join(stem)
                    .join(format!("{}.json", crate::dump::snapshot::file_stem(field))),
                None => dir.join(format!("{stem}.json")),
            };
            read(&path)
        }
        Subject::Tracked { spec, file } => {
            let Value::Array(items) = read(file)? else {
                return None;
            };
            let id_of = |item: &Value| {
                item.get("_syncId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            if let Some(id) = sync_id.as_deref() {
                return items
                    .into_iter()
                    .find(|item| id_of(item).as_deref() == Some(id));
            }
            let names = |target: &str, id: &str| -> Option<String> {
                let target_spec = crate::collections::spec(target)?;
                let layout_file = file.with_file_name(format!("{target}.json"));
                let Value::Array(targets) = read(&layout_file)? else {
                    return None;
                };
                let item = targets.iter().find(|t| id_of(t).as_deref() == Some(id))?;
                Some(target_spec.label(item, &|_, _| None).as_str().to_string())
            };
            let item = items.into_iter().find(|item| {
                let id = id_of(item).unwrap_or_default();
                let label = spec.label(item, &names);
                id == name
                    || (name.len() >= 8 && id.starts_with(name))
                    || label.as_str() == name
                    || label.to_string() == name
            })?;
            *sync_id = id_of(&item);
            Some(item)
        }
    }
}

/// The leaves that differ, by dotted path (`fields`, `permissions.title._eq`); lists compare
/// whole.
fn field_changes(old: Option<&Value>, new: Option<&Value>) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    walk("", old, new, &mut changes);
    changes
}

fn walk(path: &str, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<FieldChange>) {
    if let (Some(Value::Object(a)), Some(Value::Object(b))) = (old, new) {
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.dedup();
        let mut seen = std::collections::HashSet::new();
        for key in keys {
            if !seen.insert(key) {
                continue;
            }
            let child = match path.is_empty() {
                true => key.clone(),
                false => format!("{path}.{key}"),
            };
            walk(&child, a.get(key), b.get(key), out);
        }
        return;
    }
    if path.is_empty() {
        // A created or deleted item: its top-level fields, each from or to nothing.
        let (side, is_new) = match (old, new) {
            (None, Some(v)) => (v, true),
            (Some(v), None) => (v, false),
            _ => return,
        };
        if let Value::Object(fields) = side {
            for (key, value) in fields {
                out.push(FieldChange {
                    field: key.clone(),
                    old: (!is_new).then(|| value.clone()),
                    new: is_new.then(|| value.clone()),
                });
            }
        }
        return;
    }
    let equal = match (old, new) {
        (Some(a), Some(b)) => crate::json::json_equal(a, b),
        (None, None) => true,
        _ => false,
    };
    if !equal {
        out.push(FieldChange {
            field: path.to_string(),
            old: old.cloned(),
            new: new.cloned(),
        });
    }
}

fn render(args: &Args, versions: &[Version]) -> Result<String, CommandError> {
    if let OutputFormat::Json = args.format {
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(versions).map_err(CommandError::internal)?
        ));
    }
    let shown = |value: &Option<Value>| match value {
        None => "(none)".to_string(),
        Some(value) => crate::text::clip(&value.to_string(), 80),
    };
    let mut text = String::new();
    for version in versions {
        let people: Vec<String> = version
            .attributed
            .iter()
            .map(|entry| format!("{} {} by {}", entry.at, entry.action, entry.by))
            .collect();
        text.push_str(&format!(
            "{}  {}  {}  {}\n",
            &version.commit[..10],
            version.time,
            version.change,
            version.summary
        ));
        match people.is_empty() {
            true => text.push_str("    attributed: no one (no activity recorded for it)\n"),
            false => {
                for line in people {
                    text.push_str(&format!("    attributed: {line}\n"));
                }
            }
        }
        for change in &version.changes {
            text.push_str(&format!(
                "    {}: {} → {}\n",
                change.field,
                shown(&change.old),
                shown(&change.new)
            ));
        }
    }
    Ok(text)
}
