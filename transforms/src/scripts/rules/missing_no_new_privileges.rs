use crate::compose::missing_no_new_privileges::no_new_privileges;
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::registry::{Check, Context};

use super::{absence_judgement, fix_of, not_edited, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags container commands without `--security-opt no-new-privileges` (the forms
    /// `no-new-privileges`, `no-new-privileges:true`, `no-new-privileges=true` count; as in Docker
    /// the last one wins, so a later `no-new-privileges:false` is a finding) and adds
    /// `--security-opt no-new-privileges` before the image, on a line of its own when the command
    /// puts its flags on continuation lines, written `--security-opt=no-new-privileges` when the
    /// command writes its flags with `=`.
    ///
    /// ## Why is this bad?
    /// Without `no-new-privileges`, a process in the container can gain privileges through setuid / setgid binaries or file capabilities (`sudo`, `su`, a planted setuid shell), which turns a foothold into root.
    ///
    /// ## Example
    /// ```sh
    /// docker run -d --name web \
    ///   nginx:1.27
    /// ```
    /// becomes
    /// ```sh
    /// docker run -d --name web \
    ///   --security-opt no-new-privileges \
    ///   nginx:1.27
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: the flag only stops privilege *gain* at `execve`; entrypoints that start as root and
    /// switch users with gosu, su-exec or setpriv keep working. What breaks is a non-root process
    /// relying on a setuid binary or file capabilities (`sudo`, `ping` where it is setuid, a binary
    /// given `setcap cap_net_bind_service`): images the knowledge base knows to do that are
    /// reported without a fix. A command whose flags are not all known (`$DOCKER_OPTS`, an
    /// unknown flag) is reported without a fix: the expansion may already set it. A make variable
    /// that holds only the start of a command is not judged.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use `--security-opt=no-new-privileges` to prevent privilege escalation". CIS
    /// Docker Benchmark v1.7 5.26; compose equivalent DC003.
    pub struct MissingNoNewPrivileges => "DR004", "missing-no-new-privileges", group Scripts, Sometimes;
}

impl Check for MissingNoNewPrivileges {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in sites(ctx) {
            let run = &site.run;
            let Some(opaque) = absence_judgement(run) else {
                continue;
            };
            let settings: Vec<_> = run
                .flags_named("security-opt")
                .filter_map(|f| no_new_privileges(f.text()).map(|on| (f, on)))
                .collect();
            if settings.last().is_some_and(|(_, on)| *on) {
                continue;
            }
            let range = run.range();
            let disabled = settings.last().map(|(f, _)| *f);
            let mut message = match disabled {
                Some(f) => format!(
                    "The container turns `no-new-privileges` off (`--security-opt {}`): processes can gain privileges through setuid binaries and file capabilities",
                    f.text()
                ),
                None => "The container does not set `--security-opt no-new-privileges`: processes can gain privileges through setuid binaries and file capabilities".to_owned(),
            };
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
            if let Some(f) = &needs.facts {
                // Only a process that *starts* as a non-root user needs file capabilities or a
                // setuid binary; an entrypoint that starts as root and switches users with gosu
                // or su-exec already holds its privileges.
                let starts_non_root = site.non_root_user().is_some()
                    || (run.last("user").is_none()
                        && f.user
                            .as_deref()
                            .is_some_and(|u| !crate::needs::is_root_user(u) && !u.contains('$')));
                let file_caps =
                    starts_non_root && f.cap_add.as_ref().is_some_and(|c| !c.is_empty());
                let setuid = matches!(f.switch_user.as_deref(), Some("sudo" | "capsh"));
                if let Some(why) = &f.no_new_privileges_breaks {
                    message.push_str(&format!(
                        "; but `no-new-privileges` would stop `{}` from working: {why}{}, so there is no fix",
                        needs.subject,
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
                if file_caps || setuid {
                    message.push_str(&format!(
                        "; but `no-new-privileges` would stop `{}` from working: it runs as a non-root user and relies on {}{}, so there is no fix",
                        needs.subject,
                        if setuid { format!("`{}` to gain its privileges", f.switch_user.clone().unwrap_or_default()) } else { format!("file capabilities ({})", f.cap_add.clone().unwrap_or_default().join(", ")) },
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
            }
            let (edit, title) = match disabled {
                Some(f) => {
                    // `no-new-privileges:false` → `:true`, keeping the separator.
                    let sep = if f.text().contains('=') { "=" } else { ":" };
                    (
                        run.replace_value(f, &format!("no-new-privileges{sep}true")),
                        "Set `no-new-privileges:true`".to_owned(),
                    )
                }
                None => (
                    run.insert_before_image(
                        ctx.text,
                        &[run.flag_text("security-opt", Some("no-new-privileges"))],
                    ),
                    "Add `--security-opt no-new-privileges`".to_owned(),
                ),
            };
            let fix = edit.map(|e| fix_of(Applicability::Unsafe, title, vec![e]));
            out.push(report(
                ctx,
                &site,
                (Self::CODE, Self::NAME),
                range,
                message,
                fix,
            ));
        }
        out
    }
}
