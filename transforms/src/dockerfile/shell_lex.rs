//! A small POSIX shell lexer for the commands of `RUN`, `CMD` and `ENTRYPOINT` (shell form) and of
//! `RUN <<EOF` heredoc scripts, with byte offsets back into the Dockerfile.
//!
//! It is not a shell: it splits a command string into words and operators the way `sh` does
//! (quotes, `\` escapes, `$(...)`, `${...}`, backticks, `#` comments, here-documents skipped), then
//! into simple commands (separated by `;`, `&&`, `||`, `|`, `&`, newlines and parentheses), so that a
//! rule can find `apt-get install` or `dockerd -H tcp://...` and edit exactly the bytes of a word. The
//! shell's escape character is always `\`, whatever the Dockerfile's `escape` directive says.

use std::sync::Arc;

use crate::dockerfile::syntax::{Args, Instruction};
use crate::edit::Edit;
use crate::text::TextRange;

/// A token of a shell command string; offsets are relative to the lexed string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A word (quotes and escapes included in its span).
    Word,
    /// A control operator (`&&`, `;`, `|`, `(`, ...) or a redirection operator (`>`, `<<`, `2>&1`'s `>&`).
    Op,
    /// A line break (a command separator; only in multi-line scripts).
    Newline,
}

/// A word of a simple command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShWord {
    /// The word as written (quotes included).
    pub raw: String,
    /// The word with quotes and `\` escapes removed (no expansion: `$X` stays `$X`).
    pub value: String,
    pub start: usize,
    pub end: usize,
}

/// A simple command: its words (redirections left out) and where it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleCommand {
    pub words: Vec<ShWord>,
    /// End of the command's last token (a redirection target included).
    pub end: usize,
    /// [`SimpleCommand::name_index`], found when the command is complete (the rules ask for it
    /// several times per command).
    name: Option<usize>,
}

impl SimpleCommand {
    /// A command of `words`, ending at `end`.
    #[must_use]
    pub fn new(words: Vec<ShWord>, end: usize) -> Self {
        let mut c = Self {
            words,
            end,
            name: None,
        };
        c.name = c.find_name_index();
        c
    }

    /// Index in [`SimpleCommand::words`] of the command name, after leading reserved words
    /// (`if`, `then`, `!`, `{`, ...), variable assignments (`DEBIAN_FRONTEND=noninteractive`) and
    /// wrappers (`sudo`, `env`, `xargs`, `nohup`, `exec`, `command`, `time`, `nice`).
    #[must_use]
    pub fn name_index(&self) -> Option<usize> {
        self.name
    }

    /// [`SimpleCommand::name_index`], computed.
    fn find_name_index(&self) -> Option<usize> {
        let w = &self.words;
        let mut i = 0;
        while i < w.len() {
            let v = w[i].value.as_str();
            if matches!(
                v,
                "!" | "{"
                    | "}"
                    | "if"
                    | "then"
                    | "else"
                    | "elif"
                    | "fi"
                    | "do"
                    | "done"
                    | "while"
                    | "until"
                    | "time"
            ) && w[i].raw == v
            {
                i += 1;
                continue;
            }
            if matches!(v, "for" | "case" | "select" | "function") {
                return None;
            }
            if is_assignment(&w[i].raw) {
                i += 1;
                continue;
            }
            let base = basename(v);
            let with_arg: &[&str] = match base {
                "sudo" => &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"],
                "env" => &["-u", "-C", "-S", "--unset", "--chdir"],
                "xargs" => &["-I", "-n", "-P", "-L", "-a", "-d", "-E", "-s"],
                "nice" => &["-n"],
                "exec" => &["-a"],
                "command" | "nohup" | "stdbuf" => &[],
                _ => return Some(i),
            };
            i += 1;
            while i < w.len() && w[i].value.starts_with('-') && w[i].value.len() > 1 {
                if with_arg.contains(&w[i].value.as_str()) {
                    i += 1;
                }
                i += 1;
            }
            if base == "env" {
                while i < w.len() && is_assignment(&w[i].raw) {
                    i += 1;
                }
            }
        }
        None
    }

    /// The command name (basename, e.g. `apt-get` for `/usr/bin/apt-get`) and the words after it.
    #[must_use]
    pub fn name_and_args(&self) -> Option<(&str, &[ShWord])> {
        let i = self.name_index()?;
        Some((basename(&self.words[i].value), &self.words[i + 1..]))
    }
}

/// `NAME=value` (a shell variable assignment), judged on the word as written.
#[must_use]
pub fn is_assignment(raw: &str) -> bool {
    // One pass up to the first `=`: a name (a letter or `_`, then letters, digits, `_`) before it.
    let b = raw.as_bytes();
    if !b
        .first()
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
    {
        return false;
    }
    for &c in &b[1..] {
        if c == b'=' {
            return true;
        }
        if !(c.is_ascii_alphanumeric() || c == b'_') {
            return false;
        }
    }
    false
}

/// Whether `word` appears in `s` once quotes, backslashes and line breaks are left out: a word's
/// value ([`unquote`]) is its text less those, so a script that does not spell `word` has no word
/// whose value contains it (nor has a script given to `sh -c` in it).
#[must_use]
pub fn spells(s: &[u8], word: &[u8]) -> bool {
    let Some(&first) = word.first() else {
        return true;
    };
    memchr::memchr_iter(first, s).any(|i| spelled_at(s, i, word, |a, b| a == b))
}

