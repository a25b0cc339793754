//! Semantic paths of YAML nodes, shared by the compose and Kubernetes rules: where a node sits in
//! its document, as the engine's semantic verification spells it (keys, sequence indexes as decimal
//! strings).

use crate::fix::SemanticPath;
use crate::yaml::{Node, Parent};

/// The key path of a node from its document root (sequence indexes as decimal strings). A node
/// reached through an alias has the path of the anchored node, not of the alias.
#[must_use]
pub fn node_path(node: &Node) -> SemanticPath {
    let mut keys = Vec::new();
    let mut current = node.clone();
    let document = node.document().index();
    loop {
        match current.parent() {
            Parent::Document(_) => break,
            Parent::EntryValue(e) | Parent::EntryKey(e) => {
                keys.push(e.key().to_owned());
                current = e.mapping().as_node();
            }
            Parent::Item(i) => {
                keys.push(i.index().to_string());
                current = i.sequence().as_node();
            }
        }
    }
    keys.reverse();
    SemanticPath { document, keys }
}

/// `base` extended by `keys`.
#[must_use]
pub fn child(base: &SemanticPath, keys: &[&str]) -> SemanticPath {
    let mut p = base.clone();
    p.keys.extend(keys.iter().map(|k| (*k).to_owned()));
    p
}

/// Whether the container path `path` is `base` or below it (trailing slashes ignored; every path
/// is within an empty or `/` base).
#[must_use]
pub fn path_within(path: &str, base: &str) -> bool {
    let p = path.trim_end_matches('/');
    let b = base.trim_end_matches('/');
    b.is_empty() || p == b || p.strip_prefix(b).is_some_and(|rest| rest.starts_with('/'))
}
