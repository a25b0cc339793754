use crate::declare_transform;
use crate::finding::{Finding, Need};
use crate::fix::Applicability;
use crate::kubernetes::model::{as_bool, path_within, yaml, Container};
use crate::kubernetes::patch::{Patch, Refusal};
use crate::kubernetes::volumes::{add_env, add_volumes, label_of, mount_empty_dirs, Names};
use crate::kubernetes::{attach, container_refusal, make_fix, pod_refusal};
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags containers and init containers without `readOnlyRootFilesystem: true`. When the image
    /// is known to run read-only (`read-only = true` in the configuration's `[[images]]` or the
    /// knowledge base), the fix sets it and mounts an `emptyDir` at `/tmp` and at every path the
    /// image writes at run time (`tmpfs`: `/var/cache/nginx` and `/var/run` for nginx,
    /// `/home/model-server/tmp` and `/home/model-server/logs` for TorchServe, ...), except where a
    /// volume mount already covers the path, and adds the variables it needs to run read-only
    /// (`read-only-env`). Images known not to run read-only (`read-only = false`: the ingress-nginx
    /// controller, GitLab) are reported without a fix, with the reason. Ephemeral containers are
    /// reported only; Windows pods and images are skipped.
    ///
    /// ## Why is this bad?
    /// A writable root filesystem lets an attacker who got code execution drop and run tools, modify the application's binaries or configuration, and persist until the container is replaced.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: web
    ///       image: nginx:1.27
    /// ```
    /// becomes
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: web
    ///       image: nginx:1.27
    ///       securityContext:
    ///         readOnlyRootFilesystem: true
    ///       volumeMounts:
    ///         - name: tmp
    ///           mountPath: /tmp
    ///         - name: var-cache-nginx
    ///           mountPath: /var/cache/nginx
    ///         - name: var-run
    ///           mountPath: /var/run
    ///   volumes:
    ///     - name: tmp
    ///       emptyDir: {}
    ///     - name: var-cache-nginx
    ///       emptyDir: {}
    ///     - name: var-run
    ///       emptyDir: {}
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when the paths the image writes are known. Display-only (with the
    /// `/tmp` suggestion) when:
    /// - which paths the image writes is not known (an image outside the knowledge base, or an
    ///   entry without `read-only`); `fix --interactive` asks for them and saves them as `tmpfs` in
    ///   an `[[images]]` entry of `.dockharden.toml`;
    /// - the image keeps state in a path where the container mounts no volume (`state`: Jupyter's
    ///   `/home/jovyan`, redis' `/data`): mount one there first. A `VOLUME` of the image's
    ///   Dockerfile does not count: containerd makes it a writable volume, but CRI-O's default
    ///   (`image_volumes = "mkdir"`) creates it inside the root filesystem, read-only with the rest;
    /// - the image writes another path in this container's setup (`writes-when`: a variable it
    ///   sets, such as Jupyter's `GEN_CERT`, or a folder it mounts, such as nginx templates).
    ///
    /// Even when applied, the `emptyDir` volumes are per pod, start empty and vanish with the pod;
    /// whatever the image shipped in those directories is hidden. Volume names are the path,
    /// dashed (`tmp`, `var-cache-nginx`), prefixed with the container name when taken. While
    /// every volume of the pod is a container runtime socket (K8S008 removes those), the two
    /// fixes are not combined in one round.
    ///
    /// ## Options
    /// `[[images]]` entries (`read-only`, `tmpfs`, `state`, `read-only-env`) describe images the
    /// knowledge base does not know.
    ///
    /// ## References
    /// Guideline: "Use read-only root filesystems (`--read-only` or `readOnlyRootFilesystem: true`)"
    /// and "Use `--tmpfs` for temporary writable storage". checkov CKV_K8S_22, CIS Docker Benchmark
    /// 5.12.
    pub struct WritableRootFilesystem => "K8S005", "writable-root-filesystem", Kubernetes, Sometimes;
}

/// What is known about whether a container's image runs with a read-only root filesystem.
enum Knows {
    /// It does, given the `emptyDir`s of [`Plan::paths`] (and [`Plan::env`]); the source.
    Works(String),
    /// It does not: why, with the source.
    Cannot(String),
    /// Not known: why, and the question that would tell.
    Unknown(String, Option<Need>),
}

/// What one container needs to run read-only.
struct Plan {
    knows: Knows,
    /// Paths that get an `emptyDir` (`/tmp` and the image's scratch paths not already mounted).
    paths: Vec<String>,
    /// Variables the image needs to run read-only that the container does not set.
    env: Vec<(String, String)>,
    /// State paths of the image with nothing mounted there: they need a volume first.
    blocked: Vec<String>,
    /// Paths the image writes in this container's setup (`writes-when`) that nothing mounts.
    conditional: Vec<(String, String)>,
}

