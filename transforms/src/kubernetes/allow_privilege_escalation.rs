use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::model::{as_bool, pods, yaml};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::{attach, container_refusal, make_fix};
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags every container and init container whose `securityContext` does not set
    /// `allowPrivilegeEscalation: false` (absent, or `true`), and sets it. Ephemeral containers are
    /// reported only; Windows pods and images are skipped (the field does not exist there).
    ///
    /// ## Why is this bad?
    /// Without `allowPrivilegeEscalation: false` a process can gain more privileges than its parent through setuid binaries or file capabilities, which turns a compromised non-root process into root.
    ///
    /// The field sets the kernel's `no_new_privs` flag on the container's processes (Docker's
    /// `--security-opt=no-new-privileges`). Kubernetes allows escalation by default.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: nginx:1.27
    /// ```
    /// becomes
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: nginx:1.27
    ///     securityContext:
    ///       allowPrivilegeEscalation: false
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe. Checkov (CKV_K8S_20), kube-score and Polaris all demand the setting and most
    /// workloads never notice it, but it does change behaviour: setuid-root binaries (`sudo`, `su`,
    /// `ping` in older images, `newgrp`) and binaries with file capabilities (`setcap`) stop gaining
    /// privileges, so a container that starts as a non-root user and relies on them fails. Images
    /// that start as root and drop privileges themselves (`gosu`, `su-exec`, `setpriv`) are not
    /// affected: they only lose privileges. No fix is offered while the container is `privileged:
    /// true` or adds `CAP_SYS_ADMIN`: the API server rejects `allowPrivilegeEscalation: false`
    /// together with either (remove `privileged` first, see K8S002).
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Set `allowPrivilegeEscalation: false` in Kubernetes security contexts". Kubernetes
    /// Pod Security Standards (restricted), checkov CKV_K8S_20, CIS Kubernetes Benchmark 5.2.5.
    pub struct AllowPrivilegeEscalation => "K8S001", "allow-privilege-escalation", Kubernetes, Sometimes;
}

impl Check for AllowPrivilegeEscalation {
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
                let sc = c.security_context();
                let entry = sc
                    .as_ref()
                    .and_then(|m| m.get_merged("allowPrivilegeEscalation"));
                let value = entry
                    .as_ref()
                    .and_then(|(e, _)| e.value().resolve())
                    .and_then(|n| as_bool(&n));
                if value == Some(false) {
                    continue;
                }
                let (range, what) = match (&entry, value) {
                    (Some((e, _)), Some(true)) => {
                        (e.range(), "sets `allowPrivilegeEscalation: true`")
                    }
                    _ => (c.range(), "does not set `allowPrivilegeEscalation: false`"),
                };
                let finding = Finding::new(
                    Self::CODE,
                    Self::NAME,
                    range,
                    format!(
                        "The {} {what}: its processes can gain privileges through setuid binaries and file capabilities",
                        c.label()
                    ),
                );
                let fix = container_refusal(&c).and_then(|()| {
                    if c.sc(&["privileged"]).is_some_and(|n| as_bool(&n) == Some(true)) {
                        return Err("the API rejects it together with `privileged: true`; remove that first (K8S002)".into());
                    }
                    let sys_admin = c.sc(&["capabilities", "add"]).is_some_and(|n| {
                        n.as_sequence().is_some_and(|s| {
                            s.items().iter().any(|i| {
                                i.value().as_str().is_some_and(|v| {
                                    let v = v.trim().to_ascii_uppercase();
                                    v == "SYS_ADMIN" || v == "CAP_SYS_ADMIN"
                                })
                            })
                        })
                    });
                    if sys_admin {
                        return Err("the API rejects it together with the added capability `SYS_ADMIN`".into());
                    }
                    let mut patch = Patch::new();
                    patch.set(&c.mapping, &c.path, &["securityContext"], &[("allowPrivilegeEscalation", "false")])?;
                    make_fix(Applicability::Unsafe, "Set `allowPrivilegeEscalation: false`", patch)
                });
                out.push(attach(finding, fix));
            }
        }
        out
    }
}
