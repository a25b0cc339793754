//! What the rules know about images, credentials and ports, in one place, shared by the Dockerfile,
//! compose and Kubernetes rules. Every table is documented; extend them here, never in a rule.

use crate::settings::Settings;

/// The family of a base image: decides which tools create a user, which fetchers exist, and whether
/// POSIX commands may be used at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Alpine and BusyBox: `addgroup -S` / `adduser -S -D -H`, BusyBox `wget`.
    Alpine,
    /// Debian, Ubuntu: `groupadd -r` / `useradd -r`; no curl/wget by default in slim images.
    Debian,
    /// RHEL, UBI, Fedora, CentOS, Rocky, Alma, Amazon Linux: `groupadd -r` / `useradd -r`.
    Rhel,
    /// Google distroless / Chainguard static: no shell, ships `nonroot` (65532).
    Distroless,
    /// `FROM scratch`: nothing at all.
    Scratch,
    /// Windows nanoserver / servercore: `ContainerUser`, never a POSIX command.
    Windows,
    Unknown,
}

impl Family {
    #[must_use]
    pub const fn has_shell(self) -> bool {
        matches!(self, Self::Alpine | Self::Debian | Self::Rhel)
    }
}

/// A parsed image reference (`registry/repository:tag@digest`) as plain strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageName {
    pub registry: Option<String>,
    /// Repository path as written, without registry (e.g. `library/nginx`, `bitnami/redis`).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageName {
    /// Parse with docker's reference grammar: the first path component is a registry when it contains
    /// `.` or `:` or is `localhost`; the tag follows the last `:` after the last `/`; the digest `@`.
    #[must_use]
    pub fn parse(reference: &str) -> Self {
        // (Byte loops: the characters searched for are ASCII, so a byte position is a character
        // boundary, and references are short: a loop costs less than a `str` searcher's set-up.
        // Parsed for every image of every file, several times.)
        let find = |s: &str, c: u8| s.bytes().position(|b| b == c);
        let (rest, digest) = match find(reference, b'@') {
            Some(i) => (&reference[..i], Some(reference[i + 1..].to_owned())),
            None => (reference, None),
        };
        let (registry, path) = match find(rest, b'/') {
            Some(i)
                if rest[..i].bytes().any(|b| b == b'.' || b == b':')
                    || &rest[..i] == "localhost" =>
            {
                (Some(rest[..i].to_owned()), &rest[i + 1..])
            }
            _ => (None, rest),
        };
        let last_slash = path.bytes().rposition(|b| b == b'/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last_slash..].bytes().rposition(|b| b == b':') {
            Some(i) => (
                path[..last_slash + i].to_owned(),
                Some(path[last_slash + i + 1..].to_owned()),
            ),
            None => (path.to_owned(), None),
        };
        Self {
            registry,
            repository,
            tag,
            digest,
        }
    }

    /// The short name used in the tables: Docker Hub's `library/` and `docker.io` removed, lower case
    /// (`docker.io/library/nginx` → `nginx`, `ghcr.io/foo/bar` → `ghcr.io/foo/bar`).
    #[must_use]
    pub fn short(&self) -> String {
        let hub = matches!(
            self.registry.as_deref(),
            None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io")
        );
        let repo = if hub {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
        } else {
            &self.repository
        };
        match (&self.registry, hub) {
            (Some(r), false) => format!("{r}/{repo}").to_ascii_lowercase(),
            _ => repo.to_ascii_lowercase(),
        }
    }

    /// The last path component (`bitnami/redis` → `redis`).
    #[must_use]
    pub fn base_name(&self) -> String {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
            .to_ascii_lowercase()
    }

    /// Pinned = has a digest, or a tag other than `latest`.
    #[must_use]
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some() || self.tag.as_deref().is_some_and(|t| t != "latest")
    }

    /// Whether the reference follows docker's grammar (lower-case repository path components of
    /// `[a-z0-9._-]`, a registry of `[A-Za-z0-9.-]` with an optional `:port`, a tag of `[\w.-]` not
    /// starting with `.` or `-`, at most 128 characters). Placeholders from documentation such as
    /// `ImageName` or `<image>` are not references.
    #[must_use]
    pub fn is_well_formed(&self) -> bool {
        let registry_ok = self.registry.as_deref().is_none_or(|r| {
            let (host, port) = r.split_once(':').unwrap_or((r, ""));
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                && port.bytes().all(|b| b.is_ascii_digit())
        });
        let repo_ok = !self.repository.is_empty()
            && self.repository.split('/').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| {
                        b.is_ascii_lowercase()
                            || b.is_ascii_digit()
                            || matches!(b, b'.' | b'_' | b'-')
                    })
                    && c.as_bytes()[0].is_ascii_alphanumeric()
            });
        let tag_ok = self.tag.as_deref().is_none_or(|t| {
            !t.is_empty()
                && t.len() <= 128
                && !t.starts_with(['.', '-'])
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        });
        registry_ok && repo_ok && tag_ok
    }

    /// The reference contains variable interpolation (`${X}`, `$X`): it cannot be judged statically.
    #[must_use]
    pub fn is_templated(reference: &str) -> bool {
        reference.contains('$') || reference.contains("{{")
    }
}

/// Look the image up in the pin table: keys are compared with the name as written (without tag and
/// digest) and with its short form. Returns the pin value (`tag`, `tag@sha256:…` or `@sha256:…`).
#[must_use]
pub fn pin_for<'s>(settings: &'s Settings, image: &ImageName) -> Option<&'s str> {
    let written = match &image.registry {
        Some(r) => format!("{r}/{}", image.repository),
        None => image.repository.clone(),
    };
    settings
        .pins
        .get(&written)
        .or_else(|| settings.pins.get(&image.short()))
        .map(String::as_str)
}

/// The text that replaces the `:tag` / `@digest` part of a reference for a pin value: a value starting
/// with `@` is a bare digest (the written tag, if not `latest`, is kept before it); otherwise it is
/// `tag` or `tag@digest`.
#[must_use]
pub fn pinned_suffix(image: &ImageName, pin: &str) -> String {
    if let Some(digest) = pin.strip_prefix('@') {
        match image.tag.as_deref() {
            Some(t) if t != "latest" => format!(":{t}@{digest}"),
            _ => format!("@{digest}"),
        }
    } else {
        format!(":{pin}")
    }
}

