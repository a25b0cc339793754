use std::collections::BTreeMap;

use crate::compose::model::{affected_services, only_touches, who, yaml, Service};
use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::{Applicability, Fix, SemanticPath};
use crate::knowledge::{pin_for, pinned_suffix, ImageName};
use crate::registry::{Check, Context};
use crate::yaml::{string_scalar, Node, Scalar, YamlFile};

declare_transform! {
    /// ## What it does
    /// Flags services whose `image:` has no tag or the `latest` tag (and no digest), and pins it
    /// from the pin table (`[options.pins]` in `.dockharden.toml`, the same table as the Dockerfile rule).
    /// Images written with variable interpolation (`${IMAGE}`, `app:${TAG}`) cannot be judged and
    /// are skipped. A service that also has `build:` is naming its own build output with `image:`
    /// and is not flagged.
    ///
    /// ## Why is this bad?
    /// `latest` (or no tag) is whatever the registry serves today: every pull can bring a different image, so deployments are not reproducible, rollbacks are impossible and a compromised upstream tag goes straight into production.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   cache:
    ///     image: redis
    /// ```
    /// with `[options.pins]` `redis = "7.4-alpine"` becomes
    /// ```yaml
    /// services:
    ///   cache:
    ///     image: redis:7.4-alpine
    /// ```
    ///
    /// ## Fix safety
    /// Without a pin for the image (in the pin table, or from the digest resolver) the fix is
    /// display-only: only a human knows which version the stack was tested with. With a pin it is
    /// Unsafe, because a different tag may be a different image (another major version, another
    /// base distribution), except when the pin only adds a digest to the tag already in use
    /// (`@sha256:…`, or `latest@sha256:…` for an untagged image): that is Safe, the reference then
    /// names exactly the image the tag points to. The image's quoting style is kept. When the
    /// `image:` comes from an anchor (`<<: *defaults`) the anchor is edited only if every service
    /// that inherits it is flagged too; otherwise (a service that builds the image must keep the
    /// name) each flagged service gets its own pinned `image:`, which overrides the merged one.
    ///
    /// With `--resolve` the resolver is the image's registry: a tag without a digest is flagged
    /// too, every reference is pinned to `tag@sha256:<digest>` (the digest the registry serves for
    /// the tag as written; for `latest` or no tag, the most specific version tag with the same
    /// digest, else `latest@sha256:…` and the message says so), and such a pin is Safe: it names
    /// the image the reference gets today. A pin whose tag now points to another digest is
    /// reported as stale, with a fix applied only under `--update-pins`. An image the local
    /// Docker Engine has without a registry digest for its repository was built there: no
    /// registry is asked and no pin is proposed.
    ///
    /// ## Options
    /// `pins` (table): image name as written (without tag) or its short name → `tag`,
    /// `tag@sha256:…` or `@sha256:…`, e.g. `redis = "7.4-alpine"`.
    ///
    /// ## References
    /// Guideline: "Pin base image versions (avoid `latest` tags in production)". compose-lint
    /// CL-0004; hadolint DL3006 / DL3007 are the Dockerfile equivalents (DF rule for `FROM`).
    pub struct UnpinnedImage => "DC013", "unpinned-image", Compose, Sometimes;
}

struct Hit {
    scalar: Scalar,
    reference: String,
    image: ImageName,
    services: Vec<String>,
    svcs: Vec<Service>,
}

/// Whether the image reference of `svc` is to be judged: returns its scalar. With a resolver that
/// looks images up (`resolving`), tagged references (a digest may be missing) and pinned ones (the
/// pin may be stale) are judged too.
fn flagged(svc: &Service, resolving: bool) -> Option<(Scalar, String, ImageName)> {
    if svc.get("build").is_some() {
        return None;
    }
    let (entry, _) = svc.get("image")?;
    let Node::Scalar(scalar) = entry.value().resolve()? else {
        return None;
    };
    let reference = scalar.value().trim().to_owned();
    if reference.is_empty() || ImageName::is_templated(&reference) || scalar.is_null() {
        return None;
    }
    let image = ImageName::parse(&reference);
    if image.repository.is_empty() || (image.is_pinned() && !resolving) {
        return None;
    }
    Some((scalar, reference, image))
}

