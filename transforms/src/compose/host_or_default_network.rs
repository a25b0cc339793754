use crate::compose::model::{
    entry_hits, finish_edits, hardenable_services, list_state, ordered_edits, parse_port_range,
    plan_append, quote_names, services_phrase, short_port_container, yaml, EntryHit, ListState,
    Plan, Service,
};
use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::registry::{Check, Context};
use crate::yaml::{Node, YamlFile};

declare_transform! {
    /// ## What it does
    /// Flags services on the host's network stack (`network_mode: host`) or on Docker's default
    /// bridge (`network_mode: bridge`), an inherited key included, and removes `network_mode`.
    /// Without it (and without `networks:`), compose attaches the service to the project's
    /// `default` network: a user-defined bridge network compose creates for the project
    /// (`<project>_default`), with name resolution between the services and isolation from the
    /// containers of other projects — the custom network the guideline asks for. No top-level
    /// `networks:` entry is needed for it.
    ///
    /// For `network_mode: host`, the ports the service listens on must then be published: the
    /// service's `ports` (ignored in host mode) take effect, and each `expose` port that no `ports`
    /// entry covers is published as `"P:P"` (on all interfaces, as it was reachable in host mode).
    /// When the service declares neither, the ports the image listens on by default come from the
    /// knowledge base (`ports`) (node-exporter 9100, cAdvisor 8080, ...); when the image
    /// is not there either, the ports are unknown and the fix is display-only, with a `TODO`
    /// placeholder. The image's Dockerfile `EXPOSE` is out of reach of a single-file fix; add the
    /// ports by hand (or to `expose:`) in that case. Images whose function needs the host network
    /// (LAN discovery and scanning, Wake-on-LAN, host firewall rules, host interface metrics: Home
    /// Assistant, fail2ban, node-exporter, ... in the same table) get a display-only fix that says
    /// why.
    ///
    /// ## Why is this bad?
    /// With `network_mode: host` the container shares the host's network stack: it can bind any host port, sniff host traffic and reach every service listening on the host's localhost; the default bridge is shared by every container on the host, with no name resolution and no isolation between projects.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api:
    ///     image: ghcr.io/acme/api:1.4
    ///     network_mode: host
    ///     expose:
    ///       - "8000"
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   api:
    ///     image: ghcr.io/acme/api:1.4
    ///     expose:
    ///       - "8000"
    ///     ports:
    ///       - "8000:8000"
    /// ```
    ///
    /// ## Fix safety
    /// Removing `network_mode: bridge` is Unsafe. Removing `network_mode: host` is display-only (no
    /// guessing: whoever chose it had a reason the image cannot tell). A service on the host
    /// network reaches other host services through `localhost` and sees the host's interfaces
    /// (DHCP servers, VPNs, network monitors, mDNS/UPnP discovery such as Home Assistant's); on a
    /// bridge network it does not, and clients must use the published ports. Images whose
    /// function needs the host network (the knowledge base's `host-network`: Home Assistant,
    /// Plex, Syncthing discovery, node-exporter, fail2ban) keep it; unknown images get a
    /// display-only suggestion; the ports to publish come from the service's `ports`/`expose`, else
    /// from the ports the image is known to listen on. Leaving the default bridge cuts the service off from containers outside the project
    /// that reached it there (`external_links`, fixed IPs). When `network_mode` comes from an
    /// anchor that only services (and `x-` blocks) use, it is removed from the anchor and each of
    /// those services gets its ports; otherwise the finding has no fix.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Avoid default bridge networking; define custom Docker networks" and "DO NOT share
    /// host network namespace (`--net=host`)". CIS Docker Benchmark v1.7 5.10 (the host's network
    /// namespace is not shared); compose-lint CL-0008 (host mode only).
    pub struct HostOrDefaultNetwork => "DC006", "host-or-default-network", Compose, Sometimes;
}

