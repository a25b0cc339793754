use crate::declare_transform;
use crate::dockerfile::analysis::{
    cannot_insert_after, indent_of, insert_after, Analysis, Base, User,
};
use crate::dockerfile::syntax::{Dockerfile, Instruction};
use crate::dockerfile::{dockerfile, same_case};
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::knowledge::{self, Family};
use crate::needs::Start;
use crate::registry::{Check, Context};
use crate::settings::Settings;

declare_transform! {
    /// ## What it does
    /// Flags a Dockerfile whose final stage runs as root: no `USER` after its `FROM` (and none
    /// inherited from the stage it is built on), or a last `USER` that is `root`, `0`, `0:0`,
    /// `root:root` (or `ContainerAdministrator` on Windows). Adds a numeric `USER uid:gid`, creating
    /// the user with the base image's own tools when the base does not ship one.
    ///
    /// ## Why is this bad?
    /// A process running as root in a container is root on the host's kernel: one escape or
    /// writable mount away from owning the node.
    ///
    /// Only the final stage matters: builder stages run at build time and never ship, so they may
    /// run as root. A final stage built on an earlier stage (`FROM build`) inherits that stage's
    /// user, and a base image known to run as non-root (distroless `:nonroot` tags, Chainguard
    /// static, `nginxinc/nginx-unprivileged`, Bitnami, Elastic, Prometheus, Grafana, nanoserver, …)
    /// needs no `USER`.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM alpine:3.20
    /// RUN apk add --no-cache python3
    /// CMD ["python3", "-m", "http.server"]
    /// ```
    /// becomes
    /// ```dockerfile
    /// FROM alpine:3.20
    /// RUN apk add --no-cache python3
    /// RUN addgroup -S -g 10001 nonroot && adduser -S -D -H -u 10001 -G nonroot nonroot
    /// USER 10001:10001
    /// CMD ["python3", "-m", "http.server"]
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: the container's processes no longer run as root, so files and ports that only root
    /// could use become unavailable. The lines go right after the last `RUN`/`COPY`/`ADD`/`USER` of
    /// the final stage, so every build step still runs as root (`CMD`/`ENTRYPOINT` are run-time
    /// settings and get the new user wherever they are written); after a heredoc a blank line comes
    /// first. A trailing `USER root` is replaced when no user needs creating, else the creating
    /// `RUN` and the new `USER` follow it. Keyword case, indentation and line endings follow the
    /// file. The `USER` is always numeric (`uid:gid`), which Kubernetes' `runAsNonRoot` can verify,
    /// except on Windows, which has no numeric ids: there it is `USER ContainerUser`. The user
    /// comes from, in order:
    /// - a user the Dockerfile itself creates whose numeric uid and gid can be read (`useradd -u
    ///   1000 -g 1000 app`, `groupadd -g 1000 app && useradd -u 1000 -g app app`, BusyBox
    ///   `adduser -u 82 -G www-data www-data` with the base's own `www-data` group, ids through
    ///   `ARG`/`ENV` defaults): `USER 1000:1000`, nothing created;
    /// - a user the base ships (the knowledge base's `user-override`, cited from upstream): `node`
    ///   (1000:1000) in `node` images, `nonroot` (65532:65532) in distroless images, `app` (1654) in
    ///   .NET 8+ images, `ContainerUser` in Windows images;
    /// - `scratch`: only `USER uid:gid` (there is no tool to create a user, and none is needed);
    /// - Alpine/BusyBox: `RUN addgroup -S -g GID nonroot && adduser -S -D -H -u UID -G nonroot nonroot`;
    /// - Debian/Ubuntu: `RUN groupadd -r -g GID nonroot && useradd --no-log-init -r -u UID -g nonroot
    ///   -s /usr/sbin/nologin -M nonroot` (`--no-log-init` avoids a large sparse lastlog file for
    ///   high uids; `useradd -r` with a uid above `SYS_UID_MAX` prints a harmless warning);
    /// - RHEL-likes that ship shadow-utils (UBI, Fedora, CentOS, Rocky, Alma, Oracle Linux): the same
    ///   with `-s /sbin/nologin`; minimal variants (`ubi9-minimal`, `microdnf`) and Amazon Linux lack
    ///   `useradd`, so shadow-utils is installed first with the package manager the stage uses or
    ///   the image's own (`microdnf install -y shadow-utils && microdnf clean all && …`).
    ///
    /// The family comes from the final stage's root image (resolving `FROM $BASE` through the `ARG`
    /// defaults before the first `FROM`, and `FROM stage` through earlier stages) or, for an unknown
    /// image, from what the stage runs (`apk` → Alpine, `apt-get` → Debian, `dnf`/`yum`/`microdnf` →
    /// RHEL, PowerShell → Windows).
    ///
    /// No guessing: the fix is applied only when what the image starts is known not to need root.
    /// It is only shown (display-only, with the lines to add) when:
    /// - what it starts needs root: it switches users itself (`gosu`, `su-exec`, `setpriv`, s6, …
    ///   in its own `ENTRYPOINT`/`CMD`, in an entrypoint script it copies from the build context,
    ///   which is read, or in its base image's entrypoint, per the knowledge base: postgres,
    ///   redis, linuxserver.io, …), it starts a server that switches its own workers (`nginx`,
    ///   `httpd`, `apache2-foreground`), or a program whose job needs root (`cron`, `sshd`,
    ///   `supervisord`, `iptables`, `dockerd`, a `chown` at start). An explicit `USER root` is then
    ///   kept and reported, never replaced;
    /// - it cannot be told: an entrypoint script that is not in the build context, a base image
    ///   whose entrypoint the knowledge base does not describe, an unresolvable `FROM $IMAGE`;
    /// - the base family is unknown: which tool creates a user is a guess;
    /// - the final stage has `ONBUILD RUN/COPY/ADD` triggers: they run as this user in every child
    ///   build;
    /// - the Dockerfile creates a user whose numeric uid/gid cannot be read (`useradd app`);
    /// - a RHEL-like image whose shadow-utils status and package manager are unknown.
    ///
    /// No fix at all when the file ends inside an unterminated heredoc.
    ///
    /// `USER $VAR` / `USER ${APP_UID}` cannot be judged statically and is not reported. `ONBUILD USER`
    /// is ignored (it applies to child builds).
    ///
    /// ## Options
    /// `uid` and `gid` (default 10001:10001): the ids of the created user (not used when the base
    /// ships a user or the Dockerfile creates one).
    ///
    /// ## References
    /// Guideline: "Always specify a non-root user in Dockerfiles using USER directive" and "Avoid
    /// USER root or missing USER directives". hadolint DL3002 (last USER should not be root),
    /// checkov CKV_DOCKER_3 and CKV_DOCKER_8, trivy AVD-DS-0002, CIS Docker Benchmark 4.1.
    pub struct RunsAsRoot => "DF002", "runs-as-root", Dockerfile, Sometimes;
}

