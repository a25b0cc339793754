//! The registry client: `oci-client` (OCI distribution over reqwest with rustls) plus what a
//! careful CLI needs around it: credentials from the Docker configuration, plain HTTP only for
//! loopback and listed hosts, timeouts, retries with backoff, media-type and size checks. Every
//! manifest and blob is checked against its digest (oci-client computes the SHA-256 of the body
//! and compares it with the `Docker-Content-Digest` header and the digest asked for).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use dockharden_transforms::images::Facts;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{self, OciDescriptor};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::Deserialize;

use super::credentials::{Credential, DockerConfig};
use super::scan::{Blobs, LayerDesc};

/// Manifests larger than this are refused (real ones are a few KiB).
const MAX_MANIFEST: usize = 4 << 20;
/// Image configs larger than this are not read.
const MAX_CONFIG: u64 = 4 << 20;
/// Version tags compared with `latest`'s digest at most.
const MAX_TAG_PROBES: usize = 25;
/// Attempts per request (the first and the retries).
const ATTEMPTS: u32 = 4;

const ACCEPTED: &[&str] = &[
    manifest::OCI_IMAGE_INDEX_MEDIA_TYPE,
    manifest::IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    manifest::OCI_IMAGE_MEDIA_TYPE,
    manifest::IMAGE_MANIFEST_MEDIA_TYPE,
];

/// Whether `registry` (`host[:port]`) is on the loopback interface.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                registry
            }
        })
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub struct Options {
    /// Registries reached over plain HTTP besides the loopback ones (`--insecure-registry`).
    pub insecure: Vec<String>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// The first retry's wait; doubled for each further one.
    pub backoff: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            insecure: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            backoff: Duration::from_millis(500),
        }
    }
}

pub struct Fetcher {
    client: Client,
    docker: DockerConfig,
    auth: Mutex<HashMap<String, Result<RegistryAuth, String>>>,
    backoff: Duration,
}

/// The manifest a tag or digest names.
pub struct Fetched {
    pub digest: String,
    pub body: Vec<u8>,
    pub media_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<IndexEntry>>,
    #[serde(default)]
    config: Option<OciDescriptor>,
    #[serde(default)]
    layers: Option<Vec<OciDescriptor>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexEntry {
    digest: String,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Deserialize)]
struct Platform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
}

/// The parts of an image config that are read (`config` in the OCI image spec).
#[derive(Debug, Default, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub config: Option<RunConfig>,
    /// The build steps (`created_by`), one per instruction.
    #[serde(default)]
    pub history: Option<Vec<History>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct History {
    #[serde(default)]
    pub created_by: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub exposed_ports: Option<HashMap<String, serde_json::Value>>,
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default)]
    pub volumes: Option<HashMap<String, serde_json::Value>>,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub working_dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    #[serde(default)]
    pub test: Option<Vec<String>>,
}

/// A short reason for an error of oci-client.
fn reason(e: &OciDistributionError) -> String {
    match e {
        OciDistributionError::UnauthorizedError { .. } => {
            "authentication required or refused (401): check the credentials in the Docker configuration".into()
        }
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<String> = envelope
                .errors
                .iter()
                .map(|x| format!("{:?}: {}", x.code, x.message))
                .collect();
            codes.join("; ")
        }
        OciDistributionError::ServerError { code, message, .. } => {
            let m = message.trim();
            let m: String = m.chars().take(200).collect();
            format!("HTTP {code}{}", if m.is_empty() { String::new() } else { format!(": {m}") })
        }
        OciDistributionError::DigestError(d) => format!("digest mismatch: {d}"),
        OciDistributionError::RequestError(r) => {
            use std::error::Error as _;
            let mut s = r.to_string();
            let mut src = r.source();
            while let Some(x) = src {
                s.push_str(&format!(": {x}"));
                src = x.source();
            }
            s
        }
        other => other.to_string(),
    }
}

