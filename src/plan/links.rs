//! When to write unique links (operations' `resolve` and `reject`): a target is held by at
//! most one item at a time, so an item may take a target only once its holder has let go.
//!
//! Pure scheduling on plain ids: [`schedule`] turns the live links and the planned writes of
//! one collection into ordered waves, each one batched request whose writes do not depend on
//! each other. Links are cleared only to break a true cycle (two items swapping targets):
//! a reversed chain is written as three updates and nothing else. Every wave leaves the
//! instance valid, so a push stopped between two waves converges on the next run, which
//! plans again from what it reads.

use super::{Action, CollectionChanges};
use crate::collections::CollectionSpec;
use crate::idmap::id_string;
use crate::instance::Instance;
use serde_json::Value;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// One unique link field of a collection, before a push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UniqueField {
    pub name: String,
    /// Every live item whose link is set, as `(holder, target)`.
    pub live: Vec<(String, String)>,
    /// Live items whose link changes, as `(item, new target)`. `None`: the new value is
    /// null, or an item this push creates (sent as null and linked after the creates).
    pub updates: Vec<(String, Option<String>)>,
    /// Created items (by position among the creates) linking to a live item.
    pub creates: Vec<(usize, String)>,
}

/// The unique links of one collection and what a push does to them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkInput {
    pub fields: Vec<UniqueField>,
    /// Live items the push deletes.
    pub deletes: Vec<String>,
}

/// Writes that go together in one request: each is possible from the state the waves before
/// left, whatever the order inside the wave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wave {
    /// `(item, field)` set to null: the item holds a target another item takes, and no order
    /// frees it (a cycle), or the item cannot let go otherwise.
    pub clears: Vec<(String, String)>,
    /// Items whose whole update is sent in this wave.
    pub updates: Vec<String>,
    /// Items deleted in this wave (one request): they hold targets others take.
    pub deletes: Vec<String>,
}

/// The order of a collection's unique-link writes. Updates not named here, and deletes not
/// named here, are sent as usual (updates with the first wave, deletes at the end).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkSchedule {
    /// Deleted before anything is created: they hold targets that others take, and nothing
    /// points at them. Deleting early costs no write; clearing would cost one.
    pub delete_first: Vec<String>,
    /// `(create index, field)`: links of created items to a target still held when the items
    /// are created; they are created with `null` there and linked after every wave.
    pub defer: Vec<(usize, String)>,
    pub waves: Vec<Wave>,
}

impl LinkSchedule {
    /// Write requests for links: one per wave, plus the early deletes.
    pub fn requests(&self) -> usize {
        self.waves
            .iter()
            .map(|w| {
                usize::from(!w.clears.is_empty() || !w.updates.is_empty())
                    + usize::from(!w.deletes.is_empty())
            })
            .sum::<usize>()
            + usize::from(!self.delete_first.is_empty())
    }

    /// Items cleared before their final write: the writes spent beyond the plan's own. Two
    /// fields of one item cleared in one wave are one write.
    pub fn clears(&self) -> usize {
        self.waves
            .iter()
            .map(|w| {
                w.clears
                    .iter()
                    .map(|(item, _)| item)
                    .collect::<HashSet<_>>()
                    .len()
            })
            .sum()
    }

    /// The wave (index) whose request carries `item`'s update.
    pub fn wave_of(&self, item: &str) -> Option<usize> {
        self.waves
            .iter()
            .position(|w| w.updates.iter().any(|u| u == item))
    }
}

