use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::images::DockerApi;
use crate::knowledge::is_runtime_socket;
use crate::kubernetes::model::{get_mapping, get_str, yaml};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::{attach, make_fix, pod_refusal};
use crate::registry::{Check, Context};
use crate::yaml::Mapping;

declare_transform! {
    /// ## What it does
    /// Flags pods with a `hostPath` volume of a container runtime socket (Docker, containerd, CRI-O,
    /// cri-dockerd, Podman) or of the directory holding one (`/run/containerd`), and removes the
    /// volumes together with every `volumeMount` that uses them, in all containers, in one fix.
    ///
    /// ## Why is this bad?
    /// Whoever can talk to the container runtime's socket controls the node: it can start a privileged container that mounts the host's root filesystem, whatever the pod's own security context says.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: agent
    ///       image: example/agent:1.2
    ///       volumeMounts:
    ///         - name: docker
    ///           mountPath: /var/run/docker.sock
    ///         - name: config
    ///           mountPath: /etc/agent
    ///   volumes:
    ///     - name: docker
    ///       hostPath:
    ///         path: /var/run/docker.sock
    ///     - name: config
    ///       configMap:
    ///         name: agent
    /// ```
    /// becomes
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: agent
    ///       image: example/agent:1.2
    ///       volumeMounts:
    ///         - name: config
    ///           mountPath: /etc/agent
    ///   volumes:
    ///     - name: config
    ///       configMap:
    ///         name: agent
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when every container that mounts the socket is known not to use the
    /// Docker API (`docker-api = false` in the configuration's `[[images]]`, or a knowledge base
    /// entry that does not name it a client: the entries name every Docker API client they know, as
    /// for DC001; nginx) and every socket is Docker's (the knowledge base says whether an image
    /// uses the Docker API, not the containerd or CRI-O API). A known Docker API client (the
    /// Portainer agent, CI runners, Traefik's Docker provider) is reported without a fix: its
    /// function is the API, and a filtering proxy sidecar is not written for Kubernetes (DC001 does
    /// that for compose). Otherwise (an image nobody knows, another runtime's socket) the removal
    /// is a display-only suggestion, and `fix --interactive` asks whether the image uses the API
    /// (saved as `docker-api` in an `[[images]]` entry of `.dockharden.toml`). Read container
    /// metrics from the kubelet and build images with a daemonless builder (BuildKit rootless,
    /// kaniko, buildah) instead. A `volumes` or `volumeMounts` list left empty is removed with its
    /// key. All the socket volumes of one pod are removed by one fix, so that no mount is left
    /// without its volume.
    ///
    /// ## Options
    /// `[[images]]` entries (`docker-api`) describe images the knowledge base does not know.
    ///
    /// ## References
    /// Guideline: "DO NOT expose `/var/run/docker.sock` to containers via volume mounts". checkov
    /// CKV_K8S_27, CIS Docker Benchmark 5.31, Kubernetes Pod Security Standards (baseline forbids
    /// `hostPath`).
    pub struct RuntimeSocketMount => "K8S008", "runtime-socket-mount", Kubernetes, Sometimes;
}

/// The host path of a volume when it is a `hostPath` volume of a runtime socket.
#[must_use]
pub fn socket_path(volume: &Mapping) -> Option<String> {
    let host = get_mapping(volume, "hostPath")?;
    let path = get_str(&host, "path")?;
    is_runtime_socket(&path).then_some(path)
}

