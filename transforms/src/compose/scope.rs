//! What an in-place compose edit changes (anchors, aliases, merge keys), multi-key insertions, and
//! volume mount parsing, shared by the DC rules (re-exported from `compose::model`).

#![allow(clippy::wildcard_imports)]

use super::model::*;
use crate::edit::Edit;
use crate::fix::SemanticPath;
use crate::knowledge::ImageName;
use crate::text::TextRange;
use crate::yaml::{
    key_reach, node_reach, same_node, Mapping, Node, Reach, Sequence, YamlError, YamlFile,
};

// ---------------------------------------------------------------------------------------------
// Images whose tag is interpolated

impl Service {
    /// The image reference for knowledge look-ups: like [`Service::image`], but a reference whose
    /// only interpolation is in the tag (`nginx:${NGINX_VERSION}`) still names its repository (the
    /// tag is dropped). None without `image:` or when the repository itself is interpolated.
    #[must_use]
    pub fn image_hint(&self) -> Option<ImageName> {
        let s = self.str("image")?;
        if !ImageName::is_templated(&s) {
            return Some(ImageName::parse(&s));
        }
        let without_digest = s.split('@').next().unwrap_or(&s);
        let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
        let repo_end = without_digest[last_slash..]
            .find(':')
            .map_or(without_digest.len(), |i| last_slash + i);
        let repo = &without_digest[..repo_end];
        if ImageName::is_templated(repo) || repo.is_empty() {
            return None;
        }
        Some(ImageName::parse(repo))
    }

    /// The service has an `extends:` key: part of its configuration comes from another service
    /// (possibly in another file), so the absence of a key proves nothing.
    #[must_use]
    pub fn extends(&self) -> bool {
        self.get("extends").is_some()
    }
}

// ---------------------------------------------------------------------------------------------
// What an in-place edit changes: anchors, aliases and merge keys

/// What an in-place edit of one node changes, as the compose rules read it: the node's own location
/// and each place that reaches it through an alias (`key: *x`) or a merge key (`<<: *x`) that does
/// not override it ([`crate::yaml::Reach`]), with the services among them. A fix that edits the
/// node declares [`EditScope::paths`]; the transform decides from [`EditScope::services`] whether
/// every service it reaches needs that very change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EditScope {
    /// Semantic paths that may change, without duplicates, in discovery order.
    pub paths: Vec<SemanticPath>,
    /// Names of the services whose value changes, without duplicates, in discovery order.
    pub services: Vec<String>,
    /// Some location is neither below `services.<name>` nor in a top-level `x-` extension field
    /// (or the sharing could not be followed): the edit would change something no compose rule
    /// reasons about. Refuse such edits.
    pub foreign: bool,
}

impl EditScope {
    /// The compose reading of a [`Reach`].
    #[must_use]
    pub fn of(reach: Reach) -> Self {
        let mut scope = EditScope {
            foreign: !reach.complete,
            ..EditScope::default()
        };
        for path in reach.paths {
            scope.record(path);
        }
        scope
    }

    fn record(&mut self, path: SemanticPath) {
        match path.keys.first().map(String::as_str) {
            Some("services") if path.keys.len() >= 2 => {
                let name = path.keys[1].clone();
                if !self.services.contains(&name) {
                    self.services.push(name);
                }
            }
            Some(k) if k.starts_with("x-") => {}
            _ => self.foreign = true,
        }
        if !self.paths.contains(&path) {
            self.paths.push(path);
        }
    }

    /// The edit changes exactly this one service (plus, possibly, `x-` definitions).
    #[must_use]
    pub fn only(&self, service: &str) -> bool {
        !self.foreign && self.services.len() == 1 && self.services[0] == service
    }

    /// Merge another scope into this one.
    pub fn extend(&mut self, other: &EditScope) {
        for p in &other.paths {
            if !self.paths.contains(p) {
                self.paths.push(p.clone());
            }
        }
        for s in &other.services {
            if !self.services.contains(s) {
                self.services.push(s.clone());
            }
        }
        self.foreign |= other.foreign;
    }
}

