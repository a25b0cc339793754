use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::knowledge::{pin_for, pinned_suffix, ImageName};
use crate::kubernetes::model::{editable_node, pods, yaml};
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

impl Check for UnpinnedImage {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pod in pods(file) {
            for c in pod.containers() {
                let Some(image) = c.image() else {
                    continue;
                };
                if image.is_pinned() {
                    continue;
                }
                let Some(scalar) = c.image_scalar() else {
                    continue;
                };
                let written = scalar.value().trim().to_owned();
                let state = match &image.tag {
                    Some(_) => "the `latest` tag",
                    None => "no tag",
                };
                let finding = Finding::new(
                    Self::CODE,
                    Self::NAME,
                    scalar.range(),
                    format!(
                        "The {} uses image `{written}` with {state}: the version that runs changes with every pull",
                        c.label()
                    ),
                );
                let fix = container_refusal(&c).and_then(|()| {
                    if !editable_node(&scalar.as_node()) {
                        return Err("the image is shared through a YAML anchor or alias".into());
                    }
                    let base = without_tag(&written, &image);
                    let (pin, applicability) = if let Some(p) = pin_for(ctx.settings, &image) {
                        (p.to_owned(), Applicability::Unsafe)
                    } else if let Some(p) = ctx.resolver.resolve(&written) {
                        let digest_only = p.starts_with('@')
                            || image
                                .tag
                                .as_deref()
                                .is_some_and(|t| p.starts_with(&format!("{t}@")));
                        (
                            p,
                            if digest_only {
                                Applicability::Safe
                            } else {
                                Applicability::Unsafe
                            },
                        )
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
                out.push(attach(finding, fix));
            }
        }
        out
    }
}
