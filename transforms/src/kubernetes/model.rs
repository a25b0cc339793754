//! The Kubernetes view shared by every K8S rule: every pod template of a file (Pod, Deployment,
//! StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, PodTemplate, also inside
//! `kind: List` and in multi-document files) with its containers, their security contexts and
//! semantic paths.
//!
//! A pod or container that is reached through an alias, whose anchor (or an ancestor's) an alias or
//! merge key uses ([`crate::yaml::node_reach`], the same answer the compose rules get), or that uses
//! merge keys is `shared`: editing it would change other places too, so rules report it without a
//! fix.

use crate::fix::SemanticPath;
use crate::knowledge::ImageName;
use crate::needs::Needs;
use crate::paths::{child, node_path};
use crate::registry::Context;
use crate::source::Parsed;
use crate::text::TextRange;
use crate::yaml::{Entry, Item, Mapping, Node, Scalar, Sequence, YamlFile};

/// Workload kinds and the key path from the resource to its pod template (the mapping holding the
/// pod's `metadata` and `spec`). A Pod is its own template.
pub const POD_TEMPLATE_PATHS: &[(&str, &[&str])] = &[
    ("Pod", &[]),
    ("Deployment", &["spec", "template"]),
    ("StatefulSet", &["spec", "template"]),
    ("DaemonSet", &["spec", "template"]),
    ("ReplicaSet", &["spec", "template"]),
    ("ReplicationController", &["spec", "template"]),
    ("Job", &["spec", "template"]),
    ("CronJob", &["spec", "jobTemplate", "spec", "template"]),
    ("PodTemplate", &["template"]),
];

/// How deep `kind: List` items may nest (a List of Lists).
const MAX_LIST_DEPTH: usize = 4;

/// The YAML file of a Kubernetes context.
#[must_use]
pub fn yaml<'a>(ctx: &Context<'a>) -> Option<&'a YamlFile> {
    match ctx.parsed {
        Parsed::Yaml(y) => Some(y),
        Parsed::Dockerfile(_) | Parsed::Script(_) => None,
    }
}

/// One pod template.
#[derive(Clone)]
pub struct Pod {
    /// Document index.
    pub doc: usize,
    /// The workload's kind (`Deployment`, `CronJob`, ...).
    pub kind: String,
    /// The workload's `metadata.name`, if written.
    pub name: Option<String>,
    /// The mapping holding the pod's `metadata` and `spec` (the resource itself for a Pod).
    pub template: Mapping,
    /// The `spec:` entry of the template.
    pub spec_entry: Entry,
    /// The pod spec.
    pub spec: Mapping,
    /// Semantic path of the pod spec.
    pub path: SemanticPath,
    /// Reached through an alias, under an anchor or merge keys: report, never edit.
    pub shared: bool,
    /// The names of a StatefulSet's `volumeClaimTemplates` (mounted like volumes).
    pub claim_templates: Vec<String>,
    /// Its containers, when found already ([`checked_pods`]).
    containers: Option<std::sync::Arc<Vec<Container>>>,
}

/// Which list of the pod spec a container comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContainerKind {
    Container,
    Init,
    /// Ephemeral (debug) containers: reported, never edited (the API does not allow most fields
    /// on them, and they are added by `kubectl debug`, not written in manifests).
    Ephemeral,
}

impl ContainerKind {
    /// The pod spec key of the list.
    #[must_use]
    pub const fn key(self) -> &'static str {
        match self {
            Self::Container => "containers",
            Self::Init => "initContainers",
            Self::Ephemeral => "ephemeralContainers",
        }
    }

    const fn noun(self) -> &'static str {
        match self {
            Self::Container => "container",
            Self::Init => "init container",
            Self::Ephemeral => "ephemeral container",
        }
    }
}

/// One container of a pod template.
#[derive(Clone)]
pub struct Container {
    pub pod: Pod,
    pub kind: ContainerKind,
    /// The container's item in its list.
    pub item: Item,
    pub mapping: Mapping,
    pub name: Option<String>,
    /// Semantic path of the container mapping.
    pub path: SemanticPath,
    /// See [`Pod::shared`].
    pub shared: bool,
}

