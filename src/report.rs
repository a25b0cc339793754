//! Reports: text (for people) and JSON (for machines).

use std::collections::BTreeMap;
use std::io::Write;

use anstream::stream::IsTerminal as _;

use crate::run::FileResult;

/// Totals over a run.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    pub files_scanned: usize,
    pub files_changed: usize,
    pub files_unchanged: usize,
    pub files_errored: usize,
    pub findings: usize,
    pub fixes_applied: usize,
    pub skipped_unsafe: usize,
    /// Walked files under `templates/` of a Helm chart: not processed.
    pub skipped_helm_templates: usize,
    /// Walked template sources (Jinja, Go templates, `${{ }}`): not processed.
    pub skipped_templated: usize,
    pub findings_per_rule: BTreeMap<&'static str, usize>,
    pub fixes_per_rule: BTreeMap<&'static str, usize>,
}

/// Everything the end of a run needs, accumulated file by file (the files themselves are not kept).
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub summary: Summary,
    pub remaining: usize,
    pub safe_fixable: usize,
    pub unsafe_fixable: usize,
    pub any_error: bool,
    pub any_finding: bool,
    pub any_change: bool,
    /// Files whose Unsafe fixes were held back because of uncommitted changes.
    pub dirty_guarded: Vec<String>,
    /// The highest severity among the findings.
    pub max_severity: Option<dockharden_transforms::severity::Severity>,
    /// `--severity-threshold`: `check` exits 1 only for findings at or above it.
    pub threshold: Option<dockharden_transforms::severity::Severity>,
}

impl Totals {
    pub fn add(&mut self, r: &FileResult) {
        let s = &mut self.summary;
        match r.template {
            Some(crate::discover::Template::HelmChart) => {
                s.skipped_helm_templates += 1;
                return;
            }
            Some(crate::discover::Template::Templated) => {
                s.skipped_templated += 1;
                return;
            }
            None => {}
        }
        s.files_scanned += 1;
        if r.error.is_some() {
            s.files_errored += 1;
            self.any_error = true;
        } else if r.changed {
            s.files_changed += 1;
            self.any_change = true;
        } else {
            s.files_unchanged += 1;
        }
        if r.dirty_guarded && r.skipped_unsafe > 0 {
            self.dirty_guarded.push(r.path.clone());
        }
        s.findings += r.findings.len();
        self.any_finding |= !r.findings.is_empty();
        s.fixes_applied += r.applied.len();
        s.skipped_unsafe += r.skipped_unsafe;
        self.remaining += r.remaining.len();
        for f in &r.findings {
            let sev = dockharden_transforms::severity::Severity::parse(f.severity);
            self.max_severity = self.max_severity.max(sev);
            *s.findings_per_rule.entry(f.code).or_default() += 1;
            match f.fix.as_ref().map(|x| x.applicability) {
                Some("safe") => self.safe_fixable += 1,
                Some("unsafe") => self.unsafe_fixable += 1,
                _ => {}
            }
        }
        for a in &r.applied {
            *s.fixes_per_rule.entry(a.code).or_default() += 1;
        }
    }

    /// 2 on any error; else 1 when `check` found something or `fix` changed (or would change)
    /// something; else 0. (`fix` and `fix --diff` map 1 to 0 in `main`.)
    #[must_use]
    pub fn exit_code(&self, mode: crate::run::Mode) -> u8 {
        if self.any_error {
            return 2;
        }
        match mode {
            crate::run::Mode::Check => match self.threshold {
                Some(t) => u8::from(self.max_severity.is_some_and(|m| m >= t)),
                None => u8::from(self.any_finding),
            },
            crate::run::Mode::Fix { .. } => u8::from(self.any_change),
        }
    }
}

/// One file of the JSON document.
#[must_use]
pub fn json_file(r: &FileResult, fix_mode: bool) -> serde_json::Value {
    let mut v = serde_json::json!({
        "path": r.path,
        "kind": r.kind.map(|k| k.as_str()),
        "findings": r.findings,
        "error": r.error,
    });
    if fix_mode {
        v["changed"] = serde_json::json!(r.changed);
        v["fixes_applied"] = serde_json::json!(r.applied);
        v["remaining"] = serde_json::json!(r.remaining);
    }
    v
}

