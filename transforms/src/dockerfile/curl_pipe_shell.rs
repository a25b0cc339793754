use crate::declare_transform;
use crate::dockerfile::add_url_without_checksum::mask_url_credentials;
use crate::dockerfile::shell_lex::{basename, is_assignment, spells};
use crate::dockerfile::syntax::{Args, Instruction};
use crate::dockerfile::{dockerfile, same_case};
use crate::edit::Edit;
use crate::finding::Finding;
use crate::fix::Fix;
use crate::knowledge::{COMMAND_WRAPPERS, DOWNLOADERS, SCRIPT_INTERPRETERS, SHELLS};
use crate::registry::{Check, Context};
use crate::text::{line_ending, TextRange};
use std::rc::Rc;

declare_transform! {
    /// ## What it does
    /// Flags `RUN` instructions that download a script and run it unverified: `curl … | sh`,
    /// `wget -qO- … | sudo bash -s --`, `… | python3`, `sh -c "$(curl …)"`, `bash <(curl …)`,
    /// `eval "$(curl …)"`. Shell form (continuation lines joined), heredoc scripts
    /// (`RUN <<EOF`, `RUN bash <<EOF`) and exec form with `sh -c` are all read.
    ///
    /// ## Why is this bad?
    /// Whatever the server returns at build time runs as root in the image: a compromised or changed install script is not noticed.
    ///
    /// Piping into an interpreter also hides download errors (a truncated script still runs) and
    /// makes the build unreproducible.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN curl -fsSL https://example.com/install.sh | sh -s -- --version 1.2
    /// ```
    /// suggestion:
    /// ```dockerfile
    /// ADD --checksum=sha256:<TODO> https://example.com/install.sh /tmp/install.sh
    /// RUN cat /tmp/install.sh | sh -s -- --version 1.2
    /// ```
    ///
    /// ## Fix safety
    /// Display-only: the checksum of the script is something only a human can vouch for (and the
    /// better fix is often the distribution's package). The suggestion adds an
    /// `ADD --checksum=sha256:<TODO> <url> /tmp/<file>` line before the `RUN` and replaces the
    /// download by `cat /tmp/<file>`, so the interpreter, its arguments and the rest of the command stay
    /// as they were. `ADD --checksum` needs BuildKit (Dockerfile frontend 1.6+); the downloaded file is
    /// owned by root with mode 600, so a `RUN` after a non-root `USER` needs `--chmod=644` on the `ADD`.
    ///
    /// Not flagged: a download written to a file (`curl -o x`, `wget url`), piped into a program that
    /// is not an interpreter (`| tar xz`, `| gpg --dearmor`), or into an interpreter that is given its
    /// program (`| python3 -c '…json…'`, `| sh script.sh`, `| perl -ne …`), and `cat` of a heredoc that
    /// only writes a file.
    ///
    /// ## Options
    /// None.
    ///
    /// ## References
    /// Guideline: "Avoid curl bashing in `RUN` directives; use package managers when possible".
    /// Related but different: hadolint DL4006 (`set -o pipefail` before a pipe).
    pub struct CurlPipeShell => "DF006", "curl-pipe-shell", Dockerfile, None;
}

// ------------------------------------------------------------------------------------------------
// A small POSIX shell lexer: words (with quotes and substitutions), redirections, pipes, separators
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SubKind {
    /// `$(…)` or `` `…` ``.
    Command,
    /// `<(…)`.
    ProcessIn,
    /// `>(…)`.
    ProcessOut,
}

#[derive(Clone, Debug)]
struct Sub {
    kind: SubKind,
    /// The inner command text (offsets in the source).
    start: usize,
    end: usize,
}

#[derive(Clone, Debug, Default)]
struct Word {
    start: usize,
    end: usize,
    /// Quotes removed; substitutions kept as written.
    value: String,
    subs: Vec<Sub>,
    /// The word is nothing but one substitution (quotes aside).
    whole_sub: bool,
}

#[derive(Clone, Debug)]
enum Tok {
    Word(Word),
    Redir {
        start: usize,
        end: usize,
        op: String,
        target: Option<Word>,
    },
    Pipe,
    Sep,
}

fn is_op_char(c: u8) -> bool {
    matches!(c, b'|' | b'&' | b';' | b'(' | b')' | b'<' | b'>')
}

/// A byte a word copies as it is: not whitespace, an operator, a quote, an escape or the start
/// of an expansion (any byte of a multi-byte character is one).
fn is_plain_byte(c: u8) -> bool {
    !(c.is_ascii_whitespace() || is_op_char(c) || matches!(c, b'\\' | b'\'' | b'"' | b'$' | b'`'))
}