/// The scope of editing `node` in place (replacing it, or changing something inside it).
#[must_use]
pub fn edit_scope(node: &Node) -> EditScope {
    EditScope::of(node_reach(node))
}

/// The scope of inserting `key` into `mapping` (or replacing `mapping`'s own `key`).
#[must_use]
pub fn edit_scope_for_key(mapping: &Mapping, key: &str) -> EditScope {
    EditScope::of(key_reach(mapping, key))
}

// ---------------------------------------------------------------------------------------------
// Several insertions into one collection, as one edit

/// Locate `node` again in `file`, a re-parse of a text edited only after `node`'s start.
fn locate_again(original: &YamlFile, file: &YamlFile, node: &Node) -> Option<Node> {
    let start = node.range().start;
    let before = original.nodes_at(start);
    let depth = before.iter().position(|n| same_node(n, node))?;
    let after = file.nodes_at(start);
    let n = after.get(depth)?.clone();
    (std::mem::discriminant(&n) == std::mem::discriminant(node) && n.range().start == start)
        .then_some(n)
}

/// Apply `edits` to `text` (non-overlapping).
fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut last = 0;
    for e in sorted {
        out.push_str(&text[last..e.range.start]);
        out.push_str(&e.replacement);
        last = e.range.end;
    }
    out.push_str(&text[last..]);
    out
}

/// The one edit turning `a` into `b`: common prefix and suffix kept.
fn single_edit(a: &str, b: &str) -> Edit {
    let mut p = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !(a.is_char_boundary(p) && b.is_char_boundary(p)) {
        p -= 1;
    }
    let max_s = a.len().min(b.len()) - p;
    let mut s = a
        .bytes()
        .rev()
        .zip(b.bytes().rev())
        .take(max_s)
        .take_while(|(x, y)| x == y)
        .count();
    while !(a.is_char_boundary(a.len() - s) && b.is_char_boundary(b.len() - s)) {
        s -= 1;
    }
    Edit::replace(TextRange::new(p, a.len() - s), b[p..b.len() - s].to_owned())
}

/// Several insertions into the same collection, one after the other, as edits of the original
/// text. Block collections: the insertions share one offset and are concatenated. Flow
/// collections: applied one by one on re-parsed text, then expressed as one edit.
fn chained<F>(file: &YamlFile, node: &Node, steps: usize, step: F) -> Result<Vec<Edit>, YamlError>
where
    F: Fn(&Node, usize) -> Result<Vec<Edit>, YamlError>,
{
    let flow = match node {
        Node::Mapping(m) => m.is_flow(),
        Node::Sequence(s) => s.is_flow(),
        _ => false,
    };
    if steps == 0 {
        return Ok(Vec::new());
    }
    if steps == 1 {
        return step(node, 0);
    }
    if !flow {
        let mut at = None;
        let mut text = String::new();
        for i in 0..steps {
            let edits = step(node, i)?;
            let [e] = edits.as_slice() else {
                return Err(YamlError::new(
                    "unexpected multi-edit insertion",
                    node.range(),
                ));
            };
            if !e.range.is_empty() || at.is_some_and(|a| a != e.range.start) {
                return Err(YamlError::new(
                    "insertions at different offsets",
                    node.range(),
                ));
            }
            at = Some(e.range.start);
            text.push_str(&e.replacement);
        }
        return Ok(vec![Edit::insert(at.unwrap_or(0), text)]);
    }
    let original = file.text().to_owned();
    let mut current_text = original.clone();
    let mut current_file = file.clone();
    let mut current_node = node.clone();
    for i in 0..steps {
        let edits = step(&current_node, i)?;
        current_text = apply_edits(&current_text, &edits);
        let next = crate::yaml::parse(&current_text)?;
        current_node = locate_again(&current_file, &next, &current_node).ok_or_else(|| {
            YamlError::new("lost the collection after an insertion", node.range())
        })?;
        current_file = next;
    }
    Ok(vec![single_edit(&original, &current_text)])
}

