//! Who changed what in Directus: the instance's activity log (`directus_activity`) since a
//! time, read in one paged request, and the attribution a pull commit carries in its body
//! (written here, parsed back by `history` and `log`).
//!
//! The tool's own writes are told apart by the `User-Agent` Directus records with every
//! activity row (`user_agent`): every request of the tool sends `directus-sync/<version>`, so
//! a push is never attributed to the token's user as if it had been edited by hand.

use crate::directus::{Client, DirectusError};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

/// The `User-Agent` prefix of the tool's requests (see `directus::Client::new`).
pub const TOOL_AGENT: &str = "directus-sync/";

/// A person, as Directus knows the user who acted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Person {
    pub name: String,
    pub email: String,
}

impl std::fmt::Display for Person {
    /// `Name <email>`, as git's `Co-authored-by` wants it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} <{}>", self.name, self.email)
    }
}

impl Person {
    /// `Name <email>` back into a person.
    pub fn parse(text: &str) -> Option<Person> {
        let (name, rest) = text.trim().rsplit_once(" <")?;
        let email = rest.strip_suffix('>')?;
        Some(Person {
            name: name.trim().to_string(),
            email: email.to_string(),
        })
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Person(Person),
    /// A request of directus-sync itself (a push, a pull tracking new items).
    Tool,
    /// No user (a deleted one, or a public or flow-made change).
    Unknown,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Person(person) => person.fmt(f),
            Actor::Tool => f.write_str(TOOL_WORDS),
            Actor::Unknown => f.write_str(UNKNOWN_WORDS),
        }
    }
}

const TOOL_WORDS: &str = "directus-sync (its own push)";
const UNKNOWN_WORDS: &str = "no known user";

/// One row of `directus_activity`.
#[derive(Debug, Clone)]
pub struct Activity {
    /// `create`, `update` or `delete`.
    pub action: String,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// The system collection, `directus_permissions`.
    pub collection: String,
    /// The item's primary key, as text.
    pub item: String,
}

/// The actions that change configuration (logins and comments do not).
const ACTIONS: &str = "create,update,delete";

/// The activity on `collections` (system collection names) after `since`, oldest first: one
/// request (paged by the client only past the server's page limit), its fields limited to
/// what attribution needs.
pub async fn read_since(
    client: &Client,
    since: DateTime<Utc>,
    collections: &[String],
) -> Result<Vec<Activity>, DirectusError> {
    if collections.is_empty() {
        return Ok(Vec::new());
    }
    let params = vec![
        (
            "filter[timestamp][_gt]".to_string(),
            since.to_rfc3339_opts(SecondsFormat::Millis, true),
        ),
        ("filter[collection][_in]".to_string(), collections.join(",")),
        ("filter[action][_in]".to_string(), ACTIONS.to_string()),
        (
            "fields".to_string(),
            "action,timestamp,user_agent,collection,item,user.email,user.first_name,user.last_name"
                .to_string(),
        ),
        ("sort".to_string(), "id".to_string()),
    ];
    let rows = client.list("/activity", params).await?;
    Ok(rows.iter().filter_map(Activity::of).collect())
}

impl Activity {
    fn of(row: &Value) -> Option<Activity> {
        let text = |value: Option<&Value>| match value {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let at = DateTime::parse_from_rfc3339(&text(row.get("timestamp"))?)
            .ok()?
            .with_timezone(&Utc);
        let agent = text(row.get("user_agent")).unwrap_or_default();
        let actor = match row.get("user") {
            _ if agent.starts_with(TOOL_AGENT) => Actor::Tool,
            Some(user @ Value::Object(_)) => {
                let part = |key: &str| text(user.get(key)).unwrap_or_default();
                let email = part("email");
                let name = format!("{} {}", part("first_name"), part("last_name"))
                    .trim()
                    .to_string();
                Actor::Person(Person {
                    name: if name.is_empty() { email.clone() } else { name },
                    email,
                })
            }
            _ => Actor::Unknown,
        };
        Some(Activity {
            action: text(row.get("action"))?,
            at,
            actor,
            collection: text(row.get("collection"))?,
            item: text(row.get("item"))?,
        })
    }
}

/// One changed item of a pull and the activity on it.
#[derive(Debug, Clone)]
pub struct ItemAttribution {
    /// The tracked collection (`permissions`).
    pub collection: String,
    pub sync_id: String,
    /// The item's label, for people reading the commit.
    pub label: String,
    pub entries: Vec<Entry>,
}

/// One line of an item's attribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub at: String,
    pub action: String,
    /// `None`: the tool's own push or no known user.
    pub person: Option<Person>,
    /// The words of the line after `by` (a person, the tool, or no known user).
    pub by: String,
}

/// The attribution section of a pull commit.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    pub since: Option<DateTime<Utc>>,
    pub items: Vec<ItemAttribution>,
}

const HEADING: &str = "Changed in Directus (directus_activity since ";

