//! Conformance of the Dockerfile parser with BuildKit, and a sweep over the real Dockerfiles of the
//! shared corpus (`../shared/corpus`; skipped with a notice when absent).
//!
//! - every `frontend/dockerfile/parser/testfiles/*/Dockerfile` dumps exactly like BuildKit's `result`;
//! - every `testfiles-negative/*/Dockerfile` is rejected with a located error;
//! - every corpus Dockerfile (`SOURCES.tsv`, kind `dockerfile`) and every `_snippets/` fragment parses
//!   (or fails with a located template error) and round-trips byte for byte through the node ranges.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dockharden_transforms::dockerfile::syntax::{
    parse, Args, Dockerfile, Instruction, NodeKind, ParseErrorKind,
};
use dockharden_transforms::TextRange;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(CORPUS);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("notice: {CORPUS} not found; skipping the corpus tests");
        None
    }
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn ranges_of(i: &Instruction) -> Vec<TextRange> {
    let mut v = vec![i.range, i.full_range, i.keyword_range];
    for f in &i.flags {
        v.extend(
            [Some(f.range), Some(f.name_range), f.value_range]
                .into_iter()
                .flatten(),
        );
    }
    for h in &i.heredocs {
        v.extend([h.marker_range, h.body_range, h.terminator_range]);
    }
    match &i.args {
        Args::Json(a) => {
            v.push(a.range);
            v.extend(a.items.iter().map(|x| x.range));
        }
        Args::Shell(s) => {
            v.push(s.range);
            v.extend(i.shell_words().iter().map(|w| w.range));
        }
    }
    if let Some(inner) = &i.onbuild {
        v.extend(ranges_of(inner));
    }
    v
}

/// The lossless guarantee plus sanity of every span.
fn assert_lossless(d: &Dockerfile, text: &str, what: &str) {
    let mut pos = 0;
    for n in &d.nodes {
        assert_eq!(n.range.start, pos, "{what}: gap/overlap before node {n:?}");
        pos = n.range.end;
        if let NodeKind::Instruction(k) = n.kind {
            assert_eq!(d.instructions[k].full_range, n.range, "{what}");
        }
    }
    assert_eq!(pos, text.len(), "{what}: nodes do not reach EOF");
    assert_eq!(d.print(text), text, "{what}: round trip");
    for i in &d.instructions {
        for r in ranges_of(i) {
            assert!(
                text.get(r.start..r.end).is_some(),
                "{what}: bad span {r:?} in {}",
                i.keyword
            );
            assert!(
                i.full_range.contains_range(r),
                "{what}: {r:?} outside its instruction"
            );
        }
        // The views must not panic on real files.
        let _ = (
            i.from_image(),
            i.from_alias(),
            i.key_values(),
            i.expose_ports(),
            i.user(),
        );
        let _ = i.healthcheck();
    }
}

#[test]
fn buildkit_parser_testfiles_match_results() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("moby__buildkit/frontend/dockerfile/parser");
    let mut matched = 0;
    for case in sorted_dirs(&dir.join("testfiles")) {
        let text = std::fs::read_to_string(case.join("Dockerfile")).unwrap();
        let want = std::fs::read_to_string(case.join("result")).unwrap();
        let d = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        assert_lossless(&d, &text, &case.display().to_string());
        let got = d.buildkit_dump();
        assert_eq!(got, want.trim_end(), "{}", case.display());
        matched += 1;
    }
    assert_eq!(matched, 33, "expected BuildKit's 33 parser test files");

    let mut rejected = 0;
    for case in sorted_dirs(&dir.join("testfiles-negative")) {
        let text = std::fs::read_to_string(case.join("Dockerfile")).unwrap();
        let err = parse(&text).expect_err(&format!("{} should be rejected", case.display()));
        assert!(err.range.end <= text.len(), "{}", case.display());
        let lc = err.line_col(&text);
        assert!(lc.line >= 1 && lc.column >= 1);
        eprintln!("{}:{}:{}: {err}", case.display(), lc.line, lc.column);
        rejected += 1;
    }
    assert_eq!(rejected, 4);
    eprintln!("buildkit testfiles: {matched} results matched, {rejected} negatives rejected");
}