/// The JSON document (version 1): every file scanned, clean ones included.
#[must_use]
pub fn json(results: &[FileResult], fix_mode: bool) -> serde_json::Value {
    let files: Vec<serde_json::Value> = results.iter().map(|r| json_file(r, fix_mode)).collect();
    serde_json::json!({ "version": 1, "files": files })
}

fn style<'a>(enabled: bool, code: &'a str, s: &'a str) -> Styled<'a> {
    Styled { enabled, code, s }
}

/// `s` in the SGR style `code` when `enabled`, written where it is formatted (a report has a few
/// of these per finding: no string is built for each).
struct Styled<'a> {
    enabled: bool,
    code: &'a str,
    s: &'a str,
}

impl std::fmt::Display for Styled<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.enabled {
            write!(f, "\x1b[{}m{}\x1b[0m", self.code, self.s)
        } else {
            f.write_str(self.s)
        }
    }
}

/// Whether colour is on for a stream.
#[must_use]
pub fn color_enabled(choice: crate::cli::ColorChoice, terminal: bool) -> bool {
    match choice {
        crate::cli::ColorChoice::Always => true,
        crate::cli::ColorChoice::Never => false,
        crate::cli::ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}

#[must_use]
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// [`text_findings`]' lines for the findings of the file at `path`, put together by bytes rather
/// than with the formatting machinery (a run writes one line or two per finding, tens of thousands
/// over a large tree).
fn finding_lines(
    out: &mut dyn Write,
    path: &str,
    list: &[crate::run::FindingOut],
    color: bool,
) -> std::io::Result<()> {
    fn push_dec(buf: &mut Vec<u8>, n: usize) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = n;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        buf.extend_from_slice(&digits[at..]);
    }
    // `parts` in the SGR style `code` when colour is on (as [`style`] writes them).
    let styled = |buf: &mut Vec<u8>, code: &str, parts: &[&[u8]]| {
        if color {
            buf.extend_from_slice(b"\x1b[");
            buf.extend_from_slice(code.as_bytes());
            buf.push(b'm');
        }
        for p in parts {
            buf.extend_from_slice(p);
        }
        if color {
            buf.extend_from_slice(b"\x1b[0m");
        }
    };
    let mut buf: Vec<u8> = Vec::with_capacity(512);
    for f in list {
        let marker: &[u8] = match f.fix.as_ref().map(|x| x.applicability) {
            Some("safe") => b" [*]",
            Some("unsafe") => b" [+]",
            _ => b"",
        };
        let sev_style = match f.severity {
            "critical" | "high" => "1;31",
            "medium" => "33",
            _ => "2",
        };
        styled(&mut buf, "1", &[path.as_bytes()]);
        buf.push(b':');
        push_dec(&mut buf, f.range.start.line);
        buf.push(b':');
        push_dec(&mut buf, f.range.start.column);
        buf.extend_from_slice(b": ");
        styled(&mut buf, "1;31", &[f.code.as_bytes()]);
        buf.extend_from_slice(marker);
        buf.push(b' ');
        styled(&mut buf, sev_style, &[f.severity.as_bytes(), b":"]);
        buf.push(b' ');
        buf.extend_from_slice(f.message.as_bytes());
        buf.push(b'\n');
        if let Some(fix) = &f.fix {
            let label: &[u8] = if fix.applicability == "display-only" {
                b"suggestion"
            } else {
                b"fix"
            };
            buf.extend_from_slice(b"  ");
            styled(&mut buf, "2", &[label, b":"]);
            buf.push(b' ');
            buf.extend_from_slice(fix.title.as_bytes());
            buf.push(b'\n');
        }
    }
    out.write_all(&buf)
}

