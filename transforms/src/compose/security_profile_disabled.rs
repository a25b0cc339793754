use crate::compose::missing_no_new_privileges::split_security_opt;
use crate::compose::model::{
    finish_edits, hardenable_services, list_state, plan_remove_items, quote_names, services_phrase,
    yaml, ListState, Plan,
};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};
use crate::text::TextRange;
use crate::yaml::Sequence;

declare_transform! {
    /// ## What it does
    /// Flags `security_opt` entries that turn a kernel security profile off — `seccomp:unconfined`,
    /// `apparmor:unconfined`, `label:disable` (SELinux), `systempaths=unconfined` (unmasks `/proc`
    /// and `/sys` paths), with `:` or `=` — in a service's `security_opt` (an inherited one
    /// counts), and removes them. When no entry is left, the `security_opt` key goes too (a later
    /// round of DC003 adds `no-new-privileges:true` back).
    ///
    /// ## Why is this bad?
    /// Docker's default seccomp, AppArmor and SELinux profiles block the system calls and file accesses that most container escapes use; turning them off gives a compromised process the kernel's whole attack surface.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   browser:
    ///     image: lscr.io/linuxserver/firefox:latest
    ///     security_opt:
    ///       - seccomp:unconfined
    ///       - no-new-privileges:true
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   browser:
    ///     image: lscr.io/linuxserver/firefox:latest
    ///     security_opt:
    ///       - no-new-privileges:true
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: a workload that needs a system call the default seccomp profile blocks (some
    /// browsers' sandboxes, `io_uring`, old glibc on new kernels, debuggers, nested containers)
    /// fails once the profile applies again. Give it a custom profile that allows just those calls
    /// (`seccomp:./profile.json`) rather than none. All the disabled profiles of one list are removed
    /// by one fix. When the list comes from an anchor that only services (and `x-` blocks) use, the
    /// entries are removed from the anchor, since every one of those services is flagged; a list
    /// also used elsewhere becomes an own list of the service without them (no fix when the
    /// service's own `security_opt` is that anchor). An item that is itself an anchor used by an
    /// alias elsewhere is reported without a fix.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Enable default security profiles (seccomp, AppArmor, SELinux); do not disable
    /// them". CIS Docker Benchmark v1.7 5.22 (seccomp), 5.2 (AppArmor), 5.3 (SELinux); compose-lint
    /// CL-0009.
    pub struct SecurityProfileDisabled => "DC007", "security-profile-disabled", Compose, Sometimes;
}

/// The profile a `security_opt` entry disables, if it does.
#[must_use]
pub fn disabled_profile(opt: &str) -> Option<&'static str> {
    let (key, value) = split_security_opt(opt.trim())?;
    match (key.trim(), value.trim()) {
        ("seccomp", "unconfined") => Some("the seccomp profile"),
        ("apparmor", "unconfined") => Some("the AppArmor profile"),
        ("label", "disable") => Some("SELinux labeling"),
        ("systempaths", "unconfined") => Some("the masking of /proc and /sys paths"),
        _ => None,
    }
}

/// The items of `seq` that disable a profile: (index, value, profile).
fn disabled_items(seq: &Sequence) -> Vec<(usize, String, &'static str)> {
    seq.items()
        .into_iter()
        .filter_map(|item| {
            let v = item.value().resolve()?;
            let s = v.as_str()?.to_owned();
            let profile = disabled_profile(&s)?;
            Some((item.index(), s, profile))
        })
        .collect()
}

impl Check for SecurityProfileDisabled {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = hardenable_services(ctx, file);
        // One finding per disabled item; items of a shared list are reported once.
        let mut seen: Vec<TextRange> = Vec::new();
        let mut out = Vec::new();
        for svc in &all {
            let ListState::Seq { seq, .. } = list_state(svc, "security_opt") else {
                continue;
            };
            let bad = disabled_items(&seq);
            if bad.is_empty() {
                continue;
            }
            let indexes: Vec<usize> = bad.iter().map(|(i, _, _)| *i).collect();
            let plan: Result<Plan, String> =
                plan_remove_items(file, svc, &all, "security_opt", &indexes, true);
            let names = match &plan {
                Ok(p) if p.shared => p.services.clone(),
                _ => vec![svc.name.clone()],
            };
            let removed: Vec<String> = bad.iter().map(|(_, v, _)| format!("`{v}`")).collect();
            for (index, value, profile) in &bad {
                let Some(item) = seq.get(*index) else {
                    continue;
                };
                let range = item.range();
                if matches!(&plan, Ok(p) if p.shared) {
                    if seen.contains(&range) {
                        continue;
                    }
                    seen.push(range);
                }
                let mut message = format!(
                    "{} {profile} (`{value}`): the defaults block the system calls and accesses most container escapes use. Remove it; give the service a custom profile if it needs more",
                    services_phrase(&names, "turns off", "turn off")
                );
                out.push(match &plan {
                    Ok(p) => {
                        let mut title = if removed.len() > 1 {
                            format!("Remove {}", removed.join(", "))
                        } else {
                            format!("Remove `{value}`")
                        };
                        if p.shared {
                            title.push_str(&format!(" (shared by {})", quote_names(&names)));
                        }
                        Finding::new(Self::CODE, Self::NAME, range, message).with_fix(
                            Fix::unsafe_(title, finish_edits(file.text(), p.edits.clone()))
                                .with_changes(p.changes.clone()),
                        )
                    }
                    Err(why) => {
                        message.push_str(&format!(" (no automatic fix: {why})"));
                        Finding::new(Self::CODE, Self::NAME, range, message)
                    }
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::disabled_profile;

    #[test]
    fn profiles() {
        for off in [
            "seccomp:unconfined",
            "seccomp=unconfined",
            "apparmor:unconfined",
            "apparmor=unconfined",
            "label:disable",
            "label=disable",
            "systempaths=unconfined",
        ] {
            assert!(disabled_profile(off).is_some(), "{off}");
        }
        for on in [
            "seccomp:./profile.json",
            "seccomp=/etc/docker/seccomp.json",
            "apparmor:docker-default",
            "label:type:container_t",
            "label=level:s0:c100,c200",
            "no-new-privileges:true",
        ] {
            assert!(disabled_profile(on).is_none(), "{on}");
        }
    }
}
