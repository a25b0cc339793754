//! The fix loop: check, apply non-overlapping fixes, re-parse, verify, repeat to a fixed point.

use std::collections::BTreeSet;

use crate::apply::apply_fixes;
use crate::finding::Finding;
use crate::fix::{Applicability, Fix};
use crate::registry::{Context, Transform};
use crate::settings::{ImageResolver, NoResolver, NoWorkspace, Settings, Workspace};
use crate::source::{parse, FileKind, Parsed, SyntaxError};
use crate::suppression;

/// Maximum number of fix rounds before the loop is declared non-converging (a bug).
pub const MAX_ROUNDS: usize = 10;

/// A fix that was applied, for reports and summaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedFix {
    pub code: &'static str,
    pub name: &'static str,
    pub title: String,
    pub applicability: Applicability,
    /// Where the finding was, in the text of the round that applied it.
    pub line: usize,
}

/// What `fix` produced.
#[derive(Clone, Debug)]
pub struct FixOutcome {
    pub text: String,
    pub applied: Vec<AppliedFix>,
    /// Findings left in the final text (no fix, a display-only fix, or a fix not accepted).
    pub remaining: Vec<Finding>,
    pub rounds: usize,
}

impl FixOutcome {
    #[must_use]
    pub fn changed(&self, original: &str) -> bool {
        self.text != original
    }
}

#[derive(Clone, Debug)]
pub enum EngineError {
    /// The input does not parse.
    Syntax(SyntaxError),
    /// A transform produced output that does not parse, does not verify, or does not converge.
    /// Nothing must be written for this file.
    Bug {
        codes: Vec<&'static str>,
        message: String,
    },
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Syntax(e) => write!(f, "{}", e.message),
            Self::Bug { codes, message } => write!(
                f,
                "internal error in {}: {message}; the file was left untouched. Please report this bug.",
                codes.join(", ")
            ),
        }
    }
}

impl std::error::Error for EngineError {}

/// The result of [`Engine::apply_verified`].
pub struct Verified {
    pub text: String,
    pub parsed: Parsed,
    /// Indexes (into the findings given) of the fixes applied.
    pub applied: Vec<usize>,
    /// YAML: the semantic value of `text` (None for Dockerfiles or when nothing was applied).
    pub semantic: Option<Vec<serde_json::Value>>,
}

/// Which fixes a run applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixPolicy {
    /// Apply fixes at least this safe (`Safe`, or `Unsafe` with `--unsafe-fixes`).
    pub min_applicability: Applicability,
}

impl Default for FixPolicy {
    fn default() -> Self {
        Self {
            min_applicability: Applicability::Safe,
        }
    }
}

/// The engine for one file: the selected transforms plus their options.
pub struct Engine<'a> {
    pub transforms: Vec<&'static dyn Transform>,
    pub settings: &'a Settings,
    pub resolver: &'a dyn ImageResolver,
    /// The files next to this one (`.env`, a service's Dockerfile): what the image lookup reads.
    pub workspace: &'a dyn Workspace,
    pub path: Option<&'a str>,
    /// For a compose override file (`compose.override.yaml`, `docker-compose.prod.yml`, ...): the
    /// names of the services its base file defines. What such a service lacks is reported, and
    /// fixed, in the base file; the override only gets findings about what it sets itself.
    pub base_services: Option<&'a [String]>,
}

static DEFAULT_SETTINGS: std::sync::LazyLock<Settings> =
    std::sync::LazyLock::new(Settings::default);

impl Engine<'static> {
    /// Every transform, default settings, no resolver.
    #[must_use]
    pub fn with_defaults() -> Self {
        Self {
            transforms: crate::registry::all(),
            settings: &DEFAULT_SETTINGS,
            resolver: &NoResolver,
            workspace: &NoWorkspace,
            path: None,
            base_services: None,
        }
    }
}