/// Text findings, ruff-style: `path:line:col: CODE [*] message`.
///
/// # Errors
/// Write errors (a broken pipe is handled by the caller).
pub fn text_findings(
    out: &mut dyn Write,
    results: &[FileResult],
    color: bool,
    fix_mode: bool,
) -> std::io::Result<()> {
    for r in results {
        if let Some(e) = &r.error {
            let loc = match (e.line, e.column) {
                (Some(l), Some(c)) => format!(":{l}:{c}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "{}{loc}: {} {}",
                style(color, "1", &r.path),
                style(color, "1;31", "error:"),
                e.message
            )?;
            continue;
        }
        let list = if fix_mode { &r.remaining } else { &r.findings };
        finding_lines(out, &r.path, list, color)?;
    }
    Ok(())
}

/// The closing summary lines of a text report.
#[must_use]
pub fn text_summary(totals: &Totals, shape: SummaryShape) -> String {
    let SummaryShape {
        fix_mode,
        dry_run,
        elapsed,
        statistics,
    } = shape;
    let s = &totals.summary;
    let mut lines = Vec::new();
    // Per rule: findings (and fixes), with `--statistics`.
    if statistics {
        for (code, n) in &s.findings_per_rule {
            let name = dockharden_transforms::registry::find(code)
                .map_or(dockharden_transforms::suppression::UNUSED_NAME, |t| {
                    t.name()
                });
            let fixed = s.fixes_per_rule.get(code).copied().unwrap_or(0);
            if fix_mode {
                lines.push(format!(
                    "  {code:<7} {name:<36} {n:>6} found {fixed:>6} fixed"
                ));
            } else {
                lines.push(format!("  {code:<7} {name:<36} {n:>6}"));
            }
        }
    }
    if fix_mode {
        let remaining = totals.remaining;
        let verb = if dry_run { "Would fix" } else { "Fixed" };
        // `--diff` / `--check` end with one line: the Unsafe hint goes into it.
        let unsafe_note = if dry_run && s.skipped_unsafe > 0 {
            format!("; {} more with `--unsafe-fixes`", s.skipped_unsafe)
        } else {
            String::new()
        };
        lines.push(format!(
            "{verb} {} finding{} in {} file{} ({remaining} remaining{unsafe_note}; {} file{} scanned, {} unchanged, {} with errors).",
            s.fixes_applied,
            plural(s.fixes_applied),
            s.files_changed,
            plural(s.files_changed),
            s.files_scanned,
            plural(s.files_scanned),
            s.files_unchanged,
            s.files_errored
        ));
        if s.skipped_unsafe > 0 && !dry_run {
            lines.push(format!(
                "{} more fix{} available with `--unsafe-fixes` (they change runtime behaviour: review them, e.g. with `fix --diff --unsafe-fixes`).",
                s.skipped_unsafe,
                if s.skipped_unsafe == 1 { " is" } else { "es are" }
            ));
        }
    } else {
        let (safe, unsafe_) = (totals.safe_fixable, totals.unsafe_fixable);
        if s.findings == 0 && s.files_errored == 0 {
            lines.push(format!(
                "All checks passed ({} file{} scanned).",
                s.files_scanned,
                plural(s.files_scanned)
            ));
        } else {
            lines.push(format!(
                "Found {} finding{} in {} file{} scanned ({} with errors).",
                s.findings,
                plural(s.findings),
                s.files_scanned,
                plural(s.files_scanned),
                s.files_errored
            ));
            if safe > 0 {
                lines.push(format!("[*] {safe} fixable with `dockharden fix`."));
            }
            if unsafe_ > 0 {
                lines.push(format!(
                    "[+] {unsafe_} more fixable with `dockharden fix --unsafe-fixes`."
                ));
            }
        }
    }
    if let Some(line) = templates_line(s) {
        lines.push(line);
    }
    if let Some(elapsed) = elapsed {
        lines.push(format!("Elapsed: {:.2} s.", elapsed.as_secs_f64()));
    }
    lines.join("\n")
}

/// The warning for files whose Unsafe fixes were held back: which, and how to proceed.
#[must_use]
pub fn dirty_guard_warning(totals: &Totals) -> Option<String> {
    let files = &totals.dirty_guarded;
    if files.is_empty() {
        return None;
    }
    let shown: Vec<&str> = files.iter().take(10).map(String::as_str).collect();
    let more = files.len().saturating_sub(shown.len());
    Some(format!(
        "dockharden: warning: Unsafe fixes were not written into {} file{} with uncommitted changes ({}{}); their Safe fixes were. Commit or stash those changes and run `dockharden fix --unsafe-fixes` again (review with `fix --diff --unsafe-fixes`), or pass `--allow-dirty`.",
        files.len(),
        plural(files.len()),
        shown.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() }
    ))
}

