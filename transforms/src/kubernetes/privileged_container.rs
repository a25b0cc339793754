use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::model::{as_bool, editable_node, pods, yaml};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::{attach, container_refusal, make_fix};
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags containers whose `securityContext` sets `privileged: true` and removes the key.
    /// Ephemeral containers are reported only.
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
    /// Unsafe: a workload that really needs host access (CNI and storage plugins, device drivers,
    /// Docker-in-Docker) stops working. Grant such a workload the specific capabilities it needs
    /// (`capabilities.add`) instead. When `privileged` is the only key of the security context, the
    /// context becomes `{}`.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT use `--privileged` flag in container configurations". Kubernetes Pod
    /// Security Standards (baseline), checkov CKV_K8S_16, CIS Kubernetes Benchmark 5.2.1.
    pub struct PrivilegedContainer => "K8S002", "privileged-container", Kubernetes, Sometimes;
}

impl Check for PrivilegedContainer {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in pods(file) {
            for c in pod.containers() {
                let Some(sc) = c.security_context() else {
                    continue;
                };
                let Some((entry, origin)) = sc.get_merged("privileged") else {
                    continue;
                };
                if entry.value().resolve().and_then(|n| as_bool(&n)) != Some(true) {
                    continue;
                }
                let finding = Finding::new(
                    Self::CODE,
                    Self::NAME,
                    entry.range(),
                    format!(
                        "The {} runs privileged: all capabilities and host devices, no confinement",
                        c.label()
                    ),
                );
                let fix = container_refusal(&c).and_then(|()| {
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
                    make_fix(Applicability::Unsafe, "Remove `privileged: true`", patch)
                });
                out.push(attach(finding, fix));
            }
        }
        out
    }
}
