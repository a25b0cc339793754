//! The entrypoint script of an image, read from its layers (`--resolve`, images the knowledge base
//! does not know, configured user root): the program the config starts (`Entrypoint`, else
//! `Cmd`; past an init such as tini; the script of `sh script`), found against the config's
//! `PATH` when it has no `/`, in the layers from the top down as the container's file system
//! shows it: a whiteout (`.wh.NAME`) or an opaque directory (`.wh..wh..opq`) in an upper layer
//! hides the lower layers' files, symbolic links are followed, an upper layer's file or
//! directory replaces a lower one's.
//!
//! Within a budget: a layer larger than [`MAX_LAYER`] compressed, more than [`MAX_TOTAL`] for
//! the image, more than [`MAX_UNPACKED`] unpacked, or compressed with anything but gzip stops
//! the search, and what the script does stays unknown (a layer that was not read may replace or
//! hide the file). Every layer is checked against its digest before it is read (the client's
//! `pull_blob` hashes what it receives and compares it with the manifest's digest).

use std::collections::{HashMap, HashSet};
use std::io::Read;

use dockharden_transforms::entrypoint;
use dockharden_transforms::images::Facts;

use super::client::{ImageConfig, RunConfig};

/// The largest layer read (compressed).
pub const MAX_LAYER: u64 = 4 << 20;
/// The most read per image (compressed).
pub const MAX_TOTAL: u64 = 12 << 20;
/// The most one layer may unpack to.
pub const MAX_UNPACKED: u64 = 64 << 20;
/// The largest script read.
const MAX_SCRIPT: u64 = 256 << 10;
/// Symbolic links followed at most.
const MAX_LINKS: usize = 16;
/// Docker's `PATH` when the image sets none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A layer of the image manifest.
#[derive(Clone, Debug)]
pub struct LayerDesc {
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

/// Where layers come from: the registry, a local Docker Engine's export of the image, a table in
/// tests.
pub trait Blobs {
    /// The layer's bytes, checked against its digest; at most `limit` bytes.
    async fn blob(&self, layer: &LayerDesc, limit: u64) -> Result<Vec<u8>, BlobError>;
}

/// Why a layer's bytes are not given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobError {
    /// The source does not have the layer within its own limits (an export's layer that was not
    /// kept): the search stops and the script stays unknown, as beyond the budget.
    Unavailable(String),
    /// The source failed (a network error, a digest mismatch).
    Failed(String),
}

/// What was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The program is a script (`#!`): its path and text.
    Script { path: String, text: String },
    /// The program is not a script (a binary).
    NotAScript { path: String },
    /// No such file in the image (or the config starts nothing).
    NotFound(String),
    /// Cannot be told within the budget (why).
    Unknown(String),
}

/// Why the search stopped.
enum Stop {
    /// Beyond the budget or an unreadable format: unknown.
    Unknown(String),
    /// The registry failed (a network error, a digest mismatch): an error for the image.
    Failed(String),
}

#[derive(Clone, Debug)]
enum Node {
    Dir,
    File,
    Symlink(String),
    Hardlink(String),
    Other,
}

#[derive(Default)]
struct Index {
    entries: HashMap<String, Node>,
    /// Paths hidden by `.wh.NAME`.
    whiteouts: HashSet<String>,
    /// Directories marked opaque (`.wh..wh..opq`).
    opaque: HashSet<String>,
}

struct Layer {
    bytes: Vec<u8>,
    index: Index,
}

/// `./usr//local/../bin/` → `usr/bin`; None when it climbs out of the root.
pub(super) fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn dirname(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `target` of a link at `link` (both relative to the root).
pub(super) fn link_target(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        normalize(target)
    } else {
        normalize(&format!("{}/{target}", dirname(link)))
    }
}

/// The tar of a layer, unpacked on the fly (gzip or plain).
fn tar_reader(bytes: &[u8]) -> Result<Box<dyn Read + '_>, Stop> {
    match bytes {
        [0x1f, 0x8b, ..] => Ok(Box::new(
            flate2::read::GzDecoder::new(bytes).take(MAX_UNPACKED + 1),
        )),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Err(Stop::Unknown(
            "a layer is compressed with zstd, which is not read".into(),
        )),
        _ => Ok(Box::new(bytes.take(MAX_UNPACKED + 1))),
    }
}

