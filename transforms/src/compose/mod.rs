//! docker-compose transforms.

pub mod hardening;
pub mod model;
pub mod scope;

pub mod docker_daemon_tcp_without_tls;
pub mod docker_socket_mount;
pub mod exposed_sensitive_port;
pub mod healthcheck_disabled;
pub mod host_namespace;
pub mod host_or_default_network;
pub mod missing_cap_drop;
pub mod missing_no_new_privileges;
pub mod missing_resource_limits;
pub mod privileged_service;
pub mod runs_as_root;
pub mod secret_in_environment;
pub mod security_profile_disabled;
pub mod unpinned_image;
pub mod writable_config_mount;
pub mod writable_root_filesystem;

use crate::registry::Transform;

/// The compose transforms.
#[must_use]
pub fn transforms() -> Vec<&'static dyn Transform> {
    vec![
        &docker_socket_mount::DockerSocketMount,
        &runs_as_root::RunsAsRoot,
        &unpinned_image::UnpinnedImage,
        &exposed_sensitive_port::ExposedSensitivePort,
        &docker_daemon_tcp_without_tls::DockerDaemonTcpWithoutTls,
        &healthcheck_disabled::HealthcheckDisabled,
        &writable_root_filesystem::WritableRootFilesystem,
        &writable_config_mount::WritableConfigMount,
        &missing_resource_limits::MissingResourceLimits,
        &secret_in_environment::SecretInEnvironment,
        &missing_cap_drop::MissingCapDrop,
        &missing_no_new_privileges::MissingNoNewPrivileges,
        &privileged_service::PrivilegedService,
        &host_namespace::HostNamespace,
        &host_or_default_network::HostOrDefaultNetwork,
        &security_profile_disabled::SecurityProfileDisabled,
    ]
}
