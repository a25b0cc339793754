use crate::declare_transform;
use crate::dockerfile::analysis::{Analysis, Base};
use crate::dockerfile::dockerfile;
use crate::dockerfile::syntax::Dockerfile;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::knowledge::{self, Family, ImageName};
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags a final stage built on a full distribution or language-runtime image that has a
    /// known smaller variant (`python:3.12` → `python:3.12-slim`, `node:20` → `node:20-slim`,
    /// `golang`, `openjdk`, `maven`, `debian:bookworm` → `debian:bookworm-slim`, …), and a
    /// single-stage build whose final image keeps build tools (`gcc`, `g++`, `make`,
    /// `build-essential`, `git`, `cmake`, …) installed.
    ///
    /// ## Why is this bad?
    /// Every package in the final image is attack surface and a source of CVE reports: compilers,
    /// VCS clients and full distributions are rarely needed to run an application.
    ///
    /// Full images such as `python:3.12` are built on `buildpack-deps` and carry compilers, headers
    /// and hundreds of libraries; their `-slim`/`-alpine` variants, a JRE instead of a JDK, or a
    /// distroless runtime stage after a build stage, carry only what runs the program.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12
    /// RUN apt-get update && apt-get install -y gcc && pip install -r requirements.txt
    /// CMD ["python", "app.py"]
    /// ```
    /// Suggested: `FROM python:3.12-slim`, and build the wheels in a first stage
    /// (`FROM python:3.12 AS build`) whose results a slim final stage copies
    /// (`COPY --from=build …`).
    ///
    /// ## Fix safety
    /// Display-only: a smaller image may lack a library or tool the application needs at run time,
    /// and splitting a build into stages needs to know what the build produces. When the tag is a
    /// plain version (`python:3.12`), the suggestion shows the concrete variant tag; otherwise it
    /// names the pattern (`python:<version>-slim`).
    ///
    /// Not reported: tags already `slim`, `alpine`, `distroless`, `minimal`, `micro` or `jre`;
    /// Alpine, distroless, scratch and Windows bases; images without a known smaller variant
    /// (`ubuntu`, `buildpack-deps`); a `FROM $IMAGE` the `ARG` defaults do not resolve; build tools
    /// in a multi-stage build (the later stages are assumed to copy only artifacts) or removed again
    /// in the same stage (`apk del .build-deps`, `apt-get purge --auto-remove`, the docker-library
    /// pattern); php's `-apache` tags (their small variant is FPM, not like for like).
    /// Package-manager hygiene (`--no-install-recommends`, cache cleanup) is DF010/DF011.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use minimal base images (alpine, distroless) to reduce attack surface" and
    /// "Remove package managers and unnecessary tools from production images". CIS Docker
    /// Benchmark 4.3 (no unnecessary packages).
    pub struct FullBaseImage => "DF009", "full-base-image", Dockerfile, None;
}

/// Tag words that already name a small variant.
const SMALL_TAGS: &[&str] = &["slim", "alpine", "distroless", "minimal", "micro", "jre"];

/// The concrete variant for a plain-version tag (`3.12` + `python:<version>-slim` → `3.12-slim`).
fn concrete_tag(pattern: &str, image: &ImageName) -> Option<String> {
    let (name, tag_pattern) = pattern.split_once(':')?;
    if name != image.short() || pattern.contains(' ') {
        return None;
    }
    let tag = image.tag.as_deref()?;
    if tag.contains('-') || tag == "latest" {
        return None;
    }
    let out = tag_pattern
        .replace("<version>", tag)
        .replace("<release>", tag);
    (!out.contains('<')).then_some(out)
}

fn check(df: &Dockerfile) -> Vec<Finding> {
    let a = Analysis::new(df);
    let Some(stage) = a.final_stage() else {
        return Vec::new();
    };
    let family = a.family(stage);
    if matches!(
        family,
        Family::Windows | Family::Scratch | Family::Distroless
    ) {
        return Vec::new();
    }
    let mut findings = Vec::new();
    if let (Base::Image(image), false) = (a.root_base(stage), family == Family::Alpine) {
        let tag = image.tag.as_deref().unwrap_or("").to_ascii_lowercase();
        let slim = knowledge::slim_variant(image);
        // php's Apache variants have no Alpine counterpart (the small variant is FPM, another
        // server architecture): not a like-for-like suggestion.
        let like_for_like = |p: &&str| !(p.contains("fpm") && tag.contains("apache"));
        if let Some(pattern) = slim
            .as_deref()
            .filter(like_for_like)
            .filter(|_| !SMALL_TAGS.iter().any(|t| tag.contains(t)))
        {
            let from = &df.instructions[a.stages[a.root_stage(stage)].from];
            let written = from.from_image();
            let range = written.as_ref().map_or(from.range, |i| i.range);
            let concrete = concrete_tag(pattern, image);
            let suggestion = concrete.as_ref().map_or_else(
                || format!("`{pattern}`"),
                |t| format!("`{}:{t}`", image.short()),
            );
            let edits = match (&concrete, written.as_ref().and_then(|w| w.tag.clone())) {
                // Only when the tag is written literally (not through an ARG).
                (Some(t), Some((written_tag, tag_range))) if !written_tag.contains('$') => {
                    vec![Edit::replace(tag_range, t.clone())]
                }
                _ => Vec::new(),
            };
            let shown = match &image.tag {
                Some(t) => format!("{}:{t}", image.short()),
                None => image.short(),
            };
            findings.push(
                Finding::new(
                    FullBaseImage::CODE,
                    FullBaseImage::NAME,
                    range,
                    format!(
                        "The final image is built on the full image `{shown}`; consider a smaller variant: {suggestion}"
                    ),
                )
                .with_fix(Fix::display_only(format!("Use {suggestion}"), edits)),
            );
        }
    }
    if a.stages.len() == 1 {
        let packages = a.packages(stage);
        let mut by_instruction: Vec<(usize, Vec<String>)> = Vec::new();
        for p in packages
            .iter()
            .filter(|p| knowledge::BUILD_TOOLS.contains(&p.name.as_str()))
        {
            match by_instruction.iter_mut().find(|(n, _)| *n == p.instruction) {
                Some((_, names)) if !names.contains(&p.name) => names.push(p.name.clone()),
                Some(_) => {}
                None => by_instruction.push((p.instruction, vec![p.name.clone()])),
            }
        }
        for (n, names) in by_instruction {
            let list = names
                .iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ");
            findings.push(
                Finding::new(
                    FullBaseImage::CODE,
                    FullBaseImage::NAME,
                    df.instructions[n].range,
                    format!(
                        "The final image keeps build tools installed here ({list}) in a single-stage build; if they are only needed to build, move them to a build stage"
                    ),
                )
                .with_fix(Fix::display_only(
                    "Build in a first stage (`FROM … AS build`) and copy only the artifacts into a slim final stage (`COPY --from=build …`)",
                    Vec::new(),
                )),
            );
        }
    }
    findings
}

impl Check for FullBaseImage {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        match dockerfile(ctx) {
            Some(df) => check(df),
            None => Vec::new(),
        }
    }
}
