//! The image knowledge base: what an image needs to keep working when it is hardened (its user, the
//! capabilities its entrypoint needs, the paths it writes, whether it is a Docker API client, ...).
//!
//! The facts are data (`transforms/knowledge/images/*.toml`, compiled into the binary; the schema is
//! `transforms/knowledge/SCHEMA.md`), and every built-in fact cites the upstream file and line it
//! comes from. Users add or override entries with the same schema in `.dockharden.toml`
//! (`[[images]]`), and those win field by field.
//!
//! **No guessing**: a field that is absent is unknown, and a fix that depends on an unknown fact is a
//! display-only suggestion. [`lookup`] is the one place every rule asks.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::knowledge::ImageName;

/// The built-in knowledge files, compiled into the binary.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "automation.toml",
        include_str!("../knowledge/images/automation.toml"),
    ),
    (
        "databases.toml",
        include_str!("../knowledge/images/databases.toml"),
    ),
    (
        "families.toml",
        include_str!("../knowledge/images/families.toml"),
    ),
    (
        "longtail-a.toml",
        include_str!("../knowledge/images/longtail-a.toml"),
    ),
    (
        "longtail-b.toml",
        include_str!("../knowledge/images/longtail-b.toml"),
    ),
    (
        "messaging.toml",
        include_str!("../knowledge/images/messaging.toml"),
    ),
    ("ml.toml", include_str!("../knowledge/images/ml.toml")),
    (
        "network.toml",
        include_str!("../knowledge/images/network.toml"),
    ),
    (
        "observability.toml",
        include_str!("../knowledge/images/observability.toml"),
    ),
    (
        "runtimes.toml",
        include_str!("../knowledge/images/runtimes.toml"),
    ),
    (
        "selfhosted-apps.toml",
        include_str!("../knowledge/images/selfhosted-apps.toml"),
    ),
    (
        "selfhosted-infra.toml",
        include_str!("../knowledge/images/selfhosted-infra.toml"),
    ),
    ("web.toml", include_str!("../knowledge/images/web.toml")),
];

/// A user and group as numbers, with the user's name when it has one.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserId {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub uid: u32,
    pub gid: u32,
}

/// Whether the image talks to the Docker API: `docker-api = false` (it does not: known), or a table
/// describing the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DockerApi {
    /// Known not to use the Docker API.
    None,
    Client(DockerClient),
}

impl DockerApi {
    /// The client, when it is one.
    #[must_use]
    pub fn client(&self) -> Option<&DockerClient> {
        match self {
            Self::None => None,
            Self::Client(c) => Some(c),
        }
    }
}

impl<'de> Deserialize<'de> for DockerApi {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Client(DockerClient),
        }
        match Raw::deserialize(d)? {
            Raw::Flag(false) => Ok(Self::None),
            Raw::Flag(true) => Err(serde::de::Error::custom(
                "`docker-api = true` says too little: give a table (`{ endpoint-env = \"DOCKER_HOST\", sections = [...], write = false }`)",
            )),
            Raw::Client(c) => Ok(Self::Client(c)),
        }
    }
}

impl Serialize for DockerApi {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::None => s.serialize_bool(false),
            Self::Client(c) => c.serialize(s),
        }
    }
}

/// A Docker API client.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DockerClient {
    /// The setting that points it at another endpoint (`DOCKER_HOST`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_env: Option<String>,
    /// The API sections it uses, as docker-socket-proxy names them.
    #[serde(default)]
    pub sections: Vec<String>,
    /// It needs POST/DELETE (starts, stops or creates containers).
    #[serde(default)]
    pub write: bool,
}

/// What the image needs instead of `privileged: true`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PrivilegedNeeds {
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub devices: Vec<String>,
}

/// A path the image writes only in some setups.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WritesWhen {
    /// When the service mounts something at this path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounted: Option<String>,
    /// When the service sets this variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    pub path: String,
    pub why: String,
}

/// Where a fact comes from: the upstream file and line that shows it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub facts: Vec<String>,
    pub repo: String,
    pub file: String,
    pub lines: String,
    pub commit: String,
    pub quote: String,
    pub note: Option<String>,
}

impl Evidence {
    /// A link to the cited lines.
    #[must_use]
    pub fn url(&self) -> String {
        let lines = match self.lines.split_once('-') {
            Some((a, b)) => format!("L{a}-L{b}"),
            None => format!("L{}", self.lines),
        };
        format!(
            "https://github.com/{}/blob/{}/{}#{lines}",
            self.repo, self.commit, self.file
        )
    }
}