/// End of a `$(…)` / `<(…)` whose content starts at `from`: the offset of the matching `)`.
fn close_paren(b: &[u8], from: usize, to: usize) -> usize {
    let mut depth = 1usize;
    let mut i = from;
    while i < to {
        match b[i] {
            b'\\' => i += 1,
            b'\'' => {
                i += 1;
                while i < to && b[i] != b'\'' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < to && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    to
}

/// The closing backtick of a `` `…` `` whose content starts at `from`.
fn close_backtick(b: &[u8], from: usize, to: usize) -> usize {
    let mut i = from;
    while i < to {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == b'`' {
            return i;
        }
        i += 1;
    }
    to
}

struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    to: usize,
}

impl Lexer<'_> {
    /// A `$(`, `` ` ``, `<(` or `>(` at `self.i` (inside a word): record it and append it to `value`.
    fn substitution(&mut self, w: &mut Word, kind: SubKind, open_len: usize) {
        let inner = self.i + open_len;
        let close = if open_len == 1 {
            close_backtick(self.b, inner, self.to)
        } else {
            close_paren(self.b, inner, self.to)
        };
        w.subs.push(Sub {
            kind,
            start: inner,
            end: close,
        });
        let end = (close + 1).min(self.to);
        w.value.push_str(&self.s[self.i..end]);
        self.i = end;
    }

    /// Read a word starting at `self.i`.
    fn word(&mut self) -> Word {
        let mut w = Word {
            start: self.i,
            ..Word::default()
        };
        let mut literal = 0usize;
        while self.i < self.to {
            let c = self.b[self.i];
            if c.is_ascii_whitespace() {
                break;
            }
            if matches!(c, b'<' | b'>')
                && self.b.get(self.i + 1) == Some(&b'(')
                && self.i == w.start
            {
                let kind = if c == b'<' {
                    SubKind::ProcessIn
                } else {
                    SubKind::ProcessOut
                };
                self.substitution(&mut w, kind, 2);
                continue;
            }
            if is_op_char(c) {
                break;
            }
            match c {
                b'\\' => {
                    if self.b.get(self.i + 1) == Some(&b'\n') {
                        self.i += 2;
                        continue;
                    }
                    if let Some(ch) = self.s[self.i + 1..self.to].chars().next() {
                        w.value.push(ch);
                        literal += 1;
                        self.i += 1 + ch.len_utf8();
                    } else {
                        self.i += 1;
                    }
                }
                b'\'' => {
                    let close = self.s[self.i + 1..self.to]
                        .find('\'')
                        .map_or(self.to, |p| self.i + 1 + p);
                    w.value.push_str(&self.s[self.i + 1..close]);
                    literal += close - self.i - 1;
                    self.i = (close + 1).min(self.to);
                }
                b'"' => {
                    self.i += 1;
                    while self.i < self.to && self.b[self.i] != b'"' {
                        match self.b[self.i] {
                            b'\\' if self.i + 1 < self.to => {
                                let n = self.b[self.i + 1];
                                if matches!(n, b'$' | b'`' | b'"' | b'\\') {
                                    w.value.push(char::from(n));
                                    literal += 1;
                                    self.i += 2;
                                } else if n == b'\n' {
                                    self.i += 2;
                                } else {
                                    w.value.push('\\');
                                    literal += 1;
                                    self.i += 1;
                                }
                            }
                            b'$' if self.b.get(self.i + 1) == Some(&b'(') => {
                                self.substitution(&mut w, SubKind::Command, 2);
                            }
                            b'`' => self.substitution(&mut w, SubKind::Command, 1),
                            _ => {
                                let ch = self.s[self.i..self.to].chars().next().unwrap_or('\0');
                                w.value.push(ch);
                                literal += 1;
                                self.i += ch.len_utf8().max(1);
                            }
                        }
                    }
                    self.i = (self.i + 1).min(self.to);
                }
                b'$' if self.b.get(self.i + 1) == Some(&b'(') => {
                    self.substitution(&mut w, SubKind::Command, 2);
                }
                b'$' if self.b.get(self.i + 1) == Some(&b'{') => {
                    let close = self.s[self.i..self.to]
                        .find('}')
                        .map_or(self.to, |p| self.i + p + 1);
                    w.value.push_str(&self.s[self.i..close]);
                    literal += close - self.i;
                    self.i = close;
                }
                b'`' => self.substitution(&mut w, SubKind::Command, 1),
                _ => {
                    // A run of characters that are their own value (none of the bytes above,
                    // whitespace or operators; multi-byte characters whole, as a run stops only
                    // at an ASCII byte) is copied at once.
                    let run = self.b[self.i..self.to]
                        .iter()
                        .position(|&b| !is_plain_byte(b))
                        .map_or(self.to, |p| self.i + p);
                    if run > self.i {
                        w.value.push_str(&self.s[self.i..run]);
                        literal += run - self.i;
                        self.i = run;
                    } else {
                        let ch = self.s[self.i..self.to].chars().next().unwrap_or('\0');
                        w.value.push(ch);
                        literal += 1;
                        self.i += ch.len_utf8().max(1);
                    }
                }
            }
        }
        w.end = self.i;
        w.whole_sub = literal == 0 && w.subs.len() == 1;
        w
    }

    /// A redirection operator at `self.i` (optionally after an fd number): its length.
    fn redirection(&self) -> Option<usize> {
        let mut j = self.i;
        while j < self.to && self.b[j].is_ascii_digit() {
            j += 1;
        }
        let rest = &self.s[j..self.to];
        if rest.starts_with("<(") || rest.starts_with(">(") {
            return None;
        }
        let ops = [
            "&>>", "<<<", "<<-", "<<", "<>", "<&", ">&", ">>", ">|", "&>", "<", ">",
        ];
        let op = ops.iter().find(|o| rest.starts_with(**o))?;
        if op.starts_with('&') && j != self.i {
            return None;
        }
        Some(j - self.i + op.len())
    }

    fn skip_blanks(&mut self) {
        while self.i < self.to && matches!(self.b[self.i], b' ' | b'\t' | b'\r') {
            self.i += 1;
        }
        while self.i + 1 < self.to && self.b[self.i] == b'\\' && self.b[self.i + 1] == b'\n' {
            self.i += 2;
            while self.i < self.to && matches!(self.b[self.i], b' ' | b'\t' | b'\r') {
                self.i += 1;
            }
        }
    }

    fn lex(mut self) -> Vec<Tok> {
        let mut toks = Vec::new();
        // Shell heredocs opened on the current line: (terminator, strip tabs).
        let mut pending: Vec<(String, bool)> = Vec::new();
        loop {
            self.skip_blanks();
            if self.i >= self.to {
                break;
            }
            let c = self.b[self.i];
            let next = self.b.get(self.i + 1).copied();
            if c == b'\n' {
                toks.push(Tok::Sep);
                self.i += 1;
                // Skip the bodies of shell heredocs opened on the line just ended.
                for (term, strip) in std::mem::take(&mut pending) {
                    while self.i < self.to {
                        let end = self.s[self.i..self.to]
                            .find('\n')
                            .map_or(self.to, |p| self.i + p);
                        let line = self.s[self.i..end].trim_end_matches('\r');
                        let line = if strip {
                            line.trim_start_matches('\t')
                        } else {
                            line
                        };
                        self.i = (end + 1).min(self.to);
                        if line == term {
                            break;
                        }
                    }
                }
                continue;
            }
            if c == b'#' {
                while self.i < self.to && self.b[self.i] != b'\n' {
                    self.i += 1;
                }
                continue;
            }
            if let Some(len) = self.redirection() {
                let start = self.i;
                let op =
                    self.s[start..start + len].trim_start_matches(|c: char| c.is_ascii_digit());
                let op = op.to_owned();
                self.i += len;
                self.skip_blanks();
                let target = if self.i < self.to
                    && !self.b[self.i].is_ascii_whitespace()
                    && !is_op_char(self.b[self.i])
                {
                    Some(self.word())
                } else {
                    None
                };
                if op.starts_with("<<") && op != "<<<" {
                    if let Some(t) = &target {
                        pending.push((t.value.clone(), op == "<<-"));
                    }
                }
                let end = target.as_ref().map_or(self.i, |t| t.end);
                toks.push(Tok::Redir {
                    start,
                    end,
                    op,
                    target,
                });
                continue;
            }
            match (c, next) {
                (b'|', Some(b'|')) | (b'&', Some(b'&')) | (b';', Some(b';')) => {
                    toks.push(Tok::Sep);
                    self.i += 2;
                }
                (b'|', Some(b'&')) => {
                    toks.push(Tok::Pipe);
                    self.i += 2;
                }
                (b'|', _) => {
                    toks.push(Tok::Pipe);
                    self.i += 1;
                }
                (b'&' | b';' | b'(' | b')', _) => {
                    toks.push(Tok::Sep);
                    self.i += 1;
                }
                _ => {
                    let before = self.i;
                    let w = self.word();
                    if self.i == before {
                        // An operator character the word reader refused: skip it.
                        self.i += 1;
                        continue;
                    }
                    toks.push(Tok::Word(w));
                }
            }
        }
        toks
    }
}

fn lex(s: &str, from: usize, to: usize) -> Vec<Tok> {
    Lexer {
        s,
        b: s.as_bytes(),
        i: from,
        to,
    }
    .lex()
}

#[derive(Clone, Debug, Default)]
struct Cmd {
    words: Vec<Word>,
    /// (operator, target) of each redirection.
    redirs: Vec<(String, Option<String>)>,
    start: usize,
    end: usize,
}

/// The pipelines of a command list (separators end a pipeline, `|` continues it).
fn pipelines(toks: Vec<Tok>) -> Vec<Vec<Cmd>> {
    let mut out = Vec::new();
    let mut pipe: Vec<Cmd> = Vec::new();
    let mut cmd: Option<Cmd> = None;
    let finish_cmd = |cmd: &mut Option<Cmd>, pipe: &mut Vec<Cmd>| {
        if let Some(c) = cmd.take() {
            pipe.push(c);
        }
    };
    for t in toks {
        match t {
            Tok::Word(w) => {
                let c = cmd.get_or_insert_with(|| Cmd {
                    start: w.start,
                    ..Cmd::default()
                });
                c.end = w.end;
                c.words.push(w);
            }
            Tok::Redir {
                start,
                end,
                op,
                target,
            } => {
                let c = cmd.get_or_insert_with(|| Cmd {
                    start,
                    ..Cmd::default()
                });
                c.end = end;
                c.redirs.push((op, target.map(|t| t.value)));
            }
            Tok::Pipe => finish_cmd(&mut cmd, &mut pipe),
            Tok::Sep => {
                finish_cmd(&mut cmd, &mut pipe);
                if !pipe.is_empty() {
                    out.push(std::mem::take(&mut pipe));
                }
            }
        }
    }
    finish_cmd(&mut cmd, &mut pipe);
    if !pipe.is_empty() {
        out.push(pipe);
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Command analysis
// ------------------------------------------------------------------------------------------------

/// The index of the word that is the command actually run (after assignments, reserved words and
/// wrappers such as `sudo -E`, `env X=1`, `exec`).
fn command_index(words: &[Word]) -> Option<usize> {
    let mut i = 0;
    while i < words.len() {
        let v = words[i].value.as_str();
        if is_assignment(v)
            || matches!(
                v,
                "!" | "{" | "}" | "then" | "do" | "else" | "elif" | "if" | "while" | "until"
            )
        {
            i += 1;
            continue;
        }
        let name = basename(v);
        if COMMAND_WRAPPERS.contains(&name) {
            i += 1;
            // The wrapper's own options (and their arguments).
            while i < words.len() {
                let o = words[i].value.as_str();
                if o == "--" {
                    i += 1;
                    break;
                }
                if !o.starts_with('-') {
                    break;
                }
                let takes_arg = match name {
                    "sudo" | "doas" => matches!(
                        o,
                        "-u" | "-g" | "-C" | "-D" | "-h" | "-p" | "-r" | "-t" | "-U" | "-T"
                    ),
                    "env" => matches!(o, "-u" | "-C" | "-S"),
                    "nice" => o == "-n",
                    _ => false,
                };
                i += if takes_arg { 2 } else { 1 };
            }
            continue;
        }
        return Some(i);
    }
    None
}

/// Whether `curl`/`wget` with these arguments writes the download to standard output.
fn downloads_to_stdout(name: &str, args: &[Word], redirs: &[(String, Option<String>)]) -> bool {
    let to_file = redirs.iter().any(|(op, t)| {
        matches!(op.as_str(), ">" | ">>" | ">|" | "&>" | "&>>")
            && t.as_deref().is_none_or(|t| t != "/dev/stdout")
    });
    if to_file {
        return false;
    }
    let stdout_file = |f: &str| f == "-" || f == "/dev/stdout";
    let vals: Vec<&str> = args.iter().map(|w| w.value.as_str()).collect();
    let mut i = 0;
    match name {
        "curl" => {
            const ARG_SHORT: &str = "HdDuAexXwmTFbcKCrUEYyzPQt";
            while i < vals.len() {
                let a = vals[i];
                if a == "--output" {
                    return vals.get(i + 1).is_some_and(|f| stdout_file(f));
                }
                if let Some(f) = a.strip_prefix("--output=") {
                    if !stdout_file(f) {
                        return false;
                    }
                } else if a == "--remote-name" || a == "--remote-name-all" {
                    return false;
                } else if a.starts_with('-') && !a.starts_with("--") && a.len() > 1 {
                    let letters: Vec<char> = a[1..].chars().collect();
                    for (k, &l) in letters.iter().enumerate() {
                        let rest: String = letters[k + 1..].iter().collect();
                        if l == 'O' {
                            return false;
                        }
                        if l == 'o' {
                            let f = if rest.is_empty() {
                                vals.get(i + 1).copied().unwrap_or("")
                            } else {
                                rest.as_str()
                            };
                            if !stdout_file(f) {
                                return false;
                            }
                            if rest.is_empty() {
                                i += 1;
                            }
                            break;
                        }
                        if ARG_SHORT.contains(l) {
                            if rest.is_empty() {
                                i += 1;
                            }
                            break;
                        }
                    }
                }
                i += 1;
            }
            true
        }
        "wget" => {
            const ARG_SHORT: &str = "oaeiBtTwQPUlARDIX";
            while i < vals.len() {
                let a = vals[i];
                if a == "--output-document" {
                    return vals.get(i + 1).is_some_and(|f| stdout_file(f));
                }
                if let Some(f) = a.strip_prefix("--output-document=") {
                    return stdout_file(f);
                }
                if a.starts_with('-') && !a.starts_with("--") && a.len() > 1 {
                    let letters: Vec<char> = a[1..].chars().collect();
                    for (k, &l) in letters.iter().enumerate() {
                        let rest: String = letters[k + 1..].iter().collect();
                        if l == 'O' {
                            let f = if rest.is_empty() {
                                vals.get(i + 1).copied().unwrap_or("")
                            } else {
                                rest.as_str()
                            };
                            return stdout_file(f);
                        }
                        if ARG_SHORT.contains(l) {
                            if rest.is_empty() {
                                i += 1;
                            }
                            break;
                        }
                    }
                }
                i += 1;
            }
            false
        }
        _ => false,
    }
}

/// The interpreter family of a command name, if it is one.
fn interpreter(name: &str) -> Option<&'static str> {
    if let Some(s) = SHELLS.iter().find(|s| **s == name) {
        return Some(s);
    }
    if let Some(s) = SCRIPT_INTERPRETERS.iter().find(|s| **s == name) {
        return Some(s);
    }
    // python3.12, python2.7
    if name.starts_with("python") && name[6..].chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Some("python");
    }
    None
}

/// Whether `interp` with these arguments reads its program from standard input.
fn runs_stdin(interp: &str, args: &[Word]) -> bool {
    let vals: Vec<&str> = args.iter().map(|w| w.value.as_str()).collect();
    let positional = |v: &str| v == "/dev/stdin" || v == "-";
    let is_shell = SHELLS.contains(&interp);
    let mut i = 0;
    while i < vals.len() {
        let a = vals[i];
        if a == "-" || a == "--" {
            // The next word, if any, is the script file (`sh -s --` was handled below).
            return vals.get(i + 1).is_none_or(|v| positional(v));
        }
        if (a.starts_with('-') || (is_shell && a.starts_with('+'))) && a.len() > 1 {
            if a.starts_with("--") {
                if matches!(a, "--rcfile" | "--init-file" | "--require" | "-r") {
                    i += 1;
                }
                if matches!(a, "--eval" | "--print" | "--command") {
                    return false;
                }
                i += 1;
                continue;
            }
            let letters = &a[1..];
            let inline = match interp {
                s if SHELLS.contains(&s) => "c",
                "python" | "python2" | "python3" => "cm",
                "perl" => "eE",
                "ruby" => "e",
                "node" | "nodejs" => "ep",
                "php" => "rf",
                _ => "",
            };
            if letters.chars().any(|l| inline.contains(l)) {
                return false;
            }
            if is_shell && letters.contains('s') {
                return true;
            }
            let takes_arg = match interp {
                s if SHELLS.contains(&s) => letters.ends_with('o') || letters.ends_with('O'),
                "python" | "python2" | "python3" => matches!(letters, "W" | "X" | "Q"),
                "ruby" => matches!(letters, "r" | "I"),
                "node" | "nodejs" => letters == "r",
                _ => false,
            };
            i += if takes_arg { 2 } else { 1 };
            continue;
        }
        // A script file (or `/dev/stdin`).
        return positional(a);
    }
    true
}

/// What kind of unverified execution was found.
#[derive(Clone, Debug)]
enum HitKind {
    /// `curl … | sh`: the downloader command (index in the pipeline) and the interpreter's name.
    Pipe { interp: String },
    /// `sh -c "$(curl …)"`, `eval "$(curl …)"`, `bash <(curl …)`.
    Substitution { form: String },
}

#[derive(Clone, Debug)]
struct Hit {
    kind: HitKind,
    /// The whole construct.
    start: usize,
    end: usize,
    /// The downloading command (replaced by `cat /tmp/<file>` in the suggestion).
    dl_start: usize,
    dl_end: usize,
    downloader: String,
    url: Option<String>,
}

/// `(name, url)` when `cmd` downloads to standard output.
fn downloader_of(cmd: &Cmd) -> Option<(String, Option<String>)> {
    let k = command_index(&cmd.words)?;
    let name = basename(&cmd.words[k].value);
    if !DOWNLOADERS.contains(&name) {
        return None;
    }
    let args = &cmd.words[k + 1..];
    if !downloads_to_stdout(name, args, &cmd.redirs) {
        return None;
    }
    let url = args.iter().map(|w| w.value.as_str()).find(|v| {
        let l = v.to_ascii_lowercase();
        l.starts_with("http://") || l.starts_with("https://") || l.starts_with("ftp://")
    });
    Some((name.to_owned(), url.map(str::to_owned)))
}

/// The downloading command inside a substitution `$(curl …)`: its span, name and URL.
fn downloading_sub(s: &str, sub: &Sub) -> Option<(usize, usize, String, Option<String>)> {
    let pipes = pipelines(lex(s, sub.start, sub.end));
    let last = pipes.last()?;
    let first = last.first()?;
    let (name, url) = downloader_of(first)?;
    Some((first.start, first.end, name, url))
}

fn analyse(s: &str, from: usize, to: usize, depth: usize, hits: &mut Vec<Hit>) {
    if depth > 8 {
        return;
    }
    for pipe in pipelines(lex(s, from, to)) {
        // curl … | … | sh
        let mut dl: Option<(usize, String, Option<String>)> = None;
        for (k, cmd) in pipe.iter().enumerate() {
            if let Some((name, url)) = downloader_of(cmd) {
                if dl.is_none() {
                    dl = Some((k, name, url));
                }
                continue;
            }
            let Some((d, name, url)) = &dl else {
                continue;
            };
            let Some(ci) = command_index(&cmd.words) else {
                continue;
            };
            let cname = basename(&cmd.words[ci].value);
            if let Some(interp) = interpreter(cname) {
                if runs_stdin(interp, &cmd.words[ci + 1..]) {
                    hits.push(Hit {
                        kind: HitKind::Pipe {
                            interp: cname.to_owned(),
                        },
                        start: pipe[*d].start,
                        end: cmd.end,
                        dl_start: pipe[*d].start,
                        dl_end: pipe[*d].end,
                        downloader: name.clone(),
                        url: url.clone(),
                    });
                    break;
                }
            }
        }
        for cmd in &pipe {
            // sh -c "$(curl …)", eval "$(curl …)", bash <(curl …), source <(curl …)
            if let Some(ci) = command_index(&cmd.words) {
                let cname = basename(&cmd.words[ci].value).to_owned();
                let args = &cmd.words[ci + 1..];
                let is_interp = interpreter(&cname).is_some();
                let mut candidates: Vec<&Word> = Vec::new();
                if cname == "eval" {
                    candidates.extend(args.iter());
                } else if SHELLS.contains(&cname.as_str()) {
                    // The word after `-c` (or a cluster ending in `c`).
                    if let Some(p) = args.iter().position(|w| {
                        w.value.starts_with('-')
                            && !w.value.starts_with("--")
                            && w.value.ends_with('c')
                    }) {
                        candidates.extend(args.get(p + 1));
                    }
                }
                if is_interp || cname == "source" || cname == "." {
                    candidates.extend(
                        args.iter().filter(|w| {
                            w.subs.first().is_some_and(|s| s.kind == SubKind::ProcessIn)
                        }),
                    );
                }
                for w in candidates {
                    if !w.whole_sub {
                        continue;
                    }
                    let sub = &w.subs[0];
                    if sub.kind == SubKind::ProcessOut {
                        continue;
                    }
                    if let Some((ds, de, name, url)) = downloading_sub(s, sub) {
                        let shown = match sub.kind {
                            SubKind::ProcessIn => format!("{cname} <({name} …)"),
                            _ if cname == "eval" => format!("eval \"$({name} …)\""),
                            _ => format!("{cname} -c \"$({name} …)\""),
                        };
                        hits.push(Hit {
                            kind: HitKind::Substitution { form: shown },
                            start: cmd.start,
                            end: cmd.end,
                            dl_start: ds,
                            dl_end: de,
                            downloader: name,
                            url,
                        });
                    }
                }
            }
            // Nested command lists: `x=$(curl … | sh)`, `( … )` handled by the lexer already.
            for w in &cmd.words {
                for sub in &w.subs {
                    analyse(s, sub.start, sub.end, depth + 1, hits);
                }
            }
        }
    }
}

/// Scripts whose hits are kept per thread, by the bytes of their text (see
/// [`crate::memo::get_or_compute_by_text`]): the same `RUN` comes back in the variants of one
/// image and in every round of a fix run, and lexing it is most of this rule's cost.
const SCANNED_SCRIPT_BYTES: usize = 64 * 1024;

thread_local! {
    static SCANNED: crate::memo::TextCache<Rc<[Hit]>> = crate::memo::TextCache::default();
}

/// Every hit in the shell script `s` (hits are offsets in `s`: the same for every copy of it).
fn scan(s: &str) -> Rc<[Hit]> {
    // Every hit names a downloader: a word's value is the script's characters less quotes,
    // backslashes and line continuations (no `$'\x..'` decoding), so a script whose characters
    // less those never spell one has no hit (most RUNs, even in files that download).
    if !DOWNLOADERS
        .iter()
        .any(|d| spells(s.as_bytes(), d.as_bytes()))
    {
        return Rc::from([]);
    }
    crate::memo::get_or_compute_by_text(&SCANNED, SCANNED_SCRIPT_BYTES, s.as_bytes(), || {
        scan_uncached(s).into()
    })
}

/// Test support: the hits of `s` from the memo are those scanning it afresh finds.
#[cfg(test)]
pub(crate) fn assert_scanned_afresh(s: &str) {
    assert_eq!(
        format!("{:?}", scan(s)),
        format!("{:?}", {
            let fresh: Vec<Hit> = if DOWNLOADERS
                .iter()
                .any(|d| spells(s.as_bytes(), d.as_bytes()))
            {
                scan_uncached(s)
            } else {
                Vec::new()
            };
            fresh
        }),
        "{s}"
    );
}

/// [`scan`], computed.
fn scan_uncached(s: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    analyse(s, 0, s.len(), 0, &mut hits);
    hits.sort_by_key(|h| (h.start, h.end));
    hits.dedup_by_key(|h| (h.start, h.end));
    hits
}

// ------------------------------------------------------------------------------------------------
// The rule
// ------------------------------------------------------------------------------------------------

/// A script of the RUN and how to map its offsets back to the original text.
enum Mapping<'a> {
    /// The instruction's logical line: offset `base` in it.
    Logical(&'a Instruction, usize),
    /// A contiguous copy of the original text starting at this offset.
    Direct(usize),
    /// Not mappable: report this range, suggest without edits.
    Whole(TextRange),
}

impl Mapping<'_> {
    fn range(&self, a: usize, b: usize) -> Option<TextRange> {
        match self {
            Self::Logical(ins, base) => Some(ins.logical.range(base + a, base + b)),
            Self::Direct(o) => Some(TextRange::new(o + a, o + b)),
            Self::Whole(_) => None,
        }
    }

    fn report(&self, a: usize, b: usize) -> TextRange {
        match self {
            Self::Whole(r) => *r,
            _ => self.range(a, b).unwrap_or_default(),
        }
    }
}

fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    // Only the path names a file: `https://get.example.com` has none.
    let path = path
        .split_once("://")
        .map_or(path, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    let name = path.rsplit('/').next().unwrap_or("");
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        name.to_owned()
    } else {
        "install.sh".to_owned()
    }
}

fn report(
    text: &str,
    outer: &Instruction,
    run: &Instruction,
    hits: &[Hit],
    map: &Mapping<'_>,
    findings: &mut Vec<Finding>,
) {
    for h in hits {
        let what = match &h.kind {
            HitKind::Pipe { interp } => format!("`{} … | {interp}`", h.downloader),
            HitKind::Substitution { form } => format!("`{form}`"),
        };
        let message = format!(
            "{what} runs a downloaded script without verifying it: download it with `ADD --checksum` (or install the tool with the package manager)"
        );
        let range = map.report(h.start, h.end);
        let url = h.url.clone();
        let file = url
            .as_deref()
            .map_or_else(|| "install.sh".to_owned(), url_file_name);
        let shown_url = url
            .as_deref()
            .map_or_else(|| "<url>".to_owned(), mask_url_credentials);
        let title = format!(
            "Download with `ADD --checksum=sha256:<TODO> {shown_url} /tmp/{file}` and run the verified file (or use the package manager)"
        );
        let mut edits = Vec::new();
        if let Some(r) = map.range(h.dl_start, h.dl_end) {
            let indent = &text[outer.line_start..outer.keyword_range.start];
            let add_kw = same_case("ADD", run.keyword_range.slice(text));
            let prefix = if outer.onbuild.is_some() {
                format!("{} ", outer.keyword_range.slice(text))
            } else {
                String::new()
            };
            let written_url = url.unwrap_or_else(|| "<url>".to_owned());
            edits.push(Edit::insert(
                outer.line_start,
                format!(
                    "{indent}{prefix}{add_kw} --checksum=sha256:<TODO> {written_url} /tmp/{file}{}",
                    line_ending(text)
                ),
            ));
            edits.push(Edit::replace(r, format!("cat /tmp/{file}")));
        }
        findings.push(
            Finding::new(CurlPipeShell::CODE, CurlPipeShell::NAME, range, message)
                .with_fix(Fix::display_only(title, edits)),
        );
    }
}

