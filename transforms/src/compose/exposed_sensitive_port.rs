use std::collections::BTreeMap;

use crate::compose::model::{affected_services, only_touches, services, who, yaml};
use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::{Fix, SemanticPath};
use crate::knowledge::{ADMIN_PORTS, DATA_PORTS};
use crate::registry::{Check, Context};
use crate::text::TextRange;
use crate::yaml::{quoted, Mapping, Node, Scalar, ScalarStyle, YamlFile};

declare_transform! {
    /// ## What it does
    /// Flags published ports (`ports:`) whose container port is a remote-administration port (ssh
    /// 22, the Docker daemon 2375/2376, telnet, RDP, VNC, WinRM) or a database / cache port
    /// (PostgreSQL 5432, MySQL 3306, Redis 6379, MongoDB 27017, Elasticsearch, memcached, ...)
    /// when it is published on all interfaces: no host address, `0.0.0.0`, `::`, or a container
    /// port alone (`"5432"` publishes on a random host port on every interface). The fix binds the
    /// port to `127.0.0.1`. Administration ports published on a specific non-loopback address are
    /// reported too (display-only: the address was chosen on purpose).
    ///
    /// ## Why is this bad?
    /// Docker publishes ports by programming the firewall itself, past ufw/firewalld, so a database or daemon published without an address is reachable from every network the host is on.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db:
    ///     image: postgres:16
    ///     ports:
    ///       - 5432:5432
    ///       - target: 22
    ///         published: 2222
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   db:
    ///     image: postgres:16
    ///     ports:
    ///       - "127.0.0.1:5432:5432"
    ///       - target: 22
    ///         published: 2222
    ///         host_ip: 127.0.0.1
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: clients on other hosts (a LAN, another VPS, a git client over ssh) can no longer
    /// connect; containers on the same Compose network are not affected (they use the service
    /// name, not the published port). Put a reverse proxy with TLS and authentication in front of
    /// what must stay public. The short syntax is rewritten as `"127.0.0.1:HOST:CONTAINER"`,
    /// always quoted (a plain `22:22` is a base-60 number to YAML 1.1 loaders); a container port
    /// alone becomes `"127.0.0.1::PORT"` (still a random host port); the long syntax gets
    /// `host_ip: 127.0.0.1`. Compose interpolates before it reads a port, so a published port that
    /// comes from a variable is read with the variable's default: `"${SQL_PORT:-127.0.0.1:13306}:3306"`
    /// already binds the loopback address and is not flagged; `"${PG_PORT:-5432}:5432"` binds all
    /// interfaces by default and gets a display-only suggestion (the variable's value may carry an
    /// address of its own); without a default it is not judged. A port that is the image's own
    /// service port (the knowledge base's `ports`: a database published for its clients) gets a
    /// display-only suggestion: publishing it was the point. When the port list comes from an anchor, the anchor is edited
    /// (every service that inherits the list publishes the same port).
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "DO NOT expose unnecessary ports in Dockerfiles or container configs".
    /// compose-lint CL-0005 (which flags every port bound to all interfaces; this rule only the
    /// sensitive ones), OWASP Docker Security Cheat Sheet (mapping container ports past firewalls
    /// like ufw).
    pub struct ExposedSensitivePort => "DC014", "exposed-sensitive-port", Compose, Sometimes;
}

/// How a port is bound on the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bind {
    /// No address, `0.0.0.0`, `::`, `[::]`, `*`.
    All,
    Loopback,
    /// A specific address or host name.
    Specific,
    /// Interpolated: unknown.
    Unknown,
}