/// The family of an image reference, using the tag when it names the distribution
/// (`python:3.12-alpine` is Alpine, `node:20-bookworm-slim` Debian, `*-windowsservercore*` Windows).
#[must_use]
pub fn family_of(image: &ImageName) -> Family {
    thread_local! {
        /// By reference, as [`built_in_facts`]: asked for every stage and service.
        static FAMILIES: crate::memo::Cache<Family> = crate::memo::Cache::default();
    }
    const FAMILIES_CACHE_ENTRIES: usize = 4096;
    crate::memo::get_or_compute(
        &FAMILIES,
        FAMILIES_CACHE_ENTRIES,
        image_key(image).bytes(),
        || family_of_uncached(image),
    )
}

/// Every part of an image reference, as a cache key.
fn image_key(image: &ImageName) -> crate::memo::Key {
    crate::memo::Key::default()
        .opt(image.registry.as_deref())
        .text(&image.repository)
        .opt(image.tag.as_deref())
        .opt(image.digest.as_deref())
}

fn family_of_uncached(image: &ImageName) -> Family {
    let tag = image.tag.as_deref().unwrap_or("").to_ascii_lowercase();
    let short = image.short();
    if short == "scratch" {
        return Family::Scratch;
    }
    if tag.contains("nanoserver")
        || tag.contains("windowsservercore")
        || tag.contains("ltsc20")
        || short.contains("windows")
        || short.contains("nanoserver")
    {
        return Family::Windows;
    }
    // Ubuntu "chiseled" images (e.g. .NET's `8.0-jammy-chiseled`) have no shell, like distroless.
    if short.contains("distroless")
        || short.starts_with("cgr.dev/chainguard/static")
        || tag.contains("distroless")
        || tag.contains("chiseled")
    {
        return Family::Distroless;
    }
    // CBL-Mariner / Azure Linux variants use tdnf: none of the families here.
    if tag.contains("mariner") || tag.contains("azurelinux") {
        return Family::Unknown;
    }
    if tag.contains("alpine") || short.contains("alpine") {
        return Family::Alpine;
    }
    if short.starts_with("redhat/ubi")
        || short.starts_with("registry.access.redhat.com/ubi")
        || short.starts_with("registry.redhat.io/ubi")
        || tag.contains("ubi")
        || tag.contains("oraclelinux")
        || tag.contains("centos")
        || tag.contains("rockylinux")
        || tag.contains("almalinux")
        || tag.contains("amazonlinux")
    {
        return Family::Rhel;
    }
    if [
        "bookworm", "bullseye", "buster", "trixie", "jammy", "noble", "focal", "slim", "resolute",
    ]
    .iter()
    .any(|d| tag.contains(d))
    {
        return Family::Debian;
    }
    if let Some(f) = built_in_facts(image).and_then(|f| f.family.clone()) {
        return match f.as_str() {
            "alpine" => Family::Alpine,
            "debian" => Family::Debian,
            "rhel" => Family::Rhel,
            "distroless" => Family::Distroless,
            "scratch" => Family::Scratch,
            "windows" => Family::Windows,
            _ => Family::Unknown,
        };
    }
    // Images named after their distribution (`registry.k8s.io/debian-base`, `cpuguy83/ubuntu`).
    let base = image.base_name();
    if base.starts_with("debian") || base.starts_with("ubuntu") {
        return Family::Debian;
    }
    Family::Unknown
}

// ---------------------------------------------------------------------------------------------
// Users, tools and processes inside images (DF002 runs-as-root, DF004 missing-healthcheck,
// DF009 full-base-image)

/// The built-in knowledge base's facts for an image, for its tag (no configuration entries: the
/// callers that have the configuration use [`crate::needs`]).
#[must_use]
pub fn built_in_facts(image: &ImageName) -> Option<std::sync::Arc<crate::images::Facts>> {
    thread_local! {
        /// By reference: the rules ask about the same few images for every stage, service and
        /// container, and a look-up resolves (clones) an entry's facts. The built-in knowledge
        /// base never changes during a run.
        static FACTS: crate::memo::Cache<Option<std::sync::Arc<crate::images::Facts>>> =
            crate::memo::Cache::default();
    }
    const FACTS_CACHE_ENTRIES: usize = 4096;
    crate::memo::get_or_compute(
        &FACTS,
        FACTS_CACHE_ENTRIES,
        image_key(image).bytes(),
        || crate::images::lookup(&[], image).map(|k| std::sync::Arc::new(k.facts)),
    )
}

/// Whether the image's default user is non-root: its `USER` in the knowledge base, or a `nonroot`
/// tag (`gcr.io/distroless/static:nonroot`, `…:debug-nonroot`).
#[must_use]
pub fn runs_as_non_root(image: &ImageName) -> bool {
    let tag = image.tag.as_deref().unwrap_or("").to_ascii_lowercase();
    tag.contains("nonroot")
        || built_in_facts(image)
            .and_then(|f| f.user.clone())
            .is_some_and(|u| !u.contains('$') && !crate::needs::is_root_user(&u))
}

/// A "minimal" RHEL-like variant (`ubi9-minimal`, `ubi9/ubi-minimal`, `rockylinux:9-minimal`,
/// `oraclelinux:9-slim`): it has `microdnf` but not `useradd`/`groupadd` (shadow-utils).
#[must_use]
pub fn is_rhel_minimal(image: &ImageName) -> bool {
    let short = image.short();
    let tag = image.tag.as_deref().unwrap_or("").to_ascii_lowercase();
    short.contains("minimal")
        || tag.contains("minimal")
        || (short.ends_with("oraclelinux") && tag.contains("slim"))
}

/// A RHEL "micro" variant (`ubi9/ubi-micro`, `ubi9-micro`): no package manager and no `useradd`.
#[must_use]
pub fn is_rhel_micro(image: &ImageName) -> bool {
    let short = image.short();
    let tag = image.tag.as_deref().unwrap_or("").to_ascii_lowercase();
    short.contains("-micro") || short.ends_with("/ubi-micro") || tag.contains("micro")
}

