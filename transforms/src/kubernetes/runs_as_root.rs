use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::model::{as_bool, as_int, pods, yaml, Container, Pod};
use crate::kubernetes::patch::{Patch, Refusal};
use crate::kubernetes::{attach, container_refusal, make_fix, pod_refusal};
use crate::registry::{Check, Context};
use crate::text::TextRange;
use crate::yaml::{Mapping, Node};

declare_transform! {
    /// ## What it does
    /// Flags pods whose containers may run as root: the effective `runAsUser` (container, else pod
    /// security context) is `0`, or there is none and `runAsNonRoot` is not `true`. The fix sets
    /// `runAsNonRoot: true` with a numeric `runAsUser` and `runAsGroup`: at the pod level when no
    /// container sets its own, else in each container that needs it, writing only what the pod
    /// level does not already provide. Windows pods and images are skipped.
    ///
    /// ## Why is this bad?
    /// A process that runs as root in a container is root on the host's kernel: one kernel or runtime bug, a writable host mount or a missing capability drop away from owning the node.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   template:
    ///     spec:
    ///       containers:
    ///         - name: api
    ///           image: example/api:2.1
    /// ```
    /// becomes
    /// ```yaml
    /// spec:
    ///   template:
    ///     spec:
    ///       containers:
    ///         - name: api
    ///           image: example/api:2.1
    ///       securityContext:
    ///         runAsNonRoot: true
    ///         runAsUser: 10001
    ///         runAsGroup: 10001
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: an image that expects root (to bind ports below 1024, write to root-owned
    /// directories, or `chown` its data) fails to start or to write. `runAsUser` is numeric because
    /// `runAsNonRoot: true` alone fails at start-up for images whose `USER` is a name. The uid/gid
    /// are the image's own non-root user when dockharden's image table knows it (`nobody` for
    /// Prometheus, `nonroot` 65532 for distroless), else the `uid`/`gid` options. For images that
    /// start as root and drop privileges themselves (nginx, postgres, redis, ...) the fix is only
    /// shown: they need writable data directories (`fsGroup`) or their unprivileged variant first.
    ///
    /// ## Options
    /// `uid`, `gid` (default 10001): the user and group written.
    ///
    /// ## References
    /// Guideline: "Never run containers as root; use ... Kubernetes `securityContext.runAsUser`".
    /// Kubernetes Pod Security Standards (restricted), checkov CKV_K8S_23 and CKV_K8S_40, CIS
    /// Kubernetes Benchmark 5.2.6.
    pub struct RunsAsRoot => "K8S004", "runs-as-root", Kubernetes, Sometimes;
}

/// `Some(Some(n))` a numeric value, `Some(None)` something else, `None` absent.
fn int_of(n: Option<Node>) -> Option<Option<i64>> {
    n.map(|n| as_int(&n))
}

fn is_ok(c: &Container) -> bool {
    match int_of(c.effective("runAsUser")) {
        Some(Some(0)) => false,
        // A non-numeric value cannot be judged here (and the API rejects it).
        Some(_) => true,
        None => c.effective("runAsNonRoot").and_then(|n| as_bool(&n)) == Some(true),
    }
}

fn sets_own(c: &Container) -> bool {
    c.sc(&["runAsUser"]).is_some() || c.sc(&["runAsNonRoot"]).is_some()
}

/// The uid/gid to write for these containers: their images' non-root user when they all agree,
/// else the options.
fn ids(containers: &[&Container], ctx: &Context<'_>) -> (u32, u32) {
    let known: Vec<Option<(u32, u32)>> = containers
        .iter()
        .map(|c| {
            c.image()
                .as_ref()
                .and_then(crate::knowledge::image_info)
                .and_then(|i| i.user)
                .filter(|(_, uid, _)| *uid > 0)
                .map(|(_, uid, gid)| (uid, gid))
        })
        .collect();
    match known.first() {
        Some(Some(first)) if known.iter().all(|k| k.as_ref() == Some(first)) => *first,
        _ => (ctx.settings.uid, ctx.settings.gid),
    }
}

/// The images of these containers that start as root and drop privileges themselves.
fn droppers(containers: &[&Container]) -> Vec<String> {
    let mut out: Vec<String> = containers
        .iter()
        .filter_map(|c| {
            let image = c.image()?;
            crate::knowledge::image_info(&image)
                .filter(|i| i.drops_privileges)
                .map(|_| image.short())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The leaves to write into `sc` (a security context, pod or container level) so that it runs as
/// `uid`: replace `runAsUser: 0` / `runAsNonRoot: false`, add what is missing, unless `inherited`
/// (the pod level) already provides it.
fn leaves(
    sc: Option<&Mapping>,
    inherited: Option<&Mapping>,
    uid: u32,
    gid: u32,
) -> Vec<(&'static str, String)> {
    let own = |key: &str| sc.and_then(|m| crate::kubernetes::model::get_value(m, key));
    let inh = |key: &str| inherited.and_then(|m| crate::kubernetes::model::get_value(m, key));
    let mut out = Vec::new();
    let nonroot_ok = |n: Option<Node>| n.and_then(|n| as_bool(&n)) == Some(true);
    match own("runAsNonRoot") {
        Some(n) if as_bool(&n) != Some(true) => out.push(("runAsNonRoot", "true".to_owned())),
        None if !nonroot_ok(inh("runAsNonRoot")) => out.push(("runAsNonRoot", "true".to_owned())),
        _ => {}
    }
    let user_needed = match own("runAsUser").map(|n| as_int(&n)) {
        Some(Some(0)) => true,
        Some(_) => false,
        None => matches!(inh("runAsUser").map(|n| as_int(&n)), None | Some(Some(0))),
    };
    if user_needed {
        out.push(("runAsUser", uid.to_string()));
        if own("runAsGroup").is_none() && inh("runAsGroup").is_none() {
            out.push(("runAsGroup", gid.to_string()));
        }
    }
    out
}

fn fix_for(
    target: &Mapping,
    path: &crate::fix::SemanticPath,
    leaves: &[(&'static str, String)],
    droppers: &[String],
) -> Result<crate::fix::Fix, Refusal> {
    let mut patch = Patch::new();
    let l: Vec<(&str, &str)> = leaves.iter().map(|(k, v)| (*k, v.as_str())).collect();
    patch.set(target, path, &["securityContext"], &l)?;
    let title = format!(
        "Run as non-root ({})",
        leaves
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if droppers.is_empty() {
        make_fix(Applicability::Unsafe, title, patch)
    } else {
        make_fix(
            Applicability::DisplayOnly,
            format!(
                "{title}; {}: give it writable data directories (`fsGroup`) or use an unprivileged variant, then apply",
                if droppers.len() == 1 {
                    format!("`{}` starts as root and drops privileges itself", droppers[0])
                } else {
                    format!(
                        "{} start as root and drop privileges themselves",
                        droppers.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
                    )
                }
            ),
            patch,
        )
    }
}

fn pod_finding(pod: &Pod, containers: &[&Container], ctx: &Context<'_>) -> Finding {
    let sc = pod.security_context();
    let root_entry = sc
        .as_ref()
        .and_then(|m| m.get("runAsUser"))
        .filter(|e| e.value().resolve().and_then(|n| as_int(&n)) == Some(0));
    let (range, what): (TextRange, String) = match &root_entry {
        Some(e) => (e.range(), "sets `runAsUser: 0` (root) for all its containers".into()),
        None => (
            pod.range(),
            "lets its containers run as root: neither the pod nor its containers set `runAsNonRoot: true` or a non-zero `runAsUser`".into(),
        ),
    };
    let finding = Finding::new(
        RunsAsRoot::CODE,
        RunsAsRoot::NAME,
        range,
        format!("{} {what}", pod.label()),
    );
    let fix = pod_refusal(pod).and_then(|()| {
        let (uid, gid) = ids(containers, ctx);
        let l = leaves(sc.as_ref(), None, uid, gid);
        fix_for(&pod.spec, &pod.path, &l, &droppers(containers))
    });
    attach(finding, fix)
}

fn container_finding(c: &Container, ctx: &Context<'_>) -> Finding {
    let root_entry = c
        .security_context()
        .and_then(|m| m.get("runAsUser"))
        .filter(|e| e.value().resolve().and_then(|n| as_int(&n)) == Some(0));
    let inherited_root =
        int_of(c.pod_sc(&["runAsUser"])) == Some(Some(0)) && c.sc(&["runAsUser"]).is_none();
    let (range, what) = match &root_entry {
        Some(e) => (e.range(), "runs as root (`runAsUser: 0`)".to_owned()),
        None if inherited_root => (c.range(), "runs as root (the pod sets `runAsUser: 0`)".to_owned()),
        None => (
            c.range(),
            "may run as root: neither it nor its pod sets `runAsNonRoot: true` or a non-zero `runAsUser`".to_owned(),
        ),
    };
    let finding = Finding::new(
        RunsAsRoot::CODE,
        RunsAsRoot::NAME,
        range,
        format!("The {} {what}", c.label()),
    );
    let fix = container_refusal(c).and_then(|()| {
        let (uid, gid) = ids(&[c], ctx);
        let l = leaves(
            c.security_context().as_ref(),
            c.pod.security_context().as_ref(),
            uid,
            gid,
        );
        fix_for(&c.mapping, &c.path, &l, &droppers(&[c]))
    });
    attach(finding, fix)
}

impl Check for RunsAsRoot {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in pods(file) {
            if pod.is_windows() {
                continue;
            }
            let all: Vec<Container> = pod
                .containers()
                .into_iter()
                .filter(|c| !c.is_windows())
                .collect();
            if all.iter().all(is_ok) {
                continue;
            }
            if all.iter().any(sets_own) {
                for c in all.iter().filter(|c| !is_ok(c)) {
                    out.push(container_finding(c, ctx));
                }
            } else {
                let refs: Vec<&Container> = all.iter().collect();
                out.push(pod_finding(&pod, &refs, ctx));
            }
        }
        out
    }
}