/// Placeholder published when the ports a host-network service listens on are unknown.
const TODO_PORT: &str = "TODO-host-port:TODO-container-port";

/// What publishing a host-network service's ports needs: (ports are known, `"P:P"` entries to add).
fn ports_to_publish(svc: &Service) -> (bool, Vec<String>) {
    let mut published: Vec<(u16, u16, String)> = Vec::new();
    let mut known = false;
    if let ListState::Seq { seq, .. } = list_state(svc, "ports") {
        for item in seq.items() {
            known = true;
            let Some(v) = item.value().resolve() else {
                continue;
            };
            let spec = match &v {
                Node::Scalar(s) => short_port_container(s.value()),
                Node::Mapping(m) => m.get("target").and_then(|e| {
                    let t = e.value().resolve()?.as_str()?.to_owned();
                    let proto = m
                        .get("protocol")
                        .and_then(|p| p.value().resolve()?.as_str().map(str::to_owned));
                    Some(proto.map_or_else(|| t.clone(), |p| format!("{t}/{p}")))
                }),
                _ => None,
            };
            if let Some(r) = spec.as_deref().and_then(parse_port_range) {
                published.push(r);
            }
        }
    }
    let mut add = Vec::new();
    if let ListState::Seq { seq, .. } = list_state(svc, "expose") {
        for item in seq.items() {
            let Some(v) = item.value().resolve() else {
                continue;
            };
            let Some(raw) = v.as_str().map(str::trim).filter(|s| !s.is_empty()) else {
                continue;
            };
            known = true;
            let covered = parse_port_range(raw).is_some_and(|(a, b, proto)| {
                published
                    .iter()
                    .any(|(x, y, p)| *p == proto && *x <= a && b <= *y)
            });
            if covered {
                continue;
            }
            let entry = publish_same(raw);
            if !add.contains(&entry) {
                add.push(entry);
            }
        }
    }
    (known, add)
}

/// `80` → `80:80`, `53/udp` → `53:53/udp`, `8000-8010` → `8000-8010:8000-8010`.
fn publish_same(port: &str) -> String {
    match port.split_once('/') {
        Some((body, proto)) => format!("{body}:{body}/{proto}"),
        None => format!("{port}:{port}"),
    }
}

impl Check for HostOrDefaultNetwork {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = hardenable_services(ctx, file);
        let mut out = Vec::new();
        for hit in entry_hits(file, &all, "network_mode", |v| v == "host" || v == "bridge") {
            let host = hit
                .entry
                .value()
                .resolve()
                .and_then(|v| v.as_str().map(|s| s == "host"))
                .unwrap_or(false);
            out.push(if host {
                self.host(ctx, file, &all, hit)
            } else {
                self.bridge(file, hit)
            });
        }
        out
    }
}

