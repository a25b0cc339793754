//! The compose view shared by every DC rule: services with their (merged) keys, where each key really
//! lives (own entry or an anchor other services share), and semantic paths for verification.

use crate::fix::SemanticPath;
use crate::knowledge::ImageName;
use crate::registry::Context;
use crate::source::Parsed;
use crate::text::TextRange;
use crate::yaml::{Entry, Mapping, Node, Origin, YamlFile};

/// One service of a compose file.
#[derive(Clone)]
pub struct Service {
    pub name: String,
    /// Document index (compose files have one, but YAML allows several).
    pub doc: usize,
    /// The service's `name:` entry under `services:`.
    pub entry: Entry,
    /// The service mapping (aliases resolved).
    pub mapping: Mapping,
    /// Flow and block sequences that are values of keys of the service mappings of this document,
    /// counted once per document (the list style new lists follow when the service has none).
    pub doc_sequences: (usize, usize),
    /// [`crate::compose::hardening::is_windows`], answered once for the clones of this service
    /// (the rules of one check share them; five of them ask).
    pub(crate) windows: std::sync::Arc<std::sync::OnceLock<bool>>,
}

/// Flow and block sequences that are values of the keys of `m`.
#[must_use]
pub fn sequence_styles(m: &Mapping) -> (usize, usize) {
    let (mut flow, mut block) = (0usize, 0usize);
    for e in m.entries() {
        if let Node::Sequence(s) = e.value() {
            if s.is_flow() {
                flow += 1;
            } else {
                block += 1;
            }
        }
    }
    (flow, block)
}