macro_rules! facts {
    ($( $(#[doc = $doc:literal])* $field:ident : $ty:ty => $merge:ident ),* $(,)?) => {
        /// The facts of an entry (or of an entry resolved for a tag). Every field is optional:
        /// absent means unknown.
        #[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct Facts {
            $(
                $(#[doc = $doc])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }

        impl Facts {
            /// The names of the fields that are known, as the TOML spells them (`cap-add`).
            #[must_use]
            pub fn known_fields(&self) -> Vec<String> {
                let mut out = Vec::new();
                $( if self.$field.is_some() { out.push(kebab_name(stringify!($field))); } )*
                out
            }

            /// Every field `other` knows replaces this one's.
            pub fn overlay(&mut self, other: &Facts) {
                $( if other.$field.is_some() { self.$field.clone_from(&other.$field); } )*
            }

            /// Combine with the facts of a variant that may or may not apply (the tag is unknown):
            /// what both agree on stays, lists that are safe to widen are joined, and the rest
            /// becomes unknown.
            fn widen(&mut self, other: &Facts) {
                $( merge::$merge(&mut self.$field, &other.$field); )*
            }
        }
    };
}

/// The kebab-case name of a field (`cap_add` → `cap-add`).
#[must_use]
pub fn kebab_name(field: &str) -> String {
    field.replace('_', "-")
}

mod merge {
    //! How the facts of a variant that may apply are combined with the base facts.

    /// Both must agree, else unknown.
    pub fn same<T: PartialEq + Clone>(a: &mut Option<T>, b: &Option<T>) {
        if b.is_some() && a != b {
            *a = None;
        }
    }

    /// Lists where more is safe (capabilities to add back, tmpfs paths, state): the union.
    pub fn union(a: &mut Option<Vec<String>>, b: &Option<Vec<String>>) {
        if let (Some(x), Some(y)) = (a.as_mut(), b) {
            for v in y {
                if !x.contains(v) {
                    x.push(v.clone());
                }
            }
        } else if a.is_none() && b.is_some() {
            // Known in one variant only: still unknown for the other.
        }
    }

    /// Lists where less is safe (clients it ships, variables it reads from files): the
    /// intersection.
    pub fn intersection(a: &mut Option<Vec<String>>, b: &Option<Vec<String>>) {
        if let (Some(x), Some(y)) = (a.as_mut(), b) {
            x.retain(|v| y.contains(v));
        }
    }

    /// A reason that any variant has (needs root, host network) stays.
    pub fn any<T: Clone>(a: &mut Option<T>, b: &Option<T>) {
        if a.is_none() {
            a.clone_from(b);
        }
    }

    /// Read-only works only when it works for both.
    pub fn all_true(a: &mut Option<bool>, b: &Option<bool>) {
        match (*a, *b) {
            (Some(true), Some(false)) => *a = Some(false),
            (Some(_), None) | (None, _) => {}
            _ => {}
        }
    }

    /// Union of conditional writes.
    pub fn union_any<T: Clone + PartialEq>(a: &mut Option<Vec<T>>, b: &Option<Vec<T>>) {
        match (a.as_mut(), b) {
            (Some(x), Some(y)) => {
                for v in y {
                    if !x.contains(v) {
                        x.push(v.clone());
                    }
                }
            }
            (None, Some(y)) => *a = Some(y.clone()),
            _ => {}
        }
    }
}

facts! {
    /// `server`, `runtime` (runs whatever command it is given) or `tool`.
    kind: String => same,
    /// `linux` or `windows`.
    platform: String => same,
    /// The base distribution: `alpine`, `debian`, `rhel`, `distroless`, `scratch`, `windows`.
    family: String => same,
    /// The configured `USER` as the Dockerfile writes it (`root` when none).
    user: String => same,
    /// The user the main process ends up running as.
    runs_as: UserId => same,
    /// How the entrypoint, started as root, switches to `runs_as`.
    switch_user: String => same,
    /// A `user:` value known to work when set from outside.
    user_override: String => same,
    /// Why the function needs root at run time.
    needs_root: String => any,
    /// The capabilities it needs back after `cap_drop: [ALL]`.
    cap_add: Vec<String> => union,
    /// Whether it runs with a read-only root filesystem (given `tmpfs`).
    read_only: bool => all_true,
    read_only_why: String => any,
    /// Scratch paths written at run time.
    tmpfs: Vec<String> => union,
    /// Those of `tmpfs` that must allow executing files.
    tmpfs_exec: Vec<String> => union,
    /// Variables it needs to run read-only.
    read_only_env: BTreeMap<String, String> => same,
    /// Paths it writes only in some setups.
    writes_when: Vec<WritesWhen> => union_any,
    /// Paths holding state that must survive a restart.
    state: Vec<String> => union,
    /// Paths its Dockerfile declares as `VOLUME`.
    volumes: Vec<String> => intersection,
    /// Configuration folders it only reads.
    config_read_only: Vec<String> => intersection,
    /// Configuration-looking paths it writes.
    config_writes: Vec<String> => union,
    /// Credential variables it also reads from `<VAR>_FILE`.
    file_env: Vec<String> => intersection,
    /// It is a Docker API client.
    docker_api: DockerApi => any,
    /// What it needs instead of `privileged: true`.
    privileged_needs: PrivilegedNeeds => same,
    /// Why it needs the host network namespace.
    host_network: String => any,
    /// Why `no-new-privileges` stops it from working (a setuid helper or file capabilities it
    /// relies on, a container engine whose containers inherit the flag).
    no_new_privileges_breaks: String => any,
    /// Why it needs the host PID namespace.
    host_pid: String => any,
    /// Ports it listens on by default.
    ports: Vec<String> => union,
    /// The port of its HTTP interface.
    http_port: u16 => same,
    /// An HTTP path that answers 200 when healthy.
    health_path: String => same,
    /// The image declares a `HEALTHCHECK`.
    healthcheck: bool => same,
    /// HTTP clients it ships (`curl`, `wget`).
    http_clients: Vec<String> => intersection,
    /// Variables that carry its memory settings.
    memory_env: Vec<String> => union,
    /// The least memory upstream documents.
    min_memory: String => same,
    /// A smaller variant to suggest.
    slim: String => same,
}

impl Facts {
    /// The variables a read-only root needs (`read-only-env`) that the service does not set
    /// (`is_set` answers for a name), with their values.
    #[must_use]
    pub fn read_only_env_missing(&self, is_set: impl Fn(&str) -> bool) -> Vec<(String, String)> {
        self.read_only_env
            .iter()
            .flatten()
            .filter(|(k, _)| !is_set(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The paths written only in some setups (`writes-when`) whose condition holds for this
    /// service: something is mounted at, above or below `mounted` (`mounts` are the service's
    /// mount targets), or the variable `env` is set to a non-empty value (`env_set`); without those
    /// that `covered` says already have a writable mount. With the reason each is written.
    #[must_use]
    pub fn conditional_writes(
        &self,
        mounts: &[String],
        env_set: impl Fn(&str) -> bool,
        covered: impl Fn(&str) -> bool,
    ) -> Vec<(String, String)> {
        use crate::paths::path_within;
        self.writes_when
            .iter()
            .flatten()
            .filter(|w| {
                let holds = match (&w.mounted, &w.env) {
                    (Some(m), _) => mounts
                        .iter()
                        .any(|t| path_within(t, m) || path_within(m, t)),
                    (None, Some(v)) => env_set(v),
                    (None, None) => false,
                };
                holds && !covered(&w.path)
            })
            .map(|w| (w.path.clone(), w.why.clone()))
            .collect()
    }
}

/// A condition on the tag in use.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct When {
    pub tag_contains: Option<String>,
    pub versions: Option<String>,
}

/// Facts that differ for some tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    pub when: When,
    pub facts: Facts,
    pub evidence: Vec<Evidence>,
}

/// Where an entry comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A built-in file (`databases.toml`).
    BuiltIn(&'static str),
    /// The user's configuration (`[[images]]`).
    Config,
}

/// One `[[image]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub names: Vec<String>,
    pub summary: String,
    pub facts: Facts,
    pub evidence: Vec<Evidence>,
    pub variants: Vec<Variant>,
    pub origin: Origin,
}

/// A knowledge entry that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryError(pub String);

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EntryError {}

fn take<T: serde::de::DeserializeOwned>(
    table: &mut toml::Table,
    key: &str,
    what: &str,
) -> Result<Option<T>, EntryError> {
    match table.remove(key) {
        None => Ok(None),
        Some(v) => T::deserialize(v)
            .map(Some)
            .map_err(|e| EntryError(format!("{what}: `{key}`: {}", e.message()))),
    }
}

fn facts_of(table: toml::Table, what: &str) -> Result<Facts, EntryError> {
    Facts::deserialize(toml::Value::Table(table))
        .map_err(|e| EntryError(format!("{what}: {}", e.message())))
}

impl Entry {
    /// Read an entry from its TOML table. `require_evidence`: built-in entries must cite evidence
    /// for every fact; the user's own entries need not.
    ///
    /// # Errors
    /// Unknown keys, wrong types, a missing name, or (built-in) a fact without evidence.
    pub fn from_table(
        mut table: toml::Table,
        origin: Origin,
        require_evidence: bool,
    ) -> Result<Self, EntryError> {
        let names: Vec<String> = take(&mut table, "names", "an image entry")?
            .ok_or_else(|| EntryError("an image entry without `names`".into()))?;
        let what = format!("image {}", names.join(", "));
        if names.is_empty() {
            return Err(EntryError(format!("{what}: `names` is empty")));
        }
        let names: Vec<String> = names.iter().map(|n| normalize_name(n)).collect();
        let summary: String = take(&mut table, "summary", &what)?.unwrap_or_default();
        let evidence: Vec<Evidence> = take(&mut table, "evidence", &what)?.unwrap_or_default();
        let raw_variants: Vec<toml::Table> =
            take(&mut table, "variant", &what)?.unwrap_or_default();
        let facts = facts_of(table, &what)?;
        let mut variants = Vec::new();
        for (i, mut v) in raw_variants.into_iter().enumerate() {
            let vwhat = format!("{what}, variant {}", i + 1);
            let when: When = take(&mut v, "when", &vwhat)?
                .ok_or_else(|| EntryError(format!("{vwhat}: no `when`")))?;
            if when.tag_contains.is_none() && when.versions.is_none() {
                return Err(EntryError(format!(
                    "{vwhat}: `when` needs `tag-contains` or `versions`"
                )));
            }
            if let Some(r) = &when.versions {
                VersionRange::parse(r)
                    .ok_or_else(|| EntryError(format!("{vwhat}: bad version range `{r}`")))?;
            }
            let evidence: Vec<Evidence> = take(&mut v, "evidence", &vwhat)?.unwrap_or_default();
            let facts = facts_of(v, &vwhat)?;
            variants.push(Variant {
                when,
                facts,
                evidence,
            });
        }
        let entry = Self {
            names,
            summary,
            facts,
            evidence,
            variants,
            origin,
        };
        if require_evidence {
            entry.check_evidence()?;
        }
        Ok(entry)
    }

    /// Every known fact of the entry and of each variant is named by one of its evidence items.
    ///
    /// # Errors
    /// The first fact without evidence.
    pub fn check_evidence(&self) -> Result<(), EntryError> {
        let uncited = |facts: &Facts, evidence: &[Evidence], what: &str| {
            for name in facts.known_fields() {
                if matches!(name.as_str(), "kind" | "platform" | "slim") {
                    continue;
                }
                if !evidence.iter().any(|e| e.facts.contains(&name)) {
                    return Err(EntryError(format!(
                        "image {}{what}: fact `{name}` cites no evidence",
                        self.names.join(", ")
                    )));
                }
            }
            Ok(())
        };
        uncited(&self.facts, &self.evidence, "")?;
        for (i, v) in self.variants.iter().enumerate() {
            uncited(&v.facts, &v.evidence, &format!(", variant {}", i + 1))?;
        }
        Ok(())
    }
}

/// The facts an answer to an interactive question states: `field` is a fact name (`cap-add`,
/// `tmpfs`, `user-override`, `docker-api`), `value` what the user typed. `tmpfs` also states that
/// the image runs read-only; `docker-api` takes `no` or the setting that points it elsewhere.
///
/// # Errors
/// An unknown field or a value of the wrong shape (the message says what is expected).
pub fn fact_from_answer(field: &str, value: &str) -> Result<Facts, String> {
    let list = |v: &str| -> Vec<String> {
        if v.trim().eq_ignore_ascii_case("none") || v.trim().is_empty() {
            return Vec::new();
        }
        v.split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut f = Facts::default();
    match field {
        "cap-add" => {
            let mut caps: Vec<String> = list(value)
                .iter()
                .map(|c| crate::knowledge::normalize_cap(c))
                .collect();
            if let Some(bad) = caps
                .iter()
                .find(|c| c.is_empty() || !c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
            {
                return Err(format!(
                    "`{bad}` is not a capability name (e.g. CHOWN, SETUID)"
                ));
            }
            if caps.iter().any(|c| c == "ALL") {
                return Err("`ALL` gives every capability back; list the ones it needs".into());
            }
            caps.sort();
            caps.dedup();
            f.cap_add = Some(caps);
        }
        "tmpfs" => {
            let paths = list(value);
            if let Some(bad) = paths.iter().find(|p| !p.starts_with('/')) {
                return Err(format!(
                    "`{bad}` is not an absolute path (e.g. /tmp, /var/run)"
                ));
            }
            f.read_only = Some(true);
            f.tmpfs = Some(paths);
        }
        "user-override" => {
            let v = value.trim();
            let ok = !v.is_empty()
                && !v.contains(char::is_whitespace)
                && !crate::needs::is_root_user(v)
                && v.split(':').count() <= 2;
            if !ok {
                return Err(format!(
                    "`{v}` is not a non-root user (e.g. 1000:1000, or the user's name)"
                ));
            }
            f.user_override = Some(v.to_owned());
        }
        "docker-api" => {
            let v = value.trim();
            if v.eq_ignore_ascii_case("no") || v.eq_ignore_ascii_case("none") {
                f.docker_api = Some(DockerApi::None);
            } else if v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !v.is_empty() {
                f.docker_api = Some(DockerApi::Client(DockerClient {
                    endpoint_env: Some(v.to_owned()),
                    sections: Vec::new(),
                    write: true,
                }));
            } else {
                return Err(format!(
                    "`{v}`: answer `no`, or the variable that points it at another endpoint (e.g. DOCKER_HOST)"
                ));
            }
        }
        other => return Err(format!("no interactive answer sets the fact `{other}`")),
    }
    Ok(f)
}

/// Names are compared in their short form (see [`ImageName::short`]), lower case.
fn normalize_name(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    if let Some(prefix) = n.strip_suffix("/*") {
        return format!("{}/*", ImageName::parse(prefix).short());
    }
    ImageName::parse(&n).short()
}

/// Parse a knowledge file (`[[image]]` entries).
///
/// # Errors
/// TOML syntax errors and entry errors, naming the file.
pub fn parse_file(
    name: &'static str,
    text: &str,
    require_evidence: bool,
) -> Result<Vec<Entry>, EntryError> {
    let mut doc: toml::Table =
        toml::from_str(text).map_err(|e| EntryError(format!("{name}: {}", e.message())))?;
    let images: Vec<toml::Table> = take(&mut doc, "image", name)?.unwrap_or_default();
    if let Some(k) = doc.keys().next() {
        return Err(EntryError(format!("{name}: unknown top-level key `{k}`")));
    }
    images
        .into_iter()
        .map(|t| {
            Entry::from_table(t, Origin::BuiltIn(name), require_evidence)
                .map_err(|e| EntryError(format!("{name}: {e}")))
        })
        .collect()
}

/// Get the built-in knowledge base's index of names ready now, for a caller that can do it on
/// another thread while it walks the files. The entries themselves are parsed by their first
/// look-up: parsing every entry here cost a run over the shared corpus about 1% more instructions
/// than parsing the ones its files name (a short run ends before this is done, and does not wait).
pub fn warm_up() {
    LazyLock::force(&BUILT_IN_INDEX);
    LazyLock::force(&BUILT_IN_PREFIXES);
}

/// One `[[image]]` entry of a built-in file: its text, its names, and the entry, parsed on first
/// use. A run looks up a few dozen images: parsing all 291 entries (about 15 ms of TOML) for every
/// run, even one over a single file, was most of a small run's time.
///
/// The rules read only the facts: [`Chunk::entry`] parses the entry without its evidence tables
/// (four fifths of the text); [`Chunk::full`], with them, is for `explain-image` and the tests.
struct Chunk {
    file: &'static str,
    text: &'static str,
    names: Vec<String>,
    entry: std::sync::OnceLock<Entry>,
    full: std::sync::OnceLock<Entry>,
}

impl Chunk {
    /// The entry without its evidence (`evidence` is empty, in the entry and in every variant).
    fn entry(&self) -> &Entry {
        self.entry
            .get_or_init(|| parse_one(self.file, &without_evidence(self.text), false))
    }

    /// The entry with its evidence, checked to cite every fact.
    fn full(&self) -> &Entry {
        self.full
            .get_or_init(|| parse_one(self.file, self.text, true))
    }
}

/// The one entry of a built-in chunk's text.
fn parse_one(file: &'static str, text: &str, require_evidence: bool) -> Entry {
    match parse_file(file, text, require_evidence).map(Vec::into_iter) {
        Ok(mut entries) => match (entries.next(), entries.next()) {
            (Some(e), None) => e,
            _ => panic!("built-in image knowledge: {file}: not one entry"),
        },
        // The files are tested (`built_in_entries_load_and_cite_evidence`); a broken one is a
        // build defect.
        Err(e) => panic!("built-in image knowledge: {e}"),
    }
}

/// A built-in chunk's text without its `[[image.evidence]]` and `[[image.variant.evidence]]`
/// tables: each runs from its header line to the next table header of the entry (the built-in
/// files use no other headers). Tested to give the entry with its evidence left out
/// (`built_in_entries_without_evidence_are_the_same_facts`).
fn without_evidence(chunk: &str) -> String {
    const HEADERS: [&str; 4] = [
        "[[image]]",
        "[[image.variant]]",
        "[[image.evidence]]",
        "[[image.variant.evidence]]",
    ];
    let mut out = String::with_capacity(chunk.len() / 4);
    let mut skipping = false;
    // `split_inclusive('\n')`, the line feeds found by `memchr` a vector at a time.
    let ends = memchr::memchr_iter(b'\n', chunk.as_bytes()).map(|i| i + 1);
    let mut start = 0;
    for end in ends.chain([chunk.len()]) {
        let line = &chunk[start..end];
        start = end;
        let header = line.trim_end();
        if HEADERS.contains(&header) {
            skipping = header.ends_with(".evidence]]");
        }
        if !skipping {
            out.push_str(line);
        }
    }
    out
}

/// The `[[image]]` entries of a knowledge file: the text from each `[[image]]` line to the next
/// (the `[[image.variant]]` and evidence tables inside it included; before the first, only
/// comments), each a TOML document of one entry.
fn chunks(text: &'static str) -> Vec<&'static str> {
    // The lines that are `[[image]]` with trailing whitespace at most, found by searching the
    // text for the header (the whole of the knowledge is read at each start).
    const HEADER: &str = "[[image]]";
    let bytes = text.as_bytes();
    let starts: Vec<usize> = memchr::memmem::find_iter(bytes, HEADER)
        .filter(|&at| {
            let rest = &text[at + HEADER.len()..];
            let line_rest = &rest[..memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len())];
            (at == 0 || bytes[at - 1] == b'\n') && line_rest.trim_end().is_empty()
        })
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| &text[start..starts.get(i + 1).copied().unwrap_or(text.len())])
        .collect()
}

/// The strings of a one-line `names = ["a", "b"]` array whose strings hold printable ASCII other
/// than quotes and backslashes (what TOML reads them as, without a TOML parser: the knowledge
/// base's names are read at each start). None for anything else.
fn simple_names(line: &str) -> Option<Vec<String>> {
    let mut rest = line
        .strip_prefix("names = [")?
        .trim_end()
        .strip_suffix(']')?;
    let mut names = Vec::new();
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        let body = rest.strip_prefix('"')?;
        let end = body.find('"')?;
        let name = &body[..end];
        if !name
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'\\')
        {
            return None;
        }
        names.push(name.to_owned());
        rest = body[end + 1..].trim_start_matches(' ');
        match rest.strip_prefix(',') {
            Some(r) => rest = r,
            None if rest.is_empty() => break,
            None => return None,
        }
    }
    Some(names)
}

/// The `names` of an entry's text, read without parsing the entry: the `names = [...]` key
/// (one line, or several up to the line that closes the array), parsed as TOML alone.
fn chunk_names(file: &str, chunk: &str) -> Vec<String> {
    #[derive(Deserialize)]
    struct Names {
        names: Vec<String>,
    }
    let mut lines = chunk.lines().skip_while(|l| !l.starts_with("names ="));
    if let Some(names) = lines
        .clone()
        .next()
        .and_then(simple_names)
        .filter(|n| !n.is_empty())
    {
        return names;
    }
    let mut key = String::new();
    for line in lines.by_ref() {
        key.push_str(line);
        key.push('\n');
        if toml::from_str::<Names>(&key).is_ok() {
            break;
        }
    }
    match toml::from_str::<Names>(&key) {
        Ok(n) if !n.names.is_empty() => n.names,
        _ => panic!("built-in image knowledge: {file}: an entry without a `names = [...]` key"),
    }
}

static BUILT_IN_CHUNKS: LazyLock<Vec<Chunk>> = LazyLock::new(|| {
    // (Sized first: a chunk holds two entry slots, and growing the vector by doubling copied
    // them over and over: about half of building the index.)
    let files: Vec<(&'static str, Vec<&'static str>)> = BUILT_IN
        .iter()
        .map(|&(file, text)| (file, chunks(text)))
        .collect();
    let mut out = Vec::with_capacity(files.iter().map(|(_, c)| c.len()).sum());
    for (file, file_chunks) in files {
        for chunk in file_chunks {
            out.push(Chunk {
                file,
                text: chunk,
                names: chunk_names(file, chunk),
                entry: std::sync::OnceLock::new(),
                full: std::sync::OnceLock::new(),
            });
        }
    }
    out
});

/// The built-in entry `i` (an index of [`BUILT_IN_INDEX`] or [`BUILT_IN_PREFIXES`]).
fn built_in_entry(i: usize) -> &'static Entry {
    BUILT_IN_CHUNKS[i].entry()
}

/// Built-in entries by name (exact names, and `prefix/*` names under their prefix).
static BUILT_IN_INDEX: LazyLock<HashMap<String, usize>> = LazyLock::new(|| {
    let mut map = HashMap::with_capacity(BUILT_IN_CHUNKS.iter().map(|c| c.names.len()).sum());
    for (i, c) in BUILT_IN_CHUNKS.iter().enumerate() {
        for n in &c.names {
            map.entry(n.clone()).or_insert(i);
        }
    }
    map
});

/// The built-in entry `i` with its evidence.
fn built_in_entry_full(i: usize) -> &'static Entry {
    BUILT_IN_CHUNKS[i].full()
}

/// Every built-in entry (all parsed, with their evidence).
#[must_use]
pub fn built_in() -> Vec<&'static Entry> {
    (0..BUILT_IN_CHUNKS.len())
        .map(built_in_entry_full)
        .collect()
}