/// Whether a failed request is worth another try (rate limits, server errors, time-outs,
/// refused connections).
fn transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code == 429 || *code >= 500,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|x| matches!(x.code, OciErrorCode::Toomanyrequests)),
        OciDistributionError::RequestError(r) => r.is_timeout() || r.is_connect() || r.is_request(),
        _ => false,
    }
}

/// A writer that refuses more than `limit` bytes.
struct Bounded {
    buf: Vec<u8>,
    limit: usize,
}

impl tokio::io::AsyncWrite for Bounded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.buf.len() + data.len() > self.limit {
            return Poll::Ready(Err(std::io::Error::other(format!(
                "response larger than {} bytes",
                self.limit
            ))));
        }
        self.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Fetcher {
    /// A client for the registries `hosts` (plain HTTP for the loopback ones and `insecure`).
    pub fn new(hosts: &[String], docker: DockerConfig, options: &Options) -> Self {
        // reqwest is built without a default TLS provider: install ring's (once per process).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let plain: Vec<String> = hosts
            .iter()
            .filter(|h| is_loopback(h) || options.insecure.contains(h))
            .cloned()
            .collect();
        let config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(plain),
            connect_timeout: Some(options.connect_timeout),
            read_timeout: Some(options.read_timeout),
            platform_resolver: None,
            ..ClientConfig::default()
        };
        Self {
            client: Client::new(config),
            docker,
            auth: Mutex::default(),
            backoff: options.backoff,
        }
    }

    fn auth_for(&self, registry: &str) -> Result<RegistryAuth, String> {
        let mut map = self.auth.lock().expect("auth map");
        map.entry(registry.to_owned())
            .or_insert_with(|| {
                self.docker.credential(registry).map(|c| match c {
                    Credential::Anonymous => RegistryAuth::Anonymous,
                    Credential::Basic(u, p) => RegistryAuth::Basic(u, p),
                    Credential::Token(t) => RegistryAuth::Bearer(t),
                })
            })
            .clone()
    }

    /// Run `op` with retries: a rate limit (429), a server error or a time-out is retried after
    /// a wait that doubles each time.
    async fn retry<T, F, Fut>(&self, mut op: F) -> Result<T, String>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        let mut wait = self.backoff;
        for attempt in 1..=ATTEMPTS {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if attempt < ATTEMPTS && transient(&e) => {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) => {
                    let r = reason(&e);
                    return Err(if attempt > 1 {
                        format!("{r} (after {attempt} attempts)")
                    } else {
                        r
                    });
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// The manifest (or index) that `r` names, its digest checked.
    pub async fn manifest(&self, r: &Reference) -> Result<Fetched, String> {
        let auth = self.auth_for(r.resolve_registry())?;
        let (body, digest) = self
            .retry(|| self.client.pull_manifest_raw(r, &auth, ACCEPTED))
            .await?;
        if body.len() > MAX_MANIFEST {
            return Err(format!("the manifest is larger than {MAX_MANIFEST} bytes"));
        }
        let probe: Probe =
            serde_json::from_slice(&body).map_err(|e| format!("the manifest is not JSON: {e}"))?;
        let media_type = match probe.media_type {
            Some(m) => m,
            None if probe.manifests.is_some() => manifest::OCI_IMAGE_INDEX_MEDIA_TYPE.to_owned(),
            None if probe.config.is_some() => manifest::OCI_IMAGE_MEDIA_TYPE.to_owned(),
            None => String::new(),
        };
        if !ACCEPTED.contains(&media_type.as_str()) {
            return Err(format!(
                "the registry answered with a manifest of media type `{media_type}`, not an image manifest or index"
            ));
        }
        Ok(Fetched {
            digest,
            body: body.to_vec(),
            media_type,
        })
    }

    /// Every tag of the repository (following `Link`-less pagination with `last`).
    pub async fn tags(&self, r: &Reference) -> Result<Vec<String>, String> {
        let auth = self.auth_for(r.resolve_registry())?;
        let mut all: Vec<String> = Vec::new();
        let mut last: Option<String> = None;
        for _ in 0..20 {
            let page = self
                .retry(|| self.client.list_tags(r, &auth, Some(1000), last.as_deref()))
                .await?;
            let n = page.tags.len();
            let next = page.tags.last().cloned();
            all.extend(page.tags);
            if n < 1000 || next == last {
                break;
            }
            last = next;
        }
        Ok(all)
    }

    /// The most specific version tag of `r`'s repository whose manifest has `digest` (`1.27.3`
    /// before `1.27` before `1`), or None.
    pub async fn version_tag(&self, r: &Reference, digest: &str) -> Result<Option<String>, String> {
        let mut candidates: Vec<(Vec<u64>, String)> = self
            .tags(r)
            .await?
            .into_iter()
            .filter_map(|t| dockharden_transforms::images::tag_version(&t).map(|v| (v, t)))
            .filter(|(_, t)| t.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
            .collect();
        // Highest version first; of equal versions the one with more parts.
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.len().cmp(&a.1.len())));
        for (_, tag) in candidates.into_iter().take(MAX_TAG_PROBES) {
            let t = Reference::with_tag(
                r.registry().to_owned(),
                r.repository().to_owned(),
                tag.clone(),
            );
            match self.manifest(&t).await {
                Ok(m) if m.digest == digest => return Ok(Some(tag)),
                Ok(_) => {}
                Err(e) => return Err(format!("tag `{tag}`: {e}")),
            }
        }
        Ok(None)
    }

    /// The config and the layers of the image `fetched` (a manifest or an index; of an index,
    /// the linux/amd64 image, else the first linux one), the config's digest checked.
    pub async fn config(
        &self,
        r: &Reference,
        fetched: &Fetched,
    ) -> Result<(ImageConfig, Vec<LayerDesc>), String> {
        let probe: Probe = serde_json::from_slice(&fetched.body)
            .map_err(|e| format!("the manifest is not JSON: {e}"))?;
        let image_manifest = if let Some(entries) = probe.manifests {
            let linux = |e: &&IndexEntry| e.platform.as_ref().is_some_and(|p| p.os == "linux");
            let pick = entries
                .iter()
                .find(|e| {
                    linux(e)
                        && e.platform
                            .as_ref()
                            .is_some_and(|p| p.architecture == "amd64")
                })
                .or_else(|| entries.iter().find(linux))
                .ok_or("the index has no linux image")?;
            let m = Reference::with_digest(
                r.registry().to_owned(),
                r.repository().to_owned(),
                pick.digest.clone(),
            );
            let f = self.manifest(&m).await?;
            serde_json::from_slice::<Probe>(&f.body)
                .map_err(|e| format!("the manifest is not JSON: {e}"))?
        } else {
            probe
        };
        let layers = image_manifest
            .layers
            .unwrap_or_default()
            .into_iter()
            .map(|l| LayerDesc {
                digest: l.digest,
                size: u64::try_from(l.size).unwrap_or(u64::MAX),
                media_type: l.media_type,
            })
            .collect();
        let config = image_manifest.config.ok_or("the manifest has no config")?;
        if u64::try_from(config.size).unwrap_or(u64::MAX) > MAX_CONFIG {
            return Err(format!(
                "the image config is larger than {MAX_CONFIG} bytes"
            ));
        }
        let auth = self.auth_for(r.resolve_registry())?;
        self.client
            .store_auth_if_needed(r.resolve_registry(), &auth)
            .await;
        let bytes = self
            .retry(|| async {
                let mut out = Bounded {
                    buf: Vec::new(),
                    limit: usize::try_from(MAX_CONFIG).unwrap_or(usize::MAX),
                };
                self.client.pull_blob(r, &config, &mut out).await?;
                Ok(out.buf)
            })
            .await?;
        let config = serde_json::from_slice(&bytes)
            .map_err(|e| format!("the image config is not JSON: {e}"))?;
        Ok((config, layers))
    }

    /// A blob of `r`'s repository, at most `limit` bytes, checked against its digest (oci-client
    /// hashes what it receives and compares it with the digest asked for).
    pub async fn blob(
        &self,
        r: &Reference,
        layer: &LayerDesc,
        limit: u64,
    ) -> Result<Vec<u8>, String> {
        let auth = self.auth_for(r.resolve_registry())?;
        self.client
            .store_auth_if_needed(r.resolve_registry(), &auth)
            .await;
        let descriptor = OciDescriptor {
            media_type: layer.media_type.clone(),
            digest: layer.digest.clone(),
            size: i64::try_from(layer.size).unwrap_or(i64::MAX),
            ..OciDescriptor::default()
        };
        self.retry(|| async {
            let mut out = Bounded {
                buf: Vec::new(),
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            };
            self.client.pull_blob(r, &descriptor, &mut out).await?;
            Ok(out.buf)
        })
        .await
        .map_err(|e| format!("layer {}: {e}", layer.digest))
    }
}