/// The name of the user the fix creates.
const USER_NAME: &str = "nonroot";

/// How the final stage gets its non-root user.
enum Plan {
    /// Write `USER value` (nothing to create).
    Use { value: String, why: String },
    /// Run `command` as root, then `USER uid:gid`.
    Create { command: String, value: String },
}

impl Plan {
    fn value(&self) -> &str {
        match self {
            Self::Use { value, .. } | Self::Create { value, .. } => value,
        }
    }
}

fn numeric(uid: u32, gid: u32) -> String {
    format!("{uid}:{gid}")
}

fn create_command(family: Family, s: &Settings, install: Option<&str>) -> String {
    let (uid, gid, n) = (s.uid, s.gid, USER_NAME);
    match family {
        Family::Alpine => {
            format!("addgroup -S -g {gid} {n} && adduser -S -D -H -u {uid} -G {n} {n}")
        }
        _ => {
            let shell = if family == Family::Rhel {
                "/sbin/nologin"
            } else {
                "/usr/sbin/nologin"
            };
            let prefix = install.map_or(String::new(), |pm| {
                format!("{pm} install -y shadow-utils && {pm} clean all && ")
            });
            format!(
                "{prefix}groupadd -r -g {gid} {n} && useradd --no-log-init -r -u {uid} -g {n} -s {shell} -M {n}"
            )
        }
    }
}

