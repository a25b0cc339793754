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
        // CI pipelines are YAML too: a comment inside a `run: |` script changes the value and is
        // refused (named), one between keys is kept.
        FileKind::Compose | FileKind::Kubernetes | FileKind::GithubActions | FileKind::GitlabCi => {
            crate::yaml::semantic(text)
                .ok()
                .and_then(|v| serde_json::to_string(&v).ok())
        }
        FileKind::Shell => shell_meaning(text),
        // Makefiles (a comment line in a recipe is echoed and passed to the shell), units and
        // daemon.json (no comments): no comparison of meaning is built for comment insertion, so
        // no comment is added (the findings are listed as not suppressible).
        FileKind::Makefile | FileKind::Systemd | FileKind::DaemonJson | FileKind::Markdown => None,
    }
}

/// What a shell script means, for comment insertion: its tokens as the shell splits them (words as
/// written, operators) and its here-document bodies. A line break counts only where it ends a
/// command (after a word), once, so a comment line between two commands or after `&&` leaves the
/// meaning as it was, while one inside a `\`-continued command, a quoted string or a
/// here-document changes it. None when the script does not lex to the end.
fn shell_meaning(text: &str) -> Option<String> {
    use crate::dockerfile::shell_lex::{lex, TokenKind};
    let lexed = lex(text);
    if !lexed.complete || lexed.open_heredocs > 0 {
        return None;
    }
    let mut m = String::with_capacity(text.len());
    let mut last = None;
    for t in &lexed.tokens {
        match t.kind {
            TokenKind::Newline => {
                if last == Some(TokenKind::Word) {
                    m.push('\n');
                    last = Some(TokenKind::Newline);
                }
            }
            kind => {
                m.push_str(&text[t.start..t.end]);
                m.push('\u{1}');
                last = Some(kind);
            }
        }
    }
    for (start, end) in &lexed.heredoc_bodies {
        m.push('\u{2}');
        m.push_str(&text[*start..*end]);
    }
    Some(m)
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
    fn shell_scripts_get_comments_where_the_shell_reads_them_as_comments() {
        let text = "#!/bin/sh\nset -e\ndocker run --privileged app\nif true; then\n  docker run -d \\\n    -v /var/run/docker.sock:/s app\nfi\ncat <<EOF\ndocker run x\nEOF\n[ -n \"$X\" ] &&\n  docker run y\n";
        let out = add_suppressions(
            FileKind::Shell,
            text,
            &[
                (3, "DR001"),
                (5, "DR004"),
                // Inside a `\`-continued command: a comment line would end the command.
                (6, "DR002"),
                // Inside a here-document body: content, not a comment.
                (9, "DR004"),
                // After `&&` and a line break: the shell reads a comment there.
                (12, "DR004"),
            ],
        );
        assert_eq!(out.refused, [6, 9]);
        assert_eq!(
            out.text,
            "#!/bin/sh\nset -e\n# dockharden: ignore=DR001\ndocker run --privileged app\nif true; then\n  # dockharden: ignore=DR004\n  docker run -d \\\n    -v /var/run/docker.sock:/s app\nfi\ncat <<EOF\ndocker run x\nEOF\n[ -n \"$X\" ] &&\n  # dockharden: ignore=DR004\n  docker run y\n"
        );
        // A script that does not lex to the end gets nothing.
        let open = "docker run 'x\n";
        let out = add_suppressions(FileKind::Shell, open, &[(1, "DR004")]);
        assert_eq!(
            (out.text.as_str(), out.refused.as_slice()),
            (open, &[1][..])
        );
    }

    #[test]
    fn pipelines_get_comments_outside_their_scripts() {
        let text = "jobs:\n  build:\n    steps:\n      - uses: docker/build-push-action@v6\n      - run: |\n          docker run --privileged x\n";
        let out = add_suppressions(FileKind::GithubActions, text, &[(4, "DR015"), (6, "DR001")]);
        assert_eq!(out.refused, [6]);
        assert_eq!(
            out.text,
            "jobs:\n  build:\n    steps:\n      # dockharden: ignore=DR015\n      - uses: docker/build-push-action@v6\n      - run: |\n          docker run --privileged x\n"
        );
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
