//! What a new user trips over (issue 12): typos in rule codes, Helm charts and templated files,
//! configuration keys named in messages, output noise, the dirty-tree guard.

use std::process::Command;

use crate::cli::{run, stdout, tree, BIN};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const ROOT_DOCKERFILE: &str = "FROM alpine:3.20\nUSER root\nCMD [\"sh\"]\n";

#[test]
fn unknown_codes_on_the_command_line_are_an_error_with_a_suggestion() {
    let dir = tree(&[("Dockerfile", ROOT_DOCKERFILE)]);
    for (flag, value) in [
        ("--select", "FOO"),
        ("--ignore", "DF0O2"),
        ("--select", "DF,XYZ9"),
    ] {
        for cmd in ["check", "fix"] {
            let o = run(dir.path(), &[cmd, flag, value]);
            assert_eq!(
                o.status.code(),
                Some(2),
                "{cmd} {flag} {value}: {}",
                stdout(&o)
            );
            let err = stderr(&o);
            assert!(err.contains(flag), "{err}");
            assert!(!stdout(&o).contains("All checks passed"), "{}", stdout(&o));
        }
    }
    let o = run(dir.path(), &["check", "--ignore", "DF0O2"]);
    assert!(
        stderr(&o).contains("`DF0O2`") && stderr(&o).contains("did you mean `DF002`"),
        "{}",
        stderr(&o)
    );
    // Prefixes, ALL and foreign ids are selectors.
    let o = run(dir.path(), &["check", "--select", "df0,all"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run(dir.path(), &["check", "--select", "DL3002"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("DF002"), "{}", stdout(&o));
    let o = run(
        dir.path(),
        &["check", "--select", "DF002", "--ignore", "CKV_DOCKER_8"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // KICS query ids: Missing User Instruction is DF002.
    let o = run(
        dir.path(),
        &[
            "check",
            "--select",
            "DF002",
            "--ignore",
            "fd54f200-402c-4333-a5a4-36ef6709af2f",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // ... and the KICS comment that disables it at the top of a Dockerfile.
    let disabled =
        format!("# kics-scan disable=fd54f200-402c-4333-a5a4-36ef6709af2f\n{ROOT_DOCKERFILE}");
    let dir = tree(&[("Dockerfile", &disabled)]);
    let o = run(dir.path(), &["check", "--select", "DF002"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn unknown_codes_in_the_config_are_an_error_naming_the_file() {
    for config in [
        "select = [\"DF0001\"]\n",
        "ignore = [\"DC0\", \"nope\"]\n",
        "[[overrides]]\npaths = [\"x/**\"]\nignore = [\"DF99\"]\n",
    ] {
        let dir = tree(&[
            ("Dockerfile", ROOT_DOCKERFILE),
            (".dockharden.toml", config),
        ]);
        let o = Command::new(BIN)
            .args(["check"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{config}: {}", stdout(&o));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(
            all.contains(".dockharden.toml") && all.contains("unknown rule code"),
            "{all}"
        );
    }
    let dir = tree(&[
        ("Dockerfile", ROOT_DOCKERFILE),
        (".dockharden.toml", "ignore = [\"DL3002\"]\n"),
    ]);
    let o = Command::new(BIN)
        .args(["check"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!stdout(&o).contains("DF002"), "{}", stdout(&o));
}

#[test]
fn unknown_codes_in_suppressions_are_a_located_error() {
    let text = "FROM alpine:3.20\n# dockharden: ignore=DF0O2\nUSER root\nCMD [\"sh\"]\n";
    let dir = tree(&[("Dockerfile", text)]);
    for cmd in ["check", "fix"] {
        let o = run(dir.path(), &[cmd]);
        assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(
            all.contains("Dockerfile:2:22") && all.contains("did you mean `DF002`"),
            "{all}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        text
    );
    // A foreign id in our own comment is mapped.
    let text = "FROM alpine:3.20\n# dockharden: ignore=DL3002\nUSER root\nCMD [\"sh\"]\n";
    let dir = tree(&[("Dockerfile", text)]);
    let o = run(dir.path(), &["check", "--select", "DF002"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn explain_takes_foreign_ids_and_suggests() {
    let o = Command::new(BIN)
        .args(["explain", "DL3002"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("DL3002 (hadolint) is DF002 (runs-as-root)"),
        "{out}"
    );
    assert!(out.contains("# runs-as-root (DF002)"), "{out}");
    let o = Command::new(BIN)
        .args(["explain", "FD54F200-402C-4333-A5A4-36EF6709AF2F"])
        .output()
        .unwrap();
    assert!(
        stdout(&o)
            .starts_with("fd54f200-402c-4333-a5a4-36ef6709af2f (KICS) is DF002 (runs-as-root)"),
        "{}",
        stdout(&o)
    );
    let o = Command::new(BIN)
        .args(["explain", "DF0O1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `DF001`"),
        "{}",
        stderr(&o)
    );
}

const DEPLOYMENT_TEMPLATE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"app.fullname\" . }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n          {{- with .Values.securityContext }}\n          securityContext:\n            {{- toYaml . | nindent 12 }}\n          {{- end }}\n";

#[test]
fn helm_chart_templates_and_templated_files_are_skipped_and_counted() {
    let dir = tree(&[
        (
            "charts/app/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        ),
        (
            "charts/app/values.yaml",
            "image:\n  repository: nginx\n  tag: \"\"\n",
        ),
        ("charts/app/templates/deployment.yaml", DEPLOYMENT_TEMPLATE),
        (
            "charts/app/templates/service.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n",
        ),
        ("deploy/Dockerfile.j2", "FROM {{ base_image }}\nUSER root\n"),
        (
            "ansible/Dockerfile",
            "FROM {{ base_image }}\n{% if debug %}\nRUN echo debug\n{% endif %}\n",
        ),
        (
            "Dockerfile",
            "FROM alpine:3.20\nUSER 10001:10001\nCMD [\"sh\"]\n",
        ),
    ]);
    let o = run(dir.path(), &["check"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(
        out.contains("Skipped 2 Helm chart templates") && out.contains("2 templated files"),
        "{out}"
    );
    // The Dockerfile and the chart's values.yaml.
    assert!(out.contains("2 files scanned"), "{out}");
    assert_eq!(out.matches("Skipped").count(), 1, "{out}");
    // fix leaves them alone too.
    let o = run(dir.path(), &["fix", "--unsafe-fixes"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("charts/app/templates/deployment.yaml")).unwrap(),
        DEPLOYMENT_TEMPLATE
    );
    // Given explicitly, a template is processed (and fails to parse, as it should).
    let o = run(
        dir.path(),
        &["check", "charts/app/templates/deployment.yaml"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    // Outside a chart, a templated manifest is counted as a templated file.
    let dir = tree(&[(
        "templates/deploy.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ x }}\n",
    )]);
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("Skipped 1 templated file"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_walked_manifest_with_template_syntax_is_skipped_not_an_error() {
    // Manifests with `{{ }}` are refused for editing (they are templates or carry them); walked, that
    // is a count in the summary, not an error that breaks the gate. Named, it is reported.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    summary: \"{{ $labels.instance }} down\"\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n";
    let dir = tree(&[("pod.yaml", pod)]);
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("Skipped 1 templated file"),
        "{}",
        stdout(&o)
    );
    let o = run(dir.path(), &["check", "pod.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stdout(&o).contains("template syntax"), "{}", stdout(&o));
}

const TWO_FINDINGS: &str = "FROM alpine:3.20\nADD app /app\nADD lib /lib\nCMD [\"sh\"]\n";

#[test]
fn diff_and_check_print_the_diff_and_one_summary_line() {
    let dir = tree(&[
        ("a/Dockerfile", TWO_FINDINGS),
        ("b/Dockerfile", TWO_FINDINGS),
    ]);
    for mode in ["--diff", "--check"] {
        let o = run(dir.path(), &["fix", mode]);
        let (out, err) = (stdout(&o), stderr(&o));
        assert!(out.starts_with("--- a/a/Dockerfile\n"), "{out}");
        assert!(!out.contains('\x1b'), "no colour in a pipe: {out:?}");
        assert_eq!(err.lines().count(), 1, "{mode}: {err}");
        assert!(err.starts_with("Would fix 4 findings in 2 files"), "{err}");
        assert!(!err.contains("Elapsed"), "{err}");
        // --statistics adds the per-rule table.
        let o = run(dir.path(), &["fix", mode, "--statistics"]);
        assert!(
            stderr(&o).contains("DF001   add-instead-of-copy"),
            "{}",
            stderr(&o)
        );
        // --quiet: the diff only.
        let o = run(dir.path(), &["fix", mode, "-q"]);
        assert_eq!(stdout(&o), out);
        assert_eq!(stderr(&o), "");
    }
    let o = run(dir.path(), &["fix", "--diff", "--color", "always"]);
    assert!(
        stdout(&o).contains("\x1b[32m+COPY app /app\x1b[0m"),
        "{:?}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("\x1b[31m-ADD app /app\x1b[0m"),
        "{:?}",
        stdout(&o)
    );
}

#[test]
fn check_output_is_the_same_from_run_to_run() {
    let dir = tree(&[
        ("a/Dockerfile", TWO_FINDINGS),
        ("b/Dockerfile", TWO_FINDINGS),
    ]);
    let first = run(dir.path(), &["check"]);
    let second = run(dir.path(), &["check"]);
    assert_eq!(stdout(&first), stdout(&second));
    assert!(!stdout(&first).contains("Elapsed"), "{}", stdout(&first));
    assert!(
        !stdout(&first).contains("add-instead-of-copy      "),
        "{}",
        stdout(&first)
    );
    let o = run(dir.path(), &["check", "--verbose"]);
    assert!(stdout(&o).contains("Elapsed:"), "{}", stdout(&o));
    let o = run(dir.path(), &["check", "-q"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("DF001") && !stdout(&o).contains("Found"),
        "{}",
        stdout(&o)
    );
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let o = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
}

const SAFE_AND_UNSAFE: &str = "services:\n  web:\n    image: nginx:1.27\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n";
const ADD_FILE: &str = "FROM alpine:3.20\nADD app /app\nUSER 10001:10001\nCMD [\"sh\"]\n";

#[test]
fn the_readme_order_fix_then_unsafe_fixes_works_in_a_git_tree() {
    let dir = tree(&[("Dockerfile", ADD_FILE), ("compose.yaml", SAFE_AND_UNSAFE)]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "init"]);
    let o = run(dir.path(), &["fix"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let after_safe = std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap();
    assert!(after_safe.contains("COPY app /app"), "{after_safe}");
    // The Dockerfile's changes are dockharden's own Safe fixes: not the user's work.
    let o = run(
        dir.path(),
        &["fix", "--unsafe-fixes", "--select", "DC001,DF001"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    assert!(!std::fs::read_to_string(dir.path().join("compose.yaml"))
        .unwrap()
        .contains("docker.sock"));
}

#[test]
fn the_dirty_tree_guard_decides_first_and_says_what_it_skipped() {
    let dir = tree(&[("Dockerfile", ADD_FILE), ("compose.yaml", SAFE_AND_UNSAFE)]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "init"]);
    let edited = format!("# my own edit\n{SAFE_AND_UNSAFE}");
    std::fs::write(dir.path().join("compose.yaml"), &edited).unwrap();
    let o = run(
        dir.path(),
        &["fix", "--unsafe-fixes", "--select", "DC001,DF001"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{}{err}", stdout(&o));
    assert!(
        err.contains("not written into 1 file with uncommitted changes (compose.yaml)"),
        "{err}"
    );
    assert!(err.contains("--allow-dirty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        edited
    );
    // The other file was fixed, and the summary counts it.
    assert!(std::fs::read_to_string(dir.path().join("Dockerfile"))
        .unwrap()
        .contains("COPY app"));
    assert!(
        stdout(&o).contains("Fixed 1 finding in 1 file"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_file_that_cannot_be_written_is_not_counted_as_fixed() {
    let dir = tree(&[("Dockerfile", ADD_FILE)]);
    let p = dir.path().join("Dockerfile");
    let mut perm = std::fs::metadata(&p).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o444);
    std::fs::set_permissions(&p, perm).unwrap();
    let o = run(dir.path(), &["fix"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("Fixed 0 findings in 0 files"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn helm_values_are_reported_where_the_templates_use_them_and_never_edited() {
    let values = "replicaCount: 1\nimage:\n  repository: nginx\n  tag: \"\"\npodSecurityContext: {}\nsecurityContext: {}\n  # capabilities:\n  #   drop:\n  #   - ALL\nresources: {}\n";
    let dir = tree(&[
        (
            "chart/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        ),
        ("chart/values.yaml", values),
        ("chart/templates/deployment.yaml", DEPLOYMENT_TEMPLATE),
    ]);
    let o = run(dir.path(), &["check"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    for code in ["K8S001", "K8S003", "K8S004", "K8S005"] {
        assert!(
            out.contains(&format!("chart/values.yaml:6:1: {code}")),
            "{code}: {out}"
        );
    }
    // The deployment template does not use `.Values.resources`: that block is not judged.
    assert!(!out.contains("K8S009"), "{out}");
    assert!(out.contains("Skipped 1 Helm chart template"), "{out}");
    let o = run(dir.path(), &["check", "--select", "K8S001"]);
    assert_eq!(stdout(&o).matches("K8S001").count(), 1, "{}", stdout(&o));
    let o = run(dir.path(), &["fix", "--unsafe-fixes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("chart/values.yaml")).unwrap(),
        values
    );
    // Named explicitly, the same.
    let o = run(dir.path(), &["check", "chart/values.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // A values.yaml outside a chart is not ours.
    let dir = tree(&[("values.yaml", values)]);
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

fn sarif_of(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "--format", "sarif", "--exit-zero"];
    all.extend_from_slice(args);
    let o = run(dir, &all);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn uris(v: &serde_json::Value) -> Vec<(String, Option<String>)> {
    v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            (
                a["uri"].as_str().unwrap().to_owned(),
                a["uriBaseId"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// GitHub code scanning's rules: every rule has `fullDescription` (GH2012), `helpUri` and a
/// `security-severity`; paths are URI references (SARIF1002) relative to `%SRCROOT%` or absolute
/// `file://` URIs (SARIF1004). With `SARIF_MULTITOOL` set (as `.ci/run` does), Microsoft's validator
/// with the GitHub rules must report no error.
#[test]
fn sarif_is_what_github_code_scanning_accepts() {
    let dir = tree(&[("sub dir/Dockerfile", "FROM alpine\nADD a /a\nUSER root\n")]);
    let v = sarif_of(dir.path(), &[]);
    for rule in v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap() {
        assert!(
            rule["fullDescription"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty()),
            "{rule}"
        );
        let help = rule["helpUri"].as_str().unwrap();
        // The page exists in this repository: the rule's source with its doc comment.
        let local = help
            .strip_prefix("https://github.com/dockharden/dockharden/blob/main/")
            .unwrap();
        let local = local.split('#').next().unwrap();
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(local)
                .is_file(),
            "{help}"
        );
        if rule["id"] != "X001" {
            assert!(
                rule["properties"]["security-severity"].as_str().is_some(),
                "{rule}"
            );
            assert!(rule["properties"]["precision"].as_str().is_some(), "{rule}");
        }
    }
    let relative = uris(&v);
    assert!(!relative.is_empty());
    for (uri, base) in &relative {
        assert_eq!(uri, "sub%20dir/Dockerfile");
        assert_eq!(base.as_deref(), Some("%SRCROOT%"));
    }
    let root = v["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    // An absolute path outside the working directory: an absolute file:// URI without a base.
    let outside = tree(&[]);
    let abs = dir.path().join("sub dir").to_string_lossy().into_owned();
    let v2 = sarif_of(outside.path(), &[&abs]);
    for (uri, base) in uris(&v2) {
        assert!(
            uri.starts_with("file:///") && uri.contains("sub%20dir/Dockerfile"),
            "{uri}"
        );
        assert_eq!(base, None);
    }
    // Inside the working directory: relative again.
    let v3 = sarif_of(dir.path(), &[&abs]);
    assert_eq!(uris(&v3), relative);
    let Ok(tool) = std::env::var("SARIF_MULTITOOL") else {
        eprintln!("SARIF_MULTITOOL not set: the GitHub-rules validation is left to .ci/run");
        return;
    };
    for (name, doc) in [("rel", &v), ("abs", &v2)] {
        let input = dir.path().join(format!("{name}.sarif"));
        let output = dir.path().join(format!("{name}.validation.sarif"));
        std::fs::write(&input, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
        let o = Command::new(&tool)
            .args(["validate", "--rule-kind", "Gh;Sarif", "-o"])
            .arg(&output)
            .arg(&input)
            .output()
            .unwrap();
        let log: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&output).unwrap_or_default()).unwrap_or_default();
        let errors: Vec<String> = log["runs"][0]["results"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|r| r["level"] == "error")
                    .map(|r| r["message"].to_string())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            errors.is_empty() && output.exists(),
            "{name}: {errors:#?} {}",
            stderr(&o)
        );
    }
}

#[test]
fn severity_is_shown_everywhere_and_sets_the_threshold() {
    let compose = "services:\n  web:\n    image: nginx:1.27\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n";
    let dir = tree(&[("Dockerfile", ADD_FILE), ("compose.yaml", compose)]);
    let o = run(dir.path(), &["check", "--select", "DF001,DC001"]);
    assert!(stdout(&o).contains(": DF001 [*] low: "), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(": DC001 [+] critical: "),
        "{}",
        stdout(&o)
    );
    let o = run(
        dir.path(),
        &["check", "--select", "DC001", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap().clone())
        .next()
        .unwrap();
    assert_eq!(f["severity"], "critical");
    let o = run(
        dir.path(),
        &["check", "--select", "DF001,DC001", "--format", "github"],
    );
    assert!(
        stdout(&o).contains("::error file=compose.yaml"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("::notice file=Dockerfile"),
        "{}",
        stdout(&o)
    );
    let v = sarif_of(dir.path(), &["--select", "DF001,DC001"]);
    let levels: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert!(
        levels.contains(&"error") && levels.contains(&"note"),
        "{levels:?}"
    );
    // The threshold decides the exit code; everything is still reported.
    let o = run(
        dir.path(),
        &["check", "--select", "DF001", "--severity-threshold", "high"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("DF001"));
    let o = run(
        dir.path(),
        &[
            "check",
            "--select",
            "DF001,DC001",
            "--severity-threshold",
            "critical",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = run(dir.path(), &["check", "--severity-threshold", "severe"]);
    assert_eq!(o.status.code(), Some(2));
    let o = Command::new(BIN)
        .args(["explain", "DC001"])
        .output()
        .unwrap();
    assert!(stdout(&o).contains("Severity: critical."), "{}", stdout(&o));
}

#[test]
fn a_suppression_on_any_line_of_the_stage_or_service_is_honoured() {
    // DF002 is reported on FROM; people put the comment above USER or CMD.
    let dockerfile =
        "FROM alpine:3.20\nRUN apk add --no-cache curl\n# dockharden: ignore=DF002\nCMD [\"sh\"]\n";
    let bare = tree(&[(
        "Dockerfile",
        &dockerfile.replace("# dockharden: ignore=DF002\n", ""),
    )]);
    let o = run(bare.path(), &["check", "--select", "DF002"]);
    assert!(
        stdout(&o).contains("Dockerfile:1:1: DF002"),
        "reported on FROM: {}",
        stdout(&o)
    );
    let compose = "services:\n  web:\n    image: nginx:1.27\n    # dockharden: ignore=DC003\n    read_only: true\n  api:\n    image: nginx:1.27\n    read_only: true\n";
    let dir = tree(&[("Dockerfile", dockerfile), ("compose.yaml", compose)]);
    let o = run(dir.path(), &["check", "--select", "DF002,DC003,X001"]);
    let out = stdout(&o);
    assert!(!out.contains("Dockerfile:1:1: DF002"), "{out}");
    assert!(!out.contains("X001"), "{out}");
    // The other service keeps its finding.
    assert!(out.contains("compose.yaml:6:3: DC003"), "{out}");
    assert_eq!(out.matches("DC003").count(), 1, "{out}");
    // Outside the construct it is unused, and the message says where it would have to go.
    let dockerfile = "FROM alpine:3.20 AS build\n# dockharden: ignore=DF002\nRUN make\nFROM alpine:3.20\nCOPY --from=build /a /a\n";
    let dir = tree(&[("Dockerfile", dockerfile)]);
    let o = run(dir.path(), &["check", "--select", "DF002,X001"]);
    let out = stdout(&o);
    assert!(out.contains("Dockerfile:4:1: DF002"), "{out}");
    assert!(
        out.contains("X001") && out.contains("DF002 is reported at line 4"),
        "{out}"
    );
}

/// The GitHub Action: valid YAML; inputs reach scripts only through `env:` (never `${{ inputs.… }}`
/// inside `run:`); exit 2 is not hidden; every action pinned by a full commit SHA with its tag in a
/// comment. The README recommends no branch (`@main`, `rev: main`).
#[test]
fn the_action_passes_inputs_through_env_and_pins_actions() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let docs = dockharden_transforms::yaml::semantic(&text).expect("action.yml is YAML");
    let steps = docs[0]["runs"]["steps"].as_array().unwrap();
    assert!(steps.len() >= 3);
    for step in steps {
        if let Some(script) = step["run"].as_str() {
            assert!(
                !script.contains("${{"),
                "interpolated into a script: {script}"
            );
            assert!(!script.contains("|| true"), "exit status hidden: {script}");
        }
    }
    let mut pinned = 0;
    for line in text.lines().filter(|l| l.trim_start().starts_with("uses:")) {
        let (_, rest) = line.split_once('@').expect("uses with a ref");
        let (sha, comment) = rest.split_once(" # v").expect("tag in a comment");
        assert!(
            sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
            "{line}"
        );
        assert!(!comment.is_empty(), "{line}");
        pinned += 1;
    }
    assert!(pinned >= 1);
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for line in readme.lines() {
        let l = line.trim_start();
        assert!(!l.starts_with("rev: main"), "{line}");
        if l.starts_with("- uses:") || l.starts_with("uses:") {
            assert!(
                !l.contains("@main") && !l.contains("@v"),
                "pin by SHA: {line}"
            );
        }
    }
}

#[test]
fn explain_ends_with_a_line_break_for_every_rule() {
    let o = Command::new(BIN)
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    let rules: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for r in rules.as_array().unwrap() {
        let code = r["code"].as_str().unwrap();
        let o = Command::new(BIN).args(["explain", code]).output().unwrap();
        assert!(
            stdout(&o).ends_with('\n') && !stdout(&o).ends_with("\n\n\n"),
            "{code}"
        );
        assert!(!stdout(&o).contains("src/"), "{code} names a source file");
    }
}

#[test]
fn output_file_takes_the_report_and_json_findings_carry_their_edits() {
    let dir = tree(&[("Dockerfile", ADD_FILE)]);
    let o = run(
        dir.path(),
        &["check", "--format", "json", "--output-file", "report.json"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let f = &v["files"][0]["findings"][0];
    assert_eq!(f["code"], "DF001");
    let edit = &f["fix"]["edits"][0];
    assert_eq!(edit["replacement"], "COPY");
    assert_eq!(edit["range"]["start"]["line"], 2);
    let o = run(dir.path(), &["fix", "--diff", "-o", "fix.diff"]);
    assert_eq!(stdout(&o), "");
    assert!(std::fs::read_to_string(dir.path().join("fix.diff"))
        .unwrap()
        .contains("+COPY app /app"));
    let o = run(dir.path(), &["check", "-o", "/nonexistent-dir/x"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn add_suppressions_is_a_baseline_that_turns_the_gate_green() {
    let compose = "services:\n  web:\n    image: nginx:1.27\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n";
    let dir = tree(&[("Dockerfile", ADD_FILE), ("compose.yaml", compose)]);
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(dir.path(), &["check", "--add-suppressions"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("to 2 files"), "{}", stderr(&o));
    let after = std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap();
    assert!(
        after.contains("# dockharden: ignore=DF001\nADD app /app\n"),
        "{after}"
    );
    // The gate is green, with no unused suppression; a second run adds nothing.
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = run(dir.path(), &["check", "--add-suppressions"]);
    assert!(
        stderr(&o).contains("Added 0 suppression comments to 0 files"),
        "{}",
        stderr(&o)
    );
}

/// Scripts and pipelines are baselined too: a comment where the shell (or the YAML) reads one, and
/// the findings it cannot cover are named; the gate then fails only on those.
#[test]
fn add_suppressions_covers_scripts_and_pipelines() {
    let script = "#!/bin/sh\nset -e\ndocker run --privileged app:1.0\n";
    let workflow = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: |\n          docker run --privileged app:1.0\n";
    let dir = tree(&[
        ("deploy.sh", script),
        (".github/workflows/ci.yml", workflow),
    ]);
    let o = run(dir.path(), &["check", "--select", "DR001"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = run(
        dir.path(),
        &["check", "--select", "DR001", "--add-suppressions"],
    );
    let err = stderr(&o);
    assert!(err.contains("to 1 file"), "{err}");
    assert!(err.contains("ci.yml:8"), "the script line is named: {err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("deploy.sh")).unwrap(),
        "#!/bin/sh\nset -e\n# dockharden: ignore=DR001\ndocker run --privileged app:1.0\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".github/workflows/ci.yml")).unwrap(),
        workflow
    );
    // The script's finding is suppressed; the workflow's is still reported.
    let o = run(dir.path(), &["check", "--select", "DR001"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(!out.contains("deploy.sh"), "{out}");
    assert!(out.contains("ci.yml"), "{out}");
}

#[test]
fn version_names_the_commit() {
    let o = Command::new(BIN).arg("--version").output().unwrap();
    let v = stdout(&o);
    let head = Command::new("git")
        .args(["log", "-1", "--format=%h", "--abbrev=12"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        Some(h) => assert!(
            v.starts_with(&format!("dockharden {} ({h} ", env!("CARGO_PKG_VERSION"))),
            "{v} vs {h}"
        ),
        None => assert!(v.contains("not built from a git checkout"), "{v}"),
    }
}

/// `fix -i` in a pseudo-terminal: progress, the whole "why", `?` short help then the rule's docs on a
/// second `?`, what `a` applied without asking.
#[test]
fn interactive_shows_progress_short_help_and_what_a_applied() {
    use crate::interactive::{COMPOSE, DOCKERFILE, DRIVER};
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not found; pseudo-terminal test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::write(dir.path().join("compose.yaml"), COMPOSE).unwrap();
    // ADD a: `?` (short help), `?` (docs), `a` (all DF001); compose's socket: `n`.
    let o = Command::new("python3")
        .args(["-c", DRIVER, BIN, dir.path().to_str().unwrap(), "??an"])
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{screen}\n{}", stderr(&o));
    assert!(screen.contains("[file 1/2, fix 1]"), "{screen}");
    assert!(screen.contains("[file 2/2, fix 1]"), "{screen}");
    assert_eq!(screen.matches("y apply · n skip").count(), 1, "{screen}");
    assert_eq!(screen.matches("## What it does").count(), 1, "{screen}");
    assert!(
        screen.contains("2 more DF001 fixes applied in Dockerfile without asking"),
        "{screen}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        "FROM alpine:3.20\nCOPY a /a\nCOPY b /b\nCOPY c /c\nUSER 10001:10001\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        COMPOSE
    );
}

/// Every kind the README's table names for `--kind` is accepted by `--kind` and read as that kind
/// (the name `x` tells nothing): a privileged `docker run` in each is reported as DR001.
#[test]
fn kind_accepts_every_kind_the_readme_names() {
    use crate::cli::run_stdin;
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let table = readme
        .split_once("| kind (`--kind`) |")
        .expect("the README's table of kinds")
        .1;
    let kinds: Vec<&str> = table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with("| `"))
        .map(|l| l[3..].split('`').next().unwrap())
        .collect();
    assert!(kinds.len() >= 7, "{kinds:?}");
    let run_line = "docker run --privileged alpine:3.20";
    for kind in kinds {
        let input = match kind {
            "shell" => format!("{run_line}\n"),
            "makefile" => format!("deploy:\n\t{run_line}\n"),
            "github-actions" => format!(
                "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {run_line}\n"
            ),
            "gitlab-ci" => format!("job:\n  script:\n    - {run_line}\n"),
            "systemd" => format!("[Service]\nExecStart=/usr/bin/{run_line}\n"),
            "markdown" => format!("# Run\n\n```sh\n{run_line}\n```\n"),
            "daemon-json" => {
                let dir = tree(&[]);
                let o = run_stdin(
                    dir.path(),
                    &["check", "--kind", kind, "--stdin-filename", "x", "-q"],
                    br#"{"hosts": ["tcp://0.0.0.0:2375"]}"#,
                );
                assert_eq!(o.status.code(), Some(1), "{kind}: {}", stderr(&o));
                assert!(stdout(&o).contains("DD001"), "{kind}: {}", stdout(&o));
                continue;
            }
            other => panic!("a kind this test does not know: {other}"),
        };
        let dir = tree(&[]);
        let o = run_stdin(
            dir.path(),
            &["check", "--kind", kind, "--stdin-filename", "x", "-q"],
            input.as_bytes(),
        );
        assert_eq!(o.status.code(), Some(1), "{kind}: {}", stderr(&o));
        assert!(stdout(&o).contains("DR001"), "{kind}: {}", stdout(&o));
    }
}

/// The commands `dockharden --help` lists (not `help`), and the long flags `dockharden CMD --help`
/// lists: what completions and the manual page must cover, read from the parser itself.
fn commands_and_flags() -> Vec<(String, Vec<String>)> {
    let help = stdout(&Command::new(BIN).arg("--help").output().unwrap());
    let commands: Vec<String> = help
        .split_once("Commands:\n")
        .unwrap()
        .1
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 7, "{commands:?}");
    commands
        .into_iter()
        .map(|c| {
            let help = stdout(&Command::new(BIN).args([&c, "--help"]).output().unwrap());
            // The option lines (`  -o, --output-file <FILE>`), not flags named in descriptions.
            let mut flags: Vec<String> = help
                .lines()
                .map(str::trim_start)
                .filter(|l| l.starts_with('-'))
                .flat_map(|l| l.split_whitespace().take(2))
                .map(|w| w.trim_end_matches(','))
                .filter(|w| w.starts_with("--") && w.len() > 2)
                .map(str::to_owned)
                .collect();
            flags.sort();
            flags.dedup();
            (c, flags)
        })
        .collect()
}

/// `dockharden completions SHELL` for every shell: non-empty, naming every command and the flags
/// of `check` and `fix`; the bash script really completes (sourced in bash, asked as bash asks);
/// the zsh and fish scripts pass their shell's syntax check where that shell is installed.
#[test]
fn completions_cover_every_command_and_flag_and_bash_completes_with_them() {
    let all = commands_and_flags();
    let fix_flags = &all.iter().find(|(c, _)| c == "fix").unwrap().1;
    assert!(
        fix_flags.contains(&"--unsafe-fixes".to_owned()),
        "{fix_flags:?}"
    );
    let dir = tree(&[]);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(script.len() > 1000, "{shell}: {script}");
        for (command, flags) in &all {
            assert!(script.contains(command.as_str()), "{shell} lacks {command}");
            if command == "check" || command == "fix" {
                for f in flags {
                    // fish spells long options `-l name`.
                    let spelled = if shell == "fish" {
                        format!("-l {}", &f[2..])
                    } else {
                        f.clone()
                    };
                    assert!(script.contains(&spelled), "{shell} lacks {command} {f}");
                }
            }
        }
        let file = dir.path().join(format!("completion.{shell}"));
        std::fs::write(&file, &script).unwrap();
        let syntax: &[&str] = match shell {
            "bash" => &["bash", "-n"],
            "zsh" => &["zsh", "-n"],
            "fish" => &["fish", "--no-execute"],
            _ => continue,
        };
        match Command::new(syntax[0])
            .args(&syntax[1..])
            .arg(&file)
            .output()
        {
            Ok(o) => assert!(
                o.status.success(),
                "{shell} -n: {}{}",
                stdout(&o),
                stderr(&o)
            ),
            Err(_) => eprintln!("{shell} not installed: its syntax check is left to .ci/run"),
        }
    }
    // Complete as bash does: COMP_WORDS/COMP_CWORD set, the function called with the command,
    // the current word and the previous one.
    let driver = r#"source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=()
_dockharden dockharden "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}""#;
    let complete = |words: &[&str]| -> Vec<String> {
        let o = Command::new("bash")
            .args(["-c", driver, "driver"])
            .arg(dir.path().join("completion.bash"))
            .args(words)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o).lines().map(str::to_owned).collect()
    };
    let top = complete(&["dockharden", ""]);
    for (command, _) in &all {
        assert!(top.contains(command), "{command} not offered: {top:?}");
    }
    assert_eq!(complete(&["dockharden", "fi"]), ["fix"]);
    assert_eq!(
        complete(&["dockharden", "fix", "--unsafe"]),
        ["--unsafe-fixes"]
    );
    assert_eq!(
        complete(&["dockharden", "check", "--format", ""]),
        ["text", "json", "sarif", "github"]
    );
    let kinds = complete(&["dockharden", "check", "--kind", ""]);
    assert!(kinds.contains(&"github-actions".to_owned()), "{kinds:?}");
    // fish completes with its own `complete -C`.
    let script = dir.path().join("completion.fish");
    if let Ok(o) = Command::new("fish")
        .arg("-c")
        .arg(format!(
            "source '{}'; complete -C 'dockharden fix --unsa'",
            script.display()
        ))
        .output()
    {
        assert!(
            stdout(&o).starts_with("--unsafe-fixes\t"),
            "fish: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
}

/// `dockharden man`: a roff page (`.TH`) with a section for every command and every long flag of
/// every command; it renders with `man -l` (and `groff -ww` warns about nothing) where installed.
#[test]
fn the_manual_page_documents_every_command_and_flag_and_renders() {
    let o = Command::new(BIN).arg("man").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(page.contains("\n.TH dockharden 1 "), "{page}");
    let escaped = |s: &str| s.replace('-', "\\-");
    let all = commands_and_flags();
    for (command, flags) in &all {
        assert!(
            page.contains(&format!(".SS \"dockharden {}\"", command)),
            "no section for {command}"
        );
        let section = page
            .split_once(&format!(".SS \"dockharden {command}\""))
            .unwrap()
            .1;
        let section = section.split(".SS ").next().unwrap();
        for f in flags {
            assert!(
                section.contains(&format!("\\fB{}\\fR", escaped(f))),
                "{command} {f} missing from its section"
            );
        }
    }
    let dir = tree(&[]);
    let file = dir.path().join("dockharden.1");
    std::fs::write(&file, &page).unwrap();
    match Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&file)
        .output()
    {
        Ok(o) => assert!(
            o.status.success() && o.stderr.is_empty(),
            "groff: {}",
            stderr(&o)
        ),
        Err(_) => eprintln!("groff not installed: the page is checked as text only"),
    }
    let rendered = match Command::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANWIDTH", "120")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
    {
        Ok(o) => {
            assert!(o.status.success(), "man -l: {}", stderr(&o));
            stdout(&o)
        }
        Err(_) => {
            eprintln!("man not installed: rendering is left to .ci/run");
            return;
        }
    };
    for heading in ["NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "FILES"] {
        assert!(
            rendered.contains(&format!("\n{heading}\n")),
            "{heading}: {rendered}"
        );
    }
    for (command, flags) in &all {
        assert!(
            rendered.contains(&format!("dockharden {command}")),
            "{command}"
        );
        for f in flags {
            assert!(
                rendered.contains(f.as_str()),
                "rendered page lacks {command} {f}"
            );
        }
    }
}

/// The dirty-tree guard in `fix -i` (a pseudo-terminal): a file with uncommitted changes of the
/// user's is offered its Safe fixes only, and says so; `--allow-dirty` offers the Unsafe ones.
#[test]
fn interactive_offers_only_safe_fixes_in_a_dirty_file() {
    use crate::interactive::drive;
    let dir = tree(&[("Dockerfile", ADD_FILE), ("compose.yaml", SAFE_AND_UNSAFE)]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "init"]);
    let edited = format!("# my own edit\n{SAFE_AND_UNSAFE}");
    std::fs::write(dir.path().join("compose.yaml"), &edited).unwrap();
    let args = ["fix", "-i", "--isolated", "--select", "DC001,DF001"];
    // Dockerfile (clean): its Safe DF001 fix, accepted; compose.yaml (dirty): no question.
    let Some((code, screen, err)) = drive(dir.path(), &args, &[("[y,n,a,d,q,?]", "y")]) else {
        return;
    };
    assert_eq!(code, Some(0), "{screen}\n{err}");
    assert!(
        screen.contains("compose.yaml has uncommitted changes: only its Safe fixes are offered"),
        "{screen}"
    );
    assert_eq!(screen.matches("[y,n,a,d,q,?]").count(), 1, "{screen}");
    assert!(!screen.contains("DC001"), "{screen}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
        edited
    );
    // With --allow-dirty the socket mount is asked about, and removed.
    let mut allow = args.to_vec();
    allow.push("--allow-dirty");
    let Some((code, screen, err)) =
        drive(dir.path(), &allow, &[("DC001", ""), ("[y,n,a,d,q,?]", "y")])
    else {
        return;
    };
    assert_eq!(code, Some(0), "{screen}\n{err}");
    assert!(!std::fs::read_to_string(dir.path().join("compose.yaml"))
        .unwrap()
        .contains("docker.sock"));
}
