//! Markdown: fenced code blocks marked `sh`, `bash`, `shell`, `zsh` (the block is a script) or
//! `console`, `shell-session`, `sh-session`, `terminal` (the lines after a `$ ` prompt, with their
//! continuation lines, are commands; the rest is output). People copy commands from READMEs, so
//! they are reported; they are never edited.

use crate::text::TextRange;

use super::fragment::{Dialect, Fragment};

const SCRIPT_LANGS: &[&str] = &["sh", "bash", "shell", "zsh", "ksh"];
const SESSION_LANGS: &[&str] = &[
    "console",
    "shell-session",
    "sh-session",
    "shellsession",
    "terminal",
    "bash-session",
];

/// The shell text of a Markdown file's code blocks.
#[must_use]
pub fn parse(text: &str) -> Vec<Fragment> {
    let mut out = Vec::new();
    // (fence char, fence length, language, body start)
    let mut open: Option<(char, usize, String, usize)> = None;
    let mut pos = 0;
    let n = text.len();
    while pos < n {
        let line_end = text[pos..].find('\n').map_or(n, |p| pos + p);
        let next = (line_end + 1).min(n);
        let line = text[pos..line_end].trim_end_matches('\r');
        let trimmed = line.trim_start();
        let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let fence_len =
            fence_char.map_or(0, |c| trimmed.len() - trimmed.trim_start_matches(c).len());
        match &open {
            None => {
                if let Some(c) = fence_char.filter(|_| fence_len >= 3) {
                    let info = trimmed[fence_len..].trim();
                    let lang = info
                        .split(|ch: char| ch.is_whitespace() || ch == '{' || ch == ',')
                        .next()
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    if !(c == '`' && info.contains('`')) {
                        open = Some((c, fence_len, lang, next));
                    }
                }
            }
            Some((c, len, lang, body_start)) => {
                if fence_char == Some(*c)
                    && fence_len >= *len
                    && trimmed[fence_len..].trim().is_empty()
                {
                    let body = TextRange::new(*body_start, pos);
                    blocks(text, body, lang, &mut out);
                    open = None;
                }
            }
        }
        pos = next;
    }
    out
}

fn blocks(text: &str, body: TextRange, lang: &str, out: &mut Vec<Fragment>) {
    let line = crate::text::LineIndex::new(text).line_of(body.start) + 1;
    if SCRIPT_LANGS.contains(&lang) {
        let mut f = Fragment::identity(text, body, Dialect::Sh);
        f.editable = false;
        f.place = format!("the `{lang}` block on line {}", line.saturating_sub(1));
        out.push(f);
        return;
    }
    if !SESSION_LANGS.contains(&lang) {
        return;
    }
    let mut pos = body.start;
    while pos < body.end {
        let line_end = text[pos..body.end].find('\n').map_or(body.end, |p| pos + p);
        let line = text[pos..line_end].trim_end_matches('\r');
        let lead = line.len() - line.trim_start().len();
        let rest = &line[lead..];
        let prompt = ["$ ", "# "]
            .iter()
            .find(|p| rest.starts_with(**p))
            .filter(|p| **p == "$ " || rest[2..].trim_start().starts_with("docker"));
        let Some(prompt) = prompt else {
            pos = (line_end + 1).min(body.end);
            continue;
        };
        let start = pos + lead + prompt.len();
        // The command with its continuation lines.
        let mut end = pos + line.len();
        let mut next = (line_end + 1).min(body.end);
        let mut cur = line;
        while cur.trim_end().ends_with('\\') && next < body.end {
            let le = text[next..body.end]
                .find('\n')
                .map_or(body.end, |p| next + p);
            cur = text[next..le].trim_end_matches('\r');
            end = next + cur.len();
            next = (le + 1).min(body.end);
        }
        let mut f = Fragment::identity(text, TextRange::new(start, end.max(start)), Dialect::Sh);
        f.editable = false;
        f.place = format!("the `{lang}` block");
        out.push(f);
        pos = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences() {
        let text = "# T\n\n```bash\ndocker run --privileged x\n```\n\n```console\n$ docker run \\\n    --net=host y\nsome output\n# docker ps\n```\n\n```yaml\nfoo: 1\n```\n";
        let f = parse(text);
        let srcs: Vec<&str> = f.iter().map(|f| f.src.as_str()).collect();
        assert_eq!(
            srcs,
            vec![
                "docker run --privileged x\n",
                "docker run \\\n    --net=host y",
                "docker ps"
            ]
        );
        assert!(f.iter().all(|f| !f.editable));
    }
}
