use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::knowledge::{ADMIN_PORTS, DATA_PORTS};
use crate::registry::{Check, Context};
use crate::text::TextRange;

use super::{fix_of, report, sites};

declare_transform! {
    /// ## What it does
    /// Flags published ports (`-p` / `--publish`) whose container port is a remote-administration
    /// port (ssh 22, the Docker daemon 2375/2376, telnet, RDP, VNC, WinRM) or a database / cache
    /// port (PostgreSQL 5432, MySQL 3306, Redis 6379, MongoDB 27017, Elasticsearch, memcached,
    /// ...) when it is published on all interfaces: no host address, `0.0.0.0`, `::`, or a
    /// container port alone (`-p 5432` publishes on a random host port on every interface). The
    /// fix binds the port to `127.0.0.1`.
    ///
    /// ## Why is this bad?
    /// Docker publishes ports by programming the firewall itself, past ufw/firewalld, so a database or daemon published without an address is reachable from every network the host is on.
    ///
    /// ## Example
    /// ```sh
    /// docker run -d -p 5432:5432 postgres:16
    /// ```
    /// becomes
    /// ```sh
    /// docker run -d -p 127.0.0.1:5432:5432 postgres:16
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: clients on other hosts can no longer connect; containers on the same Docker network
    /// are not affected (they use the container name, not the published port). `-p 5432` becomes
    /// `-p 127.0.0.1::5432` (still a random host port). A port spec that is a variable as a whole
    /// is not judged; a quoted spec keeps its quotes. An administration port that is the image's
    /// own service port (the knowledge base's `ports`: a git server's SSH) gets a display-only
    /// suggestion, as in DC014: publishing it was the point (not 2375, the Docker API without TLS,
    /// which has no authentication at all).
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT expose unnecessary ports in Dockerfiles or container configs". CIS Docker
    /// Benchmark v1.7 5.14 (bind incoming container traffic to a specific host interface);
    /// compose equivalent DC014.
    pub struct ExposedSensitivePort => "DR009", "exposed-sensitive-port", group Scripts, Sometimes;
}

/// (host ip, container port) of a `-p` spec `[ip:][hostPort:]containerPort[/proto]`.
fn parse_spec(spec: &str) -> Option<(Option<String>, u16)> {
    let spec = spec.split('/').next().unwrap_or(spec);
    if let Some(rest) = spec.strip_prefix('[') {
        // `[::]:8080:80`
        let (ip, rest) = rest.split_once(']')?;
        let port = rest.rsplit(':').next()?;
        return Some((Some(ip.to_owned()), port.split('-').next()?.parse().ok()?));
    }
    let parts: Vec<&str> = spec.split(':').collect();
    let container = parts.last()?.split('-').next()?.parse().ok()?;
    let ip = match parts.len() {
        1 | 2 => None,
        3 => Some(parts[0].to_owned()),
        _ => return None,
    };
    Some((ip, container))
}

impl Check for ExposedSensitivePort {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in sites(ctx) {
            let run = &site.run;
            for f in run.flags_named("publish") {
                let spec = f.text();
                if spec.starts_with('$') && !spec.contains(':') {
                    continue;
                }
                let Some((ip, port)) = parse_spec(spec) else {
                    continue;
                };
                let Some((_, what)) = ADMIN_PORTS
                    .iter()
                    .chain(DATA_PORTS)
                    .find(|(p, _)| *p == port)
                else {
                    continue;
                };
                let all = match ip.as_deref() {
                    None | Some("" | "0.0.0.0" | "::") => true,
                    Some(_) => false,
                };
                if !all {
                    continue;
                }
                let range = run.flag_range(f);
                // A port the image itself serves (a git server's SSH) is its function, not remote
                // administration: binding it to the loopback address cuts off its users (as DC014).
                let needs = site.needs(ctx);
                // The Docker API without TLS has no authentication: never a service for others.
                let own_service = port != 2375
                    && ADMIN_PORTS.iter().any(|(p, _)| *p == port)
                    && needs
                        .facts
                        .as_ref()
                        .and_then(|x| x.ports.as_ref())
                        .is_some_and(|ports| {
                            ports.iter().any(|p| {
                                p.split('/').next().and_then(|x| x.parse::<u16>().ok())
                                    == Some(port)
                            })
                        });
                let mut message = format!(
                    "Port {port} ({what}) is published on all interfaces (`{} {spec}`): reachable from every network the host is on, past the host firewall. Bind it to 127.0.0.1 (or put an authenticating proxy in front)",
                    f.written
                );
                let new = match ip.as_deref() {
                    Some("0.0.0.0" | "::") => None,
                    _ => Some(if spec.split('/').next().unwrap_or(spec).contains(':') {
                        "127.0.0.1:"
                    } else {
                        "127.0.0.1::"
                    }),
                };
                let edit = f.value.as_ref().and_then(|v| {
                    let w = &run.words[v.word];
                    let r = w.file?;
                    // The offset of the value's first character in the word as written.
                    let lead = if v.inline {
                        let k = w.raw.find(spec)?;
                        (w.raw[..k].ends_with('=') || w.raw[..k].starts_with('-')).then_some(k)?
                    } else if w.raw.starts_with(['"', '\'']) {
                        1
                    } else {
                        0
                    };
                    if !w.raw[lead..].starts_with(spec.chars().next()?) {
                        return None;
                    }
                    let at = r.start + lead;
                    match (new, ip.as_deref()) {
                        (Some(prefix), _) => Some(Edit::insert(at, prefix)),
                        (None, Some(old)) => {
                            let len = if old.contains(':') {
                                old.len() + 2
                            } else {
                                old.len()
                            };
                            Some(Edit::replace(
                                TextRange::new(at, at + len),
                                if old.contains(':') {
                                    "[::1]"
                                } else {
                                    "127.0.0.1"
                                },
                            ))
                        }
                        _ => None,
                    }
                });
                let edit = if run.editable() { edit } else { None };
                let app = if own_service {
                    message.push_str(&format!(
                        " (display only: port {port} is what `{}` serves, not remote administration; bind it to 127.0.0.1 only if no other machine connects to it{})",
                        needs.subject,
                        needs.because()
                    ));
                    Applicability::DisplayOnly
                } else {
                    Applicability::Unsafe
                };
                let fix = edit.map(|e| {
                    fix_of(
                        app,
                        format!("Publish port {port} on 127.0.0.1 only"),
                        vec![e],
                    )
                });
                out.push(report(
                    ctx,
                    &site,
                    (Self::CODE, Self::NAME),
                    range,
                    message,
                    fix,
                ));
            }
        }
        out
    }
}
