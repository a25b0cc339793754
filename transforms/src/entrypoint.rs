//! What an image's entrypoint script shows about how the image starts: whether it switches users
//! (gosu, su-exec, setpriv, `chroot --userspec`, `start-stop-daemon --chuid`, `su -c`, `runuser`,
//! or hands over to supervisord / s6-overlay), and which capabilities the steps it runs as root
//! need once the container gets `cap_drop: [ALL]`.
//!
//! The caller (`--resolve`) reads the script out of the image's layers; this module only reads
//! text. The result becomes [`Facts`] that feed the same lookup as the knowledge base
//! ([`crate::needs::of_image`]), under the same rule: **no guessing**. A fact is set only when
//! the script shows it, and `cap-add` (which must be the whole list) only when every command of
//! the script is one whose needs are known; one command that is not (a program of the image, a
//! sourced file, `setcap`, `eval`, a command held in a variable that was never assigned) leaves
//! `cap-add` unknown, and the capability fix a display-only suggestion.

use std::collections::{BTreeMap, BTreeSet};

use crate::dockerfile::shell_lex::{self, basename, is_assignment, ShWord, SimpleCommand};
use crate::images::{Facts, UserId};

/// The capabilities the root steps of an entrypoint need under `cap_drop: [ALL]`: the mapping
/// of `transforms/knowledge/SCHEMA.md` ("Reading upstream", `cap-add`) that the knowledge
/// base's entries apply by hand, with the entries that cite it:
///
/// - gosu, su-exec, setpriv, su, runuser, `start-stop-daemon --chuid` call
///   setgroups/setgid/setuid: SETGID and SETUID (postgres, mysql, redis: "gosu calls
///   setgroups/setgid/setuid"; valkey, couchdb: setpriv; clickhouse: su);
/// - `chroot`: SYS_CHROOT, and with `--userspec` also SETGID and SETUID;
/// - `chown` / `chgrp`: CHOWN (ghost, memos, consul);
/// - `chmod` of files the process does not own: FOWNER (postgres, couchdb);
/// - a recursive walk (`chown -R`, `find … -exec chown`) enters directories the service user
///   created, often mode 0700: DAC_OVERRIDE (postgres, mysql, redis, valkey, clickhouse);
///   a `find` that only reads: DAC_READ_SEARCH (rabbitmq, zookeeper);
/// - writing a file (`>`/`>>`, `touch`, `mkdir`, `cp`, `sed -i`, …): DAC_OVERRIDE, because
///   whether another user owns the target is not in the script (couchdb: "root writes into files
///   and directories owned by couchdb").
pub mod caps {
    pub const SWITCH: &[&str] = &["SETGID", "SETUID"];
    pub const CHROOT: &[&str] = &["SYS_CHROOT"];
    pub const CHOWN: &[&str] = &["CHOWN"];
    pub const CHMOD: &[&str] = &["FOWNER"];
    pub const WALK: &[&str] = &["DAC_OVERRIDE"];
    pub const READ_WALK: &[&str] = &["DAC_READ_SEARCH"];
    pub const WRITE: &[&str] = &["DAC_OVERRIDE"];
}

/// Commands that need no capability as root: shell built-ins, and tools that only read or print.
const NO_CAPS: &[&str] = &[
    ":", "true", "false", "[", "[[", "test", "echo", "printf", "set", "shift", "export", "local",
    "declare", "typeset", "readonly", "unset", "return", "exit", "cd", "pwd", "umask", "trap",
    "wait", "read", "break", "continue", "getopts", "shopt", "let", "type", "hash", "id", "whoami",
    "cat", "grep", "egrep", "fgrep", "awk", "cut", "tr", "head", "tail", "sort", "uniq", "wc",
    "basename", "dirname", "readlink", "realpath", "printenv", "getent", "stat", "ls", "sleep",
    "date", "hostname", "uname", "expr", "seq", "nproc", "which",
];

/// Tools that write files (DAC_OVERRIDE, see [`caps::WRITE`]).
const WRITERS: &[&str] = &[
    "mkdir", "touch", "rm", "rmdir", "ln", "cp", "tee", "mktemp", "envsubst",
];