/// The unique links of `changes` as plain data: live holders from the instance, new targets
/// mapped to local ids (a target this push creates counts as `None`: nobody holds it).
pub fn link_input(
    spec: &CollectionSpec,
    changes: &CollectionChanges,
    instance: &Instance,
) -> LinkInput {
    let live_items = instance.read_items(spec.name);
    let live_ids: HashSet<&str> = live_items
        .iter()
        .map(|item| item.local_id.as_str())
        .collect();
    // Untracked items this push takes over, and items whose SyncId moves, are targets under
    // their (new) SyncId already.
    let adopted: HashMap<&str, &str> = changes
        .items
        .iter()
        .filter_map(|change| match &change.action {
            Action::Update {
                local_id,
                adopt,
                moved_from,
                ..
            } if *adopt || moved_from.is_some() => {
                Some((change.sync_id.as_str(), local_id.as_str()))
            }
            _ => None,
        })
        .collect();
    let local = |value: &Value| {
        let sync_id = value.as_str()?;
        let local = match adopted.get(sync_id) {
            Some(local) => local.to_string(),
            None => instance.id_map.local_id(spec.name, sync_id)?,
        };
        live_ids.contains(local.as_str()).then_some(local)
    };
    let creates: Vec<Value> = changes
        .items
        .iter()
        .filter(|c| !spec.unique_links.is_empty() && matches!(c.action, Action::Create))
        .map(|c| c.item.value())
        .collect();
    let fields = spec
        .unique_links
        .iter()
        .map(|field| UniqueField {
            name: field.to_string(),
            live: live_items
                .iter()
                .filter_map(|item| {
                    let target = item.raw.field(field)?;
                    Some((item.local_id.clone(), id_string(&target)?))
                })
                .collect(),
            updates: changes
                .items
                .iter()
                .filter_map(|change| match &change.action {
                    Action::Update {
                        local_id, changes, ..
                    } => {
                        let new = &changes.iter().find(|c| c.field == *field)?.new;
                        Some((local_id.clone(), local(new)))
                    }
                    _ => None,
                })
                .collect(),
            creates: creates
                .iter()
                .enumerate()
                .filter_map(|(index, item)| Some((index, local(item.get(*field)?)?)))
                .collect(),
        })
        .collect();
    let deletes = changes
        .items
        .iter()
        .filter_map(|change| match &change.action {
            Action::Delete { local_id } => Some(local_id.clone()),
            _ => None,
        })
        .collect();
    LinkInput { fields, deletes }
}

type Id = usize;

/// Who holds a target: a live item, or an item created by this push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Holder {
    Live(Id),
    New(usize),
}

/// The state of the links while the schedule is played forward.
struct Sim {
    names: Vec<String>,
    index: HashMap<String, Id>,
    fields: Vec<String>,
    /// Per field: live item → target.
    value: Vec<HashMap<Id, Id>>,
    /// Per field: target → holder.
    holder: Vec<HashMap<Id, Holder>>,
    /// Pending updates in input order, with per field `Some(new target)` where it changes.
    updates: Vec<(Id, Vec<Option<Option<Id>>>)>,
    /// Deletes that may still go early, in input order.
    deletes: Vec<Id>,
    /// Targets created items take once the waves are done: `(field, target)`.
    deferred: Vec<(usize, Id)>,
}