/// Whether a node can be edited in place: not an alias, nothing else sees it (no alias or merge key
/// reaches it or an ancestor: [`crate::yaml::node_reach`]; an anchor nobody uses is harmless), and
/// (for a mapping) without merge keys, since an own key inserted next to `<<` would hide what the
/// merge gave.
fn plain_node(node: &Node) -> bool {
    if matches!(node, Node::Alias(_)) || !crate::yaml::unshared(node) {
        return false;
    }
    match node {
        Node::Mapping(m) => !m.entries().iter().any(Entry::is_merge),
        _ => true,
    }
}

/// The value at `key` of a mapping as merge keys define it, aliases resolved (for reading; fixes
/// check that what they edit is the mapping's own entry).
#[must_use]
pub fn get_value(m: &Mapping, key: &str) -> Option<Node> {
    m.get_merged(key).and_then(|(e, _)| e.value().resolve())
}

/// A mapping value at `key` (aliases resolved, merges applied).
#[must_use]
pub fn get_mapping(m: &Mapping, key: &str) -> Option<Mapping> {
    match get_value(m, key)? {
        Node::Mapping(x) => Some(x),
        _ => None,
    }
}

/// A sequence value at `key`.
#[must_use]
pub fn get_sequence(m: &Mapping, key: &str) -> Option<Sequence> {
    match get_value(m, key)? {
        Node::Sequence(x) => Some(x),
        _ => None,
    }
}

/// The string of a scalar value at `key`.
#[must_use]
pub fn get_str(m: &Mapping, key: &str) -> Option<String> {
    get_value(m, key).and_then(|n| n.as_str().map(str::to_owned))
}

