//! `--resolve` with a local Docker Engine: a fake engine in this process, on a Unix socket in a
//! temporary folder (once on loopback TCP), answering `/_ping`, image inspect, history and export
//! with `docker save` archives the tests build (the classic layout; the OCI layout with and
//! without `manifest.json`). Exports are sent chunked. Every connection is counted and every
//! request logged, so a test can show that a run without `--resolve` opens none.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::process::Output;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::registry::{sha, text, Registry, Work};

const API: &str = "1.45";
const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Starts as root, gives `/data` to `app`, switches to it.
const GOSU_ENTRYPOINT: &[u8] = b"#!/bin/sh\nset -e\nif [ \"$(id -u)\" = '0' ]; then\n\tchown app:app /data\n\texec gosu app \"$@\"\nfi\nexec \"$@\"\n";
const CAPS: &str =
    "    cap_drop:\n      - ALL\n    cap_add:\n      - CHOWN\n      - SETGID\n      - SETUID\n";

struct Image {
    inspect: Value,
    history: Value,
    export: Vec<u8>,
}

#[derive(Default)]
struct State {
    images: BTreeMap<String, Arc<Image>>,
    connections: usize,
    log: Vec<String>,
}

struct FakeEngine {
    state: Arc<Mutex<State>>,
    /// The `DOCKER_HOST` that reaches it.
    host: String,
    _dir: tempfile::TempDir,
}

/// `docker.io/library/x:y` and `docker.io/x/y` as the engine reads them: `x:y`, `x/y`.
fn familiar(name: &str) -> &str {
    name.strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(name)
}

impl FakeEngine {
    fn unix() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                s.lock().unwrap().connections += 1;
                let s = s.clone();
                std::thread::spawn(move || {
                    let Ok(reader) = stream.try_clone() else {
                        return;
                    };
                    let _ = serve(reader, stream, &s);
                });
            }
        });
        Self {
            state,
            host: format!("unix://{}", sock.display()),
            _dir: dir,
        }
    }

    fn tcp() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                s.lock().unwrap().connections += 1;
                let s = s.clone();
                std::thread::spawn(move || {
                    let Ok(reader) = stream.try_clone() else {
                        return;
                    };
                    let _ = serve(reader, stream, &s);
                });
            }
        });
        Self {
            state,
            host: format!("tcp://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// An image under `names` (as the engine reads them: `localapp:dev`) and its ID.
    fn add(&self, names: &[&str], image: Image) {
        let image = Arc::new(image);
        let mut st = self.state.lock().unwrap();
        let id = image.inspect["Id"].as_str().unwrap().to_owned();
        st.images.insert(id, image.clone());
        for n in names {
            st.images.insert((*n).to_owned(), image.clone());
        }
    }

    fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    /// The names asked about with `op` (`json`, `history`, `get`).
    fn asked(&self, op: &str) -> BTreeSet<String> {
        self.requests()
            .iter()
            .filter_map(|r| {
                let path = r.strip_prefix("GET ")?;
                let rest = path.strip_prefix(&format!("/v{API}/images/"))?;
                let (name, o) = rest.rsplit_once('/')?;
                (o == op).then(|| name.to_owned())
            })
            .collect()
    }
}

fn respond(w: &mut impl Write, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = w.write_all(out.as_bytes());
    let _ = w.write_all(body);
}

/// A chunked answer in parts of 8 KiB.
fn respond_chunked(w: &mut impl Write, body: &[u8]) {
    let _ = w.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    );
    for part in body.chunks(8 << 10) {
        let _ = w.write_all(format!("{:x}\r\n", part.len()).as_bytes());
        let _ = w.write_all(part);
        let _ = w.write_all(b"\r\n");
    }
    let _ = w.write_all(b"0\r\n\r\n");
}