/// Does the RUN command run its first heredoc as the script (`RUN <<EOF`, `RUN bash <<EOF`)?
/// Returns the index of the heredoc that is the script.
fn heredoc_script(run: &Instruction, args: &str) -> Option<usize> {
    if run.heredocs.is_empty() {
        return None;
    }
    let toks = lex(args, 0, args.len());
    let pipes = pipelines(toks);
    let cmd = pipes.first()?.first()?;
    let marker_of = |op: &str, t: Option<&String>| -> Option<String> {
        if op.starts_with("<<") && op != "<<<" {
            t.map(|t| t.trim_matches(['"', '\'']).to_owned())
        } else {
            None
        }
    };
    let markers: Vec<String> = cmd
        .redirs
        .iter()
        .filter_map(|(op, t)| marker_of(op, t.as_ref()))
        .collect();
    if markers.is_empty() {
        return None;
    }
    let runs_it = match command_index(&cmd.words) {
        None => true, // `RUN <<EOF`: the body is the script of the default shell
        Some(k) => {
            let name = basename(&cmd.words[k].value);
            SHELLS.contains(&name) && runs_stdin(name, &cmd.words[k + 1..])
        }
    };
    if !runs_it {
        return None;
    }
    let first = &markers[0];
    run.heredocs.iter().position(|h| &h.name == first)
}

