//! `fix --interactive`: without a terminal it refuses with advice; in a real pseudo-terminal (driven
//! by Python's `pty`), a scripted session produces exactly the accepted fixes.

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dockharden");

pub(crate) const DOCKERFILE: &str =
    "FROM alpine:3.20\nADD a /a\nADD b /b\nADD c /c\nUSER 10001:10001\n";
pub(crate) const COMPOSE: &str = "services:\n  web:\n    image: nginx:1.27\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n      - ./a:/a\n";

#[test]
fn without_a_terminal_exits_2_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), DOCKERFILE).unwrap();
    let o = Command::new(BIN)
        .args(["fix", "--interactive", "--isolated"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("fix --check") && err.contains("--unsafe-fixes"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        DOCKERFILE
    );
}

pub(crate) const DRIVER: &str = r#"
import os, pty, select, sys, time
binary, cwd, answers = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cwd)
    os.execv(binary, [binary, "fix", "--interactive", "--isolated", "--select", "DF001,DC001"])
out = b""
prompt = b"[y,n,a,d,q,?]"
def pump(timeout):
    global out
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False
    if not data:
        return False
    out += data
    return True
for i, a in enumerate(answers):
    deadline = time.time() + 60
    while out.count(prompt) <= i and time.time() < deadline:
        if not pump(0.5):
            break
    if out.count(prompt) <= i:
        sys.stderr.write("no question %d\n" % (i + 1))
        break
    os.write(fd, a.encode())
while pump(2):
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

#[test]
fn scripted_session_in_a_pseudo_terminal_applies_exactly_the_accepted_fixes() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not found; pseudo-terminal test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::write(dir.path().join("compose.yaml"), COMPOSE).unwrap();
    // Dockerfile first (sorted paths): ADD a → y, ADD b → n, ADD c → y; then compose: socket → y.
    let o = Command::new("python3")
        .args(["-c", DRIVER, BIN, dir.path().to_str().unwrap(), "ynyy"])
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{screen}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(screen.matches("[y,n,a,d,q,?]").count(), 4, "{screen}");
    assert!(
        screen.contains("DF001") && screen.contains("DC001"),
        "{screen}"
    );
    assert!(
        screen.contains("+COPY a /a"),
        "the preview shows the change: {screen}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        "FROM alpine:3.20\nCOPY a /a\nADD b /b\nCOPY c /c\nUSER 10001:10001\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        "services:\n  web:\n    image: nginx:1.27\n    volumes:\n      - ./a:/a\n"
    );
}

/// A pseudo-terminal session driven by steps: wait until the screen shows `expect` (after what the
/// previous step waited for), then type `send`. Prints the screen; exits with the program's status.
pub(crate) const STEPS_DRIVER: &str = r#"
import json, os, pty, select, sys, time
binary, cwd, steps, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cwd)
    os.execv(binary, [binary, *args])
out = b""
def pump(timeout):
    global out
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False
    if not data:
        return False
    out += data
    return True
pos = 0
for expect, send in steps:
    want = expect.encode()
    deadline = time.time() + 60
    while out.find(want, pos) < 0 and time.time() < deadline:
        if not pump(0.5):
            break
    at = out.find(want, pos)
    if at < 0:
        sys.stderr.write("never shown: %r\n" % expect)
        break
    pos = at + len(want)
    # Let the prompt finish drawing (and the terminal go to raw mode) before typing.
    pump(0.3)
    os.write(fd, send.encode())
deadline = time.time() + 60
while time.time() < deadline:
    if not pump(0.5):
        break
else:
    os.kill(pid, 9)
    sys.stderr.write("still running 60 s after the last step: killed\n")
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// Run `dockharden ARGS` in a pseudo-terminal in `dir`, following `steps`; None without python3.
pub(crate) fn drive(
    dir: &std::path::Path,
    args: &[&str],
    steps: &[(&str, &str)],
) -> Option<(Option<i32>, String, String)> {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not found; pseudo-terminal test skipped");
        return None;
    }
    let o = Command::new("python3")
        .args(["-c", STEPS_DRIVER, BIN, dir.to_str().unwrap()])
        .arg(serde_json::to_string(steps).unwrap())
        .arg(serde_json::to_string(args).unwrap())
        .output()
        .unwrap();
    Some((
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ))
}

const PROMPT: &str = "[y,n,a,d,q,?]";
const SESSION: &[&str] = &["fix", "-i", "--isolated", "--select", "DF001,DC001"];

