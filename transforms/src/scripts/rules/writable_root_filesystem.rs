use crate::compose::scope::path_within;
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::registry::{Check, Context};

use super::{absence_judgement, fix_of, not_edited, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags container commands without `--read-only` and adds it, with a `--tmpfs` for `/tmp` and
    /// for the scratch paths the image is known to write at run time (the knowledge base's
    /// `tmpfs`: `/var/cache/nginx` and `/var/run` for nginx, `/var/run/postgresql` for postgres;
    /// `:exec` where the image runs files from them), plus the variables it needs to run read-only
    /// (`-e S6_READ_ONLY_ROOT=1` for s6-overlay images). Paths the command already mounts (`-v`,
    /// `--mount`, `--tmpfs`) are not added.
    ///
    /// ## Why is this bad?
    /// A writable root filesystem lets an intruder replace binaries, drop tools and persist inside the container; a read-only one confines writes to the volumes and tmpfs mounts you declared.
    ///
    /// ## Example
    /// ```sh
    /// docker run -d -p 8080:80 nginx:1.27
    /// ```
    /// becomes
    /// ```sh
    /// docker run -d -p 8080:80 --read-only --tmpfs /tmp --tmpfs /var/cache/nginx --tmpfs /var/run nginx:1.27
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when the image is known to run read-only (no guessing: the
    /// knowledge base's `read-only = true`, or an `[[images]]` entry with `tmpfs`). An image known
    /// not to run read-only is reported without a fix, with the reason; an unknown image gets a
    /// display-only suggestion and `fix --interactive` asks which paths it writes. Paths where the
    /// image keeps state (`state`) are never made a tmpfs: when the command mounts nothing there,
    /// the fix is display-only until a volume is added. Paths the image writes only in some setups
    /// (`writes-when`: linuxserver images rewrite `/etc/passwd` when `-e PUID=…` is given, so
    /// under `--read-only` they would silently run as uid 911) make the fix display-only when the
    /// command's flags meet the condition (`-e NAME=value`, `-e NAME`, or an `--env-file`, which may
    /// set anything). A command whose flags are not all known is reported without a fix.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use read-only root filesystems (`--read-only`)" and "Use `--tmpfs` for temporary
    /// writable storage instead of persistent volumes". CIS Docker Benchmark v1.2.0 5.12; compose
    /// equivalent DC008.
    pub struct WritableRootFilesystem => "DR006", "writable-root-filesystem", group Scripts, Sometimes;
}

impl Check for WritableRootFilesystem {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in sites(ctx) {
            let run = &site.run;
            let Some(opaque) = absence_judgement(run) else {
                continue;
            };
            if run.is_on("read-only") {
                continue;
            }
            let range = run.range();
            let mut message = "The container's root filesystem is writable (no `--read-only`): an intruder can replace binaries and persist".to_owned();
            if let Some(why) = opaque {
                out.push(not_edited(
                    ctx,
                    &site,
                    (Self::CODE, Self::NAME),
                    message,
                    &why,
                    "it",
                ));
                continue;
            }
            let needs = site.needs(ctx);
            let facts = needs.facts();
            let targets = site.mount_targets();
            let covered = |p: &str| targets.iter().any(|t| path_within(p, t));
            let state = facts.state.clone().unwrap_or_default();
            let exec = facts.tmpfs_exec.clone().unwrap_or_default();
            let mut tmpfs: Vec<String> = Vec::new();
            for p in
                std::iter::once("/tmp".to_owned()).chain(facts.tmpfs.clone().unwrap_or_default())
            {
                if covered(&p)
                    || state.iter().any(|s| path_within(&p, s))
                    || tmpfs
                        .iter()
                        .any(|t| t.split(':').next() == Some(p.as_str()))
                {
                    continue;
                }
                tmpfs.push(if exec.contains(&p) {
                    format!("{p}:exec")
                } else {
                    p
                });
            }
            let blocked: Vec<String> = state
                .iter()
                .filter(|p| !covered(p))
                .filter(|p| {
                    !facts
                        .volumes
                        .as_ref()
                        .is_some_and(|v| v.iter().any(|d| path_within(p, d)))
                })
                .cloned()
                .collect();
            let env = facts.read_only_env_missing(|k| {
                run.flags_named("env")
                    .any(|f| f.text().split('=').next() == Some(k))
            });
            // `-e NAME=value` sets NAME to value; `-e NAME` passes the caller's value through and
            // an `--env-file` may set anything: both count as set.
            let env_file = run.flags_named("env-file").next().is_some();
            let conditional = facts.conditional_writes(
                &targets,
                |v| {
                    env_file
                        || run.flags_named("env").any(|f| {
                            let t = f.text();
                            match t.split_once('=') {
                                Some((n, val)) => n == v && !val.is_empty(),
                                None => t == v,
                            }
                        })
                },
                covered,
            );
            let mut flags = vec![run.flag_text("read-only", None)];
            flags.extend(tmpfs.iter().map(|t| run.flag_text("tmpfs", Some(t))));
            flags.extend(env.iter().map(|(k, v)| format!("-e {k}={v}")));
            let mut title = "Add `--read-only`".to_owned();
            if !tmpfs.is_empty() {
                title.push_str(&format!(" with `--tmpfs` {}", tmpfs.join(", ")));
            }
            let (app, ask) = match facts.read_only {
                Some(true) => {
                    message.push_str(&format!(
                        "; `{}` runs read-only with tmpfs {}{}",
                        needs.subject,
                        if tmpfs.is_empty() {
                            "mounts it already has".to_owned()
                        } else {
                            tmpfs.join(", ")
                        },
                        needs.because()
                    ));
                    if !blocked.is_empty() {
                        message.push_str(&format!(
                            " (display only: it keeps state in {}, which the command mounts nothing on: add a volume there first)",
                            blocked.join(", ")
                        ));
                        (Applicability::DisplayOnly, false)
                    } else if !conditional.is_empty() {
                        message.push_str(&format!(
                            " (display only: in this setup it also writes {}: give it a volume or `--tmpfs` there first)",
                            conditional
                                .iter()
                                .map(|(p, why)| format!("`{p}` ({why})"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                        (Applicability::DisplayOnly, false)
                    } else {
                        (Applicability::Unsafe, false)
                    }
                }
                Some(false) => {
                    message.push_str(&format!(
                        "; `{}` cannot run read-only: {}{}, so there is no fix",
                        needs.subject,
                        facts
                            .read_only_why
                            .clone()
                            .unwrap_or_else(|| "it writes into its root filesystem".into()),
                        needs.because()
                    ));
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
                None => {
                    message.push_str(&format!(
                        " (display only: {}; say which paths it writes with `tmpfs` in an `[[images]]` entry of .dockharden.toml, or answer in `fix --interactive`)",
                        needs.unknown.clone().unwrap_or_else(|| format!(
                            "which paths `{}` writes at run time is not known",
                            needs.subject
                        ))
                    ));
                    (Applicability::DisplayOnly, true)
                }
            };
            let fix = run
                .insert_before_image(ctx.text, &flags)
                .map(|e| fix_of(app, title, vec![e]));
            let mut f = report(ctx, &site, (Self::CODE, Self::NAME), range, message, fix);
            if ask {
                if let Some(need) = site.question(
                    &needs,
                    "images.tmpfs",
                    format!(
                        "Paths `{}` writes at run time outside its volumes (made tmpfs), e.g. /tmp /var/run, or `none`",
                        needs.subject
                    ),
                ) {
                    f = f.with_need(need);
                }
            }
            out.push(f);
        }
        out
    }
}
