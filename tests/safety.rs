//! Safety of unattended runs (issue 14): special files, concurrent saves, hostile repositories,
//! duplicate keys, file metadata. Each test reproduces a defect found by an audit.

use std::process::Command;

use crate::cli::{stdout, tree, BIN};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn both(o: &std::process::Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// Run with a deadline: a hang is a failure, not a stuck test run.
fn run_with_timeout(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("timeout")
        .arg("20")
        .arg(BIN)
        .args(args)
        .arg("--isolated")
        .current_dir(dir)
        .output()
        .expect("run dockharden under timeout");
    assert_ne!(out.status.code(), Some(124), "dockharden hung: {args:?}");
    out
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_reported_not_read() {
    let dir = tree(&[("d/compose.yaml", "services:\n  a:\n    image: nginx:1.27\n")]);
    let fifo = dir.path().join("d/values.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // A walked FIFO is reported and skipped; the other files are still checked.
    let o = run_with_timeout(dir.path(), &["check", "d"]);
    let text = both(&o);
    assert!(
        text.contains("values.yaml") && text.contains("FIFO"),
        "{text}"
    );
    assert!(text.contains("d/compose.yaml:2:3"), "{text}");
    // Given explicitly: an error.
    let o = run_with_timeout(dir.path(), &["check", "d/values.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let o = run_with_timeout(dir.path(), &["check", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(both(&o).contains("character device"), "{}", both(&o));
    // A link to a FIFO inside the root is not followed into it.
    std::os::unix::fs::symlink("values.yaml", dir.path().join("d/compose.override.yaml")).unwrap();
    let o = run_with_timeout(dir.path(), &["check", "d"]);
    assert!(both(&o).contains("symbolic link to a FIFO"), "{}", both(&o));
}
