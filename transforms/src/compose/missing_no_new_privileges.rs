use crate::compose::model::{
    finish_edits, hardenable_services, is_windows, list_state, plan_append, plan_remove_items,
    plan_replace_item, quote_names, services_phrase, yaml, ListState, Plan, Service,
};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};
use crate::text::TextRange;
use crate::yaml::{Node, Sequence, YamlFile};

declare_transform! {
    /// ## What it does
    /// Flags services that do not set `no-new-privileges` (as merge keys define `security_opt`: an
    /// inherited one counts) and adds `no-new-privileges:true`: appended to the existing
    /// `security_opt` list, or as a new `security_opt` key in the service's list style. The forms
    /// `no-new-privileges`, `no-new-privileges:true` and `no-new-privileges=true` (any value Go's
    /// `strconv.ParseBool` reads as true) count as set; as in Docker, the last entry naming it wins,
    /// so `no-new-privileges:false` is a finding whose fix turns that entry into `:true`.
    ///
    /// ## Why is this bad?
    /// Without `no-new-privileges`, a process in the container can gain privileges through setuid / setgid binaries or file capabilities (`sudo`, `su`, a planted setuid shell), which turns a foothold into root.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx:1.27
    ///     security_opt:
    ///       - label:type:container_t
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx:1.27
    ///     security_opt:
    ///       - label:type:container_t
    ///       - no-new-privileges:true
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe. The flag only stops privilege *gain* at `execve`: entrypoints that start as root and
    /// switch to a user with gosu, su-exec or setpriv keep working (they already hold the
    /// privileges and need no setuid bit). What breaks is anything that relies on a setuid / setgid
    /// binary or on file capabilities while running as a non-root user: `sudo` or `su` in an
    /// entrypoint or a health check, `ping` on images where it is setuid, a binary given
    /// `setcap cap_net_bind_service=+ep` to bind port 80 as non-root, SELinux domain transitions.
    /// Those cannot be seen from the compose file, hence not Safe; images the knowledge base knows
    /// to run as non-root with file capabilities (CoreDNS, ingress-nginx) or `sudo` are reported
    /// without a fix.
    ///
    /// Anchors: a `security_opt` list shared through an anchor by services only (and `x-` blocks)
    /// gets the entry once, in the anchor, since every service needs it; a list also used
    /// elsewhere (under another key) is repeated as an own list of the service with the entry
    /// added, unless the service's own `security_opt` is that anchor (then there is no fix: the
    /// other use would change too). A missing key is added to the service mapping. When an
    /// earlier entry sets the flag and a later one unsets it, the later ones are removed; a last
    /// `no-new-privileges:false` is rewritten as `:true`. Windows containers and `provider:`
    /// services are skipped.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Use `--security-opt=no-new-privileges` to prevent privilege escalation". CIS
    /// Docker Benchmark v1.7 5.26 (restrict the container from acquiring additional privileges),
    /// compose-lint CL-0003.
    pub struct MissingNoNewPrivileges => "DC003", "missing-no-new-privileges", Compose, Sometimes;
}

/// The entry `no-new-privileges` and what it says: `Some(true)` set, `Some(false)` unset (a false or
/// unreadable value, which Docker refuses), None for another option.
#[must_use]
pub fn no_new_privileges(opt: &str) -> Option<bool> {
    let o = opt.trim().to_ascii_lowercase();
    if o == "no-new-privileges" {
        return Some(true);
    }
    let (key, value) = split_security_opt(&o)?;
    if key != "no-new-privileges" {
        return None;
    }
    Some(matches!(value, "1" | "t" | "true"))
}

/// `key=value` or the deprecated `key:value` (the first `=`, else the first `:`).
#[must_use]
pub fn split_security_opt(opt: &str) -> Option<(&str, &str)> {
    opt.split_once('=').or_else(|| opt.split_once(':'))
}

