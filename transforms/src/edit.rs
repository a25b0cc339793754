//! A single text replacement against the original text of a file.

use crate::text::TextRange;

/// Replace `range` of the ORIGINAL text by `replacement`. An empty range inserts; an empty
/// replacement deletes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edit {
    pub range: TextRange,
    pub replacement: String,
}

impl Edit {
    #[must_use]
    pub fn replace(range: TextRange, replacement: impl Into<String>) -> Self {
        Self {
            range,
            replacement: replacement.into(),
        }
    }

    #[must_use]
    pub fn insert(offset: usize, text: impl Into<String>) -> Self {
        Self::replace(TextRange::empty(offset), text)
    }

    #[must_use]
    pub fn delete(range: TextRange) -> Self {
        Self::replace(range, String::new())
    }

    #[must_use]
    pub fn is_noop(&self, text: &str) -> bool {
        self.range.slice(text) == self.replacement
    }
}