impl Service {
    /// A key as merge keys define it: own entry first, then `<<` sources.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<(Entry, Origin)> {
        self.mapping.get_merged(key)
    }

    /// The value of a key with aliases resolved.
    #[must_use]
    pub fn value(&self, key: &str) -> Option<Node> {
        self.get(key).and_then(|(e, _)| e.value().resolve())
    }

    /// The scalar text of a key (`image`, `user`, ...).
    #[must_use]
    pub fn str(&self, key: &str) -> Option<String> {
        self.value(key).and_then(|n| n.as_str().map(str::to_owned))
    }

    /// The image reference, parsed (None without `image:` or when it is interpolated).
    #[must_use]
    pub fn image(&self) -> Option<ImageName> {
        let s = self.str("image")?;
        (!ImageName::is_templated(&s)).then(|| ImageName::parse(&s))
    }

    /// What is known about the image this service runs (see [`crate::needs`]): its `build:`
    /// Dockerfile when it has one, else its `image:` reference, with `${...}` resolved from the
    /// `.env` file next to the compose file and the defaults written in the reference; the
    /// configuration's `[[images]]` entry for its `image:` name is laid over either.
    #[must_use]
    pub fn needs(&self, ctx: &Context<'_>) -> std::sync::Arc<crate::needs::Needs> {
        ctx.memo
            .get_or((self.doc, self.name.clone()), || self.lookup(ctx))
    }

    fn lookup(&self, ctx: &Context<'_>) -> crate::needs::Needs {
        use crate::needs::{interpolate, of_dockerfile, of_reference, parse_dotenv, Needs};
        let env = ctx
            .workspace
            .read(".env")
            .map(|t| parse_dotenv(&t))
            .unwrap_or_default();
        let vars = |k: &str| env.get(k).cloned();
        let text = |n: &Node| n.as_str().and_then(|v| interpolate(v, &vars));
        let image = self.str("image");
        let Some(build) = self.value("build") else {
            return match image {
                Some(r) => of_reference(ctx.settings, &r, &vars),
                None => Needs {
                    unknown: Some(format!("service `{}` names no image", self.name)),
                    subject: self.name.clone(),
                    ..Needs::default()
                },
            };
        };
        let (context, dockerfile, inline, target, args) = match &build {
            Node::Mapping(m) => {
                let get = |k: &str| m.get(k).and_then(|e| e.value().resolve());
                let args = match get("args") {
                    Some(Node::Mapping(a)) => a
                        .entries()
                        .iter()
                        .filter_map(|e| Some((e.key().to_owned(), text(&e.value().resolve()?)?)))
                        .collect(),
                    Some(Node::Sequence(a)) => a
                        .items()
                        .iter()
                        .filter_map(|i| {
                            let t = text(&i.value().resolve()?)?;
                            let (k, v) = t.split_once('=')?;
                            Some((k.to_owned(), v.to_owned()))
                        })
                        .collect(),
                    _ => std::collections::BTreeMap::new(),
                };
                (
                    get("context")
                        .and_then(|n| text(&n))
                        .unwrap_or_else(|| ".".into()),
                    get("dockerfile").and_then(|n| text(&n)),
                    get("dockerfile_inline").and_then(|n| n.as_str().map(str::to_owned)),
                    get("target").and_then(|n| text(&n)),
                    args,
                )
            }
            other => (
                text(other).unwrap_or_default(),
                None,
                None,
                None,
                std::collections::BTreeMap::new(),
            ),
        };
        let file = dockerfile.unwrap_or_else(|| "Dockerfile".into());
        let path = if file.starts_with('/') {
            file
        } else {
            format!("{}/{file}", context.trim_end_matches('/'))
        };
        let display = path.strip_prefix("./").unwrap_or(&path).to_owned();
        let source = inline.or_else(|| ctx.workspace.read(&path));
        let mut needs = match source {
            Some(t) => of_dockerfile(ctx.settings, &t, &display, target.as_deref(), &args),
            None => Needs {
                unknown: Some(format!(
                    "service `{}` is built from `{display}`, which cannot be read",
                    self.name
                )),
                subject: display.clone(),
                built: true,
                ..Needs::default()
            },
        };
        // The configuration's own entry for the built image's name wins field by field.
        if let Some(r) = image.and_then(|r| interpolate(&r, &vars)) {
            let name = ImageName::parse(&r);
            if let Some((entry, _)) = ctx
                .settings
                .images
                .iter()
                .find_map(|e| e.names.contains(&name.short()).then_some((e, ())))
            {
                let mut f = needs.facts.take().unwrap_or_default();
                f.overlay(&entry.resolve(&crate::images::Tag::of(&name)));
                needs.facts = Some(f);
                needs.source = if needs.source.is_empty() {
                    "your configuration's `[[images]]`".into()
                } else {
                    format!("{} and your configuration's `[[images]]`", needs.source)
                };
                needs.unknown = None;
            }
        }
        needs
    }

    /// The service's own `user:` when it names a non-root user (not interpolated).
    #[must_use]
    pub fn own_non_root_user(&self) -> Option<String> {
        self.str("user")
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.contains('$') && !crate::needs::is_root_user(u))
    }

    /// The question that makes an unknown fact about this service's image known (asked by
    /// `fix --interactive`, saved as an `[[images]]` entry): None when the service names no image
    /// (a build without `image:` cannot be described by name).
    #[must_use]
    pub fn image_question(
        &self,
        needs: &crate::needs::Needs,
        option: &'static str,
        prompt: String,
    ) -> Option<crate::finding::Need> {
        let image = needs.image.as_ref()?;
        if self.get("build").is_some() && self.str("image").is_none() {
            return None;
        }
        let key = match &image.registry {
            Some(r) => format!("{r}/{}", image.repository),
            None => image.repository.clone(),
        };
        Some(crate::finding::Need {
            option,
            key: Some(key),
            prompt,
            default: None,
        })
    }

    /// The semantic path `services.<name>.<keys...>`.
    #[must_use]
    pub fn path(&self, keys: &[&str]) -> SemanticPath {
        let mut v = vec!["services".to_owned(), self.name.clone()];
        v.extend(keys.iter().map(|k| (*k).to_owned()));
        SemanticPath {
            document: self.doc,
            keys: v,
        }
    }

    /// The service's own range for findings: its key under `services:`.
    #[must_use]
    pub fn key_range(&self) -> TextRange {
        self.entry.key_range()
    }
}

