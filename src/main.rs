//! dockharden: rewrites container configuration into hardened configuration.

mod cli;
mod config;
mod discover;
mod files;
mod git;
mod interactive;
mod manual;
mod oci;
mod redact;
mod report;
mod run;
mod workspace;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Most of the run's time went to the system allocator (many small trees and strings per file):
/// mimalloc's thread-local free lists cut that (see the README's "Performance").
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// mimalloc, called as `mimalloc::MiMalloc` does except that a request needing no more than a
/// word's alignment (nearly all) takes `mi_malloc`'s path rather than `mi_malloc_aligned`'s, which
/// checks the alignment of the block on every call: every mimalloc block is word-aligned (block
/// sizes are whole words from a page start aligned to 16 bytes).
struct MiMalloc;

/// The alignment every mimalloc block has.
const MI_WORD: usize = std::mem::size_of::<usize>();

// SAFETY: each function forwards to the mimalloc function for the same request: blocks from
// `mi_malloc`/`mi_zalloc`/`mi_realloc` are word-aligned, so they serve layouts aligned to a word
// or less; larger alignments go to the `_aligned` variants, as in the `mimalloc` crate.
unsafe impl std::alloc::GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys::{mi_malloc, mi_malloc_aligned};
        if layout.align() <= MI_WORD {
            unsafe { mi_malloc(layout.size()).cast() }
        } else {
            unsafe { mi_malloc_aligned(layout.size(), layout.align()).cast() }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys::{mi_zalloc, mi_zalloc_aligned};
        if layout.align() <= MI_WORD {
            unsafe { mi_zalloc(layout.size()).cast() }
        } else {
            unsafe { mi_zalloc_aligned(layout.size(), layout.align()).cast() }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        use libmimalloc_sys::{mi_realloc, mi_realloc_aligned};
        if layout.align() <= MI_WORD {
            unsafe { mi_realloc(ptr.cast(), new_size).cast() }
        } else {
            unsafe { mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast() }
        }
    }
}

/// `mi_option_purge_delay` in the mimalloc (v3) that `libmimalloc-sys` 0.1.49 builds: the 16th
/// entry of `mi_option_e` in its `mimalloc.h` (a test checks its default, 1000 ms, in this build).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory a run frees goes back to the system after 10 ms, not mimalloc v3's default 1 s: a run
/// frees each batch's trees and results at once, and with the default its peak grew with the
/// number of files (10 copies of the corpus peaked at 37 to 47 MiB from run to run, now 29 to
/// 31 MiB; the time is the same). 10 ms is mimalloc v2's default.
fn tune_allocator() {
    // SAFETY: sets a plain integer option; mimalloc reads options at each purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10) };
}

use clap::Parser as _;
use dockharden_transforms::registry;
use dockharden_transforms::source::FileKind;
use dockharden_transforms::suppression;
use rayon::prelude::*;

use crate::cli::{Cli, Command, CommonArgs, Format};
use crate::config::ConfigResolver;
use crate::run::{FileResult, Job, Mode};

/// Write to stdout; a closed pipe (`dockharden check | head`) ends the program with success.
fn emit(text: &str) {
    emit_bytes(text.as_bytes());
}

/// `--output-file`: where the report goes instead of standard output.
static OUTPUT: std::sync::OnceLock<std::sync::Mutex<std::io::BufWriter<std::fs::File>>> =
    std::sync::OnceLock::new();

/// Write part of the report: to the `--output-file`, else to stdout.
fn emit_bytes(bytes: &[u8]) {
    if let Some(file) = OUTPUT.get() {
        let mut f = file.lock().expect("output file");
        if let Err(e) = f.write_all(bytes).and_then(|()| f.flush()) {
            eprintln!("dockharden: cannot write the output file: {e}");
            std::process::exit(2);
        }
        return;
    }
    emit_stdout(bytes);
}