fn serve(reader: impl Read, mut w: impl Write, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(reader);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        if h.trim_end().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut st = state.lock().unwrap();
    st.log.push(format!("{method} {target}"));
    if target == "/_ping" {
        drop(st);
        respond(&mut w, "200 OK", &[("Api-Version", API)], b"OK");
        return Ok(());
    }
    let not_found = |w: &mut dyn Write, what: &str| {
        let body = json!({ "message": format!("No such image: {what}") }).to_string();
        let mut buf = Vec::new();
        respond(
            &mut buf,
            "404 Not Found",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        let _ = w.write_all(&buf);
    };
    let Some(rest) = target.strip_prefix(&format!("/v{API}/images/")) else {
        drop(st);
        not_found(&mut w, &target);
        return Ok(());
    };
    let Some((name, op)) = rest.rsplit_once('/') else {
        drop(st);
        not_found(&mut w, rest);
        return Ok(());
    };
    let image = st.images.get(familiar(name)).cloned();
    drop(st);
    let Some(image) = image else {
        not_found(&mut w, name);
        return Ok(());
    };
    let json_type = [("Content-Type", "application/json")];
    match op {
        "json" => respond(
            &mut w,
            "200 OK",
            &json_type,
            image.inspect.to_string().as_bytes(),
        ),
        "history" => respond(
            &mut w,
            "200 OK",
            &json_type,
            image.history.to_string().as_bytes(),
        ),
        "get" => respond_chunked(&mut w, &image.export),
        _ => not_found(&mut w, name),
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    sha(bytes).strip_prefix("sha256:").unwrap().to_owned()
}

use crate::registry_real::{layer_tar as layer, service_block, Item};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// An archive of `(path, bytes)` files.
fn archive(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, d) in files {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(d.len() as u64);
        b.append_data(&mut h, p, d.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

/// The two layers of the test images: a base with gosu and the server, and the entrypoint
/// script (found through PATH).
fn gosu_layers() -> Vec<Vec<u8>> {
    vec![
        layer(&[
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
        ]),
        layer(&[Item::File(
            "usr/local/bin/docker-entrypoint.sh",
            GOSU_ENTRYPOINT,
            0o755,
        )]),
    ]
}

const HISTORY: [&str; 2] = [
    "ADD rootfs.tar / # buildkit",
    "COPY docker-entrypoint.sh /usr/local/bin/ # buildkit",
];

/// How the image is exported.
#[derive(Clone, Copy)]
enum Layout {
    /// `docker save` before Docker 25: `<id>/layer.tar`, `<id>.json`, `manifest.json`.
    Classic,
    /// Docker 25+: the OCI layout (uncompressed layers) with `manifest.json` into `blobs/`.
    OciWithManifestJson,
    /// The containerd image store: `index.json` alone, gzip layers as pulled or built.
    OciIndexOnly,
}

/// An image the engine has: `user` as its configured user, the gosu layers, exported as
/// `layout`; `repo_digests` its registry digests (none: built here). `label` makes its config,
/// and so its ID, its own.
fn image(label: &str, user: &str, layout: Layout, repo_digests: &[String]) -> Image {
    let raw = gosu_layers();
    let run = json!({
        "Labels": {"test": label},
        "User": user,
        "Env": [PATH_ENV],
        "Entrypoint": ["docker-entrypoint.sh"],
        "Cmd": ["acme-server"],
        "ExposedPorts": {"8080/tcp": {}},
    });
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": run,
        "rootfs": {"type": "layers", "diff_ids": raw.iter().map(|l| sha(l)).collect::<Vec<_>>()},
        "history": HISTORY.iter().map(|h| json!({"created_by": h})).collect::<Vec<_>>(),
    }))
    .unwrap();
    let id = sha(&config);
    let export = match layout {
        Layout::Classic => {
            let mut files = Vec::new();
            let mut paths = Vec::new();
            for (i, l) in raw.iter().enumerate() {
                let dir = hex(format!("layer {i} of {id}").as_bytes());
                files.push((format!("{dir}/VERSION"), b"1.0".to_vec()));
                files.push((format!("{dir}/json"), b"{}".to_vec()));
                files.push((format!("{dir}/layer.tar"), l.clone()));
                paths.push(format!("{dir}/layer.tar"));
            }
            let cfg = format!("{}.json", hex(&config));
            files.push((cfg.clone(), config.clone()));
            files.push((
                "manifest.json".into(),
                serde_json::to_vec(&json!([{"Config": cfg, "RepoTags": [], "Layers": paths}]))
                    .unwrap(),
            ));
            files.push(("repositories".into(), b"{}".to_vec()));
            archive(&files)
        }
        Layout::OciWithManifestJson | Layout::OciIndexOnly => {
            let gz = matches!(layout, Layout::OciIndexOnly);
            let blobs: Vec<Vec<u8>> = raw
                .iter()
                .map(|l| if gz { gzip(l) } else { l.clone() })
                .collect();
            let media = if gz {
                "application/vnd.oci.image.layer.v1.tar+gzip"
            } else {
                "application/vnd.oci.image.layer.v1.tar"
            };
            let manifest = serde_json::to_vec(&json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": id, "size": config.len()},
                "layers": blobs.iter().map(|b| json!({"mediaType": media, "digest": sha(b), "size": b.len()})).collect::<Vec<_>>(),
            }))
            .unwrap();
            let mut files: Vec<(String, Vec<u8>)> = blobs
                .iter()
                .map(|b| (format!("blobs/sha256/{}", hex(b)), b.clone()))
                .collect();
            files.push((format!("blobs/sha256/{}", hex(&config)), config.clone()));
            files.push((format!("blobs/sha256/{}", hex(&manifest)), manifest.clone()));
            files.push((
                "index.json".into(),
                serde_json::to_vec(&json!({
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "digest": sha(&manifest), "size": manifest.len(),
                                   "platform": {"architecture": "amd64", "os": "linux"}}]
                }))
                .unwrap(),
            ));
            if !gz {
                let layer_paths: Vec<String> = blobs
                    .iter()
                    .map(|b| format!("blobs/sha256/{}", hex(b)))
                    .collect();
                files.push((
                    "manifest.json".into(),
                    serde_json::to_vec(&json!([{
                        "Config": format!("blobs/sha256/{}", hex(&config)),
                        "RepoTags": [],
                        "Layers": layer_paths,
                    }]))
                    .unwrap(),
                ));
            }
            files.push((
                "oci-layout".into(),
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            ));
            archive(&files)
        }
    };
    Image {
        inspect: json!({
            "Id": id,
            "RepoTags": [],
            "RepoDigests": repo_digests,
            "Os": "linux",
            "Architecture": "amd64",
            "Config": run,
        }),
        // Newest first, as the engine answers.
        history: json!(HISTORY
            .iter()
            .rev()
            .map(|h| json!({"Id": "<missing>", "CreatedBy": h, "Size": 0}))
            .collect::<Vec<_>>()),
        export,
    }
}