/// Orders the unique-link writes of one collection (see the module documentation).
///
/// A wave holds every update whose new targets are free, and every delete that holds a
/// target someone takes once nothing points at it any more. An item waiting for a target
/// waits for its holder; when such waits form a cycle, one link of the cycle is cleared in
/// the same wave (the fewest clears for cycles that do not share items). Updates that can
/// never succeed (their target stays with an item that keeps it) come in a last wave, where
/// Directus refuses them with its own message.
pub fn schedule(input: &LinkInput) -> LinkSchedule {
    let mut sim = Sim::new(input);
    let mut out = LinkSchedule::default();

    // Before the creates: deletes that free a target and that nothing points at.
    let creates: Vec<(usize, usize, Id)> = input
        .fields
        .iter()
        .enumerate()
        .flat_map(|(f, field)| {
            field
                .creates
                .iter()
                .map(move |(create, target)| (f, *create, target))
        })
        .map(|(f, create, target)| (f, create, sim.index[target]))
        .collect();
    sim.deferred = creates.iter().map(|&(f, _, t)| (f, t)).collect();
    let needed = sim.needed_deletes();
    let first = sim.ready_deletes(&needed);
    sim.delete(&first);
    out.delete_first = sim.named(&first);

    // The creates take what is free; the rest they take after the waves.
    sim.deferred.clear();
    for (f, create, target) in creates {
        match sim.holder[f].entry(target) {
            Entry::Occupied(_) => {
                out.defer.push((create, sim.fields[f].clone()));
                sim.deferred.push((f, target));
            }
            Entry::Vacant(slot) => _ = slot.insert(Holder::New(create)),
        }
    }

    let mut conflicts: Vec<Id> = Vec::new();
    while !sim.updates.is_empty() || !sim.needed_deletes().is_empty() {
        let wave = sim.wave(&mut conflicts);
        if wave.is_empty() {
            // Nothing can move (only conflicts were left): they go last.
            continue;
        }
        out.waves.push(Wave {
            clears: wave
                .clears
                .iter()
                .map(|&(item, f)| (sim.names[item].clone(), sim.fields[f].clone()))
                .collect(),
            updates: sim.named(&wave.updates),
            deletes: sim.named(&wave.deletes),
        });
    }
    if !conflicts.is_empty() {
        conflicts.sort_unstable();
        out.waves.push(Wave {
            updates: sim.named(&conflicts),
            ..Wave::default()
        });
    }
    out
}

/// One wave in internal ids.
struct SimWave {
    clears: Vec<(Id, usize)>,
    updates: Vec<Id>,
    deletes: Vec<Id>,
}

impl SimWave {
    /// A wave that writes nothing is no request: it is left out of the schedule.
    fn is_empty(&self) -> bool {
        self.clears.is_empty() && self.updates.is_empty() && self.deletes.is_empty()
    }
}

/// The pending writes judged against the state the waves before left.
struct Ready {
    /// Deletes that must go before the end (see [`Sim::needed_deletes`]).
    needed: HashSet<Id>,
    /// Needed deletes that can go in this wave, in input order.
    deletes: Vec<Id>,
    /// Updates whose new targets are free, in input order.
    updates: Vec<Id>,
    /// Updates that can never go: a target of theirs stays with an item that keeps it.
    stuck: HashSet<Id>,
}

impl Sim {
    fn new(input: &LinkInput) -> Sim {
        let mut sim = Sim {
            names: Vec::new(),
            index: HashMap::new(),
            fields: input.fields.iter().map(|f| f.name.clone()).collect(),
            value: vec![HashMap::new(); input.fields.len()],
            holder: vec![HashMap::new(); input.fields.len()],
            updates: Vec::new(),
            deletes: Vec::new(),
            deferred: Vec::new(),
        };
        for field in &input.fields {
            for (item, target) in &field.live {
                sim.intern(item);
                sim.intern(target);
            }
            for (item, target) in &field.updates {
                sim.intern(item);
                target.iter().for_each(|t| _ = sim.intern(t));
            }
            field.creates.iter().for_each(|(_, t)| _ = sim.intern(t));
        }
        input.deletes.iter().for_each(|d| _ = sim.intern(d));
        for (f, field) in input.fields.iter().enumerate() {
            for (item, target) in &field.live {
                let (item, target) = (sim.index[item], sim.index[target]);
                sim.value[f].insert(item, target);
                sim.holder[f].insert(target, Holder::Live(item));
            }
        }
        let count = input.fields.len();
        for (f, field) in input.fields.iter().enumerate() {
            for (item, target) in &field.updates {
                let item = sim.index[item];
                let target = target.as_ref().map(|t| sim.index[t]);
                let position = match sim.updates.iter().position(|(u, _)| *u == item) {
                    Some(position) => position,
                    None => {
                        sim.updates.push((item, vec![None; count]));
                        sim.updates.len() - 1
                    }
                };
                sim.updates[position].1[f] = Some(target);
            }
        }
        let mut seen = HashSet::new();
        sim.deletes = input
            .deletes
            .iter()
            .map(|d| sim.index[d])
            .filter(|d| seen.insert(*d))
            .collect();
        sim
    }

