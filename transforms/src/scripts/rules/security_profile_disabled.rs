use crate::compose::missing_no_new_privileges::split_security_opt;
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::registry::{Check, Context};

use super::{fix_of, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags `--security-opt` flags that turn a kernel security profile off —
    /// `seccomp=unconfined`, `apparmor=unconfined`, `label=disable` (SELinux),
    /// `systempaths=unconfined` (unmasks `/proc` and `/sys` paths), with `=` or `:` — and removes
    /// them.
    ///
    /// ## Why is this bad?
    /// Docker's default seccomp, AppArmor and SELinux profiles block the system calls and file accesses that most container escapes use; turning them off gives a compromised process the kernel's whole attack surface.
    ///
    /// ## Example
    /// ```sh
    /// docker run --rm --security-opt seccomp=unconfined alpine:3.20 ./bench
    /// ```
    /// becomes
    /// ```sh
    /// docker run --rm alpine:3.20 ./bench
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: a workload that needs a system call the default seccomp profile blocks (some
    /// browsers' sandboxes, `io_uring`, debuggers, nested containers) fails once the profile
    /// applies again. Give it a custom profile that allows just those calls
    /// (`--security-opt seccomp=./profile.json`) rather than none.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Enable default security profiles (seccomp, AppArmor, SELinux); do not disable
    /// them". CIS Docker Benchmark v1.7 5.1 (AppArmor), 5.2 (SELinux), 5.21 (seccomp); compose
    /// equivalent DC007.
    pub struct SecurityProfileDisabled => "DR012", "security-profile-disabled", group Scripts, Sometimes;
}

/// Which profile a `--security-opt` value turns off, if any.
#[must_use]
pub fn disabled_profile(opt: &str) -> Option<&'static str> {
    let o = opt.trim().to_ascii_lowercase();
    let (k, v) = split_security_opt(&o)?;
    match (k, v) {
        ("seccomp", "unconfined") => Some("its seccomp profile"),
        ("apparmor", "unconfined") => Some("its AppArmor profile"),
        ("label", "disable") => Some("SELinux labelling"),
        ("systempaths", "unconfined") => Some("the masking of sensitive /proc and /sys paths"),
        _ => None,
    }
}

impl Check for SecurityProfileDisabled {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in sites(ctx) {
            let run = &site.run;
            for f in run.flags_named("security-opt") {
                let Some(profile) = disabled_profile(f.text()) else {
                    continue;
                };
                let message = format!(
                    "The container turns off {profile} (`--security-opt {}`): the kernel's whole attack surface is open to it. Remove it, or give it a custom profile that allows only what it needs",
                    f.text()
                );
                let fix = run.remove_flag(ctx.text, f).map(|e| {
                    fix_of(
                        Applicability::Unsafe,
                        format!("Remove `--security-opt {}`", f.text()),
                        vec![e],
                    )
                });
                out.push(report(
                    ctx,
                    &site,
                    (Self::CODE, Self::NAME),
                    run.flag_range(f),
                    message,
                    fix,
                ));
            }
        }
        out
    }
}
