//! `--resolve` against a registry on loopback: a small OCI distribution server in this process
//! (manifests, indexes, blobs and tag lists with correct digests, bearer-token auth, rate limits,
//! faults), never a real registry. Every request it gets is logged, so a test can show that a run
//! without `--resolve` sends none.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use sha2::Digest as _;

use crate::cli::BIN;

pub(crate) fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&sha2::Sha256::digest(bytes)))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    None,
    /// Every manifest request answers 500.
    ServerError,
    /// The first N manifest requests answer 429 (Retry-After: 0).
    RateLimited(usize),
    /// The first manifest request answers 429 with this `Retry-After`.
    RetryAfter(&'static str),
    /// The manifest is served with another digest in `Docker-Content-Digest`.
    DigestMismatch,
    /// The manifest is an image config, not a manifest.
    WrongMediaType,
}

#[derive(Default)]
struct State {
    /// digest → (media type, bytes)
    objects: BTreeMap<String, (String, Vec<u8>)>,
    /// repository → tag → digest
    tags: BTreeMap<String, BTreeMap<String, String>>,
    faults: BTreeMap<String, Fault>,
    rate_limited: BTreeMap<String, usize>,
    /// When each request of `log` came.
    at: Vec<std::time::Instant>,
    /// Blobs are answered with a redirect to `http://localhost:PORT/storage/<digest>` (another
    /// host name, as blob storage is), served without authentication.
    redirect_blobs: bool,
    /// Manifests are padded to this many bytes (a huge answer).
    pad_manifests: Option<usize>,
    /// Basic credentials the token endpoint wants (None: no auth at all).
    auth: Option<(String, String)>,
    /// The refresh token (a Docker `identitytoken`) the token endpoint exchanges on `POST`.
    refresh: Option<String>,
    /// The form bodies posted to the token endpoint.
    posted: Vec<String>,
    log: Vec<String>,
}

pub(crate) struct Registry {
    port: u16,
    state: Arc<Mutex<State>>,
}

const TOKEN: &str = "test-token-42";

impl Registry {
    pub(crate) fn start(auth: Option<(&str, &str)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            auth: auth.map(|(u, p)| (u.to_owned(), p.to_owned())),
            ..State::default()
        }));
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, port, &s);
                });
            }
        });
        Self { port, state }
    }

    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn put(&self, media_type: &str, bytes: Vec<u8>) -> String {
        let d = sha(&bytes);
        self.state
            .lock()
            .unwrap()
            .objects
            .insert(d.clone(), (media_type.to_owned(), bytes));
        d
    }

    /// An image: config (with `user`), one layer; returns the manifest digest.
    pub(crate) fn image(&self, user: &str, seed: &str) -> String {
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"User": user, "Entrypoint": ["/entrypoint.sh"], "ExposedPorts": {"8080/tcp": {}}},
            "rootfs": {"type": "layers", "diff_ids": []}
        });
        let config = serde_json::to_vec(&config).unwrap();
        let layer = format!("layer of {seed}").into_bytes();
        let (cl, ll) = (config.len(), layer.len());
        let cd = self.put("application/vnd.oci.image.config.v1+json", config);
        let ld = self.put("application/vnd.oci.image.layer.v1.tar+gzip", layer);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cl},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ll}]
        });
        self.put(
            "application/vnd.oci.image.manifest.v1+json",
            serde_json::to_vec(&manifest).unwrap(),
        )
    }

    /// A multi-platform index of two images; returns its digest.
    fn index(&self, user: &str, seed: &str) -> String {
        let amd = self.image(user, &format!("{seed}-amd64"));
        let arm = self.image(user, &format!("{seed}-arm64"));
        let size = |d: &String| self.state.lock().unwrap().objects[d].1.len();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd, "size": size(&amd),
                 "platform": {"architecture": "amd64", "os": "linux"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm, "size": size(&arm),
                 "platform": {"architecture": "arm64", "os": "linux"}}
            ]
        });
        self.put(
            "application/vnd.oci.image.index.v1+json",
            serde_json::to_vec(&index).unwrap(),
        )
    }

    pub(crate) fn tag(&self, repo: &str, tag: &str, digest: &str) {
        self.state
            .lock()
            .unwrap()
            .tags
            .entry(repo.to_owned())
            .or_default()
            .insert(tag.to_owned(), digest.to_owned());
    }

    fn fault(&self, repo: &str, f: Fault) {
        self.state.lock().unwrap().faults.insert(repo.to_owned(), f);
    }

    /// Accept `token` as a refresh token (a Docker `identitytoken`) at the token endpoint.
    fn accept_refresh_token(&self, token: &str) {
        self.state.lock().unwrap().refresh = Some(token.to_owned());
    }

    fn posted(&self) -> Vec<String> {
        self.state.lock().unwrap().posted.clone()
    }

    pub(crate) fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    /// The requests whose line contains `part`, with when they came.
    fn requests_to(&self, part: &str) -> Vec<std::time::Instant> {
        let st = self.state.lock().unwrap();
        st.log
            .iter()
            .zip(&st.at)
            .filter(|(l, _)| l.contains(part))
            .map(|(_, t)| *t)
            .collect()
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(String, String)],
    body: &[u8],
    head: bool,
) {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes());
    if !head {
        let _ = stream.write_all(body);
    }
}

