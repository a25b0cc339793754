//! What a workload's image needs: the one lookup every rule asks before a fix that changes runtime
//! behaviour (ARCHITECTURE 4b). In order, the first that knows wins field by field:
//!
//! 1. the user's `.dockharden.toml` `[[images]]` entries;
//! 2. the image's own build: a compose service's `build:` Dockerfile (final or `target` stage), its
//!    `FROM` chain down to an external image, the `USER` it sets, whether it replaces the
//!    `ENTRYPOINT` or gives a binary file capabilities;
//! 3. the built-in knowledge base ([`crate::images`]);
//! 4. unknown: the rule makes its fix a display-only suggestion and the interactive session asks.
//!
//! Image references are read the way Compose reads them: `${VAR}`, `${VAR:-default}` and friends are
//! resolved from the `.env` file next to the compose file, then from the defaults written in the
//! reference; the shell environment of the run is not used (it is not the deployment's).

use std::collections::BTreeMap;

use crate::dockerfile::analysis::{Analysis, Base, User};
use crate::images::{self, Facts, Known, UserId};
use crate::knowledge::ImageName;
use crate::settings::Settings;

/// What is known about the image a workload runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The image reference as resolved (interpolation applied); None without one, or when it
    /// cannot be resolved.
    pub image: Option<ImageName>,
    /// What is known. None: nothing at all.
    pub facts: Option<Facts>,
    /// Where the facts come from, for messages ("the knowledge base entry `postgres`").
    pub source: String,
    /// Why nothing (or not everything) is known, for messages.
    pub unknown: Option<String>,
    /// How to name the image in a question or in `[[images]]` (`ghcr.io/acme/agent`, or the build's
    /// Dockerfile).
    pub subject: String,
    /// The facts come from the workload's own build (a Dockerfile that replaces the base's
    /// entrypoint or user).
    pub built: bool,
}

impl Needs {
    fn unknown(subject: impl Into<String>, why: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            unknown: Some(why.into()),
            ..Self::default()
        }
    }

    /// The known facts, or empty facts (every field unknown).
    #[must_use]
    pub fn facts(&self) -> std::borrow::Cow<'_, Facts> {
        self.facts.as_ref().map_or_else(
            || std::borrow::Cow::Owned(Facts::default()),
            std::borrow::Cow::Borrowed,
        )
    }

    /// Whether the main process is known to run as a non-root user.
    #[must_use]
    pub fn runs_non_root(&self) -> bool {
        let Some(f) = &self.facts else {
            return false;
        };
        match (&f.user, &f.runs_as, &f.switch_user) {
            (Some(u), _, _) if !is_root_user(u) && !u.contains('$') => true,
            (_, Some(r), Some(s)) if s != "none" => r.uid != 0,
            _ => false,
        }
    }

    /// The phrase naming the source ("(the knowledge base entry `postgres`)"), or "" when unknown.
    #[must_use]
    pub fn because(&self) -> String {
        if self.facts.is_some() && !self.source.is_empty() {
            format!(" ({})", self.source)
        } else {
            String::new()
        }
    }
}

/// What the lookups of one check of one text found, keyed by the workload (a compose service's
/// document and name): every rule asks for the same service, and the answer cannot change within a
/// check (a fix round starts a new one).
#[derive(Default)]
pub struct Memo {
    needs: std::sync::Mutex<std::collections::HashMap<(usize, String), std::sync::Arc<Needs>>>,
    /// The compose file's services, found once per check
    /// ([`crate::compose::model::checked_services`]: every compose rule asks).
    pub(crate) services: std::cell::OnceCell<Vec<crate::compose::model::Service>>,
    /// The manifest's pod templates with their containers, found once per check
    /// ([`crate::kubernetes::model::checked_pods`]).
    pub(crate) pods: std::cell::OnceCell<Vec<crate::kubernetes::model::Pod>>,
}