fn plan(c: &Container, ctx: &Context<'_>) -> Plan {
    let needs = c.needs(ctx);
    let facts = needs.facts();
    let mounts: Vec<String> = c.mounts().into_iter().map(|m| m.path).collect();
    let covered = |p: &str| mounts.iter().any(|m| path_within(p, m));
    let state = facts.state.clone().unwrap_or_default();
    let knows = match facts.read_only {
        Some(true) => Knows::Works(needs.because()),
        Some(false) => Knows::Cannot(format!(
            "{}{}",
            facts
                .read_only_why
                .clone()
                .unwrap_or_else(|| "it writes into its root filesystem".into()),
            needs.because()
        )),
        None => Knows::Unknown(
            needs.unknown.clone().unwrap_or_else(|| {
                format!(
                    "which paths `{}` writes at run time is not known{}",
                    needs.subject,
                    needs.because()
                )
            }),
            c.image_question(
                &needs,
                "images.tmpfs",
                format!(
                    "Paths `{}` writes at run time outside its volumes (each gets an emptyDir), e.g. /tmp /var/run, or `none`",
                    needs.subject
                ),
            ),
        ),
    };
    let mut paths: Vec<String> = Vec::new();
    for p in std::iter::once("/tmp".to_owned()).chain(facts.tmpfs.clone().unwrap_or_default()) {
        if paths.contains(&p) || covered(&p) || state.iter().any(|s| path_within(&p, s)) {
            continue;
        }
        paths.push(p);
    }
    // A `VOLUME` of the image's Dockerfile is no Kubernetes volume: where the runtime creates it
    // inside the root filesystem (CRI-O's default `image_volumes = "mkdir"`), it is read-only with
    // the rest. Only a mount in the manifest keeps state writable.
    let blocked = state.iter().filter(|p| !covered(p)).cloned().collect();
    let env_now = c.env();
    let env = facts.read_only_env_missing(|k| env_now.iter().any(|(n, _)| n == k));
    let conditional = facts.conditional_writes(
        &mounts,
        |v| {
            env_now
                .iter()
                .any(|(n, val)| n == v && val.as_deref().is_none_or(|x| !x.is_empty()))
        },
        covered,
    );
    Plan {
        knows,
        paths,
        env,
        blocked,
        conditional,
    }
}

fn fix(
    c: &Container,
    plan: &Plan,
    applicability: Applicability,
) -> Result<crate::fix::Fix, Refusal> {
    container_refusal(c)?;
    pod_refusal(&c.pod)?;
    if !plan.paths.is_empty() {
        if let Some(vols) = &c.pod.volumes() {
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
    let mut names = Names::of(c);
    let labelled: Vec<(String, String)> = plan
        .paths
        .iter()
        .map(|p| (label_of(p), p.clone()))
        .collect();
    let mut volume_items = Vec::new();
    mount_empty_dirs(&mut patch, c, &mut names, &labelled, &mut volume_items)?;
    add_volumes(&mut patch, c, &volume_items)?;
    add_env(&mut patch, c, &plan.env)?;
    let mut title = if plan.paths.is_empty() {
        "Set `readOnlyRootFilesystem: true`".to_owned()
    } else {
        format!(
            "Set `readOnlyRootFilesystem: true` with emptyDir volumes for {}",
            plan.paths.join(", ")
        )
    };
    if !plan.env.is_empty() {
        title.push_str(&format!(
            " and {}",
            plan.env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    make_fix(applicability, title, patch)
}

fn quoted(paths: &[String]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Check for WritableRootFilesystem {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            for c in pod.containers().iter() {
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
                let mut message = format!(
                    "The {} has a writable root filesystem (`readOnlyRootFilesystem` is not `true`)",
                    c.label()
                );
                let plan = plan(c, ctx);
                let mut ask = None;
                let applicability = match &plan.knows {
                    Knows::Cannot(why) => {
                        message.push_str(&format!(
                            "; `{}` cannot run read-only: {why}, so there is no fix",
                            c.needs(ctx).subject
                        ));
                        out.push(Finding::new(Self::CODE, Self::NAME, range, message));
                        continue;
                    }
                    Knows::Unknown(why, need) => {
                        ask.clone_from(need);
                        message.push_str(&format!(
                            " (display only: {why}; name the paths it writes with `tmpfs` in an `[[images]]` entry of .dockharden.toml, or answer in `fix --interactive`)"
                        ));
                        Applicability::DisplayOnly
                    }
                    Knows::Works(source) => {
                        if !plan.paths.is_empty() {
                            message.push_str(&format!(
                                "; it writes {}{source}: each gets an emptyDir",
                                quoted(&plan.paths)
                            ));
                        }
                        let mut shown = Vec::new();
                        if !plan.blocked.is_empty() {
                            shown.push(format!(
                                "it keeps state in {}, where the pod mounts no volume (a `VOLUME` of its Dockerfile stays writable only where the container runtime makes it a volume): mount one there first",
                                quoted(&plan.blocked)
                            ));
                        }
                        for (path, why) in &plan.conditional {
                            shown.push(format!("it writes `{path}` in this setup ({why}): mount an emptyDir or a volume there first"));
                        }
                        if shown.is_empty() {
                            Applicability::Unsafe
                        } else {
                            message.push_str(&format!(" (display only: {})", shown.join("; ")));
                            Applicability::DisplayOnly
                        }
                    }
                };
                let finding = attach(
                    Finding::new(Self::CODE, Self::NAME, range, message),
                    fix(c, &plan, applicability),
                );
                out.push(match ask {
                    Some(need) => finding.with_need(need),
                    None => finding,
                });
            }
        }
        out
    }
}
