//! Processing one file: read, detect, parse, check or fix, and the result for the reports.

use std::path::Path;

use dockharden_transforms::engine::{AppliedFix, Engine, EngineError, FixPolicy};
use dockharden_transforms::finding::Finding;
use dockharden_transforms::fix::Applicability;
use dockharden_transforms::registry::{self, Transform};
use dockharden_transforms::settings::NoResolver;
use dockharden_transforms::source::{detect_kind, FileKind};
use dockharden_transforms::text::{LineCol, LineIndex};

use crate::config::{matches_any, Config};

/// What to do with each file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Check,
    Fix {
        /// Write the result in place (false for --diff / --check / stdin).
        write: bool,
        /// Compute a unified diff.
        diff: bool,
        /// Mask secret values in the diff (`--check`, whose output lands in CI logs).
        mask_secrets: bool,
        /// `--unsafe-fixes` / `--no-unsafe-fixes` from the command line (None = config decides).
        unsafe_fixes: Option<bool>,
        /// `--allow-dirty`: write Unsafe fixes into files with uncommitted changes.
        allow_dirty: bool,
        /// `--force-write`: also write read-only files and files with several hard links.
        force_write: bool,
    },
}

/// A finding as reported.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FindingOut {
    pub code: &'static str,
    pub name: &'static str,
    /// `low`, `medium`, `high` or `critical` (the rule's).
    pub severity: &'static str,
    pub message: String,
    pub range: RangeOut,
    pub fix: Option<FixOut>,
}

#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct RangeOut {
    pub start: LineCol,
    pub end: LineCol,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct FixOut {
    pub applicability: &'static str,
    pub title: String,
    /// The edits on the original text, located (JSON `edits`, SARIF `fixes`); empty for a
    /// display-only suggestion.
    pub edits: Vec<EditOut>,
}

/// One replacement: the region of the original text and the new text.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EditOut {
    pub range: RangeOut,
    pub replacement: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ErrorOut {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct AppliedOut {
    pub code: &'static str,
    pub name: &'static str,
    pub title: String,
    pub applicability: &'static str,
    pub line: usize,
}

impl From<&AppliedFix> for AppliedOut {
    fn from(a: &AppliedFix) -> Self {
        Self {
            code: a.code,
            name: a.name,
            title: a.title.clone(),
            applicability: a.applicability.as_str(),
            line: a.line,
        }
    }
}

/// The result of one file.
#[derive(Clone, Debug, Default)]
pub struct FileResult {
    pub path: String,
    pub kind: Option<FileKind>,
    /// Findings of the original text.
    pub findings: Vec<FindingOut>,
    pub error: Option<ErrorOut>,
    /// Fix mode: the new text differs.
    pub changed: bool,
    pub applied: Vec<AppliedOut>,
    /// Fix mode: findings left in the fixed text.
    pub remaining: Vec<FindingOut>,
    /// Fix mode: remaining findings with an Unsafe fix that was not applied.
    pub skipped_unsafe: usize,
    pub diff: Option<String>,
    /// Fix mode, stdin: the text to print.
    pub output: Option<String>,
    /// Stdin input that is not text, echoed unchanged.
    pub raw_output: Option<Vec<u8>>,
    /// Stdin was larger than the limit: only its start was read; the rest is still to be echoed
    /// (fix) or drained (check).
    pub stream_rest: bool,
    /// The number of distinct secret values masked in `diff`.
    pub masked_secrets: usize,
    /// An engine bug (nothing written).
    pub bug: bool,
    /// Fix mode: Unsafe fixes were not applied because the file has uncommitted changes.
    pub dirty_guarded: bool,
    /// A walked template source: not processed, counted in the summary.
    pub template: Option<crate::discover::Template>,
    /// Not a file of ours after all (walked YAML that is neither compose nor Kubernetes).
    pub not_ours: bool,
}

pub fn finding_out(text: &str, index: &LineIndex, f: &Finding) -> FindingOut {
    FindingOut {
        code: f.code,
        name: f.name,
        severity: dockharden_transforms::severity::of(f.code).as_str(),
        message: f.message.clone(),
        range: RangeOut {
            start: index.line_col(text, f.range.start),
            end: index.line_col(text, f.range.end),
        },
        fix: f.fix.as_ref().map(|x| FixOut {
            applicability: x.applicability.as_str(),
            title: x.title.clone(),
            edits: x
                .edits
                .iter()
                .map(|e| EditOut {
                    range: RangeOut {
                        start: index.line_col(text, e.range.start),
                        end: index.line_col(text, e.range.end),
                    },
                    replacement: e.replacement.clone(),
                })
                .collect(),
        }),
    }
}

/// The transforms selected for `path` by the command line and the config.
pub fn selected_transforms(
    config: &Config,
    path: &Path,
    cli_select: &[String],
    cli_ignore: &[String],
) -> Vec<&'static dyn Transform> {
    let (mut select, mut ignore) = config.rule_lists(path);
    if !cli_select.is_empty() {
        select = cli_select.to_vec();
    }
    ignore.extend(cli_ignore.iter().cloned());
    registry::all()
        .into_iter()
        .filter(|t| select.is_empty() || matches_any(t.code(), &select))
        .filter(|t| !matches_any(t.code(), &ignore))
        .collect()
}