/// Decide how to give the final stage a non-root user. Err(reason, lines to show).
fn plan(
    a: &Analysis<'_>,
    stage: usize,
    s: &Settings,
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, (String, Plan)> {
    let root_image = match a.root_base(stage) {
        Base::Image(i) => Some(i),
        _ => None,
    };
    let family = a.family(stage);
    let fallback = || Plan::Use {
        value: if family == Family::Windows {
            "ContainerUser".to_owned()
        } else {
            numeric(s.uid, s.gid)
        },
        why: String::new(),
    };
    if s.uid == 0 {
        return Err(("the `uid` option is 0 (root)".into(), fallback()));
    }
    if a.body(stage).any(|(_, i)| {
        i.onbuild
            .as_ref()
            .is_some_and(|o| matches!(o.keyword.as_str(), "RUN" | "COPY" | "ADD"))
    }) {
        return Err((
            "the stage has ONBUILD triggers, which would run as this user in every child build"
                .into(),
            fallback(),
        ));
    }
    match crate::needs::start_of(s, a, stage, read) {
        Start::NoRoot => {}
        Start::NeedsRoot(reason) => return Err((reason, fallback())),
        Start::Unknown(reason) => {
            return Err((
                format!("{reason}, so whether it can run as another user is not known"),
                fallback(),
            ))
        }
    }
    if family == Family::Windows {
        return Ok(Plan::Use {
            value: "ContainerUser".into(),
            why: "the non-administrator user of Windows images".into(),
        });
    }
    if let Some(u) = a.created_users(stage).pop() {
        return match (u.uid, u.gid) {
            (Some(uid), Some(gid)) if uid != 0 => Ok(Plan::Use {
                value: numeric(uid, gid),
                why: format!("the user `{}` the Dockerfile creates", u.name),
            }),
            _ => Err((
                format!(
                    "the Dockerfile creates the user `{}` but its numeric uid:gid cannot be read from it: write `USER <uid>:<gid>` for that user",
                    u.name
                ),
                Plan::Use {
                    value: "<uid>:<gid>".into(),
                    why: String::new(),
                },
            )),
        };
    }
    if let Some((value, source)) = root_image.and_then(|image| {
        let n = crate::needs::of_image(s, image);
        let f = n.facts.as_ref()?;
        let over = f.user_override.as_deref()?;
        let (user, group) = over.split_once(':').unwrap_or((over, ""));
        let uid = user.parse::<u32>().ok().or_else(|| {
            f.runs_as
                .as_ref()
                .filter(|r| r.name.as_deref() == Some(user))
                .map(|r| r.uid)
        })?;
        let gid = group.parse::<u32>().ok().unwrap_or(uid);
        (uid != 0).then(|| (numeric(uid, gid), n.source.clone()))
    }) {
        return Ok(Plan::Use {
            value,
            why: format!("the user the base image ships: {source}"),
        });
    }
    match family {
        Family::Distroless => Ok(Plan::Use {
            value: numeric(65532, 65532),
            why: "the `nonroot` user distroless images ship".into(),
        }),
        Family::Scratch => Ok(Plan::Use {
            value: numeric(s.uid, s.gid),
            why: "`scratch` has no user database; a numeric id needs none".into(),
        }),
        Family::Alpine | Family::Debian => Ok(Plan::Create {
            command: create_command(family, s, None),
            value: numeric(s.uid, s.gid),
        }),
        Family::Rhel => {
            let has_useradd = root_image.is_some_and(knowledge::rhel_ships_useradd)
                || a.installs(stage, "shadow-utils");
            let manager = || {
                a.run_programs(stage)
                    .into_iter()
                    .find_map(|p| match p.as_str() {
                        "microdnf" => Some("microdnf"),
                        "dnf" => Some("dnf"),
                        "yum" => Some("yum"),
                        _ => None,
                    })
                    .or_else(|| root_image.and_then(knowledge::rhel_package_manager))
            };
            if has_useradd {
                Ok(Plan::Create {
                    command: create_command(family, s, None),
                    value: numeric(s.uid, s.gid),
                })
            } else if let Some(pm) = manager() {
                Ok(Plan::Create {
                    command: create_command(family, s, Some(pm)),
                    value: numeric(s.uid, s.gid),
                })
            } else {
                Err((
                    "this RHEL-like image may lack `useradd` (shadow-utils) and no package manager is known to install it".into(),
                    Plan::Create {
                        command: create_command(family, s, None),
                        value: numeric(s.uid, s.gid),
                    },
                ))
            }
        }
        Family::Windows | Family::Unknown => Err((
            "the base image's family is unknown, so which tool creates a user is a guess; a numeric USER needs no user database, but check that the image runs without one".into(),
            fallback(),
        )),
    }
}

/// The edits that give the final stage `plan`'s user, and whether they replace a trailing
/// `USER root`. Err with the reason when the lines cannot go after the instruction they would follow
/// (see [`cannot_insert_after`]).
fn edits(
    text: &str,
    df: &Dockerfile,
    a: &Analysis<'_>,
    stage: usize,
    plan: &Plan,
) -> Result<(Vec<Edit>, bool), &'static str> {
    let from = &df.instructions[a.stages[stage].from];
    let like = from.keyword_range.slice(text);
    let (anchor_index, anchor) = a
        .body(stage)
        .filter(|(_, i)| matches!(i.keyword.as_str(), "RUN" | "COPY" | "ADD" | "USER"))
        .last()
        .unwrap_or((a.stages[stage].from, from));
    let user_kw = same_case("USER", like);
    if anchor.keyword == "USER" && anchor_index != a.stages[stage].from {
        if let (Plan::Use { value, .. }, Some((_, range))) = (plan, anchor.user()) {
            return Ok((vec![Edit::replace(range, value.clone())], true));
        }
    }
    if let Some(why) = cannot_insert_after(text, anchor) {
        return Err(why);
    }
    let indent = indent_of(text, anchor);
    let mut lines: Vec<String> = Vec::new();
    if let Plan::Create { command, .. } = plan {
        lines.push(format!("{indent}{} {command}", same_case("RUN", like)));
    }
    lines.push(format!("{indent}{user_kw} {}", plan.value()));
    Ok((insert_after(text, anchor, &lines), false))
}

