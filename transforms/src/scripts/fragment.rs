//! Shell text inside a file (a whole script, a Makefile recipe, a systemd `ExecStart=`, a CI `run:`
//! or `script:` string, a Markdown code block), with the way back to the file's bytes, read with the
//! shell lexer the Dockerfile rules use (`dockerfile::shell_lex`): quotes, escapes, line
//! continuations, `&&` / `;` lists, here-documents (skipped: their bodies are data), comments.
//!
//! Commands inside `$(...)` are read too (they run), with their own place in the file. Commands in
//! the string of `sh -c '...'` are read for reports only: they are never edited.

use std::collections::BTreeMap;

use crate::dockerfile::shell_lex::{self, is_posix_shell, Lexed, SimpleCommand, TokenKind};
use crate::fix::SemanticPath;
use crate::text::TextRange;

/// How the host passes the text to a shell, where it differs from `sh` reading the text as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// The text is a shell script.
    Sh,
    /// A Makefile recipe: `$(VAR)` / `${VAR}` are make variables, `$$` is a `$`.
    Make,
    /// A systemd command line: no shell operators; `$VAR` / `${VAR}` come from `Environment=`,
    /// `%i` and friends are specifiers.
    Systemd,
}

/// A run of bytes that is the same in the fragment's text and in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src: usize,
    pub file: usize,
    pub len: usize,
}

/// Shell text found in a file.
#[derive(Clone, Debug)]
pub struct Fragment {
    /// The text as the shell sees it.
    pub src: String,
    /// Where its bytes are in the file (empty: nowhere, e.g. a decoded escape sequence).
    pub segments: Vec<Segment>,
    /// Whether edits may be made in it (false for Markdown, and for text whose bytes cannot all be
    /// mapped back to the file).
    pub editable: bool,
    pub dialect: Dialect,
    /// Where it is, for messages (`step "Run tests" of job \`build\``); empty for a whole script.
    pub place: String,
    /// YAML hosts: the semantic path of the string it is.
    pub yaml_path: Option<SemanticPath>,
    /// Variables with a known literal value at this place (shell assignments, make variables,
    /// CI `variables:` / `env:`, systemd `Environment=`), for reading image references.
    pub vars: BTreeMap<String, String>,
    /// A value that is only the start of a command (a make variable holding `docker run --rm ...`):
    /// what it does not say may be said where it is used.
    pub partial: bool,
    /// Why its commands cannot be read with certainty (all of them), if so.
    pub uncertain: Option<String>,
}

impl Fragment {
    /// A fragment whose text is `text[range]`, byte for byte.
    #[must_use]
    pub fn identity(text: &str, range: TextRange, dialect: Dialect) -> Self {
        Self {
            src: range.slice(text).to_owned(),
            segments: vec![Segment {
                src: 0,
                file: range.start,
                len: range.len(),
            }],
            editable: true,
            dialect,
            place: String::new(),
            yaml_path: None,
            vars: BTreeMap::new(),
            partial: false,
            uncertain: None,
        }
    }

    /// The file offset of `src` offset `at` (the end of a segment counts).
    #[must_use]
    pub fn to_file(&self, at: usize) -> Option<usize> {
        self.segments
            .iter()
            .find(|s| s.src <= at && at <= s.src + s.len)
            .map(|s| s.file + (at - s.src))
    }

    /// The file range of `src` range `start..end`, when both ends are in one segment.
    #[must_use]
    pub fn range_to_file(&self, start: usize, end: usize) -> Option<TextRange> {
        let s = self
            .segments
            .iter()
            .find(|s| s.src <= start && end <= s.src + s.len)?;
        Some(TextRange::new(
            s.file + (start - s.src),
            s.file + (end - s.src),
        ))
    }

    /// A file range to report something at `start..end` of the text: the exact range when it maps,
    /// else the nearest mapped offset.
    #[must_use]
    pub fn report_range(&self, start: usize, end: usize) -> TextRange {
        if let Some(r) = self.range_to_file(start, end) {
            return r;
        }
        let near = self
            .segments
            .iter()
            .rfind(|s| s.src <= start)
            .or(self.segments.first())
            .map_or(0, |s| s.file + start.saturating_sub(s.src).min(s.len));
        TextRange::empty(near)
    }

    /// Every command of the text: top level, inside `$(...)`, and inside `sh -c` strings.
    #[must_use]
    pub fn commands(&self) -> Vec<Cmd> {
        let mut out = Vec::new();
        let lexed = shell_lex::lex(&self.src);
        self.collect(&lexed, 0, &self.src, Nesting::Top, None, &mut out, 0);
        out.sort_by_key(|c| c.start);
        out
    }

