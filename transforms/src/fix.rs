//! A fix: a titled, all-or-nothing group of edits with an applicability.

use crate::edit::Edit;
use crate::text::TextRange;

/// How safe it is to apply a fix without a human looking (ruff's model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Applicability {
    /// Needs a value only a human knows; shown, never applied.
    DisplayOnly,
    /// Changes runtime behaviour; applied with `--unsafe-fixes` or after an interactive yes.
    Unsafe,
    /// Cannot break a working container.
    Safe,
}

impl Applicability {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DisplayOnly => "display-only",
            Self::Unsafe => "unsafe",
            Self::Safe => "safe",
        }
    }
}

/// A path into the semantic value of a YAML file that a fix is allowed to change:
/// the document index and the keys (sequence indexes written as decimal strings).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SemanticPath {
    pub document: usize,
    pub keys: Vec<String>,
}

impl SemanticPath {
    #[must_use]
    pub fn new<I, S>(document: usize, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            document,
            keys: keys.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether `keys` (in `document`) is this path or below it.
    #[must_use]
    pub fn covers(&self, document: usize, keys: &[String]) -> bool {
        self.document == document && keys.starts_with(&self.keys)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
    pub applicability: Applicability,
    /// YAML only: the semantic paths this fix may change (checked by verification).
    pub changes: Vec<SemanticPath>,
}

impl Fix {
    fn new(title: impl Into<String>, edits: Vec<Edit>, applicability: Applicability) -> Self {
        let mut edits = edits;
        edits.sort();
        edits.dedup();
        Self {
            title: title.into(),
            edits,
            applicability,
            changes: Vec::new(),
        }
    }

    #[must_use]
    pub fn safe(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Self::new(title, edits, Applicability::Safe)
    }

    #[must_use]
    pub fn unsafe_(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Self::new(title, edits, Applicability::Unsafe)
    }

    /// A suggestion that is shown but never applied. The edits (possibly with placeholders) show
    /// what the change would look like.
    #[must_use]
    pub fn display_only(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Self::new(title, edits, Applicability::DisplayOnly)
    }

    /// Declare the semantic paths (YAML) this fix changes.
    #[must_use]
    pub fn with_changes(mut self, changes: Vec<SemanticPath>) -> Self {
        self.changes = changes;
        self
    }

    /// The range covering every edit, if any.
    #[must_use]
    pub fn range(&self) -> Option<TextRange> {
        self.edits.iter().map(|e| e.range).reduce(TextRange::cover)
    }
}
