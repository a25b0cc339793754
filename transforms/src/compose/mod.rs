//! docker-compose transforms.

pub mod model;
pub mod scope;

pub mod docker_daemon_tcp_without_tls;
pub mod docker_socket_mount;
pub mod exposed_sensitive_port;
pub mod healthcheck_disabled;
pub mod missing_resource_limits;
pub mod runs_as_root;
pub mod secret_in_environment;
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
    ]
}
