use std::collections::BTreeMap;

use crate::compose::model::{node_path, yaml, Service};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::{Applicability, Fix, SemanticPath};
use crate::knowledge::is_docker_socket;
use crate::registry::{Check, Context};
use crate::text::TextRange;
use crate::yaml::{Item, Node, Origin, YamlFile};

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
    /// Unsafe, and decided by what the image is known to do (no guessing). An image the knowledge
    /// base knows, and that is not a Docker API client, loses the mount. A known Docker API client
    /// (Traefik, nginx-proxy, Portainer, Watchtower, CI runners, Dozzle, ...) keeps working: it
    /// gets a filtering proxy instead, a new service `docker-socket-proxy`
    /// (`tecnativa/docker-socket-proxy`, on the client's networks) that allows only the API
    /// sections the client uses and only reads unless it must write, and the client is pointed at
    /// it through its endpoint setting (`DOCKER_HOST=tcp://docker-socket-proxy:2375`); when that
    /// setting or the sections are not known, or the client names the socket in its own
    /// configuration, the finding explains what to do. An unknown image gets a display-only
    /// removal, and `fix --interactive` asks whether it uses the Docker API. A filtering proxy's
    /// own socket mount is not reported. When the mount comes
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
                || !crate::yaml::unshared(&seq.as_node())
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

/// The filtering proxy a Docker API client is given instead of the socket: Tecnativa's
/// docker-socket-proxy, which grants the API sections named by variables (`CONTAINERS=1`) and
/// allows only GET/HEAD unless `POST=1` (its README, "Access revoked by default"). The tag is the
/// release that its CI publishes as `{{version}}` for the git tag `v0.4.1`
/// (Tecnativa/docker-socket-proxy `.github/workflows/ci.yml` lines 143-145).
const PROXY_IMAGE: &str = "tecnativa/docker-socket-proxy:0.4.1";
const PROXY_PORT: u16 = 2375;

/// What is known about the services that mount one socket.
enum Use {
    /// Every one is known not to use the Docker API: the mount can go.
    Unused,
    /// One is a Docker API client: (service, its client facts, where that is known from).
    Client(Service, crate::images::DockerClient, String),
    /// Not known: why, and the question that would tell.
    Unknown(String, Option<crate::finding::Need>),
}

fn usage(ctx: &Context<'_>, all: &[Service], hit: &Hit) -> Use {
    let mut unknown = Vec::new();
    let mut ask = None;
    for (svc, needs) in crate::compose::model::needs_of(ctx, all, &hit.services) {
        match needs.facts.as_ref().and_then(|f| f.docker_api.clone()) {
            Some(crate::images::DockerApi::Client(c)) => {
                return Use::Client(svc, c, needs.source.clone());
            }
            Some(crate::images::DockerApi::None) => {}
            // An entry the knowledge base has researched names the Docker API clients; one that
            // does not mention the API is not one.
            None if needs.facts.is_some() => {}
            None => {
                unknown.push(format!(
                    "`{}`: {}",
                    svc.name,
                    needs
                        .unknown
                        .clone()
                        .unwrap_or_else(|| "its image is not known".into())
                ));
                if ask.is_none() {
                    ask = svc.image_question(
                        &needs,
                        "images.docker-api",
                        format!(
                            "Does `{}` use the Docker API? `no`, or the variable that points it at another endpoint (e.g. DOCKER_HOST)",
                            needs.subject
                        ),
                    );
                }
            }
        }
    }
    if unknown.is_empty() {
        Use::Unused
    } else {
        Use::Unknown(unknown.join("; "), ask)
    }
}

/// Whether the service names the socket itself somewhere else (a `--providers.docker.endpoint=unix://…`
/// flag, a label, a variable): then pointing it elsewhere through a variable would not be enough.
fn names_socket_elsewhere(svc: &Service, endpoint_env: &str) -> bool {
    fn walk(n: &Node, depth: usize) -> bool {
        if depth > 16 {
            return true;
        }
        match n {
            Node::Scalar(s) => {
                let v = s.value();
                v.contains("docker.sock") || v.contains("docker_engine")
            }
            Node::Sequence(seq) => seq
                .items()
                .iter()
                .any(|i| i.value().resolve().is_some_and(|v| walk(&v, depth + 1))),
            Node::Mapping(m) => m
                .entries()
                .iter()
                .any(|e| e.value().resolve().is_some_and(|v| walk(&v, depth + 1))),
            _ => false,
        }
    }
    [
        "command",
        "entrypoint",
        "labels",
        "environment",
        "env_file",
        "configs",
    ]
    .iter()
    .any(|k| svc.value(k).is_some_and(|v| walk(&v, 0)))
        || svc.value("environment").is_some_and(|env| match env {
            Node::Mapping(m) => m.get(endpoint_env).is_some(),
            Node::Sequence(seq) => seq.items().iter().any(|i| {
                i.value()
                    .resolve()
                    .and_then(|v| {
                        v.as_str()
                            .map(|t| t.split('=').next() == Some(endpoint_env))
                    })
                    .unwrap_or(false)
            }),
            _ => false,
        })
}