pub struct Job<'a> {
    pub mode: Mode,
    pub config: &'a Config,
    pub select: &'a [String],
    pub ignore: &'a [String],
    /// Keep the fixed text in the result (stdin mode).
    pub keep_output: bool,
    /// Git status, to protect uncommitted work from Unsafe fixes.
    pub git: Option<&'a crate::git::GitStatus>,
    /// What the run's other files will be after it (fix mode over walked files).
    pub view: Option<&'a dyn crate::workspace::RunView>,
    /// The run's registry look-ups (`--resolve` or `resolve = true` somewhere).
    pub registry: Option<&'a crate::oci::Lookups>,
}

/// For a compose override file, the services its base file defines: `compose.override.yaml` and
/// `compose.<env>.yaml` pair with `compose.yaml` (or `.yml`), `docker-compose.override.yml` and
/// `docker-compose.<env>.yml` with `docker-compose.yml` (or `.yaml`), in the same folder. None when
/// the file is not an override or its base cannot be read and parsed.
pub fn compose_base_services(path: &Path) -> Option<Vec<String>> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let stem = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))?;
    let (prefix, env) = stem.split_once('.')?;
    if env.is_empty() || !(prefix == "compose" || prefix == "docker-compose") {
        return None;
    }
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let base = [format!("{prefix}.yaml"), format!("{prefix}.yml")]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())?;
    let text = crate::files::read_text_if_readable(&base)?;
    let Ok(dockharden_transforms::source::Parsed::Yaml(file)) =
        dockharden_transforms::source::parse(FileKind::Compose, &text)
    else {
        return None;
    };
    Some(
        dockharden_transforms::compose::model::services(&file)
            .into_iter()
            .map(|s| s.name)
            .collect(),
    )
}

/// Decide the kind of a text (by content when the name did not tell: a shell shebang, the YAML
/// kinds).
pub fn resolve_kind(kind: Option<FileKind>, text: &str) -> Option<FileKind> {
    kind.or_else(|| detect_kind(text))
}

