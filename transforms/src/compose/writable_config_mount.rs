use std::collections::BTreeMap;

use crate::compose::model::{
    edit_scope, edit_scope_for_key, parse_mount, path_within, yaml, EditScope, Mount, MountKind,
    Service,
};
use crate::declare_transform;
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::knowledge::{reads_config_dir, writes_config_path};
use crate::registry::{Check, Context};
use crate::yaml::{Item, Node, Origin};

declare_transform! {
    /// ## What it does
    /// Flags bind mounts of configuration that are writable, and mounts them read-only: `:ro` in
    /// short syntax (`:rw` becomes `:ro`, other options stay: `:z` becomes `:ro,z`), `read_only:
    /// true` in long syntax. Configuration is a bind mount whose target is under `/etc`, a file
    /// with a configuration, certificate or key extension (`.conf`, `.cnf`, `.ini`, `.yml`,
    /// `.yaml`, `.json`, `.toml`, `.xml`, `.properties`, `.cfg`, `.template`, `.pem`, `.crt`,
    /// `.key`, ...), an init script (`.sql`, `.sh`), or a certificate folder (`certs`, `ssl`,
    /// `tls`). Named volumes and data locations (`/config`, `/data`, `/var/lib/...`, `/var/log`,
    /// `/run`, `/tmp`, sockets, `acme.json`) are never flagged.
    ///
    /// ## Why is this bad?
    /// A container that can rewrite its own configuration, certificates or start-up scripts on the host turns a compromise into persistence: the change survives restarts and may run with more privilege next time.
    ///
    /// Mounting what the service only reads as read-only costs nothing and keeps the host copy
    /// authoritative.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx:1.27
    ///     volumes:
    ///       - ./nginx.conf:/etc/nginx/nginx.conf
    ///       - ./certs:/etc/nginx/certs:z
    ///       - ./html:/usr/share/nginx/html
    /// ```
    /// becomes
    /// ```yaml
    /// services:
    ///   web:
    ///     image: nginx:1.27
    ///     volumes:
    ///       - ./nginx.conf:/etc/nginx/nginx.conf:ro
    ///       - ./certs:/etc/nginx/certs:ro,z
    ///       - ./html:/usr/share/nginx/html
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: a service that writes its configuration (a settings page that saves to a mounted
    /// `config.json`, a certificate renewer) fails to save. Images known to write paths that look
    /// like configuration (certbot and `/etc/letsencrypt`, nginx-proxy's `conf.d`, Pi-hole's
    /// `/etc/pihole`, GitLab's `/etc/gitlab`, linuxserver.io images' `/config`) are left alone
    /// (the knowledge base's `config-writes`, `state` and `writes-when`). When the mount comes from an anchor or a list shared by
    /// several services, it is edited in place only when every service that uses it gets the same
    /// change; otherwise the fix is display-only.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Mount volumes as read-only (`:ro`) when write access is not needed". OWASP
    /// Docker Security Cheat Sheet rule 8 ("Set filesystem and volumes to read-only").
    pub struct WritableConfigMount => "DC009", "writable-config-mount", Compose, Sometimes;
}

/// Configuration-file extensions (lower case).
const CONFIG_EXTENSIONS: &[&str] = &[
    "conf",
    "cnf",
    "ini",
    "yml",
    "yaml",
    "json",
    "toml",
    "xml",
    "properties",
    "cfg",
    "template",
];

/// Certificate and key extensions.
const CERT_EXTENSIONS: &[&str] = &["pem", "crt", "key", "cer", "der", "p12", "pfx"];

/// Init and start-up scripts that containers read and run.
const SCRIPT_EXTENSIONS: &[&str] = &["sql", "sh"];

/// Configuration files without an extension.
const CONFIG_NAMES: &[&str] = &["Caddyfile", "Corefile", "htpasswd", ".htpasswd"];

/// Folder names that hold certificates.
const CERT_DIRS: &[&str] = &["certs", "certificates", "cert", "ssl", "tls"];

/// Targets that hold data, never configuration (linuxserver.io and Home Assistant keep their state
/// in `/config`).
const DATA_TARGETS: &[&str] = &[
    "/config",
    "/data",
    "/var/lib",
    "/var/log",
    "/var/run",
    "/run",
    "/tmp",
    "/dev",
    "/proc",
    "/sys",
    "/var/cache",
    "/var/spool",
    "/mnt",
    "/media",
];

/// Extensions of files an application writes.
const DATA_EXTENSIONS: &[&str] = &["db", "sqlite", "sqlite3", "log", "lock", "pid", "sock"];

fn file_name(path: &str) -> &str {
    let p = path.trim_end_matches(['/', '\\']);
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// The lower-case extension of a file name (`nginx.conf` → `conf`; `.htpasswd` and the folder
/// `conf.d` → none).
fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() || ext.len() > 10 || ext == "d" {
        return None;
    }
    ext.chars()
        .all(|c| c.is_ascii_alphanumeric())
        .then(|| ext.to_ascii_lowercase())
}

/// Why a bind mount is configuration (for the message), or None. `certain` is false for a folder
/// under `/etc`: many applications keep state there, so only images known to merely read it get an
/// applicable fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reason {
    text: &'static str,
    certain: bool,
}