/// A version range: `>=8`, `<1.17.10`, `>=7, <8`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct VersionRange(Vec<(std::cmp::Ordering, bool, Vec<u64>)>);

impl VersionRange {
    fn parse(text: &str) -> Option<Self> {
        let mut out = Vec::new();
        for part in text.split(',') {
            let p = part.trim();
            let (op, rest) = if let Some(r) = p.strip_prefix(">=") {
                ((std::cmp::Ordering::Greater, true), r)
            } else if let Some(r) = p.strip_prefix("<=") {
                ((std::cmp::Ordering::Less, true), r)
            } else if let Some(r) = p.strip_prefix('>') {
                ((std::cmp::Ordering::Greater, false), r)
            } else if let Some(r) = p.strip_prefix('<') {
                ((std::cmp::Ordering::Less, false), r)
            } else if let Some(r) = p.strip_prefix('=') {
                ((std::cmp::Ordering::Equal, true), r)
            } else {
                return None;
            };
            let v = parse_version(rest.trim())?;
            out.push((op.0, op.1, v));
        }
        (!out.is_empty()).then_some(Self(out))
    }

    fn contains(&self, v: &[u64]) -> bool {
        self.0.iter().all(|(ord, or_equal, bound)| {
            let c = compare(v, bound);
            c == *ord || (*or_equal && c == std::cmp::Ordering::Equal)
        })
    }
}