/// RHEL-like images whose standard variants ship `useradd`/`groupadd` (shadow-utils): UBI, Fedora,
/// CentOS, Rocky, Alma, Oracle Linux. Not the minimal/micro variants and not Amazon Linux (whose
/// container image lacks shadow-utils).
#[must_use]
pub fn rhel_ships_useradd(image: &ImageName) -> bool {
    if is_rhel_minimal(image) || is_rhel_micro(image) {
        return false;
    }
    let short = image.short();
    let base = image.base_name();
    let ubi = base.starts_with("ubi")
        && base[3..].chars().all(|c| c.is_ascii_digit())
        && (short.starts_with("redhat/")
            || short.starts_with("registry.access.redhat.com/")
            || short.starts_with("registry.redhat.io/"));
    ubi || short == "registry.access.redhat.com/ubi9/ubi"
        || short == "registry.access.redhat.com/ubi8/ubi"
        || short == "registry.access.redhat.com/ubi10/ubi"
        || [
            "fedora",
            "centos",
            "rockylinux",
            "almalinux",
            "oraclelinux",
            "rockylinux/rockylinux",
            "quay.io/centos/centos",
        ]
        .contains(&short.as_str())
}

/// The package manager of a RHEL-like image that lacks `useradd`, to install shadow-utils with:
/// `microdnf` in minimal variants, `dnf`/`yum` in Amazon Linux 2023/2; None for micro variants
/// (no package manager) and unknown images.
#[must_use]
pub fn rhel_package_manager(image: &ImageName) -> Option<&'static str> {
    if is_rhel_micro(image) {
        return None;
    }
    if is_rhel_minimal(image) {
        return Some("microdnf");
    }
    if image.short() == "amazonlinux" {
        let tag = image.tag.as_deref().unwrap_or("latest");
        return Some(if tag == "2" || tag.starts_with("2.") {
            "yum"
        } else {
            "dnf"
        });
    }
    None
}

/// An HTTP client a healthcheck can call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetcher {
    Curl,
    Wget,
}

/// The HTTP clients an image ships by itself: what the knowledge base says for its tag (`nginx`
/// got curl in 1.17.10, `-slim` variants purge what they used to build), else BusyBox `wget` in
/// Alpine and BusyBox images (part of their base system), else none known.
#[must_use]
pub fn shipped_fetchers(image: &ImageName) -> Vec<Fetcher> {
    if let Some(clients) = built_in_facts(image).and_then(|f| f.http_clients.clone()) {
        return clients
            .iter()
            .filter_map(|c| match c.as_str() {
                "curl" => Some(Fetcher::Curl),
                "wget" => Some(Fetcher::Wget),
                _ => None,
            })
            .collect();
    }
    if family_of(image) == Family::Alpine {
        return vec![Fetcher::Wget];
    }
    Vec::new()
}

/// The HTTP port a known server image listens on by default (the knowledge base's `http-port` for
/// its tag; a Dockerfile built on it inherits the image's `EXPOSE`). None for non-HTTP servers and
/// FastCGI (`-fpm`) variants.
#[must_use]
pub fn default_http_port(image: &ImageName) -> Option<u16> {
    let tag = image.tag.as_deref().unwrap_or("").to_ascii_lowercase();
    if tag.contains("fpm") {
        return None;
    }
    built_in_facts(image).and_then(|f| f.http_port)
}

/// Whether the knowledge base knows the image as a long-running server.
#[must_use]
pub fn is_server(image: &ImageName) -> bool {
    built_in_facts(image).is_some_and(|f| f.kind.as_deref() == Some("server"))
}

/// A smaller variant of the image to suggest (the knowledge base's `slim`).
#[must_use]
pub fn slim_variant(image: &ImageName) -> Option<String> {
    built_in_facts(image).and_then(|f| f.slim.clone())
}

/// Groups that a family's base image already has, by name: their gid (`adduser -G www-data` in
/// Alpine joins the existing group 82).
#[must_use]
pub fn system_group_gid(family: Family, name: &str) -> Option<u32> {
    match (family, name) {
        (Family::Alpine, "www-data") => Some(82),
        (Family::Debian, "www-data") => Some(33),
        (Family::Alpine | Family::Debian | Family::Rhel, "users") => Some(100),
        (_, "root") => Some(0),
        _ => None,
    }
}

/// Whether `hay` contains any of `needles`: `needles.iter().any(|n| hay.contains(n))` without a
/// substring searcher set up per needle, for the short words of command lines.
#[must_use]
pub fn contains_any(hay: &str, needles: &[&str]) -> bool {
    // Only the positions holding some needle's first byte can start a match.
    let mut first = [false; 256];
    for n in needles {
        match n.as_bytes().first() {
            Some(&b) => first[usize::from(b)] = true,
            None => return true,
        }
    }
    let h = hay.as_bytes();
    h.iter().enumerate().any(|(i, &b)| {
        first[usize::from(b)] && needles.iter().any(|n| h[i..].starts_with(n.as_bytes()))
    })
}

/// Programs that switch users inside an entrypoint (the image starts as root on purpose and drops
/// privileges itself): found in a stage's RUN/CMD/ENTRYPOINT text.
pub const PRIVILEGE_DROP_TOOLS: &[&str] = &[
    "gosu",
    "su-exec",
    "s6-overlay",
    "s6-setuidgid",
    "setpriv",
    "chpst",
];

/// Servers that must start as root and drop privileges to their own worker user (their pid, log and
/// cache paths are root-owned): run as another user, they fail at start.
pub const ROOT_START_SERVERS: &[&str] = &[
    "nginx",
    "openresty",
    "httpd",
    "httpd-foreground",
    "apache2",
    "apache2-foreground",
    "apache2ctl",
    "sshd",
];

/// Programs whose job needs root at run time: daemons that manage the system (cron, sshd, process
/// supervisors that start services as several users, firewalls, network setup, a Docker daemon).
/// A stage that starts one of them keeps its root `USER`.
pub const ROOT_PROGRAMS: &[&str] = &[
    "cron",
    "crond",
    "anacron",
    "sshd",
    "supervisord",
    "runsvdir",
    "s6-svscan",
    "systemd",
    "init",
    "iptables",
    "ip6tables",
    "iptables-restore",
    "nft",
    "ip",
    "sysctl",
    "modprobe",
    "mount",
    "dockerd",
    "dockerd-entrypoint.sh",
    "containerd",
    "openvpn",
    "wg-quick",
    "rsyslogd",
    "syslog-ng",
    "postfix",
    "dovecot",
    "chown",
    "setcap",
];

