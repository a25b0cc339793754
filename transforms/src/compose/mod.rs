//! docker-compose transforms.

pub mod model;

pub mod docker_socket_mount;
pub mod host_namespace;
pub mod host_or_default_network;
pub mod missing_cap_drop;
pub mod missing_no_new_privileges;
pub mod privileged_service;
pub mod security_profile_disabled;

use crate::registry::Transform;

/// The compose transforms.
#[must_use]
pub fn transforms() -> Vec<&'static dyn Transform> {
    vec![
        &docker_socket_mount::DockerSocketMount,
        &missing_cap_drop::MissingCapDrop,
        &missing_no_new_privileges::MissingNoNewPrivileges,
        &privileged_service::PrivilegedService,
        &host_namespace::HostNamespace,
        &host_or_default_network::HostOrDefaultNetwork,
        &security_profile_disabled::SecurityProfileDisabled,
    ]
}