fn config_reason(mount: &Mount) -> Option<Reason> {
    if mount.kind != MountKind::Bind {
        return None;
    }
    let target = mount.target.trim();
    if !target.starts_with('/') || target.contains('$') {
        return None;
    }
    let source = mount.source.as_deref().unwrap_or("");
    if DATA_TARGETS.iter().any(|d| path_within(target, d))
        || target.trim_end_matches('/').is_empty()
    {
        return None;
    }
    let names = [file_name(target), file_name(source)];
    if names
        .iter()
        .any(|n| n.to_ascii_lowercase().contains("acme") || n.ends_with(".sock"))
    {
        return None;
    }
    let exts: Vec<String> = names.iter().filter_map(|n| extension(n)).collect();
    if exts.iter().any(|e| DATA_EXTENSIONS.contains(&e.as_str())) {
        return None;
    }
    let certain = |text| {
        Some(Reason {
            text,
            certain: true,
        })
    };
    if exts.iter().any(|e| CERT_EXTENSIONS.contains(&e.as_str())) {
        return certain("a certificate or key");
    }
    if exts.iter().any(|e| CONFIG_EXTENSIONS.contains(&e.as_str()))
        || names.iter().any(|n| CONFIG_NAMES.contains(n))
    {
        return certain("a configuration file");
    }
    if exts.iter().any(|e| SCRIPT_EXTENSIONS.contains(&e.as_str())) {
        return certain("a start-up script");
    }
    if CERT_DIRS.contains(&file_name(target)) {
        return certain("a certificate folder");
    }
    if path_within(target, "/etc") {
        // A file (it has an extension) is configuration; a folder may be state.
        return Some(if extension(file_name(target)).is_some() {
            Reason {
                text: "a configuration file under /etc",
                certain: true,
            }
        } else {
            Reason {
                text: "a configuration folder under /etc",
                certain: false,
            }
        });
    }
    None
}

/// Whether the service's image writes there although it looks like configuration.
fn image_writes(config: &[crate::images::Entry], svc: &Service, mount: &Mount) -> bool {
    let Some(image) = svc.image_hint() else {
        return false;
    };
    let target = mount.target.trim();
    if writes_config_path(config, &image, target) {
        return true;
    }
    // Paths it writes in this service's setup (`writes-when`: a mounted templates folder, a
    // variable that turns on a rewrite).
    let Some(facts) = crate::images::lookup(config, &image).map(|k| k.facts) else {
        return false;
    };
    let targets: Vec<String> = match svc.value("volumes") {
        Some(Node::Sequence(seq)) => seq
            .items()
            .iter()
            .filter_map(|i| parse_mount(&i.value()))
            .map(|m| m.target.trim().to_owned())
            .collect(),
        _ => Vec::new(),
    };
    let env = crate::compose::model::environment_names(svc);
    facts.writes_when.iter().flatten().any(|w| {
        let holds = match (&w.mounted, &w.env) {
            (Some(m), _) => targets
                .iter()
                .any(|t| path_within(t, m) || path_within(m, t)),
            (None, Some(v)) => env.contains(v),
            (None, None) => false,
        };
        holds && (path_within(target, &w.path) || path_within(&w.path, target))
    })
}

