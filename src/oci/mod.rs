//! `--resolve`: look the run's images up in their registries, once per image, before any file is
//! checked, and hand the answers to the rules through the transforms' `ImageResolver`.
//!
//! 1. A recording pass runs the pinning rules (DF003, DC013, K8S010, whether the run selects
//!    them or not) over every file with a resolver that only notes which references they ask
//!    about.
//! 2. Those references are looked up, at most `CONCURRENCY` at a time, through the cache (per
//!    registry, repository and tag, with the time of the look-up) and the registry client.
//! 3. The run proper uses a resolver that answers from that table; a file whose look-up failed
//!    gets an error naming the registry and the reason, and is left unchanged.
//!
//! Before the registries, a local Docker Engine is asked (see [`engine`]): an image it has that
//! carries no registry digest for its repository was built on this machine and is not looked up in
//! any registry (its facts come from the engine; no pin is proposed: no registry serves it). For
//! an image it has that was pulled, the registry still gives the pin; the engine's facts are used
//! when the image it has is the one the registry serves for the tag (its `RepoDigests` hold that
//! digest: the registry's config and layers are then not fetched) and for a reference pinned to a
//! digest it has; when the tag has moved since the pull, the registry's image is read, since the
//! pin written names it.
//!
//! Without `--resolve` (or `resolve = true`) none of this runs and nothing touches the network or
//! the engine's socket; `--offline` asks neither.

pub mod cache;
pub mod client;
pub mod credentials;
pub mod engine;
pub mod scan;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dockharden_transforms::images::{self, Facts, ReadFacts, ReadFrom};
use dockharden_transforms::knowledge::ImageName;
use dockharden_transforms::settings::{ImageResolver, ResolvedPin};
use futures_util::StreamExt as _;
use oci_client::Reference;

/// Look-ups in flight at once.
const CONCURRENCY: usize = 8;

/// How the run resolves.
#[derive(Clone, Debug, Default)]
pub struct ResolveOptions {
    /// Use the cache only.
    pub offline: bool,
    /// Cached answers younger than this are used without asking the registry.
    pub max_age: Duration,
    /// Registries reached over plain HTTP besides the loopback ones.
    pub insecure: Vec<String>,
    /// Fix stale pins.
    pub update_pins: bool,
    /// The first retry's wait.
    pub backoff: Duration,
    /// The cache folder (None: no cache).
    pub cache_dir: Option<std::path::PathBuf>,
    /// The local Docker Engine to ask (None: none).
    pub engine: Option<engine::Endpoint>,
    /// Why a configured engine is not asked (`DOCKER_TLS_VERIFY`, a remote `tcp://`).
    pub engine_skipped: Option<String>,
    /// `--verbose`: say on standard error what the engine could not answer.
    pub verbose: bool,
}

/// Notes every reference the rules ask about; answers nothing.
#[derive(Default)]
pub struct Recorder {
    pub refs: Mutex<BTreeSet<String>>,
}

impl Recorder {
    fn note(&self, image: &str) {
        self.refs
            .lock()
            .expect("recorder")
            .insert(image.trim().to_owned());
    }
}

impl ImageResolver for Recorder {
    fn resolve(&self, image: &str) -> Option<String> {
        self.note(image);
        None
    }
    fn active(&self) -> bool {
        true
    }
    fn pin(&self, image: &str) -> Option<ResolvedPin> {
        self.note(image);
        None
    }
    fn current_digest(&self, image: &str) -> Option<String> {
        self.note(image);
        None
    }
}

/// Where an image lives: the registry host, the repository (Docker Hub's `library/` added) and
/// the tag (`latest` when none).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Coord {
    pub registry: String,
    pub repository: String,
    pub tag: String,
}