impl Memo {
    /// The cached answer for `key`, or `compute`'s (then cached). Shared, not copied: every rule
    /// asks about every service or container.
    pub fn get_or(
        &self,
        key: (usize, String),
        compute: impl FnOnce() -> Needs,
    ) -> std::sync::Arc<Needs> {
        if let Some(hit) = self.needs.lock().expect("needs memo").get(&key) {
            return hit.clone();
        }
        let value = std::sync::Arc::new(compute());
        self.needs
            .lock()
            .expect("needs memo")
            .insert(key, value.clone());
        value
    }
}

/// Whether a `USER`/`user:` value is root (`root`, `0`, `0:0`, `ContainerAdministrator`).
#[must_use]
pub fn is_root_user(user: &str) -> bool {
    let name = user.trim().split(':').next().unwrap_or("");
    name.is_empty()
        || name == "root"
        || (name.chars().all(|c| c.is_ascii_digit()) && name.parse::<u64>() == Ok(0))
        || name.eq_ignore_ascii_case("ContainerAdministrator")
}

/// Resolve Compose interpolation in `text` (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
/// `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?err}`, `${VAR?err}`, `$$`), defaults nested. None when a
/// variable has no value and no default.
#[must_use]
pub fn interpolate(text: &str, var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            let ch = text[i..].chars().next()?;
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        match b.get(i + 1) {
            Some(b'$') => {
                out.push('$');
                i += 2;
            }
            Some(b'{') => {
                // Find the matching brace (defaults may nest `${...}`).
                let mut depth = 0;
                let mut j = i + 1;
                let mut end = None;
                while j < b.len() {
                    match b[j] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(j);
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let end = end?;
                let inner = &text[i + 2..end];
                out.push_str(&expand_braced(inner, var)?);
                i = end + 1;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                out.push_str(&var(&text[i + 1..j])?);
                i = j;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Some(out)
}

fn expand_braced(inner: &str, var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, rest) = inner.split_at(name_end);
    if name.is_empty() {
        return None;
    }
    let value = var(name);
    let (op, arg) = if let Some(a) = rest.strip_prefix(":-") {
        (":-", a)
    } else if let Some(a) = rest.strip_prefix(":+") {
        (":+", a)
    } else if let Some(a) = rest.strip_prefix(":?") {
        (":?", a)
    } else if let Some(a) = rest.strip_prefix('-') {
        ("-", a)
    } else if let Some(a) = rest.strip_prefix('+') {
        ("+", a)
    } else if let Some(a) = rest.strip_prefix('?') {
        ("?", a)
    } else if rest.is_empty() {
        ("", "")
    } else {
        return None;
    };
    match op {
        "" | ":?" | "?" => value,
        ":-" => match value {
            Some(v) if !v.is_empty() => Some(v),
            _ => interpolate(arg, var),
        },
        "-" => match value {
            Some(v) => Some(v),
            None => interpolate(arg, var),
        },
        ":+" => match value {
            Some(v) if !v.is_empty() => interpolate(arg, var),
            _ => Some(String::new()),
        },
        "+" => match value {
            Some(_) => interpolate(arg, var),
            None => Some(String::new()),
        },
        _ => None,
    }
}

/// The variables of a `.env` file: `KEY=value` lines (`export` allowed), `#` comments, single- or
/// double-quoted values, ` #` comments after unquoted values.
#[must_use]
pub fn parse_dotenv(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let key = k.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let v = v.trim();
        let value = if let Some(q) = v.strip_prefix('"') {
            q.split_once('"').map_or(q, |(a, _)| a).to_owned()
        } else if let Some(q) = v.strip_prefix('\'') {
            q.split_once('\'').map_or(q, |(a, _)| a).to_owned()
        } else {
            v.split_once(" #").map_or(v, |(a, _)| a).trim().to_owned()
        };
        out.insert(key.to_owned(), value);
    }
    out
}

/// What is known about an image reference (interpolation already resolved).
#[must_use]
pub fn of_image(settings: &Settings, image: &ImageName) -> Needs {
    let subject = subject_of(image);
    match images::lookup(&settings.images, image) {
        Some(known) => from_known(image, subject, known),
        None if settings
            .read_facts
            .contains_key(&images::registry_key(image)) =>
        {
            // Lower priority than the knowledge base and the configuration: read from the image
            // itself (`--resolve`: in its registry or the local Docker Engine), only what its
            // config and entrypoint script prove. Only the script gives `switch-user` (see
            // `crate::entrypoint`).
            let read = settings.read_facts[&images::registry_key(image)].clone();
            let what = if read.facts.switch_user.is_some() {
                "the image config and entrypoint script"
            } else {
                "the image config"
            };
            let place = match read.from {
                images::ReadFrom::Registry => "in its registry",
                images::ReadFrom::Engine => "in the local Docker Engine",
            };
            Needs {
                image: Some(image.clone()),
                facts: Some(read.facts),
                source: format!("{what} of `{}` {place}", image.short()),
                unknown: None,
                subject,
                built: false,
            }
        }
        None => Needs {
            image: Some(image.clone()),
            ..Needs::unknown(
                subject.clone(),
                format!("`{subject}` is not in the knowledge base or in the configuration's `[[images]]`"),
            )
        },
    }
}

fn subject_of(image: &ImageName) -> String {
    match &image.registry {
        Some(r) => format!("{r}/{}", image.repository),
        None => image.repository.clone(),
    }
}

fn from_known(image: &ImageName, subject: String, known: Known) -> Needs {
    let source = match (known.entries.first(), known.from_config) {
        (_, true) if known.matched.is_none() => "your configuration's `[[images]]`".to_owned(),
        (Some(_), true) => format!(
            "the knowledge base entry {} and your configuration",
            known.label()
        ),
        (Some(_), false) => format!("the knowledge base entry {}", known.label()),
        (None, _) => String::new(),
    };
    let unknown = (known.tag == images::Tag::Unresolved).then(|| {
        "its tag cannot be resolved, so facts that differ between tags are unknown".into()
    });
    Needs {
        image: Some(image.clone()),
        facts: Some(known.facts),
        source,
        unknown,
        subject,
        built: false,
    }
}

/// What is known about a reference as written in a compose file or manifest, `${...}` resolved
/// through `vars` and the defaults in the reference.
#[must_use]
pub fn of_reference(
    settings: &Settings,
    reference: &str,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Needs {
    let reference = reference.trim();
    if reference.contains("{{") {
        return Needs::unknown(reference, "the image reference is a template");
    }
    let resolved = if reference.contains('$') {
        match interpolate(reference, vars) {
            Some(r) if !r.trim().is_empty() => r.trim().to_owned(),
            _ => {
                // The name may still be readable with only the tag unresolved (`postgres:${V}`).
                let image = ImageName::parse(reference);
                if !image.repository.contains('$')
                    && image.registry.as_deref().is_none_or(|r| !r.contains('$'))
                {
                    return of_image(settings, &image);
                }
                return Needs::unknown(
                    reference,
                    format!("the image reference `{reference}` cannot be resolved (no value in `.env` and no default)"),
                );
            }
        }
    } else {
        reference.to_owned()
    };
    let image = ImageName::parse(&resolved);
    if !image.is_well_formed() {
        return Needs::unknown(resolved, "the image reference is not well formed");
    }
    of_image(settings, &image)
}

/// What is known about the image built from `dockerfile` (its text, `display` its path for messages),
/// at `target` (a stage name; None: the last stage), with the build `args`.
#[must_use]
pub fn of_dockerfile(
    settings: &Settings,
    dockerfile: &str,
    display: &str,
    target: Option<&str>,
    args: &BTreeMap<String, String>,
) -> Needs {
    let Ok(df) = crate::dockerfile::syntax::parse(dockerfile) else {
        return Needs::unknown(
            display,
            format!("its Dockerfile `{display}` does not parse"),
        );
    };
    let a = Analysis::new_with_args(&df, args);
    let stage = match target {
        Some(t) => match a
            .stages
            .iter()
            .position(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(t)))
        {
            Some(s) => s,
            None => {
                return Needs::unknown(
                    display,
                    format!("its Dockerfile `{display}` has no stage `{t}`"),
                )
            }
        },
        None => match a.final_stage() {
            Some(s) => s,
            None => return Needs::unknown(display, format!("`{display}` has no FROM")),
        },
    };
    let base = a.root_base(stage).clone();
    let mut needs = match &base {
        Base::Image(image) => of_image(settings, image),
        Base::Scratch => Needs {
            facts: Some(Facts {
                family: Some("scratch".into()),
                user: Some("root".into()),
                cap_add: Some(Vec::new()),
                http_clients: Some(Vec::new()),
                ..Facts::default()
            }),
            source: "`FROM scratch`".into(),
            ..Needs::default()
        },
        Base::Unresolved(text) => Needs::unknown(
            display,
            format!("the base image `{text}` of `{display}` cannot be resolved"),
        ),
        Base::Stage(_) => unreachable!("the root of a chain is not a stage"),
    };
    needs.subject = display.to_owned();
    needs.built = true;
    let base_name = match &base {
        Base::Image(i) => format!("`{}`", subject_of(i)),
        Base::Scratch => "`scratch`".into(),
        Base::Unresolved(t) => format!("`{t}`"),
        Base::Stage(_) => String::new(),
    };
    let body = a.chain_body(stage);
    let entrypoint = body.iter().any(|(_, i)| i.keyword == "ENTRYPOINT");
    let setcap = a.run_programs(stage).iter().any(|p| p == "setcap");
    let user = a.user_text(stage);
    let Some(mut facts) = needs.facts.take() else {
        // Unknown base: only a non-root USER of the build's own says something.
        needs.unknown = needs
            .unknown
            .or_else(|| Some(format!("its base image {base_name} is unknown")));
        return needs;
    };
    if entrypoint {
        // The base's entrypoint no longer runs: what it did at start is not what this image does.
        for_new_entrypoint(&mut facts);
    }
    if setcap {
        facts.cap_add = None;
    }
    match (user, a.user(stage)) {
        (Some(u), User::NonRoot) => {
            let created = a.created_users(stage);
            let name = u.split(':').next().unwrap_or("").to_owned();
            let uid = name.parse::<u32>().ok().or_else(|| {
                created
                    .iter()
                    .find(|c| c.name == name)
                    .and_then(|c| c.uid)
                    .or_else(|| {
                        facts
                            .runs_as
                            .as_ref()
                            .filter(|r| r.name.as_deref() == Some(name.as_str()))
                            .map(|r| r.uid)
                    })
            });
            facts.user = Some(u.clone());
            facts.switch_user = Some("none".into());
            facts.needs_root = None;
            facts.runs_as = uid.map(|uid| UserId {
                name: Some(name.clone()).filter(|n| n.parse::<u32>().is_err()),
                uid,
                gid: u
                    .split(':')
                    .nth(1)
                    .and_then(|g| g.parse().ok())
                    .unwrap_or(uid),
            });
            facts.user_override = uid.map(|_| u.clone());
            needs.source = format!(
                "its Dockerfile `{display}` (`USER {u}` on {base_name}{})",
                if needs.source.is_empty() {
                    String::new()
                } else {
                    format!(", {}", needs.source)
                }
            );
        }
        (Some(u), User::Root(_)) => {
            facts.user = Some(u);
            needs.source = format!(
                "its Dockerfile `{display}` on {base_name} ({})",
                needs.source
            );
        }
        (Some(_), _) => {
            // `USER $VAR`: who it runs as is unknown.
            for_unknown_user(&mut facts);
            needs.source = format!(
                "its Dockerfile `{display}` on {base_name} ({})",
                needs.source
            );
        }
        (None, _) => {
            needs.source = format!(
                "its Dockerfile `{display}` on {base_name} ({})",
                needs.source
            );
        }
    }
    needs.facts = Some(facts);
    needs
}

/// Whether the program a stage starts needs to start as root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// It needs root at start (why): it switches users itself, or its job needs root.
    NeedsRoot(String),
    /// Nothing it starts is known to need root: the base's entrypoint (when kept) is known not to
    /// switch users, and its own programs and entrypoint scripts need no root.
    NoRoot,
    /// Not known (why): an entrypoint script that cannot be read, a base image whose entrypoint
    /// is unknown.
    Unknown(String),
}

