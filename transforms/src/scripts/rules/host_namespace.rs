use crate::declare_transform;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::registry::{Check, Context};

use super::{fix_of, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags container commands that share a namespace with the host: `--net=host` /
    /// `--network host`, `--pid=host`, `--ipc=host`, `--uts=host`, `--userns=host`, and removes
    /// the flag, one finding per flag. For the network, the ports the image is known to listen
    /// on are published instead (`-p 9100:9100`), as they were reachable on the host.
    ///
    /// ## Why is this bad?
    /// A shared host namespace removes a layer of isolation: with the host network the container can bind any host port, sniff host traffic and reach every service on the host's localhost; with the host PID namespace it sees and can signal every host process; `ipc`, `uts` and `userns` give away shared memory, the host name and user-namespace remapping.
    ///
    /// ## Example
    /// ```sh
    /// docker run -d --net=host --pid=host prom/node-exporter:v1.8.2
    /// ```
    /// is reported; node-exporter's function needs both (the knowledge base says why), so it is not
    /// changed. For `docker run -d --net=host prom/prometheus:v2.54.1` the suggestion is
    /// `docker run -d -p 9090:9090 prom/prometheus:v2.54.1`.
    ///
    /// ## Fix safety
    /// Display-only (no guessing, as DC005/DC006): whoever shared a host namespace had a reason
    /// that neither the image nor the command shows (a proxy to a service on the host's
    /// `localhost`, LAN discovery, a debugger), so the removal is shown, never applied. Images
    /// whose function needs the host network or PID namespace (the knowledge base's
    /// `host-network`, `host-pid`) are reported without a fix, with the reason. For the network,
    /// the suggestion publishes the ports the image is known to listen on (the knowledge base's
    /// `ports`) unless the command has its own `-p`. Without the flag the container gets its own
    /// namespace (the default bridge network for `--net`; a user-defined network is better:
    /// `docker network create`).
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT share host network namespace (`--net=host`)". CIS Docker Benchmark v1.7
    /// 5.10 (network), 5.16 (PID), 5.17 (IPC), 5.21 (UTS), 5.31 (user namespaces); compose
    /// equivalents DC005, DC006.
    pub struct HostNamespace => "DR003", "host-namespace", group Scripts, None;
}

const NAMESPACES: &[(&str, &str, &str)] = &[
    (
        "network",
        "network",
        "it can bind any host port, sniff host traffic and reach every service on the host's localhost",
    ),
    ("pid", "PID", "it sees and can signal every host process"),
    ("ipc", "IPC", "it reaches the host's shared memory"),
    ("uts", "UTS", "it shares the host name"),
    (
        "userns",
        "user",
        "it opts out of the daemon's user-namespace remapping (container root is host root)",
    ),
];

impl Check for HostNamespace {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in sites(ctx) {
            let run = &site.run;
            for (flag_name, ns, why) in NAMESPACES {
                // The last value wins; report the flags that set `host`.
                let Some(last) = run.last(flag_name) else {
                    continue;
                };
                if last.text() != "host" {
                    continue;
                }
                let range = run.flag_range(last);
                let spelled = if last.value.as_ref().is_some_and(|v| v.inline) {
                    format!("{}={}", last.written, last.text())
                } else {
                    format!("{} {}", last.written, last.text())
                };
                let mut message = format!(
                    "The container shares the host's {ns} namespace (`{spelled}`): {why}. Remove it"
                );
                let needs = site.needs(ctx);
                let needed = needs.facts.as_ref().and_then(|f| match *flag_name {
                    "network" => f.host_network.clone(),
                    "pid" => f.host_pid.clone(),
                    _ => None,
                });
                if let Some(reason) = needed {
                    message = format!(
                        "The container shares the host's {ns} namespace: {why}; its function needs it: {reason}{}, so it is not removed",
                        needs.because()
                    );
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
                let flags: Vec<_> = run
                    .flags_named(flag_name)
                    .filter(|f| f.text() == "host")
                    .collect();
                let Some(mut edits) = super::remove_all(ctx.text, run, &flags) else {
                    out.push(report(
                        ctx,
                        &site,
                        (Self::CODE, Self::NAME),
                        range,
                        message,
                        None,
                    ));
                    continue;
                };
                // No guessing, as DC005/DC006: whoever shared a host namespace had a reason the
                // image cannot tell (a proxy to the host's localhost, LAN discovery, a debugger),
                // so the removal is shown, never applied.
                if needs.facts.is_some() {
                    message.push_str(&format!(
                        " (display only: what this container reaches through the host's {ns} namespace is not known; check that before you apply it)"
                    ));
                } else {
                    message.push_str(&format!(
                        " (display only: whether its function needs the host's {ns} namespace is not known: {})",
                        needs.unknown.clone().unwrap_or_else(|| "its image is not known".into())
                    ));
                }
                let app = Applicability::DisplayOnly;
                let mut title = format!("Remove `{}`", spelled);
                if *flag_name == "network" && needs.facts.is_some() {
                    // Clients reached its ports on the host: publish them.
                    let published = run.flags_named("publish").count() > 0;
                    let ports: Vec<String> = needs
                        .facts()
                        .ports
                        .clone()
                        .filter(|p| !p.is_empty())
                        .unwrap_or_default();
                    if published {
                        // Its own `-p` flags take effect once it leaves the host network.
                    } else if ports.is_empty() {
                        message.push_str(&format!(
                            "; which ports `{}` listens on is not known: publish them with `-p`",
                            needs.subject
                        ));
                    } else {
                        let add: Vec<String> = ports
                            .iter()
                            .map(|p| {
                                let (port, proto) = p.split_once('/').unwrap_or((p, ""));
                                let spec = if proto.is_empty() {
                                    format!("{port}:{port}")
                                } else {
                                    format!("{port}:{port}/{proto}")
                                };
                                format!("-p {spec}")
                            })
                            .collect();
                        if let Some(e) = run.insert_before_image(ctx.text, &add) {
                            title = format!("Replace `{spelled}` by {}", add.join(" "));
                            edits.push(e);
                        }
                    }
                }
                let fix = fix_of(app, title, edits);
                out.push(report(
                    ctx,
                    &site,
                    (Self::CODE, Self::NAME),
                    range,
                    message,
                    Some(fix),
                ));
            }
        }
        out
    }
}