    fn intern(&mut self, name: &str) -> Id {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }

    fn named(&self, ids: &[Id]) -> Vec<String> {
        ids.iter().map(|&id| self.names[id].clone()).collect()
    }

    fn pending_update(&self, item: Id) -> Option<&[Option<Option<Id>>]> {
        self.updates
            .iter()
            .find(|(u, _)| *u == item)
            .map(|(_, w)| w.as_slice())
    }

    /// Whether `item` is a pending update that changes field `f` (and so lets go of it).
    fn moves(&self, item: Id, f: usize) -> bool {
        self.pending_update(item).is_some_and(|w| w[f].is_some())
    }

    /// Every target still to be taken: `(taker or None for a deferred create, field, target)`.
    fn wants(&self) -> Vec<(Option<Id>, usize, Id)> {
        let updates = self.updates.iter().flat_map(|(u, wants)| {
            wants
                .iter()
                .enumerate()
                .filter_map(move |(f, w)| Some((Some(*u), f, (*w)??)))
        });
        let deferred = self.deferred.iter().map(|&(f, t)| (None, f, t));
        updates.chain(deferred).collect()
    }

    /// Live items whose link points at `item`, as `(referrer, field)`.
    fn referrers(&self, item: Id) -> Vec<(Holder, usize)> {
        (0..self.fields.len())
            .filter_map(|f| Some((*self.holder[f].get(&item)?, f)))
            .filter(|(h, _)| *h != Holder::Live(item))
            .collect()
    }

    /// Deletes that must go before the end: they hold a target someone takes, or they point
    /// at such a delete (which cannot go while pointed at).
    fn needed_deletes(&self) -> HashSet<Id> {
        let deletes: HashSet<Id> = self.deletes.iter().copied().collect();
        let mut needed: HashSet<Id> = self
            .wants()
            .into_iter()
            .filter_map(|(taker, f, t)| match self.holder[f].get(&t) {
                Some(Holder::Live(h)) if Some(*h) != taker && deletes.contains(h) => Some(*h),
                _ => None,
            })
            .collect();
        let mut queue: Vec<Id> = needed.iter().copied().collect();
        while let Some(d) = queue.pop() {
            for (referrer, _) in self.referrers(d) {
                if let Holder::Live(r) = referrer
                    && deletes.contains(&r)
                    && needed.insert(r)
                {
                    queue.push(r);
                }
            }
        }
        needed
    }

    /// The needed deletes that can go now, in input order: nothing outside them points at
    /// them (they are deleted by one request, so they may point at each other).
    fn ready_deletes(&self, needed: &HashSet<Id>) -> Vec<Id> {
        let mut ready: HashSet<Id> = needed.clone();
        loop {
            let blocked: Vec<Id> = ready
                .iter()
                .copied()
                .filter(|&d| {
                    self.referrers(d)
                        .iter()
                        .any(|(r, _)| !matches!(r, Holder::Live(r) if ready.contains(r)))
                })
                .collect();
            if blocked.is_empty() {
                break;
            }
            blocked.iter().for_each(|d| _ = ready.remove(d));
        }
        self.deletes
            .iter()
            .copied()
            .filter(|d| ready.contains(d))
            .collect()
    }

    /// Whether every new target of `item` is free (or its own).
    fn update_ready(&self, item: Id, wants: &[Option<Option<Id>>]) -> bool {
        wants.iter().enumerate().all(|(f, w)| match w {
            Some(Some(t)) => self.holder[f]
                .get(t)
                .is_none_or(|h| *h == Holder::Live(item)),
            _ => true,
        })
    }

