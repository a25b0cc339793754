use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::knowledge::normalize_cap;
use crate::kubernetes::model::{as_bool, editable_node, yaml, Container};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::volumes::like_items;
use crate::kubernetes::{attach, container_refusal, make_fix};
use crate::registry::{Check, Context};
use crate::yaml::Node;

declare_transform! {
    /// ## What it does
    /// Flags containers whose `securityContext` sets `privileged: true` and removes the key,
    /// granting instead exactly what the image is known to need (`privileged-needs` in the
    /// configuration's `[[images]]` or the knowledge base: NET_ADMIN and SYS_MODULE for WireGuard)
    /// as `capabilities.add`. Ephemeral containers are reported only.
    ///
    /// ## Why is this bad?
    /// A privileged container has every capability and every host device, with no seccomp or AppArmor confinement: escaping to the node is trivial.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: agent
    ///     image: example/agent:1.2
    ///     securityContext:
    ///       privileged: true
    ///       readOnlyRootFilesystem: true
    /// ```
    /// becomes
    /// ```yaml
    /// containers:
    ///   - name: agent
    ///     image: example/agent:1.2
    ///     securityContext:
    ///       readOnlyRootFilesystem: true
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when what the image needs instead is known (`privileged-needs`
    /// without devices). Otherwise:
    /// - an image known to need root for its function on the node (`needs-root`: calico-node,
    ///   which programs the host's routes and firewall and runs privileged upstream) without a
    ///   known replacement is reported without a fix;
    /// - an image that needs host devices (`/dev/net/tun` for Tailscale in kernel mode) gets a
    ///   display-only suggestion: a pod gets a device only through `privileged` or a device plugin;
    /// - an image that is not known, or known without `privileged-needs` (node installers that copy
    ///   into host paths or set sysctls, init containers whose job is the host), gets a
    ///   display-only suggestion; name its needs with `privileged-needs` in an `[[images]]` entry
    ///   of `.dockharden.toml`.
    ///
    /// When `privileged` is the only key of the security context, the context becomes `{}`.
    ///
    /// ## Options
    /// `[[images]]` entries (`privileged-needs`, `needs-root`) describe images the knowledge base
    /// does not know.
    ///
    /// ## References
    /// Guideline: "DO NOT use `--privileged` flag in container configurations". Kubernetes Pod
    /// Security Standards (baseline), checkov CKV_K8S_16, CIS Kubernetes Benchmark 5.2.1.
    pub struct PrivilegedContainer => "K8S002", "privileged-container", Kubernetes, Sometimes;
}

/// What the container's image needs instead of `privileged`.
enum Instead {
    /// These capabilities (not yet in its `add` list); the source.
    Grant(Vec<String>, String),
    /// Only shown: why.
    Shown(String, Vec<String>),
    /// No fix: why.
    Report(String),
}

fn added(c: &Container) -> Vec<String> {
    match c.sc(&["capabilities", "add"]) {
        Some(Node::Sequence(s)) => s
            .items()
            .iter()
            .filter_map(|i| i.value().resolve())
            .filter_map(|v| v.as_str().map(normalize_cap))
            .collect(),
        _ => Vec::new(),
    }
}

fn instead(c: &Container, ctx: &Context<'_>) -> Instead {
    let needs = c.needs(ctx);
    let source = needs.because();
    let Some(f) = needs.facts.as_ref() else {
        return Instead::Shown(
            format!(
                "what it needs instead is not known: {}",
                needs
                    .unknown
                    .clone()
                    .unwrap_or_else(|| "its image is not known".into())
            ),
            Vec::new(),
        );
    };
    let have = added(c);
    match &f.privileged_needs {
        Some(p) => {
            let caps: Vec<String> = p
                .cap_add
                .iter()
                .map(|x| normalize_cap(x))
                .filter(|x| !have.contains(x))
                .collect();
            if p.devices.is_empty() {
                Instead::Grant(caps, source)
            } else {
                Instead::Shown(
                    format!(
                        "`{}` also needs the host devices {}{source}, which a pod gets only through `privileged` or a device plugin",
                        needs.subject,
                        p.devices.join(", ")
                    ),
                    caps,
                )
            }
        }
        None => match &f.needs_root {
            Some(why) => Instead::Report(format!(
                "`{}` needs root on the node: {why}{source}, and what it would need instead of `privileged` is not known",
                needs.subject
            )),
            None => Instead::Shown(
                format!(
                    "what `{}` needs instead is not known{source}; name it with `privileged-needs` in an `[[images]]` entry of .dockharden.toml",
                    needs.subject
                ),
                Vec::new(),
            ),
        },
    }
}

impl Check for PrivilegedContainer {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            for c in pod.containers().iter() {
                let Some(sc) = c.security_context() else {
                    continue;
                };
                let Some((entry, origin)) = sc.get_merged("privileged") else {
                    continue;
                };
                if entry.value().resolve().and_then(|n| as_bool(&n)) != Some(true) {
                    continue;
                }
                let mut message = format!(
                    "The {} runs privileged: all capabilities and host devices, no confinement",
                    c.label()
                );
                let (applicability, grant) = match instead(c, ctx) {
                    Instead::Report(why) => {
                        message.push_str(&format!("; {why}, so there is no fix"));
                        out.push(Finding::new(Self::CODE, Self::NAME, entry.range(), message));
                        continue;
                    }
                    Instead::Shown(why, caps) => {
                        message.push_str(&format!(" (display only: {why})"));
                        (Applicability::DisplayOnly, caps)
                    }
                    Instead::Grant(caps, source) => {
                        if !caps.is_empty() {
                            message.push_str(&format!(
                                "; it needs {} instead{source}",
                                caps.join(", ")
                            ));
                        }
                        (Applicability::Unsafe, caps)
                    }
                };
                let finding = Finding::new(Self::CODE, Self::NAME, entry.range(), message);
                let fix = container_refusal(c).and_then(|()| {
                    if origin != crate::yaml::Origin::Own
                        || !editable_node(&sc.as_node())
                        || !editable_node(&entry.value())
                    {
                        return Err(
                            "the security context is shared through a YAML anchor or alias".into(),
                        );
                    }
                    let mut patch = Patch::new();
                    patch.remove_entry(&entry, c.path(&["securityContext", "privileged"]))?;
                    if !grant.is_empty() {
                        let add_path = c.path(&["securityContext", "capabilities", "add"]);
                        match c.sc(&["capabilities", "add"]) {
                            Some(Node::Sequence(seq))
                                if !seq.is_empty() && editable_node(&seq.as_node()) =>
                            {
                                for cap in &grant {
                                    patch.append_item(
                                        &seq,
                                        &like_items(&seq, cap),
                                        add_path.clone(),
                                    )?;
                                }
                            }
                            Some(n)
                                if !n.is_null()
                                    && n.as_sequence().is_none_or(|s| !s.is_empty()) =>
                            {
                                return Err("`capabilities.add` cannot be extended".into());
                            }
                            _ => {
                                let list: Vec<String> =
                                    grant.iter().map(|c| format!("- {c}")).collect();
                                patch.set(
                                    &c.mapping,
                                    &c.path,
                                    &["securityContext", "capabilities"],
                                    &[("add", &list.join("\n"))],
                                )?;
                            }
                        }
                    }
                    let title = if grant.is_empty() {
                        "Remove `privileged: true`".to_owned()
                    } else {
                        format!("Remove `privileged: true`, add {}", grant.join(", "))
                    };
                    make_fix(applicability, title, patch)
                });
                out.push(attach(finding, fix));
            }
        }
        out
    }
}