fn parse_version(s: &str) -> Option<Vec<u64>> {
    let parts: Vec<u64> = s
        .split('.')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<_>>()?;
    (!parts.is_empty()).then_some(parts)
}

fn compare(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x.cmp(&y);
        }
    }
    std::cmp::Ordering::Equal
}

/// The leading version of a tag (`v2.8.3` → 2.8.3, `16.4-alpine` → 16.4); None when the tag does not
/// start with one (`alpine`, `lts`, `pg16`).
#[must_use]
pub fn tag_version(tag: &str) -> Option<Vec<u64>> {
    let t = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let v = t[..end].trim_end_matches('.');
    if v.is_empty() || !v.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    parse_version(v)
}

/// What is known about the tag in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tag {
    /// No tag, or `latest`: the image's current default, which the base entry describes.
    Default,
    /// A tag as written (interpolation resolved).
    Known(String),
    /// The tag cannot be read (an unresolved variable): facts that differ between variants are
    /// unknown.
    Unresolved,
}

impl Tag {
    /// The tag of an image reference (`${VAR}` in it makes it unresolved).
    #[must_use]
    pub fn of(image: &ImageName) -> Self {
        match image.tag.as_deref() {
            None | Some("latest") => Self::Default,
            Some(t) if t.contains('$') => Self::Unresolved,
            Some(t) => Self::Known(t.to_owned()),
        }
    }
}

