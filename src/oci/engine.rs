//! A local Docker Engine as a source of image facts (`--resolve` only): for images built on this
//! machine, which no registry knows, the engine's own answer (image inspect, history and export)
//! gives the same facts the registry gives for a pushed image, read by the same code: the config
//! through [`client::facts_of`], the entrypoint script through [`scan::facts`] over the layers of
//! the export.
//!
//! Which engine: `DOCKER_HOST` (`unix:///path`; `tcp://host:port` only on the loopback interface
//! and without `DOCKER_TLS_VERIFY`, since TLS to the engine is not implemented), else
//! `/var/run/docker.sock` when it exists. Docker contexts (`docker context use`), `ssh://` and
//! `npipe://` are not read.
//!
//! Requests are HTTP/1.1 over hyper (already in the build through reqwest) on a fresh connection
//! each: `GET /_ping` once per run (it names the API version the engine speaks; that version is
//! used, since a fixed old one such as 1.41 is refused by engines whose minimum API is newer),
//! `GET /vX/images/{name}/json`, `…/history` (the build steps, for the setuid/file-capability
//! check) and, only for an image whose config starts a file as root, `…/get`, the `docker save`
//! archive: the classic layout (`manifest.json`, `<id>/layer.tar`, `<id>.json`) or the OCI
//! layout of newer engines (`index.json`, `blobs/sha256/…`, with or without `manifest.json`).
//!
//! The archive is streamed: an engine cannot export one layer, so the whole image passes through,
//! up to [`MAX_EXPORT`]; only its files of at most [`scan::MAX_LAYER`] bytes are kept (in an
//! unnamed temporary file, at most [`MAX_SPOOL`] in all), and the layer walk then applies the
//! registry scan's budgets to the layers as the export holds them (uncompressed in the classic
//! layout, so the per-layer budget is stricter there). Each layer is checked against its digest:
//! the blob's name in the OCI layout, the config's `rootfs.diff_ids` in the classic one.
//!
//! Nothing here fails the run: an engine that cannot be reached, an image it does not have, a
//! refused socket or a broken export leave the image unknown (or known from its config alone),
//! with a line in `--verbose` output.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dockharden_transforms::images::Facts;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde::Deserialize;

use super::client::{self, History, ImageConfig, RunConfig};
use super::scan::{self, BlobError, Blobs, LayerDesc};

/// The engine's socket when `DOCKER_HOST` is not set.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// The most an export is read (the whole image passes through).
pub const MAX_EXPORT: u64 = 2 << 30;
/// The most of an export kept for the layer walk (its files of at most [`scan::MAX_LAYER`]).
pub const MAX_SPOOL: u64 = 256 << 20;
/// An inspect or history answer at most.
const MAX_ANSWER: u64 = 4 << 20;
/// Connecting and a small answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Until an export's first bytes (an engine may write the archive before sending it).
const EXPORT_START: Duration = Duration::from_secs(120);
/// Between two parts of an export.
const EXPORT_STALL: Duration = Duration::from_secs(60);
/// The API version used when `/_ping` names none.
const FALLBACK_VERSION: &str = "1.41";

/// Where the engine listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    /// `host:port`, on the loopback interface.
    Tcp(String),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unix(p) => write!(f, "unix://{}", p.display()),
            Self::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

/// The engine of this run from the environment: Ok(None) when there is none, Err(why) when one
/// is configured but is not asked.
pub fn endpoint_from_env() -> Result<Option<Endpoint>, String> {
    let host = std::env::var("DOCKER_HOST").ok();
    let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
    endpoint(host.as_deref(), tls, Path::new(DEFAULT_SOCKET))
}