/// What is known about the images of the services named `names` (in `all`): the facts of each,
/// or, for the first service whose image is unknown, why.
pub fn needs_of(
    ctx: &Context<'_>,
    all: &[Service],
    names: &[String],
) -> Vec<(Service, std::sync::Arc<crate::needs::Needs>)> {
    all.iter()
        .filter(|s| names.contains(&s.name))
        .map(|s| (s.clone(), s.needs(ctx)))
        .collect()
}

/// How to add environment variables to a service's own `environment`.
pub enum EnvAddition {
    /// The service has no `environment`: insert this value fragment as a new key.
    NewKey(String),
    /// Edits to the service's own `environment` node (a mapping or a `NAME=value` list).
    Edits(Node, Vec<crate::edit::Edit>),
}

/// Add `vars` (name, value) to the service's environment, in the form it already uses. None when
/// its `environment` is inherited (an anchor, a merge key) or cannot be extended losslessly.
#[must_use]
pub fn env_addition(
    file: &YamlFile,
    svc: &Service,
    vars: &[(String, String)],
) -> Option<EnvAddition> {
    let quote = file.preferred_quote();
    let value = |v: &str| crate::yaml::string_scalar(v, quote, false);
    match svc.get("environment") {
        None => Some(EnvAddition::NewKey(
            vars.iter()
                .map(|(k, v)| format!("{k}: {}", value(v)))
                .collect::<Vec<_>>()
                .join("\n"),
        )),
        Some((e, Origin::Own)) => {
            let node = e.value();
            match &node {
                Node::Mapping(env) if !env.is_empty() => {
                    let entries: Vec<(String, String)> =
                        vars.iter().map(|(k, v)| (k.clone(), value(v))).collect();
                    let edits = crate::compose::scope::insert_entries(file, env, &entries).ok()?;
                    Some(EnvAddition::Edits(node.clone(), edits))
                }
                Node::Sequence(seq) if !seq.is_empty() => {
                    let items: Vec<String> = vars
                        .iter()
                        .map(|(k, v)| value(&format!("{k}={v}")))
                        .collect();
                    let edits = crate::compose::scope::append_items(file, seq, &items).ok()?;
                    Some(EnvAddition::Edits(node.clone(), edits))
                }
                _ => None,
            }
        }
        Some(_) => None,
    }
}

