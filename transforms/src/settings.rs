//! Per-transform options. The binary fills these from `.dockharden.toml`; interactive answers override
//! them. Every option has a default that produces a working, conservative fix or none.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Options shared by the transforms of every file kind.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Numeric user id written by the non-root fixes (Dockerfile USER, compose `user:`, k8s runAsUser).
    pub uid: u32,
    /// Numeric group id written with it.
    pub gid: u32,
    /// Pin table: image name (as written, without tag) → `tag`, `tag@sha256:…` or `@sha256:…`.
    pub pins: BTreeMap<String, String>,
    pub healthcheck: HealthcheckOptions,
    pub limits: LimitOptions,
    /// Extra capabilities a given image needs, added back after `cap_drop: [ALL]`: image name → caps.
    pub capabilities: BTreeMap<String, Vec<String>>,
    pub kubernetes: KubernetesOptions,
    /// Image scanning in CI pipelines (DR015).
    pub pipelines: PipelineOptions,
    /// The configuration's `[[images]]` entries (top level of `.dockharden.toml`, not under
    /// `[options]`): what the user knows about images, laid over the built-in knowledge.
    #[serde(skip)]
    pub images: Vec<crate::images::Entry>,
    /// `--update-pins`: a stale pin (its tag now points to another digest) is fixed, not only
    /// reported.
    #[serde(skip)]
    pub update_pins: bool,
    /// Facts read from the images themselves (`--resolve`: their registries or the local Docker
    /// Engine), keyed by the reference's short name and tag (`ghcr.io/acme/agent:1.2`): used only
    /// for images that the knowledge base and the configuration do not know.
    #[serde(skip)]
    pub read_facts: std::sync::Arc<BTreeMap<String, crate::images::ReadFacts>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            uid: 10001,
            gid: 10001,
            pins: BTreeMap::new(),
            healthcheck: HealthcheckOptions::default(),
            limits: LimitOptions::default(),
            capabilities: BTreeMap::new(),
            kubernetes: KubernetesOptions::default(),
            pipelines: PipelineOptions::default(),
            images: Vec::new(),
            update_pins: false,
            read_facts: std::sync::Arc::default(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HealthcheckOptions {
    /// HTTP path probed by an inferred healthcheck. None: not known (the health path of an
    /// application is a value only a human knows), except where the knowledge base names the base
    /// image's own.
    pub path: Option<String>,
    pub interval: String,
    pub timeout: String,
    pub retries: u32,
    pub start_period: String,
    /// A full command to use instead of the inferred one (exec form words).
    pub command: Option<Vec<String>>,
}

impl Default for HealthcheckOptions {
    fn default() -> Self {
        Self {
            path: None,
            interval: "30s".into(),
            timeout: "5s".into(),
            retries: 3,
            start_period: "10s".into(),
            command: None,
        }
    }
}

/// Resource limits. None means "only a human knows": the fix stays DisplayOnly.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitOptions {
    /// e.g. `512M` (compose) / `512Mi` (k8s).
    pub memory: Option<String>,
    /// e.g. `0.5` (compose) / `500m` (k8s).
    pub cpus: Option<String>,
    pub pids: Option<u32>,
    pub memory_request: Option<String>,
    pub cpu_request: Option<String>,
}

/// `[options.pipelines]`: the scanner the DR015 fix inserts into pipelines that build images.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PipelineOptions {
    /// `trivy` (default), `grype` or `docker-scout`.
    pub scanner: String,
    /// The GitHub action of the scanner, pinned (`aquasecurity/trivy-action@<commit sha>`); without
    /// it (or without an `@`), the inserted step is only shown.
    pub scan_action: Option<String>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            scanner: "trivy".into(),
            scan_action: None,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct KubernetesOptions {
    /// Secret that `env` credentials are moved to (`valueFrom.secretKeyRef.name`).
    pub secret_name: Option<String>,
    /// Also fix `automountServiceAccountToken` (report only by default).
    pub fix_automount: bool,
}