/// The items of `seq` naming `no-new-privileges`: (index, sets it, the written value when the item
/// is a scalar rather than an alias).
fn settings(seq: &Sequence) -> Vec<(usize, bool, Option<String>)> {
    let mut out = Vec::new();
    for item in seq.items() {
        let Some(v) = item.value().resolve() else {
            continue;
        };
        let Some(s) = v.as_str() else {
            continue;
        };
        if let Some(on) = no_new_privileges(s) {
            let scalar = matches!(item.value(), Node::Scalar(_)).then(|| s.to_owned());
            out.push((item.index(), on, scalar));
        }
    }
    out
}

struct Unit {
    services: Vec<String>,
    plan: Result<Plan, String>,
    range: TextRange,
    /// The written value that turns it off (`no-new-privileges:false`), if that is the problem.
    disabled: Option<String>,
    /// The fix removes entries (an earlier one sets it) rather than adding or replacing one.
    removes: bool,
}

fn units(file: &YamlFile, all_services: &[Service]) -> Vec<Unit> {
    let all = all_services;
    let mut out: Vec<Unit> = Vec::new();
    for svc in all {
        if is_windows(svc) {
            continue;
        }
        let mut removes = false;
        let (range, plan, disabled) = match list_state(svc, "security_opt") {
            ListState::Other => continue,
            ListState::Seq { seq, entry, .. } => match settings(&seq).last().cloned() {
                Some((_, true, _)) => continue,
                Some((index, false, Some(written)))
                    if settings(&seq).iter().any(|(_, on, _)| *on) =>
                {
                    // An earlier entry sets it: the later ones that unset it go (all of them are
                    // scalars or aliases after the last `true`).
                    let all = settings(&seq);
                    let last_on = all.iter().rposition(|(_, on, _)| *on).unwrap_or(0);
                    let indexes: Vec<usize> =
                        all[last_on + 1..].iter().map(|(i, _, _)| *i).collect();
                    let item_range = seq.get(index).map_or(entry.key_range(), |i| i.range());
                    removes = true;
                    (
                        item_range,
                        plan_remove_items(file, svc, all_services, "security_opt", &indexes, true),
                        Some(written),
                    )
                }
                Some((index, false, Some(written))) => {
                    let sep = if written.contains('=') { '=' } else { ':' };
                    let new = format!("no-new-privileges{sep}true");
                    let item_range = seq.get(index).map_or(entry.key_range(), |i| i.range());
                    (
                        item_range,
                        plan_replace_item(file, svc, all, "security_opt", index, &new, true),
                        Some(written),
                    )
                }
                // Off through an alias, or not named: append (the last entry wins).
                _ => (
                    entry.key_range(),
                    plan_append(
                        file,
                        svc,
                        all,
                        "security_opt",
                        &["no-new-privileges:true".to_owned()],
                        true,
                    ),
                    None,
                ),
            },
            ListState::Null(entry, _) => (
                entry.key_range(),
                plan_append(
                    file,
                    svc,
                    all,
                    "security_opt",
                    &["no-new-privileges:true".to_owned()],
                    true,
                ),
                None,
            ),
            ListState::Absent => (
                svc.key_range(),
                plan_append(
                    file,
                    svc,
                    all,
                    "security_opt",
                    &["no-new-privileges:true".to_owned()],
                    true,
                ),
                None,
            ),
        };
        if let Ok(p) = &plan {
            if p.shared {
                if let Some(u) = out
                    .iter_mut()
                    .find(|u| u.plan.as_ref().is_ok_and(|q| q.edits == p.edits))
                {
                    if !u.services.contains(&svc.name) {
                        u.services.push(svc.name.clone());
                    }
                    continue;
                }
            }
        }
        let services = match &plan {
            Ok(p) if p.shared => p.services.clone(),
            _ => vec![svc.name.clone()],
        };
        out.push(Unit {
            services,
            plan,
            range,
            disabled,
            removes,
        });
    }
    out
}