/// The one summary line about template sources that were skipped.
fn templates_line(s: &Summary) -> Option<String> {
    let mut parts = Vec::new();
    if s.skipped_helm_templates > 0 {
        let n = s.skipped_helm_templates;
        parts.push(format!(
            "{n} Helm chart template{} (check the rendered output: `helm template . | dockharden check --stdin-filename manifest.yaml`)",
            plural(n)
        ));
    }
    if s.skipped_templated > 0 {
        let n = s.skipped_templated;
        parts.push(format!(
            "{n} templated file{} (Jinja, Go template or `${{{{ }}}}`)",
            plural(n)
        ));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "Skipped {}; name a file on the command line to process it anyway.",
            parts.join(" and ")
        )
    })
}

/// What the closing summary shows.
#[derive(Clone, Copy, Debug)]
pub struct SummaryShape {
    pub fix_mode: bool,
    /// `fix --diff` / `--check`: nothing written.
    pub dry_run: bool,
    /// `--verbose`: the run's duration (otherwise the output is the same from run to run).
    pub elapsed: Option<std::time::Duration>,
    /// `--statistics`: findings (and fixes) per rule.
    pub statistics: bool,
}

/// A unified diff coloured for a terminal (headers bold, hunks cyan, removed red, added green).
#[must_use]
pub fn color_diff(diff: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.split_inclusive('\n') {
        let (body, nl) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        let code = if body.starts_with("+++ ") || body.starts_with("--- ") {
            "1"
        } else if body.starts_with("@@") {
            "36"
        } else if body.starts_with('+') {
            "32"
        } else if body.starts_with('-') {
            "31"
        } else {
            ""
        };
        let _ = write!(out, "{}", style(!code.is_empty(), code, body));
        out.push_str(nl);
    }
    out
}

const fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The tool's rules as SARIF `reportingDescriptor`s, in code order, with X001 last.
fn sarif_rules() -> (Vec<serde_json::Value>, Vec<&'static str>) {
    let mut rules = Vec::new();
    let mut ids = Vec::new();
    for t in dockharden_transforms::registry::all() {
        let docs = t.docs();
        let severity = dockharden_transforms::severity::of(t.code());
        let what = docs
            .split_once("## What it does")
            .map(|(_, rest)| rest.split("\n## ").next().unwrap_or("").trim().to_owned())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| t.why());
        rules.push(serde_json::json!({
            "id": t.code(),
            "name": t.name(),
            "shortDescription": {"text": t.why()},
            "fullDescription": {"text": what},
            "help": {"text": docs, "markdown": docs},
            "helpUri": help_uri(t.code()),
            "defaultConfiguration": {"level": sarif_level(severity)},
            "properties": {
                "tags": ["security", t.kind_label()],
                "fix": t.fix_availability().as_str(),
                "security-severity": severity.score(),
                "precision": "high",
                "problem.severity": sarif_problem_severity(severity),
            },
        }));
        ids.push(t.code());
    }
    let docs = dockharden_transforms::suppression::UNUSED_DOCS;
    rules.push(serde_json::json!({
        "id": dockharden_transforms::suppression::UNUSED_CODE,
        "name": dockharden_transforms::suppression::UNUSED_NAME,
        "shortDescription": {"text": "A dockharden suppression comment that suppresses nothing."},
        "fullDescription": {"text": "Reports a `# dockharden: ignore=CODE` comment that suppresses nothing: a stale suppression hides the next real finding at that place."},
        "help": {"text": docs, "markdown": docs},
        "helpUri": help_uri(dockharden_transforms::suppression::UNUSED_CODE),
        "defaultConfiguration": {"level": "note"},
        "properties": {"tags": ["maintainability"], "precision": "very-high", "problem.severity": "recommendation"},
    }));
    ids.push(dockharden_transforms::suppression::UNUSED_CODE);
    (rules, ids)
}

/// Where a rule's documentation is read on the web: the doc comment of its transform (also given
/// as `help`; `dockharden explain CODE` prints it). X001 is documented in the README.
fn help_uri(code: &str) -> String {
    const REPO: &str = "https://github.com/dockharden/dockharden/blob/main";
    match dockharden_transforms::registry::find(code) {
        // (`file!()` is relative to the workspace root, or to the crate when built on its own.)
        Some(t) => match t.source_file() {
            f if f.starts_with("transforms/") => format!("{REPO}/{f}"),
            f => format!("{REPO}/transforms/{f}"),
        },
        None => format!("{REPO}/README.md#suppressions"),
    }
}

const fn sarif_level(s: dockharden_transforms::severity::Severity) -> &'static str {
    use dockharden_transforms::severity::Severity;
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