/// The reference without its `:tag` and `@digest`, exactly as written.
fn base_of(reference: &str, image: &ImageName) -> String {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    match &image.tag {
        Some(t) => no_digest[..no_digest.len() - t.len() - 1].to_owned(),
        None => no_digest.to_owned(),
    }
}

/// The applicability of pinning `image` with `pin`: Safe when the pin only adds the digest of the
/// tag in use, Unsafe otherwise.
fn applicability(image: &ImageName, pin: &str) -> Applicability {
    let current = image.tag.as_deref().unwrap_or("latest");
    match pin.split_once('@') {
        Some(("", _)) => Applicability::Safe,
        Some((tag, _)) if tag == current => Applicability::Safe,
        _ => Applicability::Unsafe,
    }
}

impl Check for UnpinnedImage {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut hits: BTreeMap<(usize, usize), Hit> = BTreeMap::new();
        for svc in crate::compose::model::checked_services(ctx, file) {
            let Some((scalar, reference, image)) = flagged(&svc, ctx.resolver.active()) else {
                continue;
            };
            let r = scalar.range();
            hits.entry((r.start, r.end)).or_insert_with(|| Hit {
                scalar,
                reference,
                image,
                services: Vec::new(),
                svcs: Vec::new(),
            });
            let hit = hits.get_mut(&(r.start, r.end)).expect("just inserted");
            hit.services.push(svc.name.clone());
            hit.svcs.push(svc.clone());
        }
        hits.into_values()
            .flat_map(|hit| findings(ctx, file, &hit))
            .collect()
    }
}

/// "Service `a` runs" / "Services `a`, `b` run".
fn run_verb(services: &[String]) -> String {
    let verb = if services.len() == 1 { "runs" } else { "run" };
    format!("{} {verb}", who(services))
}

/// A TOML key: bare when it can be, else quoted.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

/// A reference with a tag and a digest whose tag now points to another digest: reported, fixed
/// with `--update-pins`.
fn stale(ctx: &Context<'_>, hit: &Hit) -> Vec<Finding> {
    let Some(written) = &hit.image.digest else {
        return Vec::new();
    };
    // Asked for a digest alone too (no tag to compare, so no answer): a resolver that records
    // the references notes it, and the local Docker Engine is asked about it.
    let Some(current) = ctx.resolver.current_digest(&hit.reference) else {
        return Vec::new();
    };
    if hit.image.tag.is_none() {
        return Vec::new();
    }
    if &current == written {
        return Vec::new();
    }
    let before = hit.reference.split('@').next().unwrap_or(&hit.reference);
    let new = format!("{before}@{current}");
    let message = format!(
        "{} image `{}`, a stale pin: its tag now points to `{current}`",
        run_verb(&hit.services),
        hit.reference
    );
    let wanted: Vec<&str> = hit.services.iter().map(String::as_str).collect();
    let changes = crate::yaml::node_reach(&hit.scalar.as_node())
        .into_paths()
        .filter(|a| only_touches(a, &wanted));
    let fix = match changes {
        Some(changes) if ctx.settings.update_pins => Fix::safe(
            format!("Update the pin to `{new}` (--update-pins)"),
            vec![hit.scalar.replace(&new)],
        )
        .with_changes(changes),
        _ => Fix::display_only(
            format!("Update the pin to `{new}` (run with --update-pins to apply)"),
            vec![hit.scalar.replace(&new)],
        ),
    };
    vec![Finding::new(
        UnpinnedImage::CODE,
        UnpinnedImage::NAME,
        hit.scalar.range(),
        message,
    )
    .with_fix(fix)]
}

