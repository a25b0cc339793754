//! What the tests over the shared corpora share: finding the files, a deterministic pseudo-random
//! source, and the mutants made with it. Compiled into test builds only.

use std::path::{Path, PathBuf};

/// The files under the shared corpora next to the repository (`../shared/corpus`,
/// `../shared/corpus-scripts`) and under the repository's `golden/` that `keep` accepts, sorted
/// by path. Empty when the corpora are not there.
pub(crate) fn corpus_files(keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![
        root.join("../../shared/corpus"),
        root.join("../../shared/corpus-scripts"),
        root.join("../golden"),
    ];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Whether the file is YAML by its name (`.yml`, `.yaml`).
pub(crate) fn is_yaml(p: &Path) -> bool {
    p.extension().is_some_and(|x| x == "yml" || x == "yaml")
}

/// A 64-bit linear congruential generator: the same numbers on every run.
pub(crate) struct Lcg(u64);

impl Lcg {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).unwrap() % n.max(1)
    }
}

/// A mutant of `text` at a pseudo-random place (on a character boundary): up to 8 bytes deleted,
/// one of `inserts` inserted, or the line doubled.
pub(crate) fn mutant(text: &str, rng: &mut Lcg, inserts: &[&str]) -> String {
    let boundary = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let at = boundary(rng.below(text.len() + 1));
    match rng.below(3) {
        0 => {
            let end = boundary((at + 1 + rng.below(8)).min(text.len()));
            format!("{}{}", &text[..at], &text[end..])
        }
        1 => format!(
            "{}{}{}",
            &text[..at],
            inserts[rng.below(inserts.len())],
            &text[at..]
        ),
        _ => {
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
            format!("{}{}", &text[..end], &text[start..])
        }
    }
}