fn id_of(engine: &FakeEngine, name: &str) -> String {
    engine.state.lock().unwrap().images[name].inspect["Id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn run(w: &Work, engine_host: &str, args: &[&str]) -> Output {
    w.run_with(args, &[("DOCKER_HOST", engine_host)])
}

fn ok(o: &Output) {
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(o));
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn engine_facts_for_images_built_here() {
    let engine = FakeEngine::unix();
    engine.add(
        &["localapp:dev"],
        image("localapp", "", Layout::Classic, &[]),
    );
    engine.add(
        &["localnonroot:dev"],
        image("localnonroot", "1000", Layout::Classic, &[]),
    );
    engine.add(
        &["ociapp:dev"],
        image("ociapp", "", Layout::OciWithManifestJson, &[]),
    );
    engine.add(
        &["ctrdapp:dev"],
        image("ctrdapp", "", Layout::OciIndexOnly, &[]),
    );
    let w = Work::new();
    let compose = "services:\n  app:\n    image: localapp:dev\n  worker:\n    image: localnonroot:dev\n  oci:\n    image: ociapp:dev\n  ctrd:\n    image: ctrdapp:dev\n  built:\n    build: ./built\n";
    w.write("compose.yaml", compose);
    std::fs::create_dir_all(w.project().join("built")).unwrap();
    w.write(
        "built/Dockerfile",
        "FROM scratch\nCOPY server /server\nUSER 10001\nENTRYPOINT [\"/server\"]\n",
    );

    // Without --resolve the socket gets no connection, and nothing is known.
    for args in [
        &["check", "--select", "DC", "."][..],
        &["fix", "--unsafe-fixes", "--select", "DC", "."][..],
    ] {
        let o = run(&w, &engine.host, args);
        ok(&o);
    }
    assert_eq!(engine.connections(), 0, "{:?}", engine.requests());
    let unresolved = w.read("compose.yaml");
    assert!(
        !service_block(&unresolved, "app").contains("cap_add"),
        "{unresolved}"
    );
    w.write("compose.yaml", compose);

    let o = run(
        &w,
        &engine.host,
        &["fix", "--resolve", "--unsafe-fixes", "--select", "DC", "."],
    );
    ok(&o);
    assert!(engine.connections() > 0);
    let fixed = w.read("compose.yaml");
    for svc in ["app", "oci", "ctrd"] {
        let block = service_block(&fixed, svc);
        // The capabilities its entrypoint script needs after cap_drop ALL: chown (CHOWN), gosu
        // (SETGID, SETUID); it switches users itself, so no `user:`.
        assert!(block.contains(CAPS), "{svc}: {fixed}");
        assert!(!block.contains("user:"), "{svc}: {fixed}");
    }
    // Built here: no registry knows it, no pin is written (and no registry was asked: a look-up of
    // `docker.io/library/localapp` would have failed this run).
    assert!(fixed.contains("    image: localapp:dev\n"), "{fixed}");
    // `User: 1000` in the engine's config: not given `user:`.
    let worker = service_block(&fixed, "worker");
    assert!(!worker.contains("user:"), "{fixed}");

    // The engine was asked about the images of the file, never about the service that builds its
    // own; exported only what starts as root.
    let asked: BTreeSet<String> = engine.asked("json");
    let want: BTreeSet<String> = [
        "docker.io/library/localapp:dev",
        "docker.io/library/localnonroot:dev",
        "docker.io/library/ociapp:dev",
        "docker.io/library/ctrdapp:dev",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(asked, want, "{:?}", engine.requests());
    let exported = engine.asked("get");
    for n in ["localapp:dev", "ociapp:dev", "ctrdapp:dev"] {
        assert!(exported.contains(&id_of(&engine, n)), "{n}: {exported:?}");
    }
    assert!(
        !exported.contains(&id_of(&engine, "localnonroot:dev")),
        "{exported:?}"
    );

    // The findings name where the facts come from; `User: 1000` is known, so `worker` is no
    // longer reported as possibly running as root (DC012), as it is without --resolve.
    w.write("compose.yaml", compose);
    let runs_as_root = |json: &str| json.contains("\"message\":\"Service `worker` may run as root");
    let o = run(
        &w,
        &engine.host,
        &["check", "--select", "DC", "--format", "json", "."],
    );
    ok(&o);
    assert!(
        runs_as_root(&String::from_utf8_lossy(&o.stdout)),
        "{}",
        text(&o)
    );
    let o = run(
        &w,
        &engine.host,
        &[
            "check",
            "--resolve",
            "--select",
            "DC",
            "--format",
            "json",
            ".",
        ],
    );
    ok(&o);
    let json = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!runs_as_root(&json), "{json}");
    assert!(
        json.contains("switches users (gosu): the image config and entrypoint script of `localapp` in the local Docker Engine)"),
        "{json}"
    );
    assert!(
        json.contains("(the image config of `localnonroot` in the local Docker Engine)"),
        "{json}"
    );
}

#[test]
fn an_engine_that_does_not_have_the_image_or_cannot_be_reached_fails_nothing() {
    let reg = Registry::start(None);
    let h = reg.host();
    let d = reg.image("", "plain");
    reg.tag("acme/plain", "1.0", &d);
    // The engine has no image at all: every inspect answers 404.
    let engine = FakeEngine::unix();
    let w = Work::new();
    let ghost = format!("acme-ghost@sha256:{}", "0".repeat(64));
    let compose = format!(
        "services:\n  ghost:\n    image: {ghost}\n  plain:\n    image: {h}/acme/plain:1.0\n"
    );
    w.write("compose.yaml", &compose);
    let o = run(
        &w,
        &engine.host,
        &[
            "fix",
            "--resolve",
            "--unsafe-fixes",
            "-v",
            "--select",
            "DC",
            ".",
        ],
    );
    ok(&o);
    let fixed = w.read("compose.yaml");
    // The registry still answers for its image: pinned.
    assert!(
        fixed.contains(&format!("image: {h}/acme/plain:1.0@{d}\n")),
        "{fixed}"
    );
    // Neither is known well enough to add capabilities back.
    assert!(!fixed.contains("cap_add"), "{fixed}");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("no image `docker.io/library/{ghost}` (404)")),
        "{err}"
    );
    assert_eq!(
        engine.asked("json"),
        [
            format!("docker.io/library/{ghost}"),
            format!("{h}/acme/plain:1.0")
        ]
        .into_iter()
        .collect::<BTreeSet<_>>()
    );
    // The finding stays a suggestion.
    w.write("compose.yaml", &compose);
    let o = run(
        &w,
        &engine.host,
        &[
            "check",
            "--resolve",
            "--select",
            "DC002",
            "--format",
            "json",
            ".",
        ],
    );
    ok(&o);
    let json: Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = json["files"][0]["findings"].as_array().unwrap();
    let of = |svc: &str| {
        findings
            .iter()
            .find(|f| f["message"].as_str().unwrap().contains(&format!("`{svc}`")))
            .unwrap_or_else(|| panic!("{svc}: {json}"))
            .clone()
    };
    assert_eq!(
        of("ghost")["fix"]["applicability"],
        "display-only",
        "{json}"
    );
    assert_eq!(
        of("plain")["fix"]["applicability"],
        "display-only",
        "{json}"
    );
    // Verbose only.
    assert!(!stderr(&o).contains("docker engine"), "{}", stderr(&o));

    // No engine behind the socket: the same, and one line saying so.
    let gone = format!("unix://{}", w.dir.path().join("gone.sock").display());
    let o = run(
        &w,
        &gone,
        &[
            "fix",
            "--resolve",
            "--unsafe-fixes",
            "-v",
            "--select",
            "DC",
            ".",
        ],
    );
    ok(&o);
    let err = stderr(&o);
    assert_eq!(
        err.matches("docker engine").count(),
        1,
        "one line for the unreachable engine: {err}"
    );
    assert!(err.contains("no such socket"), "{err}");
    assert!(
        w.read("compose.yaml")
            .contains(&format!("image: {h}/acme/plain:1.0@{d}\n")),
        "{}",
        w.read("compose.yaml")
    );
}