    /// Plans the next wave and plays it forward. Updates that can never go are moved to
    /// `conflicts`.
    fn wave(&mut self, conflicts: &mut Vec<Id>) -> SimWave {
        let ready = self.ready();
        let (mut clears, released) = self.release_kept_deletes(&ready);
        for clear in self.cycle_clears(&self.blocked(&ready, &released)) {
            if !clears.contains(&clear) {
                clears.push(clear);
            }
        }
        let wave = SimWave {
            clears,
            updates: ready.updates,
            deletes: ready.deletes,
        };
        let mut stuck: Vec<Id> = ready.stuck.into_iter().collect();
        stuck.sort_unstable();
        conflicts.extend(&stuck);
        self.deletes.retain(|d| !released.contains(d));
        self.play(&wave);
        self.updates.retain(|(u, _)| !stuck.contains(u));
        if wave.is_empty() && stuck.is_empty() {
            // Cannot happen (a set of waits without a cycle has one that can go), but never
            // loop: whatever is left goes last.
            conflicts.extend(self.updates.drain(..).map(|(u, _)| u));
            self.deletes.clear();
        }
        wave
    }

    /// Judges every pending write against the state the waves before left, so that each
    /// phase of the wave works from the same picture.
    fn ready(&self) -> Ready {
        let needed = self.needed_deletes();
        let deletes = self.ready_deletes(&needed);
        let updates: Vec<Id> = self
            .updates
            .iter()
            .filter(|(u, wants)| self.update_ready(*u, wants))
            .map(|(u, _)| *u)
            .collect();
        let stuck = self.stuck_updates(&updates, &needed);
        Ready {
            needed,
            deletes,
            updates,
            stuck,
        }
    }

    /// Updates waiting for a holder that never lets go, directly or through others: no order
    /// and no clear helps them, so they leave the graph of waits and go last, where Directus
    /// refuses them with its own message.
    fn stuck_updates(&self, ready: &[Id], needed: &HashSet<Id>) -> HashSet<Id> {
        let mut stuck: HashSet<Id> = HashSet::new();
        loop {
            let newly: Vec<Id> = self
                .updates
                .iter()
                .filter(|(u, _)| !ready.contains(u) && !stuck.contains(u))
                .filter(|(u, wants)| {
                    wants.iter().enumerate().any(|(f, w)| {
                        let Some(Some(t)) = w else { return false };
                        self.holder[f].get(t).is_some_and(|&h| {
                            h != Holder::Live(*u) && self.keeps(h, f, needed, &stuck)
                        })
                    })
                })
                .map(|(u, _)| *u)
                .collect();
            if newly.is_empty() {
                return stuck;
            }
            stuck.extend(newly);
        }
    }

    /// Whether `holder` keeps its link in field `f` for good: it neither moves it (an update
    /// that can go some day) nor is a needed delete. A created item never lets go before the
    /// follow-ups.
    fn keeps(&self, holder: Holder, f: usize, needed: &HashSet<Id>, stuck: &HashSet<Id>) -> bool {
        match holder {
            Holder::Live(h) => !((self.moves(h, f) && !stuck.contains(&h)) || needed.contains(&h)),
            Holder::New(_) => true,
        }
    }

    /// Needed deletes that something keeps pointing at can never go before the end: they let
    /// go of the targets others take by a clear instead, and are deleted at the end like the
    /// others. Returns the clears and the deletes so released.
    fn release_kept_deletes(&self, ready: &Ready) -> (Vec<(Id, usize)>, Vec<Id>) {
        // Targets a stuck update wants are not worth a clear: it is refused anyway.
        let wanted: HashSet<(usize, Id)> = self
            .wants()
            .into_iter()
            .filter(|(taker, _, _)| taker.is_none_or(|t| !ready.stuck.contains(&t)))
            .map(|(_, f, t)| (f, t))
            .collect();
        let mut clears = Vec::new();
        let mut released = Vec::new();
        for &d in &self.deletes {
            if !ready.needed.contains(&d) || ready.deletes.contains(&d) {
                continue;
            }
            let kept = self
                .referrers(d)
                .iter()
                .any(|&(r, g)| self.keeps(r, g, &ready.needed, &ready.stuck));
            if !kept {
                continue;
            }
            for f in 0..self.fields.len() {
                if let Some(t) = self.value[f].get(&d)
                    && (wanted.contains(&(f, *t)) || ready.needed.contains(t))
                {
                    clears.push((d, f));
                }
            }
            released.push(d);
        }
        (clears, released)
    }