/// Long-running servers recognised by the program of CMD/ENTRYPOINT (`php-fpm` also matches
/// `php-fpm8.2`).
pub const SERVER_COMMANDS: &[&str] = &[
    "nginx",
    "openresty",
    "httpd",
    "httpd-foreground",
    "apache2-foreground",
    "apache2ctl",
    "caddy",
    "traefik",
    "haproxy",
    "envoy",
    "gunicorn",
    "uvicorn",
    "hypercorn",
    "daphne",
    "php-fpm",
    "puma",
    "unicorn",
    "redis-server",
    "postgres",
    "mysqld",
    "mariadbd",
    "mongod",
    "memcached",
    "rabbitmq-server",
    "catalina.sh",
];

/// Ports that do not speak plain HTTP (an HTTP probe against them always fails): admin and data ports
/// above, plus mail, DNS, LDAP, TLS-only, FastCGI (php-fpm's 9000 is detected from the command), MQTT,
/// Kafka and ZooKeeper.
const OTHER_NON_HTTP_PORTS: &[(u16, &str)] = &[
    (21, "FTP"),
    (25, "SMTP"),
    (53, "DNS"),
    (110, "POP3"),
    (143, "IMAP"),
    (389, "LDAP"),
    (443, "HTTPS"),
    (465, "SMTPS"),
    (587, "SMTP submission"),
    (636, "LDAPS"),
    (993, "IMAPS"),
    (995, "POP3S"),
    (1883, "MQTT"),
    (2181, "ZooKeeper"),
    (8443, "HTTPS"),
    (8883, "MQTT over TLS"),
    (9092, "Kafka"),
    (50051, "gRPC"),
];

/// What a port is when it is known not to speak plain HTTP.
#[must_use]
pub fn non_http_port(port: u16) -> Option<&'static str> {
    ADMIN_PORTS
        .iter()
        .chain(DATA_PORTS)
        .chain(OTHER_NON_HTTP_PORTS)
        .find(|(p, _)| *p == port)
        .map(|(_, what)| *what)
}

/// Packages that are build tools (compilers, build systems, VCS), by their Debian, Alpine and RHEL
/// names: a final image does not need them.
pub const BUILD_TOOLS: &[&str] = &[
    "build-essential",
    "build-base",
    "gcc",
    "g++",
    "gcc-c++",
    "clang",
    "make",
    "cmake",
    "autoconf",
    "automake",
    "libtool",
    "git",
    "golang",
    "musl-dev",
    "libc6-dev",
    "libc-dev",
    "linux-headers",
    "@development-tools",
];

// ---------------------------------------------------------------------------------------------
// Credentials

/// Words that make a variable name look like a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "SECRET_KEY",
    "CLIENT_SECRET",
    "CREDENTIAL",
    "CREDENTIALS",
    "AUTH_KEY",
    "ENCRYPTION_KEY",
    "SIGNING_KEY",
    "MASTER_KEY",
    "DB_PASS",
    "PWD",
];

/// Suffixes that make a credential-looking name point at something else (a file, a length, a switch).
const NON_SECRET_SUFFIXES: &[&str] = &[
    "_FILE",
    "_PATH",
    "_DIR",
    "_URL",
    "_URI",
    "_ENDPOINT",
    "_HOST",
    "_PORT",
    "_NAME",
    "_USER",
    "_USERNAME",
    "_LENGTH",
    "_TTL",
    "_EXPIRY",
    "_EXPIRATION",
    "_TIMEOUT",
    "_ENABLED",
    "_ENABLE",
    "_METHOD",
    "_TYPE",
    "_REF",
    "_ID",
    "_SECRET_NAME",
    "_VERSION",
    "_HEADER",
    "_COMMAND",
    "_CMD",
    "_SIZE",
    "_LANGUAGE",
    "_HOSTNAME",
];

/// Whether a variable name looks like it holds a credential (`DB_PASSWORD`, `GITHUB_TOKEN`), and not a
/// path or setting about one (`POSTGRES_PASSWORD_FILE`, `TOKEN_TTL`).
#[must_use]
pub fn is_credential_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase().replace(['-', '.'], "_");
    if NON_SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s)) {
        return false;
    }
    if upper == "PWD" {
        return false; // the shell's working directory
    }
    if NON_SECRET_FRAGMENTS.iter().any(|f| upper.contains(f)) {
        return false;
    }
    let words: Vec<&str> = upper.split('_').filter(|w| !w.is_empty()).collect();
    CREDENTIAL_WORDS.iter().any(|w| {
        if w.contains('_') {
            upper.contains(w)
        } else {
            words
                .iter()
                .any(|x| x == w || (w.len() >= 6 && x.ends_with(w)))
        }
    }) || words.last().is_some_and(|w| *w == "PASS" || *w == "PW")
}

/// Whether a value is interpolated from elsewhere (`${VAR}`, `$VAR`, `{{ … }}`) or empty: not a literal.
#[must_use]
pub fn is_interpolated_or_empty(value: &str) -> bool {
    let v = value.trim();
    v.is_empty()
        || v.starts_with('$')
        || v.contains("${")
        || v.contains("{{")
        || v.starts_with("$(")
}

