//! The CLI contract: exit codes, output formats, `--check` writes nothing, `--diff` + `git apply`
//! equals the written result, stdin mode, atomic writes keep the mode, errors are located and do not
//! stop other files.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_dockharden");

const ADD_DOCKERFILE: &str =
    "FROM alpine:3.20\n# copy the app\nADD app /app\nUSER 10001:10001\nCMD [\"/app/run\"]\n";
const CLEAN_DOCKERFILE: &str =
    "FROM alpine:3.20\nCOPY app /app\nUSER 10001:10001\nCMD [\"/app/run\"]\n";
const FIXED_DOCKERFILE: &str =
    "FROM alpine:3.20\n# copy the app\nCOPY app /app\nUSER 10001:10001\nCMD [\"/app/run\"]\n";

pub(crate) fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--isolated")
        .current_dir(dir)
        .output()
        .expect("run dockharden")
}

pub(crate) fn run_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--isolated")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

#[test]
fn check_exit_codes() {
    let dir = tree(&[("Dockerfile", ADD_DOCKERFILE)]);
    let o = run(dir.path(), &["check", "--select", "DF001"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("Dockerfile:3:1: DF001"),
        "{}",
        stdout(&o)
    );
    let clean = tree(&[("Dockerfile", CLEAN_DOCKERFILE)]);
    let o = run(clean.path(), &["check", "--select", "DF001"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = run(dir.path(), &["check", "--select", "DF001", "--exit-zero"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn json_lists_clean_files_too() {
    let dir = tree(&[
        ("a/Dockerfile", ADD_DOCKERFILE),
        ("b/Dockerfile", CLEAN_DOCKERFILE),
    ]);
    let o = run(
        dir.path(),
        &["check", "--format", "json", "--select", "DF001"],
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], 1);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{v}");
    assert_eq!(files[0]["path"], "a/Dockerfile");
    assert_eq!(files[0]["kind"], "dockerfile");
    let f = &files[0]["findings"][0];
    assert_eq!(f["code"], "DF001");
    assert_eq!(f["range"]["start"]["line"], 3);
    assert_eq!(f["range"]["start"]["column"], 1);
    assert_eq!(f["fix"]["applicability"], "safe");
    assert!(files[0]["error"].is_null());
    assert_eq!(files[1]["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn fix_check_writes_nothing_and_exits_1() {
    let dir = tree(&[("Dockerfile", ADD_DOCKERFILE)]);
    let o = run(dir.path(), &["fix", "--check", "--select", "DF001"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("-ADD app /app\n+COPY app /app\n"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        ADD_DOCKERFILE
    );
    let clean = tree(&[("Dockerfile", CLEAN_DOCKERFILE)]);
    let o = run(clean.path(), &["fix", "--check", "--select", "DF001"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).is_empty());
}

#[test]
fn diff_applies_with_git_and_equals_the_written_result() {
    let compose = "services:\r\n  web:\r\n    image: nginx:1.27\r\n    volumes:\r\n      - ./html:/usr/share/nginx/html\r\n      - /var/run/docker.sock:/var/run/docker.sock # needed?\r\n";
    let files = [
        ("Dockerfile", ADD_DOCKERFILE),
        ("sub/compose.yaml", compose),
        ("noeol/Dockerfile", "FROM alpine:3.20\nADD a /a"),
    ];
    let a = tree(&files);
    let b = tree(&files);
    let o = run(
        a.path(),
        &["fix", "--diff", "--unsafe-fixes", "--select", "DF001,DC001"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let diff = stdout(&o);
    assert!(diff.contains("--- a/sub/compose.yaml"), "{diff}");
    // Nothing written by --diff.
    assert_eq!(
        std::fs::read_to_string(a.path().join("sub/compose.yaml")).unwrap(),
        compose
    );
    std::fs::write(a.path().join("patch.diff"), &diff).unwrap();
    let g = Command::new("git")
        .args(["apply", "--unsafe-paths", "patch.diff"])
        .current_dir(a.path())
        .output()
        .unwrap();
    assert!(
        g.status.success(),
        "git apply failed: {}\n{diff}",
        String::from_utf8_lossy(&g.stderr)
    );
    let o = run(
        b.path(),
        &["fix", "--unsafe-fixes", "--select", "DF001,DC001"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    for (name, _) in files {
        let pa = std::fs::read(a.path().join(name)).unwrap();
        let pb = std::fs::read(b.path().join(name)).unwrap();
        assert_eq!(pa, pb, "{name}: git apply of --diff differs from fix");
    }
    let fixed = std::fs::read_to_string(b.path().join("sub/compose.yaml")).unwrap();
    assert!(!fixed.contains("docker.sock"), "{fixed}");
    assert!(fixed.contains("\r\n"));
}

#[test]
fn unsafe_fixes_are_skipped_by_default_with_a_hint() {
    let compose = "services:\n  web:\n    image: nginx:1.27\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n";
    let dir = tree(&[("compose.yaml", compose)]);
    let o = run(dir.path(), &["fix", "--select", "DC001"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        compose
    );
    assert!(stdout(&o).contains("--unsafe-fixes"), "{}", stdout(&o));
}

#[cfg(unix)]
#[test]
fn atomic_write_keeps_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tree(&[("Dockerfile", ADD_DOCKERFILE)]);
    let p = dir.path().join("Dockerfile");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
    let o = run(dir.path(), &["fix", "--select", "DF001"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), FIXED_DOCKERFILE);
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // No temporary file left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn stdin_fix_writes_result_to_stdout() {
    let dir = tree(&[]);
    let o = run_stdin(
        dir.path(),
        &["fix", "--stdin-filename", "Dockerfile", "--select", "DF001"],
        ADD_DOCKERFILE.as_bytes(),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(stdout(&o), FIXED_DOCKERFILE);
    let o = run_stdin(
        dir.path(),
        &[
            "check",
            "--stdin-filename",
            "Dockerfile",
            "--select",
            "DF001",
        ],
        ADD_DOCKERFILE.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("Dockerfile:3:1: DF001"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn stdin_unprocessable_input_is_echoed_unchanged_with_exit_2() {
    let dir = tree(&[]);
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n";
    let o = run_stdin(
        dir.path(),
        &[
            "fix",
            "--stdin-filename",
            "deploy.yaml",
            "--kind",
            "kubernetes",
        ],
        template.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), template);
    let bad: &[u8] = b"FROM alpine\n\xff\xfe\n";
    let o = run_stdin(dir.path(), &["fix", "--stdin-filename", "Dockerfile"], bad);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(o.stdout, bad);
}

#[test]
fn errors_are_located_and_other_files_still_processed() {
    let dir = tree(&[
        ("a/compose.yaml", "services:\n  web: [unclosed\n"),
        ("b/Dockerfile", ADD_DOCKERFILE),
    ]);
    std::fs::write(
        dir.path().join("c.Dockerfile"),
        b"FROM alpine\nRUN echo \xff\n",
    )
    .unwrap();
    let o = run(dir.path(), &["fix", "--select", "DF001"]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    assert!(out.contains("a/compose.yaml:"), "{out}");
    assert!(
        out.contains("c.Dockerfile:2:10: error: not valid UTF-8"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("b/Dockerfile")).unwrap(),
        FIXED_DOCKERFILE
    );
}

#[test]
fn explicit_file_of_unknown_kind_is_an_error_and_kind_overrides() {
    let dir = tree(&[("build.txt", ADD_DOCKERFILE)]);
    let o = run(dir.path(), &["check", "build.txt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("--kind"), "{}", stdout(&o));
    let o = run(
        dir.path(),
        &[
            "check",
            "build.txt",
            "--kind",
            "dockerfile",
            "--select",
            "DF001",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn walk_respects_gitignore_and_detects_kinds_by_content() {
    let dir = tree(&[
        (".gitignore", "ignored/\n"),
        ("ignored/Dockerfile", ADD_DOCKERFILE),
        ("k8s/deploy.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: a\n      image: nginx:1.27\n"),
        ("stack.yml", "services:\n  web:\n    image: nginx:1.27\n"),
        ("values.yaml", "replicas: 3\n"),
    ]);
    let o = run(
        dir.path(),
        &["check", "--format", "json", "--select", "DF001"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths: Vec<(String, String)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["kind"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            ("k8s/deploy.yaml".into(), "kubernetes".into()),
            ("stack.yml".into(), "compose".into())
        ],
        "{v}"
    );
}

#[test]
fn rules_and_explain() {
    let dir = tree(&[]);
    let o = Command::new(BIN)
        .args(["rules"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("DF001") && out.contains("DC001"), "{out}");
    let o = Command::new(BIN)
        .args(["explain", "DF001"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("## Why is this bad?"));
    let o = Command::new(BIN)
        .args(["explain", "NOPE1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_arguments_and_bad_config_exit_2() {
    let dir = tree(&[
        ("Dockerfile", CLEAN_DOCKERFILE),
        (".dockharden.toml", "selekt = [\"DF\"]\n"),
    ]);
    let o = Command::new(BIN)
        .args(["check", "--no-such-flag"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = Command::new(BIN)
        .args(["check"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let all = format!("{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert!(
        all.contains("selekt") && all.contains(".dockharden.toml"),
        "{all}"
    );
}

#[test]
fn broken_pipe_exits_0() {
    let mut files = Vec::new();
    let names: Vec<String> = (0..400).map(|i| format!("d{i}/Dockerfile")).collect();
    for n in &names {
        files.push((n.as_str(), ADD_DOCKERFILE));
    }
    let dir = tree(&files);
    let o = Command::new("bash")
        .args([
            "-c",
            &format!(
                "set -o pipefail; '{BIN}' check --isolated --format json | head -c 10 >/dev/null"
            ),
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The report is written a batch of files at a time, its standard error lines with it: with both
/// streams on one file, each file's diff and each file's error still come in path order.
#[test]
fn diff_and_errors_keep_the_order_of_the_files_on_one_stream() {
    let dir = tree(&[
        ("a/Dockerfile", ADD_DOCKERFILE),
        ("b/Dockerfile", "FROM alpine:3.20\nENV foo\n"),
        ("c/Dockerfile", ADD_DOCKERFILE),
    ]);
    let o = Command::new("bash")
        .args([
            "-c",
            &format!("'{BIN}' fix --diff --isolated --select DF001 --no-progress . 2>&1"),
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let at = |needle: &str| {
        out.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in:\n{out}"))
    };
    let (a, b, c) = (
        at("+++ b/a/Dockerfile"),
        at("b/Dockerfile:2:"),
        at("+++ b/c/Dockerfile"),
    );
    assert!(a < b && b < c, "{out}");
}

#[test]
fn sarif_output_validates_against_the_schema_and_carries_fixes() {
    let compose = "services:\n  web:\n    image: nginx:1.27\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n";
    let dir = tree(&[
        ("Dockerfile", ADD_DOCKERFILE),
        ("compose.yaml", compose),
        ("bad/compose.yaml", "services: [\n"),
    ]);
    let o = run(
        dir.path(),
        &["check", "--format", "sarif", "--select", "DF001,DC001"],
    );
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run0 = &v["runs"][0];
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{v}");
    let df = results.iter().find(|r| r["ruleId"] == "DF001").unwrap();
    let rule_index = df["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run0["tool"]["driver"]["rules"][rule_index]["id"], "DF001");
    let rep = &df["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(rep["insertedContent"]["text"], "COPY");
    assert_eq!(rep["deletedRegion"]["startLine"], 3);
    assert_eq!(run0["invocations"][0]["executionSuccessful"], false);
    let schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/_schemas/sarif-2.1.0.json");
    if !schema.exists() {
        eprintln!("SARIF schema not found; schema validation skipped");
        return;
    }
    let out = dir.path().join("out.sarif");
    std::fs::write(&out, &o.stdout).unwrap();
    let check = Command::new("python3")
        .args([
            "-c",
            "import json,sys,jsonschema; s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2])); jsonschema.validate(d, s); print('valid')",
        ])
        .arg(&schema)
        .arg(&out)
        .output();
    match check {
        Ok(c) if String::from_utf8_lossy(&c.stderr).contains("No module named 'jsonschema'") => {
            eprintln!("python jsonschema not installed; SARIF schema validation skipped");
        }
        Ok(c) => assert!(
            c.status.success(),
            "SARIF invalid: {}",
            String::from_utf8_lossy(&c.stderr)
        ),
        Err(_) => eprintln!("python3 not found; SARIF schema validation skipped"),
    }
}

#[test]
fn github_annotations() {
    let dir = tree(&[("Dockerfile", ADD_DOCKERFILE)]);
    let o = run(
        dir.path(),
        &["check", "--format", "github", "--select", "DF001"],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.starts_with("::notice file=Dockerfile,line=3,col=1,endLine=3,endColumn=4,title=DF001 add-instead-of-copy (low)::Use COPY"),
        "{out}"
    );
}

#[test]
fn summary_json_is_written() {
    let dir = tree(&[
        ("a/Dockerfile", ADD_DOCKERFILE),
        ("b/Dockerfile", CLEAN_DOCKERFILE),
    ]);
    let summary = dir.path().join("summary.json");
    let o = run(
        dir.path(),
        &[
            "fix",
            "--select",
            "DF001",
            "--summary-json",
            summary.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(v["files_scanned"], 2);
    assert_eq!(v["files_changed"], 1);
    assert_eq!(v["files_unchanged"], 1);
    assert_eq!(v["fixes_per_rule"]["DF001"], 1);
    assert_eq!(v["mode"], "fix");
    assert!(v["elapsed_seconds"].as_f64().is_some());
}

#[test]
fn unsafe_fixes_are_not_written_into_dirty_git_files_without_allow_dirty() {
    let compose = "services:\n  web:\n    image: nginx:1.27\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n";
    let dir = tree(&[("compose.yaml", compose)]);
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&[
        "-c",
        "user.email=t@example.com",
        "-c",
        "user.name=t",
        "add",
        ".",
    ]);
    git(&[
        "-c",
        "user.email=t@example.com",
        "-c",
        "user.name=t",
        "commit",
        "-qm",
        "init",
    ]);
    let dirty = format!("# edited\n{compose}");
    std::fs::write(dir.path().join("compose.yaml"), &dirty).unwrap();
    // Not an error: the Unsafe fixes of that file are held back, and the warning says so.
    let o = run(dir.path(), &["fix", "--unsafe-fixes", "--select", "DC001"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--allow-dirty") && err.contains("compose.yaml"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        dirty
    );
    let o = run(
        dir.path(),
        &[
            "fix",
            "--unsafe-fixes",
            "--allow-dirty",
            "--select",
            "DC001",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(!std::fs::read_to_string(dir.path().join("compose.yaml"))
        .unwrap()
        .contains("docker.sock"));
}

#[test]
fn override_files_leave_missing_keys_of_base_services_to_the_base_file() {
    let base = "services:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n";
    let over = "services:\n  web:\n    ports:\n      - \"8080:80\"\n    privileged: true\n  extra:\n    image: alpine:3.20\n";
    let dir = tree(&[("compose.yaml", base), ("compose.override.yaml", over)]);
    let o = run(
        dir.path(),
        &["check", "--format", "json", "--select", "DC002,DC004"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    let findings = |path: &str| -> Vec<(String, u64)> {
        files.iter().find(|f| f["path"] == path).unwrap()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_owned(),
                    f["range"]["start"]["line"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // The override: what it sets itself (privileged) and its own service (extra), not web's cap_drop.
    assert_eq!(
        findings("compose.override.yaml"),
        vec![("DC004".to_owned(), 5), ("DC002".to_owned(), 6)],
        "{v}"
    );
    assert!(findings("compose.yaml").is_empty(), "{v}");
    // Without the base file, the override's web service is flagged.
    let alone = tree(&[("compose.override.yaml", over)]);
    let o = run(
        alone.path(),
        &["check", "--format", "json", "--select", "DC002"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["files"][0]["findings"].as_array().unwrap().len(),
        2,
        "{v}"
    );
}

/// A compose service built from a Dockerfile of the same run is judged on the Dockerfile as the run
/// leaves it: DF002 adds a USER, and what the service needs follows from that in the same run, so a
/// second run changes nothing (in place, and `--diff` shows the same result).
#[test]
fn one_run_reaches_the_fixed_point_across_files() {
    let files = [
        (
            "app/Dockerfile",
            "FROM python:3.12-slim\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
        ),
        (
            "compose.yaml",
            "services:\n  app:\n    build: ./app\n    ports:\n      - \"127.0.0.1:8000:8000\"\n",
        ),
    ];
    let dir = tree(&files);
    let diff_dir = tree(&files);
    let o = run(dir.path(), &["fix", "--unsafe-fixes"]);
    assert!(o.status.success() || o.status.code() == Some(1), "{o:?}");
    let first = std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap();
    let o = run(dir.path(), &["fix", "--unsafe-fixes", "--diff"]);
    assert!(
        stdout(&o).is_empty(),
        "the second run changed files again:\n{}\n(after the first run:\n{first})",
        stdout(&o)
    );
    // `--diff` on the untouched tree shows what the write gave.
    let o = run(diff_dir.path(), &["fix", "--unsafe-fixes", "--diff"]);
    let g = Command::new("git")
        .args(["apply", "-p1"])
        .current_dir(diff_dir.path())
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(&o.stdout)?;
            c.wait()
        })
        .unwrap();
    assert!(g.success());
    assert_eq!(
        std::fs::read_to_string(diff_dir.path().join("compose.yaml")).unwrap(),
        first
    );
}

/// A walked Dockerfile whose line starts with a character of more than one byte (here a second
/// BOM) is read, not a crash (the template check sliced it by bytes). Found by the mutation run.
#[test]
fn multibyte_line_start_is_no_crash() {
    let dir = tree(&[(
        "Dockerfile",
        "\u{feff}\u{feff}# comment\nFROM alpine:3.20\n\u{e9}\u{e9}\nUSER 1000\n",
    )]);
    for args in [&["check"][..], &["fix", "--unsafe-fixes"][..]] {
        let o = run(dir.path(), args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_ne!(o.status.code(), Some(101), "{args:?}: {err}");
    }
}