/// The registry and repository of a reference, normalised (`nginx` → `docker.io`,
/// `library/nginx`); None when malformed.
fn home(image: &ImageName) -> Option<(String, String)> {
    if !image.is_well_formed() || image.repository.is_empty() {
        return None;
    }
    let registry = match image.registry.as_deref() {
        None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io") => {
            "docker.io".to_owned()
        }
        Some(r) => r.to_ascii_lowercase(),
    };
    let repository = if registry == "docker.io" && !image.repository.contains('/') {
        format!("library/{}", image.repository)
    } else {
        image.repository.clone()
    };
    Some((registry, repository))
}

/// Whether `digest` is `sha256:` and 64 hex digits.
fn is_sha256(digest: &str) -> bool {
    digest
        .strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The name the engine is asked about for a reference: by its digest when it has one (the image
/// pulled by that digest), else by its tag, fully qualified; None when malformed.
fn engine_name(image: &ImageName) -> Option<String> {
    let (registry, repository) = home(image)?;
    match &image.digest {
        Some(d) if is_sha256(d) => Some(format!("{registry}/{repository}@{d}")),
        Some(_) => None,
        None => Coord::of(image).map(|c| c.key()),
    }
}

/// The digests the engine's image has in `registry/repository` (its `RepoDigests`).
fn repo_digests(inspect: &engine::Inspect, registry: &str, repository: &str) -> Vec<String> {
    inspect
        .repo_digests
        .iter()
        .flatten()
        .filter_map(|r| {
            let i = ImageName::parse(r);
            let (reg, repo) = home(&i)?;
            (reg == registry && repo == repository)
                .then_some(i.digest)
                .flatten()
        })
        .collect()
}

impl Coord {
    /// None for a reference that names no tag to look up (a digest alone) or is malformed.
    pub fn of(image: &ImageName) -> Option<Self> {
        if image.digest.is_some() && image.tag.is_none() {
            return None;
        }
        let (registry, repository) = home(image)?;
        Some(Self {
            registry,
            repository,
            tag: image.tag.clone().unwrap_or_else(|| "latest".into()),
        })
    }

    fn key(&self) -> String {
        format!("{}/{}:{}", self.registry, self.repository, self.tag)
    }

    fn reference(&self) -> Reference {
        Reference::with_tag(
            self.registry.clone(),
            self.repository.clone(),
            self.tag.clone(),
        )
    }
}

/// What the registry said about one tag.
#[derive(Clone, Debug)]
struct TagAnswer {
    digest: String,
    /// For `latest`: the version tag with the same digest, if any.
    version_tag: Option<String>,
    facts: Option<Facts>,
}

/// The answer for one reference as written.
#[derive(Clone, Debug, Default)]
struct Answer {
    pin: Option<ResolvedPin>,
    current: Option<String>,
}

/// Every look-up of the run.
#[derive(Debug, Default)]
pub struct Lookups {
    answers: HashMap<String, Result<Answer, String>>,
    /// Facts read from images (their registries, the local engine), keyed as
    /// [`images::registry_key`].
    pub facts: Arc<BTreeMap<String, ReadFacts>>,
    pub update_pins: bool,
    /// `--resolve` was given (else only files whose configuration says `resolve = true`).
    pub everywhere: bool,
}

impl Lookups {
    pub fn resolver(&self) -> TableResolver<'_> {
        TableResolver {
            lookups: self,
            failures: Mutex::default(),
        }
    }
}

/// Answers from the run's table; notes the references whose look-up failed.
pub struct TableResolver<'a> {
    lookups: &'a Lookups,
    pub failures: Mutex<BTreeSet<String>>,
}

impl TableResolver<'_> {
    fn answer(&self, image: &str) -> Option<&Answer> {
        match self.lookups.answers.get(image.trim())? {
            Ok(a) => Some(a),
            Err(e) => {
                self.failures.lock().expect("failures").insert(e.clone());
                None
            }
        }
    }

    /// The failed look-ups this file needed, one message each.
    pub fn failed(&self) -> Vec<String> {
        self.failures
            .lock()
            .expect("failures")
            .iter()
            .cloned()
            .collect()
    }
}

