//! dockharden's parsers, fix engine and transforms. No file system, network or terminal access here:
//! every function takes text and returns findings and edits.

pub mod apply;
pub mod baseline;
pub mod codes;
pub mod compose;
pub mod dockerfile;
pub mod edit;
pub mod engine;
pub mod entrypoint;
pub mod finding;
pub mod fix;
pub mod images;
pub mod knowledge;
pub mod kubernetes;
pub mod needs;
pub mod paths;
pub mod registry;
pub mod scripts;
pub mod session;
pub mod settings;
pub mod severity;
pub mod source;
pub mod suppression;
pub mod text;
pub mod yaml;

pub use edit::Edit;
pub use finding::Finding;
pub use fix::{Applicability, Fix, SemanticPath};
pub use text::{LineCol, LineIndex, TextRange};

/// Step counters for the tests that check costs grow linearly with the input: they count work
/// (documents loaded, edits compared, scripts lexed), never time. Compiled into test builds only.
#[cfg(test)]
pub(crate) mod work {
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        static COUNTS: RefCell<HashMap<&'static str, usize>> = RefCell::new(HashMap::new());
    }

    pub(crate) fn add(what: &'static str, n: usize) {
        COUNTS.with(|c| *c.borrow_mut().entry(what).or_insert(0) += n);
    }

    /// The count so far on this thread, reset to zero.
    pub(crate) fn take(what: &'static str) -> usize {
        COUNTS.with(|c| c.borrow_mut().remove(what).unwrap_or(0))
    }
}