#[derive(Default)]
struct Counts {
    parsed: usize,
    templates: usize,
    expected_rejections: usize,
    directive_only: usize,
    other_errors: Vec<String>,
    elapsed: Duration,
    bytes: usize,
}

fn sweep_one(path: &Path, counts: &mut Counts) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let Ok(text) = String::from_utf8(bytes) else {
        counts
            .other_errors
            .push(format!("{}: not UTF-8", path.display()));
        return;
    };
    let start = Instant::now();
    let result = parse(&text);
    counts.elapsed += start.elapsed();
    counts.bytes += text.len();
    let what = path.display().to_string();
    match result {
        Ok(d) => {
            assert_lossless(&d, &text, &what);
            counts.parsed += 1;
        }
        Err(e) => {
            assert!(e.range.end <= text.len(), "{what}: error range past EOF");
            let lc = e.line_col(&text);
            let located = format!("{what}:{}:{}: {e}", lc.line, lc.column);
            if e.is_template() {
                assert!(e.message.contains("template"), "{located}");
                counts.templates += 1;
            } else if what.contains("/testfiles-negative/") {
                counts.expected_rejections += 1;
            } else if matches!(
                e.kind,
                ParseErrorKind::NoInstructions | ParseErrorKind::Directive
            ) && text.lines().all(|l| {
                let l = l.trim_start_matches('\u{feff}').trim();
                l.is_empty() || l.starts_with('#')
            }) {
                // Documentation fragments that only show parser directives: BuildKit rejects them as
                // files too ("file with no instructions", "only one check parser directive ...").
                eprintln!("expected rejection (directive-only fragment): {located}");
                counts.directive_only += 1;
            } else {
                counts.other_errors.push(located);
            }
        }
    }
}

fn walk_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn corpus_dockerfiles_parse_and_round_trip() {
    let Some(corpus) = corpus() else { return };
    let sources = std::fs::read_to_string(corpus.join("SOURCES.tsv")).unwrap();
    let mut files = Vec::new();
    for line in sources.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 || cols[0] != "dockerfile" {
            continue;
        }
        files.push(corpus.join(cols[1].replace('/', "__")).join(cols[3]));
    }
    assert!(files.len() > 600, "only {} dockerfiles listed", files.len());
    let mut counts = Counts::default();
    for f in &files {
        sweep_one(f, &mut counts);
    }
    eprintln!(
        "corpus dockerfiles: {} files, {} parsed, {} template errors, {} expected BuildKit rejections \
         (testfiles-negative), {} other errors; {} KiB parsed in {:?}",
        files.len(),
        counts.parsed,
        counts.templates,
        counts.expected_rejections,
        counts.other_errors.len(),
        counts.bytes / 1024,
        counts.elapsed
    );
    assert!(counts.other_errors.is_empty(), "{:#?}", counts.other_errors);
    assert_eq!(counts.directive_only, 0);
    assert_eq!(counts.expected_rejections, 4);

    let mut snippets = Vec::new();
    walk_files(&corpus.join("_snippets"), &mut snippets);
    snippets.sort();
    let mut counts = Counts::default();
    for f in &snippets {
        sweep_one(f, &mut counts);
    }
    eprintln!(
        "snippets: {} files, {} parsed, {} template errors, {} directive-only fragments rejected like \
         BuildKit, {} other errors",
        snippets.len(),
        counts.parsed,
        counts.templates,
        counts.directive_only,
        counts.other_errors.len()
    );
    assert!(counts.parsed >= snippets.len() - counts.directive_only - counts.templates);
    assert!(counts.other_errors.is_empty(), "{:#?}", counts.other_errors);
}

#[test]
fn corpus_heredocs_are_attached() {
    let Some(corpus) = corpus() else { return };
    let path = corpus.join("moby__buildkit/Dockerfile");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("notice: {} missing", path.display());
        return;
    };
    let d = parse(&text).unwrap();
    let heredocs: usize = d.instructions.iter().map(|i| i.heredocs.len()).sum();
    assert!(heredocs > 0, "BuildKit's own Dockerfile uses heredocs");
    for i in &d.instructions {
        for h in &i.heredocs {
            assert!(h.terminated, "{}", h.name);
            assert_eq!(
                h.terminator_range.slice(&text).trim_start_matches('\t'),
                h.name
            );
            assert!(h.marker_range.slice(&text).contains(&h.name));
        }
    }
}
