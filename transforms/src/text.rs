//! Byte ranges and line/column lookup.

use std::fmt;

/// A half-open byte range `start..end` into the ORIGINAL text of a file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl TextRange {
    #[must_use]
    pub const fn new(start: usize, end: usize) -> Self {
        assert!(start <= end, "TextRange start after end");
        Self { start, end }
    }

    /// An empty range at `offset` (an insertion point).
    #[must_use]
    pub const fn empty(offset: usize) -> Self {
        Self {
            start: offset,
            end: offset,
        }
    }

    #[must_use]
    pub const fn len(self) -> usize {
        self.end - self.start
    }

    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.start == self.end
    }

    #[must_use]
    pub const fn contains_range(self, other: Self) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Two ranges conflict when they share a byte, or when one is an insertion strictly inside the other.
    /// Two insertions at the same offset conflict too (their order would be ambiguous) unless identical.
    #[must_use]
    pub const fn overlaps(self, other: Self) -> bool {
        if self.is_empty() && other.is_empty() {
            return self.start == other.start;
        }
        if self.is_empty() {
            return other.start < self.start && self.start < other.end;
        }
        if other.is_empty() {
            return self.start < other.start && other.start < self.end;
        }
        self.start < other.end && other.start < self.end
    }

    /// The smallest range covering both.
    #[must_use]
    pub fn cover(self, other: Self) -> Self {
        Self::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The text this range covers.
    #[must_use]
    pub fn slice(self, text: &str) -> &str {
        &text[self.start..self.end]
    }
}

impl fmt::Debug for TextRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A 1-based line and 1-based column (counted in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Maps byte offsets to line/column positions.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

/// The offsets where lines start when LF, CRLF and a lone CR each end a line (YAML's line
/// breaks): 0, then after every LF and every CR that no LF follows.
pub(crate) fn cr_line_starts(bytes: &[u8]) -> Vec<usize> {
    let mut line_starts = vec![0];
    line_starts.extend(
        memchr::memchr2_iter(b'\n', b'\r', bytes)
            .filter(|&i| bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n'))
            .map(|i| i + 1),
    );
    line_starts
}

impl LineIndex {
    #[must_use]
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Self { line_starts }
    }

    /// Like [`LineIndex::new`], but a CR not followed by LF also ends a line, as in YAML (line
    /// breaks are CRLF, LF or CR alone).
    #[must_use]
    pub fn with_cr_breaks(text: &str) -> Self {
        Self {
            line_starts: cr_line_starts(text.as_bytes()),
        }
    }

    /// The 0-based line that contains `offset`.
    #[must_use]
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Byte offset of the start of 0-based `line`.
    #[must_use]
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts[line.min(self.line_starts.len() - 1)]
    }

    #[must_use]
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    #[must_use]
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let column = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }
}

/// Convenience: line/column of `offset` in `text` without keeping an index.
#[must_use]
pub fn line_col(text: &str, offset: usize) -> LineCol {
    LineIndex::new(text).line_col(text, offset)
}

/// Where the first `open` of `text` is, when a `close` follows it (from the same byte on): a
/// template marker such as `{{ ... }}`. Byte searches (memchr), the markers being ASCII.
pub(crate) fn marker_pair(text: &str, open: &[u8], close: &[u8]) -> Option<usize> {
    let bytes = text.as_bytes();
    memchr::memmem::find(bytes, open)
        .filter(|&i| memchr::memmem::find(&bytes[i..], close).is_some())
}

/// Offsets of the CRs that are line breaks on their own (not followed by LF), in order.
#[must_use]
pub fn lone_crs(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'\r', bytes)
        .filter(|&i| bytes.get(i + 1) != Some(&b'\n'))
        .collect()
}