/// Whether a value looks like a credential whatever its name: AWS access key ids, GitHub / GitLab /
/// Slack / Stripe tokens, PEM private keys.
#[must_use]
pub fn is_credential_value(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    let aws = (v.starts_with("AKIA") || v.starts_with("ASIA"))
        && v.len() == 20
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let prefixed = [
        "ghp_",
        "gho_",
        "ghs_",
        "ghu_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
        "sk_live_",
        "rk_live_",
        "AIza",
    ]
    .iter()
    .any(|p| {
        v.starts_with(p)
            && v.len() >= p.len() + 16
            && v[p.len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    let pem = v.contains("-----BEGIN") && v.contains("PRIVATE KEY");
    aws || prefixed || pem
}

/// Shannon entropy in bits per character.
#[must_use]
pub fn entropy(value: &str) -> f64 {
    let mut counts = [0usize; 256];
    let mut n = 0usize;
    for b in value.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            #[allow(clippy::cast_precision_loss)]
            let p = c as f64 / nf;
            -p * p.log2()
        })
        .sum()
}

/// Whether `name = value` is a hard-coded secret: a credential-like name with a literal value, or a
/// credential-like value under any name.
#[must_use]
pub fn is_hardcoded_secret(name: &str, value: &str) -> bool {
    thread_local! {
        /// By name and value: the same variables (`PATH`, `JAVA_HOME`, `LANG`) come back in every
        /// stage, service and variant, and the name and value tests build several strings each.
        static SECRETS: crate::memo::Cache<bool> = crate::memo::Cache::default();
    }
    const SECRETS_CACHE_ENTRIES: usize = 4096;
    crate::memo::get_or_compute(
        &SECRETS,
        SECRETS_CACHE_ENTRIES,
        crate::memo::Key::default().text(name).text(value).bytes(),
        || is_hardcoded_secret_uncached(name, value),
    )
}

fn is_hardcoded_secret_uncached(name: &str, value: &str) -> bool {
    if is_interpolated_or_empty(value) {
        return false;
    }
    is_credential_name(name) || is_credential_value(value)
}

pub use crate::finding::mask_secret;

/// Name fragments that make a credential-looking variable a switch about credentials, not one
/// (`MYSQL_ALLOW_EMPTY_PASSWORD=yes`, `MYSQL_RANDOM_ROOT_PASSWORD=yes`).
const NON_SECRET_FRAGMENTS: &[&str] = &["ALLOW_EMPTY_", "RANDOM_", "GENERATE_"];

/// Whether a value is a boolean or numeric switch (`yes`, `true`, `0`, `1`, ...): such a value under
/// a credential-looking name is a setting, not a credential.
#[must_use]
pub fn is_flag_value(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "yes" | "no" | "true" | "false" | "on" | "off" | "0" | "1"
    )
}

// ---------------------------------------------------------------------------------------------
// Compose hardening knowledge: read-only root filesystems, read-only mounts, secrets

/// The knowledge base's facts for an image, with the configuration's `[[images]]` laid over.
fn facts_with(config: &[crate::images::Entry], image: &ImageName) -> Option<crate::images::Facts> {
    crate::images::lookup(config, image).map(|k| k.facts)
}

fn within(target: &str, dir: &str) -> bool {
    let t = target.trim_end_matches('/');
    let d = dir.trim_end_matches('/');
    t == d || t.strip_prefix(d).is_some_and(|r| r.starts_with('/'))
}

/// Whether `image` only reads the folder `target` (the knowledge base's `config-read-only`).
#[must_use]
pub fn reads_config_dir(config: &[crate::images::Entry], image: &ImageName, target: &str) -> bool {
    facts_with(config, image)
        .and_then(|f| f.config_read_only)
        .is_some_and(|dirs| dirs.iter().any(|d| within(target, d)))
}

/// Whether `image` writes at or below `target` although it looks like configuration (the
/// knowledge base's `config-writes` and `state`).
#[must_use]
pub fn writes_config_path(
    config: &[crate::images::Entry],
    image: &ImageName,
    target: &str,
) -> bool {
    facts_with(config, image).is_some_and(|f| {
        f.config_writes
            .iter()
            .flatten()
            .chain(f.state.iter().flatten())
            .any(|p| within(target, p) || within(p, target))
    })
}

/// Whether `image` reads `<var>_FILE` for the credential `var` (the knowledge base's `file-env`).
#[must_use]
pub fn reads_file_env(config: &[crate::images::Entry], image: &ImageName, var: &str) -> bool {
    facts_with(config, image)
        .and_then(|f| f.file_env)
        .is_some_and(|vars| vars.iter().any(|v| v == var))
}

// ---------------------------------------------------------------------------------------------
// Commands (curl | sh)

/// Programs that fetch a URL and can write it to standard output.
pub const DOWNLOADERS: &[&str] = &["curl", "wget"];

/// POSIX-like shells: they run a script read from standard input unless given `-c` or a script file.
pub const SHELLS: &[&str] = &["sh", "bash", "zsh", "dash", "ash", "ksh", "mksh"];

/// Script interpreters that run a program read from standard input unless given one inline
/// (`-c`, `-e`, `-m`, `-r`, …) or a script file. `python3.12` and the like count as `python`.
pub const SCRIPT_INTERPRETERS: &[&str] = &[
    "python", "python2", "python3", "perl", "ruby", "node", "nodejs", "php",
];

/// Words that run the word after them (and their own options) as the command: `sudo -E bash`.
pub const COMMAND_WRAPPERS: &[&str] = &[
    "sudo", "doas", "env", "exec", "command", "nice", "nohup", "time", "busybox",
];

// ---------------------------------------------------------------------------------------------
// Ports

/// Ports that should not be exposed by an application image or published by a service: remote
/// administration and the Docker daemon.
pub const ADMIN_PORTS: &[(u16, &str)] = &[
    (22, "ssh"),
    (23, "telnet"),
    (2375, "the Docker daemon without TLS"),
    (2376, "the Docker daemon"),
    (3389, "RDP"),
    (5900, "VNC"),
    (5985, "WinRM"),
    (5986, "WinRM"),
];