/// Whether the service's image is known to only read the folder.
fn image_reads(config: &[crate::images::Entry], svc: &Service, mount: &Mount) -> bool {
    svc.image_hint()
        .is_some_and(|i| reads_config_dir(config, &i, mount.target.trim()))
}

/// A configuration mount and the services that use it.
struct Hit {
    item: Item,
    /// The resolved volume node (the scalar or mapping to edit).
    node: Node,
    mount: Mount,
    reason: Reason,
    /// Services that should mount it read-only.
    services: Vec<String>,
    /// Services that reach the same node but write there (their image does).
    writers: Vec<String>,
    /// Services (of `services`) not known to only read an uncertain folder.
    unsure: Vec<String>,
}

fn collect(config: &[crate::images::Entry], all: &[Service]) -> Vec<Hit> {
    let mut hits: BTreeMap<(usize, usize), Hit> = BTreeMap::new();
    for svc in all {
        let Some((entry, _)) = svc.get("volumes") else {
            continue;
        };
        let Some(Node::Sequence(seq)) = entry.value().resolve() else {
            continue;
        };
        for item in seq.items() {
            let Some(node) = item.value().resolve() else {
                continue;
            };
            let Some(mount) = parse_mount(&node) else {
                continue;
            };
            if mount.is_read_only()
                || (mount.long && mount.read_only.is_none() && has_read_only_key(&node))
            {
                continue;
            }
            let Some(reason) = config_reason(&mount) else {
                continue;
            };
            let writer = image_writes(config, svc, &mount);
            let key = (node.range().start, node.range().end);
            let hit = hits.entry(key).or_insert_with(|| Hit {
                item: item.clone(),
                node: node.clone(),
                mount: mount.clone(),
                reason,
                services: Vec::new(),
                writers: Vec::new(),
                unsure: Vec::new(),
            });
            if writer {
                hit.writers.push(svc.name.clone());
            } else {
                if !reason.certain && !image_reads(config, svc, &mount) {
                    hit.unsure.push(svc.name.clone());
                }
                hit.services.push(svc.name.clone());
            }
        }
    }
    hits.into_values()
        .filter(|h| !h.services.is_empty())
        .collect()
}

/// A long-syntax mapping with an interpolated `read_only:` (`${RO}`): not judged.
fn has_read_only_key(node: &Node) -> bool {
    node.as_mapping()
        .is_some_and(|m| m.get_merged("read_only").is_some())
}

/// The new short spec: `:ro` appended, `rw` replaced, or `ro,` put before the other options.
fn read_only_spec(spec: &str, mount: &Mount) -> String {
    match mount.options_at {
        None => format!("{spec}:ro"),
        Some(at) => {
            let opts: Vec<&str> = spec[at..].split(',').collect();
            let new = if opts.iter().any(|o| o.trim() == "rw") {
                opts.iter()
                    .map(|o| if o.trim() == "rw" { "ro" } else { o })
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                format!("ro,{}", &spec[at..])
            };
            format!("{}{new}", &spec[..at])
        }
    }
}

/// The edits making the mount read-only, and what they change.
fn edits(hit: &Hit) -> Option<(Vec<Edit>, EditScope)> {
    match &hit.node {
        Node::Scalar(s) => {
            let new = read_only_spec(s.value(), &hit.mount);
            Some((vec![s.replace(&new)], edit_scope(&hit.node)))
        }
        Node::Mapping(m) => match m.get_merged("read_only") {
            Some((e, Origin::Own)) => {
                let v = e.value();
                let Node::Scalar(s) = &v else {
                    return None;
                };
                Some((vec![s.replace("true")], edit_scope(&v)))
            }
            _ => {
                let edits = m.insert_entry("read_only", "true").ok()?;
                Some((edits, edit_scope_for_key(m, "read_only")))
            }
        },
        _ => None,
    }
}