/// The line ending a file mostly uses: `"\r\n"` when its first line break is CRLF, else `"\n"`.
#[must_use]
pub fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// `text.split('\n')`, with the line feeds found a vector at a time (the `str` splitter looks for
/// each one afresh, which costs more than a short line).
pub fn split_lf(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .map(Some)
        .chain([None])
        .map(move |end| {
            let from = start;
            let to = end.unwrap_or(text.len());
            start = to + 1;
            // A line feed is one byte: both ends are character boundaries.
            &text[from..to]
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_crs_are_the_crs_no_lf_follows() {
        assert_eq!(lone_crs("a\rb\r\nc\r"), vec![1, 6]);
        assert_eq!(lone_crs("\r\r\n\r"), vec![0, 3]);
        assert!(lone_crs("a\r\nb\n").is_empty());
        assert!(lone_crs("").is_empty());
    }

    /// The line starts are those of the definition: after every LF, and with CR breaks also after
    /// every CR that no LF follows.
    #[test]
    fn line_starts_are_those_of_the_definition() {
        for text in [
            "",
            "a",
            "\n",
            "\r",
            "\r\n",
            "a\nb\r\nc\rd\n\r\r\n\n",
            "\u{e9}\r\u{e9}\n",
            "x\r\r",
        ] {
            let b = text.as_bytes();
            let lf: Vec<usize> = std::iter::once(0)
                .chain((0..b.len()).filter(|&i| b[i] == b'\n').map(|i| i + 1))
                .collect();
            let cr: Vec<usize> = std::iter::once(0)
                .chain(
                    (0..b.len())
                        .filter(|&i| {
                            b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) != Some(&b'\n'))
                        })
                        .map(|i| i + 1),
                )
                .collect();
            assert_eq!(LineIndex::new(text).line_starts, lf, "{text:?}");
            assert_eq!(LineIndex::with_cr_breaks(text).line_starts, cr, "{text:?}");
        }
    }

    #[test]
    fn line_col_counts_chars() {
        let t = "ab\nçd\n";
        assert_eq!(line_col(t, 0), LineCol { line: 1, column: 1 });
        assert_eq!(line_col(t, 3), LineCol { line: 2, column: 1 });
        assert_eq!(line_col(t, 5), LineCol { line: 2, column: 2 });
        assert_eq!(line_col(t, 7), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn overlaps() {
        let r = TextRange::new;
        assert!(r(0, 5).overlaps(r(4, 6)));
        assert!(!r(0, 5).overlaps(r(5, 6)));
        assert!(!r(0, 5).overlaps(TextRange::empty(5)));
        assert!(r(0, 5).overlaps(TextRange::empty(3)));
        assert!(TextRange::empty(3).overlaps(TextRange::empty(3)));
        assert!(!TextRange::empty(3).overlaps(TextRange::empty(4)));
    }

    #[test]
    fn lone_cr_is_a_line_break_for_yaml() {
        let t = "a\rb\r\nc\nd";
        assert_eq!(lone_crs(t), vec![1]);
        let i = LineIndex::with_cr_breaks(t);
        assert_eq!(i.line_col(t, 2), LineCol { line: 2, column: 1 });
        assert_eq!(i.line_col(t, 5), LineCol { line: 3, column: 1 });
        assert_eq!(i.line_col(t, 7), LineCol { line: 4, column: 1 });
        assert_eq!(LineIndex::new(t).line_col(t, 2).line, 1);
    }

    #[test]
    fn crlf_detection() {
        assert_eq!(line_ending("a\r\nb"), "\r\n");
        assert_eq!(line_ending("a\nb"), "\n");
        assert_eq!(line_ending("a"), "\n");
    }

    #[test]
    fn split_lf_is_split_at_line_feeds() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "\na",
            "a\nb",
            "a\r\nb\n\n",
            "é\nü\n€",
            "\n\n\n",
        ] {
            let fast: Vec<&str> = split_lf(text).collect();
            let slow: Vec<&str> = text.split('\n').collect();
            assert_eq!(fast, slow, "{text:?}");
        }
    }
}
