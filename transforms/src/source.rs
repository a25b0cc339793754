//! File kinds, parsing by kind and content-based kind detection.

use std::fmt;

use crate::text::TextRange;
use crate::{dockerfile, yaml};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    Dockerfile,
    Compose,
    Kubernetes,
}

impl FileKind {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Dockerfile => "dockerfile",
            Self::Compose => "compose",
            Self::Kubernetes => "kubernetes",
        }
    }

    /// Parse the `--kind` value.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "dockerfile" | "containerfile" | "docker" => Some(Self::Dockerfile),
            "compose" | "docker-compose" => Some(Self::Compose),
            "kubernetes" | "k8s" => Some(Self::Kubernetes),
            _ => None,
        }
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
}

/// Whether a YAML text carries template syntax (Helm / Go templates).
fn yaml_template_marker(text: &str) -> Option<usize> {
    text.find("{{").filter(|&i| text[i..].contains("}}"))
}

/// Parse `text` as `kind`. YAML is also loaded (its meaning, under the same limits as everywhere):
/// a file that parses here is one that `fix` can work on.
///
/// # Errors
/// A located syntax error; templates are errors with `template: true`.
pub fn parse(kind: FileKind, text: &str) -> Result<Parsed, SyntaxError> {
    parse_with(kind, text, None).map(|(p, _)| p)
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
        Parsed::Yaml(file) => parse_with(kind, text, Some(file)),
        Parsed::Dockerfile(_) => parse_with(kind, text, None),
    }
}

fn parse_with(
    kind: FileKind,
    text: &str,
    previous: Option<&yaml::YamlFile>,
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
    }
}

/// Kind from a file name alone (`Dockerfile`, `Dockerfile.*`, `*.Dockerfile`, `*.dockerfile`,
/// `Containerfile*`, `compose*.y?ml`, `docker-compose*.y?ml`). YAML files that match none of the
/// compose names return None here; see [`detect_yaml_kind`].
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
    None
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

/// Kind of a YAML file by content: Kubernetes when a document has top-level `apiVersion` and `kind`;
/// compose when the top level has `services:` and only compose top-level keys (or `x-` extensions).
/// A cheap line scan; it does not parse.
#[must_use]
pub fn detect_yaml_kind(text: &str) -> Option<FileKind> {
    let mut has_api = false;
    let mut has_kind = false;
    let mut has_services = false;
    let mut only_compose_keys = true;
    // (YAML line breaks are LF, CRLF or a CR alone.)
    for line in text.split(['\n', '\r']) {
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
        if first == ' ' || first == '\t' || first == '#' || first == '-' {
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
            k if COMPOSE_TOP_KEYS.contains(&k) || k.starts_with("x-") => {}
            _ => only_compose_keys = false,
        }
    }
    if has_api && has_kind {
        Some(FileKind::Kubernetes)
    } else if has_services && only_compose_keys {
        Some(FileKind::Compose)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
