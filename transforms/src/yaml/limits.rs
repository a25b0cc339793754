//! Cheap checks on the raw text before any YAML parser sees it, so that hostile input is an error
//! rather than a hang, a stack overflow or an abort.

use super::{YamlError, MAX_INPUT_BYTES, MAX_NESTING_DEPTH};
use crate::text::TextRange;

/// Reject input larger than [`MAX_INPUT_BYTES`] or nested deeper than [`MAX_NESTING_DEPTH`].
///
/// The depth is estimated from the text alone in one linear pass: block nesting is the number of
/// strictly increasing indentation levels of the enclosing lines (a compact `- - -` counts one level
/// per dash), flow nesting the number of open `[` / `{`. Quoted scalars, comments and block scalar
/// bodies are skipped. The estimate may over-count (a deeply indented multi-line plain scalar) but
/// never misses a real level of block or flow nesting.
pub(crate) fn check(text: &str) -> Result<(), YamlError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(YamlError::new(
            format!(
                "file too large for YAML processing ({} bytes, the limit is {MAX_INPUT_BYTES})",
                text.len()
            ),
            TextRange::new(MAX_INPUT_BYTES.min(text.len()), text.len()),
        ));
    }
    Scanner::default().run(text)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Quote {
    Single,
    Double,
}

#[derive(Default)]
struct Scanner {
    /// Indentation columns of the enclosing block levels (strictly increasing).
    levels: Vec<usize>,
    flow: usize,
    quote: Option<Quote>,
    /// Inside a block scalar body: lines indented more than this (or blank) belong to it.
    /// `-1` (a root block scalar after `---`) is stored as `None` inside `Some`.
    block_scalar: Option<Option<usize>>,
}

fn too_deep(at: usize, end: usize) -> YamlError {
    YamlError::new(
        format!("YAML nested deeper than {MAX_NESTING_DEPTH} levels"),
        TextRange::new(at, end),
    )
}

impl Scanner {
    fn depth(&self) -> usize {
        self.levels.len() + self.flow
    }

    fn run(mut self, text: &str) -> Result<(), YamlError> {
        let mut offset = 0;
        for raw_line in text.split_inclusive('\n') {
            let line_start = offset;
            offset += raw_line.len();
            let line = raw_line.trim_end_matches(['\n', '\r']);
            self.line(line, line_start)?;
        }
        Ok(())
    }

    fn line(&mut self, line: &str, start: usize) -> Result<(), YamlError> {
        let bytes = line.as_bytes();
        // Skip a BOM at the start of the text (or of a document).
        let mut i = if line.starts_with('\u{feff}') { 3 } else { 0 };
        let indent = bytes[i..].iter().take_while(|&&b| b == b' ').count();
        let content = &line[i + indent..];

        if let Some(parent) = self.block_scalar {
            let blank = content.trim_start_matches(['\t', ' ']).is_empty();
            let inside = match parent {
                Some(p) => indent > p,
                None => !(line.starts_with("---") || line.starts_with("...")),
            };
            if blank || inside {
                return Ok(());
            }
            self.block_scalar = None;
        }

        if self.quote.is_none() && self.flow == 0 {
            if content.is_empty() || content.starts_with('#') {
                return Ok(());
            }
            if (line.starts_with("---") || line.starts_with("..."))
                && line[3..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == ' ' || c == '\t')
            {
                self.levels.clear();
                if line.starts_with("---") {
                    self.scan(line, start, 3, None)?;
                }
                return Ok(());
            }
            while self.levels.last().is_some_and(|&top| top > indent) {
                self.levels.pop();
            }
            if self.levels.last().is_none_or(|&top| top < indent) {
                self.levels.push(indent);
            }
            // Compact nesting: `- - - a`, `? - a`.
            let mut col = indent;
            let mut rest = content;
            while let Some(after) = rest
                .strip_prefix('-')
                .or_else(|| rest.strip_prefix('?'))
                .filter(|a| a.is_empty() || a.starts_with([' ', '\t']))
            {
                let spaces = after.len() - after.trim_start_matches([' ', '\t']).len();
                col += 1 + spaces;
                rest = &after[spaces..];
                if rest.is_empty() {
                    break;
                }
                if self.levels.last().is_none_or(|&top| top < col) {
                    self.levels.push(col);
                }
            }
            if self.depth() > MAX_NESTING_DEPTH {
                return Err(too_deep(start + i + indent, start + line.len()));
            }
            i = line.len() - rest.len();
            let parent_indent = Some(indent);
            return self.scan(line, start, i, parent_indent);
        }
        self.scan(line, start, i, Some(indent))
    }

