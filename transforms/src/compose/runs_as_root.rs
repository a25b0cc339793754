use std::collections::BTreeMap;

use crate::compose::hardening::is_windows;
use crate::compose::model::{affected_services, only_touches, who, yaml, Service};
use crate::compose::model::{parse_mount, path_within};
use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::{Applicability, Fix, SemanticPath};
use crate::images::Facts;
use crate::knowledge::{family_of, Family};
use crate::needs::Needs;
use crate::registry::{Check, Context};
use crate::settings::Settings;
use crate::text::TextRange;
use crate::yaml::{quoted, Entry, Node, QuoteStyle, Scalar, ScalarStyle, YamlFile};

declare_transform! {
    /// ## What it does
    /// Flags services that run as root:
    /// - `user: root`, `0`, `0:0`, `root:<group>` (or `ContainerAdministrator` on Windows);
    /// - no `user:` on an image known to run as root that does not drop privileges itself
    ///   (alpine, debian, ubuntu, python, node, golang, traefik, ...);
    /// - no `user:` on an image dockharden knows nothing about (display-only: it may already set
    ///   a non-root `USER`).
    ///
    /// Not flagged: services that `build:` their image (the Dockerfile's `USER` decides; see
    /// DF002), unless they force `user: root`; images that run as non-root already (distroless
    /// `:nonroot`, bitnami, grafana, prometheus, `*-rootless`, ...); images whose entrypoint starts
    /// as root to prepare its data directory and then drops privileges itself (postgres, mysql,
    /// mariadb, mongo, redis, rabbitmq, nginx, httpd, linuxserver.io, ...), unless `user: root` is
    /// explicit; services using `extends:` (the user may come from the extended service);
    /// interpolated users (`${UID}:${GID}`).
    ///
    /// ## Why is this bad?
    /// A process running as root in a container is root on the host as soon as it escapes (a kernel or runtime bug, a mounted socket, a writable host path), and can rewrite every file of its image.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   worker:
    ///     image: python:3.12-slim
    ///     command: ["python", "-m", "worker"]
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   worker:
    ///     image: python:3.12-slim
    ///     command: ["python", "-m", "worker"]
    ///     user: "10001:10001"
    /// ```
    ///
    /// ## Fix safety
    /// - Setting `user:` is Unsafe, and applied only with a user the image is known to work as (no
    ///   guessing: the knowledge base's `user-override`, cited from upstream, or an `[[images]]`
    ///   entry; Windows → `ContainerUser`), and not while the service mounts volumes where the
    ///   image kept data written as root (the data must be given to that user first). Images that
    ///   switch users themselves (gosu, su-exec, s6, a master process) and images that already run
    ///   as non-root are not flagged; images whose function needs root (Docker-in-Docker, a mail
    ///   server's supervisord) are reported without a fix. Runtime images that run whatever command
    ///   they are given (python, node, debian) and unknown images get a display-only `user:`
    ///   suggestion; `fix --interactive` asks which user works and can save the answer.
    /// - Removing `user: root` is Safe when the image's default user is root anyway and its
    ///   entrypoint drops privileges (postgres, redis, ...: nothing changes at run time), Unsafe when
    ///   the image runs as non-root by default or the service builds its image (its Dockerfile's
    ///   `USER` applies again).
    ///
    /// New values are always quoted (`"10001:10001"`: an unquoted `uid:gid` can be a base-60
    /// number to YAML 1.1 loaders). When `user:` comes from an anchor shared by several services,
    /// the anchor is edited only if every service inheriting it needs the same change; otherwise
    /// each service gets its own `user:` (which overrides the merged one), or a display-only
    /// suggestion when that is not possible.
    ///
    /// ## Options
    /// `uid`, `gid` (default 10001): the ids written for images that ship no non-root user.
    ///
    /// ## References
    /// Guideline: "Never run containers as root; use `docker run -u <user>`". CIS Docker
    /// Benchmark 4.1 (create a user for the container), compose-lint CL-0018 (explicit root
    /// user), OWASP Docker Security Cheat Sheet rule 2.
    pub struct RunsAsRoot => "DC012", "runs-as-root", Compose, Sometimes;
}