/// A user switch found in the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Switch {
    /// The knowledge base's `switch-user` value (`gosu`, `su-exec`, `setpriv`, `chroot`,
    /// `start-stop-daemon`, `su`, `runuser`, `supervisord`, `s6-overlay`).
    pub method: &'static str,
    /// The user switched to, when the script writes it as numbers (`gosu 1000:1000`).
    pub to: Option<UserId>,
    /// A supervisor that starts programs configured elsewhere (supervisord, s6-overlay): what
    /// those need is not in the script.
    pub supervisor: bool,
}

/// What one script shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// The user switches, in the order of the script.
    pub switches: Vec<Switch>,
    /// The capabilities its known steps need.
    pub caps: BTreeSet<&'static str>,
    /// Commands whose needs are not known (first occurrence of each), with why.
    pub unknown: Vec<String>,
}

/// What a word run as a command is.
enum Step {
    /// Needs these capabilities (possibly none).
    Caps(Vec<&'static str>),
    /// Switches users (and needs [`caps::SWITCH`] and these).
    Switch(Switch, Vec<&'static str>),
    /// Not known.
    Unknown(String),
}

/// Whether a `#!` script is run by a POSIX shell (`sh`, `bash`, `ash`, `dash`, `ksh`, through
/// `env` too): only those are read. A Python or Node start script switching users with
/// `os.setuid()` is not a shell text, and reading it as one would prove nothing.
#[must_use]
pub fn is_shell_script(text: &str) -> bool {
    let Some(line) = text.strip_prefix("#!").and_then(|t| t.lines().next()) else {
        return false;
    };
    let mut words = line.split_whitespace();
    let Some(mut interpreter) = words.next().map(basename) else {
        return false;
    };
    if interpreter == "env" {
        match words.find(|w| !w.starts_with('-')) {
            Some(w) => interpreter = basename(w),
            None => return false,
        }
    }
    if interpreter == "busybox" {
        interpreter = words.next().unwrap_or("");
    }
    matches!(interpreter, "sh" | "bash" | "ash" | "dash" | "ksh" | "mksh")
}

/// Scan a shell script (`#!` line and all).
#[must_use]
pub fn scan(text: &str) -> Scan {
    let mut s = Scanner::default();
    s.script(text, 0);
    s.out.caps.extend(s.pending.iter());
    s.out
}

#[derive(Default)]
struct Scanner {
    out: Scan,
    pending: BTreeSet<&'static str>,
    /// Functions the script defines (calling them is running their bodies, which are scanned).
    functions: BTreeSet<String>,
    /// The literal values assigned to variables (`GOSU="gosu app"`, `GOSU=""`), for
    /// `$GOSU "$@"`, which runs one of them.
    vars: BTreeMap<String, Vec<String>>,
}

impl Scanner {
    fn unknown(&mut self, why: String) {
        if !self.out.unknown.contains(&why) {
            self.out.unknown.push(why);
        }
    }

    fn script(&mut self, text: &str, depth: usize) {
        if depth > 4 {
            self.unknown("command substitutions nested too deeply".into());
            return;
        }
        let lexed = shell_lex::lex(text);
        if !lexed.complete {
            self.unknown("the script does not lex (an unterminated quote or substitution)".into());
        }
        let commands = shell_lex::commands(text, &lexed.tokens);
        // Function names first: a call may come before the definition in the text.
        for c in &commands {
            if let Some(name) = function_name(text, c) {
                self.functions.insert(name);
            }
        }
        let mut case_depth = 0usize;
        for c in &commands {
            // Command substitutions inside the words run too.
            for w in &c.words {
                for inner in substitutions(&w.raw) {
                    self.script(inner, depth + 1);
                }
            }
            if writes_to_a_file(text, c, &lexed.tokens) {
                self.pending.extend(caps::WRITE);
            }
            let first = c.words[0].value.as_str();
            if first == "case" && c.words[0].raw == "case" {
                case_depth += 1;
                continue;
            }
            if first == "esac" {
                case_depth = case_depth.saturating_sub(1);
                continue;
            }
            if case_depth > 0 && followed_by_paren(text, c) {
                // A pattern of a `case` (`postgres)`, `-*)`).
                continue;
            }
            if function_name(text, c).is_some() {
                continue;
            }
            if first == "for" || first == "select" {
                continue;
            }
            self.command(c);
        }
    }

    fn command(&mut self, c: &SimpleCommand) {
        // Literal assignments alone on a line: remembered for `$VAR args`.
        if c.words.iter().all(|w| is_assignment(&w.raw)) {
            for w in &c.words {
                if let Some((k, v)) = w.value.split_once('=') {
                    let values = self.vars.entry(k.to_owned()).or_default();
                    if v.contains('$') || v.contains('`') {
                        // Not a literal: running it is not known.
                        values.push("$UNKNOWN".to_owned());
                    } else if !values.iter().any(|x| x == v) {
                        values.push(v.to_owned());
                    }
                }
            }
            return;
        }
        let Some(i) = c.name_index() else {
            return;
        };
        // Wrappers before the name: `exec`, `env`, `command` are transparent; `command -v X`
        // only looks X up; `xargs` runs the command over a list (a walk); others (sudo, nice,
        // nohup, time) are not known.
        let mut lookup = false;
        let mut over_list = false;
        for (k, w) in c.words[..i].iter().enumerate() {
            if is_assignment(&w.raw) {
                continue;
            }
            match basename(&w.value) {
                "exec" | "env" | "time" | "if" | "then" | "else" | "elif" | "do" | "while"
                | "until" | "!" | "{" | "}" => {}
                "command" => {
                    if c.words
                        .get(k + 1)
                        .is_some_and(|n| n.value == "-v" || n.value == "-V")
                    {
                        lookup = true;
                    }
                }
                "xargs" => over_list = true,
                other if other.starts_with('-') => {}
                other => {
                    self.unknown(format!("`{other}`"));
                    return;
                }
            }
        }
        if lookup {
            return;
        }
        let words: Vec<String> = c.words[i..].iter().map(|w| w.value.clone()).collect();
        for step in self.step(&words, &c.words[i..], over_list, 0) {
            self.apply(step);
        }
    }

    fn apply(&mut self, step: Step) {
        match step {
            Step::Caps(list) => self.pending.extend(list),
            Step::Switch(s, extra) => {
                if !s.supervisor {
                    self.pending.extend(caps::SWITCH);
                    self.pending.extend(extra);
                }
                self.out.switches.push(s);
            }
            Step::Unknown(why) => self.unknown(why),
        }
    }

    /// What running `words` (the command name first) is: one step, or one per value of a
    /// variable that holds the command.
    fn step(&self, words: &[String], raw: &[ShWord], over_list: bool, depth: usize) -> Vec<Step> {
        let Some(name_word) = words.first() else {
            return vec![Step::Caps(Vec::new())];
        };
        let args = &words[1..];
        // A command held in a variable.
        if let Some(var) = variable_name(name_word) {
            if matches!(var, "@" | "*" | "0" | "BASH_SOURCE") || var.parse::<u32>().is_ok() {
                // The command the container was given (`exec "$@"`), or the script itself:
                // it adds no step of its own, as the knowledge base reads `exec "$@"`.
                return vec![Step::Caps(Vec::new())];
            }
            let unquoted = raw.first().is_some_and(|w| !w.raw.starts_with('"'));
            let unknown = || Step::Unknown(format!("`{name_word}` (a command held in a variable)"));
            return match self.vars.get(var) {
                Some(values) if unquoted && depth < 3 => values
                    .iter()
                    .flat_map(|value| {
                        if value == "$UNKNOWN" {
                            return vec![unknown()];
                        }
                        let mut expanded: Vec<String> =
                            value.split_whitespace().map(str::to_owned).collect();
                        expanded.extend(args.iter().cloned());
                        self.step(&expanded, &[], over_list, depth + 1)
                    })
                    .collect(),
                _ => vec![unknown()],
            };
        }
        vec![self.named(basename(name_word), args, over_list)]
    }

    fn named(&self, name: &str, args: &[String], over_list: bool) -> Step {
        if self.functions.contains(name) {
            return Step::Caps(Vec::new());
        }
        if name == "set" {
            // `set -- gosu app "$@"` before `exec "$@"`: the new arguments are the command.
            if let (Some("--"), Some(tool)) = (args.first().map(String::as_str), args.get(1)) {
                if let Some(s) = switch(basename(tool), &args[2..]) {
                    return s;
                }
            }
            return Step::Caps(Vec::new());
        }
        if NO_CAPS.contains(&name) {
            return Step::Caps(Vec::new());
        }
        if WRITERS.contains(&name) {
            if name == "cp" && args.iter().any(|a| preserves(a)) {
                // Keeping the owner and mode of copied files: chown and chmod.
                return Step::Caps(vec!["CHOWN", "DAC_OVERRIDE", "FOWNER"]);
            }
            return Step::Caps(caps::WRITE.to_vec());
        }
        match name {
            "sed" => {
                let in_place = args.iter().any(|a| {
                    a == "--in-place"
                        || a.starts_with("--in-place=")
                        || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains('i'))
                });
                return Step::Caps(if in_place {
                    caps::WRITE.to_vec()
                } else {
                    Vec::new()
                });
            }
            "chown" | "chgrp" => {
                let mut c = caps::CHOWN.to_vec();
                if over_list || recursive(args) {
                    c.extend(caps::WALK);
                }
                return Step::Caps(c);
            }
            "chmod" => {
                let mut c = caps::CHMOD.to_vec();
                if over_list || recursive(args) {
                    c.extend(caps::WALK);
                }
                return Step::Caps(c);
            }
            "find" => return find(args),
            _ => {}
        }
        switch(name, args).unwrap_or_else(|| Step::Unknown(format!("`{name}`")))
    }
}

/// `$X`, `${X}` → `X`.
fn variable_name(word: &str) -> Option<&str> {
    let v = word.strip_prefix('$')?;
    let v = v
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(v);
    (!v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == '*'))
    .then_some(v)
}

