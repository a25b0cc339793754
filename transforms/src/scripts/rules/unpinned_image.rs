use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::{Finding, Need};
use crate::fix::Applicability;
use crate::knowledge::{pin_for, pinned_suffix, ImageName};
use crate::registry::{Check, Context};

use super::{fix_of, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags container commands whose image has no tag or the `latest` tag (and no digest), and
    /// pins it from the pin table (`[options.pins]` of `.dockharden.toml`, shared with DF003 and
    /// DC013) or the digest resolver. Images given by a variable are read through the values the
    /// file assigns (`IMAGE=redis` then `docker run "$IMAGE"`); when the value is not known the
    /// command is not judged.
    ///
    /// ## Why is this bad?
    /// `latest` (or no tag) is whatever the registry serves today: every pull can bring a different image, so runs are not reproducible and a compromised upstream tag goes straight into production.
    ///
    /// ## Example
    /// With `[options.pins] redis = "7.4-alpine"`:
    /// ```sh
    /// docker run -d redis
    /// ```
    /// becomes
    /// ```sh
    /// docker run -d redis:7.4-alpine
    /// ```
    ///
    /// ## Fix safety
    /// Without a pin for the image the fix is display-only: only a human knows which version was
    /// tested. With a pin it is Unsafe (another tag may be another image), except a pin that only
    /// adds the digest of the tag in use, which is Safe. An image written through a variable is
    /// reported without a fix (the variable is edited where it is assigned, by hand).
    ///
    /// ## Options
    /// `pins`: image name → `tag`, `tag@sha256:…` or `@sha256:…`.
    ///
    /// ## References
    /// Guideline: "Pin base image versions (avoid `latest` tags in production)". CIS Docker
    /// Benchmark v1.7 5.27; compose equivalent DC013.
    pub struct UnpinnedImage => "DR011", "unpinned-image", group Scripts, Sometimes;
}

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
        let mut out = Vec::new();
        for site in sites(ctx) {
            let run = &site.run;
            if run.partial {
                continue;
            }
            let (Some(word), Some(reference)) = (run.image_word(), site.image_text()) else {
                continue;
            };
            let reference = reference.trim().to_owned();
            if reference.is_empty()
                || ImageName::is_templated(&reference)
                || reference.contains(['$', '%', '<', '{'])
            {
                continue;
            }
            let image = ImageName::parse(&reference);
            if image.is_pinned() || image.repository.is_empty() || !image.is_well_formed() {
                continue;
            }
            let what = if image.tag.is_some() {
                "which uses the mutable tag `latest`"
            } else {
                "which has no tag (so `latest`)"
            };
            let range = word.file.unwrap_or_else(|| run.range());
            let mut message = format!(
                "The container runs image `{reference}`, {what}: every pull may bring a different image"
            );
            let pin = pin_for(ctx.settings, &image)
                .map(str::to_owned)
                .or_else(|| ctx.resolver.resolve(&reference));
            // Where the reference is written literally (quotes kept), its bytes in the file.
            let quoted = word.raw.len() >= 2
                && (word.raw.starts_with('"') && word.raw.ends_with('"')
                    || word.raw.starts_with('\'') && word.raw.ends_with('\''))
                && word.raw[1..word.raw.len() - 1] == word.value;
            let literal = word.value == reference && (word.raw == word.value || quoted);
            let target = word.file.map(|r| {
                if quoted {
                    crate::text::TextRange::new(r.start + 1, r.end - 1)
                } else {
                    r
                }
            });
            let no_digest = reference.split('@').next().unwrap_or(&reference);
            let base = match &image.tag {
                Some(t) => no_digest[..no_digest.len() - t.len() - 1].to_owned(),
                None => no_digest.to_owned(),
            };
            let key = match &image.registry {
                Some(r) => format!("{r}/{}", image.repository),
                None => image.repository.clone(),
            };
            let fix = match (&pin, literal) {
                (Some(p), true) => {
                    let new = format!("{base}{}", pinned_suffix(&image, p));
                    target.map(|r| {
                        fix_of(
                            applicability(&image, p),
                            format!("Pin the image to `{new}`"),
                            vec![Edit::replace(r, new.clone())],
                        )
                    })
                }
                (_, false) => {
                    message.push_str(&format!(
                        " (no automatic fix: the image comes from `{}`; pin it where that is set)",
                        word.raw
                    ));
                    None
                }
                (None, true) => {
                    message.push_str(&format!(
                        " (display only: which version to pin is for a human to decide; add `{key} = \"<tag>\"` to `[options.pins]`, or answer in `fix --interactive`)"
                    ));
                    target.map(|r| {
                        fix_of(
                            Applicability::DisplayOnly,
                            format!("Pin the image to `{base}:<tag>`"),
                            vec![Edit::replace(r, format!("{base}:TODO"))],
                        )
                    })
                }
            };
            let mut f = report(ctx, &site, (Self::CODE, Self::NAME), range, message, fix);
            if pin.is_none() && literal {
                f = f.with_need(Need {
                    option: "pins",
                    key: Some(key.clone()),
                    prompt: format!("Tag (or tag@digest) to pin `{key}` to"),
                    default: None,
                });
            }
            out.push(f);
        }
        out
    }
}
