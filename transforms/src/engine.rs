//! The fix loop: check, apply non-overlapping fixes, re-parse, verify, repeat to a fixed point.

use std::collections::BTreeSet;

use crate::apply::{apply_fixes, apply_yaml_fixes};
use crate::finding::Finding;
use crate::fix::{Applicability, Fix};
use crate::registry::{Context, Transform};
use crate::settings::{ImageResolver, NoResolver, NoWorkspace, Settings, Workspace};
use crate::source::{parse, reparse, FileKind, Parsed, SyntaxError};
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
    /// The findings of the input: what `check` reports for it (the first round's findings, so a
    /// caller that fixes needs no separate check).
    pub initial: Vec<Finding>,
    /// With [`FixOptions::secrets`]: where the input and the output hold secret values (see
    /// [`Engine::secret_ranges`]), computed on the parses the fix made anyway.
    pub secrets_before: Vec<crate::text::TextRange>,
    pub secrets_after: Vec<crate::text::TextRange>,
}

/// What [`Engine::fix_with_options`] also computes.
#[derive(Clone, Copy, Debug, Default)]
pub struct FixOptions {
    /// Secret ranges of the input and the output.
    pub secrets: bool,
    /// Most YAML files are expected to get fixes (unsafe fixes are applied): their values are
    /// loaded with the first parse, since verification loads them anyway (a file proven to load
    /// is otherwise loaded only when a fix is verified). Same results either way.
    pub load_yaml: bool,
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
}

/// Why a set of fixes was not applied: the error, and for YAML the document that failed
/// verification (the fixes of the other documents are fine together).
struct Failure {
    error: EngineError,
    documents: Option<Vec<usize>>,
}

impl Failure {
    fn bug(findings: &[&Finding], message: String) -> Self {
        Self {
            error: EngineError::Bug {
                codes: codes_of(findings),
                message,
            },
            documents: None,
        }
    }
}

/// The position of `f` in `chosen` (the same reference).
fn index_in(chosen: &[&Finding], f: &Finding) -> usize {
    chosen
        .iter()
        .position(|c| std::ptr::eq(*c, f))
        .expect("a retried fix was chosen")
}

/// The fixes to retry after the YAML documents `failed` did not verify: every fix that edits no
/// failing document, and the first fix of each failing document alone.
fn retry_set<'f>(parsed: &Parsed, chosen: &[&'f Finding], failed: &[usize]) -> Vec<&'f Finding> {
    let Parsed::Yaml(file) = parsed else {
        return chosen[..1].to_vec();
    };
    let starts: Vec<usize> = file.documents().iter().map(|d| d.range().start).collect();
    let doc_of = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);
    let mut taken: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for f in chosen {
        let docs: BTreeSet<usize> = f
            .fix
            .iter()
            .flat_map(|x| x.edits.iter())
            .map(|e| doc_of(e.range.start))
            .collect();
        let failing: Vec<usize> = docs
            .iter()
            .copied()
            .filter(|d| failed.contains(d))
            .collect();
        if failing.is_empty() {
            out.push(*f);
        } else if docs.len() == 1 && !taken.contains(&failing[0]) {
            taken.push(failing[0]);
            out.push(*f);
        }
    }
    if out.is_empty() {
        out.push(chosen[0]);
    }
    out
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

/// The constructs a suppression comment can sit anywhere in, with their heads (where findings
/// about the whole construct are reported): a Dockerfile's stages (`FROM`), a compose file's
/// services (the service's key).
fn constructs(parsed: &Parsed) -> Vec<(crate::text::TextRange, crate::text::TextRange)> {
    use crate::text::TextRange;
    match parsed {
        Parsed::Dockerfile(d) => d
            .stages()
            .iter()
            .filter_map(|s| {
                let first = d.instructions.get(s.instructions.start)?;
                let last = d.instructions.get(s.instructions.end.checked_sub(1)?)?;
                Some((
                    TextRange::new(first.line_start, last.full_range.end),
                    first.full_range,
                ))
            })
            .collect(),
        Parsed::Yaml(file) => crate::compose::model::services(file)
            .iter()
            .map(|s| (s.entry.range(), s.entry.key_range()))
            .collect(),
        // A script's findings are about one command: a suppression goes on its line.
        Parsed::Script(_) => Vec::new(),
    }
}