/// The engine that `DOCKER_HOST` names (as the Docker CLI reads it: empty is unset, any
/// `DOCKER_TLS_VERIFY` but empty asks for TLS), else `default` when that socket exists.
pub fn endpoint(
    host: Option<&str>,
    tls_verify: bool,
    default: &Path,
) -> Result<Option<Endpoint>, String> {
    let Some(host) = host.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(default.exists().then(|| Endpoint::Unix(default.to_owned())));
    };
    if let Some(path) = host.strip_prefix("unix://") {
        if path.is_empty() {
            return Err(format!("DOCKER_HOST `{host}` names no socket"));
        }
        return Ok(Some(Endpoint::Unix(PathBuf::from(path))));
    }
    if let Some(rest) = host.strip_prefix("tcp://") {
        if tls_verify {
            return Err(format!(
                "DOCKER_HOST `{host}` with DOCKER_TLS_VERIFY: TLS to the Docker Engine is not implemented, so the engine is not asked"
            ));
        }
        let addr = rest.trim_end_matches('/');
        if addr.is_empty() || addr.contains('/') {
            return Err(format!(
                "DOCKER_HOST `{host}` is not `tcp://host:port`, so the engine is not asked"
            ));
        }
        let has_port = if addr.starts_with('[') {
            addr.contains("]:")
        } else {
            addr.contains(':')
        };
        let addr = if has_port {
            addr.to_owned()
        } else {
            format!("{addr}:2375")
        };
        if !client::is_loopback(&addr) {
            return Err(format!(
                "DOCKER_HOST `{host}` is not on the loopback interface: its API would be reached over the network without TLS, so the engine is not asked"
            ));
        }
        return Ok(Some(Endpoint::Tcp(addr)));
    }
    Err(format!(
        "DOCKER_HOST `{host}`: only unix:// sockets and loopback tcp:// engines are asked"
    ))
}

/// Why a connection failed, in words a user acts on.
fn connect_reason(endpoint: &Endpoint, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => {
            format!("permission denied on {endpoint} (is this user in the `docker` group?)")
        }
        std::io::ErrorKind::NotFound => format!("{endpoint}: no such socket"),
        std::io::ErrorKind::ConnectionRefused => format!("{endpoint}: connection refused"),
        _ => format!("cannot connect to {endpoint}: {e}"),
    }
}

/// What image inspect answers (the parts that are read).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Inspect {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub repo_digests: Option<Vec<String>>,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub config: Option<RunConfig>,
}

impl Inspect {
    /// The image config as a registry would give it (without its history).
    pub fn image_config(&self) -> ImageConfig {
        ImageConfig {
            os: self.os.clone(),
            config: self.config.clone(),
            history: None,
        }
    }

    /// How to name this image in further requests: its ID (the image inspected, even if the name
    /// is moved meanwhile), else `name`.
    fn id_or<'a>(&'a self, name: &'a str) -> &'a str {
        if self.id.is_empty() {
            name
        } else {
            &self.id
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HistoryItem {
    #[serde(default)]
    created_by: Option<String>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    message: String,
}

/// An engine that answered `/_ping`.
pub struct Engine {
    pub endpoint: Endpoint,
    /// `/v1.45`.
    prefix: String,
}

/// An image name in a request path: references are `[A-Za-z0-9._:/@-]`; anything else is
/// percent-encoded.
fn path_name(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._:/@-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn send<S>(
    stream: S,
    request: hyper::Request<Empty<Bytes>>,
) -> Result<hyper::Response<Incoming>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender
        .send_request(request)
        .await
        .map_err(|e| format!("HTTP: {e}"))
}

/// The whole body, at most `limit` bytes, each part within `stall`.
async fn read_body(body: &mut Incoming, limit: u64, stall: Duration) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let frame = tokio::time::timeout(stall, body.frame())
            .await
            .map_err(|_| "timed out reading the answer".to_owned())?;
        match frame {
            None => return Ok(out),
            Some(Err(e)) => return Err(format!("reading the answer: {e}")),
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    if (out.len() + data.len()) as u64 > limit {
                        return Err(format!("the answer is larger than {limit} bytes"));
                    }
                    out.extend_from_slice(&data);
                }
            }
        }
    }
}

/// The message of an error answer (`{"message": "No such image: x"}`), else its start.
fn error_text(body: &[u8]) -> String {
    serde_json::from_slice::<ErrorAnswer>(body)
        .ok()
        .map(|e| e.message)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            String::from_utf8_lossy(body)
                .trim()
                .chars()
                .take(200)
                .collect()
        })
}

