use std::collections::BTreeMap;

use crate::compose::model::{
    affected_services, only_touches, services, who, yaml, SemanticIndex, Service,
};
use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::{Applicability, Fix, SemanticPath};
use crate::knowledge::{family_of, image_info, tag_says_non_root, Family, ImageName};
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
    /// - Setting `user:` is Unsafe: files in the service's volumes and bind mounts must be
    ///   readable (and, where it writes, writable) by that uid/gid, the image's own files under
    ///   root-only paths are no longer writable, and binding ports below 1024 needs Docker 20.10+
    ///   (which lets any user bind them inside the container) or `NET_BIND_SERVICE`. Images that
    ///   ship a non-root user get that user's ids (`node` → `1000:1000`, distroless → `65532:65532`,
    ///   Windows → `ContainerUser`); other images get `uid`/`gid` from the options.
    /// - Removing `user: root` is Safe when the image's default user is root anyway and its
    ///   entrypoint drops privileges (postgres, redis, ...: nothing changes at run time), Unsafe when
    ///   the image runs as non-root by default or the service builds its image (its Dockerfile's
    ///   `USER` applies again).
    /// - Unknown images get a display-only `user:` suggestion.
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
}

/// What we know about a service's image.
enum Image {
    /// Built from a Dockerfile (`build:`).
    Built,
    Known(ImageName, &'static crate::knowledge::ImageInfo),
    Windows(ImageName),
    /// Not in the tables, or interpolated (the reference as written).
    Unknown(String),
    /// Runs as non-root whatever the table says (tag `nonroot`, `rootless`).
    NonRootTag(ImageName),
    Scratch,
    None,
}

fn image_of(svc: &Service) -> Image {
    if svc.get("build").is_some() {
        return Image::Built;
    }
    let Some(written) = svc
        .str("image")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
    else {
        return Image::None;
    };
    if ImageName::is_templated(&written) {
        return Image::Unknown(written);
    }
    let image = ImageName::parse(&written);
    if tag_says_non_root(&image) {
        return Image::NonRootTag(image);
    }
    match family_of(&image) {
        Family::Scratch => return Image::Scratch,
        Family::Windows => {
            if image_info(&image).is_some_and(|i| i.non_root) {
                return Image::Known(image.clone(), image_info(&image).expect("checked"));
            }
            return Image::Windows(image);
        }
        _ => {}
    }
    match image_info(&image) {
        Some(info) => Image::Known(image, info),
        None => Image::Unknown(written),
    }
}

fn ids(settings: &Settings) -> String {
    format!("{}:{}", settings.uid, settings.gid)
}

const WHY_UNSAFE: &str = "files in its volumes must be accessible to that user, and ports below 1024 need Docker 20.10+ or NET_BIND_SERVICE";

fn want(svc: &Service, settings: &Settings) -> Option<Want> {
    let image = image_of(svc);
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
            let (change, applicability, message) = match &image {
                Image::Built => (
                    Change::Remove,
                    Applicability::Unsafe,
                    format!("runs as root (`user: {text}`), overriding the USER of the image it builds; remove it and set a non-root USER in its Dockerfile (see DF002)"),
                ),
                Image::Known(i, info) if info.drops_privileges => (
                    Change::Remove,
                    Applicability::Safe,
                    format!("sets `user: {text}`: `{}` starts as root by default anyway and drops privileges itself once its files are prepared, which an explicit root user only obscures; remove it", i.short()),
                ),
                Image::Known(i, info) if info.non_root => (
                    Change::Remove,
                    Applicability::Unsafe,
                    format!("runs as root (`user: {text}`) although `{}` runs as a non-root user by default; remove the override (and fix the ownership of its volumes if that is why it is there)", i.short()),
                ),
                Image::NonRootTag(i) => (
                    Change::Remove,
                    Applicability::Unsafe,
                    format!("runs as root (`user: {text}`) although `{}` is a non-root variant; remove the override", i.short()),
                ),
                Image::Windows(_) => (
                    Change::Set("ContainerUser".to_owned()),
                    Applicability::Unsafe,
                    format!("runs as the container administrator (`user: {text}`); use `ContainerUser`"),
                ),
                _ => {
                    let user = match &image {
                        Image::Known(_, info) => shipped_user(info).unwrap_or_else(|| ids(settings)),
                        _ => ids(settings),
                    };
                    (
                        Change::Set(user.clone()),
                        Applicability::Unsafe,
                        format!("runs as root (`user: {text}`); run it as `\"{user}\"` ({WHY_UNSAFE})"),
                    )
                }
            };
            Some(Want {
                svc: svc.clone(),
                change,
                applicability,
                entry: Some(entry),
                message,
                written: text,
            })
        }
        None => {
            if svc.get("extends").is_some() {
                return None;
            }
            let (user, applicability, message) = match &image {
                Image::Known(i, info) if !info.non_root && !info.drops_privileges => {
                    let user = shipped_user(info).unwrap_or_else(|| ids(settings));
                    (
                        user.clone(),
                        Applicability::Unsafe,
                        format!("runs as root: image `{}` has no non-root USER and does not drop privileges; set `user: \"{user}\"` ({WHY_UNSAFE})", i.short()),
                    )
                }
                Image::Windows(i) => (
                    "ContainerUser".to_owned(),
                    Applicability::Unsafe,
                    format!("runs as the container administrator: image `{}` defaults to `ContainerAdministrator`; set `user: ContainerUser`", i.short()),
                ),
                Image::Unknown(written) => {
                    let user = ids(settings);
                    (
                        user.clone(),
                        Applicability::DisplayOnly,
                        format!("may run as root: whether image `{written}` sets a non-root USER is unknown; set `user:` to a non-root uid:gid (e.g. `\"{user}\"`) once you know which one its files need"),
                    )
                }
                _ => return None,
            };
            Some(Want {
                svc: svc.clone(),
                change: Change::Set(user),
                applicability,
                entry: None,
                message,
                written: String::new(),
            })
        }
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

/// The non-root user an image ships, as `uid:gid` (or its name on Windows).
fn shipped_user(info: &crate::knowledge::ImageInfo) -> Option<String> {
    let (name, uid, gid) = info.user?;
    if info.family == Family::Windows {
        return Some(name.to_owned());
    }
    (uid != 0).then(|| format!("{uid}:{gid}"))
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
fn plan_on_entry(
    file: &YamlFile,
    index: &SemanticIndex,
    entry: &Entry,
    change: &Change,
) -> Option<Plan> {
    match change {
        Change::Set(v) => {
            let Node::Scalar(s) = entry.value().resolve()? else {
                return None;
            };
            Some(Plan {
                edits: vec![replace_user(&s, v, file.preferred_quote())],
                changes: index.occurrences(&s.as_node())?,
            })
        }
        Change::Remove => Some(Plan {
            edits: entry.remove().ok()?,
            changes: index.key_dependents(&entry.mapping(), "user")?,
        }),
    }
}

/// Add `user:` to the service's own mapping.
fn plan_insert(file: &YamlFile, index: &SemanticIndex, svc: &Service, value: &str) -> Option<Plan> {
    let text = user_text(value, file.preferred_quote());
    Some(Plan {
        edits: svc.mapping.insert_entry("user", &text).ok()?,
        changes: index.key_dependents(&svc.mapping, "user")?,
    })
}

fn fix_of(w: &Want, plan: Option<Plan>, wanted: &[&str]) -> Fix {
    let title = match &w.change {
        Change::Set(v) => format!("Run as `{v}`"),
        Change::Remove => format!("Remove `user: {}`", w.written),
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
        let wants: Vec<Want> = services(file)
            .iter()
            .filter_map(|s| want(s, ctx.settings))
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
        let mut indexes: BTreeMap<usize, SemanticIndex> = BTreeMap::new();
        let mut out = Vec::new();
        for group in groups.into_values() {
            let first = group[0];
            let index = indexes
                .entry(first.svc.doc)
                .or_insert_with(|| SemanticIndex::build(file, first.svc.doc));
            let names: Vec<String> = group.iter().map(|w| w.svc.name.clone()).collect();
            let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
            let plan = match &first.entry {
                Some(e) => plan_on_entry(file, index, e, &first.change),
                None => match &first.change {
                    Change::Set(v) => plan_insert(file, index, &first.svc, v),
                    Change::Remove => None,
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
            if shared_ok || first.entry.is_none() {
                out.push(
                    Finding::new(Self::CODE, Self::NAME, range, message)
                        .with_fix(fix_of(first, plan, &wanted)),
                );
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
                        plan_insert(file, index, &w.svc, v)
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