impl ImageResolver for TableResolver<'_> {
    fn resolve(&self, image: &str) -> Option<String> {
        self.pin(image).map(|p| p.pin)
    }
    fn active(&self) -> bool {
        true
    }
    fn pin(&self, image: &str) -> Option<ResolvedPin> {
        self.answer(image).and_then(|a| a.pin.clone())
    }
    fn current_digest(&self, image: &str) -> Option<String> {
        self.answer(image).and_then(|a| a.current.clone())
    }
}

/// A current-thread runtime for the look-ups.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the network runtime: {e}"))
}

/// What the local engine said, per [`engine_name`].
struct Local {
    engine: Option<engine::Engine>,
    images: HashMap<String, engine::Inspect>,
}

/// Ask the engine of `options` about `names` (image inspect only). Never fails: what it cannot
/// answer is unknown, said under `--verbose`.
fn ask_engine(names: &BTreeSet<String>, options: &ResolveOptions, say: &dyn Fn(String)) -> Local {
    let mut local = Local {
        engine: None,
        images: HashMap::new(),
    };
    if let Some(why) = &options.engine_skipped {
        say(format!("docker engine: {why}"));
    }
    let Some(endpoint) = options.engine.clone().filter(|_| !names.is_empty()) else {
        return local;
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            say(format!("docker engine {endpoint}: {e}"));
            return local;
        }
    };
    rt.block_on(async {
        let engine = match engine::Engine::connect(endpoint.clone()).await {
            Ok(e) => e,
            Err(e) => {
                say(format!(
                    "docker engine: {e}; images are looked up in their registries only"
                ));
                return;
            }
        };
        let engine_ref = &engine;
        let answers: Vec<(String, Result<Option<engine::Inspect>, String>)> =
            futures_util::stream::iter(names.iter().cloned())
                .map(|n| async move {
                    let r = engine_ref.inspect(&n).await;
                    (n, r)
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        for (name, r) in answers {
            match r {
                Ok(Some(i)) => {
                    local.images.insert(name, i);
                }
                Ok(None) => say(format!(
                    "docker engine {endpoint}: no image `{name}` (404); it stays unknown unless its registry knows it"
                )),
                Err(e) => say(format!("docker engine {endpoint}: image `{name}`: {e}")),
            }
        }
        local.engine = Some(engine);
    });
    local
}

/// The facts of the engine's images `names` (inspect, history, export).
fn engine_facts(
    local: &Local,
    names: &BTreeSet<String>,
    say: &dyn Fn(String),
) -> HashMap<String, Facts> {
    let Some(engine) = local.engine.as_ref().filter(|_| !names.is_empty()) else {
        return HashMap::new();
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            say(format!("docker engine {}: {e}", engine.endpoint));
            return HashMap::new();
        }
    };
    let answers: Vec<(String, Facts, Vec<String>)> = rt.block_on(
        futures_util::stream::iter(
            names
                .iter()
                .filter_map(|n| local.images.get(n).map(|i| (n.clone(), i))),
        )
        .map(|(n, i)| async move {
            let (f, notes) = engine::facts(engine, &n, i).await;
            (n, f, notes)
        })
        // Exports stream whole images: two at a time.
        .buffer_unordered(2)
        .collect(),
    );
    answers
        .into_iter()
        .map(|(n, f, notes)| {
            for note in notes {
                say(format!("docker engine {}: {note}", engine.endpoint));
            }
            (n, f)
        })
        .collect()
}

