//! A Helm chart's `values.yaml`: where a chart's user hardens it. The chart's templates are not
//! checked (they are not YAML until rendered); its values are, where they follow the common chart
//! layout (`helm create`): a top-level `securityContext` used as the container's security context,
//! `podSecurityContext` as the pod's, `resources` as the container's resources and `image` with
//! `repository`/`tag`. A block is judged only when the chart's templates use it
//! (`.Values.securityContext` ...), so a values file of another layout gets no findings.
//!
//! Findings carry the codes of the Kubernetes rules they stand for, with display-only suggestions:
//! what a value does is decided by the templates, which only `helm template` can render, so a fix
//! here could not be verified.

use crate::finding::Finding;
use crate::fix::Fix;
use crate::kubernetes::{
    allow_privilege_escalation::AllowPrivilegeEscalation,
    capabilities_not_dropped::CapabilitiesNotDropped, missing_resources::MissingResources,
    privileged_container::PrivilegedContainer, runs_as_root::RunsAsRoot,
    unpinned_image::UnpinnedImage, writable_root_filesystem::WritableRootFilesystem,
};
use crate::text::TextRange;
use crate::yaml::{self, Node, YamlError};

/// Which value blocks of the common layout the chart's templates use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValuesUse {
    pub security_context: bool,
    pub pod_security_context: bool,
    pub resources: bool,
    pub image: bool,
}

