//! Lossless Dockerfile lexer and parser, faithful to BuildKit's `frontend/dockerfile/parser`.
//!
//! The parser never re-serializes anything: it cuts the ORIGINAL text into [`Node`]s that cover every
//! byte exactly once (printing their ranges in order gives the text back byte for byte), and gives byte
//! ranges into the original text for everything an edit may need: keywords, flags, arguments, JSON
//! elements, `ENV`/`ARG`/`LABEL` pairs, image reference parts, heredoc markers and bodies.
//!
//! BuildKit's rules that this module follows (see `ARCHITECTURE.md` §2):
//!
//! - a UTF-8 BOM at the very start is skipped (recorded in [`Dockerfile::bom`]); CRLF is accepted;
//! - parser directives (`# syntax=`, `# escape=`, `# check=`) are only recognised on consecutive lines at
//!   the very top, before any instruction, comment, or blank line; each may appear once;
//! - the escape character (`\` or `` ` ``) is also the line-continuation character: a line is continued
//!   when it ends in the escape character plus optional spaces/tabs, unless the escape character is
//!   doubled; comment lines and whitespace-only lines inside a continuation are skipped; continuation
//!   lines are joined as they are (their leading whitespace is kept), only the first line is left-trimmed;
//! - there are no end-of-line comments;
//! - flags are the leading `--words` of the arguments (`--link` without a value is fine; `--` ends them);
//! - heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`) only for `RUN`, `COPY`, `ADD` (also under
//!   `ONBUILD`) in shell form; their bodies follow the instruction in the order of the markers;
//! - the JSON (exec) form is used when the arguments parse as a JSON array of strings; a JSON array with a
//!   non-string element is an error; anything else is the shell form;
//! - BuildKit's parser accepts any word as an instruction keyword (it is the later instruction layer that
//!   rejects unknown ones); so does this parser. A keyword that looks like a template placeholder
//!   (`{{ .X }}`, `{% %}`, `%s`, `<% %>`) is rejected with [`ParseErrorKind::Template`].
//!
//! Known, deliberate deviations from BuildKit: flags and the `HEALTHCHECK` type are split on Unicode
//! whitespace characters (BuildKit looks at single bytes there and mangles non-ASCII text); a heredoc
//! without terminator runs to the end of the file (see [`Heredoc::terminated`]); variable expansion in
//! heredoc marker words is approximated.

use std::fmt::Write as _;
use std::ops::Range;

use crate::text::{LineCol, TextRange};

/// BuildKit reads the file with a `bufio.Scanner`, whose maximum token is 64 KiB: a longer physical line
/// makes BuildKit fail with "dockerfile line greater than max allowed size of 65535".
const MAX_LINE_LEN: usize = 64 * 1024;

/// Go's JSON decoder refuses nesting deeper than this.
const MAX_JSON_DEPTH: usize = 10_000;

// ------------------------------------------------------------------------------------------------
// Public types
// ------------------------------------------------------------------------------------------------

/// What went wrong while parsing; [`ParseError::kind`] lets callers tell templates from broken files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseErrorKind {
    /// The file has no instruction at all (empty, or only comments/blank lines). BuildKit rejects it.
    NoInstructions,
    /// A bad parser directive (repeated, or an invalid escape character).
    Directive,
    /// An instruction keyword that is a template placeholder (`{{ ... }}`, `%s`, ...).
    Template,
    /// A physical line longer than BuildKit's scanner accepts.
    LineTooLong,
    /// Anything else BuildKit's parser rejects (`ENV` without value, nested JSON arrays, bad heredoc
    /// marker, ...).
    Syntax,
}

/// A parse failure, always located so the caller can show `file:line:column`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Human readable message (BuildKit's wording where BuildKit has one).
    pub message: String,
    /// The offending span in the original text (possibly empty, e.g. at the end of the file).
    pub range: TextRange,
    /// The class of error.
    pub kind: ParseErrorKind,
}

impl ParseError {
    fn new(kind: ParseErrorKind, message: impl Into<String>, range: TextRange) -> Self {
        Self {
            message: message.into(),
            range,
            kind,
        }
    }

    /// 1-based line and column of the start of [`ParseError::range`] in `text`.
    #[must_use]
    pub fn line_col(&self, text: &str) -> LineCol {
        crate::text::line_col(text, self.range.start)
    }

    /// True when the file was rejected because it looks like a template rather than a Dockerfile.
    #[must_use]
    pub fn is_template(&self) -> bool {
        self.kind == ParseErrorKind::Template
    }
}

/// A parsed Dockerfile. All ranges index the full original text (including a BOM, if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dockerfile {
    /// The text started with U+FEFF (covered by a [`NodeKind::Bom`] node).
    pub bom: bool,
    /// The escape (and line-continuation) character: `'\\'` or `` '`' ``.
    pub escape: char,
    /// Parser directives from the top of the file, in order.
    pub directives: Vec<Directive>,
    /// Contiguous nodes covering the whole text, in order.
    pub nodes: Vec<Node>,
    /// All instructions, in order (also referenced from [`Dockerfile::nodes`] by index).
    pub instructions: Vec<Instruction>,
}

/// A parser directive such as `# syntax=docker/dockerfile:1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// Lower-cased name: `syntax`, `escape` or `check`.
    pub name: String,
    /// The value, trimmed.
    pub value: String,
    /// The directive line without its line break (leading whitespace included).
    pub range: TextRange,
    /// The span of [`Directive::value`].
    pub value_range: TextRange,
}

/// A top-level piece of the file. Nodes are contiguous and cover the text exactly once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The bytes of this node, line break included.
    pub range: TextRange,
    /// What the node is.
    pub kind: NodeKind,
}

/// The kind of a [`Node`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// The UTF-8 byte order mark at the start of the file.
    Bom,
    /// A parser directive line; index into [`Dockerfile::directives`].
    Directive(usize),
    /// A comment line (outside any instruction).
    Comment,
    /// An empty or whitespace-only line (outside any instruction).
    Blank,
    /// An instruction: its lines, the comment/blank lines inside its continuation, its heredoc bodies and
    /// terminators, and its final line break. Index into [`Dockerfile::instructions`].
    Instruction(usize),
}

/// One instruction (`FROM`, `RUN`, ...), possibly spanning several lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// Keyword start .. end of the last content line (before its line break); includes continuation
    /// lines and heredoc bodies/terminators.
    pub range: TextRange,
    /// Byte offset of the start of the instruction's first line (leading whitespace included).
    pub line_start: usize,
    /// `line_start` .. after the final line break (or EOF): deleting it removes the instruction cleanly.
    pub full_range: TextRange,
    /// Upper-cased keyword, e.g. `"FROM"` (BuildKit's parser accepts any word here).
    pub keyword: String,
    /// The keyword as written.
    pub keyword_range: TextRange,
    /// Leading `--flags`.
    pub flags: Vec<Flag>,
    /// The arguments after the flags.
    pub args: Args,
    /// Heredocs in marker order (for `ONBUILD RUN <<EOF` they are recorded here and on the inner
    /// instruction).
    pub heredocs: Vec<Heredoc>,
    /// For `ONBUILD X`: the inner instruction (ranges in the same file).
    pub onbuild: Option<Box<Instruction>>,
    /// The instruction's logical line as BuildKit sees it (continuations joined, interior comment and
    /// blank lines dropped) with the map back to the original text.
    pub logical: LogicalLine,
    /// The file's escape character (`\\` or `` ` ``), needed to split and unquote words.
    pub escape: char,
    /// The shell commands of a `RUN`, lexed once for every rule that asks
    /// ([`crate::dockerfile::analysis::run_commands`]).
    pub(crate) commands: InsCache<std::sync::Arc<[Vec<String>]>>,
    /// Every script a `RUN` may execute with its commands, lexed once
    /// ([`crate::dockerfile::shell_lex::run_texts`]).
    pub(crate) texts: InsCache<Vec<crate::dockerfile::shell_lex::RunText>>,
    /// The shell-form arguments lexed as a script, once
    /// ([`crate::dockerfile::shell_lex::shell_script`]).
    pub(crate) line_script:
        InsCache<Option<std::sync::Arc<crate::dockerfile::shell_lex::ScriptBody>>>,
    /// The script a `RUN` executes, once ([`crate::dockerfile::shell_lex::run_script`]).
    pub(crate) run_script: InsCache<Option<crate::dockerfile::shell_lex::CachedRunScript>>,
    /// A `FROM`'s image reference, split once ([`Instruction::from_image`]: every rule asks).
    pub(crate) image: InsCache<Option<ImageRef>>,
    /// The pairs of an `ENV`, `ARG` or `LABEL`, split once ([`Instruction::key_values`]).
    pub(crate) key_values: InsCache<Vec<KeyValue>>,
    /// Shell-form arguments split into words, once ([`Instruction::shell_words`]).
    pub(crate) words: InsCache<Vec<Word>>,
}

/// A value computed once from an instruction, invisible to comparisons (two instructions are equal
/// whether or not a rule has asked for it yet) and not carried over by a clone.
pub(crate) struct InsCache<T>(pub(crate) std::sync::OnceLock<T>);

impl<T> Default for InsCache<T> {
    fn default() -> Self {
        Self(std::sync::OnceLock::new())
    }
}

impl<T> Clone for InsCache<T> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T> PartialEq for InsCache<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for InsCache<T> {}

impl<T> std::fmt::Debug for InsCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("..")
    }
}

/// A `--name[=value]` flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// The name without the leading `--`.
    pub name: String,
    /// The value after `=`, with quotes and backslash escapes removed like BuildKit does; `None` for a
    /// valueless flag such as `--link`.
    pub value: Option<String>,
    /// The whole `--name=value` word.
    pub range: TextRange,
    /// The name (without `--`).
    pub name_range: TextRange,
    /// The raw value after `=` (quotes included).
    pub value_range: Option<TextRange>,
}

/// The arguments of an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Args {
    /// Exec (JSON) form: `["a", "b"]`. Only for `RUN`, `CMD`, `ENTRYPOINT`, `SHELL`, `ADD`, `COPY`,
    /// `VOLUME` (and the command of `HEALTHCHECK`, see [`Instruction::healthcheck`]).
    Json(JsonArgs),
    /// Everything else.
    Shell(ShellArgs),
}

/// A JSON array of strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonArgs {
    /// The whole `[...]`.
    pub range: TextRange,
    /// The elements.
    pub items: Vec<JsonArg>,
}

/// One element of a JSON array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonArg {
    /// The decoded string.
    pub value: String,
    /// The element in the original text, quotes included.
    pub range: TextRange,
}

/// Shell-form arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellArgs {
    /// The original span of the arguments, possibly multi-line (empty when there are no arguments).
    pub range: TextRange,
    /// The logical text as BuildKit sees it: continuations joined, interior comment lines removed.
    /// (Its words: [`Instruction::shell_words`].)
    pub text: String,
    /// Offset of [`ShellArgs::text`] inside [`Instruction::logical`].
    pub logical_start: usize,
}

/// A word of shell-form arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The word as BuildKit keeps it (quotes and escapes included).
    pub value: String,
    /// The word in the original text.
    pub range: TextRange,
}

/// A heredoc attached to `RUN`/`COPY`/`ADD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heredoc {
    /// The terminator name, quotes removed.
    pub name: String,
    /// `<<-`: leading tabs are stripped from the body lines and the terminator line.
    pub strip_tabs: bool,
    /// The name was (partly) quoted (`<<"EOF"`, `<<'EOF'`): the body is not expanded.
    pub quoted: bool,
    /// The file descriptor in `3<<EOF`.
    pub fd: Option<u32>,
    /// The `<<EOF` word.
    pub marker_range: TextRange,
    /// The body lines (line breaks included), terminator excluded.
    pub body_range: TextRange,
    /// The body content; leading tabs stripped when `<<-`.
    pub body: String,
    /// The terminator line without its line break (empty at EOF when unterminated).
    pub terminator_range: TextRange,
    /// False when the file ended before the terminator line (the body then runs to EOF).
    pub terminated: bool,
}

/// One build stage: a `FROM` and the instructions up to the next `FROM`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// 0-based stage number.
    pub index: usize,
    /// Index of the `FROM` in [`Dockerfile::instructions`].
    pub from: usize,
    /// Instruction indices of the stage, `FROM` included.
    pub instructions: Range<usize>,
    /// The `AS name` alias as written (BuildKit compares stage names case-insensitively).
    pub name: Option<String>,
}

/// An image reference in `FROM`, split like docker's reference grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// The whole reference.
    pub range: TextRange,
    /// The reference as written.
    pub text: String,
    /// The registry (`docker.io`, `localhost:5000`): the first `/`-component when it contains `.` or
    /// `:`, is `localhost`, or has upper-case letters.
    pub registry: Option<(String, TextRange)>,
    /// The repository path (without registry, tag and digest).
    pub repository: (String, TextRange),
    /// The tag after `:`.
    pub tag: Option<(String, TextRange)>,
    /// The digest after `@` (e.g. `sha256:...`).
    pub digest: Option<(String, TextRange)>,
}