impl Engine {
    /// Ask `endpoint` which API version it speaks.
    pub async fn connect(endpoint: Endpoint) -> Result<Self, String> {
        let mut engine = Self {
            endpoint,
            prefix: String::new(),
        };
        let answer = tokio::time::timeout(TIMEOUT, engine.open("/_ping"))
            .await
            .map_err(|_| format!("{}: no answer to /_ping", engine.endpoint))??;
        let status = answer.status().as_u16();
        let version = answer
            .headers()
            .get("api-version")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| {
                v.split_once('.').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
                })
            })
            .unwrap_or(FALLBACK_VERSION)
            .to_owned();
        if status != 200 {
            let mut body = answer.into_body();
            let text = read_body(&mut body, 64 << 10, TIMEOUT)
                .await
                .unwrap_or_default();
            return Err(format!(
                "{}: /_ping answered {status}: {}",
                engine.endpoint,
                error_text(&text)
            ));
        }
        engine.prefix = format!("/v{version}");
        Ok(engine)
    }

    /// A GET on a fresh connection, up to the answer's head.
    async fn open(&self, path: &str) -> Result<hyper::Response<Incoming>, String> {
        let request = hyper::Request::get(path)
            .header(hyper::header::HOST, "api.moby.localhost")
            .header(
                hyper::header::USER_AGENT,
                concat!("dockharden/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("request {path}: {e}"))?;
        match &self.endpoint {
            Endpoint::Unix(p) => {
                let s = tokio::net::UnixStream::connect(p)
                    .await
                    .map_err(|e| connect_reason(&self.endpoint, &e))?;
                send(s, request).await
            }
            Endpoint::Tcp(a) => {
                let s = tokio::net::TcpStream::connect(a.as_str())
                    .await
                    .map_err(|e| connect_reason(&self.endpoint, &e))?;
                send(s, request).await
            }
        }
    }

    /// A small JSON answer; Ok(None) for 404.
    async fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Option<T>, String> {
        let path = format!("{}{path}", self.prefix);
        let read = async {
            let answer = self.open(&path).await?;
            let status = answer.status().as_u16();
            let mut body = answer.into_body();
            let limit = if status == 200 { MAX_ANSWER } else { 64 << 10 };
            Ok::<_, String>((status, read_body(&mut body, limit, TIMEOUT).await?))
        };
        let (status, body) = tokio::time::timeout(TIMEOUT, read)
            .await
            .map_err(|_| "timed out".to_owned())??;
        match status {
            200 => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| format!("the answer is not the JSON expected: {e}")),
            404 => Ok(None),
            s => Err(format!("HTTP {s}: {}", error_text(&body))),
        }
    }

    /// Image inspect; Ok(None) when the engine has no such image.
    pub async fn inspect(&self, name: &str) -> Result<Option<Inspect>, String> {
        self.json(&format!("/images/{}/json", path_name(name)))
            .await
    }

    /// The build steps of an image (newest first, as the engine gives them).
    pub async fn history(&self, name: &str) -> Result<Vec<History>, String> {
        let items: Vec<HistoryItem> = self
            .json(&format!("/images/{}/history", path_name(name)))
            .await?
            .ok_or("no such image")?;
        Ok(items
            .into_iter()
            .map(|h| History {
                created_by: h.created_by,
            })
            .collect())
    }

    /// The image's `docker save` archive, streamed through and kept as [`Export`] says.
    pub async fn export(&self, name: &str) -> Result<Export, String> {
        let path = format!("{}/images/{}/get", self.prefix, path_name(name));
        let answer = tokio::time::timeout(EXPORT_START, self.open(&path))
            .await
            .map_err(|_| "timed out waiting for the export".to_owned())??;
        let status = answer.status().as_u16();
        let mut body = answer.into_body();
        if status != 200 {
            let text = read_body(&mut body, 64 << 10, TIMEOUT)
                .await
                .unwrap_or_default();
            return Err(format!("export: HTTP {status}: {}", error_text(&text)));
        }
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, String>>(16);
        let reader = tokio::task::spawn_blocking(move || Export::read(ChannelReader::new(rx)));
        loop {
            let part = match tokio::time::timeout(EXPORT_STALL, body.frame()).await {
                Err(_) => Err("timed out reading the export".to_owned()),
                Ok(None) => break,
                Ok(Some(Err(e))) => Err(format!("reading the export: {e}")),
                Ok(Some(Ok(f))) => match f.into_data() {
                    Ok(data) => Ok(data),
                    Err(_) => continue,
                },
            };
            let failed = part.is_err();
            // A closed channel: the reader has what it needs, or stopped.
            if tx.send(part).await.is_err() || failed {
                break;
            }
        }
        drop(tx);
        reader
            .await
            .map_err(|e| format!("reading the export: {e}"))?
    }
}

/// The export's bytes as the body brings them, for the (blocking) tar reader.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, String>>,
    buf: Bytes,
    total: u64,
}

