use crate::declare_transform;
use crate::finding::{Finding, Need};
use crate::fix::Applicability;
use crate::kubernetes::image;
use crate::kubernetes::model::{
    as_bool, as_int, get_mapping, path_within, yaml, Container, Mount, Pod, VolumeSource,
};
use crate::kubernetes::patch::{Patch, Refusal};
use crate::kubernetes::volumes::{add_env, add_volumes, mount_empty_dirs, Names};
use crate::kubernetes::{attach, container_refusal, make_fix, pod_refusal};
use crate::needs::Needs;
use crate::registry::{Check, Context};
use crate::text::TextRange;
use crate::yaml::{Mapping, Node};

declare_transform! {
    /// ## What it does
    /// Flags pods whose containers may run as root: the effective `runAsUser` (container, else pod
    /// security context) is `0`, or there is none and `runAsNonRoot` is not `true`. The fix sets
    /// `runAsNonRoot: true` with a numeric `runAsUser` and `runAsGroup` (at the pod level when no
    /// container sets its own and all need the same user, else in each container), taken from what
    /// is known about the image (the configuration's `[[images]]`, then the built-in knowledge base,
    /// whose entries cite the upstream Dockerfile or entrypoint line of every fact), never guessed:
    /// - an image that already runs as a non-root user gets that user's ids (TorchServe 1000:1000,
    ///   Jupyter 1000:100, distroless 65532:65532): the manifest only says what happens anyway;
    /// - an image whose entrypoint starts as root and switches to its own user with gosu, su-exec,
    ///   setpriv (postgres, redis, mongo, ...) keeps that user (999), started as it;
    /// - an image that runs as root gets its `user-override` (the user it is known to work as),
    ///   and with it what the new uid needs: when that uid is not known to have a passwd entry in
    ///   the image, `HOME` is set to an `emptyDir` mounted at `/home/nonroot` (a uid without one
    ///   gets `HOME=/`, where `~/.cache`, `~/.config` and `~/.local` cannot be created), and when the
    ///   pod mounts writable claims (`persistentVolumeClaim`, `ephemeral`, `volumeClaimTemplates`,
    ///   `csi`), the pod gets `fsGroup` with `fsGroupChangePolicy: OnRootMismatch` so that the new
    ///   uid can write what root wrote there.
    ///
    /// Images that need root (`needs-root`: node agents such as calico-node, the NVIDIA device
    /// plugin) are reported without a fix. Windows pods and images are skipped.
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
    ///         - name: web
    ///           image: caddy:2.8.4
    ///           volumeMounts:
    ///             - name: data
    ///               mountPath: /data
    ///       volumes:
    ///         - name: data
    ///           persistentVolumeClaim:
    ///             claimName: caddy-data
    /// ```
    /// becomes
    /// ```yaml
    /// spec:
    ///   template:
    ///     spec:
    ///       containers:
    ///         - name: web
    ///           image: caddy:2.8.4
    ///           volumeMounts:
    ///             - name: data
    ///               mountPath: /data
    ///             - name: home
    ///               mountPath: /home/nonroot
    ///           env:
    ///             - name: HOME
    ///               value: /home/nonroot
    ///       volumes:
    ///         - name: data
    ///           persistentVolumeClaim:
    ///             claimName: caddy-data
    ///         - name: home
    ///           emptyDir: {}
    ///       securityContext:
    ///         runAsNonRoot: true
    ///         runAsUser: 1000
    ///         runAsGroup: 1000
    ///         fsGroup: 1000
    ///         fsGroupChangePolicy: OnRootMismatch
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when the user is known. Otherwise the fix is display-only (a
    /// suggestion with the `uid`/`gid` options) and `fix --interactive` asks which user the image
    /// works as, saving the answer as `user-override` in an `[[images]]` entry of
    /// `.dockharden.toml`:
    /// - an image that is not known, or known without the user it works as (vLLM, nginx), or that
    ///   runs whatever command it is given (python, node);
    /// - an image that switches to its own user when a volume is mounted over its data directory:
    ///   its entrypoint, started as root, gave that directory to its user (`chown`); started as the
    ///   user it cannot, so the volume's files must belong to that uid first (`fsGroup` gives
    ///   group access only, and PostgreSQL insists on owning its data directory). The same when
    ///   the image's data directories are not known and it mounts writable volumes;
    /// - a uid change with a writable `hostPath`, `nfs` or other volume whose ownership `fsGroup`
    ///   does not change: make it writable by the uid first;
    /// - an image whose binaries get their capabilities from file capabilities (`setcap`, e.g.
    ///   Caddy binding :80 as non-root) in a container that sets `allowPrivilegeEscalation: false`,
    ///   which keeps a non-root process from gaining them.
    ///
    /// Even when applied: files the image keeps under root-only paths are no longer writable (the
    /// knowledge base entry's `user-override` says upstream documents or runs that user), a claim
    /// whose storage driver ignores `fsGroup` (some NFS and CSI drivers) keeps its ownership, and
    /// `fsGroupChangePolicy: OnRootMismatch` changes the group of every file of a volume whose root
    /// does not match yet (once; a large volume takes time on that first start). `runAsUser` is
    /// numeric because `runAsNonRoot: true` alone fails at start-up for images whose `USER` is a
    /// name. A `HOME` already set in the container's `env` is kept.
    ///
    /// ## Options
    /// `uid`, `gid` (default 10001): the user and group shown in the suggestion for images whose
    /// user is not known. `[[images]]` entries (`user-override`, `runs-as`, `switch-user`,
    /// `state`, `needs-root`) describe images the knowledge base does not know.
    ///
    /// ## References
    /// Guideline: "Never run containers as root; use ... Kubernetes `securityContext.runAsUser`".
    /// Kubernetes Pod Security Standards (restricted), checkov CKV_K8S_23 and CKV_K8S_40, CIS
    /// Kubernetes Benchmark 5.2.6.
    pub struct RunsAsRoot => "K8S004", "runs-as-root", Kubernetes, Sometimes;
}

/// Where a writable `HOME` is mounted when the uid set has no passwd entry in the image.
const HOME: &str = "/home/nonroot";

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

/// What one container needs to run as a non-root user.
#[derive(Clone)]
struct Want {
    /// The uid and gid to write; None: nothing can be changed (the image needs root).
    ids: Option<(u32, u32)>,
    applicability: Applicability,
    /// Why, for the message.
    why: String,
    ask: Option<Need>,
    /// Give the process a writable `HOME` (an `emptyDir`): the uid has no passwd entry in the
    /// image, so it would get `HOME=/`.
    home: bool,
    /// The pod needs `fsGroup` so that the new uid can write its volumes.
    fs_group: bool,
}

impl Want {
    fn report(why: String) -> Self {
        Self {
            ids: None,
            applicability: Applicability::DisplayOnly,
            why,
            ask: None,
            home: false,
            fs_group: false,
        }
    }

    fn shown(ids: (u32, u32), why: String, ask: Option<Need>) -> Self {
        Self {
            ids: Some(ids),
            applicability: Applicability::DisplayOnly,
            why,
            ask,
            home: false,
            fs_group: false,
        }
    }
}

fn question(c: &Container, needs: &Needs) -> Option<Need> {
    c.image_question(
        needs,
        "images.user-override",
        format!(
            "A non-root user `{}` works as (uid:gid; its files and volumes must be accessible to it)",
            needs.subject
        ),
    )
}

fn quoted_paths(paths: &[String]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `c` needs, from what is known about its image.
fn decide(c: &Container, ctx: &Context<'_>) -> Want {
    let needs = c.needs(ctx);
    let fallback = (ctx.settings.uid, ctx.settings.gid);
    let subject = needs.subject.clone();
    let source = needs.because();
    let Some(f) = needs.facts.clone() else {
        let why = needs
            .unknown
            .clone()
            .unwrap_or_else(|| format!("`{subject}` is not known"));
        return Want::shown(
            fallback,
            format!("{why}, so which non-root user it works as is not known (a uid without a passwd entry in the image gets HOME=/, which it cannot write)"),
            question(c, &needs),
        );
    };
    if let Some(why) = &f.needs_root {
        return Want::report(format!("`{subject}` needs root: {why}{source}"));
    }
    let own_user = image::default_non_root(&f);
    if image::runtime(&f) && !own_user {
        return Want::shown(
            image::override_ids(&f).unwrap_or(fallback),
            format!("`{subject}` runs whatever command it is given, so which user the application works as is not known"),
            question(c, &needs),
        );
    }
    let switching = image::switches(&f);
    let ids = image::override_ids(&f).or_else(|| {
        f.runs_as
            .as_ref()
            .filter(|r| r.uid != 0 && own_user)
            .map(|r| (r.uid, r.gid))
    });
    let Some((uid, gid)) = ids else {
        let suggested = f
            .runs_as
            .as_ref()
            .filter(|r| r.uid != 0)
            .map_or(fallback, |r| (r.uid, r.gid));
        let why = if own_user {
            format!(
                "the uid of its user `{}` is not known{source}",
                f.user.clone().unwrap_or_default()
            )
        } else {
            format!("which non-root user `{subject}` works as is not known{source}")
        };
        return Want::shown(suggested, why, question(c, &needs));
    };
    let runs_as = f.runs_as.as_ref().filter(|r| r.uid == uid);
    let mounts: Vec<(Mount, VolumeSource)> = c
        .mounts()
        .into_iter()
        .filter(|m| !m.read_only)
        .map(|m| {
            let source = c.pod.volume_source(&m.name);
            (m, source)
        })
        .filter(|(_, s)| !matches!(s, VolumeSource::Projected | VolumeSource::Missing))
        .collect();
    let mut want = Want {
        ids: Some((uid, gid)),
        applicability: Applicability::Unsafe,
        why: String::new(),
        ask: None,
        home: false,
        fs_group: false,
    };
    if own_user && runs_as.is_some() && image::manifest_uid(c).is_none() {
        // The image runs as that uid already: the manifest only says so.
        want.why = format!("`{subject}` runs as uid {uid} by default{source}");
        return want;
    }
    if switching && runs_as.is_some() {
        // Its entrypoint starts as root, gives its data to its own user and switches to it: it
        // keeps that uid, started as it. Data on a volume must already belong to it.
        let how = f.switch_user.clone().unwrap_or_default();
        want.why = format!(
            "`{subject}` starts as root and switches to its own user, uid {uid}, itself ({how}){source}; started as that uid it keeps it"
        );
        let state: Vec<String> = f
            .state
            .iter()
            .flatten()
            .chain(f.volumes.iter().flatten())
            .cloned()
            .collect();
        let at_state: Vec<String> = mounts
            .iter()
            .filter(|(m, _)| {
                state
                    .iter()
                    .any(|p| path_within(&m.path, p) || path_within(p, &m.path))
            })
            .map(|(m, _)| m.path.clone())
            .collect();
        if !at_state.is_empty() {
            want.applicability = Applicability::DisplayOnly;
            want.why.push_str(&format!(
                ", but its entrypoint can no longer give {} to uid {uid}: the files of that volume must belong to uid {uid} first (`fsGroup` gives group access only, and a database may insist on owning its data directory), then apply",
                quoted_paths(&at_state)
            ));
        } else if f.state.is_none() && !mounts.is_empty() {
            let paths: Vec<String> = mounts.iter().map(|(m, _)| m.path.clone()).collect();
            want.applicability = Applicability::DisplayOnly;
            want.why.push_str(&format!(
                ", but whether it keeps data in {} (given to uid {uid} by its entrypoint until now) is not known",
                quoted_paths(&paths)
            ));
        }
        return want;
    }
    // The process changes uid: from root (or the manifest's root) to `uid`.
    want.why = format!(
        "`{subject}` is known to work as {uid}:{gid}{source}",
        gid = gid
    );
    let defined = runs_as.is_some_and(|r| r.name.is_some() || own_user);
    let home_set = c.env().iter().any(|(k, _)| k == "HOME");
    if !defined && !home_set {
        want.home = true;
        want.why.push_str(&format!(
            "; uid {uid} is not known to have a passwd entry in the image (without one HOME is `/`, which it cannot write): HOME becomes an emptyDir at `{HOME}`"
        ));
    }
    let fixed: Vec<String> = mounts
        .iter()
        .filter_map(|(m, s)| match s {
            VolumeSource::Fixed(kind) => Some(format!("`{}` ({kind})", m.path)),
            _ => None,
        })
        .collect();
    let claims: Vec<String> = mounts
        .iter()
        .filter(|(_, s)| matches!(s, VolumeSource::Claim(_)))
        .map(|(m, _)| m.path.clone())
        .collect();
    if !claims.is_empty() && c.pod_sc(&["fsGroup"]).is_none() {
        want.fs_group = true;
        want.why.push_str(&format!(
            "; `fsGroup: {gid}` lets it write what root wrote in {}",
            quoted_paths(&claims)
        ));
    }
    if !fixed.is_empty() {
        want.applicability = Applicability::DisplayOnly;
        want.why.push_str(&format!(
            ", but `fsGroup` does not change the ownership of {}: make it writable by uid {uid} first, then apply",
            fixed.join(", ")
        ));
    }
    if let Some(caps) = image::file_capabilities(&needs) {
        let blocked = c
            .sc(&["allowPrivilegeEscalation"])
            .and_then(|n| as_bool(&n))
            == Some(false);
        if blocked {
            want.applicability = Applicability::DisplayOnly;
            want.why.push_str(&format!(
                ", but as non-root it gets {} only from file capabilities, which `allowPrivilegeEscalation: false` blocks",
                caps.join(", ")
            ));
        }
    }
    want
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
        match own("runAsGroup").map(|n| as_int(&n)) {
            Some(Some(0)) => out.push(("runAsGroup", gid.to_string())),
            Some(_) => {}
            None if inh("runAsGroup").is_none() => out.push(("runAsGroup", gid.to_string())),
            None => {}
        }
    }
    out
}

/// Add to `patch` the writable `HOME` the containers of `wants` need; returns what was added.
fn homes(patch: &mut Patch, wants: &[(&Container, &Want)]) -> Result<bool, Refusal> {
    let mut volume_items = Vec::new();
    let mut names: Option<Names> = None;
    let mut home_of: Option<&Container> = None;
    for (c, w) in wants {
        if !w.home {
            continue;
        }
        let names = names.get_or_insert_with(|| Names::of(c));
        let covered = c.mounts().iter().any(|m| path_within(HOME, &m.path));
        if !covered {
            mount_empty_dirs(
                patch,
                c,
                names,
                &[("home".to_owned(), HOME.to_owned())],
                &mut volume_items,
            )?;
        }
        add_env(patch, c, &[("HOME".to_owned(), HOME.to_owned())])?;
        home_of = Some(c);
    }
    if let Some(c) = home_of {
        add_volumes(patch, c, &volume_items)?;
    }
    Ok(home_of.is_some())
}

/// The pod-level `fsGroup` leaves the containers of `wants` need.
fn fs_group(pod: &Pod, wants: &[(&Container, &Want)], gid: u32) -> Vec<(&'static str, String)> {
    if !wants.iter().any(|(_, w)| w.fs_group) {
        return Vec::new();
    }
    let mut l = vec![("fsGroup", gid.to_string())];
    if pod
        .security_context()
        .and_then(|m| m.get("fsGroupChangePolicy"))
        .is_none()
    {
        l.push(("fsGroupChangePolicy", "OnRootMismatch".to_owned()));
    }
    l
}

fn fix_for(
    target: &Mapping,
    path: &crate::fix::SemanticPath,
    inherited: Option<&Mapping>,
    pod: &Pod,
    wants: &[(&Container, &Want)],
) -> Result<crate::fix::Fix, Refusal> {
    let Some((uid, gid)) = wants.first().and_then(|(_, w)| w.ids) else {
        return Err("nothing can be changed".into());
    };
    let sc = get_mapping(target, "securityContext");
    let l = leaves(sc.as_ref(), inherited, uid, gid);
    let fs = fs_group(pod, wants, gid);
    let pod_level = path == &pod.path;
    let mut patch = Patch::new();
    let mut own: Vec<(&str, &str)> = l.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if pod_level {
        own.extend(fs.iter().map(|(k, v)| (*k, v.as_str())));
    } else if !fs.is_empty() {
        pod_refusal(pod)?;
        let fl: Vec<(&str, &str)> = fs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        patch.set(&pod.spec, &pod.path, &["securityContext"], &fl)?;
    }
    if !own.is_empty() {
        patch.set(target, path, &["securityContext"], &own)?;
    }
    let mut notes = Vec::new();
    if homes(&mut patch, wants)? {
        notes.push("a writable HOME".to_owned());
    }
    if !fs.is_empty() {
        notes.push(format!("fsGroup {gid}"));
    }
    let mut title = format!(
        "Run as non-root ({})",
        l.iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !notes.is_empty() {
        title.push_str(&format!(" with {}", notes.join(" and ")));
    }
    let applicability = wants
        .iter()
        .map(|(_, w)| w.applicability)
        .min()
        .unwrap_or(Applicability::DisplayOnly);
    make_fix(applicability, title, patch)
}

/// "`a`: why; `b`: why" when several containers, else the one why.
fn whys(wants: &[(&Container, &Want)]) -> String {
    if wants.len() == 1 {
        return wants[0].1.why.clone();
    }
    wants
        .iter()
        .map(|(c, w)| format!("`{}`: {}", c.name.as_deref().unwrap_or("container"), w.why))
        .collect::<Vec<_>>()
        .join("; ")
}

fn with_ask(finding: Finding, wants: &[(&Container, &Want)]) -> Finding {
    let asks: Vec<&Need> = wants.iter().filter_map(|(_, w)| w.ask.as_ref()).collect();
    match asks.as_slice() {
        [one] => finding.with_need((*one).clone()),
        _ => finding,
    }
}

fn pod_finding(pod: &Pod, wants: &[(&Container, &Want)]) -> Finding {
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
        format!("{} {what}; {}", pod.label(), whys(wants)),
    );
    let fix = pod_refusal(pod).and_then(|()| fix_for(&pod.spec, &pod.path, None, pod, wants));
    with_ask(attach(finding, fix), wants)
}

fn container_finding(c: &Container, want: &Want) -> Finding {
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
        format!("The {} {what}; {}", c.label(), want.why),
    );
    if want.ids.is_none() {
        return finding;
    }
    let wants = [(c, want)];
    let fix = container_refusal(c).and_then(|()| {
        fix_for(
            &c.mapping,
            &c.path,
            c.pod.security_context().as_ref(),
            &c.pod,
            &wants,
        )
    });
    with_ask(attach(finding, fix), &wants)
}

