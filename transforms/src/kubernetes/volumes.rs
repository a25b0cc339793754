//! `emptyDir` volumes and their mounts, added by the fixes that give a container writable paths
//! (K8S005 for a read-only root filesystem, K8S004 for a writable `HOME`), and `env` entries.

use std::collections::BTreeSet;

use crate::fix::SemanticPath;
use crate::kubernetes::model::Container;
use crate::kubernetes::patch::{Patch, Refusal};
use crate::yaml::{Mapping, Node};

/// A DNS-1123 label for a volume of `path` (`/var/cache/nginx` → `var-cache-nginx`).
#[must_use]
pub fn label_of(path: &str) -> String {
    let mut s = String::new();
    for ch in path.chars() {
        if ch.is_ascii_alphanumeric() {
            s.push(ch.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-').to_owned();
    if s.is_empty() {
        "root".to_owned()
    } else {
        s
    }
}

fn clamp(name: &str) -> String {
    let mut n: String = name.chars().take(63).collect();
    while n.ends_with('-') {
        n.pop();
    }
    n
}

/// A mapping fragment written line by line (`name: tmp\nmountPath: /tmp`).
#[must_use]
pub fn item(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let v = if crate::yaml::is_plain_safe(v, false) && crate::yaml::plain_is_string(v) {
                (*v).to_owned()
            } else {
                crate::yaml::double_quoted(v)
            };
            format!("{k}: {v}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Add `items` to the list at `key` of `m` (creating the key, or filling a null / `[]` value).
///
/// # Errors
/// The value at `key` is not a list, or cannot be extended losslessly.
pub fn extend_list(
    patch: &mut Patch,
    m: &Mapping,
    path: &SemanticPath,
    key: &str,
    items: &[String],
) -> Result<(), Refusal> {
    let as_block = || -> String {
        items
            .iter()
            .map(|i| {
                i.lines()
                    .enumerate()
                    .map(|(n, l)| {
                        if n == 0 {
                            format!("- {l}")
                        } else {
                            format!("  {l}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let list_path = crate::paths::child(path, &[key]);
    match m.get(key) {
        Some(e) => match e.value() {
            Node::Sequence(s) if !s.is_empty() => {
                for i in items {
                    patch.append_item(&s, i, list_path.clone())?;
                }
                Ok(())
            }
            Node::Sequence(_) | Node::Null(_) => patch.replace_value(&e, &as_block(), list_path),
            v if v.is_null() => patch.replace_value(&e, &as_block(), list_path),
            _ => Err(format!("`{key}` is not a list")),
        },
        None => patch.set(m, path, &[], &[(key, &as_block())]),
    }
}

/// Volume names chosen for new `emptyDir` volumes of one pod, unique among its volumes.
pub struct Names(BTreeSet<String>);

impl Names {
    /// The names the pod's volumes (and StatefulSet claim templates) already use.
    #[must_use]
    pub fn of(c: &Container) -> Self {
        let mut taken: BTreeSet<String> = c.pod.volume_names().into_iter().collect();
        taken.extend(c.pod.claim_templates.iter().cloned());
        Self(taken)
    }

    /// A free name for a volume of `base` (a label) in container `c`: `base`, else prefixed with
    /// the container's name, else numbered.
    pub fn take(&mut self, c: &Container, base: &str) -> String {
        let mut name = clamp(base);
        if self.0.contains(&name) {
            let prefix = c
                .name
                .as_deref()
                .map_or_else(|| "container".to_owned(), label_of);
            name = clamp(&format!("{prefix}-{base}"));
            let stem = name.clone();
            let mut n = 2;
            while self.0.contains(&name) {
                name = clamp(&format!("{stem}-{n}"));
                n += 1;
            }
        }
        self.0.insert(name.clone());
        name
    }
}

/// Mount an `emptyDir` at each of `paths` in `c`, adding the volumes to its pod. `volume_items`
/// collects the pod volumes (several containers of one fix add theirs together, see
/// [`add_volumes`]).
///
/// # Errors
/// The container's `volumeMounts` cannot be extended.
pub fn mount_empty_dirs(
    patch: &mut Patch,
    c: &Container,
    names: &mut Names,
    paths: &[(String, String)],
    volume_items: &mut Vec<String>,
) -> Result<(), Refusal> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut mount_items = Vec::new();
    for (label, path) in paths {
        let name = names.take(c, label);
        mount_items.push(item(&[("name", &name), ("mountPath", path)]));
        volume_items.push(format!("{}\nemptyDir: {{}}", item(&[("name", &name)])));
    }
    extend_list(patch, &c.mapping, &c.path, "volumeMounts", &mount_items)
}

/// Add the collected `emptyDir` volumes to the pod of `c`.
///
/// # Errors
/// The pod's `volumes` cannot be extended.
pub fn add_volumes(patch: &mut Patch, c: &Container, items: &[String]) -> Result<(), Refusal> {
    if items.is_empty() {
        return Ok(());
    }
    extend_list(patch, &c.pod.spec, &c.pod.path, "volumes", items)
}

/// Add `vars` (name, value) to the container's `env`.
///
/// # Errors
/// Its `env` cannot be extended.
pub fn add_env(patch: &mut Patch, c: &Container, vars: &[(String, String)]) -> Result<(), Refusal> {
    if vars.is_empty() {
        return Ok(());
    }
    let items: Vec<String> = vars
        .iter()
        .map(|(k, v)| item(&[("name", k), ("value", v)]))
        .collect();
    extend_list(patch, &c.mapping, &c.path, "env", &items)
}

/// `value` written like the items of `seq`: quoted when they all are (`["NET_ADMIN"]`).
#[must_use]
pub fn like_items(seq: &crate::yaml::Sequence, value: &str) -> String {
    let styles: Vec<crate::yaml::ScalarStyle> = seq
        .items()
        .iter()
        .filter_map(|i| i.value().as_scalar().map(crate::yaml::Scalar::style))
        .collect();
    if styles.is_empty() || styles.len() != seq.items().len() {
        return value.to_owned();
    }
    if styles
        .iter()
        .all(|s| *s == crate::yaml::ScalarStyle::Double)
    {
        crate::yaml::double_quoted(value)
    } else if styles
        .iter()
        .all(|s| *s == crate::yaml::ScalarStyle::Single)
    {
        crate::yaml::single_quoted(value).unwrap_or_else(|| crate::yaml::double_quoted(value))
    } else {
        value.to_owned()
    }
}