/// Whether a variant applies to a tag: Some(true/false), or None when it cannot be told.
fn applies(when: &When, tag: &Tag) -> Option<bool> {
    match tag {
        Tag::Default => Some(false),
        Tag::Unresolved => None,
        Tag::Known(t) => {
            let lower = t.to_ascii_lowercase();
            let mut result = Some(true);
            if let Some(c) = &when.tag_contains {
                if !lower.contains(&c.to_ascii_lowercase()) {
                    return Some(false);
                }
            }
            if let Some(r) = &when.versions {
                let range = VersionRange::parse(r)?;
                match tag_version(t) {
                    Some(v) => {
                        if !range.contains(&v) {
                            return Some(false);
                        }
                    }
                    None => result = None,
                }
            }
            result
        }
    }
}

impl Entry {
    /// The facts for `tag`: the base facts with the variants that apply laid over them in order;
    /// variants that may apply (the tag or its version cannot be read) are widened in.
    #[must_use]
    pub fn resolve(&self, tag: &Tag) -> Facts {
        let mut facts = self.facts.clone();
        for v in &self.variants {
            match applies(&v.when, tag) {
                Some(true) => facts.overlay(&v.facts),
                Some(false) => {}
                None => {
                    let mut with = facts.clone();
                    with.overlay(&v.facts);
                    facts.widen(&with);
                }
            }
        }
        facts
    }
}

