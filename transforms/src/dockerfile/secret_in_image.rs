use crate::declare_transform;
use crate::dockerfile::dockerfile;
use crate::dockerfile::syntax::{Dockerfile, Instruction, KeyValue};
use crate::dockerfile::unpinned_base_image::expanded_from_images;
use crate::edit::Edit;
use crate::finding::{mask_secret, Finding};
use crate::fix::Fix;
use crate::knowledge::{
    family_of, is_credential_name, is_credential_value, is_hardcoded_secret, Family, ImageName,
};
use crate::registry::{Check, Context};
use crate::text::{line_ending, TextRange};

declare_transform! {
    /// ## What it does
    /// Flags `ENV` and `ARG` instructions that hard-code a credential: a credential-like name
    /// (`DB_PASSWORD`, `GITHUB_TOKEN`, `API_KEY`, …) with a literal value, or a value that looks like a
    /// credential under any name (AWS `AKIA…` key ids, GitHub `ghp_…` / GitLab / Slack / Stripe tokens,
    /// PEM private keys). `LABEL` values that look like a credential are flagged too. A build argument
    /// used by `RUN` is moved to a BuildKit secret mount.
    ///
    /// ## Why is this bad?
    /// A secret written in a Dockerfile ends up in the image: `ENV` values in its config, `ARG` values in its history (`docker history`), readable by anyone who can pull it.
    ///
    /// The value is also in the Dockerfile's version history: rotate it, whatever the fix.
    /// An `ARG` or `ENV` with a credential-like name but no value, an empty value or a variable
    /// (`ENV TOKEN=$TOKEN`, `ARG TOKEN`) is not a finding: the value comes from outside.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ARG GITHUB_TOKEN=ghp_…
    /// RUN git clone https://$GITHUB_TOKEN@github.com/org/private.git
    /// ```
    /// becomes
    /// ```dockerfile
    /// # syntax=docker/dockerfile:1
    /// FROM alpine:3.20
    /// RUN --mount=type=secret,id=github_token,env=GITHUB_TOKEN git clone https://$GITHUB_TOKEN@github.com/org/private.git
    /// ```
    /// built with `docker build --secret id=github_token,env=GITHUB_TOKEN .`
    ///
    /// ## Fix safety
    /// `ARG` inside a stage, used (`$NAME` / `${NAME}`) only by `RUN` instructions after it in the same
    /// stage: Unsafe fix. The `ARG` declaration is removed (a remaining `ARG NAME` would set the same
    /// variable from `--build-arg` and compete with the secret) and each of those `RUN`s gets
    /// `--mount=type=secret,id=<name>,env=<NAME>`, so the value is in the environment of that command
    /// only and never in a layer or the history. The build then needs
    /// `--secret id=<name>,env=<NAME>` (or `src=<file>`): without it the variable is unset. A `RUN`
    /// that only reads the variable implicitly (a script that reads its environment) is not rewritten:
    /// review the diff.
    ///
    /// `env=` in a secret mount needs the Dockerfile frontend 1.10 or later: when the file has no
    /// `# syntax=` directive, the fix adds `# syntax=docker/dockerfile:1` at the top (latest 1.x;
    /// BuildKit then pulls the frontend image). When the directive pins an older or unknown frontend,
    /// the fix is display-only.
    ///
    /// Display-only (the suggested removal is shown, never applied): `ENV` (the running container
    /// probably needs the value: pass it at run time from a Docker/Kubernetes secret or an env file, or
    /// use a secret mount if only a build step needs it), `LABEL`, a global `ARG` (before the first
    /// `FROM`), `ONBUILD`, an `ARG` also used by another instruction (`ENV`, `COPY`, `LABEL`, …) or not
    /// used by any `RUN`, and Windows stages (escape directive `` ` `` or a Windows base image: secret
    /// mounts are not supported there).
    ///
    /// The secret value is never printed: messages and titles show at most its first two characters
    /// (`gh****`).
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT include secrets, passwords, or API keys in Dockerfiles", "DO NOT embed
    /// secrets in environment variables or Dockerfile layers", "Use Docker Secrets". BuildKit build
    /// check `SecretsUsedInArgOrEnv`. Dockerfile reference: `RUN --mount=type=secret` (`env=` since
    /// Dockerfile 1.10).
    pub struct SecretInImage => "DF005", "secret-in-image", Dockerfile, Sometimes;
}

/// Whether `text` refers to the variable `name` (`$NAME` or `${NAME…}`).
#[must_use]
pub(crate) fn references(text: &str, name: &str) -> bool {
    let b = text.as_bytes();
    let n = name.as_bytes();
    let mut i = 0;
    while let Some(p) = text[i..].find('$') {
        let at = i + p + 1;
        let s = if b.get(at) == Some(&b'{') { at + 1 } else { at };
        if b.len() >= s + n.len() && &b[s..s + n.len()] == n {
            let next = b.get(s + n.len()).copied();
            if !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
                return true;
            }
        }
        i = at;
    }
    false
}