/// What the final (or `stage`) image starts and whether that needs root: its own `ENTRYPOINT` /
/// `CMD` programs (root daemons, user-switching tools), the entrypoint scripts it copies from the
/// build context (`read` reads a path relative to the context), and, when it keeps its base
/// image's entrypoint, what the knowledge base says about that.
#[must_use]
pub fn start_of(
    settings: &Settings,
    a: &Analysis<'_>,
    stage: usize,
    read: &dyn Fn(&str) -> Option<String>,
) -> Start {
    use crate::dockerfile::syntax::Args;
    use crate::knowledge::{PRIVILEGE_DROP_TOOLS, ROOT_PROGRAMS, ROOT_START_SERVERS};
    let needs_root = |word: &str| -> Option<String> {
        let base = word.rsplit(['/', '\\']).next().unwrap_or(word);
        if let Some(t) = PRIVILEGE_DROP_TOOLS.iter().find(|t| {
            base.strip_prefix(**t)
                .is_some_and(|r| r.is_empty() || r.starts_with('-'))
        }) {
            return Some(format!(
                "it switches users itself (`{t}`), so it must start as root"
            ));
        }
        if ROOT_START_SERVERS.contains(&base) {
            return Some(format!(
                "`{base}` starts as root and switches to its own worker user"
            ));
        }
        ROOT_PROGRAMS
            .contains(&base)
            .then(|| format!("it runs `{base}`, which needs root"))
    };
    let body = a.chain_body(stage);
    // Its own programs, in RUN (a user-switching tool installed), ENTRYPOINT and CMD.
    for (_, ins) in &body {
        let why = match ins.keyword.as_str() {
            "RUN" => crate::dockerfile::analysis::run_commands(ins)
                .iter()
                .flatten()
                .filter(|w| crate::knowledge::contains_any(w, PRIVILEGE_DROP_TOOLS))
                .find_map(|w| needs_root(w)),
            "ENTRYPOINT" | "CMD" => match &ins.args {
                Args::Json(j) => j.items.iter().find_map(|i| needs_root(&i.value)),
                Args::Shell(_) => ins.shell_words().iter().find_map(|w| needs_root(&w.value)),
            },
            _ => continue,
        };
        if let Some(why) = why {
            return Start::NeedsRoot(why);
        }
    }
    for p in a.start_programs(stage) {
        if let Some(why) = needs_root(&p) {
            return Start::NeedsRoot(why);
        }
    }
    // Entrypoint scripts it copies from the build context: the program an ENTRYPOINT or CMD
    // starts (its first word, or the word after an init wrapper such as tini), and any `*.sh`.
    let started: Vec<String> = body
        .iter()
        .filter(|(_, i)| matches!(i.keyword.as_str(), "ENTRYPOINT" | "CMD"))
        .flat_map(|(_, i)| {
            let words: Vec<String> = match &i.args {
                Args::Json(j) => j.items.iter().map(|x| x.value.clone()).collect(),
                Args::Shell(_) => i.shell_words().iter().map(|w| w.value.clone()).collect(),
            };
            let mut out: Vec<String> = words
                .iter()
                .filter(|w| w.ends_with(".sh"))
                .cloned()
                .collect();
            let first = words
                .iter()
                .position(|w| {
                    let base = w.rsplit('/').next().unwrap_or(w);
                    !matches!(base, "tini" | "dumb-init" | "--" | "-g" | "-s")
                })
                .and_then(|i| words.get(i));
            if let Some(f) = first.filter(|f| f.starts_with('/') || f.starts_with("./")) {
                out.push(f.clone());
            }
            out
        })
        .collect();
    for script in &started {
        let name = script.rsplit('/').next().unwrap_or(script);
        let source = body.iter().rev().find_map(|(_, i)| {
            if !matches!(i.keyword.as_str(), "COPY" | "ADD") || i.flag("from").is_some() {
                return None;
            }
            let words: Vec<String> = match &i.args {
                Args::Json(j) => j.items.iter().map(|x| x.value.clone()).collect(),
                Args::Shell(_) => i.shell_words().iter().map(|w| w.value.clone()).collect(),
            };
            let (dest, sources) = words.split_last()?;
            let hit = dest == script
                || (dest.ends_with('/') && format!("{dest}{name}") == *script)
                || (sources.len() == 1
                    && dest.trim_end_matches('/') == script.trim_end_matches('/'));
            let into_dir = dest.ends_with('/') || sources.len() > 1;
            if hit {
                return sources
                    .iter()
                    .find(|s| into_dir && s.rsplit('/').next() == Some(name))
                    .or(sources.first())
                    .cloned();
            }
            if into_dir && script.starts_with(dest.as_str()) {
                return sources
                    .iter()
                    .find(|s| s.rsplit('/').next() == Some(name))
                    .cloned();
            }
            None
        });
        let Some(source) = source else {
            continue;
        };
        let Some(text) = read(&source) else {
            if source.ends_with(".sh") {
                return Start::Unknown(format!("its entrypoint script `{source}` cannot be read"));
            }
            // A program built or downloaded into the context (a binary): it is what runs.
            continue;
        };
        if !source.ends_with(".sh") && !text.starts_with("#!") {
            continue;
        }
        for cmd in crate::dockerfile::analysis::commands(&text) {
            if let Some(why) = cmd.first().and_then(|w| needs_root(w)) {
                return Start::NeedsRoot(format!("its entrypoint script `{source}`: {why}"));
            }
            // `exec gosu app "$@"`, `su-exec`: the tool is an argument.
            if let Some(why) = cmd.iter().skip(1).take(2).find_map(|w| {
                let base = w.rsplit('/').next().unwrap_or(w);
                PRIVILEGE_DROP_TOOLS
                    .contains(&base)
                    .then(|| needs_root(w))
                    .flatten()
            }) {
                return Start::NeedsRoot(format!("its entrypoint script `{source}`: {why}"));
            }
        }
    }
    let own_entrypoint = body.iter().any(|(_, i)| i.keyword == "ENTRYPOINT");
    let own_cmd = body.iter().any(|(_, i)| i.keyword == "CMD");
    if own_entrypoint {
        return Start::NoRoot;
    }
    match a.root_base(stage) {
        Base::Scratch => Start::NoRoot,
        Base::Unresolved(t) => Start::Unknown(format!("its base image `{t}` cannot be resolved")),
        Base::Stage(_) => Start::NoRoot,
        Base::Image(image) => {
            let n = of_image(settings, image);
            let Some(f) = n.facts else {
                return Start::Unknown(format!(
                    "what the entrypoint of its base image `{}` does is not known",
                    n.subject
                ));
            };
            if let Some(why) = f.needs_root {
                return Start::NeedsRoot(format!("`{}` needs root: {why}", n.subject));
            }
            match f.switch_user.as_deref() {
                // A server that switches its own workers matters only when it is what runs.
                Some("master-worker") if own_cmd => Start::NoRoot,
                Some(how) if how != "none" => Start::NeedsRoot(format!(
                    "its base image `{}` starts as root and switches users itself ({how}; {})",
                    n.subject, n.source
                )),
                Some(_) => Start::NoRoot,
                None if f.kind.as_deref() == Some("runtime") => Start::NoRoot,
                None => Start::Unknown(format!(
                    "whether the entrypoint of its base image `{}` switches users is not known",
                    n.subject
                )),
            }
        }
    }
}

