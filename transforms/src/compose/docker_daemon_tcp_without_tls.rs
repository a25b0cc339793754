use std::collections::BTreeMap;

use crate::compose::model::{who, yaml, Service};
use crate::declare_transform;
use crate::finding::Finding;
use crate::knowledge::{is_socket_proxy, ImageName};
use crate::registry::{Check, Context};
use crate::text::TextRange;
use crate::yaml::Node;

declare_transform! {
    /// ## What it does
    /// Flags a Docker daemon reachable over plain TCP:
    /// - a client pointed at one: `DOCKER_HOST=tcp://host:2375` (or `tcp://host` without a port) in
    ///   `environment` (mapping or list form) without `DOCKER_TLS_VERIFY`;
    /// - a daemon started that way: `dockerd -H tcp://…` / `--host=tcp://…` in `command` or
    ///   `entrypoint` (string or list form; for `docker:dind` images the command's flags go to
    ///   `dockerd`) without `--tlsverify`;
    /// - a `docker:dind` service with `DOCKER_TLS_CERTDIR: ""`, whose entrypoint then listens on
    ///   `tcp://0.0.0.0:2375` without TLS.
    ///
    /// A client pointed at a known filtering socket proxy that is a service of the same file
    /// (`tecnativa/docker-socket-proxy`, `linuxserver/socket-proxy`, `wollomatok/socket-proxy`)
    /// is not flagged: that is the recommended way to give a service limited API access.
    ///
    /// ## Why is this bad?
    /// The Docker API without TLS client authentication has no authentication at all: whoever can reach the port can start a privileged container and owns the host.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   dind:
    ///     image: docker:27-dind
    ///     privileged: true
    ///     environment:
    ///       DOCKER_TLS_CERTDIR: ""
    ///   ci:
    ///     image: docker:27-cli
    ///     environment:
    ///       - DOCKER_HOST=tcp://dind:2375
    /// ```
    /// should become
    /// ```yaml
    /// services:
    ///   dind:
    ///     image: docker:27-dind
    ///     privileged: true
    ///     environment:
    ///       DOCKER_TLS_CERTDIR: /certs
    ///     volumes:
    ///       - certs:/certs/client
    ///   ci:
    ///     image: docker:27-cli
    ///     environment:
    ///       - DOCKER_HOST=tcp://dind:2376
    ///       - DOCKER_TLS_VERIFY=1
    ///       - DOCKER_CERT_PATH=/certs/client
    ///     volumes:
    ///       - certs:/certs/client:ro
    /// ```
    ///
    /// ## Fix safety
    /// No automatic fix: enabling TLS needs certificates on both sides and a client configuration
    /// that only a human can set up. The message says what to change.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT enable TCP Docker daemon socket (`-H tcp://0.0.0.0:XXX`) without TLS".
    /// Docker documentation "Protect the Docker daemon socket"; the CIS Docker Benchmark's daemon
    /// section (TLS authentication for the Docker daemon).
    pub struct DockerDaemonTcpWithoutTls => "DC015", "docker-daemon-tcp-without-tls", Compose, None;
}