/// A key/value pair of `ENV`, `ARG` or `LABEL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The key with quotes and escapes removed (BuildKit expands keys like values:
    /// `LABEL "com.example"=x` has the key `com.example`).
    pub key: String,
    /// The key's span (raw, quotes included).
    pub key_range: TextRange,
    /// The value with quotes and escapes removed (variables are not expanded); `None` for `ARG name`.
    pub value: Option<String>,
    /// The raw value (quotes included).
    pub value_range: Option<TextRange>,
    /// The whole pair (`key=value`, or `key value...` in the legacy form).
    pub range: TextRange,
}

/// The parsed arguments of `HEALTHCHECK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Healthcheck {
    /// `CMD` or `NONE` as written.
    pub kind: String,
    /// The span of [`Healthcheck::kind`].
    pub kind_range: TextRange,
    /// The command after `CMD` (JSON or shell form); `None` when there is none.
    pub cmd: Option<Args>,
}

/// A contiguous piece of the logical line taken from the original text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Offset in the logical text.
    pub logical: usize,
    /// Offset in the original text.
    pub original: usize,
    /// Length in bytes.
    pub len: usize,
}

/// An instruction's logical line (what BuildKit's parser works on) and its map to the original text.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LogicalLine {
    /// The joined text.
    pub text: String,
    /// The pieces, in order (possibly empty ones, which only anchor positions).
    pub segments: Vec<Segment>,
}

impl LogicalLine {
    fn push(&mut self, original_text: &str, start: usize, end: usize) {
        self.segments.push(Segment {
            logical: self.text.len(),
            original: start,
            len: end - start,
        });
        self.text.push_str(&original_text[start..end]);
    }

    /// Original offset of the byte at logical offset `l` (the end of the last piece when `l` is at or
    /// past the end).
    #[must_use]
    pub fn to_original(&self, l: usize) -> usize {
        if let [s] = self.segments.as_slice() {
            return s.original + l.min(s.len);
        }
        let idx = self.segments.partition_point(|s| s.logical + s.len <= l);
        match self.segments.get(idx) {
            Some(s) => s.original + (l - s.logical),
            None => self.segments.last().map_or(0, |s| s.original + s.len),
        }
    }

    /// Original offset just after the byte at logical offset `l - 1` (for exclusive ends).
    #[must_use]
    pub fn to_original_end(&self, l: usize) -> usize {
        if l == 0 {
            return self.to_original(0);
        }
        if let [s] = self.segments.as_slice() {
            return s.original + l.min(s.len);
        }
        let idx = self.segments.partition_point(|s| s.logical + s.len < l);
        match self.segments.get(idx) {
            Some(s) => s.original + (l - s.logical),
            None => self.segments.last().map_or(0, |s| s.original + s.len),
        }
    }

    /// Like [`LogicalLine::range`] for ranges visited in increasing order: `cursor` (start at 0) keeps
    /// the current segment so a sequence of lookups is linear instead of logarithmic.
    #[must_use]
    pub fn range_from(&self, cursor: &mut usize, start: usize, end: usize) -> TextRange {
        let segs = &self.segments;
        if segs.len() <= 1 || start >= end {
            return self.range(start, end);
        }
        let mut i = (*cursor).min(segs.len() - 1);
        if segs[i].logical > start {
            i = 0;
        }
        while i + 1 < segs.len() && segs[i].logical + segs[i].len <= start {
            i += 1;
        }
        *cursor = i;
        let s = segs[i].original + (start - segs[i].logical).min(segs[i].len);
        let mut k = i;
        while k + 1 < segs.len() && segs[k].logical + segs[k].len < end {
            k += 1;
        }
        let e = segs[k].original + (end - segs[k].logical).min(segs[k].len);
        TextRange::new(s, e.max(s))
    }

    /// Maps the logical range `start..end` to the original text (spanning any continuation in between).
    #[must_use]
    pub fn range(&self, start: usize, end: usize) -> TextRange {
        if start >= end {
            TextRange::empty(self.to_original(start))
        } else {
            TextRange::new(self.to_original(start), self.to_original_end(end))
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Character classes
// ------------------------------------------------------------------------------------------------

/// Go's `unicode.IsSpace`, which is Unicode's White_Space property like Rust's.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// BuildKit's `reWhitespace`: `[\t\v\f\r ]`.
fn is_re_ws(b: u8) -> bool {
    matches!(b, b'\t' | 0x0b | 0x0c | b'\r' | b' ')
}

/// Go regexp `\s`: `[\t\n\f\r ]`.
fn is_re_s(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

fn char_at(s: &str, pos: usize) -> (char, usize) {
    match s.as_bytes().get(pos) {
        Some(&c) if c < 0x80 => (char::from(c), 1),
        _ => {
            let c = s[pos..].chars().next().unwrap_or('\0');
            (c, c.len_utf8())
        }
    }
}

/// First offset in `s[from..to]` that is not Unicode whitespace (or `to`).
fn skip_space(s: &str, from: usize, to: usize) -> usize {
    s[from..to]
        .char_indices()
        .find(|&(_, c)| !is_space(c))
        .map_or(to, |(i, _)| from + i)
}

/// `strings.TrimSpace` on `s[from..to]`, as offsets.
fn trim_space(s: &str, from: usize, to: usize) -> (usize, usize) {
    let start = skip_space(s, from, to);
    let end = s[start..to]
        .char_indices()
        .rev()
        .find(|&(_, c)| !is_space(c))
        .map_or(start, |(i, c)| start + i + c.len_utf8());
    (start, end)
}

/// Splits `s[from..to]` like Go's `reWhitespace.Split(s, -1)` (only ASCII blanks separate).
fn split_re_ws(s: &str, from: usize, to: usize) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    if from >= to {
        return out;
    }
    let mut start = from;
    let mut i = from;
    while i < to {
        if is_re_ws(b[i]) {
            out.push((start, i));
            while i < to && is_re_ws(b[i]) {
                i += 1;
            }
            start = i;
        } else {
            i += 1;
        }
    }
    out.push((start, to));
    out
}

// ------------------------------------------------------------------------------------------------
// Physical lines
// ------------------------------------------------------------------------------------------------

/// Offset (relative to `start`) of the next `\n`, word at a time.
fn find_newline(b: &[u8], start: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * (b'\n' as u64);
    let hay = &b[start..];
    let mut i = 0;
    while i + 8 <= hay.len() {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&hay[i..i + 8]);
        let x = u64::from_le_bytes(chunk) ^ NL;
        if (x.wrapping_sub(LO) & !x & HI) != 0 {
            break;
        }
        i += 8;
    }
    hay[i..].iter().position(|&c| c == b'\n').map(|p| i + p)
}

#[derive(Clone, Copy, Debug)]
struct PhysLine {
    start: usize,
    /// End of the content: trailing `\r`/`\n` removed (BuildKit's `trimNewline`).
    content_end: usize,
    /// After the `\n` (or EOF).
    end: usize,
}

fn phys_line(b: &[u8], start: usize) -> Result<PhysLine, ParseError> {
    let nl = find_newline(b, start);
    let end = nl.map_or(b.len(), |i| start + i + 1);
    let mut content_end = nl.map_or(b.len(), |i| start + i);
    if content_end - start >= MAX_LINE_LEN {
        return Err(ParseError::new(
            ParseErrorKind::LineTooLong,
            format!(
                "dockerfile line greater than max allowed size of {}",
                MAX_LINE_LEN - 1
            ),
            TextRange::new(start, content_end),
        ));
    }
    while content_end > start && matches!(b[content_end - 1], b'\r' | b'\n') {
        content_end -= 1;
    }
    Ok(PhysLine {
        start,
        content_end,
        end,
    })
}

/// BuildKit's `lineContinuationRegex`: `([^E])E[ \t]*$|^E[ \t]*$` on `text[start..end]`.
/// Returns the end of the piece without the continuation (the escape character's offset).
fn continuation(b: &[u8], start: usize, end: usize, escape: u8) -> Option<usize> {
    let mut q = end;
    while q > start && matches!(b[q - 1], b' ' | b'\t') {
        q -= 1;
    }
    if q == start || b[q - 1] != escape {
        return None;
    }
    let e = q - 1;
    if e > start && b[e - 1] == escape {
        return None;
    }
    Some(e)
}

/// BuildKit's `reDirectives`: `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`.
/// Returns (name, value start, value end) relative to `line`.
fn match_directive(line: &str) -> Option<(&str, usize, usize)> {
    let b = line.as_bytes();
    if b.first() != Some(&b'#') {
        return None;
    }
    let mut i = 1;
    while i < b.len() && is_re_s(b[i]) {
        i += 1;
    }
    let name_start = i;
    if i >= b.len() || !b[i].is_ascii_alphabetic() {
        return None;
    }
    while i < b.len() && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    let name_end = i;
    while i < b.len() && is_re_s(b[i]) {
        i += 1;
    }
    if b.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    if i >= b.len() {
        return None;
    }
    // `.` does not match `\n`; the line has none (trailing ones are trimmed) except in pathological
    // cases, where we simply do not match.
    if b[i..].contains(&b'\n') {
        return None;
    }
    let mut v = i;
    while v < b.len() && is_re_s(b[v]) {
        v += 1;
    }
    let (vs, ve) = if v == b.len() {
        // Only whitespace after `=`: the lazy `.+?` takes the last character.
        (b.len() - 1, b.len())
    } else {
        let mut e = b.len();
        while e > v && is_re_s(b[e - 1]) {
            e -= 1;
        }
        (v, e)
    };
    Some((&line[name_start..name_end], vs, ve))
}

// ------------------------------------------------------------------------------------------------
// The parser
// ------------------------------------------------------------------------------------------------

/// Parses a Dockerfile losslessly. See the module documentation for the rules.
///
/// # Errors
/// Whenever BuildKit's parser would reject the file (no instruction, repeated directive, bad escape,
/// `ENV` without value, nested JSON, bad heredoc marker, over-long line), and for template placeholders
/// in keyword position. The error is always located.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let b = text.as_bytes();

    let mut nodes = Vec::new();
    let mut directives: Vec<Directive> = Vec::new();
    let mut instructions = Vec::new();
    let bom = text.starts_with('\u{feff}');
    let mut pos = 0;
    if bom {
        nodes.push(Node {
            range: TextRange::new(0, 3),
            kind: NodeKind::Bom,
        });
        pos = 3;
    }
    let mut escape = b'\\';
    let mut directives_done = false;

    while pos < b.len() {
        let line = phys_line(b, pos)?;
        let tok = skip_space(text, line.start, line.content_end);

        if !directives_done {
            let token = &text[tok..line.content_end];
            match match_directive(token) {
                Some((name, vs, ve))
                    if matches!(
                        name.to_ascii_lowercase().as_str(),
                        "syntax" | "escape" | "check"
                    ) =>
                {
                    let name = name.to_ascii_lowercase();
                    let value = token[vs..ve].to_string();
                    let range = TextRange::new(line.start, line.content_end);
                    let value_range = TextRange::new(tok + vs, tok + ve);
                    if directives.iter().any(|d| d.name == name) {
                        return Err(ParseError::new(
                            ParseErrorKind::Directive,
                            format!("only one {name} parser directive can be used"),
                            range,
                        ));
                    }
                    if name == "escape" {
                        escape = match value.as_str() {
                            "\\" => b'\\',
                            "`" => b'`',
                            _ => {
                                return Err(ParseError::new(
                                    ParseErrorKind::Directive,
                                    format!(
                                        "invalid escape token '{value}' does not match ` or \\"
                                    ),
                                    value_range,
                                ))
                            }
                        };
                    }
                    nodes.push(Node {
                        range: TextRange::new(line.start, line.end),
                        kind: NodeKind::Directive(directives.len()),
                    });
                    directives.push(Directive {
                        name,
                        value,
                        range,
                        value_range,
                    });
                    pos = line.end;
                    continue;
                }
                _ => directives_done = true,
            }
        }

        if tok == line.content_end {
            nodes.push(Node {
                range: TextRange::new(line.start, line.end),
                kind: NodeKind::Blank,
            });
            pos = line.end;
            continue;
        }
        if b[tok] == b'#' {
            nodes.push(Node {
                range: TextRange::new(line.start, line.end),
                kind: NodeKind::Comment,
            });
            pos = line.end;
            continue;
        }

        let (instruction, next) = parse_instruction(text, line, tok, escape)?;
        nodes.push(Node {
            range: instruction.full_range,
            kind: NodeKind::Instruction(instructions.len()),
        });
        instructions.push(instruction);
        pos = next;
    }

    if instructions.is_empty() {
        return Err(ParseError::new(
            ParseErrorKind::NoInstructions,
            "file with no instructions",
            TextRange::empty(text.len()),
        ));
    }

    Ok(Dockerfile {
        bom,
        escape: char::from(escape),
        directives,
        nodes,
        instructions,
    })
}

/// Reads the instruction starting on `first` (whose first non-blank byte is at `tok`): its
/// continuation lines, then its heredoc bodies. Returns the instruction and the offset after it.
fn parse_instruction(
    text: &str,
    first: PhysLine,
    tok: usize,
    escape: u8,
) -> Result<(Instruction, usize), ParseError> {
    let b = text.as_bytes();
    let mut logical = LogicalLine::default();
    let (piece_end, mut continued) = match continuation(b, tok, first.content_end, escape) {
        Some(e) => (e, true),
        None => (first.content_end, false),
    };
    logical.push(text, tok, piece_end);
    let mut last_content_end = first.content_end;
    let mut pos = first.end;
    while continued && pos < b.len() {
        let line = phys_line(b, pos)?;
        pos = line.end;
        let t = skip_space(text, line.start, line.content_end);
        if t == line.content_end || b[t] == b'#' {
            // Empty continuation lines and comment lines are skipped.
            continue;
        }
        let (piece_end, c) = match continuation(b, line.start, line.content_end, escape) {
            Some(e) => (e, true),
            None => (line.content_end, false),
        };
        logical.push(text, line.start, piece_end);
        last_content_end = line.content_end;
        continued = c;
    }

    let ctx = Ctx {
        logical: &logical,
        escape: char::from(escape),
    };
    let parsed = ctx.parse_line(0, logical.text.len())?;

    // Heredocs.
    let mut heredocs = Vec::new();
    if parsed.can_contain_heredoc() && logical.text.contains("<<") {
        for marker in ctx.heredoc_markers()? {
            let body_start = pos;
            let mut body = String::new();
            let mut terminator = None;
            while pos < b.len() {
                let line = phys_line(b, pos)?;
                let mut cand = &text[line.start..line.content_end];
                if marker.chomp {
                    cand = cand.trim_start_matches('\t');
                }
                if cand == marker.name {
                    terminator = Some(line);
                    break;
                }
                let raw = &text[line.start..line.end];
                if marker.chomp {
                    strip_leading_tabs_into(raw, &mut body);
                } else {
                    body.push_str(raw);
                }
                last_content_end = line.content_end;
                pos = line.end;
            }
            let (body_range, terminator_range, terminated) = match terminator {
                Some(line) => {
                    last_content_end = line.content_end;
                    pos = line.end;
                    (
                        TextRange::new(body_start, line.start),
                        TextRange::new(line.start, line.content_end),
                        true,
                    )
                }
                None => (
                    TextRange::new(body_start, b.len()),
                    TextRange::empty(b.len()),
                    false,
                ),
            };
            heredocs.push(Heredoc {
                name: marker.name,
                strip_tabs: marker.chomp,
                quoted: marker.quoted,
                fd: marker.fd,
                marker_range: marker.range,
                body_range,
                body,
                terminator_range,
                terminated,
            });
        }
    }

    let full_range = TextRange::new(first.start, pos);
    let instruction = parsed.into_instruction(
        first.start,
        full_range,
        last_content_end,
        heredocs,
        logical,
        char::from(escape),
    );
    Ok((instruction, pos))
}

fn strip_leading_tabs_into(line: &str, out: &mut String) {
    out.push_str(line.trim_start_matches('\t'));
}

/// An instruction parsed from (a part of) a logical line, before its heredocs are known.
struct Parsed {
    keyword: String,
    keyword_range: TextRange,
    flags: Vec<Flag>,
    args: Args,
    onbuild: Option<Box<Parsed>>,
}

impl Parsed {
    fn can_contain_heredoc(&self) -> bool {
        let node = if self.keyword == "ONBUILD" {
            match &self.onbuild {
                Some(inner) => inner,
                None => return false,
            }
        } else {
            self
        };
        matches!(node.keyword.as_str(), "RUN" | "COPY" | "ADD")
            && !matches!(node.args, Args::Json(_))
    }

