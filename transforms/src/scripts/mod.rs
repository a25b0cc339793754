//! Where `docker run` is written outside Dockerfiles and compose files: shell scripts, Makefile
//! recipes, GitHub Actions and GitLab CI pipelines, systemd units, Markdown code blocks; and the
//! Docker daemon's own configuration (`daemon.json`).
//!
//! Every host is read into [`Fragment`]s of shell text that know where each of their bytes is in
//! the file, so that one command model ([`docker::DockerRun`]) and one set of rules (`DR…`) serve
//! all of them, with edits on the original bytes. The daemon rules are `DD…`, the pipeline rules
//! `CI…`.

pub mod ci;
pub mod docker;
pub mod fragment;
pub mod json;
pub mod makefile;
pub mod markdown;
pub mod rules;
pub mod systemd;
pub mod verify;

use crate::registry::{Context, Transform};
use crate::source::{FileKind, Parsed, SyntaxError};
use crate::text::TextRange;
use crate::yaml::YamlFile;

pub use fragment::Fragment;

/// A parsed file of one of the script kinds.
pub struct ScriptFile {
    pub kind: FileKind,
    /// The shell text the file holds.
    pub fragments: Vec<Fragment>,
    /// What must not change outside the fragments (non-YAML kinds; see [`verify`]).
    pub skeleton: Vec<String>,
    /// GitHub Actions and GitLab CI: the YAML.
    pub yaml: Option<YamlFile>,
    /// `daemon.json`: the JSON.
    pub json: Option<json::Value>,
}

/// The script file of a context, if it is one.
#[must_use]
pub fn script<'a>(ctx: &Context<'a>) -> Option<&'a ScriptFile> {
    match ctx.parsed {
        Parsed::Script(s) => Some(s),
        _ => None,
    }
}

pub(crate) fn template_marker(text: &str) -> Option<usize> {
    crate::text::marker_pair(text, b"{{", b"}}")
        .or_else(|| crate::text::marker_pair(text, b"{%", b"%}"))
}

fn template_error(at: usize, what: &str) -> SyntaxError {
    SyntaxError {
        message: format!(
            "file contains template syntax (`{{{{ }}}}` or `{{% %}}`); templates are reported, not edited ({what})"
        ),
        range: TextRange::new(at, at + 2),
        template: true,
    }
}

/// Parse a file of a script kind.
///
/// # Errors
/// YAML or JSON that does not load (a located error), or a systemd unit / `daemon.json` that is a
/// template.
pub fn parse(kind: FileKind, text: &str) -> Result<ScriptFile, SyntaxError> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut file = ScriptFile {
        kind,
        fragments: Vec::new(),
        skeleton: Vec::new(),
        yaml: None,
        json: None,
    };
    match kind {
        FileKind::Shell => {
            let mut f =
                Fragment::identity(text, TextRange::new(bom, text.len()), fragment::Dialect::Sh);
            f.vars = fragment::shell_assignments(&f.src);
            file.fragments.push(f);
        }
        FileKind::Makefile => {
            let m = makefile::parse(text);
            file.fragments = m.fragments;
            file.skeleton = m.skeleton;
        }
        FileKind::Systemd => {
            if let Some(at) = template_marker(text) {
                return Err(template_error(at, "a systemd unit template"));
            }
            let u = systemd::parse(text);
            file.fragments = u.fragments;
            file.skeleton = u.skeleton;
        }
        FileKind::Markdown => {
            file.fragments = markdown::parse(text);
        }
        FileKind::GithubActions | FileKind::GitlabCi => {
            let y = crate::yaml::parse(text).map_err(|e| {
                let template = template_marker(text).is_some();
                SyntaxError {
                    message: e.message,
                    range: e.range,
                    template,
                }
            })?;
            file.fragments = if kind == FileKind::GithubActions {
                ci::github_fragments(text, &y)
            } else {
                ci::gitlab_fragments(text, &y)
            };
            file.yaml = Some(y);
        }
        FileKind::DaemonJson => match json::parse(text) {
            Ok(v) => file.json = Some(v),
            Err(e) => {
                if let Some(at) = template_marker(text) {
                    return Err(template_error(at, "a `daemon.json` template"));
                }
                return Err(SyntaxError {
                    message: e.message,
                    range: TextRange::new(e.at, e.at),
                    template: false,
                });
            }
        },
        FileKind::Dockerfile | FileKind::Compose | FileKind::Kubernetes => {
            unreachable!("not a script kind")
        }
    }
    Ok(file)
}

/// The semantic value a fix is verified on: the YAML documents (as `text` was loaded into
/// `file`), or the JSON value of `daemon.json`; nothing for the other kinds.
///
/// # Errors
/// `daemon.json` text that is not JSON.
pub fn values(
    file: &ScriptFile,
    text: &str,
) -> Result<Vec<std::sync::Arc<serde_json::Value>>, SyntaxError> {
    if let Some(y) = &file.yaml {
        return Ok(y.values()?.to_vec());
    }
    if file.kind != FileKind::DaemonJson {
        return Ok(Vec::new());
    }
    let t = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(t)
        .map(|v| vec![std::sync::Arc::new(v)])
        .map_err(|e| SyntaxError {
            message: format!("invalid JSON: {e}"),
            range: TextRange::empty(0),
            template: false,
        })
}

/// The transforms of the script kinds.
#[must_use]
pub fn transforms() -> Vec<&'static dyn Transform> {
    rules::transforms()
}