fn bind_of(ip: Option<&str>) -> Bind {
    let Some(ip) = ip.map(str::trim) else {
        return Bind::All;
    };
    if ip.contains('$') {
        return Bind::Unknown;
    }
    let bare = ip
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(ip);
    if bare.is_empty() || bare == "*" {
        return Bind::All;
    }
    match bare.parse::<std::net::IpAddr>() {
        Ok(a) if a.is_unspecified() => Bind::All,
        Ok(a) if a.is_loopback() => Bind::Loopback,
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) if v4.is_unspecified() => Bind::All,
            Some(v4) if v4.is_loopback() => Bind::Loopback,
            _ => Bind::Specific,
        },
        Ok(_) => Bind::Specific,
        Err(_) if bare.eq_ignore_ascii_case("localhost") => Bind::Loopback,
        Err(_) => Bind::Specific,
    }
}

/// A short-syntax port: `[IP:][HOST:]CONTAINER[/PROTO]`.
#[derive(Debug, PartialEq, Eq)]
struct Short<'a> {
    ip: Option<String>,
    host: Option<&'a str>,
    /// The container port with its protocol, as written.
    container: &'a str,
}

/// Split on the colons outside `${...}` (a variable's default may contain a colon).
fn split_fields(s: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                fields.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push(&s[start..]);
    fields
}

fn parse_short(s: &str) -> Short<'_> {
    let fields = split_fields(s.trim());
    match fields.len() {
        1 => Short {
            ip: None,
            host: None,
            container: fields[0],
        },
        2 => Short {
            ip: None,
            host: Some(fields[0]),
            container: fields[1],
        },
        n => Short {
            ip: Some(fields[..n - 2].join(":")),
            host: Some(fields[n - 2]),
            container: fields[n - 1],
        },
    }
}

/// The container ports a spec (`5432`, `5432/tcp`, `8000-8010`) names; None when interpolated or
/// not a port.
fn container_ports(spec: &str) -> Option<(u16, u16)> {
    let port = spec.split('/').next().unwrap_or(spec).trim();
    if port.contains('$') {
        return None;
    }
    match port.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => {
            let p = port.parse().ok()?;
            Some((p, p))
        }
    }
}

/// The sensitive port in a range and what it is; admin ports first.
fn sensitive(range: (u16, u16)) -> Option<(u16, &'static str, bool)> {
    let within = |p: u16| range.0 <= p && p <= range.1;
    ADMIN_PORTS
        .iter()
        .find(|(p, _)| within(*p))
        .map(|(p, n)| (*p, *n, true))
        .or_else(|| {
            DATA_PORTS
                .iter()
                .find(|(p, _)| within(*p))
                .map(|(p, n)| (*p, *n, false))
        })
}

/// What to do with one flagged port item.
enum Plan {
    /// Replace a short-syntax scalar by this value (always written quoted).
    Short(Scalar, String),
    /// The same, for a port whose published address comes from a variable: only suggested (the
    /// variable's value may carry an address of its own).
    Variable(Scalar, String),
    /// Long syntax without `host_ip`: add it.
    InsertHostIp(Mapping),
    /// Long syntax with a wildcard `host_ip`: replace it.
    ReplaceHostIp(Scalar),
}

struct Hit {
    range: TextRange,
    port: u16,
    what: &'static str,
    /// The address was a specific non-loopback one: report only.
    specific: bool,
    plan: Plan,
    written: String,
    services: Vec<String>,
}