fn findings(ctx: &Context<'_>, file: &YamlFile, hit: &Hit) -> Vec<Finding> {
    if hit.image.digest.is_some() {
        return stale(ctx, hit);
    }
    let what = match hit.image.tag.as_deref() {
        Some("latest") => "which uses the mutable tag `latest`",
        Some(_) => "which has a tag but no digest (a tag can be moved to another image)",
        None => "which has no tag (so `latest`)",
    };
    let base = base_of(&hit.reference, &hit.image);
    let affected = crate::yaml::node_reach(&hit.scalar.as_node()).into_paths();
    let others: Vec<String> = affected
        .as_ref()
        .map(|a| affected_services(a))
        .unwrap_or_default()
        .into_iter()
        .filter(|s| !hit.services.contains(s))
        .map(|s| format!("`{s}`"))
        .collect();
    let wanted: Vec<&str> = hit.services.iter().map(String::as_str).collect();
    let shareable = affected
        .as_ref()
        .filter(|a| only_touches(a, &wanted))
        .cloned();
    // A tag the user chose is kept: the pin table (which may name another tag) is only for
    // untagged and `latest` references.
    let table = if hit.image.is_pinned() {
        None
    } else {
        pin_for(ctx.settings, &hit.image).map(|p| (p.to_owned(), false, None))
    };
    let pin = table.or_else(|| {
        ctx.resolver
            .pin(&hit.reference)
            .map(|p| (p.pin, true, p.note))
    });
    if hit.image.is_pinned() && pin.is_none() {
        return Vec::new();
    }
    let resolved = pin.as_ref().is_some_and(|p| p.1);
    let note = pin.as_ref().and_then(|p| p.2.clone());
    let pinned = pin.as_ref().and_then(|(p, _, _)| {
        let new = format!("{base}{}", pinned_suffix(&hit.image, p));
        let parsed = ImageName::parse(&new);
        (parsed.is_pinned() && (!resolved || parsed.digest.is_some()) && new != hit.reference)
            .then_some((p.as_str(), new))
    });
    if hit.image.is_pinned() && pinned.is_none() {
        return Vec::new();
    }
    let mut message = format!(
        "{} image `{}`, {what}: every pull may bring a different image",
        run_verb(&hit.services),
        hit.reference
    );
    if let Some(n) = &note {
        message.push_str(&format!("; {n}"));
    }
    let fixed = |p: &str, title: String, edits: Vec<Edit>, changes: Vec<SemanticPath>| {
        // A resolver's pin names the image the reference gets today: Safe.
        let applicability = if resolved {
            Applicability::Safe
        } else {
            applicability(&hit.image, p)
        };
        let fix = match applicability {
            Applicability::Safe => Fix::safe(title, edits),
            _ => Fix::unsafe_(title, edits),
        };
        fix.with_changes(changes)
    };
    let finding = |message: String, fix: Fix| {
        Finding::new(
            UnpinnedImage::CODE,
            UnpinnedImage::NAME,
            hit.scalar.range(),
            message,
        )
        .with_fix(fix)
    };
    match (pinned, shareable) {
        (Some((p, new)), Some(changes)) => {
            let title = format!("Pin the image to `{new}`");
            vec![finding(
                message,
                fixed(p, title, vec![hit.scalar.replace(&new)], changes),
            )]
        }
        (Some((p, new)), None) => {
            // The `image:` is shared with services that must keep it: each flagged service that
            // inherits it gets its own pinned `image:` (it overrides the merged one).
            let shared = if others.is_empty() {
                "other keys".to_owned()
            } else {
                others.join(", ")
            };
            hit.svcs
                .iter()
                .map(|svc| {
                    let me = [svc.name.as_str()];
                    let mut message = format!(
                        "{} image `{}`, {what}: every pull may bring a different image",
                        run_verb(std::slice::from_ref(&svc.name)),
                        hit.reference
                    );
                    let title = format!("Pin the image to `{new}` in `{}` itself", svc.name);
                    let own = (svc.mapping.get("image").is_none())
                        .then(|| {
                            let value =
                                string_scalar(&new, file.preferred_quote(), svc.mapping.is_flow());
                            let edits = svc.mapping.insert_entry("image", &value).ok()?;
                            let changes = crate::yaml::key_reach(&svc.mapping, "image").into_paths()?;
                            only_touches(&changes, &me).then_some((edits, changes))
                        })
                        .flatten();
                    match own {
                        Some((edits, changes)) => {
                            message.push_str(&format!(
                                " (the anchored `image:` is also used by {shared}, which must not change)"
                            ));
                            finding(message, fixed(p, title, edits, changes))
                        }
                        None => {
                            message.push_str(&format!(
                                "; pin it to `{new}` for this service only: the same `image:` is used by {shared}, which must not change"
                            ));
                            finding(message, Fix::display_only(title, Vec::new()))
                        }
                    }
                })
                .collect()
        }
        (None, _) => {
            message.push_str(&format!(
                "; pin a version or digest (or add `{} = \"<tag>\"` to `[options.pins]`)",
                toml_key(&hit.image.short())
            ));
            vec![finding(
                message,
                Fix::display_only(
                    format!("Pin `{base}` to a version"),
                    vec![hit.scalar.replace(&format!("{base}:TODO"))],
                ),
            )
            .with_need(crate::finding::Need {
                option: "pins",
                key: Some(base.to_string()),
                prompt: format!("Tag or digest to pin `{base}` to (e.g. 1.27 or 1.27@sha256:...)"),
                default: None,
            })]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_and_applicability() {
        let i = ImageName::parse("docker.io/library/nginx:latest");
        assert_eq!(
            base_of("docker.io/library/nginx:latest", &i),
            "docker.io/library/nginx"
        );
        let i = ImageName::parse("localhost:5000/app");
        assert_eq!(base_of("localhost:5000/app", &i), "localhost:5000/app");
        assert_eq!(applicability(&i, "@sha256:ab"), Applicability::Safe);
        assert_eq!(applicability(&i, "latest@sha256:ab"), Applicability::Safe);
        assert_eq!(applicability(&i, "1.2@sha256:ab"), Applicability::Unsafe);
        assert_eq!(applicability(&i, "1.2"), Applicability::Unsafe);
        let l = ImageName::parse("redis:latest");
        assert_eq!(applicability(&l, "latest@sha256:ab"), Applicability::Safe);
    }
}

#[cfg(test)]
mod registry_tests {
    use crate::fix::Applicability;
    use crate::settings::testing::run;
    use crate::source::FileKind;

    #[test]
    fn registry_pins_and_stale_pins() {
        let t = "services:\n  web:\n    image: nginx\n  py:\n    image: \"python:3.12\"\n  app:\n    image: app\n  cache:\n    image: redis:7@sha256:old # pinned\n  other:\n    image: alpine:3.20\n";
        let (f, out) = run(FileKind::Compose, t, false);
        assert_eq!(f.len(), 4, "{f:#?}");
        assert!(f[2].message.contains("no version tag"), "{f:#?}");
        assert!(f[3].message.contains("stale pin"), "{f:#?}");
        assert_eq!(
            f[3].fix.as_ref().unwrap().applicability,
            Applicability::DisplayOnly
        );
        assert_eq!(
            out,
            "services:\n  web:\n    image: nginx:1.27.3@sha256:aa\n  py:\n    image: \"python:3.12@sha256:bb\"\n  app:\n    image: app:latest@sha256:cc\n  cache:\n    image: redis:7@sha256:old # pinned\n  other:\n    image: alpine:3.20\n"
        );
        let (_, out) = run(FileKind::Compose, t, true);
        assert!(out.contains("image: redis:7@sha256:new # pinned"), "{out}");
        let (f, _) = run(FileKind::Compose, &out, true);
        assert!(f.is_empty(), "{f:#?}");
    }
}

#[cfg(test)]
mod shared_tests {
    use super::*;
    use crate::compose::model::testing::apply;
    use crate::registry::Transform;

    #[test]
    fn inherited_image_is_pinned_per_service_when_a_builder_shares_it() {
        let text = "\
x-app: &app
  image: team/app
services:
  build:
    <<: *app
    build: .
  run:
    <<: *app
";
        let parsed = crate::source::parse(crate::source::FileKind::Compose, text).unwrap();
        let mut settings = crate::settings::Settings::default();
        settings.pins.insert("team/app".into(), "1.2".into());
        let ctx = Context {
            text,
            kind: crate::source::FileKind::Compose,
            parsed: &parsed,
            settings: &settings,
            resolver: &crate::settings::NoResolver,
            workspace: &crate::settings::NoWorkspace,
            memo: &crate::needs::Memo::default(),
            path: None,
        };
        let f = UnpinnedImage.check(&ctx);
        assert_eq!(f.len(), 1);
        let fix = f[0].fix.as_ref().unwrap();
        assert_eq!(fix.applicability, Applicability::Unsafe);
        assert_eq!(apply(text, fix), format!("{text}    image: team/app:1.2\n"));
        assert_eq!(fix.changes.len(), 1);
        assert_eq!(fix.changes[0].keys, ["services", "run", "image"]);
    }
}
