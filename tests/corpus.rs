//! The corpus sweep over `../shared/corpus` (real files from 40 public repositories, referenced by
//! path, never copied): every file parses or fails with a located error (templates only); the parse
//! round-trips byte for byte; `fix --unsafe-fixes` is verified by the engine (re-parse + semantic
//! check), converges, and fixing twice equals fixing once. Skipped with a notice when the corpus is
//! absent.

use std::path::{Path, PathBuf};

use dockharden_transforms::engine::{Engine, EngineError, FixPolicy};
use dockharden_transforms::fix::Applicability;
use dockharden_transforms::source::{self, FileKind};

pub fn corpus_root() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    p.join("SOURCES.tsv").is_file().then_some(p)
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
            let kind = match *cols.first()? {
                "dockerfile" => FileKind::Dockerfile,
                "compose" => FileKind::Compose,
                "k8s" => FileKind::Kubernetes,
                _ => return None,
            };
            let dir = cols.get(1)?.replace('/', "__");
            Some((kind, root.join(dir).join(cols.get(3)?)))
        })
        .collect()
}

#[test]
fn corpus_sweep() {
    let files = corpus_files();
    if files.is_empty() {
        eprintln!("corpus not found next to the project; corpus sweep skipped");
        return;
    }
    let engine = Engine::with_defaults();
    let policy = FixPolicy {
        min_applicability: Applicability::Unsafe,
    };
    let (mut parsed, mut templates, mut changed, mut rejected) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    let mut max_rounds = (0, String::new());
    for (kind, path) in &files {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match source::parse(*kind, &text) {
            Ok(_) => parsed += 1,
            Err(e) if e.template => {
                templates += 1;
                assert!(
                    e.range.end <= text.len(),
                    "{}: error range out of bounds",
                    path.display()
                );
                continue;
            }
            Err(e) if e.message.starts_with("duplicate key") => {
                // Real files with a repeated key (Compose and Kubernetes reject them): refused,
                // located at the first copy.
                rejected += 1;
                assert!(e.range.end <= text.len());
                continue;
            }
            Err(_) if path.to_string_lossy().contains("testfiles-negative") => {
                // BuildKit's own negative test files: BuildKit rejects them too.
                rejected += 1;
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
        if once.text != text {
            changed += 1;
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
        "corpus: {} files, {parsed} parsed, {templates} templates (located errors), {rejected} rejected (BuildKit negative cases, repeated YAML keys), {changed} changed by fix --unsafe-fixes",
        files.len()
    );
    eprintln!(
        "corpus: at most {} fix rounds ({})",
        max_rounds.0, max_rounds.1
    );
    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