impl ChannelReader {
    fn new(rx: tokio::sync::mpsc::Receiver<Result<Bytes, String>>) -> Self {
        Self {
            rx,
            buf: Bytes::new(),
            total: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                Some(Ok(b)) => {
                    self.total += b.len() as u64;
                    if self.total > MAX_EXPORT {
                        return Err(std::io::Error::other(format!(
                            "the export is larger than {} MiB",
                            MAX_EXPORT >> 20
                        )));
                    }
                    self.buf = b;
                }
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf.split_to(n));
        Ok(n)
    }
}

#[derive(Clone, Debug)]
enum Entry {
    /// In the spool file.
    Kept { offset: u64, len: u64 },
    /// Read through, not kept.
    Skipped { size: u64, why: String },
    /// A link to another entry of the archive.
    Link(String),
}

/// The files of an image export: the small ones kept, the others only named.
pub struct Export {
    spool: std::fs::File,
    entries: HashMap<String, Entry>,
}

impl Export {
    /// Read a `docker save` archive.
    pub fn read<R: Read>(reader: R) -> Result<Self, String> {
        use std::io::Write as _;
        let mut spool =
            tempfile::tempfile().map_err(|e| format!("cannot create a temporary file: {e}"))?;
        let mut spooled = 0u64;
        let mut entries = HashMap::new();
        let bad = |e: std::io::Error| format!("the export is not a readable tar: {e}");
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            let Some(path) = scan::normalize(&String::from_utf8_lossy(&entry.path_bytes()))
                .filter(|p| !p.is_empty())
            else {
                continue;
            };
            let link = || {
                entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default()
            };
            let e = match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let size = entry.size();
                    if size > scan::MAX_LAYER {
                        Entry::Skipped {
                            size,
                            why: format!(
                                "`{path}` of the export is {} KiB, more than the {} KiB read per layer",
                                size >> 10,
                                scan::MAX_LAYER >> 10
                            ),
                        }
                    } else if spooled + size > MAX_SPOOL {
                        Entry::Skipped {
                            size,
                            why: format!(
                                "`{path}` of the export was not kept: its smaller files are more than {} MiB",
                                MAX_SPOOL >> 20
                            ),
                        }
                    } else {
                        let n = std::io::copy(&mut entry, &mut spool).map_err(bad)?;
                        if n != size {
                            return Err(format!("`{path}` of the export is cut short"));
                        }
                        let kept = Entry::Kept {
                            offset: spooled,
                            len: size,
                        };
                        spooled += size;
                        kept
                    }
                }
                tar::EntryType::Symlink => match scan::link_target(&path, &link()) {
                    Some(t) => Entry::Link(t),
                    None => continue,
                },
                tar::EntryType::Link => match scan::normalize(&link()) {
                    Some(t) => Entry::Link(t),
                    None => continue,
                },
                _ => continue,
            };
            entries.insert(path, e);
        }
        spool
            .flush()
            .map_err(|e| format!("the temporary file: {e}"))?;
        Ok(Self { spool, entries })
    }

    /// The entry at `path`, links followed.
    fn entry(&self, path: &str) -> Option<&Entry> {
        let mut path = path.to_owned();
        for _ in 0..8 {
            match self.entries.get(&path)? {
                Entry::Link(t) => path.clone_from(t),
                e => return Some(e),
            }
        }
        None
    }

    /// How large the file at `path` is.
    fn size(&self, path: &str) -> Option<u64> {
        match self.entry(path)? {
            Entry::Kept { len, .. } => Some(*len),
            Entry::Skipped { size, .. } => Some(*size),
            Entry::Link(_) => None,
        }
    }

    /// The bytes of the file at `path`.
    fn bytes(&self, path: &str) -> Result<Vec<u8>, BlobError> {
        use std::os::unix::fs::FileExt as _;
        match self.entry(path) {
            None | Some(Entry::Link(_)) => Err(BlobError::Unavailable(format!(
                "`{path}` is not in the export"
            ))),
            Some(Entry::Skipped { why, .. }) => Err(BlobError::Unavailable(why.clone())),
            Some(Entry::Kept { offset, len }) => {
                let mut out = vec![0u8; usize::try_from(*len).unwrap_or(usize::MAX)];
                self.spool
                    .read_exact_at(&mut out, *offset)
                    .map_err(|e| BlobError::Failed(format!("the temporary file: {e}")))?;
                Ok(out)
            }
        }
    }

    /// A small JSON file of the export.
    fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, String> {
        let bytes = self.bytes(path).map_err(|e| match e {
            BlobError::Unavailable(w) | BlobError::Failed(w) => w,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| format!("`{path}` of the export: {e}"))
    }
}

