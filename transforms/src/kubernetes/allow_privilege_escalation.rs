use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::image;
use crate::kubernetes::model::{as_bool, yaml, Container};
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
    /// Unsafe, and broadly applicable: the flag only stops privilege *gain* at `execve`, so
    /// images that start as root and switch users themselves (`gosu`, `su-exec`, `setpriv`) keep
    /// working, and an image nobody knows still gets the fix (issue 9: the one fix that stays
    /// applicable without knowing the image). What breaks is a non-root process that relies on a
    /// setuid binary (`sudo`, `su`, `ping` in older images) or on file capabilities
    /// (`setcap cap_net_bind_service=+ep` to bind port 80 as non-root): the capability is never
    /// gained. Containers whose image the configuration's `[[images]]` or the knowledge base shows
    /// to rely on that are reported without a fix:
    /// - `no-new-privileges-breaks` (a container engine whose containers inherit the flag, Pi-hole's
    ///   setcap start-up), or an entrypoint that gains its privileges with `sudo` or `capsh`;
    /// - an image with `cap-add` whose entrypoint does not switch users (so the capabilities come
    ///   from its binaries' file capabilities) when the container runs as a non-root user: the
    ///   manifest sets one, the image's own `USER` is one (the ingress-nginx controller as
    ///   www-data binding 80 and 443), or the image has a `user-override` that K8S004 sets (Caddy
    ///   as 1000). Such a container binds ports below 1024 only with the capability in its
    ///   bounding set (K8S003 adds it back) and `allowPrivilegeEscalation` left on, or with the
    ///   runtime's unprivileged port range (`net.ipv4.ip_unprivileged_port_start`).
    ///
    /// No fix is offered either while the container is `privileged: true` or adds
    /// `CAP_SYS_ADMIN`: the API server rejects `allowPrivilegeEscalation: false` together with
    /// either (remove `privileged` first, see K8S002).
    ///
    /// ## Options
    /// `[[images]]` entries (`no-new-privileges-breaks`, `cap-add`, `switch-user`, `user`) describe
    /// images the knowledge base does not know.
    ///
    /// ## References
    /// Guideline: "Set `allowPrivilegeEscalation: false` in Kubernetes security contexts". Kubernetes
    /// Pod Security Standards (restricted), checkov CKV_K8S_20, CIS Kubernetes Benchmark 5.2.5.
    pub struct AllowPrivilegeEscalation => "K8S001", "allow-privilege-escalation", Kubernetes, Sometimes;
}

/// Why `allowPrivilegeEscalation: false` would stop the container's image from working, when the
/// configuration or the knowledge base shows it (see "Fix safety").
fn blocked(c: &Container, ctx: &Context<'_>) -> Option<String> {
    let needs = c.needs(ctx);
    let f = needs.facts.as_ref()?;
    let source = needs.because();
    if let Some(why) = &f.no_new_privileges_breaks {
        return Some(format!("{why}{source}"));
    }
    if let Some(helper @ ("sudo" | "capsh")) = f.switch_user.as_deref() {
        return Some(format!(
            "`{}` gains its privileges with `{helper}`{source}",
            needs.subject
        ));
    }
    let caps = image::file_capabilities(&needs)?;
    let how = if image::runs_non_root(c, &needs) {
        "as the non-root user it runs as"
    } else if image::override_ids(f).is_some() && f.needs_root.is_none() {
        "as the non-root user K8S004 sets (its `user-override`)"
    } else {
        return None;
    };
    Some(format!(
        "`{}` gets {} only from file capabilities of its binaries {how}{source}, and `allowPrivilegeEscalation: false` keeps a non-root process from gaining them (give it the runtime's unprivileged port range, or leave the flag on)",
        needs.subject,
        caps.join(", ")
    ))
}

impl Check for AllowPrivilegeEscalation {
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
                let mut message = format!(
                    "The {} {what}: its processes can gain privileges through setuid binaries and file capabilities",
                    c.label()
                );
                if let Some(why) = blocked(c, ctx) {
                    message.push_str(&format!(
                        "; but the flag would stop it from working: {why}, so there is no fix"
                    ));
                    out.push(Finding::new(Self::CODE, Self::NAME, range, message));
                    continue;
                }
                let finding = Finding::new(Self::CODE, Self::NAME, range, message);
                let fix = container_refusal(c).and_then(|()| {
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
