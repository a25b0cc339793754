use crate::compose::model::{
    entry_hits, finish_edits, hardenable_services, needs_of, ordered_edits, plan_append,
    quote_names, services_phrase, yaml, Plan,
};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags services with `privileged: true` (an inherited one counts) and removes the key.
    ///
    /// ## Why is this bad?
    /// A privileged container gets every capability, every host device and no seccomp / AppArmor confinement: root in the container is root on the host.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   vpn:
    ///     image: hwdsl2/ipsec-vpn-server
    ///     privileged: true
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   vpn:
    ///     image: hwdsl2/ipsec-vpn-server
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe, and applied only when what the image needs instead is known (no guessing: the
    /// knowledge base's `privileged-needs`, e.g. NET_ADMIN and SYS_MODULE for wg-easy, `/dev/kmsg`
    /// for cAdvisor): `privileged` is removed and exactly those capabilities (`cap_add`) and
    /// devices (`devices`) are given. For other images the removal is display-only: grant what
    /// the service uses (`cap_add`, `devices`, a specific `security_opt` profile) yourself. When the key comes from an anchor that only services (and `x-`
    /// blocks) use, it is removed from the anchor, since every one of those services is flagged;
    /// an anchor also used elsewhere, or a value that is itself an anchor an alias uses, is
    /// reported without a fix.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT use `--privileged` flag in container configurations". CIS Docker Benchmark
    /// v1.7 5.5 (privileged containers are not used), compose-lint CL-0002.
    pub struct PrivilegedService => "DC004", "privileged-service", Compose, Sometimes;
}

impl Check for PrivilegedService {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = hardenable_services(ctx, file);
        entry_hits(file, &all, "privileged", |v| v.trim().eq_ignore_ascii_case("true"))
            .into_iter()
            .map(|hit| {
                let names = hit.names();
                let mut message = format!(
                    "{} privileged: every capability, every host device, no seccomp/AppArmor confinement. Remove it and grant only what is needed (`cap_add`, `devices`)",
                    services_phrase(&names, "runs", "run")
                );
                match hit.plan {
                    Ok(plan) => {
                        let mut title = "Remove `privileged: true`".to_owned();
                        if plan.shared {
                            title.push_str(&format!(" (shared by {})", quote_names(&names)));
                        }
                        // What each service needs instead, when it is known.
                        let mut plans: Vec<Plan> = vec![plan.clone()];
                        let mut changes = plan.changes.clone();
                        let mut unknown = Vec::new();
                        let mut given = Vec::new();
                        let mut refused = Vec::new();
                        let reached = needs_of(ctx, &all, &names);
                        for (svc, needs) in &reached {
                            let Some(instead) =
                                needs.facts.as_ref().and_then(|f| f.privileged_needs.clone())
                            else {
                                unknown.push(format!(
                                    "`{}`: {}",
                                    svc.name,
                                    needs.unknown.clone().unwrap_or_else(|| format!(
                                        "the knowledge base does not say what `{}` needs instead",
                                        needs.subject
                                    ))
                                ));
                                continue;
                            };
                            for (key, values) in
                                [("cap_add", &instead.cap_add), ("devices", &instead.devices)]
                            {
                                // What the service already has (a device by its host path).
                                let have: Vec<String> = match svc.value(key) {
                                    Some(crate::yaml::Node::Sequence(seq)) => seq
                                        .items()
                                        .iter()
                                        .filter_map(|i| i.value().resolve()?.as_str().map(str::to_owned))
                                        .map(|v| {
                                            let v = crate::knowledge::normalize_cap(&v);
                                            v.split(':').next().unwrap_or(&v).to_owned()
                                        })
                                        .collect(),
                                    _ => Vec::new(),
                                };
                                let values: Vec<String> = values
                                    .iter()
                                    .filter(|v| {
                                        let v = crate::knowledge::normalize_cap(v);
                                        !have.contains(&v.split(':').next().unwrap_or(&v).to_owned())
                                    })
                                    .cloned()
                                    .collect();
                                if values.is_empty() {
                                    continue;
                                }
                                given.push(format!("`{}` gets {key} {}", svc.name, values.join(", ")));
                                match plan_append(file, svc, &all, key, &values, false) {
                                    Ok(p) => {
                                        changes.extend(p.changes.clone());
                                        plans.push(p);
                                    }
                                    Err(why) => refused.push(format!("`{key}` of `{}`: {why}", svc.name)),
                                }
                            }
                        }
                        if reached.len() > 1 && !given.is_empty() {
                            // Different services through one shared key: each must get its own
                            // grants first.
                            refused.push("several services share the key".into());
                        }
                        changes.sort();
                        changes.dedup();
                        let edits = finish_edits(
                            file.text(),
                            ordered_edits(&plans.iter().collect::<Vec<_>>()),
                        );
                        if !given.is_empty() {
                            message.push_str(&format!(" ({}, from the knowledge base)", given.join("; ")));
                            title.push_str(" and grant what it needs instead");
                        }
                        let fix = if !unknown.is_empty() {
                            message.push_str(&format!(
                                " (display only: what it needs instead of `privileged` is not known: {}; give it the capabilities (`cap_add`) and devices (`devices`) it uses, or describe them with `privileged-needs` in an `[[images]]` entry of .dockharden.toml)",
                                unknown.join("; ")
                            ));
                            Fix::display_only(title, edits)
                        } else if !refused.is_empty() {
                            message.push_str(&format!(" (display only: {})", refused.join("; ")));
                            Fix::display_only(title, edits)
                        } else {
                            Fix::unsafe_(title, edits)
                        };
                        Finding::new(Self::CODE, Self::NAME, hit.entry.range(), message)
                            .with_fix(fix.with_changes(changes))
                    }
                    Err(why) => {
                        message.push_str(&format!(" (no automatic fix: {why})"));
                        Finding::new(Self::CODE, Self::NAME, hit.entry.range(), message)
                    }
                }
            })
            .collect()
    }
}
