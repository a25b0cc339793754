use std::collections::BTreeMap;

use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::model::{as_bool, get_mapping, get_str, get_value, resources, yaml};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::{attach, make_fix, pod_refusal};
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Reports pods that do not set `automountServiceAccountToken`, so that Kubernetes mounts a
    /// service account token into every container, unless the pod's service account, defined in the
    /// same file, sets `automountServiceAccountToken` itself (`false`: no token; `true`: a
    /// deliberate choice). The fix adds
    /// `automountServiceAccountToken: false` to the pod spec; it is applied only when the
    /// `kubernetes.fix-automount` option is on.
    ///
    /// ## Why is this bad?
    /// A mounted token lets anyone who gets code execution in the container call the Kubernetes API with the pod's service account, the first step of most lateral movement in a cluster; most applications never use it.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: web
    ///       image: example/web:1.0
    /// ```
    /// becomes, with `[options.kubernetes] fix-automount = true`:
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: web
    ///       image: example/web:1.0
    ///   automountServiceAccountToken: false
    /// ```
    ///
    /// ## Fix safety
    /// Report-only by default (the fix is display-only): whether a pod talks to the Kubernetes API
    /// (operators, controllers, service meshes, anything using a client library or `kubectl`) cannot
    /// be seen in a manifest, and such a pod breaks without its token. With
    /// `[options.kubernetes] fix-automount = true`, Unsafe. A pod that sets the field, `true` included, is
    /// taken as a deliberate choice and not reported, as is a pod whose service account (in the
    /// same file) sets it.
    ///
    /// ## Options
    /// `[options.kubernetes] fix-automount` (default false): apply the fix.
    ///
    /// ## References
    /// Guideline: "Network and Runtime Security" and least privilege. checkov CKV_K8S_38, CIS
    /// Kubernetes Benchmark 5.1.6.
    pub struct AutomountServiceAccountToken => "K8S012", "automount-service-account-token", Kubernetes, Sometimes;
}

impl Check for AutomountServiceAccountToken {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        // ServiceAccounts of this file and their automount setting.
        let mut accounts: BTreeMap<String, bool> = BTreeMap::new();
        for r in resources(file) {
            if get_str(&r.mapping, "kind").as_deref() != Some("ServiceAccount") {
                continue;
            }
            let Some(name) = get_mapping(&r.mapping, "metadata").and_then(|m| get_str(&m, "name"))
            else {
                continue;
            };
            if let Some(b) =
                get_value(&r.mapping, "automountServiceAccountToken").and_then(|n| as_bool(&n))
            {
                accounts.insert(name, b);
            }
        }
        let mut out = Vec::new();
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            if pod
                .spec
                .get_merged("automountServiceAccountToken")
                .is_some()
            {
                continue;
            }
            let account = get_str(&pod.spec, "serviceAccountName")
                .filter(|s| !s.trim().is_empty())
                .or_else(|| get_str(&pod.spec, "serviceAccount").filter(|s| !s.trim().is_empty()))
                .unwrap_or_else(|| "default".to_owned());
            // The service account decides (false: no token; true: a deliberate choice).
            if accounts.contains_key(&account) {
                continue;
            }
            let finding = Finding::new(
                Self::CODE,
                Self::NAME,
                pod.range(),
                format!(
                    "{} gets a token of service account `{account}` mounted into every container; set `automountServiceAccountToken: false` unless it calls the Kubernetes API",
                    pod.label()
                ),
            );
            let fix = pod_refusal(pod).and_then(|()| {
                let mut patch = Patch::new();
                patch.set(&pod.spec, &pod.path, &[], &[("automountServiceAccountToken", "false")])?;
                if ctx.settings.kubernetes.fix_automount {
                    make_fix(Applicability::Unsafe, "Set `automountServiceAccountToken: false`", patch)
                } else {
                    make_fix(
                        Applicability::DisplayOnly,
                        "Set `automountServiceAccountToken: false` (enable `[options.kubernetes] fix-automount` to apply)",
                        patch,
                    )
                }
            });
            out.push(attach(finding, fix));
        }
        out
    }
}