/// Whether a `user:` value names uid 0 / root (whatever the group), or Windows'
/// `ContainerAdministrator`.
fn is_root_user(value: &str) -> bool {
    let user = value.trim().split(':').next().unwrap_or("").trim();
    if user.eq_ignore_ascii_case("root") || user.eq_ignore_ascii_case("ContainerAdministrator") {
        return true;
    }
    let digits = user.strip_prefix(['+', '-']).unwrap_or(user);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b == b'0')
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    /// Write this `user:` value.
    Set(String),
    /// Remove the `user:` entry.
    Remove,
    /// Nothing can be changed (the image needs root): reported without a fix.
    Keep,
}

/// What one service needs.
struct Want {
    svc: Service,
    change: Change,
    applicability: Applicability,
    /// The explicit `user:` entry (None: the service has none).
    entry: Option<Entry>,
    /// The message after the service name, starting with a verb in the singular.
    message: String,
    /// The `user:` value as written (for an explicit root user).
    written: String,
    /// The question that would make the fix applicable.
    ask: Option<crate::finding::Need>,
}

/// What is known about a service's image.
enum Image {
    /// Built from a Dockerfile (`build:`): its `USER` decides (DF002).
    Built,
    /// A Windows container: its name, and whether `ContainerUser` is known to work for it (the
    /// knowledge base's `user-override`, or its own default user).
    Windows(String, bool),
    Known(std::sync::Arc<Needs>),
    Unknown(std::sync::Arc<Needs>),
    None,
}

fn image_of(ctx: &Context<'_>, svc: &Service) -> Image {
    if svc.get("build").is_some() {
        return Image::Built;
    }
    if svc.str("image").is_none_or(|s| s.trim().is_empty()) {
        return Image::None;
    }
    let needs = svc.needs(ctx);
    let windows = is_windows(svc)
        || needs
            .image
            .as_ref()
            .is_some_and(|i| family_of(i) == Family::Windows);
    if windows {
        let f = needs.facts();
        if f.user.as_deref() == Some("ContainerUser") {
            // nanoserver: not an administrator by default.
            return Image::None;
        }
        let known = f.user_override.as_deref() == Some("ContainerUser");
        return Image::Windows(needs.subject.clone(), known);
    }
    if needs.facts.is_some() {
        Image::Known(needs)
    } else {
        Image::Unknown(needs)
    }
}

fn ids(settings: &Settings) -> String {
    format!("{}:{}", settings.uid, settings.gid)
}

const WHY_UNSAFE: &str = "files in its volumes must be accessible to that user, and ports below 1024 need Docker 20.10+ or NET_BIND_SERVICE";

/// The image runs as a non-root user by default (its own `USER`).
fn default_non_root(f: &Facts) -> bool {
    f.user
        .as_deref()
        .is_some_and(|u| !is_root_user(u) && !u.contains('$'))
}

/// The image starts as root and switches its process to another user itself.
fn drops(f: &Facts) -> bool {
    f.switch_user.as_deref().is_some_and(|s| s != "none")
}