impl Check for RuntimeSocketMount {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            let Some(volumes) = pod.volumes() else {
                continue;
            };
            // (index, name, host path) of every socket volume.
            let mut hits: Vec<(usize, Option<String>, String, crate::text::TextRange)> = Vec::new();
            for item in volumes.items() {
                let Some(crate::yaml::Node::Mapping(m)) = item.value().resolve() else {
                    continue;
                };
                if let Some(path) = socket_path(&m) {
                    hits.push((item.index(), get_str(&m, "name"), path, item.range()));
                }
            }
            let Some(first) = hits.first() else {
                continue;
            };
            let described: Vec<String> = hits
                .iter()
                .map(|(_, name, path, _)| match name {
                    Some(n) => format!("`{path}` (volume `{n}`)"),
                    None => format!("`{path}`"),
                })
                .collect();
            let finding = Finding::new(
                Self::CODE,
                Self::NAME,
                first.3,
                format!(
                    "{} mounts the container runtime {} {}: full control of the node",
                    pod.label(),
                    if described.len() == 1 {
                        "socket"
                    } else {
                        "sockets"
                    },
                    described.join(", ")
                ),
            );
            // What the containers that mount a socket do with it.
            let socket_names: Vec<&str> = hits
                .iter()
                .filter_map(|(_, n, _, _)| n.as_deref())
                .collect();
            let mut clients = Vec::new();
            let mut unknown = Vec::new();
            let mut ask = None;
            for c in pod.containers().iter() {
                if !c
                    .mounts()
                    .iter()
                    .any(|m| socket_names.contains(&m.name.as_str()))
                {
                    continue;
                }
                let needs = c.needs(ctx);
                let name = c.name.clone().unwrap_or_else(|| "container".into());
                match needs.facts.as_ref().and_then(|f| f.docker_api.clone()) {
                    Some(DockerApi::Client(_)) => clients.push(format!(
                        "`{name}` (`{}`) is a Docker API client{}",
                        needs.subject,
                        needs.because()
                    )),
                    Some(DockerApi::None) => {}
                    // An entry the knowledge base has researched names the Docker API clients;
                    // one that does not mention the API is not one (as DC001).
                    None if needs.facts.is_some() => {}
                    None => {
                        unknown.push(format!(
                            "`{name}`: {}",
                            needs
                                .unknown
                                .clone()
                                .unwrap_or_else(|| "its image is not known".into())
                        ));
                        if ask.is_none() {
                            ask = c.image_question(
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
            let mut finding = finding;
            if !clients.is_empty() {
                finding.message.push_str(&format!(
                    "; its function is the API: {}, so it is not removed",
                    clients.join("; ")
                ));
                out.push(finding);
                continue;
            }
            let other: Vec<&str> = hits
                .iter()
                .map(|(_, _, p, _)| p.as_str())
                .filter(|p| !p.ends_with("docker.sock"))
                .collect();
            let applicability = if !unknown.is_empty() {
                finding.message.push_str(&format!(
                    " (display only: whether it uses the API is not known: {})",
                    unknown.join("; ")
                ));
                Applicability::DisplayOnly
            } else if !other.is_empty() {
                finding.message.push_str(&format!(
                    " (display only: the knowledge base says whether an image uses the Docker API, not whether it uses {})",
                    other.join(", ")
                ));
                Applicability::DisplayOnly
            } else {
                Applicability::Unsafe
            };
            let fix = pod_refusal(pod).and_then(|()| {
                let names: Vec<&str> = hits
                    .iter()
                    .filter_map(|(_, n, _, _)| n.as_deref())
                    .collect();
                let mut patch = Patch::new();
                for c in pod.containers().iter() {
                    let Some(mounts) = c.volume_mounts() else {
                        continue;
                    };
                    let idx: Vec<usize> = mounts
                        .items()
                        .iter()
                        .filter(|i| {
                            i.value()
                                .resolve()
                                .and_then(|v| v.as_mapping().and_then(|m| get_str(m, "name")))
                                .is_some_and(|n| names.contains(&n.as_str()))
                        })
                        .map(crate::yaml::Item::index)
                        .collect();
                    if idx.is_empty() {
                        continue;
                    }
                    if c.shared {
                        return Err(
                            "a container that mounts it is shared through a YAML anchor or alias"
                                .into(),
                        );
                    }
                    patch.remove_items(&mounts, &idx, c.path(&["volumeMounts"]))?;
                }
                let idx: Vec<usize> = hits.iter().map(|h| h.0).collect();
                patch.remove_items(&volumes, &idx, pod.path(&["volumes"]))?;
                make_fix(
                    applicability,
                    if hits.len() == 1 {
                        "Remove the runtime socket volume and its mounts".to_owned()
                    } else {
                        "Remove the runtime socket volumes and their mounts".to_owned()
                    },
                    patch,
                )
            });
            let finding = attach(finding, fix);
            out.push(match ask {
                Some(need) if applicability == Applicability::DisplayOnly => {
                    finding.with_need(need)
                }
                _ => finding,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::Engine;
    use crate::fix::Applicability;
    use crate::source::FileKind;

    fn findings(image: &str) -> Vec<crate::Finding> {
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: {image}\n      volumeMounts:\n        - name: docker\n          mountPath: /var/run/docker.sock\n  volumes:\n    - name: docker\n      hostPath:\n        path: /var/run/docker.sock\n"
        );
        let engine = Engine {
            transforms: vec![crate::registry::find("K8S008").unwrap()],
            ..Engine::with_defaults()
        };
        engine.check(FileKind::Kubernetes, &text).unwrap()
    }

    /// An unknown image: the removal is only shown, and the session asks whether it uses the API.
    #[test]
    fn unknown_images_are_asked_about() {
        let f = findings("ghcr.io/acme/runner:3.0");
        assert_eq!(f.len(), 1);
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.applicability, Applicability::DisplayOnly);
        let need = f[0].need.as_ref().unwrap();
        assert_eq!(need.option, "images.docker-api");
        assert_eq!(need.key.as_deref(), Some("ghcr.io/acme/runner"));
    }

    /// A known client keeps its socket (no fix, no question); a known non-client loses it.
    #[test]
    fn known_images_decide() {
        let f = findings("portainer/agent:2.21.4");
        assert!(
            f[0].fix.is_none() && f[0].need.is_none(),
            "{}",
            f[0].message
        );
        let f = findings("nginx:1.27");
        assert_eq!(
            f[0].fix.as_ref().unwrap().applicability,
            Applicability::Unsafe
        );
        assert!(f[0].need.is_none());
    }
}