/// How an entry was matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// By its exact name.
    Exact,
    /// By a `prefix/*` name.
    Prefix,
    /// By the last path component of an image on another registry or namespace, taken as a
    /// mirror of the official image of that name (`registry.example.com/team/redis` → `redis`).
    Mirror,
}

/// What the knowledge base knows about an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// The facts for the image's tag (config entries laid over built-in ones).
    pub facts: Facts,
    /// The names of the entries used, built-in first.
    pub entries: Vec<String>,
    /// How the built-in entry was matched (None when only the configuration knows the image).
    pub matched: Option<Match>,
    /// The configuration has an entry for it.
    pub from_config: bool,
    pub tag: Tag,
}

impl Known {
    /// The name to show ("`postgres`", "`redis` (by its last path component)").
    #[must_use]
    pub fn label(&self) -> String {
        let name = self.entries.first().cloned().unwrap_or_default();
        match self.matched {
            Some(Match::Mirror) => format!("`{name}` (matched by its last path component)"),
            _ => format!("`{name}`"),
        }
    }
}

/// Find the entry for `image` among `entries` by exact name, then by the longest `prefix/*`.
fn find<'e>(entries: &'e [Entry], short: &str) -> Option<(&'e Entry, Match)> {
    if let Some(e) = entries.iter().find(|e| e.names.iter().any(|n| n == short)) {
        return Some((e, Match::Exact));
    }
    let mut best: Option<(&Entry, usize)> = None;
    for e in entries {
        for n in &e.names {
            if let Some(prefix) = n.strip_suffix("/*") {
                if short.starts_with(prefix)
                    && short.as_bytes().get(prefix.len()) == Some(&b'/')
                    && best.is_none_or(|(_, l)| prefix.len() > l)
                {
                    best = Some((e, prefix.len()));
                }
            }
        }
    }
    best.map(|(e, _)| (e, Match::Prefix))
}

/// The built-in `prefix/*` names, longest first: (prefix, entry index).
static BUILT_IN_PREFIXES: LazyLock<Vec<(String, usize)>> = LazyLock::new(|| {
    let mut v: Vec<(String, usize)> = BUILT_IN_CHUNKS
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            e.names
                .iter()
                .filter_map(move |n| n.strip_suffix("/*").map(|p| (p.to_owned(), i)))
        })
        .collect();
    v.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    v
});

fn find_built_in(short: &str) -> Option<(&'static Entry, Match)> {
    find_built_in_index(short).map(|(i, m)| (built_in_entry(i), m))
}

/// The index of the built-in entry [`find_built_in`] finds.
fn find_built_in_index(short: &str) -> Option<(usize, Match)> {
    if let Some(&i) = BUILT_IN_INDEX.get(short) {
        return Some((i, Match::Exact));
    }
    BUILT_IN_PREFIXES
        .iter()
        .find(|(p, _)| {
            short.starts_with(p.as_str()) && short.as_bytes().get(p.len()) == Some(&b'/')
        })
        .map(|&(_, i)| (i, Match::Prefix))
}

/// Public registries and hubs whose namespaces hold vendors' own builds (`ghcr.io/immich-app/postgres`,
/// `docker.io/acme/redis` are other images than the official ones of that name).
const PUBLIC_REGISTRIES: &[&str] = &[
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "registry.k8s.io",
    "k8s.gcr.io",
    "mcr.microsoft.com",
    "public.ecr.aws",
    "registry.gitlab.com",
    "lscr.io",
    "docker.elastic.co",
    "nvcr.io",
    "cgr.dev",
    "registry.access.redhat.com",
    "registry.redhat.io",
    "codeberg.org",
];

/// Whether `image` is on a private registry (`registry.example.com/team/redis`,
/// `123.dkr.ecr.eu-west-1.amazonaws.com/redis`, `localhost:5000/redis`): a mirror of the official
/// image of its last path component, as teams keep them. Images in a public registry's namespaces
/// are vendors' own builds.
fn is_private_mirror(image: &ImageName) -> bool {
    image.registry.as_deref().is_some_and(|r| {
        let host = r.to_ascii_lowercase();
        !PUBLIC_REGISTRIES.contains(&host.as_str()) && !host.ends_with(".docker.io")
    })
}

/// Where the facts of an image were read (`--resolve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFrom {
    /// The image's registry: its config and layers.
    Registry,
    /// The local Docker Engine: image inspect and export.
    Engine,
}

/// Facts read from an image, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadFacts {
    pub facts: Facts,
    pub from: ReadFrom,
}

/// The key of an image in [`crate::settings::Settings::read_facts`]: its short name and tag
/// (`latest` when none), or its digest when it has one (`nginx:1.27`, `ghcr.io/acme/agent@sha256:…`).
#[must_use]
pub fn registry_key(image: &ImageName) -> String {
    match (&image.digest, &image.tag) {
        (Some(d), _) => format!("{}@{d}", image.short()),
        (None, t) => format!("{}:{}", image.short(), t.as_deref().unwrap_or("latest")),
    }
}

