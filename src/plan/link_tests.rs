//! The unique-link scheduler on plain data: named cases, then random ones checked by playing
//! each schedule against a model of Directus' unique and foreign-key constraints.

use super::links::{LinkInput, LinkSchedule, UniqueField, Wave, schedule};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn field(
    name: &str,
    live: &[(&str, &str)],
    updates: &[(&str, Option<&str>)],
    creates: &[(usize, &str)],
) -> UniqueField {
    UniqueField {
        name: name.into(),
        live: live
            .iter()
            .map(|(h, t)| (h.to_string(), t.to_string()))
            .collect(),
        updates: updates
            .iter()
            .map(|(i, t)| (i.to_string(), t.map(str::to_string)))
            .collect(),
        creates: creates.iter().map(|(c, t)| (*c, t.to_string())).collect(),
    }
}

fn resolve(
    live: &[(&str, &str)],
    updates: &[(&str, Option<&str>)],
    creates: &[(usize, &str)],
    deletes: &[&str],
) -> LinkInput {
    LinkInput {
        fields: vec![field("resolve", live, updates, creates)],
        deletes: deletes.iter().map(|d| d.to_string()).collect(),
    }
}

fn updates(items: &[&str]) -> Wave {
    Wave {
        updates: items.iter().map(|i| i.to_string()).collect(),
        ..Wave::default()
    }
}

fn clear(item: &str, field: &str) -> Wave {
    Wave {
        clears: vec![(item.into(), field.into())],
        ..Wave::default()
    }
}

/// Writes a schedule costs beyond the plan's own updates and deletes.
fn extra_writes(schedule: &LinkSchedule) -> usize {
    schedule.clears() + schedule.defer.len()
}

#[test]
fn reversed_chain_is_three_updates_in_three_waves() {
    // op1 → op2 → op3 becomes op1 → op3 → op2.
    let input = resolve(
        &[("op1", "op2"), ("op2", "op3")],
        &[("op1", Some("op3")), ("op2", None), ("op3", Some("op2"))],
        &[],
        &[],
    );
    let schedule = schedule(&input);
    assert_eq!(
        schedule.waves,
        [updates(&["op2"]), updates(&["op1"]), updates(&["op3"])]
    );
    assert_eq!(extra_writes(&schedule), 0);
    assert!(schedule.delete_first.is_empty());
    assert_eq!(schedule.requests(), 3);
    play(&input, &schedule).unwrap();
}

#[test]
fn swapping_two_targets_clears_one_link() {
    let input = resolve(
        &[("a", "x"), ("b", "y")],
        &[("a", Some("y")), ("b", Some("x"))],
        &[],
        &[],
    );
    let schedule = schedule(&input);
    assert_eq!(
        schedule.waves,
        [clear("a", "resolve"), updates(&["b"]), updates(&["a"])]
    );
    assert_eq!(schedule.clears(), 1);
    play(&input, &schedule).unwrap();
}

#[test]
fn rotating_a_cycle_of_three_clears_one_link() {
    let input = resolve(
        &[("a", "x"), ("b", "y"), ("c", "z")],
        &[("a", Some("y")), ("b", Some("z")), ("c", Some("x"))],
        &[],
        &[],
    );
    let schedule = schedule(&input);
    assert_eq!(schedule.clears(), 1);
    assert_eq!(
        schedule
            .waves
            .iter()
            .map(|w| w.updates.len())
            .sum::<usize>(),
        3
    );
    play(&input, &schedule).unwrap();
}

#[test]
fn shifting_a_chain_goes_from_its_free_end() {
    // Each item takes the target of the next one; the last one takes a free target.
    let input = resolve(
        &[("a", "t1"), ("b", "t2"), ("c", "t3")],
        &[("a", Some("t2")), ("b", Some("t3")), ("c", Some("t4"))],
        &[],
        &[],
    );
    let schedule = schedule(&input);
    assert_eq!(
        schedule.waves,
        [updates(&["c"]), updates(&["b"]), updates(&["a"])]
    );
    assert_eq!(extra_writes(&schedule), 0);
    play(&input, &schedule).unwrap();
}