impl Engine<'_> {
    /// Run the checks of `kind` on an already parsed text, with suppressions applied.
    #[must_use]
    pub fn check_parsed(&self, kind: FileKind, text: &str, parsed: &Parsed) -> Vec<Finding> {
        let ctx = Context {
            text,
            kind,
            parsed,
            settings: self.settings,
            resolver: self.resolver,
            workspace: self.workspace,
            path: self.path,
        };
        let mut findings: Vec<Finding> = self
            .transforms
            .iter()
            .filter(|t| t.applies_to(kind))
            .flat_map(|t| t.check(&ctx))
            .collect();
        let codes: Vec<&'static str> = self
            .transforms
            .iter()
            .filter(|t| t.applies_to(kind))
            .map(|t| t.code())
            .collect();
        findings = suppression::apply(text, &codes, findings);
        if let (Some(base), Parsed::Yaml(file)) = (self.base_services, parsed) {
            // "Missing" findings sit on the service's key; in an override they belong to the base.
            let keys: Vec<crate::text::TextRange> = crate::compose::model::services(file)
                .iter()
                .filter(|s| base.contains(&s.name))
                .map(crate::compose::model::Service::key_range)
                .collect();
            findings.retain(|f| !(f.code.starts_with("DC") && keys.contains(&f.range)));
        }
        findings.sort_by(|a, b| {
            (a.range.start, a.code, a.range.end).cmp(&(b.range.start, b.code, b.range.end))
        });
        findings
    }

    /// Parse and check.
    ///
    /// # Errors
    /// The file does not parse.
    pub fn check(&self, kind: FileKind, text: &str) -> Result<Vec<Finding>, SyntaxError> {
        let parsed = parse(kind, text)?;
        Ok(self.check_parsed(kind, text, &parsed))
    }

    /// Fix to a fixed point: every round applies the non-overlapping fixes that `accept` takes, then
    /// re-parses and verifies. `accept` sees each finding that has a fix.
    ///
    /// # Errors
    /// The input does not parse, or a transform misbehaved (then nothing must be written).
    pub fn fix_with(
        &self,
        kind: FileKind,
        text: &str,
        accept: &mut dyn FnMut(&Finding) -> bool,
    ) -> Result<FixOutcome, EngineError> {
        let mut current = text.to_owned();
        let mut parsed = parse(kind, &current).map_err(EngineError::Syntax)?;
        let mut semantic = if kind.has_semantic_value() {
            Some(semantic_of(kind, &current).map_err(EngineError::Syntax)?)
        } else {
            None
        };
        let mut applied_all = Vec::new();
        for round in 0..=MAX_ROUNDS {
            let findings = self.check_parsed(kind, &current, &parsed);
            let chosen: Vec<&Finding> = findings
                .iter()
                .filter(|f| {
                    f.fix.as_ref().is_some_and(|fix| {
                        fix.applicability > Applicability::DisplayOnly && !fix.edits.is_empty()
                    })
                })
                .filter(|f| accept(f))
                .collect();
            if chosen.is_empty() {
                return Ok(FixOutcome {
                    text: current,
                    applied: applied_all,
                    remaining: findings,
                    rounds: round,
                });
            }
            if round == MAX_ROUNDS {
                let codes: BTreeSet<&'static str> = chosen.iter().map(|f| f.code).collect();
                return Err(EngineError::Bug {
                    codes: codes.into_iter().collect(),
                    message: format!("fixes did not converge after {MAX_ROUNDS} rounds"),
                });
            }
            let verified = match self.apply_verified(kind, &current, semantic.as_deref(), &chosen) {
                Ok(v) => v,
                // Fixes that are fine alone may not combine (two removals emptying one mapping):
                // apply the first alone this round; only its own failure is a bug.
                Err(EngineError::Bug { .. }) if chosen.len() > 1 => {
                    self.apply_verified(kind, &current, semantic.as_deref(), &chosen[..1])?
                }
                Err(e) => return Err(e),
            };
            if verified.applied.is_empty() {
                // Nothing could be applied (cannot happen: the first fix never conflicts).
                return Ok(FixOutcome {
                    text: current,
                    applied: applied_all,
                    remaining: findings,
                    rounds: round,
                });
            }
            let applied: Vec<&Finding> = verified.applied.iter().map(|&i| chosen[i]).collect();
            if verified.semantic.is_some() {
                semantic = verified.semantic;
            }
            let index = crate::text::LineIndex::new(&current);
            for f in &applied {
                let fix = f.fix.as_ref().expect("chosen findings have fixes");
                applied_all.push(AppliedFix {
                    code: f.code,
                    name: f.name,
                    title: fix.title.clone(),
                    applicability: fix.applicability,
                    line: index.line_of(f.range.start) + 1,
                });
            }
            current = verified.text;
            parsed = verified.parsed;
        }
        unreachable!("the loop returns by MAX_ROUNDS")
    }

    /// Apply the fixes of `chosen` once (non-overlapping ones; the others are left for a later round),
    /// then re-parse and, for YAML, verify that the semantic value changed only where the applied
    /// fixes declare. `before` is the semantic value of `text` (computed when None).
    ///
    /// # Errors
    /// A bug: malformed edits, an unparseable result, or an undeclared semantic change.
    pub fn apply_verified(
        &self,
        kind: FileKind,
        text: &str,
        before: Option<&[serde_json::Value]>,
        chosen: &[&Finding],
    ) -> Result<Verified, EngineError> {
        let fixes: Vec<&Fix> = chosen.iter().filter_map(|f| f.fix.as_ref()).collect();
        let result = apply_fixes(text, &fixes);
        if !result.invalid.is_empty() {
            let bad: Vec<&Finding> = result.invalid.iter().map(|&i| chosen[i]).collect();
            return Err(EngineError::Bug {
                codes: codes_of(&bad),
                message: "a fix produced malformed edits (overlapping or out of bounds)".into(),
            });
        }
        let applied: Vec<&Finding> = result.applied.iter().map(|&i| chosen[i]).collect();
        let new_parsed = parse(kind, &result.text).map_err(|e| EngineError::Bug {
            codes: codes_of(&applied),
            message: format!("the fixed text does not parse: {}", e.message),
        })?;
        let mut semantic = None;
        if let (Parsed::Dockerfile(after), false) = (&new_parsed, applied.is_empty()) {
            // Verify by meaning: only the instructions the applied edits touch may differ.
            let before = crate::dockerfile::syntax::parse(text).map_err(|e| {
                EngineError::Syntax(SyntaxError {
                    message: e.message,
                    range: e.range,
                    template: false,
                })
            })?;
            let edits: Vec<crate::Edit> = result
                .applied
                .iter()
                .flat_map(|&i| fixes[i].edits.iter().cloned())
                .collect();
            crate::dockerfile::verify::verify(text, &before, after, &edits).map_err(|message| {
                EngineError::Bug {
                    codes: codes_of(&applied),
                    message,
                }
            })?;
        }
        if let (Parsed::Script(after), false) = (&new_parsed, applied.is_empty()) {
            // Verify by meaning: the commands outside the edited container commands are unchanged.
            if crate::scripts::verify::applies(kind) {
                let Parsed::Script(before) = parse(kind, text).map_err(EngineError::Syntax)? else {
                    unreachable!("a script kind parses to a script file")
                };
                let changes: Vec<crate::fix::SemanticPath> = applied
                    .iter()
                    .filter_map(|f| f.fix.as_ref())
                    .flat_map(|f| f.changes.iter().cloned())
                    .collect();
                crate::scripts::verify::verify(&before, after, &changes).map_err(|message| {
                    EngineError::Bug {
                        codes: codes_of(&applied),
                        message,
                    }
                })?;
            }
        }
        if kind.has_semantic_value() && !applied.is_empty() {
            let computed;
            let before = match before {
                Some(b) => b,
                None => {
                    computed = semantic_of(kind, text).map_err(EngineError::Syntax)?;
                    &computed
                }
            };
            let after = semantic_of(kind, &result.text).map_err(|e| EngineError::Bug {
                codes: codes_of(&applied),
                message: format!("the fixed file does not load: {}", e.message),
            })?;
            verify_semantic(before, &after, &applied).map_err(|message| EngineError::Bug {
                codes: codes_of(&applied),
                message,
            })?;
            semantic = Some(after);
        }
        Ok(Verified {
            text: result.text,
            parsed: new_parsed,
            applied: result.applied,
            semantic,
        })
    }

    /// Fix with a policy (the non-interactive modes).
    ///
    /// # Errors
    /// See [`Engine::fix_with`].
    pub fn fix(
        &self,
        kind: FileKind,
        text: &str,
        policy: FixPolicy,
    ) -> Result<FixOutcome, EngineError> {
        self.fix_with(kind, text, &mut |f| {
            f.fix
                .as_ref()
                .is_some_and(|fix| fix.applicability >= policy.min_applicability)
        })
    }
}

