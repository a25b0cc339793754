//! The registry client: OCI distribution requests (manifests, tag lists, blobs) over reqwest with
//! rustls, with authentication negotiated by `oci-client` (the `WWW-Authenticate` challenge of
//! `/v2/`, bearer tokens from the registry's token service, Basic for htpasswd registries), and
//! what a careful CLI needs around them: credentials from the Docker configuration, plain HTTP
//! only for loopback and listed hosts, timeouts, retries with doubling waits, `Retry-After` on
//! 429 and 503 (up to [`Options::max_retry_after`]), media-type and size checks. Every manifest,
//! index and blob is checked against its digest: the SHA-256 of the body must equal the digest
//! asked for and the `Docker-Content-Digest` header.
//!
//! The requests are not oci-client's own because its errors (0.18.0) keep the status and body of
//! a failed response but not its headers, so a `Retry-After` could not be honoured; its pulls
//! also give no way to bound a manifest's size while it is read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use dockharden_transforms::images::Facts;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{self, OciDescriptor};
use oci_client::secrets::RegistryAuth;
use oci_client::RegistryOperation;
use oci_client::{Client, Reference};
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use serde::Deserialize;
use sha2::Digest as _;

use super::credentials::{Credential, DockerConfig};
use super::scan::{BlobError, Blobs, LayerDesc};

/// Manifests larger than this are refused (real ones are a few KiB).
const MAX_MANIFEST: u64 = 4 << 20;
/// Image configs larger than this are not read.
const MAX_CONFIG: u64 = 4 << 20;
/// A page of the tags list at most.
const MAX_TAG_PAGE: u64 = 4 << 20;
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
    /// The longest `Retry-After` waited for; a registry that asks for more is an error at once.
    pub max_retry_after: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            insecure: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

pub struct Fetcher {
    /// Negotiates authentication (the `/v2/` challenge and the token service).
    oci: Client,
    http: reqwest::Client,
    /// Hosts reached over plain HTTP.
    plain: Vec<String>,
    docker: DockerConfig,
    credentials: Mutex<HashMap<String, Result<RegistryAuth, String>>>,
    /// `registry/repository` → the `Authorization` header to send (None: none).
    authorization: Mutex<HashMap<String, Option<String>>>,
    backoff: Duration,
    max_retry_after: Duration,
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
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub config: Option<RunConfig>,
    /// The build steps (`created_by`), one per instruction.
    #[serde(default)]
    pub history: Option<Vec<History>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct History {
    #[serde(default)]
    pub created_by: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
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

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    #[serde(default)]
    pub test: Option<Vec<String>>,
}

/// A short reason for an error of oci-client's authentication.
fn auth_reason(e: &OciDistributionError) -> String {
    match e {
        OciDistributionError::AuthenticationFailure(m) => {
            let m: String = m.trim().chars().take(200).collect();
            format!(
                "the token service refused the credentials{}: check the credentials in the Docker configuration",
                if m.is_empty() { String::new() } else { format!(" ({m})") }
            )
        }
        OciDistributionError::RequestError(r) => request_reason(r),
        OciDistributionError::GenericError(Some(m)) => m.clone(),
        other => other.to_string(),
    }
}

/// A request that failed before an answer: the error and its causes.
fn request_reason(r: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = if r.is_timeout() {
        "timed out".to_owned()
    } else if r.is_connect() {
        "cannot connect".to_owned()
    } else {
        r.to_string()
    };
    let mut src = r.source();
    while let Some(x) = src {
        s.push_str(&format!(": {x}"));
        src = x.source();
    }
    s
}

/// Whether a request that failed before an answer is worth another try.
fn transient_request(r: &reqwest::Error) -> bool {
    r.is_timeout() || r.is_connect() || r.is_request() || r.is_body()
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Vec<EnvelopeError>,
}

#[derive(Deserialize)]
struct EnvelopeError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// What a registry's error answer says: the codes of its error envelope (`MANIFEST_UNKNOWN:
/// manifest unknown`), else the start of its body.
fn answer_text(body: &[u8]) -> String {
    if let Ok(env) = serde_json::from_slice::<Envelope>(body) {
        let codes: Vec<String> = env
            .errors
            .iter()
            .map(|e| {
                if e.message.is_empty() {
                    e.code.clone()
                } else {
                    format!("{}: {}", e.code, e.message)
                }
            })
            .collect();
        if !codes.is_empty() {
            return codes.join("; ");
        }
    }
    String::from_utf8_lossy(body)
        .trim()
        .chars()
        .take(200)
        .collect()
}

/// What was asked for, to name it in a 404.
#[derive(Clone, Copy)]
enum What {
    Manifest,
    Tags,
    Blob,
}

impl What {
    fn name(self) -> &'static str {
        match self {
            Self::Manifest => "the manifest",
            Self::Tags => "the tags list",
            Self::Blob => "the blob",
        }
    }
}

