//! systemd units and drop-ins: `[Section]` headers, `Key=Value` lines (a line ending in `\` is
//! continued, the backslash read as a blank), `#` / `;` comments. The `Exec*=` values are command
//! lines: not a shell, but quoted and split like one, `$VAR` / `${VAR}` from `Environment=`,
//! `%i` specifiers, and the prefixes `-`, `@`, `:`, `+`, `!`, `!!` before the program.

use std::collections::BTreeMap;

use crate::text::TextRange;

use super::fragment::{Dialect, Fragment};
use super::makefile::logical_lines;

/// The parts of a unit that matter here.
pub struct Unit {
    /// One per `Exec*=` command line.
    pub fragments: Vec<Fragment>,
    /// The other settings as `[Section] Key=Value` lines (comments and blank lines left out), with
    /// a marker where each command line is: what must not change.
    pub skeleton: Vec<String>,
    /// Every setting: (section, key, value range).
    pub entries: Vec<(String, String, TextRange)>,
}

const EXEC_KEYS: &[&str] = &[
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecCondition",
    "ExecReload",
    "ExecStop",
    "ExecStopPost",
];

/// Read a unit file.
#[must_use]
pub fn parse(text: &str) -> Unit {
    let mut fragments = Vec::new();
    let mut skeleton = Vec::new();
    let mut entries = Vec::new();
    let mut section = String::new();
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut execs: Vec<(TextRange, Option<String>, String)> = Vec::new();
    for (start, end, _) in logical_lines(text) {
        let line = &text[start..end];
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') {
            section = trimmed.trim_end().to_owned();
            skeleton.push(section.clone());
            continue;
        }
        let Some(eq) = line.find('=') else {
            skeleton.push(line.to_owned());
            continue;
        };
        let key = line[..eq].trim().to_owned();
        let vstart = start + eq + 1;
        let value = TextRange::new(vstart, end.max(vstart));
        entries.push((section.clone(), key.clone(), value));
        if key == "Environment" {
            let v = value.slice(text).replace("\\\n", " ");
            let lexed = crate::dockerfile::shell_lex::lex(&v);
            for t in &lexed.tokens {
                let w = crate::dockerfile::shell_lex::unquote(&v[t.start..t.end]);
                if let Some((k, val)) = w.split_once('=') {
                    env.insert(k.to_owned(), val.to_owned());
                }
            }
        }
        if EXEC_KEYS.contains(&key.as_str()) {
            let raw = value.slice(text);
            let lead = raw.len() - raw.trim_start().len();
            let body = &raw[lead..];
            let prefix = body.len() - body.trim_start_matches(['-', '@', ':', '+', '!']).len();
            let range = TextRange::new(vstart + lead + prefix, value.end);
            // systemd joins a continued line with a blank; the shell lexer joins it with nothing.
            let mut uncertain = None;
            let src = range.slice(text);
            let mut pos = 0;
            while let Some(p) = src[pos..].find("\\\n") {
                let after = &src[pos + p + 2..];
                let next = after.split('\n').next().unwrap_or("");
                if !after.starts_with([' ', '\t']) {
                    uncertain = Some(
                        "a continued line that does not start with a blank (systemd joins it with one)"
                            .to_owned(),
                    );
                }
                if next.trim_start().starts_with(['#', ';']) {
                    uncertain = Some("a comment inside the continued command line".to_owned());
                }
                pos += p + 2;
            }
            execs.push((range, uncertain, format!("`{key}=`")));
            skeleton.push(format!("{section} {key}=\u{1}exec"));
            continue;
        }
        skeleton.push(format!("{section} {key}={}", value.slice(text).trim()));
    }
    for (range, uncertain, place) in execs {
        let mut f = Fragment::identity(text, range, Dialect::Systemd);
        f.vars.clone_from(&env);
        f.uncertain = uncertain;
        f.place = place;
        fragments.push(f);
    }
    Unit {
        fragments,
        skeleton,
        entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_lines() {
        let text = "[Unit]\nDescription=x\n\n[Service]\nEnvironment=\"IMG=nginx:1\"\nExecStartPre=-/usr/bin/docker rm -f web\nExecStart=/usr/bin/docker run --name web \\\n  $IMG\n";
        let u = parse(text);
        let srcs: Vec<&str> = u.fragments.iter().map(|f| f.src.as_str()).collect();
        assert_eq!(
            srcs,
            vec![
                "/usr/bin/docker rm -f web",
                "/usr/bin/docker run --name web \\\n  $IMG"
            ]
        );
        assert_eq!(u.fragments[1].vars["IMG"], "nginx:1");
        assert!(u.fragments[1].uncertain.is_none());
        assert_eq!(u.skeleton.len(), 6);
    }
}