/// [`spells`], ASCII letters compared without case.
#[must_use]
pub fn spells_ignoring_case(s: &[u8], word: &[u8]) -> bool {
    let Some(&first) = word.first() else {
        return true;
    };
    memchr::memchr2_iter(first.to_ascii_lowercase(), first.to_ascii_uppercase(), s)
        .any(|i| spelled_at(s, i, word, |a, b| a.eq_ignore_ascii_case(&b)))
}

/// Whether `word` (whose first byte matches `s[i]`) continues from `s[i]`, quotes, backslashes
/// and line breaks left out.
fn spelled_at(s: &[u8], i: usize, word: &[u8], same: impl Fn(u8, u8) -> bool) -> bool {
    let ignored = |b: u8| matches!(b, b'\\' | b'\'' | b'"' | b'\n' | b'\r');
    let mut next = s[i + 1..].iter().copied().filter(|&c| !ignored(c));
    word[1..]
        .iter()
        .all(|&w| next.next().is_some_and(|c| same(c, w)))
}

/// `/usr/bin/apt-get` → `apt-get`.
#[must_use]
pub fn basename(path: &str) -> &str {
    // What follows the last `/` (as `rsplit('/').next()`), without a searcher: words are short.
    match path.bytes().rposition(|b| b == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

const OPS: &[&str] = &[
    "&>>", "<<<", "<<-", "&&", "||", ";;", "|&", "&>", ">>", "<<", ">&", "<&", ">|", "<>", "&",
    "|", ";", "<", ">", "(", ")",
];

/// Redirection operators: the next word is their target, not an argument.
const REDIRECTS: &[&str] = &[
    "&>>", "<<<", "<<-", "&>", ">>", "<<", ">&", "<&", ">|", "<>", "<", ">",
];

fn is_op_byte(b: u8) -> bool {
    matches!(b, b'&' | b'|' | b';' | b'<' | b'>' | b'(' | b')')
}

/// The result of lexing.
#[derive(Clone, Debug, Default)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    /// False when the text ended inside a quote, a substitution or a here-document body.
    pub complete: bool,
    /// Here-documents opened on the last line, whose bodies are not in the text (a Dockerfile
    /// heredoc's marker on the `RUN` line); `complete` is not affected by them.
    pub open_heredocs: usize,
    /// Where the text stopped being readable (the start of the unterminated quote, substitution or
    /// here-document) when it is not `complete`.
    pub incomplete_at: Option<usize>,
    /// The bodies of the here-documents in the text (delimiter lines excluded), in order.
    pub heredoc_bodies: Vec<(usize, usize)>,
}

/// Splits `src` into tokens. Here-document bodies (after `<<WORD` and the next line break) and
/// `#` comments produce no token.
#[must_use]
pub fn lex(src: &str) -> Lexed {
    let b = src.as_bytes();
    let n = b.len();
    let mut tokens = Vec::new();
    let mut complete = true;
    let mut pending_heredocs: Vec<(String, bool)> = Vec::new();
    let mut want_delim: Option<bool> = None;
    let mut incomplete_at = None;
    let mut heredoc_bodies = Vec::new();
    let mut i = 0;
    while i < n {
        let c = b[i];
        if matches!(c, b' ' | b'\t' | b'\r') {
            i += 1;
            continue;
        }
        if c == b'\\' && b.get(i + 1) == Some(&b'\n') {
            i += 2;
            continue;
        }
        if c == b'\\' && b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
            i += 3;
            continue;
        }
        if c == b'\n' {
            tokens.push(Token {
                kind: TokenKind::Newline,
                start: i,
                end: i + 1,
            });
            i += 1;
            // Skip the bodies of the here-documents opened on this line.
            for (delim, strip) in pending_heredocs.drain(..) {
                let body_start = i;
                loop {
                    if i >= n {
                        complete = false;
                        incomplete_at.get_or_insert(body_start);
                        heredoc_bodies.push((body_start, n));
                        break;
                    }
                    let line_start = i;
                    let line_end = src[i..].find('\n').map_or(n, |p| i + p);
                    let mut line = src[i..line_end].trim_end_matches('\r');
                    if strip {
                        line = line.trim_start_matches('\t');
                    }
                    i = (line_end + 1).min(n);
                    if line == delim {
                        heredoc_bodies.push((body_start, line_start));
                        break;
                    }
                }
            }
            continue;
        }
        if c == b'#' {
            while i < n && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if is_op_byte(c) {
            let op = OPS
                .iter()
                .find(|op| src[i..].starts_with(**op))
                .copied()
                .unwrap_or(";");
            tokens.push(Token {
                kind: TokenKind::Op,
                start: i,
                end: i + op.len(),
            });
            if op == "<<" || op == "<<-" {
                want_delim = Some(op == "<<-");
            }
            i += op.len();
            continue;
        }
        let start = i;
        while i < n {
            let c = b[i];
            if matches!(c, b' ' | b'\t' | b'\r' | b'\n') || is_op_byte(c) {
                break;
            }
            match skip_unit(b, i) {
                Some(next) => i = next,
                None => {
                    complete = false;
                    incomplete_at.get_or_insert(i);
                    i = n;
                }
            }
        }
        tokens.push(Token {
            kind: TokenKind::Word,
            start,
            end: i,
        });
        if let Some(strip) = want_delim.take() {
            pending_heredocs.push((unquote(&src[start..i]), strip));
        }
    }
    Lexed {
        tokens,
        complete,
        open_heredocs: pending_heredocs.len(),
        incomplete_at,
        heredoc_bodies,
    }
}

/// Skips one lexical unit of a word starting at `i` (a character, an escape, a quoted string, a
/// substitution). None when the text ends inside it.
fn skip_unit(b: &[u8], i: usize) -> Option<usize> {
    match b[i] {
        b'\\' => {
            if i + 1 >= b.len() {
                return Some(b.len());
            }
            Some(i + 1 + utf8_len(b[i + 1]))
        }
        b'\'' => b[i + 1..]
            .iter()
            .position(|&c| c == b'\'')
            .map(|p| i + 1 + p + 1),
        b'"' => {
            let mut j = i + 1;
            while j < b.len() {
                match b[j] {
                    b'"' => return Some(j + 1),
                    b'\\' => j += 2,
                    b'$' if b.get(j + 1) == Some(&b'(') => j = skip_parens(b, j + 1)?,
                    b'`' => j = skip_backticks(b, j)?,
                    _ => j += 1,
                }
            }
            None
        }
        b'`' => skip_backticks(b, i),
        b'$' => match b.get(i + 1) {
            Some(b'(') => skip_parens(b, i + 1),
            Some(b'{') => {
                let mut depth = 0usize;
                let mut j = i + 1;
                while j < b.len() {
                    match b[j] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        b'\\' => j += 1,
                        b'\'' | b'"' => {
                            j = skip_unit(b, j)?;
                            continue;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                None
            }
            _ => Some(i + 1),
        },
        c => Some(i + utf8_len(c)),
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// `b[i]` is `(`: returns the offset after the matching `)`.
fn skip_parens(b: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            b'\\' => j += 1,
            b'\'' | b'"' | b'`' => {
                j = skip_unit(b, j)?;
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    None
}

fn skip_backticks(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'`' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
    None
}

/// Removes quotes and `\` escapes like the shell does (no expansion).
#[must_use]
pub fn unquote(raw: &str) -> String {
    // Most words quote and escape nothing: they are their own value.
    if !raw.bytes().any(|b| matches!(b, b'\\' | b'\'' | b'"')) {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    if n != '\n' {
                        out.push(n);
                    }
                }
            }
            '\'' => {
                for n in chars.by_ref() {
                    if n == '\'' {
                        break;
                    }
                    out.push(n);
                }
            }
            '"' => {
                while let Some(n) = chars.next() {
                    match n {
                        '"' => break,
                        '\\' => match chars.peek() {
                            Some(&e @ ('$' | '`' | '"' | '\\')) => {
                                out.push(e);
                                chars.next();
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => out.push('\\'),
                        },
                        _ => out.push(n),
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Splits tokens into simple commands. Redirections (and an io number glued to them, `2>`) are
/// left out of the words but count for [`SimpleCommand::end`].
#[must_use]
pub fn commands(src: &str, tokens: &[Token]) -> Vec<SimpleCommand> {
    let mut out = Vec::new();
    let mut cur = SimpleCommand {
        words: Vec::new(),
        end: 0,
        name: None,
    };
    let mut i = 0;
    let flush = |cur: &mut SimpleCommand, out: &mut Vec<SimpleCommand>| {
        if !cur.words.is_empty() {
            cur.name = cur.find_name_index();
            out.push(std::mem::replace(
                cur,
                SimpleCommand {
                    words: Vec::new(),
                    end: 0,
                    name: None,
                },
            ));
        }
    };
    while i < tokens.len() {
        let t = &tokens[i];
        match t.kind {
            TokenKind::Newline => flush(&mut cur, &mut out),
            TokenKind::Op => {
                let op = &src[t.start..t.end];
                if REDIRECTS.contains(&op) {
                    // An io number written right before the operator (`2>`).
                    if let Some(last) = cur.words.last() {
                        if last.end == t.start && last.raw.bytes().all(|c| c.is_ascii_digit()) {
                            cur.words.pop();
                        }
                    }
                    cur.end = t.end;
                    if let Some(next) = tokens.get(i + 1) {
                        if next.kind == TokenKind::Word {
                            cur.end = next.end;
                            i += 1;
                        }
                    }
                } else {
                    flush(&mut cur, &mut out);
                }
            }
            TokenKind::Word => {
                let raw = &src[t.start..t.end];
                cur.words.push(ShWord {
                    raw: raw.to_owned(),
                    value: unquote(raw),
                    start: t.start,
                    end: t.end,
                });
                cur.end = t.end;
            }
        }
        i += 1;
    }
    flush(&mut cur, &mut out);
    out
}

/// Where a command can be extended with ` && more`: the end of its last token, when the text ends
/// with a complete command (not with `&&`, `|`, `&`, an opening `then`/`do`, or `exit`/`exec`).
/// A trailing `;` is allowed (the addition goes before it).
#[must_use]
pub fn append_point(src: &str, lexed: &Lexed) -> Option<usize> {
    if !lexed.complete {
        return None;
    }
    let last = lexed.tokens.iter().rev().find(|t| {
        !(t.kind == TokenKind::Newline || (t.kind == TokenKind::Op && &src[t.start..t.end] == ";"))
    })?;
    match last.kind {
        TokenKind::Op if &src[last.start..last.end] == ")" => {}
        TokenKind::Word => {
            let w = &src[last.start..last.end];
            if matches!(
                w,
                "then"
                    | "do"
                    | "else"
                    | "elif"
                    | "if"
                    | "while"
                    | "until"
                    | "for"
                    | "case"
                    | "in"
                    | "{"
                    | "!"
                    | "time"
            ) {
                return None;
            }
        }
        _ => return None,
    }
    let cmds = commands(src, &lexed.tokens);
    if let Some((name, _)) = cmds.last().and_then(SimpleCommand::name_and_args) {
        if matches!(name, "exit" | "exec") {
            return None;
        }
    }
    Some(last.end)
}

/// Whether a script turns on `set -e` (errexit): `set -e`, `set -eux`, `set -o errexit`, or a
/// shebang with `-e`.
#[must_use]
pub fn sets_errexit(src: &str, cmds: &[SimpleCommand]) -> bool {
    let first = src.lines().next().unwrap_or("");
    if let Some(shebang) = first.strip_prefix("#!") {
        if shebang
            .split_whitespace()
            .skip(1)
            .any(|f| f.starts_with('-') && !f.starts_with("--") && f.contains('e'))
        {
            return true;
        }
    }
    cmds.iter().any(|c| {
        let Some((name, args)) = c.name_and_args() else {
            return false;
        };
        name == "set"
            && (args.iter().any(|a| {
                a.value.starts_with('-')
                    && !a.value.starts_with("--")
                    && a.value[1..].chars().all(|ch| ch.is_ascii_alphabetic())
                    && a.value.contains('e')
            }) || args
                .windows(2)
                .any(|p| p[0].value == "-o" && p[1].value == "errexit"))
    })
}

/// Shells whose `-c` argument or stdin is a POSIX shell script.
#[must_use]
pub fn is_posix_shell(name: &str) -> bool {
    matches!(
        basename(name),
        "sh" | "bash" | "dash" | "ash" | "ksh" | "zsh"
    )
}

/// The edit that runs `cleanup` at the end of the script, if it can be done cleanly: a last line
/// in a heredoc script that uses `set -e`, else ` && cleanup` after the last command (before a
/// trailing `;` or comment). None when the script ends in `&&`, `|`, `&`, `exit`, inside a quote, or
/// in an unterminated here-document.
#[must_use]
pub fn append_cleanup(script: &Script<'_>, cleanup: &str) -> Option<Edit> {
    if let Origin::HeredocBody { ins, heredoc, .. } = script.origin {
        if script.lexed.open_heredocs > 0 {
            return None;
        }
        let body = ins.heredocs[heredoc].body_range;
        let src = script.src.as_str();
        let last_line = src.trim_end_matches(['\n', '\r']);
        let last_line = &last_line[last_line.rfind('\n').map_or(0, |i| i + 1)..];
        if script.lexed.complete
            && src.ends_with('\n')
            && !last_line.trim_end().ends_with('\\')
            && sets_errexit(src, &script.commands)
        {
            // The indentation of the line where the last command starts.
            let start = script
                .commands
                .last()
                .and_then(|c| c.words.first())
                .map_or(0, |w| w.start);
            let line = &src[src[..start].rfind('\n').map_or(0, |i| i + 1)..];
            let indent: String = line
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            let eol = if src.ends_with("\r\n") { "\r\n" } else { "\n" };
            return Some(Edit::insert(body.end, format!("{indent}{cleanup}{eol}")));
        }
    }
    let end = append_point(&script.src, &script.lexed)?;
    Some(Edit::insert(
        script.offset_after(end),
        format!(" && {cleanup}"),
    ))
}

/// The shell script of a `RUN`, with the way back to the Dockerfile's bytes. Its text and lexing
/// ([`ScriptBody`], reached through `Deref`: `script.src`, `script.commands`) are computed once per
/// instruction and shared by every rule that asks.
#[derive(Clone, Debug)]
pub struct Script<'a> {
    body: Arc<ScriptBody>,
    pub origin: Origin<'a>,
}

/// A lexed script: its text, tokens and simple commands.
#[derive(Debug)]
pub struct ScriptBody {
    /// The text that is lexed.
    pub src: String,
    pub lexed: Lexed,
    pub commands: Vec<SimpleCommand>,
}

/// Scripts lexed on this thread, by the bytes of their text (see
/// [`crate::memo::get_or_compute_by_text`]): the same `RUN` comes back in the variants of one image
/// and in every round of a fix run.
const LEXED_SCRIPT_BYTES: usize = 16 * 1024;

thread_local! {
    static LEXED: crate::memo::TextCache<Arc<ScriptBody>> = crate::memo::TextCache::default();
}

impl ScriptBody {
    /// The script `src` lexed (a lexing is a function of the text alone: one is shared by every
    /// copy of the text).
    fn of(src: &str) -> Arc<Self> {
        crate::memo::get_or_compute_by_text(&LEXED, LEXED_SCRIPT_BYTES, src.as_bytes(), || {
            Self::new(src.to_owned())
        })
    }

    fn new(src: String) -> Arc<Self> {
        let lexed = lex(&src);
        let commands = commands(&src, &lexed.tokens);
        Arc::new(Self {
            src,
            lexed,
            commands,
        })
    }
}

/// Test support: `body` (a script from the memo) is `src` lexed afresh.
#[cfg(test)]
pub(crate) fn assert_lexed_afresh(src: &str, body: &ScriptBody) {
    assert_eq!(
        format!("{body:?}"),
        format!("{:?}", ScriptBody::new(src.to_owned())),
        "{src}"
    );
}

impl std::ops::Deref for Script<'_> {
    type Target = ScriptBody;

    fn deref(&self) -> &ScriptBody {
        &self.body
    }
}

/// What [`run_script`] found for an instruction, kept in the instruction: the script and, for a
/// heredoc body, where the body starts (the arguments' script is [`shell_script`]'s).
#[derive(Debug)]
pub struct CachedRunScript {
    body: Arc<ScriptBody>,
    heredoc_body_start: Option<usize>,
}

/// Where a [`Script`]'s text comes from.
#[derive(Clone, Copy, Debug)]
pub enum Origin<'a> {
    /// The shell-form arguments of an instruction (its logical line, from `logical_start`).
    Line {
        ins: &'a Instruction,
        logical_start: usize,
    },
    /// The body of a `RUN <<EOF` heredoc that is run as a shell script (`body_start` in the file).
    HeredocBody {
        ins: &'a Instruction,
        heredoc: usize,
        body_start: usize,
    },
}

impl Script<'_> {
    /// Original range of `start..end` of [`Script::src`].
    #[must_use]
    pub fn range(&self, start: usize, end: usize) -> TextRange {
        match self.origin {
            Origin::Line { ins, logical_start } => ins
                .logical
                .range(logical_start + start, logical_start + end),
            Origin::HeredocBody { body_start, .. } => {
                TextRange::new(body_start + start, body_start + end)
            }
        }
    }

    /// Original offset just after the byte at `end - 1` of [`Script::src`] (an insertion point).
    #[must_use]
    pub fn offset_after(&self, end: usize) -> usize {
        match self.origin {
            Origin::Line { ins, logical_start } => ins.logical.to_original_end(logical_start + end),
            Origin::HeredocBody { body_start, .. } => body_start + end,
        }
    }

    /// The text of every word of every command (for conservative substring checks).
    pub fn words(&self) -> impl Iterator<Item = &ShWord> {
        self.commands.iter().flat_map(|c| c.words.iter())
    }
}

/// The shell script a shell-form `RUN` executes, when it can be edited: its arguments, or, for
/// `RUN <<EOF` / `RUN bash <<EOF` (one heredoc, fed to a POSIX shell, no other command), the
/// heredoc's body. A heredoc that is only data (`RUN cat <<EOF > /etc/x`) leaves the arguments as the
/// script. None for the exec form, an `ONBUILD` wrapper, a body with a non-shell shebang, or an
/// unterminated heredoc.
#[must_use]
pub fn run_script<'a>(text: &str, ins: &'a Instruction) -> Option<Script<'a>> {
    let cached = ins
        .run_script
        .0
        .get_or_init(|| find_run_script(text, ins))
        .as_ref()?;
    let origin = match cached.heredoc_body_start {
        None => Origin::Line {
            ins,
            logical_start: match &ins.args {
                Args::Shell(args) => args.logical_start,
                Args::Json(_) => return None,
            },
        },
        Some(body_start) => Origin::HeredocBody {
            ins,
            heredoc: 0,
            body_start,
        },
    };
    Some(Script {
        body: cached.body.clone(),
        origin,
    })
}

/// [`run_script`], computed.
fn find_run_script(text: &str, ins: &Instruction) -> Option<CachedRunScript> {
    if ins.keyword != "RUN" {
        return None;
    }
    let line = shell_script(ins)?;
    let line_only = || {
        Some(CachedRunScript {
            body: line.body.clone(),
            heredoc_body_start: None,
        })
    };
    if ins.heredocs.is_empty() {
        return line_only();
    }
    // Is the heredoc the script? One command (or none) whose words are a shell and its options.
    let toks = &line.lexed.tokens;
    let ops: Vec<&str> = toks
        .iter()
        .filter(|t| t.kind == TokenKind::Op)
        .map(|t| &line.src[t.start..t.end])
        .collect();
    let heredoc_ops = ops.iter().filter(|o| matches!(**o, "<<" | "<<-")).count();
    let only_heredoc = ops.len() == 1 && heredoc_ops == 1 && ins.heredocs.len() == 1;
    let script_words_ok = match line.commands.as_slice() {
        [] => true,
        [c] => {
            c.words.first().is_some_and(|w| is_posix_shell(&w.value))
                && c.words[1..]
                    .iter()
                    .all(|w| w.value.starts_with('-') && w.value != "-c")
        }
        _ => false,
    };
    if !(only_heredoc && script_words_ok) {
        return line_only();
    }
    let h = &ins.heredocs[0];
    if !h.terminated {
        return None;
    }
    let body = h.body_range.slice(text);
    if let Some(shebang) = body.lines().next().and_then(|l| l.strip_prefix("#!")) {
        let mut parts = shebang.split_whitespace();
        let mut interp = parts.next().unwrap_or("");
        if basename(interp) == "env" {
            interp = parts.find(|p| !p.starts_with('-')).unwrap_or("");
        }
        if !is_posix_shell(interp) {
            return None;
        }
    }
    Some(CachedRunScript {
        body: ScriptBody::of(body),
        heredoc_body_start: Some(h.body_range.start),
    })
}

/// The shell-form arguments of an instruction as a script (heredoc bodies are not included).
#[must_use]
pub fn shell_script(ins: &Instruction) -> Option<Script<'_>> {
    let Args::Shell(args) = &ins.args else {
        return None;
    };
    let body = ins
        .line_script
        .0
        .get_or_init(|| Some(ScriptBody::of(&args.text)))
        .clone()?;
    Some(Script {
        body,
        origin: Origin::Line {
            ins,
            logical_start: args.logical_start,
        },
    })
}

/// One script a `RUN` may execute (see [`run_texts`]): its text (`src`) and simple commands
/// (`commands`), through [`ScriptBody`].
#[derive(Debug)]
pub struct RunText {
    body: Arc<ScriptBody>,
}

impl std::ops::Deref for RunText {
    type Target = ScriptBody;

    fn deref(&self) -> &ScriptBody {
        &self.body
    }
}

/// Every script a `RUN` may execute, for conservative detection (not for edits): the editable script,
/// the bodies of all its heredocs, and the strings given to `sh -c`. Exec form: the arguments joined.
/// Lexed once per instruction for every rule that asks (`text` is the text `ins` was parsed from).
#[must_use]
pub fn run_texts<'a>(text: &str, ins: &'a Instruction) -> &'a [RunText] {
    ins.texts.0.get_or_init(|| lex_run_texts(text, ins))
}

fn lex_run_texts(text: &str, ins: &Instruction) -> Vec<RunText> {
    let ins = ins.onbuild.as_deref().unwrap_or(ins);
    // The texts to lex, or (the shell form's text) the script already lexed for the edits.
    let mut pending: Vec<Result<String, Arc<ScriptBody>>> = Vec::new();
    match &ins.args {
        Args::Json(j) => {
            pending.push(Ok(j
                .items
                .iter()
                .map(|i| i.value.as_str())
                .collect::<Vec<_>>()
                .join(" ")));
        }
        // The same text `shell_script` lexes (`args.text`): lexed once for both.
        Args::Shell(args) => pending
            .push(shell_script(ins).map_or_else(|| Ok(args.text.clone()), |line| Err(line.body))),
    }
    for h in &ins.heredocs {
        pending.push(Ok(h.body_range.slice(text).to_owned()));
    }
    let mut out: Vec<RunText> = Vec::new();
    // Scripts found in scripts are looked into until there are more than 32 texts; the texts found
    // by then are all kept.
    let mut expand = true;
    let mut next = 0;
    while next < pending.len() {
        let body = match std::mem::replace(&mut pending[next], Ok(String::new())) {
            Ok(src) => ScriptBody::of(&src),
            Err(body) => body,
        };
        next += 1;
        for c in body.commands.iter().filter(|_| expand) {
            if let Some((name, args)) = c.name_and_args() {
                if is_posix_shell(name) {
                    if let Some(p) = args.iter().position(|a| a.value == "-c") {
                        if let Some(script) = args.get(p + 1) {
                            pending.push(Ok(script.value.clone()));
                        }
                    }
                }
            }
        }
        out.push(RunText { body });
        if pending.len() > 32 {
            expand = false;
        }
    }
    out
}

/// The targets of a `RUN`'s `--mount` flags (`target=`, `dst=`, `destination=`), trailing `/`
/// removed, with the mount type (`bind` when not given).
#[must_use]
pub fn mount_targets(ins: &Instruction) -> Vec<(String, String)> {
    let ins = ins.onbuild.as_deref().unwrap_or(ins);
    ins.flags
        .iter()
        .filter(|f| f.name == "mount")
        .filter_map(|f| {
            let v = f.value.as_deref()?;
            let mut kind = "bind".to_owned();
            let mut target = None;
            for part in v.split(',') {
                let (k, val) = part.split_once('=').unwrap_or((part, ""));
                match k.trim().to_ascii_lowercase().as_str() {
                    "type" => kind = val.trim().to_ascii_lowercase(),
                    "target" | "dst" | "destination" => {
                        let t = val.trim().trim_end_matches('/');
                        target = Some(if t.is_empty() {
                            "/".to_owned()
                        } else {
                            t.to_owned()
                        });
                    }
                    _ => {}
                }
            }
            Some((kind, target?))
        })
        .collect()
}

/// Whether a mount at `target` covers `path` (same folder or a parent of it).
#[must_use]
pub fn covers_path(target: &str, path: &str) -> bool {
    target == "/"
        || path == target
        || path
            .strip_prefix(target)
            .is_some_and(|r| r.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `run_script` and `shell_script` keep what they lexed in the instruction: asked again (by
    /// another rule), they give the same script with the same way back to the file's bytes.
    #[test]
    fn scripts_are_the_same_when_asked_again() {
        let text = "FROM alpine\nRUN apk add \\\n    curl && echo ok\nRUN <<EOF\napk add git\nEOF\nRUN [\"apk\", \"add\", \"x\"]\nRUN cat <<EOF > /etc/x\ndata\nEOF\n";
        let df = crate::dockerfile::syntax::parse(text).unwrap();
        let runs: Vec<&Instruction> = df
            .instructions
            .iter()
            .filter(|i| i.keyword == "RUN")
            .collect();
        let seen = |ins: &Instruction| {
            run_script(text, ins).map(|s| {
                let words: Vec<(String, String)> = s
                    .words()
                    .map(|w| {
                        (
                            w.value.clone(),
                            s.range(w.start, w.end).slice(text).to_owned(),
                        )
                    })
                    .collect();
                (s.src.clone(), words)
            })
        };
        let first: Vec<_> = runs.iter().map(|i| seen(i)).collect();
        let again: Vec<_> = runs.iter().map(|i| seen(i)).collect();
        assert_eq!(first, again);
        // The continued line maps back across the line break; the heredoc body is the script of
        // the second; the exec form has none; a data heredoc leaves the arguments as the script.
        let (src, words) = first[0].clone().unwrap();
        assert_eq!(src, "apk add     curl && echo ok");
        assert_eq!(words[2], ("curl".to_owned(), "curl".to_owned()));
        let (src, words) = first[1].clone().unwrap();
        assert_eq!(src, "apk add git\n");
        assert_eq!(words[2], ("git".to_owned(), "git".to_owned()));
        assert!(first[2].is_none());
        assert_eq!(first[3].clone().unwrap().0, "cat <<EOF > /etc/x");
        assert_eq!(
            shell_script(runs[0]).unwrap().src,
            shell_script(runs[0]).unwrap().src
        );
    }

    /// The scripts a RUN may execute start with its shell-form text, lexed once for them and for
    /// the edits (also inside ONBUILD); heredoc bodies and `sh -c` strings follow, each lexed as
    /// its own text.
    #[test]
    fn run_texts_share_the_lexed_line_and_lex_the_rest() {
        let text = "FROM alpine\nRUN sh -c 'apk add \"x y\"' && cat <<EOF\nbody one\nEOF\n\
                    ONBUILD RUN apk add z\nRUN [\"sh\", \"-c\", \"apk add w\"]\n";
        let df = crate::dockerfile::syntax::parse(text).unwrap();
        let fresh = |src: &str| {
            let lexed = lex(src);
            let words = |c: &SimpleCommand| c.words.iter().map(|w| w.value.clone()).collect();
            commands(src, &lexed.tokens)
                .iter()
                .map(words)
                .collect::<Vec<Vec<String>>>()
        };
        let seen = |t: &RunText| {
            let words = |c: &SimpleCommand| c.words.iter().map(|w| w.value.clone()).collect();
            (
                t.src.clone(),
                t.commands.iter().map(words).collect::<Vec<Vec<String>>>(),
            )
        };
        let run = &df.instructions[1];
        let texts = run_texts(text, run);
        let srcs: Vec<&str> = texts.iter().map(|t| t.src.as_str()).collect();
        assert_eq!(
            srcs,
            [
                "sh -c 'apk add \"x y\"' && cat <<EOF",
                "body one\n",
                "apk add \"x y\""
            ]
        );
        for t in texts {
            assert_eq!(seen(t), (t.src.clone(), fresh(&t.src)));
        }
        assert!(Arc::ptr_eq(
            &texts[0].body,
            &shell_script(run).unwrap().body
        ));
        let onbuild = df.instructions[2].onbuild.as_deref().unwrap();
        let texts = run_texts(text, &df.instructions[2]);
        assert_eq!(
            seen(&texts[0]),
            ("apk add z".to_owned(), fresh("apk add z"))
        );
        assert!(Arc::ptr_eq(
            &texts[0].body,
            &shell_script(onbuild).unwrap().body
        ));
        let texts = run_texts(text, &df.instructions[3]);
        let srcs: Vec<&str> = texts.iter().map(|t| t.src.as_str()).collect();
        // Exec form: the arguments joined, so `-c` takes the next word only.
        assert_eq!(srcs, ["sh -c apk add w", "apk"]);
    }

    fn words(src: &str) -> Vec<Vec<String>> {
        let l = lex(src);
        commands(src, &l.tokens)
            .into_iter()
            .map(|c| c.words.into_iter().map(|w| w.value).collect())
            .collect()
    }

    #[test]
    fn splits_commands() {
        assert_eq!(
            words("apt-get update && apt-get install -y x; echo 'a && b' | tee f 2>&1"),
            vec![
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "x"],
                vec!["echo", "a && b"],
                vec!["tee", "f"],
            ]
        );
        assert_eq!(
            words("if [ -f x ]; then (cd a && make); fi # done && x"),
            vec![
                vec!["if", "[", "-f", "x", "]"],
                vec!["then"],
                vec!["cd", "a"],
                vec!["make"],
                vec!["fi"],
            ]
        );
        assert_eq!(
            words("echo \"$(cat a | wc -l)\" ${X:-a b} `b c`"),
            vec![vec!["echo", "$(cat a | wc -l)", "${X:-a b}", "`b c`"]]
        );
    }

    #[test]
    fn heredocs_inside_scripts_are_skipped() {
        let src = "set -e\ncat > /etc/x <<EOT\napt-get install y\nEOT\napt-get install z\n";
        assert_eq!(
            words(src),
            vec![
                vec!["set", "-e"],
                vec!["cat"],
                vec!["apt-get", "install", "z"]
            ]
        );
        assert!(lex(src).complete);
        assert!(!lex("cat <<EOT\nno end\n").complete);
        assert!(lex("cat <<EOT").complete);
        assert_eq!(lex("cat <<EOT").open_heredocs, 1);
    }

    #[test]
    fn spells_is_contains_after_leaving_out_quotes_backslashes_and_breaks() {
        let texts = [
            "", "apt", "a\"p\"t", "a\\\npt", "ap t", "xAPTx", "'s'h", "s\r\nh", "./x", ".\\/",
            "aapt", "ap", "APt-get", "é apt",
        ];
        for t in texts {
            let kept: String = t
                .chars()
                .filter(|c| !matches!(c, '\\' | '\'' | '"' | '\n' | '\r'))
                .collect();
            for w in ["apt", "sh", "./", "a", ""] {
                assert_eq!(
                    spells(t.as_bytes(), w.as_bytes()),
                    kept.contains(w),
                    "{t:?} {w:?}"
                );
                assert_eq!(
                    spells_ignoring_case(t.as_bytes(), w.as_bytes()),
                    kept.to_ascii_lowercase().contains(w),
                    "{t:?} {w:?}"
                );
            }
        }
    }

    #[test]
    fn basename_and_is_assignment_are_their_definitions() {
        let words = [
            "",
            "/",
            "a",
            "/usr/bin/apt-get",
            "apt-get/",
            "a//b",
            "./x.sh",
            "A=1",
            "_a=",
            "a_1=x=y",
            "1a=b",
            "=a",
            "a-b=c",
            "a",
            "a b=c",
            "é=1",
            "PATH=/usr/bin:$PATH",
            "x/y=z",
            "a=",
        ];
        for w in words {
            assert_eq!(basename(w), w.rsplit('/').next().unwrap_or(w), "{w:?}");
            let defined = w.find('=').is_some_and(|eq| {
                let mut chars = w[..eq].chars();
                matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            assert_eq!(is_assignment(w), defined, "{w:?}");
        }
    }

    #[test]
    fn name_index_skips_prefixes() {
        let src = "DEBIAN_FRONTEND=noninteractive sudo -E env A=1 /usr/bin/apt-get install x";
        let l = lex(src);
        let c = &commands(src, &l.tokens)[0];
        assert_eq!(c.name_and_args().unwrap().0, "apt-get");
        let src = "then xargs -r apt-get install < list";
        let l = lex(src);
        let c = &commands(src, &l.tokens)[0];
        let (name, args) = c.name_and_args().unwrap();
        assert_eq!(name, "apt-get");
        assert_eq!(args.len(), 1);
        assert_eq!(c.end, src.len());
    }

    #[test]
    fn append_points() {
        fn p(s: &str) -> Option<&str> {
            append_point(s, &lex(s)).map(|e| &s[..e])
        }
        assert_eq!(p("a && b"), Some("a && b"));
        assert_eq!(p("a && b ;  "), Some("a && b"));
        assert_eq!(p("a > /dev/null # c"), Some("a > /dev/null"));
        assert_eq!(p("(a)"), Some("(a)"));
        assert_eq!(p("a &&"), None);
        assert_eq!(p("a &"), None);
        assert_eq!(p("a; exit 0"), None);
        assert_eq!(p("echo 'a"), None);
        assert_eq!(p("if a; then"), None);
        assert_eq!(p("if a; then b; fi"), Some("if a; then b; fi"));
    }

    #[test]
    fn errexit() {
        let f = |s: &str| sets_errexit(s, &commands(s, &lex(s).tokens));
        assert!(f("set -eux\na\n"));
        assert!(f("set -o errexit\n"));
        assert!(f("#!/bin/bash -ex\na\n"));
        assert!(!f("set -x\na\n"));
        assert!(!f("echo set -e\n"));
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote(r#"a"b\"c"'d\'"#), "ab\"cd\\");
        assert_eq!(unquote(r"a\ b"), "a b");
        // Each quoting character alone takes the slow path; a word without any is itself.
        assert_eq!(unquote("x'y'"), "xy");
        assert_eq!(unquote("x\"y\""), "xy");
        assert_eq!(unquote("x\\y"), "xy");
        assert_eq!(
            unquote("/usr/bin/apt-get=1.2*${V}$(x)é"),
            "/usr/bin/apt-get=1.2*${V}$(x)é"
        );
        assert_eq!(unquote(""), "");
    }
}
