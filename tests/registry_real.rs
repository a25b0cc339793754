//! `--resolve` against a real registry: Debian's `docker-registry` (the CNCF distribution registry)
//! started on loopback with a temporary configuration, with and without htpasswd authentication.
//! The tests build their own images as OCI layouts (gzip'd tar layers, config, manifests, indexes,
//! SHA-256 digests) and push them with `skopeo copy`; what the registry then serves is read back
//! with `skopeo inspect --raw`, independently of dockharden.
//!
//! Without `docker-registry` or `skopeo` on PATH the tests print why and pass, unless
//! `DOCKHARDEN_REQUIRE_REGISTRY=1` (set by `.ci/run`), which makes that a failure.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::registry::{base64_encode, sha, text, Work};

const REQUIRE: &str = "DOCKHARDEN_REQUIRE_REGISTRY";
/// The User-Agent of the readiness probe, left out of [`RealRegistry::requests`].
const PROBE_AGENT: &str = "dockharden-test-probe";

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| {
            let f = d.join(tool);
            f.is_file()
                && std::fs::metadata(&f).is_ok_and(|m| {
                    use std::os::unix::fs::PermissionsExt as _;
                    m.permissions().mode() & 0o111 != 0
                })
        })
    })
}

/// Whether `tools` are installed; when not, says so on the terminal (not captured by the test
/// harness) and returns false, or fails when `DOCKHARDEN_REQUIRE_REGISTRY=1`.
fn have(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !on_path(t)).collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "{} not installed (Debian packages docker-registry, skopeo, apache2-utils; .ci/run installs them)",
        missing.join(", ")
    );
    assert!(
        std::env::var(REQUIRE).as_deref() != Ok("1"),
        "registry_real::{test} cannot run: {why}, and {REQUIRE}=1 requires it to"
    );
    let _ = writeln!(std::io::stderr(), "registry_real::{test}: SKIPPED: {why}");
    false
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha(bytes)
}

// ---------------------------------------------------------------------------------------------
// OCI image layouts, built by hand.

/// A file system entry of a layer.
pub(crate) enum Item<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    /// `.wh.<name>`: hides the path in lower layers.
    Whiteout(&'a str),
}

/// An uncompressed layer tar of `items` (root-owned, mtime 0), for the tests that build images.
pub(crate) fn layer_tar(items: &[Item<'_>]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for item in items {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        match item {
            Item::File(path, data, mode) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                tar.append_data(&mut h, path, *data).unwrap();
            }
            Item::Dir(path) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                tar.append_data(&mut h, path, std::io::empty()).unwrap();
            }
            Item::Symlink(path, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                tar.append_link(&mut h, path, target).unwrap();
            }
            Item::Whiteout(path) => {
                let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
                let wh = if dir.is_empty() {
                    format!(".wh.{name}")
                } else {
                    format!("{dir}/.wh.{name}")
                };
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(0);
                tar.append_data(&mut h, wh, std::io::empty()).unwrap();
            }
        }
    }
    tar.into_inner().unwrap()
}

#[derive(Clone, Debug)]
struct Desc {
    media_type: String,
    digest: String,
    size: usize,
}