    fn into_instruction(
        self,
        line_start: usize,
        full_range: TextRange,
        end: usize,
        heredocs: Vec<Heredoc>,
        logical: LogicalLine,
        escape: char,
    ) -> Instruction {
        let onbuild = self.onbuild.map(|inner| {
            Box::new(inner.into_instruction(
                line_start,
                full_range,
                end,
                heredocs.clone(),
                logical.clone(),
                escape,
            ))
        });
        let start = self.keyword_range.start.min(end);
        Instruction {
            range: TextRange::new(start, end),
            line_start,
            full_range,
            keyword: self.keyword,
            keyword_range: self.keyword_range,
            flags: self.flags,
            args: self.args,
            heredocs,
            onbuild,
            logical,
            escape,
            commands: InsCache::default(),
            texts: InsCache::default(),
            line_script: InsCache::default(),
            run_script: InsCache::default(),
            image: InsCache::default(),
            key_values: InsCache::default(),
            words: InsCache::default(),
        }
    }
}

struct Ctx<'a> {
    logical: &'a LogicalLine,
    escape: char,
}

struct HeredocMarker {
    name: String,
    chomp: bool,
    quoted: bool,
    fd: Option<u32>,
    range: TextRange,
}

impl Ctx<'_> {
    fn l(&self) -> &str {
        &self.logical.text
    }

    fn range(&self, s: usize, e: usize) -> TextRange {
        self.logical.range(s, e)
    }

    /// BuildKit's `newNodeFromLine` on `logical[s..e]`.
    fn parse_line(&self, s: usize, e: usize) -> Result<Parsed, ParseError> {
        let l = self.l();
        let b = l.as_bytes();
        let (ts, te) = trim_space(l, s, e);
        let mut cmd_end = ts;
        while cmd_end < te && !is_re_ws(b[cmd_end]) {
            cmd_end += 1;
        }
        let word = &l[ts..cmd_end];
        let keyword_range = self.range(ts, cmd_end);
        if looks_like_template(word) {
            return Err(ParseError::new(
                ParseErrorKind::Template,
                format!(
                    "`{word}` looks like a template placeholder, not a Dockerfile instruction \
                     (render the template first)"
                ),
                keyword_range,
            ));
        }
        let keyword = word.to_uppercase();

        let mut flags = Vec::new();
        let (mut args_start, mut args_end) = (te, te);
        if cmd_end < te {
            let mut rs = cmd_end;
            while rs < te && is_re_ws(b[rs]) {
                rs += 1;
            }
            let (raw_flags, rest) = extract_flags(l, rs, te);
            flags = raw_flags.iter().map(|f| self.flag(f)).collect();
            (args_start, args_end) = trim_space(l, rest, te);
        }

        let args = match keyword.as_str() {
            "ADD" | "COPY" | "VOLUME" | "RUN" | "CMD" | "ENTRYPOINT" | "SHELL" => {
                self.maybe_json(args_start, args_end)?
            }
            "HEALTHCHECK" => {
                self.healthcheck(args_start, args_end)?;
                Args::Shell(self.shell(args_start, args_end))
            }
            "ENV" | "LABEL" => {
                name_val(l, args_start, args_end, self.escape, &keyword).map_err(|(m, s, e)| {
                    ParseError::new(ParseErrorKind::Syntax, m, self.range(s, e))
                })?;
                Args::Shell(self.shell(args_start, args_end))
            }
            _ => Args::Shell(self.shell(args_start, args_end)),
        };

        let onbuild = if keyword == "ONBUILD" && args_start < args_end {
            Some(Box::new(self.parse_line(args_start, args_end)?))
        } else {
            None
        };

        Ok(Parsed {
            keyword,
            keyword_range,
            flags,
            args,
            onbuild,
        })
    }

    fn flag(&self, f: &RawFlag) -> Flag {
        let body = f.word.get(2..).unwrap_or("");
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.to_string(), None),
        };
        let name_start = (f.start + 2).min(f.end);
        let (name_range, value_range) = match f.eq {
            Some(q) if value.is_some() => (
                self.range(name_start, q.max(name_start)),
                Some(self.range(q + 1, f.end.max(q + 1))),
            ),
            _ => (self.range(name_start, f.end), None),
        };
        Flag {
            name,
            value,
            range: self.range(f.start, f.end),
            name_range,
            value_range,
        }
    }

    fn shell(&self, s: usize, e: usize) -> ShellArgs {
        let l = self.l();
        ShellArgs {
            range: self.range(s, e),
            text: l[s..e].to_string(),
            logical_start: s,
        }
    }

    /// BuildKit's `parseMaybeJSON`/`parseMaybeJSONToList` on `logical[s..e]` (already trimmed).
    fn maybe_json(&self, s: usize, e: usize) -> Result<Args, ParseError> {
        let l = self.l();
        if s < e && l.as_bytes()[s] == b'[' {
            match parse_json_array(&l[s..e]) {
                JsonArray::Strings(items) => {
                    return Ok(Args::Json(JsonArgs {
                        range: self.range(s, e),
                        items: items
                            .into_iter()
                            .map(|(value, is, ie)| JsonArg {
                                value,
                                range: self.range(s + is, s + ie),
                            })
                            .collect(),
                    }))
                }
                JsonArray::NotStrings => {
                    return Err(ParseError::new(
                        ParseErrorKind::Syntax,
                        "when using JSON array syntax, arrays must be comprised of strings only",
                        self.range(s, e),
                    ))
                }
                JsonArray::Invalid => {}
            }
        }
        Ok(Args::Shell(self.shell(s, e)))
    }

    /// BuildKit's `parseHealthConfig` on `logical[s..e]`.
    fn healthcheck(&self, s: usize, e: usize) -> Result<Option<Healthcheck>, ParseError> {
        let l = self.l();
        if s >= e {
            return Ok(None);
        }
        let sep = l[s..e]
            .char_indices()
            .find(|&(_, c)| is_space(c))
            .map_or(e, |(i, _)| s + i);
        let next = skip_space(l, sep, e);
        let cmd = if next < e {
            Some(self.maybe_json(next, e)?)
        } else {
            None
        };
        Ok(Some(Healthcheck {
            kind: l[s..sep].to_string(),
            kind_range: self.range(s, sep),
            cmd,
        }))
    }

    /// Heredoc markers of the whole logical line (BuildKit's `heredocsFromLine`).
    fn heredoc_markers(&self) -> Result<Vec<HeredocMarker>, ParseError> {
        let l = self.l();
        let raw = LexOpts {
            raw_quotes: true,
            raw_escapes: true,
            skip_unset: false,
        };
        // BuildKit ignores lexing errors here (no heredocs then).
        let Ok(words) = shell_words(l, raw) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (word, ws, we) in words {
            let Some((fd, chomp, rest)) = match_heredoc_word(&word) else {
                continue;
            };
            if rest.is_empty() {
                continue;
            }
            let range = self.range(ws, we);
            let err = |m: String| ParseError::new(ParseErrorKind::Syntax, m, range);
            let plain = LexOpts {
                raw_quotes: false,
                raw_escapes: false,
                skip_unset: true,
            };
            let names = shell_words(rest, plain).map_err(err)?;
            if names.len() != 1 {
                continue;
            }
            let raws = shell_words(
                rest,
                LexOpts {
                    raw_quotes: true,
                    ..plain
                },
            )
            .map_err(err)?;
            if raws.len() != 1 {
                return Err(err(format!(
                    "internal lexing of heredoc produced inconsistent results: {rest}"
                )));
            }
            let count = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
            let name = names.into_iter().next().map(|w| w.0).unwrap_or_default();
            let quoted = count(&name) != count(&raws[0].0);
            out.push(HeredocMarker {
                name,
                chomp,
                quoted,
                fd: if fd.is_empty() { None } else { fd.parse().ok() },
                range,
            });
        }
        Ok(out)
    }
}

fn looks_like_template(word: &str) -> bool {
    word.starts_with("{{")
        || word.starts_with("{%")
        || word.starts_with("{#")
        || word.starts_with("<%")
        || word.starts_with('%')
        || word.contains("{{")
}

// ------------------------------------------------------------------------------------------------
// Flags (BuildKit's `extractBuilderFlags`)
// ------------------------------------------------------------------------------------------------

struct RawFlag {
    /// The processed word (quotes and backslashes removed), starting with `--`.
    word: String,
    start: usize,
    end: usize,
    /// Raw offset of the first `=` of the processed word.
    eq: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Spaces,
    Word,
    Quote,
}

