//! Kubernetes workload transforms.

use crate::registry::Transform;

/// The Kubernetes transforms.
#[must_use]
pub fn transforms() -> Vec<&'static dyn Transform> {
    vec![]
}