    /// What is left waits on others that will move: only among these can waits form a cycle
    /// that a clear must break. Deletes come first: a cycle entered at a delete is broken by
    /// clearing the delete's own link, which then simply goes at the end (no wave waits for
    /// it).
    fn blocked(&self, ready: &Ready, released: &[Id]) -> Vec<Id> {
        let deletes = self.deletes.iter().copied().filter(|d| {
            ready.needed.contains(d) && !ready.deletes.contains(d) && !released.contains(d)
        });
        let updates = self
            .updates
            .iter()
            .map(|(u, _)| *u)
            .filter(|u| !ready.updates.contains(u) && !ready.stuck.contains(u));
        deletes.chain(updates).collect()
    }

    /// One clear per cycle of waits among `blocked`, found by a depth-first search over the
    /// rings of deletes (see [`Sim::rings`]): the fewest clears when cycles share no items.
    /// Each clear is `(the item that lets go, its field)`.
    fn cycle_clears(&self, blocked: &[Id]) -> Vec<(Id, usize)> {
        let in_graph: HashSet<Id> = blocked.iter().copied().collect();
        let ring_of = self.rings(blocked, &in_graph);
        // Waits that leave a ring: (ring waited for, (the item that lets go, its field)).
        let ring_edges = |ring: Id| -> Vec<(Id, (Id, usize))> {
            blocked
                .iter()
                .filter(|n| ring_of[*n] == ring)
                .flat_map(|&member| self.waits_for(member, &in_graph))
                .filter(|(next, _)| ring_of[next] != ring)
                .map(|(next, f)| (ring_of[&next], (next, f)))
                .collect()
        };
        back_edges(blocked.iter().map(|n| ring_of[n]), ring_edges)
    }

    /// Deletes pointing at each other in a ring go together in one request (see
    /// `ready_deletes`), so such a ring is one node of the graph of waits: only waits that
    /// involve an update count as cycles. Maps each of `blocked` to its ring's smallest id
    /// (its own when it is in none).
    fn rings(&self, blocked: &[Id], in_graph: &HashSet<Id>) -> HashMap<Id, Id> {
        let is_delete = |node: Id| self.pending_update(node).is_none();
        let delete_edges: HashMap<Id, Vec<Id>> = blocked
            .iter()
            .copied()
            .filter(|&d| is_delete(d))
            .map(|d| {
                let next = self.waits_for(d, in_graph).into_iter().map(|(n, _)| n);
                (d, next.filter(|&n| is_delete(n)).collect())
            })
            .collect();
        let reaches: HashMap<Id, HashSet<Id>> = delete_edges
            .keys()
            .map(|&d| (d, reachable(d, &delete_edges)))
            .collect();
        let ring = |node: Id| -> Id {
            let Some(mine) = reaches.get(&node) else {
                return node;
            };
            mine.iter()
                .copied()
                .filter(|other| reaches[other].contains(&node))
                .chain([node])
                .min()
                .expect("the node itself")
        };
        blocked.iter().map(|&n| (n, ring(n))).collect()
    }

    /// Whom `node` waits for among `in_graph`, as `(next, f)`: `next` must let go of its link
    /// in field `f` first. An update waits for the holders of its new targets, a delete for
    /// the live items pointing at it (created ones never let go before the end).
    fn waits_for(&self, node: Id, in_graph: &HashSet<Id>) -> Vec<(Id, usize)> {
        let all: Vec<(Id, usize)> = match self.pending_update(node) {
            Some(wants) => wants
                .iter()
                .enumerate()
                .filter_map(|(f, w)| match self.holder[f].get(&(*w)??)? {
                    Holder::Live(h) if *h != node => Some((*h, f)),
                    _ => None,
                })
                .collect(),
            None => self
                .referrers(node)
                .into_iter()
                .filter_map(|(r, g)| match r {
                    Holder::Live(r) => Some((r, g)),
                    Holder::New(_) => None,
                })
                .collect(),
        };
        all.into_iter()
            .filter(|(next, _)| in_graph.contains(next))
            .collect()
    }