fn valid_memory(v: &str) -> bool {
    let digits = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &v[digits.len()..];
    !digits.is_empty()
        && digits.parse::<f64>().is_ok_and(|n| n > 0.0)
        && [
            "", "b", "k", "m", "g", "kb", "mb", "gb", "ki", "mi", "gi", "ti", "t", "tb",
        ]
        .contains(&unit.to_ascii_lowercase().as_str())
}

fn valid_cpus(v: &str) -> bool {
    match v.strip_suffix('m') {
        Some(milli) => milli.parse::<u32>().is_ok_and(|n| n > 0),
        None => v.parse::<f64>().is_ok_and(|n| n > 0.0 && n.is_finite()),
    }
}

/// A healthcheck command as typed: a JSON array of words (`["/app/server", "health"]`), or words
/// separated by spaces (`/app/server health`). It runs in exec form, without a shell: shell syntax
/// in the space-separated form is refused (write `["sh", "-c", "..."]` for a shell).
///
/// # Errors
/// Empty, not a JSON array of strings, or shell syntax (the message says what to write).
pub fn command_words(value: &str) -> Result<Vec<String>, String> {
    let v = value.trim();
    let words: Vec<String> = if v.starts_with('[') {
        serde_json::from_str::<Vec<String>>(v).map_err(|e| {
            format!(
                "`{v}` is not a JSON array of strings ({e}), e.g. [\"/app/server\", \"health\"]"
            )
        })?
    } else {
        if let Some(c) = v.chars().find(|c| {
            matches!(
                c,
                '"' | '\'' | '\\' | '|' | '&' | ';' | '<' | '>' | '$' | '`' | '(' | ')'
            )
        }) {
            return Err(format!(
                "`{c}` is shell syntax, and the command runs without a shell: write it as a JSON array, e.g. [\"sh\", \"-c\", \"...\"]"
            ));
        }
        v.split_whitespace().map(str::to_owned).collect()
    };
    if words.first().is_none_or(|w| w.trim().is_empty()) {
        return Err("the command is empty".into());
    }
    Ok(words)
}

impl Settings {
    /// Set an option by its dotted path in the `[options]` table (`uid`, `gid`, `limits.memory`,
    /// `limits.cpus`, `limits.pids`, `limits.memory-request`, `limits.cpu-request`,
    /// `healthcheck.path`, `healthcheck.command` (see [`command_words`]), `pins` with `key` =
    /// image, `kubernetes.secret-name`), validating the value.
    ///
    /// # Errors
    /// Unknown option or invalid value (the message says what is expected).
    pub fn set(&mut self, option: &str, key: Option<&str>, value: &str) -> Result<(), String> {
        let v = value.trim();
        let id = |v: &str| -> Result<u32, String> {
            v.parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("`{v}` is not a non-zero numeric id"))
        };
        match option {
            "uid" => self.uid = id(v)?,
            "gid" => self.gid = id(v)?,
            "limits.memory" | "limits.memory-request" => {
                if !valid_memory(v) {
                    return Err(format!("`{v}` is not a memory size (e.g. 512M, 1G, 256Mi)"));
                }
                if option == "limits.memory" {
                    self.limits.memory = Some(v.to_owned());
                } else {
                    self.limits.memory_request = Some(v.to_owned());
                }
            }
            "limits.cpus" | "limits.cpu-request" => {
                if !valid_cpus(v) {
                    return Err(format!("`{v}` is not a CPU amount (e.g. 0.5, 2, 500m)"));
                }
                if option == "limits.cpus" {
                    self.limits.cpus = Some(v.to_owned());
                } else {
                    self.limits.cpu_request = Some(v.to_owned());
                }
            }
            "limits.pids" => {
                self.limits.pids = Some(id(v)?);
            }
            "healthcheck.path" => {
                if !v.starts_with('/') || v.contains(char::is_whitespace) {
                    return Err(format!("`{v}` is not an absolute URL path (e.g. /healthz)"));
                }
                self.healthcheck.path = Some(v.to_owned());
            }
            "healthcheck.command" => self.healthcheck.command = Some(command_words(v)?),
            "pins" => {
                let image = key.ok_or("a pin needs the image name")?;
                if v.is_empty() || v.contains(char::is_whitespace) || v == "latest" {
                    return Err(format!(
                        "`{v}` is not a tag or digest (e.g. 3.12-slim or 3.12-slim@sha256:...)"
                    ));
                }
                self.pins.insert(image.to_owned(), v.to_owned());
            }
            "kubernetes.secret-name" => {
                let ok = !v.is_empty()
                    && v.len() <= 253
                    && v.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                    })
                    && v.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && v.ends_with(|c: char| c.is_ascii_alphanumeric());
                if !ok {
                    return Err(format!(
                        "`{v}` is not a valid Secret name (lower-case letters, digits, `-`, `.`)"
                    ));
                }
                self.kubernetes.secret_name = Some(v.to_owned());
            }
            o if o.starts_with("images.") => {
                let image = key.ok_or("a fact about an image needs the image name")?;
                let facts = crate::images::fact_from_answer(&o["images.".len()..], v)?;
                self.learn(image, &facts);
            }
            other => return Err(format!("unknown option `{other}`")),
        }
        Ok(())
    }
}

