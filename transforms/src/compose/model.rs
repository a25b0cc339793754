//! The compose view shared by every DC rule: services with their (merged) keys, where each key really
//! lives (own entry or an anchor other services share), and semantic paths for verification.

use crate::fix::SemanticPath;
use crate::knowledge::ImageName;
use crate::registry::Context;
use crate::source::Parsed;
use crate::text::TextRange;
use crate::yaml::{Entry, Mapping, Node, Origin, Parent, YamlFile};

/// One service of a compose file.
#[derive(Clone)]
pub struct Service {
    pub name: String,
    /// Document index (compose files have one, but YAML allows several).
    pub doc: usize,
    /// The service's `name:` entry under `services:`.
    pub entry: Entry,
    /// The service mapping (aliases resolved).
    pub mapping: Mapping,
}

impl Service {
    /// A key as merge keys define it: own entry first, then `<<` sources.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<(Entry, Origin)> {
        self.mapping.get_merged(key)
    }

    /// The value of a key with aliases resolved.
    #[must_use]
    pub fn value(&self, key: &str) -> Option<Node> {
        self.get(key).and_then(|(e, _)| e.value().resolve())
    }

    /// The scalar text of a key (`image`, `user`, ...).
    #[must_use]
    pub fn str(&self, key: &str) -> Option<String> {
        self.value(key).and_then(|n| n.as_str().map(str::to_owned))
    }

    /// The image reference, parsed (None without `image:` or when it is interpolated).
    #[must_use]
    pub fn image(&self) -> Option<ImageName> {
        let s = self.str("image")?;
        (!ImageName::is_templated(&s)).then(|| ImageName::parse(&s))
    }

    /// The semantic path `services.<name>.<keys...>`.
    #[must_use]
    pub fn path(&self, keys: &[&str]) -> SemanticPath {
        let mut v = vec!["services".to_owned(), self.name.clone()];
        v.extend(keys.iter().map(|k| (*k).to_owned()));
        SemanticPath {
            document: self.doc,
            keys: v,
        }
    }

    /// The service's own range for findings: its key under `services:`.
    #[must_use]
    pub fn key_range(&self) -> TextRange {
        self.entry.key_range()
    }
}

/// The YAML file of a compose context.
#[must_use]
pub fn yaml<'a>(ctx: &Context<'a>) -> Option<&'a YamlFile> {
    match ctx.parsed {
        Parsed::Yaml(y) => Some(y),
        Parsed::Dockerfile(_) => None,
    }
}

/// Every service of every document, in file order.
#[must_use]
pub fn services(file: &YamlFile) -> Vec<Service> {
    let mut out = Vec::new();
    for doc in file.documents() {
        let Some(root) = doc.root().resolve() else {
            continue;
        };
        let Some(root) = root.as_mapping() else {
            continue;
        };
        let Some(services) = root.get("services").and_then(|e| e.value().resolve()) else {
            continue;
        };
        let Some(services) = services.as_mapping() else {
            continue;
        };
        for entry in services.entries() {
            if entry.is_merge() {
                continue;
            }
            let Some(Node::Mapping(mapping)) = entry.value().resolve() else {
                continue;
            };
            out.push(Service {
                name: entry.key().to_owned(),
                doc: doc.index(),
                entry,
                mapping,
            });
        }
    }
    out
}

pub use crate::paths::node_path;

/// Whether editing `node` in place would also change something other than `owner`'s own value: the
/// node (or one of its ancestors up to the service) carries an anchor, or the entry came from a merge.
#[must_use]
pub fn is_shared(node: &Node, origin: &Origin) -> bool {
    if *origin != Origin::Own {
        return true;
    }
    let mut current = node.clone();
    for _ in 0..64 {
        if current.anchor().is_some() {
            return true;
        }
        match current.parent() {
            Parent::Document(_) => return false,
            Parent::EntryValue(e) | Parent::EntryKey(e) => {
                // Stop at the service mapping (a child of `services`).
                let m = e.mapping();
                if m.anchor().is_some() {
                    return true;
                }
                if let Parent::EntryValue(pe) = m.parent() {
                    if pe.key() == "services" {
                        return false;
                    }
                }
                current = m.as_node();
            }
            Parent::Item(i) => current = i.sequence().as_node(),
        }
    }
    true
}
