//! Uncommitted changes in git work trees: Unsafe fixes are not written into files the user could not
//! review and revert with git (unless `--allow-dirty`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Caches `git status` per repository.
#[derive(Default)]
pub struct GitStatus {
    repos: Mutex<HashMap<PathBuf, Option<HashSet<PathBuf>>>>,
}

fn repo_root(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
}

fn status(root: &Path) -> Option<HashSet<PathBuf>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignored=no",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut dirty = HashSet::new();
    let mut fields = out.stdout.split(|&b| b == 0).filter(|f| !f.is_empty());
    while let Some(f) = fields.next() {
        if f.len() < 4 {
            continue;
        }
        let code = &f[..2];
        let path = String::from_utf8_lossy(&f[3..]).into_owned();
        dirty.insert(root.join(path));
        // A rename or copy is followed by its source path.
        if code[0] == b'R' || code[0] == b'C' {
            fields.next();
        }
    }
    Some(dirty)
}

impl GitStatus {
    /// Whether `path` is in a git work tree and has uncommitted changes (or is untracked).
    /// Outside a work tree, or when git is unavailable, nothing is dirty.
    pub fn is_dirty(&self, path: &Path) -> bool {
        let Ok(abs) = std::fs::canonicalize(path) else {
            return false;
        };
        let Some(root) = repo_root(&abs) else {
            return false;
        };
        let mut repos = self.repos.lock().expect("git cache");
        let entry = repos.entry(root.clone()).or_insert_with(|| status(&root));
        entry.as_ref().is_some_and(|set| set.contains(&abs))
    }
}