impl Settings {
    /// Lay `facts` over the configuration's `[[images]]` entry for `image` (created when missing).
    pub fn learn(&mut self, image: &str, facts: &crate::images::Facts) {
        let name = crate::knowledge::ImageName::parse(image).short();
        match self.images.iter_mut().find(|e| e.names.contains(&name)) {
            Some(e) => e.facts.overlay(facts),
            None => self.images.push(crate::images::Entry {
                names: vec![name],
                summary: String::new(),
                facts: facts.clone(),
                evidence: Vec::new(),
                variants: Vec::new(),
                origin: crate::images::Origin::Config,
            }),
        }
    }
}

/// A pin found by a resolver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedPin {
    /// What to write after the repository: `tag@sha256:…` (the digest the registry serves for the
    /// tag as written, or for a version tag that has the same digest as `latest`).
    pub pin: String,
    /// Something the finding must say about it (e.g. no version tag has `latest`'s digest).
    pub note: Option<String>,
}

/// Resolves an image reference to a pinned one (tag@digest). The network enters only through this.
pub trait ImageResolver: Send + Sync {
    /// `image` is the reference as written (e.g. `python:3.12-slim` or `nginx`); returns the pin
    /// to write (e.g. `3.12-slim@sha256:…`), or None when unknown.
    fn resolve(&self, image: &str) -> Option<String>;

    /// Whether this resolver looks images up in their registries (`--resolve`): then a reference
    /// with a tag but no digest is not pinned either, and pins are checked for staleness.
    fn active(&self) -> bool {
        false
    }

    /// The pin for `image` with what the finding must say about it. A resolver's pin always names
    /// the image that the reference as written gets today (the same digest), so applying it does
    /// not change the build.
    fn pin(&self, image: &str) -> Option<ResolvedPin> {
        self.resolve(image)
            .map(|pin| ResolvedPin { pin, note: None })
    }

    /// For a reference with a tag and a digest (`nginx:1.27@sha256:…`): the digest the tag points
    /// to now, or None when unknown. A different digest than the written one is a stale pin. Also
    /// asked for a digest alone (`app@sha256:…`), which has no tag and so no answer: a recording
    /// resolver notes the reference.
    fn current_digest(&self, _image: &str) -> Option<String> {
        None
    }
}

/// Read access to the files next to the one being checked, for what decides a fix but lives
/// elsewhere: a compose file's `.env` (interpolation) and the Dockerfile of a service's `build:`.
/// The binary reads the file system; the library stays pure.
pub trait Workspace: Send + Sync {
    /// The text of the file at `path`, relative to the folder of the file being checked (or
    /// absolute); None when it is not a readable regular text file.
    fn read(&self, path: &str) -> Option<String>;
}

/// No files besides the one being checked (stdin, tests).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoWorkspace;

impl Workspace for NoWorkspace {
    fn read(&self, _path: &str) -> Option<String> {
        None
    }
}

/// The offline resolver: knows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResolver;