/// The proxy service's text, and the edits that give it to `svc` instead of the socket.
fn proxy_fix(
    file: &YamlFile,
    all: &[Service],
    hit: &Hit,
    svc: &Service,
    client: &crate::images::DockerClient,
) -> Result<(Vec<crate::edit::Edit>, Vec<SemanticPath>, String), String> {
    let Some(endpoint) = client.endpoint_env.as_deref() else {
        return Err("the setting that points it at another endpoint is not known".into());
    };
    if hit.shared || hit.services.len() > 1 {
        return Err("the mount is shared with other services".into());
    }
    if hit.source.contains("pipe") {
        return Err("it is the Windows named pipe".into());
    }
    if svc.get("network_mode").is_some() {
        return Err(
            "it sets `network_mode`, so a proxy on a compose network may not be reachable".into(),
        );
    }
    if names_socket_elsewhere(svc, endpoint) {
        return Err(format!(
            "its configuration names the socket or `{endpoint}` itself; point it at the proxy there"
        ));
    }
    let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    let proxy = [
        "docker-socket-proxy".to_owned(),
        format!("{}-docker-proxy", svc.name),
    ]
    .into_iter()
    .find(|n| !names.contains(&n.as_str()))
    .ok_or("a service named `docker-socket-proxy` exists already")?;
    // The proxy joins the client's networks (names, in list or mapping form).
    let networks: Vec<String> = match svc.value("networks") {
        None => Vec::new(),
        Some(Node::Sequence(seq)) => seq
            .items()
            .iter()
            .map(|i| {
                i.value()
                    .resolve()
                    .and_then(|v| v.as_str().map(str::to_owned))
            })
            .collect::<Option<_>>()
            .ok_or("its `networks` cannot be read")?,
        Some(Node::Mapping(m)) => m.entries().iter().map(|e| e.key().to_owned()).collect(),
        Some(_) => return Err("its `networks` cannot be read".into()),
    };
    let write = client.write || client.sections.iter().any(|s| s == "POST");
    let mut sections: Vec<String> = client.sections.clone();
    // Granted by default (EVENTS, PING, VERSION), or the write switch set below (POST).
    sections.retain(|s| !matches!(s.as_str(), "EVENTS" | "PING" | "VERSION" | "POST"));
    sections.sort();
    sections.dedup();
    let mut env: Vec<String> = sections.iter().map(|s| format!("{s}: \"1\"")).collect();
    env.push(format!("POST: \"{}\"", u8::from(write)));
    let quote = file.preferred_quote();
    let socket = crate::yaml::string_scalar(
        &format!("{}:/var/run/docker.sock:ro", hit.source),
        quote,
        true,
    );
    let mut body = format!(
        "image: {PROXY_IMAGE}\nenvironment:\n{}\nvolumes:\n  - {socket}",
        env.iter()
            .map(|e| format!("  {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    if !networks.is_empty() {
        body.push_str(&format!(
            "\nnetworks:\n{}",
            networks
                .iter()
                .map(|n| format!("  - {n}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    let services = file.documents()[svc.doc]
        .root()
        .path(&["services"])
        .and_then(|n| n.resolve())
        .and_then(|n| n.as_mapping().cloned())
        .ok_or("`services` cannot be extended")?;
    let mut edits = hit.item.remove_or_parent_entry().map_err(|e| e.message)?;
    let value = format!("tcp://{proxy}:{PROXY_PORT}");
    match crate::compose::model::env_addition(file, svc, &[(endpoint.to_owned(), value)]) {
        Some(crate::compose::model::EnvAddition::NewKey(fragment)) => edits.extend(
            svc.mapping
                .insert_entry("environment", &fragment)
                .map_err(|e| e.message)?,
        ),
        Some(crate::compose::model::EnvAddition::Edits(_, e)) => edits.extend(e),
        None => return Err("its `environment` is inherited and cannot be extended here".into()),
    }
    // After the client's own edits: when the client is the last service, both insert at the end
    // of `services`, and the client's lines must stay in the client.
    edits.extend(
        services
            .insert_entry(&proxy, &body)
            .map_err(|e| e.message)?,
    );
    let changes = vec![
        svc.path(&["volumes"]),
        svc.path(&["environment"]),
        SemanticPath::new(svc.doc, ["services", proxy.as_str()]),
    ];
    Ok((crate::compose::model::merge_inserts(edits), changes, proxy))
}

impl Check for DockerSocketMount {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = crate::compose::model::checked_services(ctx, file);
        // A filtering proxy is where the socket belongs: it is the fix, not a finding.
        let proxies: Vec<String> = all
            .iter()
            .filter(|s| {
                s.image()
                    .is_some_and(|i| crate::knowledge::is_socket_proxy(&i))
            })
            .map(|s| s.name.clone())
            .collect();
        collect(&all)
            .into_iter()
            .filter(|hit| !hit.services.iter().all(|s| proxies.contains(s)))
            .map(|hit| {
                let range: TextRange = hit.item.range();
                let mut message = message(&hit);
                // An aliased item (`- *sock`) is removed from the list that holds the alias; the
                // anchor itself stays (it may be used elsewhere).
                if hit.item.value().anchor().is_some() {
                    // The item is itself an anchor others may alias: removing it would leave them dangling.
                    return Finding::new(Self::CODE, Self::NAME, range, message);
                }
                let edits = if hit.shared {
                    hit.item.remove()
                } else {
                    hit.item.remove_or_parent_entry()
                };
                let Ok(edits) = edits else {
                    return Finding::new(Self::CODE, Self::NAME, range, message);
                };
                let removal = |app| match app {
                    Applicability::Unsafe => {
                        Fix::unsafe_("Remove the Docker socket mount", edits.clone())
                    }
                    _ => Fix::display_only("Remove the Docker socket mount", edits.clone()),
                }
                .with_changes(hit.paths.clone());
                match usage(ctx, &all, &hit) {
                    Use::Unused => {
                        message.push_str(" (the image does not use the Docker API, as far as the knowledge base shows)");
                        Finding::new(Self::CODE, Self::NAME, range, message)
                            .with_fix(removal(Applicability::Unsafe))
                    }
                    Use::Unknown(why, ask) => {
                        message.push_str(&format!(
                            " (display only: whether it uses the Docker API is not known: {why}; say so with `docker-api` in an `[[images]]` entry of .dockharden.toml, or answer in `fix --interactive`)"
                        ));
                        let f = Finding::new(Self::CODE, Self::NAME, range, message)
                            .with_fix(removal(Applicability::DisplayOnly));
                        match ask {
                            Some(need) => f.with_need(need),
                            None => f,
                        }
                    }
                    Use::Client(svc, client, source) => {
                        let sections = if client.sections.is_empty() {
                            "its API sections are not known".to_owned()
                        } else {
                            format!("it uses {}", client.sections.join(", "))
                        };
                        match proxy_fix(file, &all, &hit, &svc, &client) {
                            Ok((edits, changes, proxy)) if !client.sections.is_empty() => {
                                message.push_str(&format!(
                                    "; `{}` is a Docker API client ({sections}; {source}): give it a filtering proxy, `{proxy}`, that allows only those{}",
                                    svc.name,
                                    if client.write { "" } else { " and only reads" }
                                ));
                                Finding::new(Self::CODE, Self::NAME, range, message).with_fix(
                                    Fix::unsafe_(
                                        format!("Replace the socket by the filtering proxy `{proxy}`"),
                                        edits,
                                    )
                                    .with_changes(changes),
                                )
                            }
                            Ok((edits, changes, proxy)) => {
                                message.push_str(&format!(
                                    "; `{}` is a Docker API client ({source}) but {sections} (display only: enable in `{proxy}` the sections it uses)",
                                    svc.name
                                ));
                                Finding::new(Self::CODE, Self::NAME, range, message).with_fix(
                                    Fix::display_only(
                                        format!("Replace the socket by the filtering proxy `{proxy}`"),
                                        edits,
                                    )
                                    .with_changes(changes),
                                )
                            }
                            Err(why) => {
                                message.push_str(&format!(
                                    "; `{}` is a Docker API client ({sections}; {source}), and no proxy can be set up automatically: {why}",
                                    svc.name
                                ));
                                Finding::new(Self::CODE, Self::NAME, range, message)
                            }
                        }
                    }
                }
            })
            .collect()
    }
}
