use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::images::Facts;
use crate::needs::is_root_user;
use crate::registry::{Check, Context};

use super::{absence_judgement, fix_of, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags container commands that run as root: `-u root`, `-u 0`, `--user=0:0`, or no `-u` for
    /// an image known to run as root without dropping privileges itself, or for an image nobody
    /// knows (display-only). The fix sets `-u` to a user the image is known to work as, or
    /// removes an explicit root user that only obscures an image that switches users itself.
    /// Not flagged: images that run as a non-root user already, images whose entrypoint starts as
    /// root and drops privileges itself (postgres, redis, nginx, ...), a `-u` from a variable.
    ///
    /// ## Why is this bad?
    /// A process running as root in a container is root on the host as soon as it escapes (a kernel or runtime bug, a mounted socket, a writable host path), and can rewrite every file of its image.
    ///
    /// ## Example
    /// ```sh
    /// docker run -d -u root redis:7.4
    /// ```
    /// becomes (redis starts as root and switches to its `redis` user itself)
    /// ```sh
    /// docker run -d redis:7.4
    /// ```
    ///
    /// ## Fix safety
    /// Setting `-u` is Unsafe, and applied only with a user the image is known to work as (the
    /// knowledge base's `user-override`, or an `[[images]]` entry), and only when the command
    /// mounts no volume whose files were written as root until now; otherwise the `-u
    /// <uid>:<gid>` of the configuration (`uid`, `gid`, default 10001) is shown as a suggestion.
    /// Removing `-u root` is Safe when the image starts as root anyway and switches users itself.
    /// A command whose flags are not all known is reported without a fix.
    ///
    /// ## Options
    /// `uid` and `gid`: the ids suggested when the image's user is not known.
    ///
    /// ## References
    /// Guideline: "Never run containers as root; use `docker run -u <user>`". CIS Docker Benchmark
    /// v1.7 4.1; compose equivalent DC012.
    pub struct RunsAsRoot => "DR007", "runs-as-root", group Scripts, Sometimes;
}

fn default_non_root(f: &Facts) -> bool {
    f.user
        .as_deref()
        .is_some_and(|u| !is_root_user(u) && !u.contains('$'))
}

fn drops(f: &Facts) -> bool {
    f.switch_user.as_deref().is_some_and(|s| s != "none")
}

