//! File kinds, parsing by kind and content-based kind detection.

use std::fmt;

use crate::text::TextRange;
use crate::{dockerfile, scripts, yaml};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    Dockerfile,
    Compose,
    Kubernetes,
    /// A shell script (`*.sh`, `*.bash`, or an `sh`/`bash` shebang).
    Shell,
    /// A Makefile (`Makefile`, `GNUmakefile`, `*.mk`): its recipes are shell commands.
    Makefile,
    /// A GitHub Actions workflow (`.github/workflows/*.yml`).
    GithubActions,
    /// A GitLab CI configuration (`.gitlab-ci.yml`, `*.gitlab-ci.yml`, `.gitlab/**.yml`).
    GitlabCi,
    /// A systemd unit or drop-in (`*.service`, `*.service.d/*.conf`).
    Systemd,
    /// Docker daemon configuration (`daemon.json`).
    DaemonJson,
    /// Markdown (`*.md`): its `sh`/`bash`/`console` code blocks are read, never edited.
    Markdown,
}

impl FileKind {
    /// Every kind, in order.
    pub const ALL: &'static [FileKind] = &[
        Self::Dockerfile,
        Self::Compose,
        Self::Kubernetes,
        Self::Shell,
        Self::Makefile,
        Self::GithubActions,
        Self::GitlabCi,
        Self::Systemd,
        Self::DaemonJson,
        Self::Markdown,
    ];

    /// The kinds whose shell commands are read for `docker run` (the DR rules).
    pub const SCRIPT_HOSTS: &'static [FileKind] = &[
        Self::Shell,
        Self::Makefile,
        Self::GithubActions,
        Self::GitlabCi,
        Self::Systemd,
        Self::Markdown,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Dockerfile => "dockerfile",
            Self::Compose => "compose",
            Self::Kubernetes => "kubernetes",
            Self::Shell => "shell",
            Self::Makefile => "makefile",
            Self::GithubActions => "github-actions",
            Self::GitlabCi => "gitlab-ci",
            Self::Systemd => "systemd",
            Self::DaemonJson => "daemon-json",
            Self::Markdown => "markdown",
        }
    }

    /// Parse the `--kind` value.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "dockerfile" | "containerfile" | "docker" => Some(Self::Dockerfile),
            "compose" | "docker-compose" => Some(Self::Compose),
            "kubernetes" | "k8s" => Some(Self::Kubernetes),
            "shell" | "sh" | "bash" | "script" => Some(Self::Shell),
            "makefile" | "make" => Some(Self::Makefile),
            "github-actions" | "github" | "github-workflow" | "workflow" => {
                Some(Self::GithubActions)
            }
            "gitlab-ci" | "gitlab" => Some(Self::GitlabCi),
            "systemd" | "unit" => Some(Self::Systemd),
            "daemon-json" | "daemon.json" | "daemon" => Some(Self::DaemonJson),
            "markdown" | "md" => Some(Self::Markdown),
            _ => None,
        }
    }

    /// Whether the file is YAML (its fixes are verified on the YAML value).
    #[must_use]
    pub const fn is_yaml(self) -> bool {
        matches!(
            self,
            Self::Compose | Self::Kubernetes | Self::GithubActions | Self::GitlabCi
        )
    }

    /// Whether fixes are verified on a semantic (JSON) value: YAML kinds and `daemon.json`.
    #[must_use]
    pub const fn has_semantic_value(self) -> bool {
        self.is_yaml() || matches!(self, Self::DaemonJson)
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A syntax error, located by a byte range of the text that was parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub range: TextRange,
    /// The file looks like a template (`{{ }}`, `%s`): it is reported, not edited.
    pub template: bool,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// A parsed file.
pub enum Parsed {
    Dockerfile(dockerfile::syntax::Dockerfile),
    Yaml(yaml::YamlFile),
    /// Shell scripts, Makefiles, CI pipelines, systemd units, `daemon.json`, Markdown.
    Script(Box<scripts::ScriptFile>),
}

/// Whether a YAML text carries template syntax (Helm / Go templates): where its first `{{` is,
/// when a `}}` follows. (A byte search: `str::find` with a two-byte pattern was 1% of fixing the
/// corpus's Kubernetes manifests; the offsets are the same, both markers being ASCII.)
fn yaml_template_marker(text: &str) -> Option<usize> {
    crate::text::marker_pair(text, b"{{", b"}}")
}

impl From<yaml::YamlError> for SyntaxError {
    fn from(e: yaml::YamlError) -> Self {
        Self {
            message: e.message,
            range: e.range,
            template: false,
        }
    }
}

/// Parse `text` as `kind`. YAML is also loaded (its meaning, under the same limits as everywhere):
/// a file that parses here is one that `fix` can work on.
///
/// # Errors
/// A located syntax error; templates are errors with `template: true`.
pub fn parse(kind: FileKind, text: &str) -> Result<Parsed, SyntaxError> {
    parse_with(kind, text, None, false).map(|(p, _)| p)
}

/// [`parse`], with YAML values loaded now (see [`yaml::parse_loaded`]).
///
/// # Errors
/// As [`parse`].
pub fn parse_loaded(kind: FileKind, text: &str) -> Result<Parsed, SyntaxError> {
    parse_with(kind, text, None, true).map(|(p, _)| p)
}

/// [`parse`] a new version of a text parsed before as `previous` (the fix loop after applying
/// edits). YAML documents whose text did not change keep their meaning without being loaded again.
/// Returns the parsed file and, for YAML, the indexes of the documents that were loaded.
///
/// # Errors
/// As [`parse`].
pub fn reparse(
    kind: FileKind,
    text: &str,
    previous: &Parsed,
) -> Result<(Parsed, Option<Vec<usize>>), SyntaxError> {
    match previous {
        Parsed::Yaml(file) => parse_with(kind, text, Some(file), false),
        Parsed::Dockerfile(_) | Parsed::Script(_) => parse_with(kind, text, None, false),
    }
}

fn parse_with(
    kind: FileKind,
    text: &str,
    previous: Option<&yaml::YamlFile>,
    load: bool,
) -> Result<(Parsed, Option<Vec<usize>>), SyntaxError> {
    match kind {
        FileKind::Dockerfile => dockerfile::syntax::parse(text)
            .map(|d| (Parsed::Dockerfile(d), None))
            .map_err(|e| {
                let template = e.is_template();
                SyntaxError {
                    message: e.message,
                    range: e.range,
                    template,
                }
            }),
        FileKind::Compose | FileKind::Kubernetes => {
            if kind == FileKind::Kubernetes {
                if let Some(at) = yaml_template_marker(text) {
                    return Err(SyntaxError {
                        message: "file contains template syntax (`{{ }}`); templates are reported, not edited".into(),
                        range: TextRange::new(at, at + 2),
                        template: true,
                    });
                }
            }
            let parsed = match previous {
                Some(p) => yaml::reparse(text, p).map(|(f, loaded)| (f, Some(loaded))),
                None if load => yaml::parse_loaded(text).map(|f| (f, None)),
                None => yaml::parse(text).map(|f| (f, None)),
            };
            match parsed {
                Ok((file, loaded)) => Ok((Parsed::Yaml(file), loaded)),
                Err(e) => {
                    let template = yaml_template_marker(text).is_some();
                    Err(SyntaxError {
                        message: if template {
                            format!(
                                "{} (the file contains template syntax `{{{{ }}}}`)",
                                e.message
                            )
                        } else {
                            e.message
                        },
                        range: e.range,
                        template,
                    })
                }
            }
        }
        FileKind::Shell
        | FileKind::Makefile
        | FileKind::GithubActions
        | FileKind::GitlabCi
        | FileKind::Systemd
        | FileKind::DaemonJson
        | FileKind::Markdown => {
            scripts::parse(kind, text).map(|f| (Parsed::Script(Box::new(f)), None))
        }
    }
}

/// Kind from a file name alone (`Dockerfile`, `Dockerfile.*`, `*.Dockerfile`, `*.dockerfile`,
/// `Containerfile*`, `compose*.y?ml`, `docker-compose*.y?ml`, `*.sh`, `*.bash`, `Makefile`,
/// `GNUmakefile`, `*.mk`, `.gitlab-ci.yml`, `*.gitlab-ci.yml`, `*.service`, `daemon.json`,
/// `*-daemon.json`, `*.md`). Other YAML files return None here; see [`kind_from_path`] (GitHub
/// workflows, `.gitlab/` includes, systemd drop-ins) and [`detect_kind`] (content).
#[must_use]
pub fn kind_from_name(file_name: &str) -> Option<FileKind> {
    let lower = file_name.to_ascii_lowercase();
    if lower == "dockerfile"
        || lower.starts_with("dockerfile.")
        || lower.ends_with(".dockerfile")
        || lower.starts_with("containerfile")
    {
        return Some(FileKind::Dockerfile);
    }
    if is_yaml_name(&lower) && (lower.starts_with("compose") || lower.starts_with("docker-compose"))
    {
        return Some(FileKind::Compose);
    }
    if is_yaml_name(&lower)
        && (lower.starts_with(".gitlab-ci.") || lower.ends_with(".gitlab-ci.yml"))
        || lower.ends_with(".gitlab-ci.yaml")
    {
        return Some(FileKind::GitlabCi);
    }
    if lower == "makefile"
        || lower == "gnumakefile"
        || lower.starts_with("makefile.")
        || lower.ends_with(".mk")
        || lower.ends_with(".make")
    {
        return Some(FileKind::Makefile);
    }
    if lower.ends_with(".sh") || lower.ends_with(".bash") {
        return Some(FileKind::Shell);
    }
    if lower.ends_with(".service") {
        return Some(FileKind::Systemd);
    }
    if lower == "daemon.json" || lower.ends_with("-daemon.json") || lower.ends_with(".daemon.json")
    {
        return Some(FileKind::DaemonJson);
    }
    if lower.ends_with(".md") || lower.ends_with(".markdown") {
        return Some(FileKind::Markdown);
    }
    None
}

/// Kind from a path: the name (see [`kind_from_name`]), or the folders it is in: a YAML file in
/// `.github/workflows/` is a GitHub Actions workflow, one under `.gitlab/` a GitLab CI include, a
/// `*.conf` in a `*.service.d/` folder a systemd drop-in.
#[must_use]
pub fn kind_from_path(path: &str) -> Option<FileKind> {
    let norm = path.replace('\\', "/");
    let mut parts: Vec<&str> = norm
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let name = parts.pop()?;
    let lower = name.to_ascii_lowercase();
    let parent = parts.last().map(|p| p.to_ascii_lowercase());
    if is_yaml_name(&lower) {
        let n = parts.len();
        if n >= 2 && parts[n - 2] == ".github" && parts[n - 1] == "workflows" {
            return Some(FileKind::GithubActions);
        }
        if parts.contains(&".gitlab") {
            return Some(FileKind::GitlabCi);
        }
    }
    if lower.ends_with(".conf") && parent.as_deref().is_some_and(|p| p.ends_with(".service.d")) {
        return Some(FileKind::Systemd);
    }
    kind_from_name(name)
}

/// Whether the first line of a file is a shebang for a POSIX shell (`#!/bin/sh`, `#!/bin/bash -e`,
/// `#!/usr/bin/env bash`).
#[must_use]
pub fn is_shell_shebang(first_line: &str) -> bool {
    let Some(rest) = first_line.trim_end_matches('\r').strip_prefix("#!") else {
        return false;
    };
    let mut parts = rest.split_whitespace();
    let mut interp = parts.next().unwrap_or("");
    if interp.rsplit('/').next() == Some("env") {
        interp = parts.find(|p| !p.starts_with('-')).unwrap_or("");
    }
    matches!(
        interp.rsplit('/').next().unwrap_or(""),
        "sh" | "bash" | "dash" | "ash" | "ksh"
    )
}

/// Kind by content, for a file whose name did not tell: a shell shebang, else the YAML kinds
/// ([`detect_yaml_kind`]).
#[must_use]
pub fn detect_kind(text: &str) -> Option<FileKind> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if is_shell_shebang(text.lines().next().unwrap_or("")) {
        return Some(FileKind::Shell);
    }
    detect_yaml_kind(text)
}