fn recursive(args: &[String]) -> bool {
    args.iter().any(|a| {
        a == "--recursive" || (a.starts_with('-') && !a.starts_with("--") && a.contains('R'))
    })
}

fn preserves(arg: &str) -> bool {
    arg == "--archive"
        || arg.starts_with("--preserve")
        || (arg.starts_with('-')
            && !arg.starts_with("--")
            && (arg.contains('a') || arg.contains('p')))
}

/// `find`: a walk; `-exec chown/chmod` changes what it finds, `-delete` removes it.
fn find(args: &[String]) -> Step {
    let mut out: Vec<&'static str> = Vec::new();
    let mut i = 0;
    let mut changes = false;
    while i < args.len() {
        match args[i].as_str() {
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                let Some(cmd) = args.get(i + 1) else {
                    return Step::Unknown("`find -exec` without a command".into());
                };
                match basename(cmd) {
                    "chown" | "chgrp" => out.extend(caps::CHOWN),
                    "chmod" => out.extend(caps::CHMOD),
                    "rm" => out.extend(caps::WRITE),
                    c if NO_CAPS.contains(&c) => {}
                    other => return Step::Unknown(format!("`find -exec {other}`")),
                }
                out.extend(caps::WALK);
                changes = true;
                // Skip to the end of the -exec (`;` or `+`).
                while i < args.len() && args[i] != ";" && args[i] != "+" {
                    i += 1;
                }
            }
            "-delete" | "-fprint" | "-fprintf" | "-fls" => {
                out.extend(caps::WRITE);
                out.extend(caps::WALK);
                changes = true;
            }
            _ => {}
        }
        i += 1;
    }
    if !changes {
        out.extend(caps::READ_WALK);
    }
    Step::Caps(out)
}