/// A plain YAML boolean (`true`/`True`/`TRUE`, `false`/...). Quoted strings are not booleans.
#[must_use]
pub fn as_bool(node: &Node) -> Option<bool> {
    let s = node.as_scalar()?;
    if s.style() != crate::yaml::ScalarStyle::Plain {
        return None;
    }
    match s.value() {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A plain YAML integer.
#[must_use]
pub fn as_int(node: &Node) -> Option<i64> {
    let s = node.as_scalar()?;
    if s.style() != crate::yaml::ScalarStyle::Plain {
        return None;
    }
    s.value().parse().ok()
}

/// The boolean at `key` of an optional mapping.
#[must_use]
pub fn bool_at(m: Option<&Mapping>, key: &str) -> Option<bool> {
    m.and_then(|m| get_value(m, key)).and_then(|n| as_bool(&n))
}

/// A Kubernetes resource: a document's root mapping, or an item of a `kind: List`.
#[derive(Clone)]
pub struct Resource {
    pub doc: usize,
    pub mapping: Mapping,
    /// Reached through an alias, anchored or under an anchor, or with merge keys.
    pub shared: bool,
}

/// Every resource of the file (documents, and the items of `List` kinds), in order.
#[must_use]
pub fn resources(file: &YamlFile) -> Vec<Resource> {
    let mut out = Vec::new();
    for doc in file.documents() {
        let root = doc.root();
        if let Some(Node::Mapping(m)) = root.resolve() {
            let shared = !plain_node(&root);
            list_items(&m, doc.index(), shared, 0, &mut out);
        }
    }
    out
}

fn list_items(resource: &Mapping, doc: usize, shared: bool, depth: usize, out: &mut Vec<Resource>) {
    let shared = shared || !plain_node(&resource.as_node());
    let kind = get_str(resource, "kind").unwrap_or_default();
    if kind == "List" || (kind.ends_with("List") && kind.len() > 4) {
        if depth >= MAX_LIST_DEPTH {
            return;
        }
        let Some((items, origin)) = resource.get_merged("items") else {
            return;
        };
        let items_node = items.value();
        let Some(Node::Sequence(seq)) = items_node.resolve() else {
            return;
        };
        let shared = shared || origin != crate::yaml::Origin::Own || !plain_node(&items_node);
        for item in seq.items() {
            let v = item.value();
            if let Some(Node::Mapping(m)) = v.resolve() {
                list_items(&m, doc, shared || !plain_node(&v), depth + 1, out);
            }
        }
        return;
    }
    out.push(Resource {
        doc,
        mapping: resource.clone(),
        shared,
    });
}

/// Every pod template of the file, in document order.
#[must_use]
pub fn pods(file: &YamlFile) -> Vec<Pod> {
    resources(file)
        .into_iter()
        .filter_map(|r| pod_of(&r))
        .collect()
}

fn pod_of(r: &Resource) -> Option<Pod> {
    let resource = &r.mapping;
    let kind = get_str(resource, "kind")?;
    let (_, keys) = POD_TEMPLATE_PATHS.iter().find(|(k, _)| *k == kind)?;
    let mut template = resource.clone();
    let mut shared = r.shared;
    for key in *keys {
        let (entry, origin) = template.get_merged(key)?;
        let v = entry.value();
        shared |= origin != crate::yaml::Origin::Own || !plain_node(&v);
        let Some(Node::Mapping(m)) = v.resolve() else {
            return None;
        };
        template = m;
    }
    let (spec_entry, origin) = template.get_merged("spec")?;
    let v = spec_entry.value();
    shared |= origin != crate::yaml::Origin::Own || !plain_node(&v);
    let Some(Node::Mapping(spec)) = v.resolve() else {
        return None;
    };
    let name = get_mapping(resource, "metadata").and_then(|m| get_str(&m, "name"));
    let claim_templates = get_mapping(resource, "spec")
        .and_then(|s| get_sequence(&s, "volumeClaimTemplates"))
        .map(|s| {
            s.items()
                .iter()
                .filter_map(|i| i.value().resolve())
                .filter_map(|v| get_mapping(v.as_mapping()?, "metadata"))
                .filter_map(|m| get_str(&m, "name"))
                .collect()
        })
        .unwrap_or_default();
    Some(Pod {
        claim_templates,
        doc: r.doc,
        kind,
        name,
        path: node_path(&spec.as_node()),
        template,
        spec_entry,
        spec,
        shared,
        containers: None,
    })
}

/// [`pods`] of the file being checked (`file` is the context's), with their containers: found
/// once per check and shared by the rules (each asks for every pod and its containers).
#[must_use]
pub fn checked_pods<'c>(ctx: &'c Context<'_>, file: &YamlFile) -> &'c [Pod] {
    debug_assert!(yaml(ctx).is_some_and(|f| std::ptr::eq(f, file)));
    ctx.memo.pods.get_or_init(|| {
        pods(file)
            .into_iter()
            .map(|mut pod| {
                pod.containers = Some(std::sync::Arc::new(pod.containers().into_owned()));
                pod
            })
            .collect()
    })
}

impl Pod {
    /// The semantic path of `keys` below the pod spec.
    #[must_use]
    pub fn path(&self, keys: &[&str]) -> SemanticPath {
        child(&self.path, keys)
    }

    /// Where pod-level findings point: the `spec` key of the pod template.
    #[must_use]
    pub fn range(&self) -> TextRange {
        self.spec_entry.key_range()
    }

    /// `Deployment \`web\``.
    #[must_use]
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{} `{n}`", self.kind),
            None => self.kind.clone(),
        }
    }

    /// The pod-level `securityContext`.
    #[must_use]
    pub fn security_context(&self) -> Option<Mapping> {
        get_mapping(&self.spec, "securityContext")
    }

    /// The pod template's `metadata`.
    #[must_use]
    pub fn metadata(&self) -> Option<Mapping> {
        get_mapping(&self.template, "metadata")
    }

    /// Whether the pod can be edited in place.
    #[must_use]
    pub fn editable(&self) -> bool {
        !self.shared && plain_node(&self.spec.as_node())
    }

    /// A Windows pod (`spec.os.name: windows`, a `kubernetes.io/os: windows` node selector, or
    /// Windows security options): the Linux-only security context fields do not apply.
    #[must_use]
    pub fn is_windows(&self) -> bool {
        let os = get_mapping(&self.spec, "os").and_then(|m| get_str(&m, "name"));
        if os.is_some_and(|o| o.eq_ignore_ascii_case("windows")) {
            return true;
        }
        let selector = get_mapping(&self.spec, "nodeSelector").and_then(|m| {
            get_str(&m, "kubernetes.io/os").or_else(|| get_str(&m, "beta.kubernetes.io/os"))
        });
        if selector.is_some_and(|o| o.eq_ignore_ascii_case("windows")) {
            return true;
        }
        self.security_context()
            .is_some_and(|sc| get_value(&sc, "windowsOptions").is_some())
    }

    /// Every container (containers, then init containers, then ephemeral containers).
    #[must_use]
    pub fn containers(&self) -> std::borrow::Cow<'_, [Container]> {
        if let Some(found) = &self.containers {
            return std::borrow::Cow::Borrowed(found.as_slice());
        }
        let mut out = Vec::new();
        for kind in [
            ContainerKind::Container,
            ContainerKind::Init,
            ContainerKind::Ephemeral,
        ] {
            let Some((entry, origin)) = self.spec.get_merged(kind.key()) else {
                continue;
            };
            let list = entry.value();
            let list_shared =
                self.shared || origin != crate::yaml::Origin::Own || !plain_node(&list);
            let Some(Node::Sequence(seq)) = list.resolve() else {
                continue;
            };
            for item in seq.items() {
                let v = item.value();
                let Some(Node::Mapping(mapping)) = v.resolve() else {
                    continue;
                };
                let shared = list_shared || !plain_node(&v);
                out.push(Container {
                    pod: self.clone(),
                    kind,
                    name: get_str(&mapping, "name"),
                    path: node_path(&mapping.as_node()),
                    item,
                    mapping,
                    shared,
                });
            }
        }
        std::borrow::Cow::Owned(out)
    }

    /// The containers a rule fixes (containers and init containers).
    #[must_use]
    pub fn workload_containers(&self) -> Vec<Container> {
        self.containers()
            .iter()
            .filter(|c| c.kind != ContainerKind::Ephemeral)
            .cloned()
            .collect()
    }

    /// The pod's `volumes` list.
    #[must_use]
    pub fn volumes(&self) -> Option<Sequence> {
        get_sequence(&self.spec, "volumes")
    }

    /// The names of the pod's volumes.
    #[must_use]
    pub fn volume_names(&self) -> Vec<String> {
        self.volumes()
            .map(|s| {
                s.items()
                    .iter()
                    .filter_map(|i| i.value().resolve())
                    .filter_map(|v| v.as_mapping().and_then(|m| get_str(m, "name")))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What backs the volume `name`.
    #[must_use]
    pub fn volume_source(&self, name: &str) -> VolumeSource {
        let volume = self.volumes().and_then(|s| {
            s.items()
                .iter()
                .filter_map(|i| i.value().resolve())
                .filter_map(|v| v.as_mapping().cloned())
                .find(|m| get_str(m, "name").as_deref() == Some(name))
        });
        let Some(v) = volume else {
            if self.claim_templates.iter().any(|n| n == name) {
                return VolumeSource::Claim("volumeClaimTemplates");
            }
            return VolumeSource::Missing;
        };
        for e in v.entries() {
            match e.key() {
                "name" => {}
                "emptyDir" => return VolumeSource::EmptyDir,
                "persistentVolumeClaim" => return VolumeSource::Claim("persistentVolumeClaim"),
                "ephemeral" => return VolumeSource::Claim("ephemeral"),
                "csi" => return VolumeSource::Claim("csi"),
                "configMap" | "secret" | "downwardAPI" | "projected" => {
                    return VolumeSource::Projected
                }
                "hostPath" => {
                    let path = get_mapping(&v, "hostPath")
                        .and_then(|h| get_str(&h, "path"))
                        .unwrap_or_default();
                    return VolumeSource::Fixed(format!("hostPath `{path}`"));
                }
                other => return VolumeSource::Fixed(format!("`{other}`")),
            }
        }
        VolumeSource::Fixed("a volume without a source".into())
    }
}

impl Container {
    /// Semantic path of `keys` below the container.
    #[must_use]
    pub fn path(&self, keys: &[&str]) -> SemanticPath {
        child(&self.path, keys)
    }

    /// The container's `securityContext`.
    #[must_use]
    pub fn security_context(&self) -> Option<Mapping> {
        get_mapping(&self.mapping, "securityContext")
    }

    /// A value below the container's `securityContext` (`&["capabilities", "drop"]`).
    #[must_use]
    pub fn sc(&self, keys: &[&str]) -> Option<Node> {
        self.security_context()?.as_node().path(keys)
    }

    /// A value below the pod's `securityContext`.
    #[must_use]
    pub fn pod_sc(&self, keys: &[&str]) -> Option<Node> {
        self.pod.security_context()?.as_node().path(keys)
    }

    /// A field that the container's security context overrides from the pod's (runAsUser,
    /// runAsNonRoot, seccompProfile, ...): the container's if set, else the pod's.
    #[must_use]
    pub fn effective(&self, key: &str) -> Option<Node> {
        self.sc(&[key]).or_else(|| self.pod_sc(&[key]))
    }

    /// The image reference as written.
    #[must_use]
    pub fn image_str(&self) -> Option<String> {
        get_str(&self.mapping, "image")
    }

    /// The `image:` scalar.
    #[must_use]
    pub fn image_scalar(&self) -> Option<Scalar> {
        match get_value(&self.mapping, "image")? {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The parsed image (None when absent or templated).
    #[must_use]
    pub fn image(&self) -> Option<ImageName> {
        let s = self.image_str()?;
        (!ImageName::is_templated(&s) && !s.trim().is_empty()).then(|| ImageName::parse(s.trim()))
    }

    /// A Windows container (its pod is, or its image is a Windows image).
    #[must_use]
    pub fn is_windows(&self) -> bool {
        self.pod.is_windows()
            || self.image().is_some_and(|i| {
                crate::knowledge::family_of(&i) == crate::knowledge::Family::Windows
            })
    }

    /// Whether a rule may edit this container.
    #[must_use]
    pub fn editable(&self) -> bool {
        self.kind != ContainerKind::Ephemeral && !self.shared && plain_node(&self.mapping.as_node())
    }

    /// Where container findings point: its `name` entry, else its first line.
    #[must_use]
    pub fn range(&self) -> TextRange {
        self.mapping
            .get("name")
            .map_or_else(|| self.item.range(), |e| e.range())
    }

    /// `container \`web\` of Deployment \`shop\``.
    #[must_use]
    pub fn label(&self) -> String {
        // Pushed into one string: every finding about a container names it.
        fn named(out: &mut String, what: &str, name: Option<&str>) {
            out.push_str(what);
            if let Some(n) = name {
                out.push_str(" `");
                out.push_str(n);
                out.push('`');
            }
        }
        let mut out = String::with_capacity(64);
        named(&mut out, self.kind.noun(), self.name.as_deref());
        out.push_str(" of ");
        named(&mut out, &self.pod.kind, self.pod.name.as_deref());
        out
    }

    /// Whether the container is configured to run as a non-root user: an effective non-zero
    /// `runAsUser`, or `runAsNonRoot: true` without `runAsUser: 0`.
    #[must_use]
    pub fn runs_as_non_root(&self) -> bool {
        match self.effective("runAsUser").map(|n| as_int(&n)) {
            Some(Some(0)) => false,
            Some(Some(_)) => true,
            Some(None) | None => {
                self.effective("runAsNonRoot").and_then(|n| as_bool(&n)) == Some(true)
            }
        }
    }

    /// The capabilities the `[options.capabilities]` option lists for this container's image (keys: the
    /// image name as written without tag, or its short name).
    #[must_use]
    pub fn configured_capabilities(
        &self,
        settings: &crate::settings::Settings,
    ) -> Option<Vec<String>> {
        let image = self.image()?;
        let written = match &image.registry {
            Some(r) => format!("{r}/{}", image.repository),
            None => image.repository.clone(),
        };
        settings
            .capabilities
            .get(&written)
            .or_else(|| settings.capabilities.get(&image.short()))
            .cloned()
    }

    /// What is known about the container's image (ARCHITECTURE 4b): the configuration's
    /// `[[images]]`, then the knowledge base. A manifest has no build and no `.env`: a reference
    /// with `${...}` or `{{ }}` in it is unknown as far as it cannot be read.
    #[must_use]
    pub fn needs(&self, ctx: &Context<'_>) -> std::sync::Arc<Needs> {
        match self.image_str().filter(|s| !s.trim().is_empty()) {
            // The answer depends on the reference only: one lookup per image and check.
            Some(reference) => ctx.memo.get_or((usize::MAX, reference.clone()), || {
                crate::needs::of_reference(ctx.settings, &reference, &|_| None)
            }),
            None => std::sync::Arc::new(Needs {
                unknown: Some(format!("the {} names no image", self.label())),
                subject: self.name.clone().unwrap_or_else(|| "container".into()),
                ..Needs::default()
            }),
        }
    }

    /// The question that makes a fact about the container's image known (`images.cap-add`, ...),
    /// keyed by the image name; None without a readable image name.
    #[must_use]
    pub fn image_question(
        &self,
        needs: &Needs,
        option: &'static str,
        prompt: String,
    ) -> Option<crate::finding::Need> {
        let image = needs.image.as_ref()?;
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

    /// The container's `volumeMounts` list.
    #[must_use]
    pub fn volume_mounts(&self) -> Option<Sequence> {
        get_sequence(&self.mapping, "volumeMounts")
    }

    /// The container's mounts as far as they can be read.
    #[must_use]
    pub fn mounts(&self) -> Vec<Mount> {
        let Some(seq) = self.volume_mounts() else {
            return Vec::new();
        };
        seq.items()
            .iter()
            .filter_map(|i| i.value().resolve())
            .filter_map(|v| {
                let m = v.as_mapping()?;
                Some(Mount {
                    name: get_str(m, "name")?,
                    path: get_str(m, "mountPath")?,
                    read_only: get_value(m, "readOnly").and_then(|n| as_bool(&n)) == Some(true),
                })
            })
            .collect()
    }

    /// The container ports it declares (`ports[].containerPort`).
    #[must_use]
    pub fn container_ports(&self) -> Vec<i64> {
        get_sequence(&self.mapping, "ports")
            .map(|s| {
                s.items()
                    .iter()
                    .filter_map(|i| i.value().resolve())
                    .filter_map(|v| get_value(v.as_mapping()?, "containerPort"))
                    .filter_map(|n| as_int(&n))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The names and literal values of the container's `env` list (None for `valueFrom`).
    #[must_use]
    pub fn env(&self) -> Vec<(String, Option<String>)> {
        get_sequence(&self.mapping, "env")
            .map(|s| {
                s.items()
                    .iter()
                    .filter_map(|i| i.value().resolve())
                    .filter_map(|v| {
                        let m = v.as_mapping()?;
                        Some((get_str(m, "name")?, get_str(m, "value")))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A `volumeMounts` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub name: String,
    pub path: String,
    pub read_only: bool,
}

/// What backs a pod volume, as far as ownership goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VolumeSource {
    /// `emptyDir`: created world-writable for the pod.
    EmptyDir,
    /// Volumes whose ownership the kubelet adjusts to `fsGroup` (`persistentVolumeClaim`,
    /// `ephemeral`, a StatefulSet `volumeClaimTemplates` entry, inline `csi`): the kind.
    Claim(&'static str),
    /// Volumes the container reads only (`configMap`, `secret`, `downwardAPI`, `projected`).
    Projected,
    /// A host directory or another source `fsGroup` does not change (`hostPath`, `nfs`, ...):
    /// the kind and, for `hostPath`, the host path.
    Fixed(String),
    /// No volume of that name.
    Missing,
}

pub use crate::paths::path_within;

/// Whether a node (a value that a fix edits) can be edited in place.
#[must_use]
pub fn editable_node(node: &Node) -> bool {
    plain_node(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> YamlFile {
        crate::yaml::parse(text).unwrap()
    }

    #[test]
    fn container_labels_name_the_container_and_its_workload() {
        let text = "\
kind: Deployment
metadata: {name: shop}
spec:
  template:
    spec:
      initContainers: [{image: busybox}]
      containers: [{name: web, image: nginx}]
---
kind: Pod
spec:
  containers: [{name: x, image: nginx}]
";
        let labels: Vec<String> = pods(&parse(text))
            .iter()
            .flat_map(|p| {
                p.containers()
                    .iter()
                    .map(Container::label)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(
            labels,
            [
                "container `web` of Deployment `shop`",
                "init container of Deployment `shop`",
                "container `x` of Pod",
            ]
        );
    }

    #[test]
    fn every_workload_kind() {
        let text = "\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: a
    image: nginx
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cj
spec:
  schedule: '* * * * *'
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
            - name: init
              image: busybox
          containers:
            - name: job
              image: busybox
---
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: d
  spec:
    template:
      spec:
        containers: [{name: x, image: y}]
- apiVersion: v1
  kind: Service
  metadata:
    name: s
- apiVersion: v1
  kind: PodTemplate
  metadata:
    name: t
  template:
    spec:
      containers:
      - name: t
        image: z
";
        let file = parse(text);
        let pods = pods(&file);
        let labels: Vec<String> = pods.iter().map(Pod::label).collect();
        assert_eq!(
            labels,
            [
                "Pod `p`",
                "CronJob `cj`",
                "Deployment `d`",
                "PodTemplate `t`"
            ]
        );
        assert_eq!(
            pods[1].path.keys.join("."),
            "spec.jobTemplate.spec.template.spec"
        );
        assert_eq!(pods[1].doc, 1);
        assert_eq!(pods[2].path.keys.join("."), "items.0.spec.template.spec");
        let cj = pods[1].containers();
        assert_eq!(cj.len(), 2);
        assert_eq!(cj[0].kind, ContainerKind::Container);
        assert_eq!(cj[1].kind, ContainerKind::Init);
        assert_eq!(
            cj[1].path.keys.join("."),
            "spec.jobTemplate.spec.template.spec.initContainers.0"
        );
        assert_eq!(cj[1].label(), "init container `init` of CronJob `cj`");
        assert!(pods.iter().all(Pod::editable));
        let d = pods[2].containers();
        assert_eq!(d[0].image_str().as_deref(), Some("y"));
        assert!(d[0].editable());
    }

    #[test]
    fn anchors_make_pods_shared() {
        let text = "\
kind: List
items:
- kind: Pod
  metadata: {name: a}
  spec: &spec
    containers:
    - name: a
      image: nginx
- kind: Pod
  metadata: {name: b}
  spec: *spec
";
        let file = parse(text);
        let pods = pods(&file);
        assert_eq!(pods.len(), 2);
        assert!(pods.iter().all(|p| p.shared));
        assert!(pods[0].containers().iter().all(|c| !c.editable()));
    }

    #[test]
    fn an_anchor_nobody_uses_shares_nothing() {
        let text = "\
kind: Pod
metadata: {name: a}
spec: &spec
  containers:
  - &main
    name: a
    image: nginx
";
        let file = parse(text);
        let pods = pods(&file);
        assert_eq!(pods.len(), 1);
        assert!(!pods[0].shared);
        assert!(pods[0].editable());
        assert!(pods[0].containers().iter().all(Container::editable));
    }

    #[test]
    fn effective_and_windows() {
        let text = "\
kind: Pod
spec:
  os: {name: windows}
  securityContext:
    runAsNonRoot: true
  containers:
  - name: a
    securityContext:
      runAsUser: 0
";
        let file = parse(text);
        let pod = &pods(&file)[0];
        assert!(pod.is_windows());
        let c = &pod.containers()[0];
        assert_eq!(c.effective("runAsUser").and_then(|n| as_int(&n)), Some(0));
        assert_eq!(
            c.effective("runAsNonRoot").and_then(|n| as_bool(&n)),
            Some(true)
        );
    }

    #[test]
    fn volume_sources() {
        let text = "\
kind: StatefulSet
spec:
  template:
    spec:
      containers:
      - name: a
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: cfg, mountPath: /etc/a, readOnly: true}
      volumes:
      - {name: cfg, configMap: {name: a}}
      - {name: scratch, emptyDir: {}}
      - {name: host, hostPath: {path: /srv/a}}
      - {name: claim, persistentVolumeClaim: {claimName: c}}
      - {name: nfs, nfs: {server: s, path: /x}}
  volumeClaimTemplates:
  - metadata: {name: data}
";
        let file = parse(text);
        let pod = &pods(&file)[0];
        assert_eq!(pod.claim_templates, ["data"]);
        assert_eq!(
            pod.volume_source("data"),
            VolumeSource::Claim("volumeClaimTemplates")
        );
        assert_eq!(pod.volume_source("cfg"), VolumeSource::Projected);
        assert_eq!(pod.volume_source("scratch"), VolumeSource::EmptyDir);
        assert_eq!(
            pod.volume_source("host"),
            VolumeSource::Fixed("hostPath `/srv/a`".into())
        );
        assert_eq!(
            pod.volume_source("claim"),
            VolumeSource::Claim("persistentVolumeClaim")
        );
        assert_eq!(
            pod.volume_source("nfs"),
            VolumeSource::Fixed("`nfs`".into())
        );
        assert_eq!(pod.volume_source("nope"), VolumeSource::Missing);
        let mounts = pod.containers()[0].mounts();
        assert_eq!(mounts.len(), 2);
        assert!(!mounts[0].read_only && mounts[1].read_only);
        assert!(path_within("/data/x", "/data/") && !path_within("/database", "/data"));
    }
}