/// The reason of an error status.
fn status_reason(status: u16, body: &[u8], what: What) -> String {
    let text = answer_text(body);
    let with = |s: &str| {
        if text.is_empty() {
            s.to_owned()
        } else {
            format!("{s} {text}")
        }
    };
    match status {
        401 => format!(
            "authentication required or refused ({}): check the credentials in the Docker configuration",
            with("401")
        ),
        403 => format!("access denied ({})", with("403")),
        404 => format!(
            "{} ({})",
            match what {
                What::Manifest => "no such tag or repository",
                What::Tags => "no such repository",
                What::Blob => "no such blob",
            },
            with("404")
        ),
        429 => format!("rate limited ({})", with("429")),
        code => format!(
            "HTTP {code}{}",
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        ),
    }
}

/// `Retry-After`: seconds, or an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn retry_after(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = http_date(v)?;
    let now = now.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the Unix epoch of an IMF-fixdate (RFC 9110 5.6.7).
fn http_date(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u64
        + 1;
    let year: u64 = year.parse().ok()?;
    let mut hms = time.split(':').map(str::parse::<u64>);
    let (h, m, sec) = (hms.next()?.ok()?, hms.next()?.ok()?, hms.next()?.ok()?);
    if !(1..=31).contains(&day) || year < 1970 || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

/// `sha256:<hex>` of `bytes`.
pub(super) fn sha256(bytes: &[u8]) -> String {
    let d = sha2::Sha256::digest(bytes);
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in d.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// An answer: its headers and body.
struct Answer {
    headers: HeaderMap,
    body: Vec<u8>,
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
            protocol: ClientProtocol::HttpsExcept(plain.clone()),
            connect_timeout: Some(options.connect_timeout),
            read_timeout: Some(options.read_timeout),
            platform_resolver: None,
            ..ClientConfig::default()
        };
        // Redirects (to blob storage) are followed; reqwest drops `Authorization` when one leads
        // to another host.
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout)
            .user_agent(concat!("dockharden/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap_or_default();
        Self {
            oci: Client::new(config),
            http,
            plain,
            docker,
            credentials: Mutex::default(),
            authorization: Mutex::default(),
            backoff: options.backoff,
            max_retry_after: options.max_retry_after,
        }
    }

    fn credential(&self, registry: &str) -> Result<RegistryAuth, String> {
        let mut map = self.credentials.lock().expect("credentials");
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

    /// The `Authorization` header for `r`'s repository: a bearer token from the registry's token
    /// service when `/v2/` challenges with `Bearer`, the Basic credentials when it challenges with
    /// `Basic`, none when it lets anyone in. A token is negotiated once per repository (its
    /// scope), the other answers once per registry (`fresh`: again).
    async fn authorization(
        &self,
        r: &Reference,
        fresh: bool,
    ) -> Result<Option<String>, OciDistributionError> {
        let host = r.resolve_registry().to_owned();
        let key = format!("{host}/{}", r.repository());
        if !fresh {
            let known = self.authorization.lock().expect("authorization");
            if let Some(a) = known.get(&key).or_else(|| known.get(&host)) {
                return Ok(a.clone());
            }
        }
        let credential = self
            .credential(r.registry())
            .map_err(|e| OciDistributionError::GenericError(Some(e)))?;
        if let RegistryAuth::Bearer(identity) = &credential {
            let header = self.identity_authorization(r, identity).await?;
            self.authorization
                .lock()
                .expect("authorization")
                .insert(key, header.clone());
            return Ok(header);
        }
        let token = self
            .oci
            .auth(r, &credential, RegistryOperation::Pull)
            .await?;
        let per_repository = token.is_some();
        let header = match token {
            Some(token) => Some(format!("Bearer {token}")),
            None => match &credential {
                RegistryAuth::Basic(u, p) => {
                    use base64::Engine as _;
                    Some(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                    ))
                }
                _ => None,
            },
        };
        self.authorization
            .lock()
            .expect("authorization")
            .insert(if per_repository { key } else { host }, header.clone());
        Ok(header)
    }

    /// The `Authorization` header for an identity token (`identitytoken` in the Docker
    /// configuration, or a credential helper's `<token>` user): as Docker does, it is a refresh
    /// token, exchanged at the token service that `/v2/` names for an access token of the
    /// repository's pull scope (OAuth2 `grant_type=refresh_token`). A registry that challenges
    /// with anything but `Bearer` gets the identity token itself; one that lets anyone in, nothing.
    async fn identity_authorization(
        &self,
        r: &Reference,
        identity: &str,
    ) -> Result<Option<String>, OciDistributionError> {
        let host = r.resolve_registry();
        let scheme = if self.plain.iter().any(|p| p == r.registry() || p == host) {
            "http"
        } else {
            "https"
        };
        let ping = self
            .http
            .get(format!("{scheme}://{host}/v2/"))
            .send()
            .await?;
        if ping.status().is_success() {
            return Ok(None);
        }
        let Some(challenge) = ping
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .and_then(bearer_challenge)
        else {
            return Ok(Some(format!("Bearer {identity}")));
        };
        let scope = format!("repository:{}:pull", r.repository());
        let mut fields = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", identity),
            ("client_id", "dockharden"),
            ("scope", scope.as_str()),
        ];
        if let Some(service) = &challenge.service {
            fields.push(("service", service.as_str()));
        }
        let mut response = self
            .http
            .post(&challenge.realm)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form_encode(&fields))
            .send()
            .await?;
        let status = response.status().as_u16();
        let body = read_body(&mut response, 1 << 20)
            .await
            .map_err(|e| OciDistributionError::GenericError(Some(format!("the token {e}"))))?;
        if !(200..300).contains(&status) {
            return Err(OciDistributionError::AuthenticationFailure(format!(
                "the identity token was refused ({status} from {})",
                challenge.realm
            )));
        }
        #[derive(Deserialize)]
        struct Token {
            access_token: Option<String>,
            token: Option<String>,
        }
        let token: Token = serde_json::from_slice(&body).map_err(|e| {
            OciDistributionError::GenericError(Some(format!(
                "the token service's answer is not a token: {e}"
            )))
        })?;
        token
            .access_token
            .or(token.token)
            .filter(|t| !t.is_empty())
            .map(|t| Some(format!("Bearer {t}")))
            .ok_or_else(|| {
                OciDistributionError::GenericError(Some(
                    "the token service's answer has no access_token".to_owned(),
                ))
            })
    }

    fn url(&self, r: &Reference, path: &str) -> String {
        let host = r.resolve_registry();
        let scheme = if self.plain.iter().any(|p| p == r.registry() || p == host) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{host}/v2/{}/{path}", r.repository())
    }

    /// GET `path` of `r`'s repository, at most `limit` bytes. A rate limit (429) or an
    /// unavailable registry (503) is retried after its `Retry-After` (an error at once when that
    /// is longer than the longest wait), other server errors, time-outs and refused connections
    /// after a wait that doubles each time; a 401 renegotiates the token once.
    async fn get(
        &self,
        r: &Reference,
        path: &str,
        accept: &str,
        limit: u64,
        what: What,
    ) -> Result<Answer, String> {
        let url = self.url(r, path);
        let mut wait = self.backoff;
        let mut fresh = false;
        let mut renegotiated = false;
        let mut attempt = 0;
        let after = |attempt: u32, reason: String| {
            if attempt > 1 {
                format!("{reason} (after {attempt} attempts)")
            } else {
                reason
            }
        };
        loop {
            attempt += 1;
            let last = attempt >= ATTEMPTS;
            let authorization = match self.authorization(r, fresh).await {
                Ok(a) => a,
                Err(OciDistributionError::RequestError(e)) if !last && transient_request(&e) => {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    continue;
                }
                Err(e) => return Err(after(attempt, auth_reason(&e))),
            };
            fresh = false;
            let mut request = self.http.get(&url).header(ACCEPT, accept);
            if let Some(a) = &authorization {
                request = request.header(AUTHORIZATION, a);
            }
            let mut response = match request.send().await {
                Ok(resp) => resp,
                Err(e) if !last && transient_request(&e) => {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    continue;
                }
                Err(e) => return Err(after(attempt, request_reason(&e))),
            };
            let status = response.status().as_u16();
            if status == 401 && !renegotiated {
                // An expired or too narrow token: ask the token service again, once.
                renegotiated = true;
                fresh = true;
                attempt -= 1;
                continue;
            }
            if matches!(status, 429 | 503) || (status >= 500 && status != 501) {
                let asked = retry_after(response.headers(), std::time::SystemTime::now());
                let body = read_body(&mut response, 64 << 10).await.unwrap_or_default();
                let reason = status_reason(status, &body, what);
                if let Some(d) = asked.filter(|d| *d > self.max_retry_after) {
                    return Err(format!(
                        "{reason}: the registry asks to wait {} s before trying again (Retry-After), more than the {} s this run waits",
                        d.as_secs(),
                        self.max_retry_after.as_secs()
                    ));
                }
                if last {
                    return Err(after(attempt, reason));
                }
                let delay = match asked {
                    Some(d) if matches!(status, 429 | 503) => d,
                    _ => wait,
                };
                tokio::time::sleep(delay).await;
                wait *= 2;
                continue;
            }
            let headers = response.headers().clone();
            if !(200..300).contains(&status) {
                let body = read_body(&mut response, 64 << 10).await.unwrap_or_default();
                return Err(after(attempt, status_reason(status, &body, what)));
            }
            return match read_body(&mut response, limit).await {
                Ok(body) => Ok(Answer { headers, body }),
                Err(e) => Err(after(attempt, format!("{} {e}", what.name()))),
            };
        }
    }

    /// The manifest (or index) that `r` names, its digest checked.
    pub async fn manifest(&self, r: &Reference) -> Result<Fetched, String> {
        let reference = r.digest().or(r.tag()).unwrap_or("latest");
        let a = self
            .get(
                r,
                &format!("manifests/{reference}"),
                &ACCEPTED.join(", "),
                MAX_MANIFEST,
                What::Manifest,
            )
            .await?;
        let digest = sha256(&a.body);
        if let Some(header) = a
            .headers
            .get("docker-content-digest")
            .and_then(|h| h.to_str().ok())
        {
            if header.starts_with("sha256:") && header != digest {
                return Err(format!(
                    "digest mismatch: the registry says the manifest is {header}, its bytes hash to {digest}"
                ));
            }
        }
        if let Some(asked) = r.digest() {
            if asked != digest {
                return Err(format!(
                    "digest mismatch: asked for {asked}, the manifest served hashes to {digest}"
                ));
            }
        }
        let probe: Probe = serde_json::from_slice(&a.body)
            .map_err(|e| format!("the manifest is not JSON: {e}"))?;
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
            body: a.body,
            media_type,
        })
    }

    /// Every tag of the repository (pages of 1000, following `last`).
    pub async fn tags(&self, r: &Reference) -> Result<Vec<String>, String> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut all: Vec<String> = Vec::new();
        let mut last: Option<String> = None;
        for _ in 0..20 {
            let path = match &last {
                None => "tags/list?n=1000".to_owned(),
                Some(l) => format!("tags/list?n=1000&last={}", percent(l)),
            };
            let a = self
                .get(r, &path, "application/json", MAX_TAG_PAGE, What::Tags)
                .await?;
            let page: Page = serde_json::from_slice(&a.body)
                .map_err(|e| format!("the tags list is not JSON: {e}"))?;
            let tags = page.tags.unwrap_or_default();
            let n = tags.len();
            let next = tags.last().cloned();
            all.extend(tags);
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
        let size = u64::try_from(config.size).unwrap_or(u64::MAX);
        if size > MAX_CONFIG {
            return Err(format!(
                "the image config is larger than {MAX_CONFIG} bytes"
            ));
        }
        let desc = LayerDesc {
            digest: config.digest,
            size,
            media_type: config.media_type,
        };
        let bytes = self
            .blob(r, &desc, MAX_CONFIG)
            .await
            .map_err(|e| format!("the image config: {e}"))?;
        let config = serde_json::from_slice(&bytes)
            .map_err(|e| format!("the image config is not JSON: {e}"))?;
        Ok((config, layers))
    }

    /// A blob of `r`'s repository (at most `limit` bytes), checked against its digest.
    pub async fn blob(
        &self,
        r: &Reference,
        blob: &LayerDesc,
        limit: u64,
    ) -> Result<Vec<u8>, String> {
        if !blob.digest.starts_with("sha256:") {
            return Err(format!(
                "blob {}: only sha256 digests are checked",
                blob.digest
            ));
        }
        let a = self
            .get(
                r,
                &format!("blobs/{}", blob.digest),
                "*/*",
                limit,
                What::Blob,
            )
            .await
            .map_err(|e| format!("blob {}: {e}", blob.digest))?;
        let got = sha256(&a.body);
        if got != blob.digest {
            return Err(format!(
                "digest mismatch: blob {} hashes to {got}",
                blob.digest
            ));
        }
        Ok(a.body)
    }
}