/// `manifest.json` of `docker save` (one item per image).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SaveManifest {
    config: String,
    #[serde(default)]
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Deserialize)]
struct ConfigRootFs {
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Clone, Deserialize, PartialEq, Eq)]
struct Platform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
}

/// An OCI index or image manifest (`index.json`, or a blob it names).
#[derive(Deserialize)]
struct OciDocument {
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// `blobs/sha256/<hex>` for `sha256:<hex>`.
fn blob_path(digest: &str) -> Option<String> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("blobs/sha256/{hex}"))
}

/// Where a layer is in the export and what its digest is of.
struct Source {
    path: String,
    /// The digest is of the stored bytes (a blob of the OCI layout); else of the uncompressed
    /// tar (a `diff_id`).
    stored: bool,
}

/// One image of an export: its layers, bottom first, readable by the layer walk.
pub struct Exported {
    export: Export,
    pub layers: Vec<LayerDesc>,
    sources: HashMap<String, Source>,
}

const PLAIN_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

impl Exported {
    /// The image of `export` (the one it holds; of an OCI index, the platform inspect names).
    pub fn new(export: Export, inspect: &Inspect) -> Result<Self, String> {
        let mut me = Self {
            export,
            layers: Vec::new(),
            sources: HashMap::new(),
        };
        if me.export.entry("manifest.json").is_some() {
            me.read_manifest_json()?;
        } else if me.export.entry("index.json").is_some() {
            me.read_index(inspect)?;
        } else {
            return Err("the export has neither manifest.json nor index.json".into());
        }
        Ok(me)
    }

    /// A layer at `path` (its size as the export holds it, else as its manifest says).
    fn push(&mut self, digest: String, path: String, stored: bool, media_type: String, size: u64) {
        let size = self.export.size(&path).unwrap_or(size);
        self.layers.push(LayerDesc {
            digest: digest.clone(),
            size,
            media_type,
        });
        self.sources.insert(digest, Source { path, stored });
    }

    /// `manifest.json`: layer paths, checked against the config's `diff_ids` (the classic
    /// layout) or named by their digest (the OCI layout).
    fn read_manifest_json(&mut self) -> Result<(), String> {
        let items: Vec<SaveManifest> = self.export.json("manifest.json")?;
        let item = items
            .into_iter()
            .next()
            .ok_or("manifest.json of the export names no image")?;
        let config_path = scan::normalize(&item.config).unwrap_or_default();
        let config: ConfigRootFs = self.export.json(&config_path)?;
        let diff_ids = config.rootfs.map(|r| r.diff_ids).unwrap_or_default();
        for (i, layer) in item.layers.iter().enumerate() {
            let path = scan::normalize(layer).unwrap_or_default();
            let from_name = path
                .strip_prefix("blobs/sha256/")
                .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(|h| format!("sha256:{h}"));
            let (digest, stored) = match from_name {
                Some(d) => (d, true),
                None => (
                    diff_ids.get(i).cloned().ok_or_else(|| {
                        format!(
                            "the image config of the export has no diff_id for layer {}",
                            i + 1
                        )
                    })?,
                    false,
                ),
            };
            self.push(digest, path, stored, PLAIN_LAYER.into(), 0);
        }
        Ok(())
    }

    /// `index.json` alone (an OCI layout): its manifests, through nested indexes, the one for
    /// inspect's platform, else the first whose content the export holds.
    fn read_index(&mut self, inspect: &Inspect) -> Result<(), String> {
        let index: OciDocument = self.export.json("index.json")?;
        let mut queue: Vec<(Descriptor, usize)> = index
            .manifests
            .unwrap_or_default()
            .into_iter()
            .map(|d| (d, 0))
            .collect();
        queue.reverse();
        let mut images: Vec<(Option<Platform>, OciDocument)> = Vec::new();
        while let Some((d, depth)) = queue.pop() {
            let Some(path) = blob_path(&d.digest) else {
                continue;
            };
            // Another platform's content may be absent from the export.
            let Ok(bytes) = self.export.bytes(&path) else {
                continue;
            };
            if client::sha256(&bytes) != d.digest {
                return Err(format!("digest mismatch: `{path}` of the export"));
            }
            let doc: OciDocument = serde_json::from_slice(&bytes)
                .map_err(|e| format!("`{path}` of the export: {e}"))?;
            if let Some(children) = doc.manifests.clone().filter(|_| depth < 4) {
                for c in children.into_iter().rev() {
                    queue.push((c, depth + 1));
                }
            } else if doc.config.is_some() {
                images.push((d.platform.clone(), doc));
            }
        }
        let wanted = Platform {
            os: inspect.os.clone(),
            architecture: inspect.architecture.clone(),
        };
        let pick = images
            .iter()
            .position(|(p, _)| p.as_ref() == Some(&wanted))
            .or_else(|| {
                images.iter().position(|(_, doc)| {
                    doc.config
                        .as_ref()
                        .and_then(|c| blob_path(&c.digest))
                        .is_some_and(|p| self.export.entry(&p).is_some())
                })
            })
            .ok_or("the export's index.json names no image manifest it holds")?;
        let (_, doc) = images.swap_remove(pick);
        for l in doc.layers.unwrap_or_default() {
            let path = blob_path(&l.digest).unwrap_or_default();
            let media_type = if l.media_type.is_empty() {
                PLAIN_LAYER.to_owned()
            } else {
                l.media_type
            };
            self.push(l.digest, path, true, media_type, l.size);
        }
        Ok(())
    }
}