fn unreadable(e: &std::io::Error) -> Stop {
    Stop::Unknown(format!("a layer is not a readable tar: {e}"))
}

fn index_layer(bytes: &[u8]) -> Result<Index, Stop> {
    let mut archive = tar::Archive::new(tar_reader(bytes)?);
    let mut index = Index::default();
    let mut unpacked = 0u64;
    for entry in archive.entries().map_err(|e| unreadable(&e))? {
        let entry = entry.map_err(|e| unreadable(&e))?;
        unpacked += entry.size() + 512;
        if unpacked > MAX_UNPACKED {
            return Err(Stop::Unknown(format!(
                "a layer unpacks to more than {} MiB",
                MAX_UNPACKED >> 20
            )));
        }
        let raw = entry.path_bytes();
        let Some(path) = normalize(&String::from_utf8_lossy(&raw)) else {
            continue;
        };
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        if name == ".wh..wh..opq" {
            index.opaque.insert(dir.to_owned());
            continue;
        }
        if let Some(hidden) = name.strip_prefix(".wh.") {
            let p = if dir.is_empty() {
                hidden.to_owned()
            } else {
                format!("{dir}/{hidden}")
            };
            index.whiteouts.insert(p);
            continue;
        }
        let link = || {
            entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default()
        };
        let node = match entry.header().entry_type() {
            tar::EntryType::Directory => Node::Dir,
            tar::EntryType::Regular | tar::EntryType::Continuous => Node::File,
            tar::EntryType::Symlink => Node::Symlink(link()),
            tar::EntryType::Link => match normalize(&link()) {
                Some(t) => Node::Hardlink(t),
                None => Node::Other,
            },
            _ => Node::Other,
        };
        if path.is_empty() {
            continue;
        }
        index.entries.insert(path, node);
    }
    Ok(index)
}

/// The content of the regular file `path` of a layer (at most [`MAX_SCRIPT`] bytes; None when
/// larger).
fn read_file(bytes: &[u8], path: &str) -> Result<Option<Vec<u8>>, Stop> {
    let mut archive = tar::Archive::new(tar_reader(bytes)?);
    for entry in archive.entries().map_err(|e| unreadable(&e))? {
        let mut entry = entry.map_err(|e| unreadable(&e))?;
        let raw = entry.path_bytes();
        if normalize(&String::from_utf8_lossy(&raw)).as_deref() != Some(path) {
            continue;
        }
        if entry.size() > MAX_SCRIPT {
            // Only the first bytes: enough to tell a script from a binary.
            let mut head = vec![0u8; 2];
            entry.read_exact(&mut head).map_err(|e| unreadable(&e))?;
            return Ok(if head == b"#!" { None } else { Some(head) });
        }
        let mut out = Vec::new();
        entry.read_to_end(&mut out).map_err(|e| unreadable(&e))?;
        return Ok(Some(out));
    }
    Err(Stop::Unknown(format!("`/{path}` vanished from its layer")))
}

/// What the container's file system has at a path.
enum Stat {
    /// The entry, in layer `layer`.
    Entry(usize, Node),
    /// An ancestor directory is a symbolic link: the path through its target.
    Through(String),
    Absent,
}

/// The image's file system, its layers fetched from the top down as the search needs them.
struct Root<'a, B: Blobs> {
    blobs: &'a B,
    descs: &'a [LayerDesc],
    layers: Vec<Option<Layer>>,
    read: u64,
}

impl<'a, B: Blobs> Root<'a, B> {
    fn new(blobs: &'a B, descs: &'a [LayerDesc]) -> Self {
        Self {
            blobs,
            descs,
            layers: descs.iter().map(|_| None).collect(),
            read: 0,
        }
    }

