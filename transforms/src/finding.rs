//! A finding: one problem at one place, with an optional fix.

use crate::fix::Fix;
use crate::text::TextRange;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Rule code, e.g. `DF001`.
    pub code: &'static str,
    /// Rule name, kebab-case, e.g. `add-instead-of-copy`.
    pub name: &'static str,
    /// Where the problem is, in the ORIGINAL text of this round.
    pub range: TextRange,
    /// Human message. Must never contain a secret value: mask it (see [`mask_secret`]).
    pub message: String,
    pub fix: Option<Fix>,
    /// A value only a human knows that would make a display-only fix applicable (asked for in
    /// interactive sessions, or set in the config file).
    pub need: Option<Need>,
}

/// An option value a display-only fix is waiting for: `option` is the dotted path in the config's
/// `[options]` table (see [`crate::settings::Settings::set`]), `key` the map key for map options
/// (the image name for `pins`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    pub option: &'static str,
    pub key: Option<String>,
    /// The question, e.g. "Memory limit for service `web`".
    pub prompt: String,
    /// A sensible default offered to the user, if any.
    pub default: Option<String>,
}

impl Finding {
    #[must_use]
    pub fn new(
        code: &'static str,
        name: &'static str,
        range: TextRange,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            name,
            range,
            message: message.into(),
            fix: None,
            need: None,
        }
    }

    #[must_use]
    pub fn with_need(mut self, need: Need) -> Self {
        self.need = Some(need);
        self
    }

    #[must_use]
    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
}

/// Mask a secret value for display: never more than its first two characters, then `****`.
#[must_use]
pub fn mask_secret(value: &str) -> String {
    let shown: String = value
        .chars()
        .take(if value.chars().count() > 8 { 2 } else { 0 })
        .collect();
    format!("{shown}****")
}
