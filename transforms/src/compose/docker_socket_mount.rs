use std::collections::BTreeMap;

use crate::compose::model::{node_path, services, yaml, Service};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::{Fix, SemanticPath};
use crate::knowledge::is_docker_socket;
use crate::registry::{Check, Context};
use crate::text::TextRange;
use crate::yaml::{Item, Node, Origin};

declare_transform! {
    /// ## What it does
    /// Flags services that mount the Docker daemon socket (`/var/run/docker.sock`, `/run/docker.sock`,
    /// the Windows named pipe `//./pipe/docker_engine`), in short or long volume syntax, read-only or
    /// not, and removes the mount.
    ///
    /// ## Why is this bad?
    /// Whoever can talk to the Docker socket controls the host: it can start a privileged container that mounts `/`, and `:ro` does not help (it only stops deleting the socket file).
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     volumes:
    ///       - ./html:/usr/share/nginx/html
    ///       - /var/run/docker.sock:/var/run/docker.sock:ro
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   web:
    ///     volumes:
    ///       - ./html:/usr/share/nginx/html
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: a service that really uses the Docker API (Traefik, Portainer, CI runners, monitoring
    /// agents) stops working. Give such a service a filtering socket proxy instead (for example
    /// `tecnativa/docker-socket-proxy` or `wollomatok/socket-proxy`) that allows only the endpoints it
    /// needs, and point it at `tcp://socket-proxy:2375` on an internal network. When the mount comes
    /// from an anchor (`<<: *defaults`) or an aliased list, the shared list is edited only because
    /// every service that uses it mounts the same socket; the verification checks that nothing else
    /// changed. When the socket is the only entry of a shared list, the list becomes `[]`. An item that
    /// is itself an anchor (`- &sock /var/run/docker.sock:...`) is reported without a fix.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT expose /var/run/docker.sock to containers via volume mounts". CIS Docker
    /// Benchmark 5.31, checkov CKV_DOCKER (compose) / CKV_K8S_27 (Kubernetes), KICS
    /// "Docker Socket Mounted In Container", compose-lint CL-0001 equivalent.
    pub struct DockerSocketMount => "DC001", "docker-socket-mount", Compose, Sometimes;
}

/// The host side of a short-syntax volume (`src:dst[:mode]`), or None for a named volume or
/// anonymous volume.
fn short_source(spec: &str) -> &str {
    let s = spec.trim();
    for pipe in ["//./pipe/", "\\\\.\\pipe\\"] {
        if let Some(rest) = s.strip_prefix(pipe) {
            return &s[..pipe.len() + rest.find(':').unwrap_or(rest.len())];
        }
    }
    // `${SOCK:-/var/run/docker.sock}:/var/run/docker.sock`: the variable's default is the source.
    if s.starts_with("${") {
        if let Some(end) = s.find('}') {
            return &s[..=end];
        }
    }
    // Windows drive letters (`C:\x:/y`) are not a concern for the socket paths we look for.
    s.split(':').next().unwrap_or(s)
}

fn names_socket(source: &str) -> bool {
    if is_docker_socket(source) {
        return true;
    }
    // Interpolated: `${DOCKER_SOCK:-/var/run/docker.sock}`.
    source.starts_with("${") && (source.contains("docker.sock") || source.contains("docker_engine"))
}

/// Whether a volume item (short string or long mapping) mounts a Docker socket; returns its source.
#[must_use]
pub fn socket_source(value: &Node) -> Option<String> {
    match value {
        Node::Scalar(s) => {
            let src = short_source(s.value());
            names_socket(src).then(|| src.to_owned())
        }
        Node::Mapping(m) => {
            let ty = m
                .get("type")
                .and_then(|e| e.value().as_str().map(str::to_owned));
            if ty.as_deref().is_some_and(|t| t != "bind" && t != "npipe") {
                return None;
            }
            let src = m
                .get("source")
                .and_then(|e| e.value().resolve())
                .and_then(|n| n.as_str().map(str::to_owned))?;
            names_socket(&src).then_some(src)
        }
        _ => None,
    }
}

struct Hit {
    item: Item,
    source: String,
    services: Vec<String>,
    shared: bool,
    paths: Vec<SemanticPath>,
}

fn message(hit: &Hit) -> String {
    let who = if hit.services.len() == 1 {
        format!("Service `{}` mounts", hit.services[0])
    } else {
        format!(
            "Services {} mount",
            hit.services
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "{who} the Docker daemon socket `{}`: full control of the host, even read-only. Remove it; if the API is needed, use a filtering socket proxy",
        hit.source
    )
}

fn collect(all: &[Service]) -> Vec<Hit> {
    let mut hits: BTreeMap<(usize, usize), Hit> = BTreeMap::new();
    for svc in all {
        let Some((entry, origin)) = svc.get("volumes") else {
            continue;
        };
        let value = entry.value();
        let aliased = matches!(value, Node::Alias(_));
        let Some(Node::Sequence(seq)) = value.resolve() else {
            continue;
        };
        for item in seq.items() {
            let item_value = item.value();
            let item_aliased = matches!(item_value, Node::Alias(_));
            let Some(resolved) = item_value.resolve() else {
                continue;
            };
            let Some(source) = socket_source(&resolved) else {
                continue;
            };
            let shared = aliased
                || item_aliased
                || crate::compose::model::is_shared(&seq.as_node(), &origin)
                || origin != Origin::Own;
            let key = (item.range().start, item.range().end);
            let hit = hits.entry(key).or_insert_with(|| Hit {
                item: item.clone(),
                source,
                services: Vec::new(),
                shared,
                paths: vec![node_path(&seq.as_node())],
            });
            hit.shared |= shared;
            hit.services.push(svc.name.clone());
            hit.paths.push(svc.path(&["volumes"]));
        }
    }
    hits.into_values().collect()
}

impl Check for DockerSocketMount {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = services(file);
        collect(&all)
            .into_iter()
            .map(|hit| {
                let range: TextRange = hit.item.range();
                let finding = Finding::new(Self::CODE, Self::NAME, range, message(&hit));
                // An aliased item (`- *sock`) is removed from the list that holds the alias; the
                // anchor itself stays (it may be used elsewhere).
                if hit.item.value().anchor().is_some() {
                    // The item is itself an anchor others may alias: removing it would leave them dangling.
                    return finding;
                }
                let edits = if hit.shared {
                    hit.item.remove()
                } else {
                    hit.item.remove_or_parent_entry()
                };
                match edits {
                    Ok(edits) => finding.with_fix(
                        Fix::unsafe_("Remove the Docker socket mount", edits)
                            .with_changes(hit.paths),
                    ),
                    Err(_) => finding,
                }
            })
            .collect()
    }
}