/// `1000`, `1000:1000` → the ids; a name or a variable → None.
fn numeric_user(spec: &str) -> Option<UserId> {
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let uid: u32 = u.parse().ok()?;
    let gid: u32 = match g {
        Some(g) => g.parse().ok()?,
        None => uid,
    };
    Some(UserId {
        name: None,
        uid,
        gid,
    })
}

/// The user-switching tools (see [`caps`]).
fn switch(name: &str, args: &[String]) -> Option<Step> {
    let plain = |method: &'static str, to: Option<UserId>| {
        Step::Switch(
            Switch {
                method,
                to,
                supervisor: false,
            },
            Vec::new(),
        )
    };
    let supervisor = |method: &'static str| {
        Step::Switch(
            Switch {
                method,
                to: None,
                supervisor: true,
            },
            Vec::new(),
        )
    };
    let flag_value = |names: &[&str]| -> Option<String> {
        args.iter().enumerate().find_map(|(i, a)| {
            names.iter().find_map(|n| {
                if a == n {
                    args.get(i + 1).cloned()
                } else {
                    a.strip_prefix(&format!("{n}=")).map(str::to_owned)
                }
            })
        })
    };
    match name {
        "gosu" | "su-exec" => {
            let method = if name == "gosu" { "gosu" } else { "su-exec" };
            let spec = args.iter().find(|a| !a.starts_with('-'))?;
            Some(plain(method, numeric_user(spec)))
        }
        "setpriv" => {
            let uid = flag_value(&["--reuid", "--ruid", "--euid"]);
            let gid = flag_value(&["--regid", "--rgid", "--egid"]);
            if uid.is_none() && gid.is_none() {
                return Some(Step::Unknown("`setpriv` without --reuid/--regid".into()));
            }
            let to = match (
                uid.as_deref().map(str::parse::<u32>),
                gid.as_deref().map(str::parse::<u32>),
            ) {
                (Some(Ok(u)), Some(Ok(g))) => Some(UserId {
                    name: None,
                    uid: u,
                    gid: g,
                }),
                _ => None,
            };
            Some(plain("setpriv", to))
        }
        "chroot" => Some(match flag_value(&["--userspec"]) {
            Some(spec) => Step::Switch(
                Switch {
                    method: "chroot",
                    to: numeric_user(&spec),
                    supervisor: false,
                },
                caps::CHROOT.to_vec(),
            ),
            None => Step::Caps(caps::CHROOT.to_vec()),
        }),
        "start-stop-daemon" => Some(match flag_value(&["--chuid", "-c"]) {
            Some(spec) => plain("start-stop-daemon", numeric_user(&spec)),
            None => Step::Unknown(
                "`start-stop-daemon` without --chuid (the daemon runs as root)".into(),
            ),
        }),
        "su" => {
            // `su USER -c CMD`, `su -c CMD USER`, `su - USER -c CMD`: a switch when a command
            // is given; an interactive `su` is not a start.
            args.iter()
                .any(|a| a == "-c" || a == "--command" || a.starts_with("--command="))
                .then(|| plain("su", None))
        }
        "runuser" => Some(
            if flag_value(&["-u", "--user"]).is_some() || args.iter().any(|a| a == "-c") {
                plain(
                    "runuser",
                    flag_value(&["-u", "--user"]).and_then(|s| numeric_user(&s)),
                )
            } else {
                Step::Unknown("`runuser` without a user".into())
            },
        ),
        "supervisord" => Some(supervisor("supervisord")),
        n if n.starts_with("s6-overlay") || n == "s6-svscan" => Some(supervisor("s6-overlay")),
        _ => None,
    }
}