fn judge(value: &Node) -> Option<(u16, &'static str, bool, Plan, String)> {
    match value {
        Node::Scalar(s) => {
            let text = s.value().trim().to_owned();
            if text.is_empty() || s.is_null() {
                return None;
            }
            let short = parse_short(&text);
            let (port, what, admin) = sensitive(container_ports(short.container)?)?;
            let variable = short.ip.as_deref().is_some_and(|i| i.contains('$'))
                || short.host.is_some_and(|h| h.contains('$'));
            let bind = if variable {
                // Compose interpolates before it reads the port, and a variable's value may carry
                // an address (`${SQL_PORT:-127.0.0.1:13306}:3306`): read it with the defaults.
                let expanded = crate::needs::interpolate(&text, &|_| None)?;
                bind_of(parse_short(&expanded).ip.as_deref())
            } else {
                bind_of(short.ip.as_deref())
            };
            let specific = match bind {
                Bind::All => false,
                Bind::Specific if admin => true,
                _ => return None,
            };
            let new = format!(
                "127.0.0.1:{}:{}",
                short.host.unwrap_or("").trim(),
                short.container.trim()
            );
            let plan = if variable {
                Plan::Variable(s.clone(), new)
            } else {
                Plan::Short(s.clone(), new)
            };
            Some((port, what, specific, plan, text))
        }
        Node::Mapping(m) => {
            let target = m.get_merged("target")?.0.value().resolve()?;
            let target = target.as_str()?.trim().to_owned();
            let (port, what, admin) = sensitive(container_ports(&target)?)?;
            let written = match m
                .get_merged("published")
                .and_then(|(e, _)| e.value().resolve())
                .and_then(|n| n.as_str().map(str::to_owned))
            {
                Some(p) => format!("{p}:{target}"),
                None => target.clone(),
            };
            match m.get_merged("host_ip") {
                None => Some((port, what, false, Plan::InsertHostIp(m.clone()), written)),
                Some((e, _)) => {
                    let Node::Scalar(ip) = e.value().resolve()? else {
                        return None;
                    };
                    let specific = match bind_of(Some(ip.value())) {
                        Bind::All => false,
                        Bind::Specific if admin => true,
                        _ => return None,
                    };
                    Some((port, what, specific, Plan::ReplaceHostIp(ip), written))
                }
            }
        }
        _ => None,
    }
}

fn collect(file: &YamlFile) -> Vec<Hit> {
    let mut hits: BTreeMap<(usize, usize), Hit> = BTreeMap::new();
    for svc in services(file) {
        let Some(Node::Sequence(seq)) = svc.value("ports") else {
            continue;
        };
        for item in seq.items() {
            let Some(value) = item.value().resolve() else {
                continue;
            };
            let Some((port, what, specific, plan, written)) = judge(&value) else {
                continue;
            };
            let range = value.range();
            hits.entry((range.start, range.end))
                .or_insert_with(|| Hit {
                    range,
                    port,
                    what,
                    specific,
                    plan,
                    written,
                    services: Vec::new(),
                })
                .services
                .push(svc.name.clone());
        }
    }
    hits.into_values().collect()
}

/// The edits of a plan and the semantic paths they change.
fn edits(file: &YamlFile, plan: &Plan) -> Option<(Vec<Edit>, Vec<SemanticPath>)> {
    match plan {
        Plan::Short(s, new) | Plan::Variable(s, new) => {
            let edit = match s.style() {
                ScalarStyle::Single | ScalarStyle::Double => s.replace(new),
                _ => Edit::replace(s.range(), quoted(new, file.preferred_quote())),
            };
            Some((
                vec![edit],
                crate::yaml::node_reach(&s.as_node()).into_paths()?,
            ))
        }
        Plan::InsertHostIp(m) => Some((
            m.insert_entry("host_ip", "127.0.0.1").ok()?,
            crate::yaml::key_reach(m, "host_ip").into_paths()?,
        )),
        Plan::ReplaceHostIp(ip) => Some((
            vec![ip.replace("127.0.0.1")],
            crate::yaml::node_reach(&ip.as_node()).into_paths()?,
        )),
    }
}