fn names(list: &[String]) -> String {
    list.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Check for WritableConfigMount {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(file) = yaml(ctx) else {
            return Vec::new();
        };
        let all = crate::compose::model::checked_services(ctx, file);
        collect(&ctx.settings.images, &all)
            .into_iter()
            .map(|hit| {
                let who = if hit.services.len() == 1 {
                    format!("Service `{}` mounts", hit.services[0])
                } else {
                    format!("Services {} mount", names(&hit.services))
                };
                let source = hit.mount.source.as_deref().unwrap_or("");
                let target = hit.mount.target.as_str();
                let mut message = format!(
                    "{who} {} (`{source}` at `{target}`) writable: the container can change it on the host. Mount it read-only",
                    hit.reason.text
                );
                let suffix = if hit.mount.long { "`read_only: true`" } else { "`:ro`" };
                let title = format!("Mount `{target}` read-only ({suffix})");
                let finding_range = hit.item.range();
                let Some((edits, scope)) = edits(&hit) else {
                    return Finding::new(Self::CODE, Self::NAME, finding_range, message);
                };
                let others: Vec<String> = scope
                    .services
                    .iter()
                    .filter(|s| !hit.services.contains(s))
                    .cloned()
                    .collect();
                let fix = if scope.foreign {
                    message.push_str(
                        "; the mount is shared through an anchor used outside the services, so the fix is only shown",
                    );
                    Fix::display_only(title, edits)
                } else if !others.is_empty() {
                    message.push_str(&format!(
                        "; the mount is shared with {}, which {} it, so the fix is only shown (give each service its own `volumes`)",
                        names(&others),
                        if hit.writers.iter().any(|w| others.contains(w)) {
                            "writes"
                        } else {
                            "may write"
                        }
                    ));
                    Fix::display_only(title, edits)
                } else if !hit.unsure.is_empty() {
                    message.push_str(
                        " if the service only reads it (some applications keep state in their folder under /etc, so the fix is only shown)",
                    );
                    Fix::display_only(title, edits)
                } else {
                    Fix::unsafe_(title, edits)
                };
                Finding::new(Self::CODE, Self::NAME, finding_range, message)
                    .with_fix(fix.with_changes(scope.paths))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::parse_short_mount;

    fn reason(spec: &str) -> Option<&'static str> {
        config_reason(&parse_short_mount(spec).unwrap()).map(|r| r.text)
    }

    #[test]
    fn what_counts_as_configuration() {
        assert!(reason("./nginx.conf:/etc/nginx/nginx.conf").is_some());
        assert!(reason("./conf.d:/etc/nginx/conf.d").is_some());
        assert!(reason("./prometheus.yml:/prometheus/prometheus.yml").is_some());
        assert!(reason("./certs:/certs").is_some());
        assert!(reason("./tls.key:/app/tls.key").is_some());
        assert!(reason("./init.sql:/docker-entrypoint-initdb.d/init.sql").is_some());
        assert!(reason("${CONF:-./app.ini}:/app/app.ini").is_some());
        assert!(reason("C:\\conf\\app.toml:/app/app.toml").is_some());
        let dir = config_reason(&parse_short_mount("./x:/etc/x").unwrap()).unwrap();
        assert!(!dir.certain);
        let file = config_reason(&parse_short_mount("./x.rules:/etc/x/x.rules").unwrap()).unwrap();
        assert!(file.certain);
        for data in [
            "./config:/config",
            "./settings.json:/config/settings.json",
            "./data:/data",
            "db:/etc/mysql",
            "./mysql:/var/lib/mysql",
            "./acme.json:/acme.json",
            "./app.db:/app/app.db",
            "/var/run/docker.sock:/var/run/docker.sock",
            "./html:/usr/share/nginx/html",
            "/etc/nginx",
        ] {
            assert_eq!(reason(data), None, "{data}");
        }
    }

    #[test]
    fn read_only_specs() {
        let m = |s: &str| parse_short_mount(s).unwrap();
        let s = "./a.conf:/etc/a.conf";
        assert_eq!(read_only_spec(s, &m(s)), "./a.conf:/etc/a.conf:ro");
        let s = "./a.conf:/etc/a.conf:rw";
        assert_eq!(read_only_spec(s, &m(s)), "./a.conf:/etc/a.conf:ro");
        let s = "./a.conf:/etc/a.conf:z";
        assert_eq!(read_only_spec(s, &m(s)), "./a.conf:/etc/a.conf:ro,z");
        let s = "./a.conf:/etc/a.conf:rw,Z";
        assert_eq!(read_only_spec(s, &m(s)), "./a.conf:/etc/a.conf:ro,Z");
        let s = "${D:-./x}/a.conf:/etc/a.conf";
        assert_eq!(read_only_spec(s, &m(s)), "${D:-./x}/a.conf:/etc/a.conf:ro");
    }
}