    async fn layer(&mut self, i: usize) -> Result<&Layer, Stop> {
        if self.layers[i].is_none() {
            let d = &self.descs[i];
            if d.size > MAX_LAYER {
                return Err(Stop::Unknown(format!(
                    "layer {} of {} ({}) is {} KiB, more than the {} KiB read per layer",
                    i + 1,
                    self.descs.len(),
                    d.digest,
                    d.size >> 10,
                    MAX_LAYER >> 10
                )));
            }
            if self.read + d.size > MAX_TOTAL {
                return Err(Stop::Unknown(format!(
                    "the layers down to layer {} of {} are more than the {} KiB read per image",
                    i + 1,
                    self.descs.len(),
                    MAX_TOTAL >> 10
                )));
            }
            if d.media_type.contains("zstd") {
                return Err(Stop::Unknown(
                    "a layer is compressed with zstd, which is not read".into(),
                ));
            }
            let bytes = self.blobs.blob(d, d.size).await.map_err(|e| match e {
                BlobError::Unavailable(why) => Stop::Unknown(why),
                BlobError::Failed(e) => Stop::Failed(e),
            })?;
            if bytes.len() as u64 != d.size {
                return Err(Stop::Failed(format!(
                    "layer {} is {} bytes, the manifest says {}",
                    d.digest,
                    bytes.len(),
                    d.size
                )));
            }
            self.read += d.size;
            let index = index_layer(&bytes)?;
            self.layers[i] = Some(Layer { bytes, index });
        }
        Ok(self.layers[i].as_ref().expect("just read"))
    }

    /// The entry at `path` (normalized, no leading `/`), as the container sees it.
    async fn stat(&mut self, path: &str) -> Result<Stat, Stop> {
        // Proper ancestors, outermost first: `usr`, `usr/local`, `usr/local/bin`.
        let ancestors: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
        // Ancestors an upper layer makes directories: a lower layer's non-directory there is
        // replaced, and nothing below it shows.
        let mut dirs: HashSet<&str> = HashSet::new();
        for i in (0..self.descs.len()).rev() {
            let layer = self.layer(i).await?;
            let idx = &layer.index;
            if let Some(node) = idx.entries.get(path) {
                return Ok(Stat::Entry(i, node.clone()));
            }
            if idx.whiteouts.contains(path) || idx.opaque.contains("") {
                return Ok(Stat::Absent);
            }
            for a in &ancestors {
                if idx.whiteouts.contains(*a) || idx.opaque.contains(*a) {
                    return Ok(Stat::Absent);
                }
                match idx.entries.get(*a) {
                    Some(Node::Dir) => {
                        dirs.insert(a);
                    }
                    Some(_) if dirs.contains(a) => return Ok(Stat::Absent),
                    Some(Node::Symlink(t)) => {
                        let Some(target) = link_target(a, t) else {
                            return Ok(Stat::Absent);
                        };
                        let rest = &path[a.len()..];
                        return Ok(match normalize(&format!("{target}{rest}")) {
                            Some(p) => Stat::Through(p),
                            None => Stat::Absent,
                        });
                    }
                    Some(_) => return Ok(Stat::Absent),
                    None => {}
                }
            }
        }
        Ok(Stat::Absent)
    }

    /// The regular file at `path` (links followed): its layer and path in that layer.
    async fn resolve(&mut self, path: &str) -> Result<Option<(usize, String)>, Stop> {
        let mut path = path.to_owned();
        for _ in 0..MAX_LINKS {
            match self.stat(&path).await? {
                Stat::Entry(i, Node::File) => return Ok(Some((i, path))),
                Stat::Entry(i, Node::Hardlink(t)) => return Ok(Some((i, t))),
                Stat::Entry(_, Node::Symlink(t)) => match link_target(&path, &t) {
                    Some(p) => path = p,
                    None => return Ok(None),
                },
                Stat::Through(p) => path = p,
                Stat::Entry(..) | Stat::Absent => return Ok(None),
            }
        }
        Err(Stop::Unknown(format!(
            "more than {MAX_LINKS} symbolic links from `/{path}`"
        )))
    }
}

