//! `yaml-edit` 0.3.6's lexer (`src/lex.rs`), copied with the parser (see [`super`] for the
//! licence). Changed from the original: this header; the imports (`SyntaxKind`, the validation
//! types and `ScalarValue::classify_plain` are `yaml-edit`'s own, public ones; `space_indent` is
//! [`super::support::space_indent`]); the type definitions before the first function
//! (`WhitespaceError`, `SyntaxKind`, ...) and the tests are not copied;
//! `block_scalar_header`, also copied into `support.rs` for the parser, is not repeated here;
//! `is_printable`, `is_valid_anchor_name` and `is_anchor_char` (the validator's, not the lexer's)
//! are left out; for speed, `lex` runs without the line-length and line-ending checks (whose
//! errors the parser never read) and `lex_with_validation` is not copied, and `is_yaml_special`
//! matches the characters instead of searching `YAML_SPECIAL_CHARS` (a test compares the two
//! for every character), also in `is_yaml_special_except`; `classify_scalar` answers STRING at
//! once for a scalar whose first character starts no null, boolean or number spelling (a test
//! compares it with `classify_plain` over every first character); the characters are read
//! through a [`Cursor`] (`char_indices().peekable()` read from a byte offset) so that runs of
//! scalar, space and comment bytes and quoted scalars are scanned by bytes (tests compare each
//! scan with the character loop it replaces). Otherwise unchanged.

// The original's `map_or(true, ..)` expressions are kept as they are.
#![allow(clippy::unnecessary_map_or)]

use super::support::block_scalar_header;
use yaml_edit::{SyntaxKind, WhitespaceError, WhitespaceErrorCategory};

/// The lexer's position in its input: the characters with their offsets, as
/// `input.char_indices().peekable()` gives them (its `peek`, `next` and
/// `next_if` keep their meaning), read from a byte offset, so that a run of
/// ASCII bytes can be passed over without decoding it ([`Cursor::skip_ascii`]).
#[derive(Clone)]
struct Cursor<'a> {
    input: &'a str,
    /// Offset of the next character (a character boundary).
    pos: usize,
    /// The character [`Cursor::peek`] last lent.
    peeked: Option<(usize, char)>,
}

impl<'a> Cursor<'a> {
    fn new(input: &'a str) -> Self {
        Self {
            input,
            pos: 0,
            peeked: None,
        }
    }

    /// The next character and its offset, without taking it.
    #[inline]
    fn current(&self) -> Option<(usize, char)> {
        let b = *self.input.as_bytes().get(self.pos)?;
        if b.is_ascii() {
            return Some((self.pos, char::from(b)));
        }
        self.input[self.pos..].chars().next().map(|c| (self.pos, c))
    }

    #[inline]
    fn peek(&mut self) -> Option<&(usize, char)> {
        self.peeked = self.current();
        self.peeked.as_ref()
    }

    #[inline]
    fn next_if(&mut self, f: impl FnOnce(&(usize, char)) -> bool) -> Option<(usize, char)> {
        let item = self.current().filter(f)?;
        self.pos += item.1.len_utf8();
        Some(item)
    }

    /// Take every character up to the next line break (`\n` or `\r`) or the
    /// end; returns the offset reached.
    #[inline]
    fn skip_to_line_break(&mut self) -> usize {
        let rest = &self.input.as_bytes()[self.pos..];
        self.pos += memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
        self.pos
    }

    /// Take the ASCII bytes from here on for which `keep` holds; returns
    /// the offset after the last one taken (here, when none is).
    #[inline]
    fn skip_ascii(&mut self, keep: impl Fn(u8) -> bool) -> usize {
        let rest = &self.input.as_bytes()[self.pos..];
        // (An ASCII byte is a whole character: the new offset is a boundary.)
        let n = rest
            .iter()
            .position(|&b| !(b.is_ascii() && keep(b)))
            .unwrap_or(rest.len());
        self.pos += n;
        self.pos
    }
}

impl Iterator for Cursor<'_> {
    type Item = (usize, char);

    #[inline]
    fn next(&mut self) -> Option<(usize, char)> {
        let item = self.current()?;
        self.pos += item.1.len_utf8();
        Some(item)
    }
}

/// Decide whether the whitespace run starting at `ws_idx` is internal to a
/// plain scalar or a real terminator. Internal whitespace is followed by
/// more plain-scalar content on the same line; a terminator is followed by
/// end-of-line, end-of-input, a `#` comment marker, a `:` that ends the
/// scalar, or a structural indicator. Quotes and hyphens remain scalar
/// content here; flow delimiters terminate only in flow context.
///
/// Caller must guarantee the character at `ws_idx` is a space or tab.
fn plain_scalar_continues_past_whitespace(input: &str, ws_idx: usize, flow_depth: u32) -> bool {
    let rest = &input[ws_idx..];
    // Find the first non-whitespace char in the run.
    let (offset, next) = match rest.char_indices().find(|(_, c)| *c != ' ' && *c != '\t') {
        Some(v) => v,
        None => return false,
    };
    match next {
        '\n' | '\r' | '#' => false,
        ',' | '[' | ']' | '{' | '}' if flow_depth > 0 => false,
        ':' => !is_colon_a_mapping_indicator(input, ws_idx + offset, flow_depth),
        // Once a scalar has begun these are all content on the next word:
        // the signs, the quotes, the flow indicators, and the node
        // properties and block headers, which are indicators only at the
        // start of a node. So `+ ?: v` is keyed `+ ?`, as `+ -: v` was.
        '-' | '+' | '?' | '|' | '>' | '&' | '*' | '!' | '%' | '\'' | '"' | ',' | '[' | ']'
        | '{' | '}' => true,
        c if is_yaml_special(c) => false,
        _ => true,
    }
}

/// Read an anchor or alias name (`ns-anchor-name`).
///
/// Per YAML 1.2 an anchor name is a run of non-space characters excluding
/// the flow indicators, so `-`, `*`, `:` and the rest are ordinary name
/// characters: saphyr reads `&xT*U---` as the single anchor `xT*U---`.
/// Reading these with the general scalar reader stopped at the first
/// YAML-special character and stranded the remainder.
fn read_anchor_name_from<'a>(chars: &mut Cursor<'a>, input: &'a str, start_idx: usize) -> &'a str {
    let mut end_idx = start_idx;
    while let Some((idx, ch)) = chars.peek().copied() {
        if is_white_or_break(ch) || matches!(ch, ',' | '[' | ']' | '{' | '}') {
            break;
        }
        end_idx = idx + ch.len_utf8();
        chars.next();
    }
    &input[start_idx..end_idx]
}

/// Is a `:` at `input[colon_idx]` a mapping indicator (rather than
/// plain-scalar content)?
///
/// Per YAML 1.2 the answer is context-dependent. `:` is an indicator
/// when:
///   - followed by whitespace or EOF, in any context; or
///   - inside a flow collection, followed by a flow terminator
///     (`,`, `]`, `}`).
///
/// It is *not* an indicator when embedded in a plain scalar (`http://`,
/// `::vector`, timestamp bodies, etc.).
///
/// `colon_idx` must point at the `:` byte itself; only the char that
/// follows is inspected. Callers already in flow context should pass a
/// non-zero `flow_depth`.
fn is_colon_a_mapping_indicator(input: &str, colon_idx: usize, flow_depth: u32) -> bool {
    // Per YAML 1.2 section 7.4 a `:` directly after a JSON-like node -- a
    // closing `}` or `]`, or a quoted scalar -- separates that key from its
    // value in flow context, with no space required: `[ {a: b}:c ]` holds
    // the mapping `{{a: b}: c}`, as the YAML test suite's 9MMW expects.
    if flow_depth > 0
        && input[..colon_idx]
            .chars()
            .next_back()
            .is_some_and(|ch| matches!(ch, '}' | ']' | '"' | '\''))
    {
        return true;
    }
    is_colon_followed_by_separator(input, colon_idx, flow_depth)
}