impl ImageResolver for NoResolver {
    fn resolve(&self, _image: &str) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_validates() {
        let mut s = Settings::default();
        s.set("uid", None, "1000").unwrap();
        assert_eq!(s.uid, 1000);
        assert!(s.set("uid", None, "0").is_err());
        assert!(s.set("uid", None, "root").is_err());
        s.set("limits.memory", None, "512M").unwrap();
        s.set("limits.memory-request", None, "256Mi").unwrap();
        assert!(s.set("limits.memory", None, "lots").is_err());
        s.set("limits.cpus", None, "0.5").unwrap();
        s.set("limits.cpu-request", None, "250m").unwrap();
        assert!(s.set("limits.cpus", None, "-1").is_err());
        s.set("pins", Some("python"), "3.12-slim").unwrap();
        assert_eq!(s.pins["python"], "3.12-slim");
        assert!(s.set("pins", Some("python"), "latest").is_err());
        assert!(s.set("healthcheck.path", None, "healthz").is_err());
        s.set("healthcheck.command", None, "/app/server health")
            .unwrap();
        assert_eq!(
            s.healthcheck.command.as_deref(),
            Some(&["/app/server".to_owned(), "health".to_owned()][..])
        );
        s.set(
            "healthcheck.command",
            None,
            r#"["sh", "-c", "wget -qO- localhost:8080/ || exit 1"]"#,
        )
        .unwrap();
        assert_eq!(s.healthcheck.command.as_ref().unwrap().len(), 3);
        for bad in [
            "",
            "curl -f localhost || exit 1",
            "[\"a\", 1]",
            "[]",
            "echo $HOME",
        ] {
            assert!(s.set("healthcheck.command", None, bad).is_err(), "{bad}");
        }
        s.set("kubernetes.secret-name", None, "app-secrets")
            .unwrap();
        assert!(s
            .set("kubernetes.secret-name", None, "App_Secrets")
            .is_err());
        assert!(s.set("nope", None, "1").is_err());
    }
}

/// A resolver that answers like a registry holding a few images, for the rules' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{ImageResolver, ResolvedPin, Settings};
    use crate::engine::{Engine, FixPolicy};
    use crate::finding::Finding;
    use crate::fix::Applicability;
    use crate::source::FileKind;

    pub(crate) struct FakeRegistry;

    impl ImageResolver for FakeRegistry {
        fn resolve(&self, image: &str) -> Option<String> {
            self.pin(image).map(|p| p.pin)
        }
        fn active(&self) -> bool {
            true
        }
        fn pin(&self, image: &str) -> Option<ResolvedPin> {
            let (pin, note) = match image {
                "nginx" | "nginx:latest" => ("1.27.3@sha256:aa", None),
                "python:3.12" => ("3.12@sha256:bb", None),
                "app" | "app:latest" => (
                    "latest@sha256:cc",
                    Some("no version tag has the digest of `latest`"),
                ),
                _ => return None,
            };
            Some(ResolvedPin {
                pin: pin.into(),
                note: note.map(Into::into),
            })
        }
        fn current_digest(&self, image: &str) -> Option<String> {
            image
                .starts_with("redis:7@")
                .then(|| "sha256:new".to_owned())
        }
    }

    /// Findings of `text` and its text after fixing everything up to Unsafe.
    pub(crate) fn run(kind: FileKind, text: &str, update_pins: bool) -> (Vec<Finding>, String) {
        let settings = Settings {
            update_pins,
            ..Settings::default()
        };
        let transforms: Vec<&'static dyn crate::registry::Transform> = crate::registry::all()
            .into_iter()
            .filter(|t| ["DF003", "DC013", "K8S010"].contains(&t.code()))
            .collect();
        let engine = Engine {
            transforms,
            settings: &settings,
            resolver: &FakeRegistry,
            workspace: &super::NoWorkspace,
            path: None,
            base_services: None,
        };
        let findings = engine.check(kind, text).unwrap();
        let out = engine
            .fix(
                kind,
                text,
                FixPolicy {
                    min_applicability: Applicability::Safe,
                },
            )
            .unwrap();
        (findings, out.text)
    }
}