    /// Scan the rest of a line from byte `i` for quotes, flow brackets, comments and a block scalar
    /// header at its end.
    fn scan(
        &mut self,
        line: &str,
        start: usize,
        mut i: usize,
        parent_indent: Option<usize>,
    ) -> Result<(), YamlError> {
        let bytes = line.as_bytes();
        // Whether the previous byte allows an indicator to start a token here.
        let mut token_start = line[..i]
            .chars()
            .last()
            .is_none_or(|c| c == ' ' || c == '\t' || c == '\u{feff}');
        let mut last_token_end = i;
        let mut last_token_start = i;
        while i < bytes.len() {
            let b = bytes[i];
            match self.quote {
                Some(Quote::Double) => {
                    if b == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b == b'"' {
                        self.quote = None;
                        last_token_end = i + 1;
                    }
                    i += 1;
                    continue;
                }
                Some(Quote::Single) => {
                    if b == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        self.quote = None;
                        last_token_end = i + 1;
                    }
                    i += 1;
                    continue;
                }
                None => {}
            }
            match b {
                b'#' if token_start => break,
                b'"' | b'\'' if token_start => {
                    self.quote = Some(if b == b'"' {
                        Quote::Double
                    } else {
                        Quote::Single
                    });
                    last_token_start = i;
                }
                b'[' | b'{' if token_start || self.flow > 0 => {
                    self.flow += 1;
                    if self.depth() > MAX_NESTING_DEPTH {
                        return Err(too_deep(start + i, start + i + 1));
                    }
                }
                b']' | b'}' if self.flow > 0 => {
                    self.flow -= 1;
                    last_token_end = i + 1;
                }
                b' ' | b'\t' => {}
                _ => {
                    if token_start {
                        last_token_start = i;
                    }
                    last_token_end = i + 1;
                }
            }
            token_start = matches!(b, b' ' | b'\t')
                || (self.flow > 0 && matches!(b, b'[' | b'{' | b',' | b':'));
            i += 1;
        }
        // A block scalar header (`|`, `>-`, `|2+`) as the last token of a block-context line.
        if self.quote.is_none() && self.flow == 0 && last_token_end > last_token_start {
            let token = &line[last_token_start..last_token_end];
            let mut chars = token.chars();
            if matches!(chars.next(), Some('|' | '>'))
                && token.len() <= 3
                && chars.all(|c| c == '+' || c == '-' || c.is_ascii_digit())
            {
                let root = line.starts_with("---");
                self.block_scalar = Some(if root { None } else { parent_indent });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_err(text: &str) -> bool {
        check(text).is_err()
    }

    #[test]
    fn accepts_ordinary_yaml() {
        let t = "a:\n  b: [1, {c: d}]\n  e: |\n    x\n        y\n  f: \"[[[[\" # [[[\n- - - a\n";
        assert!(check(t).is_ok());
    }

    #[test]
    fn rejects_deep_flow() {
        let n = MAX_NESTING_DEPTH + 1;
        assert!(depth_err(&format!(
            "a: {}{}\n",
            "[".repeat(n),
            "]".repeat(n)
        )));
        assert!(!depth_err(&format!(
            "a: {}{}\n",
            "[".repeat(n - 2),
            "]".repeat(n - 2)
        )));
        assert!(depth_err(&format!("{}\n", "{a: ".repeat(n))));
    }

    #[test]
    fn rejects_deep_indentation_and_dashes() {
        let n = MAX_NESTING_DEPTH + 1;
        let mut s = String::new();
        for i in 0..n {
            s += &" ".repeat(i);
            s += "a:\n";
        }
        assert!(depth_err(&s));
        assert!(depth_err(&format!("{}a\n", "- ".repeat(n))));
        let ok: String = (0..MAX_NESTING_DEPTH - 1)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect();
        assert!(!depth_err(&ok));
    }

    #[test]
    fn block_scalar_bodies_do_not_count() {
        let mut s = String::from("a: |\n");
        for i in 1..400 {
            s += &" ".repeat(i);
            s += "x\n";
        }
        s += "b: 1\n";
        assert!(check(&s).is_ok());
        let mut s = String::from("--- >\n");
        for i in 0..400 {
            s += &" ".repeat(i);
            s += "x\n";
        }
        assert!(check(&s).is_ok());
    }

    #[test]
    fn quotes_and_plain_brackets() {
        let n = MAX_NESTING_DEPTH + 10;
        // Brackets inside quotes, comments and plain scalars are not flow indicators.
        let s = format!(
            "a: \"{}\"\nb: '{}'\nc: x{}\n# {}\n",
            "[".repeat(n),
            "{".repeat(n),
            "[".repeat(n),
            "[".repeat(n)
        );
        assert!(check(&s).is_ok());
    }

    #[test]
    fn size_cap() {
        let s = "a".repeat(MAX_INPUT_BYTES + 1);
        let e = check(&s).unwrap_err();
        assert!(e.message.contains("too large"));
    }
}
