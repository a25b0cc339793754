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
    /// Where the secret values this finding is about are written (in the text of this round):
    /// output that may end up in logs (`fix --check`) masks them. See [`mask_secret`].
    pub secrets: Vec<TextRange>,
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
            secrets: Vec::new(),
        }
    }

    /// [`Finding::with_secret`] when there is one.
    #[must_use]
    pub fn with_secrets(self, range: Option<TextRange>) -> Self {
        match range {
            Some(r) => self.with_secret(r),
            None => self,
        }
    }

    /// Record where the secret value this finding is about is written (quotes may be included).
    #[must_use]
    pub fn with_secret(mut self, range: TextRange) -> Self {
        if !range.is_empty() {
            self.secrets.push(range);
        }
        self
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

/// The rules whose findings record where secret values are written ([`Finding::secrets`]).
pub const SECRET_RULES: &[&str] = &["DC011", "DF005", "DF012", "K8S011"];

#[cfg(test)]
mod tests {
    /// Every rule that records secrets is listed in [`super::SECRET_RULES`] (else its secrets would
    /// not be masked in `fix --check` output).
    #[test]
    fn secret_rules_are_listed() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut found = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            if !(text.contains(".with_secret(") || text.contains(".with_secrets(")) {
                continue;
            }
            if f.ends_with("finding.rs") {
                continue;
            }
            let code = text
                .split("=> \"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_else(|| panic!("{}: records secrets but declares no rule", f.display()));
            assert!(
                super::SECRET_RULES.contains(&code),
                "{code} ({}) records secrets: add it to SECRET_RULES",
                f.display()
            );
            found.push(code.to_owned());
        }
        found.sort();
        assert_eq!(found, super::SECRET_RULES);
    }
}
