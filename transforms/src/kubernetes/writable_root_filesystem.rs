use std::collections::BTreeSet;

use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::model::{as_bool, get_str, pods, yaml, Container};
use crate::kubernetes::patch::{Patch, Refusal};
use crate::kubernetes::{attach, container_refusal, make_fix, pod_refusal};
use crate::registry::{Check, Context};
use crate::yaml::{Mapping, Node};

declare_transform! {
    /// ## What it does
    /// Flags containers and init containers without `readOnlyRootFilesystem: true` and sets it,
    /// adding an `emptyDir` volume and mount for `/tmp` and for the paths dockharden's image table
    /// says the image writes (e.g. `/var/cache/nginx` and `/var/run` for nginx), except where a
    /// volume mount already covers the path. Ephemeral containers are reported only; Windows pods and
    /// images are skipped.
    ///
    /// ## Why is this bad?
    /// A writable root filesystem lets an attacker who got code execution drop and run tools, modify the application's binaries or configuration, and persist until the container is replaced.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: web
    ///       image: example/web:1.0
    /// ```
    /// becomes
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: web
    ///       image: example/web:1.0
    ///       securityContext:
    ///         readOnlyRootFilesystem: true
    ///       volumeMounts:
    ///         - name: tmp
    ///           mountPath: /tmp
    ///   volumes:
    ///     - name: tmp
    ///       emptyDir: {}
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: an application that writes anywhere else than its volumes and the added `emptyDir`
    /// mounts (caches, PID files, generated configuration, uploads) fails with "Read-only file
    /// system". The `emptyDir` volumes are per pod, start empty and vanish with the pod; whatever the
    /// image shipped in those directories is hidden. Volume names are `tmp` (or the path, dashed),
    /// prefixed with the container name when taken. While every volume of the pod is a container
    /// runtime socket (K8S008 removes those), the two fixes are not combined in one round.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use read-only root filesystems (`--read-only` or `readOnlyRootFilesystem: true`)"
    /// and "Use `--tmpfs` for temporary writable storage". checkov CKV_K8S_22, CIS Docker Benchmark
    /// 5.12.
    pub struct WritableRootFilesystem => "K8S005", "writable-root-filesystem", Kubernetes, Sometimes;
}

/// A DNS-1123 label for a volume of `path` (`/var/cache/nginx` → `var-cache-nginx`).
fn label_of(path: &str) -> String {
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

/// Whether a mount at `mount` covers `path` (the same directory or a parent of it).
fn covers(mount: &str, path: &str) -> bool {
    let m = mount.trim_end_matches('/');
    let p = path.trim_end_matches('/');
    m.is_empty() || p == m || p.starts_with(&format!("{m}/"))
}

/// A mapping fragment written line by line (`name: tmp\nmountPath: /tmp`).
fn item(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let v = if crate::yaml::is_plain_safe(v, false) {
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
fn extend_list(
    patch: &mut Patch,
    m: &Mapping,
    path: &crate::fix::SemanticPath,
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

fn fix(c: &Container) -> Result<crate::fix::Fix, Refusal> {
    container_refusal(c)?;
    pod_refusal(&c.pod)?;
    let mut wanted: Vec<&str> = vec!["/tmp"];
    if let Some(info) = c.image().as_ref().and_then(crate::knowledge::image_info) {
        for w in info.writes {
            if !wanted.contains(w) {
                wanted.push(w);
            }
        }
    }
    let mounts: Vec<String> = c
        .volume_mounts()
        .map(|s| {
            s.items()
                .iter()
                .filter_map(|i| i.value().resolve())
                .filter_map(|v| v.as_mapping().and_then(|m| get_str(m, "mountPath")))
                .collect()
        })
        .unwrap_or_default();
    let needed: Vec<&str> = wanted
        .into_iter()
        .filter(|p| !mounts.iter().any(|m| covers(m, p)))
        .collect();
    let volumes = c.pod.volumes();
    let mut taken: BTreeSet<String> = volumes
        .as_ref()
        .map(|s| {
            s.items()
                .iter()
                .filter_map(|i| i.value().resolve())
                .filter_map(|v| v.as_mapping().and_then(|m| get_str(m, "name")))
                .collect()
        })
        .unwrap_or_default();
    if !needed.is_empty() {
        if let Some(vols) = &volumes {
            let all_sockets = !vols.is_empty()
                && vols.items().iter().all(|i| {
                    i.value()
                        .resolve()
                        .and_then(|v| v.as_mapping().cloned())
                        .is_some_and(|m| {
                            crate::kubernetes::runtime_socket_mount::socket_path(&m).is_some()
                        })
                });
            if all_sockets {
                return Err("every volume of the pod is a container runtime socket; remove those first (K8S008)".into());
            }
        }
    }
    let mut patch = Patch::new();
    patch.set(
        &c.mapping,
        &c.path,
        &["securityContext"],
        &[("readOnlyRootFilesystem", "true")],
    )?;
    let mut mount_items = Vec::new();
    let mut volume_items = Vec::new();
    for p in &needed {
        let base = label_of(p);
        let mut name = clamp(&base);
        if taken.contains(&name) {
            let prefix = c
                .name
                .as_deref()
                .map_or_else(|| "container".to_owned(), label_of);
            name = clamp(&format!("{prefix}-{base}"));
            let stem = name.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = clamp(&format!("{stem}-{n}"));
                n += 1;
            }
        }
        taken.insert(name.clone());
        mount_items.push(item(&[("name", &name), ("mountPath", p)]));
        volume_items.push(format!("{}\nemptyDir: {{}}", item(&[("name", &name)])));
    }
    if !needed.is_empty() {
        extend_list(
            &mut patch,
            &c.mapping,
            &c.path,
            "volumeMounts",
            &mount_items,
        )?;
        extend_list(
            &mut patch,
            &c.pod.spec,
            &c.pod.path,
            "volumes",
            &volume_items,
        )?;
    }
    let title = if needed.is_empty() {
        "Set `readOnlyRootFilesystem: true`".to_owned()
    } else {
        format!(
            "Set `readOnlyRootFilesystem: true` with emptyDir volumes for {}",
            needed.join(", ")
        )
    };
    make_fix(Applicability::Unsafe, title, patch)
}

impl Check for WritableRootFilesystem {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in pods(file) {
            for c in pod.containers() {
                if c.is_windows() {
                    continue;
                }
                let entry = c
                    .security_context()
                    .and_then(|sc| sc.get_merged("readOnlyRootFilesystem"));
                let value = entry
                    .as_ref()
                    .and_then(|(e, _)| e.value().resolve())
                    .and_then(|n| as_bool(&n));
                if value == Some(true) {
                    continue;
                }
                let range = match (&entry, value) {
                    (Some((e, _)), Some(false)) => e.range(),
                    _ => c.range(),
                };
                let finding = Finding::new(
                    Self::CODE,
                    Self::NAME,
                    range,
                    format!(
                        "The {} has a writable root filesystem (`readOnlyRootFilesystem` is not `true`)",
                        c.label()
                    ),
                );
                out.push(attach(finding, fix(&c)));
            }
        }
        out
    }
}
