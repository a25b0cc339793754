use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::knowledge::{pin_for, pinned_suffix, ImageName};
use crate::kubernetes::model::{editable_node, yaml};
use crate::kubernetes::patch::Patch;
use crate::kubernetes::{attach, container_refusal, make_fix};
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags containers whose image has no tag, or the `latest` tag, and no digest, and pins it from
    /// the `[options.pins]` table (the same table the Dockerfile and compose rules use), or from the image
    /// resolver when one is enabled. Without a pin the fix is only shown, with a `TODO` tag.
    ///
    /// ## Why is this bad?
    /// An unpinned image is whatever the registry serves at pull time: each node, restart or rollout may run a different version, rollbacks are impossible, and a compromised or broken `latest` reaches production unreviewed.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: nginx:latest
    /// ```
    /// becomes, with `[options.pins] nginx = "1.27-alpine"`:
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: nginx:1.27-alpine
    /// ```
    ///
    /// ## Fix safety
    /// Display-only without a pin: only a human knows which version is wanted. With a configured pin,
    /// Unsafe: the pinned version may differ from what `latest` gives today. A pin from the resolver
    /// that only adds the digest of the reference as written is Safe: it is the image a pull gets
    /// now. The registry, repository and quoting of the reference are kept; images written with
    /// variables (`${IMAGE}`) are not judged. Ephemeral containers are reported only.
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
    /// `[options.pins]`: image name (as written, without tag, or its short name) → `tag`, `tag@sha256:…` or
    /// `@sha256:…`.
    ///
    /// ## References
    /// Guideline: "Pin base image versions (avoid `latest` tags in production)". checkov CKV_K8S_14
    /// and CKV_K8S_43, hadolint DL3007 (Dockerfile equivalent).
    pub struct UnpinnedImage => "K8S010", "unpinned-image", Kubernetes, Sometimes;
}

/// The reference as written without its `:tag` (the repository part the pin is appended to).
fn without_tag(written: &str, image: &ImageName) -> String {
    match &image.tag {
        Some(t) => written
            .strip_suffix(&format!(":{t}"))
            .unwrap_or(written)
            .to_owned(),
        None => written.to_owned(),
    }
}

/// A reference with a tag and a digest whose tag now points to another digest: reported, fixed
/// with `--update-pins`.
fn stale(
    ctx: &Context<'_>,
    c: &crate::kubernetes::model::Container,
    image: &ImageName,
    scalar: &crate::yaml::Scalar,
    written: &str,
) -> Option<Finding> {
    let old = image.digest.as_deref()?;
    // Asked for a digest alone too (no tag to compare, so no answer): a resolver that records
    // the references notes it, and the local Docker Engine is asked about it.
    let current = ctx.resolver.current_digest(written)?;
    image.tag.as_ref()?;
    if current == old {
        return None;
    }
    let before = written.split('@').next().unwrap_or(written);
    let new = format!("{before}@{current}");
    let finding = Finding::new(
        UnpinnedImage::CODE,
        UnpinnedImage::NAME,
        scalar.range(),
        format!(
            "The {} uses image `{written}`, a stale pin: its tag now points to `{current}`",
            c.label()
        ),
    );
    let fix = container_refusal(c).and_then(|()| {
        if !editable_node(&scalar.as_node()) {
            return Err("the image is shared through a YAML anchor or alias".into());
        }
        let mut patch = Patch::new();
        patch.replace_scalar(scalar, &new, c.path(&["image"]));
        if ctx.settings.update_pins {
            make_fix(
                Applicability::Safe,
                format!("Update the pin to `{new}` (--update-pins)"),
                patch,
            )
        } else {
            make_fix(
                Applicability::DisplayOnly,
                format!("Update the pin to `{new}` (run with --update-pins to apply)"),
                patch,
            )
        }
    });
    Some(attach(finding, fix))
}

