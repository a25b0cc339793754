//! `check --add-suppressions` (ruff's `--add-noqa`): a suppression comment above every line with
//! findings, so that a repository can turn the gate on today and burn the findings down.
//!
//! Each comment is `# dockharden: ignore=CODE[,CODE…]` on its own line, indented like the line it
//! covers, with the file's line ending. The result must mean what the file meant (a Dockerfile's
//! instructions as BuildKit reads them, a YAML file's value): a line where a comment would change
//! that (inside a heredoc body or a block scalar) gets none and is reported.

use crate::source::FileKind;

/// The outcome for one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Added {
    /// The new text.
    pub text: String,
    /// Comments added.
    pub comments: usize,
    /// 1-based lines whose findings could not be suppressed by a comment.
    pub refused: Vec<usize>,
}

/// What a text means, for the comparison: BuildKit's dump of a Dockerfile, the value of YAML.
fn meaning(kind: FileKind, text: &str) -> Option<String> {
    match kind {
        // BuildKit's dump leaves heredoc bodies out: they are compared too (a comment line in a
        // body is content, not a comment).
        FileKind::Dockerfile => crate::dockerfile::syntax::parse(text).ok().map(|d| {
            let mut m = d.buildkit_dump();
            for i in &d.instructions {
                for h in i.heredocs.iter().chain(
                    i.onbuild
                        .as_deref()
                        .map(|o| o.heredocs.as_slice())
                        .unwrap_or_default(),
                ) {
                    m.push('\n');
                    m.push_str(&text[h.body_range.start..h.body_range.end]);
                }
            }
            m
        }),
        FileKind::Compose | FileKind::Kubernetes => crate::yaml::semantic(text)
            .ok()
            .and_then(|v| serde_json::to_string(&v).ok()),
        // Scripts, pipelines, units and daemon.json: no comparison of meaning is built for comment
        // insertion yet, so no comment is added (the findings are listed as not suppressible).
        FileKind::Shell
        | FileKind::Makefile
        | FileKind::GithubActions
        | FileKind::GitlabCi
        | FileKind::Systemd
        | FileKind::DaemonJson
        | FileKind::Markdown => None,
    }
}

/// Byte offsets of the starts of lines (LF-terminated; a CR before the LF stays with its line).
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i <= text.len())
        .collect()
}

/// The text with `comment` lines inserted above the given 0-based lines.
fn insert(text: &str, starts: &[usize], lines: &[(usize, String)]) -> String {
    let mut out = String::with_capacity(text.len() + lines.len() * 40);
    let mut at = 0;
    for (line, comment) in lines {
        let start = starts[*line];
        out.push_str(&text[at..start]);
        let rest = &text[start..];
        let indent: String = rest
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        let crlf = rest.split('\n').next().is_some_and(|l| l.ends_with('\r'));
        out.push_str(&indent);
        out.push_str(comment);
        out.push_str(if crlf { "\r\n" } else { "\n" });
        at = start;
    }
    out.push_str(&text[at..]);
    out
}

/// Add a suppression above each line that has findings: `findings` are `(1-based line, code)`.
#[must_use]
pub fn add_suppressions(kind: FileKind, text: &str, findings: &[(usize, &str)]) -> Added {
    let starts = line_starts(text);
    let mut per_line: std::collections::BTreeMap<usize, Vec<&str>> =
        std::collections::BTreeMap::new();
    for &(line, code) in findings {
        if code == crate::suppression::UNUSED_CODE || line == 0 || line > starts.len() {
            continue;
        }
        let codes = per_line.entry(line - 1).or_default();
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    let comments: Vec<(usize, String)> = per_line
        .into_iter()
        .map(|(line, mut codes)| {
            codes.sort_unstable();
            (line, format!("# dockharden: ignore={}", codes.join(",")))
        })
        .collect();
    let Some(before) = meaning(kind, text) else {
        return Added {
            text: text.to_owned(),
            comments: 0,
            refused: comments.iter().map(|(l, _)| l + 1).collect(),
        };
    };
    let same = |candidate: &str| meaning(kind, candidate).as_ref() == Some(&before);
    let all = insert(text, &starts, &comments);
    if same(&all) {
        return Added {
            text: all,
            comments: comments.len(),
            refused: Vec::new(),
        };
    }
    // Some line would change the meaning: keep the comments that do not, one at a time.
    let mut kept: Vec<(usize, String)> = Vec::new();
    let mut refused = Vec::new();
    for c in comments {
        let mut trial = kept.clone();
        trial.push(c.clone());
        if same(&insert(text, &starts, &trial)) {
            kept = trial;
        } else {
            refused.push(c.0 + 1);
        }
    }
    Added {
        text: insert(text, &starts, &kept),
        comments: kept.len(),
        refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_go_above_each_line_indented_and_with_its_line_ending() {
        let text = "services:\r\n  web:\r\n    image: nginx\r\n    privileged: true\r\n";
        let out = add_suppressions(
            FileKind::Compose,
            text,
            &[(2, "DC003"), (2, "DC002"), (4, "DC004"), (2, "DC003")],
        );
        assert_eq!(
            out.text,
            "services:\r\n  # dockharden: ignore=DC002,DC003\r\n  web:\r\n    image: nginx\r\n    # dockharden: ignore=DC004\r\n    privileged: true\r\n"
        );
        assert_eq!((out.comments, out.refused.len()), (2, 0));
    }

    #[test]
    fn a_line_inside_a_heredoc_or_block_scalar_is_refused() {
        let text = "FROM alpine:3.20\nRUN <<EOF\ncurl x | sh\nEOF\nADD a /a\n";
        let out = add_suppressions(FileKind::Dockerfile, text, &[(3, "DF006"), (5, "DF001")]);
        assert_eq!(out.refused, [3]);
        assert_eq!(
            out.text,
            "FROM alpine:3.20\nRUN <<EOF\ncurl x | sh\nEOF\n# dockharden: ignore=DF001\nADD a /a\n"
        );
        let yaml = "services:\n  web:\n    command: |\n      run\n      more\n";
        let out = add_suppressions(FileKind::Compose, yaml, &[(5, "DC011")]);
        assert_eq!(
            (out.text.as_str(), out.refused.as_slice()),
            (yaml, &[5][..])
        );
    }
}
