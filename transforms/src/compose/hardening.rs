//! Shared by the hardening rules DC002-DC007: who else an in-place edit reaches (anchors, aliases,
//! merge keys), style-matching insertions, and the services worth hardening (re-exported from
//! `compose::model`).

#![allow(clippy::wildcard_imports)]

use super::model::*;
use crate::edit::Edit;
use crate::fix::SemanticPath;
use crate::text::TextRange;
use crate::yaml::{
    is_plain_safe, plain_is_string, quoted, Entry, Node, Origin, Parent, QuoteStyle, ScalarStyle,
    Sequence, YamlFile,
};

// ---------------------------------------------------------------------------------------------
// Shared by the hardening rules (DC002-DC007): who else an in-place edit reaches (anchors, aliases,
// merge keys), list edits in the file's own style, and the guards that keep edits lossless.

/// The services the hardening rules look at: `x-` entries under `services:` are extension blocks,
/// not services, and `provider:` services run no container.
#[must_use]
pub fn hardenable_services(ctx: &crate::registry::Context<'_>, file: &YamlFile) -> Vec<Service> {
    checked_services(ctx, file)
        .into_iter()
        .filter(|s| !s.name.starts_with("x-") && s.get("provider").is_none())
        .collect()
}

/// Whether the service only completes a definition made elsewhere: it has no `image`, `build` or
/// `extends` (an override file's entry, or a fragment), so what it runs is not known here.
#[must_use]
pub fn is_partial(svc: &Service) -> bool {
    ["image", "build", "extends"]
        .iter()
        .all(|k| svc.get(k).is_none())
}

