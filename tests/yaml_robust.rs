//! YAML robustness (issue 14 items 7, 8, 9): `check` and `fix` parse and limit alike, alias bombs
//! are refused by expanded size while real alias-heavy files are fixed, costs stay linear, and
//! legal YAML (a top-level merge of the services mapping, lone CR line breaks) never ends in an
//! internal error.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::cli::{run_stdin, stdout, tree, BIN};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn both(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// Run with a deadline: a hang is a failure, not a stuck test run.
fn run_timed(dir: &std::path::Path, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new("timeout")
        .arg("60")
        .arg(BIN)
        .args(args)
        .arg("--isolated")
        .current_dir(dir)
        .output()
        .expect("run dockharden under timeout");
    assert_ne!(out.status.code(), Some(124), "dockharden hung: {args:?}");
    (out, start.elapsed())
}

/// Messages meant for people, not Rust debug output of library types.
fn assert_readable(text: &str) {
    for bad in ["{ ", "Breach", "AliasAnchorRatio", "budget breached"] {
        assert!(!text.contains(bad), "debug output in a message: {text}");
    }
}

/// The error line `check` and `fix` print for `file`, if any.
fn error_line(text: &str, file: &str) -> Option<String> {
    text.lines()
        .find(|l| l.starts_with(file) && l.contains(": error: "))
        .map(str::to_owned)
}

/// `check` and `fix --diff` must accept and refuse the same files, with the same located message.
fn assert_modes_agree(dir: &std::path::Path, file: &str, extra: &[&str]) -> Option<String> {
    let mut check_args = vec!["check", file];
    check_args.extend(extra);
    let (c, _) = run_timed(dir, &check_args);
    let mut fix_args = vec!["fix", "--diff", "--unsafe-fixes", file];
    fix_args.extend(extra);
    let (f, _) = run_timed(dir, &fix_args);
    let ce = error_line(&both(&c), file);
    let fe = error_line(&both(&f), file);
    assert_eq!(
        ce,
        fe,
        "check and fix disagree on {file}:\n--- check\n{}\n--- fix\n{}",
        both(&c),
        both(&f)
    );
    if let Some(e) = &ce {
        assert_readable(e);
        assert_eq!(c.status.code(), Some(2), "{}", both(&c));
        assert_eq!(f.status.code(), Some(2), "{}", both(&f));
    } else {
        assert_ne!(c.status.code(), Some(2), "{}", both(&c));
        assert_eq!(f.status.code(), Some(0), "{}", both(&f));
    }
    ce
}

#[test]
fn check_and_fix_apply_the_same_parsing_and_limits() {
    let many_docs: String = (0..10_050)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"))
        .collect();
    let many_aliases = {
        let mut s = String::from("x-env: &env\n  TZ: UTC\nservices:\n");
        for i in 0..150 {
            s += &format!("  s{i}:\n    image: nginx:1.27\n    environment: *env\n");
        }
        s
    };
    let dir = tree(&[
        (
            "timestamp/compose.yaml",
            "services:\n  web:\n    image: nginx:1.27\n    labels:\n      built: !!timestamp 2001-12-14\n",
        ),
        (
            "merge5/compose.yaml",
            "services:\n  web:\n    <<: 5\n    image: nginx:1.27\n",
        ),
        ("aliases/compose.yaml", &many_aliases),
        ("docs/configmaps.yaml", &many_docs),
    ]);
    // A timestamp is legal YAML: both load it.
    assert_eq!(
        assert_modes_agree(dir.path(), "timestamp/compose.yaml", &[]),
        None
    );
    // A merge key whose value is not a mapping: both refuse it, located.
    let e = assert_modes_agree(dir.path(), "merge5/compose.yaml", &[]).expect("an error");
    assert!(e.contains("merge5/compose.yaml:3:"), "{e}");
    // Many aliases to one anchor: fine for both.
    assert_eq!(
        assert_modes_agree(dir.path(), "aliases/compose.yaml", &[]),
        None
    );
    // More documents than any fixed document budget: fine for both.
    assert_eq!(
        assert_modes_agree(
            dir.path(),
            "docs/configmaps.yaml",
            &["--kind", "kubernetes"]
        ),
        None
    );
}