/// Whether the `# syntax=` frontend accepts `RUN --mount=type=secret,env=…` (Dockerfile 1.10+):
/// Some(true) / Some(false) when known, None for another or unknown frontend.
fn frontend_supports_secret_env(syntax: &str) -> Option<bool> {
    let image = ImageName::parse(syntax.trim());
    let short = image.short();
    if short != "docker/dockerfile" && short != "docker/dockerfile-upstream" {
        return None;
    }
    if image.digest.is_some() {
        return None; // a pinned build of unknown version
    }
    let Some(tag) = image.tag.as_deref() else {
        return Some(true); // latest
    };
    let version = tag.split('-').next().unwrap_or("");
    if matches!(version, "latest" | "labs" | "master" | "1") {
        return Some(true);
    }
    let mut parts = version.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = match parts.next() {
        Some(m) => m.parse().ok()?,
        None => return Some(major > 1),
    };
    Some(major > 1 || (major == 1 && minor >= 10))
}

/// The edit that removes `kv` from `target` (the whole instruction `outer`, which is `target` or the
/// `ONBUILD` around it, when it is its only pair).
fn remove_pair(outer: &Instruction, target: &Instruction, kv: &KeyValue) -> Edit {
    let pairs = target.key_values();
    if pairs.len() <= 1 {
        return Edit::delete(outer.full_range);
    }
    let idx = pairs.iter().position(|p| p.range == kv.range).unwrap_or(0);
    if idx == 0 {
        Edit::delete(TextRange::new(kv.range.start, pairs[1].range.start))
    } else {
        Edit::delete(TextRange::new(pairs[idx - 1].range.end, kv.range.end))
    }
}

/// Whether stage `stage_from` (index of its FROM) builds a Windows image.
fn windows_stage(df: &Dockerfile, images: &[Option<String>], stage_from: usize) -> bool {
    if df.escape == '`' {
        return true;
    }
    let image = images
        .get(stage_from)
        .cloned()
        .flatten()
        .or_else(|| df.instructions[stage_from].from_image().map(|r| r.text));
    image.is_some_and(|i| {
        let l = i.to_ascii_lowercase();
        family_of(&ImageName::parse(&i)) == Family::Windows
            || l.contains("windows")
            || l.contains("nanoserver")
            || l.contains("servercore")
    })
}

/// The secret mount flag for `name`.
fn mount_flag(name: &str) -> String {
    format!(
        "--mount=type=secret,id={},env={name}",
        name.to_ascii_lowercase()
    )
}

/// Whether `ins` already mounts the secret into `name`.
fn has_secret_env_mount(ins: &Instruction, name: &str) -> bool {
    ins.flags.iter().any(|f| {
        f.name == "mount"
            && f.value.as_deref().is_some_and(|v| {
                v.split(',').any(|p| p == "type=secret")
                    && v.split(',').any(|p| p == format!("env={name}"))
            })
    })
}

/// Does `ins` (its logical line, heredoc bodies included) refer to `name`?
fn instruction_uses(ins: &Instruction, name: &str) -> bool {
    references(&ins.logical.text, name) || ins.heredocs.iter().any(|h| references(&h.body, name))
}

/// The applicable fix for an `ARG` pair, or the reason there is none.
fn arg_fix(
    ctx: &Context<'_>,
    df: &Dockerfile,
    images: &[Option<String>],
    idx: usize,
    kv: &KeyValue,
) -> Result<(Vec<Edit>, String), String> {
    let ins = &df.instructions[idx];
    let name = &kv.key;
    let Some(stage) = df
        .stages()
        .into_iter()
        .find(|s| s.instructions.contains(&idx))
    else {
        return Err(format!(
            "ARG {name} is global (before the first FROM): move it into the stage that uses it"
        ));
    };
    if windows_stage(df, images, stage.from) {
        return Err("secret mounts are not supported for Windows images".into());
    }
    let mut runs = Vec::new();
    for later in &df.instructions[idx + 1..stage.instructions.end] {
        if !instruction_uses(later, name) {
            continue;
        }
        if later.keyword != "RUN" {
            let what = match &later.onbuild {
                Some(inner) => format!("ONBUILD {}", inner.keyword),
                None => later.keyword.clone(),
            };
            return Err(format!("{name} is also used by {what}"));
        }
        runs.push(later);
    }
    if runs.is_empty() {
        return Err(format!("no RUN instruction of the stage uses ${name}"));
    }
    let mut edits = vec![remove_pair(ins, ins, kv)];
    let flag = mount_flag(name);
    for run in runs {
        if !has_secret_env_mount(run, name) {
            edits.push(Edit::insert(run.keyword_range.end, format!(" {flag}")));
        }
    }
    let mut extra = String::new();
    match df.directives.iter().rev().find(|d| d.name == "syntax") {
        None => {
            let at = if df.bom { '\u{feff}'.len_utf8() } else { 0 };
            edits.push(Edit::insert(
                at,
                format!("# syntax=docker/dockerfile:1{}", line_ending(ctx.text)),
            ));
            extra = " and add `# syntax=docker/dockerfile:1`".into();
        }
        Some(d) => match frontend_supports_secret_env(&d.value) {
            Some(true) => {}
            Some(false) => {
                return Err(format!(
                    "`# syntax={}` is older than docker/dockerfile:1.10, which `env=` in secret mounts needs",
                    d.value
                ))
            }
            None => {
                return Err(format!(
                    "`# syntax={}` may not support `env=` in secret mounts (docker/dockerfile:1.10+)",
                    d.value
                ))
            }
        },
    }
    let id = name.to_ascii_lowercase();
    Ok((
        edits,
        format!(
            "Remove ARG {name} and mount it as a BuildKit secret in the RUN instructions that use it{extra} (the build then needs `--secret id={id},env={name}`)"
        ),
    ))
}