impl Check for ExposedSensitivePort {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = crate::compose::model::checked_services(ctx, file);
        collect(file)
            .into_iter()
            .map(|hit| {
                // A port the image itself serves (a git server's SSH) is its function, not remote
                // administration: binding it to the loopback address cuts off its users. Never
                // the Docker API without TLS (2375, docker:dind): publishing it is the hole.
                let own: Vec<String> = crate::compose::model::needs_of(ctx, &all, &hit.services)
                    .into_iter()
                    .filter(|_| hit.port != 2375)
                    .filter(|(_, n)| {
                        n.facts.as_ref().and_then(|f| f.ports.as_ref()).is_some_and(|ports| {
                            ports.iter().any(|p| {
                                p.split('/').next().and_then(|x| x.parse::<u16>().ok())
                                    == Some(hit.port)
                            })
                        })
                    })
                    .map(|(_, n)| n.subject.clone())
                    .collect();
                let planned = edits(file, &hit.plan);
                let mut services = hit.services.clone();
                if let Some((_, changes)) = &planned {
                    for s in affected_services(changes) {
                        if !services.contains(&s) {
                            services.push(s);
                        }
                    }
                }
                let where_ = if hit.specific {
                    "on a network address"
                } else {
                    "on all interfaces"
                };
                let mut message = format!(
                    "{} publish{} port {} ({}) {where_} (`{}`); bind it to 127.0.0.1 and reach it through the Compose network, an ssh tunnel or a proxy with authentication",
                    who(&hit.services),
                    if hit.services.len() == 1 { "es" } else { "" },
                    hit.port,
                    hit.what,
                    hit.written,
                );
                let title = "Bind the published port to 127.0.0.1";
                let wanted: Vec<&str> = hit.services.iter().map(String::as_str).collect();
                let variable = matches!(hit.plan, Plan::Variable(..));
                let own_service = !own.is_empty()
                    && ADMIN_PORTS.iter().any(|(p, _)| *p == hit.port);
                if own_service {
                    message.push_str(&format!(
                        " (display only: port {} is what `{}` serves, not remote administration; bind it to 127.0.0.1 only if no other machine connects to it)",
                        hit.port,
                        own.join("`, `")
                    ));
                }
                if variable {
                    message.push_str(" (display only: the published address comes from a variable, whose value may carry an address of its own: bind it to 127.0.0.1 where the variable is set)");
                }
                let fix = match planned {
                    Some((edits, _)) if variable || own_service => Fix::display_only(title, edits),
                    Some((edits, changes)) if !hit.specific && only_touches(&changes, &wanted) => {
                        Fix::unsafe_(title, edits).with_changes(changes)
                    }
                    Some((edits, changes)) => {
                        if !hit.specific {
                            message.push_str(&format!(
                                " (the port is shared with {}: change it where it is defined)",
                                affected_services(&changes).join(", ")
                            ));
                        }
                        Fix::display_only(title, edits)
                    }
                    None => Fix::display_only(title, Vec::new()),
                };
                Finding::new(Self::CODE, Self::NAME, hit.range, message).with_fix(fix)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_syntax() {
        let s = parse_short("127.0.0.1:5432:5432/tcp");
        assert_eq!(s.ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(s.host, Some("5432"));
        assert_eq!(s.container, "5432/tcp");
        let s = parse_short(":::22:22");
        assert_eq!(bind_of(s.ip.as_deref()), Bind::All);
        let s = parse_short("${PG_PORT:-5432}:5432");
        assert_eq!(s.host, Some("${PG_PORT:-5432}"));
        assert_eq!(s.container, "5432");
        assert_eq!(parse_short("6379").host, None);
        assert_eq!(container_ports("8000-8010/udp"), Some((8000, 8010)));
        assert_eq!(container_ports("${P}"), None);
        assert_eq!(bind_of(Some("[::1]")), Bind::Loopback);
        assert_eq!(bind_of(Some("0.0.0.0")), Bind::All);
        assert_eq!(bind_of(Some("192.168.1.2")), Bind::Specific);
        assert_eq!(bind_of(Some("${BIND}")), Bind::Unknown);
        assert_eq!(bind_of(Some("::ffff:0.0.0.0")), Bind::All);
        assert_eq!(sensitive((2370, 2380)).map(|s| s.0), Some(2375));
        assert!(sensitive((8080, 8080)).is_none());
    }
}