impl Check for RunsAsRoot {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            if pod.is_windows() {
                continue;
            }
            let containers = pod.containers();
            let all: Vec<&Container> = containers.iter().filter(|c| !c.is_windows()).collect();
            if all.iter().all(|c| is_ok(c)) {
                continue;
            }
            let wanted: Vec<(&Container, Want)> = all
                .iter()
                .filter(|c| !is_ok(c))
                .map(|&c| (c, decide(c, ctx)))
                .collect();
            let first_ids = wanted.first().and_then(|(_, w)| w.ids);
            let together = !all.iter().any(|c| sets_own(c))
                && first_ids.is_some()
                && wanted.iter().all(|(_, w)| w.ids == first_ids);
            if together {
                let refs: Vec<(&Container, &Want)> = wanted.iter().map(|(c, w)| (*c, w)).collect();
                out.push(pod_finding(pod, &refs));
            } else {
                for (c, w) in &wanted {
                    out.push(container_finding(c, w));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::Engine;
    use crate::fix::Applicability;
    use crate::session::{Answer, RuleChoices, Session};
    use crate::source::FileKind;

    const VLLM: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: llm
spec:
  template:
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.6.3
";

    /// An unknown user is asked for, saved as an `[[images]]` fact, and then the fix (with a
    /// writable HOME, since the uid is not the image's own) applies.
    #[test]
    fn the_answer_to_the_question_makes_the_fix_applicable() {
        let engine = Engine {
            transforms: vec![crate::registry::find("K8S004").unwrap()],
            ..Engine::with_defaults()
        };
        let mut s =
            Session::new(&engine, FileKind::Kubernetes, VLLM, Applicability::Unsafe).unwrap();
        let mut c = RuleChoices::default();
        let q = s.next_question(&c).unwrap().unwrap();
        let need = q.need.clone().unwrap();
        assert_eq!(need.option, "images.user-override");
        assert_eq!(need.key.as_deref(), Some("vllm/vllm-openai"));
        assert!(s.provide("0").is_err(), "root is not an answer");
        s.provide("1000:1000").unwrap();
        let q = s.next_question(&c).unwrap().unwrap();
        assert!(q.need.is_none());
        assert!(q.after.contains("runAsUser: 1000"), "{}", q.after);
        assert!(q.after.contains("value: /home/nonroot"), "{}", q.after);
        s.answer(Answer::Yes, &mut c).unwrap();
        assert!(s.next_question(&c).unwrap().is_none());
        let f = crate::images::lookup(
            &s.settings().images,
            &crate::knowledge::ImageName::parse("vllm/vllm-openai:v0.6.3"),
        )
        .unwrap()
        .facts;
        assert_eq!(f.user_override.as_deref(), Some("1000:1000"));
    }
}