/// Database and cache ports that should not be published on all interfaces.
pub const DATA_PORTS: &[(u16, &str)] = &[
    (3306, "MySQL/MariaDB"),
    (5432, "PostgreSQL"),
    (6379, "Redis"),
    (27017, "MongoDB"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch"),
    (11211, "memcached"),
    (5984, "CouchDB"),
    (8086, "InfluxDB"),
    (9042, "Cassandra"),
    (5672, "RabbitMQ"),
    (15672, "RabbitMQ management"),
];

/// Docker API proxies that forward only the endpoints they are configured to allow. A client that
/// reaches one over plain TCP on a Compose network (`DOCKER_HOST=tcp://socket-proxy:2375`) is the
/// recommended alternative to mounting the socket, not an exposed daemon. Matched on the short name
/// ([`ImageName::short`]), also under `lscr.io/` and `ghcr.io/`.
pub const SOCKET_PROXY_IMAGES: &[&str] = &[
    "tecnativa/docker-socket-proxy",
    "linuxserver/socket-proxy",
    "wollomatok/socket-proxy",
];

/// Whether an image is a known filtering Docker API proxy ([`SOCKET_PROXY_IMAGES`]).
#[must_use]
pub fn is_socket_proxy(image: &ImageName) -> bool {
    let short = image.short();
    let name = short
        .strip_prefix("lscr.io/")
        .or_else(|| short.strip_prefix("ghcr.io/"))
        .unwrap_or(&short);
    SOCKET_PROXY_IMAGES.contains(&name)
}

/// The Docker daemon sockets and named pipe.
pub const DOCKER_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "//./pipe/docker_engine",
    "\\\\.\\pipe\\docker_engine",
];

/// Container runtime sockets (Kubernetes hostPath rule).
pub const RUNTIME_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/podman/podman.sock",
    "/run/podman/podman.sock",
];

/// Directories that hold a container runtime socket and nothing a workload should need (mounting
/// one exposes the socket just the same).
pub const RUNTIME_SOCKET_DIRS: &[&str] = &[
    "/var/run/containerd",
    "/run/containerd",
    "/var/run/crio",
    "/run/crio",
    "/var/run/podman",
    "/run/podman",
];

/// Whether a host path is a container runtime socket ([`RUNTIME_SOCKETS`]) or a directory that
/// holds one ([`RUNTIME_SOCKET_DIRS`]). Trailing slashes ignored; case-sensitive (Linux paths).
#[must_use]
pub fn is_runtime_socket(path: &str) -> bool {
    let p = path.trim();
    let p = if p.len() > 1 {
        p.trim_end_matches('/')
    } else {
        p
    };
    RUNTIME_SOCKETS.contains(&p) || RUNTIME_SOCKET_DIRS.contains(&p)
}

/// Whether a path names a Docker daemon socket (or its folder). Trailing slashes ignored.
#[must_use]
pub fn is_docker_socket(path: &str) -> bool {
    let p = path.trim().trim_end_matches('/');
    DOCKER_SOCKETS.iter().any(|s| p.eq_ignore_ascii_case(s))
}

// ---------------------------------------------------------------------------------------------
// Package managers

/// Debian/Ubuntu packages whose *Recommends* a build commonly relies on, with what must then be
/// installed explicitly (each inner list: any one of). `apt-get install --no-install-recommends curl`
/// leaves out `ca-certificates` (recommended by libcurl4), and every `https://` download then fails.
/// Source: `apt-cache show` on Debian 12 (bookworm); Ubuntu's packages recommend the same.
pub const APT_RELIED_ON_RECOMMENDS: &[(&str, &[&[&str]])] = &[
    ("curl", &[&["ca-certificates"]]),
    ("libcurl4", &[&["ca-certificates"]]),
    ("wget", &[&["ca-certificates"]]),
    ("git", &[&["ca-certificates"]]),
    ("python3", &[&["ca-certificates"]]),
    ("gcc", &[&["libc6-dev", "libc-dev", "build-essential"]]),
    (
        "cmake",
        &[&["gcc", "build-essential"], &["make", "build-essential"]],
    ),
    ("python3-pip", &[&["build-essential"], &["python3-dev"]]),
    (
        "golang-go",
        &[
            &["gcc", "build-essential"],
            &["libc6-dev", "build-essential"],
        ],
    ),
];