/// Insert several `key: value` entries at the end of `mapping` (see [`Mapping::insert_entry`]),
/// in order, as edits of the original text.
///
/// # Errors
/// A key exists, or a fragment is invalid.
pub fn insert_entries(
    file: &YamlFile,
    mapping: &Mapping,
    entries: &[(String, String)],
) -> Result<Vec<Edit>, YamlError> {
    chained(file, &mapping.as_node(), entries.len(), |n, i| {
        let m = n
            .as_mapping()
            .ok_or_else(|| YamlError::new("not a mapping", n.range()))?;
        m.insert_entry(&entries[i].0, &entries[i].1)
    })
}

/// Append several items at the end of `sequence` (see [`Sequence::append_item`]), in order.
///
/// # Errors
/// A fragment is invalid.
pub fn append_items(
    file: &YamlFile,
    sequence: &Sequence,
    items: &[String],
) -> Result<Vec<Edit>, YamlError> {
    chained(file, &sequence.as_node(), items.len(), |n, i| {
        let s = n
            .as_sequence()
            .ok_or_else(|| YamlError::new("not a sequence", n.range()))?;
        s.append_item(&items[i])
    })
}

// ---------------------------------------------------------------------------------------------
// Service volumes

/// The type of a service volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountKind {
    /// A host path (`./x:/y`, `/x:/y`, `${DIR}:/y`, `type: bind`).
    Bind,
    /// A named or anonymous volume.
    Volume,
    Tmpfs,
    /// `npipe`, `cluster`, `image`, or a type we do not know.
    Other,
}

/// One entry of a service's `volumes`, short (`src:dst:opts`) or long syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub kind: MountKind,
    pub source: Option<String>,
    pub target: String,
    /// Short syntax: the comma-separated options after the second colon (`ro`, `rw`, `z`, ...).
    pub options: Vec<String>,
    /// Short syntax: byte offset of the options in the spec (None without options).
    pub options_at: Option<usize>,
    /// Long syntax: the `read_only` value (None when absent or interpolated).
    pub read_only: Option<bool>,
    /// Long syntax.
    pub long: bool,
}

impl Mount {
    /// Mounted read-only (`:ro` / `read_only: true`).
    #[must_use]
    pub fn is_read_only(&self) -> bool {
        self.read_only == Some(true) || self.options.iter().any(|o| o == "ro")
    }
}

/// Split a short volume spec at the colons outside `${...}`; byte offsets of each part.
fn split_spec(spec: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = spec.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                parts.push((start, &spec[start..i]));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push((start, &spec[start..]));
    parts
}

fn is_drive(part: &str, next: Option<&(usize, &str)>) -> bool {
    part.len() == 1
        && part.as_bytes()[0].is_ascii_alphabetic()
        && next.is_some_and(|(_, n)| n.starts_with('\\') || n.starts_with('/'))
}