#[test]
fn independent_links_go_in_one_wave() {
    let input = resolve(
        &[("a", "x")],
        &[("a", Some("y")), ("b", Some("z")), ("c", None)],
        &[],
        &[],
    );
    let schedule = schedule(&input);
    assert_eq!(schedule.waves, [updates(&["a", "b", "c"])]);
    play(&input, &schedule).unwrap();
}

#[test]
fn resolve_and_reject_are_separate_constraints() {
    // b's reject may point where a's resolve points; a's swap of resolve with c is a cycle.
    let input = LinkInput {
        fields: vec![
            field(
                "resolve",
                &[("a", "x"), ("c", "y")],
                &[("a", Some("y")), ("c", Some("x"))],
                &[],
            ),
            field("reject", &[], &[("b", Some("x")), ("a", Some("z"))], &[]),
        ],
        deletes: vec![],
    };
    let schedule = schedule(&input);
    assert_eq!(schedule.clears(), 1);
    assert_eq!(schedule.wave_of("b"), Some(0));
    play(&input, &schedule).unwrap();
}

#[test]
fn a_delete_holding_a_taken_target_goes_first() {
    let input = resolve(&[("d", "t")], &[("u", Some("t"))], &[], &["d", "other"]);
    let schedule = schedule(&input);
    assert_eq!(schedule.delete_first, ["d"]);
    assert_eq!(schedule.waves, [updates(&["u"])]);
    assert_eq!(extra_writes(&schedule), 0);
    play(&input, &schedule).unwrap();
}

#[test]
fn a_delete_waits_for_the_item_pointing_at_it() {
    // r points at d and moves away; only then can d go and free t for u.
    let input = resolve(
        &[("d", "t"), ("r", "d")],
        &[("r", Some("s")), ("u", Some("t"))],
        &[],
        &["d"],
    );
    let schedule = schedule(&input);
    assert!(schedule.delete_first.is_empty());
    assert_eq!(
        schedule.waves,
        [
            updates(&["r"]),
            Wave {
                deletes: vec!["d".into()],
                ..Wave::default()
            },
            updates(&["u"]),
        ]
    );
    assert_eq!(extra_writes(&schedule), 0);
    play(&input, &schedule).unwrap();
}

#[test]
fn chained_deletes_go_first_together() {
    let input = resolve(
        &[("d1", "d2"), ("d2", "t")],
        &[("u", Some("t"))],
        &[],
        &["d1", "d2"],
    );
    let schedule = schedule(&input);
    assert_eq!(schedule.delete_first, ["d1", "d2"]);
    assert_eq!(schedule.waves, [updates(&["u"])]);
    play(&input, &schedule).unwrap();
}

#[test]
fn a_delete_in_a_cycle_is_cleared_and_goes_last() {
    // u points at d and wants d's target: one of the two must let go by a clear; clearing
    // the delete's link leaves nothing waiting for it.
    let input = resolve(&[("d", "t"), ("u", "d")], &[("u", Some("t"))], &[], &["d"]);
    let schedule = schedule(&input);
    assert_eq!(schedule.waves, [clear("d", "resolve"), updates(&["u"])]);
    assert_eq!(schedule.clears(), 1);
    play(&input, &schedule).unwrap();
}

#[test]
fn a_delete_something_keeps_pointing_at_is_cleared() {
    let input = resolve(
        &[("d", "t"), ("keeper", "d")],
        &[("u", Some("t"))],
        &[],
        &["d"],
    );
    let schedule = schedule(&input);
    assert!(schedule.delete_first.is_empty());
    assert_eq!(schedule.waves, [clear("d", "resolve"), updates(&["u"])]);
}

#[test]
fn a_create_taking_a_held_target_is_linked_after_the_holder_moved() {
    let input = resolve(
        &[("h", "t"), ("k", "x")],
        &[("h", Some("s"))],
        &[(0, "t"), (1, "free")],
        &[],
    );
    let schedule = schedule(&input);
    assert_eq!(schedule.defer, [(0, "resolve".to_string())]);
    assert_eq!(schedule.waves, [updates(&["h"])]);
    play(&input, &schedule).unwrap();
}