impl Blobs for Exported {
    async fn blob(&self, layer: &LayerDesc, limit: u64) -> Result<Vec<u8>, BlobError> {
        let source = self.sources.get(&layer.digest).ok_or_else(|| {
            BlobError::Unavailable(format!("layer {} is not in the export", layer.digest))
        })?;
        let bytes = self.export.bytes(&source.path)?;
        if bytes.len() as u64 > limit {
            return Err(BlobError::Unavailable(format!(
                "`{}` of the export is larger than {limit} bytes",
                source.path
            )));
        }
        let got = client::sha256(&bytes);
        if got == layer.digest {
            return Ok(bytes);
        }
        // A compressed layer of the classic layout: its diff_id is of the tar inside.
        if !source.stored && bytes.starts_with(&[0x1f, 0x8b]) {
            let mut tar = Vec::new();
            let unpacked = flate2::read::GzDecoder::new(bytes.as_slice())
                .take(scan::MAX_UNPACKED + 1)
                .read_to_end(&mut tar);
            if unpacked.is_ok()
                && (tar.len() as u64) <= scan::MAX_UNPACKED
                && client::sha256(&tar) == layer.digest
            {
                return Ok(bytes);
            }
        }
        Err(BlobError::Failed(format!(
            "digest mismatch: `{}` of the export hashes to {got}, the image says {}",
            source.path, layer.digest
        )))
    }
}

/// What the engine's image proves, as the registry's would: its config's facts, and those of its
/// entrypoint script when it starts one as root (history and, when a file must be read, the
/// export). Notes say what could not be read.
pub async fn facts(engine: &Engine, name: &str, inspect: &Inspect) -> (Facts, Vec<String>) {
    let mut notes = Vec::new();
    let mut config = inspect.image_config();
    let mut facts = client::facts_of(&config);
    let user = config
        .config
        .as_ref()
        .and_then(|c| c.user.as_deref())
        .unwrap_or("");
    if config.config.is_none() || !dockharden_transforms::needs::is_root_user(user) {
        return (facts, notes);
    }
    let id = inspect.id_or(name);
    match engine.history(id).await {
        Ok(h) => config.history = Some(h),
        Err(e) => notes.push(format!("the history of `{name}`: {e}")),
    }
    let exported = if scan::reads_layers(&config) {
        match engine.export(id).await {
            Ok(export) => match Exported::new(export, inspect) {
                Ok(x) => Some(x),
                Err(e) => {
                    notes.push(format!("the export of `{name}`: {e}"));
                    return (facts, notes);
                }
            },
            Err(e) => {
                notes.push(format!("the export of `{name}`: {e}"));
                return (facts, notes);
            }
        }
    } else {
        None
    };
    let (blobs, layers) = match &exported {
        Some(x) => (Some(x), x.layers.as_slice()),
        None => (None, &[][..]),
    };
    let found = match blobs {
        Some(b) => scan::facts(b, layers, &config).await,
        None => scan::facts(&NoLayers, layers, &config).await,
    };
    match found {
        Ok(Some(script)) => facts.overlay(&script),
        Ok(None) => {}
        Err(e) => notes.push(format!("the entrypoint script of `{name}`: {e}")),
    }
    (facts, notes)
}

/// The layers of an image whose script is in its config (`sh -c`): none is read.
struct NoLayers;