/// Process one file's text. `display` is the path as shown; `write_to` the file to write (None: don't).
pub fn process_text(
    job: &Job<'_>,
    display: &str,
    path: &Path,
    kind: Option<FileKind>,
    explicit: bool,
    text: &str,
    write_to: Option<&Path>,
) -> FileResult {
    let mut result = FileResult {
        path: display.to_owned(),
        ..FileResult::default()
    };
    let Some(kind) = resolve_kind(kind, text) else {
        if explicit {
            result.error = Some(ErrorOut {
                message: "cannot tell what kind of file this is (Dockerfile, compose, Kubernetes, shell, makefile, github-actions, gitlab-ci, systemd, daemon-json, markdown); use --kind".into(),
                line: None,
                column: None,
            });
        } else {
            result.not_ours = true;
        }
        return result;
    };
    result.kind = Some(kind);
    // Registry answers for this file when the run or its configuration asks for them; the
    // facts read from image configs join the settings as the lowest-priority source.
    let lookups = job
        .registry
        .filter(|l| l.everywhere || job.config.file.resolve == Some(true));
    let table = lookups.map(crate::oci::Lookups::resolver);
    let resolver: &dyn dockharden_transforms::settings::ImageResolver = match &table {
        Some(t) => t,
        None => &NoResolver,
    };
    let with_registry;
    let settings = match lookups {
        Some(l) => {
            with_registry = dockharden_transforms::settings::Settings {
                update_pins: l.update_pins,
                read_facts: l.facts.clone(),
                ..job.config.file.options.clone()
            };
            &with_registry
        }
        None => &job.config.file.options,
    };
    let base = if kind == FileKind::Compose {
        compose_base_services(path)
    } else {
        None
    };
    let workspace = crate::workspace::FsWorkspace::beside_in_run(path, job.view);
    let engine = Engine {
        base_services: base.as_deref(),
        transforms: selected_transforms(job.config, path, job.select, job.ignore),
        settings,
        resolver,
        workspace: &workspace,
        path: Some(display),
    };
    // YAML line breaks include a CR alone.
    let line_index = |t: &str| {
        if kind == FileKind::Dockerfile {
            LineIndex::new(t)
        } else {
            LineIndex::with_cr_breaks(t)
        }
    };
    let index = line_index(text);
    // A registry look-up this file needed failed: report it and leave the file as it is.
    let registry_failure = || {
        let failed = table.as_ref().map(crate::oci::TableResolver::failed)?;
        (!failed.is_empty()).then(|| ErrorOut {
            message: format!(
                "registry look-up failed, file left unchanged: {}",
                failed.join("; ")
            ),
            line: None,
            column: None,
        })
    };
    // A typo in a suppression must not silently keep (or hide) a finding.
    if let Some((range, e)) = dockharden_transforms::suppression::unknown_codes(text)
        .into_iter()
        .next()
    {
        let lc = index.line_col(text, range.start);
        result.error = Some(ErrorOut {
            message: format!("suppression comment: {e}"),
            line: Some(lc.line),
            column: Some(lc.column),
        });
        return result;
    }
    // A walked Dockerfile with template directives (`FROM {{ base }}`, `{% if %}` lines) would be
    // "fixed" into nonsense: it is a template source.
    // (Both tests need `{{` or `{%` in a line: a text without either has no such line. One pass
    // over the `{`s, found a vector at a time, tells.)
    if !explicit
        && kind == FileKind::Dockerfile
        && memchr::memchr_iter(b'{', text.as_bytes())
            .any(|i| matches!(text.as_bytes().get(i + 1), Some(b'{' | b'%')))
        && text.lines().any(|l| {
            let t = l.trim_start();
            t.starts_with("{{")
                || t.starts_with("{%")
                || (t.len() > 4
                    && t.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
                    && crate::discover::has_template_markers(t))
        })
    {
        result.template = Some(crate::discover::Template::Templated);
        return result;
    }
    let Mode::Fix {
        write,
        diff,
        mask_secrets,
        unsafe_fixes,
        allow_dirty,
        force_write,
    } = job.mode
    else {
        match engine.check(kind, text) {
            Ok(findings) => {
                result.findings = findings
                    .iter()
                    .map(|f| finding_out(text, &index, f))
                    .collect();
                result.error = registry_failure();
            }
            // A walked file that does not parse and has template markers is a template source.
            Err(_) if !explicit && crate::discover::has_template_markers(text) => {
                result.template = Some(crate::discover::Template::Templated);
            }
            Err(e) => {
                let lc = index.line_col(text, e.range.start);
                result.error = Some(ErrorOut {
                    message: e.message,
                    line: Some(lc.line),
                    column: Some(lc.column),
                });
            }
        }
        return result;
    };
    let mut unsafe_ok = unsafe_fixes.unwrap_or(job.config.file.unsafe_fixes.unwrap_or(false));
    // Unsafe fixes are not written into a file with uncommitted changes of the user's (they could
    // not be reviewed and reverted apart from them): such a file gets its Safe fixes only, decided
    // on the status taken before the run wrote anything. Changes that are exactly what
    // dockharden's Safe fixes make of the committed file are not the user's: `fix` followed by
    // `fix --unsafe-fixes` (the README's order) works.
    if unsafe_ok
        && write
        && !allow_dirty
        && job
            .git
            .is_some_and(|g| g.is_dirty(path) && !dirt_is_ours(g, path, &engine, kind, text))
    {
        unsafe_ok = false;
        result.dirty_guarded = true;
    }
    let policy = FixPolicy {
        min_applicability: if unsafe_ok {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
    };
    // One parse and one check of the input: the fix's first round is the check.
    let options = dockharden_transforms::engine::FixOptions {
        secrets: diff && mask_secrets,
        // With unsafe fixes nearly every compose file and manifest gets some.
        load_yaml: unsafe_ok,
    };
    let outcome = match engine.fix_with_options(
        kind,
        text,
        &mut |f| {
            f.fix
                .as_ref()
                .is_some_and(|fix| fix.applicability >= policy.min_applicability)
        },
        options,
    ) {
        Ok(o) => o,
        Err(EngineError::Syntax(_)) if !explicit && crate::discover::has_template_markers(text) => {
            result.template = Some(crate::discover::Template::Templated);
            return result;
        }
        Err(EngineError::Syntax(e)) => {
            let lc = index.line_col(text, e.range.start);
            result.error = Some(ErrorOut {
                message: e.message,
                line: Some(lc.line),
                column: Some(lc.column),
            });
            return result;
        }
        Err(e @ EngineError::Bug { .. }) => {
            // What the input has is still reported.
            if let Ok(findings) = engine.check(kind, text) {
                result.findings = findings
                    .iter()
                    .map(|f| finding_out(text, &index, f))
                    .collect();
            }
            result.bug = true;
            result.error = Some(ErrorOut {
                message: e.to_string(),
                line: None,
                column: None,
            });
            return result;
        }
    };
    result.findings = outcome
        .initial
        .iter()
        .map(|f| finding_out(text, &index, f))
        .collect();
    if let Some(e) = registry_failure() {
        result.error = Some(e);
        return result;
    }
    let new_index = line_index(&outcome.text);
    result.remaining = outcome
        .remaining
        .iter()
        .map(|f| finding_out(&outcome.text, &new_index, f))
        .collect();
    result.skipped_unsafe = outcome
        .remaining
        .iter()
        .filter(|f| {
            f.fix
                .as_ref()
                .is_some_and(|x| x.applicability == Applicability::Unsafe && !x.edits.is_empty())
        })
        .count();
    result.applied = outcome.applied.iter().map(AppliedOut::from).collect();
    result.changed = outcome.text != text;
    if result.changed {
        if diff && mask_secrets {
            let (d, n) = crate::redact::masked_diff(
                display,
                text,
                &outcome.secrets_before,
                &outcome.text,
                &outcome.secrets_after,
            );
            result.diff = Some(d);
            result.masked_secrets = n;
        } else if diff {
            result.diff = Some(unified_diff(display, text, &outcome.text));
        }
        if write {
            if let Some(target) = write_to {
                if let Err(e) = crate::files::write_atomic_with(
                    target,
                    text,
                    &outcome.text,
                    crate::files::WriteOptions { force: force_write },
                ) {
                    result.error = Some(ErrorOut {
                        message: format!("cannot write: {e}"),
                        line: None,
                        column: None,
                    });
                    // Nothing was fixed in this file.
                    result.changed = false;
                    result.applied.clear();
                }
            }
        }
    }
    if job.keep_output {
        result.output = Some(outcome.text);
    }
    result
}

/// The `values.yaml` of a Helm chart: reported where it follows the common chart layout and the
/// chart's templates use the block (see `dockharden_transforms::kubernetes::helm_values`); never
/// edited (what a value does is decided by the templates, which only `helm template` renders).
pub fn process_helm_values(
    job: &Job<'_>,
    display: &str,
    path: &Path,
    chart: &Path,
    text: &str,
) -> FileResult {
    use dockharden_transforms::kubernetes::helm_values;
    let mut result = FileResult {
        path: display.to_owned(),
        kind: Some(FileKind::Kubernetes),
        ..FileResult::default()
    };
    let index = LineIndex::with_cr_breaks(text);
    let located = |range: dockharden_transforms::TextRange, message: String| {
        let lc = index.line_col(text, range.start);
        ErrorOut {
            message,
            line: Some(lc.line),
            column: Some(lc.column),
        }
    };
    if let Some((range, e)) = dockharden_transforms::suppression::unknown_codes(text)
        .into_iter()
        .next()
    {
        result.error = Some(located(range, format!("suppression comment: {e}")));
        return result;
    }
    let mut templates = String::new();
    let mut stack = vec![chart.join("templates")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => {
                    if let Some(t) = crate::files::read_text_if_readable(&p) {
                        templates.push_str(&t);
                        templates.push('\n');
                    }
                }
                _ => {}
            }
        }
    }
    let uses = helm_values::ValuesUse::from_templates(&templates);
    let findings = match helm_values::check(text, uses) {
        Ok(f) => f,
        Err(e) => {
            result.error = Some(located(e.range, e.message));
            return result;
        }
    };
    let codes: Vec<&'static str> = selected_transforms(job.config, path, job.select, job.ignore)
        .iter()
        .map(|t| t.code())
        .collect();
    let findings: Vec<Finding> = findings
        .into_iter()
        .filter(|f| codes.contains(&f.code))
        .collect();
    let findings = dockharden_transforms::suppression::apply(text, &codes, findings);
    result.findings = findings
        .iter()
        .map(|f| finding_out(text, &index, f))
        .collect();
    if matches!(job.mode, Mode::Fix { .. }) {
        result.remaining = result.findings.clone();
        if job.keep_output {
            result.output = Some(text.to_owned());
        }
    }
    result
}