    /// Plays `wave` forward, so that the next wave is planned from the state this one leaves.
    fn play(&mut self, wave: &SimWave) {
        for &(item, f) in &wave.clears {
            if let Some(t) = self.value[f].remove(&item) {
                self.holder[f].remove(&t);
            }
        }
        let moving: Vec<(Id, Vec<Option<Option<Id>>>)> = self
            .updates
            .iter()
            .filter(|(u, _)| wave.updates.contains(u))
            .cloned()
            .collect();
        // Every mover lets go before any takes: the wave is one request, so an update may
        // take a target another update of the same wave gives up.
        for (u, wants) in &moving {
            for (f, w) in wants.iter().enumerate() {
                if w.is_some()
                    && let Some(old) = self.value[f].remove(u)
                    && self.holder[f].get(&old) == Some(&Holder::Live(*u))
                {
                    self.holder[f].remove(&old);
                }
            }
        }
        for (u, wants) in &moving {
            for (f, w) in wants.iter().enumerate() {
                if let Some(Some(t)) = w {
                    self.value[f].insert(*u, *t);
                    self.holder[f].insert(*t, Holder::Live(*u));
                }
            }
        }
        self.delete(&wave.deletes);
        self.updates.retain(|(u, _)| !wave.updates.contains(u));
    }

    fn delete(&mut self, deletes: &[Id]) {
        for d in deletes {
            for f in 0..self.fields.len() {
                if let Some(t) = self.value[f].remove(d) {
                    self.holder[f].remove(&t);
                }
            }
        }
        self.deletes.retain(|d| !deletes.contains(d));
    }
}

/// Every node reachable from `from` over `edges`: two deletes reaching each other are in one
/// ring.
fn reachable(from: Id, edges: &HashMap<Id, Vec<Id>>) -> HashSet<Id> {
    let mut seen = HashSet::new();
    let mut queue = vec![from];
    while let Some(node) = queue.pop() {
        for &next in &edges[&node] {
            if seen.insert(next) {
                queue.push(next);
            }
        }
    }
    seen
}

/// Where [`back_edges`] stands at one node of its path: (node, its edges, the next edge to
/// follow). A stack of its own rather than recursion: chains of waits may be long.
type Frame<L> = (Id, Vec<(Id, L)>, usize);

/// The labels of the edges that close a cycle in a depth-first search from `starts`, each
/// once: every cycle holds one, so cutting them all leaves no cycle.
fn back_edges<L: Copy + PartialEq>(
    starts: impl IntoIterator<Item = Id>,
    edges: impl Fn(Id) -> Vec<(Id, L)>,
) -> Vec<L> {
    enum Visit {
        OnPath,
        Done,
    }
    let mut found: Vec<L> = Vec::new();
    let mut state: HashMap<Id, Visit> = HashMap::new();
    for start in starts {
        if state.contains_key(&start) {
            continue;
        }
        state.insert(start, Visit::OnPath);
        let mut path: Vec<Frame<L>> = vec![(start, edges(start), 0)];
        while let Some((_, out, next)) = path.last_mut() {
            let Some(&(to, label)) = out.get(*next) else {
                let (done, _, _) = path.pop().expect("the path is not empty");
                state.insert(done, Visit::Done);
                continue;
            };
            *next += 1;
            match state.get(&to) {
                Some(Visit::OnPath) => {
                    if !found.contains(&label) {
                        found.push(label);
                    }
                }
                Some(Visit::Done) => {}
                None => {
                    state.insert(to, Visit::OnPath);
                    path.push((to, edges(to), 0));
                }
            }
        }
    }
    found
}