/// Read the body, refusing more than `limit` bytes (the error completes "the manifest …").
async fn read_body(response: &mut reqwest::Response, limit: u64) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(format!("is larger than {limit} bytes"));
    }
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("could not be read: {}", request_reason(&e)))?
    {
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(format!("is larger than {limit} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Percent-encode a query value (tags are `[A-Za-z0-9_.-]`, but a registry may say anything).
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The layers of one image, fetched from its repository.
pub struct ImageBlobs<'a> {
    pub fetcher: &'a Fetcher,
    pub reference: &'a Reference,
}

impl Blobs for ImageBlobs<'_> {
    async fn blob(&self, layer: &LayerDesc, limit: u64) -> Result<Vec<u8>, BlobError> {
        self.fetcher
            .blob(self.reference, layer, limit)
            .await
            .map_err(BlobError::Failed)
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

/// A `Bearer` challenge of `WWW-Authenticate`: where the token service is and which service it
/// serves.
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    realm: String,
    service: Option<String>,
}

/// Parse `Bearer realm="…",service="…",scope="…"` (parameters in any order, quoted or not).
fn bearer_challenge(header: &str) -> Option<Challenge> {
    let (scheme, params) = header.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let (mut realm, mut service) = (None, None);
    let mut rest = params.trim();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "realm" => realm = Some(value.to_owned()),
            "service" => service = Some(value.to_owned()),
            _ => {}
        }
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge {
        realm: realm.filter(|r| !r.is_empty())?,
        service,
    })
}