/// Whether the uncommitted changes of `path` are exactly what dockharden's Safe fixes make of its
/// committed content (so no work of the user's is mixed into the file).
pub(crate) fn dirt_is_ours(
    git: &crate::git::GitStatus,
    path: &Path,
    engine: &Engine<'_>,
    kind: FileKind,
    text: &str,
) -> bool {
    let Some(head) = git.head_text(path) else {
        return false;
    };
    let safe = FixPolicy {
        min_applicability: Applicability::Safe,
    };
    engine
        .fix(kind, &head, safe)
        .is_ok_and(|o| o.text == text && o.text != head)
}

/// A unified diff with `a/` and `b/` prefixes, applicable with `git apply` / `patch -p1`.
///
/// Lines are what git and patch take them to be: ended by LF only. (A CR alone is a line break in
/// YAML, and `similar` splits on it too, which would make hunks git cannot apply; CRLF lines keep
/// their CR as content, as git shows them.) A last line without LF gets git's
/// `\ No newline at end of file` marker. Linear in the texts plus the diff's own cost.
pub fn unified_diff(display: &str, old: &str, new: &str) -> String {
    unified_diff_shown(display, old, new, old, new)
}

/// The diff of two lists of lines, as `similar::TextDiff::configure().diff_slices` computes it
/// (Myers, no deadline; past 100 lines the lines are numbered by first appearance, old then new,
/// and the numbers compared), numbering with foldhash: `similar` numbers with the standard
/// library's SipHash, which was a third of the diffs' cost.
fn diff_ops<'t>(a: &[&'t str], b: &[&'t str]) -> Vec<similar::DiffOp> {
    use similar::{capture_diff_deadline, Algorithm};
    if a.len() <= 100 && b.len() <= 100 {
        return capture_diff_deadline(Algorithm::Myers, a, 0..a.len(), b, 0..b.len(), None);
    }
    let mut ids: std::collections::HashMap<&'t str, u32, foldhash::fast::RandomState> =
        std::collections::HashMap::with_capacity_and_hasher(a.len() + b.len(), Default::default());
    let mut number = |line: &&'t str| -> u32 {
        let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        *ids.entry(*line).or_insert(next)
    };
    let na: Vec<u32> = a.iter().map(&mut number).collect();
    let nb: Vec<u32> = b.iter().map(&mut number).collect();
    capture_diff_deadline(Algorithm::Myers, &na, 0..na.len(), &nb, 0..nb.len(), None)
}

