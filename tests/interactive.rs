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