#[test]
fn engine_and_registry_both_answer() {
    let reg = Registry::start(None);
    let h = reg.host();
    // In the registry: a root image whose entrypoint cannot be read (its layer is no tar).
    let pulled = reg.image("", "pulled");
    let moved = reg.image("", "moved");
    reg.tag("acme/pulled", "1.0", &pulled);
    reg.tag("acme/moved", "1.0", &moved);
    let engine = FakeEngine::unix();
    // Pulled from the registry: the same digest as the tag's now. The engine's image wins.
    engine.add(
        &[&format!("{h}/acme/pulled:1.0")],
        image(
            "pulled",
            "",
            Layout::Classic,
            &[format!("{h}/acme/pulled@{pulled}")],
        ),
    );
    // Pulled before the tag moved: the registry's image (which the pin will name) is read.
    engine.add(
        &[&format!("{h}/acme/moved:1.0")],
        image(
            "moved",
            "",
            Layout::Classic,
            &[format!("{h}/acme/moved@sha256:{}", "1".repeat(64))],
        ),
    );
    let w = Work::new();
    w.write(
        "compose.yaml",
        &format!(
            "services:\n  pulled:\n    image: {h}/acme/pulled:1.0\n  moved:\n    image: {h}/acme/moved:1.0\n"
        ),
    );
    let o = run(
        &w,
        &engine.host,
        &["fix", "--resolve", "--unsafe-fixes", "--select", "DC", "."],
    );
    ok(&o);
    let fixed = w.read("compose.yaml");
    let p = service_block(&fixed, "pulled");
    assert!(
        p.contains(&format!("image: {h}/acme/pulled:1.0@{pulled}\n")),
        "{fixed}"
    );
    assert!(p.contains(CAPS), "{fixed}");
    let m = service_block(&fixed, "moved");
    assert!(
        m.contains(&format!("image: {h}/acme/moved:1.0@{moved}\n")),
        "{fixed}"
    );
    assert!(!m.contains("cap_add"), "{fixed}");
    // The registry's config and layers were read for `moved` only.
    let log = reg.log();
    let blobs = |repo: &str| {
        log.iter()
            .filter(|l| l.contains(&format!("/v2/{repo}/blobs/")))
            .count()
    };
    assert_eq!(blobs("acme/pulled"), 0, "{log:?}");
    assert!(blobs("acme/moved") > 0, "{log:?}");
    let exported = engine.asked("get");
    assert!(
        exported.contains(&id_of(&engine, &format!("{h}/acme/pulled:1.0"))),
        "{exported:?}"
    );
    assert!(
        !exported.contains(&id_of(&engine, &format!("{h}/acme/moved:1.0"))),
        "{exported:?}"
    );
}