/// Ctrl-C at a question asks whether to write the fixes accepted so far; `y` writes them (and only
/// them), the files after it are not reviewed, and the exit status is 130.
#[test]
fn ctrl_c_then_yes_writes_what_was_accepted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::write(dir.path().join("compose.yaml"), COMPOSE).unwrap();
    let Some((code, screen, err)) = drive(
        dir.path(),
        SESSION,
        &[
            (PROMPT, "y"),
            (PROMPT, "\x03"),
            ("Write the 1 fix accepted so far in Dockerfile? [y/N]", "y"),
        ],
    ) else {
        return;
    };
    assert_eq!(code, Some(130), "{screen}\n{err}");
    assert!(
        screen.contains("Interrupted in Dockerfile: the files after it were not reviewed"),
        "{screen}"
    );
    assert!(screen.contains("Applied 1 fix in 1 file"), "{screen}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        "FROM alpine:3.20\nCOPY a /a\nADD b /b\nADD c /c\nUSER 10001:10001\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        COMPOSE
    );
}

/// Ctrl-C then `n` (or Enter): nothing of the interrupted file is written; files finished before
/// it keep their fixes.
#[test]
fn ctrl_c_then_no_writes_nothing_of_that_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), DOCKERFILE).unwrap();
    let compose = format!("{COMPOSE}  worker:\n    image: nginx:1.27\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n");
    std::fs::write(dir.path().join("compose.yaml"), &compose).unwrap();
    // Dockerfile: y, n, y (written when its questions end); compose: y, then Ctrl-C, then n.
    let Some((code, screen, err)) = drive(
        dir.path(),
        SESSION,
        &[
            (PROMPT, "y"),
            (PROMPT, "n"),
            (PROMPT, "y"),
            (PROMPT, "y"),
            (PROMPT, "\x03"),
            (
                "Write the 1 fix accepted so far in compose.yaml? [y/N]",
                "n",
            ),
        ],
    ) else {
        return;
    };
    assert_eq!(code, Some(130), "{screen}\n{err}");
    assert!(
        screen.contains("compose.yaml is left unchanged"),
        "{screen}"
    );
    assert!(screen.contains("Applied 2 fixes in 1 file"), "{screen}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        "FROM alpine:3.20\nCOPY a /a\nADD b /b\nCOPY c /c\nUSER 10001:10001\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        compose
    );
}

/// A memory limit only the user knows: the session asks for it (validated), offers to save it under
/// its real key, shows the fix it makes possible, then asks for the CPU limit (skipped here).
#[test]
fn a_limit_is_asked_saved_under_its_key_and_applied() {
    let dir = tempfile::tempdir().unwrap();
    let compose = "services:\n  web:\n    image: nginx:1.27\n";
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
    let Some((code, screen, err)) = drive(
        dir.path(),
        &["fix", "-i", "--isolated", "--select", "DC010"],
        &[
            ("limits.memory: ", "lots\r"),
            ("is not a memory size", "\x15512M\r"),
            (
                "Save `[options.limits] memory = \"512M\"` to .dockharden.toml?",
                "y",
            ),
            (PROMPT, "y"),
            ("CPU limit for the services", "\r"),
        ],
    ) else {
        return;
    };
    assert_eq!(code, Some(0), "{screen}\n{err}");
    assert!(
        screen.contains("Suggestion, until you give the value it needs"),
        "{screen}"
    );
    assert!(
        screen.contains("+          memory: 512M"),
        "the preview: {screen}"
    );
    assert!(
        screen.contains("[file 1/1, fix 3]"),
        "the CPU question: {screen}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        "services:\n  web:\n    image: nginx:1.27\n    deploy:\n      resources:\n        limits:\n          memory: 512M\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".dockharden.toml")).unwrap(),
        "[options.limits]\nmemory = \"512M\"\n"
    );
}

/// Ctrl-C while a value is typed stops the session too; nothing was accepted, so nothing is asked
/// or written.
#[test]
fn ctrl_c_in_a_value_prompt_stops_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let compose = "services:\n  web:\n    image: nginx:1.27\n";
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
    let Some((code, screen, err)) = drive(
        dir.path(),
        &["fix", "-i", "--isolated", "--select", "DC010"],
        &[("limits.memory: ", "51"), ("51", "\x03")],
    ) else {
        return;
    };
    assert_eq!(code, Some(130), "{screen}\n{err}");
    assert!(!screen.contains("Write the"), "{screen}");
    assert!(screen.contains("Applied 0 fixes in 0 files"), "{screen}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        compose
    );
    assert!(!dir.path().join(".dockharden.toml").exists());
}