fn serve(mut stream: TcpStream, port: u16, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let mut body = Vec::new();
    if let Some(n) = headers
        .get("content-length")
        .and_then(|n| n.parse::<usize>().ok())
    {
        body = vec![0; n];
        reader.read_exact(&mut body)?;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let head = method == "HEAD";
    let mut st = state.lock().unwrap();
    st.log.push(format!("{method} {target}"));
    st.at.push(std::time::Instant::now());
    let path = target.split('?').next().unwrap_or("").to_owned();
    let challenge = (
        "WWW-Authenticate".to_owned(),
        format!("Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"test-registry\""),
    );
    if let Some(digest) = path.strip_prefix("/storage/") {
        let auth = headers.contains_key("authorization");
        st.log
            .push(format!("STORAGE {method} {digest} authorization={auth}"));
        st.at.push(std::time::Instant::now());
        let found = st.objects.get(digest).cloned();
        drop(st);
        match found {
            Some((_, body)) => respond(&mut stream, "200 OK", &[], &body, head),
            None => respond(&mut stream, "404 Not Found", &[], b"", head),
        }
        return Ok(());
    }
    if path == "/token" && method == "POST" {
        // OAuth2 refresh-token grant (what Docker does with an identity token).
        let form = String::from_utf8_lossy(&body).into_owned();
        st.posted.push(form.clone());
        let field = |k: &str| {
            form.split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                .map(str::to_owned)
        };
        let ok = field("grant_type").as_deref() == Some("refresh_token")
            && st.refresh.is_some()
            && field("refresh_token") == st.refresh;
        drop(st);
        if ok {
            let answer = format!("{{\"access_token\":\"{TOKEN}\",\"expires_in\":300}}");
            respond(
                &mut stream,
                "200 OK",
                &[("Content-Type".into(), "application/json".into())],
                answer.as_bytes(),
                head,
            );
        } else {
            respond(
                &mut stream,
                "401 Unauthorized",
                &[],
                b"{\"error\":\"invalid_grant\"}",
                head,
            );
        }
        return Ok(());
    }
    if path == "/token" {
        let ok = match &st.auth {
            Some((u, p)) => {
                let want = format!("Basic {}", base64_encode(format!("{u}:{p}").as_bytes()));
                headers.get("authorization") == Some(&want)
            }
            None => true,
        };
        drop(st);
        if ok {
            let body = format!("{{\"token\":\"{TOKEN}\"}}");
            respond(
                &mut stream,
                "200 OK",
                &[("Content-Type".into(), "application/json".into())],
                body.as_bytes(),
                head,
            );
        } else {
            respond(
                &mut stream,
                "401 Unauthorized",
                &[],
                b"{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials\"}]}",
                head,
            );
        }
        return Ok(());
    }
    if st.auth.is_some() && headers.get("authorization") != Some(&format!("Bearer {TOKEN}")) {
        drop(st);
        respond(
            &mut stream,
            "401 Unauthorized",
            &[challenge],
            b"{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
            head,
        );
        return Ok(());
    }
    if path == "/v2/" {
        drop(st);
        respond(&mut stream, "200 OK", &[], b"{}", head);
        return Ok(());
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        drop(st);
        respond(&mut stream, "404 Not Found", &[], b"", head);
        return Ok(());
    };
    let not_found = |st: std::sync::MutexGuard<State>, stream: &mut TcpStream, code: &str| {
        drop(st);
        let body = format!("{{\"errors\":[{{\"code\":\"{code}\",\"message\":\"unknown\"}}]}}");
        respond(
            stream,
            "404 Not Found",
            &[("Content-Type".into(), "application/json".into())],
            body.as_bytes(),
            head,
        );
    };
    if let Some(repo) = rest.strip_suffix("/tags/list") {
        let Some(tags) = st.tags.get(repo) else {
            not_found(st, &mut stream, "NAME_UNKNOWN");
            return Ok(());
        };
        let body = serde_json::to_vec(
            &serde_json::json!({"name": repo, "tags": tags.keys().collect::<Vec<_>>()}),
        )
        .unwrap();
        drop(st);
        respond(
            &mut stream,
            "200 OK",
            &[("Content-Type".into(), "application/json".into())],
            &body,
            head,
        );
        return Ok(());
    }
    if let Some((repo, reference)) = rest.split_once("/manifests/") {
        let fault = st.faults.get(repo).copied().unwrap_or(Fault::None);
        match fault {
            Fault::ServerError => {
                drop(st);
                respond(&mut stream, "500 Internal Server Error", &[], b"boom", head);
                return Ok(());
            }
            Fault::RetryAfter(value) => {
                let seen = st.rate_limited.entry(repo.to_owned()).or_default();
                if *seen < 1 {
                    *seen += 1;
                    drop(st);
                    respond(
                        &mut stream,
                        "429 Too Many Requests",
                        &[("Retry-After".into(), value.into())],
                        b"{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"pull rate limit\"}]}",
                        head,
                    );
                    return Ok(());
                }
            }
            Fault::RateLimited(n) => {
                let seen = st.rate_limited.entry(repo.to_owned()).or_default();
                if *seen < n {
                    *seen += 1;
                    drop(st);
                    respond(
                        &mut stream,
                        "429 Too Many Requests",
                        &[("Retry-After".into(), "0".into())],
                        b"slow down",
                        head,
                    );
                    return Ok(());
                }
            }
            _ => {}
        }
        let digest = if reference.starts_with("sha256:") {
            Some(reference.to_owned())
        } else {
            st.tags.get(repo).and_then(|t| t.get(reference)).cloned()
        };
        let Some((media, body)) = digest.as_ref().and_then(|d| st.objects.get(d)).cloned() else {
            not_found(st, &mut stream, "MANIFEST_UNKNOWN");
            return Ok(());
        };
        let digest = digest.unwrap();
        let st_pad = st.pad_manifests;
        drop(st);
        let (media, body, header) = match fault {
            Fault::DigestMismatch => (media, body, sha(b"something else")),
            Fault::WrongMediaType => {
                let cfg =
                    br#"{"mediaType":"application/vnd.oci.image.config.v1+json","os":"linux"}"#
                        .to_vec();
                let d = sha(&cfg);
                (
                    "application/vnd.oci.image.config.v1+json".to_owned(),
                    cfg,
                    d,
                )
            }
            _ => (media, body, digest),
        };
        let body = match st_pad {
            Some(n) if body.len() < n => {
                // Valid JSON with trailing spaces, as large as asked.
                let mut b = body;
                b.resize(n, b' ');
                b
            }
            _ => body,
        };
        respond(
            &mut stream,
            "200 OK",
            &[
                ("Content-Type".into(), media),
                ("Docker-Content-Digest".into(), header),
            ],
            &body,
            head,
        );
        return Ok(());
    }
    if let Some((_, digest)) = rest.split_once("/blobs/") {
        if st.redirect_blobs {
            drop(st);
            respond(
                &mut stream,
                "307 Temporary Redirect",
                &[(
                    "Location".into(),
                    format!("http://localhost:{port}/storage/{digest}"),
                )],
                b"",
                head,
            );
            return Ok(());
        }
        let Some((media, body)) = st.objects.get(digest).cloned() else {
            not_found(st, &mut stream, "BLOB_UNKNOWN");
            return Ok(());
        };
        drop(st);
        respond(
            &mut stream,
            "200 OK",
            &[
                ("Content-Type".into(), media),
                ("Docker-Content-Digest".into(), digest.to_owned()),
            ],
            &body,
            head,
        );
        return Ok(());
    }
    not_found(st, &mut stream, "UNSUPPORTED");
    Ok(())
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A work folder with its own cache and Docker configuration.
pub(crate) struct Work {
    pub(crate) dir: tempfile::TempDir,
}

impl Work {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("project")).unwrap();
        std::fs::create_dir_all(dir.path().join("docker")).unwrap();
        Self { dir }
    }
    pub(crate) fn project(&self) -> std::path::PathBuf {
        self.dir.path().join("project")
    }
    pub(crate) fn write(&self, name: &str, text: &str) {
        std::fs::write(self.project().join(name), text).unwrap();
    }
    pub(crate) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.project().join(name)).unwrap()
    }
    pub(crate) fn docker_config(&self, json: &str) {
        std::fs::write(self.dir.path().join("docker/config.json"), json).unwrap();
    }
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }
    pub(crate) fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(BIN);
        c.args(args);
        // The pinning rules only, unless the test selects.
        if !args.contains(&"--select") {
            c.args(["--select", "DF003,DC013,K8S010"]);
        }
        c.arg("--no-progress")
            .arg("--isolated")
            .current_dir(self.project())
            .env("HOME", self.dir.path())
            .env("DOCKER_CONFIG", self.dir.path().join("docker"))
            .env("DOCKHARDEN_CACHE_DIR", self.dir.path().join("cache"))
            .env("DOCKHARDEN_REGISTRY_BACKOFF_MS", "5")
            // No Docker Engine: a socket that does not exist (a test sets its own).
            .env(
                "DOCKER_HOST",
                format!(
                    "unix://{}",
                    self.dir.path().join("no-engine.sock").display()
                ),
            )
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("XDG_CACHE_HOME");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn files(w: &Work, h: &str) {
    w.write(
        "Dockerfile",
        &format!("ARG BASE={h}/acme-tool:2.0\nFROM {h}/acme-app\nFROM ${{BASE}}\n"),
    );
    w.write(
        "compose.yaml",
        &format!(
            "services:\n  web:\n    image: {h}/acme-app:latest # the app\n    read_only: true\n"
        ),
    );
    w.write(
        "deploy.yaml",
        &format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: init\n          image: \"{h}/acme-tool:2.0\"\n      containers:\n        - name: web\n          image: {h}/acme-app\n"),
    );
}

