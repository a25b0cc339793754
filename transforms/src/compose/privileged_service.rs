use crate::compose::model::{
    entry_hits, finish_edits, hardenable_services, quote_names, services_phrase, yaml,
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
    /// Unsafe: a service that really needs more than the defaults (loading kernel modules,
    /// managing network interfaces, accessing a device) stops working. Grant exactly what it needs
    /// instead: `cap_add` (e.g. NET_ADMIN), `devices` (e.g. `/dev/net/tun`), a specific
    /// `security_opt` profile. When the key comes from an anchor that only services (and `x-`
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
        let all = hardenable_services(file);
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
                        Finding::new(Self::CODE, Self::NAME, hit.entry.range(), message).with_fix(
                            Fix::unsafe_(title, finish_edits(file.text(), plan.edits))
                                .with_changes(plan.changes),
                        )
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