fn check_run(text: &str, outer: &Instruction, findings: &mut Vec<Finding>) {
    let run = outer.onbuild.as_deref().unwrap_or(outer);
    if run.keyword != "RUN" {
        return;
    }
    match &run.args {
        Args::Shell(sa) => {
            let hits = scan(&sa.text);
            report(
                text,
                outer,
                run,
                &hits,
                &Mapping::Logical(run, sa.logical_start),
                findings,
            );
            if let Some(h) = heredoc_script(run, &sa.text).and_then(|i| run.heredocs.get(i)) {
                let body = h.body.as_str();
                if let Some(shebang) = body.lines().next().and_then(|l| l.strip_prefix("#!")) {
                    // `#!/bin/bash -e`, `#!/usr/bin/env python3`: only shell scripts are read.
                    let mut words = shebang.split_whitespace();
                    let mut prog = words.next().map_or("", basename);
                    if prog == "env" {
                        prog = words.find(|w| !w.starts_with('-')).map_or("", basename);
                    }
                    if !SHELLS.contains(&prog) {
                        return;
                    }
                }
                let map = if !h.strip_tabs && h.body_range.slice(text) == body {
                    Mapping::Direct(h.body_range.start)
                } else {
                    Mapping::Whole(h.body_range)
                };
                report(text, outer, run, &scan(body), &map, findings);
            }
        }
        Args::Json(j) => {
            // ["sh", "-c", "curl … | sh"]
            let vals: Vec<&str> = j.items.iter().map(|i| i.value.as_str()).collect();
            let Some(first) = vals.first() else {
                return;
            };
            if !SHELLS.contains(&basename(first)) {
                return;
            }
            if let Some(p) = vals
                .iter()
                .position(|v| v.starts_with('-') && !v.starts_with("--") && v.ends_with('c'))
            {
                if let Some(item) = j.items.get(p + 1) {
                    let hits = scan(&item.value);
                    report(
                        text,
                        outer,
                        run,
                        &hits,
                        &Mapping::Whole(item.range),
                        findings,
                    );
                }
            }
        }
    }
}