/// Returns the flags of `l[s..e]` and the offset where the remaining arguments start.
fn extract_flags(l: &str, s: usize, e: usize) -> (Vec<RawFlag>, usize) {
    let b = l.as_bytes();
    let mut out = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut start = s;
    let mut eq = None;
    let mut pos = s;
    loop {
        let at_end = pos >= e;
        let (mut ch, mut w) = if at_end { ('\0', 0) } else { char_at(l, pos) };
        if phase == Phase::Spaces {
            if at_end {
                return (out, e);
            }
            if is_space(ch) {
                pos += w;
                continue;
            }
            if ch != '-' || pos + 1 >= e || b[pos + 1] != b'-' {
                return (out, pos);
            }
            phase = Phase::Word;
            start = pos;
            eq = None;
        }
        if at_end {
            if word != "--" && (blank_ok || !word.is_empty()) {
                out.push(RawFlag {
                    word,
                    start,
                    end: e,
                    eq,
                });
            }
            return (out, e);
        }
        if phase == Phase::Word {
            if is_space(ch) {
                phase = Phase::Spaces;
                if word == "--" {
                    return (out, pos);
                }
                if blank_ok || !word.is_empty() {
                    out.push(RawFlag {
                        word: std::mem::take(&mut word),
                        start,
                        end: pos,
                        eq,
                    });
                }
                word.clear();
                blank_ok = false;
                pos += w;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += w;
                continue;
            }
            if ch == '\\' {
                if pos + w >= e {
                    pos += w;
                    continue;
                }
                pos += w;
                (ch, w) = char_at(l, pos);
            }
            if ch == '=' && eq.is_none() {
                eq = Some(pos);
            }
            word.push(ch);
            pos += w;
            continue;
        }
        // Phase::Quote
        if ch == quote {
            phase = Phase::Word;
            pos += w;
            continue;
        }
        if ch == '\\' {
            if pos + w >= e {
                phase = Phase::Word;
                pos += w;
                continue;
            }
            pos += w;
            (ch, w) = char_at(l, pos);
        }
        if ch == '=' && eq.is_none() {
            eq = Some(pos);
        }
        word.push(ch);
        pos += w;
    }
}

// ------------------------------------------------------------------------------------------------
// Words (BuildKit's `parseWords`)
// ------------------------------------------------------------------------------------------------

/// Splits `l[s..e]` into words like BuildKit's `parseWords`: returns (word, start, end).
///
/// BuildKit copies every character into the word (quotes and escapes included) except an escape
/// character at the very end of the input, so a word is a slice of the input.
fn parse_words(l: &str, s: usize, e: usize, escape: char) -> Vec<(String, usize, usize)> {
    let b = &l.as_bytes()[..e];
    // The escape character is `\` or `` ` ``: ASCII.
    let esc = u8::try_from(escape).unwrap_or(b'\\');
    // Width of the whitespace character at `pos`, or 0 when it is not whitespace.
    let space_width = |pos: usize| -> usize {
        match BYTE_CLASS[usize::from(b[pos])] {
            SPACE => 1,
            NON_ASCII => {
                let (ch, w) = char_at(l, pos);
                if is_space(ch) {
                    w
                } else {
                    0
                }
            }
            _ => 0,
        }
    };
    let mut words = Vec::with_capacity((e - s) / 8 + 1);
    let mut pos = s;
    while pos < e {
        let w = space_width(pos);
        if w > 0 {
            pos += w;
            continue;
        }
        let start = pos;
        // End of the copied characters (differs from `pos` only after a skipped final escape).
        let mut copied = pos;
        let mut quote = 0u8;
        let mut blank_ok = false;
        while pos < e {
            let c = b[pos];
            if quote == 0 {
                match BYTE_CLASS[usize::from(c)] {
                    ORDINARY => {
                        pos += 1;
                        while pos < e && BYTE_CLASS[usize::from(b[pos])] == ORDINARY {
                            pos += 1;
                        }
                        copied = pos;
                        continue;
                    }
                    SPACE => break,
                    NON_ASCII => {
                        if space_width(pos) > 0 {
                            break;
                        }
                        pos += utf8_width(c);
                        copied = pos;
                        continue;
                    }
                    _ => {}
                }
                if c == b'\'' || c == b'"' {
                    quote = c;
                    blank_ok = true;
                    pos += 1;
                    copied = pos;
                    continue;
                }
            } else if c == quote {
                quote = 0;
                pos += 1;
                copied = pos;
                continue;
            }
            if c == esc && quote != b'\'' {
                if pos + 1 >= e {
                    // An escape character at the end of the input is dropped.
                    quote = 0;
                    pos += 1;
                    continue;
                }
                pos += 1;
            }
            pos += utf8_width(b[pos]);
            copied = pos;
        }
        if blank_ok || copied > start {
            words.push((l[start..copied].to_string(), start, pos));
        }
    }
    words
}

const ORDINARY: u8 = 0;
const SPACE: u8 = 1;
const SPECIAL: u8 = 2;
const NON_ASCII: u8 = 3;

/// Byte classes for the word scanner: ASCII whitespace, quotes and possible escape characters, and
/// non-ASCII lead/continuation bytes.
static BYTE_CLASS: [u8; 256] = {
    let mut t = [ORDINARY; 256];
    let mut i = 0x80;
    while i < 256 {
        t[i] = NON_ASCII;
        i += 1;
    }
    t[b'\t' as usize] = SPACE;
    t[b'\n' as usize] = SPACE;
    t[0x0b] = SPACE;
    t[0x0c] = SPACE;
    t[b'\r' as usize] = SPACE;
    t[b' ' as usize] = SPACE;
    t[b'\'' as usize] = SPECIAL;
    t[b'"' as usize] = SPECIAL;
    t[b'\\' as usize] = SPECIAL;
    t[b'`' as usize] = SPECIAL;
    t
};

/// Length of the UTF-8 sequence starting with `lead`.
fn utf8_width(lead: u8) -> usize {
    match lead {
        0..=0xbf => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

// ------------------------------------------------------------------------------------------------
// ENV / LABEL / ARG pairs
// ------------------------------------------------------------------------------------------------

/// A pair in logical coordinates. `value` is the raw value (quotes kept, like BuildKit's AST).
struct RawKv {
    key: (String, usize, usize),
    value: Option<(String, usize, usize)>,
    legacy: bool,
}

/// BuildKit's `parseNameVal` (`ENV`, `LABEL`) on `l[s..e]`. Errors are (message, start, end).
fn name_val(
    l: &str,
    s: usize,
    e: usize,
    escape: char,
    keyword: &str,
) -> Result<Vec<RawKv>, (String, usize, usize)> {
    let words = parse_words(l, s, e, escape);
    let Some(first) = words.first() else {
        return Ok(Vec::new());
    };
    if !first.0.contains('=') {
        // Legacy form `KEY name value...`: split once on ASCII blanks.
        let parts = split_re_ws(l, s, e);
        if parts.len() < 2 {
            return Err((format!("{keyword} must have two arguments"), s, e));
        }
        let (ks, ke) = parts[0];
        let vs = parts[1].0;
        return Ok(vec![RawKv {
            key: (l[ks..ke].to_string(), ks, ke),
            value: Some((l[vs..e].to_string(), vs, e)),
            legacy: true,
        }]);
    }
    let mut out = Vec::with_capacity(words.len());
    for (w, ws, we) in words {
        let Some(i) = w.find('=') else {
            return Err((
                format!("Syntax error - can't find = in {w:?}. Must be of the form: name=value"),
                ws,
                we,
            ));
        };
        out.push(RawKv {
            key: (w[..i].to_string(), ws, ws + i),
            value: Some((w[i + 1..].to_string(), ws + i + 1, we)),
            legacy: false,
        });
    }
    Ok(out)
}

/// `ARG a b=c`: every word is a name or a name=value.
fn name_or_name_val(l: &str, s: usize, e: usize, escape: char) -> Vec<RawKv> {
    parse_words(l, s, e, escape)
        .into_iter()
        .map(|(w, ws, we)| match w.find('=') {
            Some(i) => RawKv {
                key: (w[..i].to_string(), ws, ws + i),
                value: Some((w[i + 1..].to_string(), ws + i + 1, we)),
                legacy: false,
            },
            None => RawKv {
                key: (w, ws, we),
                value: None,
                legacy: false,
            },
        })
        .collect()
}

/// Removes shell quoting like BuildKit's word processing does (without expanding variables):
/// `'...'` is literal, in `"..."` the escape character escapes `"`, `$` and itself, outside quotes it
/// escapes any character.
#[must_use]
pub fn unquote(raw: &str, escape: char) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            for c in chars.by_ref() {
                if c == '\'' {
                    break;
                }
                out.push(c);
            }
        } else if c == '"' {
            while let Some(c) = chars.next() {
                if c == '"' {
                    break;
                }
                if c == escape {
                    match chars.peek() {
                        None => {}
                        Some(&n) if n == '"' || n == '$' || n == escape => {
                            out.push(n);
                            chars.next();
                        }
                        Some(_) => out.push(c),
                    }
                } else {
                    out.push(c);
                }
            }
        } else if c == escape {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// JSON arrays (Go's encoding/json semantics, hand-written to keep element offsets)
// ------------------------------------------------------------------------------------------------

enum JsonArray {
    /// The strings with their (start, end) offsets (quotes included).
    Strings(Vec<(String, usize, usize)>),
    /// Valid JSON array with a non-string element: BuildKit rejects the instruction.
    NotStrings,
    /// Not valid JSON (or a value Go cannot decode): BuildKit falls back to the shell form.
    Invalid,
}

struct Json<'a> {
    b: &'a [u8],
    i: usize,
    /// A number Go cannot decode into a float64 (an `UnmarshalTypeError`, not a syntax error).
    type_error: bool,
}

impl Json<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.b.get(at..at + 4)?;
        let s = std::str::from_utf8(h).ok()?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok()
    }

    /// At `"`: decodes a string.
    fn string(&mut self) -> Option<String> {
        let b = self.b;
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *b.get(self.i)?;
            match c {
                b'"' => {
                    self.i += 1;
                    return String::from_utf8(out).ok();
                }
                b'\\' => {
                    let e = *b.get(self.i + 1)?;
                    self.i += 2;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let r = self.hex4(self.i)?;
                            self.i += 4;
                            if (0xD800..0xE000).contains(&r) {
                                let low = if b.get(self.i) == Some(&b'\\')
                                    && b.get(self.i + 1) == Some(&b'u')
                                {
                                    self.hex4(self.i + 2)
                                } else {
                                    None
                                };
                                match low {
                                    Some(lo)
                                        if (0xD800..0xDC00).contains(&r)
                                            && (0xDC00..0xE000).contains(&lo) =>
                                    {
                                        self.i += 6;
                                        char::from_u32(
                                            0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00),
                                        )
                                        .unwrap_or('\u{fffd}')
                                    }
                                    _ => '\u{fffd}',
                                }
                            } else {
                                char::from_u32(r).unwrap_or('\u{fffd}')
                            }
                        }
                        _ => return None,
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return None,
                _ => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn number(&mut self) -> bool {
        let b = self.b;
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return false,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return false;
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return false;
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        let finite = std::str::from_utf8(&b[start..self.i])
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .is_some_and(f64::is_finite);
        if !finite {
            self.type_error = true;
        }
        true
    }

    fn literal(&mut self, lit: &[u8]) -> bool {
        if self.b[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn key(&mut self) -> bool {
        self.ws();
        if self.peek() != Some(b'"') || self.string().is_none() {
            return false;
        }
        self.ws();
        if self.peek() != Some(b':') {
            return false;
        }
        self.i += 1;
        true
    }

    /// Skips one JSON value of any type (iteratively, so deep nesting cannot overflow the stack).
    fn value(&mut self, depth: usize) -> bool {
        let mut stack: Vec<u8> = Vec::new();
        loop {
            self.ws();
            let ok = match self.peek() {
                Some(b'"') => self.string().is_some(),
                Some(b'-' | b'0'..=b'9') => self.number(),
                Some(b't') => self.literal(b"true"),
                Some(b'f') => self.literal(b"false"),
                Some(b'n') => self.literal(b"null"),
                Some(open @ (b'[' | b'{')) => {
                    self.i += 1;
                    if depth + stack.len() + 1 > MAX_JSON_DEPTH {
                        return false;
                    }
                    self.ws();
                    let close = if open == b'[' { b']' } else { b'}' };
                    if self.peek() == Some(close) {
                        self.i += 1;
                        true
                    } else {
                        stack.push(open);
                        if open == b'{' && !self.key() {
                            return false;
                        }
                        continue;
                    }
                }
                _ => false,
            };
            if !ok {
                return false;
            }
            // After a complete value: close containers or move to the next element.
            loop {
                let Some(&top) = stack.last() else {
                    return true;
                };
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if top == b'{' && !self.key() {
                            return false;
                        }
                        break;
                    }
                    Some(b']') if top == b'[' => {
                        self.i += 1;
                        stack.pop();
                    }
                    Some(b'}') if top == b'{' => {
                        self.i += 1;
                        stack.pop();
                    }
                    _ => return false,
                }
            }
        }
    }
}

/// Parses `s` (starting with `[`) like Go's `json.Unmarshal` into `[]interface{}`.
fn parse_json_array(s: &str) -> JsonArray {
    let mut j = Json {
        b: s.as_bytes(),
        i: 1,
        type_error: false,
    };
    let mut items = Vec::new();
    let mut all_strings = true;
    j.ws();
    if j.peek() == Some(b']') {
        j.i += 1;
    } else {
        loop {
            j.ws();
            if j.peek() == Some(b'"') {
                let start = j.i;
                let Some(v) = j.string() else {
                    return JsonArray::Invalid;
                };
                items.push((v, start, j.i));
            } else {
                if !j.value(1) {
                    return JsonArray::Invalid;
                }
                all_strings = false;
            }
            j.ws();
            match j.peek() {
                Some(b',') => j.i += 1,
                Some(b']') => {
                    j.i += 1;
                    break;
                }
                _ => return JsonArray::Invalid,
            }
        }
    }
    j.ws();
    if j.i != j.b.len() || j.type_error {
        return JsonArray::Invalid;
    }
    if all_strings {
        JsonArray::Strings(items)
    } else {
        JsonArray::NotStrings
    }
}

