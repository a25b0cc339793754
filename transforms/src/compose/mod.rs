//! docker-compose transforms.

pub mod model;

pub mod docker_socket_mount;
pub mod missing_resource_limits;
pub mod secret_in_environment;
pub mod writable_config_mount;
pub mod writable_root_filesystem;

use crate::registry::Transform;

/// The compose transforms.
#[must_use]
pub fn transforms() -> Vec<&'static dyn Transform> {
    vec![
        &docker_socket_mount::DockerSocketMount,
        &writable_root_filesystem::WritableRootFilesystem,
        &writable_config_mount::WritableConfigMount,
        &missing_resource_limits::MissingResourceLimits,
        &secret_in_environment::SecretInEnvironment,
    ]
}
