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

/// A `git` command for a repository that may be hostile: nothing its configuration names is run.
/// `git status` could otherwise run `core.fsmonitor`, the `post-index-change` hook (when it refreshes
/// the index), clean filters named in `.gitattributes`, and git commands in submodules. Every such
/// program is switched off on the command line, which wins over the repository's configuration; the
/// index is never written (`--no-optional-locks`).
fn git(root: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(root)
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "core.untrackedCache=false",
            "--no-optional-locks",
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_EXTERNAL_DIFF")
        .stdin(std::process::Stdio::null());
    c
}

/// The filter drivers any configuration defines (`filter.<driver>.clean` ...): each is switched off
/// for the `git status` call (an empty command is no filter). Reading configuration runs nothing.
fn filter_drivers(root: &Path) -> Vec<String> {
    let Ok(out) = git(root)
        .args([
            "config",
            "--null",
            "--name-only",
            "--get-regexp",
            "^filter\\.",
        ])
        .output()
    else {
        return Vec::new();
    };
    let mut drivers: Vec<String> = out
        .stdout
        .split(|&b| b == 0)
        .filter_map(|k| std::str::from_utf8(k).ok())
        .filter_map(|k| {
            let k = k.trim().strip_prefix("filter.")?;
            let (driver, _) = k.rsplit_once('.')?;
            Some(driver.to_owned())
        })
        .collect();
    drivers.sort();
    drivers.dedup();
    drivers
}

fn status(root: &Path) -> Option<HashSet<PathBuf>> {
    let mut cmd = git(root);
    for d in filter_drivers(root) {
        for (key, value) in [
            ("clean", ""),
            ("smudge", ""),
            ("process", ""),
            ("required", "false"),
        ] {
            cmd.arg("-c").arg(format!("filter.{d}.{key}={value}"));
        }
    }
    let out = cmd
        .args([
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignored=no",
            "--ignore-submodules=all",
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
    /// Take the status of every work tree that holds one of `paths` now, before anything is
    /// written: the decisions of the run are then made on the tree as the user left it.
    pub fn snapshot<'a>(&self, paths: impl IntoIterator<Item = &'a Path>) {
        for p in paths {
            let _ = self.is_dirty(p);
        }
    }

    /// The committed (`HEAD`) content of a tracked file, as stored (no filters, no conversion).
    pub fn head_text(&self, path: &Path) -> Option<String> {
        let abs = std::fs::canonicalize(path).ok()?;
        let root = repo_root(&abs)?;
        let rel = abs.strip_prefix(&root).ok()?;
        let out = git(&root)
            .arg("cat-file")
            .arg("blob")
            .arg(format!("HEAD:{}", rel.to_str()?))
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8(out.stdout).ok()
    }

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