impl Attribution {
    /// The people attributed, each once, sorted.
    pub fn people(&self) -> Vec<Person> {
        let mut people: Vec<Person> = self
            .items
            .iter()
            .flat_map(|item| item.entries.iter().filter_map(|e| e.person.clone()))
            .collect();
        people.sort();
        people.dedup();
        people
    }

    /// The commit body's section: a heading, then per item a line naming it and one line per
    /// activity. An item the log says nothing about says so (a change made in the database,
    /// or before the log was kept).
    pub fn body(&self) -> Option<String> {
        let since = self.since?;
        if self.items.is_empty() {
            return None;
        }
        let mut lines = vec![format!(
            "{HEADING}{}):",
            since.to_rfc3339_opts(SecondsFormat::Millis, true)
        )];
        for item in &self.items {
            lines.push(format!(
                "{} {} (sync {}):",
                item.collection, item.label, item.sync_id
            ));
            if item.entries.is_empty() {
                lines.push("  no activity recorded".to_string());
            }
            for entry in &item.entries {
                lines.push(format!("  {} {} by {}", entry.at, entry.action, entry.by));
            }
        }
        Some(lines.join("\n"))
    }

    /// Builds an item's entries from the activity on its local id.
    pub fn entries<'a>(activity: impl Iterator<Item = &'a Activity>) -> Vec<Entry> {
        activity
            .map(|activity| Entry {
                at: activity.at.to_rfc3339_opts(SecondsFormat::Secs, true),
                action: activity.action.clone(),
                person: match &activity.actor {
                    Actor::Person(person) => Some(person.clone()),
                    _ => None,
                },
                by: activity.actor.to_string(),
            })
            .collect()
    }

    /// The attribution a commit message holds (empty when it has none).
    pub fn parse(message: &str) -> Vec<ItemAttribution> {
        let mut items: Vec<ItemAttribution> = Vec::new();
        let mut inside = false;
        for line in message.lines() {
            if line.starts_with(HEADING) {
                inside = true;
                continue;
            }
            if !inside {
                continue;
            }
            if let Some(entry) = line.strip_prefix("  ") {
                let Some(item) = items.last_mut() else {
                    continue;
                };
                let mut words = entry.splitn(3, ' ');
                let (Some(at), Some(action), Some(rest)) =
                    (words.next(), words.next(), words.next())
                else {
                    continue;
                };
                let Some(by) = rest.strip_prefix("by ") else {
                    continue;
                };
                item.entries.push(Entry {
                    at: at.to_string(),
                    action: action.to_string(),
                    person: Person::parse(by).filter(|_| by != TOOL_WORDS),
                    by: by.to_string(),
                });
                continue;
            }
            let Some(head) = line.strip_suffix("):") else {
                // The section ends at the first line that is not one of its own.
                break;
            };
            let Some((before, sync_id)) = head.rsplit_once(" (sync ") else {
                break;
            };
            let (collection, label) = before.split_once(' ').unwrap_or((before, ""));
            items.push(ItemAttribution {
                collection: collection.to_string(),
                sync_id: sync_id.to_string(),
                label: label.to_string(),
                entries: Vec::new(),
            });
        }
        items
    }
}

/// `Co-authored-by:` trailers of a message: the people it attributes.
pub fn co_authors(message: &str) -> Vec<String> {
    message
        .lines()
        .filter_map(|line| line.strip_prefix(CO_AUTHORED_BY))
        .map(|s| s.trim().to_string())
        .collect()
}

pub const CO_AUTHORED_BY: &str = "Co-authored-by: ";

#[cfg(test)]
mod tests {
    use super::*;

    /// What a pull writes, `history` reads back: items, actions, people and the tool.
    #[test]
    fn the_body_parses_back() {
        let ed = Person {
            name: "Ed One".into(),
            email: "ed1@example.com".into(),
        };
        let attribution = Attribution {
            since: Some(Utc::now()),
            items: vec![
                ItemAttribution {
                    collection: "permissions".into(),
                    sync_id: "3f2a".into(),
                    label: "editor articles.read".into(),
                    entries: vec![
                        Entry {
                            at: "2026-12-02T11:05:01Z".into(),
                            action: "update".into(),
                            person: Some(ed.clone()),
                            by: ed.to_string(),
                        },
                        Entry {
                            at: "2026-12-02T11:06:01Z".into(),
                            action: "update".into(),
                            person: None,
                            by: TOOL_WORDS.into(),
                        },
                    ],
                },
                ItemAttribution {
                    collection: "roles".into(),
                    sync_id: "9b".into(),
                    label: "\"Editor (EU)\"".into(),
                    entries: vec![],
                },
            ],
        };
        let message = format!(
            "pull x: ~1 permissions\n\n{}\n\nDirectus-Url: http://x\n",
            attribution.body().unwrap()
        );
        let parsed = Attribution::parse(&message);
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].sync_id, "3f2a");
        assert_eq!(parsed[0].label, "editor articles.read");
        assert_eq!(parsed[0].entries, attribution.items[0].entries);
        assert_eq!(parsed[1].label, "\"Editor (EU)\"");
        assert!(parsed[1].entries.is_empty());
        assert_eq!(attribution.people(), vec![ed]);
    }
}