impl Check for MissingNoNewPrivileges {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = hardenable_services(ctx, file);
        units(file, &all)
            .into_iter()
            .map(|u| {
                let mut message = match &u.disabled {
                    Some(w) => format!(
                        "{} `no-new-privileges` off (`{w}`): processes can gain privileges through setuid binaries and file capabilities",
                        services_phrase(&u.services, "turns", "turn")
                    ),
                    None => format!(
                        "{} `no-new-privileges`: processes can gain privileges through setuid binaries and file capabilities",
                        services_phrase(&u.services, "does not set", "do not set")
                    ),
                };
                // `no-new-privileges` stops a non-root process from gaining file capabilities
                // (`setcap`) or a setuid binary's user (`sudo`): the images known to need one.
                let blocked: Vec<String> = crate::compose::model::needs_of(ctx, &all, &u.services)
                    .into_iter()
                    .filter_map(|(svc, needs)| {
                        let f = needs.facts.as_ref()?;
                        if let Some(why) = &f.no_new_privileges_breaks {
                            return Some(format!("`{}`: {why} ({})", svc.name, needs.source));
                        }
                        // A process that starts as a non-root user can hold a capability only
                        // through a file capability of the binary it runs; one that starts as
                        // root and switches users itself (gosu, a master process) holds them
                        // already and is not affected.
                        let starts_non_root = svc.own_non_root_user().is_some()
                            || (svc.str("user").is_none()
                                && f.user.as_deref().is_some_and(|u| {
                                    !u.contains('$') && !crate::needs::is_root_user(u)
                                }));
                        let file_caps = starts_non_root
                            && f.cap_add.as_ref().is_some_and(|c| !c.is_empty())
                            && !(svc.own_non_root_user().is_some()
                                && f.switch_user.as_deref().is_some_and(|s| s != "none"));
                        let helper = matches!(f.switch_user.as_deref(), Some("sudo" | "capsh"));
                        (file_caps || helper).then(|| {
                            format!(
                                "`{}` relies on {} ({})",
                                svc.name,
                                if helper {
                                    format!("`{}` to gain its privileges", f.switch_user.clone().unwrap_or_default())
                                } else {
                                    format!(
                                        "file capabilities ({}) while it runs as a non-root user",
                                        f.cap_add.clone().unwrap_or_default().join(", ")
                                    )
                                },
                                needs.source
                            )
                        })
                    })
                    .collect();
                if !blocked.is_empty() {
                    message.push_str(&format!(
                        "; but `no-new-privileges` would stop it from working: {}, so there is no fix",
                        blocked.join("; ")
                    ));
                    return Finding::new(Self::CODE, Self::NAME, u.range, message);
                }
                match u.plan {
                    Ok(plan) => {
                        let mut title = if u.removes {
                            "Remove the later entries that turn `no-new-privileges` off".to_owned()
                        } else if u.disabled.is_some() {
                            "Set `no-new-privileges:true`".to_owned()
                        } else {
                            "Add `no-new-privileges:true` to `security_opt`".to_owned()
                        };
                        if plan.shared {
                            title.push_str(&format!(" (shared by {})", quote_names(&plan.services)));
                        }
                        let edits = finish_edits(file.text(), plan.edits);
                        Finding::new(Self::CODE, Self::NAME, u.range, message)
                            .with_fix(Fix::unsafe_(title, edits).with_changes(plan.changes))
                    }
                    Err(why) => {
                        message.push_str(&format!(" (no automatic fix: {why})"));
                        Finding::new(Self::CODE, Self::NAME, u.range, message)
                    }
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::no_new_privileges;

    #[test]
    fn forms() {
        for on in [
            "no-new-privileges",
            "no-new-privileges:true",
            "no-new-privileges=true",
            "no-new-privileges:1",
            " No-New-Privileges=TRUE ",
        ] {
            assert_eq!(no_new_privileges(on), Some(true), "{on}");
        }
        for off in [
            "no-new-privileges:false",
            "no-new-privileges=0",
            "no-new-privileges:maybe",
        ] {
            assert_eq!(no_new_privileges(off), Some(false), "{off}");
        }
        assert_eq!(no_new_privileges("seccomp:unconfined"), None);
        assert_eq!(no_new_privileges("label:type:x"), None);
    }
}