// ------------------------------------------------------------------------------------------------
// Shell words for heredoc detection (BuildKit's `shell.Lex` with `\` as escape, empty environment)
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct LexOpts {
    raw_quotes: bool,
    raw_escapes: bool,
    skip_unset: bool,
}

#[derive(Default)]
struct WordAcc {
    words: Vec<(String, usize, usize)>,
    word: String,
    in_word: bool,
    start: usize,
    end: usize,
}

impl WordAcc {
    fn raw_str(&mut self, s: &str, a: usize, b: usize) {
        if !self.in_word {
            self.start = a;
        }
        self.word.push_str(s);
        self.in_word = true;
        self.end = b;
    }

    fn raw_char(&mut self, c: char, a: usize, b: usize) {
        if !self.in_word {
            self.start = a;
        }
        self.word.push(c);
        self.in_word = true;
        self.end = b;
    }

    fn char(&mut self, c: char, a: usize, b: usize) {
        if is_space(c) {
            if self.in_word && !self.word.is_empty() {
                self.words
                    .push((std::mem::take(&mut self.word), self.start, self.end));
                self.in_word = false;
            }
        } else {
            self.raw_char(c, a, b);
        }
    }

    fn string(&mut self, s: &str, a: usize, b: usize) {
        for c in s.chars() {
            self.char(c, a, b);
        }
    }

    fn finish(mut self) -> Vec<(String, usize, usize)> {
        if !self.word.is_empty() {
            self.words.push((self.word, self.start, self.end));
        }
        self.words
    }
}

fn shell_words(s: &str, opts: LexOpts) -> Result<Vec<(String, usize, usize)>, String> {
    let n = s.len();
    let mut acc = WordAcc::default();
    let mut i = 0;
    while i < n {
        let (c, w) = char_at(s, i);
        match c {
            '\'' => {
                let Some(j) = s[i + 1..].find('\'').map(|j| i + 1 + j) else {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    );
                };
                let t = if opts.raw_quotes {
                    &s[i..=j]
                } else {
                    &s[i + 1..j]
                };
                acc.raw_str(t, i, j + 1);
                i = j + 1;
            }
            '"' => {
                let (t, ni) = lex_double_quote(s, i, opts)?;
                acc.raw_str(&t, i, ni);
                i = ni;
            }
            '$' => {
                let (t, ni) = lex_dollar(s, i, opts)?;
                acc.string(&t, i, ni);
                i = ni;
            }
            '\\' => {
                if opts.raw_escapes {
                    acc.raw_char('\\', i, i + 1);
                }
                i += 1;
                if i >= n {
                    break;
                }
                let (c2, w2) = char_at(s, i);
                acc.raw_char(c2, i, i + w2);
                i += w2;
            }
            _ => {
                acc.char(c, i, i + w);
                i += w;
            }
        }
    }
    Ok(acc.finish())
}

fn lex_double_quote(s: &str, at: usize, opts: LexOpts) -> Result<(String, usize), String> {
    let n = s.len();
    let mut r = String::new();
    if opts.raw_quotes {
        r.push('"');
    }
    let mut i = at + 1;
    loop {
        if i >= n {
            return Err(
                "unexpected end of statement while looking for matching double-quote".into(),
            );
        }
        let (c, w) = char_at(s, i);
        if c == '"' {
            i += 1;
            if opts.raw_quotes {
                r.push('"');
            }
            return Ok((r, i));
        }
        if c == '$' {
            let (v, ni) = lex_dollar(s, i, opts)?;
            r.push_str(&v);
            i = ni;
            continue;
        }
        i += w;
        let mut ch = c;
        if c == '\\' {
            if opts.raw_escapes {
                r.push('\\');
            }
            if i >= n {
                continue;
            }
            let (c2, w2) = char_at(s, i);
            if matches!(c2, '"' | '$' | '\\') {
                ch = c2;
                i += w2;
            }
        }
        r.push(ch);
    }
}

fn lex_name(s: &str, j: usize) -> usize {
    let n = s.len();
    if j >= n {
        return j;
    }
    let (c, w) = char_at(s, j);
    if c.is_ascii_digit() {
        let mut k = j;
        while k < n && s.as_bytes()[k].is_ascii_digit() {
            k += 1;
        }
        return k;
    }
    if matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!') {
        return j + w;
    }
    let mut k = j;
    while k < n {
        let (c, w) = char_at(s, k);
        if !(c.is_alphanumeric() || c == '_') {
            break;
        }
        k += w;
    }
    k
}

fn lex_dollar(s: &str, at: usize, opts: LexOpts) -> Result<(String, usize), String> {
    let j = at + 1;
    if s.as_bytes().get(j) == Some(&b'{') {
        let Some(k) = s[j + 1..].find('}').map(|k| j + 1 + k) else {
            return Err("syntax error: missing '}'".into());
        };
        let inner = &s[j + 1..k];
        if inner.is_empty() || inner.starts_with('{') || inner.starts_with(':') {
            return Err("syntax error: bad substitution".into());
        }
        if opts.skip_unset {
            return Ok((s[at..=k].to_string(), k + 1));
        }
        let name_end = lex_name(inner, 0);
        let op = &inner[name_end..];
        let value = if let Some(w) = op.strip_prefix(":-").or_else(|| op.strip_prefix('-')) {
            w.to_string()
        } else if op.starts_with('?') || op.starts_with(":?") {
            return Err(format!(
                "{}: is not allowed to be unset",
                &inner[..name_end]
            ));
        } else {
            String::new()
        };
        return Ok((value, k + 1));
    }
    let end = lex_name(s, j);
    if end == j {
        return Ok(("$".into(), j));
    }
    if opts.skip_unset {
        Ok((s[at..end].to_string(), end))
    } else {
        Ok((String::new(), end))
    }
}

/// BuildKit's `reHeredoc`: `^(\d*)<<(-?)\s*([^<]*)$`. Returns (fd digits, chomp, rest).
fn match_heredoc_word(w: &str) -> Option<(&str, bool, &str)> {
    let b = w.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let fd = &w[..i];
    if !w[i..].starts_with("<<") {
        return None;
    }
    i += 2;
    let chomp = b.get(i) == Some(&b'-');
    if chomp {
        i += 1;
    }
    while i < b.len() && is_re_s(b[i]) {
        i += 1;
    }
    let rest = &w[i..];
    if rest.contains('<') {
        return None;
    }
    Some((fd, chomp, rest))
}

// ------------------------------------------------------------------------------------------------
// Views
// ------------------------------------------------------------------------------------------------

impl Dockerfile {
    /// The build stages: each `FROM` and the instructions up to the next `FROM`. Instructions before
    /// the first `FROM` (global `ARG`s) belong to no stage.
    #[must_use]
    pub fn stages(&self) -> Vec<Stage> {
        let froms: Vec<usize> = self
            .instructions
            .iter()
            .enumerate()
            .filter(|(_, i)| i.keyword == "FROM")
            .map(|(n, _)| n)
            .collect();
        froms
            .iter()
            .enumerate()
            .map(|(index, &from)| {
                let end = froms
                    .get(index + 1)
                    .copied()
                    .unwrap_or(self.instructions.len());
                Stage {
                    index,
                    from,
                    instructions: from..end,
                    name: self.instructions[from].from_alias().map(|(n, _)| n),
                }
            })
            .collect()
    }

    /// Concatenates the node ranges: equals `text` for a parse of `text` (the lossless guarantee).
    #[must_use]
    pub fn print(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for n in &self.nodes {
            out.push_str(n.range.slice(text));
        }
        out
    }

    /// True when the nodes are contiguous and cover `text` exactly.
    #[must_use]
    pub fn covers(&self, text: &str) -> bool {
        let mut pos = 0;
        for n in &self.nodes {
            if n.range.start != pos || n.range.end < n.range.start {
                return false;
            }
            pos = n.range.end;
        }
        pos == text.len()
    }

    /// The instruction whose node contains `offset`.
    #[must_use]
    pub fn instruction_at(&self, offset: usize) -> Option<&Instruction> {
        self.instructions
            .iter()
            .find(|i| i.full_range.start <= offset && offset < i.full_range.end)
    }

    /// The AST dumped like BuildKit's `Node.Dump()`: one `(keyword ["--flags"] "arg"...)` per line. The
    /// format of the `result` files beside BuildKit's parser test files.
    #[must_use]
    pub fn buildkit_dump(&self) -> String {
        let mut out = String::new();
        for (n, i) in self.instructions.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            out.push_str(&i.buildkit_dump());
        }
        out
    }
}

impl Instruction {
    fn ll(&self) -> &str {
        &self.logical.text
    }

    fn shell_args(&self) -> Option<&ShellArgs> {
        match &self.args {
            Args::Shell(s) => Some(s),
            Args::Json(_) => None,
        }
    }

    /// Logical offsets of the arguments.
    fn args_span(&self) -> Option<(usize, usize)> {
        self.shell_args()
            .map(|s| (s.logical_start, s.logical_start + s.text.len()))
    }

    /// The arguments split on ASCII blanks (BuildKit's `parseStringsWhitespaceDelimited`), with spans.
    fn ascii_words(&self) -> Vec<(String, TextRange)> {
        let Some((s, e)) = self.args_span() else {
            return Vec::new();
        };
        split_re_ws(self.ll(), s, e)
            .into_iter()
            .filter(|(a, b)| a < b)
            .map(|(a, b)| (self.ll()[a..b].to_string(), self.logical.range(a, b)))
            .collect()
    }

    /// The escape character (with the blanks around it) that ends the instruction's last line when the
    /// file ends inside its continuation (`RUN npm ci \\` as the last line): BuildKit would join a line
    /// appended after it to this instruction. None when the instruction is complete, or has heredocs.
    #[must_use]
    pub fn dangling_escape(&self, text: &str) -> Option<TextRange> {
        if !self.heredocs.is_empty() {
            return None;
        }
        let end = self.range.end;
        let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        let escape = u8::try_from(self.escape).ok()?;
        let e = continuation(
            text.as_bytes(),
            line_start.max(self.range.start),
            end,
            escape,
        )?;
        let before = text[..e].trim_end_matches([' ', '\t']).len();
        let start = if before > line_start.max(self.keyword_range.end) {
            before
        } else {
            e
        };
        Some(TextRange::new(start, end))
    }

    /// Whether removing [`Instruction::dangling_escape`] ends the instruction: not when the text left
    /// before it ends in an escape character again (`VOLUME /config \<tab> \`: the literal `\`
    /// before the blanks would then continue the line, and BuildKit has no way to read it at the end
    /// of a line without continuing it), nor when the last line is only the escape character (the
    /// line before it is continued too). True when there is no dangling escape.
    #[must_use]
    pub fn dangling_escape_closes(&self, text: &str) -> bool {
        let Some(r) = self.dangling_escape(text) else {
            return true;
        };
        let Ok(escape) = u8::try_from(self.escape) else {
            return true;
        };
        let line_start = text[..r.start]
            .rfind('\n')
            .map_or(0, |i| i + 1)
            .max(self.range.start);
        if text[line_start..r.start]
            .trim_matches([' ', '\t'])
            .is_empty()
        {
            // A line that was only the escape character becomes blank, and BuildKit skips blank
            // lines inside the continuation of the line before it.
            return false;
        }
        continuation(text.as_bytes(), line_start, r.start, escape).is_none()
    }

    /// Is the arguments' form JSON (exec form)?
    #[must_use]
    pub fn is_json(&self) -> bool {
        matches!(self.args, Args::Json(_))
    }

    /// The first flag named `name` (without `--`).
    #[must_use]
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// The words of shell-form arguments as BuildKit's `parseWords` splits them
    /// (whitespace-separated, respecting quotes and escapes, which are kept in the word); empty
    /// for the exec form. Split on first use: a `RUN`'s script is lexed as shell instead, and its
    /// words are rarely asked for.
    #[must_use]
    pub fn shell_words(&self) -> &[Word] {
        let Args::Shell(a) = &self.args else {
            return &[];
        };
        self.words.0.get_or_init(|| {
            let (s, e) = (a.logical_start, a.logical_start + a.text.len());
            let mut cursor = 0;
            parse_words(&self.logical.text, s, e, self.escape)
                .into_iter()
                .map(|(value, ws, we)| Word {
                    value,
                    range: self.logical.range_from(&mut cursor, ws, we),
                })
                .collect()
        })
    }

    /// `FROM [--platform=..] image [AS name]`: the image reference, split into its parts.
    #[must_use]
    pub fn from_image(&self) -> Option<ImageRef> {
        if self.keyword != "FROM" {
            return None;
        }
        self.image.0.get_or_init(|| self.split_image()).clone()
    }