/// The layers of one image, fetched from its repository.
pub struct ImageBlobs<'a> {
    pub fetcher: &'a Fetcher,
    pub reference: &'a Reference,
}

impl Blobs for ImageBlobs<'_> {
    async fn blob(&self, layer: &LayerDesc, limit: u64) -> Result<Vec<u8>, String> {
        self.fetcher.blob(self.reference, layer, limit).await
    }
}

/// What an image config proves, as facts: its user (empty = root), its platform, the ports it
/// exposes, its volumes, whether it declares a healthcheck. Nothing is inferred from names.
pub fn facts_of(config: &ImageConfig) -> Facts {
    let mut f = Facts::default();
    if !config.os.is_empty() {
        f.platform = Some(config.os.clone());
    }
    let run = config.config.as_ref();
    let user = run.and_then(|c| c.user.clone()).unwrap_or_default();
    f.user = Some(if user.trim().is_empty() {
        "root".to_owned()
    } else {
        user.trim().to_owned()
    });
    if let Some(ports) = run.and_then(|c| c.exposed_ports.as_ref()) {
        let mut p: Vec<String> = ports
            .keys()
            .map(|k| k.strip_suffix("/tcp").unwrap_or(k).to_owned())
            .collect();
        p.sort();
        f.ports = Some(p);
    }
    if let Some(v) = run.and_then(|c| c.volumes.as_ref()) {
        let mut v: Vec<String> = v.keys().cloned().collect();
        v.sort();
        f.volumes = Some(v);
    }
    let hc = run
        .and_then(|c| c.healthcheck.as_ref())
        .and_then(|h| h.test.as_ref())
        .is_some_and(|t| t.first().is_some_and(|w| w != "NONE"));
    f.healthcheck = Some(hc);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback() {
        for h in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "registry.example.com:5000",
            "10.0.0.1:5000",
            "docker.io",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn facts_only_what_the_config_proves() {
        let c: ImageConfig = serde_json::from_str(
            r#"{"os":"linux","config":{"User":"1000","ExposedPorts":{"8080/tcp":{}},"Volumes":{"/data":{}},
                "Healthcheck":{"Test":["CMD","true"]},"Entrypoint":["/entrypoint.sh"]}}"#,
        )
        .unwrap();
        let f = facts_of(&c);
        assert_eq!(f.user.as_deref(), Some("1000"));
        assert_eq!(f.ports, Some(vec!["8080".to_owned()]));
        assert_eq!(f.volumes, Some(vec!["/data".to_owned()]));
        assert_eq!(f.healthcheck, Some(true));
        assert_eq!(f.runs_as, None);
        assert_eq!(f.switch_user, None);
        let f = facts_of(&serde_json::from_str(r#"{"os":"linux","config":{}}"#).unwrap());
        assert_eq!(f.user.as_deref(), Some("root"));
        assert_eq!(f.healthcheck, Some(false));
        assert_eq!(f.ports, None);
    }
}