/// Whether setting `user: value` keeps the service's data accessible: the image's own process
/// already runs as that uid (its data is that user's), or no volume holds data the image wrote as
/// root. Returns why not.
fn data_blocks_switch(svc: &Service, f: &Facts, value: &str) -> Option<String> {
    let name = value.split(':').next().unwrap_or(value);
    let uid = name.parse::<u32>().ok().or_else(|| {
        f.runs_as
            .as_ref()
            .filter(|r| r.name.as_deref() == Some(name))
            .map(|r| r.uid)
    });
    if let (Some(uid), Some(r)) = (uid, &f.runs_as) {
        if r.uid == uid && (drops(f) || default_non_root(f)) {
            return None;
        }
    }
    let targets = mount_targets(svc);
    if targets.is_empty() {
        return None;
    }
    let state: Vec<String> = f
        .state
        .iter()
        .flatten()
        .chain(f.volumes.iter().flatten())
        .cloned()
        .collect();
    if f.state.is_none() {
        return Some(format!(
            "it mounts {}, and whether the image keeps data there (written as root until now) is not known",
            targets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    let hit: Vec<&String> = targets
        .iter()
        .filter(|t| state.iter().any(|p| path_within(t, p) || path_within(p, t)))
        .collect();
    (!hit.is_empty()).then(|| {
        format!(
            "the data in {} was written as root until now: give it to that user first (`chown -R`), then apply",
            hit.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
        )
    })
}

/// The container paths of the service's mounts.
fn mount_targets(svc: &Service) -> Vec<String> {
    let Some(Node::Sequence(seq)) = svc.value("volumes") else {
        return Vec::new();
    };
    seq.items()
        .iter()
        .filter_map(|i| parse_mount(&i.value()))
        .map(|m| m.target.trim().to_owned())
        .collect()
}

fn question(svc: &Service, needs: &Needs) -> Option<crate::finding::Need> {
    svc.image_question(
        needs,
        "images.user-override",
        format!(
            "A non-root user `{}` works as (uid:gid; its files and volumes must be accessible to it)",
            needs.subject
        ),
    )
}

fn want(ctx: &Context<'_>, svc: &Service) -> Option<Want> {
    let settings = ctx.settings;
    let image = image_of(ctx, svc);
    let unknown_why = |needs: &Needs| {
        needs.unknown.clone().unwrap_or_else(|| {
            format!(
                "which non-root user `{}` works as is not known ({})",
                needs.subject, needs.source
            )
        })
    };
    let want = |change, applicability, entry, message, written: String, ask| Want {
        svc: svc.clone(),
        change,
        applicability,
        entry,
        message,
        written,
        ask,
    };
    match svc.get("user") {
        Some((entry, _)) => {
            let value = entry.value().resolve()?;
            if value.is_null() {
                return None;
            }
            let text = value.as_str()?.trim().to_owned();
            if text.contains('$') || !is_root_user(&text) {
                return None;
            }
            let w = match &image {
                Image::Built => want(
                    Change::Remove,
                    Applicability::Unsafe,
                    Some(entry),
                    format!("runs as root (`user: {text}`), overriding the USER of the image it builds; remove it and set a non-root USER in its Dockerfile (see DF002)"),
                    text,
                    None,
                ),
                Image::Windows(_, known) => want(
                    Change::Set("ContainerUser".to_owned()),
                    if *known { Applicability::Unsafe } else { Applicability::DisplayOnly },
                    Some(entry),
                    if *known {
                        format!("runs as the container administrator (`user: {text}`); use `ContainerUser`")
                    } else {
                        format!("runs as the container administrator (`user: {text}`); use `ContainerUser` if the image works without administrator rights (services and their monitors often do not), which is not known")
                    },
                    text,
                    None,
                ),
                Image::Known(n) => {
                    let f = n.facts();
                    if let Some(why) = &f.needs_root {
                        want(
                            Change::Keep,
                            Applicability::DisplayOnly,
                            Some(entry),
                            format!("runs as root (`user: {text}`); `{}` needs root: {why} ({}), so it is not changed", n.subject, n.source),
                            text,
                            None,
                        )
                    } else if drops(&f) && !default_non_root(&f) {
                        want(
                            Change::Remove,
                            Applicability::Safe,
                            Some(entry),
                            format!("sets `user: {text}`: `{}` starts as root by default anyway and switches to its own user itself ({}), which an explicit root user only obscures; remove it", n.subject, n.source),
                            text,
                            None,
                        )
                    } else if default_non_root(&f) {
                        want(
                            Change::Remove,
                            Applicability::Unsafe,
                            Some(entry),
                            format!("runs as root (`user: {text}`) although `{}` runs as a non-root user by default ({}); remove the override (and fix the ownership of its volumes if that is why it is there)", n.subject, n.source),
                            text,
                            None,
                        )
                    } else {
                        set_known(svc, n, settings, Some(entry), &text)
                    }
                }
                Image::Unknown(n) => {
                    let user = ids(settings);
                    want(
                        Change::Set(user.clone()),
                        Applicability::DisplayOnly,
                        Some(entry),
                        format!("runs as root (`user: {text}`); {}: set a non-root uid:gid (e.g. `\"{user}\"`) once you know which one its files need", unknown_why(n)),
                        text,
                        question(svc, n),
                    )
                }
                Image::None => return None,
            };
            Some(w)
        }
        None => {
            if svc.get("extends").is_some() {
                return None;
            }
            let w = match &image {
                Image::Windows(i, known) => want(
                    Change::Set("ContainerUser".to_owned()),
                    if *known {
                        Applicability::Unsafe
                    } else {
                        Applicability::DisplayOnly
                    },
                    None,
                    if *known {
                        format!("runs as the container administrator: image `{i}` defaults to `ContainerAdministrator`; set `user: ContainerUser`")
                    } else {
                        format!("may run as the container administrator: set `user: ContainerUser` if image `{i}` works without administrator rights (services and their monitors often do not), which is not known")
                    },
                    String::new(),
                    None,
                ),
                Image::Known(n) => {
                    let f = n.facts();
                    if default_non_root(&f) || drops(&f) {
                        return None;
                    }
                    if let Some(why) = &f.needs_root {
                        want(
                            Change::Keep,
                            Applicability::DisplayOnly,
                            None,
                            format!(
                                "runs as root: `{}` needs root: {why} ({}), so no `user:` is set",
                                n.subject, n.source
                            ),
                            String::new(),
                            None,
                        )
                    } else if f.user.is_none() && f.user_override.is_none() {
                        // Which user it runs as is not known (with a `user-override` known to
                        // work, that is set whatever the default is, as K8S004 does).
                        let user = ids(settings);
                        want(
                            Change::Set(user.clone()),
                            Applicability::DisplayOnly,
                            None,
                            format!("may run as root: which user `{}` runs as is not known ({}); set `user:` to a non-root uid:gid (e.g. `\"{user}\"`) once you know which one its files need", n.subject, n.source),
                            String::new(),
                            question(svc, n),
                        )
                    } else {
                        set_known(svc, n, settings, None, "")
                    }
                }
                Image::Unknown(n) => {
                    let user = ids(settings);
                    want(
                        Change::Set(user.clone()),
                        Applicability::DisplayOnly,
                        None,
                        format!("may run as root: {}; set `user:` to a non-root uid:gid (e.g. `\"{user}\"`) once you know which one its files need", unknown_why(n)),
                        String::new(),
                        question(svc, n),
                    )
                }
                Image::Built | Image::None => return None,
            };
            Some(w)
        }
    }
}

/// A known image that runs as root and does not switch users: `user:` from what is known to work.
fn set_known(
    svc: &Service,
    n: &Needs,
    settings: &Settings,
    entry: Option<Entry>,
    written: &str,
) -> Want {
    let f = n.facts();
    let what = if entry.is_some() {
        format!("runs as root (`user: {written}`)")
    } else if f.user.is_none() {
        format!(
            "may run as root: which user image `{}` runs as by default is not known",
            n.subject
        )
    } else {
        format!(
            "runs as root: image `{}` has no non-root USER and does not switch users",
            n.subject
        )
    };
    let runtime = f.kind.as_deref() == Some("runtime");
    let (change, applicability, message, ask) = match &f.user_override {
        Some(u) if !runtime => match data_blocks_switch(svc, &f, u) {
            None => (
                Change::Set(u.clone()),
                Applicability::Unsafe,
                format!(
                    "{what}; `\"{u}\"` is known to work ({}); set it ({WHY_UNSAFE})",
                    n.source
                ),
                None,
            ),
            Some(why) => (
                Change::Set(u.clone()),
                Applicability::DisplayOnly,
                format!(
                    "{what}; `\"{u}\"` is known to work ({}), but {why}",
                    n.source
                ),
                None,
            ),
        },
        other => {
            let user = other.clone().unwrap_or_else(|| ids(settings));
            let why = if runtime {
                format!(
                    "`{}` runs whatever command it is given, so which user the application works as is not known",
                    n.subject
                )
            } else {
                format!(
                    "which non-root user `{}` works as is not known ({})",
                    n.subject, n.source
                )
            };
            (
                Change::Set(user.clone()),
                Applicability::DisplayOnly,
                format!("{what}; {why}: set `user:` to a non-root uid:gid (e.g. `\"{user}\"`) once you know which one its files need"),
                question(svc, n),
            )
        }
    };
    Want {
        svc: svc.clone(),
        change,
        applicability,
        entry,
        message,
        written: written.to_owned(),
        ask,
    }
}

/// "Service `a` runs as root..." / "Services `a`, `b` run as root...".
fn sentence(names: &[String], message: &str) -> String {
    let message = if names.len() == 1 {
        message.to_owned()
    } else {
        [("runs ", "run "), ("sets ", "set ")]
            .iter()
            .find_map(|(one, many)| {
                message
                    .strip_prefix(one)
                    .map(|rest| format!("{many}{rest}"))
            })
            .unwrap_or_else(|| message.to_owned())
    };
    format!("{} {message}", who(names))
}

/// The text of a new `user:` value: quoted when it is not a plain name.
fn user_text(value: &str, quote: QuoteStyle) -> String {
    if value.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_') {
        value.to_owned()
    } else {
        quoted(value, quote)
    }
}

/// Replace a `user:` scalar, keeping its quotes; plain values become quoted when needed.
fn replace_user(scalar: &Scalar, value: &str, quote: QuoteStyle) -> Edit {
    match scalar.style() {
        ScalarStyle::Single | ScalarStyle::Double => scalar.replace(value),
        _ => Edit::replace(scalar.range(), user_text(value, quote)),
    }
}

/// A planned fix: edits, the paths they change, and the services they were meant for.
struct Plan {
    edits: Vec<Edit>,
    changes: Vec<SemanticPath>,
}

/// Edit the explicit `user:` entry (or its aliased scalar) itself.
fn plan_on_entry(file: &YamlFile, entry: &Entry, change: &Change) -> Option<Plan> {
    match change {
        Change::Set(v) => {
            let Node::Scalar(s) = entry.value().resolve()? else {
                return None;
            };
            Some(Plan {
                edits: vec![replace_user(&s, v, file.preferred_quote())],
                changes: crate::yaml::node_reach(&s.as_node()).into_paths()?,
            })
        }
        Change::Remove => Some(Plan {
            edits: entry.remove().ok()?,
            changes: crate::yaml::key_reach(&entry.mapping(), "user").into_paths()?,
        }),
        Change::Keep => None,
    }
}

/// Add `user:` to the service's own mapping.
fn plan_insert(file: &YamlFile, svc: &Service, value: &str) -> Option<Plan> {
    let text = user_text(value, file.preferred_quote());
    Some(Plan {
        edits: svc.mapping.insert_entry("user", &text).ok()?,
        changes: crate::yaml::key_reach(&svc.mapping, "user").into_paths()?,
    })
}

fn fix_of(w: &Want, plan: Option<Plan>, wanted: &[&str]) -> Fix {
    let title = match &w.change {
        Change::Set(v) => format!("Run as `{v}`"),
        Change::Remove => format!("Remove `user: {}`", w.written),
        Change::Keep => String::new(),
    };
    match plan {
        Some(p)
            if w.applicability > Applicability::DisplayOnly && only_touches(&p.changes, wanted) =>
        {
            let fix = if w.applicability == Applicability::Safe {
                Fix::safe(title, p.edits)
            } else {
                Fix::unsafe_(title, p.edits)
            };
            fix.with_changes(p.changes)
        }
        Some(p) => Fix::display_only(title, p.edits),
        None => Fix::display_only(title, Vec::new()),
    }
}

impl Check for RunsAsRoot {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let wants: Vec<Want> = crate::compose::model::checked_services(ctx, file)
            .iter()
            .filter_map(|s| want(ctx, s))
            .collect();
        // Group the services that need the same change on the same node: the `user:` entry they
        // share, or the service mapping (aliased services share it).
        let mut groups: BTreeMap<(usize, usize, Change, Applicability), Vec<&Want>> =
            BTreeMap::new();
        for w in &wants {
            let r: TextRange = match &w.entry {
                Some(e) => e.range(),
                None => w.svc.mapping.range(),
            };
            groups
                .entry((r.start, r.end, w.change.clone(), w.applicability))
                .or_default()
                .push(w);
        }
        let mut out = Vec::new();
        for group in groups.into_values() {
            let first = group[0];
            let names: Vec<String> = group.iter().map(|w| w.svc.name.clone()).collect();
            let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
            let plan = match &first.entry {
                Some(e) => plan_on_entry(file, e, &first.change),
                None => match &first.change {
                    Change::Set(v) => plan_insert(file, &first.svc, v),
                    Change::Remove | Change::Keep => None,
                },
            };
            let shared_ok = plan
                .as_ref()
                .is_some_and(|p| only_touches(&p.changes, &wanted));
            let message = sentence(&names, &first.message);
            let range = match &first.entry {
                Some(e) => e.range(),
                None => first.svc.key_range(),
            };
            if first.change == Change::Keep {
                out.push(Finding::new(Self::CODE, Self::NAME, range, message));
                continue;
            }
            if shared_ok || first.entry.is_none() {
                let finding = Finding::new(Self::CODE, Self::NAME, range, message)
                    .with_fix(fix_of(first, plan, &wanted));
                out.push(match first.ask.clone().filter(|_| group.len() == 1) {
                    Some(need) => finding.with_need(need),
                    None => finding,
                });
                continue;
            }
            // The `user:` entry is shared with services that need something else: give each
            // service its own `user:` (it overrides the merged one) when that is what it needs.
            let others = plan
                .as_ref()
                .map(|p| affected_services(&p.changes))
                .unwrap_or_default()
                .into_iter()
                .filter(|s| !names.contains(s))
                .collect::<Vec<_>>();
            for w in group {
                let own_plan = match (&w.change, w.entry.as_ref()) {
                    (Change::Set(v), Some(e)) if e.mapping().range() != w.svc.mapping.range() => {
                        plan_insert(file, &w.svc, v)
                    }
                    _ => None,
                };
                let mut message = sentence(std::slice::from_ref(&w.svc.name), &w.message);
                if own_plan.is_none() {
                    message.push_str(&format!(
                        " (the `user:` entry is shared with {}: change it where it is defined)",
                        if others.is_empty() {
                            "other services".to_owned()
                        } else {
                            others
                                .iter()
                                .map(|s| format!("`{s}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ));
                }
                let me = [w.svc.name.as_str()];
                out.push(
                    Finding::new(Self::CODE, Self::NAME, range, message)
                        .with_fix(fix_of(w, own_plan, &me)),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_users() {
        for u in [
            "root",
            "0",
            "0:0",
            "root:root",
            "000",
            "+0",
            "root:1000",
            " ROOT ",
            "ContainerAdministrator",
        ] {
            assert!(is_root_user(u), "{u}");
        }
        for u in ["1000", "1000:0", "nobody", "postgres", "10", "", "${UID}"] {
            assert!(!is_root_user(u), "{u}");
        }
        assert_eq!(
            user_text("10001:10001", QuoteStyle::Double),
            "\"10001:10001\""
        );
        assert_eq!(
            user_text("ContainerUser", QuoteStyle::Double),
            "ContainerUser"
        );
    }
}