const fn sarif_problem_severity(s: dockharden_transforms::severity::Severity) -> &'static str {
    use dockharden_transforms::severity::Severity;
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "recommendation",
    }
}

/// A path as an RFC 3986 URI reference: `/` kept, unreserved characters kept, every other byte
/// percent-encoded (spaces, `%`, `#`, `?`, non-ASCII).
fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The SARIF location of a reported path: relative to `%SRCROOT%` (the working directory) when it
/// is inside it, else an absolute `file://` URI (no base).
fn sarif_artifact(path: &str, cwd: Option<&std::path::Path>) -> serde_json::Value {
    let p = std::path::Path::new(path);
    if p.is_absolute() {
        if let Some(rel) = cwd.and_then(|c| p.strip_prefix(c).ok()) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            return serde_json::json!({"uri": percent_encode_path(&rel), "uriBaseId": "%SRCROOT%"});
        }
        let abs = path.replace('\\', "/");
        let abs = if abs.starts_with('/') {
            abs
        } else {
            format!("/{abs}")
        };
        return serde_json::json!({"uri": format!("file://{}", percent_encode_path(&abs))});
    }
    let rel = path.replace('\\', "/");
    let rel = rel.strip_prefix("./").unwrap_or(&rel);
    serde_json::json!({"uri": percent_encode_path(rel), "uriBaseId": "%SRCROOT%"})
}

fn sarif_region(r: &crate::run::RangeOut) -> serde_json::Value {
    serde_json::json!({
        "startLine": r.start.line,
        "startColumn": r.start.column,
        "endLine": r.end.line,
        "endColumn": r.end.column,
    })
}

/// SARIF 2.1.0 (GitHub code scanning): rule metadata, one result per finding, Safe and Unsafe fixes as
/// SARIF `fixes`, file errors as tool execution notifications.
#[must_use]
pub fn sarif(results: &[FileResult]) -> serde_json::Value {
    let (rules, ids) = sarif_rules();
    let mut out = Vec::new();
    let mut notifications = Vec::new();
    let cwd = std::env::current_dir().ok();
    for r in results {
        let artifact = sarif_artifact(&r.path, cwd.as_deref());
        if let Some(e) = &r.error {
            let mut n = serde_json::json!({
                "level": "error",
                "message": {"text": e.message},
                "locations": [{"physicalLocation": {"artifactLocation": artifact}}],
            });
            if let (Some(l), Some(c)) = (e.line, e.column) {
                n["locations"][0]["physicalLocation"]["region"] =
                    serde_json::json!({"startLine": l, "startColumn": c});
            }
            notifications.push(n);
            continue;
        }
        for f in &r.findings {
            let location = serde_json::json!({
                "physicalLocation": {
                    "artifactLocation": artifact,
                    "region": sarif_region(&f.range),
                }
            });
            let mut result = serde_json::json!({
                "ruleId": f.code,
                "ruleIndex": ids.iter().position(|c| *c == f.code).unwrap_or(0),
                "level": sarif_level(dockharden_transforms::severity::of(f.code)),
                "message": {"text": f.message},
                "locations": [location],
            });
            if let Some(fix) = f
                .fix
                .as_ref()
                .filter(|x| x.applicability != "display-only" && !x.edits.is_empty())
            {
                let replacements: Vec<serde_json::Value> = fix
                    .edits
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "deletedRegion": sarif_region(&e.range),
                            "insertedContent": {"text": e.replacement},
                        })
                    })
                    .collect();
                result["fixes"] = serde_json::json!([{
                    "description": {"text": format!("{} ({})", fix.title, fix.applicability)},
                    "artifactChanges": [{
                        "artifactLocation": artifact,
                        "replacements": replacements,
                    }],
                }]);
            }
            out.push(result);
        }
    }
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "dockharden",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/dockharden/dockharden",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"%SRCROOT%": src_root(cwd.as_deref())},
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": out,
        }],
    })
}

/// `%SRCROOT%`: the working directory, as an absolute `file://` URI ending in `/`.
fn src_root(cwd: Option<&std::path::Path>) -> serde_json::Value {
    let mut v =
        serde_json::json!({"description": {"text": "The directory dockharden was run from."}});
    if let Some(c) = cwd {
        let mut p = c.to_string_lossy().replace('\\', "/");
        if !p.starts_with('/') {
            p.insert(0, '/');
        }
        if !p.ends_with('/') {
            p.push('/');
        }
        v["uri"] = serde_json::json!(format!("file://{}", percent_encode_path(&p)));
    }
    v
}