fn check_pair(
    ctx: &Context<'_>,
    df: &Dockerfile,
    images: &[Option<String>],
    idx: usize,
    kv: &KeyValue,
    findings: &mut Vec<Finding>,
) {
    let outer = &df.instructions[idx];
    let ins = outer.onbuild.as_deref().unwrap_or(outer);
    let Some(value) = kv.value.as_deref() else {
        return;
    };
    let keyword = ins.keyword.as_str();
    let flagged = match keyword {
        "ENV" | "ARG" => is_hardcoded_secret(&kv.key, value),
        "LABEL" => is_credential_value(value),
        _ => false,
    };
    if !flagged {
        return;
    }
    let masked = mask_secret(value.trim());
    let why = match keyword {
        "ARG" => "build arguments are recorded in the image history",
        "ENV" => "it is stored in the image configuration",
        _ => "labels are stored in the image configuration",
    };
    let what = if is_credential_name(&kv.key) && keyword != "LABEL" {
        "has a hard-coded credential"
    } else {
        "holds a value that looks like a credential"
    };
    let message = format!("{keyword} `{}` {what} (`{masked}`): {why}", kv.key);
    let mut finding = Finding::new(SecretInImage::CODE, SecretInImage::NAME, kv.range, message);
    if let Some(r) = kv.value_range {
        finding = finding.with_secret(r);
    }
    let removal = vec![remove_pair(outer, ins, kv)];
    let fix = if keyword == "ARG" && outer.onbuild.is_none() {
        match arg_fix(ctx, df, images, idx, kv) {
            Ok((edits, title)) => Fix::unsafe_(title, edits),
            Err(reason) => Fix::display_only(
                format!(
                    "Remove the default of ARG {} and pass the value as a BuildKit secret (`RUN --mount=type=secret,…`); not applied: {reason}",
                    kv.key
                ),
                removal,
            ),
        }
    } else if keyword == "ENV" {
        Fix::display_only(
            format!(
                "Remove ENV {} from the image and provide it at run time (a Docker or Kubernetes secret, an env file), or as a BuildKit secret mount if only a build step needs it",
                kv.key
            ),
            removal,
        )
    } else {
        Fix::display_only(
            format!("Remove {keyword} {} and rotate the credential", kv.key),
            removal,
        )
    };
    findings.push(finding.with_fix(fix));
}

impl Check for SecretInImage {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(df) = dockerfile(ctx) else {
            return Vec::new();
        };
        let images = expanded_from_images(df, ctx.text);
        let mut findings = Vec::new();
        for (idx, ins) in df.instructions.iter().enumerate() {
            let target = ins.onbuild.as_deref().unwrap_or(ins);
            if !matches!(target.keyword.as_str(), "ENV" | "ARG" | "LABEL") {
                continue;
            }
            for kv in target.key_values() {
                check_pair(ctx, df, &images, idx, &kv, &mut findings);
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_references() {
        assert!(references("echo $TOKEN", "TOKEN"));
        assert!(references("echo ${TOKEN}x", "TOKEN"));
        assert!(references("echo ${TOKEN:-x}", "TOKEN"));
        assert!(!references("echo $TOKENS", "TOKEN"));
        assert!(!references("echo TOKEN", "TOKEN"));
        assert!(references("a=$$TOKEN", "TOKEN"));
    }

    #[test]
    fn frontends() {
        assert_eq!(
            frontend_supports_secret_env("docker/dockerfile:1"),
            Some(true)
        );
        assert_eq!(
            frontend_supports_secret_env("docker/dockerfile:1.10"),
            Some(true)
        );
        assert_eq!(
            frontend_supports_secret_env("docker/dockerfile:1.9-labs"),
            Some(false)
        );
        assert_eq!(
            frontend_supports_secret_env("docker.io/docker/dockerfile:1.4.3"),
            Some(false)
        );
        assert_eq!(
            frontend_supports_secret_env("docker/dockerfile:1.12.0"),
            Some(true)
        );
        assert_eq!(
            frontend_supports_secret_env("docker/dockerfile"),
            Some(true)
        );
        assert_eq!(
            frontend_supports_secret_env("example.com/my/frontend"),
            None
        );
        assert_eq!(
            frontend_supports_secret_env("docker/dockerfile:1@sha256:abc"),
            None
        );
    }
}