#[test]
fn a_target_freed_by_a_delete_is_taken_at_creation() {
    let input = resolve(&[("d", "t")], &[], &[(0, "t")], &["d"]);
    let schedule = schedule(&input);
    assert_eq!(schedule.delete_first, ["d"]);
    assert!(schedule.defer.is_empty());
    assert!(schedule.waves.is_empty());
    play(&input, &schedule).unwrap();
}

#[test]
fn a_delete_pointed_at_by_a_mover_frees_its_target_for_a_create_before_the_follow_ups() {
    let input = resolve(
        &[("d", "t"), ("r", "d")],
        &[("r", None)],
        &[(0, "t")],
        &["d"],
    );
    let schedule = schedule(&input);
    assert_eq!(schedule.defer, [(0, "resolve".to_string())]);
    assert_eq!(
        schedule.waves,
        [
            updates(&["r"]),
            Wave {
                deletes: vec!["d".into()],
                ..Wave::default()
            }
        ]
    );
    play(&input, &schedule).unwrap();
}

#[test]
fn a_target_kept_by_another_item_is_left_for_directus_to_refuse() {
    let input = resolve(
        &[("keeper", "t"), ("a", "x")],
        &[("u", Some("t")), ("v", Some("x")), ("a", Some("y"))],
        &[],
        &[],
    );
    let schedule = schedule(&input);
    assert_eq!(
        schedule.waves,
        [updates(&["a"]), updates(&["v"]), updates(&["u"])]
    );
    assert_eq!(schedule.clears(), 0);
}

#[test]
fn nothing_to_schedule() {
    let input = resolve(&[("a", "b")], &[], &[], &["x"]);
    assert_eq!(schedule(&input), LinkSchedule::default());
    assert_eq!(schedule(&LinkInput::default()), LinkSchedule::default());
}

// ---------------------------------------------------------------------------------------
// Random cases: the schedule is played against a model of the instance.

/// Who holds a target in the model: a live item by name, or a created item by index.
type Holders = Vec<BTreeMap<String, String>>;

fn holders_of(input: &LinkInput) -> Holders {
    input
        .fields
        .iter()
        .map(|f| f.live.iter().map(|(h, t)| (t.clone(), h.clone())).collect())
        .collect()
}

fn take(holders: &mut Holders, f: usize, item: &str, target: &str) -> Result<(), String> {
    if let Some(other) = holders[f].get(target)
        && other != item
    {
        return Err(format!(
            "{item} takes {target} in field {f}, held by {other}"
        ));
    }
    holders[f].insert(target.to_string(), item.to_string());
    Ok(())
}

fn release(holders: &mut Holders, f: usize, item: &str) {
    holders[f].retain(|_, h| h != item);
}

/// Deleting `items` together: nothing else may point at them (foreign keys).
fn delete(holders: &mut Holders, items: &[String]) -> Result<(), String> {
    for (f, field) in holders.iter().enumerate() {
        for item in items {
            if let Some(referrer) = field.get(item)
                && !items.contains(referrer)
            {
                return Err(format!(
                    "{item} deleted while {referrer} points at it ({f})"
                ));
            }
        }
    }
    for f in 0..holders.len() {
        items.iter().for_each(|i| release(holders, f, i));
    }
    Ok(())
}