/// Is the `:` at `input[colon_idx]` followed by what makes it a mapping
/// indicator after content that is not a JSON-like node, such as a plain
/// scalar's own text?
fn is_colon_followed_by_separator(input: &str, colon_idx: usize, flow_depth: u32) -> bool {
    let after = input[colon_idx + 1..].chars().next();
    match after {
        None => true,
        Some(ch) if is_white_or_break(ch) => true,
        Some(ch) if flow_depth > 0 && matches!(ch, ',' | ']' | '}') => true,
        _ => false,
    }
}

/// Is a `#` at `input[hash_idx]` the start of a comment (rather than
/// scalar content)?
///
/// Per YAML 1.2 section 6.6, `#` starts a comment only when preceded
/// by whitespace (or is at the start of the input / a fresh line).
/// Inside a plain scalar with no preceding whitespace, `#` is scalar
/// content (URLs, `#frag`, etc.).
fn is_hash_a_comment_start(input: &str, hash_idx: usize) -> bool {
    hash_idx == 0
        || input[..hash_idx]
            .chars()
            .next_back()
            .is_some_and(is_white_or_break)
}

/// Scan a double-quoted string body, consuming through the closing quote.
///
/// Returns the end offset and whether a closing quote was found; a backslash
/// escapes the next character, so `"a\""` runs to the second `"`.
fn scan_double_quoted(chars: &mut Cursor<'_>, start_idx: usize) -> (usize, bool) {
    // (By byte searches: the quote and the backslash are ASCII, so where one
    // is found a character starts.)
    let input = chars.input;
    let bytes = input.as_bytes();
    let mut at = chars.pos;
    loop {
        let Some(i) = memchr::memchr2(b'"', b'\\', &bytes[at..]) else {
            chars.pos = bytes.len();
            return (bytes.len().max(start_idx + 1), false);
        };
        let found = at + i;
        if bytes[found] == b'"' {
            chars.pos = found + 1;
            return (found + 1, true);
        }
        // A backslash escapes the character after it, whatever it is.
        match input[found + 1..].chars().next() {
            Some(escaped) => at = found + 1 + escaped.len_utf8(),
            None => {
                chars.pos = bytes.len();
                return (bytes.len(), false);
            }
        }
    }
}

/// Scan a single-quoted string body, consuming through the closing quote.
///
/// Returns the end offset and whether a closing quote was found. A doubled
/// `''` is an escaped quote and does not end the string.
fn scan_single_quoted(chars: &mut Cursor<'_>, start_idx: usize) -> (usize, bool) {
    let bytes = chars.input.as_bytes();
    let mut at = chars.pos;
    loop {
        let Some(i) = memchr::memchr(b'\'', &bytes[at..]) else {
            chars.pos = bytes.len();
            return (bytes.len().max(start_idx + 1), false);
        };
        let found = at + i;
        if bytes.get(found + 1) == Some(&b'\'') {
            // Doubled quote: an escaped `'`, not the end.
            at = found + 2;
        } else {
            chars.pos = found + 1;
            return (found + 1, true);
        }
    }
}

/// Whether the flow collection opening at `open_idx` starts an implicit
/// key: it closes on its line, with the brackets matching, and a `:`
/// mapping indicator follows on that line.
fn flow_collection_is_implicit_key(input: &str, open_idx: usize) -> bool {
    let line = input[open_idx..]
        .split(['\n', '\r'])
        .next()
        .unwrap_or_default();
    let mut chars = Cursor::new(line);
    let mut closers = Vec::new();
    let mut prev = ' ';
    while let Some((idx, ch)) = chars.next() {
        match ch {
            '[' => closers.push(']'),
            '{' => closers.push('}'),
            ']' | '}' => {
                if closers.pop() != Some(ch) {
                    return false;
                }
                if closers.is_empty() {
                    // The `:` need not follow straight away: `[q] x: v` is a
                    // key holding two nodes, which the validator reports.
                    let rest = &line[idx + 1..];
                    let comment = [" #", "\t#"].iter().filter_map(|c| rest.find(c)).min();
                    return rest[..comment.unwrap_or(rest.len())]
                        .match_indices(':')
                        .any(|(i, _)| is_colon_a_mapping_indicator(line, idx + 1 + i, 0));
                }
            }
            // A quote mid-scalar (`[a'b]`) is content.
            '"' | '\'' if matches!(prev, ' ' | '\t' | '[' | '{' | ',' | ':') => {
                let (_, closed) = if ch == '"' {
                    scan_double_quoted(&mut chars, idx)
                } else {
                    scan_single_quoted(&mut chars, idx)
                };
                if !closed {
                    return false;
                }
            }
            '#' if matches!(prev, ' ' | '\t') => return false,
            _ => {}
        }
        prev = ch;
    }
    false
}

/// Whether a `-` or `+` following `line_prefix`, the text of its line before
/// it, is a block scalar header's chomping indicator: the last character
/// other than an indentation digit is the header's `|` or `>`.
fn is_chomping_indicator(line_prefix: &str) -> bool {
    line_prefix
        .bytes()
        .rev()
        .find(|b| !b.is_ascii_digit())
        .is_some_and(|b| b == b'|' || b == b'>')
}

/// Tokenize YAML input with whitespace validation
pub fn lex(input: &str) -> Vec<(SyntaxKind, &str)> {
    // The parser discards the validation errors: the line-length and line-ending checks are off
    // (they only add errors; the tokens are the same).
    let config = ValidationConfig {
        max_line_length: None,
        enforce_consistent_line_endings: false,
    };
    lex_with_validation_config(input, &config).0
}

/// Configuration for whitespace and formatting validation
pub struct ValidationConfig {
    /// Maximum line length (None = no limit)
    pub max_line_length: Option<usize>,
    /// Whether to enforce consistent line endings
    pub enforce_consistent_line_endings: bool,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        Self {
            max_line_length: Some(120), // Default to 120 characters
            enforce_consistent_line_endings: true,
        }
    }
}

/// Record a "line too long" error if the line ending at `end` exceeds the
/// configured maximum.
fn check_line_length(
    errors: &mut Vec<WhitespaceError>,
    config: &ValidationConfig,
    line_start: usize,
    end: usize,
) {
    let Some(max_len) = config.max_line_length else {
        return;
    };
    let line_length = end - line_start;
    if line_length > max_len {
        errors.push(WhitespaceError {
            message: format!("Line too long ({line_length} > {max_len} characters)"),
            range: line_start..end,
            category: WhitespaceErrorCategory::LineTooLong,
        });
    }
}

/// Record the line ending style on first sight, and flag any later one that
/// disagrees with it.
fn note_line_ending<'a>(
    errors: &mut Vec<WhitespaceError>,
    config: &ValidationConfig,
    detected: &mut Option<&'a str>,
    line_ending: &'a str,
    range: std::ops::Range<usize>,
) {
    if !config.enforce_consistent_line_endings {
        return;
    }
    match *detected {
        Some(seen) if seen != line_ending => errors.push(WhitespaceError {
            message: "Inconsistent line endings detected".to_string(),
            range,
            category: WhitespaceErrorCategory::MixedLineEndings,
        }),
        Some(_) => {}
        None => *detected = Some(line_ending),
    }
}

