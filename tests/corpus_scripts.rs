//! The corpus sweep over `../shared/corpus-scripts` (real shell scripts, Makefiles, GitHub and GitLab
//! pipelines, systemd units, `daemon.json` files and Markdown, referenced by path, never copied):
//! every file parses or fails with a located error (templates, repeated JSON keys); `fix
//! --unsafe-fixes` is verified by the engine (commands outside the edited container commands
//! unchanged, YAML / JSON values unchanged outside the declared paths), converges, and fixing twice
//! equals fixing once; the files the fixes must never touch come out byte-identical. Skipped with a
//! notice when the corpus is absent.
//!
//! The independent checks of the fixed files (`bash -n`, shellcheck, the GitHub Actions workflow
//! schema, JSON validity) are in `tests/scripts/scripts_check.py`, run by `.ci/run`.

use std::path::{Path, PathBuf};

use dockharden_transforms::engine::{Engine, EngineError, FixPolicy};
use dockharden_transforms::fix::Applicability;
use dockharden_transforms::source::{self, FileKind};

pub fn corpus_root() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus-scripts");
    p.join("SOURCES.tsv").is_file().then_some(p)
}

/// The kind of a `SOURCES.tsv` row.
pub fn kind_of(name: &str) -> Option<FileKind> {
    Some(match name {
        "shell" => FileKind::Shell,
        "makefile" => FileKind::Makefile,
        "github-workflow" => FileKind::GithubActions,
        "gitlab-ci" => FileKind::GitlabCi,
        "systemd" => FileKind::Systemd,
        "daemon-json" => FileKind::DaemonJson,
        "markdown" => FileKind::Markdown,
        _ => return None,
    })
}

/// (kind, path) of every corpus file listed in SOURCES.tsv.
pub fn corpus_files() -> Vec<(FileKind, PathBuf)> {
    let Some(root) = corpus_root() else {
        return Vec::new();
    };
    let tsv = std::fs::read_to_string(root.join("SOURCES.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let kind = kind_of(cols.first()?)?;
            let dir = cols.get(1)?.replace('/', "__");
            Some((kind, root.join(dir).join(cols.get(3)?)))
        })
        .collect()
}

/// Text that must come out of every fix byte-identical: `docker run` that is data, not a command.
const UNTOUCHABLE: &[(&str, &str)] = &[
    (
        "balena-os__balena-engine/contrib/beind/balena-entrypoint.sh",
        "docker run --privileged",
    ),
    (
        "falcosecurity__falco/docker/driver-loader/docker-entrypoint.sh",
        "docker run -i -t --privileged",
    ),
    ("aquasecurity__kube-bench/entrypoint.sh", "--pid=host"),
];

#[test]
fn corpus_scripts_sweep() {
    let files = corpus_files();
    if files.is_empty() {
        eprintln!("corpus-scripts not found next to the project; sweep skipped");
        return;
    }
    let engine = Engine::with_defaults();
    let policy = FixPolicy {
        min_applicability: Applicability::Unsafe,
    };
    let (mut parsed, mut templates, mut rejected, mut changed) = (0, 0, 0, 0);
    let (mut findings, mut fixed) = (0usize, 0usize);
    let mut failures = Vec::new();
    let mut max_rounds = (0, String::new());
    for (kind, path) in &files {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match source::parse(*kind, &text) {
            Ok(_) => parsed += 1,
            Err(e) if e.template => {
                templates += 1;
                assert!(e.range.end <= text.len(), "{}", path.display());
                continue;
            }
            Err(e) if e.message.contains("duplicate key") => {
                rejected += 1;
                assert!(e.range.end <= text.len(), "{}", path.display());
                continue;
            }
            Err(e) => {
                let lc = dockharden_transforms::text::line_col(&text, e.range.start);
                failures.push(format!(
                    "{}:{}:{}: does not parse: {}",
                    path.display(),
                    lc.line,
                    lc.column,
                    e.message
                ));
                continue;
            }
        }
        match engine.check(*kind, &text) {
            Ok(f) => findings += f.len(),
            Err(e) => failures.push(format!("{}: check: {e}", path.display())),
        }
        let once = match engine.fix(*kind, &text, policy) {
            Ok(o) => o,
            Err(EngineError::Syntax(e)) => {
                failures.push(format!("{}: {}", path.display(), e.message));
                continue;
            }
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        fixed += once.applied.len();
        if once.text != text {
            changed += 1;
        }
        if *kind == FileKind::Markdown && once.text != text {
            failures.push(format!("{}: Markdown was edited", path.display()));
        }
        for (file, needle) in UNTOUCHABLE {
            if path.ends_with(file) {
                let count = |t: &str| t.matches(needle).count();
                if count(&text) != count(&once.text) {
                    failures.push(format!(
                        "{}: `{needle}` (text, not a command) was edited",
                        path.display()
                    ));
                }
            }
        }
        if once.rounds > max_rounds.0 {
            max_rounds = (once.rounds, path.display().to_string());
        }
        match engine.fix(*kind, &once.text, policy) {
            Ok(twice) if twice.text == once.text => {}
            Ok(_) => failures.push(format!(
                "{}: fixing twice differs from fixing once",
                path.display()
            )),
            Err(e) => failures.push(format!("{}: second fix: {e}", path.display())),
        }
    }
    eprintln!(
        "corpus-scripts: {} files, {parsed} parsed, {templates} templates (located errors), {rejected} rejected (repeated JSON keys), {findings} findings, {fixed} fixes applied by fix --unsafe-fixes in {changed} files",
        files.len()
    );
    eprintln!(
        "corpus-scripts: at most {} fix rounds ({})",
        max_rounds.0, max_rounds.1
    );
    assert!(
        failures.is_empty(),
        "{} corpus-scripts failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