/// Plays `schedule` and returns the final links (target → holder, per field). Every wave is
/// checked as if its writes ran in any order: each must be possible from the wave's start.
fn play(input: &LinkInput, schedule: &LinkSchedule) -> Result<Holders, String> {
    let mut holders = holders_of(input);
    let new_targets: Vec<HashMap<&str, Option<&str>>> = input
        .fields
        .iter()
        .map(|f| {
            f.updates
                .iter()
                .map(|(i, t)| (i.as_str(), t.as_deref()))
                .collect()
        })
        .collect();
    let field_index = |name: &str| input.fields.iter().position(|f| f.name == name).unwrap();
    let mut deleted: Vec<String> = Vec::new();

    delete(&mut holders, &schedule.delete_first)?;
    deleted.extend(schedule.delete_first.iter().cloned());
    for (f, field) in input.fields.iter().enumerate() {
        for (create, target) in &field.creates {
            if !schedule.defer.contains(&(*create, field.name.clone())) {
                take(&mut holders, f, &format!("new#{create}"), target)?;
            }
        }
    }
    let mut updated: Vec<&str> = Vec::new();
    for (index, wave) in schedule.waves.iter().enumerate() {
        let start = holders.clone();
        let mut next = holders.clone();
        for (item, name) in &wave.clears {
            let f = field_index(name);
            let changes = new_targets[f].contains_key(item.as_str());
            if !changes && !input.deletes.contains(item) {
                return Err(format!(
                    "wave {index} clears {item}, which keeps its {name}"
                ));
            }
            release(&mut next, f, item);
        }
        for item in &wave.updates {
            if updated.contains(&item.as_str()) {
                return Err(format!("{item} updated twice"));
            }
            updated.push(item);
            for (f, targets) in new_targets.iter().enumerate() {
                let Some(target) = targets.get(item.as_str()) else {
                    continue;
                };
                if let Some(target) = target
                    && let Some(holder) = start[f].get(*target)
                    && holder != item
                {
                    return Err(format!(
                        "wave {index}: {item} takes {target} while {holder} holds it"
                    ));
                }
                release(&mut next, f, item);
            }
        }
        for item in &wave.updates {
            for (f, targets) in new_targets.iter().enumerate() {
                if let Some(Some(target)) = targets.get(item.as_str()) {
                    take(&mut next, f, item, target).map_err(|e| format!("wave {index}: {e}"))?;
                }
            }
        }
        for item in &wave.deletes {
            for (f, field) in start.iter().enumerate() {
                if let Some(referrer) = field.get(item)
                    && !wave.deletes.contains(referrer)
                {
                    return Err(format!(
                        "wave {index}: {item} deleted while {referrer} points at it ({f})"
                    ));
                }
            }
        }
        delete(&mut next, &wave.deletes)?;
        deleted.extend(wave.deletes.iter().cloned());
        holders = next;
    }
    let all_updates: BTreeSet<&str> = new_targets.iter().flat_map(|t| t.keys().copied()).collect();
    if all_updates != updated.iter().copied().collect() {
        return Err(format!("updated {updated:?}, planned {all_updates:?}"));
    }
    // Follow-ups, then the deletes left for the end.
    for (create, name) in &schedule.defer {
        let f = field_index(name);
        let target = &input.fields[f]
            .creates
            .iter()
            .find(|(c, _)| c == create)
            .unwrap()
            .1;
        take(&mut holders, f, &format!("new#{create}"), target)
            .map_err(|e| format!("follow-up: {e}"))?;
    }
    let rest: Vec<String> = input
        .deletes
        .iter()
        .filter(|d| !deleted.contains(d))
        .cloned()
        .collect();
    delete(&mut holders, &rest).map_err(|e| format!("at the end: {e}"))?;
    Ok(holders)
}

/// The links the dump asks for, computed without the scheduler.
fn expected(input: &LinkInput) -> Holders {
    input
        .fields
        .iter()
        .map(|field| {
            let mut links: BTreeMap<String, String> = field
                .live
                .iter()
                .filter(|(h, _)| !input.deletes.contains(h))
                .filter(|(h, _)| !field.updates.iter().any(|(u, _)| u == h))
                .map(|(h, t)| (t.clone(), h.clone()))
                .collect();
            for (item, target) in &field.updates {
                if let Some(target) = target {
                    links.insert(target.clone(), item.clone());
                }
            }
            for (create, target) in &field.creates {
                links.insert(target.clone(), format!("new#{create}"));
            }
            links
        })
        .collect()
}

