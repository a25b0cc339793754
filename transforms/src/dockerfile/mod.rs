//! Dockerfile syntax and transforms.

pub mod syntax;

pub mod analysis;

pub mod add_instead_of_copy;
pub mod full_base_image;
pub mod missing_healthcheck;
pub mod runs_as_root;

use crate::registry::{Context, Transform};
use crate::source::Parsed;

/// The Dockerfile transforms.
#[must_use]
pub fn transforms() -> Vec<&'static dyn Transform> {
    vec![
        &add_instead_of_copy::AddInsteadOfCopy,
        &runs_as_root::RunsAsRoot,
        &missing_healthcheck::MissingHealthcheck,
        &full_base_image::FullBaseImage,
    ]
}

/// The parsed Dockerfile of a context (None for other kinds).
#[must_use]
pub fn dockerfile<'a>(ctx: &Context<'a>) -> Option<&'a syntax::Dockerfile> {
    match ctx.parsed {
        Parsed::Dockerfile(d) => Some(d),
        Parsed::Yaml(_) => None,
    }
}

/// `word` in the case style of `like` (all lower-case when `like` is, else upper-case).
#[must_use]
pub fn same_case(word: &str, like: &str) -> String {
    if !like.is_empty() && like.chars().all(|c| !c.is_ascii_uppercase()) {
        word.to_ascii_lowercase()
    } else {
        word.to_ascii_uppercase()
    }
}
