//! `--version` names the commit it was built from (`0.1.0 (a1b2c3d4e5f6 2026-12-04)`), or says
//! that it was not built from a git checkout of this project.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    // Only this project's own checkout: a vendored copy inside another repository has no commit.
    let manifest_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let own = git(&["rev-parse", "--show-toplevel"]).is_some_and(|top| {
        std::fs::canonicalize(top).ok() == std::fs::canonicalize(&manifest_dir).ok()
    });
    let commit = own
        .then(|| git(&["log", "-1", "--format=%h %cs", "--abbrev=12"]))
        .flatten();
    let long = match commit {
        Some(c) => format!("{version} ({c})"),
        None => format!("{version} (not built from a git checkout)"),
    };
    println!("cargo:rustc-env=DOCKHARDEN_LONG_VERSION={long}");
    // Rebuild the version when HEAD moves (a commit, a checkout); worktrees keep HEAD apart.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
    }
    if let Some(dir) = git(&["rev-parse", "--git-common-dir"]) {
        println!("cargo:rerun-if-changed={dir}/refs/heads");
        println!("cargo:rerun-if-changed={dir}/packed-refs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