impl Check for CurlPipeShell {
    fn run(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let Some(df) = dockerfile(ctx) else {
            return Vec::new();
        };
        // Every finding is about a download by one of the DOWNLOADERS (`curl`, `wget`): a file
        // that never names one has none (most files; lexing every RUN to learn that is costly).
        if !DOWNLOADERS.iter().any(|d| ctx.text.contains(d)) {
            return Vec::new();
        }
        let mut findings = Vec::new();
        for ins in &df.instructions {
            check_run(ctx.text, ins, &mut findings);
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(s: &str) -> Vec<String> {
        scan(s)
            .iter()
            .map(|h| s[h.start..h.end].to_owned())
            .collect()
    }

    #[test]
    fn a_script_scanned_again_has_the_hits_it_had() {
        let scripts = [
            "curl -fsSL https://x.example/i.sh | sh",
            "apt-get update && curl -o /tmp/x https://x.example/x",
            "sh -c \"$(wget -qO- https://x.example/i.sh)\"",
            "echo curl | bash",
        ];
        for _ in 0..2 {
            for s in scripts {
                assert_eq!(
                    format!("{:?}", scan(s)),
                    format!("{:?}", scan_uncached(s)),
                    "{s}"
                );
            }
        }
        assert!(!scan(scripts[0]).is_empty());
    }

    fn words(s: &str) -> Vec<(String, bool)> {
        lex(s, 0, s.len())
            .into_iter()
            .filter_map(|t| match t {
                Tok::Word(w) => Some((w.value, w.whole_sub)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn word_values_drop_quotes_and_escapes_and_keep_every_other_character() {
        let w = |v: &str, whole: bool| (v.to_owned(), whole);
        assert_eq!(
            words("curl -fsSL h\u{e9}llo\u{2603}x \"a b\"c'd e'f g\\ h \\\n i"),
            [
                w("curl", false),
                w("-fsSL", false),
                w("h\u{e9}llo\u{2603}x", false),
                w("a bcd ef", false),
                w("g h", false),
                w("i", false),
            ]
        );
        assert_eq!(
            words("x=$(curl a)b ${V}\u{e9} $V\u{e9}$ \u{e9}`id` \"$(curl b)\""),
            [
                w("x=$(curl a)b", false),
                w("${V}\u{e9}", false),
                w("$V\u{e9}$", false),
                w("\u{e9}`id`", false),
                w("$(curl b)", true),
            ]
        );
        assert_eq!(
            words("a|b;c&&d>e"),
            [w("a", false), w("b", false), w("c", false), w("d", false)]
        );
    }

    #[test]
    fn pipes() {
        assert_eq!(
            hits("apt-get update && curl -fsSL https://x/install.sh | sh -s -- -y && rm -rf /x"),
            vec!["curl -fsSL https://x/install.sh | sh -s -- -y"]
        );
        assert_eq!(
            hits("wget -qO- https://x | sudo -E bash -"),
            vec!["wget -qO- https://x | sudo -E bash -"]
        );
        assert_eq!(hits("wget -O - https://x | tee log | /bin/sh").len(), 1);
        assert_eq!(hits("curl -sSL https://x | python3").len(), 1);
        assert_eq!(hits("curl -sSL https://x | python3 -").len(), 1);
        assert_eq!(hits("curl -sSL https://x |\\\n  bash").len(), 1);
        assert_eq!(hits("curl https://x | env FOO=1 sh").len(), 1);
        // A downloader's name split by quotes or a line continuation is still one (the
        // prefilter looks past them).
        assert_eq!(hits("c'u'r\"l\" -fsSL https://x | sh").len(), 1);
        assert_eq!(hits("w\\get -qO- https://x | sh").len(), 1);
        assert_eq!(hits("echo x; sh -c \"$(cu''rl -fsSL https://x)\"").len(), 1);
    }

    #[test]
    fn not_pipes() {
        for s in [
            "curl -fsSL https://x | tar xz -C /opt",
            "curl -fsSL https://x | gpg --dearmor -o /k.gpg",
            "curl -s https://api | python3 -c 'import json,sys; print(json.load(sys.stdin))'",
            "curl -s https://api | python -m json.tool",
            "curl -o /tmp/x https://x | sh",
            "curl -fsSLo /tmp/x https://x && sh /tmp/x",
            "wget https://x | sh",
            "curl https://x | sh script.sh",
            "curl https://x | perl -ne 'print'",
            "echo 'curl https://x | sh'",
            "curl https://x > /tmp/a | sh",
            "curl -fsSL https://x | bash -c 'cat > /x'",
        ] {
            assert!(hits(s).is_empty(), "{s}: {:?}", hits(s));
        }
    }

    #[test]
    fn substitutions() {
        assert_eq!(
            hits(r#"/bin/bash -c "$(curl -fsSL https://x/install.sh)""#).len(),
            1
        );
        assert_eq!(hits("bash <(curl -s https://x)").len(), 1);
        assert_eq!(hits("source <(wget -qO- https://x)").len(), 1);
        assert_eq!(hits(r#"eval "$(curl -s https://x)""#).len(), 1);
        assert_eq!(hits("sh -c \"`curl -s https://x`\"").len(), 1);
        assert_eq!(hits("x=$(curl -s https://x | sh)").len(), 1);
        assert!(hits(r#"sh -c "echo $(curl -s https://x/version)""#).is_empty());
        assert!(hits(r#"VERSION="$(curl -s https://x/version)""#).is_empty());
    }

    #[test]
    fn shell_heredocs_are_skipped() {
        let s = "cat > /x.sh <<'EOF'\ncurl https://x | sh\nEOF\necho done";
        assert!(hits(s).is_empty());
    }

    fn suggested(text: &str) -> Vec<String> {
        let df = crate::dockerfile::syntax::parse(text).unwrap();
        let mut findings = Vec::new();
        for ins in &df.instructions {
            check_run(text, ins, &mut findings);
        }
        findings
            .iter()
            .map(|f| {
                let fix = f.fix.as_ref().unwrap();
                crate::apply::apply_fixes(text, &[fix]).text
            })
            .collect()
    }

    #[test]
    fn suggestions_keep_the_interpreter() {
        assert_eq!(
            suggested("FROM a\n  RUN curl -fsSL https://x/i.sh | sh -s -- -y && echo ok\n"),
            vec!["FROM a\n  ADD --checksum=sha256:<TODO> https://x/i.sh /tmp/i.sh\n  RUN cat /tmp/i.sh | sh -s -- -y && echo ok\n"]
        );
        assert_eq!(
            suggested("FROM a\r\nrun bash -c \"$(curl -fsSL https://x/i.sh)\"\r\n"),
            vec!["FROM a\r\nadd --checksum=sha256:<TODO> https://x/i.sh /tmp/i.sh\r\nrun bash -c \"$(cat /tmp/i.sh)\"\r\n"]
        );
        assert_eq!(
            suggested("FROM a\nRUN curl -fsSL \\\n  https://x/i.sh \\\n  | bash\n"),
            vec!["FROM a\nADD --checksum=sha256:<TODO> https://x/i.sh /tmp/i.sh\nRUN cat /tmp/i.sh \\\n  | bash\n"]
        );
        assert!(suggested(
            "FROM a\nRUN <<EOF\n#!/usr/bin/env pwsh\ncurl https://x/i.sh | sh\nEOF\n"
        )
        .is_empty());
        assert_eq!(
            suggested("FROM a\nRUN <<EOF\n#!/bin/bash -e\ncurl https://x/i.sh | sh\nEOF\n").len(),
            1
        );
        assert_eq!(
            suggested("FROM a\nRUN <<EOF\ncurl https://x/i.sh | sh\nEOF\n"),
            vec!["FROM a\nADD --checksum=sha256:<TODO> https://x/i.sh /tmp/i.sh\nRUN <<EOF\ncat /tmp/i.sh | sh\nEOF\n"]
        );
    }

    #[test]
    fn file_names() {
        assert_eq!(
            url_file_name("https://x/a/get-docker.sh?x=1"),
            "get-docker.sh"
        );
        assert_eq!(url_file_name("https://x/"), "install.sh");
        assert_eq!(url_file_name("https://get.docker.com"), "install.sh");
        assert_eq!(url_file_name("https://x/setup_${V}.x"), "install.sh");
    }
}