/// Write to stdout (the fixed text of `--stdin-filename`, whatever `--output-file` says).
fn emit_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("dockharden: cannot write to standard output: {e}");
        std::process::exit(2);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let mut cli = cli;
    if let Err(e) = resolve_rule_args(&mut cli.command) {
        eprintln!("dockharden: error: {e}");
        return ExitCode::from(2);
    }
    let output_file = match &cli.command {
        Command::Check(a) => a.common.output_file.as_ref(),
        Command::Fix(a) => a.common.output_file.as_ref(),
        _ => None,
    };
    if let Some(path) = output_file {
        match std::fs::File::create(path) {
            Ok(f) => {
                let _ = OUTPUT.set(std::sync::Mutex::new(std::io::BufWriter::new(f)));
            }
            Err(e) => {
                eprintln!(
                    "dockharden: error: {}: cannot create the output file: {e}",
                    path.display()
                );
                return ExitCode::from(2);
            }
        }
    }
    match cli.command {
        Command::Rules(args) => rules(args.format),
        Command::Completions(args) => {
            emit_bytes(&manual::completions(args.shell));
            ExitCode::SUCCESS
        }
        Command::Man => match manual::man() {
            Ok(page) => {
                emit_bytes(&page);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("dockharden: error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Explain(args) => explain(&args.rule),
        Command::ExplainImage(args) => explain_image(&args),
        Command::Check(args) if args.add_suppressions => match add_suppressions(&args.common) {
            Ok(c) => ExitCode::from(c),
            Err(e) => {
                eprintln!("dockharden: error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Check(args) => {
            let code = process(&args.common, Mode::Check);
            match code {
                Ok(c) if args.exit_zero && c == 1 => ExitCode::SUCCESS,
                Ok(c) => ExitCode::from(c),
                Err(e) => {
                    eprintln!("dockharden: error: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Fix(args) => {
            let unsafe_fixes = if args.unsafe_fixes {
                Some(true)
            } else if args.no_unsafe_fixes {
                Some(false)
            } else {
                None
            };
            if args.interactive {
                return match interactive::run(
                    &args.common,
                    unsafe_fixes,
                    files::WriteOptions {
                        force: args.force_write,
                    },
                    args.allow_dirty,
                ) {
                    Ok(c) => ExitCode::from(c),
                    Err(e) => {
                        eprintln!("dockharden: error: {e:#}");
                        ExitCode::from(2)
                    }
                };
            }
            let mode = Mode::Fix {
                write: !(args.diff || args.check),
                diff: args.diff || args.check,
                mask_secrets: args.check,
                unsafe_fixes,
                allow_dirty: args.allow_dirty,
                force_write: args.force_write,
            };
            match process(&args.common, mode) {
                Ok(c) => {
                    // fix --diff exits 0 when it could compute the diff; --check is the CI gate.
                    let c = if args.check || c == 2 { c } else { 0 };
                    ExitCode::from(c)
                }
                Err(e) => {
                    eprintln!("dockharden: error: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// `--select` / `--ignore` normalized (foreign ids mapped to our codes); an unknown code or prefix is
/// an error, never a silently empty selection.
fn resolve_rule_args(command: &mut Command) -> anyhow::Result<()> {
    let common = match command {
        Command::Check(a) => &mut a.common,
        Command::Fix(a) => &mut a.common,
        _ => return Ok(()),
    };
    for (flag, list) in [
        ("--select", &mut common.select),
        ("--ignore", &mut common.ignore),
    ] {
        *list = dockharden_transforms::codes::resolve_selectors(list)
            .map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    }
    Ok(())
}

fn rules(format: cli::RulesFormat) -> ExitCode {
    let all = registry::all();
    match format {
        cli::RulesFormat::Json => {
            let mut v: Vec<serde_json::Value> = all
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "code": t.code(), "name": t.name(), "kind": t.kind_label(),
                        "severity": dockharden_transforms::severity::of(t.code()).as_str(),
                        "fix": t.fix_availability().as_str(), "summary": t.why(),
                    })
                })
                .collect();
            v.push(serde_json::json!({"code": suppression::UNUSED_CODE, "name": suppression::UNUSED_NAME, "kind": "any", "severity": "low", "fix": "always", "summary": ""}));
            emit(&(serde_json::to_string_pretty(&v).expect("json") + "\n"));
        }
        cli::RulesFormat::Text => {
            let mut s = format!(
                "{:<8} {:<36} {:<11} {:<9} {}\n",
                "CODE", "NAME", "KIND", "SEVERITY", "FIX"
            );
            for t in &all {
                s.push_str(&format!(
                    "{:<8} {:<36} {:<11} {:<9} {}\n",
                    t.code(),
                    t.name(),
                    t.kind_label(),
                    dockharden_transforms::severity::of(t.code()).as_str(),
                    t.fix_availability().as_str()
                ));
            }
            s.push_str(&format!(
                "{:<8} {:<36} {:<11} {:<9} {}\n",
                suppression::UNUSED_CODE,
                suppression::UNUSED_NAME,
                "any",
                "low",
                "always"
            ));
            emit(&s);
        }
    }
    ExitCode::SUCCESS
}

fn explain_image(args: &cli::ExplainImageArgs) -> ExitCode {
    let resolver = match config::ConfigResolver::new(args.config.as_deref(), args.isolated) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dockharden: error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let here = std::path::Path::new("./.dockharden-explain-image");
    let images = match resolver.for_path(here) {
        Ok(c) => c.file.options.images.clone(),
        Err(e) => {
            eprintln!("dockharden: error: {e:#}");
            return ExitCode::from(2);
        }
    };
    match dockharden_transforms::images::explain(&images, &args.image) {
        Some(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        None => {
            println!(
                "{}: nothing is known about this image: fixes that depend on what it needs (capabilities, read-only paths, its user, the Docker socket) stay suggestions. Describe it in an `[[images]]` entry of .dockharden.toml (schema: `dockharden explain-image postgres` shows one), or answer the questions of `dockharden fix --interactive`.",
                args.image
            );
            ExitCode::from(1)
        }
    }
}

fn explain(rule: &str) -> ExitCode {
    if rule.eq_ignore_ascii_case(suppression::UNUSED_CODE) || rule == suppression::UNUSED_NAME {
        emit(&format!(
            "# {} ({})\n\n{}",
            suppression::UNUSED_NAME,
            suppression::UNUSED_CODE,
            suppression::UNUSED_DOCS
        ));
        return ExitCode::SUCCESS;
    }
    if let Some(t) = registry::find(rule) {
        emit(&rule_doc(t));
        return ExitCode::SUCCESS;
    }
    // A hadolint / checkov / trivy / KICS id explains the rules it maps to, and says so.
    if let Some((tool, ours)) = dockharden_transforms::codes::foreign(rule) {
        // KICS query ids are lower-case UUIDs; the others are upper-case.
        let shown = if tool == "KICS" {
            rule.trim().to_ascii_lowercase()
        } else {
            rule.trim().to_ascii_uppercase()
        };
        let mut out = String::new();
        for code in &ours {
            if let Some(t) = registry::find(code) {
                out.push_str(&format!(
                    "{shown} ({tool}) is {} ({}) in dockharden.\n\n{}",
                    t.code(),
                    t.name(),
                    rule_doc(t)
                ));
            }
        }
        if !out.is_empty() {
            emit(&out);
            return ExitCode::SUCCESS;
        }
    }
    let e = dockharden_transforms::codes::resolve_code(rule)
        .err()
        .map_or_else(|| format!("unknown rule `{rule}`"), |e| e.to_string());
    eprintln!("dockharden: error: {e}");
    ExitCode::from(2)
}

/// A rule's documentation as `explain` prints it (ending with a line break).
fn rule_doc(t: &dyn registry::Transform) -> String {
    let mut doc = format!(
        "# {} ({})\n\nFile kinds: {}. Severity: {}. Fix: {}.\n\n{}",
        t.name(),
        t.code(),
        kind_phrase(t),
        dockharden_transforms::severity::of(t.code()).as_str(),
        t.fix_availability().as_str(),
        t.docs()
    );
    if !doc.ends_with('\n') {
        doc.push('\n');
    }
    doc
}

/// The file kinds a rule reads, for `explain`.
fn kind_phrase(t: &dyn dockharden_transforms::registry::Transform) -> String {
    let kinds: Vec<&str> = FileKind::ALL
        .iter()
        .filter(|k| t.applies_to(**k))
        .map(|k| k.as_str())
        .collect();
    kinds.join(", ")
}

/// The files to process: the given paths (default `.`), walked, minus excluded ones.
pub(crate) fn candidates(
    args: &CommonArgs,
    resolver: &ConfigResolver,
) -> anyhow::Result<(Vec<discover::Candidate>, Vec<discover::Skipped>)> {
    let forced = match &args.kind {
        Some(k) => {
            Some(FileKind::from_name(k).ok_or_else(|| anyhow::anyhow!("unknown kind `{k}`"))?)
        }
        None => None,
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let exclude = |p: &Path| {
        resolver
            .for_path(p)
            .map(|c| c.is_excluded(p))
            .unwrap_or(false)
    };
    // The knowledge base loads while the tree is walked (the rules need it for the first file).
    std::thread::spawn(dockharden_transforms::images::warm_up);
    Ok(discover::discover(&paths, forced, &exclude))
}

pub(crate) fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy().into_owned();
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

/// Files processed in parallel per batch: the output of a batch is written (in path order) and its
/// heavy parts dropped before the next batch starts, so memory stays flat however many files a run
/// sees.
const BATCH: usize = 256;

/// The Dockerfiles a fix run processes, as the run leaves them (see [`workspace::RunView`]).
struct RunFiles<'a> {
    args: &'a CommonArgs,
    mode: Mode,
    resolver: &'a ConfigResolver,
    git: &'a git::GitStatus,
    /// Canonical paths of the run's Dockerfiles.
    dockerfiles: std::collections::HashSet<PathBuf>,
    lookups: Option<&'a oci::Lookups>,
    cache: std::sync::Mutex<std::collections::HashMap<PathBuf, Option<String>>>,
}

impl<'a> RunFiles<'a> {
    fn new(
        args: &'a CommonArgs,
        mode: Mode,
        resolver: &'a ConfigResolver,
        git: &'a git::GitStatus,
        candidates: &[discover::Candidate],
        lookups: Option<&'a oci::Lookups>,
    ) -> Self {
        let dockerfiles = candidates
            .iter()
            .filter(|c| c.kind == Some(FileKind::Dockerfile))
            .map(|c| c.canonical.clone())
            .collect();
        Self {
            args,
            mode,
            resolver,
            git,
            dockerfiles,
            lookups,
            cache: std::sync::Mutex::default(),
        }
    }

    fn compute(&self, path: &Path, text: &str) -> Option<String> {
        let Mode::Fix {
            write,
            unsafe_fixes,
            allow_dirty,
            force_write,
            ..
        } = self.mode
        else {
            return None;
        };
        let config = self.resolver.for_path(path).ok()?;
        let job = Job {
            // As the write would (the dirty-tree guard included); `write_to` None writes nothing.
            mode: Mode::Fix {
                write,
                diff: false,
                mask_secrets: false,
                unsafe_fixes,
                allow_dirty,
                force_write,
            },
            config: &config,
            select: &self.args.select,
            ignore: &self.args.ignore,
            keep_output: true,
            git: Some(self.git),
            view: None,
            registry: self.lookups,
        };
        let display = display_path(path);
        let r = run::process_text(
            &job,
            &display,
            path,
            Some(FileKind::Dockerfile),
            false,
            text,
            None,
        );
        if r.error.is_some() || !r.changed {
            return None;
        }
        r.output
    }
}

impl workspace::RunView for RunFiles<'_> {
    fn after_run(&self, path: &Path, text: &str) -> Option<String> {
        let canonical = std::fs::canonicalize(path).ok()?;
        if !self.dockerfiles.contains(&canonical) {
            return None;
        }
        if let Some(hit) = self.cache.lock().expect("run view cache").get(&canonical) {
            return hit.clone();
        }
        let after = self.compute(path, text);
        self.cache
            .lock()
            .expect("run view cache")
            .insert(canonical, after.clone());
        after
    }
}

/// `--resolve`: the recording pass over the files that resolve, then every look-up at once.
/// None when no file resolves (nothing touches the network).
fn prepare_lookups(
    args: &CommonArgs,
    resolver: &ConfigResolver,
    candidates: &[discover::Candidate],
) -> Option<oci::Lookups> {
    let recorder = oci::Recorder::default();
    let insecure = std::sync::Mutex::new(Vec::new());
    let any = std::sync::atomic::AtomicBool::new(false);
    candidates.par_iter().for_each(|c| {
        let Ok(config) = resolver.for_path(&c.path) else {
            return;
        };
        if !oci::wanted(args, &config) {
            return;
        }
        any.store(true, std::sync::atomic::Ordering::Relaxed);
        insecure
            .lock()
            .expect("insecure list")
            .extend(config.file.insecure_registries.iter().cloned());
        if let Some(text) = files::read_text_if_readable(&c.path) {
            oci::record(&config, c.kind, &text, &recorder);
        }
    });
    if !any.into_inner() {
        return None;
    }
    let refs = recorder.refs.into_inner().expect("recorder");
    let options = oci::options(args, insecure.into_inner().expect("insecure list"));
    let mut l = oci::look_up(&refs, &options);
    l.everywhere = args.resolve || args.offline;
    Some(l)
}

/// Process one walked candidate.
fn process_candidate(
    args: &CommonArgs,
    mode: Mode,
    resolver: &ConfigResolver,
    git: &git::GitStatus,
    view: Option<&dyn workspace::RunView>,
    lookups: Option<&oci::Lookups>,
    c: &discover::Candidate,
) -> FileResult {
    let display = display_path(&c.path);
    if let Some(t) = c.template {
        return FileResult {
            path: display,
            kind: c.kind,
            template: Some(t),
            ..FileResult::default()
        };
    }
    let config = match resolver.for_path(&c.path) {
        Ok(cfg) => cfg,
        Err(e) => {
            return FileResult {
                path: display,
                error: Some(run::ErrorOut {
                    message: format!("{e:#}"),
                    line: None,
                    column: None,
                }),
                ..FileResult::default()
            }
        }
    };
    let text = match files::read_text(&c.path) {
        Ok(t) => t,
        Err(e) => {
            return FileResult {
                path: display,
                kind: c.kind,
                not_ours: !c.explicit && c.kind.is_none(),
                error: Some(run::ErrorOut {
                    message: e.message,
                    line: e.line,
                    column: e.column,
                }),
                ..FileResult::default()
            }
        }
    };
    let job = Job {
        mode,
        config: &config,
        select: &args.select,
        ignore: &args.ignore,
        keep_output: false,
        git: Some(git),
        view,
        registry: lookups,
    };
    if let Some(chart) = &c.chart {
        return run::process_helm_values(&job, &display, &c.path, chart, &text);
    }
    run::process_text(
        &job,
        &display,
        &c.path,
        c.kind,
        c.explicit,
        &text,
        Some(&c.path),
    )
}

/// Writes the report as results arrive (in path order) and keeps only what the end needs.
struct Reporter {
    format: Format,
    mode: Mode,
    color: bool,
    /// `--quiet`: no summary.
    quiet: bool,
    /// `--statistics`: the per-rule table.
    statistics: bool,
    /// `--verbose`: the elapsed time.
    verbose: bool,
    json_files: usize,
    totals: report::Totals,
    /// SARIF is one document: its results are kept (without diffs).
    kept: Vec<FileResult>,
    /// What the files reported so far wrote and has not been written yet, in order: standard
    /// output (or `--output-file`) and standard error chunks (see [`Reporter::flush`]).
    pending: Vec<(Stream, Vec<u8>)>,
    /// The size of `pending`: written once it reaches [`PENDING_FLUSH_BYTES`], so that a batch
    /// of files with long reports does not hold them all.
    pending_bytes: usize,
}

/// See [`Reporter::pending_bytes`].
const PENDING_FLUSH_BYTES: usize = 64 * 1024;

/// Where a chunk of [`Reporter::pending`] goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

impl Reporter {
    /// Part of the report, written at the next [`Reporter::flush`].
    fn out(&mut self, bytes: &[u8]) {
        self.queue(Stream::Out, bytes);
    }

    /// A diagnostic for standard error, kept in order with the report.
    fn err(&mut self, bytes: &[u8]) {
        self.queue(Stream::Err, bytes);
    }

    fn queue(&mut self, stream: Stream, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match self.pending.last_mut() {
            Some((s, chunk)) if *s == stream => chunk.extend_from_slice(bytes),
            _ => {
                // Sized for what is held until a flush: growing by doubling copied it all again.
                let mut chunk = Vec::with_capacity(
                    bytes
                        .len()
                        .max(PENDING_FLUSH_BYTES.saturating_sub(self.pending_bytes)),
                );
                chunk.extend_from_slice(bytes);
                self.pending.push((stream, chunk));
            }
        }
        self.pending_bytes += bytes.len();
        if self.pending_bytes >= PENDING_FLUSH_BYTES {
            self.flush();
        }
    }

    /// Write what the files reported, in the order they reported it: one write per run of chunks
    /// for one stream (a batch of files is a few writes, not one or more per file).
    fn flush(&mut self) {
        self.pending_bytes = 0;
        for (stream, chunk) in std::mem::take(&mut self.pending) {
            match stream {
                Stream::Out => emit_bytes(&chunk),
                Stream::Err => {
                    let _ = std::io::stderr().write_all(&chunk);
                }
            }
        }
    }

    fn begin(&mut self) {
        if self.format == Format::Json {
            emit("{\n  \"version\": 1,\n  \"files\": [");
        }
    }

    fn file(&mut self, mut r: FileResult) -> anyhow::Result<()> {
        let fix_mode = matches!(self.mode, Mode::Fix { .. });
        self.totals.add(&r);
        if r.template.is_some() {
            // Counted in the summary, not reported per file.
            return Ok(());
        }
        let one = std::slice::from_ref(&r);
        match self.format {
            Format::Json => {
                let v = report::json_file(&r, fix_mode);
                let sep = if self.json_files == 0 {
                    "\n    "
                } else {
                    ",\n    "
                };
                self.json_files += 1;
                let text = format!("{sep}{}", serde_json::to_string(&v)?);
                self.out(text.as_bytes());
            }
            Format::Github => {
                let mut out = Vec::new();
                report::github(&mut out, one, fix_mode)?;
                self.out(&out);
            }
            Format::Text => {
                if let Mode::Fix { diff: true, .. } = self.mode {
                    // The diff, and on stderr only what concerns it: the file's error, masked
                    // values. Remaining findings are what `check` is for.
                    if let Some(d) = &r.diff {
                        if self.color {
                            let colored = report::color_diff(d);
                            self.out(colored.as_bytes());
                        } else {
                            self.out(d.as_bytes());
                        }
                    }
                    let mut err = Vec::new();
                    if r.masked_secrets > 0 && !self.quiet {
                        let n = r.masked_secrets;
                        writeln!(
                            err,
                            "{}: note: {n} secret value{} masked in this diff (`--check` output is for logs); it cannot be applied: use `fix --diff` for an exact patch",
                            r.path,
                            if n == 1 { " is" } else { "s are" }
                        )?;
                    }
                    if r.error.is_some() {
                        report::text_findings(&mut err, one, false, true)?;
                    }
                    self.err(&err);
                } else {
                    let mut out = Vec::new();
                    report::text_findings(&mut out, one, self.color, fix_mode)?;
                    self.out(&out);
                }
            }
            Format::Sarif => {
                r.diff = None;
                r.output = None;
                r.remaining = Vec::new();
                self.kept.push(r);
            }
        }
        Ok(())
    }

    fn end(&mut self, dry_run: bool, elapsed: std::time::Duration) -> anyhow::Result<()> {
        self.flush();
        let fix_mode = matches!(self.mode, Mode::Fix { .. });
        if let Some(w) = report::dirty_guard_warning(&self.totals) {
            eprintln!("{w}");
        }
        if self.quiet && self.format == Format::Text {
            return Ok(());
        }
        match self.format {
            Format::Json => emit("\n  ]\n}\n"),
            Format::Sarif => {
                let doc = report::sarif(&self.kept);
                emit(&(serde_json::to_string_pretty(&doc)? + "\n"));
            }
            Format::Github => {}
            Format::Text => {
                let summary = report::text_summary(
                    &self.totals,
                    report::SummaryShape {
                        fix_mode,
                        dry_run,
                        elapsed: self.verbose.then_some(elapsed),
                        statistics: self.statistics,
                    },
                );
                if let Mode::Fix { diff: true, .. } = self.mode {
                    eprintln!("{summary}");
                } else {
                    emit(&format!("{summary}\n"));
                }
            }
        }
        Ok(())
    }
}

/// Run check or fix over the inputs; returns the exit code.
fn process(args: &CommonArgs, mode: Mode) -> anyhow::Result<u8> {
    let started = std::time::Instant::now();
    let forced = match &args.kind {
        Some(k) => {
            Some(FileKind::from_name(k).ok_or_else(|| anyhow::anyhow!("unknown kind `{k}`"))?)
        }
        None => None,
    };
    let resolver = ConfigResolver::new(args.config.as_deref(), args.isolated)?;
    let dry_run = matches!(mode, Mode::Fix { write: false, .. });
    if let Some(name) = &args.stdin_filename {
        if !args.paths.is_empty() {
            anyhow::bail!("--stdin-filename reads standard input; do not give paths too");
        }
        let r = process_stdin(args, name, forced, mode, &resolver)?;
        return stdin_report(args, mode, r, started, dry_run);
    }
    let (candidates, skipped) = candidates(args, &resolver)?;
    let progress = progress_bar(candidates.len(), args.no_progress);
    let git = git::GitStatus::default();
    if let Mode::Fix { write: true, .. } = mode {
        git.snapshot(candidates.iter().map(|c| c.path.as_path()));
    }
    let lookups = prepare_lookups(args, &resolver, &candidates);
    let run_files = RunFiles::new(args, mode, &resolver, &git, &candidates, lookups.as_ref());
    let view: Option<&dyn workspace::RunView> = match mode {
        Mode::Fix { .. } => Some(&run_files),
        Mode::Check => None,
    };
    let mut reporter = Reporter {
        format: args.format,
        mode,
        color: report::color_enabled(
            args.color,
            args.output_file.is_none() && report::stdout_is_terminal(),
        ),
        quiet: args.quiet,
        statistics: args.statistics,
        verbose: args.verbose,
        json_files: 0,
        totals: report::Totals::default(),
        kept: Vec::new(),
        pending: Vec::new(),
        pending_bytes: 0,
    };
    reporter.totals.threshold = threshold(args);
    reporter.begin();
    // A batch's output is written on this thread while the pool processes the next batch (at most
    // two batches are held: the one written and the one done or in progress).
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (done, batches) = std::sync::mpsc::sync_channel::<Vec<FileResult>>(0);
        let (resolver, git, progress) = (&resolver, &git, &progress);
        let lookups = lookups.as_ref();
        scope.spawn(move || {
            for batch in candidates.chunks(BATCH) {
                let results: Vec<FileResult> = batch
                    .par_iter()
                    .map(|c| {
                        let _tick = Tick(progress);
                        process_candidate(args, mode, resolver, git, view, lookups, c)
                    })
                    .filter(|r| !r.not_ours)
                    .collect();
                if done.send(results).is_err() {
                    // The writer stopped on an error: nothing more is written.
                    return;
                }
            }
        });
        for results in batches {
            // Output never draws over the progress bar: the bar is cleared while it is written.
            progress.suspend(|| {
                let written = results.into_iter().try_for_each(|r| reporter.file(r));
                reporter.flush();
                written
            })?;
        }
        Ok(())
    })?;
    progress.finish_and_clear();
    for s in skipped {
        reporter.file(FileResult {
            path: display_path(&s.path),
            error: Some(run::ErrorOut {
                message: s.reason,
                line: None,
                column: None,
            }),
            ..FileResult::default()
        })?;
    }
    reporter.end(dry_run, started.elapsed())?;
    write_summary_json(args, mode, &reporter.totals, started)?;
    Ok(reporter.totals.exit_code(mode))
}

/// `check --add-suppressions`: a suppression comment above every line with findings, written in
/// place (atomic writes, the file's meaning verified). Returns the exit code.
fn add_suppressions(args: &CommonArgs) -> anyhow::Result<u8> {
    let resolver = ConfigResolver::new(args.config.as_deref(), args.isolated)?;
    let (candidates, skipped) = candidates(args, &resolver)?;
    let git = git::GitStatus::default();
    let (mut files, mut comments, mut errors) = (0usize, 0usize, skipped.len());
    for s in &skipped {
        eprintln!("{}: error: {}", display_path(&s.path), s.reason);
    }
    for c in &candidates {
        let r = process_candidate(args, Mode::Check, &resolver, &git, None, None, c);
        if r.not_ours || r.template.is_some() || c.chart.is_some() {
            continue;
        }
        if let Some(e) = &r.error {
            eprintln!("{}: error: {}", r.path, e.message);
            errors += 1;
            continue;
        }
        if r.findings.is_empty() {
            continue;
        }
        let (Some(kind), Ok(text)) = (r.kind, files::read_text(&c.path)) else {
            continue;
        };
        let lines: Vec<(usize, &str)> = r
            .findings
            .iter()
            .map(|f| (f.range.start.line, f.code))
            .collect();
        let added = dockharden_transforms::baseline::add_suppressions(kind, &text, &lines);
        let why = match kind {
            FileKind::DaemonJson | FileKind::Markdown => "this kind of file takes no suppression comments; ignore the code for it with `[[overrides]] paths = [...] ignore = [...]` in .dockharden.toml, or fix it",
            FileKind::Makefile | FileKind::Systemd => "dockharden adds no comments to this kind of file; use `# dockharden: ignore-file=CODE` or fix it",
            _ => "a comment on this line would change what the file means (a heredoc body, a block scalar, a quoted string or a continued command); use `# dockharden: ignore-file=CODE` or fix it",
        };
        for line in &added.refused {
            eprintln!("{}:{line}: warning: not suppressed: {why}", r.path);
        }
        if added.comments == 0 {
            continue;
        }
        if let Err(e) =
            files::write_atomic_with(&c.path, &text, &added.text, files::WriteOptions::default())
        {
            eprintln!("{}: error: cannot write: {e}", r.path);
            errors += 1;
            continue;
        }
        files += 1;
        comments += added.comments;
    }
    if !args.quiet {
        eprintln!(
            "Added {comments} suppression comment{} to {files} file{}.",
            if comments == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" }
        );
    }
    Ok(if errors > 0 { 2 } else { 0 })
}

fn threshold(args: &CommonArgs) -> Option<dockharden_transforms::severity::Severity> {
    args.severity_threshold
        .as_deref()
        .and_then(dockharden_transforms::severity::Severity::parse)
}

fn write_summary_json(
    args: &CommonArgs,
    mode: Mode,
    totals: &report::Totals,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    let Some(path) = &args.summary_json else {
        return Ok(());
    };
    let mut summary = serde_json::to_value(&totals.summary)?;
    summary["elapsed_seconds"] = serde_json::json!(started.elapsed().as_secs_f64());
    summary["mode"] = serde_json::json!(match mode {
        Mode::Check => "check",
        Mode::Fix { write: true, .. } => "fix",
        Mode::Fix { .. } => "fix-dry-run",
    });
    std::fs::write(path, serde_json::to_string_pretty(&summary)? + "\n")
        .map_err(|e| anyhow::anyhow!("{}: cannot write the summary: {e}", path.display()))?;
    Ok(())
}

/// The report of a file read from stdin: with `fix` (no --diff/--check) the fixed text (or, when it
/// cannot be processed, the input unchanged) goes to stdout and findings to stderr.
fn stdin_report(
    args: &CommonArgs,
    mode: Mode,
    r: FileResult,
    started: std::time::Instant,
    dry_run: bool,
) -> anyhow::Result<u8> {
    let stdin_fix = matches!(mode, Mode::Fix { diff: false, .. });
    let mut totals = report::Totals {
        threshold: threshold(args),
        ..report::Totals::default()
    };
    totals.add(&r);
    write_summary_json(args, mode, &totals, started)?;
    if stdin_fix {
        let mut err = Vec::new();
        match args.format {
            Format::Json => err.extend(
                serde_json::to_string_pretty(&report::json(std::slice::from_ref(&r), true))?
                    .as_bytes(),
            ),
            Format::Sarif => err.extend(
                serde_json::to_string_pretty(&report::sarif(std::slice::from_ref(&r)))?.as_bytes(),
            ),
            Format::Github => report::github(&mut err, std::slice::from_ref(&r), true)?,
            Format::Text => report::text_findings(&mut err, std::slice::from_ref(&r), false, true)?,
        }
        let _ = std::io::stderr().write_all(&err);
        match (&r.raw_output, &r.output) {
            (Some(raw), _) => emit_stdout(raw),
            (None, Some(text)) => emit_stdout(text.as_bytes()),
            (None, None) => {}
        }
        if r.stream_rest {
            copy_rest_of_stdin(true);
        }
        return Ok(totals.exit_code(mode));
    }
    if r.stream_rest {
        // Read the rest so that the writer of the pipe does not fail; nothing is kept.
        copy_rest_of_stdin(false);
    }
    let mut reporter = Reporter {
        format: args.format,
        mode,
        color: report::color_enabled(
            args.color,
            args.output_file.is_none() && report::stdout_is_terminal(),
        ),
        quiet: args.quiet,
        statistics: args.statistics,
        verbose: args.verbose,
        json_files: 0,
        totals: report::Totals::default(),
        kept: Vec::new(),
        pending: Vec::new(),
        pending_bytes: 0,
    };
    reporter.totals.threshold = threshold(args);
    reporter.begin();
    reporter.file(r)?;
    reporter.end(dry_run, started.elapsed())?;
    Ok(reporter.totals.exit_code(mode))
}

/// The rest of standard input to standard output (`echo`) or nowhere, in constant memory.
fn copy_rest_of_stdin(echo: bool) {
    let mut input = std::io::stdin().lock();
    let result = if echo {
        let mut out = std::io::stdout().lock();
        std::io::copy(&mut input, &mut out).and_then(|_| out.flush())
    } else {
        std::io::copy(&mut input, &mut std::io::sink()).map(|_| ())
    };
    if let Err(e) = result {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("dockharden: cannot copy standard input: {e}");
        std::process::exit(2);
    }
}

fn process_stdin(
    args: &CommonArgs,
    name: &Path,
    forced: Option<FileKind>,
    mode: Mode,
    resolver: &ConfigResolver,
) -> anyhow::Result<FileResult> {
    // The size limit of files applies: read one byte past it, never the whole of a huge input.
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(files::MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)?;
    let display = display_path(name);
    let config = resolver.for_path(name)?;
    let kind = forced.or_else(|| {
        name.file_name()
            .and_then(|n| n.to_str())
            .and_then(dockharden_transforms::source::kind_from_name)
            .or_else(|| dockharden_transforms::source::kind_from_path(&name.to_string_lossy()))
    });
    if bytes.len() as u64 > files::MAX_FILE_SIZE {
        return Ok(FileResult {
            path: display,
            kind,
            error: Some(run::ErrorOut {
                message: format!(
                    "standard input too large (more than {} bytes, the limit for files)",
                    files::MAX_FILE_SIZE
                ),
                line: None,
                column: None,
            }),
            // `fix` echoes what it cannot process: this part, then the rest streamed.
            raw_output: Some(bytes),
            stream_rest: true,
            ..FileResult::default()
        });
    }
    let text = match files::decode(bytes.clone()) {
        Ok(t) => t,
        Err(e) => {
            return Ok(FileResult {
                path: display,
                kind,
                error: Some(run::ErrorOut {
                    message: e.message,
                    line: e.line,
                    column: e.column,
                }),
                raw_output: Some(bytes),
                ..FileResult::default()
            })
        }
    };
    let lookups = oci::wanted(args, &config).then(|| {
        let recorder = oci::Recorder::default();
        oci::record(&config, kind, &text, &recorder);
        let refs = recorder.refs.into_inner().expect("recorder");
        let mut l = oci::look_up(
            &refs,
            &oci::options(args, config.file.insecure_registries.clone()),
        );
        l.everywhere = true;
        l
    });
    let job = Job {
        mode,
        config: &config,
        select: &args.select,
        ignore: &args.ignore,
        keep_output: true,
        git: None,
        view: None,
        registry: lookups.as_ref(),
    };
    let mut r = run::process_text(&job, &display, name, kind, true, &text, None);
    if r.error.is_some() || r.output.is_none() {
        // Never lose the input: an unprocessable file is echoed unchanged.
        r.output = Some(text);
    }
    Ok(r)
}

/// A progress bar on stderr for long runs on a terminal (hidden otherwise).
fn progress_bar(files: usize, disabled: bool) -> indicatif::ProgressBar {
    use anstream::stream::IsTerminal as _;
    if disabled || files < 200 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(files as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {pos}/{len} files [{bar:30}] {per_sec} {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Advances the progress bar when a file is done.
struct Tick<'a>(&'a indicatif::ProgressBar);

impl Drop for Tick<'_> {
    fn drop(&mut self) {
        self.0.inc(1);
    }
}

#[cfg(test)]
mod allocator_tests {
    /// The option index names the purge delay in the mimalloc this build links: its default there
    /// is 1000 ms (no other option of mimalloc v3 defaults to 1000). Tests never call
    /// `tune_allocator`.
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads a plain integer option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }

    /// Every block the allocator hands out has the layout's alignment, small and large, zeroed
    /// or not, and keeps it (and its bytes) through growing and shrinking.
    #[test]
    fn blocks_have_the_alignment_asked_for() {
        use std::alloc::{GlobalAlloc as _, Layout};
        let a = super::MiMalloc;
        let sizes = (1..=130).chain([255, 256, 1000, 4096, 5000, 70_000, 3 << 20]);
        for size in sizes {
            for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: non-zero sizes; each block is used only until it is freed or
                // reallocated, and freed once with the layout it has then.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null() && p as usize % align == 0, "{size} {align}");
                    p.write_bytes(0xAB, size);
                    a.dealloc(p, layout);
                    let z = a.alloc_zeroed(layout);
                    assert!(!z.is_null() && z as usize % align == 0, "{size} {align}");
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, layout);
                    for new_size in [size * 2 + 7, (size / 2).max(1)] {
                        let q = a.alloc(layout);
                        q.write_bytes(0xAB, size);
                        let q2 = a.realloc(q, layout, new_size);
                        assert!(!q2.is_null() && q2 as usize % align == 0, "{size} {align}");
                        let kept = size.min(new_size);
                        assert!((0..kept).all(|i| *q2.add(i) == 0xAB), "{size} {align}");
                        let grown = Layout::from_size_align(new_size, align).unwrap();
                        let q3 = a.realloc(q2, grown, size);
                        assert!(!q3.is_null() && q3 as usize % align == 0, "{size} {align}");
                        assert!((0..kept).all(|i| *q3.add(i) == 0xAB), "{size} {align}");
                        a.dealloc(q3, layout);
                    }
                }
            }
        }
    }
}
