use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::kubernetes::model::{editable_node, get_mapping, yaml, Container, Pod};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::{attach, container_refusal, make_fix, pod_refusal};
use crate::paths::{child, node_path};
use crate::registry::{Check, Context};
use crate::yaml::{Mapping, Node};

declare_transform! {
    /// ## What it does
    /// Flags pods that run containers without a seccomp profile (no `seccompProfile` at the pod
    /// level while a container has none of its own) and adds `seccompProfile: {type: RuntimeDefault}`
    /// to the pod's security context. Also flags profiles that switch confinement off and sets them
    /// to the runtime's default: `seccompProfile.type: Unconfined` and `appArmorProfile.type:
    /// Unconfined` (pod or container), and the annotations
    /// `container.apparmor.security.beta.kubernetes.io/<container>: unconfined` and
    /// `[container.]seccomp.security.alpha.kubernetes.io/...: unconfined`. Windows pods and images
    /// are skipped.
    ///
    /// ## Why is this bad?
    /// Without a seccomp profile a container may use every system call, including the rarely needed ones (`keyctl`, `unshare`, `bpf`, `ptrace`, ...) behind most container escapes; Kubernetes, unlike Docker, does not apply the runtime's default profile unless told to.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: web
    ///       image: example/web:1.0
    /// ```
    /// becomes
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: web
    ///       image: example/web:1.0
    ///   securityContext:
    ///     seccompProfile:
    ///       type: RuntimeDefault
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe. `RuntimeDefault` is the profile Docker applies to every `docker run`, and almost every
    /// workload runs under it unchanged; but it blocks some system calls that a few programs need
    /// (namespace tools such as `unshare` or rootless builders, `ptrace`-based debuggers and
    /// profilers, some `io_uring` and `perf` users), so a working container can break. Containers
    /// that set their own profile keep it (a container-level profile overrides the pod's). The
    /// `Unconfined` → `RuntimeDefault` changes re-enable confinement that someone switched off on
    /// purpose, and are Unsafe for the same reason.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Enable default security profiles (seccomp, AppArmor, SELinux); do not disable
    /// them". Kubernetes Pod Security Standards (baseline forbids `Unconfined`, restricted requires a
    /// profile), checkov CKV_K8S_31, CIS Kubernetes Benchmark 5.7.2.
    pub struct SeccompProfile => "K8S006", "seccomp-profile", Kubernetes, Sometimes;
}

const APPARMOR_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
const SECCOMP_POD: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// `type: Unconfined` below `key` of a security context: the `type` scalar's entry.
fn unconfined(sc: Option<&Mapping>, key: &str) -> Option<crate::yaml::Entry> {
    let profile = get_mapping(sc?, key)?;
    let entry = profile.get("type")?;
    let v = entry.value().resolve()?;
    (v.as_str()? == "Unconfined").then_some(entry)
}

fn replace_type(entry: &crate::yaml::Entry, what: &str, code_label: String) -> Finding {
    let finding = Finding::new(
        SeccompProfile::CODE,
        SeccompProfile::NAME,
        entry.range(),
        format!("{code_label} sets an `Unconfined` {what} profile: confinement is switched off"),
    );
    let fix = (|| {
        let v = entry.value();
        if !editable_node(&v) || !editable_node(&entry.mapping().as_node()) {
            return Err("the profile is shared through a YAML anchor or alias".to_owned());
        }
        let path = child(&node_path(&entry.mapping().as_node()), &["type"]);
        let Node::Scalar(scalar) = v else {
            return Err("the profile type is not a scalar".to_owned());
        };
        let mut patch = Patch::new();
        patch.replace_scalar(&scalar, "RuntimeDefault", path);
        make_fix(
            Applicability::Unsafe,
            format!("Use the runtime's default {what} profile (`RuntimeDefault`)"),
            patch,
        )
    })();
    attach(finding, fix)
}

