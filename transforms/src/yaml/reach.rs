//! What an in-place edit reaches: the one answer, for every YAML rule (compose and Kubernetes), to
//! "which semantic paths change when this node is edited, or when this key is inserted into this
//! mapping", through anchors, aliases and merge keys.
//!
//! An edit changes the node's own location and every place that sees the node through an alias
//! (`key: *x`) or a merge key (`<<: *x`, `<<: [*x, *y]`, `<<: {inline}`) that does not override
//! the key. The walk goes upwards from the edited node to its document root, and at each anchored
//! node it also follows every alias of that anchor (then upwards from there), so its cost is the
//! depth of the node times the number of places that share it, never the size of the document.
//!
//! The engine's semantic verification checks afterwards that a fix changed only the paths it
//! declares; rules declare [`Reach::paths`] and decide from them (and [`Reach::complete`]) whether
//! every place reached needs that very change.

use super::{Mapping, Node, Parent};
use crate::fix::SemanticPath;

/// Places visited before the walk gives up (alias-heavy files: the edit is then refused).
const STEP_BUDGET: usize = 512;

/// The semantic paths an in-place edit changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// Every semantic path whose value may change, without duplicates, in discovery order (the
    /// edited node's own path first, then places reached through aliases and merge keys in
    /// document order).
    pub paths: Vec<SemanticPath>,
    /// False when some place could not be named: an alias used as a mapping key, or a sharing
    /// graph too large to follow. Refuse such edits.
    pub complete: bool,
}

impl Reach {
    fn record(&mut self, path: SemanticPath) {
        if !self.paths.contains(&path) {
            self.paths.push(path);
        }
    }

    /// Whether the edit changes exactly `own` and nothing else.
    #[must_use]
    pub fn only(&self, own: &SemanticPath) -> bool {
        self.complete && self.paths.len() == 1 && self.paths[0] == *own
    }

    /// Whether the edit reaches only its own location (whatever that is): nothing shares it.
    #[must_use]
    pub fn unshared(&self) -> bool {
        self.complete && self.paths.len() <= 1
    }

    /// The paths, or None when the walk was incomplete.
    #[must_use]
    pub fn into_paths(self) -> Option<Vec<SemanticPath>> {
        self.complete.then_some(self.paths)
    }

    /// Merge another reach into this one.
    pub fn extend(&mut self, other: &Reach) {
        for p in &other.paths {
            self.record(p.clone());
        }
        self.complete &= other.complete;
    }
}

/// Whether no alias or merge key sees `node` or one of its ancestors (and it is not a mapping
/// key): then an in-place edit of it changes exactly its own location. The same answer as
/// `node_reach(node).unshared()`, without naming paths when nothing is shared (most nodes).
#[must_use]
pub fn unshared(node: &Node) -> bool {
    use super::model::ParentData;
    // The walk goes by node ids (no views built per step); an anchored node of a document that
    // has aliases is checked through the views, as `node_reach` sees it.
    let r = node.node_ref();
    let file = &r.file;
    let has_aliases = !file.docs[file.nodes[r.id].doc].aliases.is_empty();
    let doc = node.document();
    let mut id = r.id;
    let mut live_anchor = false;
    for _ in 0..=crate::yaml::MAX_NESTING_DEPTH {
        let data = &file.nodes[id];
        if has_aliases && data.anchor.is_some() {
            let cur = Node::new(file.clone(), id);
            if let Some(name) = cur.anchor() {
                live_anchor |= doc
                    .aliases_named(&name)
                    .iter()
                    .any(|a| a.target().is_some_and(|t| same_node(&t, &cur)));
            }
        }
        id = match data.parent {
            ParentData::Document(_) => {
                return !live_anchor || node_reach(node).unshared();
            }
            ParentData::EntryKey(_) => return false,
            ParentData::EntryValue(e) => file.entries[e].mapping,
            ParentData::Item(i) => file.items[i].sequence,
        };
    }
    false
}

/// The reach of editing `node` in place (replacing it, or changing something inside it). For an
/// alias node this is the alias's own location: to edit what an alias stands for, pass the
/// resolved node.
#[must_use]
pub fn node_reach(node: &Node) -> Reach {
    walk(node.clone(), Vec::new())
}

/// The reach of inserting `key` into `mapping`, or of replacing or removing `mapping`'s own `key`:
/// `<place>.key` for each place the mapping is visible at, and for each mapping that inherits
/// `key` from it through merge keys (because it has no `key` of its own and no earlier merge
/// source provides it).
#[must_use]
pub fn key_reach(mapping: &Mapping, key: &str) -> Reach {
    walk(mapping.as_node(), vec![key.to_owned()])
}

/// Whether two views are the same node of the same file.
#[must_use]
pub fn same_node(a: &Node, b: &Node) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
        && a.range() == b.range()
        && a.full_range() == b.full_range()
        && a.document().index() == b.document().index()
}