/// Parse a short volume spec (`./conf:/etc/app:ro,z`, `data:/var/lib/x`, `/cache`).
#[must_use]
pub fn parse_short_mount(spec: &str) -> Option<Mount> {
    let raw = split_spec(spec);
    // Re-join Windows drive letters (`C:\x`, `c:/x`) with their path.
    let mut parts: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let (at, p) = raw[i];
        if is_drive(p, raw.get(i + 1)) {
            parts.push((at, format!("{p}:{}", raw[i + 1].1)));
            i += 2;
        } else {
            parts.push((at, p.to_owned()));
            i += 1;
        }
    }
    let (source, target, options_at) = match parts.as_slice() {
        [(_, t)] => (None, t.clone(), None),
        [(_, s), (_, t)] => (Some(s.clone()), t.clone(), None),
        [(_, s), (_, t), (at, _)] => (Some(s.clone()), t.clone(), Some(*at)),
        _ => return None,
    };
    if target.is_empty() {
        return None;
    }
    let options: Vec<String> = options_at
        .map(|at| {
            spec[at..]
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let kind = match &source {
        None => MountKind::Volume,
        Some(s)
            if s.starts_with(['/', '.', '~', '$', '\\'])
                || (s.len() > 2 && s.as_bytes()[1] == b':') =>
        {
            MountKind::Bind
        }
        Some(_) => MountKind::Volume,
    };
    Some(Mount {
        kind,
        source,
        target,
        options,
        options_at,
        read_only: None,
        long: false,
    })
}

/// Parse a volume item (short string or long mapping), aliases resolved.
#[must_use]
pub fn parse_mount(node: &Node) -> Option<Mount> {
    match node.resolve()? {
        Node::Scalar(s) => parse_short_mount(s.value()),
        Node::Mapping(m) => {
            let text = |k: &str| {
                m.get_merged(k)
                    .and_then(|(e, _)| e.value().resolve())
                    .and_then(|n| n.as_str().map(str::to_owned))
            };
            let kind = match text("type").as_deref() {
                Some("bind") => MountKind::Bind,
                Some("volume") => MountKind::Volume,
                Some("tmpfs") => MountKind::Tmpfs,
                _ => MountKind::Other,
            };
            let read_only = text("read_only").and_then(|v| match v.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            });
            Some(Mount {
                kind,
                source: text("source"),
                target: text("target")?,
                options: Vec::new(),
                options_at: None,
                read_only,
                long: true,
            })
        }
        _ => None,
    }
}

pub use crate::paths::path_within;

// ---------------------------------------------------------------------------------------------
// Planned edits of several services

/// One step of a service's fix: the node it edits (its range, as an identity), the edits and what
/// they change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub target: (usize, usize),
    pub edits: Vec<Edit>,
    pub scope: EditScope,
}

impl Op {
    #[must_use]
    pub fn new(target: &Node, edits: Vec<Edit>, scope: EditScope) -> Self {
        Self {
            target: (target.range().start, target.range().end),
            edits,
            scope,
        }
    }

    /// The op changes only `service`.
    #[must_use]
    pub fn is_private_to(&self, service: &str) -> bool {
        self.scope.only(service)
    }
}

/// Whether a shared op may be applied: nothing outside services changes, and every service it
/// reaches has the very same op in its own plan (`plans`: service name → ops).
#[must_use]
pub fn uniform(op: &Op, plans: &std::collections::BTreeMap<String, Vec<Op>>) -> bool {
    !op.scope.foreign
        && op.scope.services.iter().all(|s| {
            plans.get(s).is_some_and(|ops| {
                ops.iter()
                    .any(|o| o.target == op.target && o.edits == op.edits)
            })
        })
}

/// Whether edits can form one fix: none overlaps another (identical ones are merged first).
#[must_use]
pub fn well_formed(edits: &[Edit]) -> bool {
    let mut v: Vec<&Edit> = edits.iter().collect();
    v.sort();
    v.dedup();
    v.windows(2).all(|w| !w[0].range.overlaps(w[1].range))
}

/// Test support: run one compose transform on a text, and apply a fix's edits.
#[cfg(test)]
pub(crate) mod testing {
    use crate::edit::Edit;
    use crate::finding::Finding;
    use crate::registry::{Context, Transform};
    use crate::settings::{NoResolver, Settings};
    use crate::source::{parse, FileKind};

    pub fn check(t: &dyn Transform, text: &str, settings: &Settings) -> Vec<Finding> {
        let parsed = parse(FileKind::Compose, text).expect("parses");
        let ctx = Context {
            text,
            kind: FileKind::Compose,
            parsed: &parsed,
            settings,
            resolver: &NoResolver,
            workspace: &crate::settings::NoWorkspace,
            memo: &crate::needs::Memo::default(),
            path: None,
        };
        t.check(&ctx)
    }

    pub fn apply(text: &str, edits: &[Edit]) -> String {
        super::apply_edits(text, edits)
    }
}