/// What the container starts, as written in the config (after an init; the script of
/// `sh script` or `sh -c script`).
fn program(run: &RunConfig) -> Option<Program> {
    let mut argv: Vec<String> = match &run.entrypoint {
        Some(e) if !e.is_empty() => e
            .iter()
            .cloned()
            .chain(run.cmd.clone().unwrap_or_default())
            .collect(),
        _ => run.cmd.clone().unwrap_or_default(),
    };
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_owned();
    // An init that starts the real program: tini, dumb-init, catatonit.
    if argv.first().is_some_and(|w| {
        matches!(
            base(w).as_str(),
            "tini" | "tini-static" | "dumb-init" | "catatonit"
        )
    }) {
        argv.remove(0);
        match argv.iter().position(|w| w == "--") {
            Some(i) => {
                argv.drain(..=i);
            }
            None => {
                while argv.first().is_some_and(|w| w.starts_with('-')) {
                    argv.remove(0);
                }
            }
        }
    }
    let first = argv.first()?.clone();
    if matches!(base(&first).as_str(), "sh" | "bash" | "ash" | "dash") {
        if argv.get(1).is_some_and(|a| a == "-c") {
            return argv.get(2).map(|script| Program::Inline(script.clone()));
        }
        if let Some(script) = argv.get(1).filter(|s| !s.starts_with('-')) {
            // The shell opens the script itself: relative to the working directory.
            return Some(Program::File(script.clone(), false));
        }
    }
    Some(Program::File(first.clone(), !first.contains('/')))
}

/// What the container starts.
enum Program {
    /// A file, as written, and whether it is looked up in `PATH`.
    File(String, bool),
    /// The script of `sh -c SCRIPT`.
    Inline(String),
}

/// The candidate paths of the program (no leading `/`), in the order they are tried.
fn candidates(run: &RunConfig, word: &str, search: bool) -> Vec<String> {
    let workdir = run.working_dir.clone().unwrap_or_default();
    if !search {
        let full = if word.starts_with('/') {
            word.to_owned()
        } else {
            format!("{workdir}/{word}")
        };
        return normalize(&full).into_iter().collect();
    }
    let path = run
        .env
        .iter()
        .flatten()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    path.split(':')
        .filter(|d| !d.is_empty())
        .filter_map(|d| {
            let dir = if d.starts_with('/') {
                d.to_owned()
            } else {
                format!("{workdir}/{d}")
            };
            normalize(&format!("{dir}/{word}"))
        })
        .collect()
}

/// Find and read the program the image starts. Err: the registry failed.
pub async fn entrypoint<B: Blobs>(
    blobs: &B,
    layers: &[LayerDesc],
    run: &RunConfig,
) -> Result<Outcome, String> {
    let (word, search) = match program(run) {
        None => {
            return Ok(Outcome::NotFound(
                "the image config starts no program".into(),
            ))
        }
        Some(Program::Inline(script)) => {
            return Ok(Outcome::Script {
                path: "sh -c".into(),
                text: format!("#!/bin/sh\n{script}\n"),
            })
        }
        Some(Program::File(word, search)) => (word, search),
    };
    let mut root = Root::new(blobs, layers);
    let found = async {
        for c in candidates(run, &word, search) {
            if let Some((layer, path)) = root.resolve(&c).await? {
                let bytes = read_file(&root.layer(layer).await?.bytes, &path)?;
                return Ok(Some((path, bytes)));
            }
        }
        Ok::<_, Stop>(None)
    };
    match found.await {
        Ok(Some((path, Some(bytes)))) if bytes.starts_with(b"#!") => Ok(Outcome::Script {
            path: format!("/{path}"),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }),
        Ok(Some((path, Some(_)))) => Ok(Outcome::NotAScript {
            path: format!("/{path}"),
        }),
        Ok(Some((path, None))) => Ok(Outcome::Unknown(format!(
            "`/{path}` is a script larger than {} KiB",
            MAX_SCRIPT >> 10
        ))),
        Ok(None) => Ok(Outcome::NotFound(format!("`{word}` is not in the image"))),
        Err(Stop::Unknown(why)) => Ok(Outcome::Unknown(why)),
        Err(Stop::Failed(e)) => Err(e),
    }
}