/// If `node` is a merge source (the value of `<<`, or an item of the list that is), the mapping
/// that holds the `<<` entry.
fn merge_holder(node: &Node) -> Option<Mapping> {
    match node.parent() {
        Parent::EntryValue(e) if e.is_merge() => Some(e.mapping()),
        Parent::Item(i) => match i.sequence().parent() {
            Parent::EntryValue(e) if e.is_merge() => Some(e.mapping()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `source` (a mapping merged into `holder`) provides `holder`'s value for `key`: the
/// holder has no own `key` and no source merged before `source` has it (directly or through its own
/// merge keys). Also true when nobody has `key` yet (an insertion into `source` reaches the holder).
fn merge_provides(holder: &Mapping, source: &Node, key: &str) -> bool {
    if holder
        .entries()
        .iter()
        .any(|e| !e.is_merge() && e.key() == key)
    {
        return false;
    }
    for (m, _) in holder.merge_sources() {
        if same_node(&m.as_node(), source) {
            return true;
        }
        if m.get_merged(key).is_some() {
            return false;
        }
    }
    false
}

/// From `start` (with `rel` below it) up to the document root; at every anchored node on the way,
/// also from each alias of the anchor. `rel` is the path below the current node.
fn walk(start: Node, rel: Vec<String>) -> Reach {
    let doc = start.document();
    let mut reach = Reach {
        paths: Vec::new(),
        complete: true,
    };
    let mut queue = vec![(start, rel)];
    let mut steps = 0usize;
    while let Some((node, rel)) = queue.pop() {
        steps += 1;
        if steps > STEP_BUDGET {
            reach.complete = false;
            break;
        }
        let mut cur = node;
        let mut rel = rel;
        loop {
            if let Some(name) = cur.anchor() {
                // (Last first: the queue is a stack, so places come out in document order.)
                for alias in doc.aliases_named(&name).iter().rev() {
                    let Some(target) = alias.target() else {
                        continue;
                    };
                    if !same_node(&target, &cur) {
                        continue;
                    }
                    let alias_node = alias.as_node();
                    if matches!(alias_node.parent(), Parent::EntryKey(_)) {
                        reach.complete = false;
                        continue;
                    }
                    match merge_holder(&alias_node) {
                        Some(holder) => {
                            let Some(first) = rel.first() else {
                                // The merged mapping as a whole: every key of the holder may change.
                                queue.push((holder.as_node(), Vec::new()));
                                continue;
                            };
                            if merge_provides(&holder, &cur, first) {
                                queue.push((holder.as_node(), rel.clone()));
                            }
                        }
                        None => queue.push((alias_node, rel.clone())),
                    }
                }
            }
            match cur.parent() {
                Parent::Document(_) => {
                    reach.record(SemanticPath {
                        document: doc.index(),
                        keys: rel,
                    });
                    break;
                }
                Parent::EntryKey(_) => {
                    reach.complete = false;
                    break;
                }
                Parent::EntryValue(e) if e.is_merge() => {
                    // An inline merge source (`<<: {a: 1}`): its keys land in the holder unless
                    // overridden.
                    let holder = e.mapping();
                    if let Some(first) = rel.first() {
                        if !merge_provides(&holder, &cur, first) {
                            break;
                        }
                    }
                    cur = holder.as_node();
                }
                Parent::EntryValue(e) => {
                    rel.insert(0, e.key().to_owned());
                    cur = e.mapping().as_node();
                }
                Parent::Item(i) => {
                    let seq = i.sequence();
                    if let Parent::EntryValue(e) = seq.parent() {
                        if e.is_merge() {
                            // An inline mapping in a `<<: [...]` list.
                            let holder = e.mapping();
                            if let Some(first) = rel.first() {
                                if !merge_provides(&holder, &cur, first) {
                                    break;
                                }
                            }
                            cur = holder.as_node();
                            continue;
                        }
                    }
                    rel.insert(0, i.index().to_string());
                    cur = seq.as_node();
                }
            }
        }
    }
    reach
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse, semantic, semantic_diff, YamlFile};

    fn sorted(r: Reach) -> Vec<String> {
        assert!(r.complete);
        let mut out: Vec<String> = r.paths.into_iter().map(|p| p.keys.join(".")).collect();
        out.sort();
        out
    }

    fn node(f: &YamlFile, keys: &[&str]) -> Node {
        f.documents()[0].root().path(keys).unwrap()
    }

    fn mapping(f: &YamlFile, keys: &[&str]) -> Mapping {
        node(f, keys).as_mapping().unwrap().clone()
    }

    const TEXT: &str = "\
x-base: &base
  user: root
  ports: &ports
    - \"5432:5432\"
services:
  a:
    <<: *base
    image: alpine
  b:
    <<: *base
    user: \"1000\"
  c:
    ports: *ports
  d: &d
    image: busybox
  e: *d
  i:
    <<: {tmpfs: [/run]}
  j:
    <<: [{read_only: true}, *base]
";

    #[test]
    fn nodes_are_seen_through_merges_and_aliases() {
        let f = parse(TEXT).unwrap();
        assert_eq!(
            sorted(node_reach(&node(&f, &["x-base", "user"]))),
            ["services.a.user", "services.j.user", "x-base.user"]
        );
        assert_eq!(
            sorted(node_reach(&node(&f, &["x-base", "ports", "0"]))),
            [
                "services.a.ports.0",
                "services.b.ports.0",
                "services.c.ports.0",
                "services.j.ports.0",
                "x-base.ports.0"
            ]
        );
        // The own location comes first.
        let r = node_reach(&node(&f, &["x-base", "ports"]));
        assert_eq!(r.paths[0].keys, ["x-base", "ports"]);
        // Inline merge sources land in their holder.
        assert_eq!(
            sorted(node_reach(&node(&f, &["services", "i", "tmpfs"]))),
            ["services.i.tmpfs"]
        );
        // An unshared node reaches only itself.
        let img = node(&f, &["services", "a", "image"]);
        assert!(node_reach(&img).only(&crate::paths::node_path(&img)));
    }

    #[test]
    fn keys_reach_their_inheritors() {
        let f = parse(TEXT).unwrap();
        let base = mapping(&f, &["x-base"]);
        // `b` has its own `user`: adding or changing the anchor's does not reach it.
        assert_eq!(
            sorted(key_reach(&base, "user")),
            ["services.a.user", "services.j.user", "x-base.user"]
        );
        assert_eq!(
            sorted(key_reach(&base, "cap_drop")),
            [
                "services.a.cap_drop",
                "services.b.cap_drop",
                "services.j.cap_drop",
                "x-base.cap_drop"
            ]
        );
        // `j` merges an inline mapping before the anchor: its `read_only` wins.
        assert_eq!(
            sorted(key_reach(&base, "read_only")),
            [
                "services.a.read_only",
                "services.b.read_only",
                "x-base.read_only"
            ]
        );
        assert_eq!(
            sorted(key_reach(&mapping(&f, &["services", "d"]), "user")),
            ["services.d.user", "services.e.user"]
        );
        assert!(key_reach(&mapping(&f, &["services", "a"]), "user").unshared());
        assert!(unshared(&node(&f, &["services", "a", "image"])));
        assert!(!unshared(&node(&f, &["x-base", "user"])));
        assert!(!unshared(&node(&f, &["services", "d", "image"])));
        // An anchor whose only user overrides the key: shared node, unshared key.
        let f = parse("x: &x\n  k: 1\ny:\n  <<: *x\n  k: 2\nz: &z 3\n").unwrap();
        assert!(unshared(&node(&f, &["x", "k"])));
        assert!(unshared(&node(&f, &["z"])));
    }

    /// A key that reaches services through a merge of a merge (`x-common: {<<: *restart}`,
    /// `svc: {<<: *common}`): the nested source provides it for both holders.
    #[test]
    fn merges_of_merges() {
        let t = "x-r: &r\n  restart: always\nx-c: &c\n  <<: *r\n  init: true\nservices:\n  a:\n    <<: *c\n  b:\n    <<: *c\n    restart: 'no'\n";
        let f = parse(t).unwrap();
        assert_eq!(
            sorted(node_reach(&node(&f, &["x-r", "restart"]))),
            ["services.a.restart", "x-c.restart", "x-r.restart"]
        );
        assert_eq!(
            sorted(key_reach(&mapping(&f, &["x-r"]), "user")),
            ["services.a.user", "services.b.user", "x-c.user", "x-r.user"]
        );
    }

    /// The reach is exactly what the semantic view sees change.
    #[test]
    fn reach_matches_the_semantic_diff() {
        let f = parse(TEXT).unwrap();
        let before = semantic(TEXT).unwrap();
        let check = |edits: Vec<crate::edit::Edit>, reach: Reach| {
            let out = crate::apply::apply_fixes(TEXT, &[&crate::fix::Fix::safe("t", edits)]).text;
            let mut diff: Vec<String> = semantic_diff(&before, &semantic(&out).unwrap())
                .into_iter()
                .map(|(_, p)| p.join("."))
                .collect();
            diff.sort();
            assert_eq!(diff, sorted(reach), "{out}");
        };
        let base = mapping(&f, &["x-base"]);
        check(
            base.insert_entry("cap_drop", "[ALL]").unwrap(),
            key_reach(&base, "cap_drop"),
        );
        check(
            base.insert_entry("read_only", "true").unwrap(),
            key_reach(&base, "read_only"),
        );
        let user = node(&f, &["x-base", "user"]);
        check(
            vec![user.as_scalar().unwrap().replace("app")],
            node_reach(&user),
        );
        let d = mapping(&f, &["services", "d"]);
        check(
            d.insert_entry("user", "app").unwrap(),
            key_reach(&d, "user"),
        );
    }

    #[test]
    fn aliases_as_keys_and_bombs_are_incomplete() {
        let f = parse("k: &k x\nm:\n  *k : 1\n").unwrap();
        assert!(!node_reach(&node(&f, &["k"])).complete);
        // A billion-laughs shape: each level aliases the previous one ten times.
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..5 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let f = parse(&text).unwrap();
        let r = node_reach(&node(&f, &["a0", "0"]));
        assert!(!r.complete);
        assert!(r.into_paths().is_none());
    }
}