/// `name() {` or `function name {`: the function's name.
fn function_name(text: &str, c: &SimpleCommand) -> Option<String> {
    let w = &c.words;
    if w[0].raw == "function" {
        return w.get(1).map(|n| n.value.trim_end_matches("()").to_owned());
    }
    if w.len() == 1 && is_name(&w[0].value) {
        let rest = text[c.end..].trim_start_matches([' ', '\t']);
        if rest.starts_with("()") || rest.starts_with("( )") {
            return Some(w[0].value.clone());
        }
    }
    None
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':')
}

/// Whether the command is directly followed by `)` (a `case` pattern).
fn followed_by_paren(text: &str, c: &SimpleCommand) -> bool {
    text[c.end..]
        .trim_start_matches([' ', '\t'])
        .starts_with(')')
}

/// Whether the command redirects output into a file (not `/dev/…`, not another descriptor).
fn writes_to_a_file(text: &str, c: &SimpleCommand, tokens: &[shell_lex::Token]) -> bool {
    let start = c.words[0].start;
    let mut iter = tokens
        .iter()
        .filter(|t| t.start >= start && t.end <= c.end)
        .peekable();
    while let Some(t) = iter.next() {
        if t.kind != shell_lex::TokenKind::Op {
            continue;
        }
        let op = &text[t.start..t.end];
        if !matches!(op, ">" | ">>" | ">|" | "&>" | "&>>" | "<>") {
            continue;
        }
        let Some(target) = iter.peek().filter(|n| n.kind == shell_lex::TokenKind::Word) else {
            continue;
        };
        let target = shell_lex::unquote(&text[target.start..target.end]);
        if !target.starts_with("/dev/")
            && !target.starts_with('&')
            && target.parse::<u32>().is_err()
        {
            return true;
        }
    }
    false
}