/// A build that sets its own `ENTRYPOINT`: what the base's entrypoint did at start is unknown.
fn for_new_entrypoint(f: &mut Facts) {
    f.switch_user = None;
    f.runs_as = None;
    f.user_override = None;
    f.needs_root = None;
    f.cap_add = None;
    f.read_only = None;
    f.read_only_why = None;
    f.tmpfs = None;
    f.tmpfs_exec = None;
    f.read_only_env = None;
    f.writes_when = None;
    f.healthcheck = None;
}

fn for_unknown_user(f: &mut Facts) {
    f.user = None;
    f.runs_as = None;
    f.switch_user = None;
    f.user_override = None;
    f.cap_add = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn interpolation() {
        let v = vars(&[("PG", "16"), ("EMPTY", "")]);
        assert_eq!(interpolate("postgres:${PG}", &v).unwrap(), "postgres:16");
        assert_eq!(
            interpolate("postgres:$PG-alpine", &v).unwrap(),
            "postgres:16-alpine"
        );
        assert_eq!(
            interpolate("${IMAGE:-postgres:${PG:-15}}", &v).unwrap(),
            "postgres:16"
        );
        assert_eq!(interpolate("${EMPTY:-x}", &v).unwrap(), "x");
        assert_eq!(interpolate("${EMPTY-x}", &v).unwrap(), "");
        assert_eq!(interpolate("${NOPE}", &v), None);
        assert_eq!(interpolate("a$$b", &v).unwrap(), "a$b");
        assert_eq!(interpolate("${PG:+set}", &v).unwrap(), "set");
    }

    #[test]
    fn dotenv() {
        let env = parse_dotenv(
            "# c\nexport A=1\nB=\"two words\" # c\nC='x#y'\nD=plain # comment\nbad line\n",
        );
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "two words");
        assert_eq!(env["C"], "x#y");
        assert_eq!(env["D"], "plain");
        assert_eq!(env.len(), 4);
    }

    #[test]
    fn references_resolve_like_compose() {
        let s = Settings::default();
        let none = |_: &str| None;
        let n = of_reference(&s, "${POSTGRES_IMAGE:-postgres:16}", &none);
        assert_eq!(n.image.unwrap().short(), "postgres");
        assert!(n.facts.unwrap().cap_add.is_some());
        // Only the tag is unresolved: the name still finds the entry; tag-dependent facts are
        // unknown.
        let n = of_reference(&s, "postgres:${PG_VERSION}", &none);
        let f = n.facts.unwrap();
        assert!(f.cap_add.is_some() && f.runs_as.is_none());
        let n = of_reference(&s, "${REGISTRY}/app:1", &none);
        assert!(n.facts.is_none() && n.unknown.is_some());
    }

    #[test]
    fn builds_take_the_dockerfile_user_and_entrypoint() {
        let s = Settings::default();
        let args = BTreeMap::new();
        let n = of_dockerfile(
            &s,
            "FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n",
            "web/Dockerfile",
            None,
            &args,
        );
        let f = n.facts.unwrap();
        assert!(f.cap_add.unwrap().contains(&"NET_BIND_SERVICE".to_owned()));
        assert!(n.source.contains("web/Dockerfile"), "{}", n.source);
        // A non-root USER of its own.
        let n = of_dockerfile(
            &s,
            "FROM postgres:16\nUSER postgres\n",
            "db/Dockerfile",
            None,
            &args,
        );
        assert!(n.runs_non_root());
        assert_eq!(n.facts.unwrap().runs_as.unwrap().uid, 999);
        // Its own ENTRYPOINT: what the base did at start is unknown.
        let n = of_dockerfile(
            &s,
            "FROM postgres:16\nENTRYPOINT [\"/start.sh\"]\n",
            "db/Dockerfile",
            None,
            &args,
        );
        assert!(n.facts.unwrap().cap_add.is_none());
        // A target stage, and an unknown base.
        let n = of_dockerfile(
            &s,
            "FROM golang:1.23 AS build\nFROM example/base:1 AS run\nFROM nginx:1.27 AS web\n",
            "Dockerfile",
            Some("run"),
            &args,
        );
        assert!(n.facts.is_none() && n.unknown.unwrap().contains("example/base"));
    }
}