/// Look an image up: the built-in entry (exact name, `prefix/*`, then, for an image on a private
/// registry, the last path component when an official image of that name is known), with
/// the user's `[[images]]` entries for it laid over, resolved for the image's tag. None when nothing
/// is known: unknown, and fixes that depend on it stay suggestions.
#[must_use]
pub fn lookup(config: &[Entry], image: &ImageName) -> Option<Known> {
    let short = image.short();
    let tag = Tag::of(image);
    let mut built = find_built_in(&short);
    if built.is_none() && is_private_mirror(image) {
        let last = image.base_name();
        if let Some(&i) = BUILT_IN_INDEX.get(&last) {
            built = Some((built_in_entry(i), Match::Mirror));
        }
    }
    let user = find(config, &short).map(|(e, _)| e);
    if built.is_none() && user.is_none() {
        return None;
    }
    let mut facts = built.map(|(e, _)| e.resolve(&tag)).unwrap_or_default();
    let mut entries = Vec::new();
    if let Some((e, _)) = built {
        entries.push(e.names[0].clone());
    }
    if let Some(u) = user {
        facts.overlay(&u.resolve(&tag));
        entries.push(u.names[0].clone());
    }
    Some(Known {
        facts,
        entries,
        matched: built.map(|(_, m)| m),
        from_config: user.is_some(),
        tag,
    })
}

/// Every entry that `name` matches (built-in, then configuration), for `explain-image`.
#[must_use]
pub fn entries_for<'a>(config: &'a [Entry], name: &str) -> Vec<&'a Entry> {
    let image = ImageName::parse(name);
    let short = image.short();
    let mut out: Vec<&'a Entry> = Vec::new();
    let built = find_built_in_index(&short).map(|(i, _)| i).or_else(|| {
        BUILT_IN_INDEX
            .get(&image.base_name())
            .filter(|_| is_private_mirror(&image))
            .copied()
    });
    if let Some(i) = built {
        out.push(built_in_entry_full(i));
    }
    if let Some((e, _)) = find(config, &short) {
        out.push(e);
    }
    out
}