impl Blobs for NoLayers {
    async fn blob(&self, layer: &LayerDesc, _limit: u64) -> Result<Vec<u8>, BlobError> {
        Err(BlobError::Unavailable(format!(
            "layer {} was not exported",
            layer.digest
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn which_engine() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("none.sock");
        let present = dir.path().join("docker.sock");
        std::fs::write(&present, "").unwrap();
        assert_eq!(endpoint(None, false, &absent), Ok(None));
        assert_eq!(
            endpoint(Some(" "), false, &present),
            Ok(Some(Endpoint::Unix(present.clone())))
        );
        assert_eq!(
            endpoint(Some("unix:///run/user/1000/docker.sock"), false, &present),
            Ok(Some(Endpoint::Unix("/run/user/1000/docker.sock".into())))
        );
        assert_eq!(
            endpoint(Some("tcp://127.0.0.1:2375"), false, &absent),
            Ok(Some(Endpoint::Tcp("127.0.0.1:2375".into())))
        );
        assert_eq!(
            endpoint(Some("tcp://localhost"), false, &absent),
            Ok(Some(Endpoint::Tcp("localhost:2375".into())))
        );
        assert_eq!(
            endpoint(Some("tcp://[::1]:2375/"), false, &absent),
            Ok(Some(Endpoint::Tcp("[::1]:2375".into())))
        );
        let no = |host: &str, tls: bool, part: &str| {
            let e = endpoint(Some(host), tls, &present).unwrap_err();
            assert!(e.contains(part), "{host}: {e}");
        };
        no("tcp://127.0.0.1:2376", true, "TLS");
        no("tcp://10.0.0.5:2375", false, "loopback");
        no("tcp://docker.example.com:2375", false, "loopback");
        no("ssh://me@host", false, "only unix://");
        no("unix://", false, "no socket");
        let e = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(connect_reason(&Endpoint::Unix(present), &e).contains("permission denied"));
    }

    fn tar_of(files: &[(&str, &[u8])], links: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (p, d) in files {
            let mut h = tar::Header::new_ustar();
            h.set_mode(0o644);
            h.set_size(d.len() as u64);
            b.append_data(&mut h, p, *d).unwrap();
        }
        for (p, t) in links {
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, p, t).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn hex_of(bytes: &[u8]) -> String {
        client::sha256(bytes)
            .strip_prefix("sha256:")
            .unwrap()
            .to_owned()
    }

    const GOSU: &[u8] = b"#!/bin/sh\nset -e\nchown app /data\nexec gosu app \"$@\"\n";

    fn run_gosu() -> RunConfig {
        serde_json::from_value(serde_json::json!({
            "User": "", "Entrypoint": ["/entrypoint.sh"], "Cmd": ["server"]
        }))
        .unwrap()
    }

    fn scan_of(x: &Exported) -> scan::Outcome {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(scan::entrypoint(x, &x.layers, &run_gosu()))
            .unwrap()
    }

    /// The classic layout: `<id>/layer.tar`, a duplicate layer as a symbolic link, `diff_ids` in
    /// the config.
    #[test]
    fn classic_layout() {
        let base = tar_of(&[("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")], &[]);
        let top = tar_of(&[("entrypoint.sh", GOSU)], &[]);
        let config = serde_json::to_vec(&serde_json::json!({
            "rootfs": {"type": "layers", "diff_ids": [
                format!("sha256:{}", hex_of(&base)),
                format!("sha256:{}", hex_of(&top)),
                format!("sha256:{}", hex_of(&base)),
            ]}
        }))
        .unwrap();
        let manifest = serde_json::to_vec(&serde_json::json!([{
            "Config": "cfg.json", "RepoTags": ["localapp:dev"],
            "Layers": ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"]
        }]))
        .unwrap();
        let archive = tar_of(
            &[
                ("aaa/layer.tar", &base),
                ("bbb/layer.tar", &top),
                ("cfg.json", &config),
                ("manifest.json", &manifest),
            ],
            &[("ccc/layer.tar", "../aaa/layer.tar")],
        );
        let x = Exported::new(
            Export::read(archive.as_slice()).unwrap(),
            &Inspect::default(),
        )
        .unwrap();
        assert_eq!(x.layers.len(), 3);
        assert_eq!(x.layers[2].size, base.len() as u64);
        assert_eq!(
            scan_of(&x),
            scan::Outcome::Script {
                path: "/entrypoint.sh".into(),
                text: String::from_utf8(GOSU.to_vec()).unwrap()
            }
        );
        // A layer whose bytes are not what the config's diff_id says: an error, not a fact.
        let archive = tar_of(
            &[
                ("aaa/layer.tar", &base),
                ("bbb/layer.tar", &base),
                ("cfg.json", &config),
                ("manifest.json", &manifest),
            ],
            &[("ccc/layer.tar", "../aaa/layer.tar")],
        );
        let x = Exported::new(
            Export::read(archive.as_slice()).unwrap(),
            &Inspect::default(),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let e = rt
            .block_on(scan::entrypoint(&x, &x.layers, &run_gosu()))
            .unwrap_err();
        assert!(e.contains("digest mismatch"), "{e}");
    }

    /// The OCI layout without `manifest.json`: `index.json` → an index → per-platform manifests,
    /// of which only the engine's platform is in the export; gzip layers.
    #[test]
    fn oci_layout_through_nested_indexes() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar_of(&[("entrypoint.sh", GOSU)], &[]))
            .unwrap();
        let layer = gz.finish().unwrap();
        let config = br#"{"os":"linux","architecture":"arm64","config":{}}"#.to_vec();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": format!("sha256:{}", hex_of(&config)), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": format!("sha256:{}", hex_of(&layer)), "size": layer.len()}]
        }))
        .unwrap();
        let missing = format!("sha256:{}", "1".repeat(64));
        let index = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": missing, "size": 10,
                 "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                 "digest": format!("sha256:{}", hex_of(&manifest)), "size": manifest.len(),
                 "platform": {"os": "linux", "architecture": "arm64"}}
            ]
        }))
        .unwrap();
        let top = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                           "digest": format!("sha256:{}", hex_of(&index)), "size": index.len()}]
        }))
        .unwrap();
        let p = |b: &[u8]| format!("blobs/sha256/{}", hex_of(b));
        let (pl, pc, pm, pi) = (p(&layer), p(&config), p(&manifest), p(&index));
        let archive = tar_of(
            &[
                (pl.as_str(), &layer),
                (pc.as_str(), &config),
                (pm.as_str(), &manifest),
                (pi.as_str(), &index),
                ("index.json", &top),
                ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
            ],
            &[],
        );
        let inspect = Inspect {
            os: "linux".into(),
            architecture: "arm64".into(),
            ..Inspect::default()
        };
        let x = Exported::new(Export::read(archive.as_slice()).unwrap(), &inspect).unwrap();
        assert_eq!(x.layers.len(), 1);
        assert!(x.layers[0].media_type.ends_with("gzip"));
        assert!(matches!(scan_of(&x), scan::Outcome::Script { .. }));
    }

    /// A layer larger than the per-layer budget is read through, not kept: unknown, not "not
    /// found" (it may hide the file).
    #[test]
    fn large_layers_are_not_kept() {
        let big: Vec<u8> = tar_of(
            &[("filler", &vec![7u8; (scan::MAX_LAYER + 1) as usize])],
            &[],
        );
        let top = tar_of(&[("entrypoint.sh", GOSU)], &[]);
        let config = serde_json::to_vec(&serde_json::json!({
            "rootfs": {"diff_ids": [format!("sha256:{}", hex_of(&top)), format!("sha256:{}", hex_of(&big))]}
        }))
        .unwrap();
        let manifest = serde_json::to_vec(&serde_json::json!([{
            "Config": "c.json", "Layers": ["a/layer.tar", "b/layer.tar"]
        }]))
        .unwrap();
        let archive = tar_of(
            &[
                ("a/layer.tar", &top),
                ("b/layer.tar", &big),
                ("c.json", &config),
                ("manifest.json", &manifest),
            ],
            &[],
        );
        let export = Export::read(archive.as_slice()).unwrap();
        assert!(matches!(
            export.entry("b/layer.tar"),
            Some(Entry::Skipped { .. })
        ));
        let x = Exported::new(export, &Inspect::default()).unwrap();
        assert!(
            matches!(scan_of(&x), scan::Outcome::Unknown(ref w) if w.contains("KiB")),
            "{:?}",
            scan_of(&x)
        );
        // Neither manifest.json nor index.json.
        let e = Exported::new(
            Export::read(tar_of(&[("x", b"y")], &[]).as_slice()).unwrap(),
            &Inspect::default(),
        )
        .err()
        .unwrap();
        assert!(e.contains("neither"), "{e}");
    }
}
