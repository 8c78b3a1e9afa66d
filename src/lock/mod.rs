//! One writer per instance at a time. Whoever writes (a push, a pull that tracks new items,
//! the helpers that change the id map) first takes the instance's lock: one row, under a fixed
//! primary key, in a hidden collection of ours. The database lets only one of the runs that
//! insert it at the same moment succeed, whichever hosts they run on. The holder renews the
//! row while it writes; a row nobody renews expires soon, and a run on the holder's own host
//! can tell at once that the holder's process is gone, so a killed run never blocks the next
//! one for long.

mod host;

use crate::directus::{Client, DirectusError, Request};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

/// The collection holding the lock (Directus forbids the `directus_` prefix).
pub const COLLECTION: &str = "sync_lock";
/// The primary key of its one row.
const KEY: &str = "instance";
/// How long a lock outlives its holder's last renewal.
const TTL: Duration = Duration::from_secs(120);
/// How often the holder renews it: a few times per TTL, so that one slow request loses nothing.
const RENEW_EVERY: Duration = Duration::from_secs(30);
/// How often a waiting run looks again.
const POLL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(transparent)]
    Directus(#[from] DirectusError),
    #[error(
        "{url} is locked by another run{}; still locked after waiting {waited} s",
        .holder.as_ref().map(|lock| format!(": {lock}")).unwrap_or_default()
    )]
    Held {
        url: String,
        holder: Option<Box<Lock>>,
        waited: u64,
    },
}

impl LockError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            LockError::Directus(error) => error.hint(),
            LockError::Held { .. } => Some(
                "if that run is still going, try again when it ends (--lock-wait SECONDS waits \
                 longer); if it is gone, release its lock with `directus-sync helpers unlock`",
            ),
        }
    }
}

/// What a run asking for the lock tells about itself.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The email of the Directus user it runs as.
    pub user: String,
    /// The command: `push`, `pull`, `helpers untrack`...
    pub purpose: &'static str,
    /// How long to wait for another holder to give the lock back.
    pub wait: Duration,
}

/// A lock as its row tells: who holds it, where, for what, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub user: String,
    pub host: String,
    /// The process table `pid` is in ([`host::id`]).
    pub host_id: String,
    pub pid: u32,
    /// The holder's directus-sync version.
    pub version: String,
    pub purpose: String,
    pub since: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    /// New for every lock taken: renewals and releases name it, so that none of them touches a
    /// lock someone else took in the meantime.
    pub token: String,
}

impl Lock {
    fn new(claim: &Claim, now: DateTime<Utc>) -> Lock {
        Lock {
            user: claim.user.clone(),
            host: host::name(),
            host_id: host::id(),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            purpose: claim.purpose.to_string(),
            since: Some(now),
            expires: Some(expiry(now)),
            token: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// From a row; a row written by hand may lack any field.
    fn from_item(item: &Value) -> Lock {
        let text = |key: &str| match item.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        Lock {
            user: text("user"),
            host: text("host"),
            host_id: text("host_id"),
            pid: text("pid").parse().unwrap_or(0),
            version: text("version"),
            purpose: text("purpose"),
            since: parse_time(&text("since")),
            expires: parse_time(&text("expires")),
            token: text("token"),
        }
    }

    fn to_item(&self) -> Value {
        json!({
            "id": KEY,
            "user": self.user,
            "host": self.host,
            "host_id": self.host_id,
            "pid": self.pid,
            "version": self.version,
            "purpose": self.purpose,
            "since": self.since.map(format_time),
            "expires": self.expires.map(format_time),
            "token": self.token,
        })
    }

    /// Why nobody holds this lock any more, if so: it expired, or its process, on this host,
    /// is gone. A lock without an expiry never expires: only `helpers unlock` ends it.
    fn abandoned(&self, now: DateTime<Utc>, here: &str) -> Option<String> {
        if let Some(expires) = self.expires
            && expires <= now
        {
            return Some(format!("it expired at {}", readable(expires)));
        }
        let same_host = !self.host_id.is_empty() && self.host_id == here;
        // Our own pid on our own host: a lock of this very process, not of a dead one.
        if same_host && self.pid != std::process::id() && host::is_gone(self.pid) {
            return Some(format!("its process {} has ended", self.pid));
        }
        None
    }
}

impl fmt::Display for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or = |text: &str, unknown: &str| match text {
            "" => unknown.to_string(),
            text => text.to_string(),
        };
        write!(
            f,
            "{} by {} on {} (pid {}, directus-sync {}) since {}",
            or(&self.purpose, "a run"),
            or(&self.user, "an unknown user"),
            or(&self.host, "an unknown host"),
            self.pid,
            or(&self.version, "of an unknown version"),
            self.since.map_or("an unknown time".into(), readable)
        )
    }
}

fn expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(TTL).expect("the TTL fits")
}

fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn readable(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Directus answers timestamps in ISO 8601; some vendors leave out the zone, which is UTC.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

fn items_path() -> String {
    format!("/items/{COLLECTION}")
}

/// Runs `work` holding the instance's lock: takes it (waiting up to `claim.wait` for another
/// holder to give it back), renews it while `work` runs, and gives it back however `work` ends.
pub async fn hold<T, E>(
    client: &Client,
    claim: &Claim,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E>
where
    E: From<LockError>,
{
    let held = Held::take(client, claim).await?;
    let outcome = held.renewed_while(client, work).await;
    held.release(client).await;
    outcome
}

/// The lock as this run holds it.
struct Held {
    token: String,
}

impl Held {
    async fn take(client: &Client, claim: &Claim) -> Result<Held, LockError> {
        let url = client.base_url();
        let deadline = Instant::now() + claim.wait;
        let here = host::id();
        let mut created = false;
        // Tokens of abandoned locks deleted once: a lock still there after that is not
        // deleted again (a row written by hand may have no token to match).
        let mut taken_over = HashSet::new();
        let mut announced = None;
        loop {
            let mine = Lock::new(claim, Utc::now());
            let (path, row) = (items_path(), mine.to_item());
            let insert = Request::new(Method::POST, &path)
                .query("fields", "id")
                .body(&row);
            match client.json(insert).await {
                Ok(_) => {
                    tracing::debug!("took the lock of {url} for {}", claim.purpose);
                    return Ok(Held { token: mine.token });
                }
                Err(error) if error.code() == Some("RECORD_NOT_UNIQUE") => {}
                // Directus answers 403 for a collection it does not know: the first lock here.
                Err(DirectusError::Forbidden { .. }) if !created => {
                    create_collection(client).await?;
                    created = true;
                    continue;
                }
                Err(other) => return Err(other.into()),
            }
            let current = read(client).await?;
            if let Some(lock) = &current
                && let Some(why) = lock.abandoned(Utc::now(), &here)
                && taken_over.insert(lock.token.clone())
            {
                tracing::info!("taking over the lock of {url}, {lock}: {why}");
                delete(client, &lock.token).await?;
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(LockError::Held {
                    url: url.to_string(),
                    holder: current.map(Box::new),
                    waited: claim.wait.as_secs(),
                });
            }
            let pause = match &current {
                Some(lock) => {
                    if announced.as_ref() != Some(&lock.token) {
                        tracing::info!(
                            "{url} is locked, {lock}: waiting up to {} s for it",
                            claim.wait.as_secs()
                        );
                        announced = Some(lock.token.clone());
                    }
                    POLL
                }
                // Released between our insert and our read: try again at once.
                None => Duration::from_millis(50),
            };
            tokio::time::sleep(pause.min(deadline - now)).await;
        }
    }

    /// Runs `work`, renewing the lock meanwhile.
    async fn renewed_while<T>(&self, client: &Client, work: impl Future<Output = T>) -> T {
        let renew = async {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                match self.renew(client).await {
                    Ok(true) => tracing::debug!("renewed the lock of {}", client.base_url()),
                    Ok(false) => {
                        tracing::warn!(
                            "this run lost the lock of {} (it expired, or `helpers unlock` \
                             released it): another run may be writing at the same time",
                            client.base_url()
                        );
                        return;
                    }
                    // Tried again at the next beat; the lock expires only after several.
                    Err(error) => tracing::warn!("could not renew the lock: {error}"),
                }
            }
        };
        tokio::pin!(work);
        tokio::select! {
            outcome = &mut work => outcome,
            () = renew => work.await,
        }
    }

    /// Pushes the expiry on; `false` when the lock is no longer this run's.
    async fn renew(&self, client: &Client) -> Result<bool, DirectusError> {
        let body = json!({
            "query": {"filter": {"token": {"_eq": self.token}}},
            "data": {"expires": format_time(expiry(Utc::now()))}
        });
        let path = items_path();
        let renewed = client
            .json(
                Request::new(Method::PATCH, &path)
                    .query("fields", "id")
                    .body(&body),
            )
            .await?;
        Ok(renewed.as_array().is_some_and(|rows| !rows.is_empty()))
    }

    /// Gives the lock back. A failure only delays the next run: the lock expires.
    async fn release(&self, client: &Client) {
        match delete(client, &self.token).await {
            Ok(()) => tracing::debug!("released the lock of {}", client.base_url()),
            Err(error) => tracing::warn!(
                "could not release the lock of {} ({error}): it expires within {} s, or \
                 `directus-sync helpers unlock` releases it now",
                client.base_url(),
                TTL.as_secs()
            ),
        }
    }
}

/// The lock of the instance, if anyone holds it.
pub async fn read(client: &Client) -> Result<Option<Lock>, DirectusError> {
    // The second condition holds for every row (the key is never a fresh UUID) and makes
    // every read a new query: with CACHE_ENABLED, Directus would answer a repeated one from
    // its cache, showing a lock long released.
    let nonce = uuid::Uuid::new_v4().to_string();
    let filter = json!({"_and": [{"id": {"_eq": KEY}}, {"id": {"_neq": nonce}}]});
    match client
        .list(&items_path(), vec![("filter".into(), filter.to_string())])
        .await
    {
        Ok(items) => Ok(items.first().map(Lock::from_item)),
        // No lock collection yet: no lock was ever taken.
        Err(DirectusError::Forbidden { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Deletes the lock whoever holds it; returns the lock it released, if there was one.
pub async fn unlock(client: &Client) -> Result<Option<Lock>, DirectusError> {
    let Some(lock) = read(client).await? else {
        return Ok(None);
    };
    match lock.token.as_str() {
        // A row written by hand may have no token.
        "" => {
            let path = crate::directus::path(&["items", COLLECTION, KEY])?;
            client.delete(&path, None).await?;
        }
        token => delete(client, token).await?,
    }
    Ok(Some(lock))
}

/// Deletes the lock if it is still the one taken under `token`.
async fn delete(client: &Client, token: &str) -> Result<(), DirectusError> {
    let body = json!({"query": {"filter": {"token": {"_eq": token}}, "limit": -1}});
    client.delete(&items_path(), Some(&body)).await?;
    Ok(())
}

async fn create_collection(client: &Client) -> Result<(), DirectusError> {
    let text = |name: &str| {
        json!({"field": name, "type": "string", "meta": {"readonly": true},
               "schema": {"max_length": 255}})
    };
    let time = |name: &str| json!({"field": name, "type": "timestamp", "meta": {"readonly": true}});
    let body = json!({
        "collection": COLLECTION,
        "meta": {
            "hidden": true,
            "icon": "lock",
            "note": "directus-sync: the run writing to this instance now, if any. Delete its \
                     row (`directus-sync helpers unlock`) only when that run is gone.",
            // Bookkeeping, not content: no activity or revisions for it.
            "accountability": null
        },
        "schema": {},
        "fields": [
            {"field": "id", "type": "string", "meta": {"hidden": true},
             "schema": {"is_primary_key": true, "has_auto_increment": false, "max_length": 64}},
            text("user"),
            text("host"),
            text("host_id"),
            {"field": "pid", "type": "integer", "meta": {"readonly": true}},
            text("version"),
            text("purpose"),
            time("since"),
            time("expires"),
            text("token")
        ]
    });
    match client.post("/collections", &body).await {
        Ok(_) => {
            tracing::info!(
                "created the hidden collection {COLLECTION} to hold the instance's lock"
            );
            Ok(())
        }
        // Another run may have created it at the same moment.
        Err(error) => match client.collection_exists(COLLECTION).await? {
            true => Ok(()),
            false => Err(error),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> Claim {
        Claim {
            user: "admin@example.com".into(),
            purpose: "push",
            wait: Duration::from_secs(30),
        }
    }

    #[test]
    fn a_lock_reads_back_from_its_row() {
        let lock = Lock::new(&claim(), Utc::now());
        let mut item = lock.to_item();
        // As Directus answers: the stored timestamp, and an integer for the pid.
        item["since"] = json!(format_time(lock.since.unwrap()));
        let back = Lock::from_item(&item);
        assert_eq!(back.since.map(format_time), lock.since.map(format_time));
        assert_eq!((back.pid, &back.token), (lock.pid, &lock.token));
        assert_eq!(
            parse_time("2030-01-02 03:04:05"),
            parse_time("2030-01-02T03:04:05.000Z")
        );
    }

    #[test]
    fn locks_are_abandoned_when_expired_or_their_process_on_this_host_ended() {
        let now = Utc::now();
        let here = host::id();
        let mut lock = Lock::new(&claim(), now);
        assert_eq!(lock.abandoned(now, &here), None, "our own process");
        lock.expires = Some(now - chrono::Duration::seconds(1));
        assert!(lock.abandoned(now, &here).unwrap().contains("expired"));

        let mut ended = std::process::Command::new("true").spawn().unwrap();
        ended.wait().unwrap();
        lock.expires = Some(now + chrono::Duration::seconds(60));
        lock.pid = ended.id();
        assert!(lock.abandoned(now, &here).unwrap().contains("has ended"));
        assert_eq!(lock.abandoned(now, "another host"), None);
        lock.expires = None;
        lock.host_id = String::new();
        assert_eq!(lock.abandoned(now, &here), None, "hand-made, never expires");
    }

    #[test]
    fn a_held_lock_names_its_holder() {
        let mut lock = Lock::new(&claim(), Utc::now());
        lock.host = "ci-7".into();
        lock.pid = 4242;
        lock.since = parse_time("2030-01-02T03:04:05Z");
        let error = LockError::Held {
            url: "http://directus".into(),
            holder: Some(Box::new(lock)),
            waited: 30,
        };
        assert_eq!(
            error.to_string(),
            format!(
                "http://directus is locked by another run: push by admin@example.com on ci-7 \
                 (pid 4242, directus-sync {}) since 2030-01-02 03:04:05 UTC; still locked after \
                 waiting 30 s",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert!(
            error
                .hint()
                .unwrap()
                .contains("directus-sync helpers unlock")
        );
    }
}