/// The recommended packages that `packages` (names as given to `apt-get install`, versions and
/// architectures removed) rely on and do not list themselves.
#[must_use]
pub fn missing_relied_on_recommends(packages: &[&str]) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for &(pkg, needs) in APT_RELIED_ON_RECOMMENDS {
        if !packages.contains(&pkg) {
            continue;
        }
        for any_of in needs {
            if !any_of.iter().any(|n| packages.contains(n)) {
                out.push((pkg, any_of[0]));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Capabilities

/// A capability name as Docker reads it: case-insensitive, with or without the `CAP_` prefix
/// (`cap_chown`, `CHOWN` and `CAP_CHOWN` are the same; `all` is `ALL`).
#[must_use]
pub fn normalize_cap(cap: &str) -> String {
    let upper = cap.trim().to_ascii_uppercase();
    upper
        .strip_prefix("CAP_")
        .map_or_else(|| upper.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept answer is the computed one: names and values that are and are not secrets, each
    /// asked twice.
    #[test]
    fn secret_answers_kept_are_the_computed_ones() {
        let names = [
            "PASSWORD",
            "DB_PASS",
            "PATH",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "API_TOKEN",
            "PWD",
        ];
        let values = [
            "",
            "${X}",
            "s3cr3t",
            "yes",
            "/usr/bin",
            "ghp_0123456789abcdef0123456789abcdef0123",
        ];
        for _ in 0..2 {
            for n in names {
                for v in values {
                    assert_eq!(
                        is_hardcoded_secret(n, v),
                        is_hardcoded_secret_uncached(n, v),
                        "{n}={v}"
                    );
                }
            }
        }
        assert!(is_hardcoded_secret("PASSWORD", "s3cr3t"));
        assert!(!is_hardcoded_secret("PATH", "/usr/bin"));
    }

    #[test]
    fn contains_any_is_contains_of_any_needle() {
        let words = [
            "",
            "g",
            "gosu",
            "/usr/local/bin/gosu",
            "xgosux",
            "su-exe",
            "su-exec-",
            "s6-overlay",
            "setpri",
            "chps",
            "chpst",
            "go su",
            "ésetprivé",
            "apt-get",
        ];
        let needle_sets: [&[&str]; 3] = [PRIVILEGE_DROP_TOOLS, &[], &["", "x"]];
        for needles in needle_sets {
            for w in words {
                assert_eq!(
                    contains_any(w, needles),
                    needles.iter().any(|n| w.contains(n)),
                    "{w:?} {needles:?}"
                );
            }
        }
    }

    /// The built-in facts are cached by reference on each thread: references that differ only in
    /// registry, tag or digest must each get their own look-up's facts, on a miss and on a hit.
    #[test]
    fn built_in_facts_are_those_of_the_lookup() {
        let references = [
            "nginx",
            "nginx:alpine",
            "nginx:1.27",
            "nginxinc/nginx-unprivileged",
            "docker.io/library/nginx:alpine",
            "registry.example.com/team/nginx:alpine",
            "postgres:16",
            "postgres:16-alpine",
            "postgres@sha256:abc",
            "lscr.io/linuxserver/plex:latest",
            "unknown-image-of-nobody",
            "python:3.12-slim",
            "python:3.12-alpine",
        ];
        let odd = |repository: &str, tag: Option<&str>| ImageName {
            registry: None,
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest: None,
        };
        // Parts holding the key's separators or lengths (a YAML string may hold any character).
        let odd_ones = [
            odd("nginx 6:alpine", None),
            odd("5:nginx", Some("alpine")),
            odd("nginx\0+alpine", None),
            odd("nginx", Some("alpine\0-")),
            odd("nginx", Some("alpine")),
        ];
        for _ in 0..2 {
            for r in references {
                let image = ImageName::parse(r);
                let expected = crate::images::lookup(&[], &image).map(|k| k.facts);
                assert_eq!(built_in_facts(&image).as_deref(), expected.as_ref(), "{r}");
            }
            for image in &odd_ones {
                let expected = crate::images::lookup(&[], image).map(|k| k.facts);
                assert_eq!(
                    built_in_facts(image).as_deref(),
                    expected.as_ref(),
                    "{image:?}"
                );
            }
        }
    }

    /// The families are cached by reference on each thread like the facts: each reference gets
    /// its own answer, asked first or again.
    #[test]
    fn families_are_those_of_each_reference() {
        let references = [
            "python:3.12-alpine",
            "python:3.12-slim",
            "python:3.12",
            "python",
            "mcr.microsoft.com/windows/nanoserver:ltsc2022",
            "scratch",
            "gcr.io/distroless/static:nonroot",
            "redhat/ubi9",
            "postgres:16-alpine",
            "postgres:16",
            "unknown-image-of-nobody:bookworm",
            "unknown-image-of-nobody",
        ];
        for _ in 0..2 {
            for r in references {
                let image = ImageName::parse(r);
                assert_eq!(family_of(&image), family_of_uncached(&image), "{r}");
            }
        }
        assert_eq!(
            family_of(&ImageName::parse("python:3.12-alpine")),
            Family::Alpine
        );
        assert_eq!(
            family_of(&ImageName::parse("python:3.12-slim")),
            Family::Debian
        );
    }

    #[test]
    fn parse_is_the_reference_grammar_by_str_splits() {
        // The first version of `parse`, with `str` searches.
        fn by_splits(reference: &str) -> ImageName {
            let (rest, digest) = match reference.split_once('@') {
                Some((r, d)) => (r, Some(d.to_owned())),
                None => (reference, None),
            };
            let (registry, path) = match rest.split_once('/') {
                Some((first, p))
                    if first.contains('.') || first.contains(':') || first == "localhost" =>
                {
                    (Some(first.to_owned()), p)
                }
                _ => (None, rest),
            };
            let last_slash = path.rfind('/').map_or(0, |i| i + 1);
            let (repository, tag) = match path[last_slash..].rfind(':') {
                Some(i) => (
                    path[..last_slash + i].to_owned(),
                    Some(path[last_slash + i + 1..].to_owned()),
                ),
                None => (path.to_owned(), None),
            };
            ImageName {
                registry,
                repository,
                tag,
                digest,
            }
        }
        for r in [
            "",
            "@",
            "/",
            ":",
            "a@b@c",
            "a/b:c@d",
            "host:5000/x",
            "localhost/x",
            "localhostx/y",
            "x.y/z:t",
            "é/ü:1",
            "a/",
            "/a",
            "a:b:c",
            "reg.io/a/b:c:d@sha256:ff",
            "a:1/b",
            "ü.é/x",
            "docker.io/library/python:3.12-slim@sha256:abc",
            "${REG}/app:${TAG:-1}",
        ] {
            assert_eq!(ImageName::parse(r), by_splits(r), "{r}");
        }
    }

    #[test]
    fn image_names() {
        let i = ImageName::parse("docker.io/library/python:3.12-slim@sha256:abc");
        assert_eq!(i.registry.as_deref(), Some("docker.io"));
        assert_eq!(i.short(), "python");
        assert_eq!(i.tag.as_deref(), Some("3.12-slim"));
        assert!(i.is_pinned());
        let i = ImageName::parse("localhost:5000/team/app");
        assert_eq!(i.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(i.tag, None);
        assert!(!i.is_pinned());
        assert!(!ImageName::parse("nginx:latest").is_pinned());
        assert!(ImageName::parse("localhost:5000/team/app_x:1.0-rc").is_well_formed());
        assert!(ImageName::parse("python").is_well_formed());
        assert!(!ImageName::parse("ImageName").is_well_formed());
        assert!(!ImageName::parse("<image>").is_well_formed());
        assert!(!ImageName::parse("[--platform=<platform>]").is_well_formed());
        assert!(!ImageName::parse("python:").is_well_formed());
        assert_eq!(
            family_of(&ImageName::parse("python:3.12-alpine")),
            Family::Alpine
        );
        assert_eq!(family_of(&ImageName::parse("node:20")), Family::Debian);
        assert_eq!(
            family_of(&ImageName::parse(
                "mcr.microsoft.com/windows/nanoserver:ltsc2022"
            )),
            Family::Windows
        );
        assert_eq!(
            family_of(&ImageName::parse("gcr.io/distroless/static-debian12")),
            Family::Distroless
        );
        assert!(
            built_in_facts(&ImageName::parse("lscr.io/linuxserver/plex:latest"))
                .is_some_and(|f| f.switch_user.is_some())
        );
    }

    #[test]
    fn image_contents() {
        let p = ImageName::parse;
        assert!(runs_as_non_root(&p(
            "gcr.io/distroless/static-debian12:nonroot"
        )));
        assert!(runs_as_non_root(&p("nginxinc/nginx-unprivileged:1.27")));
        assert!(!runs_as_non_root(&p("nginx:1.27")));
        assert!(rhel_ships_useradd(&p(
            "registry.access.redhat.com/ubi9/ubi:9.4"
        )));
        assert!(rhel_ships_useradd(&p("redhat/ubi9")));
        assert!(rhel_ships_useradd(&p("rockylinux:9")));
        assert!(!rhel_ships_useradd(&p("redhat/ubi9-minimal")));
        assert!(!rhel_ships_useradd(&p(
            "registry.access.redhat.com/ubi9/ubi-minimal"
        )));
        assert!(!rhel_ships_useradd(&p("rockylinux:9-minimal")));
        assert!(!rhel_ships_useradd(&p("amazonlinux:2023")));
        assert_eq!(
            rhel_package_manager(&p("redhat/ubi10-minimal")),
            Some("microdnf")
        );
        assert_eq!(rhel_package_manager(&p("amazonlinux:2")), Some("yum"));
        assert_eq!(
            rhel_package_manager(&p("registry.access.redhat.com/ubi9/ubi-micro")),
            None
        );
        assert_eq!(shipped_fetchers(&p("python:3.12-alpine")), &[Fetcher::Wget]);
        assert_eq!(
            shipped_fetchers(&p("python:3.12")),
            &[Fetcher::Curl, Fetcher::Wget]
        );
        assert!(shipped_fetchers(&p("python:3.12-slim")).is_empty());
        assert!(shipped_fetchers(&p("debian:bookworm")).is_empty());
        assert_eq!(shipped_fetchers(&p("nginx:1.27")), &[Fetcher::Curl]);
        assert_eq!(family_of(&p("redhat/ubi10-minimal")), Family::Rhel);
        assert_eq!(family_of(&p("microsoft/nanoserver")), Family::Windows);
        assert_eq!(
            family_of(&p("registry.k8s.io/debian-base-amd64:0.3")),
            Family::Debian
        );
        assert_eq!(
            family_of(&p("mcr.microsoft.com/dotnet/runtime:8.0-jammy-chiseled")),
            Family::Distroless
        );
        assert_eq!(
            family_of(&p("mcr.microsoft.com/dotnet/runtime:8.0-azurelinux3.0")),
            Family::Unknown
        );
        assert_eq!(non_http_port(5432), Some("PostgreSQL"));
        assert_eq!(non_http_port(8080), None);
        assert_eq!(default_http_port(&p("nginx:1.27")), Some(80));
        assert_eq!(default_http_port(&p("nextcloud:fpm")), None);
        assert_eq!(system_group_gid(Family::Alpine, "www-data"), Some(82));
        // Clients by version, from the knowledge base: nginx's Debian images got curl in 1.17.10.
        assert!(shipped_fetchers(&p("nginx:1.17.9")).is_empty());
        assert_eq!(shipped_fetchers(&p("nginx:1.17.10")), &[Fetcher::Curl]);
    }

    #[test]
    fn credentials() {
        for n in [
            "DB_PASSWORD",
            "GITHUB_TOKEN",
            "api_key",
            "AWS_SECRET_ACCESS_KEY",
            "MYSQL_ROOT_PASSWORD",
            "SMTP_PASS",
            "JWT_SECRET",
        ] {
            assert!(is_credential_name(n), "{n}");
        }
        for n in [
            "POSTGRES_PASSWORD_FILE",
            "TOKEN_TTL",
            "PATH",
            "PWD",
            "SECRET_NAME",
            "NODE_ENV",
            "PASSWORD_LENGTH",
            "BYPASS",
            "SECRET_FILE_SIZE",
            "SECRET_LOCAL_HOSTNAME",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
        ] {
            assert!(!is_credential_name(n), "{n}");
        }
        assert!(is_credential_value("AKIAIOSFODNN7EXAMPLE"));
        assert!(is_credential_value(
            "ghp_0123456789abcdefghijABCDEFGHIJ012345"
        ));
        assert!(!is_credential_value("hello"));
        assert!(is_hardcoded_secret("DB_PASSWORD", "hunter2"));
        assert!(!is_hardcoded_secret("DB_PASSWORD", "${DB_PASSWORD}"));
        assert!(!is_hardcoded_secret("DB_PASSWORD", ""));
        assert!(is_flag_value("yes") && is_flag_value(" 0") && !is_flag_value("hunter2"));
    }

    #[test]
    fn compose_tables() {
        let pg = ImageName::parse("postgres:16-alpine");
        assert!(reads_file_env(&[], &pg, "POSTGRES_PASSWORD"));
        assert!(!reads_file_env(&[], &pg, "DB_PASSWORD"));
        assert!(!reads_file_env(
            &[],
            &ImageName::parse("example/app"),
            "POSTGRES_PASSWORD"
        ));
        assert!(!reads_file_env(
            &[],
            &ImageName::parse("linuxserver/mariadb"),
            "MYSQL_PASSWORD"
        ));
        let nginx = ImageName::parse("nginx:1.27");
        assert!(reads_config_dir(&[], &nginx, "/etc/nginx/conf.d"));
        assert!(!reads_config_dir(&[], &nginx, "/etc/nginx-other"));
        assert!(!reads_config_dir(
            &[],
            &ImageName::parse("example/app"),
            "/etc/app"
        ));
        // State and generated configuration count as written.
        let grafana = ImageName::parse("grafana/grafana:11.2.0");
        assert!(writes_config_path(&[], &grafana, "/var/lib/grafana"));
        assert!(!writes_config_path(&[], &grafana, "/etc/grafana"));
    }

    #[test]
    fn capability_names() {
        assert_eq!(normalize_cap(" cap_net_raw "), "NET_RAW");
        assert_eq!(normalize_cap("all"), "ALL");
    }

    #[test]
    fn pins() {
        let mut s = Settings::default();
        s.pins.insert("python".into(), "3.12-slim".into());
        s.pins.insert("nginx".into(), "@sha256:abc".into());
        let p = ImageName::parse("docker.io/library/python:latest");
        assert_eq!(pin_for(&s, &p), Some("3.12-slim"));
        assert_eq!(pinned_suffix(&p, "3.12-slim"), ":3.12-slim");
        let n = ImageName::parse("nginx:1.27");
        assert_eq!(pinned_suffix(&n, "@sha256:abc"), ":1.27@sha256:abc");
    }
}