/// A readable account of what is known about `name`, with the evidence of every fact.
#[must_use]
pub fn explain(config: &[Entry], name: &str) -> Option<String> {
    let image = ImageName::parse(name);
    let known = lookup(config, &image)?;
    let mut out = String::new();
    let entries = entries_for(config, name);
    let _ = writeln!(out, "{}", name);
    for e in &entries {
        let from = match &e.origin {
            Origin::BuiltIn(f) => format!("built-in knowledge ({f})"),
            Origin::Config => "your configuration ([[images]])".to_owned(),
        };
        let _ = writeln!(
            out,
            "  entry `{}` from {from}: {}",
            e.names.join("`, `"),
            e.summary
        );
    }
    if known.matched == Some(Match::Mirror) {
        let _ = writeln!(
            out,
            "  (matched by its last path component: taken as a mirror of the official image)"
        );
    }
    let tag = match &known.tag {
        Tag::Default => "the default tag".to_owned(),
        Tag::Known(t) => format!("tag `{t}`"),
        Tag::Unresolved => "an unresolved tag (facts that differ between tags are unknown)".into(),
    };
    let _ = writeln!(out, "\nFacts for {tag}:");
    let facts = toml::to_string(&known.facts).unwrap_or_default();
    for line in facts.lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "\nEvidence:");
    for e in &entries {
        let all = e.evidence.iter().map(|ev| (None, ev)).chain(
            e.variants
                .iter()
                .enumerate()
                .flat_map(|(i, v)| v.evidence.iter().map(move |ev| (Some((i, &v.when)), ev))),
        );
        for (variant, ev) in all {
            let scope = match variant {
                None => String::new(),
                Some((_, w)) => {
                    let mut parts = Vec::new();
                    if let Some(c) = &w.tag_contains {
                        parts.push(format!("tags containing `{c}`"));
                    }
                    if let Some(r) = &w.versions {
                        parts.push(format!("versions {r}"));
                    }
                    format!(" [{}]", parts.join(", "))
                }
            };
            let _ = writeln!(out, "  {}{scope}: {}", ev.facts.join(", "), ev.url());
            let _ = writeln!(out, "      {}", ev.quote);
            if let Some(n) = &ev.note {
                let _ = writeln!(out, "      ({n})");
            }
        }
        if matches!(e.origin, Origin::Config) && e.evidence.is_empty() {
            let _ = writeln!(out, "  (your configuration states these facts)");
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in files are read one entry at a time (see `chunks`): every file's entries, each
    /// read alone, are exactly the entries of the whole file, with the names read without
    /// parsing, and nothing but comments comes before a file's first entry.
    #[test]
    fn built_in_entries_read_alone_are_the_files_entries() {
        let mut n = 0;
        for &(file, text) in BUILT_IN {
            let whole = parse_file(file, text, true).unwrap();
            let parts = chunks(text);
            assert_eq!(whole.len(), parts.len(), "{file}");
            let first = parts
                .first()
                .map_or(text.len(), |c| c.as_ptr() as usize - text.as_ptr() as usize);
            assert!(
                text[..first]
                    .lines()
                    .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')),
                "{file}: something other than comments before the first [[image]]"
            );
            for (entry, part) in whole.iter().zip(&parts) {
                let alone = parse_file(file, part, true).unwrap();
                assert_eq!(alone.as_slice(), std::slice::from_ref(entry), "{file}");
                assert_eq!(chunk_names(file, part), entry.names, "{file}");
                n += 1;
            }
        }
        assert_eq!(built_in().len(), n);
    }

    /// The names read without TOML are TOML's: for lines it takes, the same strings; the others
    /// are left to TOML.
    #[test]
    fn simple_names_are_what_toml_reads() {
        #[derive(Deserialize)]
        struct Names {
            names: Vec<String>,
        }
        let lines = [
            r#"names = ["postgres"]"#,
            r#"names = ["a", "b/c", "d.e:f"]  "#,
            r#"names = [ "a" ,"b" , ]"#,
            r#"names = []"#,
            r#"names = ["a\"b"]"#,
            r#"names = ["a", 'b']"#,
            r#"names = ["a"] # comment"#,
            r#"names = ["a" "b"]"#,
            r#"names = ["a",,"b"]"#,
            "names = [\"a\tb\"]",
            r#"names = ["a"#,
            r#"names = ["é"]"#,
        ];
        let mut taken = 0;
        for line in lines {
            let toml = toml::from_str::<Names>(&format!("{line}\n"))
                .ok()
                .map(|n| n.names);
            if let Some(simple) = simple_names(line) {
                assert_eq!(Some(simple), toml, "{line}");
                taken += 1;
            }
        }
        assert_eq!(taken, 4);
    }

    #[test]
    fn built_in_entries_without_evidence_are_the_same_facts() {
        let mut with_evidence = 0;
        for c in BUILT_IN_CHUNKS.iter() {
            let mut full = c.full().clone();
            with_evidence += usize::from(!full.evidence.is_empty());
            full.evidence.clear();
            for v in &mut full.variants {
                v.evidence.clear();
            }
            assert_eq!(c.entry(), &full, "{}: {:?}", c.file, c.names);
            assert!(
                without_evidence(c.text).len() < c.text.len(),
                "{:?}",
                c.names
            );
        }
        assert_eq!(with_evidence, BUILT_IN_CHUNKS.len());
        // A variant's keys after its evidence tables would be lost: the split keeps them.
        let text = "[[image]]\nnames = [\"a\"]\nsummary = \"s\"\nuser = \"root\"\n\
                    [[image.evidence]]\nfacts = [\"user\"]\n\
                    [[image.variant]]\nwhen = { tag-contains = \"x\" }\n\
                    [[image.variant.evidence]]\nfacts = [\"user\"]\n\
                    [[image.variant]]\nwhen = { tag-contains = \"y\" }\nuser = \"y\"\n";
        assert_eq!(
            without_evidence(text),
            "[[image]]\nnames = [\"a\"]\nsummary = \"s\"\nuser = \"root\"\n\
             [[image.variant]]\nwhen = { tag-contains = \"x\" }\n\
             [[image.variant]]\nwhen = { tag-contains = \"y\" }\nuser = \"y\"\n"
        );
    }

    #[test]
    fn built_in_entries_load_and_cite_evidence() {
        let all = built_in();
        assert!(all.len() > 100, "{} entries", all.len());
        let mut seen = std::collections::HashSet::new();
        for e in all {
            for n in &e.names {
                assert!(seen.insert(n.clone()), "name `{n}` is in two entries");
            }
        }
    }

    #[test]
    fn versions_and_tags() {
        assert_eq!(tag_version("16.4-alpine"), Some(vec![16, 4]));
        assert_eq!(tag_version("v2.8.3"), Some(vec![2, 8, 3]));
        assert_eq!(tag_version("alpine"), None);
        assert_eq!(tag_version("pg16"), None);
        let r = VersionRange::parse(">=7, <8").unwrap();
        assert!(r.contains(&[7, 17, 2]) && !r.contains(&[8]) && !r.contains(&[6, 9]));
        assert!(VersionRange::parse("<1.17.10")
            .unwrap()
            .contains(&[1, 17, 9]));
        assert!(VersionRange::parse("8").is_none());
    }

    #[test]
    fn postgres_variants() {
        let pg = |r: &str| lookup(&[], &ImageName::parse(r)).unwrap().facts;
        assert_eq!(pg("postgres:16").runs_as.unwrap().uid, 999);
        assert_eq!(pg("postgres:16-alpine").runs_as.unwrap().uid, 70);
        assert_eq!(
            pg("postgres:16").state.unwrap(),
            vec!["/var/lib/postgresql/data"]
        );
        assert_eq!(
            pg("postgres:18").state.unwrap(),
            vec!["/var/lib/postgresql"]
        );
        // The default tag is the base entry.
        assert_eq!(pg("postgres").runs_as.unwrap().uid, 999);
        // An unresolved tag: the uid differs between variants, so it is unknown; the capabilities
        // are the same everywhere and stay known.
        let f = pg("postgres:${PG_VERSION}");
        assert!(f.runs_as.is_none());
        assert!(f.user_override.is_none());
        assert_eq!(
            f.cap_add.unwrap(),
            ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
        );
    }

    #[test]
    fn matching() {
        let k = lookup(&[], &ImageName::parse("docker.io/library/postgres:16")).unwrap();
        assert_eq!(k.matched, Some(Match::Exact));
        let k = lookup(
            &[],
            &ImageName::parse("registry.example.com/team/postgres:16"),
        )
        .unwrap();
        assert_eq!(k.matched, Some(Match::Mirror));
        // A vendor's own build on a public registry is another image.
        assert!(lookup(&[], &ImageName::parse("ghcr.io/immich-app/postgres:14")).is_none());
        assert!(lookup(&[], &ImageName::parse("acme/redis:7")).is_none());
        assert!(lookup(&[], &ImageName::parse("example/unknown-app:1")).is_none());
    }

    #[test]
    fn config_entries_win_field_by_field() {
        let text = r#"
[[image]]
names = ["postgres"]
cap-add = ["CHOWN", "SETGID", "SETUID"]

[[image]]
names = ["ghcr.io/acme/worker"]
user = "1000"
cap-add = []
"#;
        let config = parse_file("config", text, false).unwrap();
        let k = lookup(&config, &ImageName::parse("postgres:16")).unwrap();
        assert_eq!(k.facts.cap_add.unwrap(), ["CHOWN", "SETGID", "SETUID"]);
        assert_eq!(k.facts.runs_as.unwrap().uid, 999);
        assert!(k.from_config);
        let k = lookup(&config, &ImageName::parse("ghcr.io/acme/worker:2")).unwrap();
        assert_eq!(k.facts.cap_add, Some(vec![]));
        assert_eq!(k.matched, None);
        // Evidence is required of built-in entries only.
        assert!(parse_file("x", text, true).is_err());
        assert!(parse_file("x", "[[image]]\nnames = [\"a\"]\nbogus = 1\n", false).is_err());
    }

    #[test]
    fn explain_cites_evidence() {
        let text = explain(&[], "postgres:16-alpine").unwrap();
        assert!(
            text.contains("https://github.com/docker-library/postgres/blob/"),
            "{text}"
        );
        assert!(text.contains("cap-add"), "{text}");
    }
}