    /// The reference of [`Instruction::from_image`] as written, without copying the split.
    #[must_use]
    pub fn from_image_text(&self) -> Option<&str> {
        if self.keyword != "FROM" {
            return None;
        }
        self.image
            .0
            .get_or_init(|| self.split_image())
            .as_ref()
            .map(|r| r.text.as_str())
    }

    /// [`Instruction::from_image`], computed.
    fn split_image(&self) -> Option<ImageRef> {
        let (s, e) = self.args_span()?;
        let (ws, we) = *split_re_ws(self.ll(), s, e).first()?;
        if ws >= we {
            return None;
        }
        Some(image_ref(&self.logical, ws, we))
    }

    /// `FROM image AS name`: the stage name and its span (BuildKit requires exactly three arguments).
    #[must_use]
    pub fn from_alias(&self) -> Option<(String, TextRange)> {
        if self.keyword != "FROM" {
            return None;
        }
        let words = self.ascii_words();
        if words.len() == 3 && words[1].0.eq_ignore_ascii_case("as") {
            Some(words[2].clone())
        } else {
            None
        }
    }

    /// `FROM --platform=...`: the platform value and its span.
    #[must_use]
    pub fn from_platform(&self) -> Option<(String, TextRange)> {
        if self.keyword != "FROM" {
            return None;
        }
        let f = self.flag("platform")?;
        Some((f.value.clone()?, f.value_range?))
    }

    /// The pairs of `ENV`, `LABEL` (both the `k=v k2="v 2"` and the legacy `k value with spaces` forms)
    /// and `ARG` (`name` or `name=default`). Empty for other instructions. Values are unquoted with the
    /// file's escape character; variables are not expanded.
    #[must_use]
    pub fn key_values(&self) -> Vec<KeyValue> {
        self.key_values
            .0
            .get_or_init(|| self.split_key_values())
            .clone()
    }

    /// [`Instruction::key_values`], computed.
    fn split_key_values(&self) -> Vec<KeyValue> {
        let escape = self.escape;
        let Some((s, e)) = self.args_span() else {
            return Vec::new();
        };
        let l = self.ll();
        let raw = match self.keyword.as_str() {
            "ENV" | "LABEL" => name_val(l, s, e, escape, &self.keyword).unwrap_or_default(),
            "ARG" => name_or_name_val(l, s, e, escape),
            _ => return Vec::new(),
        };
        raw.into_iter()
            .map(|kv| {
                let (key, ks, ke) = kv.key;
                let (value, value_range, end) = match kv.value {
                    Some((v, vs, ve)) => (
                        Some(unquote(&v, escape)),
                        Some(self.logical.range(vs, ve)),
                        ve,
                    ),
                    None => (None, None, ke),
                };
                KeyValue {
                    key: unquote(&key, escape),
                    key_range: self.logical.range(ks, ke),
                    value,
                    value_range,
                    range: self.logical.range(ks, end),
                }
            })
            .collect()
    }

    /// `EXPOSE 80 443/tcp`: the port words and their spans.
    #[must_use]
    pub fn expose_ports(&self) -> Vec<(String, TextRange)> {
        if self.keyword != "EXPOSE" {
            return Vec::new();
        }
        self.ascii_words()
    }

    /// `USER name[:group]`: the whole argument and its span.
    #[must_use]
    pub fn user(&self) -> Option<(String, TextRange)> {
        if self.keyword != "USER" {
            return None;
        }
        let args = self.shell_args()?;
        if args.text.is_empty() {
            return None;
        }
        Some((args.text.clone(), args.range))
    }

    /// `HEALTHCHECK [flags] CMD ...` / `HEALTHCHECK NONE`: the type and the command.
    #[must_use]
    pub fn healthcheck(&self) -> Option<Healthcheck> {
        if self.keyword != "HEALTHCHECK" {
            return None;
        }
        let (s, e) = self.args_span()?;
        let ctx = Ctx {
            logical: &self.logical,
            escape: self.escape,
        };
        ctx.healthcheck(s, e).ok().flatten()
    }

    /// The arguments as BuildKit's parser stores them in its AST (the values of the `Next` chain): JSON
    /// elements, whitespace-split words (`ADD`/`COPY`/`VOLUME`/`FROM`/`EXPOSE`), the whole string
    /// (`RUN`/`CMD`/...), key/value/separator triples (`ENV`/`LABEL`), `parseWords` words (`ARG`).
    #[must_use]
    pub fn buildkit_args(&self) -> Vec<String> {
        let l = self.ll();
        let json = |a: &JsonArgs| a.items.iter().map(|i| i.value.clone()).collect::<Vec<_>>();
        let kw = self.keyword.to_lowercase();
        match kw.as_str() {
            "add" | "copy" | "volume" => match &self.args {
                Args::Json(a) => json(a),
                Args::Shell(_) => self.ascii_words_all(),
            },
            "expose" | "from" => self.ascii_words_all(),
            "run" | "cmd" | "entrypoint" | "shell" => match &self.args {
                Args::Json(a) => json(a),
                Args::Shell(s) if s.text.is_empty() => Vec::new(),
                Args::Shell(s) => vec![s.text.clone()],
            },
            "healthcheck" => match self.healthcheck() {
                None => Vec::new(),
                Some(h) => {
                    let mut v = vec![h.kind];
                    match h.cmd {
                        Some(Args::Json(a)) => v.extend(json(&a)),
                        Some(Args::Shell(s)) if !s.text.is_empty() => v.push(s.text),
                        _ => {}
                    }
                    v
                }
            },
            "env" | "label" => {
                let Some((s, e)) = self.args_span() else {
                    return Vec::new();
                };
                name_val(l, s, e, self.escape, &self.keyword)
                    .unwrap_or_default()
                    .into_iter()
                    .flat_map(|kv| {
                        let sep = if kv.legacy { "" } else { "=" };
                        [
                            kv.key.0,
                            kv.value.map(|v| v.0).unwrap_or_default(),
                            sep.to_string(),
                        ]
                    })
                    .collect()
            }
            "arg" => match self.shell_args() {
                Some(_) => self.shell_words().iter().map(|w| w.value.clone()).collect(),
                None => Vec::new(),
            },
            "maintainer" | "stopsignal" | "user" | "workdir" => match self.shell_args() {
                Some(s) if !s.text.is_empty() => vec![s.text.clone()],
                _ => Vec::new(),
            },
            "onbuild" => Vec::new(),
            // BuildKit's `parseIgnore` leaves one empty node.
            _ => vec![String::new()],
        }
    }

    fn ascii_words_all(&self) -> Vec<String> {
        let Some((s, e)) = self.args_span() else {
            return Vec::new();
        };
        split_re_ws(self.ll(), s, e)
            .into_iter()
            .map(|(a, b)| self.ll()[a..b].to_string())
            .collect()
    }

    /// The instruction dumped like BuildKit's `Node.Dump()`, e.g. `(copy ["--from=b"] "a" "/b")`.
    #[must_use]
    pub fn buildkit_dump(&self) -> String {
        format!("({})", self.dump_body())
    }

    fn dump_body(&self) -> String {
        let mut s = self.keyword.to_lowercase();
        if !self.flags.is_empty() {
            s.push_str(" [");
            for (n, f) in self.flags.iter().enumerate() {
                if n > 0 {
                    s.push(' ');
                }
                let word = match &f.value {
                    Some(v) => format!("--{}={v}", f.name),
                    None => format!("--{}", f.name),
                };
                s.push_str(&go_quote(&word));
            }
            s.push(']');
        }
        if let Some(inner) = &self.onbuild {
            let _ = write!(s, " ({})", inner.dump_body());
        } else {
            for v in self.buildkit_args() {
                s.push(' ');
                s.push_str(&go_quote(&v));
            }
        }
        s.trim().to_string()
    }
}

/// Splits an image reference at logical `ws..we` into registry / repository / tag / digest.
fn image_ref(logical: &LogicalLine, ws: usize, we: usize) -> ImageRef {
    let l = &logical.text;
    let w = &l[ws..we];
    // Offsets (relative to `w`) of separators outside `${...}`.
    let mut top = Vec::with_capacity(w.len());
    let mut depth = 0usize;
    let b = w.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            depth += 1;
            top.push(false);
            top.push(false);
            i += 2;
            continue;
        }
        if b[i] == b'}' && depth > 0 {
            depth -= 1;
            top.push(false);
            i += 1;
            continue;
        }
        top.push(depth == 0);
        i += 1;
    }
    let find = |c: u8, from: usize, to: usize| (from..to).find(|&k| top[k] && b[k] == c);
    let rfind = |c: u8, from: usize, to: usize| (from..to).rev().find(|&k| top[k] && b[k] == c);
    let part = |a: usize, z: usize| (w[a..z].to_string(), logical.range(ws + a, ws + z));

    let (name_end, digest) = match find(b'@', 0, b.len()) {
        Some(at) => (at, Some(part(at + 1, b.len()))),
        None => (b.len(), None),
    };
    let (registry, repo_start) = match find(b'/', 0, name_end) {
        Some(slash) => {
            let first = &w[..slash];
            let is_domain = find(b'.', 0, slash).is_some()
                || find(b':', 0, slash).is_some()
                || first == "localhost"
                || first.to_lowercase() != first;
            if is_domain {
                (Some(part(0, slash)), slash + 1)
            } else {
                (None, 0)
            }
        }
        None => (None, 0),
    };
    let last_slash = rfind(b'/', repo_start, name_end).map_or(repo_start, |k| k + 1);
    let (repo_end, tag) = match rfind(b':', last_slash, name_end) {
        Some(colon) => (colon, Some(part(colon + 1, name_end))),
        None => (name_end, None),
    };
    ImageRef {
        range: logical.range(ws, we),
        text: w.to_string(),
        registry,
        repository: part(repo_start, repo_end),
        tag,
        digest,
    }
}

/// Go's `strconv.Quote`.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if go_is_print(c) => out.push(c),
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Approximates Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols, ASCII space).
fn go_is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(
            u,
            0xad | 0x600..=0x605
                | 0x61c
                | 0x6dd
                | 0x70f
                | 0x180e
                | 0x200b..=0x200f
                | 0x2028..=0x202e
                | 0x2060..=0x206f
                | 0xfeff
                | 0xfff9..=0xfffb
                | 0xe000..=0xf8ff
                | 0xfffe
                | 0xffff
                | 0xf0000..
        ))
}