impl Check for RunsAsRoot {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let ids = format!("{}:{}", ctx.settings.uid, ctx.settings.gid);
        for site in sites(ctx) {
            let run = &site.run;
            let explicit = run.last("user");
            if let Some(u) = explicit {
                if u.text().contains('$') || !is_root_user(u.text()) {
                    continue;
                }
            }
            let Some(opaque) = absence_judgement(run) else {
                if explicit.is_none() {
                    continue;
                }
                // A make variable that sets `-u root`: reported where it is written.
                let u = explicit.expect("checked");
                let message = format!("The container runs as root (`{} {}`)", u.written, u.text());
                out.push(report(
                    ctx,
                    &site,
                    (Self::CODE, Self::NAME),
                    run.flag_range(u),
                    message,
                    None,
                ));
                continue;
            };
            if explicit.is_none() && opaque.is_some() {
                // `$DOCKER_OPTS` may set the user.
                continue;
            }
            let needs = site.needs(ctx);
            let f = needs.facts();
            let known = needs.facts.is_some();
            let question = || {
                site.question(
                    &needs,
                    "images.user-override",
                    format!(
                        "A non-root user `{}` works as (uid:gid; its files and volumes must be accessible to it)",
                        needs.subject
                    ),
                )
            };
            let mounts = run
                .flags
                .iter()
                .any(|x| x.name == "volume" || x.name == "mount");
            let unknown_why = needs.unknown.clone().unwrap_or_else(|| {
                format!(
                    "which non-root user `{}` works as is not known{}",
                    needs.subject,
                    needs.because()
                )
            });
            let set = |value: &str| -> Option<crate::edit::Edit> {
                match explicit {
                    Some(u) => run.replace_value(u, value),
                    None => run.insert_before_image(ctx.text, &[format!("-u {value}")]),
                }
            };
            let (range, what) = match explicit {
                Some(u) => (
                    run.flag_range(u),
                    format!("The container runs as root (`{} {}`)", u.written, u.text()),
                ),
                None if f.user.is_none() => (
                    run.range(),
                    format!("The container may run as root (no `-u`, and which user image `{}` runs as by default is not known)", needs.subject),
                ),
                None => (
                    run.range(),
                    format!("The container runs as root (no `-u`, and image `{}` does not switch to another user)", needs.subject),
                ),
            };
            let (message, fix, ask) = if !known {
                if explicit.is_none() {
                    (
                        format!("The container may run as root: {unknown_why}; set `-u` to a non-root uid:gid (e.g. `-u {ids}`) once you know which one its files need"),
                        set(&ids).map(|e| fix_of(Applicability::DisplayOnly, format!("Run as `{ids}`"), vec![e])),
                        true,
                    )
                } else {
                    (
                        format!("{what}; {unknown_why}: set a non-root uid:gid (e.g. `{ids}`) once you know which one its files need"),
                        set(&ids).map(|e| fix_of(Applicability::DisplayOnly, format!("Run as `{ids}`"), vec![e])),
                        true,
                    )
                }
            } else if let Some(why) = &f.needs_root {
                (
                    format!(
                        "{what}; `{}` needs root: {why}{}, so it is not changed",
                        needs.subject,
                        needs.because()
                    ),
                    None,
                    false,
                )
            } else if let Some(u) = explicit.filter(|_| drops(&f) || default_non_root(&f)) {
                let safe = drops(&f) && !default_non_root(&f);
                let message = if safe {
                    format!("{what}: `{}` starts as root anyway and switches to its own user itself{}, which an explicit root user only obscures; remove it", needs.subject, needs.because())
                } else {
                    format!("{what} although `{}` runs as a non-root user by default{}; remove the override (and fix the ownership of its volumes if that is why it is there)", needs.subject, needs.because())
                };
                let app = if safe {
                    Applicability::Safe
                } else {
                    Applicability::Unsafe
                };
                (
                    message,
                    run.remove_flag(ctx.text, u).map(|e| {
                        fix_of(app, format!("Remove `{} {}`", u.written, u.text()), vec![e])
                    }),
                    false,
                )
            } else if explicit.is_none() && (drops(&f) || default_non_root(&f)) {
                continue;
            } else if f.user.is_none() && f.user_override.is_none() && explicit.is_none() {
                // (With a `user-override` known to work, it is set below whatever the default is.)
                (
                    format!("The container may run as root: which user `{}` runs as is not known{}; set `-u` to a non-root uid:gid (e.g. `-u {ids}`) once you know which one its files need", needs.subject, needs.because()),
                    set(&ids).map(|e| fix_of(Applicability::DisplayOnly, format!("Run as `{ids}`"), vec![e])),
                    true,
                )
            } else {
                let runtime = f.kind.as_deref() == Some("runtime");
                match &f.user_override {
                    Some(u) if !runtime => {
                        let same_uid = f.runs_as.as_ref().is_some_and(|r| {
                            u.split(':').next().and_then(|x| x.parse::<u32>().ok()) == Some(r.uid)
                        });
                        if mounts && !same_uid {
                            (
                                format!("{what}; `{u}` is known to work{}, but the data in its volumes was written as root until now: give it to that user first (`chown -R`), then apply", needs.because()),
                                set(u).map(|e| fix_of(Applicability::DisplayOnly, format!("Run as `{u}`"), vec![e])),
                                false,
                            )
                        } else {
                            (
                                format!("{what}; `{u}` is known to work{}; set it (files in its volumes must be accessible to that user, and ports below 1024 need Docker 20.10+ or NET_BIND_SERVICE)", needs.because()),
                                set(u).map(|e| fix_of(Applicability::Unsafe, format!("Run as `{u}`"), vec![e])),
                                false,
                            )
                        }
                    }
                    _ => {
                        let why = if runtime {
                            format!("`{}` runs whatever command it is given, so which user the application works as is not known", needs.subject)
                        } else {
                            format!(
                                "which non-root user `{}` works as is not known{}",
                                needs.subject,
                                needs.because()
                            )
                        };
                        (
                            format!("{what}; {why}: set `-u` to a non-root uid:gid (e.g. `-u {ids}`) once you know which one its files need"),
                            set(&ids).map(|e| fix_of(Applicability::DisplayOnly, format!("Run as `{ids}`"), vec![e])),
                            true,
                        )
                    }
                }
            };
            let mut message = message;
            let fix = match (&opaque, fix) {
                (Some(why), Some(_)) if explicit.is_none() => {
                    message.push_str(&format!(" (not edited: {why})"));
                    None
                }
                (_, fix) => fix,
            };
            let mut finding = report(ctx, &site, (Self::CODE, Self::NAME), range, message, fix);
            if ask {
                if let Some(need) = question() {
                    finding = finding.with_need(need);
                }
            }
            out.push(finding);
        }
        out
    }
}