/// The semantic value of a YAML or JSON file.
fn semantic_of(kind: FileKind, text: &str) -> Result<Vec<serde_json::Value>, SyntaxError> {
    if kind.is_yaml() {
        crate::yaml::semantic(text).map_err(|e| SyntaxError {
            message: e.message,
            range: e.range,
            template: false,
        })
    } else {
        crate::scripts::semantic(kind, text)
    }
}

fn codes_of(findings: &[&Finding]) -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = findings.iter().map(|f| f.code).collect();
    set.into_iter().collect()
}

/// Every semantic difference between `before` and `after` must be declared by an applied fix.
fn verify_semantic(
    before: &[serde_json::Value],
    after: &[serde_json::Value],
    applied: &[&Finding],
) -> Result<(), String> {
    let diffs = crate::yaml::semantic_diff(before, after);
    for (doc, path) in diffs {
        let covered = applied.iter().any(|f| {
            f.fix
                .as_ref()
                .is_some_and(|fix| fix.changes.iter().any(|c| c.covers(doc, &path)))
        });
        if !covered {
            return Err(format!(
                "the fix changed `{}` (document {}), which no applied fix declares",
                path.join("."),
                doc + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::FixAvailability;
    use crate::text::TextRange;

    /// Removes the entry `key` of the top-level mapping `a` (declaring `a.<key>`).
    struct RemoveKey(&'static str, &'static str);

    impl Transform for RemoveKey {
        fn code(&self) -> &'static str {
            self.0
        }
        fn name(&self) -> &'static str {
            "remove-key"
        }
        fn kind(&self) -> FileKind {
            FileKind::Compose
        }
        fn raw_docs(&self) -> &'static str {
            ""
        }
        fn fix_availability(&self) -> FixAvailability {
            FixAvailability::Always
        }
        fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
            let Parsed::Yaml(file) = ctx.parsed else {
                return Vec::new();
            };
            let Some(a) = file.documents()[0].root().path(&["a"]) else {
                return Vec::new();
            };
            let Some(m) = a.as_mapping() else {
                return Vec::new();
            };
            let Some(e) = m.get(self.1) else {
                return Vec::new();
            };
            let fix = Fix::unsafe_("remove", e.remove().unwrap())
                .with_changes(vec![crate::fix::SemanticPath::new(0, ["a", self.1])]);
            vec![Finding::new(
                self.0,
                "remove-key",
                TextRange::new(e.range().start, e.range().end),
                "m",
            )
            .with_fix(fix)]
        }
    }

    static T1: RemoveKey = RemoveKey("T101", "x");
    static T2: RemoveKey = RemoveKey("T102", "y");

    #[test]
    fn fixes_that_do_not_combine_are_applied_one_per_round() {
        let engine = Engine {
            transforms: vec![&T1, &T2],
            ..Engine::with_defaults()
        };
        let text = "a:\n  x: 1\n  y: 2\nb: 3\n";
        let out = engine
            .fix(
                FileKind::Compose,
                text,
                FixPolicy {
                    min_applicability: Applicability::Unsafe,
                },
            )
            .unwrap();
        assert_eq!(out.text, "a: {}\nb: 3\n");
        assert_eq!(out.applied.len(), 2);
        assert!(out.rounds >= 2);
    }

    #[test]
    fn an_undeclared_semantic_change_is_a_bug_and_nothing_is_returned() {
        // T103 declares `a.z` but removes `a.x`: verification must refuse.
        struct Liar;
        impl Transform for Liar {
            fn code(&self) -> &'static str {
                "T103"
            }
            fn name(&self) -> &'static str {
                "liar"
            }
            fn kind(&self) -> FileKind {
                FileKind::Compose
            }
            fn raw_docs(&self) -> &'static str {
                ""
            }
            fn fix_availability(&self) -> FixAvailability {
                FixAvailability::Always
            }
            fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
                let Parsed::Yaml(file) = ctx.parsed else {
                    return Vec::new();
                };
                let m = file.documents()[0].root().path(&["a"]).unwrap();
                let Some(e) = m.as_mapping().and_then(|m| m.get("x")) else {
                    return Vec::new();
                };
                let fix = Fix::safe("remove", e.remove().unwrap())
                    .with_changes(vec![crate::fix::SemanticPath::new(0, ["a", "z"])]);
                vec![Finding::new("T103", "liar", e.range(), "m").with_fix(fix)]
            }
        }
        static L: Liar = Liar;
        let engine = Engine {
            transforms: vec![&L],
            ..Engine::with_defaults()
        };
        let err = engine
            .fix(
                FileKind::Compose,
                "a:\n  x: 1\n  y: 2\n",
                FixPolicy::default(),
            )
            .unwrap_err();
        match err {
            EngineError::Bug { codes, message } => {
                assert_eq!(codes, vec!["T103"]);
                assert!(message.contains("a.x"), "{message}");
            }
            other => panic!("expected a bug report, got {other:?}"),
        }
    }
}