/// Look up `refs` (references as written). Never fails as a whole: each reference gets its answer
/// or its error.
pub fn look_up(refs: &BTreeSet<String>, options: &ResolveOptions) -> Lookups {
    let say = |line: String| {
        if options.verbose {
            eprintln!("dockharden: {line}");
        }
    };
    let mut coords: BTreeMap<String, Coord> = BTreeMap::new();
    // Each reference: its parse, its coordinates in a registry (None: a digest alone) and the
    // name the engine is asked about.
    let mut per_ref: Vec<(String, ImageName, Option<Coord>, Option<String>)> = Vec::new();
    for r in refs {
        let image = ImageName::parse(r);
        let c = Coord::of(&image);
        let e = engine_name(&image);
        if c.is_none() && e.is_none() {
            continue;
        }
        if let Some(c) = &c {
            coords.insert(c.key(), c.clone());
        }
        per_ref.push((r.clone(), image, c, e));
    }
    // The local engine first (not under --offline: that is the cache only).
    let local = if options.offline {
        Local {
            engine: None,
            images: HashMap::new(),
        }
    } else {
        let names: BTreeSet<String> = per_ref.iter().filter_map(|r| r.3.clone()).collect();
        ask_engine(&names, options, &say)
    };
    // Built here: the engine has it and no registry digest of its repository. No registry is
    // asked about it.
    let built_here: BTreeSet<String> = coords
        .values()
        .filter(|c| {
            local
                .images
                .get(&c.key())
                .is_some_and(|i| repo_digests(i, &c.registry, &c.repository).is_empty())
        })
        .map(Coord::key)
        .collect();
    for k in &built_here {
        say(format!(
            "docker engine: `{k}` was built here (no registry digest): its facts come from the engine, no registry is asked and no pin is proposed"
        ));
    }
    // Facts are read for images that the knowledge base does not know; not from the registry
    // when the engine's image is the one it serves (the digests listed).
    let unknown = |image: &ImageName| images::lookup(&[], image).is_none();
    let wants_facts: BTreeMap<String, Vec<String>> = per_ref
        .iter()
        .filter(|(_, image, _, _)| unknown(image))
        .filter_map(|(_, _, c, _)| c.as_ref())
        .map(|c| {
            let local_digests = local
                .images
                .get(&c.key())
                .map(|i| repo_digests(i, &c.registry, &c.repository))
                .unwrap_or_default();
            (c.key(), local_digests)
        })
        .collect();
    let mut cache = cache::Cache::load(options.cache_dir.as_deref());
    let now = cache::now();
    let max_age = options.max_age.as_secs();
    let mut results: BTreeMap<String, Result<TagAnswer, String>> = BTreeMap::new();
    let mut to_fetch: Vec<Coord> = Vec::new();
    for (key, c) in &coords {
        if built_here.contains(key) {
            continue;
        }
        let latest = c.tag == "latest";
        let hit = cache.tags.get(key).filter(|e| {
            (options.offline || now.saturating_sub(e.looked_up) < max_age)
                && (!latest || e.version_tag.is_some())
        });
        let facts_key = |d: &str| format!("{}/{}@{d}", c.registry, c.repository);
        let facts_needed = |d: &str| {
            wants_facts
                .get(key)
                .is_some_and(|local| !local.iter().any(|l| l == d))
        };
        match hit {
            Some(e)
                if !facts_needed(&e.digest)
                    || options.offline
                    || cache.facts.contains_key(&facts_key(&e.digest)) =>
            {
                results.insert(
                    key.clone(),
                    Ok(TagAnswer {
                        digest: e.digest.clone(),
                        version_tag: e.version_tag.clone().flatten(),
                        facts: cache.facts.get(&facts_key(&e.digest)).cloned(),
                    }),
                );
            }
            _ if options.offline => {
                results.insert(
                    key.clone(),
                    Err(format!(
                        "registry `{}`: `{}:{}` is not in the look-up cache and --offline forbids asking the registry",
                        c.registry, c.repository, c.tag
                    )),
                );
            }
            _ => to_fetch.push(c.clone()),
        }
    }
    if !to_fetch.is_empty() {
        let fetchedv = fetch_all(&to_fetch, &wants_facts, options);
        for (c, r) in fetchedv {
            if let Ok(a) = &r {
                let latest = c.tag == "latest";
                cache.tags.insert(
                    c.key(),
                    cache::TagEntry {
                        digest: a.digest.clone(),
                        looked_up: now,
                        version_tag: latest.then(|| a.version_tag.clone()),
                    },
                );
                // The version tag found for `latest` was read too: it has the same digest.
                if let Some(v) = a.version_tag.as_ref().filter(|_| latest) {
                    cache.tags.insert(
                        format!("{}/{}:{v}", c.registry, c.repository),
                        cache::TagEntry {
                            digest: a.digest.clone(),
                            looked_up: now,
                            version_tag: None,
                        },
                    );
                }
                if let Some(f) = &a.facts {
                    cache.facts.insert(
                        format!("{}/{}@{}", c.registry, c.repository, a.digest),
                        f.clone(),
                    );
                }
            }
            results.insert(c.key(), r);
        }
        if let Err(e) = cache.save() {
            eprintln!(
                "dockharden: warning: cannot write the look-up cache {}: {e}",
                cache
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
        }
    }
    // Whose facts the engine gives: images it has that are not in the knowledge base, built here,
    // named by a digest it has, or the image the registry serves for the tag.
    let engine_wins = |image: &ImageName, c: &Option<Coord>, name: &Option<String>| -> bool {
        let Some(inspect) = name.as_ref().and_then(|n| local.images.get(n)) else {
            return false;
        };
        if !unknown(image) {
            return false;
        }
        match c {
            _ if image.digest.is_some() => true,
            None => true,
            Some(c) if built_here.contains(&c.key()) => true,
            Some(c) => match results.get(&c.key()) {
                Some(Ok(a)) => {
                    repo_digests(inspect, &c.registry, &c.repository).contains(&a.digest)
                }
                _ => false,
            },
        }
    };
    let from_engine: BTreeSet<String> = per_ref
        .iter()
        .filter(|(_, image, c, name)| engine_wins(image, c, name))
        .filter_map(|r| r.3.clone())
        .collect();
    let engine_facts = engine_facts(&local, &from_engine, &say);
    let mut answers = HashMap::new();
    let mut facts = BTreeMap::new();
    for (written, image, c, name) in per_ref {
        let engine_read = name
            .as_ref()
            .filter(|n| from_engine.contains(*n))
            .and_then(|n| engine_facts.get(n))
            .map(|f| ReadFacts {
                facts: f.clone(),
                from: ReadFrom::Engine,
            });
        let Some(c) = c.filter(|c| !built_here.contains(&c.key())) else {
            // No registry answer: a digest alone, or built here.
            if let Some(f) = engine_read {
                facts.insert(images::registry_key(&image), f);
            }
            continue;
        };
        let answer = match &results[&c.key()] {
            Err(e) => Err(format!("{e} (image `{written}`)")),
            Ok(a) => {
                let read = engine_read.or_else(|| {
                    a.facts.clone().map(|f| ReadFacts {
                        facts: f,
                        from: ReadFrom::Registry,
                    })
                });
                if let Some(f) = read {
                    // Facts of the tag's image hold for a pinned reference only when the pin is
                    // that image; the engine's, read by the digest, hold for it.
                    let own = f.from == ReadFrom::Engine
                        || image.digest.is_none()
                        || image.digest.as_deref() == Some(a.digest.as_str());
                    if own {
                        facts.insert(images::registry_key(&image), f.clone());
                    }
                    if f.from == ReadFrom::Registry || image.digest.is_none() {
                        let mut pinned = image.clone();
                        pinned.digest = Some(a.digest.clone());
                        facts.insert(images::registry_key(&pinned), f.clone());
                        if let Some(v) = &a.version_tag {
                            let mut tagged = image.clone();
                            tagged.tag = Some(v.clone());
                            tagged.digest = None;
                            facts.insert(images::registry_key(&tagged), f.clone());
                        }
                    }
                }
                Ok(if image.digest.is_some() {
                    Answer {
                        pin: None,
                        current: Some(a.digest.clone()),
                    }
                } else if c.tag == "latest" {
                    Answer {
                        pin: Some(match &a.version_tag {
                            Some(v) => ResolvedPin {
                                pin: format!("{v}@{}", a.digest),
                                note: None,
                            },
                            None => ResolvedPin {
                                pin: format!("latest@{}", a.digest),
                                note: Some(
                                    "no version tag has the digest of `latest`, so the digest is pinned after `latest`"
                                        .into(),
                                ),
                            },
                        }),
                        current: None,
                    }
                } else {
                    Answer {
                        pin: Some(ResolvedPin {
                            pin: format!("{}@{}", c.tag, a.digest),
                            note: None,
                        }),
                        current: None,
                    }
                })
            }
        };
        answers.insert(written, answer);
    }
    Lookups {
        answers,
        facts: Arc::new(facts),
        update_pins: options.update_pins,
        everywhere: false,
    }
}

/// Ask the registries about `coords`, at most [`CONCURRENCY`] at a time.
fn fetch_all(
    coords: &[Coord],
    wants_facts: &BTreeMap<String, Vec<String>>,
    options: &ResolveOptions,
) -> Vec<(Coord, Result<TagAnswer, String>)> {
    let docker = match credentials::DockerConfig::load() {
        Ok(d) => d,
        Err(e) => {
            return coords
                .iter()
                .map(|c| (c.clone(), Err(format!("{e:#}"))))
                .collect()
        }
    };
    let hosts: Vec<String> = coords
        .iter()
        .map(|c| c.registry.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => return coords.iter().map(|c| (c.clone(), Err(e.clone()))).collect(),
    };
    let client_options = client::Options {
        insecure: options.insecure.clone(),
        backoff: options.backoff,
        ..client::Options::default()
    };
    runtime.block_on(async {
        let fetcher = client::Fetcher::new(&hosts, docker, &client_options);
        let fetcher = &fetcher;
        futures_util::stream::iter(coords.iter().cloned())
            .map(|c| async move {
                let facts = wants_facts.get(&c.key()).map(Vec::as_slice);
                let r = fetch_one(fetcher, &c, facts)
                    .await
                    .map_err(|e| format!("registry `{}`: {e}", c.registry));
                (c, r)
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await
    })
}

/// `facts`: read the image's facts, unless its digest is one of these (the local engine has that
/// image and gives them).
async fn fetch_one(
    f: &client::Fetcher,
    c: &Coord,
    facts: Option<&[String]>,
) -> Result<TagAnswer, String> {
    let r = c.reference();
    let m = f.manifest(&r).await?;
    let version_tag = if c.tag == "latest" {
        f.version_tag(&r, &m.digest).await?
    } else {
        None
    };
    let facts = if facts.is_some_and(|local| !local.contains(&m.digest)) {
        let (config, layers) = f.config(&r, &m).await?;
        let mut facts = client::facts_of(&config);
        // What its entrypoint script shows (root images only; within the layer budget).
        let blobs = client::ImageBlobs {
            fetcher: f,
            reference: &r,
        };
        if let Some(script) = scan::facts(&blobs, &layers, &config).await? {
            facts.overlay(&script);
        }
        Some(facts)
    } else {
        None
    };
    let _ = &m.media_type;
    Ok(TagAnswer {
        digest: m.digest,
        version_tag,
        facts,
    })
}

/// Whether the file under `config` is resolved in this run.
pub fn wanted(args: &crate::cli::CommonArgs, config: &crate::config::Config) -> bool {
    args.resolve || args.offline || config.file.resolve == Some(true)
}

/// The recording pass over one file: note the references the pinning rules ask about.
pub fn record(
    config: &crate::config::Config,
    kind: Option<dockharden_transforms::source::FileKind>,
    text: &str,
    recorder: &Recorder,
) {
    let Some(kind) = crate::run::resolve_kind(kind, text) else {
        return;
    };
    // The pinning rules name every image reference, also when the run does not select them:
    // the facts read from the registry serve the other rules (`--select DC002 --resolve`).
    let transforms = dockharden_transforms::registry::all()
        .into_iter()
        .filter(|t| ["DF003", "DC013", "K8S010"].contains(&t.code()))
        .collect();
    let engine = dockharden_transforms::engine::Engine {
        base_services: None,
        transforms,
        settings: &config.file.options,
        resolver: recorder,
        workspace: &dockharden_transforms::settings::NoWorkspace,
        path: None,
    };
    // A file that does not parse is reported by the run proper.
    let _ = engine.check(kind, text);
}

/// The options of this run's look-ups.
pub fn options(
    args: &crate::cli::CommonArgs,
    insecure_from_configs: impl IntoIterator<Item = String>,
) -> ResolveOptions {
    let mut insecure = args.insecure_registry.clone();
    insecure.extend(insecure_from_configs);
    insecure.sort();
    insecure.dedup();
    let backoff = std::env::var("DOCKHARDEN_REGISTRY_BACKOFF_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_millis(500), Duration::from_millis);
    let engine = engine::endpoint_from_env();
    ResolveOptions {
        offline: args.offline,
        max_age: Duration::from_secs(args.cache_max_age),
        insecure,
        update_pins: args.update_pins,
        backoff,
        cache_dir: cache::dir(),
        engine: engine.clone().ok().flatten(),
        engine_skipped: engine.err(),
        verbose: args.verbose,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_normalisation() {
        let c = |s: &str| Coord::of(&ImageName::parse(s)).map(|c| c.key());
        assert_eq!(
            c("nginx").as_deref(),
            Some("docker.io/library/nginx:latest")
        );
        assert_eq!(
            c("docker.io/library/nginx:1.27").as_deref(),
            Some("docker.io/library/nginx:1.27")
        );
        assert_eq!(
            c("index.docker.io/bitnami/redis:7").as_deref(),
            Some("docker.io/bitnami/redis:7")
        );
        assert_eq!(
            c("localhost:5000/app:1@sha256:ab").as_deref(),
            Some("localhost:5000/app:1")
        );
        assert_eq!(c("app@sha256:ab"), None);
        assert_eq!(c("Not An Image"), None);
    }

    #[test]
    fn engine_names_and_repo_digests() {
        let n = |s: &str| engine_name(&ImageName::parse(s));
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            n("localapp:dev").as_deref(),
            Some("docker.io/library/localapp:dev")
        );
        assert_eq!(
            n(&format!("app@{d}")),
            Some(format!("docker.io/library/app@{d}"))
        );
        assert_eq!(
            n(&format!("localhost:5000/team/app:1@{d}")),
            Some(format!("localhost:5000/team/app@{d}"))
        );
        assert_eq!(n("app@sha256:abc"), None);
        assert_eq!(n("Not An Image"), None);
        let inspect = engine::Inspect {
            repo_digests: Some(vec![
                format!("nginx@{d}"),
                "localhost:5000/nginx@sha256:other".into(),
            ]),
            ..engine::Inspect::default()
        };
        assert_eq!(
            repo_digests(&inspect, "docker.io", "library/nginx"),
            vec![d.clone()]
        );
        assert_eq!(
            repo_digests(&inspect, "localhost:5000", "nginx"),
            vec!["sha256:other".to_owned()]
        );
        assert!(repo_digests(&inspect, "docker.io", "library/myapp").is_empty());
    }

    #[test]
    fn offline_without_cache_is_an_error_per_image() {
        let dir = tempfile::tempdir().unwrap();
        let refs: BTreeSet<String> = ["localhost:1/none:1".to_owned()].into();
        let l = look_up(
            &refs,
            &ResolveOptions {
                offline: true,
                cache_dir: Some(dir.path().to_owned()),
                ..ResolveOptions::default()
            },
        );
        let r = l.resolver();
        assert_eq!(r.pin("localhost:1/none:1"), None);
        let failed = r.failed();
        assert_eq!(failed.len(), 1);
        assert!(failed[0].contains("--offline"), "{failed:?}");
    }
}
