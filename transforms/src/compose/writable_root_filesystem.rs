use std::collections::BTreeMap;

use crate::compose::hardening::is_windows;
use crate::compose::model::{
    append_items, edit_scope, edit_scope_for_key, env_addition, insert_entries, merge_inserts,
    parse_mount, path_within, uniform, well_formed, yaml, EditScope, EnvAddition, Op, Service,
};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};
use crate::yaml::{is_plain_safe, string_scalar, Entry, Node, Origin, YamlFile};

declare_transform! {
    /// ## What it does
    /// Flags services whose root filesystem is writable (no `read_only`, or `read_only: false`) and
    /// makes it read-only, giving the service a `tmpfs` for `/tmp` and for the scratch paths its
    /// image is known to write at run time (the knowledge base's `tmpfs`: `/var/cache/nginx` and
    /// `/var/run` for nginx, `/var/run/postgresql` for postgres; `/run` allowing execution, plus
    /// `S6_READ_ONLY_ROOT=1`, for s6-overlay images). Paths already covered by a volume or an
    /// existing `tmpfs` entry are not added; existing `tmpfs` entries are kept and extended.
    /// Windows containers (image, `platform`, `isolation`, `C:\` paths or named pipes; Docker
    /// rejects a read-only root there) and services with `extends:` are skipped.
    ///
    /// ## Why is this bad?
    /// A writable root filesystem lets an intruder replace binaries, drop tools and persist inside the container; a read-only one confines writes to the volumes and tmpfs mounts you declared.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx:1.27
    ///     volumes:
    ///       - ./html:/usr/share/nginx/html:ro
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx:1.27
    ///     volumes:
    ///       - ./html:/usr/share/nginx/html:ro
    ///     read_only: true
    ///     tmpfs:
    ///       - /tmp
    ///       - /var/cache/nginx
    ///       - /var/run
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when the image is known to run read-only (no guessing: the
    /// knowledge base's `read-only = true`, or an `[[images]]` entry with `tmpfs`). An image
    /// nobody knows gets a display-only suggestion, and `fix --interactive` asks which paths it
    /// writes (and can save the answer). An image known not to run read-only (generated
    /// configuration under `/etc`, a keystore next to its configuration, s6-overlay images that
    /// do not support it) is reported without a fix, with the reason. Paths where an image keeps
    /// state (`state`) are never made a tmpfs: when the image does not declare them as a `VOLUME`
    /// and the service mounts nothing there, the fix is display-only until a volume is added; the
    /// same when the service's setup makes the image write elsewhere (`writes-when`: a mounted
    /// templates folder makes nginx render into `/etc/nginx/conf.d`). Docker mounts tmpfs
    /// `noexec`; the paths the image runs files from get `:exec`.
    /// When `read_only` or `tmpfs` come from an anchor shared by several services, the anchor is
    /// edited only when every service that uses it needs the same change, and then one fix changes
    /// all of them together; otherwise each service gets its own keys (an own `tmpfs` repeats the
    /// inherited entries, since it replaces them), or the fix is display-only.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use read-only root filesystems" and "Use `--tmpfs` for temporary writable
    /// storage instead of persistent volumes". CIS Docker Benchmark v1.2.0 5.12 (root filesystem
    /// mounted read-only); compose-lint CL-0007; OWASP Docker Security Cheat Sheet rule 8.
    pub struct WritableRootFilesystem => "DC008", "writable-root-filesystem", Compose, Sometimes;
}

/// The service's `read_only` as merge keys define it.
enum ReadOnly {
    True,
    /// Absent.
    Missing,
    /// `false` (or `no` / `off`): replace this entry's value.
    False(Entry, Origin),
    /// Interpolated or unexpected: not judged.
    Unknown,
}

fn read_only(svc: &Service) -> ReadOnly {
    let Some((entry, origin)) = svc.get("read_only") else {
        return ReadOnly::Missing;
    };
    let Some(value) = entry.value().resolve() else {
        return ReadOnly::Unknown;
    };
    if value.is_null() {
        return ReadOnly::False(entry, origin);
    }
    match value.as_str().map(str::to_ascii_lowercase).as_deref() {
        Some("true" | "yes" | "on") => ReadOnly::True,
        Some("false" | "no" | "off") => ReadOnly::False(entry, origin),
        _ => ReadOnly::Unknown,
    }
}

/// The path of a tmpfs entry (`/run:size=64m` → `/run`).
fn tmpfs_path(spec: &str) -> &str {
    spec.split(':').next().unwrap_or(spec).trim()
}

/// The service's current tmpfs entries: (entry, raw item texts, paths).
struct Tmpfs {
    entry: Option<(Entry, Origin)>,
    paths: Vec<String>,
}

fn tmpfs(svc: &Service) -> Tmpfs {
    let entry = svc.get("tmpfs");
    let mut paths = Vec::new();
    if let Some((e, _)) = &entry {
        match e.value().resolve() {
            Some(Node::Scalar(s)) if !s.is_null() => paths.push(tmpfs_path(s.value()).to_owned()),
            Some(Node::Sequence(seq)) => {
                for item in seq.items() {
                    if let Some(v) = item
                        .value()
                        .resolve()
                        .and_then(|n| n.as_str().map(str::to_owned))
                    {
                        paths.push(tmpfs_path(&v).to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    Tmpfs { entry, paths }
}

/// Every volume target of the service.
fn volume_targets(svc: &Service) -> Vec<String> {
    let Some(Node::Sequence(seq)) = svc.value("volumes") else {
        return Vec::new();
    };
    seq.items()
        .iter()
        .filter_map(|i| parse_mount(&i.value()))
        .map(|m| m.target.trim().to_owned())
        .collect()
}

/// What is known about whether a service's image can run read-only.
enum Knows {
    /// It can, with the tmpfs paths computed into [`Need::add`].
    Works { source: String },
    /// It cannot: why, and where that is known from.
    Cannot { why: String, source: String },
    /// Unknown: why, and the question that would tell.
    Unknown {
        why: String,
        ask: Option<crate::finding::Need>,
    },
}

/// What one service needs.
struct Need {
    svc: Service,
    read_only: ReadOnly,
    tmpfs: Tmpfs,
    /// tmpfs paths to add (with `:exec` where the image runs files from them).
    add: Vec<String>,
    /// Variables the image needs to run read-only that the service does not set.
    env: Vec<(String, String)>,
    /// Persistent paths of the image that need a volume first.
    blocked: Vec<String>,
    /// Paths the image writes in this service's setup (`writes-when`) that nothing makes writable.
    conditional: Vec<(String, String)>,
    knows: Knows,
}

/// The service's environment as (name, value) pairs (mapping or `NAME=value` list).
fn environment(svc: &Service) -> Vec<(String, String)> {
    match svc.value("environment") {
        Some(Node::Mapping(m)) => m
            .entries()
            .iter()
            .map(|e| {
                let v = e
                    .value()
                    .resolve()
                    .and_then(|n| n.as_str().map(str::to_owned))
                    .unwrap_or_default();
                (e.key().to_owned(), v)
            })
            .collect(),
        Some(Node::Sequence(seq)) => seq
            .items()
            .iter()
            .filter_map(|i| i.value().resolve()?.as_str().map(str::to_owned))
            .map(|t| match t.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (t, String::new()),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn need(ctx: &Context<'_>, svc: Service) -> Option<Need> {
    if svc.extends() || is_windows(&svc) {
        return None;
    }
    let ro = read_only(&svc);
    if matches!(ro, ReadOnly::True | ReadOnly::Unknown) {
        return None;
    }
    let tmpfs = tmpfs(&svc);
    let targets = volume_targets(&svc);
    let needs = svc.needs(ctx);
    let facts = needs.facts();
    let state = facts.state.clone().unwrap_or_default();
    let declared = facts.volumes.clone().unwrap_or_default();
    let covered = |path: &str| {
        targets.iter().any(|t| path_within(path, t))
            || tmpfs.paths.iter().any(|t| path_within(path, t))
    };
    let knows = match facts.read_only {
        Some(true) => Knows::Works {
            source: needs.source.clone(),
        },
        Some(false) => Knows::Cannot {
            why: facts
                .read_only_why
                .clone()
                .unwrap_or_else(|| "it writes into its root filesystem".into()),
            source: needs.source.clone(),
        },
        None => Knows::Unknown {
            why: needs.unknown.clone().unwrap_or_else(|| {
                format!(
                    "which paths `{}` writes at run time is not known ({})",
                    needs.subject,
                    if needs.source.is_empty() {
                        "no knowledge"
                    } else {
                        &needs.source
                    }
                )
            }),
            ask: svc.image_question(
                &needs,
                "images.tmpfs",
                format!(
                    "Paths `{}` writes at run time outside its volumes (made tmpfs), e.g. /tmp /var/run, or `none`",
                    needs.subject
                ),
            ),
        },
    };
    let mut add: Vec<String> = Vec::new();
    let exec = facts.tmpfs_exec.clone().unwrap_or_default();
    let writes = facts.tmpfs.clone().unwrap_or_default();
    for path in std::iter::once("/tmp".to_owned()).chain(writes) {
        if add.iter().any(|a| tmpfs_path(a) == path)
            || state.iter().any(|p| path_within(&path, p))
            || covered(&path)
        {
            continue;
        }
        if exec.contains(&path) {
            add.push(format!("{path}:exec"));
        } else {
            add.push(path);
        }
    }
    let blocked = state
        .iter()
        .filter(|p| {
            !declared.iter().any(|d| path_within(p, d))
                && !targets.iter().any(|t| path_within(p, t))
        })
        .cloned()
        .collect();
    let env_now = environment(&svc);
    let env = facts.read_only_env_missing(|k| env_now.iter().any(|(n, _)| n == k));
    let conditional = facts.conditional_writes(
        &targets,
        |v| env_now.iter().any(|(n, val)| n == v && !val.is_empty()),
        covered,
    );
    Some(Need {
        svc,
        read_only: ro,
        tmpfs,
        add,
        env,
        blocked,
        conditional,
        knows,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Edit `read_only` and `tmpfs` where they live (possibly a shared anchor).
    InPlace,
    /// Only the service's own mapping.
    Own,
}

/// `- a\n- b` for a fragment.
fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("- {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The raw texts of the inherited tmpfs entries, to repeat them in an own `tmpfs`. None when they
/// cannot be copied verbatim (multi-line, aliases, non-scalars).
fn carried(entry: &Entry) -> Option<Vec<String>> {
    let raw = |n: &Node| -> Option<String> {
        match n {
            Node::Scalar(s) if !s.raw().contains('\n') && !s.is_null() => Some(s.raw().to_owned()),
            _ => None,
        }
    };
    match entry.value().resolve()? {
        Node::Scalar(s) => Some(vec![raw(&Node::Scalar(s))?]),
        Node::Sequence(seq) => seq.items().iter().map(|i| raw(&i.value())).collect(),
        n if n.is_null() => Some(Vec::new()),
        _ => None,
    }
}

fn plan(file: &YamlFile, n: &Need, mode: Mode) -> Option<Vec<Op>> {
    let m = &n.svc.mapping;
    let mut ops = Vec::new();
    // Own keys to insert into the service mapping, in one edit.
    let mut inserts: Vec<(String, String)> = Vec::new();
    match &n.read_only {
        ReadOnly::False(e, origin) => {
            let own = *origin == Origin::Own;
            if mode == Mode::Own && !own {
                inserts.push(("read_only".into(), "true".into()));
            } else {
                let v = e.value();
                let edits = e.replace_value("true").ok()?;
                ops.push(Op::new(&v, edits, edit_scope(&v)));
            }
        }
        ReadOnly::Missing => inserts.push(("read_only".into(), "true".into())),
        ReadOnly::True | ReadOnly::Unknown => return None,
    }
    if !n.add.is_empty() {
        match &n.tmpfs.entry {
            None => inserts.push(("tmpfs".into(), list(&n.add))),
            Some((e, origin)) if mode == Mode::Own && *origin != Origin::Own => {
                let mut items = carried(e)?;
                items.extend(n.add.iter().cloned());
                inserts.push(("tmpfs".into(), list(&items)));
            }
            Some((e, _)) => {
                let value = e.value();
                let resolved = value.resolve()?;
                match &resolved {
                    Node::Sequence(seq) if !seq.is_empty() => {
                        let edits = append_items(file, seq, &n.add).ok()?;
                        ops.push(Op::new(&resolved, edits, edit_scope(&resolved)));
                    }
                    _ => {
                        // A single string, `[]` or an empty value: becomes a list.
                        if matches!(value, Node::Alias(_)) {
                            return None;
                        }
                        // Written as a flow list on the key's line: one edit, whatever
                        // follows the entry.
                        let quote = file.preferred_quote();
                        let mut items: Vec<String> = carried(e)?
                            .into_iter()
                            .map(|raw| {
                                if raw.starts_with(['"', '\'']) || is_plain_safe(&raw, true) {
                                    raw
                                } else {
                                    string_scalar(&raw, quote, true)
                                }
                            })
                            .collect();
                        items.extend(n.add.iter().cloned());
                        let frag = format!("[{}]", items.join(", "));
                        let edits = e.replace_value(&frag).ok()?;
                        ops.push(Op::new(&value, edits, edit_scope(&value)));
                    }
                }
            }
        }
    }
    if !n.env.is_empty() {
        match env_addition(file, &n.svc, &n.env)? {
            EnvAddition::NewKey(fragment) => inserts.push(("environment".into(), fragment)),
            EnvAddition::Edits(node, edits) => ops.push(Op::new(&node, edits, edit_scope(&node))),
        }
    }
    if !inserts.is_empty() {
        let edits = insert_entries(file, m, &inserts).ok()?;
        let mut scope = EditScope::default();
        for (k, _) in &inserts {
            scope.extend(&edit_scope_for_key(m, k));
        }
        ops.push(Op::new(&m.as_node(), edits, scope));
    }
    Some(ops)
}

/// Union-find over service names.
fn groups(plans: &BTreeMap<String, Vec<Op>>) -> BTreeMap<String, String> {
    let mut parent: BTreeMap<String, String> =
        plans.keys().map(|k| (k.clone(), k.clone())).collect();
    fn root(parent: &BTreeMap<String, String>, k: &str) -> String {
        let mut cur = k.to_owned();
        for _ in 0..10_000 {
            let p = parent.get(&cur).cloned().unwrap_or_else(|| cur.clone());
            if p == cur {
                break;
            }
            cur = p;
        }
        cur
    }
    for ops in plans.values() {
        for op in ops {
            let members: Vec<&String> = op
                .scope
                .services
                .iter()
                .filter(|s| plans.contains_key(*s))
                .collect();
            for w in members.windows(2) {
                let (a, b) = (root(&parent, w[0]), root(&parent, w[1]));
                if a != b {
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    parent.insert(hi, lo);
                }
            }
        }
    }
    let keys: Vec<String> = parent.keys().cloned().collect();
    keys.into_iter()
        .map(|k| {
            let r = root(&parent, &k);
            (k, r)
        })
        .collect()
}

fn names(list: &[String]) -> String {
    list.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fix chosen for one service.
struct Chosen {
    ops: Vec<Op>,
    /// Other services the fix changes too (they share an anchor).
    with: Vec<String>,
    /// Why the fix is only shown.
    display_only: Option<String>,
}

impl Check for WritableRootFilesystem {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let needs: Vec<Need> = crate::compose::model::checked_services(ctx, file)
            .into_iter()
            .filter_map(|s| need(ctx, s))
            .collect();
        let in_place: BTreeMap<String, Vec<Op>> = needs
            .iter()
            .filter_map(|n| plan(file, n, Mode::InPlace).map(|ops| (n.svc.name.clone(), ops)))
            .collect();
        let blocked: std::collections::HashSet<&str> = needs
            .iter()
            .filter(|n| {
                !n.blocked.is_empty()
                    || !n.conditional.is_empty()
                    || !matches!(n.knows, Knows::Works { .. })
            })
            .map(|n| n.svc.name.as_str())
            .collect();
        let group_of = groups(&in_place);
        // The members of each group, and each group's combined edits, computed once (not once
        // per member: a group can hold every service).
        let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, g) in &group_of {
            members.entry(g.clone()).or_default().push(name.clone());
        }
        // A group is applied in place when every shared op is uniform and no member is blocked.
        let mut ok: BTreeMap<String, bool> = BTreeMap::new();
        for (name, ops) in &in_place {
            let g = group_of[name].clone();
            let fine = !blocked.contains(name.as_str())
                && ops
                    .iter()
                    .all(|o| o.is_private_to(name) || uniform(o, &in_place));
            let e = ok.entry(g).or_insert(true);
            *e &= fine;
        }
        let mut groups = Groups {
            of: group_of,
            ok,
            members,
            ops: BTreeMap::new(),
        };
        needs
            .iter()
            .map(|n| {
                let chosen = self.choose(file, n, &in_place, &mut groups);
                self.finding(n, chosen)
            })
            .collect()
    }
}

/// Services that share in-place ops, as [`groups`] joins them.
struct Groups {
    /// Service → its group (a representative member).
    of: BTreeMap<String, String>,
    /// Group → whether it may be fixed in place.
    ok: BTreeMap<String, bool>,
    /// Group → its members.
    members: BTreeMap<String, Vec<String>>,
    /// Group → its members' ops joined, when they combine (filled on first use).
    ops: BTreeMap<String, Option<Vec<Op>>>,
}

impl WritableRootFilesystem {
    fn choose(
        &self,
        file: &YamlFile,
        n: &Need,
        in_place: &BTreeMap<String, Vec<Op>>,
        groups: &mut Groups,
    ) -> Option<Chosen> {
        let name = &n.svc.name;
        let list = |paths: &[String]| {
            paths
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let blocked_reason = match &n.knows {
            Knows::Cannot { .. } => return None,
            Knows::Unknown { why, .. } => Some(format!(
                "{why}: the fix is only shown; add what it writes to `tmpfs` (scratch) or a volume (state), or tell dockharden with `read-only`/`tmpfs` in an `[[images]]` entry of .dockharden.toml, or answer in `fix --interactive`"
            )),
            Knows::Works { .. } if !n.blocked.is_empty() => Some(format!(
                "it keeps persistent data in {}: mount a volume there first (a tmpfs would lose it), so the fix is only shown",
                list(&n.blocked)
            )),
            Knows::Works { .. } if !n.conditional.is_empty() => Some(format!(
                "in this setup it also writes {}: give it a volume or tmpfs there first, so the fix is only shown",
                n.conditional
                    .iter()
                    .map(|(p, why)| format!("`{p}` ({why})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Knows::Works { .. } => None,
        };
        let own_ok = |ops: &Vec<Op>| ops.iter().all(|o| o.is_private_to(name));
        let group = groups.of.get(name);
        if let Some(group) = group.filter(|g| groups.ok.get(*g).copied().unwrap_or(false)) {
            let members: Vec<&String> = groups
                .members
                .get(group)
                .map_or(Vec::new(), |m| m.iter().collect());
            let combined = groups
                .ops
                .entry(group.clone())
                .or_insert_with(|| {
                    let mut ops: Vec<Op> = Vec::new();
                    for m in &members {
                        for o in &in_place[*m] {
                            if !ops.contains(o) {
                                ops.push(o.clone());
                            }
                        }
                    }
                    let edits = merge_inserts(ops.iter().flat_map(|o| o.edits.clone()).collect());
                    well_formed(&edits).then_some(ops)
                })
                .clone();
            if let Some(ops) = combined {
                return Some(Chosen {
                    ops,
                    with: members
                        .iter()
                        .filter(|m| *m != &name)
                        .map(|m| (*m).clone())
                        .collect(),
                    display_only: blocked_reason,
                });
            }
        }
        if let Some(ops) = plan(file, n, Mode::Own).filter(own_ok) {
            return Some(Chosen {
                ops,
                with: Vec::new(),
                display_only: blocked_reason,
            });
        }
        let ops = in_place.get(name)?.clone();
        Some(Chosen {
            ops,
            with: Vec::new(),
            display_only: Some(blocked_reason.unwrap_or_else(|| {
                "its `read_only` / `tmpfs` come from an anchor that other services use differently, so the fix is only shown".into()
            })),
        })
    }

    fn finding(&self, n: &Need, chosen: Option<Chosen>) -> Finding {
        let name = &n.svc.name;
        let (range, what) = match &n.read_only {
            ReadOnly::False(e, Origin::Own) => (e.range(), "sets `read_only: false`"),
            ReadOnly::False(..) => (n.svc.key_range(), "inherits `read_only: false`"),
            _ => (n.svc.key_range(), "has a writable root filesystem"),
        };
        let tmpfs_text = if n.add.is_empty() {
            String::new()
        } else {
            format!(
                " with tmpfs for {}",
                n.add
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let env_text = if n.env.is_empty() {
            String::new()
        } else {
            format!(
                " and {}",
                n.env
                    .iter()
                    .map(|(k, v)| format!("`{k}={v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut message = format!(
            "Service `{name}` {what}: an intruder can modify binaries and persist in the container. Make it read-only{tmpfs_text}{env_text}"
        );
        match &n.knows {
            Knows::Works { source } if !source.is_empty() => {
                message.push_str(&format!(" (what it writes: {source})"));
            }
            Knows::Cannot { why, source } => {
                message = format!(
                    "Service `{name}` {what}: an intruder can modify binaries and persist in the container; but its image cannot run with a read-only root filesystem: {why} ({source}), so there is no fix: confine what it writes with volumes, or suppress this finding"
                );
            }
            _ => {}
        }
        let title = format!("Set `read_only: true`{tmpfs_text}{env_text}");
        let ask = match &n.knows {
            Knows::Unknown { ask, .. } => ask.clone(),
            _ => None,
        };
        let finding = Finding::new(Self::CODE, Self::NAME, range, String::new());
        let finding = match ask {
            Some(need) => finding.with_need(need),
            None => finding,
        };
        let Some(chosen) = chosen else {
            return Finding { message, ..finding };
        };
        let edits = merge_inserts(chosen.ops.iter().flat_map(|o| o.edits.clone()).collect());
        if edits.is_empty() || !well_formed(&edits) {
            return Finding { message, ..finding };
        }
        let mut scope = EditScope::default();
        for o in &chosen.ops {
            scope.extend(&o.scope);
        }
        if !chosen.with.is_empty() {
            message.push_str(&format!(
                " (the same fix changes {}, which share{} the anchor)",
                names(&chosen.with),
                if chosen.with.len() == 1 { "s" } else { "" }
            ));
        }
        let fix = match chosen.display_only {
            Some(reason) => {
                message.push_str(&format!("; {reason}"));
                Fix::display_only(title, edits)
            }
            None => Fix::unsafe_(title, edits),
        };
        Finding { message, ..finding }.with_fix(fix.with_changes(scope.paths))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::scope::testing;
    use crate::fix::Applicability;
    use crate::settings::Settings;

    #[test]
    fn persistent_data_without_a_volume_is_only_suggested() {
        // Caddy keeps certificates in /data and /config, and its Dockerfile declares no VOLUME.
        let t = "services:\n  c:\n    image: caddy:2.11\n";
        let f = testing::check(&WritableRootFilesystem, t, &Settings::default());
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.applicability, Applicability::DisplayOnly);
        assert!(f[0].message.contains("`/data`"), "{}", f[0].message);
        assert_eq!(
            testing::apply(t, &fix.edits),
            "services:\n  c:\n    image: caddy:2.11\n    read_only: true\n    tmpfs:\n      - /tmp\n"
        );
        // With volumes there, the fix applies and makes neither a tmpfs.
        let t = "services:\n  c:\n    image: caddy:2.11\n    volumes:\n      - data:/data\n      - config:/config\n";
        let f = testing::check(&WritableRootFilesystem, t, &Settings::default());
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.applicability, Applicability::Unsafe);
        let out = testing::apply(t, &fix.edits);
        assert!(
            out.ends_with("read_only: true\n    tmpfs:\n      - /tmp\n"),
            "{out}"
        );
    }

    #[test]
    fn unknown_images_and_images_that_cannot_run_read_only() {
        let t = "services:\n  a:\n    image: ghcr.io/acme/agent:1\n";
        let f = testing::check(&WritableRootFilesystem, t, &Settings::default());
        assert_eq!(
            f[0].fix.as_ref().unwrap().applicability,
            Applicability::DisplayOnly
        );
        let need = f[0]
            .need
            .as_ref()
            .expect("a question for the interactive session");
        assert_eq!(need.option, "images.tmpfs");
        assert_eq!(need.key.as_deref(), Some("ghcr.io/acme/agent"));
        // Answered (or configured): applied.
        let mut s = Settings::default();
        s.set(
            "images.tmpfs",
            Some("ghcr.io/acme/agent"),
            "/tmp /var/cache/agent",
        )
        .unwrap();
        let f = testing::check(&WritableRootFilesystem, t, &s);
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.applicability, Applicability::Unsafe);
        assert!(testing::apply(t, &fix.edits).contains("- /var/cache/agent"));
        // The knowledge base says it cannot: no fix, and the message says why.
        let t = "services:\n  m:\n    image: mailserver/docker-mailserver:14\n";
        let f = testing::check(&WritableRootFilesystem, t, &Settings::default());
        assert!(f[0].fix.is_none(), "{:?}", f[0].fix);
        assert!(
            f[0].message.contains("cannot run with a read-only root"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn tmpfs_paths() {
        assert_eq!(tmpfs_path("/run:rw,size=64m"), "/run");
        assert_eq!(tmpfs_path("/tmp"), "/tmp");
    }
}