/// [`unified_diff`] of `old` → `new`, printing the lines of `shown_old` / `shown_new` in their
/// place: texts with the same lines (the same LF positions) where some values are masked. A line
/// that has no counterpart is shown as `****`.
pub fn unified_diff_shown<'a>(
    display: &str,
    old: &'a str,
    new: &'a str,
    shown_old: &'a str,
    shown_new: &'a str,
) -> String {
    use similar::DiffTag;
    let name = display.strip_prefix("./").unwrap_or(display);
    // `split_inclusive('\n')`, finding the breaks with memchr: splitting the four texts a line
    // at a time was 1% of a `fix --check --unsafe-fixes` run over the corpus.
    let lines = |text: &'a str| -> Vec<&'a str> {
        let mut out = Vec::with_capacity(text.len() / 32 + 1);
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
            out.push(&text[start..=end]);
            start = end + 1;
        }
        if start < text.len() {
            out.push(&text[start..]);
        }
        out
    };
    let a = lines(old);
    let b = lines(new);
    // (Nothing masked, the usual case: the shown lines are the lines.)
    let (sa_own, sb_own);
    let sa: &[&str] = if shown_old == old {
        &a
    } else {
        sa_own = lines(shown_old);
        &sa_own
    };
    let sb: &[&str] = if shown_new == new {
        &b
    } else {
        sb_own = lines(shown_new);
        &sb_own
    };
    let ops = diff_ops(&a, &b);
    let mut out = String::new();
    out.push_str(&format!("--- a/{name}\n+++ b/{name}\n"));
    let line = |out: &mut String, prefix: char, real: &str, shown: Option<&&str>| {
        out.push(prefix);
        let shown = shown.map_or("****", |l| l.strip_suffix('\n').unwrap_or(l));
        out.push_str(shown);
        if real.ends_with('\n') {
            out.push('\n');
        } else {
            out.push_str("\n\\ No newline at end of file\n");
        }
    };
    for group in similar::group_diff_ops(ops, 3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (o0, n0) = (first.old_range().start, first.new_range().start);
        let (o1, n1) = (last.old_range().end, last.new_range().end);
        // `start,len` (1-based; `start` alone for one line); an empty side is numbered by the line
        // before it (`-0,0` at the top).
        let range = |from: usize, to: usize| match to - from {
            1 => format!("{}", from + 1),
            0 => format!("{from},0"),
            len => format!("{},{len}", from + 1),
        };
        out.push_str(&format!("@@ -{} +{} @@\n", range(o0, o1), range(n0, n1)));
        for op in &group {
            match op.tag() {
                DiffTag::Equal => {
                    for i in op.old_range() {
                        line(&mut out, ' ', a[i], sa.get(i));
                    }
                }
                DiffTag::Delete | DiffTag::Replace | DiffTag::Insert => {
                    for i in op.old_range() {
                        line(&mut out, '-', a[i], sa.get(i));
                    }
                    for i in op.new_range() {
                        line(&mut out, '+', b[i], sb.get(i));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ops are those `similar`'s own text diff computes: short and long line lists (past the
    /// 100 lines where lines are numbered), with repeated lines, moves, insertions at either end
    /// and whole replacements.
    #[test]
    fn diff_ops_are_similars() {
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        let pool: Vec<String> = (0..40).map(|i| format!("line {}\n", i % 17)).collect();
        for case in 0..60 {
            let len = [3, 50, 99, 100, 101, 180, 400][case % 7];
            let old: Vec<&str> = (0..len)
                .map(|_| pool[next() as usize % 40].as_str())
                .collect();
            let mut new = old.clone();
            for _ in 0..(next() % 12) {
                let at = next() as usize % (new.len() + 1);
                match next() % 3 {
                    0 => new.insert(at, pool[next() as usize % 40].as_str()),
                    1 if at < new.len() => {
                        new.remove(at);
                    }
                    _ if at < new.len() => new[at] = "changed\n",
                    _ => {}
                }
            }
            let expected = similar::TextDiff::configure()
                .diff_slices(&old, &new)
                .ops()
                .to_vec();
            assert_eq!(diff_ops(&old, &new), expected, "case {case}");
            assert_eq!(
                diff_ops(&new, &old).len(),
                similar::TextDiff::configure()
                    .diff_slices(&new, &old)
                    .ops()
                    .len()
            );
        }
    }
}