/// xorshift64*: reproducible without a crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// A valid random push: live links unique per field, the dump's links unique per field, no
/// link to a deleted item, no item linking to itself.
fn random_input(rng: &mut Rng, fields: usize) -> LinkInput {
    let count = 2 + rng.below(7);
    let items: Vec<String> = (0..count).map(|i| format!("i{i}")).collect();
    let deletes: Vec<String> = items.iter().filter(|_| rng.chance(20)).cloned().collect();
    let kept: Vec<&String> = items.iter().filter(|i| !deletes.contains(i)).collect();
    let creates = rng.below(3);
    let mut out = LinkInput {
        fields: Vec::new(),
        deletes,
    };
    for f in 0..fields {
        let mut live = Vec::new();
        let mut targets: Vec<&String> = items.iter().collect();
        rng.shuffle(&mut targets);
        for item in &items {
            if rng.chance(70)
                && let Some(pos) = targets.iter().position(|t| *t != item)
            {
                live.push((item.clone(), targets.remove(pos).clone()));
            }
        }
        // Items that keep their link keep its target; the others draw from what is left.
        let mut taken: BTreeSet<String> = BTreeSet::new();
        let mut keepers: Vec<&String> = Vec::new();
        for item in &kept {
            let current = live.iter().find(|(h, _)| h == *item).map(|(_, t)| t);
            let keeps = current.is_none_or(|t| !out.deletes.contains(t)) && rng.chance(40);
            if keeps {
                if let Some(t) = current {
                    taken.insert(t.clone());
                }
                keepers.push(item);
            }
        }
        let mut free: Vec<&String> = kept
            .iter()
            .copied()
            .filter(|t| !taken.contains(*t))
            .collect();
        rng.shuffle(&mut free);
        let mut updates = Vec::new();
        for item in &kept {
            if keepers.contains(item) {
                continue;
            }
            let current = live
                .iter()
                .find(|(h, _)| h == *item)
                .map(|(_, t)| t.clone());
            let new = if rng.chance(25) {
                None
            } else {
                free.iter()
                    .position(|t| t != item)
                    .map(|pos| free.remove(pos).clone())
            };
            if new != current {
                updates.push(((*item).clone(), new));
            } else if let Some(t) = current {
                // Drawn its own target again: it keeps it.
                taken.insert(t);
            }
        }
        let mut create_links = Vec::new();
        for create in 0..creates {
            if rng.chance(60)
                && let Some(target) = free.pop()
            {
                create_links.push((create, target.clone()));
            }
        }
        out.fields.push(UniqueField {
            name: format!("f{f}"),
            live,
            updates,
            creates: create_links,
        });
    }
    out
}

/// Nodes that wait for one another (updates for the holder of their new target, deletes for
/// what points at them), and how many cycles with an update in them these waits form, for
/// one field (where every node waits for at most one other).
fn cycles_with_an_update(input: &LinkInput) -> usize {
    let field = &input.fields[0];
    let holder: HashMap<&str, &str> = field
        .live
        .iter()
        .map(|(h, t)| (t.as_str(), h.as_str()))
        .collect();
    let moving: HashMap<&str, Option<&str>> = field
        .updates
        .iter()
        .map(|(i, t)| (i.as_str(), t.as_deref()))
        .collect();
    let is_node = |n: &str| moving.contains_key(n) || input.deletes.iter().any(|d| d == n);
    let next = |n: &str| -> Option<&str> {
        let to = match moving.get(n) {
            Some(target) => holder.get((*target)?).copied(),
            None => holder.get(n).copied(),
        }?;
        (is_node(to) && to != n).then_some(to)
    };
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut cycles = 0;
    let nodes: Vec<&str> = moving
        .keys()
        .copied()
        .chain(input.deletes.iter().map(String::as_str))
        .collect();
    for &start in &nodes {
        let mut path: Vec<&str> = Vec::new();
        let mut node = Some(start);
        while let Some(n) = node {
            if seen.contains(n) {
                if let Some(pos) = path.iter().position(|p| *p == n)
                    && path[pos..].iter().any(|p| moving.contains_key(p))
                {
                    cycles += 1;
                }
                break;
            }
            seen.insert(n);
            path.push(n);
            node = next(n);
        }
    }
    cycles
}