#[test]
fn pins_every_file_kind_and_a_second_run_changes_nothing() {
    let reg = Registry::start(None);
    let h = reg.host();
    let app = reg.index("", "app");
    for t in ["1", "1.2", "1.2.3", "latest"] {
        reg.tag("acme-app", t, &app);
    }
    let older = reg.index("", "app-old");
    reg.tag("acme-app", "1.1.0", &older);
    let tool = reg.image("1000", "tool");
    reg.tag("acme-tool", "2.0", &tool);
    let w = Work::new();
    files(&w, &h);

    // Without --resolve nothing touches the network.
    let o = w.run(&["fix", "."]);
    assert!(o.status.success(), "{}", text(&o));
    let o = w.run(&["check", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(reg.log().is_empty(), "{:?}", reg.log());

    let o = w.run(&["fix", "--resolve", "."]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!reg.log().is_empty());
    assert_eq!(
        w.read("Dockerfile"),
        format!(
            "ARG BASE={h}/acme-tool:2.0@{tool}\nFROM {h}/acme-app:1.2.3@{app}\nFROM ${{BASE}}\n"
        )
    );
    assert_eq!(
        w.read("compose.yaml"),
        format!("services:\n  web:\n    image: {h}/acme-app:1.2.3@{app} # the app\n    read_only: true\n")
    );
    let k8s = w.read("deploy.yaml");
    assert!(
        k8s.contains(&format!("image: \"{h}/acme-tool:2.0@{tool}\"\n")),
        "{k8s}"
    );
    assert!(
        k8s.contains(&format!("image: {h}/acme-app:1.2.3@{app}\n")),
        "{k8s}"
    );

    // The second run: the same digests, nothing to change (answered from the cache).
    let before = reg.log().len();
    let o = w.run(&["fix", "--resolve", "--check", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(reg.log().len(), before, "the cache answers a second run");
    // Asking the registry again gives the same answer.
    let o = w.run(&["fix", "--resolve", "--cache-max-age", "0", "--check", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(reg.log().len() > before);
}

#[test]
fn latest_without_a_version_tag_and_stale_pins() {
    let reg = Registry::start(None);
    let h = reg.host();
    let latest = reg.index("", "nightly");
    reg.tag("acme-nightly", "latest", &latest);
    reg.tag("acme-nightly", "1.0", &reg.image("", "nightly-1.0"));
    let old = reg.image("", "svc-old");
    reg.tag("acme-svc", "3", &old);
    let w = Work::new();
    w.write(
        "Dockerfile",
        &format!("FROM {h}/acme-nightly\nFROM {h}/acme-svc:3@{old}\n"),
    );
    let o = w.run(&["check", "--resolve", "--format", "json", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(reg.log().iter().any(|l| l.contains("/tags/list")));
    let new = reg.image("", "svc-new");
    reg.tag("acme-svc", "3", &new);
    let o = w.run(&[
        "check",
        "--resolve",
        "--cache-max-age",
        "0",
        "--format",
        "json",
        ".",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        out.contains("no version tag has the digest of `latest`"),
        "{out}"
    );
    assert!(
        out.contains(&format!("stale pin: its tag now points to `{new}`")),
        "{out}"
    );
    let o = w.run(&["fix", "--resolve", "."]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        w.read("Dockerfile"),
        format!("FROM {h}/acme-nightly:latest@{latest}\nFROM {h}/acme-svc:3@{old}\n"),
        "a stale pin is only reported without --update-pins"
    );
    let o = w.run(&["fix", "--resolve", "--update-pins", "."]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        w.read("Dockerfile"),
        format!("FROM {h}/acme-nightly:latest@{latest}\nFROM {h}/acme-svc:3@{new}\n")
    );
}

#[test]
fn offline_answers_from_the_cache_only() {
    let reg = Registry::start(None);
    let h = reg.host();
    let d = reg.image("", "off");
    reg.tag("acme-off", "1", &d);
    let w = Work::new();
    w.write("Dockerfile", &format!("FROM {h}/acme-off:1\n"));
    let o = w.run(&["fix", "--offline", "--diff", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--offline"), "{}", text(&o));
    assert!(reg.log().is_empty(), "{:?}", reg.log());
    let o = w.run(&["check", "--resolve", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let n = reg.log().len();
    let o = w.run(&["fix", "--offline", "--cache-max-age", "0", "."]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(w.read("Dockerfile"), format!("FROM {h}/acme-off:1@{d}\n"));
    assert_eq!(reg.log().len(), n, "--offline asked the registry");
}

#[test]
fn token_auth_with_credentials_from_the_docker_configuration() {
    let reg = Registry::start(Some(("alice", "s3cret")));
    let h = reg.host();
    let d = reg.image("", "private");
    reg.tag("team/private", "1", &d);
    let w = Work::new();
    w.write("Dockerfile", &format!("FROM {h}/team/private:1\n"));
    // Anonymous: the token endpoint refuses, the registry answers 401.
    let o = w.run(&["fix", "--resolve", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("registry `{h}`")),
        "{}",
        text(&o)
    );
    assert_eq!(w.read("Dockerfile"), format!("FROM {h}/team/private:1\n"));
    // `auths` in config.json.
    w.docker_config(&format!(
        "{{\"auths\": {{\"{h}\": {{\"auth\": \"{}\"}}}}}}",
        base64_encode(b"alice:s3cret")
    ));
    let o = w.run(&["fix", "--resolve", "--diff", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("+FROM {h}/team/private:1@{d}")),
        "{}",
        text(&o)
    );
    // A credential helper (`credHelpers`), found on PATH.
    let bin = w.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-dhtest");
    std::fs::write(&helper, "#!/bin/sh\nread server\necho \"{\\\"ServerURL\\\":\\\"$server\\\",\\\"Username\\\":\\\"alice\\\",\\\"Secret\\\":\\\"s3cret\\\"}\"\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    w.docker_config(&format!("{{\"credHelpers\": {{\"{h}\": \"dhtest\"}}}}"));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = w.run_with(
        &["fix", "--resolve", "--cache-max-age", "0", "."],
        &[("PATH", &path)],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        w.read("Dockerfile"),
        format!("FROM {h}/team/private:1@{d}\n")
    );
    assert!(reg.log().iter().any(|l| l.starts_with("GET /token")));
}

#[test]
fn bad_answers_fail_their_file_only() {
    let reg = Registry::start(None);
    let h = reg.host();
    let good = reg.image("", "good");
    for (repo, fault) in [
        ("acme-good", Fault::None),
        ("acme-busy", Fault::RateLimited(2)),
        ("acme-broken", Fault::ServerError),
        ("acme-forged", Fault::DigestMismatch),
        ("acme-config", Fault::WrongMediaType),
    ] {
        reg.tag(repo, "1", &good);
        reg.fault(repo, fault);
    }
    // A port nobody listens on.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let w = Work::new();
    let cases = [
        ("good.Dockerfile", format!("FROM {h}/acme-good:1\n"), None),
        ("busy.Dockerfile", format!("FROM {h}/acme-busy:1\n"), None),
        (
            "broken.Dockerfile",
            format!("FROM {h}/acme-broken:1\n"),
            Some("HTTP 500"),
        ),
        (
            "forged.Dockerfile",
            format!("FROM {h}/acme-forged:1\n"),
            Some("digest"),
        ),
        (
            "config.Dockerfile",
            format!("FROM {h}/acme-config:1\n"),
            Some("media type"),
        ),
        (
            "missing.Dockerfile",
            format!("FROM {h}/acme-missing:1\n"),
            Some("no such tag or repository (404 MANIFEST_UNKNOWN"),
        ),
        (
            "down.Dockerfile",
            format!("FROM 127.0.0.1:{closed}/acme-down:1\n"),
            Some(&*format!("registry `127.0.0.1:{closed}`")),
        ),
    ];
    for (name, body, _) in &cases {
        w.write(name, body);
    }
    let o = w.run(&["fix", "--resolve", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let all = text(&o);
    for (name, body, err) in &cases {
        match err {
            None => assert_eq!(
                w.read(name),
                body.replace(":1\n", &format!(":1@{good}\n")),
                "{all}"
            ),
            Some(e) => {
                assert_eq!(&w.read(name), body, "{name} was changed: {all}");
                let line = all
                    .lines()
                    .find(|l| l.contains(name) && l.contains("registry look-up failed"))
                    .unwrap_or_else(|| panic!("no error for {name}: {all}"));
                assert!(line.contains(e), "{name}: {line}");
            }
        }
    }
    let busy = reg
        .log()
        .iter()
        .filter(|l| l.contains("acme-busy/manifests"))
        .count();
    assert!(busy >= 3, "429 was not retried: {busy}");
}

#[test]
fn facts_from_the_image_config_for_unknown_images() {
    let reg = Registry::start(None);
    let h = reg.host();
    reg.tag("acme-nonroot", "1.0", &reg.image("1000", "nonroot"));
    let w = Work::new();
    w.write(
        "compose.yaml",
        &format!("services:\n  svc:\n    image: {h}/acme-nonroot:1.0\n"),
    );
    let o = w.run(&["check", "--select", "DC", "--format", "json", "."]);
    let without = String::from_utf8_lossy(&o.stdout).to_string();
    let o = w.run(&[
        "check",
        "--resolve",
        "--select",
        "DC",
        "--format",
        "json",
        ".",
    ]);
    let with = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        without.contains("runs-as-root") || without.contains("as root"),
        "{without}"
    );
    assert!(
        !with.contains("runs-as-root"),
        "USER 1000 is known from the image config: {with}"
    );
    let o = w.run(&["fix", "--resolve", "--unsafe-fixes", "--diff", "."]);
    let diff = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!diff.contains("+    user:"), "{diff}");
}

#[test]
fn rate_limits_wait_as_long_as_retry_after_says() {
    let reg = Registry::start(None);
    let h = reg.host();
    let d = reg.image("1000", "slow");
    reg.tag("acme-slow", "1", &d);
    reg.fault("acme-slow", Fault::RetryAfter("1"));
    reg.tag("acme-wait", "1", &d);
    reg.fault("acme-wait", Fault::RetryAfter("3600"));
    let w = Work::new();
    w.write("slow.Dockerfile", &format!("FROM {h}/acme-slow:1\n"));
    w.write("wait.Dockerfile", &format!("FROM {h}/acme-wait:1\n"));
    let started = std::time::Instant::now();
    // The doubling wait alone would be 5 ms (DOCKHARDEN_REGISTRY_BACKOFF_MS in `Work::run`).
    let o = w.run(&["fix", "--resolve", "."]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // 429 + `Retry-After: 1`, then 200: asked again only after a second, then pinned.
    assert_eq!(
        w.read("slow.Dockerfile"),
        format!("FROM {h}/acme-slow:1@{d}\n")
    );
    let tries = reg.requests_to("/acme-slow/manifests/1");
    assert_eq!(tries.len(), 2, "{:?}", reg.log());
    let gap = tries[1].duration_since(tries[0]);
    assert!(
        gap >= std::time::Duration::from_millis(950),
        "asked again after {gap:?}"
    );
    // `Retry-After: 3600` is more than the run waits: an error at once, naming the wait.
    assert_eq!(w.read("wait.Dockerfile"), format!("FROM {h}/acme-wait:1\n"));
    assert_eq!(reg.requests_to("/acme-wait/manifests/1").len(), 1);
    let all = text(&o);
    let line = all
        .lines()
        .find(|l| l.contains("wait.Dockerfile") && l.contains("registry look-up failed"))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(line.contains(&format!("registry `{h}`")), "{line}");
    assert!(line.contains("rate limited (429 TOOMANYREQUESTS"), "{line}");
    assert!(line.contains("asks to wait 3600 s"), "{line}");
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
}

#[test]
fn blob_storage_redirects_and_huge_answers() {
    let reg = Registry::start(Some(("alice", "s3cret")));
    let h = reg.host();
    // A root image: its config and top layer are read (facts), both from "blob storage".
    let d = reg.image("", "stored");
    reg.tag("team/stored", "1", &d);
    reg.state.lock().unwrap().redirect_blobs = true;
    let w = Work::new();
    w.docker_config(&format!(
        "{{\"auths\": {{\"{h}\": {{\"auth\": \"{}\"}}}}}}",
        base64_encode(b"alice:s3cret")
    ));
    w.write("Dockerfile", &format!("FROM {h}/team/stored:1\n"));
    let o = w.run(&["fix", "--resolve", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        w.read("Dockerfile"),
        format!("FROM {h}/team/stored:1@{d}\n")
    );
    let storage: Vec<String> = reg
        .log()
        .into_iter()
        .filter(|l| l.starts_with("STORAGE"))
        .collect();
    // The config and the layer came from the storage host, and the registry's token was not
    // sent there.
    assert!(storage.len() >= 2, "{:?}", reg.log());
    assert!(
        storage.iter().all(|l| l.ends_with("authorization=false")),
        "{storage:?}"
    );

    // A manifest larger than 4 MiB: refused, named.
    reg.state.lock().unwrap().pad_manifests = Some(5 << 20);
    w.write("Dockerfile", &format!("FROM {h}/team/stored:1\n"));
    let o = w.run(&["fix", "--resolve", "--cache-max-age", "0", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "registry `{h}`: the manifest is larger than 4194304 bytes"
        )),
        "{}",
        text(&o)
    );
    assert_eq!(w.read("Dockerfile"), format!("FROM {h}/team/stored:1\n"));
}

/// `fix --interactive --resolve` looks the file's images up as `fix` does: the pin is offered as a
/// fix with the digest the registry serves, and accepting it writes it.
#[test]
fn interactive_sessions_resolve_too() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not found; pseudo-terminal test skipped");
        return;
    }
    let reg = Registry::start(None);
    let h = reg.host();
    let app = reg.image("1000", "interactive");
    reg.tag("acme-app", "1.2.3", &app);
    let w = Work::new();
    w.write(
        "compose.yaml",
        &format!("services:\n  web:\n    image: {h}/acme-app:1.2.3\n"),
    );
    let steps = [("[y,n,a,d,q,?]", "y")];
    let args = [
        "fix",
        "-i",
        "--resolve",
        "--isolated",
        "--select",
        "DC013",
        "compose.yaml",
    ];
    let o = Command::new("python3")
        .args(["-c", crate::interactive::STEPS_DRIVER, BIN])
        .arg(w.project())
        .arg(serde_json::to_string(&steps).unwrap())
        .arg(serde_json::to_string(&args).unwrap())
        .env("HOME", w.dir.path())
        .env("DOCKER_CONFIG", w.dir.path().join("docker"))
        .env("DOCKHARDEN_CACHE_DIR", w.dir.path().join("cache"))
        .env(
            "DOCKER_HOST",
            format!("unix://{}", w.dir.path().join("no-engine.sock").display()),
        )
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("XDG_CACHE_HOME")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{screen}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(screen.contains(&app), "the pin is previewed: {screen}");
    assert_eq!(
        w.read("compose.yaml"),
        format!("services:\n  web:\n    image: {h}/acme-app:1.2.3@{app}\n")
    );
    assert!(!reg.log().is_empty());
}

/// An `identitytoken` in the Docker configuration is a refresh token: it is exchanged at the token
/// service (OAuth2 `grant_type=refresh_token`, the repository's pull scope) for an access token, as
/// Docker does, not sent to the registry as it is. A refused one is a clear error for its file.
#[test]
fn identity_tokens_are_exchanged_for_access_tokens() {
    let reg = Registry::start(Some(("alice", "s3cret")));
    reg.accept_refresh_token("refresh-abc");
    let h = reg.host();
    let d = reg.image("", "identity");
    reg.tag("team/private", "1", &d);
    let w = Work::new();
    w.write("Dockerfile", &format!("FROM {h}/team/private:1\n"));
    w.docker_config(&format!(
        "{{\"auths\": {{\"{h}\": {{\"identitytoken\": \"wrong\"}}}}}}"
    ));
    let o = w.run(&["fix", "--resolve", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("identity token was refused"),
        "{}",
        text(&o)
    );
    assert_eq!(w.read("Dockerfile"), format!("FROM {h}/team/private:1\n"));
    w.docker_config(&format!(
        "{{\"auths\": {{\"{h}\": {{\"identitytoken\": \"refresh-abc\"}}}}}}"
    ));
    let o = w.run(&["fix", "--resolve", "--cache-max-age", "0", "."]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        w.read("Dockerfile"),
        format!("FROM {h}/team/private:1@{d}\n")
    );
    let posted = reg.posted();
    let last = posted.last().expect("a token request");
    for part in [
        "grant_type=refresh_token",
        "refresh_token=refresh-abc",
        "scope=repository%3Ateam%2Fprivate%3Apull",
        "service=test-registry",
    ] {
        assert!(last.contains(part), "{part} in {last}");
    }
}