/// Secret ranges within a text of `len` bytes, sorted, without repeats.
fn sorted_ranges(
    mut ranges: Vec<crate::text::TextRange>,
    len: usize,
) -> Vec<crate::text::TextRange> {
    ranges.retain(|r| r.end <= len);
    ranges.sort();
    ranges.dedup();
    ranges
}

impl Engine<'_> {
    /// Run the checks of `kind` on an already parsed text, with suppressions applied.
    #[must_use]
    pub fn check_parsed(&self, kind: FileKind, text: &str, parsed: &Parsed) -> Vec<Finding> {
        self.check_parsed_with_secrets(kind, text, parsed, false).0
    }

    /// [`Engine::check_parsed`], and with `secrets` also [`Engine::secret_ranges_parsed`] of the
    /// same text, in one pass: the secret rules that are selected give their ranges from the
    /// findings of the check (before suppressions, which do not decide what may be shown), the
    /// others are run beside it, all with one memo.
    fn check_parsed_with_secrets(
        &self,
        kind: FileKind,
        text: &str,
        parsed: &Parsed,
        secrets: bool,
    ) -> (Vec<Finding>, Vec<crate::text::TextRange>) {
        let memo = crate::needs::Memo::default();
        let ctx = Context {
            text,
            kind,
            parsed,
            settings: self.settings,
            resolver: self.resolver,
            workspace: self.workspace,
            memo: &memo,
            path: self.path,
        };
        let is_secret_rule =
            |t: &&&dyn crate::registry::Transform| crate::finding::SECRET_RULES.contains(&t.code());
        let mut secret_ranges = Vec::new();
        let mut findings: Vec<Finding> = Vec::new();
        for t in self.transforms.iter().filter(|t| t.applies_to(kind)) {
            let found = t.check(&ctx);
            if secrets && is_secret_rule(&t) {
                secret_ranges.extend(found.iter().flat_map(|f| f.secrets.iter().copied()));
            }
            findings.extend(found);
        }
        if secrets {
            // (The few secret rules first: looking each rule's code up among the selected ones was
            // 2% of fixing the corpus's Dockerfiles.)
            for t in crate::registry::all()
                .iter()
                .filter(|t| t.applies_to(kind))
                .filter(is_secret_rule)
                .filter(|t| !self.transforms.iter().any(|s| s.code() == t.code()))
            {
                secret_ranges.extend(t.check(&ctx).into_iter().flat_map(|f| f.secrets));
            }
        }
        let codes: Vec<&'static str> = self
            .transforms
            .iter()
            .filter(|t| t.applies_to(kind))
            .map(|t| t.code())
            .collect();
        findings = suppression::apply_in(text, &codes, findings, &constructs(parsed));
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
        (findings, sorted_ranges(secret_ranges, text.len()))
    }

    /// Parse and check. A YAML text with lone CR line breaks is checked as if they were LF (see
    /// [`LoneCr`]); the findings' edits apply to `text` as it is.
    ///
    /// # Errors
    /// The file does not parse.
    pub fn check(&self, kind: FileKind, text: &str) -> Result<Vec<Finding>, SyntaxError> {
        if let Some(cr) = LoneCr::of(kind, text) {
            let lf = cr.normalized(text);
            let parsed = parse(kind, &lf)?;
            let mut findings = self.check_parsed(kind, &lf, &parsed);
            cr.restore_findings(&mut findings);
            return Ok(findings);
        }
        let parsed = parse(kind, text)?;
        Ok(self.check_parsed(kind, text, &parsed))
    }

    /// Where `text` holds secret values, as the rules that detect them
    /// ([`crate::finding::SECRET_RULES`]) find them, whatever the selection and the suppressions:
    /// those decide what is reported, not what may be shown in a log. Sorted; empty when the text
    /// does not parse.
    #[must_use]
    pub fn secret_ranges(&self, kind: FileKind, text: &str) -> Vec<crate::text::TextRange> {
        let Ok(parsed) = parse(kind, text) else {
            return Vec::new();
        };
        self.secret_ranges_parsed(kind, text, &parsed)
    }

    /// [`Engine::secret_ranges`] of an already parsed text.
    #[must_use]
    pub fn secret_ranges_parsed(
        &self,
        kind: FileKind,
        text: &str,
        parsed: &Parsed,
    ) -> Vec<crate::text::TextRange> {
        let memo = crate::needs::Memo::default();
        let ctx = Context {
            text,
            kind,
            parsed,
            settings: self.settings,
            resolver: self.resolver,
            workspace: self.workspace,
            memo: &memo,
            path: self.path,
        };
        let ranges = crate::registry::all()
            .into_iter()
            .filter(|t| t.applies_to(kind) && crate::finding::SECRET_RULES.contains(&t.code()))
            .flat_map(|t| t.check(&ctx))
            .flat_map(|f| f.secrets)
            .collect();
        sorted_ranges(ranges, text.len())
    }

    /// Fix to a fixed point: every round applies the non-overlapping fixes that `accept` takes, then
    /// re-parses and verifies. `accept` sees each finding that has a fix.
    ///
    /// Every round costs time linear in the text: the fixes are applied in one pass, the text is
    /// parsed again once, and only the YAML documents whose text changed are loaded and compared.
    ///
    /// # Errors
    /// The input does not parse, or a transform misbehaved (then nothing must be written).
    pub fn fix_with(
        &self,
        kind: FileKind,
        text: &str,
        accept: &mut dyn FnMut(&Finding) -> bool,
    ) -> Result<FixOutcome, EngineError> {
        self.fix_with_options(kind, text, accept, FixOptions::default())
    }

    /// [`Engine::fix_with`], also computing what `options` asks for.
    ///
    /// # Errors
    /// As [`Engine::fix_with`].
    pub fn fix_with_options(
        &self,
        kind: FileKind,
        text: &str,
        accept: &mut dyn FnMut(&Finding) -> bool,
        options: FixOptions,
    ) -> Result<FixOutcome, EngineError> {
        let mut cr = LoneCr::of(kind, text);
        let mut current = match &cr {
            Some(cr) => cr.normalized(text),
            None => text.to_owned(),
        };
        let mut parsed = if options.load_yaml {
            crate::source::parse_loaded(kind, &current)
        } else {
            parse(kind, &current)
        }
        .map_err(EngineError::Syntax)?;
        let mut applied_all = Vec::new();
        let mut initial = Vec::new();
        let mut secrets_before = Vec::new();
        // (Lone CRs are read as LF: the same offsets, so ranges need no mapping.)
        for round in 0..=MAX_ROUNDS {
            // The secret ranges of this round's text (with the check: one pass), kept for the
            // input and for the text a round that applies nothing returns.
            let (findings, secrets_now) =
                self.check_parsed_with_secrets(kind, &current, &parsed, options.secrets);
            if round == 0 {
                initial.clone_from(&findings);
                if let Some(cr) = &cr {
                    cr.restore_findings(&mut initial);
                }
                secrets_before.clone_from(&secrets_now);
            }
            let done = |current: String,
                        applied: Vec<AppliedFix>,
                        remaining: Vec<Finding>,
                        initial: Vec<Finding>,
                        secrets_before: Vec<crate::text::TextRange>| {
                FixOutcome {
                    text: current,
                    applied,
                    remaining,
                    rounds: round,
                    initial,
                    secrets_before,
                    secrets_after: secrets_now,
                }
            };
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
                return Ok(LoneCr::restore_outcome(
                    cr.as_ref(),
                    done(current, applied_all, findings, initial, secrets_before),
                ));
            }
            if round == MAX_ROUNDS {
                let codes: BTreeSet<&'static str> = chosen.iter().map(|f| f.code).collect();
                return Err(EngineError::Bug {
                    codes: codes.into_iter().collect(),
                    message: format!("fixes did not converge after {MAX_ROUNDS} rounds"),
                });
            }
            let verified = match self.verified(kind, &current, &parsed, &chosen) {
                Ok(v) => v,
                // Fixes that are fine alone may not combine (two removals emptying one mapping):
                // the fixes of the YAML documents that verified are kept and each failing document
                // gets its first fix alone this round; only a fix's own failure is a bug.
                Err(failure) if chosen.len() > 1 => {
                    let retry = match &failure.documents {
                        Some(docs) => retry_set(&parsed, &chosen, docs),
                        None => chosen[..1].to_vec(),
                    };
                    match self.verified(kind, &current, &parsed, &retry) {
                        Ok(v) => Verified {
                            applied: v
                                .applied
                                .iter()
                                .map(|&i| index_in(&chosen, retry[i]))
                                .collect(),
                            ..v
                        },
                        Err(_) if retry.len() > 1 => self
                            .verified(kind, &current, &parsed, &chosen[..1])
                            .map_err(|f| f.error)?,
                        Err(f) => return Err(f.error),
                    }
                }
                Err(failure) => return Err(failure.error),
            };
            if verified.applied.is_empty() {
                // Nothing could be applied (cannot happen: the first fix never conflicts).
                return Ok(LoneCr::restore_outcome(
                    cr.as_ref(),
                    done(current, applied_all, findings, initial, secrets_before),
                ));
            }
            let applied: Vec<&Finding> = verified.applied.iter().map(|&i| chosen[i]).collect();
            if let Some(cr) = cr.as_mut() {
                cr.shift(applied.iter().filter_map(|f| f.fix.as_ref()));
            }
            let index = crate::text::LineIndex::with_cr_breaks(&current);
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
    /// then re-parse and verify by meaning: for YAML the semantic value may change only where the
    /// applied fixes declare, for a Dockerfile only the instructions the edits touch. `before` is
    /// `text` parsed (parsed here when None).
    ///
    /// # Errors
    /// A bug: malformed edits, an unparseable result, or an undeclared change of meaning.
    pub fn apply_verified(
        &self,
        kind: FileKind,
        text: &str,
        before: Option<&Parsed>,
        chosen: &[&Finding],
    ) -> Result<Verified, EngineError> {
        let computed;
        let before = match before {
            Some(b) => b,
            None => {
                computed = parse(kind, text).map_err(EngineError::Syntax)?;
                &computed
            }
        };
        self.verified(kind, text, before, chosen)
            .map_err(|f| f.error)
    }

    fn verified(
        &self,
        kind: FileKind,
        text: &str,
        before: &Parsed,
        chosen: &[&Finding],
    ) -> Result<Verified, Failure> {
        let fixes: Vec<&Fix> = chosen.iter().filter_map(|f| f.fix.as_ref()).collect();
        let result = if matches!(before, Parsed::Yaml(_)) {
            apply_yaml_fixes(text, &fixes)
        } else {
            apply_fixes(text, &fixes)
        };
        if !result.invalid.is_empty() {
            let bad: Vec<&Finding> = result.invalid.iter().map(|&i| chosen[i]).collect();
            return Err(Failure::bug(
                &bad,
                "a fix produced malformed edits (overlapping or out of bounds)".into(),
            ));
        }
        let applied: Vec<&Finding> = result.applied.iter().map(|&i| chosen[i]).collect();
        if let Parsed::Yaml(y) = before {
            // A file whose load the parse deferred is loaded now (never refused: see
            // `YamlFile::values`); if it were, the file is what does not load, not the fix.
            y.values().map_err(|e| Failure {
                error: EngineError::Syntax(e.into()),
                documents: None,
            })?;
        }
        let (new_parsed, loaded) = reparse(kind, &result.text, before).map_err(|e| {
            Failure::bug(
                &applied,
                format!("the fixed text does not parse: {}", e.message),
            )
        })?;
        if applied.is_empty() {
            return Ok(Verified {
                text: result.text,
                parsed: new_parsed,
                applied: result.applied,
            });
        }
        match (before, &new_parsed) {
            (Parsed::Dockerfile(before), Parsed::Dockerfile(after)) => {
                // Verify by meaning: only the instructions the applied edits touch may differ.
                let edits: Vec<crate::Edit> = result
                    .applied
                    .iter()
                    .flat_map(|&i| fixes[i].edits.iter().cloned())
                    .collect();
                crate::dockerfile::verify::verify(text, &result.text, before, after, &edits)
                    .map_err(|message| Failure::bug(&applied, message))?;
            }
            (Parsed::Yaml(before), Parsed::Yaml(after)) => {
                let (Ok(before_values), Ok(after_values)) = (before.values(), after.values())
                else {
                    return Err(Failure::bug(
                        &applied,
                        "the fixed text does not load".into(),
                    ));
                };
                let loaded = loaded.unwrap_or_else(|| (0..after_values.len()).collect());
                verify_semantic(before_values, after_values, &loaded, &applied).map_err(
                    |(message, doc)| {
                        let mut f = Failure::bug(&applied, message);
                        f.documents = Some(vec![doc]);
                        f
                    },
                )?;
            }
            (Parsed::Script(before_file), Parsed::Script(after_file)) => {
                // Verify by meaning: the commands outside the edited container commands are
                // unchanged, and a YAML or JSON value changes only where the fixes declare.
                let changes: Vec<crate::fix::SemanticPath> = applied
                    .iter()
                    .filter_map(|f| f.fix.as_ref())
                    .flat_map(|f| f.changes.iter().cloned())
                    .collect();
                if crate::scripts::verify::applies(kind) {
                    crate::scripts::verify::verify(before_file, after_file, &changes)
                        .map_err(|message| Failure::bug(&applied, message))?;
                }
                if kind.has_semantic_value() {
                    let a = crate::scripts::values(before_file, text)
                        .map_err(|e| Failure::bug(&applied, e.message))?;
                    let b = crate::scripts::values(after_file, &result.text).map_err(|e| {
                        Failure::bug(
                            &applied,
                            format!("the fixed file does not load: {}", e.message),
                        )
                    })?;
                    let all: Vec<usize> = (0..a.len().max(b.len())).collect();
                    verify_semantic(&a, &b, &all, &applied)
                        .map_err(|(message, _)| Failure::bug(&applied, message))?;
                }
            }
            _ => unreachable!("a text keeps its kind"),
        }
        Ok(Verified {
            text: result.text,
            parsed: new_parsed,
            applied: result.applied,
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

/// YAML line breaks may be a CR alone (classic Mac OS files), besides LF and CRLF. The rules and the
/// edit builders work on lines that end in LF, so such a text is processed with each lone CR read
/// as LF: the same length, the same offsets, the same meaning. Afterwards the CRs are put back: at
/// the places that had one (followed through each round's edits), and in a text without any LF
/// also in the lines the fixes added, which then end in CR like the others.
struct LoneCr {
    /// Where the lone CRs are, in the current text.
    positions: Vec<usize>,
    /// The text has no LF at all: every LF of the result is a CR.
    only: bool,
}

impl LoneCr {
    fn of(kind: FileKind, text: &str) -> Option<Self> {
        if !kind.is_yaml() {
            return None;
        }
        let positions = crate::text::lone_crs(text);
        (!positions.is_empty()).then(|| Self {
            only: !text.contains('\n'),
            positions,
        })
    }

    fn normalized(&self, text: &str) -> String {
        let mut bytes = text.as_bytes().to_vec();
        for &p in &self.positions {
            bytes[p] = b'\n';
        }
        String::from_utf8(bytes).expect("CR and LF are both ASCII")
    }

    /// Follow the positions through the edits of one round (those of `fixes`, applied together):
    /// a CR inside a replaced range is gone, the others move by the length change before them.
    fn shift<'a>(&mut self, fixes: impl Iterator<Item = &'a Fix>) {
        if self.only {
            return;
        }
        let mut edits: Vec<&crate::Edit> = fixes.flat_map(|f| f.edits.iter()).collect();
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        edits.dedup();
        let mut out = Vec::with_capacity(self.positions.len());
        let mut j = 0;
        let mut delta: isize = 0;
        for &p in &self.positions {
            while j < edits.len() && edits[j].range.end <= p {
                delta += edits[j].replacement.len() as isize - edits[j].range.len() as isize;
                j += 1;
            }
            if j < edits.len() && edits[j].range.start <= p && p < edits[j].range.end {
                continue;
            }
            out.push(p.saturating_add_signed(delta));
        }
        self.positions = out;
    }

    fn restore_text(&self, text: String) -> String {
        if self.only {
            return text.replace('\n', "\r");
        }
        let mut bytes = text.into_bytes();
        for &p in &self.positions {
            if bytes.get(p) == Some(&b'\n') {
                bytes[p] = b'\r';
            }
        }
        String::from_utf8(bytes).expect("CR and LF are both ASCII")
    }

    /// In a text without LF, the edits of findings write CR line breaks.
    fn restore_findings(&self, findings: &mut [Finding]) {
        if !self.only {
            return;
        }
        for f in findings {
            for e in f.fix.iter_mut().flat_map(|x| x.edits.iter_mut()) {
                if e.replacement.contains('\n') {
                    e.replacement = e.replacement.replace('\n', "\r");
                }
            }
        }
    }

    fn restore_outcome(cr: Option<&Self>, mut outcome: FixOutcome) -> FixOutcome {
        if let Some(cr) = cr {
            outcome.text = cr.restore_text(outcome.text);
            cr.restore_findings(&mut outcome.remaining);
        }
        outcome
    }
}

fn codes_of(findings: &[&Finding]) -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = findings.iter().map(|f| f.code).collect();
    set.into_iter().collect()
}

/// Every semantic difference between `before` and `after` must be declared by an applied fix.
/// Only the documents in `loaded` can differ (the others kept their value, text unchanged); each
/// difference is checked against the paths declared for its document, by prefix, in a hash set.
/// On failure: the message and the document.
fn verify_semantic(
    a: &[std::sync::Arc<serde_json::Value>],
    b: &[std::sync::Arc<serde_json::Value>],
    loaded: &[usize],
    applied: &[&Finding],
) -> Result<(), (String, usize)> {
    // (foldhash, seeded per process as the memos' hasher: SipHash was most of a look-up.)
    type Fast = foldhash::fast::RandomState;
    let mut declared: std::collections::HashMap<
        usize,
        std::collections::HashSet<&[String], Fast>,
        Fast,
    > = std::collections::HashMap::default();
    for f in applied {
        for c in f.fix.iter().flat_map(|x| x.changes.iter()) {
            declared
                .entry(c.document)
                .or_default()
                .insert(c.keys.as_slice());
        }
    }
    let docs: Vec<usize> = if a.len() == b.len() {
        loaded.to_vec()
    } else {
        (0..a.len().max(b.len())).collect()
    };
    for doc in docs {
        let paths = match (a.get(doc), b.get(doc)) {
            (Some(x), Some(y)) => crate::yaml::semantic_diff_one(x, y),
            _ => vec![Vec::new()],
        };
        for path in paths {
            let covered = declared
                .get(&doc)
                .is_some_and(|set| (0..=path.len()).any(|n| set.contains(&path[..n])));
            if !covered {
                return Err((
                    format!(
                        "the fix changed `{}` (document {}), which no applied fix declares",
                        path.join("."),
                        doc + 1
                    ),
                    doc,
                ));
            }
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
        fn source_file(&self) -> &'static str {
            file!()
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

    /// Scaling by counting work: fixing one document of a 500-document file loads that document
    /// again after each round, not the file.
    #[test]
    fn only_the_documents_a_round_changed_are_loaded_again() {
        let engine = Engine {
            transforms: vec![&T1, &T2],
            ..Engine::with_defaults()
        };
        let mut text = String::from("a:\n  x: 1\n  y: 2\n  z: 3\n");
        for i in 0..500 {
            text += &format!("---\nb: {i}\n");
        }
        crate::work::take("yaml.documents_loaded");
        let out = engine
            .fix(
                FileKind::Compose,
                &text,
                FixPolicy {
                    min_applicability: Applicability::Unsafe,
                },
            )
            .unwrap();
        assert!(
            out.text.starts_with("a:\n  z: 3\n---\nb: 0\n"),
            "{}",
            out.text
        );
        let loaded = crate::work::take("yaml.documents_loaded");
        // The first parse loads all 501; each round (x and y together) one more.
        assert!(loaded <= 501 + out.rounds, "{loaded} documents loaded");
    }

    #[test]
    fn lone_cr_line_breaks_are_kept_where_they_were() {
        let policy = FixPolicy {
            min_applicability: Applicability::Unsafe,
        };
        let engine = Engine {
            transforms: vec![&T1],
            ..Engine::with_defaults()
        };
        // Only CRs: processed as LF, every line break written back as CR.
        let out = engine
            .fix(FileKind::Compose, "a:\r  x: 1\r  y: 2\rb: 3\r", policy)
            .unwrap();
        assert_eq!(out.text, "a:\r  y: 2\rb: 3\r");
        // Mixed: each CR stays a CR, each LF an LF, wherever the edits moved them.
        let out = engine
            .fix(
                FileKind::Compose,
                "z: 0\ra:\n  x: 1\r  y: 2\rb: 3\n",
                policy,
            )
            .unwrap();
        assert_eq!(out.text, "z: 0\ra:\n  y: 2\rb: 3\n");
        // Findings of `check` are located and their edits apply to the text as it is.
        let findings = engine
            .check(FileKind::Compose, "a:\r  x: 1\r  y: 2\r")
            .unwrap();
        assert_eq!(findings.len(), 1);
        let edits = &findings[0].fix.as_ref().unwrap().edits;
        assert_eq!(edits[0].range, TextRange::new(3, 10));
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
            fn source_file(&self) -> &'static str {
                file!()
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