#[test]
fn loopback_tcp_engine_and_tls_refusal() {
    let engine = FakeEngine::tcp();
    // Named by a digest: without the engine no registry is asked either (no tag to look up).
    let pinned = format!("localnonroot@sha256:{}", "2".repeat(64));
    engine.add(
        &[&pinned],
        image(
            "pinned",
            "1000",
            Layout::Classic,
            std::slice::from_ref(&pinned),
        ),
    );
    let w = Work::new();
    w.write(
        "compose.yaml",
        &format!("services:\n  worker:\n    image: {pinned}\n"),
    );
    let args = [
        "check",
        "--resolve",
        "--select",
        "DC002",
        "--format",
        "json",
        "-v",
        ".",
    ];
    let o = run(&w, &engine.host, &args);
    ok(&o);
    let json = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        json.contains("(the image config of `localnonroot` in the local Docker Engine)"),
        "{json}"
    );
    let n = engine.connections();
    assert!(n > 0);
    // With DOCKER_TLS_VERIFY the engine is not asked (TLS is not implemented): a line says so.
    let o = w.run_with(
        &args,
        &[("DOCKER_HOST", &engine.host), ("DOCKER_TLS_VERIFY", "1")],
    );
    assert_eq!(engine.connections(), n);
    assert!(stderr(&o).contains("DOCKER_TLS_VERIFY"), "{}", stderr(&o));
}
