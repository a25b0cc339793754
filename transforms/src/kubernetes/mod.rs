//! Kubernetes workload transforms: the guideline's `securityContext` items, resources, images,
//! secrets and service account tokens, for every pod template of a manifest (see [`model`]).

pub mod image;
pub mod model;
pub mod patch;
pub mod volumes;

pub mod allow_privilege_escalation;
pub mod automount_service_account_token;
pub mod capabilities_not_dropped;
pub mod helm_values;
pub mod host_namespace;
pub mod missing_resources;
pub mod privileged_container;
pub mod runs_as_root;
pub mod runtime_socket_mount;
pub mod seccomp_profile;
pub mod secret_in_env;
pub mod unpinned_image;
pub mod writable_root_filesystem;

use crate::finding::Finding;
use crate::fix::{Applicability, Fix};
use crate::registry::Transform;
use model::{Container, ContainerKind, Pod};
use patch::{Patch, Refusal};

/// The Kubernetes transforms.
#[must_use]
pub fn transforms() -> Vec<&'static dyn Transform> {
    vec![
        &allow_privilege_escalation::AllowPrivilegeEscalation,
        &privileged_container::PrivilegedContainer,
        &capabilities_not_dropped::CapabilitiesNotDropped,
        &runs_as_root::RunsAsRoot,
        &writable_root_filesystem::WritableRootFilesystem,
        &seccomp_profile::SeccompProfile,
        &host_namespace::HostNamespace,
        &runtime_socket_mount::RuntimeSocketMount,
        &missing_resources::MissingResources,
        &unpinned_image::UnpinnedImage,
        &secret_in_env::SecretInEnv,
        &automount_service_account_token::AutomountServiceAccountToken,
    ]
}

/// Turn a finished patch into a fix.
pub(crate) fn make_fix(
    applicability: Applicability,
    title: impl Into<String>,
    patch: Patch,
) -> Result<Fix, Refusal> {
    let (edits, paths) = patch.finish()?;
    let fix = match applicability {
        Applicability::Safe => Fix::safe(title, edits),
        Applicability::Unsafe => Fix::unsafe_(title, edits),
        Applicability::DisplayOnly => Fix::display_only(title, edits),
    };
    Ok(fix.with_changes(paths))
}

/// Attach a fix, or say in the message why there is none.
pub(crate) fn attach(mut finding: Finding, fix: Result<Fix, Refusal>) -> Finding {
    match fix {
        Ok(f) => finding.with_fix(f),
        Err(reason) => {
            finding.message = format!("{} (no automatic fix: {reason})", finding.message);
            finding
        }
    }
}

/// Why a container's own fix cannot be applied, if it cannot.
pub(crate) fn container_refusal(c: &Container) -> Result<(), Refusal> {
    if c.kind == ContainerKind::Ephemeral {
        return Err("ephemeral containers are reported, not edited".into());
    }
    if !c.editable() {
        return Err("the container is shared through a YAML anchor, alias or merge key".into());
    }
    Ok(())
}

/// Why a pod-level fix cannot be applied, if it cannot.
pub(crate) fn pod_refusal(p: &Pod) -> Result<(), Refusal> {
    if !p.editable() {
        return Err("the pod spec is shared through a YAML anchor, alias or merge key".into());
    }
    Ok(())
}