/// What an in-place edit touches: a node (a list we append to or remove an item from) or an entry
/// (a key we remove).
#[derive(Clone, Copy)]
pub enum Target<'a> {
    Node(&'a Node),
    Entry(&'a Entry),
}

/// Every semantic path of the target's document at which the target appears, following aliases and
/// merge keys as the semantic view does: exactly what editing the target in place changes
/// ([`crate::yaml::node_reach`], [`crate::yaml::key_reach`]). None when the sharing could not be
/// followed.
#[must_use]
pub fn occurrences(target: Target<'_>) -> Option<Vec<SemanticPath>> {
    match target {
        Target::Node(n) => crate::yaml::node_reach(n),
        Target::Entry(e) => crate::yaml::key_reach(&e.mapping(), e.key()),
    }
    .into_paths()
}

/// When every path is a hardenable service's `key` (`services.<name>.<key>`) or lies under an `x-`
/// extension key (top level or under `services:`), the names of those services, in file order of the
/// paths; None when a path is anything else (editing in place would change more than services).
#[must_use]
pub fn service_users(paths: &[SemanticPath], key: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for p in paths {
        let k = &p.keys;
        if k.first().is_some_and(|f| f.starts_with("x-")) {
            continue;
        }
        if k.len() >= 2 && k[0] == "services" && k[1].starts_with("x-") {
            continue;
        }
        if k.len() == 3 && k[0] == "services" && k[2] == key {
            if !names.contains(&k[1]) {
                names.push(k[1].clone());
            }
            continue;
        }
        return None;
    }
    Some(names)
}

/// Whether a new `key` inserted into the service's mapping would also reach other places: the
/// mapping, or a mapping that holds it (`services: &all`), is an anchor that an alias copies
/// (`other: *web`) or that a mapping without its own `key` merges (`<<: *web`, directly or through
/// another merged mapping, at any level). The places are those of
/// [`super::scope::edit_scope_for_key`].
#[must_use]
pub fn insertion_reaches_others(svc: &Service, key: &str) -> bool {
    !insertion_reach(svc, key).is_empty()
}

/// The semantic paths other than `svc`'s own `key` that a new `key` inserted into the service's
/// mapping would change (see [`insertion_reaches_others`]), as `a.b.c` strings.
#[must_use]
pub fn insertion_reach(svc: &Service, key: &str) -> Vec<String> {
    let own = svc.path(&[key]);
    let scope = super::scope::edit_scope_for_key(&svc.mapping, key);
    let mut out: Vec<String> = scope
        .paths
        .iter()
        .filter(|p| **p != own)
        .map(|p| p.keys.join("."))
        .collect();
    if out.is_empty() && scope.foreign {
        // (Too deep to follow, or through a key: reported without a path.)
        out.push("a place reached through an alias".to_owned());
    }
    out
}

/// Every alias of a document (name, offset), merge-key aliases included.
fn document_aliases(doc: &crate::yaml::Document) -> Vec<(String, usize)> {
    doc.aliases()
        .iter()
        .map(|a| (a.name().to_owned(), a.range().start))
        .collect()
}

/// Whether deleting the ranges of `edits` keeps every alias of the document resolvable: no anchor
/// defined inside a deleted range is used by an alias outside it.
#[must_use]
pub fn removal_keeps_anchors(file: &YamlFile, doc: usize, edits: &[Edit]) -> bool {
    let Some(document) = file.document(doc) else {
        return false;
    };
    let deleted: Vec<TextRange> = edits
        .iter()
        .filter(|e| !e.range.is_empty())
        .map(|e| e.range)
        .collect();
    let inside = |at: usize| deleted.iter().any(|r| r.start <= at && at < r.end);
    let doomed: Vec<String> = document
        .anchors()
        .into_iter()
        .filter(|(_, n)| n.anchor_range().is_some_and(|r| inside(r.start)))
        .map(|(name, _)| name)
        .collect();
    if doomed.is_empty() {
        return true;
    }
    !document_aliases(&document)
        .iter()
        .any(|(name, at)| doomed.contains(name) && !inside(*at))
}

/// Whether new sequences in this service are best written in flow style (`[ALL]`): the service is a
/// flow mapping, or most of its own sequence values are flow sequences; with no sequence of its own,
/// as most sequences of the document's services are. Block style otherwise.
#[must_use]
pub fn prefers_flow(svc: &Service) -> bool {
    if svc.mapping.is_flow() {
        return true;
    }
    let (f, b) = super::model::sequence_styles(&svc.mapping);
    if f + b > 0 {
        return f > b;
    }
    let (f, b) = svc.doc_sequences;
    f > b
}

/// A string as an item of `seq` (or of a new sequence when None, in flow style when `flow`), quoted
/// the way the sequence's first scalar item is; plain when that is safe and it stays a string; in a
/// new flow sequence, values with a `:` are quoted (old YAML 1.1 loaders read `[a:b]` as a mapping).
#[must_use]
pub fn item_text(value: &str, seq: Option<&Sequence>, flow: bool, quote: QuoteStyle) -> String {
    let sibling = seq.and_then(|s| {
        s.items()
            .into_iter()
            .find_map(|i| i.value().as_scalar().map(crate::yaml::Scalar::style))
    });
    let flow = seq.map_or(flow, Sequence::is_flow);
    match sibling {
        Some(ScalarStyle::Double) => crate::yaml::double_quoted(value),
        Some(ScalarStyle::Single) => {
            crate::yaml::single_quoted(value).unwrap_or_else(|| crate::yaml::double_quoted(value))
        }
        _ => {
            let plain_ok = is_plain_safe(value, flow)
                && plain_is_string(value)
                && !(seq.is_none() && flow && value.contains(':'));
            if plain_ok {
                value.to_owned()
            } else {
                quoted(value, quote)
            }
        }
    }
}

/// A list value as a fragment for [`Mapping::insert_entry`] / [`Entry::replace_value`]: `[a, b]` in
/// flow style, `- a\n- b` in block style. `items` are already written as scalars.
#[must_use]
pub fn list_fragment(items: &[String], flow: bool) -> String {
    if flow || items.is_empty() {
        format!("[{}]", items.join(", "))
    } else {
        items
            .iter()
            .map(|i| format!("- {i}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Sort edits by position and join insertions at the same offset, in the order given (several items
/// appended to one list, or a key inserted right after a list that grows); exact duplicates and empty
/// insertions are dropped. The joining is [`super::scope::merge_inserts`].
#[must_use]
pub fn merge_insertions(edits: Vec<Edit>) -> Vec<Edit> {
    let mut edits = edits;
    edits.retain(|e| !(e.range.is_empty() && e.replacement.is_empty()));
    let mut merged = super::scope::merge_inserts(edits);
    merged.sort_by_key(|e| (e.range.start, e.range.end));
    merged
}

/// Make a fix's edits well-formed and conflict-aware: insertions at the same offset are joined in
/// the order given, and each insertion at a line start is widened to the line break before it (the
/// text produced is the same). The widening makes the insertion conflict with another fix that
/// deletes the lines just before it (say, the list it appends to): without it the engine would apply
/// both and leave the new line dangling; with it the engine defers one fix to the next round.
#[must_use]
pub fn finish_edits(text: &str, edits: Vec<Edit>) -> Vec<Edit> {
    let mut merged = merge_insertions(edits);
    let snapshot = merged.clone();
    for e in &mut merged {
        let at = e.range.start;
        if !e.range.is_empty() || at == 0 || text.as_bytes()[at - 1] != b'\n' {
            continue;
        }
        let collides = snapshot
            .iter()
            .any(|o| o.range != e.range && o.range.end >= at - 1 && o.range.start < at);
        if !collides {
            *e = Edit::replace(TextRange::new(at - 1, at), format!("\n{}", e.replacement));
        }
    }
    merged
}

/// The scalar strings of a sequence's items (aliases resolved); None for an item that is not a
/// scalar.
#[must_use]
pub fn scalar_items(seq: &Sequence) -> Vec<Option<String>> {
    seq.items()
        .into_iter()
        .map(|i| {
            i.value()
                .resolve()
                .and_then(|n| n.as_scalar().map(|s| s.value().to_owned()))
        })
        .collect()
}

/// A service's list-valued key (`cap_drop`, `security_opt`, `ports`, ...) as merge keys define it.
#[derive(Clone)]
pub enum ListState {
    /// Not set (own or merged).
    Absent,
    /// `key:` with no value, or `null`.
    Null(Entry, Origin),
    /// A sequence (aliases resolved).
    Seq { entry: Entry, seq: Sequence },
    /// Something that is not a list (a scalar, a mapping, an unresolvable alias).
    Other,
}

/// The state of `svc`'s `key`.
#[must_use]
pub fn list_state(svc: &Service, key: &str) -> ListState {
    let Some((entry, origin)) = svc.get(key) else {
        return ListState::Absent;
    };
    match entry.value().resolve() {
        Some(n) if n.is_null() => ListState::Null(entry, origin),
        Some(Node::Sequence(seq)) => ListState::Seq { entry, seq },
        _ => ListState::Other,
    }
}

/// Edits and the semantic paths they change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub edits: Vec<Edit>,
    pub changes: Vec<SemanticPath>,
    /// The services reached (more than one when a shared anchor is edited).
    pub services: Vec<String>,
    /// Set when a shared construct (an anchor) is edited in place.
    pub shared: bool,
    /// The edits add a new key to a mapping (rather than items to an existing list). When several
    /// plans insert at the same offset, items go first: they continue the list that ends there.
    pub new_key: bool,
}

/// The edits of several plans in the order [`finish_edits`] must join them: additions to
/// existing lists before new keys.
#[must_use]
pub fn ordered_edits(plans: &[&Plan]) -> Vec<Edit> {
    let mut out: Vec<Edit> = Vec::new();
    for p in plans.iter().filter(|p| !p.new_key) {
        out.extend(p.edits.iter().cloned());
    }
    for p in plans.iter().filter(|p| p.new_key) {
        out.extend(p.edits.iter().cloned());
    }
    out
}

/// Give `svc` an own `key` whose list is `items` (already written as scalars): a new entry in the
/// service mapping, or the own entry's value replaced (an alias or null). Refused when the service
/// mapping itself is shared.
///
/// # Errors
/// The reason no lossless edit exists.
pub fn plan_own_list(
    svc: &Service,
    _all: &[Service],
    key: &str,
    items: &[String],
) -> Result<Plan, String> {
    let reach = insertion_reach(svc, key);
    if !reach.is_empty() && svc.mapping.anchor().is_some() {
        return Err(format!(
            "service `{}` is an anchor that other services use without their own `{key}`, so a key added to it would reach them too",
            svc.name
        ));
    }
    if !reach.is_empty() {
        return Err(format!(
            "service `{}` is inside a mapping that is an anchor used elsewhere, so a `{key}` added to it would also change {}",
            svc.name,
            reach
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let flow = prefers_flow(svc);
    let fragment = list_fragment(items, flow);
    let own = svc.mapping.get(key).filter(|e| !e.is_merge());
    let new_key = own.is_none();
    let edits = match own {
        Some(own) => {
            if own.value().anchor().is_some() {
                return Err(format!(
                    "`{key}` of `{}` is an anchor that is used elsewhere",
                    svc.name
                ));
            }
            own.replace_value(&fragment)
        }
        None => svc.mapping.insert_entry(key, &fragment),
    }
    .map_err(|e| e.message)?;
    Ok(Plan {
        edits,
        changes: vec![svc.path(&[key])],
        services: vec![svc.name.clone()],
        shared: false,
        new_key,
    })
}

/// Append `values` (plain strings) to `svc`'s effective `key` list: into the list itself when only
/// this service uses it, or — when `shared_ok` and every user is a service (or an `x-` block) that
/// needs the same addition — into the shared list; otherwise as an own list of the service that
/// repeats the inherited items (an own key replaces a merged one). A missing key becomes an own key.
///
/// # Errors
/// The reason no lossless edit exists.
pub fn plan_append(
    file: &YamlFile,
    svc: &Service,
    all: &[Service],
    key: &str,
    values: &[String],
    shared_ok: bool,
) -> Result<Plan, String> {
    let quote = file.preferred_quote();
    let new_items = |seq: Option<&Sequence>| -> Vec<String> {
        let flow = seq.map_or_else(|| prefers_flow(svc), Sequence::is_flow);
        values
            .iter()
            .map(|v| item_text(v, seq, flow, quote))
            .collect()
    };
    match list_state(svc, key) {
        ListState::Absent => plan_own_list(svc, all, key, &new_items(None)),
        ListState::Null(entry, origin) => {
            if origin == Origin::Own && entry.value().anchor().is_none() {
                plan_own_list(svc, all, key, &new_items(None))
            } else {
                Err(format!(
                    "`{key}` is an empty value inherited from an anchor"
                ))
            }
        }
        ListState::Other => Err(format!("`{key}` is not a list")),
        ListState::Seq { entry, seq } => {
            if let Some(Reach {
                paths: reach,
                users,
                shared,
            }) = list_reach(svc, key, &entry, &seq, shared_ok)?
            {
                let items = new_items(Some(&seq));
                let edits = if seq.is_empty() {
                    // `[]`: rewrite the value (a flow sequence has no item to append after).
                    match seq.as_node().parent() {
                        Parent::EntryValue(e) => {
                            e.replace_value(&format!("[{}]", items.join(", ")))
                        }
                        _ => return Err(format!("`{key}` is an empty list that is not a value")),
                    }
                } else {
                    let mut edits = Vec::new();
                    for it in &items {
                        edits.extend(seq.append_item(it).map_err(|e| e.message)?);
                    }
                    Ok(merge_insertions(edits))
                }
                .map_err(|e| e.message)?;
                return Ok(Plan {
                    edits,
                    changes: reach,
                    services: users,
                    shared,
                    new_key: false,
                });
            }
            let mut items = inherited_items(svc, all, key, &seq, quote)?;
            items.extend(new_items(None));
            plan_own_list(svc, all, key, &items)
        }
    }
}

/// The items of `seq` written for a new own list of `svc` (quoted scalars as written, plain ones
/// re-checked for the new list's style).
fn inherited_items(
    svc: &Service,
    _all: &[Service],
    key: &str,
    seq: &Sequence,
    quote: QuoteStyle,
) -> Result<Vec<String>, String> {
    let flow = prefers_flow(svc);
    let mut items = Vec::new();
    for (it, v) in seq.items().iter().zip(scalar_items(seq)) {
        let Some(v) = v else {
            return Err(format!("`{key}` has an item that is not a plain value"));
        };
        items.push(match it.value() {
            Node::Scalar(s)
                if matches!(s.style(), ScalarStyle::Single | ScalarStyle::Double)
                    && !s.text().contains('\n') =>
            {
                s.text().to_owned()
            }
            _ => item_text(&v, None, flow, quote),
        });
    }
    Ok(items)
}

/// Where an in-place list edit lands: the semantic paths it changes, the services it reaches and
/// whether the list is shared.
struct Reach {
    paths: Vec<SemanticPath>,
    users: Vec<String>,
    shared: bool,
}

/// Whether `svc`'s list `seq` (its `key`) may be edited in place: the reach of the edit
/// and the users when it is shared. `Ok(None)` means "give the service an own list instead".
fn list_reach(
    svc: &Service,
    key: &str,
    entry: &Entry,
    seq: &Sequence,
    shared_ok: bool,
) -> Result<Option<Reach>, String> {
    let node = seq.as_node();
    let alias_value = matches!(entry.value(), Node::Alias(_));
    let reach = occurrences(Target::Node(&node))
        .ok_or_else(|| "the document is too large to analyse".to_owned())?;
    let only_self = reach.len() == 1 && reach[0] == svc.path(&[key]) && !alias_value;
    if only_self {
        return Ok(Some(Reach {
            paths: reach,
            users: vec![svc.name.clone()],
            shared: false,
        }));
    }
    match service_users(&reach, key) {
        Some(users) if shared_ok => {
            let users = if users.is_empty() {
                vec![svc.name.clone()]
            } else {
                users
            };
            Ok(Some(Reach {
                paths: reach,
                users,
                shared: true,
            }))
        }
        _ => Ok(None),
    }
}

/// Replace item `index` of `svc`'s `key` list by the plain string `value` (keeping its quoting), in
/// place or — when the list is shared beyond services that need the same change — in an own list.
///
/// # Errors
/// The reason no lossless edit exists.
pub fn plan_replace_item(
    file: &YamlFile,
    svc: &Service,
    all: &[Service],
    key: &str,
    index: usize,
    value: &str,
    shared_ok: bool,
) -> Result<Plan, String> {
    let ListState::Seq { entry, seq } = list_state(svc, key) else {
        return Err(format!("`{key}` is not a list"));
    };
    let item = seq
        .get(index)
        .ok_or_else(|| format!("`{key}` has no item {index}"))?;
    if let Some(Reach {
        paths: reach,
        users,
        shared,
    }) = list_reach(svc, key, &entry, &seq, shared_ok)?
    {
        let Node::Scalar(scalar) = item.value() else {
            return Err(format!("the item of `{key}` is an alias"));
        };
        return Ok(Plan {
            edits: vec![scalar.replace(value)],
            changes: reach,
            services: users,
            shared,
            new_key: false,
        });
    }
    let quote = file.preferred_quote();
    let mut items = inherited_items(svc, all, key, &seq, quote)?;
    items[index] = item_text(value, None, prefers_flow(svc), quote);
    plan_own_list(svc, all, key, &items)
}

/// Remove the items `indexes` of `svc`'s `key` list, in place or — when the list is shared beyond
/// services that need the same change — as an own list without them. When no item is left, the key
/// goes (`[]` instead when the list is an anchor an alias elsewhere uses).
///
/// # Errors
/// The reason no lossless edit exists.
pub fn plan_remove_items(
    file: &YamlFile,
    svc: &Service,
    all: &[Service],
    key: &str,
    indexes: &[usize],
    shared_ok: bool,
) -> Result<Plan, String> {
    let ListState::Seq { entry, seq } = list_state(svc, key) else {
        return Err(format!("`{key}` is not a list"));
    };
    let items = seq.items();
    let Some(Reach {
        paths: reach,
        users,
        shared,
    }) = list_reach(svc, key, &entry, &seq, shared_ok)?
    else {
        let quote = file.preferred_quote();
        let kept: Vec<String> = inherited_items(svc, all, key, &seq, quote)?
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !indexes.contains(i))
            .map(|(_, t)| t)
            .collect();
        return plan_own_list(svc, all, key, &kept);
    };
    let plan = |edits: Vec<Edit>| Plan {
        edits,
        changes: reach.clone(),
        services: users.clone(),
        shared,
        new_key: false,
    };
    if indexes
        .iter()
        .any(|&i| items.get(i).is_none_or(|it| it.value().anchor().is_some()))
        && !removal_keeps_anchors(
            file,
            svc.doc,
            &indexes
                .iter()
                .filter_map(|&i| items.get(i))
                .map(|it| Edit::delete(it.range()))
                .collect::<Vec<_>>(),
        )
    {
        return Err(format!(
            "an item of `{key}` is an anchor an alias elsewhere uses"
        ));
    }
    if indexes.len() >= items.len() {
        // Nothing left: drop the key where it is written (the list's own entry), else `[]`.
        if let Parent::EntryValue(holder) = seq.as_node().parent() {
            if let Ok(mut edits) = holder.remove() {
                if removal_keeps_anchors(file, svc.doc, &edits) {
                    edits.extend(emptying_guard(file.text(), &holder));
                    return Ok(plan(edits));
                }
            }
        }
        let first = items.first().ok_or_else(|| format!("`{key}` is empty"))?;
        if items.len() == 1 {
            return first.remove().map(plan).map_err(|e| e.message);
        }
        return match seq.as_node().parent() {
            Parent::EntryValue(holder) => {
                holder.replace_value("[]").map(plan).map_err(|e| e.message)
            }
            _ => Err(format!("`{key}` is not a value")),
        };
    }
    let mut edits = Vec::new();
    if seq.is_flow() {
        // Runs of removed items: up to the next kept item, or (at the end) from the previous one.
        let mut i = 0;
        while i < items.len() {
            if !indexes.contains(&i) {
                i += 1;
                continue;
            }
            let start = i;
            while i + 1 < items.len() && indexes.contains(&(i + 1)) {
                i += 1;
            }
            let end = i;
            if end + 1 < items.len() {
                edits.push(Edit::delete(TextRange::new(
                    items[start].range().start,
                    items[end + 1].range().start,
                )));
            } else {
                edits.push(Edit::delete(TextRange::new(
                    items[start - 1].range().end,
                    items[end].range().end,
                )));
            }
            i += 1;
        }
    } else {
        for &i in indexes {
            edits.extend(items[i].remove().map_err(|e| e.message)?);
        }
    }
    Ok(plan(edits))
}

/// Remove `entry` (found as `svc`'s `key` with `origin`): in place when only this service uses it or
/// every user is a service (or `x-` block) that has the same key to remove.
///
/// # Errors
/// The reason no lossless edit exists.
pub fn plan_remove_entry(
    file: &YamlFile,
    svc: &Service,
    key: &str,
    entry: &Entry,
) -> Result<Plan, String> {
    let reach = occurrences(Target::Entry(entry))
        .ok_or_else(|| "the document is too large to analyse".to_owned())?;
    let users = service_users(&reach, key).ok_or_else(|| {
        format!("`{key}` comes from an anchor that is also used outside the services")
    })?;
    let mut edits = entry.remove().map_err(|e| e.message)?;
    if !removal_keeps_anchors(file, svc.doc, &edits) {
        return Err(format!(
            "`{key}` holds an anchor that an alias elsewhere uses"
        ));
    }
    edits.extend(emptying_guard(file.text(), entry));
    let shared = reach.len() > 1 || reach.first() != Some(&svc.path(&[key]));
    Ok(Plan {
        edits,
        changes: reach,
        services: if users.is_empty() {
            vec![svc.name.clone()]
        } else {
            users
        },
        shared,
        new_key: false,
    })
}

/// Container ports a service declares (`ports` container side, `expose`), as (first, last, protocol);
/// interpolated values are skipped.
#[must_use]
pub fn declared_container_ports(svc: &Service) -> Vec<(u16, u16, String)> {
    let mut out = Vec::new();
    for key in ["ports", "expose"] {
        if let ListState::Seq { seq, .. } = list_state(svc, key) {
            for item in seq.items() {
                let Some(v) = item.value().resolve() else {
                    continue;
                };
                let spec = match &v {
                    Node::Scalar(s) => {
                        if key == "ports" {
                            short_port_container(s.value())
                        } else {
                            Some(s.value().to_owned())
                        }
                    }
                    Node::Mapping(m) => m.get("target").and_then(|e| {
                        let t = e.value().resolve()?.as_str()?.to_owned();
                        let proto = m
                            .get("protocol")
                            .and_then(|p| p.value().resolve()?.as_str().map(str::to_owned));
                        Some(match proto {
                            Some(p) => format!("{t}/{p}"),
                            None => t,
                        })
                    }),
                    _ => None,
                };
                if let Some(r) = spec.as_deref().and_then(parse_port_range) {
                    out.push(r);
                }
            }
        }
    }
    out
}

/// The container side (`80/tcp`, `8000-8010`) of a short-syntax port (`[ip:][host:]container[/proto]`);
/// the host side may be interpolated (`${PORT:-8080}:80`), the container side may not.
#[must_use]
pub fn short_port_container(spec: &str) -> Option<String> {
    let s = spec.trim();
    // The last `:` outside `${...}` (IPv6 host addresses are bracketed: `[::1]:8080:80`).
    let mut depth = 0usize;
    let mut split = None;
    for (i, c) in s.char_indices() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => split = Some(i),
            _ => {}
        }
    }
    let tail = split.map_or(s, |i| &s[i + 1..]);
    (!tail.contains('$') && !tail.is_empty()).then(|| tail.to_owned())
}

/// `80`, `80/udp`, `8000-8010/tcp` → (first, last, protocol); None when interpolated or malformed.
#[must_use]
pub fn parse_port_range(spec: &str) -> Option<(u16, u16, String)> {
    let s = spec.trim();
    let (body, proto) = match s.split_once('/') {
        Some((b, p)) => (b, p.to_ascii_lowercase()),
        None => (s, "tcp".to_owned()),
    };
    let (a, b) = match body.split_once('-') {
        Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
        None => {
            let p: u16 = body.trim().parse().ok()?;
            (p, p)
        }
    };
    (a <= b).then_some((a, b, proto))
}

/// Whether the service runs Windows containers (a Windows image or `platform: windows/...`), where
/// Linux capabilities and security options do not apply.
#[must_use]
pub fn is_windows(svc: &Service) -> bool {
    *svc.windows.get_or_init(|| is_windows_uncached(svc))
}

fn is_windows_uncached(svc: &Service) -> bool {
    if svc
        .str("platform")
        .is_some_and(|p| p.to_ascii_lowercase().starts_with("windows"))
        || svc.get("isolation").is_some()
    {
        return true;
    }
    // Windows paths and named pipes in its mounts.
    let windows_path = |p: &str| {
        let p = p.trim();
        let b = p.as_bytes();
        (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/'))
            || p.starts_with("\\\\.\\pipe\\")
            || p.starts_with("//./pipe/")
    };
    if let Some(Node::Sequence(seq)) = svc.value("volumes") {
        let any = seq.items().iter().any(|i| match i.value().resolve() {
            Some(Node::Scalar(s)) => {
                let v = s.value();
                windows_path(v) || v.split(':').skip(1).any(|part| part.starts_with('\\'))
            }
            Some(Node::Mapping(m)) => ["source", "target"].iter().any(|k| {
                m.get(k)
                    .and_then(|e| e.value().resolve())
                    .and_then(|n| n.as_str().map(windows_path))
                    .unwrap_or(false)
            }),
            _ => false,
        });
        if any {
            return true;
        }
    }
    let image = svc.image_hint();
    image.as_ref().is_some_and(|i| {
        crate::knowledge::family_of(i) == crate::knowledge::Family::Windows
            || crate::knowledge::built_in_facts(i)
                .is_some_and(|f| f.platform.as_deref() == Some("windows"))
    })
}

/// `names` as "`a`" / "`a`, `b`" for messages.
#[must_use]
pub fn quote_names(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "Service `a` runs" / "Services `a`, `b` run": the subject and the verb that agrees with it.
#[must_use]
pub fn services_phrase(names: &[String], singular: &str, plural: &str) -> String {
    if names.len() == 1 {
        format!("Service `{}` {singular}", names[0])
    } else {
        format!("Services {} {plural}", quote_names(names))
    }
}

/// A key to remove, found in one or more services (several when it lives in a shared anchor).
pub struct EntryHit {
    pub entry: Entry,
    pub services: Vec<Service>,
    pub plan: Result<Plan, String>,
}

impl EntryHit {
    /// The names of the services the removal reaches.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        match &self.plan {
            Ok(p) if p.shared => p.services.clone(),
            _ => self.services.iter().map(|s| s.name.clone()).collect(),
        }
    }
}

/// Every `key` entry (as merge keys define it) of the hardenable services whose scalar value
/// satisfies `pred`, one hit per entry, with the plan that removes it.
pub fn entry_hits(
    file: &YamlFile,
    all: &[Service],
    key: &str,
    pred: impl Fn(&str) -> bool,
) -> Vec<EntryHit> {
    let mut out: Vec<EntryHit> = Vec::new();
    for svc in all {
        let Some((entry, _)) = svc.get(key) else {
            continue;
        };
        let Some(value) = entry.value().resolve() else {
            continue;
        };
        if !value.as_str().is_some_and(&pred) {
            continue;
        }
        if let Some(hit) = out.iter_mut().find(|h| h.entry.id == entry.id) {
            hit.services.push(svc.clone());
            continue;
        }
        let plan = plan_remove_entry(file, svc, key, &entry);
        out.push(EntryHit {
            entry,
            services: vec![svc.clone()],
            plan,
        });
    }
    out
}

/// Whether one of the entry-removing hardening rules (DC004 to DC007) removes this entry in its
/// current state.
fn removed_by_hardening(e: &Entry) -> bool {
    let value = e.value().resolve();
    let s = value.as_ref().and_then(|n| n.as_str());
    match e.key() {
        "privileged" => s.is_some_and(|s| s.trim().eq_ignore_ascii_case("true")),
        "pid" | "ipc" | "uts" | "userns_mode" => s == Some("host"),
        "network_mode" => matches!(s, Some("host" | "bridge")),
        "security_opt" => value
            .as_ref()
            .and_then(Node::as_sequence)
            .is_some_and(|seq| {
                !seq.is_empty()
                    && scalar_items(seq).iter().all(|v| {
                        v.as_deref().is_some_and(|v| {
                            crate::compose::security_profile_disabled::disabled_profile(v).is_some()
                        })
                    })
            }),
        _ => false,
    }
}

/// Removing `entry` with [`Entry::remove`] deletes its lines; when other fixes of the same round
/// remove every other entry of the mapping the same way, the mapping is left with no entry at all,
/// which reads as null rather than `{}`. When every entry of the block mapping is one these rules
/// remove, this returns a no-op edit (the mapping's key rewritten as itself) whose range differs
/// per entry and overlaps the others', so the engine applies one removal per round and the last
/// one turns the mapping into `{}`.
#[must_use]
pub fn emptying_guard(text: &str, entry: &Entry) -> Option<Edit> {
    let m = entry.mapping();
    if m.is_flow() || m.len() < 2 || !m.entries().iter().all(removed_by_hardening) {
        return None;
    }
    let Parent::EntryValue(holder) = m.parent() else {
        return None;
    };
    let key = holder.key_range();
    if key.is_empty() {
        return None;
    }
    let mut end = key.start + (entry.index() + 1).min(key.len());
    while !text.is_char_boundary(end) && end < key.end {
        end += 1;
    }
    let range = TextRange::new(key.start, end);
    Some(Edit::replace(range, range.slice(text).to_owned()))
}

#[cfg(test)]
mod hardening_tests {
    use super::*;

    fn file(text: &str) -> YamlFile {
        crate::yaml::parse(text).unwrap()
    }

    fn svc(f: &YamlFile, name: &str) -> Service {
        services(f).into_iter().find(|s| s.name == name).unwrap()
    }

    fn keys(paths: &[SemanticPath]) -> Vec<String> {
        paths.iter().map(|p| p.keys.join(".")).collect()
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port_range("80"), Some((80, 80, "tcp".into())));
        assert_eq!(parse_port_range("53/UDP"), Some((53, 53, "udp".into())));
        assert_eq!(
            parse_port_range("8000-8010"),
            Some((8000, 8010, "tcp".into()))
        );
        assert_eq!(parse_port_range("${PORT}"), None);
        assert_eq!(parse_port_range("9-1"), None);
        assert_eq!(
            short_port_container("127.0.0.1:8080:80/udp").as_deref(),
            Some("80/udp")
        );
        assert_eq!(short_port_container("[::1]:8080:80").as_deref(), Some("80"));
        assert_eq!(short_port_container("3000").as_deref(), Some("3000"));
        assert_eq!(short_port_container("${P:-8080}:80").as_deref(), Some("80"));
        assert_eq!(short_port_container("8080:${P}"), None);
    }

    #[test]
    fn occurrences_follow_merges_and_aliases() {
        let f = file(
            "x-d: &d\n  cap_drop: [NET_RAW]\nservices:\n  a:\n    <<: *d\n  b:\n    <<: *d\n  c:\n    <<: *d\n    cap_drop: [ALL]\n",
        );
        let a = svc(&f, "a");
        let (entry, origin) = a.get("cap_drop").unwrap();
        assert_eq!(origin, Origin::Anchor("d".into()));
        let seq = entry.value();
        let paths = occurrences(Target::Node(&seq)).unwrap();
        assert_eq!(
            keys(&paths),
            ["x-d.cap_drop", "services.a.cap_drop", "services.b.cap_drop"]
        );
        assert_eq!(
            service_users(&paths, "cap_drop"),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(service_users(&paths, "cap_add"), None);
        let entry_paths = occurrences(Target::Entry(&entry)).unwrap();
        assert_eq!(keys(&entry_paths), keys(&paths));
    }

    #[test]
    fn anchors_kept_on_removal() {
        let f = file("services:\n  a:\n    p: &p true\n    q: 1\n  b:\n    p: *p\n");
        let a = svc(&f, "a");
        let p = a.mapping.get("p").unwrap();
        assert!(!removal_keeps_anchors(&f, 0, &p.remove().unwrap()));
        let q = a.mapping.get("q").unwrap();
        assert!(removal_keeps_anchors(&f, 0, &q.remove().unwrap()));
    }

    #[test]
    fn insertion_reach() {
        let f = file("services:\n  web: &web\n    image: x\n  canary:\n    <<: *web\n  pinned:\n    <<: *web\n    cap_drop: [ALL]\n");
        let web = svc(&f, "web");
        assert!(insertion_reaches_others(&web, "cap_drop"));
        let f = file(
            "services:\n  web: &web\n    image: x\n  canary:\n    <<: *web\n    cap_drop: [ALL]\n",
        );
        assert!(!insertion_reaches_others(&svc(&f, "web"), "cap_drop"));
        assert!(insertion_reaches_others(&svc(&f, "web"), "security_opt"));
        let f = file("services:\n  web: &web\n    image: x\n  copy: *web\n");
        assert!(insertion_reaches_others(&svc(&f, "web"), "cap_drop"));
    }

    #[test]
    fn insertions_are_joined_and_glued() {
        let text = "a:\n  - x\nb: 1\n";
        let edits = finish_edits(
            text,
            vec![Edit::insert(9, "  - y\n"), Edit::insert(9, "c: 2\n")],
        );
        assert_eq!(
            edits,
            vec![Edit::replace(TextRange::new(8, 9), "\n  - y\nc: 2\n")]
        );
        // Next to a deletion of the lines before it: not widened (same fix).
        let edits = finish_edits(
            text,
            vec![Edit::delete(TextRange::new(3, 9)), Edit::insert(9, "z\n")],
        );
        assert_eq!(edits[1], Edit::insert(9, "z\n"));
    }

    #[test]
    fn item_quoting_follows_siblings() {
        let f = file("a: ['x']\nb: [\"y\"]\nc:\n  - z\n");
        let root = f.documents()[0].root();
        let seq = |k: &str| root.path(&[k]).unwrap().as_sequence().unwrap().clone();
        assert_eq!(
            item_text("ALL", Some(&seq("a")), false, QuoteStyle::Double),
            "'ALL'"
        );
        assert_eq!(
            item_text("ALL", Some(&seq("b")), false, QuoteStyle::Single),
            "\"ALL\""
        );
        assert_eq!(
            item_text("8080:80", Some(&seq("c")), false, QuoteStyle::Double),
            "\"8080:80\""
        );
        assert_eq!(item_text("a:b", None, true, QuoteStyle::Single), "'a:b'");
        assert_eq!(item_text("a:b", None, false, QuoteStyle::Single), "a:b");
    }
}
