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

fn git(dir: &std::path::Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

/// A scanned repository's configuration must not run anything: `core.fsmonitor`, hooks run when
/// the index is refreshed, and clean filters named in `.gitattributes` all execute code through
/// `git status`.
#[test]
fn a_hostile_repository_runs_nothing() {
    let dir = tree(&[
        ("repo/Dockerfile", "FROM alpine:3.20\nADD app /app\n"),
        ("repo/.gitattributes", "Dockerfile filter=evil\n"),
        (
            "repo/hooks/post-index-change",
            "#!/bin/sh\ntouch \"$(dirname \"$0\")/../pwned-hook\"\n",
        ),
    ]);
    let repo = dir.path().join("repo");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let hook = repo.join("hooks/post-index-change");
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "init"]);
    let pwned = |what: &str| repo.join(format!("pwned-{what}"));
    let touch = |what: &str| format!("touch '{}'", pwned(what).display());
    git(
        &repo,
        &[
            "config",
            "core.fsmonitor",
            &format!("{}; false", touch("fsmonitor")),
        ],
    );
    git(
        &repo,
        &[
            "config",
            "filter.evil.clean",
            &format!("{}; cat", touch("filter")),
        ],
    );
    git(&repo, &["config", "filter.evil.process", &touch("process")]);
    git(&repo, &["config", "core.hooksPath", "hooks"]);
    // A newer modification time with the same content makes git compare content (clean filter).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let df = repo.join("Dockerfile");
    let text = std::fs::read(&df).unwrap();
    std::fs::write(&df, text).unwrap();
    let o = crate::cli::run(dir.path(), &["fix", "--unsafe-fixes", "repo"]);
    assert_ne!(o.status.code(), None, "{}", both(&o));
    for what in ["fsmonitor", "filter", "process", "hook"] {
        assert!(
            !pwned(what).exists(),
            "the repository ran its {what}: {}",
            both(&o)
        );
    }
    // The dirty-tree guard still works: the file is committed and unchanged, so it is written.
    assert!(std::fs::read_to_string(&df)
        .unwrap()
        .contains("COPY app /app"));
}