/// The names of the variables a service sets with a non-empty value in `environment`.
#[must_use]
pub fn environment_names(svc: &Service) -> Vec<String> {
    match svc.value("environment") {
        Some(Node::Mapping(m)) => m
            .entries()
            .iter()
            .filter(|e| {
                e.value()
                    .resolve()
                    .and_then(|n| n.as_str().map(|v| !v.is_empty()))
                    .unwrap_or(false)
            })
            .map(|e| e.key().to_owned())
            .collect(),
        Some(Node::Sequence(seq)) => seq
            .items()
            .iter()
            .filter_map(|i| i.value().resolve()?.as_str().map(str::to_owned))
            .filter_map(|t| {
                let (k, v) = t.split_once('=')?;
                (!v.is_empty()).then(|| k.to_owned())
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The YAML file of a compose context.
#[must_use]
pub fn yaml<'a>(ctx: &Context<'a>) -> Option<&'a YamlFile> {
    match ctx.parsed {
        Parsed::Yaml(y) => Some(y),
        Parsed::Dockerfile(_) | Parsed::Script(_) => None,
    }
}

/// [`services`] of the file being checked (`file` is the context's): found once per check and
/// shared by the rules.
#[must_use]
pub fn checked_services(ctx: &Context<'_>, file: &YamlFile) -> Vec<Service> {
    debug_assert!(yaml(ctx).is_some_and(|f| std::ptr::eq(f, file)));
    ctx.memo.services.get_or_init(|| services(file)).clone()
}

/// Every service of every document, in file order.
#[must_use]
pub fn services(file: &YamlFile) -> Vec<Service> {
    let mut out = Vec::new();
    for doc in file.documents() {
        let Some(root) = doc.root().resolve() else {
            continue;
        };
        let Some(root) = root.as_mapping() else {
            continue;
        };
        let Some(services) = root.get("services").and_then(|e| e.value().resolve()) else {
            continue;
        };
        let Some(services) = services.as_mapping() else {
            continue;
        };
        for entry in services.entries() {
            if entry.is_merge() {
                continue;
            }
            let Some(Node::Mapping(mapping)) = entry.value().resolve() else {
                continue;
            };
            out.push(Service {
                name: entry.key().to_owned(),
                doc: doc.index(),
                entry,
                mapping,
                doc_sequences: (0, 0),
                windows: std::sync::Arc::default(),
            });
        }
        let first = out
            .iter()
            .position(|s| s.doc == doc.index())
            .unwrap_or(out.len());
        let total = out[first..]
            .iter()
            .map(|s| sequence_styles(&s.mapping))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        for s in &mut out[first..] {
            s.doc_sequences = total;
        }
    }
    out
}

pub use crate::paths::node_path;

/// The service a semantic path belongs to (`services.<name>....`).
#[must_use]
pub fn path_service(path: &SemanticPath) -> Option<&str> {
    match path.keys.as_slice() {
        [s, name, ..] if s == "services" => Some(name),
        _ => None,
    }
}

/// Whether an edit whose effect is `affected` only touches the services in `wanted` (and, at
/// most, `x-` extension fields that hold the shared anchor).
#[must_use]
pub fn only_touches(affected: &[SemanticPath], wanted: &[&str]) -> bool {
    affected.iter().all(|p| match path_service(p) {
        Some(s) => wanted.contains(&s),
        None => p.keys.first().is_some_and(|k| k.starts_with("x-")),
    })
}

/// The distinct services among `affected`, in order.
#[must_use]
pub fn affected_services(affected: &[SemanticPath]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in affected {
        if let Some(s) = path_service(p) {
            if !out.iter().any(|x| x == s) {
                out.push(s.to_owned());
            }
        }
    }
    out
}

/// "Service `a`" or "Services `a`, `b`".
#[must_use]
pub fn who(services: &[String]) -> String {
    if services.len() == 1 {
        format!("Service `{}`", services[0])
    } else {
        format!(
            "Services {}",
            services
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Helpers for the compose rules' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::finding::Finding;
    use crate::fix::Fix;
    use crate::registry::{Context, Transform};
    use crate::settings::{NoResolver, Settings};
    use crate::source::{parse, FileKind};

    /// Run one transform on a compose text.
    pub(crate) fn check(t: &dyn Transform, text: &str) -> Vec<Finding> {
        let parsed = parse(FileKind::Compose, text).expect("test input parses");
        let settings = Settings::default();
        let ctx = Context {
            text,
            kind: FileKind::Compose,
            parsed: &parsed,
            settings: &settings,
            resolver: &NoResolver,
            workspace: &crate::settings::NoWorkspace,
            memo: &crate::needs::Memo::default(),
            path: None,
        };
        t.check(&ctx)
    }

    /// The text with one fix's edits applied (whatever its applicability).
    pub(crate) fn apply(text: &str, fix: &Fix) -> String {
        crate::apply::apply_fixes(text, &[fix]).text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affected_services_and_only_touches() {
        let text = "x-base: &base\n  user: root\nservices:\n  a:\n    <<: *base\n  b:\n    <<: *base\n    user: \"1000\"\n";
        let file = crate::yaml::parse(text).unwrap();
        let base = file.documents()[0].root().path(&["x-base"]).unwrap();
        let affected = crate::yaml::key_reach(base.as_mapping().unwrap(), "user")
            .into_paths()
            .unwrap();
        assert!(only_touches(&affected, &["a"]));
        assert!(!only_touches(&affected, &["b"]));
        assert_eq!(affected_services(&affected), ["a"]);
    }
}

pub use super::hardening::*;
pub use super::scope::*;