/// Join insertions at the same offset into one, in the given order (put the innermost first: a
/// service's new key before a new top-level key that follows it), after dropping exact
/// duplicates. Block insertions are whole lines, so their concatenation is too.
#[must_use]
pub fn merge_inserts(edits: Vec<Edit>) -> Vec<Edit> {
    let mut seen: Vec<Edit> = Vec::new();
    let mut out: Vec<Edit> = Vec::new();
    for e in edits {
        if seen.contains(&e) {
            continue;
        }
        seen.push(e.clone());
        if e.range.is_empty() {
            if let Some(prev) = out
                .iter_mut()
                .find(|p| p.range.is_empty() && p.range.start == e.range.start)
            {
                prev.replacement.push_str(&e.replacement);
                continue;
            }
        }
        out.push(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse, semantic, semantic_diff};

    fn file(t: &str) -> YamlFile {
        parse(t).unwrap()
    }

    fn mapping_at(f: &YamlFile, keys: &[&str]) -> Mapping {
        f.documents()[0]
            .root()
            .path(keys)
            .unwrap()
            .as_mapping()
            .unwrap()
            .clone()
    }

    /// Every semantic change of `edits` is covered by `scope`, and `scope` names `services`.
    #[track_caller]
    fn covers(t: &str, edits: &[Edit], scope: &EditScope, services: &[&str]) {
        let out = apply_edits(t, edits);
        let diff = semantic_diff(&semantic(t).unwrap(), &semantic(&out).unwrap());
        assert!(!diff.is_empty(), "no change:\n{out}");
        for (doc, path) in &diff {
            assert!(
                scope.paths.iter().any(|p| p.covers(*doc, path)),
                "{path:?} not declared by {:?}\n{out}",
                scope.paths
            );
        }
        assert_eq!(scope.services, services, "{:?}", scope.paths);
        assert!(!scope.foreign);
    }

    const MERGED: &str = "x-d: &d\n  read_only: false\n  tmpfs: [/run]\nservices:\n  a:\n    <<: *d\n    image: x\n  b:\n    <<: *d\n    image: y\n  c:\n    <<: *d\n    read_only: true\n";

    #[test]
    fn scope_of_merged_anchors() {
        let f = file(MERGED);
        let d = mapping_at(&f, &["x-d"]);
        let e = d.get("read_only").unwrap();
        let scope = edit_scope(&e.value());
        let edits = e.replace_value("true").unwrap();
        // `c` overrides read_only: not changed.
        covers(MERGED, &edits, &scope, &["a", "b"]);
        assert_eq!(scope.paths.len(), 3);
        // Inserting a key nobody has reaches every service that merges the anchor.
        let scope = edit_scope_for_key(&d, "user");
        covers(
            MERGED,
            &d.insert_entry("user", "app").unwrap(),
            &scope,
            &["a", "b", "c"],
        );
        // A service's own mapping is private.
        let a = mapping_at(&f, &["services", "a"]);
        let scope = edit_scope_for_key(&a, "read_only");
        assert!(scope.only("a"));
        covers(
            MERGED,
            &a.insert_entry("read_only", "true").unwrap(),
            &scope,
            &["a"],
        );
    }

    #[test]
    fn scope_of_aliases_and_inline_merges() {
        let t = "x-env: &env\n  A: '1'\nservices:\n  a:\n    environment: *env\n  b:\n    environment: *env\n  w: &w\n    image: x\n  w2: *w\n  i:\n    <<: {tmpfs: [/run]}\n";
        let f = file(t);
        let env = mapping_at(&f, &["x-env"]);
        let scope = edit_scope_for_key(&env, "B");
        covers(
            t,
            &env.insert_entry("B", "'2'").unwrap(),
            &scope,
            &["a", "b"],
        );
        let w = mapping_at(&f, &["services", "w"]);
        let scope = edit_scope_for_key(&w, "read_only");
        covers(
            t,
            &w.insert_entry("read_only", "true").unwrap(),
            &scope,
            &["w", "w2"],
        );
        let inline = f.documents()[0]
            .root()
            .path(&["services", "i", "tmpfs"])
            .unwrap();
        let seq = inline.as_sequence().unwrap();
        let scope = edit_scope(&inline);
        covers(t, &seq.append_item("/tmp").unwrap(), &scope, &["i"]);
    }

    #[test]
    fn anchors_used_elsewhere_are_foreign() {
        let t =
            "x-n: &n\n  driver: bridge\nservices:\n  a:\n    image: x\nnetworks:\n  front: *n\n";
        let f = file(t);
        let n = mapping_at(&f, &["x-n"]);
        assert!(edit_scope_for_key(&n, "internal").foreign);
    }

    #[test]
    fn several_insertions_as_one_edit() {
        for (t, want) in [
            ("s:\n  a: 1\n", "s:\n  a: 1\n  b: 2\n  c: [x]\n"),
            ("s: {a: 1}\n", "s: {a: 1, b: 2, c: [x]}\n"),
            // The trailing comma stays.
            ("s: {a: 1,}\n", "s: {a: 1, b: 2, c: [x],}\n"),
            ("s: {\n  a: 1\n}\n", "s: {\n  a: 1,\n  b: 2,\n  c: [x]\n}\n"),
            ("s: {}\n", "s: {b: 2, c: [x]}\n"),
        ] {
            let f = file(t);
            let m = mapping_at(&f, &["s"]);
            let edits = insert_entries(
                &f,
                &m,
                &[("b".into(), "2".into()), ("c".into(), "[x]".into())],
            )
            .unwrap();
            assert_eq!(edits.len(), 1);
            assert_eq!(apply_edits(t, &edits), want, "{t:?}");
        }
        for (t, want) in [
            ("s:\n  - a\n", "s:\n  - a\n  - b\n  - c\n"),
            ("s: [a]\n", "s: [a, b, c]\n"),
            ("s: []\n", "s: [b, c]\n"),
        ] {
            let f = file(t);
            let n = f.documents()[0].root().path(&["s"]).unwrap();
            let edits =
                append_items(&f, n.as_sequence().unwrap(), &["b".into(), "c".into()]).unwrap();
            assert_eq!(apply_edits(t, &edits), want, "{t:?}");
        }
    }

    #[test]
    fn same_offset_insertions_are_joined_in_order() {
        let e = |at: usize, s: &str| Edit::insert(at, s.to_owned());
        let merged = merge_inserts(vec![e(3, "a"), e(1, "x"), e(3, "b"), e(3, "a")]);
        assert_eq!(merged, vec![e(3, "ab"), e(1, "x")]);
        assert!(well_formed(&merged));
        assert!(!well_formed(&[e(3, "a"), e(3, "b")]));
    }

    #[test]
    fn short_mounts() {
        let m = parse_short_mount("./a:/b:ro,z").unwrap();
        assert_eq!(m.kind, MountKind::Bind);
        assert_eq!(
            (m.source.as_deref(), m.target.as_str()),
            (Some("./a"), "/b")
        );
        assert_eq!(m.options, vec!["ro", "z"]);
        assert!(m.is_read_only());
        assert_eq!(
            parse_short_mount("data:/x").unwrap().kind,
            MountKind::Volume
        );
        assert_eq!(parse_short_mount("/x").unwrap().kind, MountKind::Volume);
        let w = parse_short_mount("C:\\data:/data:rw").unwrap();
        assert_eq!(w.source.as_deref(), Some("C:\\data"));
        assert_eq!(w.kind, MountKind::Bind);
        let i = parse_short_mount("${A:-/x}:/y").unwrap();
        assert_eq!(i.source.as_deref(), Some("${A:-/x}"));
        assert!(path_within("/var/cache/nginx", "/var/cache"));
        assert!(!path_within("/var/cachex", "/var/cache"));
    }
}
