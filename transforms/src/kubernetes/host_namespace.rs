use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::model::{as_bool, editable_node, pods, yaml};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::{attach, make_fix, pod_refusal};
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags pods that share a host namespace (`hostNetwork: true`, `hostPID: true`,
    /// `hostIPC: true`) and removes the key.
    ///
    /// ## Why is this bad?
    /// A pod in the host's network, PID or IPC namespace sees and reaches what the node does: services bound to localhost, every process (and its environment and memory, with the right capability), shared memory segments.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostNetwork: true
    ///   hostPID: true
    ///   containers:
    ///     - name: agent
    ///       image: example/agent:1.2
    /// ```
    /// becomes
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: agent
    ///       image: example/agent:1.2
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: node agents that really need the host's namespaces (CNI plugins, node exporters,
    /// log collectors, kube-proxy) stop working; with `hostNetwork` removed the pod gets its own IP
    /// and its `hostPort`s go through the CNI's port mapping. `false` values are left alone.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT share host network namespace (`--net=host`)". Kubernetes Pod Security
    /// Standards (baseline), checkov CKV_K8S_17, CKV_K8S_18, CKV_K8S_19, CIS Kubernetes Benchmark
    /// 5.2.2-5.2.4.
    pub struct HostNamespace => "K8S007", "host-namespace", Kubernetes, Sometimes;
}

const KEYS: &[(&str, &str)] = &[
    ("hostNetwork", "network"),
    ("hostPID", "PID"),
    ("hostIPC", "IPC"),
];

impl Check for HostNamespace {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in pods(file) {
            for (key, what) in KEYS {
                let Some((entry, origin)) = pod.spec.get_merged(key) else {
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
                        "{} shares the host's {what} namespace (`{key}: true`)",
                        pod.label()
                    ),
                );
                let fix = pod_refusal(&pod).and_then(|()| {
                    if origin != crate::yaml::Origin::Own || !editable_node(&entry.value()) {
                        return Err(format!("`{key}` is shared through a YAML anchor or alias"));
                    }
                    let mut patch = Patch::new();
                    patch.remove_entry(&entry, pod.path(&[key]))?;
                    make_fix(
                        Applicability::Unsafe,
                        format!("Remove `{key}: true`"),
                        patch,
                    )
                });
                out.push(attach(finding, fix));
            }
        }
        out
    }
}