impl HostOrDefaultNetwork {
    fn bridge(&self, file: &YamlFile, hit: EntryHit) -> Finding {
        let names = hit.names();
        let mut message = format!(
            "{} Docker's default bridge (`network_mode: bridge`), shared with every container on the host, without name resolution between services. Remove it: compose then attaches the service to the project's `default` network, a user-defined bridge",
            services_phrase(&names, "uses", "use")
        );
        match hit.plan {
            Ok(plan) => {
                let mut title =
                    "Remove `network_mode: bridge` (use the project network)".to_owned();
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
    }

    fn host(&self, ctx: &Context<'_>, file: &YamlFile, all: &[Service], hit: EntryHit) -> Finding {
        let names = hit.names();
        let mut message = format!(
            "{} the host's network stack (`network_mode: host`): the container can bind any host port, see host traffic and reach host services on localhost. Remove it: compose then attaches the service to the project's `default` network (a user-defined bridge)",
            services_phrase(&names, "uses", "use")
        );
        let plan = match hit.plan {
            Ok(p) => p,
            Err(why) => {
                message.push_str(&format!(" (no automatic fix: {why})"));
                return Finding::new(Self::CODE, Self::NAME, hit.entry.range(), message);
            }
        };
        let mut plans: Vec<Plan> = vec![plan.clone()];
        let mut changes = plan.changes.clone();
        let mut unknown = Vec::new();
        let mut needs_host = Vec::new();
        let mut refused = Vec::new();
        let mut notes = Vec::new();
        // The services the removal reaches (all of them, when it is an anchor's).
        let reached: Vec<&Service> = all.iter().filter(|s| names.contains(&s.name)).collect();
        let mut unknown_image = Vec::new();
        for svc in reached {
            let needs = svc.needs(ctx);
            let facts = needs.facts();
            if let Some(why) = &facts.host_network {
                needs_host.push(format!("`{}`: {why} ({})", svc.name, needs.source));
            } else if needs.facts.is_none() {
                unknown_image.push(format!(
                    "`{}`: {}",
                    svc.name,
                    needs
                        .unknown
                        .clone()
                        .unwrap_or_else(|| "its image is not known".into())
                ));
            }
            let (known, mut add) = ports_to_publish(svc);
            let mut source = "from `expose`";
            if !known {
                if let Some(listens) = facts.ports.as_ref().filter(|p| !p.is_empty()) {
                    add = listens.iter().map(|p| publish_same(p)).collect();
                    source = "the ports the image listens on";
                } else {
                    unknown.push(svc.name.clone());
                    add = vec![TODO_PORT.to_owned()];
                }
            }
            if add.is_empty() {
                notes.push(format!("the `ports` of `{}` take effect", svc.name));
                continue;
            }
            if !unknown.contains(&svc.name) {
                notes.push(format!(
                    "`{}` publishes {} ({source})",
                    svc.name,
                    add.iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            match plan_append(file, svc, all, "ports", &add, false) {
                Ok(p) => {
                    changes.extend(p.changes.clone());
                    plans.push(p);
                }
                Err(why) => refused.push(format!("`ports` of `{}`: {why}", svc.name)),
            }
        }
        if !notes.is_empty() {
            message.push_str(&format!("; {}", notes.join("; ")));
        }
        let mut title = "Remove `network_mode: host` (use the project network)".to_owned();
        if plan.shared {
            title.push_str(&format!(" (shared by {})", quote_names(&names)));
        }
        changes.sort();
        changes.dedup();
        let edits = finish_edits(
            file.text(),
            ordered_edits(&plans.iter().collect::<Vec<_>>()),
        );
        let fix = if !needs_host.is_empty() {
            message.push_str(&format!(
                " (display only: the service needs the host network: {})",
                needs_host.join("; ")
            ));
            Fix::display_only(title, edits)
        } else if !unknown_image.is_empty() {
            message.push_str(&format!(
                " (display only: whether it needs the host network (LAN discovery, host interfaces, firewall rules) is not known: {}; tell dockharden in an `[[images]]` entry of .dockharden.toml)",
                unknown_image.join("; ")
            ));
            Fix::display_only(title, edits)
        } else if !unknown.is_empty() {
            message.push_str(&format!(
                " (display only: the ports {} listens on are unknown: no `ports` or `expose`; publish them, replacing the TODO)",
                quote_names(&unknown)
            ));
            Fix::display_only(format!("{title} and publish its ports"), edits)
        } else if !refused.is_empty() {
            message.push_str(&format!(" (display only: {})", refused.join("; ")));
            Fix::display_only(title, edits)
        } else {
            // Whoever chose the host network had a reason the image cannot tell (a proxy to a
            // service on the host's localhost, a LAN protocol): the change is only shown.
            message.push_str(" (display only: what this setup reaches through the host network (services on the host's `localhost`, LAN discovery) is not known; check that before you apply it)");
            Fix::display_only(title, edits)
        };
        Finding::new(Self::CODE, Self::NAME, hit.entry.range(), message)
            .with_fix(fix.with_changes(changes))
    }
}