/// Tokenize YAML input with custom validation configuration
pub fn lex_with_validation_config<'a>(
    input: &'a str,
    config: &ValidationConfig,
) -> (Vec<(SyntaxKind, &'a str)>, Vec<WhitespaceError>) {
    let mut state = LexState::new(input, config);
    while let Some((start_idx, ch)) = state.chars.next() {
        state.lex_char(start_idx, ch);
    }
    state.finish()
}

/// The lexer's state while it walks the input.
struct LexState<'a, 'c> {
    input: &'a str,
    config: &'c ValidationConfig,
    chars: Cursor<'a>,
    tokens: Vec<(SyntaxKind, &'a str)>,
    errors: Vec<WhitespaceError>,
    /// Offset of the start of the current line.
    line_start: usize,
    detected_line_ending: Option<&'a str>,
    /// Depth of the flow collections the lexer is inside.
    flow_depth: u32,
    /// The block scalar whose body is still running. All of the body is
    /// literal text, so a `{` or `[` there must not open a flow collection:
    /// the depth would never come back down and every later `,` in the file
    /// would lex as a delimiter.
    block_scalar: Option<BlockScalarBody>,
    /// Number of tokens when the last block scalar body ended. The text
    /// tokens before it may be body lines, which no line continues.
    block_scalar_end: usize,
}

impl<'a, 'c> LexState<'a, 'c> {
    fn new(input: &'a str, config: &'c ValidationConfig) -> Self {
        Self {
            input,
            config,
            chars: Cursor::new(input),
            // About a token per 4 bytes (median over the corpora; 1 per 3.2 at the 90th
            // percentile): sized for most texts not to grow (at an eighth of the length, 92% of
            // the texts grew it, once or twice).
            tokens: Vec::with_capacity(input.len() / 3 + 8),
            errors: Vec::new(),
            line_start: 0,
            detected_line_ending: None,
            flow_depth: 0,
            block_scalar: None,
            block_scalar_end: 0,
        }
    }

    /// Push a token for `input[start..end]`.
    fn push(&mut self, kind: SyntaxKind, start: usize, end: usize) {
        self.tokens.push((kind, &self.input[start..end]));
    }

    /// Push `input[start..end]` as a plain scalar token.
    fn push_scalar(&mut self, start: usize, end: usize) {
        let text = &self.input[start..end];
        self.tokens.push((classify_scalar(text), text));
    }

    /// Push a quoted-string token, marking it UNTERMINATED_STRING when the
    /// closing quote was never reached.
    fn push_quoted_string(&mut self, start: usize, end: usize, found_closing: bool) {
        let kind = if found_closing {
            SyntaxKind::STRING
        } else {
            SyntaxKind::UNTERMINATED_STRING
        };
        self.push(kind, start, end);
    }

    /// Read a plain scalar that starts at `start`, whose body begins at
    /// `body_start`, classify it, and push it as one token.
    ///
    /// The characters before `body_start` have already been consumed by the
    /// caller (`-`, `+`, `.`, ...) and stay part of the scalar text.
    fn push_plain_scalar(&mut self, start: usize, body_start: usize, absorb_spaces: bool) {
        let end = self.read_plain_scalar_body(body_start, absorb_spaces, false);
        self.push_scalar(start, end);
    }

    /// Read a plain-scalar body starting at `start_idx`, returning where it
    /// ends. `:` is content unless it is a mapping indicator, `#` unless it
    /// starts a comment, and the indicators that only count at the start of
    /// a node are content here.
    ///
    /// `absorb_spaces` folds an internal whitespace run into the scalar when
    /// more scalar content follows, as a plain scalar spanning several words
    /// requires. A block scalar's chomping indicator (`|-`, `>-`) is a token
    /// in its own right, so that caller passes false.
    ///
    /// `stop_at_chomping_plus` ends the body at a `+` after nothing but
    /// digits, for a scalar that is a block scalar header's indentation
    /// indicator, so that `|2+` keeps the `+` as its own token.
    fn read_plain_scalar_body(
        &mut self,
        start_idx: usize,
        absorb_spaces: bool,
        stop_at_chomping_plus: bool,
    ) -> usize {
        let input = self.input;
        let flow_depth = self.flow_depth;
        let mut end_idx = start_idx;
        while let Some((idx, ch)) = self.chars.peek().copied() {
            // Most of a scalar: characters that none of the tests below stops at (not white
            // space, a break, `:`, `#`, `+` or a YAML special character).
            if ch.is_ascii_alphanumeric() || matches!(ch, '.' | '/' | '_' | '=' | '@') {
                end_idx = self.chars.skip_ascii(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'_' | b'=' | b'@')
                });
                continue;
            }
            // Intra-line whitespace belongs to the scalar when more scalar
            // content follows on the same line. Without this a space ended
            // the body, so `-{ [a]: v }` lexed `[` as a flow collection
            // rather than scalar content.
            if absorb_spaces && (ch == ' ' || ch == '\t') {
                if !plain_scalar_continues_past_whitespace(input, idx, flow_depth) {
                    break;
                }
                end_idx = self.chars.skip_ascii(|b| b == b' ' || b == b'\t');
                continue;
            }
            if is_white_or_break(ch) {
                break;
            }
            // What comes before the `:` is this scalar's text, even a quote
            // in it: `[p":a]` holds the scalar `p":a`.
            if ch == ':' && is_colon_followed_by_separator(input, idx, flow_depth) {
                break;
            }
            if ch == '#' && is_hash_a_comment_start(input, idx) {
                break;
            }
            if stop_at_chomping_plus
                && ch == '+'
                && input[start_idx..idx].bytes().all(|b| b.is_ascii_digit())
            {
                break;
            }
            // `-` and `+` are indicators only where a node starts (a sequence
            // entry, or a block-scalar chomping suffix); inside a body they
            // are content, so `++` is the single scalar `++`.
            // `?`, `|`, `>`, `&`, `*`, `!` and `%` are indicators only at the
            // start of a node (YAML 1.2 section 7.1), so they are content
            // here too: `+?`, `a|b` and `a: b%c` are each one scalar.
            if is_yaml_special_except(ch, "-+:#'\"?|>&*!%")
                && !(flow_depth == 0 && matches!(ch, ',' | '[' | ']' | '{' | '}'))
            {
                break;
            }
            end_idx = idx + ch.len_utf8();
            self.chars.next();
        }
        end_idx
    }

    /// Whether a node, and so a node property, block scalar header or
    /// explicit key, may start here. Nothing starts inside a block scalar's
    /// body, which is literal text: `a: |\n  >'\nb: ''\n` holds `>'`, where
    /// reading the `>` as a header left the quote to open a quoted scalar
    /// that ran on into `b`.
    fn node_can_start(&self) -> bool {
        !in_block_scalar_body(self.block_scalar, self.line_start)
            && node_property_can_start(&self.tokens)
    }

    /// Whether a tag, anchor or alias may start at `idx`. A line continuing
    /// a plain scalar is inside that node already, so there they are
    /// content, read by plain-scalar rules: as a tag `!b:` in
    /// `{ a\n  !b: 1 }` took the `:` that follows the key.
    fn property_can_start(&self, idx: usize) -> bool {
        self.node_can_start() && !self.opens_plain_scalar_continuation_line(idx)
    }

    /// Whether a block scalar header may start at `idx`.
    fn block_scalar_header_can_start(&self, idx: usize) -> bool {
        self.flow_depth == 0
            && self.node_can_start()
            && !self.opens_plain_scalar_continuation_line(idx)
    }

    /// Whether the character at `idx` opens a line following a plain scalar.
    ///
    /// Such a line either continues that scalar or starts a new implicit
    /// key, and an implicit key fits on one line.
    /// In block context the line has to be indented past the collection
    /// the scalar is in: at its column a line starts the next entry, as in
    /// `a: 1\n'b: 2\n`.
    fn opens_plain_scalar_continuation_line(&self, idx: usize) -> bool {
        use SyntaxKind::*;
        self.input[self.line_start..idx]
            .chars()
            .all(|c| c == ' ' || c == '\t')
            && (self.flow_depth > 0
                || parent_column(&self.tokens)
                    .map_or(true, |column| idx - self.line_start > column))
            && self
                .tokens
                .iter()
                .enumerate()
                .rev()
                .find(|(_, (kind, _))| !matches!(kind, WHITESPACE | INDENT | NEWLINE))
                .is_some_and(|(i, (kind, _))| {
                    i >= self.block_scalar_end
                        && matches!(kind, STRING | INT | FLOAT | BOOL | NULL | MERGE_KEY)
                })
    }

    /// Lex the token starting with `ch`, which has just been consumed.
    fn lex_char(&mut self, start_idx: usize, ch: char) {
        use SyntaxKind::*;

        match ch {
            // A BOM is not content and takes no column, so the line starts
            // after it.
            '\u{FEFF}'
                if self.flow_depth == 0
                    && start_idx == self.line_start
                    && bom_starts_document(&self.tokens, self.input, start_idx) =>
            {
                self.push(BOM, start_idx, start_idx + ch.len_utf8());
                self.line_start = start_idx + ch.len_utf8();
            }
            // Context-aware hyphen handling
            '-' => self.lex_dash(start_idx),
            '+' => self.lex_plus(start_idx),
            ':' => self.lex_colon(start_idx),
            // An explicit-key indicator, like the node properties below, only
            // at the start of a node: `a ?b` is the scalar `a ?b`, not a key
            // indicator inside it, and so is `a\n? b`.
            //
            // Per YAML 1.2 `c-complex-mapping-key` the `?` must also be
            // followed by a space or a line break to be an indicator. Without
            // that test `a: ?!!r{2}x` opened an explicit key and then read
            // `!!r` as a tag, which stranded the rest of the line; PyYAML
            // reads the value as the plain scalar `?!!r{2}x`.
            //
            // In a flow collection a `?` before a flow indicator cannot
            // start a plain scalar (`ns-plain-first`), so `{?, a}` has an
            // empty explicit key, as PyYAML reads it. The validator reports
            // the space missing after it.
            '?' if self.property_can_start(start_idx)
                && self.chars.peek().map_or(true, |(_, next)| {
                    is_white_or_break(*next)
                        || (self.flow_depth > 0 && matches!(next, ',' | '[' | ']' | '{' | '}'))
                }) =>
            {
                self.push(QUESTION, start_idx, start_idx + 1)
            }
            // A flow indicator inside a block scalar's body is literal
            // text, so it neither opens nor closes a collection. Read the
            // rest of the line as the scalar content it is.
            //
            // The same goes for a `#`: the body is taken verbatim, so
            // `- >\n  # detected\n` holds the content `# detected` rather
            // than a comment (test suite 4QFQ). A line that does not reach
            // the body's column has left it, where a comment is a comment
            // again (T26H).
            '[' | ']' | '{' | '}' | ',' | '#'
                if in_block_scalar_body(self.block_scalar, self.line_start) =>
            {
                self.push_plain_scalar(start_idx, start_idx + 1, true);
            }
            // So is one opening a line after a plain scalar, unless it opens
            // a collection that is an implicit key: opening a collection in
            // `f\n[\n---\n` hid the `---` that ends the document, as one
            // after a `]` did in `f\n]{\n---\n` and after `[]` in
            // `f\n[][\n---\n`.
            '[' | '{' | ']' | '}'
                if self.flow_depth == 0
                    && self.opens_plain_scalar_continuation_line(start_idx)
                    && !(matches!(ch, '[' | '{')
                        && flow_collection_is_implicit_key(self.input, start_idx)) =>
            {
                self.push_plain_scalar(start_idx, start_idx + 1, true);
            }
            '[' => {
                self.flow_depth += 1;
                self.push(LEFT_BRACKET, start_idx, start_idx + 1);
            }
            ']' => {
                self.flow_depth = self.flow_depth.saturating_sub(1);
                self.push(RIGHT_BRACKET, start_idx, start_idx + 1);
            }
            '{' => {
                self.flow_depth += 1;
                self.push(LEFT_BRACE, start_idx, start_idx + 1);
            }
            '}' => {
                self.flow_depth = self.flow_depth.saturating_sub(1);
                self.push(RIGHT_BRACE, start_idx, start_idx + 1);
            }
            // A `,` separates entries only inside a flow collection. In block
            // context it is ordinary plain-scalar content (`a: x\n  ,y`), so
            // fall through to the catch-all arm, which already keeps flow
            // indicators inside a block scalar.
            ',' if self.flow_depth > 0 => self
                .tokens
                .push((COMMA, &self.input[start_idx..start_idx + 1])),
            // A block-scalar header, like the node properties below, only at
            // the start of a node: `a|b` is the scalar `a|b`, not a header
            // inside it. `>` reaches this arm only at a node start already,
            // because the catch-all treats it as scalar content.
            //
            // And only in block context: YAML 1.2 section 8.1 gives block
            // scalars a block-context production only, so inside a flow
            // collection a `|` is plain content and `[|, x]` has two
            // entries, as saphyr reads it.
            //
            // A line after a plain scalar continues it, as a block scalar
            // cannot be an implicit key: `1\n|x\n  # t\n` is `1 |x`.
            '|' if self.block_scalar_header_can_start(start_idx) => {
                self.block_scalar = Some(BlockScalarBody::new(
                    &self.tokens,
                    self.input,
                    self.line_start,
                ));
                self.push(PIPE, start_idx, start_idx + 1)
            }
            '>' if self.block_scalar_header_can_start(start_idx) => {
                self.block_scalar = Some(BlockScalarBody::new(
                    &self.tokens,
                    self.input,
                    self.line_start,
                ));
                self.push(GREATER, start_idx, start_idx + 1)
            }
            // `<<` is a merge key only when it is the whole plain scalar, per
            // the YAML 1.1 merge type: `<<foo`, `<<#` and `<< x` are scalars
            // of their own.
            '<' => {
                self.lex_plain_scalar(start_idx, ch);
                if let Some(token) = self.tokens.last_mut().filter(|t| t.1 == "<<") {
                    token.0 = MERGE_KEY;
                }
            }
            // Like tags, only at the start of a node: `a: x &anc` is the
            // scalar `x &anc`, not an anchored value.
            '&' if self.property_can_start(start_idx) => {
                // Check if this is an anchor definition
                let name = read_anchor_name_from(&mut self.chars, self.input, start_idx + 1);
                if !name.is_empty() {
                    self.push(ANCHOR, start_idx, start_idx + 1 + name.len());
                } else {
                    self.push(AMPERSAND, start_idx, start_idx + 1);
                }
            }
            '*' if self.property_can_start(start_idx) => {
                // Check if this is an alias reference
                let name = read_anchor_name_from(&mut self.chars, self.input, start_idx + 1);
                if !name.is_empty() {
                    self.push(REFERENCE, start_idx, start_idx + 1 + name.len());
                } else {
                    self.push(ASTERISK, start_idx, start_idx + 1);
                }
            }
            // A quote is literal text in a block scalar's body, and content on
            // a line continuing a plain scalar, as the flow indicators above:
            // `a: b\n  'c\nd: 1\n` holds `b 'c`, where scanning it as quoted
            // ran on to the next quote in the file, and `[b\n "x", c]` holds
            // `b "x"`.
            '"' | '\''
                if in_block_scalar_body(self.block_scalar, self.line_start)
                    || self.opens_plain_scalar_continuation_line(start_idx) =>
            {
                self.push_plain_scalar(start_idx, start_idx + 1, true);
            }
            '"' => {
                let (end_idx, found_closing) = scan_double_quoted(&mut self.chars, start_idx);
                self.push_quoted_string(start_idx, end_idx, found_closing);
            }
            '\'' => {
                let (end_idx, found_closing) = scan_single_quoted(&mut self.chars, start_idx);
                self.push_quoted_string(start_idx, end_idx, found_closing);
            }

            // Document end
            '.' => self.lex_dot(start_idx),

            // Comments.
            //
            // Per YAML 1.2 section 6.6, `#` starts a comment only when
            // preceded by whitespace. At outer-token boundary we have
            // one of two situations:
            //   - `#` at the start of the document / a fresh line, or
            //     after a whitespace/newline: legitimate comment.
            //   - `#` glued to the tail of a non-whitespace token
            //     (e.g., `]#foo`): the input violates 4.6.6. The
            //     validator's check_comment_token_whitespace flags
            //     this at validation time; the lexer still emits a
            //     COMMENT token so downstream error reporting has
            //     something to point at.
            //
            // A `#` glued to plain-scalar content never gets here: the
            // scalar reader takes it in (`a#: v`, `:#: v`).
            '#' => self.lex_comment(start_idx),

            // Tags
            //
            // Only at the start of a node: mid-scalar a `!` is ordinary
            // content (`a: x !!b` is the scalar `x !!b`), which the
            // catch-all arm below reads with plain-scalar rules.
            '!' if self.property_can_start(start_idx) => self.lex_tag(start_idx),

            '%' => self.lex_percent(start_idx),

            // Newlines
            '\n' | '\r' => self.lex_line_break(start_idx, ch),

            // Whitespace (spaces and tabs)
            ' ' | '\t' => self.lex_whitespace(start_idx, ch),

            // Everything else is scalar content
            _ => self.lex_plain_scalar(start_idx, ch),
        }
    }

    fn lex_dash(&mut self, start_idx: usize) {
        use SyntaxKind::*;
        if self.flow_depth == 0
            && start_idx == self.line_start
            && self.input[start_idx..].starts_with("---")
            && self.input[start_idx + 3..]
                .chars()
                .next()
                .map_or(true, ends_document_marker)
        {
            self.chars.next();
            self.chars.next();
            self.push(DOC_START, start_idx, start_idx + 3);
        } else {
            // Check if this hyphen should be treated as a sequence marker
            // It's a sequence marker if:
            // 1. It's at the beginning of a line (after optional indentation)
            // 2. OR it follows a value context (after ? or : plus whitespace)
            // AND it's followed by whitespace or end of input

            // Check if preceded only by whitespace from start of line
            let line_start_pos = self.line_start;
            let before_dash = &self.input[line_start_pos..start_idx];
            let only_whitespace_before = before_dash.chars().all(|c| c == ' ' || c == '\t');

            // Check if the previous non-whitespace token was ? or :
            // indicating a value context where sequences are allowed.
            //
            // A DASH counts too: an entry's own node may be a nested
            // sequence, so `- - x` is `[[x]]`, as saphyr and PyYAML
            // both read it and as value.rs already writes it.
            let after_value_indicator = self
                .tokens
                .iter()
                .rev()
                .find(|(kind, _)| !matches!(kind, WHITESPACE | INDENT))
                .is_some_and(|(kind, _)| matches!(kind, QUESTION | COLON | DASH | DOC_START));

            // Check if followed by whitespace or end of input
            let followed_by_whitespace_or_end = self
                .chars
                .peek()
                .map_or(true, |(_, next_ch)| is_white_or_break(*next_ch));

            // A line continuing a plain scalar holds content: `e\n- [` is
            // the scalar `e - [`.
            let is_sequence_marker = ((only_whitespace_before
                && !self.opens_plain_scalar_continuation_line(start_idx))
                || after_value_indicator)
                && followed_by_whitespace_or_end;

            if is_sequence_marker {
                self.push(DASH, start_idx, start_idx + 1);
            } else {
                // This hyphen is part of a scalar value. Use the
                // plain-scalar body reader so embedded `:` (not
                // followed by whitespace) stays inside the scalar.
                //
                // A `-` closing a block-scalar header (`|-`, `>2-`)
                // is a chomping indicator and stands alone, so it
                // must not swallow the space that follows it. Same
                // test as the `+` arm below.
                self.push_plain_scalar(
                    start_idx,
                    start_idx + 1,
                    !is_chomping_indicator(&self.input[self.line_start..start_idx]),
                );
            }
        }
    }

    fn lex_plus(&mut self, start_idx: usize) {
        // `+` is a chomping indicator when it closes a block-scalar header
        // (`|+`, `|2+`, `>+`, `>2+`). Anywhere else it is content, so it
        // starts a plain scalar: `+.INF` is one FLOAT, `+ x: v` is keyed
        // `+ x`, and `+: v` is keyed `+`. A bare PLUS token no parse rule
        // claims would leave the `+` invisible.
        if is_chomping_indicator(&self.input[self.line_start..start_idx]) {
            self.push(SyntaxKind::PLUS, start_idx, start_idx + 1);
        } else {
            self.push_plain_scalar(start_idx, start_idx + 1, true);
        }
    }

    fn lex_colon(&mut self, start_idx: usize) {
        use SyntaxKind::*;
        // Colon at token boundary. It's a mapping indicator when
        // its lookahead matches is_colon_a_mapping_indicator, OR
        // when we're in flow context and the immediately
        // preceding meaningful token was a JSON-like key (a quoted
        // scalar or a flow collection), which YAML 1.2 lets an
        // adjacent value follow:
        //     { "foo"\n  :bar }    -- COLON after "foo"
        // vs.
        //     [ ::vector ]         -- `:` starts a plain scalar
        //     [ a\n :b ]           -- `:b` continues the scalar `a`
        let preceded_by_json_key = self.flow_depth > 0
            && self
                .tokens
                .iter()
                .rev()
                .find(|(k, _)| !matches!(k, WHITESPACE | INDENT | NEWLINE | COMMENT))
                .is_some_and(|(k, text)| {
                    matches!(k, RIGHT_BRACKET | RIGHT_BRACE)
                        || (*k == STRING && text.starts_with(['"', '\'']))
                });
        if preceded_by_json_key
            || is_colon_a_mapping_indicator(self.input, start_idx, self.flow_depth)
        {
            self.push(COLON, start_idx, start_idx + 1);
        } else {
            // This colon starts (or continues) a plain scalar such
            // as a URL, `::vector`, or a timestamp. The shared body
            // reader knows the rules: a `:` not followed by space is
            // content, flow indicators are content in block context,
            // and a `#` glued to content is not a comment.
            self.push_plain_scalar(start_idx, start_idx + 1, true);
        }
    }

    fn lex_dot(&mut self, start_idx: usize) {
        use SyntaxKind::*;
        // Check for three dots (document end marker)
        // `...` is the document-end marker only when it is the whole
        // line, in block context: the same three conditions the `---`
        // arm applies. `...w` is the plain scalar `...w`, as both
        // saphyr and PyYAML read it, and `---x` already was.
        let is_doc_end = self.flow_depth == 0
            && start_idx == self.line_start
            && self.input[start_idx..].starts_with("...")
            && self.input[start_idx + 3..]
                .chars()
                .next()
                .map_or(true, ends_document_marker);
        if is_doc_end && self.chars.peek() == Some(&(start_idx + 1, '.')) {
            self.chars.next(); // consume second .
            if self.chars.peek() == Some(&(start_idx + 2, '.')) {
                self.chars.next(); // consume third .
                self.push(DOC_END, start_idx, start_idx + 3);
            } else {
                // Two dots -- continue as plain scalar body (allows
                // embedded `-` and `:` per YAML plain-scalar rules).
                self.push_plain_scalar(start_idx, start_idx + 2, true);
            }
        } else {
            // Single dot -- part of plain scalar body.
            self.push_plain_scalar(start_idx, start_idx + 1, true);
        }
    }

    fn lex_comment(&mut self, start_idx: usize) {
        use SyntaxKind::*;
        let end_idx = self.chars.skip_to_line_break();
        self.push(COMMENT, start_idx, end_idx);
    }

    fn lex_tag(&mut self, start_idx: usize) {
        use SyntaxKind::*;
        // Handle tag indicators - both ! and !!
        let mut end_idx = start_idx + 1;

        // A verbatim tag `!<uri>` runs to its closing `>` and may hold
        // any URI character, commas included, so take it whole.
        if let Some((_, '<')) = self.chars.peek() {
            self.chars.next(); // consume '<'
            end_idx = start_idx + 2;
            // An unterminated `!<x` stops at the line break, which
            // the main loop then handles; the text still round-trips
            // and the parser reports the malformed tag.
            while let Some((idx, ch)) = self.chars.peek() {
                if matches!(ch, '\n' | '\r') {
                    break;
                }
                end_idx = *idx + ch.len_utf8();
                let closing = *ch == '>';
                self.chars.next();
                if closing {
                    break;
                }
            }
            self.push(TAG, start_idx, end_idx);
            return;
        }

        // Check for double exclamation (global tag)
        if let Some((_, '!')) = self.chars.peek() {
            self.chars.next(); // consume the second !
            end_idx = start_idx + 2;
        } else {
            // A named handle `!e!` is a run of word characters
            // closed by another `!`.
            let word = self.input[start_idx + 1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .map_or(self.input.len(), |i| start_idx + 1 + i);
            if word > start_idx + 1 && self.input[word..].starts_with('!') {
                while self.chars.peek().is_some_and(|(idx, _)| *idx <= word) {
                    self.chars.next();
                }
                end_idx = word + 1;
            }
        }

        // Read the tag name after the ! or !!
        while let Some((idx, ch)) = self.chars.peek() {
            if !is_tag_char(*ch) {
                break;
            }
            end_idx = *idx + ch.len_utf8();
            self.chars.next();
        }

        self.push(TAG, start_idx, end_idx);
    }

    fn lex_percent(&mut self, start_idx: usize) {
        use SyntaxKind::*;
        // A directive is only a `%` that opens a line. Anywhere else,
        // inside a flow collection, or in a block scalar's body
        // (`--- |\n%!PS-Adobe-2.0\n`), it is ordinary scalar content.
        if self.flow_depth > 0
            || start_idx != self.line_start
            || in_block_scalar_body(self.block_scalar, self.line_start)
        {
            // Treat as part of a plain scalar. The shared body reader
            // knows the rules this needs: flow indicators are content
            // in block context, and an internal whitespace run stays
            // in the scalar when more content follows on the line, so
            // `r % {` is the single scalar `r % {`.
            self.push_plain_scalar(start_idx, start_idx + 1, true);
        } else {
            // At the start of a line in block context, % starts a directive,
            // which runs to the end of the line or to a comment: a `#` after
            // white space. The white space and comment are lexed as usual.
            let line_end = self.input[start_idx..]
                .find(['\n', '\r'])
                .map_or(self.input.len(), |i| start_idx + i);
            let end_idx = self.input[start_idx..line_end]
                .match_indices('#')
                .map(|(i, _)| start_idx + i)
                .find(|&i| is_hash_a_comment_start(self.input, i))
                .map_or(line_end, |i| {
                    start_idx + self.input[start_idx..i].trim_end_matches([' ', '\t']).len()
                });
            while self.chars.next_if(|(idx, _)| *idx < end_idx).is_some() {}
            self.push(DIRECTIVE, start_idx, end_idx);
        }
    }

    /// Lex a line break: `\n`, `\r\n` or a lone `\r`.
    fn lex_line_break(&mut self, start_idx: usize, ch: char) {
        check_line_length(&mut self.errors, self.config, self.line_start, start_idx);

        let (line_ending, end_pos) = if ch == '\n' {
            ("\n", start_idx + 1)
        } else if let Some((_, '\n')) = self.chars.peek() {
            self.chars.next();
            ("\r\n", start_idx + 2)
        } else {
            ("\r", start_idx + 1)
        };

        note_line_ending(
            &mut self.errors,
            self.config,
            &mut self.detected_line_ending,
            line_ending,
            start_idx..end_pos,
        );

        self.push(SyntaxKind::NEWLINE, start_idx, end_pos);
        self.line_start = end_pos;
        let in_body = self.block_scalar.is_some();
        track_block_scalar_body(
            &self.tokens,
            self.input,
            self.line_start,
            &mut self.block_scalar,
        );
        if in_body && self.block_scalar.is_none() {
            self.block_scalar_end = self.tokens.len();
        }
    }

    fn lex_whitespace(&mut self, start_idx: usize, ch: char) {
        use SyntaxKind::*;
        let end_idx = self.chars.skip_ascii(|b| b == b' ' || b == b'\t');
        let has_tabs = ch == '\t' || self.input.as_bytes()[start_idx + 1..end_idx].contains(&b'\t');

        // White space starting a line is its indentation. A line also starts
        // after a BOM, which takes no column.
        let is_indentation = start_idx == self.line_start;

        if is_indentation {
            // Check for tab characters in indentation (forbidden in YAML)
            if has_tabs {
                self.errors.push(WhitespaceError {
                    message: "Tab character used for indentation (forbidden in YAML)".to_string(),
                    range: start_idx..end_idx,
                    category: WhitespaceErrorCategory::TabIndentation,
                });
            }
            self.push(INDENT, start_idx, end_idx);
        } else {
            self.push(WHITESPACE, start_idx, end_idx);
        }
    }

    fn lex_plain_scalar(&mut self, start_idx: usize, ch: char) {
        // Only a header's indentation indicator can precede its chomping
        // `+`. A `|` reaching here is content: `1\n|+\n` is `1 |+`.
        let after_header = ch.is_ascii_digit()
            && matches!(
                self.tokens.last(),
                Some((SyntaxKind::PIPE | SyntaxKind::GREATER, _))
            );
        let end = self.read_plain_scalar_body(start_idx + ch.len_utf8(), true, after_header);
        self.push_scalar(start_idx, end);
    }

    fn finish(self) -> (Vec<(SyntaxKind, &'a str)>, Vec<WhitespaceError>) {
        let mut whitespace_errors = self.errors;
        // Check the final line length if there's no trailing newline
        if let Some(max_len) = self.config.max_line_length {
            let final_line_length = self.input.len() - self.line_start;
            if final_line_length > max_len && final_line_length > 0 {
                whitespace_errors.push(WhitespaceError {
                    message: format!("Line too long ({final_line_length} > {max_len} characters)"),
                    range: self.line_start..self.input.len(),
                    category: WhitespaceErrorCategory::LineTooLong,
                });
            }
        }
        (self.tokens, whitespace_errors)
    }
}

/// Map a plain-scalar's semantic classification onto the concrete
/// [`SyntaxKind`] the tokenizer emits. The classification itself lives
/// in [`ScalarValue::classify_plain`](yaml_edit::ScalarValue::classify_plain);
/// this function only translates enum variants.
fn classify_scalar(text: &str) -> SyntaxKind {
    use yaml_edit::CoreScalarType;
    // Null and boolean spellings start with `n`, `N`, `~`, `t`, `T`, `f` or `F` (or are empty),
    // numbers with a digit, a sign or `.`: any other first character makes a string, which
    // `classify_plain` would find only after testing every spelling (most scalars: keys, names).
    if text.as_bytes().first().is_some_and(|b| {
        !b.is_ascii_digit()
            && !matches!(
                b,
                b'+' | b'-' | b'.' | b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F'
            )
    }) {
        return SyntaxKind::STRING;
    }
    match yaml_edit::ScalarValue::classify_plain(text) {
        CoreScalarType::Null => SyntaxKind::NULL,
        CoreScalarType::Boolean => SyntaxKind::BOOL,
        CoreScalarType::Integer => SyntaxKind::INT,
        CoreScalarType::Float => SyntaxKind::FLOAT,
        CoreScalarType::String => SyntaxKind::STRING,
    }
}

/// Common set of YAML special characters
// (The list `is_yaml_special` matches, kept for its test.)
#[cfg(test)]
const YAML_SPECIAL_CHARS: &str = ":+-?[]{},'|>&*!%\"#";

/// Check if a character has special meaning in YAML
/// Whether a node property (`!tag`, `&anchor`, `*alias`) may start here.
///
/// Per YAML 1.2 §7.1 these apply to the start of a node. Once a plain
/// scalar has begun on the line, a `!` or `&` is ordinary content, so
/// `a: x !!b` is the scalar `x !!b` rather than a tagged node. A preceding
/// space is not enough to start a new node: what matters is whether the
/// last token was scalar content.
/// Whether the character ends a `---` or `...` marker.
///
/// YAML 1.2 `s-white` is space and tab only, and a marker may also end at a
/// line break. Rust's `char::is_whitespace` is Unicode-wide and counts
/// U+00A0 and friends, which are ordinary scalar content here: `"...\u{a0}-"`
/// is one plain scalar, as saphyr and PyYAML both read it.
fn ends_document_marker(ch: char) -> bool {
    matches!(ch, ' ' | '\t' | '\n' | '\r')
}

/// Whether a BOM at the start of a line is a document prefix.
///
/// YAML 1.2 allows a BOM at the start of any document in a stream, not only
/// the first, so one may follow a `---` or `...` line or precede a `---`.
/// Anywhere else it is ordinary content.
fn bom_starts_document(tokens: &[(SyntaxKind, &str)], input: &str, bom_idx: usize) -> bool {
    use SyntaxKind::*;
    let after_marker = tokens
        .iter()
        .rev()
        .find(|(kind, _)| !matches!(kind, WHITESPACE | INDENT | NEWLINE | COMMENT))
        .map_or(true, |(kind, _)| matches!(kind, DOC_START | DOC_END));
    let rest = &input[bom_idx + '\u{FEFF}'.len_utf8()..];
    let before_marker =
        rest.starts_with("---") && rest[3..].chars().next().map_or(true, ends_document_marker);
    after_marker || before_marker
}

fn node_property_can_start(tokens: &[(SyntaxKind, &str)]) -> bool {
    for (kind, _) in tokens.iter().rev() {
        match kind {
            // Skip the layout between the property and what precedes it.
            SyntaxKind::WHITESPACE | SyntaxKind::INDENT => continue,
            // A node starts after these.
            SyntaxKind::NEWLINE
            | SyntaxKind::COLON
            | SyntaxKind::DASH
            | SyntaxKind::QUESTION
            | SyntaxKind::COMMA
            | SyntaxKind::LEFT_BRACKET
            | SyntaxKind::LEFT_BRACE
            | SyntaxKind::DOC_START
            | SyntaxKind::BOM
            | SyntaxKind::TAG
            | SyntaxKind::ANCHOR
            // A bare `&` or `*` is punctuation rather than content, so a
            // property may still follow it.
            | SyntaxKind::AMPERSAND
            | SyntaxKind::ASTERISK => return true,
            // Anything else is content the property would sit inside.
            _ => return false,
        }
    }
    // Nothing before it: the very start of the input is a node start.
    true
}

/// Whether the line starting at `line_start` carries no content.
fn line_is_blank(input: &str, line_start: usize) -> bool {
    input[line_start..]
        .split(['\n', '\r'])
        .next()
        .unwrap_or_default()
        .trim_matches([' ', '\t'])
        .is_empty()
}

/// Leading whitespace of the line starting at `line_start`.
fn line_indent(input: &str, line_start: usize) -> usize {
    let line = &input[line_start..];
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// A block scalar whose body the lexer is reading.
#[derive(Clone, Copy)]
struct BlockScalarBody {
    /// Start of the line carrying the header; the body begins on the next.
    header_line_start: usize,
    /// Index of the header's `|` or `>` token.
    header_token: usize,
    /// Column an explicit indentation indicator counts from.
    parent_column: usize,
    /// Leftmost column a body line may start at. A document's root block
    /// scalar sits at indentation -1, so its body may start at column 0;
    /// any other body has to be indented past its header's line and the
    /// collection it is a node of: in `- a: |\n  b: 1\n` the `b` line is
    /// the mapping's next entry.
    min_indent: usize,
    /// The body's own column, set by an explicit indentation indicator or
    /// else by its first content line.
    indent: Option<usize>,
}

impl BlockScalarBody {
    /// Start tracking for a header found on the line at `line_start`, with
    /// `tokens` holding everything lexed before it.
    fn new(tokens: &[(SyntaxKind, &str)], input: &str, line_start: usize) -> Self {
        // Only `---` and node properties before the header, with nothing
        // indenting the line, make it the document's root node.
        let is_root = tokens
            .iter()
            .rev()
            .take_while(|(kind, _)| !matches!(kind, SyntaxKind::NEWLINE | SyntaxKind::BOM))
            .all(|(kind, _)| {
                matches!(
                    kind,
                    SyntaxKind::DOC_START
                        | SyntaxKind::WHITESPACE
                        | SyntaxKind::TAG
                        | SyntaxKind::ANCHOR
                )
            });
        let parent_column = parent_column(tokens).unwrap_or(0);
        let min_indent = if is_root {
            0
        } else {
            line_indent(input, line_start).max(parent_column) + 1
        };
        Self {
            header_line_start: line_start,
            header_token: tokens.len(),
            parent_column,
            min_indent,
            indent: None,
        }
    }
}

/// The column of the block collection a node starting after `tokens` is a
/// node of, or `None` at the document root.
///
/// This is the column as the parser records it: the `-` or `?`
/// introducing the node, or for a mapping value the start of its key (the
/// `:` itself when the key is empty or explicit, as an explicit key's
/// mapping sits at its `?` and `:`). When the node opens its line, or
/// continues a plain scalar, the collection is the one the last line with
/// an indicator leaves open. A block scalar's indentation indicator counts
/// from this column, taking the root's as 0 as the parser and libyaml do,
/// although YAML 1.2 puts the root at -1.
fn parent_column(tokens: &[(SyntaxKind, &str)]) -> Option<usize> {
    use SyntaxKind::*;
    for line in tokens.rsplit(|(kind, _)| matches!(kind, NEWLINE | BOM)) {
        let Some(last) = line.iter().rposition(|(kind, _)| {
            !matches!(
                kind,
                WHITESPACE
                    | INDENT
                    | COMMENT
                    | TAG
                    | ANCHOR
                    | STRING
                    | INT
                    | FLOAT
                    | BOOL
                    | NULL
                    | MERGE_KEY
            )
        }) else {
            continue;
        };
        let column = |index: usize| -> usize {
            line[..index]
                .iter()
                .map(|(_, text)| text.chars().count())
                .sum()
        };
        return match line[last].0 {
            DASH | QUESTION => Some(column(last)),
            COLON => {
                // The key starts after the block indicators opening the
                // line. An explicit `:` is one of them, as its value may be
                // a compact mapping: in `: b: |1` that sits at `b`.
                let key = line[..last]
                    .iter()
                    .position(|(kind, _)| {
                        !matches!(kind, WHITESPACE | INDENT | DASH | QUESTION | COLON)
                    })
                    .unwrap_or(last);
                Some(column(key))
            }
            DOC_START | DOC_END => None,
            _ => Some(0),
        };
    }
    None
}

/// Whether the line starting at `line_start` is a `---` or `...` marker.
fn line_is_document_marker(input: &str, line_start: usize) -> bool {
    let line = &input[line_start..];
    (line.starts_with("---") || line.starts_with("..."))
        && line[3..].chars().next().map_or(true, ends_document_marker)
}

/// Update the lexer's block-scalar tracking at the start of a new line.
///
/// A block scalar's body ends at the first following line that is not blank
/// and starts left of the body's column (or, before a content line has set
/// that, left of the leftmost column allowed), or at a document marker,
/// which is the only thing that ends a root body at column 0. This runs for
/// every line ending, CRLF and lone CR included: left to the `\n` arm
/// alone, a CRLF file kept the tracking set and read a later `[` as literal
/// body text rather than a flow collection.
fn track_block_scalar_body(
    tokens: &[(SyntaxKind, &str)],
    input: &str,
    line_start: usize,
    body: &mut Option<BlockScalarBody>,
) {
    let Some(current) = body else {
        return;
    };
    // An explicit indentation indicator fixes the body's column, so a body
    // line less indented than the first one still belongs to it:
    // `- |2\n   x\n  y # z\n` holds the text `y # z`.
    if current.indent.is_none() {
        if let (Some(indicator), _) =
            block_scalar_header(tokens[current.header_token + 1..].iter().copied())
        {
            current.indent = Some(current.parent_column + indicator);
        }
    }
    if line_is_blank(input, line_start) {
        return;
    }
    let indent = line_indent(input, line_start);
    if indent < current.indent.unwrap_or(current.min_indent)
        || line_is_document_marker(input, line_start)
    {
        *body = None;
    } else if current.indent.is_none() {
        // Only spaces indent, so a tab after them is content. As in the
        // parser, tabs count when the spaces alone don't reach the body.
        let spaces = super::support::space_indent(&input[line_start..]);
        current.indent = Some(if spaces >= current.min_indent {
            spaces
        } else {
            indent
        });
    }
}

/// Whether the line starting at `line_start` is part of a block scalar's
/// body, all of which is literal text: `a: |\n  {\nb,c: 1\n` holds the
/// scalar `{`, `- >\n  # detected\n` the text `# detected` (test suite
/// 4QFQ), and `--- |\n%!PS-Adobe-2.0\n` a line that is not a directive
/// (W4TN).
///
/// [`track_block_scalar_body`] drops the tracking once a line ends the body,
/// so this only has to rule out the header's own line.
fn in_block_scalar_body(body: Option<BlockScalarBody>, line_start: usize) -> bool {
    body.is_some_and(|body| body.header_line_start != line_start)
}

/// Whether `ch` may appear in a tag shorthand's suffix.
///
/// YAML 1.2 `ns-tag-char` is any URI character except the flow indicators
/// `,`, `[`, `]`, `{`, `}` and the `!` that would start another tag. That
/// admits plenty the lexer treats as special elsewhere -- `:` in `!!ss:eq`,
/// `-` in `!!ss---` -- so a tag cannot be scanned with the general
/// [`YAML_SPECIAL_CHARS`] set.
fn is_tag_char(ch: char) -> bool {
    if ch.is_whitespace() {
        return false;
    }
    !matches!(ch, ',' | '[' | ']' | '{' | '}' | '!')
}

/// Whether the character is YAML whitespace (`s-white`, space and tab
/// only) or a line break. Unlike `char::is_whitespace` this leaves U+00A0
/// and friends as content, as [`ends_document_marker`] does.
fn is_white_or_break(ch: char) -> bool {
    matches!(ch, ' ' | '\t' | '\n' | '\r')
}

fn is_yaml_special(ch: char) -> bool {
    // `YAML_SPECIAL_CHARS.contains(ch)`, without a search per character.
    matches!(
        ch,
        ':' | '+'
            | '-'
            | '?'
            | '['
            | ']'
            | '{'
            | '}'
            | ','
            | '\''
            | '|'
            | '>'
            | '&'
            | '*'
            | '!'
            | '%'
            | '"'
            | '#'
    )
}

/// Check if character is YAML special, with optional exclusions
fn is_yaml_special_except(ch: char, exclude: &str) -> bool {
    is_yaml_special(ch) && !exclude.contains(ch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string of up to `n` characters from `alphabet`.
    fn strings(alphabet: &[char], n: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..n {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn cursor_walks_as_char_indices_peekable() {
        for text in ["", "a", "é", "a: é\r\n\t#x\u{feff}", "∞'\"\\"] {
            // Every pattern of peeks and takes, for the first 8 steps.
            for pattern in 0..256u32 {
                let mut cursor = Cursor::new(text);
                let mut reference = text.char_indices().peekable();
                for step in 0..8 {
                    if pattern >> step & 1 == 1 {
                        assert_eq!(cursor.peek(), reference.peek(), "{text:?}");
                    } else {
                        assert_eq!(cursor.next(), reference.next(), "{text:?}");
                    }
                }
                let is_a = |&(_, c): &(usize, char)| c == 'a';
                assert_eq!(cursor.next_if(is_a), reference.next_if(is_a), "{text:?}");
                assert_eq!(cursor.collect::<Vec<_>>(), reference.collect::<Vec<_>>());
            }
        }
    }

    /// The byte searches of the quoted-scalar scans, the ASCII runs and the comment scan end
    /// where the character loops they replace end.
    #[test]
    fn scans_agree_with_character_loops() {
        type Peekable<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;
        fn double_by_chars(chars: &mut Peekable<'_>, start_idx: usize) -> (usize, bool) {
            let (mut end_idx, mut escaped) = (start_idx + 1, false);
            for (idx, ch) in chars.by_ref() {
                end_idx = idx + ch.len_utf8();
                if escaped {
                    escaped = false;
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == '"' {
                    return (end_idx, true);
                }
            }
            (end_idx, false)
        }
        fn single_by_chars(chars: &mut Peekable<'_>, start_idx: usize) -> (usize, bool) {
            let mut end_idx = start_idx + 1;
            while let Some((idx, ch)) = chars.next() {
                end_idx = idx + ch.len_utf8();
                if ch == '\'' {
                    if let Some((next_idx, '\'')) = chars.peek() {
                        end_idx = *next_idx + 1;
                        chars.next();
                    } else {
                        return (end_idx, true);
                    }
                }
            }
            (end_idx, false)
        }
        fn run_by_chars(chars: &mut Peekable<'_>, from: usize, keep: fn(char) -> bool) -> usize {
            let mut end = from;
            while let Some(&(idx, ch)) = chars.peek().filter(|(_, c)| keep(*c)) {
                end = idx + ch.len_utf8();
                chars.next();
            }
            end
        }
        let rest = |cursor: Cursor<'_>| cursor.collect::<Vec<_>>();
        for body in strings(&['"', '\\', '\'', 'a', ' ', '\t', 'é', '\n', '\r'], 5) {
            for quote in ['"', '\''] {
                let text = format!("{quote}{body}");
                let mut cursor = Cursor::new(&text);
                let mut reference = text.char_indices().peekable();
                cursor.next();
                reference.next();
                let (got, expected) = if quote == '"' {
                    (
                        scan_double_quoted(&mut cursor, 0),
                        double_by_chars(&mut reference, 0),
                    )
                } else {
                    (
                        scan_single_quoted(&mut cursor, 0),
                        single_by_chars(&mut reference, 0),
                    )
                };
                assert_eq!(got, expected, "{text:?}");
                assert_eq!(rest(cursor), reference.collect::<Vec<_>>(), "{text:?}");
            }
            type Run = (fn(u8) -> bool, fn(char) -> bool);
            let runs: [Run; 2] = [
                (|b| b == b' ' || b == b'\t', |c| c == ' ' || c == '\t'),
                (|b| b.is_ascii_alphanumeric(), |c| c.is_ascii_alphanumeric()),
            ];
            for (bytes, chars) in runs {
                let mut cursor = Cursor::new(&body);
                let mut reference = body.char_indices().peekable();
                assert_eq!(
                    cursor.skip_ascii(bytes),
                    run_by_chars(&mut reference, 0, chars)
                );
                assert_eq!(rest(cursor), reference.collect::<Vec<_>>(), "{body:?}");
            }
            let mut cursor = Cursor::new(&body);
            let mut reference = body.char_indices().peekable();
            let not_break = |c: char| c != '\n' && c != '\r';
            let expected = run_by_chars(&mut reference, 0, not_break);
            assert_eq!(cursor.skip_to_line_break(), expected, "{body:?}");
            assert_eq!(rest(cursor), reference.collect::<Vec<_>>(), "{body:?}");
        }
    }

    #[test]
    fn special_characters_are_those_of_the_list() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            assert_eq!(is_yaml_special(c), YAML_SPECIAL_CHARS.contains(c), "{c:?}");
        }
    }

    /// The shortcut gives what `classify_plain` gives, for every first character (all of ASCII and
    /// some others) before tails that make each kind of spelling.
    #[test]
    fn classify_scalar_agrees_with_classify_plain() {
        use yaml_edit::CoreScalarType;
        let tails = [
            "", "ull", "ULL", "rue", "RUE", "alse", "ALSE", "1", "x1F", "o7", "1.5", ".5", "e5",
            "inf", ".inf", "nan", ".NaN", "nfinity", "_1", "abc", " x", "-1", "0", "1e-3",
        ];
        let firsts = (0u8..128)
            .map(char::from)
            .chain(['é', '\u{a0}', '\u{feff}', '∞']);
        for first in firsts {
            for tail in tails {
                let text = format!("{first}{tail}");
                let expected = match yaml_edit::ScalarValue::classify_plain(&text) {
                    CoreScalarType::Null => SyntaxKind::NULL,
                    CoreScalarType::Boolean => SyntaxKind::BOOL,
                    CoreScalarType::Integer => SyntaxKind::INT,
                    CoreScalarType::Float => SyntaxKind::FLOAT,
                    CoreScalarType::String => SyntaxKind::STRING,
                };
                assert_eq!(classify_scalar(&text), expected, "{text:?}");
            }
        }
        for text in [
            "", "~", "null", "true", "FALSE", "12", "+1", "-.inf", ".5", "0x1f",
        ] {
            assert_ne!(classify_scalar(text), SyntaxKind::STRING, "{text:?}");
        }
    }
}