// ------------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Dockerfile {
        let d =
            parse(text).unwrap_or_else(|e| panic!("parse failed: {e} at {:?}\n{text}", e.range));
        assert_lossless(&d, text);
        d
    }

    fn assert_lossless(d: &Dockerfile, text: &str) {
        assert!(d.covers(text), "nodes do not cover the text: {:?}", d.nodes);
        assert_eq!(d.print(text), text);
        for i in &d.instructions {
            check_instruction_ranges(i, text);
        }
    }

    fn check_instruction_ranges(i: &Instruction, text: &str) {
        let all = std::iter::once(i.range)
            .chain([i.full_range, i.keyword_range])
            .chain(i.flags.iter().flat_map(|f| {
                [Some(f.range), Some(f.name_range), f.value_range]
                    .into_iter()
                    .flatten()
            }))
            .chain(
                i.heredocs
                    .iter()
                    .flat_map(|h| [h.marker_range, h.body_range, h.terminator_range]),
            )
            .chain(match &i.args {
                Args::Json(a) => std::iter::once(a.range)
                    .chain(a.items.iter().map(|x| x.range))
                    .collect::<Vec<_>>(),
                Args::Shell(s) => std::iter::once(s.range)
                    .chain(i.shell_words().iter().map(|w| w.range))
                    .collect(),
            });
        for r in all {
            assert!(r.end <= text.len(), "{r:?} past end");
            assert!(
                text.get(r.start..r.end).is_some(),
                "{r:?} not on char boundary"
            );
            assert!(
                i.full_range.contains_range(r),
                "{r:?} outside {:?}",
                i.full_range
            );
        }
        if let Some(inner) = &i.onbuild {
            check_instruction_ranges(inner, text);
        }
        let _ = i.key_values();
        let _ = i.from_image();
        let _ = i.healthcheck();
        let _ = i.buildkit_dump();
    }

    fn shell(i: &Instruction) -> &ShellArgs {
        match &i.args {
            Args::Shell(s) => s,
            Args::Json(_) => panic!("expected shell form"),
        }
    }

    #[test]
    fn simple_and_node_kinds() {
        let t = "# syntax=docker/dockerfile:1\n\n# c\nFROM alpine AS base\nRUN echo hi\n";
        let d = p(t);
        assert_eq!(d.directives.len(), 1);
        assert_eq!(d.directives[0].name, "syntax");
        assert_eq!(d.directives[0].value, "docker/dockerfile:1");
        let kinds: Vec<_> = d.nodes.iter().map(|n| n.kind).collect();
        assert_eq!(
            kinds,
            vec![
                NodeKind::Directive(0),
                NodeKind::Blank,
                NodeKind::Comment,
                NodeKind::Instruction(0),
                NodeKind::Instruction(1)
            ]
        );
        let run = &d.instructions[1];
        assert_eq!(run.keyword, "RUN");
        assert_eq!(run.keyword_range.slice(t), "RUN");
        assert_eq!(run.range.slice(t), "RUN echo hi");
        assert_eq!(run.full_range.slice(t), "RUN echo hi\n");
        assert_eq!(shell(run).text, "echo hi");
        assert_eq!(shell(run).range.slice(t), "echo hi");
    }

    #[test]
    fn empty_file_and_comments_only() {
        let e = parse("").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::NoInstructions);
        assert_eq!(e.range, TextRange::empty(0));
        let e = parse("# a\n\n").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::NoInstructions);
    }

    #[test]
    fn crlf() {
        let t = "FROM a\r\nRUN x \\\r\n  y\r\n\r\nCMD [\"a\"]\r\n";
        let d = p(t);
        assert_eq!(d.instructions.len(), 3);
        assert_eq!(shell(&d.instructions[1]).text, "x   y");
        assert_eq!(d.instructions[1].range.slice(t), "RUN x \\\r\n  y");
        assert_eq!(d.instructions[1].full_range.slice(t), "RUN x \\\r\n  y\r\n");
        assert!(d.instructions[2].is_json());
        assert_eq!(d.nodes[2].kind, NodeKind::Blank);
        assert_eq!(d.nodes[2].range.slice(t), "\r\n");
    }

    #[test]
    fn bom() {
        let t = "\u{feff}# escape=`\nFROM a\nRUN x `\n  y\n";
        let d = p(t);
        assert!(d.bom);
        assert_eq!(d.nodes[0].kind, NodeKind::Bom);
        assert_eq!(d.nodes[0].range, TextRange::new(0, 3));
        assert_eq!(d.escape, '`');
        assert_eq!(d.instructions[0].line_start, d.nodes[2].range.start);
        assert_eq!(shell(&d.instructions[1]).text, "x   y");
    }

    #[test]
    fn backtick_escape() {
        let t = "# escape=`\nFROM windows\nRUN dir c:\\ `\n    && echo \\done\nENV A=b\\\n";
        let d = p(t);
        assert_eq!(d.escape, '`');
        assert_eq!(
            shell(&d.instructions[1]).text,
            "dir c:\\     && echo \\done"
        );
        // With a backtick escape, a trailing backslash does not continue the line.
        assert_eq!(d.instructions.len(), 3);
        assert_eq!(
            d.instructions[2].key_values()[0].value.as_deref(),
            Some("b\\")
        );
    }

    #[test]
    fn directives_only_at_top() {
        let t = "# comment\n# escape=`\nFROM a\nRUN a `\nRUN b\n";
        let d = p(t);
        assert!(d.directives.is_empty());
        assert_eq!(d.escape, '\\');
        assert_eq!(d.instructions.len(), 3);
        let e = parse("# escape=`\n# escape=\\\nFROM a\n").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Directive);
        assert_eq!(e.line_col("# escape=`\n# escape=\\\nFROM a\n").line, 2);
        let e = parse("# escape=x\nFROM a\n").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Directive);
        // Unknown directive names end the directive section and are comments.
        let d = p("# foo=bar\n# escape=`\nFROM a\n");
        assert!(d.directives.is_empty());
        let d = p("# syntax = docker/dockerfile:1\n#check=skip=all\nFROM a\n");
        assert_eq!(d.directives.len(), 2);
        assert_eq!(d.directives[1].name, "check");
        assert_eq!(d.directives[1].value, "skip=all");
    }

    #[test]
    fn continuation_rules() {
        let t = "RUN a \\\n# comment\n\n   \n  b \\  \n  c\\\\\nRUN d\n";
        let d = p(t);
        assert_eq!(d.instructions.len(), 2);
        assert_eq!(shell(&d.instructions[0]).text, "a   b   c\\\\");
        let r = d.instructions[0].range;
        assert_eq!(r.slice(t), "RUN a \\\n# comment\n\n   \n  b \\  \n  c\\\\");
        // Words map back across the continuation.
        let words = d.instructions[0].shell_words();
        assert_eq!(words[1].value, "b");
        assert_eq!(words[1].range.slice(t), "b");
        // Continuation at EOF.
        let d = p("FROM a\nRUN x \\");
        assert_eq!(shell(&d.instructions[1]).text, "x");
    }

    #[test]
    fn no_final_newline() {
        let t = "FROM a\nRUN echo";
        let d = p(t);
        assert_eq!(d.instructions[1].full_range, TextRange::new(7, t.len()));
        assert_eq!(d.instructions[1].range.slice(t), "RUN echo");
    }

    #[test]
    fn leading_whitespace_and_no_eol_comments() {
        let t = "  FROM a # not a comment\n\t# comment\n";
        let d = p(t);
        assert_eq!(d.instructions[0].line_start, 0);
        assert_eq!(d.instructions[0].keyword_range.start, 2);
        assert_eq!(d.instructions[0].from_image().unwrap().text, "a");
        assert_eq!(shell(&d.instructions[0]).text, "a # not a comment");
        assert_eq!(d.nodes[1].kind, NodeKind::Comment);
    }

    #[test]
    fn heredoc_basic() {
        let t = "FROM a\nRUN <<EOF\necho hi\n  x\nEOF\nCMD x\n";
        let d = p(t);
        let run = &d.instructions[1];
        assert_eq!(run.heredocs.len(), 1);
        let h = &run.heredocs[0];
        assert_eq!(h.name, "EOF");
        assert!(!h.strip_tabs && !h.quoted && h.terminated);
        assert_eq!(h.fd, None);
        assert_eq!(h.marker_range.slice(t), "<<EOF");
        assert_eq!(h.body_range.slice(t), "echo hi\n  x\n");
        assert_eq!(h.body, "echo hi\n  x\n");
        assert_eq!(h.terminator_range.slice(t), "EOF");
        assert_eq!(run.range.slice(t), "RUN <<EOF\necho hi\n  x\nEOF");
        assert_eq!(run.full_range.slice(t), "RUN <<EOF\necho hi\n  x\nEOF\n");
        assert_eq!(d.instructions[2].keyword, "CMD");
    }

    #[test]
    fn heredoc_variants() {
        let t = "RUN <<-EOF\n\techo a\n\t\tb\n\tEOF\nCOPY <<\"EOT\" /x\n$HOME\nEOT\nRUN 3<<'X' cat\nX\n";
        let d = p(t);
        let h = &d.instructions[0].heredocs[0];
        assert!(h.strip_tabs);
        assert_eq!(h.body, "echo a\nb\n");
        assert_eq!(h.body_range.slice(t), "\techo a\n\t\tb\n");
        assert_eq!(h.terminator_range.slice(t), "\tEOF");
        let c = &d.instructions[1];
        assert_eq!(c.keyword, "COPY");
        assert_eq!(c.heredocs[0].name, "EOT");
        assert!(c.heredocs[0].quoted);
        assert_eq!(c.heredocs[0].body, "$HOME\n");
        let r = &d.instructions[2];
        assert_eq!(r.heredocs[0].fd, Some(3));
        assert!(r.heredocs[0].quoted);
        assert_eq!(r.heredocs[0].body, "");
        assert_eq!(
            r.heredocs[0].body_range,
            TextRange::empty(r.heredocs[0].terminator_range.start)
        );
    }

    #[test]
    fn heredoc_several_in_one_run() {
        let t = "RUN <<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nfirst\nFILE1\nI am\nsecond\nFILE2\nRUN x\n";
        let d = p(t);
        let hs = &d.instructions[0].heredocs;
        assert_eq!(hs.len(), 2);
        assert_eq!(hs[0].name, "FILE1");
        assert_eq!(hs[0].body, "I am\nfirst\n");
        assert_eq!(hs[1].name, "FILE2");
        assert_eq!(hs[1].body, "I am\nsecond\n");
        assert_eq!(hs[1].marker_range.slice(t), "<<FILE2");
        assert_eq!(d.instructions.len(), 2);
    }

    #[test]
    fn heredoc_not_for_other_instructions_or_json() {
        let d = p("ENV a=<<EOF\nEOF\n");
        assert_eq!(d.instructions.len(), 2);
        let d = p("RUN [\"cat\", \"<<EOF\"]\nEOF\n");
        assert_eq!(d.instructions.len(), 2);
        let d = p("RUN cat <<<word\nRUN x <<\n");
        assert_eq!(d.instructions.len(), 2);
        assert!(d.instructions[0].heredocs.is_empty());
        // ONBUILD RUN carries heredocs.
        let t = "ONBUILD RUN <<EOF\nx\nEOF\n";
        let d = p(t);
        assert_eq!(d.instructions.len(), 1);
        assert_eq!(d.instructions[0].heredocs[0].body, "x\n");
        let inner = d.instructions[0].onbuild.as_ref().unwrap();
        assert_eq!(inner.keyword, "RUN");
        assert_eq!(inner.heredocs.len(), 1);
        assert_eq!(inner.keyword_range.slice(t), "RUN");
    }

    #[test]
    fn heredoc_unterminated_runs_to_eof() {
        let t = "RUN <<EOF\nabc\n";
        let d = p(t);
        let h = &d.instructions[0].heredocs[0];
        assert!(!h.terminated);
        assert_eq!(h.body, "abc\n");
        assert_eq!(h.terminator_range, TextRange::empty(t.len()));
    }

    #[test]
    fn json_vs_shell() {
        let t = "CMD [\"a\", \"b c\"]\nCMD ['a']\nENTRYPOINT [\"x\"] y\nCMD [ ]\nRUN [\"a\\u00e9\\n\"]\n";
        let d = p(t);
        match &d.instructions[0].args {
            Args::Json(a) => {
                assert_eq!(a.range.slice(t), "[\"a\", \"b c\"]");
                assert_eq!(a.items[1].value, "b c");
                assert_eq!(a.items[1].range.slice(t), "\"b c\"");
            }
            Args::Shell(_) => panic!(),
        }
        assert!(!d.instructions[1].is_json());
        assert!(!d.instructions[2].is_json());
        assert!(matches!(&d.instructions[3].args, Args::Json(a) if a.items.is_empty()));
        match &d.instructions[4].args {
            Args::Json(a) => assert_eq!(a.items[0].value, "a\u{e9}\n"),
            Args::Shell(_) => panic!(),
        }
        let e = parse("CMD [\"a\", 1]\n").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Syntax);
        assert_eq!(e.range, TextRange::new(4, 12));
        // JSON over a continuation.
        let t = "CMD [\"a\", \\\n  \"b\"]\n";
        let d = p(t);
        match &d.instructions[0].args {
            Args::Json(a) => assert_eq!(a.items[1].range.slice(t), "\"b\""),
            Args::Shell(_) => panic!(),
        }
        // ENV never uses the JSON form.
        assert!(!p("ENV [\"a\"] b\n").instructions[0].is_json());
    }

    #[test]
    fn flags() {
        let t = "COPY --link --from=build --chmod=\"755\" a b\nRUN --mount=type=cache,target=/x -- echo\nCOPY -- --x y\n";
        let d = p(t);
        let c = &d.instructions[0];
        assert_eq!(c.flags.len(), 3);
        assert_eq!(c.flags[0].name, "link");
        assert_eq!(c.flags[0].value, None);
        assert_eq!(c.flags[0].range.slice(t), "--link");
        assert_eq!(c.flags[0].name_range.slice(t), "link");
        assert_eq!(c.flags[1].value.as_deref(), Some("build"));
        assert_eq!(c.flags[1].value_range.unwrap().slice(t), "build");
        assert_eq!(c.flags[2].value.as_deref(), Some("755"));
        assert_eq!(c.flags[2].value_range.unwrap().slice(t), "\"755\"");
        assert_eq!(c.flag("from").unwrap().name_range.slice(t), "from");
        assert_eq!(shell(c).text, "a b");
        let r = &d.instructions[1];
        assert_eq!(r.flags[0].value.as_deref(), Some("type=cache,target=/x"));
        assert_eq!(shell(r).text, "echo");
        let c = &d.instructions[2];
        assert!(c.flags.is_empty());
        assert_eq!(shell(c).text, "--x y");
        assert_eq!(c.buildkit_dump(), "(copy \"--x\" \"y\")");
    }

    #[test]
    fn kept_splits_are_the_computed_ones() {
        // Asked twice (the second answer is the one kept), over every corpus Dockerfile.
        let texts = crate::testing::corpus_files(|p| {
            crate::source::kind_from_path(&p.to_string_lossy())
                == Some(crate::source::FileKind::Dockerfile)
        });
        let mut asked = 0;
        for path in texts {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(df) = parse(&text) else {
                continue;
            };
            for ins in &df.instructions {
                for _ in 0..2 {
                    asked += 1;
                    let image = (ins.keyword == "FROM").then(|| ins.split_image()).flatten();
                    assert_eq!(ins.from_image(), image, "{}", path.display());
                    assert_eq!(
                        ins.key_values(),
                        ins.split_key_values(),
                        "{}",
                        path.display()
                    );
                }
            }
        }
        assert!(asked > 1000, "{asked}");
    }

    #[test]
    fn image_references() {
        let t = "FROM --platform=$BUILDPLATFORM docker.io/library/python:3.12-slim@sha256:abc AS Build\n\
                 FROM localhost:5000/x\nFROM ${BASE}:tag\nFROM ubuntu\nFROM ${REG:-a.b}/team/app:1.0\n";
        let d = p(t);
        let i = d.instructions[0].from_image().unwrap();
        assert_eq!(i.text, "docker.io/library/python:3.12-slim@sha256:abc");
        assert_eq!(i.registry.as_ref().unwrap().0, "docker.io");
        assert_eq!(i.registry.as_ref().unwrap().1.slice(t), "docker.io");
        assert_eq!(i.repository.0, "library/python");
        assert_eq!(i.repository.1.slice(t), "library/python");
        assert_eq!(i.tag.as_ref().unwrap().0, "3.12-slim");
        assert_eq!(i.tag.as_ref().unwrap().1.slice(t), "3.12-slim");
        assert_eq!(i.digest.as_ref().unwrap().0, "sha256:abc");
        assert_eq!(i.digest.as_ref().unwrap().1.slice(t), "sha256:abc");
        let (alias, r) = d.instructions[0].from_alias().unwrap();
        assert_eq!(alias, "Build");
        assert_eq!(r.slice(t), "Build");
        let (plat, r) = d.instructions[0].from_platform().unwrap();
        assert_eq!(plat, "$BUILDPLATFORM");
        assert_eq!(r.slice(t), "$BUILDPLATFORM");

        let i = d.instructions[1].from_image().unwrap();
        assert_eq!(i.registry.unwrap().0, "localhost:5000");
        assert_eq!(i.repository.0, "x");
        assert!(i.tag.is_none());

        let i = d.instructions[2].from_image().unwrap();
        assert!(i.registry.is_none());
        assert_eq!(i.repository.0, "${BASE}");
        assert_eq!(i.tag.unwrap().0, "tag");

        let i = d.instructions[3].from_image().unwrap();
        assert_eq!(i.repository.0, "ubuntu");
        assert!(i.tag.is_none() && i.digest.is_none() && i.registry.is_none());

        let i = d.instructions[4].from_image().unwrap();
        assert_eq!(i.registry.unwrap().0, "${REG:-a.b}");
        assert_eq!(i.repository.0, "team/app");
        assert_eq!(i.tag.unwrap().0, "1.0");

        let stages = d.stages();
        assert_eq!(stages.len(), 5);
        assert_eq!(stages[0].name.as_deref(), Some("Build"));
        assert_eq!(stages[0].instructions, 0..1);
    }

    #[test]
    fn env_forms() {
        let t = "ENV a=b c=\"d e\" f='g h' i=j\\ k\nENV PATH /usr/bin:$PATH with \"spaces\"\nARG x\nARG y=1 z\nLABEL \"com.x\"=\"v\"\n";
        let d = p(t);
        let kv = d.instructions[0].key_values();
        assert_eq!(kv.len(), 4);
        assert_eq!(kv[0].key, "a");
        assert_eq!(kv[0].key_range.slice(t), "a");
        assert_eq!(kv[0].value.as_deref(), Some("b"));
        assert_eq!(kv[1].value.as_deref(), Some("d e"));
        assert_eq!(kv[1].value_range.unwrap().slice(t), "\"d e\"");
        assert_eq!(kv[1].range.slice(t), "c=\"d e\"");
        assert_eq!(kv[2].value.as_deref(), Some("g h"));
        assert_eq!(kv[3].value.as_deref(), Some("j k"));
        let kv = d.instructions[1].key_values();
        assert_eq!(kv.len(), 1);
        assert_eq!(kv[0].key, "PATH");
        assert_eq!(kv[0].value.as_deref(), Some("/usr/bin:$PATH with spaces"));
        assert_eq!(
            kv[0].value_range.unwrap().slice(t),
            "/usr/bin:$PATH with \"spaces\""
        );
        let kv = d.instructions[2].key_values();
        assert_eq!(kv[0].key, "x");
        assert_eq!(kv[0].value, None);
        let kv = d.instructions[3].key_values();
        assert_eq!(kv.len(), 2);
        assert_eq!(kv[0].value.as_deref(), Some("1"));
        assert_eq!(kv[1].key, "z");
        let kv = d.instructions[4].key_values();
        assert_eq!(kv[0].key, "com.x");
        assert_eq!(kv[0].key_range.slice(t), "\"com.x\"");
        assert_eq!(kv[0].value.as_deref(), Some("v"));

        let e = parse("FROM a\nENV PATH\n").unwrap_err();
        assert_eq!(e.message, "ENV must have two arguments");
        assert_eq!(e.line_col("FROM a\nENV PATH\n").line, 2);
        let e = parse("FROM a\nENV a=b c\n").unwrap_err();
        assert_eq!(e.range, TextRange::new(15, 16));
    }

    #[test]
    fn comments_inside_continuation() {
        let t = "RUN apt-get update \\\n  # install things\n  && apt-get install -y x \\\n\n  && rm -rf /var/lib/apt\n";
        let d = p(t);
        assert_eq!(d.instructions.len(), 1);
        assert_eq!(d.nodes.len(), 1);
        assert_eq!(
            shell(&d.instructions[0]).text,
            "apt-get update   && apt-get install -y x   && rm -rf /var/lib/apt"
        );
    }

    #[test]
    fn expose_user_healthcheck() {
        let t = "EXPOSE 80 443/tcp\nUSER app:app\nHEALTHCHECK --interval=5s CMD [\"curl\", \"x\"]\nHEALTHCHECK NONE\n";
        let d = p(t);
        let ports = d.instructions[0].expose_ports();
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[1].0, "443/tcp");
        assert_eq!(ports[1].1.slice(t), "443/tcp");
        let (u, r) = d.instructions[1].user().unwrap();
        assert_eq!(u, "app:app");
        assert_eq!(r.slice(t), "app:app");
        let h = d.instructions[2].healthcheck().unwrap();
        assert_eq!(h.kind, "CMD");
        assert!(matches!(h.cmd, Some(Args::Json(ref a)) if a.items.len() == 2));
        let h = d.instructions[3].healthcheck().unwrap();
        assert_eq!(h.kind, "NONE");
        assert!(h.cmd.is_none());
        assert!(parse("HEALTHCHECK CMD [1]\n").is_err());
    }

    #[test]
    fn unknown_keyword_and_templates() {
        let d = p("FROM a\nFOO bar\n");
        assert_eq!(d.instructions[1].keyword, "FOO");
        assert_eq!(d.instructions[1].buildkit_dump(), "(foo \"\")");
        for t in [
            "FROM a\n{{ if .X }}\nRUN x\n",
            "%%FROM%% a\n",
            "FROM a\n  {% block %}\n",
            "%s\n",
        ] {
            let e = parse(t).unwrap_err();
            assert!(e.is_template(), "{t}: {e}");
            assert!(e.message.contains("template"));
        }
        let e = parse("FROM a\n{{ if .X }}\n").unwrap_err();
        assert_eq!(e.line_col("FROM a\n{{ if .X }}\n").line, 2);
        // Template syntax in arguments is fine.
        p("FROM {{ .Image }}\nRUN echo '{{ .X }}'\n");
    }

    #[test]
    fn escape_only_line_starts_instruction() {
        let t = "\\\nFROM a\n";
        let d = p(t);
        assert_eq!(d.instructions.len(), 1);
        assert_eq!(d.instructions[0].keyword, "FROM");
        assert_eq!(d.instructions[0].keyword_range.slice(t), "FROM");
        let d = p("FROM a\n\\");
        assert_eq!(d.instructions.len(), 2);
        assert_eq!(d.instructions[1].keyword, "");
    }

    #[test]
    fn onbuild() {
        let t = "ONBUILD COPY --from=x [\"a\", \"b\"]\nONBUILD\n";
        let d = p(t);
        let inner = d.instructions[0].onbuild.as_ref().unwrap();
        assert_eq!(inner.keyword, "COPY");
        assert_eq!(inner.flags[0].value_range.unwrap().slice(t), "x");
        assert!(inner.is_json());
        assert_eq!(
            d.instructions[0].buildkit_dump(),
            "(onbuild (copy [\"--from=x\"] \"a\" \"b\"))"
        );
        assert!(d.instructions[1].onbuild.is_none());
        assert_eq!(d.instructions[1].buildkit_dump(), "(onbuild)");
    }

    #[test]
    fn long_line_rejected() {
        let mut t = String::from("RUN ");
        t.push_str(&"a".repeat(MAX_LINE_LEN));
        let e = parse(&t).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::LineTooLong);
        let mut t = String::from("RUN ");
        t.push_str(&"a".repeat(MAX_LINE_LEN - 10));
        t.push('\n');
        assert!(parse(&t).is_ok());
    }

    #[test]
    fn logical_mapping_sequential_equals_binary_search() {
        let t = "RUN a\\\n\\\n  # c\n bc \\\n\n d\\\n";
        let d = p(t);
        let ll = &d.instructions[0].logical;
        assert!(ll.segments.len() >= 3, "{ll:?}");
        let n = ll.text.len();
        for s in 0..=n {
            let mut cursor = 0;
            for e in s..=n {
                assert_eq!(ll.range_from(&mut cursor, s, e), ll.range(s, e), "{s}..{e}");
            }
        }
        // A sequence of increasing ranges with one cursor.
        let mut cursor = 0;
        for s in 0..n {
            assert_eq!(ll.range_from(&mut cursor, s, s + 1), ll.range(s, s + 1));
        }
    }

    #[test]
    fn go_quote_matches_strconv() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("\u{0}\t\u{7f}"), r#""\x00\t\x7f""#);
        assert_eq!(go_quote("é☃"), "\"é☃\"");
        assert_eq!(go_quote("\u{a0}\u{feff}"), r#""\u00a0\ufeff""#);
    }

    fn corpus_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
    }

    #[test]
    fn buildkit_testfiles() {
        let dir = corpus_dir().join("moby__buildkit/frontend/dockerfile/parser");
        if !dir.is_dir() {
            eprintln!("skipping: {} not found", dir.display());
            return;
        }
        let mut n = 0;
        let mut entries: Vec<_> = std::fs::read_dir(dir.join("testfiles"))
            .unwrap()
            .flatten()
            .collect();
        entries.sort_by_key(std::fs::DirEntry::path);
        for entry in entries {
            let text = std::fs::read_to_string(entry.path().join("Dockerfile")).unwrap();
            let want = std::fs::read_to_string(entry.path().join("result")).unwrap();
            let d = p(&text);
            assert_eq!(
                d.buildkit_dump(),
                want.trim_end(),
                "{}",
                entry.path().display()
            );
            n += 1;
        }
        assert_eq!(n, 33);
        for entry in std::fs::read_dir(dir.join("testfiles-negative"))
            .unwrap()
            .flatten()
        {
            let text = std::fs::read_to_string(entry.path().join("Dockerfile")).unwrap();
            let e = parse(&text).expect_err(&entry.path().display().to_string());
            assert!(e.range.end <= text.len());
        }
    }

    /// xorshift64*
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }

    #[test]
    fn property_no_panic_and_lossless() {
        const FRAGMENTS: &[&str] = &[
            "FROM ",
            "RUN ",
            "COPY ",
            "ADD ",
            "ENV ",
            "ARG ",
            "LABEL ",
            "ONBUILD ",
            "CMD ",
            "HEALTHCHECK ",
            "EXPOSE ",
            "USER ",
            "\\\n",
            "\\",
            "`",
            "\n",
            "\r\n",
            "\r",
            "#",
            "# escape=`\n",
            "# syntax=x\n",
            "<<EOF",
            "<<-EOF",
            "<<'EOF'",
            "<<\"EOF\"",
            "EOF\n",
            "\tEOF\n",
            "\"",
            "'",
            " ",
            "  ",
            "\t",
            "a",
            "b=c",
            "=",
            "--link ",
            "--from=x ",
            "--",
            "[",
            "]",
            "\"a\"",
            ",",
            "1",
            "{",
            "}",
            "$",
            "${",
            "é",
            "\u{feff}",
            "\u{a0}",
            "{{",
            "%s",
            "x y",
            "\\\\",
            "``",
            "2<<E",
            "E\n",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut parsed = 0;
        for _ in 0..5000 {
            let n = 1 + rng.below(24);
            let mut s = String::new();
            for _ in 0..n {
                s.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            }
            match parse(&s) {
                Ok(d) => {
                    assert_lossless(&d, &s);
                    parsed += 1;
                }
                Err(e) => {
                    assert!(
                        e.range.end <= s.len() && s.get(e.range.start..e.range.end).is_some(),
                        "{s:?}"
                    );
                }
            }
        }
        assert!(parsed > 1000, "only {parsed} parsed");
    }
}