/// The texts of the command substitutions in a word as written (`$(…)`, `` `…` ``).
fn substitutions(raw: &str) -> Vec<&str> {
    let b = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_single = false;
    while i < b.len() {
        match b[i] {
            b'\'' if !in_single => {
                // Single quotes outside double quotes hide everything; the lexer's raw word keeps
                // them, so skip to the closing one.
                in_single = true;
                i += 1;
            }
            b'\'' => {
                in_single = false;
                i += 1;
            }
            _ if in_single => i += 1,
            b'\\' => i += 2,
            b'$' if b.get(i + 1) == Some(&b'(') && b.get(i + 2) != Some(&b'(') => {
                let start = i + 2;
                let mut depth = 1;
                let mut j = start;
                while j < b.len() && depth > 0 {
                    match b[j] {
                        b'(' => depth += 1,
                        b')' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                if depth == 0 {
                    out.push(&raw[start..j - 1]);
                }
                i = j;
            }
            b'`' => {
                let start = i + 1;
                match raw[start..].find('`') {
                    Some(end) => {
                        out.push(&raw[start..start + end]);
                        i = start + end + 1;
                    }
                    None => i = b.len(),
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// The facts a scan proves for an image whose configured user is root (`history_clean`: the
/// image's build history is present and sets no file capabilities or setuid bits, which a
/// process that has switched users would still need in the bounding set).
///
/// - `switch-user`: the first switch of the script.
/// - `runs-as`: that switch's user when the script writes it as numbers.
/// - `cap-add`: when the script switches users itself (not through a supervisor), every command
///   in it is known and `history_clean`: the capabilities of its steps (see [`caps`]). After the
///   switch the process runs as another user, so what the program needs is not a capability.
#[must_use]
pub fn facts(scan: &Scan, history_clean: bool) -> Facts {
    let mut f = Facts::default();
    let Some(first) = scan.switches.first() else {
        return f;
    };
    f.switch_user = Some(first.method.to_owned());
    if let Some(to) = &first.to {
        if scan.switches.iter().all(|s| s.to.as_ref() == Some(to)) && to.uid != 0 {
            f.runs_as = Some(to.clone());
        }
    }
    if scan.unknown.is_empty() && history_clean && scan.switches.iter().all(|s| !s.supervisor) {
        f.cap_add = Some(scan.caps.iter().map(|c| (*c).to_owned()).collect());
    }
    f
}

/// Why `cap-add` stays unknown after a scan (for messages), or None when it is known.
#[must_use]
pub fn why_unknown(scan: &Scan, history_clean: bool) -> Option<String> {
    if scan.switches.is_empty() {
        return Some("the entrypoint script does not switch users".into());
    }
    if let Some(s) = scan.switches.iter().find(|s| s.supervisor) {
        return Some(format!(
            "it starts {}, whose programs are configured elsewhere",
            s.method
        ));
    }
    if !scan.unknown.is_empty() {
        return Some(format!(
            "what {} in the entrypoint script needs is not known",
            scan.unknown.join(", ")
        ));
    }
    if !history_clean {
        return Some(
            "the image's build history is missing or sets file capabilities or setuid bits".into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps_of(text: &str) -> Option<Vec<String>> {
        facts(&scan(text), true).cap_add
    }

    #[test]
    fn gosu_with_chown() {
        let s = "#!/bin/sh\nset -e\nif [ \"$(id -u)\" = '0' ]; then\n\tchown app:app /data\n\texec gosu app \"$@\"\nfi\nexec \"$@\"\n";
        let f = facts(&scan(s), true);
        assert_eq!(f.switch_user.as_deref(), Some("gosu"));
        assert_eq!(f.cap_add.unwrap(), ["CHOWN", "SETGID", "SETUID"]);
        assert_eq!(f.runs_as, None);
        // The build history decides too.
        assert_eq!(facts(&scan(s), false).cap_add, None);
        assert_eq!(facts(&scan(s), false).switch_user.as_deref(), Some("gosu"));
    }

    #[test]
    fn the_official_step_down_pattern() {
        // redis' docker-entrypoint.sh (debian), lines 10-14.
        let s = r#"#!/bin/sh
set -e
# allow the container to be started with `--user`
if [ "$1" = 'redis-server' -a "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi
umask 0077
exec "$@"
"#;
        // The knowledge base's redis entry: CHOWN, DAC_OVERRIDE, SETGID, SETUID.
        assert_eq!(
            caps_of(s).unwrap(),
            ["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"]
        );
    }

    #[test]
    fn other_switches() {
        let f = facts(&scan("#!/bin/sh\nexec su-exec 1000:1001 /app/run\n"), true);
        assert_eq!(f.switch_user.as_deref(), Some("su-exec"));
        assert_eq!(
            f.runs_as,
            Some(UserId {
                name: None,
                uid: 1000,
                gid: 1001
            })
        );
        assert_eq!(f.cap_add.unwrap(), ["SETGID", "SETUID"]);
        let f = facts(
            &scan("#!/bin/sh\nexec setpriv --reuid=999 --regid=999 --clear-groups \"$@\"\n"),
            true,
        );
        assert_eq!(f.switch_user.as_deref(), Some("setpriv"));
        assert_eq!(f.runs_as.unwrap().uid, 999);
        let f = facts(
            &scan("#!/bin/sh\nexec chroot --userspec=app:app / /app/run\n"),
            true,
        );
        assert_eq!(f.cap_add.unwrap(), ["SETGID", "SETUID", "SYS_CHROOT"]);
        let f = facts(
            &scan("#!/bin/sh\nexec start-stop-daemon --start --chuid app --exec /app/run\n"),
            true,
        );
        assert_eq!(f.switch_user.as_deref(), Some("start-stop-daemon"));
        let f = facts(&scan("#!/bin/bash\nsu app -c '/app/run'\n"), true);
        assert_eq!(f.switch_user.as_deref(), Some("su"));
        let f = facts(
            &scan("#!/bin/bash\nexec runuser -u app -- /app/run\n"),
            true,
        );
        assert_eq!(f.switch_user.as_deref(), Some("runuser"));
        // A tool held in a variable, then used (hedgedoc's `GOSU="gosu hedgedoc"`).
        let f = facts(
            &scan("#!/bin/sh\n[ \"$UID\" -eq 0 ] && GOSU=\"gosu hedgedoc\" || GOSU=\"\"\nexec $GOSU \"$@\"\n"),
            true,
        );
        assert_eq!(f.switch_user.as_deref(), Some("gosu"));
    }

    #[test]
    fn shells_only() {
        assert!(is_shell_script("#!/bin/sh\n"));
        assert!(is_shell_script("#!/bin/sh -e\n"));
        assert!(is_shell_script("#!/usr/bin/env bash\n"));
        assert!(is_shell_script("#!/usr/bin/env -S bash -e\n"));
        assert!(is_shell_script("#!/bin/busybox sh\n"));
        assert!(!is_shell_script(
            "#!/usr/bin/env python3\nos.execv('/usr/sbin/gosu', args)\n"
        ));
        assert!(!is_shell_script("#!/command/execlineb -P\n"));
        assert!(!is_shell_script("exec gosu app\n"));
    }

    #[test]
    fn supervisors_switch_but_their_needs_are_elsewhere() {
        let f = facts(
            &scan("#!/bin/sh\nexec /usr/bin/supervisord -c /etc/supervisord.conf\n"),
            true,
        );
        assert_eq!(f.switch_user.as_deref(), Some("supervisord"));
        assert_eq!(f.cap_add, None);
        let f = facts(
            &scan("#!/bin/sh -e\nexec /package/admin/s6-overlay/command/s6-overlay-suexec -- \"$@\"\n"),
            true,
        );
        assert_eq!(f.switch_user.as_deref(), Some("s6-overlay"));
        assert_eq!(f.cap_add, None);
    }

    #[test]
    fn unknown_commands_leave_the_capabilities_unknown() {
        for s in [
            "#!/bin/sh\nsetcap cap_net_bind_service=+ep /app/run\nexec gosu app /app/run\n",
            "#!/bin/sh\n. /usr/local/lib/functions.sh\nexec gosu app /app/run\n",
            "#!/bin/sh\n/app/migrate\nexec gosu app /app/run\n",
            "#!/bin/sh\neval \"$SETUP\"\nexec gosu app /app/run\n",
            "#!/bin/sh\n$SETUP\nexec gosu app /app/run\n",
            "#!/bin/sh\nsudo -u app /app/run\n",
        ] {
            let sc = scan(s);
            assert_eq!(facts(&sc, true).cap_add, None, "{s}");
            assert!(why_unknown(&sc, true).is_some(), "{s}");
        }
        // No switch: what the program needs as root is not in the script.
        let f = facts(&scan("#!/bin/sh\nset -e\nexec /app/run \"$@\"\n"), true);
        assert_eq!(f, Facts::default());
    }

    #[test]
    fn writes_walks_and_functions() {
        // A redirection into a file and a recursive chmod.
        assert_eq!(
            caps_of("#!/bin/sh\necho x >> /etc/app.conf\nchmod -R g+w /data\nexec gosu app run\n")
                .unwrap(),
            ["DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
        );
        // Output to /dev and descriptors is no write.
        assert_eq!(
            caps_of("#!/bin/sh\necho x > /dev/stderr 2>&1\nexec gosu app run\n").unwrap(),
            ["SETGID", "SETUID"]
        );
        // Functions, case patterns and `command -v` are not commands of their own.
        let s = r#"#!/bin/bash
set -eo pipefail
file_env() {
	local var="$1"
	export "$var"
}
case "$1" in
	-*) set -- app "$@" ;;
	app) ;;
esac
if command -v gosu > /dev/null; then
	file_env 'APP_PASSWORD'
	exec gosu 1000 "$@"
fi
"#;
        let sc = scan(s);
        assert!(sc.unknown.is_empty(), "{:?}", sc.unknown);
        let f = facts(&sc, true);
        assert_eq!(f.cap_add.unwrap(), ["SETGID", "SETUID"]);
        assert_eq!(f.runs_as.unwrap().uid, 1000);
        // sed edits in place only with -i; cp keeps owners with -a/-p.
        assert_eq!(
            caps_of("#!/bin/sh\nsed -n 's/a/b/p' /etc/x\nexec gosu app run\n").unwrap(),
            ["SETGID", "SETUID"]
        );
        assert_eq!(
            caps_of("#!/bin/sh\nsed -i.bak 's/a/b/' /etc/x\nexec gosu app run\n").unwrap(),
            ["DAC_OVERRIDE", "SETGID", "SETUID"]
        );
        assert_eq!(
            caps_of("#!/bin/sh\ncp -a /defaults/. /data/\nexec gosu app run\n").unwrap(),
            ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
        );
        // `set -- gosu …` then `exec "$@"` (consul's entrypoint).
        let f = facts(
            &scan("#!/bin/sh\nset -- su-exec 100:1000 \"$@\"\nexec \"$@\"\n"),
            true,
        );
        assert_eq!(f.switch_user.as_deref(), Some("su-exec"));
        assert_eq!(f.cap_add.unwrap(), ["SETGID", "SETUID"]);
        // Substitutions run too.
        let sc = scan("#!/bin/sh\nX=\"$(/app/setup)\"\nexec gosu app run\n");
        assert_eq!(sc.unknown, ["`setup`"]);
    }
}
