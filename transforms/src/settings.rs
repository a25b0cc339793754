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
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HealthcheckOptions {
    /// HTTP path probed by an inferred healthcheck.
    pub path: String,
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
            path: "/".into(),
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

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct KubernetesOptions {
    /// Secret that `env` credentials are moved to (`valueFrom.secretKeyRef.name`).
    pub secret_name: Option<String>,
    /// Also fix `automountServiceAccountToken` (report only by default).
    pub fix_automount: bool,
}

/// Resolves an image reference to a pinned one (tag@digest). The network enters only through this.
pub trait ImageResolver: Send + Sync {
    /// `image` is the reference as written (e.g. `python:3.12-slim` or `nginx`); returns the pin
    /// to write (e.g. `3.12-slim@sha256:…`), or None when unknown.
    fn resolve(&self, image: &str) -> Option<String>;
}

/// The offline resolver: knows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResolver;

impl ImageResolver for NoResolver {
    fn resolve(&self, _image: &str) -> Option<String> {
        None
    }
}