impl Check for UnpinnedImage {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in crate::kubernetes::model::checked_pods(ctx, file) {
            for c in pod.containers().iter() {
                let Some(image) = c.image() else {
                    continue;
                };
                let resolving = ctx.resolver.active();
                if image.is_pinned() && !resolving {
                    continue;
                }
                let Some(scalar) = c.image_scalar() else {
                    continue;
                };
                let written = scalar.value().trim().to_owned();
                if image.digest.is_some() {
                    if let Some(f) = stale(ctx, c, &image, &scalar, &written) {
                        out.push(f);
                    }
                    continue;
                }
                // A tag the user chose is kept: the pin table is only for untagged and `latest`.
                let table = if image.is_pinned() {
                    None
                } else {
                    pin_for(ctx.settings, &image)
                };
                let resolved = if table.is_none() {
                    ctx.resolver.pin(&written)
                } else {
                    None
                };
                if image.is_pinned() && resolved.is_none() {
                    continue;
                }
                let state = match image.tag.as_deref() {
                    Some("latest") => "the `latest` tag",
                    Some(_) => "a tag but no digest (a tag can be moved to another image)",
                    None => "no tag",
                };
                let note = resolved
                    .as_ref()
                    .and_then(|p| p.note.as_ref())
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default();
                let finding = Finding::new(
                    Self::CODE,
                    Self::NAME,
                    scalar.range(),
                    format!(
                        "The {} uses image `{written}` with {state}: the version that runs changes with every pull{note}",
                        c.label()
                    ),
                );
                let fix = container_refusal(c).and_then(|()| {
                    if !editable_node(&scalar.as_node()) {
                        return Err("the image is shared through a YAML anchor or alias".into());
                    }
                    let base = without_tag(&written, &image);
                    let (pin, applicability) = if let Some(p) = table {
                        (p.to_owned(), Applicability::Unsafe)
                    } else if let Some(p) = &resolved {
                        // A resolver's pin names the image the reference gets today (the same
                        // digest, under the written tag or a version tag that has it): Safe.
                        (p.pin.clone(), Applicability::Safe)
                    } else {
                        ("TODO".to_owned(), Applicability::DisplayOnly)
                    };
                    let new = format!("{base}{}", pinned_suffix(&image, &pin));
                    if c.mapping.get("image").is_none() {
                        return Err("the image is not the container's own key".into());
                    }
                    let mut patch = Patch::new();
                    patch.replace_scalar(&scalar, &new, c.path(&["image"]));
                    let title = if applicability == Applicability::DisplayOnly {
                        format!("Pin the image (`{base}:<version>`; configure `[options.pins]` to apply)")
                    } else {
                        format!("Pin the image to `{new}`")
                    };
                    make_fix(applicability, title, patch)
                });
                let finding = attach(finding, fix);
                // Only a human knows which version to pin: `fix --interactive` asks for it.
                let shown = finding
                    .fix
                    .as_ref()
                    .is_some_and(|f| f.applicability == Applicability::DisplayOnly);
                out.push(if shown && table.is_none() && resolved.is_none() {
                    let key = image.short();
                    finding.with_need(crate::finding::Need {
                        option: "pins",
                        prompt: format!(
                            "Tag or digest to pin `{key}` to (e.g. 1.27 or 1.27@sha256:...)"
                        ),
                        key: Some(key),
                        default: None,
                    })
                } else {
                    finding
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod registry_tests {
    use crate::fix::Applicability;
    use crate::settings::testing::run;
    use crate::source::FileKind;

    #[test]
    fn registry_pins_every_container_kind_and_stale_pins() {
        let t = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: j\nspec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers:\n            - name: init\n              image: python:3.12\n          containers:\n            - name: web\n              image: nginx:latest\n            - name: cache\n              image: redis:7@sha256:old\n            - name: other\n              image: alpine:3.20\n";
        let (f, out) = run(FileKind::Kubernetes, t, false);
        assert_eq!(f.len(), 3, "{f:#?}");
        let stale = f.iter().find(|x| x.message.contains("stale pin")).unwrap();
        assert_eq!(
            stale.fix.as_ref().unwrap().applicability,
            Applicability::DisplayOnly
        );
        assert!(out.contains("image: python:3.12@sha256:bb\n"), "{out}");
        assert!(out.contains("image: nginx:1.27.3@sha256:aa\n"), "{out}");
        assert!(out.contains("image: redis:7@sha256:old\n"), "{out}");
        let (_, out) = run(FileKind::Kubernetes, t, true);
        assert!(out.contains("image: redis:7@sha256:new\n"), "{out}");
        let (f, _) = run(FileKind::Kubernetes, &out, true);
        assert!(f.is_empty(), "{f:#?}");
    }
}
