use std::collections::BTreeMap;

use crate::compose::model::{
    append_items, edit_scope, edit_scope_for_key, insert_entries, merge_inserts, parse_mount,
    path_within, services, uniform, well_formed, yaml, EditScope, Op, Service,
};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::knowledge::{family_of, image_info, persistent_paths, Family};
use crate::registry::{Check, Context};
use crate::yaml::{is_plain_safe, string_scalar, Entry, Node, Origin, YamlFile};

declare_transform! {
    /// ## What it does
    /// Flags services whose root filesystem is writable (no `read_only`, or `read_only: false`) and
    /// makes it read-only, giving the service a `tmpfs` for `/tmp` and for the paths its image is
    /// known to write at run time (`knowledge::ImageInfo::writes`: `/var/cache/nginx` and
    /// `/var/run` for nginx, `/var/run/postgresql` for postgres, ...). Paths already covered by a
    /// declared volume or an existing `tmpfs` entry are not added; existing `tmpfs` entries are
    /// kept and extended. Declared volumes stay writable. Windows containers (which do not support
    /// `read_only`) and services with `extends:` are skipped.
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
    /// Unsafe: an application that writes somewhere else than its volumes, `/tmp` and the paths
    /// the table knows fails with "Read-only file system" (run it once and check `docker diff` to
    /// find such paths; add a `tmpfs` for scratch data and a volume for data that must persist).
    /// Docker mounts tmpfs `noexec`: a program that runs files from `/tmp` (some JVM native
    /// libraries) needs `/tmp:exec`. Paths where an image keeps persistent state are never made a
    /// tmpfs (`knowledge::PERSISTENT_PATHS`); when the image does not declare them as a `VOLUME`
    /// and the service mounts nothing there, the fix is display-only until a volume is added.
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

/// What one service needs.
struct Need {
    svc: Service,
    read_only: ReadOnly,
    tmpfs: Tmpfs,
    /// tmpfs paths to add.
    add: Vec<String>,
    /// Persistent paths of the image that need a volume first.
    blocked: Vec<String>,
}

fn need(svc: Service) -> Option<Need> {
    if svc.extends() {
        return None;
    }
    let image = svc.image_hint();
    if image
        .as_ref()
        .is_some_and(|i| family_of(i) == Family::Windows)
        || svc
            .str("platform")
            .is_some_and(|p| p.to_ascii_lowercase().starts_with("windows"))
    {
        return None;
    }
    let ro = read_only(&svc);
    if matches!(ro, ReadOnly::True | ReadOnly::Unknown) {
        return None;
    }
    let tmpfs = tmpfs(&svc);
    let targets = volume_targets(&svc);
    let persistent = image.as_ref().map(persistent_paths).unwrap_or_default();
    let writes: &[&str] = image
        .as_ref()
        .and_then(image_info)
        .map_or(&[], |i| i.writes);
    let mut add: Vec<String> = Vec::new();
    for path in std::iter::once("/tmp").chain(writes.iter().copied()) {
        if add.iter().any(|a| a == path)
            || persistent.iter().any(|(p, _)| path_within(path, p))
            || targets.iter().any(|t| path_within(path, t))
            || tmpfs.paths.iter().any(|t| path_within(path, t))
        {
            continue;
        }
        add.push(path.to_owned());
    }
    let blocked = persistent
        .iter()
        .filter(|(p, declared)| !declared && !targets.iter().any(|t| path_within(p, t)))
        .map(|(p, _)| (*p).to_owned())
        .collect();
    Some(Need {
        svc,
        read_only: ro,
        tmpfs,
        add,
        blocked,
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
        let needs: Vec<Need> = services(file).into_iter().filter_map(need).collect();
        let in_place: BTreeMap<String, Vec<Op>> = needs
            .iter()
            .filter_map(|n| plan(file, n, Mode::InPlace).map(|ops| (n.svc.name.clone(), ops)))
            .collect();
        let blocked: std::collections::HashSet<&str> = needs
            .iter()
            .filter(|n| !n.blocked.is_empty())
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
        let blocked_reason = (!n.blocked.is_empty()).then(|| {
            let image = n
                .svc
                .image_hint()
                .map(|i| i.short())
                .unwrap_or_default();
            format!(
                "`{image}` keeps persistent data in {}: mount a volume there first (a tmpfs would lose it), so the fix is only shown",
                n.blocked
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
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
        let mut message = format!(
            "Service `{name}` {what}: an intruder can modify binaries and persist in the container. Make it read-only{tmpfs_text}"
        );
        let title = format!("Set `read_only: true`{tmpfs_text}");
        let finding = Finding::new(Self::CODE, Self::NAME, range, String::new());
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
        let t = "services:\n  g:\n    image: grafana/grafana:11.2.0\n";
        let f = testing::check(&WritableRootFilesystem, t, &Settings::default());
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.applicability, Applicability::DisplayOnly);
        assert!(f[0].message.contains("/var/lib/grafana"));
        assert_eq!(
            testing::apply(t, &fix.edits),
            "services:\n  g:\n    image: grafana/grafana:11.2.0\n    read_only: true\n    tmpfs:\n      - /tmp\n"
        );
        // Caddy declares its data folders as VOLUMEs: they are neither a tmpfs nor a blocker.
        let t = "services:\n  c:\n    image: caddy:2\n";
        let f = testing::check(&WritableRootFilesystem, t, &Settings::default());
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.applicability, Applicability::Unsafe);
        let out = testing::apply(t, &fix.edits);
        assert!(!out.contains("/data") && !out.contains("/config"), "{out}");
    }

    #[test]
    fn tmpfs_paths() {
        assert_eq!(tmpfs_path("/run:rw,size=64m"), "/run");
        assert_eq!(tmpfs_path("/tmp"), "/tmp");
    }
}