impl Desc {
    fn json(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

struct Layer {
    desc: Desc,
    diff_id: String,
    created_by: String,
}

/// An OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`) in a temporary folder.
struct Layout {
    dir: tempfile::TempDir,
    names: Vec<Value>,
}

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";

impl Layout {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
        std::fs::write(
            dir.path().join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        Self {
            dir,
            names: Vec::new(),
        }
    }

    fn blob(&self, media_type: &str, bytes: &[u8]) -> Desc {
        let digest = sha256_hex(bytes);
        let hex = digest.strip_prefix("sha256:").unwrap();
        std::fs::write(self.dir.path().join("blobs/sha256").join(hex), bytes).unwrap();
        Desc {
            media_type: media_type.to_owned(),
            digest,
            size: bytes.len(),
        }
    }

    /// A gzip'd tar layer of `items`.
    fn layer(&self, items: &[Item<'_>], created_by: &str) -> Layer {
        let raw = layer_tar(items);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&raw).unwrap();
        let compressed = gz.finish().unwrap();
        Layer {
            desc: self.blob("application/vnd.oci.image.layer.v1.tar+gzip", &compressed),
            diff_id: sha256_hex(&raw),
            created_by: created_by.to_owned(),
        }
    }

    /// An image: its config (`run` is the `config` object of the image config) and manifest.
    fn image(&self, arch: &str, run: &Value, layers: &[&Layer]) -> Desc {
        let config = json!({
            "architecture": arch,
            "os": "linux",
            "config": run,
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
            "history": layers.iter().map(|l| json!({"created_by": l.created_by})).collect::<Vec<_>>(),
        });
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            &serde_json::to_vec(&config).unwrap(),
        );
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": config.json(),
            "layers": layers.iter().map(|l| l.desc.json()).collect::<Vec<_>>(),
        });
        self.blob(MANIFEST, &serde_json::to_vec(&manifest).unwrap())
    }

    /// A multi-platform index.
    fn index(&self, images: &[(&Desc, &str)]) -> Desc {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": INDEX,
            "manifests": images.iter().map(|(d, arch)| {
                let mut j = d.json();
                j["platform"] = json!({"architecture": arch, "os": "linux"});
                j
            }).collect::<Vec<_>>(),
        });
        self.blob(INDEX, &serde_json::to_vec(&index).unwrap())
    }

    /// Name `desc` in `index.json` (`oci:DIR:name` for skopeo).
    fn name(&mut self, name: &str, desc: &Desc) {
        let mut j = desc.json();
        j["annotations"] = json!({"org.opencontainers.image.ref.name": name});
        self.names.push(j);
        let index = json!({"schemaVersion": 2, "manifests": self.names});
        std::fs::write(
            self.dir.path().join("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// The registry.

struct RealRegistry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    creds: Option<(String, String)>,
}

impl Drop for RealRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 GET on loopback; the status code, or None when nothing answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {PROBE_AGENT}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    let head = String::from_utf8_lossy(&buf[..n]);
    head.split_whitespace().nth(1)?.parse().ok()
}

impl RealRegistry {
    /// Start `docker-registry serve` on a free loopback port with filesystem storage in a
    /// temporary folder (and htpasswd authentication for `creds`), and wait until `/v2/` answers.
    fn start(creds: Option<(&str, &str)>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let auth = match creds {
            None => String::new(),
            Some((user, password)) => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("run htpasswd");
                assert!(out.status.success(), "htpasswd: {out:?}");
                std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: dockharden-test\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                )
            }
        };
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let config = dir.path().join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: dockharden-test-secret\n{auth}",
                    dir.path().join("storage").display()
                ),
            )
            .unwrap();
            let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Some(code) = http_status(port, "/v2/") {
                    assert!(matches!(code, 200 | 401), "/v2/ answered {code}");
                    return Self {
                        child,
                        port,
                        dir,
                        creds: creds.map(|(u, p)| (u.to_owned(), p.to_owned())),
                    };
                }
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            // The port was taken in between, or it did not come up: try another one.
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default();
        }
        panic!("docker-registry did not start:\n{last_log}");
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's access log lines of requests other than skopeo's pushes and reads and the
    /// readiness probe.
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("registry.log"))
            .unwrap()
            .lines()
            .filter(|l| l.contains("\" HTTP/1.1\" ") || l.contains(" HTTP/1.1\" "))
            .filter(|l| !l.contains("skopeo/") && !l.contains(PROBE_AGENT))
            .map(str::to_owned)
            .collect()
    }

    fn skopeo(&self) -> Command {
        let mut c = Command::new("skopeo");
        // A policy that accepts the test images, whatever the machine's policy.json says.
        let policy = self.dir.path().join("policy.json");
        if !policy.exists() {
            std::fs::write(
                &policy,
                r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
            )
            .unwrap();
        }
        c.arg("--policy")
            .arg(policy)
            .env("HOME", self.dir.path())
            .env("REGISTRY_AUTH_FILE", self.dir.path().join("auth.json"));
        c
    }

    /// `skopeo copy` the layout's `name` to `repo:tag` here (`--all`: an index with its images).
    fn push(&self, layout: &Layout, name: &str, repo_tag: &str) {
        let mut c = self.skopeo();
        c.args(["copy", "--all", "--quiet", "--dest-tls-verify=false"]);
        if let Some((u, p)) = &self.creds {
            c.arg("--dest-creds").arg(format!("{u}:{p}"));
        }
        let out = c
            .arg(format!("oci:{}:{name}", layout.dir.path().display()))
            .arg(format!("docker://{}/{repo_tag}", self.host()))
            .output()
            .expect("run skopeo copy");
        assert!(
            out.status.success(),
            "skopeo copy {name} {repo_tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The digest the registry serves for `repo:tag`: the SHA-256 of the manifest bytes that
    /// `skopeo inspect --raw` reads.
    fn digest(&self, repo_tag: &str) -> String {
        let mut c = self.skopeo();
        c.args(["inspect", "--raw", "--tls-verify=false"]);
        if let Some((u, p)) = &self.creds {
            c.arg("--creds").arg(format!("{u}:{p}"));
        }
        let out = c
            .arg(format!("docker://{}/{repo_tag}", self.host()))
            .output()
            .expect("run skopeo inspect");
        assert!(
            out.status.success(),
            "skopeo inspect {repo_tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        sha256_hex(&out.stdout)
    }
}

// ---------------------------------------------------------------------------------------------
// Images.

const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A tiny server image: a base layer and a layer with its program.
fn server(layout: &Layout, arch: &str, user: &str, seed: &str) -> Desc {
    let base = layout.layer(
        &[
            Item::Dir("etc"),
            Item::File("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644),
            Item::Dir("usr"),
            Item::Dir("usr/local"),
            Item::Dir("usr/local/bin"),
        ],
        "ADD rootfs.tar /",
    );
    let program = format!("\x7fELF {seed} {arch}\n");
    let app = layout.layer(
        &[Item::File("usr/local/bin/acme", program.as_bytes(), 0o755)],
        "COPY acme /usr/local/bin/acme",
    );
    layout.image(
        arch,
        &json!({"User": user, "Env": [PATH_ENV], "Entrypoint": ["/usr/local/bin/acme"], "ExposedPorts": {"8080/tcp": {}}}),
        &[&base, &app],
    )
}

fn tools_for(test: &str, auth: bool) -> bool {
    let mut tools = vec!["docker-registry", "skopeo"];
    if auth {
        tools.push("htpasswd");
    }
    have(test, &tools)
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn real_registry_pins_every_file_kind_to_the_served_digests() {
    if !tools_for(
        "real_registry_pins_every_file_kind_to_the_served_digests",
        false,
    ) {
        return;
    }
    let reg = RealRegistry::start(None);
    let h = reg.host();
    let mut layout = Layout::new();
    // acme/app: a two-platform index, tagged 1.2.3, 1.2, 1 and latest; 1.1.0 is an older one.
    let amd = server(&layout, "amd64", "", "app-1.2.3");
    let arm = server(&layout, "arm64", "", "app-1.2.3");
    let app = layout.index(&[(&amd, "amd64"), (&arm, "arm64")]);
    layout.name("app", &app);
    let old = layout.index(&[
        (&server(&layout, "amd64", "", "app-1.1.0"), "amd64"),
        (&server(&layout, "arm64", "", "app-1.1.0"), "arm64"),
    ]);
    layout.name("app-old", &old);
    // acme/tool: one platform, numeric non-root user.
    let tool = server(&layout, "amd64", "1000", "tool-2.0");
    layout.name("tool", &tool);
    for t in ["1.2.3", "1.2", "1", "latest"] {
        reg.push(&layout, "app", &format!("acme/app:{t}"));
    }
    reg.push(&layout, "app-old", "acme/app:1.1.0");
    reg.push(&layout, "tool", "acme/tool:2.0");

    // What the registry serves, read with skopeo: the bytes that were built, the index's digest
    // for the multi-platform image (not one platform's manifest).
    let served = reg.digest("acme/app:latest");
    assert_eq!(served, app.digest);
    assert_eq!(reg.digest("acme/app:1.2.3"), app.digest);
    assert_ne!(served, amd.digest);
    assert_ne!(served, arm.digest);
    let served_tool = reg.digest("acme/tool:2.0");
    assert_eq!(served_tool, tool.digest);

    let w = Work::new();
    w.write(
        "Dockerfile",
        &format!("ARG BASE={h}/acme/tool:2.0\nFROM {h}/acme/app\nRUN true\nFROM ${{BASE}}\n"),
    );
    w.write(
        "compose.yaml",
        &format!("services:\n  web:\n    image: {h}/acme/app:latest # the app\n    read_only: true\n  tool:\n    image: '{h}/acme/tool:2.0'\n"),
    );
    w.write(
        "deploy.yaml",
        &format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers:\n            - name: init\n              image: \"{h}/acme/tool:2.0\"\n          containers:\n            - name: app\n              image: {h}/acme/app\n          restartPolicy: OnFailure\n"
        ),
    );
    let originals: Vec<(String, String)> = ["Dockerfile", "compose.yaml", "deploy.yaml"]
        .iter()
        .map(|f| ((*f).to_owned(), w.read(f)))
        .collect();

    // Without --resolve nothing contacts the registry.
    let before = reg.requests();
    let o = w.run(&["check", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = w.run(&["fix", "--unsafe-fixes", "--select", "ALL", "."]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    assert_eq!(
        reg.requests(),
        before,
        "a run without --resolve sent requests"
    );
    for (f, t) in &originals {
        // Only the pinning rules could change an image reference, and they need --resolve.
        let now = w.read(f);
        assert!(
            !now.contains("@sha256:"),
            "{f} was pinned without --resolve: {now}"
        );
        w.write(f, t);
    }

    let o = w.run(&["fix", "--resolve", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!reg.requests().is_empty(), "--resolve asked nothing");
    assert_eq!(
        w.read("Dockerfile"),
        format!("ARG BASE={h}/acme/tool:2.0@{served_tool}\nFROM {h}/acme/app:1.2.3@{served}\nRUN true\nFROM ${{BASE}}\n"),
        "latest becomes the most specific version tag with its digest"
    );
    assert_eq!(
        w.read("compose.yaml"),
        format!("services:\n  web:\n    image: {h}/acme/app:1.2.3@{served} # the app\n    read_only: true\n  tool:\n    image: '{h}/acme/tool:2.0@{served_tool}'\n")
    );
    let k8s = w.read("deploy.yaml");
    assert_eq!(
        k8s,
        originals[2]
            .1
            .replace(
                &format!("\"{h}/acme/tool:2.0\""),
                &format!("\"{h}/acme/tool:2.0@{served_tool}\"")
            )
            .replace(
                &format!("image: {h}/acme/app\n"),
                &format!("image: {h}/acme/app:1.2.3@{served}\n")
            )
    );

    // A second run changes nothing: from the cache, and asking the registry again.
    let n = reg.requests().len();
    let o = w.run(&["fix", "--resolve", "--check", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(reg.requests().len(), n, "the cache answers the second run");
    let o = w.run(&["fix", "--resolve", "--cache-max-age", "0", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(reg.requests().len() > n, "--cache-max-age 0 asked again");
    assert_eq!(w.read("deploy.yaml"), k8s);
    // The pins are what the registry serves for each pinned reference, by HEAD.
    for line in reg.requests() {
        assert!(
            !line.contains("\" 5"),
            "the registry answered a request with a server error: {line}"
        );
    }
    assert_eq!(
        http_head_digest(reg.port, "acme/app", "1.2.3").as_deref(),
        Some(served.as_str())
    );
}

/// The `Docker-Content-Digest` of a HEAD request for `repo:reference`, asking for an index or a
/// manifest.
fn http_head_digest(port: u16, repo: &str, reference: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "HEAD /v2/{repo}/manifests/{reference} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {PROBE_AGENT}\r\nAccept: {INDEX}, {MANIFEST}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = String::new();
    s.read_to_string(&mut head).ok()?;
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("docker-content-digest")
            .then(|| v.trim().to_owned())
    })
}

#[test]
fn real_registry_htpasswd_auth_and_bad_answers() {
    if !tools_for("real_registry_htpasswd_auth_and_bad_answers", true) {
        return;
    }
    let private = RealRegistry::start(Some(("alice", "s3cret")));
    let open = RealRegistry::start(None);
    let (p, o_host) = (private.host(), open.host());
    let mut layout = Layout::new();
    let img = server(&layout, "amd64", "", "private-1");
    layout.name("img", &img);
    private.push(&layout, "img", "team/private:1");
    open.push(&layout, "img", "team/public:1");
    let digest = private.digest("team/private:1");
    assert_eq!(digest, img.digest);
    assert_eq!(open.digest("team/public:1"), img.digest);

    let w = Work::new();
    w.write("private.Dockerfile", &format!("FROM {p}/team/private:1\n"));
    w.write(
        "public.Dockerfile",
        &format!("FROM {o_host}/team/public:1\n"),
    );
    w.write(
        "missing.Dockerfile",
        &format!("FROM {o_host}/team/nothing-here:1\n"),
    );
    w.write(
        "untagged.Dockerfile",
        &format!("FROM {o_host}/team/public:9.9\n"),
    );
    let auth = |user: &str, password: &str| {
        format!(
            "{{\"auths\": {{\"{p}\": {{\"auth\": \"{}\"}}}}}}",
            base64_encode(format!("{user}:{password}").as_bytes())
        )
    };

    // Wrong password: a clear error for that image, exit 2, the file unchanged; every other file
    // is still processed.
    w.docker_config(&auth("alice", "wrong"));
    let o = w.run(&["fix", "--resolve", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let all = text(&o);
    let line_for = |name: &str| {
        all.lines()
            .find(|l| l.contains(name) && l.contains("registry look-up failed"))
            .unwrap_or_else(|| panic!("no error for {name}: {all}"))
            .to_owned()
    };
    let l = line_for("private.Dockerfile");
    assert!(l.contains(&format!("registry `{p}`")), "{l}");
    assert!(
        l.contains("authentication required or refused (401 UNAUTHORIZED: authentication required): check the credentials in the Docker configuration"),
        "{l}"
    );
    assert!(l.contains(&format!("(image `{p}/team/private:1`)")), "{l}");
    assert_eq!(
        w.read("private.Dockerfile"),
        format!("FROM {p}/team/private:1\n")
    );
    // 404s: an unknown repository and an unknown tag, each named with the registry.
    let l = line_for("missing.Dockerfile");
    assert!(l.contains(&format!("registry `{o_host}`")), "{l}");
    assert!(
        l.contains("no such tag or repository (404 MANIFEST_UNKNOWN: manifest unknown)"),
        "{l}"
    );
    assert_eq!(
        w.read("missing.Dockerfile"),
        format!("FROM {o_host}/team/nothing-here:1\n")
    );
    let l = line_for("untagged.Dockerfile");
    assert!(
        l.contains("no such tag or repository (404 MANIFEST_UNKNOWN: manifest unknown)"),
        "{l}"
    );
    assert_eq!(
        w.read("public.Dockerfile"),
        format!("FROM {o_host}/team/public:1@{digest}\n"),
        "the other files are still processed"
    );
    // The registry refused the wrong password.
    assert!(
        private
            .requests()
            .iter()
            .any(|l| l.contains("/v2/") && l.contains("\" 401 ")),
        "{:?}",
        private.requests()
    );

    // The right password, from `auths` in $DOCKER_CONFIG/config.json.
    w.docker_config(&auth("alice", "s3cret"));
    let o = w.run(&["fix", "--resolve", "private.Dockerfile"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        w.read("private.Dockerfile"),
        format!("FROM {p}/team/private:1@{digest}\n")
    );
    assert!(
        private
            .requests()
            .iter()
            .any(|l| l.contains("/manifests/1 ") && l.contains("\" 200 ")),
        "{:?}",
        private.requests()
    );
    // Anonymous: refused too.
    w.docker_config("{}");
    w.write("private.Dockerfile", &format!("FROM {p}/team/private:1\n"));
    let o = w.run(&[
        "fix",
        "--resolve",
        "--cache-max-age",
        "0",
        "private.Dockerfile",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("registry `{p}`")),
        "{}",
        text(&o)
    );
    assert_eq!(
        w.read("private.Dockerfile"),
        format!("FROM {p}/team/private:1\n")
    );
}

/// The entrypoint of the gosu image: starts as root, gives `/data` to `app`, switches to it.
const GOSU_ENTRYPOINT: &[u8] = b"#!/bin/sh\nset -e\nif [ \"$(id -u)\" = '0' ]; then\n\tchown app:app /data\n\texec gosu app \"$@\"\nfi\nexec \"$@\"\n";
/// An entrypoint that switches nobody.
const PLAIN_ENTRYPOINT: &[u8] = b"#!/bin/sh\nset -e\nexec \"$@\"\n";

/// An image whose entrypoint is `docker-entrypoint.sh` (found through PATH), started as `user`.
fn scripted(layout: &Layout, user: &str, layers: &[&Layer]) -> Desc {
    layout.image(
        "amd64",
        &json!({
            "User": user,
            "Env": [PATH_ENV],
            "Entrypoint": ["docker-entrypoint.sh"],
            "Cmd": ["acme-server"],
            "ExposedPorts": {"8080/tcp": {}},
        }),
        layers,
    )
}

/// Run dockharden in `w` with `config` as its configuration (not `--isolated`).
fn run_with_config(w: &Work, args: &[&str], config: &std::path::Path) -> std::process::Output {
    Command::new(crate::cli::BIN)
        .args(args)
        .arg("--no-progress")
        .arg("--config")
        .arg(config)
        .current_dir(w.project())
        .env("HOME", w.dir.path())
        .env("DOCKER_CONFIG", w.dir.path().join("docker"))
        .env("DOCKHARDEN_CACHE_DIR", w.dir.path().join("cache"))
        .env(
            "DOCKER_HOST",
            format!("unix://{}", w.dir.path().join("no-engine.sock").display()),
        )
        .env_remove("XDG_CACHE_HOME")
        .output()
        .unwrap()
}

/// The block of service `name` in a compose file (its lines up to the next service).
pub(crate) fn service_block(compose: &str, name: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in compose.lines() {
        if line.starts_with("  ") && !line.starts_with("   ") {
            inside = line.trim_end() == format!("  {name}:");
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn real_registry_facts_from_the_entrypoint_script() {
    if !tools_for("real_registry_facts_from_the_entrypoint_script", false) {
        return;
    }
    let reg = RealRegistry::start(None);
    let h = reg.host();
    let mut layout = Layout::new();
    let base = layout.layer(
        &[
            Item::Dir("etc"),
            Item::File(
                "etc/passwd",
                b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/data:/bin/sh\n",
                0o644,
            ),
            Item::Dir("usr"),
            Item::Dir("usr/bin"),
            Item::Dir("usr/local"),
            Item::Dir("usr/local/bin"),
            Item::File("usr/local/bin/gosu", b"\x7fELF gosu", 0o755),
            Item::File("usr/local/bin/acme-server", b"\x7fELF acme", 0o755),
            Item::Symlink("bin", "usr/bin"),
        ],
        "ADD rootfs.tar /",
    );
    let script = layout.layer(
        &[Item::File(
            "usr/local/bin/docker-entrypoint.sh",
            GOSU_ENTRYPOINT,
            0o755,
        )],
        "COPY docker-entrypoint.sh /usr/local/bin/",
    );
    // The upper layer deletes the gosu script (a whiteout); PATH then finds /usr/bin's, which
    // switches nobody.
    let replaced = layout.layer(
        &[
            Item::Whiteout("usr/local/bin/docker-entrypoint.sh"),
            Item::File("usr/bin/docker-entrypoint.sh", PLAIN_ENTRYPOINT, 0o755),
        ],
        "RUN mv /usr/local/bin/docker-entrypoint.sh /usr/bin/ && sed -i /gosu/d /usr/bin/docker-entrypoint.sh",
    );
    let gosu = scripted(&layout, "", &[&base, &script]);
    let nonroot = scripted(&layout, "1000", &[&base, &script]);
    let hidden = scripted(&layout, "", &[&base, &script, &replaced]);
    layout.name("gosu", &gosu);
    layout.name("nonroot", &nonroot);
    layout.name("hidden", &hidden);
    reg.push(&layout, "gosu", "acme/gosu-app:1.0");
    reg.push(&layout, "nonroot", "acme/nonroot:1.0");
    reg.push(&layout, "hidden", "acme/hidden:1.0");

    let w = Work::new();
    // The same facts, stated in the configuration for another image, as the knowledge base would
    // state them: what the registry's answer must amount to.
    let declared_digest = format!("sha256:{}", "0".repeat(64));
    let config = w.dir.path().join("dockharden.toml");
    std::fs::write(
        &config,
        "[[images]]\nnames = [\"example.com/acme/declared\"]\nplatform = \"linux\"\nuser = \"root\"\nswitch-user = \"gosu\"\ncap-add = [\"CHOWN\", \"SETGID\", \"SETUID\"]\nports = [\"8080\"]\nhealthcheck = false\n",
    )
    .unwrap();
    let compose = format!(
        "services:\n  app:\n    image: {h}/acme/gosu-app:1.0\n  worker:\n    image: {h}/acme/nonroot:1.0\n  hidden:\n    image: {h}/acme/hidden:1.0\n  declared:\n    image: example.com/acme/declared@{declared_digest}\n"
    );
    w.write("compose.yaml", &compose);

    // Without --resolve the images are unknown: nothing that changes how they run is applied.
    let o = run_with_config(&w, &["fix", "--unsafe-fixes", "."], &config);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let unresolved = w.read("compose.yaml");
    assert!(
        !service_block(&unresolved, "app").contains("cap_add"),
        "{unresolved}"
    );
    assert!(
        service_block(&unresolved, "declared").contains("cap_add"),
        "{unresolved}"
    );
    assert!(reg.requests().is_empty(), "{:?}", reg.requests());
    w.write("compose.yaml", &compose);

    let deployment = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels:\n      app: app\n  template:\n    metadata:\n      labels:\n        app: app\n    spec:\n      containers:\n        - name: app\n          image: {h}/acme/gosu-app:1.0\n"
    );
    w.write("deploy.yaml", &deployment);
    let o = run_with_config(&w, &["fix", "--resolve", "--unsafe-fixes", "."], &config);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    // Kubernetes: the same facts, the same capabilities.
    let k8s = w.read("deploy.yaml");
    assert!(
        k8s.contains("            capabilities:\n              drop:\n                - ALL\n              add:\n                - CHOWN\n                - SETGID\n                - SETUID\n"),
        "{k8s}"
    );
    assert!(!k8s.contains("runAsUser"), "{k8s}");
    let fixed = w.read("compose.yaml");
    let app = service_block(&fixed, "app");
    let digest = reg.digest("acme/gosu-app:1.0");
    // Pinned, and the capabilities its entrypoint needs after cap_drop ALL: chown (CHOWN), gosu
    // (SETGID, SETUID).
    assert!(
        app.contains(&format!("image: {h}/acme/gosu-app:1.0@{digest}\n")),
        "{fixed}"
    );
    assert!(
        app.contains("    cap_drop:\n      - ALL\n    cap_add:\n      - CHOWN\n      - SETGID\n      - SETUID\n"),
        "{fixed}"
    );
    // Exactly what the same facts give an image the configuration describes.
    let declared = service_block(&fixed, "declared");
    let strip = |block: &str| -> String {
        block
            .lines()
            .filter(|l| !l.trim_start().starts_with("image:"))
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&app), strip(&declared), "{fixed}");
    // Starts as root and switches users itself: no `user:`; read-only is not known from the
    // script (what the server writes is not in it), so no read_only/tmpfs is applied, as for a
    // knowledge-base image without `read-only`.
    assert!(!app.contains("user:"), "{fixed}");
    assert!(
        !app.contains("read_only") && !app.contains("tmpfs"),
        "{fixed}"
    );
    // USER 1000 from the image config: not given `user:`.
    let worker = service_block(&fixed, "worker");
    assert!(!worker.contains("user:"), "{fixed}");
    // The gosu script is whited out; the one PATH finds instead switches nobody: neither
    // capabilities nor a switch are known.
    let hidden_block = service_block(&fixed, "hidden");
    assert!(!hidden_block.contains("cap_add"), "{fixed}");
    assert!(!hidden_block.contains("user:"), "{fixed}");

    // The findings name where the facts come from.
    let o = run_with_config(
        &w,
        &[
            "check",
            "--resolve",
            "--format",
            "json",
            "--select",
            "DC002",
            ".",
        ],
        &config,
    );
    let json = String::from_utf8_lossy(&o.stdout).to_string();
    // (The run selects DC002 alone: the images are still looked up.)
    assert!(
        json.contains(&format!(
            "(the image config of `{h}/acme/hidden` in its registry)"
        )),
        "{json}"
    );
    assert!(json.contains("Service `worker`"), "{json}");
    assert!(!json.contains("Service `app`"), "{json}");
    assert!(!json.contains("Service `declared`"), "{json}");

    // Cached with the other facts: --offline gives the same result without a request.
    let cache = std::fs::read_to_string(w.dir.path().join("cache/registry-v2.json")).unwrap();
    assert!(cache.contains("\"switch-user\": \"gosu\""), "{cache}");
    let n = reg.requests().len();
    w.write("compose.yaml", &compose);
    let o = run_with_config(&w, &["fix", "--offline", "--unsafe-fixes", "."], &config);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    assert_eq!(w.read("compose.yaml"), fixed);
    assert_eq!(reg.requests().len(), n, "--offline asked the registry");
    // The script's layer was fetched from the registry.
    assert!(
        reg.requests()
            .iter()
            .any(|l| l.contains(&format!("/blobs/{}", script_layer_digest(&layout, &gosu)))),
        "{:?}",
        reg.requests()
    );
}

/// The digest of the top layer of the image `desc` in `layout`.
fn script_layer_digest(layout: &Layout, desc: &Desc) -> String {
    let hex = desc.digest.strip_prefix("sha256:").unwrap();
    let m: Value = serde_json::from_slice(
        &std::fs::read(layout.dir.path().join("blobs/sha256").join(hex)).unwrap(),
    )
    .unwrap();
    m["layers"].as_array().unwrap().last().unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_owned()
}
