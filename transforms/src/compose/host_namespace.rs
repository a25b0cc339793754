use crate::compose::model::{
    entry_hits, finish_edits, hardenable_services, needs_of, quote_names, services_phrase, yaml,
};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};

declare_transform! {
    /// ## What it does
    /// Flags services that share a namespace with the host — `pid: host`, `ipc: host`, `uts: host`,
    /// `userns_mode: host` (an inherited key counts) — and removes the key, one finding per key.
    /// (`network_mode: host` is DC006; sharing with another container, `pid: "service:x"`, is not
    /// flagged.)
    ///
    /// ## Why is this bad?
    /// A shared host namespace removes a layer of isolation: with `pid: host` the container sees and can signal (or ptrace) every host process, with `ipc: host` it reaches host shared memory, `uts: host` shares the host name, and `userns_mode: host` opts out of the daemon's user-namespace remapping so container root is host root.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   exporter:
    ///     image: prom/node-exporter:v1.8.2
    ///     pid: host
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   exporter:
    ///     image: prom/node-exporter:v1.8.2
    /// ```
    ///
    /// ## Fix safety
    /// Display-only (no guessing): whoever shared a host namespace had a reason that neither the
    /// image nor the compose file shows (a debugger, a monitoring setup, shared memory with a host
    /// program), so the removal is shown, never applied. Monitoring agents whose function needs
    /// the host's PID namespace (node-exporter, cAdvisor's process metrics, Netdata: the knowledge
    /// base's `host-pid`) are reported without a fix, with the reason. Without the key, the
    /// container gets its own namespace (the default). When the key comes from an anchor that
    /// only services (and `x-` blocks) use, it is removed from the anchor; otherwise the finding
    /// has no fix.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT share host network namespace" (and the other host namespaces). CIS Docker
    /// Benchmark v1.7 5.16 (PID), 5.17 (IPC), 5.21 (UTS), 5.31 (user namespaces); compose-lint
    /// CL-0010 (`pid` and `ipc` only).
    pub struct HostNamespace => "DC005", "host-namespace", Compose, None;
}

/// The namespace keys and what sharing each with the host gives away.
const KEYS: &[(&str, &str, &str)] = &[
    ("pid", "PID", "the container sees and can signal every host process"),
    ("ipc", "IPC", "the container reaches the host's shared memory"),
    ("uts", "UTS", "the container shares the host name and, with CAP_SYS_ADMIN, can change it"),
    (
        "userns_mode",
        "user",
        "the container opts out of the daemon's user-namespace remapping (container root is host root)",
    ),
];

impl Check for HostNamespace {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = hardenable_services(ctx, file);
        let mut out = Vec::new();
        for (key, namespace, why) in KEYS {
            for hit in entry_hits(file, &all, key, |v| v == "host") {
                let names = hit.names();
                let mut message = format!(
                    "{} the host's {namespace} namespace (`{key}: host`): {why}. Remove it",
                    services_phrase(&names, "shares", "share"),
                );
                // Whether the image needs it: the knowledge base says so for the PID namespace of
                // monitoring agents; an image it knows without saying so does not.
                let mut needed = Vec::new();
                let mut unknown = Vec::new();
                for (svc, needs) in needs_of(ctx, &all, &names) {
                    match (&needs.facts, *key) {
                        (Some(f), "pid") if f.host_pid.is_some() => needed.push(format!(
                            "`{}`: {} ({})",
                            svc.name,
                            f.host_pid.clone().unwrap_or_default(),
                            needs.source
                        )),
                        (Some(_), _) => {}
                        (None, _) => unknown.push(format!(
                            "`{}`: {}",
                            svc.name,
                            needs
                                .unknown
                                .clone()
                                .unwrap_or_else(|| "its image is not known".into())
                        )),
                    }
                }
                if !needed.is_empty() {
                    message = format!(
                        "{} the host's {namespace} namespace (`{key}: host`): {why}; its function needs it: {}, so it is not removed",
                        services_phrase(&names, "shares", "share"),
                        needed.join("; ")
                    );
                    out.push(Finding::new(
                        Self::CODE,
                        Self::NAME,
                        hit.entry.range(),
                        message,
                    ));
                    continue;
                }
                out.push(match hit.plan {
                    Ok(plan) => {
                        // Whoever shared the host's namespace had a reason the image cannot tell
                        // (a debugging or monitoring setup, shared memory with a host program).
                        if unknown.is_empty() {
                            message.push_str(&format!(
                                " (display only: the image does not need it as far as the knowledge base shows, but what this setup uses the host's {namespace} namespace for is not known)"
                            ));
                        } else {
                            message.push_str(&format!(
                                " (display only: whether its function needs the host's {namespace} namespace is not known: {})",
                                unknown.join("; ")
                            ));
                        }
                        let mut title = format!("Remove `{key}: host`");
                        if plan.shared {
                            title.push_str(&format!(" (shared by {})", quote_names(&names)));
                        }
                        Finding::new(Self::CODE, Self::NAME, hit.entry.range(), message).with_fix(
                            Fix::display_only(title, finish_edits(file.text(), plan.edits))
                                .with_changes(plan.changes),
                        )
                    }
                    Err(why) => {
                        message.push_str(&format!(" (no automatic fix: {why})"));
                        Finding::new(Self::CODE, Self::NAME, hit.entry.range(), message)
                    }
                });
            }
        }
        out
    }
}
