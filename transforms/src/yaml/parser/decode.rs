//! The decoding of a scalar's text into its value, from `yaml-edit` 0.3.6's
//! `src/nodes/scalar_node.rs` (`Scalar::as_string`, `Scalar::parse_block_scalar`,
//! `header_indicators`, `normalize_line_breaks`, `Chomping`) and `src/scalar/mod.rs`
//! (`trim_white`), copied with the parser (see [`super`] for the licence). Changed from the
//! original: this header; `as_string` takes the scalar's text and the two facts it read from the
//! tree (whether the scalar opens with a `|` or `>` header token, `is_block_scalar`; the column
//! of the innermost collection entry holding it, `block_parent_column`), which the arena builder
//! works out as it builds ([`super::super::cst::Builder`]); `Scalar` is a unit struct holding
//! the two functions; the paths of `space_indent` and `parse_escape_sequences`. Otherwise
//! unchanged.

use std::borrow::Cow;

/// Chomping indicator for block scalars
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chomping {
    /// Strip final line breaks (indicator: -)
    Strip,
    /// Keep final line breaks (indicator: +)
    Keep,
    /// Clip to single final line break (default, no indicator)
    Clip,
}

/// The chomping and explicit indentation indicators in `header`, the
/// first line of a block scalar. Only the run straight after `|` or `>`
/// holds them; a comment may follow (`> # a-b`) and its text says nothing
/// about either.
fn header_indicators(header: &str) -> (Chomping, Option<usize>) {
    let indicators: String = header
        .chars()
        .skip(1)
        .take_while(|c| c.is_ascii_digit() || *c == '+' || *c == '-')
        .collect();
    let chomping = if indicators.contains('-') {
        Chomping::Strip
    } else if indicators.contains('+') {
        Chomping::Keep
    } else {
        Chomping::Clip
    };
    let indent = indicators
        .chars()
        .find(|c| c.is_ascii_digit() && *c != '0')
        .and_then(|c| c.to_digit(10))
        .map(|d| d as usize);
    (chomping, indent)
}