/// A finding in the making: where, the verb after the service names (singular, plural), the rest
/// of the message, and the services.
type Hit = (TextRange, [&'static str; 2], String, Vec<String>);

/// One environment variable of a service: name, value (None for `NAME` alone / `NAME:`), and the
/// range of its entry or item.
struct EnvVar {
    name: String,
    value: Option<String>,
    range: TextRange,
}

fn env_vars(svc: &Service) -> Vec<EnvVar> {
    let mut out = Vec::new();
    match svc.value("environment") {
        Some(Node::Mapping(m)) => {
            for (e, _) in m.merged_entries() {
                let value = e
                    .value()
                    .resolve()
                    .filter(|n| !n.is_null())
                    .and_then(|n| n.as_str().map(str::to_owned));
                out.push(EnvVar {
                    name: e.key().to_owned(),
                    value,
                    range: e.range(),
                });
            }
        }
        Some(Node::Sequence(s)) => {
            for item in s.items() {
                let Some(Node::Scalar(sc)) = item.value().resolve() else {
                    continue;
                };
                let (name, value) = match sc.value().split_once('=') {
                    Some((n, v)) => (n.trim().to_owned(), Some(v.to_owned())),
                    None => (sc.value().trim().to_owned(), None),
                };
                out.push(EnvVar {
                    name,
                    value,
                    range: sc.range(),
                });
            }
        }
        _ => {}
    }
    out
}

/// `tcp://host[:port][/path]` → (host, port).
fn tcp_address(value: &str) -> Option<(String, Option<u16>)> {
    let v = value.trim();
    let rest = v
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("tcp://"))
        .map(|_| &v[6..])?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (h, after) = inner.split_once(']')?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((host, port))
}

/// The words of a `command` / `entrypoint`, each with the range to report: list items, or the
/// whole string for the shell form.
fn words(svc: &Service, key: &str) -> Vec<(String, TextRange)> {
    match svc.value(key) {
        Some(Node::Scalar(s)) if !s.is_null() => s
            .value()
            .split_whitespace()
            .map(|w| {
                (
                    w.trim_matches(|c| c == '"' || c == '\'').to_owned(),
                    s.range(),
                )
            })
            .collect(),
        Some(Node::Sequence(seq)) => seq
            .items()
            .into_iter()
            .filter_map(|i| {
                let n = i.value().resolve()?;
                Some((n.as_str()?.to_owned(), n.range()))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn is_dind(image: Option<&ImageName>) -> bool {
    image.is_some_and(|i| {
        i.short() == "docker" && i.tag.as_deref().is_some_and(|t| t.contains("dind"))
    })
}

/// The first `-H tcp://…` / `--host=tcp://…` of a dockerd command line when `--tlsverify` is absent.
fn plain_tcp_listen(words: &[(String, TextRange)]) -> Option<(String, TextRange)> {
    let tls = words.iter().any(|(w, _)| {
        w == "--tlsverify"
            || w.strip_prefix("--tlsverify=")
                .is_some_and(|v| !matches!(v, "false" | "0"))
    });
    if tls {
        return None;
    }
    for (i, (w, range)) in words.iter().enumerate() {
        let value = if w == "-H" || w == "--host" {
            words.get(i + 1).map(|(v, _)| v.as_str())
        } else {
            w.strip_prefix("--host=")
                .or_else(|| w.strip_prefix("-H="))
                .or_else(|| w.strip_prefix("-H"))
        };
        if let Some(v) = value {
            if tcp_address(v).is_some() {
                return Some((v.to_owned(), *range));
            }
        }
    }
    None
}

fn runs_dockerd(words: &[(String, TextRange)]) -> bool {
    words.iter().any(|(w, _)| {
        let base = w.rsplit('/').next().unwrap_or(w);
        base == "dockerd" || base == "dockerd-entrypoint.sh"
    })
}

/// The names a service answers to on a Compose network.
fn network_names(svc: &Service) -> Vec<String> {
    let mut names = vec![svc.name.clone()];
    for key in ["container_name", "hostname"] {
        if let Some(n) = svc.str(key) {
            names.push(n);
        }
    }
    names
}

impl Check for DockerDaemonTcpWithoutTls {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = crate::compose::model::checked_services(ctx, file);
        let proxies: Vec<String> = all
            .iter()
            .filter(|s| s.image().is_some_and(|i| is_socket_proxy(&i)))
            .flat_map(network_names)
            .collect();
        // Keyed by range so that a value shared through an anchor is reported once.
        // The message follows the services' names and a verb (singular, plural).
        let mut hits: BTreeMap<(usize, usize), Hit> = BTreeMap::new();
        let mut add = |range: TextRange, verb: [&'static str; 2], message: String, svc: &str| {
            hits.entry((range.start, range.end))
                .or_insert_with(|| (range, verb, message, Vec::new()))
                .3
                .push(svc.to_owned());
        };
        for svc in &all {
            let env = env_vars(svc);
            let tls_verify = env.iter().any(|v| {
                v.name == "DOCKER_TLS_VERIFY" && v.value.as_deref().is_some_and(|x| !x.is_empty())
            });
            for var in &env {
                let Some(value) = var.value.as_deref() else {
                    continue;
                };
                if var.name == "DOCKER_HOST" && !tls_verify && !value.trim_start().starts_with('$')
                {
                    if let Some((host, port)) = tcp_address(value) {
                        let proxy = proxies.iter().any(|p| p.eq_ignore_ascii_case(&host));
                        if matches!(port, None | Some(2375)) && !proxy {
                            add(
                                var.range,
                                ["points", "point"],
                                format!("`DOCKER_HOST` at `{}`, a Docker daemon without TLS: anyone who reaches that port controls its host. Use port 2376 with `DOCKER_TLS_VERIFY=1` and client certificates, or a filtering socket proxy on an internal network", value.trim()),
                                &svc.name,
                            );
                        }
                    }
                }
                if var.name == "DOCKER_TLS_CERTDIR"
                    && value.trim().is_empty()
                    && is_dind(svc.image().as_ref())
                {
                    let cmd = words(svc, "command");
                    let default_args = cmd.first().is_none_or(|(w, _)| w.starts_with('-'));
                    if default_args && svc.value("entrypoint").is_none() {
                        add(
                            var.range,
                            ["empties", "empty"],
                            "`DOCKER_TLS_CERTDIR`, so the dind entrypoint serves the Docker API on `tcp://0.0.0.0:2375` without TLS: anyone who reaches it controls the daemon. Keep the default `/certs` and give clients `DOCKER_TLS_VERIFY=1` with the generated client certificates".to_owned(),
                            &svc.name,
                        );
                    }
                }
            }
            let dind = is_dind(svc.image().as_ref());
            for key in ["entrypoint", "command"] {
                let w = words(svc, key);
                if !(runs_dockerd(&w) || (dind && key == "command")) {
                    continue;
                }
                if let Some((address, range)) = plain_tcp_listen(&w) {
                    add(
                        range,
                        ["starts", "start"],
                        format!("dockerd listening on `{address}` without `--tlsverify`: the Docker API has no authentication then, and whoever reaches the port controls the host. Add `--tlsverify` with `--tlscacert`/`--tlscert`/`--tlskey`, or listen on the unix socket only"),
                        &svc.name,
                    );
                }
            }
        }
        hits.into_values()
            .map(|(range, verb, message, svcs)| {
                let verb = verb[usize::from(svcs.len() > 1)];
                Finding::new(
                    Self::CODE,
                    Self::NAME,
                    range,
                    format!("{} {verb} {message}", who(&svcs)),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            tcp_address("tcp://dind:2375"),
            Some(("dind".into(), Some(2375)))
        );
        assert_eq!(
            tcp_address("TCP://[::1]:2376/x"),
            Some(("::1".into(), Some(2376)))
        );
        assert_eq!(tcp_address("tcp://docker"), Some(("docker".into(), None)));
        assert_eq!(tcp_address("unix:///var/run/docker.sock"), None);
        let w = |v: &[&str]| -> Vec<(String, TextRange)> {
            v.iter()
                .map(|s| ((*s).to_owned(), TextRange::empty(0)))
                .collect()
        };
        assert!(plain_tcp_listen(&w(&["dockerd", "-H", "tcp://0.0.0.0:2375"])).is_some());
        assert!(plain_tcp_listen(&w(&["dockerd", "--host=tcp://0.0.0.0:2375"])).is_some());
        assert!(plain_tcp_listen(&w(&["dockerd", "-Htcp://0.0.0.0:2375"])).is_some());
        assert!(plain_tcp_listen(&w(&["dockerd", "-H", "unix:///var/run/docker.sock"])).is_none());
        assert!(
            plain_tcp_listen(&w(&["dockerd", "--tlsverify", "-H", "tcp://0.0.0.0:2376"])).is_none()
        );
    }
}