/// `application/x-www-form-urlencoded` of `fields`.
fn form_encode(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_and_forms() {
        assert_eq!(
            bearer_challenge(
                r#"Bearer realm="https://auth.example/token",service="reg.example",scope="repository:a:pull""#
            ),
            Some(Challenge {
                realm: "https://auth.example/token".into(),
                service: Some("reg.example".into())
            })
        );
        assert_eq!(
            bearer_challenge("bearer service=s, realm=https://t/x"),
            Some(Challenge {
                realm: "https://t/x".into(),
                service: Some("s".into())
            })
        );
        assert_eq!(bearer_challenge(r#"Basic realm="x""#), None);
        assert_eq!(bearer_challenge("Bearer service=s"), None);
        assert_eq!(
            form_encode(&[("scope", "repository:team/app:pull"), ("a b", "x&y=z")]),
            "scope=repository%3Ateam%2Fapp%3Apull&a%20b=x%26y%3Dz"
        );
    }

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
    fn retry_after_seconds_and_dates() {
        let at = |v: &str, now: u64| {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, v.parse().unwrap());
            retry_after(&h, std::time::UNIX_EPOCH + Duration::from_secs(now))
        };
        assert_eq!(at("120", 0), Some(Duration::from_secs(120)));
        // RFC 9110's example date is 784111777 s after the epoch.
        assert_eq!(
            at("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777 - 30),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            at("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777 + 5),
            Some(Duration::ZERO)
        );
        assert_eq!(at("soon", 0), None);
        assert_eq!(retry_after(&HeaderMap::new(), std::time::UNIX_EPOCH), None);
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            http_date("Wed, 04 Dec 2024 03:16:19 GMT"),
            Some(1_733_282_179)
        );
    }

    #[test]
    fn error_answers() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"1"}}]}"#;
        assert_eq!(
            status_reason(404, body, What::Manifest),
            "no such tag or repository (404 MANIFEST_UNKNOWN: manifest unknown)"
        );
        assert_eq!(status_reason(500, b"boom", What::Blob), "HTTP 500: boom");
        assert!(status_reason(401, b"", What::Tags)
            .starts_with("authentication required or refused (401)"));
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
