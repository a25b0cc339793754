use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::registry::{Check, Context};

use super::{fix_of, remove_all, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags `docker run` / `docker create` / `podman run` commands with `--privileged` (in shell
    /// scripts, Makefile recipes, GitHub Actions `run:` steps, GitLab CI scripts, systemd
    /// `ExecStart=` lines and Markdown code blocks) and removes the flag, giving the container
    /// what its image is known to need instead (`--cap-add`, `--device`).
    ///
    /// ## Why is this bad?
    /// A privileged container gets every capability, every host device and no seccomp / AppArmor confinement: root in the container is root on the host.
    ///
    /// ## Example
    /// ```sh
    /// docker run -d --privileged --name vpn weejewel/wg-easy:14
    /// ```
    /// becomes
    /// ```sh
    /// docker run -d --name vpn --cap-add NET_ADMIN --cap-add SYS_MODULE weejewel/wg-easy:14
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when what the image needs instead is known (no guessing: the
    /// knowledge base's `privileged-needs`, or an `[[images]]` entry of `.dockharden.toml`): the
    /// flag goes and exactly those capabilities and devices are given. For other images the
    /// removal is display-only: grant what the container uses (`--cap-add`, `--device`, a
    /// specific `--security-opt` profile) yourself. Commands inside a `sh -c '...'` string, or that
    /// cannot be read with certainty (an unterminated quote), are reported without a fix; Markdown
    /// examples get the fix as a suggestion only.
    ///
    /// ## Options
    /// None (the image facts come from `[[images]]` entries).
    ///
    /// ## References
    /// Guideline: "DO NOT use `--privileged` flag in container configurations". CIS Docker Benchmark
    /// v1.7 5.5 (privileged containers are not used); compose equivalent DC004.
    pub struct PrivilegedContainer => "DR001", "privileged-container", group Scripts, Sometimes;
}

impl Check for PrivilegedContainer {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in sites(ctx) {
            let run = &site.run;
            if !run.is_on("privileged") {
                continue;
            }
            let flags: Vec<_> = run.flags_named("privileged").collect();
            let last = flags.last().copied().expect("a privileged flag");
            let range = run.flag_range(last);
            let mut message = format!(
                "`{} {}` runs privileged: every capability, every host device, no seccomp/AppArmor confinement. Remove `--privileged` and grant only what is needed (`--cap-add`, `--device`)",
                run.tool.as_str(),
                if run.create { "create" } else { "run" }
            );
            let Some(mut edits) = remove_all(ctx.text, run, &flags) else {
                out.push(report(
                    ctx,
                    &site,
                    (Self::CODE, Self::NAME),
                    range,
                    message,
                    None,
                ));
                continue;
            };
            let needs = site.needs(ctx);
            let instead = needs
                .facts
                .as_ref()
                .and_then(|f| f.privileged_needs.clone());
            let (app, title) = match &instead {
                Some(p) => {
                    let mut add: Vec<String> = Vec::new();
                    let granted: Vec<String> = run
                        .flags_named("cap-add")
                        .map(|f| crate::knowledge::normalize_cap(f.text()))
                        .collect();
                    for c in &p.cap_add {
                        if !granted.contains(&crate::knowledge::normalize_cap(c)) {
                            add.push(run.flag_text("cap-add", Some(c)));
                        }
                    }
                    let devices: Vec<String> = run
                        .flags_named("device")
                        .map(|f| f.text().to_owned())
                        .collect();
                    for d in &p.devices {
                        if !devices
                            .iter()
                            .any(|x| x.split(':').next() == Some(d.as_str()))
                        {
                            add.push(run.flag_text("device", Some(d)));
                        }
                    }
                    let mut given = Vec::new();
                    if !p.cap_add.is_empty() {
                        given.push(format!("capabilities {}", p.cap_add.join(", ")));
                    }
                    if !p.devices.is_empty() {
                        given.push(format!("devices {}", p.devices.join(", ")));
                    }
                    if given.is_empty() {
                        message.push_str(&format!(
                            " (`{}` needs nothing instead{})",
                            needs.subject,
                            needs.because()
                        ));
                    } else {
                        message.push_str(&format!(
                            " (`{}` needs {} instead{})",
                            needs.subject,
                            given.join(" and "),
                            needs.because()
                        ));
                    }
                    if !add.is_empty() {
                        match run.insert_before_image(ctx.text, &add) {
                            Some(e) => edits.push(e),
                            None => {
                                out.push(report(
                                    ctx,
                                    &site,
                                    (Self::CODE, Self::NAME),
                                    range,
                                    message,
                                    None,
                                ));
                                continue;
                            }
                        }
                    }
                    (
                        Applicability::Unsafe,
                        if add.is_empty() {
                            "Remove `--privileged`".to_owned()
                        } else {
                            format!("Replace `--privileged` by {}", add.join(" "))
                        },
                    )
                }
                None => {
                    message.push_str(&format!(
                        " (display only: what it needs instead of `--privileged` is not known: {}; describe it with `privileged-needs` in an `[[images]]` entry of .dockharden.toml)",
                        needs.unknown.clone().unwrap_or_else(|| format!(
                            "the knowledge base does not say what `{}` needs instead",
                            needs.subject
                        ))
                    ));
                    (
                        Applicability::DisplayOnly,
                        "Remove `--privileged`".to_owned(),
                    )
                }
            };
            let fix = fix_of(app, title, edits);
            out.push(report(
                ctx,
                &site,
                (Self::CODE, Self::NAME),
                range,
                message,
                Some(fix),
            ));
        }
        out
    }
}