/// Replace `\r\n` and lone `\r` line breaks with `\n`, which
/// `str::lines` does not split on.
fn normalize_line_breaks(text: &str) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `yaml-edit`'s `trim_white`.
fn trim_white(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Namespace for the two decoding functions (a node type in `yaml-edit`).
pub(crate) struct Scalar;

impl Scalar {
    /// Get the string representation of this scalar, properly unquoted and unescaped
    pub(crate) fn as_string(text: &str, is_block: bool, parent_column: usize) -> String {
        let text = text.to_owned();

        // Handle quoted strings
        if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
            // Double-quoted string - handle escape sequences
            yaml_edit::ScalarValue::parse_escape_sequences(&text[1..text.len() - 1])
        } else if text.len() >= 2 && text.starts_with('\'') && text.ends_with('\'') {
            // Single-quoted string - handle '' -> ' escape and fold multi-line strings
            let content = &text[1..text.len() - 1];
            let unescaped = content.replace("''", "'");
            // Only fold lines if actually multi-line
            if unescaped.contains(['\n', '\r']) {
                // A line break folds to a space, or to one newline per empty
                // line after it, and takes the white space around it along.
                let unescaped = normalize_line_breaks(&unescaped);
                let lines: Vec<&str> = unescaped.split('\n').collect();
                let last = lines.len() - 1;
                let mut result = lines[0].trim_end_matches([' ', '\t']).to_string();
                let mut empty_lines = 0;
                for (i, line) in lines.iter().enumerate().skip(1) {
                    let line = line.trim_start_matches([' ', '\t']);
                    let line = if i == last {
                        line
                    } else {
                        line.trim_end_matches([' ', '\t'])
                    };
                    if line.is_empty() && i != last {
                        empty_lines += 1;
                        continue;
                    }
                    match empty_lines {
                        0 => result.push(' '),
                        n => result.push_str(&"\n".repeat(n)),
                    }
                    empty_lines = 0;
                    result.push_str(line);
                }
                result
            } else {
                unescaped
            }
        } else if is_block {
            Self::parse_block_scalar(&text, parent_column)
        } else {
            // Plain scalar - fold lines if multi-line
            if text.contains(['\n', '\r']) {
                // Multi-line plain scalar: a single line break folds to a
                // space, and each additional one is kept, so a blank line
                // between two lines becomes a newline (YAML 1.2 line folding).
                let mut result = String::new();
                let mut pending_breaks = 0usize;
                for line in normalize_line_breaks(&text).lines() {
                    let trimmed = trim_white(line);
                    if trimmed.is_empty() {
                        // Only counts once content has started; leading blank
                        // lines are stripped along with the indentation.
                        if !result.is_empty() {
                            pending_breaks += 1;
                        }
                        continue;
                    }
                    if !result.is_empty() {
                        if pending_breaks == 0 {
                            result.push(' ');
                        } else {
                            for _ in 0..pending_breaks {
                                result.push('\n');
                            }
                        }
                    }
                    pending_breaks = 0;
                    result.push_str(trimmed);
                }
                result
            } else {
                text
            }
        }
    }

    /// Parse a block scalar (literal `|` or folded `>`) into its string content
    ///
    /// `parent_column` is the column of the collection the scalar is a node
    /// of, which an explicit indentation indicator counts from.
    fn parse_block_scalar(text: &str, parent_column: usize) -> String {
        let text = normalize_line_breaks(text);
        let mut lines = text.lines();
        let first_line = match lines.next() {
            Some(line) => line,
            None => return String::new(),
        };

        let is_literal = first_line.starts_with('|');
        let (chomping, explicit_indent) = header_indicators(first_line);

        // Collect content lines
        let content_lines: Vec<&str> = lines.collect();
        if content_lines.is_empty() {
            return String::new();
        }

        // An explicit indentation indicator (`|2`, `>2-`) says where the
        // content starts, counted from the parent collection's column.
        // Anything further right is part of the value: `|2` over a 4-space
        // body at the root is `"  x"`, not `"x"`. Without it, take the first
        // non-empty line's indentation as the base.
        let base_indent = match explicit_indent {
            Some(explicit) => parent_column + explicit,
            // With no content line at all, every line is empty however
            // many spaces it holds. A tab is not indentation, so a line
            // with one is not empty: `|\n \t\n` is "\t\n".
            None => content_lines
                .iter()
                .find(|line| !line.trim_start_matches(' ').is_empty())
                .map_or(usize::MAX, |line| super::support::space_indent(line)),
        };

        // A line with no more than `base_indent` spaces and nothing else is
        // empty; other lines lose up to `base_indent` spaces of indentation.
        let mut result = String::new();
        let mut empty_lines = 0;
        // Whether the previous content line, if any, started with white space
        let mut prev_spaced: Option<bool> = None;

        for line in &content_lines {
            // base_indent is a character count, so we step by chars to
            // stay on UTF-8 boundaries even if the line starts with
            // multi-byte content at less than base_indent spaces of
            // indentation.
            let leading_spaces = super::support::space_indent(line);
            let strip = leading_spaces.min(base_indent);
            let strip_bytes = line
                .char_indices()
                .nth(strip)
                .map_or(line.len(), |(i, _)| i);
            let stripped = &line[strip_bytes..];
            // A line indented less than the body holds no content, so tabs
            // after its spaces are white space too.
            let less_indented = leading_spaces < base_indent;
            if stripped.is_empty()
                || (less_indented && stripped.trim_start_matches([' ', '\t']).is_empty())
            {
                empty_lines += 1;
                continue;
            }

            // Folding joins two lines with a space, unless empty lines
            // separate them or either starts with white space, in which
            // case every line break is kept.
            let spaced = stripped.starts_with([' ', '\t']);
            let breaks = match prev_spaced {
                Some(prev) if is_literal || prev || spaced => empty_lines + 1,
                Some(_) if empty_lines == 0 => {
                    result.push(' ');
                    0
                }
                _ => empty_lines,
            };
            result.push_str(&"\n".repeat(breaks));
            result.push_str(stripped);
            prev_spaced = Some(spaced);
            empty_lines = 0;
        }

        // `empty_lines` is now the number of trailing empty lines
        let has_content = prev_spaced.is_some();
        match chomping {
            Chomping::Strip => {}
            Chomping::Clip => {
                if has_content {
                    result.push('\n');
                }
            }
            Chomping::Keep => {
                // One newline ends the last content line, then one per
                // trailing blank. A body that is nothing but blank lines has
                // no content line to end, so it gets only the blanks:
                // `k: |+\n\n\n` is `"\n\n"`, as saphyr and PyYAML both
                // read it, not `"\n\n\n"`.
                let newlines = empty_lines + usize::from(has_content);
                result.push_str(&"\n".repeat(newlines));
            }
        }

        result
    }
}