    /// The tokens of the text that separate commands (operators and line breaks, as written), and
    /// the here-document bodies: what must not change between the commands.
    #[must_use]
    pub fn separators(&self) -> Vec<String> {
        let lexed = shell_lex::lex(&self.src);
        let mut out: Vec<String> = lexed
            .tokens
            .iter()
            .filter(|t| t.kind != TokenKind::Word)
            .map(|t| self.src[t.start..t.end].to_owned())
            .collect();
        for (a, b) in &lexed.heredoc_bodies {
            out.push(self.src[*a..*b].to_owned());
        }
        out.push(format!("complete={}", lexed.complete));
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn collect(
        &self,
        lexed: &Lexed,
        offset: usize,
        text: &str,
        nesting: Nesting,
        anchor: Option<TextRange>,
        out: &mut Vec<Cmd>,
        depth: usize,
    ) {
        if depth > 8 {
            return;
        }
        let shell_ops_ok = self.dialect != Dialect::Systemd
            || lexed
                .tokens
                .iter()
                .all(|t| t.kind != TokenKind::Op || &text[t.start..t.end] == ";");
        for sc in shell_lex::commands(text, &lexed.tokens) {
            let mut uncertain = self.uncertain.clone();
            if uncertain.is_none() {
                if let Some(at) = lexed.incomplete_at {
                    if sc.end > at || sc.words.iter().any(|w| w.end > at) {
                        uncertain =
                            Some("an unterminated quote, substitution or here-document".into());
                    }
                }
            }
            if uncertain.is_none() && !shell_ops_ok {
                uncertain = Some(
                    "systemd does not run a shell: `|`, `&&` and redirections are not operators there"
                        .into(),
                );
            }
            let mapped = nesting != Nesting::ShellString;
            let words: Vec<Word> = sc
                .words
                .iter()
                .map(|w| Word {
                    raw: w.raw.clone(),
                    value: w.value.clone(),
                    start: offset + w.start,
                    end: offset + w.end,
                    file: if mapped {
                        self.range_to_file(offset + w.start, offset + w.end)
                    } else {
                        None
                    },
                })
                .collect();
            let start = words.first().map_or(offset, |w| w.start);
            let end = offset + sc.end;
            let cmd_anchor = match (nesting, anchor) {
                (Nesting::ShellString, Some(a)) => a,
                _ => self.report_range(start, end),
            };
            // Commands inside `$(...)` of its words.
            for w in &sc.words {
                for (a, b) in substitutions(&w.raw) {
                    let inner = &w.raw[a..b];
                    let inner_lexed = shell_lex::lex(inner);
                    let inner_offset = offset + w.start + a;
                    let nest = if nesting == Nesting::ShellString {
                        Nesting::ShellString
                    } else {
                        Nesting::Substitution
                    };
                    self.collect(
                        &inner_lexed,
                        inner_offset,
                        inner,
                        nest,
                        Some(cmd_anchor),
                        out,
                        depth + 1,
                    );
                }
            }
            // The script of `sh -c '...'`: read, never edited.
            if let Some((i, script)) = shell_c_script(&sc) {
                let word = &words[i];
                let script_anchor = match nesting {
                    Nesting::ShellString => cmd_anchor,
                    _ => word
                        .file
                        .unwrap_or_else(|| self.report_range(word.start, word.end)),
                };
                let inner_lexed = shell_lex::lex(&script);
                let sub = Fragment {
                    src: script.clone(),
                    segments: Vec::new(),
                    editable: false,
                    dialect: Dialect::Sh,
                    place: self.place.clone(),
                    yaml_path: None,
                    vars: self.vars.clone(),
                    partial: false,
                    uncertain: None,
                };
                let mut nested = Vec::new();
                sub.collect(
                    &inner_lexed,
                    0,
                    &script,
                    Nesting::ShellString,
                    Some(script_anchor),
                    &mut nested,
                    depth + 1,
                );
                for mut c in nested {
                    // Positions inside the string mean nothing in this text: order them at the
                    // string.
                    c.start = word.start;
                    c.end = word.end;
                    for w in &mut c.words {
                        w.start = word.start;
                        w.end = word.end;
                    }
                    out.push(c);
                }
            }
            out.push(Cmd {
                words,
                start,
                end,
                nesting,
                anchor: cmd_anchor,
                uncertain,
            });
        }
    }
}

/// Where a command is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// A command of the text itself.
    Top,
    /// Inside `$(...)`.
    Substitution,
    /// Inside the string of `sh -c '...'`: read for reports, never edited.
    ShellString,
}

/// A word of a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// As written (quotes included).
    pub raw: String,
    /// Quotes and escapes removed (no expansion).
    pub value: String,
    /// Its place in the fragment's text.
    pub start: usize,
    pub end: usize,
    /// Its place in the file, when it maps there byte for byte.
    pub file: Option<TextRange>,
}

