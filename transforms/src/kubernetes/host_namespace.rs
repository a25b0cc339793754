use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::model::{as_bool, editable_node, yaml};
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
    /// Display-only, as for compose (DC005, DC006): whoever shared the host's namespace had a
    /// reason that an image entry cannot answer (a monitoring or debugging setup, shared memory
    /// with a host program, a `hostPort` layout), so the removal is shown and applied only with
    /// `fix --interactive`. When the configuration's `[[images]]` or the knowledge base shows that a
    /// container's function needs the namespace (`host-network`: calico-node programs the host's
    /// routes; `host-pid`: node-exporter reads the host's processes), the key is reported without
    /// a fix. With `hostNetwork` removed the pod gets its own IP and its `hostPort`s go through
    /// the CNI's port mapping. `false` values are left alone.
    ///
    /// ## Options
    /// `[[images]]` entries (`host-network`, `host-pid`) describe images the knowledge base does
    /// not know.
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
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            for (key, what) in KEYS {
                let Some((entry, origin)) = pod.spec.get_merged(key) else {
                    continue;
                };
                if entry.value().resolve().and_then(|n| as_bool(&n)) != Some(true) {
                    continue;
                }
                let mut message = format!(
                    "{} shares the host's {what} namespace (`{key}: true`)",
                    pod.label()
                );
                // Whether a container's function needs it, and which images are not known.
                let mut needed = Vec::new();
                let mut unknown = Vec::new();
                for c in pod.containers().iter() {
                    let needs = c.needs(ctx);
                    let name = c.name.clone().unwrap_or_else(|| "container".into());
                    let Some(f) = &needs.facts else {
                        unknown.push(format!(
                            "`{name}`: {}",
                            needs
                                .unknown
                                .clone()
                                .unwrap_or_else(|| "its image is not known".into())
                        ));
                        continue;
                    };
                    let why = match *key {
                        "hostNetwork" => f.host_network.as_ref(),
                        "hostPID" => f.host_pid.as_ref(),
                        _ => None,
                    };
                    if let Some(why) = why {
                        needed.push(format!("`{name}`: {why}{}", needs.because()));
                    }
                }
                if !needed.is_empty() {
                    message.push_str(&format!(
                        "; its function needs it: {}, so it is not removed",
                        needed.join("; ")
                    ));
                    out.push(Finding::new(Self::CODE, Self::NAME, entry.range(), message));
                    continue;
                }
                if unknown.is_empty() {
                    message.push_str(&format!(
                        " (display only: its images do not need it as far as the knowledge base shows, but what this setup uses the host's {what} namespace for is not known)"
                    ));
                } else {
                    message.push_str(&format!(
                        " (display only: whether its function needs the host's {what} namespace is not known: {})",
                        unknown.join("; ")
                    ));
                }
                let finding = Finding::new(Self::CODE, Self::NAME, entry.range(), message);
                let fix = pod_refusal(pod).and_then(|()| {
                    if origin != crate::yaml::Origin::Own || !editable_node(&entry.value()) {
                        return Err(format!("`{key}` is shared through a YAML anchor or alias"));
                    }
                    let mut patch = Patch::new();
                    patch.remove_entry(&entry, pod.path(&[key]))?;
                    make_fix(
                        Applicability::DisplayOnly,
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