/// Escape a GitHub workflow command's data (`%`, CR, LF) or property value (also `:` and `,`).
fn gh_escape(s: &str, property: bool) -> String {
    let mut o = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        o = o.replace(':', "%3A").replace(',', "%2C");
    }
    o
}

/// GitHub Actions workflow annotations (`::warning file=…,line=…::message`), one line per finding;
/// file errors are `::error`.
///
/// # Errors
/// Write errors.
pub fn github(out: &mut dyn Write, results: &[FileResult], fix_mode: bool) -> std::io::Result<()> {
    for r in results {
        let file = gh_escape(&r.path, true);
        if let Some(e) = &r.error {
            let loc = match (e.line, e.column) {
                (Some(l), Some(c)) => format!(",line={l},col={c}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "::error file={file}{loc},title=dockharden::{}",
                gh_escape(&e.message, false)
            )?;
            continue;
        }
        let list = if fix_mode { &r.remaining } else { &r.findings };
        for f in list {
            let title = gh_escape(&format!("{} {} ({})", f.code, f.name, f.severity), true);
            let level = match f.severity {
                "critical" | "high" => "error",
                "medium" => "warning",
                _ => "notice",
            };
            writeln!(
                out,
                "::{level} file={file},line={},col={},endLine={},endColumn={},title={title}::{}",
                f.range.start.line,
                f.range.start.column,
                f.range.end.line,
                f.range.end.column,
                gh_escape(&f.message, false)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{FileResult, FindingOut, FixOut, RangeOut};
    use dockharden_transforms::LineCol;

    /// Without colour, the findings are the coloured lines less their SGR codes, and the coloured
    /// lines are styled as `style` styles (the output of both was compared byte for byte with the
    /// formatted lines they replace over the corpora).
    #[test]
    fn plain_lines_are_the_styled_lines_without_their_colour() {
        let finding =
            |code, severity, applicability: Option<&'static str>, line, column| FindingOut {
                code,
                name: "a-rule",
                severity,
                message: format!("`x` at {line} – é"),
                range: RangeOut {
                    start: LineCol { line, column },
                    end: LineCol { line, column },
                },
                fix: applicability.map(|a| FixOut {
                    applicability: a,
                    title: format!("Do {a}"),
                    edits: Vec::new(),
                }),
            };
        let result = |path: &str| FileResult {
            path: path.to_owned(),
            findings: vec![
                finding("DF001", "low", Some("safe"), 1, 1),
                finding("DC002", "high", Some("unsafe"), 10, 23),
                finding("K8S001", "critical", Some("display-only"), 1234567, 0),
                finding("DF004", "medium", None, 7, 100),
            ],
            remaining: vec![finding("DR013", "critical", Some("unsafe"), 3, 9)],
            ..FileResult::default()
        };
        let results = [
            result("a/Dockerfile"),
            result("b c/compose.yaml"),
            result(""),
        ];
        for fix_mode in [false, true] {
            let (mut plain, mut styled) = (Vec::new(), Vec::new());
            text_findings(&mut plain, &results, false, fix_mode).unwrap();
            text_findings(&mut styled, &results, true, fix_mode).unwrap();
            let styled = String::from_utf8(styled).unwrap();
            let mut unstyled = String::new();
            let mut rest = styled.as_str();
            while let Some(at) = rest.find('\x1b') {
                unstyled.push_str(&rest[..at]);
                rest = &rest[at + rest[at..].find('m').unwrap() + 1..];
            }
            unstyled.push_str(rest);
            assert!(styled.contains('\x1b'));
            assert_eq!(String::from_utf8(plain).unwrap(), unstyled);
        }
        // The coloured form as `style` writes it.
        let mut one = Vec::new();
        text_findings(&mut one, &results[..1], true, false).unwrap();
        assert!(String::from_utf8(one).unwrap().starts_with(
            "\x1b[1ma/Dockerfile\x1b[0m:1:1: \x1b[1;31mDF001\x1b[0m [*] \x1b[2mlow:\x1b[0m `x` at 1 \u{2013} \u{e9}\n  \x1b[2mfix:\x1b[0m Do safe\n"
        ));
    }
}
