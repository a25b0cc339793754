//! Private helpers of `yaml-edit` 0.3.6 the parser uses, copied with it (see [`super`] for the
//! licence): `LineIndex` from `src/line_index.rs` (without the methods the parser does not call,
//! `line_column` and `line_start`), `block_scalar_header` from `src/lex.rs`, `space_indent` from
//! `src/column.rs`, and `ErrorRecoveryContext::is_sync_point` from `src/error_recovery.rs` as
//! [`is_sync_point`] (a function of the context: the method is private there). For speed,
//! `LineIndex::new` takes its line starts from `crate::text::cr_line_starts` (the same rule),
//! lists continuation bytes only in a text that is not ASCII and counts leading byte order marks
//! only in a text that has one (tested against the definition). Otherwise unchanged.

use yaml_edit::error_recovery::{ErrorRecoveryContext, ParseContext};
use yaml_edit::SyntaxKind;

/// The line starts of a text, for turning byte offsets into lines and
/// columns.
///
/// Line breaks are those of YAML 1.2 (`b-break`): `\n`, `\r` and `\r\n` each
/// end a line. Columns count Unicode scalar values. A byte order mark at the
/// start of a line is a document prefix rather than content, so it takes no
/// column.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex<T: AsRef<str>> {
    text: T,
    line_starts: Vec<usize>,
    /// The number of byte order marks each line starts with (empty when the text has none).
    leading_boms: Vec<usize>,
    /// The offsets of the bytes that continue a multi-byte character, so
    /// that a column takes no walk along its line.
    continuation_bytes: Vec<usize>,
}

impl<T: AsRef<str>> LineIndex<T> {
    pub(crate) fn new(text: T) -> Self {
        let bytes = text.as_ref().as_bytes();
        let line_starts = crate::text::cr_line_starts(bytes);
        let continuation_bytes = if bytes.is_ascii() {
            Vec::new()
        } else {
            (0..bytes.len())
                .filter(|&i| bytes[i] & 0xC0 == 0x80)
                .collect()
        };
        let leading_boms = if text.as_ref().contains('\u{FEFF}') {
            line_starts
                .iter()
                .map(|&start| {
                    let line = &text.as_ref()[start..];
                    (line.len() - line.trim_start_matches('\u{FEFF}').len()) / '\u{FEFF}'.len_utf8()
                })
                .collect()
        } else {
            Vec::new()
        };
        Self {
            text,
            line_starts,
            leading_boms,
            continuation_bytes,
        }
    }

    pub(crate) fn text(&self) -> &str {
        self.text.as_ref()
    }

    /// The 0-based column of `offset`.
    pub(crate) fn column(&self, offset: usize) -> usize {
        self.column_in_line(self.line_of(offset), offset)
    }

    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset) - 1
    }

    fn column_in_line(&self, line: usize, offset: usize) -> usize {
        let start = self.line_starts[line];
        let offset = offset.clamp(start, self.text().len());
        // Every character before `offset` has its first byte there.
        let continuations = self.continuation_bytes.partition_point(|&i| i < offset)
            - self.continuation_bytes.partition_point(|&i| i < start);
        let chars = offset - start - continuations;
        chars - chars.min(self.leading_boms.get(line).copied().unwrap_or(0))
    }
}