fn describe(plan: &Plan, replaces: bool) -> String {
    let verb = if replaces { "Replace it with" } else { "Add" };
    match plan {
        Plan::Use { value, why } if why.is_empty() => format!("{verb} `USER {value}`"),
        Plan::Use { value, why } => format!("{verb} `USER {value}` ({why})"),
        Plan::Create { value, .. } => {
            format!(
                "Create the user `{USER_NAME}` with the image's own tools and add `USER {value}`"
            )
        }
    }
}

fn check(
    text: &str,
    df: &Dockerfile,
    s: &Settings,
    read: &dyn Fn(&str) -> Option<String>,
) -> Option<Finding> {
    let a = Analysis::new(df);
    let stage = a.final_stage()?;
    let User::Root(at) = a.user(stage) else {
        return None;
    };
    let from: &Instruction = &df.instructions[a.stages[stage].from];
    let (range, what) = match at {
        Some(i) => {
            let ins = &df.instructions[i];
            let value = ins.user().map(|(v, _)| v).unwrap_or_default();
            let in_final = a.stages[stage].instructions.contains(&i);
            (
                if in_final { ins.range } else { from.range },
                if in_final {
                    format!("its last USER is `{value}`")
                } else {
                    format!("it inherits `USER {value}` from the stage it is built on")
                },
            )
        }
        None => {
            let image = from.from_image().map(|i| i.text).unwrap_or_default();
            let default = if a.family(stage) == Family::Windows {
                "ContainerAdministrator"
            } else {
                "root"
            };
            (
                from.range,
                format!("no USER after `FROM {image}`, whose default user is {default}"),
            )
        }
    };
    let admin = if a.family(stage) == Family::Windows {
        "an administrator"
    } else {
        "root"
    };
    let finding = |msg: String| {
        Finding::new(
            RunsAsRoot::CODE,
            RunsAsRoot::NAME,
            range,
            format!("The final stage runs as {admin}: {what}{msg}"),
        )
    };
    let (plan, reason) = match plan(&a, stage, s, read) {
        Ok(p) => (p, None),
        Err((reason, shown)) => (shown, Some(reason)),
    };
    let (e, replaces) = match edits(text, df, &a, stage, &plan) {
        Ok(x) => x,
        Err(why) => return Some(finding(format!(" (not fixed: {why})"))),
    };
    Some(match reason {
        None => finding(String::new()).with_fix(Fix::unsafe_(describe(&plan, replaces), e)),
        Some(reason) => finding(format!(" (not fixed automatically: {reason})"))
            .with_fix(Fix::display_only(describe(&plan, replaces), e)),
    })
}

impl Check for RunsAsRoot {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(df) = dockerfile(ctx) else {
            return Vec::new();
        };
        let read = |p: &str| ctx.workspace.read(p);
        check(ctx.text, df, ctx.settings, &read)
            .into_iter()
            .collect()
    }
}