fn pod_missing(pod: &Pod, containers: &[Container]) -> Option<Finding> {
    let sc = pod.security_context();
    if sc
        .as_ref()
        .is_some_and(|m| m.get_merged("seccompProfile").is_some())
    {
        return None;
    }
    let bare: Vec<&Container> = containers
        .iter()
        .filter(|c| c.sc(&["seccompProfile"]).is_none())
        .collect();
    if bare.is_empty() {
        return None;
    }
    let names: Vec<String> = bare
        .iter()
        .map(|c| {
            c.name
                .as_deref()
                .map_or_else(|| "?".to_owned(), |n| format!("`{n}`"))
        })
        .collect();
    let finding = Finding::new(
        SeccompProfile::CODE,
        SeccompProfile::NAME,
        pod.range(),
        format!(
            "{} runs {} {} without a seccomp profile: every system call is allowed",
            pod.label(),
            if names.len() == 1 {
                "container"
            } else {
                "containers"
            },
            names.join(", ")
        ),
    );
    let fix = pod_refusal(pod).and_then(|()| {
        let mut patch = Patch::new();
        patch.set(
            &pod.spec,
            &pod.path,
            &["securityContext", "seccompProfile"],
            &[("type", "RuntimeDefault")],
        )?;
        make_fix(
            Applicability::Unsafe,
            "Set the pod's `seccompProfile` to `RuntimeDefault`",
            patch,
        )
    });
    Some(attach(finding, fix))
}

fn annotations(pod: &Pod, containers: &[Container], out: &mut Vec<Finding>) {
    let Some(metadata) = pod.metadata() else {
        return;
    };
    let Some(annotations) = get_mapping(&metadata, "annotations") else {
        return;
    };
    for entry in annotations.entries() {
        let key = entry.key();
        let (what, new) = if key.starts_with(APPARMOR_PREFIX) {
            ("AppArmor", "runtime/default")
        } else if key == SECCOMP_POD || key.starts_with(SECCOMP_PREFIX) {
            ("seccomp", "runtime/default")
        } else {
            continue;
        };
        let Some(v) = entry.value().resolve() else {
            continue;
        };
        if v.as_str().map(str::trim) != Some("unconfined") {
            continue;
        }
        if key.starts_with(APPARMOR_PREFIX) || key.starts_with(SECCOMP_PREFIX) {
            let cname = key.rsplit('/').next().unwrap_or("");
            if let Some(c) = containers.iter().find(|c| c.name.as_deref() == Some(cname)) {
                if c.is_windows() {
                    continue;
                }
            }
        }
        let finding = Finding::new(
            SeccompProfile::CODE,
            SeccompProfile::NAME,
            entry.range(),
            format!(
                "{} switches {what} confinement off with the annotation `{key}: unconfined`",
                pod.label()
            ),
        );
        let fix = (|| {
            if !editable_node(&entry.value()) || !editable_node(&annotations.as_node()) {
                return Err("the annotations are shared through a YAML anchor or alias".to_owned());
            }
            let path = child(&node_path(&annotations.as_node()), &[key]);
            let Node::Scalar(scalar) = entry.value() else {
                return Err("the annotation is not a scalar".to_owned());
            };
            let mut patch = Patch::new();
            patch.replace_scalar(&scalar, new, path);
            make_fix(
                Applicability::Unsafe,
                format!("Use the runtime's default {what} profile (`{new}`)"),
                patch,
            )
        })();
        out.push(attach(finding, fix));
    }
}

impl Check for SeccompProfile {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            if pod.is_windows() {
                continue;
            }
            let containers: Vec<Container> = pod.containers().into_owned();
            let linux: Vec<Container> = containers
                .iter()
                .filter(|c| !c.is_windows())
                .cloned()
                .collect();
            if linux.is_empty() {
                continue;
            }
            let psc = pod.security_context();
            for key in ["seccompProfile", "appArmorProfile"] {
                if let Some(e) = unconfined(psc.as_ref(), key) {
                    let what = if key == "seccompProfile" {
                        "seccomp"
                    } else {
                        "AppArmor"
                    };
                    out.push(replace_type(&e, what, pod.label()));
                }
            }
            for c in &linux {
                let csc = c.security_context();
                for key in ["seccompProfile", "appArmorProfile"] {
                    if let Some(e) = unconfined(csc.as_ref(), key) {
                        let what = if key == "seccompProfile" {
                            "seccomp"
                        } else {
                            "AppArmor"
                        };
                        let mut f = replace_type(&e, what, format!("The {}", c.label()));
                        if let Err(reason) = container_refusal(c) {
                            if f.fix.take().is_some() {
                                f.message = format!("{} (no automatic fix: {reason})", f.message);
                            }
                        }
                        out.push(f);
                    }
                }
            }
            if let Some(f) = pod_missing(pod, &linux) {
                out.push(f);
            }
            annotations(pod, &containers, &mut out);
        }
        out
    }
}