/// Whether the image's build history is present and sets no file capabilities or setuid bits
/// (a program that has them needs their capabilities in the bounding set even after the
/// entrypoint has switched to another user).
pub fn history_clean(config: &ImageConfig) -> bool {
    let Some(history) = config.history.as_ref().filter(|h| !h.is_empty()) else {
        return false;
    };
    history.iter().all(|h| {
        let c = h.created_by.as_deref().unwrap_or("");
        if c.contains("setcap") {
            return false;
        }
        // `chmod u+s`, `chmod +s`, `chmod 4755`: the modes after a chmod.
        let words: Vec<&str> = c
            .split(|ch: char| ch.is_whitespace() || ch == ';' || ch == '&' || ch == '|')
            .filter(|w| !w.is_empty())
            .collect();
        !words.iter().enumerate().any(|(i, w)| {
            w.rsplit('/').next() == Some("chmod")
                && words[i + 1..]
                    .iter()
                    .find(|m| !m.starts_with('-'))
                    .is_some_and(|m| setuid_mode(m))
        })
    })
}

/// Whether a chmod mode sets the setuid bit (`4755`, `u+s`, `+s`, `a+rs`, `ug+s`).
fn setuid_mode(mode: &str) -> bool {
    if mode.len() == 4 && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return (mode.as_bytes()[0] - b'0') & 4 != 0;
    }
    mode.split(',').any(|clause| {
        let Some(op) = clause.find(['+', '=']) else {
            return false;
        };
        let (who, perms) = clause.split_at(op);
        (who.is_empty() || who.contains('u') || who.contains('a')) && perms[1..].contains('s')
    })
}

/// Whether [`facts`] reads layers for this config: it starts as root and its program is a file
/// (not the text of `sh -c`). A source that must fetch the whole image to give layers (a Docker
/// Engine's export) asks this first.
pub fn reads_layers(config: &ImageConfig) -> bool {
    let Some(run) = config.config.as_ref() else {
        return false;
    };
    let user = run.user.as_deref().unwrap_or("").trim();
    dockharden_transforms::needs::is_root_user(user)
        && matches!(program(run), Some(Program::File(..)))
}