impl Word {
    /// Whether the word is (or starts with) an expansion that the shell splits into words: an
    /// unquoted `$VAR`, `${VAR}`, `$(cmd)`, `` `cmd` ``, `$@`.
    #[must_use]
    pub fn is_unquoted_expansion(&self) -> bool {
        self.raw.starts_with('$') || self.raw.starts_with('`')
    }

    /// Whether the word contains an expansion at all (quoted or not).
    #[must_use]
    pub fn has_expansion(&self) -> bool {
        !self.raw.starts_with('\'') && (self.raw.contains('$') || self.raw.contains('`'))
    }
}

/// A simple command.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub words: Vec<Word>,
    /// Its place in the fragment's text (for ordering).
    pub start: usize,
    pub end: usize,
    pub nesting: Nesting,
    /// Where to report it when its words do not map to the file.
    pub anchor: TextRange,
    /// Why it cannot be read with certainty, if so.
    pub uncertain: Option<String>,
}

impl Cmd {
    /// Whether its words can be edited (they map to the file).
    #[must_use]
    pub fn mapped(&self) -> bool {
        self.nesting != Nesting::ShellString && self.words.iter().all(|w| w.file.is_some())
    }

    /// The index of the command name, after reserved words, assignments and wrappers (`sudo`,
    /// `env`, `exec`, `nohup`, `time`, `timeout 60`, `command`).
    #[must_use]
    pub fn name_index(&self) -> Option<usize> {
        let sc = SimpleCommand::new(
            self.words
                .iter()
                .map(|w| shell_lex::ShWord {
                    raw: w.raw.clone(),
                    value: w.value.clone(),
                    start: w.start,
                    end: w.end,
                })
                .collect(),
            self.end,
        );
        let mut i = sc.name_index()?;
        // `timeout [-s SIG] [-k DUR] DURATION cmd`, `retry`-style wrappers are not followed.
        while shell_lex::basename(&self.words.get(i)?.value) == "timeout" {
            i += 1;
            while let Some(w) = self.words.get(i) {
                if matches!(w.value.as_str(), "-s" | "-k" | "--signal" | "--kill-after") {
                    i += 2;
                } else if w.value.starts_with('-') {
                    i += 1;
                } else {
                    break;
                }
            }
            i += 1;
        }
        (i < self.words.len()).then_some(i)
    }
}

/// The `-c` script of a POSIX shell command (`sh -c '...'`, `bash -lc "..."`): (word index, text).
fn shell_c_script(sc: &SimpleCommand) -> Option<(usize, String)> {
    let i = sc.name_index()?;
    if !is_posix_shell(&sc.words[i].value) {
        return None;
    }
    let mut j = i + 1;
    while let Some(w) = sc.words.get(j) {
        let v = w.value.as_str();
        if v.starts_with('-') && !v.starts_with("--") && v[1..].contains('c') {
            let script = sc.words.get(j + 1)?;
            return Some((j + 1, script.value.clone()));
        }
        if !v.starts_with('-') {
            return None;
        }
        j += 1;
    }
    None
}