/// A billion-laughs alias bomb: nine levels of nine aliases.
fn billion_laughs() -> String {
    let mut t = String::from("services:\n  web:\n    image: nginx:1.27\n");
    t += "x-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
    let mut prev = 'a';
    for c in 'b'..='i' {
        t += &format!(
            "x-{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        );
        prev = c;
    }
    t
}

#[test]
fn alias_bombs_are_refused_quickly_in_check_and_fix() {
    let dir = tree(&[("compose.yaml", &billion_laughs())]);
    for args in [
        &["check", "compose.yaml"][..],
        &["fix", "--diff", "compose.yaml"],
        &["fix", "--unsafe-fixes", "compose.yaml"],
    ] {
        let (o, took) = run_timed(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", both(&o));
        assert!(took < Duration::from_secs(5), "{args:?} took {took:?}");
        let e = error_line(&both(&o), "compose.yaml").expect("an error line");
        assert_readable(&e);
        assert!(e.contains("alias"), "{e}");
    }
    assert_modes_agree(dir.path(), "compose.yaml", &[]).expect("refused");
}

/// A large self-hosted stack (158 aliases on 10 anchors, `<<: *common` in every service) is fixed,
/// verified, and fixing the result again changes nothing.
#[test]
fn an_alias_heavy_stack_is_fixed_and_verified() {
    let fixture = include_str!("fixtures/selfhosted-stack.compose.yaml");
    let dir = tree(&[("docker-compose.yml", fixture)]);
    assert_eq!(
        assert_modes_agree(dir.path(), "docker-compose.yml", &[]),
        None
    );
    let (o, _) = run_timed(dir.path(), &["fix", "--unsafe-fixes", "docker-compose.yml"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let fixed = std::fs::read_to_string(dir.path().join("docker-compose.yml")).unwrap();
    assert_ne!(fixed, fixture);
    assert!(fixed.contains("no-new-privileges:true"), "{fixed}");
    // The anchors and aliases are all still there.
    assert_eq!(fixed.matches('&').count(), fixture.matches('&').count());
    let (o, _) = run_timed(
        dir.path(),
        &["fix", "--diff", "--unsafe-fixes", "docker-compose.yml"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(stdout(&o).is_empty(), "not idempotent:\n{}", stdout(&o));
}

#[test]
fn a_top_level_merge_of_the_services_mapping_is_not_an_internal_error() {
    let input = "services: &A1\n  readeck:\n    ports:\n<<: *A1\n";
    let dir = tree(&[]);
    let o = run_stdin(
        dir.path(),
        &[
            "fix",
            "--unsafe-fixes",
            "--stdin-filename",
            "docker-compose.yml",
        ],
        input.as_bytes(),
    );
    assert!(!both(&o).contains("internal error"), "{}", both(&o));
    assert_ne!(o.status.code(), Some(2), "{}", both(&o));
    // Whatever was applied still means the same outside the declared changes; the result is a
    // fixed point.
    let out = stdout(&o);
    let o2 = run_stdin(
        dir.path(),
        &[
            "fix",
            "--unsafe-fixes",
            "--stdin-filename",
            "docker-compose.yml",
        ],
        out.as_bytes(),
    );
    assert_eq!(stdout(&o2), out, "{}", both(&o2));
}

#[test]
fn lone_cr_line_breaks_are_fixed_and_the_diff_applies() {
    let compose = "services:\r  web:\r    image: nginx:1.27\r    volumes:\r      - /var/run/docker.sock:/var/run/docker.sock\r";
    let a = tree(&[("compose.yaml", compose)]);
    let b = tree(&[("compose.yaml", compose)]);
    // Findings are located on the right line.
    let (o, _) = run_timed(a.path(), &["check", "--select", "DC001", "compose.yaml"]);
    assert!(stdout(&o).contains("compose.yaml:5:"), "{}", both(&o));
    let (o, _) = run_timed(
        a.path(),
        &["fix", "--diff", "--unsafe-fixes", "compose.yaml"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(!both(&o).contains("internal error"), "{}", both(&o));
    let diff = stdout(&o);
    assert!(!diff.is_empty());
    std::fs::write(a.path().join("patch.diff"), &diff).unwrap();
    let g = Command::new("git")
        .args(["apply", "--unsafe-paths", "patch.diff"])
        .current_dir(a.path())
        .output()
        .unwrap();
    assert!(
        g.status.success(),
        "git apply failed: {}\n{diff:?}",
        String::from_utf8_lossy(&g.stderr)
    );
    let (o, _) = run_timed(b.path(), &["fix", "--unsafe-fixes", "compose.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let applied = std::fs::read(a.path().join("compose.yaml")).unwrap();
    let written = std::fs::read(b.path().join("compose.yaml")).unwrap();
    assert_eq!(applied, written, "git apply of --diff differs from fix");
    let written = String::from_utf8(written).unwrap();
    assert!(!written.contains("docker.sock"), "{written:?}");
    // New lines use the file's own line break.
    assert!(!written.contains('\n'), "{written:?}");
}

/// [`run_stdin`] for inputs larger than a pipe buffer: written from another thread while the
/// output is read, and a reader that stops early is fine.
fn run_stdin_big(dir: &std::path::Path, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = Command::new("timeout")
        .arg("60")
        .arg(BIN)
        .args(args)
        .arg("--isolated")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_ne!(out.status.code(), Some(124), "dockharden hung: {args:?}");
    out
}

/// Standard input has the same size limit as files: an oversized input is refused at once (not
/// parsed), and `fix` still echoes it unchanged, streamed rather than held in memory.
#[test]
fn stdin_has_the_file_size_limit() {
    let dir = tree(&[]);
    let line =
        "RUN echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n";
    let mut big = String::from("FROM alpine:3.20\n");
    while big.len() <= 9 * 1024 * 1024 {
        big.push_str(line);
    }
    let start = Instant::now();
    let o = run_stdin_big(
        dir.path(),
        &["check", "--stdin-filename", "Dockerfile"],
        big.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(both(&o).contains("too large"), "{}", both(&o));
    let o = run_stdin_big(
        dir.path(),
        &["fix", "--stdin-filename", "Dockerfile"],
        big.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("too large"), "{}", stderr(&o));
    assert!(
        o.stdout == big.as_bytes(),
        "the input is not echoed unchanged"
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}