/// Whether some update waits, through any chain of waits over any field, for itself.
fn an_update_waits_for_itself(input: &LinkInput) -> bool {
    let moving: BTreeSet<&str> = input
        .fields
        .iter()
        .flat_map(|f| f.updates.iter().map(|(i, _)| i.as_str()))
        .collect();
    let is_node = |n: &str| moving.contains(n) || input.deletes.iter().any(|d| d == n);
    let next = |n: &str| -> Vec<&str> {
        input
            .fields
            .iter()
            .filter_map(|field| {
                let holder = |t: &str| {
                    field
                        .live
                        .iter()
                        .find(|(_, target)| target == t)
                        .map(|(h, _)| h.as_str())
                };
                let to = match field.updates.iter().find(|(i, _)| i == n) {
                    Some((_, target)) => holder(target.as_deref()?),
                    None if moving.contains(n) => None,
                    None => holder(n),
                }?;
                (is_node(to) && to != n).then_some(to)
            })
            .collect()
    };
    moving.iter().any(|&start| {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut queue = next(start);
        while let Some(n) = queue.pop() {
            if n == start {
                return true;
            }
            if seen.insert(n) {
                queue.extend(next(n));
            }
        }
        false
    })
}

#[test]
fn random_pushes_play_out_valid_and_reach_the_dump() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..4000 {
        let fields = 1 + case % 2;
        let input = random_input(&mut rng, fields);
        let schedule = schedule(&input);
        let result = play(&input, &schedule)
            .unwrap_or_else(|e| panic!("case {case}: {e}\n{input:#?}\n{schedule:#?}"));
        assert_eq!(
            result,
            expected(&input),
            "case {case}: wrong end state\n{input:#?}\n{schedule:#?}"
        );
        if fields == 1 {
            // One clear per cycle, never more: a cycle needs one, and cycles share no item.
            assert_eq!(
                schedule.clears(),
                cycles_with_an_update(&input),
                "case {case}: clears\n{input:#?}\n{schedule:#?}"
            );
        }
        if !an_update_waits_for_itself(&input) {
            assert_eq!(
                schedule.clears(),
                0,
                "case {case}: clears without a cycle\n{input:#?}\n{schedule:#?}"
            );
        }
        // Every wave moves an item or clears a link.
        let moves: BTreeSet<&str> = input
            .fields
            .iter()
            .flat_map(|f| f.updates.iter().map(|(i, _)| i.as_str()))
            .chain(input.deletes.iter().map(String::as_str))
            .collect();
        assert!(
            schedule.waves.len() <= moves.len() + schedule.clears(),
            "case {case}: waves\n{input:#?}\n{schedule:#?}"
        );
    }
}

#[test]
fn invalid_pushes_still_end_with_every_update_sent_once() {
    // Dumps that no order satisfies (two items taking one target, a target kept by another
    // item, links to deleted items): the schedule still ends, and Directus has the last word.
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for case in 0..3000 {
        let count = 1 + rng.below(6);
        let name = |i: usize| format!("i{i}");
        let mut input = LinkInput::default();
        for f in 0..1 + rng.below(2) {
            let mut targets: Vec<usize> = (0..count).collect();
            rng.shuffle(&mut targets);
            let live = (0..count)
                .filter(|_| rng.chance(60))
                .filter_map(|i| Some((name(i), name(targets.pop()?))))
                .collect();
            let mut updates: Vec<(String, Option<String>)> = Vec::new();
            for i in 0..count {
                if rng.chance(50) {
                    let target = rng.chance(80).then(|| name(rng.below(count + 1)));
                    updates.push((name(i), target));
                }
            }
            let creates = (0..rng.below(3))
                .map(|c| (c, name(rng.below(count))))
                .collect();
            input.fields.push(UniqueField {
                name: format!("f{f}"),
                live,
                updates,
                creates,
            });
        }
        input.deletes = (0..count)
            .filter(|_| rng.chance(25))
            .map(name)
            .filter(|d| {
                !input
                    .fields
                    .iter()
                    .any(|f| f.updates.iter().any(|(u, _)| u == d))
            })
            .collect();
        let schedule = schedule(&input);
        let mut sent: Vec<&String> = schedule.waves.iter().flat_map(|w| &w.updates).collect();
        sent.sort();
        let mut planned: Vec<&String> = input
            .fields
            .iter()
            .flat_map(|f| f.updates.iter().map(|(u, _)| u))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        planned.sort();
        assert_eq!(sent, planned, "case {case}\n{input:#?}\n{schedule:#?}");
    }
}