/// Read a block scalar header's indicators from the tokens following its
/// `|` or `>`, returning the indentation indicator if there is one, and how
/// many tokens the indicators and the whitespace between them take up. The
/// header's comment and line break are not counted.
///
/// Format: `|<indent><chomp>` or `|<chomp><indent>`, as in `|2`, `|-`,
/// `|2-` and `|-2`.
pub(crate) fn block_scalar_header<'a>(
    tokens: impl IntoIterator<Item = (SyntaxKind, &'a str)>,
) -> (Option<usize>, usize) {
    let mut explicit_indent = None;
    let mut len = 0;
    for (kind, text) in tokens {
        match kind {
            SyntaxKind::INT => {
                // The spec allows a single digit 1-9, but the lexer hands
                // over the whole run, so `|10` arrives as "10". Take it as
                // part of the header rather than leaving it for the body,
                // which would strand it.
                //
                // A chomping indicator before the digit lexes into the same
                // token (`|-2` is INT("-2")), so allow one sign.
                let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
                if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                    break;
                }
                // A longer run is out of range, so keep only the first digit.
                explicit_indent = digits
                    .chars()
                    .next()
                    .and_then(|c| c.to_digit(10))
                    .filter(|d| *d > 0)
                    .map(|d| d as usize);
            }
            SyntaxKind::STRING => {
                // Could be a chomping indicator, or an indentation digit and
                // chomping indicator lexed together (`|3-`, `|-3`). A
                // header's indicators are ASCII, so compare characters
                // rather than bytes: `text.len()` is 2 for a single no-break
                // space.
                let mut chars = text.chars();
                let is_header = match (chars.next(), chars.next(), chars.next()) {
                    (Some(a), None, _) => a == '+' || a == '-',
                    (Some(a), Some(b), None) => {
                        let digit = |c: char| c.is_ascii_digit() && c != '0';
                        let chomp = |c: char| c == '+' || c == '-';
                        (digit(a) && chomp(b)) || (chomp(a) && digit(b))
                    }
                    _ => false,
                };
                if !is_header {
                    break;
                }
                explicit_indent = text
                    .chars()
                    .find_map(|c| c.to_digit(10))
                    .filter(|d| *d > 0)
                    .map(|d| d as usize);
            }
            // A `+` straight after the `|` or `>` lexes as PLUS rather than
            // STRING, but it is the same chomping indicator.
            SyntaxKind::PLUS | SyntaxKind::WHITESPACE => {}
            _ => break,
        }
        len += 1;
    }
    (explicit_indent, len)
}

/// The number of spaces `text` starts with.
///
/// Only spaces indent in YAML (s-indent), so a tab ends the indentation.
pub(crate) fn space_indent(text: &str) -> usize {
    text.len() - text.trim_start_matches(' ').len()
}

/// Whether a token of `kind` is a safe point to resume parsing at
pub(crate) fn is_sync_point(context: &ErrorRecoveryContext, kind: SyntaxKind) -> bool {
    match context.current_context() {
        ParseContext::Document => matches!(
            kind,
            SyntaxKind::DOC_START | SyntaxKind::DOC_END | SyntaxKind::DIRECTIVE
        ),
        ParseContext::Mapping | ParseContext::Sequence => {
            matches!(kind, SyntaxKind::DASH | SyntaxKind::NEWLINE)
        }
        ParseContext::FlowSequence => {
            matches!(kind, SyntaxKind::RIGHT_BRACKET | SyntaxKind::COMMA)
        }
        ParseContext::FlowMapping => {
            matches!(kind, SyntaxKind::RIGHT_BRACE | SyntaxKind::COMMA)
        }
        _ => kind == SyntaxKind::NEWLINE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column of every offset: characters since the line's start (`\n`, `\r\n` or a lone
    /// `\r` ends a line), less the byte order marks the line starts with.
    #[test]
    fn columns_are_those_of_the_definition() {
        for text in [
            "",
            "a: 1\nb: 2\n",
            "a\r\nbc\rd\n\re",
            "\u{feff}a: \u{e9}t\u{e9}\n\u{feff}\u{feff}b\n  \u{2603}: x",
            "x\u{1F600}y\r\n\u{feff}",
        ] {
            let index = LineIndex::new(text);
            for offset in 0..=text.len() {
                let mut start = 0;
                for (i, c) in text.char_indices() {
                    if i >= offset {
                        break;
                    }
                    if c == '\n' || (c == '\r' && !text[i + 1..].starts_with('\n')) {
                        start = i + 1;
                    }
                }
                let before = &text.as_bytes()[start..offset.max(start)];
                // An offset inside a character counts that character as passed.
                let chars = before.len() - before.iter().filter(|&&b| b & 0xC0 == 0x80).count();
                let boms = text[start..]
                    .chars()
                    .take_while(|&c| c == '\u{feff}')
                    .count();
                assert_eq!(
                    index.column(offset),
                    chars - chars.min(boms),
                    "{text:?} at {offset}"
                );
            }
        }
    }
}