/// The `$(...)` command substitutions of a word as written (not `$((...))` arithmetic, not inside
/// single quotes): ranges of their inner text within `raw`.
#[must_use]
pub fn substitutions(raw: &str) -> Vec<(usize, usize)> {
    let b = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut dq = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\'' if !dq => {
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                dq = !dq;
                i += 1;
            }
            b'$' if b.get(i + 1) == Some(&b'(') && b.get(i + 2) != Some(&b'(') => {
                match matching_paren(b, i + 1) {
                    Some(end) => {
                        out.push((i + 2, end));
                        i = end + 1;
                    }
                    None => break,
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// `b[open]` is `(`: the offset of its matching `)`.
fn matching_paren(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = open;
    while j < b.len() {
        match b[j] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            b'\\' => j += 1,
            b'\'' => {
                j += 1;
                while j < b.len() && b[j] != b'\'' {
                    j += 1;
                }
            }
            b'"' => {
                j += 1;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// The raw text of a word with the inner text of its `$(...)` substitutions masked (they are
/// compared as commands of their own).
#[must_use]
pub fn masked(raw: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (a, b) in substitutions(raw) {
        out.push_str(&raw[last..a]);
        out.push('…');
        last = b;
    }
    out.push_str(&raw[last..]);
    out
}

/// Shell variables assigned a value at the top level of a script (`NAME=value`, `export NAME=value`,
/// `readonly`, `declare`, `local`), when each is assigned one value only.
#[must_use]
pub fn shell_assignments(src: &str) -> BTreeMap<String, String> {
    let lexed = shell_lex::lex(src);
    let mut seen: BTreeMap<String, Option<String>> = BTreeMap::new();
    for sc in shell_lex::commands(src, &lexed.tokens) {
        let words = &sc.words;
        let mut i = 0;
        if words.first().is_some_and(|w| {
            matches!(
                w.value.as_str(),
                "export" | "readonly" | "declare" | "local" | "typeset"
            )
        }) {
            i = 1;
            while words.get(i).is_some_and(|w| w.value.starts_with('-')) {
                i += 1;
            }
        } else if !words.iter().all(|w| shell_lex::is_assignment(&w.raw)) {
            continue;
        }
        for w in &words[i..] {
            if !shell_lex::is_assignment(&w.raw) {
                continue;
            }
            let (name, value) = w.value.split_once('=').unwrap_or((&w.value, ""));
            let entry = seen
                .entry(name.to_owned())
                .or_insert(Some(value.to_owned()));
            if entry.as_deref() != Some(value) {
                *entry = None;
            }
        }
    }
    seen.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

/// Resolve `$VAR`, `${VAR}`, `${VAR:-default}` (and make's `$(VAR)`) in `text` from `vars`, values
/// resolved in turn (a few levels deep). None when something stays unknown.
#[must_use]
pub fn resolve(text: &str, vars: &BTreeMap<String, String>, dialect: Dialect) -> Option<String> {
    fn go(
        text: &str,
        vars: &BTreeMap<String, String>,
        dialect: Dialect,
        depth: usize,
    ) -> Option<String> {
        if depth > 4 {
            return None;
        }
        let text = if dialect == Dialect::Make {
            make_to_shell(text)
        } else {
            text.to_owned()
        };
        if !text.contains('$') {
            return Some(text);
        }
        crate::needs::interpolate(&text, &|name: &str| {
            vars.get(name).and_then(|v| go(v, vars, dialect, depth + 1))
        })
    }
    go(text, vars, dialect, 0)
}

/// Make's `$(VAR)` → `${VAR}` and `$$` → `$`, for reading a value (not for `$(shell ...)`).
fn make_to_shell(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && b.get(i + 1) == Some(&b'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if b[i] == b'$' && b.get(i + 1) == Some(&b'(') {
            if let Some(end) = text[i..].find(')') {
                let name = &text[i + 2..i + end];
                if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    out.push_str(&format!("${{{name}}}"));
                    i += end + 1;
                    continue;
                }
            }
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(s: &str) -> Fragment {
        Fragment::identity(s, TextRange::new(0, s.len()), Dialect::Sh)
    }

    #[test]
    fn commands_at_every_level() {
        let f = frag("ID=$(docker run -d nginx:1) && echo \"docker run --privileged x\"\nsh -c 'docker run --net=host y'\n");
        let cmds = f.commands();
        let names: Vec<(Vec<String>, Nesting)> = cmds
            .iter()
            .map(|c| (c.words.iter().map(|w| w.value.clone()).collect(), c.nesting))
            .collect();
        assert!(names.contains(&(
            vec!["docker".into(), "run".into(), "-d".into(), "nginx:1".into()],
            Nesting::Substitution
        )));
        assert!(names.contains(&(
            vec![
                "docker".into(),
                "run".into(),
                "--net=host".into(),
                "y".into()
            ],
            Nesting::ShellString
        )));
        // The echo string is an argument, not a command.
        assert_eq!(
            cmds.iter()
                .filter(|c| c.words.first().is_some_and(|w| w.value == "docker"))
                .count(),
            2
        );
        let sub = cmds
            .iter()
            .find(|c| c.nesting == Nesting::Substitution)
            .unwrap();
        let img = &sub.words[3];
        assert_eq!(img.file.unwrap().slice(&f.src), "nginx:1");
    }

    #[test]
    fn heredoc_bodies_are_not_commands() {
        let f = frag("cat <<EOF\ndocker run --privileged x\nEOF\ndocker ps\n");
        let cmds = f.commands();
        assert_eq!(cmds.len(), 2);
    }

    #[test]
    fn assignments_and_resolution() {
        let vars =
            shell_assignments("IMAGE=nginx\nTAG=\"1.27\"\nexport REF=$IMAGE:$TAG\nX=1\nX=2\n");
        assert_eq!(vars.get("X"), None);
        assert_eq!(
            resolve("${REF}", &vars, Dialect::Sh).as_deref(),
            Some("nginx:1.27")
        );
        let mut m = BTreeMap::new();
        m.insert("IMG".to_owned(), "redis:7".to_owned());
        assert_eq!(
            resolve("$(IMG)", &m, Dialect::Make).as_deref(),
            Some("redis:7")
        );
        assert_eq!(resolve("$(NOPE)", &m, Dialect::Make), None);
    }
}