/// A mapping with a repeated key is an error at the first copy, and nothing is fixed: hardening the
/// second `securityContext` would leave `privileged: true` of the first in force for readers that
/// keep the first copy.
#[test]
fn duplicate_keys_are_errors_and_never_fixed() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n      securityContext: {privileged: true}\n      securityContext: {runAsUser: 1000}\n";
    let compose = "services:\n  web:\n    image: nginx:1.27\n    privileged: true\n    \"privileged\": false\n";
    let dir = tree(&[("pod.yaml", pod), ("compose.yaml", compose)]);
    let o = crate::cli::run(dir.path(), &["fix", "--unsafe-fixes", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    let text = both(&o);
    assert!(
        text.contains("pod.yaml:9:7: error: duplicate key `securityContext` (again on line 10)"),
        "{text}"
    );
    assert!(
        text.contains("compose.yaml:4:5: error: duplicate key `privileged` (again on line 5)"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pod.yaml")).unwrap(),
        pod
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        compose
    );
    // `check` agrees with `fix`.
    let o = crate::cli::run(dir.path(), &["check", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    // Merge keys may repeat.
    let ok = "x-a: &a {cap_drop: [ALL]}\nx-b: &b {read_only: true}\nservices:\n  web:\n    <<: *a\n    <<: *b\n    image: nginx:1.27\n";
    let dir = tree(&[("compose.yaml", ok)]);
    let o = crate::cli::run(dir.path(), &["check", "--select", "DC002", "."]);
    assert!(!both(&o).contains("duplicate key"), "{}", both(&o));
}

/// The same file reached twice (the same path spelled two ways, a symbolic link to another walked
/// file, a folder and a file in it) is processed once: findings are not duplicated and `fix` does
/// not trip over its own write (exit 2, "the file changed since it was read").
#[cfg(unix)]
#[test]
fn the_same_file_reached_twice_is_processed_once() {
    let df = "FROM alpine:3.20\nADD app /app\n";
    let dir = tree(&[
        ("d/Dockerfile", df),
        (
            "e/compose.yaml",
            "services:\n  a:\n    image: nginx:1.27\n    privileged: true\n",
        ),
    ]);
    std::os::unix::fs::symlink("Dockerfile", dir.path().join("d/Dockerfile.link")).unwrap();
    std::os::unix::fs::symlink("../d/Dockerfile", dir.path().join("e/Dockerfile")).unwrap();
    std::os::unix::fs::symlink("compose.yaml", dir.path().join("e/docker-compose.yml")).unwrap();
    let count = |o: &std::process::Output, what: &str| stdout(o).matches(what).count();
    for args in [
        &[
            "check",
            "--select",
            "DF001",
            "d/Dockerfile",
            "./d/Dockerfile",
        ][..],
        &["check", "--select", "DF001", "d"],
        &[
            "check",
            "--select",
            "DF001",
            "d",
            "d/Dockerfile",
            "d/Dockerfile.link",
        ],
        &["check", "--select", "DF001", "."],
    ] {
        let o = crate::cli::run(dir.path(), args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", both(&o));
        assert_eq!(count(&o, ": DF001 "), 1, "{args:?}: {}", both(&o));
        assert!(
            stdout(&o).contains("d/Dockerfile:2:1: DF001"),
            "{args:?}: {}",
            both(&o)
        );
    }
    let o = crate::cli::run(
        dir.path(),
        &["check", "--select", "DC004", "e", "e/compose.yaml"],
    );
    assert_eq!(count(&o, ": DC004 "), 1, "{}", both(&o));
    let o = crate::cli::run(
        dir.path(),
        &[
            "fix",
            "--check",
            "--select",
            "DF001",
            "d/Dockerfile",
            "./d/Dockerfile",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert_eq!(count(&o, "+COPY app /app"), 1, "{}", both(&o));
    let o = crate::cli::run(
        dir.path(),
        &[
            "fix",
            "--select",
            "DF001",
            "d/Dockerfile",
            "./d/Dockerfile",
            ".",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("d/Dockerfile")).unwrap(),
        "FROM alpine:3.20\nCOPY app /app\n"
    );
    // The links are still links.
    for link in ["d/Dockerfile.link", "e/Dockerfile", "e/docker-compose.yml"] {
        assert!(
            std::fs::symlink_metadata(dir.path().join(link))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{link}"
        );
    }
}

/// `fix --check` is the CI gate and its output lands in build logs: the secret values that DF005,
/// DC011 and K8S011 find are masked in the diff it prints (the `-` lines that remove them, context
/// lines and lines that still hold them, and the same value written elsewhere in the file), and it
/// says so. `fix --diff` stays exact: `git apply` of it equals what `fix` writes.
#[test]
fn fix_check_masks_secrets_and_fix_diff_stays_exact() {
    let dockerfile = "FROM alpine:3.20\nARG GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\nENV DB_PASSWORD=\"hunter2hunter2\"\nRUN git clone https://$GITHUB_TOKEN@github.com/org/private.git\nADD app /app\nRUN mysql -phunter2hunter2 -e 'select 1'\nUSER 10001:10001\n";
    let compose = "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: app\n      POSTGRES_PASSWORD: Sup3rS3cretValue\n    # was Sup3rS3cretValue before\n";
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n      env:\n        - name: API_TOKEN\n          value: \"tok-9f8e7d6c5b4a39281706\"\n";
    let config = "[options.kubernetes]\nsecret-name = \"app-secrets\"\n";
    let files = [
        ("Dockerfile", dockerfile),
        ("compose.yaml", compose),
        ("k8s/pod.yaml", pod),
        (".dockharden.toml", config),
    ];
    let secrets = [
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "hunter2hunter2",
        "Sup3rS3cretValue",
        "tok-9f8e7d6c5b4a39281706",
    ];
    let run = |dir: &std::path::Path, args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run dockharden")
    };
    let rules = "DF001,DF005,DC011,K8S011";
    let a = tree(&files);
    let o = run(
        a.path(),
        &["fix", "--check", "--unsafe-fixes", "--select", rules, "."],
    );
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let out = both(&o);
    for s in secrets {
        assert!(
            !out.contains(s),
            "`fix --check` printed the secret `{s}`:\n{out}"
        );
    }
    // The diff is still there, with the secrets masked where they were.
    let diff = stdout(&o);
    assert!(diff.contains("-ARG GITHUB_TOKEN=gh****\n"), "{diff}");
    assert!(diff.contains("+COPY app /app\n"), "{diff}");
    assert!(
        diff.contains("-      POSTGRES_PASSWORD: Su****\n"),
        "{diff}"
    );
    assert!(diff.contains("-          value: \"to****\"\n"), "{diff}");
    assert!(
        diff.contains(" RUN mysql -phu**** -e 'select 1'\n"),
        "{diff}"
    );
    assert!(diff.contains(" ENV DB_PASSWORD=\"hu****\"\n"), "{diff}");
    // And it says so.
    assert!(
        stderr(&o).contains("secret values are masked"),
        "{}",
        stderr(&o)
    );
    // Nothing written.
    assert_eq!(
        std::fs::read_to_string(a.path().join("Dockerfile")).unwrap(),
        dockerfile
    );

    // --diff is exact: git apply of it equals what `fix` writes.
    let o = run(
        a.path(),
        &["fix", "--diff", "--unsafe-fixes", "--select", rules, "."],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let diff = stdout(&o);
    assert!(
        diff.contains("-ARG GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n"),
        "{diff}"
    );
    assert!(!stderr(&o).contains("masked"), "{}", stderr(&o));
    std::fs::write(a.path().join("patch.diff"), &diff).unwrap();
    let g = Command::new("git")
        .args(["apply", "--unsafe-paths", "patch.diff"])
        .current_dir(a.path())
        .output()
        .unwrap();
    assert!(
        g.status.success(),
        "git apply: {}\n{diff}",
        String::from_utf8_lossy(&g.stderr)
    );
    let b = tree(&files);
    let o = run(b.path(), &["fix", "--unsafe-fixes", "--select", rules, "."]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    for (name, _) in files {
        assert_eq!(
            std::fs::read_to_string(a.path().join(name)).unwrap(),
            std::fs::read_to_string(b.path().join(name)).unwrap(),
            "{name}"
        );
    }
    assert_ne!(
        std::fs::read_to_string(b.path().join("Dockerfile")).unwrap(),
        dockerfile
    );
}