/// What the entrypoint script of an image whose configured user is root proves (None: nothing:
/// no script, not root, or unknown within the budget). Err: the registry failed.
pub async fn facts<B: Blobs>(
    blobs: &B,
    layers: &[LayerDesc],
    config: &ImageConfig,
) -> Result<Option<Facts>, String> {
    let Some(run) = config.config.as_ref() else {
        return Ok(None);
    };
    let user = run.user.as_deref().unwrap_or("").trim();
    if !dockharden_transforms::needs::is_root_user(user) {
        return Ok(None);
    }
    match entrypoint(blobs, layers, run).await? {
        Outcome::Script { text, .. } if entrypoint::is_shell_script(&text) => {
            let scan = entrypoint::scan(&text);
            let f = entrypoint::facts(&scan, history_clean(config));
            Ok((f != Facts::default()).then_some(f))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;
    use std::io::Write as _;

    enum Item<'a> {
        File(&'a str, &'a [u8]),
        Dir(&'a str),
        Link(&'a str, &'a str),
        Hard(&'a str, &'a str),
    }

    fn tar(items: &[Item<'_>], gzip: bool) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for it in items {
            let mut h = tar::Header::new_ustar();
            h.set_mtime(0);
            match it {
                Item::File(p, d) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_mode(0o755);
                    h.set_size(d.len() as u64);
                    b.append_data(&mut h, p, *d).unwrap();
                }
                Item::Dir(p) => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(0o755);
                    h.set_size(0);
                    b.append_data(&mut h, p, std::io::empty()).unwrap();
                }
                Item::Link(p, t) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    b.append_link(&mut h, p, t).unwrap();
                }
                Item::Hard(p, t) => {
                    h.set_entry_type(tar::EntryType::Link);
                    h.set_size(0);
                    b.append_link(&mut h, p, t).unwrap();
                }
            }
        }
        let raw = b.into_inner().unwrap();
        if !gzip {
            return raw;
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw).unwrap();
        gz.finish().unwrap()
    }

    /// Layers in memory, bottom first; records which were fetched.
    struct Mem {
        layers: Vec<Vec<u8>>,
        fetched: std::sync::Mutex<Vec<usize>>,
    }

    impl Mem {
        fn new(layers: Vec<Vec<u8>>) -> Self {
            Self {
                layers,
                fetched: std::sync::Mutex::default(),
            }
        }
        fn descs(&self) -> Vec<LayerDesc> {
            self.layers
                .iter()
                .map(|l| LayerDesc {
                    digest: format!(
                        "sha256:{}",
                        sha2::Sha256::digest(l)
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<String>()
                    ),
                    size: l.len() as u64,
                    media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                })
                .collect()
        }
    }

    impl Blobs for Mem {
        async fn blob(&self, layer: &LayerDesc, _limit: u64) -> Result<Vec<u8>, BlobError> {
            let i = self
                .descs()
                .iter()
                .position(|d| d.digest == layer.digest)
                .unwrap();
            self.fetched.lock().unwrap().push(i);
            Ok(self.layers[i].clone())
        }
    }

    fn run(entrypoint: &[&str], env: &[&str]) -> RunConfig {
        RunConfig {
            entrypoint: Some(entrypoint.iter().map(|s| (*s).to_owned()).collect()),
            env: Some(env.iter().map(|s| (*s).to_owned()).collect()),
            ..RunConfig::default()
        }
    }

    fn find(mem: &Mem, r: &RunConfig) -> Outcome {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(entrypoint(mem, &mem.descs(), r)).unwrap()
    }

    const GOSU: &[u8] = b"#!/bin/sh\nexec gosu app \"$@\"\n";
    const PLAIN: &[u8] = b"#!/bin/sh\nexec \"$@\"\n";

    fn script(o: &Outcome) -> (&str, &str) {
        match o {
            Outcome::Script { path, text } => (path, text),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn path_search_and_top_down_reading() {
        let mem = Mem::new(vec![
            tar(
                &[
                    Item::Dir("usr/"),
                    Item::Dir("usr/bin/"),
                    Item::File("usr/bin/start.sh", PLAIN),
                ],
                true,
            ),
            tar(&[Item::File("usr/local/bin/start.sh", GOSU)], true),
        ]);
        let o = find(&mem, &run(&["start.sh"], &["PATH=/usr/local/bin:/usr/bin"]));
        assert_eq!(
            script(&o),
            (
                "/usr/local/bin/start.sh",
                "#!/bin/sh\nexec gosu app \"$@\"\n"
            )
        );
        // Found in the top layer: the lower one is never fetched.
        assert_eq!(*mem.fetched.lock().unwrap(), [1]);
        // PATH order decides.
        let o = find(&mem, &run(&["start.sh"], &["PATH=/usr/bin:/usr/local/bin"]));
        assert_eq!(script(&o).0, "/usr/bin/start.sh");
        // Docker's default PATH when the config has none.
        let o = find(&mem, &run(&["start.sh"], &[]));
        assert_eq!(script(&o).0, "/usr/local/bin/start.sh");
        // Through tini, and `sh script`.
        let o = find(&mem, &run(&["/sbin/tini", "--", "/usr/bin/start.sh"], &[]));
        assert_eq!(script(&o).0, "/usr/bin/start.sh");
        let o = find(&mem, &run(&["sh", "/usr/local/bin/start.sh"], &[]));
        assert_eq!(script(&o).0, "/usr/local/bin/start.sh");
        // `sh -c SCRIPT`: the script is in the config, no layer is read for it.
        mem.fetched.lock().unwrap().clear();
        let o = find(
            &mem,
            &run(&["/bin/sh", "-c", "exec gosu app /app/run"], &[]),
        );
        assert_eq!(script(&o), ("sh -c", "#!/bin/sh\nexec gosu app /app/run\n"));
        assert!(mem.fetched.lock().unwrap().is_empty());
        assert!(matches!(
            find(&mem, &run(&["nothing.sh"], &[])),
            Outcome::NotFound(_)
        ));
    }

    #[test]
    fn whiteouts_and_opaque_directories_hide_lower_files() {
        let base = tar(
            &[
                Item::File("entrypoint.sh", GOSU),
                Item::File("app/run.sh", GOSU),
            ],
            true,
        );
        // `.wh.entrypoint.sh` in the upper layer: the file is gone.
        let mem = Mem::new(vec![
            base.clone(),
            tar(&[Item::File(".wh.entrypoint.sh", b"")], true),
        ]);
        assert!(matches!(
            find(&mem, &run(&["/entrypoint.sh"], &[])),
            Outcome::NotFound(_)
        ));
        // Whiteout of an ancestor directory.
        let mem = Mem::new(vec![base.clone(), tar(&[Item::File(".wh.app", b"")], true)]);
        assert!(matches!(
            find(&mem, &run(&["/app/run.sh"], &[])),
            Outcome::NotFound(_)
        ));
        // An opaque directory hides what lower layers had in it, not its own files.
        let mem = Mem::new(vec![
            base.clone(),
            tar(
                &[Item::Dir("app/"), Item::File("app/.wh..wh..opq", b"")],
                true,
            ),
        ]);
        assert!(matches!(
            find(&mem, &run(&["/app/run.sh"], &[])),
            Outcome::NotFound(_)
        ));
        let mem = Mem::new(vec![
            base.clone(),
            tar(
                &[
                    Item::Dir("app/"),
                    Item::File("app/.wh..wh..opq", b""),
                    Item::File("app/run.sh", PLAIN),
                ],
                false,
            ),
        ]);
        assert_eq!(
            script(&find(&mem, &run(&["/app/run.sh"], &[]))).1,
            "#!/bin/sh\nexec \"$@\"\n"
        );
        // A whiteout applies to lower layers only: re-created in a layer above it, it is back.
        let mem = Mem::new(vec![
            base,
            tar(&[Item::File(".wh.entrypoint.sh", b"")], true),
            tar(&[Item::File("entrypoint.sh", PLAIN)], true),
        ]);
        assert_eq!(
            script(&find(&mem, &run(&["/entrypoint.sh"], &[]))).1,
            "#!/bin/sh\nexec \"$@\"\n"
        );
    }

    #[test]
    fn links() {
        // docker-library's `ln -s usr/local/bin/docker-entrypoint.sh /`, and a merged /usr.
        let mem = Mem::new(vec![
            tar(
                &[
                    Item::Link("bin", "usr/bin"),
                    Item::Dir("usr/"),
                    Item::Dir("usr/bin/"),
                ],
                true,
            ),
            tar(
                &[
                    Item::File("usr/local/bin/docker-entrypoint.sh", GOSU),
                    Item::Link("docker-entrypoint.sh", "usr/local/bin/docker-entrypoint.sh"),
                    Item::File("usr/bin/run.sh", PLAIN),
                    Item::Hard("usr/bin/run2.sh", "usr/bin/run.sh"),
                ],
                true,
            ),
        ]);
        let o = find(&mem, &run(&["/docker-entrypoint.sh"], &[]));
        assert_eq!(script(&o).0, "/usr/local/bin/docker-entrypoint.sh");
        let o = find(&mem, &run(&["/bin/run.sh"], &[]));
        assert_eq!(script(&o).0, "/usr/bin/run.sh");
        let o = find(&mem, &run(&["/usr/bin/run2.sh"], &[]));
        assert_eq!(script(&o).0, "/usr/bin/run.sh");
        // A binary is no script.
        let mem = Mem::new(vec![tar(&[Item::File("app", b"\x7fELF...")], true)]);
        assert!(matches!(
            find(&mem, &run(&["/app"], &[])),
            Outcome::NotAScript { .. }
        ));
        // A link loop.
        let mem = Mem::new(vec![tar(
            &[Item::Link("a", "b"), Item::Link("b", "a")],
            true,
        )]);
        assert!(matches!(
            find(&mem, &run(&["/a"], &[])),
            Outcome::Unknown(_)
        ));
    }

    #[test]
    fn budget() {
        // A large top layer that was not read might hide the script: unknown, not "not found".
        let mut big = LayerDesc {
            digest: "sha256:big".into(),
            size: MAX_LAYER + 1,
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
        };
        let mem = Mem::new(vec![tar(&[Item::File("entrypoint.sh", GOSU)], true)]);
        let mut descs = mem.descs();
        descs.push(big.clone());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let o = rt
            .block_on(entrypoint(&mem, &descs, &run(&["/entrypoint.sh"], &[])))
            .unwrap();
        assert!(
            matches!(&o, Outcome::Unknown(w) if w.contains("KiB")),
            "{o:?}"
        );
        assert!(mem.fetched.lock().unwrap().is_empty());
        big.size = 10;
        big.media_type = "application/vnd.oci.image.layer.v1.tar+zstd".into();
        descs.pop();
        descs.push(big);
        let o = rt
            .block_on(entrypoint(&mem, &descs, &run(&["/entrypoint.sh"], &[])))
            .unwrap();
        assert!(
            matches!(&o, Outcome::Unknown(w) if w.contains("zstd")),
            "{o:?}"
        );
    }

    /// A source that cannot give a layer within its own limits: unknown, like the budget; one
    /// that fails: an error.
    #[test]
    fn unavailable_and_failed_layers() {
        struct Source(BlobError);
        impl Blobs for Source {
            async fn blob(&self, _: &LayerDesc, _: u64) -> Result<Vec<u8>, BlobError> {
                Err(self.0.clone())
            }
        }
        let descs = [LayerDesc {
            digest: "sha256:top".into(),
            size: 10,
            media_type: "application/vnd.oci.image.layer.v1.tar".into(),
        }];
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let r = run(&["/entrypoint.sh"], &[]);
        let o = rt.block_on(entrypoint(
            &Source(BlobError::Unavailable("not kept".into())),
            &descs,
            &r,
        ));
        assert_eq!(o, Ok(Outcome::Unknown("not kept".into())));
        let o = rt.block_on(entrypoint(
            &Source(BlobError::Failed("digest mismatch".into())),
            &descs,
            &r,
        ));
        assert_eq!(o, Err("digest mismatch".into()));
    }

    #[test]
    fn which_configs_read_layers() {
        let cfg = |user: &str, entrypoint: &[&str]| ImageConfig {
            config: Some(RunConfig {
                user: Some(user.into()),
                ..run(entrypoint, &[])
            }),
            ..ImageConfig::default()
        };
        assert!(reads_layers(&cfg("", &["docker-entrypoint.sh"])));
        assert!(reads_layers(&cfg(
            "0:0",
            &["/sbin/tini", "--", "/start.sh"]
        )));
        assert!(!reads_layers(&cfg("1000", &["docker-entrypoint.sh"])));
        assert!(!reads_layers(&cfg(
            "",
            &["/bin/sh", "-c", "exec gosu app srv"]
        )));
        assert!(!reads_layers(&cfg("", &[])));
        assert!(!reads_layers(&ImageConfig::default()));
    }

    #[test]
    fn history() {
        let cfg = |h: &str| -> ImageConfig { serde_json::from_str(h).unwrap() };
        assert!(history_clean(&cfg(
            r#"{"history":[{"created_by":"COPY x /x"},{"created_by":"RUN chmod 0755 /x"}]}"#
        )));
        assert!(!history_clean(&cfg(r#"{}"#)));
        assert!(!history_clean(&cfg(
            r#"{"history":[{"created_by":"RUN setcap cap_net_bind_service=+ep /app"}]}"#
        )));
        assert!(!history_clean(&cfg(
            r#"{"history":[{"created_by":"RUN chmod 4755 /usr/bin/helper"}]}"#
        )));
        assert!(!history_clean(&cfg(
            r#"{"history":[{"created_by":"RUN chmod u+s /usr/bin/helper"}]}"#
        )));
        assert!(!history_clean(&cfg(
            r#"{"history":[{"created_by":"RUN apt-get install -y x && chmod -v +s /usr/bin/helper"}]}"#
        )));
        // Numbers that are no chmod mode, and a setgid directory, are no setuid bit.
        assert!(history_clean(&cfg(
            r#"{"history":[{"created_by":"/bin/sh -c #(nop)  EXPOSE 4000"},{"created_by":"RUN chmod g+s /srv && chmod 2775 /data"}]}"#
        )));
    }
}