impl ValuesUse {
    /// What the templates' text refers to (`.Values.securityContext`, `.Values.resources`, ...).
    #[must_use]
    pub fn from_templates(text: &str) -> Self {
        let uses = |key: &str| {
            text.match_indices(key).any(|(i, _)| {
                !text[i + key.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        };
        Self {
            security_context: uses(".Values.securityContext"),
            pod_security_context: uses(".Values.podSecurityContext"),
            resources: uses(".Values.resources"),
            image: uses(".Values.image.tag") || uses(".Values.image"),
        }
    }
}

fn is_true(n: Option<&Node>) -> bool {
    n.and_then(Node::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn finding(
    code: &'static str,
    name: &'static str,
    range: TextRange,
    message: String,
    suggestion: String,
) -> Finding {
    Finding::new(code, name, range, message).with_fix(Fix::display_only(suggestion, Vec::new()))
}

/// The findings of a chart's `values.yaml`, given what its templates use.
///
/// # Errors
/// The file is not YAML.
pub fn check(text: &str, uses: ValuesUse) -> Result<Vec<Finding>, YamlError> {
    let file = yaml::parse(text)?;
    let mut out = Vec::new();
    let Some(doc) = file.documents().into_iter().next() else {
        return Ok(out);
    };
    let root = doc.root();
    let Some(top) = root.as_mapping() else {
        return Ok(out);
    };
    let key_range = |key: &str| top.get(key).map(|e| e.key_range());
    if uses.security_context {
        if let Some(at) = key_range("securityContext") {
            let sc = root.path(&["securityContext"]);
            let get = |k: &[&str]| sc.as_ref().and_then(|n| n.path(k));
            if is_true(get(&["privileged"]).as_ref()) {
                out.push(finding(
                    PrivilegedContainer::CODE,
                    PrivilegedContainer::NAME,
                    at,
                    "values: `securityContext.privileged: true` gives the chart's containers every capability and the host's devices".into(),
                    "Remove `privileged: true` from `securityContext` in values.yaml".into(),
                ));
            }
            let ape = get(&["allowPrivilegeEscalation"]);
            if ape.and_then(|n| n.as_str().map(|v| v.eq_ignore_ascii_case("false"))) != Some(true) {
                out.push(finding(
                    AllowPrivilegeEscalation::CODE,
                    AllowPrivilegeEscalation::NAME,
                    at,
                    "values: `securityContext` does not set `allowPrivilegeEscalation: false` (the chart's containers may gain privileges through setuid binaries)".into(),
                    "Set `allowPrivilegeEscalation: false` under `securityContext` in values.yaml".into(),
                ));
            }
            let drops_all = get(&["capabilities", "drop"])
                .and_then(|n| n.as_sequence().map(|s| s.items()))
                .is_some_and(|items| {
                    items.iter().any(|i| {
                        i.value()
                            .as_str()
                            .is_some_and(|v| v.eq_ignore_ascii_case("ALL"))
                    })
                });
            if !drops_all {
                out.push(finding(
                    CapabilitiesNotDropped::CODE,
                    CapabilitiesNotDropped::NAME,
                    at,
                    "values: `securityContext` does not drop all capabilities (`capabilities.drop: [ALL]`)".into(),
                    "Set `capabilities: {drop: [ALL]}` under `securityContext` in values.yaml (add back what the image needs)".into(),
                ));
            }
            if !is_true(get(&["readOnlyRootFilesystem"]).as_ref()) {
                out.push(finding(
                    WritableRootFilesystem::CODE,
                    WritableRootFilesystem::NAME,
                    at,
                    "values: `securityContext` does not set `readOnlyRootFilesystem: true`".into(),
                    "Set `readOnlyRootFilesystem: true` under `securityContext` in values.yaml (with an emptyDir for what the image writes)".into(),
                ));
            }
            // Non-root: in the container's context, or the pod's when the templates use it.
            let non_root = |n: Option<Node>| {
                n.is_some_and(|n| {
                    is_true(n.path(&["runAsNonRoot"]).as_ref())
                        || n.path(&["runAsUser"])
                            .and_then(|u| u.as_str().and_then(|v| v.parse::<u64>().ok()))
                            .is_some_and(|u| u > 0)
                })
            };
            let pod = uses
                .pod_security_context
                .then(|| root.path(&["podSecurityContext"]))
                .flatten();
            if !non_root(sc.clone()) && !non_root(pod) {
                out.push(finding(
                    RunsAsRoot::CODE,
                    RunsAsRoot::NAME,
                    at,
                    "values: neither `securityContext` nor `podSecurityContext` sets `runAsNonRoot: true` or a non-zero `runAsUser`".into(),
                    "Set `runAsNonRoot: true` and `runAsUser: <uid>` under `securityContext` in values.yaml".into(),
                ));
            }
        }
    }
    if uses.resources {
        if let Some(at) = key_range("resources") {
            let res = root.path(&["resources"]);
            let has = |k: &[&str]| {
                res.as_ref()
                    .and_then(|n| n.path(k))
                    .is_some_and(|n| !n.is_null())
            };
            if !has(&["limits", "memory"]) {
                out.push(finding(
                    MissingResources::CODE,
                    MissingResources::NAME,
                    at,
                    "values: `resources` sets no memory limit (`resources.limits.memory`)".into(),
                    "Set `limits: {memory: …}` (and `requests`) under `resources` in values.yaml"
                        .into(),
                ));
            }
        }
    }
    if uses.image {
        if let Some(tag) = root.path(&["image", "tag"]) {
            if tag
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("latest"))
            {
                out.push(finding(
                    UnpinnedImage::CODE,
                    UnpinnedImage::NAME,
                    tag.range(),
                    "values: `image.tag` is `latest`: every install may pull a different image".into(),
                    "Set `image.tag` to a version in values.yaml (an empty tag uses the chart's `appVersion`)".into(),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCAFFOLD: &str = "image:\n  repository: nginx\n  tag: \"\"\npodSecurityContext: {}\nsecurityContext: {}\n  # capabilities:\n  #   drop:\n  #   - ALL\nresources: {}\n";
    const USES: &str = "securityContext:\n  {{- toYaml .Values.securityContext | nindent 12 }}\nimage: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"\nresources:\n  {{- toYaml .Values.resources | nindent 12 }}\n";

    fn codes(text: &str, uses: ValuesUse) -> Vec<&'static str> {
        check(text, uses).unwrap().iter().map(|f| f.code).collect()
    }

    #[test]
    fn the_helm_create_scaffold_is_reported_where_its_templates_use_the_values() {
        let uses = ValuesUse::from_templates(USES);
        assert!(uses.security_context && uses.resources && uses.image);
        assert!(!uses.pod_security_context);
        assert_eq!(
            codes(SCAFFOLD, uses),
            ["K8S001", "K8S003", "K8S005", "K8S004", "K8S009"]
        );
        // Templates that do not use the blocks: nothing is judged.
        assert!(codes(SCAFFOLD, ValuesUse::default()).is_empty());
        // Every finding is a suggestion: nothing is applied to a values file.
        for f in check(SCAFFOLD, uses).unwrap() {
            assert!(f.fix.as_ref().is_some_and(|x| x.edits.is_empty()));
        }
    }

    #[test]
    fn hardened_values_are_clean() {
        let text = "image:\n  repository: nginx\n  tag: \"1.27\"\nsecurityContext:\n  allowPrivilegeEscalation: false\n  capabilities:\n    drop: [ALL]\n  readOnlyRootFilesystem: true\n  runAsNonRoot: true\n  runAsUser: 101\nresources:\n  limits:\n    memory: 128Mi\n";
        assert!(codes(text, ValuesUse::from_templates(USES)).is_empty());
        let latest = text.replace("\"1.27\"", "latest");
        assert_eq!(codes(&latest, ValuesUse::from_templates(USES)), ["K8S010"]);
    }

    #[test]
    fn the_pod_context_counts_for_non_root_and_privileged_is_reported() {
        let uses = ValuesUse::from_templates(".Values.securityContext .Values.podSecurityContext");
        let text = "podSecurityContext:\n  runAsNonRoot: true\nsecurityContext:\n  privileged: true\n  allowPrivilegeEscalation: false\n  capabilities: {drop: [ALL]}\n  readOnlyRootFilesystem: true\n";
        assert_eq!(codes(text, uses), ["K8S002"]);
        // `.Values.securityContextExtra` is another value.
        assert!(!ValuesUse::from_templates(".Values.securityContextExtra").security_context);
    }
}