/// Whether a file name ends in `.yml` or `.yaml`.
#[must_use]
pub fn is_yaml_name(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    lower.ends_with(".yml") || lower.ends_with(".yaml")
}

/// Top-level keys of a compose file (compose-spec).
const COMPOSE_TOP_KEYS: &[&str] = &[
    "services", "volumes", "networks", "secrets", "configs", "version", "name", "include", "models",
];

/// `text` split at each LF and each CR (YAML line breaks are LF, CRLF or a CR alone), as
/// `text.split(['\n', '\r'])` splits it, with a byte search rather than a search per character.
fn break_split(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr2_iter(b'\n', b'\r', text.as_bytes())
        .chain([text.len()])
        .map(move |end| {
            let line = &text[start..end];
            start = end + 1;
            line
        })
}

/// Kind of a YAML file by content: Kubernetes when a document has top-level `apiVersion` and `kind`;
/// compose when the top level has `services:` and only compose top-level keys (or `x-` extensions).
/// A cheap line scan; it does not parse.
#[must_use]
pub fn detect_yaml_kind(text: &str) -> Option<FileKind> {
    let mut has_api = false;
    let mut has_kind = false;
    let mut has_services = false;
    let mut only_compose_keys = true;
    let (mut has_on, mut has_jobs, mut has_script) = (false, false, false);
    for line in break_split(text) {
        if line.starts_with("---") {
            if has_api && has_kind {
                return Some(FileKind::Kubernetes);
            }
            has_api = false;
            has_kind = false;
            continue;
        }
        let Some(first) = line.chars().next() else {
            continue;
        };
        if first == ' ' || first == '\t' {
            let t = line.trim_start();
            let indent = line.len() - t.len();
            if indent == 2
                && ["script:", "before_script:", "after_script:"]
                    .iter()
                    .any(|k| t.starts_with(k))
            {
                has_script = true;
            }
            continue;
        }
        if first == '#' || first == '-' {
            continue;
        }
        let Some(colon) = line.find(':') else {
            continue;
        };
        let key = line[..colon].trim().trim_matches(|c| c == '"' || c == '\'');
        match key {
            "apiVersion" => has_api = true,
            "kind" => has_kind = true,
            "services" => has_services = true,
            "on" | "true" => {
                has_on = true;
                only_compose_keys = false;
            }
            "jobs" => {
                has_jobs = true;
                only_compose_keys = false;
            }
            k if COMPOSE_TOP_KEYS.contains(&k) || k.starts_with("x-") => {}
            _ => only_compose_keys = false,
        }
    }
    if has_api && has_kind {
        Some(FileKind::Kubernetes)
    } else if has_services && only_compose_keys {
        Some(FileKind::Compose)
    } else if has_on && has_jobs {
        Some(FileKind::GithubActions)
    } else if has_script && !has_jobs {
        Some(FileKind::GitlabCi)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte search finds what `str::find` / `str::contains` found, over every string of up to
    /// 6 characters from an alphabet of braces, `%`, a letter and a multibyte character.
    #[test]
    fn template_markers_are_found_as_by_the_str_search() {
        fn by_str(text: &str) -> Option<usize> {
            text.find("{{").filter(|&i| text[i..].contains("}}"))
        }
        fn by_str_script(text: &str) -> Option<usize> {
            by_str(text).or_else(|| text.find("{%").filter(|&i| text[i..].contains("%}")))
        }
        let alphabet = ['{', '}', '%', 'a', '\u{e9}'];
        let mut texts = vec![String::new()];
        let mut all = Vec::new();
        for _ in 0..6 {
            texts = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            all.extend(texts.iter().cloned());
        }
        let mut found = 0;
        for t in &all {
            assert_eq!(yaml_template_marker(t), by_str(t), "{t:?}");
            assert_eq!(scripts::template_marker(t), by_str_script(t), "{t:?}");
            found += usize::from(yaml_template_marker(t).is_some());
        }
        assert!(found > 100, "{found}");
    }

    #[test]
    fn names() {
        for n in [
            "Dockerfile",
            "Dockerfile.prod",
            "app.Dockerfile",
            "x.dockerfile",
            "Containerfile",
        ] {
            assert_eq!(kind_from_name(n), Some(FileKind::Dockerfile), "{n}");
        }
        for n in [
            "compose.yaml",
            "docker-compose.yml",
            "docker-compose.prod.yml",
            "compose.override.yaml",
        ] {
            assert_eq!(kind_from_name(n), Some(FileKind::Compose), "{n}");
        }
        for n in ["deploy.yaml", "Dockerfile.md.txt.yaml", "README.md"] {
            let _ = kind_from_name(n);
        }
        assert_eq!(kind_from_name("values.yaml"), None);
    }

    #[test]
    fn break_split_is_split_at_lf_and_cr() {
        for text in [
            "",
            "\n",
            "\r",
            "\r\n",
            "a",
            "a\n",
            "a\r\nb\rc\n\nd",
            "\u{e9}\r\u{e9}\n",
            "x\r\r\n",
        ] {
            assert_eq!(
                break_split(text).collect::<Vec<_>>(),
                text.split(['\n', '\r']).collect::<Vec<_>>(),
                "{text:?}"
            );
        }
        for path in
            crate::testing::corpus_files(|p| crate::source::is_yaml_name(&p.to_string_lossy()))
        {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            assert!(
                break_split(&text).eq(text.split(['\n', '\r'])),
                "{}",
                path.display()
            );
        }
    }

    #[test]
    fn content() {
        assert_eq!(
            detect_yaml_kind("apiVersion: v1\nkind: Pod\n"),
            Some(FileKind::Kubernetes)
        );
        assert_eq!(
            detect_yaml_kind("x-common: &c\n  a: 1\nservices:\n  web:\n    image: nginx\n"),
            Some(FileKind::Compose)
        );
        assert_eq!(detect_yaml_kind("services:\n  - a\nfoo: 1\n"), None);
        assert_eq!(detect_yaml_kind("a: 1\n"), None);
    }
}
