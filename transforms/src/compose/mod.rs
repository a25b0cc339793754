//! docker-compose transforms.

pub mod model;

pub mod docker_daemon_tcp_without_tls;
pub mod docker_socket_mount;
pub mod exposed_sensitive_port;
pub mod healthcheck_disabled;
pub mod runs_as_root;
pub mod unpinned_image;

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
    ]
}
